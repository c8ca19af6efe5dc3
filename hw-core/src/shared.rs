//! One client (or session) per endpoint per process, shared by every node behind it.
//!
//! A BMC allows a handful of sessions; a chassis manager a few connections; a OneView
//! appliance one login per user is plenty. So every driver shares its endpoint state
//! through a [`Shared`] map, keyed by an [`EndpointKey`]: the protocol, host, port,
//! user and a keyed fingerprint of the secret (never the secret itself), plus
//! whatever else makes two endpoints differ for that protocol.
//!
//! **Scope.** [`Shared::global`] gives one map per value type for the whole process:
//! two hardware types on one BMC (`ipmi` and `staging-nm`), or one hardware type
//! built twice, share one session. Tests and embedders that want isolation make
//! their own with [`Shared::new`] and hand it to the driver.
//!
//! **Lifetime.** A value lives while some node holds it and, after that, for the
//! map's idle TTL counted from when it was last handed out ([`DEFAULT_IDLE_TTL`] for
//! the process-wide maps, zero for [`Shared::new`] ones). So a fleet that builds and
//! drops nodes batch after batch keeps one client — one pool, one session — per
//! endpoint for the whole sweep. When the TTL has passed and no node holds it, the
//! value is dropped (closing its connections or session at once) and the next
//! [`Shared::get_or_try_insert`] builds a fresh one. [`release_idle`] and
//! [`release_all`] end the process-wide ones early (a process calls `release_all`
//! before it exits, so sessions are logged out).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// A keyed, one-way fingerprint of a secret: HMAC-SHA-256 under a random key drawn
/// once per process, cut to 128 bits. Equal secrets give equal fingerprints within
/// one process; nothing about the secret can be read back, and fingerprints differ
/// from one process to the next.
///
/// `Debug` and `Display` print the hex digits, which reveal nothing.
///
/// ```
/// use hwctl_core::shared::Fingerprint;
/// let a = Fingerprint::of("hunter2");
/// assert_eq!(a, Fingerprint::of("hunter2"));
/// assert_ne!(a, Fingerprint::of("hunter3"));
/// assert!(!format!("{a:?}").contains("hunter2"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

fn process_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        // 4 × 64 bits from the standard library's randomly keyed hasher (seeded by
        // the OS): unpredictable to anyone outside the process.
        let mut key = [0u8; 32];
        for (i, chunk) in key.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
        key
    })
}

impl Fingerprint {
    /// The fingerprint of `secret`.
    ///
    /// ```
    /// use hwctl_core::shared::Fingerprint;
    /// let fp = Fingerprint::of("hunter2");
    /// assert_eq!(fp.to_string().len(), 32); // 128 bits, as hex digits
    /// assert_eq!(fp, Fingerprint::of("hunter2"));
    /// ```
    pub fn of(secret: &str) -> Self {
        Fingerprint::of_parts(&[secret.as_bytes()])
    }

    /// The fingerprint of a [`SecretString`].
    ///
    /// ```
    /// use hwctl_core::SecretString;
    /// use hwctl_core::shared::Fingerprint;
    /// let pw = SecretString::from("hunter2");
    /// assert_eq!(Fingerprint::of_secret(&pw), Fingerprint::of("hunter2"));
    /// ```
    pub fn of_secret(secret: &SecretString) -> Self {
        Fingerprint::of(secret.expose_secret())
    }

