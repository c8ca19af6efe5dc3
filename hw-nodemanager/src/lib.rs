//! hw-nodemanager (being built).
