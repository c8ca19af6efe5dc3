//! `RedfishClient`: one HTTP client (and one session) per service and credentials,
//! shared through hwctl-http's [`HttpClients::global`], plus the node's system.
//!
//! Sessions (DSP0266 §13.3.4): `POST <Sessions>` with `{"UserName", "Password"}`
//! answers `201` with the token in `X-Auth-Token` and the session's URI in
//! `Location`; every request carries `X-Auth-Token`; a 401 logs in once more (hwctl-http);
//! `DELETE <Location>` ends it when the client is closed or its last user drops it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hwctl_core::poll::{Backoff, Check, poll_until};
use hwctl_core::shared::Fingerprint;
use hwctl_core::{
    Error, ErrorKind, ExposeSecret, ParameterProblem, PowerState, Result, SecretString, async_trait,
};
use hwctl_http::{
    Auth, HttpClient, HttpClients, Request, Response, Session, SessionAuth, SessionClient,
};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::NAME;
use crate::config::{DEFAULT_TASK_TIMEOUT, RedfishAuthType, RedfishConfig};
use crate::errors::status_error;
use crate::wire::{self, Collection, ComputerSystem, ServiceRoot, SessionRequest, Task};

/// A client for one ComputerSystem of one Redfish service. Clones share the HTTP
/// client, its session and the resolved system path.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
/// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
/// let system = client.system().await?.value;
/// assert_eq!(system.id.as_deref(), Some("1"));
/// assert_eq!(system.power(), hwctl_core::PowerState::Off);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedfishClient {
    http: HttpClient,
    root: String,
    system_id: Option<String>,
    resolved: Arc<OnceCell<String>>,
    task_poll: Duration,
}

impl fmt::Debug for RedfishClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedfishClient")
            .field("http", &self.http)
            .field("root", &self.root)
            .field("system_id", &self.system_id)
            .finish_non_exhaustive()
    }
}

/// A reply's body with its ETag (the `ETag` header, else `@odata.etag`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
/// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
/// let tagged = client.system().await?;
/// assert!(tagged.etag.is_some());
/// assert_eq!(tagged.value.power_state.as_deref(), Some("Off"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Tagged<T> {
    /// The decoded body.
    pub value: T,
    /// The ETag to send in `If-Match`, if the service gave one.
    pub etag: Option<String>,
}

