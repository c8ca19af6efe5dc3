//! An in-process Redfish service (feature `sim`): a loopback HTTP server written from
//! the DMTF schema facts (DSP0266, DSP8010) — service root, one or several
//! ComputerSystems, a chassis per system with `Thermal`/`Power` sensors, a manager,
//! a SessionService with a session limit, ETags, `@Redfish.AllowableValues`, task
//! monitors — and settable faults ([`RedfishFault`], and hwctl-sim's common faults
//! through [`hwctl_sim::Simulator`]).
//!
//! It shares no code with the client: its JSON is written by hand with
//! `serde_json::json!`, its request parsing is its own. It binds loopback only
//! ([`hwctl_sim::bind_tcp`]) and stops, with every connection, when dropped.
//!
//! Behaviour worth knowing:
//! - Unauthenticated: `GET /redfish`, `/redfish/v1/`, `/redfish/v1/odata`,
//!   `/redfish/v1/$metadata`, and the log-in `POST …/SessionService/Sessions`.
//!   Everything else takes `X-Auth-Token` of an open session or HTTP basic.
//! - `POST …/Sessions` answers 201 with `X-Auth-Token`, `Location` and the Session;
//!   past [`RedfishSimConfig::session_limit`] open sessions it answers 503
//!   `Base.1.8.SessionLimitExceeded`. `DELETE` of the session's URI ends it.
//! - Systems answer an `ETag` header (and `@odata.etag`); a `PATCH` with a stale
//!   `If-Match` is 412, and without one too when `require_if_match` is set.
//! - Reset types outside `ResetType@Redfish.AllowableValues` are 400
//!   `Base.1.8.ActionParameterValueNotInList`; boot targets outside
//!   `BootSourceOverrideTarget@Redfish.AllowableValues` 400
//!   `Base.1.8.PropertyValueNotInList`.
//! - Power changes take [`RedfishSimConfig::power_delay`] (`PoweringOn` /
//!   `PoweringOff` meanwhile). A `Once` boot override is used up by the next power on.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
//! let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sim.system(0).power_state, "Off");
//! # Ok(()) }
//! ```

mod service;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hwctl_core::{DriverInfo, Result};
use hwctl_sim::{CommonFault, Counters, FaultPlan, SessionGuard, SimStats, Simulator, TaskSet};
use tokio::time::Instant;

/// How to start a [`RedfishSim`].
///
/// ```
/// use std::time::Duration;
/// use hwctl_redfish::sim::RedfishSimConfig;
/// let config = RedfishSimConfig {
///     systems: 2,
///     power_delay: Duration::from_millis(50),
///     ..RedfishSimConfig::default()
/// };
/// assert_eq!((config.username.as_str(), config.password.as_str()), ("admin", "password"));
/// assert_eq!(config.session_limit, 4);
/// assert!(config.reset_types.iter().any(|t| t == "ForceOff"));
/// ```
#[derive(Clone)]
pub struct RedfishSimConfig {
    /// Where to listen; `None` is 127.0.0.1 on an ephemeral port.
    pub listen: Option<SocketAddr>,
    /// How many ComputerSystems (`/redfish/v1/Systems/1` …).
    pub systems: usize,
    /// The account's user name.
    pub username: String,
    /// The account's password.
    pub password: String,
    /// The most sessions open at once (`SessionService` answers 503 beyond).
    pub session_limit: usize,
    /// How long a power change takes.
    pub power_delay: Duration,
    /// Whether a PATCH without `If-Match` is refused with 412.
    pub require_if_match: bool,
    /// Whether the service has a SessionService (false: basic authentication only,
    /// like sushy-tools).
    pub session_service: bool,
    /// `ResetType@Redfish.AllowableValues` of every system.
    pub reset_types: Vec<String>,
}

impl fmt::Debug for RedfishSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedfishSimConfig")
            .field("listen", &self.listen)
            .field("systems", &self.systems)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("session_limit", &self.session_limit)
            .field("power_delay", &self.power_delay)
            .field("require_if_match", &self.require_if_match)
            .field("session_service", &self.session_service)
            .finish_non_exhaustive()
    }
}

