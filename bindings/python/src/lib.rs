//! `mixlab._native`: mixlab-core's host mixing and calibration maths for Python.
//!
//! The Python layer (`python/mixlab/`) builds mixer configs with timm's and torchvision's vocabulary and
//! handles torch tensors; this module only sees NumPy arrays. Every call checks its input and raises
//! `ValueError` naming the rule and the value (a panic would abort the interpreter), and releases the GIL
//! while it mixes, so DataLoader threads run in parallel.

use std::str::FromStr;

use mixlab_core::apply::{Elem, apply, apply_gathered, apply_in_place};
use mixlab_core::calib;
use mixlab_core::dense;
use mixlab_core::methods::Method;
use mixlab_core::mixer::MixerConfig;
use mixlab_core::plan::MixPlan;
use mixlab_core::shape::SampleShape;
use mixlab_core::stream_mixer::StreamMixer;
use mixlab_core::weight::SampleWeight;
use numpy::ndarray::ArrayD;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2,
    PyReadonlyArrayDyn, PyReadwriteArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The sample shape of a batch array `(B, C, *spatial)` with 1 to 3 spatial dimensions.
fn batch_shape(dims: &[usize]) -> PyResult<(usize, SampleShape)> {
    if !(3..=5).contains(&dims.len()) {
        return Err(PyValueError::new_err(format!(
            "x must have shape (batch, channels, *spatial) with 1 to 3 spatial dimensions, got shape {dims:?}"
        )));
    }
    let shape = SampleShape::new(dims[1], &dims[2..]).map_err(value_error)?;
    Ok((dims[0], shape))
}

/// The batch size and sample shape of array `x` and its labels as class indices, checked against each other.
fn batch_and_labels(
    x: &Bound<'_, PyAny>,
    labels: &PyReadonlyArray1<'_, i64>,
    num_classes: usize,
) -> PyResult<(usize, SampleShape, Vec<usize>)> {
    let dims: Vec<usize> = x.getattr("shape").and_then(|s| s.extract()).map_err(|_| {
        PyValueError::new_err(format!("x must be a NumPy array, got {}", describe(x)))
    })?;
    let (batch, sample) = batch_shape(&dims)?;
    check_label_count(batch, labels)?;
    Ok((batch, sample, labels_of(labels, num_classes)?))
}

fn check_label_count(batch: usize, labels: &PyReadonlyArray1<'_, i64>) -> PyResult<()> {
    if labels.len() != batch {
        return Err(PyValueError::new_err(format!(
            "labels must have one entry per sample: batch {batch}, got {} labels",
            labels.len()
        )));
    }
    Ok(())
}

fn labels_of(labels: &PyReadonlyArray1<'_, i64>, classes: usize) -> PyResult<Vec<usize>> {
    let labels = labels.as_slice().map_err(value_error)?;
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            usize::try_from(l)
                .ok()
                .filter(|&l| l < classes)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "labels must be in [0, {classes}), got {l} at index {i}"
                    ))
                })
        })
        .collect()
}

/// A box as Python passes it: `(start, end, class)` in `[d, h, w]`.
type BoxIn = ([usize; 3], [usize; 3], u32);
/// A mixed box as Python gets it: `(start, end, class, weight)`.
type BoxOut = ([usize; 3], [usize; 3], u32, f32);

/// A sampled plan: partners, per-sample weights and label weights of one batch.
#[pyclass(module = "mixlab._native", frozen)]
struct Plan {
    plan: MixPlan,
}

#[pymethods]
impl Plan {
    /// Batch size.
    fn __len__(&self) -> usize {
        self.plan.len()
    }

