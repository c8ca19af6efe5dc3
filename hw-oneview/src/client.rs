//! `OneviewClient`: one session per appliance and credentials, shared by every node
//! of the process, with the API version chosen once per appliance, 408/409 waited
//! out, and tasks followed.
//!
//! - The session is hwctl-http's session auth ([`hwctl_http::SessionAuth`]) with
//!   [`OneviewLogin`] as the hook: `GET /rest/version` (once per appliance and
//!   process), `POST /rest/login-sessions` → `sessionID` sent as `Auth:` with
//!   `X-API-Version:` on every request; a 401 logs in once more and resends once;
//!   `DELETE /rest/login-sessions` when the client is closed or its last clone
//!   dropped. The HTTP client (and so the session) is shared through
//!   [`hwctl_http::HttpClients::global`], keyed by hwctl-core's
//!   [`EndpointKey`](hwctl_core::shared::EndpointKey) with the password
//!   fingerprinted.
//! - A reply that is a task (202 with `Location`, or a body with `category:
//!   tasks`) is followed with [`hwctl_core::poll::poll_until`], backing off from the
//!   configured first wait (1 s) to 10 s, within the caller's deadline.
//! - 408 and 409 are waited out (the same backoff) and the request resent, within
//!   the deadline (python-oneviewclient slept 10 s and repeated).

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::poll::{Backoff, Check, poll_until};
use hwctl_core::shared::Fingerprint;
use hwctl_core::{Error, ErrorKind, ExposeSecret, Result, SecretString, async_trait};
use hwctl_http::{
    EndpointConfig, HttpClient, HttpClients, Request, Response, Session, SessionAuth, SessionClient,
};
use serde_json::Value;
use tokio::time::Instant;

use crate::NAME;
use crate::config::{MAX_TASK_POLL, OneviewConfig};
use crate::wire::{
    self, ApiVersion, IloAccess, IloBoot, IloCollection, IloSystem, LoginReply, OneviewErrorBody,
    RemoteConsoleUrl, Task, TaskStatus,
};

/// The `X-API-Version`s this driver speaks: 200 (python-oneviewclient's fixed
/// version, OneView 2.0) to 2400 (OneView 6.x). The resources it uses
/// (`server-hardware`, `powerState`, `server-profiles`, `login-sessions`, tasks)
/// keep their shape across them.
pub const SUPPORTED_API_VERSIONS: RangeInclusive<u32> = 200..=2400;

/// The chosen API version per appliance origin, for the life of the process: the
/// version is asked once per appliance, whatever the credentials.
type VersionCell = Arc<tokio::sync::OnceCell<u32>>;

fn version_cell(origin: &str) -> VersionCell {
    static CELLS: Mutex<Option<HashMap<String, VersionCell>>> = Mutex::new(None);
    let mut map = CELLS.lock().unwrap_or_else(|p| p.into_inner());
    map.get_or_insert_with(HashMap::new)
        .entry(origin.to_owned())
        .or_default()
        .clone()
}

/// Chooses the highest version both sides speak.
///
/// ```
/// use hwctl_oneview::client::choose_api_version;
/// use hwctl_oneview::wire::ApiVersion;
/// let v = |min, cur| ApiVersion { minimum_version: min, current_version: cur };
/// assert_eq!(choose_api_version(v(120, 800)).unwrap(), 800);
/// assert_eq!(choose_api_version(v(120, 9000)).unwrap(), 2400);
/// assert!(choose_api_version(v(120, 199)).is_err());
/// assert!(choose_api_version(v(3000, 4000)).is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::Unsupported`] when the ranges do not meet (or the appliance's is
/// empty).
pub fn choose_api_version(appliance: ApiVersion) -> Result<u32> {
    let hi = appliance.current_version.min(*SUPPORTED_API_VERSIONS.end());
    let lo = appliance
        .minimum_version
        .max(*SUPPORTED_API_VERSIONS.start());
    if appliance.minimum_version > appliance.current_version || hi < lo {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the OneView appliance speaks API versions {} to {}; hwctl-oneview speaks {} to {}",
                appliance.minimum_version,
                appliance.current_version,
                SUPPORTED_API_VERSIONS.start(),
                SUPPORTED_API_VERSIONS.end()
            ),
        )
        .with_driver(NAME));
    }
    Ok(hi)
}

/// The session hook: version check, log-in, log-out (see the module docs).
pub struct OneviewLogin {
    user: String,
    password: SecretString,
    /// The appliance's origin (`https://host:port`): the API version is kept per origin.
    origin: String,
}

