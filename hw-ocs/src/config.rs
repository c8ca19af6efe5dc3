//! Typed configuration, built from a node's `driver_info` with Ironic's keys. The
//! chassis manager's endpoint (URL, credentials, TLS, timeout, limit) is read by
//! hwctl-http's [`EndpointConfig::read`] under the `msftocs_*` keys; this crate parses
//! no URL and no TLS setting itself.

use std::fmt;
use std::time::Duration;

use hwctl_core::{DriverInfo, NodeContext, Property, Result, SecretString};
use hwctl_http::{Auth, EndpointConfig, EndpointKeys};

use crate::NAME;

/// The highest blade id a chassis manager accepts (a 48-blade chassis).
pub const MAX_BLADE_ID: u32 = 48;

/// Default inactivity timeout of a serial session, in seconds (the chassis
/// manager's own `bladeSerialTimeout` default).
pub const DEFAULT_CONSOLE_TIMEOUT_SECS: u32 = 300;

/// The longest inactivity timeout of a serial session, in seconds (a day).
pub const MAX_CONSOLE_TIMEOUT_SECS: u32 = 86_400;

/// Default timeout of one HTTP request (hwctl-http's).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = hwctl_http::config::DEFAULT_REQUEST_TIMEOUT;

/// Default connect timeout (hwctl-http's).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = hwctl_http::config::DEFAULT_CONNECT_TIMEOUT;

/// Default number of requests in flight to one chassis manager at once (hwctl-http's).
pub const DEFAULT_MAX_CONNECTIONS: usize = hwctl_http::config::DEFAULT_MAX_CONCURRENCY;

/// The largest reply accepted (a 48-blade `ChassisInfoResponse` is about 40 KiB).
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// The endpoint keys of `msftocs`, read by hwctl-http.
pub const ENDPOINT_KEYS: EndpointKeys = EndpointKeys::new("msftocs_base_url")
    .credentials("msftocs_username", "msftocs_password")
    .verify_ca("msftocs_verify_ca")
    .request_timeout("msftocs_request_timeout")
    .max_concurrency("msftocs_max_connections");

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
        "https only: true (verify against the system roots), false (INSECURE: no verification), or a path to a CA bundle (PEM).",
    )
    .default_value("true"),
];

/// Everything needed to drive one blade of one chassis manager.
///
/// `Debug` prints an allowlist of fields; the password never appears.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([
///     ("msftocs_base_url", "http://10.0.0.1:8000"),
///     ("msftocs_blade_id", "7"),
///     ("msftocs_username", "admin"),
///     ("msftocs_password", "s3cret"),
/// ]);
/// let config = hwctl_ocs::OcsConfig::from_driver_info(&info, &NodeContext::new("n1"))?;
/// assert_eq!(config.blade_id, 7);
/// assert_eq!(config.endpoint.origin(), "http://10.0.0.1:8000");
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OcsConfig {
    /// The chassis manager's endpoint: base URL, basic auth, TLS, request timeout
    /// (default 30 s), concurrency limit shared by its blades (default 8), reply cap
    /// [`MAX_REPLY_BYTES`].
    pub endpoint: EndpointConfig,
    /// The blade, 1 to [`MAX_BLADE_ID`].
    pub blade_id: u32,
    /// Serial session inactivity timeout sent to `StartBladeSerialSession`, seconds.
    pub console_timeout_secs: u32,
    /// The boot mode sent with every `SetNextBoot` unless a call names one
    /// (`uefi=true` for UEFI); from the node's `boot_mode` capability, else BIOS.
    pub boot_mode: hwctl_core::BootMode,
    /// How often a power change is polled until confirmed.
    pub power_poll_interval: Duration,
    /// How often an idle serial console asks the blade for output.
    pub console_poll_interval: Duration,
}

impl fmt::Debug for OcsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcsConfig")
            .field("endpoint", &self.endpoint)
            .field("blade_id", &self.blade_id)
            .field("console_timeout_secs", &self.console_timeout_secs)
            .field("boot_mode", &self.boot_mode)
            .finish_non_exhaustive()
    }
}

/// What an [`OcsConfig`] says of its blade besides the endpoint (each field
/// as there): what the power, management and console interfaces keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blade {
    pub(crate) blade_id: u32,
    pub(crate) console_timeout_secs: u32,
    pub(crate) boot_mode: hwctl_core::BootMode,
    pub(crate) power_poll_interval: Duration,
    pub(crate) console_poll_interval: Duration,
}

impl Blade {
    /// `config`'s.
    pub(crate) fn of(config: &OcsConfig) -> Self {
        Blade {
            blade_id: config.blade_id,
            console_timeout_secs: config.console_timeout_secs,
            boot_mode: config.boot_mode,
            power_poll_interval: config.power_poll_interval,
            console_poll_interval: config.console_poll_interval,
        }
    }

