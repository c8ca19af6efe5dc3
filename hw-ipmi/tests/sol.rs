#![allow(clippy::unwrap_used, clippy::expect_used)]
//! IPMI Serial over LAN, client against the crate's own simulator: activation,
//! the echoing serial line, acknowledgements and retransmission, deactivation,
//! busy, silent and hostile BMCs.

use std::time::Duration;

use hwctl_core::{Console, ErrorKind, NodeContext};
use hwctl_ipmi::sim::{Fault, IpmiSim, IpmiSimConfig};
use hwctl_ipmi::{Ipmi, IpmiConfig, IpmiConsole};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// A bound on anything that could hang: a hang fails the test instead of
/// blocking CI (no assertion on how long anything took).
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

async fn bmc_with(cfg: IpmiSimConfig) -> IpmiSim {
    IpmiSim::start(cfg).await.unwrap()
}

fn console(cfg: IpmiConfig) -> IpmiConsole {
    IpmiConsole::new(Ipmi::new(cfg))
}

/// Reads until `want` has been seen; returns everything read.
async fn read_until(stream: &mut (impl AsyncRead + Unpin), want: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(HANG, async {
        while !seen.windows(want.len()).any(|w| w == want) {
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "end of stream before {want:?}; read {seen:?}");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("hung");
    seen
}

#[tokio::test]
async fn open_write_read_the_echo_then_shutdown_deactivates() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    assert!(bmc.sol_active());
    assert_eq!(bmc.stats().sol_activations, 1);
    stream.write_all(b"root\r").await.unwrap();
    let seen = read_until(&mut stream, b"root\r").await;
    assert_eq!(seen, b"root\r");
    assert_eq!(bmc.sol_received(), b"root\r");
    stream.shutdown().await.unwrap();
    // shutdown() waited for Deactivate Payload and Close Session.
    assert!(!bmc.sol_active());
    let s = bmc.stats();
    assert_eq!((s.sol_deactivations, s.open_sessions), (1, 0));
}

#[tokio::test]
async fn the_banner_and_what_the_host_prints_are_read() {
    let bmc = bmc_with(IpmiSimConfig {
        sol_banner: b"\r\nsim login: ".to_vec(),
        ..Default::default()
    })
    .await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    read_until(&mut stream, b"sim login: ").await;
    bmc.sol_print(b"kernel: hello\r\n");
    read_until(&mut stream, b"kernel: hello\r\n").await;
    stream.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_open_while_active_is_busy() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let first = console(bmc.config()).open().await.unwrap();
    let err = console(bmc.config()).open_stream().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("already active"), "{err}");
    assert_eq!(err.driver(), Some("ipmi"));
    // The refused console closed its session: only the first one is left.
    eventually("the refused session closed", || {
        bmc.stats().open_sessions == 1
    })
    .await;
    drop(first);
    // Dropping deactivates in the background; then a new console gets in.
    eventually("SOL deactivated on drop", || !bmc.sol_active()).await;
    let mut again = console(bmc.config()).open().await.unwrap();
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn writes_are_cut_to_the_bmcs_payload_size() {
    let bmc = bmc_with(IpmiSimConfig {
        sol_payload_size: 12, // 8 characters per packet
        ..Default::default()
    })
    .await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    let line: Vec<u8> = (0..100u8).map(|i| b'a' + i % 26).collect();
    stream.write_all(&line).await.unwrap();
    let seen = read_until(&mut stream, &line).await;
    assert_eq!(seen, line);
    assert_eq!(bmc.sol_received(), line);
    let s = bmc.stats();
    assert_eq!(s.sol_oversized, 0);
    assert!(s.sol_packets >= 13, "{s:?}"); // 100 characters, 8 a packet
    stream.shutdown().await.unwrap();
}

#[tokio::test]
async fn lost_packets_are_sent_again_and_taken_once() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    bmc.sol_drop_next(2); // the first send and its first retransmission
    stream.write_all(b"ls\r").await.unwrap();
    stream.flush().await.unwrap(); // acknowledged at last
    let seen = read_until(&mut stream, b"ls\r").await;
    assert_eq!(seen, b"ls\r");
    assert_eq!(bmc.sol_received(), b"ls\r");
    stream.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_packet_the_bmc_sends_twice_is_read_once() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    // The same packet (sequence 9) twice, as after a lost acknowledgement.
    assert!(bmc.sol_send_raw(&[9, 0, 0, 0, b'x']));
    assert!(bmc.sol_send_raw(&[9, 0, 0, 0, b'x']));
    bmc.sol_print(b"end");
    let seen = read_until(&mut stream, b"end").await;
    assert_eq!(seen, b"xend");
    stream.shutdown().await.unwrap();
}

