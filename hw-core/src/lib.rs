#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// No unsafe code; the one exception is the test-only counting allocator behind the
// `testing` feature (`testing::counting_alloc`, decision 75).
#![cfg_attr(not(feature = "testing"), forbid(unsafe_code))]
#![cfg_attr(feature = "testing", deny(unsafe_code))]

pub mod address;
pub mod boot;
pub mod boot_device;
pub mod capabilities;
pub mod console;
pub mod driver_info;
pub mod error;
pub mod fake;
pub mod fast_hash;
pub mod json_schema;
mod layers;
pub mod mac;
pub mod management;
pub mod node;
pub mod poll;
pub mod power;
pub mod registry;
pub mod retry;
pub mod sensors;
pub mod shared;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod vendor;

pub use async_trait::async_trait;
pub use secrecy::{self, ExposeSecret, SecretString};

pub use boot::{Boot, BootBuild, BootInterface};
pub use boot_device::{BootDevice, BootDeviceSetting, BootMode, BootPersistence};
pub use capabilities::{Capabilities, ManagementCapabilities, PowerCapabilities, TypeCapabilities};
pub use console::{Console, ConsoleHandle, ConsoleStream};
pub use driver_info::{DriverInfo, Property, Validator};
pub use error::{Error, ErrorKind, ParameterProblem, Result};
pub use mac::MacAddress;
pub use management::Management;
pub use node::{Node, NodeContext};
pub use power::{Power, PowerExt, PowerState, PowerTarget};
pub use registry::{HardwareType, InterfaceKind, Registry};
pub use sensors::{SensorKind, SensorReading};
pub use vendor::{HttpMethod, Vendor, VendorMethod};
