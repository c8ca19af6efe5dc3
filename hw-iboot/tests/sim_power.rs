#![allow(clippy::unwrap_used)]
//! hwctl-iboot against its simulator: every operation, every fault, concurrency, validation.

use std::time::{Duration, Instant};

use hwctl_core::{
    DriverInfo, ErrorKind, NodeContext, Power, PowerExt, PowerState, PowerTarget, SecretString,
};
use hwctl_iboot::sim::{Fault, IbootSim};
use hwctl_iboot::{IbootConfig, IbootPower};
use serde_json::{Value, json};

const USER: &str = "admin";
const PASS: &str = "pw-secret";

fn info(sim: &IbootSim, relay: u8, extra: Value) -> DriverInfo {
    let mut v = json!({
        "iboot_address": "127.0.0.1",
        "iboot_port": sim.addr().port(),
        "iboot_username": USER,
        "iboot_password": PASS,
        "iboot_relay_id": relay,
        "iboot_timeout": 0.3,
        "iboot_max_retry": 2,
        "iboot_retry_interval": 0.01,
        "iboot_reboot_delay": 0.05,
    });
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    DriverInfo::from_json(v).unwrap()
}

fn node(sim: &IbootSim, relay: u8, extra: Value) -> std::sync::Arc<dyn Power> {
    hwctl_iboot::hardware_type()
        .build(
            &info(sim, relay, extra),
            &NodeContext::new(format!("relay-{relay}")),
        )
        .unwrap()
        .power()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn on_off_status_drive_relay_three_only() {
    let sim = IbootSim::start(8, USER, PASS).await.unwrap();
    let p = node(&sim, 3, json!({}));
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::Off);
    p.power_on().await.unwrap();
    assert_eq!(
        sim.relays(),
        [false, false, true, false, false, false, false, false]
    );
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::On);
    let changes = sim.changes();
    p.power_on().await.unwrap();
    assert_eq!(
        sim.changes(),
        changes,
        "power on when on leaves the relay alone"
    );
    p.power_off().await.unwrap();
    assert_eq!(sim.relay(3), Some(false));
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::Off);
    // Someone switches it by hand: status follows the device.
    sim.set_relay(3, true);
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::On);
    assert_eq!(sim.sequence_errors(), 0);
    assert_eq!(sim.auth_failures(), 0);
    assert!(sim.connections() >= 8, "one connection per operation");
}

#[tokio::test]
async fn reboot_goes_off_waits_and_comes_back_on() {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 2, json!({"iboot_reboot_delay": 0.2}));
    // From off: just on, no delay.
    let t = Instant::now();
    p.reboot().await.unwrap();
    assert_eq!(sim.relay(2), Some(true));
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "reboot from off waited"
    );
    let changes = sim.changes();
    let t = Instant::now();
    p.reboot().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "reboot delay not honoured"
    );
    assert_eq!(sim.changes(), changes + 2, "off then on");
    assert_eq!(sim.relay(2), Some(true));
}

