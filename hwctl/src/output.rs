//! Printing: text tables, JSON, and errors with their kind and cause chain.

use std::error::Error as _;
use std::io::Write;

use hwctl_core::{Error, ErrorKind, ParameterProblem};

/// The process exit code for an error: 2 for usage and invalid or missing
/// parameters, 1 for everything else.
pub(crate) fn exit_code(err: &Error) -> i32 {
    if err.kind().is_input_error() { 2 } else { 1 }
}

/// Prints `error [kind]: message` and each cause on stderr.
pub(crate) fn print_error(err: &Error) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", error_headline(err));
    // Problems the message tells itself (an inventory's) are not listed again.
    let listed = if err.problems_told() {
        &[][..]
    } else {
        err.problems()
    };
    for p in listed {
        match &p.reason {
            None => {
                let _ = writeln!(stderr, "  missing: {}", p.name);
            }
            Some(r) => {
                let _ = writeln!(stderr, "  invalid: {}: {r}", p.name);
            }
        }
        if let Some(hint) = hint_for(err.driver(), p) {
            let _ = writeln!(stderr, "    hint: {hint}");
        }
    }
    if let Some(hint) = hint_for_error(err) {
        let _ = writeln!(stderr, "  hint: {hint}");
    }
    for cause in causes_to_print(err) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
}

/// The texts of `err`'s cause chain that say something new: a cause whose text the
/// message (or a cause printed before it) already contains is left out, so the
/// same words are not printed twice (`… refused the datagram (ICMP port
/// unreachable …)` then `caused by:` the same).
fn causes_to_print(err: &Error) -> Vec<String> {
    let mut said = vec![err.to_string()];
    let mut out = Vec::new();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !said.iter().any(|t| t.contains(text.as_str())) {
            out.push(text.clone());
        }
        said.push(text);
        source = s.source();
    }
    out
}

/// Where a value comes from for an error that is not a parameter problem but
/// still means a parameter was left out: IPMI's optional `ipmi_password` (IPMI and
/// Node Manager, which speaks IPMI) that the BMC turned out to need — the session
/// says "no ipmi_password was given" when its key exchange fails with an empty
/// password. `None` when there is nothing to add.
pub(crate) fn hint_for_error(err: &Error) -> Option<String> {
    let ipmi = matches!(err.driver(), None | Some("ipmi" | "staging-nm"));
    if ipmi
        && err.kind() == ErrorKind::Unauthenticated
        && err.to_string().contains("no ipmi_password was given")
    {
        // A secret is never suggested on the command line.
        return Some(format!(
            "a secret: set the environment variable {}, or use --password-file FILE, or \
             --ask-password on a terminal (ipmi_password is optional, so it is asked for \
             only then; a value given with --info is visible to other users of this \
             machine)",
            crate::secrets::env_name("ipmi_password")
        ));
    }
    None
}

/// Whether a problem leaves its parameter without a usable value, so the hint of
/// where one comes from applies: missing, or Ironic's mask `******` in place of a
/// secret (an export from the API never has the secret itself).
fn lacks_value(p: &ParameterProblem) -> bool {
    p.is_missing()
        || p.reason
            .as_deref()
            .is_some_and(|r| r.contains(hwctl_core::driver_info::IRONIC_MASK))
}

/// The keys of `oneview` that Ironic keeps in the `[oneview]` section of
/// `ironic.conf` (as `manager_url`, `username`, `password`) instead of a node's
/// `driver_info`, so a node export never has them.
const ONEVIEW_CONDUCTOR_KEYS: &[&str] = &[
    "oneview_manager_url",
    "oneview_username",
    "oneview_password",
];

