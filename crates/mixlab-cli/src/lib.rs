//! The `mixlab` command's modules as a library: the binary (`main.rs`) is a thin dispatcher over them, and the
//! fuzz targets reach suite and run-config parsing through here.

pub mod bench_cmd;
pub mod datasets_cmd;
pub mod device_cmd;
pub mod download_cmd;
pub mod fsio;
pub mod mixargs;
pub mod plan_cmd;
pub mod plots;
pub mod report_cmd;
pub mod run;
pub mod show_cmd;
pub mod suite;
pub mod train_cmd;
