//! Golden parity of TokenMix with the official code (github.com/Sense-X/TokenMix @ 0e17d5dd:
//! `generate_mask` and the label lines of `Mixup.__call__`), from `tools/golden/tokenmix.py`, which
//! records every `random.uniform`/`random.randint` draw of the mask generator. Replaying them, the block
//! masks agree exactly (14×14, λ 0.5, 14 extra tokens); given the reference's label maps, the soft targets
//! agree to 1e-6.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::TokenmixConfig;
use mixlab_core::methods::tokenmix::{BlockDraws, token_targets};
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

/// Feeds the recorded draws back in order, checking that each is the kind the generator asks for.
struct Replay(std::vec::IntoIter<Value>);

impl BlockDraws for Replay {
    fn uniform(&mut self, _lo: f64, _hi: f64) -> f64 {
        let d = self.0.next().unwrap();
        assert_eq!(d[0], "u", "the generator asked for a uniform draw");
        d[1].as_f64().unwrap()
    }
    fn randint(&mut self, _lo: usize, _hi: usize) -> usize {
        let d = self.0.next().unwrap();
        assert_eq!(d[0], "i", "the generator asked for an integer draw");
        d[1].as_u64().unwrap() as usize
    }
}

#[test]
fn tokenmix_masks_and_targets_match_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/tokenmix_golden.json")).unwrap();
    let cfg = TokenmixConfig {
        minimum_tokens: Some(14),
        ..Default::default()
    };
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let draws = c["draws"].as_array().unwrap().clone();
        let mut replay = Replay(draws.into_iter());
        let masked = cfg.block_mask([14, 14], &mut replay);
        assert!(replay.0.next().is_none(), "{name}: draws left over");
        let want: Vec<bool> = f32s(&c["mask"]).iter().map(|&v| v == 1.0).collect();
        assert_eq!(masked, want, "{name}: mask");
        let visible = masked.iter().filter(|&&m| !m).count() as f64 / 196.0;
        assert!(
            (visible - c["lam"].as_f64().unwrap()).abs() < 1e-12,
            "{name}: λ"
        );
        let n = c["n"].as_u64().unwrap() as usize;
        let classes = c["classes"].as_u64().unwrap() as usize;
        // The reference pairs by flipping the batch, and one mask serves the whole batch.
        let partner: Vec<usize> = (0..n).rev().collect();
        let t = token_targets(
            &f32s(&c["maps"]),
            &vec![masked.clone(); n],
            &usizes(&c["labels"]),
            &partner,
            classes,
            0.1,
        )
        .unwrap();
        let err = rel_err(
            &t.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            &f32s(&c["target"]),
        );
        assert!(err < 1e-6, "{name}: targets: {err:e}");
    }
    assert_eq!(names.len(), 6, "{names:?}");
}
