//! Typed configuration from `driver_info`.

use std::fmt;
use std::time::Duration;

use hwctl_core::secrecy::{ExposeSecret, SecretSlice};
use hwctl_core::{DriverInfo, MacAddress, NodeContext, Property, Result};

use crate::wire;

/// The default destination: the limited broadcast address, as Ironic.
/// ```
/// let config = hwctl_wol::WolConfig::new("n1", vec![]);
/// assert_eq!(config.host, hwctl_wol::config::DEFAULT_HOST);
/// ```
pub const DEFAULT_HOST: &str = "255.255.255.255";
/// The default UDP port (discard), as Ironic.
/// ```
/// let config = hwctl_wol::WolConfig::new("n1", vec![]);
/// assert_eq!(config.port, hwctl_wol::config::DEFAULT_PORT);
/// ```
pub const DEFAULT_PORT: u16 = 9;
/// The default pause between the packets of one node (one per port).
///
/// Ironic's 0.5 s is kept: it is paid only between the ports of a single node, is
/// nothing next to the time a machine takes to boot, and never holds up other
/// nodes (it is an async sleep). It also spaces out broadcasts so a switch or a NIC
/// that drops back-to-back frames still sees every packet.
/// ```
/// let config = hwctl_wol::WolConfig::new("n1", vec![]);
/// assert_eq!(config.packet_interval.as_millis(), 500);
/// assert_eq!(config.packet_interval, hwctl_wol::config::DEFAULT_PACKET_INTERVAL);
/// ```
pub const DEFAULT_PACKET_INTERVAL: Duration = Duration::from_millis(500);

/// The `driver_info` properties `staging-wol` reads (all optional: the node's
/// ports are what it needs).
/// ```
/// let password = hwctl_wol::config::PROPERTIES
///     .iter()
///     .find(|p| p.name == "wol_secureon_password")
///     .unwrap();
/// assert!(password.secret && !password.required);
/// assert!(hwctl_wol::config::PROPERTIES.iter().all(|p| p.name.starts_with("wol_")));
/// ```
pub const PROPERTIES: &[Property] = &[
    Property::optional(
        "wol_host",
        "Destination IP address or host name of the magic packets (usually a broadcast address).",
    )
    .default_value(DEFAULT_HOST),
    Property::optional("wol_port", "Destination UDP port of the magic packets.")
        .default_value("9"),
    Property::optional(
        "wol_packet_interval_ms",
        "Pause between the packets of one node (one per port), in milliseconds, 0 to 60000.",
    )
    .default_value("500"),
    Property::optional(
        "wol_power_off",
        "What power off does: `record` (Ironic's behaviour: log that manual intervention is needed and record the node as off) or `unsupported` (fail with an Unsupported error).",
    )
    .default_value("record"),
    Property::optional(
        "wol_secureon_password",
        "SecureOn password appended to the packet: 6 bytes in MAC notation or 4 bytes as a dotted quad or 8 hex digits.",
    )
    .secret(),
];

/// What `set_power_state(Off)` does on a device that cannot be powered off.
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_wol::{PowerOffMode, WolConfig};
/// let ctx = NodeContext::new("n1").with_port("52:54:00:cf:2d:31".parse()?);
/// let info = DriverInfo::from_pairs([("wol_power_off", "unsupported")]);
/// assert_eq!(WolConfig::from_driver_info(&info, &ctx)?.power_off, PowerOffMode::Unsupported);
/// assert_eq!(WolConfig::new("n1", vec![]).power_off, PowerOffMode::Record);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PowerOffMode {
    /// Ironic's behaviour: log a warning that manual intervention is required and
    /// record the node as off. `Off` is among the capabilities' targets.
    #[default]
    Record,
    /// Fail with [`ErrorKind::Unsupported`](hwctl_core::ErrorKind::Unsupported);
    /// `Off` is not among the capabilities' targets.
    Unsupported,
}

/// Everything [`WolPower`](crate::WolPower) needs.
///
/// `Debug` never prints the SecureOn password.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let ctx = NodeContext::new("n1").with_port("52:54:00:cf:2d:31".parse().unwrap());
/// let info = DriverInfo::from_pairs([("wol_host", "192.0.2.255"), ("wol_port", "7")]);
/// let config = hwctl_wol::WolConfig::from_driver_info(&info, &ctx).unwrap();
/// assert_eq!(config.port, 7);
/// assert_eq!(config.macs.len(), 1);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WolConfig {
    /// The node id (for logs, errors and the state store).
    pub node_id: String,
    /// Destination host (IP address or name, resolved when sending).
    pub host: String,
    /// Destination UDP port.
    pub port: u16,
    /// The MACs to wake, one packet each.
    pub macs: Vec<MacAddress>,
    /// Pause between two packets of this node.
    pub packet_interval: Duration,
    /// What power off does.
    pub power_off: PowerOffMode,
    secureon: Option<SecretSlice<u8>>,
}

