//! Criterion benches of host mixing at 128×3×32×32 (CIFAR-sized batch): per method, sampling a plan
//! and applying it to an f32 batch and a u8 batch, next to the plain streaming blend over the same bytes.
//!
//! `cargo bench -p mixlab-core --bench mixing`. Methods that cannot sample yet (their sampler returns an
//! error) are left out with a note on stderr. The figures are for tracking changes to `apply.rs`;
//! `bench/host_mixing.py` compares against the Python peers.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mixlab_core::apply::{apply, plain_blend};
use mixlab_core::methods::Method;
use mixlab_core::mixer::{BatchInfo, Granularity, MixerConfig, Pairing};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use std::hint::black_box;

const BATCH: usize = 128;

fn mixers() -> Vec<(String, MixerConfig)> {
    let mut v = vec![];
    for m in Method::ALL.into_iter().filter(|&m| m != Method::None) {
        let one = || MixerConfig::single(m.default_config());
        if matches!(m, Method::Mixup | Method::Cutmix) {
            v.push((format!("{m}-batch"), one().with_pairing(Pairing::Flip)));
            v.push((
                format!("{m}-elem"),
                one()
                    .with_pairing(Pairing::Flip)
                    .with_granularity(Granularity::Elem),
            ));
        } else {
            v.push((m.name().to_string(), one()));
        }
    }
    v
}

fn mixing(c: &mut Criterion) {
    let Ok(shape) = SampleShape::d2(3, 32, 32) else {
        return;
    };
    let n = BATCH * shape.sample_len();
    let u8_data: Vec<u8> = (0..n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    let f32_data: Vec<f32> = u8_data.iter().map(|&v| f32::from(v) / 255.0).collect();
    let info = BatchInfo {
        batch: BATCH,
        shape,
        epoch: 0,
        data: Some(&f32_data),
    };
    let mut out_f = vec![0f32; n];
    let mut out_u = vec![0u8; n];
    let mut g = c.benchmark_group("host-mix-128x3x32x32");
    g.throughput(Throughput::Elements(n as u64));
    let other: Vec<f32> = f32_data.iter().rev().copied().collect();
    g.bench_function("plain-blend-f32", |bch| {
        bch.iter(|| plain_blend(black_box(&f32_data), black_box(&other), 0.3, &mut out_f))
    });
    for (name, mixer) in mixers() {
        let mut step = 0u64;
        if let Err(e) = mixer.sample(&info, &mut stream(1, Purpose::Mix, 0, 0)) {
            eprintln!("skipping {name}: {e}");
            continue;
        }
        g.bench_function(BenchmarkId::new("sample+apply-f32", &name), |bch| {
            bch.iter(|| {
                step += 1;
                let plan = mixer.sample(&info, &mut stream(1, Purpose::Mix, 0, step));
                black_box(plan.and_then(|p| apply(&p, black_box(&f32_data), &mut out_f)))
            })
        });
        g.bench_function(BenchmarkId::new("sample+apply-u8", &name), |bch| {
            bch.iter(|| {
                step += 1;
                let plan = mixer.sample(&info, &mut stream(1, Purpose::Mix, 0, step));
                black_box(plan.and_then(|p| apply(&p, black_box(&u8_data), &mut out_u)))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, mixing);
criterion_main!(benches);
