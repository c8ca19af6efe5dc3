//! The embedded static HTTP server for `http_root` (hyper, HTTP/1.1): `GET` and
//! `HEAD` of regular files under the root, confined as the TFTP server is.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hwctl_core::{Error, ErrorKind, Result};
use hyper::body::{Frame, Incoming};
use tokio::io::AsyncReadExt;

use crate::served::{Outcome, Served, ServedLog};

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A running HTTP server; dropping it (or [`HttpServer::shutdown`]) stops it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use hwctl_pxe::{HttpServer, Outcome};
/// let root = tempfile::tempdir().unwrap();
/// std::fs::write(root.path().join("boot.ipxe"), b"#!ipxe\n").unwrap();
/// let server = HttpServer::start(root.path(), "127.0.0.1:0".parse().unwrap()).await?;
/// let mut tcp = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
/// tcp.write_all(b"GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
/// let mut reply = String::new();
/// tcp.read_to_string(&mut reply).await.unwrap();
/// assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("#!ipxe\n"));
/// let served = server.served();
/// assert_eq!((served[0].path.as_str(), served[0].outcome), ("boot.ipxe", Outcome::Sent));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    log: ServedLog,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Serves `root` on `addr` (TCP) from a task on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `http_root` when it is not a
    /// directory; when `addr` cannot be bound: [`ErrorKind::Busy`] (retryable) if it is
    /// in use, [`ErrorKind::InvalidParameter`] if it is not an address of this host,
    /// [`ErrorKind::PermissionDenied`] for a privileged port without the right,
    /// [`ErrorKind::Other`] otherwise; each names the server and the address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let err = hwctl_pxe::HttpServer::start("/no/such/root".as_ref(), "127.0.0.1:0".parse().unwrap()).await.unwrap_err();
    /// assert!(err.to_string().contains("http_root"));
    /// # }
    /// ```
    pub async fn start(root: &Path, addr: SocketAddr) -> Result<HttpServer> {
        let root = std::fs::canonicalize(root)
            .ok()
            .filter(|r| r.is_dir())
            .ok_or_else(|| Error::invalid_parameter("http_root", "is not a directory"))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| crate::served::bind_error(e, "HTTP", addr))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Other, format!("HTTP socket on {addr}: {e}")))?;
        let root = Arc::new(root);
        let log = ServedLog::default();
        let served = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let root = root.clone();
                let log = served.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let root = root.clone();
                        let log = log.clone();
                        async move { Ok::<_, Infallible>(serve(&root, &log, peer, req).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        Ok(HttpServer { addr, log, task })
    }

    /// The bound address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let root = tempfile::tempdir().unwrap();
    /// let server = hwctl_pxe::HttpServer::start(root.path(), "127.0.0.1:0".parse().unwrap()).await?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests answered so far (the last [`SERVED_LOG_LEN`](crate::served::SERVED_LOG_LEN)),
    /// oldest first: which files a booting node fetched and how far each body got.
    pub fn served(&self) -> Vec<Served> {
        self.log.snapshot()
    }

    /// Stops accepting connections.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let root = tempfile::tempdir().unwrap();
    /// let server = hwctl_pxe::HttpServer::start(root.path(), "127.0.0.1:0".parse().unwrap()).await?;
    /// let addr = server.local_addr();
    /// server.shutdown();
    /// // The aborted task drops its listener when the runtime next runs it.
    /// let mut refused = false;
    /// for _ in 0..100 {
    ///     tokio::task::yield_now().await;
    ///     if tokio::net::TcpStream::connect(addr).await.is_err() {
    ///         refused = true;
    ///         break;
    ///     }
    ///     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    /// }
    /// assert!(refused, "still accepting on {addr} after shutdown");
    /// # Ok(()) }
    /// ```
    pub fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn status(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(format!("{code}\n")))
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *r.status_mut() = code;
    r
}

async fn serve(
    root: &Path,
    log: &ServedLog,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let head = req.method() == Method::HEAD;
    let raw = req.uri().path().to_owned();
    if req.method() != Method::GET && !head {
        log.record(peer, &raw, Outcome::Refused, None);
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(path) = percent_decode(&raw) else {
        log.record(peer, &raw, Outcome::Refused, None);
        return status(StatusCode::BAD_REQUEST);
    };
    let real: PathBuf = match crate::tftp::confine(root, Path::new(&path)) {
        Ok(p) => p,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            tracing::debug!(%peer, path, "http 404");
            log.record(peer, &path, Outcome::NotFound, None);
            return status(StatusCode::NOT_FOUND);
        }
        Err(_) => {
            tracing::info!(%peer, path, "http refused: leaves the root");
            log.record(peer, &path, Outcome::Refused, None);
            return status(StatusCode::FORBIDDEN);
        }
    };
    let Ok(file) = tokio::fs::File::open(&real).await else {
        log.record(peer, &path, Outcome::NotFound, None);
        return status(StatusCode::NOT_FOUND);
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    tracing::debug!(%peer, path, len, "http get");
    let count = log.record(peer, &path, Outcome::Sent, Some(if head { 0 } else { len }));
    let body: Body = if head {
        Full::new(Bytes::new())
            .map_err(|never: Infallible| match never {})
            .boxed_unsync()
    } else {
        let s = futures::stream::try_unfold((file, count), |(mut f, count)| async move {
            let mut buf = vec![0u8; 1 << 16];
            let n = f.read(&mut buf).await?;
            if n == 0 {
                Ok::<_, std::io::Error>(None)
            } else {
                buf.truncate(n);
                // Counted as handed to hyper (the last frame may still be in flight).
                count.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                Ok(Some((Frame::data(Bytes::from(buf)), (f, count))))
            }
        });
        BodyExt::boxed_unsync(StreamBody::new(s.boxed()))
    };
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(http::header::CONTENT_LENGTH, len.into());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    r
}
