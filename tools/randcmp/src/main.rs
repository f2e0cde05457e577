//! Does every rand primitive mixlab uses give the same values under rand 0.9 + rand_chacha 0.9 + rand_distr 0.5
//! and rand 0.10 (ChaCha8Rng from chacha20) + rand_distr 0.6?
use r9::{Rng as _, SeedableRng as _, RngCore as _};
use r10::{RngExt as _, SeedableRng as _, Rng as _};

fn main() {
    let mut checked = 0u64;
    for seed in 0..2000u64 {
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() { *b = (seed.wrapping_mul(0x9E3779B97F4A7C15) >> (i % 8 * 8)) as u8 ^ i as u8; }
        let mut a = c9::ChaCha8Rng::from_seed(key);
        let mut b = r10::rngs::ChaCha8Rng::from_seed(key);
        let mut a2 = c9::ChaCha8Rng::seed_from_u64(seed);
        let mut b2 = r10::rngs::ChaCha8Rng::seed_from_u64(seed);
        assert_eq!(a2.next_u64(), b2.next_u64());
        for step in 0..200u64 {
            let op = (seed + step) % 14;
            let n = 1 + ((seed * 31 + step * 7) % 300) as usize;
            let alpha = 0.05 + ((seed * 13 + step) % 40) as f64 * 0.1;
            match op {
                0 => assert_eq!(a.random::<f64>().to_bits(), b.random::<f64>().to_bits()),
                1 => assert_eq!(a.random::<f32>().to_bits(), b.random::<f32>().to_bits()),
                2 => assert_eq!(a.random::<u64>(), b.random::<u64>()),
                3 => assert_eq!(a.random::<bool>(), b.random::<bool>()),
                4 => assert_eq!(a.random_range(0..n), b.random_range(0..n)),
                5 => assert_eq!(a.random_range(0.0..alpha).to_bits(), b.random_range(0.0..alpha).to_bits()),
                6 => assert_eq!(a.random_range(0.0f32..alpha as f32).to_bits(), b.random_range(0.0f32..alpha as f32).to_bits()),
                7 => assert_eq!(a.random_range(0..=n), b.random_range(0..=n)),
                8 => {
                    let mut x: Vec<usize> = (0..n).collect();
                    let mut y = x.clone();
                    r9::seq::SliceRandom::shuffle(&mut x[..], &mut a);
                    r10::seq::SliceRandom::shuffle(&mut y[..], &mut b);
                    assert_eq!(x, y);
                }
                9 => {
                    let da = d5::Beta::new(alpha, alpha * 0.7 + 0.01).unwrap();
                    let db = d6::Beta::new(alpha, alpha * 0.7 + 0.01).unwrap();
                    assert_eq!(d5::Distribution::sample(&da, &mut a).to_bits(), d6::Distribution::sample(&db, &mut b).to_bits());
                }
                10 => {
                    let x: f64 = a.sample(d5::StandardNormal);
                    let y: f64 = b.sample(d6::StandardNormal);
                    assert_eq!(x.to_bits(), y.to_bits());
                    let x: f32 = a.sample(d5::StandardNormal);
                    let y: f32 = b.sample(d6::StandardNormal);
                    assert_eq!(x.to_bits(), y.to_bits());
                }
                11 => {
                    let k = 1 + n / 3;
                    let x = r9::seq::index::sample(&mut a, n, k).into_vec();
                    let y = r10::seq::index::sample(&mut b, n, k).into_vec();
                    assert_eq!(x, y);
                }
                12 => {
                    let v: Vec<usize> = (0..n).collect();
                    assert_eq!(r9::seq::IndexedRandom::choose(&v[..], &mut a), r10::seq::IndexedRandom::choose(&v[..], &mut b));
                    assert_eq!(a.random_bool(alpha / 4.5), b.random_bool(alpha / 4.5));
                    assert_eq!(a.random::<u8>(), b.random::<u8>());
                }
                _ => {
                    let mut x = vec![0u8; n];
                    let mut y = vec![0u8; n];
                    r9::Rng::fill(&mut a, &mut x[..]);
                    r10::RngExt::fill(&mut b, &mut y[..]);
                    assert_eq!(x, y);
                    assert_eq!(a.next_u64(), b.next_u64());
                    assert_eq!(a.random_range(-3i64..(n as i64)), b.random_range(-3i64..(n as i64)));
                }
            }
            checked += 1;
        }
    }
    println!("identical: {checked} draws over 2000 seeds");
}
