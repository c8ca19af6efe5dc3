//! Session tokens: one login reused by concurrent requests, re-login once on 401,
//! logout on close and on drop of the last client; no session leaks.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::{ErrorKind, ExposeSecret, SecretString};
use hwctl_http::testing::{Reply, ServerRequest, TestServer};
use hwctl_http::{
    Auth, EndpointConfig, HttpClient, HttpClients, Request, RetryPolicy, Session, SessionAuth,
    SessionClient,
};

/// Server state: open sessions, and counters.
#[derive(Default)]
struct Sessions {
    open: Mutex<HashSet<String>>,
    logins: AtomicUsize,
    logouts: AtomicUsize,
    next: AtomicUsize,
}

const PASSWORD: &str = "tr0ub4dor&3";

fn token_of(req: &ServerRequest) -> Option<String> {
    if let Some(t) = req.header("x-auth-token") {
        return Some(t.to_string());
    }
    req.header("cookie")?
        .split(';')
        .find_map(|c| c.trim().strip_prefix("SESSION="))
        .map(str::to_string)
}

async fn server(state: Arc<Sessions>) -> TestServer {
    TestServer::start(
        move |req| match (req.method.as_str(), req.target.as_str()) {
            ("POST", "/login") => {
                let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
                if body["password"] != PASSWORD {
                    return Reply::status(401).body("bad credentials");
                }
                state.logins.fetch_add(1, Ordering::SeqCst);
                let token = format!("tok-{}", state.next.fetch_add(1, Ordering::SeqCst));
                state.open.lock().unwrap().insert(token.clone());
                Reply::ok(serde_json::json!({ "token": token }).to_string())
            }
            ("DELETE", "/logout") => match token_of(req) {
                Some(t) if state.open.lock().unwrap().remove(&t) => {
                    state.logouts.fetch_add(1, Ordering::SeqCst);
                    Reply::status(204)
                }
                _ => Reply::status(401),
            },
            ("POST", "/expire-all") => {
                state.open.lock().unwrap().clear();
                Reply::status(204)
            }
            _ => match token_of(req) {
                Some(t) if state.open.lock().unwrap().contains(&t) => {
                    Reply::ok("data").delay(Duration::from_millis(10))
                }
                _ => Reply::status(401).body("no session"),
            },
        },
    )
    .await
    .unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Header,
    Cookie,
}

#[derive(Debug)]
struct TokenLogin {
    user: String,
    password: SecretString,
    style: Style,
}

#[hwctl_core::async_trait]
impl SessionAuth for TokenLogin {
    async fn login(&self, client: &SessionClient<'_>) -> hwctl_core::Result<Session> {
        let body =
            serde_json::json!({"user": self.user, "password": self.password.expose_secret()});
        let reply: serde_json::Value = client
            .send(Request::post("/login").json(&body).operation("login"))
            .await?
            .json()?;
        let token = reply["token"]
            .as_str()
            .ok_or_else(|| hwctl_core::Error::protocol("no token in login reply"))?
            .to_string();
        match self.style {
            Style::Header => Session::new().header("X-Auth-Token", token.into()),
            Style::Cookie => Session::new().cookie("SESSION", token.into()),
        }
    }

    async fn logout(
        &self,
        client: &SessionClient<'_>,
        session: &Session,
    ) -> hwctl_core::Result<()> {
        client
            .send(session.apply(Request::delete("/logout").operation("logout")))
            .await
            .map(|_| ())
    }

    fn cache_key(&self) -> String {
        format!(
            "{}:{}",
            self.user,
            hwctl_core::shared::Fingerprint::of_parts(&[
                self.user.as_bytes(),
                self.password.expose_secret().as_bytes()
            ])
        )
    }
}

fn config(server: &TestServer, password: &str, style: Style) -> EndpointConfig {
    EndpointConfig::builder(server.base_url())
        .auth(Auth::session(TokenLogin {
            user: "admin".into(),
            password: password.to_string().into(),
            style,
        }))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_login_is_shared_by_concurrent_requests() {
    for style in [Style::Header, Style::Cookie] {
        let state = Arc::new(Sessions::default());
        let server = server(state.clone()).await;
        let client = HttpClient::new(config(&server, PASSWORD, style)).unwrap();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let c = client.clone();
            tasks.push(tokio::spawn(
                async move { c.get(format!("/data/{i}")).await },
            ));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().text().unwrap(), "data");
        }
        assert_eq!(state.logins.load(Ordering::SeqCst), 1, "{style:?}");
        assert_eq!(client.stats().logins, 1);
        client.close().await.unwrap();
        assert_eq!(state.logouts.load(Ordering::SeqCst), 1);
        assert!(state.open.lock().unwrap().is_empty());
        assert_eq!(client.stats().logouts, 1);
    }
}

