//! The simulated BMC's Serial over LAN, written from the IPMI 2.0 specification
//! (§15.9 table 15-2 packet layout, §15.10–15.11 acknowledgement and retry,
//! §24.1–24.2 Activate/Deactivate Payload), independently of the client's `sol`
//! module: a fake serial line that echoes what it receives and can print a
//! banner, one SOL instance (1) for the whole BMC.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long the BMC waits for an acknowledgement before sending a packet again.
pub(crate) const RETRY_INTERVAL: Duration = Duration::from_millis(250);
/// How many times a packet is sent before the BMC gives up on it (the SOL
/// configuration parameter "retry count" is 0–7 retries).
pub(crate) const MAX_SENDS: u32 = 8;

/// Status bit 6 of a BMC-to-console packet, operation bit 6 of the other way: NACK.
pub(crate) const BIT_NACK: u8 = 1 << 6;
/// Status bit 5 of a BMC-to-console packet: character transfer unavailable.
pub(crate) const BIT_UNAVAILABLE: u8 = 1 << 5;
/// Status bit 4: SOL deactivating.
pub(crate) const BIT_DEACTIVATING: u8 = 1 << 4;

/// A SOL payload as the BMC reads it.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub seq: u8,
    pub ack: u8,
    pub count: u8,
    pub op: u8,
    pub chars: &'a [u8],
}

/// Reads a SOL payload; `None` when shorter than its four header bytes.
pub(crate) fn read_frame(p: &[u8]) -> Option<Frame<'_>> {
    let head = p.get(..4)?;
    Some(Frame {
        seq: head[0] & 0x0F,
        ack: head[1] & 0x0F,
        count: head[2],
        op: head[3],
        chars: &p[4..],
    })
}

/// Writes a SOL payload.
pub(crate) fn frame(seq: u8, ack: u8, count: u8, status: u8, chars: &[u8]) -> Vec<u8> {
    let mut v = vec![seq, ack, count, status];
    v.extend_from_slice(chars);
    v
}

/// The one active SOL instance.
#[derive(Debug)]
pub(crate) struct Line {
    /// The managed session ID it is active on.
    pub sid: u32,
    /// Where that session's console is.
    pub peer: SocketAddr,
    /// What the host printed, not yet sent.
    pub pending: VecDeque<u8>,
    /// A packet sent and not acknowledged: sequence, characters, when, how often.
    pub unacked: Option<(u8, Vec<u8>, Instant, u32)>,
    next_seq: u8,
    /// The last packet of characters taken: sequence and count (acknowledged
    /// again when the console resends it).
    pub last_in: Option<(u8, u8)>,
}

impl Line {
    pub(crate) fn new(sid: u32, peer: SocketAddr, banner: &[u8]) -> Line {
        Line {
            sid,
            peer,
            pending: banner.iter().copied().collect(),
            unacked: None,
            next_seq: 1,
            last_in: None,
        }
    }

    fn seq(&mut self) -> u8 {
        let s = self.next_seq;
        self.next_seq = s % 15 + 1;
        s
    }

    /// The payloads to send now: a retransmission that is due, or the next
    /// packet of at most `max` characters when none is in flight.
    pub(crate) fn due(&mut self, now: Instant, max: usize) -> Vec<Vec<u8>> {
        if let Some((seq, chars, at, sends)) = self.unacked.as_mut() {
            if now.duration_since(*at) < RETRY_INTERVAL {
                return Vec::new();
            }
            if *sends >= MAX_SENDS {
                // Given up, as a BMC does after its retry count.
                self.unacked = None;
            } else {
                *at = now;
                *sends += 1;
                return vec![frame(*seq, 0, 0, 0, chars)];
            }
        }
        if self.pending.is_empty() {
            return Vec::new();
        }
        let n = self.pending.len().min(max.max(1));
        let chars: Vec<u8> = self.pending.drain(..n).collect();
        let seq = self.seq();
        let out = frame(seq, 0, 0, 0, &chars);
        self.unacked = Some((seq, chars, now, 1));
        vec![out]
    }

    /// The console acknowledged (or NACKed) packet `ack`, taking `count` characters.
    pub(crate) fn acked(&mut self, ack: u8, count: u8, op: u8) {
        let Some((seq, chars, _, _)) = self.unacked.as_ref() else {
            return;
        };
        if *seq != ack || op & BIT_NACK != 0 {
            return; // stray, or NACK: sent again on the retry timer
        }
        let taken = usize::from(count).min(chars.len());
        let rest: Vec<u8> = chars[taken..].to_vec();
        self.unacked = None;
        for b in rest.into_iter().rev() {
            self.pending.push_front(b);
        }
    }
}
