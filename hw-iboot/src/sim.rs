//! A DxP server on loopback (feature `sim`): an iBoot PDU with N relays.
//!
//! Written from the protocol facts (`hello-000`, 2-byte little-endian sequence
//! number, 47-byte header `<B21s21sBBH`, CHANGE_RELAY and GET_RELAYS), with its own
//! parsing: it shares no code with [`crate::wire`]. It keeps the relays and the
//! sequence number, checks credentials and the sequence, counts through
//! [`hwctl_sim::Counters`] (connections, commands as requests, refused credentials,
//! peak concurrent sessions) and injects its own [`Fault`]s and hwctl-sim's common
//! ones through [`hwctl_sim::Simulator::inject`]. It binds through [`hwctl_sim::bind`]
//! (loopback only) and its tasks live in a [`hwctl_sim::TaskSet`], so dropping it ends
//! every session.
//!
//! Common faults: `Silence` (greeting read, never answered), `Garbage` (as
//! [`Fault::WrongReply`]), `Delay(d)` (the greeting answered `d` late).
//! `BadCredentials` is refused as unsupported: DxP has no answer that tells wrong
//! credentials apart (a refused CHANGE_RELAY means wrong credentials *or* no such
//! relay, and an unanswered GET_RELAYS is what any broken exchange looks like), so
//! a driver cannot report `Unauthenticated` for it.
//!
//! Answers: CHANGE_RELAY gets one byte, `0x00` done or `0x01` refused (wrong
//! credentials, relay out of range, wrong sequence number); GET_RELAYS gets one
//! byte per relay (`0x01` on) — or, with wrong credentials, the connection is closed
//! without an answer. The protocol facts (python-iboot, the only source; Dataprobe
//! published no DxP specification) give no answer for wrong credentials: a client
//! reads one byte of CHANGE_RELAY, any non-zero byte a failure, and GET_RELAYS
//! bytes, an empty read a failure. The simulator answers within that: a refusal
//! byte, and a close, which is also what a PDU that drops the exchange for any
//! other reason looks like.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_iboot::sim::{Fault, IbootSim};
//! let sim = IbootSim::start(4, "admin", "secret").await?;
//! sim.set_relay(2, true);
//! assert_eq!(sim.relays(), vec![false, true, false, false]);
//! sim.set_fault(Fault::Silence);
//! assert_eq!(sim.connections(), 0);
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::{DriverInfo, Result};
use hwctl_sim::{CommonFault, Counters, FaultPlan, SessionGuard, SimStats, Simulator, TaskSet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A misbehaviour the simulated PDU shows on every connection until cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Accept the connection and read the greeting, then never answer.
    Silence,
    /// Answer the greeting with 1 byte instead of 2, then close.
    ShortReply,
    /// Answer commands with bytes that are not DxP (`ERROR` for CHANGE_RELAY,
    /// `0x07` per relay for GET_RELAYS).
    WrongReply,
    /// Complete the handshake, read the command, then close without answering.
    RefuseAfterHandshake,
    /// Refuse every relay change (answer `0x01`).
    RejectChange,
    /// Acknowledge relay changes without changing anything (a welded relay).
    StuckRelays,
}

#[derive(Debug)]
struct State {
    username: Vec<u8>,
    password: Vec<u8>,
    relays: Mutex<Vec<bool>>,
    sequence: Mutex<u16>,
    fault: Mutex<Fault>,
    faults: FaultPlan,
    latency: Mutex<Duration>,
    counters: Counters,
    changes: AtomicUsize,
    sequence_errors: AtomicUsize,
}

/// A running simulated iBoot PDU; stops when dropped, ending its sessions.
///
/// As a [`Simulator`] it serves one node per relay: node `i` is relay `i + 1`.
#[derive(Debug)]
pub struct IbootSim {
    addr: SocketAddr,
    state: Arc<State>,
    username: String,
    password: String,
    _tasks: TaskSet,
}

impl IbootSim {
    /// Starts a PDU with `relays` relays (all off) accepting `username`/`password`,
    /// on `127.0.0.1` and an ephemeral port.
    ///
    /// # Errors
    ///
    /// As [`IbootSim::bind`].
    pub async fn start(relays: u8, username: &str, password: &str) -> Result<IbootSim> {
        IbootSim::bind(hwctl_sim::bind::DEFAULT_LISTEN, relays, username, password).await
    }

