//! `mixlab report DIR`: merges every finished cell under `DIR/cells/` (from one run or many shards) into
//! mean ± std tables (`results.md`, `results.csv`, `results.json`) and PNG plots under `DIR/plots/`.
//!
//! Standard deviations are sample standard deviations over seeds (n − 1 in the denominator); Δ is the
//! difference of means to the `none` row of the same experiment.

use crate::fsio::write_atomic;
use crate::plots::{Bar, Curve, RelBin, bar_chart, line_chart, reliability};
use crate::run::RunConfig;
use crate::show_cmd::{mix_real_batch, render};
use anyhow::{Context, Result};
use clap::Args;
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

const CLASS_METRICS: [Metric; 7] = [
    Metric {
        key: "acc",
        header: "acc ↑",
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
        "acc" | "r1" | "r2" | "r4" | "r8" | "b2a_r1" | "b2a_r2" | "b2a_r4" | "b2a_r8"
    )
}

/// Descriptive metrics: reported, never bolded as "best".
fn is_descriptive(key: &str) -> bool {
    matches!(
        key,
        "temperature" | "nc1" | "uniformity" | "alignment" | "uniformity_a" | "uniformity_b"
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

/// A metric of a cell's result: test-set numbers, and NC1 from the neural-collapse record.
fn metric_value(result: &Value, key: &str) -> Option<f64> {
    match key {
        "nc1" => result["collapse"]["nc1"].as_f64(),
        _ => result["test"][key].as_f64(),
    }
}

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
    let mut csv = String::from("experiment,dataset,model,method,metric,n,mean,std,delta_vs_none\n");
    let mut json_rows = Vec::new();
    writeln!(md, "# mixlab benchmark results\n")?;
    writeln!(
        md,
        "{} finished cells{}. Mean ± sample std over seeds; Δ = difference of means to `none`; best mean per column in bold. \
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
        write!(md, "| method |")?;
        for m in metrics {
            write!(md, " {} |", m.header)?;
        }
        writeln!(md, " Δ{} vs none |", metrics[primary].key)?;
        writeln!(md, "|---|{}---|", "---|".repeat(metrics.len()))?;
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
            let delta = match (none_idx, stats[i][primary]) {
                (Some(n), Some((m, _, _))) if n != i => stats[n][primary].map(|(b, _, _)| m - b),
                _ => None,
            };
            let dtext = match delta {
                Some(d) if is_percent(metrics[primary].key) => format!("{:+.2}", 100.0 * d),
                Some(d) => format!("{d:+.4}"),
                None => "–".into(),
            };
            writeln!(md, " {dtext} |")?;
            for (k, m) in metrics.iter().enumerate() {
                if let Some((mean, std, n)) = stats[i][k] {
                    let d = none_idx
                        .filter(|&n| n != i)
                        .and_then(|ni| stats[ni][k].map(|(b, _, _)| mean - b));
                    writeln!(
                        csv,
                        "{exp},{},{},{label},{},{n},{mean},{std},{}",
                        cfg.dataset,
                        cfg.train.model.name(),
                        m.key,
                        d.map(|d| d.to_string()).unwrap_or_default()
                    )?;
                    json_rows.push(json!({"experiment": exp, "dataset": cfg.dataset, "model": cfg.train.model.name(),
                        "method": label, "metric": m.key, "n": n, "mean": mean, "std": std, "delta_vs_none": d}));
                }
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
            task_of(regression, retrieval || cross),
        )
        .with_context(|| format!("plots for {exp}"))?;
        writeln!(md, "Plots: `plots/{exp}/`\n")?;
    }
    write_atomic(&dir.join("results.md"), md.as_bytes())?;
    write_atomic(&dir.join("results.csv"), csv.as_bytes())?;
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
    let bars = |k: usize, scale: f64| -> Vec<Bar> {
        methods
            .iter()
            .zip(stats)
            .filter_map(|((l, _), s)| {
                s[k].map(|(m, sd, _)| Bar {
                    label: l.clone(),
                    mean: m * scale,
                    std: sd * scale,
                })
            })
            .collect()
    };
    if regression {
        bar_chart(
            &plot_dir.join("rmse.png"),
            &format!("{exp}: test RMSE (mean ± std)"),
            "RMSE",
            &bars(0, 1.0),
        )?;
    } else if task == Task::Retrieval {
        bar_chart(
            &plot_dir.join("recall.png"),
            &format!("{exp}: test Recall@1 (mean ± std)"),
            "Recall@1 %",
            &bars(0, 100.0),
        )?;
    } else {
        bar_chart(
            &plot_dir.join("accuracy.png"),
            &format!("{exp}: test accuracy (mean ± std)"),
            "accuracy %",
            &bars(0, 100.0),
        )?;
        let ece = metrics.iter().position(|m| m.key == "ece15").unwrap_or(3);
        let ece_ts = metrics
            .iter()
            .position(|m| m.key == "ece15_ts")
            .unwrap_or(4);
        let mut both = Vec::new();
        for (b, a) in bars(ece, 1.0).into_iter().zip(bars(ece_ts, 1.0)) {
            both.push(b);
            both.push(Bar {
                label: format!("{}+TS", a.label),
                ..a
            });
        }
        bar_chart(
            &plot_dir.join("ece.png"),
            &format!("{exp}: test ECE₁₅ before / after TS"),
            "ECE",
            &both,
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
    if task != Task::Retrieval && matches!(first.dataset.sample_shape().len(), 2 | 3) {
        for (label, cs) in methods {
            let mixer = &cs[0].config.train.mixer;
            if mixer.methods.is_empty() {
                continue;
            }
            // Tables and the other plots come from the cells alone; the grid also needs the dataset, which
            // the machine merging shards may not have.
            let b = match mix_real_batch(first.dataset, data, mixer, 12, 0) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("note: no mixed-sample grid for {exp} {label}: {e:#}");
                    continue;
                }
            };
            render(
                first.dataset,
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
