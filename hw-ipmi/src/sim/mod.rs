//! An in-process IPMI 2.0 BMC on loopback (feature `sim`): RMCP+ with cipher suites
//! 3 and 17, user accounts with privilege limits and enforcement, session
//! accounting, chassis power and boot options, an SDR with a few sensors (full and
//! compact records) and an Intel
//! Node Manager OEM record, Send Message bridging to satellite controllers (both
//! reply styles, dual bridging through transit controllers), and injected faults.
//!
//! Other crates plug in their own command handlers: [`SatelliteHandler`] per
//! `(channel, address)` or for the BMC itself, and extra SDR records.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
//! let bmc = IpmiSim::start(IpmiSimConfig::default()).await?;
//! let client = hwctl_ipmi::IpmiClient::new(bmc.config());
//! let status = client.raw(0x00, 0x01, &[]).await?; // Get Chassis Status
//! assert_eq!(status.cc, 0);
//! assert_eq!(bmc.stats().open_sessions, 1);
//! drop(client); // sends Close Session
//! # for _ in 0..1000 { if bmc.stats().open_sessions == 0 { break; }
//! #     tokio::time::sleep(std::time::Duration::from_millis(10)).await; }
//! assert_eq!(bmc.stats().open_sessions, 0); // closed on drop
//! # Ok(()) }
//! ```

mod bmc;
mod codec;
mod sol;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::{DriverInfo, Error, ErrorKind, Result};

pub use bmc::SimPowerLog;

use crate::config::{IpmiConfig, SuiteChoice};

/// Answers commands for one controller: `(completion code, response data)`.
///
/// ```
/// struct Echo;
/// impl hwctl_ipmi::sim::SatelliteHandler for Echo {
///     fn handle(&self, _netfn: u8, _cmd: u8, data: &[u8]) -> (u8, Vec<u8>) { (0, data.to_vec()) }
/// }
/// ```
pub trait SatelliteHandler: Send + Sync + 'static {
    /// Handles one request (netfn is the request's, even).
    fn handle(&self, netfn: u8, cmd: u8, data: &[u8]) -> (u8, Vec<u8>);
}

impl<F> SatelliteHandler for F
where
    F: Fn(u8, u8, &[u8]) -> (u8, Vec<u8>) + Send + Sync + 'static,
{
    fn handle(&self, netfn: u8, cmd: u8, data: &[u8]) -> (u8, Vec<u8>) {
        self(netfn, cmd, data)
    }
}

/// How the BMC delivers a bridged reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BridgeReplyStyle {
    /// The target's response embedded in the Send Message response.
    #[default]
    Embedded,
    /// An empty Send Message response, then the target's response in its own packet.
    Separate,
    /// As [`BridgeReplyStyle::Separate`], but the second message names the BMC
    /// itself (0x20) as responder instead of the target, as pyghmi's `Bmc` and
    /// some firmware send it.
    SeparateFromBmc,
}

/// An injected fault, applied to replies until cleared.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Normal behaviour.
    #[default]
    None,
    /// Answer nothing at all.
    Silence,
    /// In-session replies carry the wrong IPMI sequence number.
    WrongSequence,
    /// In-session replies carry a corrupted integrity code.
    BadHmac,
    /// In-session replies are cut in half.
    Truncated,
    /// Get Channel Authentication Capabilities says the channel speaks IPMI v1.5
    /// only (no RMCP+).
    Ipmi15Only,
    /// RAKP 1 is refused as an unauthorized name (status 0x0D) whoever logs in.
    BadCredentials,
    /// Every datagram is answered with bytes that are not RMCP.
    Garbage,
    /// Half-open sessions (Open Session answered, RAKP not finished) hold their
    /// slot for the whole `session_timeout` (60 s), and a full table refuses Open
    /// Session with status 0x01, as many real BMCs do: an unauthenticated flood of
    /// Open Session requests then locks every user out until they expire. Without
    /// it the simulator reclaims half-open sessions after `half_open_timeout`, and
    /// at once when the table is full.
    HoldHalfOpenSessions,
    /// Session setup is answered, in-session requests are not (a BMC whose
    /// command handler hangs): each attempt re-opens a session and waits again.
    SilentInSession,
}

