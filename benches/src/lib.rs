//! Criterion benchmarks of the hw crates live in `benches/`; run them with
//! `cargo bench -p hw-benches` (or `--bench NAME` for one).