    /// The fingerprint of several byte strings together (each length-prefixed, so
    /// `["ab", "c"]` and `["a", "bc"]` differ).
    ///
    /// ```
    /// use hwctl_core::shared::Fingerprint;
    /// let ab_c = Fingerprint::of_parts(&[b"ab", b"c"]);
    /// assert_ne!(ab_c, Fingerprint::of_parts(&[b"a", b"bc"]));
    /// assert_eq!(Fingerprint::of_parts(&[b"pw"]), Fingerprint::of("pw"));
    /// ```
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(process_key())
            .expect("HMAC accepts a key of any length");
        for p in parts {
            mac.update(&(p.len() as u64).to_le_bytes());
            mac.update(p);
        }
        let out = mac.finalize().into_bytes();
        let mut fp = [0u8; 16];
        fp.copy_from_slice(&out[..16]);
        Fingerprint(fp)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// What identifies an endpoint for sharing: protocol, host (lower-cased), port,
/// user, a [`Fingerprint`] of the secret, and protocol-specific extras (privilege
/// level, cipher suite, TLS settings, …) as ordered name/value pairs.
///
/// Holds no secret: `Debug` is safe to log.
///
/// ```
/// use hwctl_core::shared::EndpointKey;
/// let a = EndpointKey::new("ipmi", "BMC-1.lab", 623).user("admin").secret("pw").extra("privilege", "4");
/// let b = EndpointKey::new("ipmi", "bmc-1.lab", 623).user("admin").secret("pw").extra("privilege", "4");
/// assert_eq!(a, b);
/// assert_ne!(a, b.clone().secret("other"));
/// assert!(!format!("{a:?}").contains("pw\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointKey {
    protocol: &'static str,
    host: String,
    port: u16,
    user: Option<String>,
    secret: Option<Fingerprint>,
    extras: Vec<(&'static str, String)>,
}

impl EndpointKey {
    /// A key for `protocol` at `host:port` (host compared case-insensitively, IPv6
    /// brackets ignored).
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// let key = EndpointKey::new("redfish", "[FE80::1]", 443);
    /// assert_eq!((key.host(), key.port()), ("fe80::1", 443));
    /// assert_eq!(key.to_string(), "redfish://[fe80::1]:443");
    /// ```
    pub fn new(protocol: &'static str, host: &str, port: u16) -> Self {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        EndpointKey {
            protocol,
            host: host.to_ascii_lowercase(),
            port,
            user: None,
            secret: None,
            extras: Vec::new(),
        }
    }

    /// The user name (compared exactly).
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// let key = EndpointKey::new("ipmi", "bmc-1", 623).user("admin");
    /// assert_eq!(key.to_string(), "ipmi://admin@bmc-1:623");
    /// assert_ne!(key, EndpointKey::new("ipmi", "bmc-1", 623).user("Admin"));
    /// ```
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The secret, kept only as a [`Fingerprint`].
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// let key = EndpointKey::new("ipmi", "bmc-1", 623).secret("pw1");
    /// assert_ne!(key, EndpointKey::new("ipmi", "bmc-1", 623).secret("pw2"));
    /// assert!(!format!("{key:?}").contains("pw1"));
    /// ```
    pub fn secret(mut self, secret: &str) -> Self {
        self.secret = Some(Fingerprint::of(secret));
        self
    }

    /// The secret of a [`SecretString`], kept only as a [`Fingerprint`].
    ///
    /// ```
    /// use hwctl_core::SecretString;
    /// use hwctl_core::shared::EndpointKey;
    /// let pw = SecretString::from("pw1");
    /// let key = EndpointKey::new("ipmi", "bmc-1", 623).secret_string(&pw);
    /// assert_eq!(key, EndpointKey::new("ipmi", "bmc-1", 623).secret("pw1"));
    /// ```
    pub fn secret_string(self, secret: &SecretString) -> Self {
        self.secret(secret.expose_secret())
    }

    /// A protocol-specific part of the identity (never a secret: fingerprint those).
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// let base = EndpointKey::new("ipmi", "bmc-1", 623).user("admin");
    /// let operator = base.clone().extra("privilege", 3);
    /// assert_ne!(operator, base.clone().extra("privilege", 4));
    /// assert_eq!(operator, base.extra("privilege", "3")); // compared as text
    /// ```
    pub fn extra(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.extras.push((name, value.to_string()));
        self
    }

