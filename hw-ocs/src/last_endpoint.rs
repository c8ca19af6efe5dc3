//! The chassis manager endpoint of the last blade built from `driver_info`, so
//! that the next blade of the same chassis manager gets its endpoint
//! configuration without reading and building it again (issue 16).
//!
//! A fleet sweep builds one node per inventory entry, and the blades of one
//! chassis follow each other with the same `msftocs_base_url`, credentials and
//! settings. Reading those keys (hwctl-http's [`EndpointConfig::read`](hwctl_http::EndpointConfig::read): URL
//! checks, TLS setting, timeouts, limit) and building the configuration was
//! about half of building an OCS node. The result is a function of the six
//! endpoint values alone, so a blade whose values are *exactly* those of the
//! last blade built (every one a JSON string, or absent, compared as written)
//! gets the configuration that blade's client holds, and the same client.
//! Everything else is still read and checked per blade as before: the
//! required keys, Ironic's secret mask, the blade id, the console timeout, and
//! the unknown (misspelled) keys.
//!
//! Nothing secret is kept here: the values kept are the non-secret ones (the
//! user name is printed in `Debug` too), and the password is compared with the
//! one of the client's configuration, which is held weakly: once the last blade
//! using that client is dropped, nothing remembered holds the password (as
//! hwctl-http's own memos, decisions 79 and 82). A `msftocs_verify_ca` naming a
//! CA bundle is never remembered: reading the bundle is part of validating it.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use hwctl_core::{DriverInfo, ExposeSecret as _};
use hwctl_http::{Auth, HttpClient};

/// The endpoint keys compared as written (all but the password, which is
/// compared with the client's).
const KEYS: [&str; 5] = [
    "msftocs_base_url",
    "msftocs_username",
    "msftocs_verify_ca",
    "msftocs_request_timeout",
    "msftocs_max_connections",
];

const PASSWORD: &str = "msftocs_password";

/// The `msftocs_verify_ca` values that name no file (hwctl-http's words, in
/// any case).
const VERIFY_WORDS: [&str; 8] = ["true", "yes", "1", "on", "false", "no", "0", "off"];

/// The endpoint values of `info` as written, when they can be remembered:
/// each a JSON string or absent, and `msftocs_verify_ca` none of a file.
fn values(info: &DriverInfo) -> Option<[Option<&str>; 5]> {
    let mut out = [None; 5];
    for (slot, key) in out.iter_mut().zip(KEYS) {
        *slot = match info.get(key) {
            None => None,
            Some(value) => Some(value.as_str()?),
        };
    }
    if let Some(verify) = out[2]
        && !VERIFY_WORDS.contains(&verify.trim().to_ascii_lowercase().as_str())
    {
        return None;
    }
    Some(out)
}

/// The values remembered and the client built for them.
struct Last {
    values: [Option<String>; 5],
    client: Weak<HttpClient>,
}

/// The endpoint of the last blade built (one; a process has [`LastEndpoint::global`]).
#[derive(Default)]
pub(crate) struct LastEndpoint(Mutex<Option<Last>>);

static GLOBAL: LastEndpoint = LastEndpoint(Mutex::new(None));

