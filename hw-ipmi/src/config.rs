//! Typed configuration built from Ironic's `ipmi_*` `driver_info` keys.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use hwctl_core::poll::Backoff;
use hwctl_core::retry::RetryPolicy;
use hwctl_core::shared::EndpointKey;
use hwctl_core::{
    DriverInfo, Error, ErrorKind, ExposeSecret, NodeContext, Property, Result, SecretString,
    Validator,
};

/// The `driver_info` properties of the `ipmi` hardware type (Ironic's names).
pub const PROPERTIES: &[Property] = &[
    Property::required(
        "ipmi_address",
        "IP address or host name of the BMC: IPv4, IPv6 with or without brackets and zone \
         (fe80::1%eth0), or a host name. Required.",
    ),
    Property::optional("ipmi_port", "UDP port of the BMC's RMCP+ service. Optional.")
        .default_value("623"),
    Property::optional(
        "ipmi_username",
        "User name; empty for the anonymous (null) user. Optional.",
    ),
    Property::optional("ipmi_password", "Password (at most 20 bytes). Optional.").secret(),
    Property::optional(
        "ipmi_hex_kg_key",
        "The BMC key Kg in hex (at most 40 hex digits = 20 bytes; IPMI 2.0 §13.31): \
         RMCP+ generates the session key from it on a BMC that sets one. When absent (or \
         all zeros) the password is used, as on BMCs without a Kg. Optional.",
    )
    .secret(),
    Property::optional(
        "ipmi_priv_level",
        "Privilege level of the session: CALLBACK, USER, OPERATOR or ADMINISTRATOR. Optional.",
    )
    .default_value("ADMINISTRATOR"),
    Property::optional(
        "ipmi_cipher_suite",
        "RMCP+ cipher suite: 3 (HMAC-SHA1, AES-CBC-128) or 17 (HMAC-SHA256, AES-CBC-128); \
         when absent, chosen from the suites the BMC lists (17, else 3). Other numbers are \
         accepted and reported unsupported when a session is opened. Optional.",
    ),
    Property::optional(
        "ipmi_bridging",
        "Bridging: no, single or dual (Send Message to ipmi_target_*, through ipmi_transit_* for dual). Optional.",
    )
    .default_value("no"),
    Property::optional(
        "ipmi_target_channel",
        "Destination channel of bridged requests. Required for single and dual bridging.",
    ),
    Property::optional(
        "ipmi_target_address",
        "Destination slave address of bridged requests. Required for single and dual bridging.",
    ),
    Property::optional(
        "ipmi_transit_channel",
        "Transit channel of dual-bridged requests. Required for dual bridging.",
    ),
    Property::optional(
        "ipmi_transit_address",
        "Transit slave address of dual-bridged requests. Required for dual bridging.",
    ),
    Property::optional(
        "ipmi_command_retry_timeout",
        "Seconds one operation may take in all, retries included: busy-type refusals \
         (no free session slot, node busy, BMC initializing) are retried with backoff \
         within it (Ironic's [ipmi]command_retry_timeout). A silent BMC costs at most \
         request timeout × (retries + 1) of it. Optional.",
    )
    .default_value("60"),
    Property::optional(
        "ipmi_disable_boot_timeout",
        "Disable the BMC's 60-second boot-flag timer (IPMI 2.0 §28.12, Set System Boot \
         Options parameter 3) before setting the boot device, so the device is not lost \
         when no chassis control follows within 60 s (Ironic's key). Optional.",
    )
    .default_value("true"),
    Property::optional(
        "ipmi_local_address",
        "Our slave address on the bridged bus (requester address of bridged requests). Optional.",
    )
    .default_value("0x20"),
    Property::optional(
        "ipmi_protocol_version",
        "IPMI protocol version: only 2.0 (RMCP+) is spoken; 1.5 is refused. Optional.",
    )
    .default_value("2.0"),
    Property::optional(
        "ipmi_force_boot_device",
        "Ironic's \"send the boot device again at every power-on\": only false is \
         accepted; for a BMC that forgets the boot device use \
         force_persistent_boot_device=Always. Optional.",
    )
    .default_value("false"),
    Property::optional(
        "ipmi_terminal_port",
        "Ironic's console proxy port (shellinabox/socat). Accepted and not used: hw \
         speaks IPMI Serial over LAN itself (hwctl console), and no proxy listens on \
         that port. Optional.",
    )
    .unused(
        "it is Ironic's console proxy port (shellinabox/socat); hw speaks IPMI Serial over \
         LAN itself (hwctl console), and no proxy listens on that port",
    ),
];

