#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod management;
pub mod power;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;

use std::sync::Arc;

use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Result};

pub use client::{OpenbmcClient, ResolvedApi};
pub use config::{OpenbmcApi, OpenbmcConfig, PROPERTIES};
pub use management::OpenbmcManagement;
pub use power::OpenbmcPower;

/// The hardware type's name (the seed's).
pub const NAME: &str = "openbmc";

/// Builds a node for one OpenBMC on the shared client.
///
/// # Errors
///
/// As [`OpenbmcClient::shared`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{NodeContext, PowerExt, PowerState};
/// use hwctl_sim::Simulator;
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// let ctx = NodeContext::new("n1");
/// let config = hwctl_openbmc::OpenbmcConfig::from_driver_info(&sim.driver_info(0), &ctx)?;
/// let node = hwctl_openbmc::build_node(&config, &ctx)?;
/// assert_eq!(node.hardware_type(), "openbmc");
/// node.power()?.power_on().await?;
/// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
pub fn build_node(config: &OpenbmcConfig, ctx: &NodeContext) -> Result<Node> {
    let client = OpenbmcClient::shared(config)?;
    Ok(Node::new(NAME, ctx.clone())
        .with_power(Arc::new(OpenbmcPower::with_client(client.clone(), config)))
        .with_management(Arc::new(OpenbmcManagement::with_client(client, config))))
}

/// The `openbmc` hardware type: power and boot source of an OpenBMC host over its
/// REST API or Redfish (`openbmc_api`). Building does no network I/O; `auto`
/// probes `/redfish/v1` once on first use.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry};
/// let mut r = Registry::new();
/// r.register(hwctl_openbmc::hardware_type());
/// let info = DriverInfo::from_pairs([("openbmc_address", "10.0.0.7")]);
/// let err = r.build("openbmc", &info, &NodeContext::new("n")).unwrap_err();
/// assert!(err.to_string().contains("openbmc_username"));
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "OpenBMC (phosphor REST API or Redfish): power, boot source and mode, sensors.",
        [InterfaceKind::Power, InterfaceKind::Management],
        PROPERTIES.to_vec(),
        |info: &DriverInfo, ctx: &NodeContext| {
            let config = OpenbmcConfig::from_driver_info(info, ctx)?;
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
        CapabilityField::Nmi,
        "openbmc_api=redfish (not with rest or auto)",
    )
}