#[tokio::test]
async fn hostile_sol_packets_are_discarded_and_the_console_goes_on() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    let long: Vec<u8> = [4u8, 0, 0, 0]
        .into_iter()
        .chain(std::iter::repeat_n(b'L', 600))
        .collect();
    for p in [
        &[][..],                // shorter than the header
        &[1, 0],                // truncated header
        &[0xF3, 0, 0, 0, b'?'], // sequence number out of range
        &[2, 0xEE, 0, 0, b'?'], // acknowledged number out of range
        &[0, 7, 255, 0],        // acknowledges a packet never sent
        &[0, 0, 0, 0, b'?'],    // characters in an acknowledgement-only packet
        &[3, 0, 0, 0],          // a sequence number and no characters
        &long,                  // more characters than a count can acknowledge
    ] {
        assert!(bmc.sol_send_raw(p));
    }
    // Queued after them: the serial line's next characters.
    bmc.sol_print(b"mark");
    let seen = read_until(&mut stream, b"mark").await;
    // Only the long packet carried characters to take: its first 255 (the
    // count cannot acknowledge more; the BMC sends the rest again).
    let mut want = vec![b'L'; 255];
    want.extend_from_slice(b"mark");
    assert_eq!(seen, want);
    stream.write_all(b"still\r").await.unwrap();
    read_until(&mut stream, b"still\r").await;
    stream.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bmc_that_ends_sol_ends_the_stream() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    assert!(bmc.sol_end());
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(HANG, stream.read(&mut buf))
        .await
        .expect("hung")
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_bmc_that_stops_acknowledging_fails_the_stream_with_a_timeout() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    bmc.set_fault(Fault::Silence);
    stream.write_all(b"x").await.unwrap();
    let mut buf = [0u8; 16];
    let err = tokio::time::timeout(HANG, stream.read(&mut buf))
        .await
        .expect("hung")
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("did not acknowledge"), "{err}");
    // Writing after the failure says why, too.
    let err = stream.write_all(b"y").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
}

#[tokio::test]
async fn an_idle_console_notices_a_dead_bmc_through_its_keepalive() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut cfg = bmc.config();
    cfg.keepalive_interval = Duration::from_millis(200);
    let mut stream = console(cfg).open().await.unwrap();
    bmc.set_fault(Fault::Silence);
    let mut buf = [0u8; 16];
    let err = tokio::time::timeout(HANG, stream.read(&mut buf))
        .await
        .expect("hung")
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("Get Device ID"), "{err}");
}

#[tokio::test]
async fn an_idle_console_keeps_its_session_with_a_live_bmc() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut cfg = bmc.config();
    cfg.keepalive_interval = Duration::from_millis(50);
    let mut stream = console(cfg).open().await.unwrap();
    let before = bmc.stats().requests;
    eventually("keep-alives answered", || {
        bmc.stats().requests >= before + 3
    })
    .await;
    stream.write_all(b"ok").await.unwrap();
    read_until(&mut stream, b"ok").await;
    stream.shutdown().await.unwrap();
}

