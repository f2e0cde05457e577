//! mixup + CutMix in your own Burn model and training loop, on Fashion-MNIST.
//!
//! The three mixlab lines are marked `// mixlab`. Everything else is plain Burn 0.22: a small CNN, SGD
//! with momentum, and a test pass that reports accuracy and ECE₁₅ (mixlab-core's calibration metrics).
//!
//! Run: `cargo run --release -p mixlab-burn --example own_loop -- [EPOCHS] [TRAIN_LIMIT]`
//! (defaults 3 and 2000). Fashion-MNIST comes from `MIXLAB_DATA` when it holds the full set, otherwise
//! from the small real fixture committed in `crates/mixlab-data/tests/fixtures`. `cargo test` runs it on a
//! few batches.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use mixlab_burn::{BatchMixer, soft_cross_entropy};
use mixlab_core::calib::{ece, softmax};
use mixlab_core::mixer::MixerConfig;
use mixlab_core::rng::{Purpose, stream};
use rand::seq::SliceRandom;

#[path = "common/fashion.rs"]
mod fashion;
use fashion::{batch, load_fashion};

#[derive(Module, Debug)]
struct SmallCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    relu: Relu,
}

impl SmallCnn {
    fn new(device: &Device) -> Self {
        let conv = |cin, cout| {
            Conv2dConfig::new([cin, cout], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            conv1: conv(1, 16),
            conv2: conv(16, 32),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(32 * 7 * 7, 64).init(device),
            fc2: LinearConfig::new(64, 10).init(device),
            relu: Relu::new(),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(self.relu.forward(self.conv1.forward(x)));
        let x = self.pool.forward(self.relu.forward(self.conv2.forward(x)));
        let [b, c, h, w] = x.dims();
        let x = self
            .relu
            .forward(self.fc1.forward(x.reshape([b, c * h * w])));
        self.fc2.forward(x)
    }
}

/// Trains for `epochs` on the first `train_limit` images and returns (test accuracy, test ECE₁₅).
fn run(epochs: u64, train_limit: usize) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let data = load_fashion(train_limit)?;
    let plain = Device::flex();
    let dev = plain.clone().autodiff();
    dev.seed(0);
    let mut model = SmallCnn::new(&dev);
    let mut optim = SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
        .init();
    // mixlab: timm's Mixup(mixup_alpha=.8, cutmix_alpha=1.), one plan stream per (seed, epoch, step).
    let mut mixer = BatchMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 10, 0)?;
    let train = &data.train;
    for epoch in 0..epochs {
        mixer.set_epoch(epoch);
        let mut order: Vec<usize> = (0..train.n).collect();
        order.shuffle(&mut stream(0, Purpose::Shuffle, epoch, 0));
        let mut total = 0.0;
        for idx in order.chunks(64) {
            let (x, labels) = batch(train, idx, &dev);
            let (x, y) = mixer.mix(x, labels)?; // mixlab: mixed batch + soft targets
            let loss = soft_cross_entropy(model.forward(x), y); // mixlab: the matching loss
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            total += f64::from(loss.into_scalar::<f32>());
            model = optim.step(0.05, model, grads);
        }
        println!(
            "epoch {epoch}: mean train loss {:.4}",
            total / order.len().div_ceil(64) as f64
        );
    }
    let model = model.valid();
    let test = &data.test;
    let labels = test.labels.clone().unwrap_or_default();
    let mut probs = Vec::with_capacity(test.n * 10);
    for idx in (0..test.n).collect::<Vec<_>>().chunks(256) {
        let (x, _) = batch(test, idx, &plain);
        let logits: Vec<f32> = model.forward(x).into_data().try_into_vec_as()?;
        probs.extend(softmax(&logits, 10, 1.0)?);
    }
    let hits = probs
        .chunks(10)
        .zip(&labels)
        .filter(|(p, y)| p.iter().enumerate().all(|(k, &v)| v <= p[**y] || k == **y))
        .count();
    let acc = hits as f64 / test.n as f64;
    let ece15 = ece(&probs, &labels, 10, 15)?;
    println!(
        "test ({} images): accuracy {acc:.4}, ECE15 {ece15:.4}",
        test.n
    );
    Ok((acc, ece15))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);
    let limit = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    run(epochs, limit)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_own_loop_example_trains_on_a_few_batches() {
        let (acc, ece) = super::run(1, 256).unwrap();
        assert!((0.0..=1.0).contains(&acc) && (0.0..=1.0).contains(&ece));
    }
}
