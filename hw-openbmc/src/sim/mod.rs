//! An in-process OpenBMC REST API (feature `sim`), written from openbmc/docs
//! (`rest-api.md`, `REST-cheatsheet.md`), MAAS's test replies and the fixtures in
//! `tests/fixtures/` (PROTOCOLS.md §2.3), sharing no code with the client.
//!
//! - `POST /login` with `{"data": [user, password]}` (phosphor-rest: a `SESSION`
//!   cookie) or `{"username", "password"}` (bmcweb: the cookie and a `token` for
//!   `X-Auth-Token`); at most [`OpenbmcSimConfig::session_limit`] sessions (503
//!   beyond); `POST /logout` ends the caller's session. Everything else needs a
//!   session (401 `Login required`).
//! - `state/host0` (`CurrentHostState`, `RequestedHostTransition`), `state/chassis0`
//!   (`RequestedPowerTransition`), `control/host0/boot[/one_time]` (`BootSource`,
//!   `BootMode`, `BootType`, `Enabled`), `sensors/enumerate`.
//! - Power changes take [`OpenbmcSimConfig::power_delay`]
//!   (`TransitioningToRunning` / `TransitioningToOff` meanwhile). A one-time boot
//!   setting is used up by the next power on.
//! - Every request is recorded ([`OpenbmcSim::requests`]) with its JSON body.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
//! let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
//! assert_eq!(sim.host_state(), "xyz.openbmc_project.State.Host.HostState.Off");
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hwctl_core::{DriverInfo, Result};
use hwctl_sim::{
    CommonFault, Counters, FaultPlan, SessionGuard, SimStats, Simulator, Spawner, TaskSet,
};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::time::Instant;

type Reply = Response<Full<Bytes>>;

const HOST_STATE_PREFIX: &str = "xyz.openbmc_project.State.Host.HostState.";
const HOST_TRANSITION_PREFIX: &str = "xyz.openbmc_project.State.Host.Transition.";
const CHASSIS_TRANSITION_PREFIX: &str = "xyz.openbmc_project.State.Chassis.Transition.";
const SOURCE_PREFIX: &str = "xyz.openbmc_project.Control.Boot.Source.Sources.";
const MODE_PREFIX: &str = "xyz.openbmc_project.Control.Boot.Mode.Modes.";
const TYPE_PREFIX: &str = "xyz.openbmc_project.Control.Boot.Type.Types.";

/// How to start an [`OpenbmcSim`].
///
/// ```
/// use std::time::Duration;
/// use hwctl_openbmc::sim::OpenbmcSimConfig;
/// let config = OpenbmcSimConfig { power_delay: Duration::from_millis(50), ..Default::default() };
/// assert_eq!((config.username.as_str(), config.password.as_str()), ("root", "0penBmc"));
/// assert_eq!(config.session_limit, 2);
/// assert!(!config.token_login_only);
/// ```
#[derive(Clone)]
pub struct OpenbmcSimConfig {
    /// Where to listen; `None` is 127.0.0.1 on an ephemeral port.
    pub listen: Option<SocketAddr>,
    /// The user (OpenBMC's default is `root`).
    pub username: String,
    /// The password (OpenBMC's default is `0penBmc`).
    pub password: String,
    /// The most sessions open at once.
    pub session_limit: usize,
    /// How long a host transition takes.
    pub power_delay: Duration,
    /// Refuse the phosphor-rest `{"data": [u, p]}` log-in (400), as a bmcweb that
    /// takes only `{"username", "password"}`.
    pub token_login_only: bool,
}

impl fmt::Debug for OpenbmcSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenbmcSimConfig")
            .field("listen", &self.listen)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("session_limit", &self.session_limit)
            .field("power_delay", &self.power_delay)
            .field("token_login_only", &self.token_login_only)
            .finish()
    }
}

impl Default for OpenbmcSimConfig {
    /// `root` / `0penBmc`, 2 sessions, instant transitions, both log-in forms.
    fn default() -> Self {
        OpenbmcSimConfig {
            listen: None,
            username: "root".into(),
            password: "0penBmc".into(),
            session_limit: 2,
            power_delay: Duration::ZERO,
            token_login_only: false,
        }
    }
}

