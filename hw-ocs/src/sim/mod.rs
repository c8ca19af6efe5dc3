//! An in-process OCS chassis manager (feature `sim`): a loopback HTTP server that
//! speaks the chassis manager's REST/XML protocol for tests, demos and benches.
//!
//! Written from the protocol notes and the captured replies, not from the client:
//! it has its own XML writer and query parser. It keeps per-blade state (power,
//! next boot, serial session), checks HTTP basic auth, counts what happened
//! (requests per operation, connections and their peak, sessions) and injects
//! faults ([`Fault`], and hwctl-sim's common faults through [`hwctl_sim::Simulator`]).
//! It binds loopback only (through [`hwctl_sim::bind`]: a non-loopback `listen` is
//! refused) and stops, with every connection, when dropped.
//!
//! Behaviour worth knowing:
//! - Operations and parameter names match case-insensitively (ironic sent `bladeId`,
//!   MAAS `bladeid`).
//! - A blade id outside `1..=population` answers `ParameterOutOfRange`; a parameter
//!   that does not convert answers HTTP 400; an unknown operation HTTP 404.
//! - While a serial session is active on a blade, its other blade commands answer
//!   `SerialSessionActive`; starting a session on a blade that is off answers
//!   `DevicePoweredOff`. The blade's terminal echoes what it receives.
//! - A non-persistent next-boot override is consumed when the blade powers on.
//! - Serial data is base64 both ways (see [`crate::wire`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
//! let sim = OcsSim::start(OcsSimConfig::default()).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! sim.set_blade_power(7, true);
//! assert!(sim.blade(7).unwrap().on);
//! # Ok(()) }
//! ```

mod chassis;
mod reply;
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwctl_core::{DriverInfo, Error, ErrorKind, Result};
use hwctl_sim::{CommonFault, Counters, FaultPlan, SimStats, Simulator, TaskSet};

use chassis::{BOOT_TYPES, Chassis};

/// How to start a [`OcsSim`].
#[derive(Clone)]
pub struct OcsSimConfig {
    /// Where to listen; `None` is 127.0.0.1 on an ephemeral port.
    pub listen: Option<SocketAddr>,
    /// Number of blades: 24 (the chassis manager's default) or 48.
    pub population: u32,
    /// The basic-auth user the chassis accepts.
    pub username: String,
    /// The basic-auth password the chassis accepts.
    pub password: String,
    /// How long a blade takes to report ON after a power-on command.
    pub power_delay: Duration,
    /// Blades that are on at start.
    pub blades_on: Vec<u32>,
}

impl fmt::Debug for OcsSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcsSimConfig")
            .field("listen", &self.listen)
            .field("population", &self.population)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("power_delay", &self.power_delay)
            .finish_non_exhaustive()
    }
}

impl Default for OcsSimConfig {
    /// 24 blades, all off, user `admin`, password `password`, instant power.
    fn default() -> Self {
        OcsSimConfig {
            listen: None,
            population: 24,
            username: "admin".into(),
            password: "password".into(),
            power_delay: Duration::ZERO,
            blades_on: Vec::new(),
        }
    }
}

impl OcsSimConfig {
    /// A chassis of `population` blades (24 or 48) with the other defaults.
    /// ```
    /// use hwctl_ocs::sim::OcsSimConfig;
    /// let c = OcsSimConfig::with_population(48);
    /// assert_eq!(c.population, 48);
    /// assert_eq!(c.username, OcsSimConfig::default().username);
    /// ```
    pub fn with_population(population: u32) -> Self {
        OcsSimConfig {
            population,
            ..OcsSimConfig::default()
        }
    }
}

