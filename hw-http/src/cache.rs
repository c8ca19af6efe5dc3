//! One client per endpoint, shared: a [`hwctl_core::shared::Shared`] map keyed by an
//! [`hwctl_core::shared::EndpointKey`] holding everything that defines an endpoint
//! (scheme, host, port, user and hwctl-core's keyed fingerprint of the secret, base
//! path, TLS settings, timeouts and limits).

use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use hwctl_core::Error;
use hwctl_core::shared::{EndpointKey, Shared};

use crate::client::{Handle, HttpClient};
use crate::config::EndpointConfig;

/// A cache of [`HttpClient`]s, one per endpoint.
///
/// The 48 blades of one chassis manager get the same client, hence one pool, one
/// concurrency limit and one session. A client lives while some node holds it and
/// for the cache's idle TTL after it was last handed out (hwctl-core's
/// [`Shared`] lifetime: 60 s for the global cache, so a fleet sweep keeps one pool
/// per endpoint from start to end; zero for [`HttpClients::new`]); then it closes
/// its connections at once (and logs its session out), and the next
/// [`get`](Self::get) builds a fresh one.
///
/// [`HttpClients::global`] is the process-wide cache (hwctl-core's documented scope:
/// one map per value type per process); [`HttpClients::new`] an isolated one.
///
/// ```
/// use hwctl_http::{Auth, EndpointConfig, HttpClients};
///
/// let clients = HttpClients::new();
/// let config = || EndpointConfig::builder("http://10.0.0.5:8000/")
///     .auth(Auth::basic("admin", "pw"))
///     .build();
/// let a = clients.get(&config()?)?;
/// let b = clients.get(&config()?)?;
/// assert!(a.same_client(&b));
///
/// let other = EndpointConfig::builder("http://10.0.0.5:8000/")
///     .auth(Auth::basic("admin", "another password"))
///     .build()?;
/// assert!(!clients.get(&other)?.same_client(&a));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct HttpClients {
    inner: Shared<Handle>,
}

impl HttpClients {
    /// An empty cache of its own (for tests and embedders that want isolation).
    pub fn new() -> Self {
        HttpClients::default()
    }

    /// An empty cache of its own whose clients outlive their last node by `ttl`
    /// after they were last handed out.
    pub fn with_idle_ttl(ttl: std::time::Duration) -> Self {
        HttpClients {
            inner: Shared::with_idle_ttl(ttl),
        }
    }

    /// The process-wide cache ([`Shared::global`]): what drivers use unless given
    /// another.
    pub fn global() -> Self {
        HttpClients {
            inner: Shared::global(),
        }
    }

    /// The client for `config`'s endpoint, built on first use.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::InvalidParameter`] when the CA file of `config`'s TLS
    /// settings cannot be read or holds no usable CA certificate; `Other` when TLS
    /// cannot be set up.
    pub fn get(&self, config: &EndpointConfig) -> Result<HttpClient, Error> {
        let key = key_of(config);
        let handle = self.inner.get_or_try_insert_keyed(&key, || {
            let handle = HttpClient::new(config.clone())?.handle;
            // Just built: nothing else has set it.
            let _ = handle.key.set(Arc::clone(&key));
            Ok(handle)
        })?;
        remember(&handle, key);
        Ok(HttpClient { handle })
    }