/// An RMCP+ cipher suite this crate speaks.
///
/// ```
/// use hwctl_ipmi::CipherSuite;
/// let s = CipherSuite::Suite17;
/// assert_eq!(
///     (s.auth_algorithm(), s.integrity_algorithm(), s.confidentiality_algorithm()),
///     (0x03, 0x04, 0x01), // RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128
/// );
/// assert_eq!(s.to_string(), "17");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// Suite 3: RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128.
    Suite3,
    /// Suite 17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128.
    Suite17,
}

impl CipherSuite {
    /// The suite's number (3 or 17).
    pub fn id(self) -> u8 {
        match self {
            CipherSuite::Suite3 => 3,
            CipherSuite::Suite17 => 17,
        }
    }

    /// The suite with number `id`, if supported.
    ///
    /// ```
    /// use hwctl_ipmi::CipherSuite;
    /// assert_eq!(CipherSuite::from_id(3), Some(CipherSuite::Suite3));
    /// assert_eq!(CipherSuite::from_id(17).map(CipherSuite::id), Some(17));
    /// assert_eq!(CipherSuite::from_id(0), None); // no authentication: not spoken
    /// ```
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            3 => Some(CipherSuite::Suite3),
            17 => Some(CipherSuite::Suite17),
            _ => None,
        }
    }

    /// Authentication algorithm number (RAKP-HMAC-SHA1 = 1, RAKP-HMAC-SHA256 = 3).
    pub fn auth_algorithm(self) -> u8 {
        match self {
            CipherSuite::Suite3 => 0x01,
            CipherSuite::Suite17 => 0x03,
        }
    }

    /// Integrity algorithm number (HMAC-SHA1-96 = 1, HMAC-SHA256-128 = 4).
    pub fn integrity_algorithm(self) -> u8 {
        match self {
            CipherSuite::Suite3 => 0x01,
            CipherSuite::Suite17 => 0x04,
        }
    }

    /// Confidentiality algorithm number (AES-CBC-128 = 1).
    pub fn confidentiality_algorithm(self) -> u8 {
        0x01
    }

    /// Length of the RAKP HMACs (20 or 32).
    ///
    /// ```
    /// use hwctl_ipmi::CipherSuite;
    /// assert_eq!(CipherSuite::Suite3.hmac_len(), 20); // SHA-1
    /// assert_eq!(CipherSuite::Suite17.hmac_len(), 32); // SHA-256
    /// ```
    pub fn hmac_len(self) -> usize {
        match self {
            CipherSuite::Suite3 => 20,
            CipherSuite::Suite17 => 32,
        }
    }

    /// Length of the truncated per-packet integrity code (12 or 16).
    ///
    /// ```
    /// use hwctl_ipmi::CipherSuite;
    /// assert_eq!(CipherSuite::Suite3.auth_code_len(), 12); // HMAC-SHA1-96
    /// assert_eq!(CipherSuite::Suite17.auth_code_len(), 16); // HMAC-SHA256-128
    /// ```
    pub fn auth_code_len(self) -> usize {
        match self {
            CipherSuite::Suite3 => 12,
            CipherSuite::Suite17 => 16,
        }
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id())
    }
}

/// An IPMI privilege level, ordered from least to most privileged; parsed from
/// Ironic's names (any case, `ADMIN` too).
///
/// ```
/// use hwctl_ipmi::PrivilegeLevel;
/// let p: PrivilegeLevel = "operator".parse()?;
/// assert_eq!(p, PrivilegeLevel::Operator);
/// assert!(p < PrivilegeLevel::Administrator);
/// let err = "root".parse::<PrivilegeLevel>().unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrivilegeLevel {
    /// CALLBACK (1).
    Callback,
    /// USER (2): reads.
    User,
    /// OPERATOR (3): chassis control, boot options.
    Operator,
    /// ADMINISTRATOR (4).
    Administrator,
}

