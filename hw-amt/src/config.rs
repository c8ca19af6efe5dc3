//! Typed configuration, built from a node's `driver_info` with the staging driver's
//! keys (`amt_address`, `amt_username`, `amt_password`, `amt_protocol`) plus
//! `amt_port` and `amt_verify_ca`. The endpoint (URL, digest credentials, TLS
//! verification) is read by hwctl-http's [`EndpointConfig::read`]; this crate only
//! composes the URL from address, protocol and port.
//!
//! ```
//! use hwctl_amt::config::{HTTP_PORT, HTTPS_PORT, PROPERTIES};
//! assert_eq!((HTTP_PORT, HTTPS_PORT), (16992, 16993));
//! let required: Vec<&str> = PROPERTIES.iter().filter(|p| p.required).map(|p| p.name.as_ref()).collect();
//! assert_eq!(required, ["amt_address", "amt_username", "amt_password"]);
//! ```

use std::fmt;
use std::time::Duration;

use hwctl_core::{DriverInfo, NodeContext, Property, Result, SecretString};
use hwctl_http::{Auth, EndpointConfig, EndpointKeys};

use crate::NAME;

/// AMT's HTTP port (ISD `AMT_PROTOCOL_PORT_MAP['http']`).
pub const HTTP_PORT: u16 = 16992;
/// AMT's HTTPS port (ISD `AMT_PROTOCOL_PORT_MAP['https']`).
pub const HTTPS_PORT: u16 = 16993;
/// The WS-Management path.
pub const WSMAN_PATH: &str = "/wsman";

/// The largest reply accepted (an AMT enumeration page is a few KiB).
pub const MAX_REPLY_BYTES: usize = 512 * 1024;

/// How long AMT stays awake after a request while the host is off (PROTOCOLS.md
/// §2.4: "about 60 s"; ISD `[amt_driver]awake_interval` default 60 s).
pub const DEFAULT_AWAKE_INTERVAL: Duration = Duration::from_secs(60);

/// The wait before retrying a first request that a sleeping AMT refused or let
/// time out (ISD pinged 5 times 0.2 s apart, about 1 s, before talking to it).
pub const DEFAULT_WAKE_WAIT: Duration = Duration::from_secs(1);

/// Default timeout of one request (a sleeping AMT answers the first within a few
/// seconds once awake).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The endpoint keys hwctl-http reads (the URL is composed by this crate under the
/// internal key `amt_url`, reported as `amt_address`).
const ENDPOINT_KEYS: EndpointKeys = EndpointKeys::new("amt_url")
    .credentials("amt_username", "amt_password")
    .digest()
    .verify_ca("amt_verify_ca");

const ENDPOINT_SCHEMA: &[Property] = &[
    Property::required("amt_url", "URL."),
    Property::optional("amt_username", "User."),
    Property::optional("amt_password", "Password.").secret(),
    Property::optional("amt_verify_ca", "TLS."),
];

/// The `driver_info` properties of the `staging-amt` hardware type.
pub const PROPERTIES: &[Property] = &[
    Property::required("amt_address", "IP address or host name of the AMT endpoint."),
    Property::required("amt_username", "User name for AMT's HTTP digest authentication."),
    Property::required("amt_password", "Password for AMT's HTTP digest authentication.")
        .secret(),
    Property::optional(
        "amt_protocol",
        "Protocol of the WS-Management endpoint: http or https.",
    )
    .default_value("http"),
    Property::optional(
        "amt_port",
        "Port of the WS-Management endpoint (default 16992 for http, 16993 for https).",
    ),
    Property::optional(
        "amt_verify_ca",
        "https only: true (verify against the system roots), false (INSECURE: no verification; AMT ships self-signed certificates), or a path to a CA bundle (PEM).",
    )
    .default_value("true"),
];

/// Everything needed to drive one AMT endpoint.
///
/// `Debug` prints an allowlist of fields; the password never appears.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([
///     ("amt_address", "10.0.0.5"),
///     ("amt_username", "admin"),
///     ("amt_password", "s3cret"),
///     ("amt_protocol", "https"),
///     ("amt_verify_ca", "false"),
/// ]);
/// let config = hwctl_amt::AmtConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
/// assert_eq!(config.endpoint.origin(), "https://10.0.0.5:16993");
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct AmtConfig {
    /// The endpoint: `http(s)://address:port`, digest credentials, TLS.
    pub endpoint: EndpointConfig,
    /// The node id (the state store's key, with the endpoint).
    pub node_id: String,
    /// The node's boot mode (capability `boot_mode`), BIOS by default.
    pub boot_mode: hwctl_core::BootMode,
    /// How often the state is read while confirming a power change.
    pub power_poll_interval: Duration,
    /// After this long without a request, AMT may be asleep (see
    /// [`DEFAULT_AWAKE_INTERVAL`]).
    pub awake_interval: Duration,
    /// Wait before retrying a first request a sleeping AMT refused.
    pub wake_wait: Duration,
}

