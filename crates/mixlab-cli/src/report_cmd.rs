//! `mixlab report DIR`: merges every finished cell under `DIR/cells/` (from one run or many shards) into
//! mean ± std tables (`results.md`, `results.csv`, `results.json`) and PNG plots under `DIR/plots/`.
//!
//! Standard deviations are sample standard deviations over seeds (n − 1 in the denominator); Δ is the
//! mean difference to the `none` row of the same experiment, paired by seed (same split, label noise and
//! initialisation), with a 95 % Student-t interval.

use crate::fsio::write_atomic;
use crate::plots::{Curve, Estimate, RelBin, dot_whisker, line_chart, reliability};
use crate::run::RunConfig;
use crate::show_cmd::{mix_real_batch, render};
use anyhow::{Context, Result};
use clap::Args;
use mixlab_core::stats::{PairedDiff, paired_diff, t_quantile};
use mixlab_data::DataDir;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of `mixlab report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Benchmark folder (holding `cells/`).
    pub dir: PathBuf,
    /// Data directory for the mixed-sample grids (default: $MIXLAB_DATA, then the embedded sets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// A metric column: result key, header, and whether higher is better.
struct Metric {
    key: &'static str,
    header: &'static str,
    higher_better: bool,
}

const CLASS_METRICS: [Metric; 9] = [
    Metric {
        key: "acc",
        header: "acc ↑",
        higher_better: true,
    },
    Metric {
        key: "acc_last10",
        header: "acc, median of last 10 ↑",
        higher_better: true,
    },
    Metric {
        key: "nll",
        header: "NLL ↓",
        higher_better: false,
    },
    Metric {
        key: "brier",
        header: "Brier ↓",
        higher_better: false,
    },
    Metric {
        key: "ece15",
        header: "ECE₁₅ ↓",
        higher_better: false,
    },
    Metric {
        key: "ece15_ts",
        header: "ECE₁₅ after TS ↓",
        higher_better: false,
    },
    Metric {
        key: "temperature",
        header: "T",
        higher_better: false,
    },
    Metric {
        key: "nc1",
        header: "NC1 (train)",
        higher_better: false,
    },
    Metric {
        key: "train_acc",
        header: "train acc (own labels)",
        higher_better: false,
    },
];

const REG_METRICS: [Metric; 3] = [
    Metric {
        key: "rmse",
        header: "RMSE ↓",
        higher_better: false,
    },
    Metric {
        key: "mae",
        header: "MAE ↓",
        higher_better: false,
    },
    Metric {
        key: "mape",
        header: "MAPE % ↓",
        higher_better: false,
    },
];

const RETRIEVAL_METRICS: [Metric; 5] = [
    Metric {
        key: "r1",
        header: "R@1 ↑",
        higher_better: true,
    },
    Metric {
        key: "r2",
        header: "R@2 ↑",
        higher_better: true,
    },
    Metric {
        key: "r4",
        header: "R@4 ↑",
        higher_better: true,
    },
    Metric {
        key: "r8",
        header: "R@8 ↑",
        higher_better: true,
    },
    Metric {
        key: "uniformity",
        header: "uniformity",
        higher_better: false,
    },
];

const CONTINUAL_METRICS: [Metric; 3] = [
    Metric {
        key: "avg_acc",
        header: "average acc ↑",
        higher_better: true,
    },
    Metric {
        key: "forgetting",
        header: "forgetting ↓",
        higher_better: false,
    },
    Metric {
        key: "acc",
        header: "acc, all classes ↑",
        higher_better: true,
    },
];

const CROSS_METRICS: [Metric; 7] = [
    Metric {
        key: "r1",
        header: "R@1 a→b ↑",
        higher_better: true,
    },
    Metric {
        key: "r8",
        header: "R@8 a→b ↑",
        higher_better: true,
    },
    Metric {
        key: "b2a_r1",
        header: "R@1 b→a ↑",
        higher_better: true,
    },
    Metric {
        key: "b2a_r8",
        header: "R@8 b→a ↑",
        higher_better: true,
    },
    Metric {
        key: "alignment",
        header: "alignment",
        higher_better: false,
    },
    Metric {
        key: "uniformity_a",
        header: "uniformity a",
        higher_better: false,
    },
    Metric {
        key: "uniformity_b",
        header: "uniformity b",
        higher_better: false,
    },
];

/// Metrics shown in percent.
fn is_percent(key: &str) -> bool {
    matches!(
        key,
        "acc"
            | "avg_acc"
            | "forgetting"
            | "acc_last10"
            | "train_acc"
            | "r1"
            | "r2"
            | "r4"
            | "r8"
            | "b2a_r1"
            | "b2a_r2"
            | "b2a_r4"
            | "b2a_r8"
    )
}

/// Descriptive metrics: reported, never bolded as "best".
fn is_descriptive(key: &str) -> bool {
    matches!(
        key,
        "temperature"
            | "nc1"
            | "train_acc"
            | "uniformity"
            | "alignment"
            | "uniformity_a"
            | "uniformity_b"
    )
}

/// Per method, per metric: mean, sample std and count (None where no cell reported the metric).
type Stats = Vec<Vec<Option<(f64, f64, usize)>>>;
/// Methods of one experiment in suite order, each with its finished cells.
type MethodCells<'a> = Vec<(String, Vec<&'a CellResult>)>;

/// One finished cell as read back from disk.
struct CellResult {
    index: u64,
    experiment: String,
    label: String,
    config: RunConfig,
    result: Value,
}

/// Epochs in OpenMixup's "median of the last 10 epochs" protocol.
const LAST_EPOCHS: usize = 10;

/// A metric of a cell's result: test-set numbers, NC1 from the neural-collapse record, and the median test
/// accuracy of the last 10 epochs that evaluated the test split.
fn metric_value(result: &Value, key: &str) -> Option<f64> {
    match key {
        "nc1" => result["collapse"]["nc1"].as_f64(),
        "acc_last10" => {
            let accs: Vec<f64> = result["curve"]
                .as_array()?
                .iter()
                .filter_map(|r| r["test"]["acc"].as_f64())
                .collect();
            median(&accs[accs.len().saturating_sub(LAST_EPOCHS)..])
        }
        _ => result["test"][key].as_f64(),
    }
}

/// Median (mean of the middle two for an even count); `None` when empty.
fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

/// The seeds that pair two cells: the run seed and the data seed (split, label noise).
fn pair_key(c: &CellResult) -> (u64, u64) {
    (c.config.train.seed, c.config.data_seed)
}

/// Δ of `key` between `cells` and the `none` cells of the same seeds, with its 95 % t-interval; `None`
/// when no seed has both.
fn paired_vs_none(cells: &[&CellResult], none: &[&CellResult], key: &str) -> Option<PairedDiff> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for c in cells {
        let partner = none.iter().find(|n| pair_key(n) == pair_key(c));
        if let (Some(x), Some(y)) = (
            metric_value(&c.result, key),
            partner.and_then(|n| metric_value(&n.result, key)),
        ) {
            a.push(x);
            b.push(y);
        }
    }
    if a.is_empty() {
        return None;
    }
    paired_diff(&a, &b, CONFIDENCE).ok()
}

/// A paired Δ as text: percentage points for percent metrics, with its interval when there is one.
fn delta_text(key: &str, d: &PairedDiff) -> String {
    let scale = if is_percent(key) { 100.0 } else { 1.0 };
    let digits = if is_percent(key) { 2 } else { 4 };
    let v = |x: f64| format!("{:+.*}", digits, scale * x);
    match d.interval() {
        Some((lo, hi)) => format!("{} [{}, {}]", v(d.mean), v(lo), v(hi)),
        None => format!("{} (1 pair)", v(d.mean)),
    }
}

/// The "CI excludes 0" column.
fn excludes_text(d: Option<&PairedDiff>) -> &'static str {
    match d.and_then(PairedDiff::excludes_zero) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

/// Level of every interval in the report.
const CONFIDENCE: f64 = 0.95;

/// Mean and sample standard deviation.
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, s)
}

fn read_cells(dir: &Path) -> Result<(Vec<CellResult>, Vec<String>)> {
    let cells_dir = dir.join("cells");
    let mut found = Vec::new();
    let mut unfinished = Vec::new();
    let entries = std::fs::read_dir(&cells_dir)
        .with_context(|| format!("{} has no cells/ folder", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    paths.sort();
    for p in paths {
        let id = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result_path = p.join("result.json");
        if !result_path.exists() {
            unfinished.push(id);
            continue;
        }
        let meta: Value = serde_json::from_str(
            &std::fs::read_to_string(p.join("cell.json"))
                .with_context(|| format!("{}: cell.json missing", p.display()))?,
        )
        .with_context(|| format!("{}/cell.json is not valid JSON", p.display()))?;
        let config = RunConfig::read(&p.join("config.toml"))?;
        let result: Value = serde_json::from_str(&std::fs::read_to_string(&result_path)?)
            .with_context(|| format!("{} is not valid JSON", result_path.display()))?;
        found.push(CellResult {
            index: meta["index"].as_u64().unwrap_or(u64::MAX),
            experiment: meta["experiment"].as_str().unwrap_or("?").to_string(),
            label: meta["label"].as_str().unwrap_or("?").to_string(),
            config,
            result,
        });
    }
    found.sort_by_key(|c| c.index);
    Ok((found, unfinished))
}

/// Writes results.{md,csv,json} and plots for `dir`; returns the Markdown tables. `data` is where the
/// mixed-sample grids read their images (a grid whose data is missing is skipped with a note).
pub fn report(dir: &Path, data: &DataDir, quiet: bool) -> Result<String> {
    let (cells, unfinished) = read_cells(dir)?;
    // experiment -> method label (in first-seen order) -> cells
    let mut groups: Vec<(String, MethodCells)> = Vec::new();
    for c in &cells {
        if !groups.iter().any(|(e, _)| *e == c.experiment) {
            groups.push((c.experiment.clone(), Vec::new()));
        }
        let Some((_, g)) = groups.iter_mut().find(|(e, _)| *e == c.experiment) else {
            continue;
        };
        match g.iter_mut().find(|(l, _)| *l == c.label) {
            Some((_, v)) => v.push(c),
            None => g.push((c.label.clone(), vec![c])),
        }
    }
    let mut md = String::new();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "experiment",
        "dataset",
        "model",
        "method",
        "metric",
        "n",
        "mean",
        "std",
        "pairs_vs_none",
        "delta_vs_none",
        "delta_ci95_lo",
        "delta_ci95_hi",
        "ci_excludes_zero",
    ])?;
    let mut json_rows = Vec::new();
    writeln!(md, "# mixlab benchmark results\n")?;
    writeln!(
        md,
        "{} finished cells{}. Mean ± sample std over seeds; Δ = mean of the per-seed differences to `none` (paired by run and data seed) with its 95% Student-t interval; best mean per column in bold; `acc, median of last 10` is OpenMixup's protocol (median test top-1 of the last 10 epochs), `acc` the final epoch's. \
         ECE: 15 equal-width bins, a sample with confidence c falls in bin (b/15, (b+1)/15] (gpleiss's rule); TS = temperature scaling fitted on the validation split.\n",
        cells.len(),
        if unfinished.is_empty() {
            String::new()
        } else {
            format!(
                ", {} unfinished ({})",
                unfinished.len(),
                unfinished.join(", ")
            )
        }
    )?;
    for (exp, methods) in &groups {
        let first = &methods[0].1[0];
        let regression = first.result["task"] == "regression";
        let cross = first.result["task"] == "cross-modal";
        let retrieval = first.result["task"] == "retrieval";
        let metrics: &[Metric] = if regression {
            &REG_METRICS
        } else if first.result["task"] == "continual" {
            &CONTINUAL_METRICS
        } else if cross {
            &CROSS_METRICS
        } else if retrieval {
            &RETRIEVAL_METRICS
        } else {
            &CLASS_METRICS
        };
        let cfg = &first.config;
        writeln!(
            md,
            "## {exp}\n\n{} · {} · {} epochs · batch {} · lr {} · seeds per method: {}\n",
            cfg.dataset,
            cfg.train.model.name(),
            cfg.train.epochs,
            cfg.train.batch_size,
            cfg.train.lr,
            methods
                .iter()
                .map(|(_, v)| v.len().to_string())
                .collect::<Vec<_>>()
                .join("/")
        )?;
        // stats[method][metric] = (mean, std, n)
        let stats: Stats = methods
            .iter()
            .map(|(_, cs)| {
                metrics
                    .iter()
                    .map(|m| {
                        let v: Vec<f64> = cs
                            .iter()
                            .filter_map(|c| metric_value(&c.result, m.key))
                            .collect();
                        (!v.is_empty()).then(|| {
                            let (a, b) = mean_std(&v);
                            (a, b, v.len())
                        })
                    })
                    .collect()
            })
            .collect();
        let none_idx = methods.iter().position(|(l, _)| l == "none");
        let best: Vec<Option<usize>> = (0..metrics.len())
            .map(|k| {
                if is_descriptive(metrics[k].key) {
                    return None;
                }
                let mut best: Option<(usize, f64)> = None;
                for (i, s) in stats.iter().enumerate() {
                    if let Some((m, _, _)) = s[k] {
                        let better = match best {
                            None => true,
                            Some((_, b)) => {
                                if metrics[k].higher_better {
                                    m > b
                                } else {
                                    m < b
                                }
                            }
                        };
                        if better {
                            best = Some((i, m));
                        }
                    }
                }
                best.map(|(i, _)| i)
            })
            .collect();
        let primary = 0;
        let none_cells: Vec<&CellResult> =
            none_idx.map(|n| methods[n].1.clone()).unwrap_or_default();
        // paired[method][metric]: Δ to `none` over the seeds both have.
        let paired: Vec<Vec<Option<PairedDiff>>> = methods
            .iter()
            .enumerate()
            .map(|(i, (_, cs))| {
                metrics
                    .iter()
                    .map(|m| {
                        (Some(i) != none_idx)
                            .then(|| paired_vs_none(cs, &none_cells, m.key))
                            .flatten()
                    })
                    .collect()
            })
            .collect();
        write!(md, "| method |")?;
        for m in metrics {
            write!(md, " {} |", m.header)?;
        }
        writeln!(
            md,
            " Δ{} vs none, paired (95% CI) | CI excludes 0 |",
            metrics[primary].key
        )?;
        writeln!(md, "|---|{}---|---|", "---|".repeat(metrics.len()))?;
        for (i, (label, _)) in methods.iter().enumerate() {
            write!(md, "| {label} |")?;
            for (k, m) in metrics.iter().enumerate() {
                let cell = match stats[i][k] {
                    Some((mean, std, _)) => {
                        let text = if is_percent(m.key) {
                            format!("{:.2} ± {:.2}", 100.0 * mean, 100.0 * std)
                        } else {
                            format!("{mean:.4} ± {std:.4}")
                        };
                        if best[k] == Some(i) {
                            format!("**{text}**")
                        } else {
                            text
                        }
                    }
                    None => "–".into(),
                };
                write!(md, " {cell} |")?;
            }
            let d = paired[i][primary];
            writeln!(
                md,
                " {} | {} |",
                d.map_or("–".into(), |d| delta_text(metrics[primary].key, &d)),
                excludes_text(d.as_ref())
            )?;
            for (k, m) in metrics.iter().enumerate() {
                if let Some((mean, std, n)) = stats[i][k] {
                    let d = paired[i][k];
                    let (lo, hi) = d.and_then(|d| d.interval()).unzip();
                    csv.write_record([
                        exp.as_str(),
                        &cfg.dataset.to_string(),
                        cfg.train.model.name(),
                        label,
                        m.key,
                        &n.to_string(),
                        &mean.to_string(),
                        &std.to_string(),
                        &d.map(|d| d.n.to_string()).unwrap_or_default(),
                        &d.map(|d| d.mean.to_string()).unwrap_or_default(),
                        &lo.map(|v| v.to_string()).unwrap_or_default(),
                        &hi.map(|v| v.to_string()).unwrap_or_default(),
                        &d.and_then(|d| d.excludes_zero())
                            .map(|v| v.to_string())
                            .unwrap_or_default(),
                    ])?;
                    json_rows.push(json!({"experiment": exp, "dataset": cfg.dataset, "model": cfg.train.model.name(),
                        "method": label, "metric": m.key, "n": n, "mean": mean, "std": std,
                        "paired_vs_none": d.map(|d| json!({"pairs": d.n, "delta": d.mean, "sd": d.sd,
                            "ci95": d.interval().map(|(lo, hi)| [lo, hi]), "excludes_zero": d.excludes_zero()}))}));
                }
            }
        }
        // Every judged metric, paired: calibration differences are what mixing is said to change most.
        let judged: Vec<usize> = (0..metrics.len())
            .filter(|&k| !is_descriptive(metrics[k].key) && k != primary)
            .collect();
        if none_idx.is_some() && methods.len() > 1 && !judged.is_empty() {
            writeln!(
                md,
                "\nPaired Δ to `none` (same seed: same split, noise and initialisation), mean [95% t-interval]; * where the interval excludes 0.\n"
            )?;
            write!(md, "| method |")?;
            for &k in &judged {
                write!(md, " Δ {} |", metrics[k].header)?;
            }
            writeln!(md, "\n|---|{}", "---|".repeat(judged.len()))?;
            for (i, (label, _)) in methods.iter().enumerate() {
                if Some(i) == none_idx {
                    continue;
                }
                write!(md, "| {label} |")?;
                for &k in &judged {
                    let text = paired[i][k].map_or("–".into(), |d| {
                        let star = if d.excludes_zero() == Some(true) {
                            " *"
                        } else {
                            ""
                        };
                        format!("{}{star}", delta_text(metrics[k].key, &d))
                    });
                    write!(md, " {text} |")?;
                }
                writeln!(md)?;
            }
        }
        if cross {
            writeln!(
                md,
                "\nCross-modal retrieval on the test splits: a = {} embedded by tower a, b = {} by tower b; a query retrieves the other modality and hits when the class matches. Recall in %; Δ to `none`, plain CLIP without the m²-mix term. Alignment: mean ‖f(a) − g(b)‖² over same-class test pairs; uniformity: log E exp(−2‖u−v‖²) within each modality (Wang & Isola; lower = better aligned / more spread), never bolded.",
                cfg.dataset,
                cfg.paired
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "?".into())
            )?;
        } else if retrieval {
            let r = &first.result["test"];
            writeln!(
                md,
                "\nRecall@K in %, on the test split's held-out classes {}–{} (each query against the rest of them; trained on classes 0–{}); Δ in percentage points to `none`, the same loss without mixing. Uniformity: Wang & Isola's log E exp(−2‖u−v‖²) of the test embeddings (lower = more spread), never bolded.",
                r["train_classes"],
                r["classes"].as_u64().unwrap_or(1).saturating_sub(1),
                r["train_classes"].as_u64().unwrap_or(1).saturating_sub(1)
            )?;
        } else if regression {
            writeln!(
                md,
                "\nAcc is not defined for regression; the test metrics are those of the best-validation epoch. MAPE skips targets with |y| < 1e-8."
            )?;
        } else {
            writeln!(md, "\nacc in %, Δacc in percentage points.")?;
        }
        writeln!(md)?;
        let plot_dir = dir.join("plots").join(exp);
        plots_for(
            exp,
            methods,
            metrics,
            &stats,
            &plot_dir,
            data,
            if first.result["task"] == "continual" {
                Task::Continual
            } else {
                task_of(regression, retrieval || cross)
            },
        )
        .with_context(|| format!("plots for {exp}"))?;
        writeln!(md, "Plots: `plots/{exp}/`\n")?;
    }
    write_atomic(&dir.join("results.md"), md.as_bytes())?;
    let csv = csv.into_inner().context("writing the CSV table")?;
    write_atomic(&dir.join("results.csv"), &csv)?;
    let all = json!({"cells": cells.len(), "unfinished": unfinished, "rows": json_rows,
        "raw": cells.iter().map(|c| json!({"experiment": c.experiment, "method": c.label, "seed": c.config.train.seed, "test": c.result["test"]})).collect::<Vec<_>>()});
    write_atomic(
        &dir.join("results.json"),
        serde_json::to_string_pretty(&all)?.as_bytes(),
    )?;
    if !quiet {
        eprintln!("report: {}", dir.join("results.md").display());
    }
    Ok(md)
}

/// What an experiment's cells predict, for the plots.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Task {
    Classification,
    Regression,
    Retrieval,
    /// Online class-incremental: the average accuracy over tasks.
    Continual,
}

fn task_of(regression: bool, retrieval: bool) -> Task {
    match (regression, retrieval) {
        (true, _) => Task::Regression,
        (_, true) => Task::Retrieval,
        _ => Task::Classification,
    }
}

fn plots_for(
    exp: &str,
    methods: &[(String, Vec<&CellResult>)],
    metrics: &[Metric],
    stats: &Stats,
    plot_dir: &Path,
    data: &DataDir,
    task: Task,
) -> Result<()> {
    let regression = task == Task::Regression;
    // Mean ± 95 % t-interval of the mean over seeds (one seed: the dot alone).
    let points = |k: usize, scale: f64| -> Vec<Estimate> {
        methods
            .iter()
            .zip(stats)
            .filter_map(|((l, _), s)| {
                s[k].map(|(m, sd, n)| {
                    let h = if n > 1 {
                        t_quantile(0.5 + CONFIDENCE / 2.0, (n - 1) as f64).unwrap_or(f64::NAN) * sd
                            / (n as f64).sqrt()
                    } else {
                        0.0
                    };
                    Estimate {
                        label: l.clone(),
                        mean: m * scale,
                        lo: (m - h) * scale,
                        hi: (m + h) * scale,
                    }
                })
            })
            .collect()
    };
    // The dashed line marks the `none` mean.
    let reference = |k: usize, scale: f64| -> Option<f64> {
        methods
            .iter()
            .zip(stats)
            .find(|((l, _), _)| l == "none")
            .and_then(|(_, s)| s[k].map(|(m, _, _)| m * scale))
    };
    let seeds = methods.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    let what = format!("mean, 95% interval over {seeds} seeds");
    if regression {
        dot_whisker(
            &plot_dir.join("rmse.png"),
            &format!("{exp}: test RMSE ({what})"),
            "RMSE",
            &points(0, 1.0),
            reference(0, 1.0),
        )?;
    } else if matches!(task, Task::Retrieval | Task::Continual) {
        let (file, what_is, axis) = match task {
            Task::Retrieval => ("recall.png", "test Recall@1", "Recall@1 %"),
            _ => ("accuracy.png", "average accuracy over tasks", "accuracy %"),
        };
        dot_whisker(
            &plot_dir.join(file),
            &format!("{exp}: {what_is} ({what})"),
            axis,
            &points(0, 100.0),
            reference(0, 100.0),
        )?;
    } else {
        dot_whisker(
            &plot_dir.join("accuracy.png"),
            &format!("{exp}: test accuracy ({what})"),
            "accuracy %",
            &points(0, 100.0),
            reference(0, 100.0),
        )?;
        let ece = metrics.iter().position(|m| m.key == "ece15").unwrap_or(3);
        let ece_ts = metrics
            .iter()
            .position(|m| m.key == "ece15_ts")
            .unwrap_or(4);
        let mut both = Vec::new();
        for (b, a) in points(ece, 1.0).into_iter().zip(points(ece_ts, 1.0)) {
            both.push(b);
            both.push(Estimate {
                label: format!("{}+TS", a.label),
                ..a
            });
        }
        dot_whisker(
            &plot_dir.join("ece.png"),
            &format!("{exp}: test ECE₁₅ before / after TS ({what})"),
            "ECE",
            &both,
            reference(ece, 1.0),
        )?;
    }
    // Learning curves: validation accuracy (or RMSE) per epoch, mean ± std over seeds.
    let key = if regression { "rmse" } else { "acc" };
    let curves: Vec<Curve> = methods
        .iter()
        .map(|(label, cs)| {
            let epochs = cs
                .iter()
                .map(|c| c.result["curve"].as_array().map_or(0, |a| a.len()))
                .min()
                .unwrap_or(0);
            let points = (0..epochs)
                .map(|e| {
                    let v: Vec<f64> = cs
                        .iter()
                        .filter_map(|c| c.result["curve"][e]["val"][key].as_f64())
                        .collect();
                    let (m, s) = mean_std(&v);
                    ((e + 1) as f64, m, s)
                })
                .collect();
            Curve {
                name: label.clone(),
                points,
            }
        })
        .collect();
    let (title, axis) = match task {
        Task::Retrieval => (format!("{exp}: validation Recall@1 per epoch"), "Recall@1"),
        _ => (format!("{exp}: validation {key} per epoch"), key),
    };
    line_chart(&plot_dir.join("curves.png"), &title, "epoch", axis, &curves)?;
    if task == Task::Classification {
        for (label, cs) in methods {
            let bins = pooled_bins(cs);
            if !bins.is_empty() {
                reliability(
                    &plot_dir.join(format!("reliability-{label}.png")),
                    &format!("{exp} {label}: test, {} seeds pooled", cs.len()),
                    &bins,
                )?;
            }
        }
    }
    // One mixed-sample grid per method, for image and audio data.
    let first = &methods[0].1[0].config;
    // Embedding methods mix pairs chosen by the loss (a positive with a hard negative), often inside the
    // network: a grid of random input blends would misrepresent them.
    let rank = mixlab_data::peek(&first.dataset).map_or(0, |(s, _)| s.len());
    if task != Task::Retrieval && task != Task::Continual && matches!(rank, 2 | 3) {
        for (label, cs) in methods {
            let train = &cs[0].config.train;
            let mixer = &train.mixer;
            // Methods that form their inputs inside training (saliency, attention, learned masks, RankMixup's
            // raw batch, MixMatch's union), and any mixed at a hidden layer (`mix_at`), have no picture.
            if mixer.methods.is_empty()
                || !mixer
                    .methods
                    .iter()
                    .all(|m| m.config.method().plan_shows_its_inputs())
                || train.mix_points().is_some_and(|p| p.iter().any(|&s| s > 0))
            {
                continue;
            }
            // Tables and the other plots come from the cells alone; the grid also needs the dataset, which
            // the machine merging shards may not have.
            let b = match mix_real_batch(&first.dataset, data, mixer, 12, 0) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("note: no mixed-sample grid for {exp} {label}: {e:#}");
                    continue;
                }
            };
            render(
                &first.dataset,
                &b,
                &format!("{exp} {label}: original | partner | mixed"),
                &plot_dir.join(format!("mix-{label}.png")),
            )?;
        }
    }
    Ok(())
}

/// Pools the 15 reliability bins of several seeds (counts add, means weight by count).
fn pooled_bins(cs: &[&CellResult]) -> Vec<RelBin> {
    let mut out: Vec<RelBin> = Vec::new();
    for c in cs {
        let Some(bins) = c.result["reliability"]["before"].as_array() else {
            continue;
        };
        for (i, b) in bins.iter().enumerate() {
            let count = b["count"].as_u64().unwrap_or(0) as usize;
            let (conf, acc) = (
                b["mean_conf"].as_f64().unwrap_or(0.0),
                b["accuracy"].as_f64().unwrap_or(0.0),
            );
            if out.len() <= i {
                out.push(RelBin {
                    lower: b["lower"].as_f64().unwrap_or(0.0),
                    upper: b["upper"].as_f64().unwrap_or(0.0),
                    confidence: 0.0,
                    accuracy: 0.0,
                    count: 0,
                });
            }
            let o = &mut out[i];
            let total = o.count + count;
            if total > 0 {
                o.confidence = (o.confidence * o.count as f64 + conf * count as f64) / total as f64;
                o.accuracy = (o.accuracy * o.count as f64 + acc * count as f64) / total as f64;
            }
            o.count = total;
        }
    }
    out
}

/// Runs the command.
pub fn run(args: &ReportArgs) -> Result<()> {
    let md = report(
        &args.dir,
        &DataDir::resolve(args.data_dir.as_deref()),
        false,
    )?;
    crate::fsio::outln(format_args!("{md}"))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;
    use crate::suite::Suite;

    /// Writes one finished cell as the bench would, with a given final accuracy and last-epochs curve.
    fn write_cell(dir: &Path, index: usize, label: &str, seed: u64, acc: f64, last: &[f64]) {
        let suite: Suite = toml::from_str(&format!(
            "name = \"t\"\nseeds = 1\n[[experiment]]\nname = \"e\"\ndataset = \"digits\"\nmodel = \"mlp\"\n\
             epochs = 1\nbatch_size = 8\nlr = 0.1\nmethods = [{{ label = \"{label}\", method = \"{}\" }}]\n",
            if label == "none" { "none" } else { "mixup" }
        ))
        .unwrap();
        let mut cfg = suite.cells(None).unwrap().remove(0).config;
        cfg.train.seed = seed;
        cfg.data_seed = seed;
        let id = format!("cell{index}");
        let d = dir.join("cells").join(&id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config.toml"), cfg.to_toml().unwrap()).unwrap();
        let meta =
            json!({"id": id, "index": index, "experiment": "e", "label": label, "seed": seed});
        std::fs::write(d.join("cell.json"), meta.to_string()).unwrap();
        let curve: Vec<Value> = last.iter().map(|a| json!({"test": {"acc": a}})).collect();
        let result = json!({"task": "classification", "test": {"acc": acc, "nll": 1.0 - acc},
            "curve": curve});
        std::fs::write(d.join("result.json"), result.to_string()).unwrap();
    }

    #[test]
    fn deltas_are_paired_by_seed_with_t_intervals_and_the_csv_survives_a_comma() {
        let tmp = tempfile::tempdir().unwrap();
        // Seeds move both methods by ±3 points; mixup is 1 point (±0.1) better on each seed. Unpaired, the
        // gap would drown in the seed spread; paired, its interval excludes 0. Seed 3 has no `none` cell and
        // must not enter the pairs.
        let offsets = [0.03, -0.03, 0.0];
        let gains = [0.009, 0.011, 0.010];
        let mut i = 0;
        for (seed, off) in offsets.iter().enumerate() {
            write_cell(
                tmp.path(),
                i,
                "none",
                seed as u64,
                0.8 + off,
                &[0.5, 0.7, 0.6],
            );
            i += 1;
        }
        for (seed, (off, g)) in offsets.iter().zip(gains).enumerate() {
            let acc = 0.8 + off + g;
            write_cell(tmp.path(), i, "mixup, α=1", seed as u64, acc, &[0.9]);
            i += 1;
        }
        write_cell(tmp.path(), i, "mixup, α=1", 3, 0.2, &[0.9]);
        let md = report(tmp.path(), &DataDir::resolve(None), true).unwrap();
        let d = [0.009, 0.011, 0.010];
        let mean = d.iter().sum::<f64>() / 3.0;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        let h = 4.302_652_729_911_275 * sd / 3f64.sqrt(); // scipy.stats.t.ppf(0.975, 2)
        let want = format!(
            "{:+.2} [{:+.2}, {:+.2}] | yes |",
            100.0 * mean,
            100.0 * (mean - h),
            100.0 * (mean + h)
        );
        assert!(md.contains(&want), "want {want} in\n{md}");
        // The median of the last epochs' test accuracies: 0.6 for none.
        assert!(
            md.contains("| none | ") && md.contains("60.00 ± 0.00"),
            "{md}"
        );

        let mut r = csv::Reader::from_path(tmp.path().join("results.csv")).unwrap();
        let headers = r.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        let acc = rows
            .iter()
            .find(|row| &row[col("method")] == "mixup, α=1" && &row[col("metric")] == "acc")
            .unwrap();
        assert_eq!(&acc[col("n")], "4");
        assert_eq!(&acc[col("pairs_vs_none")], "3");
        assert_eq!(&acc[col("ci_excludes_zero")], "true");
        let lo: f64 = acc[col("delta_ci95_lo")].parse().unwrap();
        assert!((lo - (mean - h)).abs() < 1e-12, "{lo}");
    }
}
