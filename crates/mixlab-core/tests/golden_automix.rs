//! Golden parity of AutoMix's momentum schedule with OpenMixup's `CosineScheduleHook` (AutoMix's CIFAR
//! config: base 0.999, end 0.999999, `adjust_scope = [0.1, 1.0]`, constant warm-up), from
//! `tools/golden/automix.py`. (The MixBlock and its mask loss are checked by the Burn strategy's test
//! against the same file.)

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::AutomixConfig;
use serde_json::Value;

#[test]
fn the_momentum_schedule_matches_the_reference_hook() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/automix_golden.json")).unwrap();
    let s = &fx["schedule"];
    let total = s["total"].as_u64().unwrap() as usize;
    let cfg = AutomixConfig::default();
    assert_eq!(cfg.momentum, s["base"].as_f64().unwrap());
    assert_eq!(cfg.end_momentum, s["end"].as_f64().unwrap());
    let values = s["values"].as_array().unwrap();
    assert_eq!(values.len(), 10);
    for v in values {
        let (it, want) = (v[0].as_u64().unwrap() as usize, v[1].as_f64().unwrap());
        let got = cfg.momentum_at(it, total);
        assert!((got - want).abs() < 1e-15, "iter {it}: {got} vs {want}");
    }
}
