//! Reading an endpoint's part of a node's `driver_info` under the driver's own key
//! names, into the driver's [`Validator`], so every problem is reported once, under
//! the key the user wrote, together with the driver's other problems.
//!
//! | setting | [`EndpointKeys`] field | value | checked at validation |
//! |---|---|---|---|
//! | base URL | `url` (required) | `http(s)://host[:port][/path]`; without a scheme, the driver's default scheme if it has one | scheme `http`/`https`; host an IP address, `localhost` or an RFC 1123 name; port 1–65535; no credentials, query or fragment |
//! | user | `username` | text | basic: no `:`; given with a password |
//! | password | `password` | secret text | never echoed |
//! | TLS verification | `verify_ca` | `true`/`yes`/`1` (verify against the Mozilla roots), `false`/`no`/`0` (**insecure**: no verification), or a path to a CA bundle | a path must be a readable file holding PEM CA certificates, and the URL must be `https` |
//! | connect timeout | `connect_timeout` | seconds, 1 to 600 (decimals allowed) | range |
//! | request timeout | `request_timeout` | seconds, 1 to 3600 (decimals allowed) | range |
//! | concurrency limit | `max_concurrency` | requests in flight to the endpoint, 1 to 256 | range |
//!
//! Keys left `None` in [`EndpointKeys`] are not read (their setting keeps hwctl-http's
//! default, or what the driver sets on the returned builder). Absent optional values
//! fall back to the schema's default, then to hwctl-http's.

use hwctl_core::driver_info::is_valid_host;
use hwctl_core::{ExposeSecret, Validator};

use std::sync::Mutex;

use crate::config::{
    Auth, EndpointConfig, EndpointConfigBuilder, ParsedBase, TlsConfig, parse_base_url,
};

/// The lowest and highest connect timeout read from `driver_info`, in seconds.
pub const CONNECT_TIMEOUT_RANGE: (f64, f64) = (1.0, 600.0);
/// The lowest and highest request timeout read from `driver_info`, in seconds.
pub const REQUEST_TIMEOUT_RANGE: (f64, f64) = (1.0, 3600.0);
/// The highest concurrency limit read from `driver_info` (the lowest is 1).
pub const MAX_CONCURRENCY_LIMIT: i64 = 256;

/// Which authentication the credentials are for.
///
/// ```
/// use hwctl_http::driver_info::{CredentialScheme, EndpointKeys};
/// assert_eq!(EndpointKeys::new("x_url").scheme, CredentialScheme::Basic);
/// assert_eq!(EndpointKeys::new("x_url").digest().scheme, CredentialScheme::Digest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialScheme {
    /// HTTP basic authentication.
    Basic,
    /// HTTP digest authentication.
    Digest,
}

/// A driver's names for the endpoint keys of its `driver_info` (see the
/// [module docs](self) for what each holds). Declared once per driver as a
/// constant.
///
/// ```
/// use hwctl_http::driver_info::EndpointKeys;
/// const KEYS: EndpointKeys = EndpointKeys::new("msftocs_base_url")
///     .credentials("msftocs_username", "msftocs_password")
///     .verify_ca("msftocs_verify_ca")
///     .request_timeout("msftocs_request_timeout")
///     .max_concurrency("msftocs_max_connections");
/// assert_eq!(KEYS.url, "msftocs_base_url");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointKeys {
    /// The base URL's key (required).
    pub url: &'static str,
    /// The user name's key.
    pub username: Option<&'static str>,
    /// The password's key.
    pub password: Option<&'static str>,
    /// How the credentials authenticate (default basic).
    pub scheme: CredentialScheme,
    /// The TLS verification key (`true`, `false` or a CA bundle path).
    pub verify_ca: Option<&'static str>,
    /// The connect timeout's key (seconds).
    pub connect_timeout: Option<&'static str>,
    /// The request timeout's key (seconds).
    pub request_timeout: Option<&'static str>,
    /// The concurrency limit's key.
    pub max_concurrency: Option<&'static str>,
}

