#![allow(clippy::unwrap_used)]
//! `ipmitool` (a client nobody here wrote) against our simulator: the simulator's
//! RMCP+ (Get Channel Authentication Capabilities, Open Session, RAKP, key
//! derivation, HMAC-SHA1-96 / HMAC-SHA256-128 integrity, AES-CBC-128), chassis,
//! boot options, SDR and Send Message bridging are checked by an independent
//! implementation. Our own client passes against the same simulator (tests/sim.rs),
//! so this also checks the client transitively.
//!
//! Needs the Debian package `ipmitool`: without it the tests print "SKIPPED" — or
//! fail when `HW_REQUIRE_PEERS=1` (CI).

mod common;

use std::sync::{Arc, Mutex};

use common::{hex_bytes, ipmitool, require};
use hwctl_ipmi::sim::{BridgeReplyStyle, IpmiSim, IpmiSimConfig};
use hwctl_ipmi::{Bridge, CipherSuite, IpmiClient, SuiteChoice};

/// What the satellite controller at (0, 0x72) saw: (netfn, cmd, data).
type Seen = Arc<Mutex<Vec<(u8, u8, Vec<u8>)>>>;

const SAT_DEVICE_ID: [u8; 11] = [
    0x72, 0x81, 0x02, 0x10, 0x02, 0x00, 0x57, 0x01, 0x00, 0x34, 0x12,
];

async fn bmc_with_satellite() -> (IpmiSim, Seen) {
    let bmc = IpmiSim::start(IpmiSimConfig::default()).await.unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    bmc.add_satellite(
        0,
        0x72,
        Arc::new(move |netfn: u8, cmd: u8, data: &[u8]| {
            log.lock().unwrap().push((netfn, cmd, data.to_vec()));
            match (netfn, cmd) {
                (0x06, 0x01) => (0, SAT_DEVICE_ID.to_vec()),
                // An OEM command answers its data reversed.
                (0x2E, _) => (0, data.iter().rev().copied().collect()),
                _ => (0xC1, Vec::new()),
            }
        }),
    );
    (bmc, seen)
}

async fn admin(bmc: &IpmiSim, suite: u8, args: &[&str]) -> String {
    ipmitool(bmc.port(), "admin", "password", suite, args)
        .await
        .out(&format!("-C {suite} {args:?}"))
}