    /// Like [`IbootSim::start`] on `addr`, which must be a loopback address.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) for an
    /// address that is not loopback; [`ErrorKind::Busy`](hwctl_core::ErrorKind::Busy)
    /// when it is in use; other binding failures as [`hwctl_sim::bind_tcp`] reports them.
    pub async fn bind(
        addr: SocketAddr,
        relays: u8,
        username: &str,
        password: &str,
    ) -> Result<IbootSim> {
        let listener = hwctl_sim::bind_tcp(Some(addr)).await?;
        let addr = listener.local_addr().map_err(|e| {
            hwctl_core::Error::new(hwctl_core::ErrorKind::Other, "no local address").with_source(e)
        })?;
        let state = Arc::new(State {
            username: username.as_bytes().to_vec(),
            password: password.as_bytes().to_vec(),
            relays: Mutex::new(vec![false; usize::from(relays)]),
            sequence: Mutex::new(0),
            fault: Mutex::new(Fault::None),
            faults: FaultPlan::new(),
            latency: Mutex::new(Duration::ZERO),
            counters: Counters::new(),
            changes: AtomicUsize::new(0),
            sequence_errors: AtomicUsize::new(0),
        });
        let tasks = TaskSet::new();
        tasks.spawn(accept_loop(listener, state.clone(), tasks.spawner()));
        tracing::debug!(%addr, relays, "iBoot simulator listening");
        Ok(IbootSim {
            addr,
            state,
            username: username.to_owned(),
            password: password.to_owned(),
            _tasks: tasks,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Injects `fault` on every following connection ([`Fault::None`] clears it).
    pub fn set_fault(&self, fault: Fault) {
        if let Ok(mut f) = self.state.fault.lock() {
            *f = fault;
        }
    }

    /// The common-fault plan (shared with [`Simulator::inject`]).
    pub fn faults(&self) -> &FaultPlan {
        &self.state.faults
    }

    /// Delays the answer to the greeting (widens the window in which two clients
    /// could overlap).
    pub fn set_latency(&self, latency: Duration) {
        if let Ok(mut l) = self.state.latency.lock() {
            *l = latency;
        }
    }

    /// Every relay's state (`true` = on), relay 1 first.
    pub fn relays(&self) -> Vec<bool> {
        self.state
            .relays
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Relay `n` (1-based), or `None` if it does not exist.
    pub fn relay(&self, n: u8) -> Option<bool> {
        let i = usize::from(n).checked_sub(1)?;
        self.relays().get(i).copied()
    }

    /// Sets relay `n` (1-based) as if someone pressed its button.
    pub fn set_relay(&self, n: u8, on: bool) {
        if let (Some(i), Ok(mut r)) = (usize::from(n).checked_sub(1), self.state.relays.lock())
            && let Some(slot) = r.get_mut(i)
        {
            *slot = on;
        }
    }

    /// The device's current sequence number.
    pub fn sequence(&self) -> u16 {
        self.state.sequence.lock().map(|s| *s).unwrap_or(0)
    }

    /// Sets the device's sequence number (e.g. near the wrap-around).
    pub fn set_sequence(&self, seq: u16) {
        if let Ok(mut s) = self.state.sequence.lock() {
            *s = seq;
        }
    }

    fn stat(&self, f: impl FnOnce(&SimStats) -> u64) -> usize {
        usize::try_from(f(&self.state.counters.snapshot())).unwrap_or(usize::MAX)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.stat(|s| s.connections)
    }

    /// Commands (headers) received with valid framing.
    pub fn commands(&self) -> usize {
        self.stat(|s| s.requests)
    }

    /// Relay changes applied.
    pub fn changes(&self) -> usize {
        self.state.changes.load(Ordering::SeqCst)
    }

    /// Commands refused for wrong credentials.
    pub fn auth_failures(&self) -> usize {
        self.stat(|s| s.failed_logins)
    }

    /// Commands refused for a wrong sequence number.
    pub fn sequence_errors(&self) -> usize {
        self.state.sequence_errors.load(Ordering::SeqCst)
    }

    /// The most sessions that were in progress at once (from accepting the
    /// connection to the moment the final answer is sent). 1 means no two
    /// handshakes ever overlapped.
    pub fn peak_concurrent_sessions(&self) -> usize {
        self.stat(|s| s.peak_sessions)
    }
}

impl Simulator for IbootSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "iBoot PDU simulator (DxP) on tcp://{}, {} relays, one node per relay",
            self.addr,
            self.node_count()
        )
    }

    fn node_count(&self) -> usize {
        self.relays().len()
    }

    /// Relay `i + 1`, with the simulator's credentials and short retry pauses
    /// (`iboot_retry_interval` 0.2 s, `iboot_reboot_delay` 1 s).
    fn driver_info(&self, i: usize) -> DriverInfo {
        DriverInfo::from_pairs([
            ("iboot_address", self.addr.ip().to_string()),
            ("iboot_port", self.addr.port().to_string()),
            ("iboot_username", self.username.clone()),
            ("iboot_password", self.password.clone()),
            ("iboot_relay_id", (i + 1).to_string()),
            ("iboot_retry_interval", "0.2".to_owned()),
            ("iboot_reboot_delay", "1".to_owned()),
        ])
    }

    fn stats(&self) -> SimStats {
        self.state.counters.snapshot()
    }

    /// `Silence`, `Garbage` and `Delay` are simulated; `BadCredentials` is
    /// unsupported (see the module docs).
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        if let Some(f @ CommonFault::BadCredentials) = fault {
            return Err(hwctl_sim::simulator::unsupported_fault(self, f));
        }
        self.state.faults.replace(fault);
        Ok(())
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, spawner: hwctl_sim::Spawner) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Counted at once (a session is a whole exchange, from accept to
                // the final answer), so overlapping clients are always seen.
                let connection = state.counters.connection();
                let session = Session {
                    state: state.clone(),
                    open: Some(state.counters.session()),
                };
                spawner.spawn(async move {
                    let _connection = connection;
                    let mut session = session;
                    session.run(stream).await;
                    session.end();
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "iBoot simulator accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

struct Session {
    state: Arc<State>,
    open: Option<SessionGuard>,
}

impl Session {
    /// Marks the session finished (before the final answer goes out, so a client
    /// that reacts to the answer can never be counted as overlapping).
    fn end(&mut self) {
        self.open = None;
    }

    fn fault(&self) -> Fault {
        self.state.fault.lock().map(|f| *f).unwrap_or_default()
    }

    async fn run(&mut self, mut stream: TcpStream) {
        let io_limit = Duration::from_secs(30);
        let mut hello = [0u8; 9];
        if !matches!(
            tokio::time::timeout(io_limit, stream.read_exact(&mut hello)).await,
            Ok(Ok(_))
        ) || &hello != b"hello-000"
        {
            return;
        }
        let mut fault = self.fault();
        let mut latency = self.state.latency.lock().map(|l| *l).unwrap_or_default();
        match self.state.faults.take() {
            Some(CommonFault::Silence) => fault = Fault::Silence,
            Some(CommonFault::Garbage) => fault = Fault::WrongReply,
            Some(CommonFault::Delay(d)) => latency += d,
            _ => {}
        }
        if fault != Fault::None {
            self.state.counters.fault_injected();
        }
        match fault {
            Fault::Silence => {
                // Hold the connection open, saying nothing, until the client gives up.
                let mut sink = [0u8; 64];
                while let Ok(Ok(n)) = tokio::time::timeout(io_limit, stream.read(&mut sink)).await {
                    if n == 0 {
                        break;
                    }
                }
                return;
            }
            Fault::ShortReply => {
                let seq = self.state.sequence.lock().map(|s| *s).unwrap_or(0);
                self.end();
                let _ = stream.write_all(&seq.to_le_bytes()[..1]).await;
                return;
            }
            _ => {}
        }
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let current = self.state.sequence.lock().map(|s| *s).unwrap_or(0);
        if stream.write_all(&current.to_le_bytes()).await.is_err() {
            return;
        }
        let mut header = [0u8; 47];
        if !matches!(
            tokio::time::timeout(io_limit, stream.read_exact(&mut header)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let command = header[0];
        let user = nul_trimmed(&header[1..22]);
        let pass = nul_trimmed(&header[22..43]);
        let descriptor = header[43];
        let seq = u16::from_le_bytes([header[45], header[46]]);
        if command != 3 {
            return;
        }
        self.state.counters.request();
        let payload_len = match descriptor {
            1 => 2,
            4 => 0,
            _ => return,
        };
        let mut payload = [0u8; 2];
        if payload_len > 0
            && !matches!(
                tokio::time::timeout(io_limit, stream.read_exact(&mut payload)).await,
                Ok(Ok(_))
            )
        {
            return;
        }
        if fault == Fault::RefuseAfterHandshake {
            self.end();
            return;
        }
        let authorized =
            user == self.state.username.as_slice() && pass == self.state.password.as_slice();
        if !authorized {
            self.state.counters.failed_login();
        }
        let seq_ok = seq == current.wrapping_add(1);
        if seq_ok {
            if let Ok(mut s) = self.state.sequence.lock() {
                *s = seq;
            }
        } else {
            self.state.sequence_errors.fetch_add(1, Ordering::SeqCst);
        }
        let answer: Vec<u8> = match descriptor {
            1 => {
                let (relay, wanted) = (payload[0], payload[1]);
                if fault == Fault::WrongReply {
                    b"ERROR".to_vec()
                } else if fault == Fault::RejectChange || !authorized || !seq_ok {
                    vec![1]
                } else {
                    self.change(relay, wanted)
                }
            }
            _ => {
                if !authorized || !seq_ok {
                    self.end();
                    return;
                }
                let relays = self
                    .state
                    .relays
                    .lock()
                    .map(|r| r.clone())
                    .unwrap_or_default();
                if fault == Fault::WrongReply {
                    vec![7; relays.len()]
                } else {
                    relays.iter().map(|on| u8::from(*on)).collect()
                }
            }
        };
        self.end();
        let _ = stream.write_all(&answer).await;
        let _ = stream.shutdown().await;
    }

    fn change(&self, relay: u8, wanted: u8) -> Vec<u8> {
        let Ok(mut relays) = self.state.relays.lock() else {
            return vec![1];
        };
        let Some(slot) = usize::from(relay)
            .checked_sub(1)
            .and_then(|i| relays.get_mut(i))
        else {
            return vec![1];
        };
        match wanted {
            0 | 1 => {
                if self.fault() != Fault::StuckRelays {
                    *slot = wanted == 1;
                    self.state.changes.fetch_add(1, Ordering::SeqCst);
                }
                vec![0]
            }
            2 => vec![0],
            _ => vec![1],
        }
    }
}

fn nul_trimmed(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}