impl EndpointKeys {
    /// Keys with only the base URL's.
    ///
    /// ```
    /// let keys = hwctl_http::driver_info::EndpointKeys::new("iboot_url");
    /// assert_eq!(keys.url, "iboot_url");
    /// assert_eq!((keys.username, keys.verify_ca), (None, None));
    /// ```
    pub const fn new(url: &'static str) -> Self {
        EndpointKeys {
            url,
            username: None,
            password: None,
            scheme: CredentialScheme::Basic,
            verify_ca: None,
            connect_timeout: None,
            request_timeout: None,
            max_concurrency: None,
        }
    }

    /// The user name and password keys (basic authentication unless
    /// [`digest`](Self::digest)).
    ///
    /// ```
    /// let keys = hwctl_http::driver_info::EndpointKeys::new("x_url").credentials("x_user", "x_password");
    /// assert_eq!((keys.username, keys.password), (Some("x_user"), Some("x_password")));
    /// ```
    pub const fn credentials(mut self, username: &'static str, password: &'static str) -> Self {
        self.username = Some(username);
        self.password = Some(password);
        self
    }

    /// The credentials are for digest authentication.
    ///
    /// ```
    /// use hwctl_core::DriverInfo;
    /// use hwctl_http::EndpointConfig;
    /// use hwctl_http::driver_info::EndpointKeys;
    /// const KEYS: EndpointKeys = EndpointKeys::new("amt_address").credentials("amt_username", "amt_password").digest();
    /// let info = DriverInfo::from_pairs([("amt_address", "http://10.0.0.9:16992"), ("amt_username", "admin"), ("amt_password", "pw")]);
    /// let mut v = info.validator(&[]);
    /// let config = EndpointConfig::read(&mut v, &KEYS, None).unwrap().build()?;
    /// assert_eq!(config.auth().scheme(), "digest");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub const fn digest(mut self) -> Self {
        self.scheme = CredentialScheme::Digest;
        self
    }

    /// The TLS verification key.
    ///
    /// ```
    /// use hwctl_core::DriverInfo;
    /// use hwctl_http::EndpointConfig;
    /// use hwctl_http::driver_info::EndpointKeys;
    /// const KEYS: EndpointKeys = EndpointKeys::new("x_url").verify_ca("x_verify_ca");
    /// let info = DriverInfo::from_pairs([("x_url", "https://bmc"), ("x_verify_ca", "false")]);
    /// let mut v = info.validator(&[]);
    /// let config = EndpointConfig::read(&mut v, &KEYS, None).unwrap().build()?;
    /// assert!(config.tls().accepts_invalid_certs());
    /// // Certificate errors name the key to change.
    /// assert_eq!(config.tls().setting(), Some("x_verify_ca"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub const fn verify_ca(mut self, key: &'static str) -> Self {
        self.verify_ca = Some(key);
        self
    }

    /// The connect timeout key.
    ///
    /// ```
    /// use hwctl_core::DriverInfo;
    /// use hwctl_http::EndpointConfig;
    /// use hwctl_http::driver_info::EndpointKeys;
    /// const KEYS: EndpointKeys = EndpointKeys::new("x_url").connect_timeout("x_connect_timeout");
    /// let info = DriverInfo::from_pairs([("x_url", "https://bmc"), ("x_connect_timeout", "2")]);
    /// let mut v = info.validator(&[]);
    /// let config = EndpointConfig::read(&mut v, &KEYS, None).unwrap().build()?;
    /// assert_eq!(config.connect_timeout(), std::time::Duration::from_secs(2));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub const fn connect_timeout(mut self, key: &'static str) -> Self {
        self.connect_timeout = Some(key);
        self
    }

    /// The request timeout key.
    ///
    /// ```
    /// let keys = hwctl_http::driver_info::EndpointKeys::new("x_url").request_timeout("x_timeout");
    /// assert_eq!(keys.request_timeout, Some("x_timeout"));
    /// ```
    pub const fn request_timeout(mut self, key: &'static str) -> Self {
        self.request_timeout = Some(key);
        self
    }

    /// The concurrency limit key.
    ///
    /// ```
    /// use hwctl_core::DriverInfo;
    /// use hwctl_http::EndpointConfig;
    /// use hwctl_http::driver_info::EndpointKeys;
    /// const KEYS: EndpointKeys = EndpointKeys::new("x_url").max_concurrency("x_max_connections");
    /// let info = DriverInfo::from_pairs([("x_url", "https://bmc"), ("x_max_connections", "0")]);
    /// let mut v = info.validator(&[]);
    /// assert!(EndpointConfig::read(&mut v, &KEYS, None).is_none());
    /// assert_eq!(v.finish().unwrap_err().problems()[0].name, "x_max_connections");
    /// ```
    pub const fn max_concurrency(mut self, key: &'static str) -> Self {
        self.max_concurrency = Some(key);
        self
    }
}

