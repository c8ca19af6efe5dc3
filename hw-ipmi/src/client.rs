//! The per-BMC client: one session reused across calls, one request in flight,
//! a minimum interval between requests, retries with backoff for reads only,
//! a keep-alive, and Close Session when done or dropped.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, Weak};
use std::time::Duration;

use hw_core::{Error, ErrorKind, ExposeSecret, Result};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{Bridge, CipherSuite, Config};
use crate::session::Session;
use crate::wire::{ChannelAuthCapabilities, Request};

/// A reply: the completion code and the data after it.
///
/// ```
/// let r = hw_ipmi::RawResponse { cc: 0xc1, data: vec![] };
/// assert_eq!(r.check("raw").unwrap_err().kind(), hw_core::ErrorKind::Unsupported);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// Completion code (0 = success).
    pub cc: u8,
    /// Response data after the completion code.
    pub data: Vec<u8>,
}

impl RawResponse {
    /// The data if the completion code is 0, else the mapped error (see [`cc_error`]).
    pub fn check(self, operation: &str) -> Result<Vec<u8>> {
        if self.cc == 0 {
            Ok(self.data)
        } else {
            Err(cc_error(self.cc, operation))
        }
    }
}

/// A name for an IPMI completion code (IPMI 2.0 table 5-2).
pub fn cc_name(cc: u8) -> &'static str {
    match cc {
        0x00 => "success",
        0x80 => "command-specific (0x80)",
        0x81 => "command-specific (0x81)",
        0x82 => "command-specific (0x82)",
        0x83 => "command-specific (0x83, NAK on write for Send Message)",
        0xC0 => "node busy",
        0xC1 => "invalid command",
        0xC2 => "command invalid for given LUN",
        0xC3 => "timeout while processing command",
        0xC4 => "out of space",
        0xC5 => "reservation canceled or invalid",
        0xC6 => "request data truncated",
        0xC7 => "request data length invalid",
        0xC8 => "request data field length limit exceeded",
        0xC9 => "parameter out of range",
        0xCA => "cannot return number of requested data bytes",
        0xCB => "requested sensor, data, or record not present",
        0xCC => "invalid data field in request",
        0xCD => "command illegal for specified sensor or record type",
        0xCE => "command response could not be provided",
        0xCF => "cannot execute duplicated request",
        0xD0 => "SDR repository in update mode",
        0xD1 => "device in firmware update mode",
        0xD2 => "BMC initialization in progress",
        0xD3 => "destination unavailable",
        0xD4 => "insufficient privilege level",
        0xD5 => "not supported in present state",
        0xD6 => "parameter is illegal because sub-function is disabled",
        0xFF => "unspecified error",
        _ => "unknown completion code",
    }
}

/// The error kind of a non-zero completion code: 0xC1/0xC2 unsupported, 0xD4
/// permission denied, 0xC0/0xD0–0xD2 busy, 0xC3 timeout, 0xCB/0xD3 not found,
/// anything else (command-specific codes included) a device fault.
///
/// ```
/// assert_eq!(hw_ipmi::cc_kind(0xD4), hw_core::ErrorKind::PermissionDenied);
/// assert_eq!(hw_ipmi::cc_kind(0x80), hw_core::ErrorKind::DeviceFault);
/// ```
pub fn cc_kind(cc: u8) -> ErrorKind {
    match cc {
        0xC1 | 0xC2 => ErrorKind::Unsupported,
        0xD4 => ErrorKind::PermissionDenied,
        0xC0 | 0xD2 | 0xD0 | 0xD1 => ErrorKind::Busy,
        0xC3 => ErrorKind::Timeout,
        0xCB | 0xD3 => ErrorKind::NotFound,
        _ => ErrorKind::DeviceFault,
    }
}

/// Maps a non-zero completion code to an error of kind [`cc_kind`].
pub fn cc_error(cc: u8, operation: &str) -> Error {
    Error::new(
        cc_kind(cc),
        format!("completion code 0x{cc:02x} ({})", cc_name(cc)),
    )
    .with_operation(operation.to_owned())
}

/// Counters of one client, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Sessions established.
    pub sessions_opened: u64,
    /// Sessions closed (Close Session sent).
    pub sessions_closed: u64,
    /// Requests sent (each retry counts).
    pub requests: u64,
    /// Retries of reads.
    pub retries: u64,
    /// Keep-alives sent.
    pub keepalives: u64,
}

#[derive(Default)]
struct Counters {
    sessions_opened: AtomicU64,
    sessions_closed: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    keepalives: AtomicU64,
}

struct Slot {
    session: Option<Session>,
    last_sent: Option<Instant>,
}

struct Inner {
    cfg: Config,
    slot: Mutex<Slot>,
    counters: Counters,
    keepalive: StdMutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut k) = self.keepalive.lock()
            && let Some(h) = k.take()
        {
            h.abort();
        }
        if let Some(s) = self.slot.get_mut().session.take() {
            tracing::debug!(endpoint = %self.cfg.endpoint(), "closing IPMI session on drop");
            s.close_nowait();
        }
    }
}

