//! Manifold mixup inside your own Burn model, on Fashion-MNIST: each batch draws a layer k ∈ {0, 1, 2}
//! (0 = the input, 1 = after the first conv block, 2 = after the second), runs the model up to k, mixes the
//! hidden features there with `BatchMixer::mix` (mixup's per-sample λ and partner, applied on the device to
//! a tensor of any rank) and runs the rest. Verma et al. 2019; the layer set is theirs for a small CNN.
//!
//! The mixlab lines are marked `// mixlab`. Run:
//! `cargo run --release -p mixlab-burn --example manifold_own -- [EPOCHS] [TRAIN_LIMIT]` (defaults 3 and 2000);
//! `cargo test` runs it on a few batches.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use mixlab_burn::{BatchMixer, soft_cross_entropy};
use mixlab_core::calib::{ece, softmax};
use mixlab_core::methods::{MethodConfig, MixupConfig};
use mixlab_core::mixer::MixerConfig;
use mixlab_core::rng::{Purpose, stream};
use rand::RngExt;
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

    fn block(&self, conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
        self.pool.forward(self.relu.forward(conv.forward(x)))
    }

    fn head(&self, x: Tensor<4>) -> Tensor<2> {
        let [b, c, h, w] = x.dims();
        let x = self
            .relu
            .forward(self.fc1.forward(x.reshape([b, c * h * w])));
        self.fc2.forward(x)
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.head(self.block(&self.conv2, self.block(&self.conv1, x)))
    }

    /// The forward pass with the batch mixed at `layer`; returns the logits and the soft targets.
    fn forward_mixed(
        &self,
        x: Tensor<4>,
        labels: Tensor<1, Int>,
        layer: usize,
        mixer: &mut BatchMixer,
    ) -> mixlab_burn::Result<(Tensor<2>, Tensor<2>)> {
        let convs = [&self.conv1, &self.conv2];
        let mut h = x;
        let mut targets = None;
        for k in 0..=convs.len() {
            if k == layer {
                let (mixed, y) = mixer.mix(h, labels.clone())?; // mixlab: mix the features at layer k
                h = mixed;
                targets = Some(y);
            }
            if let Some(conv) = convs.get(k) {
                h = self.block(conv, h);
            }
        }
        let targets = targets.ok_or_else(|| mixlab_burn::Error::Data("no layer mixed".into()))?;
        Ok((self.head(h), targets))
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
    // mixlab: manifold mixup is mixup (α 2, the paper's) applied to hidden features.
    let config = MixerConfig::single(MethodConfig::Mixup(MixupConfig { alpha: 2.0 }));
    let mut mixer = BatchMixer::new(config, 10, 0)?;
    let train = &data.train;
    for epoch in 0..epochs {
        mixer.set_epoch(epoch);
        let mut order: Vec<usize> = (0..train.n).collect();
        order.shuffle(&mut stream(0, Purpose::Shuffle, epoch, 0));
        // The layer draw is in-model randomness: its own stream, apart from the mixer's plans.
        let mut layers = stream(0, Purpose::Dropout, epoch, 0);
        let mut total = 0.0;
        for idx in order.chunks(64) {
            let (x, labels) = batch(train, idx, &dev);
            let layer = layers.random_range(0..3);
            let (logits, y) = model.forward_mixed(x, labels, layer, &mut mixer)?;
            let loss = soft_cross_entropy(logits, y); // mixlab: the matching loss
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
    fn the_manifold_example_trains_on_a_few_batches() {
        let (acc, ece) = super::run(1, 256).unwrap();
        assert!((0.0..=1.0).contains(&acc) && (0.0..=1.0).contains(&ece));
    }
}