/// Where a value for `problem`'s parameter comes from, when the problem leaves it
/// without one (missing, or Ironic's mask: [`lacks_value`]), for an error from
/// `driver` (`None` when the error names none): keyed on the name, since hw-core's
/// problems carry no hint of their own. `None` when there is nothing to add.
pub(crate) fn hint_for(driver: Option<&str>, problem: &ParameterProblem) -> Option<String> {
    if !lacks_value(problem) {
        return None;
    }
    let name = problem.name.as_str();
    if name == "driver" {
        return Some(
            "name the hardware type before the command: `--driver NAME` (`hwctl drivers` \
             lists them), or `--info-file node.json` with a \"driver\" (an Ironic node \
             export works as it is)"
                .to_owned(),
        );
    }
    if name == "ports" {
        return Some(
            "this hardware type needs the node's port MAC addresses: give `--port MAC` \
             (repeatable), or a `ports` list in the node's JSON (`--info-file`, an inventory \
             entry: MAC strings or Ironic's port objects `{\"address\": MAC}`)"
                .to_owned(),
        );
    }
    let oneview = matches!(driver, None | Some("oneview"));
    if is_node_secret(driver, name) {
        // A secret is never suggested on the command line.
        return Some(format!(
            "a secret: set the environment variable {}, or use --password-file FILE, or run \
             on a terminal to be asked (a value given with --info is visible to other users \
             of this machine)",
            crate::secrets::env_name(name)
        ));
    }
    if oneview && ONEVIEW_CONDUCTOR_KEYS.contains(&name) {
        let option = name.trim_start_matches("oneview_");
        let head = format!(
            "Ironic keeps this in the `[oneview]` section of ironic.conf (`{option}`), not \
             in driver_info, so an Ironic export lacks it"
        );
        // A secret is never suggested on the command line.
        return Some(if name == "oneview_password" {
            format!(
                "{head}: set the environment variable {} (or use --password-file), or add \
                 it to the node's driver_info (the export's or inventory's `driver_info`)",
                crate::secrets::env_name(name)
            )
        } else {
            format!(
                "{head}: add it to the node's driver_info (`--info {name}=…`, or the \
                 export's or inventory's `driver_info`)"
            )
        });
    }
    None
}

/// The first line of an error on stderr. A validation error's message lists its
/// problems with their reasons, which are printed one per line below it: the
/// headline names the driver, the operation and the parameters (`fake-hardware:
/// vendor call nosuch: parameter 'method' is invalid`), so each reason is printed
/// once.
fn error_headline(err: &Error) -> String {
    let problems = err.problems();
    if problems.is_empty() || err.problems_told() {
        return format!("error [{}]: {err}", err.kind());
    }
    let mut context: Vec<&str> = Vec::new();
    context.extend(err.driver());
    context.extend(err.operation());
    let what = match problems {
        [one] if one.is_missing() => format!("parameter '{}' is missing", one.name),
        [one] => format!("parameter '{}' is invalid", one.name),
        many => format!(
            "{} parameters are missing or invalid: {}",
            many.len(),
            many.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    context.push(&what);
    format!("error [{}]: {}", err.kind(), context.join(": "))
}

/// The error as a JSON object (`kind`, `message`, `driver`, `operation`, `problems`).
pub(crate) fn error_json(err: &Error) -> serde_json::Value {
    error_json_with(err, None)
}

/// [`error_json`] of an error from the command `operation` (`power status`): its
/// `operation` is the error's own when it names one, else the command's.
pub(crate) fn error_json_for(err: &Error, operation: &str) -> serde_json::Value {
    error_json_with(err, Some(operation))
}

/// [`error_json_for`] of a `fleet` node's error: its hints are
/// [`fleet_hint_for`]'s.
pub(crate) fn fleet_error_json_for(err: &Error, operation: &str) -> serde_json::Value {
    let mut value = error_json_with(err, Some(operation));
    if let Some(problems) = value["problems"].as_array_mut() {
        for (json, p) in problems.iter_mut().zip(err.problems()) {
            json["hint"] = fleet_hint_for(err.driver(), p).into();
        }
    }
    value
}

/// Whether `name` is one of the node's secrets, for a hint that must never suggest
/// giving it on the command line: a password key, except OneView's conductor
/// credentials (`oneview_password` is the appliance's, hinted apart).
fn is_node_secret(driver: Option<&str>, name: &str) -> bool {
    let oneview = matches!(driver, None | Some("oneview"));
    name.ends_with("password") && !(oneview && ONEVIEW_CONDUCTOR_KEYS.contains(&name))
}

/// [`hint_for`] for a node of a `fleet` inventory, whose values come from its
/// entry or the environment: `fleet` refuses `--info` and `--port` and asks
/// nothing on a terminal (a newcomer was told to run on a terminal to be asked),
/// so the secret and port hints say where a fleet takes them; the others are
/// [`hint_for`]'s.
pub(crate) fn fleet_hint_for(driver: Option<&str>, problem: &ParameterProblem) -> Option<String> {
    if !lacks_value(problem) {
        return None;
    }
    let name = problem.name.as_str();
    if name == "ports" {
        return Some(
            "this hardware type needs the node's port MAC addresses: give the entry a \
             `ports` list (MAC strings or Ironic's port objects `{\"address\": MAC}`)"
                .to_owned(),
        );
    }
    if is_node_secret(driver, name) {
        // A secret is never suggested on the command line.
        return Some(format!(
            "a secret: set the environment variable {} (every node of the sweep reads it), \
             or give `hwctl --password-file FILE fleet …` (before `fleet`), or put it in the \
             entry's driver_info",
            crate::secrets::env_name(name)
        ));
    }
    hint_for(driver, problem)
}

/// The parameter an inventory's problem names (`entries[4].driver_info.ipmi_password`:
/// `ipmi_password`; `entries[2].ports`: `ports`), `None` for a problem of one node.
fn inventory_parameter(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("entries[")?;
    let (_, member) = rest.split_once("].")?;
    Some(member.strip_prefix("driver_info.").unwrap_or(member))
}

/// The hint of `problem` in a JSON error: [`hint_for`]'s, or for a problem named in
/// an inventory (`entries[N].driver_info.KEY`, a fleet's refusal) [`fleet_hint_for`]'s
/// for its parameter (it named `HW_ENTRIES_4__DRIVER_INFO_IPMI_PASSWORD`).
fn problem_hint(driver: Option<&str>, problem: &ParameterProblem) -> Option<String> {
    match inventory_parameter(&problem.name) {
        Some(key) => fleet_hint_for(
            driver,
            &ParameterProblem {
                name: key.to_owned(),
                reason: problem.reason.clone(),
            },
        ),
        None => hint_for(driver, problem),
    }
}

fn error_json_with(err: &Error, operation: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "kind": err.kind().as_str(),
        "message": err.to_string(),
        "driver": err.driver(),
        "operation": err.operation().or(operation),
        "retryable": err.is_retryable(),
        "problems": err.problems().iter().map(|p| serde_json::json!({
            "name": p.name,
            "missing": p.is_missing(),
            "reason": p.reason,
            "hint": problem_hint(err.driver(), p),
        })).collect::<Vec<_>>(),
    })
}

