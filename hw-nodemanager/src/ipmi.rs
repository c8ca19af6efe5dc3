//! Node Manager over `hw-ipmi`: [`IpmiTransport`] (bridged raw requests and SDR reads
//! on an [`hw_ipmi::Ipmi`] handle) and the `staging-nm` hardware type.

use std::fmt;
use std::sync::Arc;

use hw_core::{
    DriverInfo, Error, HardwareType, InterfaceKind, NodeContext, Property, Result, Validator,
    async_trait,
};
use hw_ipmi::{Bridge, ClientPool, Ipmi};

use crate::client::NodeManager;
use crate::discovery::NmLocation;
use crate::transport::{NmTransport, RawReply};
use crate::types::NmAddress;
use crate::vendor::NmVendor;

/// The hardware type's name (Ironic's).
pub const NAME: &str = "staging-nm";

/// Node Manager commands that only read, and so may be resent on a lost reply.
fn is_read(netfn: u8, cmd: u8) -> bool {
    netfn == crate::wire::NETFN_OEM_GROUP && matches!(cmd, 0xC2 | 0xC6 | 0xC8 | 0xC9 | 0xCA)
}

/// [`NmTransport`] over an IPMI session: requests go to the Node Manager address with
/// Send Message (through the node's transit controller when it is configured for dual
/// bridging); reads are retried by `hw-ipmi`, writes never resent.
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
    /// Node Manager behind the BMC `ipmi` talks to.
    pub fn new(ipmi: Ipmi) -> Self {
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
    ) -> Result<RawReply> {
        let bridge = match self.ipmi.bridge().and_then(|b| b.transit) {
            Some(transit) => Bridge::dual(transit, target.channel, target.address),
            None => Bridge::single(target.channel, target.address),
        };
        let client = self.ipmi.client();
        let r = if is_read(netfn, cmd) {
            client.read(Some(&bridge), netfn, cmd, data).await?
        } else {
            client.write(Some(&bridge), netfn, cmd, data).await?
        };
        Ok(RawReply {
            completion_code: r.cc,
            data: r.data,
        })
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

/// `driver_info` keys this crate reads besides `hw-ipmi`'s.
pub const NM_PROPERTIES: &[Property] = &[
    Property::optional(
        "intel_nm_channel",
        "Node Manager's IPMB channel as stored from an earlier discovery (Ironic's driver_internal_info key), or false if it was not found. Optional.",
    ),
    Property::optional(
        "intel_nm_address",
        "Node Manager's slave address as stored from an earlier discovery, or false. Optional.",
    ),
];

/// Every property of `staging-nm`: `hw-ipmi`'s, then [`NM_PROPERTIES`].
pub fn properties() -> Vec<Property> {
    hw_ipmi::PROPERTIES
        .iter()
        .chain(NM_PROPERTIES)
        .cloned()
        .collect()
}

fn byte(v: &mut Validator<'_>, name: &str, max: u8) -> Option<u8> {
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

/// Where Node Manager is, from `driver_info`: `intel_nm_channel`/`intel_nm_address`
/// (a stored discovery; both `false` = not present), else `ipmi_target_channel`/
/// `ipmi_target_address`, else unknown (discover from the SDR on first use).
///
/// ```
/// use hw_core::DriverInfo;
/// use hw_nodemanager::{NmAddress, NmLocation, ipmi::location_from_driver_info};
/// let info = DriverInfo::from_pairs([("ipmi_target_channel", "0x06"), ("ipmi_target_address", "0x2c")]);
/// assert_eq!(location_from_driver_info(&info).unwrap(), NmLocation::Found(NmAddress::new(6, 0x2c)));
/// assert_eq!(location_from_driver_info(&DriverInfo::new()).unwrap(), NmLocation::Unknown);
/// ```
pub fn location_from_driver_info(info: &DriverInfo) -> Result<NmLocation> {
    let mut v = info.validator(NM_PROPERTIES);
    let stored = |k: &str| info.get_str(k).map(|s| s.trim().to_ascii_lowercase());
    let location = match (stored("intel_nm_channel"), stored("intel_nm_address")) {
        (Some(c), Some(a)) if c == "false" && a == "false" => NmLocation::NotPresent,
        (Some(_), Some(_)) => {
            let c = byte(&mut v, "intel_nm_channel", 0x0F);
            let a = byte(&mut v, "intel_nm_address", 0xFF);
            c.zip(a)
                .map(|(c, a)| NmLocation::Found(NmAddress::new(c, a)))
                .unwrap_or_default()
        }
        (Some(_), None) => {
            v.missing("intel_nm_address");
            NmLocation::Unknown
        }
        (None, Some(_)) => {
            v.missing("intel_nm_channel");
            NmLocation::Unknown
        }
        (None, None) => {
            if info.contains("ipmi_target_channel") && info.contains("ipmi_target_address") {
                let c = byte(&mut v, "ipmi_target_channel", 0x0F);
                let a = byte(&mut v, "ipmi_target_address", 0xFF);
                c.zip(a)
                    .map(|(c, a)| NmLocation::Found(NmAddress::new(c, a)))
                    .unwrap_or_default()
            } else {
                NmLocation::Unknown
            }
        }
    };
    v.finish()?;
    Ok(location)
}

/// The `staging-nm` hardware type: `ipmi` power and management plus the Node Manager
/// vendor methods. Nodes built from one value share one IPMI session per BMC.
///
/// ```
/// use hw_core::{DriverInfo, NodeContext};
/// let ht = hw_nodemanager::hardware_type();
/// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_username", "admin")]);
/// let node = ht.build(&info, &NodeContext::new("n1")).unwrap();
/// assert_eq!(node.capabilities().vendor.len(), 11);
/// assert!(node.power().is_ok());
/// ```
pub fn hardware_type() -> HardwareType {
    let pool = ClientPool::new();
    HardwareType::new(
        NAME,
        "IPMI power and management plus Intel Node Manager policies and statistics as vendor methods.",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Vendor,
        ],
        properties(),
        move |info, ctx| build(&pool, info, ctx),
    )
}

fn build(pool: &ClientPool, info: &DriverInfo, ctx: &NodeContext) -> Result<hw_core::Node> {
    // Validate both halves so every problem is reported at once.
    let ipmi = hw_ipmi::ipmi_from_driver_info(pool, info, ctx);
    let location = location_from_driver_info(info);
    let (ipmi, location) = match (ipmi, location) {
        (Ok(i), Ok(l)) => (i, l),
        (Err(a), Err(b)) if !a.problems().is_empty() && !b.problems().is_empty() => {
            let mut problems = a.problems().to_vec();
            problems.extend(b.problems().iter().cloned());
            return Err(Error::from_problems(problems));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let nm = NodeManager::with_location(Arc::new(IpmiTransport::new(ipmi.clone())), location);
    Ok(hw_ipmi::node(NAME, &ipmi, ctx.clone()).with_vendor(Arc::new(NmVendor::new(Arc::new(nm)))))
}