    /// The protocol.
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// assert_eq!(EndpointKey::new("ocs", "cm-1", 8000).protocol(), "ocs");
    /// ```
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// The host, lower-cased, without brackets.
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// assert_eq!(EndpointKey::new("ocs", "CM-1.Lab", 8000).host(), "cm-1.lab");
    /// assert_eq!(EndpointKey::new("ocs", "[::1]", 8000).host(), "::1");
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    ///
    /// ```
    /// use hwctl_core::shared::EndpointKey;
    /// assert_eq!(EndpointKey::new("ocs", "cm-1", 8000).port(), 8000);
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Hashes the protocol, host, port and user only: equal keys agree on those, so
/// the hash stays consistent with `Eq`, and keys that differ only in their
/// secret or extras (one endpoint with other settings, rare) share a bucket and
/// are told apart by `Eq`. Hashing every extra cost a lookup ~4k instructions,
/// once per node of a sweep (issue 16).
impl std::hash::Hash for EndpointKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.protocol.hash(state);
        self.host.hash(state);
        self.port.hash(state);
        self.user.hash(state);
    }
}

impl fmt::Display for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.protocol)?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// How long a process-wide ([`Shared::global`]) map keeps a value after it was last
/// handed out, unless [`set_default_idle_ttl`] says otherwise: 60 s, the idle time
/// of hwctl-http's pooled connections.
pub const DEFAULT_IDLE_TTL: Duration = Duration::from_secs(60);

/// The idle TTL, in milliseconds, of the process-wide maps made from now on.
static GLOBAL_TTL_MS: AtomicU64 = AtomicU64::new(DEFAULT_IDLE_TTL.as_millis() as u64);

/// Sets the idle TTL of every process-wide map ([`Shared::global`]), those that
/// exist and those made later. `Duration::ZERO` gives back the release-with-the-last-
/// user behaviour.
///
/// ```
/// use std::time::Duration;
/// use hwctl_core::shared::{self, Shared, DEFAULT_IDLE_TTL};
/// let map = Shared::<u32>::global();
/// shared::set_default_idle_ttl(Duration::from_secs(5));
/// assert_eq!(map.idle_ttl(), Duration::from_secs(5)); // existing maps follow
/// shared::set_default_idle_ttl(DEFAULT_IDLE_TTL);
/// assert_eq!(Shared::<u32>::global().idle_ttl(), Duration::from_secs(60));
/// ```
pub fn set_default_idle_ttl(ttl: Duration) {
    GLOBAL_TTL_MS.store(
        u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    for map in global_maps() {
        map.set_ttl(ttl);
    }
}

/// Drops, in every process-wide map, the values no user holds now, whatever their
/// idle TTL (their connections and sessions close at once). Values some node still
/// holds stay. Returns how many were dropped.
///
/// A fleet sweep calls it when it is done with a set of endpoints; a process calls
/// [`release_all`] before it exits.
///
/// ```
/// use hwctl_core::shared::{self, EndpointKey, Shared};
/// struct Client;
/// let key = EndpointKey::new("demo", "10.0.0.1", 80);
/// let held = Shared::<Client>::global().get_or_try_insert(&key, || Ok(Client))?;
/// let idle = EndpointKey::new("demo", "10.0.0.2", 80);
/// drop(Shared::<Client>::global().get_or_try_insert(&idle, || Ok(Client))?);
/// assert_eq!(Shared::<Client>::global().len(), 2); // the idle one kept for its TTL
/// assert_eq!(shared::release_idle(), 1);
/// assert_eq!(Shared::<Client>::global().keys(), vec![key]); // the held one stays
/// # drop(held);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn release_idle() -> usize {
    global_maps().iter().map(|m| m.release_idle()).sum()
}

/// Forgets every value of every process-wide map: each is dropped (closing its
/// connections and logging its session out) as soon as no node holds it. Call it,
/// inside the async runtime, before the process exits.
///
/// ```
/// use hwctl_core::shared::{self, EndpointKey, Shared};
/// struct Session;
/// let key = EndpointKey::new("demo", "10.0.0.1", 80);
/// let held = Shared::<Session>::global().get_or_try_insert(&key, || Ok(Session))?;
/// shared::release_all();
/// assert_eq!(Shared::<Session>::global().len(), 1); // still held by a node
/// drop(held);
/// assert!(Shared::<Session>::global().is_empty()); // dropped with its last user
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn release_all() {
    for map in global_maps() {
        map.clear_all();
    }
}

