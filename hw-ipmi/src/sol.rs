//! Serial over LAN (SOL): the node's serial console carried by the BMC in its own
//! RMCP+ session, as the console interface of the `ipmi` hardware type.
//!
//! Protocol facts, from the IPMI 2.0 specification (rev. 1.1):
//!
//! - §24.1 Activate Payload (NetFn App 0x06, command 0x48, table 24-2): request
//!   payload type (SOL = 0x01), payload instance (1), four bytes of auxiliary data
//!   (SOL: byte 1 bit 7 encryption, bit 6 authentication, bits 3:2 serial alert
//!   behaviour, bit 1 startup handshake); response: four bytes of auxiliary data,
//!   inbound payload size (the most payload bytes the BMC accepts per packet, LS
//!   byte first), outbound payload size, payload UDP port, payload VLAN number.
//!   Completion codes 0x80 payload already active on another session, 0x81
//!   payload type disabled, 0x82 activation limit reached, 0x83 cannot activate
//!   with encryption, 0x84 cannot activate without encryption.
//! - §24.2 Deactivate Payload (App 0x49, table 24-3): payload type, instance, four
//!   bytes of auxiliary data; completion code 0x80: payload already deactivated.
//! - §15.9 SOL payload (table 15-2), payload type 0x01 in the RMCP+ session header
//!   (§13.27.3), sealed like IPMI messages: packet sequence number (bits 3:0,
//!   1–15; 0 = an acknowledgement-only packet without characters), packet
//!   acknowledge/NACK sequence number (bits 3:0; 0 = not an acknowledgement),
//!   accepted character count, operation (console to BMC) or status (BMC to
//!   console), then the characters. Status bits: 6 NACK, 5 character transfer
//!   unavailable, 4 SOL deactivating, 3 transmit overrun, 2 break detected.
//!   Operation bits: 6 NACK, 5 ring/wake-on-ring, 4 generate break, 3 deassert
//!   CTS, 2 deassert DCD/DSR, 1 flush inbound, 0 flush outbound.
//! - §15.10–15.11: a packet carrying characters is acknowledged by the receiver
//!   with its sequence number and the count of characters accepted; the sender
//!   retransmits an unacknowledged packet after a timeout (same sequence number),
//!   and sends the characters not accepted again in a new packet.

use std::sync::Arc;
use std::time::Duration;

use hwctl_core::console::pumped::{self, PumpSide, PumpedStream, Pushed, Settings};
use hwctl_core::retry::Idempotency;
use hwctl_core::{Console, ConsoleHandle, Error, ErrorKind, Result, async_trait};
use tokio::time::Instant;

use crate::attempts::{Attempts, command_text};
use crate::config::IpmiConfig;
use crate::ipmi::Ipmi;
use crate::session::{MAX_PACKET, Session};
use crate::wire::{self, Request, WireError, payload};

/// The SOL payload instance this console activates (IPMI 2.0 §24.1: instance 1).
pub const SOL_INSTANCE: u8 = 1;

/// Bytes a writer may queue before `write` waits.
const MAX_PENDING_WRITE: usize = 64 * 1024;

/// Chunks received from the BMC that may wait for a reader; past that the BMC's
/// packets are NACKed (it sends them again later).
const READ_QUEUE: usize = 64;

/// Characters per packet at most: the accepted character count is one byte.
const MAX_CHUNK: usize = 255;

/// The SOL packet header: sequence, ack sequence, accepted count, operation/status.
const HEADER: usize = 4;

/// Operation/status bit 6: NACK (IPMI 2.0 table 15-2).
pub(crate) const NACK: u8 = 0x40;
/// Status bit 5: character transfer unavailable (the host's serial port is not
/// taking characters now).
pub(crate) const UNAVAILABLE: u8 = 0x20;
/// Status bit 4: SOL deactivating (the BMC ends the SOL session).
pub(crate) const DEACTIVATING: u8 = 0x10;

