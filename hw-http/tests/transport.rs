//! Timeouts, body cap, concurrency limit, retries, status mapping, basic auth and
//! the client cache, against loopback servers.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hwctl_core::ErrorKind;
use hwctl_core::poll::Backoff;
use hwctl_http::testing::{Reply, TestServer};
use hwctl_http::{
    Auth, EndpointConfig, EndpointConfigBuilder, HttpClient, HttpClients, Request, RetryPolicy,
};

fn builder(server: &TestServer) -> EndpointConfigBuilder {
    EndpointConfig::builder(server.base_url()).retry(RetryPolicy::none())
}

fn client(b: EndpointConfigBuilder) -> HttpClient {
    HttpClient::new(b.build().unwrap()).unwrap()
}

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::default().with_max_attempts(n).with_backoff(
        Backoff::exponential(Duration::from_millis(5), Duration::from_millis(20)).with_jitter(),
    )
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_request_timeout() {
    let server = TestServer::start(|_| Reply::silence()).await.unwrap();
    let c = client(builder(&server).request_timeout(Duration::from_millis(300)));
    let start = Instant::now();
    let err = c.get("/never").await.unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_retryable());
    assert!(took >= Duration::from_millis(290), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(err.to_string().contains("/never"), "{err}");
}

#[tokio::test]
async fn a_slow_body_counts_against_the_request_timeout() {
    let server = TestServer::start(|_| Reply::ok("late").delay(Duration::from_secs(5)))
        .await
        .unwrap();
    let c = client(builder(&server).request_timeout(Duration::from_millis(200)));
    let start = Instant::now();
    assert_eq!(c.get("/").await.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// A body that keeps arriving, a byte at a time, but never completes: each byte
/// wakes the request, which is polled again and again before its deadline; the
/// timer armed at its first poll must still end it at the request timeout
/// (issue 16: the timer is not polled again on those wakes).
#[tokio::test]
async fn a_trickling_body_still_times_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n";
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if s.write_all(b"x").await.is_err() {
                return;
            }
        }
    });
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://{addr}/"))
            .request_timeout(Duration::from_millis(300))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    // Without the timer the body would end cut short after 20 s: a `Protocol` error.
    let err = c.get("/trickle").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string()
            .contains("no complete response within 300ms"),
        "{err}"
    );
    task.abort();
}

