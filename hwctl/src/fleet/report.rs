//! What `hwctl fleet` prints and exits with: the table (or `--json` report) of
//! every entry's outcome, the summary line, and the run's error (the failures'
//! summary, or the interrupt).

use hwctl_core::{Error, ErrorKind};
use serde_json::json;

use super::{Status, Sweep, operation_of};
use crate::cli::FleetAction;
use crate::inventory::InventoryNode;
use crate::output::{error_json, fleet_error_json_for, say, table};

fn action_name(action: FleetAction) -> String {
    action.name().to_owned()
}

/// Whether a done node was switched (the action changes power), for the summary.
fn switches(action: FleetAction) -> bool {
    action.changes()
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
            Status::Done(_) | Status::ReadRecorded(_) | Status::BootSet { .. } => {
                done.push(n.name.as_str())
            }
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
        .enumerate()
        .filter(|(_, (_, s))| !sweep.interrupted || !matches!(s.status, Status::NotStarted));
    if json_out {
        // An error that names no operation (a node's driver_info refused before
        // any call) gets the one a device error of this sweep names, so the rows
        // of one report agree (`get power state`, not `power status` beside it).
        let operation = operation_of(action);
        let list: Vec<JsonRow<'_>> = rows
            .map(|(i, (n, s))| {
                let ms = Some(u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX));
                let row = JsonRow {
                    boot_device: None,
                    confirmed: None,
                    driver: &n.driver,
                    elapsed_ms: None,
                    entry: i + 1,
                    error: None,
                    name: &n.name,
                    ok: false,
                    performed: None,
                    persistent: None,
                    power_state: None,
                    power_state_recorded: None,
                    status: "not-started",
                    uuid: n.uuid.as_deref(),
                };
                match &s.status {
                    Status::Done(state) => JsonRow {
                        elapsed_ms: ms,
                        ok: true,
                        power_state: Some(state.as_str()),
                        status: "done",
                        ..row
                    },
                    Status::BootSet { device, persistent } => JsonRow {
                        boot_device: Some(device.as_str()),
                        elapsed_ms: ms,
                        ok: true,
                        persistent: Some(*persistent),
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
            .map(|(_, (n, s))| {
                let (result, detail) = match &s.status {
                    Status::Done(state) => (state.to_string(), String::new()),
                    Status::BootSet { device, persistent } => (
                        format!(
                            "{device} ({})",
                            if *persistent { "persistent" } else { "next boot" }
                        ),
                        String::new(),
                    ),
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
        let result = if matches!(action, FleetAction::BootSet { .. }) {
            "BOOT DEVICE"
        } else {
            "POWER"
        };
        say(table(&["NODE", "DRIVER", result, "TIME", "DETAIL"], &rows));
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
                "interrupted by {}: {} done, {}{}{} failed, {} in flight (state unknown), {} not started",
                signal_name(sweep),
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
    /// The boot device a `boot set` set; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    boot_device: Option<&'static str>,
    /// `false` for a change sent to a device that cannot read power (never
    /// confirmed); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed: Option<bool>,
    driver: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_ms: Option<u64>,
    /// The entry's position in the inventory, from 1 (as every message counts).
    entry: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    name: &'a str,
    ok: bool,
    /// `false` for a change only recorded (nothing reached the device); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    performed: Option<bool>,
    /// Whether the boot device a `boot set` set holds for every boot; absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    persistent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    power_state: Option<&'a str>,
    /// `true` for a state read from hwctl's record, not the device; absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    power_state_recorded: Option<bool>,
    status: &'static str,
    /// The entry's `uuid` (Ironic's node id), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    uuid: Option<&'a str>,
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
    w.write_all(b"    {\n      ")?;
    if let Some(device) = row.boot_device {
        w.write_all(b"\"boot_device\": ")?;
        write_json_str(w, device)?;
        w.write_all(b",\n      ")?;
    }
    if let Some(confirmed) = row.confirmed {
        w.write_all(if confirmed {
            b"\"confirmed\": true,\n      \"driver\": "
        } else {
            b"\"confirmed\": false,\n      \"driver\": "
        })?;
    } else {
        w.write_all(b"\"driver\": ")?;
    }
    write_json_str(w, row.driver)?;
    if let Some(ms) = row.elapsed_ms {
        w.write_all(b",\n      \"elapsed_ms\": ")?;
        // serde_json's own number writer, not `write!`'s formatting machinery.
        serde_json::to_writer(&mut *w, &ms)?;
    }
    w.write_all(b",\n      \"entry\": ")?;
    serde_json::to_writer(&mut *w, &row.entry)?;
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
    if let Some(persistent) = row.persistent {
        write!(w, ",\n      \"persistent\": {persistent}")?;
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
    if let Some(uuid) = row.uuid {
        w.write_all(b",\n      \"uuid\": ")?;
        write_json_str(w, uuid)?;
    }
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
        format!(
            "{failed} of {total} node{} failed: {}",
            if total == 1 { "" } else { "s" },
            counts.join(", ")
        ),
    )
    .with_operation(SUMMARY_OPERATION)
}

/// The error a sweep with `failed` failed nodes of `total` ends with, as the text
/// mode prints it on stderr (and the exit status it gives, [`exit_code`]): after
/// Ctrl-C [`interrupted_error`], else with failed nodes [`failures_error`], else
/// none. The `--json` report carries it as its `error`.
pub(crate) fn run_error(total: usize, sweep: &Sweep, failed: usize) -> Option<Error> {
    if sweep.terminated {
        Some(terminated_error(total))
    } else if sweep.interrupted {
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

/// The operation name of the error a sweep stopped by SIGTERM ends with.
const TERMINATED_OPERATION: &str = "summary (terminated)";

/// What stopped an interrupted sweep, as its summary says it.
fn signal_name(sweep: &Sweep) -> &'static str {
    if sweep.terminated {
        "SIGTERM"
    } else {
        "Ctrl-C"
    }
}

/// The operation of the error `fleet … validate` ends with when an entry does
/// not validate (its report, the `--json` one too, was printed): its exit status
/// is its kind's ([`exit_code`] leaves it alone), 2 for parameter problems.
pub(crate) const VALIDATE_OPERATION: &str = "fleet validate";

/// Whether `err` only stands for a summary already printed (a failed or interrupted
/// sweep, a failed `fleet … validate`): nothing more to print on stdout.
pub(crate) fn is_summary(err: &Error) -> bool {
    matches!(
        err.operation(),
        Some(SUMMARY_OPERATION | INTERRUPTED_OPERATION | TERMINATED_OPERATION | VALIDATE_OPERATION)
    )
}

/// The exit status of a sweep's summary error: 130 (128 + SIGINT) for a run stopped
/// by Ctrl-C and 143 (128 + SIGTERM) for one stopped by SIGTERM, as shells report a
/// command that signal ended, so scripts can tell an interrupted sweep from a
/// failed one; 1 for a sweep with failed nodes, whatever
/// their kind (a node's missing parameter fails that node, not the command line).
/// `None` for every other error.
pub(crate) fn exit_code(err: &Error) -> Option<u8> {
    match err.operation() {
        Some(INTERRUPTED_OPERATION) => Some(130),
        Some(TERMINATED_OPERATION) => Some(143),
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

/// The error a fleet run ends with after SIGTERM (exit status 143, see
/// [`exit_code`]); the summary of what was done was printed first, as after Ctrl-C.
pub(crate) fn terminated_error(total: usize) -> Error {
    Error::new(
        hwctl_core::ErrorKind::Other,
        format!("stopped by SIGTERM before all {total} nodes were done"),
    )
    .with_operation(TERMINATED_OPERATION)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hwctl_core::PowerState;

    use super::super::Slot;
    use super::*;

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
                boot_device: None,
                confirmed: None,
                driver: "msftocs",
                elapsed_ms: Some(12),
                entry: 1,
                error: None,
                name: "a",
                ok: true,
                performed: None,
                persistent: None,
                power_state: Some("on"),
                power_state_recorded: None,
                status: "done",
                uuid: Some("3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b60"),
            },
            JsonRow {
                boot_device: None,
                confirmed: None,
                driver: "msftocs",
                elapsed_ms: Some(3),
                entry: 2,
                error: Some(error_json(&err)),
                name: "b",
                ok: false,
                performed: None,
                persistent: None,
                power_state: None,
                power_state_recorded: None,
                status: "failed",
                uuid: None,
            },
            JsonRow {
                boot_device: None,
                confirmed: None,
                driver: "ipmi",
                elapsed_ms: Some(7),
                entry: 3,
                error: None,
                name: "c",
                ok: false,
                performed: None,
                persistent: None,
                power_state: None,
                power_state_recorded: None,
                status: "interrupted",
                uuid: None,
            },
            JsonRow {
                boot_device: None,
                confirmed: None,
                driver: "ipmi",
                elapsed_ms: None,
                entry: 4,
                error: None,
                name: "d",
                ok: false,
                performed: None,
                persistent: None,
                power_state: None,
                power_state_recorded: None,
                status: "not-started",
                uuid: None,
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
                 "power_state": "on", "elapsed_ms": 12, "entry": 1,
                 "uuid": "3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b60"},
                {"name": "b", "driver": "msftocs", "ok": false, "status": "failed",
                 "error": error_json(&err), "elapsed_ms": 3, "entry": 2},
                {"name": "c", "driver": "ipmi", "ok": false, "status": "interrupted",
                 "elapsed_ms": 7, "entry": 3},
                {"name": "d", "driver": "ipmi", "ok": false, "status": "not-started",
                 "entry": 4},
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
                boot_device: (i % 4 == 1).then_some("uefihttp"),
                confirmed: (i == 4).then_some(false),
                driver: "ipmi",
                elapsed_ms: (i != 4).then_some(u64::MAX - i as u64),
                entry: usize::MAX - i,
                error: (i % 2 == 1).then(|| error_json(&err)),
                name,
                ok: i == 0,
                performed: (i == 2).then_some(false),
                persistent: (i % 4 == 1).then_some(i == 1),
                power_state: (i == 0).then_some("on"),
                power_state_recorded: (i == 3).then_some(true),
                status: if i == 0 { "done" } else { "failed" },
                uuid: (i % 3 == 0).then_some(*name),
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
            terminated: false,
        };
        let clean = sweep(false, vec![Status::Done(PowerState::On)]);
        assert!(run_error(1, &clean, 0).is_none());
        let bad = sweep(false, vec![Status::Done(PowerState::On), failed()]);
        let e = run_error(2, &bad, 1)
            .map(|e| error_json(&e))
            .unwrap_or_default();
        assert_eq!(e["kind"], "timeout");
        assert_eq!(e["message"], "summary: 1 of 2 nodes failed: 1 timeout");
        // One node in all is one node, not "1 of 1 nodes".
        let lone = sweep(false, vec![failed()]);
        let text = run_error(1, &lone, 1)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.contains("1 of 1 node failed: 1 timeout"), "{text}");
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
        let e = run_error(2, &stopped, 1).unwrap_or_else(|| Error::new(ErrorKind::Other, ""));
        assert_eq!(exit_code(&e), Some(130));
        // SIGTERM (timeout(1), systemd): its own words and 128 + 15.
        let termed = Sweep {
            terminated: true,
            ..sweep(true, vec![failed(), Status::NotStarted])
        };
        let e = run_error(2, &termed, 1).unwrap_or_else(|| Error::new(ErrorKind::Other, ""));
        assert_eq!(
            e.to_string(),
            "summary (terminated): stopped by SIGTERM before all 2 nodes were done"
        );
        assert_eq!(exit_code(&e), Some(143));
        assert!(is_summary(&e));
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