impl fmt::Debug for WolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WolConfig")
            .field("node_id", &self.node_id)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("macs", &self.macs)
            .field("packet_interval", &self.packet_interval)
            .field("power_off", &self.power_off)
            .field("secureon", &self.secureon.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl WolConfig {
    /// A configuration with Ironic's defaults for these MACs.
    ///
    /// ```
    /// let mac = "52:54:00:cf:2d:31".parse().unwrap();
    /// let config = hwctl_wol::WolConfig::new("n1", vec![mac]).with_destination("127.0.0.1", 9999);
    /// assert_eq!(config.host, "127.0.0.1");
    /// ```
    pub fn new(node_id: impl Into<String>, macs: Vec<MacAddress>) -> Self {
        WolConfig {
            node_id: node_id.into(),
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
            macs,
            packet_interval: DEFAULT_PACKET_INTERVAL,
            power_off: PowerOffMode::default(),
            secureon: None,
        }
    }

    /// Sets the destination host and port.
    /// ```
    /// let config = hwctl_wol::WolConfig::new("n1", vec![]).with_destination("192.0.2.255", 7);
    /// assert_eq!((config.host.as_str(), config.port), ("192.0.2.255", 7));
    /// ```
    pub fn with_destination(mut self, host: impl Into<String>, port: u16) -> Self {
        self.host = host.into();
        self.port = port;
        self
    }

    /// Sets the pause between packets.
    /// ```
    /// use std::time::Duration;
    /// let config = hwctl_wol::WolConfig::new("n1", vec![]).with_packet_interval(Duration::ZERO);
    /// assert_eq!(config.packet_interval, Duration::ZERO);
    /// ```
    pub fn with_packet_interval(mut self, interval: Duration) -> Self {
        self.packet_interval = interval;
        self
    }

    /// Sets what power off does.
    /// ```
    /// use hwctl_wol::{PowerOffMode, WolConfig};
    /// let config = WolConfig::new("n1", vec![]).with_power_off(PowerOffMode::Unsupported);
    /// assert_eq!(config.power_off, PowerOffMode::Unsupported);
    /// ```
    pub fn with_power_off(mut self, mode: PowerOffMode) -> Self {
        self.power_off = mode;
        self
    }

    /// Sets a SecureOn password (4 or 6 bytes).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
    /// `wol_secureon_password` for any other length (the value is not echoed).
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_wol::WolConfig;
    /// let config = WolConfig::new("n1", vec![]).with_secureon_password(&[1, 2, 3, 4])?;
    /// assert!(format!("{config:?}").contains("[REDACTED]"));
    /// let e = WolConfig::new("n1", vec![]).with_secureon_password(&[1, 2, 3, 4, 5]).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_secureon_password(mut self, password: &[u8]) -> Result<Self> {
        // Validate the length once, here, with a dummy MAC.
        wire::MagicPacket::with_secureon(MacAddress::new([0; 6]), password)?;
        self.secureon = Some(SecretSlice::from(password.to_vec()));
        Ok(self)
    }

    /// The SecureOn password, if any.
    pub(crate) fn secureon(&self) -> Option<&[u8]> {
        self.secureon.as_ref().map(|s| s.expose_secret())
    }

    /// Reads `driver_info` and the node's ports, reporting every problem at once.
    ///
    /// At least one port MAC is required (a missing-parameter error naming `ports`);
    /// `wol_host` must be an IP address or a valid host name (whether the name
    /// resolves is checked when sending, as no I/O happens here); `wol_port` 1–65535.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) naming
    /// `ports` when the node has no port MAC (with any bad value listed too), else
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
    /// every bad key at once.
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<Self> {
        let mut v = info.validator(PROPERTIES);
        if ctx.ports.is_empty() {
            v.missing("ports");
        }
        let host = v.host("wol_host");
        let port = v.port("wol_port");
        let interval = v.int_in_range("wol_packet_interval_ms", 0, 60_000);
        let off = v.one_of("wol_power_off", &["record", "unsupported"]);
        let secureon = v.custom("wol_secureon_password", wire::parse_secureon);
        v.finish()?;
        let mut config = WolConfig::new(ctx.id.clone(), ctx.ports.clone());
        config.host = host.unwrap_or_else(|| DEFAULT_HOST.to_owned());
        config.port = port.unwrap_or(DEFAULT_PORT);
        config.packet_interval = interval
            .map(|ms| Duration::from_millis(ms.unsigned_abs()))
            .unwrap_or(DEFAULT_PACKET_INTERVAL);
        config.power_off = match off {
            Some("unsupported") => PowerOffMode::Unsupported,
            _ => PowerOffMode::Record,
        };
        config.secureon = secureon.map(SecretSlice::from);
        Ok(config)
    }
}
