//! Times training steps of the small CNN on Fashion-MNIST-sized input (batch 128, 1×28×28): plain, and
//! with a MixUp and a CutMix plan applied on the device. Prints median milliseconds per step.
//! Usage: cargo run -p mixlab-burn --release --example step_bench [steps] [cuda]

use mixlab_burn::DeviceKind;
use mixlab_burn::apply::apply_flat;
use mixlab_burn::burn::optim::GradientsParams;
use mixlab_burn::burn::prelude::*;
use mixlab_burn::loss::soft_cross_entropy;
use mixlab_burn::models::{CnnConfig, ModelConfig};
use mixlab_burn::optim::OptimizerConfig;
use mixlab_core::methods::{CutmixConfig, MethodConfig, MixupConfig};
use mixlab_core::mixer::{BatchInfo, MixerConfig};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::Rng;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let steps: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let kind = if args.iter().any(|a| a == "cuda") {
        DeviceKind::Cuda
    } else {
        DeviceKind::Cpu
    };
    let dev = kind.device()?.autodiff();
    let shape = SampleShape::d2(1, 28, 28)?;
    let (b, k) = (128usize, 10usize);
    let mut rng = stream(0, Purpose::Split, 0, 0);
    let x: Vec<f32> = (0..b * 784)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let y: Vec<usize> = (0..b).map(|_| rng.random_range(0..k)).collect();
    for (name, mixer) in [
        ("plain", MixerConfig::default()),
        (
            "mixup",
            MixerConfig::single(MethodConfig::Mixup(MixupConfig::default())),
        ),
        (
            "cutmix",
            MixerConfig::single(MethodConfig::Cutmix(CutmixConfig::default())),
        ),
    ] {
        let mut model = ModelConfig::Cnn(CnnConfig::default()).init(&shape, k, 0, &dev)?;
        let mut optim = OptimizerConfig::default().build(5e-4);
        let mut times = Vec::new();
        for step in 0..steps + 3 {
            let t0 = Instant::now();
            let info = BatchInfo {
                batch: b,
                shape,
                epoch: 0,
                data: None,
            };
            let plan = mixer.sample(&info, &mut stream(0, Purpose::Mix, 0, step as u64))?;
            let t = plan.soft_targets(&y, k, 0.0)?;
            let xt = Tensor::<3>::from_data(TensorData::new(x.clone(), [b, 1, 784]), &dev);
            let xm = apply_flat(&plan, xt)?;
            let tt = Tensor::<2>::from_data(TensorData::new(t, [b, k]), &dev);
            let loss = soft_cross_entropy(model.forward(xm)?, tt);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(0.05, model, grads);
            let _l: f32 = loss.into_scalar();
            if step >= 3 {
                times.push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "small CNN train step, batch 128, 1x28x28, {name}: median {:.1} ms (n={steps})",
            times[times.len() / 2]
        );
    }
    Ok(())
}
