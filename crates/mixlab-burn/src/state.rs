//! The mutable state of a run between epochs (weights, optimiser, best-validation snapshot, curve):
//! what the engine advances and a checkpoint stores.

use crate::models::Model;
use crate::records::EpochRecord;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

/// Mutable state of a run between epochs (what a checkpoint stores besides the weights).
pub(crate) struct RunState {
    pub model: Model,
    pub optim: ModuleOptimizer,
    pub best: Option<(usize, f64, Model)>,
    pub curve: Vec<EpochRecord>,
    /// The files a training strategy kept in the checkpoint this run resumed from (its own modules,
    /// e.g. a momentum copy); empty for a fresh run. The strategy takes them when it begins.
    pub aux: Vec<AuxFile>,
}

/// A file a training strategy keeps in the run's checkpoint beside the model and optimiser:
/// `aux-<name>-eK.<ext>`.
pub(crate) struct AuxFile {
    /// What it holds, a short kebab-case name (`ema`).
    pub name: String,
    pub kind: AuxKind,
    pub bytes: Vec<u8>,
}

/// The format of a strategy's checkpoint file, which gives its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuxKind {
    /// Module weights as safetensors (`.safetensors`).
    Weights,
    /// An optimiser's state as Burn writes it (`.bpk`, as the run's own `optim-eK.bpk`).
    Optimizer,
    /// Plain state as JSON (`.json`: a continual run's replay buffer and accuracy matrix).
    Json,
}

impl AuxKind {
    pub(crate) fn ext(self) -> &'static str {
        match self {
            AuxKind::Weights => "safetensors",
            AuxKind::Optimizer => "bpk",
            AuxKind::Json => "json",
        }
    }

    pub(crate) fn from_ext(ext: &str) -> Option<Self> {
        [AuxKind::Weights, AuxKind::Optimizer, AuxKind::Json]
            .into_iter()
            .find(|k| k.ext() == ext)
    }
}

/// A copy of `model` that shares nothing with it. A `clone()` would not do: Burn's `RunningState`
/// (BatchNorm's running mean and variance) keeps its value behind an `Arc<Mutex<…>>` that clones share
/// and training updates in place, so a cloned "best epoch" would end with the last epoch's statistics.
/// `valid()` builds fresh running states from the synchronised values (and drops the autodiff graph,
/// which a snapshot never needs).
pub(crate) fn snapshot(model: &Model) -> Model {
    model.valid()
}
