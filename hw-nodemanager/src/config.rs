//! [`NmConfig`]: what a `staging-nm` node is built from — `hwctl-ipmi`'s
//! [`IpmiConfig`] and where Node Manager sits — read from `driver_info` into one
//! validator, so every problem of both halves is reported at once under the key the
//! user wrote.

use std::fmt;

use hwctl_core::{DriverInfo, Error, ErrorKind, NodeContext, Property, Result, Validator};
use hwctl_ipmi::IpmiConfig;

use crate::discovery::NmLocation;
use crate::ipmi::byte;
use crate::types::NmAddress;

/// `driver_info` keys this crate reads besides `hwctl-ipmi`'s.
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

/// Every property of `staging-nm`: `hwctl-ipmi`'s, then [`NM_PROPERTIES`].
///
/// ```
/// let props = hwctl_nodemanager::config::properties();
/// assert!(props.iter().any(|p| p.name == "ipmi_address"));
/// assert!(props.iter().any(|p| p.name == "intel_nm_channel"));
/// ```
pub fn properties() -> Vec<Property> {
    hwctl_ipmi::PROPERTIES
        .iter()
        .chain(NM_PROPERTIES)
        .cloned()
        .collect()
}

fn parse_byte(s: &str) -> Option<u8> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A `staging-nm` node's configuration. `Debug` never prints the password (it is
/// [`IpmiConfig`]'s).
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_nodemanager::{NmAddress, NmConfig, NmLocation};
/// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_password", "pw-9"),
///     ("intel_nm_channel", "6"), ("intel_nm_address", "0x2c")]);
/// let cfg = NmConfig::from_driver_info(&info, &NodeContext::new("n1")).unwrap();
/// assert_eq!(cfg.location, NmLocation::Found(NmAddress::new(6, 0x2c)));
/// assert!(!format!("{cfg:?}").contains("pw-9"));
/// // Problems of both halves at once:
/// let bad = DriverInfo::from_pairs([("ipmi_port", "0"), ("intel_nm_channel", "99"), ("intel_nm_address", "1")]);
/// let err = NmConfig::from_driver_info(&bad, &NodeContext::new("n1")).unwrap_err();
/// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
/// assert_eq!(names, ["ipmi_address", "ipmi_port", "intel_nm_channel"]);
/// ```
#[derive(Clone)]
pub struct NmConfig {
    /// The BMC session (`ipmi_*` keys).
    pub ipmi: IpmiConfig,
    /// Where Node Manager is (`intel_nm_*`, else `ipmi_target_*`, else unknown:
    /// discovered from the SDR on first use).
    pub location: NmLocation,
}

impl fmt::Debug for NmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NmConfig")
            .field("ipmi", &self.ipmi)
            .field("location", &self.location)
            .finish()
    }
}

impl NmConfig {
    /// Builds from `driver_info`, reporting every problem (of the IPMI keys and the
    /// Node Manager keys) at once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`] / [`ErrorKind::InvalidParameter`] listing every
    /// problem (a secret's value is never echoed).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext};
    /// use hwctl_nodemanager::{NmAddress, NmConfig, NmLocation};
    /// let info = DriverInfo::from_pairs([
    ///     ("ipmi_address", "10.0.0.5"), ("ipmi_username", "admin"), ("ipmi_password", "pw"),
    ///     ("intel_nm_channel", "6"), ("intel_nm_address", "0x2c"),
    /// ]);
    /// let c = NmConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
    /// assert_eq!(c.location, NmLocation::Found(NmAddress::new(6, 0x2c)));
    /// let half = DriverInfo::from_pairs([("ipmi_address", "10.0.0.5"), ("intel_nm_channel", "6")]);
    /// let err = NmConfig::from_driver_info(&half, &NodeContext::new("n1")).unwrap_err();
    /// assert!(err.to_string().contains("intel_nm_address"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<NmConfig> {
        let _ = ctx;
        let props = properties();
        // Node Manager owns `intel_nm_*`, not every `intel_` key.
        let mut v = info
            .validator(&props)
            .with_namespaces(&["ipmi_", "intel_nm_"]);
        let ipmi = IpmiConfig::read(&mut v);
        let location = NmConfig::read_location(&mut v);
        v.finish()?;
        let ipmi =
            ipmi.ok_or_else(|| Error::new(ErrorKind::Other, "IPMI configuration not read"))?;
        Ok(NmConfig { ipmi, location })
    }

    /// Reads where Node Manager is into `v`: `intel_nm_channel`/`intel_nm_address`
    /// (a stored discovery; both `false` = not present), else `ipmi_target_channel`/
    /// `ipmi_target_address`, else unknown. Problems are recorded in `v`.
    pub fn read_location(v: &mut Validator<'_>) -> NmLocation {
        let info = v.info();
        let stored = |k: &str| info.get_str(k).map(|s| s.trim().to_ascii_lowercase());
        match (stored("intel_nm_channel"), stored("intel_nm_address")) {
            (Some(c), Some(a)) if c == "false" && a == "false" => NmLocation::NotPresent,
            (Some(_), Some(_)) => {
                let c = byte(v, "intel_nm_channel", 0x0F);
                let a = byte(v, "intel_nm_address", 0xFF);
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
                if v.is_set("ipmi_target_channel") && v.is_set("ipmi_target_address") {
                    let bridged = matches!(
                        info.get_str("ipmi_bridging").as_deref().map(str::trim),
                        Some("single" | "dual")
                    );
                    let (c, a) = if bridged {
                        // IpmiConfig::read checks these when bridging is on: read
                        // them quietly here so a problem is reported once.
                        let quiet = |k: &str| info.get_str(k).and_then(|s| parse_byte(&s));
                        (
                            quiet("ipmi_target_channel").filter(|c| *c <= 0x0F),
                            quiet("ipmi_target_address"),
                        )
                    } else {
                        (
                            byte(v, "ipmi_target_channel", 0x0F),
                            byte(v, "ipmi_target_address", 0xFF),
                        )
                    };
                    c.zip(a)
                        .map(|(c, a)| NmLocation::Found(NmAddress::new(c, a)))
                        .unwrap_or_default()
                } else {
                    NmLocation::Unknown
                }
            }
        }
    }
}