/// A handle to one BMC endpoint: cheap to clone, shared by every user of the
/// endpoint. The session is opened on first use, reused, kept alive while idle,
/// re-opened after it is lost, and closed by [`Client::close`] or when the last
/// handle is dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_ipmi::{Client, sim::SimBmc};
/// let bmc = SimBmc::start(Default::default()).await?;
/// let client = Client::new(bmc.config());
/// let id = client.raw(0x06, 0x01, &[]).await?; // Get Device ID
/// assert_eq!(id.cc, 0);
/// client.close().await?;
/// assert_eq!(bmc.stats().open_sessions, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.cfg.endpoint())
            .field("username", &self.inner.cfg.username)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the BMC of `cfg` (no I/O until the first request). The
    /// config's `bridge` is not used here: pass a bridge per call.
    pub fn new(cfg: Config) -> Client {
        Client {
            inner: Arc::new(Inner {
                cfg,
                slot: Mutex::new(Slot {
                    session: None,
                    last_sent: None,
                }),
                counters: Counters::default(),
                keepalive: StdMutex::new(None),
            }),
        }
    }

    /// The config the client was built from.
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// The counters.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            sessions_opened: c.sessions_opened.load(Ordering::Relaxed),
            sessions_closed: c.sessions_closed.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            keepalives: c.keepalives.load(Ordering::Relaxed),
        }
    }

    /// The cipher suite of the current session, if one is open.
    pub async fn cipher_suite(&self) -> Option<CipherSuite> {
        self.inner
            .slot
            .lock()
            .await
            .session
            .as_ref()
            .map(|s| s.suite)
    }

    /// What the BMC's channel said about authentication (Get Channel Authentication
    /// Capabilities, sent before every Open Session) for the current session; `None`
    /// when no session is open or the BMC answered that command with an error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
    /// let bmc = hw_ipmi::sim::SimBmc::start(Default::default()).await?;
    /// let client = hw_ipmi::Client::new(bmc.config());
    /// client.raw(0x06, 0x01, &[]).await?;
    /// let caps = client.channel_auth_capabilities().await.expect("session open");
    /// assert!(caps.ipmi20 && caps.non_null_users);
    /// # Ok(()) }
    /// ```
    pub async fn channel_auth_capabilities(&self) -> Option<ChannelAuthCapabilities> {
        self.inner
            .slot
            .lock()
            .await
            .session
            .as_ref()
            .and_then(|s| s.auth_caps)
    }

    /// Sends a raw command to the BMC and returns its completion code and data.
    /// Never resent (it may not be idempotent): a lost reply is a timeout.
    pub async fn raw(&self, netfn: u8, cmd: u8, data: &[u8]) -> Result<RawResponse> {
        self.request(None, netfn, cmd, data, false).await
    }

    /// Like [`Client::raw`], bridged to `bridge` with Send Message.
    pub async fn raw_bridged(
        &self,
        bridge: &Bridge,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawResponse> {
        self.request(Some(bridge), netfn, cmd, data, false).await
    }

    /// Sends a command the caller knows to be a read (safe to resend): retried with
    /// backoff on timeouts and malformed replies.
    pub async fn read(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawResponse> {
        self.request(bridge, netfn, cmd, data, true).await
    }

    /// Sends a command that must not be repeated (chassis control, settings).
    pub async fn write(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawResponse> {
        self.request(bridge, netfn, cmd, data, false).await
    }

    #[tracing::instrument(level = "debug", skip(self, data), fields(endpoint = %self.inner.cfg.endpoint(), netfn, cmd))]
    async fn request(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        idempotent: bool,
    ) -> Result<RawResponse> {
        let cfg = &self.inner.cfg;
        let req = Request { netfn, cmd, data };
        let attempts = if idempotent { cfg.retries + 1 } else { 1 };
        let mut slot = self.inner.slot.lock().await;
        let mut last_err = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                let base = 50u64.saturating_mul(1 << attempt.min(6));
                let jitter = rand::random::<u64>() % (base / 2 + 1);
                tokio::time::sleep(Duration::from_millis(base + jitter)).await;
            }
            if slot.session.is_none() {
                match Session::open(cfg).await {
                    Ok(s) => {
                        self.inner
                            .counters
                            .sessions_opened
                            .fetch_add(1, Ordering::Relaxed);
                        slot.session = Some(s);
                        self.start_keepalive();
                    }
                    Err(e) if e.is_retryable() && attempt + 1 < attempts => {
                        last_err = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e.or_driver("ipmi")),
                }
            }
            if let Some(last) = slot.last_sent {
                let next = last + cfg.min_interval;
                if next > Instant::now() {
                    tokio::time::sleep_until(next).await;
                }
            }
            let Some(session) = slot.session.as_mut() else {
                continue;
            };
            self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let r = session
                .exchange(&req, bridge, cfg.local_address, cfg.request_timeout)
                .await;
            slot.last_sent = Some(Instant::now());
            match r {
                Ok((cc, data)) => return Ok(RawResponse { cc, data }),
                Err(e) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Protocol) => {
                    // The BMC may have dropped the session: open a new one next time.
                    if let Some(old) = slot.session.take() {
                        old.close_nowait();
                        self.inner
                            .counters
                            .sessions_closed
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    last_err = Some(e);
                }
                Err(e) => return Err(e.or_driver("ipmi")),
            }
        }
        Err(last_err
            .unwrap_or_else(|| Error::new(ErrorKind::Other, "request not attempted"))
            .or_driver("ipmi"))
    }

    fn start_keepalive(&self) {
        let interval = self.inner.cfg.keepalive_interval;
        if interval.is_zero() {
            return;
        }
        let Ok(mut guard) = self.inner.keepalive.lock() else {
            return;
        };
        if guard.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        *guard = Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval / 2).await;
                let Some(inner) = weak.upgrade() else { return };
                let Ok(mut slot) = inner.slot.try_lock() else {
                    continue; // a request is in flight: the session is alive
                };
                let idle = slot.last_sent.is_none_or(|t| t.elapsed() >= interval);
                if !idle {
                    continue;
                }
                let Some(session) = slot.session.as_mut() else {
                    return;
                };
                inner.counters.keepalives.fetch_add(1, Ordering::Relaxed);
                let req = Request {
                    netfn: 0x06,
                    cmd: 0x01,
                    data: &[],
                };
                let r = session
                    .exchange(
                        &req,
                        None,
                        inner.cfg.local_address,
                        inner.cfg.request_timeout,
                    )
                    .await;
                slot.last_sent = Some(Instant::now());
                if r.is_err()
                    && let Some(old) = slot.session.take()
                {
                    old.close_nowait();
                    inner
                        .counters
                        .sessions_closed
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }));
    }

    /// Closes the session (Close Session) if one is open. The next request opens a
    /// new one.
    pub async fn close(&self) -> Result<()> {
        let session = self.inner.slot.lock().await.session.take();
        if let Ok(mut k) = self.inner.keepalive.lock()
            && let Some(h) = k.take()
        {
            h.abort();
        }
        if let Some(s) = session {
            self.inner
                .counters
                .sessions_closed
                .fetch_add(1, Ordering::Relaxed);
            s.close(self.inner.cfg.request_timeout)
                .await
                .map_err(|e| e.or_driver("ipmi").or_operation("close session"))?;
        }
        Ok(())
    }
}

