//! Does a GPU compute what the CPU computes? The device apply of every host method, the soft-target loss
//! and a forward pass of every model, each run on Burn's CPU backend (flex) and on the device with the same
//! inputs and the same parameters (drawn on the host from the `Init` stream), compared against a stated
//! tolerance. `mixlab device-check` prints the result; the device script under `bench/` runs it first.
//!
//! Tolerances: the apply is a weighted sum of two inputs per element, so it must agree to 1e-5 absolute on
//! inputs in [0, 1]; the loss and the forward passes sum in a different order on a GPU (and its matmuls may
//! use fused or reduced-precision paths), so they are compared relative to the largest CPU magnitude, 1e-5
//! for the loss and 2e-3 for whole networks.

use crate::apply::apply_plan;
use crate::device::DeviceKind;
use crate::loss::soft_cross_entropy;
use crate::models::ModelConfig;
use burn::prelude::*;
use mixlab_core::methods::Method;
use mixlab_core::mixer::{BatchInfo, MixerConfig};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::RngExt;
use serde::Serialize;

/// One comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was compared (`apply cutmix`, `loss`, `model resnet18`).
    pub what: String,
    /// Largest absolute difference between the two results.
    pub max_abs_diff: f64,
    /// Largest absolute CPU value (the scale a relative tolerance refers to).
    pub cpu_scale: f64,
    /// Allowed difference: absolute, or relative to `cpu_scale` (see `relative`).
    pub tolerance: f64,
    /// Whether `tolerance` is relative to `cpu_scale`.
    pub relative: bool,
    /// Within tolerance.
    pub pass: bool,
}

impl Check {
    fn new(what: String, cpu: &[f32], dev: &[f32], tolerance: f64, relative: bool) -> Self {
        let max_abs_diff = if cpu.len() == dev.len() {
            cpu.iter()
                .zip(dev)
                .map(|(a, b)| f64::from((a - b).abs()))
                .fold(
                    0.0,
                    |m, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
                )
        } else {
            f64::INFINITY
        };
        let cpu_scale = cpu.iter().map(|v| f64::from(v.abs())).fold(0.0, f64::max);
        let limit = if relative {
            tolerance * cpu_scale.max(1e-12)
        } else {
            tolerance
        };
        Self {
            what,
            max_abs_diff,
            cpu_scale,
            tolerance,
            relative,
            pass: max_abs_diff <= limit,
        }
    }
}

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap_or_default()
}

fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = stream(seed, Purpose::Augment, 0, 0);
    (0..n).map(|_| rng.random::<f32>()).collect()
}

fn upload<const D: usize>(v: Vec<f32>, dims: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, dims), device)
}

/// Runs every comparison on `kind` against the CPU; `Err` says why the device could not be used.
pub fn run(kind: DeviceKind) -> std::result::Result<Vec<Check>, String> {
    let gpu = kind.probe()?;
    let cpu = Device::flex();
    let mut checks = Vec::new();

    // The device apply of every host method on a 2-D batch (8×3×32×32).
    let shape = SampleShape::d2(3, 32, 32).map_err(|e| e.to_string())?;
    let x = random(8 * shape.sample_len(), 1);
    for (i, method) in Method::ALL
        .iter()
        .filter(|m| m.is_input_level())
        .enumerate()
    {
        let mixer = MixerConfig::single(method.default_config());
        let info = BatchInfo {
            batch: 8,
            shape,
            epoch: 0,
            data: Some(&x),
        };
        let plan = mixer
            .sample(&info, &mut stream(7, Purpose::Mix, 0, i as u64))
            .map_err(|e| e.to_string())?;
        let run_on = |d: &Device| -> std::result::Result<Vec<f32>, String> {
            let t = upload(x.clone(), [8, 3, 32, 32], d);
            let out = apply_plan(&plan, t).map_err(|e| e.to_string())?;
            Ok(host(out.reshape([8, 3 * 32 * 32])))
        };
        checks.push(Check::new(
            format!("apply {}", method.name()),
            &run_on(&cpu)?,
            &run_on(&gpu)?,
            1e-5,
            false,
        ));
    }

    // The soft-target loss on logits of a realistic spread.
    let logits: Vec<f32> = random(64 * 10, 2).iter().map(|v| (v - 0.5) * 8.0).collect();
    let targets: Vec<f32> = random(64 * 10, 3);
    let loss_on = |d: &Device| {
        let t = upload(targets.clone(), [64, 10], d);
        let t = t.clone() / t.sum_dim(1);
        let l = soft_cross_entropy(upload(logits.clone(), [64, 10], d), t);
        host(l.reshape([1, 1]))
    };
    checks.push(Check::new(
        "loss soft cross-entropy".into(),
        &loss_on(&cpu),
        &loss_on(&gpu),
        1e-5,
        true,
    ));

    // A forward pass of every model (the same parameters on both devices).
    let models: [(&str, SampleShape); 6] = [
        ("mlp", SampleShape::d2(1, 8, 8).map_err(|e| e.to_string())?),
        (
            "cnn",
            SampleShape::d2(1, 28, 28).map_err(|e| e.to_string())?,
        ),
        ("resnet18", shape),
        ("preact-resnet18", shape),
        (
            "cnn1d",
            SampleShape::d1(1, 8000).map_err(|e| e.to_string())?,
        ),
        ("vit-tiny", shape),
    ];
    for (name, input) in models {
        let config = ModelConfig::by_name(name).map_err(|e| e.to_string())?;
        let xs = random(4 * input.sample_len(), 4);
        let forward = |d: &Device| -> std::result::Result<Vec<f32>, String> {
            let model = config.init(&input, 10, 0, d).map_err(|e| e.to_string())?;
            let t = upload(xs.clone(), [4, input.channels, input.spatial_len()], d);
            Ok(host(model.forward(t).map_err(|e| e.to_string())?))
        };
        checks.push(Check::new(
            format!("model {name}"),
            &forward(&cpu)?,
            &forward(&gpu)?,
            2e-3,
            true,
        ));
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a machine with a GPU and a build with `cuda` or `vulkan`, the device agrees with the CPU;
    /// everywhere else this says why it skipped.
    #[test]
    fn compiled_gpu_backends_agree_with_the_cpu_where_a_device_is_present() {
        for kind in [DeviceKind::Cuda, DeviceKind::Vulkan] {
            match run(kind) {
                Err(why) => eprintln!("skipped {kind:?}: {why}"),
                Ok(checks) => {
                    for c in &checks {
                        assert!(c.pass, "{kind:?} {c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_check_runs_and_the_cpu_agrees_with_itself() {
        let checks = run(DeviceKind::Cpu).expect("the CPU is always there");
        assert!(checks.len() >= 16, "{checks:?}");
        for c in &checks {
            assert!(
                c.pass && c.max_abs_diff == 0.0 && c.cpu_scale > 0.0,
                "{c:?}"
            );
        }
    }

    #[test]
    fn a_difference_is_caught() {
        let same = Check::new("x".into(), &[1.0, -2.0], &[1.0, -2.0], 1e-6, true);
        assert!(same.pass && same.max_abs_diff == 0.0 && same.cpu_scale == 2.0);
        assert!(!Check::new("x".into(), &[1.0, 2.0], &[1.0, 2.01], 1e-3, true).pass);
        assert!(!Check::new("x".into(), &[1.0], &[f32::NAN], 1.0, false).pass);
        assert!(!Check::new("x".into(), &[1.0], &[1.0, 2.0], 1.0, false).pass);
    }
}
