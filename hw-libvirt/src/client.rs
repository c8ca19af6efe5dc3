//! [`LibvirtClient`]: one libvirt connection per endpoint (URI, SASL user, SASL
//! password fingerprint) per process, shared through [`hwctl_core::shared::Shared`] and
//! released with its last node; blocking calls kept off the tokio workers, retried
//! through [`hwctl_core::retry`]; and the node's domain found.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use hwctl_core::poll::Backoff;
use hwctl_core::retry::{Idempotency, RetryPolicy, retry};
use hwctl_core::shared::{EndpointKey, Shared};
use hwctl_core::{Error, ErrorKind, MacAddress, Result};
use virt::connect::{ConnectAuth, ConnectCredential, ConnectCredentialType};
use virt::domain::Domain;

use crate::NAME;
use crate::config::{DomainSelector, LibvirtConfig};
use crate::errors::{kind_of, map_err, open_kind};
use crate::xml::DomainXml;

pub(crate) use virt::connect::Connect;

static SILENCE: Once = Once::new();

/// Stops libvirt from printing every error to stderr (its default handler); our
/// errors carry the message instead. Called before any connection is opened.
///
/// The same once-only step registers libvirt's default event loop and runs it on a
/// thread of its own (`hw-libvirt-events`): the remote driver reads a stream's
/// packets off the socket only from an event loop, so without one the console's
/// non-blocking stream never receives a byte from a real libvirtd (and the daemon
/// stops draining the guest's serial port). Found by the long libvirtd test
/// (`hwctl/tests/libvirt_pxe_long.rs`, decision 69).
pub fn silence_libvirt_stderr() {
    SILENCE.call_once(|| {
        virt::error::clear_error_callback();
        if let Err(e) = virt::event::event_register_default_impl() {
            tracing::warn!("libvirt event loop not registered ({e}): consoles on remote connections will receive nothing");
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("hw-libvirt-events".into())
            .spawn(|| {
                loop {
                    if virt::event::event_run_default_impl().is_err() {
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("libvirt event loop thread not started ({e}): consoles on remote connections will receive nothing");
        }
    });
}

// ---------------------------------------------------------------------------
// Connections

thread_local! {
    /// The SASL credentials for the `open_auth` call running on this thread. The
    /// `virt` crate's auth callback is a plain `fn`, so it cannot capture them.
    static SASL: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

// The signature is the `virt` crate's `ConnectAuthCallback`.
#[allow(clippy::ptr_arg)]
fn auth_callback(creds: &mut Vec<ConnectCredential>) {
    SASL.with(|s| {
        let s = s.borrow();
        for cred in creds.iter_mut() {
            cred.result = match (cred.typed, s.as_ref()) {
                (ConnectCredentialType::AuthName, Some((user, _))) => Some(user.clone()),
                (ConnectCredentialType::Passphrase, Some((_, pass))) => Some(pass.clone()),
                _ => None,
            };
        }
    });
}

/// Opens a connection. Blocking. A failure is marked
/// [`not_delivered`](Error::not_delivered): no call was sent on it.
fn open(config: &LibvirtConfig) -> Result<Connect> {
    silence_libvirt_stderr();
    let uri = config.effective_uri();
    tracing::debug!(uri = %config.uri(), "opening libvirt connection");
    let conn = match config.sasl() {
        Some(creds) => {
            SASL.with(|s| *s.borrow_mut() = Some(creds));
            let mut auth = ConnectAuth::new(
                vec![
                    ConnectCredentialType::AuthName,
                    ConnectCredentialType::Passphrase,
                ],
                auth_callback,
            );
            let r = Connect::open_auth(Some(&uri), &mut auth, 0);
            SASL.with(|s| *s.borrow_mut() = None);
            r
        }
        None => Connect::open(Some(&uri)),
    };
    let conn = conn.map_err(|e| {
        Error::new(
            open_kind(config.uri(), &e),
            format!("cannot connect to {}: {}", config.uri(), e.message()),
        )
        .with_driver(NAME)
        .with_operation("connect")
        .with_source(e)
        .not_delivered()
    })?;
    // Remote connections: have libvirt notice a dead peer. Local drivers (test://)
    // do not support keepalive; that is fine.
    let _ = conn.set_keep_alive(5, 3);
    Ok(conn)
}

/// The open connection and its generation (bumped on every open, so a failure on an
/// old connection never closes a newer one).
#[derive(Default)]
struct ConnSlot {
    conn: Option<Connect>,
    generation: u64,
}

/// One libvirt connection, shared by every node of one endpoint in the process: the
/// effective URI (with an SSH key file), the SASL user and a keyed fingerprint of
/// the SASL password (see [`LibvirtConfig::endpoint_key`]). A node with another
/// password never rides on a connection opened with the right one.
///
/// **Lifetime.** The process-wide pool ([`Shared::global`]) holds clients weakly:
/// every node holds its endpoint's client, and when the last one is dropped the
/// client is dropped and its connection closed (once no call in flight still uses
/// it). The next node opens a fresh one. For libvirt's `test://` driver, whose state
/// lives in the connection, that means the domains start again from the node file
/// (a `sim::LibvirtSim`, feature `sim`, holds its client for as long as it lives).
///
/// The connection is opened on first use (not when the client is made), checked with
/// `virConnectIsAlive` before each use and reopened when dead or after a
/// connection-level error. The client also holds the index of which domains carry
/// which MACs for its connection.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::Power;
/// use hwctl_libvirt::{DomainSelector, LibvirtClient, LibvirtConfig, LibvirtPower};
/// let config = LibvirtConfig::new("test:///default", DomainSelector::Name("test".into()))?;
/// let power = LibvirtPower::new(config.clone());
/// power.get_power_state().await?;
/// let client = LibvirtClient::shared(&config); // the one `power` uses
/// assert!(client.is_connected());
/// # Ok(()) }
/// ```
pub struct LibvirtClient {
    key: EndpointKey,
    /// The configuration the client opens connections with (its domain is not used).
    config: LibvirtConfig,
    slot: Mutex<ConnSlot>,
    index: Mutex<MacIndex>,
}

impl fmt::Debug for LibvirtClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibvirtClient")
            .field("key", &self.key)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl LibvirtClient {
    fn new(config: &LibvirtConfig) -> Self {
        LibvirtClient {
            key: config.endpoint_key(),
            config: config.clone(),
            slot: Mutex::new(ConnSlot::default()),
            index: Mutex::new(MacIndex::default()),
        }
    }

    /// The client for `config`'s endpoint from the process-wide pool: the live one
    /// when some node holds it, else a new one (not yet connected).
    pub fn shared(config: &LibvirtConfig) -> Arc<LibvirtClient> {
        let key = config.endpoint_key();
        // `make` cannot fail; were it to, an unshared client still works.
        Shared::<LibvirtClient>::global()
            .get_or_try_insert(&key, || Ok(LibvirtClient::new(config)))
            .unwrap_or_else(|_| Arc::new(LibvirtClient::new(config)))
    }

    /// The live client for `config`'s endpoint, if some node (or simulator) holds
    /// one: `None` once the last holder is gone.
    pub fn live(config: &LibvirtConfig) -> Option<Arc<LibvirtClient>> {
        Shared::<LibvirtClient>::global().get(&config.endpoint_key())
    }

    /// How many endpoints have a live client in the process-wide pool.
    pub fn live_count() -> usize {
        Shared::<LibvirtClient>::global().len()
    }

    /// The key it is shared under (no secret in it).
    pub fn key(&self) -> &EndpointKey {
        &self.key
    }

    /// The URI as configured (without key file parameters).
    pub fn uri(&self) -> &str {
        self.config.uri()
    }

    /// Whether it holds an open connection now (not checked with the hypervisor).
    pub fn is_connected(&self) -> bool {
        self.lock_slot().conn.is_some()
    }

    /// How many times a connection was opened (the first open and every reopen).
    pub fn connections_opened(&self) -> u64 {
        self.lock_slot().generation
    }

    /// Forgets the connection and the MAC index: the connection is closed once no
    /// call in flight holds it, and the next call opens a fresh one.
    pub fn reset(&self) {
        self.lock_slot().conn = None;
        *self.index.lock().unwrap_or_else(|p| p.into_inner()) = MacIndex::default();
    }

    fn lock_slot(&self) -> std::sync::MutexGuard<'_, ConnSlot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open connection, opened (or reopened when it died) as needed. Blocking.
    fn connection(&self) -> Result<(Connect, u64)> {
        let mut slot = self.lock_slot();
        if let Some(conn) = slot.conn.as_ref()
            && conn.is_alive().unwrap_or(false)
        {
            return Ok((conn.clone(), slot.generation));
        }
        slot.conn = None;
        let conn = open(&self.config)?;
        slot.generation += 1;
        slot.conn = Some(conn.clone());
        Ok((conn, slot.generation))
    }

    /// Drops the connection of `generation` (after a connection-level error on it),
    /// so the next call reopens.
    fn invalidate(&self, generation: u64) {
        let mut slot = self.lock_slot();
        if slot.generation == generation {
            slot.conn = None;
        }
    }
}

/// Forgets every shared connection of the process (each is closed once no operation
/// holds it) and every MAC index. Every node of every URI reconnects on its next call.
///
/// The test driver keeps its state per connection: after this, a `test:///PATH.xml`
/// node file is read afresh.
pub fn reset_connections() {
    let pool = Shared::<LibvirtClient>::global();
    for key in pool.keys() {
        if let Some(client) = pool.get(&key) {
            client.reset();
        }
    }
}

/// How a call is retried: once more on a fresh connection after a connection-level
/// failure (a non-idempotent call only when nothing was sent: the connection could
/// not be opened).
fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::from_millis(50)))
}

/// Runs `f` on a blocking thread with `client`'s connection, within the configured
/// call timeout (for every attempt together). A connection-level failure drops the
/// connection; the call is tried once more on a fresh one when it is `idempotent`
/// or was never sent ([`hwctl_core::retry`] decides).
pub(crate) async fn with_conn<T, F>(
    client: &Arc<LibvirtClient>,
    op: &'static str,
    idempotent: bool,
    f: F,
) -> Result<T>
where
    T: Send + 'static,
    F: Fn(&Connect) -> Result<T> + Send + Sync + 'static,
{
    let timeout = client.config.call_timeout();
    let deadline = tokio::time::Instant::now() + timeout;
    let f = Arc::new(f);
    let attempt = |_n: u32| {
        let client = Arc::clone(client);
        let f = Arc::clone(&f);
        async move {
            let task = tokio::task::spawn_blocking(move || {
                let (conn, generation) = client.connection()?;
                let r = f(&conn);
                if let Err(e) = &r
                    && e.kind() == ErrorKind::Unreachable
                {
                    tracing::debug!(error = %e, "libvirt connection lost; reopening on next use");
                    client.invalidate(generation);
                }
                r
            });
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(r)) => r,
                Ok(Err(join)) => Err(Error::new(
                    ErrorKind::Other,
                    format!("libvirt worker thread failed: {join}"),
                )),
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "libvirt did not answer within {:.1}s",
                        timeout.as_secs_f64()
                    ),
                )),
            }
        }
    };
    retry(
        &retry_policy(),
        Idempotency::from_bool(idempotent),
        Some(deadline),
        attempt,
    )
    .await
    .map_err(|e| e.or_driver(NAME).or_operation(op))
}

