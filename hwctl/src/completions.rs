//! `hwctl completions SHELL` and `hwctl man`: shell completion scripts
//! (`clap_complete`) and the `hwctl(1)` man page (`clap_mangen`), generated from the
//! clap definition the parser itself uses, so they never drift from the real options.

use std::io::Write;

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

/// Writes the man page `hwctl(1)` (roff: name, synopsis, description, the global
/// options, the commands, the version) to stdout.
///
/// # Errors
///
/// [`ErrorKind::Other`] when the page cannot be rendered or stdout cannot be written.
pub(crate) fn man() -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::new(ErrorKind::Other, format!("cannot render the man page: {e}")))?;
    write_stdout(&out)
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