impl PrivilegeLevel {
    /// The level's number on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            PrivilegeLevel::Callback => 1,
            PrivilegeLevel::User => 2,
            PrivilegeLevel::Operator => 3,
            PrivilegeLevel::Administrator => 4,
        }
    }

    /// The level with number `n`.
    ///
    /// ```
    /// use hwctl_ipmi::PrivilegeLevel;
    /// assert_eq!(PrivilegeLevel::from_u8(4), Some(PrivilegeLevel::Administrator));
    /// assert_eq!(PrivilegeLevel::from_u8(2).map(PrivilegeLevel::as_u8), Some(2));
    /// assert_eq!(PrivilegeLevel::from_u8(5), None); // OEM proprietary: not accepted
    /// ```
    pub fn from_u8(n: u8) -> Option<Self> {
        match n {
            1 => Some(PrivilegeLevel::Callback),
            2 => Some(PrivilegeLevel::User),
            3 => Some(PrivilegeLevel::Operator),
            4 => Some(PrivilegeLevel::Administrator),
            _ => None,
        }
    }

    /// Ironic's name (`ADMINISTRATOR`, …), also what `Display` writes.
    ///
    /// ```
    /// use hwctl_ipmi::PrivilegeLevel;
    /// assert_eq!(PrivilegeLevel::User.as_str(), "USER");
    /// assert_eq!(PrivilegeLevel::Administrator.to_string(), "ADMINISTRATOR");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            PrivilegeLevel::Callback => "CALLBACK",
            PrivilegeLevel::User => "USER",
            PrivilegeLevel::Operator => "OPERATOR",
            PrivilegeLevel::Administrator => "ADMINISTRATOR",
        }
    }
}

impl FromStr for PrivilegeLevel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CALLBACK" => Ok(PrivilegeLevel::Callback),
            "USER" => Ok(PrivilegeLevel::User),
            "OPERATOR" => Ok(PrivilegeLevel::Operator),
            "ADMINISTRATOR" | "ADMIN" => Ok(PrivilegeLevel::Administrator),
            _ => Err(Error::invalid_parameter(
                "ipmi_priv_level",
                format!("{s:?} is not one of CALLBACK, USER, OPERATOR, ADMINISTRATOR"),
            )),
        }
    }
}

impl fmt::Display for PrivilegeLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where bridged requests go: Send Message (App 0x34) to `address` on `channel`,
/// through the controller `transit = (channel, address)` for dual bridging.
///
/// ```
/// let nm = hwctl_ipmi::Bridge::single(6, 0x2c);
/// assert_eq!(nm.transit, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bridge {
    /// Destination channel (`ipmi_target_channel`).
    pub channel: u8,
    /// Destination slave address (`ipmi_target_address`).
    pub address: u8,
    /// Transit `(channel, address)` for dual bridging (`ipmi_transit_*`).
    pub transit: Option<(u8, u8)>,
}

impl Bridge {
    /// Single bridging to `address` on `channel`.
    pub fn single(channel: u8, address: u8) -> Self {
        Bridge {
            channel,
            address,
            transit: None,
        }
    }

    /// Dual bridging: through `transit = (channel, address)` to `address` on `channel`.
    ///
    /// ```
    /// let b = hwctl_ipmi::Bridge::dual((7, 0x72), 0, 0x2c);
    /// assert_eq!(b.transit, Some((7, 0x72)));
    /// assert_eq!((b.channel, b.address), (0, 0x2c));
    /// ```
    pub fn dual(transit: (u8, u8), channel: u8, address: u8) -> Self {
        Bridge {
            channel,
            address,
            transit: Some(transit),
        }
    }
}

/// Which cipher suite to use (`ipmi_cipher_suite`; absent is `Auto`).
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_ipmi::{CipherSuite, IpmiConfig, SuiteChoice};
/// let cfg = |suite: &str| {
///     let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_cipher_suite", suite)]);
///     IpmiConfig::from_driver_info(&info, &NodeContext::new("n1")).map(|c| c.cipher_suite)
/// };
/// assert_eq!(cfg("3")?, SuiteChoice::Only(CipherSuite::Suite3));
/// assert_eq!(cfg("1")?, SuiteChoice::Other(1)); // accepted; opening a session says Unsupported
/// assert_eq!(IpmiConfig::new("10.0.0.9").cipher_suite, SuiteChoice::Auto);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuiteChoice {
    /// Try suite 17, fall back to 3 when the BMC has no suite 17 (the default).
    Auto,
    /// Only this suite.
    Only(CipherSuite),
    /// A suite number Ironic passes through that this crate does not speak
    /// (anything but 3 and 17): opening a session fails `Unsupported`, naming the
    /// suites the BMC offers.
    Other(u8),
}

