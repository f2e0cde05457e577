//! Device choice: the closed set of devices a run may ask for, turned into a Burn `Device`.
//!
//! CUDA and Vulkan exist only when the crate is built with the `cuda` or `vulkan` feature; asking for
//! one otherwise is a typed error, never a panic, so a CLI can say how to get it. Whether a GPU is
//! actually there is only known when the first tensor lands on it: [`DeviceKind::probe`] finds out.

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
    /// The default Vulkan adapter through wgpu, SPIR-V kernels (needs the `vulkan` feature).
    Vulkan,
}

impl DeviceKind {
    /// The plain (non-autodiff) device.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceKind::Cpu => Ok(Device::flex()),
            DeviceKind::Cuda => cuda(),
            DeviceKind::Vulkan => vulkan(),
        }
    }

    /// True when this build can create the device.
    pub fn available(self) -> bool {
        self.device().is_ok()
    }

    /// The device with one small tensor round trip done on it, or why not. Burn's GPU runtimes start
    /// lazily and panic when no adapter or driver is found; that panic is caught here and returned
    /// as [`Error::DeviceUnavailable`]-like text, so callers can skip or report instead of aborting.
    pub fn probe(self) -> std::result::Result<Device, String> {
        use std::sync::{Arc, Mutex};
        let device = self.device().map_err(|e| e.to_string())?;
        let dev = device.clone();
        // The runtime may panic on its own device thread; the first message there says why.
        let said: Arc<Mutex<Vec<String>>> = Arc::default();
        let slot = said.clone();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut v) = slot.lock() {
                v.push(info.to_string().replace('\n', " "));
            }
        }));
        let got = std::panic::catch_unwind(move || {
            let t = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &dev);
            t.sum().into_scalar::<f32>()
        });
        std::panic::set_hook(hook);
        match got {
            Ok(6.0) => Ok(device),
            Ok(v) => Err(format!("{self:?} device answered 1+2+3 = {v}")),
            Err(_) => {
                let said = said.lock().map(|v| v.join("; ")).unwrap_or_default();
                Err(format!("{self:?} device did not start: {said}"))
            }
        }
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

#[cfg(feature = "vulkan")]
fn vulkan() -> Result<Device> {
    Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "vulkan"))]
fn vulkan() -> Result<Device> {
    Err(Error::DeviceUnavailable("vulkan"))
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
        if !cfg!(feature = "vulkan") {
            let e = DeviceKind::Vulkan.probe().unwrap_err();
            assert!(e.contains("--features vulkan"), "{e}");
        }
        assert!(DeviceKind::Cpu.probe().is_ok());
    }
}
