//! `mixlab download`: fetches a dataset from its official address (or a mirror) into a data directory,
//! verified against published sha256 sums, in the layout `mixlab datasets --data-dir DIR` finds.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use clap::builder::TypedValueParser;
use mixlab_data::download::{self, Options, Outcome, Set};

/// What to download: one set or all of them (`all`), named as the data crate names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Which(pub Vec<Set>);

/// Accepts `all`, every set's name and the dataset names that share a set (`cifar100-coarse`), and
/// lists them in `--help`.
fn which_parser() -> impl clap::builder::TypedValueParser<Value = Which> {
    let names: Vec<&'static str> = std::iter::once("all")
        .chain(Set::ALL.iter().map(|s| s.name()))
        .chain(Set::ALIASES.iter().map(|(alias, _)| *alias))
        .collect();
    clap::builder::PossibleValuesParser::new(names).map(|name| match Set::for_name(&name) {
        Some(set) => Which(vec![set]),
        None => Which(Set::ALL.to_vec()),
    })
}

/// Options of `mixlab download`.
#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// Dataset to download, or `all`.
    #[arg(value_parser = which_parser())]
    pub dataset: Which,
    /// Data directory to download into; each set goes to its usual folder inside it (mnist/, cifar10/, …).
    #[arg(long)]
    pub to: PathBuf,
    /// Base URL replacing the official hosts: file F of set S is fetched from URL/S/F, checked against the
    /// official sums (default: $MIXLAB_MIRROR, else the official addresses).
    #[arg(long)]
    pub mirror: Option<String>,
    /// How often a transfer that broke off is resumed before giving up (a later run resumes it too).
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
}

/// Runs the command: one line per file, printed as the file starts and finished when it is verified.
pub fn run(args: &DownloadArgs) -> Result<()> {
    let opts = Options::default()
        .with_mirror(Options::mirror_from(args.mirror.as_deref()))
        .with_retries(args.retries);
    opts.validate()?;
    for &set in &args.dataset.0 {
        let folder = args.to.join(set.folder());
        for remote in set.remotes() {
            crate::fsio::out(format_args!(
                "{set:<18} {:<52} ",
                remote.source_url(opts.mirror.as_deref())
            ))?;
            // The line is finished when the file is done; show its start now.
            let _ = std::io::stdout().flush();
            let got = download::fetch(&remote, &folder, &opts).inspect_err(|_| {
                // Finishes the progress line; the error itself follows on stderr.
                let _ = crate::fsio::outln(format_args!("failed"));
            });
            let got = got.with_context(|| format!("download {set}"))?;
            let check = match (
                &remote.sha256,
                remote.unpack.as_ref().and_then(|u| u.tree.as_ref()),
            ) {
                (Some(_), _) => "sha256 ok",
                (None, Some(_)) => "sha256 of the unpacked files ok",
                (None, None) => "",
            };
            match got.outcome {
                Outcome::Present => {
                    crate::fsio::outln(format_args!("already present ({})", got.path.display()))?
                }
                Outcome::Downloaded {
                    bytes,
                    resumed_from,
                } => {
                    let resumed = if resumed_from > 0 {
                        format!(", resumed at {resumed_from} bytes")
                    } else {
                        String::new()
                    };
                    let unpacked = if got.unpacked > 0 {
                        format!(", {} entries unpacked", got.unpacked)
                    } else {
                        String::new()
                    };
                    crate::fsio::outln(format_args!(
                        "{bytes} bytes{resumed}, {check}{unpacked} -> {}",
                        got.path.display()
                    ))?;
                }
            }
        }
    }
    crate::fsio::outln(format_args!(
        "done; check with: mixlab datasets --data-dir {}",
        args.to.display()
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_their_sets_and_all_to_every_set() {
        let cmd = clap::Command::new("t");
        let parse = |v: &str| which_parser().parse_ref(&cmd, None, std::ffi::OsStr::new(v));
        assert_eq!(parse("all").unwrap(), Which(Set::ALL.to_vec()));
        for set in Set::ALL {
            assert_eq!(parse(set.name()).unwrap(), Which(vec![set]));
        }
        assert!(parse("cifar-100").is_err() && parse("").is_err());
    }
}
