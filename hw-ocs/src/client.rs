//! The chassis manager client: one per chassis manager, shared by all its blades.

use std::fmt;
use std::sync::OnceLock;

use hw_core::{Error, ErrorKind, Result};
use hw_http::{Auth, EndpointConfig, HttpClient, HttpClients, TlsConfig};
use secrecy::ExposeSecret as _;
use tracing::Instrument as _;

use crate::config::{Config, TlsVerify};
use crate::wire::{self, Request, Response};

/// The driver name used in errors.
pub(crate) const DRIVER: &str = "msftocs";

/// The largest reply accepted (a 48-blade `ChassisInfoResponse` is about 40 KiB).
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// The process-wide cache of HTTP clients, one per chassis manager endpoint.
pub fn shared_clients() -> &'static HttpClients {
    static CLIENTS: OnceLock<HttpClients> = OnceLock::new();
    CLIENTS.get_or_init(HttpClients::new)
}

/// A client for one chassis manager (endpoint + credentials).
///
/// Cheap to clone; clones share one HTTP client, hence one connection pool and one
/// concurrency limit ([`Config::max_connections`]). Built through
/// [`OcsClient::shared`], every blade of the same chassis manager with the same
/// settings gets the same underlying client.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_ocs::{Config, OcsClient, wire::BladeState};
/// let sim = hw_ocs::sim::ChassisSim::start(Default::default()).await?;
/// sim.set_blade_power(3, true);
/// let config = Config::new(sim.base_url(), 3, "admin", "password");
/// let client = OcsClient::shared(&config)?;
/// assert_eq!(client.blade_state(3).await?.blade_state, BladeState::On);
/// let info = client.chassis_info().await?;
/// assert_eq!(info.blades.len(), 24);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OcsClient {
    http: HttpClient,
    base_url: String,
}

impl fmt::Debug for OcsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcsClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The hw-http endpoint configuration for `config`: basic auth, TLS, timeouts,
/// body cap and concurrency limit.
pub fn endpoint_config(config: &Config) -> Result<EndpointConfig> {
    let tls = match &config.tls {
        TlsVerify::Default => TlsConfig::verified(),
        TlsVerify::CaFile(path) => TlsConfig::ca_file(path),
        TlsVerify::Insecure => TlsConfig::danger_accept_invalid_certs(),
    };
    EndpointConfig::builder(config.base_url.clone())
        .auth(Auth::basic(
            config.username.clone(),
            config.password.expose_secret().to_owned(),
        ))
        .tls(tls)
        .connect_timeout(config.connect_timeout)
        .request_timeout(config.request_timeout)
        .max_body_bytes(MAX_REPLY_BYTES)
        .max_concurrency(config.max_connections)
        .build()
        .map_err(|e| e.with_driver(DRIVER))
}

impl OcsClient {
    /// A client of its own (not shared with other blades).
    pub fn new(config: &Config) -> Result<Self> {
        let http = HttpClient::new(endpoint_config(config)?).map_err(|e| e.with_driver(DRIVER))?;
        Ok(OcsClient::from_http(http, config))
    }

    /// The client shared, through [`shared_clients`], by every blade of this
    /// chassis manager configured alike.
    pub fn shared(config: &Config) -> Result<Self> {
        OcsClient::shared_in(config, shared_clients())
    }

    /// The client shared through `clients`.
    pub fn shared_in(config: &Config, clients: &HttpClients) -> Result<Self> {
        let http = clients
            .get(&endpoint_config(config)?)
            .map_err(|e| e.with_driver(DRIVER))?;
        Ok(OcsClient::from_http(http, config))
    }

    fn from_http(http: HttpClient, config: &Config) -> Self {
        OcsClient {
            http,
            base_url: config.base_url.clone(),
        }
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
    /// completion code is that failure; otherwise the status maps as in hw-http
    /// (401 unauthenticated, 404 not found, 5xx device fault, …). Errors name the
    /// driver (`msftocs`) and the operation.
    pub async fn call<R: Response>(&self, request: &Request) -> Result<R> {
        let op = request.operation();
        let span = tracing::debug_span!("ocs", operation = op, blade = request.blade_id());
        let http_request = hw_http::Request::get(format!("/{}", request.path_and_query()))
            .header("Accept", "application/xml")
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
        result.map_err(|e| e.with_driver(DRIVER).with_operation(op))
    }

    /// `GetBladeState`.
    pub async fn blade_state(&self, blade_id: u32) -> Result<wire::BladeStateResponse> {
        self.call(&Request::GetBladeState { blade_id }).await
    }

    /// `GetChassisInfo` with blade information only.
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
