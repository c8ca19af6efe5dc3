//! The chassis manager client: one per chassis manager, shared by all its blades.

use std::fmt;
use std::sync::Arc;

use hwctl_core::{Error, ErrorKind, Result};
use hwctl_http::{HttpClient, HttpClients};
use tracing::Instrument as _;

use crate::NAME;
use crate::config::OcsConfig;
use crate::wire::{self, Request, Response};

pub use crate::config::MAX_REPLY_BYTES;

/// The process-wide cache of HTTP clients, one per chassis manager endpoint
/// ([`HttpClients::global`]: hwctl-core's one map per process).
pub fn shared_clients() -> HttpClients {
    HttpClients::global()
}

/// A client for one chassis manager (endpoint + credentials).
///
/// Cheap to clone; clones share one HTTP client, hence one connection pool and one
/// concurrency limit (`msftocs_max_connections`). Built through
/// [`OcsClient::shared`], every blade of the same chassis manager with the same
/// settings gets the same underlying client.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_ocs::{OcsConfig, OcsClient, wire::BladeState};
/// let sim = hwctl_ocs::sim::OcsSim::start(Default::default()).await?;
/// sim.set_blade_power(3, true);
/// let config = OcsConfig::new(sim.base_url(), 3, "admin", "password")?;
/// let client = OcsClient::shared(&config)?;
/// assert_eq!(client.blade_state(3).await?.blade_state, BladeState::On);
/// let info = client.chassis_info().await?;
/// assert_eq!(info.blades.len(), 24);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OcsClient {
    /// Shared by the clones, so that a blade built next can be given this one
    /// ([`crate::known_endpoints`] holds it weakly).
    http: Arc<HttpClient>,
}

impl fmt::Debug for OcsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcsClient")
            .field("origin", &self.http.config().origin())
            .finish_non_exhaustive()
    }
}

impl OcsClient {
    /// A client of its own (not shared with other blades).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the CA bundle cannot be read (it was
    /// checked at validation); `Other` when TLS cannot be set up.
    pub fn new(config: &OcsConfig) -> Result<Self> {
        let http = HttpClient::new(config.endpoint.clone()).map_err(|e| e.with_driver(NAME))?;
        Ok(OcsClient {
            http: Arc::new(http),
        })
    }

    /// The client shared, through [`shared_clients`], by every blade of this
    /// chassis manager configured alike.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::new`].
    pub fn shared(config: &OcsConfig) -> Result<Self> {
        OcsClient::shared_in(config, &shared_clients())
    }

    /// The client shared through `clients`.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::new`].
    pub fn shared_in(config: &OcsConfig, clients: &HttpClients) -> Result<Self> {
        let http = clients
            .get(&config.endpoint)
            .map_err(|e| e.with_driver(NAME))?;
        Ok(OcsClient {
            http: Arc::new(http),
        })
    }

    /// The client shared through [`shared_clients`] for `endpoint`, as
    /// [`OcsClient::shared`], given as `known` when the cache hands out the same HTTP client (`known`
    /// is the client of a blade built before, [`crate::known_endpoints`]), so that
    /// blades of one chassis manager share one `OcsClient` too.
    ///
    /// When `known` is still the cache's client it is handed out again
    /// ([`HttpClients::renew`]: its idle time counts from now) without the
    /// cache computing `endpoint`'s key, which missed the cache's one-key memo
    /// whenever the blades of several chassis managers interleave (issue 16).
    pub(crate) fn shared_known(
        endpoint: &hwctl_http::EndpointConfig,
        known: Option<&Arc<HttpClient>>,
    ) -> Result<Self> {
        let clients = shared_clients();
        if let Some(known) = known
            && clients.renew(known)
        {
            return Ok(OcsClient {
                http: Arc::clone(known),
            });
        }
        let http = clients.get(endpoint).map_err(|e| e.with_driver(NAME))?;
        let http = match known {
            Some(known) if known.same_client(&http) => Arc::clone(known),
            _ => Arc::new(http),
        };
        Ok(OcsClient { http })
    }

