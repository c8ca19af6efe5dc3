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
//! **Lifetime.** Values are held weakly: when the last node holding an endpoint's
//! value drops it, the value is dropped (closing its connections or session), and
//! the next [`Shared::get_or_try_insert`] builds a fresh one.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, Weak};

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
/// use hw_core::shared::Fingerprint;
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
    pub fn of(secret: &str) -> Self {
        Fingerprint::of_parts(&[secret.as_bytes()])
    }

    /// The fingerprint of a [`SecretString`].
    pub fn of_secret(secret: &SecretString) -> Self {
        Fingerprint::of(secret.expose_secret())
    }

    /// The fingerprint of several byte strings together (each length-prefixed, so
    /// `["ab", "c"]` and `["a", "bc"]` differ).
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
/// use hw_core::shared::EndpointKey;
/// let a = EndpointKey::new("ipmi", "BMC-1.lab", 623).user("admin").secret("pw").extra("privilege", "4");
/// let b = EndpointKey::new("ipmi", "bmc-1.lab", 623).user("admin").secret("pw").extra("privilege", "4");
/// assert_eq!(a, b);
/// assert_ne!(a, b.clone().secret("other"));
/// assert!(!format!("{a:?}").contains("pw\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The secret, kept only as a [`Fingerprint`].
    pub fn secret(mut self, secret: &str) -> Self {
        self.secret = Some(Fingerprint::of(secret));
        self
    }

    /// The secret of a [`SecretString`], kept only as a [`Fingerprint`].
    pub fn secret_string(self, secret: &SecretString) -> Self {
        self.secret(secret.expose_secret())
    }

    /// A protocol-specific part of the identity (never a secret: fingerprint those).
    pub fn extra(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.extras.push((name, value.to_string()));
        self
    }

    /// The protocol.
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// The host, lower-cased, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
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

/// A map from [`EndpointKey`] to a weakly held shared value (a client, a session,
/// a lock): one per endpoint, alive while some node holds it.
///
/// ```
/// use std::sync::Arc;
/// use hw_core::shared::{EndpointKey, Shared};
/// let clients: Shared<String> = Shared::new();
/// let key = EndpointKey::new("demo", "10.0.0.1", 80).user("u").secret("pw");
/// let a = clients.get_or_try_insert(&key, || Ok("client".to_owned()))?;
/// let b = clients.get_or_try_insert(&key, || Ok("another".to_owned()))?;
/// assert!(Arc::ptr_eq(&a, &b));
/// assert_eq!(clients.len(), 1);
/// drop((a, b));
/// assert_eq!(clients.len(), 0); // released with its last user
/// # Ok::<(), hw_core::Error>(())
/// ```
pub struct Shared<T> {
    inner: Arc<Mutex<HashMap<EndpointKey, Weak<T>>>>,
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
        Shared {
            inner: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<T> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("type", &std::any::type_name::<T>())
            .field("alive", &self.len())
            .finish()
    }
}

impl<T: Send + Sync + 'static> Shared<T> {
    /// The process-wide map for values of type `T` (one per type): what drivers use
    /// unless given another.
    pub fn global() -> Shared<T> {
        type Maps = Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>;
        static MAPS: OnceLock<Maps> = OnceLock::new();
        let mut maps = MAPS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let entry = maps
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(Shared::<T>::new()));
        match entry.downcast_ref::<Shared<T>>() {
            Some(s) => s.clone(),
            // Unreachable: the entry for TypeId::of::<T>() is always a Shared<T>.
            None => Shared::new(),
        }
    }
}

impl<T> Shared<T> {
    /// An empty map of its own (for tests and embedders that want isolation).
    pub fn new() -> Self {
        Shared::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointKey, Weak<T>>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live value for `key`, or the one `make` builds (then shared).
    ///
    /// `make` runs under the map's lock: it must not block or do I/O (build the
    /// client; connect on first use).
    ///
    /// # Errors
    ///
    /// Whatever `make` returns; nothing is inserted then.
    pub fn get_or_try_insert(
        &self,
        key: &EndpointKey,
        make: impl FnOnce() -> crate::Result<T>,
    ) -> crate::Result<Arc<T>> {
        self.get_or_try_insert_arc(key, || make().map(Arc::new))
    }

    /// As [`get_or_try_insert`](Self::get_or_try_insert), for a value that is
    /// already an `Arc` (so the caller can keep extra handles, such as a `Weak`).
    ///
    /// # Errors
    ///
    /// Whatever `make` returns; nothing is inserted then.
    pub fn get_or_try_insert_arc(
        &self,
        key: &EndpointKey,
        make: impl FnOnce() -> crate::Result<Arc<T>>,
    ) -> crate::Result<Arc<T>> {
        let mut map = self.lock();
        if let Some(v) = map.get(key).and_then(Weak::upgrade) {
            return Ok(v);
        }
        let v = make()?;
        map.retain(|_, w| w.strong_count() > 0);
        map.insert(key.clone(), Arc::downgrade(&v));
        Ok(v)
    }

    /// The live value for `key`, if any.
    pub fn get(&self, key: &EndpointKey) -> Option<Arc<T>> {
        self.lock().get(key).and_then(Weak::upgrade)
    }

    /// How many endpoints have a live value.
    pub fn len(&self) -> usize {
        self.lock()
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// Whether no endpoint has a live value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys of the endpoints with a live value (no secrets in them).
    pub fn keys(&self) -> Vec<EndpointKey> {
        self.lock()
            .iter()
            .filter(|(_, w)| w.strong_count() > 0)
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
