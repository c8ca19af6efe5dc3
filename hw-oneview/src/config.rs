//! Typed configuration, built from a node's `driver_info`.
//!
//! Ironic kept the appliance in its `[oneview]` config group (`manager_url`,
//! `username`, `password`, `allow_insecure_connections`, `tls_cacert_file`) and the
//! server in `driver_info` (`server_hardware_uri`, `applied_server_profile_uri`) and
//! `properties/capabilities` (`server_hardware_type_uri`, `enclosure_group_uri`,
//! `server_profile_template_uri`) — PROTOCOLS.md §2.2. Here every key is read from
//! `driver_info` (the appliance keys with an `oneview_` prefix); the three
//! capability keys are also taken from the node's capabilities, as Ironic stored
//! them. The appliance URL, TLS CA file and timeouts are read by hwctl-http's
//! [`EndpointConfig::read`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hwctl_core::{DriverInfo, NodeContext, Property, Result, SecretString};
use hwctl_http::{Auth, EndpointConfig, EndpointKeys, TlsConfig};

use crate::NAME;
use crate::client::OneviewLogin;

/// The largest reply accepted: a 64-server `server-hardware` list is about 1 MiB.
pub const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// Default first wait between two looks at a task, in seconds (hpeOneView's and
/// python-oneviewclient's 1 s); the wait doubles up to [`MAX_TASK_POLL`].
pub const DEFAULT_TASK_POLL: Duration = Duration::from_secs(1);

/// The longest wait between two looks at a task (hpeOneView's 10 s).
pub const MAX_TASK_POLL: Duration = Duration::from_secs(10);

/// How long an operation that is not given a timeout may wait for tasks and for
/// 408/409 replies to clear (Ironic passed `timeout=-1`, unlimited; we bound it).
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(600);

/// The prefix every `server_hardware_uri` has.
pub const SERVER_HARDWARE_PREFIX: &str = "/rest/server-hardware/";

/// The endpoint keys of `oneview`, read by hwctl-http. The TLS CA file is read under
/// `oneview_tls_cacert_file`; `oneview_allow_insecure_connections` is read here.
pub const ENDPOINT_KEYS: EndpointKeys = EndpointKeys::new("oneview_manager_url")
    .verify_ca("oneview_tls_cacert_file")
    .request_timeout("oneview_request_timeout")
    .max_concurrency("oneview_max_connections");

/// The `driver_info` properties of the `oneview` hardware type.
pub const PROPERTIES: &[Property] = &[
    Property::required(
        "server_hardware_uri",
        "The server hardware's URI in OneView, /rest/server-hardware/{uuid}.",
    ),
    Property::optional(
        "server_profile_template_uri",
        "The server profile template a profile is created from when the server is allocated (also read from the node's capabilities).",
    ),
    Property::optional(
        "server_hardware_type_uri",
        "The server hardware type the server must have (also read from the node's capabilities).",
    ),
    Property::optional(
        "enclosure_group_uri",
        "The enclosure group the server must be in (also read from the node's capabilities).",
    ),
    Property::optional(
        "applied_server_profile_uri",
        "The server profile this node applied (driver-managed in Ironic): a server whose profile differs is in use by someone else.",
    ),
    Property::required(
        "oneview_manager_url",
        "URL of the OneView appliance, e.g. https://10.0.0.5 (https assumed when no scheme is given).",
    ),
    Property::required("oneview_username", "OneView user name."),
    Property::required("oneview_password", "OneView password.").secret(),
    Property::optional(
        "oneview_allow_insecure_connections",
        "INSECURE: true accepts any certificate from the appliance and its iLOs (a warning is logged).",
    )
    .default_value("false"),
    Property::optional(
        "oneview_tls_cacert_file",
        "Path to a PEM CA bundle that signed the appliance's and iLOs' certificates (default: the Mozilla roots).",
    ),
    Property::optional(
        "oneview_request_timeout",
        "Timeout of one request to the appliance or an iLO, in seconds (1 to 3600).",
    )
    .default_value("30"),
    Property::optional(
        "oneview_max_connections",
        "Requests in flight to one appliance at once, shared by all its servers (1 to 256).",
    )
    .default_value("8"),
    Property::optional(
        "oneview_task_poll_interval",
        "First wait between two looks at a OneView task, in seconds (0.01 to 10); doubles up to 10 s.",
    )
    .default_value("1"),
    Property::optional(
        "oneview_deferred_boot",
        "true: Ironic's mode, a boot device set is kept pending and applied at the next power on or reboot; false (default): applied at once.",
    )
    .default_value("false"),
];