/// One SOL payload (IPMI 2.0 §15.9, table 15-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SolPacket {
    /// Packet sequence number, 1–15; 0 = no characters (acknowledgement only).
    pub seq: u8,
    /// The sequence number acknowledged or NACKed; 0 = not an acknowledgement.
    pub ack_seq: u8,
    /// Characters accepted from the acknowledged packet.
    pub accepted: u8,
    /// Operation (console to BMC) or status (BMC to console) bits.
    pub status: u8,
    /// The characters.
    pub data: Vec<u8>,
}

impl SolPacket {
    /// The payload bytes (header then characters).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.data.len());
        out.extend_from_slice(&[
            self.seq & 0x0F,
            self.ack_seq & 0x0F,
            self.accepted,
            self.status,
        ]);
        out.extend_from_slice(&self.data);
        out
    }

    /// Decodes a SOL payload: at least the four header bytes, sequence numbers in
    /// 0–15 (bits 7:4 are reserved and must be zero).
    pub(crate) fn decode(p: &[u8]) -> std::result::Result<SolPacket, WireError> {
        let [seq, ack_seq, accepted, status, ..] = *p else {
            return Err(WireError::new(format!(
                "SOL payload truncated: {} bytes, need {HEADER}",
                p.len()
            )));
        };
        if seq > 0x0F || ack_seq > 0x0F {
            return Err(WireError::new(format!(
                "SOL sequence numbers out of range (packet {seq}, acknowledged {ack_seq}; 0-15)"
            )));
        }
        Ok(SolPacket {
            seq,
            ack_seq,
            accepted,
            status,
            data: p[HEADER..].to_vec(),
        })
    }
}

/// Activate Payload request data for SOL instance 1: encrypted and
/// authenticated (every suite this crate speaks does both), serial alerts
/// deferred while SOL is active (bits 3:2 = 01b), the BMC asserting CTS and
/// DCD/DSR at once (bit 1 = 0).
pub(crate) fn activate_request() -> [u8; 6] {
    [payload::SOL, SOL_INSTANCE, 0xC4, 0, 0, 0]
}

/// Deactivate Payload request data for SOL instance 1.
pub(crate) fn deactivate_request() -> [u8; 6] {
    [payload::SOL, SOL_INSTANCE, 0, 0, 0, 0]
}

/// What Activate Payload answered (after the completion code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Activated {
    /// The most payload bytes (SOL header included) the BMC accepts per packet.
    pub inbound: u16,
    /// The most payload bytes the BMC sends per packet.
    pub outbound: u16,
    /// The UDP port SOL packets go to.
    pub port: u16,
}

/// Decodes the Activate Payload response data (12 bytes after the completion code).
pub(crate) fn decode_activated(d: &[u8]) -> std::result::Result<Activated, WireError> {
    let Some(b) = d.get(..12) else {
        return Err(WireError::new(format!(
            "Activate Payload response data is {} bytes, need 12",
            d.len()
        )));
    };
    let u16le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    Ok(Activated {
        inbound: u16le(4),
        outbound: u16le(6),
        port: u16le(8),
    })
}

/// The error of a non-zero Activate Payload completion code (IPMI 2.0 table 24-2).
fn activate_error(cc: u8) -> Error {
    let (kind, why) = match cc {
        0x80 => (
            ErrorKind::Busy,
            "the SOL payload is already active on another session (another console holds it)",
        ),
        0x81 => (
            ErrorKind::Unsupported,
            "the SOL payload type is disabled on this BMC",
        ),
        0x82 => (
            ErrorKind::Busy,
            "the BMC's SOL payload activation limit is reached",
        ),
        0x83 => (
            ErrorKind::Unsupported,
            "the BMC cannot activate SOL with encryption",
        ),
        0x84 => (
            ErrorKind::Unsupported,
            "the BMC cannot activate SOL without encryption",
        ),
        _ => return crate::client::cc_error(cc, "Activate Payload"),
    };
    Error::new(kind, format!("{why} (completion code 0x{cc:02x})"))
        .with_operation("Activate Payload")
}

