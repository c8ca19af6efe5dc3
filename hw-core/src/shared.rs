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
#[derive(Clone, Eq)]
pub struct EndpointKey {
    protocol: &'static str,
    host: String,
    port: u16,
    user: Option<String>,
    secret: Option<Fingerprint>,
    extras: Vec<(&'static str, String)>,
    /// The hash of protocol, host, port and user ([`EndpointKey::prehash`]),
    /// computed at the first lookup; reset by every change of those fields.
    prehash: OnceLock<u64>,
}

/// As derived before the cached hash was added (the hash is not shown).
impl fmt::Debug for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointKey")
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("secret", &self.secret)
            .field("extras", &self.extras)
            .finish()
    }
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
            prehash: OnceLock::new(),
        }
    }

    /// SipHash (the standard library's, keyed at random once per process) of
    /// the protocol, host, port and user, computed once per key: what
    /// [`Hash`](std::hash::Hash) feeds a hasher, so a map hashes one word per
    /// lookup instead of the strings (issue 16: a sweep renews its client's
    /// entry once per node).
    fn prehash(&self) -> u64 {
        static STATE: OnceLock<std::hash::RandomState> = OnceLock::new();
        *self.prehash.get_or_init(|| {
            use std::hash::BuildHasher as _;
            STATE.get_or_init(std::hash::RandomState::new).hash_one((
                self.protocol,
                &self.host,
                self.port,
                &self.user,
            ))
        })
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
        self.prehash = OnceLock::new();
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

/// Field by field, after a pointer check: a key compared with itself (a caller
/// handing back the `Arc` the map holds) is equal without reading its strings.
impl PartialEq for EndpointKey {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
            || (self.protocol == other.protocol
                && self.port == other.port
                && self.host == other.host
                && self.user == other.user
                && self.secret == other.secret
                && self.extras == other.extras)
    }
}

/// Hashes the protocol, host, port and user only: equal keys agree on those, so
/// the hash stays consistent with `Eq`, and keys that differ only in their
/// secret or extras (one endpoint with other settings, rare) share a bucket and
/// are told apart by `Eq`. Hashing every extra cost a lookup ~4k instructions,
/// once per node of a sweep (issue 16). What is fed to the hasher is one word,
/// the key's own randomly keyed SipHash of those fields, computed once per key.
impl std::hash::Hash for EndpointKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.prehash());
    }
}

/// A hasher for keys that already are a randomly keyed hash: the maps keyed by
/// [`EndpointKey`] (its cached word, a SipHash under a key
/// drawn once per process, so no more predictable than the standard map's
/// hash), a [`TypeId`], or a driver's own `u64` hash of values (hw-ocs's known
/// endpoints). A `u64` written is the hash; any other bytes written are folded
/// in one by one (not done by these keys).
///
/// ```
/// use std::collections::HashMap;
/// use std::hash::{BuildHasher, RandomState};
/// use hwctl_core::shared::Prehashed;
/// let slot = RandomState::new().hash_one("bmc-7:623");
/// let mut map: HashMap<u64, &str, Prehashed> = HashMap::default();
/// map.insert(slot, "session");
/// assert_eq!(map.get(&slot), Some(&"session"));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct PrehashedHasher(u64);

impl std::hash::Hasher for PrehashedHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The map hasher built from [`PrehashedHasher`]: `HashMap<K, V, Prehashed>` for
/// keys that are already a randomly keyed hash.
pub type Prehashed = std::hash::BuildHasherDefault<PrehashedHasher>;

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

/// By type: a `TypeId` is written as one word that is already a hash of the
/// type, chosen by the compiler (nothing outside the process picks it), so
/// it is the hash ([`PrehashedHasher`]); a driver asks for its map once per node.
type Maps = Mutex<HashMap<TypeId, Box<dyn AnyShared>, Prehashed>>;

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

