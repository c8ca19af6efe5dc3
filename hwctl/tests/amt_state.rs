//! `hwctl` against the AMT simulator: a boot device set in one run is applied by
//! power-ons in later runs (state kept in `--state-dir`).
#![allow(clippy::unwrap_used)]

use std::process::Command;

use hwctl_amt::sim::{AmtSim, AmtSimConfig};

fn hwctl(state: &std::path::Path, port: u16, args: &[&str]) -> String {
    let port = format!("amt_port={port}");
    let state = state.to_str().unwrap();
    let mut all = vec![
        "--state-dir",
        state,
        "--driver",
        "staging-amt",
        "--node-id",
        "nuc-1",
        "--info",
        "amt_address=127.0.0.1",
        "--info",
        &port,
        "--info",
        "amt_username=admin",
        "--info",
        "amt_password=P@ssw0rd",
    ];
    all.extend_from_slice(args);
    let o = {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    }
    .args(&all)
    .output()
    .unwrap();
    assert!(
        o.status.success(),
        "hwctl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_pxe_across_separate_runs_and_two_power_cycles() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let port = sim.addr().port();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_owned();
    let run = move |args: &'static [&'static str]| {
        let state = state.clone();
        tokio::task::spawn_blocking(move || hwctl(&state, port, args))
    };
    assert!(run(&["power", "status"]).await.unwrap().contains("off"));
    run(&["boot", "set", "pxe", "--persistent"]).await.unwrap();
    for _ in 0..2 {
        run(&["power", "on"]).await.unwrap();
        run(&["power", "off"]).await.unwrap();
    }
    run(&["power", "reboot"]).await.unwrap();
    assert!(run(&["power", "status"]).await.unwrap().contains("on"));
    let got = run(&["boot", "get"]).await.unwrap();
    assert!(
        got.contains("pxe") && got.contains("persistent: yes"),
        "{got}"
    );
    assert_eq!(sim.boots(), ["pxe", "pxe", "pxe"]);

    // A one-time device is used by the next power on only.
    run(&["power", "off"]).await.unwrap();
    run(&["boot", "set", "cdrom"]).await.unwrap();
    run(&["power", "on"]).await.unwrap();
    run(&["power", "reboot"]).await.unwrap();
    assert_eq!(sim.boots(), ["pxe", "pxe", "pxe", "cdrom", "disk"]);
}

/// Wake-on-LAN's recorded power state goes to the same state directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wol_power_state_is_kept_across_runs() {
    let sim = hwctl_wol::sim::WolSim::start().await.unwrap();
    let port = sim.addr().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap().to_owned();
    let run = move |action: &'static str| {
        let (state, port) = (state.clone(), port.clone());
        tokio::task::spawn_blocking(move || {
            let o = {
                // Node state (AMT boot devices, WoL power) goes to a test directory, never
                // to the user's XDG state directory.
                let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
                c.env(
                    "HWCTL_STATE_DIR",
                    std::env::temp_dir().join("hwctl-test-state"),
                );
                c
            }
            .args([
                "--state-dir",
                &state,
                "--driver",
                "staging-wol",
                "--node-id",
                "wol-1",
                "--port",
                "52:54:00:cf:2d:31",
                "--info",
                "wol_host=127.0.0.1",
                "--info",
                &format!("wol_port={port}"),
                "power",
                action,
            ])
            .output()
            .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).into_owned()
        })
    };
    assert!(run("status").await.unwrap().contains("unknown"));
    run("on").await.unwrap();
    let s = run("status").await.unwrap();
    assert!(s.contains("on"), "{s}");
}
