//! `mixlab plan`: sample one batch's mix plan and print it as a single JSON object.

use crate::mixargs::MixArgs;
use anyhow::{Context, Result, bail};
use clap::Args;
use mixlab_core::mixer::BatchInfo;
use mixlab_core::plan::{MixPlan, SampleWeight, mask_mean};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::RngExt;
use serde_json::{Value, json};

/// Options of `mixlab plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub mix: MixArgs,
    /// Batch size (any size ≥ 1, odd too).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Sample shape: CxL, CxHxW or CxDxHxW.
    #[arg(long, default_value = "3x32x32")]
    pub shape: String,
    /// Run seed; the plan uses the stream (seed, mix, epoch, step).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Epoch of the step to replay.
    #[arg(long, default_value_t = 0)]
    pub epoch: u64,
    /// Step within the epoch.
    #[arg(long, default_value_t = 0)]
    pub step: u64,
    /// Labels of the batch (comma-separated class indices) to print mixed targets.
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<usize>,
    /// Number of classes for --labels.
    #[arg(long)]
    pub classes: Option<usize>,
}

/// Runs the command: prints the plan JSON on stdout.
pub fn run(args: &PlanArgs) -> Result<()> {
    let shape = SampleShape::parse(&args.shape).context("--shape")?;
    let mixer = args.mix.mixer()?;
    mixer.validate(&shape)?;
    // A plan is printed as JSON: a batch beyond this is a typo, not a use.
    const MAX_PLAN_BATCH: usize = 1 << 16;
    if args.batch == 0 || args.batch > MAX_PLAN_BATCH {
        bail!(
            "--batch must be in 1..={MAX_PLAN_BATCH}, got {}",
            args.batch
        );
    }
    // Methods that look at the pixels (saliencymix) get a reproducible stand-in batch.
    let needs_data = mixer.methods.iter().any(|m| m.config.needs_data());
    let data: Option<Vec<f32>> = needs_data.then(|| {
        let mut rng = stream(args.seed, Purpose::Augment, args.epoch, args.step);
        (0..args.batch * shape.sample_len())
            .map(|_| rng.random::<f32>())
            .collect()
    });
    let info = BatchInfo {
        batch: args.batch,
        shape,
        epoch: args.epoch,
        data: data.as_deref(),
    };
    let mut rng = stream(args.seed, Purpose::Mix, args.epoch, args.step);
    let plan = mixer.sample(&info, &mut rng)?;
    let mut out = plan_json(&plan);
    let obj = out.as_object_mut().context("plan JSON is an object")?;
    let methods: Vec<&str> = args.mix.method.iter().map(|m| m.name()).collect();
    obj.insert("method".into(), json!(methods.join(",")));
    obj.insert("seed".into(), json!(args.seed));
    obj.insert("epoch".into(), json!(args.epoch));
    obj.insert("step".into(), json!(args.step));
    obj.insert("mixer".into(), serde_json::to_value(&mixer)?);
    if needs_data {
        obj.insert(
            "data".into(),
            json!("uniform [0,1) stand-in drawn from stream (seed, augment, epoch, step)"),
        );
    }
    if !args.labels.is_empty() {
        let classes = args.classes.context("--labels needs --classes K")?;
        let t = plan.soft_targets(&args.labels, classes, mixer.label_smoothing)?;
        let rows: Vec<&[f32]> = t.chunks(classes).collect();
        obj.insert("targets".into(), json!(rows));
    }
    crate::fsio::outln(format_args!("{}", serde_json::to_string(&out)?))?;
    Ok(())
}

/// The plan as JSON: partners, label weights, realised input weights, regions and per-sample kinds.
pub fn plan_json(plan: &MixPlan) -> Value {
    let rank = plan.shape.rank;
    let regions: Vec<Value> = plan
        .weights
        .iter()
        .map(|w| match w.region() {
            Some(r) => json!({"start": &r.start[3 - rank..], "end": &r.end[3 - rank..]}),
            None => Value::Null,
        })
        .collect();
    let kinds: Vec<Value> = plan
        .weights
        .iter()
        .map(|w| match w {
            SampleWeight::Keep => json!({"kind": "keep"}),
            SampleWeight::Blend { lam } => json!({"kind": "blend", "lam": lam}),
            SampleWeight::Paste { .. } => json!({"kind": "paste"}),
            SampleWeight::PasteResized { interp, .. } => {
                json!({"kind": "paste-resized", "interp": interp})
            }
            SampleWeight::Mask { mask } => json!({"kind": "mask", "mean": mask_mean(mask)}),
        })
        .collect();
    json!({
        "shape": plan.shape.to_string(),
        "batch": plan.len(),
        "partner": plan.partner,
        "lam_label": plan.lam_label,
        "input_weight_mean": plan.input_weight_mean(),
        "regions": regions,
        "weights": kinds,
        "methods": plan.method,
    })
}
