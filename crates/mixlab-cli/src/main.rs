//! The `mixlab` command: a thin binary over the library crates.
//!
//! `main` returns an exit code; every failure is printed once, as one line with its cause chain.

mod datasets_cmd;
mod fsio;
mod mixargs;
mod plan_cmd;
mod plots;
mod show_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mixlab: mixup-family data augmentation toolbox and benchmark.
#[derive(Parser, Debug)]
#[command(name = "mixlab", version, about, long_about = None)]
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
    /// List the known datasets and whether each is found.
    Datasets(datasets_cmd::DatasetsArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Plan(a)) => plan_cmd::run(&a),
        Some(Command::Show(a)) => show_cmd::run(&a),
        Some(Command::Datasets(a)) => datasets_cmd::run(&a),
        None => anyhow::bail!("no command given; see `mixlab --help`"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
