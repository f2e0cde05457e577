//! Online class-incremental learning, the setting of DualMix (Fan et al., arXiv 2303.07864): the training
//! classes arrive as a stream of tasks, each seen once, and a small replay buffer is all that is kept of
//! the past (experience replay, ER). This file holds the framework-free pieces: the task split, the
//! reservoir buffer, AdpMix's label ratio, and the two numbers the field reports (average accuracy after
//! the last task, and forgetting).

use crate::error::{Error, Result};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// The classes of each task: `classes / tasks` consecutive class indices per task, in label order (the
/// split-MNIST / split-CIFAR convention: task 0 holds classes 0 and 1 for 5 tasks of 10 classes).
pub fn class_split(classes: usize, tasks: usize) -> Result<Vec<Vec<usize>>> {
    if tasks < 2 || classes < tasks || !classes.is_multiple_of(tasks) {
        return Err(Error::param(
            "tasks",
            "at least 2 and a divisor of the number of classes",
            format!("{tasks} for {classes} classes"),
        ));
    }
    let k = classes / tasks;
    Ok((0..tasks).map(|t| (t * k..(t + 1) * k).collect()).collect())
}

/// A reservoir-sampled replay buffer of training-row indices (Vitter's algorithm R, as ER keeps it): after
/// `seen` offers every offered row is in the buffer with probability `capacity / seen`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservoir {
    /// Most rows kept.
    pub capacity: usize,
    /// Rows offered so far.
    pub seen: u64,
    /// The rows kept.
    pub rows: Vec<usize>,
}

impl Reservoir {
    /// An empty buffer of `capacity` rows (≥ 1).
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::param("buffer", "at least 1 sample", capacity));
        }
        Ok(Self {
            capacity,
            seen: 0,
            rows: Vec::with_capacity(capacity),
        })
    }

    /// Offers one row: kept while the buffer fills, then with probability capacity / seen in place of a
    /// uniformly chosen row.
    pub fn offer<R: Rng + ?Sized>(&mut self, row: usize, rng: &mut R) {
        self.seen += 1;
        if self.rows.len() < self.capacity {
            self.rows.push(row);
        } else {
            let j = rng.random_range(0..self.seen);
            if let Ok(j) = usize::try_from(j)
                && j < self.capacity
            {
                self.rows[j] = row;
            }
        }
    }

    /// `n` rows drawn uniformly without replacement (all of them when the buffer holds fewer).
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<usize> {
        let k = n.min(self.rows.len());
        rand::seq::index::sample(rng, self.rows.len(), k)
            .into_iter()
            .map(|i| self.rows[i])
            .collect()
    }
}

/// AdpMix's label share of the old-class sample in a mix `λ·x_old + (1 − λ)·x_new`, our reading of the
/// paper's "dynamically adjusting the label mixing ratio" against class imbalance: each side's λ is
/// re-weighted by the inverse of how many samples of its class the model currently trains on (`n_old` in
/// the buffer, `n_new` seen of the new class in this task), so the rarer old class gets the larger share:
/// `λ·n_new / (λ·n_new + (1 − λ)·n_old)`. Equal counts give λ itself.
pub fn adpmix_label_share(lam: f64, n_old: usize, n_new: usize) -> f64 {
    let (a, b) = (lam * n_new.max(1) as f64, (1.0 - lam) * n_old.max(1) as f64);
    if a + b > 0.0 { a / (a + b) } else { lam }
}

/// Average accuracy after the last task and average forgetting, from the accuracy matrix `acc[t][j]`
/// (accuracy on task j's test samples after training on task t, for j ≤ t): forgetting of task j is the
/// best accuracy it had before the last task minus its final one, averaged over all but the last task
/// (Chaudhry et al. 2018).
pub fn summary(acc: &[Vec<f64>]) -> Result<(f64, f64)> {
    let tasks = acc.len();
    if tasks == 0 || acc.iter().enumerate().any(|(t, row)| row.len() != t + 1) {
        return Err(Error::Incompatible(
            "the accuracy matrix must hold row t with tasks 0..=t for every task t".into(),
        ));
    }
    let last = &acc[tasks - 1];
    let average = last.iter().sum::<f64>() / tasks as f64;
    if tasks == 1 {
        return Ok((average, 0.0));
    }
    let forgetting = (0..tasks - 1)
        .map(|j| {
            let best = (j..tasks - 1).map(|t| acc[t][j]).fold(f64::MIN, f64::max);
            best - last[j]
        })
        .sum::<f64>()
        / (tasks - 1) as f64;
    Ok((average, forgetting))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn the_split_gives_consecutive_classes_per_task() {
        assert_eq!(
            class_split(10, 5).unwrap(),
            vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7], vec![8, 9]]
        );
        assert!(class_split(10, 3).is_err() && class_split(10, 1).is_err());
    }

    #[test]
    fn the_reservoir_keeps_every_row_with_equal_probability() {
        // 1 000 rows through a 100-row buffer, 2 000 times: each row is kept about 10 % of the time.
        let mut kept = vec![0u32; 1000];
        for rep in 0..2000 {
            let mut r = Reservoir::new(100).unwrap();
            let mut rng = stream(rep, Purpose::Mix, 0, 0);
            for row in 0..1000 {
                r.offer(row, &mut rng);
            }
            assert_eq!((r.rows.len(), r.seen), (100, 1000));
            r.rows.iter().for_each(|&i| kept[i] += 1);
        }
        // Binomial(2000, 0.1): mean 200, sd 13.4; the first and last hundred rows alike.
        let (first, last) = (
            kept[..100].iter().sum::<u32>() as f64 / 100.0,
            kept[900..].iter().sum::<u32>() as f64 / 100.0,
        );
        assert!(
            (first - 200.0).abs() < 8.0 && (last - 200.0).abs() < 8.0,
            "{first} {last}"
        );
        assert!(kept.iter().all(|&k| (140..270).contains(&k)));
        let r = Reservoir::new(5).unwrap();
        assert!(r.sample(3, &mut stream(0, Purpose::Mix, 0, 0)).is_empty());
        assert!(Reservoir::new(0).is_err());
    }

    #[test]
    fn adpmix_gives_the_rarer_class_the_larger_share() {
        assert!((adpmix_label_share(0.3, 50, 50) - 0.3).abs() < 1e-12);
        // 20 old samples in the buffer against 180 new ones: λ = 0.5 gives the old class 0.9.
        assert!((adpmix_label_share(0.5, 20, 180) - 0.9).abs() < 1e-12);
        assert_eq!(adpmix_label_share(0.0, 20, 180), 0.0);
        assert_eq!(adpmix_label_share(1.0, 20, 180), 1.0);
    }

    #[test]
    fn average_accuracy_and_forgetting() {
        // Two tasks: task 0 at 0.9 after task 0, 0.6 after task 1; task 1 at 0.8.
        let (a, f) = summary(&[vec![0.9], vec![0.6, 0.8]]).unwrap();
        assert!((a - 0.7).abs() < 1e-12 && (f - 0.3).abs() < 1e-12);
        // Three tasks: forgetting takes the best earlier accuracy of each task.
        let (a, f) = summary(&[vec![0.5], vec![0.9, 0.8], vec![0.4, 0.7, 0.9]]).unwrap();
        assert!((a - 2.0 / 3.0).abs() < 1e-12);
        assert!((f - (0.5 + 0.1) / 2.0).abs() < 1e-12);
        assert!(summary(&[vec![0.5, 0.5]]).is_err());
    }
}
