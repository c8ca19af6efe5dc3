//! The libvirt side: connections shared per URI, blocking calls kept off the tokio
//! workers, libvirt errors mapped to ours, and the node's domain found.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Once, OnceLock};

use hw_core::{Error, ErrorKind, MacAddress, Result};
use virt::connect::{ConnectAuth, ConnectCredential, ConnectCredentialType};
use virt::domain::Domain;
use virt::error::{ErrorDomain, ErrorNumber};

use crate::config::{DomainSelector, LibvirtConfig};
use crate::xml::DomainXml;

pub(crate) use virt::connect::Connect;

/// The hardware type's name, used as the driver in errors.
pub(crate) const DRIVER: &str = "staging-libvirt";

static SILENCE: Once = Once::new();

/// Stops libvirt from printing every error to stderr (its default handler); our
/// errors carry the message instead. Called before any connection is opened.
pub fn silence_libvirt_stderr() {
    SILENCE.call_once(virt::error::clear_error_callback);
}

// ---------------------------------------------------------------------------
// Error mapping

/// Maps a libvirt error to our kind.
pub(crate) fn kind_of(e: &virt::error::Error) -> ErrorKind {
    use ErrorNumber as N;
    let Some(code) = e.code().known() else {
        return ErrorKind::Other;
    };
    match code {
        N::NoDomain => ErrorKind::NotFound,
        N::AuthFailed | N::AuthCancelled | N::AuthUnavailable => ErrorKind::Unauthenticated,
        N::AccessDenied | N::OperationDenied => ErrorKind::PermissionDenied,
        N::NoConnect | N::InvalidConn | N::NoServer | N::Rpc | N::Ssh | N::Libssh => {
            ErrorKind::Unreachable
        }
        N::SystemError
            if e.domain().known().is_some_and(|d| {
                matches!(d, ErrorDomain::Rpc | ErrorDomain::Remote | ErrorDomain::Ssh)
            }) =>
        {
            ErrorKind::Unreachable
        }
        N::OperationTimeout | N::AgentUnresponsive | N::AgentCommandTimeout => ErrorKind::Timeout,
        N::ResourceBusy => ErrorKind::Busy,
        N::OperationFailed
            if e.message().contains("Active console session")
                || e.message().contains("console session exists") =>
        {
            ErrorKind::Busy
        }
        N::NoSupport | N::OperationUnsupported | N::ArgumentUnsupported | N::ConfigUnsupported => {
            ErrorKind::Unsupported
        }
        N::InvalidArg => ErrorKind::InvalidParameter,
        N::XmlError
        | N::XmlDetail
        | N::XmlInvalidSchema
        | N::OperationInvalid
        | N::OperationFailed
        | N::InternalError
        | N::DomExist
        | N::CallFailed => ErrorKind::DeviceFault,
        _ => ErrorKind::Other,
    }
}

/// A libvirt error as ours, with the message and the source kept.
pub(crate) fn map_err(op: &'static str, e: virt::error::Error) -> Error {
    let kind = kind_of(&e);
    Error::new(kind, format!("libvirt call failed: {}", e.message()))
        .with_driver(DRIVER)
        .with_operation(op)
        .with_source(e)
}

// ---------------------------------------------------------------------------
// Connections

type PoolKey = (String, Option<String>);
type Slot = Arc<Mutex<Option<Connect>>>;

fn pool() -> &'static Mutex<HashMap<PoolKey, Slot>> {
    static POOL: OnceLock<Mutex<HashMap<PoolKey, Slot>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(HashMap::new()))
}

fn slot(key: &PoolKey) -> Slot {
    let mut map = pool().lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.clone()).or_default().clone()
}

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
        let kind = match kind_of(&e) {
            ErrorKind::Unauthenticated | ErrorKind::PermissionDenied => kind_of(&e),
            // A node file the test driver cannot parse.
            _ if e
                .code()
                .is_any(vec![ErrorNumber::XmlError, ErrorNumber::XmlDetail]) =>
            {
                ErrorKind::InvalidParameter
            }
            // Anything else while opening means we could not reach the hypervisor.
            _ => ErrorKind::Unreachable,
        };
        Error::new(
            kind,
            format!("cannot connect to {}: {}", config.uri(), e.message()),
        )
        .with_driver(DRIVER)
        .with_operation("connect")
        .with_source(e)
    })?;
    // Remote connections: have libvirt notice a dead peer. Local drivers (test://)
    // do not support keepalive; that is fine.
    let _ = conn.set_keep_alive(5, 3);
    Ok(conn)
}

