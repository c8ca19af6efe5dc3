//! An in-process HPE OneView appliance (feature `sim`): a loopback HTTP or HTTPS
//! server speaking the appliance's REST API, with one iLO endpoint per server for
//! the one-time boot, for tests, demos and benches.
//!
//! Written from PROTOCOLS.md §2.2 and the fixtures' shapes, not from the client: it
//! builds its JSON by hand and parses requests with `serde_json::Value`.
//!
//! - `GET /rest/version` (`minimumVersion` 120, `currentVersion` 800 by default);
//!   `POST /rest/login-sessions` → `sessionID`; every other request needs a live
//!   `Auth:` session (401 otherwise) and, when it sends `X-API-Version`, one in
//!   range (400 `UNSUPPORTED_VERSION` otherwise); `DELETE /rest/login-sessions`.
//!   Sessions are counted (hwctl-sim's [`Counters`]) and limited (400
//!   `SESSION_LIMIT_EXCEEDED`).
//! - Server hardware (list, one, `…/utilization`, `…/remoteConsoleUrl`, `PUT
//!   …/powerState`), server profiles (list, one, `PUT`, `DELETE`, `POST`),
//!   templates (list, one, `…/new-profile`), tasks. A `PUT`/`POST`/`DELETE` answers
//!   202 with `Location: /rest/tasks/{id}` and the task (`category: tasks`,
//!   `type: TaskResourceV2`); the task runs for `task_duration`, during which
//!   the server reads `PoweringOn`/`PoweringOff`/`Resetting`, and takes effect
//!   when it completes. A second power request during a power task is 409.
//! - Each server's iLO (`remoteConsoleUrl` → `hplocons://addr=127.0.0.1:PORT&
//!   sessionkey=…`): `/rest/v1/Systems`, `/rest/v1/Systems/1` (GET, PATCH
//!   `Boot`), `/rest/v1/sessions` (list, GET with `Oem.Hp.MySession`, DELETE),
//!   with `X-Auth-Token`. A one-time boot target is consumed by the next power on
//!   or reset; [`OneviewSim::server`] lists what each server booted from.
//! - Faults: hwctl-sim's common ones (through [`Simulator::inject`]), rules
//!   ([`FaultRule`]: HTTP status such as 409 or 500, malformed JSON, delay, task
//!   error), expired sessions ([`OneviewSim::expire_sessions`]) and slow tasks
//!   ([`OneviewSim::set_task_duration`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
//! let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sim.server(0).unwrap().power_state, "Off");
//! # Ok(()) }
//! ```

mod appliance;
mod http;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwctl_core::{DriverInfo, Error, ErrorKind, NodeContext, Result};
use hwctl_sim::{CommonFault, Counters, FaultPlan, SimStats, Simulator, TaskSet};
use serde_json::json;

use appliance::{Appliance, EG_URI, OTHER_SHT_URI, SHT_URI, SimProfile, SimServerState};
use http::Target;

/// How to start a [`OneviewSim`].
///
/// ```
/// use hwctl_oneview::sim::OneviewSimConfig;
/// let config = OneviewSimConfig { servers: 2, with_profiles: 1, ..OneviewSimConfig::default() };
/// assert_eq!(config.username, "Administrator");
/// assert!(!format!("{config:?}").contains("password\""));
/// ```
#[derive(Clone)]
pub struct OneviewSimConfig {
    /// Where the appliance listens; `None` is 127.0.0.1 on an ephemeral port (the
    /// iLOs always take ephemeral loopback ports).
    pub listen: Option<SocketAddr>,
    /// Server hardware in the pool.
    pub servers: usize,
    /// The first this many servers have a profile (from the first template) applied
    /// at start, named for their node (`hw [oneview-N]`), and their `driver_info`
    /// names it as `applied_server_profile_uri`.
    pub with_profiles: usize,
    /// Servers (by index) whose profile belongs to someone else (not in their
    /// `driver_info`): power and boot changes are refused.
    pub foreign_profiles: Vec<usize>,
    /// The user the appliance accepts.
    pub username: String,
    /// The password the appliance accepts.
    pub password: String,
    /// `minimumVersion` and `currentVersion` of `GET /rest/version`.
    pub api_versions: (u32, u32),
    /// Concurrent sessions the appliance accepts.
    pub session_limit: usize,
    /// How long a task runs.
    pub task_duration: Duration,
    /// Serve HTTPS (appliance and iLOs) with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The CA file to name in `driver_info` (`oneview_tls_cacert_file`).
    pub ca_file: Option<PathBuf>,
    /// `oneview_task_poll_interval` in `driver_info`, seconds.
    pub task_poll_interval: f64,
}

