#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ipmitool -I lanplus ... sol activate` (a SOL console nobody here wrote)
//! against our simulator: Activate Payload, SOL packets sealed in the session,
//! acknowledgements, the echo of the simulated serial line, and Deactivate
//! Payload when ipmitool's escape `~.` ends it.
//!
//! Needs the Debian package `ipmitool`: without it the test prints "SKIPPED" — or
//! fails when `HW_REQUIRE_PEERS=1` (CI).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::require;
use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// A bound on anything that could hang (no assertion on how long it took).
const HANG: Duration = Duration::from_secs(30);

async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn ipmitool_sol_activate_sees_the_banner_and_the_echo_on_suites_17_and_3() {
    if !require("ipmitool_sol_activate", &["ipmitool"]) {
        return;
    }
    for suite in ["17", "3"] {
        let bmc = IpmiSim::start(IpmiSimConfig {
            sol_banner: b"\r\nsim login: ".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
        // stdin and stdout are pipes: ipmitool cannot set a pipe to raw mode
        // (it says so on stderr) and goes on reading and writing it.
        let mut child = Command::new("ipmitool")
            .args([
                "-I",
                "lanplus",
                "-H",
                "127.0.0.1",
                "-p",
                &bmc.port().to_string(),
            ])
            .args(["-U", "admin", "-P", "password", "-C", suite])
            .args(["sol", "activate"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("ipmitool runs");
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut read_until = async |want: &[u8], seen: &mut Vec<u8>| {
            tokio::time::timeout(HANG, async {
                while !seen.windows(want.len()).any(|w| w == want) {
                    let mut buf = [0u8; 256];
                    let n = stdout.read(&mut buf).await.unwrap();
                    assert!(
                        n > 0,
                        "suite {suite}: ipmitool ended before {:?}; printed {:?}",
                        String::from_utf8_lossy(want),
                        String::from_utf8_lossy(seen)
                    );
                    seen.extend_from_slice(&buf[..n]);
                }
            })
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "suite {suite}: no {:?} from ipmitool; printed {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(seen)
                )
            });
        };
        read_until(b"sim login: ", &mut seen).await;
        assert!(bmc.sol_active());
        stdin.write_all(b"root\r").await.unwrap();
        stdin.flush().await.unwrap();
        read_until(b"sim login: root\r", &mut seen).await;
        assert_eq!(bmc.sol_received(), b"root\r");
        // A line of more than one packet's worth (the simulator's 251 characters).
        let long: Vec<u8> = (0..600u32).map(|i| b'a' + (i % 26) as u8).collect();
        stdin.write_all(&long).await.unwrap();
        stdin.write_all(b"\r").await.unwrap();
        stdin.flush().await.unwrap();
        let mut want = long.clone();
        want.push(b'\r');
        read_until(&want, &mut seen).await;
        // ipmitool's escape: `~.` after a newline ends the session (Deactivate
        // Payload, then Close Session).
        stdin.write_all(b"~.").await.unwrap();
        stdin.flush().await.unwrap();
        let status = tokio::time::timeout(HANG, child.wait())
            .await
            .expect("ipmitool exits after ~.")
            .unwrap();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err).await;
        }
        assert!(status.success(), "suite {suite}: {status}; stderr {err}");
        eventually("SOL deactivated by ipmitool", || !bmc.sol_active()).await;
        let s = bmc.stats();
        assert_eq!((s.sol_activations, s.sol_deactivations), (1, 1), "{s:?}");
        assert_eq!(s.sol_oversized, 0, "{s:?}");
    }
}
