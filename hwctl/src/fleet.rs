//! `hwctl fleet`: one action on every node of an inventory — an engine, not a loop.
//!
//! - **One node per entry**, built once and used for every operation of that entry
//!   (a reboot's change and its polls).
//! - **One client per endpoint for the whole sweep.** Entries are grouped by the
//!   endpoint their `driver_info` names (address, port or URL); while a group has
//!   work, the engine keeps one of its nodes (the *keeper*), so the group's shared
//!   client (its connection pool, its IPMI session) lives from the group's first node
//!   to its last, whatever the concurrency. When a group is done its keeper is
//!   dropped and [`hwctl_core::shared::release_idle`] closes its connections at once.
//! - **Per-endpoint fairness.** Groups are served round robin, each with at most its
//!   fair share of the concurrency (`ceil(concurrency / active groups)`), so a slow
//!   chassis holds only its share of the slots. A status sweep also puts no more of
//!   an endpoint's nodes in flight than the requests it serves at once (its
//!   connection limit, one per BMC session or PDU): a read holds its request slot
//!   throughout, so another would only queue with its time limit running.
//! - **Bounded file descriptors.** The open-file limit (`RLIMIT_NOFILE`, read from
//!   `/proc/self/limits`) is checked before any node is touched: the sweep is refused
//!   with a clear message when it leaves no room for one connection; otherwise the
//!   concurrency and the number of groups open at once (each costing up to its
//!   connection limit) are bounded so that the sockets always fit.
//! - **Memory.** Per entry the engine keeps one [`Slot`] (a status and a duration;
//!   names are read from the inventory at report time); nodes exist only while in
//!   flight (plus one keeper per open group).
//! - **A time limit per node.** `fleet --timeout` (default 60 s for a status
//!   read, the power engine's for a change) bounds each node's operation; the
//!   drivers see it as the caller's deadline, and a node past it fails with
//!   `timeout` while the others go on (`act`).
//! - **Feedback.** A progress bar from the start (elapsed, rate, ETA, failures);
//!   Ctrl-C stops the sweep and prints which nodes were done (and switched), failed,
//!   interrupted in flight (with how long they had run), or not started, and the
//!   run exits with status 130 (128 + SIGINT).

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;

use hwctl_core::fast_hash::FastHash;
use hwctl_core::retry::DeadlineName;
use hwctl_core::{Error, ErrorKind, Node, PowerState, PowerTarget, Registry, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio::task::JoinSet;

use crate::cli::{FleetAction, NodeArgs};
use crate::inventory::InventoryNode;
use crate::node_args::{context_of, json_problem};
use crate::output::{error_json, fleet_error_json_for, say, table};

/// File descriptors kept free for everything but endpoint sockets (stdio, the
/// runtime's epoll and wakers, the signal pipe, state files, DNS).
const FD_RESERVE: u64 = 16;

/// Connections an endpoint may hold when its `driver_info` sets no limit.
const DEFAULT_ENDPOINT_CONNECTIONS: usize = 8;

/// What became of one entry.
#[derive(Debug, Default)]
pub(crate) enum Status {
    /// Not started (the sweep was interrupted first).
    #[default]
    NotStarted,
    /// In flight when the sweep was interrupted: its state is unknown.
    Interrupted,
    /// Done: the power state reached or read (kept as the state, not its text:
    /// no string per node, issue 16).
    Done(PowerState),
    /// A power state read from hwctl's record, not from the device (one that
    /// cannot be queried: the last state hwctl set). Counted as done.
    ReadRecorded(PowerState),
    /// A change only recorded, not performed: the target is among the device's
    /// `recorded_only` (Wake-on-LAN's off); nothing reached the node.
    Recorded(PowerState),
    /// A change sent to a device that cannot read a node's power state
    /// (`can_query` false: Wake-on-LAN's on and reboot): accepted, never
    /// confirmed, so counted as ok but never as done.
    Sent(PowerState),
    /// Failed with this error (boxed: a status is a few words, so a node task's
    /// output moves without a copy of the whole error, which is rare).
    Failed(Box<Error>),
}

/// One entry's outcome (its name and driver stay in the inventory).
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// What happened.
    pub status: Status,
    /// How long it took.
    pub elapsed: Duration,
}

/// The result of a sweep.
#[derive(Debug)]
pub(crate) struct Sweep {
    /// One slot per inventory entry, in inventory order.
    pub slots: Vec<Slot>,
    /// Whether Ctrl-C stopped it.
    pub interrupted: bool,
}

/// Refuses node flags with `fleet`: every node comes from the inventory.
///
/// # Errors
///
/// `InvalidParameter` naming the flags given.
pub(crate) fn check_no_node_flags(args: &NodeArgs) -> Result<()> {
    // `--ask-password` is among them: a sweep never stops to prompt; secrets come
    // from the inventory, `HW_<KEY>` or `--password-file` (see `fill_secrets`).
    let given = crate::node_args::flags_given(args);
    if given.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "{} cannot be used with fleet: every node comes from the inventory \
             (put per-node settings in its entries)",
            given.join(", ")
        ),
    ))
}

/// Fills every entry's secrets the way a single node gets them (`crate::secrets`):
/// `--password-file` (the type's one `*_password` key, for every entry) and
/// `HW_<KEY>` (a key the entry left out or gave as Ironic's mask `******`). Never
/// prompts. Entries of an unknown hardware type are left as they are (the sweep
/// reports them).
///
/// # Errors
///
/// `InvalidParameter` from [`crate::secrets::fill`] (an unreadable password file, a
/// type with several secrets and no single password), naming the entry.
pub(crate) fn fill_secrets(
    registry: &hwctl_core::Registry,
    nodes: &mut [InventoryNode],
    password_file: Option<&Path>,
) -> Result<()> {
    let src = crate::secrets::Sources {
        password_file,
        ask: false,
        flag_keys: Vec::new(),
        shared_file: true,
        env: &crate::secrets::process_env,
        prompt: None,
    };
    for (i, node) in nodes.iter_mut().enumerate() {
        if let Ok(hw) = registry.get(&node.driver) {
            crate::secrets::fill(node, hw.properties(), &src).map_err(|e| {
                e.with_note(format!("inventory entry {} (\"{}\")", i + 1, node.name))
            })?;
        }
    }
    Ok(())
}

/// Reads the inventory and names its unnamed entries (`node-N`, N the 0-based
/// position). A bad entry's error names the entry (its 1-based number and name)
/// and the line and column of the problem. Every entry must name a hardware type
/// this build knows, no two entries may share a name, and no member may be a
/// typo of one hwctl reads (`drvier`): all entries that break these rules are
/// reported at once ([`typo_parts`], [`bad_drivers`], [`repeated_names`]), before
/// any node is touched. A syntax error, or a member of the wrong type, still ends
/// the read and is reported alone.
///
/// # Errors
///
/// `InvalidParameter` (exit 2) for a file that cannot be read or does not describe
/// nodes, for typos, for entries whose `driver` is missing or unknown, and for
/// repeated names.
pub(crate) fn read_inventory(path: &Path) -> Result<Vec<InventoryNode>> {
    let (mut nodes, typos) = match crate::node_args::read_inventory(path) {
        Ok(nodes) => (nodes, None),
        // Read again on the error path only: the first entry that does not read
        // (past typos) is reported alone, with where; else the typos are listed
        // with every other problem of the entries.
        Err(e) => {
            let Ok(text) = std::fs::read_to_string(path) else {
                return Err(e);
            };
            if let Some(bad) = locate_bad_entry(&text) {
                return Err(Error::new(
                    ErrorKind::InvalidParameter,
                    format!(
                        "{} line {} column {}: entry {} ({}): {}",
                        path.display(),
                        bad.line,
                        bad.column,
                        bad.index + 1,
                        bad.name
                            .as_deref()
                            .map_or_else(|| "no name".to_owned(), |n| format!("\"{n}\"")),
                        bad.problem
                    ),
                ));
            }
            match crate::inventory::Inventory::read_past_typos(&text) {
                Ok((crate::inventory::Inventory::Nodes(nodes), count)) if count > 0 => {
                    let listed = crate::inventory::Inventory::typos(&text, LISTED);
                    (nodes, Some((listed, count)))
                }
                _ => return Err(e),
            }
        }
    };
    // Typos are told with where they are, as the reader found them, before the
    // entries are named.
    let typos = typos.map(|(listed, count)| (typo_parts(path, &nodes, &listed, count), listed));
    // An entry without a name or uuid is called by its 0-based position.
    let mut automatic = vec![false; nodes.len()];
    for (i, n) in nodes.iter_mut().enumerate() {
        if n.name.is_empty() {
            n.name = format!("node-{i}");
            automatic[i] = true;
        }
    }
    // An entry without a driver whose typo was `driver` (`drvier`) is told once,
    // by its typo.
    let told: Vec<usize> = typos.as_ref().map_or_else(Vec::new, |(_, listed)| {
        listed
            .iter()
            .filter(|t| t.meant == "driver")
            .map(|t| t.entry)
            .collect()
    });
    // Every check is reported together, so one run names every bad entry.
    let problems: Vec<String> = [
        bad_drivers(&nodes, crate::cli::hardware_type_names(), &told),
        repeated_names(&nodes, &automatic),
    ]
    .into_iter()
    .flatten()
    .collect();
    let (mut parts, listed) = typos.unwrap_or_default();
    if !problems.is_empty() {
        parts.push(format!(
            "{}: {}; no node was touched",
            path.display(),
            problems.join("; ")
        ));
    }
    if !parts.is_empty() {
        return Err(
            Error::new(ErrorKind::InvalidParameter, parts.join("; ")).with_problems(
                entry_problems(&nodes, crate::cli::hardware_type_names(), &told, &listed),
            ),
        );
    }
    Ok(nodes)
}

