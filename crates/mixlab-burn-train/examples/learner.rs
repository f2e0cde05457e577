//! Fashion-MNIST through burn-train's `SupervisedTraining`/`Learner` with timm's mixup + cutmix switch,
//! reporting accuracy, ECE₁₅ and NLL through burn-train's metrics.
//!
//! The mixlab lines are marked `// mixlab`. Run:
//! `cargo run --release -p mixlab-burn-train --example learner -- [EPOCHS] [TRAIN_LIMIT]` (defaults 3 and
//! 2000; the full set comes from `MIXLAB_DATA`, else the small fixture in the repository). `cargo test` runs
//! it on a few batches and checks the logged ECE against mixlab's own ECE of the returned model.

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::SgdConfig;
use burn::optim::momentum::MomentumConfig;
use burn::prelude::*;
use burn::train::metric::{AccuracyMetric, LossMetric, Metric};
use burn::train::{
    ClassificationOutput, InferenceStep, Interrupter, Learner, LearnerSummary, SupervisedTraining,
    TrainOutput, TrainStep,
};
use mixlab_burn::BatchMixer;
use mixlab_burn_train::{
    EceMetric, EpochProgress, MixedBatch, MixingBatcher, NllMetric, SoftClassificationOutput,
};
use mixlab_core::mixer::MixerConfig;
use mixlab_data::location::DataDir;
use mixlab_data::{DatasetId, LoadOptions, Split, load};
use std::path::{Path, PathBuf};

const SEED: u64 = 0;
const BATCH: usize = 64;

/// One Fashion-MNIST image (784 grey values in [0, 1]) and its class.
#[derive(Clone, Debug)]
struct Item {
    pixels: Vec<f32>,
    label: usize,
}

fn items(split: &Split, limit: usize) -> Vec<Item> {
    let labels = split.labels.as_deref().unwrap_or_default();
    (0..split.n.min(limit))
        .map(|i| Item {
            pixels: split.x[i * 784..(i + 1) * 784].to_vec(),
            label: labels[i],
        })
        .collect()
}

/// Items to an image batch B×1×28×28 and its labels.
#[derive(Clone, Debug)]
struct FashionBatcher;

impl Batcher<Item, (Tensor<4>, Tensor<1, Int>)> for FashionBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let b = items.len();
        let labels: Vec<i64> = items.iter().map(|it| it.label as i64).collect();
        let pixels: Vec<f32> = items.into_iter().flat_map(|it| it.pixels).collect();
        (
            Tensor::from_data(TensorData::new(pixels, [b, 1, 28, 28]), device),
            Tensor::from_data(TensorData::new(labels, [b]), device),
        )
    }
}

/// Two 3×3 conv blocks (conv, ReLU, 2×2 max-pool: 28 → 14 → 7), a hidden layer of 128, a linear head.
#[derive(Module, Debug)]
struct Net {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    hidden: Linear,
    head: Linear,
    relu: Relu,
}

impl Net {
    fn new(device: &Device) -> Self {
        let convs = [(1, 32), (32, 64)]
            .into_iter()
            .map(|(cin, cout)| {
                Conv2dConfig::new([cin, cout], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device)
            })
            .collect();
        Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            hidden: LinearConfig::new(64 * 7 * 7, 128).init(device),
            head: LinearConfig::new(128, 10).init(device),
            relu: Relu::new(),
        }
    }

    fn forward(&self, mut x: Tensor<4>) -> Tensor<2> {
        for conv in &self.convs {
            x = self.pool.forward(self.relu.forward(conv.forward(x)));
        }
        let b = x.dims()[0];
        let h = self
            .relu
            .forward(self.hidden.forward(x.reshape([b, 64 * 7 * 7])));
        self.head.forward(h)
    }
}

impl TrainStep for Net {
    type Input = MixedBatch<4>; // mixlab: the mixed inputs and soft targets
    type Output = SoftClassificationOutput; // mixlab: soft cross-entropy, metrics on the dominant class

    fn step(&self, batch: MixedBatch<4>) -> TrainOutput<SoftClassificationOutput> {
        let out = SoftClassificationOutput::new(self.forward(batch.inputs.clone()), batch); // mixlab
        TrainOutput::new(self, out.loss.backward(), out)
    }
}

impl InferenceStep for Net {
    type Input = (Tensor<4>, Tensor<1, Int>);
    type Output = ClassificationOutput;

    fn step(&self, (x, labels): (Tensor<4>, Tensor<1, Int>)) -> ClassificationOutput {
        let logits = self.forward(x);
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), labels.clone());
        ClassificationOutput::new(loss, logits, labels)
    }
}

fn load_fashion(train_limit: usize) -> Result<mixlab_data::Dataset, mixlab_data::Error> {
    let opts = LoadOptions {
        train_limit: Some(train_limit),
        ..Default::default()
    };
    load(DatasetId::FashionMnist, &DataDir::resolve(None), &opts).or_else(|_| {
        let fixture =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mixlab-data/tests/fixtures");
        load(
            DatasetId::FashionMnist,
            &DataDir::resolve(Some(&fixture)),
            &opts,
        )
    })
}