/// A dead BMC fails `open` within the silence budget (`request_timeout` ×
/// (retries + 1)), as a power read does — not after `ipmi_command_retry_timeout`
/// (60 s here, the default): `retries + 1` datagrams, and the error in the form of
/// every command's (what went unanswered, over how many attempts, the bound).
#[tokio::test]
async fn a_dead_bmc_fails_open_within_the_silence_budget() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    bmc.set_fault(Fault::Silence);
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_millis(100);
    cfg.retries = 2;
    assert_eq!(cfg.command_retry_timeout, Duration::from_secs(60));
    let err = tokio::time::timeout(HANG, console(cfg).open_stream())
        .await
        .expect("hung")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("no reply to Get Channel Authentication Capabilities (session setup step")
            && msg.contains("over 3 attempts (each waiting up to 0.1s; at most 3 silent attempts in a row, ipmi_command_retry_timeout 60s)"),
        "{msg}"
    );
    assert_eq!(err.driver(), Some("ipmi"));
    assert_eq!(bmc.stats().packets, 3, "{msg}");
}

/// A BMC whose session table is full for a moment (RMCP+ status 0x01) is asked
/// again with backoff within `ipmi_command_retry_timeout`, as any command's
/// session setup is; the console opens once a slot is free.
#[tokio::test]
async fn a_full_session_table_is_retried_until_a_slot_is_free() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    bmc.set_session_table_full_for(Duration::from_millis(400));
    let mut stream = tokio::time::timeout(HANG, console(bmc.config()).open_stream())
        .await
        .expect("hung")
        .unwrap();
    // Each attempt starts with two session-less requests (Get Channel
    // Authentication Capabilities, Get Channel Cipher Suites): more than one try.
    assert!(bmc.stats().presession > 2, "{:?}", bmc.stats());
    assert!(bmc.sol_active());
    stream.shutdown().await.unwrap();
}

/// Another console holding SOL (Activate Payload 0x80) is `busy` at once: a
/// person at the console, not a moment's contention, so it is not retried.
#[tokio::test]
async fn sol_held_by_another_session_is_not_retried() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut first = console(bmc.config()).open_stream().await.unwrap();
    let before = bmc.stats();
    let err = console(bmc.config()).open_stream().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    let after = bmc.stats();
    // One attempt: one session set up (then closed), one Activate Payload.
    assert_eq!(after.presession - before.presession, 2, "{err}");
    assert_eq!(after.sessions_opened - before.sessions_opened, 1, "{err}");
    first.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bmc_answering_setup_but_not_commands_fails_open_with_a_timeout() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    bmc.set_fault(Fault::SilentInSession);
    let err = tokio::time::timeout(HANG, console(bmc.config()).open_stream())
        .await
        .expect("hung")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(!bmc.sol_active());
}

#[tokio::test]
async fn the_ipmi_hardware_type_has_a_console() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let ht = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new());
    assert!(
        ht.interfaces()
            .contains(&hwctl_core::InterfaceKind::Console)
    );
    let node = ht
        .build(&bmc.driver_info(), &NodeContext::new("n1"))
        .unwrap();
    let mut stream = node.console().unwrap().open().await.unwrap();
    stream.write_all(b"hi").await.unwrap();
    read_until(&mut stream, b"hi").await;
    stream.shutdown().await.unwrap();
    assert!(!bmc.sol_active());
}

/// A host that takes no characters for a while (the BMC NACKs with "character
/// transfer unavailable", as while the host is off): the packet is sent again
/// for as long as the BMC answers so, and taken once the host is back. It used
/// to count NACKs as silence and fail the console with "did not acknowledge"
/// after `retries + 1` sends.
#[tokio::test]
async fn a_host_taking_no_characters_for_a_while_does_not_fail_the_console() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_millis(50);
    cfg.retries = 1; // two sends of a packet met with silence at most
    let mut stream = console(cfg).open().await.unwrap();
    bmc.sol_set_unavailable(true);
    let before = bmc.stats().sol_packets;
    stream.write_all(b"k").await.unwrap();
    eventually("the packet NACKed more than twice", || {
        bmc.stats().sol_packets >= before + 5
    })
    .await;
    bmc.sol_set_unavailable(false);
    let seen = read_until(&mut stream, b"k").await;
    assert_eq!(seen, b"k");
    assert_eq!(bmc.sol_received(), b"k");
    stream.shutdown().await.unwrap();
}