/// The entries, and what lets an access skip visiting them (issue 16: a sweep
/// of thousands of endpoints made every access visit every entry).
struct Slots<T> {
    entries: HashMap<Arc<EndpointKey>, Entry<T>, Prehashed>,
    /// No kept reference expires before this: a lower bound of the earliest
    /// deadline (exact after a visit of all; every deadline set since is
    /// folded in with `min`). `None` when no reference is kept. An access
    /// before it visits no entry.
    no_expiry_before: Option<Instant>,
    /// How many entries the last visit of all left: an insertion that makes
    /// the map more than twice as big (plus 16) forgets the dead entries
    /// (a value no one holds and the map no longer keeps), so dead keys cost
    /// an amortised constant per insertion instead of a visit per access.
    live_after_visit: usize,
    /// Entries visited, for the tests that bound it.
    #[cfg(test)]
    visited: usize,
}

impl<T> Slots<T> {
    /// Takes every kept reference whose deadline has passed (to drop once the
    /// lock is released: a value's drop may do work), forgets the dead entries,
    /// and notes the earliest deadline left. Visits every entry.
    fn expire_all(&mut self, now: Instant) -> Vec<Arc<T>> {
        let mut dropped = Vec::new();
        let mut earliest: Option<Instant> = None;
        #[cfg(test)]
        {
            self.visited += self.entries.len();
        }
        self.entries.retain(|_, e| {
            match &e.keep {
                Some((_, deadline)) if *deadline <= now => {
                    if let Some((v, _)) = e.keep.take() {
                        dropped.push(v);
                    }
                }
                Some((_, deadline)) => {
                    earliest = Some(earliest.map_or(*deadline, |d| d.min(*deadline)));
                }
                None => {}
            }
            e.keep.is_some() || e.weak.strong_count() > 0
        });
        self.no_expiry_before = earliest;
        self.live_after_visit = self.entries.len();
        dropped
    }

    /// As [`expire_all`](Self::expire_all) when some kept reference may have
    /// expired by `now`; otherwise nothing (no entry visited).
    fn expire_due(&mut self, now: Instant) -> Vec<Arc<T>> {
        match self.no_expiry_before {
            Some(t) if t <= now => self.expire_all(now),
            _ => Vec::new(),
        }
    }

    /// Forgets the entries whose value is gone (visits every entry).
    fn forget_dead(&mut self) {
        #[cfg(test)]
        {
            self.visited += self.entries.len();
        }
        self.entries
            .retain(|_, e| e.keep.is_some() || e.weak.strong_count() > 0);
        self.live_after_visit = self.entries.len();
    }
}

