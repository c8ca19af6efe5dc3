#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod power;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;

use std::sync::Arc;

use hwctl_core::{HardwareType, InterfaceKind, Node};

pub use client::{IbootClient, PduLock};
pub use config::IbootConfig;
pub use power::IbootPower;

/// The hardware type's name (Ironic's).
pub const NAME: &str = "staging-iboot";

/// The `staging-iboot` hardware type: power through one relay of an iBoot PDU.
///
/// ```
/// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
/// let err = hwctl_iboot::hardware_type()
///     .build(&DriverInfo::from_pairs([("iboot_port", "0")]), &NodeContext::new("n1"))
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingParameter);
/// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
/// assert_eq!(names, ["iboot_address", "iboot_username", "iboot_password", "iboot_port"]);
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "Dataprobe iBoot PDU: power through one relay, DxP over TCP.",
        [InterfaceKind::Power],
        config::PROPERTIES.to_vec(),
        |info, ctx| {
            let config = IbootConfig::from_driver_info(info, ctx)?;
            Ok(Node::new(NAME, ctx.clone()).with_power(Arc::new(IbootPower::new(config))))
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
    use hwctl_core::{Capabilities, PowerCapabilities, PowerTarget, TypeCapabilities};
    TypeCapabilities::new(Capabilities {
        power: Some(PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
            recorded_only: Vec::new(),
        }),
        management: None,
        console: false,
        vendor: Vec::new(),
        boot: false,
    })
}