/// The problems of an inventory's entries one by one, for `--json`'s `problems`
/// (the message tells them in sentences): each named `entries[N].MEMBER`, N the
/// entry's number from 1 as the message counts them. A typo ([`LISTED`] at most)
/// is named by the member as written; a missing driver is missing (no reason); a
/// name several entries share is a problem of each of them but its first.
fn entry_problems(
    nodes: &[InventoryNode],
    known: &[String],
    told: &[usize],
    typos: &[crate::inventory::Typo],
) -> Vec<hwctl_core::ParameterProblem> {
    use hwctl_core::ParameterProblem;
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut problems: Vec<(usize, ParameterProblem)> = typos
        .iter()
        .map(|t| {
            (
                t.entry,
                ParameterProblem {
                    name: format!("entries[{}].{}", t.entry + 1, t.member),
                    reason: Some(t.problem.clone()),
                },
            )
        })
        .collect();
    let mut first: HashMap<&str, usize, FastHash> =
        HashMap::with_capacity_and_hasher(nodes.len(), FastHash::default());
    for (i, n) in nodes.iter().enumerate() {
        let given = n.driver.trim();
        if given.is_empty() {
            if !told.contains(&i) {
                problems.push((
                    i,
                    ParameterProblem {
                        name: format!("entries[{}].driver", i + 1),
                        reason: None,
                    },
                ));
            }
        } else if !names.contains(&n.driver.as_str()) {
            let shown: String = n.driver.chars().take(40).collect();
            let reason = match crate::registry::suggest(given, &names) {
                Some(close) => format!("{shown:?} is no hardware type (did you mean `{close}`?)"),
                None => format!("{shown:?} is no hardware type (`hwctl drivers` lists them)"),
            };
            problems.push((
                i,
                ParameterProblem {
                    name: format!("entries[{}].driver", i + 1),
                    reason: Some(reason),
                },
            ));
        }
        match first.get(n.name.as_str()) {
            Some(&at) => problems.push((
                i,
                ParameterProblem {
                    name: format!("entries[{}].name", i + 1),
                    reason: Some(format!("{:?} is the name of entry {} too", n.name, at + 1)),
                },
            )),
            None => {
                first.insert(n.name.as_str(), i);
            }
        }
    }
    // In entry order, each entry's problems as found.
    problems.sort_by_key(|&(i, _)| i);
    problems.into_iter().map(|(_, p)| p).collect()
}

/// The typos of an inventory (members close to one hwctl reads, `drvier`), each as
/// its own located sentence, the form a lone typo has always had (`PATH line 1
/// column 21: entry 1 ("a"): unknown member `drvier` (did you mean `driver`?)`):
/// the `listed` ones (at most [`LISTED`]), then how many more of `count` there are.
fn typo_parts(
    path: &Path,
    nodes: &[InventoryNode],
    listed: &[crate::inventory::Typo],
    count: usize,
) -> Vec<String> {
    let mut parts: Vec<String> = listed
        .iter()
        .map(|t| {
            let name = nodes
                .get(t.entry)
                .map(|n| n.name.as_str())
                .filter(|n| !n.is_empty())
                .map_or_else(|| "no name".to_owned(), |n| format!("\"{n}\""));
            format!(
                "{} line {} column {}: entry {} ({name}): {}",
                path.display(),
                t.line,
                t.column,
                t.entry + 1,
                t.problem
            )
        })
        .collect();
    if count > listed.len() {
        let more = count - listed.len();
        parts.push(format!(
            "{more} more unknown member{}",
            if more == 1 { "" } else { "s" }
        ));
    }
    parts
}

/// At most this many entries are listed by one inventory error; the rest are
/// counted.
const LISTED: usize = 5;

/// Every entry whose `driver` is missing or names no hardware type of `known`,
/// as one sentence (`None` when all are good): each with its 1-based entry number,
/// its name, the value given and a close known name when there is one
/// ([`crate::registry::suggest`], the rule `--driver` uses). A misspelled driver
/// and a missing one are one mistake, the inventory's, found before any node is
/// touched (both exit 2). An entry of `told` (0-based) without a driver is left
/// out: its typo (`drvier`) says it.
fn bad_drivers(nodes: &[InventoryNode], known: &[String], told: &[usize]) -> Option<String> {
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    // Entries mostly share a few drivers: the last one found known is checked
    // first, before the list (~20 names).
    let mut last_known: Option<&str> = None;
    let bad: Vec<(usize, &InventoryNode)> = nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            let driver = n.driver.as_str();
            if driver.trim().is_empty() && told.contains(i) {
                return false;
            }
            if last_known == Some(driver) {
                return false;
            }
            let is_known = names.contains(&driver);
            if is_known {
                last_known = Some(driver);
            }
            !is_known
        })
        .collect();
    if bad.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = bad
        .iter()
        .take(LISTED)
        .map(|&(i, n)| {
            let given = n.driver.trim();
            let what = if given.is_empty() {
                "has none".to_owned()
            } else {
                // Not a secret; cut so a stray blob does not flood the terminal.
                let shown: String = n.driver.chars().take(40).collect();
                let cut = if shown.len() < n.driver.len() {
                    "…"
                } else {
                    ""
                };
                match crate::registry::suggest(given, &names) {
                    Some(close) => format!("has {shown:?}{cut} (did you mean `{close}`?)"),
                    None => format!("has {shown:?}{cut}"),
                }
            };
            format!("entry {} (\"{}\") {what}", i + 1, n.name)
        })
        .collect();
    if bad.len() > LISTED {
        parts.push(format!("{} more entries", bad.len() - LISTED));
    }
    let (last, rest) = parts.split_last()?;
    let list = if rest.is_empty() {
        last.clone()
    } else {
        format!("{} and {last}", rest.join("; "))
    };
    Some(format!(
        "every entry needs `driver`, the hardware type (Ironic's node field, e.g. \
         \"driver\": \"ipmi\"; `hwctl drivers` lists them), but {list}"
    ))
}

/// The names several entries share (`None` when every name is unique), each with
/// its 1-based entry numbers (`"a" is entries 1, 3 and 6`), at most [`LISTED`]
/// names. A name that is one entry's automatic name (`automatic[i]`: the entry
/// has neither `name` nor `uuid`) says so, and which entry gave it.
fn repeated_names(nodes: &[InventoryNode], automatic: &[bool]) -> Option<String> {
    use std::collections::hash_map::Entry;
    // Each name's first entry (`None` once it is listed as repeated).
    let mut first: HashMap<&str, Option<usize>, FastHash> =
        HashMap::with_capacity_and_hasher(nodes.len(), FastHash::default());
    let mut repeated: Vec<usize> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        match first.entry(n.name.as_str()) {
            Entry::Occupied(mut seen) => {
                if let Some(at) = seen.get_mut().take() {
                    // Listed once, at its first entry.
                    repeated.push(at);
                }
            }
            Entry::Vacant(new) => {
                new.insert(Some(i));
            }
        }
    }
    if repeated.is_empty() {
        return None;
    }
    let and = |items: &[String]| match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    };
    let mut parts: Vec<String> = repeated
        .iter()
        .take(LISTED)
        .map(|&at| {
            let name = nodes[at].name.as_str();
            let at: Vec<usize> = (at..nodes.len())
                .filter(|&i| nodes[i].name == name)
                .collect();
            match at.iter().find(|&&i| automatic.get(i) == Some(&true)) {
                None => {
                    let numbers: Vec<String> = at.iter().map(|i| (i + 1).to_string()).collect();
                    format!("{name:?} is entries {}", and(&numbers))
                }
                Some(&auto) => {
                    let given: Vec<String> = at
                        .iter()
                        .filter(|&&i| i != auto)
                        .map(|i| (i + 1).to_string())
                        .collect();
                    format!(
                        "{name:?} is the name given to {} {} and the automatic name of \
                         entry {} (an entry with neither \"name\" nor \"uuid\" is called \
                         node-N, N counted from 0)",
                        if given.len() == 1 { "entry" } else { "entries" },
                        and(&given),
                        auto + 1
                    )
                }
            }
        })
        .collect();
    if repeated.len() > LISTED {
        parts.push(format!(
            "{} more names are repeated",
            repeated.len() - LISTED
        ));
    }
    Some(format!(
        "node names must be unique (as Ironic's are), but {}",
        parts.join("; ")
    ))
}

/// Where an inventory entry failed to decode.
#[derive(Debug)]
struct BadEntry {
    index: usize,
    name: Option<String>,
    line: usize,
    column: usize,
    problem: String,
}

/// Decodes `text` entry by entry to find the first that does not decode, its
/// typos skipped (they are listed together, [`typo_parts`]): its position, its
/// name or uuid (read loosely), and where in the text it failed.
fn locate_bad_entry(text: &str) -> Option<BadEntry> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::cell::Cell;

    struct Nodes<'a>(&'a Cell<Option<usize>>);
    impl<'de> Visitor<'de> for Nodes<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of nodes or {\"nodes\": [...]}")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
            let mut i = 0;
            let typos = crate::inventory::Typos::skipped();
            loop {
                self.0.set(Some(i));
                match seq.next_element_seed(crate::inventory::Entry(&typos))? {
                    Some(_) => i += 1,
                    None => {
                        self.0.set(None);
                        return Ok(());
                    }
                }
            }
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if key == "nodes" {
                    map.next_value_seed(Nodes(self.0))?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Nodes<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    let failed_at = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let err = Nodes(&failed_at).deserialize(&mut de).err()?;
    let index = failed_at.get()?;
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let list = match &value {
        serde_json::Value::Array(a) => Some(a),
        serde_json::Value::Object(o) => o.get("nodes").and_then(|n| n.as_array()),
        _ => None,
    };
    let entry = list.and_then(|l| l.get(index));
    let name = entry.and_then(|e| {
        e.get("name")
            .and_then(|n| n.as_str())
            .or_else(|| e.get("uuid").and_then(|n| n.as_str()))
            .map(str::to_owned)
    });
    let problem = json_problem(&err);
    let problem = match problem.rfind(" at line ") {
        Some(at) => problem[..at].to_owned(),
        None => problem,
    };
    Some(BadEntry {
        index,
        name,
        line: err.line(),
        column: err.column(),
        problem,
    })
}

