//! Cross-modal objectives of the two-tower runs beside geomix: M3CoL's mixed contrastive term and CM³'s
//! calibrated uniformity with spherical fusion. The losses run in mixlab-burn's `crossmodal`; this file
//! holds their settings and the host-side pieces with golden checks (the spherical Bézier curve and
//! M3CoL's soft targets).
//!
//! **M3CoL** (Singhal et al., RaghavSinghal10/M3CoL @ 818abdb9, `model/utils.py`, `model/model.py`): each
//! modality's embeddings are mixed with a permutation of themselves, `β ~ Beta(0.15, 0.15)` per sample,
//! each sample mixed with probability 0.5 (β = 1 for the rest), and the mix must find both sources in the
//! other modality with soft targets `(β, 1 − β)` at temperature 0.1, symmetrised (`mixco_nce`); for the
//! last 67 % of the epochs SoftCLIP replaces it (temperature 0.125, targets the softmax of the target
//! modality's own similarities). Both modalities' terms are added with weight 0.1 to the run's task loss.
//! The reference's classification losses do not exist in a retrieval run, so the task loss here is the
//! two-tower runs' CLIP loss. Fixed: where the permutation leaves a sample in place the reference
//! overwrites its diagonal target β with 1 − β (the row then sums to 1 − β); here the two are added.
//!
//! **CM³** (Zhou, Wang, Shen, enoche/CM3 @ 4099f73e, `src/models/cm3.py`): alignment
//! `mean ‖a_i − b_i‖²` plus `γ/2 ·` (uniformity of the `a` embeddings + calibrated uniformity of the `b`
//! embeddings), the calibrated uniformity `log mean exp(−2(‖b_i − b_j‖² − 2 + 2·s_ij))` over pairs i < j,
//! where `s_ij` is the cosine of the two samples' fused features clamped to `[min_sim, max_sim]`: pairs
//! whose fused features are alike are pushed apart less. The fusion is the spherical Bézier curve of the
//! sample's modality embeddings at `p ~ Beta(α, α)` per sample (the released code's slerp for two
//! modalities; de Casteljau over slerp for three or more, the paper's curve). In the two-tower runs
//! the modalities are the two towers' embeddings of the pair. `calibrate = false` gives the plain
//! alignment-uniformity loss (DirectAU), the control. Unlike the reference, the similarity is a weight
//! without a gradient by default (`sim_gradient`): its fused features are the embeddings themselves here.

use super::embedding::{check_dim, check_nonneg, check_pos};
use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Keeps cos θ inside (−1, 1), as the reference's ε = 1e-8 clamp does for float32 (1e-6 here, which
/// also keeps 1/sin θ finite in float32).
pub const COS_CLAMP: f64 = 1.0 - 1e-6;

/// M3CoL's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct M3colConfig {
    /// Beta concentration of the per-sample β (default 0.15, `--mixup_beta`).
    pub beta: f64,
    /// Probability that a sample is mixed (default 0.5, `--mixup_s_thresh`).
    pub mix_prob: f64,
    /// Temperature of the mixed contrastive term (default 0.1).
    pub mix_temperature: f64,
    /// Temperature of SoftCLIP (default 0.125).
    pub soft_temperature: f64,
    /// Weight of the two modalities' terms (default 0.1, `--lambda_mixup`).
    pub contrastive_weight: f64,
    /// Fraction of the epochs trained with the mixed term before SoftCLIP takes over (default 0.33,
    /// `--mixup_pct`).
    pub mix_fraction: f64,
    /// Temperature of the task's CLIP loss (default 0.07, as geomix's).
    pub temperature: f64,
    /// Embedding width of both towers (default 64).
    pub dim: usize,
}

impl Default for M3colConfig {
    fn default() -> Self {
        Self {
            beta: 0.15,
            mix_prob: 0.5,
            mix_temperature: 0.1,
            soft_temperature: 0.125,
            contrastive_weight: 0.1,
            mix_fraction: 0.33,
            temperature: 0.07,
            dim: 64,
        }
    }
}

impl M3colConfig {
    /// Whether `epoch` (0-based) of `epochs` trains with the mixed term (else SoftCLIP): the reference's
    /// `epoch < int(mixup_pct · num_epoch)`.
    pub fn mixing_at(&self, epoch: usize, epochs: usize) -> bool {
        epoch < (self.mix_fraction * epochs as f64) as usize
    }