/// One request as received.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::PowerExt;
/// use hwctl_core::NodeContext;
/// use hwctl_sim::Simulator;
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
/// node.power()?.power_on().await?;
/// let put = sim.requests().into_iter().find(|r| r.method == "PUT").expect("a PUT");
/// assert_eq!(put.path, "/xyz/openbmc_project/state/host0/attr/RequestedHostTransition");
/// assert_eq!(put.body, serde_json::json!({"data": "xyz.openbmc_project.State.Host.Transition.On"}));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
}

struct SessionEntry {
    _guard: SessionGuard,
}

struct Host {
    running: bool,
    pending: Option<(bool, Instant)>,
    requested: String,
    props: HashMap<String, Value>,
}

impl Host {
    fn settle(&mut self, now: Instant) {
        if let Some((on, at)) = self.pending
            && now >= at
        {
            self.pending = None;
            self.set(on);
        }
    }

    fn set(&mut self, on: bool) {
        if on && !self.running {
            // A one-time setting is used for one boot.
            self.props.insert("one_time/Enabled".into(), json!(false));
        }
        self.running = on;
    }

    fn state(&self) -> &'static str {
        match (self.running, self.pending) {
            (false, Some((true, _))) => "TransitioningToRunning",
            (true, Some((false, _))) => "TransitioningToOff",
            (true, _) => "Running",
            (false, _) => "Off",
        }
    }
}

struct Shared {
    config: OpenbmcSimConfig,
    host: Mutex<Host>,
    sessions: Mutex<HashMap<String, SessionEntry>>,
    log: Mutex<Vec<RecordedRequest>>,
    counters: Counters,
    plan: FaultPlan,
    next: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running simulated OpenBMC REST API.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// use hwctl_sim::Simulator;
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// assert_eq!(sim.node_count(), 1);
/// let info = sim.driver_info(0);
/// assert_eq!(info.get_str("openbmc_address").as_deref(), Some(sim.base_url().as_str()));
/// assert_eq!(info.get_str("openbmc_username").as_deref(), Some("root"));
/// # Ok(()) }
/// ```
pub struct OpenbmcSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _tasks: TaskSet,
}

