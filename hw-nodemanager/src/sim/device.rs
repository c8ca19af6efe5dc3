//! The simulated Node Manager device: a pure `handle(netfn, cmd, data) -> (cc, data)`
//! state machine, written from PROTOCOLS.md §2.8 with its own byte handling (it shares
//! no code with `wire.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const OEM_NETFN: u8 = 0x2E;
const MFG: [u8; 3] = [0x57, 0x01, 0x00];

/// Completion codes the simulator answers with.
pub mod cc {
    /// Success.
    pub const OK: u8 = 0x00;
    /// Node Manager: no such policy.
    pub const BAD_POLICY: u8 = 0x80;
    /// Node Manager: no such domain.
    pub const BAD_DOMAIN: u8 = 0x81;
    /// Invalid command.
    pub const INVALID_COMMAND: u8 = 0xC1;
    /// Request data length invalid.
    pub const BAD_LENGTH: u8 = 0xC7;
    /// Parameter out of range.
    pub const OUT_OF_RANGE: u8 = 0xC9;
    /// Invalid data field in request.
    pub const INVALID_FIELD: u8 = 0xCC;
}

/// A fault the simulator injects into its replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer every request with this completion code.
    CompletionCode(u8),
    /// Cut every successful reply to this many bytes.
    Truncate(usize),
    /// Echo a wrong manufacturer id.
    WrongManufacturer,
    /// Report an unknown domain (0x0F) in policy, capability and statistics replies.
    CorruptDomain,
}

#[derive(Debug, Clone)]
struct SimPolicy {
    enabled: bool,
    // byte 2 of Set Policy: trigger | correction | storage (the 0x10 add flag dropped).
    trigger_flags: u8,
    // byte 3: action | power domain.
    action_flags: u8,
    limit: u16,
    correction_ms: u32,
    trigger_limit: u16,
    period_s: u16,
    suspend: Vec<[u8; 3]>,
}

#[derive(Debug, Clone, Copy)]
struct Stat {
    min: u16,
    max: u16,
    sum: u64,
    samples: u64,
    since: Instant,
}

impl Stat {
    fn new() -> Self {
        Stat {
            min: u16::MAX,
            max: 0,
            sum: 0,
            samples: 0,
            since: Instant::now(),
        }
    }
}

#[derive(Debug)]
struct State {
    version: [u8; 5],
    global_enabled: bool,
    domain_enabled: [bool; 5],
    policies: BTreeMap<(u8, u8), SimPolicy>,
    stats: HashMap<(u8, u8, u8), Stat>,
    ticks: u64,
    requests: u64,
    by_command: BTreeMap<u8, u64>,
    fault: Option<Fault>,
    max_policies: u8,
    clock: Option<u32>,
}

/// What the simulator has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmCounters {
    /// Requests handled.
    pub requests: u64,
    /// Requests per command byte.
    pub by_command: BTreeMap<u8, u64>,
    /// Policies defined now.
    pub policies: usize,
}

/// A stateful Intel Node Manager: policies per domain, suspend periods, policy
/// control, and statistics that move with every read. Cheap to clone (shared state).
///
/// ```
/// use hwctl_nodemanager::sim::NmSimulator;
/// let nm = NmSimulator::new();
/// let (cc, data) = nm.handle(0x2E, 0xCA, &[0x57, 0x01, 0x00]);
/// assert_eq!(cc, 0);
/// assert_eq!(data, [0x57, 0x01, 0x00, 0x05, 0x02, 0x07, 0x01, 0x02]);
/// ```
#[derive(Debug, Clone)]
pub struct NmSimulator {
    state: Arc<Mutex<State>>,
}

impl Default for NmSimulator {
    fn default() -> Self {
        NmSimulator::new()
    }
}

/// A period's day byte may only use bits 0-6.
const DAY_BITS: u8 = 0x7F;

