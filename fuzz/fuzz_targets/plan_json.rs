//! Fuzzes the JSON form of a mixing config (a `MixerConfig`, or a single `MethodConfig` as `--param` values
//! build it): deserialise, validate against a few sample shapes, and sample and apply a plan wherever it
//! validated. A valid config must give a consistent plan: partners in range, 0 ≤ λ ≤ 1, soft targets that
//! sum to 1, and an apply that succeeds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_core::apply::apply_to_vec;
use mixlab_core::methods::MethodConfig;
use mixlab_core::mixer::{BatchInfo, MixerConfig};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;

/// Odd on purpose: pairings must cope with a sample left over.
const BATCH: usize = 5;
const CLASSES: usize = 3;

fn shapes() -> [SampleShape; 4] {
    [
        SampleShape::d1(1, 16).expect("valid shape"),
        SampleShape::d2(3, 8, 8).expect("valid shape"),
        SampleShape::d2(1, 5, 7).expect("valid shape"),
        SampleShape::d3(2, 3, 4, 5).expect("valid shape"),
    ]
}

fn exercise(mixer: &MixerConfig) {
    for shape in shapes() {
        if mixer.validate(&shape).is_err() {
            continue;
        }
        let len = shape.sample_len();
        let data: Vec<f32> = (0..BATCH * len).map(|k| (k % 17) as f32 / 17.0).collect();
        let info = BatchInfo {
            batch: BATCH,
            shape,
            epoch: 0,
            data: Some(&data),
        };
        let mut rng = stream(7, Purpose::Mix, 0, 0);
        let plan = match mixer.sample(&info, &mut rng) {
            Ok(p) => p,
            Err(e) => panic!("validated config failed to sample on {shape}: {e}"),
        };
        plan.validate().expect("a sampled plan is consistent");
        assert_eq!(plan.len(), BATCH);
        assert!(
            plan.lam_label.iter().all(|l| (0.0..=1.0).contains(l)),
            "{:?}",
            plan.lam_label
        );
        let labels: Vec<usize> = (0..BATCH).map(|i| i % CLASSES).collect();
        if (0.0..1.0).contains(&mixer.label_smoothing) {
            let t = plan
                .soft_targets(&labels, CLASSES, mixer.label_smoothing)
                .expect("soft targets of a valid plan");
            for row in t.chunks_exact(CLASSES) {
                let s: f32 = row.iter().sum();
                assert!((s - 1.0).abs() < 1e-4, "soft target row sums to {s}");
            }
        }
        let mixed = apply_to_vec(&plan, &data).expect("a valid plan applies");
        assert_eq!(mixed.len(), data.len());
        assert!(mixed.iter().all(|v| v.is_finite()));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(mixer) = serde_json::from_slice::<MixerConfig>(data) {
        exercise(&mixer);
    }
    if let Ok(method) = serde_json::from_slice::<MethodConfig>(data) {
        exercise(&MixerConfig::single(method));
    }
});
