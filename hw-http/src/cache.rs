//! One client per endpoint, shared: a cache keyed by everything that defines an
//! endpoint (scheme, host, port, base path, auth identity with a hash of the
//! credentials, TLS settings, timeouts and limits).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use hw_core::Error;

use crate::client::{Handle, HttpClient};
use crate::config::EndpointConfig;

/// A cache of [`HttpClient`]s, one per endpoint.
///
/// The 48 blades of one chassis manager get the same client, hence one pool, one
/// concurrency limit and one session. The cache holds its clients weakly: when the
/// last node using an endpoint drops its client, the client closes (and logs its
/// session out); the next [`get`](Self::get) builds a fresh one.
///
/// ```
/// use hw_http::{Auth, EndpointConfig, HttpClients};
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
/// # Ok::<(), hw_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct HttpClients {
    inner: Arc<Mutex<HashMap<String, Weak<Handle>>>>,
}

impl HttpClients {
    /// An empty cache.
    pub fn new() -> Self {
        HttpClients::default()
    }

    /// The client for `config`'s endpoint, built on first use.
    pub fn get(&self, config: &EndpointConfig) -> Result<HttpClient, Error> {
        let key = config.cache_key();
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(handle) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(HttpClient { handle });
        }
        let client = HttpClient::new(config.clone())?;
        map.retain(|_, weak| weak.strong_count() > 0);
        map.insert(key, Arc::downgrade(&client.handle));
        Ok(client)
    }

    /// Clients alive in the cache.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
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
            .finish()
    }
}
