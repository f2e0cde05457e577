//! ProxyDet's losses on a cosine classifier (the method, its reading and its defaults:
//! [`mixlab_core::methods::proxydet`]): cross-entropy of `scale`·cos(embedding, class embedding) over the
//! training classes, plus the class-wise multi-modal mixup term on the batch's class prototypes.

use crate::error::Result;
use crate::loss::{l2_normalise, soft_cross_entropy};
use burn::module::Param;
use burn::prelude::*;
use mixlab_core::methods::proxydet::{ProxyPairs, class_table};
use mixlab_core::methods::{CmmLoss, ProxydetConfig};
use rand::Rng;

/// The classes present in `labels`, ascending (the order of the reference's `torch.unique`).
pub fn present_classes(labels: &[usize]) -> Vec<usize> {
    let mut c = labels.to_vec();
    c.sort_unstable();
    c.dedup();
    c
}

fn index(v: &[usize], dev: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = v.iter().map(|&i| i as i64).collect();
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), dev)
}

/// The proxy term: each present class's prototype (the normalised mean of its unit embeddings `emb`, n × d)
/// and its row of `table` (classes × d, unit rows) are mixed with those of class `pairs.partner[i]` at
/// `pairs.lam`, both mixes re-normalised, and their distance taken (mean over classes and dimensions).
pub fn cmm_loss(
    emb: Tensor<2>,
    labels: &[usize],
    table: Tensor<2>,
    pairs: &ProxyPairs,
    kind: CmmLoss,
) -> Tensor<1> {
    let dev = emb.device();
    let classes = present_classes(labels);
    let (p, n) = (classes.len(), labels.len());
    // The class means as one product: row c of `avg` holds 1/n_c at the samples of class c.
    let mut avg = vec![0f32; p * n];
    for (c, &class) in classes.iter().enumerate() {
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == class).collect();
        for &i in &members {
            avg[c * n + i] = 1.0 / members.len() as f32;
        }
    }
    let avg = Tensor::<2>::from_data(TensorData::new(avg, [p, n]), &dev);
    let protos = l2_normalise(avg.matmul(emb));
    let text = table.select(0, index(&classes, &dev));
    let partner = index(&pairs.partner, &dev);
    let lam = pairs.lam as f64;
    let mix = |x: Tensor<2>| {
        l2_normalise(x.clone().mul_scalar(lam) + x.select(0, partner.clone()).mul_scalar(1.0 - lam))
    };
    let d = mix(protos) - mix(text);
    match kind {
        CmmLoss::L1 => d.abs().mean(),
        CmmLoss::L2 => d.powf_scalar(2.0).mean(),
    }
}

/// The class table of `learned_table` runs: its rows start at the fixed table's and train with the model
/// (a module the embedding loop owns and checkpoints).
#[derive(Module, Debug)]
pub struct ClassTable {
    rows: Param<Tensor<2>>,
}

impl ClassTable {
    /// The run's fixed table as a trainable start.
    pub fn new(classes: usize, dim: usize, seed: u64, dev: &Device) -> Self {
        let t = TensorData::new(class_table(classes, dim, seed), [classes, dim]);
        ClassTable {
            rows: Param::from_tensor(Tensor::from_data(t, dev)),
        }
    }

    /// The rows scaled to unit length (the class embeddings the losses see).
    pub fn unit_rows(&self) -> Tensor<2> {
        l2_normalise(self.rows.val())
    }
}

