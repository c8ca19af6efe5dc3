//! Typed configuration, built from a node's `driver_info` with Ironic's keys.

use std::fmt;
use std::time::Duration;

use hw_core::driver_info::is_valid_host;
use hw_core::{DriverInfo, NodeContext, Property, Result, SecretString};

/// The highest blade id a chassis manager accepts (a 48-blade chassis).
pub const MAX_BLADE_ID: u32 = 48;

/// Default inactivity timeout of a serial session, in seconds (the chassis
/// manager's own `bladeSerialTimeout` default).
pub const DEFAULT_CONSOLE_TIMEOUT_SECS: u32 = 300;

/// Default timeout of one HTTP request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of requests in flight to one chassis manager at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// The `driver_info` properties of the `msftocs` hardware type.
pub const PROPERTIES: &[Property] = &[
    Property::required(
        "msftocs_base_url",
        "Base URL of the chassis manager REST service, e.g. http://10.0.0.1:8000 (http or https).",
    ),
    Property::required("msftocs_blade_id", "Blade id in the chassis, 1 to 48."),
    Property::required("msftocs_username", "User name for HTTP basic authentication."),
    Property::required("msftocs_password", "Password for HTTP basic authentication.").secret(),
    Property::optional(
        "msftocs_console_timeout",
        "Inactivity timeout of a serial console session, in seconds (1 to 86400).",
    )
    .default_value("300"),
    Property::optional(
        "msftocs_request_timeout",
        "Timeout of one request to the chassis manager, in seconds (1 to 3600).",
    )
    .default_value("30"),
    Property::optional(
        "msftocs_max_connections",
        "Requests in flight to one chassis manager at once, shared by all its blades (1 to 256).",
    )
    .default_value("8"),
    Property::optional(
        "msftocs_verify_ca",
        "https only: true (verify against the system roots), false (INSECURE: no verification), or a path to a CA bundle.",
    )
    .default_value("true"),
];

/// How TLS server certificates are checked (https base URLs only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsVerify {
    /// Verify against the built-in roots.
    Default,
    /// Verify against the CA certificates in this PEM file.
    CaFile(String),
    /// Do not verify (insecure; logged loudly).
    Insecure,
}