/// The shared connection for `config`, opened (or reopened when it died) as needed.
/// Blocking: call from a blocking thread.
fn connection(config: &LibvirtConfig, fresh: bool) -> Result<Connect> {
    let slot = slot(&config.pool_key());
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    if !fresh
        && let Some(conn) = guard.as_ref()
        && conn.is_alive().unwrap_or(false)
    {
        return Ok(conn.clone());
    }
    let conn = open(config)?;
    *guard = Some(conn.clone());
    Ok(conn)
}

/// Forgets every shared connection of the process (each is closed once no operation
/// holds it). Every node of every URI reconnects on its next call.
///
/// The test driver keeps its state per connection: after this, a `test:///PATH.xml`
/// node file is read afresh.
pub fn reset_connections() {
    pool().lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// Runs `f` on a blocking thread with the shared connection, within the configured
/// call timeout. A connection-level failure reopens the connection and, when
/// `retry` (the call is idempotent), tries once more.
pub(crate) async fn with_conn<T, F>(
    config: &LibvirtConfig,
    op: &'static str,
    retry: bool,
    f: F,
) -> Result<T>
where
    T: Send + 'static,
    F: Fn(&Connect) -> Result<T> + Send + Sync + 'static,
{
    let cfg = config.clone();
    let timeout = config.call_timeout();
    let task = tokio::task::spawn_blocking(move || {
        let conn = connection(&cfg, false)?;
        match f(&conn) {
            Err(e) if retry && e.kind() == ErrorKind::Unreachable => {
                tracing::debug!(error = %e, "libvirt connection lost; reopening");
                let conn = connection(&cfg, true)?;
                f(&conn)
            }
            Err(e) if e.kind() == ErrorKind::Unreachable => {
                // Reopen next time, but do not repeat a non-idempotent call.
                let _ = connection(&cfg, true);
                Err(e)
            }
            other => other,
        }
    });
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(r)) => r.map_err(|e| e.or_driver(DRIVER).or_operation(op)),
        Ok(Err(join)) => Err(Error::new(
            ErrorKind::Other,
            format!("libvirt worker thread failed: {join}"),
        )
        .with_driver(DRIVER)
        .with_operation(op)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "libvirt did not answer within {:.1}s",
                timeout.as_secs_f64()
            ),
        )
        .with_driver(DRIVER)
        .with_operation(op)),
    }
}

// ---------------------------------------------------------------------------
// Finding the domain

/// One node's domain: how to find it, and the UUID once found.
pub(crate) struct DomainRef {
    config: LibvirtConfig,
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

fn index_slot(key: &PoolKey) -> Arc<Mutex<MacIndex>> {
    static INDEXES: OnceLock<Mutex<HashMap<PoolKey, Arc<Mutex<MacIndex>>>>> = OnceLock::new();
    let mut map = INDEXES
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(key.clone()).or_default().clone()
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
pub(crate) fn find_by_macs(conn: &Connect, key: &PoolKey, macs: &[MacAddress]) -> Result<Domain> {
    let slot = index_slot(key);
    let mut index = slot.lock().unwrap_or_else(|p| p.into_inner());
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
    pub(crate) fn new(config: LibvirtConfig) -> Self {
        DomainRef {
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
            DomainSelector::Macs(macs) => find_by_macs(conn, &self.config.pool_key(), macs)?,
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
        retry: bool,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connect, &Domain) -> Result<T> + Send + Sync + 'static,
    {
        let me = Arc::clone(self);
        with_conn(&self.config, op, retry, move |conn| {
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
        let (ran_on, domains) = with_conn(&config, "count domains", true, |conn| {
            let n = conn.num_of_domains().map_err(|e| map_err("count", e))?;
            Ok((std::thread::current().id(), n))
        })
        .await
        .unwrap();
        assert!(domains >= 1);
        assert_ne!(ran_on, runtime_thread);
    }
}
