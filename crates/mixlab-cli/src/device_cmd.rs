//! `mixlab device-check`: whether a device (a GPU build's `cuda` or `vulkan`) computes what the CPU
//! computes: every host method's device apply, the loss and every model's forward pass, against stated
//! tolerances (`mixlab_burn::agreement`). Prints one line per check and optionally writes JSON.

use crate::fsio::write_atomic;
use crate::train_cmd::DeviceName;
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

/// Options of `mixlab device-check`.
#[derive(Args, Debug)]
pub struct DeviceCheckArgs {
    /// The device to compare with the CPU.
    #[arg(long, value_enum)]
    pub device: DeviceName,
    /// Also write the checks as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs the comparison; fails when the device cannot start or any check is out of tolerance.
pub fn run(args: &DeviceCheckArgs) -> anyhow::Result<()> {
    let kind = args.device.kind();
    let checks = mixlab_burn::agreement::run(kind).map_err(anyhow::Error::msg)?;
    for c in &checks {
        let rule = if c.relative { "relative" } else { "absolute" };
        println!(
            "{:<5} {:<32} max |Δ| {:.3e}  (cpu scale {:.3e}, {rule} tolerance {:.0e})",
            if c.pass { "ok" } else { "FAIL" },
            c.what,
            c.max_abs_diff,
            c.cpu_scale,
            c.tolerance
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "device": format!("{kind:?}"),
            "checks": checks,
        }))?;
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    if failed > 0 {
        bail!(
            "{failed} of {} checks out of tolerance on {kind:?}",
            checks.len()
        );
    }
    println!(
        "{kind:?} agrees with the CPU on all {} checks",
        checks.len()
    );
    Ok(())
}