/// A user account of the simulated BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// Name (may be empty for the null user).
    pub name: String,
    /// Password.
    pub password: String,
    /// Highest privilege (1 callback … 4 administrator).
    pub max_priv: u8,
}

impl SimUser {
    /// A user.
    ///
    /// ```
    /// let u = hwctl_ipmi::sim::SimUser::new("op", "secret", 3);
    /// assert_eq!((u.name.as_str(), u.max_priv), ("op", 3));
    /// ```
    pub fn new(name: &str, password: &str, max_priv: u8) -> Self {
        SimUser {
            name: name.to_owned(),
            password: password.to_owned(),
            max_priv,
        }
    }
}

/// How the simulator starts.
#[derive(Debug, Clone)]
pub struct IpmiSimConfig {
    /// Where to listen (127.0.0.1, ephemeral port by default).
    pub listen: SocketAddr,
    /// Accounts: the first is what [`IpmiSim::config`] uses.
    pub users: Vec<SimUser>,
    /// Cipher suites offered (3 and 17).
    pub suites: Vec<u8>,
    /// Maximum concurrent sessions.
    pub max_sessions: usize,
    /// Idle time after which a session is dropped.
    pub session_timeout: Duration,
    /// Time after which a half-open session (Open Session answered, RAKP 3 not
    /// received) is reclaimed (1 s). A full table also reclaims the oldest
    /// half-open session for a new Open Session, so an unauthenticated flood
    /// cannot lock users out; [`Fault::HoldHalfOpenSessions`] restores the 60 s
    /// behaviour of many real BMCs.
    pub half_open_timeout: Duration,
    /// Initial chassis power.
    pub power_on: bool,
    /// Delay before a chassis power change is visible.
    pub power_delay: Duration,
    /// Where the Intel Node Manager sits, `(channel, address)`; adds its OEM SDR
    /// record and a satellite answering Get Device ID only (so a client finds
    /// where Node Manager is), not the Node Manager commands: a `staging-nm` node's
    /// `get_nm_version` against this simulator alone fails `NotFound` (completion
    /// code 0xC1). For a BMC that answers them, start it with
    /// `hwctl_nodemanager::sim::start_bmc`. `None` for no NM.
    pub node_manager: Option<(u8, u8)>,
    /// How bridged replies are delivered.
    pub bridge_reply: BridgeReplyStyle,
    /// IPMI 2.0 §28.12: the boot flags' valid bit is cleared when no Chassis
    /// Control follows Set System Boot Options (parameter 5) within this time,
    /// unless parameter 3 bit 3 disables the timer (60 s, as the specification).
    pub boot_flag_timeout: Duration,
    /// Answers Get Channel Cipher Suites (App 0x54) with `suites` (true); false
    /// answers 0xC1, as BMCs without the command.
    pub list_cipher_suites: bool,
    /// An Open Session proposing a suite not in `suites` gets no answer at all
    /// (false: RMCP+ status 0x11), as some firmware behaves.
    pub drop_unoffered_suites: bool,
    /// The BMC key Kg (IPMI 2.0 §13.31, at most 20 bytes; the BMC pads it with
    /// zeros): the session integrity key is generated from it. `None`, or all
    /// zeros, is a null Kg: the user's password key is used instead.
    pub bmc_key: Option<Vec<u8>>,
    /// What the simulated host's serial line prints when SOL is activated (a
    /// banner, a login prompt); empty by default. After it, the line echoes what
    /// the console sends.
    pub sol_banner: Vec<u8>,
    /// The SOL inbound and outbound payload size the BMC reports in its Activate
    /// Payload reply (bytes per packet, the four-byte SOL header included; 255 by
    /// default). Packets from the console carrying more characters than this
    /// allows are NACKed and counted in [`IpmiSimStats::sol_oversized`].
    pub sol_payload_size: u16,
}