/// The capability keys Ironic's OneView driver read from `properties/capabilities`.
pub const CAPABILITY_KEYS: [&str; 3] = [
    "server_hardware_type_uri",
    "enclosure_group_uri",
    "server_profile_template_uri",
];

/// Parses Ironic's capabilities string (`"k1:v1,k2:v2"`) into a map (keys and
/// values trimmed; an entry without `:` is ignored), as Ironic's
/// `utils.capabilities_to_dict` does.
///
/// ```
/// let caps = hwctl_oneview::config::parse_capabilities(
///     "server_hardware_type_uri:fake_sht_uri,enclosure_group_uri:fake_eg_uri");
/// assert_eq!(caps["enclosure_group_uri"], "fake_eg_uri");
/// ```
pub fn parse_capabilities(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter_map(|kv| kv.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Everything needed to drive one server of one OneView appliance.
///
/// `Debug` prints an allowlist of fields; the password never appears.
///
/// ```
/// use hwctl_oneview::OneviewConfig;
/// let c = OneviewConfig::new("https://oneview.example", "administrator", "pw",
///     "/rest/server-hardware/30303437-3933-4753-4831-000000000001")?;
/// assert_eq!(c.hardware_id(), "30303437-3933-4753-4831-000000000001");
/// assert!(!c.deferred_boot);
/// assert!(!format!("{c:?}").contains("pw"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OneviewConfig {
    /// The appliance: base URL, session auth, TLS, request timeout, concurrency limit.
    pub endpoint: EndpointConfig,
    /// The user name (also part of the session's identity).
    pub username: String,
    /// The password.
    pub password: SecretString,
    /// `/rest/server-hardware/{uuid}`.
    pub server_hardware_uri: String,
    /// The template allocation creates profiles from.
    pub server_profile_template_uri: Option<String>,
    /// The hardware type the server must have.
    pub server_hardware_type_uri: Option<String>,
    /// The enclosure group the server must be in.
    pub enclosure_group_uri: Option<String>,
    /// The profile this node applied (Ironic's driver-managed key).
    pub applied_server_profile_uri: Option<String>,
    /// First wait between looks at a task (doubles up to [`MAX_TASK_POLL`]).
    pub task_poll: Duration,
    /// How long an operation without a caller's timeout may wait for tasks.
    pub operation_timeout: Duration,
    /// Ironic's pending boot device, applied at the next power on.
    pub deferred_boot: bool,
    /// How often a power change is read while the engine confirms it.
    pub power_poll_interval: Duration,
}

impl fmt::Debug for OneviewConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneviewConfig")
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .field("server_hardware_uri", &self.server_hardware_uri)
            .field(
                "server_profile_template_uri",
                &self.server_profile_template_uri,
            )
            .field("server_hardware_type_uri", &self.server_hardware_type_uri)
            .field("enclosure_group_uri", &self.enclosure_group_uri)
            .field(
                "applied_server_profile_uri",
                &self.applied_server_profile_uri,
            )
            .field("deferred_boot", &self.deferred_boot)
            .finish_non_exhaustive()
    }
}

/// Builds `builder` with session auth through [`OneviewLogin`] for its origin.
fn with_login(
    builder: hwctl_http::EndpointConfigBuilder,
    username: &str,
    password: &SecretString,
) -> Result<EndpointConfig> {
    let plain = builder.clone().build().map_err(|e| e.with_driver(NAME))?;
    builder
        .auth(Auth::session(OneviewLogin::new(
            username,
            password,
            &plain.origin(),
        )))
        .build()
        .map_err(|e| e.with_driver(NAME))
}

