//! hw-ipmi (being built).
