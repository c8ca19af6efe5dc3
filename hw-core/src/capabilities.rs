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

/// One field of [`Capabilities`], named as `hwctl capabilities --json` prints it
/// (`power.targets`, …): what a [`TypeCapabilities`] note is about.
///
/// ```
/// use hwctl_core::capabilities::CapabilityField;
/// assert_eq!(CapabilityField::PowerTargets.as_str(), "power.targets");
/// assert_eq!(serde_json::to_string(&CapabilityField::Nmi)?, "\"management.nmi\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum CapabilityField {
    /// [`PowerCapabilities::can_query`]
    #[serde(rename = "power.can_query")]
    PowerQuery,
    /// [`PowerCapabilities::targets`]
    #[serde(rename = "power.targets")]
    PowerTargets,
    /// [`PowerCapabilities::recorded_only`]
    #[serde(rename = "power.recorded_only")]
    RecordedOnly,
    /// [`ManagementCapabilities::boot_devices`]
    #[serde(rename = "management.boot_devices")]
    BootDevices,
    /// [`ManagementCapabilities::can_get_boot_device`]
    #[serde(rename = "management.can_get_boot_device")]
    GetBootDevice,
    /// [`ManagementCapabilities::persistent_only`]
    #[serde(rename = "management.persistent_only")]
    PersistentOnly,
    /// [`ManagementCapabilities::boot_modes`]
    #[serde(rename = "management.boot_modes")]
    BootModes,
    /// [`ManagementCapabilities::can_get_boot_mode`]
    #[serde(rename = "management.can_get_boot_mode")]
    GetBootMode,
    /// [`ManagementCapabilities::sensors`]
    #[serde(rename = "management.sensors")]
    Sensors,
    /// [`ManagementCapabilities::nmi`]
    #[serde(rename = "management.nmi")]
    Nmi,
    /// [`Capabilities::console`]
    #[serde(rename = "console")]
    Console,
    /// [`Capabilities::vendor`]
    #[serde(rename = "vendor")]
    Vendor,
}

impl CapabilityField {
    /// The dotted name (`management.boot_devices`), as serialized.
    ///
    /// ```
    /// use hwctl_core::capabilities::CapabilityField;
    /// assert_eq!(CapabilityField::BootDevices.as_str(), "management.boot_devices");
    /// assert_eq!(CapabilityField::Console.to_string(), "console");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CapabilityField::PowerQuery => "power.can_query",
            CapabilityField::PowerTargets => "power.targets",
            CapabilityField::RecordedOnly => "power.recorded_only",
            CapabilityField::BootDevices => "management.boot_devices",
            CapabilityField::GetBootDevice => "management.can_get_boot_device",
            CapabilityField::PersistentOnly => "management.persistent_only",
            CapabilityField::BootModes => "management.boot_modes",
            CapabilityField::GetBootMode => "management.can_get_boot_mode",
            CapabilityField::Sensors => "management.sensors",
            CapabilityField::Nmi => "management.nmi",
            CapabilityField::Console => "console",
            CapabilityField::Vendor => "vendor",
        }
    }
}

impl std::fmt::Display for CapabilityField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every node of a hardware type can do *at most*: the union, over every
/// `driver_info` the type accepts, of its nodes' [`Capabilities`], with a short
/// note per field where what a node gets depends on something only the node knows
/// (the BMC's `ResetType@Redfish.AllowableValues`, Wake-on-LAN's `wol_power_off`).
///
/// A hardware type declares it with
/// [`HardwareType::with_capabilities`](crate::HardwareType::with_capabilities);
/// `hwctl capabilities TYPE` shows it when no node can be built, and the
/// conformance suite (`testing::check_capabilities`, with the `testing` feature) fails a
/// node that claims more than its type declares. Within is checked per field:
/// every target, boot device, boot mode and vendor method (name and verbs) of the
/// node is declared; a `true` flag (`can_query`, `sensors`, `nmi`, a console, …)
/// is declared `true`; and so are the limits `recorded_only` (declared targets)
/// and `persistent_only` (a node may only have a limit its type owns up to).
/// [`Capabilities::boot`] (whether a boot interface is attached) is not part of it:
/// a type's network boot is [`HardwareType::boot_interfaces`](crate::HardwareType::boot_interfaces).
///
/// ```
/// use hwctl_core::capabilities::{CapabilityField, TypeCapabilities};
/// use hwctl_core::{Capabilities, PowerCapabilities, PowerTarget};
/// let power = |targets: &[PowerTarget]| Capabilities {
///     power: Some(PowerCapabilities { can_query: true, targets: targets.to_vec(), recorded_only: vec![] }),
///     ..Capabilities::default()
/// };
/// let declared = TypeCapabilities::new(power(&[PowerTarget::On, PowerTarget::Off]))
///     .depends(CapabilityField::PowerTargets, "the PDU's firmware");
/// assert_eq!(declared.notes()[&CapabilityField::PowerTargets], "the PDU's firmware");
/// assert!(declared.exceeded_by(&power(&[PowerTarget::On])).is_empty());
/// let over = declared.exceeded_by(&power(&[PowerTarget::On, PowerTarget::Reboot]));
/// assert_eq!(over, ["power.targets: reboot is not declared"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct TypeCapabilities {
    at_most: Capabilities,
    notes: std::collections::BTreeMap<CapabilityField, String>,
}

