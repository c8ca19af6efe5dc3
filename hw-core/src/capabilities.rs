//! What each interface of a node can do, known before anyone calls.

use crate::boot_device::{BootDevice, BootMode};
use crate::power::PowerTarget;
use crate::vendor::VendorMethod;

/// What a [`Power`](crate::Power) implementation can do.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PowerCapabilities {
    /// Whether the device can be asked for its power state. When `false` (Wake-on-LAN)
    /// the reported state is the one last set, and sets cannot be confirmed.
    pub can_query: bool,
    /// The targets `set_power_state` accepts; any other fails with `Unsupported`.
    pub targets: Vec<PowerTarget>,
}

/// What a [`Management`](crate::Management) implementation can do.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ManagementCapabilities {
    /// Devices `set_boot_device` accepts.
    pub boot_devices: Vec<BootDevice>,
    /// Whether `get_boot_device` reads the device back.
    pub can_get_boot_device: bool,
    /// Whether every boot-device setting is persistent whatever the caller asks
    /// (libvirt), so `persistent = false` is not honoured.
    pub persistent_only: bool,
    /// Boot modes `set_boot_mode` accepts (empty: setting the mode is unsupported).
    pub boot_modes: Vec<BootMode>,
    /// Whether `get_boot_mode` is implemented.
    pub can_get_boot_mode: bool,
    /// Whether `get_sensors` is implemented.
    pub sensors: bool,
    /// Whether `inject_nmi` is implemented.
    pub nmi: bool,
}

/// The capabilities of every interface of a [`Node`](crate::Node).
///
/// An interface the node does not have is `None` (or `false`, or empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Capabilities {
    /// Power, if the node has a power interface.
    pub power: Option<PowerCapabilities>,
    /// Management, if the node has a management interface.
    pub management: Option<ManagementCapabilities>,
    /// Whether the node has a serial console.
    pub console: bool,
    /// The vendor methods (empty when the node has no vendor interface).
    pub vendor: Vec<VendorMethod>,
    /// Whether the node has a boot interface.
    pub boot: bool,
}
