//! Beat- and onset-synchronous waveform mixup, after MusicLDM's beat-synchronous audio mixup (BAM; Chen et
//! al., arXiv 2308.01546): each sample is mixed with a partner that was first moved in time so that the two
//! clips' first downbeats (music) or first onsets (speech) coincide, `x = λ·x_i + (1 − λ)·shift(x_j)` with
//! `λ ~ Beta(5, 5)`, and the labels are mixed with λ.
//!
//! MusicLDM's pairing and alignment live in its unreleased data loader, and its beat tracker (Beat
//! Transformer) is not usable offline, so this follows the paper's description on mixlab's own analysis
//! ([`crate::beat`]). The choices the paper leaves open, made here:
//! - `align = "beat"` pairs only clips of one tempo class (equal within `tempo_tolerance`, or 2:1, since
//!   trackers make octave errors): a drawn partner of another class is replaced by a uniformly drawn batch
//!   member of the sample's class, and a sample with no such member (or no tempo) stays unmixed. Clips are
//!   not time-stretched to one tempo (the paper groups by tempo; stretching would change the sound);
//! - `align = "onset"` (the default, for speech such as FSDD, which has no beats) lines up the first
//!   strong onsets ([`beat::first_strong_onset`]: a faint click in the leading silence is skipped) and
//!   keeps every drawn pair; `align = "off"` keeps the partner where it is (plain mixup with the
//!   method's other settings, the control that isolates the alignment);
//! - the shift zero-fills and crops (no wrap-around); a clip with no onset (silence) is not moved;
//! - `match_rms` scales the moved partner to the sample's RMS before mixing, so λ is the share of energy
//!   it says and a loud partner cannot drown a quiet sample (MusicLDM mixes songs normalised in loudness);
//! - the analysis runs on the channel mean of each augmented sample, every step (≈ 60 FFTs of 1 024 points
//!   per second of 8 kHz audio).
//!
//! The plan is drawn as mixup's (one λ per draw); [`synchronise`] then re-pairs, moves and mixes on the
//! host. λ ~ Beta(5, 5) has mean ½ and standard deviation 0.151, so the labels hardly vary.

use super::{Draw, DrawCtx, Method, MixMethod, check_alpha};
use crate::beat::{self, BeatConfig, Beats};
use crate::error::{Error, Result};
use crate::plan::MixPlan;
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// What the partner is lined up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Align {
    /// The first onset of each clip (speech, sound events).
    #[default]
    Onset,
    /// The first downbeat (else beat, else onset), pairing only clips of one tempo class (music).
    Beat,
    /// No alignment: the partner stays where it is.
    Off,
}

/// Beat-synchronous mixup's hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeatsyncConfig {
    /// Beta concentration α of λ (default 5, MusicLDM's Beta(5, 5)).
    pub alpha: f64,
    /// What the clips are lined up on (default `onset`).
    pub align: Align,
    /// Relative tempo difference within which two clips share a tempo class (default 0.04; `beat` only).
    pub tempo_tolerance: f64,
    /// Scale the partner to the sample's RMS before mixing (default true).
    pub match_rms: bool,
    /// The waveforms' sample rate in Hz (default 8 000, FSDD's); it sets the tempo range in frames.
    pub sample_rate: u32,
}

impl Default for BeatsyncConfig {
    fn default() -> Self {
        Self {
            alpha: 5.0,
            align: Align::Onset,
            tempo_tolerance: 0.04,
            match_rms: true,
            sample_rate: 8000,
        }
    }
}

impl MixMethod for BeatsyncConfig {
    const NAME: &'static str = "beatsync";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 1 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        check_alpha("alpha", self.alpha)?;
        if !(self.tempo_tolerance.is_finite() && self.tempo_tolerance > 0.0)
            || self.tempo_tolerance > 0.5
        {
            return Err(Error::param(
                "tempo_tolerance",
                "in (0, 0.5]",
                self.tempo_tolerance,
            ));
        }
        if self.sample_rate == 0 {
            return Err(Error::param("sample_rate", ">= 1 Hz", self.sample_rate));
        }
        let frame = BeatConfig::default().n_fft;
        if shape.spatial_len() < frame {
            return Err(Error::UnsupportedLayout {
                method: Self::NAME,
                shape: shape.to_string(),
                why: "a clip must hold at least one analysis frame (1 024 samples)",
            });
        }
        Ok(())
    }

    /// Mixup's blend; [`synchronise`] moves the partner before it is applied.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        super::representation::blend(self.alpha, rng)
    }
}

