//! The per-BMC client: one session per endpoint per process (shared through
//! [`hwctl_core::shared::Shared`]), one request in flight, a minimum interval between
//! requests, retries through [`hwctl_core::retry`] (a request that is not idempotent is
//! resent only when it never left), a keep-alive, and Close Session when done or
//! dropped. The session is the endpoint's; each handle carries its node's own
//! [`IpmiConfig`], whose timeouts, retries and pacing every call of that handle uses.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, Weak};

use hwctl_core::retry::Idempotency;
use hwctl_core::shared::Shared;
use hwctl_core::{Error, ErrorKind, Result};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::attempts::{Attempts, command_text};
use crate::config::{Bridge, CipherSuite, IpmiConfig};
use crate::session::Session;
use crate::wire::{ChannelAuthCapabilities, Request};

/// A raw IPMI reply: the completion code and the data after it (a non-zero
/// completion code is a reply, not an error: [`RawIpmiReply::check`] maps it).
///
/// ```
/// let r = hwctl_ipmi::RawIpmiReply { cc: 0xc1, data: vec![] };
/// assert_eq!(r.check("raw").unwrap_err().kind(), hwctl_core::ErrorKind::Unsupported);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawIpmiReply {
    /// Completion code (0 = success).
    pub cc: u8,
    /// Response data after the completion code.
    pub data: Vec<u8>,
}

impl RawIpmiReply {
    /// A successful reply (completion code 0) carrying `data`.
    ///
    /// ```
    /// let r = hwctl_ipmi::RawIpmiReply::ok(vec![0x01, 0x02]);
    /// assert_eq!(r.cc, 0);
    /// assert_eq!(r.check("raw")?, [0x01, 0x02]);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn ok(data: Vec<u8>) -> Self {
        RawIpmiReply { cc: 0, data }
    }

    /// The data if the completion code is 0, else the mapped error (see [`cc_error`]).
    ///
    /// # Errors
    ///
    /// The kind [`cc_kind`] gives the non-zero completion code (unsupported,
    /// permission denied, busy, timeout, not found, device fault), with `operation`.
    pub fn check(self, operation: &str) -> Result<Vec<u8>> {
        if self.cc == 0 {
            Ok(self.data)
        } else {
            Err(cc_error(self.cc, operation))
        }
    }
}

/// A name for an IPMI completion code (IPMI 2.0 table 5-2).
///
/// ```
/// use hwctl_ipmi::cc_name;
/// assert_eq!(cc_name(0xC1), "invalid command");
/// assert_eq!(cc_name(0xD4), "insufficient privilege level");
/// assert_eq!(cc_name(0x42), "unknown completion code");
/// ```
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

/// The error kind of a non-zero completion code: 0xC1/0xC2/0xD6 unsupported
/// (0xD6: the sub-function is disabled or unavailable in this configuration),
/// 0xD4 permission denied, 0xC0/0xC4/0xD0–0xD2 busy (0xC4 "out of space" is
/// transient, as Ironic retries it), 0xC3 timeout, 0xCB/0xD3 not found, anything
/// else (command-specific codes included) a device fault.
///
/// ```
/// assert_eq!(hwctl_ipmi::cc_kind(0xD4), hwctl_core::ErrorKind::PermissionDenied);
/// assert_eq!(hwctl_ipmi::cc_kind(0x80), hwctl_core::ErrorKind::DeviceFault);
/// ```
pub fn cc_kind(cc: u8) -> ErrorKind {
    match cc {
        0xC1 | 0xC2 | 0xD6 => ErrorKind::Unsupported,
        0xD4 => ErrorKind::PermissionDenied,
        0xC0 | 0xC4 | 0xD2 | 0xD0 | 0xD1 => ErrorKind::Busy,
        0xC3 => ErrorKind::Timeout,
        0xCB | 0xD3 => ErrorKind::NotFound,
        _ => ErrorKind::DeviceFault,
    }
}

/// Maps a non-zero completion code to an error of kind [`cc_kind`], naming the
/// code and `operation`.
///
/// ```
/// let e = hwctl_ipmi::cc_error(0xC0, "get chassis status");
/// assert_eq!(e.kind(), hwctl_core::ErrorKind::Busy);
/// assert_eq!(e.operation(), Some("get chassis status"));
/// assert!(e.to_string().contains("0xc0 (node busy)"));
/// ```
pub fn cc_error(cc: u8, operation: &str) -> Error {
    Error::new(
        cc_kind(cc),
        format!("completion code 0x{cc:02x} ({})", cc_name(cc)),
    )
    .with_operation(operation.to_owned())
}

