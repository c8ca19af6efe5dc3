//! `OpenbmcClient`: the REST API client (one session per BMC and credentials,
//! shared through hwctl-http's [`HttpClients::global`]) and the API choice
//! (`openbmc_api`), with hwctl-redfish underneath for Redfish.
//!
//! Log-in (`POST /login`) tries phosphor-rest's `{"data": [user, password]}` (its
//! `SESSION` cookie) and, when the BMC refuses that form with anything but 401, bmcweb's
//! `{"username", "password"}` (its `token`, sent as `X-Auth-Token`). The session is
//! reused by every request (not one log-in per command as MAAS did), logged in again
//! once on a 401 (hwctl-http), and ended with `POST /logout` `{"data": []}` on close or
//! when its last user drops it.

use std::fmt;
use std::sync::Arc;

use hwctl_core::shared::Fingerprint;
use hwctl_core::{Error, ErrorKind, ExposeSecret, Result, SecretString, async_trait};
use hwctl_http::{
    Auth, HttpClient, HttpClients, Request, Response, Session, SessionAuth, SessionClient,
};
use hwctl_redfish::{RedfishAuthType, RedfishClient, RedfishConfig};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::NAME;
use crate::config::{OpenbmcApi, OpenbmcConfig};
use crate::wire::{self, Envelope};

/// The API a BMC answers (what `auto` resolved to).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_openbmc::{OpenbmcApi, OpenbmcClient, ResolvedApi};
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
/// let rest = OpenbmcClient::shared(&config.clone().api(OpenbmcApi::Rest))?;
/// let redfish = OpenbmcClient::shared(&config.api(OpenbmcApi::Redfish))?;
/// // A configured API is taken as it is: no probe.
/// assert_eq!(rest.api().await?, ResolvedApi::Rest);
/// assert_eq!(redfish.api().await?, ResolvedApi::Redfish);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedApi {
    /// The phosphor REST API.
    Rest,
    /// Redfish.
    Redfish,
}

/// A client for one OpenBMC: the REST client, the Redfish client, and which of the
/// two the node drives. Clones share everything.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
/// let client = hwctl_openbmc::OpenbmcClient::shared(&config)?;
/// let state = client.get(hwctl_openbmc::wire::HOST_STATE).await?;
/// assert_eq!(state, "xyz.openbmc_project.State.Host.HostState.Off");
/// # client.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenbmcClient {
    rest: HttpClient,
    probe: HttpClient,
    redfish: RedfishClient,
    api: OpenbmcApi,
    resolved: Arc<OnceCell<ResolvedApi>>,
    /// For `openbmc_api=redfish`: what `GET /redfish/v1` without credentials
    /// showed once a Redfish request was refused (`None`: a service root, so the
    /// BMC serves Redfish; `Some(why)`: it does not). Asked once per client; a
    /// probe that decides nothing (no answer, 5xx, 408, 429) is asked again.
    redfish_served: Arc<OnceCell<Option<String>>>,
}

impl fmt::Debug for OpenbmcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenbmcClient")
            .field("rest", &self.rest)
            .field("api", &self.api)
            .field("resolved", &self.resolved.get())
            .finish_non_exhaustive()
    }
}

