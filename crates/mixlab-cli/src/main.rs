//! The `mixlab` command: a thin binary over the library crates.
//!
//! `main` returns an exit code; every failure is printed once, as one line with its cause chain.

use clap::{Parser, Subcommand};
use mixlab_cli::{
    bench_cmd, datasets_cmd, device_cmd, download_cmd, plan_cmd, report_cmd, show_cmd, train_cmd,
};
use std::process::ExitCode;

/// mixlab: mixup-family data augmentation toolbox and benchmark.
///
/// Without a command, runs the quick benchmark suite (`mixlab bench --suite quick`).
#[derive(Parser, Debug)]
#[command(
    name = "mixlab",
    version,
    about = "mixlab: mixup-family data augmentation toolbox and benchmark.\nWithout a command it runs the quick benchmark suite (mixlab bench --suite quick).",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sample one batch's mix plan and print it as JSON.
    Plan(plan_cmd::PlanArgs),
    /// Draw original / partner / mixed samples of a real dataset into a PNG.
    Show(show_cmd::ShowArgs),
    /// Train a model with a mixing method and evaluate it (accuracy, calibration) into a folder.
    Train(Box<train_cmd::TrainArgs>),
    /// Run a benchmark suite (methods × datasets × seeds) and write mean ± std tables and plots.
    Bench(bench_cmd::BenchArgs),
    /// Merge finished bench cells (also from several shards) into tables and plots.
    Report(report_cmd::ReportArgs),
    /// List the known datasets and whether each is found.
    Datasets(datasets_cmd::DatasetsArgs),
    /// Download a dataset (or all) from its official address, sha256-verified, into a data directory.
    Download(download_cmd::DownloadArgs),
    /// Check that a GPU build's device computes what the CPU computes (apply, loss, every model).
    DeviceCheck(device_cmd::DeviceCheckArgs),
}

/// Keeps glibc's malloc from handing each step's large tensor buffers back to the kernel.
///
/// By default glibc serves blocks over 128 KiB with fresh mmaps and trims its heap at 128 KiB of free
/// space, so every training step faults in and zeroes its activation buffers anew: on a vit-tiny step a
/// fifth of the wall time, most of it in the kernel. Raising the mmap threshold to glibc's maximum
/// (32 MiB) and the trim threshold to 1 GiB lets freed buffers be reused. Numbers are unaffected. A user
/// who sets `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_` or `GLIBC_TUNABLES` keeps their choice.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_malloc() {
    let user_set = [
        "MALLOC_MMAP_THRESHOLD_",
        "MALLOC_TRIM_THRESHOLD_",
        "GLIBC_TUNABLES",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some());
    if user_set {
        return;
    }
    // SAFETY: mallopt only sets allocator parameters; it is called once, first thing in `main`, before
    // any other thread exists. A refused value (return 0) leaves glibc's default, which is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Plan(a)) => plan_cmd::run(&a),
        Some(Command::Show(a)) => show_cmd::run(&a),
        Some(Command::Datasets(a)) => datasets_cmd::run(&a),
        Some(Command::Download(a)) => download_cmd::run(&a),
        Some(Command::Train(a)) => train_cmd::run(&a),
        Some(Command::Bench(a)) => bench_cmd::run(&a),
        Some(Command::Report(a)) => report_cmd::run(&a),
        Some(Command::DeviceCheck(a)) => device_cmd::run(&a),
        // With no command mixlab runs its main job: the quick benchmark suite on the embedded data.
        None => bench_cmd::run(&bench_cmd::BenchArgs::default()),
    }
}

fn main() -> ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line whatever the causes hold (parsers and the OS sometimes put newlines in theirs).
            let text = format!("{e:#}");
            let line: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("error: {}", line.join("; "));
            ExitCode::FAILURE
        }
    }
}
