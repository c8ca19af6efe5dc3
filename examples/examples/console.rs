//! A node's serial console through the registry: build an IPMI node from its
//! Ironic-style `driver_info`, open its console (IPMI Serial over LAN), wait for
//! the login prompt, type a line, and end the session.
//!
//! Runs against the built-in IPMI simulator, whose serial line prints a banner and
//! echoes what it is sent, so no hardware is needed:
//!
//! ```sh
//! cargo run -p hwctl-examples --example console
//! ```
//!
//! In a crate of your own it needs tokio's `io-util` feature for the read and
//! write helpers (`AsyncReadExt`, `AsyncWriteExt`) and `time` for the timeout:
//!
//! ```toml
//! hwctl-core = "0.1"
//! hwctl-ipmi = { version = "0.1", features = ["sim"] }
//! tokio = { version = "1", features = ["macros", "rt", "io-util", "time"] }
//! ```
#![allow(clippy::print_stdout)]

use std::time::Duration;

use hwctl_core::{ConsoleHandle, Error, ErrorKind, NodeContext, Registry};
use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest the example waits for the console to print what it expects.
const WAIT: Duration = Duration::from_secs(10);

/// Reads from `console` until what it printed ends with `want`, for at most
/// [`WAIT`]; returns everything read.
///
/// # Errors
///
/// `Timeout` when `want` does not come within [`WAIT`]; `Other` when the stream
/// ends first (the device ended the session) or a read fails.
async fn read_until(console: &mut ConsoleHandle, want: &[u8]) -> hwctl_core::Result<Vec<u8>> {
    let mut seen = Vec::new();
    let read = async {
        let mut buf = [0u8; 512];
        while !seen.ends_with(want) {
            let n = console
                .read(&mut buf)
                .await
                .map_err(|e| Error::new(ErrorKind::Other, format!("console read: {e}")))?;
            if n == 0 {
                return Err(Error::new(ErrorKind::Other, "the console ended"));
            }
            seen.extend_from_slice(&buf[..n]);
        }
        Ok(())
    };
    tokio::time::timeout(WAIT, read).await.map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "no {:?} on the console within {WAIT:?}",
                String::from_utf8_lossy(want)
            ),
        )
    })??;
    Ok(seen)
}

/// Opens the console of the simulated BMC `bmc` through a registry, waits for its
/// login prompt, types `root` and reads the echo back; then ends the session.
/// Returns what the console printed.
///
/// # Errors
///
/// Whatever building the node, opening the console (`Busy` when another console
/// holds Serial over LAN) or [`read_until`] returns.
async fn log_in(bmc: &IpmiSim) -> hwctl_core::Result<String> {
    let mut registry = Registry::new();
    registry.register(hwctl_ipmi::hardware_type());
    // An orchestrator would take these from its inventory (`driver`, `driver_info`).
    let info = bmc.driver_info();
    let node = registry.build("ipmi", &info, &NodeContext::new("node-1"))?;

    let mut console = node.console()?.open().await?;
    let mut printed = read_until(&mut console, b"login: ").await?;
    let io = |e: std::io::Error| Error::new(ErrorKind::Other, format!("console write: {e}"));
    console.write_all(b"root\r").await.map_err(io)?;
    printed.extend(read_until(&mut console, b"root\r").await?);
    // Ends Serial over LAN and the session, so the next console gets in.
    console.shutdown().await.map_err(io)?;
    Ok(String::from_utf8_lossy(&printed).into_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> hwctl_core::Result<()> {
    let bmc = IpmiSim::start(IpmiSimConfig {
        sol_banner: b"\r\nsim login: ".to_vec(),
        ..Default::default()
    })
    .await?;
    let printed = log_in(&bmc).await?;
    println!("the console printed {printed:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_prompt_and_the_echo_are_read_and_the_session_ends() {
        let bmc = IpmiSim::start(IpmiSimConfig {
            sol_banner: b"\r\nsim login: ".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
        let printed = log_in(&bmc).await.unwrap();
        assert_eq!(printed, "\r\nsim login: root\r");
        // What the BMC's serial line received, and no console left active.
        assert_eq!(bmc.sol_received(), b"root\r");
        assert!(!bmc.sol_active());
    }
}
