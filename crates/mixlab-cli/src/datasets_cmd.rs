//! `mixlab datasets`: the known datasets and whether each is found in the data directory.

use anyhow::Result;
use clap::Args;
use mixlab_data::{DataDir, status};
use std::path::PathBuf;

/// Options of `mixlab datasets`.
#[derive(Args, Debug)]
pub struct DatasetsArgs {
    /// Data directory (default: $MIXLAB_DATA, then the embedded sets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: &DatasetsArgs) -> Result<()> {
    let dir = DataDir::resolve(args.data_dir.as_deref());
    match dir.root() {
        Some(root) => crate::fsio::outln(format_args!(
            "data directory: {} ({:?})",
            root.display(),
            dir.origin()
        ))?,
        None => crate::fsio::outln(format_args!(
            "data directory: none (set --data-dir or MIXLAB_DATA); embedded sets only"
        ))?,
    }
    crate::fsio::outln(format_args!(
        "{:<18} {:<15} {:<8} where",
        "dataset", "task", "found"
    ))?;
    for s in status(&dir) {
        let task = match s.id.task() {
            mixlab_data::Task::Classification { classes } => format!("{classes}-class"),
            mixlab_data::Task::Regression { outputs } => format!("regression/{outputs}"),
        };
        let found = if s.location.is_found() { "yes" } else { "no" };
        crate::fsio::outln(format_args!(
            "{:<18} {:<15} {:<8} {}",
            s.id.name(),
            task,
            found,
            s.location
        ))?;
    }
    Ok(())
}
