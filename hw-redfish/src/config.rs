//! Typed configuration, built from a node's `driver_info` with Ironic's `redfish_*`
//! keys. The service's endpoint (URL, credentials, TLS) is read by hwctl-http's
//! [`EndpointConfig::read`]; this file adds the system, the authentication type and
//! the service root.

use std::fmt;
use std::time::Duration;

use hwctl_core::{DriverInfo, Error, NodeContext, Property, Result, SecretString};
use hwctl_http::{Auth, EndpointConfig, EndpointKeys};

use crate::NAME;

/// The largest reply accepted: 4 MiB (a ComputerSystem is a few KiB; anything far
/// larger is hostile or broken and fails as a protocol error).
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// The default service root path (DSP0266 §6: `/redfish/v1`).
pub const DEFAULT_ROOT: &str = "/redfish/v1";

/// How long a task monitor (a `202 Accepted` reply) is followed before
/// [`hwctl_core::ErrorKind::Timeout`], when no caller timeout applies: 120 s.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(120);

/// The endpoint keys of `redfish`, read by hwctl-http (Ironic's names).
pub const ENDPOINT_KEYS: EndpointKeys = EndpointKeys::new("redfish_address")
    .credentials("redfish_username", "redfish_password")
    .verify_ca("redfish_verify_ca");

/// The `driver_info` properties of the `redfish` hardware type (Ironic's
/// `ironic/drivers/modules/redfish/utils.py` names).
pub const PROPERTIES: &[Property] = &[
    Property::required(
        "redfish_address",
        "The URL address of the Redfish controller, e.g. https://10.0.0.5 (scheme defaults to https).",
    ),
    Property::optional(
        "redfish_system_id",
        "The canonical path to the ComputerSystem resource, under redfish_root, e.g. \
         /redfish/v1/Systems/1. Optional when the service has one system (it is used); \
         required when it has several.",
    ),
    Property::optional(
        "redfish_username",
        "User account with admin/server-profile access privilege. Optional, but \
         redfish_password is then required (both or neither; neither = no authentication).",
    ),
    Property::optional(
        "redfish_password",
        "User account password. Optional, but required when redfish_username is set \
         (both or neither).",
    )
    .secret(),
    Property::optional(
        "redfish_verify_ca",
        "https only: true (verify against the system roots), false (INSECURE: no verification), or a path to a CA bundle (PEM).",
    )
    .default_value("true"),
    Property::optional(
        "redfish_auth_type",
        "Redfish HTTP client authentication method: auto (a session, or basic when the service has no SessionService), basic or session.",
    )
    .default_value("auto"),
    Property::optional("redfish_root", "The service root path.").default_value(DEFAULT_ROOT),
    Property::optional(
        "redfish_deploy_iso",
        "Ironic's name for deploy_iso before its Xena release, still read by its \
         redfish-virtual-media boot interface.",
    )
    .unused(
        "it names a virtual-media deploy image, and hw has no virtual-media boot \
         interface (deploy_iso is accepted for the same reason)",
    ),
    Property::optional(
        "redfish_rescue_iso",
        "Ironic's name for rescue_iso before its Xena release, still read by its \
         redfish-virtual-media boot interface.",
    )
    .unused(
        "it names a virtual-media rescue image, and hw has no virtual-media boot \
         interface (rescue_iso is accepted for the same reason)",
    ),
    Property::optional(
        "redfish_tls_minimum_version",
        "Lowest TLS version (Ironic's key): 1.1 or 1.2 are honoured as they are (TLS 1.2 is \
         the lowest ever negotiated); 1.3 is refused. Optional.",
    ),
    Property::optional(
        "redfish_tls_ciphers",
        "Ironic's OpenSSL cipher list: refused (the TLS library here, rustls, has its own \
         fixed set of modern suites).",
    )
    .refused(
        "it is an OpenSSL cipher list, and the TLS library here (rustls) offers only its own \
         fixed set of modern suites; remove the key",
    ),
];

