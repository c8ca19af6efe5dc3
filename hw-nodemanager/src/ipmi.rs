//! Node Manager over `hwctl-ipmi`: [`IpmiTransport`] (bridged raw requests and SDR reads
//! on an [`hwctl_ipmi::Ipmi`] handle) and the `staging-nm` hardware type.

use std::fmt;
use std::sync::Arc;

use hwctl_core::retry::Idempotency;
use hwctl_core::shared::Shared;
use hwctl_core::{
    DriverInfo, HardwareType, InterfaceKind, NodeContext, Result, Validator, async_trait,
};
use hwctl_ipmi::{Bridge, Ipmi, IpmiConsole, IpmiEndpoint};

pub use crate::NAME;
use crate::client::NodeManager;
use crate::config::NmConfig;
use crate::discovery::NmLocation;
use crate::transport::{NmTransport, RawIpmiReply};
use crate::types::NmAddress;
use crate::vendor::NmVendor;

/// Whether a Node Manager command only reads, and so may be resent on a lost reply
/// (`hwctl_core::retry` resends the others only when they never left).
///
/// ```
/// use hwctl_nodemanager::{ipmi::idempotency, wire::cmd};
/// assert_eq!(idempotency(0x2E, cmd::POLICY_GET), hwctl_core::retry::Idempotency::Idempotent);
/// assert_eq!(idempotency(0x2E, cmd::POLICY_SET), hwctl_core::retry::Idempotency::NotIdempotent);
/// ```
pub fn idempotency(netfn: u8, cmd: u8) -> Idempotency {
    Idempotency::from_bool(
        netfn == crate::wire::NETFN_OEM_GROUP && matches!(cmd, 0xC2 | 0xC6 | 0xC8 | 0xC9 | 0xCA),
    )
}

/// [`NmTransport`] over an IPMI session: requests go to the Node Manager address with
/// Send Message (through the node's transit controller when it is configured for dual
/// bridging); reads are retried by `hwctl-ipmi`, writes never resent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_nodemanager::{IpmiTransport, NodeManager};
/// let sim = hwctl_nodemanager::sim::start_bmc(Default::default()).await?;
/// let config = hwctl_nodemanager::NmConfig::from_driver_info(&sim.bmc.driver_info(), &hwctl_core::NodeContext::new("n1"))?;
/// let transport = IpmiTransport::new(hwctl_ipmi::Ipmi::new(config.ipmi));
/// assert_eq!(transport.ipmi().driver(), "staging-nm");
/// let nm = NodeManager::with_location(Arc::new(transport), config.location);
/// assert_eq!(nm.version().await?.nm_name(), "3.0");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IpmiTransport {
    ipmi: Ipmi,
}

impl fmt::Debug for IpmiTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpmiTransport")
            .field("endpoint", &self.ipmi.client().config().endpoint())
            .finish()
    }
}

impl IpmiTransport {
    /// Node Manager behind the BMC `ipmi` talks to; errors name the handle's driver
    /// (set to `staging-nm` here unless it already names another than `ipmi`).
    pub fn new(ipmi: Ipmi) -> Self {
        let ipmi = if ipmi.driver() == hwctl_ipmi::NAME {
            ipmi.with_driver(NAME)
        } else {
            ipmi
        };
        IpmiTransport { ipmi }
    }

    /// The IPMI handle.
    pub fn ipmi(&self) -> &Ipmi {
        &self.ipmi
    }
}

#[async_trait]
impl NmTransport for IpmiTransport {
    async fn bridged_request(
        &self,
        target: NmAddress,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawIpmiReply> {
        let bridge = match self.ipmi.bridge().and_then(|b| b.transit) {
            Some(transit) => Bridge::dual(transit, target.channel, target.address),
            None => Bridge::single(target.channel, target.address),
        };
        self.ipmi
            .send_to(Some(&bridge), netfn, cmd, data, idempotency(netfn, cmd))
            .await
    }

    async fn sdr_records(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .ipmi
            .sdr_records()
            .await?
            .iter()
            .map(|r| r.raw.clone())
            .collect())
    }
}

