#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
pub mod discovery;
pub mod ipmi;
pub mod schema;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
mod types;
pub mod vendor;
pub mod wire;

pub use client::{DEFAULT_TIMEOUT, DRIVER, NodeManager};
pub use discovery::{Discovery, NmLocation};
pub use ipmi::{IpmiTransport, hardware_type};
pub use transport::{NmTransport, RawReply};
pub use types::{
    Action, BootMode, CapabilitiesQuery, ControlScope, CpuPowerCorrection, Day, Domain,
    GlobalStatistic, NmAddress, NmCapabilities, NmTimestamp, NmVersion, Policy, PolicyInfo,
    PolicyRef, PolicyStatistic, PowerDomain, RELATIVE_TIMESTAMP_MAX, Statistics, StatisticsQuery,
    StatisticsReset, Storage, SuspendPeriod, TargetLimit, Trigger,
};
pub use vendor::{NmCall, NmVendor};