#[tokio::test]
async fn ipmitool_drives_the_simulator_on_suites_17_and_3() {
    if !require("ipmitool_drives_the_simulator", &["ipmitool"]) {
        return;
    }
    for suite in [17u8, 3] {
        let (bmc, seen) = bmc_with_satellite().await;
        let mut runs = 0u64;
        let mut run = async |args: &[&str]| {
            runs += 1;
            admin(&bmc, suite, args).await
        };

        assert!(
            run(&["chassis", "power", "status"])
                .await
                .contains("Chassis Power is off")
        );
        assert!(run(&["chassis", "power", "on"]).await.contains("Up/On"));
        assert!(
            bmc.power_on(),
            "suite {suite}: ipmitool's power on reached the BMC"
        );
        assert!(
            run(&["chassis", "power", "status"])
                .await
                .contains("Chassis Power is on")
        );
        assert!(run(&["chassis", "power", "off"]).await.contains("Down/Off"));
        assert!(!bmc.power_on());
        assert_eq!(bmc.power_log().controls, vec![0x01, 0x00]);

        assert!(
            run(&["chassis", "bootdev", "pxe"])
                .await
                .contains("Set Boot Device to pxe")
        );
        // Boot flags valid, next boot only, legacy, force PXE (0100b << 2).
        assert_eq!(bmc.boot_flags(), [0x80, 0x04, 0x00, 0x00, 0x00]);
        let bp = run(&["chassis", "bootparam", "get", "5"]).await;
        assert!(bp.contains("Force PXE"), "{bp}");

        // Get Device ID of the BMC itself.
        let id = hex_bytes(&run(&["raw", "0x06", "0x01"]).await);
        assert_eq!(id.len(), 11, "{id:02x?}");
        assert_eq!(id[4], 0x02, "IPMI version 2.0");

        // Bridged with Send Message to the satellite at channel 0, address 0x72.
        let sat = hex_bytes(&run(&["-b", "0", "-t", "0x72", "raw", "0x06", "0x01"]).await);
        assert_eq!(sat, SAT_DEVICE_ID);
        let oem = hex_bytes(
            &run(&[
                "-b", "0", "-t", "0x72", "raw", "0x2e", "0x10", "1", "2", "3",
            ])
            .await,
        );
        assert_eq!(oem, [3, 2, 1]);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(0x06, 0x01, vec![]), (0x2E, 0x10, vec![1, 2, 3])]
        );
        assert_eq!(bmc.stats().bridged, 2);

        // Nobody at 0x74: Send Message fails with 0x83 (NAK), and ipmitool says so.
        let nak = ipmitool(
            bmc.port(),
            "admin",
            "password",
            suite,
            &["-b", "0", "-t", "0x74", "raw", "6", "1"],
        )
        .await;
        runs += 1;
        assert!(!nak.ok && nak.stderr.contains("rsp=0x83"), "{nak:?}");

        // Our client sees the same satellite through Bridge::single.
        let mut cfg = bmc.config();
        cfg.cipher_suite = SuiteChoice::Only(if suite == 17 {
            CipherSuite::Suite17
        } else {
            CipherSuite::Suite3
        });
        let client = IpmiClient::new(cfg);
        let ours = client
            .raw_bridged(&Bridge::single(0, 0x72), 0x06, 0x01, &[])
            .await
            .unwrap();
        assert_eq!((ours.cc, ours.data), (0, SAT_DEVICE_ID.to_vec()));
        client.close().await.unwrap();

        let stats = bmc.stats();
        // Every ipmitool run (and our client) asked Get Channel Authentication
        // Capabilities before Open Session, opened one session and closed it; not
        // one packet of ipmitool's failed our integrity check or decryption.
        assert_eq!(stats.presession, runs + 1, "{stats:?}");
        assert_eq!(stats.sessions_opened, runs + 1, "{stats:?}");
        assert_eq!(stats.sessions_closed, runs + 1, "{stats:?}");
        assert_eq!(stats.open_sessions, 0, "{stats:?}");
        assert_eq!(stats.dropped, 0, "{stats:?}");
        assert_eq!(stats.auth_failures, 0, "{stats:?}");
    }
}

