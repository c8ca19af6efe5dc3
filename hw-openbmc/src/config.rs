//! Typed configuration from `driver_info` with the seed's `openbmc_*` keys. The
//! BMC's endpoint is read by hwctl-http's [`EndpointConfig::read`].

use std::fmt;
use std::time::Duration;

use hwctl_core::{DriverInfo, Error, NodeContext, Property, Result, SecretString};
use hwctl_http::{Auth, EndpointConfig, EndpointKeys};

use crate::NAME;

/// The largest reply accepted (a sensor enumeration of a big server is ~200 KiB).
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// The endpoint keys of `openbmc`, read by hwctl-http.
pub const ENDPOINT_KEYS: EndpointKeys = EndpointKeys::new("openbmc_address")
    .credentials("openbmc_username", "openbmc_password")
    .verify_ca("openbmc_verify_ca");

/// The `driver_info` properties of the `openbmc` hardware type.
pub const PROPERTIES: &[Property] = &[
    Property::required(
        "openbmc_address",
        "The BMC's address or URL, e.g. 10.0.0.7 or https://10.0.0.7 (scheme defaults to https).",
    ),
    Property::required("openbmc_username", "The BMC user name."),
    Property::required("openbmc_password", "The BMC password.").secret(),
    Property::optional(
        "openbmc_verify_ca",
        "https only: true (verify against the system roots), false (INSECURE: no verification), or a path to a CA bundle (PEM).",
    )
    .default_value("true"),
    Property::optional(
        "openbmc_api",
        "Which API to drive: auto (Redfish if /redfish/v1 answers, else the REST API), rest (phosphor REST) or redfish.",
    )
    .default_value("auto"),
];

/// Which OpenBMC API a node drives (`openbmc_api`).
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_openbmc::{OpenbmcApi, OpenbmcConfig};
/// let info = DriverInfo::from_pairs([("openbmc_address", "10.0.0.7"), ("openbmc_username", "root"),
///     ("openbmc_password", "0penBmc"), ("openbmc_api", "rest")]);
/// assert_eq!(OpenbmcConfig::from_driver_info(&info, &NodeContext::new("n"))?.api, OpenbmcApi::Rest);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenbmcApi {
    /// Redfish when `GET /redfish/v1` answers a service root, else REST (probed
    /// once per BMC on first use).
    Auto,
    /// The phosphor REST API (`/xyz/openbmc_project/…`).
    Rest,
    /// Redfish, through hwctl-redfish.
    Redfish,
}

impl OpenbmcApi {
    /// The `driver_info` spelling.
    ///
    /// ```
    /// use hwctl_openbmc::OpenbmcApi;
    /// assert_eq!(OpenbmcApi::Redfish.as_str(), "redfish");
    /// assert_eq!(OpenbmcApi::Auto.as_str(), "auto");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            OpenbmcApi::Auto => "auto",
            OpenbmcApi::Rest => "rest",
            OpenbmcApi::Redfish => "redfish",
        }
    }
}

/// Everything needed to drive one OpenBMC. `Debug` never prints the password.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([("openbmc_address", "10.0.0.7"),
///     ("openbmc_username", "root"), ("openbmc_password", "0penBmc")]);
/// let c = hwctl_openbmc::OpenbmcConfig::from_driver_info(&info, &NodeContext::new("n"))?;
/// assert_eq!(c.endpoint.origin(), "https://10.0.0.7:443");
/// assert_eq!(c.api, hwctl_openbmc::OpenbmcApi::Auto);
/// assert!(!format!("{c:?}").contains("0penBmc"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenbmcConfig {
    /// The BMC's endpoint (URL, basic credentials used for the log-in, TLS).
    pub endpoint: EndpointConfig,
    /// Which API to drive.
    pub api: OpenbmcApi,
    /// The node's boot mode (its `boot_mode` capability).
    pub boot_mode: Option<hwctl_core::BootMode>,
    /// How often a power change is read while it is confirmed (default 1 s).
    pub power_poll_interval: Duration,
}