impl Default for IpmiSimConfig {
    fn default() -> Self {
        IpmiSimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            users: vec![
                SimUser::new("admin", "password", 4),
                SimUser::new("operator", "operator", 3),
                SimUser::new("viewer", "viewer", 2),
            ],
            suites: vec![3, 17],
            max_sessions: 16,
            session_timeout: Duration::from_secs(60),
            half_open_timeout: Duration::from_secs(1),
            power_on: false,
            power_delay: Duration::ZERO,
            node_manager: Some((6, 0x2C)),
            bridge_reply: BridgeReplyStyle::Embedded,
            boot_flag_timeout: Duration::from_secs(60),
            list_cipher_suites: true,
            drop_unoffered_suites: false,
            bmc_key: None,
            sol_banner: Vec::new(),
            sol_payload_size: 255,
        }
    }
}

/// What the simulator has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpmiSimStats {
    /// Datagrams received.
    pub packets: u64,
    /// In-session IPMI requests handled.
    pub requests: u64,
    /// Sessions activated (RAKP 4 sent with success).
    pub sessions_opened: u64,
    /// Sessions closed by Close Session.
    pub sessions_closed: u64,
    /// Sessions dropped after idling.
    pub sessions_timed_out: u64,
    /// Half-open sessions whose slot was given to a new Open Session.
    pub half_open_reclaimed: u64,
    /// Sessions active now.
    pub open_sessions: usize,
    /// Most sessions active at once.
    pub peak_open_sessions: usize,
    /// Failed authentications (unknown user, wrong password).
    pub auth_failures: u64,
    /// Requests refused for insufficient privilege (0xD4).
    pub privilege_denials: u64,
    /// Datagrams dropped as malformed, unauthenticated or for unknown sessions.
    pub dropped: u64,
    /// Requests bridged with Send Message.
    pub bridged: u64,
    /// Session-less IPMI v1.5 requests answered (Get Channel Authentication
    /// Capabilities before Open Session).
    pub presession: u64,
    /// SOL payload activations (Activate Payload answered with success).
    pub sol_activations: u64,
    /// SOL deactivations: Deactivate Payload, the BMC ending SOL, or the SOL
    /// session closing or timing out.
    pub sol_deactivations: u64,
    /// In-session SOL packets received.
    pub sol_packets: u64,
    /// SOL packets refused for carrying more characters than the payload size
    /// the BMC reported allows.
    pub sol_oversized: u64,
}

/// A running simulated BMC on loopback (bound through `hwctl_sim::bind`); its task is
/// in a `hwctl_sim::TaskSet`, so it stops answering when dropped. It is a
/// [`hwctl_sim::Simulator`] of the `ipmi` hardware type with one node.
pub struct IpmiSim {
    addr: SocketAddr,
    state: Arc<Mutex<bmc::State>>,
    delay: Arc<Mutex<Option<Duration>>>,
    _tasks: hwctl_sim::TaskSet,
}

impl std::fmt::Debug for IpmiSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpmiSim").field("addr", &self.addr).finish()
    }
}

