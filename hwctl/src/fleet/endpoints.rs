//! Endpoints and the open-file budget of `hwctl fleet`: which entries share an
//! endpoint (one group, one pool or session), what sockets each endpoint may
//! hold, how many reads it serves at once, and how many sockets the sweep may
//! hold under the process's open-file limit.

use hwctl_core::{Error, ErrorKind, Result};

use crate::inventory::InventoryNode;

/// File descriptors kept free for everything but endpoint sockets (stdio, the
/// runtime's epoll and wakers, the signal pipe, state files, DNS).
const FD_RESERVE: u64 = 16;

/// Connections an endpoint may hold when its `driver_info` sets no limit.
const DEFAULT_ENDPOINT_CONNECTIONS: usize = 8;

/// The endpoint an entry talks to, as far as its `driver_info` says: the driver and
/// every address, host, port and URL value, written into `key` (cleared first; one
/// buffer serves every entry). Two entries with the same key share a client; a key
/// that lumps two endpoints together only costs fairness.
pub(super) fn endpoint_key(entry: &InventoryNode, key: &mut String) {
    let map = entry.driver_info.as_map();
    let names_endpoint = |k: &String| {
        ["_address", "_host", "_hostname", "_port", "_url", "_uri"]
            .iter()
            .any(|s| k.ends_with(s))
    };
    key.clear();
    key.push_str(&entry.driver);
    // By key (unique in a map), whatever order the map keeps. serde_json's map
    // iterates by key already (a BTreeMap), so its parts are written as met, with
    // no list to sort (issue 16); only a map that keeps its insertion order
    // (serde_json's `preserve_order`) is sorted first.
    if map.keys().is_sorted() {
        for (k, v) in map.iter().filter(|(k, _)| names_endpoint(k)) {
            push_endpoint_part(key, k, v);
        }
    } else {
        let mut parts: Vec<(&String, &serde_json::Value)> =
            map.iter().filter(|(k, _)| names_endpoint(k)).collect();
        parts.sort_unstable_by_key(|&(k, _)| k);
        for (k, v) in parts {
            push_endpoint_part(key, k, v);
        }
    }
}

/// Appends `|k=v` to an endpoint key ([`endpoint_key`]).
fn push_endpoint_part(key: &mut String, k: &str, v: &serde_json::Value) {
    use std::fmt::Write as _;
    key.push('|');
    key.push_str(k);
    key.push('=');
    match v {
        // A string as it is (a URL, a host), not as JSON: no escaping pass. `"1"`
        // and `1` then make one key, which only lumps two spellings together.
        serde_json::Value::String(s) => key.push_str(s),
        // Writing to a String cannot fail.
        other => {
            let _ = write!(key, "{other}");
        }
    }
}

/// The sockets one endpoint may hold at once: its `*_max_connections` when the
/// entry sets one, one for datagram or one-connection protocols (IPMI, iBoot,
/// Wake-on-LAN, libvirt), [`DEFAULT_ENDPOINT_CONNECTIONS`] otherwise.
pub(super) fn endpoint_cost(entry: &InventoryNode) -> usize {
    let set = entry
        .driver_info
        .as_map()
        .iter()
        .find(|(k, _)| k.ends_with("_max_connections"))
        .and_then(|(_, v)| match v {
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        });
    match set {
        Some(n) => n,
        None if [
            "ipmi",
            "staging-nm",
            "staging-iboot",
            "staging-wol",
            "staging-libvirt",
        ]
        .contains(&entry.driver.as_str()) =>
        {
            1
        }
        None => DEFAULT_ENDPOINT_CONNECTIONS,
    }
    .max(1)
}

/// How many requests an entry's endpoint serves at once, where the driver bounds
/// it: the HTTP drivers' request slots (`*_max_connections`, else
/// [`DEFAULT_ENDPOINT_CONNECTIONS`]), one for a BMC's session (IPMI, Node
/// Manager: one request in flight) and a PDU (iBoot: one exchange at a time);
/// `None` where nothing in the driver bounds them (Wake-on-LAN's broadcasts,
/// libvirt's connection, the fake hardware of tests and demos).
///
/// A status read is one exchange that holds its slot throughout, so the engine
/// puts no more of an endpoint's reads in flight than this: another would only
/// wait for a slot with its time limit running, and cost a task and a wake-up
/// (issue 16). A change is not bounded so: between its command and its polls a
/// node holds no slot, and the other nodes' changes use it.
pub(super) fn request_slots(entry: &InventoryNode) -> Option<usize> {
    match entry.driver.as_str() {
        "staging-wol" | "staging-libvirt" | "fake-hardware" => None,
        _ => Some(endpoint_cost(entry)),
    }
}

/// The soft open-file limit and the descriptors open now, where the system says
/// (`None` elsewhere: no bound is applied).
fn open_file_room() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    let soft: u64 = if soft == "unlimited" {
        u64::MAX
    } else {
        soft.parse().ok()?
    };
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some((soft, open))
}

/// How many sockets the sweep may hold at once, or the error that refuses it.
pub(super) fn socket_budget() -> Result<Option<usize>> {
    let Some((soft, open)) = open_file_room() else {
        return Ok(None);
    };
    let room = soft.saturating_sub(open).saturating_sub(FD_RESERVE);
    if room == 0 {
        return Err(Error::new(
            ErrorKind::Other,
            format!(
                "the open-file limit (ulimit -n) is {soft} with {open} files open: no room \
                 for a single connection (a sweep keeps {FD_RESERVE} descriptors spare); \
                 raise it, e.g. `ulimit -n 1024`"
            ),
        ));
    }
    Ok(Some(usize::try_from(room).unwrap_or(usize::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status read's bound per endpoint is its request slots where the driver
    /// has them, and none for the drivers that serve reads without a slot.
    #[test]
    fn an_endpoints_reads_in_flight_are_bounded_by_its_request_slots() {
        let mut ocs = InventoryNode::named("b1", "msftocs");
        assert_eq!(request_slots(&ocs), Some(DEFAULT_ENDPOINT_CONNECTIONS));
        ocs.driver_info = hwctl_core::DriverInfo::from_pairs([("msftocs_max_connections", "3")]);
        assert_eq!(request_slots(&ocs), Some(3));
        for one in ["ipmi", "staging-nm", "staging-iboot"] {
            assert_eq!(
                request_slots(&InventoryNode::named("n", one)),
                Some(1),
                "{one}"
            );
        }
        for free in ["staging-wol", "staging-libvirt", "fake-hardware"] {
            assert_eq!(
                request_slots(&InventoryNode::named("n", free)),
                None,
                "{free}"
            );
        }
    }
}
