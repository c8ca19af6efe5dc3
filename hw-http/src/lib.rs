#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
mod client;
pub mod config;
mod digest;
mod redact;
mod request;
pub mod session;
pub mod testing;
mod transport;

pub use cache::HttpClients;
pub use client::{ClientStats, HttpClient};
pub use config::{Auth, EndpointConfig, EndpointConfigBuilder, RetryPolicy, Scheme, TlsConfig};
pub use http::{HeaderMap, Method, StatusCode};
pub use redact::is_sensitive as is_sensitive_header;
pub use request::{Request, Response, status_kind};
pub use session::{Session, SessionAuth, SessionClient};

use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

/// A per-process random salt for [`fingerprint`].
fn salt() -> &'static [u8; 32] {
    static SALT: OnceLock<[u8; 32]> = OnceLock::new();
    SALT.get_or_init(rand::random)
}

/// A short, salted, one-way fingerprint of some strings (credentials), for cache
/// keys. Stable within one process, different across processes, never reversible.
///
/// ```
/// let a = hw_http::fingerprint(&["admin", "pw"]);
/// assert_eq!(a, hw_http::fingerprint(&["admin", "pw"]));
/// assert_ne!(a, hw_http::fingerprint(&["admin", "pw2"]));
/// assert!(!a.contains("pw"));
/// ```
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(salt());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn fingerprint_bytes(data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(data);
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
