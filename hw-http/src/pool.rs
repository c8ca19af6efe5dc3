//! The endpoint's HTTP/1.1 keep-alive pool, over `hyper::client::conn::http1`
//! (issue 16; decision in docs/decisions.md).
//!
//! A request already holds one of the endpoint's `max_concurrency` request slots
//! (`Core::permits`) when it gets here. It takes the most recently returned idle
//! connection that is still usable, or opens one; opening takes one of the
//! connector's connection slots (the same number), held until the connection
//! closes, so never more connections are open to the endpoint than that.
//!
//! A connection goes back to the idle list only when its response was read to the
//! end without an error and neither side is closing it; on every other path it is
//! dropped, which closes it. An idle connection older than the idle timeout is
//! closed: at checkout, and by a reaper task (holding only a `Weak` to the pool)
//! that runs while the idle list is not empty. Dropping the pool (the last client
//! clone) drops every idle connection, closing them at once.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use tokio::time::Instant;

use crate::transport::{ConnectError, Connector};

type Sender = SendRequest<Full<Bytes>>;

/// The pool of one endpoint; dropping it closes its idle connections.
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Connector,
    idle: Mutex<IdleList>,
    idle_timeout: Duration,
}

#[derive(Default)]
struct IdleList {
    /// Oldest first: checkout pops the newest (LIFO), the reaper trims the front.
    conns: Vec<Idle>,
    /// Whether a reaper task is running (it ends when the list is empty).
    reaper: bool,
}

struct Idle {
    sender: Sender,
    since: Instant,
}

/// Why a request got no response.
pub(crate) enum SendError {
    /// No connection could be opened: nothing was sent.
    Connect(ConnectError),
    /// The connection failed; `sent` is false when the request was never written
    /// (a new connection that closed first).
    Failed { error: hyper::Error, sent: bool },
}

/// The connection a response came on, until its body has been read: [`release`]
/// gives it back to the pool; dropping it closes it.
///
/// [`release`]: Lease::release
pub(crate) struct Lease {
    sender: Sender,
    pool: Arc<Inner>,
}

impl Lease {
    /// Gives the connection back for reuse: call only once the response body was
    /// read to the end without an error. `closing` (the reply said
    /// `Connection: close`, or was not HTTP/1.1 keep-alive) closes it instead.
    pub(crate) fn release(self, closing: bool) {
        if closing || self.sender.is_closed() {
            return;
        }
        Inner::put(&self.pool, self.sender);
    }
}

impl Pool {
    /// A pool opening its connections with `connector`; idle connections are kept
    /// for `idle_timeout`.
    pub(crate) fn new(connector: Connector, idle_timeout: Duration) -> Self {
        Pool {
            inner: Arc::new(Inner {
                connector,
                idle: Mutex::new(IdleList::default()),
                idle_timeout,
            }),
        }
    }

    /// Connections open right now (idle or in use; counted by their slots).
    pub(crate) fn open_connections(&self) -> usize {
        self.inner.connector.open_connections()
    }

    /// When a connection to the endpoint last failed to open, if none opened since
    /// and that was less than `window` ago (`crate::transport::FoundUnreachable`).
    pub(crate) fn found_unreachable(
        &self,
        window: Duration,
    ) -> Option<crate::transport::UnreachableMark> {
        self.inner.connector.found_unreachable(window)
    }

    /// Sends `req` (origin-form URI, `Host` set) on an idle connection or a new one.
    /// A pooled connection found closed before the request was written to it is
    /// dropped and the request goes to the next one (or a new one): that is not an
    /// error, and nothing was sent.
    pub(crate) async fn send(
        &self,
        mut req: http::Request<Full<Bytes>>,
    ) -> Result<(http::Response<Incoming>, Lease), SendError> {
        loop {
            let (mut sender, reused) = match self.inner.take_idle() {
                Some(sender) => (sender, true),
                None => (self.open().await?, false),
            };
            if reused && sender.ready().await.is_err() {
                // Closed while idle (the server's keep-alive ran out): next one.
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    return Ok((
                        resp,
                        Lease {
                            sender,
                            pool: self.inner.clone(),
                        },
                    ));
                }
                Err(mut e) => match e.take_message() {
                    Some(back) if reused => req = back,
                    Some(_) => {
                        return Err(SendError::Failed {
                            error: e.into_error(),
                            sent: false,
                        });
                    }
                    None => {
                        return Err(SendError::Failed {
                            error: e.into_error(),
                            sent: true,
                        });
                    }
                },
            }
        }
    }

    /// Opens a connection (holding a connection slot until it closes) and spawns
    /// its task.
    async fn open(&self) -> Result<Sender, SendError> {
        let io = self
            .inner
            .connector
            .open()
            .await
            .map_err(SendError::Connect)?;
        let (sender, conn) = http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|error| SendError::Failed { error, sent: false })?;
        tokio::spawn(async move {
            // Its error reaches the request through the sender; the I/O (and the
            // connection slot) is dropped when this ends.
            let _ = conn.await;
        });
        Ok(sender)
    }
}