    /// The HTTP client as shared by this client's clones.
    pub(crate) fn shared_http(&self) -> &Arc<HttpClient> {
        &self.http
    }

    /// The underlying HTTP client (for its counters).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Whether two clients share one HTTP client (one pool, one limit).
    pub fn same_client(&self, other: &OcsClient) -> bool {
        self.http.same_client(&other.http)
    }

    /// Sends `request` and decodes the reply as `R`.
    ///
    /// A non-2xx status whose body is a chassis manager reply with a failure
    /// completion code is that failure; otherwise the status maps as in hwctl-http
    /// (401 unauthenticated, 404 not found, 5xx device fault, …). Errors name the
    /// driver (`msftocs`) and the operation.
    ///
    /// # Errors
    ///
    /// The kind of the completion code (see the README's table: `Busy`,
    /// `DeviceFault`, `InvalidParameter`, `NotFound`, `Unsupported`, …), of the HTTP
    /// status or transport failure (hwctl-http's table: `Unauthenticated`,
    /// `Unreachable`, `Timeout`, …), or `Protocol` for a reply that does not decode.
    pub async fn call<R: Response>(&self, request: &Request) -> Result<R> {
        let op = request.operation();
        let span = tracing::debug_span!("ocs", operation = op, blade = request.blade_id());
        let mut path = String::with_capacity(64);
        path.push('/');
        request.push_path_and_query(&mut path);
        // No `Accept` header: a chassis manager answers XML whatever it is
        // told (WCF's WebHttp default format; Ironic's client sends `*/*`,
        // MAAS's none). Building and sending one cost ~2k instructions per
        // request (hwctl-http parses the name, copies the value and grows
        // the header map twice), 4% of a `hwctl fleet` node (issue 16).
        let http_request = hwctl_http::Request::get(path)
            .idempotent(request.is_idempotent())
            .operation(op);
        let result = async {
            let reply = self.http.send_raw(http_request).await?;
            if !reply.status().is_success() {
                if let Ok(status) = wire::parse_status(reply.body())
                    && let Err(e) = status.check()
                {
                    return Err(e);
                }
                return Err(reply.error_for_status().err().unwrap_or_else(|| {
                    Error::new(ErrorKind::Other, "a non-2xx reply was accepted")
                }));
            }
            R::decode(reply.body())
        }
        .instrument(span)
        .await;
        match &result {
            Ok(_) => tracing::debug!(operation = op, "ok"),
            Err(e) => tracing::debug!(operation = op, kind = %e.kind(), error = %e, "failed"),
        }
        result.map_err(|e| e.with_driver(NAME).with_operation(op))
    }

    /// `GetBladeState`.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::call`].
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_ocs::sim::OcsSim::start(Default::default()).await?;
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// sim.set_blade_power(3, true);
    /// let r = client.blade_state(3).await?;
    /// assert_eq!((r.blade_number, r.blade_state), (Some(3), hwctl_ocs::wire::BladeState::On));
    /// # Ok(()) }
    /// ```
    pub async fn blade_state(&self, blade_id: u32) -> Result<wire::BladeStateResponse> {
        self.call(&Request::GetBladeState { blade_id }).await
    }

    /// `GetChassisInfo` with blade information only.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::call`].
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_ocs::sim::OcsSim::start(Default::default()).await?;
    /// let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, sim.username(), sim.password())?;
    /// let client = hwctl_ocs::OcsClient::new(&config)?;
    /// sim.set_blade_power(2, true);
    /// let info = client.chassis_info().await?;
    /// assert_eq!(info.blades.len(), 24);
    /// let two = info.blades.iter().find(|b| b.blade_number == 2).unwrap();
    /// assert_eq!(two.power_state.as_ref().map(|p| p.power_state()), Some(hwctl_core::PowerState::On));
    /// # Ok(()) }
    /// ```
    pub async fn chassis_info(&self) -> Result<wire::ChassisInfoResponse> {
        self.call(&Request::GetChassisInfo {
            blade_info: true,
            psu_info: false,
            chassis_controller_info: false,
            battery_info: false,
        })
        .await
    }
}
