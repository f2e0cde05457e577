//! Device choice: the closed set of devices a run may ask for, turned into a Burn `Device`.
//!
//! CUDA exists only when the crate is built with the `cuda` feature; asking for it otherwise is a
//! typed error, never a panic, so a CLI can say how to get it.

use crate::error::{Error, Result};
use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// Where tensors live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// Burn's flex CPU backend.
    #[default]
    Cpu,
    /// The first CUDA device (needs the `cuda` feature).
    Cuda,
}

impl DeviceKind {
    /// The plain (non-autodiff) device.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceKind::Cpu => Ok(Device::flex()),
            DeviceKind::Cuda => cuda(),
        }
    }

    /// True when this build can create the device.
    pub fn available(self) -> bool {
        self.device().is_ok()
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<Device> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device> {
    Err(Error::DeviceUnavailable("cuda"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_there_and_cuda_only_with_the_feature() {
        assert!(DeviceKind::Cpu.device().is_ok());
        if cfg!(feature = "cuda") {
            assert!(DeviceKind::Cuda.device().is_ok());
        } else {
            let e = DeviceKind::Cuda.device().unwrap_err().to_string();
            assert!(e.contains("--features cuda"), "{e}");
        }
    }
}
