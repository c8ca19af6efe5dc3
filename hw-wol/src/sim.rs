//! A Wake-on-LAN listener on loopback (feature `sim`): records every datagram,
//! decodes the MAC of well-formed magic packets and flags malformed ones.
//!
//! It decodes packets on its own, from the format description (six `0xFF`, the MAC
//! sixteen times, an optional 4- or 6-byte SecureOn password), sharing no code with
//! [`crate::wire`]. It binds through [`hwctl_sim::bind`] (loopback only), counts every
//! datagram as a request in [`hwctl_sim::Counters`], and its task lives in a
//! [`hwctl_sim::TaskSet`], so dropping it stops it.
//!
//! As a [`hwctl_sim::Simulator`] it serves [`NODES`] nodes with made-up port MACs. Of
//! the common faults only `Delay(d)` means something for a one-way UDP protocol
//! (each datagram is recorded `d` late); `Silence` (Wake-on-LAN never answers
//! anyway), `BadCredentials` (there are none; SecureOn is not checked by a
//! listener) and `Garbage` (there is no answer to garble) are refused as
//! unsupported.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use std::time::Duration;
//! let sim = hwctl_wol::sim::WolSim::start().await?;
//! let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
//! socket.send_to(b"not a magic packet", sim.addr()).await.unwrap();
//! let seen = sim.wait_for_packets(1, Duration::from_secs(5)).await;
//! assert!(seen[0].problem.is_some());
//! assert_eq!(sim.malformed(), 1);
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwctl_core::{DriverInfo, Error, ErrorKind, MacAddress, NodeContext, Result};
use hwctl_sim::{CommonFault, Counters, FaultPlan, SimStats, Simulator, TaskSet};
use tokio::net::UdpSocket;
use tokio::sync::{Notify, broadcast};

/// How many nodes the simulator serves as a [`Simulator`].
pub const NODES: usize = 2;

/// One datagram the simulator received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPacket {
    /// Who sent it.
    pub from: SocketAddr,
    /// The bytes, as received.
    pub bytes: Vec<u8>,
    /// The MAC, when the datagram is a well-formed magic packet.
    pub mac: Option<MacAddress>,
    /// The SecureOn password, when one follows the sixteen MACs.
    pub secureon: Option<Vec<u8>>,
    /// Why the datagram is not a well-formed magic packet (`None` when it is).
    pub problem: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    packets: Mutex<Vec<ReceivedPacket>>,
    notify: Notify,
    counters: Counters,
    faults: FaultPlan,
}

/// A running Wake-on-LAN listener; stops when dropped.
#[derive(Debug)]
pub struct WolSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    events: broadcast::Sender<ReceivedPacket>,
    _tasks: TaskSet,
}

/// Decodes one datagram as a magic packet, independently of the client's encoder.
///
/// Returns `(mac, secureon)` or why it is malformed.
///
/// # Errors
///
/// Why the datagram is not a magic packet (its length, the synchronisation stream,
/// the first repetition of the MAC that differs), as text.
///
/// ```
/// let mut p = vec![0xffu8; 6];
/// for _ in 0..16 { p.extend_from_slice(&[0x52, 0x54, 0, 0xcf, 0x2d, 0x31]); }
/// let (mac, pw) = hwctl_wol::sim::decode(&p).unwrap();
/// assert_eq!(mac.to_string(), "52:54:00:cf:2d:31");
/// assert!(pw.is_none());
/// assert!(hwctl_wol::sim::decode(&p[..101]).is_err());
/// ```
pub fn decode(bytes: &[u8]) -> std::result::Result<(MacAddress, Option<Vec<u8>>), String> {
    let password_len = match bytes.len() {
        102 => 0,
        106 => 4,
        108 => 6,
        n => {
            return Err(format!(
                "{n} bytes: a magic packet is 102 bytes (106 or 108 with a SecureOn password)"
            ));
        }
    };
    let (sync, rest) = bytes.split_at(6);
    if sync != [0xff; 6] {
        return Err(format!(
            "no synchronisation stream: starts with {sync:02x?}"
        ));
    }
    let (macs, password) = rest.split_at(96);
    let first: [u8; 6] = match macs.get(0..6).map(<[u8; 6]>::try_from) {
        Some(Ok(m)) => m,
        _ => return Err("truncated".to_owned()),
    };
    for (i, rep) in macs.chunks(6).enumerate() {
        if rep != first {
            return Err(format!(
                "repetition {} of the MAC is {rep:02x?}, not {first:02x?}",
                i + 1
            ));
        }
    }
    let pw = (password_len > 0).then(|| password.to_vec());
    Ok((MacAddress::new(first), pw))
}

impl WolSim {
    /// Starts listening on `127.0.0.1` on an ephemeral port.
    ///
    /// # Errors
    ///
    /// As [`WolSim::bind`].
    pub async fn start() -> Result<WolSim> {
        WolSim::bind(hwctl_sim::bind::DEFAULT_LISTEN).await
    }

