//! `hwctl console` on an IPMI node: Serial over LAN against the `hwctl-ipmi`
//! simulator BMC (its serial line prints a banner, then echoes what it reads),
//! from a pipe, and a second console while another holds the BMC's SOL.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};

const BANNER: &str = "\r\nsim-ipmi login: ";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A simulated BMC whose serial line prints [`BANNER`], and a node file for it.
fn bmc(rt: &tokio::runtime::Runtime) -> (IpmiSim, tempfile::TempDir) {
    let sim = rt
        .block_on(IpmiSim::start(IpmiSimConfig {
            sol_banner: BANNER.as_bytes().to_vec(),
            ..Default::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let node = serde_json::json!({
        "name": "bmc-1",
        "driver": "ipmi",
        "driver_info": sim.driver_info().as_map(),
    });
    std::fs::write(dir.path().join("bmc.json"), node.to_string()).unwrap();
    (sim, dir)
}

fn hwctl(file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    c.env(
        "HWCTL_STATE_DIR",
        std::env::temp_dir().join("hwctl-test-state"),
    )
    .env_remove("HWCTL_LOG")
    .arg("--info-file")
    .arg(file)
    .arg("console")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    c
}

/// Waits (bounded: a hang fails the test) until `cond` holds.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `printf 'cmd N\r' | hwctl console` on an IPMI node, three times: the banner and
/// the echo of the line are printed, the line reached the serial line, exit 0, and
/// each run deactivated SOL and closed its session on the way out.
#[test]
fn a_piped_console_on_an_ipmi_node_prints_the_echo() {
    let rt = runtime();
    let (sim, dir) = bmc(&rt);
    let file = dir.path().join("bmc.json");
    for i in 0..3u64 {
        let line = format!("cmd {i}\r");
        let mut child = hwctl(&file).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "run {i}: {stderr}");
        assert!(stdout.contains("sim-ipmi login: "), "run {i}: {stdout:?}");
        assert!(
            stdout.contains(line.trim_end()),
            "run {i}: the echo is missing: {stdout:?}"
        );
        assert!(
            String::from_utf8_lossy(&sim.sol_received()).contains(&line),
            "run {i}: the BMC's serial line did not get {line:?}"
        );
        assert!(!sim.sol_active(), "run {i}: SOL left active");
        let s = sim.stats();
        assert_eq!(s.sol_activations, i + 1, "{s:?}");
        assert_eq!(s.sol_deactivations, i + 1, "{s:?}");
        assert_eq!(s.open_sessions, 0, "run {i}: {s:?}");
    }
}

/// While one `hwctl console` holds the BMC's SOL (its stdin still open), a
/// second one is refused as `busy` (exit 1, as every failure that is not a usage
/// or parameter error), naming the driver and Activate Payload; the first one
/// still works and exits 0 once its input ends.
#[test]
fn a_second_console_while_sol_is_held_is_busy() {
    let rt = runtime();
    let (sim, dir) = bmc(&rt);
    let file = dir.path().join("bmc.json");

    let mut first = hwctl(&file).spawn().unwrap();
    eventually("the first console activated SOL", || sim.sol_active());

    let second = hwctl(&file).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error [busy]: ipmi: open console: Activate Payload: "),
        "{stderr}"
    );
    assert!(stderr.contains("already active"), "{stderr}");
    assert_eq!(sim.stats().sol_activations, 1);

    let mut stdin = first.stdin.take().unwrap();
    stdin.write_all(b"still here\r").unwrap();
    drop(stdin);
    let out = first.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("still here"), "{stdout:?}");
    assert!(!sim.sol_active());
}
