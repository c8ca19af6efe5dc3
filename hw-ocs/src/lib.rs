//! hw-ocs (being built).
