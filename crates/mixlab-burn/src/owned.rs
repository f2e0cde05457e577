//! A trainable module a training strategy owns beside the model (SMMix's token head): built on the
//! autodiff device, stepped with the gradients the loss leaves after the model took its own, by an
//! optimiser of the run's kind and weight decay at the run's learning rate, and kept in the checkpoint as
//! two strategy files (`aux-<name>-eK.safetensors` with its weights, `aux-<name>-optim-eK.bpk` with the
//! optimiser's state), so a resumed run continues it bit for bit.

use crate::checkpoint::{load_weights_bytes, weights_to_bytes};
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::state::{AuxFile, AuxKind};
use burn::optim::{GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::prelude::*;
use burn::tensor::{Bytes, Gradients};
use std::path::Path;

/// The module and its optimiser.
pub(crate) struct Owned<M: Module> {
    pub module: M,
    optim: ModuleOptimizer,
    name: &'static str,
}

impl<M: Module> Owned<M> {
    /// A fresh `module` (its initial weights already drawn), kept under `name`, or, when `saved` holds
    /// this module's two files (from a checkpoint at `origin`), the module and optimiser they hold, with
    /// `module` as the skeleton. Files of other names stay in `saved`.
    pub(crate) fn begin(
        module: M,
        name: &'static str,
        cfg: &TrainConfig,
        saved: &mut Vec<AuxFile>,
        origin: &Path,
    ) -> Result<Self> {
        let optim = cfg.optimizer.build(cfg.weight_decay);
        let optim_name = format!("{name}-optim");
        let mut take = |n: &str, kind: AuxKind| -> Option<Result<Vec<u8>>> {
            let at = saved.iter().position(|f| f.name == n)?;
            let f = saved.remove(at);
            Some(if f.kind == kind {
                Ok(f.bytes)
            } else {
                Err(Error::ckpt(
                    origin,
                    format!("strategy file {n} has the wrong kind"),
                ))
            })
        };
        match (
            take(name, AuxKind::Weights),
            take(&optim_name, AuxKind::Optimizer),
        ) {
            (None, None) => Ok(Self {
                module,
                optim,
                name,
            }),
            (Some(w), Some(o)) => {
                let module = load_weights_bytes(module, &w?, origin)?;
                let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(o?))
                    .map_err(|e| Error::ckpt(origin, format!("{optim_name}: {e}")))?;
                Ok(Self {
                    module,
                    optim: optim.load_record(record),
                    name,
                })
            }
            _ => Err(Error::ckpt(
                origin,
                format!("it holds only one of the files {name} and {optim_name}"),
            )),
        }
    }

    /// One optimiser step of the module with its gradients, taken out of `grads`.
    pub(crate) fn step(&mut self, grads: &mut Gradients, lr: f64) {
        let g = GradientsParams::from_module(grads, &self.module);
        self.module = self.optim.step(lr, self.module.clone(), g);
    }

    /// The module's two checkpoint files.
    pub(crate) fn files(&self) -> Result<Vec<AuxFile>> {
        let optim = self
            .optim
            .to_record()
            .into_bytes()
            .map_err(|e| Error::Data(format!("{} optimizer record: {e}", self.name)))?;
        Ok(vec![
            AuxFile {
                name: self.name.into(),
                kind: AuxKind::Weights,
                bytes: weights_to_bytes(&self.module)?,
            },
            AuxFile {
                name: format!("{}-optim", self.name),
                kind: AuxKind::Optimizer,
                bytes: optim.to_vec(),
            },
        ])
    }
}