impl fmt::Debug for OneviewLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneviewLogin")
            .field("user", &self.user)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl OneviewLogin {
    /// A hook for `user` on the appliance at `origin`.
    pub fn new(user: &str, password: &SecretString, origin: &str) -> Self {
        OneviewLogin {
            user: user.to_owned(),
            password: password.clone(),
            origin: origin.to_owned(),
        }
    }

    async fn api_version(&self, client: &SessionClient<'_>) -> Result<u32> {
        let cell = version_cell(&self.origin);
        cell.get_or_try_init(|| async {
            let reply = client
                .send(
                    Request::get("/rest/version")
                        .header("Accept-Language", "en_US")
                        .header("Accept", "application/json")
                        .operation("GET /rest/version"),
                )
                .await?;
            let v: ApiVersion = wire::decode("/rest/version", reply.body())?;
            let chosen = choose_api_version(v)?;
            tracing::debug!(
                minimum = v.minimum_version,
                current = v.current_version,
                chosen,
                "OneView API version chosen"
            );
            Ok(chosen)
        })
        .await
        .copied()
    }
}

/// The error for a non-2xx OneView reply: the body's `errorCode` chooses the kind
/// when known (else the status, see [`crate::errors`]); the message has the
/// method, path (no query), status, code and message.
pub fn reply_error(method: &str, path: &str, resp: &Response) -> Error {
    let status = resp.status().as_u16();
    let body = OneviewErrorBody::parse(resp.body());
    let code = body.as_ref().and_then(|b| b.error_code.clone());
    let kind = match code.as_deref() {
        Some(c)
            if crate::errors::ERROR_CODES
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(c)) =>
        {
            crate::errors::kind_of_code(Some(c))
        }
        _ => crate::errors::kind_of_status(status),
    };
    let path = path.split('?').next().unwrap_or(path);
    let mut msg = format!("{method} {path}: HTTP {status}");
    if let Some(b) = body {
        if let Some(c) = b.error_code {
            msg.push_str(&format!(" {c}"));
        }
        if let Some(m) = b.message.or(b.details) {
            let m: String = m.chars().filter(|c| !c.is_control()).take(200).collect();
            msg.push_str(&format!(": {m}"));
        }
    }
    Error::new(kind, msg).with_driver(NAME)
}

fn login_error(resp: &Response) -> Error {
    let status = resp.status().as_u16();
    let body = OneviewErrorBody::parse(resp.body());
    let code = body.as_ref().and_then(|b| b.error_code.clone());
    let kind = match (status, code.as_deref()) {
        (_, Some(c)) if crate::errors::kind_of_code(Some(c)) != ErrorKind::DeviceFault => {
            crate::errors::kind_of_code(Some(c))
        }
        // python-oneviewclient: 400 on login is OneViewNotAuthorizedException.
        (400 | 401, _) => ErrorKind::Unauthenticated,
        _ => crate::errors::kind_of_status(status),
    };
    let mut msg = format!("log-in to the OneView appliance refused: HTTP {status}");
    if let Some(c) = code {
        msg.push_str(&format!(" {c}"));
    }
    Error::new(kind, msg).with_driver(NAME)
}

#[async_trait]
impl SessionAuth for OneviewLogin {
    async fn login(&self, client: &SessionClient<'_>) -> Result<Session> {
        let version = self.api_version(client).await?;
        let body = serde_json::json!({
            "userName": self.user,
            "password": self.password.expose_secret(),
        });
        let resp = client
            .send_raw(
                Request::post("/rest/login-sessions")
                    .header("X-API-Version", version.to_string())
                    .header("Accept", "application/json")
                    .json(&body)
                    .operation("POST /rest/login-sessions"),
            )
            .await?;
        if !resp.status().is_success() {
            return Err(login_error(&resp));
        }
        let reply: LoginReply = wire::decode("login-sessions", resp.body())?;
        if reply.session_id.expose_secret().is_empty() {
            return Err(
                Error::protocol("the login-sessions reply has an empty sessionID")
                    .with_driver(NAME),
            );
        }
        Session::new()
            .header("Auth", reply.session_id)?
            .header("X-API-Version", SecretString::from(version.to_string()))
            .map(|s| s.with_id(format!("X-API-Version {version}")))
    }

    async fn logout(&self, client: &SessionClient<'_>, session: &Session) -> Result<()> {
        let resp = client
            .send_raw(session.apply(
                Request::delete("/rest/login-sessions").operation("DELETE /rest/login-sessions"),
            ))
            .await?;
        if resp.status().is_success() || resp.status().as_u16() == 401 {
            Ok(())
        } else {
            Err(reply_error("DELETE", "/rest/login-sessions", &resp))
        }
    }