/// The console interface of the `ipmi` hardware type: IPMI Serial over LAN.
///
/// [`Console::open`] opens an RMCP+ session of its own to the BMC (not the
/// node's shared power/management session: a SOL session carries a stream of
/// unsolicited packets, as ipmitool's `sol activate` does), activates the SOL
/// payload (instance 1) and returns once the BMC accepted; a background task then
/// carries the characters both ways, acknowledging what the BMC sends and
/// retransmitting what it has not acknowledged.
///
/// Bounds, all from the node's [`IpmiConfig`]: the session setup follows every
/// command's rule ([`crate::IpmiClient::send`]): a silent BMC fails it within the
/// silence budget ([`IpmiConfig::silence_budget`]: `request_timeout` ×
/// (retries + 1)), a full session table (RMCP+ status 0x01) is asked again with backoff
/// within `ipmi_command_retry_timeout`; Activate Payload is sent once and waited
/// for `request_timeout`; each unacknowledged packet (and each keep-alive
/// or Deactivate Payload request) is sent again after `request_timeout`, at most
/// `retries` times, then the stream fails with [`ErrorKind::Timeout`]; while
/// idle, a keep-alive (Get Device ID) goes out every `keepalive_interval`, so a
/// BMC that died is noticed then (never, with a zero interval). Characters go out
/// in packets of at most the BMC's inbound payload size (from the Activate
/// Payload reply) less the four header bytes, and at most 255.
///
/// A packet the BMC NACKs (its buffer is full, or the host takes no characters
/// now: status bit 5) is sent again every `request_timeout` for as long as the
/// BMC keeps answering: only silence counts toward `retries`.
///
/// `shutdown()` sends what was written, deactivates the payload (Deactivate
/// Payload), closes the session and waits for both; dropping the stream does the
/// same in the background. A cancelled `open` and a background task dropped with
/// its runtime still send Close Session (which ends SOL on the BMC), so no
/// session is left holding SOL. When the BMC ends SOL (status "SOL
/// deactivating"), the characters of its last packet are read, then end of
/// stream; a `flush` then fails (`BrokenPipe`) if written characters were never
/// acknowledged. A malformed or unauthenticated SOL packet is discarded (logged
/// at DEBUG), never trusted.
///
/// # Errors of `open`
///
/// [`ErrorKind::Busy`] when another session holds the SOL payload (completion
/// code 0x80) or the activation limit is reached (0x82);
/// [`ErrorKind::Unsupported`] when SOL is disabled (0x81), cannot be encrypted
/// (0x83), or the BMC asks for SOL on another UDP port;
/// [`ErrorKind::Timeout`] when the BMC is silent (for the silence budget during
/// the session setup, with the message every command's silence has; for
/// `request_timeout` at Activate Payload); the session setup's kinds otherwise
/// (see [`crate::IpmiClient::send`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::Console;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let console = hwctl_ipmi::IpmiConsole::new(hwctl_ipmi::Ipmi::new(bmc.config()));
/// let mut stream = console.open().await?;
/// stream.write_all(b"hello\r").await.unwrap();
/// let mut echo = [0u8; 6];
/// stream.read_exact(&mut echo).await.unwrap(); // the simulated serial line echoes
/// assert_eq!(&echo, b"hello\r");
/// stream.shutdown().await.unwrap(); // Deactivate Payload, Close Session
/// assert!(!bmc.sol_active());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IpmiConsole {
    ipmi: Ipmi,
}

impl IpmiConsole {
    /// The SOL console of the BMC `ipmi` talks to (errors name its driver,
    /// [`Ipmi::driver`]); its own session uses the handle's config.
    pub fn new(ipmi: Ipmi) -> Self {
        IpmiConsole { ipmi }
    }

    /// Opens the SOL session and returns the concrete stream type.
    ///
    /// # Errors
    ///
    /// As [`IpmiConsole`]'s `open`.
    pub async fn open_stream(&self) -> Result<IpmiConsoleStream> {
        self.open_inner()
            .await
            .map_err(|e| e.or_driver(self.ipmi.driver().to_owned()))
    }

