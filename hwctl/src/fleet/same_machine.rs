//! Two inventory entries that address one machine (a node pasted twice under two
//! names): a change would drive it twice at once (two reboots racing), so `on`,
//! `off`, `reboot` and `fleet … validate` refuse them ([`super::precheck`]). A
//! `status` sweep does not look: it reads such a machine twice, which is
//! harmless, and the look cost ~6,000 instructions per entry on a sweep's
//! hot path (issue 16; an inventory of 10,000 reads of 48 blades is all twins).
//!
//! An entry's *machine* is its `driver`, its `driver_info` without secrets (the
//! type's secret properties) and user names (`*_username`), and its `ports`:
//! credentials do not change which machine it is, while the ports do (Wake-on-LAN
//! wakes a port's MAC, staging-libvirt finds its domain by them without
//! `libvirt_domain`). Values are compared as their text, trimmed (`623` and
//! `"623"` alike; an empty value is an absent one), ports without regard to case
//! or order. A value equal to its property's default is an absent one (`ipmi_port`
//! 623 and no `ipmi_port` alike), and an endpoint's address or URL is compared in
//! one spelling ([`endpoint_text`]): scheme and host in lower case, no trailing
//! `/`, no default port, and `https://` dropped where nothing follows the host
//! (`https://10.0.0.7/` and `10.0.0.7` alike, as the Redfish family defaults to
//! https), so one machine written two ways is still found. Only an entry that names an endpoint (a `*_address`, `*_host`,
//! `*_hostname`, `*_port`, `*_url` or `*_uri` key, as the endpoint grouping reads
//! them) or has ports addresses a machine: two `fake-hardware` entries without
//! either are two fakes, never one machine.
//!
//! Cost: one pass; the change pre-check writes each entry's machine as a key
//! into one map beside the builds it does anyway.

use std::collections::HashMap;

use hwctl_core::Registry;
use hwctl_core::fast_hash::FastHash;

use crate::inventory::InventoryNode;

/// How the messages say what "the same machine" means.
pub(super) const SAME: &str =
    "the same driver, driver_info and ports, secrets and user names aside";

/// Whether `key` names an endpoint (the suffixes [`super::endpoints`] groups by).
fn names_endpoint(key: &str) -> bool {
    ["_address", "_host", "_hostname", "_port", "_url", "_uri"]
        .iter()
        .any(|s| key.ends_with(s))
}

/// What a hardware type's schema says of its keys for the comparison: the
/// secret ones (left out) and the defaults (a value equal to one is absent).
#[derive(Default)]
pub(super) struct Schema<'r> {
    /// The secret property names.
    secret: Vec<&'r str>,
    /// `(name, default)` of every property with a default.
    defaults: Vec<(&'r str, &'static str)>,
}

/// The [`Schema`] of each hardware type met, looked up once per type.
#[derive(Default)]
pub(super) struct Secrets<'r> {
    by_type: Vec<(&'r str, Schema<'r>)>,
}