    /// Partner index j of every sample (int64).
    #[getter]
    fn partner<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let v: Vec<i64> = self.plan.partner.iter().map(|&j| j as i64).collect();
        v.into_pyarray(py)
    }

    /// Label weight λ of every sample itself (its partner gets 1 − λ), float32.
    #[getter]
    fn lam<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.plan.lam_label.clone().into_pyarray(py)
    }

    /// Method that mixed each sample (`"none"` where the sample was kept).
    #[getter]
    fn methods(&self) -> Vec<&'static str> {
        self.plan.method.iter().map(|m| m.name()).collect()
    }

    /// The plan as JSON (masks are left out: they are as large as the batch).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.plan).map_err(value_error)
    }

    /// Dense weight of every sample itself per spatial position, shape `(B, *spatial)`, float32: 1 kept,
    /// λ blended, 0 inside a pasted box, the mask for masks. With `resized()` it lets another library
    /// apply the plan on its own device: `out = w·x + (1 − w)·p`.
    fn weight_map<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let n = self.plan.shape.spatial_len();
        let mut out = Vec::with_capacity(self.plan.len() * n);
        for i in 0..self.plan.len() {
            out.extend(dense::source_map(&self.plan, i).map_err(value_error)?.0);
        }
        let mut full_dims = vec![self.plan.len()];
        full_dims.extend_from_slice(self.plan.shape.spatial());
        Ok(ArrayD::from_shape_vec(full_dims, out)
            .map_err(value_error)?
            .into_pyarray(py))
    }

    /// Segmentation masks `(B, *spatial)` of int64 labels mixed as this plan mixes the inputs: each position
    /// shows the label of the sample with the larger weight there, at that sample's source position.
    fn mix_masks<'py>(
        &self,
        py: Python<'py>,
        masks: PyReadonlyArrayDyn<'py, i64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<i64>>> {
        let dims = masks.shape().to_vec();
        let want: Vec<usize> = std::iter::once(self.plan.len())
            .chain(self.plan.shape.spatial().iter().copied())
            .collect();
        if dims != want {
            return Err(PyValueError::new_err(format!(
                "masks must have shape (batch, *spatial) = {want:?}, got {dims:?}"
            )));
        }
        let m = masks.as_slice().map_err(|_| {
            PyValueError::new_err("masks must be C-contiguous (np.ascontiguousarray)")
        })?;
        let out = dense::mix_masks(&self.plan, m).map_err(value_error)?;
        Ok(ArrayD::from_shape_vec(dims, out)
            .map_err(value_error)?
            .into_pyarray(py))
    }

    /// Each sample's boxes after the mix: `boxes[i]` lists sample i's `(start, end, class)` with `start`
    /// and `end` as `[d, h, w]` (half-open, unit leading extents for 1-D and 2-D). Returns per mixed
    /// sample `(start, end, class, weight)`: its own and its partner's boxes clipped to where their image
    /// dominates, weighted by how much of each shows; boxes below `min_visible` are dropped.
    #[pyo3(signature = (boxes, min_visible = 0.0))]
    fn mix_boxes(&self, boxes: Vec<Vec<BoxIn>>, min_visible: f32) -> PyResult<Vec<Vec<BoxOut>>> {
        let boxes: Vec<Vec<dense::LabelledBox>> = boxes
            .into_iter()
            .map(|bs| {
                bs.into_iter()
                    .map(|(start, end, class)| dense::LabelledBox {
                        region: mixlab_core::weight::Region { start, end },
                        class,
                        weight: 1.0,
                    })
                    .collect()
            })
            .collect();
        let out = dense::mix_boxes(&self.plan, &boxes, min_visible).map_err(value_error)?;
        Ok(out
            .into_iter()
            .map(|bs| {
                bs.into_iter()
                    .map(|b| (b.region.start, b.region.end, b.class, b.weight))
                    .collect()
            })
            .collect())
    }

    /// Samples whose partner is pasted resized: `(i, start, end, interp)` with `start`/`end` as
    /// `[d, h, w]` (unit leading extents for 1-D and 2-D) and interp `"nearest"` or `"linear"`.
    fn resized(&self) -> Vec<(usize, [usize; 3], [usize; 3], &'static str)> {
        self.plan
            .weights
            .iter()
            .enumerate()
            .filter_map(|(i, w)| match w {
                SampleWeight::PasteResized { region, interp } => Some((
                    i,
                    region.start,
                    region.end,
                    match interp {
                        mixlab_core::weight::Interp::Nearest => "nearest",
                        mixlab_core::weight::Interp::Linear => "linear",
                    },
                )),
                _ => None,
            })
            .collect()
    }

    /// Soft targets `(B, classes)`: timm's `mixup_target` with label smoothing s.
    #[pyo3(signature = (labels, num_classes, smoothing = 0.0))]
    fn soft_targets<'py>(
        &self,
        py: Python<'py>,
        labels: PyReadonlyArray1<'py, i64>,
        num_classes: usize,
        smoothing: f32,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let labels = labels_of(&labels, num_classes)?;
        let t = self
            .plan
            .soft_targets(&labels, num_classes, smoothing)
            .map_err(value_error)?;
        to_2d(py, t, num_classes)
    }

    /// Mixes a float32 or uint8 batch with this plan (a new array; `x` is not changed).
    fn apply<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        mix_any(py, &self.plan, x)
    }
}

