//! Where the time of one training step goes: the small CNN (channels [32, 64], hidden 128) on
//! Fashion-MNIST-sized input (1×28×28, batch 128, 10 classes), SGD lr 0.05 momentum 0.9 wd 5e-4, doing
//! per step exactly what `mixlab_burn::trainer` does, each phase timed on its own:
//!
//! * `batch`   — gather the shuffled samples into one host buffer and upload it as a tensor,
//! * `plan`    — `MixerConfig::sample` on the step's `Mix` stream,
//! * `apply`   — `apply::apply_flat` on the (autodiff) device (skipped for an identity plan, as the
//!   trainer does),
//! * `targets` — label gather, `MixPlan::soft_targets`, upload,
//! * `train`   — forward, soft cross-entropy, backward, optimiser step, loss read-back,
//! * `metrics` — the trainer's per-step accuracy: arg-max read-back and majority-label hits.
//!
//! mixlab's own share of a step is (batch + plan + apply + targets + metrics) / train, each the
//! median over the timed steps. The input pool is random data of Fashion-MNIST's shape (60 000 × 784
//! f32 by default), not the real images: mixlab-burn does not depend on mixlab-data, and no phase's
//! cost depends on pixel values. Phases are exact on the eager CPU backend (flex); on a GPU they are
//! not synchronised, so there only the total is meaningful.
//!
//! Usage: step_bench [--steps N] [--warmup N] [--methods none,mixup,cutmix,fmix] [--batch 128]
//!        [--pool 60000] [--mixup-alpha 0.2] [--cutmix-alpha 1.0] [--lr 0.05] [--seed 0]
//!        [--device cpu|cuda|vulkan] [--json]
//! `--json` adds one JSON object per method (medians in ms) after the table.

use mixlab_burn::DeviceKind;
use mixlab_burn::apply::apply_flat;
use mixlab_burn::burn::optim::GradientsParams;
use mixlab_burn::burn::prelude::*;
use mixlab_burn::loss::soft_cross_entropy;
use mixlab_burn::models::{CnnConfig, ModelConfig};
use mixlab_burn::optim::OptimizerConfig;
use mixlab_core::methods::{CutmixConfig, FmixConfig, MethodConfig, MixupConfig};
use mixlab_core::mixer::{BatchInfo, MixerConfig};
use mixlab_core::plan::{MixPlan, SampleWeight};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::RngExt;
use rand::seq::SliceRandom;
use std::error::Error;
use std::time::Instant;

const CLASSES: usize = 10;
const PHASES: [&str; 6] = ["batch", "plan", "apply", "targets", "train", "metrics"];

struct Args {
    steps: usize,
    warmup: usize,
    methods: Vec<String>,
    batch: usize,
    pool: usize,
    mixup_alpha: f64,
    cutmix_alpha: f64,
    lr: f64,
    seed: u64,
    device: DeviceKind,
    json: bool,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut a = Args {
        steps: 30,
        warmup: 5,
        methods: ["none", "mixup", "cutmix", "fmix"]
            .map(String::from)
            .to_vec(),
        batch: 128,
        pool: 60_000,
        mixup_alpha: 0.2,
        cutmix_alpha: 1.0,
        lr: 0.05,
        seed: 0,
        device: DeviceKind::Cpu,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            a.json = true;
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {v}: {e}");
        match flag.as_str() {
            "--steps" => a.steps = v.parse().map_err(|e| bad(&e))?,
            "--warmup" => a.warmup = v.parse().map_err(|e| bad(&e))?,
            "--methods" => a.methods = v.split(',').map(str::to_owned).collect(),
            "--batch" => a.batch = v.parse().map_err(|e| bad(&e))?,
            "--pool" => a.pool = v.parse().map_err(|e| bad(&e))?,
            "--mixup-alpha" => a.mixup_alpha = v.parse().map_err(|e| bad(&e))?,
            "--cutmix-alpha" => a.cutmix_alpha = v.parse().map_err(|e| bad(&e))?,
            "--lr" => a.lr = v.parse().map_err(|e| bad(&e))?,
            "--seed" => a.seed = v.parse().map_err(|e| bad(&e))?,
            "--device" => {
                a.device = match v.as_str() {
                    "cpu" => DeviceKind::Cpu,
                    "cuda" => DeviceKind::Cuda,
                    "vulkan" => DeviceKind::Vulkan,
                    _ => return Err(bad(&"expected cpu, cuda or vulkan").into()),
                }
            }
            _ => return Err(format!("unknown option {flag} (see the file's header)").into()),
        }
    }
    if a.steps == 0 || a.batch == 0 || a.pool < a.batch {
        return Err(format!(
            "need --steps >= 1 and --pool >= --batch >= 1, got steps {}, batch {}, pool {}",
            a.steps, a.batch, a.pool
        )
        .into());
    }
    Ok(a)
}