/// The BMC key Kg of IPMI 2.0 §13.31 (`ipmi_hex_kg_key`): up to 20 bytes, from
/// which RMCP+ generates the session integrity key when the BMC sets one (a null,
/// all-zero Kg means the user's password key is used instead). A secret: `Debug`
/// never prints it and parse errors never echo it.
///
/// ```
/// use hwctl_ipmi::BmcKey;
/// let kg = BmcKey::from_hex("0123456789ABCDEF0123456789abcdef01234567").unwrap();
/// assert_eq!(format!("{kg:?}"), "BmcKey(<redacted>)");
/// assert!(BmcKey::from_hex("0123456789abcdef0123456789abcdef0123456789").is_err()); // 21 bytes
/// assert!(BmcKey::from_hex("abc").is_err()); // odd number of digits
/// assert!(BmcKey::from_hex("zz").is_err());
/// ```
#[derive(Clone)]
pub struct BmcKey(SecretString);

impl BmcKey {
    /// Parses a key written as hex digits (either case; an even number, at most
    /// 40; no `0x`), as Ironic's `ipmi_hex_kg_key` and ipmitool's `-y` take it.
    ///
    /// # Errors
    ///
    /// The reason, as text for `Validator::custom` (it never contains the key):
    /// empty, not hexadecimal, an odd number of digits, or more than 20 bytes.
    pub fn from_hex(hex: &str) -> std::result::Result<BmcKey, String> {
        let t = hex.trim();
        if t.is_empty() {
            return Err("is empty (remove the key when the BMC has no Kg)".to_owned());
        }
        if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("is not hexadecimal (the BMC key Kg as hex digits, no 0x)".to_owned());
        }
        if !t.len().is_multiple_of(2) {
            return Err(format!("has an odd number of hex digits ({})", t.len()));
        }
        if t.len() > 40 {
            return Err(format!(
                "is {} bytes; the BMC key Kg is at most 20 bytes (40 hex digits)",
                t.len() / 2
            ));
        }
        Ok(BmcKey(SecretString::from(t.to_ascii_lowercase())))
    }

    /// The key's bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let hex = self.0.expose_secret().as_bytes();
        hex.chunks_exact(2)
            .map(|p| {
                let d = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                (d(p[0]) << 4) | d(p[1])
            })
            .collect()
    }
}

impl fmt::Debug for BmcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BmcKey(<redacted>)")
    }
}

/// Everything needed to talk to one BMC, and how the node uses it.
///
/// Nodes on one BMC share its session when their session fields agree (host, port,
/// user, password, BMC key, privilege, cipher suite, local bridging address and
/// keep-alive interval: [`IpmiConfig::endpoint_key`]). The other fields are the
/// node's own on every call, whichever node opened the session: `bridge`,
/// `request_timeout`, `retries`, `min_interval`, `poll_interval`,
/// `disable_boot_timeout` and `command_retry_timeout`.
///
/// `Debug` prints every field but the password (`<redacted>`).
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_username", "admin"),
///     ("ipmi_password", "pw"), ("ipmi_cipher_suite", "17")]);
/// let cfg = hwctl_ipmi::IpmiConfig::from_driver_info(&info, &NodeContext::new("n1")).unwrap();
/// assert_eq!(cfg.port, 623);
/// assert_eq!(cfg.priv_level, hwctl_ipmi::PrivilegeLevel::Administrator);
/// assert!(!format!("{cfg:?}").contains("pw\""));
/// ```
#[derive(Clone)]
pub struct IpmiConfig {
    /// BMC host (`ipmi_address`).
    pub host: String,
    /// BMC UDP port (`ipmi_port`, 623).
    pub port: u16,
    /// User name (`ipmi_username`), empty for the null user.
    pub username: String,
    /// Password (`ipmi_password`).
    pub password: SecretString,
    /// The BMC key Kg (`ipmi_hex_kg_key`); `None` uses the password, as IPMI does
    /// when a BMC has no Kg.
    pub kg: Option<BmcKey>,
    /// Session privilege (`ipmi_priv_level`, ADMINISTRATOR).
    pub priv_level: PrivilegeLevel,
    /// Cipher suite (`ipmi_cipher_suite`).
    pub cipher_suite: SuiteChoice,
    /// Where this node's requests are bridged (`ipmi_bridging` and friends).
    pub bridge: Option<Bridge>,
    /// Our slave address on a bridged bus (`ipmi_local_address`, 0x20).
    pub local_address: u8,
    /// How long to wait for one reply before retransmitting or failing (this
    /// node's operations; the keep-alive uses that of the node that opened the
    /// session).
    pub request_timeout: Duration,
    /// Extra attempts for reads (writes are never resent).
    pub retries: u32,
    /// Minimum time between this node's request and the previous request to this
    /// BMC (by any node sharing the session).
    pub min_interval: Duration,
    /// Idle time after which a keep-alive (Get Device ID) is sent. A setting of
    /// the session: nodes that differ in it do not share one.
    pub keepalive_interval: Duration,
    /// How often the power state is polled while a change is confirmed.
    pub poll_interval: Duration,
    /// Disable the BMC's 60-second boot-flag timer before setting the boot
    /// device (`ipmi_disable_boot_timeout`, true).
    pub disable_boot_timeout: bool,
    /// The longest one operation takes, retries included
    /// (`ipmi_command_retry_timeout`, 60 s): busy-type refusals are retried
    /// within it; silence is bounded by [`IpmiConfig::silence_budget`] inside it.
    pub command_retry_timeout: Duration,
}

