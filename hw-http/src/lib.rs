#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
mod client;
pub mod config;
mod digest;
pub mod driver_info;
mod pool;
mod redact;
mod request;
pub mod session;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;

pub use cache::HttpClients;
pub use client::{ClientStats, HttpClient};
pub use config::{Auth, EndpointConfig, EndpointConfigBuilder, RetryPolicy, Scheme, TlsConfig};
pub use driver_info::EndpointKeys;
pub use http::{HeaderMap, Method, StatusCode};
pub use redact::is_sensitive as is_sensitive_header;
pub use request::{Request, Response, status_kind};
pub use session::{Session, SessionAuth, SessionClient};

/// The unit tests count the calling thread's allocations (hwctl-core's counting
/// allocator, decision 75): the per-request header work is checked to allocate
/// only what it must (issue 16).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: hwctl_core::testing::counting_alloc::CountingAllocator =
    hwctl_core::testing::counting_alloc::CountingAllocator;

/// Entry points for the fuzz targets in the repository's `fuzz/` workspace: parsers
/// of untrusted bytes that are otherwise private. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use http::HeaderValue;
    use http::header::WWW_AUTHENTICATE;

    /// Parses `values` as the `WWW-Authenticate` headers of a 401 reply, selects the
    /// digest challenge as the client does, and answers it; returns whether one was
    /// usable. Never panics, whatever the bytes.
    pub fn www_authenticate(values: &[&[u8]]) -> bool {
        let mut headers = crate::HeaderMap::new();
        for v in values {
            if let Ok(v) = HeaderValue::from_bytes(v) {
                headers.append(WWW_AUTHENTICATE, v);
            }
        }
        let _ = crate::digest::parse_challenges(&headers);
        match crate::digest::select_challenge(&headers) {
            Ok(challenge) => {
                let mut state = crate::digest::DigestState::new(challenge);
                let _ = state.authorization("user", "pass", "POST", "/wsman");
                true
            }
            Err(_) => false,
        }
    }
}