fn to_2d(py: Python<'_>, v: Vec<f32>, cols: usize) -> PyResult<Bound<'_, PyArray2<f32>>> {
    let rows = v.len() / cols.max(1);
    Ok(numpy::ndarray::Array2::from_shape_vec((rows, cols), v)
        .map_err(value_error)?
        .into_pyarray(py))
}

fn mix_typed<'py, T: Elem + Default + numpy::Element + Send + Sync>(
    py: Python<'py>,
    plan: &MixPlan,
    x: &PyReadonlyArrayDyn<'py, T>,
) -> PyResult<Bound<'py, PyAny>> {
    let dims = x.shape().to_vec();
    let input = x.as_slice().map_err(|_| {
        PyValueError::new_err(
            "x must be C-contiguous (np.ascontiguousarray or tensor.contiguous())",
        )
    })?;
    let out = py.detach(|| {
        let mut out = vec![T::default(); input.len()];
        apply(plan, input, &mut out).map(|()| out)
    });
    let out = out.map_err(value_error)?;
    Ok(ArrayD::from_shape_vec(dims, out)
        .map_err(value_error)?
        .into_pyarray(py)
        .into_any())
}

fn mix_any<'py>(
    py: Python<'py>,
    plan: &MixPlan,
    x: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'py, f32>>() {
        return mix_typed(py, plan, &a);
    }
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'py, u8>>() {
        return mix_typed(py, plan, &a);
    }
    Err(PyValueError::new_err(format!(
        "x must be a float32 or uint8 NumPy array, got {}",
        describe(x)
    )))
}

fn describe(x: &Bound<'_, PyAny>) -> String {
    match x.getattr("dtype") {
        Ok(d) => format!("dtype {d}"),
        Err(_) => format!("{}", x.get_type()),
    }
}

/// A mixer: a validated config and its own (seed, epoch, step) stream. Every call to `sample` or `mix`
/// takes the next step's stream, so a run replays when it is rebuilt with the same seed and epoch.
#[pyclass(module = "mixlab._native")]
struct Mixer {
    mixer: StreamMixer,
}

impl Mixer {
    /// The plan's soft targets with the config's label smoothing, as a `(B, num_classes)` array.
    fn targets<'py>(
        &self,
        py: Python<'py>,
        plan: &MixPlan,
        labels: &[usize],
        num_classes: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let smoothing = self.mixer.config().label_smoothing;
        let t = plan
            .soft_targets(labels, num_classes, smoothing)
            .map_err(value_error)?;
        to_2d(py, t, num_classes)
    }

    fn next_plan(
        &mut self,
        batch: usize,
        shape: SampleShape,
        data: Option<&[f32]>,
    ) -> PyResult<MixPlan> {
        self.mixer
            .next_plan(batch, shape, data)
            .map_err(value_error)
    }
}

#[pymethods]
impl Mixer {
    #[new]
    #[pyo3(signature = (config_json, seed = 0, epoch = 0, step = 0))]
    fn new(config_json: &str, seed: u64, epoch: u64, step: u64) -> PyResult<Self> {
        let config: MixerConfig = serde_json::from_str(config_json)
            .map_err(|e| PyValueError::new_err(format!("mixer config: {e}")))?;
        let mut mixer = StreamMixer::new(config, seed).map_err(value_error)?;
        mixer.resume_at(epoch, step);
        Ok(Self { mixer })
    }

