//! Onsets, tempo and beats of a waveform, on the host: what beat-synchronous mixup (MusicLDM's BAM) needs to
//! pair clips by tempo and line them up on their first (down)beat before mixing, and what its speech form needs
//! to line up first onsets. MusicLDM's own analysis (Beat Transformer) is neither released nor usable offline;
//! this is the classic pipeline `../shared/methods-dynamic.md` §7 lays out:
//!
//! 1. the onset envelope: spectral flux of log-compressed STFT magnitudes (Hann window, centred frames),
//!    `Σ_f max(0, L_t,f − L_{t−1},f)`, normalised to unit maximum;
//! 2. onsets: local maxima above the envelope's median plus a fraction of its range (adaptive threshold);
//! 3. tempo: the autocorrelation of the envelope over the lags of `min_bpm..max_bpm`, weighted by a log-normal
//!    prior around `prior_bpm` (σ in octaves) against octave errors, refined to a fraction of a frame by
//!    parabolic interpolation;
//! 4. beats: Ellis' (2007) dynamic programme, maximising onset strength minus
//!    `tightness · ln(interval / period)²` per step;
//! 5. the downbeat: the beat phase (mod 4) whose beats carry the most onset strength.
//!
//! Times are in samples. A frame's flux rises while a transient enters the front half of its window, so the
//! frame alone places an onset only to within `n_fft/2`; each onset and beat is therefore placed at the
//! sharpest rise of short-block energy (blocks of `hop/4`) in the front half of its frame.

use crate::error::{Error, Result};
use crate::fft::{Complex64, fftn};

/// Analysis settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatConfig {
    /// STFT frame length (default 1024).
    pub n_fft: usize,
    /// Frame hop (default 128).
    pub hop: usize,
    /// Slowest tempo considered (default 60 BPM).
    pub min_bpm: f64,
    /// Fastest tempo considered (default 200 BPM).
    pub max_bpm: f64,
    /// Centre of the tempo prior (default 120 BPM, librosa's `start_bpm`).
    pub prior_bpm: f64,
    /// Width of the tempo prior in octaves (default 1).
    pub prior_octaves: f64,
    /// How strongly beats keep the period in the dynamic programme (default 100, librosa's `tightness`).
    pub tightness: f64,
}

impl Default for BeatConfig {
    fn default() -> Self {
        Self {
            n_fft: 1024,
            hop: 128,
            min_bpm: 60.0,
            max_bpm: 200.0,
            prior_bpm: 120.0,
            prior_octaves: 1.0,
            tightness: 100.0,
        }
    }
}

impl BeatConfig {
    fn validate(&self) -> Result<()> {
        if !self.n_fft.is_power_of_two() || self.n_fft < 16 {
            return Err(Error::param("n_fft", "a power of two >= 16", self.n_fft));
        }
        if self.hop == 0 || self.hop > self.n_fft {
            return Err(Error::param("hop", "in 1..=n_fft", self.hop));
        }
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !(ok(self.min_bpm) && ok(self.max_bpm) && self.min_bpm < self.max_bpm) {
            return Err(Error::param(
                "min_bpm/max_bpm",
                "0 < min_bpm < max_bpm",
                self.min_bpm,
            ));
        }
        for (name, v) in [
            ("prior_bpm", self.prior_bpm),
            ("prior_octaves", self.prior_octaves),
            ("tightness", self.tightness),
        ] {
            if !ok(v) {
                return Err(Error::param(name, "a finite number > 0", v));
            }
        }
        Ok(())
    }
}

/// What the analysis found in one clip.
#[derive(Clone, Debug, PartialEq)]
pub struct Beats {
    /// Onset strength per frame (unit maximum); frame t is centred on sample `t·hop`.
    pub envelope: Vec<f64>,
    /// Onset positions in samples.
    pub onsets: Vec<usize>,
    /// Tempo in BPM (`None` when the clip is too short for two beats at `min_bpm` or has no onsets).
    pub bpm: Option<f64>,
    /// Beat positions in samples.
    pub beats: Vec<usize>,
    /// The first downbeat (the first beat of the strongest phase mod 4), in samples.
    pub downbeat: Option<usize>,
}