/// A reboot whose pause would outlast the caller's deadline is refused before the
/// relay is touched: cut while the relay was off, it left the node switched off
/// (a newcomer's `power reboot --timeout 3` with the default 5 s delay). The old
/// code switched the relay off and the deadline cut the pause: relay off.
#[tokio::test]
async fn a_reboot_that_cannot_finish_in_time_leaves_the_relay_alone() {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 2, json!({"iboot_reboot_delay": 3}));
    sim.set_relay(2, true);
    let changes = sim.changes();
    let e = p
        .set_power_state(PowerTarget::Reboot, Some(Duration::from_secs(2)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(!e.is_retryable(), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("nothing was switched"), "{msg}");
    assert!(msg.contains("iboot_reboot_delay (3.0 s)"), "{msg}");
    assert_eq!(sim.relay(2), Some(true), "the relay was left as it was");
    assert_eq!(sim.changes(), changes, "no CHANGE_RELAY was sent");
    // With room for the pause and the switches, the same reboot runs.
    let p = node(&sim, 2, json!({"iboot_reboot_delay": 0.2}));
    p.set_power_state(PowerTarget::Reboot, Some(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(sim.changes(), changes + 2, "off then on");
    assert_eq!(sim.relay(2), Some(true));
}

#[tokio::test]
async fn sequence_numbers_follow_the_device_including_wraparound() {
    let sim = IbootSim::start(2, USER, PASS).await.unwrap();
    sim.set_sequence(0xfffe);
    let p = node(&sim, 1, json!({}));
    p.power_on().await.unwrap(); // read, change, confirm: 0xffff, 0x0000, 0x0001
    assert_eq!(sim.sequence(), 1);
    assert_eq!(sim.sequence_errors(), 0);
}

#[tokio::test]
async fn wrong_credentials_are_a_typed_error() {
    let sim = IbootSim::start(2, USER, PASS).await.unwrap();
    let p = node(&sim, 1, json!({"iboot_password": "Xyzzy-pw"}));
    let e = p.get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    // The closed connection names its likeliest cause (it read only "closed the
    // connection after 0 of 1 bytes of the reply"), never the password.
    assert!(
        e.to_string()
            .contains("check iboot_username and iboot_password"),
        "{e}"
    );
    assert!(!e.to_string().contains("Xyzzy"), "{e}");
    let config = IbootConfig::new("127.0.0.1", USER, SecretString::from("Xyzzy-pw"))
        .unwrap()
        .with_port(sim.addr().port())
        .with_timeout(Duration::from_millis(300));
    let e = IbootPower::new(config.clone())
        .client()
        .change_relay(1, true)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceFault, "{e}");
    assert!(e.to_string().contains("credentials"));
    assert!(!e.to_string().contains("Xyzzy") && !format!("{e:?}").contains("Xyzzy"));
    assert!(sim.auth_failures() >= 2);
    assert_eq!(sim.relay(1), Some(false));
}

/// Newcomer report: a wrong password reads as a `protocol` error, not
/// `unauthenticated`. DxP has no answer for wrong credentials (python-iboot, the
/// only source, reads an empty reply as a failure): a PDU that refuses them and one
/// that drops the exchange for another reason look the same on the wire, so the
/// client cannot claim `Unauthenticated`; it says `Protocol` and names the
/// credentials as the likeliest cause, for both.
#[tokio::test]
async fn wrong_credentials_cannot_be_told_from_a_dropped_exchange() {
    let sim = IbootSim::start(2, USER, PASS).await.unwrap();
    let wrong = node(&sim, 1, json!({"iboot_password": "Xyzzy-pw"}))
        .get_power_state()
        .await
        .unwrap_err();
    let right = node(&sim, 1, json!({}));
    sim.set_fault(Fault::RefuseAfterHandshake);
    let dropped = right.get_power_state().await.unwrap_err();
    for e in [&wrong, &dropped] {
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
        assert!(!e.is_retryable(), "{e}");
        assert!(
            e.to_string()
                .contains("check iboot_username and iboot_password"),
            "{e}"
        );
    }
    assert_eq!(wrong.to_string(), dropped.to_string());
}

async fn fault_kind(fault: Fault, op: &str) -> (ErrorKind, Duration, usize) {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 1, json!({}));
    sim.set_fault(fault);
    let t = Instant::now();
    let r = match op {
        "status" => p.get_power_state().await.map(drop),
        _ => {
            p.set_power_state(PowerTarget::On, Some(Duration::from_secs(10)))
                .await
        }
    };
    let e = r.expect_err("a fault must fail");
    assert_eq!(e.driver(), Some("staging-iboot"));
    assert!(e.operation().is_some(), "{e:?}");
    (e.kind(), t.elapsed(), sim.connections())
}

#[tokio::test]
async fn silence_is_a_timeout_retried_then_reported() {
    let (kind, took, conns) = fault_kind(Fault::Silence, "status").await;
    assert_eq!(kind, ErrorKind::Timeout);
    // 1 + 2 retries of 0.3 s each, plus small pauses: bounded, no hang.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(conns, 3, "one attempt and two retries");
}

#[tokio::test]
async fn silence_is_reported_in_plain_words() {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 1, json!({}));
    sim.set_fault(Fault::Silence);
    let e = p.get_power_state().await.unwrap_err();
    let text = e.to_string();
    assert!(!text.contains("no the "), "{text}");
    assert!(
        text.contains("the sequence number did not arrive within")
            || text.contains("the reply did not arrive within"),
        "{text}"
    );
}

#[tokio::test]
async fn short_reply_is_a_protocol_error() {
    let (kind, took, conns) = fault_kind(Fault::ShortReply, "status").await;
    assert_eq!(kind, ErrorKind::Protocol);
    assert!(took < Duration::from_secs(1));
    assert_eq!(conns, 1, "protocol errors are not retried");
}