impl OpenbmcClient {
    /// The client for `config`, sharing the HTTP client and session with every other
    /// node of the same BMC and credentials in the process. No network I/O.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for an unusable CA bundle.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let a = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// let b = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// a.get(hwctl_openbmc::wire::HOST_STATE).await?;
    /// b.get(hwctl_openbmc::wire::HOST_STATE).await?;
    /// // One session for both.
    /// assert_eq!(sim.counters().sessions_opened, 1);
    /// # a.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn shared(config: &OpenbmcConfig) -> Result<Self> {
        let clients = HttpClients::global();
        let auth = match config.credentials() {
            Some((user, password)) => Auth::session(OpenbmcLogin { user, password }),
            None => Auth::None,
        };
        let endpoint = |auth: Auth| {
            config
                .endpoint
                .to_builder()
                .auth(auth)
                .build()
                .map_err(|e| e.with_driver(NAME))
        };
        let rest = clients
            .get(&endpoint(auth)?)
            .map_err(|e| e.or_driver(NAME))?;
        let probe = clients
            .get(&endpoint(Auth::None)?)
            .map_err(|e| e.or_driver(NAME))?;
        let mut rf =
            RedfishConfig::with_endpoint(config.endpoint.clone()).auth(RedfishAuthType::Auto);
        rf.boot_mode = config.boot_mode;
        rf.power_poll_interval = config.power_poll_interval;
        let redfish = RedfishClient::with_clients(&rf, &clients)?;
        let resolved = Arc::new(OnceCell::new());
        match config.api {
            OpenbmcApi::Rest => drop(resolved.set(ResolvedApi::Rest)),
            OpenbmcApi::Redfish => drop(resolved.set(ResolvedApi::Redfish)),
            _ => {}
        }
        Ok(OpenbmcClient {
            rest,
            probe,
            redfish,
            api: config.api,
            resolved,
            redfish_served: Arc::new(OnceCell::new()),
        })
    }

    /// The Redfish client underneath.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// assert_eq!(client.redfish().system_path().await?, "/redfish/v1/Systems/1");
    /// # client.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn redfish(&self) -> &RedfishClient {
        &self.redfish
    }

    /// The REST HTTP client (its stats count log-ins and log-outs).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let client = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// client.get(hwctl_openbmc::wire::HOST_STATE).await?;
    /// assert_eq!(client.rest_http().stats().logins, 1);
    /// # client.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn rest_http(&self) -> &HttpClient {
        &self.rest
    }

    /// Which API this BMC is driven through: as configured, or for `auto` probed once
    /// (`GET /redfish/v1` answering a service root → Redfish, anything else → REST).
    ///
    /// # Errors
    ///
    /// `Unreachable` or `Timeout` when the probe cannot reach the BMC.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_openbmc::{OpenbmcClient, OpenbmcConfig, ResolvedApi};
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let rest = OpenbmcClient::shared(&OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?)?;
    /// assert_eq!(rest.api().await?, ResolvedApi::Rest);
    /// let rf = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let redfish = OpenbmcClient::shared(&OpenbmcConfig::new(rf.base_url(), "admin", "password")?)?;
    /// assert_eq!(redfish.api().await?, ResolvedApi::Redfish);
    /// # Ok(()) }
    /// ```
    pub async fn api(&self) -> Result<ResolvedApi> {
        self.resolved
            .get_or_try_init(|| async {
                let r = self
                    .probe
                    .send_raw(Request::get("/redfish/v1").operation("probe Redfish"))
                    .await
                    .map_err(|e| e.or_driver(NAME))?;
                let api = if is_service_root(&r) {
                    ResolvedApi::Redfish
                } else {
                    ResolvedApi::Rest
                };
                tracing::info!(?api, "OpenBMC API chosen");
                Ok(api)
            })
            .await
            .copied()
    }

    /// Awaits `op`, a Redfish operation of this BMC; with `openbmc_api=redfish`, a
    /// refusal (`Unauthenticated`, `PermissionDenied`, `NotFound`, `Unsupported`,
    /// `Protocol`, `InvalidParameter`) is checked against the service root: when
    /// `GET /redfish/v1` without credentials answers no Redfish service root (which
    /// a Redfish service serves to anyone, DSP0266), the error says the BMC does
    /// not serve Redfish (and, when the answer is an OpenBMC REST reply, to try
    /// `openbmc_api=rest`) instead of the refusal itself (operator trial: `HTTP 401
    /// Login required` on a REST-only BMC).
    ///
    /// # Errors
    ///
    /// `op`'s error; `InvalidParameter` naming `openbmc_api` (the refusal kept in
    /// its message) for a BMC that does not serve Redfish.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_openbmc::{OpenbmcApi, OpenbmcClient, OpenbmcConfig};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?; // REST only
    /// let config = OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?.api(OpenbmcApi::Redfish);
    /// let client = OpenbmcClient::shared(&config)?;
    /// let err = client.on_redfish(client.redfish().system()).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert!(err.to_string().contains("try openbmc_api=rest"), "{err}");
    /// # Ok(()) }
    /// ```
    pub async fn on_redfish<T>(
        &self,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        match op.await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.explain_refusal(e).await),
        }
    }

    /// `e`, or the error saying this BMC does not serve Redfish ([`on_redfish`]).
    ///
    /// [`on_redfish`]: Self::on_redfish
    async fn explain_refusal(&self, e: Error) -> Error {
        let refused = matches!(
            e.kind(),
            ErrorKind::Unauthenticated
                | ErrorKind::PermissionDenied
                | ErrorKind::NotFound
                | ErrorKind::Unsupported
                | ErrorKind::Protocol
                | ErrorKind::InvalidParameter
        );
        if self.api != OpenbmcApi::Redfish || !refused {
            return e;
        }
        let served = self
            .redfish_served
            .get_or_try_init(|| self.probe_service_root())
            .await;
        match served {
            Ok(Some(why)) => Error::invalid_parameter(
                "openbmc_api",
                format!(
                    "redfish, but this BMC does not serve Redfish at /redfish/v1: {why} \
                     (the Redfish request was refused: {})",
                    e.message()
                ),
            )
            .with_driver(NAME),
            _ => e,
        }
    }

    /// `GET /redfish/v1` without credentials: `None` when it answers a service
    /// root, `Some(why)` (what it answered, and what to change) when it answers
    /// something else; an error when the answer decides nothing (no answer, 5xx,
    /// 408, 429).
    async fn probe_service_root(&self) -> Result<Option<String>> {
        let r = self
            .probe
            .send_raw(Request::get("/redfish/v1").operation("probe Redfish"))
            .await?;
        if is_service_root(&r) {
            return Ok(None);
        }
        let status = r.status().as_u16();
        if r.status().is_server_error() || matches!(status, 408 | 429) {
            return Err(Error::new(
                ErrorKind::Busy,
                format!("GET /redfish/v1: HTTP {status} decides nothing"),
            ));
        }
        // phosphor-rest answers every path it does not serve to a caller without
        // a session with its envelope (`{"status": "error", "message": "401
        // Unauthorized", …}`, PROTOCOLS.md §2.3): the REST API is there.
        let rest = serde_json::from_slice::<Envelope>(r.body())
            .ok()
            .filter(|e| e.status.is_some());
        Ok(Some(match rest {
            Some(envelope) => format!(
                "GET /redfish/v1 without credentials answered HTTP {status} with an OpenBMC \
                 REST reply ({}), where a Redfish service answers its service root to \
                 anyone; try openbmc_api=rest",
                envelope.describe()
            ),
            None => format!(
                "GET /redfish/v1 without credentials answered HTTP {status}, not a Redfish \
                 service root (which a Redfish service answers to anyone); check \
                 openbmc_address, or try openbmc_api=rest or auto"
            ),
        }))
    }

    /// Logs the REST session out (and the Redfish one, if any).
    ///
    /// # Errors
    ///
    /// What `POST /logout` returned.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let client = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// client.get(hwctl_openbmc::wire::HOST_STATE).await?;
    /// client.close().await?;
    /// assert_eq!(sim.counters().sessions_closed, 1);
    /// assert!(sim.requests().iter().any(|r| r.path == "/logout"));
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) -> Result<()> {
        let r = self.redfish.close().await;
        self.rest.close().await?;
        r
    }

    async fn send(&self, request: Request) -> Result<Envelope> {
        let what = format!("{} {}", request.method(), request.path_only());
        let r = self
            .rest
            .send_raw(request)
            .await
            .map_err(|e| e.or_driver(NAME))?;
        check(&r, &what)
    }

    /// `GET path` → the envelope's `data`.
    ///
    /// # Errors
    ///
    /// The HTTP status's kind (401 `Unauthenticated`, 404 `NotFound`, …);
    /// `Protocol` for a body that is not an envelope; `DeviceFault` for status
    /// `error`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let client = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// let source = client.get("/xyz/openbmc_project/control/host0/boot/attr/BootSource").await?;
    /// assert_eq!(source, "xyz.openbmc_project.Control.Boot.Source.Sources.Default");
    /// let err = client.get("/xyz/openbmc_project/no/such/attr/Thing").await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// # client.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.send(Request::get(path)).await?.data)
    }

    /// `PUT path {"data": value}`.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_openbmc::wire::{boot_type, BOOT};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let client = hwctl_openbmc::OpenbmcClient::shared(&config)?;
    /// client.put(&format!("{BOOT}/attr/BootType"), boot_type("Legacy").into()).await?;
    /// assert_eq!(sim.boot_property("boot/BootType"), Some(boot_type("Legacy").into()));
    /// # client.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, path: &str, value: Value) -> Result<()> {
        self.send(
            Request::put(path)
                .json(&json!({ "data": value }))
                .operation("PUT property"),
        )
        .await
        .map(drop)
    }
}