impl fmt::Debug for OpenbmcSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenbmcSim")
            .field("addr", &self.addr)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl OpenbmcSim {
    /// Starts the BMC (host off, boot source `Default`, mode `Regular`, type `EFI`).
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for a non-loopback `listen`; `Other` when binding fails.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let wide = OpenbmcSimConfig { listen: Some("0.0.0.0:0".parse().unwrap()), ..Default::default() };
    /// assert_eq!(OpenbmcSim::start(wide).await.unwrap_err().kind(), ErrorKind::InvalidParameter);
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// assert_eq!(sim.boot_property("boot/BootType"),
    ///     Some(serde_json::json!("xyz.openbmc_project.Control.Boot.Type.Types.EFI")));
    /// # Ok(()) }
    /// ```
    pub async fn start(config: OpenbmcSimConfig) -> Result<OpenbmcSim> {
        let listener = hwctl_sim::bind_tcp(config.listen).await?;
        let addr = listener.local_addr().map_err(|e| {
            hwctl_core::Error::new(hwctl_core::ErrorKind::Other, format!("local_addr: {e}"))
        })?;
        let mut props = HashMap::new();
        for base in ["boot", "one_time"] {
            props.insert(
                format!("{base}/BootSource"),
                json!(format!("{SOURCE_PREFIX}Default")),
            );
            props.insert(
                format!("{base}/BootMode"),
                json!(format!("{MODE_PREFIX}Regular")),
            );
            props.insert(format!("{base}/Enabled"), json!(base == "boot"));
        }
        props.insert("boot/BootType".into(), json!(format!("{TYPE_PREFIX}EFI")));
        let shared = Arc::new(Shared {
            config,
            host: Mutex::new(Host {
                running: false,
                pending: None,
                requested: format!("{HOST_TRANSITION_PREFIX}Off"),
                props,
            }),
            sessions: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            counters: Counters::new(),
            plan: FaultPlan::new(),
            next: Mutex::new(1),
        });
        let tasks = TaskSet::new();
        tasks.spawn(serve(listener, shared.clone(), tasks.spawner()));
        Ok(OpenbmcSim {
            addr,
            shared,
            _tasks: tasks,
        })
    }

    /// `http://127.0.0.1:PORT`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `CurrentHostState` now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerExt;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// node.power()?.power_on().await?;
    /// assert_eq!(sim.host_state(), "xyz.openbmc_project.State.Host.HostState.Running");
    /// # Ok(()) }
    /// ```
    pub fn host_state(&self) -> String {
        let mut h = lock(&self.shared.host);
        h.settle(Instant::now());
        format!("{HOST_STATE_PREFIX}{}", h.state())
    }

    /// A boot property (`boot/BootSource`, `one_time/Enabled`, `boot/BootType`, …).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::BootDevice;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// node.management()?.set_boot_device(BootDevice::Pxe, false).await?;
    /// assert_eq!(sim.boot_property("one_time/BootSource"),
    ///     Some(serde_json::json!("xyz.openbmc_project.Control.Boot.Source.Sources.Network")));
    /// assert_eq!(sim.boot_property("one_time/Enabled"), Some(serde_json::json!(true)));
    /// assert_eq!(sim.boot_property("no/such"), None);
    /// # Ok(()) }
    /// ```
    pub fn boot_property(&self, name: &str) -> Option<Value> {
        lock(&self.shared.host).props.get(name).cloned()
    }

    /// Sets the host on or off at once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{PowerExt, PowerState};
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// sim.set_running(true);
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
    /// # Ok(()) }
    /// ```
    pub fn set_running(&self, on: bool) {
        let mut h = lock(&self.shared.host);
        h.pending = None;
        h.running = on;
    }

    /// Every request so far.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerExt;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// node.power()?.get_power_state().await?;
    /// let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    /// assert!(paths.iter().any(|p| p == "/login"), "{paths:?}");
    /// assert!(paths.iter().any(|p| p == hwctl_openbmc::wire::HOST_STATE), "{paths:?}");
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the recorded requests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerExt;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// node.power()?.get_power_state().await?;
    /// sim.clear_requests();
    /// node.power()?.get_power_state().await?;
    /// // The session is kept: one GET, no second log-in.
    /// assert_eq!(sim.requests().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// The counters.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerExt;
    /// use hwctl_core::NodeContext;
    /// use hwctl_sim::Simulator;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let node = hwctl_openbmc::hardware_type().build(&sim.driver_info(0), &NodeContext::new("n1"))?;
    /// for _ in 0..3 {
    ///     node.power()?.get_power_state().await?;
    /// }
    /// assert_eq!(sim.counters().sessions_opened, 1);
    /// # Ok(()) }
    /// ```
    pub fn counters(&self) -> SimStats {
        self.shared.counters.snapshot()
    }
}

impl Simulator for OpenbmcSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "OpenBMC REST API simulator on {}, 1 host, user {}",
            self.base_url(),
            self.shared.config.username
        )
    }

    fn node_count(&self) -> usize {
        1
    }

    fn driver_info(&self, _i: usize) -> DriverInfo {
        DriverInfo::from_pairs([
            ("openbmc_address", self.base_url()),
            ("openbmc_username", self.shared.config.username.clone()),
            ("openbmc_password", self.shared.config.password.clone()),
        ])
    }

    fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        if fault == Some(CommonFault::BadCredentials) {
            lock(&self.shared.sessions).clear();
        }
        self.shared.plan.replace(fault);
        Ok(())
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, spawner: Spawner) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let guard = shared.counters.connection();
        let shared = shared.clone();
        spawner.spawn(async move {
            let _guard = guard;
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: u16, body: Value) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn ok(data: Value) -> Reply {
    reply(
        200,
        json!({"data": data, "message": "200 OK", "status": "ok"}),
    )
}

fn fail(status: u16, description: &str) -> Reply {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    reply(
        status,
        json!({"data": {"description": description}, "message": format!("{status} {reason}"), "status": "error"}),
    )
}

fn session_of(req: &Request<Incoming>) -> Option<String> {
    if let Some(t) = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
    {
        return Some(t.to_owned());
    }
    req.headers().get_all("cookie").iter().find_map(|v| {
        v.to_str().ok()?.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == "SESSION").then(|| v.to_owned())
        })
    })
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Reply {
    shared.counters.request();
    let fault = shared.plan.take();
    if fault.is_some() {
        shared.counters.fault_injected();
    }
    match fault {
        Some(CommonFault::Silence) => std::future::pending::<()>().await,
        Some(CommonFault::Delay(d)) => tokio::time::sleep(d).await,
        Some(CommonFault::Garbage) => {
            return reply(200, json!("\u{1}garbage"))
                .map(|_| Full::new(Bytes::from_static(b"<<not json")));
        }
        _ => {}
    }
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let token = session_of(&req);
    let body = match Limited::new(req.into_body(), 1 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return fail(400, "body too large"),
    };
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    lock(&shared.log).push(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        body: json_body.clone(),
    });
    if fault == Some(CommonFault::BadCredentials) {
        shared.counters.failed_login();
        return fail(401, "Login required");
    }
    if method == Method::POST && path == "/login" {
        return login(&shared, &json_body);
    }
    let authed = token
        .as_ref()
        .is_some_and(|t| lock(&shared.sessions).contains_key(t));
    if !authed {
        shared.counters.failed_login();
        return fail(401, "Login required");
    }
    if method == Method::POST && path == "/logout" {
        if let Some(t) = token {
            lock(&shared.sessions).remove(&t);
        }
        return ok(json!(format!(
            "User '{}' logged out",
            shared.config.username
        )));
    }
    let mut host = lock(&shared.host);
    host.settle(Instant::now());
    route(&shared, &mut host, &method, &path, &json_body)
}

