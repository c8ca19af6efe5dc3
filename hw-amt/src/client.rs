//! The WS-Management client: one HTTP client (digest auth, connection pool) per AMT
//! endpoint per process, shared through hwctl-http's [`HttpClients::global`].
//!
//! Every exchange is a POST of a SOAP envelope to `/wsman`. Digest authentication is
//! hwctl-http's: the nonce of the first challenge is reused with a counting `nc`, so
//! a request costs one round trip once the first challenge is answered; a `stale`
//! nonce is refreshed; MD5 and SHA-256 (the strongest offered).
//!
//! AMT sleeps after about a minute of idle time while the host is off and drops the
//! first connection. When no exchange succeeded within
//! [`AmtConfig::awake_interval`], a first attempt that fails as unreachable or
//! timed out is retried once after [`AmtConfig::wake_wait`] (ISD pinged the device
//! awake first). Power changes are bounded as a whole by the caller's timeout.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::{Error, ErrorKind, Result};
use hwctl_http::{HttpClient, HttpClients};
use tokio::time::Instant;

use crate::NAME;
use crate::config::{AmtConfig, WSMAN_PATH};
use crate::errors::check_return_value;
use crate::wire::{
    self, AssociatedPowerManagementService, Element, Envelope, IdentifyResponse, RawAmtReply,
    WsmanRequest, class,
};

/// The most Pull requests one enumeration may take (a runaway device that never
/// ends the sequence fails with `Protocol`).
pub const MAX_PULLS: usize = 64;

static MESSAGE_ID: AtomicU64 = AtomicU64::new(1);

/// A client for one AMT endpoint.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::{AmtClient, AmtConfig};
/// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
/// let config = AmtConfig::new(sim.base_url(), "admin", "P@ssw0rd")?;
/// let client = AmtClient::shared(&config)?;
/// let id = client.identify().await?;
/// assert_eq!(id.product_vendor, "Intel Corporation");
/// let power = client.power_service().await?;
/// assert_eq!(power.power_state, 8); // the simulator starts off
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AmtClient {
    http: HttpClient,
    awake: Arc<Mutex<Option<Instant>>>,
    awake_interval: Duration,
    wake_wait: Duration,
}

impl fmt::Debug for AmtClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmtClient")
            .field("origin", &self.http.config().origin())
            .finish_non_exhaustive()
    }
}

fn is_sleep_symptom(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Unreachable | ErrorKind::Timeout)
}

impl AmtClient {
    /// A client of its own.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` when the CA bundle cannot be read; `Other` when TLS
    /// cannot be set up.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// assert!(client.identify().await?.amt_major().is_some());
    /// # Ok(()) }
    /// ```
    pub fn new(config: &AmtConfig) -> Result<Self> {
        let http = HttpClient::new(config.endpoint.clone()).map_err(|e| e.with_driver(NAME))?;
        Ok(AmtClient::with_http(http, config))
    }

    /// The client shared by every node of this endpoint configured alike
    /// ([`HttpClients::global`]).
    ///
    /// # Errors
    ///
    /// As [`AmtClient::new`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let (a, b) = (AmtClient::shared(&config)?, AmtClient::shared(&config)?);
    /// a.identify().await?;
    /// b.identify().await?;
    /// assert_eq!(sim.stats().nonces_issued, 1); // one HTTP client, one digest session
    /// # Ok(()) }
    /// ```
    pub fn shared(config: &AmtConfig) -> Result<Self> {
        let http = HttpClients::global()
            .get(&config.endpoint)
            .map_err(|e| e.with_driver(NAME))?;
        Ok(AmtClient::with_http(http, config))
    }

    fn with_http(http: HttpClient, config: &AmtConfig) -> Self {
        AmtClient {
            http,
            awake: Arc::new(Mutex::new(None)),
            awake_interval: config.awake_interval,
            wake_wait: config.wake_wait,
        }
    }

    /// The underlying HTTP client (for its counters).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// client.identify().await?;
    /// assert_eq!(client.http().config().origin(), sim.base_url());
    /// assert_eq!(client.http().stats().in_flight, 0);
    /// # Ok(()) }
    /// ```
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn maybe_asleep(&self) -> bool {
        let last = *self.awake.lock().unwrap_or_else(|p| p.into_inner());
        last.is_none_or(|t| t.elapsed() >= self.awake_interval)
    }