/// The endpoint an entry talks to, as far as its `driver_info` says: the driver and
/// every address, host, port and URL value, written into `key` (cleared first; one
/// buffer serves every entry). Two entries with the same key share a client; a key
/// that lumps two endpoints together only costs fairness.
fn endpoint_key(entry: &InventoryNode, key: &mut String) {
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
fn endpoint_cost(entry: &InventoryNode) -> usize {
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
fn request_slots(entry: &InventoryNode) -> Option<usize> {
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
fn socket_budget() -> Result<Option<usize>> {
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

/// The bound of a `power status` read per node when `--timeout` is not given:
/// the one-node commands' default deadline (`hwctl power status` alone), so a node
/// answers the same alone or in a fleet. Without it a silent endpoint held its slot
/// for the driver's own retries (an HTTP chassis that accepts and never answers:
/// 3 attempts × hw-http's 30 s request timeout ≈ 90 s; docs/decisions.md, 94).
pub(crate) const DEFAULT_STATUS_TIMEOUT: Duration = crate::DEFAULT_DEADLINE;

/// How long past a power change's own timeout the fleet waits before it cuts the
/// node itself: the power engine stops at that timeout with its own error (which
/// says what it was waiting for), so this only guards against a node that does not.
const CHANGE_GRACE: Duration = Duration::from_secs(1);

/// The per-node limit of `action`: `--timeout`, else [`DEFAULT_STATUS_TIMEOUT`]
/// for a read and the power engine's default for a change
/// ([`hwctl_core::power::DEFAULT_POWER_TIMEOUT`]), with whether it was given.
fn limit_of(action: FleetAction, timeout: Option<Duration>) -> (Duration, bool) {
    match (timeout, action) {
        (Some(t), _) => (t, true),
        (None, FleetAction::Status) => (DEFAULT_STATUS_TIMEOUT, false),
        (None, _) => (hwctl_core::power::DEFAULT_POWER_TIMEOUT, false),
    }
}

/// The operation `action` is, as errors name it.
fn operation_of(action: FleetAction) -> &'static str {
    match action {
        FleetAction::Status => "get power state",
        FleetAction::On => PowerTarget::On.operation(),
        FleetAction::Off => PowerTarget::Off.operation(),
        FleetAction::Reboot => PowerTarget::Reboot.operation(),
    }
}

/// Runs `action` on `node` within `limit`: the drivers see the deadline
/// ([`hwctl_core::retry::with_named_caller_deadline`], named after the option),
/// so their retries stop before it with the real cause; what is still running at the deadline is cut and fails
/// with `timeout`, naming the limit and the operation. A change gets `limit` as
/// its own timeout too (the power engine then says what it waited for, as for one
/// node) and is cut only [`CHANGE_GRACE`] later.
async fn act(node: &Node, action: FleetAction, limit: Duration, given: bool) -> Result<Status> {
    let started = tokio::time::Instant::now();
    let deadline = started + limit;
    let target = match action {
        FleetAction::Status => None,
        FleetAction::On => Some(PowerTarget::On),
        FleetAction::Off => Some(PowerTarget::Off),
        FleetAction::Reboot => Some(PowerTarget::Reboot),
    };
    let work = async {
        let power = node.power()?;
        let state: Result<Status> = match target {
            None => {
                let state = power.get_power_state().await?;
                Ok(if power.capabilities().can_query {
                    Status::Done(state)
                } else {
                    Status::ReadRecorded(state)
                })
            }
            Some(target) => {
                power.set_power_state(target, Some(limit)).await?;
                let state = target.final_state();
                let caps = power.capabilities();
                Ok(if caps.recorded_only.contains(&target) {
                    Status::Recorded(state)
                } else if !caps.can_query {
                    Status::Sent(state)
                } else {
                    Status::Done(state)
                })
            }
        };
        state
    };
    let cut = if target.is_some() {
        deadline + CHANGE_GRACE
    } else {
        deadline
    };
    // The deadline's name, as a driver's error that it ended says it (`the next
    // would start after fleet --timeout 2s`).
    let name = if given {
        DeadlineName::timed("fleet --timeout ", limit, "")
    } else {
        DeadlineName::timed("fleet's default time limit of ", limit, " per node")
    };
    let bounded = hwctl_core::retry::with_named_caller_deadline(deadline, name.clone(), work);
    let limit_text = || {
        if given {
            name.to_string()
        } else {
            format!("{name}; change it with fleet --timeout SECONDS")
        }
    };
    match tokio::time::timeout_at(cut, bounded).await {
        Ok(Err(e)) if e.kind() == ErrorKind::Timeout && tokio::time::Instant::now() >= deadline => {
            // A driver's retry loop stopped at the deadline: its cause, and the limit.
            Err(e.with_note(format!("stopped at {}", limit_text())))
        }
        Ok(result) => result,
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "no result after {:.1} s, the time limit of each node ({}); the device may \
                 be silent or unreachable",
                started.elapsed().as_secs_f64(),
                limit_text()
            ),
        )
        .with_driver(node.hardware_type().to_owned())
        .with_operation(operation_of(action))),
    }
}

/// Builds entry `at`'s node (once) and runs the action on it within the node's
/// limit ([`act`]); gives the node back, boxed, when `keep` is set (the engine may
/// keep it as its group's keeper), and drops it otherwise.
///
/// The future owns what it reads (shared copies of the registry and the
/// inventory), so the engine can box it once and spawn it: the task then holds a
/// pointer, not this future's several kilobytes (the drivers' futures inside it),
/// which the runtime copied at the spawn and at each change of the task's stage
/// (issue 16).
async fn run_entry(
    registry: Arc<Registry>,
    nodes: Arc<[InventoryNode]>,
    at: usize,
    action: FleetAction,
    timeout: Option<Duration>,
    keep: bool,
) -> Outcome {
    let entry = &nodes[at];
    let node =
        match context_of(entry).and_then(|(info, ctx)| {
            // An unknown type is told with a close name (`hardware_type`) after the
            // build fails, not looked up before every build: the reader already
            // refused the inventory's unknown types.
            registry.build(&entry.driver, info, &ctx).map_err(|e| {
                match crate::registry::hardware_type(&registry, &entry.driver) {
                    Err(unknown) => unknown,
                    Ok(_) => e,
                }
            })
        }) {
            Ok(n) => n,
            Err(e) => return (Status::Failed(Box::new(e)), None),
        };
    let (limit, given) = limit_of(action, timeout);
    let status = match act(&node, action, limit, given).await {
        Ok(status) => status,
        Err(e) => Status::Failed(Box::new(e)),
    };
    (status, keep.then(|| Box::new(node)))
}

/// One endpoint's queue.
struct Group {
    entries: VecDeque<usize>,
    in_flight: usize,
    /// The sockets the endpoint may hold ([`endpoint_cost`]).
    cost: usize,
    /// How many of its nodes may be in flight at once besides the fair share:
    /// its request slots for a status read ([`request_slots`]), unbounded for a
    /// change.
    reads_at_once: usize,
    open: bool,
    keeper: Option<Box<Node>>,
}

fn progress_bar(total: usize, progress: bool) -> ProgressBar {
    let bar = if progress {
        ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        // At most ~78 columns with 5-digit counts, so an 80-column terminal
        // does not wrap it (a bar of 30 made it 88-94).
        "{spinner} [{elapsed_precise}] {bar:20} {pos}/{len} · {rate} · ETA {eta} · {msg}",
    ) {
        // indicatif's own `{per_sec}` prints four decimals (`109.5799/s`).
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate_text(state.per_sec()));
            },
        ));
    }
    bar.set_message("0 failed");
    bar.enable_steady_tick(Duration::from_millis(100));
    bar.tick();
    bar
}

/// A sweep's rate for the progress bar: whole nodes per second from 10 up
/// (`110 nodes/s`), one decimal below (`2.5 nodes/s`), `-` before there is one.
fn rate_text(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "- nodes/s".to_owned()
    } else if per_sec >= 10.0 {
        format!("{per_sec:.0} nodes/s")
    } else {
        format!("{per_sec:.1} nodes/s")
    }
}

/// Runs `action` on every node, at most `concurrency` at once (fewer when the
/// open-file limit requires), with a progress bar on stderr when `progress` is set;
/// stops at Ctrl-C.
///
/// The engine runs as a task of the runtime and every node's operation as a task of
/// its own, so a node's future is woken by its connection on the same worker thread
/// rather than across threads to the thread that blocks on `main`'s future (which
/// cost more CPU per operation than the operation itself, issue 16); at concurrency
/// 1 the one node runs inside the engine's task. hwctl runs a sweep on a runtime
/// of one thread (`runtime_for` in `main.rs`); an embedder's may have more.
///
/// A node task that panics fails its row (`the node's task failed: …`), at any
/// concurrency; the sweep goes on.
///
/// # Errors
///
/// `Other` when the open-file limit leaves no room for a connection (before any
/// node is touched).
pub(crate) async fn run(
    registry: &Registry,
    nodes: Arc<[InventoryNode]>,
    action: FleetAction,
    concurrency: usize,
    timeout: Option<Duration>,
    progress: bool,
) -> Result<Sweep> {
    let budget = socket_budget()?;
    let mut concurrency = concurrency.max(1);
    if let Some(b) = budget
        && b < concurrency
    {
        tracing::warn!(
            "the open-file limit leaves room for {b} connections: running {b} nodes at once instead of {concurrency}"
        );
        concurrency = b;
    }
    let sockets = budget.unwrap_or(usize::MAX);
    let engine = Engine {
        registry: Arc::new(registry.clone()),
        // Shared with the node tasks, not copied (a copy of every entry cost ~1.4k
        // instructions per node, and as much again to drop it).
        nodes,
        action,
        concurrency,
        sockets,
        timeout,
    };
    tokio::spawn(engine.sweep(progress))
        .await
        .map_err(|e| Error::new(ErrorKind::Other, format!("the fleet engine failed: {e}")))
}