    /// The config as JSON, every default filled in.
    #[getter]
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(self.mixer.config()).map_err(value_error)
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.mixer.seed()
    }

    #[getter]
    fn epoch(&self) -> u64 {
        self.mixer.position().0
    }

    #[getter]
    fn step(&self) -> u64 {
        self.mixer.position().1
    }

    #[setter]
    fn set_step(&mut self, step: u64) {
        let epoch = self.mixer.position().0;
        self.mixer.resume_at(epoch, step);
    }

    /// Moves to an epoch and restarts its step count (the stream of (seed, epoch, 0)).
    fn set_epoch(&mut self, epoch: u64) {
        self.mixer.set_epoch(epoch);
    }

    /// Samples the next plan for a batch of shape `(B, C, *spatial)`. Methods that look at the data
    /// (saliencymix) need `data`, the float32 batch.
    #[pyo3(signature = (shape, data = None))]
    fn sample(
        &mut self,
        shape: Vec<usize>,
        data: Option<PyReadonlyArrayDyn<'_, f32>>,
    ) -> PyResult<Plan> {
        let (batch, sample) = batch_shape(&shape)?;
        let data = match &data {
            Some(d) => Some(d.as_slice().map_err(value_error)?),
            None if self.mixer.needs_data() => {
                return Err(PyValueError::new_err(
                    "this mixer's methods look at the batch (saliencymix): pass data=",
                ));
            }
            None => None,
        };
        Ok(Plan {
            plan: self.next_plan(batch, sample, data)?,
        })
    }

    /// Mixes a float32 or uint8 batch `(B, C, *spatial)` with integer labels: returns the mixed batch
    /// (a new array), the soft targets `(B, num_classes)` with the config's label smoothing, and the plan.
    fn mix<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        labels: PyReadonlyArray1<'py, i64>,
        num_classes: usize,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let (batch, sample, labels) = batch_and_labels(x, &labels, num_classes)?;
        let plan = if self.mixer.needs_data() {
            let data: Vec<f32> = if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'py, f32>>() {
                a.as_slice().map_err(value_error)?.to_vec()
            } else if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'py, u8>>() {
                a.as_slice()
                    .map_err(value_error)?
                    .iter()
                    .map(|&v| f32::from(v))
                    .collect()
            } else {
                return Err(PyValueError::new_err(format!(
                    "x must be a float32 or uint8 NumPy array, got {}",
                    describe(x)
                )));
            };
            self.next_plan(batch, sample, Some(&data))?
        } else {
            self.next_plan(batch, sample, None)?
        };
        let mixed = mix_any(py, &plan, x)?;
        let targets = self.targets(py, &plan, &labels, num_classes)?;
        PyTuple::new(
            py,
            [
                mixed,
                targets.into_any(),
                Bound::new(py, Plan { plan })?.into_any(),
            ],
        )
    }

    /// Mixes a C-contiguous float32 or uint8 batch in place, as timm's `Mixup` does; returns the soft
    /// targets `(B, num_classes)` and the plan.
    fn mix_inplace<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        labels: PyReadonlyArray1<'py, i64>,
        num_classes: usize,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let (batch, sample, labels) = batch_and_labels(x, &labels, num_classes)?;
        let contiguous =
            || PyValueError::new_err("x must be C-contiguous and writable to be mixed in place");
        let plan = if let Ok(mut a) = x.extract::<PyReadwriteArrayDyn<'py, f32>>() {
            let xs = a.as_slice_mut().map_err(|_| contiguous())?;
            let data = self.mixer.needs_data().then(|| xs.to_vec());
            let plan = self.next_plan(batch, sample, data.as_deref())?;
            py.detach(|| apply_in_place(&plan, xs))
                .map_err(value_error)?;
            plan
        } else if let Ok(mut a) = x.extract::<PyReadwriteArrayDyn<'py, u8>>() {
            let xs = a.as_slice_mut().map_err(|_| contiguous())?;
            let data: Option<Vec<f32>> = self
                .mixer
                .needs_data()
                .then(|| xs.iter().map(|&v| f32::from(v)).collect());
            let plan = self.next_plan(batch, sample, data.as_deref())?;
            py.detach(|| apply_in_place(&plan, xs))
                .map_err(value_error)?;
            plan
        } else {
            return Err(PyValueError::new_err(format!(
                "x must be a writable float32 or uint8 NumPy array, got {}",
                describe(x)
            )));
        };
        let targets = self.targets(py, &plan, &labels, num_classes)?;
        PyTuple::new(
            py,
            [
                targets.into_any(),
                Bound::new(py, Plan { plan })?.into_any(),
            ],
        )
    }

    /// A collate function's work for uint8 samples given one by one (`(C, *spatial)` arrays of one shape):
    /// stacks and mixes them in one pass; returns the mixed batch, the soft targets and the plan.
    fn collate<'py>(
        &mut self,
        py: Python<'py>,
        samples: Vec<PyReadonlyArrayDyn<'py, u8>>,
        labels: PyReadonlyArray1<'py, i64>,
        num_classes: usize,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let Some(first) = samples.first() else {
            return Err(PyValueError::new_err("an empty batch cannot be collated"));
        };
        let item: Vec<usize> = first.shape().to_vec();
        if let Some((i, s)) = samples
            .iter()
            .enumerate()
            .find(|(_, s)| s.shape() != item.as_slice())
        {
            return Err(PyValueError::new_err(format!(
                "samples must share one shape: sample 0 is {item:?}, sample {i} is {:?}",
                s.shape()
            )));
        }
        let mut dims = vec![samples.len()];
        dims.extend_from_slice(&item);
        let (batch, sample) = batch_shape(&dims)?;
        check_label_count(batch, &labels)?;
        let labels = labels_of(&labels, num_classes)?;
        let slices = samples
            .iter()
            .map(|s| {
                s.as_slice().map_err(|_| {
                    PyValueError::new_err("samples must be C-contiguous (np.ascontiguousarray)")
                })
            })
            .collect::<PyResult<Vec<&[u8]>>>()?;
        let data: Option<Vec<f32>> = self.mixer.needs_data().then(|| {
            slices
                .iter()
                .flat_map(|s| s.iter().map(|&v| f32::from(v)))
                .collect()
        });
        let plan = self.next_plan(batch, sample, data.as_deref())?;
        let out = py.detach(|| {
            let mut out = vec![0u8; batch * sample.sample_len()];
            apply_gathered(&plan, &slices, &mut out).map(|()| out)
        });
        let mixed = ArrayD::from_shape_vec(dims, out.map_err(value_error)?)
            .map_err(value_error)?
            .into_pyarray(py)
            .into_any();
        let targets = self.targets(py, &plan, &labels, num_classes)?;
        PyTuple::new(
            py,
            [
                mixed,
                targets.into_any(),
                Bound::new(py, Plan { plan })?.into_any(),
            ],
        )
    }

    /// Pickling (DataLoader workers): the config, seed and stream position.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.borrow();
        let (epoch, step) = me.mixer.position();
        let args = (me.config_json()?, me.mixer.seed(), epoch, step);
        PyTuple::new(
            py,
            [
                slf.get_type().into_any(),
                args.into_pyobject(py)?.into_any(),
            ],
        )
    }
}

