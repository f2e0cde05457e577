//! Multi-label energy minimisation on a 4-connected grid by alpha-beta swap moves (Boykov, Veksler, Zabih),
//! the `gco.cut_grid_graph(..., algorithm='swap')` call PuzzleMix makes.
//!
//! The energy of a labelling `l` is `Σ_p U[p][l_p] + Σ_(p,q) w_pq · V[l_p][l_q]` over vertical and horizontal
//! neighbours. Each move takes the nodes labelled α or β and relabels them optimally among {α, β} with one
//! minimum cut; a sweep tries every pair in `gco`'s order (α ascending, β descending, α < β), and sweeps
//! repeat until one no longer lowers the energy. Energies are integers, as `gco` requires, so every cut is
//! exact; when a move has several optimal outcomes the one with the fewest nodes on β is taken, as `gco`'s
//! Boykov–Kolmogorov solver does. The result is a local optimum of the swap neighbourhood, not in general
//! the global one (V need only be a semi-metric, which rules out alpha-expansion).

use super::maxflow::Graph;
use crate::error::{Error, Result};

/// A grid labelling problem; all costs are integers ≥ 0 except the unaries, which may have any sign.
#[derive(Clone, Copy, Debug)]
pub struct GridEnergy<'a> {
    /// Grid height in nodes.
    pub rows: usize,
    /// Grid width in nodes.
    pub cols: usize,
    /// Number of labels (at least 2).
    pub labels: usize,
    /// `rows·cols·labels` values, node-major (row-major nodes): the cost of giving node p label l.
    pub unary: &'a [i64],
    /// `labels·labels` values, symmetric with a zero diagonal: the label-pair cost V.
    pub smooth: &'a [i64],
    /// `(rows − 1)·cols` weights: between (i, j) and (i + 1, j).
    pub vertical: &'a [i64],
    /// `rows·(cols − 1)` weights: between (i, j) and (i, j + 1).
    pub horizontal: &'a [i64],
}

impl GridEnergy<'_> {
    fn check(&self) -> Result<()> {
        let n = self.rows * self.cols;
        if n == 0 || self.labels < 2 {
            return Err(Error::param(
                "grid labelling",
                "at least one node and two labels",
                format!("{}×{} nodes, {} labels", self.rows, self.cols, self.labels),
            ));
        }
        for (what, expected, got) in [
            ("unary costs", n * self.labels, self.unary.len()),
            (
                "label-pair costs",
                self.labels * self.labels,
                self.smooth.len(),
            ),
            (
                "vertical edge weights",
                (self.rows - 1) * self.cols,
                self.vertical.len(),
            ),
            (
                "horizontal edge weights",
                self.rows * (self.cols - 1),
                self.horizontal.len(),
            ),
        ] {
            if expected != got {
                return Err(Error::SizeMismatch {
                    what,
                    expected,
                    got,
                });
            }
        }
        let l = self.labels;
        for a in 0..l {
            for b in 0..l {
                let v = self.smooth[a * l + b];
                if v < 0 || v != self.smooth[b * l + a] || (a == b && v != 0) {
                    return Err(Error::param(
                        "label-pair costs",
                        "symmetric, >= 0, with a zero diagonal",
                        format!("V[{a}][{b}] = {v}"),
                    ));
                }
            }
        }
        if let Some(w) = self
            .vertical
            .iter()
            .chain(self.horizontal)
            .find(|&&w| w < 0)
        {
            return Err(Error::param("edge weights", ">= 0", w));
        }
        Ok(())
    }

    /// The neighbours of node p with their edge weights.
    fn neighbours(&self, p: usize) -> impl Iterator<Item = (usize, i64)> + '_ {
        let (i, j, c) = (p / self.cols, p % self.cols, self.cols);
        let up = (i > 0).then(|| (p - c, self.vertical[(i - 1) * c + j]));
        let down = (i + 1 < self.rows).then(|| (p + c, self.vertical[i * c + j]));
        let left = (j > 0).then(|| (p - 1, self.horizontal[i * (c - 1) + j - 1]));
        let right = (j + 1 < c).then(|| (p + 1, self.horizontal[i * (c - 1) + j]));
        [up, down, left, right].into_iter().flatten()
    }

    /// The energy of a labelling.
    pub fn energy(&self, labels: &[usize]) -> i64 {
        let l = self.labels;
        let mut e: i64 = labels
            .iter()
            .enumerate()
            .map(|(p, &lp)| self.unary[p * l + lp])
            .sum();
        for p in 0..labels.len() {
            for (q, w) in self.neighbours(p) {
                if q > p {
                    e += w * self.smooth[labels[p] * l + labels[q]];
                }
            }
        }
        e
    }

    /// The best relabelling of the nodes labelled `a` or `b` among {a, b}, in place.
    fn swap_move(&self, labels: &mut [usize], a: usize, b: usize) {
        let l = self.labels;
        let active: Vec<usize> = (0..labels.len())
            .filter(|&p| labels[p] == a || labels[p] == b)
            .collect();
        if active.is_empty() {
            return;
        }
        let mut var = vec![usize::MAX; labels.len()];
        for (k, &p) in active.iter().enumerate() {
            var[p] = k;
        }
        let (s, t) = (active.len(), active.len() + 1);
        let mut g = Graph::new(active.len() + 2, s, t);
        let v_ab = self.smooth[a * l + b];
        for (k, &p) in active.iter().enumerate() {
            // Cost of keeping the source side (label a) and of the sink side (label b).
            let (mut on_a, mut on_b) = (self.unary[p * l + a], self.unary[p * l + b]);
            for (q, w) in self.neighbours(p) {
                if var[q] == usize::MAX {
                    on_a += w * self.smooth[a * l + labels[q]];
                    on_b += w * self.smooth[b * l + labels[q]];
                } else if q > p {
                    let c = w * v_ab;
                    g.add_edge(k, var[q], c, c);
                }
            }
            let m = on_a.min(on_b);
            g.add_edge(s, k, on_b - m, 0);
            g.add_edge(k, t, on_a - m, 0);
        }
        g.max_flow();
        let sink = g.sink_side();
        for (k, &p) in active.iter().enumerate() {
            labels[p] = if sink[k] { b } else { a };
        }
    }
}