#[tokio::test]
async fn ipmitool_follows_a_separate_bridged_reply() {
    if !require("ipmitool_follows_a_separate_bridged_reply", &["ipmitool"]) {
        return;
    }
    let (bmc, seen) = bmc_with_satellite().await;
    bmc.set_bridge_reply(BridgeReplyStyle::Separate);
    for suite in [17u8, 3] {
        let sat = hex_bytes(
            &admin(
                &bmc,
                suite,
                &["-b", "0", "-t", "0x72", "raw", "0x06", "0x01"],
            )
            .await,
        );
        assert_eq!(sat, SAT_DEVICE_ID, "suite {suite}");
    }
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn ipmitool_reads_the_simulators_sensors() {
    if !require("ipmitool_reads_the_simulators_sensors", &["ipmitool"]) {
        return;
    }
    let bmc = IpmiSim::start(IpmiSimConfig::default()).await.unwrap();
    let list = admin(&bmc, 17, &["sdr", "list"]).await;
    // The default SDR (full sensor records with M, B, R-exp) converted by ipmitool.
    for (name, value) in [
        ("CPU Temp", "45 degrees C"),
        ("FAN1", "5000 RPM"),
        ("12V", "12 Volts"),
        ("PSU1 Power", "240 Watts"),
    ] {
        let line = list
            .lines()
            .find(|l| l.split('|').next().map(str::trim) == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from ipmitool sdr list:\n{list}"));
        assert!(line.contains(value) && line.contains("ok"), "{line}");
    }
    // The compact record of a discrete sensor: ipmitool decodes its entity, type,
    // sensor-specific offset 0 of a power supply ("Presence detected").
    let elist = admin(&bmc, 3, &["sdr", "elist", "compact"]).await;
    let psu = elist
        .lines()
        .find(|l| l.starts_with("PSU1 Status"))
        .unwrap_or_else(|| panic!("PSU1 Status missing from ipmitool sdr elist compact:\n{elist}"));
    assert!(psu.contains("05h") && psu.contains("10.1"), "{psu}");
    assert!(psu.contains("Presence detected"), "{psu}");
    // Our client reads the same values from the same records.
    let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    let ours = ipmi.sensors().await.unwrap();
    let by_name = |n: &str| ours.iter().find(|s| s.name == n).and_then(|s| s.value);
    assert_eq!(by_name("CPU Temp"), Some(45.0));
    assert_eq!(by_name("FAN1"), Some(5000.0));
    assert_eq!(by_name("12V"), Some(12.0));
    assert_eq!(by_name("PSU1 Power"), Some(240.0));
    let psu = ours.iter().find(|s| s.name == "PSU1 Status").unwrap();
    assert_eq!(psu.status, "state 0x0001");
}

#[tokio::test]
async fn ipmitool_meets_the_simulators_privileges_and_passwords() {
    if !require("ipmitool_meets_the_simulators_privileges", &["ipmitool"]) {
        return;
    }
    let bmc = IpmiSim::start(IpmiSimConfig::default()).await.unwrap();
    // A USER session may read but not control the chassis (0xD4).
    let status = ipmitool(
        bmc.port(),
        "viewer",
        "viewer",
        17,
        &["-L", "USER", "chassis", "power", "status"],
    )
    .await;
    assert!(status.out("viewer status").contains("is off"));
    let on = ipmitool(
        bmc.port(),
        "viewer",
        "viewer",
        17,
        &["-L", "USER", "chassis", "power", "on"],
    )
    .await;
    assert!(
        !on.ok && on.stderr.contains("Insufficient privilege"),
        "{on:?}"
    );
    assert!(!bmc.power_on());
    assert_eq!(bmc.stats().privilege_denials, 1);
    // ipmitool names the RMCP+ status codes the simulator sends in RAKP 2.
    let both = |r: common::Run| format!("{}{}", r.stdout, r.stderr);
    // Asking ADMINISTRATOR for a USER account: status 0x09.
    let r = ipmitool(
        bmc.port(),
        "viewer",
        "viewer",
        17,
        &["-v", "chassis", "power", "status"],
    )
    .await;
    assert!(!r.ok && both(r).contains("invalid role"));
    // An unknown user: status 0x0D.
    let r = ipmitool(
        bmc.port(),
        "nobody",
        "x",
        17,
        &["-v", "chassis", "power", "status"],
    )
    .await;
    assert!(!r.ok && both(r).contains("unauthorized name"));
    // A wrong password: ipmitool rejects the simulator's RAKP 2 code, computed with
    // the real password, and never sends RAKP 3.
    for suite in [17u8, 3] {
        let r = ipmitool(
            bmc.port(),
            "admin",
            "wrong",
            suite,
            &["-v", "chassis", "power", "status"],
        )
        .await;
        assert!(!r.ok && both(r).contains("RAKP 2 HMAC is invalid"));
    }
    let stats = bmc.stats();
    assert_eq!(stats.sessions_opened, 2, "{stats:?}");
    assert_eq!(stats.open_sessions, 0, "{stats:?}");
}

/// Issue 14.1, side by side with ipmitool 1.8.19: a BMC that offers only suite 3
/// and silently drops Open Session proposals for 17. Neither client is told a
/// suite; both ask Get Channel Cipher Suites and answer in well under a second.
#[tokio::test]
async fn like_ipmitool_the_suite_comes_from_the_bmcs_list() {
    if !require(
        "like_ipmitool_the_suite_comes_from_the_bmcs_list",
        &["ipmitool"],
    ) {
        return;
    }
    let bmc = IpmiSim::start(IpmiSimConfig {
        suites: vec![3],
        drop_unoffered_suites: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let out = tokio::process::Command::new("ipmitool")
        .args([
            "-I",
            "lanplus",
            "-H",
            "127.0.0.1",
            "-p",
            &bmc.port().to_string(),
        ])
        .args(["-U", "admin", "-P", "password", "-N", "2", "-R", "1"])
        .args(["chassis", "power", "status"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let ipmitool_took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Chassis Power is off"),
        "ipmitool: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cfg = bmc.config();
    cfg.request_timeout = std::time::Duration::from_secs(2);
    let client = IpmiClient::new(cfg);
    let started = std::time::Instant::now();
    assert_eq!(client.read(None, 0x00, 0x01, &[]).await.unwrap().cc, 0);
    let ours = started.elapsed();
    assert_eq!(client.cipher_suite().await, Some(CipherSuite::Suite3));
    assert!(
        ours < std::time::Duration::from_secs(1),
        "hw took {ours:?}, ipmitool {ipmitool_took:?}"
    );
}
