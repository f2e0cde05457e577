//! `mixlab bench`: runs a suite's cells (or one shard of them) into `DIR/cells/<id>/`, skipping finished
//! cells and resuming killed ones from their checkpoints, then writes the report.

use crate::fsio::write_atomic;
use crate::report_cmd;
use crate::run::{Bars, RunStatus, execute};
use crate::suite::{Shard, Suite};
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mixlab_data::DataDir;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// Options of `mixlab bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Suite: quick, cpu, gpu, representation, converged, or a path to a suite TOML file.
    #[arg(long, default_value = "quick")]
    pub suite: String,
    /// Seeds per cell (default: the suite's).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Output folder (default: runs/<suite name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data directory (default: $MIXLAB_DATA, then the embedded sets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run only shard K of N (1-based), e.g. 2/8 for the second of eight array jobs.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// No progress bars (for logs).
    #[arg(long)]
    pub quiet: bool,
    /// Cells trained at once, the cores split between them (Burn's CPU backend scales poorly past one
    /// thread on small models: on 2 cores, 2 jobs of 1 thread finish a fashion-2k suite faster than 1 job
    /// of 2). Results do not depend on it.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Run only these experiments of the suite (repeatable), e.g. `--experiment cifar10-resnet18-short`.
    #[arg(long = "experiment")]
    pub experiments: Vec<String>,
}

impl Default for BenchArgs {
    fn default() -> Self {
        Self {
            suite: "quick".into(),
            seeds: None,
            out: None,
            data_dir: None,
            shard: None,
            quiet: false,
            jobs: 1,
            experiments: vec![],
        }
    }
}