/// A fault the simulator injects in place of (or before) a normal reply.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this `completionCode` (a contract name, or any text) and
    /// `statusDescription`, in the operation's own reply shape.
    CompletionCode {
        /// The code as it goes on the wire.
        code: String,
        /// The `statusDescription`.
        description: String,
    },
    /// Reply with this HTTP status (401 adds `WWW-Authenticate`) and a short text body.
    HttpStatus(u16),
    /// Wait this long, then reply normally.
    Delay(Duration),
    /// Carry the request out at once, then wait this long before replying: the
    /// effect happens even when the client gives up first (a reply lost after the
    /// fact).
    SlowReply(Duration),
    /// Reply with the first half of the normal XML document.
    TruncatedXml,
    /// Reply with a body that is not XML.
    MalformedXml,
    /// Reply with a well-formed document padded to this many bytes.
    Oversized(usize),
    /// Close the connection without replying.
    ResetConnection,
    /// Reply 200 with this body verbatim (any reply shape a test needs).
    Body(String),
}

impl Fault {
    /// A completion-code fault.
    /// ```
    /// use hwctl_ocs::sim::Fault;
    /// let f = Fault::completion("Timeout", "blade busy");
    /// assert_eq!(f, Fault::CompletionCode { code: "Timeout".into(), description: "blade busy".into() });
    /// ```
    pub fn completion(code: &str, description: &str) -> Self {
        Fault::CompletionCode {
            code: code.to_owned(),
            description: description.to_owned(),
        }
    }
}

/// A fault and the requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What to do.
    pub fault: Fault,
    /// Only this operation (case-insensitive), or every one.
    pub operation: Option<String>,
    /// Only requests for this blade, or every one.
    pub blade: Option<u32>,
    /// How many more requests it applies to (`None`: until cleared).
    pub remaining: Option<u32>,
}

impl FaultRule {
    /// `fault` on every request until cleared.
    /// ```
    /// use hwctl_ocs::sim::{Fault, FaultRule};
    /// let r = FaultRule::always(Fault::HttpStatus(503));
    /// assert_eq!((r.operation, r.blade, r.remaining), (None, None, None));
    /// ```
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            fault,
            operation: None,
            blade: None,
            remaining: None,
        }
    }

    /// Only for `operation`.
    /// ```
    /// use hwctl_ocs::sim::{Fault, FaultRule};
    /// let r = FaultRule::always(Fault::TruncatedXml).on("GetBladeState");
    /// assert_eq!(r.operation.as_deref(), Some("GetBladeState"));
    /// ```
    pub fn on(mut self, operation: &str) -> Self {
        self.operation = Some(operation.to_owned());
        self
    }

    /// Only for `blade`.
    /// ```
    /// use hwctl_ocs::sim::{Fault, FaultRule};
    /// let r = FaultRule::always(Fault::MalformedXml).blade(3);
    /// assert_eq!(r.blade, Some(3));
    /// ```
    pub fn blade(mut self, blade: u32) -> Self {
        self.blade = Some(blade);
        self
    }

    /// Only for the next `n` matching requests.
    /// ```
    /// use hwctl_ocs::sim::{Fault, FaultRule};
    /// let r = FaultRule::always(Fault::ResetConnection).times(2);
    /// assert_eq!(r.remaining, Some(2));
    /// ```
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }
}

/// One request the simulator received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: String,
    /// The path, as sent (`/GetBladeState`).
    pub path: String,
    /// The raw query string, as sent (`bladeId=7`).
    pub query: String,
    /// The `Authorization` header, as sent.
    pub authorization: Option<String>,
}

impl RecordedRequest {
    /// `path?query` without the leading `/`, comparable with what a client built.
    /// ```
    /// use hwctl_ocs::sim::RecordedRequest;
    /// let r = RecordedRequest { method: "GET".into(), path: "/GetBladeState".into(), query: "bladeId=7".into(), authorization: None };
    /// assert_eq!(r.path_and_query(), "GetBladeState?bladeId=7");
    /// ```
    pub fn path_and_query(&self) -> String {
        let p = self.path.trim_start_matches('/');
        if self.query.is_empty() {
            p.to_owned()
        } else {
            format!("{p}?{}", self.query)
        }
    }
}