impl EndpointConfig {
    /// Reads the endpoint's settings from `v`'s `driver_info` under `keys`,
    /// recording every problem in `v` under the key the user wrote (including a CA
    /// bundle that exists but holds no PEM certificate). `default_scheme` is put in
    /// front of a URL written without one (`Some("https")`); `None` requires the
    /// scheme (Ironic's rule for `msftocs_base_url`).
    ///
    /// Returns the builder (the driver may set more, such as
    /// [`max_body_bytes`](EndpointConfigBuilder::max_body_bytes), then
    /// [`build`](EndpointConfigBuilder::build)) when every endpoint key was valid;
    /// `None` otherwise (the problems are in `v`; [`Validator::finish`] reports them
    /// with the driver's others).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// use hwctl_http::EndpointConfig;
    /// use hwctl_http::driver_info::EndpointKeys;
    ///
    /// const KEYS: EndpointKeys = EndpointKeys::new("x_url")
    ///     .credentials("x_user", "x_password")
    ///     .verify_ca("x_verify_ca")
    ///     .request_timeout("x_timeout");
    /// const SCHEMA: &[Property] = &[Property::required("x_url", "URL."),
    ///     Property::required("x_user", "User."), Property::required("x_password", "Password.").secret()];
    ///
    /// let info = DriverInfo::from_pairs([("x_url", "10.0.0.5:8443"), ("x_user", "admin"),
    ///     ("x_password", "pw"), ("x_timeout", "12.5")]);
    /// let mut v = info.validator(SCHEMA);
    /// let config = EndpointConfig::read(&mut v, &KEYS, Some("https")).unwrap().build()?;
    /// v.finish()?;
    /// assert_eq!(config.origin(), "https://10.0.0.5:8443");
    /// assert_eq!(config.request_timeout(), std::time::Duration::from_millis(12_500));
    ///
    /// let info = DriverInfo::from_pairs([("x_url", "http://u:pw@h/"), ("x_password", "pw"),
    ///     ("x_verify_ca", "/no/such/ca.pem"), ("x_timeout", "0")]);
    /// let mut v = info.validator(SCHEMA);
    /// assert!(EndpointConfig::read(&mut v, &KEYS, Some("https")).is_none());
    /// let err = v.finish().unwrap_err();
    /// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(names, ["x_user", "x_url", "x_verify_ca", "x_timeout"]);
    /// assert!(!err.to_string().contains("pw"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn read(
        v: &mut Validator<'_>,
        keys: &EndpointKeys,
        default_scheme: Option<&str>,
    ) -> Option<EndpointConfigBuilder> {
        let mut ok = true;
        let url = read_url(v, keys.url, default_scheme);

        let username = keys.username.and_then(|k| v.str(k));
        let password = keys.password.and_then(|k| v.secret(k));
        let auth = match (username, password) {
            (Some(user), Some(password)) => {
                if keys.scheme == CredentialScheme::Basic && user.contains(':') {
                    if let Some(k) = keys.username {
                        v.invalid(k, "must not contain ':' (HTTP basic authentication)");
                    }
                    ok = false;
                }
                match keys.scheme {
                    CredentialScheme::Basic => Auth::basic(user, password),
                    CredentialScheme::Digest => Auth::digest(user, password),
                }
            }
            (Some(_), None) => {
                if let Some(k) = keys.password {
                    v.missing(k);
                }
                ok = false;
                Auth::None
            }
            (None, Some(password)) => {
                // An empty password is no credential: nothing to miss.
                if let Some(k) = keys.username
                    && !password.expose_secret().is_empty()
                {
                    v.missing(k);
                }
                ok = false;
                Auth::None
            }
            (None, None) => Auth::None,
        };

        let https = url.as_ref().is_some_and(|(u, _)| u.scheme() == "https");
        let tls = match keys.verify_ca {
            Some(key) => read_verify_ca(v, key, keys.url, url.is_some(), https)
                .map(|tls| tls.with_setting(key)),
            None => Some(TlsConfig::verified()),
        };
        ok &= tls.is_some();

        // `Some(None)`: not given (default); `None`: given but invalid (recorded).
        let seconds = |v: &mut Validator<'_>, key: Option<&str>, (min, max): (f64, f64)| {
            let Some(k) = key else { return Some(None) };
            match v.seconds(k, min, max) {
                Some(d) => Some(Some(d)),
                None if v.is_set(k) => None,
                None => Some(None),
            }
        };
        let connect = seconds(v, keys.connect_timeout, CONNECT_TIMEOUT_RANGE);
        let request = seconds(v, keys.request_timeout, REQUEST_TIMEOUT_RANGE);
        ok &= connect.is_some() && request.is_some();
        let max_concurrency = match keys.max_concurrency {
            Some(k) => match v.int_in_range(k, 1, MAX_CONCURRENCY_LIMIT) {
                Some(n) => Some(usize::try_from(n).ok()),
                None if v.is_set(k) => None,
                None => Some(None),
            },
            None => Some(None),
        };
        ok &= max_concurrency.is_some();

        let (url, base) = url?;
        if !ok {
            return None;
        }
        // The URL's own serialization, moved (not copied) into the builder, which
        // parses it once for both the check below and the driver's `build`.
        let mut builder = EndpointConfig::builder_parsed(String::from(url), base)
            .auth(auth)
            .tls(tls?);
        if let Some(Some(d)) = connect {
            builder = builder.connect_timeout(d);
        }
        if let Some(Some(d)) = request {
            builder = builder.request_timeout(d);
        }
        if let Some(Some(n)) = max_concurrency {
            builder = builder.max_concurrency(n);
        }
        // Whatever `build` would still refuse, under the user's key.
        let mut clean = true;
        for p in builder.problems() {
            let key = match p.name.as_str() {
                "base_url" => keys.url,
                "username" => keys.username.unwrap_or(keys.url),
                "ca_file" => keys.verify_ca.unwrap_or(keys.url),
                "connect_timeout" => keys.connect_timeout.unwrap_or(keys.url),
                "request_timeout" => keys.request_timeout.unwrap_or(keys.url),
                "max_concurrency" => keys.max_concurrency.unwrap_or(keys.url),
                _ => keys.url,
            };
            v.invalid(key, p.reason.unwrap_or_else(|| "is invalid".into()));
            clean = false;
        }
        clean.then_some(builder)
    }
}

