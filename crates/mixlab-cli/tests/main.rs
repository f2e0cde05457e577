//! Integration tests of the `mixlab` binary, run as one test binary (one link, shared helpers).

mod bench;
mod common;
mod datasets;
mod download;
mod errors;
mod malformed;
mod model_in_loop;
mod plan;
mod representation;
mod resume;
mod show;
mod train;