    async fn open_inner(&self) -> Result<IpmiConsoleStream> {
        let cfg = Arc::new(self.ipmi.client().config().clone());
        let endpoint = cfg.endpoint();
        let deadline = Instant::now() + cfg.command_retry_timeout;
        // The session setup under the rule of every command's (`attempts::run`):
        // silence within the silence budget, busy refusals (no session slot)
        // within ipmi_command_retry_timeout, other failures `retries` times.
        let tries = Attempts::new(endpoint.clone(), command_text(0x06, 0x48)).bounded(
            cfg.command_retry_timeout,
            Some(cfg.retries.saturating_add(1)),
        );
        let (c, t) = (&*cfg, &tries);
        let session = crate::attempts::run(
            c,
            t,
            Idempotency::Idempotent,
            |until| async move {
                Session::open(c, until, t)
                    .await
                    .map_err(Error::not_delivered)
            },
            || {},
        )
        .await?;
        // From here a cancelled `open` (its future dropped) still closes the
        // session, and with it SOL if it was activated.
        let mut session = Guarded(Some(session));
        let wait = cfg
            .request_timeout
            .min(deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1));
        let data = activate_request();
        let req = Request {
            netfn: 0x06,
            cmd: 0x48,
            data: &data,
        };
        // Sent once: a resend of an activation that succeeded would be refused as
        // "already active". Closing the session deactivates what it activated.
        let exchanged = session
            .get_mut()?
            .exchange(&req, None, cfg.local_address, wait)
            .await;
        // Every early return below closes the session (the guard's drop).
        let (cc, reply) = exchanged.map_err(|e| e.or_operation("Activate Payload"))?;
        if cc != 0 {
            if let Some(s) = session.take() {
                let _ = s.close(cfg.request_timeout).await;
            }
            return Err(activate_error(cc));
        }
        let refuse = |e: Error, session: Guarded| {
            drop(session);
            Err(e.with_operation("Activate Payload"))
        };
        let peer_port = session.get()?.peer_port();
        let act = match decode_activated(&reply) {
            Ok(a) => a,
            Err(e) => return refuse(e.into(), session),
        };
        if act.port != peer_port {
            return refuse(
                Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "{endpoint}: the BMC asks for SOL on UDP port {}, not the session's {}: not supported",
                        act.port, peer_port
                    ),
                ),
                session,
            );
        }
        if usize::from(act.inbound) <= HEADER {
            return refuse(
                Error::protocol(format!(
                    "{endpoint}: the BMC's SOL inbound payload size is {} bytes: no room for characters",
                    act.inbound
                )),
                session,
            );
        }
        let chunk = (usize::from(act.inbound) - HEADER).min(MAX_CHUNK);
        tracing::info!(endpoint = %endpoint, inbound = act.inbound, outbound = act.outbound, "SOL payload activated");
        let (stream, side) = pumped::channel(
            Settings::new("IPMI Serial over LAN", "the SOL session is closed")
                .max_pending_write(MAX_PENDING_WRITE)
                .read_queue(READ_QUEUE)
                // Ended by the BMC ("SOL deactivating") with characters not sent.
                .unsent_at_end_fails(
                    "IPMI Serial over LAN: SOL ended before the characters written were acknowledged",
                )
                .debug_as("IpmiConsoleStream", &[("endpoint", &endpoint)]),
        );
        let now = Instant::now();
        let pump = Pump {
            session,
            cfg,
            side,
            chunk,
            next_seq: 1,
            unacked: None,
            last_in: None,
            paused: false,
            last_heard: now,
            request: None,
            endpoint,
        };
        tokio::spawn(pump.run());
        Ok(stream)
    }
}

#[async_trait]
impl Console for IpmiConsole {
    async fn open(&self) -> Result<ConsoleHandle> {
        Ok(Box::new(self.open_stream().await?))
    }
}

/// An open IPMI SOL console (see [`IpmiConsole`]): a
/// [`PumpedStream`] whose `{:?}` reads
/// `IpmiConsoleStream { endpoint: "<host:port>", .. }`.
///
/// Errors of a failed session read `IPMI Serial over LAN: <message> [<kind>]`; a
/// write after `shutdown()` or the end of SOL fails with `BrokenPipe` ("the SOL
/// session is closed").
pub type IpmiConsoleStream = PumpedStream;

/// The SOL console's session, closed (Close Session, without waiting) when
/// dropped while still held: a cancelled `open`, or the pump task dropped with
/// its runtime. Closing the session ends SOL on the BMC, which would otherwise
/// keep the payload active on a session nobody holds, and refuse the next
/// console with 0x80 ("already active") until the session times out.
struct Guarded(Option<Session>);

