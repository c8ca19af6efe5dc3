//! Criterion benchmarks of the hw crates live in `benches/`; run them with
//! `cargo bench -p hwctl-benches` (or `--bench NAME` for one).
