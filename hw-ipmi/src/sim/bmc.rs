//! The simulated BMC's state machine: sessions, commands, bridging, faults.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use std::net::SocketAddr;

use super::codec::{self, Msg, Suite};
use super::sol;
use super::{BridgeReplyStyle, Fault, IpmiSimConfig, IpmiSimStats, SatelliteHandler, SimUser};

/// What chassis control did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimPowerLog {
    /// Chassis Control request bytes, in order.
    pub controls: Vec<u8>,
    /// Diagnostic interrupts (NMI) received.
    pub nmis: u32,
}

enum Stage {
    /// Open Session answered; waiting for RAKP 1.
    Opened,
    /// RAKP 2 sent; waiting for RAKP 3.
    Challenged {
        rm: [u8; 16],
        rc: [u8; 16],
        role: u8,
        user: SimUser,
    },
    Active {
        k1: Vec<u8>,
        aes: [u8; 16],
        priv_now: u8,
        priv_max: u8,
        out_seq: u32,
    },
}

struct Sess {
    console_id: u32,
    suite: Suite,
    stage: Stage,
    last: Instant,
    /// Counts the session as open in `hwctl_sim`'s counters while it is active.
    open: Option<hwctl_sim::SessionGuard>,
}

pub(crate) struct State {
    pub(crate) cfg: IpmiSimConfig,
    power: bool,
    pending_power: Option<(Instant, bool)>,
    pub(crate) power_log: SimPowerLog,
    pub(crate) boot_flags: [u8; 5],
    /// When the boot flags were last set valid with no Chassis Control since.
    boot_flags_set_at: Option<Instant>,
    /// Boot option parameter 3: bit 3 set = no 60-second clearing.
    pub(crate) valid_bit_clearing: u8,
    pub(crate) fault: Fault,
    /// `hwctl_sim`'s counters: datagrams as requests, active sessions, failed logins,
    /// faults injected.
    pub(crate) counters: hwctl_sim::Counters,
    sessions: HashMap<u32, Sess>,
    stats: IpmiSimStats,
    guid: [u8; 16],
    sdr: Vec<Vec<u8>>,
    reservation: u16,
    pub(crate) sensors: HashMap<u8, u8>,
    pub(crate) sensor_states: HashMap<u8, u16>,
    pub(crate) sensor_flags: HashMap<u8, u8>,
    /// Another console reserves the repository during our first partial read of
    /// each record (the records hit so far).
    pub(crate) sdr_contention: Option<HashSet<u16>>,
    /// The largest partial Get SDR answered; more is 0xCA.
    pub(crate) sdr_max_read: Option<usize>,
    /// The next `n` Get SDR / Reserve SDR Repository requests answer `cc`.
    pub(crate) sdr_transient: Option<(u8, u32)>,
    /// Open Session is refused with status 0x01 until then.
    pub(crate) table_full_until: Option<Instant>,
    pub(crate) sensor_cc: HashMap<u8, u8>,
    pub(crate) satellites: HashMap<(u8, u8), Arc<dyn SatelliteHandler>>,
    pub(crate) transits: HashSet<(u8, u8)>,
    pub(crate) bmc_handler: Option<Arc<dyn SatelliteHandler>>,
    /// The active SOL instance, if any.
    pub(crate) sol: Option<sol::Line>,
    /// Everything the consoles sent on SOL (the serial line's input).
    pub(crate) sol_received: Vec<u8>,
    /// Where the datagram being handled came from.
    peer: Option<SocketAddr>,
    /// The UDP port the BMC listens on (the SOL payload port it reports).
    pub(crate) port: u16,
    /// Datagrams to send outside a reply (SOL), with their destination.
    pub(crate) outbox: Vec<(Vec<u8>, SocketAddr)>,
    /// SOL packets from the console still to be lost (as on a lossy network).
    pub(crate) sol_drop: u32,
    /// The host takes no characters now (IPMI 2.0 table 15-2 status bit 5):
    /// packets of characters are NACKed with that bit set.
    pub(crate) sol_unavailable: bool,
    /// The most characters taken from one console packet (the rest is left to
    /// the console to send again, IPMI 2.0 §15.11); `None`: all.
    pub(crate) sol_accept: Option<usize>,
}

/// The channel number of the simulated LAN interface.
const LAN_CHANNEL: u8 = 1;

struct DeviceId;

impl SatelliteHandler for DeviceId {
    fn handle(&self, netfn: u8, cmd: u8, _data: &[u8]) -> (u8, Vec<u8>) {
        if (netfn, cmd) == (0x06, 0x01) {
            (
                0,
                vec![
                    0x50, 0x01, 0x04, 0x00, 0x02, 0x21, 0x57, 0x01, 0x00, 0x0B, 0x00,
                ],
            )
        } else {
            (0xC1, Vec::new())
        }
    }
}

/// A full sensor record body (after the header) for a linear threshold sensor.
fn full_sensor(number: u8, sensor_type: u8, unit: u8, m: i16, r_exp: i8, name: &str) -> Vec<u8> {
    let mut b = vec![0u8; 43];
    b[0] = 0x20; // owner: BMC
    b[1] = 0x00; // LUN
    b[2] = number;
    b[3] = 0x03; // entity: processor
    b[4] = 0x01;
    b[5] = 0x7F; // initialization
    b[6] = 0x68; // capabilities
    b[7] = sensor_type;
    b[8] = 0x01; // threshold
    b[15] = 0x00; // unsigned
    b[16] = unit;
    b[18] = 0x00; // linear
    let m10 = (m as u16) & 0x3FF;
    b[19] = (m10 & 0xFF) as u8;
    b[20] = ((m10 >> 8) as u8) << 6;
    b[21] = 0; // B
    b[22] = 0;
    b[23] = 0;
    b[24] = ((r_exp as u8) & 0x0F) << 4; // R exp, B exp 0
    let name = &name.as_bytes()[..name.len().min(16)];
    b[42] = 0xC0 | name.len() as u8;
    b.extend_from_slice(name);
    b
}

