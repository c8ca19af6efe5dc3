//! A small loopback HTTP/1.1 server for tests and examples: a handler answers each
//! request; replies can be delayed, withheld (silence) or cut; the server counts
//! connections, requests and the peak number of requests handled at once.
//!
//! It is written independently of the client (its own parsing and encoding), binds
//! 127.0.0.1 on a free port, and stops when dropped. Plain HTTP or TLS (give it a
//! rustls `ServerConfig`).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The largest request head or body the test server accepts.
const MAX_REQUEST: usize = 1024 * 1024;

/// One request as the server saw it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hwctl_http::testing::{Reply, TestServer};
/// let server = TestServer::start(|req| {
///     Reply::ok(format!("{} {} {:?}", req.method, req.target, req.header("x-tag")))
/// }).await?;
/// let client = hwctl_http::HttpClient::new(hwctl_http::EndpointConfig::builder(server.base_url()).build()?)?;
/// let reply = client.send(hwctl_http::Request::get("/a?b=1").header("X-Tag", "t")).await?;
/// assert_eq!(reply.text()?, "GET /a?b=1 Some(\"t\")");
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct ServerRequest {
    /// The method (`GET`).
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl ServerRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for ServerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ServerRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Answer,
    Silence,
    Close,
}

/// What the server answers to one request.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hwctl_core::ErrorKind;
/// use hwctl_http::testing::{Reply, TestServer};
/// let server = TestServer::start(|_| Reply::status(503).header("retry-after", "0")).await?;
/// let config = hwctl_http::EndpointConfig::builder(server.base_url())
///     .retry(hwctl_http::RetryPolicy::none())
///     .build()?;
/// let err = hwctl_http::HttpClient::new(config)?.get("/").await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Busy);
/// assert_eq!(server.requests(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    action: Action,
    chunked: bool,
}

impl Reply {
    /// `200 OK` with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::status(200).body(body)
    }

    /// An empty reply with `status`.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            action: Action::Answer,
            chunked: false,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the body chunked, without a `Content-Length`.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Never answers (keeps the connection open and silent).
    pub fn silence() -> Self {
        Reply {
            action: Action::Silence,
            ..Reply::status(200)
        }
    }

    /// Closes the connection without answering.
    pub fn close() -> Self {
        Reply {
            action: Action::Close,
            ..Reply::status(200)
        }
    }
}

type Handler = dyn Fn(&ServerRequest) -> Reply + Send + Sync;

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    open: AtomicUsize,
    peak_open: AtomicUsize,
    requests: AtomicUsize,
    active: AtomicUsize,
    peak_active: AtomicUsize,
}

