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
use hw_core::{Error, ErrorKind, Result};
use hyper::body::{Frame, Incoming};
use tokio::io::AsyncReadExt;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A running HTTP server; dropping it (or [`HttpServer::shutdown`]) stops it.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Serves `root` on `addr` (TCP) from a task on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `http_root` when it is not a
    /// directory; [`ErrorKind::Unreachable`] when the address cannot be bound.
    pub async fn start(root: &Path, addr: SocketAddr) -> Result<HttpServer> {
        let root = std::fs::canonicalize(root)
            .ok()
            .filter(|r| r.is_dir())
            .ok_or_else(|| Error::invalid_parameter("http_root", "is not a directory"))?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Error::new(
                ErrorKind::Unreachable,
                format!("cannot bind HTTP on {addr}: {e}"),
            )
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Unreachable, format!("HTTP socket: {e}")))?;
        let root = Arc::new(root);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let root = root.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let root = root.clone();
                        async move { Ok::<_, Infallible>(serve(&root, peer, req).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        Ok(HttpServer { addr, task })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections.
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

async fn serve(root: &Path, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(path) = percent_decode(req.uri().path()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let real: PathBuf = match crate::tftp::confine(root, Path::new(&path)) {
        Ok(p) => p,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            tracing::debug!(%peer, path, "http 404");
            return status(StatusCode::NOT_FOUND);
        }
        Err(_) => {
            tracing::info!(%peer, path, "http refused: leaves the root");
            return status(StatusCode::FORBIDDEN);
        }
    };
    let Ok(file) = tokio::fs::File::open(&real).await else {
        return status(StatusCode::NOT_FOUND);
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    tracing::debug!(%peer, path, len, "http get");
    let body: Body = if head {
        Full::new(Bytes::new())
            .map_err(|never: Infallible| match never {})
            .boxed_unsync()
    } else {
        let s = futures::stream::try_unfold(file, |mut f| async move {
            let mut buf = vec![0u8; 1 << 16];
            let n = f.read(&mut buf).await?;
            if n == 0 {
                Ok::<_, std::io::Error>(None)
            } else {
                buf.truncate(n);
                Ok(Some((Frame::data(Bytes::from(buf)), f)))
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