/// A compact sensor record body (after the header) for a discrete sensor.
fn compact_discrete(
    number: u8,
    entity: u8,
    sensor_type: u8,
    reading_type: u8,
    name: &str,
) -> Vec<u8> {
    let mut b = vec![0u8; 27];
    b[0] = 0x20; // owner: BMC
    b[1] = 0x00; // LUN
    b[2] = number;
    b[3] = entity;
    b[4] = 0x01; // instance
    b[5] = 0x7F; // initialization
    b[6] = 0x40; // capabilities: auto re-arm
    b[7] = sensor_type;
    b[8] = reading_type;
    b[9] = 0x01; // assertion mask: offset 0
    b[13] = 0x01; // reading mask: offset 0
    let name = &name.as_bytes()[..name.len().min(16)];
    b[26] = 0xC0 | name.len() as u8;
    b.extend_from_slice(name);
    b
}

impl State {
    pub(crate) fn new(cfg: IpmiSimConfig) -> State {
        let mut s = State {
            power: cfg.power_on,
            pending_power: None,
            power_log: SimPowerLog::default(),
            boot_flags: [0; 5],
            boot_flags_set_at: None,
            valid_bit_clearing: 0,
            fault: Fault::None,
            counters: hwctl_sim::Counters::new(),
            sessions: HashMap::new(),
            stats: IpmiSimStats::default(),
            guid: rand::random(),
            sdr: Vec::new(),
            reservation: 0,
            sensors: HashMap::new(),
            sensor_states: HashMap::new(),
            sensor_flags: HashMap::new(),
            sdr_contention: None,
            sdr_max_read: None,
            sdr_transient: None,
            table_full_until: None,
            sensor_cc: HashMap::new(),
            satellites: HashMap::new(),
            transits: HashSet::new(),
            bmc_handler: None,
            sol: None,
            sol_received: Vec::new(),
            peer: None,
            port: 0,
            outbox: Vec::new(),
            sol_drop: 0,
            sol_unavailable: false,
            sol_accept: None,
            cfg,
        };
        s.add_sdr(0x01, &full_sensor(1, 0x01, 1, 1, 0, "CPU Temp"));
        s.add_sdr(0x01, &full_sensor(2, 0x04, 18, 50, 0, "FAN1"));
        s.add_sdr(0x01, &full_sensor(3, 0x02, 4, 6, -2, "12V"));
        s.add_sdr(0x01, &full_sensor(4, 0x08, 6, 2, 0, "PSU1 Power"));
        s.sensors.extend([(1, 45), (2, 100), (3, 200), (4, 120)]);
        if let Some((ch, addr)) = s.cfg.node_manager {
            // Intel NM OEM record: Intel IANA, 0x0D, 0x01, address, channel << 4.
            s.add_sdr(
                0xC0,
                &[0x57, 0x01, 0x00, 0x0D, 0x01, addr, (ch & 0x0F) << 4, 0x00],
            );
            s.satellites.insert((ch & 0x0F, addr), Arc::new(DeviceId));
        }
        // A discrete power-supply status sensor (sensor-specific, offset 0 =
        // presence detected) in a compact record, after the NM record.
        s.add_sdr(0x02, &compact_discrete(5, 0x0A, 0x08, 0x6F, "PSU1 Status"));
        s.sensors.insert(5, 0);
        s.sensor_states.insert(5, 0x0001);
        s
    }

    pub(crate) fn add_sdr(&mut self, record_type: u8, body: &[u8]) -> u16 {
        let id = self.sdr.len() as u16 + 1;
        let mut r = vec![
            (id & 0xFF) as u8,
            (id >> 8) as u8,
            0x51,
            record_type,
            body.len().min(255) as u8,
        ];
        r.extend_from_slice(&body[..body.len().min(255)]);
        self.sdr.push(r);
        self.reservation = self.reservation.wrapping_add(1);
        id
    }

    pub(crate) fn stats_now(&mut self) -> IpmiSimStats {
        self.expire();
        let mut s = self.stats;
        s.open_sessions = self.active_count();
        s
    }

    fn active_count(&self) -> usize {
        self.sessions
            .values()
            .filter(|s| matches!(s.stage, Stage::Active { .. }))
            .count()
    }

    fn expire(&mut self) {
        let timeout = self.cfg.session_timeout;
        let half_open = if self.fault == Fault::HoldHalfOpenSessions {
            timeout
        } else {
            self.cfg.half_open_timeout.min(timeout)
        };
        let mut expired_active = 0;
        self.sessions.retain(|_, s| {
            let active = matches!(s.stage, Stage::Active { .. });
            let keep = s.last.elapsed() < if active { timeout } else { half_open };
            if !keep && active {
                expired_active += 1;
            }
            keep
        });
        self.stats.sessions_timed_out += expired_active;
    }

    /// Frees the slot of the oldest half-open session, if any (not under
    /// [`Fault::HoldHalfOpenSessions`]): a full table of sessions nobody
    /// authenticated must not lock out a user who can.
    fn reclaim_half_open(&mut self) -> bool {
        if self.fault == Fault::HoldHalfOpenSessions {
            return false;
        }
        let oldest = self
            .sessions
            .iter()
            .filter(|(_, s)| !matches!(s.stage, Stage::Active { .. }))
            .min_by_key(|(_, s)| s.last)
            .map(|(id, _)| *id);
        match oldest {
            Some(id) => {
                self.sessions.remove(&id);
                self.stats.half_open_reclaimed += 1;
                true
            }
            None => false,
        }
    }

