//! hw-http (being built).