    fn cache_key(&self) -> String {
        format!(
            "oneview:{}:{}",
            self.user,
            Fingerprint::of_parts(&[
                self.user.as_bytes(),
                self.password.expose_secret().as_bytes()
            ])
        )
    }
}

/// The client for one appliance and account: cheap to clone, shared by every node
/// of the process (see the module docs).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// use hwctl_sim::Simulator;
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
/// let client = OneviewClient::shared(&config)?;
/// let server = OneviewServer::new(client.clone(), Arc::new(config), "n0", vec![]);
/// server.power_state().await?;
/// assert_eq!(client.api_version(), Some(800)); // the simulator's currentVersion
/// client.close().await?;
/// assert_eq!(sim.stats().common.sessions_closed, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OneviewClient {
    http: HttpClient,
    endpoint: EndpointConfig,
    task_poll: Duration,
}

impl fmt::Debug for OneviewClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneviewClient")
            .field("origin", &self.endpoint.origin())
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl OneviewClient {
    /// The client shared by every node of `config`'s appliance and account in this
    /// process (built on first use; no I/O).
    ///
    /// # Errors
    ///
    /// `InvalidParameter` when the CA file cannot be used; `Other` when TLS cannot
    /// be set up.
    ///
    /// ```
    /// use hwctl_oneview::{OneviewClient, OneviewConfig};
    /// let a = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/1")?;
    /// let b = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/2")?;
    /// let (ca, cb) = (OneviewClient::shared(&a)?, OneviewClient::shared(&b)?);
    /// // One HTTP client (and session) for both servers of the appliance.
    /// assert!(std::ptr::eq(ca.http(), ca.http()));
    /// assert_eq!(format!("{:?}", ca.http()), format!("{:?}", cb.http()));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn shared(config: &OneviewConfig) -> Result<Self> {
        Self::with_clients(config, &HttpClients::global())
    }

    /// As [`shared`](Self::shared), from an isolated cache (tests).
    ///
    /// # Errors
    ///
    /// As [`shared`](Self::shared).
    pub fn with_clients(config: &OneviewConfig, clients: &HttpClients) -> Result<Self> {
        let http = clients
            .get(&config.endpoint)
            .map_err(|e| e.or_driver(NAME))?;
        Ok(OneviewClient {
            http,
            endpoint: config.endpoint.clone(),
            task_poll: config.task_poll,
        })
    }

    /// The HTTP client underneath (its `stats()` count log-ins and log-outs).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The API version chosen for this appliance, once a session was opened.
    ///
    /// ```
    /// let config = hwctl_oneview::OneviewConfig::new("https://unused.example", "u", "p", "/rest/server-hardware/1")?;
    /// assert_eq!(hwctl_oneview::OneviewClient::shared(&config)?.api_version(), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn api_version(&self) -> Option<u32> {
        version_cell(&self.endpoint.origin()).get().copied()
    }

    /// Logs the session out now (later calls log in again).
    ///
    /// # Errors
    ///
    /// What the log-out request returned (the session is forgotten either way).
    pub async fn close(&self) -> Result<()> {
        self.http.close().await
    }

    fn backoff(&self) -> Backoff {
        Backoff::exponential(self.task_poll, MAX_TASK_POLL.max(self.task_poll))
    }

    /// Sends `req`; 408/409 are waited out and resent within `deadline`; non-2xx
    /// is an error ([`reply_error`]).
    ///
    /// # Errors
    ///
    /// `Timeout` at the deadline; the reply's kind ([`crate::errors`]); hwctl-http's
    /// transport kinds (`Unreachable`, `Timeout`, `Protocol`, `Other` for a
    /// certificate); `Unauthenticated` when the log-in is refused; `Unsupported`
    /// for an appliance outside [`SUPPORTED_API_VERSIONS`].
    pub async fn send(&self, req: Request, deadline: Instant) -> Result<Response> {
        let method = req.method().to_string();
        let path = req.path_only().to_owned();
        let backoff = self.backoff();
        let mut attempt = 0u32;
        loop {
            let sent = tokio::time::timeout_at(deadline, self.http.send_raw(req.clone())).await;
            let resp = match sent {
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("{method} {path}: no reply before the operation's deadline"),
                    )
                    .with_driver(NAME));
                }
                Ok(r) => r.map_err(|e| e.or_driver(NAME))?,
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                return Ok(resp);
            }
            if matches!(status, 408 | 409) {
                let wait = backoff.sleep_for(attempt);
                attempt = attempt.saturating_add(1);
                if Instant::now() + wait > deadline {
                    return Err(reply_error(&method, &path, &resp).with_note(format!(
                        "still {status} after {attempt} attempt(s); the operation's deadline leaves no time to wait again"
                    )));
                }
                tracing::debug!(status, ?wait, path = %path, "OneView asked to wait; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(reply_error(&method, &path, &resp));
        }
    }

    /// `GET path` decoded as `T`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); `Protocol` when the reply is not the expected JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        deadline: Instant,
    ) -> Result<T> {
        let resp = self
            .send(
                Request::get(path).operation(format!("GET {}", op_name(path))),
                deadline,
            )
            .await?;
        wire::decode(op_name(path), resp.body()).map_err(|e| e.with_driver(NAME))
    }

    /// Sends a PUT/POST/DELETE whose reply may be a task, and follows the task to
    /// its end. Returns the final task (or `None` when the reply was not a task).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) and [`wait_task`](Self::wait_task).
    pub async fn send_task(&self, req: Request, deadline: Instant) -> Result<Option<Task>> {
        let resp = self.send(req, deadline).await?;
        let task = match resp
            .header("location")
            .filter(|l| l.contains("/rest/tasks/"))
        {
            Some(loc) => {
                let path = location_path(loc);
                Some(self.get_json::<Task>(&path, deadline).await?)
            }
            None => {
                let body: Option<Value> = serde_json::from_slice(resp.body()).ok();
                match body {
                    Some(v)
                        if v.get("category").and_then(Value::as_str) == Some("tasks")
                            || v.get("taskState").is_some() =>
                    {
                        Some(wire::decode::<Task>("task", resp.body())?)
                    }
                    _ if resp.status().as_u16() == 202 && !resp.body().is_empty() => {
                        return Err(Error::protocol(
                            "a 202 reply carries neither a task Location nor a task body",
                        )
                        .with_driver(NAME));
                    }
                    _ => None,
                }
            }
        };
        match task {
            Some(t) => self.wait_task(t, deadline).await.map(Some),
            None => Ok(None),
        }
    }

    /// Follows `task` (`GET task.uri`, backing off from the first wait to 10 s)
    /// until it completes (`Completed`, `Warning`) or fails, within `deadline`.
    ///
    /// # Errors
    ///
    /// A failed task (`Error`, `Terminated`, `Killed`) is an error with
    /// `taskErrors[0]`'s message and code, the kind from the code
    /// (`RESOURCE_NOT_FOUND` → `NotFound`, unknown → `DeviceFault`); `Timeout`
    /// at the deadline; as [`send`](Self::send) for the polls.
    pub async fn wait_task(&self, task: Task, deadline: Instant) -> Result<Task> {
        let uri = task.uri.clone();
        if !uri.starts_with('/') {
            return Err(
                Error::protocol(format!("task uri {uri:?} is not a path")).with_driver(NAME)
            );
        }
        let first = std::sync::Mutex::new(Some(task));
        let what = format!("OneView task {uri}");
        poll_until(&what, deadline, self.backoff(), || {
            let seen = first.lock().unwrap_or_else(|p| p.into_inner()).take();
            let uri = uri.clone();
            async move {
                let t = match seen {
                    Some(t) => t,
                    None => self.get_json::<Task>(&uri, deadline).await?,
                };
                match t.status() {
                    TaskStatus::Done => Ok(Check::Done(t)),
                    TaskStatus::Running(s) => Ok(Check::Pending(s)),
                    TaskStatus::Failed {
                        state,
                        code,
                        message,
                    } => {
                        let msg = format!(
                            "OneView task {} ended {state}: {}{}",
                            t.uri,
                            message.as_deref().unwrap_or("no message"),
                            code.as_deref()
                                .map(|c| format!(" ({c})"))
                                .unwrap_or_default()
                        );
                        Err(wire::error_for_code(code.as_deref(), msg)
                            .with_driver(NAME)
                            .with_retryable(false))
                    }
                }
            }
        })
        .await
        .map_err(|e| e.or_driver(NAME))
    }

    /// Opens an iLO session for `hardware_uri` through the appliance
    /// (`GET …/remoteConsoleUrl`): the iLO address and session key.
    ///
    /// # Errors
    ///
    /// As [`get_json`](Self::get_json); `Protocol` when the URL has no address or key.
    pub async fn ilo_access(&self, hardware_uri: &str, deadline: Instant) -> Result<Ilo> {
        let reply: RemoteConsoleUrl = self
            .get_json(&format!("{hardware_uri}/remoteConsoleUrl"), deadline)
            .await?;
        let access = wire::parse_remote_console_url(reply.remote_console_url.expose_secret())
            .map_err(|e| e.with_driver(NAME))?;
        Ilo::new(&self.endpoint, access)
    }
}