impl IpmiSim {
    /// Binds and starts serving.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when `cfg.listen` is not loopback; the bind
    /// error's kind otherwise.
    pub async fn start(cfg: IpmiSimConfig) -> Result<IpmiSim> {
        let socket = hwctl_sim::bind_udp(Some(cfg.listen)).await?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Other, "no local address").with_source(e))?;
        let mut bmc = bmc::State::new(cfg);
        bmc.port = addr.port();
        let state = Arc::new(Mutex::new(bmc));
        let delay: Arc<Mutex<Option<Duration>>> = Arc::default();
        let (st, dl) = (state.clone(), delay.clone());
        let tasks = hwctl_sim::TaskSet::new();
        tasks.spawn(async move {
            let mut buf = vec![0u8; 2048];
            // SOL: what the BMC sends on its own (characters, retransmissions).
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let got = tokio::select! {
                    r = socket.recv_from(&mut buf) => Some(r),
                    _ = tick.tick() => None,
                };
                let Some(got) = got else {
                    let due = match st.lock() {
                        Ok(mut s) => s.tick(),
                        Err(_) => return,
                    };
                    for (d, to) in due {
                        let _ = socket.send_to(&d, to).await;
                    }
                    continue;
                };
                let Ok((n, peer)) = got else {
                    continue;
                };
                let replies = match st.lock() {
                    Ok(mut s) => s.handle_from(&buf[..n], peer),
                    Err(_) => return,
                };
                let wait = dl.lock().ok().and_then(|d| *d);
                if let Some(d) = wait.filter(|_| !replies.is_empty()) {
                    tokio::time::sleep(d).await;
                }
                for r in replies {
                    let _ = socket.send_to(&r, peer).await;
                }
            }
        });
        Ok(IpmiSim {
            addr,
            state,
            delay,
            _tasks: tasks,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut bmc::State) -> T) -> T {
        match self.state.lock() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// The UDP address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// assert!(bmc.addr().ip().is_loopback());
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// assert_eq!(bmc.port(), bmc.addr().port());
    /// assert_ne!(bmc.port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A client config for the first user (and the BMC key, when one is set), with
    /// short timeouts for tests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let cfg = bmc.config();
    /// assert_eq!(cfg.port, bmc.port());
    /// assert_eq!(cfg.request_timeout, std::time::Duration::from_millis(300));
    /// # Ok(()) }
    /// ```
    pub fn config(&self) -> IpmiConfig {
        let user = self.with(|s| s.cfg.users.first().cloned());
        let kg = self.kg_hex();
        let mut c = IpmiConfig::new(self.addr.ip().to_string());
        c.port = self.addr.port();
        if let Some(u) = user {
            c.username = u.name;
            c.password = u.password.into();
        }
        c.kg = kg.and_then(|h| crate::BmcKey::from_hex(&h).ok());
        c.cipher_suite = SuiteChoice::Auto;
        c.request_timeout = Duration::from_millis(300);
        c.retries = 2;
        c.poll_interval = Duration::from_millis(20);
        c
    }

    /// The BMC key as hex (`ipmi_hex_kg_key`), when one is set.
    pub fn kg_hex(&self) -> Option<String> {
        self.with(|s| s.cfg.bmc_key.clone()).map(|k| {
            k.iter().fold(String::new(), |mut h, b| {
                use std::fmt::Write as _;
                let _ = write!(h, "{b:02x}");
                h
            })
        })
    }

    /// `driver_info` for the first user (and `ipmi_hex_kg_key` when a BMC key is
    /// set). The same as the [`Simulator`](hwctl_sim::Simulator) trait's
    /// `driver_info(0)`, which this inherent method hides from method-call syntax
    /// (`bmc.driver_info(0)` does not compile on an `IpmiSim`): call the trait's
    /// as `Simulator::driver_info(&bmc, 0)` in code written for any simulator.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let info = bmc.driver_info();
    /// assert!(info.get("ipmi_address").is_some() && info.get("ipmi_password").is_some());
    /// assert!(info.get("ipmi_hex_kg_key").is_none()); // no BMC key by default
    /// # Ok(()) }
    /// ```
    pub fn driver_info(&self) -> DriverInfo {
        let user = self.with(|s| s.cfg.users.first().cloned());
        let mut info = DriverInfo::new();
        if let Some(kg) = self.kg_hex() {
            info.insert("ipmi_hex_kg_key", kg);
        }
        info.insert("ipmi_address", self.addr.ip().to_string());
        info.insert("ipmi_port", self.addr.port().to_string());
        if let Some(u) = user {
            info.insert("ipmi_username", u.name);
            info.insert("ipmi_password", u.password);
        }
        info
    }

    /// The counters.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// hwctl_ipmi::IpmiClient::new(bmc.config()).raw(0x06, 0x01, &[]).await?;
    /// let s = bmc.stats();
    /// assert_eq!((s.sessions_opened, s.open_sessions), (1, 1));
    /// assert!(s.presession >= 1 && s.dropped == 0);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> IpmiSimStats {
        self.with(|s| s.stats_now())
    }

    /// Whether chassis power is on (pending delayed changes applied).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// assert!(!bmc.power_on()); // off at start
    /// hwctl_ipmi::Ipmi::new(bmc.config()).chassis_control(hwctl_ipmi::ChassisControl::PowerUp).await?;
    /// assert!(bmc.power_on());
    /// # Ok(()) }
    /// ```
    pub fn power_on(&self) -> bool {
        self.with(|s| s.power())
    }

    /// Sets chassis power directly.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_power(true);
    /// assert!(hwctl_ipmi::Ipmi::new(bmc.config()).chassis_power_on().await?); // Get Chassis Status
    /// # Ok(()) }
    /// ```
    pub fn set_power(&self, on: bool) {
        self.with(|s| s.force_power(on));
    }

    /// Chassis control requests and NMIs seen.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// hwctl_ipmi::Ipmi::new(bmc.config()).chassis_control(hwctl_ipmi::ChassisControl::PowerUp).await?;
    /// assert_eq!(bmc.power_log().controls, vec![1]); // Chassis Control 01h: power up
    /// # Ok(()) }
    /// ```
    pub fn power_log(&self) -> SimPowerLog {
        self.with(|s| s.power_log.clone())
    }

    /// The five bytes of boot-flags parameter 5 now (the valid bit cleared when
    /// the 60-second rule applied).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// use hwctl_core::{BootDevice, Management};
    /// let m = hwctl_ipmi::IpmiManagement::new(hwctl_ipmi::Ipmi::new(bmc.config()), None);
    /// m.set_boot_device(BootDevice::Pxe, false).await?;
    /// let flags = bmc.boot_flags();
    /// assert_eq!(flags[0] & 0x80, 0x80); // valid
    /// assert_eq!(flags[1] & 0x3C, 0x04); // force PXE
    /// # Ok(()) }
    /// ```
    pub fn boot_flags(&self) -> [u8; 5] {
        self.with(|s| {
            s.apply_boot_flag_timer();
            s.boot_flags
        })
    }

    /// The data byte of boot option parameter 3 (BMC boot flag valid bit
    /// clearing) as last set.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// use hwctl_core::{BootDevice, Management};
    /// let m = hwctl_ipmi::IpmiManagement::new(hwctl_ipmi::Ipmi::new(bmc.config()), None);
    /// m.set_boot_device(BootDevice::Pxe, false).await?;
    /// assert_ne!(bmc.boot_valid_bit_clearing() & 0x08, 0); // the 60 s timer is off
    /// # Ok(()) }
    /// ```
    pub fn boot_valid_bit_clearing(&self) -> u8 {
        self.with(|s| s.valid_bit_clearing)
    }

    /// Injects `fault` until changed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_fault(hwctl_ipmi::sim::Fault::Silence);
    /// let err = hwctl_ipmi::IpmiClient::new(bmc.config()).read(None, 0x00, 0x01, &[]).await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Timeout);
    /// # Ok(()) }
    /// ```
    pub fn set_fault(&self, fault: Fault) {
        self.with(|s| s.fault = fault);
    }

    /// Refuses every Open Session with RMCP+ status 0x01 (insufficient resources:
    /// the session table is full) for `d` from now, then accepts them again.
    pub fn set_session_table_full_for(&self, d: Duration) {
        self.with(|s| s.table_full_until = Some(std::time::Instant::now() + d));
    }

    /// Delays every reply by `delay` (`None`: answer at once).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_delay(Some(std::time::Duration::from_millis(20)));
    /// let reply = hwctl_ipmi::IpmiClient::new(bmc.config()).raw(0x06, 0x01, &[]).await?;
    /// assert_eq!(reply.cc, 0);
    /// bmc.set_delay(None);
    /// # Ok(()) }
    /// ```
    pub fn set_delay(&self, delay: Option<Duration>) {
        if let Ok(mut d) = self.delay.lock() {
            *d = delay;
        }
    }

    /// Changes how bridged replies are delivered.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_bridge_reply(hwctl_ipmi::sim::BridgeReplyStyle::Separate);
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
    /// // The default Node Manager satellite (channel 6, 0x2C) answers Get Device ID.
    /// let r = client.raw_bridged(&hwctl_ipmi::Bridge::single(6, 0x2C), 0x06, 0x01, &[]).await?;
    /// assert_eq!(r.cc, 0);
    /// assert_eq!(bmc.stats().bridged, 1);
    /// # Ok(()) }
    /// ```
    pub fn set_bridge_reply(&self, style: BridgeReplyStyle) {
        self.with(|s| s.cfg.bridge_reply = style);
    }

    /// Plugs `handler` in for the controller at `address` on `channel` (replacing any).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.add_satellite(0, 0x72, std::sync::Arc::new(|_netfn: u8, _cmd: u8, data: &[u8]| (0, data.to_vec())));
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
    /// let r = client.raw_bridged(&hwctl_ipmi::Bridge::single(0, 0x72), 0x30, 0x01, &[7, 8]).await?;
    /// assert_eq!((r.cc, r.data), (0, vec![7, 8]));
    /// # Ok(()) }
    /// ```
    pub fn add_satellite(&self, channel: u8, address: u8, handler: Arc<dyn SatelliteHandler>) {
        self.with(|s| {
            s.satellites.insert((channel & 0x0F, address), handler);
        });
    }

    /// Makes `(channel, address)` a transit controller that forwards Send Message
    /// (for dual bridging).
    pub fn add_transit(&self, channel: u8, address: u8) {
        self.with(|s| {
            s.transits.insert((channel & 0x0F, address));
        });
    }

    /// Plugs `handler` in for commands the BMC itself does not implement (OEM).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_bmc_handler(std::sync::Arc::new(|_netfn: u8, cmd: u8, _data: &[u8]| (0, vec![cmd])));
    /// let r = hwctl_ipmi::IpmiClient::new(bmc.config()).raw(0x2E, 0xCA, &[0x57, 0x01, 0x00]).await?;
    /// assert_eq!((r.cc, r.data), (0, vec![0xCA]));
    /// # Ok(()) }
    /// ```
    pub fn set_bmc_handler(&self, handler: Arc<dyn SatelliteHandler>) {
        self.with(|s| s.bmc_handler = Some(handler));
    }

    /// Appends an SDR record of `record_type` with `body` (after the 5-byte header);
    /// returns its record ID.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let before = ipmi.sdr_records().await?.len();
    /// bmc.add_sdr_record(0xC0, &[0x57, 0x01, 0x00, 0x99]);
    /// ipmi.clear_sdr_cache().await;
    /// assert_eq!(ipmi.sdr_records().await?.len(), before + 1);
    /// # Ok(()) }
    /// ```
    pub fn add_sdr_record(&self, record_type: u8, body: &[u8]) -> u16 {
        self.with(|s| s.add_sdr(record_type, body))
    }

    /// Sets the state bits of sensor `number` (Get Sensor Reading bytes 3–4:
    /// threshold flags, or the asserted offsets of a discrete sensor).
    pub fn set_sensor_states(&self, number: u8, states: u16) {
        self.with(|s| {
            s.sensor_states.insert(number, states);
        });
    }

    /// Sets the flags byte (byte 2) of sensor `number`'s Get Sensor Reading reply
    /// (0xC0 by default: events and scanning enabled; bit 6 clear = scanning
    /// disabled, bit 5 set = reading unavailable).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// use hwctl_core::Management;
    /// bmc.set_sensor_flags(1, 0x80); // CPU Temp: scanning disabled
    /// let m = hwctl_ipmi::IpmiManagement::new(hwctl_ipmi::Ipmi::new(bmc.config()), None);
    /// let list = m.get_sensors().await?;
    /// let cpu = list.iter().find(|s| s.name == "CPU Temp").expect("listed");
    /// assert_eq!((cpu.value, cpu.status.as_str()), (None, "unavailable: scanning disabled"));
    /// # Ok(()) }
    /// ```
    pub fn set_sensor_flags(&self, number: u8, flags: u8) {
        self.with(|s| {
            s.sensor_flags.insert(number, flags);
        });
    }

    /// Makes Get Sensor Reading of sensor `number` answer completion code `cc`
    /// (`0` to answer normally again).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// use hwctl_core::Management;
    /// bmc.set_sensor_cc(2, 0xC3); // FAN1 times out
    /// let m = hwctl_ipmi::IpmiManagement::new(hwctl_ipmi::Ipmi::new(bmc.config()), None);
    /// let list = m.get_sensors().await?;
    /// let fan = list.iter().find(|s| s.name == "FAN1").expect("listed");
    /// assert!(fan.value.is_none() && fan.status.contains("0xc3"));
    /// # Ok(()) }
    /// ```
    pub fn set_sensor_cc(&self, number: u8, cc: u8) {
        self.with(|s| {
            if cc == 0 {
                s.sensor_cc.remove(&number);
            } else {
                s.sensor_cc.insert(number, cc);
            }
        });
    }

    /// Another console reserves the SDR repository during the first partial Get
    /// SDR of each record, cancelling the reader's reservation (0xC5), when `on`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_sdr_contention(true);
    /// assert_eq!(hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?.len(), 6);
    /// # Ok(()) }
    /// ```
    pub fn set_sdr_contention(&self, on: bool) {
        self.with(|s| s.sdr_contention = on.then(HashSet::new));
    }

    /// Answers 0xCA ("cannot return number of requested data bytes") to partial
    /// Get SDR reads of more than `max` bytes (`None`: up to 32).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_sdr_max_read(Some(5)); // 0xCA for longer partial reads
    /// assert_eq!(hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?.len(), 6);
    /// # Ok(()) }
    /// ```
    pub fn set_sdr_max_read(&self, max: Option<usize>) {
        self.with(|s| s.sdr_max_read = max);
    }

    /// Answers completion code `cc` to the next `count` Reserve SDR Repository and
    /// Get SDR requests (a transient condition: node busy, update mode, …).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// bmc.set_sdr_transient(0xC0, 2); // node busy twice, then answers
    /// assert_eq!(hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?.len(), 6);
    /// # Ok(()) }
    /// ```
    pub fn set_sdr_transient(&self, cc: u8, count: u32) {
        self.with(|s| s.sdr_transient = Some((cc, count)));
    }

    /// Sets the raw reading of sensor `number`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// use hwctl_core::Management;
    /// let m = hwctl_ipmi::IpmiManagement::new(hwctl_ipmi::Ipmi::new(bmc.config()), None);
    /// let cpu = |l: &[hwctl_core::SensorReading]| l.iter().find(|s| s.name == "CPU Temp").and_then(|s| s.value);
    /// let before = cpu(&m.get_sensors().await?);
    /// bmc.set_sensor(1, 90);
    /// let after = cpu(&m.get_sensors().await?);
    /// assert!(before.is_some() && after.is_some() && before != after);
    /// # Ok(()) }
    /// ```
    pub fn set_sensor(&self, number: u8, raw: u8) {
        self.with(|s| {
            s.sensors.insert(number, raw);
        });
    }
}