/// What the engine task owns: the sweep's settings and shared copies of the
/// registry and the inventory (the node tasks read their entries from it).
struct Engine {
    registry: Arc<Registry>,
    nodes: Arc<[InventoryNode]>,
    action: FleetAction,
    concurrency: usize,
    sockets: usize,
    timeout: Option<Duration>,
}

/// What a node task gives back: its entry's status and, when the engine asked for
/// it, its node (a keeper candidate). Two words and a tag: the runtime moves a
/// task's output several times on its way to the engine.
type Outcome = (Status, Option<Box<Node>>);

/// A node's work as the engine holds it: boxed once, under its node label.
type NodeWork = std::pin::Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The outcome of a node whose task failed (it panicked): `failed` with why.
fn task_failed(why: String) -> Outcome {
    (
        Status::Failed(Box::new(Error::new(
            ErrorKind::Other,
            format!("the node's task failed: {why}"),
        ))),
        None,
    )
}

/// A panic's message, where it is text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not text)")
}

/// The engine's running tasks: each task's entry, group and start. Keyed by task
/// id with hw-core's unkeyed [`FastHash`] (the ids are the runtime's own; SipHash
/// cost ~300 instructions per node for this map and the name check's, issue 16).
type Running = HashMap<tokio::task::Id, (usize, usize, Instant), FastHash>;

impl Engine {
    async fn sweep(self, progress: bool) -> Sweep {
        let Engine {
            registry,
            nodes,
            action,
            concurrency,
            sockets,
            timeout,
        } = self;
        // Group the entries by endpoint, in order of first appearance.
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut key = String::new();
        // The previous entry's key and group: the entries of one endpoint usually
        // come together (a chassis's blades), and then the map is not consulted.
        let mut previous = String::new();
        let mut previous_group = None;
        for (i, entry) in nodes.iter().enumerate() {
            endpoint_key(entry, &mut key);
            // The key is copied only for a new endpoint.
            let known = match previous_group {
                Some(g) if key == previous => Some(g),
                _ => index.get(key.as_str()).copied(),
            };
            let g = match known {
                Some(g) => g,
                None => {
                    groups.push(Group {
                        entries: VecDeque::new(),
                        in_flight: 0,
                        cost: endpoint_cost(entry).min(concurrency),
                        reads_at_once: match action {
                            FleetAction::Status => request_slots(entry).unwrap_or(usize::MAX),
                            _ => usize::MAX,
                        },
                        open: false,
                        keeper: None,
                    });
                    index.insert(key.clone(), groups.len() - 1);
                    groups.len() - 1
                }
            };
            groups[g].entries.push_back(i);
            std::mem::swap(&mut key, &mut previous);
            previous_group = Some(g);
        }
        drop(index);

        let mut slots: Vec<Slot> = std::iter::repeat_with(Slot::default)
            .take(nodes.len())
            .collect();
        let bar = progress_bar(nodes.len(), progress);
        let mut failed = 0usize;
        // Dropping the set (at Ctrl-C) aborts the node tasks still running.
        let mut tasks: JoinSet<Outcome> = JoinSet::new();
        // At concurrency 1 the one node in flight runs inside this task rather than
        // as a task of its own: its reply then wakes the engine directly, with no
        // hand-over to a node task and back per node (at concurrency 1 a sweep is
        // bound by such latencies, not by CPU; issue 16).
        let inline_one = concurrency == 1;
        let mut inline: Option<(NodeWork, usize, usize, Instant)> = None;
        // Per running task: its entry, its group, when it started.
        let mut running = Running::default();
        let mut next_group = 0usize; // groups before this one were opened already
        let mut open_cost = 0usize;
        let mut open_groups: Vec<usize> = Vec::new();
        let mut rr = 0usize;
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        let mut interrupted = false;

        loop {
            // Open groups while their sockets fit (always at least one).
            while next_group < groups.len()
                && (open_groups.is_empty() || open_cost + groups[next_group].cost <= sockets)
            {
                groups[next_group].open = true;
                open_cost += groups[next_group].cost;
                open_groups.push(next_group);
                next_group += 1;
            }
            // Dispatch round robin, each open group up to its fair share.
            let with_work = open_groups
                .iter()
                .filter(|&&g| !groups[g].entries.is_empty())
                .count()
                .max(1);
            let share = concurrency.div_ceil(with_work);
            let mut idle_turns = 0;
            while tasks.len() + usize::from(inline.is_some()) < concurrency
                && idle_turns < open_groups.len()
            {
                rr %= open_groups.len().max(1);
                let g = open_groups[rr];
                rr += 1;
                let group = &mut groups[g];
                if group.in_flight >= share.min(group.reads_at_once) {
                    idle_turns += 1;
                    continue;
                }
                let Some(i) = group.entries.pop_front() else {
                    idle_turns += 1;
                    continue;
                };
                idle_turns = 0;
                group.in_flight += 1;
                // Boxed once here, under its label; the task (or the engine, at
                // concurrency 1) holds a pointer to it.
                let label = crate::logging::NodeLabel::new(nodes.clone(), i);
                let work = Box::pin(crate::logging::with_node(
                    label,
                    run_entry(
                        registry.clone(),
                        nodes.clone(),
                        i,
                        action,
                        timeout,
                        group.keeper.is_none(),
                    ),
                ));
                if inline_one {
                    inline = Some((work, i, g, Instant::now()));
                } else {
                    let task = tasks.spawn(work);
                    running.insert(task.id(), (i, g, Instant::now()));
                }
            }
            let (i, g, started, (status, node)) = if let Some((work, i, g, started)) = &mut inline {
                let done = tokio::select! {
                    d = AssertUnwindSafe(work).catch_unwind() => d,
                    _ = &mut interrupt => {
                        interrupted = true;
                        break;
                    }
                };
                let finished = (*i, *g, *started);
                inline = None;
                let outcome = done.unwrap_or_else(|panic| {
                    task_failed(format!("panicked with message {:?}", panic_text(&*panic)))
                });
                (finished.0, finished.1, finished.2, outcome)
            } else {
                if tasks.is_empty() {
                    break;
                }
                let done = tokio::select! {
                    d = tasks.join_next_with_id() => d,
                    _ = &mut interrupt => {
                        interrupted = true;
                        None
                    }
                };
                let Some(done) = done else {
                    break;
                };
                let (id, outcome) = match done {
                    Ok((id, outcome)) => (id, outcome),
                    Err(e) => (e.id(), task_failed(e.to_string())),
                };
                let Some((i, g, started)) = running.remove(&id) else {
                    continue;
                };
                (i, g, started, outcome)
            };
            // The count first, then the failures, so the bar never shows a failure
            // its count does not include yet.
            bar.inc(1);
            if let Status::Failed(_) = status {
                failed += 1;
                bar.set_message(format!("{failed} failed"));
            }
            slots[i] = Slot {
                status,
                elapsed: started.elapsed(),
            };
            let group = &mut groups[g];
            group.in_flight -= 1;
            if group.keeper.is_none() && !group.entries.is_empty() {
                group.keeper = node;
            } else {
                drop(node);
            }
            if group.entries.is_empty() && group.in_flight == 0 && group.open {
                // The endpoint is done: close its pool (or session) now.
                group.open = false;
                group.keeper = None;
                open_cost -= group.cost;
                open_groups.retain(|&x| x != g);
                hwctl_core::shared::release_idle();
            }
        }
        if interrupted {
            // In flight when Ctrl-C came: their state is unknown; they ran this long.
            if let Some((work, i, _, started)) = inline.take() {
                drop(work);
                slots[i] = Slot {
                    status: Status::Interrupted,
                    elapsed: started.elapsed(),
                };
            }
            tasks.abort_all();
            for (i, _, started) in running.into_values() {
                slots[i] = Slot {
                    status: Status::Interrupted,
                    elapsed: started.elapsed(),
                };
            }
            // Wait for the aborted tasks to be dropped, so their nodes (and clients)
            // are gone before the caller releases the shared ones.
            while tasks.join_next().await.is_some() {}
        }
        bar.finish_and_clear();
        Sweep { slots, interrupted }
    }
}

fn action_name(action: FleetAction) -> String {
    format!("{action:?}").to_lowercase()
}

/// Whether a done node was switched (the action changes power), for the summary.
fn switches(action: FleetAction) -> bool {
    action != FleetAction::Status
}

