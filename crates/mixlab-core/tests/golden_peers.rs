//! Golden parity with the peer libraries: timm (`rand_bbox`, `rand_bbox_minmax`, `mixup_target`),
//! torchvision v2 `CutMix`, and OpenMixup's ResizeMix, GridMix and MixPro MaskMix, fed the same λ,
//! centres, origins and permutations. The numbers come from `tools/golden/peers_golden.py`, which calls
//! the peers' own functions (versions are recorded in the fixture).
//!
//! Tolerances: boxes, masks, partners and pasted or masked pixels are exact; label weights and soft
//! targets 1e-6; bilinear resizing 1e-5 (PyTorch sums the same taps in another order).

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::apply::apply_to_vec;
use mixlab_core::boxes::{BoxRule, box_at, cut_extents, side_ratio};
use mixlab_core::methods::Method;
use mixlab_core::methods::cutmix::{minmax_extent_range, rand_bbox, rand_bbox_minmax};
use mixlab_core::methods::gridmix::{GridParams, grid_mask};
use mixlab_core::methods::maskmix::{kept_count, patch_grid, patch_mask};
use mixlab_core::methods::resizemix::rand_bbox_tao;
use mixlab_core::plan::{Interp, MixPlan, Region, SampleWeight};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::OnceLock;

const FLOAT_TOL: f64 = 1e-6;
const BILINEAR_TOL: f32 = 1e-5;

fn fixture() -> &'static Value {
    static F: OnceLock<Value> = OnceLock::new();
    F.get_or_init(|| {
        let text = include_str!("fixtures/peers_golden.json");
        serde_json::from_str(text).unwrap()
    })
}

fn cases(key: &str) -> &'static [Value] {
    let v = fixture()[key].as_array().unwrap();
    assert!(!v.is_empty(), "fixture {key} is empty");
    v
}

fn u(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}
fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}
fn us(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(u).collect()
}
fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| f(x) as f32).collect()
}

/// `[row0, row1, col0, col1]`, the layout the generator records boxes in.
fn rows_cols(r: &Region) -> [usize; 4] {
    [r.start[1], r.end[1], r.start[2], r.end[2]]
}

fn plan(
    shape: SampleShape,
    partner: Vec<usize>,
    weights: Vec<SampleWeight>,
    lam: Vec<f32>,
) -> MixPlan {
    let b = partner.len();
    MixPlan {
        shape,
        partner,
        weights,
        lam_label: lam,
        method: vec![Method::Cutmix; b],
    }
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{ctx}: element {k}: {g} vs {w} (tol {tol})"
        );
    }
}

/// timm ends a box at `c + ⌈cut/2⌉` (extent exactly `cut`), torchvision and OpenMixup at `c + ⌊cut/2⌋`:
/// mixlab's `BoxRule::Timm` must give timm's boxes exactly, and `BoxRule::Torchvision` the same starts
/// with ends one shorter wherever the cut is odd and the box not clipped.
#[test]
fn rand_bbox_matches_timm_exactly_under_the_timm_rule() {
    let mut odd = 0;
    let mut even_or_clipped = 0;
    for c in cases("timm_rand_bbox") {
        let (h, w, lam) = (u(&c["h"]), u(&c["w"]), f(&c["lam"]));
        let shape = SampleShape::d2(1, h, w).unwrap();
        let centre = [0, u(&c["cy"]), u(&c["cx"])];
        let timm = us(&c["box"]);
        let ours = rand_bbox(&shape, lam, centre, BoxRule::Timm);
        assert_eq!(
            [ours.start[1], ours.end[1], ours.start[2], ours.end[2]],
            [timm[0], timm[1], timm[2], timm[3]],
            "{c}"
        );
        let tv = rand_bbox(&shape, lam, centre, BoxRule::Torchvision);
        let cut = cut_extents(&shape, side_ratio(lam, 2));
        for (axis, k) in [(1, 0), (2, 2)] {
            let (dim, ctr) = (shape.dims[axis], centre[axis]);
            assert_eq!(tv.start[axis], timm[k], "{c}: start on axis {axis}");
            if cut[axis].is_multiple_of(2) || ctr + cut[axis] / 2 >= dim {
                even_or_clipped += 1;
                assert_eq!(tv.end[axis], timm[k + 1], "{c}: end on axis {axis}");
            } else {
                odd += 1;
                assert_eq!(
                    tv.end[axis] + 1,
                    timm[k + 1],
                    "{c}: odd-cut end on axis {axis}"
                );
            }
        }
    }
    assert!(
        odd > 20 && even_or_clipped > 20,
        "odd {odd}, even/clipped {even_or_clipped}"
    );
}

