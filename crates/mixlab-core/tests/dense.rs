//! Dense targets through every input-level method's plans: a mask mixed by `dense::mix_masks` must say,
//! at every position the image apply fills from one sample, which sample and which of its positions the
//! mixed pixel came from; boxes follow the regions that survive.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::apply::apply_to_vec;
use mixlab_core::dense::{LabelledBox, mix_boxes, mix_masks, source_map};
use mixlab_core::methods::{Method, MethodConfig};
use mixlab_core::mixer::{BatchInfo, Granularity, MixerConfig};
use mixlab_core::plan::{Interp, MixPlan, Region, SampleWeight};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;

fn plan_for(
    m: &MethodConfig,
    shape: SampleShape,
    batch: usize,
    seed: u64,
    x: &[f32],
) -> Option<MixPlan> {
    if m.validate(&shape).is_err() {
        return None;
    }
    let mixer = MixerConfig::single(m.clone()).with_granularity(Granularity::Elem);
    let info = BatchInfo {
        batch,
        shape,
        epoch: 0,
        data: Some(x),
    };
    Some(
        mixer
            .sample(&info, &mut stream(seed, Purpose::Mix, 0, 0))
            .unwrap(),
    )
}

#[test]
fn masks_follow_the_pixels_of_every_input_level_method() {
    let batch = 6;
    let mut checked = vec![];
    for shape in [
        SampleShape::d1(1, 48).unwrap(),
        SampleShape::d2(1, 16, 16).unwrap(),
        SampleShape::d3(1, 4, 8, 8).unwrap(),
    ] {
        let n = shape.spatial_len();
        // Every pixel encodes (sample, position); masks hold the same code.
        let code = |s: usize, p: usize| (s * n + p) as u32;
        let x: Vec<f32> = (0..batch * n).map(|k| k as f32).collect();
        let masks: Vec<u32> = (0..batch * n).map(|k| k as u32).collect();
        for m in Method::ALL
            .into_iter()
            .filter(|m| m.is_input_level() && *m != Method::None)
        {
            for seed in 0..20 {
                let Some(plan) = plan_for(&m.default_config(), shape, batch, seed, &x) else {
                    continue;
                };
                let mixed = apply_to_vec(&plan, &x).unwrap();
                let mm = mix_masks(&plan, &masks).unwrap();
                for i in 0..batch {
                    let (own, from) = source_map(&plan, i).unwrap();
                    let j = plan.partner[i];
                    let linear = matches!(
                        plan.weights[i],
                        SampleWeight::PasteResized {
                            interp: Interp::Linear,
                            ..
                        }
                    );
                    for p in 0..n {
                        let want = if own[p] >= 0.5 {
                            code(i, p)
                        } else {
                            code(j, from[p])
                        };
                        assert_eq!(
                            mm[i * n + p],
                            want,
                            "{m} {shape} seed {seed} sample {i} pos {p}"
                        );
                        // Where the image takes one sample whole, its pixel is that code.
                        let hard = own[p] == 1.0 || (own[p] == 0.0 && !linear);
                        if hard {
                            assert_eq!(mixed[i * n + p], want as f32, "{m} {shape} seed {seed}");
                        }
                    }
                }
                checked.push(m);
            }
        }
    }
    for m in [
        Method::Mixup,
        Method::Cutmix,
        Method::Fmix,
        Method::Resizemix,
        Method::Maskmix,
    ] {
        assert!(checked.contains(&m), "{m} never ran");
    }
    assert!(
        mix_masks(
            &MixPlan::identity(2, SampleShape::d1(1, 4).unwrap()),
            &[0; 7]
        )
        .is_err()
    );
}

fn one(shape: SampleShape, w: SampleWeight) -> MixPlan {
    MixPlan {
        shape,
        partner: vec![1, 0],
        weights: vec![w, SampleWeight::Keep],
        lam_label: vec![0.5, 1.0],
        method: vec![Method::Cutmix, Method::None],
    }
}

fn whole(class: u32) -> LabelledBox {
    LabelledBox {
        region: Region {
            start: [0, 0, 0],
            end: [1, 8, 8],
        },
        class,
        weight: 1.0,
    }
}

#[test]
fn boxes_are_clipped_to_what_survives_and_weighed() {
    let shape = SampleShape::d2(1, 8, 8).unwrap();
    let cut = Region {
        start: [0, 0, 0],
        end: [1, 4, 8],
    };
    let boxes = vec![vec![whole(1)], vec![whole(2)]];
    // CutMix pastes the top half of the partner: both boxes half visible, each clipped to its half.
    let out = mix_boxes(
        &one(shape, SampleWeight::Paste { region: cut }),
        &boxes,
        0.25,
    )
    .unwrap();
    let b = &out[0];
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].class, b[0].weight), (1, 0.5));
    assert_eq!(
        b[0].region,
        Region {
            start: [0, 4, 0],
            end: [1, 8, 8]
        }
    );
    assert_eq!((b[1].class, b[1].region), (2, cut));
    // A threshold above the visible share drops both.
    assert!(
        mix_boxes(
            &one(shape, SampleWeight::Paste { region: cut }),
            &boxes,
            0.6
        )
        .unwrap()[0]
            .is_empty()
    );
    // ResizeMix shrinks the whole partner into the region: its box becomes the region.
    let r = Region {
        start: [0, 2, 2],
        end: [1, 6, 6],
    };
    let out = mix_boxes(
        &one(
            shape,
            SampleWeight::PasteResized {
                region: r,
                interp: Interp::Linear,
            },
        ),
        &boxes,
        0.1,
    )
    .unwrap();
    assert_eq!(
        (out[0][1].class, out[0][1].region, out[0][1].weight),
        (2, r, 1.0)
    );
    assert_eq!(out[0][0].weight, 0.75);
    // A blend keeps both boxes whole with λ and 1 − λ; the threshold drops the weaker.
    let out = mix_boxes(&one(shape, SampleWeight::Blend { lam: 0.7 }), &boxes, 0.0).unwrap();
    assert_eq!(
        out[0].iter().map(|b| b.class).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!((out[0][1].weight - 0.3).abs() < 1e-6 && out[0][1].region == whole(2).region);
    assert_eq!(
        mix_boxes(&one(shape, SampleWeight::Blend { lam: 0.7 }), &boxes, 0.5).unwrap()[0].len(),
        1
    );
    // The kept sample keeps its own box and gains none.
    assert_eq!(out[1], vec![whole(2)]);
    // Bad input.
    let outside = LabelledBox {
        region: Region {
            start: [0, 0, 0],
            end: [1, 9, 8],
        },
        ..whole(0)
    };
    assert!(
        mix_boxes(
            &one(shape, SampleWeight::Keep),
            &[vec![outside], vec![]],
            0.1
        )
        .is_err()
    );
    assert!(mix_boxes(&one(shape, SampleWeight::Keep), &boxes, 1.5).is_err());
    assert!(mix_boxes(&one(shape, SampleWeight::Keep), &boxes[..1], 0.5).is_err());
}
