//! Endpoint configuration: base URL, auth, TLS, timeouts, limits, retries.
//!
//! Built with [`EndpointConfig::builder`]; every bad value is reported at
//! [`EndpointConfigBuilder::build`], all at once.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hwctl_core::shared::{EndpointKey, Fingerprint};
use hwctl_core::{Error, ExposeSecret, ParameterProblem, SecretString};

use crate::session::SessionAuth;

pub use hwctl_core::retry::RetryPolicy;

/// Default connect timeout (TCP connect plus TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default request timeout (from the moment a request has a concurrency slot to the
/// last byte of the response body).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on waiting for one of the endpoint's concurrency slots.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default cap on a response body: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Default number of requests in flight to one endpoint at once.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// The `User-Agent` sent unless one is configured (`hwctl-http/VERSION`).
const DEFAULT_USER_AGENT: &str = concat!("hwctl-http/", env!("CARGO_PKG_VERSION"));

/// How requests authenticate to the endpoint.
///
/// `Debug` never prints a password or token.
///
/// ```
/// use hwctl_http::Auth;
/// let auth = Auth::digest("admin", "s3cret");
/// assert_eq!(auth.scheme(), "digest");
/// assert!(!format!("{auth:?}").contains("s3cret"));
/// assert_eq!(Auth::default().scheme(), "none");
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// HTTP basic authentication (RFC 7617), sent with every request.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: SecretString,
    },
    /// HTTP digest authentication (RFC 7616 / RFC 2617): MD5, MD5-sess, SHA-256 and
    /// SHA-256-sess with `qop=auth`. The first request learns the challenge; later
    /// ones answer it directly with an increasing nonce count.
    Digest {
        /// The user name.
        username: String,
        /// The password.
        password: SecretString,
    },
    /// A session token obtained by a log-in request (OneView, OpenBMC): see
    /// [`SessionAuth`].
    Session(Arc<dyn SessionAuth>),
}

impl Auth {
    /// Basic authentication.
    ///
    /// ```
    /// use hwctl_http::{Auth, EndpointConfig};
    /// let config = EndpointConfig::builder("https://10.0.0.5").auth(Auth::basic("root", "calvin")).build()?;
    /// assert_eq!(config.auth().scheme(), "basic");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn basic(username: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Auth::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Digest authentication.
    ///
    /// ```
    /// let auth = hwctl_http::Auth::digest("admin", "secret");
    /// assert!(matches!(&auth, hwctl_http::Auth::Digest { username, .. } if username == "admin"));
    /// ```
    pub fn digest(username: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Auth::Digest {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Session authentication through `hook`.
    ///
    /// ```
    /// #[derive(Debug)]
    /// struct Fixed;
    /// #[hwctl_core::async_trait]
    /// impl hwctl_http::SessionAuth for Fixed {
    ///     async fn login(&self, _: &hwctl_http::SessionClient<'_>) -> hwctl_core::Result<hwctl_http::Session> {
    ///         hwctl_http::Session::new().header("X-Auth-Token", "t".to_string().into())
    ///     }
    ///     async fn logout(&self, _: &hwctl_http::SessionClient<'_>, _: &hwctl_http::Session) -> hwctl_core::Result<()> {
    ///         Ok(())
    ///     }
    ///     fn cache_key(&self) -> String { "fixed".into() }
    /// }
    /// assert_eq!(hwctl_http::Auth::session(Fixed).scheme(), "session");
    /// ```
    pub fn session(hook: impl SessionAuth + 'static) -> Self {
        Auth::Session(Arc::new(hook))
    }

    /// A name for the scheme (`none`, `basic`, `digest`, `session`).
    ///
    /// ```
    /// use hwctl_http::Auth;
    /// assert_eq!(Auth::None.scheme(), "none");
    /// assert_eq!(Auth::basic("u", "p").scheme(), "basic");
    /// ```
    pub fn scheme(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Basic { .. } => "basic",
            Auth::Digest { .. } => "digest",
            Auth::Session(_) => "session",
        }
    }

    /// Adds the auth identity to an endpoint key: scheme, user and a keyed
    /// fingerprint of the secret (by [`EndpointKey::secret_string`]; never the secret
    /// itself), or the session hook's own key.
    fn add_to_key(&self, key: EndpointKey) -> EndpointKey {
        let key = key.extra("auth", self.scheme());
        match self {
            Auth::None => key,
            Auth::Basic { username, password } | Auth::Digest { username, password } => {
                key.user(username.clone()).secret_string(password)
            }
            Auth::Session(hook) => key.extra("session", hook.cache_key()),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Auth::Digest { username, .. } => f
                .debug_struct("Digest")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Auth::Session(hook) => f.debug_tuple("Session").field(hook).finish(),
        }
    }
}

/// Where trust in the server's certificate comes from.
///
/// Verified against the Mozilla roots (`webpki-roots`) by default.
///
/// ```
/// use hwctl_http::{EndpointConfig, TlsConfig};
/// let config = EndpointConfig::builder("https://bmc.example").build()?;
/// assert_eq!(config.tls(), &TlsConfig::verified());
/// assert!(!config.tls().accepts_invalid_certs());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsConfig {
    pub(crate) ca: CaSource,
    pub(crate) accept_invalid_certs: bool,
    /// The user's setting that chose this (`redfish_verify_ca`), named in
    /// certificate errors and in the insecure-mode warning.
    pub(crate) setting: Option<String>,
    /// How the user turns verification off when that is not `<setting>=false`
    /// (`oneview_allow_insecure_connections=true`).
    pub(crate) off_switch: Option<String>,
}