impl RedfishClient {
    /// The client for `config`, sharing the HTTP client and session of every node
    /// with the same service, credentials and authentication type in this process.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` when the CA bundle cannot be used (see
    /// [`HttpClients::get`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let a = hwctl_redfish::RedfishClient::shared(&config)?;
    /// let b = hwctl_redfish::RedfishClient::shared(&config)?;
    /// a.system().await?;
    /// b.system().await?;
    /// // One session for both.
    /// assert_eq!(sim.counters().sessions_opened, 1);
    /// # a.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn shared(config: &RedfishConfig) -> Result<Self> {
        RedfishClient::with_clients(config, &HttpClients::global())
    }

    /// The client for `config` out of `clients` (an isolated cache for tests).
    ///
    /// # Errors
    ///
    /// As [`RedfishClient::shared`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let clients = hwctl_http::HttpClients::new();
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &clients)?;
    /// assert_eq!(client.system_path().await?, "/redfish/v1/Systems/1");
    /// # Ok(()) }
    /// ```
    pub fn with_clients(config: &RedfishConfig, clients: &HttpClients) -> Result<Self> {
        let auth = match (config.auth_type, config.credentials()) {
            (RedfishAuthType::Basic, _) | (_, None) => config.endpoint.auth().clone(),
            (mode, Some((user, password))) => Auth::session(RedfishLogin {
                user,
                password,
                root: config.root.clone(),
                mode,
            }),
        };
        let endpoint = config
            .endpoint
            .to_builder()
            .auth(auth)
            .build()
            .map_err(|e| e.with_driver(NAME))?;
        let http = clients.get(&endpoint).map_err(|e| e.or_driver(NAME))?;
        Ok(RedfishClient {
            http,
            root: config.root.clone(),
            system_id: config.system_id.clone(),
            resolved: Arc::new(OnceCell::new()),
            task_poll: config.task_poll_interval,
        })
    }

    /// The HTTP client underneath (shared; its stats count log-ins and log-outs).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// client.system().await?;
    /// assert_eq!(client.http().stats().logins, 1);
    /// # Ok(()) }
    /// ```
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Logs the session out now (later requests log in again).
    ///
    /// # Errors
    ///
    /// What the `DELETE` of the session returned (the session is forgotten anyway).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// client.system().await?;
    /// client.close().await?;
    /// assert_eq!(sim.counters().sessions_closed, 1);
    /// // The next request logs in again.
    /// client.system().await?;
    /// assert_eq!(sim.counters().sessions_opened, 2);
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) -> Result<()> {
        self.http.close().await
    }

    /// Sends `request`; a non-2xx reply is an error (see [`crate::errors`]).
    ///
    /// # Errors
    ///
    /// The kinds of [`crate::errors::kind_of`]; transport failures as hwctl-http's
    /// (`Unreachable`, `Timeout`, `Protocol`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_http::Request;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// let ok = client.send(Request::get("/redfish/v1/Systems")).await?;
    /// assert_eq!(ok.status().as_u16(), 200);
    /// let err = client.send(Request::get("/redfish/v1/Systems/9")).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, request: Request) -> Result<Response> {
        let what = format!("{} {}", request.method(), request.path_only());
        let r = self
            .http
            .send_raw(request)
            .await
            .map_err(|e| e.or_driver(NAME))?;
        if r.status().is_success() {
            Ok(r)
        } else {
            Err(status_error(&r, &what))
        }
    }

    /// `GET path`, decoded.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); `Protocol` when the body does not decode.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// let systems = client.get::<hwctl_redfish::wire::Collection>("/redfish/v1/Systems").await?;
    /// assert_eq!(systems.value.members.len(), 1);
    /// assert_eq!(systems.value.members[0].id, "/redfish/v1/Systems/1");
    /// # Ok(()) }
    /// ```
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Tagged<T>> {
        let r = self
            .send(Request::get(path).header("accept", "application/json"))
            .await?;
        let etag = r.header("etag").map(str::to_owned);
        let value =
            wire::decode(r.body(), &format!("GET {path}")).map_err(|e| e.with_driver(NAME))?;
        Ok(Tagged { value, etag })
    }

    /// The service root.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// let root = client.service_root().await?;
    /// assert_eq!(root.sessions(), Some("/redfish/v1/SessionService/Sessions"));
    /// assert_eq!(root.systems.map(|s| s.id).as_deref(), Some("/redfish/v1/Systems"));
    /// # Ok(()) }
    /// ```
    pub async fn service_root(&self) -> Result<ServiceRoot> {
        Ok(self
            .get::<ServiceRoot>(&format!("{}/", self.root))
            .await?
            .value)
    }

    /// The system's path: `redfish_system_id`, or the service's only system.
    ///
    /// # Errors
    ///
    /// `MissingParameter` (the problem `redfish_system_id`) listing the systems
    /// when the service has several and no `redfish_system_id` was given (never
    /// "all systems"); `NotFound` when it has none; else as [`get`](Self::get).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// use hwctl_redfish::{RedfishClient, RedfishConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig { systems: 2, ..Default::default() }).await?;
    /// let clients = hwctl_http::HttpClients::new();
    /// let config = RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// // Two systems and none chosen: refused, never "all of them".
    /// let err = RedfishClient::with_clients(&config, &clients)?.system_path().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert_eq!(err.problems()[0].name, "redfish_system_id");
    /// let chosen = RedfishClient::with_clients(&config.system("/redfish/v1/Systems/2"), &clients)?;
    /// assert_eq!(chosen.system_path().await?, "/redfish/v1/Systems/2");
    /// # Ok(()) }
    /// ```
    pub async fn system_path(&self) -> Result<String> {
        if let Some(s) = &self.system_id {
            return Ok(s.clone());
        }
        self.resolved
            .get_or_try_init(|| async {
                let root = self.service_root().await?;
                let systems = root
                    .systems
                    .map(|s| s.id)
                    .unwrap_or_else(|| format!("{}/Systems", self.root));
                let members = self.get::<Collection>(&systems).await?.value.members;
                match members.as_slice() {
                    [one] => Ok(one.id.clone()),
                    [] => Err(Error::new(
                        ErrorKind::NotFound,
                        format!("{systems} lists no system"),
                    )
                    .with_driver(NAME)),
                    // Ironic (sushy) uses the only system and refuses to choose
                    // among several; the key is then required and absent.
                    many => Err(Error::new(
                        ErrorKind::MissingParameter,
                        format!(
                            "missing parameters: redfish_system_id (required: the service \
                             has {} systems: {})",
                            many.len(),
                            many.iter()
                                .map(|m| m.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_problems(vec![ParameterProblem {
                        name: "redfish_system_id".into(),
                        reason: None,
                    }])
                    .with_driver(NAME)),
                }
            })
            .await
            .cloned()
    }

    /// The ComputerSystem with its ETag.
    ///
    /// # Errors
    ///
    /// As [`system_path`](Self::system_path) and [`get`](Self::get).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// sim.set_power(0, true);
    /// let system = client.system().await?.value;
    /// assert_eq!(system.power(), hwctl_core::PowerState::On);
    /// assert_eq!(system.chassis(), Some("/redfish/v1/Chassis/1"));
    /// # Ok(()) }
    /// ```
    pub async fn system(&self) -> Result<Tagged<ComputerSystem>> {
        let path = self.system_path().await?;
        let mut t = self.get::<ComputerSystem>(&path).await?;
        if t.etag.is_none() {
            t.etag = t.value.odata_etag.clone();
        }
        Ok(t)
    }

    /// `POST`s `ResetType` to the system's `ComputerSystem.Reset` target, choosing
    /// the first of `wanted` the system's `ResetType@Redfish.AllowableValues`
    /// allows; follows a 202 task monitor to its end. Never resent after it was
    /// delivered.
    ///
    /// # Errors
    ///
    /// `Unsupported` (nothing sent) when none of `wanted` is allowed or the system
    /// has no reset action; `PowerStateFailure` (not retryable, nothing sent) for
    /// `Nmi` when the system reads `Off` or `PoweringOn`; else as
    /// [`send`](Self::send) and [`follow_task`](Self::follow_task).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// assert_eq!(client.reset(&["On", "ForceOn"]).await?, "On");
    /// assert_eq!(sim.system(0).resets, ["On"]);
    /// // PowerCycle is not in the simulator's AllowableValues: nothing is sent.
    /// let err = client.reset(&["PowerCycle"]).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unsupported);
    /// assert_eq!(sim.system(0).resets.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn reset(&self, wanted: &[&'static str]) -> Result<&'static str> {
        let system = self.system().await?.value;
        let Some(action) = system.reset() else {
            return Err(Error::unsupported(
                "ComputerSystem.Reset (the system offers no such action)",
            )
            .with_driver(NAME));
        };
        let reset_type = wire::choose_reset_type(action.allowable_values.as_deref(), wanted)
            .map_err(|e| e.with_driver(NAME))?;
        if reset_type == "Nmi" && system.power() == PowerState::Off {
            // A service answers an NMI to a system that is off with an error of its
            // own choosing (a 409 read as a retryable-sounding `Busy`, a 500); the
            // system just read says why it cannot work, before anything is sent.
            return Err(Error::new(
                ErrorKind::PowerStateFailure,
                format!(
                    "an NMI needs the system powered on; {} is {} (PowerState); nothing was sent",
                    system.odata_id.as_deref().unwrap_or("the system"),
                    system.power_state.as_deref().unwrap_or("off"),
                ),
            )
            .with_driver(NAME));
        }
        let path = action.target.clone().unwrap_or_else(|| {
            format!(
                "{}/Actions/ComputerSystem.Reset",
                system.odata_id.clone().unwrap_or_default()
            )
        });
        tracing::info!(%reset_type, "Redfish ComputerSystem.Reset");
        let r = self
            .send(
                Request::post(path)
                    .json(&serde_json::json!({ "ResetType": reset_type }))
                    .operation("ComputerSystem.Reset"),
            )
            .await?;
        self.finish(&r).await?;
        Ok(reset_type)
    }

    /// `PATCH`es the system with `body`, sending `If-Match` with `etag` when given;
    /// on a 412 (stale ETag) the system is read again and the PATCH sent once more
    /// with the fresh ETag. Follows a 202 task monitor.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) (`Busy` for a second 412).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// let etag = client.system().await?.etag;
    /// let body = serde_json::json!({"Boot": {
    ///     "BootSourceOverrideTarget": "Pxe",
    ///     "BootSourceOverrideEnabled": "Continuous",
    /// }});
    /// client.patch_system(&body, etag).await?;
    /// let system = sim.system(0);
    /// assert_eq!((system.boot_target.as_str(), system.boot_enabled.as_str()), ("Pxe", "Continuous"));
    /// # Ok(()) }
    /// ```
    pub async fn patch_system(&self, body: &serde_json::Value, etag: Option<String>) -> Result<()> {
        let path = self.system_path().await?;
        let request = |etag: &Option<String>| {
            let r = Request::patch(path.clone())
                .json(body)
                .operation("PATCH ComputerSystem");
            match etag {
                Some(t) => r.header("if-match", t),
                None => r,
            }
        };
        let r = match self.send(request(&etag)).await {
            Err(e) if e.kind() == ErrorKind::Busy && e.to_string().contains("HTTP 412") => {
                let fresh = self.system().await?.etag;
                self.send(request(&fresh)).await?
            }
            other => other?,
        };
        self.finish(&r).await
    }

    async fn finish(&self, r: &Response) -> Result<()> {
        if r.status().as_u16() == 202
            && let Some(loc) = r.header("location")
        {
            let loc = path_of(loc);
            return self
                .follow_task(&loc, Instant::now() + DEFAULT_TASK_TIMEOUT)
                .await;
        }
        Ok(())
    }

    /// Reads the task monitor at `path` until the task ends or `deadline` passes
    /// (DSP0266 §12.2: 202 while running; then the task, or 200/204 with the result).
    ///
    /// # Errors
    ///
    /// `Timeout` at the deadline; `DeviceFault` for a task that ends `Exception`,
    /// `Killed`, `Cancelled` or `Interrupted` (its messages in the text); else as
    /// [`send`](Self::send).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::time::Duration;
    /// use hwctl_http::Request;
    /// use hwctl_redfish::sim::RedfishFault;
    /// use tokio::time::Instant;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// sim.set_fault(RedfishFault::Tasks(Duration::from_millis(20)));
    /// let reply = client
    ///     .send(Request::post("/redfish/v1/Systems/1/Actions/ComputerSystem.Reset")
    ///         .json(&serde_json::json!({"ResetType": "On"})))
    ///     .await?;
    /// assert_eq!(reply.status().as_u16(), 202);
    /// let monitor = reply.header("location").unwrap_or_default().to_owned();
    /// client.follow_task(&monitor, Instant::now() + Duration::from_secs(10)).await?;
    /// assert_eq!(sim.system(0).power_state, "On");
    /// # Ok(()) }
    /// ```
    pub async fn follow_task(&self, path: &str, deadline: Instant) -> Result<()> {
        let backoff = Backoff::exponential(self.task_poll, Duration::from_secs(5));
        poll_until(&format!("task {path}"), deadline, backoff, || async {
            let r = self
                .send(Request::get(path).operation("task monitor"))
                .await?;
            if r.status().as_u16() == 202 {
                let t: Option<Task> = wire::decode(r.body(), "task").ok();
                let pct = t.and_then(|t| t.percent_complete).unwrap_or(0.0);
                return Ok(Check::Pending(format!("task running ({pct}%)")));
            }
            if r.body().is_empty() {
                return Ok(Check::Done(()));
            }
            let task: Task = wire::decode(r.body(), "task").map_err(|e| e.with_driver(NAME))?;
            match task.task_state.as_deref() {
                None | Some("Completed") => Ok(Check::Done(())),
                Some(s @ ("Exception" | "Killed" | "Cancelled" | "Interrupted")) => {
                    let msgs: Vec<String> = task
                        .messages
                        .iter()
                        .map(|m| {
                            format!(
                                "[{}] {}",
                                m.message_id.as_deref().unwrap_or("?"),
                                m.message.as_deref().unwrap_or("")
                            )
                        })
                        .collect();
                    Err(Error::new(
                        ErrorKind::DeviceFault,
                        format!("task {path} ended {s}: {}", msgs.join("; ")),
                    )
                    .with_driver(NAME))
                }
                Some(other) => Ok(Check::Pending(format!("task {other}"))),
            }
        })
        .await
    }
}

/// The path of a `Location` that may be an absolute URL.
pub(crate) fn path_of(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        },
        None => location.to_owned(),
    }
}