impl Guarded {
    fn gone() -> Error {
        Error::new(ErrorKind::Other, "the SOL session is already closed")
    }

    fn get(&self) -> Result<&Session> {
        self.0.as_ref().ok_or_else(Guarded::gone)
    }

    fn get_mut(&mut self) -> Result<&mut Session> {
        self.0.as_mut().ok_or_else(Guarded::gone)
    }

    /// The session, no longer closed on drop (the caller closes it).
    fn take(&mut self) -> Option<Session> {
        self.0.take()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.close_nowait();
        }
    }
}

/// Characters sent and not yet acknowledged.
struct Outgoing {
    seq: u8,
    data: Vec<u8>,
    sent_at: Instant,
    sends: u32,
    /// The BMC acknowledged the packet taking none of it (count 0, no NACK):
    /// it goes again as a new packet (§15.11), when its timer runs out.
    renumber: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Get Device ID while idle.
    KeepAlive,
    /// Deactivate Payload at the end.
    Deactivate,
}

impl Pending {
    fn cmd(self) -> u8 {
        match self {
            Pending::KeepAlive => 0x01,
            Pending::Deactivate => 0x49,
        }
    }
}

/// An IPMI request of the pump waiting for its reply.
struct InFlight {
    what: Pending,
    rq_seq: u8,
    sent_at: Instant,
    sends: u32,
}

/// How the SOL session ended.
enum End {
    /// We deactivated the payload.
    Deactivated,
    /// The BMC said "SOL deactivating".
    ByBmc,
}

/// The background task that owns the SOL session.
struct Pump {
    session: Guarded,
    cfg: Arc<IpmiConfig>,
    side: PumpSide,
    chunk: usize,
    next_seq: u8,
    unacked: Option<Outgoing>,
    /// The last packet of characters received: its sequence number and the count
    /// accepted, acknowledged again when the BMC resends it.
    last_in: Option<(u8, u8)>,
    /// The BMC said "character transfer unavailable".
    paused: bool,
    /// When the BMC last sent a valid packet of this session.
    last_heard: Instant,
    request: Option<InFlight>,
    endpoint: String,
}

impl Pump {
    async fn run(mut self) {
        let end = self.serve().await;
        let unsent = self.unacked.is_some();
        let Pump {
            mut session,
            cfg,
            side,
            endpoint,
            ..
        } = self;
        let error = match end {
            Ok(End::Deactivated) => {
                if let Some(session) = session.take() {
                    match session.close(cfg.request_timeout).await {
                        Ok(()) => {
                            tracing::info!(endpoint = %endpoint, "SOL deactivated, session closed")
                        }
                        Err(e) => {
                            tracing::debug!(endpoint = %endpoint, error = %e, "SOL deactivated; Close Session failed")
                        }
                    }
                }
                None
            }
            Ok(End::ByBmc) => {
                tracing::info!(endpoint = %endpoint, "the BMC ended SOL");
                drop(session); // Close Session, not waited for
                None
            }
            Err(e) => {
                tracing::warn!(endpoint = %endpoint, error = %e, "SOL session failed");
                drop(session);
                Some((e.kind(), e.message().to_owned()))
            }
        };
        {
            let mut st = side.lock();
            // Characters the BMC never acknowledged stay "in flight": a flush
            // then says they were not sent.
            st.set_in_flight(unsent);
            st.finish(error);
        }
        drop(side);
    }

    fn rto(&self) -> Duration {
        self.cfg.request_timeout.max(Duration::from_millis(1))
    }

    fn max_sends(&self) -> u32 {
        self.cfg.retries.saturating_add(1)
    }

    fn take_seq(&mut self) -> u8 {
        let s = self.next_seq;
        self.next_seq = if s >= 15 { 1 } else { s + 1 };
        s
    }

    async fn send_sol(&mut self, p: &SolPacket) -> Result<()> {
        self.session
            .get_mut()?
            .send_payload(payload::SOL, &p.encode())
            .await
    }

