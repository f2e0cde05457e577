//! Host-side mixing benchmark: times plan sampling, `apply` and the label side for every input-level
//! method, on f32 and u8 batches, at 1 and 2 rayon threads, next to a plain streaming blend over the
//! same bytes. Prints one JSON line per case; `bench/host_mixing.py` runs it beside the Python peers.
//!
//! ```text
//! cargo build --release --example host_mix_bench -p mixlab-core
//! target/release/examples/host_mix_bench [--threads 1,2] [--shapes 128x3x32x32,64x3x224x224]
//!     [--dtypes f32,u8] [--cases mixup-batch,cutmix-elem,...] [--budget-ms 400]
//! ```
//!
//! Each timing is the median (and minimum) of many repetitions after a warm-up; the repetition count
//! is sized so one measurement takes about `--budget-ms`. Apply is timed over a ring of pre-sampled
//! plans (different λ and boxes) so a single lucky draw cannot decide the figure.

use mixlab_core::apply::{Elem, apply, plain_blend};
use mixlab_core::methods::{CutmixConfig, Method, MethodConfig, MixupConfig};
use mixlab_core::mixer::{BatchInfo, Granularity, MixerConfig, Pairing};
use mixlab_core::plan::MixPlan;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::RngExt;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::error::Error;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// Distinct pre-sampled plans cycled through while timing apply.
const PLAN_RING: usize = 16;
/// Rows per parallel chunk of the plain pass (matches apply's per-sample split in size).
const PLAIN_CHUNK: usize = 1 << 14;

struct Opts {
    threads: Vec<usize>,
    shapes: Vec<(usize, SampleShape)>,
    dtypes: Vec<String>,
    cases: Option<Vec<String>>,
    budget_ms: f64,
}

fn parse_args() -> BoxResult<Opts> {
    let mut o = Opts {
        threads: vec![1, 2],
        shapes: vec![],
        dtypes: vec!["f32".into(), "u8".into()],
        cases: None,
        budget_ms: 400.0,
    };
    let mut shapes = "128x3x32x32,64x3x224x224".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--threads" => {
                o.threads = value()?
                    .split(',')
                    .map(|t| t.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--threads: {e}"))?;
                if o.threads.contains(&0) {
                    return Err("--threads: every count must be >= 1".into());
                }
            }
            "--shapes" => shapes = value()?,
            "--dtypes" => o.dtypes = value()?.split(',').map(str::to_string).collect(),
            "--cases" => o.cases = Some(value()?.split(',').map(str::to_string).collect()),
            "--budget-ms" => {
                o.budget_ms = value()?.parse().map_err(|e| format!("--budget-ms: {e}"))?;
                if !(o.budget_ms.is_finite() && o.budget_ms > 0.0) {
                    return Err("--budget-ms must be > 0".into());
                }
            }
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    for s in shapes.split(',') {
        // NxCxHxW: the first number is the batch, the rest the sample shape.
        let (b, rest) = s
            .split_once(['x', 'X'])
            .ok_or("shape must look like 128x3x32x32")?;
        let b: usize = b.parse().map_err(|e| format!("batch in {s}: {e}"))?;
        if b == 0 {
            return Err(format!("batch in {s} must be >= 1").into());
        }
        o.shapes.push((b, SampleShape::parse(rest)?));
    }
    for d in &o.dtypes {
        if d != "f32" && d != "u8" {
            return Err(format!("--dtypes: unknown dtype {d} (f32, u8)").into());
        }
    }
    Ok(o)
}

/// Timing summary in milliseconds.
struct Stats {
    median: f64,
    min: f64,
    reps: usize,
}