/// How the client authenticates (`redfish_auth_type`).
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_redfish::{RedfishAuthType, RedfishConfig};
/// let info = DriverInfo::from_pairs([("redfish_address", "https://10.0.0.5"), ("redfish_auth_type", "basic")]);
/// let config = RedfishConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
/// assert_eq!(config.auth_type, RedfishAuthType::Basic);
/// assert_eq!(RedfishAuthType::Session.to_string(), "session");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RedfishAuthType {
    /// A session when the service root links a SessionService, else HTTP basic.
    Auto,
    /// HTTP basic authentication on every request.
    Basic,
    /// A session (`POST …/SessionService/Sessions`, `X-Auth-Token`).
    Session,
}

impl RedfishAuthType {
    /// The `driver_info` spelling (`auto`, `basic`, `session`).
    ///
    /// ```
    /// use hwctl_redfish::RedfishAuthType;
    /// assert_eq!(RedfishAuthType::Auto.as_str(), "auto");
    /// assert_eq!(RedfishAuthType::Basic.as_str(), "basic");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            RedfishAuthType::Auto => "auto",
            RedfishAuthType::Basic => "basic",
            RedfishAuthType::Session => "session",
        }
    }
}

impl fmt::Display for RedfishAuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything needed to drive one ComputerSystem of one Redfish service.
///
/// `Debug` prints an allowlist of fields; the password never appears.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([
///     ("redfish_address", "10.0.0.5:8443"),
///     ("redfish_system_id", "/redfish/v1/Systems/1"),
///     ("redfish_username", "admin"),
///     ("redfish_password", "s3cret"),
/// ]);
/// let config = hwctl_redfish::RedfishConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
/// assert_eq!(config.endpoint.origin(), "https://10.0.0.5:8443");
/// assert_eq!(config.system_id.as_deref(), Some("/redfish/v1/Systems/1"));
/// assert_eq!(config.auth_type, hwctl_redfish::RedfishAuthType::Auto);
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct RedfishConfig {
    /// The service's endpoint: base URL, basic credentials (turned into a session by
    /// [`crate::RedfishClient`] unless `auth_type` is basic), TLS, reply cap
    /// [`MAX_REPLY_BYTES`].
    pub endpoint: EndpointConfig,
    /// The ComputerSystem's path; `None`: the service's only system (several is an
    /// error: fail closed).
    pub system_id: Option<String>,
    /// How to authenticate.
    pub auth_type: RedfishAuthType,
    /// The service root path (default [`DEFAULT_ROOT`]), without a trailing `/`.
    pub root: String,
    /// The node's boot mode (its `boot_mode` capability), sent with boot overrides.
    pub boot_mode: Option<hwctl_core::BootMode>,
    /// How often a power change is read while it is confirmed (default 1 s).
    pub power_poll_interval: Duration,
    /// How often a task monitor is read (default 500 ms, doubling to 5 s).
    pub task_poll_interval: Duration,
}

impl fmt::Debug for RedfishConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedfishConfig")
            .field("endpoint", &self.endpoint)
            .field("system_id", &self.system_id)
            .field("auth_type", &self.auth_type)
            .field("root", &self.root)
            .field("boot_mode", &self.boot_mode)
            .finish_non_exhaustive()
    }
}