fn hardware_uri_problem(uri: &str) -> Option<String> {
    let id = uri.strip_prefix(SERVER_HARDWARE_PREFIX)?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Some(format!(
            "{uri:?} is not {SERVER_HARDWARE_PREFIX}{{uuid}} (the uuid may hold letters, digits, '-' and '_')"
        ));
    }
    None
}

impl OneviewConfig {
    /// A configuration for `server_hardware_uri` on the appliance at `manager_url`
    /// with the defaults for everything else (TLS verified against the Mozilla
    /// roots; change `endpoint` with `to_builder()` for a CA file).
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::InvalidParameter`] when hwctl-http refuses the URL, or the
    /// hardware URI is not `/rest/server-hardware/{uuid}`.
    ///
    /// ```
    /// use hwctl_oneview::OneviewConfig;
    /// let c = OneviewConfig::new("https://oneview.example", "administrator", "pw", "/rest/server-hardware/abc")?;
    /// assert_eq!(c.username, "administrator");
    /// assert_eq!(c.task_poll, hwctl_oneview::config::DEFAULT_TASK_POLL);
    /// let bad = OneviewConfig::new("https://oneview.example", "administrator", "pw", "/rest/enclosures/abc");
    /// assert_eq!(bad.unwrap_err().kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn new(
        manager_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<SecretString>,
        server_hardware_uri: impl Into<String>,
    ) -> Result<Self> {
        let username = username.into();
        let password = password.into();
        let server_hardware_uri = server_hardware_uri.into();
        if let Some(why) = hardware_uri_problem(&server_hardware_uri).or_else(|| {
            (!server_hardware_uri.starts_with(SERVER_HARDWARE_PREFIX))
                .then(|| format!("must start with {SERVER_HARDWARE_PREFIX}"))
        }) {
            return Err(
                hwctl_core::Error::invalid_parameter("server_hardware_uri", why).with_driver(NAME),
            );
        }
        let endpoint = with_login(
            EndpointConfig::builder(manager_url).max_body_bytes(MAX_REPLY_BYTES),
            &username,
            &password,
        )?;
        Ok(OneviewConfig {
            endpoint,
            username,
            password,
            server_hardware_uri,
            server_profile_template_uri: None,
            server_hardware_type_uri: None,
            enclosure_group_uri: None,
            applied_server_profile_uri: None,
            task_poll: DEFAULT_TASK_POLL,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            deferred_boot: false,
            power_poll_interval: Duration::from_millis(500),
        })
    }

    /// The server hardware's id (the last segment of its URI).
    ///
    /// ```
    /// let c = hwctl_oneview::OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/b-1")?;
    /// assert_eq!(c.hardware_id(), "b-1");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn hardware_id(&self) -> &str {
        self.server_hardware_uri
            .rsplit('/')
            .next()
            .unwrap_or(&self.server_hardware_uri)
    }

    /// Validates `driver_info` (see [`PROPERTIES`]) and the node's capabilities and
    /// builds the configuration, reporting every problem at once under the key the
    /// user wrote. `server_hardware_type_uri`, `enclosure_group_uri` and
    /// `server_profile_template_uri` come from `driver_info` or, as Ironic stored
    /// them, from the node's capabilities (both given and different: invalid).
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::MissingParameter`] when a required key is absent (the
    /// invalid ones listed too), else [`hwctl_core::ErrorKind::InvalidParameter`]: a
    /// bad URL or hardware URI, a CA file that is not a readable PEM bundle (or is
    /// `true`/`false`: use `oneview_allow_insecure_connections`), a bad timeout,
    /// limit or boolean, a capability that contradicts `driver_info`.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// use hwctl_oneview::OneviewConfig;
    /// let mut info = DriverInfo::from_pairs([
    ///     ("oneview_manager_url", "https://oneview.example"),
    ///     ("oneview_username", "administrator"),
    ///     ("oneview_password", "pw"),
    ///     ("server_hardware_uri", "/rest/server-hardware/30303437-3933-4753-4831-000000000001"),
    ///     ("oneview_deferred_boot", "true"),
    /// ]);
    /// let mut ctx = NodeContext::new("n1");
    /// // Ironic kept these in the node's capabilities; driver_info may name them too.
    /// ctx.capabilities.insert("enclosure_group_uri".into(), "/rest/enclosure-groups/eg1".into());
    /// let c = OneviewConfig::from_driver_info(&info, &ctx)?;
    /// assert!(c.deferred_boot);
    /// assert_eq!(c.enclosure_group_uri.as_deref(), Some("/rest/enclosure-groups/eg1"));
    ///
    /// // Every problem at once, under the key the user wrote.
    /// info.insert("server_hardware_uri", "/rest/enclosures/x");
    /// info.insert("oneview_deferred_boot", "maybe");
    /// let err = OneviewConfig::from_driver_info(&info, &ctx).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert!(err.to_string().contains("server_hardware_uri"));
    /// assert!(err.to_string().contains("oneview_deferred_boot"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<OneviewConfig> {
        let mut v = info.validator(PROPERTIES);
        let hw_uri = v.custom("server_hardware_uri", |s| {
            if !s.starts_with(SERVER_HARDWARE_PREFIX) {
                return Err(format!("must start with {SERVER_HARDWARE_PREFIX}"));
            }
            match hardware_uri_problem(s) {
                Some(why) => Err(why),
                None => Ok(s.to_owned()),
            }
        });
        let from_caps = |v: &mut hwctl_core::Validator<'_>, key: &str| -> Option<String> {
            let given = v.str(key);
            let cap = ctx
                .capabilities
                .get(key)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            match (given, cap) {
                (Some(g), Some(c)) if g != c => {
                    v.invalid(
                        key,
                        format!("{g:?} differs from the node's capability {key}:{c}"),
                    );
                    None
                }
                (Some(g), _) => Some(g),
                (None, c) => c,
            }
        };
        let template = from_caps(&mut v, "server_profile_template_uri");
        let sht = from_caps(&mut v, "server_hardware_type_uri");
        let group = from_caps(&mut v, "enclosure_group_uri");
        let applied = v.str("applied_server_profile_uri");
        for (key, value) in [
            ("server_profile_template_uri", &template),
            ("applied_server_profile_uri", &applied),
        ] {
            if let Some(val) = value
                && !val.starts_with('/')
            {
                v.invalid(key, format!("{val:?} is not a OneView URI (/rest/…)"));
            }
        }
        let username = v.str("oneview_username");
        let password = v.secret("oneview_password");
        if let Some(raw) = v.str("oneview_tls_cacert_file")
            && matches!(
                raw.to_ascii_lowercase().as_str(),
                "true" | "false" | "yes" | "no" | "on" | "off" | "1" | "0"
            )
        {
            v.invalid(
                "oneview_tls_cacert_file",
                "must be a path to a PEM CA bundle (use oneview_allow_insecure_connections to turn verification off)",
            );
        }
        let endpoint = EndpointConfig::read(&mut v, &ENDPOINT_KEYS, Some("https"));
        let insecure = v.bool("oneview_allow_insecure_connections");
        let task_poll = v.seconds("oneview_task_poll_interval", 0.01, 10.0);
        let deferred = v.bool("oneview_deferred_boot");
        v.finish()?;
        let (Some(endpoint), Some(hw_uri), Some(username), Some(password)) =
            (endpoint, hw_uri, username, password)
        else {
            return Err(hwctl_core::Error::missing_parameters(
                PROPERTIES
                    .iter()
                    .filter(|p| p.required)
                    .map(|p| p.name.to_string()),
            )
            .with_driver(NAME));
        };
        // The CA key takes files only; verification is turned off by its own key.
        let mut endpoint = endpoint
            .max_body_bytes(MAX_REPLY_BYTES)
            .tls_off_switch("oneview_allow_insecure_connections=true");
        if insecure == Some(true) {
            tracing::warn!(
                driver = NAME,
                "oneview_allow_insecure_connections: certificates of the appliance and its iLOs are NOT verified"
            );
            endpoint = endpoint.tls(TlsConfig::danger_accept_invalid_certs());
        }
        let endpoint = with_login(endpoint, &username, &password)?;
        Ok(OneviewConfig {
            endpoint,
            username,
            password,
            server_hardware_uri: hw_uri,
            server_profile_template_uri: template,
            server_hardware_type_uri: sht,
            enclosure_group_uri: group,
            applied_server_profile_uri: applied,
            task_poll: task_poll.unwrap_or(DEFAULT_TASK_POLL),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            deferred_boot: deferred.unwrap_or(false),
            power_poll_interval: task_poll
                .unwrap_or(Duration::from_millis(500))
                .min(Duration::from_millis(500)),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::ErrorKind;

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "server_hardware_uri",
                "/rest/server-hardware/30303437-3933-4753-4831-31315835524E",
            ),
            ("oneview_manager_url", "https://oneview.example"),
            ("oneview_username", "administrator"),
            ("oneview_password", "hunter2"),
        ]
    }

    fn build(pairs: &[(&str, &str)], ctx: &NodeContext) -> Result<OneviewConfig> {
        OneviewConfig::from_driver_info(&DriverInfo::from_pairs(pairs.iter().copied()), ctx)
    }

    #[test]
    fn the_minimum_builds_with_ironic_defaults() {
        let c = build(&valid(), &NodeContext::new("n")).unwrap();
        assert!(c.endpoint.origin().starts_with("https://oneview.example"));
        assert_eq!(c.endpoint.auth().scheme(), "session");
        assert!(!c.endpoint.tls().accepts_invalid_certs());
        assert_eq!(c.hardware_id(), "30303437-3933-4753-4831-31315835524E");
        assert_eq!(c.task_poll, Duration::from_secs(1));
        assert!(!c.deferred_boot);
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_manager_url_without_scheme_is_https() {
        let mut p = valid();
        p[1] = ("oneview_manager_url", "10.0.0.5");
        let c = build(&p, &NodeContext::new("n")).unwrap();
        assert!(c.endpoint.origin().starts_with("https://10.0.0.5"));
    }

    #[test]
    fn capabilities_give_the_template_type_and_group_as_ironic_stored_them() {
        // python-oneviewclient's PROPERTIES_DICT capabilities string.
        let caps = parse_capabilities(
            "server_hardware_type_uri:fake_sht_uri,enclosure_group_uri:fake_eg_uri",
        );
        let mut ctx = NodeContext::new("n");
        ctx.capabilities = caps;
        let mut p = valid();
        p.push((
            "server_profile_template_uri",
            "/rest/server-profile-templates/x",
        ));
        let c = build(&p, &ctx).unwrap();
        assert_eq!(c.server_hardware_type_uri.as_deref(), Some("fake_sht_uri"));
        assert_eq!(c.enclosure_group_uri.as_deref(), Some("fake_eg_uri"));
        p.push(("enclosure_group_uri", "other"));
        let e = build(&p, &ctx).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.problems()[0].name, "enclosure_group_uri");
    }

    #[test]
    fn every_problem_at_once_and_no_secret_echoed() {
        let e = build(
            &[
                ("server_hardware_uri", "/rest/enclosures/1"),
                ("oneview_password", "hunter2"),
                ("oneview_tls_cacert_file", "false"),
                ("oneview_allow_insecure_connections", "maybe"),
            ],
            &NodeContext::new("n"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingParameter);
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        for n in [
            "server_hardware_uri",
            "oneview_username",
            "oneview_manager_url",
            "oneview_tls_cacert_file",
            "oneview_allow_insecure_connections",
        ] {
            assert!(names.contains(&n), "{n} not in {names:?}");
        }
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn insecure_only_when_asked() {
        let mut p = valid();
        p.push(("oneview_allow_insecure_connections", "true"));
        let c = build(&p, &NodeContext::new("n")).unwrap();
        assert!(c.endpoint.tls().accepts_invalid_certs());
    }
}
