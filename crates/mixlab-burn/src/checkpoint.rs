//! Per-epoch checkpoints that never lose data and resume bit-identically.
//!
//! After epoch k a folder holds `model-eK.safetensors` (every float parameter and BatchNorm buffer by
//! module path, f32, readable by Python's `safetensors`), `optim-eK.bpk` (Burn's optimiser record,
//! burnpack), `state-eK.json` (config, learning curve, best-validation epoch) and, for regression,
//! `best-eK.safetensors`; then `checkpoint.json` names those files. Each file is written to a temporary
//! name in the same folder and renamed, and the manifest is written last, so a kill at any moment leaves
//! either the previous complete checkpoint or the new one. Files of older epochs are removed after the
//! manifest moves on.
//!
//! Optimiser state is keyed by Burn's parameter ids, so the weights file keeps each parameter's id in
//! its metadata (`mixlab.param_ids`, a JSON map path → id) and loading restores them. Our random streams
//! are functions of (seed, purpose, epoch, step), so the epoch count is the whole RNG position.

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::models::Model;
use crate::records::{EpochRecord, EvalMetrics};
use crate::state::{AuxFile, AuxKind, RunState};
use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::OptimizerRecord;
use burn::prelude::*;
use burn::tensor::Bytes;
use mixlab_core::shape::SampleShape;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the manifest that marks a complete checkpoint.
pub const MANIFEST: &str = "checkpoint.json";
const FORMAT: &str = "mixlab-checkpoint-1";
const IDS_KEY: &str = "mixlab.param_ids";

/// The manifest: which files make up the last complete checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format tag, `"mixlab-checkpoint-1"`; loading refuses any other.
    pub format: String,
    /// Epochs completed when the checkpoint was written (the `K` in the file names).
    pub epochs_done: usize,
    /// File name (in the checkpoint folder) of the model weights, `model-eK.safetensors`.
    pub model: String,
    /// File name of the optimiser record, `optim-eK.bpk`.
    pub optimizer: String,
    /// File name of the run state (config, curve, best epoch), `state-eK.json`.
    pub state: String,
    /// File name of the best-validation weights, `best-eK.safetensors` (regression runs, SupReMix
    /// included); `None` for runs that track no best epoch.
    pub best: Option<String>,
    /// File names of what the run's training strategy keeps (`aux-<name>-eK.<ext>`, e.g. the
    /// momentum copy of AttentiveMix's teacher); absent when it keeps nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aux: Vec<String>,
}

/// serde_json parses floats to within one ULP only (its `float_roundtrip` feature is off, and Burn
/// shares the crate), so every float a resumed run carries forward is also stored as its bit pattern.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StateFile {
    /// The config, for people reading the folder.
    config: TrainConfig,
    /// The config exactly as serialised, which a resumed run must reproduce.
    config_json: String,
    epochs_done: usize,
    /// The learning curve, for people (floats may lose their last bit when parsed back).
    curve: Vec<EpochRecord>,
    /// The learning curve's floats as `f64::to_bits`, in [`record_bits`] order.
    curve_bits: Vec<Vec<Option<u64>>>,
    /// Best-validation epoch and its RMSE bits (regression).
    best: Option<(usize, u64)>,
}

/// Floats of one evaluation: loss, acc, ece15, rmse, mae, mape, then Recall@1, 2, 4, 8 (retrieval runs).
const EVAL_FLOATS: usize = 10;
/// Checkpoints written before Recall@K existed stored 6 floats per evaluation.
const EVAL_FLOATS_V1: usize = 6;

fn eval_bits(m: &EvalMetrics) -> [Option<u64>; EVAL_FLOATS] {
    let r = |i: usize| m.recall.as_ref().and_then(|v| v.get(i).copied());
    [
        Some(m.loss),
        m.acc,
        m.ece15,
        m.rmse,
        m.mae,
        m.mape_pct,
        r(0),
        r(1),
        r(2),
        r(3),
    ]
    .map(|v| v.map(f64::to_bits))
}