/// Renders rows under headers, columns padded to their widest cell; one row a line
/// (nothing wraps, so a report stays greppable). The last column is not padded,
/// and its rule under the header stops at the terminal's width ([`table_width`]),
/// never narrower than its header.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    table_in(headers, rows, usize::from(table_width()))
}

/// [`table`] for a line of `width` columns.
fn table_in(headers: &[&str], rows: &[Vec<String>], width: usize) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    // The last column is not padded; its rule takes what is left of the line,
    // within its header and its widest cell.
    if let Some((last, before)) = widths.split_last_mut() {
        let used: usize = before.iter().map(|w| w + 2).sum();
        let header = headers.last().map_or(0, |h| h.chars().count());
        *last = (*last).min(width.saturating_sub(used)).max(header);
    }
    let line = |cells: Vec<&str>| -> String {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = String::new();
    out.push_str(&line(headers.to_vec()));
    out.push('\n');
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// The width tables wrap to: the terminal's when stdout is one, else `COLUMNS`
/// when it holds a width of at least 20, else 80 columns.
pub(crate) fn table_width() -> u16 {
    let columns = std::env::var("COLUMNS").ok();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout())
        .then(|| crossterm::terminal::size().ok().map(|(w, _)| w))
        .flatten();
    width_of(terminal, columns.as_deref())
}

fn width_of(terminal: Option<u16>, columns: Option<&str>) -> u16 {
    terminal
        .filter(|w| *w >= 20)
        .or_else(|| {
            columns
                .and_then(|c| c.trim().parse::<u16>().ok())
                .filter(|w| *w >= 20)
        })
        .unwrap_or(80)
}

/// A header, a line under it, no other borders; columns two spaces apart.
const WRAPPED_STYLE: comfy_table::TableStyle = comfy_table::TableStyle::new()
    .header_separator(comfy_table::LineStyle::none().fill('-').junction(' '))
    .header_lines(comfy_table::ContentLineStyle::none().junction(' '))
    .content_lines(comfy_table::ContentLineStyle::none().junction(' '));

/// The narrowest the last column of a [`wrapped_table`] may be beside the others;
/// narrower (a 20-column description beside `drivers`' interface lists at 80
/// columns), each row's last cell goes on the lines below the row instead.
const MIN_LAST_COLUMN: usize = 30;

/// How [`wrapped_table`] indents a last cell it puts below its row.
const BELOW_INDENT: &str = "    ";