impl fmt::Debug for OpenbmcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenbmcConfig")
            .field("endpoint", &self.endpoint)
            .field("api", &self.api)
            .field("boot_mode", &self.boot_mode)
            .finish_non_exhaustive()
    }
}

impl OpenbmcConfig {
    /// A configuration for `address` with the defaults (API `auto`).
    ///
    /// # Errors
    ///
    /// `InvalidParameter` when hwctl-http refuses the URL or user name.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = hwctl_openbmc::OpenbmcConfig::new("https://10.0.0.7", "root", "0penBmc")?;
    /// assert_eq!(config.endpoint.origin(), "https://10.0.0.7:443");
    /// assert_eq!(config.api, hwctl_openbmc::OpenbmcApi::Auto);
    /// assert_eq!(config.power_poll_interval, Duration::from_secs(1));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn new(
        address: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        let endpoint = EndpointConfig::builder(address)
            .auth(Auth::basic(username, password))
            .max_body_bytes(MAX_REPLY_BYTES)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        Ok(OpenbmcConfig {
            endpoint,
            api: OpenbmcApi::Auto,
            boot_mode: None,
            power_poll_interval: Duration::from_secs(1),
        })
    }

    /// This configuration with `api`.
    ///
    /// ```
    /// use hwctl_openbmc::{OpenbmcApi, OpenbmcConfig};
    /// let config = OpenbmcConfig::new("https://10.0.0.7", "root", "0penBmc")?.api(OpenbmcApi::Redfish);
    /// assert_eq!(config.api, OpenbmcApi::Redfish);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn api(mut self, api: OpenbmcApi) -> Self {
        self.api = api;
        self
    }

    /// Validates `driver_info` (see [`PROPERTIES`]), every problem at once.
    ///
    /// # Errors
    ///
    /// `MissingParameter` for an absent address, user or password; else
    /// `InvalidParameter` (bad URL, `openbmc_verify_ca`, `openbmc_api`).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// use hwctl_openbmc::OpenbmcConfig;
    /// let ctx = NodeContext::new("n");
    /// let info = DriverInfo::from_pairs([("openbmc_address", "10.0.0.7")]);
    /// let err = OpenbmcConfig::from_driver_info(&info, &ctx).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert!(err.to_string().contains("openbmc_password"), "{err}");
    /// let info = DriverInfo::from_pairs([("openbmc_address", "10.0.0.7"), ("openbmc_username", "root"),
    ///     ("openbmc_password", "0penBmc"), ("openbmc_api", "soap")]);
    /// let err = OpenbmcConfig::from_driver_info(&info, &ctx).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<OpenbmcConfig> {
        let mut v = info.validator(PROPERTIES);
        let endpoint = EndpointConfig::read(&mut v, &ENDPOINT_KEYS, Some("https"));
        let api = v.one_of("openbmc_api", &["auto", "rest", "redfish"]);
        v.finish()?;
        let Some(endpoint) = endpoint else {
            return Err(Error::missing_parameters(["openbmc_address"]).with_driver(NAME));
        };
        let endpoint = endpoint
            .max_body_bytes(MAX_REPLY_BYTES)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        Ok(OpenbmcConfig {
            endpoint,
            api: match api {
                Some("rest") => OpenbmcApi::Rest,
                Some("redfish") => OpenbmcApi::Redfish,
                _ => OpenbmcApi::Auto,
            },
            boot_mode: ctx.boot_mode(),
            power_poll_interval: Duration::from_secs(1),
        })
    }

    /// The user and password.
    pub(crate) fn credentials(&self) -> Option<(String, SecretString)> {
        match self.endpoint.auth() {
            Auth::Basic { username, password } => Some((username.clone(), password.clone())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_problem_at_once() {
        let info = DriverInfo::from_pairs([("openbmc_api", "ipmi"), ("openbmc_password", "pw")]);
        let e = OpenbmcConfig::from_driver_info(&info, &NodeContext::new("n")).unwrap_err();
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        for k in ["openbmc_address", "openbmc_username", "openbmc_api"] {
            assert!(names.contains(&k), "{names:?}");
        }
        assert!(!e.to_string().contains("pw\""));
    }
}
