//! The offline check of every entry's node: the refusal of a change (`on`, `off`,
//! `reboot`) when an entry does not build or addresses the machine of an earlier
//! entry ([`check_entries`], [`super::same_machine`]), and `fleet … validate`,
//! which runs the same check alone and lists every failing entry ([`validate`]).
//! Neither contacts a node: building one opens no connection. Before a `status`
//! sweep, only a machine listed twice is looked for, and warned of once.

use std::path::Path;

use hwctl_core::{Error, ErrorKind, ParameterProblem, PowerTarget, Registry, Result};
use serde_json::json;

// `fleet … validate`'s operation: its summary error's, and its rows' errors' that
// name none of their own.
use super::report::VALIDATE_OPERATION;
use super::{build_node, operation_of};
use crate::cli::FleetAction;
use crate::inventory::InventoryNode;
use crate::output::{fleet_error_json_for, fleet_hint_for, say, say_json, table};

/// At most this many entries are listed by [`check_entries`]' error; the rest
/// are counted (as the inventory checks do).
const LISTED: usize = 5;

/// How many entries [`failures`] builds between two releases of the idle shared
/// clients.
const RELEASE_EVERY: usize = 1024;

/// Builds every entry's node, one at a time, and drops it at once (no I/O:
/// [`build_node`]): each entry that does not build, by 0-based position, with the
/// build's error, and each entry that builds but addresses the machine of an
/// earlier entry ([`super::same_machine`]: one machine driven twice at once),
/// with an `InvalidParameter` naming that entry; for a change (`action`), each
/// entry whose node cannot take it ([`refused_action`]: `Unsupported`). The shared
/// clients the builds made are released
/// ([`hwctl_core::shared::release_idle`]) every [`RELEASE_EVERY`] builds and at the
/// end, so no pool outlives the check.
fn failures(
    registry: &Registry,
    nodes: &[InventoryNode],
    action: Option<FleetAction>,
) -> Vec<(usize, Error)> {
    let mut failed = Vec::new();
    let mut seen = super::same_machine::Seen::new(registry, nodes.len());
    for (i, entry) in nodes.iter().enumerate() {
        // The builds' clients stay in the process-wide maps for their idle time
        // once their node is dropped: released in batches, so a large inventory of
        // many endpoints never holds more than a batch of them.
        if i % RELEASE_EVERY == RELEASE_EVERY - 1 {
            hwctl_core::shared::release_idle();
        }
        // Every entry's machine is kept, a failing one's too: its pasted twin
        // is named against it.
        let twin = seen.check(i, entry);
        match build_node(registry, entry) {
            Ok(node) => {
                if let Some(e) = action.and_then(|a| refused_action(&node, a)) {
                    failed.push((i, e));
                    continue;
                }
            }
            Err(e) => {
                failed.push((i, e));
                continue;
            }
        }
        if let Some(at) = twin {
            failed.push((i, same_machine_error(nodes, at)));
        }
    }
    // The builds' clients (pools, sessions not yet opened) go now, not after
    // their idle time.
    hwctl_core::shared::release_idle();
    failed
}