fn probs_labels<'py>(
    probs: &PyReadonlyArray2<'py, f32>,
    labels: &PyReadonlyArray1<'py, i64>,
) -> PyResult<(Vec<f32>, Vec<usize>, usize)> {
    let classes = probs.shape()[1];
    if probs.shape()[0] != labels.len() {
        return Err(PyValueError::new_err(format!(
            "one label per row: {} rows, got {} labels",
            probs.shape()[0],
            labels.len()
        )));
    }
    let labels = labels_of(labels, classes)?;
    let p = probs.as_slice().map_err(value_error)?.to_vec();
    Ok((p, labels, classes))
}

/// Expected calibration error with `bins` equal-width bins `(b/B, (b+1)/B]` (gpleiss's rule).
#[pyfunction]
#[pyo3(signature = (probs, labels, bins = 15))]
fn ece(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
    bins: usize,
) -> PyResult<f64> {
    let (p, y, k) = probs_labels(&probs, &labels)?;
    py.detach(|| calib::ece(&p, &y, k, bins))
        .map_err(value_error)
}

/// Adaptive (equal-mass) ECE with `bins` bins.
#[pyfunction]
#[pyo3(signature = (probs, labels, bins = 15))]
fn adaptive_ece(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
    bins: usize,
) -> PyResult<f64> {
    let (p, y, k) = probs_labels(&probs, &labels)?;
    py.detach(|| calib::adaptive_ece(&p, &y, k, bins))
        .map_err(value_error)
}