/// Counters of one client, for tests and metrics.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
/// assert_eq!(client.stats(), hwctl_ipmi::ClientStats::default()); // no I/O yet
/// client.read(None, 0x00, 0x01, &[]).await?.check("get chassis status")?;
/// client.read(None, 0x06, 0x01, &[]).await?.check("get device id")?;
/// let s = client.stats();
/// assert_eq!((s.sessions_opened, s.requests, s.retries), (1, 2, 0)); // one session, reused
/// client.close().await?;
/// assert_eq!(client.stats().sessions_closed, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Sessions established.
    pub sessions_opened: u64,
    /// Sessions closed (Close Session sent).
    pub sessions_closed: u64,
    /// Requests sent (each retry counts).
    pub requests: u64,
    /// Retries of whole operations (of reads, and of requests that never left),
    /// after a failure and a backoff wait. A session setup step resent after
    /// silence is not counted here (it is in the operation's log lines and error).
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

/// One BMC endpoint's shared state: the session, the counters, the keep-alive, and
/// only those settings that belong to the session (every node sharing it has the
/// same: they are part of [`IpmiConfig::endpoint_key`]). A node's per-operation
/// settings are not here: each [`IpmiClient`] handle carries its node's config.
/// Opaque: reach it through an [`IpmiClient`]; it is what a [`Shared`] map of IPMI
/// endpoints holds (see [`IpmiClient::shared_in`]).
pub struct IpmiEndpoint {
    /// `host:port`, for messages.
    endpoint: String,
    /// The session's user, for `Debug`.
    username: String,
    /// Idle time after which the keep-alive is sent (part of the sharing key).
    keepalive_interval: std::time::Duration,
    /// Our slave address on a bridged bus (part of the sharing key).
    local_address: u8,
    slot: Mutex<Slot>,
    counters: Counters,
    keepalive: StdMutex<Option<tokio::task::JoinHandle<()>>>,
}

impl fmt::Debug for IpmiEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpmiEndpoint")
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Drop for IpmiEndpoint {
    fn drop(&mut self) {
        if let Ok(mut k) = self.keepalive.lock()
            && let Some(h) = k.take()
        {
            h.abort();
        }
        if let Some(s) = self.slot.get_mut().session.take() {
            tracing::debug!(endpoint = %self.endpoint, "closing IPMI session on drop");
            s.close_nowait();
        }
    }
}

/// A handle to one BMC endpoint: cheap to clone, shared by every user of the
/// endpoint. The session is opened on first use, reused, kept alive while idle,
/// re-opened after it is lost, and closed by [`IpmiClient::close`] or when the last
/// handle is dropped.
///
/// [`IpmiClient::shared`] gives every caller in the process asking for the same
/// endpoint (host, port, user, password, BMC key, privilege, cipher suite, local
/// bridging address, keep-alive interval) a handle on the same endpoint, so one BMC
/// has one session whatever the hardware type (`ipmi`, `staging-nm`);
/// [`IpmiClient::new`] makes a private one. Each handle keeps the config it was
/// made from: its calls use their own `command_retry_timeout`, `request_timeout`,
/// `retries` and `min_interval`, whoever opened the session.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_ipmi::{IpmiClient, sim::IpmiSim};
/// let bmc = IpmiSim::start(Default::default()).await?;
/// let client = IpmiClient::new(bmc.config());
/// let id = client.raw(0x06, 0x01, &[]).await?; // Get Device ID
/// assert_eq!(id.cc, 0);
/// client.close().await?;
/// assert_eq!(bmc.stats().open_sessions, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IpmiClient {
    inner: Arc<IpmiEndpoint>,
    /// This handle's node's config: what its operations are bounded and paced by.
    cfg: Arc<IpmiConfig>,
}

impl fmt::Debug for IpmiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpmiClient")
            .field("endpoint", &self.inner.endpoint)
            .field("username", &self.inner.username)
            .finish_non_exhaustive()
    }
}

fn endpoint(cfg: &IpmiConfig) -> IpmiEndpoint {
    IpmiEndpoint {
        endpoint: cfg.endpoint(),
        username: cfg.username.clone(),
        keepalive_interval: cfg.keepalive_interval,
        local_address: cfg.local_address,
        slot: Mutex::new(Slot {
            session: None,
            last_sent: None,
        }),
        counters: Counters::default(),
        keepalive: StdMutex::new(None),
    }
}