/// What the simulator counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests received (including refused ones).
    pub requests: u64,
    /// Requests per canonical operation name.
    pub by_operation: BTreeMap<String, u64>,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// TCP connections accepted.
    pub connections: u64,
    /// TCP connections open now.
    pub open_connections: u64,
    /// Most TCP connections open at once.
    pub peak_connections: u64,
    /// Most requests being answered at once.
    pub peak_in_flight: u64,
    /// Serial sessions started.
    pub sessions_started: u64,
    /// Serial sessions stopped by `StopBladeSerialSession`.
    pub sessions_stopped: u64,
    /// Serial sessions active now.
    pub active_sessions: u64,
}

/// A snapshot of one simulated blade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BladeSnapshot {
    /// Powered on.
    pub on: bool,
    /// The next-boot override's contract name (`ForcePxe`, `NoOverride`, …).
    pub next_boot: &'static str,
    /// Whether the override is persistent.
    pub persistent: bool,
    /// Whether the last `SetNextBoot` asked for UEFI.
    pub uefi: bool,
    /// The last `bootInstance`, if one was sent.
    pub boot_instance: Option<u32>,
    /// Whether a serial session is active.
    pub session_active: bool,
    /// Every byte received over serial sessions.
    pub serial_input: Vec<u8>,
    /// Active power cycles performed.
    pub power_cycles: u64,
}

#[derive(Debug)]
struct Shared {
    username: String,
    password: String,
    chassis: Mutex<Chassis>,
    faults: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<RecordedRequest>>,
    by_operation: Mutex<BTreeMap<String, u64>>,
    counters: Counters,
    /// Requests being answered now, and the most at once.
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    /// hwctl-sim's common faults (silence, bad credentials, garbage, delay), consulted
    /// before the rules of [`OcsSim::inject_rule`].
    common: FaultPlan,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running simulated chassis manager. Dropping it stops the server and closes
/// its connections.
pub struct OcsSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The accept loop and every connection: aborted when the simulator is dropped.
    _tasks: TaskSet,
}

impl fmt::Debug for OcsSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcsSim")
            .field("addr", &self.addr)
            .field("population", &self.population())
            .finish_non_exhaustive()
    }
}