    /// IPMI 2.0 §28.12: clears the boot flags' valid bit when no Chassis Control
    /// followed their setting within `boot_flag_timeout`, unless parameter 3
    /// disabled the timer.
    pub(crate) fn apply_boot_flag_timer(&mut self) {
        if let Some(at) = self.boot_flags_set_at
            && at.elapsed() >= self.cfg.boot_flag_timeout
        {
            self.boot_flags_set_at = None;
            if self.valid_bit_clearing & 0x08 == 0 {
                self.boot_flags[0] &= 0x7F;
            }
        }
    }

    pub(crate) fn power(&mut self) -> bool {
        if let Some((at, on)) = self.pending_power
            && Instant::now() >= at
        {
            self.set_power_now(on);
            self.pending_power = None;
        }
        self.power
    }

    fn set_power_now(&mut self, on: bool) {
        if on && !self.power && self.boot_flags[0] & 0xC0 == 0x80 {
            // A one-time boot override is consumed by the boot.
            self.boot_flags = [0; 5];
        }
        self.power = on;
    }

    pub(crate) fn force_power(&mut self, on: bool) {
        self.pending_power = None;
        self.power = on;
    }

    fn schedule_power(&mut self, on: bool) {
        if self.cfg.power_delay.is_zero() {
            self.set_power_now(on);
        } else {
            self.pending_power = Some((Instant::now() + self.cfg.power_delay, on));
        }
    }

    /// Handles one datagram from `peer`; returns the datagrams to send back.
    pub(crate) fn handle_from(&mut self, dgram: &[u8], peer: SocketAddr) -> Vec<Vec<u8>> {
        self.peer = Some(peer);
        let out = self.handle(dgram);
        self.peer = None;
        out
    }

    /// Handles one datagram; returns the datagrams to send back.
    pub(crate) fn handle(&mut self, dgram: &[u8]) -> Vec<Vec<u8>> {
        self.stats.packets += 1;
        self.counters.request();
        self.expire();
        match self.fault {
            Fault::Silence => {
                self.counters.fault_injected();
                return Vec::new();
            }
            Fault::Garbage => {
                // Not RMCP at all: a client must call it a protocol error.
                self.counters.fault_injected();
                let mut junk = b"not an RMCP packet ".to_vec();
                junk.extend(rand::random::<[u8; 13]>());
                return vec![junk];
            }
            _ => {}
        }
        if let Some(msg) = codec::split_v15(dgram) {
            return match self.presession_v15(msg) {
                Some(p) => vec![p],
                None => {
                    self.stats.dropped += 1;
                    Vec::new()
                }
            };
        }
        let Some(pkt) = codec::split(dgram) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        let out = match pkt.ptype {
            0x10 => self.open_session(pkt.payload),
            0x12 => self.rakp1(pkt.payload),
            0x14 => self.rakp3(pkt.payload),
            0x00 if self.fault == Fault::SilentInSession => {
                self.counters.fault_injected();
                return Vec::new();
            }
            0x00 => return self.ipmi(&pkt),
            0x01 if self.fault == Fault::SilentInSession => {
                self.counters.fault_injected();
                return Vec::new();
            }
            0x01 if self.sol_drop > 0 => {
                self.sol_drop -= 1;
                self.counters.fault_injected();
                return Vec::new();
            }
            0x01 => return self.sol_payload(&pkt),
            _ => None,
        };
        match out {
            Some(p) => vec![p],
            None => {
                self.stats.dropped += 1;
                Vec::new()
            }
        }
    }

    /// A session-less IPMI v1.5 request: only Get Channel Authentication
    /// Capabilities is answered (IPMI 2.0 §13.14: consoles send it before Open
    /// Session); anything else gets "insufficient privilege", as outside a session.
    fn presession_v15(&mut self, msg: &[u8]) -> Option<Vec<u8>> {
        let req = codec::parse_msg(msg)?;
        self.stats.presession += 1;
        let (cc, data) = match (req.netfn, req.cmd) {
            (0x06, 0x38) => self.channel_auth_caps(&req.data),
            (0x06, 0x54) if self.cfg.list_cipher_suites => self.channel_cipher_suites(&req.data),
            (0x06, 0x54) => (0xC1, Vec::new()),
            _ => (0xD4, Vec::new()),
        };
        Some(codec::build_v15(&codec::reply_to(&req, cc, &data)))
    }

    /// Get Channel Authentication Capabilities (App 0x38): this LAN channel speaks
    /// IPMI 2.0 (RMCP+) only, no IPMI v1.5 authentication types.
    pub(crate) fn channel_auth_caps(&self, d: &[u8]) -> (u8, Vec<u8>) {
        let (Some(&chan), Some(&privilege)) = (d.first(), d.get(1)) else {
            return (0xC7, Vec::new());
        };
        if d.len() != 2 {
            return (0xC7, Vec::new());
        }
        let channel = chan & 0x0F;
        if channel != LAN_CHANNEL && channel != 0x0E {
            return (0xCC, Vec::new());
        }
        if !(1..=5).contains(&(privilege & 0x0F)) {
            return (0xCC, Vec::new());
        }
        let users = &self.cfg.users;
        let mut login = 0u8;
        if users.iter().any(|u| !u.name.is_empty()) {
            login |= 0x04; // non-null user names
        }
        if users
            .iter()
            .any(|u| u.name.is_empty() && !u.password.is_empty())
        {
            login |= 0x02; // null user name, non-null password
        }
        if users
            .iter()
            .any(|u| u.name.is_empty() && u.password.is_empty())
        {
            login |= 0x01; // anonymous
        }
        let mut out = vec![LAN_CHANNEL];
        if chan & 0x80 != 0 {
            // v2.0 extended data: byte 3 bit 7, byte 5 = IPMI 2.0 connections only.
            let ext = if self.fault == Fault::Ipmi15Only {
                0x01
            } else {
                0x02
            };
            out.extend([0x80, login, ext]);
        } else {
            out.extend([0x00, login, 0x00]);
        }
        out.extend([0, 0, 0, 0]); // OEM ID, OEM auxiliary data
        (0, out)
    }