/// One step's loss on the unit embeddings `emb` of a batch of training classes `labels` (all below
/// `classes`): the cosine classifier's cross-entropy over the class table (`learned`, or the run's fixed
/// one), plus the proxy term with its weight. λ and the pairing are drawn from `rng` whatever the weight,
/// so that the baseline (weight 0) consumes the same stream.
#[allow(clippy::too_many_arguments)]
pub(crate) fn loss(
    m: &ProxydetConfig,
    emb: Tensor<2>,
    labels: &[usize],
    classes: usize,
    seed: u64,
    learned: Option<Tensor<2>>,
    rng: &mut impl Rng,
) -> Result<Tensor<1>> {
    let dev = emb.device();
    let table = learned.unwrap_or_else(|| {
        Tensor::<2>::from_data(
            TensorData::new(class_table(classes, m.dim, seed), [classes, m.dim]),
            &dev,
        )
    });
    let mut target = vec![0f32; labels.len() * classes];
    for (i, &y) in labels.iter().enumerate() {
        target[i * classes + y] = 1.0;
    }
    let target = Tensor::<2>::from_data(TensorData::new(target, [labels.len(), classes]), &dev);
    let logits = emb
        .clone()
        .matmul(table.clone().transpose())
        .mul_scalar(m.scale);
    let ce = soft_cross_entropy(logits, target);
    let pairs = m.pairs(present_classes(labels).len(), rng)?;
    let w = m.effective_weight();
    Ok(match w > 0.0 {
        true => ce + cmm_loss(emb, labels, table, &pairs, m.cmm_loss).mul_scalar(w),
        false => ce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn t(v: Vec<f32>, rows: usize, dev: &Device) -> Tensor<2> {
        let cols = v.len() / rows;
        Tensor::from_data(TensorData::new(v, [rows, cols]), dev)
    }

    fn f32s(v: &Value) -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    }

    fn scalar(x: Tensor<1>) -> f64 {
        f64::from(x.into_data().try_to_vec::<f32>().unwrap()[0])
    }

    fn pairs(lam: f32, partner: &[usize]) -> ProxyPairs {
        ProxyPairs {
            lam,
            partner: partner.to_vec(),
        }
    }

    #[test]
    fn the_proxy_term_matches_the_reference_code() {
        // tools/golden/proxydet.py: the reference's `mixup` with λ and the permutation fixed.
        let g: Value =
            serde_json::from_str(include_str!("../tests/fixtures/proxydet.json")).unwrap();
        let dev = Device::default();
        let (n, dim) = (
            g["n"].as_u64().unwrap() as usize,
            g["dim"].as_u64().unwrap(),
        );
        let background = g["background"].as_u64().unwrap() as usize;
        let labels: Vec<usize> = g["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        // The reference drops its background rows; mixlab's batches have none.
        let keep: Vec<usize> = (0..n).filter(|&i| labels[i] != background).collect();
        let kept: Vec<usize> = keep.iter().map(|&i| labels[i]).collect();
        let cases = g["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for c in cases {
            let emb = t(f32s(&c["emb"]), n, &dev).select(0, index(&keep, &dev));
            let text = t(
                f32s(&c["text"]),
                g["classes"].as_u64().unwrap() as usize,
                &dev,
            );
            assert_eq!(text.dims()[1] as u64, dim);
            let partner: Vec<usize> = c["partner"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let kind = match c["loss"].as_str().unwrap() {
                "l1" => CmmLoss::L1,
                _ => CmmLoss::L2,
            };
            let p = pairs(c["lam"].as_f64().unwrap() as f32, &partner);
            let got = scalar(cmm_loss(emb, &kept, text, &p, kind));
            let want = c["value"].as_f64().unwrap();
            assert!((got - want).abs() < 1e-5 * (1.0 + want), "{got} vs {want}");
            // Prototypes that are their class embeddings leave nothing to align (the reference: `zero`).
            let on_table = l2_normalise(t(f32s(&c["text"]), 5, &dev)).select(0, index(&kept, &dev));
            let text = t(f32s(&c["text"]), 5, &dev);
            assert!(scalar(cmm_loss(on_table, &kept, text, &p, kind)) < 1e-6);
        }
        assert!(g["zero"].as_f64().unwrap() < 1e-6);
    }

    #[test]
    fn at_lambda_one_the_term_is_the_unmixed_prototype_distance() {
        let dev = Device::default();
        let emb = l2_normalise(t(
            vec![1.0, 0.2, 0.1, 0.9, -0.3, 0.4, 0.2, 1.0, 0.5, -0.7, 0.1, 0.3],
            4,
            &dev,
        ));
        let labels = [1, 0, 1, 0];
        let table = l2_normalise(t(vec![0.3, 1.0, 0.2, 1.0, -0.1, 0.4], 2, &dev));
        let mixed = scalar(cmm_loss(
            emb.clone(),
            &labels,
            table.clone(),
            &pairs(1.0, &[1, 0]),
            CmmLoss::L1,
        ));
        // By hand: the prototypes, then L1 to the class rows.
        let e = emb.into_data().try_to_vec::<f32>().unwrap();
        let tb = table.into_data().try_to_vec::<f32>().unwrap();
        let mut want = 0.0f64;
        for (c, rows) in [(0usize, [1usize, 3]), (1, [0, 2])] {
            let m: Vec<f64> = (0..3)
                .map(|d| (e[rows[0] * 3 + d] + e[rows[1] * 3 + d]) as f64 / 2.0)
                .collect();
            let norm = m.iter().map(|v| v * v).sum::<f64>().sqrt();
            want += (0..3)
                .map(|d| (m[d] / norm - tb[c * 3 + d] as f64).abs())
                .sum::<f64>();
        }
        want /= 6.0;
        assert!((mixed - want).abs() < 1e-6, "{mixed} vs {want}");
    }

    #[test]
    fn the_baseline_is_the_cosine_classifier_alone_and_the_term_adds_to_it() {
        let dev = Device::default();
        let emb = l2_normalise(t(
            vec![1.0, 0.2, 0.1, 0.9, -0.3, 0.4, 0.2, 1.0, 0.5, -0.7, 0.1, 0.3],
            4,
            &dev,
        ));
        let labels = [1, 0, 1, 0];
        let rng = || mixlab_core::rng::stream(2, mixlab_core::rng::Purpose::Mix, 0, 0);
        let base = ProxydetConfig {
            dim: 3,
            cmm_weight: Some(0.0),
            ..Default::default()
        };
        let with = ProxydetConfig {
            cmm_weight: Some(2.0),
            ..base.clone()
        };
        let l0 = scalar(loss(&base, emb.clone(), &labels, 2, 9, None, &mut rng()).unwrap());
        let l1 = scalar(loss(&with, emb.clone(), &labels, 2, 9, None, &mut rng()).unwrap());
        // The learned table starts where the fixed one is.
        let start = ClassTable::new(2, 3, 9, &dev).unit_rows();
        let l2 = scalar(loss(&with, emb.clone(), &labels, 2, 9, Some(start), &mut rng()).unwrap());
        assert!((l2 - l1).abs() < 1e-6, "{l2} {l1}");
        let table = Tensor::<2>::from_data(TensorData::new(class_table(2, 3, 9), [2, 3]), &dev);
        let p = with.pairs(2, &mut rng()).unwrap();
        let term = scalar(cmm_loss(emb, &labels, table, &p, CmmLoss::L1));
        assert!(term > 0.0);
        assert!((l1 - l0 - 2.0 * term).abs() < 1e-5, "{l1} {l0} {term}");
    }

    #[test]
    fn a_run_differs_from_its_baseline_and_from_a_learned_table() {
        use crate::test_support::finished;
        use crate::trainer::{NoProgress, train};
        use mixlab_core::methods::MethodConfig;
        use mixlab_core::mixer::MixerConfig;
        let data = crate::supervised::tests::toy_splits();
        let run = |w: Option<f64>, learned_table: bool| {
            let cfg = crate::supervised::tests::small_cfg()
                .with_mixer(MixerConfig::single(MethodConfig::Proxydet(
                    ProxydetConfig {
                        dim: 8,
                        cmm_weight: w,
                        learned_table,
                        ..Default::default()
                    },
                )))
                .with_augment(crate::config::Augment::None)
                .with_epochs(2);
            finished(train(&cfg, &data, &Default::default(), &mut NoProgress).unwrap())
        };
        let (base, with) = (run(Some(0.0), false), run(None, false));
        // Same batches and draws either way; the proxy term (≥ 0, weighted 256·√(8/512) = 32) adds to the loss.
        assert!(base.curve[0].train_loss < with.curve[0].train_loss);
        assert_ne!(base.final_metrics, with.final_metrics);
        // Learning the table changes the run.
        assert_ne!(run(None, true).final_metrics, with.final_metrics);
    }
}