impl LastEndpoint {
    /// The one the `msftocs` hardware type uses.
    pub(crate) fn global() -> &'static LastEndpoint {
        &GLOBAL
    }

    /// The client of the last blade built, if `info`'s endpoint values are
    /// exactly that blade's and the client is still alive; its configuration is
    /// then the one reading `info`'s endpoint keys would build.
    pub(crate) fn get(&self, info: &DriverInfo) -> Option<Arc<HttpClient>> {
        let values = values(info)?;
        let password = info.get(PASSWORD)?.as_str()?;
        let client = {
            let last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let last = last.as_ref()?;
            let same = last
                .values
                .iter()
                .zip(values)
                .all(|(kept, now)| kept.as_deref() == now);
            if !same {
                return None;
            }
            last.client.upgrade()?
        };
        match client.config().auth() {
            Auth::Basic { password: kept, .. } if kept.expose_secret() == password => Some(client),
            _ => None,
        }
    }

    /// Remembers `client`, just built for `info` by reading and checking its
    /// endpoint keys, instead of the last one (unless `info`'s values cannot be
    /// remembered).
    pub(crate) fn put(&self, info: &DriverInfo, client: &Arc<HttpClient>) {
        let Some(values) = values(info) else {
            return;
        };
        let mut last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match last.as_mut() {
            // The strings kept are written over (no allocation once they are long enough).
            Some(l) => {
                for (kept, now) in l.values.iter_mut().zip(values) {
                    match (kept.as_mut(), now) {
                        (Some(k), Some(v)) => {
                            k.clear();
                            k.push_str(v);
                        }
                        (_, now) => *kept = now.map(str::to_owned),
                    }
                }
                l.client = Arc::downgrade(client);
            }
            None => {
                *last = Some(Last {
                    values: values.map(|v| v.map(str::to_owned)),
                    client: Arc::downgrade(client),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::OcsConfig;
    use hwctl_core::NodeContext;

    const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ca/test-ca.pem");

    fn info(pairs: &[(&str, &str)]) -> DriverInfo {
        DriverInfo::from_pairs(pairs.iter().copied())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("msftocs_base_url", "http://10.7.0.1:8000"),
            ("msftocs_blade_id", "3"),
            ("msftocs_username", "admin"),
            ("msftocs_password", "pw"),
        ]
    }

    /// `base()` with `key` set to `value` (added when absent).
    fn with(key: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut pairs = base();
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => pairs.push((key, value)),
        }
        pairs
    }

    /// The endpoint keys and values of `pairs`, in order.
    fn endpoint_of(pairs: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut e: Vec<_> = pairs
            .iter()
            .copied()
            .filter(|(k, _)| KEYS.contains(k) || *k == PASSWORD)
            .collect();
        e.sort();
        e
    }

    /// Everything a configuration holds, password included, as text.
    fn describe(config: &OcsConfig) -> String {
        let password = match config.endpoint.auth() {
            Auth::Basic { password, .. } => password.expose_secret().to_owned(),
            _ => String::new(),
        };
        format!(
            "{config:?} {password} {:?} {:?}",
            config.power_poll_interval, config.console_poll_interval
        )
    }

    /// What `OcsConfig::read` gives with the endpoint `last` knows for `info`,
    /// against what reading everything gives: the same configuration, or the
    /// same error (kind, message, problems).
    fn same_as_reading(info: &DriverInfo, last: &LastEndpoint) -> bool {
        let ctx = NodeContext::new("n");
        let known = last.get(info);
        let fast = OcsConfig::read(info, &ctx, known.as_deref().map(|c| c.config()));
        match (fast, OcsConfig::from_driver_info(info, &ctx)) {
            (Ok(a), Ok(b)) => describe(&a) == describe(&b),
            (Err(a), Err(b)) => {
                a.kind() == b.kind()
                    && a.to_string() == b.to_string()
                    && a.problems() == b.problems()
            }
            _ => false,
        }
    }

    /// After a blade of every endpoint below, every other blade (valid or not)
    /// gets from the remembered endpoint exactly what reading its keys gives,
    /// and the endpoint is remembered only for exactly equal values.
    #[tokio::test]
    async fn a_blade_given_the_last_endpoint_gets_what_reading_gives() {
        let endpoints = [
            base(),
            with("msftocs_base_url", "http://10.7.0.2:8000"),
            with("msftocs_base_url", "http://10.7.0.1:8000/"),
            with("msftocs_username", "root"),
            with("msftocs_password", "pw2"),
            with("msftocs_password", " pw"),
            with("msftocs_request_timeout", "7"),
            with("msftocs_max_connections", "3"),
            with("msftocs_verify_ca", "false"),
            with("msftocs_verify_ca", "TRUE"),
            with("msftocs_blade_id", "9"),
            with("msftocs_console_timeout", "60"),
        ];
        let others = [
            with("msftocs_blade_id", "49"),
            with("msftocs_blade_id", "x"),
            with("msftocs_bladeid", "4"),
            with("msftocs_console_timeout", "0"),
            with("msftocs_password", "******"),
            with("msftocs_password", ""),
            with("msftocs_username", "a:b"),
            with("msftocs_base_url", "bad-url"),
            with("msftocs_max_connections", "0"),
            with("msftocs_verify_ca", CA),
            with("msftocs_verify_ca", "/no/such/ca.pem"),
            vec![("msftocs_blade_id", "1")],
        ];
        let ctx = NodeContext::new("n");
        for first in &endpoints {
            let last = LastEndpoint::default();
            let node = crate::build_from_driver_info(&info(first), &ctx, &last).unwrap();
            for next in endpoints.iter().chain(&others) {
                let next_info = info(next);
                assert!(
                    same_as_reading(&next_info, &last),
                    "{first:?} then {next:?}"
                );
                assert_eq!(
                    last.get(&next_info).is_some(),
                    endpoint_of(first) == endpoint_of(next),
                    "{first:?} then {next:?}"
                );
            }
            drop(node);
        }
    }

    /// Blades of one endpoint built in turn share one client; the endpoint is
    /// forgotten with the last of them (no password outlives its client), and a
    /// CA bundle is never remembered (it is read again for every blade).
    #[tokio::test]
    async fn the_last_endpoint_lives_with_its_blades_only() {
        let ctx = NodeContext::new("n");
        let last = LastEndpoint::default();
        let a = crate::build_from_driver_info(&info(&base()), &ctx, &last).unwrap();
        let client = last.get(&info(&base())).unwrap();
        let b = crate::build_from_driver_info(&info(&with("msftocs_blade_id", "4")), &ctx, &last)
            .unwrap();
        assert!(Arc::ptr_eq(&client, &last.get(&info(&base())).unwrap()));
        drop(client);
        drop((a, b));
        assert!(last.get(&info(&base())).is_none());

        let https = |verify: &'static str| {
            let mut pairs = with("msftocs_verify_ca", verify);
            pairs[0] = ("msftocs_base_url", "https://10.7.0.1:8443");
            info(&pairs)
        };
        let node = crate::build_from_driver_info(&https(CA), &ctx, &last).unwrap();
        assert!(last.get(&https(CA)).is_none());
        drop(node);
        let node = crate::build_from_driver_info(&https("false"), &ctx, &last).unwrap();
        assert!(last.get(&https("false")).is_some());
        assert!(last.get(&https("true")).is_none());
        drop(node);
    }
}
