#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// docs.rs builds with every feature and `--cfg docsrs`: feature-gated items say so.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attempts;
pub mod client;
pub mod codec;
pub mod config;
mod crypto;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ipmi;
pub mod management;
pub mod power;
pub mod sdr;
mod session;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;
pub mod sol;
mod wire;

use std::sync::Arc;

use hwctl_core::shared::Shared;
use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Result};

pub use client::{ClientStats, IpmiClient, IpmiEndpoint, RawIpmiReply, cc_error, cc_kind, cc_name};
pub use config::{
    BmcKey, Bridge, CipherSuite, IpmiConfig, PROPERTIES, PrivilegeLevel, SuiteChoice,
};
pub use ipmi::{BootFlags, ChassisControl, Ipmi};
pub use management::IpmiManagement;
pub use power::IpmiPower;
pub use sdr::{CompactSensor, FullSensor, OemRecord, SdrKind, SdrRecord};
pub use sol::{IpmiConsole, IpmiConsoleStream};
pub use wire::ChannelAuthCapabilities;

/// The hardware type's name (Ironic's).
pub const NAME: &str = "ipmi";

/// Builds a node of hardware type `name` with IPMI power and management over
/// `ipmi`; their errors name `name` as the driver. Vendor crates add their own
/// interfaces to the result:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
/// let node = hwctl_ipmi::node("staging-nm", &ipmi, hwctl_core::NodeContext::new("n1"));
/// assert!(node.power().is_ok() && node.management().is_ok());
/// # Ok(()) }
/// ```
pub fn node(name: &str, ipmi: &Ipmi, ctx: NodeContext) -> Node {
    let boot_mode = ctx.boot_mode();
    let ipmi = ipmi.clone().with_driver(name);
    Node::new(name, ctx)
        .with_power(Arc::new(IpmiPower::new(ipmi.clone())))
        .with_management(Arc::new(IpmiManagement::new(ipmi, boot_mode)))
}

/// Validates `info` and builds the node's [`Ipmi`] handle on the client for its BMC
/// endpoint in `shared` (one session per endpoint among every node built through
/// it; pass `&Shared::global()` for the process-wide scope).
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::MissingParameter`] / [`hwctl_core::ErrorKind::InvalidParameter`]
/// listing every problem of `info` (see [`IpmiConfig::from_driver_info`]).
pub fn ipmi_from_driver_info(
    shared: &Shared<IpmiEndpoint>,
    info: &DriverInfo,
    ctx: &NodeContext,
) -> Result<Ipmi> {
    let cfg = IpmiConfig::from_driver_info(info, ctx)?;
    Ok(ipmi_from_config(shared, &cfg))
}

/// The node's [`Ipmi`] handle for an already validated `cfg`, on the client for its
/// endpoint in `shared`: the session is shared, `cfg`'s per-node settings
/// (timeouts, retries, pacing, bridge, boot timer) stay this handle's own.
pub fn ipmi_from_config(shared: &Shared<IpmiEndpoint>, cfg: &IpmiConfig) -> Ipmi {
    Ipmi::with_client(IpmiClient::shared_in(shared, cfg), cfg.bridge)
}

/// The `ipmi` hardware type: power and management over IPMI 2.0 (RMCP+), and the
/// serial console over IPMI Serial over LAN ([`IpmiConsole`], a session of its own).
///
/// Nodes share one client (and one session) per BMC endpoint with every other node
/// of the process ([`Shared::global`]), whatever their hardware type: building
/// this twice, or registering `ipmi` and `staging-nm` for one BMC, opens one session.
/// Each node keeps its own per-operation settings (`ipmi_command_retry_timeout`,
/// `ipmi_disable_boot_timeout`, bridging) on the shared session.
/// [`hardware_type_with`] takes a scope of its own.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let ht = hwctl_ipmi::hardware_type();
/// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9")]);
/// let node = ht.build(&info, &NodeContext::new("n1")).unwrap();
/// assert_eq!(node.hardware_type(), "ipmi");
/// ```
pub fn hardware_type() -> HardwareType {
    hardware_type_with(Shared::global())
}

/// The `ipmi` hardware type sharing clients through `shared` instead of the
/// process-wide scope (tests, embedders that want isolation).
pub fn hardware_type_with(shared: Shared<IpmiEndpoint>) -> HardwareType {
    HardwareType::new(
        NAME,
        "IPMI 2.0 over LAN (RMCP+, cipher suites 3 and 17): power, boot device, sensors, NMI, \
         serial console (Serial over LAN).",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Console,
        ],
        PROPERTIES.to_vec(),
        move |info, ctx| {
            let ipmi = ipmi_from_driver_info(&shared, info, ctx)?;
            // The console opens a session of its own (see `IpmiConsole`).
            let console = IpmiConsole::new(ipmi.clone().with_driver(NAME));
            Ok(node(NAME, &ipmi, ctx.clone()).with_console(Arc::new(console)))
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
            boot_devices: vec![
                BootDevice::Pxe,
                BootDevice::Disk,
                BootDevice::Cdrom,
                BootDevice::Bios,
                BootDevice::Safe,
            ],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![],
            can_get_boot_mode: true,
            sensors: true,
            nmi: true,
        }),
        console: true,
        vendor: Vec::new(),
        boot: false,
    })
}