impl<'r> Secrets<'r> {
    /// The schema of `driver` (empty for a type the registry lacks: the
    /// inventory check refused those already).
    fn of(&mut self, registry: &'r Registry, driver: &str) -> Option<&Schema<'r>> {
        let at = match self.by_type.iter().position(|(d, _)| *d == driver) {
            Some(at) => at,
            None => {
                let hw = registry.get(driver).ok()?;
                let props = hw.properties();
                let schema = Schema {
                    secret: props
                        .iter()
                        .filter(|p| p.secret)
                        .map(|p| p.name.as_ref())
                        .collect(),
                    defaults: props
                        .iter()
                        .filter_map(|p| Some((p.name.as_ref(), p.default?)))
                        .collect(),
                };
                self.by_type.push((hw.name(), schema));
                self.by_type.len() - 1
            }
        };
        Some(&self.by_type[at].1)
    }
}

/// An endpoint's address or URL in one spelling, for the comparison (module
/// docs): `HTTPS://BMC.lab:443/` → `bmc.lab`, `http://h:80/x/` → `http://h/x`.
pub(super) fn endpoint_text(value: &str) -> String {
    let v = value.trim().trim_end_matches('/');
    let Some((scheme, rest)) = v.split_once("://") else {
        return v.to_ascii_lowercase();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(":443"),
        "http" => Some(":80"),
        _ => None,
    };
    if let Some(port) = default_port
        && authority.ends_with(port)
    {
        authority.truncate(authority.len() - port.len());
    }
    if scheme == "https" && path.is_empty() {
        authority
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

/// Feeds the `driver_info` parts of `entry`'s machine (module docs) to `part`, in
/// a fixed order: the driver, then each kept key and its value, by key (the
/// callers add the ports). Whether a kept key names an endpoint.
fn parts(entry: &InventoryNode, schema: &Schema<'_>, mut part: impl FnMut(&str)) -> bool {
    let map = entry.driver_info.as_map();
    let mut addresses = false;
    part(&entry.driver);
    let mut one = |k: &str, v: &serde_json::Value| {
        if schema.secret.contains(&k) || k.ends_with("_username") {
            return;
        }
        let text = match v {
            serde_json::Value::Null => return,
            serde_json::Value::String(s) => std::borrow::Cow::Borrowed(s.trim()),
            other => std::borrow::Cow::Owned(other.to_string()),
        };
        if text.is_empty()
            || schema
                .defaults
                .iter()
                .any(|&(name, default)| name == k && default == text)
        {
            return;
        }
        let endpoint = names_endpoint(k);
        addresses |= endpoint;
        part(k);
        if endpoint && !k.ends_with("_port") {
            part(&endpoint_text(&text));
        } else {
            part(&text);
        }
    };
    // By key, whatever order the map keeps (serde_json's iterates by key unless
    // `preserve_order` is on).
    if map.keys().is_sorted() {
        for (k, v) in map {
            one(k, v);
        }
    } else {
        let mut sorted: Vec<_> = map.iter().collect();
        sorted.sort_unstable_by_key(|&(k, _)| k);
        for (k, v) in sorted {
            one(k, v);
        }
    }
    addresses
}

/// `entry`'s ports as the machine's parts: trimmed, the empty ones left out
/// (compared without regard to case).
fn ports(entry: &InventoryNode) -> impl Iterator<Item = &str> {
    entry
        .ports
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
}

/// `entry`'s machine as a key (module docs), or `None` when it addresses none.
pub(super) fn machine_key(entry: &InventoryNode, schema: &Schema<'_>) -> Option<String> {
    let mut key = String::new();
    let addresses = parts(entry, schema, |p| {
        // Each part ends with a byte no trimmed text holds at its end, so
        // `a` + `bc` and `ab` + `c` differ.
        key.push_str(p);
        key.push('\u{1f}');
    });
    let mut macs: Vec<String> = ports(entry).map(str::to_ascii_lowercase).collect();
    macs.sort_unstable();
    key.push_str("\u{1e}ports");
    for m in &macs {
        key.push('\u{1f}');
        key.push_str(m);
    }
    (addresses || !macs.is_empty()).then_some(key)
}

/// Finds the entries that address a machine an earlier entry addresses, keyed
/// by [`machine_key`]: feed every entry in order ([`Self::check`]); each answer
/// is the 0-based position of the first entry of that machine.
pub(super) struct Seen<'r> {
    registry: &'r Registry,
    secrets: Secrets<'r>,
    first: HashMap<String, usize, FastHash>,
}

impl<'r> Seen<'r> {
    /// A finder for an inventory of `len` entries.
    pub(super) fn new(registry: &'r Registry, len: usize) -> Self {
        Self {
            registry,
            secrets: Secrets::default(),
            first: HashMap::with_capacity_and_hasher(len, FastHash::default()),
        }
    }

    /// The earlier entry that addresses entry `at`'s machine, if any.
    pub(super) fn check(&mut self, at: usize, entry: &InventoryNode) -> Option<usize> {
        let empty = Schema::default();
        let schema = self.secrets.of(self.registry, &entry.driver);
        let key = machine_key(entry, schema.unwrap_or(&empty))?;
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Occupied(seen) => Some(*seen.get()),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(at);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipmi(name: &str, info: serde_json::Value) -> InventoryNode {
        let mut n = InventoryNode::named(name, "ipmi");
        n.driver_info = hwctl_core::DriverInfo::from_json(info).unwrap();
        n
    }

    fn registry() -> Registry {
        crate::registry::registry()
    }

    /// The pairs `(first, later)` of entries of one machine, as the pre-check
    /// finds them.
    fn twins(r: &Registry, nodes: &[InventoryNode]) -> Vec<(usize, usize)> {
        let mut seen = Seen::new(r, nodes.len());
        nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| seen.check(i, n).map(|first| (first, i)))
            .collect()
    }

    /// Credentials aside, the same text is the same machine; any other
    /// difference (an address, a bridged target, a port) is another machine.
    #[test]
    fn credentials_do_not_change_the_machine_other_keys_do() {
        let r = registry();
        let a = ipmi(
            "a",
            serde_json::json!({"ipmi_address": "192.0.2.1", "ipmi_port": "623",
                "ipmi_username": "admin", "ipmi_password": "x"}),
        );
        let same = ipmi(
            "b",
            serde_json::json!({"ipmi_address": " 192.0.2.1", "ipmi_port": 623,
                "ipmi_username": "other", "ipmi_password": "y", "ipmi_hex_kg_key": "00"}),
        );
        let other_address = ipmi(
            "c",
            serde_json::json!({"ipmi_address": "192.0.2.2", "ipmi_port": "623"}),
        );
        let bridged = ipmi(
            "d",
            serde_json::json!({"ipmi_address": "192.0.2.1", "ipmi_port": "623",
                "ipmi_bridging": "single", "ipmi_target_channel": "7", "ipmi_target_address": "0x72"}),
        );
        let nodes = [a, other_address, same, bridged];
        assert_eq!(twins(&r, &nodes), [(0, 2)]);
        let mut seen = Seen::new(&r, nodes.len());
        let found: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| seen.check(i, n))
            .collect();
        assert_eq!(found, [None, None, Some(0), None]);
    }

    /// Ports are part of the machine (Wake-on-LAN wakes a MAC), in any case or
    /// order; an entry that names no endpoint and has no port addresses none.
    #[test]
    fn ports_count_and_entries_that_address_nothing_are_left_alone() {
        let r = registry();
        let mut w1 = InventoryNode::named("w1", "staging-wol");
        w1.ports = vec!["52:54:00:00:00:01".into(), "52:54:00:00:00:02".into()];
        let mut w2 = InventoryNode::named("w2", "staging-wol");
        w2.ports = vec!["52:54:00:00:00:03".into()];
        let mut w3 = InventoryNode::named("w3", "staging-wol");
        w3.ports = vec![
            "52:54:00:00:00:02".into(),
            "52:54:00:00:00:01".to_uppercase(),
        ];
        let f1 = InventoryNode::named("f1", "fake-hardware");
        let f2 = InventoryNode::named("f2", "fake-hardware");
        let nodes = [w1, w2, f1, w3, f2];
        assert_eq!(twins(&r, &nodes), [(0, 3)]);
        assert!(machine_key(&nodes[2], &Schema::default()).is_none());
        // Another driver on the same address is another machine as far as this
        // check goes (its driver_info differs in every key anyway).
        let mut nm = ipmi("n", serde_json::json!({"ipmi_address": "192.0.2.1"}));
        nm.driver = "staging-nm".into();
        let ip = ipmi("i", serde_json::json!({"ipmi_address": "192.0.2.1"}));
        assert!(twins(&r, &[nm, ip]).is_empty());
    }

    /// One machine written two ways is one machine (operator trial): a default
    /// given or left out, an address's case, a trailing `/`, a default port,
    /// `https://` where the Redfish family defaults to it. Another scheme or
    /// port is another endpoint.
    #[test]
    fn defaults_and_spellings_of_one_endpoint_are_one_machine() {
        let r = registry();
        let node = |name: &str, driver: &str, info: serde_json::Value| {
            let mut n = InventoryNode::named(name, driver);
            n.driver_info = hwctl_core::DriverInfo::from_json(info).unwrap();
            n
        };
        let nodes = [
            node(
                "i1",
                "ipmi",
                serde_json::json!({"ipmi_address": "10.0.0.9"}),
            ),
            node(
                "i2",
                "ipmi",
                serde_json::json!({"ipmi_address": "10.0.0.9", "ipmi_port": "623"}),
            ),
            node(
                "i3",
                "ipmi",
                serde_json::json!({"ipmi_address": "10.0.0.9", "ipmi_port": "6230"}),
            ),
            node(
                "r1",
                "redfish",
                serde_json::json!({"redfish_address": "10.0.0.7"}),
            ),
            node(
                "r2",
                "redfish",
                serde_json::json!({"redfish_address": "HTTPS://10.0.0.7:443/"}),
            ),
            node(
                "r3",
                "redfish",
                serde_json::json!({"redfish_address": "http://10.0.0.7"}),
            ),
            node(
                "o1",
                "msftocs",
                serde_json::json!({"msftocs_base_url": "http://127.0.0.1:8000",
                    "msftocs_blade_id": "1"}),
            ),
            node(
                "o2",
                "msftocs",
                serde_json::json!({"msftocs_base_url": "HTTP://127.0.0.1:8000/",
                    "msftocs_blade_id": "1"}),
            ),
        ];
        assert_eq!(twins(&r, &nodes), [(0, 1), (3, 4), (6, 7)]);
        for (given, one) in [
            ("https://BMC.lab:443/", "bmc.lab"),
            ("https://bmc.lab:8443", "bmc.lab:8443"),
            ("http://h:80/x/", "http://h/x"),
            ("https://h/redfish/v1", "https://h/redfish/v1"),
            (" 10.0.0.1/ ", "10.0.0.1"),
        ] {
            assert_eq!(endpoint_text(given), one, "{given}");
        }
    }
}