/// Prints the outcomes as a table (or JSON), with the interrupt summary when Ctrl-C
/// stopped the sweep, and returns how many failed.
pub(crate) fn report(
    nodes: &[InventoryNode],
    sweep: &Sweep,
    action: FleetAction,
    json_out: bool,
) -> usize {
    let mut failed = Vec::new();
    let mut done = Vec::new();
    let mut recorded = Vec::new();
    let mut sent = Vec::new();
    let mut in_flight = Vec::new();
    let mut not_started = Vec::new();
    for (n, s) in nodes.iter().zip(&sweep.slots) {
        match &s.status {
            Status::Done(_) | Status::ReadRecorded(_) => done.push(n.name.as_str()),
            Status::Recorded(_) => recorded.push(n.name.as_str()),
            Status::Sent(_) => sent.push(n.name.as_str()),
            Status::Failed(_) => failed.push(n.name.as_str()),
            Status::Interrupted => in_flight.push(n.name.as_str()),
            Status::NotStarted => not_started.push(n.name.as_str()),
        }
    }
    let rows = nodes
        .iter()
        .zip(&sweep.slots)
        .filter(|(_, s)| !sweep.interrupted || !matches!(s.status, Status::NotStarted));
    if json_out {
        // An error that names no operation (a node's driver_info refused before
        // any call) gets the one a device error of this sweep names, so the rows
        // of one report agree (`get power state`, not `power status` beside it).
        let operation = operation_of(action);
        let list: Vec<JsonRow<'_>> = rows
            .map(|(n, s)| {
                let ms = Some(u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX));
                let row = JsonRow {
                    confirmed: None,
                    driver: &n.driver,
                    elapsed_ms: None,
                    error: None,
                    name: &n.name,
                    ok: false,
                    performed: None,
                    power_state: None,
                    power_state_recorded: None,
                    status: "not-started",
                };
                match &s.status {
                    Status::Done(state) => JsonRow {
                        elapsed_ms: ms,
                        ok: true,
                        power_state: Some(state.as_str()),
                        status: "done",
                        ..row
                    },
                    Status::ReadRecorded(state) => JsonRow {
                        elapsed_ms: ms,
                        ok: true,
                        power_state: Some(state.as_str()),
                        power_state_recorded: Some(true),
                        status: "done",
                        ..row
                    },
                    Status::Recorded(state) => JsonRow {
                        elapsed_ms: ms,
                        ok: true,
                        performed: Some(false),
                        power_state: Some(state.as_str()),
                        status: "recorded",
                        ..row
                    },
                    Status::Sent(state) => JsonRow {
                        confirmed: Some(false),
                        elapsed_ms: ms,
                        ok: true,
                        power_state: Some(state.as_str()),
                        status: "sent",
                        ..row
                    },
                    Status::Failed(e) => JsonRow {
                        elapsed_ms: ms,
                        // Errors that name no operation of their own (a node that
                        // failed validation) name the one the sweep was for.
                        error: Some(fleet_error_json_for(e, operation)),
                        status: "failed",
                        ..row
                    },
                    Status::Interrupted => JsonRow {
                        elapsed_ms: ms,
                        status: "interrupted",
                        ..row
                    },
                    Status::NotStarted => row,
                }
            })
            .collect();
        let summary = sweep.interrupted.then(|| {
            json!({
                "done": done,
                "switched": if switches(action) { done.clone() } else { Vec::new() },
                "recorded": recorded,
                "sent": sent,
                "failed": failed,
                "interrupted": in_flight,
                "not_started": not_started,
            })
        });
        print_json_report(&JsonReport {
            action: action_name(action),
            // The error the run ends with, as text mode prints it on stderr.
            error: run_error(nodes.len(), sweep, failed.len()).map(|e| error_json(&e)),
            failed: failed.len(),
            interrupted: sweep.interrupted.then_some(true),
            nodes: list,
            ok: done.len() + recorded.len() + sent.len(),
            summary,
            total: nodes.len(),
        });
    } else {
        // Where a missing parameter comes from, once per parameter below the table
        // (as `validate` prints it under each problem).
        let mut hints = std::collections::BTreeMap::new();
        let mut read_recorded = false;
        let rows: Vec<Vec<String>> = rows
            .map(|(n, s)| {
                let (result, detail) = match &s.status {
                    Status::Done(state) => (state.to_string(), String::new()),
                    Status::ReadRecorded(state) => {
                        read_recorded = true;
                        (format!("{state}{RECORDED_MARK}"), String::new())
                    }
                    Status::Recorded(state) => (
                        format!("{state} (recorded)"),
                        "recorded, not performed: nothing reached the node (the device cannot do it; \
                         a person must)"
                            .into(),
                    ),
                    Status::Sent(state) => (
                        format!("{state} (sent)"),
                        "sent, not confirmed: the device cannot read a node's power state".into(),
                    ),
                    Status::Failed(e) => {
                        for p in e.problems() {
                            if let Some(hint) = crate::output::fleet_hint_for(e.driver(), p) {
                                hints.entry(p.name.clone()).or_insert(hint);
                            }
                        }
                        (format!("error [{}]", e.kind()), e.to_string())
                    }
                    Status::Interrupted => ("interrupted".into(), "state unknown".into()),
                    Status::NotStarted => ("not started".into(), String::new()),
                };
                vec![
                    n.name.clone(),
                    n.driver.clone(),
                    result,
                    format!("{:.2}s", s.elapsed.as_secs_f64()),
                    detail,
                ]
            })
            .collect();
        say(table(&["NODE", "DRIVER", "POWER", "TIME", "DETAIL"], &rows));
        for (name, hint) in &hints {
            say(format!("hint ({name}): {hint}"));
        }
        if read_recorded {
            say(format!(
                "{RECORDED_MARK} recorded, not read: the last state hwctl set (the device \
                 cannot read a node's power state; unknown until hwctl sets one)"
            ));
        }
        if sweep.interrupted {
            let list = |names: &[&str]| {
                if names.is_empty() {
                    "-".to_owned()
                } else {
                    names.join(", ")
                }
            };
            say(format!(
                "interrupted by Ctrl-C: {} done, {}{}{} failed, {} in flight (state unknown), {} not started",
                done.len(),
                if sent.is_empty() {
                    String::new()
                } else {
                    format!("{} sent (not confirmed), ", sent.len())
                },
                if recorded.is_empty() {
                    String::new()
                } else {
                    format!("{} recorded (not performed), ", recorded.len())
                },
                failed.len(),
                in_flight.len(),
                not_started.len()
            ));
            if switches(action) {
                say(format!("switched {}: {}", action_name(action), list(&done)));
            } else {
                say(format!("done: {}", list(&done)));
            }
            if !sent.is_empty() {
                say(format!("sent, not confirmed: {}", list(&sent)));
            }
            if !recorded.is_empty() {
                say(format!("recorded, not performed: {}", list(&recorded)));
            }
            say(format!("failed: {}", list(&failed)));
            say(format!("in flight: {}", list(&in_flight)));
            say(format!("not started: {}", list(&not_started)));
        } else {
            say(summary_line(
                nodes.len(),
                done.len(),
                sent.len(),
                recorded.len(),
                failed.len(),
            ));
        }
    }
    failed.len()
}

/// The last line of a text report: `3 nodes, 2 ok, 1 failed` (`1 node, …`), with
/// the changes sent but not confirmed and those only recorded counted apart when
/// there are any (`3 nodes, 1 ok, 1 sent (not confirmed), 1 recorded (not
/// performed), 0 failed`).
fn summary_line(nodes: usize, ok: usize, sent: usize, recorded: usize, failed: usize) -> String {
    let noun = if nodes == 1 { "node" } else { "nodes" };
    if sent > 0 {
        let recorded = if recorded == 0 {
            String::new()
        } else {
            format!("{recorded} recorded (not performed), ")
        };
        return format!(
            "{nodes} {noun}, {ok} ok, {sent} sent (not confirmed), {recorded}{failed} failed"
        );
    }
    if recorded == 0 {
        format!("{nodes} {noun}, {ok} ok, {failed} failed")
    } else {
        format!("{nodes} {noun}, {ok} ok, {recorded} recorded (not performed), {failed} failed")
    }
}

/// Marks a state read from hwctl's record (not from the device) in the text
/// table, as `hwctl demo` does.
const RECORDED_MARK: &str = "*";

/// The JSON report (`--json`), serialized as it is built: one value per node
/// rather than a `serde_json::Value` tree of them (issue 16). Fields are in
/// alphabetical order, the order `serde_json::Map` printed them in.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    action: String,
    /// The error the run ends with ([`run_error`]) as `--json` prints any error
    /// (`kind`, `message`, …): absent when it ends with none (exit 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<bool>,
    nodes: Vec<JsonRow<'a>>,
    /// The nodes whose row is `"ok": true` (done, recorded or sent).
    ok: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<serde_json::Value>,
    total: usize,
}

/// One node of [`JsonReport`] (fields in alphabetical order, as above).
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    /// `false` for a change sent to a device that cannot read power (never
    /// confirmed); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed: Option<bool>,
    driver: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    name: &'a str,
    ok: bool,
    /// `false` for a change only recorded (nothing reached the device); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    performed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    power_state: Option<&'a str>,
    /// `true` for a state read from hwctl's record, not the device; absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    power_state_recorded: Option<bool>,
    status: &'static str,
}

/// Prints `report` on stdout as [`write_json_report`] writes it, then a newline,
/// through one buffer.
fn print_json_report(report: &JsonReport<'_>) {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if write_json_report(&mut out, report).is_ok() {
        let _ = writeln!(out);
    }
    let _ = out.flush();
}