/// The operation name of a path: without query, ids replaced for readability.
fn op_name(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// The path (and query) of a `Location` header that may be absolute.
fn location_path(loc: &str) -> String {
    match loc.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_owned(), |i| rest[i..].to_owned()),
        None => loc.to_owned(),
    }
}

/// One iLO session opened through the appliance (a server's management
/// processor): reached with the appliance's scheme and TLS settings, the session
/// key sent as `X-Auth-Token`. Call [`logout`](Self::logout) when done.
pub struct Ilo {
    http: HttpClient,
    key: SecretString,
    address: String,
}

impl fmt::Debug for Ilo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ilo")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Ilo {
    fn new(appliance: &EndpointConfig, access: IloAccess) -> Result<Self> {
        let scheme = appliance.scheme().as_str();
        let config = EndpointConfig::builder(format!("{scheme}://{}", access.address))
            .tls(appliance.tls().clone())
            .request_timeout(appliance.request_timeout())
            .connect_timeout(appliance.connect_timeout())
            .max_concurrency(1)
            .max_body_bytes(1024 * 1024)
            .build()
            .map_err(|e| {
                e.with_driver(NAME)
                    .with_note("the iLO address from remoteConsoleUrl")
            })?;
        Ok(Ilo {
            http: HttpClient::new(config).map_err(|e| e.or_driver(NAME))?,
            key: access.session_key,
            address: access.address,
        })
    }

    /// The iLO's address (`addr=`).
    pub fn address(&self) -> &str {
        &self.address
    }

    async fn send(&self, req: Request, deadline: Instant) -> Result<Response> {
        let method = req.method().to_string();
        let path = req.path_only().to_owned();
        let req = req.header("X-Auth-Token", self.key.expose_secret());
        let resp = tokio::time::timeout_at(deadline, self.http.send_raw(req))
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Timeout,
                    format!("iLO {method} {path}: no reply in time"),
                )
                .with_driver(NAME)
            })?
            .map_err(|e| e.or_driver(NAME))?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(reply_error(&format!("iLO {method}"), &path, &resp))
        }
    }

    /// `GET /rest/v1/Systems/1`: the boot override.
    ///
    /// # Errors
    ///
    /// As the appliance's requests; `Protocol` for a reply without `Boot`.
    pub async fn boot(&self, deadline: Instant) -> Result<IloBoot> {
        let resp = self
            .send(
                Request::get("/rest/v1/Systems/1").operation("iLO GET Systems/1"),
                deadline,
            )
            .await?;
        wire::decode::<IloSystem>("iLO Systems/1", resp.body())
            .map(|s| s.boot)
            .map_err(|e| e.with_driver(NAME))
    }

    /// `PATCH /rest/v1/Systems/1` with `body`.
    ///
    /// # Errors
    ///
    /// As the appliance's requests.
    pub async fn patch_system(&self, body: &Value, deadline: Instant) -> Result<()> {
        self.send(
            Request::patch("/rest/v1/Systems/1")
                .json(body)
                .operation("iLO PATCH Systems/1"),
            deadline,
        )
        .await
        .map(drop)
    }

    /// Logs this session out: finds the member of `/rest/v1/sessions` with
    /// `Oem.Hp.MySession == true` and deletes it (python-oneviewclient
    /// `ilo_logout`).
    ///
    /// # Errors
    ///
    /// As the appliance's requests; `NotFound` when no session is ours.
    pub async fn logout(&self, deadline: Instant) -> Result<()> {
        let resp = self
            .send(
                Request::get("/rest/v1/sessions").operation("iLO GET sessions"),
                deadline,
            )
            .await?;
        let list: IloCollection = wire::decode("iLO sessions", resp.body())?;
        for m in list.links.member {
            let resp = self
                .send(Request::get(&m.href).operation("iLO GET session"), deadline)
                .await?;
            let v: Value = wire::decode("iLO session", resp.body())?;
            if wire::is_my_ilo_session(&v) {
                self.send(
                    Request::delete(&m.href).operation("iLO DELETE session"),
                    deadline,
                )
                .await?;
                return Ok(());
            }
        }
        Err(Error::new(ErrorKind::NotFound, "no iLO session is marked MySession").with_driver(NAME))
    }
}
