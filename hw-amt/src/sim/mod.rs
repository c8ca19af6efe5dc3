//! An in-process Intel AMT (feature `sim`): a loopback WS-Management service for
//! tests, demos and benches, written from PROTOCOLS.md §2.4 and the
//! go-wsman-messages fixtures, sharing no code with the client (its own request
//! scan, its own reply text, its own digest implementation).
//!
//! - HTTP digest (RFC 7616) with an AMT-shaped realm containing `:`
//!   (`Digest:4A3B…`), MD5 and/or SHA-256, `qop=auth`, nonce counts checked
//!   (replays refused), nonces expire (then `stale=true`), nonce reuse counted;
//! - classes: `CIM_AssociatedPowerManagementService` (Get, Enumerate/Pull, with
//!   `OptimizeEnumeration`), `CIM_PowerManagementService` (Get,
//!   `RequestPowerStateChange` per `AvailableRequestedPowerStates`),
//!   `CIM_BootConfigSetting` (Get, `ChangeBootOrder`), `CIM_BootSourceSetting`
//!   (Enumerate/Pull), `CIM_BootService` (Get, `SetBootConfigRole`),
//!   `AMT_BootSettingData` (Get, Put), `AMT_BootCapabilities` (Get), `Identify`;
//! - a boot consumes the one-shot configuration (AMT forgets it), and is recorded
//!   ([`AmtSim::boots`]);
//! - sleeping: the first connection is dropped unanswered, which wakes it;
//! - faults ([`Fault`]): 401 storm, SOAP fault, malformed or truncated XML,
//!   oversized body, slow reply; forced `ReturnValue`s; and hwctl-sim's common faults.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_amt::sim::{AmtSim, AmtSimConfig};
//! let sim = AmtSim::start(AmtSimConfig::default()).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! assert!(sim.realm().contains(':'));
//! assert!(!sim.is_on());
//! # Ok(()) }
//! ```

mod device;
mod server;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwctl_core::{DriverInfo, Error, ErrorKind, Result};
use hwctl_sim::{CommonFault, Counters, FaultPlan, SimStats, Simulator, TaskSet};

use device::Device;

/// Which digest algorithms the simulator offers.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::{AmtClient, AmtConfig};
/// use hwctl_amt::sim::{AmtSim, AmtSimConfig, DigestAlgorithms};
/// let sim = AmtSim::start(AmtSimConfig { algorithms: DigestAlgorithms::Sha256, ..Default::default() }).await?;
/// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
/// assert_eq!(client.identify().await?.product_vendor, "Intel Corporation");
/// assert_eq!(sim.stats().unauthorized, 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithms {
    /// MD5 only (AMT's own; MeshCentral supports only this).
    Md5,
    /// SHA-256 only.
    Sha256,
    /// Both challenges, SHA-256 first.
    Both,
}

impl DigestAlgorithms {
    fn md5(self) -> bool {
        matches!(self, DigestAlgorithms::Md5 | DigestAlgorithms::Both)
    }
    fn sha256(self) -> bool {
        matches!(self, DigestAlgorithms::Sha256 | DigestAlgorithms::Both)
    }
}

/// How to start the simulator.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::sim::{AmtSim, AmtSimConfig};
/// let sim = AmtSim::start(AmtSimConfig { power_on: true, ..Default::default() }).await?;
/// assert!(sim.is_on());
/// assert_eq!(sim.username(), "admin");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AmtSimConfig {
    /// Loopback address (default 127.0.0.1 and an ephemeral port).
    pub listen: Option<SocketAddr>,
    /// Digest user (default `admin`).
    pub username: String,
    /// Digest password (default `P@ssw0rd`).
    pub password: String,
    /// Digest realm (default AMT-shaped, with a `:`).
    pub realm: String,
    /// Digest algorithms offered (default MD5, as AMT).
    pub algorithms: DigestAlgorithms,
    /// How long a nonce is accepted (then `stale=true`).
    pub nonce_lifetime: Duration,
    /// Start powered on.
    pub power_on: bool,
    /// Start asleep (the first connection is dropped).
    pub sleeping: bool,
    /// Fall asleep after this long without a request while the host is off (AMT:
    /// about 60 s); `None` never.
    pub sleep_after: Option<Duration>,
    /// Items per enumeration page (to exercise Pull).
    pub page_size: usize,
    /// Serve HTTPS with this configuration (AMT's 16993).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The CA bundle to name in `driver_info` (`amt_verify_ca`) when serving TLS.
    pub ca_file: Option<std::path::PathBuf>,
}

