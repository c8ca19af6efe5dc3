#![allow(clippy::unwrap_used)]
//! A BMC address where nothing answers (issue 15, a user's first hour): a UDP
//! socket that is bound and never answers, and a port where nothing listens (the
//! host refuses each datagram with ICMP port unreachable). What was sent, how far
//! apart, what the error says and what was logged.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hwctl_core::ErrorKind;
use hwctl_ipmi::{IpmiClient, IpmiConfig};

/// The tests of this file run one at a time. `tracing` caches per call site
/// whether anyone listens; a test without a subscriber reaching a call site while
/// the logging test sets its thread's subscriber can leave that cache saying
/// nobody does, and the logging test then misses lines (seen once in hw-iboot's
/// closed_port test under load). Taken by every test, this lock keeps them apart.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Log lines, as a `tracing` fmt subscriber writes them.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// Captures everything at DEBUG and above on this thread while the guard lives.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let w = self.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_default(sub)
    }
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
    /// The lines that announce a retry (at any level).
    fn retries(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains("retrying"))
            .collect()
    }
}

/// A bound UDP socket that never answers and records each datagram and when it came.
struct SilentBmc {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(Instant, Vec<u8>)>>,
}

impl SilentBmc {
    fn start() -> SilentBmc {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut buf = [0u8; 1500];
            while !st.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    seen.push((Instant::now(), buf[..n].to_vec()));
                }
            }
            seen
        });
        SilentBmc { port, stop, thread }
    }

    fn datagrams(self) -> Vec<(Instant, Vec<u8>)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

fn config(port: u16) -> IpmiConfig {
    let mut cfg = IpmiConfig::new("127.0.0.1");
    cfg.port = port;
    cfg.request_timeout = Duration::from_millis(300);
    cfg.retries = 3;
    cfg
}

/// Whether `d` is a session-less IPMI v1.5 Get Channel Authentication
/// Capabilities request (RMCP class IPMI, auth type none, session 0, App 0x38).
fn is_get_channel_auth_caps(d: &[u8]) -> bool {
    d.len() > 19 && d[..4] == [0x06, 0x00, 0xFF, 0x07] && d[15] >> 2 == 0x06 && d[19] == 0x38
}

/// Nothing answers at all: 4 datagrams (retries 3), every one Get Channel
/// Authentication Capabilities, a request timeout apart (never a burst); the
/// error is a timeout naming that session setup step — not Get Chassis Status,
/// which never left — with one duration and the attempt count; each of the 3
/// retries is logged once, at WARN.
#[tokio::test]
async fn a_silent_address_names_the_setup_step_and_resends_a_timeout_apart() {
    let _one = ONE_AT_A_TIME.lock().await;
    let bmc = SilentBmc::start();
    let log = Log::default();
    let _g = log.capture();
    let err = IpmiClient::new(config(bmc.port))
        .read(None, 0x00, 0x01, &[])
        .await
        .unwrap_err();
    let sent = bmc.datagrams();

    assert_eq!(sent.len(), 4, "{err}");
    assert!(sent.iter().all(|(_, d)| is_get_channel_auth_caps(d)));
    for pair in sent.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_millis(250), "a burst: {gap:?} apart");
    }

    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("no reply to Get Channel Authentication Capabilities (session setup step"),
        "{msg}"
    );
    assert!(
        !msg.contains("cmd 0x01") && !msg.contains("Chassis"),
        "{msg}"
    );
    assert!(
        msg.contains("silent for ") && msg.contains("over 4 attempts"),
        "{msg}"
    );
    assert_eq!(msg.matches("silent for").count(), 1, "{msg}");
    assert!(
        !msg.contains("within 300ms") && !msg.contains("after "),
        "{msg}"
    );

    let retries = log.retries();
    assert_eq!(retries.len(), 3, "{retries:#?}");
    assert!(retries.iter().all(|l| l.contains(" WARN ")), "{retries:#?}");
    // hwctl-core's form, as HTTP drivers log: a silent BMC gets retries + 1 = 4.
    for (i, l) in retries.iter().enumerate() {
        assert!(l.ends_with(&format!("(attempt {} of 4)", i + 2)), "{l}");
    }
}

/// A port where nothing listens: the host refuses every datagram at once (ICMP
/// port unreachable). The error is `unreachable`, names Get Channel
/// Authentication Capabilities with 4 attempts (retries 3), not 16; each retry
/// waits its backoff first (no datagrams back to back) and is logged once at WARN.
#[tokio::test]
async fn a_port_where_nothing_listens_is_unreachable_after_spaced_retries() {
    let _one = ONE_AT_A_TIME.lock().await;
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let log = Log::default();
    let _g = log.capture();
    let client = IpmiClient::new(config(port));
    let started = Instant::now();
    let err = client.read(None, 0x00, 0x01, &[]).await.unwrap_err();
    let took = started.elapsed();

    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("Get Channel Authentication Capabilities (session setup step")
            && msg.contains("4 attempts over ")
            && msg.contains("refused"),
        "{msg}"
    );
    assert!(
        !msg.contains("cmd 0x01") && !msg.contains("Chassis"),
        "{msg}"
    );
    assert_eq!(msg.matches(" over ").count(), 1, "one duration: {msg}");
    assert_eq!(client.stats().retries, 3, "{msg}");

    let retries = log.retries();
    assert_eq!(retries.len(), 3, "{retries:#?}");
    let mut waited = Duration::ZERO;
    for (i, l) in retries.iter().enumerate() {
        assert!(l.contains(" WARN "), "{l}");
        // No count bounds a refusal's retries: the time limit is named.
        assert!(
            l.contains(&format!("(attempt {}, ", i + 2))
                && l.ends_with("s of ipmi_command_retry_timeout 60s)"),
            "{l}"
        );
        let ms: u64 = l
            .split("retrying in ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no wait in {l}"));
        assert!(ms >= 50, "back to back: {l}");
        waited += Duration::from_millis(ms);
    }
    assert!(took >= waited, "{took:?} < {waited:?}");
}

/// The same through the driver as `hwctl --driver ipmi … power status` builds it
/// from driver_info: `unreachable`, naming the step, in one attempt count.
#[tokio::test]
async fn power_status_through_the_driver_is_unreachable_naming_the_step() {
    let _one = ONE_AT_A_TIME.lock().await;
    use hwctl_core::{DriverInfo, NodeContext};
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let port = port.to_string();
    let info = DriverInfo::from_pairs([
        ("ipmi_address", "127.0.0.1"),
        ("ipmi_port", port.as_str()),
        ("ipmi_username", "u"),
        ("ipmi_password", "x"),
    ]);
    let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
        .build(&info, &NodeContext::new("n"))
        .unwrap();
    let err = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("Get Channel Authentication Capabilities") && msg.contains(" attempts over "),
        "{msg}"
    );
}
