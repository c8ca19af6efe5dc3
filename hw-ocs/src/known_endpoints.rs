//! The chassis manager endpoints of the blades built from `driver_info`, so that
//! the next blade of a chassis manager already seen gets its endpoint
//! configuration and client without reading and building them again (issue 16).
//!
//! A fleet sweep builds one node per inventory entry, and an orchestrator builds
//! the blades of many chassis, often interleaved. Reading the endpoint keys
//! (hwctl-http's [`EndpointConfig::read`](hwctl_http::EndpointConfig::read): URL
//! checks, TLS setting, timeouts, limit) and building the configuration was
//! about half of building an OCS node. The result is a function of the six
//! endpoint values alone, so a blade whose values are *exactly* those of a blade
//! built before (every one a JSON string, or absent, compared as written) whose
//! client is still alive gets the configuration that client holds, and the same
//! client. Everything else is still read and checked per blade as before: the
//! required keys, Ironic's secret mask, the blade id, the console timeout, and
//! the unknown (misspelled) keys.
//!
//! One entry per distinct set of values, looked up by a hash of them (the entry
//! hit last is tried first: the blades of one chassis usually follow each other),
//! at most [`CAPACITY`] entries: when full, the entries whose client is gone are
//! dropped, then the one used least recently. A miss costs what reading cost
//! before, plus one hash and the values copied.
//!
//! Nothing secret is kept here: the values kept are the non-secret ones (the
//! user name is printed in `Debug` too), and the password is compared with the
//! one of the client's configuration, which is held weakly: once the last blade
//! using that client is dropped, nothing remembered holds the password (as
//! hwctl-http's own memos, decisions 79 and 82). A `msftocs_verify_ca` naming a
//! CA bundle is never remembered: reading the bundle is part of validating it.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};

use hwctl_core::shared::Prehashed;
use hwctl_core::{DriverInfo, ExposeSecret as _};
use hwctl_http::{Auth, HttpClient};
use serde_json::Value;

use crate::config::{DEFAULT_CONSOLE_TIMEOUT_SECS, MAX_BLADE_ID, MAX_CONSOLE_TIMEOUT_SECS};

/// The most endpoints remembered at once (a chassis manager with one set of
/// settings is one).
pub(crate) const CAPACITY: usize = 256;

const PASSWORD: &str = "msftocs_password";

/// The `msftocs_verify_ca` values that name no file (hwctl-http's words, in
/// any case, around blanks).
const VERIFY_WORDS: [&str; 8] = ["true", "yes", "1", "on", "false", "no", "0", "off"];

/// A blade's endpoint values as written: `msftocs_base_url`, `_username`,
/// `_verify_ca`, `_request_timeout`, `_max_connections` (the password is
/// compared with the client's).
type Values<'a> = [Option<&'a str>; 5];

/// A blade's `msftocs_*` values as written, found in one pass over its
/// `driver_info` (a sorted map: one step per key, instead of one lookup per
/// key read).
pub(crate) struct Written<'a> {
    /// The endpoint values, in the order of [`Values`].
    endpoint: [Option<&'a Value>; 5],
    password: Option<&'a Value>,
    blade_id: Option<&'a Value>,
    console_timeout: Option<&'a Value>,
    /// Whether every key is one of the eight above (the [`PROPERTIES`](crate::PROPERTIES)).
    only_properties: bool,
}

impl<'a> Written<'a> {
    /// The values of `info`'s `msftocs_*` keys.
    pub(crate) fn of(info: &'a DriverInfo) -> Self {
        let mut w = Written {
            endpoint: [None; 5],
            password: None,
            blade_id: None,
            console_timeout: None,
            only_properties: true,
        };
        for (key, value) in info.as_map() {
            let slot = match key.as_str() {
                "msftocs_base_url" => &mut w.endpoint[0],
                "msftocs_username" => &mut w.endpoint[1],
                "msftocs_verify_ca" => &mut w.endpoint[2],
                "msftocs_request_timeout" => &mut w.endpoint[3],
                "msftocs_max_connections" => &mut w.endpoint[4],
                PASSWORD => &mut w.password,
                "msftocs_blade_id" => &mut w.blade_id,
                "msftocs_console_timeout" => &mut w.console_timeout,
                _ => {
                    w.only_properties = false;
                    continue;
                }
            };
            *slot = Some(value);
        }
        w
    }