/// A BMC that acknowledges packets taking none of their characters, without a
/// NACK (a full buffer): the console sends them again when its timer runs out,
/// as a new packet, and never counts that answer as silence. It sent them again
/// at once, so the two sides exchanged packets as fast as loopback carries them
/// (thousands in the window below; a handful now).
#[tokio::test]
async fn an_acknowledgement_taking_nothing_is_retried_on_the_timer() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_millis(100);
    cfg.retries = 1; // two sends met with silence at most: these are answers
    let mut stream = console(cfg).open().await.unwrap();
    bmc.sol_accept_at_most(Some(0));
    let before = bmc.stats().sol_packets;
    stream.write_all(b"k").await.unwrap();
    tokio::time::sleep(Duration::from_millis(450)).await;
    let sent = bmc.stats().sol_packets - before;
    // The first send, then one per 100 ms timer (and their acknowledgements
    // of nothing the BMC sent): well under 30 in 450 ms.
    assert!((2..30).contains(&sent), "{sent} SOL packets in 450 ms");
    bmc.sol_accept_at_most(None);
    let seen = read_until(&mut stream, b"k").await;
    assert_eq!(seen, b"k");
    assert_eq!(bmc.sol_received(), b"k");
    stream.shutdown().await.unwrap();
}

/// The BMC's last packet may carry characters and "SOL deactivating": they are
/// read, then the end of the stream (they were dropped).
#[tokio::test]
async fn characters_in_the_bmcs_last_packet_are_read_before_the_end() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    assert!(bmc.sol_send_raw(&[5, 0, 0, 0x10, b'b', b'y', b'e']));
    let seen = read_until(&mut stream, b"bye").await;
    assert_eq!(seen, b"bye");
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(HANG, stream.read(&mut buf))
        .await
        .expect("hung")
        .unwrap();
    assert_eq!(n, 0);
}

/// Characters written and never acknowledged when the BMC ends SOL: `flush`
/// says so (it returned `Ok` as if they had been sent).
#[tokio::test]
async fn flush_after_the_bmc_ended_sol_with_characters_unsent_is_an_error() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_secs(5); // no retransmission meanwhile
    let mut stream = console(cfg).open().await.unwrap();
    bmc.sol_drop_next(100);
    let before = bmc.stats().packets;
    stream.write_all(b"lost").await.unwrap();
    eventually("the packet reached the BMC (and was lost)", || {
        bmc.stats().packets > before
    })
    .await;
    assert!(bmc.sol_end());
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(HANG, stream.read(&mut buf))
        .await
        .expect("hung")
        .unwrap();
    assert_eq!(n, 0);
    let err = stream.flush().await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
}

/// An `open` cancelled after the BMC activated SOL (its reply still on the way)
/// closes its session, which ends SOL: the next console gets in. It left the
/// session and SOL active until the BMC timed the session out (60 s here), and
/// every console meanwhile was refused with 0x80.
#[tokio::test]
async fn a_cancelled_open_closes_its_session_and_sol() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    bmc.set_delay(Some(Duration::from_millis(100)));
    let cfg = bmc.config();
    let opening = tokio::spawn(async move { console(cfg).open_stream().await });
    eventually("SOL activated", || bmc.sol_active()).await;
    opening.abort(); // the Activate Payload reply is 100 ms away
    assert!(opening.await.unwrap_err().is_cancelled());
    bmc.set_delay(None);
    eventually("the session closed", || bmc.stats().open_sessions == 0).await;
    assert!(!bmc.sol_active());
    let mut again = console(bmc.config()).open().await.unwrap();
    again.shutdown().await.unwrap();
}

/// A stream dropped without `shutdown()` ends its background task: SOL is
/// deactivated and the session closed (counted on the BMC); and when the
/// runtime that ran it goes away first, the session is still closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_session_outlives_a_dropped_stream_or_its_runtime() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let stream = console(bmc.config()).open().await.unwrap();
    assert_eq!(bmc.stats().open_sessions, 1);
    drop(stream);
    eventually("dropped: SOL off, session closed", || {
        let s = bmc.stats();
        !bmc.sol_active() && s.open_sessions == 0 && s.sol_deactivations == 1
    })
    .await;

    // A runtime of its own, dropped while the stream is open: its pump task is
    // dropped, not run to the end.
    let cfg = bmc.config();
    let kept = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let stream = rt.block_on(console(cfg).open_stream()).unwrap();
        drop(rt);
        stream
    })
    .await
    .unwrap();
    eventually("runtime gone: session closed", || {
        bmc.stats().open_sessions == 0 && !bmc.sol_active()
    })
    .await;
    drop(kept);
}

