#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod bind;
#[cfg(feature = "testing")]
pub mod conformance;
pub mod fault;
pub mod fleet;
pub mod simulator;
pub mod stats;
pub mod tasks;
pub mod testkit;

pub use bind::{bind_tcp, bind_udp, check_loopback};
pub use fault::{CommonFault, FaultPlan};
pub use simulator::Simulator;
pub use stats::{ConnectionGuard, Counters, SessionGuard, SimStats};
pub use tasks::{Spawner, TaskSet};