#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub(crate) enum CaSource {
    #[default]
    WebpkiRoots,
    File(PathBuf),
    Pem(Vec<u8>),
}

impl TlsConfig {
    /// Verify certificates against the Mozilla root store (the default).
    ///
    /// ```
    /// let tls = hwctl_http::TlsConfig::verified();
    /// assert!(!tls.accepts_invalid_certs());
    /// ```
    pub fn verified() -> Self {
        TlsConfig::default()
    }

    /// Trust only the CA certificate(s) in this PEM file (read at `build()`).
    ///
    /// ```
    /// use hwctl_http::{EndpointConfig, TlsConfig};
    /// let err = EndpointConfig::builder("https://bmc.example")
    ///     .tls(TlsConfig::ca_file("/nonexistent/ca.pem"))
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.problems()[0].name, "ca_file");
    /// ```
    pub fn ca_file(path: impl Into<PathBuf>) -> Self {
        TlsConfig {
            ca: CaSource::File(path.into()),
            accept_invalid_certs: false,
            setting: None,
            off_switch: None,
        }
    }

    /// Trust only the CA certificate(s) in this PEM text.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_http::{EndpointConfig, HttpClient, TlsConfig};
    /// let config = EndpointConfig::builder("https://bmc.example")
    ///     .tls(TlsConfig::ca_pem("not a certificate"))
    ///     .build()?;
    /// // Read when the client is built: text that holds no certificate is refused.
    /// let err = HttpClient::new(config).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn ca_pem(pem: impl Into<Vec<u8>>) -> Self {
        TlsConfig {
            ca: CaSource::Pem(pem.into()),
            accept_invalid_certs: false,
            setting: None,
            off_switch: None,
        }
    }

    /// **Dangerous**: accept any server certificate, expired, self-signed or issued
    /// for another name. The connection is encrypted but anyone on the path can read
    /// and change it. Logs a warning when a client is built with it.
    ///
    /// ```
    /// let tls = hwctl_http::TlsConfig::danger_accept_invalid_certs();
    /// assert!(tls.accepts_invalid_certs());
    /// assert!(format!("{tls:?}").contains("INSECURE"));
    /// ```
    pub fn danger_accept_invalid_certs() -> Self {
        TlsConfig {
            ca: CaSource::WebpkiRoots,
            accept_invalid_certs: true,
            setting: None,
            off_switch: None,
        }
    }

    /// Whether certificate verification is switched off.
    ///
    /// ```
    /// use hwctl_http::TlsConfig;
    /// assert!(!TlsConfig::verified().accepts_invalid_certs());
    /// assert!(TlsConfig::danger_accept_invalid_certs().accepts_invalid_certs());
    /// ```
    pub fn accepts_invalid_certs(&self) -> bool {
        self.accept_invalid_certs
    }

    /// The same verification, chosen by the user's setting `key` (a driver_info key
    /// such as `redfish_verify_ca`): a rejected certificate's error then says to
    /// point `key` at a CA bundle (or that `key=false` turns verification off), and
    /// the insecure-mode warning names it. [`EndpointConfig::read`] sets it.
    ///
    /// ```
    /// use hwctl_http::TlsConfig;
    /// let tls = TlsConfig::verified().with_setting("redfish_verify_ca");
    /// assert_eq!(tls.setting(), Some("redfish_verify_ca"));
    /// assert_eq!(TlsConfig::verified().setting(), None);
    /// ```
    pub fn with_setting(mut self, key: impl Into<String>) -> Self {
        self.setting = Some(key.into());
        self
    }

    /// How the user turns verification off, when it is not `<setting>=false` (the
    /// default that [`with_setting`](Self::with_setting) implies): the text a
    /// rejected certificate's error gives, as the user writes it. OneView, for
    /// one, points its CA key (`oneview_tls_cacert_file`) at files only and turns
    /// verification off with `oneview_allow_insecure_connections=true`.
    ///
    /// ```
    /// use hwctl_http::TlsConfig;
    /// let tls = TlsConfig::verified()
    ///     .with_setting("oneview_tls_cacert_file")
    ///     .with_off_switch("oneview_allow_insecure_connections=true");
    /// assert_eq!(tls.off_switch().as_deref(), Some("oneview_allow_insecure_connections=true"));
    /// // Without it, the setting's own `false`.
    /// let tls = TlsConfig::verified().with_setting("redfish_verify_ca");
    /// assert_eq!(tls.off_switch().as_deref(), Some("redfish_verify_ca=false"));
    /// assert_eq!(TlsConfig::verified().off_switch(), None);
    /// ```
    pub fn with_off_switch(mut self, setting: impl Into<String>) -> Self {
        self.off_switch = Some(setting.into());
        self
    }

    /// The text that turns verification off for the user: the one given to
    /// [`with_off_switch`](Self::with_off_switch), else `<setting>=false`, else
    /// `None` when no setting is known (the library used directly).
    pub fn off_switch(&self) -> Option<String> {
        self.off_switch
            .clone()
            .or_else(|| self.setting.as_ref().map(|k| format!("{k}=false")))
    }

    /// What a rejected certificate's error advises, naming the user's settings.
    pub(crate) fn certificate_hint(&self) -> Option<String> {
        let key = self.setting.as_ref()?;
        // Some whenever a setting is named: the given switch, else `<key>=false`.
        let off = self.off_switch()?;
        Some(format!(
            "set {key} to the path of a CA bundle that signed it, or fix the \
             certificate; {off} turns verification off, logged as insecure"
        ))
    }

    /// The setting named by [`with_setting`](Self::with_setting), if any.
    ///
    /// ```
    /// let tls = hwctl_http::TlsConfig::ca_pem(Vec::new()).with_setting("amt_verify_ca");
    /// assert_eq!(tls.setting(), Some("amt_verify_ca"));
    /// ```
    pub fn setting(&self) -> Option<&str> {
        self.setting.as_deref()
    }

    fn describe(&self) -> String {
        if self.accept_invalid_certs {
            return "INSECURE(accept-invalid-certs)".into();
        }
        match &self.ca {
            CaSource::WebpkiRoots => "webpki-roots".into(),
            CaSource::File(p) => format!("ca-file:{}", p.display()),
            CaSource::Pem(pem) => format!("ca-pem:{}", Fingerprint::of_parts(&[pem])),
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TlsConfig({})", self.describe())
    }
}