    /// Get Channel Cipher Suites (App 0x54, IPMI 2.0 §22.15), "list algorithms by
    /// cipher suite" for the IPMI payload: 16 bytes of records per list index.
    pub(crate) fn channel_cipher_suites(&self, d: &[u8]) -> (u8, Vec<u8>) {
        let (Some(&chan), Some(&payload), Some(&index)) = (d.first(), d.get(1), d.get(2)) else {
            return (0xC7, Vec::new());
        };
        if chan & 0x0F != LAN_CHANNEL && chan & 0x0F != 0x0E {
            return (0xCC, Vec::new());
        }
        let mut records = Vec::new();
        if payload == 0 {
            for s in self.cfg.suites.iter().filter_map(|&id| Suite::by_id(id)) {
                records.extend([
                    0xC0,
                    s.id,
                    s.auth_alg,
                    0x40 | s.integ_alg,
                    0x80 | s.conf_alg,
                ]);
            }
        }
        let start = usize::from(index & 0x3F) * 16;
        let mut out = vec![LAN_CHANNEL];
        out.extend(records.iter().skip(start).take(16));
        (0, out)
    }

    fn open_session(&mut self, p: &[u8]) -> Option<Vec<u8>> {
        if p.len() < 32 {
            return None;
        }
        let tag = p[0];
        let console_id = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
        let algs = [p[12], p[20], p[28]];
        let fail = |status: u8| {
            let mut r = vec![tag, status, 0, 0];
            r.extend(console_id.to_le_bytes());
            Some(codec::build(0x11, 0, 0, &r, None))
        };
        let suite = self
            .cfg
            .suites
            .iter()
            .filter_map(|&id| Suite::by_id(id))
            .find(|s| [s.auth_alg, s.integ_alg, s.conf_alg] == algs);
        let Some(suite) = suite else {
            if self.cfg.drop_unoffered_suites {
                // As some firmware does: no answer at all to a suite it lacks.
                return None;
            }
            return fail(0x11);
        };
        if self.table_full_until.is_some_and(|t| Instant::now() < t) {
            return fail(0x01);
        }
        if self.sessions.len() >= self.cfg.max_sessions && !self.reclaim_half_open() {
            return fail(0x01);
        }
        let mut managed: u32 = rand::random::<u32>() | 0x100;
        while self.sessions.contains_key(&managed) {
            managed = managed.wrapping_add(1) | 0x100;
        }
        self.sessions.insert(
            managed,
            Sess {
                console_id,
                suite,
                stage: Stage::Opened,
                last: Instant::now(),
                open: None,
            },
        );
        let mut r = vec![tag, 0, 4, 0];
        r.extend(console_id.to_le_bytes());
        r.extend(managed.to_le_bytes());
        r.extend([0, 0, 0, 8, suite.auth_alg, 0, 0, 0]);
        r.extend([1, 0, 0, 8, suite.integ_alg, 0, 0, 0]);
        r.extend([2, 0, 0, 8, suite.conf_alg, 0, 0, 0]);
        Some(codec::build(0x11, 0, 0, &r, None))
    }

    fn rakp1(&mut self, p: &[u8]) -> Option<Vec<u8>> {
        if p.len() < 28 {
            return None;
        }
        let tag = p[0];
        let managed = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
        let rm: [u8; 16] = p[8..24].try_into().ok()?;
        let role = p[24];
        let ulen = usize::from(p[27]);
        let uname = p.get(28..28 + ulen)?.to_vec();
        let guid = self.guid;
        let user = self
            .cfg
            .users
            .iter()
            .find(|u| u.name.as_bytes() == uname.as_slice())
            .cloned();
        let sess = self.sessions.get_mut(&managed)?;
        let console_id = sess.console_id;
        let fail = |status: u8| {
            let mut r = vec![tag, status, 0, 0];
            r.extend(console_id.to_le_bytes());
            Some(codec::build(0x13, 0, 0, &r, None))
        };
        if !matches!(sess.stage, Stage::Opened) {
            return fail(0x02);
        }
        let bad_credentials = self.fault == Fault::BadCredentials;
        if bad_credentials {
            self.counters.fault_injected();
        }
        let Some(user) = user.filter(|_| !bad_credentials) else {
            self.sessions.remove(&managed);
            self.stats.auth_failures += 1;
            self.counters.failed_login();
            return fail(0x0D);
        };
        if role & 0x0F > user.max_priv || role & 0x0F == 0 || role & 0x0F > 5 {
            self.sessions.remove(&managed);
            return fail(0x09);
        }
        let rc: [u8; 16] = rand::random();
        let code = sess.suite.mac(
            user.password.as_bytes(),
            &[
                &console_id.to_le_bytes(),
                &managed.to_le_bytes(),
                &rm,
                &rc,
                &guid,
                &[role, uname.len() as u8],
                &uname,
            ],
        );
        sess.stage = Stage::Challenged { rm, rc, role, user };
        sess.last = Instant::now();
        let mut r = vec![tag, 0, 0, 0];
        r.extend(console_id.to_le_bytes());
        r.extend(rc);
        r.extend(guid);
        r.extend(code);
        Some(codec::build(0x13, 0, 0, &r, None))
    }