impl OcsSim {
    /// Starts a simulator on `config.listen` (loopback only; default 127.0.0.1 and
    /// a free port).
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for a population other than 24 or 48, or a `listen`
    /// address that is not loopback (such as `0.0.0.0:0`: simulators never listen
    /// on a real network); `Busy` when the address is in use; `PermissionDenied` or
    /// `Other` when it cannot bind otherwise (see [`hwctl_sim::bind::bind_tcp`]).
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// assert_eq!(sim.population(), 24);
    /// let e = OcsSim::start(OcsSimConfig::with_population(7)).await.unwrap_err();
    /// assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
    pub async fn start(config: OcsSimConfig) -> Result<OcsSim> {
        if config.population != 24 && config.population != 48 {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("a chassis has 24 or 48 blades, not {}", config.population),
            ));
        }
        let mut chassis = Chassis::new(config.population, config.power_delay);
        for &b in &config.blades_on {
            if let Some(blade) = chassis.blades.get_mut((b as usize).wrapping_sub(1)) {
                blade.on = true;
            }
        }
        let shared = Arc::new(Shared {
            username: config.username,
            password: config.password,
            chassis: Mutex::new(chassis),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            by_operation: Mutex::new(BTreeMap::new()),
            counters: Counters::new(),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            common: FaultPlan::new(),
        });
        let listener = hwctl_sim::bind_tcp(config.listen)
            .await
            .map_err(|e| e.with_driver(crate::NAME))?;
        let addr = listener.local_addr().map_err(|e| {
            Error::new(ErrorKind::Other, "listener has no address")
                .with_driver(crate::NAME)
                .with_source(e)
        })?;
        let tasks = TaskSet::new();
        tasks.spawn(server::serve(listener, shared.clone(), tasks.spawner()));
        tracing::debug!(%addr, "OCS chassis manager simulator started");
        Ok(OcsSim {
            addr,
            shared,
            _tasks: tasks,
        })
    }

    /// The listening address.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// assert!(sim.addr().ip().is_loopback());
    /// assert_ne!(sim.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` — the value for `msftocs_base_url`.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// assert_eq!(sim.base_url(), format!("http://{}", sim.addr()));
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The number of blades.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// assert_eq!(sim.population(), 24);
    /// let big = OcsSim::start(OcsSimConfig::with_population(48)).await?;
    /// assert_eq!(big.population(), 48);
    /// # Ok(()) }
    /// ```
    pub fn population(&self) -> u32 {
        lock(&self.shared.chassis).population()
    }

    /// The accepted user name.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// assert_eq!(sim.username(), OcsSimConfig::default().username);
    /// # Ok(()) }
    /// ```
    pub fn username(&self) -> &str {
        &self.shared.username
    }

    /// The accepted password.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// assert_eq!(sim.password(), "password");
    /// # Ok(()) }
    /// ```
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// A snapshot of blade `id` (1-based), or `None` if there is no such blade.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// let b = sim.blade(1).unwrap();
    /// assert!(!b.on);
    /// assert!(!b.session_active);
    /// assert!(sim.blade(0).is_none() && sim.blade(25).is_none());
    /// # Ok(()) }
    /// ```
    pub fn blade(&self, id: u32) -> Option<BladeSnapshot> {
        let mut c = lock(&self.shared.chassis);
        let b = c.blades.get_mut((id as usize).checked_sub(1)?)?;
        b.settle(Instant::now());
        Some(BladeSnapshot {
            on: b.on,
            next_boot: BOOT_TYPES[usize::from(b.next_boot)],
            persistent: b.persistent,
            uefi: b.uefi,
            boot_instance: b.boot_instance,
            session_active: b.session.is_some(),
            serial_input: b.serial_input.clone(),
            power_cycles: b.power_cycles,
        })
    }

    /// Sets blade `id`'s power directly (no request counted).
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// sim.set_blade_power(2, true);
    /// assert_eq!(client.blade_state(2).await?.blade_state, hwctl_ocs::wire::BladeState::On);
    /// assert_eq!(sim.stats().requests, 1);
    /// # Ok(()) }
    /// ```
    pub fn set_blade_power(&self, id: u32, on: bool) {
        let mut c = lock(&self.shared.chassis);
        if let Some(b) = c.blades.get_mut((id as usize).wrapping_sub(1)) {
            b.on = on;
            b.on_at = None;
        }
    }

    /// Makes blade `id`'s power commands answer Success without effect (a blade
    /// that never reaches its target).
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// use hwctl_ocs::wire::{BladeResponse, Request};
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 4, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// sim.set_stuck(4, true);
    /// let r: BladeResponse = client.call(&Request::SetBladeOn { blade_id: 4 }).await?;
    /// assert!(r.status.completion_code.is_success());
    /// assert!(!sim.blade(4).unwrap().on);
    /// # Ok(()) }
    /// ```
    pub fn set_stuck(&self, id: u32, stuck: bool) {
        let mut c = lock(&self.shared.chassis);
        if let Some(b) = c.blades.get_mut((id as usize).wrapping_sub(1)) {
            b.stuck = stuck;
        }
    }

    /// Queues bytes the blade "prints" on its active serial session. Returns
    /// `false` when no session is active.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// // No session is active on blade 1 yet.
    /// assert!(!sim.push_serial_output(1, b"login: "));
    /// # Ok(()) }
    /// ```
    pub fn push_serial_output(&self, id: u32, bytes: &[u8]) -> bool {
        let mut c = lock(&self.shared.chassis);
        match c
            .blades
            .get_mut((id as usize).wrapping_sub(1))
            .and_then(|b| b.session.as_mut())
        {
            Some(s) => {
                s.output.extend(bytes.iter().copied());
                true
            }
            None => false,
        }
    }

    /// Adds a fault rule (rules are tried in the order added; the first that
    /// matches applies). hwctl-sim's common faults ([`Simulator::inject`]) come first.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// use hwctl_ocs::sim::{Fault, FaultRule};
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// sim.inject_rule(FaultRule::always(Fault::completion("ParameterOutOfRange", "no")).times(1));
    /// let e = client.blade_state(1).await.unwrap_err();
    /// assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// assert!(client.blade_state(1).await.is_ok()); // the rule was used up
    /// # Ok(()) }
    /// ```
    pub fn inject_rule(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every fault rule.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// use hwctl_ocs::sim::{Fault, FaultRule};
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// sim.inject_rule(FaultRule::always(Fault::MalformedXml));
    /// assert!(client.blade_state(1).await.is_err());
    /// sim.clear_faults();
    /// assert!(client.blade_state(1).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every request received so far, in order.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// client.blade_state(5).await?;
    /// let log = sim.requests();
    /// assert_eq!(log.len(), 1);
    /// assert_eq!(log[0].path_and_query(), "GetBladeState?bladeId=5");
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the recorded requests (counters are kept).
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// client.blade_state(1).await?;
    /// sim.clear_requests();
    /// assert!(sim.requests().is_empty());
    /// assert_eq!(sim.stats().requests, 1); // counters are kept
    /// # Ok(()) }
    /// ```
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// The counters.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
    /// let sim = OcsSim::start(OcsSimConfig::default()).await?;
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// client.blade_state(1).await?;
    /// client.blade_state(2).await?;
    /// let stats = sim.stats();
    /// assert_eq!(stats.requests, 2);
    /// assert_eq!(stats.by_operation.get("GetBladeState"), Some(&2));
    /// assert!(stats.connections >= 1);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Stats {
        let c = self.shared.counters.snapshot();
        let chassis = lock(&self.shared.chassis);
        Stats {
            requests: c.requests,
            by_operation: lock(&self.shared.by_operation).clone(),
            unauthorized: c.failed_logins,
            connections: c.connections,
            open_connections: c.open_connections,
            peak_connections: c.peak_connections,
            peak_in_flight: self.shared.peak_in_flight.load(Ordering::SeqCst),
            sessions_started: chassis.sessions_started,
            sessions_stopped: chassis.sessions_stopped,
            active_sessions: chassis
                .blades
                .iter()
                .filter(|b| b.session.is_some())
                .count() as u64,
        }
    }
}