/// The type-erased face of a process-wide map, for [`release_idle`] and friends.
trait AnyShared: Any + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn release_idle(&self) -> usize;
    fn clear_all(&self);
    fn set_ttl(&self, ttl: Duration);
    fn clone_box(&self) -> Box<dyn AnyShared>;
}

impl<T: Send + Sync + 'static> AnyShared for Shared<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn release_idle(&self) -> usize {
        self.evict_idle()
    }
    fn clear_all(&self) {
        self.clear();
    }
    fn set_ttl(&self, ttl: Duration) {
        self.set_idle_ttl(ttl);
    }
    fn clone_box(&self) -> Box<dyn AnyShared> {
        Box::new(self.clone())
    }
}

type Maps = Mutex<HashMap<TypeId, Box<dyn AnyShared>>>;

fn maps() -> &'static Maps {
    static MAPS: OnceLock<Maps> = OnceLock::new();
    MAPS.get_or_init(Default::default)
}

/// Handles to every process-wide map (taken under the registry lock, used after it).
fn global_maps() -> Vec<Box<dyn AnyShared>> {
    let maps = maps().lock().unwrap_or_else(|p| p.into_inner());
    maps.values().map(|m| m.clone_box()).collect()
}

/// One endpoint's entry: the value, weakly, and a strong `keep` reference until
/// `deadline` (the idle TTL after the value was last handed out).
struct Entry<T> {
    weak: Weak<T>,
    keep: Option<(Arc<T>, Instant)>,
}

struct Inner<T> {
    map: Mutex<HashMap<EndpointKey, Entry<T>>>,
    /// The idle TTL in milliseconds.
    ttl_ms: AtomicU64,
    /// Whether a sweeper task is running for this map.
    sweeping: AtomicBool,
}

/// A map from [`EndpointKey`] to a shared value (a client, a session, a lock): one
/// per endpoint, alive while some node holds it **and** for an idle TTL after it was
/// last handed out.
///
/// **Lifetime.** Every [`get_or_try_insert`](Self::get_or_try_insert) and
/// [`get`](Self::get) that returns a value keeps a strong reference to it for the
/// map's idle TTL from then on. So the nodes of a sweep may come and go, built and
/// dropped one by one or in batches, and still share one client (one connection
/// pool, one session) for the whole sweep; the value is dropped — closing its
/// connections or its session at once — when no node holds it and it has not been
/// handed out for the TTL. Expired references are dropped lazily on every access
/// and, inside a tokio runtime, by a sweeper task of the map that runs while some
/// reference is kept. [`evict_idle`](Self::evict_idle) and [`clear`](Self::clear)
/// release values at once.
///
/// [`Shared::new`] maps start with a TTL of zero (a value lives exactly as long as
/// some user holds it); [`Shared::global`] maps with [`DEFAULT_IDLE_TTL`] (see
/// [`set_default_idle_ttl`]).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use hwctl_core::shared::{EndpointKey, Shared};
/// let clients: Shared<String> = Shared::new();
/// let key = EndpointKey::new("demo", "10.0.0.1", 80).user("u").secret("pw");
/// let a = clients.get_or_try_insert(&key, || Ok("client".to_owned()))?;
/// let b = clients.get_or_try_insert(&key, || Ok("another".to_owned()))?;
/// assert!(Arc::ptr_eq(&a, &b));
/// assert_eq!(clients.len(), 1);
/// drop((a, b));
/// assert_eq!(clients.len(), 0); // TTL zero: released with its last user
///
/// // With an idle TTL the value outlives its users for that long.
/// let pools: Shared<String> = Shared::with_idle_ttl(Duration::from_secs(60));
/// let a = pools.get_or_try_insert(&key, || Ok("pool".to_owned()))?;
/// drop(a);
/// assert_eq!(pools.len(), 1);
/// assert_eq!(pools.in_use(), 0);
/// assert_eq!(pools.evict_idle(), 1); // at once, whatever the TTL
/// assert!(pools.is_empty());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub struct Shared<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared::with_idle_ttl(Duration::ZERO)
    }
}