fn mixer_for(name: &str, a: &Args) -> Result<MixerConfig, Box<dyn Error>> {
    Ok(match name {
        "none" => MixerConfig::default(),
        "mixup" => MixerConfig::single(MethodConfig::Mixup(
            MixupConfig::default().with_alpha(a.mixup_alpha),
        )),
        "cutmix" => MixerConfig::single(MethodConfig::Cutmix(CutmixConfig {
            alpha: a.cutmix_alpha,
            ..CutmixConfig::default()
        })),
        "fmix" => MixerConfig::single(MethodConfig::Fmix(FmixConfig::default())),
        _ => return Err(format!("unknown method {name} (none, mixup, cutmix, fmix)").into()),
    })
}

/// Arg-max hits against the label with the larger weight in each mixed sample (the trainer's metric).
fn majority_hits(plan: &MixPlan, y: &[usize], pred: &[i64]) -> usize {
    (0..y.len())
        .filter(|&i| {
            let t = if plan.lam_label[i] >= 0.5 {
                y[i]
            } else {
                y[plan.partner[i]]
            };
            pred[i] == t as i64
        })
        .count()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per-phase medians (ms, in `PHASES` order), median whole step, and the final training loss.
fn bench(
    name: &str,
    a: &Args,
    x: &[f32],
    y: &[usize],
) -> Result<([f64; 6], f64, f64), Box<dyn Error>> {
    let mixer = mixer_for(name, a)?;
    let shape = SampleShape::d2(1, 28, 28)?;
    mixer.validate(&shape)?;
    let dev = a.device.device()?.autodiff();
    let len = shape.sample_len();
    let b = a.batch;
    let mut model = ModelConfig::Cnn(CnnConfig::default()).init(&shape, CLASSES, a.seed, &dev)?;
    let mut optim = OptimizerConfig::default().build(5e-4);
    let steps_per_epoch = a.pool / b;
    let mut order: Vec<usize> = (0..a.pool).collect();
    let mut phases: [Vec<f64>; 6] = Default::default();
    let mut totals = Vec::new();
    let mut last_loss = f64::NAN;
    let mut hits = 0usize;
    for s in 0..a.warmup + a.steps {
        let (epoch, step) = ((s / steps_per_epoch) as u64, s % steps_per_epoch);
        if step == 0 {
            order.shuffle(&mut stream(a.seed, Purpose::Shuffle, epoch, 0));
        }
        let mut t = [0f64; 6];
        let mut lap = Instant::now();
        let mut mark = |k: usize, lap: &mut Instant| {
            t[k] += lap.elapsed().as_secs_f64() * 1e3;
            *lap = Instant::now();
        };
        let t0 = lap;

        let idx = &order[step * b..(step + 1) * b];
        let mut xb = Vec::with_capacity(b * len);
        for &i in idx {
            xb.extend_from_slice(&x[i * len..(i + 1) * len]);
        }
        let info = BatchInfo {
            batch: b,
            shape,
            epoch,
            data: Some(&xb),
        };
        mark(0, &mut lap);
        let plan = mixer.sample(&info, &mut stream(a.seed, Purpose::Mix, epoch, step as u64))?;
        mark(1, &mut lap);
        let xt = Tensor::<3>::from_data(
            TensorData::new(xb, [b, shape.channels, shape.spatial_len()]),
            &dev,
        );
        mark(0, &mut lap);
        let identity = plan.weights.iter().all(|w| matches!(w, SampleWeight::Keep));
        let xm = if identity { xt } else { apply_flat(&plan, xt)? };
        mark(2, &mut lap);
        let yb: Vec<usize> = idx.iter().map(|&i| y[i]).collect();
        let tg = plan.soft_targets(&yb, CLASSES, mixer.label_smoothing)?;
        let tg = Tensor::<2>::from_data(TensorData::new(tg, [b, CLASSES]), &dev);
        mark(3, &mut lap);
        let out = model.forward(xm)?;
        mark(4, &mut lap);
        let pred: Vec<i64> = out
            .clone()
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>()
            .map_err(|e| format!("{e:?}"))?;
        hits += majority_hits(&plan, &yb, &pred);
        mark(5, &mut lap);
        let loss = soft_cross_entropy(out, tg);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let loss_v: f32 = loss.into_scalar();
        if !loss_v.is_finite() {
            return Err(format!("{name}: loss is {loss_v} at step {s}").into());
        }
        model = optim.step(a.lr, model, grads);
        last_loss = f64::from(loss_v);
        mark(4, &mut lap);
        if s >= a.warmup {
            for (k, v) in t.iter().enumerate() {
                phases[k].push(*v);
            }
            totals.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    // Keeps the metric from being optimised away and shows the run is a real one.
    let acc = hits as f64 / ((a.warmup + a.steps) * b) as f64;
    eprintln!("{name}: final loss {last_loss:.3}, running accuracy {acc:.3}");
    let mut med = [0f64; 6];
    for (m, v) in med.iter_mut().zip(phases.iter_mut()) {
        *m = median(v);
    }
    Ok((med, median(&mut totals), last_loss))
}

fn main() -> Result<(), Box<dyn Error>> {
    let a = parse_args()?;
    for m in &a.methods {
        mixer_for(m, &a)?;
    }
    let mut rng = stream(a.seed, Purpose::Split, 0, 0);
    let x: Vec<f32> = (0..a.pool * 784)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let y: Vec<usize> = (0..a.pool).map(|_| rng.random_range(0..CLASSES)).collect();
    println!(
        "small CNN [32,64]/128, batch {}, 1x28x28, random pool of {}, {:?}; median ms over {} steps \
         after {} warm-up",
        a.batch, a.pool, a.device, a.steps, a.warmup
    );
    println!(
        "{:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "method", "batch", "plan", "apply", "targets", "metrics", "train", "step", "overhead"
    );
    let mut lines = Vec::new();
    for m in &a.methods {
        let (med, step, loss) = bench(m, &a, &x, &y)?;
        let own = med[0] + med[1] + med[2] + med[3] + med[5];
        let share = own / med[4];
        println!(
            "{:<8} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.1} {:>9.1} {:>8.2}%",
            m,
            med[0],
            med[1],
            med[2],
            med[3],
            med[5],
            med[4],
            step,
            share * 100.0
        );
        let mut obj = serde_json::Map::new();
        obj.insert("method".into(), m.as_str().into());
        for (k, p) in PHASES.iter().enumerate() {
            obj.insert(format!("{p}_ms"), med[k].into());
        }
        obj.insert("step_ms".into(), step.into());
        obj.insert("own_ms".into(), own.into());
        obj.insert("overhead_share".into(), share.into());
        obj.insert("final_loss".into(), loss.into());
        obj.insert("steps".into(), a.steps.into());
        obj.insert("batch".into(), a.batch.into());
        lines.push(serde_json::Value::Object(obj).to_string());
    }
    println!("overhead = (batch + plan + apply + targets + metrics) / train");
    if a.json {
        for l in lines {
            println!("{l}");
        }
    }
    Ok(())
}