/// Writes `report` as pretty JSON, byte for byte what
/// `serde_json::to_writer_pretty` writes of it (and so what `--json` always
/// printed, `fleet::tests` compares them), with each row's keys, punctuation and
/// indentation written as fixed text rather than through the pretty formatter's
/// per-token calls (issue 16: ~2.7k instructions per node before). The rare parts
/// (an error, the interrupt summary) go through `serde_json` and are re-indented.
///
/// # Errors
///
/// The writer's.
fn write_json_report<W: std::io::Write>(w: &mut W, report: &JsonReport<'_>) -> std::io::Result<()> {
    w.write_all(b"{\n  \"action\": ")?;
    serde_json::to_writer(&mut *w, &report.action)?;
    if let Some(error) = &report.error {
        w.write_all(b",\n  \"error\": ")?;
        write_nested(w, error, 1)?;
    }
    write!(w, ",\n  \"failed\": {}", report.failed)?;
    if let Some(interrupted) = report.interrupted {
        write!(w, ",\n  \"interrupted\": {interrupted}")?;
    }
    if report.nodes.is_empty() {
        w.write_all(b",\n  \"nodes\": []")?;
    } else {
        w.write_all(b",\n  \"nodes\": [")?;
        for (i, row) in report.nodes.iter().enumerate() {
            w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            write_json_row(w, row)?;
        }
        w.write_all(b"\n  ]")?;
    }
    write!(w, ",\n  \"ok\": {}", report.ok)?;
    if let Some(summary) = &report.summary {
        w.write_all(b",\n  \"summary\": ")?;
        write_nested(w, summary, 1)?;
    }
    write!(w, ",\n  \"total\": {}\n}}", report.total)
}

/// One row of [`write_json_report`], at depth 2 (six spaces for its members).
fn write_json_row<W: std::io::Write>(w: &mut W, row: &JsonRow<'_>) -> std::io::Result<()> {
    if let Some(confirmed) = row.confirmed {
        w.write_all(if confirmed {
            b"    {\n      \"confirmed\": true,\n      \"driver\": "
        } else {
            b"    {\n      \"confirmed\": false,\n      \"driver\": "
        })?;
    } else {
        w.write_all(b"    {\n      \"driver\": ")?;
    }
    write_json_str(w, row.driver)?;
    if let Some(ms) = row.elapsed_ms {
        w.write_all(b",\n      \"elapsed_ms\": ")?;
        // serde_json's own number writer, not `write!`'s formatting machinery.
        serde_json::to_writer(&mut *w, &ms)?;
    }
    if let Some(error) = &row.error {
        w.write_all(b",\n      \"error\": ")?;
        write_nested(w, error, 3)?;
    }
    w.write_all(b",\n      \"name\": ")?;
    write_json_str(w, row.name)?;
    w.write_all(if row.ok {
        b",\n      \"ok\": true"
    } else {
        b",\n      \"ok\": false"
    })?;
    if let Some(performed) = row.performed {
        write!(w, ",\n      \"performed\": {performed}")?;
    }
    if let Some(state) = row.power_state {
        w.write_all(b",\n      \"power_state\": ")?;
        write_json_str(w, state)?;
    }
    if let Some(recorded) = row.power_state_recorded {
        write!(w, ",\n      \"power_state_recorded\": {recorded}")?;
    }
    w.write_all(b",\n      \"status\": ")?;
    write_json_str(w, row.status)?;
    w.write_all(b"\n    }")
}

/// Writes `s` as a JSON string, byte for byte as `serde_json` does: between
/// quotes as it is when nothing in it needs escaping (a control character, `"`
/// or `\`; the usual name, driver or state), else through `serde_json`. Its
/// escaping writer cost ~125 instructions a string (issue 16).
fn write_json_str<W: std::io::Write>(w: &mut W, s: &str) -> std::io::Result<()> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        w.write_all(b"\"")?;
        w.write_all(s.as_bytes())?;
        w.write_all(b"\"")
    } else {
        serde_json::to_writer(&mut *w, s).map_err(std::io::Error::from)
    }
}

/// `value` as pretty JSON nested `depth` levels deep: its lines after the first
/// indented by two spaces per level. A pretty JSON text has a newline only between
/// tokens (one inside a string is written `\n`), so indenting after each is exact.
fn write_nested<W: std::io::Write>(
    w: &mut W,
    value: &serde_json::Value,
    depth: usize,
) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(value)?;
    let pad = "  ".repeat(depth);
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            w.write_all(b"\n")?;
            w.write_all(pad.as_bytes())?;
        }
        w.write_all(line)?;
    }
    Ok(())
}

/// The operation name of errors whose details were already printed as a summary.
pub(crate) const SUMMARY_OPERATION: &str = "summary";

/// The order in which kinds of equal count lead a failed sweep's summary: what
/// the user must fix first (the inventory, credentials, certificates), then what
/// the devices refused, then what a rerun may fix (unreachable, timeout, busy),
/// `other` last. A kind not listed (added later) comes after them all.
const TIE_ORDER: [ErrorKind; 14] = [
    ErrorKind::MissingParameter,
    ErrorKind::InvalidParameter,
    ErrorKind::Unauthenticated,
    ErrorKind::PermissionDenied,
    ErrorKind::BadCertificate,
    ErrorKind::NotFound,
    ErrorKind::Unsupported,
    ErrorKind::PowerStateFailure,
    ErrorKind::DeviceFault,
    ErrorKind::Protocol,
    ErrorKind::Unreachable,
    ErrorKind::Timeout,
    ErrorKind::Busy,
    ErrorKind::Other,
];

/// The error a fleet run ends with when some nodes failed: its kind is the most
/// common kind among the failed nodes, and its message counts each kind, most
/// common first (`3 of 5 nodes failed: 2 unreachable, 1 timeout`). Kinds of equal
/// count are ordered by [`TIE_ORDER`], so the same failures give the same
/// headline whatever the inventory's order (`2 of 2 nodes failed: 1
/// invalid-parameter, 1 unreachable`, kind `invalid-parameter`). Whatever the
/// kind, the exit status is 1 ([`exit_code`]): a fleet with failed nodes is a
/// failed sweep, not a usage error.
pub(crate) fn failures_error(sweep: &Sweep) -> Error {
    let total = sweep.slots.len();
    let mut kinds: Vec<(ErrorKind, usize)> = Vec::new();
    for slot in &sweep.slots {
        if let Status::Failed(e) = &slot.status {
            match kinds.iter_mut().find(|(k, _)| *k == e.kind()) {
                Some((_, n)) => *n += 1,
                None => kinds.push((e.kind(), 1)),
            }
        }
    }
    let rank = |k: ErrorKind| {
        TIE_ORDER
            .iter()
            .position(|&t| t == k)
            .unwrap_or(TIE_ORDER.len())
    };
    kinds.sort_by_key(|&(k, n)| (std::cmp::Reverse(n), rank(k)));
    let failed: usize = kinds.iter().map(|(_, n)| n).sum();
    let kind = kinds.first().map_or(ErrorKind::Other, |(k, _)| *k);
    let counts: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    Error::new(
        kind,
        format!("{failed} of {total} nodes failed: {}", counts.join(", ")),
    )
    .with_operation(SUMMARY_OPERATION)
}

/// The error a sweep with `failed` failed nodes of `total` ends with, as the text
/// mode prints it on stderr (and the exit status it gives, [`exit_code`]): after
/// Ctrl-C [`interrupted_error`], else with failed nodes [`failures_error`], else
/// none. The `--json` report carries it as its `error`.
pub(crate) fn run_error(total: usize, sweep: &Sweep, failed: usize) -> Option<Error> {
    if sweep.interrupted {
        Some(interrupted_error(total))
    } else if failed > 0 {
        Some(failures_error(sweep))
    } else {
        None
    }
}

/// The operation name of the error a sweep stopped by Ctrl-C ends with (its summary
/// was printed too).
const INTERRUPTED_OPERATION: &str = "summary (interrupted)";

/// Whether `err` only stands for a summary already printed (a failed or interrupted
/// sweep): nothing more to print on stdout.
pub(crate) fn is_summary(err: &Error) -> bool {
    matches!(
        err.operation(),
        Some(SUMMARY_OPERATION | INTERRUPTED_OPERATION)
    )
}

/// The exit status of a sweep's summary error: 130 (128 + SIGINT) for a run stopped
/// by Ctrl-C, as shells report a command that SIGINT ended, so scripts can tell an
/// interrupted sweep from a failed one; 1 for a sweep with failed nodes, whatever
/// their kind (a node's missing parameter fails that node, not the command line).
/// `None` for every other error.
pub(crate) fn exit_code(err: &Error) -> Option<u8> {
    match err.operation() {
        Some(INTERRUPTED_OPERATION) => Some(130),
        Some(SUMMARY_OPERATION) => Some(1),
        _ => None,
    }
}