    fn rakp3(&mut self, p: &[u8]) -> Option<Vec<u8>> {
        if p.len() < 8 {
            return None;
        }
        let tag = p[0];
        let managed = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
        let guid = self.guid;
        let sess = self.sessions.get_mut(&managed)?;
        let console_id = sess.console_id;
        let suite = sess.suite;
        let Stage::Challenged { rm, rc, role, user } = &sess.stage else {
            return None;
        };
        let (rm, rc, role, user) = (*rm, *rc, *role, user.clone());
        let uname = user.name.as_bytes();
        let pw = user.password.as_bytes();
        let want = suite.mac(
            pw,
            &[
                &rc,
                &console_id.to_le_bytes(),
                &[role, uname.len() as u8],
                uname,
            ],
        );
        if p[1] != 0 || want.as_slice() != &p[8..] {
            self.sessions.remove(&managed);
            self.stats.auth_failures += 1;
            self.counters.failed_login();
            let mut r = vec![tag, 0x0F, 0, 0];
            r.extend(console_id.to_le_bytes());
            return Some(codec::build(0x15, 0, 0, &r, None));
        }
        // §13.31: the SIK is keyed with the BMC key Kg; a null (absent or all-zero)
        // Kg means the user's password key KUID. Zero padding to 20 bytes does not
        // change an HMAC key shorter than the hash block, so neither is padded here.
        let kg = self
            .cfg
            .bmc_key
            .as_deref()
            .filter(|k| k.iter().any(|b| *b != 0));
        let sik = suite.mac(
            kg.unwrap_or(pw),
            &[&rm, &rc, &[role, uname.len() as u8], uname],
        );
        let k1 = suite.mac(&sik, &[&[1u8; 20]]);
        let k2 = suite.mac(&sik, &[&[2u8; 20]]);
        let mut aes = [0u8; 16];
        aes.copy_from_slice(&k2[..16]);
        let mut icv = suite.mac(&sik, &[&rm, &managed.to_le_bytes(), &guid]);
        icv.truncate(suite.icv_len());
        let priv_max = role & 0x0F;
        sess.stage = Stage::Active {
            k1,
            aes,
            priv_now: priv_max.min(2),
            priv_max,
            out_seq: 1,
        };
        sess.last = Instant::now();
        sess.open = Some(self.counters.session());
        self.stats.sessions_opened += 1;
        let active = self.active_count();
        self.stats.peak_open_sessions = self.stats.peak_open_sessions.max(active);
        let mut r = vec![tag, 0, 0, 0];
        r.extend(console_id.to_le_bytes());
        r.extend(icv);
        Some(codec::build(0x15, 0, 0, &r, None))
    }

    fn ipmi(&mut self, pkt: &codec::Incoming<'_>) -> Vec<Vec<u8>> {
        let Some(sess) = self.sessions.get_mut(&pkt.sid) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        let suite = sess.suite;
        let Stage::Active { k1, aes, .. } = &sess.stage else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        let (k1, aes) = (k1.clone(), *aes);
        if !pkt.authenticated || !pkt.encrypted || !codec::verify(pkt, suite, &k1) {
            self.stats.dropped += 1;
            return Vec::new();
        }
        let Some(plain) = codec::open_payload(&aes, pkt.payload) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        let Some(req) = codec::parse_msg(&plain) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        sess.last = Instant::now();
        let console_id = sess.console_id;
        self.stats.requests += 1;
        let sid = pkt.sid;
        let (cc, data, extra) = self.command(sid, &req);
        let mut msgs = vec![codec::reply_to(&req, cc, &data)];
        if let Some(second) = extra {
            msgs.push(second);
        }
        // The session may be gone (Close Session): use the keys read above.
        let mut out = Vec::new();
        for mut m in msgs {
            if self.fault == Fault::WrongSequence && m.len() > 4 {
                m[4] = m[4].wrapping_add(4);
                let last = m.len() - 1;
                m[last] = m[last].wrapping_sub(4);
            }
            let seq = match self.sessions.get_mut(&sid).map(|s| &mut s.stage) {
                Some(Stage::Active { out_seq, .. }) => {
                    *out_seq = out_seq.wrapping_add(1);
                    *out_seq
                }
                _ => 1,
            };
            let mut d = codec::build(0x00, console_id, seq, &m, Some((suite, &k1, &aes)));
            match self.fault {
                Fault::BadHmac => {
                    if let Some(b) = d.last_mut() {
                        *b ^= 0x5A;
                    }
                }
                Fault::Truncated => d.truncate(d.len() / 2),
                _ => {}
            }
            out.push(d);
        }
        out
    }

    /// The keys of active session `sid`: console ID, suite, K1, AES key.
    fn keys_of(&self, sid: u32) -> Option<(u32, Suite, Vec<u8>, [u8; 16])> {
        let s = self.sessions.get(&sid)?;
        match &s.stage {
            Stage::Active { k1, aes, .. } => Some((s.console_id, s.suite, k1.clone(), *aes)),
            _ => None,
        }
    }

    /// `payload` as a sealed SOL packet (payload type 0x01) of session `sid`.
    fn seal_sol(&mut self, sid: u32, payload: &[u8]) -> Option<Vec<u8>> {
        let (console_id, suite, k1, aes) = self.keys_of(sid)?;
        let seq = match self.sessions.get_mut(&sid).map(|s| &mut s.stage) {
            Some(Stage::Active { out_seq, .. }) => {
                *out_seq = out_seq.wrapping_add(1);
                *out_seq
            }
            _ => return None,
        };
        Some(codec::build(
            0x01,
            console_id,
            seq,
            payload,
            Some((suite, &k1, &aes)),
        ))
    }

    /// Forgets the SOL instance when its session is gone (closed, timed out).
    fn sol_gc(&mut self) {
        if let Some(line) = &self.sol
            && self.keys_of(line.sid).is_none()
        {
            self.sol = None;
            self.stats.sol_deactivations += 1;
        }
    }

    /// Characters per SOL packet, each way: the payload size less the header.
    fn sol_chars(&self) -> usize {
        usize::from(self.cfg.sol_payload_size)
            .saturating_sub(4)
            .min(255)
    }

    /// Whether a SOL instance is active.
    pub(crate) fn sol_active(&mut self) -> bool {
        self.expire();
        self.sol_gc();
        self.sol.is_some()
    }