impl<T> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("type", &std::any::type_name::<T>())
            .field("alive", &self.len())
            .field("idle_ttl", &self.idle_ttl())
            .finish()
    }
}

impl<T: Send + Sync + 'static> Shared<T> {
    /// The process-wide map for values of type `T` (one per type): what drivers use
    /// unless given another. Its idle TTL is [`DEFAULT_IDLE_TTL`] unless
    /// [`set_default_idle_ttl`] changed it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::shared::{EndpointKey, Shared, DEFAULT_IDLE_TTL};
    /// struct Client(u8);
    /// let key = EndpointKey::new("demo", "10.0.0.1", 80);
    /// let a = Shared::<Client>::global().get_or_try_insert(&key, || Ok(Client(1)))?;
    /// // Another driver in the same process, same endpoint: the same client.
    /// let b = Shared::<Client>::global().get_or_try_insert(&key, || Ok(Client(2)))?;
    /// assert!(Arc::ptr_eq(&a, &b));
    /// assert_eq!(b.0, 1);
    /// assert_eq!(Shared::<Client>::global().idle_ttl(), DEFAULT_IDLE_TTL);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn global() -> Shared<T> {
        let mut maps = maps().lock().unwrap_or_else(|p| p.into_inner());
        let entry = maps.entry(TypeId::of::<T>()).or_insert_with(|| {
            Box::new(Shared::<T>::with_idle_ttl(Duration::from_millis(
                GLOBAL_TTL_MS.load(Ordering::Relaxed),
            )))
        });
        match entry.as_any().downcast_ref::<Shared<T>>() {
            Some(s) => s.clone(),
            // Unreachable: the entry for TypeId::of::<T>() is always a Shared<T>.
            None => Shared::new(),
        }
    }

    /// Starts the map's sweeper on the current tokio runtime, if there is one and no
    /// sweeper runs: it drops expired references while some are kept, then ends.
    fn start_sweeper(&self) {
        if self.idle_ttl().is_zero() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Clears the flag when the task ends or its runtime drops it.
        struct Running<T>(Weak<Inner<T>>);
        impl<T> Drop for Running<T> {
            fn drop(&mut self) {
                if let Some(inner) = self.0.upgrade() {
                    inner.sweeping.store(false, Ordering::Release);
                }
            }
        }
        let running = Running(Arc::downgrade(&self.inner));
        rt.spawn(async move {
            let running = running;
            loop {
                let next = {
                    let Some(inner) = running.0.upgrade() else {
                        return;
                    };
                    let map = Shared { inner };
                    map.sweep();
                    map.next_deadline()
                };
                let Some(next) = next else {
                    return;
                };
                tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
            }
        });
    }
}

impl<T> Shared<T> {
    /// An empty map of its own (for tests and embedders that want isolation), with
    /// an idle TTL of zero: a value lives exactly as long as some user holds it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::Shared;
    /// let map: Shared<String> = Shared::new();
    /// assert!(map.is_empty());
    /// assert_eq!(map.idle_ttl(), Duration::ZERO);
    /// ```
    pub fn new() -> Self {
        Shared::default()
    }

    /// An empty map of its own whose values outlive their last user by `ttl` after
    /// they were last handed out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(30));
    /// let key = EndpointKey::new("demo", "h", 1);
    /// drop(map.get_or_try_insert(&key, || Ok(7))?);
    /// assert_eq!(map.get(&key).as_deref(), Some(&7)); // kept after its user left
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_idle_ttl(ttl: Duration) -> Self {
        Shared {
            inner: Arc::new(Inner {
                map: Mutex::new(HashMap::new()),
                ttl_ms: AtomicU64::new(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
                sweeping: AtomicBool::new(false),
            }),
        }
    }

    /// The idle TTL (millisecond resolution).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::Shared;
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_micros(2_500));
    /// assert_eq!(map.idle_ttl(), Duration::from_millis(2)); // whole milliseconds
    /// ```
    pub fn idle_ttl(&self) -> Duration {
        Duration::from_millis(self.inner.ttl_ms.load(Ordering::Relaxed))
    }