/// Serial over LAN: the simulated host's serial line.
impl IpmiSim {
    /// Whether the SOL payload is active (on some session).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::Console;
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// assert!(!bmc.sol_active());
    /// let console = hwctl_ipmi::IpmiConsole::new(hwctl_ipmi::Ipmi::new(bmc.config()));
    /// let stream = console.open().await?;
    /// assert!(bmc.sol_active());
    /// # Ok(()) }
    /// ```
    pub fn sol_active(&self) -> bool {
        self.with(|s| s.sol_active())
    }

    /// Everything the consoles have sent on SOL so far (the serial line's input,
    /// each packet once even when it was retransmitted).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use tokio::io::AsyncWriteExt;
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let console = hwctl_ipmi::IpmiConsole::new(hwctl_ipmi::Ipmi::new(bmc.config()));
    /// let mut stream = console.open_stream().await?;
    /// bmc.sol_drop_next(1); // lost once: sent again, taken once
    /// stream.write_all(b"ls\r").await.unwrap();
    /// stream.flush().await.unwrap(); // returns once the BMC acknowledged it
    /// assert_eq!(bmc.sol_received(), b"ls\r");
    /// # Ok(()) }
    /// ```
    pub fn sol_received(&self) -> Vec<u8> {
        self.with(|s| s.sol_received.clone())
    }