    fn mark_awake(&self) {
        *self.awake.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Sends `request` and parses the reply envelope; a SOAP fault is an error.
    /// Idempotent requests (Get, Enumerate, Pull, Identify) may be retried by
    /// hwctl-http; an Invoke is resent only after a sleeping device dropped it.
    ///
    /// # Errors
    ///
    /// The fault's kind ([`crate::errors::fault_kind`]); hwctl-http's kinds for the
    /// status and transport (`Unauthenticated` for a refused digest, `Unreachable`,
    /// `Timeout`, `Protocol` for an oversized body); `Protocol` for a reply that is
    /// not a SOAP envelope.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::wire::{IdentifyResponse, WsmanRequest};
    /// let reply = client.exchange(WsmanRequest::identify(), true).await?;
    /// assert_eq!(IdentifyResponse::decode(&reply)?.product_vendor, "Intel Corporation");
    /// # Ok(()) }
    /// ```
    pub async fn exchange(&self, request: WsmanRequest, idempotent: bool) -> Result<RawAmtReply> {
        let request = request.message_id(MESSAGE_ID.fetch_add(1, Ordering::Relaxed));
        let op = request.operation().to_owned();
        let body = request.to_xml();
        let asleep = self.maybe_asleep();
        let mut result = self.send_once(&body, idempotent, &op, false).await;
        if asleep
            && let Err(e) = &result
            && is_sleep_symptom(e)
        {
            tracing::info!(operation = %op, error = %e, wait_ms = self.wake_wait.as_millis() as u64,
                "AMT may be asleep: retrying after a wake-up wait");
            tokio::time::sleep(self.wake_wait).await;
            // The resend connects even though the first try has just marked the
            // endpoint unreachable (hw-http fails a request within its backoff
            // window after that at once): waking the AMT is why it is sent.
            result = self.send_once(&body, idempotent, &op, true).await;
        }
        if result.is_ok() {
            self.mark_awake();
        }
        result.map_err(|e| e.with_driver(NAME).with_operation(op))
    }

    async fn send_once(
        &self,
        body: &[u8],
        idempotent: bool,
        op: &str,
        after_wake_wait: bool,
    ) -> Result<RawAmtReply> {
        let mut req = hwctl_http::Request::post(WSMAN_PATH)
            .header("Content-Type", "application/soap+xml; charset=utf-8")
            .body(body.to_vec())
            .idempotent(idempotent)
            .operation(op.to_owned());
        if after_wake_wait {
            req = req.despite_unreachable();
        }
        let reply = self.http.send_raw(req).await?;
        let status = reply.status();
        // AMT answers faults with 400/500 and a SOAP body: the fault says more.
        match wire::parse_envelope(reply.body()) {
            Ok(Envelope::Fault(f)) => Err(crate::errors::fault_error(&f)),
            Ok(Envelope::Reply(r)) if status.is_success() => Ok(r),
            Ok(Envelope::Reply(_)) | Err(_) if !status.is_success() => Err(reply
                .error_for_status()
                .err()
                .unwrap_or_else(|| Error::new(ErrorKind::Other, "a non-2xx reply was accepted"))),
            Ok(Envelope::Reply(r)) => Ok(r),
            Err(e) => Err(e),
        }
    }

    /// WS-Transfer Get of `resource_uri` with `selectors`; returns the instance.
    ///
    /// # Errors
    ///
    /// As [`exchange`](Self::exchange); `Protocol` for an empty body.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::wire::{BOOT_SETTING_DATA_0, class};
    /// let data = client.get(class::BOOT_SETTING_DATA, &[("InstanceID", BOOT_SETTING_DATA_0)]).await?;
    /// assert_eq!(data.name, "AMT_BootSettingData");
    /// assert_eq!(data.child_text(class::BOOT_SETTING_DATA, "BIOSSetup"), Some("false"));
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, resource_uri: &str, selectors: &[(&str, &str)]) -> Result<Element> {
        let mut req = WsmanRequest::get(resource_uri);
        for (n, v) in selectors {
            req = req.selector(n, v);
        }
        let reply = self.exchange(req, true).await?;
        reply.instance().cloned()
    }