/// Warms up, sizes the repetition count to the budget, and returns median and minimum.
fn time<F: FnMut(usize)>(budget_ms: f64, mut f: F) -> Stats {
    let start = Instant::now();
    let mut warm = 0;
    while warm < 3 || (start.elapsed().as_secs_f64() < 0.05 && warm < 1000) {
        f(warm);
        warm += 1;
    }
    let one = start.elapsed().as_secs_f64() * 1e3 / warm as f64;
    let reps = ((budget_ms / one.max(1e-6)) as usize).clamp(7, 5000);
    let mut t: Vec<f64> = (0..reps)
        .map(|r| {
            let s = Instant::now();
            f(r);
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    Stats {
        median: t[reps / 2],
        min: t[0],
        reps,
    }
}

/// The benchmarked mixers: (case name, config). Pairing follows the peer each case is compared with.
fn cases() -> Vec<(String, MixerConfig)> {
    let mixup = || MethodConfig::Mixup(MixupConfig::default().with_alpha(1.0));
    let cutmix = || MethodConfig::Cutmix(CutmixConfig::default().with_alpha(1.0));
    let mut v = vec![];
    for (name, g) in [("batch", Granularity::Batch), ("elem", Granularity::Elem)] {
        // timm pairs sample i with B-1-i.
        for (m, cfg) in [("mixup", mixup()), ("cutmix", cutmix())] {
            v.push((
                format!("{m}-{name}"),
                MixerConfig::single(cfg)
                    .with_granularity(g)
                    .with_pairing(Pairing::Flip),
            ));
        }
    }
    // torchvision v2 pairs sample i with i-1 (roll by one), one draw per batch.
    for (m, cfg) in [("mixup", mixup()), ("cutmix", cutmix())] {
        v.push((
            format!("{m}-roll"),
            MixerConfig::single(cfg).with_pairing(Pairing::Roll),
        ));
    }
    for m in [
        Method::Fmix,
        Method::Resizemix,
        Method::Gridmix,
        Method::Smoothmix,
        Method::Maskmix,
        Method::Saliencymix,
    ] {
        v.push((
            m.name().to_string(),
            MixerConfig::single(m.default_config()).with_pairing(Pairing::Permute),
        ));
    }
    v
}

fn classes_for(shape: &SampleShape) -> usize {
    // CIFAR-100-like for small images, ImageNet-like for 224².
    if shape.dims[2] <= 64 { 100 } else { 1000 }
}

struct Batch {
    b: usize,
    shape: SampleShape,
    f32_data: Vec<f32>,
    u8_data: Vec<u8>,
    labels: Vec<usize>,
}

fn make_batch(b: usize, shape: SampleShape) -> Batch {
    let n = b * shape.sample_len();
    let mut rng = stream(7, Purpose::Augment, 0, 0);
    let u8_data: Vec<u8> = (0..n).map(|_| rng.random::<u8>()).collect();
    let f32_data = u8_data.iter().map(|&v| f32::from(v) / 255.0).collect();
    let classes = classes_for(&shape);
    let labels = (0..b).map(|_| rng.random_range(0..classes)).collect();
    Batch {
        b,
        shape,
        f32_data,
        u8_data,
        labels,
    }
}

fn shape_text(b: usize, s: &SampleShape) -> String {
    format!("{b}x{s}")
}

/// Times one mixer on one dtype: sampling, apply, sample+apply, soft targets, and all three together.
fn bench_case<T: Elem + Default>(
    name: &str,
    dtype: &str,
    mixer: &MixerConfig,
    batch: &Batch,
    input: &[T],
    threads: usize,
    budget: f64,
) -> Value {
    let info = BatchInfo {
        batch: batch.b,
        shape: batch.shape,
        epoch: 0,
        data: mixer
            .methods
            .iter()
            .any(|m| m.config.needs_data())
            .then_some(&batch.f32_data[..]),
    };
    let base = json!({
        "case": name, "dtype": dtype, "shape": shape_text(batch.b, &batch.shape), "threads": threads,
    });
    let sample = |step: usize| mixer.sample(&info, &mut stream(1, Purpose::Mix, 0, step as u64));
    let plans: Vec<MixPlan> = match (0..PLAN_RING).map(sample).collect() {
        Ok(p) => p,
        Err(e) => {
            let mut v = base;
            v["skipped"] = json!(e.to_string());
            return v;
        }
    };
    let classes = classes_for(&batch.shape);
    let mut out = vec![T::default(); input.len()];
    let mut err = None;
    let t_sample = time(budget, |r| {
        if let Err(e) = sample(r) {
            err = Some(e.to_string());
        }
    });
    let t_apply = time(budget, |r| {
        if let Err(e) = apply(&plans[r % PLAN_RING], input, &mut out) {
            err = Some(e.to_string());
        }
        black_box(&out);
    });
    let t_targets = time(budget, |r| {
        match plans[r % PLAN_RING].soft_targets(&batch.labels, classes, 0.0) {
            Ok(t) => {
                black_box(t);
            }
            Err(e) => err = Some(e.to_string()),
        }
    });
    let t_both = time(budget, |r| {
        let res = sample(r).and_then(|p| apply(&p, input, &mut out));
        if let Err(e) = res {
            err = Some(e.to_string());
        }
        black_box(&out);
    });
    let t_full = time(budget, |r| {
        let res = sample(r).and_then(|p| {
            apply(&p, input, &mut out)?;
            p.soft_targets(&batch.labels, classes, 0.0)
        });
        match res {
            Ok(t) => {
                black_box(t);
            }
            Err(e) => err = Some(e.to_string()),
        }
        black_box(&out);
    });
    let mut v = base;
    if let Some(e) = err {
        v["error"] = json!(e);
        return v;
    }
    v["sample_ms"] = json!(t_sample.median);
    v["apply_ms"] = json!(t_apply.median);
    v["apply_min_ms"] = json!(t_apply.min);
    v["apply_reps"] = json!(t_apply.reps);
    v["targets_ms"] = json!(t_targets.median);
    v["sample_apply_ms"] = json!(t_both.median);
    v["full_ms"] = json!(t_full.median);
    v["full_min_ms"] = json!(t_full.min);
    v
}

/// u8 counterpart of `plain_blend`: the same formula, rounded half to even and saturated, written the
/// branch-free way (clamp, then let adding 2^23 do the rounding) so it vectorises like apply's u8 path
/// — a `round_ties_even` call per element would make this baseline several times slower.
#[allow(
    clippy::manual_clamp,
    reason = "max maps NaN to 0, as apply's u8 conversion does"
)]
fn plain_blend_u8(a: &[u8], b: &[u8], lam: f32, out: &mut [u8]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let v = f32::from(x) * lam + f32::from(y) * (1.0 - lam);
        *o = (v.max(0.0).min(255.0) + 8_388_608.0).to_bits() as u8;
    }
}