    /// Changes the idle TTL for values handed out from now on (references kept now
    /// keep their deadline; zero drops them at the next access).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(60));
    /// let key = EndpointKey::new("demo", "h", 1);
    /// drop(map.get_or_try_insert(&key, || Ok(1))?);
    /// assert_eq!(map.len(), 1);
    /// map.set_idle_ttl(Duration::ZERO); // drops what no user holds
    /// assert_eq!(map.len(), 0);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn set_idle_ttl(&self, ttl: Duration) {
        self.inner.ttl_ms.store(
            u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if ttl.is_zero() {
            let dropped: Vec<_> = self
                .lock()
                .values_mut()
                .filter_map(|e| e.keep.take())
                .collect();
            drop(dropped);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointKey, Entry<T>>> {
        self.inner.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the expired `keep` references and the dead entries; returns the
    /// references to drop once the lock is released (a value's drop may do work).
    fn expire(map: &mut HashMap<EndpointKey, Entry<T>>, now: Instant) -> Vec<Arc<T>> {
        let mut dropped = Vec::new();
        for e in map.values_mut() {
            if e.keep
                .as_ref()
                .is_some_and(|(_, deadline)| *deadline <= now)
                && let Some((v, _)) = e.keep.take()
            {
                dropped.push(v);
            }
        }
        map.retain(|_, e| e.keep.is_some() || e.weak.strong_count() > 0);
        dropped
    }

    /// Drops the references whose idle TTL has passed.
    fn sweep(&self) {
        let dropped = Self::expire(&mut self.lock(), Instant::now());
        if !dropped.is_empty() {
            drop(dropped);
            self.lock()
                .retain(|_, e| e.keep.is_some() || e.weak.strong_count() > 0);
        }
    }

    /// The earliest deadline of a kept reference.
    fn next_deadline(&self) -> Option<Instant> {
        self.lock()
            .values()
            .filter_map(|e| e.keep.as_ref().map(|(_, d)| *d))
            .min()
    }

    /// Notes that `v` was handed out now: keeps it for the TTL.
    fn touch(&self, entry: &mut Entry<T>, v: &Arc<T>, now: Instant) {
        let ttl = self.idle_ttl();
        if !ttl.is_zero() {
            entry.keep = Some((v.clone(), now + ttl));
        }
    }

    /// The live value for `key`, or the one `make` builds (then shared).
    ///
    /// `make` runs under the map's lock: it must not block or do I/O (build the
    /// client; connect on first use).
    ///
    /// # Errors
    ///
    /// Whatever `make` returns; nothing is inserted then.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<String> = Shared::new();
    /// let key = EndpointKey::new("demo", "h", 1);
    /// let err = map.get_or_try_insert(&key, || Err(Error::protocol("bad URL"))).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Protocol);
    /// assert!(map.is_empty()); // a failed build leaves nothing behind
    /// let client = map.get_or_try_insert(&key, || Ok("client".to_owned()))?;
    /// assert_eq!(client.as_str(), "client");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get_or_try_insert(
        &self,
        key: &EndpointKey,
        make: impl FnOnce() -> crate::Result<T>,
    ) -> crate::Result<Arc<T>>
    where
        T: Send + Sync + 'static,
    {
        self.get_or_try_insert_arc(key, || make().map(Arc::new))
    }

    /// As [`get_or_try_insert`](Self::get_or_try_insert), for a value that is
    /// already an `Arc` (so the caller can keep extra handles, such as a `Weak`).
    ///
    /// # Errors
    ///
    /// Whatever `make` returns; nothing is inserted then.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<String> = Shared::new();
    /// let key = EndpointKey::new("demo", "h", 1);
    /// let mut weak = Weak::new();
    /// let v = map.get_or_try_insert_arc(&key, || {
    ///     let v = Arc::new("session".to_owned());
    ///     weak = Arc::downgrade(&v);
    ///     Ok(v)
    /// })?;
    /// assert!(Arc::ptr_eq(&v, &weak.upgrade().unwrap()));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get_or_try_insert_arc(
        &self,
        key: &EndpointKey,
        make: impl FnOnce() -> crate::Result<Arc<T>>,
    ) -> crate::Result<Arc<T>>
    where
        T: Send + Sync + 'static,
    {
        self.sweep();
        let now = Instant::now();
        let v = {
            let mut map = self.lock();
            if let Some(e) = map.get_mut(key)
                && let Some(v) = e.weak.upgrade()
            {
                self.touch(e, &v, now);
                v
            } else {
                let v = make()?;
                let mut e = Entry {
                    weak: Arc::downgrade(&v),
                    keep: None,
                };
                self.touch(&mut e, &v, now);
                map.insert(key.clone(), e);
                v
            }
        };
        self.start_sweeper();
        Ok(v)
    }

    /// The live value for `key`, if any (handing it out keeps it for the TTL).
    ///
    /// ```
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::new();
    /// let key = EndpointKey::new("demo", "h", 1);
    /// assert!(map.get(&key).is_none());
    /// let held = map.get_or_try_insert(&key, || Ok(5))?;
    /// assert_eq!(map.get(&key).as_deref(), Some(&5));
    /// # drop(held);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get(&self, key: &EndpointKey) -> Option<Arc<T>> {
        self.sweep();
        let now = Instant::now();
        self.lock().get_mut(key).and_then(|e| {
            let v = e.weak.upgrade()?;
            self.touch(e, &v, now);
            Some(v)
        })
    }