#[tokio::test]
async fn a_stalled_tls_handshake_hits_the_connect_timeout() {
    // Accepts TCP, never speaks TLS: the handshake is part of connecting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let c = HttpClient::new(
        EndpointConfig::builder(format!("https://{addr}/"))
            .connect_timeout(Duration::from_millis(300))
            .request_timeout(Duration::from_secs(20))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let start = Instant::now();
    let err = c.get("/").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("connect"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    task.abort();
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
            .retry(fast_retries(3))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = c.post("/power", "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

/// A port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Operator trial: the 48 blades of a chassis whose manager refused connections
/// were 48 retry loops on the one client they share (96 warnings, ~20 s at `fleet
/// --concurrency 1`). A request that starts within the retry policy's longest
/// backoff wait after an earlier one found the endpoint unreachable fails at once,
/// `Unreachable` (not delivered), saying so; only the first request connected.
#[tokio::test]
async fn nodes_sharing_a_refusing_endpoint_connect_once_per_window() {
    let port = closed_port();
    let clients = HttpClients::new();
    // Waits of 1 then 2 ms between one request's attempts, a window of 60 s.
    let policy = RetryPolicy::default().with_backoff(Backoff::exponential(
        Duration::from_millis(1),
        Duration::from_secs(60),
    ));
    let config = EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
        .retry(policy)
        .build()
        .unwrap();
    let first = clients.get(&config).unwrap();
    let err = first.get("/blade/1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(!err.to_string().contains("found unreachable"), "{err}");
    assert_eq!(
        first.stats().attempts,
        3,
        "the first request retries as before"
    );
    for blade in 2..=48 {
        let c = clients.get(&config).unwrap();
        let err = c.get(format!("/blade/{blade}")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
        assert!(err.was_not_delivered(), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "/blade/{blade}: not sent: http://127.0.0.1:{port} was found unreachable"
            )) && text.contains("s ago by an earlier request (cannot connect to")
                && text.contains("no connection is tried until 60.0s after that"),
            "{text}"
        );
    }
    // Not a single connection attempt more: the 47 later blades' requests.
    assert_eq!(first.stats().attempts, 3);
    // A request that is not idempotent gets the same answer (nothing was sent).
    let err = first.post("/blade/1/power", "on").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert_eq!(first.stats().attempts, 3);
}

/// The window over (the retry policy's longest wait: 1 ms here), a request
/// connects again (a connection that opens clears the mark: the unit tests of
/// `transport::FoundUnreachable`).
#[tokio::test]
async fn after_the_window_a_request_connects_again() {
    let port = closed_port();
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
            .retry(RetryPolicy::none().with_backoff(Backoff::fixed(Duration::from_millis(1))))
            .build()
            .unwrap(),
    )
    .unwrap();
    c.get("/a").await.unwrap_err();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let err = c.get("/b").await.unwrap_err();
    assert!(!err.to_string().contains("found unreachable"), "{err}");
    assert_eq!(c.stats().attempts, 2);
}

#[tokio::test]
async fn unknown_host_is_an_input_error_or_unreachable() {
    let c = HttpClient::new(
        EndpointConfig::builder("http://no-such-host.invalid/")
            .retry(RetryPolicy::none())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = c.get("/").await.unwrap_err();
    assert!(
        // A resolver that answers NXDOMAIN: the host does not exist, an input error
        // (never retried). A sandbox resolver that only fails for now: unreachable.
        matches!(
            err.kind(),
            ErrorKind::InvalidParameter | ErrorKind::Unreachable | ErrorKind::Timeout
        ),
        "{err}"
    );
}

#[tokio::test]
async fn body_over_the_cap_is_a_protocol_error() {
    let server = TestServer::start(|req| match req.target.as_str() {
        "/declared" => Reply::ok(vec![b'a'; 5000]),
        "/chunked" => Reply::ok(vec![b'b'; 100_000]).chunked(),
        _ => Reply::ok(vec![b'c'; 1000]).chunked(),
    })
    .await
    .unwrap();
    let c = client(builder(&server).max_body_bytes(1000));
    let err = c.get("/declared").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("1000"), "{err}");
    let err = c.get("/chunked").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(!err.is_retryable());
    // Exactly at the cap is fine.
    assert_eq!(c.get("/exact").await.unwrap().body().len(), 1000);
}

#[tokio::test]
async fn a_huge_chunked_body_stops_at_the_cap() {
    // 64 MiB announced by chunks; the client must stop early, not buffer it all.
    let server = TestServer::start(|_| Reply::ok(vec![b'z'; 64 * 1024 * 1024]).chunked())
        .await
        .unwrap();
    let c = client(builder(&server).max_body_bytes(64 * 1024));
    let start = Instant::now();
    let err = c.get("/").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_is_respected() {
    let server = TestServer::start(|_| Reply::ok("x").delay(Duration::from_millis(50)))
        .await
        .unwrap();
    let c = client(builder(&server).max_concurrency(3));
    let mut tasks = Vec::new();
    for i in 0..24 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.get(format!("/r{i}")).await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.requests(), 24);
    assert_eq!(server.peak_concurrent(), 3, "server saw a different peak");
    assert_eq!(c.stats().peak_in_flight, 3);
    assert_eq!(c.stats().in_flight, 0);
    // The limit holds for connections too: never more than 3 open at once, even in
    // the moment a connection is on its way back to the pool; and they are reused.
    assert!(
        server.peak_connections() <= 3,
        "{} connections open at once",
        server.peak_connections()
    );
    assert!(
        server.connections() < 24,
        "{} connections",
        server.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_from_the_cache_share_one_limit() {
    let server = TestServer::start(|_| Reply::ok("x").delay(Duration::from_millis(40)))
        .await
        .unwrap();
    let clients = HttpClients::new();
    let config = builder(&server)
        .auth(Auth::basic("admin", "pw"))
        .max_concurrency(2)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    // 48 "blades", each asking the cache for its client.
    for i in 0..48 {
        let c = clients.get(&config).unwrap();
        tasks.push(tokio::spawn(async move {
            c.get(format!("/blade/{i}")).await.map(|_| ())
        }));
    }
    assert_eq!(clients.len(), 1);
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.peak_concurrent(), 2);
}

/// A server that answers 503 to the first `fail` requests, then 200.
async fn flaky(fail: usize) -> (TestServer, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let server = TestServer::start(move |_| {
        if s.fetch_add(1, Ordering::SeqCst) < fail {
            Reply::status(503).body("busy, try later")
        } else {
            Reply::ok("done")
        }
    })
    .await
    .unwrap();
    (server, seen)
}

#[tokio::test]
async fn idempotent_requests_are_retried() {
    let (server, seen) = flaky(2).await;
    let c = client(builder(&server).retry(fast_retries(3)));
    let reply = c.get("/state").await.unwrap();
    assert_eq!(reply.text().unwrap(), "done");
    assert_eq!(seen.load(Ordering::SeqCst), 3);

    // Out of attempts: the last status is the error.
    let (server, seen) = flaky(10).await;
    let c = client(builder(&server).retry(fast_retries(3)));
    let err = c.get("/state").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("503"), "{err}");
    assert!(err.to_string().contains("busy, try later"), "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn non_idempotent_requests_are_sent_once() {
    let (server, seen) = flaky(2).await;
    let c = client(builder(&server).retry(fast_retries(5)));
    let err = c
        .send(Request::post("/SetBladeActivePowerCycle?bladeid=1").operation("power cycle"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy);
    assert_eq!(err.operation(), Some("power cycle"));
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "a power cycle was sent twice"
    );

    // A GET marked not idempotent is not retried either.
    let (server, seen) = flaky(2).await;
    let c = client(builder(&server).retry(fast_retries(5)));
    let _ = c.send(Request::get("/reset").idempotent(false)).await;
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_cut_mid_request_is_not_resent_unless_idempotent() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let server = TestServer::start(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
        Reply::close()
    })
    .await
    .unwrap();
    let c = client(builder(&server).retry(fast_retries(3)));
    let err = c.post("/power/off", "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 1, "POST resent after a cut");

    seen.store(0, Ordering::SeqCst);
    let err = c.get("/state").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn statuses_map_to_kinds_and_send_raw_returns_them() {
    let server = TestServer::start(|req| {
        let code: u16 = req.target.trim_start_matches('/').parse().unwrap_or(500);
        Reply::status(code).body(format!("status {code}\n{}", "y".repeat(1000)))
    })
    .await
    .unwrap();
    let c = client(builder(&server));
    for (code, kind) in [
        (400, ErrorKind::InvalidParameter),
        (401, ErrorKind::Unauthenticated),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (409, ErrorKind::Busy),
        (423, ErrorKind::Busy),
        (429, ErrorKind::Busy),
        (500, ErrorKind::DeviceFault),
        (503, ErrorKind::Busy),
    ] {
        let err = c.get(format!("/{code}")).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{code}: {err}");
        let text = err.to_string();
        assert!(text.contains(&format!("HTTP {code}")), "{text}");
        assert!(text.contains(&format!("status {code}")), "{text}");
        assert!(
            text.len() < 400,
            "excerpt not limited: {} chars",
            text.len()
        );
        let raw = c.send_raw(Request::get(format!("/{code}"))).await.unwrap();
        assert_eq!(raw.status().as_u16(), code);
        assert_eq!(raw.error_for_status().unwrap_err().kind(), kind);
    }
    assert_eq!(c.send(Request::get("/204")).await.unwrap().status(), 204);
}

#[tokio::test]
async fn basic_auth_and_user_agent_are_sent() {
    let server = TestServer::start(|req| {
        // base64("admin:s3cr:et") = YWRtaW46czNjcjpldA==
        if req.header("authorization") == Some("Basic YWRtaW46czNjcjpldA==") {
            Reply::ok(req.header("user-agent").unwrap_or("").to_string())
        } else {
            Reply::status(401).header("www-authenticate", "Basic realm=\"x\"")
        }
    })
    .await
    .unwrap();
    let c = client(builder(&server).auth(Auth::basic("admin", "s3cr:et")));
    assert!(
        c.get("/")
            .await
            .unwrap()
            .text()
            .unwrap()
            .starts_with("hwctl-http/")
    );
    let c = client(builder(&server).auth(Auth::basic("admin", "wrong")));
    assert_eq!(
        c.get("/").await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

#[tokio::test]
async fn base_path_query_and_body_reach_the_server() {
    let server = TestServer::start(|req| {
        Reply::ok(format!(
            "{} {} {}",
            req.method,
            req.target,
            String::from_utf8_lossy(&req.body)
        ))
    })
    .await
    .unwrap();
    let c = client(
        EndpointConfig::builder(format!("{}/api/v1/", server.base_url()))
            .retry(RetryPolicy::none()),
    );
    let reply = c
        .send(Request::put("/blade?id=3").json(&serde_json::json!({"on": true})))
        .await
        .unwrap();
    assert_eq!(
        reply.text().unwrap(),
        r#"PUT /api/v1/blade?id=3 {"on":true}"#
    );
    let err = c.get("relative").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    let err = c
        .send(Request::get("/").header("bad header", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
}

#[tokio::test]
async fn malformed_responses_are_protocol_errors() {
    // A raw listener that answers garbage.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"NOT HTTP AT ALL\r\n\r\n").await;
        }
    });
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://{addr}/"))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = c.get("/").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    task.abort();
}

#[tokio::test]
async fn a_body_cut_short_of_its_content_length_is_a_truncated_protocol_error() {
    // A raw listener that declares 100 bytes, sends 5 and closes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let task = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            s.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
                .await;
            let _ = sock.shutdown().await;
        }
    });
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://{addr}/"))
            .retry(fast_retries(3))
            .build()
            .unwrap(),
    )
    .unwrap();
    // The kind docs/error-kinds.md gives: the reply is not complete.
    let err = c.get("/state").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(
        err.to_string().contains("truncated response")
            && err.to_string().contains("after 5 of 100 bytes"),
        "{err}"
    );
    // Retryable (a cut can be transient), so an idempotent read was asked again...
    assert!(err.is_retryable());
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    // ...but a request that is not idempotent was sent once.
    seen.store(0, Ordering::SeqCst);
    let err = c.post("/power/off", "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "POST resent after a truncated reply"
    );
    task.abort();
}

#[test]
fn cache_keys_separate_endpoints_and_credentials() {
    let clients = HttpClients::new();
    let cfg = |url: &str, pw: &str| {
        EndpointConfig::builder(url)
            .auth(Auth::digest("admin", pw.to_string()))
            .build()
            .unwrap()
    };
    let a = clients.get(&cfg("http://h:80/", "p")).unwrap();
    assert!(a.same_client(&clients.get(&cfg("http://H/", "p")).unwrap()));
    assert!(!a.same_client(&clients.get(&cfg("http://h:81/", "p")).unwrap()));
    assert!(!a.same_client(&clients.get(&cfg("https://h:80/", "p")).unwrap()));
    assert!(!a.same_client(&clients.get(&cfg("http://h:80/", "q")).unwrap()));
    drop(a);
    assert!(clients.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_slot_is_bounded_by_the_queue_timeout() {
    let server = TestServer::start(|_| Reply::ok("x").delay(Duration::from_secs(3)))
        .await
        .unwrap();
    let c = client(
        builder(&server)
            .max_concurrency(1)
            .queue_timeout(Duration::from_millis(200)),
    );
    let first = {
        let c = c.clone();
        tokio::spawn(async move { c.get("/slow").await.map(|_| ()) })
    };
    // Wait until the first request holds the only slot (a fixed sleep races with a
    // loaded scheduler: the second request could take the slot first).
    let t = Instant::now();
    while c.stats().in_flight == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "first request never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let start = Instant::now();
    let err = c.get("/queued").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("request slots"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    first.await.unwrap().unwrap();
    assert_eq!(
        server.requests(),
        1,
        "the queued request never reached the server"
    );
}

#[tokio::test]
async fn a_dropped_test_server_closes_its_open_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start(|_| Reply::ok("x")).await.unwrap();
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let request = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n";
    s.write_all(request).await.unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n\r\nx") {
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the first reply");
        got.extend_from_slice(&buf[..n]);
    }
    // A keep-alive connection of a pooled client must not outlive the server.
    drop(server);
    let _ = s.write_all(request).await;
    let mut after = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut after))
        .await
        .expect("the connection stayed open after the server was dropped");
    assert!(
        r.is_err() || after.is_empty(),
        "a dropped server still answered: {:?}",
        String::from_utf8_lossy(&after)
    );
}

/// A request marked `despite_unreachable` (a resend after the caller's own wait,
/// as Intel AMT's after its wake-up wait) connects while the endpoint's mark is
/// fresh, where any other request fails at once without a connection.
#[tokio::test]
async fn a_request_despite_unreachable_connects_within_the_window() {
    let port = closed_port();
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
            .retry(RetryPolicy::none().with_backoff(Backoff::fixed(Duration::from_secs(60))))
            .build()
            .unwrap(),
    )
    .unwrap();
    c.get("/a").await.unwrap_err();
    // The endpoint comes up (an AMT woken by the first try): something now
    // listens on the port, and answers.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await;
        }
    });
    let err = c.get("/b").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.to_string().contains("found unreachable"), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    let reply = c
        .send(Request::get("/c").despite_unreachable())
        .await
        .unwrap();
    assert_eq!(reply.body().as_ref(), b"ok");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