/// Everything that defines one endpoint and how to talk to it.
///
/// ```
/// use std::time::Duration;
/// use hwctl_http::{Auth, EndpointConfig};
///
/// let config = EndpointConfig::builder("https://cm.example.net:8000/")
///     .auth(Auth::basic("admin", "secret"))
///     .request_timeout(Duration::from_secs(20))
///     .max_concurrency(4)
///     .build()?;
/// assert_eq!(config.host(), "cm.example.net");
/// assert_eq!(config.port(), 8000);
/// assert!(!format!("{config:?}").contains("secret"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct EndpointConfig {
    pub(crate) scheme: Scheme,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) base_path: String,
    pub(crate) auth: Auth,
    pub(crate) tls: TlsConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) queue_timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_concurrency: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: String,
}

/// `http` or `https`.
///
/// ```
/// use hwctl_http::{EndpointConfig, Scheme};
/// let config = EndpointConfig::builder("https://10.0.0.5").build()?;
/// assert_eq!(config.scheme(), Scheme::Https);
/// assert_eq!(config.port(), 443);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    ///
    /// ```
    /// use hwctl_http::{EndpointConfig, Scheme};
    /// let config = EndpointConfig::builder("http://127.0.0.1:8000").build()?;
    /// assert_eq!(config.scheme(), Scheme::Http);
    /// assert_eq!(Scheme::Https.as_str(), "https");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl EndpointConfig {
    /// Starts a builder for the endpoint at `base_url` (`http://host:port/prefix` or
    /// `https://…`). Request paths are relative to it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = hwctl_http::EndpointConfig::builder("https://[fd00::5]/redfish").build()?;
    /// assert_eq!(config.host(), "fd00::5");
    /// assert_eq!(config.port(), 443); // the scheme's default
    /// assert_eq!(config.base_path(), "/redfish");
    /// assert_eq!(config.origin(), "https://[fd00::5]:443");
    /// assert_eq!(config.request_timeout(), Duration::from_secs(30));
    /// assert_eq!(config.max_concurrency(), 8);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> EndpointConfigBuilder {
        let base_url = base_url.into();
        let base = parse_base_url(&base_url);
        EndpointConfig::builder_parsed(base_url, base)
    }

    /// [`builder`](Self::builder) for a URL whose parse is known: `base` must be
    /// `parse_base_url(&base_url)` (hwctl-http's `read` remembers it).
    pub(crate) fn builder_parsed(base_url: String, base: ParsedBase) -> EndpointConfigBuilder {
        EndpointConfigBuilder {
            base,
            base_url,
            auth: Auth::None,
            tls: TlsConfig::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.into(),
        }
    }

    /// The scheme.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("http://10.0.0.5").build()?;
    /// assert_eq!(config.scheme(), hwctl_http::Scheme::Http);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// The host name or IP address (without brackets).
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://[fd00::5]:8443/").build()?;
    /// assert_eq!(config.host(), "fd00::5");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The port (explicit or the scheme's default).
    ///
    /// ```
    /// use hwctl_http::EndpointConfig;
    /// assert_eq!(EndpointConfig::builder("http://bmc").build()?.port(), 80);
    /// assert_eq!(EndpointConfig::builder("https://bmc:8443").build()?.port(), 8443);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The path prefix every request path is appended to (`""` for none).
    ///
    /// ```
    /// use hwctl_http::EndpointConfig;
    /// assert_eq!(EndpointConfig::builder("https://cm/api/v1/").build()?.base_path(), "/api/v1");
    /// assert_eq!(EndpointConfig::builder("https://cm/").build()?.base_path(), "");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn base_path(&self) -> &str {
        &self.base_path
    }
    /// The authentication.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.auth().scheme(), "none");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn auth(&self) -> &Auth {
        &self.auth
    }
    /// The TLS settings.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert!(!config.tls().accepts_invalid_certs());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn tls(&self) -> &TlsConfig {
        &self.tls
    }
    /// The connect timeout.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.connect_timeout(), std::time::Duration::from_secs(10));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// The request timeout.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.request_timeout(), std::time::Duration::from_secs(30));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The longest a request waits for one of the endpoint's concurrency slots.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.queue_timeout(), std::time::Duration::from_secs(120));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn queue_timeout(&self) -> Duration {
        self.queue_timeout
    }
    /// The response body cap in bytes.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.max_body_bytes(), 8 << 20);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
    /// The per-endpoint concurrency limit.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.max_concurrency(), 8);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn max_concurrency(&self) -> usize {
        self.max_concurrency
    }
    /// The retry policy.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").build()?;
    /// assert_eq!(config.retry().max_attempts, 3);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// `scheme://host:port` (IPv6 hosts in brackets), for messages.
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("http://cm.example:8000/").build()?;
    /// assert_eq!(config.origin(), "http://cm.example:8000");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn origin(&self) -> String {
        if self.host.contains(':') {
            format!("{}://[{}]:{}", self.scheme.as_str(), self.host, self.port)
        } else {
            format!("{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }

    /// The `host[:port]` authority for URIs and the `Host` header.
    pub(crate) fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The settings [`endpoint_key`] is made of: every field of the config. The key
    /// and the equality [`same_endpoint_key`] are both derived from this one value,
    /// so a setting added here is part of both (and a field added to the config
    /// fails to compile here until it is placed).
    ///
    /// [`endpoint_key`]: EndpointConfig::endpoint_key
    /// [`same_endpoint_key`]: EndpointConfig::same_endpoint_key
    fn key_fields(&self) -> KeyFields<'_> {
        let EndpointConfig {
            scheme,
            host,
            port,
            base_path,
            auth,
            tls,
            connect_timeout,
            request_timeout,
            queue_timeout,
            max_body_bytes,
            max_concurrency,
            retry,
            user_agent,
        } = self;
        KeyFields {
            scheme: *scheme,
            host,
            port: *port,
            base_path,
            auth: AuthKey(auth),
            tls,
            connect_timeout: *connect_timeout,
            request_timeout: *request_timeout,
            queue_timeout: *queue_timeout,
            max_body_bytes: *max_body_bytes,
            max_concurrency: *max_concurrency,
            retry: *retry,
            user_agent,
        }
    }

    /// Whether `self` and `other` agree on every setting [`endpoint_key`] is made
    /// of (and on the whole TLS configuration), so that their keys are equal. The
    /// secrets are compared as they are; neither is kept.
    ///
    /// [`endpoint_key`]: EndpointConfig::endpoint_key
    pub(crate) fn same_endpoint_key(&self, other: &EndpointConfig) -> bool {
        self.key_fields() == other.key_fields()
    }

    /// The key under which [`crate::HttpClients`] shares one client: every setting,
    /// with the secret kept only as hwctl-core's keyed fingerprint.
    pub(crate) fn endpoint_key(&self) -> EndpointKey {
        // Every field of `KeyFields`, by name: one added there must be added here.
        let KeyFields {
            scheme,
            host,
            port,
            base_path,
            auth: AuthKey(auth),
            tls,
            connect_timeout,
            request_timeout,
            queue_timeout,
            max_body_bytes,
            max_concurrency,
            retry,
            user_agent,
        } = self.key_fields();
        let key = EndpointKey::new(scheme.as_str(), host, port);
        auth.add_to_key(key)
            .extra("base_path", base_path)
            .extra("tls", tls.describe())
            .extra("connect_timeout", format_args!("{connect_timeout:?}"))
            .extra("request_timeout", format_args!("{request_timeout:?}"))
            .extra("queue_timeout", format_args!("{queue_timeout:?}"))
            .extra("max_body_bytes", max_body_bytes)
            .extra("max_concurrency", max_concurrency)
            .extra("retry", format_args!("{retry:?}"))
            .extra("user_agent", user_agent)
    }

    /// A builder holding every setting of this config, to change some and build
    /// again.
    ///
    /// ```
    /// use hwctl_http::{Auth, EndpointConfig};
    /// let config = EndpointConfig::builder("https://bmc:8443/redfish/").auth(Auth::basic("root", "pw")).build()?;
    /// let other = config.to_builder().max_concurrency(2).build()?;
    /// assert_eq!((other.port(), other.base_path()), (8443, "/redfish"));
    /// assert_eq!(other.auth().scheme(), "basic");
    /// assert_eq!(other.max_concurrency(), 2);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> EndpointConfigBuilder {
        let authority = self.authority();
        let base_url = format!("{}://{authority}{}/", self.scheme.as_str(), self.base_path);
        EndpointConfigBuilder {
            base: parse_base_url(&base_url),
            base_url,
            auth: self.auth.clone(),
            tls: self.tls.clone(),
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            queue_timeout: self.queue_timeout,
            max_body_bytes: self.max_body_bytes,
            max_concurrency: self.max_concurrency,
            retry: self.retry,
            user_agent: self.user_agent.clone(),
        }
    }
}