impl Simulator for OcsSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "OCS chassis manager simulator on {}, {} blades (user {})",
            self.base_url(),
            self.population(),
            self.username()
        )
    }

    /// One node per blade: node `i` is blade `i + 1`.
    fn node_count(&self) -> usize {
        self.population() as usize
    }

    fn driver_info(&self, i: usize) -> DriverInfo {
        DriverInfo::from_pairs([
            ("msftocs_base_url", self.base_url()),
            ("msftocs_blade_id", (i + 1).to_string()),
            ("msftocs_username", self.username().to_owned()),
            ("msftocs_password", self.password().to_owned()),
        ])
    }

    fn node_name(&self, i: usize) -> String {
        format!("ocs-blade-{}", i + 1)
    }

    /// hwctl-sim's counters; sessions are serial sessions.
    fn stats(&self) -> SimStats {
        let mut s = self.shared.counters.snapshot();
        let ours = OcsSim::stats(self);
        s.sessions_opened = ours.sessions_started;
        s.sessions_closed = ours.sessions_started - ours.active_sessions;
        s.open_sessions = ours.active_sessions;
        s
    }

    /// Silence: requests are read and never answered; bad credentials: every
    /// request is refused with 401; garbage: every reply is a body that is not XML;
    /// delay: replies come after the delay.
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        self.shared.common.replace(fault);
        Ok(())
    }
}
