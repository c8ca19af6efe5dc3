//! Typed configuration from a node's `driver_info` (and its ports).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use hwctl_core::shared::EndpointKey;
use hwctl_core::{
    DriverInfo, ExposeSecret, MacAddress, NodeContext, Property, Result, SecretString,
};

/// The default libvirt URI (Ironic's `staging-libvirt` default).
pub const DEFAULT_URI: &str = "qemu+unix:///system";

/// How long one libvirt call may take before the operation fails with
/// [`ErrorKind::Timeout`](hwctl_core::ErrorKind::Timeout).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The `driver_info` properties `staging-libvirt` reads (Ironic's keys, plus the
/// optional `libvirt_domain`).
pub const PROPERTIES: &[Property] = &[
    Property::optional(
        "libvirt_uri",
        "URI of the libvirt hypervisor connection (e.g. qemu+ssh://user@host/system, test:///default).",
    )
    .default_value(DEFAULT_URI),
    Property::optional(
        "sasl_username",
        "SASL user name, used with sasl_password (alone, as in Ironic, the connection is \
         opened without SASL credentials, with a warning). Excludes ssh_key_filename.",
    ),
    Property::optional(
        "sasl_password",
        "SASL password; needs sasl_username. Excludes ssh_key_filename.",
    )
    .secret(),
    Property::optional(
        "ssh_key_filename",
        "Private key file for qemu+ssh:// URIs; appended to the URI as keyfile=…. Host keys are verified (known_hosts). Excludes SASL.",
    ),
    Property::optional(
        "libvirt_ssh_no_verify",
        "INSECURE: true skips the SSH host key check of +ssh/+libssh/+libssh2 URIs (no_verify=1; anyone on the path can impersonate the hypervisor). Logs a warning.",
    )
    .default_value("false"),
    Property::optional(
        "libvirt_domain",
        "Domain name or UUID. When absent, the domain is found by the node's port MACs.",
    ),
];

/// How to authenticate to libvirt.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_libvirt::{Auth, LibvirtConfig};
/// let info = DriverInfo::from_pairs([("libvirt_uri", "qemu+tcp://hv1/system"),
///     ("libvirt_domain", "vm-1"), ("sasl_username", "admin"), ("sasl_password", "s3cret")]);
/// let config = LibvirtConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
/// assert!(matches!(config.auth(), Auth::Sasl { username, .. } if username == "admin"));
/// assert!(!format!("{:?}", config.auth()).contains("s3cret"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials (local socket, or whatever the URI's transport provides).
    #[default]
    None,
    /// SASL user name and passphrase, answered to libvirt's credential callback.
    Sasl {
        /// The user name (`VIR_CRED_AUTHNAME`).
        username: String,
        /// The passphrase (`VIR_CRED_PASSPHRASE`).
        password: SecretString,
    },
    /// An SSH private key, passed in the URI (`keyfile=…`). The host key is still
    /// verified unless [`LibvirtConfig::danger_ssh_no_verify`] was asked for.
    SshKey(PathBuf),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Sasl { username, .. } => f
                .debug_struct("Sasl")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Auth::SshKey(path) => f.debug_tuple("SshKey").field(path).finish(),
        }
    }
}

/// Which domain a node is.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
/// let by_uuid = DriverInfo::from_pairs([("libvirt_domain", "6E2B1A3C-0D4F-4B8E-9A7C-1F2E3D4C5B6A")]);
/// let config = LibvirtConfig::from_driver_info(&by_uuid, &NodeContext::new("n1"))?;
/// assert_eq!(config.domain(), &DomainSelector::Uuid("6e2b1a3c-0d4f-4b8e-9a7c-1f2e3d4c5b6a".into()));
/// // Without libvirt_domain the node's ports find the domain, as in Ironic.
/// let ctx = NodeContext::new("n1").with_port("52:54:00:12:34:56".parse()?);
/// let config = LibvirtConfig::from_driver_info(&DriverInfo::new(), &ctx)?;
/// assert!(matches!(config.domain(), DomainSelector::Macs(m) if m.len() == 1));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DomainSelector {
    /// The domain whose interfaces carry one of these MACs (Ironic's lookup).
    Macs(Vec<MacAddress>),
    /// The domain with this name.
    Name(String),
    /// The domain with this UUID (canonical text form).
    Uuid(String),
}