/// The error a fleet run ends with after Ctrl-C (exit status 130, see
/// [`exit_code`]).
pub(crate) fn interrupted_error(total: usize) -> Error {
    Error::new(
        hwctl_core::ErrorKind::Other,
        format!("interrupted by Ctrl-C before all {total} nodes were done"),
    )
    .with_operation(INTERRUPTED_OPERATION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_rate_is_whole_nodes_per_second_not_four_decimals() {
        assert_eq!(rate_text(109.579_912), "110 nodes/s");
        assert_eq!(rate_text(10.0), "10 nodes/s");
        assert_eq!(rate_text(2.46), "2.5 nodes/s");
        assert_eq!(rate_text(0.0), "- nodes/s");
        assert_eq!(rate_text(f64::NAN), "- nodes/s");
    }

    #[test]
    fn the_summary_says_one_node_in_the_singular() {
        assert_eq!(summary_line(1, 1, 0, 0, 0), "1 node, 1 ok, 0 failed");
        assert_eq!(summary_line(3, 2, 0, 0, 1), "3 nodes, 2 ok, 1 failed");
        assert_eq!(
            summary_line(4, 1, 2, 0, 1),
            "4 nodes, 1 ok, 2 sent (not confirmed), 1 failed"
        );
        assert_eq!(
            summary_line(4, 1, 1, 1, 1),
            "4 nodes, 1 ok, 1 sent (not confirmed), 1 recorded (not performed), 1 failed"
        );
        assert_eq!(
            summary_line(2, 1, 0, 1, 0),
            "2 nodes, 1 ok, 1 recorded (not performed), 0 failed"
        );
    }

    /// The report's structs print exactly what the `serde_json::Value` tree they
    /// replaced printed (keys in `serde_json::Map`'s alphabetical order, absent
    /// fields left out), for every status and the interrupt summary.
    #[test]
    fn json_report_prints_as_the_value_tree_did() {
        let err = Error::new(ErrorKind::Unreachable, "no route").with_driver("msftocs");
        let rows = vec![
            JsonRow {
                confirmed: None,
                driver: "msftocs",
                elapsed_ms: Some(12),
                error: None,
                name: "a",
                ok: true,
                performed: None,
                power_state: Some("on"),
                power_state_recorded: None,
                status: "done",
            },
            JsonRow {
                confirmed: None,
                driver: "msftocs",
                elapsed_ms: Some(3),
                error: Some(error_json(&err)),
                name: "b",
                ok: false,
                performed: None,
                power_state: None,
                power_state_recorded: None,
                status: "failed",
            },
            JsonRow {
                confirmed: None,
                driver: "ipmi",
                elapsed_ms: Some(7),
                error: None,
                name: "c",
                ok: false,
                performed: None,
                power_state: None,
                power_state_recorded: None,
                status: "interrupted",
            },
            JsonRow {
                confirmed: None,
                driver: "ipmi",
                elapsed_ms: None,
                error: None,
                name: "d",
                ok: false,
                performed: None,
                power_state: None,
                power_state_recorded: None,
                status: "not-started",
            },
        ];
        let summary = json!({"done": ["a"], "switched": [], "failed": ["b"],
            "interrupted": ["c"], "not_started": ["d"]});
        let report = JsonReport {
            action: "status".into(),
            error: Some(error_json(&interrupted_error(4))),
            failed: 1,
            interrupted: Some(true),
            nodes: rows,
            ok: 1,
            summary: Some(summary.clone()),
            total: 4,
        };
        let tree = json!({
            "action": "status",
            "error": error_json(&interrupted_error(4)),
            "total": 4,
            "failed": 1,
            "ok": 1,
            "interrupted": true,
            "summary": summary,
            "nodes": [
                {"name": "a", "driver": "msftocs", "ok": true, "status": "done",
                 "power_state": "on", "elapsed_ms": 12},
                {"name": "b", "driver": "msftocs", "ok": false, "status": "failed",
                 "error": error_json(&err), "elapsed_ms": 3},
                {"name": "c", "driver": "ipmi", "ok": false, "status": "interrupted",
                 "elapsed_ms": 7},
                {"name": "d", "driver": "ipmi", "ok": false, "status": "not-started"},
            ],
        });
        assert_eq!(pretty(&report), pretty(&tree));
        assert_eq!(written(&report), pretty(&report));
        // Without an interrupt, neither `interrupted` nor `summary` is printed;
        // without an error, no `error`.
        let plain = JsonReport {
            action: "on".into(),
            error: None,
            failed: 0,
            interrupted: None,
            nodes: Vec::new(),
            ok: 0,
            summary: None,
            total: 0,
        };
        assert_eq!(
            pretty(&plain),
            pretty(&json!({"action": "on", "total": 0, "failed": 0, "ok": 0, "nodes": []}))
        );
        assert_eq!(written(&plain), pretty(&plain));
    }

    fn entry(name: &str, driver: &str) -> InventoryNode {
        InventoryNode {
            name: name.into(),
            driver: driver.into(),
            ..InventoryNode::default()
        }
    }

    /// A status read's bound per endpoint is its request slots where the driver
    /// has them, and none for the drivers that serve reads without a slot.
    #[test]
    fn an_endpoints_reads_in_flight_are_bounded_by_its_request_slots() {
        let mut ocs = entry("b1", "msftocs");
        assert_eq!(request_slots(&ocs), Some(DEFAULT_ENDPOINT_CONNECTIONS));
        ocs.driver_info = hwctl_core::DriverInfo::from_pairs([("msftocs_max_connections", "3")]);
        assert_eq!(request_slots(&ocs), Some(3));
        for one in ["ipmi", "staging-nm", "staging-iboot"] {
            assert_eq!(request_slots(&entry("n", one)), Some(1), "{one}");
        }
        for free in ["staging-wol", "staging-libvirt", "fake-hardware"] {
            assert_eq!(request_slots(&entry("n", free)), None, "{free}");
        }
    }

    /// A missing driver and an unknown one are reported together, each with its
    /// entry number (from 1), its name, the value and a close name when one is.
    #[test]
    fn every_bad_driver_is_listed_at_once() {
        let known: Vec<String> = ["ipmi", "msftocs", "staging-iboot"]
            .map(String::from)
            .to_vec();
        let nodes = [
            entry("a", "ipmi"),
            entry("node-1", ""),
            entry("c", "ipmii"),
            entry("d", "iboot"),
            entry("e", "nonsense"),
        ];
        let msg = bad_drivers(&nodes, &known, &[]).unwrap_or_default();
        assert!(
            msg.ends_with(
                "but entry 2 (\"node-1\") has none; entry 3 (\"c\") has \"ipmii\" (did you \
                 mean `ipmi`?); entry 4 (\"d\") has \"iboot\" (did you mean `staging-iboot`?) \
                 and entry 5 (\"e\") has \"nonsense\""
            ),
            "{msg}"
        );
        assert!(!msg.contains("\"a\""), "{msg}");
        assert_eq!(bad_drivers(&nodes[..1], &known, &[]), None);
        // Beyond five, the rest are counted.
        let many: Vec<InventoryNode> = (0..8).map(|i| entry(&format!("n{i}"), "x")).collect();
        let msg = bad_drivers(&many, &known, &[]).unwrap_or_default();
        assert!(
            msg.contains("entry 5 (\"n4\") has \"x\" and 3 more entries"),
            "{msg}"
        );
        assert!(!msg.contains("n5"), "{msg}");
    }

    /// A repeated name lists 1-based entry numbers, and says when one of them is
    /// an entry's automatic name.
    #[test]
    fn a_repeated_name_says_which_entry_gave_it_and_which_was_automatic() {
        let nodes = [
            entry("node-0", "ipmi"),
            entry("r1", "ipmi"),
            entry("node-0", "ipmi"),
            entry("r1", "ipmi"),
        ];
        let msg = repeated_names(&nodes, &[true, false, false, false]).unwrap_or_default();
        assert_eq!(
            msg,
            "node names must be unique (as Ironic's are), but \"node-0\" is the name given \
             to entry 3 and the automatic name of entry 1 (an entry with neither \"name\" \
             nor \"uuid\" is called node-N, N counted from 0); \"r1\" is entries 2 and 4"
        );
        assert_eq!(repeated_names(&nodes[..2], &[true, false]), None);
    }

    /// `--timeout` bounds a status read too; without it a read gets the one-node
    /// default and a change the power engine's.
    #[test]
    fn every_action_has_a_per_node_limit() {
        let t = Some(Duration::from_secs(2));
        for action in [
            FleetAction::Status,
            FleetAction::On,
            FleetAction::Off,
            FleetAction::Reboot,
        ] {
            assert_eq!(limit_of(action, t), (Duration::from_secs(2), true));
        }
        assert_eq!(
            limit_of(FleetAction::Status, None),
            (crate::DEFAULT_DEADLINE, false)
        );
        assert_eq!(
            limit_of(FleetAction::Reboot, None),
            (hwctl_core::power::DEFAULT_POWER_TIMEOUT, false)
        );
    }

    /// The hand-written report is what `serde_json` pretty-prints of it, for
    /// names and states that need escaping and errors with nested problems too.
    #[test]
    fn the_written_report_is_serde_jsons_pretty_text() {
        let err = Error::from_problems(vec![
            hwctl_core::ParameterProblem {
                name: "msftocs_blade_id".into(),
                reason: Some("\"one\" is not\na number".into()),
            },
            hwctl_core::ParameterProblem {
                name: "msftocs_password".into(),
                reason: None,
            },
        ])
        .with_driver("msftocs")
        .with_operation("power status");
        let names = [
            "plain",
            "quote \" back\\slash",
            "tab\tnl\nctl\u{1}",
            "del\u{7f} nbsp\u{a0} ls\u{2028}",
            "a \" alone",
            "ünï 😀",
            "",
        ];
        let rows: Vec<JsonRow<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, name)| JsonRow {
                confirmed: (i == 4).then_some(false),
                driver: "ipmi",
                elapsed_ms: (i != 4).then_some(u64::MAX - i as u64),
                error: (i % 2 == 1).then(|| error_json(&err)),
                name,
                ok: i == 0,
                performed: (i == 2).then_some(false),
                power_state: (i == 0).then_some("on"),
                power_state_recorded: (i == 3).then_some(true),
                status: if i == 0 { "done" } else { "failed" },
            })
            .collect();
        let report = JsonReport {
            action: "reboot".into(),
            error: Some(error_json(&interrupted_error(7))),
            failed: 4,
            interrupted: Some(true),
            nodes: rows,
            ok: 1,
            summary: Some(
                json!({"done": ["plain"], "failed": names[1..], "switched": [],
                "interrupted": [], "not_started": []}),
            ),
            total: usize::MAX,
        };
        assert_eq!(written(&report), pretty(&report));
    }

    /// The report's `error` is the error the run ends with: the interrupt after
    /// Ctrl-C, else the failures' summary (as text mode prints it), else none.
    #[test]
    fn the_run_error_is_the_interrupt_else_the_failures_summary() {
        let slot = |status| Slot {
            status,
            elapsed: Duration::ZERO,
        };
        let failed = || Status::Failed(Box::new(Error::new(ErrorKind::Timeout, "slow")));
        let sweep = |interrupted, statuses: Vec<Status>| Sweep {
            slots: statuses.into_iter().map(slot).collect(),
            interrupted,
        };
        let clean = sweep(false, vec![Status::Done(PowerState::On)]);
        assert!(run_error(1, &clean, 0).is_none());
        let bad = sweep(false, vec![Status::Done(PowerState::On), failed()]);
        let e = run_error(2, &bad, 1)
            .map(|e| error_json(&e))
            .unwrap_or_default();
        assert_eq!(e["kind"], "timeout");
        assert_eq!(e["message"], "summary: 1 of 2 nodes failed: 1 timeout");
        assert_eq!(e["operation"], "summary");
        let stopped = sweep(true, vec![failed(), Status::NotStarted]);
        let e = run_error(2, &stopped, 1)
            .map(|e| error_json(&e))
            .unwrap_or_default();
        assert_eq!(e["kind"], "other");
        assert_eq!(
            e["message"],
            "summary (interrupted): interrupted by Ctrl-C before all 2 nodes were done"
        );
    }

    /// What [`write_json_report`] writes.
    fn written(report: &JsonReport<'_>) -> String {
        let mut out = Vec::new();
        write_json_report(&mut out, report).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    /// Pretty JSON of anything serializable (to compare two types' output).
    fn pretty<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }
}