#[test]
fn rand_bbox_matches_torchvision_cutmix_exactly() {
    for c in cases("tv_cutmix_boxes") {
        let shape = SampleShape::d2(1, u(&c["h"]), u(&c["w"])).unwrap();
        let r = rand_bbox(
            &shape,
            f(&c["lam"]),
            [0, u(&c["r_y"]), u(&c["r_x"])],
            BoxRule::Torchvision,
        );
        assert_eq!(rows_cols(&r).to_vec(), us(&c["box"]), "{c}");
        let lam = 1.0 - r.volume() as f64 / shape.spatial_len() as f64;
        assert!(
            (lam - f(&c["lam_adjusted"])).abs() <= FLOAT_TOL,
            "{c}: {lam}"
        );
    }
}

#[test]
fn torchvision_cutmix_batch_and_targets_match_a_roll_plan() {
    for c in cases("tv_cutmix_full") {
        let (b, k) = (u(&c["b"]), u(&c["classes"]));
        let shape = SampleShape::d2(u(&c["c"]), u(&c["h"]), u(&c["w"])).unwrap();
        let region = rand_bbox(
            &shape,
            f(&c["lam"]),
            [0, u(&c["r_y"]), u(&c["r_x"])],
            BoxRule::Torchvision,
        );
        let lam = 1.0 - region.volume() as f64 / shape.spatial_len() as f64;
        // torchvision pairs i with i − 1 (`roll(1, 0)`), mixlab's `Pairing::Roll`.
        let p = plan(
            shape,
            (0..b).map(|i| (i + b - 1) % b).collect(),
            vec![SampleWeight::Paste { region }; b],
            vec![lam as f32; b],
        );
        let out = apply_to_vec(&p, &f32s(&c["input"])).unwrap();
        assert_eq!(out, f32s(&c["output"]), "{c}");
        let t = p.soft_targets(&us(&c["labels"]), k, 0.0).unwrap();
        assert_close(&t, &f32s(&c["target"]), FLOAT_TOL as f32, "targets");
    }
}