/// A synchronised batch: the mixed waveforms and, per sample, its partner as it went into the mix (moved
/// and rescaled; the sample itself where it stayed unmixed).
#[derive(Clone, Debug, PartialEq)]
pub struct Synced {
    /// The mixed batch, laid out as the input.
    pub mixed: Vec<f32>,
    /// Each sample's partner after alignment and scaling.
    pub partners: Vec<f32>,
    /// The delay applied to each sample's partner, in samples (0 where nothing moved).
    pub shifts: Vec<isize>,
}

/// Mixes `batch` (B samples of `plan.shape`) as `plan` says, each partner first lined up with its
/// sample. In `beat` mode the plan is re-paired by tempo class (partners drawn from `rng`) and samples
/// left without a partner become unmixed (`Keep`, own label weight 1), so the plan stays the record of
/// what was mixed. Blends are the only weights this method draws; any other is refused.
pub fn synchronise<R: Rng + ?Sized>(
    cfg: &BeatsyncConfig,
    batch: &[f32],
    plan: &mut MixPlan,
    rng: &mut R,
) -> Result<Synced> {
    plan.validate()?;
    let shape = plan.shape;
    cfg.validate(&shape)?;
    let (b, len) = (plan.len(), shape.sample_len());
    if batch.len() != b * len {
        return Err(Error::SizeMismatch {
            what: "beat-synchronous batch",
            expected: b * len,
            got: batch.len(),
        });
    }
    let bc = BeatConfig::default();
    let mut analysis = Vec::new();
    let mut onset = Vec::new();
    if cfg.align != Align::Off {
        for x in batch.chunks_exact(len) {
            let m = mono(x, shape.channels);
            let a = beat::analyse(&m, cfg.sample_rate, &bc)?;
            onset.push(beat::first_strong_onset(&m, cfg.sample_rate, &a, &bc));
            analysis.push(a);
        }
    }
    if cfg.align == Align::Beat {
        pair_by_tempo(cfg, &analysis, plan, rng);
    }
    let mut mixed = batch.to_vec();
    let mut partners = batch.to_vec();
    let mut shifts = vec![0isize; b];
    for i in 0..b {
        let lam = match plan.weights[i] {
            SampleWeight::Keep => continue,
            SampleWeight::Blend { lam } => lam,
            ref other => {
                return Err(Error::Incompatible(format!(
                    "beatsync mixes by blending, its plan holds {other:?}"
                )));
            }
        };
        let j = plan.partner[i];
        let by = match cfg.align {
            Align::Off => 0,
            Align::Onset => match (onset[i], onset[j]) {
                (Some(a), Some(p)) => a as isize - p as isize,
                _ => 0,
            },
            Align::Beat => beat::alignment(&analysis[i], &analysis[j]).unwrap_or(0),
        };
        shifts[i] = by;
        let source = &batch[j * len..(j + 1) * len];
        let own = &batch[i * len..(i + 1) * len];
        let dims = shape.spatial_len();
        let mut moved: Vec<f32> = source
            .chunks_exact(dims)
            .flat_map(|ch| beat::shift(ch, by))
            .collect();
        if cfg.match_rms {
            let (r_own, r_moved) = (rms(own), rms(&moved));
            if r_own > 0.0 && r_moved > 0.0 {
                let g = (r_own / r_moved) as f32;
                moved.iter_mut().for_each(|v| *v *= g);
            }
        }
        for ((o, &a), &p) in mixed[i * len..(i + 1) * len]
            .iter_mut()
            .zip(own)
            .zip(&moved)
        {
            *o = lam * a + (1.0 - lam) * p;
        }
        partners[i * len..(i + 1) * len].copy_from_slice(&moved);
    }
    Ok(Synced {
        mixed,
        partners,
        shifts,
    })
}