    /// Hands `client` out again, as [`get`](Self::get) would for its
    /// configuration, without computing the configuration's key: the client's
    /// idle time counts from now. `false` (nothing changed) when this cache does
    /// not hold `client` now — it was built by another cache or on its own, or
    /// it is no longer the cache's client for its endpoint: then call `get`.
    ///
    /// For a driver that remembers the client of the nodes it built (hwctl-ocs
    /// does, per chassis manager): computing the key (the secret's fingerprint
    /// and the formatted settings) is most of what `get` costs, and the one key
    /// `get` remembers misses when the nodes of several endpoints interleave
    /// (issue 16).
    ///
    /// ```
    /// use hwctl_http::{Auth, EndpointConfig, HttpClient, HttpClients};
    /// let clients = HttpClients::new();
    /// let config = EndpointConfig::builder("http://10.0.0.5:8000/")
    ///     .auth(Auth::basic("admin", "pw"))
    ///     .build()?;
    /// let client = clients.get(&config)?;
    /// assert!(clients.renew(&client));
    /// assert!(!HttpClients::new().renew(&client)); // not that cache's client
    /// assert!(!clients.renew(&HttpClient::new(config)?)); // a client of its own
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn renew(&self, client: &HttpClient) -> bool {
        client
            .handle
            .key
            .get()
            .is_some_and(|key| self.inner.renew(key, &client.handle))
    }

    /// Clients alive in the cache.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no client is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The key of the client last handed out, with that client (held weakly: its
/// configuration, secret included, lives no longer than the client).
///
/// A sweep builds one configuration per node, and the nodes of one endpoint
/// follow each other: computing the key (the secret's SHA-256 fingerprint and
/// nine formatted settings) was an eighth of `hwctl fleet`'s instructions (issue
/// 16). A configuration equal in every setting the key is made of
/// ([`EndpointConfig::same_endpoint_key`]) to the last client's gets its key.
/// The key is shared (`Arc`): handing it out again copies no string.
static LAST_KEY: Mutex<Option<(Weak<Handle>, Arc<EndpointKey>)>> = Mutex::new(None);

fn key_of(config: &EndpointConfig) -> Arc<EndpointKey> {
    let last = LAST_KEY.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((handle, key)) = last.as_ref()
        && let Some(handle) = handle.upgrade()
        && handle.core.config.same_endpoint_key(config)
    {
        return Arc::clone(key);
    }
    drop(last);
    Arc::new(config.endpoint_key())
}

fn remember(handle: &Arc<Handle>, key: Arc<EndpointKey>) {
    let mut last = LAST_KEY.lock().unwrap_or_else(|p| p.into_inner());
    let same = last
        .as_ref()
        .is_some_and(|(h, _)| std::ptr::eq(h.as_ptr(), Arc::as_ptr(handle)));
    if !same {
        *last = Some((Arc::downgrade(handle), key));
    }
}

impl fmt::Debug for HttpClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClients")
            .field("clients", &self.len())
            .field("endpoints", &self.inner.keys())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Auth;

    /// The key of the last client handed out is reused only for a configuration
    /// equal in every setting of the key: right after a client is handed out, a
    /// configuration differing in the password, the credential scheme, the user,
    /// a limit or a timeout gets a client of its own; an equal one gets the same.
    #[test]
    fn the_remembered_key_serves_only_an_equal_configuration() {
        let clients = HttpClients::new();
        let base =
            || EndpointConfig::builder("http://10.9.8.7:8000/").auth(Auth::basic("admin", "pw"));
        let first = clients.get(&base().build().unwrap()).unwrap();
        let variants = [
            base().auth(Auth::basic("admin", "pw2")).build().unwrap(),
            base().auth(Auth::digest("admin", "pw")).build().unwrap(),
            base().auth(Auth::basic("root", "pw")).build().unwrap(),
            base().max_concurrency(3).build().unwrap(),
            base()
                .request_timeout(std::time::Duration::from_secs(7))
                .build()
                .unwrap(),
            EndpointConfig::builder("http://10.9.8.7:8001/")
                .auth(Auth::basic("admin", "pw"))
                .build()
                .unwrap(),
        ];
        for (i, config) in variants.iter().enumerate() {
            // The first client is the last handed out before each variant.
            let again = clients.get(&base().build().unwrap()).unwrap();
            assert!(again.same_client(&first), "variant {i}: equal config");
            let other = clients.get(config).unwrap();
            assert!(
                !other.same_client(&first),
                "variant {i} shared the first client"
            );
            assert_eq!(
                config.endpoint_key(),
                *key_of(config),
                "variant {i}: the key used is the config's own"
            );
        }
    }
}