impl RedfishConfig {
    /// A configuration for `address` with `username`/`password`, automatic
    /// authentication, the default root and the service's only system.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::InvalidParameter`] when hwctl-http refuses the URL or user name.
    ///
    /// ```
    /// let config = hwctl_redfish::RedfishConfig::new("https://10.0.0.5:8443", "admin", "s3cret")?;
    /// assert_eq!(config.endpoint.origin(), "https://10.0.0.5:8443");
    /// assert_eq!(config.root, "/redfish/v1");
    /// assert_eq!(config.system_id, None);
    /// assert!(hwctl_redfish::RedfishConfig::new("ftp://10.0.0.5", "admin", "s3cret").is_err());
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
        Ok(RedfishConfig::with_endpoint(endpoint))
    }

    /// The defaults around `endpoint`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_redfish::{RedfishAuthType, RedfishConfig};
    /// let endpoint = hwctl_http::EndpointConfig::builder("http://127.0.0.1:8000").build()?;
    /// let config = RedfishConfig::with_endpoint(endpoint);
    /// assert_eq!(config.auth_type, RedfishAuthType::Auto);
    /// assert_eq!(config.power_poll_interval, Duration::from_secs(1));
    /// assert_eq!(config.boot_mode, None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_endpoint(endpoint: EndpointConfig) -> Self {
        RedfishConfig {
            endpoint,
            system_id: None,
            auth_type: RedfishAuthType::Auto,
            root: DEFAULT_ROOT.to_owned(),
            boot_mode: None,
            power_poll_interval: Duration::from_secs(1),
            task_poll_interval: Duration::from_millis(500),
        }
    }

    /// This configuration for the system at `path`.
    ///
    /// ```
    /// let config = hwctl_redfish::RedfishConfig::new("https://10.0.0.5", "admin", "pw")?
    ///     .system("/redfish/v1/Systems/2");
    /// assert_eq!(config.system_id.as_deref(), Some("/redfish/v1/Systems/2"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn system(mut self, path: impl Into<String>) -> Self {
        self.system_id = Some(path.into());
        self
    }

    /// This configuration with `auth_type`.
    ///
    /// ```
    /// use hwctl_redfish::{RedfishAuthType, RedfishConfig};
    /// let config = RedfishConfig::new("https://10.0.0.5", "admin", "pw")?.auth(RedfishAuthType::Basic);
    /// assert_eq!(config.auth_type, RedfishAuthType::Basic);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn auth(mut self, auth_type: RedfishAuthType) -> Self {
        self.auth_type = auth_type;
        self
    }

    /// Validates `driver_info` (see [`PROPERTIES`]) and builds the configuration,
    /// reporting every problem at once under the user's keys.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::MissingParameter`] without `redfish_address` (or with a
    /// password and no user), else [`hwctl_core::ErrorKind::InvalidParameter`]: a bad URL
    /// (or one that is not a JSON string: `must be a string, not a number`), a
    /// `redfish_verify_ca` that is neither a boolean nor a readable PEM bundle, an
    /// unknown `redfish_auth_type`, a `redfish_system_id` or `redfish_root` that is
    /// not an absolute path, a `redfish_system_id` that is not a path under the
    /// service root or is the root or its `Systems` collection, or `session` auth
    /// without credentials.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// use hwctl_redfish::RedfishConfig;
    /// let ctx = NodeContext::new("n1");
    /// let none = RedfishConfig::from_driver_info(&DriverInfo::new(), &ctx).unwrap_err();
    /// assert_eq!(none.kind(), ErrorKind::MissingParameter);
    /// let info = DriverInfo::from_pairs([
    ///     ("redfish_address", "https://10.0.0.5"),
    ///     ("redfish_system_id", "Systems/1"),
    ///     ("redfish_auth_type", "kerberos"),
    /// ]);
    /// let err = RedfishConfig::from_driver_info(&info, &ctx).unwrap_err();
    /// let keys: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert!(keys.contains(&"redfish_system_id") && keys.contains(&"redfish_auth_type"), "{keys:?}");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<RedfishConfig> {
        let mut v = info.validator(PROPERTIES);
        // hwctl-http refuses an address that is no JSON string (`42` would be
        // read as https://0.0.0.42).
        let endpoint = EndpointConfig::read(&mut v, &ENDPOINT_KEYS, Some("https"));
        let auth = v.one_of("redfish_auth_type", &["auto", "basic", "session"]);
        let path = |s: &str| {
            if s.starts_with('/') && !s.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
                Ok(s.trim_end_matches('/').to_owned())
            } else {
                Err("must be an absolute path such as /redfish/v1/Systems/1".to_owned())
            }
        };
        let _ = v.custom("redfish_tls_minimum_version", |s| {
            match s.trim().trim_start_matches("TLSv") {
                // rustls negotiates TLS 1.2 or 1.3: never below what was asked.
                "1.1" | "1.2" => Ok(()),
                "1.3" => Err(
                    "is not supported: a BMC offering TLS 1.2 is still accepted \
                     (requiring 1.3 is not implemented); remove the key or use 1.2"
                        .to_owned(),
                ),
                _ => Err("is not a TLS version (1.1, 1.2 or 1.3)".to_owned()),
            }
        });
        let system_id = v.custom("redfish_system_id", path);
        let root = v.custom("redfish_root", path);
        let bad_root = v.is_set("redfish_root") && root.is_none();
        if let Some(system) = system_id.as_deref().filter(|s| !s.is_empty())
            && !bad_root
        {
            let root = root
                .as_deref()
                .filter(|r| !r.is_empty())
                .unwrap_or(DEFAULT_ROOT);
            if let Some(problem) = system_id_problem(system, root) {
                v.invalid("redfish_system_id", problem);
            }
        }
        let auth_type = match auth.unwrap_or("auto") {
            "basic" => RedfishAuthType::Basic,
            "session" => RedfishAuthType::Session,
            _ => RedfishAuthType::Auto,
        };
        if auth_type == RedfishAuthType::Session && !info.contains("redfish_username") {
            v.invalid(
                "redfish_auth_type",
                "session needs redfish_username and redfish_password",
            );
        }
        v.finish()?;
        let Some(endpoint) = endpoint else {
            return Err(Error::missing_parameters(["redfish_address"]).with_driver(NAME));
        };
        if bad_root {
            return Err(Error::invalid_parameter("redfish_root", "is invalid").with_driver(NAME));
        }
        let endpoint = endpoint
            .max_body_bytes(MAX_REPLY_BYTES)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        let mut config = RedfishConfig::with_endpoint(endpoint);
        config.system_id = system_id.filter(|s| !s.is_empty());
        config.auth_type = auth_type;
        if let Some(root) = root.filter(|r| !r.is_empty()) {
            config.root = root;
        }
        config.boot_mode = ctx.boot_mode();
        Ok(config)
    }

    /// The user name and password of the endpoint, if any.
    pub(crate) fn credentials(&self) -> Option<(String, SecretString)> {
        match self.endpoint.auth() {
            Auth::Basic { username, password } => Some((username.clone(), password.clone())),
            _ => None,
        }
    }
}

