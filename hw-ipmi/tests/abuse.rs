#![allow(clippy::unwrap_used)]
//! The simulator under abuse (issue 17, item 5): an unauthenticated flood of Open
//! Session requests must not lock users out of the default simulator; the 60 s
//! lock-out of many real BMCs stays available as a fault.

use std::time::{Duration, Instant};

use hwctl_core::ErrorKind;
use hwctl_ipmi::IpmiClient;
use hwctl_ipmi::sim::{Fault, IpmiSim, IpmiSimConfig};
use tokio::net::UdpSocket;

/// An Open Session Request for suite 3 from console session `id`, as an
/// unauthenticated stranger sends it (never followed by RAKP 1).
fn open_session(id: u32) -> Vec<u8> {
    let mut p = vec![
        0x06, 0x00, 0xFF, 0x07, 0x06, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0,
    ];
    p.extend([id as u8, 0x04, 0, 0]);
    p.extend(id.to_le_bytes());
    for (ty, alg) in [(0u8, 1u8), (1, 1), (2, 1)] {
        p.extend([ty, 0, 0, 8, alg, 0, 0, 0]);
    }
    p
}

/// Sends `n` Open Session requests and waits for their answers; returns how many
/// were accepted (status 0).
async fn flood(bmc: &IpmiSim, n: u32) -> usize {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.connect(bmc.addr()).await.unwrap();
    let mut accepted = 0;
    for i in 0..n {
        s.send(&open_session(0x1000 + i)).await.unwrap();
        let mut buf = [0u8; 128];
        let got = tokio::time::timeout(Duration::from_secs(2), s.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        if got > 17 && buf[17] == 0 {
            accepted += 1;
        }
    }
    accepted
}

#[tokio::test]
async fn an_open_session_flood_does_not_lock_users_out() {
    let bmc = IpmiSim::start(IpmiSimConfig::default()).await.unwrap();
    // Twice the table, every one accepted: half-open slots are reclaimed.
    assert_eq!(flood(&bmc, 32).await, 32);
    let started = Instant::now();
    let c = IpmiClient::new(bmc.config());
    let r = c.raw(0x06, 0x01, &[]).await.unwrap();
    assert_eq!(r.cc, 0);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(bmc.stats().half_open_reclaimed >= 16, "{:?}", bmc.stats());
    // And the flood cannot take an authenticated session's slot.
    assert_eq!(flood(&bmc, 32).await, 32);
    assert_eq!(c.raw(0x06, 0x01, &[]).await.unwrap().cc, 0);
    assert_eq!(bmc.stats().sessions_opened, 1);
}

#[tokio::test]
async fn half_open_sessions_expire_quickly_by_themselves() {
    let bmc = IpmiSim::start(IpmiSimConfig {
        half_open_timeout: Duration::from_millis(200),
        ..Default::default()
    })
    .await
    .unwrap();
    bmc.set_fault(Fault::HoldHalfOpenSessions);
    assert_eq!(flood(&bmc, 16).await, 16);
    bmc.set_fault(Fault::None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Expired, not reclaimed: the table emptied itself.
    let c = IpmiClient::new(bmc.config());
    assert_eq!(c.raw(0x06, 0x01, &[]).await.unwrap().cc, 0);
    assert_eq!(bmc.stats().half_open_reclaimed, 0);
}

#[tokio::test]
async fn the_real_bmc_lock_out_is_an_optional_fault() {
    let bmc = IpmiSim::start(IpmiSimConfig::default()).await.unwrap();
    bmc.set_fault(Fault::HoldHalfOpenSessions);
    assert_eq!(flood(&bmc, 20).await, 16);
    let mut cfg = bmc.config();
    cfg.command_retry_timeout = Duration::from_secs(1);
    let err = IpmiClient::new(cfg).raw(0x06, 0x01, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
}