impl fmt::Debug for OneviewSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneviewSimConfig")
            .field("listen", &self.listen)
            .field("servers", &self.servers)
            .field("with_profiles", &self.with_profiles)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("api_versions", &self.api_versions)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for OneviewSimConfig {
    /// 8 servers (the first 4 with profiles), all off, user `Administrator`,
    /// password `password`, API 120–800, 32 sessions, 50 ms tasks, plain HTTP.
    fn default() -> Self {
        OneviewSimConfig {
            listen: None,
            servers: 8,
            with_profiles: 4,
            foreign_profiles: Vec::new(),
            username: "Administrator".into(),
            password: "password".into(),
            api_versions: (120, 800),
            session_limit: 32,
            task_duration: Duration::from_millis(50),
            tls: None,
            ca_file: None,
            task_poll_interval: 0.05,
        }
    }
}

/// A fault the simulator injects for matching requests.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_oneview::sim::{FaultRule, OneviewFault, OneviewSim, OneviewSimConfig};
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// sim.inject_rule(FaultRule::always(OneviewFault::Status(500)));
/// let info = hwctl_sim::Simulator::driver_info(&sim, 0);
/// let config = hwctl_oneview::OneviewConfig::from_driver_info(&info, &hwctl_core::NodeContext::new("n0"))?;
/// let client = hwctl_oneview::OneviewClient::shared(&config)?;
/// let server = hwctl_oneview::OneviewServer::new(client, std::sync::Arc::new(config), "n0", vec![]);
/// assert!(server.power_state().await.is_err());
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneviewFault {
    /// Answer this HTTP status with a OneView error body (409 `CONFLICT`, 408,
    /// 401 `AUTHN_SESSION_EXPIRED`, others `INTERNAL_ERROR`).
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    MalformedJson,
    /// Wait, then answer normally.
    Delay(Duration),
    /// The task this request starts ends in `Error` with this `taskErrors[0]`.
    TaskError {
        /// `errorCode`.
        code: String,
        /// `message`.
        message: String,
    },
}

/// A fault and the requests it applies to.
///
/// ```
/// use hwctl_oneview::sim::{FaultRule, OneviewFault};
/// let rule = FaultRule::always(OneviewFault::Status(409)).on("PUT", "/powerState").times(2);
/// assert_eq!(rule.method.as_deref(), Some("PUT"));
/// assert_eq!(rule.remaining, Some(2));
/// assert!(!rule.ilo);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What to do.
    pub fault: OneviewFault,
    /// Only this method.
    pub method: Option<String>,
    /// Only paths containing this.
    pub path_contains: Option<String>,
    /// Also for iLO requests (default appliance only).
    pub ilo: bool,
    /// How many more requests (`None`: until cleared).
    pub remaining: Option<u32>,
}

impl FaultRule {
    /// `fault` on every appliance request until cleared.
    ///
    /// ```
    /// use hwctl_oneview::sim::{FaultRule, OneviewFault};
    /// let rule = FaultRule::always(OneviewFault::MalformedJson);
    /// assert_eq!((rule.method, rule.path_contains, rule.remaining), (None, None, None));
    /// ```
    pub fn always(fault: OneviewFault) -> Self {
        FaultRule {
            fault,
            method: None,
            path_contains: None,
            ilo: false,
            remaining: None,
        }
    }

    /// Only `method` requests whose path contains `path`.
    ///
    /// ```
    /// use hwctl_oneview::sim::{FaultRule, OneviewFault};
    /// let rule = FaultRule::always(OneviewFault::Status(404)).on("GET", "/utilization");
    /// assert_eq!(rule.path_contains.as_deref(), Some("/utilization"));
    /// ```
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_owned());
        self.path_contains = Some(path.to_owned());
        self
    }

    /// Only the next `n` matching requests.
    ///
    /// ```
    /// use hwctl_oneview::sim::{FaultRule, OneviewFault};
    /// assert_eq!(FaultRule::always(OneviewFault::Status(503)).times(1).remaining, Some(1));
    /// ```
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// iLO requests too.
    ///
    /// ```
    /// use hwctl_oneview::sim::{FaultRule, OneviewFault};
    /// assert!(FaultRule::always(OneviewFault::Status(500)).including_ilo().ilo);
    /// ```
    pub fn including_ilo(mut self) -> Self {
        self.ilo = true;
        self
    }
}