#[tokio::test]
async fn an_expired_session_is_renewed_once() {
    let state = Arc::new(Sessions::default());
    let server = server(state.clone()).await;
    let client = HttpClient::new(config(&server, PASSWORD, Style::Header)).unwrap();
    client.get("/a").await.unwrap();
    // The device forgets every session.
    client.post("/expire-all", "").await.unwrap();
    // Even a POST is resent after the 401: the device did not act on it.
    let reply = client.send(Request::post("/b")).await.unwrap();
    assert_eq!(reply.text().unwrap(), "data");
    assert_eq!(state.logins.load(Ordering::SeqCst), 2);
    client.get("/c").await.unwrap();
    assert_eq!(state.logins.load(Ordering::SeqCst), 2);
    client.close().await.unwrap();
    assert!(state.open.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_last_drop_logs_out() {
    let state = Arc::new(Sessions::default());
    let server = server(state.clone()).await;
    let clients = HttpClients::new();
    let cfg = config(&server, PASSWORD, Style::Header);
    let a = clients.get(&cfg).unwrap();
    let b = clients.get(&cfg).unwrap();
    assert!(a.same_client(&b));
    a.get("/x").await.unwrap();
    b.get("/y").await.unwrap();
    assert_eq!(state.logins.load(Ordering::SeqCst), 1);
    drop(a);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        state.logouts.load(Ordering::SeqCst),
        0,
        "logged out while in use"
    );
    drop(b);
    eventually("logout after the last drop", || {
        state.logouts.load(Ordering::SeqCst) == 1
    })
    .await;
    assert!(state.open.lock().unwrap().is_empty(), "a session leaked");
    assert!(clients.is_empty());
    // A new client logs in again.
    let c = clients.get(&cfg).unwrap();
    c.get("/z").await.unwrap();
    assert_eq!(state.logins.load(Ordering::SeqCst), 2);
    c.close().await.unwrap();
    assert_eq!(
        state.logins.load(Ordering::SeqCst),
        state.logouts.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_client_that_never_logged_in_does_not_log_out() {
    let state = Arc::new(Sessions::default());
    let server = server(state.clone()).await;
    let client = HttpClient::new(config(&server, PASSWORD, Style::Header)).unwrap();
    client.close().await.unwrap();
    drop(client);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn wrong_credentials_fail_without_looping() {
    let state = Arc::new(Sessions::default());
    let server = server(state.clone()).await;
    let client = HttpClient::new(config(&server, "wrong-password-xyz", Style::Header)).unwrap();
    let err = client.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(err.operation(), Some("login"));
    assert!(!err.to_string().contains("wrong-password-xyz"));
    assert!(!format!("{err:?}").contains("wrong-password-xyz"));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_token_refused_twice_is_unauthenticated() {
    // Login works but every other request says 401: one re-login, then give up.
    let logins = Arc::new(AtomicUsize::new(0));
    let l = logins.clone();
    let server = TestServer::start(move |req| {
        if req.target == "/login" {
            l.fetch_add(1, Ordering::SeqCst);
            Reply::ok(r#"{"token":"t"}"#)
        } else {
            Reply::status(401)
        }
    })
    .await
    .unwrap();
    let client = HttpClient::new(config(&server, PASSWORD, Style::Header)).unwrap();
    let err = client.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(logins.load(Ordering::SeqCst), 2);
    assert_eq!(server.requests(), 4);
}

/// A log-in that reads before it posts (as Redfish's `GET ServiceRoot`): an
/// idempotent request inside the log-in, retried by the log-in's own loop.
#[derive(Debug)]
struct ReadFirstLogin;

#[hwctl_core::async_trait]
impl SessionAuth for ReadFirstLogin {
    async fn login(&self, client: &SessionClient<'_>) -> hwctl_core::Result<Session> {
        client
            .send(Request::get("/root").operation("GET root"))
            .await?;
        Session::new().header("X-Auth-Token", "t".to_string().into())
    }

    async fn logout(&self, _: &SessionClient<'_>, _: &Session) -> hwctl_core::Result<()> {
        Ok(())
    }

    fn cache_key(&self) -> String {
        "read-first".into()
    }
}

/// Issue 15: a Redfish request to a dead endpoint said "after 3 attempts" while 9
/// connections were made — the request's retry loop retried the log-in, which had
/// already run its own 3 attempts. A listener that accepts and drops every
/// connection counts them: exactly as many as the message says.
#[tokio::test]
async fn a_failed_login_is_not_retried_again_by_the_request_that_needed_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let acceptor = tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    let backoff =
        hwctl_core::poll::Backoff::exponential(Duration::from_millis(1), Duration::from_millis(5));
    let config = EndpointConfig::builder(format!("http://127.0.0.1:{port}"))
        .auth(Auth::session(ReadFirstLogin))
        .retry(RetryPolicy::default().with_backoff(backoff))
        .build()
        .unwrap();
    let client = HttpClient::new(config).unwrap();
    let err = client.get("/data").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.message().contains("after 3 attempts"), "{err}");
    assert_eq!(err.message().matches("attempts over").count(), 1, "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "{err}");
    assert_eq!(client.stats().attempts, 3);
    // The error keeps its kind's retryability for callers with their own policy.
    assert!(err.is_retryable());
    acceptor.abort();
}

/// A request that must log in first, on an endpoint an earlier request found
/// unreachable: its log-in's request fails at once (no connection tried), and the
/// error is the log-in's, as every log-in failure is (hw-redfish's `session
/// log-in: GET ServiceRoot: …`), not the request's own.
#[tokio::test]
async fn a_login_on_an_endpoint_found_unreachable_fails_at_once_named_the_log_in() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // Waits of 1 then 2 ms between attempts; a window of 60 s.
    let backoff =
        hwctl_core::poll::Backoff::exponential(Duration::from_millis(1), Duration::from_secs(60));
    let config = EndpointConfig::builder(format!("http://127.0.0.1:{port}"))
        .auth(Auth::session(ReadFirstLogin))
        .retry(RetryPolicy::default().with_backoff(backoff))
        .build()
        .unwrap();
    let client = HttpClient::new(config).unwrap();
    let first = client.get("/data").await.unwrap_err();
    assert_eq!(client.stats().attempts, 3, "{first}");
    let err = client.get("/data").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    // The log-in's own request (a log-in hook names the rest: hw-redfish's
    // `session log-in: GET ServiceRoot: …`).
    assert_eq!(err.operation(), Some("GET root"), "{err}");
    assert!(err.message().contains("found unreachable"), "{err}");
    assert_eq!(client.stats().attempts, 3, "{err}");
}