impl NmSimulator {
    /// Node Manager 3.0, IPMI interface 2.0, patch 7, firmware 1.2, all policy control
    /// enabled, no policies, 16 policies at most.
    pub fn new() -> Self {
        NmSimulator {
            state: Arc::new(Mutex::new(State {
                version: [0x05, 0x02, 0x07, 0x01, 0x02],
                global_enabled: true,
                domain_enabled: [true; 5],
                policies: BTreeMap::new(),
                stats: HashMap::new(),
                ticks: 0,
                requests: 0,
                by_command: BTreeMap::new(),
                fault: None,
                max_policies: 16,
                clock: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the version bytes: NM version, IPMI version, patch, firmware major, minor.
    pub fn set_version(&self, version: [u8; 5]) {
        self.lock().version = version;
    }

    /// Fixes the statistics timestamp (IPMI seconds) instead of the wall clock:
    /// `0xFFFFFFFF` for unspecified, small values for relative time.
    pub fn set_clock(&self, raw: Option<u32>) {
        self.lock().clock = raw;
    }

    /// Injects a fault into every following reply (`None` clears it).
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().fault = fault;
    }

    /// What has happened so far.
    pub fn counters(&self) -> NmCounters {
        let s = self.lock();
        NmCounters {
            requests: s.requests,
            by_command: s.by_command.clone(),
            policies: s.policies.len(),
        }
    }

    /// Whether policy `id` exists in `domain` (wire codes).
    pub fn has_policy(&self, domain: u8, id: u8) -> bool {
        self.lock().policies.contains_key(&(domain, id))
    }

    /// Answers one request: `(completion code, response data)`. The response data
    /// starts with the echoed Intel id on success.
    pub fn handle(&self, netfn: u8, cmd: u8, data: &[u8]) -> (u8, Vec<u8>) {
        let mut s = self.lock();
        s.requests += 1;
        *s.by_command.entry(cmd).or_default() += 1;
        if let Some(Fault::CompletionCode(code)) = s.fault {
            return (code, Vec::new());
        }
        if netfn != OEM_NETFN {
            return (cc::INVALID_COMMAND, Vec::new());
        }
        if data.len() < 3 || data[..3] != MFG {
            return (cc::INVALID_FIELD, Vec::new());
        }
        let body = &data[3..];
        let result = match cmd {
            0xCA => s.get_version(body),
            0xC9 => s.get_capabilities(body),
            0xC0 => s.control(body),
            0xC1 => s.set_policy(body),
            0xC2 => s.get_policy(body),
            0xC5 => s.set_suspend(body),
            0xC6 => s.get_suspend(body),
            0xC7 => s.reset_stats(body),
            0xC8 => s.get_stats(body),
            _ => Err(cc::INVALID_COMMAND),
        };
        match result {
            Err(code) => (code, Vec::new()),
            Ok(payload) => {
                let mut out = MFG.to_vec();
                if s.fault == Some(Fault::WrongManufacturer) {
                    out = vec![0x5A, 0x01, 0x00];
                }
                out.extend_from_slice(&payload);
                if let Some(Fault::Truncate(n)) = s.fault {
                    out.truncate(n);
                }
                (cc::OK, out)
            }
        }
    }
}

fn domain_ok(d: u8) -> Result<u8, u8> {
    if d <= 0x04 {
        Ok(d)
    } else {
        Err(cc::BAD_DOMAIN)
    }
}

fn need(body: &[u8], n: usize) -> Result<(), u8> {
    if body.len() < n {
        Err(cc::BAD_LENGTH)
    } else {
        Ok(())
    }
}

fn le16(b: &[u8]) -> u16 {
    u16::from(b[0]) | (u16::from(b[1]) << 8)
}

fn le32(b: &[u8]) -> u32 {
    u32::from(b[0]) | (u32::from(b[1]) << 8) | (u32::from(b[2]) << 16) | (u32::from(b[3]) << 24)
}

impl State {
    fn corrupt(&self, domain_byte: u8) -> u8 {
        if self.fault == Some(Fault::CorruptDomain) {
            domain_byte | 0x0F
        } else {
            domain_byte
        }
    }

    fn get_version(&mut self, _body: &[u8]) -> Result<Vec<u8>, u8> {
        Ok(self.version.to_vec())
    }

    fn get_capabilities(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 2)?;
        let domain = domain_ok(body[0] & 0x0F)?;
        let trigger = body[1] & 0x0F;
        if trigger > 4 {
            return Err(cc::OUT_OF_RANGE);
        }
        let power_domain = body[1] & 0x80;
        // Limits differ by trigger: watts, degrees, seconds.
        let (max_limit, min_limit): (u16, u16) = match trigger {
            0 | 2 => (if domain == 0 { 1200 } else { 400 }, 40),
            1 => (110, 20),
            _ => (3600, 1),
        };
        let mut out = vec![self.max_policies];
        out.extend_from_slice(&max_limit.to_le_bytes());
        out.extend_from_slice(&min_limit.to_le_bytes());
        out.extend_from_slice(&1_000u32.to_le_bytes());
        out.extend_from_slice(&600_000u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&3600u16.to_le_bytes());
        out.push(self.corrupt(domain | power_domain));
        Ok(out)
    }

    fn control(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 3)?;
        let enable = body[0] & 0x01 != 0;
        match body[0] & 0x07 {
            0x00 | 0x01 => self.global_enabled = enable,
            0x02 | 0x03 => {
                let d = domain_ok(body[1] & 0x0F)?;
                self.domain_enabled[usize::from(d)] = enable;
            }
            0x04 | 0x05 => {
                let d = domain_ok(body[1] & 0x0F)?;
                let p = self.policies.get_mut(&(d, body[2])).ok_or(cc::BAD_POLICY)?;
                p.enabled = enable;
            }
            _ => return Err(cc::INVALID_FIELD),
        }
        Ok(Vec::new())
    }

    fn set_policy(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 3)?;
        let d = domain_ok(body[0] & 0x0F)?;
        let id = body[1];
        if body[2] & 0x10 == 0 {
            // Remove.
            return match self.policies.remove(&(d, id)) {
                Some(_) => Ok(Vec::new()),
                None => Err(cc::BAD_POLICY),
            };
        }
        need(body, 14)?;
        if body[2] & 0x0F > 4 || body[2] & 0x60 == 0x60 {
            return Err(cc::OUT_OF_RANGE);
        }
        if !self.policies.contains_key(&(d, id))
            && self.policies.len() >= usize::from(self.max_policies)
        {
            return Err(0xC4);
        }
        let suspend = self
            .policies
            .get(&(d, id))
            .map(|p| p.suspend.clone())
            .unwrap_or_default();
        self.policies.insert(
            (d, id),
            SimPolicy {
                enabled: body[0] & 0x10 != 0,
                trigger_flags: body[2] & !0x10,
                action_flags: body[3] & 0x81,
                limit: le16(&body[4..6]),
                correction_ms: le32(&body[6..10]),
                trigger_limit: le16(&body[10..12]),
                period_s: le16(&body[12..14]),
                suspend,
            },
        );
        Ok(Vec::new())
    }

    fn get_policy(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 2)?;
        let d = domain_ok(body[0] & 0x0F)?;
        let p = self.policies.get(&(d, body[1])).ok_or(cc::BAD_POLICY)?;
        let mut b0 = d;
        if p.enabled {
            b0 |= 0x10;
        }
        if self.domain_enabled[usize::from(d)] {
            b0 |= 0x20;
        }
        if self.global_enabled {
            b0 |= 0x40;
        }
        // bit 7 clear: created by Node Manager's own interface.
        let mut out = vec![self.corrupt(b0), p.trigger_flags | 0x10, p.action_flags];
        out.extend_from_slice(&p.limit.to_le_bytes());
        out.extend_from_slice(&p.correction_ms.to_le_bytes());
        out.extend_from_slice(&p.trigger_limit.to_le_bytes());
        out.extend_from_slice(&p.period_s.to_le_bytes());
        Ok(out)
    }