    /// Activate Payload (App 0x48, IPMI 2.0 §24.1) for SOL instance 1.
    fn activate_sol(&mut self, sid: u32, d: &[u8]) -> (u8, Vec<u8>) {
        self.sol_gc();
        if d.len() != 6 {
            return (0xC7, Vec::new());
        }
        if d[0] & 0x3F != 0x01 || d[1] & 0x0F != 1 {
            return (0xCC, Vec::new());
        }
        if self.sol.is_some() {
            return (0x80, Vec::new()); // already active (on another session)
        }
        if d[2] & 0x80 == 0 {
            return (0x84, Vec::new()); // this BMC forces SOL encryption
        }
        let Some(peer) = self.peer else {
            return (0xFF, Vec::new());
        };
        self.sol = Some(sol::Line::new(sid, peer, &self.cfg.sol_banner));
        self.stats.sol_activations += 1;
        let size = self.cfg.sol_payload_size.to_le_bytes();
        let mut out = vec![0, 0, 0, 0];
        out.extend(size); // inbound payload size
        out.extend(size); // outbound payload size
        out.extend(self.port.to_le_bytes());
        out.extend([0xFF, 0xFF]); // no VLAN
        (0, out)
    }

    /// Deactivate Payload (App 0x49, IPMI 2.0 §24.2) for SOL instance 1.
    fn deactivate_sol(&mut self, sid: u32, d: &[u8]) -> (u8, Vec<u8>) {
        self.sol_gc();
        if d.len() != 6 {
            return (0xC7, Vec::new());
        }
        if d[0] & 0x3F != 0x01 || d[1] & 0x0F != 1 {
            return (0xCC, Vec::new());
        }
        match &self.sol {
            Some(line) if line.sid == sid => {
                self.sol = None;
                self.stats.sol_deactivations += 1;
                (0, Vec::new())
            }
            _ => (0x80, Vec::new()), // already deactivated
        }
    }

    /// An in-session SOL packet from the console: acknowledgements, characters
    /// (echoed by the serial line), then whatever is due to be sent.
    fn sol_payload(&mut self, pkt: &codec::Incoming<'_>) -> Vec<Vec<u8>> {
        let Some((_, suite, k1, aes)) = self.keys_of(pkt.sid) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        if !pkt.authenticated || !pkt.encrypted || !codec::verify(pkt, suite, &k1) {
            self.stats.dropped += 1;
            return Vec::new();
        }
        let Some(plain) = codec::open_payload(&aes, pkt.payload) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        if let Some(s) = self.sessions.get_mut(&pkt.sid) {
            s.last = Instant::now();
        }
        self.stats.sol_packets += 1;
        let max = self.sol_chars();
        let unavailable = self.sol_unavailable;
        let accept = self.sol_accept.unwrap_or(usize::MAX);
        let Some(line) = self.sol.as_mut().filter(|l| l.sid == pkt.sid) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        let Some(f) = sol::read_frame(&plain) else {
            self.stats.dropped += 1;
            return Vec::new();
        };
        if f.ack != 0 {
            line.acked(f.ack, f.count, f.op);
        }
        let mut replies = Vec::new();
        if f.seq != 0 && !f.chars.is_empty() {
            if unavailable {
                // Not taken: NACK, "character transfer unavailable".
                replies.push(sol::frame(
                    0,
                    f.seq,
                    0,
                    sol::BIT_NACK | sol::BIT_UNAVAILABLE,
                    &[],
                ));
            } else if f.chars.len() > max {
                // More than the inbound payload size it announced: NACKed.
                self.stats.sol_oversized += 1;
                replies.push(sol::frame(0, f.seq, 0, sol::BIT_NACK, &[]));
            } else if let Some((seq, n)) = line.last_in.filter(|(s, _)| *s == f.seq) {
                replies.push(sol::frame(0, seq, n, 0, &[]));
            } else {
                let taken = &f.chars[..f.chars.len().min(accept)];
                let n = taken.len() as u8;
                line.last_in = Some((f.seq, n));
                line.pending.extend(taken.iter().copied()); // the echo
                self.sol_received.extend_from_slice(taken);
                replies.push(sol::frame(0, f.seq, n, 0, &[]));
            }
        }
        replies.extend(line.due(Instant::now(), max));
        let sid = pkt.sid;
        replies
            .iter()
            .filter_map(|p| self.seal_sol(sid, p))
            .collect()
    }

    /// What the BMC sends on its own now: queued datagrams, then SOL characters
    /// and retransmissions that are due.
    pub(crate) fn tick(&mut self) -> Vec<(Vec<u8>, SocketAddr)> {
        self.expire();
        self.sol_gc();
        if matches!(self.fault, Fault::Silence | Fault::SilentInSession) {
            self.outbox.clear();
            return Vec::new();
        }
        let mut out = std::mem::take(&mut self.outbox);
        let max = self.sol_chars();
        if let Some(line) = self.sol.as_mut() {
            let (sid, peer) = (line.sid, line.peer);
            for p in line.due(Instant::now(), max) {
                if let Some(d) = self.seal_sol(sid, &p) {
                    out.push((d, peer));
                }
            }
        }
        out
    }

    /// Queues `payload` as a sealed SOL packet to the active SOL console.
    pub(crate) fn sol_send_raw(&mut self, payload: &[u8]) -> bool {
        self.sol_gc();
        let Some((sid, peer)) = self.sol.as_ref().map(|l| (l.sid, l.peer)) else {
            return false;
        };
        match self.seal_sol(sid, payload) {
            Some(d) => {
                self.outbox.push((d, peer));
                true
            }
            None => false,
        }
    }

    /// The BMC ends SOL: a packet with status "SOL deactivating", then no SOL.
    pub(crate) fn sol_end(&mut self) -> bool {
        let sent = self.sol_send_raw(&sol::frame(0, 0, 0, sol::BIT_DEACTIVATING, &[]));
        if sent {
            self.sol = None;
            self.stats.sol_deactivations += 1;
        }
        sent
    }

    fn priv_of(&self, sid: u32) -> (u8, u8) {
        match self.sessions.get(&sid).map(|s| &s.stage) {
            Some(Stage::Active {
                priv_now, priv_max, ..
            }) => (*priv_now, *priv_max),
            _ => (0, 0),
        }
    }