/// Counts a connection as open until its task ends.
struct OpenConnection(Arc<Counters>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running loopback server; stops when dropped, closing its open connections.
pub struct TestServer {
    addr: std::net::SocketAddr,
    tls: bool,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a plain HTTP server on 127.0.0.1 (free port) answering with `handler`.
    ///
    /// # Errors
    ///
    /// The I/O error of binding 127.0.0.1.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use hwctl_http::testing::{Reply, TestServer};
    /// let server = TestServer::start(|_| Reply::ok("pong")).await?;
    /// let client = hwctl_http::HttpClient::new(hwctl_http::EndpointConfig::builder(server.base_url()).build()?)?;
    /// assert_eq!(client.get("/ping").await?.text()?, "pong");
    /// assert_eq!((server.requests(), server.connections()), (1, 1));
    /// # Ok(()) }
    /// ```
    pub async fn start(
        handler: impl Fn(&ServerRequest) -> Reply + Send + Sync + 'static,
    ) -> io::Result<TestServer> {
        TestServer::start_inner(Arc::new(handler), None).await
    }

    /// Starts an HTTPS server with the given rustls server config.
    ///
    /// # Errors
    ///
    /// The I/O error of binding 127.0.0.1.
    pub async fn start_tls(
        config: Arc<rustls::ServerConfig>,
        handler: impl Fn(&ServerRequest) -> Reply + Send + Sync + 'static,
    ) -> io::Result<TestServer> {
        TestServer::start_inner(Arc::new(handler), Some(config)).await
    }

    async fn start_inner(
        handler: Arc<Handler>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let is_tls = tls.is_some();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let c = counters.clone();
        let task = tokio::spawn(async move {
            // Owned by the accept task: aborting it on drop ends every connection.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                c.connections.fetch_add(1, Ordering::SeqCst);
                let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
                c.peak_open.fetch_max(now, Ordering::SeqCst);
                let handler = handler.clone();
                let c = c.clone();
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    let _open = OpenConnection(c.clone());
                    match acceptor {
                        None => serve(tcp, handler, c).await,
                        Some(acc) => {
                            if let Ok(tls) = acc.accept(tcp).await {
                                serve(tls, handler, c).await;
                            }
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(TestServer {
            addr,
            tls: is_tls,
            counters,
            task,
        })
    }

    /// The socket address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://…`).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }

    /// Connections open right now (accepted and not yet closed by either side).
    pub fn open_connections(&self) -> usize {
        self.counters.open.load(Ordering::SeqCst)
    }

    /// The most connections open at once.
    pub fn peak_connections(&self) -> usize {
        self.counters.peak_open.load(Ordering::SeqCst)
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// The most requests being handled at once.
    pub fn peak_concurrent(&self) -> usize {
        self.counters.peak_active.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("requests", &self.requests())
            .finish()
    }
}

/// A server answering `GET /hello` with `hello` and everything else with 404, for
/// examples. Returns its base URL and the server (keep it alive).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (url, _server) = hwctl_http::testing::hello_server().await;
/// let client = hwctl_http::HttpClient::new(hwctl_http::EndpointConfig::builder(url).build()?)?;
/// assert_eq!(client.get("/hello").await?.text()?, "hello");
/// assert_eq!(client.get("/other").await.unwrap_err().kind(), hwctl_core::ErrorKind::NotFound);
/// # Ok(()) }
/// ```
pub async fn hello_server() -> (String, TestServer) {
    let server = TestServer::start(|req| {
        if req.target == "/hello" {
            Reply::ok("hello").header("content-type", "text/plain")
        } else {
            Reply::status(404).body("not here")
        }
    })
    .await
    .unwrap_or_else(|e| panic!("cannot bind a loopback test server: {e}"));
    (server.base_url(), server)
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: Arc<Handler>,
    c: Arc<Counters>,
) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let req = match read_request(&mut stream, &mut buf).await {
            Some(r) => r,
            None => return,
        };
        c.requests.fetch_add(1, Ordering::SeqCst);
        let now = c.active.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak_active.fetch_max(now, Ordering::SeqCst);
        let reply = handler(&req);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let keep = match reply.action {
            Action::Silence => {
                // Hold the connection open, say nothing, until the peer gives up.
                let mut sink = [0u8; 1024];
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
                false
            }
            Action::Close => false,
            Action::Answer => write_reply(&mut stream, &reply).await.is_ok(),
        };
        c.active.fetch_sub(1, Ordering::SeqCst);
        if !keep {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<ServerRequest> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if len > MAX_REQUEST {
        return None;
    }
    buf.drain(..head_end + 4);
    while buf.len() < len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    Some(ServerRequest {
        method,
        target,
        headers,
        body,
    })
}

async fn write_reply<S: AsyncWrite + Unpin>(stream: &mut S, reply: &Reply) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (n, v) in &reply.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if reply.chunked {
        out.push_str("transfer-encoding: chunked\r\n\r\n");
        stream.write_all(out.as_bytes()).await?;
    } else {
        out.push_str(&format!("content-length: {}\r\n\r\n", reply.body.len()));
        // One write for head and body: no small-segment delays.
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&reply.body);
        stream.write_all(&bytes).await?;
    }
    if reply.chunked {
        for chunk in reply.body.chunks(16 * 1024) {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await?;
        }
        stream.write_all(b"0\r\n\r\n").await?;
    }
    stream.flush().await
}