// ---------------------------------------------------------------------------
// Finding the domain

/// One node's domain: how to find it, and the UUID once found.
pub(crate) struct DomainRef {
    config: LibvirtConfig,
    client: Arc<LibvirtClient>,
    cached_uuid: Mutex<Option<String>>,
}

impl fmt::Debug for DomainRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DomainRef")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn describe_macs(macs: &[MacAddress]) -> String {
    macs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which domains carry which MACs, for one connection: built by one full scan and
/// reused while the number of domains stays the same, so a fleet of N nodes costs
/// one scan rather than N.
#[derive(Default)]
struct MacIndex {
    /// How many domains (active + inactive) there were when the index was built;
    /// starting or stopping a domain does not change it, defining or undefining does.
    counts: Option<u64>,
    /// MAC → (UUID, name) of every domain carrying it.
    by_mac: HashMap<MacAddress, Vec<(String, String)>>,
}

fn domain_counts(conn: &Connect) -> Result<u64> {
    let active = conn
        .num_of_domains()
        .map_err(|e| map_err("count domains", e))?;
    let inactive = conn
        .num_of_defined_domains()
        .map_err(|e| map_err("count domains", e))?;
    Ok(u64::from(active) + u64::from(inactive))
}

fn scan(conn: &Connect) -> Result<HashMap<MacAddress, Vec<(String, String)>>> {
    let domains = conn
        .list_all_domains(0)
        .map_err(|e| map_err("list domains", e))?;
    let mut by_mac: HashMap<MacAddress, Vec<(String, String)>> = HashMap::new();
    for dom in domains {
        let xml = match dom.xml_desc(0) {
            Ok(x) => x,
            // Undefined while we were listing: not ours.
            Err(e) if kind_of(&e) == ErrorKind::NotFound => continue,
            Err(e) => return Err(map_err("read domain XML", e)),
        };
        let parsed = DomainXml::parse(&xml)?;
        let uuid = match dom.uuid_string() {
            Ok(u) => u,
            Err(_) => parsed.uuid().unwrap_or_default().to_owned(),
        };
        let name = parsed.name().unwrap_or("?").to_owned();
        let mut macs = parsed.macs();
        macs.sort();
        macs.dedup();
        for m in macs {
            by_mac
                .entry(m)
                .or_default()
                .push((uuid.clone(), name.clone()));
        }
    }
    Ok(by_mac)
}