impl fmt::Debug for IpmiConfig {
    /// Every field, the password as `<redacted>`. The destructuring names every
    /// field: one added to the struct without a line here does not compile.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let IpmiConfig {
            host,
            port,
            username,
            password: _,
            kg,
            priv_level,
            cipher_suite,
            bridge,
            local_address,
            request_timeout,
            retries,
            min_interval,
            keepalive_interval,
            poll_interval,
            disable_boot_timeout,
            command_retry_timeout,
        } = self;
        f.debug_struct("IpmiConfig")
            .field("host", host)
            .field("port", port)
            .field("username", username)
            .field("password", &"<redacted>")
            .field("kg", kg)
            .field("priv_level", priv_level)
            .field("cipher_suite", cipher_suite)
            .field("bridge", bridge)
            .field("local_address", local_address)
            .field("request_timeout", request_timeout)
            .field("retries", retries)
            .field("min_interval", min_interval)
            .field("keepalive_interval", keepalive_interval)
            .field("poll_interval", poll_interval)
            .field("disable_boot_timeout", disable_boot_timeout)
            .field("command_retry_timeout", command_retry_timeout)
            .finish()
    }
}

fn parse_byte(s: &str) -> std::result::Result<u8, String> {
    let t = s.trim();
    let parsed = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u8::from_str_radix(hex, 16)
    } else {
        t.parse::<u8>()
    };
    parsed.map_err(|_| "is not a byte (0 to 255, decimal or 0x hex)".to_owned())
}

impl IpmiConfig {
    /// A config for `host` with defaults for everything else (port 623, null user,
    /// ADMINISTRATOR, suite auto, no bridging).
    ///
    /// ```
    /// use std::time::Duration;
    /// let cfg = hwctl_ipmi::IpmiConfig::new("bmc1.example.net");
    /// assert_eq!((cfg.host.as_str(), cfg.port), ("bmc1.example.net", 623));
    /// assert!(cfg.username.is_empty() && cfg.bridge.is_none());
    /// assert_eq!((cfg.request_timeout, cfg.retries), (Duration::from_secs(2), 3));
    /// assert_eq!(cfg.command_retry_timeout, Duration::from_secs(60));
    /// ```
    pub fn new(host: impl Into<String>) -> Self {
        IpmiConfig {
            host: host.into(),
            port: 623,
            username: String::new(),
            password: SecretString::from(String::new()),
            kg: None,
            priv_level: PrivilegeLevel::Administrator,
            cipher_suite: SuiteChoice::Auto,
            bridge: None,
            local_address: 0x20,
            request_timeout: Duration::from_secs(2),
            retries: 3,
            min_interval: Duration::ZERO,
            keepalive_interval: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            disable_boot_timeout: true,
            command_retry_timeout: Duration::from_secs(60),
        }
    }

    /// Builds from `driver_info`, reporting every problem at once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`] / [`ErrorKind::InvalidParameter`] listing
    /// every problem (a secret's value is never echoed).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// use hwctl_ipmi::IpmiConfig;
    /// let ctx = NodeContext::new("n1");
    /// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_port", "6230"),
    ///     ("ipmi_priv_level", "OPERATOR"), ("ipmi_bridging", "single"),
    ///     ("ipmi_target_channel", "6"), ("ipmi_target_address", "0x2c")]);
    /// let cfg = IpmiConfig::from_driver_info(&info, &ctx)?;
    /// assert_eq!(cfg.port, 6230);
    /// assert_eq!(cfg.priv_level, hwctl_ipmi::PrivilegeLevel::Operator);
    /// assert_eq!(cfg.bridge, Some(hwctl_ipmi::Bridge::single(6, 0x2c)));
    /// // No address: missing. A bad port and a bad key: both reported at once.
    /// let none = DriverInfo::from_pairs([("ipmi_username", "admin")]);
    /// let err = IpmiConfig::from_driver_info(&none, &ctx).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// let bad = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_port", "70000"),
    ///     ("ipmi_hex_kg_key", "not-hex")]);
    /// let err = IpmiConfig::from_driver_info(&bad, &ctx).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// let text = err.to_string();
    /// assert!(text.contains("ipmi_port") && text.contains("ipmi_hex_kg_key"));
    /// assert!(!text.contains("not-hex")); // a secret is never echoed
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<IpmiConfig> {
        let _ = ctx;
        let mut v = info.validator(PROPERTIES);
        let cfg = IpmiConfig::read(&mut v);
        v.finish()?;
        cfg.ok_or_else(|| Error::new(ErrorKind::Other, "IPMI configuration not read"))
    }