/// What identifies a BMC session: clients are shared per key.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    host: String,
    port: u16,
    username: String,
    password: String,
    priv_level: u8,
    suite: String,
    /// Our address on a bridged bus is encoded by the client into every bridged
    /// request: nodes that differ in it cannot share one.
    local_address: u8,
}

/// Shares one [`Client`] per BMC endpoint (host, port, credentials, privilege,
/// suite, local bridging address) among every node built through it. Clients are held weakly: when the last
/// node of an endpoint is dropped its session is closed.
///
/// ```
/// let pool = hw_ipmi::ClientPool::new();
/// let a = pool.client(&hw_ipmi::Config::new("10.0.0.1"));
/// let b = pool.client(&hw_ipmi::Config::new("10.0.0.1"));
/// assert!(a.same_endpoint(&b));
/// ```
#[derive(Clone, Default)]
pub struct ClientPool {
    clients: Arc<StdMutex<HashMap<PoolKey, Weak<Inner>>>>,
}

impl fmt::Debug for ClientPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.clients.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("ClientPool").field("endpoints", &n).finish()
    }
}

impl ClientPool {
    /// An empty pool.
    pub fn new() -> Self {
        ClientPool::default()
    }

    /// The shared client for `cfg`'s endpoint (created if absent).
    pub fn client(&self, cfg: &Config) -> Client {
        let key = PoolKey {
            host: cfg.host.to_ascii_lowercase(),
            port: cfg.port,
            username: cfg.username.clone(),
            password: cfg.password.expose_secret().to_owned(),
            priv_level: cfg.priv_level.as_u8(),
            suite: format!("{:?}", cfg.cipher_suite),
            local_address: cfg.local_address,
        };
        let Ok(mut map) = self.clients.lock() else {
            return Client::new(cfg.clone());
        };
        map.retain(|_, w| w.strong_count() > 0);
        if let Some(inner) = map.get(&key).and_then(Weak::upgrade) {
            return Client { inner };
        }
        let client = Client::new(cfg.clone());
        map.insert(key, Arc::downgrade(&client.inner));
        client
    }
}

impl Client {
    /// Whether two handles share one endpoint client (and so one session).
    pub fn same_endpoint(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