    /// The endpoint values when they can be remembered: each a JSON string or
    /// absent, and `msftocs_verify_ca` none of a file.
    fn values(&self) -> Option<Values<'a>> {
        let mut out = [None; 5];
        for (slot, value) in out.iter_mut().zip(self.endpoint) {
            *slot = match value {
                None => None,
                Some(value) => Some(value.as_str()?),
            };
        }
        if let Some(verify) = out[2] {
            let verify = verify.trim();
            if !VERIFY_WORDS.iter().any(|w| w.eq_ignore_ascii_case(verify)) {
                return None;
            }
        }
        Some(out)
    }

    /// The blade id and console timeout, when reading `driver_info` is known
    /// to accept them and to find nothing else to refuse but the endpoint:
    /// every key is one of the [`PROPERTIES`](crate::PROPERTIES) (so none is unknown), the blade
    /// id is written as digits alone or as a JSON integer ([`digits_in`]) in 1
    /// to [`MAX_BLADE_ID`], the console timeout likewise in 1 to 86,400 or
    /// absent (its default). `None` means
    /// "read it as usual", never "invalid".
    pub(crate) fn blade(&self) -> Option<(u32, u32)> {
        if !self.only_properties {
            return None;
        }
        let blade_id = digits_in(self.blade_id?, 1, MAX_BLADE_ID)?;
        let console = match self.console_timeout {
            None => DEFAULT_CONSOLE_TIMEOUT_SECS,
            Some(value) => digits_in(value, 1, MAX_CONSOLE_TIMEOUT_SECS)?,
        };
        Some((blade_id, console))
    }
}

/// A JSON string of one to nine ASCII digits, or a JSON integer, whose number
/// is in `min..=max`. Reading takes an integer as its decimal digits (no sign:
/// `as_u64` is `None` for a negative or fractional number), so it accepts the
/// same number; an inventory written by hand often has `"msftocs_blade_id": 3`.
fn digits_in(value: &Value, min: u32, max: u32) -> Option<u32> {
    let n: u32 = match value {
        Value::String(text) => {
            if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse().ok()?
        }
        Value::Number(n) => u32::try_from(n.as_u64()?).ok()?,
        _ => return None,
    };
    (min..=max).contains(&n).then_some(n)
}

/// One set of values remembered and the client built for them.
struct Entry {
    values: [Option<String>; 5],
    client: Weak<HttpClient>,
    /// When it was last hit or written ([`Map::tick`]).
    used: u64,
}

impl Entry {
    fn holds(&self, values: &Values<'_>) -> bool {
        self.values
            .iter()
            .zip(values)
            .all(|(kept, now)| kept.as_deref() == *now)
    }
}

/// The entries, by the hash of their values. Two sets of values with one hash
/// share a slot: the one written last is kept (the other misses).
#[derive(Default)]
struct Map {
    /// Keyed by the hash of the values, which is the slot's hash as it is
    /// ([`Prehashed`]): hashing it again would cost a lookup a SipHash.
    entries: HashMap<u64, Entry, Prehashed>,
    /// Hashes the values (randomly seeded: values cannot be chosen to collide).
    hasher: RandomState,
    /// The hash of the entry hit or written last, tried before hashing.
    last: Option<u64>,
    /// Counts hits and writes, to find the entry used least recently.
    tick: u64,
}

impl Map {
    /// The slot of `values`, if an entry holds them.
    fn find(&self, values: &Values<'_>) -> Option<u64> {
        if let Some(last) = self.last
            && self.entries.get(&last).is_some_and(|e| e.holds(values))
        {
            return Some(last);
        }
        let hash = self.hasher.hash_one(values);
        self.entries
            .get(&hash)
            .is_some_and(|e| e.holds(values))
            .then_some(hash)
    }

    /// Marks the entry of `slot` as used now.
    fn touch(&mut self, slot: u64) -> Option<&mut Entry> {
        self.tick += 1;
        self.last = Some(slot);
        let entry = self.entries.get_mut(&slot)?;
        entry.used = self.tick;
        Some(entry)
    }

