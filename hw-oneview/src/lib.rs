#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod client;
pub mod config;
pub mod errors;
pub mod management;
pub mod power;
pub mod server;
#[cfg(feature = "sim")]
pub mod sim;
pub mod vendor;
pub mod wire;

use std::sync::Arc;

use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Result};

pub use client::OneviewClient;
pub use config::{OneviewConfig, PROPERTIES};
pub use management::OneviewManagement;
pub use power::OneviewPower;
pub use server::OneviewServer;
pub use vendor::OneviewVendor;

/// Ironic's name of the hardware type.
pub const NAME: &str = "oneview";

/// Builds a node for one server hardware: power, management and vendor over one
/// [`OneviewServer`] on the client (and session) shared by every server of the
/// same appliance and account.
///
/// # Errors
///
/// As [`OneviewClient::shared`] (`InvalidParameter` for a CA bundle that cannot be
/// used).
pub fn build_node(config: &OneviewConfig, ctx: &NodeContext) -> Result<Node> {
    let client = OneviewClient::shared(config)?;
    let server = Arc::new(OneviewServer::new(
        client,
        Arc::new(config.clone()),
        &ctx.id,
        ctx.ports.clone(),
    ));
    Ok(Node::new(NAME, ctx.clone())
        .with_power(Arc::new(OneviewPower::new(server.clone())))
        .with_management(Arc::new(OneviewManagement::new(server.clone())))
        .with_vendor(Arc::new(OneviewVendor::new(server))))
}

/// The `oneview` hardware type: power, management (boot device, sensors) and
/// vendor methods (allocation, validation) of one server hardware of an HPE
/// OneView appliance; no console. Building validates `driver_info` (every problem
/// at once) and does no network I/O.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry};
/// let mut registry = Registry::new();
/// registry.register(hwctl_oneview::hardware_type());
/// let info = DriverInfo::from_pairs([
///     ("server_hardware_uri", "/rest/enclosures/x"),
///     ("oneview_manager_url", "https://oneview.example"),
///     ("oneview_username", "administrator"),
///     ("oneview_password", "pw"),
/// ]);
/// let err = registry.build("oneview", &info, &NodeContext::new("n1")).unwrap_err();
/// assert!(err.to_string().contains("server_hardware_uri"));
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "HPE OneView server hardware (REST/JSON, sessions, tasks): power, boot order through server profiles, one-time boot through iLO, sensors, profile allocation.",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Vendor,
        ],
        PROPERTIES.to_vec(),
        |info: &DriverInfo, ctx: &NodeContext| {
            let config = OneviewConfig::from_driver_info(info, ctx)?;
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
    use hwctl_core::{
        BootDevice, Capabilities, ManagementCapabilities, PowerCapabilities, PowerTarget,
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
            boot_devices: vec![BootDevice::Pxe, BootDevice::Disk, BootDevice::Cdrom],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![],
            can_get_boot_mode: false,
            sensors: true,
            nmi: false,
        }),
        console: false,
        vendor: crate::vendor::methods(),
        boot: false,
    })
}
