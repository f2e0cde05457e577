//! Fuzzes the two TOML files a user hands `mixlab`: a benchmark suite (parse, expand into cells, validate
//! every cell as `mixlab bench` does before training) and a run config (`mixlab train --config`: parse,
//! validate, and check that writing it back and re-reading gives the same config, which resume relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_cli::run::{RunConfig, sample_shape};
use mixlab_cli::suite::Suite;

/// Seeds expanded per suite. `Suite::cells` allocates one cell per seed, so the target bounds what a
/// suite's `seeds` may ask for; the unbounded case is covered by a CLI test instead (see README.md).
const MAX_SEEDS: u64 = 4;

fn validate(cfg: &RunConfig) -> bool {
    let Ok(shape) = sample_shape(cfg.dataset) else {
        return false;
    };
    cfg.train
        .validate(&shape, cfg.dataset.task().output_dim())
        .is_ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(suite) = toml::from_str::<Suite>(text) {
        if let Ok(cells) = suite.cells(Some(suite.seeds.clamp(1, MAX_SEEDS))) {
            for c in &cells {
                let _ = validate(&c.config);
            }
        }
    }
    if let Ok(cfg) = toml::from_str::<RunConfig>(text)
        && validate(&cfg)
    {
        let written = cfg.to_toml().expect("a valid run config serialises");
        let back: RunConfig = toml::from_str(&written).expect("a written run config parses");
        assert_eq!(back, cfg, "run config changed on a write/read round trip");
    }
});
