//! `mixlab download`: fetches a dataset from its official address (or a mirror) into a data directory,
//! verified against published sha256 sums, in the layout `mixlab datasets --data-dir DIR` finds.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use mixlab_data::download::{self, Options, Outcome, Set};

/// What to download: one set or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Every set below.
    All,
    /// MNIST (4 IDX .gz files).
    Mnist,
    /// Fashion-MNIST (4 IDX .gz files).
    FashionMnist,
    /// CIFAR-10 binary version (tar.gz, unpacked).
    Cifar10,
    /// CIFAR-100 binary version (tar.gz, unpacked; no loader reads it yet).
    Cifar100,
    /// Free Spoken Digit Dataset (zip of a pinned commit; recordings/ unpacked).
    Fsdd,
    /// UCI Airfoil Self-Noise.
    Airfoil,
    /// LSTNet exchange rates.
    ExchangeRate,
    /// UCI Communities and Crime.
    CommunitiesCrime,
    /// UCI SkillCraft1.
    Skillcraft,
}

impl Which {
    /// The sets it stands for.
    pub fn sets(self) -> Vec<Set> {
        match self {
            Which::All => Set::ALL.to_vec(),
            Which::Mnist => vec![Set::Mnist],
            Which::FashionMnist => vec![Set::FashionMnist],
            Which::Cifar10 => vec![Set::Cifar10],
            Which::Cifar100 => vec![Set::Cifar100],
            Which::Fsdd => vec![Set::Fsdd],
            Which::Airfoil => vec![Set::Airfoil],
            Which::ExchangeRate => vec![Set::ExchangeRate],
            Which::CommunitiesCrime => vec![Set::CommunitiesCrime],
            Which::Skillcraft => vec![Set::Skillcraft],
        }
    }
}

/// Options of `mixlab download`.
#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// Dataset to download, or `all`.
    #[arg(value_enum)]
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
    for set in args.dataset.sets() {
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
        if set.dataset().is_none() {
            crate::fsio::outln(format_args!(
                "{set:<18} note: downloaded and unpacked, but no mixlab loader reads {set} yet"
            ))?;
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
    fn every_choice_is_named_like_its_set() {
        for w in Which::value_variants() {
            let name = w
                .to_possible_value()
                .map(|p| p.get_name().to_string())
                .unwrap_or_default();
            match w {
                Which::All => assert_eq!(w.sets(), Set::ALL.to_vec()),
                _ => assert_eq!(
                    w.sets().iter().map(|s| s.name()).collect::<Vec<_>>(),
                    [name]
                ),
            }
        }
        assert_eq!(Which::value_variants().len(), Set::ALL.len() + 1);
    }
}
