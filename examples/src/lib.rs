//! Examples for the hw crates. The repository README's code is tested here.
#![doc = include_str!("../../README.md")]