/// Why `system` (an absolute path, no trailing `/`) cannot be a ComputerSystem of
/// the service rooted at `root`, found without asking the service: the root
/// itself, its `Systems` collection, or a path outside the root (DSP0266: every
/// resource of a service is under its root, a ComputerSystem a member of
/// `Systems`).
fn system_id_problem(system: &str, root: &str) -> Option<String> {
    let example = format!("{root}/Systems/1");
    if system == root {
        Some(format!(
            "is the service root, not a ComputerSystem: use a member of {root}/Systems, \
             such as {example}"
        ))
    } else if system == format!("{root}/Systems") {
        Some(format!(
            "is the Systems collection, not a ComputerSystem: use one of its members, \
             such as {example}"
        ))
    } else if !system.starts_with(&format!("{root}/")) {
        Some(format!(
            "is not under the service root {root} (redfish_root): use a path such as {example}"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::ErrorKind;

    fn info(pairs: &[(&str, &str)]) -> DriverInfo {
        DriverInfo::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn ironic_keys_and_defaults() {
        let c = RedfishConfig::from_driver_info(
            &info(&[
                ("redfish_address", "http://127.0.0.1:8000"),
                ("redfish_username", "u"),
                ("redfish_password", "p"),
                ("redfish_auth_type", "session"),
                ("redfish_root", "/redfish/v1/"),
            ]),
            &NodeContext::new("n"),
        )
        .unwrap();
        assert_eq!(c.endpoint.origin(), "http://127.0.0.1:8000");
        assert_eq!(c.auth_type, RedfishAuthType::Session);
        assert_eq!(c.root, "/redfish/v1");
        assert_eq!(c.system_id, None);
        assert_eq!(c.credentials().unwrap().0, "u");
    }

    #[test]
    fn every_problem_at_once_and_no_secret() {
        let e = RedfishConfig::from_driver_info(
            &info(&[
                ("redfish_address", "ftp://x"),
                ("redfish_password", "hunter2"),
                ("redfish_auth_type", "kerberos"),
                ("redfish_system_id", "Systems/1"),
                ("redfish_verify_ca", "/no/such/file"),
            ]),
            &NodeContext::new("n"),
        )
        .unwrap_err();
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        for k in [
            "redfish_address",
            "redfish_username",
            "redfish_auth_type",
            "redfish_system_id",
        ] {
            assert!(names.contains(&k), "{names:?} {e}");
        }
        assert!(!e.to_string().contains("hunter2"));
    }

    /// Newcomer report: `{"redfish_address": 42}` built a node for
    /// `https://0.0.0.42:443`; `["https://bmc"]` was reported missing and invalid.
    #[test]
    fn an_address_that_is_not_a_string_is_one_invalid_problem() {
        for (value, what) in [
            (serde_json::json!(42), "must be a string, not a number"),
            (serde_json::json!(3.5), "must be a string, not a number"),
            (serde_json::json!(true), "must be a string, not a boolean"),
            (
                serde_json::json!(["https://bmc"]),
                "must be a string, not an array",
            ),
            (
                serde_json::json!({"url": "https://bmc"}),
                "must be a string, not an object",
            ),
        ] {
            let info = DriverInfo::from_json(serde_json::json!({
                "redfish_address": value, "redfish_username": "u", "redfish_password": "p",
            }))
            .unwrap();
            let e = RedfishConfig::from_driver_info(&info, &NodeContext::new("n")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
            assert_eq!(
                e.to_string(),
                format!("invalid parameters: redfish_address: {what}")
            );
        }
        // Strings that the URL standard reads as shorthand IPv4 are refused too.
        for raw in ["42", "3.5", "https://10.1"] {
            let e = RedfishConfig::from_driver_info(
                &info(&[("redfish_address", raw)]),
                &NodeContext::new("n"),
            )
            .unwrap_err();
            assert!(e.to_string().contains("is not a valid IPv4 address"), "{e}");
        }
    }

    /// Newcomer report: a system id the service cannot have was found only after
    /// the first request; it is a configuration error found when building.
    #[test]
    fn a_system_id_that_cannot_be_a_system_is_refused_before_any_request() {
        let build = |pairs: &[(&str, &str)]| {
            let mut all = vec![("redfish_address", "https://10.0.0.5")];
            all.extend_from_slice(pairs);
            RedfishConfig::from_driver_info(&info(&all), &NodeContext::new("n"))
        };
        for (system, why) in [
            ("/redfish/v1", "is the service root, not a ComputerSystem"),
            ("/redfish/v1/", "is the service root, not a ComputerSystem"),
            ("/redfish/v1/Systems", "is the Systems collection"),
            ("/redfish/v1/Systems/", "is the Systems collection"),
            ("/Systems/1", "is not under the service root /redfish/v1"),
            (
                "/redfish/v1Systems/1",
                "is not under the service root /redfish/v1",
            ),
        ] {
            let e = build(&[("redfish_system_id", system)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{system}: {e}");
            assert_eq!(e.problems()[0].name, "redfish_system_id", "{e}");
            assert!(e.to_string().contains(why), "{system}: {e}");
        }
        let e = build(&[
            ("redfish_root", "/rf"),
            ("redfish_system_id", "/redfish/v1/Systems/1"),
        ])
        .unwrap_err();
        assert!(
            e.to_string().contains("not under the service root /rf"),
            "{e}"
        );
        // Members of Systems, under the default or the given root, are accepted.
        let c = build(&[("redfish_system_id", "/redfish/v1/Systems/System.Embedded.1")]).unwrap();
        assert_eq!(
            c.system_id.as_deref(),
            Some("/redfish/v1/Systems/System.Embedded.1")
        );
        let c = build(&[
            ("redfish_root", "/rf/"),
            ("redfish_system_id", "/rf/Systems/1/"),
        ])
        .unwrap();
        assert_eq!(c.system_id.as_deref(), Some("/rf/Systems/1"));
        // A bad root is one problem, not also one of the system id.
        let e = build(&[
            ("redfish_root", "rf"),
            ("redfish_system_id", "/rf/Systems/1"),
        ])
        .unwrap_err();
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["redfish_root"], "{e}");
    }

    #[test]
    fn missing_address() {
        let e = RedfishConfig::from_driver_info(&info(&[]), &NodeContext::new("n")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingParameter);
    }
}