fn login(shared: &Shared, body: &Value) -> Reply {
    let (user, password, token_form) = if let Some([u, p]) = body
        .get("data")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        if shared.config.token_login_only {
            return fail(400, "unsupported login form");
        }
        (u.as_str(), p.as_str(), false)
    } else {
        (
            body.get("username").and_then(Value::as_str),
            body.get("password").and_then(Value::as_str),
            true,
        )
    };
    let (Some(user), Some(password)) = (user, password) else {
        return fail(400, "Invalid login body");
    };
    if user != shared.config.username || password != shared.config.password {
        shared.counters.failed_login();
        return fail(401, "Invalid username or password");
    }
    let mut sessions = lock(&shared.sessions);
    if sessions.len() >= shared.config.session_limit {
        return fail(503, "Session limit reached");
    }
    let token = {
        use std::hash::{BuildHasher, Hasher};
        let mut n = lock(&shared.next);
        *n += 1;
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(*n);
        format!("{:016x}{:04x}", h.finish(), *n)
    };
    sessions.insert(
        token.clone(),
        SessionEntry {
            _guard: shared.counters.session(),
        },
    );
    let mut r = if token_form {
        reply(200, json!({"token": token}))
    } else {
        ok(json!(format!("User '{user}' logged in")))
    };
    if let Ok(v) = HeaderValue::from_str(&format!("SESSION={token}; Secure; HttpOnly")) {
        r.headers_mut().insert("set-cookie", v);
    }
    r
}