/// The settings of an [`EndpointConfig`] its shared client's key is made of, borrowed
/// (see `EndpointConfig::key_fields`). Equal fields give equal keys.
#[derive(PartialEq)]
struct KeyFields<'a> {
    scheme: Scheme,
    host: &'a str,
    port: u16,
    base_path: &'a str,
    auth: AuthKey<'a>,
    tls: &'a TlsConfig,
    connect_timeout: Duration,
    request_timeout: Duration,
    queue_timeout: Duration,
    max_body_bytes: usize,
    max_concurrency: usize,
    retry: RetryPolicy,
    user_agent: &'a str,
}

/// Credentials compared as the key sees them: the scheme, the user name and the
/// secret itself (the key holds its fingerprint), or a session's cache key.
struct AuthKey<'a>(&'a Auth);

impl PartialEq for AuthKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Auth::None, Auth::None) => true,
            (
                Auth::Basic {
                    username: u1,
                    password: p1,
                },
                Auth::Basic {
                    username: u2,
                    password: p2,
                },
            )
            | (
                Auth::Digest {
                    username: u1,
                    password: p1,
                },
                Auth::Digest {
                    username: u2,
                    password: p2,
                },
            ) => u1 == u2 && p1.expose_secret() == p2.expose_secret(),
            (Auth::Session(h1), Auth::Session(h2)) => h1.cache_key() == h2.cache_key(),
            _ => false,
        }
    }
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("origin", &self.origin())
            .field("base_path", &self.base_path)
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("queue_timeout", &self.queue_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_concurrency", &self.max_concurrency)
            .field("retry", &self.retry)
            .finish()
    }
}