/// Finds the single domain carrying any of `macs`. Blocking.
///
/// No domain: `NotFound` listing the MACs. MACs on more than one domain: an invalid
/// `ports` error naming them all; never a guess.
fn find_by_macs(conn: &Connect, index: &Mutex<MacIndex>, macs: &[MacAddress]) -> Result<Domain> {
    let mut index = index.lock().unwrap_or_else(|p| p.into_inner());
    let counts = domain_counts(conn)?;
    let mut rescanned = false;
    if index.counts != Some(counts) {
        index.by_mac = scan(conn)?;
        index.counts = Some(counts);
        rescanned = true;
    }
    loop {
        let mut found: Vec<(String, String, Vec<MacAddress>)> = Vec::new();
        for m in macs {
            for (uuid, name) in index.by_mac.get(m).into_iter().flatten() {
                match found.iter_mut().find(|(u, _, _)| u == uuid) {
                    Some(entry) => entry.2.push(*m),
                    None => found.push((uuid.clone(), name.clone(), vec![*m])),
                }
            }
        }
        let stale = match found.len() {
            0 => None,
            1 => {
                let (uuid, _, hits) = &found[0];
                match conn.lookup_domain_by_uuid_string(uuid) {
                    Ok(dom) => {
                        // Check the domain still carries the MAC (an edit keeps the count).
                        let xml = dom.xml_desc(0).map_err(|e| map_err("read domain XML", e))?;
                        let still = DomainXml::parse(&xml)?.macs();
                        if hits.iter().any(|m| still.contains(m)) {
                            return Ok(dom);
                        }
                        Some(())
                    }
                    Err(e) if kind_of(&e) == ErrorKind::NotFound => Some(()),
                    Err(e) => return Err(map_err("look up domain", e)),
                }
            }
            _ if rescanned => {
                let list: Vec<String> = found
                    .iter()
                    .map(|(_, name, hits)| format!("{name} ({})", describe_macs(hits)))
                    .collect();
                return Err(Error::invalid_parameter(
                    "ports",
                    format!(
                        "the node's MACs match {} domains: {}; refusing to pick one",
                        found.len(),
                        list.join(", ")
                    ),
                ));
            }
            _ => Some(()),
        };
        if rescanned {
            if stale.is_none() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "can't find a domain with the node's MACs: {}",
                        describe_macs(macs)
                    ),
                ));
            }
            // Freshly scanned and still inconsistent: the domains are changing under us.
            return Err(Error::new(
                ErrorKind::Busy,
                "the domain carrying the node's MACs changed during the lookup",
            ));
        }
        // Not found or stale in a cached index: scan again once before concluding.
        index.by_mac = scan(conn)?;
        index.counts = Some(domain_counts(conn)?);
        rescanned = true;
    }
}