impl Inner {
    /// The newest idle connection that is open and not older than the idle
    /// timeout; older ones are dropped (closed).
    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(conn) = idle.conns.pop() {
            if conn.since.elapsed() >= self.idle_timeout {
                // Every older one has expired too.
                idle.conns.clear();
                return None;
            }
            if !conn.sender.is_closed() {
                return Some(conn.sender);
            }
        }
        None
    }

    /// Puts a connection on the idle list and starts the reaper if none runs.
    fn put(this: &Arc<Self>, sender: Sender) {
        let start_reaper = {
            let mut idle = this.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.conns.push(Idle {
                sender,
                since: Instant::now(),
            });
            !std::mem::replace(&mut idle.reaper, true)
        };
        if start_reaper {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(reap(Arc::downgrade(this)));
                }
                Err(_) => {
                    this.idle.lock().unwrap_or_else(|p| p.into_inner()).reaper = false;
                }
            }
        }
    }
}

/// Closes idle connections as they pass the idle timeout; ends when the idle list
/// is empty or the pool is gone.
async fn reap(pool: Weak<Inner>) {
    // Clears the pool's `reaper` flag if this task is dropped unfinished (its
    // runtime shut down while the client lives on): the next put starts another.
    struct Running {
        pool: Weak<Inner>,
        finished: bool,
    }
    impl Drop for Running {
        fn drop(&mut self) {
            if self.finished {
                return;
            }
            if let Some(inner) = self.pool.upgrade() {
                inner.idle.lock().unwrap_or_else(|p| p.into_inner()).reaper = false;
            }
        }
    }
    let mut running = Running {
        pool: pool.clone(),
        finished: false,
    };
    loop {
        let wake = {
            let Some(inner) = pool.upgrade() else { return };
            let mut idle = inner.idle.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let expired = idle
                .conns
                .iter()
                .take_while(|c| now.duration_since(c.since) >= inner.idle_timeout)
                .count();
            // Dropping a sender closes its connection (its task ends).
            idle.conns.drain(..expired);
            match idle.conns.first() {
                Some(oldest) => oldest.since + inner.idle_timeout,
                None => {
                    idle.reaper = false;
                    running.finished = true;
                    return;
                }
            }
        };
        tokio::time::sleep_until(wake).await;
    }
}

#[cfg(all(test, feature = "testing"))]
mod idle_timeout_tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use crate::testing::{Reply, TestServer};
    use crate::{EndpointConfig, HttpClient, RetryPolicy};

    /// An idle connection is closed once it has been idle for the idle timeout,
    /// with no further request to notice it (the reaper), observed at the server;
    /// the client, still alive, then opens a new one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_connections_are_closed_after_the_idle_timeout_without_further_requests() {
        let server = TestServer::start(|_| Reply::ok("x")).await.unwrap();
        let config = EndpointConfig::builder(server.base_url())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let client = HttpClient::with_idle_timeout(config, Duration::from_millis(200)).unwrap();
        client.get("/").await.unwrap();
        assert_eq!(server.connections(), 1);
        let mut closed = false;
        for _ in 0..1000 {
            if server.open_connections() == 0 {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(closed, "the idle connection was never closed");
        assert_eq!(client.stats().open_connections, 0);
        client.get("/").await.unwrap();
        assert_eq!(server.connections(), 2);
    }

    /// The reaper ends when the idle list is empty and holds only a `Weak` to the
    /// pool: after the idle timeout closed the connection no task is left (the
    /// connection's and the reaper's ended).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reaper_ends_with_the_idle_list() {
        let server = TestServer::start(|_| Reply::ok("x")).await.unwrap();
        let config = EndpointConfig::builder(server.base_url())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        let client = HttpClient::with_idle_timeout(config, Duration::from_millis(100)).unwrap();
        client.get("/").await.unwrap();
        // The server's connection task, the client's connection task, the reaper.
        assert!(metrics.num_alive_tasks() > before);
        let mut alive = metrics.num_alive_tasks();
        for _ in 0..1000 {
            if alive <= before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            alive = metrics.num_alive_tasks();
        }
        assert!(alive <= before, "{alive} tasks alive, {before} before");
        drop(client);
    }
}