/// The `staging-nm` hardware type: `ipmi` power, management and Serial over LAN
/// console ([`IpmiConsole`], on a session of its own while open) plus the Node
/// Manager vendor methods. Nodes share one IPMI session per BMC with every other
/// node of the process ([`Shared::global`]), `ipmi` nodes on the same BMC included;
/// [`hardware_type_with`] takes a scope of its own. Power, management and console
/// errors name the driver `staging-nm`.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let ht = hwctl_nodemanager::hardware_type();
/// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_username", "admin")]);
/// let node = ht.build(&info, &NodeContext::new("n1")).unwrap();
/// assert_eq!(node.capabilities().vendor.len(), 11);
/// assert!(node.power().is_ok());
/// assert!(node.capabilities().console);
/// ```
pub fn hardware_type() -> HardwareType {
    hardware_type_with(Shared::global())
}

/// The `staging-nm` hardware type sharing IPMI clients through `shared` instead of
/// the process-wide scope (tests, embedders that want isolation).
pub fn hardware_type_with(shared: Shared<IpmiEndpoint>) -> HardwareType {
    HardwareType::new(
        NAME,
        "IPMI power, management and serial console (Serial over LAN) plus Intel Node Manager \
         policies and statistics as vendor methods.",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Console,
            InterfaceKind::Vendor,
        ],
        crate::config::properties(),
        move |info, ctx| build(&shared, info, ctx),
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
        vendor: crate::vendor::methods(),
        boot: false,
    })
}

fn build(
    shared: &Shared<IpmiEndpoint>,
    info: &DriverInfo,
    ctx: &NodeContext,
) -> Result<hwctl_core::Node> {
    let cfg = NmConfig::from_driver_info(info, ctx)?;
    let ipmi = hwctl_ipmi::ipmi_from_config(shared, &cfg.ipmi).with_driver(NAME);
    let nm = NodeManager::with_location(Arc::new(IpmiTransport::new(ipmi.clone())), cfg.location);
    // Ironic's staging-nm is its ipmi type plus these vendor methods, console
    // included; ours opens a SOL session of its own, as the `ipmi` type's does.
    let console = IpmiConsole::new(ipmi.clone());
    Ok(hwctl_ipmi::node(NAME, &ipmi, ctx.clone())
        .with_console(Arc::new(console))
        .with_vendor(Arc::new(NmVendor::new(Arc::new(nm)))))
}

/// Reads a byte (decimal or `0x` hex) no greater than `max` from `name` into `v`.
pub(crate) fn byte(v: &mut Validator<'_>, name: &str, max: u8) -> Option<u8> {
    v.custom(name, |s| {
        let n = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u8::from_str_radix(hex, 16),
            None => s.parse::<u8>(),
        }
        .map_err(|_| "is not a byte (decimal or 0x hex)".to_owned())?;
        if n <= max {
            Ok(n)
        } else {
            Err(format!("is greater than 0x{max:02x}"))
        }
    })
}

pub use crate::config::{NM_PROPERTIES, properties};

/// Where Node Manager is, from `driver_info` (see [`NmConfig::read_location`]).
///
/// ```
/// use hwctl_core::DriverInfo;
/// use hwctl_nodemanager::{NmAddress, NmLocation, ipmi::location_from_driver_info};
/// let info = DriverInfo::from_pairs([("ipmi_target_channel", "0x06"), ("ipmi_target_address", "0x2c")]);
/// assert_eq!(location_from_driver_info(&info).unwrap(), NmLocation::Found(NmAddress::new(6, 0x2c)));
/// assert_eq!(location_from_driver_info(&DriverInfo::new()).unwrap(), NmLocation::Unknown);
/// ```
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::MissingParameter`] / [`hwctl_core::ErrorKind::InvalidParameter`]
/// for a half-stored or malformed location.
pub fn location_from_driver_info(info: &DriverInfo) -> Result<NmLocation> {
    let mut v = info.validator(NM_PROPERTIES);
    let location = NmConfig::read_location(&mut v);
    v.finish()?;
    Ok(location)
}