    /// Runs one command: `(cc, data, optional second message)`.
    fn command(&mut self, sid: u32, req: &Msg) -> (u8, Vec<u8>, Option<Vec<u8>>) {
        let (priv_now, priv_max) = self.priv_of(sid);
        let need = match (req.netfn, req.cmd) {
            (0x06, 0x3B) | (0x06, 0x3C) | (0x06, 0x01) | (0x06, 0x38) | (0x06, 0x54) => 1,
            // The SOL configuration's default payload privilege: user.
            (0x06, 0x48 | 0x49) => 2,
            (0x00, 0x02) | (0x00, 0x08) => 3,
            (0x00, _) | (0x04, _) | (0x0A, _) | (0x06, 0x34) => 2,
            _ => 3,
        };
        let implemented = self.bmc_handler.is_some()
            || matches!(
                (req.netfn, req.cmd),
                (0x06, 0x01 | 0x34 | 0x38 | 0x3B | 0x3C | 0x48 | 0x49 | 0x54)
                    | (0x00, 0x01 | 0x02 | 0x08 | 0x09)
                    | (0x0A, 0x20 | 0x22 | 0x23)
                    | (0x04, 0x2D)
            );
        if !implemented {
            // A command the BMC does not have is "invalid" whatever the privilege.
            return (0xC1, Vec::new(), None);
        }
        if priv_now < need {
            self.stats.privilege_denials += 1;
            return (0xD4, Vec::new(), None);
        }
        let none = |cc: u8, d: Vec<u8>| (cc, d, None);
        self.apply_boot_flag_timer();
        match (req.netfn, req.cmd) {
            (0x06, 0x01) => {
                let (cc, d) = DeviceId.handle(0x06, 0x01, &[]);
                none(cc, d)
            }
            (0x06, 0x3B) => {
                let Some(&want) = req.data.first() else {
                    return none(0xC7, Vec::new());
                };
                let want = want & 0x0F;
                if want == 0 {
                    return none(0, vec![priv_now]);
                }
                if want >= 5 {
                    return none(0xCC, Vec::new());
                }
                if want > priv_max {
                    return none(0x81, Vec::new());
                }
                if let Some(Stage::Active { priv_now, .. }) =
                    self.sessions.get_mut(&sid).map(|s| &mut s.stage)
                {
                    *priv_now = want;
                }
                none(0, vec![want])
            }
            (0x06, 0x3C) => {
                if req.data.len() < 4 {
                    return none(0xC7, Vec::new());
                }
                let id = u32::from_le_bytes([req.data[0], req.data[1], req.data[2], req.data[3]]);
                if id != sid && priv_now < 4 {
                    return none(0xD4, Vec::new());
                }
                if self.sessions.remove(&id).is_some() {
                    self.stats.sessions_closed += 1;
                    none(0, Vec::new())
                } else {
                    none(0x87, Vec::new())
                }
            }
            (0x06, 0x34) => self.send_message(req),
            (0x06, 0x48) => {
                let (cc, d) = self.activate_sol(sid, &req.data);
                none(cc, d)
            }
            (0x06, 0x49) => {
                let (cc, d) = self.deactivate_sol(sid, &req.data);
                none(cc, d)
            }
            (0x06, 0x54) if self.cfg.list_cipher_suites => {
                let (cc, d) = self.channel_cipher_suites(&req.data);
                none(cc, d)
            }
            (0x06, 0x38) => {
                let (cc, d) = self.channel_auth_caps(&req.data);
                none(cc, d)
            }
            (0x00, 0x01) => {
                let on = self.power();
                none(0, vec![u8::from(on) | 0x40, 0x00, 0x00, 0x00])
            }
            (0x00, 0x02) => {
                let Some(&action) = req.data.first() else {
                    return none(0xC7, Vec::new());
                };
                let on = self.power();
                self.power_log.controls.push(action);
                // A Chassis Control followed the boot flags: the timer stops.
                self.boot_flags_set_at = None;
                match action {
                    0x00 => self.schedule_power(false),
                    0x01 => self.schedule_power(true),
                    0x02 | 0x03 if !on => return none(0xD5, Vec::new()),
                    0x02 | 0x03 => {
                        self.set_power_now(false);
                        self.schedule_power(true);
                    }
                    0x04 => self.power_log.nmis += 1,
                    0x05 => self.schedule_power(false),
                    _ => return none(0xCC, Vec::new()),
                }
                none(0, Vec::new())
            }
            (0x00, 0x08) => {
                let Some(&param) = req.data.first() else {
                    return none(0xC7, Vec::new());
                };
                match param & 0x7F {
                    0x00 | 0x04 => none(0, Vec::new()),
                    0x03 => {
                        let Some(&b) = req.data.get(1) else {
                            return none(0xC7, Vec::new());
                        };
                        self.valid_bit_clearing = b & 0x1F;
                        none(0, Vec::new())
                    }
                    0x05 => {
                        if req.data.len() < 6 {
                            return none(0xC7, Vec::new());
                        }
                        self.boot_flags.copy_from_slice(&req.data[1..6]);
                        self.boot_flags_set_at =
                            (self.boot_flags[0] & 0x80 != 0).then(Instant::now);
                        none(0, Vec::new())
                    }
                    _ => none(0x80, Vec::new()),
                }
            }
            (0x00, 0x09) => {
                let Some(&param) = req.data.first() else {
                    return none(0xC7, Vec::new());
                };
                if param & 0x7F == 0x03 {
                    return none(0, vec![0x01, 0x03, self.valid_bit_clearing]);
                }
                if param & 0x7F != 0x05 {
                    return none(0x80, Vec::new());
                }
                let mut d = vec![0x01, 0x05];
                d.extend(self.boot_flags);
                none(0, d)
            }
            (0x0A, 0x20) => {
                // Get SDR Repository Info: version 0x51, record count, free space,
                // two timestamps, operation support (non-modal update, Reserve SDR
                // Repository supported).
                let mut d = vec![0x51];
                d.extend((self.sdr.len() as u16).to_le_bytes());
                d.extend(0xFFFEu16.to_le_bytes());
                d.extend([0u8; 8]);
                d.push(0x22);
                none(0, d)
            }
            (0x0A, 0x22 | 0x23) if self.sdr_transient.is_some_and(|(_, n)| n > 0) => {
                let (cc, n) = self.sdr_transient.unwrap_or((0, 0));
                self.sdr_transient = Some((cc, n - 1));
                none(cc, Vec::new())
            }
            (0x0A, 0x22) => {
                self.reservation = self.reservation.wrapping_add(1).max(1);
                none(0, self.reservation.to_le_bytes().to_vec())
            }
            (0x0A, 0x23) => self.get_sdr(&req.data),
            (0x04, 0x2D) => {
                let Some(n) = req.data.first() else {
                    return none(0xC7, Vec::new());
                };
                if let Some(&cc) = self.sensor_cc.get(n) {
                    return none(cc, Vec::new());
                }
                match self.sensors.get(n) {
                    Some(&raw) => {
                        // Reading, flags (events and scanning enabled unless set
                        // otherwise), state bits 0–7, 8–14.
                        let st = self.sensor_states.get(n).copied().unwrap_or(0);
                        let flags = self.sensor_flags.get(n).copied().unwrap_or(0xC0);
                        none(0, vec![raw, flags, st as u8, ((st >> 8) as u8) & 0x7F])
                    }
                    None => none(0xCB, Vec::new()),
                }
            }
            _ => match &self.bmc_handler {
                Some(h) => {
                    let (cc, d) = h.handle(req.netfn, req.cmd, &req.data);
                    none(cc, d)
                }
                None => none(0xC1, Vec::new()),
            },
        }
    }

