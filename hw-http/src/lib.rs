#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
mod client;
pub mod config;
mod digest;
pub mod driver_info;
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
