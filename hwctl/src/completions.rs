//! `hwctl completions SHELL` and `hwctl man`: shell completion scripts
//! (`clap_complete`) and the `hwctl(1)` man page (`clap_mangen`), generated from the
//! clap definition the parser itself uses, so they never drift from the real options.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;
use hwctl_core::{Error, ErrorKind, Result};

use crate::cli::Cli;

/// Writes the completion script for `shell` to stdout.
///
/// # Errors
///
/// [`ErrorKind::Other`] when stdout cannot be written.
pub(crate) fn completions(shell: Shell) -> Result<()> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "hwctl", &mut out);
    write_stdout(&out)
}

/// The EXIT STATUS section (roff), the table `output::exit_code` implements.
const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success.
.TP
\fB1\fR
The command failed: the device refused or did not answer (\fBtimeout\fR, including
the command's own \fB\-\-timeout\fR), was unreachable, rejected the credentials,
cannot do it (\fBunsupported\fR), or a fleet had failed nodes (whatever their
kinds; the summary error names the most common).
.TP
\fB2\fR
A usage error, or a missing or invalid parameter (\fBmissing\-parameter\fR,
\fBinvalid\-parameter\fR). Most are found before anything is sent; a device
may also refuse a value as invalid after a request (a Redfish HTTP 400, an AMT
\fBReturnValue\fR 5, a OneView template that does not match the server).
.TP
\fB130\fR
A \fBfleet\fR interrupted by Ctrl-C (SIGINT), after it printed which nodes were
done, failed, in flight and not started.
.PP
Errors go to stderr as \fBerror [KIND]: message\fR, usage errors included
(a refused command line is \fBerror [invalid\-parameter]: ...\fR); with \fB\-\-json\fR, instead
to stdout (where the results go) as one object
\fB{"error": {"kind": ..., "operation": ..., ...}}\fR, usage errors included;
stderr then holds only log lines. The exit code is the same either way.
"#;

/// The ENVIRONMENT section (roff).
const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBHW_\fIKEY\fR
A driver_info secret, named by its key in upper case: \fBHW_IPMI_PASSWORD\fR,
\fBHW_MSFTOCS_PASSWORD\fR, \fBHW_SASL_PASSWORD\fR, ... (\fBhwctl properties TYPE\fR
marks the secret keys). Keeps secrets off the command line.
.TP
\fBHW_PASSWORD_FILE\fR
Like \fB\-\-password\-file\fR: a file holding the hardware type's secret.
.TP
\fBHWCTL_STATE_DIR\fR
Like \fB\-\-state\-dir\fR: where node state is kept between runs.
.TP
\fBHWCTL_LOG\fR
The log filter (tracing's EnvFilter syntax: \fBdebug\fR, \fBhwctl_ipmi=trace\fR);
when set, it wins over \fB\-v\fR (info) and \fB\-vv\fR (debug); default
\fBwarn\fR. Logs go to stderr; secrets are never logged.
.TP
\fBCOLUMNS\fR
The width tables wrap to when stdout is not a terminal (default 80); on a terminal,
its width.
"#;

/// Writes the man page `hwctl(1)` (roff: name, synopsis, description, the global
/// options, the commands, EXIT STATUS, ENVIRONMENT, the version) to stdout; with
/// `dir`, writes it as `DIR/hwctl.1` with one page per command and subcommand
/// (`hwctl-power.1`, `hwctl-power-on.1`, …, every page a SUBCOMMANDS section names)
/// and prints their paths (`--json`: `{"pages": [...]}`).
///
/// # Errors
///
/// [`ErrorKind::Other`] when a page cannot be rendered, `dir` cannot be created or a
/// page written (the message names the path), or stdout cannot be written.
pub(crate) fn man(dir: Option<&Path>, json: bool) -> Result<()> {
    let Some(dir) = dir else {
        return write_stdout(&man_page()?);
    };
    let cannot = |path: &Path, e: std::io::Error| {
        Error::new(
            ErrorKind::Other,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| cannot(dir, e))?;
    let mut written = Vec::new();
    let main = dir.join("hwctl.1");
    std::fs::write(&main, man_page()?).map_err(|e| cannot(&main, e))?;
    written.push(main);
    // clap_mangen's own pages for every command below the top, named as the
    // SUBCOMMANDS sections name them (the display names `build` sets).
    let mut pending: Vec<clap::Command> = page_command().get_subcommands().cloned().collect();
    while let Some(cmd) = pending.pop() {
        pending.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        if cmd.is_hide_set() {
            continue;
        }
        // A subcommand has no version of its own: name the tool's in the footer.
        let page =
            clap_mangen::Man::new(cmd).source(format!("hwctl {}", env!("CARGO_PKG_VERSION")));
        let path = dir.join(page.get_filename());
        let mut roff = Vec::new();
        page.render(&mut roff).map_err(|e| cannot(&path, e))?;
        std::fs::write(&path, roff).map_err(|e| cannot(&path, e))?;
        written.push(path);
    }
    written.sort();
    let listing = if json {
        let pages: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({ "pages": pages }))
            .unwrap_or_default();
        text.push('\n');
        text
    } else {
        written
            .iter()
            .map(|p| format!("{}\n", p.display()))
            .collect()
    };
    write_stdout(listing.as_bytes())
}

/// The clap definition the pages are rendered from: built (so every subcommand
/// has its display name, `hwctl-power`), without the `help` subcommand, which is no
/// page of its own (`hwctl help CMD` is `hwctl CMD --help`).
fn page_command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The man page's roff. clap_mangen renders the sections generated from the clap
/// definition; EXIT STATUS and ENVIRONMENT, which clap does not describe, are ours.
fn man_page() -> Result<Vec<u8>> {
    let page = clap_mangen::Man::new(page_command());
    let mut out = Vec::new();
    let cannot = |e: std::io::Error| {
        Error::new(ErrorKind::Other, format!("cannot render the man page: {e}"))
    };
    page.render_title(&mut out).map_err(cannot)?;
    page.render_name_section(&mut out).map_err(cannot)?;
    page.render_synopsis_section(&mut out).map_err(cannot)?;
    page.render_description_section(&mut out).map_err(cannot)?;
    page.render_options_section(&mut out).map_err(cannot)?;
    page.render_subcommands_section(&mut out).map_err(cannot)?;
    out.extend_from_slice(EXIT_STATUS.as_bytes());
    out.extend_from_slice(ENVIRONMENT.as_bytes());
    page.render_version_section(&mut out).map_err(cannot)?;
    Ok(out)
}

/// Writes `bytes` to stdout. A reader that stops early (`hwctl man | head`) closes
/// the pipe: that is the reader's choice, not an error.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::new(
            ErrorKind::Other,
            format!("cannot write to stdout: {e}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_has_exit_status_and_environment() {
        let page = String::from_utf8(man_page().expect("renders")).expect("UTF-8");
        for heading in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH OPTIONS",
            ".SH SUBCOMMANDS",
        ] {
            assert!(page.contains(heading), "{heading} missing:\n{page}");
        }
        assert!(
            page.contains("\\fB130\\fR"),
            "exit status 130 missing:\n{page}"
        );
        for var in [
            "HW_\\fIKEY",
            "HW_PASSWORD_FILE",
            "HWCTL_LOG",
            "HWCTL_STATE_DIR",
            "COLUMNS",
        ] {
            assert!(page.contains(var), "{var} missing");
        }
    }
}