struct Inner<T> {
    map: Mutex<Slots<T>>,
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
/// **Cost.** A [`get`](Self::get), [`get_or_try_insert`](Self::get_or_try_insert) or
/// [`renew`](Self::renew) is one hash lookup: the map remembers a time before
/// which no kept reference expires and visits its entries only once that time
/// has passed (then all of them, once, expiring every reference due), or when
/// an insertion has doubled it since the last visit (forgetting the endpoints
/// whose value is gone). So a sweep over N endpoints costs O(N) lookups, not
/// O(N) visits per lookup (issue 16). [`len`](Self::len), [`keys`](Self::keys),
/// [`evict_idle`](Self::evict_idle) and [`clear`](Self::clear) visit every entry.
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
                map: Mutex::new(Slots {
                    entries: HashMap::default(),
                    no_expiry_before: None,
                    live_after_visit: 0,
                    #[cfg(test)]
                    visited: 0,
                }),
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
            let dropped: Vec<_> = {
                let mut slots = self.lock();
                slots.no_expiry_before = None;
                slots
                    .entries
                    .values_mut()
                    .filter_map(|e| e.keep.take())
                    .collect()
            };
            drop(dropped);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots<T>> {
        self.inner.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the references whose idle TTL has passed, with every entry visited.
    fn sweep(&self) {
        let dropped = self.lock().expire_all(Instant::now());
        self.drop_expired(dropped);
    }

    /// Drops `dropped` (outside the lock), then forgets the entries it left dead.
    fn drop_expired(&self, dropped: Vec<Arc<T>>) {
        if !dropped.is_empty() {
            drop(dropped);
            self.lock().forget_dead();
        }
    }

    /// No kept reference expires before this (`None`: none is kept).
    fn next_deadline(&self) -> Option<Instant> {
        self.lock().no_expiry_before
    }

    /// Notes that `v` was handed out `now`: keeps it for the TTL.
    fn touch(
        &self,
        slots_deadline: &mut Option<Instant>,
        entry: &mut Entry<T>,
        v: &Arc<T>,
        now: Instant,
    ) {
        let ttl = self.idle_ttl();
        if !ttl.is_zero() {
            let deadline = now + ttl;
            entry.keep = Some((v.clone(), deadline));
            *slots_deadline = Some(slots_deadline.map_or(deadline, |d| d.min(deadline)));
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
        self.get_or_insert_in(key, || Arc::new(key.clone()), || make().map(Arc::new))
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
        self.get_or_insert_in(key, || Arc::new(key.clone()), make)
    }

    /// As [`get_or_try_insert_arc`](Self::get_or_try_insert_arc), with the key
    /// kept as the map's own when `make` runs: the caller can hand the same
    /// `Arc` to [`renew`](Self::renew) later, and that lookup compares no
    /// string (the key is compared by address first).
    ///
    /// # Errors
    ///
    /// Whatever `make` returns; nothing is inserted then.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<String> = Shared::new();
    /// let key = Arc::new(EndpointKey::new("demo", "h", 1));
    /// let v = map.get_or_try_insert_keyed(&key, || Ok(Arc::new("client".to_owned())))?;
    /// assert!(map.renew(&key, &v));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get_or_try_insert_keyed(
        &self,
        key: &Arc<EndpointKey>,
        make: impl FnOnce() -> crate::Result<Arc<T>>,
    ) -> crate::Result<Arc<T>>
    where
        T: Send + Sync + 'static,
    {
        self.get_or_insert_in(key, || Arc::clone(key), make)
    }

    /// The live value for `key` (its deadline moved), or the one `make` builds,
    /// inserted under the key `stored` gives. Visits no entry unless a kept
    /// reference may have expired (then all, once) or the map has doubled since
    /// the last visit (then all, once: amortised over the insertions).
    fn get_or_insert_in(
        &self,
        key: &EndpointKey,
        stored: impl FnOnce() -> Arc<EndpointKey>,
        make: impl FnOnce() -> crate::Result<Arc<T>>,
    ) -> crate::Result<Arc<T>>
    where
        T: Send + Sync + 'static,
    {
        let (v, dropped) = {
            let mut guard = self.lock();
            let slots = &mut *guard;
            let now = Instant::now();
            let dropped = slots.expire_due(now);
            let v = if let Some(e) = slots.entries.get_mut(key)
                && let Some(v) = e.weak.upgrade()
            {
                self.touch(&mut slots.no_expiry_before, e, &v, now);
                v
            } else {
                let v = make()?;
                let mut e = Entry {
                    weak: Arc::downgrade(&v),
                    keep: None,
                };
                self.touch(&mut slots.no_expiry_before, &mut e, &v, now);
                if slots.entries.insert(stored(), e).is_none()
                    && slots.entries.len() > 2 * slots.live_after_visit + 16
                {
                    slots.forget_dead();
                }
                v
            };
            (v, dropped)
        };
        self.drop_expired(dropped);
        self.start_sweeper();
        Ok(v)
    }

    /// Hands `value` out again if it is the live value for `key`: its idle TTL
    /// counts from now, as if [`get`](Self::get) had returned it. `false` (and
    /// nothing changed) when the map holds another value for `key`, or none.
    ///
    /// For a caller that keeps the value and its key (as `Arc`s, from
    /// [`get_or_try_insert_keyed`](Self::get_or_try_insert_keyed)) and would
    /// otherwise rebuild the key to look it up.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use hwctl_core::shared::{EndpointKey, Shared};
    /// let map: Shared<u8> = Shared::with_idle_ttl(Duration::from_secs(60));
    /// let key = Arc::new(EndpointKey::new("demo", "h", 1));
    /// let v = map.get_or_try_insert_keyed(&key, || Ok(Arc::new(1)))?;
    /// assert!(map.renew(&key, &v));
    /// assert!(!map.renew(&key, &Arc::new(1))); // an equal value, not the one held
    /// map.clear();
    /// drop(v);
    /// assert!(map.is_empty());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn renew(&self, key: &EndpointKey, value: &Arc<T>) -> bool {
        let dropped;
        let renewed = {
            let mut guard = self.lock();
            let slots = &mut *guard;
            let now = Instant::now();
            dropped = slots.expire_due(now);
            match slots.entries.get_mut(key) {
                Some(e) if std::ptr::eq(e.weak.as_ptr(), Arc::as_ptr(value)) => {
                    self.touch(&mut slots.no_expiry_before, e, value, now);
                    true
                }
                _ => false,
            }
        };
        self.drop_expired(dropped);
        renewed
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
        let (v, dropped) = {
            let mut guard = self.lock();
            let slots = &mut *guard;
            let now = Instant::now();
            let dropped = slots.expire_due(now);
            let v = slots.entries.get_mut(key).and_then(|e| {
                let v = e.weak.upgrade()?;
                self.touch(&mut slots.no_expiry_before, e, &v, now);
                Some(v)
            });
            (v, dropped)
        };
        self.drop_expired(dropped);
        v
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
            .entries
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
            .entries
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
            for e in map.entries.values_mut() {
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
        self.lock().forget_dead();
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
        let dropped: Vec<_> = {
            let mut slots = self.lock();
            slots.no_expiry_before = None;
            slots
                .entries
                .values_mut()
                .filter_map(|e| e.keep.take())
                .collect()
        };
        drop(dropped);
        self.lock().forget_dead();
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
            .entries
            .iter()
            .filter(|(_, e)| e.weak.strong_count() > 0)
            .map(|(k, _)| EndpointKey::clone(k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's hash is computed once, and a user set after it was computed
    /// (a key hashed, then changed) is hashed again: the changed key finds
    /// what a key written with that user at once finds, and equal keys hash
    /// alike whatever their history.
    #[test]
    fn a_key_changed_after_a_lookup_is_hashed_again() {
        use std::hash::BuildHasher as _;
        let map: Shared<u8> = Shared::new();
        let with_user = EndpointKey::new("t", "h", 1).user("admin");
        let held = map.get_or_try_insert(&with_user, || Ok(7)).unwrap();
        let bare = EndpointKey::new("t", "h", 1);
        assert!(map.get(&bare).is_none()); // hashed now (the map is not empty)
        let changed = bare.clone().user("admin");
        assert_eq!(map.get(&changed).as_deref(), Some(&7));
        let state = std::hash::RandomState::new();
        assert_eq!(state.hash_one(&changed), state.hash_one(&with_user));
        assert_eq!(
            state.hash_one(&bare),
            state.hash_one(EndpointKey::new("t", "H", 1))
        );
        assert_eq!(format!("{changed:?}"), format!("{with_user:?}"));
        drop(held);
    }

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

    /// Issue 16: with N endpoints, a lookup visited all N (a sweep of N nodes
    /// visited N² entries). Now lookups before any deadline visit none, and
    /// building the map visits an amortised constant per insertion.
    #[test]
    fn a_lookup_visits_no_entry_until_a_deadline_passes() {
        let s: Shared<u32> = Shared::with_idle_ttl(Duration::from_secs(3600));
        let keys: Vec<_> = (0..1000)
            .map(|i| EndpointKey::new("t", &format!("h{i}"), 1))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            drop(s.get_or_try_insert(k, || Ok(i as u32)).unwrap());
        }
        assert!(
            s.lock().visited <= 2 * keys.len(),
            "building visited {}",
            s.lock().visited
        );
        s.lock().visited = 0;
        for round in 0..3 {
            for (i, k) in keys.iter().enumerate() {
                let v = s.get_or_try_insert(k, || Ok(u32::MAX)).unwrap();
                assert_eq!(*v, i as u32, "round {round}: the value kept");
                assert!(s.renew(k, &v));
                assert!(s.get(k).is_some());
            }
        }
        assert_eq!(s.lock().visited, 0, "9000 lookups visited entries");
        assert_eq!(s.len(), 1000); // len visits every entry, once
        assert_eq!(s.lock().visited, 1000);
    }

    /// The lookups skip the visit only while no deadline can have passed:
    /// deadlines set at different times each expire at the next access after
    /// them, and not before.
    #[test]
    fn staggered_deadlines_each_expire_at_the_first_access_after_them() {
        let ttl = Duration::from_millis(150);
        let s: Shared<u8> = Shared::with_idle_ttl(ttl);
        let (ka, kb, kc) = (
            EndpointKey::new("t", "a", 1),
            EndpointKey::new("t", "b", 1),
            EndpointKey::new("t", "c", 1),
        );
        let a = Arc::downgrade(&s.get_or_try_insert(&ka, || Ok(1)).unwrap());
        std::thread::sleep(ttl / 2);
        let b_handed_out = Instant::now();
        let b = Arc::downgrade(&s.get_or_try_insert(&kb, || Ok(2)).unwrap());
        std::thread::sleep(ttl / 2 + ttl / 4);
        // Past a's deadline: an access to another key drops it.
        let c = s.get_or_try_insert(&kc, || Ok(3)).unwrap();
        let checked = Instant::now();
        assert!(a.upgrade().is_none(), "a expired");
        if checked < b_handed_out + ttl {
            assert!(b.upgrade().is_some(), "b kept until its own deadline");
        }
        std::thread::sleep(ttl / 2);
        assert!(s.get(&kc).is_some());
        assert!(
            b.upgrade().is_none(),
            "b expired at the access after its deadline"
        );
        assert!(s.lock().entries.len() <= 2, "a and b forgotten");
        drop(c);
    }

    /// With no TTL, a value goes with its last user and no deadline ever
    /// triggers a visit: the endpoints whose value is gone are forgotten when
    /// insertions double the map, so the map stays within twice the live ones.
    #[test]
    fn dead_endpoints_do_not_pile_up() {
        let s: Shared<u32> = Shared::new();
        let held = s
            .get_or_try_insert(&EndpointKey::new("t", "kept", 1), || Ok(0))
            .unwrap();
        for i in 0..1000 {
            let k = EndpointKey::new("t", &format!("h{i}"), 1);
            drop(s.get_or_try_insert(&k, || Ok(i)).unwrap());
            assert!(s.lock().entries.len() <= 2 * 2 + 16, "{i}"); // live: "kept" and the newest
        }
        assert!(s.lock().visited < 3000, "visited {}", s.lock().visited);
        assert_eq!(s.keys(), vec![EndpointKey::new("t", "kept", 1)]);
        drop(held);
    }

    /// `renew` moves the deadline of the very value handed out, and only of it.
    #[test]
    fn renew_counts_idle_time_from_the_renewal() {
        let ttl = Duration::from_millis(150);
        let s: Shared<u8> = Shared::with_idle_ttl(ttl);
        let key = Arc::new(EndpointKey::new("t", "h", 1));
        let v = s.get_or_try_insert_keyed(&key, || Ok(Arc::new(1))).unwrap();
        let weak = Arc::downgrade(&v);
        assert!(!s.renew(&key, &Arc::new(1)), "another value");
        assert!(
            !s.renew(&EndpointKey::new("t", "other", 1), &v),
            "another key"
        );
        drop(v);
        std::thread::sleep(ttl / 2);
        let renewed = Instant::now();
        assert!(s.renew(&key, &weak.upgrade().unwrap()));
        std::thread::sleep(ttl / 2 + ttl / 4); // past the first deadline
        assert!(s.get(&EndpointKey::new("t", "x", 1)).is_none());
        if Instant::now() < renewed + ttl {
            assert!(weak.upgrade().is_some(), "kept from the renewal on");
        }
        std::thread::sleep(ttl);
        assert_eq!(s.len(), 0);
        assert!(weak.upgrade().is_none());
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
