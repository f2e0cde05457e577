//! Cross-method invariants over many seeds: every method in `Method::ALL` that supports a layout, ranks
//! 1–3 (H ≠ W), odd and even batches, every granularity × pairing, checked against the plan itself and
//! against a naive per-element apply written here from the plan's definition.
//!
//! A method that refuses a rank must say so with `Error::UnsupportedRank`; any other refusal (for example
//! a method not implemented yet) fails the suite.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::apply::apply_to_vec;
use mixlab_core::methods::{Method, MethodConfig, ResizemixConfig};
use mixlab_core::mixer::{BatchInfo, Granularity, MixerConfig, Pairing};
use mixlab_core::plan::{Interp, MixPlan, Region, SampleWeight};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use mixlab_core::{Error, Result};
use rand::RngExt;

/// Seeds per (method, rank); each seed runs all 3 batch sizes × 8 valid granularity/pairing combinations.
const SEEDS: u64 = 1000;
const BATCHES: [usize; 3] = [1, 7, 8];
const CLASSES: usize = 5;
const GRANULARITIES: [Granularity; 3] = [Granularity::Batch, Granularity::Pair, Granularity::Elem];
const PAIRINGS: [Pairing; 3] = [Pairing::Permute, Pairing::Flip, Pairing::Roll];

fn shapes() -> [SampleShape; 3] {
    [
        SampleShape::d1(2, 40).unwrap(),
        SampleShape::d2(3, 12, 20).unwrap(),
        SampleShape::d3(2, 4, 6, 5).unwrap(),
    ]
}

fn random_data(batch: usize, shape: &SampleShape, seed: u64) -> Vec<f32> {
    let mut rng = stream(seed, Purpose::Augment, 0, batch as u64);
    (0..batch * shape.sample_len())
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect()
}