/// Renders rows under headers (comfy-table), the last column's cells wrapped so
/// that no line is wider than `width` columns (they break at spaces where they can).
/// When the other columns leave the last one fewer than [`MIN_LAST_COLUMN`] columns,
/// each row's last cell is printed under the row instead, indented and wrapped to
/// the whole width; the header line still names every column.
pub(crate) fn wrapped_table(headers: &[&str], rows: &[Vec<String>], width: u16) -> String {
    let last = headers.len().saturating_sub(1);
    // Each column but the last takes its widest cell, one space of padding and
    // one of junction.
    let before_last: usize = (0..last)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain(headers.get(i).map(|h| h.chars().count()))
                .max()
                .unwrap_or(0)
                + 2
        })
        .sum();
    if last > 0 && usize::from(width).saturating_sub(before_last) < MIN_LAST_COLUMN {
        return table_with_last_below(headers, rows, width);
    }
    columns_table(headers, rows, width)
}

/// [`wrapped_table`]'s layout with the last cell of each row below the row.
fn table_with_last_below(headers: &[&str], rows: &[Vec<String>], width: u16) -> String {
    let last = headers.len().saturating_sub(1);
    let short: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut r: Vec<String> = r.iter().take(last).cloned().collect();
            r.push(String::new());
            r
        })
        .collect();
    // One line per row: nothing wraps in the columns left (the last is empty).
    let top = columns_table(headers, &short, u16::MAX);
    let mut lines = top.lines();
    let mut out = String::new();
    for line in lines.by_ref().take(2) {
        out.push_str(line);
        out.push('\n');
    }
    let inner = width
        .saturating_sub(u16::try_from(BELOW_INDENT.len()).unwrap_or(0))
        .max(20);
    for (row, line) in rows.iter().zip(lines) {
        out.push_str(line);
        out.push('\n');
        let cell = row.get(last).map(String::as_str).unwrap_or("");
        if cell.trim().is_empty() {
            continue;
        }
        let mut t = comfy_table::Table::new();
        t.load_style(WRAPPED_STYLE)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(inner)
            .add_row(vec![cell]);
        for column in t.column_iter_mut() {
            column.set_padding((0, 0));
        }
        for wrapped in t.lines() {
            out.push_str(BELOW_INDENT);
            out.push_str(wrapped.trim_end());
            out.push('\n');
        }
    }
    out
}