fn eval_from(b: &[Option<u64>]) -> Option<EvalMetrics> {
    let f = |i: usize| b.get(i).copied().flatten().map(f64::from_bits);
    let recall: Option<Vec<f64>> = (b.len() == EVAL_FLOATS)
        .then(|| {
            (EVAL_FLOATS_V1..EVAL_FLOATS)
                .map(f)
                .collect::<Option<Vec<f64>>>()
        })
        .flatten();
    Some(EvalMetrics {
        loss: f(0)?,
        acc: f(1),
        ece15: f(2),
        rmse: f(3),
        mae: f(4),
        mape_pct: f(5),
        recall,
    })
}

/// train_loss, lr_last, train_samples_per_s, wall_s, then validation and (in epochs that evaluated it)
/// test metrics.
fn record_bits(r: &EpochRecord) -> Vec<Option<u64>> {
    [r.train_loss, r.lr_last, r.train_samples_per_s, r.wall_s]
        .map(|v| Some(v.to_bits()))
        .into_iter()
        .chain(eval_bits(&r.val))
        .chain(r.test.iter().flat_map(eval_bits))
        .collect()
}

fn record_from_bits(epoch: usize, b: &[Option<u64>]) -> Option<EpochRecord> {
    // Lengths: 4 + 2·EVAL_FLOATS (with test), 4 + EVAL_FLOATS (without), 4 + 2·EVAL_FLOATS_V1 (older layout,
    // always with test); no two coincide.
    let (e, with_test) = [
        (EVAL_FLOATS, true),
        (EVAL_FLOATS, false),
        (EVAL_FLOATS_V1, true),
    ]
    .into_iter()
    .find(|&(e, t)| b.len() == 4 + e * (1 + usize::from(t)))?;
    let f = |i: usize| b[i].map(f64::from_bits);
    Some(EpochRecord {
        epoch,
        train_loss: f(0)?,
        lr_last: f(1)?,
        train_samples_per_s: f(2)?,
        wall_s: f(3)?,
        val: eval_from(&b[4..4 + e])?,
        test: match with_test {
            true => Some(eval_from(&b[4 + e..4 + 2 * e])?),
            false => None,
        },
    })
}

/// A loaded checkpoint.
pub(crate) struct CheckpointState {
    pub state: RunState,
    #[allow(dead_code)]
    pub epochs_done: usize,
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("cannot write", path, e)
    })
}

/// Collects float parameters (and buffers) by module path.
struct Collect {
    path: Vec<String>,
    out: Vec<(String, Vec<usize>, Vec<u8>, u64)>,
    err: Option<String>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        match t.into_data().try_into_vec_as::<f32>() {
            Ok(v) => {
                let bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                self.out
                    .push((self.path.join("."), shape, bytes, param.id.val()));
            }
            Err(e) => self.err = Some(format!("{e:?}")),
        }
    }
}

/// Serialises a model's (or any module's) weights as safetensors bytes (f32, little-endian, ids in the metadata).
pub fn weights_to_bytes<M: Module>(model: &M) -> Result<Vec<u8>> {
    let mut c = Collect {
        path: Vec::new(),
        out: Vec::new(),
        err: None,
    };
    model.visit(&mut c);
    if let Some(e) = c.err {
        return Err(Error::Data(e));
    }
    let ids: HashMap<&str, u64> = c
        .out
        .iter()
        .map(|(p, _, _, id)| (p.as_str(), *id))
        .collect();
    let meta = HashMap::from([
        (
            IDS_KEY.to_string(),
            serde_json::to_string(&ids).map_err(|e| Error::Data(e.to_string()))?,
        ),
        ("format".to_string(), "pt".to_string()),
    ]);
    let views = c
        .out
        .iter()
        .map(|(p, shape, bytes, _)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (p.clone(), v))
                .map_err(|e| Error::Data(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::Data(e.to_string()))
}

/// Writes a model's weights to a safetensors file, atomically.
pub fn save_weights(model: &Model, path: &Path) -> Result<()> {
    write_atomic(path, &weights_to_bytes(model)?)
}

/// Replaces every float parameter by the tensor of the same path, restoring its id.
struct Load<'a> {
    st: &'a SafeTensors<'a>,
    ids: HashMap<String, u64>,
    path: Vec<String>,
    errors: Vec<String>,
    used: usize,
}