impl fmt::Debug for AmtSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmtSimConfig")
            .field("listen", &self.listen)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("realm", &self.realm)
            .field("algorithms", &self.algorithms)
            .field("power_on", &self.power_on)
            .field("sleeping", &self.sleeping)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for AmtSimConfig {
    fn default() -> Self {
        AmtSimConfig {
            listen: None,
            username: "admin".into(),
            password: "P@ssw0rd".into(),
            realm: "Digest:4A3B0000000000000000000000000000".into(),
            algorithms: DigestAlgorithms::Md5,
            nonce_lifetime: Duration::from_secs(300),
            power_on: false,
            sleeping: false,
            sleep_after: None,
            page_size: 999,
            tls: None,
            ca_file: None,
        }
    }
}

/// A fault the simulator injects (each for a number of requests).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
/// let sim = AmtSim::start(Default::default()).await?;
/// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
/// use hwctl_amt::sim::Fault;
/// sim.inject_fault(Fault::MalformedXml, 1);
/// let err = client.identify().await.unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
/// assert!(client.identify().await.is_ok()); // one request only
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 401 with a fresh challenge even for the right answer (a 401 storm).
    Unauthorized,
    /// A SOAP fault with this subcode (prefixed `b:` addressing, `c:` wsman, `g:`
    /// enumeration) and reason.
    SoapFault {
        /// Such as `b:DestinationUnreachable`.
        subcode: String,
        /// The reason text.
        reason: String,
    },
    /// A reply that is not well-formed XML.
    MalformedXml,
    /// The reply cut in half.
    TruncatedXml,
    /// The reply padded with this many bytes.
    Oversized(usize),
    /// The reply after this delay.
    SlowReply(Duration),
}

/// A snapshot of the boot configuration.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
/// let sim = AmtSim::start(Default::default()).await?;
/// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
/// use hwctl_amt::wire::{self, BootSource};
/// client.invoke(wire::change_boot_order(Some(BootSource::CdDvd))).await?;
/// let boot = sim.boot();
/// assert_eq!(boot.boot_order.as_deref(), Some("Intel(r) AMT: Force CD/DVD Boot"));
/// assert!(!boot.armed && !boot.bios_setup);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootSnapshot {
    /// `ChangeBootOrder`'s source InstanceID, if set.
    pub boot_order: Option<String>,
    /// `SetBootConfigRole(1)` armed the order for the next boot.
    pub armed: bool,
    /// `AMT_BootSettingData.BIOSSetup`.
    pub bios_setup: bool,
}

pub(crate) struct Shared {
    username: String,
    password: String,
    realm: String,
    algorithms: DigestAlgorithms,
    nonce_lifetime: Duration,
    /// nonce → (issued, highest nc seen).
    nonces: Mutex<HashMap<String, (Instant, u64)>>,
    nonces_issued: AtomicU64,
    nonce_reuses: AtomicU64,
    device: Mutex<Device>,
    faults: Mutex<Vec<(Fault, u32)>>,
    by_operation: Mutex<BTreeMap<String, u64>>,
    counters: Counters,
    common: FaultPlan,
    sleeping: AtomicBool,
    sleep_after: Option<Duration>,
    last_request: Mutex<Instant>,
    wakeups: AtomicU64,
}

impl Shared {
    fn should_sleep(&self) -> bool {
        if self.sleeping.load(Ordering::SeqCst) {
            return true;
        }
        let Some(after) = self.sleep_after else {
            return false;
        };
        let off = lock(&self.device).power_state != 2;
        let idle = lock(&self.last_request).elapsed() >= after;
        let now = off && idle;
        *lock(&self.last_request) = Instant::now();
        now
    }