/// Builder for [`EndpointConfig`]; values are checked by [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// use hwctl_core::retry::RetryPolicy;
/// use hwctl_http::{EndpointConfig, TlsConfig};
/// let config = EndpointConfig::builder("https://ov.example")
///     .tls(TlsConfig::danger_accept_invalid_certs())
///     .connect_timeout(Duration::from_secs(5))
///     .queue_timeout(Duration::from_secs(60))
///     .max_body_bytes(1 << 20)
///     .retry(RetryPolicy::none())
///     .user_agent("my-tool/1.0")
///     .build()?;
/// assert_eq!(config.connect_timeout(), Duration::from_secs(5));
/// assert_eq!(config.queue_timeout(), Duration::from_secs(60));
/// assert_eq!(config.max_body_bytes(), 1 << 20);
/// assert_eq!(config.retry().max_attempts, 1);
/// assert!(config.tls().accepts_invalid_certs());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct EndpointConfigBuilder {
    /// As given, for `Debug` (redacted).
    base_url: String,
    /// `base_url` parsed once, when the builder was made (it never changes after):
    /// `build`, and `EndpointConfig::read` before it, use these parts instead of
    /// parsing the string again.
    base: ParsedBase,
    auth: Auth,
    tls: TlsConfig,
    connect_timeout: Duration,
    request_timeout: Duration,
    queue_timeout: Duration,
    max_body_bytes: usize,
    max_concurrency: usize,
    retry: RetryPolicy,
    user_agent: String,
}