impl Default for RedfishSimConfig {
    /// One system, off; user `admin`, password `password`; 4 sessions; instant
    /// power; If-Match optional; every standard reset type.
    fn default() -> Self {
        RedfishSimConfig {
            listen: None,
            systems: 1,
            username: "admin".into(),
            password: "password".into(),
            session_limit: 4,
            power_delay: Duration::ZERO,
            require_if_match: false,
            session_service: true,
            reset_types: [
                "On",
                "ForceOff",
                "GracefulShutdown",
                "GracefulRestart",
                "ForceRestart",
                "Nmi",
                "ForceOn",
                "PushPowerButton",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        }
    }
}

/// A Redfish-specific fault, set with [`RedfishSim::set_fault`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{ErrorKind, PowerState};
/// use hwctl_redfish::sim::RedfishFault;
/// use hwctl_core::NodeContext;
/// use hwctl_sim::Simulator;
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let node = hwctl_redfish::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
/// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
/// sim.set_fault(RedfishFault::Status { status: 404, times: 1 });
/// let err = node.power()?.get_power_state().await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// // Only the next request was refused.
/// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedfishFault {
    /// Answer 401 to the next `n` authenticated requests whatever they carry (a
    /// session invalidated under the client: one re-login must recover from `1`).
    UnauthorizedStorm(u32),
    /// Answer this HTTP status, with a Redfish error body, to the next `n` requests
    /// other than session log-in and log-out.
    Status {
        /// The status (500, 503, 409, …).
        status: u16,
        /// How many requests.
        times: u32,
    },
    /// Wait this long before every reply.
    SlowReplies(Duration),
    /// Answer resets and PATCHes with 202 and a task monitor that completes after
    /// this long (the change takes effect then).
    Tasks(Duration),
    /// Cut the next `n` JSON bodies in half.
    TruncatedJson(u32),
    /// Refuse (400) a PATCH setting `BootSourceOverrideTarget` and
    /// `BootSourceOverrideMode` together.
    RejectTargetWithMode,
    /// Tasks end in `Exception` instead of `Completed`.
    FailingTasks,
}

/// What the simulator holds of one system (a copy, for tests).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{PowerExt, PowerState};
/// use hwctl_core::NodeContext;
/// use hwctl_sim::Simulator;
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let node = hwctl_redfish::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
/// node.power()?.power_on().await?;
/// let system = sim.system(0);
/// assert_eq!(system.power_state, "On");
/// assert_eq!(system.resets, ["On"]);
/// assert_eq!(system.nmis, 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSnapshot {
    /// `Id`.
    pub id: String,
    /// `PowerState` as it reads now.
    pub power_state: String,
    /// `BootSourceOverrideTarget`.
    pub boot_target: String,
    /// `BootSourceOverrideEnabled`.
    pub boot_enabled: String,
    /// `BootSourceOverrideMode`.
    pub boot_mode: String,
    /// Reset types received, in order.
    pub resets: Vec<String>,
    /// NMIs received.
    pub nmis: u32,
    /// PATCH requests applied.
    pub patches: u32,
}

#[derive(Debug, Clone)]
struct System {
    id: String,
    on: bool,
    pending: Option<(bool, Instant)>,
    boot_target: String,
    boot_enabled: String,
    boot_mode: String,
    generation: u64,
    resets: Vec<String>,
    nmis: u32,
    patches: u32,
}

impl System {
    fn settle(&mut self, now: Instant) {
        if let Some((target, at)) = self.pending
            && now >= at
        {
            self.set_on(target);
            self.pending = None;
        }
    }

    fn set_on(&mut self, on: bool) {
        if on && !self.on && self.boot_enabled == "Once" {
            // DSP8010 BootSourceOverrideEnabled: Once is cleared after the next boot.
            self.boot_enabled = "Disabled".into();
            self.generation += 1;
        }
        if on != self.on {
            self.generation += 1;
        }
        self.on = on;
    }

    fn power_state(&self) -> &'static str {
        match (self.on, self.pending) {
            (false, Some((true, _))) => "PoweringOn",
            (true, Some((false, _))) => "PoweringOff",
            (true, _) => "On",
            (false, _) => "Off",
        }
    }
}

struct SessionEntry {
    id: String,
    user: String,
    _guard: SessionGuard,
}

struct TaskEntry {
    ready_at: Instant,
    system: usize,
    effect: TaskEffect,
    done: bool,
}