/// What one run reports: burn-train's last-epoch validation values and the trained model.
struct Report {
    accuracy_pct: f64,
    ece15: f64,
    nll: f64,
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the test recomputes the metrics from it")
    )]
    model: Net,
    valid: Vec<Item>,
}

/// Trains for `epochs` on the first `train_limit` images, validating on up to `valid_limit` test images,
/// with burn-train's artifacts (logs, checkpoints) under `dir`.
fn run(
    epochs: usize,
    train_limit: usize,
    valid_limit: usize,
    dir: &Path,
) -> Result<Report, Box<dyn std::error::Error>> {
    let data = load_fashion(train_limit)?;
    let (train, valid) = (
        items(&data.train, train_limit),
        items(&data.test, valid_limit),
    );
    let device = Device::flex().autodiff();
    device.seed(SEED);

    // mixlab: timm's Mixup(mixup_alpha=.8, cutmix_alpha=1.), its plans counted per (epoch, step).
    let interrupter = Interrupter::new();
    let batches = train.len().div_ceil(BATCH) as u64;
    let mixer = BatchMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 10, SEED)?;
    let mixing = MixingBatcher::new(FashionBatcher, mixer)
        .with_epoch_length(batches)
        .reporting_to(interrupter.clone());

    let train_loader = DataLoaderBuilder::new(mixing)
        .batch_size(BATCH)
        .shuffle(SEED)
        .build(InMemDataset::new(train));
    let valid_loader = DataLoaderBuilder::new(FashionBatcher)
        .batch_size(256)
        .build(InMemDataset::new(valid.clone()));

    let optim = SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
        .init();
    let schedule = CosineAnnealingLrSchedulerConfig::new(0.05, epochs * batches as usize).init()?;
    let learner = Learner::new(Net::new(&device), optim, schedule);

    let ece = EceMetric::new(); // mixlab: ECE over the epoch, 15 bins
    let names = ["Accuracy".to_string(), ece.name().to_string(), "NLL".into()];
    let result = SupervisedTraining::new(dir, train_loader, valid_loader)
        .num_epochs(epochs)
        .with_interrupter(interrupter)
        .with_application_logger(None)
        .renderer(Box::new(EpochProgress::new())) // mixlab: one line per split
        .metric_train_numeric(LossMetric::new())
        .metric_train_numeric(AccuracyMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .metric_valid_numeric(AccuracyMetric::new())
        .metric_valid_numeric(ece) // mixlab
        .metric_valid_numeric(NllMetric::new()) // mixlab
        .launch(learner);
    if let Some(e) = result.error {
        return Err(format!("training failed: {e}").into());
    }

    let summary = LearnerSummary::new(dir, &names)?;
    let last = |name: &str| -> Result<f64, String> {
        summary
            .metrics
            .valid
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.entries.last())
            .map(|e| e.value)
            .ok_or_else(|| format!("burn-train logged no validation {name}"))
    };
    let report = Report {
        accuracy_pct: last(&names[0])?,
        ece15: last(&names[1])?,
        nll: last(&names[2])?,
        model: result.model,
        valid,
    };
    println!(
        "validation ({} images) after {epochs} epochs on {train_limit}: accuracy {:.2} %, ECE15 {:.4}, NLL {:.4}",
        report.valid.len(),
        report.accuracy_pct,
        report.ece15,
        report.nll
    );
    Ok(report)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);
    let limit = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("mixlab-learner-{}", std::process::id()));
    run(epochs, limit, usize::MAX, &dir)?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may unwrap")]
    use super::*;
    use mixlab_core::calib::{ECE_BINS, ece, nll, softmax};

    #[test]
    fn the_learner_example_trains_and_its_logged_ece_is_mixlabs_ece() {
        let dir = tempfile::tempdir().unwrap();
        let r = run(1, 256, 300, dir.path()).unwrap();
        assert!((0.0..=100.0).contains(&r.accuracy_pct));
        // The logged values are the epoch's, over every validation image: recompute them from the model.
        let (x, y) = FashionBatcher.batch(r.valid.clone(), &Device::flex());
        let logits: Vec<f32> = r
            .model
            .forward(x)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        let labels: Vec<usize> = y
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap()
            .into_iter()
            .map(|l| l as usize)
            .collect();
        let probs = softmax(&logits, 10, 1.0).unwrap();
        let want = ece(&probs, &labels, 10, ECE_BINS).unwrap();
        assert!(
            (r.ece15 - want).abs() < 1e-4,
            "logged {} vs {want}",
            r.ece15
        );
        assert!((r.nll - nll(&probs, &labels, 10).unwrap()).abs() < 1e-3);
    }
}