/// Everything needed to drive one blade of one chassis manager.
///
/// `Debug` prints an allowlist of fields; the password never appears.
///
/// ```
/// use hw_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([
///     ("msftocs_base_url", "http://10.0.0.1:8000"),
///     ("msftocs_blade_id", "7"),
///     ("msftocs_username", "admin"),
///     ("msftocs_password", "s3cret"),
/// ]);
/// let config = hw_ocs::Config::from_driver_info(&info, &NodeContext::new("n1"))?;
/// assert_eq!(config.blade_id, 7);
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), hw_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    /// The chassis manager's base URL, without a trailing `/`.
    pub base_url: String,
    /// The blade, 1 to [`MAX_BLADE_ID`].
    pub blade_id: u32,
    /// Basic-auth user.
    pub username: String,
    /// Basic-auth password.
    pub password: SecretString,
    /// Serial session inactivity timeout sent to `StartBladeSerialSession`.
    pub console_timeout_secs: u32,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Requests in flight to this chassis manager at once (shared by its blades).
    pub max_connections: usize,
    /// TLS verification for https.
    pub tls: TlsVerify,
    /// The boot mode sent with every `SetNextBoot` unless a call names one
    /// (`uefi=true` for UEFI); from the node's `boot_mode` capability, else BIOS.
    pub boot_mode: hw_core::BootMode,
    /// How often a power change is polled until confirmed.
    pub power_poll_interval: Duration,
    /// How often an idle serial console asks the blade for output.
    pub console_poll_interval: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("blade_id", &self.blade_id)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("console_timeout_secs", &self.console_timeout_secs)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .field("tls", &self.tls)
            .field("boot_mode", &self.boot_mode)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration with the defaults for everything but the four required values.
    ///
    /// The values are not validated here; [`Config::from_driver_info`] validates.
    pub fn new(
        base_url: impl Into<String>,
        blade_id: u32,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        Config {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            blade_id,
            username: username.into(),
            password: password.into(),
            console_timeout_secs: DEFAULT_CONSOLE_TIMEOUT_SECS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls: TlsVerify::Default,
            boot_mode: hw_core::BootMode::Bios,
            power_poll_interval: Duration::from_secs(1),
            console_poll_interval: Duration::from_millis(100),
        }
    }

    /// Validates `driver_info` (Ironic's keys, see [`PROPERTIES`]) and builds the
    /// configuration, reporting every missing or invalid parameter in one error.
    /// The node's `boot_mode` capability chooses the default boot mode.
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<Config> {
        let mut v = info.validator(PROPERTIES);
        let base_url = v.custom("msftocs_base_url", check_base_url);
        let blade_id = v.int_in_range("msftocs_blade_id", 1, i64::from(MAX_BLADE_ID));
        let username = v.str("msftocs_username");
        let password = v.secret("msftocs_password");
        let console = v.int_in_range("msftocs_console_timeout", 1, 86_400);
        let request = v.int_in_range("msftocs_request_timeout", 1, 3_600);
        let max_conn = v.int_in_range("msftocs_max_connections", 1, 256);
        let verify = v.str("msftocs_verify_ca");
        let tls = match verify.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("true" | "yes" | "1") => Some(TlsVerify::Default),
            Some("false" | "no" | "0") => Some(TlsVerify::Insecure),
            Some(_) => verify.clone().map(TlsVerify::CaFile),
        };
        if let (Some(TlsVerify::CaFile(path)), Some(url)) = (&tls, &base_url)
            && !url.to_ascii_lowercase().starts_with("https://")
        {
            v.invalid(
                "msftocs_verify_ca",
                format!("{path:?} is a CA file, but msftocs_base_url is not https"),
            );
        } else if let Some(TlsVerify::CaFile(path)) = &tls
            && !std::path::Path::new(path).is_file()
        {
            // Checked here, with the other problems and under this key; hw-http
            // would refuse it later as "ca_file", a name the user never wrote.
            v.invalid(
                "msftocs_verify_ca",
                format!("{path:?} is not a readable file (true, false, or a CA bundle path)"),
            );
        }
        v.finish()?;
        let (
            Some(base_url),
            Some(blade_id),
            Some(username),
            Some(password),
            Some(console),
            Some(request),
            Some(max_conn),
            Some(tls),
        ) = (
            base_url, blade_id, username, password, console, request, max_conn, tls,
        )
        else {
            // Unreachable in practice: every absent value was recorded as a problem.
            return Err(hw_core::Error::missing_parameters(
                PROPERTIES
                    .iter()
                    .filter(|p| p.required)
                    .map(|p| p.name.to_string()),
            ));
        };
        let mut config = Config::new(base_url, blade_id as u32, username, password);
        config.console_timeout_secs = console as u32;
        config.request_timeout = Duration::from_secs(request as u64);
        config.max_connections = max_conn as usize;
        config.tls = tls;
        config.boot_mode = ctx.boot_mode().unwrap_or(hw_core::BootMode::Bios);
        Ok(config)
    }
}