    /// Starts listening on `addr`, which must be a loopback address.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for an address that is not loopback;
    /// [`ErrorKind::Busy`] when it is in use; other binding failures as
    /// [`hwctl_sim::bind_udp`] reports them.
    pub async fn bind(addr: SocketAddr) -> Result<WolSim> {
        let socket = hwctl_sim::bind_udp(Some(addr)).await?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Other, "no local address").with_source(e))?;
        let shared = Arc::new(Shared::default());
        let (events, _) = broadcast::channel(256);
        let tasks = TaskSet::new();
        tasks.spawn(serve(
            socket,
            shared.clone(),
            events.clone(),
            tasks.spawner(),
        ));
        tracing::debug!(%addr, "wake-on-lan simulator listening");
        Ok(WolSim {
            addr,
            shared,
            events,
            _tasks: tasks,
        })
    }

    /// The port MACs of node `i` as a [`Simulator`] (locally administered,
    /// `02:00:5e:57:00:<i+1>`; node 1 has two ports).
    pub fn node_macs(&self, i: usize) -> Vec<MacAddress> {
        let n = u8::try_from(i + 1).unwrap_or(u8::MAX);
        let mut macs = vec![MacAddress::new([0x02, 0x00, 0x5e, 0x57, 0x00, n])];
        if i % 2 == 1 {
            macs.push(MacAddress::new([0x02, 0x00, 0x5e, 0x57, 0x01, n]));
        }
        macs
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every datagram received so far, in order.
    pub fn packets(&self) -> Vec<ReceivedPacket> {
        self.shared
            .packets
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// The MACs of the well-formed magic packets received so far, in order.
    pub fn macs_seen(&self) -> Vec<MacAddress> {
        self.packets().iter().filter_map(|p| p.mac).collect()
    }

    /// How many malformed datagrams were received.
    pub fn malformed(&self) -> usize {
        self.packets()
            .iter()
            .filter(|p| p.problem.is_some())
            .count()
    }

    /// Forgets the packets received so far.
    pub fn clear(&self) {
        if let Ok(mut p) = self.shared.packets.lock() {
            p.clear();
        }
    }

    /// A stream of packets as they arrive (for `hwctl demo` and the like).
    pub fn subscribe(&self) -> broadcast::Receiver<ReceivedPacket> {
        self.events.subscribe()
    }

    /// Waits until at least `n` datagrams have been received or `timeout` has passed,
    /// and returns what was received.
    pub async fn wait_for_packets(&self, n: usize, timeout: Duration) -> Vec<ReceivedPacket> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            let packets = self.packets();
            let now = Instant::now();
            if packets.len() >= n || now >= deadline {
                return packets;
            }
            let _ = tokio::time::timeout(deadline - now, notified).await;
        }
    }
}

async fn serve(
    socket: UdpSocket,
    shared: Arc<Shared>,
    events: broadcast::Sender<ReceivedPacket>,
    spawner: hwctl_sim::Spawner,
) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "wake-on-lan simulator receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.counters.request();
        let bytes = buf.get(..n).map(<[u8]>::to_vec).unwrap_or_default();
        match shared.faults.take() {
            Some(CommonFault::Delay(d)) => {
                shared.counters.fault_injected();
                let (shared, events) = (shared.clone(), events.clone());
                spawner.spawn(async move {
                    tokio::time::sleep(d).await;
                    record(&shared, &events, from, bytes);
                });
            }
            _ => record(&shared, &events, from, bytes),
        }
    }
}

fn record(
    shared: &Shared,
    events: &broadcast::Sender<ReceivedPacket>,
    from: SocketAddr,
    bytes: Vec<u8>,
) {
    let packet = match decode(&bytes) {
        Ok((mac, secureon)) => ReceivedPacket {
            from,
            bytes,
            mac: Some(mac),
            secureon,
            problem: None,
        },
        Err(problem) => ReceivedPacket {
            from,
            bytes,
            mac: None,
            secureon: None,
            problem: Some(problem),
        },
    };
    match (&packet.mac, &packet.problem) {
        (Some(mac), _) => tracing::info!(%from, %mac, "magic packet seen"),
        (None, Some(p)) => tracing::warn!(%from, problem = %p, "malformed packet seen"),
        _ => {}
    }
    if let Ok(mut p) = shared.packets.lock() {
        p.push(packet.clone());
    }
    let _ = events.send(packet);
    shared.notify.notify_waiters();
}

impl Simulator for WolSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "Wake-on-LAN listener on udp://{}, {NODES} nodes ({} seen, {} malformed)",
            self.addr,
            match self.packets().len() {
                1 => "1 datagram".to_owned(),
                n => format!("{n} datagrams"),
            },
            self.malformed()
        )
    }

    fn node_count(&self) -> usize {
        NODES
    }

    /// The listener as destination, 50 ms between a node's packets.
    fn driver_info(&self, _i: usize) -> DriverInfo {
        DriverInfo::from_pairs([
            ("wol_host", self.addr.ip().to_string()),
            ("wol_port", self.addr.port().to_string()),
            ("wol_packet_interval_ms", "50".to_owned()),
        ])
    }

    /// The node name with the port MACs of [`WolSim::node_macs`].
    fn node_context(&self, i: usize) -> NodeContext {
        self.node_macs(i)
            .into_iter()
            .fold(NodeContext::new(self.node_name(i)), NodeContext::with_port)
    }

    /// Datagrams count as requests; faults injected = datagrams delayed.
    fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    /// Only `Delay(d)` (each datagram recorded `d` late); the others are
    /// unsupported (see the module docs).
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        match fault {
            Some(
                f @ (CommonFault::Silence | CommonFault::BadCredentials | CommonFault::Garbage),
            ) => Err(hwctl_sim::simulator::unsupported_fault(self, f)),
            other => {
                self.shared.faults.replace(other);
                Ok(())
            }
        }
    }
}