/// Mean negative log-likelihood of the labels.
#[pyfunction]
fn nll(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let (p, y, k) = probs_labels(&probs, &labels)?;
    py.detach(|| calib::nll(&p, &y, k)).map_err(value_error)
}

/// Equal-width reliability bins as dicts (lower, upper, count, mean_conf, accuracy).
#[pyfunction]
#[pyo3(signature = (probs, labels, bins = 15))]
fn reliability_bins<'py>(
    py: Python<'py>,
    probs: PyReadonlyArray2<'py, f32>,
    labels: PyReadonlyArray1<'py, i64>,
    bins: usize,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let (p, y, k) = probs_labels(&probs, &labels)?;
    let (conf, correct) = calib::confidences(&p, &y, k).map_err(value_error)?;
    let bins = calib::reliability_bins(&conf, &correct, bins).map_err(value_error)?;
    bins.iter()
        .map(|b| {
            let d = PyDict::new(py);
            d.set_item("lower", b.lower)?;
            d.set_item("upper", b.upper)?;
            d.set_item("count", b.count)?;
            d.set_item("mean_conf", b.mean_conf)?;
            d.set_item("accuracy", b.accuracy)?;
            Ok(d)
        })
        .collect()
}

/// The temperature T minimising the NLL of `softmax(logits / T)` (validation logits, integer labels).
#[pyfunction]
fn fit_temperature(
    py: Python<'_>,
    logits: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let (l, y, k) = probs_labels(&logits, &labels)?;
    py.detach(|| calib::fit_temperature(&l, &y, k))
        .map_err(value_error)
}

/// Row-wise softmax of `logits / temperature`.
#[pyfunction]
#[pyo3(signature = (logits, temperature = 1.0))]
fn softmax<'py>(
    py: Python<'py>,
    logits: PyReadonlyArray2<'py, f32>,
    temperature: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let k = logits.shape()[1];
    let l = logits.as_slice().map_err(value_error)?;
    let p = py
        .detach(|| calib::softmax(l, k, temperature))
        .map_err(value_error)?;
    to_2d(py, p, k)
}

/// Names of the methods that mix a host batch (the ones `Mixer` accepts).
#[pyfunction]
fn host_methods() -> Vec<&'static str> {
    Method::ALL
        .iter()
        .copied()
        .filter(|m| m.is_input_level())
        .map(Method::name)
        .collect()
}

/// The default config of a method as JSON (its hyper-parameters and their defaults).
#[pyfunction]
fn method_defaults(name: &str) -> PyResult<String> {
    let m = Method::from_str(name).map_err(value_error)?;
    serde_json::to_string(&m.default_config()).map_err(value_error)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Mixer>()?;
    m.add_class::<Plan>()?;
    m.add_function(wrap_pyfunction!(ece, m)?)?;
    m.add_function(wrap_pyfunction!(adaptive_ece, m)?)?;
    m.add_function(wrap_pyfunction!(nll, m)?)?;
    m.add_function(wrap_pyfunction!(reliability_bins, m)?)?;
    m.add_function(wrap_pyfunction!(fit_temperature, m)?)?;
    m.add_function(wrap_pyfunction!(softmax, m)?)?;
    m.add_function(wrap_pyfunction!(host_methods, m)?)?;
    m.add_function(wrap_pyfunction!(method_defaults, m)?)?;
    Ok(())
}