fn route(shared: &Shared, host: &mut Host, method: &Method, path: &str, body: &Value) -> Reply {
    let data = body.get("data");
    let value = data.and_then(Value::as_str);
    let delay = shared.config.power_delay;
    let transition = |host: &mut Host, on: bool| {
        if delay.is_zero() {
            host.set(on);
        } else if host.running != on {
            host.pending = Some((on, Instant::now() + delay));
        }
    };
    match (method, path) {
        (&Method::GET, "/xyz/openbmc_project/state/host0") => ok(json!({
            "AttemptsLeft": 3,
            "BootProgress": "xyz.openbmc_project.State.Boot.Progress.ProgressStages.Unspecified",
            "CurrentHostState": format!("{HOST_STATE_PREFIX}{}", host.state()),
            "OperatingSystemState": "xyz.openbmc_project.State.OperatingSystem.Status.OSStatus.Inactive",
            "RequestedHostTransition": host.requested
        })),
        (&Method::GET, "/xyz/openbmc_project/state/host0/attr/CurrentHostState") => {
            ok(json!(format!("{HOST_STATE_PREFIX}{}", host.state())))
        }
        (&Method::GET, "/xyz/openbmc_project/state/host0/attr/RequestedHostTransition") => {
            ok(json!(host.requested))
        }
        (&Method::PUT, "/xyz/openbmc_project/state/host0/attr/RequestedHostTransition") => {
            let Some(t) = value.and_then(|v| v.strip_prefix(HOST_TRANSITION_PREFIX)) else {
                return fail(400, "Invalid transition");
            };
            match t {
                "On" => transition(host, true),
                "Off" => transition(host, false),
                "Reboot" | "GracefulWarmReboot" | "ForceWarmReboot" => {
                    if host.running {
                        host.set(true);
                    } else {
                        transition(host, true);
                    }
                }
                _ => return fail(400, "Invalid transition"),
            }
            host.requested = value.unwrap_or_default().to_owned();
            ok(Value::Null)
        }
        (&Method::PUT, "/xyz/openbmc_project/state/chassis0/attr/RequestedPowerTransition") => {
            match value.and_then(|v| v.strip_prefix(CHASSIS_TRANSITION_PREFIX)) {
                Some("Off") => {
                    host.pending = None;
                    host.set(false);
                }
                Some("On") => transition(host, true),
                _ => return fail(400, "Invalid transition"),
            }
            ok(Value::Null)
        }
        (&Method::GET, "/xyz/openbmc_project/sensors/enumerate") => ok(sensors(host.running)),
        (m, p) if p.starts_with("/xyz/openbmc_project/control/host0/boot") => {
            let rest = p.trim_start_matches("/xyz/openbmc_project/control/host0/boot");
            let (base, attr) = match rest.split('/').collect::<Vec<_>>().as_slice() {
                ["", "attr", a] => ("boot", *a),
                ["", "one_time", "attr", a] => ("one_time", *a),
                _ => return fail(404, "path or object not found"),
            };
            let key = format!("{base}/{attr}");
            if !host.props.contains_key(&key) {
                return fail(404, "property not found");
            }
            match *m {
                Method::GET => ok(host.props[&key].clone()),
                Method::PUT => {
                    let Some(d) = data else {
                        return fail(400, "no data");
                    };
                    let valid = match attr {
                        "BootSource" => value.is_some_and(|v| {
                            v.strip_prefix(SOURCE_PREFIX).is_some_and(|s| {
                                [
                                    "Disk",
                                    "ExternalMedia",
                                    "Network",
                                    "Default",
                                    "RemovableMedia",
                                    "HTTP",
                                ]
                                .contains(&s)
                            })
                        }),
                        "BootMode" => value.is_some_and(|v| {
                            v.strip_prefix(MODE_PREFIX)
                                .is_some_and(|s| ["Regular", "Safe", "Setup"].contains(&s))
                        }),
                        "BootType" => value.is_some_and(|v| {
                            v.strip_prefix(TYPE_PREFIX)
                                .is_some_and(|s| ["EFI", "Legacy"].contains(&s))
                        }),
                        "Enabled" => d.is_boolean() || matches!(value, Some("true" | "false")),
                        _ => false,
                    };
                    if !valid {
                        return fail(400, "Invalid value");
                    }
                    let stored = match (attr, value) {
                        ("Enabled", Some(s)) => json!(s == "true"),
                        _ => d.clone(),
                    };
                    host.props.insert(key, stored);
                    ok(Value::Null)
                }
                _ => fail(405, "method not allowed"),
            }
        }
        _ => fail(
            404,
            &format!("org.freedesktop.DBus.Error.FileNotFound: path or object not found: {path}"),
        ),
    }
}

fn sensors(on: bool) -> Value {
    json!({
        "/xyz/openbmc_project/sensors/temperature/ambient": {
            "Scale": -3, "Unit": "xyz.openbmc_project.Sensor.Value.Unit.DegreesC", "Value": 23500
        },
        "/xyz/openbmc_project/sensors/temperature/cpu0_core0": {
            "Scale": -3, "Unit": "xyz.openbmc_project.Sensor.Value.Unit.DegreesC", "Value": if on { 47000 } else { 24000 }
        },
        "/xyz/openbmc_project/sensors/fan_tach/fan0": {
            "Scale": 0, "Unit": "xyz.openbmc_project.Sensor.Value.Unit.RPMS", "Value": if on { 7200 } else { 0 }
        },
        "/xyz/openbmc_project/sensors/voltage/p12v": {
            "Scale": -3, "Unit": "xyz.openbmc_project.Sensor.Value.Unit.Volts", "Value": 12050
        },
        "/xyz/openbmc_project/sensors/power/total_power": {
            "Scale": -6, "Unit": "xyz.openbmc_project.Sensor.Value.Unit.Watts", "Value": if on { 310_000_000 } else { 9_000_000 }
        }
    })
}
