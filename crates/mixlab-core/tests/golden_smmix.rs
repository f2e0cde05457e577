//! Golden parity of SMMix's mixing with the official code (github.com/ChenMnZ/SMMix @ 14b1edcd), from
//! `tools/golden/smmix.py`: for each window side the reference's `SMMix.smmix` (window sums by `unfold`,
//! `argmin`/`argmax`, the token copy from the flipped batch) and mixlab's `mix_tokens` give the same mixed
//! images bit for bit and the same source masks. (The loss lines of its `engine.py` are checked by the
//! Burn strategy's test against the same file.)

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::smmix::mix_tokens;
use mixlab_core::shape::SampleShape;
use serde_json::Value;

mod common;
use common::f32s;

#[test]
fn smmix_mixes_as_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/smmix_golden.json")).unwrap();
    let mut names = Vec::new();
    for c in fx["mixes"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let num = |k: &str| c[k].as_u64().unwrap() as usize;
        let (n, ch, px, side, r) = (
            num("n"),
            num("channels"),
            num("image"),
            num("side"),
            num("r"),
        );
        let shape = SampleShape::d2(ch, px, px).unwrap();
        let clean = f32s(&c["x"]);
        let mut x = clean.clone();
        // The reference pairs by flipping the batch and draws one side for all of it.
        let partner: Vec<usize> = (0..n).rev().collect();
        let source = mix_tokens(
            &mut x,
            &clean,
            &shape,
            px / side,
            &f32s(&c["attention"]),
            &partner,
            &vec![Some(r); n],
        )
        .unwrap();
        assert_eq!(x, f32s(&c["mixed"]), "{name}: mixed images");
        assert_eq!(source, f32s(&c["source"]), "{name}: source masks");
        let changed = source.iter().filter(|&&v| v == 1.0).count();
        assert_eq!(changed, n * r * r, "{name}");
        // The label weight the reference gives: the target image's share of the tokens.
        let lam = c["lam"].as_f64().unwrap();
        assert!((lam - ((side * side - r * r) as f64 / (side * side) as f64)).abs() < 1e-12);
    }
    assert_eq!(names.len(), 5, "{names:?}");
}
