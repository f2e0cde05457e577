//! Command-line options that describe a mixer (methods, their hyper-parameters, composition), shared by
//! `plan`, `show` and `train`, and their translation into a validated `MixerConfig`.
//!
//! Method options are applied to every selected method whose config has that field; an option that no
//! selected method understands is an error (so `--decay-power` with `--method mixup` is refused, not ignored).

use anyhow::{Context, Result, bail};
use clap::Args;
use mixlab_core::boxes::BoxRule;
use mixlab_core::methods::fmix::FmixSpectrum;
use mixlab_core::methods::{Method, MethodConfig};
use mixlab_core::mixer::{Granularity, MixerConfig, Pairing, WeightedMethod};
use serde_json::{Value, json};

/// Mixing options.
#[derive(Args, Debug, Clone)]
pub struct MixArgs {
    /// Mixing method(s); several as a comma-separated list are chosen per draw by --method-weights.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mixup")]
    pub method: Vec<Method>,
    /// Selection weights of the methods (default: equal), timm's switch_prob generalised.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub method_weights: Vec<f64>,
    /// Beta concentration α of λ ~ Beta(α, α) (methods that draw λ).
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// CutMix min/max box side ratios, e.g. 0.2,0.8 (timm cutmix_minmax).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub minmax: Option<Vec<f64>>,
    /// CutMix: where a box of odd side ends (torchvision: c + ⌊cut/2⌋; timm ≥ 1.0.31: c + ⌈cut/2⌉).
    #[arg(long, value_enum)]
    pub box_rule: Option<BoxRule>,
    /// Do not correct λ to the realised area / mask mean.
    #[arg(long)]
    pub no_correct_lam: bool,
    /// FMix spectrum decay power.
    #[arg(long, allow_negative_numbers = true)]
    pub decay_power: Option<f64>,
    /// FMix soft-edge width in [0, 0.5].
    #[arg(long, allow_negative_numbers = true)]
    pub max_soft: Option<f64>,
    /// FMix: which spectrum the low-frequency image comes from (complex: the reference's master;
    /// real-reshape: its earlier real-array version).
    #[arg(long, value_enum)]
    pub spectrum: Option<FmixSpectrum>,
    /// FMix: λ ~ Beta(α + 1, α).
    #[arg(long)]
    pub reformulate: bool,
    /// ResizeMix scale range of the pasted partner, e.g. 0.1,0.8.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub scope: Option<Vec<f64>>,
    /// Any other method hyper-parameter as KEY=VALUE (VALUE in TOML syntax, e.g. n_holes=[2,6]).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Probability that a draw group is mixed at all.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub prob: f64,
    /// Which samples share one draw.
    #[arg(long, value_enum, default_value = "batch")]
    pub granularity: Granularity,
    /// How partners are chosen.
    #[arg(long, value_enum, default_value = "permute")]
    pub pairing: Pairing,
    /// Label smoothing (timm's rule).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub smoothing: f32,
    /// Epoch from which mixing is switched off.
    #[arg(long)]
    pub off_epoch: Option<u64>,
}

impl MixArgs {
    /// The mixer these options describe (not yet validated against a shape).
    pub fn mixer(&self) -> Result<MixerConfig> {
        if self.method.is_empty() {
            bail!("--method needs at least one method");
        }
        let weights = match self.method_weights.len() {
            0 => vec![1.0; self.method.len()],
            n if n == self.method.len() => self.method_weights.clone(),
            n => bail!(
                "--method-weights has {n} values but --method names {} methods",
                self.method.len()
            ),
        };
        // JSON has no NaN or infinity: refuse them here, naming the option, before they turn into null.
        let finite = |flag: &str, vals: &[f64]| -> Result<()> {
            match vals.iter().find(|v| !v.is_finite()) {
                Some(v) => bail!("{flag} must be a finite number, got {v}"),
                None => Ok(()),
            }
        };
        let pair = |flag: &str, v: &Option<Vec<f64>>| -> Result<()> {
            match v {
                Some(v) if v.len() != 2 => bail!("{flag} needs two values LO,HI, got {}", v.len()),
                Some(v) => finite(flag, v),
                None => Ok(()),
            }
        };
        finite("--alpha", self.alpha.as_slice())?;
        finite("--decay-power", self.decay_power.as_slice())?;
        finite("--max-soft", self.max_soft.as_slice())?;
        pair("--minmax", &self.minmax)?;
        pair("--scope", &self.scope)?;
        let mut overrides: Vec<(String, Value, &'static str)> = Vec::new();
        let mut push =
            |key: &str, v: Value, flag: &'static str| overrides.push((key.to_string(), v, flag));
        if let Some(a) = self.alpha {
            push("alpha", json!(a), "--alpha");
        }
        if let Some(mm) = &self.minmax {
            push("minmax", json!(mm), "--minmax");
        }
        if let Some(r) = self.box_rule {
            push("box_rule", json!(r), "--box-rule");
        }
        if let Some(sp) = self.spectrum {
            push("spectrum", json!(sp), "--spectrum");
        }
        if self.no_correct_lam {
            push("correct_lam", json!(false), "--no-correct-lam");
        }
        if let Some(v) = self.decay_power {
            push("decay_power", json!(v), "--decay-power");
        }
        if let Some(v) = self.max_soft {
            push("max_soft", json!(v), "--max-soft");
        }
        if self.reformulate {
            push("reformulate", json!(true), "--reformulate");
        }
        if let Some(s) = &self.scope {
            push("scope", json!(s), "--scope");
        }
        for p in &self.params {
            let (k, v) = p
                .split_once('=')
                .with_context(|| format!("--param {p:?} must look like KEY=VALUE"))?;
            let value: toml::Table = toml::from_str(&format!("v = {v}"))
                .or_else(|_| toml::from_str(&format!("v = {:?}", v)))
                .with_context(|| format!("--param {p:?}: cannot read the value"))?;
            if let Some(f) = value["v"].as_float().filter(|f| !f.is_finite()) {
                bail!("--param {}: must be a finite number, got {f}", k.trim());
            }
            push(k.trim(), serde_json::to_value(&value["v"])?, "--param");
        }
        let mut used = vec![false; overrides.len()];
        let mut methods = Vec::new();
        for (&m, &w) in self.method.iter().zip(&weights) {
            let mut table = config_table(&m.default_config())?;
            for (k, (key, value, _)) in overrides.iter().enumerate() {
                if table.contains_key(key) {
                    table.insert(key.clone(), value.clone());
                    used[k] = true;
                }
            }
            let config: MethodConfig = serde_json::from_value(Value::Object(table))
                .with_context(|| format!("invalid options for method {m}"))?;
            methods.push(WeightedMethod { weight: w, config });
        }
        if let Some(k) = used.iter().position(|u| !u) {
            let (key, _, flag) = &overrides[k];
            let names: Vec<_> = self.method.iter().map(|m| m.name()).collect();
            bail!(
                "option {flag} ({key}) does not apply to method {}",
                names.join(",")
            );
        }
        Ok(MixerConfig {
            methods,
            prob: self.prob,
            granularity: self.granularity,
            pairing: self.pairing,
            label_smoothing: self.smoothing,
            off_epoch: self.off_epoch,
        })
    }
}

/// A method config as a JSON object (`"method": …` plus every field, unset options as null), the form
/// overrides are applied to.
fn config_table(c: &MethodConfig) -> Result<serde_json::Map<String, Value>> {
    match serde_json::to_value(c).context("serialising a method config")? {
        Value::Object(t) => Ok(t),
        other => bail!("method config serialised to {other}, not an object"),
    }
}