/// `Unsupported` when `node` cannot do `action`: a power target its power
/// interface does not accept ([`refused_target`]), or a boot device its
/// management cannot set (or no management at all: Wake-on-LAN, iBoot).
fn refused_action(node: &hwctl_core::Node, action: FleetAction) -> Option<Error> {
    if let FleetAction::BootSet { device, .. } = action {
        let mgmt = match node.management() {
            Ok(mgmt) => mgmt,
            Err(e) => return Some(e),
        };
        let settable = &mgmt.capabilities().boot_devices;
        if settable.contains(&device) {
            return None;
        }
        let names: Vec<&str> = settable.iter().map(|d| d.as_str()).collect();
        return Some(Error::new(
            ErrorKind::Unsupported,
            format!(
                "its {} management cannot set the boot device {device} (it sets {})",
                node.hardware_type(),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    refused_target(node, action.target()?)
}

/// `Unsupported` when `node`'s power interface does not accept `target` (its
/// [`PowerCapabilities::targets`](hwctl_core::PowerCapabilities::targets)): `its
/// msftocs power interface cannot soft-off (it accepts on, off, reboot)`.
fn refused_target(node: &hwctl_core::Node, target: PowerTarget) -> Option<Error> {
    let caps = match node.power() {
        Ok(power) => power.capabilities(),
        Err(e) => return Some(e),
    };
    if caps.targets.contains(&target) {
        return None;
    }
    let accepted: Vec<&str> = caps.targets.iter().map(|t| t.as_str()).collect();
    Some(Error::new(
        ErrorKind::Unsupported,
        format!(
            "its {} power interface cannot {target} (it accepts {})",
            node.hardware_type(),
            accepted.join(", ")
        ),
    ))
}

/// Why an entry is refused when entry `at` (0-based) addresses its machine: a
/// parameter problem (exit 2) with no parameter of its own, named
/// `entries[N].driver_info` in `--json`.
fn same_machine_error(nodes: &[InventoryNode], at: usize) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "addresses the machine of entry {} ({:?}) ({}): a change would drive it \
             twice at once; leave one of them out",
            at + 1,
            nodes[at].name,
            super::same_machine::SAME
        ),
    )
}

/// Whether `kind` is a parameter problem: the inventory's to fix (exit 2).
fn is_parameter(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::MissingParameter | ErrorKind::InvalidParameter
    )
}

/// The kind of an error that stands for every failure of `failed`: a parameter
/// kind (`MissingParameter` when any entry misses one, else `InvalidParameter`;
/// exit 2) only when every entry failed with a parameter problem; otherwise the
/// kind of the first entry that failed for another reason (its own exit status,
/// 1), since exit 2 says the fix is in the inventory.
fn kind_of(failed: &[(usize, Error)]) -> ErrorKind {
    if let Some((_, e)) = failed.iter().find(|(_, e)| !is_parameter(e.kind())) {
        return e.kind();
    }
    if failed
        .iter()
        .any(|(_, e)| e.kind() == ErrorKind::MissingParameter)
    {
        ErrorKind::MissingParameter
    } else {
        ErrorKind::InvalidParameter
    }
}

/// Entry `n`'s (from 1) problems, named in the inventory: `entries[N].driver_info.KEY`
/// (`entries[N].ports`, `entries[N].capabilities`; `entries[N].driver_info` with
/// the message for an error that names none).
fn entry_problems(n: usize, e: &Error) -> Vec<ParameterProblem> {
    if e.problems().is_empty() {
        return vec![ParameterProblem {
            name: format!("entries[{n}].driver_info"),
            reason: Some(e.message().to_owned()),
        }];
    }
    e.problems()
        .iter()
        .map(|p| ParameterProblem {
            name: if p.name == "ports" || p.name == "capabilities" {
                format!("entries[{n}].{}", p.name)
            } else {
                format!("entries[{n}].driver_info.{}", p.name)
            },
            reason: p.reason.clone(),
        })
        .collect()
}