/// The session hook: Redfish session log-in (or, for `auto` on a service without a
/// SessionService, HTTP basic carried as the "session" header).
struct RedfishLogin {
    user: String,
    password: SecretString,
    root: String,
    mode: RedfishAuthType,
}

impl fmt::Debug for RedfishLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedfishLogin")
            .field("user", &self.user)
            .field("root", &self.root)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl RedfishLogin {
    fn basic_header(&self) -> SecretString {
        let raw = format!("{}:{}", self.user, self.password.expose_secret());
        SecretString::from(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }

    fn basic_session(&self) -> Result<Session> {
        tracing::info!(
            "the Redfish service has no SessionService: using HTTP basic authentication"
        );
        Session::new().header("authorization", self.basic_header())
    }
}

#[async_trait]
impl SessionAuth for RedfishLogin {
    /// Every failure is named the log-in ([`HttpClient::SESSION_LOGIN`]), the
    /// request that failed in its message (`session log-in: GET ServiceRoot: …`,
    /// `session log-in: POST Session: HTTP 401 …`).
    async fn login(&self, client: &SessionClient<'_>) -> Result<Session> {
        self.log_in(client)
            .await
            .map_err(|e| e.or_driver(NAME).in_operation(HttpClient::SESSION_LOGIN))
    }

    async fn logout(&self, client: &SessionClient<'_>, session: &Session) -> Result<()> {
        let Some(id) = session.id() else {
            return Ok(());
        };
        let r = client
            .send_raw(session.apply(Request::delete(id.to_owned()).operation("DELETE Session")))
            .await?;
        if r.status().is_success() || r.status().as_u16() == 404 {
            Ok(())
        } else {
            Err(status_error(&r, "DELETE Session"))
        }
    }

    fn cache_key(&self) -> String {
        format!(
            "redfish:{}:{}:{}:{}",
            self.mode,
            self.root,
            self.user,
            Fingerprint::of_parts(&[
                self.user.as_bytes(),
                self.password.expose_secret().as_bytes()
            ])
        )
    }
}

impl RedfishLogin {
    async fn log_in(&self, client: &SessionClient<'_>) -> Result<Session> {
        let mut sessions = format!("{}/SessionService/Sessions", self.root);
        if self.mode == RedfishAuthType::Auto {
            let r = client
                .send_raw(
                    Request::get(format!("{}/", self.root))
                        .header("authorization", self.basic_header().expose_secret())
                        .operation("GET ServiceRoot"),
                )
                .await?;
            if !r.status().is_success() {
                return Err(status_error(&r, "GET ServiceRoot"));
            }
            let root: ServiceRoot = wire::decode(r.body(), "GET ServiceRoot")?;
            match (root.sessions(), &root.session_service) {
                (Some(s), _) => sessions = s.to_owned(),
                (None, Some(_)) => {}
                (None, None) => return self.basic_session(),
            }
        }
        let body = SessionRequest {
            user_name: &self.user,
            password: self.password.expose_secret(),
        };
        let r = client
            .send_raw(
                Request::post(sessions.clone())
                    .json(&body)
                    .operation("POST Session"),
            )
            .await?;
        let status = r.status().as_u16();
        if self.mode == RedfishAuthType::Auto && matches!(status, 404 | 405 | 501) {
            return self.basic_session();
        }
        if !r.status().is_success() {
            return Err(status_error(&r, "POST Session"));
        }
        if self.mode == RedfishAuthType::Auto && r.header("x-auth-token").is_none() {
            // A service that accepts the POST but hands out no token (a static
            // mockup server answers 204 to any POST) has no working sessions.
            return self.basic_session();
        }
        let token = r.header("x-auth-token").ok_or_else(|| {
            Error::protocol(format!(
                "POST {sessions}: HTTP {status} without X-Auth-Token"
            ))
            .with_driver(NAME)
        })?;
        let session =
            Session::new().header("x-auth-token", SecretString::from(token.to_owned()))?;
        let id = r.header("location").map(path_of).or_else(|| {
            serde_json::from_slice::<serde_json::Value>(r.body())
                .ok()
                .and_then(|v| v["@odata.id"].as_str().map(str::to_owned))
        });
        tracing::debug!(session = ?id, "Redfish session opened");
        Ok(match id {
            Some(id) => session.with_id(id),
            None => session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_paths() {
        assert_eq!(path_of("https://h:1/redfish/v1/S/1"), "/redfish/v1/S/1");
        assert_eq!(path_of("/redfish/v1/S/1"), "/redfish/v1/S/1");
    }
}
