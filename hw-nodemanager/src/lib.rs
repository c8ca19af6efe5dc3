#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
pub mod config;
pub mod discovery;
pub mod ipmi;
pub mod schema;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
mod types;
pub mod vendor;
pub mod wire;

pub use client::{DEFAULT_TIMEOUT, NodeManager};
pub use config::NmConfig;
pub use discovery::{Discovery, NmLocation};
pub use ipmi::{IpmiTransport, hardware_type, hardware_type_with};
pub use transport::{NmTransport, RawIpmiReply};
pub use types::{
    Action, BootMode, CapabilitiesQuery, ControlScope, CpuPowerCorrection, Day, Domain,
    GlobalStatistic, Iso8601, NmAddress, NmCapabilities, NmTimestamp, NmVersion, Policy,
    PolicyInfo, PolicyRef, PolicyStatistic, PowerDomain, RELATIVE_TIMESTAMP_MAX, Statistics,
    StatisticsQuery, StatisticsReset, Storage, SuspendPeriod, TargetLimit, Trigger,
};
pub use vendor::{NmCall, NmVendor};

/// The hardware type's name (Ironic's); errors of `staging-nm` nodes name it as the
/// driver.
pub const NAME: &str = "staging-nm";