/// Runs the command.
pub fn run(args: &BenchArgs) -> Result<()> {
    let suite = Suite::load(&args.suite)?;
    let mut all = suite.cells(args.seeds)?;
    if !args.experiments.is_empty() {
        if let Some(unknown) = args
            .experiments
            .iter()
            .find(|e| !all.iter().any(|c| &c.experiment == *e))
        {
            let mut known: Vec<&str> = all.iter().map(|c| c.experiment.as_str()).collect();
            known.dedup();
            bail!(
                "suite {} has no experiment {unknown:?}; it has: {}",
                suite.name,
                known.join(", ")
            );
        }
        all.retain(|c| args.experiments.contains(&c.experiment));
    }
    let total_suite = all.len();
    let mut cells = match args.shard {
        Some(s) => s.select(all),
        None => all,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&suite.name));
    // A distilled cell (and an attentivemix or tokenmix cell with a teacher) reads its teacher cell's final
    // checkpoint. The path is absolute so that the recorded config replays from any working directory (on
    // this machine; a moved run folder is a different config).
    if cells.iter().any(|c| c.teacher.is_some()) {
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create output folder {}", out.display()))?;
        let abs = out
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", out.display()))?;
        for c in &mut cells {
            let Some(tid) = &c.teacher else { continue };
            let path = abs.join("cells").join(tid).join("checkpoint");
            if let Some(kd) = &mut c.config.train.kd {
                kd.teacher = path.clone();
            }
            for m in &mut c.config.train.mixer.methods {
                if let Some(slot) = m.config.teacher_mut() {
                    *slot = Some(path.clone());
                }
            }
        }
    }
    let dir = DataDir::resolve(args.data_dir.as_deref());
    // Validate every cell's config before any training starts, so a typo fails fast.
    for c in &cells {
        let shape = crate::run::sample_shape(&c.config.dataset)?;
        let outputs = crate::run::output_dim(&c.config.dataset)?;
        c.config
            .train
            .validate(&shape, outputs)
            .with_context(|| format!("cell {}", c.id))?;
    }
    let shard_note = args
        .shard
        .map(|s| format!(" (shard {}/{} of {total_suite})", s.k, s.n))
        .unwrap_or_default();
    if !args.quiet {
        eprintln!(
            "suite {} ({}): {} cells{shard_note} -> {}",
            suite.name,
            suite.description,
            cells.len(),
            out.display()
        );
    }
    let multi = MultiProgress::new();
    let overall = (!args.quiet).then(|| {
        let b = multi.add(ProgressBar::new(cells.len() as u64));
        b.set_style(
            ProgressStyle::with_template("cells [{bar:30}] {pos}/{len} eta {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    });
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let started = Instant::now();
    let ids: std::collections::HashSet<&str> = cells.iter().map(|c| c.id.as_str()).collect();
    let finished = |id: &str| out.join("cells").join(id).join("result.json").exists();
    for c in &cells {
        if let Some(tid) = &c.teacher
            && !ids.contains(tid.as_str())
            && !finished(tid)
        {
            bail!(
                "cell {}: its teacher cell {tid} has not finished (it runs earlier in the suite; with --shard, \
                 run the teacher's shard first)",
                c.id
            );
        }
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let ran = AtomicUsize::new(0);
    let skipped = AtomicUsize::new(0);
    // Cells whose run ended (finished or failed): a student waits for its teacher to be among them.
    let ended: Mutex<std::collections::HashSet<String>> = Mutex::new(Default::default());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_job = (threads / args.jobs).max(1);
    let run_cell = |c: &crate::suite::Cell| -> Result<()> {
        let cell_dir = out.join("cells").join(&c.id);
        std::fs::create_dir_all(&cell_dir)
            .with_context(|| format!("cannot create {}", cell_dir.display()))?;
        let meta = json!({"id": c.id, "index": c.index, "experiment": c.experiment, "label": c.label, "seed": c.config.train.seed, "suite": suite.name});
        write_atomic(
            &cell_dir.join("cell.json"),
            serde_json::to_string_pretty(&meta)?.as_bytes(),
        )?;
        if let Some(tid) = &c.teacher {
            while ids.contains(tid.as_str())
                && !ended.lock().map_or(true, |e| e.contains(tid))
                && !failed.load(Ordering::SeqCst)
            {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            if !finished(tid) {
                bail!("cell {}: its teacher cell {tid} did not finish", c.id);
            }
        }
        let mut bars = Bars::new(&c.id, args.quiet, Some(&multi));
        let status = execute(&c.config, &dir, &cell_dir, true, Some(&mut bars), None);
        bars.finish();
        match status.with_context(|| format!("cell {}", c.id))? {
            Some(RunStatus::AlreadyDone(_)) => skipped.fetch_add(1, Ordering::SeqCst),
            Some(RunStatus::Finished(_)) => ran.fetch_add(1, Ordering::SeqCst),
            None => 0,
        };
        if let Some(b) = &overall {
            b.inc(1);
            b.set_message(c.id.clone());
        }
        Ok(())
    };
    let worker = || -> Result<()> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(per_job)
            .build()
            .context("cannot start a thread pool")?;
        loop {
            if failed.load(Ordering::SeqCst) {
                return Ok(());
            }
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(c) = cells.get(i) else {
                return Ok(());
            };
            let r = pool.install(|| run_cell(c));
            if let Ok(mut e) = ended.lock() {
                e.insert(c.id.clone());
            }
            if r.is_err() {
                failed.store(true, Ordering::SeqCst);
                return r;
            }
        }
    };
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.jobs.min(cells.len().max(1)))
            .map(|_| s.spawn(worker))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a bench worker panicked")))
            })
            .collect()
    });
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(e);
    }
    let (ran, skipped) = (ran.into_inner(), skipped.into_inner());
    if let Some(b) = &overall {
        b.finish_and_clear();
    }
    let wall = started.elapsed().as_secs_f64();
    let table = report_cmd::report(&out, &dir, args.quiet)?;
    crate::fsio::outln(format_args!("{table}"))?;
    crate::fsio::outln(format_args!(
        "{} cells ({ran} run, {skipped} already finished) in {wall:.1} s; report in {}",
        cells.len(),
        out.join("results.md").display()
    ))?;
    Ok(())
}
