//! What each interface of a node can do, known before anyone calls.

use crate::boot_device::{BootDevice, BootMode};
use crate::power::PowerTarget;
use crate::vendor::VendorMethod;

/// What a [`Power`](crate::Power) implementation can do.
///
/// ```
/// use hwctl_core::{Power, PowerState, PowerTarget, fake::FakePower};
/// let caps = FakePower::new(PowerState::Off).capabilities();
/// assert!(caps.can_query);
/// assert!(caps.targets.contains(&PowerTarget::Reboot));
/// assert!(caps.recorded_only.is_empty()); // every accepted target is performed
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PowerCapabilities {
    /// Whether the device can be asked for its power state. When `false` (Wake-on-LAN)
    /// the reported state is the one last set, and sets cannot be confirmed.
    pub can_query: bool,
    /// The targets `set_power_state` accepts; any other fails with `Unsupported`.
    pub targets: Vec<PowerTarget>,
    /// The targets of [`targets`](Self::targets) that are *recorded, not performed*:
    /// `set_power_state` succeeds and the recorded state changes, but nothing is sent
    /// to the device (Wake-on-LAN's `off` with `wol_power_off=record`: a person must
    /// switch the node off). Empty for a driver that performs every target it accepts.
    pub recorded_only: Vec<PowerTarget>,
}

/// What a [`Management`](crate::Management) implementation can do.
///
/// ```
/// use hwctl_core::{BootDevice, Management, fake::FakeManagement};
/// let caps = FakeManagement::default().capabilities();
/// assert!(caps.boot_devices.contains(&BootDevice::Pxe));
/// assert!(caps.can_get_boot_device && !caps.persistent_only);
/// ```
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
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, fake};
/// let node = fake::hardware_type().build(&DriverInfo::default(), &NodeContext::new("n1"))?;
/// let caps = node.capabilities();
/// assert!(caps.power.is_some() && caps.management.is_some() && caps.console);
/// assert!(!caps.boot); // built without a boot interface attached
/// // What `hwctl capabilities` prints.
/// let json = serde_json::to_value(&caps).unwrap();
/// assert_eq!(json["power"]["can_query"], true);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    /// Whether this node was built with a boot interface *attached*
    /// ([`Registry::build_node`](crate::Registry::build_node) attaches the type's
    /// default; [`HardwareType::build`](crate::HardwareType::build) never does).
    ///
    /// It is not whether the hardware type supports network boot (that is
    /// [`HardwareType::boot_interfaces`](crate::HardwareType::boot_interfaces), the
    /// same for every node of the type), nor whether the boot device can be set
    /// (that is [`ManagementCapabilities::boot_devices`] being non-empty).
    pub boot: bool,
}