impl ModuleMapper for Load<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let key = self.path.join(".");
        let view = match self.st.tensor(&key) {
            Ok(v) => v,
            Err(_) => {
                self.errors.push(format!("missing tensor {key}"));
                return param;
            }
        };
        let want: Vec<usize> = param.lazy_shape().iter().copied().collect();
        if view.dtype() != Dtype::F32 || view.shape() != want.as_slice() {
            self.errors.push(format!(
                "tensor {key}: expected f32 {want:?}, found {:?} {:?}",
                view.dtype(),
                view.shape()
            ));
            return param;
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let id = self.ids.get(&key).map_or(param.id, |&v| ParamId::from(v));
        let device = param.lazy_device();
        self.used += 1;
        let t = Tensor::<D>::from_data(TensorData::new(values, want), &device);
        param.transform_for_load(t, id)
    }
}

/// Loads safetensors weights (as written by [`save_weights`]) into `model`.
pub fn load_weights_bytes<M: Module>(model: M, bytes: &[u8], origin: &Path) -> Result<M> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::ckpt(origin, e))?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| Error::ckpt(origin, e))?;
    let ids: HashMap<String, u64> = match meta.metadata().as_ref().and_then(|m| m.get(IDS_KEY)) {
        Some(s) => serde_json::from_str(s).map_err(|e| Error::ckpt(origin, e))?,
        None => HashMap::new(),
    };
    let mut load = Load {
        st: &st,
        ids,
        path: Vec::new(),
        errors: Vec::new(),
        used: 0,
    };
    let model = model.map(&mut load);
    if !load.errors.is_empty() {
        return Err(Error::ckpt(origin, load.errors.join("; ")));
    }
    if load.used != st.len() {
        return Err(Error::ckpt(
            origin,
            format!(
                "file holds {} tensors, the model has {}",
                st.len(),
                load.used
            ),
        ));
    }
    Ok(model)
}

/// Loads a safetensors weights file into `model`.
pub fn load_weights(model: Model, path: &Path) -> Result<Model> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    load_weights_bytes(model, &bytes, path)
}

/// Reads the manifest of `dir`, if a complete checkpoint exists there.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", &path, e)),
    };
    let m: Manifest = serde_json::from_str(&text).map_err(|e| Error::ckpt(&path, e))?;
    if m.format != FORMAT {
        return Err(Error::ckpt(
            &path,
            format!("format {:?}, expected {FORMAT:?}", m.format),
        ));
    }
    Ok(Some(m))
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(v).map_err(|e| Error::Data(e.to_string()))
}