/// Analyses a mono waveform sampled at `sample_rate` Hz.
pub fn analyse(x: &[f32], sample_rate: u32, cfg: &BeatConfig) -> Result<Beats> {
    cfg.validate()?;
    if sample_rate == 0 {
        return Err(Error::param("sample rate", ">= 1 Hz", sample_rate));
    }
    if x.len() < cfg.n_fft {
        return Err(Error::SizeMismatch {
            what: "waveform (at least one frame)",
            expected: cfg.n_fft,
            got: x.len(),
        });
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::param(
            "waveform sample",
            "finite",
            format!("{} at {i}", x[i]),
        ));
    }
    let envelope = onset_envelope(x, cfg);
    let at = |t: usize| sharpest_rise(x, t * cfg.hop, cfg);
    let onsets: Vec<usize> = pick_peaks(&envelope).into_iter().map(at).collect();
    let frames_per_min = 60.0 * f64::from(sample_rate) / cfg.hop as f64;
    let period = if onsets.is_empty() {
        None
    } else {
        tempo_period(&envelope, frames_per_min, cfg)
    };
    let (bpm, beats, downbeat) = match period {
        Some(p) => {
            let frames = track_beats(&envelope, p, cfg.tightness);
            let down = downbeat_phase(&envelope, &frames).map(|k| at(frames[k]));
            (
                Some(frames_per_min / p),
                frames.into_iter().map(at).collect(),
                down,
            )
        }
        None => (None, vec![], None),
    };
    Ok(Beats {
        envelope,
        onsets,
        bpm,
        beats,
        downbeat,
    })
}

fn onset_envelope(x: &[f32], cfg: &BeatConfig) -> Vec<f64> {
    let n = cfg.n_fft;
    let window: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect();
    let frames = x.len().div_ceil(cfg.hop);
    let bins = n / 2 + 1;
    let mut prev = vec![0f64; bins];
    let mut env = vec![0f64; frames];
    let mut buf = vec![Complex64::new(0.0, 0.0); n];
    for (t, e) in env.iter_mut().enumerate() {
        // Frame t is centred on sample t·hop; samples outside the clip are zeros.
        let start = (t * cfg.hop) as isize - (n / 2) as isize;
        for (i, (b, w)) in buf.iter_mut().zip(&window).enumerate() {
            let s = start + i as isize;
            let v = if s >= 0 && (s as usize) < x.len() {
                f64::from(x[s as usize])
            } else {
                0.0
            };
            *b = Complex64::new(v * w, 0.0);
        }
        // A power-of-two length the validated config guarantees: the transform cannot fail.
        if fftn(&mut buf, &[n]).is_err() {
            return env;
        }
        let mut flux = 0.0;
        for (k, p) in prev.iter_mut().enumerate() {
            let l = (1.0 + 100.0 * buf[k].norm()).ln();
            if t > 0 {
                flux += (l - *p).max(0.0);
            }
            *p = l;
        }
        *e = flux;
    }
    let max = env.iter().copied().fold(0.0, f64::max);
    if max > 0.0 {
        env.iter_mut().for_each(|e| *e /= max);
    }
    env
}

/// The start of the block (of `hop/4` samples) in `[centre, centre + n_fft/2)` whose energy rose most
/// from the block before: where the transient that raised this frame's flux begins.
fn sharpest_rise(x: &[f32], centre: usize, cfg: &BeatConfig) -> usize {
    let block = (cfg.hop / 4).max(8);
    let energy = |start: usize| -> f64 {
        x.iter()
            .skip(start)
            .take(block)
            .map(|&v| f64::from(v) * f64::from(v))
            .sum()
    };
    let end = (centre + cfg.n_fft / 2).min(x.len());
    let mut best = (centre.min(x.len() - 1), f64::NEG_INFINITY);
    let mut before = energy(centre.saturating_sub(block));
    let mut start = centre;
    while start < end {
        let e = energy(start);
        if e - before > best.1 {
            best = (start, e - before);
        }
        before = e;
        start += block;
    }
    best.0
}

/// Local maxima (higher than the frame before, not lower than the frame after) above the median plus 30 % of
/// the range above it: the adaptive threshold keeps background noise out without a fixed level.
fn pick_peaks(env: &[f64]) -> Vec<usize> {
    let mut sorted = env.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let threshold = median + 0.3 * (1.0 - median);
    (0..env.len())
        .filter(|&t| {
            env[t] > threshold
                && (t == 0 || env[t] > env[t - 1])
                && (t + 1 == env.len() || env[t] >= env[t + 1])
        })
        .collect()
}