    /// WS-Transfer Put.
    ///
    /// # Errors
    ///
    /// As [`exchange`](Self::exchange).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::wire::{self, class};
    /// let data = client.get(class::BOOT_SETTING_DATA, &[]).await?;
    /// let mut fields = wire::properties(&data);
    /// for (k, v) in &mut fields {
    ///     if k == "BIOSSetup" { *v = "true".into(); }
    /// }
    /// client.put(wire::put_boot_setting_data(&fields)).await?;
    /// assert!(sim.boot().bios_setup);
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, request: WsmanRequest) -> Result<RawAmtReply> {
        self.exchange(request, true).await
    }

    /// Enumerate (optimized: the first items come with the reply) then Pull,
    /// following `EnumerationContext` until `EndOfSequence`; every item.
    ///
    /// # Errors
    ///
    /// As [`exchange`](Self::exchange); `Protocol` after [`MAX_PULLS`] pulls or a
    /// reply that is neither page.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, wire::class};
    /// use hwctl_amt::sim::{AmtSim, AmtSimConfig};
    /// let sim = AmtSim::start(AmtSimConfig { page_size: 1, ..Default::default() }).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// let sources = client.enumerate(class::BOOT_SOURCE_SETTING).await?;
    /// assert_eq!(sources.len(), 3);
    /// assert!(sim.stats().by_operation.get("Pull").is_some_and(|n| *n >= 2));
    /// # Ok(()) }
    /// ```
    pub async fn enumerate(&self, resource_uri: &str) -> Result<Vec<Element>> {
        let reply = self
            .exchange(WsmanRequest::enumerate(resource_uri, true), true)
            .await?;
        let mut page = wire::enumeration_page(&reply)?;
        let mut items = std::mem::take(&mut page.items);
        let mut pulls = 0;
        while !page.end_of_sequence {
            let Some(context) = page.context.take() else {
                break;
            };
            pulls += 1;
            if pulls > MAX_PULLS {
                return Err(Error::protocol(format!(
                    "enumeration of {resource_uri} did not end after {MAX_PULLS} pulls"
                ))
                .with_driver(NAME));
            }
            let reply = self
                .exchange(WsmanRequest::pull(resource_uri, &context), true)
                .await?;
            page = wire::enumeration_page(&reply)?;
            items.append(&mut page.items);
        }
        Ok(items)
    }

    /// Invokes a method and checks its `ReturnValue` (0 is success).
    ///
    /// # Errors
    ///
    /// As [`exchange`](Self::exchange); the `ReturnValue`'s kind per
    /// [`crate::errors::RETURN_VALUES`] with the value and its meaning.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::wire;
    /// client.invoke(wire::request_power_state_change(2)).await?;
    /// assert!(sim.is_on());
    /// sim.force_return_value(1);
    /// let err = client.invoke(wire::request_power_state_change(8)).await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Unsupported);
    /// # Ok(()) }
    /// ```
    pub async fn invoke(&self, request: WsmanRequest) -> Result<()> {
        let op = request.operation().to_owned();
        let reply = self.exchange(request, false).await?;
        let rv = reply
            .return_value()
            .map_err(|e| e.with_driver(NAME).with_operation(op.clone()))?;
        check_return_value(&op, rv).map_err(|e| e.with_driver(NAME).with_operation(op))
    }

    /// `Identify`: the AMT version (MAAS reads `ProductVersion`).
    ///
    /// # Errors
    ///
    /// As [`exchange`](Self::exchange).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// let identity = client.identify().await?;
    /// assert!(identity.product_version.starts_with("AMT "));
    /// # Ok(()) }
    /// ```
    pub async fn identify(&self) -> Result<IdentifyResponse> {
        let reply = self.exchange(WsmanRequest::identify(), true).await?;
        IdentifyResponse::decode(&reply)
    }

    /// The power state and what may be requested, from
    /// `CIM_AssociatedPowerManagementService` (enumerated).
    ///
    /// # Errors
    ///
    /// As [`enumerate`](Self::enumerate); `Protocol` when no instance is returned.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// let service = client.power_service().await?;
    /// assert_eq!(service.power_state, 8);
    /// assert!(service.available_requested_power_states.contains(&2));
    /// # Ok(()) }
    /// ```
    pub async fn power_service(&self) -> Result<AssociatedPowerManagementService> {
        let items = self
            .enumerate(class::ASSOCIATED_POWER_MANAGEMENT_SERVICE)
            .await?;
        let first = items.first().ok_or_else(|| {
            Error::protocol("no CIM_AssociatedPowerManagementService instance").with_driver(NAME)
        })?;
        AssociatedPowerManagementService::decode(first).map_err(|e| e.with_driver(NAME))
    }
}