/// Neither the console nor its stream shows the password in `Debug` (what
/// `{:?}` in a log line would print).
#[tokio::test]
async fn no_secret_in_debug() {
    let bmc = bmc_with(IpmiSimConfig {
        users: vec![hwctl_ipmi::sim::SimUser::new("admin", "s3cr3t-sol", 4)],
        ..Default::default()
    })
    .await;
    let c = console(bmc.config());
    let mut stream = c.open_stream().await.unwrap();
    for shown in [format!("{c:?}"), format!("{stream:?}")] {
        assert!(!shown.contains("s3cr3t-sol"), "{shown}");
    }
    stream.shutdown().await.unwrap();
}

/// `shutdown()` while the host takes no characters and some are unsent ends
/// after the retransmission bound (the characters were not delivered: an
/// error), and the session is closed: NACKs are not retried forever then.
#[tokio::test]
async fn shutdown_while_the_host_takes_nothing_ends_and_closes_the_session() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_millis(50);
    cfg.retries = 1;
    let mut stream = console(cfg).open().await.unwrap();
    bmc.sol_set_unavailable(true);
    stream.write_all(b"never").await.unwrap();
    let err = tokio::time::timeout(HANG, stream.shutdown())
        .await
        .expect("hung")
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    eventually("session closed", || bmc.stats().open_sessions == 0).await;
    assert_eq!(bmc.sol_received(), b"");
}

/// `shutdown()` right after a write larger than many packets sends all of it
/// first, in order, once.
#[tokio::test]
async fn shutdown_sends_everything_written_first() {
    let bmc = bmc_with(IpmiSimConfig {
        sol_payload_size: 12,
        ..Default::default()
    })
    .await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    let data: Vec<u8> = (0..600u32).map(|i| b'0' + (i % 10) as u8).collect();
    stream.write_all(&data).await.unwrap();
    stream.shutdown().await.unwrap();
    assert_eq!(bmc.sol_received(), data);
    assert!(!bmc.sol_active());
    assert_eq!(bmc.stats().open_sessions, 0);
}

/// A reader that falls behind: past 64 chunks the BMC's packets are NACKed and
/// sent again by the BMC; once the reader catches up, everything arrives in
/// order, once.
#[tokio::test]
async fn a_slow_reader_gets_everything_in_order_once() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    let text: Vec<u8> = (0..30_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let before = bmc.stats().sol_packets;
    bmc.sol_print(&text);
    // One answer per packet the console got: 64 chunks taken, then NACKs.
    eventually("the console NACKed", || {
        bmc.stats().sol_packets >= before + 66
    })
    .await;
    let mut seen = vec![0u8; text.len()];
    tokio::time::timeout(HANG, stream.read_exact(&mut seen))
        .await
        .expect("hung")
        .unwrap();
    assert!(seen == text, "lost, doubled or out of order");
    stream.shutdown().await.unwrap();
}

/// A BMC that takes part of each packet (3 characters, IPMI 2.0 §15.11): the
/// rest goes again in new packets, and the serial line gets everything in
/// order, once.
#[tokio::test]
async fn characters_accepted_in_part_are_sent_again_until_all_are_taken() {
    let bmc = bmc_with(IpmiSimConfig::default()).await;
    let mut stream = console(bmc.config()).open().await.unwrap();
    bmc.sol_accept_at_most(Some(3));
    let before = bmc.stats().sol_packets;
    stream.write_all(b"partial acceptance\r").await.unwrap();
    stream.flush().await.unwrap(); // every character acknowledged
    assert_eq!(bmc.sol_received(), b"partial acceptance\r");
    assert!(bmc.stats().sol_packets >= before + 7, "{:?}", bmc.stats());
    let seen = read_until(&mut stream, b"partial acceptance\r").await;
    assert_eq!(seen, b"partial acceptance\r");
    stream.shutdown().await.unwrap();
}