    /// One modality's mix: a permutation, β per sample (1 where the sample is not mixed), from `rng`.
    pub fn draw_mix<R: Rng + ?Sized>(
        &self,
        n: usize,
        rng: &mut R,
    ) -> Result<(Vec<usize>, Vec<f32>)> {
        let mut perm: Vec<usize> = (0..n).collect();
        rand::seq::SliceRandom::shuffle(perm.as_mut_slice(), rng);
        let mut betas = Vec::with_capacity(n);
        for _ in 0..n {
            let b = sample_beta(self.beta, self.beta, rng)? as f32;
            let mixed = rand::RngExt::random::<f64>(rng) <= self.mix_prob;
            betas.push(if mixed { b } else { 1.0 });
        }
        Ok((perm, betas))
    }
}

/// M3CoL's soft targets, row-major n × n: β_i on the diagonal plus 1 − β_i at (i, perm_i) (added, so a
/// sample left in place keeps a row summing to 1).
pub fn mixco_targets(perm: &[usize], betas: &[f32]) -> Result<Vec<f32>> {
    let n = perm.len();
    if betas.len() != n {
        return Err(Error::SizeMismatch {
            what: "m3col betas (one per sample)",
            expected: n,
            got: betas.len(),
        });
    }
    if let Some(&p) = perm.iter().find(|&&p| p >= n) {
        return Err(Error::param(
            "m3col permutation",
            "indices below the batch size",
            p,
        ));
    }
    let mut t = vec![0f32; n * n];
    for (i, (&p, &b)) in perm.iter().zip(betas).enumerate() {
        t[i * n + i] += b;
        t[i * n + p] += 1.0 - b;
    }
    Ok(t)
}

impl MixMethod for M3colConfig {
    const NAME: &'static str = "m3col";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("beta", self.beta)?;
        check_range("mix_prob", self.mix_prob, 0.0, 1.0, "in [0, 1]")?;
        check_pos("mix_temperature", self.mix_temperature)?;
        check_pos("soft_temperature", self.soft_temperature)?;
        check_pos("temperature", self.temperature)?;
        check_nonneg("contrastive_weight", self.contrastive_weight)?;
        check_range("mix_fraction", self.mix_fraction, 0.0, 1.0, "in [0, 1]")?;
        check_dim(self.dim)
    }

    /// The run's step draws its own permutations and β (see [`M3colConfig::draw_mix`]).
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Ok(Draw {
            weight: SampleWeight::Keep,
            lam_label: 1.0,
        })
    }
}

/// CM³'s settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cm3Config {
    /// Beta concentration α of the fusion point p (default 0.5, the middle of the reference's grid
    /// {0.1, 0.5, 0.9}).
    pub alpha: f64,
    /// Weight γ of the uniformity terms (default 0.5, from the grid {0.5, 0.9}).
    pub gamma: f64,
    /// Lower clamp of the fused-feature similarity (default 0).
    pub min_sim: f64,
    /// Upper clamp (default 1, from the grid {0.8, 1.0}).
    pub max_sim: f64,
    /// Calibrate the uniformity by the fused similarity (default true; false is the plain
    /// alignment-uniformity loss).
    pub calibrate: bool,
    /// Let the gradient flow through the fused similarity, as the reference does (default false: it is a
    /// weight). In the reference the fused features come from feature networks of their own; in a
    /// two-tower run they are the embeddings being spread, where `‖b_i − b_j‖² − 2 + 2·s_ij` is then
    /// nearly 0 for every pair and the gradient through s cancels the repulsion: measured, the embeddings
    /// collapse.
    pub sim_gradient: bool,
    /// Embedding width of both towers (default 64, the reference's).
    pub dim: usize,
}

impl Default for Cm3Config {
    fn default() -> Self {
        Self {
            alpha: 0.5,
            gamma: 0.5,
            min_sim: 0.0,
            max_sim: 1.0,
            calibrate: true,
            sim_gradient: false,
            dim: 64,
        }
    }
}

impl MixMethod for Cm3Config {
    const NAME: &'static str = "cm3";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        check_nonneg("gamma", self.gamma)?;
        check_range("min_sim", self.min_sim, -1.0, 1.0, "in [-1, 1]")?;
        check_range("max_sim", self.max_sim, -1.0, 1.0, "in [-1, 1]")?;
        if self.min_sim > self.max_sim {
            return Err(Error::param(
                "min_sim",
                "at most max_sim",
                format!("{} > {}", self.min_sim, self.max_sim),
            ));
        }
        check_dim(self.dim)
    }

    /// The fusion point p of one sample: Beta(α, α).
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let p = sample_beta(self.alpha, self.alpha, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam: p },
            lam_label: p,
        })
    }
}

/// The slerp of unit vectors `a`, `b` with weight `p` on `a`: `sin(pθ)/sin θ · a + sin((1 − p)θ)/sin θ · b`
/// (the reference's order: p = 1 gives a).
pub fn slerp(a: &[f64], b: &[f64], p: f64) -> Vec<f64> {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let theta = dot.clamp(-COS_CLAMP, COS_CLAMP).acos();
    let (wa, wb) = (
        (p * theta).sin() / theta.sin(),
        ((1.0 - p) * theta).sin() / theta.sin(),
    );
    a.iter().zip(b).map(|(x, y)| wa * x + wb * y).collect()
}