/// The beat period in frames (fractional), or `None` when the clip is shorter than two periods.
fn tempo_period(env: &[f64], frames_per_min: f64, cfg: &BeatConfig) -> Option<f64> {
    let lo = (frames_per_min / cfg.max_bpm).floor().max(1.0) as usize;
    let hi = (frames_per_min / cfg.min_bpm).ceil() as usize;
    if env.len() < 2 * hi.max(lo + 2) {
        return None;
    }
    let mean = env.iter().sum::<f64>() / env.len() as f64;
    let centred: Vec<f64> = env.iter().map(|e| e - mean).collect();
    let ac = |lag: usize| -> f64 {
        centred[lag..]
            .iter()
            .zip(&centred)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / (env.len() - lag) as f64
    };
    let prior = |lag: f64| {
        let octaves = (frames_per_min / lag / cfg.prior_bpm).log2() / cfg.prior_octaves;
        (-0.5 * octaves * octaves).exp()
    };
    let scores: Vec<(usize, f64)> = (lo.saturating_sub(1)..=hi + 1)
        .map(|l| (l, ac(l)))
        .collect();
    let (best, _) = scores
        .iter()
        .filter(|(l, _)| (lo..=hi).contains(l))
        .map(|&(l, a)| (l, a.max(0.0) * prior(l as f64)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    // Parabolic refinement of the autocorrelation peak around the best integer lag.
    let value = |l: usize| scores.iter().find(|(m, _)| *m == l).map_or(0.0, |s| s.1);
    let (a, b, c) = (value(best - 1), value(best), value(best + 1));
    let denom = a - 2.0 * b + c;
    let shift = if denom < 0.0 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(best as f64 + shift)
}

/// Ellis' beat tracker: the frame sequence maximising onset strength minus the tempo-deviation penalty.
fn track_beats(env: &[f64], period: f64, tightness: f64) -> Vec<usize> {
    let n = env.len();
    let mut score = vec![0f64; n];
    let mut back: Vec<Option<usize>> = vec![None; n];
    for t in 0..n {
        let first = (t as f64 - 2.0 * period).ceil().max(0.0) as usize;
        let last = (t as f64 - period / 2.0).floor();
        let mut best: Option<(usize, f64)> = None;
        if last >= 0.0 {
            let end = (last as usize).min(t.saturating_sub(1));
            for (prev, &earlier) in score.iter().enumerate().take(end + 1).skip(first) {
                let penalty = tightness * ((t - prev) as f64 / period).ln().powi(2);
                let s = earlier - penalty;
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((prev, s));
                }
            }
        }
        score[t] = env[t] + best.map_or(0.0, |(_, s)| s.max(0.0));
        back[t] = best.filter(|(_, s)| *s > 0.0).map(|(p, _)| p);
    }
    // End on the best-scoring frame of the last period, then follow the links back.
    let tail = (n as f64 - period).max(0.0) as usize;
    let Some(mut t) = (tail..n).max_by(|&a, &b| score[a].total_cmp(&score[b])) else {
        return vec![];
    };
    let mut beats = vec![t];
    while let Some(p) = back[t] {
        beats.push(p);
        t = p;
    }
    beats.reverse();
    beats
}

/// The index (within `beats`) of the first beat of the phase mod 4 with the most onset strength.
fn downbeat_phase(env: &[f64], beats: &[usize]) -> Option<usize> {
    if beats.len() < 4 {
        return beats.first().map(|_| 0);
    }
    (0..4).max_by(|&a, &b| {
        let strength = |k: usize| {
            beats
                .iter()
                .skip(k)
                .step_by(4)
                .map(|&t| env[t])
                .sum::<f64>()
        };
        strength(a).total_cmp(&strength(b))
    })
}

/// Whether two tempos belong to one tempo class: equal within `tolerance` (relative), or one twice the
/// other (beat trackers make octave errors; a 2:1 pair still lines up beat for beat).
pub fn same_tempo_class(a: f64, b: f64, tolerance: f64) -> bool {
    let r = a.max(b) / a.min(b);
    (r - 1.0).abs() <= tolerance || (r - 2.0).abs() <= 2.0 * tolerance
}

/// How far below the clip's loudest block (in energy) a strong onset's following 64 ms may peak: −10 dB.
pub const STRONG_ONSET_FLOOR: f64 = 0.1;

/// The first onset that starts something loud: the first of `beats.onsets` whose next 64 ms hold a block
/// (of `hop` samples) with at least [`STRONG_ONSET_FLOOR`] of the loudest block's energy. Spectral flux
/// is log-compressed, so a faint click in a speech clip's leading silence is an onset too; lining words up
/// on it would miss the word. `None` when the clip has no onset.
pub fn first_strong_onset(
    x: &[f32],
    sample_rate: u32,
    beats: &Beats,
    cfg: &BeatConfig,
) -> Option<usize> {
    let block = cfg.hop.max(1);
    let energy: Vec<f64> = x
        .chunks(block)
        .map(|b| b.iter().map(|&v| f64::from(v) * f64::from(v)).sum())
        .collect();
    let loudest = energy.iter().copied().fold(0.0, f64::max);
    let ahead = (0.064 * f64::from(sample_rate)) as usize / block + 1;
    beats
        .onsets
        .iter()
        .copied()
        .find(|&t| {
            energy
                .iter()
                .skip(t / block)
                .take(ahead)
                .any(|&e| e >= STRONG_ONSET_FLOOR * loudest)
        })
        .or(beats.onsets.first().copied())
}

/// `x` delayed by `by` samples (advanced when negative), zero-filled and cropped to its own length: no wrap-around.
pub fn shift(x: &[f32], by: isize) -> Vec<f32> {
    let n = x.len() as isize;
    (0..n)
        .map(|i| {
            let s = i - by;
            if (0..n).contains(&s) {
                x[s as usize]
            } else {
                0.0
            }
        })
        .collect()
}

/// The delay that puts `partner`'s first downbeat (else first beat, else first onset) on `anchor`'s; `None`
/// when either clip has none.
pub fn alignment(anchor: &Beats, partner: &Beats) -> Option<isize> {
    let mark = |b: &Beats| {
        b.downbeat
            .or(b.beats.first().copied())
            .or(b.onsets.first().copied())
    };
    Some(mark(anchor)? as isize - mark(partner)? as isize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};
    use rand::RngExt;

    const SR: u32 = 8000;

    /// A click track: 10 ms decaying noise bursts at `bpm` from `phase` seconds, every fourth one louder
    /// (the downbeat), over low background noise.
    fn clicks(bpm: f64, phase: f64, seconds: f64, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let n = (seconds * f64::from(SR)) as usize;
        let mut rng = stream(seed, Purpose::Augment, 0, 0);
        let mut x: Vec<f32> = (0..n).map(|_| (rng.random::<f32>() - 0.5) * 0.01).collect();
        let period = 60.0 / bpm * f64::from(SR);
        let mut truth = vec![];
        let mut k = 0;
        while phase * f64::from(SR) + k as f64 * period < n as f64 {
            let start = (phase * f64::from(SR) + k as f64 * period).round() as usize;
            let gain = if k % 4 == 0 { 1.0 } else { 0.5 };
            for i in 0..80.min(n - start) {
                x[start + i] += gain * (rng.random::<f32>() - 0.5) * (-(i as f32) / 15.0).exp();
            }
            truth.push(start);
            k += 1;
        }
        (x, truth)
    }

    #[test]
    fn a_click_track_gives_its_tempo_and_beats_within_a_hop() {
        let cfg = BeatConfig::default();
        for (bpm, phase, seed) in [
            (120.0, 0.3, 1),
            (90.0, 0.45, 2),
            (150.0, 0.1, 3),
            (72.0, 0.6, 4),
        ] {
            let (x, truth) = clicks(bpm, phase, 10.0, seed);
            let b = analyse(&x, SR, &cfg).unwrap();
            let got = b.bpm.unwrap();
            assert!((got - bpm).abs() <= 1.0, "{bpm} BPM: got {got}");
            // Every tracked beat sits on a click, within one hop; and nearly every click is tracked.
            for &t in &b.beats {
                let d = truth.iter().map(|&c| c.abs_diff(t)).min().unwrap();
                assert!(
                    d <= cfg.hop,
                    "{bpm} BPM: beat at {t} is {d} samples from the nearest click"
                );
            }
            assert!(
                b.beats.len() + 2 >= truth.len(),
                "{bpm} BPM: {} beats for {} clicks",
                b.beats.len(),
                truth.len()
            );
            // The accented clicks are the downbeats.
            let down = b.downbeat.unwrap();
            assert!(
                truth
                    .iter()
                    .step_by(4)
                    .any(|&c| c.abs_diff(down) <= cfg.hop),
                "{bpm}: downbeat {down}"
            );
            assert_eq!(b.onsets.len(), truth.len(), "{bpm} BPM onsets");
        }
    }

    #[test]
    fn aligning_two_clips_puts_their_downbeats_together_without_wrapping() {
        let cfg = BeatConfig::default();
        let (a, ta) = clicks(120.0, 0.2, 8.0, 5);
        let (b, tb) = clicks(120.0, 0.65, 8.0, 6);
        let (ba, bb) = (
            analyse(&a, SR, &cfg).unwrap(),
            analyse(&b, SR, &cfg).unwrap(),
        );
        let by = alignment(&ba, &bb).unwrap();
        assert!(
            (by + (tb[0] as isize - ta[0] as isize)).unsigned_abs() <= cfg.hop,
            "shift {by}"
        );
        let moved = shift(&b, by);
        assert_eq!(moved.len(), b.len());
        let again = analyse(&moved, SR, &cfg).unwrap();
        assert!(again.downbeat.unwrap().abs_diff(ba.downbeat.unwrap()) <= cfg.hop);
        // Advancing drops the head and zero-fills the tail; delaying zero-fills the head.
        assert_eq!(shift(&[1.0, 2.0, 3.0], -1), vec![2.0, 3.0, 0.0]);
        assert_eq!(shift(&[1.0, 2.0, 3.0], 2), vec![0.0, 0.0, 1.0]);
        assert!(same_tempo_class(120.0, 121.0, 0.02) && same_tempo_class(60.5, 120.0, 0.02));
        assert!(!same_tempo_class(100.0, 120.0, 0.02));
    }

    #[test]
    fn a_speech_like_burst_has_its_onset_within_a_hop() {
        // A burst whose envelope rises as 1 − e^(−i/40) (a 5 ms attack): its energy rises fastest ln 2 · 40
        // samples in, which is where the onset is placed.
        let cfg = BeatConfig::default();
        let mut x = vec![0f32; 8000];
        let mut rng = stream(9, Purpose::Augment, 0, 0);
        for (i, v) in x.iter_mut().enumerate().skip(2960).take(3000) {
            *v = (rng.random::<f32>() - 0.5) * (1.0 - (-((i - 2960) as f32) / 40.0).exp());
        }
        let b = analyse(&x, SR, &cfg).unwrap();
        assert!(b.onsets[0].abs_diff(2960) <= cfg.hop, "{:?}", b.onsets);
        // A faint click in the leading silence is an onset, but not the word's.
        for (k, v) in x.iter_mut().enumerate().skip(1000).take(60) {
            *v = 0.2 * (rng.random::<f32>() - 0.5) * (-((k - 1000) as f32) / 15.0).exp();
        }
        let b = analyse(&x, SR, &cfg).unwrap();
        assert!(b.onsets[0].abs_diff(1000) <= cfg.hop, "{:?}", b.onsets);
        let word = first_strong_onset(&x, SR, &b, &cfg).unwrap();
        assert!(word.abs_diff(2960) <= cfg.hop, "{word}");
        assert_eq!(
            b.bpm, None,
            "one second is shorter than two beats at 60 BPM"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let cfg = BeatConfig::default();
        assert!(analyse(&[0.0; 100], SR, &cfg).is_err());
        assert!(analyse(&[f32::NAN; 4096], SR, &cfg).is_err());
        assert!(analyse(&[0.0; 4096], 0, &cfg).is_err());
        for bad in [
            BeatConfig { n_fft: 1000, ..cfg },
            BeatConfig { hop: 0, ..cfg },
            BeatConfig {
                min_bpm: 200.0,
                max_bpm: 60.0,
                ..cfg
            },
            BeatConfig {
                tightness: f64::NAN,
                ..cfg
            },
        ] {
            assert!(analyse(&[0.0; 4096], SR, &bad).is_err(), "{bad:?}");
        }
        // Silence has no onsets and no tempo, and is not an error.
        let quiet = analyse(&[0.0; 16000], SR, &cfg).unwrap();
        assert!(quiet.onsets.is_empty() && quiet.bpm.is_none() && quiet.beats.is_empty());
    }
}
