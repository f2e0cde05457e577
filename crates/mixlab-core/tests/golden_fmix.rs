//! Golden parity of FMix masks with the reference code (github.com/ecs-vlc/FMix `fmix.py`), in both of
//! its published forms: master's complex spectrum (run from the repository at e5991dc) and the earlier
//! real reshape.
//!
//! The fixture comes from `tools/golden/fmix_golden.py`: per case the form, the Gaussian `param` the
//! reference drew, its low-frequency image, λ, the ceil/floor coin and the binarised mask. Tolerances:
//! 1e-9 on the image (FFT round-off), exact on the binarised mask (values are 0, 1 or numpy linspace
//! points) given the reference's image; from mixlab's own image, exact for the complex form and up to
//! swapped twin pixels for the real reshape (see below).

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::fmix::{
    FmixSpectrum, binarise_mask, low_freq_image, param_len, reflected_index,
};
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("fixtures/fmix_golden.json");
    serde_json::from_str(text).unwrap()
}

/// Float arrays are space-separated shortest reprs; `str::parse` reads them exactly.
fn floats(v: &Value) -> Vec<f64> {
    v.as_str()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse::<f64>().unwrap())
        .collect()
}

fn scalar(v: &Value) -> f64 {
    let all = floats(v);
    assert_eq!(all.len(), 1);
    all[0]
}

fn spectrum_of(case: &Value) -> FmixSpectrum {
    serde_json::from_value(case["spectrum"].clone()).unwrap()
}

fn shape_of(case: &Value) -> Vec<usize> {
    case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn fixture_covers_every_rank_odd_and_non_square_shapes_in_both_forms() {
    let fx = fixture();
    for kind in [FmixSpectrum::Complex, FmixSpectrum::RealReshape] {
        let cases: Vec<&Value> = fx["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| spectrum_of(c) == kind)
            .collect();
        let shapes: Vec<Vec<usize>> = cases.iter().map(|c| shape_of(c)).collect();
        for want in [
            vec![32, 32],
            vec![28, 20],
            vec![31, 17],
            vec![100],
            vec![65],
            vec![8, 9, 10],
            vec![6, 6, 6],
        ] {
            assert!(shapes.contains(&want), "{kind:?}: missing {want:?}");
        }
        let soft = cases
            .iter()
            .filter(|c| c["max_soft"].as_f64().unwrap() > 0.0)
            .count();
        assert!(soft >= 3, "{kind:?}");
    }
}

#[test]
fn low_frequency_images_match_the_reference() {
    for case in fixture()["cases"].as_array().unwrap() {
        let shape = shape_of(case);
        let param = floats(&case["param"]);
        assert_eq!(param.len(), param_len(&shape).unwrap(), "{shape:?}");
        let want = floats(&case["image"]);
        let got = low_freq_image(
            spectrum_of(case),
            &shape,
            case["decay_power"].as_f64().unwrap(),
            &param,
        )
        .unwrap();
        assert_eq!(got.len(), want.len());
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err <= 1e-9,
            "{:?} {shape:?}: max abs error {err:e}",
            spectrum_of(case)
        );
    }
}

#[test]
fn the_reference_raises_where_mixlab_extends_and_only_there() {
    for case in fixture()["cases"].as_array().unwrap() {
        let shape = shape_of(case);
        let raised = case.get("reference_error").is_some();
        // The reference's reshape is legal exactly when the flat spectrum divides into D0·D1 rows;
        // master's complex form never reshapes.
        let illegal = spectrum_of(case) == FmixSpectrum::RealReshape
            && shape.len() == 3
            && !param_len(&shape)
                .unwrap()
                .is_multiple_of(shape[0] * shape[1]);
        assert_eq!(raised, illegal, "{shape:?}");
        if raised {
            let msg = case["reference_error"].as_str().unwrap();
            assert!(msg.starts_with("ValueError: cannot reshape"), "{msg}");
        }
    }
}

/// Checks `got == want` except where tied positions swapped values: every differing position p must
/// have a differing partner q with `tied(p, q)` that holds p's value in `want` and vice versa.
/// Returns the number of swapped positions.
fn equal_up_to_ties(got: &[f64], want: &[f64], tied: impl Fn(usize, usize) -> bool) -> usize {
    assert_eq!(got.len(), want.len());
    let diff: Vec<usize> = (0..got.len()).filter(|&p| got[p] != want[p]).collect();
    for &p in &diff {
        assert!(
            diff.iter()
                .any(|&q| q != p && tied(p, q) && got[p] == want[q] && got[q] == want[p]),
            "position {p} differs ({} vs {}) without a tied partner",
            got[p],
            want[p]
        );
    }
    diff.len()
}

#[test]
fn binarised_masks_match_the_reference_exactly() {
    let mut hard_exact = 0;
    for case in fixture()["cases"].as_array().unwrap() {
        let kind = spectrum_of(case);
        let shape = shape_of(case);
        let image = floats(&case["image"]);
        let lam = scalar(&case["lam"]);
        let take_ceil = case["take_ceil"].as_bool().unwrap();
        let max_soft = case["max_soft"].as_f64().unwrap();
        let want = floats(&case["mask"]);
        // From the reference's own image: exact, except among exactly equal values (numpy's
        // argsort leaves their order unspecified; mixlab keeps ascending index).
        let got = binarise_mask(&image, lam, take_ceil, max_soft);
        // A hard mask can only differ at the threshold; a soft ramp gives every tied pair in it
        // distinct values, so there each swap is allowed as long as it is a tie.
        let bound = if max_soft == 0.0 { 2 } else { usize::MAX };
        let n = equal_up_to_ties(&got, &want, |p, q| image[p] == image[q]);
        assert!(n <= bound, "{shape:?}: {n} swaps among exact ties");
        let sorted = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v
        };
        assert_eq!(
            sorted(&got),
            sorted(&want),
            "{shape:?}: same values, maybe elsewhere"
        );
        // From mixlab's own image: for the real reshape, equal up to swaps of point-symmetric twins,
        // which tie in exact arithmetic and which numpy orders by FFT round-off alone; master's
        // complex image has no such twins, so its masks must agree position for position.
        let ours = low_freq_image(
            kind,
            &shape,
            case["decay_power"].as_f64().unwrap(),
            &floats(&case["param"]),
        )
        .unwrap();
        let got = binarise_mask(&ours, lam, take_ceil, max_soft);
        if kind == FmixSpectrum::Complex {
            assert_eq!(got, want, "complex {shape:?}: mask from mixlab's own image");
            continue;
        }
        let twin = reflected_index(&shape);
        let n = equal_up_to_ties(&got, &want, |p, q| twin[p] == q);
        assert!(n <= bound, "{shape:?}: {n} twin swaps");
        hard_exact += usize::from(max_soft == 0.0 && n == 0);
    }
    // Most hard masks agree position for position even from mixlab's own image.
    assert!(
        hard_exact >= 5,
        "only {hard_exact} hard masks agree exactly"
    );
}
