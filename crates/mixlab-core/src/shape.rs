//! Sample layouts: N×C×L (1-D), N×C×H×W (2-D), N×C×D×H×W (3-D).
//!
//! Spatial extents are stored as `[d, h, w]` with unused leading axes set to 1, so a 1-D signal of length
//! L is `[1, 1, L]` and a 2-D image is `[1, H, W]`. Every region and mask in the crate uses this one
//! convention, which lets the apply kernels treat all three ranks with the same code.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Upper bound on elements per sample, so a typo like `3x100000x100000` is refused before allocating.
pub const MAX_SAMPLE_ELEMS: usize = 1 << 28;

/// The shape of one sample (without the batch axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleShape {
    /// Channels C.
    pub channels: usize,
    /// Spatial rank: 1, 2 or 3.
    pub rank: usize,
    /// Spatial extents `[d, h, w]`; axes above the rank are 1.
    pub dims: [usize; 3],
}

impl SampleShape {
    /// A 1-D shape C×L.
    pub fn d1(c: usize, l: usize) -> Result<Self> {
        Self::new(c, &[l])
    }
    /// A 2-D shape C×H×W.
    pub fn d2(c: usize, h: usize, w: usize) -> Result<Self> {
        Self::new(c, &[h, w])
    }
    /// A 3-D shape C×D×H×W.
    pub fn d3(c: usize, d: usize, h: usize, w: usize) -> Result<Self> {
        Self::new(c, &[d, h, w])
    }

    /// Builds a shape from the channel count and 1 to 3 spatial extents (outermost first).
    pub fn new(channels: usize, spatial: &[usize]) -> Result<Self> {
        let text = std::iter::once(channels)
            .chain(spatial.iter().copied())
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("x");
        let bad = |why: &str| Error::InvalidShape {
            shape: text.clone(),
            why: why.to_string(),
        };
        if spatial.is_empty() || spatial.len() > 3 {
            return Err(bad("expected CxL, CxHxW or CxDxHxW"));
        }
        if channels == 0 || spatial.contains(&0) {
            return Err(bad("every extent must be at least 1"));
        }
        let total = spatial
            .iter()
            .try_fold(channels, |acc, &v| acc.checked_mul(v))
            .filter(|&t| t <= MAX_SAMPLE_ELEMS)
            .ok_or_else(|| bad("more than 2^28 elements per sample"))?;
        debug_assert!(total > 0);
        let mut dims = [1usize; 3];
        dims[3 - spatial.len()..].copy_from_slice(spatial);
        Ok(Self {
            channels,
            rank: spatial.len(),
            dims,
        })
    }

    /// Parses `CxL`, `CxHxW` or `CxDxHxW` (also accepts `×` and `,` as separators).
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidShape {
            shape: s.to_string(),
            why: why.to_string(),
        };
        let parts: Vec<usize> = s
            .split(['x', 'X', '×', ','])
            .map(|p| p.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("expected positive integers like 3x32x32"))?;
        if parts.len() < 2 {
            return Err(bad("expected CxL, CxHxW or CxDxHxW"));
        }
        Self::new(parts[0], &parts[1..])
    }

    /// Number of spatial positions (L, H·W or D·H·W).
    pub fn spatial_len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Number of elements of one sample (C times the spatial length).
    pub fn sample_len(&self) -> usize {
        self.channels * self.spatial_len()
    }

    /// The spatial extents actually used, outermost first (length = rank).
    pub fn spatial(&self) -> &[usize] {
        &self.dims[3 - self.rank..]
    }
}

impl std::fmt::Display for SampleShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.channels)?;
        for d in self.spatial() {
            write!(f, "x{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_ranks_and_rejects_bad_ones() {
        let s = SampleShape::parse("3x32x24").unwrap();
        assert_eq!((s.rank, s.dims, s.channels), (2, [1, 32, 24], 3));
        assert_eq!(s.to_string(), "3x32x24");
        assert_eq!(SampleShape::parse("1x8000").unwrap().dims, [1, 1, 8000]);
        assert_eq!(SampleShape::parse("2x4x5x6").unwrap().dims, [4, 5, 6]);
        for bad in [
            "3x0x32",
            "3",
            "3x-1x2",
            "axb",
            "1x2x3x4x5",
            "3x100000x100000",
        ] {
            assert!(SampleShape::parse(bad).is_err(), "{bad}");
        }
    }
}