impl fmt::Debug for EndpointConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointConfigBuilder")
            .field("base_url", &redact_userinfo(&self.base_url))
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("queue_timeout", &self.queue_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_concurrency", &self.max_concurrency)
            .field("retry", &self.retry)
            .finish()
    }
}

impl EndpointConfigBuilder {
    /// How to authenticate (default: none).
    ///
    /// ```
    /// use hwctl_http::{Auth, EndpointConfig};
    /// let config = EndpointConfig::builder("https://bmc").auth(Auth::digest("admin", "pw")).build()?;
    /// assert_eq!(config.auth().scheme(), "digest");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    /// TLS settings for `https` (default: verified against the Mozilla roots).
    ///
    /// ```
    /// use hwctl_http::{EndpointConfig, TlsConfig};
    /// let config = EndpointConfig::builder("https://bmc")
    ///     .tls(TlsConfig::danger_accept_invalid_certs())
    ///     .build()?;
    /// assert!(config.tls().accepts_invalid_certs());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }
    /// How the user turns certificate verification off, for the advice a rejected
    /// certificate's error gives, when that is not `<CA key>=false`
    /// ([`TlsConfig::with_off_switch`]); keeps the rest of the TLS settings.
    ///
    /// ```
    /// use hwctl_http::{EndpointConfig, TlsConfig};
    /// let config = EndpointConfig::builder("https://appliance")
    ///     .tls(TlsConfig::verified().with_setting("oneview_tls_cacert_file"))
    ///     .tls_off_switch("oneview_allow_insecure_connections=true")
    ///     .build()?;
    /// assert_eq!(
    ///     config.tls().off_switch().as_deref(),
    ///     Some("oneview_allow_insecure_connections=true")
    /// );
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn tls_off_switch(mut self, setting: impl Into<String>) -> Self {
        self.tls.off_switch = Some(setting.into());
        self
    }
    /// TCP connect plus TLS handshake timeout (default 10 s; must be > 0).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_http::EndpointConfig;
    /// let config = EndpointConfig::builder("https://bmc").connect_timeout(Duration::from_secs(3)).build()?;
    /// assert_eq!(config.connect_timeout(), Duration::from_secs(3));
    /// let err = EndpointConfig::builder("https://bmc").connect_timeout(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.problems()[0].name, "connect_timeout");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// The longest a request waits for one of the endpoint's concurrency slots before
    /// failing with `Busy` (default 120 s; must be > 0).
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc")
    ///     .queue_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// assert_eq!(config.queue_timeout(), Duration::from_secs(5));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn queue_timeout(mut self, timeout: Duration) -> Self {
        self.queue_timeout = timeout;
        self
    }
    /// Timeout of one attempt, from having a concurrency slot to the last body byte
    /// (default 30 s; must be > 0). Waiting for a slot is bounded by `queue_timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc")
    ///     .request_timeout(Duration::from_millis(2500))
    ///     .build()?;
    /// assert_eq!(config.request_timeout(), Duration::from_millis(2500));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
    /// The largest response body accepted (default 8 MiB; must be > 0).
    ///
    /// ```
    /// let config = hwctl_http::EndpointConfig::builder("https://bmc").max_body_bytes(64 * 1024).build()?;
    /// assert_eq!(config.max_body_bytes(), 65_536);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }
    /// Requests in flight to this endpoint at once, and connections open to it
    /// (default 8; must be > 0).
    ///
    /// ```
    /// use hwctl_http::EndpointConfig;
    /// assert_eq!(EndpointConfig::builder("https://bmc").max_concurrency(1).build()?.max_concurrency(), 1);
    /// assert!(EndpointConfig::builder("https://bmc").max_concurrency(0).build().is_err());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n;
        self
    }
    /// Retry policy for idempotent requests (default: 3 attempts).
    ///
    /// ```
    /// use hwctl_http::{EndpointConfig, RetryPolicy};
    /// let config = EndpointConfig::builder("https://bmc").retry(RetryPolicy::none()).build()?;
    /// assert_eq!(config.retry().max_attempts, 1);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// The `User-Agent` header (default `hwctl-http/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Checks every value and builds the config; every problem is reported in one
    /// error.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::InvalidParameter`] listing every bad value under
    /// hwctl-http's own names (`base_url`, `connect_timeout`, `username`, `ca_file`, …).
    /// Drivers reading `driver_info` use [`EndpointConfig::read`], which reports
    /// under the driver's keys instead.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_http::EndpointConfig;
    /// let err = EndpointConfig::builder("ftp://bmc.example")
    ///     .connect_timeout(Duration::ZERO)
    ///     .max_concurrency(0)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert!(names.contains(&"base_url") && names.contains(&"connect_timeout"));
    /// assert!(names.contains(&"max_concurrency"));
    /// ```
    pub fn build(self) -> Result<EndpointConfig, Error> {
        let problems = self.problems();
        match self.base {
            Ok(BaseParts {
                scheme,
                host,
                port,
                base_path,
            }) if problems.is_empty() => Ok(EndpointConfig {
                scheme,
                host,
                port,
                base_path,
                auth: self.auth,
                tls: self.tls,
                connect_timeout: self.connect_timeout,
                request_timeout: self.request_timeout,
                queue_timeout: self.queue_timeout,
                max_body_bytes: self.max_body_bytes,
                max_concurrency: self.max_concurrency,
                retry: self.retry,
                user_agent: self.user_agent,
            }),
            _ => Err(Error::from_problems(problems).with_driver("hwctl-http")),
        }
    }

    /// Every problem [`build`](Self::build) would report, under hwctl-http's names
    /// (empty, without allocating, when it would build).
    pub(crate) fn problems(&self) -> Vec<ParameterProblem> {
        let mut problems = Vec::new();
        let mut bad = |name: &str, reason: String| {
            problems.push(ParameterProblem {
                name: name.into(),
                reason: Some(reason),
            })
        };
        if let Err(reason) = &self.base {
            bad("base_url", reason.clone());
        }
        if self.connect_timeout.is_zero() {
            bad("connect_timeout", "must be greater than zero".into());
        }
        if self.queue_timeout.is_zero() {
            bad("queue_timeout", "must be greater than zero".into());
        }
        if self.request_timeout.is_zero() {
            bad("request_timeout", "must be greater than zero".into());
        }
        if self.max_body_bytes == 0 {
            bad("max_body_bytes", "must be greater than zero".into());
        }
        if self.max_concurrency == 0 {
            bad("max_concurrency", "must be greater than zero".into());
        }
        if self.retry.max_attempts == 0 {
            bad("retry.max_attempts", "must be at least 1".into());
        }
        if self.retry.backoff.initial > self.retry.backoff.max {
            bad(
                "retry.backoff",
                "initial wait must not be larger than the longest wait".into(),
            );
        }
        // The default is a valid value; checking it made a copy per node (issue 16).
        if self.user_agent != DEFAULT_USER_AGENT
            && http::HeaderValue::from_str(&self.user_agent).is_err()
        {
            bad("user_agent", "is not a valid header value".into());
        }
        match &self.auth {
            Auth::Basic { username, .. } if username.contains(':') => {
                bad("username", "must not contain ':' for basic auth".into())
            }
            Auth::Basic { username, .. } | Auth::Digest { username, .. } if username.is_empty() => {
                bad("username", "must not be empty".into())
            }
            _ => {}
        }
        if let CaSource::File(path) = &self.tls.ca
            && !path.is_file()
        {
            bad(
                "ca_file",
                format!("{} is not a readable file", path.display()),
            );
        }
        problems
    }
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}<redacted>@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// What [`parse_base_url`] makes of a base URL: its parts, or why it is refused.
pub(crate) type ParsedBase = Result<BaseParts, String>;