    fn get_sdr(&mut self, d: &[u8]) -> (u8, Vec<u8>, Option<Vec<u8>>) {
        if d.len() < 6 {
            return (0xC7, Vec::new(), None);
        }
        let res = u16::from_le_bytes([d[0], d[1]]);
        let id = u16::from_le_bytes([d[2], d[3]]);
        let (off, count) = (usize::from(d[4]), usize::from(d[5]));
        if off > 0
            && let Some(hit) = self.sdr_contention.as_mut()
            && hit.insert(id)
        {
            // Another console reserves the repository: ours is cancelled.
            self.reservation = self.reservation.wrapping_add(1).max(1);
        }
        if off > 0 && res != self.reservation {
            return (0xC5, Vec::new(), None);
        }
        if self.sdr_max_read.is_some_and(|max| count > max) {
            return (0xCA, Vec::new(), None);
        }
        let idx = if id == 0 { 0 } else { usize::from(id) - 1 };
        let Some(rec) = self.sdr.get(idx) else {
            return (0xCB, Vec::new(), None);
        };
        let next: u16 = if idx + 1 < self.sdr.len() {
            idx as u16 + 2
        } else {
            0xFFFF
        };
        if count == 0xFF && rec.len() > 32 {
            return (0xCA, Vec::new(), None);
        }
        if off >= rec.len() {
            return (0xC9, Vec::new(), None);
        }
        let end = (off + count.min(32)).min(rec.len());
        let mut out = next.to_le_bytes().to_vec();
        out.extend_from_slice(&rec[off..end]);
        (0, out, None)
    }

    /// Send Message: deliver an IPMB request to a satellite (or through a transit).
    fn send_message(&mut self, req: &Msg) -> (u8, Vec<u8>, Option<Vec<u8>>) {
        let Some((&chan, ipmb)) = req.data.split_first() else {
            return (0xC7, Vec::new(), None);
        };
        let Some(resp) = self.deliver(chan & 0x0F, ipmb, 0) else {
            return (0x83, Vec::new(), None);
        };
        self.stats.bridged += 1;
        match self.cfg.bridge_reply {
            BridgeReplyStyle::Embedded => (0, resp, None),
            style @ (BridgeReplyStyle::Separate | BridgeReplyStyle::SeparateFromBmc) => {
                // First an empty acknowledgement, then the target's own response,
                // re-addressed to the LAN requester with the Send Message request's
                // sequence number (IPMI 2.0 §6.12 response tracking). ipmitool
                // matches that second message by the bridged command.
                match codec::readdress_response(&resp, req) {
                    Some(mut second) => {
                        if style == BridgeReplyStyle::SeparateFromBmc {
                            // Responder: the BMC's own address; fix the checksum.
                            second[3] = 0x20;
                            let last = second.len() - 1;
                            second[last] = second[3..last]
                                .iter()
                                .fold(0u8, |a, b| a.wrapping_add(*b))
                                .wrapping_neg();
                        }
                        (0, Vec::new(), Some(second))
                    }
                    None => (0, resp, None),
                }
            }
        }
    }

    /// The IPMB response of the controller addressed by `ipmb` on `chan`, or `None`
    /// when nobody answers (NAK).
    fn deliver(&mut self, chan: u8, ipmb: &[u8], depth: u8) -> Option<Vec<u8>> {
        let inner = codec::parse_msg(ipmb)?;
        let key = (chan, inner.rs_sa);
        if depth == 0 && self.transits.contains(&key) && (inner.netfn, inner.cmd) == (0x06, 0x34) {
            let (&c2, rest) = inner.data.split_first()?;
            let resp = self.deliver(c2 & 0x0F, rest, 1);
            return Some(match resp {
                Some(r) => codec::reply_to(&inner, 0, &r),
                None => codec::reply_to(&inner, 0x83, &[]),
            });
        }
        let handler = self.satellites.get(&key)?.clone();
        let (cc, data) = handler.handle(inner.netfn, inner.cmd, &inner.data);
        Some(codec::reply_to(&inner, cc, &data))
    }
}
