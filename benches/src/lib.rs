//! hw benches.
