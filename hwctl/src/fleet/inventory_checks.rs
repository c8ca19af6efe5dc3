//! The inventory checks of `hwctl fleet`, run before any node is touched: the
//! file reads as entries (else the first bad entry is told alone, located), and
//! every typo, missing or unknown `driver`, repeated name and repeated `uuid`
//! is told at once,
//! as sentences and as `--json` problems (`entries[N].MEMBER`).

use std::collections::HashMap;
use std::path::Path;

use hwctl_core::fast_hash::FastHash;
use hwctl_core::{Error, ErrorKind, Result};

use crate::inventory::InventoryNode;
use crate::node_args::json_problem;

/// Reads the inventory and names its unnamed entries (`node-N`, N the 0-based
/// position). A bad entry's error names the entry (its 1-based number and name)
/// and the line and column of the problem. Every entry must name a hardware type
/// this build knows, no two entries may share a name or a `uuid`, and no member
/// may be a typo of one hwctl reads (`drvier`): all entries that break these rules
/// are reported at once ([`typo_parts`], [`bad_drivers`], [`repeated_names`],
/// [`repeated_uuids`]), before
/// any node is touched. A syntax error, or a member of the wrong type, still ends
/// the read and is reported alone.
///
/// # Errors
///
/// `InvalidParameter` (exit 2) for a file that cannot be read or does not describe
/// nodes, for typos, for entries whose `driver` is missing or unknown, and for
/// repeated names and uuids.
pub(crate) fn read_inventory(path: &Path) -> Result<Vec<InventoryNode>> {
    let (path, text) = inventory_text(path)?;
    let path = path.as_path();
    let (mut nodes, typos) = match crate::node_args::inventory_from_text(path, &text) {
        Ok(nodes) => (nodes, None),
        // Parsed again on the error path only: the first entry that does not read
        // (past typos) is reported alone, with where; else the typos are listed
        // with every other problem of the entries.
        Err(e) => {
            if let Some(bad) = locate_bad_entry(&text) {
                return Err(Error::new(
                    ErrorKind::InvalidParameter,
                    format!(
                        "{} line {} column {}: entry {} (\"{}\"): {}",
                        path.display(),
                        bad.line,
                        bad.column,
                        bad.index + 1,
                        bad.name,
                        bad.problem
                    ),
                ));
            }
            match crate::inventory::Inventory::read_past_typos(&text) {
                Ok((crate::inventory::Inventory::Nodes(nodes), skipped)) if !skipped.is_empty() => {
                    // The message locates the first few (the text is read again
                    // for each); `problems` holds every one, from the one read.
                    let listed = crate::inventory::Inventory::typos(&text, LISTED);
                    (nodes, Some((listed, skipped)))
                }
                _ => return Err(shape_hint(e, &text)),
            }
        }
    };
    // An entry without a name or uuid is called by its 0-based position, in
    // every message (its typos' too).
    let mut automatic = vec![false; nodes.len()];
    for (i, n) in nodes.iter_mut().enumerate() {
        if n.name.is_empty() {
            n.name = automatic_name(i);
            automatic[i] = true;
        }
    }
    // Typos are told with where they are, as the reader found them: the first
    // LISTED located, the rest counted; `--json`'s problems name every one.
    let (mut parts, skipped) = typos.map_or_else(Default::default, |(listed, skipped)| {
        (typo_parts(path, &nodes, &listed, skipped.len()), skipped)
    });
    // An entry without a driver whose typo was `driver` (`drvier`) is told once,
    // by its typo.
    let told: Vec<usize> = skipped
        .iter()
        .filter(|t| t.meant == "driver")
        .map(|t| t.entry)
        .collect();
    // Every check is reported together, so one run names every bad entry: each
    // check gives its sentence and its entries' problems (`--json`) from one pass.
    let mut found: Vec<(usize, hwctl_core::ParameterProblem)> =
        skipped.iter().map(|t| (t.entry, typo_problem(t))).collect();
    let sentences: Vec<String> = [
        bad_drivers(&nodes, crate::cli::hardware_type_names(), &told),
        repeated_names(&nodes, &automatic),
        repeated_uuids(&nodes),
    ]
    .into_iter()
    .flatten()
    .map(|check| {
        found.extend(check.problems);
        check.sentence
    })
    .collect();
    let mut sentences = sentences;
    if nodes.iter().any(|n| n.driver.trim().is_empty())
        && text.contains("\"Provisioning State\"")
        && !text.contains("\"Driver\"")
    {
        // `node list -f json` without `--long`: no Driver, no Driver Info.
        sentences.push(
            "this looks like `openstack baremetal node list -f json` without `--long`, \
             which leaves out the Driver and Driver Info columns: export with `--long`"
                .to_owned(),
        );
    }
    if !sentences.is_empty() {
        parts.push(format!(
            "{}: {}; no node was touched",
            path.display(),
            sentences.join("; ")
        ));
    }
    if !parts.is_empty() {
        // In entry order, each entry's problems as found.
        found.sort_by_key(|&(i, _)| i);
        return Err(Error::new(ErrorKind::InvalidParameter, parts.join("; "))
            .with_problems(found.into_iter().map(|(_, p)| p).collect()));
    }
    Ok(nodes)
}