/// Whether `r` is a Redfish service root: a 2xx JSON object with `RedfishVersion`
/// or `@odata.id` (what `auto` and a refused Redfish request look for).
fn is_service_root(r: &Response) -> bool {
    r.status().is_success()
        && serde_json::from_slice::<Value>(r.body())
            .ok()
            .is_some_and(|v| v.get("RedfishVersion").is_some() || v.get("@odata.id").is_some())
}

fn check(r: &Response, what: &str) -> Result<Envelope> {
    if !r.status().is_success() {
        let detail = serde_json::from_slice::<Envelope>(r.body())
            .map(|e| e.describe())
            .unwrap_or_default();
        return Err(Error::new(
            hwctl_http::status_kind(r.status()),
            format!("{what}: HTTP {} {}", r.status().as_u16(), detail),
        )
        .with_driver(NAME));
    }
    Envelope::decode(r.body(), what).map_err(|e| e.with_driver(NAME))
}

/// The REST session hook.
struct OpenbmcLogin {
    user: String,
    password: SecretString,
}

impl fmt::Debug for OpenbmcLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenbmcLogin")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn session_cookie(r: &Response) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?.trim();
        let (name, value) = pair.split_once('=')?;
        (name.eq_ignore_ascii_case("SESSION") && !value.is_empty()).then(|| value.to_owned())
    })
}