    /// Reads the `ipmi_*` keys into `v`, recording every problem there (so a crate
    /// that adds its own keys, such as `hwctl-nodemanager`, reports all problems at
    /// once, each under the key the user wrote). `None` when `v` holds a problem
    /// (of these keys or recorded before).
    ///
    /// ```
    /// use hwctl_core::DriverInfo;
    /// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.9"), ("ipmi_port", "0")]);
    /// let mut v = info.validator(hwctl_ipmi::PROPERTIES);
    /// assert!(hwctl_ipmi::IpmiConfig::read(&mut v).is_none());
    /// assert!(v.finish().unwrap_err().to_string().contains("ipmi_port"));
    /// ```
    pub fn read(v: &mut Validator<'_>) -> Option<IpmiConfig> {
        let host = v.host("ipmi_address");
        let port = v.port("ipmi_port");
        let username = v.str("ipmi_username").unwrap_or_default();
        if username.len() > 16 {
            v.invalid("ipmi_username", "is longer than 16 bytes");
        }
        let password = v.custom("ipmi_password", |s| {
            if s.len() > 20 {
                Err("is longer than 20 bytes".to_owned())
            } else {
                Ok(SecretString::from(s.to_owned()))
            }
        });
        let kg = v.custom("ipmi_hex_kg_key", BmcKey::from_hex);
        let priv_level = v.custom("ipmi_priv_level", |s| {
            s.parse::<PrivilegeLevel>()
                .map_err(|_| "is not one of CALLBACK, USER, OPERATOR, ADMINISTRATOR".to_owned())
        });
        let suite = if v.is_set("ipmi_cipher_suite") {
            v.custom("ipmi_cipher_suite", |s| {
                let n = s
                    .trim()
                    .parse::<u8>()
                    .map_err(|_| "is not a cipher suite number (0 to 255)".to_owned())?;
                Ok(CipherSuite::from_id(n)
                    .map(SuiteChoice::Only)
                    .unwrap_or(SuiteChoice::Other(n)))
            })
        } else {
            Some(SuiteChoice::Auto)
        };
        let bridging = v.one_of("ipmi_bridging", &["no", "single", "dual"]);
        let local_address = v.custom("ipmi_local_address", parse_byte);
        let disable_boot_timeout = v.bool("ipmi_disable_boot_timeout");
        let command_retry_timeout = v.seconds("ipmi_command_retry_timeout", 1.0, 3600.0);
        // Ironic keys with one supported value: the other is refused, never ignored.
        let _ = v.custom("ipmi_protocol_version", |s| match s {
            "2.0" | "2" => Ok(()),
            "1.5" => Err(
                "is not supported: only IPMI 2.0 (RMCP+) sessions are spoken; \
                 use 2.0 (a BMC without RMCP+ cannot be driven)"
                    .to_owned(),
            ),
            _ => Err("is not an IPMI protocol version (1.5 or 2.0)".to_owned()),
        });
        if v.bool("ipmi_force_boot_device") == Some(true) {
            v.invalid(
                "ipmi_force_boot_device",
                "true is not supported: the boot device is not sent again at every \
                 power-on; set it persistently instead (force_persistent_boot_device=Always)",
            );
        }
        let byte = |v: &mut Validator<'_>, name: &str| {
            if v.is_set(name) {
                v.custom(name, parse_byte)
            } else {
                v.missing(name);
                None
            }
        };
        let bridge = match bridging {
            Some("single") => {
                let ch = byte(v, "ipmi_target_channel");
                let addr = byte(v, "ipmi_target_address");
                ch.zip(addr).map(|(c, a)| Bridge::single(c, a))
            }
            Some("dual") => {
                let ch = byte(v, "ipmi_target_channel");
                let addr = byte(v, "ipmi_target_address");
                let tch = byte(v, "ipmi_transit_channel");
                let taddr = byte(v, "ipmi_transit_address");
                match (ch, addr, tch, taddr) {
                    (Some(c), Some(a), Some(tc), Some(ta)) => Some(Bridge::dual((tc, ta), c, a)),
                    _ => None,
                }
            }
            _ => None,
        };
        if v.has_problems() || host.is_none() {
            return None;
        }
        let mut cfg = IpmiConfig::new(host.unwrap_or_default());
        cfg.port = port.unwrap_or(623);
        cfg.username = username;
        if let Some(p) = password {
            cfg.password = p;
        }
        cfg.kg = kg;
        cfg.priv_level = priv_level.unwrap_or(PrivilegeLevel::Administrator);
        cfg.cipher_suite = suite.unwrap_or(SuiteChoice::Auto);
        cfg.bridge = bridge;
        cfg.local_address = local_address.unwrap_or(0x20);
        cfg.disable_boot_timeout = disable_boot_timeout.unwrap_or(true);
        if let Some(t) = command_retry_timeout {
            cfg.command_retry_timeout = t;
        }
        Some(cfg)
    }

    /// What identifies this BMC session for sharing: host, port, user, a keyed
    /// fingerprint of the password (never the password) and of the BMC key, and
    /// the privilege level, cipher suite choice, local bridging address (our
    /// address is encoded into every bridged request, so nodes that differ in it
    /// cannot share a client) and keep-alive interval (one keep-alive per
    /// session). Nothing else: a node's timeouts, retries, pacing, bridge and
    /// boot-timer choice are its own on every call (see [`IpmiConfig`]).
    ///
    /// ```
    /// let mut cfg = hwctl_ipmi::IpmiConfig::new("10.0.0.1");
    /// cfg.password = "s3cr3t".to_owned().into();
    /// assert!(!format!("{:?}", cfg.endpoint_key()).contains("s3cr3t"));
    /// let mut quick = cfg.clone();
    /// quick.command_retry_timeout = std::time::Duration::from_secs(3);
    /// assert_eq!(quick.endpoint_key(), cfg.endpoint_key()); // per node, not per session
    /// ```
    pub fn endpoint_key(&self) -> EndpointKey {
        let suite = match self.cipher_suite {
            SuiteChoice::Auto => "auto".to_owned(),
            SuiteChoice::Only(s) => s.id().to_string(),
            SuiteChoice::Other(n) => n.to_string(),
        };
        let key = EndpointKey::new("ipmi", &self.host, self.port)
            .user(self.username.clone())
            .secret_string(&self.password);
        // Sessions with different BMC keys are different sessions (a fingerprint,
        // never the key).
        let key = match &self.kg {
            Some(kg) => key.extra(
                "kg",
                hwctl_core::shared::Fingerprint::of_parts(&[b"kg", &kg.bytes()]),
            ),
            None => key,
        };
        key.extra("privilege", self.priv_level.as_u8())
            .extra("cipher_suite", suite)
            .extra(
                "local_address",
                format_args!("0x{:02x}", self.local_address),
            )
            .extra("keepalive_ms", self.keepalive_interval.as_millis())
    }

    /// How an operation is retried (with `hwctl_core::retry`, which resends a request
    /// that is not idempotent only when it never left): waits doubling from 100 ms
    /// to 2 s with jitter, the whole operation bounded by `command_retry_timeout`.
    /// The client bounds failures other than busy-type refusals by `retries`, and
    /// silence by [`IpmiConfig::silence_budget`].
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(u32::MAX)
            .with_backoff(
                Backoff::exponential(Duration::from_millis(100), Duration::from_secs(2))
                    .with_jitter(),
            )
            .with_max_elapsed(self.command_retry_timeout)
    }

    /// The longest a BMC may stay silent during one operation before it fails
    /// (`request_timeout × (retries + 1)`, within `command_retry_timeout`): the
    /// session setup and the request share it, so re-opening a session after a
    /// lost reply does not start the count again.
    ///
    /// ```
    /// let c = hwctl_ipmi::IpmiConfig::new("10.0.0.1");
    /// assert_eq!(c.silence_budget(), std::time::Duration::from_secs(8));
    /// ```
    pub fn silence_budget(&self) -> Duration {
        self.request_timeout
            .saturating_mul(self.retries.saturating_add(1))
            .min(self.command_retry_timeout)
    }

    /// `host:port` for messages (an IPv6 address in brackets).
    ///
    /// ```
    /// use hwctl_ipmi::IpmiConfig;
    /// assert_eq!(IpmiConfig::new("10.0.0.9").endpoint(), "10.0.0.9:623");
    /// let mut v6 = IpmiConfig::new("fd00::9");
    /// v6.port = 6230;
    /// assert_eq!(v6.endpoint(), "[fd00::9]:6230");
    /// ```
    pub fn endpoint(&self) -> String {
        match hwctl_core::address::Host::parse(&self.host) {
            Ok(h) => h.with_port(self.port),
            Err(_) => format!("{}:{}", self.host, self.port),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.username.len() > 16 {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "ipmi_username is longer than 16 bytes",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> NodeContext {
        NodeContext::new("n")
    }

    /// Newcomer report: `Debug` left out `keepalive_interval` and `poll_interval`.
    #[test]
    fn debug_shows_every_setting_and_never_the_password() {
        let mut cfg = IpmiConfig::new("10.0.0.9");
        cfg.password = SecretString::from("hunter2-secret".to_owned());
        cfg.keepalive_interval = Duration::from_secs(17);
        cfg.poll_interval = Duration::from_millis(1234);
        let text = format!("{cfg:?}");
        assert!(text.contains("keepalive_interval: 17s"), "{text}");
        assert!(text.contains("poll_interval: 1.234s"), "{text}");
        assert!(text.contains("password: \"<redacted>\""), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains(".."), "every field is shown: {text}");
    }

    #[test]
    fn every_problem_at_once() {
        let info = DriverInfo::from_pairs([
            ("ipmi_port", "0"),
            ("ipmi_priv_level", "ROOT"),
            ("ipmi_cipher_suite", "x"),
            ("ipmi_bridging", "single"),
            ("ipmi_target_address", "0x1ff"),
        ]);
        let err = IpmiConfig::from_driver_info(&info, &ctx()).unwrap_err();
        let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
        for n in [
            "ipmi_address",
            "ipmi_port",
            "ipmi_priv_level",
            "ipmi_cipher_suite",
            "ipmi_target_channel",
            "ipmi_target_address",
        ] {
            assert!(names.contains(&n), "{n} not in {names:?}");
        }
    }

    #[test]
    fn dual_bridging_and_hex_addresses() {
        let info = DriverInfo::from_pairs([
            ("ipmi_address", "10.1.1.1"),
            ("ipmi_bridging", "dual"),
            ("ipmi_target_channel", "7"),
            ("ipmi_target_address", "0x72"),
            ("ipmi_transit_channel", "0"),
            ("ipmi_transit_address", "130"),
            ("ipmi_local_address", "0x81"),
        ]);
        let cfg = IpmiConfig::from_driver_info(&info, &ctx()).unwrap();
        assert_eq!(cfg.bridge, Some(Bridge::dual((0, 130), 7, 0x72)));
        assert_eq!(cfg.local_address, 0x81);
        assert_eq!(cfg.cipher_suite, SuiteChoice::Auto);
    }

    /// A node migrated from Ironic with a console (ipmitool-socat, shellinabox)
    /// carries `ipmi_terminal_port`: it builds (it was refused, which failed power
    /// control of every such node) and the port changes nothing.
    #[test]
    fn an_ironic_console_port_is_accepted_and_not_used() {
        let plain = DriverInfo::from_pairs([("ipmi_address", "192.0.2.10")]);
        let plain = IpmiConfig::from_driver_info(&plain, &ctx()).unwrap();
        for port in ["8023", "not a port"] {
            let info = DriverInfo::from_pairs([
                ("ipmi_address", "192.0.2.10"),
                ("ipmi_terminal_port", port),
            ]);
            let cfg = IpmiConfig::from_driver_info(&info, &ctx()).unwrap();
            assert_eq!(format!("{cfg:?}"), format!("{plain:?}"), "{port}");
        }
        let p = PROPERTIES
            .iter()
            .find(|p| p.name == "ipmi_terminal_port")
            .unwrap();
        assert!(p.refused.is_none());
        assert!(p.unused.unwrap().contains("no proxy listens on that port"));
        assert!(p.description.contains("Accepted and not used"));
    }

    #[test]
    fn long_password_is_rejected_without_echo() {
        let info = DriverInfo::from_pairs([
            ("ipmi_address", "h"),
            ("ipmi_password", "averyveryverylongsecretpassword"),
        ]);
        let err = IpmiConfig::from_driver_info(&info, &ctx()).unwrap_err();
        assert!(!err.to_string().contains("averyvery"));
        assert!(err.to_string().contains("ipmi_password"));
    }
}