    /// Makes the simulated host print `bytes` on its serial line (sent to the
    /// active SOL console; dropped when none is active).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use tokio::io::AsyncReadExt;
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let console = hwctl_ipmi::IpmiConsole::new(hwctl_ipmi::Ipmi::new(bmc.config()));
    /// let mut stream = console.open_stream().await?;
    /// bmc.sol_print(b"login: ");
    /// let mut buf = [0u8; 7];
    /// stream.read_exact(&mut buf).await.unwrap();
    /// assert_eq!(&buf, b"login: ");
    /// # Ok(()) }
    /// ```
    pub fn sol_print(&self, bytes: &[u8]) {
        self.with(|s| {
            if let Some(line) = s.sol.as_mut() {
                line.pending.extend(bytes.iter().copied());
            }
        });
    }

    /// Sends `payload` verbatim as one SOL packet, sealed in the active SOL
    /// session (for tests of what a console does with a broken or hostile
    /// packet). `false` when SOL is not active.
    pub fn sol_send_raw(&self, payload: &[u8]) -> bool {
        self.with(|s| s.sol_send_raw(payload))
    }

    /// Loses the next `n` SOL packets the consoles send (as a lossy network
    /// would): neither acknowledged nor echoed, so the console must send them again.
    pub fn sol_drop_next(&self, n: u32) {
        self.with(|s| s.sol_drop = n);
    }

