//! Normalisation fitted on one split and applied to others: per-feature (tables) or per-channel (images, audio)
//! affine maps `x' = (x − offset) / scale`.

use crate::error::{Error, Result};

/// Per-channel affine normalisation of samples laid out as `[channels, plane]` (a table row is `channels =
/// features, plane = 1`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scaler {
    /// Subtracted, one per channel.
    pub offset: Vec<f32>,
    /// Divided by, one per channel (never 0: a constant channel gets 1).
    pub scale: Vec<f32>,
    /// Values per channel inside one sample.
    pub plane: usize,
}

fn check(x: &[f32], channels: usize, plane: usize) -> Result<usize> {
    if channels == 0 || plane == 0 {
        return Err(Error::param(
            "scaler layout",
            "at least one channel of at least one value",
            format!("{channels} channels × {plane}"),
        ));
    }
    let len = channels * plane;
    if x.is_empty() || !x.len().is_multiple_of(len) {
        return Err(Error::param(
            "data length",
            "a non-zero multiple of the sample length",
            format!("{} values for samples of {len}", x.len()),
        ));
    }
    Ok(x.len() / len)
}

impl Scaler {
    /// Mean and standard deviation (population) of each channel over all samples of `x` (`n × channels × plane`).
    pub fn fit_standard(x: &[f32], channels: usize, plane: usize) -> Result<Scaler> {
        let n = check(x, channels, plane)?;
        let count = (n * plane) as f64;
        let mut sum = vec![0.0f64; channels];
        let mut sq = vec![0.0f64; channels];
        for sample in x.chunks_exact(channels * plane) {
            for (c, ch) in sample.chunks_exact(plane).enumerate() {
                for &v in ch {
                    sum[c] += f64::from(v);
                }
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        for sample in x.chunks_exact(channels * plane) {
            for (c, ch) in sample.chunks_exact(plane).enumerate() {
                for &v in ch {
                    let d = f64::from(v) - mean[c];
                    sq[c] += d * d;
                }
            }
        }
        Ok(Scaler {
            offset: mean.iter().map(|&m| m as f32).collect(),
            scale: sq
                .iter()
                .map(|&s| nonzero((s / count).sqrt() as f32))
                .collect(),
            plane,
        })
    }

    /// Minimum and range of each channel, mapping the fitted data to [0, 1] (C-Mixup's input scaling).
    pub fn fit_min_max(x: &[f32], channels: usize, plane: usize) -> Result<Scaler> {
        check(x, channels, plane)?;
        let mut lo = vec![f32::INFINITY; channels];
        let mut hi = vec![f32::NEG_INFINITY; channels];
        for sample in x.chunks_exact(channels * plane) {
            for (c, ch) in sample.chunks_exact(plane).enumerate() {
                for &v in ch {
                    lo[c] = lo[c].min(v);
                    hi[c] = hi[c].max(v);
                }
            }
        }
        Ok(Scaler {
            scale: lo.iter().zip(&hi).map(|(l, h)| nonzero(h - l)).collect(),
            offset: lo,
            plane,
        })
    }

    /// What a raw 0 becomes, one value per channel: the padding of a black border after scaling (torchvision
    /// pads the raw image before `Normalize`, so its border is −mean/std, not 0).
    pub fn zero(&self) -> Vec<f32> {
        self.offset
            .iter()
            .zip(&self.scale)
            .map(|(o, s)| -o / s)
            .collect()
    }

    /// Values per sample this scaler expects.
    pub fn sample_len(&self) -> usize {
        self.offset.len() * self.plane
    }

    /// Normalises `x` (`n × sample_len`) in place.
    pub fn apply(&self, x: &mut [f32]) -> Result<()> {
        check(x, self.offset.len(), self.plane)?;
        for sample in x.chunks_exact_mut(self.sample_len()) {
            for (c, ch) in sample.chunks_exact_mut(self.plane).enumerate() {
                let (o, s) = (self.offset[c], self.scale[c]);
                for v in ch {
                    *v = (*v - o) / s;
                }
            }
        }
        Ok(())
    }

    /// Undoes [`Scaler::apply`] in place (e.g. to report regression errors in original units).
    pub fn invert(&self, x: &mut [f32]) -> Result<()> {
        check(x, self.offset.len(), self.plane)?;
        for sample in x.chunks_exact_mut(self.sample_len()) {
            for (c, ch) in sample.chunks_exact_mut(self.plane).enumerate() {
                let (o, s) = (self.offset[c], self.scale[c]);
                for v in ch {
                    *v = *v * s + o;
                }
            }
        }
        Ok(())
    }
}

/// A zero (or non-finite) spread would divide by zero; such a channel is only shifted.
fn nonzero(s: f32) -> f32 {
    if s > 0.0 && s.is_finite() { s } else { 1.0 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    #[test]
    fn standard_scaler_gives_zero_mean_unit_std_per_channel() {
        // 2 samples, 2 channels, plane 2.
        let x = vec![1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 10.0, 10.0];
        let s = Scaler::fit_standard(&x, 2, 2).unwrap();
        assert_eq!(s.offset, vec![4.0, 10.0]);
        assert!((s.scale[0] - 5.0f32.sqrt()).abs() < 1e-6);
        assert_eq!(s.scale[1], 1.0);
        let mut y = x.clone();
        s.apply(&mut y).unwrap();
        assert_eq!(&y[2..4], &[0.0, 0.0]);
        let mean0: f32 = [y[0], y[1], y[4], y[5]].iter().sum::<f32>() / 4.0;
        assert!(mean0.abs() < 1e-6);
        s.invert(&mut y).unwrap();
        for (a, b) in y.iter().zip(&x) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn zero_is_what_apply_makes_of_a_black_pixel() {
        let x = vec![1.0, 3.0, 10.0, 12.0, 5.0, 7.0, 10.0, 10.0];
        let s = Scaler::fit_standard(&x, 2, 2).unwrap();
        let mut black = vec![0.0; 4];
        s.apply(&mut black).unwrap();
        let z = s.zero();
        assert_eq!(black, vec![z[0], z[0], z[1], z[1]]);
        assert!(z[0] < 0.0 && z[1] < 0.0);
    }

    #[test]
    fn min_max_maps_to_unit_interval() {
        let x = vec![0.0, 5.0, 10.0, 5.0, 5.0, 5.0];
        let s = Scaler::fit_min_max(&x, 2, 1).unwrap();
        let mut y = x.clone();
        s.apply(&mut y).unwrap();
        assert_eq!(y, vec![0.0, 0.0, 1.0, 0.0, 0.5, 0.0]);
    }

    #[test]
    fn bad_layouts_are_errors() {
        assert!(Scaler::fit_standard(&[1.0, 2.0, 3.0], 2, 1).is_err());
        assert!(Scaler::fit_standard(&[], 1, 1).is_err());
        assert!(Scaler::fit_min_max(&[1.0], 0, 1).is_err());
        let s = Scaler::fit_min_max(&[1.0, 2.0], 2, 1).unwrap();
        assert!(s.apply(&mut [1.0, 2.0, 3.0]).is_err());
    }
}