enum TaskEffect {
    Power(bool),
    None,
}

#[derive(Default)]
struct Faults {
    unauthorized: u32,
    status: Option<(u16, u32)>,
    slow: Option<Duration>,
    tasks: Option<Duration>,
    truncated: u32,
    reject_target_with_mode: bool,
    failing_tasks: bool,
}

struct State {
    systems: Vec<System>,
    sessions: HashMap<String, SessionEntry>,
    next_session: u64,
    tasks: HashMap<u64, TaskEntry>,
    next_task: u64,
    faults: Faults,
}

struct Shared {
    config: RedfishSimConfig,
    state: Mutex<State>,
    counters: Counters,
    plan: FaultPlan,
    uuid: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running simulated Redfish service.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// use hwctl_sim::Simulator;
/// let sim = RedfishSim::start(RedfishSimConfig { systems: 2, ..Default::default() }).await?;
/// assert_eq!(sim.node_count(), 2);
/// let info = sim.driver_info(1);
/// assert_eq!(info.get_str("redfish_system_id").as_deref(), Some("/redfish/v1/Systems/2"));
/// assert_eq!(info.get_str("redfish_address").as_deref(), Some(sim.base_url().as_str()));
/// # Ok(()) }
/// ```
pub struct RedfishSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _tasks: TaskSet,
}