/// The last URL [`read_url`] accepted: the value as written, the scheme put in
/// front of it when it had none, and what became of it.
///
/// A sweep reads one `driver_info` per node, and the nodes of one chassis follow
/// each other: parsing the same URL twice per node (the `url` crate's parse, then
/// `http`'s) was a fifth of building one (issue 16). The result is a function of
/// the value and the scheme alone, so an equal pair gets the remembered one, with
/// no problem to record (only accepted URLs are kept). An accepted URL holds no
/// credentials, so nothing secret is kept; a different value only costs the parse.
struct LastUrl {
    raw: String,
    scheme: String,
    url: hwctl_core::driver_info::Url,
    base: ParsedBase,
}

/// The one remembered URL ([`LastUrl`]).
struct UrlMemo(Mutex<Option<LastUrl>>);

static LAST_URL: UrlMemo = UrlMemo(Mutex::new(None));

impl UrlMemo {
    /// What `raw` with `scheme` became, if it is the pair remembered.
    fn get(&self, raw: &str, scheme: &str) -> Option<(hwctl_core::driver_info::Url, ParsedBase)> {
        let last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref()
            .filter(|l| l.raw == raw && l.scheme == scheme)
            .map(|l| (l.url.clone(), l.base.clone()))
    }

    /// Remembers an accepted URL instead of the last one.
    fn put(
        &self,
        raw: String,
        scheme: &str,
        url: &hwctl_core::driver_info::Url,
        base: &ParsedBase,
    ) {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(LastUrl {
            raw,
            scheme: scheme.to_owned(),
            url: url.clone(),
            base: base.clone(),
        });
    }
}