impl fmt::Display for DomainSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainSelector::Macs(macs) => {
                let list: Vec<String> = macs.iter().map(ToString::to_string).collect();
                write!(f, "the domain with MAC {}", list.join(", "))
            }
            DomainSelector::Name(n) => write!(f, "domain {n:?}"),
            DomainSelector::Uuid(u) => write!(f, "domain {u}"),
        }
    }
}

/// Everything needed to reach one node's domain.
///
/// `Debug` never shows the SASL password.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_libvirt::{LibvirtConfig, DomainSelector};
/// let info = DriverInfo::from_pairs([("libvirt_uri", "test:///default")]);
/// let ctx = NodeContext::new("n1").with_port("52:54:00:AA:BB:01".parse()?);
/// let config = LibvirtConfig::from_driver_info(&info, &ctx)?;
/// assert_eq!(config.uri(), "test:///default");
/// assert!(matches!(config.domain(), DomainSelector::Macs(m) if m.len() == 1));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct LibvirtConfig {
    uri: String,
    auth: Auth,
    domain: DomainSelector,
    call_timeout: Duration,
    poll_interval: Duration,
    ssh_no_verify: bool,
}

impl fmt::Debug for LibvirtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibvirtConfig")
            .field("uri", &self.uri)
            .field("auth", &self.auth)
            .field("ssh_no_verify", &self.ssh_no_verify)
            .field("domain", &self.domain)
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// Whether `s` looks like a libvirt URI: `scheme://…` with a scheme of letters,
/// digits and `+`, no whitespace.
fn check_uri(s: &str) -> std::result::Result<(), String> {
    let Some((scheme, _rest)) = s.split_once("://") else {
        return Err("is not a libvirt URI (expected driver[+transport]://[host]/path)".into());
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-')
    {
        return Err("has an invalid URI scheme".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace".into());
    }
    Ok(())
}

/// Whether the URI's transport is SSH (`+ssh`, `+libssh`, `+libssh2`), where
/// `no_verify` means something.
fn is_ssh_uri(uri: &str) -> bool {
    let scheme = uri.split_once("://").map_or("", |(s, _)| s);
    scheme
        .split('+')
        .skip(1)
        .any(|t| matches!(t, "ssh" | "libssh" | "libssh2"))
}

/// The warning every insecure configuration logs (as hwctl-http's for TLS).
fn warn_no_verify(uri: &str) {
    tracing::warn!(
        uri = %uri,
        "SSH host key verification is DISABLED for this libvirt connection \
         (libvirt_ssh_no_verify=true): anyone on the path can impersonate the hypervisor"
    );
}

/// Percent-encodes what would break a URI query value.
fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn looks_like_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl LibvirtConfig {
    /// A configuration for `uri` without credentials, selecting the domain by
    /// `domain`.
    ///
    /// ```
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("test:///default", DomainSelector::Name("test".into()))?;
    /// assert_eq!(c.uri(), "test:///default");
    /// assert!(LibvirtConfig::new("not a uri", DomainSelector::Name("x".into())).is_err());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidParameter` (`libvirt_uri`) when `uri` is not `scheme://…` or holds
    /// whitespace.
    pub fn new(uri: impl Into<String>, domain: DomainSelector) -> Result<Self> {
        let uri = uri.into();
        check_uri(&uri).map_err(|why| {
            hwctl_core::Error::invalid_parameter("libvirt_uri", format!("{uri:?} {why}"))
        })?;
        Ok(LibvirtConfig {
            uri,
            auth: Auth::None,
            domain,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            poll_interval: Duration::from_millis(200),
            ssh_no_verify: false,
        })
    }

    /// Builds the configuration from `driver_info` and the node's ports, reporting
    /// every problem at once.
    ///
    /// - `libvirt_uri` defaults to [`DEFAULT_URI`];
    /// - `sasl_username` and `sasl_password` together authenticate with SASL; a lone
    ///   `sasl_username` opens the connection without SASL credentials, as Ironic's
    ///   staging driver does (with a warning in the log), so its inventories move
    ///   over; a lone `sasl_password` reports `sasl_username` missing (a password
    ///   that would not be used is never dropped silently);
    /// - SASL and `ssh_key_filename` exclude each other (invalid parameter);
    /// - `ssh_key_filename` must name an existing file (invalid parameter naming the
    ///   path); the SSH host key is verified against `known_hosts`;
    /// - `libvirt_ssh_no_verify` (a boolean, default false) is for SSH URIs only;
    ///   `true` appends `no_verify=1` and logs a warning;
    /// - without `libvirt_domain`, the node needs at least one port (missing `ports`).
    ///
    /// # Errors
    ///
    /// `MissingParameter` when a parameter is missing (and possibly others invalid),
    /// else `InvalidParameter`; either lists every problem, never a secret.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// use hwctl_libvirt::LibvirtConfig;
    /// let info = DriverInfo::from_pairs([("libvirt_uri", "qemu+ssh://root@hv1/system"),
    ///     ("libvirt_domain", "vm-1")]);
    /// let config = LibvirtConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
    /// assert_eq!(config.uri(), "qemu+ssh://root@hv1/system");
    /// // A lone password and no domain nor port: every problem at once.
    /// let bad = DriverInfo::from_pairs([("sasl_password", "s3cret")]);
    /// let err = LibvirtConfig::from_driver_info(&bad, &NodeContext::new("n1")).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(names, ["sasl_username", "ports"]);
    /// assert!(!err.to_string().contains("s3cret"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<Self> {
        let mut v = info.validator(PROPERTIES);
        // A URI is text: a JSON number or boolean is refused as such.
        let uri = if v.require_string("libvirt_uri") {
            v.custom("libvirt_uri", |s| check_uri(s).map(|()| s.to_owned()))
        } else {
            None
        };
        let username = v.str("sasl_username");
        let password = v.secret("sasl_password");
        let domain = v.str("libvirt_domain");
        let no_verify = v.bool("libvirt_ssh_no_verify").unwrap_or(false);
        if no_verify && uri.as_deref().is_some_and(|u| !is_ssh_uri(u)) {
            v.invalid(
                "libvirt_ssh_no_verify",
                "applies only to SSH URIs (qemu+ssh://, qemu+libssh://, qemu+libssh2://)",
            );
        }

        let sasl = match (username, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (Some(_), None) => {
                // Ironic (ironic-staging-drivers, libvirt/power.py) opens the URI
                // without credentials unless both are given; so do we, loudly.
                if !info.is_ironic_mask("sasl_password") {
                    tracing::warn!(
                        "sasl_username is set without sasl_password: the libvirt connection \
                         is opened without SASL credentials, as Ironic does"
                    );
                }
                None
            }
            (None, Some(_)) => {
                v.missing("sasl_username");
                None
            }
            (None, None) => None,
        };
        let key = if sasl.is_some() && v.is_set("ssh_key_filename") {
            v.invalid(
                "ssh_key_filename",
                "one and only one of (sasl_username, sasl_password) or ssh_key_filename may be set",
            );
            None
        } else {
            v.file("ssh_key_filename")
        };
        let auth = match (key, sasl) {
            (Some(key), _) => Auth::SshKey(key),
            (None, Some((username, password))) => Auth::Sasl { username, password },
            (None, None) => Auth::None,
        };

        let selector = match domain {
            Some(d) if looks_like_uuid(&d) => Some(DomainSelector::Uuid(d.to_ascii_lowercase())),
            Some(d) => Some(DomainSelector::Name(d)),
            None if ctx.ports.is_empty() => {
                v.missing("ports");
                None
            }
            None => Some(DomainSelector::Macs(ctx.ports.clone())),
        };
        v.finish()?;
        let (Some(uri), Some(domain)) = (uri, selector) else {
            // Unreachable in practice: a `None` above always recorded a problem.
            return Err(hwctl_core::Error::missing_parameters(["libvirt_uri"]));
        };
        if no_verify {
            warn_no_verify(&uri);
        }
        Ok(LibvirtConfig {
            uri,
            auth,
            domain,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            poll_interval: Duration::from_millis(200),
            ssh_no_verify: no_verify,
        })
    }

    /// **Dangerous**: do not verify the SSH host key (`no_verify=1` in the URI), so
    /// anyone on the path can impersonate the hypervisor. Logs a warning. The
    /// `driver_info` form is `libvirt_ssh_no_verify=true`.
    pub fn danger_ssh_no_verify(mut self) -> Self {
        warn_no_verify(&self.uri);
        self.ssh_no_verify = true;
        self
    }

    /// Whether SSH host key verification is switched off.
    ///
    /// ```
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu+ssh://root@h/system", DomainSelector::Name("vm".into()))?;
    /// assert!(!c.ssh_no_verify());
    /// assert!(c.danger_ssh_no_verify().ssh_no_verify());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn ssh_no_verify(&self) -> bool {
        self.ssh_no_verify
    }

    /// Authenticates with SASL.
    ///
    /// ```
    /// use hwctl_core::SecretString;
    /// use hwctl_libvirt::{Auth, DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu+tcp://hv1/system", DomainSelector::Name("vm".into()))?
    ///     .with_sasl("admin", SecretString::from("s3cret"));
    /// assert!(matches!(c.auth(), Auth::Sasl { .. }));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_sasl(mut self, username: impl Into<String>, password: SecretString) -> Self {
        self.auth = Auth::Sasl {
            username: username.into(),
            password,
        };
        self
    }

    /// Authenticates with an SSH key file (checked when connecting).
    ///
    /// ```
    /// use hwctl_libvirt::{Auth, DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu+ssh://root@hv1/system", DomainSelector::Name("vm".into()))?
    ///     .with_ssh_key("/etc/hw/id_ed25519");
    /// assert!(matches!(c.auth(), Auth::SshKey(p) if p.ends_with("id_ed25519")));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_ssh_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth = Auth::SshKey(path.into());
        self
    }

    /// Sets how long one libvirt call may take (default [`DEFAULT_CALL_TIMEOUT`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_libvirt::config::DEFAULT_CALL_TIMEOUT;
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu:///system", DomainSelector::Name("vm".into()))?;
    /// assert_eq!(c.call_timeout(), DEFAULT_CALL_TIMEOUT);
    /// let c = c.with_call_timeout(Duration::from_secs(5)).with_poll_interval(Duration::from_millis(50));
    /// assert_eq!(c.call_timeout(), Duration::from_secs(5));
    /// assert_eq!(c.poll_interval(), Duration::from_millis(50));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Sets how often a power change is polled while waiting for it (default 200 ms).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The URI as given (without the key file parameters).
    ///
    /// ```
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu:///system", DomainSelector::Uuid("6d1c0b8e-0000-4000-8000-000000000001".into()))?;
    /// assert_eq!(c.uri(), "qemu:///system");
    /// assert!(matches!(c.domain(), DomainSelector::Uuid(_)));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The URI libvirt is opened with: with an SSH key, `keyfile=…` is appended to
    /// the query; the host key is verified (`known_hosts`) unless
    /// [`danger_ssh_no_verify`](Self::danger_ssh_no_verify) appended `no_verify=1`.
    ///
    /// ```
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu+ssh://root@h/system", DomainSelector::Name("vm".into()))?
    ///     .with_ssh_key("/keys/id rsa");
    /// assert_eq!(c.effective_uri(), "qemu+ssh://root@h/system?keyfile=/keys/id%20rsa");
    /// let insecure = c.danger_ssh_no_verify();
    /// assert_eq!(
    ///     insecure.effective_uri(),
    ///     "qemu+ssh://root@h/system?keyfile=/keys/id%20rsa&no_verify=1"
    /// );
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn effective_uri(&self) -> String {
        let mut uri = self.uri.clone();
        let mut param = |p: &str| {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(p);
        };
        if let Auth::SshKey(path) = &self.auth {
            param(&format!(
                "keyfile={}",
                encode_query_value(&path.to_string_lossy())
            ));
        }
        if self.ssh_no_verify {
            param("no_verify=1");
        }
        uri
    }

    /// The credentials.
    ///
    /// ```
    /// use hwctl_libvirt::{Auth, DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu:///system", DomainSelector::Name("vm".into()))?;
    /// assert!(matches!(c.auth(), Auth::None));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Which domain this node is.
    pub fn domain(&self) -> &DomainSelector {
        &self.domain
    }

    /// The per-call timeout.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// The power polling interval.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The key connections are shared under (see
    /// [`LibvirtClient`](crate::LibvirtClient)): protocol `libvirt`, the URI's host,
    /// the SASL user, a keyed [`Fingerprint`](hwctl_core::shared::Fingerprint) of the
    /// SASL password, and the exact effective URI (with an SSH key file). Two nodes
    /// with the same key share one libvirt connection (and, for the test driver, one
    /// state); a node with another password never rides on a connection opened with
    /// the right one. The key holds no secret.
    ///
    /// ```
    /// use hwctl_core::SecretString;
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig};
    /// let c = LibvirtConfig::new("qemu+tcp://hv1/system", DomainSelector::Name("vm".into()))?;
    /// let right = c.clone().with_sasl("admin", SecretString::from("right")).endpoint_key();
    /// let wrong = c.clone().with_sasl("admin", SecretString::from("wrong")).endpoint_key();
    /// assert_ne!(right, wrong);
    /// assert!(!format!("{right:?}").contains("right\""));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn endpoint_key(&self) -> EndpointKey {
        let uri = self.effective_uri();
        let authority = uri
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', '?']).next())
            .unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p))
                if !p.is_empty()
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && (h.starts_with('[') || !h.contains(':')) =>
            {
                (h, p.parse().unwrap_or(0))
            }
            _ => (authority, 0),
        };
        let key = EndpointKey::new("libvirt", host, port);
        let key = match &self.auth {
            Auth::Sasl { username, password } => {
                key.user(username.as_str()).secret_string(password)
            }
            _ => key,
        };
        key.extra("uri", uri)
    }

    pub(crate) fn sasl(&self) -> Option<(String, String)> {
        match &self.auth {
            Auth::Sasl { username, password } => {
                Some((username.clone(), password.expose_secret().to_owned()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shapes() {
        assert!(looks_like_uuid("1be26c0b-03f2-4d2e-ae87-c02d7f33c123"));
        assert!(!looks_like_uuid("1be26c0b-03f2-4d2e-ae87-c02d7f33c12"));
        assert!(!looks_like_uuid("my-vm"));
    }

    /// A URI of another JSON type is refused as such (it was read as the text
    /// "42" and refused as no libvirt URI).
    #[test]
    fn a_uri_that_is_no_string_is_refused_as_such() {
        for (value, what) in [
            (serde_json::json!(42), "a number"),
            (serde_json::json!(true), "a boolean"),
        ] {
            let info = DriverInfo::from_json(serde_json::json!({"libvirt_uri": value})).unwrap();
            let ctx = NodeContext::new("n1").with_port("52:54:00:00:00:01".parse().unwrap());
            let err = LibvirtConfig::from_driver_info(&info, &ctx).unwrap_err();
            assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter, "{err}");
            assert_eq!(err.problems().len(), 1, "{err}");
            assert_eq!(
                err.problems()[0].reason.as_deref(),
                Some(format!("must be a string, not {what}").as_str()),
                "{err}"
            );
        }
    }

    #[test]
    fn uri_checks() {
        assert!(check_uri("qemu+unix:///system").is_ok());
        assert!(check_uri("test:///default").is_ok());
        assert!(check_uri("qemu+ssh://u@h/system?x=1").is_ok());
        assert!(check_uri("bad-url").is_err());
        assert!(check_uri("://x").is_err());
        assert!(check_uri("qe mu:///x").is_err());
        assert!(check_uri("qemu:///sys tem").is_err());
    }
}

#[cfg(test)]
mod endpoint_key_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(password: &str) -> EndpointKey {
        let info = DriverInfo::from_pairs([
            ("libvirt_uri", "test:///default"),
            ("libvirt_domain", "test"),
            ("sasl_username", "admin"),
            ("sasl_password", password),
        ]);
        LibvirtConfig::from_driver_info(&info, &NodeContext::new("n"))
            .unwrap()
            .endpoint_key()
    }

    #[test]
    fn another_password_never_shares_a_connection() {
        assert_eq!(key("right"), key("right"));
        assert_ne!(key("right"), key("wrong"));
        let k = key("hunter2-secret");
        assert!(!format!("{k:?} {k}").contains("hunter2"));
    }

    #[test]
    fn uris_differing_only_in_case_are_different_endpoints() {
        let a = LibvirtConfig::new("test:///tmp/A.xml", DomainSelector::Name("x".into())).unwrap();
        let b = LibvirtConfig::new("test:///tmp/a.xml", DomainSelector::Name("x".into())).unwrap();
        assert_ne!(a.endpoint_key(), b.endpoint_key());
        let ssh = LibvirtConfig::new(
            "qemu+ssh://root@HV1:2222/system",
            DomainSelector::Name("x".into()),
        )
        .unwrap();
        let k = ssh.endpoint_key();
        assert_eq!((k.host(), k.port()), ("hv1", 2222));
    }
}