/// Ironic's rule: `http(s)://` + host name, `localhost` or IP address + optional
/// `:port` + optional path. Credentials, queries and fragments are refused (the
/// operation name and query are appended to the path).
fn check_base_url(s: &str) -> std::result::Result<String, String> {
    const WHY: &str = "is not a valid msftocs_base_url (expected http(s)://host[:port][/path])";
    let lower = s.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &s[7..]
    } else if lower.starts_with("https://") {
        &s[8..]
    } else {
        return Err(WHY.to_owned());
    };
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return Err(format!("{WHY}: no query, fragment or spaces allowed"));
    }
    let (authority, _path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(format!(
            "{WHY}: put credentials in msftocs_username/msftocs_password"
        ));
    }
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority.ends_with(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    if !is_valid_host(host) {
        return Err(format!("{WHY}: bad host"));
    }
    if let Some(p) = port
        && !matches!(p.parse::<u32>(), Ok(1..=65535))
    {
        return Err(format!("{WHY}: bad port"));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hw_core::{BootMode, ErrorKind};

    fn info(pairs: &[(&str, &str)]) -> DriverInfo {
        DriverInfo::from_pairs(pairs.iter().copied())
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("msftocs_base_url", "http://fakehost:8000"),
            ("msftocs_blade_id", "1"),
            ("msftocs_username", "admin"),
            ("msftocs_password", "fake"),
        ]
    }

    #[test]
    fn ironic_url_cases() {
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
            assert!(check_base_url(good).is_ok(), "{good}");
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
            "http://",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builds_with_ironic_test_values() {
        let c = Config::from_driver_info(&info(&valid()), &NodeContext::new("n")).unwrap();
        assert_eq!(c.base_url, "http://fakehost:8000");
        assert_eq!(c.blade_id, 1);
        assert_eq!(c.username, "admin");
        assert_eq!(c.console_timeout_secs, 300);
        assert_eq!(c.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.boot_mode, BootMode::Bios);
        let uefi = NodeContext::new("n").with_boot_mode(BootMode::Uefi);
        assert_eq!(
            Config::from_driver_info(&info(&valid()), &uefi)
                .unwrap()
                .boot_mode,
            BootMode::Uefi
        );
    }

    #[test]
    fn blade_id_range_is_checked_and_said() {
        for (id, why) in [
            ("0", "out of range (1 to 48)"),
            ("49", "out of range (1 to 48)"),
            ("-3", "out of range (1 to 48)"),
            ("seven", "is not a valid integer"),
        ] {
            let mut pairs = valid();
            pairs[1] = ("msftocs_blade_id", id);
            let e = Config::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter);
            assert!(e.to_string().contains("msftocs_blade_id"), "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
        let mut pairs = valid();
        pairs[1] = ("msftocs_blade_id", "48");
        assert_eq!(
            Config::from_driver_info(&info(&pairs), &NodeContext::new("n"))
                .unwrap()
                .blade_id,
            48
        );
    }

    #[test]
    fn every_problem_at_once_and_no_secret_echoed() {
        let e = Config::from_driver_info(
            &info(&[
                ("msftocs_base_url", "bad-url"),
                ("msftocs_password", "hunter2"),
                ("msftocs_max_connections", "0"),
            ]),
            &NodeContext::new("n"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingParameter);
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "msftocs_blade_id",
                "msftocs_username",
                "msftocs_base_url",
                "msftocs_max_connections"
            ]
        );
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn ca_file_needs_https() {
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let mut pairs = valid();
        pairs.push(("msftocs_verify_ca", ca));
        let e = Config::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap_err();
        assert!(e.to_string().contains("not https"), "{e}");
        pairs[0] = ("msftocs_base_url", "https://cm:8000");
        let c = Config::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap();
        assert_eq!(c.tls, TlsVerify::CaFile(ca.into()));
    }

    #[test]
    fn a_missing_ca_file_is_reported_under_its_own_key_with_the_rest() {
        let e = Config::from_driver_info(
            &info(&[
                ("msftocs_base_url", "https://cm:8000"),
                ("msftocs_blade_id", "1"),
                ("msftocs_password", "fake"),
                ("msftocs_verify_ca", "/nonexistent/ca.pem"),
            ]),
            &NodeContext::new("n"),
        )
        .unwrap_err();
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["msftocs_username", "msftocs_verify_ca"], "{e}");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = Config::new("http://h", 1, "admin", "topsecret");
        let d = format!("{c:?}");
        assert!(d.contains("admin") && !d.contains("topsecret"), "{d}");
    }
}
