#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
pub mod config;
pub mod console;
mod errors;
pub mod management;
pub mod power;
#[cfg(feature = "sim")]
pub mod sim;
mod xml;

use std::sync::Arc;

use hwctl_core::{HardwareType, InterfaceKind, Node, NodeContext};

pub use client::{LibvirtClient, reset_connections, silence_libvirt_stderr};
pub use config::{Auth, DEFAULT_URI, DomainSelector, LibvirtConfig, PROPERTIES};
pub use console::{ConsoleStream, LibvirtConsole};
pub use management::LibvirtManagement;
pub use power::{LibvirtPower, VmState};

/// Entry points for the fuzz targets in the repository's `fuzz/` workspace: the
/// domain XML reader, which is otherwise private. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use hwctl_core::BootDevice;

    /// Reads `xml` as libvirt domain XML (name, UUID, MACs, boot device and mode),
    /// and rewrites its boot device, as the driver does with what libvirt returns.
    /// Never panics, whatever the text; a rewrite that succeeds reads back.
    pub fn domain_xml(xml: &str) {
        let Ok(d) = crate::xml::DomainXml::parse(xml) else {
            return;
        };
        let _ = (d.name(), d.uuid(), d.macs(), d.boot_device(), d.boot_mode());
        for device in [BootDevice::Pxe, BootDevice::Disk, BootDevice::Cdrom] {
            if let Ok(out) = d.with_boot_device(device) {
                let _ = crate::xml::DomainXml::parse(&out).map(|again| again.boot_device());
            }
        }
    }
}

/// The hardware type's name (Ironic's).
pub const NAME: &str = "staging-libvirt";

/// The `staging-libvirt` hardware type: power, management and console for libvirt
/// domains, built from Ironic's `driver_info` keys (see [`PROPERTIES`]) and the
/// node's port MACs.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{DriverInfo, NodeContext, PowerState, Registry};
/// let mut registry = Registry::new();
/// registry.register(hwctl_libvirt::hardware_type());
/// // libvirt's built-in test driver: one domain "test", running.
/// let info = DriverInfo::from_pairs([("libvirt_uri", "test:///default"), ("libvirt_domain", "test")]);
/// let node = registry.build("staging-libvirt", &info, &NodeContext::new("vm-1"))?;
/// let state = node.power()?.get_power_state().await?;
/// assert_ne!(state, PowerState::Unknown);
/// # Ok(()) }
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "libvirt domains driven as bare-metal nodes (power, boot device, serial console).",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Console,
        ],
        PROPERTIES.to_vec(),
        |info, ctx| {
            let config = LibvirtConfig::from_driver_info(info, ctx)?;
            Ok(node(config, ctx.clone()))
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
            persistent_only: true,
            boot_modes: vec![],
            can_get_boot_mode: true,
            sensors: false,
            nmi: false,
        }),
        console: true,
        vendor: Vec::new(),
        boot: false,
    })
}

/// A node whose power, management and console share one domain lookup (and, with
/// every other node of the endpoint, one [`LibvirtClient`]).
pub fn node(config: LibvirtConfig, ctx: NodeContext) -> Node {
    let domain = Arc::new(client::DomainRef::new(config));
    Node::new(NAME, ctx)
        .with_power(Arc::new(LibvirtPower::from_ref(Arc::clone(&domain))))
        .with_management(Arc::new(LibvirtManagement::from_ref(Arc::clone(&domain))))
        .with_console(Arc::new(LibvirtConsole::from_ref(domain)))
}