/// PyTorch `interpolate` source taps for one output index (nearest: floor(o·in/out); linear:
/// align_corners=False with the left edge clamped), written from the definition.
fn tap(o: usize, input: usize, output: usize, interp: Interp) -> (usize, usize, f32) {
    let scale = input as f32 / output as f32;
    match interp {
        Interp::Nearest => {
            let s = ((o as f32 * scale).floor() as usize).min(input - 1);
            (s, s, 0.0)
        }
        Interp::Linear => {
            let src = ((o as f32 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(input - 1);
            (i0, (i0 + 1).min(input - 1), src - i0 as f32)
        }
    }
}

fn inside(r: &Region, p: [usize; 3]) -> bool {
    (0..3).all(|a| r.start[a] <= p[a] && p[a] < r.end[a])
}

/// The mixed value at one element, straight from the meaning of each weight kind.
fn naive_value(
    shape: &SampleShape,
    w: &SampleWeight,
    a: &[f32],
    b: &[f32],
    c: usize,
    p: [usize; 3],
) -> f32 {
    let [d, h, wd] = shape.dims;
    let n = d * h * wd;
    let at = |buf: &[f32], q: [usize; 3]| buf[c * n + (q[0] * h + q[1]) * wd + q[2]];
    let x = at(a, p);
    match w {
        SampleWeight::Keep => x,
        SampleWeight::Blend { lam } => x * lam + at(b, p) * (1.0 - lam),
        SampleWeight::Paste { region } => {
            if inside(region, p) {
                at(b, p)
            } else {
                x
            }
        }
        SampleWeight::PasteResized { region, interp } => {
            if !inside(region, p) {
                return x;
            }
            let e = region.extent();
            let t: [(usize, usize, f32); 3] =
                [0, 1, 2].map(|ax| tap(p[ax] - region.start[ax], shape.dims[ax], e[ax], *interp));
            if *interp == Interp::Nearest {
                return at(b, [t[0].0, t[1].0, t[2].0]);
            }
            let mut v = 0.0f32;
            for (z, wz) in [(t[0].0, 1.0 - t[0].2), (t[0].1, t[0].2)] {
                for (y, wy) in [(t[1].0, 1.0 - t[1].2), (t[1].1, t[1].2)] {
                    for (xx, wx) in [(t[2].0, 1.0 - t[2].2), (t[2].1, t[2].2)] {
                        v += at(b, [z, y, xx]) * wz * wy * wx;
                    }
                }
            }
            v
        }
        SampleWeight::Mask { mask } => {
            let m = mask[(p[0] * h + p[1]) * wd + p[2]];
            x * m + at(b, p) * (1.0 - m)
        }
    }
}

/// Compares `apply` with the naive reference: bit-exact, except linear resizing (a different order of
/// the same products), which is held to 1e-5.
fn check_apply(plan: &MixPlan, x: &[f32], out: &[f32], ctx: &str) {
    let s = plan.shape;
    let [d, h, w] = s.dims;
    let len = s.sample_len();
    for i in 0..plan.len() {
        let j = plan.partner[i];
        let (a, b) = (&x[i * len..(i + 1) * len], &x[j * len..(j + 1) * len]);
        let o = &out[i * len..(i + 1) * len];
        let weight = &plan.weights[i];
        let tol = match weight {
            SampleWeight::PasteResized {
                interp: Interp::Linear,
                ..
            } => 1e-5,
            _ => 0.0,
        };
        for c in 0..s.channels {
            for z in 0..d {
                for y in 0..h {
                    for xx in 0..w {
                        let want = naive_value(&s, weight, a, b, c, [z, y, xx]);
                        let got = o[c * d * h * w + (z * h + y) * w + xx];
                        assert!(
                            (got - want).abs() <= tol,
                            "{ctx}: sample {i} c{c} ({z},{y},{xx}): apply {got} vs naive {want} ({weight:?})"
                        );
                    }
                }
            }
        }
    }
}

fn check_partners(plan: &MixPlan, g: Granularity, p: Pairing, ctx: &str) {
    let b = plan.len();
    assert!(
        plan.partner.iter().all(|&j| j < b),
        "{ctx}: partner out of range"
    );
    match p {
        Pairing::Flip => assert!((0..b).all(|i| plan.partner[i] == b - 1 - i), "{ctx}"),
        Pairing::Roll => assert!((0..b).all(|i| plan.partner[i] == (i + b - 1) % b), "{ctx}"),
        Pairing::Permute => {
            let mut seen = vec![false; b];
            for &j in &plan.partner {
                assert!(!seen[j], "{ctx}: permutation repeats {j}");
                seen[j] = true;
            }
        }
    }
    if g == Granularity::Pair {
        // Pairs mix both ways, so the pairing must be an involution and a pair shares its draw.
        for i in 0..b {
            let j = plan.partner[i];
            assert_eq!(plan.partner[j], i, "{ctx}: pair pairing is not symmetric");
            assert_eq!(
                plan.method[i], plan.method[j],
                "{ctx}: pair split across methods"
            );
        }
    }
    if g == Granularity::Batch {
        assert!(
            plan.method.windows(2).all(|m| m[0] == m[1]),
            "{ctx}: batch draw split"
        );
    }
}

/// All invariants of one sampled plan.
fn check_plan(plan: &MixPlan, x: &[f32], g: Granularity, p: Pairing, seed: u64, ctx: &str) {
    let b = plan.len();
    plan.validate().unwrap();
    check_partners(plan, g, p, ctx);
    let n = plan.shape.spatial_len() as f64;
    let means = plan.input_weight_mean();
    for (i, &mean) in means.iter().enumerate() {
        let lam = plan.lam_label[i];
        assert!(
            lam.is_finite() && (0.0..=1.0).contains(&lam),
            "{ctx}: lam_label {lam}"
        );
        // Label correction: the label weight is the realised input share, up to one position.
        let gap = (f64::from(lam) - mean).abs();
        assert!(
            gap <= 1.0 / n + 1e-6,
            "{ctx}: sample {i} lam_label {lam} vs input share {}",
            mean
        );
        if let SampleWeight::Mask { mask } = &plan.weights[i] {
            assert!(
                mask.iter().all(|v| (0.0..=1.0).contains(v)),
                "{ctx}: mask outside [0, 1]"
            );
        }
    }
    let mut rng = stream(seed, Purpose::Split, 0, 0);
    let labels: Vec<usize> = (0..b).map(|_| rng.random_range(0..CLASSES)).collect();
    for smoothing in [0.0, 0.1] {
        let t = plan.soft_targets(&labels, CLASSES, smoothing).unwrap();
        for (i, row) in t.chunks_exact(CLASSES).enumerate() {
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() <= 1e-5, "{ctx}: row {i} sums to {sum}");
            assert!(
                row.iter().all(|&v| (0.0..=1.0 + 1e-6).contains(&v)),
                "{ctx}: row {i} {row:?}"
            );
        }
    }
    let out = apply_to_vec(plan, x).unwrap();
    check_apply(plan, x, &out, ctx);
    let len = plan.shape.sample_len();
    for i in (0..b).filter(|&i| plan.partner[i] == i) {
        assert_eq!(
            plan.lam_label[i], 1.0,
            "{ctx}: self-paired sample {i} has lam_label != 1"
        );
        let (got, was) = (&out[i * len..(i + 1) * len], &x[i * len..(i + 1) * len]);
        if let Some(k) = (0..len).find(|&k| got[k].to_bits() != was[k].to_bits()) {
            panic!(
                "{ctx}: self-paired sample {i} changed at element {k}: {} -> {} ({:?})",
                was[k], got[k], plan.weights[i]
            );
        }
    }
}

/// Whether a method supports a layout: `Ok(false)` for the typed `UnsupportedRank` refusal, `Err` with
/// the message for any other refusal (collected, so one unfinished method does not hide the others).
fn supports(config: &MethodConfig, shape: &SampleShape) -> std::result::Result<bool, String> {
    match config.validate(shape) {
        Ok(()) => Ok(true),
        Err(Error::UnsupportedRank { .. } | Error::UnsupportedLayout { .. }) => Ok(false),
        Err(e) => Err(format!("{} refuses {shape}: {e}", config.method())),
    }
}

fn sample(
    mixer: &MixerConfig,
    batch: usize,
    shape: SampleShape,
    x: &[f32],
    seed: u64,
) -> Result<MixPlan> {
    let info = BatchInfo {
        batch,
        shape,
        epoch: 0,
        data: Some(x),
    };
    mixer.sample(&info, &mut stream(seed, Purpose::Mix, 0, batch as u64))
}

fn run_rank(rank: usize) {
    let shape = shapes()[rank - 1];
    let mut tested = 0;
    let mut refused = vec![];
    for method in Method::ALL {
        let config = method.default_config();
        match supports(&config, &shape) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                refused.push(e);
                continue;
            }
        }
        tested += 1;
        for seed in 0..SEEDS {
            for batch in BATCHES {
                let x = random_data(batch, &shape, seed);
                for g in GRANULARITIES {
                    for p in PAIRINGS {
                        let mut mixer = MixerConfig::single(config.clone())
                            .with_granularity(g)
                            .with_pairing(p);
                        if seed % 4 == 3 {
                            // Some groups skipped: their samples must stay as they are.
                            mixer = mixer.with_prob(0.5);
                        }
                        let ctx = format!("{method} {shape} B={batch} {g:?}/{p:?} seed {seed}");
                        let plan = sample(&mixer, batch, shape, &x, seed);
                        if g == Granularity::Pair && p == Pairing::Roll {
                            assert!(
                                matches!(plan, Err(Error::Incompatible(_))),
                                "{ctx}: {plan:?}"
                            );
                            continue;
                        }
                        let plan = plan.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                        check_plan(&plan, &x, g, p, seed, &ctx);
                        if seed % 50 == 0 {
                            let again = sample(&mixer, batch, shape, &x, seed).unwrap();
                            assert_eq!(plan, again, "{ctx}: same seed, different plan");
                        }
                    }
                }
            }
        }
    }
    // Mixup and CutMix support every rank; a suite that silently skipped everything would prove nothing.
    assert!(tested >= 3, "only {tested} methods ran on rank {rank}");
    assert!(
        refused.is_empty(),
        "methods that failed to run: {refused:#?}"
    );
}

