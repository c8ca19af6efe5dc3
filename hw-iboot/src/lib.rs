//! hw-iboot (being built).