/// The spherical Bézier curve of unit control points at t, by de Casteljau over slerp: each round
/// replaces neighbours (c_k, c_k+1) by their slerp at weight 1 − t on c_k, so t = 0 gives the first
/// point and t = 1 the last; two points give the slerp itself.
pub fn bezier(points: &[Vec<f64>], t: f64) -> Result<Vec<f64>> {
    let Some(first) = points.first() else {
        return Err(Error::param("bezier control points", "at least one", 0));
    };
    if let Some(p) = points.iter().find(|p| p.len() != first.len()) {
        return Err(Error::SizeMismatch {
            what: "bezier control point",
            expected: first.len(),
            got: p.len(),
        });
    }
    let mut level = points.to_vec();
    while level.len() > 1 {
        level = level
            .windows(2)
            .map(|w| slerp(&w[0], &w[1], 1.0 - t))
            .collect();
    }
    Ok(level.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn bezier_golden_values() {
        // methods-dynamic.md §10.2(f), computed from the reference's slerp.
        let e = |k: usize| {
            (0..3)
                .map(|i| f64::from(u8::from(i == k)))
                .collect::<Vec<f64>>()
        };
        let mid = bezier(&[e(0), e(1), e(2)], 0.5).unwrap();
        assert!(close(&mid, &[0.408248, 0.816497, 0.408248]), "{mid:?}");
        assert!((mid.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-9);
        // The code's two-modality fusion at p = 0.25 (p weighs the first vector).
        assert!(close(
            &slerp(&e(0), &e(1), 0.25),
            &[0.382683, 0.923880, 0.0]
        ));
        // Two points reduce to slerp; the ends are the end points.
        let (a, b) = (vec![0.6, 0.8, 0.0], vec![0.0, 0.6, 0.8]);
        assert!(close(
            &bezier(&[a.clone(), b.clone()], 0.3).unwrap(),
            &slerp(&a, &b, 0.7)
        ));
        let pts = [e(0), a.clone(), b.clone(), e(2)];
        assert!(close(&bezier(&pts, 0.0).unwrap(), &e(0)));
        assert!(close(&bezier(&pts, 1.0).unwrap(), &e(2)));
        assert!(bezier(&[], 0.5).is_err());
        assert!(bezier(&[a, vec![1.0]], 0.5).is_err());
    }

    #[test]
    fn mixco_targets_sum_to_one_where_the_reference_loses_mass() {
        // methods-dynamic.md §10.1(e): β = [.9, .8, .7], perm = [0, 2, 1]; the reference's row 0 is
        // [.1, 0, 0].
        let t = mixco_targets(&[0, 2, 1], &[0.9, 0.8, 0.7]).unwrap();
        let want = [1.0, 0.0, 0.0, 0.0, 0.8, 0.2, 0.0, 0.3, 0.7];
        assert!(
            t.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{t:?}"
        );
        assert!(mixco_targets(&[0, 3, 1], &[1.0; 3]).is_err());
        // Unmixed samples get β = 1; about half are mixed.
        let cfg = M3colConfig::default();
        let (perm, betas) = cfg
            .draw_mix(4000, &mut stream(1, Purpose::Mix, 0, 0))
            .unwrap();
        let mut seen = perm.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..4000).collect::<Vec<_>>());
        let unmixed = betas.iter().filter(|&&b| b == 1.0).count();
        assert!((1850..2150).contains(&unmixed), "{unmixed}");
        assert!(cfg.mixing_at(0, 10) && cfg.mixing_at(2, 10) && !cfg.mixing_at(3, 10));
    }

    #[test]
    fn bad_settings_are_refused() {
        let s = SampleShape::new(1, &[4]).unwrap();
        assert!(
            M3colConfig {
                mix_prob: 1.5,
                ..Default::default()
            }
            .validate(&s)
            .is_err()
        );
        assert!(
            M3colConfig {
                beta: 0.0,
                ..Default::default()
            }
            .validate(&s)
            .is_err()
        );
        assert!(
            Cm3Config {
                min_sim: 0.9,
                max_sim: 0.8,
                ..Default::default()
            }
            .validate(&s)
            .is_err()
        );
        assert!(
            Cm3Config {
                dim: 1,
                ..Default::default()
            }
            .validate(&s)
            .is_err()
        );
        assert!(
            M3colConfig::default().validate(&s).is_ok()
                && Cm3Config::default().validate(&s).is_ok()
        );
    }
}