    async fn serve(&mut self) -> Result<End> {
        let mut buf = [0u8; MAX_PACKET];
        loop {
            self.send_more().await?;
            let closing_idle = {
                let st = self.side.lock();
                st.closing() && st.queued() == 0 && self.unacked.is_none()
            };
            if closing_idle && self.request.as_ref().map(|r| r.what) != Some(Pending::Deactivate) {
                self.send_request(Pending::Deactivate, 1).await?;
            }
            let wake = self.next_timer();
            enum Event {
                Packet(Result<std::result::Result<(u8, Vec<u8>), String>>),
                Wake,
                Timer,
            }
            let ev = tokio::select! {
                r = async {
                    match self.session.get() {
                        Ok(s) => s.recv_in_session(&mut buf).await,
                        Err(e) => Err(e),
                    }
                } => Event::Packet(r),
                () = self.side.woken() => Event::Wake,
                () = tokio::time::sleep_until(wake) => Event::Timer,
            };
            match ev {
                Event::Packet(r) => match r? {
                    Ok((pt, p)) => {
                        self.last_heard = Instant::now();
                        if let Some(end) = self.on_packet(pt, &p).await? {
                            return Ok(end);
                        }
                    }
                    Err(why) => {
                        tracing::debug!(endpoint = %self.endpoint, %why, "SOL: datagram discarded");
                    }
                },
                Event::Wake => {}
                Event::Timer => self.on_timer().await?,
            }
        }
    }

    /// Sends the next chunk of written characters when none is in flight.
    async fn send_more(&mut self) -> Result<()> {
        if self.unacked.is_some() {
            return Ok(());
        }
        let data: Vec<u8> = {
            let mut st = self.side.lock();
            // Held while the BMC says the host takes no characters, except when
            // closing: then they go out and the retransmission bound applies.
            if st.queued() == 0 || (self.paused && !st.closing()) {
                return Ok(());
            }
            let d = st.take(self.chunk);
            st.set_in_flight(true);
            st.wake_writer();
            d
        };
        self.send_chars(data).await
    }

    async fn send_chars(&mut self, data: Vec<u8>) -> Result<()> {
        let seq = self.take_seq();
        let p = SolPacket {
            seq,
            ack_seq: 0,
            accepted: 0,
            status: 0,
            data,
        };
        self.send_sol(&p).await?;
        self.unacked = Some(Outgoing {
            seq,
            data: p.data,
            sent_at: Instant::now(),
            sends: 1,
            renumber: false,
        });
        Ok(())
    }

    fn next_timer(&self) -> Instant {
        let rto = self.rto();
        let mut at = Instant::now() + Duration::from_secs(3600);
        if let Some(o) = &self.unacked {
            at = at.min(o.sent_at + rto);
        }
        if let Some(r) = &self.request {
            at = at.min(r.sent_at + rto);
        } else if !self.cfg.keepalive_interval.is_zero() {
            at = at.min(self.last_heard + self.cfg.keepalive_interval);
        }
        at
    }

    async fn send_request(&mut self, what: Pending, sends: u32) -> Result<()> {
        let data = deactivate_request();
        let req = Request {
            netfn: 0x06,
            cmd: what.cmd(),
            data: if what == Pending::Deactivate {
                &data
            } else {
                &[]
            },
        };
        let rq_seq = self
            .session
            .get_mut()?
            .send_request(&req, self.cfg.local_address)
            .await?;
        self.request = Some(InFlight {
            what,
            rq_seq,
            sent_at: Instant::now(),
            sends,
        });
        Ok(())
    }