/// The channel mean of one C×L sample.
fn mono(x: &[f32], channels: usize) -> Vec<f32> {
    let l = x.len() / channels;
    (0..l)
        .map(|t| (0..channels).map(|c| x[c * l + t]).sum::<f32>() / channels as f32)
        .collect()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Replaces each blended sample's partner by one of its tempo class where the drawn one is not; a sample
/// with no tempo or no same-class batch member is kept unmixed.
fn pair_by_tempo<R: Rng + ?Sized>(
    cfg: &BeatsyncConfig,
    analysis: &[Beats],
    plan: &mut MixPlan,
    rng: &mut R,
) {
    let same = |i: usize, j: usize| match (analysis[i].bpm, analysis[j].bpm) {
        (Some(a), Some(b)) => beat::same_tempo_class(a, b, cfg.tempo_tolerance),
        _ => false,
    };
    for i in 0..plan.len() {
        if matches!(plan.weights[i], SampleWeight::Keep) || same(i, plan.partner[i]) {
            continue;
        }
        let class: Vec<usize> = (0..plan.len()).filter(|&k| k != i && same(i, k)).collect();
        if class.is_empty() {
            plan.weights[i] = SampleWeight::Keep;
            plan.lam_label[i] = 1.0;
            plan.partner[i] = i;
            plan.method[i] = Method::None;
        } else {
            plan.partner[i] = class[rng.random_range(0..class.len())];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    const SR: u32 = 8000;

    /// One second of silence with a decaying noise burst (a "word") starting at `at`.
    fn burst(at: usize, gain: f32, seed: u64) -> Vec<f32> {
        let mut rng = stream(seed, Purpose::Augment, 0, 0);
        let mut x = vec![0f32; 8000];
        for (k, v) in x.iter_mut().enumerate().skip(at).take(2000) {
            let env =
                (1.0 - (-((k - at) as f32) / 40.0).exp()) * (-((k - at) as f32) / 800.0).exp();
            *v = gain * (rng.random::<f32>() - 0.5) * env;
        }
        x
    }

    /// A click track at `bpm` from `phase` samples, every fourth click louder.
    fn clicks(bpm: f64, phase: usize, seed: u64) -> Vec<f32> {
        let n = 6 * SR as usize;
        let mut rng = stream(seed, Purpose::Augment, 0, 1);
        let mut x: Vec<f32> = (0..n).map(|_| (rng.random::<f32>() - 0.5) * 0.01).collect();
        let period = 60.0 / bpm * f64::from(SR);
        let mut k = 0;
        while phase as f64 + k as f64 * period < n as f64 {
            let s = (phase as f64 + k as f64 * period).round() as usize;
            let g = if k % 4 == 0 { 1.0 } else { 0.5 };
            for t in 0..80.min(n - s) {
                x[s + t] += g * (rng.random::<f32>() - 0.5) * (-(t as f32) / 15.0).exp();
            }
            k += 1;
        }
        x
    }

    fn blend_plan(shape: SampleShape, partner: Vec<usize>, lam: f32) -> MixPlan {
        let b = partner.len();
        MixPlan {
            shape,
            partner,
            weights: vec![SampleWeight::Blend { lam }; b],
            lam_label: vec![lam; b],
            method: vec![Method::Beatsync; b],
        }
    }

    #[test]
    fn onsets_are_lined_up_and_the_mix_is_the_blend_of_the_moved_partner() {
        let (a, p) = (burst(1000, 1.0, 1), burst(3000, 0.25, 2));
        let batch: Vec<f32> = a.iter().chain(&p).copied().collect();
        let shape = SampleShape::new(1, &[8000]).unwrap();
        let mut plan = blend_plan(shape, vec![1, 0], 0.6);
        let cfg = BeatsyncConfig::default();
        let s = synchronise(&cfg, &batch, &mut plan, &mut stream(0, Purpose::Mix, 0, 0)).unwrap();
        // The onsets are found within one hop (128 samples) of where the bursts start, so the delay
        // is the start difference within two hops.
        assert!((s.shifts[0] + 2000).abs() <= 256, "{:?}", s.shifts);
        assert_eq!(s.shifts[1], -s.shifts[0]);
        // Sample 0's partner is sample 1 advanced and brought to sample 0's RMS.
        let moved = beat::shift(&p, s.shifts[0]);
        let g = (rms(&a) / rms(&moved)) as f32;
        for t in 0..8000 {
            let want = 0.6 * a[t] + 0.4 * g * moved[t];
            assert!((s.mixed[t] - want).abs() <= 1e-6 * (1.0 + want.abs()));
        }
        assert!((rms(&s.partners[..8000]) - rms(&a)).abs() < 1e-4);
        // Without RMS matching and alignment it is plain mixup.
        let off = BeatsyncConfig {
            align: Align::Off,
            match_rms: false,
            ..cfg
        };
        let s = synchronise(&off, &batch, &mut plan, &mut stream(0, Purpose::Mix, 0, 0)).unwrap();
        for t in 0..8000 {
            assert_eq!(s.mixed[t], 0.6 * a[t] + (1.0 - 0.6f32) * p[t]);
        }
        assert_eq!(s.shifts, vec![0, 0]);
    }

    #[test]
    fn beat_mode_pairs_by_tempo_class_and_lines_up_downbeats() {
        // Clips 0 and 2 at 120 BPM (different phases), clip 1 at 90 BPM: 0's drawn partner 1 is
        // replaced by 2, and 1 has no class mate, so it stays unmixed.
        let clips = [
            clicks(120.0, 2400, 1),
            clicks(90.0, 1000, 2),
            clicks(120.0, 5200, 3),
        ];
        let batch: Vec<f32> = clips.iter().flatten().copied().collect();
        let shape = SampleShape::new(1, &[6 * SR as usize]).unwrap();
        let mut plan = blend_plan(shape, vec![1, 2, 0], 0.5);
        let cfg = BeatsyncConfig {
            align: Align::Beat,
            ..Default::default()
        };
        let s = synchronise(&cfg, &batch, &mut plan, &mut stream(0, Purpose::Mix, 0, 0)).unwrap();
        assert_eq!(plan.partner, vec![2, 1, 0]);
        assert_eq!(plan.weights[1], SampleWeight::Keep);
        assert_eq!((plan.lam_label[1], plan.method[1]), (1.0, Method::None));
        assert_eq!(
            &s.mixed[shape.sample_len()..2 * shape.sample_len()],
            &clips[1][..]
        );
        // Clip 2's first downbeat (5 200) moves onto clip 0's (2 400), within one hop each.
        assert!((s.shifts[0] + 2800).abs() <= 256, "{:?}", s.shifts);
        let cfgb = BeatConfig::default();
        let moved = beat::analyse(&s.partners[..shape.sample_len()], SR, &cfgb).unwrap();
        assert!(moved.downbeat.unwrap().abs_diff(2400) <= 2 * cfgb.hop);
        // The mixed length equals the input length.
        assert_eq!(s.mixed.len(), batch.len());
    }

    #[test]
    fn silence_is_mixed_in_place_and_bad_input_is_an_error() {
        let shape = SampleShape::new(1, &[4096]).unwrap();
        let mut x = vec![0f32; 2 * 4096];
        x[4096 + 100] = 1.0;
        let mut plan = blend_plan(shape, vec![1, 0], 0.5);
        let cfg = BeatsyncConfig::default();
        let s = synchronise(&cfg, &x, &mut plan, &mut stream(0, Purpose::Mix, 0, 0)).unwrap();
        assert_eq!(s.shifts, vec![0, 0], "silence has no onset to line up");
        x[7] = f32::NAN;
        let e = synchronise(&cfg, &x, &mut plan, &mut stream(0, Purpose::Mix, 0, 0)).unwrap_err();
        assert!(e.to_string().contains("finite"), "{e}");
        let e = synchronise(
            &cfg,
            &x[..100],
            &mut plan,
            &mut stream(0, Purpose::Mix, 0, 0),
        )
        .unwrap_err();
        assert!(e.to_string().contains("size mismatch"), "{e}");
        let short = SampleShape::new(1, &[500]).unwrap();
        assert!(cfg.validate(&short).is_err());
        assert!(
            cfg.validate(&SampleShape::new(1, &[32, 32]).unwrap())
                .is_err()
        );
        for bad in [
            BeatsyncConfig {
                alpha: -1.0,
                ..cfg.clone()
            },
            BeatsyncConfig {
                tempo_tolerance: 0.0,
                ..cfg.clone()
            },
            BeatsyncConfig {
                sample_rate: 0,
                ..cfg.clone()
            },
        ] {
            assert!(bad.validate(&shape).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lambda_follows_beta_five_five() {
        // Beta(5, 5): mean 0.5, standard deviation 1/√44 = 0.1508.
        let cfg = BeatsyncConfig::default();
        let shape = SampleShape::new(1, &[8000]).unwrap();
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let mut rng = stream(3, Purpose::Mix, 0, 0);
        let l: Vec<f64> = (0..20000)
            .map(|_| f64::from(cfg.draw(&ctx, &mut rng).unwrap().lam_label))
            .collect();
        let m = l.iter().sum::<f64>() / l.len() as f64;
        let sd = (l.iter().map(|v| (v - m).powi(2)).sum::<f64>() / l.len() as f64).sqrt();
        assert!(
            (m - 0.5).abs() < 0.005 && (sd - 0.1508).abs() < 0.004,
            "{m} {sd}"
        );
    }
}