#[cfg(test)]
mod inventory_error_tests {
    use super::*;

    /// Every way an inventory can be malformed, with the kind and message the user
    /// sees (the path written as `INV`). Pinned before the reader parsed entries
    /// straight into their shape (issue 16), so that change kept every message.
    const CASES: &[(&str, &str)] = &[
        (
            "not json",
            "invalid-parameter: INV is not JSON: expected ident at line 1 column 2",
        ),
        (
            "",
            "invalid-parameter: INV is not JSON: EOF while parsing a value at line 1 column 0",
        ),
        (
            r#"[{"driver":"ipmi"},"#,
            "invalid-parameter: INV is not JSON: EOF while parsing a value at line 1 column 19",
        ),
        (
            "\"abc\"",
            "invalid-parameter: INV: an inventory is an array of nodes",
        ),
        (
            "5",
            "invalid-parameter: INV: an inventory is an array of nodes",
        ),
        (
            "-5.5",
            "invalid-parameter: INV: an inventory is an array of nodes",
        ),
        (
            "null",
            "invalid-parameter: INV: an inventory is an array of nodes",
        ),
        (
            "true",
            "invalid-parameter: INV: an inventory is an array of nodes",
        ),
        (
            r#"{"x": 1}"#,
            "invalid-parameter: INV: an inventory object needs a \"nodes\" array",
        ),
        (
            r#"{"nodes": 5}"#,
            "invalid-parameter: INV: bad node entry: invalid type: integer `5`, expected a sequence",
        ),
        (
            r#"{"nodes": {"a": 1}}"#,
            "invalid-parameter: INV: bad node entry: invalid type: map, expected a sequence",
        ),
        (
            r#"[{"driver":"ipmi","driver_info":"s3cret"}]"#,
            "invalid-parameter: INV line 1 column 40: entry 1 (no name): invalid type: string \"…\", expected a map",
        ),
        (
            "[{\"driver\":\"ipmi\"},\n {\"name\":\"b\",\"driver\":\"ipmi\",\"ports\":[7]}]",
            "invalid-parameter: INV line 2 column 42: entry 2 (\"b\"): a port is a MAC string or {\"address\": MAC}",
        ),
        (
            r#"[{"driver":"ipmi","properties":"x"}]"#,
            "invalid-parameter: INV line 1 column 34: entry 1 (no name): invalid type: string \"…\", expected a map",
        ),
        (
            r#"[{"driver":"ipmi","properties":[1]}]"#,
            "invalid-parameter: INV line 1 column 31: entry 1 (no name): invalid type: sequence, expected a map",
        ),
        (
            r#"[{"uuid":"u1","driver":"ipmi","properties":{"capabilities":"a=b"}}]"#,
            "invalid-parameter: INV line 1 column 67: entry 1 (\"u1\"): properties.capabilities: entry 1 is not KEY:VALUE (Ironic's form is \"boot_mode:uefi,secure_boot:true\")",
        ),
        (
            r#"[{"driver":"ipmi","name":5}]"#,
            "invalid-parameter: INV line 1 column 26: entry 1 (no name): invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"driver":"ipmi","driver_info":{"a":1}}] x"#,
            "invalid-parameter: INV is not JSON: trailing characters at line 1 column 43",
        ),
        (
            r#"[{"driver":"ipmi","driver_info":5}, {"#,
            "invalid-parameter: INV is not JSON: EOF while parsing an object at line 1 column 37",
        ),
        (
            r#"[{"driver_info":{}}, {"name": "b"}]"#,
            "invalid-parameter: INV: every entry needs `driver`, the hardware type (Ironic's node field, e.g. \"driver\": \"ipmi\"; `hwctl drivers` lists them), but entry 1 (\"node-0\") has none and entry 2 (\"b\") has none; no node was touched",
        ),
        // A member close to one hwctl reads is a typo, not an Ironic field
        // (a newcomer's `drvier` and `driverinfo` were skipped before).
        (
            r#"[{"name":"a","drvier":"ipmi"}]"#,
            "invalid-parameter: INV line 1 column 21: entry 1 (\"a\"): unknown member `drvier` (did you mean `driver`?)",
        ),
        (
            r#"[{"name":"a","driver":"ipmi","driverinfo":{}}]"#,
            "invalid-parameter: INV line 1 column 41: entry 1 (\"a\"): unknown member `driverinfo` (did you mean `driver_info`?)",
        ),
        // Every typo is listed, each where it is, with every other problem of the
        // entries (a newcomer's file stopped at its first typo). A missing driver
        // that a `drvier` explains is told once, by the typo.
        (
            r#"[{"name":"a","drvier":"ipmi"},
 {"name":"a","driver":"ipmii","driverinfo":{}},
 {"name":"c","port":[]}]"#,
            "invalid-parameter: INV line 1 column 21: entry 1 (\"a\"): unknown member `drvier` (did you mean `driver`?); INV line 2 column 42: entry 2 (\"a\"): unknown member `driverinfo` (did you mean `driver_info`?); INV line 3 column 19: entry 3 (\"c\"): unknown member `port` (did you mean `ports`?); INV: every entry needs `driver`, the hardware type (Ironic's node field, e.g. \"driver\": \"ipmi\"; `hwctl drivers` lists them), but entry 2 (\"a\") has \"ipmii\" (did you mean `ipmi`?) and entry 3 (\"c\") has none; node names must be unique (as Ironic's are), but \"a\" is entries 1 and 2; no node was touched",
        ),
        // Typos alone: each, and no more.
        (
            r#"[{"name":"a","driver":"ipmi","drvier":"x"},{"driver":"ipmi","drver_info":{}}]"#,
            "invalid-parameter: INV line 1 column 37: entry 1 (\"a\"): unknown member `drvier` (did you mean `driver`?); INV line 1 column 72: entry 2 (no name): unknown member `drver_info` (did you mean `driver_info`?)",
        ),
        // Past the fifth typo they are counted.
        (
            r#"[{"driver":"ipmi","drvier":1,"prots":1,"nmae":1,"uuidd":1,"capabilties":1,"drvierinfo":{},"port":1}]"#,
            "invalid-parameter: INV line 1 column 26: entry 1 (no name): unknown member `drvier` (did you mean `driver`?); INV line 1 column 36: entry 1 (no name): unknown member `prots` (did you mean `ports`?); INV line 1 column 45: entry 1 (no name): unknown member `nmae` (did you mean `name`?); INV line 1 column 55: entry 1 (no name): unknown member `uuidd` (did you mean `uuid`?); INV line 1 column 71: entry 1 (no name): unknown member `capabilties` (did you mean `capabilities`?); 2 more unknown members",
        ),
        // A member of the wrong type still ends the read, told alone, typos or not.
        (
            r#"[{"drvier":"ipmi"},{"driver":"ipmi","name":5}]"#,
            "invalid-parameter: INV line 1 column 44: entry 2 (no name): invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"driver":"ipmi","driver":"ipmi"}]"#,
            "invalid-parameter: INV line 1 column 26: entry 1 (no name): duplicate field `driver`",
        ),
        // A bad driver and a repeated name are reported in one error.
        (
            r#"[{"name":"a","driver":"ipmii"},{"name":"a","driver":"ipmi"}]"#,
            "invalid-parameter: INV: every entry needs `driver`, the hardware type (Ironic's node field, e.g. \"driver\": \"ipmi\"; `hwctl drivers` lists them), but entry 1 (\"a\") has \"ipmii\" (did you mean `ipmi`?); node names must be unique (as Ironic's are), but \"a\" is entries 1 and 2; no node was touched",
        ),
        // Ironic's own fields and a member far from every name are skipped.
        (
            r#"[{"driver":"ipmi","driver_internal_info":{},"provision_state":"active","rack":"r1"}]"#,
            "ok: 1 nodes",
        ),
        (
            "[5]",
            "invalid-parameter: INV line 1 column 2: entry 1 (no name): invalid type: integer `5`, expected a node object (with driver, driver_info, …)",
        ),
        (
            r#"[{"driver":"ipmi","driver_info":{"a":1}},]"#,
            "invalid-parameter: INV is not JSON: trailing comma at line 1 column 42",
        ),
    ];

    fn outcome(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("inv.json");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        match read_inventory(&path) {
            Ok(nodes) => format!("ok: {} nodes", nodes.len()),
            Err(e) => format!("{}: {}", e.kind(), e).replace(&path.display().to_string(), "INV"),
        }
    }

    #[test]
    fn malformed_inventories_keep_their_messages() {
        let mut wrong = Vec::new();
        for (text, want) in CASES {
            let got = outcome(text);
            if got != *want {
                wrong.push(format!("{text}\n  want {want}\n  got  {got}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
