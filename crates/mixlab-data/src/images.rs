//! Raw u8 image sets as stored on disk (MNIST, Fashion-MNIST, CIFAR-10), before any conversion to f32.

/// `n` images of `shape = [channels, height, width]`, channel-planar (all of channel 0, then channel 1, …), each
/// plane row-major, plus one label per image. This is the IDX and CIFAR-10 binary layout, so reading needs no
/// transposition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct U8Images {
    /// Number of images.
    pub n: usize,
    /// `[channels, height, width]` of one image.
    pub shape: [usize; 3],
    /// `n × channels × height × width` pixel bytes (0 = black).
    pub pixels: Vec<u8>,
    /// `n` class labels.
    pub labels: Vec<u8>,
}

impl U8Images {
    /// Bytes per image (`channels × height × width`).
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The pixels of image `i`, or `None` when `i >= n`.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let len = self.sample_len();
        self.pixels.get(i * len..(i + 1) * len)
    }

    /// Pixels as f32 scaled to [0, 1] (÷255), the convention of torchvision's `ToTensor`.
    pub fn to_f32_unit(&self) -> Vec<f32> {
        self.pixels.iter().map(|&p| f32::from(p) / 255.0).collect()
    }

    /// Appends `other`'s images; both must have the same shape (checked by the callers, which read one format).
    pub(crate) fn extend(&mut self, other: U8Images) {
        debug_assert_eq!(self.shape, other.shape);
        self.n += other.n;
        self.pixels.extend_from_slice(&other.pixels);
        self.labels.extend_from_slice(&other.labels);
    }
}