    /// What [`OcsConfig::read`] gives for blade `blade_id` with the console
    /// timeout `console_timeout_secs` (values it accepted) and the boot mode of
    /// `ctx` (else BIOS).
    pub(crate) fn read(blade_id: u32, console_timeout_secs: u32, ctx: &NodeContext) -> Self {
        Blade {
            blade_id,
            console_timeout_secs,
            boot_mode: ctx.boot_mode().unwrap_or(hwctl_core::BootMode::Bios),
            power_poll_interval: DEFAULT_POWER_POLL_INTERVAL,
            console_poll_interval: DEFAULT_CONSOLE_POLL_INTERVAL,
        }
    }
}

/// How often a power change is polled until confirmed, unless set.
const DEFAULT_POWER_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How often an idle serial console asks the blade for output, unless set.
const DEFAULT_CONSOLE_POLL_INTERVAL: Duration = Duration::from_millis(100);

impl OcsConfig {
    /// A configuration with the defaults for everything but the four required
    /// values. Adjust the endpoint with
    /// `config.endpoint = config.endpoint.to_builder().request_timeout(…).build()?`.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::InvalidParameter`] when hwctl-http refuses `base_url` or
    /// the user name (named with hwctl-http's parameter names; `driver_info` users get
    /// theirs from [`OcsConfig::from_driver_info`]).
    pub fn new(
        base_url: impl Into<String>,
        blade_id: u32,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        let endpoint = EndpointConfig::builder(base_url)
            .auth(Auth::basic(username, password))
            .max_body_bytes(MAX_REPLY_BYTES)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        Ok(OcsConfig::with_endpoint(endpoint, blade_id))
    }

    fn with_endpoint(endpoint: EndpointConfig, blade_id: u32) -> Self {
        OcsConfig {
            endpoint,
            blade_id,
            console_timeout_secs: DEFAULT_CONSOLE_TIMEOUT_SECS,
            boot_mode: hwctl_core::BootMode::Bios,
            power_poll_interval: DEFAULT_POWER_POLL_INTERVAL,
            console_poll_interval: DEFAULT_CONSOLE_POLL_INTERVAL,
        }
    }

    /// Validates `driver_info` (Ironic's keys, see [`PROPERTIES`]) and builds the
    /// configuration, reporting every missing or invalid parameter in one error,
    /// each under the key the user wrote. The node's `boot_mode` capability chooses
    /// the default boot mode.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::MissingParameter`] when a required key is absent (the
    /// invalid ones listed too), else [`hwctl_core::ErrorKind::InvalidParameter`]: a
    /// bad URL, blade id, timeout or limit, or a `msftocs_verify_ca` that is not
    /// `true`, `false` or a readable PEM CA bundle (or a bundle for an `http` URL).
    pub fn from_driver_info(info: &DriverInfo, ctx: &NodeContext) -> Result<OcsConfig> {
        OcsConfig::read(info, ctx, None)
    }

    /// [`OcsConfig::from_driver_info`], given in `known` the endpoint
    /// configuration `info`'s endpoint keys are known to give (that of a blade
    /// built before with exactly the same values, [`crate::known_endpoints`]): those
    /// keys are then not read and built again. Everything else is read and
    /// checked as without it (required keys, secret mask, blade id, console
    /// timeout, unknown keys), so the result and every error are the same.
    pub(crate) fn read(
        info: &DriverInfo,
        ctx: &NodeContext,
        known: Option<&EndpointConfig>,
    ) -> Result<OcsConfig> {
        let mut v = info.validator(PROPERTIES);
        let builder = match known {
            Some(_) => None,
            None => EndpointConfig::read(&mut v, &ENDPOINT_KEYS, None),
        };
        let blade_id = v.int_in_range("msftocs_blade_id", 1, i64::from(MAX_BLADE_ID));
        let console = v.int_in_range(
            "msftocs_console_timeout",
            1,
            i64::from(MAX_CONSOLE_TIMEOUT_SECS),
        );
        v.finish()?;
        let (Some(blade_id), Some(console)) = (blade_id, console) else {
            return Err(unreachable_missing());
        };
        let endpoint = match (known, builder) {
            (Some(known), _) => known.clone(),
            (None, Some(builder)) => builder
                .max_body_bytes(MAX_REPLY_BYTES)
                .build()
                .map_err(|e| e.with_driver(NAME))?,
            (None, None) => return Err(unreachable_missing()),
        };
        let blade = Blade::read(
            u32::try_from(blade_id).unwrap_or(0),
            u32::try_from(console).unwrap_or(DEFAULT_CONSOLE_TIMEOUT_SECS),
            ctx,
        );
        Ok(OcsConfig {
            endpoint,
            blade_id: blade.blade_id,
            console_timeout_secs: blade.console_timeout_secs,
            boot_mode: blade.boot_mode,
            power_poll_interval: blade.power_poll_interval,
            console_poll_interval: blade.console_poll_interval,
        })
    }
}

