#![allow(clippy::unwrap_used)]
//! Real peer: Debian's `wakeonlan` sends to our simulator; its packet must equal ours
//! byte for byte, and ours must equal what the simulator decodes.
//!
//! Needs `wakeonlan` (apt). Without it the test prints a SKIPPED line, or fails when
//! `HW_REQUIRE_PEERS=1` (as in CI).

use std::time::Duration;

use hwctl_core::{MacAddress, NodeContext, PowerExt};
use hwctl_wol::sim::WolSim;
use tokio::process::Command;

fn peer_available() -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("wakeonlan").is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("HW_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("wakeonlan is not installed and HW_REQUIRE_PEERS=1 (apt-get install wakeonlan)");
        }
        eprintln!("SKIPPED: wakeonlan not installed (apt-get install wakeonlan)");
    }
    found
}

async fn wakeonlan(sim: &WolSim, mac: &str) {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        Command::new("wakeonlan")
            .args(["-i", "127.0.0.1", "-p", &sim.addr().port().to_string(), mac])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("wakeonlan did not finish within 20 s")
    .unwrap();
    assert!(out.status.success(), "wakeonlan failed: {out:?}");
}

#[tokio::test]
async fn wakeonlan_packets_equal_ours_byte_for_byte() {
    if !peer_available() {
        return;
    }
    let sim = WolSim::start().await.unwrap();
    // Several MACs, in notations wakeonlan accepts (it takes colons or bare hex).
    let macs = [
        "52:54:00:cf:2d:31",
        "02:1a:2b:3c:4d:5e",
        "ff:ee:dd:cc:bb:aa",
    ];
    for m in macs {
        wakeonlan(&sim, m).await;
    }
    let theirs = sim
        .wait_for_packets(macs.len(), Duration::from_secs(5))
        .await;
    assert_eq!(
        theirs.len(),
        macs.len(),
        "wakeonlan's packets did not all arrive"
    );
    sim.clear();

    let mut ctx = NodeContext::new("peer");
    for m in macs {
        ctx = ctx.with_port(m.parse::<MacAddress>().unwrap());
    }
    let info = hwctl_core::DriverInfo::from_json(serde_json::json!({
        "wol_host": "127.0.0.1", "wol_port": sim.addr().port(), "wol_packet_interval_ms": 0
    }))
    .unwrap();
    let node = hwctl_wol::hardware_type().build(&info, &ctx).unwrap();
    node.power().unwrap().power_on().await.unwrap();
    let ours = sim
        .wait_for_packets(macs.len(), Duration::from_secs(5))
        .await;
    assert_eq!(ours.len(), macs.len());

    for ((t, o), m) in theirs.iter().zip(&ours).zip(macs) {
        assert_eq!(
            t.problem, None,
            "wakeonlan's packet for {m} is malformed? {:?}",
            t.problem
        );
        assert_eq!(t.bytes, o.bytes, "packets for {m} differ");
        assert_eq!(t.mac, Some(m.parse().unwrap()));
        assert_eq!(
            o.bytes,
            hwctl_wol::wire::magic_packet(m.parse().unwrap()).to_vec()
        );
    }
}
