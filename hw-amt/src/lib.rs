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

use hwctl_core::state::NodeStateStore;
use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Result};

pub use client::AmtClient;
pub use config::{AmtConfig, PROPERTIES};
pub use management::{AmtManagement, BootKeeper};
pub use power::AmtPower;

/// The hardware type's name (the staging driver's).
pub const NAME: &str = "staging-amt";

/// Builds a node: power and management over one shared client, the wanted boot
/// device kept in `store`.
///
/// # Errors
///
/// As [`AmtClient::shared`] (`InvalidParameter` for an unreadable CA bundle).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_amt::{AmtConfig, build_node, sim::AmtSim};
/// use hwctl_core::state::{MemoryStore, NodeStateExt as _, NodeStateStore, StateKey};
/// use hwctl_core::{BootDevice, NodeContext};
/// let sim = AmtSim::start(Default::default()).await?;
/// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
/// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
/// let node = build_node(&config, &NodeContext::new("n1"), store.clone())?;
/// node.management()?.set_boot_device(BootDevice::Pxe, true).await?;
/// let key = StateKey::new(config.node_id.clone(), config.state_endpoint());
/// let device: Option<String> = store.get_typed(&key, "amt_boot_device").await?;
/// assert_eq!(device.as_deref(), Some("pxe"));
/// # Ok(()) }
/// ```
pub fn build_node(
    config: &AmtConfig,
    ctx: &NodeContext,
    store: Arc<dyn NodeStateStore>,
) -> Result<Node> {
    let client = AmtClient::shared(config)?;
    let boot = Arc::new(BootKeeper::new(client.clone(), config, store));
    Ok(Node::new(NAME, ctx.clone())
        .with_power(Arc::new(AmtPower::new(
            client,
            boot.clone(),
            config.power_poll_interval,
        )))
        .with_management(Arc::new(AmtManagement::new(boot))))
}

/// The `staging-amt` hardware type: power and boot device of an Intel AMT machine
/// over WS-Management. The wanted boot device goes to hwctl-core's process-wide state
/// store when one is installed ([`hwctl_core::state::set_global`]; `hwctl` installs its
/// `--state-dir`), else to a store of the node's own, in memory.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry};
/// let mut registry = Registry::new();
/// registry.register(hwctl_amt::hardware_type());
/// let info = DriverInfo::from_pairs([("amt_address", "10.0.0.5"), ("amt_username", "admin"),
///     ("amt_password", "pw"), ("amt_protocol", "gopher")]);
/// let err = registry.build("staging-amt", &info, &NodeContext::new("n1")).unwrap_err();
/// assert!(err.to_string().contains("amt_protocol"));
/// ```
pub fn hardware_type() -> HardwareType {
    build_type(None)
}

/// The `staging-amt` hardware type keeping every node's wanted boot device in
/// `store` (keyed by node id and endpoint), so an orchestrator can persist it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_amt::sim::AmtSim;
/// use hwctl_core::state::{MemoryStore, NodeStateExt as _, NodeStateStore, StateKey};
/// use hwctl_core::{BootDevice, DriverInfo, NodeContext};
/// let sim = AmtSim::start(Default::default()).await?;
/// let port = sim.addr().port().to_string();
/// let info = DriverInfo::from_pairs([("amt_address", "127.0.0.1"), ("amt_port", port.as_str()),
///     ("amt_username", sim.username()), ("amt_password", sim.password())]);
/// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
/// let node = hwctl_amt::hardware_type_with_store(store.clone()).build(&info, &NodeContext::new("n7"))?;
/// node.management()?.set_boot_device(BootDevice::Cdrom, true).await?;
/// let key = StateKey::new("n7", format!("amt://127.0.0.1:{port}"));
/// let device: Option<String> = store.get_typed(&key, "amt_boot_device").await?;
/// assert_eq!(device.as_deref(), Some("cdrom"));
/// # Ok(()) }
/// ```
pub fn hardware_type_with_store(store: Arc<dyn NodeStateStore>) -> HardwareType {
    build_type(Some(store))
}

fn build_type(store: Option<Arc<dyn NodeStateStore>>) -> HardwareType {
    HardwareType::new(
        NAME,
        "Intel AMT (WS-Management, HTTP digest): power, boot device (persistence emulated).",
        [InterfaceKind::Power, InterfaceKind::Management],
        PROPERTIES.to_vec(),
        move |info: &DriverInfo, ctx: &NodeContext| {
            let config = AmtConfig::from_driver_info(info, ctx)?;
            let store = store
                .clone()
                .unwrap_or_else(hwctl_core::state::global_or_memory);
            build_node(&config, ctx, store)
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
            ],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![],
            can_get_boot_mode: false,
            sensors: false,
            nmi: false,
        }),
        console: false,
        vendor: Vec::new(),
        boot: false,
    })
}
