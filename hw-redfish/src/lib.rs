#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod errors;
pub mod management;
pub mod power;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;

use std::sync::Arc;

use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Result};

pub use client::RedfishClient;
pub use config::{PROPERTIES, RedfishAuthType, RedfishConfig};
pub use management::RedfishManagement;
pub use power::RedfishPower;

/// Ironic's name of the hardware type.
pub const NAME: &str = "redfish";

/// Builds a node for one ComputerSystem: power and management on the client (and
/// session) shared by every node of the same service and credentials.
///
/// # Errors
///
/// As [`RedfishClient::shared`] (`InvalidParameter` for an unusable CA bundle).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{NodeContext, PowerExt, PowerState};
/// use hwctl_sim::Simulator;
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let ctx = NodeContext::new("n1");
/// let config = hwctl_redfish::RedfishConfig::from_driver_info(&sim.driver_info(0), &ctx)?;
/// let node = hwctl_redfish::build_node(&config, &ctx)?;
/// assert_eq!(node.hardware_type(), "redfish");
/// node.power()?.power_on().await?;
/// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
pub fn build_node(config: &RedfishConfig, ctx: &NodeContext) -> Result<Node> {
    let client = RedfishClient::shared(config)?;
    Ok(Node::new(NAME, ctx.clone())
        .with_power(Arc::new(RedfishPower::with_client(client.clone(), config)))
        .with_management(Arc::new(RedfishManagement::with_client(client, config))))
}

/// The `redfish` hardware type: power and management of one ComputerSystem of a
/// Redfish service, from Ironic's `redfish_*` keys ([`PROPERTIES`]). Building
/// validates `driver_info` and does no network I/O.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry};
/// let mut registry = Registry::new();
/// registry.register(hwctl_redfish::hardware_type());
/// let info = DriverInfo::from_pairs([("redfish_address", "https://10.0.0.5"),
///     ("redfish_auth_type", "digest")]);
/// let err = registry.build("redfish", &info, &NodeContext::new("n1")).unwrap_err();
/// assert!(err.to_string().contains("redfish_auth_type"));
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "DMTF Redfish ComputerSystem (any Redfish BMC): power, boot override, boot mode, sensors, NMI.",
        [InterfaceKind::Power, InterfaceKind::Management],
        PROPERTIES.to_vec(),
        |info: &DriverInfo, ctx: &NodeContext| {
            let config = RedfishConfig::from_driver_info(info, ctx)?;
            build_node(&config, ctx)
        },
    )
    // Ironic's generic hardware types network-boot through its pxe and ipxe boot
    // interfaces (hwctl-pxe provides them).
    .with_boot_interfaces(["pxe", "ipxe"])
    .with_capabilities(declared_capabilities())
}

/// What every node of this type can do at most: the union over every
/// `driver_info` it accepts, written out from its drivers' `capabilities()` (not
/// read from them), so `hwctl_core::testing::check_capabilities` fails a node
/// that claims more.
fn declared_capabilities() -> hwctl_core::TypeCapabilities {
    use hwctl_core::capabilities::CapabilityField;
    use hwctl_core::{
        BootDevice, BootMode, Capabilities, ManagementCapabilities, PowerCapabilities, PowerTarget,
        TypeCapabilities,
    };
    TypeCapabilities::new(Capabilities {
        power: Some(PowerCapabilities {
            can_query: true,
            targets: vec![
                PowerTarget::On,
                PowerTarget::Off,
                PowerTarget::SoftOff,
                PowerTarget::Reboot,
                PowerTarget::SoftReboot,
            ],
            recorded_only: Vec::new(),
        }),
        management: Some(ManagementCapabilities {
            boot_devices: vec![
                BootDevice::Pxe,
                BootDevice::Disk,
                BootDevice::Cdrom,
                BootDevice::Bios,
                BootDevice::Floppy,
                BootDevice::Uefihttp,
            ],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![BootMode::Bios, BootMode::Uefi],
            can_get_boot_mode: true,
            sensors: true,
            nmi: true,
        }),
        console: false,
        vendor: Vec::new(),
        boot: false,
    })
    .depends(
        CapabilityField::PowerTargets,
        "the system's ResetType@Redfish.AllowableValues (others are Unsupported)",
    )
    .depends(
        CapabilityField::BootDevices,
        "the system's BootSourceOverrideTarget@Redfish.AllowableValues",
    )
    .depends(
        CapabilityField::Nmi,
        "the system's ResetType@Redfish.AllowableValues listing Nmi",
    )
}