impl fmt::Debug for AmtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmtConfig")
            .field("endpoint", &self.endpoint)
            .field("node_id", &self.node_id)
            .field("boot_mode", &self.boot_mode)
            .finish_non_exhaustive()
    }
}

impl AmtConfig {
    /// A configuration for `base_url` (`http://host:port`) with digest
    /// credentials, the defaults for everything else.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::InvalidParameter`] when hwctl-http refuses the URL.
    ///
    /// ```
    /// use hwctl_amt::AmtConfig;
    /// let config = AmtConfig::new("http://127.0.0.1:16992", "admin", "pw")?;
    /// assert_eq!(config.endpoint.origin(), "http://127.0.0.1:16992");
    /// assert_eq!(config.node_id, "amt");
    /// assert_eq!(config.boot_mode, hwctl_core::BootMode::Bios);
    /// assert_eq!(config.awake_interval, hwctl_amt::config::DEFAULT_AWAKE_INTERVAL);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        let endpoint = EndpointConfig::builder(base_url)
            .auth(Auth::digest(username, password))
            .max_body_bytes(MAX_REPLY_BYTES)
            .request_timeout(DEFAULT_REQUEST_TIMEOUT)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        Ok(AmtConfig::with_endpoint(endpoint, "amt"))
    }

    fn with_endpoint(endpoint: EndpointConfig, node_id: &str) -> Self {
        AmtConfig {
            endpoint,
            node_id: node_id.to_owned(),
            boot_mode: hwctl_core::BootMode::Bios,
            power_poll_interval: Duration::from_millis(500),
            awake_interval: DEFAULT_AWAKE_INTERVAL,
            wake_wait: DEFAULT_WAKE_WAIT,
        }
    }

    /// The endpoint part of the state store's key (`amt://host:port`).
    ///
    /// ```
    /// use hwctl_amt::AmtConfig;
    /// let config = AmtConfig::new("https://10.0.0.5:16993", "admin", "pw")?;
    /// assert_eq!(config.state_endpoint(), "amt://10.0.0.5:16993");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn state_endpoint(&self) -> String {
        format!("amt://{}:{}", self.endpoint.host(), self.endpoint.port())
    }

    /// Validates `driver_info` ([`PROPERTIES`]) and builds the configuration,
    /// reporting every problem at once under the key the user wrote.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::MissingParameter`] when a required key is absent,
    /// else [`hwctl_core::ErrorKind::InvalidParameter`]: a bad address, protocol
    /// (`Invalid protocol`), port, or `amt_verify_ca` that is not `true`, `false`
    /// or a readable PEM CA bundle (or a bundle with `http`).
    ///
    /// ```
    /// use hwctl_amt::AmtConfig;
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// let ctx = NodeContext::new("n1");
    /// let info = DriverInfo::from_pairs([("amt_address", "10.0.0.5"), ("amt_username", "admin"), ("amt_password", "pw")]);
    /// let config = AmtConfig::from_driver_info(&info, &ctx)?;
    /// assert_eq!(config.endpoint.origin(), "http://10.0.0.5:16992");
    /// assert_eq!(config.node_id, "n1");
    ///
    /// let missing = AmtConfig::from_driver_info(&DriverInfo::from_pairs([("amt_port", "0")]), &ctx).unwrap_err();
    /// assert_eq!(missing.kind(), ErrorKind::MissingParameter);
    /// let names: Vec<&str> = missing.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert!(names.contains(&"amt_address") && names.contains(&"amt_port"));
    ///
    /// let mut bad = info.clone();
    /// bad.insert("amt_protocol", "ftp");
    /// let err = AmtConfig::from_driver_info(&bad, &ctx).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert_eq!(err.problems()[0].name, "amt_protocol");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<AmtConfig> {
        let mut v = info.validator(PROPERTIES);
        let address = v.host("amt_address");
        let username = v.str("amt_username");
        let password = v.secret("amt_password");
        let protocol = if v.is_set("amt_protocol") {
            v.one_of("amt_protocol", &["http", "https"])
        } else {
            Some("http")
        };
        let port = if v.is_set("amt_port") {
            v.port("amt_port")
        } else {
            protocol.map(|p| if p == "https" { HTTPS_PORT } else { HTTP_PORT })
        };
        let mut endpoint = None;
        if let (Some(address), Some(protocol), Some(port)) = (&address, protocol, port) {
            let host = if address.contains(':') {
                format!("[{address}]")
            } else {
                address.clone()
            };
            let mut sub =
                DriverInfo::from_pairs([("amt_url", format!("{protocol}://{host}:{port}"))]);
            for k in ["amt_username", "amt_password", "amt_verify_ca"] {
                if let Some(val) = info.get(k) {
                    sub.insert(k, val.clone());
                }
            }
            let mut sv = sub.validator(ENDPOINT_SCHEMA);
            let b = EndpointConfig::read(&mut sv, &ENDPOINT_KEYS, None);
            match sv.finish() {
                Ok(()) => endpoint = b,
                Err(e) => {
                    for p in e.problems() {
                        let reason = p.reason.clone().unwrap_or_else(|| "is invalid".into());
                        match p.name.as_str() {
                            "amt_url" => v.invalid("amt_address", reason),
                            "amt_verify_ca" => v.invalid("amt_verify_ca", reason),
                            // Credentials: already reported by the main validator.
                            _ => {}
                        }
                    }
                }
            }
        }
        v.finish()?;
        let (Some(endpoint), Some(_), Some(_)) = (endpoint, username, password) else {
            return Err(hwctl_core::Error::missing_parameters(
                PROPERTIES
                    .iter()
                    .filter(|p| p.required)
                    .map(|p| p.name.to_string()),
            )
            .with_driver(NAME));
        };
        if protocol == Some("https")
            && info.get_str("amt_verify_ca").is_some_and(|s| {
                matches!(
                    s.to_ascii_lowercase().as_str(),
                    "false" | "no" | "0" | "off"
                )
            })
        {
            tracing::warn!(node = %ctx.id, "amt_verify_ca=false: the AMT certificate is NOT verified");
        }
        let endpoint = endpoint
            .max_body_bytes(MAX_REPLY_BYTES)
            .request_timeout(DEFAULT_REQUEST_TIMEOUT)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        let mut config = AmtConfig::with_endpoint(endpoint, &ctx.id);
        config.boot_mode = ctx.boot_mode().unwrap_or(hwctl_core::BootMode::Bios);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::ErrorKind;

    fn build(pairs: &[(&str, &str)]) -> Result<AmtConfig> {
        AmtConfig::from_driver_info(
            &DriverInfo::from_pairs(pairs.iter().copied()),
            &NodeContext::new("n"),
        )
    }

    const OK: [(&str, &str); 3] = [
        ("amt_address", "1.2.3.4"),
        ("amt_username", "admin"),
        ("amt_password", "pw"),
    ];

    #[test]
    fn ports_default_by_protocol() {
        assert_eq!(
            build(&OK).unwrap().endpoint.origin(),
            "http://1.2.3.4:16992"
        );
        let mut p = OK.to_vec();
        p.push(("amt_protocol", "https"));
        assert_eq!(
            build(&p).unwrap().endpoint.origin(),
            "https://1.2.3.4:16993"
        );
        p.push(("amt_port", "443"));
        assert_eq!(build(&p).unwrap().endpoint.origin(), "https://1.2.3.4:443");
        assert_eq!(build(&p).unwrap().state_endpoint(), "amt://1.2.3.4:443");
    }

    #[test]
    fn every_problem_at_once() {
        let e = build(&[
            ("amt_protocol", "ftp"),
            ("amt_port", "0"),
            ("amt_password", "topsecret"),
        ])
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingParameter);
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        for n in ["amt_address", "amt_username", "amt_protocol", "amt_port"] {
            assert!(names.contains(&n), "{names:?}");
        }
        assert!(!e.to_string().contains("topsecret"));
    }

    #[test]
    fn verify_ca_is_checked_by_hw_http() {
        let mut p = OK.to_vec();
        p.push(("amt_verify_ca", "/no/such/ca.pem"));
        p.push(("amt_protocol", "https"));
        let e = build(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.problems()[0].name, "amt_verify_ca");
        let mut p = OK.to_vec();
        p.push(("amt_address", "not a host"));
        let e = build(&p).unwrap_err();
        assert_eq!(e.problems()[0].name, "amt_address");
    }
}