/// Writes the checkpoint after `st.curve.len()` epochs.
pub(crate) fn save(dir: &Path, cfg: &TrainConfig, st: &RunState, aux: &[AuxFile]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let k = st.curve.len();
    let name = |stem: &str, ext: &str| format!("{stem}-e{k:04}.{ext}");
    let manifest = Manifest {
        format: FORMAT.into(),
        epochs_done: k,
        model: name("model", "safetensors"),
        optimizer: name("optim", "bpk"),
        state: name("state", "json"),
        best: st.best.as_ref().map(|_| name("best", "safetensors")),
        aux: aux
            .iter()
            .map(|a| name(&format!("aux-{}", a.name), a.kind.ext()))
            .collect(),
    };
    for (a, f) in aux.iter().zip(&manifest.aux) {
        write_atomic(&dir.join(f), &a.bytes)?;
    }
    save_weights(&st.model, &dir.join(&manifest.model))?;
    if let (Some((_, _, m)), Some(f)) = (&st.best, &manifest.best) {
        save_weights(m, &dir.join(f))?;
    }
    let optim = st
        .optim
        .to_record()
        .into_bytes()
        .map_err(|e| Error::ckpt(dir, format!("optimizer record: {e}")))?;
    write_atomic(&dir.join(&manifest.optimizer), &optim)?;
    let state = StateFile {
        config: cfg.clone(),
        config_json: serde_json::to_string(cfg).map_err(|e| Error::Data(e.to_string()))?,
        epochs_done: k,
        curve: st.curve.clone(),
        curve_bits: st.curve.iter().map(record_bits).collect(),
        best: st.best.as_ref().map(|(e, v, _)| (*e, v.to_bits())),
    };
    write_atomic(&dir.join(&manifest.state), &json(&state)?)?;
    write_atomic(&dir.join(MANIFEST), &json(&manifest)?)?;
    // The new checkpoint is complete: older epochs' files can go.
    let keep: Vec<&String> = [
        Some(&manifest.model),
        Some(&manifest.optimizer),
        Some(&manifest.state),
        manifest.best.as_ref(),
    ]
    .into_iter()
    .flatten()
    .chain(&manifest.aux)
    .collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let f = e.file_name().to_string_lossy().into_owned();
            let ours = ["model-e", "optim-e", "state-e", "best-e", "aux-"]
                .iter()
                .any(|p| f.starts_with(p));
            if ours && !keep.iter().any(|k| **k == f) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// Loads the checkpoint of `dir` for a run of `cfg`; `None` when there is none yet.
/// Loads the final weights of a finished run's checkpoint folder as a teacher (knowledge distillation):
/// the model is rebuilt from the config stored with it and must take `shape` and give `outputs`.
pub fn load_teacher(
    dir: &Path,
    shape: &SampleShape,
    outputs: usize,
    dev: &Device,
) -> Result<(Model, TrainConfig)> {
    let m = read_manifest(dir)?.ok_or_else(|| {
        Error::ckpt(
            dir,
            format!("no {MANIFEST}: not the checkpoint folder of a mixlab run"),
        )
    })?;
    let state_path: PathBuf = dir.join(&m.state);
    let text = std::fs::read_to_string(&state_path)
        .map_err(|e| Error::io("cannot read", &state_path, e))?;
    let sf: StateFile = serde_json::from_str(&text).map_err(|e| Error::ckpt(&state_path, e))?;
    if sf.epochs_done != sf.config.epochs {
        return Err(Error::ckpt(
            dir,
            format!(
                "the teacher's run is unfinished ({} of {} epochs)",
                sf.epochs_done, sf.config.epochs
            ),
        ));
    }
    if sf.config.trains_embedding()
        || matches!(sf.config.model, crate::models::ModelConfig::TwoTower(_))
    {
        return Err(Error::ckpt(
            dir,
            "the teacher trained an embedding, not class outputs",
        ));
    }
    sf.config
        .model
        .validate(shape, outputs)
        .map_err(|e| Error::ckpt(dir, format!("the teacher does not fit this task: {e}")))?;
    let model = sf.config.model.init(shape, outputs, sf.config.seed, dev)?;
    let model = load_weights(model, &dir.join(&m.model))?;
    Ok((model, sf.config))
}

pub(crate) fn load(
    dir: &Path,
    cfg: &TrainConfig,
    shape: &SampleShape,
    outputs: usize,
    dev: &Device,
) -> Result<Option<CheckpointState>> {
    let Some(m) = read_manifest(dir)? else {
        return Ok(None);
    };
    let state_path: PathBuf = dir.join(&m.state);
    let text = std::fs::read_to_string(&state_path)
        .map_err(|e| Error::io("cannot read", &state_path, e))?;
    let sf: StateFile = serde_json::from_str(&text).map_err(|e| Error::ckpt(&state_path, e))?;
    let cfg_json = serde_json::to_string(cfg).map_err(|e| Error::Data(e.to_string()))?;
    if sf.config_json != cfg_json {
        return Err(Error::ckpt(
            dir,
            "it was written by a different training config; resume with the same config or use a new folder",
        ));
    }
    if sf.epochs_done != m.epochs_done || sf.curve_bits.len() != m.epochs_done {
        return Err(Error::ckpt(
            dir,
            "manifest and state disagree on the epoch count",
        ));
    }
    let curve = sf
        .curve_bits
        .iter()
        .enumerate()
        .map(|(e, b)| record_from_bits(e, b))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Error::ckpt(&state_path, "malformed curve_bits"))?;
    let init = || cfg.model.init(shape, outputs, cfg.seed, dev);
    let model = load_weights(init()?, &dir.join(&m.model))?;
    let best = match (sf.best, &m.best) {
        (Some((e, v)), Some(f)) => {
            // Kept as the run keeps it: an eval-mode snapshot (see `trainer::snapshot`).
            let m = load_weights(init()?, &dir.join(f))?;
            Some((e, f64::from_bits(v), crate::state::snapshot(&m)))
        }
        (None, None) => None,
        _ => return Err(Error::ckpt(dir, "best-epoch record and file disagree")),
    };
    let optim_path = dir.join(&m.optimizer);
    let bytes = std::fs::read(&optim_path).map_err(|e| Error::io("cannot read", &optim_path, e))?;
    let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| Error::ckpt(&optim_path, e))?;
    let optim = cfg.optimizer.build(cfg.weight_decay).load_record(record);
    let aux = m
        .aux
        .iter()
        .map(|f| {
            let (stem, ext) = f.rsplit_once('.').unwrap_or((f, ""));
            let name = stem
                .strip_prefix("aux-")
                .and_then(|r| r.rsplit_once("-e"))
                .map(|(n, _)| n.to_string())
                .ok_or_else(|| Error::ckpt(dir, format!("strategy file {f:?} is misnamed")))?;
            let kind = AuxKind::from_ext(ext).ok_or_else(|| {
                Error::ckpt(dir, format!("strategy file {f:?} has an unknown kind"))
            })?;
            let path = dir.join(f);
            let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
            Ok(AuxFile { name, kind, bytes })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(CheckpointState {
        state: RunState {
            model,
            optim,
            best,
            curve,
            aux,
        },
        epochs_done: m.epochs_done,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn curve_records_round_trip_with_recall_and_read_the_older_layout() {
        let ev = |recall: Option<Vec<f64>>| EvalMetrics {
            loss: 0.25,
            acc: Some(0.75),
            ece15: None,
            rmse: None,
            mae: None,
            mape_pct: None,
            recall,
        };
        let r = EpochRecord {
            epoch: 3,
            train_loss: 0.1 + 0.2,
            lr_last: 1e-3,
            val: ev(Some(vec![0.5, 0.625, 0.75, 1.0 / 3.0])),
            test: Some(ev(None)),
            train_samples_per_s: 12.5,
            wall_s: 0.7,
        };
        let bits = record_bits(&r);
        assert_eq!(bits.len(), 4 + 2 * EVAL_FLOATS);
        assert_eq!(record_from_bits(3, &bits), Some(r.clone()));
        // A checkpoint from before Recall@K: six floats per evaluation, no recall.
        let old: Vec<Option<u64>> = bits[..4]
            .iter()
            .chain(&bits[4..4 + EVAL_FLOATS_V1])
            .chain(&bits[4 + EVAL_FLOATS..4 + EVAL_FLOATS + EVAL_FLOATS_V1])
            .copied()
            .collect();
        let back = record_from_bits(3, &old).unwrap();
        assert_eq!((back.val.recall, back.val.acc), (None, Some(0.75)));
        assert_eq!(record_from_bits(3, &bits[..20]), None);
        // An epoch without a test evaluation.
        let untested = EpochRecord {
            test: None,
            ..r.clone()
        };
        let bits = record_bits(&untested);
        assert_eq!(bits.len(), 4 + EVAL_FLOATS);
        assert_eq!(record_from_bits(3, &bits), Some(untested));
    }
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::{NoProgress, Outcome, RunOptions, train};

    fn done(o: Outcome) -> crate::trainer::TrainResult {
        match o {
            Outcome::Finished(r) => *r,
            Outcome::Stopped { .. } => panic!("stopped"),
        }
    }

    /// Trains `cfg` uninterrupted, then again in `dir` killed after `stop` epochs (a checkpoint every
    /// epoch) and resumed; `between` looks at the folder in between. Returns (uninterrupted, resumed).
    pub(crate) fn uninterrupted_and_resumed(
        cfg: &crate::config::TrainConfig,
        data: &crate::data::Splits,
        stop: usize,
        dir: &Path,
        between: impl FnOnce(&Path),
    ) -> (crate::trainer::TrainResult, crate::trainer::TrainResult) {
        let full = done(train(cfg, data, &RunOptions::default(), &mut NoProgress).unwrap());
        let mut opts = RunOptions {
            checkpoint_dir: Some(dir.to_path_buf()),
            resume: false,
            stop_after_epochs: Some(stop),
            checkpoint_every: 1,
        };
        assert_eq!(
            train(cfg, data, &opts, &mut NoProgress).unwrap(),
            Outcome::Stopped { epochs_done: stop }
        );
        between(dir);
        opts.resume = true;
        opts.stop_after_epochs = None;
        let resumed = done(train(cfg, data, &opts, &mut NoProgress).unwrap());
        (full, resumed)
    }

    #[test]
    fn killed_after_two_epochs_and_resumed_matches_an_uninterrupted_run() {
        let data = toy_splits();
        let cfg = small_cfg();
        let full = done(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let first = train(
            &cfg,
            &data,
            &RunOptions {
                checkpoint_dir: Some(dir.clone()),
                resume: false,
                stop_after_epochs: Some(2),
                checkpoint_every: 1,
            },
            &mut NoProgress,
        )
        .unwrap();
        assert_eq!(first, Outcome::Stopped { epochs_done: 2 });
        assert_eq!(read_manifest(&dir).unwrap().unwrap().epochs_done, 2);
        let resumed = done(
            train(
                &cfg,
                &data,
                &RunOptions {
                    checkpoint_dir: Some(dir.clone()),
                    resume: true,
                    stop_after_epochs: None,
                    checkpoint_every: 1,
                },
                &mut NoProgress,
            )
            .unwrap(),
        );
        assert_eq!(resumed.epochs_this_process, 1);
        assert_eq!(resumed.final_metrics, full.final_metrics);
        let key = |r: &crate::trainer::TrainResult| {
            r.curve
                .iter()
                .map(|e| (e.train_loss, e.val.clone(), e.test.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&resumed), key(&full));
        // Only the last epoch's files remain, plus the manifest.
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                "checkpoint.json",
                "model-e0003.safetensors",
                "optim-e0003.bpk",
                "state-e0003.json"
            ]
        );
        // A different config refuses the folder.
        let other = cfg.with_seed(99);
        assert!(
            train(
                &other,
                &data,
                &RunOptions {
                    checkpoint_dir: Some(dir),
                    resume: true,
                    stop_after_epochs: None,
                    checkpoint_every: 1,
                },
                &mut NoProgress,
            )
            .is_err()
        );
    }

    #[test]
    fn a_killed_batchnorm_regression_run_resumes_to_the_uninterrupted_numbers() {
        let (cfg, data) = crate::supervised::tests::bn_regression();
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) = uninterrupted_and_resumed(&cfg, &data, 3, tmp.path(), |_| {});
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(
            resumed.curve,
            full.curve
                .iter()
                .map(|e| EpochRecord {
                    wall_s: resumed.curve[e.epoch].wall_s,
                    train_samples_per_s: resumed.curve[e.epoch].train_samples_per_s,
                    ..e.clone()
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn killed_model_in_the_loop_resnet_runs_resume_to_the_uninterrupted_numbers() {
        // PuzzleMix's and GuidedMix-AP's saliency pass and SnapMix's CAM pass run the model once more per step; on a BatchNorm
        // network (the pass restores the running statistics) a resumed run must still land on the same
        // numbers (SnapMix, as its reference, lets its CAM pass move them). GuidedMix pairs at random here so that it also draws from the step's stream.
        use crate::models::{ModelConfig, ResNetConfig};
        use mixlab_core::methods::guidedmix::{GuidedPairing, GuidedSaliency};
        use mixlab_core::methods::{GuidedmixConfig, MethodConfig, PuzzlemixConfig, SnapmixConfig};
        use mixlab_core::mixer::MixerConfig;
        let data = toy_splits();
        for method in [
            MethodConfig::Puzzlemix(PuzzlemixConfig::default()),
            MethodConfig::Guidedmix(GuidedmixConfig {
                saliency: GuidedSaliency::Ap,
                pairing: GuidedPairing::Random,
                ..Default::default()
            }),
            MethodConfig::Snapmix(SnapmixConfig::default()),
            MethodConfig::Alignmix(mixlab_core::methods::AlignmixConfig::default()),
        ] {
            let cfg = small_cfg()
                .with_model(ModelConfig::Resnet18(ResNetConfig { width: 4 }))
                .with_epochs(3)
                .with_mixer(MixerConfig::single(method.clone()));
            let tmp = tempfile::tempdir().unwrap();
            let (full, resumed) = uninterrupted_and_resumed(&cfg, &data, 2, tmp.path(), |_| {});
            let again = done(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
            assert_eq!(again.final_metrics, full.final_metrics, "{method:?}");
            assert_eq!(resumed.final_metrics, full.final_metrics, "{method:?}");
            let losses = |r: &crate::trainer::TrainResult| -> Vec<u64> {
                r.curve.iter().map(|e| e.train_loss.to_bits()).collect()
            };
            assert_eq!(losses(&resumed), losses(&full), "{method:?}");
        }
    }

    #[test]
    fn weights_round_trip_exactly_and_reject_other_models() {
        let dev = Device::flex();
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        let cfg = crate::models::ModelConfig::Cnn(crate::models::CnnConfig::default());
        let a = cfg.init(&shape, 4, 1, &dev).unwrap();
        let bytes = weights_to_bytes(&a).unwrap();
        let b = load_weights_bytes(
            cfg.init(&shape, 4, 2, &dev).unwrap(),
            &bytes,
            Path::new("mem"),
        )
        .unwrap();
        let x = Tensor::<3>::ones([2, 1, 64], &dev);
        let ya: Vec<f32> = a
            .forward(x.clone())
            .unwrap()
            .into_data()
            .try_into_vec_as()
            .unwrap();
        let yb: Vec<f32> = b.forward(x).unwrap().into_data().try_into_vec_as().unwrap();
        assert_eq!(ya, yb);
        let other = crate::models::ModelConfig::Cnn(crate::models::CnnConfig {
            channels: vec![8],
            hidden: 16,
        });
        assert!(
            load_weights_bytes(
                other.init(&shape, 4, 0, &dev).unwrap(),
                &bytes,
                Path::new("mem")
            )
            .is_err()
        );
        assert!(
            load_weights_bytes(
                cfg.init(&shape, 4, 0, &dev).unwrap(),
                b"garbage",
                Path::new("mem")
            )
            .is_err()
        );
    }
}
