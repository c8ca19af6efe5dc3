//! Two inventory entries that address one machine (a node pasted twice under two
//! names): a change would drive it twice at once (two reboots racing), so `on`,
//! `off`, `reboot` and `fleet … validate` refuse them ([`super::precheck`]); a
//! `status` sweep reads it twice, which is harmless, and warns once
//! ([`warn_of_status`]).
//!
//! An entry's *machine* is its `driver`, its `driver_info` without secrets (the
//! type's secret properties) and user names (`*_username`), and its `ports`:
//! credentials do not change which machine it is, while the ports do (Wake-on-LAN
//! wakes a port's MAC, staging-libvirt finds its domain by them without
//! `libvirt_domain`). Values are compared as their text, trimmed (`623` and
//! `"623"` alike; an empty value is an absent one), ports without regard to case
//! or order. Only an entry that names an endpoint (a `*_address`, `*_host`,
//! `*_hostname`, `*_port`, `*_url` or `*_uri` key, as the endpoint grouping reads
//! them) or has ports addresses a machine: two `fake-hardware` entries without
//! either are two fakes, never one machine.
//!
//! Cost: one pass, no pair of entries compared unless their hashes agree. The
//! change pre-check writes each entry's machine as a key into one map beside the
//! builds it does anyway; a `status` sweep, which builds nothing before it
//! starts, keeps only a 64-bit hash per entry.

use std::collections::HashMap;
use std::hash::Hasher as _;

use hwctl_core::Registry;
use hwctl_core::fast_hash::{FastHash, FastHasher};

use crate::inventory::InventoryNode;

/// How the messages say what "the same machine" means.
pub(super) const SAME: &str =
    "the same driver, driver_info and ports, secrets and user names aside";

/// At most this many pairs are named by the status warning; the rest are counted.
const LISTED: usize = 5;

/// Whether `key` names an endpoint (the suffixes [`super::endpoints`] groups by).
fn names_endpoint(key: &str) -> bool {
    ["_address", "_host", "_hostname", "_port", "_url", "_uri"]
        .iter()
        .any(|s| key.ends_with(s))
}

/// The secret property names of each hardware type met, looked up once per type.
#[derive(Default)]
pub(super) struct Secrets<'r> {
    by_type: Vec<(&'r str, Vec<&'r str>)>,
}

impl<'r> Secrets<'r> {
    /// The secret keys of `driver` (none for a type the registry lacks: the
    /// inventory check refused those already).
    fn of(&mut self, registry: &'r Registry, driver: &str) -> &[&'r str] {
        let at = match self.by_type.iter().position(|(d, _)| *d == driver) {
            Some(at) => at,
            None => {
                let Ok(hw) = registry.get(driver) else {
                    return &[];
                };
                let secret = hw
                    .properties()
                    .iter()
                    .filter(|p| p.secret)
                    .map(|p| p.name.as_ref())
                    .collect();
                self.by_type.push((hw.name(), secret));
                self.by_type.len() - 1
            }
        };
        &self.by_type[at].1
    }
}