impl IpmiClient {
    /// A client of its own for the BMC of `cfg` (no I/O until the first request),
    /// sharing nothing: use [`IpmiClient::shared`] to share the endpoint's session.
    /// The config's `bridge` is not used here: pass a bridge per call.
    ///
    /// ```
    /// let cfg = hwctl_ipmi::IpmiConfig::new("10.0.0.1");
    /// let a = hwctl_ipmi::IpmiClient::new(cfg.clone());
    /// let b = hwctl_ipmi::IpmiClient::new(cfg);
    /// assert!(!a.same_endpoint(&b)); // each has its own session
    /// assert!(a.same_endpoint(&a.clone()));
    /// assert_eq!(a.stats().requests, 0); // nothing sent yet
    /// ```
    pub fn new(cfg: IpmiConfig) -> IpmiClient {
        IpmiClient {
            inner: Arc::new(endpoint(&cfg)),
            cfg: Arc::new(cfg),
        }
    }

    /// A handle on the process-wide client for `cfg`'s endpoint ([`Shared::global`]):
    /// every node of every hardware type on one BMC, with the same credentials,
    /// privilege, cipher suite, local bridging address and keep-alive interval,
    /// shares it and its one session. The handle's calls use `cfg`'s own timeouts,
    /// retries and pacing.
    ///
    /// ```
    /// let a = hwctl_ipmi::IpmiClient::shared(&hwctl_ipmi::IpmiConfig::new("10.0.0.1"));
    /// let b = hwctl_ipmi::IpmiClient::shared(&hwctl_ipmi::IpmiConfig::new("10.0.0.1"));
    /// assert!(a.same_endpoint(&b));
    /// ```
    pub fn shared(cfg: &IpmiConfig) -> IpmiClient {
        IpmiClient::shared_in(&Shared::global(), cfg)
    }

    /// A handle, with `cfg` as its own config, on the client for `cfg`'s endpoint
    /// in `shared` (tests and embedders that want their own scope;
    /// [`IpmiClient::shared`] uses the global one). The session lives while some
    /// handle holds it and for `shared`'s idle TTL after it was last handed out
    /// (the global map's keeps one session per BMC for a whole fleet sweep); then
    /// it is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let shared = hwctl_core::shared::Shared::new();
    /// let a = hwctl_ipmi::IpmiClient::shared_in(&shared, &hwctl_ipmi::IpmiConfig::new("10.0.0.1"));
    /// let mut quick = hwctl_ipmi::IpmiConfig::new("10.0.0.1");
    /// quick.command_retry_timeout = Duration::from_secs(3);
    /// let b = hwctl_ipmi::IpmiClient::shared_in(&shared, &quick);
    /// assert!(a.same_endpoint(&b)); // one session
    /// assert_eq!(a.config().command_retry_timeout, Duration::from_secs(60));
    /// assert_eq!(b.config().command_retry_timeout, Duration::from_secs(3)); // b's own
    /// ```
    pub fn shared_in(shared: &Shared<IpmiEndpoint>, cfg: &IpmiConfig) -> IpmiClient {
        let key = cfg.endpoint_key();
        let made = shared.get_or_try_insert(&key, || Ok(endpoint(cfg)));
        match made {
            Ok(inner) => IpmiClient {
                inner,
                cfg: Arc::new(cfg.clone()),
            },
            // Unreachable: the constructor cannot fail.
            Err(_) => IpmiClient::new(cfg.clone()),
        }
    }