/// Alpha-beta swap from the all-zero labelling until a sweep no longer lowers the energy; returns one
/// label per node (row-major).
pub fn alpha_beta_swap(e: &GridEnergy<'_>) -> Result<Vec<usize>> {
    e.check()?;
    let mut labels = vec![0usize; e.rows * e.cols];
    let mut energy = e.energy(&labels);
    loop {
        for a in 0..e.labels {
            for b in (0..e.labels).rev() {
                if a < b {
                    e.swap_move(&mut labels, a, b);
                }
            }
        }
        let next = e.energy(&labels);
        if next >= energy {
            return Ok(labels);
        }
        energy = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt, SeedableRng};

    struct Owned {
        rows: usize,
        cols: usize,
        labels: usize,
        unary: Vec<i64>,
        smooth: Vec<i64>,
        vertical: Vec<i64>,
        horizontal: Vec<i64>,
    }

    impl Owned {
        fn energy(&self) -> GridEnergy<'_> {
            GridEnergy {
                rows: self.rows,
                cols: self.cols,
                labels: self.labels,
                unary: &self.unary,
                smooth: &self.smooth,
                vertical: &self.vertical,
                horizontal: &self.horizontal,
            }
        }
    }

    fn random(rng: &mut impl Rng, rows: usize, cols: usize, labels: usize) -> Owned {
        Owned {
            rows,
            cols,
            labels,
            unary: (0..rows * cols * labels)
                .map(|_| rng.random_range(-20..40))
                .collect(),
            // PuzzleMix's table (l − l')², a semi-metric.
            smooth: (0..labels * labels)
                .map(|k| ((k / labels) as i64 - (k % labels) as i64).pow(2))
                .collect(),
            vertical: (0..(rows - 1) * cols)
                .map(|_| rng.random_range(0..12))
                .collect(),
            horizontal: (0..rows * (cols - 1))
                .map(|_| rng.random_range(0..12))
                .collect(),
        }
    }

    /// The best energy over every labelling that changes only nodes labelled a or b (among {a, b}).
    fn best_swap(e: &GridEnergy<'_>, labels: &[usize], a: usize, b: usize) -> i64 {
        let active: Vec<usize> = (0..labels.len())
            .filter(|&p| labels[p] == a || labels[p] == b)
            .collect();
        let mut best = i64::MAX;
        let mut trial = labels.to_vec();
        for bits in 0..(1u32 << active.len()) {
            for (k, &p) in active.iter().enumerate() {
                trial[p] = if bits >> k & 1 == 1 { b } else { a };
            }
            best = best.min(e.energy(&trial));
        }
        best
    }

    #[test]
    fn the_result_is_a_swap_local_optimum_and_never_worse_than_the_start() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..60 {
            let (rows, cols) = (rng.random_range(1..4), rng.random_range(2..4));
            let o = random(&mut rng, rows, cols, 3);
            let e = o.energy();
            let labels = alpha_beta_swap(&e).unwrap();
            let got = e.energy(&labels);
            assert!(got <= e.energy(&vec![0; rows * cols]));
            for a in 0..3 {
                for b in a + 1..3 {
                    assert_eq!(
                        best_swap(&e, &labels, a, b),
                        got,
                        "({a},{b}) improves {labels:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn two_labels_reach_the_global_optimum() {
        // With two labels one swap move is the whole problem, so the cut is the global minimum.
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..40 {
            let o = random(&mut rng, 3, 3, 2);
            let e = o.energy();
            let labels = alpha_beta_swap(&e).unwrap();
            let best = (0..1u32 << 9)
                .map(|bits| {
                    let l: Vec<usize> = (0..9).map(|p| (bits >> p & 1) as usize).collect();
                    e.energy(&l)
                })
                .min()
                .unwrap();
            assert_eq!(e.energy(&labels), best);
        }
    }

    #[test]
    fn inconsistent_problems_are_refused() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(1);
        let mut o = random(&mut rng, 2, 2, 3);
        o.unary.pop();
        assert!(
            alpha_beta_swap(&o.energy())
                .unwrap_err()
                .to_string()
                .contains("unary")
        );
        let mut o = random(&mut rng, 2, 2, 3);
        o.smooth[1] = 5;
        let msg = alpha_beta_swap(&o.energy()).unwrap_err().to_string();
        assert!(msg.contains("symmetric"), "{msg}");
        let mut o = random(&mut rng, 2, 2, 3);
        o.vertical[0] = -1;
        assert!(
            alpha_beta_swap(&o.energy())
                .unwrap_err()
                .to_string()
                .contains(">= 0")
        );
    }
}