/// One request the simulator received.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// let c = hwctl_http::HttpClient::new(hwctl_http::EndpointConfig::builder(sim.base_url()).build()?)?;
/// c.send(hwctl_http::Request::get("/rest/version")).await?;
/// let r = &sim.requests()[0];
/// assert_eq!((r.target.as_str(), r.method.as_str(), r.path.as_str()), ("appliance", "GET", "/rest/version"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `appliance` or `ilo-N` (server index).
    pub target: String,
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The `Auth` header.
    pub auth: Option<String>,
    /// The `X-API-Version` header.
    pub api_version: Option<String>,
    /// The `X-Auth-Token` header (iLO).
    pub x_auth_token: Option<String>,
    /// The `Accept-Language` header.
    pub accept_language: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body, as text.
    pub body: String,
}

/// A snapshot of one simulated server.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// let s = sim.server(0).unwrap();
/// assert_eq!(s.uri, sim.server_uri(0));
/// assert!(s.profile.is_some()); // the first 4 servers have profiles
/// assert!(sim.server(7).unwrap().profile.is_none());
/// assert!(sim.server(8).is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimServer {
    /// `/rest/server-hardware/{uuid}`.
    pub uri: String,
    /// `On`, `Off`, `PoweringOn`, `PoweringOff`, `Resetting`.
    pub power_state: String,
    /// The applied profile.
    pub profile: Option<String>,
    /// The profile's boot order.
    pub boot_order: Vec<String>,
    /// The iLO's pending one-time boot target.
    pub ilo_once: Option<String>,
    /// iLO sessions open now.
    pub ilo_sessions: usize,
    /// What it booted from at each power on or reset.
    pub boots: Vec<String>,
    /// Its port MACs.
    pub macs: [String; 2],
}

/// What the simulator counted.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// let stats = sim.stats();
/// assert_eq!((stats.tasks, stats.ilo_sessions_opened, stats.common.sessions_opened), (0, 0, 0));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// hwctl-sim's counters (requests, connections, appliance sessions, failed log-ins).
    pub common: SimStats,
    /// iLO sessions opened through `remoteConsoleUrl`.
    pub ilo_sessions_opened: u64,
    /// iLO sessions deleted.
    pub ilo_sessions_closed: u64,
    /// Tasks started.
    pub tasks: u64,
}

#[derive(Debug)]
struct Shared {
    appliance: Mutex<Appliance>,
    rules: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<RecordedRequest>>,
    counters: Counters,
    common: FaultPlan,
    ilo_sessions_opened: Mutex<u64>,
    ilo_sessions_closed: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running simulated OneView appliance. Dropping it stops every listener.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// use hwctl_sim::Simulator;
/// let sim = OneviewSim::start(OneviewSimConfig { servers: 2, ..Default::default() }).await?;
/// assert_eq!(sim.node_count(), 2);
/// assert_eq!(sim.driver_info(1).get_str("server_hardware_uri").as_deref(), Some(sim.server_uri(1).as_str()));
/// # Ok(()) }
/// ```
pub struct OneviewSim {
    addr: SocketAddr,
    scheme: &'static str,
    config: OneviewSimConfig,
    shared: Arc<Shared>,
    _tasks: TaskSet,
}

impl fmt::Debug for OneviewSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneviewSim")
            .field("base_url", &self.base_url())
            .field("servers", &self.config.servers)
            .finish_non_exhaustive()
    }
}

/// The uuid of server `i`.
fn server_uuid(i: usize) -> String {
    format!("30303437-3933-4753-4831-{:012X}", i + 1)
}