    /// Whether two handles share one endpoint client (and so one session).
    pub fn same_endpoint(&self, other: &IpmiClient) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// This handle's config: the one it was made from (on a shared endpoint, this
    /// node's own, not the config of whichever node opened the session).
    ///
    /// ```
    /// let client = hwctl_ipmi::IpmiClient::new(hwctl_ipmi::IpmiConfig::new("10.0.0.7"));
    /// assert_eq!(client.config().endpoint(), "10.0.0.7:623");
    /// ```
    pub fn config(&self) -> &IpmiConfig {
        &self.cfg
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
    /// assert_eq!(client.cipher_suite().await, None); // no session yet
    /// client.raw(0x06, 0x01, &[]).await?;
    /// assert_eq!(client.cipher_suite().await, Some(hwctl_ipmi::CipherSuite::Suite17));
    /// client.close().await?;
    /// assert_eq!(client.cipher_suite().await, None);
    /// # Ok(()) }
    /// ```
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
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
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
    /// Never resent once it may have left (it may not be idempotent): a lost reply
    /// is a timeout.
    ///
    /// # Errors
    ///
    /// See [`IpmiClient::send`].
    pub async fn raw(&self, netfn: u8, cmd: u8, data: &[u8]) -> Result<RawIpmiReply> {
        self.send(None, netfn, cmd, data, Idempotency::NotIdempotent)
            .await
    }

    /// Like [`IpmiClient::raw`], bridged to `bridge` with Send Message.
    ///
    /// # Errors
    ///
    /// See [`IpmiClient::send`].
    pub async fn raw_bridged(
        &self,
        bridge: &Bridge,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawIpmiReply> {
        self.send(Some(bridge), netfn, cmd, data, Idempotency::NotIdempotent)
            .await
    }

    /// Sends a command the caller knows to be a read (safe to resend): retried with
    /// backoff on timeouts and malformed replies.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
    /// let status = client.read(None, 0x00, 0x01, &[]).await?; // Get Chassis Status
    /// assert_eq!(status.cc, 0);
    /// assert_eq!(status.data[0] & 0x01 != 0, bmc.power_on()); // bit 0: power is on
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`IpmiClient::send`].
    pub async fn read(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawIpmiReply> {
        self.send(bridge, netfn, cmd, data, Idempotency::Idempotent)
            .await
    }

    /// Sends a command that must not be repeated (chassis control, settings).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
    /// let off = client.write(None, 0x00, 0x02, &[0x00]).await?; // Chassis Control: power down
    /// assert_eq!(off.cc, 0);
    /// // A completion code is a reply, not an error: an unknown command says so.
    /// let unknown = client.write(None, 0x00, 0x7F, &[]).await?;
    /// assert_eq!(unknown.check("x").unwrap_err().kind(), hwctl_core::ErrorKind::Unsupported);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`IpmiClient::send`].
    pub async fn write(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawIpmiReply> {
        self.send(bridge, netfn, cmd, data, Idempotency::NotIdempotent)
            .await
    }

    /// Sends a command (bridged when `bridge` is given), opening the session first if
    /// needed, retried by the config's [`RetryPolicy`](hwctl_core::retry::RetryPolicy)
    /// under `hwctl_core::retry`'s rule: an idempotent command after any retryable
    /// failure, another only when it never left (the session could not be opened,
    /// the datagram could not be sent). Errors name the driver `ipmi`.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Timeout`]: no reply within `request_timeout` (after retries);
    /// - [`ErrorKind::Unreachable`]: the host does not resolve, the socket fails;
    /// - [`ErrorKind::Protocol`]: only malformed, corrupt or mismatched replies;
    /// - [`ErrorKind::Unauthenticated`], [`ErrorKind::PermissionDenied`],
    ///   [`ErrorKind::Unsupported`], [`ErrorKind::Busy`]: the session could not be
    ///   opened (wrong password, privilege refused, no RMCP+ or common cipher suite,
    ///   no session slot);
    /// - [`ErrorKind::DeviceFault`]: a bridged Send Message failed;
    /// - [`ErrorKind::InvalidParameter`]: a user name over 16 bytes.
    pub async fn send(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        idempotency: Idempotency,
    ) -> Result<RawIpmiReply> {
        self.request(bridge, netfn, cmd, data, idempotency)
            .await
            .map_err(|e| e.or_driver(crate::NAME))
    }

    /// [`IpmiClient::send`] without naming the driver (the node's handle names it
    /// with its hardware type).
    pub(crate) async fn request(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        idempotency: Idempotency,
    ) -> Result<RawIpmiReply> {
        self.request_with(bridge, netfn, cmd, data, idempotency, false)
            .await
    }

    /// One operation, bounded in all by this handle's `command_retry_timeout`, with
    /// the retry rule of `hwctl_core::retry` ([`RetryPolicy::may_retry`]: an
    /// idempotent command after any retryable failure, another only when it never
    /// left):
    ///
    /// - busy-type refusals — no free session slot (RMCP+ status 0x01/0x0B) and,
    ///   with `retry_busy_cc`, completion codes 0xC0 (node busy), 0xC4 (out of
    ///   space) and 0xD2 (BMC initialization in progress), which say the command
    ///   was not executed —
    ///   are retried with backoff for as long as that allows, as Ironic retries
    ///   them, the last wait shortened so one attempt is made 100 ms before the
    ///   window ends;
    /// - silence is bounded by [`IpmiConfig::silence_budget`] counted from the
    ///   last time the BMC answered anything, session setup included (a lost reply
    ///   does not restart the count by re-opening the session); the wait for the
    ///   reply is the pause, so a datagram after silence follows at once;
    /// - other retryable failures (a corrupt reply, an ICMP refusal) by `retries`,
    ///   each after the policy's backoff (never back to back).
    ///
    /// Every resend — a session setup step retransmitted after silence, or the
    /// operation retried — is one attempt, logged once (see `attempts.rs`). The
    /// final error names what went unanswered (the session setup step or the
    /// command), the attempts and the time taken. The loop is `attempts::run`,
    /// which the SOL console's session setup shares.
    ///
    /// [`RetryPolicy::may_retry`]: hwctl_core::retry::RetryPolicy::may_retry
    #[tracing::instrument(level = "debug", skip(self, data), fields(endpoint = %self.inner.endpoint, netfn, cmd))]
    pub(crate) async fn request_with(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        idempotency: Idempotency,
        retry_busy_cc: bool,
    ) -> Result<RawIpmiReply> {
        let cfg = &*self.cfg;
        let tries = Attempts::new(cfg.endpoint(), command_text(netfn, cmd)).bounded(
            cfg.command_retry_timeout,
            Some(cfg.retries.saturating_add(1)),
        );
        let t = &tries;
        crate::attempts::run(
            cfg,
            t,
            idempotency,
            |until| async move {
                let reply = self.attempt(bridge, netfn, cmd, data, until, t).await?;
                match reply.cc {
                    0xC0 | 0xC4 | 0xD2 if retry_busy_cc => Err(Error::new(
                        cc_kind(reply.cc),
                        format!("completion code 0x{:02x} ({})", reply.cc, cc_name(reply.cc)),
                    )
                    .with_retryable(true)
                    .not_delivered()),
                    _ => Ok(reply),
                }
            },
            || {
                self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            },
        )
        .await
    }

    /// One attempt: open the session if there is none, wait out the minimum
    /// interval, send, wait for the reply; nothing waits past `until`.
    async fn attempt(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        until: Instant,
        tries: &Attempts,
    ) -> Result<RawIpmiReply> {
        let cfg = &*self.cfg;
        let req = Request { netfn, cmd, data };
        let mut slot = self.inner.slot.lock().await;
        if slot.session.is_none() {
            // The command has not left: whatever stops the session, it may be tried
            // again (the retry loop still checks the error's kind and count).
            let s = Session::open(cfg, until, tries)
                .await
                .map_err(|e| e.not_delivered())?;
            self.inner
                .counters
                .sessions_opened
                .fetch_add(1, Ordering::Relaxed);
            slot.session = Some(s);
            self.start_keepalive(cfg.request_timeout);
        }
        if let Some(last) = slot.last_sent {
            let next = last + cfg.min_interval;
            if next > Instant::now() {
                tokio::time::sleep_until(next).await;
            }
        }
        let Some(session) = slot.session.as_mut() else {
            return Err(Error::new(ErrorKind::Other, "the session was lost").not_delivered());
        };
        tries.waiting_for(command_text(netfn, cmd));
        self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let wait = cfg
            .request_timeout
            .min(until.saturating_duration_since(Instant::now()))
            .max(std::time::Duration::from_millis(1));
        let r = session
            .exchange(&req, bridge, cfg.local_address, wait)
            .await;
        slot.last_sent = Some(Instant::now());
        match r {
            Ok((cc, data)) => Ok(RawIpmiReply { cc, data }),
            Err(e) => {
                if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Protocol) {
                    // The BMC may have dropped the session: open a new one next time.
                    if let Some(old) = slot.session.take() {
                        old.close_nowait();
                        self.inner
                            .counters
                            .sessions_closed
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e)
            }
        }
    }

    /// Starts the session's keep-alive (if not running), each waiting up to
    /// `timeout` for its reply: the `request_timeout` of the node whose operation
    /// opened the session.
    fn start_keepalive(&self, timeout: std::time::Duration) {
        let interval = self.inner.keepalive_interval;
        if interval.is_zero() {
            return;
        }
        let Ok(mut guard) = self.inner.keepalive.lock() else {
            return;
        };
        if guard.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let weak: Weak<IpmiEndpoint> = Arc::downgrade(&self.inner);
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
                    .exchange(&req, None, inner.local_address, timeout)
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
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`] when the BMC does not answer Close Session within
    /// `request_timeout`; a completion code's kind ([`cc_kind`]) when it refuses;
    /// [`ErrorKind::Unreachable`] when the datagram cannot be sent. The session is
    /// forgotten either way.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
    /// client.close().await?; // no session: nothing sent
    /// client.raw(0x06, 0x01, &[]).await?;
    /// assert_eq!(bmc.stats().open_sessions, 1);
    /// client.close().await?;
    /// assert_eq!(bmc.stats().open_sessions, 0);
    /// client.raw(0x06, 0x01, &[]).await?; // a new session
    /// assert_eq!(client.stats().sessions_opened, 2);
    /// # Ok(()) }
    /// ```
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
            s.close(self.cfg.request_timeout)
                .await
                .map_err(|e| e.or_driver(crate::NAME).or_operation("close session"))?;
        }
        Ok(())
    }
}