/// Feeds the `driver_info` parts of `entry`'s machine (module docs) to `part`, in
/// a fixed order: the driver, then each kept key and its value, by key (the
/// callers add the ports). Whether a kept key names an endpoint.
fn parts(entry: &InventoryNode, secret: &[&str], mut part: impl FnMut(&str)) -> bool {
    let map = entry.driver_info.as_map();
    let mut addresses = false;
    part(&entry.driver);
    let mut one = |k: &str, v: &serde_json::Value| {
        if secret.contains(&k) || k.ends_with("_username") {
            return;
        }
        let text = match v {
            serde_json::Value::Null => return,
            serde_json::Value::String(s) => std::borrow::Cow::Borrowed(s.trim()),
            other => std::borrow::Cow::Owned(other.to_string()),
        };
        if text.is_empty() {
            return;
        }
        addresses |= names_endpoint(k);
        part(k);
        part(&text);
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
pub(super) fn machine_key(entry: &InventoryNode, secret: &[&str]) -> Option<String> {
    let mut key = String::new();
    let addresses = parts(entry, secret, |p| {
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

/// `entry`'s machine as a 64-bit hash, or `None` when it addresses none: equal
/// machines hash alike (the ports' hashes are summed, so their order does not
/// count, and lower-cased byte by byte: no copy); equal hashes are compared by
/// [`machine_key`].
fn machine_hash(entry: &InventoryNode, secret: &[&str]) -> Option<u64> {
    let mut h = FastHasher::default();
    let addresses = parts(entry, secret, |p| {
        h.write(p.as_bytes());
        h.write_u8(0x1f);
    });
    let mut macs = 0u64;
    let mut any = false;
    for p in ports(entry) {
        let mut one = FastHasher::default();
        for b in p.bytes() {
            one.write_u8(b.to_ascii_lowercase());
        }
        macs = macs.wrapping_add(one.finish());
        any = true;
    }
    h.write_u64(macs);
    (addresses || any).then(|| h.finish())
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
        let secret = self.secrets.of(self.registry, &entry.driver);
        let key = machine_key(entry, secret)?;
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Occupied(seen) => Some(*seen.get()),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(at);
                None
            }
        }
    }
}

/// The pairs `(earlier, later)` (0-based) of entries that address one machine,
/// each later entry paired with the first of its machine, in entry order; one
/// hash per entry, the keys of two entries compared only when their hashes agree.
pub(super) fn pairs_by_hash(registry: &Registry, nodes: &[InventoryNode]) -> Vec<(usize, usize)> {
    let mut secrets = Secrets::default();
    let mut first: HashMap<u64, usize, FastHash> =
        HashMap::with_capacity_and_hasher(nodes.len(), FastHash::default());
    let mut out = Vec::new();
    for (i, entry) in nodes.iter().enumerate() {
        let secret = secrets.of(registry, &entry.driver);
        let Some(h) = machine_hash(entry, secret) else {
            continue;
        };
        match first.entry(h) {
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(seen) => {
                let at = *seen.get();
                // Equal hashes: the same machine unless the keys differ (a
                // collision, which leaves this entry unpaired; harmless for a read).
                let secret_at = secrets.of(registry, &nodes[at].driver).to_vec();
                let secret = secrets.of(registry, &entry.driver);
                if machine_key(&nodes[at], &secret_at) == machine_key(entry, secret) {
                    out.push((at, i));
                }
            }
        }
    }
    out
}

/// The sentence naming `pairs` of `nodes` (`entries 1 ("a") and 3 ("b")`, …), at
/// most [`LISTED`] pairs and a count of the rest.
pub(super) fn pairs_told(nodes: &[InventoryNode], pairs: &[(usize, usize)]) -> String {
    let mut parts: Vec<String> = pairs
        .iter()
        .take(LISTED)
        .map(|&(a, b)| {
            format!(
                "entries {} ({:?}) and {} ({:?})",
                a + 1,
                nodes[a].name,
                b + 1,
                nodes[b].name
            )
        })
        .collect();
    if pairs.len() > LISTED {
        parts.push(format!("{} more pairs", pairs.len() - LISTED));
    }
    parts.join("; ")
}

/// Before a `status` sweep: one warning, when two entries address one machine,
/// naming them (`INV: entries 1 ("a") and 3 ("b") address one machine (…): it is
/// read once per entry; a change (on, off, reboot) refuses this inventory`). The
/// sweep goes on: reading a machine twice is harmless.
pub(super) fn warn_of_status(registry: &Registry, inventory: &str, nodes: &[InventoryNode]) {
    let pairs = pairs_by_hash(registry, nodes);
    if pairs.is_empty() {
        return;
    }
    tracing::warn!(
        "{inventory}: {} address one machine each ({SAME}): each is read once per entry; \
         a change (on, off, reboot) refuses this inventory (leave one of each out)",
        pairs_told(nodes, &pairs)
    );
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
        assert_eq!(pairs_by_hash(&r, &nodes), [(0, 2)]);
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
        assert_eq!(pairs_by_hash(&r, &nodes), [(0, 3)]);
        assert!(machine_key(&nodes[2], &[]).is_none());
        // Another driver on the same address is another machine as far as this
        // check goes (its driver_info differs in every key anyway).
        let mut nm = ipmi("n", serde_json::json!({"ipmi_address": "192.0.2.1"}));
        nm.driver = "staging-nm".into();
        let ip = ipmi("i", serde_json::json!({"ipmi_address": "192.0.2.1"}));
        assert!(pairs_by_hash(&r, &[nm, ip]).is_empty());
    }
}