impl TypeCapabilities {
    /// The declaration of `at_most` (its `boot` field is ignored), with no notes.
    ///
    /// ```
    /// use hwctl_core::{Capabilities, capabilities::TypeCapabilities};
    /// let none = TypeCapabilities::new(Capabilities::default());
    /// assert!(none.at_most().power.is_none() && none.notes().is_empty());
    /// ```
    pub fn new(at_most: Capabilities) -> Self {
        TypeCapabilities {
            at_most: Capabilities {
                boot: false,
                ..at_most
            },
            notes: std::collections::BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the note on `field`: what a node's value of it depends
    /// on, completing "depends on …" (`"the BMC's ResetType@Redfish.AllowableValues"`).
    ///
    /// ```
    /// use hwctl_core::{Capabilities, capabilities::{CapabilityField, TypeCapabilities}};
    /// let t = TypeCapabilities::new(Capabilities::default())
    ///     .depends(CapabilityField::Nmi, "x")
    ///     .depends(CapabilityField::Nmi, "the API in use");
    /// assert_eq!(t.notes().len(), 1);
    /// assert_eq!(t.notes()[&CapabilityField::Nmi], "the API in use");
    /// ```
    pub fn depends(mut self, field: CapabilityField, note: impl Into<String>) -> Self {
        self.notes.insert(field, note.into());
        self
    }

    /// The most any node of the type can do.
    ///
    /// ```
    /// let ht = hwctl_core::fake::hardware_type();
    /// let declared = ht.capabilities().unwrap();
    /// assert!(declared.at_most().console);
    /// ```
    pub fn at_most(&self) -> &Capabilities {
        &self.at_most
    }

    /// The "depends on …" notes, by field.
    ///
    /// ```
    /// use hwctl_core::{Capabilities, capabilities::{CapabilityField, TypeCapabilities}};
    /// let declared = TypeCapabilities::new(Capabilities::default())
    ///     .depends(CapabilityField::PowerTargets, "wol_power_off");
    /// assert_eq!(declared.notes().keys().collect::<Vec<_>>(), [&CapabilityField::PowerTargets]);
    /// // fake-hardware's nodes are all alike: nothing depends on the node.
    /// assert!(hwctl_core::fake::hardware_type().capabilities().unwrap().notes().is_empty());
    /// ```
    pub fn notes(&self) -> &std::collections::BTreeMap<CapabilityField, String> {
        &self.notes
    }

    /// Every way `node` claims more than this declaration, one line each
    /// (`"management.boot_devices: floppy is not declared"`); empty when `node`
    /// is within it. `node.boot` is not compared (see the type's docs).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext, fake};
    /// let ht = fake::hardware_type();
    /// let node = ht.build(&DriverInfo::new(), &NodeContext::new("n1"))?;
    /// assert_eq!(ht.capabilities().unwrap().exceeded_by(&node.capabilities()), Vec::<String>::new());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn exceeded_by(&self, node: &Capabilities) -> Vec<String> {
        let mut over = Vec::new();
        let decl = &self.at_most;
        fn flag(over: &mut Vec<String>, field: CapabilityField, node: bool, declared: bool) {
            if node && !declared {
                over.push(format!("{field}: true but declared false"));
            }
        }
        fn subset<T: PartialEq + std::fmt::Display>(
            over: &mut Vec<String>,
            field: CapabilityField,
            node: &[T],
            declared: &[T],
        ) {
            for v in node.iter().filter(|v| !declared.contains(v)) {
                over.push(format!("{field}: {v} is not declared"));
            }
        }
        match (&node.power, &decl.power) {
            (None, _) => {}
            (Some(_), None) => over.push("power: the node has power, none is declared".into()),
            (Some(n), Some(d)) => {
                flag(
                    &mut over,
                    CapabilityField::PowerQuery,
                    n.can_query,
                    d.can_query,
                );
                subset(
                    &mut over,
                    CapabilityField::PowerTargets,
                    &n.targets,
                    &d.targets,
                );
                subset(
                    &mut over,
                    CapabilityField::RecordedOnly,
                    &n.recorded_only,
                    &d.recorded_only,
                );
            }
        }
        match (&node.management, &decl.management) {
            (None, _) => {}
            (Some(_), None) => {
                over.push("management: the node has management, none is declared".into())
            }
            (Some(n), Some(d)) => {
                subset(
                    &mut over,
                    CapabilityField::BootDevices,
                    &n.boot_devices,
                    &d.boot_devices,
                );
                flag(
                    &mut over,
                    CapabilityField::GetBootDevice,
                    n.can_get_boot_device,
                    d.can_get_boot_device,
                );
                flag(
                    &mut over,
                    CapabilityField::PersistentOnly,
                    n.persistent_only,
                    d.persistent_only,
                );
                subset(
                    &mut over,
                    CapabilityField::BootModes,
                    &n.boot_modes,
                    &d.boot_modes,
                );
                flag(
                    &mut over,
                    CapabilityField::GetBootMode,
                    n.can_get_boot_mode,
                    d.can_get_boot_mode,
                );
                flag(&mut over, CapabilityField::Sensors, n.sensors, d.sensors);
                flag(&mut over, CapabilityField::Nmi, n.nmi, d.nmi);
            }
        }
        flag(
            &mut over,
            CapabilityField::Console,
            node.console,
            decl.console,
        );
        for m in &node.vendor {
            match decl.vendor.iter().find(|d| d.name == m.name) {
                None => over.push(format!("vendor: method {} is not declared", m.name)),
                Some(d) => {
                    for verb in m
                        .http_methods
                        .iter()
                        .filter(|v| !d.http_methods.contains(v))
                    {
                        over.push(format!(
                            "vendor: method {} accepts {verb}, not declared",
                            m.name
                        ));
                    }
                }
            }
        }
        over
    }
}
