//! `mixlab show`: a PNG of original / partner / mixed samples with their label weights, so a person can
//! see what a method does to real data (image grids; waveform rows for audio).

use crate::mixargs::MixArgs;
use crate::plots::{Tile, tile_grid, wave_grid};
use anyhow::{Context, Result, bail};
use clap::Args;
use mixlab_core::apply::apply_to_vec;
use mixlab_core::methods::MethodConfig;
use mixlab_core::methods::beatsync::synchronise;
use mixlab_core::mixer::{BatchInfo, MixerConfig};
use mixlab_core::plan::MixPlan;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use mixlab_data::{DataDir, DataSpec, DatasetId, LoadOptions, load_spec};
use std::path::PathBuf;

/// Options of `mixlab show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub mix: MixArgs,
    /// Dataset to draw from (cifar10, mnist, fashion-mnist, digits, fsdd).
    #[arg(long)]
    pub dataset: DataSpec,
    /// Data directory (default: $MIXLAB_DATA, then the embedded sets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of mixed samples.
    #[arg(long, default_value_t = 16)]
    pub n: usize,
    /// Seed of the plan (stream (seed, mix, 0, 0)).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

const CIFAR10: [&str; 10] = [
    "plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
];

/// One sampled and applied batch of real data.
pub struct MixedBatch {
    pub shape: SampleShape,
    pub original: Vec<f32>,
    pub mixed: Vec<f32>,
    /// Each sample's partner as it entered the mix, where the method moves it first (beat-synchronous
    /// mixup); `None`: the partner as loaded.
    pub partners: Option<Vec<f32>>,
    pub labels: Vec<usize>,
    pub plan: MixPlan,
    /// Class names in label order where known (CIFAR-10, image folders, CSV class columns).
    pub class_names: Vec<String>,
}

/// Loads the first `n` training samples of `id`, samples a plan for them and applies it on the host.
pub fn mix_real_batch(
    id: &DataSpec,
    dir: &DataDir,
    mixer: &MixerConfig,
    n: usize,
    seed: u64,
) -> Result<MixedBatch> {
    if n == 0 {
        bail!("--n must be at least 1");
    }
    if let Some(m) = mixer
        .methods
        .iter()
        .map(|m| m.config.method())
        .find(|m| !m.plan_shows_its_inputs())
    {
        bail!(
            "{m} forms its mixed inputs inside training (from the model, a hidden layer or partners the \
             trainer picks), so a picture of its sampled plan would show blends it never trains on; show \
             draws the methods whose plan is their input"
        );
    }
    let ds = load_spec(id, dir, &LoadOptions::default().with_limit(Some(n)))
        .with_context(|| format!("loading {id}"))?;
    let labels =
        ds.train.labels.clone().with_context(|| {
            format!("{id} is a regression table; show draws images and waveforms")
        })?;
    let (c, spatial) = ds
        .sample_shape
        .split_first()
        .context("dataset has an empty sample shape")?;
    let shape = SampleShape::new(*c, spatial)?;
    let n = ds.train.n;
    let info = BatchInfo {
        batch: n,
        shape,
        epoch: 0,
        data: Some(&ds.train.x),
    };
    let mut rng = stream(seed, Purpose::Mix, 0, 0);
    let mut plan = mixer.sample(&info, &mut rng)?;
    // Beat-synchronous mixup moves each partner before the blend: show the moved partner.
    let beatsync = match mixer.methods.as_slice() {
        [m] => match &m.config {
            MethodConfig::Beatsync(c) => Some(c),
            _ => None,
        },
        _ => None,
    };
    let (mixed, partners) = match beatsync {
        Some(c) => {
            let s = synchronise(c, &ds.train.x, &mut plan, &mut rng)?;
            (s.mixed, Some(s.partners))
        }
        None => (apply_to_vec(&plan, &ds.train.x)?, None),
    };
    let class_names = match (id.known(), ds.class_names) {
        (Some(DatasetId::Cifar10), _) => CIFAR10.iter().map(|s| s.to_string()).collect(),
        (_, Some(names)) => names,
        _ => Vec::new(),
    };
    Ok(MixedBatch {
        shape,
        original: ds.train.x,
        mixed,
        partners,
        labels,
        plan,
        class_names,
    })
}

fn label_name(names: &[String], y: usize) -> String {
    names.get(y).cloned().unwrap_or_else(|| y.to_string())
}

fn tile(shape: &SampleShape, x: &[f32]) -> Tile {
    let [_, h, w] = shape.dims;
    let n = h * w;
    let px = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let rgb = (0..n)
        .map(|p| {
            if shape.channels >= 3 {
                [px(x[p]), px(x[n + p]), px(x[2 * n + p])]
            } else {
                let g = px(x[p]);
                [g, g, g]
            }
        })
        .collect();
    Tile {
        width: w,
        height: h,
        rgb,
    }
}

/// Draws the grid for an already mixed batch into `out`.
pub fn render(id: &DataSpec, b: &MixedBatch, title: &str, out: &std::path::Path) -> Result<()> {
    let len = b.shape.sample_len();
    let n = b.plan.len();
    let caption = |i: usize| {
        let j = b.plan.partner[i];
        format!(
            "λ={:.2} {}·{}",
            b.plan.lam_label[i],
            label_name(&b.class_names, b.labels[i]),
            label_name(&b.class_names, b.labels[j])
        )
    };
    match b.shape.rank {
        2 => {
            let rows: Vec<(Vec<Tile>, String)> = (0..n)
                .map(|i| {
                    let j = b.plan.partner[i];
                    let tiles = vec![
                        tile(&b.shape, &b.original[i * len..(i + 1) * len]),
                        tile(&b.shape, &b.original[j * len..(j + 1) * len]),
                        tile(&b.shape, &b.mixed[i * len..(i + 1) * len]),
                    ];
                    (tiles, caption(i))
                })
                .collect();
            let side = b.shape.dims[1].max(b.shape.dims[2]);
            let scale = (96 / side).max(1);
            tile_grid(out, title, &rows, 4, scale)
        }
        1 => {
            let rows: Vec<(Vec<Vec<f32>>, String)> = (0..n)
                .map(|i| {
                    let j = b.plan.partner[i];
                    let partner = match &b.partners {
                        Some(p) => &p[i * len..(i + 1) * len],
                        None => &b.original[j * len..(j + 1) * len],
                    };
                    let waves = vec![
                        b.original[i * len..(i + 1) * len].to_vec(),
                        partner.to_vec(),
                        b.mixed[i * len..(i + 1) * len].to_vec(),
                    ];
                    (waves, caption(i))
                })
                .collect();
            wave_grid(out, title, &rows)
        }
        r => bail!("show draws 1-D and 2-D samples, {id} has rank {r}"),
    }
}

/// Runs the command.
pub fn run(args: &ShowArgs) -> Result<()> {
    let dir = DataDir::resolve(args.data_dir.as_deref());
    let b = mix_real_batch(&args.dataset, &dir, &args.mix.mixer()?, args.n, args.seed)?;
    let names: Vec<&str> = args.mix.method.iter().map(|m| m.name()).collect();
    let partner = if b.partners.is_some() {
        "partner (aligned, rescaled)"
    } else {
        "partner"
    };
    let title = format!(
        "{} on {} (seed {}): original | {partner} | mixed, λ = own label weight",
        names.join("+"),
        args.dataset,
        args.seed
    );
    render(&args.dataset, &b, &title, &args.out)?;
    crate::fsio::outln(format_args!("wrote {}", args.out.display()))?;
    Ok(())
}