    /// While `on`, the simulated host takes no characters: every SOL packet of
    /// characters from the console is NACKed with status "character transfer
    /// unavailable" (IPMI 2.0 table 15-2, bits 6 and 5), neither taken nor
    /// echoed; the console must send it again later.
    pub fn sol_set_unavailable(&self, on: bool) {
        self.with(|s| s.sol_unavailable = on);
    }

    /// Takes at most `n` characters from each SOL packet of the console and
    /// acknowledges that count, as a BMC whose buffer is nearly full (IPMI 2.0
    /// §15.11: the console sends the rest again in a new packet); `Some(0)`
    /// acknowledges each packet taking none, without a NACK; `None` takes them
    /// all.
    pub fn sol_accept_at_most(&self, n: Option<usize>) {
        self.with(|s| s.sol_accept = n);
    }

    /// Ends SOL from the BMC's side: a SOL packet with status "SOL deactivating"
    /// (IPMI 2.0 table 15-2, bit 4), then the payload is inactive. `false` when
    /// SOL is not active.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use tokio::io::AsyncReadExt;
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// assert!(!bmc.sol_end()); // nothing to end
    /// let console = hwctl_ipmi::IpmiConsole::new(hwctl_ipmi::Ipmi::new(bmc.config()));
    /// let mut stream = console.open_stream().await?;
    /// assert!(bmc.sol_end());
    /// let mut buf = [0u8; 8];
    /// assert_eq!(stream.read(&mut buf).await.unwrap(), 0); // end of stream
    /// # Ok(()) }
    /// ```
    pub fn sol_end(&self) -> bool {
        self.with(|s| s.sol_end())
    }
}

impl hwctl_sim::Simulator for IpmiSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "IPMI BMC simulator (RMCP+, suites 3 and 17) on udp://{}, 1 node",
            self.addr
        )
    }

    fn node_count(&self) -> usize {
        1
    }

    fn driver_info(&self, _i: usize) -> DriverInfo {
        IpmiSim::driver_info(self)
    }

    fn stats(&self) -> hwctl_sim::SimStats {
        self.with(|s| {
            s.stats_now(); // expires idle sessions, closing their guards
            s.counters.snapshot()
        })
    }

    fn inject(&self, fault: Option<hwctl_sim::CommonFault>) -> Result<()> {
        use hwctl_sim::CommonFault;
        match fault {
            None => {
                self.set_fault(Fault::None);
                self.set_delay(None);
            }
            Some(CommonFault::Silence) => self.set_fault(Fault::Silence),
            Some(CommonFault::BadCredentials) => self.set_fault(Fault::BadCredentials),
            Some(CommonFault::Garbage) => self.set_fault(Fault::Garbage),
            Some(CommonFault::Delay(d)) => self.set_delay(Some(d)),
            Some(other) => return Err(hwctl_sim::simulator::unsupported_fault(self, other)),
        }
        Ok(())
    }
}
