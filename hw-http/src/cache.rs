//! One client per endpoint, shared: a [`hwctl_core::shared::Shared`] map keyed by an
//! [`hwctl_core::shared::EndpointKey`] holding everything that defines an endpoint
//! (scheme, host, port, user and hwctl-core's keyed fingerprint of the secret, base
//! path, TLS settings, timeouts and limits).

use std::fmt;

use hwctl_core::Error;
use hwctl_core::shared::Shared;

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
        let handle = self
            .inner
            .get_or_try_insert_arc(&config.endpoint_key(), || {
                HttpClient::new(config.clone()).map(|c| c.handle)
            })?;
        Ok(HttpClient { handle })
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

impl fmt::Debug for HttpClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClients")
            .field("clients", &self.len())
            .field("endpoints", &self.inner.keys())
            .finish()
    }
}
