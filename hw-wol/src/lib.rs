#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
pub mod power;
#[cfg(feature = "sim")]
pub mod sim;
pub mod state;
pub mod wire;

use std::sync::Arc;

use hwctl_core::{HardwareType, InterfaceKind, Node};

pub use config::{PowerOffMode, WolConfig};
pub use power::WolPower;
pub use state::{CoreStateStore, MemoryStateStore, StateStore};

/// The hardware type's name (Ironic's).
pub const NAME: &str = "staging-wol";

/// The `staging-wol` hardware type: power only. The recorded power state goes to
/// hwctl-core's process-wide store when one is installed
/// ([`hwctl_core::state::set_global`]; `hwctl` installs its `--state-dir`), else each
/// node has its own in-memory store.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let ctx = NodeContext::new("n1").with_port("52:54:00:cf:2d:31".parse().unwrap());
/// let node = hwctl_wol::hardware_type().build(&DriverInfo::new(), &ctx).unwrap();
/// assert!(!node.capabilities().power.unwrap().can_query);
///
/// let err = hwctl_wol::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n2")).unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::MissingParameter);
/// ```
pub fn hardware_type() -> HardwareType {
    build_type(None)
}

/// The `staging-wol` hardware type keeping every node's power state in `store`
/// (keyed by node id), so an orchestrator can persist it.
pub fn hardware_type_with_store(store: Arc<dyn StateStore>) -> HardwareType {
    build_type(Some(store))
}

fn build_type(store: Option<Arc<dyn StateStore>>) -> HardwareType {
    HardwareType::new(
        NAME,
        "Wake-on-LAN: power on by UDP magic packet to every port MAC; no query, no power off.",
        [InterfaceKind::Power],
        config::PROPERTIES.to_vec(),
        move |info, ctx| {
            let config = WolConfig::from_driver_info(info, ctx)?;
            let store =
                store
                    .clone()
                    .unwrap_or_else(|| match hwctl_core::state::configured_global() {
                        Some(core) => Arc::new(CoreStateStore::new(core)),
                        None => Arc::new(MemoryStateStore::new()),
                    });
            Ok(Node::new(NAME, ctx.clone())
                .with_power(Arc::new(WolPower::with_store(config, store))))
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
    use hwctl_core::{Capabilities, PowerCapabilities, PowerTarget, TypeCapabilities};
    TypeCapabilities::new(Capabilities {
        power: Some(PowerCapabilities {
            can_query: false,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
            recorded_only: vec![PowerTarget::Off],
        }),
        management: None,
        console: false,
        vendor: Vec::new(),
        boot: false,
    })
    .depends(
        CapabilityField::PowerTargets,
        "wol_power_off: off only with record (the default), not with unsupported",
    )
    .depends(
        CapabilityField::RecordedOnly,
        "wol_power_off=record (the default)",
    )
}
