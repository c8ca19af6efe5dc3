//! Typed configuration from `driver_info`.

use std::fmt;
use std::time::Duration;

use hwctl_core::poll::Backoff;
use hwctl_core::retry::RetryPolicy;
use hwctl_core::{DriverInfo, ExposeSecret, NodeContext, Property, Result, SecretString};

use crate::wire;

/// The DxP TCP port Ironic used by default.
/// ```
/// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?;
/// assert_eq!(c.port, hwctl_iboot::config::DEFAULT_PORT);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub const DEFAULT_PORT: u16 = 9100;
/// Ironic's socket timeout (python-iboot), used for connect and every read.
/// ```
/// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?;
/// assert_eq!(c.timeout, hwctl_iboot::config::DEFAULT_TIMEOUT);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Ironic's `[iboot] max_retry`.
/// ```
/// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?;
/// assert_eq!(c.max_retry, hwctl_iboot::config::DEFAULT_MAX_RETRY);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub const DEFAULT_MAX_RETRY: u32 = 3;
/// Ironic's `[iboot] retry_interval`.
/// ```
/// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?;
/// assert_eq!(c.retry_interval, hwctl_iboot::config::DEFAULT_RETRY_INTERVAL);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// Ironic's `[iboot] reboot_delay`.
/// ```
/// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?;
/// assert_eq!(c.reboot_delay, hwctl_iboot::config::DEFAULT_REBOOT_DELAY);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub const DEFAULT_REBOOT_DELAY: Duration = Duration::from_secs(5);
/// The highest relay number accepted: CHANGE_RELAYS carries 32 relay states, so no
/// DxP device has more relays.
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = |relay: &str| DriverInfo::from_pairs([
///     ("iboot_address", "pdu"), ("iboot_username", "admin"),
///     ("iboot_password", "pw"), ("iboot_relay_id", relay),
/// ]);
/// let ctx = NodeContext::new("n1");
/// assert_eq!(hwctl_iboot::config::MAX_RELAY, 32);
/// assert!(hwctl_iboot::IbootConfig::from_driver_info(&info("32"), &ctx).is_ok());
/// assert!(hwctl_iboot::IbootConfig::from_driver_info(&info("33"), &ctx).is_err());
/// ```
pub const MAX_RELAY: u8 = 32;

/// The `driver_info` properties `staging-iboot` reads (Ironic's, plus optional
/// timing keys that Ironic kept in its configuration file).
pub const PROPERTIES: &[Property] = &[
    Property::required("iboot_address", "IP address or host name of the iBoot PDU."),
    Property::required("iboot_username", "User name on the iBoot (at most 20 bytes)."),
    Property::required("iboot_password", "Password on the iBoot (at most 20 bytes).").secret(),
    Property::optional("iboot_relay_id", "The node's relay on the PDU, 1 to 32.")
        .default_value("1"),
    Property::optional("iboot_port", "TCP port of the DxP service.").default_value("9100"),
    Property::optional(
        "iboot_timeout",
        "Connect and read timeout of every DxP exchange, in seconds (0.01 to 300).",
    )
    .default_value("10"),
    Property::optional(
        "iboot_max_retry",
        "How many times a failed exchange is retried, and how many extra reads confirm a switch (0 to 20).",
    )
    .default_value("3"),
    Property::optional(
        "iboot_retry_interval",
        "Seconds between retries and between confirming reads (0 to 60).",
    )
    .default_value("1"),
    Property::optional(
        "iboot_reboot_delay",
        "Seconds the relay stays off during a reboot (0 to 300).",
    )
    .default_value("5"),
];

/// Everything [`IbootPower`](crate::IbootPower) needs. `Debug` never prints the password.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([
///     ("iboot_address", "10.0.0.5"), ("iboot_username", "admin"),
///     ("iboot_password", "s3cret"), ("iboot_relay_id", "3"),
/// ]);
/// let config = hwctl_iboot::IbootConfig::from_driver_info(&info, &NodeContext::new("n1")).unwrap();
/// assert_eq!((config.port, config.relay_id), (9100, 3));
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct IbootConfig {
    /// The PDU's address.
    pub address: String,
    /// The DxP TCP port.
    pub port: u16,
    /// The user name.
    pub username: String,
    password: SecretString,
    /// The node's relay (1-based).
    pub relay_id: u8,
    /// Connect and read timeout of each exchange (`iboot_timeout`, seconds).
    pub timeout: Duration,
    /// Retries of a failed exchange, and extra reads to confirm a switch (a count).
    pub max_retry: u32,
    /// Pause between retries and between confirming reads (`iboot_retry_interval`).
    pub retry_interval: Duration,
    /// How long the relay stays off during a reboot (`iboot_reboot_delay`).
    pub reboot_delay: Duration,
}

impl fmt::Debug for IbootConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IbootConfig")
            .field("address", &self.address)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("relay_id", &self.relay_id)
            .field("timeout", &self.timeout)
            .field("max_retry", &self.max_retry)
            .field("retry_interval", &self.retry_interval)
            .field("reboot_delay", &self.reboot_delay)
            .finish()
    }
}