    fn set_suspend(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 3)?;
        let d = domain_ok(body[0] & 0x0F)?;
        let n = usize::from(body[2]);
        if n > 5 {
            return Err(cc::OUT_OF_RANGE);
        }
        need(body, 3 + 3 * n)?;
        let mut periods = Vec::with_capacity(n);
        for i in 0..n {
            let p = [body[3 + 3 * i], body[4 + 3 * i], body[5 + 3 * i]];
            if p[0] > 240 || p[1] > 240 || p[2] & !DAY_BITS != 0 {
                return Err(cc::OUT_OF_RANGE);
            }
            periods.push(p);
        }
        let policy = self.policies.get_mut(&(d, body[1])).ok_or(cc::BAD_POLICY)?;
        policy.suspend = periods;
        Ok(Vec::new())
    }

    fn get_suspend(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 2)?;
        let d = domain_ok(body[0] & 0x0F)?;
        let policy = self.policies.get(&(d, body[1])).ok_or(cc::BAD_POLICY)?;
        let mut out = vec![u8::try_from(policy.suspend.len()).unwrap_or(0)];
        for p in &policy.suspend {
            out.extend_from_slice(p);
        }
        Ok(out)
    }

    fn reset_stats(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 3)?;
        let (mode, d, id) = (body[0], domain_ok(body[1] & 0x0F)?, body[2]);
        match mode {
            0x00 => self.stats.retain(|k, _| !(k.1 == d && k.0 < 0x10)),
            0x01 => {
                if !self.policies.contains_key(&(d, id)) {
                    return Err(cc::BAD_POLICY);
                }
                self.stats
                    .retain(|k, _| !(k.0 >= 0x10 && k.0 < 0x20 && k.1 == d && k.2 == id));
            }
            0x1B..=0x1F => {
                self.stats.remove(&(mode, 0, 0));
            }
            _ => return Err(cc::INVALID_FIELD),
        }
        Ok(Vec::new())
    }

    fn timestamp(&self) -> u32 {
        self.clock.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX - 1))
                .unwrap_or(0)
        })
    }

    fn get_stats(&mut self, body: &[u8]) -> Result<Vec<u8>, u8> {
        need(body, 3)?;
        let (mode, d) = (body[0], domain_ok(body[1] & 0x0F)?);
        let special = (0x1B..=0x1F).contains(&mode);
        let (d, id) = match mode {
            0x01..=0x06 => (d, 0),
            0x11..=0x13 => {
                if !self.policies.contains_key(&(d, body[2])) {
                    return Err(cc::BAD_POLICY);
                }
                (d, body[2])
            }
            m if special => {
                let _ = m;
                (0, 0)
            }
            _ => return Err(cc::INVALID_FIELD),
        };
        // A reading that moves: a base per mode and domain plus a sawtooth.
        self.ticks += 1;
        let base: u16 = match mode {
            0x01 | 0x06 | 0x11 => 180 - 30 * u16::from(d.min(4)),
            0x02 | 0x05 | 0x12 => 24 + u16::from(d),
            0x03 | 0x13 | 0x1D | 0x1E => 2,
            0x04 => 60,
            _ => 5,
        };
        let current = base + u16::try_from(self.ticks % 17).unwrap_or(0) * 3;
        let stat = self.stats.entry((mode, d, id)).or_insert_with(Stat::new);
        stat.min = stat.min.min(current);
        stat.max = stat.max.max(current);
        stat.sum += u64::from(current);
        stat.samples += 1;
        let avg = u16::try_from(stat.sum / stat.samples).unwrap_or(u16::MAX);
        let period = u32::try_from(stat.since.elapsed().as_secs()).unwrap_or(u32::MAX);
        let (min, max) = (stat.min, stat.max);
        let mut flags = d;
        let enabled = if id == 0 {
            self.global_enabled
        } else {
            self.policies.get(&(d, id)).is_some_and(|p| p.enabled)
        };
        if enabled {
            flags |= 0x10 | 0x20;
        }
        flags |= 0x40; // measuring
        if id != 0
            && enabled
            && self
                .policies
                .get(&(d, id))
                .is_some_and(|p| current > p.limit)
        {
            flags |= 0x80;
        }
        let mut out = Vec::with_capacity(17);
        for v in [current, min, max, avg] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.timestamp().to_le_bytes());
        out.extend_from_slice(&period.to_le_bytes());
        out.push(self.corrupt(flags));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &NmSimulator, cmd: u8, body: &[u8]) -> (u8, Vec<u8>) {
        let mut d = MFG.to_vec();
        d.extend_from_slice(body);
        s.handle(0x2E, cmd, &d)
    }

    #[test]
    fn policy_life_cycle() {
        let s = NmSimulator::new();
        assert_eq!(req(&s, 0xC2, &[0, 9]).0, cc::BAD_POLICY);
        let set = [
            0x11, 9, 0x12, 0x80, 0xE8, 3, 0xD0, 7, 0, 0, 0x64, 0, 0x58, 2,
        ];
        assert_eq!(req(&s, 0xC1, &set), (0, MFG.to_vec()));
        let (code, data) = req(&s, 0xC2, &[1, 9]);
        assert_eq!(code, 0);
        assert_eq!(
            data[3..],
            [0x71, 0x12, 0x80, 0xE8, 3, 0xD0, 7, 0, 0, 0x64, 0, 0x58, 2]
        );
        assert_eq!(req(&s, 0xC0, &[0x04, 1, 9]).0, 0);
        assert_eq!(req(&s, 0xC2, &[1, 9]).1[3], 0x61);
        assert_eq!(req(&s, 0xC5, &[1, 9, 1, 10, 20, 0x41]).0, 0);
        assert_eq!(req(&s, 0xC6, &[1, 9]).1[3..], [1, 10, 20, 0x41]);
        assert_eq!(
            req(&s, 0xC1, &[1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).0,
            0
        );
        assert_eq!(req(&s, 0xC6, &[1, 9]).0, cc::BAD_POLICY);
        assert_eq!(s.counters().requests, 9);
    }

    #[test]
    fn statistics_move_and_reset() {
        let s = NmSimulator::new();
        let a = req(&s, 0xC8, &[0x01, 0, 0]).1;
        let b = req(&s, 0xC8, &[0x01, 0, 0]).1;
        assert_ne!(a[3..5], b[3..5]);
        assert_eq!(a.len(), 20);
        assert_eq!(req(&s, 0xC7, &[0x00, 0, 0]).0, 0);
        let c = req(&s, 0xC8, &[0x01, 0, 0]).1;
        // After a reset min == max == current.
        assert_eq!(c[3..5], c[5..7]);
        assert_eq!(c[3..5], c[7..9]);
    }

    #[test]
    fn faults_and_bad_requests() {
        let s = NmSimulator::new();
        assert_eq!(s.handle(0x2E, 0xCA, &[0x57]).0, cc::INVALID_FIELD);
        assert_eq!(s.handle(0x06, 0x01, &[]).0, cc::INVALID_COMMAND);
        assert_eq!(req(&s, 0xC2, &[7, 1]).0, cc::BAD_DOMAIN);
        s.set_fault(Some(Fault::Truncate(5)));
        assert_eq!(req(&s, 0xCA, &[]).1.len(), 5);
        s.set_fault(Some(Fault::CompletionCode(0xC0)));
        assert_eq!(req(&s, 0xCA, &[]).0, 0xC0);
    }
}
