#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod console;
mod known_endpoints;
pub mod management;
pub mod power;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;

use std::sync::Arc;

use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Result};

pub use client::OcsClient;
pub use config::{OcsConfig, PROPERTIES};
pub use console::{OcsConsole, OcsConsoleStream};
pub use management::OcsManagement;
pub use power::OcsPower;

/// Ironic's name of the hardware type.
pub const NAME: &str = "msftocs";

/// Builds a node for one blade: power, management and console on the client
/// shared by every blade of the same chassis manager (see [`OcsClient::shared`]).
///
/// # Errors
///
/// As [`OcsClient::new`] (`InvalidParameter` for a CA bundle that cannot be read).
pub fn build_node(config: &OcsConfig, ctx: &NodeContext) -> Result<Node> {
    Ok(node_on(
        OcsClient::shared(config)?,
        &config::Blade::of(config),
        ctx,
    ))
}

/// The node of `blade` on `client`.
fn node_on(client: OcsClient, blade: &config::Blade, ctx: &NodeContext) -> Node {
    Node::new(NAME, ctx.clone())
        .with_power(Arc::new(OcsPower::on_blade(client.clone(), blade)))
        .with_management(Arc::new(OcsManagement::on_blade(client.clone(), blade)))
        .with_console(Arc::new(OcsConsole::on_blade(client, blade)))
}

/// Builds the node of `info`'s blade as [`OcsConfig::from_driver_info`] then
/// [`build_node`] do, given the endpoint and client of a blade built before
/// when `info`'s endpoint values are exactly that blade's ([`known_endpoints`]).
fn build_from_driver_info(
    info: &DriverInfo,
    ctx: &NodeContext,
    known_endpoints: &known_endpoints::KnownEndpoints,
) -> Result<Node> {
    let written = known_endpoints::Written::of(info);
    let known = known_endpoints.get(&written);
    let config = config_of(info, &written, known.as_deref(), ctx)?;
    let client = OcsClient::shared_known(config.endpoint(), known.as_ref())?;
    if known.as_ref().map(Arc::as_ptr) != Some(Arc::as_ptr(client.shared_http())) {
        known_endpoints.put(&written, client.shared_http());
    }
    Ok(node_on(client, &config.blade(), ctx))
}

/// A blade's configuration, as [`config_of`] finds it.
enum BladeConfig<'k> {
    /// The endpoint of a known client (not read again) and the blade's values.
    Known(&'k hwctl_http::EndpointConfig, config::Blade),
    /// Read as [`OcsConfig::read`] reads it (boxed: the other is far smaller).
    Read(Box<OcsConfig>),
}

impl BladeConfig<'_> {
    fn endpoint(&self) -> &hwctl_http::EndpointConfig {
        match self {
            BladeConfig::Known(endpoint, _) => endpoint,
            BladeConfig::Read(config) => &config.endpoint,
        }
    }

    fn blade(&self) -> config::Blade {
        match self {
            BladeConfig::Known(_, blade) => *blade,
            BladeConfig::Read(config) => config::Blade::of(config),
        }
    }
}

/// What [`OcsConfig::from_driver_info`] gives for `info` (whose values are
/// `written`), given `known`, the client of a blade built before with exactly
/// the same endpoint values. When, besides, the rest of `written` is known to
/// pass ([`known_endpoints::Written::blade`]), nothing is read again: every
/// check reading makes has passed, for the endpoint with that blade's values
/// and for the rest here; the endpoint is `known`'s, not a copy. Otherwise
/// everything but the endpoint is read and checked as usual
/// ([`OcsConfig::read`]), with the same result and errors.
fn config_of<'k>(
    info: &DriverInfo,
    written: &known_endpoints::Written<'_>,
    known: Option<&'k hwctl_http::HttpClient>,
    ctx: &NodeContext,
) -> Result<BladeConfig<'k>> {
    let endpoint = known.map(hwctl_http::HttpClient::config);
    Ok(match (endpoint, written.blade()) {
        (Some(endpoint), Some((blade_id, console))) => {
            BladeConfig::Known(endpoint, config::Blade::read(blade_id, console, ctx))
        }
        _ => BladeConfig::Read(Box::new(OcsConfig::read(info, ctx, endpoint)?)),
    })
}

/// The `msftocs` hardware type: power, management and console of one blade of an
/// OCS chassis manager, built from Ironic's `driver_info` keys ([`PROPERTIES`]).
///
/// Building validates `driver_info` (every problem at once) and does no network
/// I/O (a CA bundle named by `msftocs_verify_ca` is read and checked to hold PEM
/// CA certificates, at validation, with the other problems). All
/// nodes of one chassis manager share one HTTP client, so one connection pool and
/// one concurrency limit (`msftocs_max_connections`).
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry};
/// let mut registry = Registry::new();
/// registry.register(hwctl_ocs::hardware_type());
/// let info = DriverInfo::from_pairs([
///     ("msftocs_base_url", "http://10.0.0.1:8000"),
///     ("msftocs_blade_id", "49"),
///     ("msftocs_username", "admin"),
///     ("msftocs_password", "pw"),
/// ]);
/// let err = registry.build("msftocs", &info, &NodeContext::new("n1")).unwrap_err();
/// assert!(err.to_string().contains("msftocs_blade_id: \"49\" is out of range (1 to 48)"));
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "Microsoft Open CloudServer chassis manager blade (REST/XML): power, boot device, serial console.",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Console,
        ],
        PROPERTIES.to_vec(),
        |info: &DriverInfo, ctx: &NodeContext| {
            build_from_driver_info(info, ctx, known_endpoints::KnownEndpoints::global())
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
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
            recorded_only: Vec::new(),
        }),
        management: Some(ManagementCapabilities {
            boot_devices: vec![
                BootDevice::Pxe,
                BootDevice::Disk,
                BootDevice::Bios,
                BootDevice::Floppy,
            ],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![],
            can_get_boot_mode: false,
            sensors: false,
            nmi: false,
        }),
        console: true,
        vendor: Vec::new(),
        boot: false,
    })
}