/// The URL of `key`, with the checks `reqwest`-style parsing leaves out (host syntax,
/// port 0, credentials, query, fragment), and its parse as a base URL.
fn read_url(
    v: &mut Validator<'_>,
    key: &str,
    default_scheme: Option<&str>,
) -> Option<(hwctl_core::driver_info::Url, ParsedBase)> {
    // A URL is text: a JSON number or boolean is refused as such, not read as
    // the text "42" (and never matched against the last URL's cache).
    if !v.require_string(key) {
        return None;
    }
    let raw = v.str(key)?;
    let scheme = match default_scheme {
        Some(s) => s,
        None if raw.contains("://") => "https",
        None => {
            v.invalid(
                key,
                format!("{raw:?} has no scheme (expected http(s)://host[:port][/path])"),
            );
            return None;
        }
    };
    if let Some(hit) = LAST_URL.get(&raw, scheme) {
        return Some(hit);
    }
    let url = v.url(key, scheme, &["http", "https"])?;
    // Only formatted for a message (a valid URL costs no allocation here).
    let shown = || {
        format!(
            "\"{}://{}{}\"",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        )
    };
    let why = if !url.username().is_empty() || url.password().is_some() {
        Some("must not contain credentials: give them in their own keys".to_owned())
    } else if url.query().is_some() || url.fragment().is_some() {
        Some("must not have a query or fragment".to_owned())
    } else if !url.host_str().is_some_and(is_valid_host) {
        Some(format!(
            "{} has an invalid host (expected an IP address, localhost or a host name)",
            shown()
        ))
    } else if url.port() == Some(0) {
        Some(format!("{} has port 0", shown()))
    } else if raw.chars().any(char::is_whitespace) {
        Some("must not contain spaces".to_owned())
    } else {
        None
    };
    match why {
        Some(why) => {
            v.invalid(key, why);
            None
        }
        None => {
            let base = parse_base_url(url.as_str());
            LAST_URL.put(raw, scheme, &url, &base);
            Some((url, base))
        }
    }
}