#[test]
fn invariants_hold_on_1d_signals() {
    run_rank(1);
}

#[test]
fn invariants_hold_on_2d_images_with_h_ne_w() {
    run_rank(2);
}

#[test]
fn invariants_hold_on_3d_volumes() {
    run_rank(3);
}

#[test]
fn every_method_supports_2d_images() {
    // Square, so that methods on a square block grid (PuzzleMix) count. Beat-synchronous mixup is for
    // waveforms only.
    let shape = SampleShape::d2(3, 16, 16).unwrap();
    let refused: Vec<String> = Method::ALL
        .into_iter()
        .filter(|&m| m != Method::Beatsync)
        .filter_map(|m| match supports(&m.default_config(), &shape) {
            Ok(true) => None,
            Ok(false) => Some(format!("{m} refuses 2-D as unsupported")),
            Err(e) => Some(e),
        })
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
}

#[test]
fn lambda_one_is_the_identity() {
    let mut refused = vec![];
    for shape in shapes() {
        let x = random_data(7, &shape, 1);
        for method in Method::ALL {
            let config = method.default_config();
            match supports(&config, &shape) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    refused.push(e);
                    continue;
                }
            }
            let mixers = [
                MixerConfig::single(config.clone()).with_prob(0.0),
                MixerConfig::single(config.clone()).with_off_epoch(Some(0)),
                MixerConfig::single(MethodConfig::None).with_pairing(Pairing::Roll),
            ];
            for (k, mixer) in mixers.iter().enumerate() {
                for seed in 0..20 {
                    let plan = sample(mixer, 7, shape, &x, seed).unwrap();
                    assert!(
                        plan.lam_label.iter().all(|&l| l == 1.0),
                        "{method} {shape} mixer {k}"
                    );
                    assert_eq!(
                        apply_to_vec(&plan, &x).unwrap(),
                        x,
                        "{method} {shape} mixer {k}"
                    );
                }
            }
        }
    }
    assert!(
        refused.is_empty(),
        "methods that failed to run: {refused:#?}"
    );
}

#[test]
fn resizemix_linear_matches_a_naive_trilinear_resize() {
    let config = MethodConfig::Resizemix(ResizemixConfig::default().with_interp(Interp::Linear));
    let mut resized = 0;
    for shape in shapes() {
        for seed in 0..300 {
            let x = random_data(8, &shape, seed);
            let mixer = MixerConfig::single(config.clone()).with_granularity(Granularity::Elem);
            let plan = sample(&mixer, 8, shape, &x, seed).unwrap();
            check_plan(
                &plan,
                &x,
                Granularity::Elem,
                Pairing::Permute,
                seed,
                "resizemix linear",
            );
            resized += plan
                .weights
                .iter()
                .filter(|w| w.region().is_some_and(|r| r.volume() > 0))
                .count();
        }
    }
    assert!(resized > 1000, "only {resized} non-empty resized pastes");
}
