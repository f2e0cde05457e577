//! Fashion-MNIST for the examples: the full set from `MIXLAB_DATA` when it is there, otherwise the small real
//! fixture committed in `crates/mixlab-data/tests/fixtures`; and batches of it as Burn tensors.

use burn::prelude::*;
use mixlab_data::location::DataDir;
use mixlab_data::{Dataset, DatasetId, LoadOptions, Split, load};
use std::path::PathBuf;

/// Fashion-MNIST with the first `train_limit` training images and the whole test split.
pub fn load_fashion(train_limit: usize) -> Result<Dataset, mixlab_data::Error> {
    let opts = LoadOptions {
        train_limit: Some(train_limit),
        ..Default::default()
    };
    match load(DatasetId::FashionMnist, &DataDir::resolve(None), &opts) {
        Ok(d) => Ok(d),
        Err(_) => {
            let fixture =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mixlab-data/tests/fixtures");
            load(
                DatasetId::FashionMnist,
                &DataDir::resolve(Some(&fixture)),
                &opts,
            )
        }
    }
}

/// Rows `idx` of a split as an image batch (B×1×28×28) and its labels.
pub fn batch(split: &Split, idx: &[usize], dev: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let labels = split.labels.as_deref().unwrap_or_default();
    let mut x = Vec::with_capacity(idx.len() * 784);
    for &i in idx {
        x.extend_from_slice(&split.x[i * 784..(i + 1) * 784]);
    }
    let y: Vec<i64> = idx.iter().map(|&i| labels[i] as i64).collect();
    (
        Tensor::from_data(TensorData::new(x, [idx.len(), 1, 28, 28]), dev),
        Tensor::from_data(TensorData::new(y, [idx.len()]), dev),
    )
}