/// The error for a value absent although the validator recorded no problem.
/// Unreachable in practice: every absent value was recorded as a problem.
fn unreachable_missing() -> hwctl_core::Error {
    hwctl_core::Error::missing_parameters(
        PROPERTIES
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.to_string()),
    )
    .with_driver(NAME)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::{BootMode, ErrorKind};

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

    /// A throwaway CA certificate (its key was discarded), for a valid CA bundle.
    const TEST_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ca/test-ca.pem");

    fn problem_names(pairs: &[(&str, &str)]) -> Vec<String> {
        match OcsConfig::from_driver_info(&info(pairs), &NodeContext::new("n")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.name.clone()).collect(),
        }
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
            let mut pairs = valid();
            pairs[0] = ("msftocs_base_url", good);
            assert_eq!(problem_names(&pairs), Vec::<String>::new(), "{good}");
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
            let mut pairs = valid();
            pairs[0] = ("msftocs_base_url", bad);
            assert_eq!(problem_names(&pairs), ["msftocs_base_url"], "{bad}");
        }
    }

    #[test]
    fn builds_with_ironic_test_values() {
        let c = OcsConfig::from_driver_info(&info(&valid()), &NodeContext::new("n")).unwrap();
        assert_eq!(c.endpoint.origin(), "http://fakehost:8000");
        assert_eq!(c.blade_id, 1);
        assert_eq!(c.endpoint.auth().scheme(), "basic");
        assert_eq!(c.console_timeout_secs, 300);
        assert_eq!(c.endpoint.max_concurrency(), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.endpoint.request_timeout(), DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(c.endpoint.max_body_bytes(), MAX_REPLY_BYTES);
        assert_eq!(c.boot_mode, BootMode::Bios);
        let uefi = NodeContext::new("n").with_boot_mode(BootMode::Uefi);
        assert_eq!(
            OcsConfig::from_driver_info(&info(&valid()), &uefi)
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
            let e = OcsConfig::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter);
            assert!(e.to_string().contains("msftocs_blade_id"), "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
        let mut pairs = valid();
        pairs[1] = ("msftocs_blade_id", "48");
        assert_eq!(
            OcsConfig::from_driver_info(&info(&pairs), &NodeContext::new("n"))
                .unwrap()
                .blade_id,
            48
        );
    }

    #[test]
    fn every_problem_at_once_and_no_secret_echoed() {
        let e = OcsConfig::from_driver_info(
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
        let mut pairs = valid();
        pairs.push(("msftocs_verify_ca", TEST_CA));
        let e = OcsConfig::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap_err();
        assert!(e.to_string().contains("not https"), "{e}");
        assert_eq!(e.problems()[0].name, "msftocs_verify_ca");
        pairs[0] = ("msftocs_base_url", "https://cm:8000");
        let c = OcsConfig::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap();
        assert_eq!(
            c.endpoint.tls(),
            &hwctl_http::TlsConfig::ca_file(TEST_CA).with_setting("msftocs_verify_ca")
        );
        pairs[4] = ("msftocs_verify_ca", "false");
        let c = OcsConfig::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap();
        assert!(c.endpoint.tls().accepts_invalid_certs());
    }

    /// Issue 9: a CA bundle that exists but is not PEM was accepted at validation
    /// and refused later by hwctl-http as `ca_file`, a key the user never wrote.
    #[test]
    fn a_verify_ca_file_that_is_not_pem_is_reported_under_its_own_key_with_the_rest() {
        let not_pem = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let pairs = [
            ("msftocs_base_url", "https://cm:8000"),
            ("msftocs_blade_id", "1"),
            ("msftocs_password", "fake"),
            ("msftocs_verify_ca", not_pem),
            ("msftocs_request_timeout", "0"),
        ];
        let e = OcsConfig::from_driver_info(&info(&pairs), &NodeContext::new("n")).unwrap_err();
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "msftocs_username",
                "msftocs_verify_ca",
                "msftocs_request_timeout"
            ],
            "{e}"
        );
        assert!(e.to_string().contains("Cargo.toml"), "{e}");
        assert!(e.to_string().contains("PEM"), "{e}");
        assert!(!e.to_string().contains("ca_file"), "{e}");
        // Through the hardware type, as a user builds a node: the same, at validation.
        let mut pairs = pairs.to_vec();
        pairs.push(("msftocs_username", "admin"));
        pairs[4] = ("msftocs_request_timeout", "30");
        let e = crate::hardware_type()
            .build(&info(&pairs), &NodeContext::new("n"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
        let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["msftocs_verify_ca"], "{e}");
    }

    #[test]
    fn a_missing_ca_file_is_reported_under_its_own_key_with_the_rest() {
        let e = OcsConfig::from_driver_info(
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
        let c = OcsConfig::new("http://h", 1, "admin", "topsecret").unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("admin") && !d.contains("topsecret"), "{d}");
    }
}