/// Rows under headers in columns, the last one wrapped to fit `width`.
fn columns_table(headers: &[&str], rows: &[Vec<String>], width: u16) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(WRAPPED_STYLE)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(headers.to_vec())
        .add_rows(rows.iter().cloned());
    // Every column but the last as wide as its content; the last (a description)
    // takes the rest and wraps.
    let last = headers.len().saturating_sub(1);
    for (i, column) in t.column_iter_mut().enumerate() {
        column.set_padding((0, 1));
        if i < last {
            column.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Writes a line to stdout (a closed pipe is not an error worth a panic).
pub(crate) fn say(text: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", text.as_ref());
}

/// Writes pretty JSON to stdout.
pub(crate) fn say_json(value: &serde_json::Value) {
    say(serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// A usage error (exit code 2).
pub(crate) fn usage(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidParameter, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_validation_problem_is_printed_once() {
        let err = Error::from_problems(vec![
            hwctl_core::ParameterProblem {
                name: "ipmi_address".into(),
                reason: None,
            },
            hwctl_core::ParameterProblem {
                name: "ipmi_port".into(),
                reason: Some("\"x\" is not a valid integer".into()),
            },
        ])
        .with_driver("ipmi");
        let headline = error_headline(&err);
        assert_eq!(
            headline,
            "error [missing-parameter]: ipmi: 2 parameters are missing or invalid: \
             ipmi_address, ipmi_port"
        );
        // The reason is printed below the headline, not in it.
        assert!(!headline.contains("valid integer"));
        let one = Error::invalid_parameter("method", "no handler for method x")
            .with_driver("fake-hardware")
            .with_operation("vendor call x");
        assert_eq!(
            error_headline(&one),
            "error [invalid-parameter]: fake-hardware: vendor call x: parameter 'method' is \
             invalid"
        );
        assert_eq!(
            error_headline(&Error::missing_parameters(["ipmi_address"])),
            "error [missing-parameter]: parameter 'ipmi_address' is missing"
        );
        let plain = Error::new(hwctl_core::ErrorKind::Timeout, "no reply");
        assert_eq!(error_headline(&plain), "error [timeout]: no reply");
    }

    #[test]
    fn a_cause_the_message_already_says_is_not_printed_again() {
        let refused = "127.0.0.1:1 refused the datagram (ICMP port unreachable: nothing \
                       listens on that port)";
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let inner = Error::new(ErrorKind::Unreachable, refused).with_source(io);
        let err = Error::new(
            ErrorKind::Unreachable,
            format!("get chassis status: 4 attempts over 0.5s: {refused}"),
        )
        .with_source(inner);
        assert_eq!(causes_to_print(&err), vec!["Connection refused".to_owned()]);
        let off = Error::new(ErrorKind::PowerStateFailure, "Blade 1 is powered off")
            .with_source(std::io::Error::other("Blade 1 is powered off"));
        assert!(causes_to_print(&off).is_empty());
        // A cause with something new is kept.
        let new =
            Error::new(ErrorKind::Unreachable, "no reply").with_source(std::io::Error::other("x"));
        assert_eq!(causes_to_print(&new), vec!["x".to_owned()]);
    }

    #[test]
    fn a_missing_ipmi_password_gets_a_hint_naming_where_it_comes_from() {
        for driver in ["ipmi", "staging-nm"] {
            let err = Error::new(
                ErrorKind::Unauthenticated,
                "127.0.0.1:623: RAKP 2 key exchange code does not match: no ipmi_password \
                 was given (an empty password is not this BMC's)",
            )
            .with_driver(driver);
            let hint = hint_for_error(&err).unwrap();
            assert!(hint.contains("HW_IPMI_PASSWORD"), "{hint}");
            assert!(hint.contains("--password-file"), "{hint}");
        }
        let wrong = Error::new(
            ErrorKind::Unauthenticated,
            "RAKP 2 key exchange code does not match: wrong password",
        )
        .with_driver("ipmi");
        assert_eq!(hint_for_error(&wrong), None);
    }

    #[test]
    fn table_pads_columns() {
        let t = table(
            &["a", "bb"],
            &[vec!["xxx".into(), "y".into()], vec!["z".into(), "w".into()]],
        );
        assert_eq!(t, "a    bb\n---  --\nxxx  y\nz    w\n");
    }

    #[test]
    fn the_last_rule_stops_at_the_line_width_but_not_before_its_header() {
        let long = "x".repeat(200);
        let t = table_in(&["NODE", "DETAIL"], &[vec!["n1".into(), long.clone()]], 80);
        let rule = t.lines().nth(1).unwrap_or_default();
        assert_eq!(rule, format!("----  {}", "-".repeat(74)));
        assert!(t.contains(&long), "cells are never cut");
        let t = table_in(&["NODE", "DETAIL"], &[vec!["n1".into(), long]], 8);
        assert_eq!(t.lines().nth(1), Some("----  ------"));
    }

    #[test]
    fn wrapped_tables_fit_the_width_and_keep_every_word() {
        let long = "the address of the BMC: an IPv4 or IPv6 literal or a host name, \
                    resolved at every connection; IPv6 link-local with %zone"
            .to_owned();
        let rows = vec![
            vec![
                "ipmi_address".into(),
                "yes".into(),
                "".into(),
                "".into(),
                long.clone(),
            ],
            vec![
                "ipmi_port".into(),
                "".into(),
                "".into(),
                "623".into(),
                "UDP port".into(),
            ],
        ];
        let headers = ["PROPERTY", "REQUIRED", "SECRET", "DEFAULT", "DESCRIPTION"];
        for width in [80u16, 60, 120] {
            let t = wrapped_table(&headers, &rows, width);
            for line in t.lines() {
                assert!(
                    line.chars().count() <= usize::from(width),
                    "{width}: {line:?}\n{t}"
                );
            }
            let first = t.lines().next().unwrap();
            for h in headers {
                assert!(first.contains(h), "header {h} missing: {first:?}");
            }
            let words: Vec<&str> = t.split_whitespace().collect();
            for w in long.split_whitespace() {
                assert!(words.contains(&w), "{w} lost at {width}:\n{t}");
            }
        }
    }

    #[test]
    fn json_errors_name_the_command_when_the_error_does_not() {
        let plain = Error::new(ErrorKind::Timeout, "no reply");
        assert_eq!(error_json(&plain)["operation"], serde_json::Value::Null);
        assert_eq!(
            error_json_for(&plain, "power status")["operation"],
            "power status"
        );
        let own = plain.with_operation("Get Chassis Status");
        assert_eq!(
            error_json_for(&own, "power status")["operation"],
            "Get Chassis Status"
        );
    }

    #[test]
    fn tables_wrap_to_the_terminal_then_columns_then_80() {
        assert_eq!(width_of(Some(132), Some("100")), 132);
        assert_eq!(width_of(None, Some("100")), 100);
        assert_eq!(width_of(None, Some("5")), 80);
        assert_eq!(width_of(None, Some("wide")), 80);
        assert_eq!(width_of(None, None), 80);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(&Error::missing_parameters(["x"])), 2);
        assert_eq!(exit_code(&Error::new(ErrorKind::Timeout, "t")), 1);
    }
}