/// A base URL split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseParts {
    scheme: Scheme,
    /// Without IPv6 brackets.
    host: String,
    port: u16,
    /// The path prefix without trailing '/'.
    base_path: String,
}

/// Splits a base URL into scheme, host, port and path prefix (without trailing '/').
pub(crate) fn parse_base_url(url: &str) -> ParsedBase {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("{:?} is not a URL", redact_userinfo(url)))?;
    let scheme = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
        Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
        Some(s) => return Err(format!("scheme {s:?} is not http or https")),
        None => return Err("has no scheme (expected http:// or https://)".into()),
    };
    let authority = uri.authority().ok_or_else(|| "has no host".to_string())?;
    if authority.as_str().contains('@') {
        return Err("must not contain credentials: use the auth setting".into());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err("has no host".into());
    }
    let port = authority.port_u16().unwrap_or(match scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    });
    if uri.query().is_some() {
        return Err("must not have a query".into());
    }
    let base_path = uri.path().trim_end_matches('/').to_string();
    Ok(BaseParts {
        scheme,
        host: host.to_string(),
        port,
        base_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base_urls() {
        let c = EndpointConfig::builder("http://10.0.0.1:8000/api/")
            .build()
            .unwrap();
        assert_eq!(
            (c.host(), c.port(), c.base_path()),
            ("10.0.0.1", 8000, "/api")
        );
        let c = EndpointConfig::builder("https://[::1]/").build().unwrap();
        assert_eq!((c.host(), c.port(), c.base_path()), ("::1", 443, ""));
        assert_eq!(c.origin(), "https://[::1]:443");
        assert_eq!(c.authority(), "[::1]");
    }

    /// The builder parses its URL once, when made (issue 16): what `build` gives is
    /// every part of that parse, for a URL given and for one made by `to_builder`,
    /// and a bad URL is one problem with the parser's reason.
    #[test]
    fn a_builder_builds_the_parts_it_parsed_when_made() {
        for (url, scheme, host, port, path) in [
            (
                "http://10.0.0.1:8000/api/",
                Scheme::Http,
                "10.0.0.1",
                8000,
                "/api",
            ),
            (
                "HTTPS://[fd00::5]/redfish/v1",
                Scheme::Https,
                "fd00::5",
                443,
                "/redfish/v1",
            ),
            ("http://cm", Scheme::Http, "cm", 80, ""),
            (
                "https://cm.example:8443//",
                Scheme::Https,
                "cm.example",
                8443,
                "",
            ),
        ] {
            let c = EndpointConfig::builder(url)
                .max_concurrency(3)
                .build()
                .unwrap();
            let got = (c.scheme, c.host(), c.port(), c.base_path());
            assert_eq!(got, (scheme, host, port, path), "{url}");
            assert_eq!(c.max_concurrency(), 3);
            let again = c.to_builder().build().unwrap();
            let got = (again.scheme, again.host(), again.port(), again.base_path());
            assert_eq!(got, (scheme, host, port, path), "{url} again");
        }
        let err = EndpointConfig::builder("ftp://x").build().unwrap_err();
        let reasons: Vec<_> = err
            .problems()
            .iter()
            .map(|p| (p.name.as_str(), p.reason.as_deref()))
            .collect();
        assert_eq!(
            reasons,
            [("base_url", Some("scheme \"ftp\" is not http or https"))]
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = EndpointConfig::builder("ftp://x")
            .connect_timeout(Duration::ZERO)
            .max_concurrency(0)
            .max_body_bytes(0)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
        let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "base_url",
                "connect_timeout",
                "max_body_bytes",
                "max_concurrency"
            ]
        );
    }

    #[test]
    fn userinfo_in_url_is_rejected_and_not_echoed() {
        let err = EndpointConfig::builder("http://admin:hunter2@host/")
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"));
    }
}