impl DomainRef {
    /// The domain `config` selects, reached through its endpoint's shared client.
    pub(crate) fn new(config: LibvirtConfig) -> Self {
        DomainRef {
            client: LibvirtClient::shared(&config),
            config,
            cached_uuid: Mutex::new(None),
        }
    }

    pub(crate) fn config(&self) -> &LibvirtConfig {
        &self.config
    }

    /// Resolves the domain on `conn`. Blocking.
    fn resolve(&self, conn: &Connect) -> Result<Domain> {
        let cached = self
            .cached_uuid
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(uuid) = cached {
            match conn.lookup_domain_by_uuid_string(&uuid) {
                Ok(d) => return Ok(d),
                Err(e) if kind_of(&e) == ErrorKind::NotFound => {}
                Err(e) => return Err(map_err("look up domain", e)),
            }
        }
        let dom = match &self.config.domain() {
            DomainSelector::Macs(macs) => find_by_macs(conn, &self.client.index, macs)?,
            DomainSelector::Name(name) => conn.lookup_domain_by_name(name).map_err(|e| {
                let kind = kind_of(&e);
                Error::new(kind, format!("no domain named {name:?}: {}", e.message()))
                    .with_source(e)
            })?,
            DomainSelector::Uuid(uuid) => conn.lookup_domain_by_uuid_string(uuid).map_err(|e| {
                let kind = kind_of(&e);
                Error::new(kind, format!("no domain with UUID {uuid}: {}", e.message()))
                    .with_source(e)
            })?,
        };
        if let Ok(uuid) = dom.uuid_string() {
            *self.cached_uuid.lock().unwrap_or_else(|p| p.into_inner()) = Some(uuid);
        }
        Ok(dom)
    }

    /// Runs `f` with this node's domain on a blocking thread.
    pub(crate) async fn with_domain<T, F>(
        self: &Arc<Self>,
        op: &'static str,
        idempotent: bool,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connect, &Domain) -> Result<T> + Send + Sync + 'static,
    {
        let me = Arc::clone(self);
        with_conn(&self.client, op, idempotent, move |conn| {
            let dom = me.resolve(conn)?;
            f(conn, &dom)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// libvirt calls block: they must never run on the runtime's thread.
    #[tokio::test(flavor = "current_thread")]
    async fn libvirt_calls_run_off_the_runtime_thread() {
        let config =
            LibvirtConfig::new("test:///default", DomainSelector::Name("test".into())).unwrap();
        let runtime_thread = std::thread::current().id();
        let client = LibvirtClient::shared(&config);
        let (ran_on, domains) = with_conn(&client, "count domains", true, |conn| {
            let n = conn.num_of_domains().map_err(|e| map_err("count", e))?;
            Ok((std::thread::current().id(), n))
        })
        .await
        .unwrap();
        assert!(domains >= 1);
        assert_ne!(ran_on, runtime_thread);
    }
}
