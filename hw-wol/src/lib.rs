//! hw-wol (being built).