    fn set_sleeping(&self, on: bool) {
        self.sleeping.store(on, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The simulator; stops with every connection when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
/// let sim = AmtSim::start(Default::default()).await?;
/// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
/// use hwctl_amt::wire;
/// client.invoke(wire::request_power_state_change(2)).await?;
/// assert!(sim.is_on());
/// assert_eq!(sim.boots(), ["disk"]);
/// # Ok(()) }
/// ```
pub struct AmtSim {
    addr: SocketAddr,
    tls: bool,
    ca_file: Option<std::path::PathBuf>,
    shared: Arc<Shared>,
    _tasks: TaskSet,
}

impl fmt::Debug for AmtSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmtSim")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Counters of the simulator.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
/// let sim = AmtSim::start(Default::default()).await?;
/// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
/// client.identify().await?;
/// client.identify().await?;
/// let stats = sim.stats();
/// assert_eq!(stats.by_operation.get("Identify"), Some(&2));
/// assert_eq!(stats.nonces_issued, 1);
/// assert!(stats.nonce_reuses >= 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmtSimStats {
    /// HTTP requests (401s included).
    pub requests: u64,
    /// Requests per WS-Management operation (authenticated only).
    pub by_operation: BTreeMap<String, u64>,
    /// Refused digest answers.
    pub unauthorized: u64,
    /// Challenges sent (nonces issued).
    pub nonces_issued: u64,
    /// Requests that reused a nonce (nc > 1).
    pub nonce_reuses: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Times a sleeping device dropped a connection and woke.
    pub wakeups: u64,
}

impl AmtSim {
    /// Starts a simulator.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for a non-loopback `listen`; `Unreachable`/`Other` when
    /// the address cannot be bound.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::sim::{AmtSim, AmtSimConfig};
    /// let sim = AmtSim::start(AmtSimConfig::default()).await?;
    /// assert_eq!(sim.power_state(), 8);
    /// let remote = AmtSimConfig { listen: Some("192.0.2.1:0".parse().expect("an address")), ..Default::default() };
    /// let err = AmtSim::start(remote).await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
    pub async fn start(config: AmtSimConfig) -> Result<AmtSim> {
        let mut device = Device::new(config.power_on);
        device.page_size = config.page_size.max(1);
        let shared = Arc::new(Shared {
            username: config.username,
            password: config.password,
            realm: config.realm,
            algorithms: config.algorithms,
            nonce_lifetime: config.nonce_lifetime,
            nonces: Mutex::new(HashMap::new()),
            nonces_issued: AtomicU64::new(0),
            nonce_reuses: AtomicU64::new(0),
            device: Mutex::new(device),
            faults: Mutex::new(Vec::new()),
            by_operation: Mutex::new(BTreeMap::new()),
            counters: Counters::new(),
            common: FaultPlan::new(),
            sleeping: AtomicBool::new(config.sleeping),
            sleep_after: config.sleep_after,
            last_request: Mutex::new(Instant::now()),
            wakeups: AtomicU64::new(0),
        });
        let listener = hwctl_sim::bind_tcp(config.listen)
            .await
            .map_err(|e| e.with_driver(crate::NAME))?;
        let addr = listener.local_addr().map_err(|e| {
            Error::new(ErrorKind::Other, "listener has no address")
                .with_driver(crate::NAME)
                .with_source(e)
        })?;
        let tasks = TaskSet::new();
        let tls = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        tasks.spawn(server::serve(
            listener,
            shared.clone(),
            tasks.spawner(),
            tls,
        ));
        Ok(AmtSim {
            addr,
            tls: config.tls.is_some(),
            ca_file: config.ca_file,
            shared,
            _tasks: tasks,
        })
    }

    /// The address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert!(sim.addr().ip().is_loopback());
    /// assert_ne!(sim.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https` when serving TLS).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert_eq!(sim.base_url(), format!("http://{}", sim.addr()));
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The digest realm.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert!(sim.realm().starts_with("Digest:"));
    /// # Ok(()) }
    /// ```
    pub fn realm(&self) -> &str {
        &self.shared.realm
    }

    /// The digest user.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert_eq!(sim.username(), "admin");
    /// # Ok(()) }
    /// ```
    pub fn username(&self) -> &str {
        &self.shared.username
    }

    /// The digest password.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert_eq!(sim.password(), "P@ssw0rd");
    /// # Ok(()) }
    /// ```
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// Whether the host is on (`PowerState` 2).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert!(!sim.is_on());
    /// sim.set_power_state(2);
    /// assert!(sim.is_on());
    /// # Ok(()) }
    /// ```
    pub fn is_on(&self) -> bool {
        lock(&self.shared.device).power_state == 2
    }

    /// The raw `PowerState`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let sim = hwctl_amt::sim::AmtSim::start(Default::default()).await?;
    /// assert_eq!(sim.power_state(), 8); // off
    /// # Ok(()) }
    /// ```
    pub fn power_state(&self) -> u16 {
        lock(&self.shared.device).power_state
    }

    /// Sets the raw `PowerState` (any number, for Unknown states).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// sim.set_power_state(3);
    /// assert_eq!(client.power_service().await?.power_state, 3);
    /// # Ok(()) }
    /// ```
    pub fn set_power_state(&self, state: u16) {
        lock(&self.shared.device).power_state = state;
    }

    /// The boot configuration.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::wire::{self, BootSource};
    /// client.invoke(wire::change_boot_order(Some(BootSource::Pxe))).await?;
    /// client.invoke(wire::set_boot_config_role()).await?;
    /// assert!(sim.boot().armed);
    /// # Ok(()) }
    /// ```
    pub fn boot(&self) -> BootSnapshot {
        let d = lock(&self.shared.device);
        BootSnapshot {
            boot_order: d.boot_order.clone(),
            armed: d.one_shot_armed,
            bios_setup: d
                .setting_data
                .iter()
                .any(|(k, v)| k == "BIOSSetup" && v == "true"),
        }
    }

    /// What each boot booted from (`pxe`, `disk`, `cdrom`, `bios`), in order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::wire::{self, BootSource};
    /// client.invoke(wire::change_boot_order(Some(BootSource::Pxe))).await?;
    /// client.invoke(wire::set_boot_config_role()).await?;
    /// client.invoke(wire::request_power_state_change(2)).await?;
    /// assert_eq!(sim.boots(), ["pxe"]);
    /// assert!(!sim.boot().armed); // AMT forgets the one-shot source
    /// # Ok(()) }
    /// ```
    pub fn boots(&self) -> Vec<String> {
        lock(&self.shared.device).boots.clone()
    }

    /// Puts the device to sleep (the next connection is dropped, and wakes it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let mut config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// config.wake_wait = std::time::Duration::from_millis(50);
    /// let client = AmtClient::new(&config)?;
    /// sim.set_sleeping(true);
    /// client.identify().await?; // the first attempt wakes it, the retry is answered
    /// assert_eq!(sim.stats().wakeups, 1);
    /// # Ok(()) }
    /// ```
    pub fn set_sleeping(&self, sleeping: bool) {
        self.shared.set_sleeping(sleeping);
    }

    /// Injects `fault` for the next `n` authenticated requests (a 401 storm counts
    /// every request).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// use hwctl_amt::sim::Fault;
    /// let fault = Fault::SoapFault { subcode: "b:DestinationUnreachable".into(), reason: "gone".into() };
    /// sim.inject_fault(fault, 1);
    /// let err = client.power_service().await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::NotFound);
    /// # Ok(()) }
    /// ```
    pub fn inject_fault(&self, fault: Fault, n: u32) {
        lock(&self.shared.faults).push((fault, n.max(1)));
    }

    /// Removes every injected fault.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// sim.inject_fault(hwctl_amt::sim::Fault::TruncatedXml, 10);
    /// sim.clear_faults();
    /// assert_eq!(client.power_service().await?.power_state, 8);
    /// # Ok(()) }
    /// ```
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// The next Invoke answers `value` (and has no effect).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// sim.force_return_value(4099);
    /// let err = client.invoke(hwctl_amt::wire::request_power_state_change(2)).await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Busy);
    /// assert!(!sim.is_on());
    /// # Ok(()) }
    /// ```
    pub fn force_return_value(&self, value: u32) {
        lock(&self.shared.device).forced_return_value = Some(value);
    }

    /// Forgets every issued nonce (clients then get `stale=true`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// client.identify().await?;
    /// sim.expire_nonces();
    /// client.identify().await?; // a fresh challenge, answered
    /// assert_eq!(sim.stats().nonces_issued, 2);
    /// # Ok(()) }
    /// ```
    pub fn expire_nonces(&self) {
        lock(&self.shared.nonces).clear();
    }

    /// The counters.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_amt::{AmtClient, AmtConfig, sim::AmtSim};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let client = AmtClient::new(&AmtConfig::new(sim.base_url(), sim.username(), sim.password())?)?;
    /// client.power_service().await?;
    /// assert!(sim.stats().requests >= 2); // a 401 challenge, then the answer
    /// assert!(sim.stats().connections >= 1);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> AmtSimStats {
        let c = self.shared.counters.snapshot();
        AmtSimStats {
            requests: c.requests,
            by_operation: lock(&self.shared.by_operation).clone(),
            unauthorized: c.failed_logins,
            nonces_issued: self.shared.nonces_issued.load(Ordering::SeqCst),
            nonce_reuses: self.shared.nonce_reuses.load(Ordering::SeqCst),
            connections: c.connections,
            wakeups: self.shared.wakeups.load(Ordering::SeqCst),
        }
    }
}

impl Simulator for AmtSim {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "Intel AMT WS-Management simulator on {}/wsman (digest user {}, realm {})",
            self.base_url(),
            self.username(),
            self.realm()
        )
    }

    fn node_count(&self) -> usize {
        1
    }

    fn driver_info(&self, _i: usize) -> DriverInfo {
        let mut info = DriverInfo::from_pairs([
            ("amt_address", "127.0.0.1".to_owned()),
            ("amt_port", self.addr.port().to_string()),
            ("amt_username", self.username().to_owned()),
            ("amt_password", self.password().to_owned()),
        ]);
        if self.tls {
            info.insert("amt_protocol", "https");
            if let Some(ca) = &self.ca_file {
                info.insert("amt_verify_ca", ca.display().to_string());
            }
        }
        info
    }

    fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    /// Silence: requests read and never answered; bad credentials: every request
    /// gets a fresh challenge; garbage: replies that are not XML; delay: replies
    /// after the delay.
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        self.shared.common.replace(fault);
        Ok(())
    }
}