impl fmt::Debug for RedfishSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedfishSim")
            .field("addr", &self.addr)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl RedfishSim {
    /// Starts the service.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for a non-loopback `listen`; `Other` when binding fails.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// // Loopback only: anything else is refused.
    /// let wide = RedfishSimConfig { listen: Some("0.0.0.0:0".parse().unwrap()), ..Default::default() };
    /// assert_eq!(RedfishSim::start(wide).await.unwrap_err().kind(), ErrorKind::InvalidParameter);
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// assert_eq!(sim.system(0).id, "1");
    /// # Ok(()) }
    /// ```
    pub async fn start(config: RedfishSimConfig) -> Result<RedfishSim> {
        let listener = hwctl_sim::bind_tcp(config.listen).await?;
        let addr = listener.local_addr().map_err(|e| {
            hwctl_core::Error::new(hwctl_core::ErrorKind::Other, format!("local_addr: {e}"))
        })?;
        let systems = (1..=config.systems.max(1))
            .map(|i| System {
                id: i.to_string(),
                on: false,
                pending: None,
                boot_target: "None".into(),
                boot_enabled: "Disabled".into(),
                boot_mode: "UEFI".into(),
                generation: 1,
                resets: Vec::new(),
                nmis: 0,
                patches: 0,
            })
            .collect();
        let shared = Arc::new(Shared {
            uuid: format!("92384634-2938-2342-8820-{:012x}", addr.port()),
            config,
            state: Mutex::new(State {
                systems,
                sessions: HashMap::new(),
                next_session: 1,
                tasks: HashMap::new(),
                next_task: 1,
                faults: Faults::default(),
            }),
            counters: Counters::new(),
            plan: FaultPlan::new(),
        });
        let tasks = TaskSet::new();
        tasks.spawn(service::serve(listener, shared.clone(), tasks.spawner()));
        Ok(RedfishSim {
            addr,
            shared,
            _tasks: tasks,
        })
    }

    /// Where it listens.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// assert!(sim.addr().ip().is_loopback());
    /// assert_ne!(sim.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// assert_eq!(sim.base_url(), format!("http://{}", sim.addr()));
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The path of system `i` (0-based): `/redfish/v1/Systems/<i+1>`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// assert_eq!(sim.system_path(0), "/redfish/v1/Systems/1");
    /// assert_eq!(sim.system_path(1), "/redfish/v1/Systems/2");
    /// # Ok(()) }
    /// ```
    pub fn system_path(&self, i: usize) -> String {
        format!("/redfish/v1/Systems/{}", i + 1)
    }

    /// A copy of system `i` (0-based). Panics when `i` is out of range.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let s = sim.system(0);
    /// assert_eq!((s.power_state.as_str(), s.boot_target.as_str()), ("Off", "None"));
    /// assert_eq!((s.boot_enabled.as_str(), s.boot_mode.as_str()), ("Disabled", "UEFI"));
    /// assert!(s.resets.is_empty());
    /// assert_eq!(s.patches, 0);
    /// # Ok(()) }
    /// ```
    pub fn system(&self, i: usize) -> SystemSnapshot {
        let mut st = self.shared.lock();
        let s = &mut st.systems[i];
        s.settle(Instant::now());
        SystemSnapshot {
            id: s.id.clone(),
            power_state: s.power_state().into(),
            boot_target: s.boot_target.clone(),
            boot_enabled: s.boot_enabled.clone(),
            boot_mode: s.boot_mode.clone(),
            resets: s.resets.clone(),
            nmis: s.nmis,
            patches: s.patches,
        }
    }

    /// Sets system `i`'s power at once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{PowerExt, PowerState};
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let node = hwctl_redfish::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// sim.set_power(0, true);
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
    /// assert!(sim.system(0).resets.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn set_power(&self, i: usize, on: bool) {
        let mut st = self.shared.lock();
        st.systems[i].pending = None;
        st.systems[i].set_on(on);
    }

    /// Sets a Redfish fault (replacing one of the same kind).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{PowerExt, PowerState};
    /// use hwctl_redfish::sim::RedfishFault;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let node = hwctl_redfish::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// node.power()?.get_power_state().await?;
    /// // The session is refused once: the client logs in again and resends.
    /// sim.set_fault(RedfishFault::UnauthorizedStorm(1));
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
    /// assert_eq!(sim.counters().sessions_opened, 2);
    /// # Ok(()) }
    /// ```
    pub fn set_fault(&self, fault: RedfishFault) {
        let mut st = self.shared.lock();
        let f = &mut st.faults;
        match fault {
            RedfishFault::UnauthorizedStorm(n) => f.unauthorized = n,
            RedfishFault::Status { status, times } => f.status = Some((status, times)),
            RedfishFault::SlowReplies(d) => f.slow = Some(d),
            RedfishFault::Tasks(d) => f.tasks = Some(d),
            RedfishFault::TruncatedJson(n) => f.truncated = n,
            RedfishFault::RejectTargetWithMode => f.reject_target_with_mode = true,
            RedfishFault::FailingTasks => f.failing_tasks = true,
        }
    }

    /// Clears every Redfish fault.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{PowerExt, PowerState};
    /// use hwctl_redfish::sim::RedfishFault;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let node = hwctl_redfish::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// sim.set_fault(RedfishFault::Status { status: 404, times: 100 });
    /// sim.clear_faults();
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
    /// # Ok(()) }
    /// ```
    pub fn clear_faults(&self) {
        self.shared.lock().faults = Faults::default();
    }

    /// User names of the open sessions.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// assert!(sim.open_sessions().is_empty());
    /// client.system().await?;
    /// assert_eq!(sim.open_sessions(), ["admin"]);
    /// client.close().await?;
    /// assert!(sim.open_sessions().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn open_sessions(&self) -> Vec<String> {
        self.shared
            .lock()
            .sessions
            .values()
            .map(|s| s.user.clone())
            .collect()
    }

    /// The counters (sessions opened, closed, open, peak; requests; …).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// client.system().await?;
    /// client.system().await?;
    /// let stats = sim.counters();
    /// assert_eq!((stats.sessions_opened, stats.open_sessions), (1, 1));
    /// assert!(stats.requests >= 3);
    /// # Ok(()) }
    /// ```
    pub fn counters(&self) -> SimStats {
        self.shared.counters.snapshot()
    }
}

impl Simulator for RedfishSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "Redfish service simulator on {}, {} system(s), user {}",
            self.base_url(),
            self.shared.config.systems.max(1),
            self.shared.config.username
        )
    }

    fn node_count(&self) -> usize {
        self.shared.config.systems.max(1)
    }

    fn driver_info(&self, i: usize) -> DriverInfo {
        DriverInfo::from_pairs([
            ("redfish_address", self.base_url()),
            ("redfish_system_id", self.system_path(i)),
            ("redfish_username", self.shared.config.username.clone()),
            ("redfish_password", self.shared.config.password.clone()),
        ])
    }

    fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        if fault == Some(CommonFault::BadCredentials) {
            // End the open sessions too: a changed password invalidates them.
            self.shared.lock().sessions.clear();
        }
        self.shared.plan.replace(fault);
        Ok(())
    }
}
