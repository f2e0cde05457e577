//! Maximum flow / minimum s–t cut on a small directed graph with integer capacities (Dinic's algorithm).
//!
//! Integer capacities keep the cut exact, so which side a node ends on is a property of the problem, not
//! of floating-point rounding: [`Graph::sink_side`] returns the *smallest* sink side among all minimum
//! cuts (the nodes that can still reach the sink in the residual graph). That is the side the
//! Boykov–Kolmogorov solver inside `gco` reports too, because it leaves every node it cannot attach to the
//! sink tree on the source side.

use std::collections::VecDeque;

#[derive(Clone, Debug)]
struct Edge {
    to: usize,
    cap: i64,
}

/// A flow network over nodes `0..n`; `source` and `sink` are two of them.
#[derive(Clone, Debug)]
pub struct Graph {
    edges: Vec<Edge>,
    adj: Vec<Vec<usize>>,
    source: usize,
    sink: usize,
}

impl Graph {
    /// A graph of `n` nodes without edges. Panics (a programming error) when `source` or `sink` is not
    /// below `n` or they coincide.
    pub fn new(n: usize, source: usize, sink: usize) -> Self {
        assert!(source < n && sink < n && source != sink, "bad terminals");
        Self {
            edges: Vec::new(),
            adj: vec![Vec::new(); n],
            source,
            sink,
        }
    }

    /// Adds the arcs `u → v` with capacity `cap` and `v → u` with capacity `rev` (both ≥ 0).
    pub fn add_edge(&mut self, u: usize, v: usize, cap: i64, rev: i64) {
        debug_assert!(cap >= 0 && rev >= 0);
        self.adj[u].push(self.edges.len());
        self.edges.push(Edge { to: v, cap });
        self.adj[v].push(self.edges.len());
        self.edges.push(Edge { to: u, cap: rev });
    }

    /// Pushes a maximum flow (residual capacities are updated in place) and returns its value.
    pub fn max_flow(&mut self) -> i64 {
        let n = self.adj.len();
        let mut total = 0;
        let mut level = vec![usize::MAX; n];
        let mut next = vec![0usize; n];
        loop {
            level.fill(usize::MAX);
            level[self.source] = 0;
            let mut queue = VecDeque::from([self.source]);
            while let Some(u) = queue.pop_front() {
                for &e in &self.adj[u] {
                    let Edge { to, cap } = self.edges[e];
                    if cap > 0 && level[to] == usize::MAX {
                        level[to] = level[u] + 1;
                        queue.push_back(to);
                    }
                }
            }
            if level[self.sink] == usize::MAX {
                return total;
            }
            next.fill(0);
            loop {
                let pushed = self.augment(self.source, i64::MAX, &level, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    /// One blocking-flow path search from `u` (iterative depth is bounded by the level graph's height,
    /// which is at most the node count; recursion is fine for the few hundred nodes this serves).
    fn augment(&mut self, u: usize, limit: i64, level: &[usize], next: &mut [usize]) -> i64 {
        if u == self.sink {
            return limit;
        }
        while next[u] < self.adj[u].len() {
            let e = self.adj[u][next[u]];
            let Edge { to, cap } = self.edges[e];
            if cap > 0 && level[to] == level[u] + 1 {
                let pushed = self.augment(to, limit.min(cap), level, next);
                if pushed > 0 {
                    self.edges[e].cap -= pushed;
                    self.edges[e ^ 1].cap += pushed;
                    return pushed;
                }
            }
            next[u] += 1;
        }
        0
    }

    /// After [`Graph::max_flow`]: for every node, whether it can reach the sink through arcs with residual
    /// capacity (the smallest sink side of a minimum cut).
    pub fn sink_side(&self) -> Vec<bool> {
        let n = self.adj.len();
        let mut reach = vec![false; n];
        reach[self.sink] = true;
        let mut queue = VecDeque::from([self.sink]);
        while let Some(v) = queue.pop_front() {
            // An arc u → v with residual capacity is the partner (e ^ 1) of an arc v → u in v's list.
            for &e in &self.adj[v] {
                let u = self.edges[e].to;
                if !reach[u] && self.edges[e ^ 1].cap > 0 {
                    reach[u] = true;
                    queue.push_back(u);
                }
            }
        }
        reach
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every s–t cut of a small graph by brute force: (value, smallest sink side among the minima).
    fn brute(n: usize, arcs: &[(usize, usize, i64)], s: usize, t: usize) -> (i64, Vec<bool>) {
        let mut best: Option<(i64, usize, Vec<bool>)> = None;
        for bits in 0..(1u32 << n) {
            let sink: Vec<bool> = (0..n).map(|i| bits >> i & 1 == 1).collect();
            if sink[s] || !sink[t] {
                continue;
            }
            let cut: i64 = arcs
                .iter()
                .filter(|&&(u, v, _)| !sink[u] && sink[v])
                .map(|a| a.2)
                .sum();
            let size = sink.iter().filter(|&&b| b).count();
            if best
                .as_ref()
                .is_none_or(|(c, sz, _)| cut < *c || (cut == *c && size < *sz))
            {
                best = Some((cut, size, sink));
            }
        }
        let (c, _, side) = best.unwrap();
        (c, side)
    }

    #[test]
    fn the_flow_and_the_smallest_sink_side_match_brute_force_on_random_graphs() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        for trial in 0..300 {
            let n = rng.random_range(2..9);
            let mut arcs = Vec::new();
            let mut g = Graph::new(n, 0, n - 1);
            for u in 0..n {
                for v in 0..n {
                    // Small capacities, so ties between cuts are common.
                    if u != v && rng.random_bool(0.4) {
                        let c = rng.random_range(0..4);
                        arcs.push((u, v, c));
                        g.add_edge(u, v, c, 0);
                    }
                }
            }
            let (want, side) = brute(n, &arcs, 0, n - 1);
            assert_eq!(g.max_flow(), want, "trial {trial}");
            assert_eq!(g.sink_side(), side, "trial {trial}");
        }
    }
}