impl IbootConfig {
    /// A configuration with Ironic's defaults (port 9100, relay 1, 10 s timeout,
    /// 3 retries 1 s apart, 5 s reboot delay).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) when the
    /// user name or password is longer than 20 bytes (it would be truncated on the
    /// wire) or holds a NUL byte; the error does not contain the password.
    pub fn new(
        address: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> Result<Self> {
        let username = username.into();
        wire::check_credential("iboot_username", username.as_bytes(), false)?;
        wire::check_credential("iboot_password", password.expose_secret().as_bytes(), true)?;
        Ok(IbootConfig {
            address: address.into(),
            port: DEFAULT_PORT,
            username,
            password,
            relay_id: 1,
            timeout: DEFAULT_TIMEOUT,
            max_retry: DEFAULT_MAX_RETRY,
            retry_interval: DEFAULT_RETRY_INTERVAL,
            reboot_delay: DEFAULT_REBOOT_DELAY,
        })
    }

    /// Sets the DxP port.
    /// ```
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?
    ///     .with_port(19100);
    /// assert_eq!(c.port, 19100);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the relay (1 to 32; others are refused when the node is used).
    /// ```
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?
    ///     .with_relay(4);
    /// assert_eq!(c.relay_id, 4);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_relay(mut self, relay_id: u8) -> Self {
        self.relay_id = relay_id;
        self
    }

    /// Sets the connect/read timeout of each exchange.
    /// ```
    /// use std::time::Duration;
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?
    ///     .with_timeout(Duration::from_secs(2));
    /// assert_eq!(c.timeout, Duration::from_secs(2));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retries (a count, 0 = none) and the pause between them.
    /// ```
    /// use std::time::Duration;
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?
    ///     .with_retries(0, Duration::ZERO);
    /// assert_eq!((c.max_retry, c.retry_interval), (0, Duration::ZERO));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_retries(mut self, max_retry: u32, interval: Duration) -> Self {
        self.max_retry = max_retry;
        self.retry_interval = interval;
        self
    }

    /// Sets the reboot delay.
    /// ```
    /// use std::time::Duration;
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?
    ///     .with_reboot_delay(Duration::from_millis(100));
    /// assert_eq!(c.reboot_delay, Duration::from_millis(100));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_reboot_delay(mut self, delay: Duration) -> Self {
        self.reboot_delay = delay;
        self
    }

    pub(crate) fn password(&self) -> &SecretString {
        &self.password
    }

    /// The retry policy of one DxP exchange: `1 + max_retry` attempts,
    /// `retry_interval` apart (fixed, as Ironic's `[iboot] retry_interval`).
    /// Whether an attempt may be resent at all is decided by
    /// [`RetryPolicy::may_retry`] from the error (every exchange the driver
    /// retries is idempotent).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::SecretString;
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", SecretString::from("pw"))?
    ///     .with_retries(2, Duration::from_millis(10));
    /// assert_eq!(c.retry_policy().max_attempts, 3);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::none()
            .with_max_attempts(self.max_retry.saturating_add(1))
            .with_backoff(Backoff::fixed(self.retry_interval))
    }

    /// How many reads confirm a switch before it is a power-state failure:
    /// `1 + max_retry` (Ironic's `_check_power_state`).
    /// ```
    /// use std::time::Duration;
    /// let c = hwctl_iboot::IbootConfig::new("pdu", "admin", hwctl_core::SecretString::from("pw"))?;
    /// assert_eq!(c.confirm_reads(), 4);
    /// assert_eq!(c.with_retries(0, Duration::ZERO).confirm_reads(), 1);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn confirm_reads(&self) -> u32 {
        self.max_retry.saturating_add(1)
    }

    /// Reads `driver_info`, reporting every problem at once; the password is never
    /// echoed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) when
    /// `iboot_address`, `iboot_username` or `iboot_password` is absent;
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) for a bad
    /// value (every problem named at once, under the key the user wrote).
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<Self> {
        let _ = ctx;
        let mut v = info.validator(PROPERTIES);
        let config = IbootConfig::read(&mut v);
        v.finish()?;
        config.ok_or_else(|| {
            // Unreachable in practice: the validator reports absent required keys.
            hwctl_core::Error::missing_parameters([
                "iboot_address",
                "iboot_username",
                "iboot_password",
            ])
        })
    }

    /// Reads this crate's keys into `v` (a validator over [`PROPERTIES`]), adding
    /// its problems there; `None` when a value is missing or bad.
    fn read(v: &mut hwctl_core::Validator<'_>) -> Option<Self> {
        let address = v.host("iboot_address");
        // Credentials are taken as given (not trimmed): spaces may be part of them.
        // Read through the validator, so a value of the wrong type (an array) is
        // refused as that, not reported missing.
        let username = v.verbatim("iboot_username");
        let password = v.secret("iboot_password");
        if let Some(u) = &username
            && let Err(e) = wire::check_credential("iboot_username", u.as_bytes(), false)
        {
            problems_into(v, e);
        }
        if let Some(p) = &password
            && let Err(e) =
                wire::check_credential("iboot_password", p.expose_secret().as_bytes(), true)
        {
            problems_into(v, e);
        }
        let relay = v.int_in_range("iboot_relay_id", 1, i64::from(MAX_RELAY));
        let port = v.port("iboot_port");
        let timeout = v.seconds("iboot_timeout", 0.01, 300.0);
        let max_retry = v.int_in_range("iboot_max_retry", 0, 20);
        let interval = v.seconds("iboot_retry_interval", 0.0, 60.0);
        let delay = v.seconds("iboot_reboot_delay", 0.0, 300.0);
        if v.has_problems() {
            return None;
        }
        Some(IbootConfig {
            address: address?,
            port: port.unwrap_or(DEFAULT_PORT),
            username: username?,
            password: password?,
            relay_id: relay.and_then(|r| u8::try_from(r).ok()).unwrap_or(1),
            timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
            max_retry: max_retry
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(DEFAULT_MAX_RETRY),
            retry_interval: interval.unwrap_or(DEFAULT_RETRY_INTERVAL),
            reboot_delay: delay.unwrap_or(DEFAULT_REBOOT_DELAY),
        })
    }
}

fn problems_into(v: &mut hwctl_core::Validator<'_>, e: hwctl_core::Error) {
    for p in e.problems() {
        if let Some(r) = &p.reason {
            v.invalid(&p.name, r.clone());
        }
    }
}