/// `e`, an inventory that does not read as one, with what to do where its shape
/// says what it is: text that is no JSON at all (YAML, CSV) is told what an
/// inventory is; one node's object (`openstack baremetal node show -f json`) is
/// told to go with `--info-file` or in an array.
fn shape_hint(e: Error, text: &str) -> Error {
    let start = text.trim_start();
    let first = start.chars().next();
    // A JSON number (`5`, `-5.5`) is told it is no array, elsewhere.
    let number = start
        .strip_prefix('-')
        .unwrap_or(start)
        .starts_with(|c: char| c.is_ascii_digit());
    let hint = if !matches!(first, Some('[' | '{' | '"') | None)
        && !number
        && e.message().contains("is not JSON")
    {
        "an inventory is JSON: `openstack baremetal node list --long -f json`, or an array \
         of {\"name\", \"driver\", \"driver_info\", \"ports\"} objects (YAML and CSV are \
         not read)"
    } else if first == Some('{')
        && e.message().contains("needs a \"nodes\" array")
        && ["\"driver\"", "\"Driver\"", "\"driver_info\""]
            .iter()
            .any(|k| text.contains(k))
    {
        "this is one node (`openstack baremetal node show -f json`): give it with \
         `--info-file FILE` for one node, or put it in [ … ] as a fleet of one"
    } else {
        return e;
    };
    let kind = e.kind();
    Error::new(kind, format!("{}; {hint}", e.message()))
}

/// The name messages give the inventory `--inventory -` reads from stdin.
const STDIN_NAME: &str = "stdin";

/// Whether `--inventory` names stdin (`-`).
fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// How messages name the inventory `--inventory` gives: its path, or
/// [`STDIN_NAME`] for `-`.
pub(crate) fn inventory_name(path: &Path) -> std::borrow::Cow<'_, str> {
    if is_stdin(path) {
        STDIN_NAME.into()
    } else {
        path.to_string_lossy()
    }
}

/// The inventory's text and the name messages give it: the file's path, or for
/// `-` the whole of stdin, named [`STDIN_NAME`] (an inventory piped from another
/// command, `openstack baremetal node list --long -f json | hwctl fleet
/// --inventory - …`). Read once: the error path parses the same text again.
///
/// # Errors
///
/// `InvalidParameter` when the file or stdin cannot be read (or is not UTF-8).
fn inventory_text(path: &Path) -> Result<(std::path::PathBuf, String)> {
    if !is_stdin(path) {
        return Ok((path.to_owned(), crate::node_args::read_file(path)?));
    }
    let text = std::io::read_to_string(std::io::stdin()).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("cannot read the inventory from stdin (--inventory -): {e}"),
        )
    })?;
    Ok((STDIN_NAME.into(), text))
}