    /// Makes room for one more entry when full: drops the entries whose client
    /// is gone, then, if none was, the one used least recently.
    fn make_room(&mut self) {
        if self.entries.len() < CAPACITY {
            return;
        }
        self.entries.retain(|_, e| e.client.strong_count() > 0);
        if self.entries.len() < CAPACITY {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.used)
            .map(|(slot, _)| *slot);
        if let Some(slot) = oldest {
            self.entries.remove(&slot);
        }
    }
}

/// The endpoints of the blades built, each with its client held weakly (a
/// process has [`KnownEndpoints::global`]). Thread-safe; at most [`CAPACITY`]
/// entries.
#[derive(Default)]
pub(crate) struct KnownEndpoints(Mutex<Map>);

static GLOBAL: LazyLock<KnownEndpoints> = LazyLock::new(KnownEndpoints::default);

impl KnownEndpoints {
    /// The one the `msftocs` hardware type uses.
    pub(crate) fn global() -> &'static KnownEndpoints {
        &GLOBAL
    }

    fn lock(&self) -> MutexGuard<'_, Map> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client of a blade built before with exactly `written`'s endpoint
    /// values, if it is still alive and its password is `written`'s; its
    /// configuration is then the one reading those endpoint keys would build.
    pub(crate) fn get(&self, written: &Written<'_>) -> Option<Arc<HttpClient>> {
        let values = written.values()?;
        let password = written.password?.as_str()?;
        let client = {
            let mut map = self.lock();
            let slot = map.find(&values)?;
            map.touch(slot)?.client.upgrade()?
        };
        match client.config().auth() {
            Auth::Basic { password: kept, .. } if kept.expose_secret() == password => Some(client),
            _ => None,
        }
    }

    /// Remembers `client`, just built for `written` by reading and checking its
    /// endpoint keys (unless its values cannot be remembered), in place of
    /// the client remembered for the same values, if any.
    pub(crate) fn put(&self, written: &Written<'_>, client: &Arc<HttpClient>) {
        let Some(values) = written.values() else {
            return;
        };
        let mut map = self.lock();
        let slot = map.hasher.hash_one(values);
        match map.entries.get_mut(&slot) {
            // The strings kept are written over (no allocation once they are long enough).
            Some(entry) => {
                for (kept, now) in entry.values.iter_mut().zip(values) {
                    match (kept.as_mut(), now) {
                        (Some(k), Some(v)) => {
                            k.clear();
                            k.push_str(v);
                        }
                        (_, now) => *kept = now.map(str::to_owned),
                    }
                }
                entry.client = Arc::downgrade(client);
            }
            None => {
                map.make_room();
                map.entries.insert(
                    slot,
                    Entry {
                        values: values.map(|v| v.map(str::to_owned)),
                        client: Arc::downgrade(client),
                        used: 0,
                    },
                );
            }
        }
        map.touch(slot);
    }

    /// How many entries are kept (their clients alive or not).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{OcsConfig, PROPERTIES};
    use hwctl_core::NodeContext;

    /// The endpoint keys compared as written, in the order of [`Values`].
    const KEYS: [&str; 5] = [
        "msftocs_base_url",
        "msftocs_username",
        "msftocs_verify_ca",
        "msftocs_request_timeout",
        "msftocs_max_connections",
    ];

    const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ca/test-ca.pem");

    fn info(pairs: &[(&str, &str)]) -> DriverInfo {
        DriverInfo::from_pairs(pairs.iter().copied())
    }

    impl KnownEndpoints {
        /// [`KnownEndpoints::get`] for `info`'s values.
        fn get_info(&self, info: &DriverInfo) -> Option<Arc<HttpClient>> {
            self.get(&Written::of(info))
        }

        fn put_info(&self, info: &DriverInfo, client: &Arc<HttpClient>) {
            self.put(&Written::of(info), client);
        }
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

    /// Everything a blade's configuration holds, password included, as text.
    fn describe(endpoint: &hwctl_http::EndpointConfig, blade: crate::config::Blade) -> String {
        let password = match endpoint.auth() {
            Auth::Basic { password, .. } => password.expose_secret().to_owned(),
            _ => String::new(),
        };
        format!("{endpoint:?} {password} {blade:?}")
    }

    /// What building a blade finds for `info` with the endpoints `last` knows
    /// ([`crate::config_of`]), against what reading everything gives: the same
    /// configuration, or the same error (kind, message, problems).
    fn same_as_reading(info: &DriverInfo, last: &KnownEndpoints) -> bool {
        let uefi = NodeContext::new("n").with_boot_mode(hwctl_core::BootMode::Uefi);
        [NodeContext::new("n"), uefi]
            .iter()
            .all(|ctx| same_as_reading_in(info, last, ctx))
    }

    fn same_as_reading_in(info: &DriverInfo, last: &KnownEndpoints, ctx: &NodeContext) -> bool {
        let known = last.get_info(info);
        let fast = crate::config_of(info, &Written::of(info), known.as_deref(), ctx);
        match (fast, OcsConfig::from_driver_info(info, ctx)) {
            (Ok(a), Ok(b)) => {
                describe(a.endpoint(), a.blade())
                    == describe(&b.endpoint, crate::config::Blade::of(&b))
            }
            (Err(a), Err(b)) => {
                a.kind() == b.kind()
                    && a.to_string() == b.to_string()
                    && a.problems() == b.problems()
            }
            _ => false,
        }
    }

    /// After a blade of every endpoint below, every other blade (valid or not)
    /// gets from the known endpoints exactly what reading its keys gives, and
    /// an endpoint is known only for exactly equal values.
    #[tokio::test]
    async fn a_blade_given_a_known_endpoint_gets_what_reading_gives() {
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
            with("msftocs_blade_id", " 3"),
            with("msftocs_blade_id", "03"),
            with("msftocs_blade_id", "+3"),
            with("msftocs_blade_id", "0"),
            with("msftocs_blade_id", "48"),
            with("msftocs_blade_id", "4294967299"),
            with("msftocs_console_timeout", "86400"),
            with("msftocs_console_timeout", "86401"),
            with("msftocs_console_timeout", ""),
            with("deploy_kernel", "http://images/k"),
            with("MSFTOCS_blade_id", "3"),
        ];
        let ctx = NodeContext::new("n");
        for first in &endpoints {
            let last = KnownEndpoints::default();
            let node = crate::build_from_driver_info(&info(first), &ctx, &last).unwrap();
            for next in endpoints.iter().chain(&others) {
                let next_info = info(next);
                assert!(
                    same_as_reading(&next_info, &last),
                    "{first:?} then {next:?}"
                );
                assert_eq!(
                    last.get_info(&next_info).is_some(),
                    endpoint_of(first) == endpoint_of(next),
                    "{first:?} then {next:?}"
                );
            }
            drop(node);
        }
    }

    /// A blade id or console timeout written as a JSON number: an integer in
    /// range is taken without reading again (as its digits in a string are),
    /// and every blade, whatever its numbers, gets what reading gives.
    #[tokio::test]
    async fn a_blade_id_written_as_a_number_is_known_without_reading() {
        let json = |blade: serde_json::Value, console: Option<serde_json::Value>| {
            let mut map = serde_json::json!({
                "msftocs_base_url": "http://10.7.0.1:8000",
                "msftocs_blade_id": blade,
                "msftocs_username": "admin",
                "msftocs_password": "pw",
            });
            if let Some(console) = console {
                map["msftocs_console_timeout"] = console;
            }
            DriverInfo::from_json(map).unwrap()
        };
        let ctx = NodeContext::new("n");
        let known = KnownEndpoints::default();
        let node = crate::build_from_driver_info(&info(&base()), &ctx, &known).unwrap();
        for (blade, console, taken) in [
            (
                serde_json::json!(3),
                None,
                Some((3, DEFAULT_CONSOLE_TIMEOUT_SECS)),
            ),
            (
                serde_json::json!(48),
                Some(serde_json::json!(60)),
                Some((48, 60)),
            ),
            (
                serde_json::json!(1),
                Some(serde_json::json!(86_400)),
                Some((1, 86_400)),
            ),
            (serde_json::json!(0), None, None),
            (serde_json::json!(49), None, None),
            (serde_json::json!(-3), None, None),
            (serde_json::json!(3.0), None, None),
            (serde_json::json!(4_294_967_299_u64), None, None),
            (serde_json::json!(u64::MAX), None, None),
            (serde_json::json!(true), None, None),
            (serde_json::json!(null), None, None),
            (serde_json::json!([3]), None, None),
            (serde_json::json!(3), Some(serde_json::json!(0)), None),
            (serde_json::json!(3), Some(serde_json::json!(86_401)), None),
            (serde_json::json!(3), Some(serde_json::json!(60.5)), None),
            (serde_json::json!(3), Some(serde_json::json!(-60)), None),
        ] {
            let info = json(blade.clone(), console.clone());
            assert_eq!(Written::of(&info).blade(), taken, "{blade} {console:?}");
            assert!(same_as_reading(&info, &known), "{blade} {console:?}");
        }
        drop(node);
    }

    /// Blades of one endpoint built in turn share one client; the endpoint is
    /// forgotten with the last of them (no password outlives its client), and a
    /// CA bundle is never remembered (it is read again for every blade).
    #[tokio::test]
    async fn a_known_endpoint_lives_with_its_blades_only() {
        let ctx = NodeContext::new("n");
        let last = KnownEndpoints::default();
        let a = crate::build_from_driver_info(&info(&base()), &ctx, &last).unwrap();
        let client = last.get_info(&info(&base())).unwrap();
        let b = crate::build_from_driver_info(&info(&with("msftocs_blade_id", "4")), &ctx, &last)
            .unwrap();
        assert!(Arc::ptr_eq(
            &client,
            &last.get_info(&info(&base())).unwrap()
        ));
        drop(client);
        drop((a, b));
        assert!(last.get_info(&info(&base())).is_none());

        let https = |verify: &'static str| {
            let mut pairs = with("msftocs_verify_ca", verify);
            pairs[0] = ("msftocs_base_url", "https://10.7.0.1:8443");
            info(&pairs)
        };
        let node = crate::build_from_driver_info(&https(CA), &ctx, &last).unwrap();
        assert!(last.get_info(&https(CA)).is_none());
        drop(node);
        let node = crate::build_from_driver_info(&https("false"), &ctx, &last).unwrap();
        assert!(last.get_info(&https("false")).is_some());
        assert!(last.get_info(&https("true")).is_none());
        drop(node);
    }

    /// The `driver_info` of blade `blade` of the chassis manager at `url`.
    fn blade_of(url: &'static str, blade: &'static str) -> DriverInfo {
        let mut pairs = with("msftocs_base_url", url);
        pairs[1] = ("msftocs_blade_id", blade);
        info(&pairs)
    }

    /// Issue 16's review: an orchestrator builds the blades of several chassis
    /// interleaved. Built in turn (chassis 1, 2, 3, 1, 2, 3, …), every blade
    /// after the first of its chassis is given that chassis's client, so the 12
    /// blades hold 3 clients. (The last blade's endpoint alone, as before,
    /// missed every time: 12 clients.)
    #[tokio::test]
    async fn blades_of_three_chassis_built_in_turn_share_three_clients() {
        let ctx = NodeContext::new("n");
        let known = KnownEndpoints::default();
        let urls = [
            "http://10.7.0.1:8000",
            "http://10.7.0.2:8000",
            "http://10.7.0.3:8000",
        ];
        let mut nodes = Vec::new();
        let mut clients: Vec<Arc<HttpClient>> = Vec::new();
        for blade in ["1", "2", "3", "4"] {
            for url in urls {
                let info = blade_of(url, blade);
                let before = known.get_info(&info);
                assert_eq!(before.is_some(), blade != "1", "{url} blade {blade}");
                drop(before);
                nodes.push(crate::build_from_driver_info(&info, &ctx, &known).unwrap());
                let client = known.get_info(&info).unwrap();
                if !clients.iter().any(|c| Arc::ptr_eq(c, &client)) {
                    clients.push(client);
                }
            }
        }
        assert_eq!(clients.len(), 3);
        for (client, url) in clients.iter().zip(urls) {
            assert_eq!(client.config().origin(), url);
        }
        assert_eq!(known.len(), 3);
    }

    /// At most [`CAPACITY`] endpoints are kept whatever the number of chassis:
    /// past it, the endpoints whose client is gone are dropped first, then the
    /// one used least recently; the others are still known.
    #[tokio::test]
    async fn at_most_capacity_endpoints_are_kept() {
        let ctx = NodeContext::new("n");
        let known = KnownEndpoints::default();
        let infos: Vec<DriverInfo> = (0..CAPACITY + 2)
            .map(|i| {
                let url = format!("http://10.8.{}.{}:8000", i / 200, i % 200 + 1);
                DriverInfo::from_pairs([
                    ("msftocs_base_url", url.as_str()),
                    ("msftocs_blade_id", "1"),
                    ("msftocs_username", "admin"),
                    ("msftocs_password", "pw"),
                ])
            })
            .collect();
        let client = |info: &DriverInfo| {
            let config = OcsConfig::from_driver_info(info, &ctx).unwrap();
            Arc::new(HttpClient::new(config.endpoint).unwrap())
        };
        let mut alive: Vec<_> = infos[..CAPACITY]
            .iter()
            .map(|info| {
                let c = client(info);
                known.put(&Written::of(info), &c);
                c
            })
            .collect();
        assert_eq!(known.len(), CAPACITY);
        // The first is used again: the second is now the least recently used.
        assert!(known.get_info(&infos[0]).is_some());
        let next = client(&infos[CAPACITY]);
        known.put_info(&infos[CAPACITY], &next);
        assert_eq!(known.len(), CAPACITY);
        assert!(known.get_info(&infos[1]).is_none());
        for info in infos[..1].iter().chain(&infos[2..=CAPACITY]) {
            assert!(known.get_info(info).is_some());
        }
        // With their clients gone, the entries make room at once.
        alive.clear();
        drop(next);
        let last = client(&infos[CAPACITY + 1]);
        known.put_info(&infos[CAPACITY + 1], &last);
        assert_eq!(known.len(), 1);
        assert!(Arc::ptr_eq(
            &known.get_info(&infos[CAPACITY + 1]).unwrap(),
            &last
        ));
    }

    /// Blades of three chassis built at once on four threads: each chassis's
    /// blades end up with one client (the one known last), and nothing is lost.
    /// Every thread keeps its blades until all have built theirs: a thread that
    /// ended early would drop the client it remembered last, and the others would
    /// then (rightly) find no live client for that chassis.
    #[test]
    fn blades_built_on_several_threads_find_their_own_chassis() {
        let known = KnownEndpoints::default();
        let all_built = std::sync::Barrier::new(4);
        let urls = [
            "http://10.9.0.1:8000",
            "http://10.9.0.2:8000",
            "http://10.9.0.3:8000",
        ];
        std::thread::scope(|scope| {
            for t in 0..4 {
                let known = &known;
                let all_built = &all_built;
                scope.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    let _guard = rt.enter();
                    let ctx = NodeContext::new("n");
                    let mut nodes = Vec::new();
                    for i in 0..60 {
                        let url = urls[(i + t) % 3];
                        let info = blade_of(url, "5");
                        nodes.push(crate::build_from_driver_info(&info, &ctx, known).unwrap());
                        let client = known.get_info(&info).unwrap();
                        assert_eq!(client.config().origin(), url);
                    }
                    all_built.wait();
                    drop(nodes);
                });
            }
        });
        assert_eq!(known.len(), 3);
    }

    /// The one-pass scan sorts out exactly the [`PROPERTIES`]: each of them
    /// alone leaves the blade's keys all known, and any other key does not
    /// (so a blade with one is read as usual, and its key checked).
    #[test]
    fn the_scan_knows_the_properties_and_nothing_else() {
        assert_eq!(PROPERTIES.len(), 8);
        for p in PROPERTIES {
            let info = info(&[(p.name.as_ref(), "1")]);
            assert!(Written::of(&info).only_properties, "{}", p.name);
        }
        for other in ["msftocs_bladeid", "deploy_kernel", "MSFTOCS_BASE_URL", ""] {
            let info = info(&[(other, "1")]);
            assert!(!Written::of(&info).only_properties, "{other}");
        }
        let w = info(&with("msftocs_verify_ca", "false"));
        let w = Written::of(&w);
        let expected: Vec<_> = KEYS
            .iter()
            .map(|k| info(&with("msftocs_verify_ca", "false")).get(k).cloned())
            .collect();
        assert_eq!(
            w.endpoint.iter().map(|v| v.cloned()).collect::<Vec<_>>(),
            expected
        );
        assert_eq!(w.blade(), Some((3, DEFAULT_CONSOLE_TIMEOUT_SECS)));
    }
}
