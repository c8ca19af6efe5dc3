//! hw examples.