/// The plain streaming pass over two whole batch buffers, split into chunks for the thread pool
/// (one thread: a single sequential call).
fn bench_plain<T: Copy + Send + Sync + Default>(
    dtype: &str,
    batch: &Batch,
    a: &[T],
    threads: usize,
    budget: f64,
    kernel: fn(&[T], &[T], f32, &mut [T]),
) -> Value {
    // A second buffer with different contents, so the pass really streams 2 inputs + 1 output.
    let b_buf: Vec<T> = a.iter().rev().copied().collect();
    let mut out = vec![T::default(); a.len()];
    let lam = 0.3f32;
    let t = time(budget, |_| {
        if threads == 1 {
            kernel(a, &b_buf, lam, &mut out);
        } else {
            out.par_chunks_mut(PLAIN_CHUNK)
                .zip(a.par_chunks(PLAIN_CHUNK))
                .zip(b_buf.par_chunks(PLAIN_CHUNK))
                .for_each(|((o, x), y)| kernel(x, y, lam, o));
        }
        black_box(&out);
    });
    json!({
        "case": "plain", "dtype": dtype, "shape": shape_text(batch.b, &batch.shape),
        "threads": threads, "apply_ms": t.median, "apply_min_ms": t.min, "apply_reps": t.reps,
    })
}

fn run() -> BoxResult<()> {
    let o = parse_args()?;
    let all = cases();
    let selected: Vec<_> = all
        .iter()
        .filter(|(n, _)| o.cases.as_ref().is_none_or(|c| c.iter().any(|x| x == n)))
        .collect();
    for &(b, shape) in &o.shapes {
        let batch = make_batch(b, shape);
        for &threads in &o.threads {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()?;
            pool.install(|| {
                for dtype in &o.dtypes {
                    let line = if dtype == "f32" {
                        bench_plain(
                            "f32",
                            &batch,
                            &batch.f32_data,
                            threads,
                            o.budget_ms,
                            plain_blend,
                        )
                    } else {
                        bench_plain(
                            "u8",
                            &batch,
                            &batch.u8_data,
                            threads,
                            o.budget_ms,
                            plain_blend_u8,
                        )
                    };
                    println!("{line}");
                    for (name, mixer) in &selected {
                        let line = if dtype == "f32" {
                            bench_case(
                                name,
                                dtype,
                                mixer,
                                &batch,
                                &batch.f32_data,
                                threads,
                                o.budget_ms,
                            )
                        } else {
                            bench_case(
                                name,
                                dtype,
                                mixer,
                                &batch,
                                &batch.u8_data,
                                threads,
                                o.budget_ms,
                            )
                        };
                        println!("{line}");
                    }
                }
            });
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("host_mix_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
