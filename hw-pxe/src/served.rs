//! What the embedded servers answered: a bounded log of the requests each server
//! saw (client, path, outcome, bytes sent so far), so a deployer (or a test) can
//! tell which files a booting node actually fetched.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hwctl_core::{Error, ErrorKind};

/// How many requests a server remembers (the oldest are dropped first).
pub const SERVED_LOG_LEN: usize = 1024;

/// How a request ended.
///
/// ```
/// use hwctl_pxe::Outcome;
/// assert_ne!(Outcome::Sent, Outcome::Refused);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The file was found and its transfer started (see [`Served::bytes`]).
    Sent,
    /// No such file under the root (TFTP error 1, HTTP 404).
    NotFound,
    /// The path left the root, or the request was not allowed (TFTP error 2, HTTP
    /// 403/405/400).
    Refused,
}

/// One request a server answered.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use hwctl_pxe::{HttpServer, Outcome};
/// let root = tempfile::tempdir().unwrap();
/// let server = HttpServer::start(root.path(), "127.0.0.1:0".parse().unwrap()).await?;
/// let mut tcp = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
/// tcp.write_all(b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
/// let mut reply = String::new();
/// tcp.read_to_string(&mut reply).await.unwrap();
/// let s = &server.served()[0];
/// assert_ne!(s.outcome, Outcome::Sent);
/// assert_eq!((s.size, s.bytes), (None, 0));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Served {
    /// Who asked.
    pub client: SocketAddr,
    /// The path as requested (TFTP file name, HTTP path without the leading `/`).
    pub path: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The file's size in bytes, when it was sent.
    pub size: Option<u64>,
    /// Bytes of the file sent so far (equals `size` once the transfer is complete).
    pub bytes: u64,
}

impl Served {
    /// Whether the whole file was sent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// let root = tempfile::tempdir().unwrap();
    /// std::fs::write(root.path().join("kernel"), vec![7u8; 100_000]).unwrap();
    /// let server = hwctl_pxe::HttpServer::start(root.path(), "127.0.0.1:0".parse().unwrap()).await?;
    /// let mut tcp = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
    /// tcp.write_all(b"GET /kernel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    /// let mut reply = Vec::new();
    /// tcp.read_to_end(&mut reply).await.unwrap();
    /// let s = &server.served()[0];
    /// assert!(s.complete());
    /// assert_eq!((s.size, s.bytes), (Some(100_000), 100_000));
    /// # Ok(()) }
    /// ```
    pub fn complete(&self) -> bool {
        self.outcome == Outcome::Sent && self.size == Some(self.bytes)
    }
}

struct Entry {
    client: SocketAddr,
    path: String,
    outcome: Outcome,
    size: Option<u64>,
    bytes: Arc<AtomicU64>,
}

/// Maps an I/O error of binding an embedded server (`server`: `"TFTP"`, `"HTTP"`) on
/// `addr` to an [`Error`] naming the server and the address, with the I/O error as
/// its `source()`, the way hwctl-sim's listeners do (docs/error-kinds.md):
///
/// - in use ([`std::io::ErrorKind::AddrInUse`]): [`ErrorKind::Busy`], retryable (the
///   holder may let go), saying another process holds it: nothing is being reached,
///   so not `Unreachable`;
/// - not an address of this host (`AddrNotAvailable`) or not a usable address
///   (`InvalidInput`): [`ErrorKind::InvalidParameter`];
/// - a privileged port without the right (`PermissionDenied`):
///   [`ErrorKind::PermissionDenied`];
/// - anything else: [`ErrorKind::Other`].
pub(crate) fn bind_error(e: std::io::Error, server: &str, addr: SocketAddr) -> Error {
    use std::io::ErrorKind as Io;
    let (kind, advice) = match e.kind() {
        Io::AddrInUse => (
            ErrorKind::Busy,
            "; another process holds it: give another port, or port 0 for any free one",
        ),
        Io::AddrNotAvailable => (
            ErrorKind::InvalidParameter,
            "; it is not an address of this host: give one of its addresses, or 0.0.0.0 for all",
        ),
        Io::InvalidInput => (ErrorKind::InvalidParameter, ""),
        Io::PermissionDenied => (
            ErrorKind::PermissionDenied,
            "; a port below 1024 needs root or CAP_NET_BIND_SERVICE",
        ),
        _ => (ErrorKind::Other, ""),
    };
    Error::new(
        kind,
        format!("cannot bind the {server} server on {addr}: {e}{advice}"),
    )
    .with_driver("hwctl-pxe")
    .with_operation("bind")
    .with_source(e)
}

/// The shared, bounded request log of one server.
#[derive(Default, Clone)]
pub(crate) struct ServedLog {
    entries: Arc<Mutex<VecDeque<Entry>>>,
}

impl std::fmt::Debug for ServedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedLog").finish_non_exhaustive()
    }
}

impl ServedLog {
    /// Records a request; the returned counter is to be advanced as bytes are sent.
    pub(crate) fn record(
        &self,
        client: SocketAddr,
        path: &str,
        outcome: Outcome,
        size: Option<u64>,
    ) -> Arc<AtomicU64> {
        let bytes = Arc::new(AtomicU64::new(0));
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() >= SERVED_LOG_LEN {
            e.pop_front();
        }
        e.push_back(Entry {
            client,
            path: path.trim_start_matches('/').to_owned(),
            outcome,
            size,
            bytes: bytes.clone(),
        });
        bytes
    }

    /// A snapshot, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<Served> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.iter()
            .map(|x| Served {
                client: x.client,
                path: x.path.clone(),
                outcome: x.outcome,
                size: x.size,
                bytes: x.bytes.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// An `AsyncRead` that adds what it reads to a counter.
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) count: Arc<AtomicU64>,
}

impl<R: futures::io::AsyncRead + Unpin> futures::io::AsyncRead for Counted<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.count.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn bind_errors_have_the_kind_the_server_and_the_address() {
        let addr: SocketAddr = "192.0.2.7:69".parse().unwrap();
        for (io_kind, kind, says) in [
            (
                io::ErrorKind::AddrInUse,
                ErrorKind::Busy,
                "another process holds it",
            ),
            (
                io::ErrorKind::AddrNotAvailable,
                ErrorKind::InvalidParameter,
                "not an address of this host",
            ),
            (io::ErrorKind::InvalidInput, ErrorKind::InvalidParameter, ""),
            (
                io::ErrorKind::PermissionDenied,
                ErrorKind::PermissionDenied,
                "CAP_NET_BIND_SERVICE",
            ),
            (io::ErrorKind::OutOfMemory, ErrorKind::Other, ""),
        ] {
            let err = bind_error(io::Error::from(io_kind), "TFTP", addr);
            let text = err.to_string();
            assert_eq!(err.kind(), kind, "{io_kind:?}: {text}");
            assert_eq!(err.is_retryable(), kind == ErrorKind::Busy, "{text}");
            assert!(text.contains("TFTP server on 192.0.2.7:69"), "{text}");
            assert!(text.contains(says), "{text}");
            assert!(std::error::Error::source(&err).is_some(), "{text}");
        }
    }
}
