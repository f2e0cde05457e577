//! Integration tests of mixlab-data: every reader on real fixtures (prefixes of the real datasets, see
//! `fixtures/README.md`), malformed inputs derived from them, and — when `MIXLAB_DATA` is set — the full sets.

#![allow(clippy::unwrap_used)] // tests may unwrap (house rule)

#[path = "cases/common.rs"]
mod common;

#[path = "cases/cifar.rs"]
mod cifar;
#[path = "cases/datasets.rs"]
mod datasets;
mod download;
#[path = "cases/full.rs"]
mod full;
mod fuzz_regressions;
#[path = "cases/idx.rs"]
mod idx;
mod limits;
#[path = "cases/own.rs"]
mod own;
#[path = "cases/tables.rs"]
mod tables;
#[path = "cases/wav.rs"]
mod wav;