    /// How many endpoints have a live value (in use, or kept for their idle TTL).
    ///
    /// ```
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::new();
    /// let a = map.get_or_try_insert(&EndpointKey::new("demo", "a", 1), || Ok(1))?;
    /// let b = map.get_or_try_insert(&EndpointKey::new("demo", "b", 1), || Ok(2))?;
    /// assert_eq!(map.len(), 2);
    /// drop(a);
    /// assert_eq!(map.len(), 1);
    /// # drop(b);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.sweep();
        self.lock()
            .values()
            .filter(|e| e.weak.strong_count() > 0)
            .count()
    }

    /// Whether no endpoint has a live value.
    ///
    /// ```
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::new();
    /// let v = map.get_or_try_insert(&EndpointKey::new("demo", "a", 1), || Ok(1))?;
    /// assert!(!map.is_empty());
    /// drop(v);
    /// assert!(map.is_empty());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many endpoints have a value some user (not only this map) holds now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(60));
    /// let v = map.get_or_try_insert(&EndpointKey::new("demo", "a", 1), || Ok(1))?;
    /// assert_eq!((map.len(), map.in_use()), (1, 1));
    /// drop(v);
    /// assert_eq!((map.len(), map.in_use()), (1, 0)); // alive, kept by the map only
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn in_use(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| e.weak.strong_count() > usize::from(e.keep.is_some()))
            .count()
    }

    /// Drops now the values no user holds, whatever their TTL (closing their
    /// connections or sessions); values in use stay. Returns how many were dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(60));
    /// let held = map.get_or_try_insert(&EndpointKey::new("demo", "a", 1), || Ok(1))?;
    /// drop(map.get_or_try_insert(&EndpointKey::new("demo", "b", 1), || Ok(2))?);
    /// assert_eq!(map.evict_idle(), 1);
    /// assert_eq!(map.len(), 1);
    /// # drop(held);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn evict_idle(&self) -> usize {
        let mut dropped = Vec::new();
        {
            let mut map = self.lock();
            for e in map.values_mut() {
                if e.weak.strong_count() <= 1
                    && let Some((v, _)) = e.keep.take()
                {
                    dropped.push(v);
                }
            }
        }
        // Count only what this drop really releases (a user may have upgraded since).
        let n = dropped.iter().filter(|v| Arc::strong_count(v) == 1).count();
        drop(dropped);
        self.lock()
            .retain(|_, e| e.keep.is_some() || e.weak.strong_count() > 0);
        n
    }

    /// Forgets every kept reference: each value is dropped as soon as no user holds
    /// it (at once for the idle ones).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(60));
    /// let held = map.get_or_try_insert(&EndpointKey::new("demo", "a", 1), || Ok(1))?;
    /// drop(map.get_or_try_insert(&EndpointKey::new("demo", "b", 1), || Ok(2))?);
    /// map.clear();
    /// assert_eq!(map.len(), 1); // "a" lives on with its user
    /// drop(held);
    /// assert!(map.is_empty()); // and goes with it, TTL or not
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn clear(&self) {
        let dropped: Vec<_> = self
            .lock()
            .values_mut()
            .filter_map(|e| e.keep.take())
            .collect();
        drop(dropped);
        self.lock().retain(|_, e| e.weak.strong_count() > 0);
    }

    /// The keys of the endpoints with a live value (no secrets in them).
    ///
    /// ```
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::new();
    /// let key = EndpointKey::new("ipmi", "bmc-1", 623).user("admin").secret("pw");
    /// let held = map.get_or_try_insert(&key, || Ok(1))?;
    /// let keys = map.keys();
    /// assert_eq!(keys, vec![key]);
    /// assert_eq!(keys[0].to_string(), "ipmi://admin@bmc-1:623");
    /// # drop(held);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn keys(&self) -> Vec<EndpointKey> {
        self.sweep();
        self.lock()
            .iter()
            .filter(|(_, e)| e.weak.strong_count() > 0)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_global_map_is_one_per_type() {
        #[derive(Debug)]
        struct A;
        let key = EndpointKey::new("t", "h", 1);
        let a = Shared::<A>::global()
            .get_or_try_insert(&key, || Ok(A))
            .unwrap();
        let b = Shared::<A>::global().get(&key).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(Shared::<String>::global().get(&key).is_none());
    }

    #[test]
    fn a_failed_make_inserts_nothing() {
        let s: Shared<u8> = Shared::new();
        let key = EndpointKey::new("t", "h", 1);
        assert!(
            s.get_or_try_insert(&key, || Err(crate::Error::protocol("x")))
                .is_err()
        );
        assert!(s.is_empty());
    }

    #[test]
    fn a_value_outlives_its_users_for_the_idle_ttl_then_goes() {
        let s: Shared<u8> = Shared::with_idle_ttl(Duration::from_millis(30));
        let key = EndpointKey::new("t", "h", 1);
        let a = s.get_or_try_insert(&key, || Ok(1)).unwrap();
        let weak = Arc::downgrade(&a);
        drop(a);
        // A batch later: still the same value (kept by the map, not by a user).
        let b = s.get_or_try_insert(&key, || Ok(2)).unwrap();
        assert_eq!(*b, 1);
        drop(b);
        assert_eq!((s.len(), s.in_use()), (1, 0));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(s.len(), 0, "expired after the TTL");
        assert!(weak.upgrade().is_none(), "dropped, not only forgotten");
        assert_eq!(*s.get_or_try_insert(&key, || Ok(3)).unwrap(), 3);
    }

    #[test]
    fn evicting_drops_idle_values_at_once_and_keeps_those_in_use() {
        let s: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(3600));
        let (k1, k2) = (EndpointKey::new("t", "a", 1), EndpointKey::new("t", "b", 1));
        let used = s.get_or_try_insert(&k1, || Ok(1)).unwrap();
        let idle = Arc::downgrade(&s.get_or_try_insert(&k2, || Ok(2)).unwrap());
        assert_eq!(s.evict_idle(), 1);
        assert!(idle.upgrade().is_none());
        assert!(Arc::ptr_eq(&used, &s.get(&k1).unwrap()));
        s.clear();
        assert_eq!(s.len(), 1, "in use: alive until its user drops it");
        drop(used);
        assert!(s.is_empty());
    }

    #[test]
    fn extras_and_users_separate_endpoints() {
        let base = EndpointKey::new("ipmi", "h", 623).user("a").secret("p");
        assert_ne!(base.clone().extra("priv", 4), base.clone().extra("priv", 3));
        assert_ne!(
            base.clone(),
            EndpointKey::new("ipmi", "h", 623).user("b").secret("p")
        );
        assert_eq!(
            EndpointKey::new("ipmi", "[::1]", 623),
            EndpointKey::new("ipmi", "::1", 623)
        );
    }
}
