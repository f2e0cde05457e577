//! Small exact solvers that model-guided mixers share: a minimum s–t cut, the alpha-beta swap labelling of
//! a grid built on it (PuzzleMix's block labels), PuzzleMix's greedy block transport, and the entropic
//! optimal transport AlignMix aligns feature maps with. Each works on
//! at most a few hundred nodes, runs on the host, and is tested on its own.

pub mod maxflow;
pub mod sinkhorn;
pub mod swap;
pub mod transport;