/// What one inventory check found: the sentence the error message tells, and the
/// same findings entry by entry for `--json`'s `problems`, each named
/// `entries[N].MEMBER` (N the entry's number from 1, as the message counts them)
/// and kept with the entry's 0-based position.
#[derive(Debug)]
struct Check {
    sentence: String,
    problems: Vec<(usize, hwctl_core::ParameterProblem)>,
}

/// The name hwctl gives the entry at 0-based `index` that has neither `name`
/// nor `uuid` (`node-0`), in messages and tables alike.
fn automatic_name(index: usize) -> String {
    format!("node-{index}")
}

/// A typo as `--json`'s problem: named by the member as written. Every typo of
/// the inventory is one, however many the message lists.
fn typo_problem(t: &crate::inventory::Skipped) -> hwctl_core::ParameterProblem {
    hwctl_core::ParameterProblem {
        name: format!("entries[{}].{}", t.entry + 1, t.member),
        reason: Some(t.problem.clone()),
    }
}

/// The typos of an inventory (members close to one hwctl reads, `drvier`), each as
/// its own located sentence, the form a lone typo has always had (`PATH line 1
/// column 21: entry 1 ("a"): unknown member `drvier` (did you mean `driver`?)`):
/// the `listed` ones (at most [`LISTED`]), then how many more of `count` there
/// are. `nodes` are named already (an unnamed entry by [`automatic_name`]).
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
                .map_or_else(|| automatic_name(t.entry), |n| n.name.clone());
            format!(
                "{} line {} column {}: entry {} (\"{name}\"): {}",
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
            "{more} more unknown member{} (with --json, `problems` names every one)",
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
/// ([`crate::registry::suggest`], the rule `--driver` uses); the sentence lists
/// [`LISTED`] entries and counts the rest, the problems name every one (a missing
/// driver is missing, with no reason). A misspelled driver and a missing one are
/// one mistake, the inventory's, found before any node is touched (both exit 2).
/// An entry of `told` (0-based) without a driver is left out: its typo (`drvier`)
/// says it.
fn bad_drivers(nodes: &[InventoryNode], known: &[String], told: &[usize]) -> Option<Check> {
    use hwctl_core::ParameterProblem;
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
    let mut parts: Vec<String> = Vec::with_capacity(LISTED + 1);
    let mut problems = Vec::with_capacity(bad.len());
    for &(i, n) in &bad {
        let given = n.driver.trim();
        let name = format!("entries[{}].driver", i + 1);
        if given.is_empty() {
            problems.push((i, ParameterProblem { name, reason: None }));
            if parts.len() < LISTED {
                parts.push(format!("entry {} (\"{}\") has none", i + 1, n.name));
            }
            continue;
        }
        // Not a secret; cut so a stray blob does not flood the terminal.
        let shown: String = n.driver.chars().take(40).collect();
        let cut = if shown.len() < n.driver.len() {
            "…"
        } else {
            ""
        };
        let close = crate::registry::suggest(given, &names);
        // An Ironic type or classic driver hw lacks: what to use instead.
        let counterpart = close
            .is_none()
            .then(|| hwctl_core::registry::ironic_counterpart(given))
            .flatten();
        let reason = match (close, &counterpart) {
            (Some(close), _) => format!("{shown:?} is no hardware type (did you mean `{close}`?)"),
            (None, Some(hint)) => format!("{shown:?} is no hardware type ({hint})"),
            (None, None) => format!("{shown:?} is no hardware type (`hwctl drivers` lists them)"),
        };
        problems.push((
            i,
            ParameterProblem {
                name,
                reason: Some(reason),
            },
        ));
        if parts.len() < LISTED {
            let what = match (close, &counterpart) {
                (Some(close), _) => format!("has {shown:?}{cut} (did you mean `{close}`?)"),
                (None, Some(hint)) => format!("has {shown:?}{cut} ({hint})"),
                (None, None) => format!("has {shown:?}{cut}"),
            };
            parts.push(format!("entry {} (\"{}\") {what}", i + 1, n.name));
        }
    }
    if bad.len() > LISTED {
        parts.push(format!("{} more entries", bad.len() - LISTED));
    }
    let (last, rest) = parts.split_last()?;
    let list = if rest.is_empty() {
        last.clone()
    } else {
        format!("{} and {last}", rest.join("; "))
    };
    Some(Check {
        sentence: format!(
            "every entry needs `driver`, the hardware type (Ironic's node field, e.g. \
             \"driver\": \"ipmi\"; `hwctl drivers` lists them), but {list}"
        ),
        problems,
    })
}

/// The names several entries share (`None` when every name is unique), each with
/// its 1-based entry numbers (`"a" is entries 1, 3 and 6`), at most [`LISTED`]
/// names. A name that is one entry's automatic name (`automatic[i]`: the entry
/// has neither `name` nor `uuid`) says so, and which entry gave it. Each entry
/// but the first of a shared name is a problem (`entries[N].name`).
fn repeated_names(nodes: &[InventoryNode], automatic: &[bool]) -> Option<Check> {
    use std::collections::hash_map::Entry;
    // Each name's first entry, and whether the name is listed as repeated yet.
    let mut first: HashMap<&str, (usize, bool), FastHash> =
        HashMap::with_capacity_and_hasher(nodes.len(), FastHash::default());
    let mut repeated: Vec<usize> = Vec::new();
    // Every entry but the first of a shared name is a problem of its own.
    let mut problems = Vec::new();
    // A name that is its entry's uuid (an Ironic export's `"name": null`) shared
    // with another such entry is a repeated uuid: [`repeated_uuids`] tells it.
    let is_uuid = |n: &InventoryNode| n.uuid.as_deref() == Some(n.name.as_str());
    for (i, n) in nodes.iter().enumerate() {
        match first.entry(n.name.as_str()) {
            Entry::Occupied(_)
                if is_uuid(n) && nodes.iter().take(i).all(|m| m.name != n.name || is_uuid(m)) => {}
            Entry::Occupied(mut seen) => {
                let (at, listed) = seen.get_mut();
                if !*listed {
                    // Listed once, at its first entry.
                    *listed = true;
                    repeated.push(*at);
                }
                problems.push((
                    i,
                    hwctl_core::ParameterProblem {
                        name: format!("entries[{}].name", i + 1),
                        reason: Some(format!("{:?} is the name of entry {} too", n.name, *at + 1)),
                    },
                ));
            }
            Entry::Vacant(new) => {
                new.insert((i, false));
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
    Some(Check {
        sentence: format!(
            "node names must be unique (as Ironic's are), but {}",
            parts.join("; ")
        ),
        problems,
    })
}

/// The uuids several entries share (`None` when every uuid is unique), compared
/// without regard to case (Ironic's are canonical lower-case), each with its
/// 1-based entry numbers (`"6d85…" is the uuid of entries 1 and 3`), at most
/// [`LISTED`] uuids. Each entry but the first of a shared uuid is a problem
/// (`entries[N].uuid`). Two entries of one uuid are one Ironic node listed twice:
/// a sweep would drive it twice, at once.
fn repeated_uuids(nodes: &[InventoryNode]) -> Option<Check> {
    use std::collections::hash_map::Entry;
    let mut first: HashMap<String, usize, FastHash> = HashMap::default();
    // Each shared uuid's entries, in order of their first entry.
    let mut shared: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<usize, usize, FastHash> = HashMap::default();
    let mut problems = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(uuid) = n.uuid.as_deref() else {
            continue;
        };
        match first.entry(uuid.trim().to_ascii_lowercase()) {
            Entry::Occupied(seen) => {
                let at = *seen.get();
                let g = *group_of.entry(at).or_insert_with(|| {
                    shared.push(vec![at]);
                    shared.len() - 1
                });
                shared[g].push(i);
                problems.push((
                    i,
                    hwctl_core::ParameterProblem {
                        name: format!("entries[{}].uuid", i + 1),
                        reason: Some(format!("{uuid:?} is the uuid of entry {} too", at + 1)),
                    },
                ));
            }
            Entry::Vacant(new) => {
                new.insert(i);
            }
        }
    }
    if shared.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = shared
        .iter()
        .take(LISTED)
        .map(|entries| {
            let numbers: Vec<String> = entries.iter().map(|i| (i + 1).to_string()).collect();
            let list = match numbers.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                Some((last, _)) => last.clone(),
                None => String::new(),
            };
            let uuid = entries
                .first()
                .and_then(|&at| nodes[at].uuid.as_deref())
                .unwrap_or_default();
            format!("{uuid:?} is the uuid of entries {list}")
        })
        .collect();
    if shared.len() > LISTED {
        parts.push(format!("{} more uuids are repeated", shared.len() - LISTED));
    }
    Some(Check {
        sentence: format!(
            "node uuids must be unique (as Ironic's are: one node listed twice would be \
             driven twice at once), but {}",
            parts.join("; ")
        ),
        problems,
    })
}

/// Where an inventory entry failed to decode.
#[derive(Debug)]
struct BadEntry {
    index: usize,
    /// Its name as hwctl calls it: `name`, else `uuid`, else [`automatic_name`].
    name: String,
    line: usize,
    column: usize,
    problem: String,
}

/// Decodes `text` entry by entry to find the first that does not decode, its
/// typos skipped (they are listed together, [`typo_parts`]): its position, its
/// name (read loosely: `name` or `Name`, else `uuid` or `UUID`, else
/// [`automatic_name`]), and where in the text it failed.
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
    let given = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| entry.and_then(|e| e.get(*k)).and_then(|n| n.as_str()))
            .filter(|n| !n.trim().is_empty())
    };
    let name = given(["name", "Name"])
        .or_else(|| given(["uuid", "UUID"]))
        .map_or_else(|| automatic_name(index), str::to_owned);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A missing driver and an unknown one are reported together, each with its
    /// entry number (from 1), its name, the value and a close name when one is.
    #[test]
    fn every_bad_driver_is_listed_at_once() {
        let known: Vec<String> = ["ipmi", "msftocs", "staging-iboot"]
            .map(String::from)
            .to_vec();
        let nodes = [
            InventoryNode::named("a", "ipmi"),
            InventoryNode::named("node-1", ""),
            InventoryNode::named("c", "ipmii"),
            InventoryNode::named("d", "iboot"),
            InventoryNode::named("e", "nonsense"),
        ];
        let msg = bad_drivers(&nodes, &known, &[])
            .map(|c| c.sentence)
            .unwrap_or_default();
        assert!(
            msg.ends_with(
                "but entry 2 (\"node-1\") has none; entry 3 (\"c\") has \"ipmii\" (did you \
                 mean `ipmi`?); entry 4 (\"d\") has \"iboot\" (did you mean `staging-iboot`?) \
                 and entry 5 (\"e\") has \"nonsense\""
            ),
            "{msg}"
        );
        assert!(!msg.contains("\"a\""), "{msg}");
        assert!(bad_drivers(&nodes[..1], &known, &[]).is_none());
        // Beyond five, the rest are counted.
        let many: Vec<InventoryNode> = (0..8)
            .map(|i| InventoryNode::named(&format!("n{i}"), "x"))
            .collect();
        let msg = bad_drivers(&many, &known, &[])
            .map(|c| c.sentence)
            .unwrap_or_default();
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
            InventoryNode::named("node-0", "ipmi"),
            InventoryNode::named("r1", "ipmi"),
            InventoryNode::named("node-0", "ipmi"),
            InventoryNode::named("r1", "ipmi"),
        ];
        let msg = repeated_names(&nodes, &[true, false, false, false])
            .map(|c| c.sentence)
            .unwrap_or_default();
        assert_eq!(
            msg,
            "node names must be unique (as Ironic's are), but \"node-0\" is the name given \
             to entry 3 and the automatic name of entry 1 (an entry with neither \"name\" \
             nor \"uuid\" is called node-N, N counted from 0); \"r1\" is entries 2 and 4"
        );
        assert!(repeated_names(&nodes[..2], &[true, false]).is_none());
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
            "invalid-parameter: INV is not JSON: expected ident at line 1 column 2; an \
             inventory is JSON: `openstack baremetal node list --long -f json`, or an array \
             of {\"name\", \"driver\", \"driver_info\", \"ports\"} objects (YAML and CSV \
             are not read)",
        ),
        (
            "- name: a\n  driver: ipmi\n",
            "invalid-parameter: INV is not JSON: invalid number at line 1 column 2; an \
             inventory is JSON: `openstack baremetal node list --long -f json`, or an array \
             of {\"name\", \"driver\", \"driver_info\", \"ports\"} objects (YAML and CSV \
             are not read)",
        ),
        (
            r#"[{"UUID": "u1", "Name": "a", "Power State": "power on", "Provisioning State": "available"}]"#,
            "invalid-parameter: INV: every entry needs `driver`, the hardware type (Ironic's \
             node field, e.g. \"driver\": \"ipmi\"; `hwctl drivers` lists them), but entry 1 \
             (\"a\") has none; this looks like `openstack baremetal node list -f json` without \
             `--long`, which leaves out the Driver and Driver Info columns: export with \
             `--long`; no node was touched",
        ),
        (
            r#"{"name": "a", "driver": "ipmi", "driver_info": {}}"#,
            "invalid-parameter: INV: an inventory object needs a \"nodes\" array; this is one \
             node (`openstack baremetal node show -f json`): give it with `--info-file FILE` \
             for one node, or put it in [ … ] as a fleet of one",
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
            "invalid-parameter: INV line 1 column 41: entry 1 (\"node-0\"): driver_info: invalid type: string \"…\", expected a map",
        ),
        (
            "[{\"driver\":\"ipmi\"},\n {\"name\":\"b\",\"driver\":\"ipmi\",\"ports\":[7]}]",
            "invalid-parameter: INV line 2 column 42: entry 2 (\"b\"): a port is a MAC string or {\"address\": MAC}",
        ),
        (
            r#"[{"driver":"ipmi","properties":"x"}]"#,
            "invalid-parameter: INV line 1 column 35: entry 1 (\"node-0\"): properties: invalid type: string \"…\", expected a map",
        ),
        (
            r#"[{"driver":"ipmi","properties":[1]}]"#,
            "invalid-parameter: INV line 1 column 31: entry 1 (\"node-0\"): properties: invalid type: sequence, expected a map",
        ),
        (
            r#"[{"uuid":"u1","driver":"ipmi","properties":{"capabilities":"a=b"}}]"#,
            "invalid-parameter: INV line 1 column 67: entry 1 (\"u1\"): properties.capabilities: item 1 is not KEY:VALUE (Ironic's form is \"boot_mode:uefi,secure_boot:true\")",
        ),
        (
            r#"[{"driver":"ipmi","name":5}]"#,
            "invalid-parameter: INV line 1 column 27: entry 1 (\"node-0\"): name: invalid type: integer `5`, expected a string",
        ),
        // One uuid under two entries is one Ironic node listed twice: refused as
        // a repeated name is (it was swept twice, at once), case aside; two
        // unnamed entries (called by their uuid) are told once, by the uuid.
        (
            r#"[{"uuid":"u1","name":"a","driver":"ipmi"},{"uuid":"u2","name":"b","driver":"ipmi"},{"uuid":"U1","name":"c","driver":"ipmi"}]"#,
            "invalid-parameter: INV: node uuids must be unique (as Ironic's are: one node listed twice would be driven twice at once), but \"u1\" is the uuid of entries 1 and 3; no node was touched",
        ),
        (
            r#"[{"uuid":"u1","name":null,"driver":"ipmi"},{"uuid":"u1","driver":"ipmi"}]"#,
            "invalid-parameter: INV: node uuids must be unique (as Ironic's are: one node listed twice would be driven twice at once), but \"u1\" is the uuid of entries 1 and 2; no node was touched",
        ),
        (
            r#"[{"uuid":"u1","name":"a","driver":"ipmi"},{"uuid":"u2","name":"a","driver":"ipmi"},{"uuid":"u1","driver":"ipmi"}]"#,
            "invalid-parameter: INV: node names must be unique (as Ironic's are), but \"a\" is entries 1 and 2; node uuids must be unique (as Ironic's are: one node listed twice would be driven twice at once), but \"u1\" is the uuid of entries 1 and 3; no node was touched",
        ),
        // A value of the wrong type names its member (it said only `invalid
        // type: integer `5`, expected a string`), as written.
        (
            r#"[{"name":"a","driver":5}]"#,
            "invalid-parameter: INV line 1 column 24: entry 1 (\"a\"): driver: invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"Name":"a","Driver":["ipmi"]}]"#,
            "invalid-parameter: INV line 1 column 22: entry 1 (\"a\"): Driver: invalid type: sequence, expected a string",
        ),
        (
            r#"[{"name":"a","driver":"ipmi","ports":"52:54:00:cf:2d:31"}]"#,
            "invalid-parameter: INV line 1 column 57: entry 1 (\"a\"): ports: invalid type: string \"…\", expected a sequence",
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
            "invalid-parameter: INV line 1 column 37: entry 1 (\"a\"): unknown member `drvier` (did you mean `driver`?); INV line 1 column 72: entry 2 (\"node-1\"): unknown member `drver_info` (did you mean `driver_info`?)",
        ),
        // Past the fifth typo they are counted.
        (
            r#"[{"driver":"ipmi","drvier":1,"prots":1,"nmae":1,"uuidd":1,"capabilties":1,"drvierinfo":{},"port":1}]"#,
            "invalid-parameter: INV line 1 column 26: entry 1 (\"node-0\"): unknown member `drvier` (did you mean `driver`?); INV line 1 column 36: entry 1 (\"node-0\"): unknown member `prots` (did you mean `ports`?); INV line 1 column 45: entry 1 (\"node-0\"): unknown member `nmae` (did you mean `name`?); INV line 1 column 55: entry 1 (\"node-0\"): unknown member `uuidd` (did you mean `uuid`?); INV line 1 column 71: entry 1 (\"node-0\"): unknown member `capabilties` (did you mean `capabilities`?); 2 more unknown members (with --json, `problems` names every one)",
        ),
        // A member of the wrong type still ends the read, told alone, typos or not.
        (
            r#"[{"drvier":"ipmi"},{"driver":"ipmi","name":5}]"#,
            "invalid-parameter: INV line 1 column 45: entry 2 (\"node-1\"): name: invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"driver":"ipmi","driver":"ipmi"}]"#,
            "invalid-parameter: INV line 1 column 26: entry 1 (\"node-0\"): duplicate field `driver`",
        ),
        // A bad driver and a repeated name are reported in one error.
        (
            r#"[{"name":"a","driver":"ipmii"},{"name":"a","driver":"ipmi"}]"#,
            "invalid-parameter: INV: every entry needs `driver`, the hardware type (Ironic's node field, e.g. \"driver\": \"ipmi\"; `hwctl drivers` lists them), but entry 1 (\"a\") has \"ipmii\" (did you mean `ipmi`?); node names must be unique (as Ironic's are), but \"a\" is entries 1 and 2; no node was touched",
        ),
        // `openstack baremetal node list --long -f json` names members by the
        // CLI's column titles: those of the members hwctl reads are read, the
        // others skipped (they were refused: `unknown member `UUID``).
        (
            r#"[{"UUID":"u1","Name":null,"Driver":"ipmi","Driver Info":{},"Properties":{"capabilities":"boot_mode:uefi"},"Driver Internal Info":{},"Provisioning State":"active","Extra":{},"Instance Info":{},"Owner":null}]"#,
            "ok: 1 nodes",
        ),
        (
            r#"[{"UUID":"u1","Driver":"ipmi","Properties":{"capabilities":"a=b"}}]"#,
            "invalid-parameter: INV line 1 column 67: entry 1 (\"u1\"): properties.capabilities: item 1 is not KEY:VALUE (Ironic's form is \"boot_mode:uefi,secure_boot:true\")",
        ),
        // A member under both spellings is given twice.
        (
            r#"[{"Name":"a","Driver":"ipmi","driver":"ipmi"}]"#,
            "invalid-parameter: INV line 1 column 37: entry 1 (\"a\"): duplicate field `driver` (given as `Driver`, the openstack CLI's column title, and as `driver`)",
        ),
        (
            r#"[{"Name":"a","Driver Info":{},"Driver Info":{}}]"#,
            "invalid-parameter: INV line 1 column 43: entry 1 (\"a\"): duplicate field `driver_info`",
        ),
        // A title-case typo is told the title.
        (
            r#"[{"Name":"a","Driver":"ipmi","Drvier Info":{}}]"#,
            "invalid-parameter: INV line 1 column 42: entry 1 (\"a\"): unknown member `Drvier Info` (did you mean `Driver Info`?)",
        ),
        (
            r#"[{"Name":"a","Drvier":"ipmi","Prots":[]}]"#,
            "invalid-parameter: INV line 1 column 21: entry 1 (\"a\"): unknown member `Drvier` (did you mean `Driver`?); INV line 1 column 36: entry 1 (\"a\"): unknown member `Prots` (did you mean `ports`?)",
        ),
        // An unnamed entry is `node-N` in every line, its typo's too.
        (
            r#"[{"driver":"ipmi"},{"drvier":"ipmi"},{"name":"node-1","driver":"ipmi"}]"#,
            "invalid-parameter: INV line 1 column 28: entry 2 (\"node-1\"): unknown member `drvier` (did you mean `driver`?); INV: node names must be unique (as Ironic's are), but \"node-1\" is the name given to entry 3 and the automatic name of entry 2 (an entry with neither \"name\" nor \"uuid\" is called node-N, N counted from 0); no node was touched",
        ),
        // Ironic's own fields and a member far from every name are skipped.
        (
            r#"[{"driver":"ipmi","driver_internal_info":{},"provision_state":"active","rack":"r1"}]"#,
            "ok: 1 nodes",
        ),
        (
            "[5]",
            "invalid-parameter: INV line 1 column 2: entry 1 (\"node-0\"): invalid type: integer `5`, expected a node object (with driver, driver_info, …)",
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

    /// A whole fleet as `openstack baremetal node list --long -f json` exports it
    /// (`tests/fixtures/ironic/node-list-long.json`, its source in SOURCES.md
    /// there): every member named by the CLI's column title. It was refused
    /// (`unknown member `UUID` (did you mean `uuid`?)`, entries without driver).
    #[test]
    fn a_node_list_long_export_is_read_as_it_is() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ironic/node-list-long.json");
        let nodes = read_inventory(&path).unwrap_or_else(|e| panic!("{e}"));
        let read: Vec<(&str, &str, Option<&str>, Option<&str>)> = nodes
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.driver.as_str(),
                    n.capabilities.get("boot_mode").map(String::as_str),
                    n.driver_info
                        .as_map()
                        .keys()
                        .find(|k| k.ends_with("_username"))
                        .map(String::as_str),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                (
                    "6d85703a-565d-469a-96ce-30b6de53079d",
                    "ipmi",
                    Some("uefi"),
                    Some("ipmi_username")
                ),
                (
                    "0c9dbf5c-8cbf-4d2a-b7f5-4a1a2e6a3b11",
                    "msftocs",
                    Some("uefi"),
                    Some("msftocs_username")
                ),
                ("r640-07", "redfish", Some("uefi"), Some("redfish_username")),
            ]
        );
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