    async fn on_timer(&mut self) -> Result<()> {
        let now = Instant::now();
        let rto = self.rto();
        let max = self.max_sends();
        if self
            .unacked
            .as_ref()
            .is_some_and(|o| o.renumber && o.sent_at + rto <= now)
        {
            let seq = self.take_seq();
            if let Some(o) = self.unacked.as_mut() {
                o.seq = seq;
                o.renumber = false;
            }
        }
        if let Some(o) = self.unacked.as_mut()
            && o.sent_at + rto <= now
        {
            if o.sends >= max {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{}: the BMC did not acknowledge SOL packet {} ({} characters): sent {} times, each waiting {:?}",
                        self.endpoint,
                        o.seq,
                        o.data.len(),
                        o.sends,
                        rto
                    ),
                ));
            }
            o.sends += 1;
            o.sent_at = now;
            let p = SolPacket {
                seq: o.seq,
                ack_seq: 0,
                accepted: 0,
                status: 0,
                data: o.data.clone(),
            };
            self.send_sol(&p).await?;
        }
        if let Some(r) = self.request.as_ref()
            && r.sent_at + rto <= now
        {
            let (what, sends) = (r.what, r.sends);
            if sends >= max {
                let cmd = what.cmd();
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{}: no reply to {} during SOL: sent {sends} times, each waiting {:?}",
                        self.endpoint,
                        command_text(0x06, cmd),
                        rto
                    ),
                ));
            }
            self.send_request(what, sends + 1).await?;
        } else if self.request.is_none()
            && !self.cfg.keepalive_interval.is_zero()
            && self.last_heard + self.cfg.keepalive_interval <= now
        {
            self.send_request(Pending::KeepAlive, 1).await?;
        }
        Ok(())
    }

    async fn on_packet(&mut self, pt: u8, p: &[u8]) -> Result<Option<End>> {
        if pt == payload::IPMI {
            return self.on_ipmi(p);
        }
        if pt != payload::SOL {
            return Ok(None);
        }
        let pkt = match SolPacket::decode(p) {
            Ok(pkt) => pkt,
            Err(e) => {
                tracing::debug!(endpoint = %self.endpoint, error = %e, "SOL: packet discarded");
                return Ok(None);
            }
        };
        self.paused = pkt.status & UNAVAILABLE != 0;
        if pkt.ack_seq != 0 {
            self.on_ack(&pkt).await?;
        }
        let deactivating = pkt.status & DEACTIVATING != 0;
        // Characters first: the BMC's last packet may carry both.
        if pkt.seq != 0 && !pkt.data.is_empty() {
            self.on_chars(pkt).await?;
        }
        Ok(deactivating.then_some(End::ByBmc))
    }

    async fn on_ack(&mut self, pkt: &SolPacket) -> Result<()> {
        let closing = self.side.lock().closing();
        let Some(o) = self.unacked.as_mut().filter(|o| o.seq == pkt.ack_seq) else {
            return Ok(()); // a late or stray acknowledgement
        };
        if pkt.status & NACK != 0 {
            // Not taken (the BMC's buffer is full, or the host takes no
            // characters now: status bit 5): sent again when its timer runs out.
            // A NACK is an answer: the count of sends bounds silence only, so a
            // host that is off for a while does not fail the console. Except
            // when closing: then the bound applies to NACKs too, so `shutdown()`
            // and a dropped stream end even while the host takes nothing.
            if !closing {
                o.sends = 0;
            }
            return Ok(());
        }
        let n = usize::from(pkt.accepted).min(o.data.len());
        if n == 0 {
            // Acknowledged, none taken (a full buffer that does not NACK): as a
            // NACK, an answer, and the characters go again when the timer runs
            // out — at once, a BMC answering so every time made the two sides
            // exchange packets as fast as the network carries them. Again as a
            // new packet: this one's number is settled with a count of 0.
            if !closing {
                o.sends = 0;
            }
            o.renumber = true;
            return Ok(());
        }
        let rest = o.data[n..].to_vec();
        self.unacked = None;
        if rest.is_empty() {
            let mut st = self.side.lock();
            st.set_in_flight(false);
            st.wake_writer();
            Ok(())
        } else {
            // Part accepted: the rest goes again in a new packet (§15.11).
            self.send_chars(rest).await
        }
    }

    async fn on_chars(&mut self, mut pkt: SolPacket) -> Result<()> {
        if let Some((seq, accepted)) = self.last_in
            && seq == pkt.seq
        {
            // A retransmission of what we took: acknowledge it again.
            return self.ack(seq, accepted, 0).await;
        }
        pkt.data.truncate(MAX_CHUNK);
        let n = pkt.data.len() as u8;
        match self.side.push(pkt.data) {
            Pushed::Queued | Pushed::ReaderGone => {
                self.last_in = Some((pkt.seq, n));
                self.ack(pkt.seq, n, 0).await
            }
            // The reader is behind: the BMC sends it again later.
            Pushed::Full => self.ack(pkt.seq, 0, NACK).await,
        }
    }

    async fn ack(&mut self, seq: u8, accepted: u8, op: u8) -> Result<()> {
        let p = SolPacket {
            seq: 0,
            ack_seq: seq,
            accepted,
            status: op,
            data: Vec::new(),
        };
        self.send_sol(&p).await
    }

    fn on_ipmi(&mut self, p: &[u8]) -> Result<Option<End>> {
        let Ok(resp) = wire::decode_response_ref(p) else {
            return Ok(None);
        };
        let Some(r) = self.request.as_ref() else {
            return Ok(None);
        };
        if resp.rq_seq != r.rq_seq || resp.netfn != 0x07 || resp.cmd != r.what.cmd() {
            return Ok(None);
        }
        let what = r.what;
        self.request = None;
        match (what, resp.cc) {
            (Pending::KeepAlive, _) => Ok(None),
            // 0x80: already deactivated (the BMC ended it, or an earlier try did).
            (Pending::Deactivate, 0x00 | 0x80) => Ok(Some(End::Deactivated)),
            (Pending::Deactivate, cc) => Err(crate::client::cc_error(cc, "Deactivate Payload")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packet_layout_matches_table_15_2() {
        let p = SolPacket {
            seq: 3,
            ack_seq: 2,
            accepted: 5,
            status: NACK,
            data: b"ok".to_vec(),
        };
        assert_eq!(p.encode(), [3, 2, 5, 0x40, b'o', b'k']);
        assert_eq!(SolPacket::decode(&p.encode()), Ok(p));
        // An acknowledgement-only packet: sequence 0, no characters.
        let ack = SolPacket::decode(&[0, 7, 12, 0]).unwrap();
        assert_eq!((ack.seq, ack.ack_seq, ack.accepted), (0, 7, 12));
        assert!(ack.data.is_empty());
    }

    #[test]
    fn short_or_out_of_range_packets_are_errors() {
        for bad in [
            &[][..],
            &[1],
            &[1, 0, 0],
            &[0x10, 0, 0, 0],
            &[1, 0xF1, 0, 0],
        ] {
            assert!(SolPacket::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn activate_reply_layout_matches_table_24_2() {
        // Auxiliary data, inbound 0x00FF, outbound 0x0100, port 623, VLAN none.
        let d = [0, 0, 0, 0, 0xFF, 0x00, 0x00, 0x01, 0x6F, 0x02, 0xFF, 0xFF];
        assert_eq!(
            decode_activated(&d),
            Ok(Activated {
                inbound: 255,
                outbound: 256,
                port: 623
            })
        );
        assert!(decode_activated(&d[..11]).is_err());
        assert_eq!(activate_request(), [0x01, 0x01, 0xC4, 0, 0, 0]);
        assert_eq!(deactivate_request(), [0x01, 0x01, 0, 0, 0, 0]);
    }

    #[test]
    fn activate_completion_codes_have_kinds() {
        assert_eq!(activate_error(0x80).kind(), ErrorKind::Busy);
        assert!(activate_error(0x80).to_string().contains("already active"));
        assert_eq!(activate_error(0x81).kind(), ErrorKind::Unsupported);
        assert_eq!(activate_error(0x82).kind(), ErrorKind::Busy);
        assert_eq!(activate_error(0x83).kind(), ErrorKind::Unsupported);
        assert_eq!(activate_error(0xD4).kind(), ErrorKind::PermissionDenied);
    }

    proptest! {
        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = SolPacket::decode(&data);
            let _ = decode_activated(&data);
        }

        #[test]
        fn round_trip(seq in 0u8..16, ack in 0u8..16, accepted in any::<u8>(), status in any::<u8>(),
                      data in proptest::collection::vec(any::<u8>(), 0..255)) {
            let p = SolPacket { seq, ack_seq: ack, accepted, status, data };
            prop_assert_eq!(SolPacket::decode(&p.encode()), Ok(p));
        }
    }
}