#[tokio::test]
async fn wrong_reply_is_a_protocol_error() {
    assert_eq!(
        fault_kind(Fault::WrongReply, "status").await.0,
        ErrorKind::Protocol
    );
    // CHANGE_RELAY answered "ERROR": the state read succeeds first, so put the fault
    // on the change only by reading state before injecting.
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = IbootPower::new(
        IbootConfig::new("127.0.0.1", USER, SecretString::from(PASS))
            .unwrap()
            .with_port(sim.addr().port()),
    );
    sim.set_fault(Fault::WrongReply);
    let e = p.client().change_relay(1, true).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn refuse_after_handshake_is_a_protocol_error() {
    let (kind, _, _) = fault_kind(Fault::RefuseAfterHandshake, "on").await;
    assert_eq!(kind, ErrorKind::Protocol);
}

#[tokio::test]
async fn rejected_change_is_a_device_fault() {
    let (kind, _, _) = fault_kind(Fault::RejectChange, "on").await;
    assert_eq!(kind, ErrorKind::DeviceFault);
}

#[tokio::test]
async fn a_stuck_relay_is_a_power_state_failure_after_the_configured_reads() {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 1, json!({"iboot_max_retry": 3}));
    sim.set_fault(Fault::StuckRelays);
    let before = sim.connections();
    let e = p.power_on().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PowerStateFailure, "{e}");
    // 1 status read + 1 change + 4 confirming reads.
    assert_eq!(sim.connections() - before, 6);
}

#[tokio::test]
async fn the_callers_timeout_bounds_everything() {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 1, json!({"iboot_timeout": 5, "iboot_max_retry": 5}));
    sim.set_fault(Fault::Silence);
    let t = Instant::now();
    let e = p
        .set_power_state(PowerTarget::On, Some(Duration::from_millis(400)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_dead_endpoint_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = IbootPower::new(
        IbootConfig::new("127.0.0.1", USER, SecretString::from(PASS))
            .unwrap()
            .with_port(port)
            .with_retries(1, Duration::from_millis(10)),
    );
    let e = p.get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains(&port.to_string()));
}