/// `true` / `false` / a CA bundle path: a path must be a readable file of PEM CA
/// certificates and the URL `https` (when the URL is known to be valid).
fn read_verify_ca(
    v: &mut Validator<'_>,
    key: &str,
    url_key: &str,
    url_valid: bool,
    https: bool,
) -> Option<TlsConfig> {
    let Some(raw) = v.str(key) else {
        return Some(TlsConfig::verified());
    };
    match raw.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => return Some(TlsConfig::verified()),
        "false" | "no" | "0" | "off" => return Some(TlsConfig::danger_accept_invalid_certs()),
        _ => {}
    }
    let path = std::path::PathBuf::from(&raw);
    let bytes = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => std::fs::read(&path).map_err(|e| format!("cannot be read ({e})")),
        Ok(_) => Err("is not a file".to_owned()),
        Err(e) => Err(format!("is not a readable file ({e})")),
    };
    let checked = bytes.and_then(|pem| {
        let mut roots = rustls::RootCertStore::empty();
        crate::transport::add_ca_pem(&mut roots, &pem)
    });
    if let Err(why) = checked {
        v.invalid(
            key,
            format!("{raw:?} {why} (expected true, false, or a CA bundle path)"),
        );
        return None;
    }
    if url_valid && !https {
        v.invalid(
            key,
            format!("{raw:?} is a CA bundle, but {url_key} is not https"),
        );
        return None;
    }
    Some(TlsConfig::ca_file(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::{DriverInfo, Property};

    const KEYS: EndpointKeys = EndpointKeys::new("d_url")
        .credentials("d_user", "d_password")
        .verify_ca("d_verify_ca")
        .connect_timeout("d_connect")
        .request_timeout("d_timeout")
        .max_concurrency("d_max");
    const SCHEMA: &[Property] = &[
        Property::required("d_url", "URL."),
        Property::required("d_user", "User."),
        Property::required("d_password", "Password.").secret(),
    ];

    fn problems(pairs: &[(&str, &str)], default_scheme: Option<&str>) -> Vec<(String, String)> {
        let info = DriverInfo::from_pairs(pairs.iter().copied());
        let mut v = info.validator(SCHEMA);
        let b = EndpointConfig::read(&mut v, &KEYS, default_scheme);
        match v.finish() {
            Ok(()) => {
                assert!(b.is_some());
                Vec::new()
            }
            Err(e) => {
                assert!(b.is_none(), "a builder despite {e}");
                e.problems()
                    .iter()
                    .map(|p| (p.name.clone(), p.reason.clone().unwrap_or_default()))
                    .collect()
            }
        }
    }

    /// The remembered URL serves only the value and scheme it was read from:
    /// either differing is a miss.
    #[test]
    fn the_url_memo_serves_only_the_same_value_and_scheme() {
        let memo = UrlMemo(Mutex::new(None));
        let url = hwctl_core::driver_info::Url::parse("https://cm:8000/").unwrap();
        let base = parse_base_url(url.as_str());
        assert!(memo.get("cm:8000", "https").is_none());
        memo.put("cm:8000".into(), "https", &url, &base);
        let (hit, hit_base) = memo.get("cm:8000", "https").unwrap();
        assert_eq!((hit.as_str(), &hit_base), ("https://cm:8000/", &base));
        assert!(memo.get("cm:8000", "http").is_none(), "scheme ignored");
        assert!(memo.get("cm:8001", "https").is_none(), "value ignored");
        assert!(memo.get("CM:8000", "https").is_none(), "value ignored");
    }

    /// Through `read`, one value after another as a sweep reads them: each gets
    /// its own endpoint (the memo in between or not), and a value refused after
    /// an accepted one is still refused with its reason.
    #[test]
    fn reading_urls_in_turn_gives_each_its_own_endpoint() {
        let origin = |url: &str, scheme: Option<&str>| {
            let mut pairs = with(&[]);
            pairs[0] = ("d_url", url);
            let info = DriverInfo::from_pairs(pairs.iter().copied());
            let mut v = info.validator(SCHEMA);
            let b = EndpointConfig::read(&mut v, &KEYS, scheme);
            v.finish().map(|()| b.unwrap().build().unwrap().origin())
        };
        for _ in 0..2 {
            let cases = [
                ("cm.example:8443", Some("https"), "https://cm.example:8443"),
                ("cm.example:8443", Some("http"), "http://cm.example:8443"),
                ("http://cm.example:8443", None, "http://cm.example:8443"),
                ("http://cm.example:8444/x", None, "http://cm.example:8444"),
            ];
            for (url, scheme, want) in cases {
                assert_eq!(origin(url, scheme).unwrap(), want, "{url} {scheme:?}");
                assert_eq!(origin(url, scheme).unwrap(), want, "{url} {scheme:?} again");
            }
            let err = origin("http://cm.example:0", None).unwrap_err();
            assert!(err.to_string().contains("has port 0"), "{err}");
            let err = origin("cm.example:8443", None).unwrap_err();
            assert!(err.to_string().contains("has no scheme"), "{err}");
        }
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            ("d_url", "https://cm.example:8000"),
            ("d_user", "admin"),
            ("d_password", "pw"),
        ];
        for (k, val) in extra {
            v.retain(|(kk, _)| kk != k);
            v.push((k, val));
        }
        v
    }

    #[test]
    fn ironic_url_rules() {
        for good in [
            "http://fake.com",
            "http://fake",
            "http://localhost",
            "https://fake.com",
            "http://10.0.0.1",
            "http://fake.com/blah",
            "HTTP://fakehost:8000/",
            "https://[::1]:8443",
        ] {
            assert_eq!(problems(&with(&[("d_url", good)]), None), [], "{good}");
        }
        for bad in [
            "bad-url",
            "http://.bad-url",
            "http://bad-url$",
            "http://$bad-url",
            "http://bad$url",
            "ftp://x",
            "http://u:p@host",
            "http://host:0",
            "http://host:99999",
            "http://host/?x=1",
            "http://host/#frag",
            "http://",
        ] {
            let p = problems(&with(&[("d_url", bad)]), None);
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert_eq!(p[0].0, "d_url", "{bad}: {p:?}");
            assert!(!p[0].1.contains("u:p"), "{p:?}");
        }
        // With a default scheme, a bare host:port is fine.
        assert_eq!(
            problems(&with(&[("d_url", "10.0.0.5:8000")]), Some("https")),
            []
        );
    }

    #[test]
    fn a_ca_bundle_that_is_not_pem_is_reported_under_the_drivers_key_with_the_rest() {
        let not_pem = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let p = problems(
            &[
                ("d_url", "https://cm:8000"),
                ("d_password", "pw"),
                ("d_verify_ca", not_pem),
                ("d_timeout", "0"),
            ],
            None,
        );
        let names: Vec<_> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["d_user", "d_verify_ca", "d_timeout"], "{p:?}");
        assert!(
            p[1].1.contains("Cargo.toml") && p[1].1.contains("PEM"),
            "{p:?}"
        );
        assert!(!p.iter().any(|(n, _)| n == "ca_file"));
    }

    #[test]
    fn verify_ca_values() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["cm".into()]).unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, ca.cert.pem()).unwrap();
        let path_s = path.to_str().unwrap().to_owned();
        let path_s: &'static str = Box::leak(path_s.into_boxed_str());
        let read = |pairs: Vec<(&str, &str)>| {
            let info = DriverInfo::from_pairs(pairs);
            let mut v = info.validator(SCHEMA);
            let b = EndpointConfig::read(&mut v, &KEYS, None).unwrap();
            v.finish().unwrap();
            b.build().unwrap()
        };
        assert!(
            read(with(&[("d_verify_ca", "FALSE")]))
                .tls()
                .accepts_invalid_certs()
        );
        let c = read(with(&[("d_verify_ca", "no")]));
        assert!(c.tls().accepts_invalid_certs());
        let c = read(with(&[("d_verify_ca", "true")]));
        // The key rides along, for certificate errors to name it.
        assert_eq!(c.tls(), &TlsConfig::verified().with_setting("d_verify_ca"));
        let c = read(with(&[("d_verify_ca", path_s)]));
        assert_eq!(
            c.tls(),
            &TlsConfig::ca_file(&path).with_setting("d_verify_ca")
        );
        // A CA bundle with a plain-HTTP URL is a mistake, said under the CA key.
        let p = problems(
            &with(&[("d_url", "http://cm"), ("d_verify_ca", path_s)]),
            None,
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "d_verify_ca");
        assert!(p[0].1.contains("d_url is not https"), "{p:?}");
    }

    #[test]
    fn timeouts_limits_and_credentials() {
        let info = DriverInfo::from_pairs(with(&[
            ("d_connect", "2.5"),
            ("d_timeout", "12"),
            ("d_max", "4"),
        ]));
        let mut v = info.validator(SCHEMA);
        let c = EndpointConfig::read(&mut v, &KEYS, None)
            .unwrap()
            .build()
            .unwrap();
        v.finish().unwrap();
        assert_eq!(c.connect_timeout(), std::time::Duration::from_millis(2500));
        assert_eq!(c.request_timeout(), std::time::Duration::from_secs(12));
        assert_eq!(c.max_concurrency(), 4);
        assert_eq!(c.auth().scheme(), "basic");

        let p = problems(
            &with(&[
                ("d_user", "a:b"),
                ("d_connect", "601"),
                ("d_timeout", "x"),
                ("d_max", "257"),
            ]),
            None,
        );
        let names: Vec<_> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["d_user", "d_connect", "d_timeout", "d_max"],
            "{p:?}"
        );
    }
}
