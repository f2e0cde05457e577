//! Integration tests of the `mixlab` binary, run as one test binary (one link, shared helpers).

mod bench;
mod common;
mod datasets;
mod errors;
mod plan;
mod resume;
mod show;
mod train;