#[tokio::test]
async fn a_relay_the_pdu_does_not_have_is_not_found() {
    let sim = IbootSim::start(4, USER, PASS).await.unwrap();
    let p = node(&sim, 6, json!({}));
    assert_eq!(
        p.get_power_state().await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn soft_targets_are_unsupported() {
    let sim = IbootSim::start(1, USER, PASS).await.unwrap();
    let p = node(&sim, 1, json!({}));
    for t in [PowerTarget::SoftOff, PowerTarget::SoftReboot] {
        assert_eq!(
            p.set_power_state(t, None).await.unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
    assert_eq!(sim.connections(), 0, "refused without touching the device");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_on_one_pdu_never_overlap_a_handshake() {
    let sim = IbootSim::start(8, USER, PASS).await.unwrap();
    sim.set_latency(Duration::from_millis(15));
    let nodes: Vec<_> = (1..=8u8).map(|r| node(&sim, r, json!({}))).collect();
    let ops = nodes.iter().map(|p| async move {
        p.power_on().await?;
        p.get_power_state().await?;
        p.power_off().await
    });
    for r in futures::future::join_all(ops).await {
        r.unwrap();
    }
    assert_eq!(sim.relays(), vec![false; 8]);
    assert!(sim.connections() >= 8 * 6);
    assert_eq!(
        sim.peak_concurrent_sessions(),
        1,
        "two handshakes overlapped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_simulator_does_see_overlap_when_clients_do_not_serialize() {
    // The control for the test above: raw concurrent sessions are counted.
    let sim = IbootSim::start(2, USER, PASS).await.unwrap();
    sim.set_latency(Duration::from_millis(100));
    let a = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let b = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sim.peak_concurrent_sessions(), 2);
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn different_pdus_run_in_parallel() {
    let s1 = IbootSim::start(1, USER, PASS).await.unwrap();
    let s2 = IbootSim::start(1, USER, PASS).await.unwrap();
    s1.set_latency(Duration::from_millis(200));
    s2.set_latency(Duration::from_millis(200));
    let (p1, p2) = (node(&s1, 1, json!({})), node(&s2, 1, json!({})));
    let t = Instant::now();
    let (a, b) = tokio::join!(p1.get_power_state(), p2.get_power_state());
    a.unwrap();
    b.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(390),
        "PDUs were serialized: {:?}",
        t.elapsed()
    );
}

#[test]
fn validation_reports_every_problem_and_never_the_password() {
    let secret = "this-password-is-too-long-to-fit";
    let info = DriverInfo::from_json(json!({
        "iboot_address": "bad$host",
        "iboot_username": "u".repeat(21),
        "iboot_password": secret,
        "iboot_relay_id": "x",
        "iboot_port": 70000,
        "iboot_timeout": 0,
        "iboot_max_retry": 99,
        "iboot_retry_interval": "soon",
        "iboot_reboot_delay": -1,
    }))
    .unwrap();
    let e = hwctl_iboot::hardware_type()
        .build(&info, &NodeContext::new("n"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let mut names: Vec<&str> = e.problems().iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "iboot_address",
            "iboot_max_retry",
            "iboot_password",
            "iboot_port",
            "iboot_reboot_delay",
            "iboot_relay_id",
            "iboot_retry_interval",
            "iboot_timeout",
            "iboot_username"
        ]
    );
    assert!(!e.to_string().contains(secret) && !format!("{e:?}").contains(secret));
    assert!(e.to_string().contains("bad$host") && e.to_string().contains("70000"));

    let ok = DriverInfo::from_pairs([
        ("iboot_address", "pdu-1.example.com"),
        ("iboot_username", "admin"),
        ("iboot_password", " spaced pw "),
    ]);
    let c = IbootConfig::from_driver_info(&ok, &NodeContext::new("n")).unwrap();
    assert_eq!((c.port, c.relay_id, c.max_retry), (9100, 1, 3));
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.retry_interval, Duration::from_secs(1));
    assert_eq!(c.reboot_delay, Duration::from_secs(5));
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("spaced") && dbg.contains("REDACTED"), "{dbg}");
    assert!(IbootConfig::new("h", "u", SecretString::from("x".repeat(21))).is_err());
    let power = IbootPower::new(c);
    let dbg = format!("{power:?}");
    assert!(!dbg.contains("spaced") && dbg.contains("admin"), "{dbg}");
}

/// Newcomer report: a credential of the wrong JSON type read
/// `[missing-parameter] staging-iboot: missing parameters: iboot_password`.
#[test]
fn a_credential_of_the_wrong_type_is_invalid_not_missing() {
    for (key, value, what) in [
        ("iboot_password", json!(["hunter2"]), "an array"),
        ("iboot_password", json!({"pw": "hunter2"}), "an object"),
        ("iboot_username", json!(["hunter2"]), "an array"),
        ("iboot_address", json!(["hunter2"]), "an array"),
        ("iboot_address", json!(42), "a number"),
    ] {
        let mut info = json!({
            "iboot_address": "10.0.0.5", "iboot_username": "admin", "iboot_password": "pw",
        });
        info[key] = value;
        let e = hwctl_iboot::hardware_type()
            .build(
                &DriverInfo::from_json(info).unwrap(),
                &NodeContext::new("n"),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{key}: {e}");
        assert_eq!(
            e.to_string(),
            format!("staging-iboot: invalid parameters: {key}: must be a string, not {what}")
        );
        assert!(!format!("{e:?}").contains("hunter2"));
    }
    // Credentials are still taken as given, spaces and all.
    let info = DriverInfo::from_pairs([
        ("iboot_address", "pdu"),
        ("iboot_username", " admin "),
        ("iboot_password", " pw "),
    ]);
    let c = IbootConfig::from_driver_info(&info, &NodeContext::new("n")).unwrap();
    assert_eq!(c.username, " admin ");
}

#[tokio::test]
async fn dropping_the_simulator_ends_sessions_in_progress() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = IbootSim::start(2, USER, PASS).await.unwrap();
    sim.set_latency(Duration::from_millis(300));
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(b"hello-000").await.unwrap();
    let t = Instant::now();
    while sim.connections() == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "never accepted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(sim);
    let mut after = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut after))
        .await
        .expect("the session outlived the simulator");
    assert!(
        r.is_err() || after.is_empty(),
        "a dropped simulator answered: {after:?}"
    );
}