/// Same cut sizes and origin give the same box; our extent range includes `int(dim·max)` (timm's
/// `randint` excludes it) and our origins run over `0..=dim − cut` like timm's current code.
#[test]
fn rand_bbox_minmax_boxes_and_ranges_against_timm() {
    let mut refused_by_timm = 0;
    for c in cases("timm_rand_bbox_minmax") {
        let shape = SampleShape::d2(1, u(&c["h"]), u(&c["w"])).unwrap();
        let (min, max) = (f(&c["minmax"][0]), f(&c["minmax"][1]));
        let ranges = minmax_extent_range(&shape, min, max);
        let calls: Vec<Vec<usize>> = c["randint_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(us)
            .collect();
        let (cut, origin) = (us(&c["cut"]), us(&c["origin"]));
        // timm asks numpy for randint(int(dim·min), int(dim·max)): same bounds, but exclusive at the top.
        assert_eq!(calls[0], vec![ranges[1].0, ranges[1].1], "{c}");
        if c["box"].is_null() {
            // min == max: numpy's randint(lo, lo) raises inside timm; ours draws that one extent.
            refused_by_timm += 1;
            assert_eq!(ranges[1].0, ranges[1].1);
            let mut rng = stream(0, Purpose::Mix, 0, 0);
            let r = rand_bbox_minmax(&shape, min, max, &mut rng);
            assert_eq!(r.extent(), [1, ranges[1].0, ranges[2].0]);
            continue;
        }
        assert_eq!(calls[1], vec![ranges[2].0, ranges[2].1], "{c}");
        // Origins: randint(0, dim − cut + 1), i.e. 0..=dim − cut.
        assert_eq!(calls[2], vec![0, shape.dims[1] - cut[0] + 1], "{c}");
        assert_eq!(calls[3], vec![0, shape.dims[2] - cut[1] + 1], "{c}");
        let r = box_at(&shape, [1, cut[0], cut[1]], [0, origin[0], origin[1]]);
        assert_eq!(rows_cols(&r).to_vec(), us(&c["box"]), "{c}");
    }
    assert!(
        refused_by_timm > 0,
        "the min == max case is missing from the fixture"
    );
}

#[test]
fn rand_bbox_minmax_reaches_every_cut_and_origin_including_the_last() {
    let shape = SampleShape::d2(1, 10, 8).unwrap();
    let (min, max) = (0.2, 0.8);
    let ranges = minmax_extent_range(&shape, min, max);
    let mut seen: [HashSet<(usize, usize)>; 3] = Default::default();
    let mut rng = stream(42, Purpose::Mix, 0, 0);
    for _ in 0..20_000 {
        let r = rand_bbox_minmax(&shape, min, max, &mut rng);
        for (a, s) in seen.iter_mut().enumerate().skip(1) {
            s.insert((r.extent()[a], r.start[a]));
        }
    }
    for a in 1..3 {
        let (lo, hi) = ranges[a];
        let all: HashSet<(usize, usize)> = (lo..=hi)
            .flat_map(|cut| (0..=shape.dims[a] - cut).map(move |o| (cut, o)))
            .collect();
        assert_eq!(seen[a], all, "axis {a}");
        // The pair timm's old sampler could never produce: the largest cut flush with the far border.
        assert!(seen[a].contains(&(hi, shape.dims[a] - hi)));
    }
}

#[test]
fn soft_targets_match_timm_mixup_target_with_flip_pairing() {
    for c in cases("timm_mixup_target") {
        let labels = us(&c["labels"]);
        let (b, k, lam) = (labels.len(), u(&c["classes"]), f(&c["lam"]) as f32);
        let shape = SampleShape::d1(1, 1).unwrap();
        let p = plan(
            shape,
            (0..b).map(|i| b - 1 - i).collect(),
            vec![SampleWeight::Blend { lam }; b],
            vec![lam; b],
        );
        let t = p
            .soft_targets(&labels, k, f(&c["smoothing"]) as f32)
            .unwrap();
        assert_close(&t, &f32s(&c["target"]), FLOAT_TOL as f32, &c.to_string());
    }
}

/// OpenMixup's `rand_bbox_tao` draws "cx" then "cy" with `randint`; on square inputs the rows take cy.
fn om_centre(c: &Value) -> [usize; 3] {
    let r = us(&c["randint"]);
    [0, r[1], r[0]]
}

#[test]
fn resizemix_box_matches_openmixup_rand_bbox_tao() {
    for c in cases("om_resizemix_boxes") {
        let s = u(&c["size"]);
        let shape = SampleShape::d2(1, s, s).unwrap();
        let r = rand_bbox_tao(&shape, f(&c["tau"]), om_centre(c));
        assert_eq!(rows_cols(&r).to_vec(), us(&c["box"]), "{c}");
    }
}

#[test]
fn resizemix_paste_matches_openmixup_nearest_and_bilinear() {
    for c in cases("om_resizemix") {
        let (s, b) = (u(&c["size"]), u(&c["b"]));
        let shape = SampleShape::d2(u(&c["c"]), s, s).unwrap();
        let region = rand_bbox_tao(&shape, f(&c["tau"]), om_centre(c));
        assert_eq!(rows_cols(&region).to_vec(), us(&c["box"]), "{c}");
        let lam = 1.0 - region.volume() as f64 / shape.spatial_len() as f64;
        assert!(
            (lam - f(&c["lam"])).abs() <= FLOAT_TOL,
            "lam {lam} vs {}",
            c["lam"]
        );
        let (interp, tol) = match c["mode"].as_str().unwrap() {
            "nearest" => (Interp::Nearest, 0.0),
            "bilinear" => (Interp::Linear, BILINEAR_TOL),
            other => panic!("unknown mode {other}"),
        };
        let p = plan(
            shape,
            us(&c["partner"]),
            vec![SampleWeight::PasteResized { region, interp }; b],
            vec![lam as f32; b],
        );
        let out = apply_to_vec(&p, &f32s(&c["input"])).unwrap();
        assert_close(
            &out,
            &f32s(&c["output"]),
            tol,
            &format!("resizemix {} {}", c["mode"], c["tau"]),
        );
    }
}

#[test]
fn gridmix_mask_matches_openmixup_rand_grid() {
    for c in cases("om_gridmix") {
        let s = u(&c["size"]);
        let shape = SampleShape::d2(1, s, s).unwrap();
        let params = GridParams {
            lam: f(&c["lam"]),
            n_holes: u(&c["n_holes"]),
            hole_aspect_ratio: f(&c["hole_aspect_ratio"]),
            cut_area_ratio: f(&c["cut_area_ratio"]),
            cut_aspect_ratio: f(&c["cut_aspect_ratio"]),
            // OpenMixup's window rows move with its second draw ("cy"), columns with the first ("cx").
            pos: (f(&c["cy"]), f(&c["cx"])),
        };
        let ours = grid_mask(&shape, &params).unwrap();
        let rows = c["partner_mask"].as_array().unwrap();
        assert_eq!(rows.len(), s);
        let mut holes = 0;
        for (y, row) in rows.iter().enumerate() {
            for (x, ch) in row.as_str().unwrap().chars().enumerate() {
                // OpenMixup's mask is 1 where the partner shows; ours is the sample's own weight.
                let want = if ch == '1' { 0.0 } else { 1.0 };
                holes += usize::from(ch == '1');
                assert_eq!(ours[y * s + x], want, "{params:?} at ({y}, {x})");
            }
        }
        assert!(holes > 0, "case without holes proves little: {c}");
        let mean = ours.iter().map(|&v| f64::from(v)).sum::<f64>() / ours.len() as f64;
        assert!(
            (mean - f(&c["lam_out"])).abs() <= FLOAT_TOL,
            "{mean} vs {}",
            c["lam_out"]
        );
    }
}

#[test]
fn maskmix_matches_openmixup_mixpro_mask_mix() {
    for c in cases("om_maskmix") {
        let (s, patch, lam, tokens) =
            (u(&c["size"]), u(&c["patch"]), f(&c["lam"]), u(&c["tokens"]));
        let shape = SampleShape::d2(3, s, s).unwrap();
        assert_eq!(patch_grid(&shape, patch).iter().product::<usize>(), tokens);
        let count = kept_count(tokens, lam);
        assert_eq!(count, u(&c["kept_count"]), "{lam}");
        let ratios = f32s(&c["mask_ratio"]);
        let mut weights = vec![];
        for (i, perm) in c["perms"].as_array().unwrap().iter().enumerate() {
            let mut kept = vec![false; tokens];
            for t in us(perm).into_iter().take(count) {
                kept[t] = true;
            }
            let mask = patch_mask(&shape, patch, &kept).unwrap();
            let mean = mask.iter().map(|&v| f64::from(v)).sum::<f64>() / mask.len() as f64;
            // MixPro reports the patch count ratio; with partial edge patches mixlab reports the
            // realised share instead, and the two agree when the patch divides the size.
            assert!((f64::from(ratios[i]) - count as f64 / tokens as f64).abs() <= FLOAT_TOL);
            if s % patch == 0 {
                assert!(
                    (mean - f64::from(ratios[i])).abs() <= FLOAT_TOL,
                    "{mean} vs {}",
                    ratios[i]
                );
            }
            weights.push(SampleWeight::Mask { mask: mask.into() });
        }
        let b = weights.len();
        let p = plan(shape, us(&c["partner"]), weights, vec![1.0; b]);
        let out = apply_to_vec(&p, &f32s(&c["input"])).unwrap();
        assert_eq!(
            out,
            f32s(&c["output"]),
            "maskmix size {s} patch {patch} λ {lam}"
        );
    }
}