impl OneviewSim {
    /// Starts the appliance and one iLO per server on loopback.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for no servers or a non-loopback `listen`; `Busy` when
    /// the address is in use; `Other` when a listener cannot be bound.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert!(sim.addr().ip().is_loopback());
    /// let none = OneviewSim::start(OneviewSimConfig { servers: 0, ..Default::default() }).await;
    /// assert_eq!(none.unwrap_err().kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
    pub async fn start(config: OneviewSimConfig) -> Result<OneviewSim> {
        if config.servers == 0 {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "a OneView pool needs at least one server",
            ));
        }
        let tls = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        let listener = hwctl_sim::bind_tcp(config.listen)
            .await
            .map_err(|e| e.with_driver(crate::NAME))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Other, "listener has no address").with_source(e))?;
        let mut ilos = Vec::with_capacity(config.servers);
        for _ in 0..config.servers {
            ilos.push(
                hwctl_sim::bind_tcp(None)
                    .await
                    .map_err(|e| e.with_driver(crate::NAME))?,
            );
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7)
            ^ u64::from(addr.port());
        let templates = vec![
            Appliance::template(
                "1597face-5ef4-40a5-b677-24e1b63697f6",
                "hwctl-sim BL460c Gen9",
                SHT_URI,
            ),
            Appliance::template(
                "2597face-5ef4-40a5-b677-24e1b63697f6",
                "hwctl-sim other type",
                OTHER_SHT_URI,
            ),
        ];
        let mut servers = Vec::new();
        for (i, l) in ilos.iter().enumerate() {
            let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
            servers.push(SimServerState {
                uuid: server_uuid(i),
                name: format!("Encl1, bay {}", i + 1),
                on: false,
                transition: None,
                profile: None,
                sht_uri: SHT_URI.into(),
                eg_uri: EG_URI.into(),
                macs: [
                    format!("D8:9D:67:{:02X}:{:02X}:00", (i >> 8) & 0xff, i & 0xff),
                    format!("D8:9D:67:{:02X}:{:02X}:01", (i >> 8) & 0xff, i & 0xff),
                ],
                ilo_port: port,
                ilo_once: None,
                ilo_sessions: BTreeMap::new(),
                boots: Vec::new(),
                temperature: 20.0 + (i % 7) as f64,
            });
        }
        let mut app = Appliance {
            min_version: config.api_versions.0,
            current_version: config.api_versions.1,
            username: config.username.clone(),
            password: config.password.clone(),
            session_limit: config.session_limit,
            sessions: HashMap::new(),
            servers,
            templates,
            profiles: BTreeMap::new(),
            tasks: HashMap::new(),
            task_duration: config.task_duration,
            next_task_error: None,
            counter: 0,
            seed,
            tasks_started: 0,
        };
        let owned: Vec<usize> = (0..config.with_profiles.min(config.servers))
            .chain(
                config
                    .foreign_profiles
                    .iter()
                    .copied()
                    .filter(|&i| i < config.servers),
            )
            .collect();
        for i in owned {
            let foreign = config.foreign_profiles.contains(&i);
            let uuid = format!("f2160e28-8107-45f9-b4b2-{:012x}", i + 1);
            let mut body = Appliance::new_profile(&app.templates[0]);
            body["name"] = json!(if foreign {
                format!("someone else's profile {}", i + 1)
            } else {
                format!("hw [oneview-{}]", i + 1)
            });
            let stored = app.stored_profile(&uuid, body, i);
            app.servers[i].profile = Some(format!("/rest/server-profiles/{uuid}"));
            app.profiles.insert(uuid, SimProfile { body: stored });
        }
        let shared = Arc::new(Shared {
            appliance: Mutex::new(app),
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            counters: Counters::new(),
            common: FaultPlan::new(),
            ilo_sessions_opened: Mutex::new(0),
            ilo_sessions_closed: Mutex::new(0),
        });
        let tasks = TaskSet::new();
        tasks.spawn(http::serve(
            listener,
            tls.clone(),
            shared.clone(),
            tasks.spawner(),
            Target::Appliance,
        ));
        for (i, l) in ilos.into_iter().enumerate() {
            tasks.spawn(http::serve(
                l,
                tls.clone(),
                shared.clone(),
                tasks.spawner(),
                Target::Ilo(i),
            ));
        }
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::debug!(%addr, scheme, servers = config.servers, "OneView appliance simulator started");
        Ok(OneviewSim {
            addr,
            scheme,
            config,
            shared,
            _tasks: tasks,
        })
    }

    /// The appliance's address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert_ne!(sim.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http(s)://127.0.0.1:PORT` — the value for `oneview_manager_url`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert_eq!(sim.base_url(), format!("http://{}", sim.addr()));
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// `/rest/server-hardware/{uuid}` of server `i`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert!(sim.server_uri(0).starts_with("/rest/server-hardware/"));
    /// assert_ne!(sim.server_uri(0), sim.server_uri(1));
    /// # Ok(()) }
    /// ```
    pub fn server_uri(&self, i: usize) -> String {
        format!("/rest/server-hardware/{}", server_uuid(i))
    }

    /// The first template's URI (the one `driver_info` names).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert_eq!(sim.driver_info(0).get_str("server_profile_template_uri").as_deref(), Some(sim.template_uri().as_str()));
    /// # Ok(()) }
    /// ```
    pub fn template_uri(&self) -> String {
        "/rest/server-profile-templates/1597face-5ef4-40a5-b677-24e1b63697f6".into()
    }

    /// A template for another hardware type (for validation tests).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert!(sim.other_template_uri().starts_with("/rest/server-profile-templates/"));
    /// assert_ne!(sim.other_template_uri(), sim.template_uri());
    /// # Ok(()) }
    /// ```
    pub fn other_template_uri(&self) -> String {
        "/rest/server-profile-templates/2597face-5ef4-40a5-b677-24e1b63697f6".into()
    }

    /// A snapshot of server `i`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let s = sim.server(0).unwrap();
    /// assert_eq!((s.power_state.as_str(), s.ilo_sessions), ("Off", 0));
    /// assert!(s.boots.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn server(&self, i: usize) -> Option<SimServer> {
        let mut app = lock(&self.shared.appliance);
        app.settle(Instant::now());
        let s = app.servers.get(i)?;
        let boot_order = s
            .profile
            .as_deref()
            .and_then(|p| p.rsplit('/').next())
            .and_then(|id| app.profiles.get(id))
            .and_then(|p| p.body["boot"]["order"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        Some(SimServer {
            uri: format!("/rest/server-hardware/{}", s.uuid),
            power_state: s
                .transition
                .map(str::to_owned)
                .unwrap_or_else(|| if s.on { "On" } else { "Off" }.to_owned()),
            profile: s.profile.clone(),
            boot_order,
            ilo_once: s.ilo_once.clone(),
            ilo_sessions: s.ilo_sessions.len(),
            boots: s.boots.clone(),
            macs: s.macs.clone(),
        })
    }

    /// Sets server `i`'s power directly (no request, no task).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// sim.set_power(1, true);
    /// assert_eq!(sim.server(1).unwrap().power_state, "On");
    /// assert_eq!(sim.stats().tasks, 0);
    /// # Ok(()) }
    /// ```
    pub fn set_power(&self, i: usize, on: bool) {
        if let Some(s) = lock(&self.shared.appliance).servers.get_mut(i) {
            s.on = on;
            s.transition = None;
        }
    }

    /// How long later tasks run (a slow task: longer than the caller's timeout).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_core::{PowerExt, Registry};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// sim.set_task_duration(std::time::Duration::from_secs(30));
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// let power = node.power()?;
    /// let slow = tokio::time::timeout(std::time::Duration::from_millis(300), power.power_on()).await;
    /// assert!(slow.is_err()); // still waiting for the task
    /// assert_eq!(sim.server(0).unwrap().power_state, "PoweringOn");
    /// # Ok(()) }
    /// ```
    pub fn set_task_duration(&self, d: Duration) {
        lock(&self.shared.appliance).task_duration = d;
    }

    /// Forgets every appliance session (as an appliance does when they expire):
    /// the next request with an old `Auth` gets 401.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_core::{PowerState, Registry};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
    /// sim.expire_sessions();
    /// // The client gets 401, logs in again once and carries on.
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
    /// assert_eq!(sim.stats().common.sessions_opened, 2);
    /// # Ok(()) }
    /// ```
    pub fn expire_sessions(&self) {
        lock(&self.shared.appliance).sessions.clear();
    }

    /// Sets the API versions `GET /rest/version` reports.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_core::{ErrorKind, Registry};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// sim.set_api_versions(120, 120); // older than any version the client speaks
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// let err = node.power()?.get_power_state().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unsupported);
    /// # Ok(()) }
    /// ```
    pub fn set_api_versions(&self, minimum: u32, current: u32) {
        let mut app = lock(&self.shared.appliance);
        app.min_version = minimum;
        app.current_version = current;
    }

    /// Adds a fault rule (first match applies; hwctl-sim's common faults come first).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_oneview::sim::{FaultRule, OneviewFault, OneviewSim, OneviewSimConfig};
    /// use hwctl_core::{ErrorKind, Registry};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// sim.inject_rule(FaultRule::always(OneviewFault::Status(404)).on("GET", "/rest/server-hardware/"));
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// let err = node.power()?.get_power_state().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// # Ok(()) }
    /// ```
    pub fn inject_rule(&self, rule: FaultRule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Removes every fault rule.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_oneview::sim::{FaultRule, OneviewFault, OneviewSim, OneviewSimConfig};
    /// use hwctl_core::{PowerState, Registry};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// sim.inject_rule(FaultRule::always(OneviewFault::Status(404)).on("GET", "/rest/server-hardware/"));
    /// sim.clear_rules();
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
    /// # Ok(()) }
    /// ```
    pub fn clear_rules(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Every request received so far.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_core::Registry;
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// node.power()?.get_power_state().await?;
    /// let log = sim.requests();
    /// assert!(log.iter().any(|r| r.method == "POST" && r.path == "/rest/login-sessions"));
    /// let get = log.iter().find(|r| r.path == sim.server_uri(0)).unwrap();
    /// assert!(get.auth.is_some() && get.api_version.is_some());
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the recorded requests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_core::Registry;
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// node.power()?.get_power_state().await?;
    /// sim.clear_requests();
    /// assert!(sim.requests().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// The accepted user.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// assert_eq!(sim.username(), "Administrator");
    /// # Ok(()) }
    /// ```
    pub fn username(&self) -> &str {
        &self.config.username
    }

    /// The accepted password.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// let sim = OneviewSim::start(OneviewSimConfig { password: "s3cret".into(), ..Default::default() }).await?;
    /// assert_eq!(sim.password(), "s3cret");
    /// # Ok(()) }
    /// ```
    pub fn password(&self) -> &str {
        &self.config.password
    }

    /// The counters.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// use hwctl_core::{PowerExt, Registry};
    /// use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_oneview::hardware_type());
    /// let node = registry.build("oneview", &sim.driver_info(0), &sim.node_context(0))?;
    /// node.power()?.power_on().await?;
    /// let stats = sim.stats();
    /// assert_eq!(stats.tasks, 1);
    /// assert_eq!(stats.common.sessions_opened, 1);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Stats {
        let app = lock(&self.shared.appliance);
        Stats {
            common: self.shared.counters.snapshot(),
            ilo_sessions_opened: *lock(&self.shared.ilo_sessions_opened),
            ilo_sessions_closed: *lock(&self.shared.ilo_sessions_closed),
            tasks: app.tasks_started,
        }
    }
}

impl Simulator for OneviewSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "HPE OneView appliance simulator on {}, {} servers with an iLO each (user {})",
            self.base_url(),
            self.config.servers,
            self.config.username
        )
    }

    fn node_count(&self) -> usize {
        self.config.servers
    }

    fn driver_info(&self, i: usize) -> DriverInfo {
        let mut info = DriverInfo::from_pairs([
            ("oneview_manager_url", self.base_url()),
            ("oneview_username", self.config.username.clone()),
            ("oneview_password", self.config.password.clone()),
            ("server_hardware_uri", self.server_uri(i)),
            ("server_profile_template_uri", self.template_uri()),
            ("server_hardware_type_uri", SHT_URI.to_owned()),
            ("enclosure_group_uri", EG_URI.to_owned()),
            (
                "oneview_task_poll_interval",
                self.config.task_poll_interval.to_string(),
            ),
        ]);
        if i < self.config.with_profiles && !self.config.foreign_profiles.contains(&i) {
            info.insert(
                "applied_server_profile_uri",
                format!(
                    "/rest/server-profiles/f2160e28-8107-45f9-b4b2-{:012x}",
                    i + 1
                ),
            );
        }
        if let Some(ca) = &self.config.ca_file {
            info.insert("oneview_tls_cacert_file", ca.display().to_string());
        }
        info
    }

    fn node_context(&self, i: usize) -> NodeContext {
        let mut ctx = NodeContext::new(self.node_name(i));
        if let Some(mac) = self.server(i).and_then(|s| s.macs[0].parse().ok()) {
            ctx = ctx.with_port(mac);
        }
        ctx
    }

    /// hwctl-sim's counters; sessions are appliance log-in sessions.
    fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    /// Silence: requests are read and never answered; bad credentials: every
    /// log-in is refused (401 `AUTHN_AUTH_FAIL`) and every session too; garbage:
    /// replies are not JSON; delay: replies come after the delay.
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        self.shared.common.replace(fault);
        Ok(())
    }
}