#[async_trait]
impl SessionAuth for OpenbmcLogin {
    async fn login(&self, client: &SessionClient<'_>) -> Result<Session> {
        let pw = self.password.expose_secret();
        let forms = [
            json!({ "data": [self.user, pw] }),
            json!({ "username": self.user, "password": pw }),
        ];
        let mut last = None;
        for body in forms {
            let r = client
                .send_raw(Request::post(wire::LOGIN).json(&body).operation("login"))
                .await?;
            if r.status().as_u16() == 401 {
                return Err(Error::new(
                    ErrorKind::Unauthenticated,
                    "POST /login: HTTP 401: wrong user name or password",
                )
                .with_driver(NAME));
            }
            if !r.status().is_success() {
                last = Some(check(&r, "POST /login").err());
                continue;
            }
            let token = serde_json::from_slice::<Value>(r.body())
                .ok()
                .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned));
            if let Some(t) = token {
                return Session::new().header("x-auth-token", SecretString::from(t));
            }
            if let Some(c) = session_cookie(&r) {
                return Session::new().cookie("SESSION", SecretString::from(c));
            }
            return Err(Error::protocol(
                "POST /login: no SESSION cookie and no token in the reply",
            )
            .with_driver(NAME));
        }
        Err(last
            .flatten()
            .unwrap_or_else(|| Error::protocol("POST /login failed").with_driver(NAME)))
    }

    async fn logout(&self, client: &SessionClient<'_>, session: &Session) -> Result<()> {
        let r = client
            .send_raw(
                session.apply(
                    Request::post(wire::LOGOUT)
                        .json(&json!({ "data": [] }))
                        .operation("logout"),
                ),
            )
            .await?;
        if r.status().is_success() || r.status().as_u16() == 401 {
            Ok(())
        } else {
            check(&r, "POST /logout").map(drop)
        }
    }

    fn cache_key(&self) -> String {
        format!(
            "openbmc-rest:{}:{}",
            self.user,
            Fingerprint::of_parts(&[
                self.user.as_bytes(),
                self.password.expose_secret().as_bytes()
            ])
        )
    }
}