/// What is wrong with an entry, in words: its problems (`ipmi_password: is
/// "******", …`), else the message; a failure that is not a parameter problem
/// is tagged with its kind (`[unsupported] …`). Never a secret (the drivers'
/// reasons never hold one).
fn told(e: &Error) -> String {
    let text = if e.problems().is_empty() || e.problems_told() {
        e.message().to_owned()
    } else {
        e.problems()
            .iter()
            .map(|p| match &p.reason {
                Some(r) => format!("{}: {r}", p.name),
                None => format!("{} is missing", p.name),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if is_parameter(e.kind()) {
        text
    } else {
        format!("[{}] {text}", e.kind())
    }
}

/// Where the values the failing entries lack come from (`HW_<KEY>` for a masked
/// or missing secret, an entry's `ports`), once per parameter, in the order met:
/// `(KEY, hint)` ([`fleet_hint_for`], the hints a sweep's table prints).
fn hints(failed: &[(usize, Error)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (_, e) in failed {
        for p in e.problems() {
            if out.iter().any(|(name, _)| *name == p.name) {
                continue;
            }
            if let Some(hint) = fleet_hint_for(e.driver(), p) {
                out.push((p.name.clone(), hint));
            }
        }
    }
    out
}

/// Before a change (`on`, `off`, `reboot`): builds every entry's node ([`failures`]),
/// so an entry whose `driver_info` does not validate (a misspelled key, Ironic's
/// `******` mask, a value of the wrong form) refuses the whole sweep before any
/// node is touched, rather than failing alone while the others are switched; so
/// does an entry that addresses the machine of an earlier one
/// ([`super::same_machine`]), named `entries[N].driver_info`. A `status` sweep is
/// not built first: it changes nothing, and its nodes are built only when
/// dispatched (module docs, "Memory"), so a bad entry fails its own row; a machine
/// listed twice is read twice (harmless; not looked for, [`super::same_machine`]).
///
/// # Errors
///
/// Of the kind [`kind_of`] gives (`MissingParameter` or `InvalidParameter`, exit
/// 2, when every failing entry has a parameter problem; else the first other
/// failure's kind), its message prefixed with the inventory's path as the other
/// inventory errors are: every failing entry by number (from 1), name and
/// problems, [`LISTED`] of them and a count of the rest, `no node was touched`,
/// then where a lacking value comes from (`hint (ipmi_password): a secret: set
/// the environment variable HW_IPMI_PASSWORD …`). Its problems (`--json`) name
/// every failing entry's parameters as `entries[N].driver_info.KEY`
/// ([`entry_problems`]).
pub(crate) fn check_entries(
    registry: &Registry,
    inventory: &Path,
    nodes: &[InventoryNode],
    action: FleetAction,
) -> Result<()> {
    if !action.changes() {
        return Ok(());
    }
    let failed = failures(registry, nodes, Some(action));
    if failed.is_empty() {
        return Ok(());
    }
    let mut parts: Vec<String> = failed
        .iter()
        .take(LISTED)
        .map(|(i, e)| format!("entry {} (\"{}\"): {}", i + 1, nodes[*i].name, told(e)))
        .collect();
    if failed.len() > LISTED {
        parts.push(format!("{} more entries", failed.len() - LISTED));
    }
    // A type that cannot do the change is no driver_info problem.
    let what = if failed.iter().all(|(_, e)| is_parameter(e.kind())) {
        "have driver_info that does not validate"
    } else {
        "cannot take this change"
    };
    let mut message = format!(
        "{}: {} of {} inventory entries {what}: {}; \
         no node was touched (fix them, or leave them out of the inventory)",
        super::inventory_checks::inventory_name(inventory),
        failed.len(),
        nodes.len(),
        parts.join("; ")
    );
    // Where a masked or missing secret comes from, as a one-node error's `hint:`
    // line says it (the printer lists no problem of an error that tells them).
    for (name, hint) in hints(&failed) {
        message.push_str(&format!("; hint ({name}): {hint}"));
    }
    let problems = failed
        .iter()
        .flat_map(|(i, e)| entry_problems(i + 1, e))
        .collect();
    Err(Error::new(kind_of(&failed), message)
        .with_operation(operation_of(action))
        .with_problems(problems))
}

/// `fleet … validate`: builds every entry's node offline ([`failures`], the check
/// a change runs first) and prints the outcome, touching no node. Every entry
/// good: `6 entries, 6 valid (checked offline: no node was touched)` (`--json`:
/// `{"valid": true, "total": 6, "invalid": 0, "entries": []}`). Otherwise every
/// failing entry (not only the first few): a table of them (`ENTRY`, `NODE`,
/// `DRIVER`, `PROBLEM`), the hints of where a lacking value comes from, and the
/// summary line; `--json` lists them under `entries` (`entry` from 1, `name`,
/// `driver`, and the build's `error` as `--json` prints any error, with its
/// hints) beside the run's `error`.
///
/// # Errors
///
/// When an entry does not validate: the summary error (`INV: 3 of 6 inventory
/// entries do not validate (listed above); no node was touched`), of the kind
/// [`kind_of`] gives (exit 2 for parameter problems), its problems naming every
/// failing entry's parameters as [`check_entries`]' do. With `--json` it is the
/// report's `error` and is not printed again ([`super::is_summary`]).
pub(crate) fn validate(
    registry: &Registry,
    inventory: &Path,
    nodes: &[InventoryNode],
    json_out: bool,
) -> Result<()> {
    let failed = failures(registry, nodes, None);
    let total = nodes.len();
    let entries = if total == 1 { "entry" } else { "entries" };
    let error = (!failed.is_empty()).then(|| {
        Error::new(
            kind_of(&failed),
            format!(
                "{}: {} of {total} inventory {entries} do not validate ({}); no node was \
                 touched",
                super::inventory_checks::inventory_name(inventory),
                failed.len(),
                if json_out {
                    "under `entries`"
                } else {
                    "listed above"
                }
            ),
        )
        .with_operation(VALIDATE_OPERATION)
        .with_problems(
            failed
                .iter()
                .flat_map(|(i, e)| entry_problems(i + 1, e))
                .collect(),
        )
    });
    if json_out {
        let rows: Vec<serde_json::Value> = failed
            .iter()
            .map(|(i, e)| {
                json!({
                    "entry": i + 1,
                    "name": nodes[*i].name,
                    "driver": nodes[*i].driver,
                    "error": fleet_error_json_for(e, VALIDATE_OPERATION),
                })
            })
            .collect();
        let mut report = json!({
            "valid": failed.is_empty(),
            "total": total,
            "invalid": failed.len(),
            "entries": rows,
        });
        if let Some(e) = &error {
            report["error"] = crate::output::error_json(e);
        }
        say_json(&report);
    } else {
        if !failed.is_empty() {
            let rows: Vec<Vec<String>> = failed
                .iter()
                .map(|(i, e)| {
                    vec![
                        (i + 1).to_string(),
                        nodes[*i].name.clone(),
                        nodes[*i].driver.clone(),
                        told(e),
                    ]
                })
                .collect();
            say(table(&["ENTRY", "NODE", "DRIVER", "PROBLEM"], &rows));
            for (name, hint) in hints(&failed) {
                say(format!("hint ({name}): {hint}"));
            }
        }
        say(format!(
            "{total} {entries}, {} valid, {} invalid (checked offline: no node was touched)",
            total - failed.len(),
            failed.len()
        ));
    }
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FleetPowerAction;
    use hwctl_core::{HardwareType, InterfaceKind};

    /// A registry of `fake-hardware` and `broken`, a type whose build fails with
    /// `unsupported` (not a parameter problem).
    fn registry() -> Registry {
        let mut r = Registry::new();
        r.register(hwctl_core::fake::hardware_type());
        r.register(HardwareType::new(
            "broken",
            "Fails to build.",
            [InterfaceKind::Power],
            Vec::new(),
            |_, _| {
                Err(Error::new(
                    ErrorKind::Unsupported,
                    "this build cannot drive it",
                ))
            },
        ));
        r
    }

    fn bad_fake(name: &str) -> InventoryNode {
        let mut n = InventoryNode::named(name, "fake-hardware");
        n.ports.push("not-a-mac".into());
        n
    }

    /// A build failure that is no parameter problem keeps its kind (it was
    /// `invalid-parameter`, exit 2, whatever the cause); parameter problems alone
    /// keep theirs. The message starts with the inventory's path.
    #[test]
    fn a_refusal_keeps_the_kind_of_a_failure_that_is_no_parameter_problem() {
        let inv = Path::new("INV");
        let r = registry();
        let e = check_entries(
            &r,
            inv,
            &[bad_fake("a")],
            FleetAction::Power(FleetPowerAction::Off),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
        assert!(
            e.message().starts_with("INV: 1 of 1 inventory entries"),
            "{e}"
        );
        let nodes = [
            bad_fake("a"),
            InventoryNode::named("b", "broken"),
            InventoryNode::named("c", "fake-hardware"),
        ];
        let e = check_entries(
            &r,
            inv,
            &nodes,
            FleetAction::Power(FleetPowerAction::Reboot),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(
            e.message()
                .contains("entry 2 (\"b\"): [unsupported] this build cannot drive it"),
            "{e}"
        );
        assert!(
            e.message().starts_with("INV: 2 of 3 inventory entries"),
            "{e}"
        );
        assert!(check_entries(&r, inv, &nodes, FleetAction::STATUS).is_ok());
        assert!(
            check_entries(
                &r,
                inv,
                &nodes[2..],
                FleetAction::Power(FleetPowerAction::On)
            )
            .is_ok()
        );
    }
}
