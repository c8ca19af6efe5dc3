//! No secret in `Debug`, `Display`, errors or logs: every config and error type is
//! formatted with secrets set, and a trace-level log of real exchanges is searched.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use hwctl_core::{ExposeSecret, SecretString};
use hwctl_http::testing::{Reply, TestServer};
use hwctl_http::{
    Auth, EndpointConfig, HttpClient, HttpClients, Request, RetryPolicy, Session, SessionAuth,
    SessionClient, TlsConfig,
};

const SECRETS: &[&str] = &[
    "pw-SECRET-1",
    "digest-SECRET-2",
    "token-SECRET-3",
    "cookie-SECRET-4",
    "session-pw-SECRET-5",
    "url-SECRET-6",
    "SECRET", // nothing containing the marker may appear at all
];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} leaks {s:?}: {text}");
    }
}

#[derive(Debug)]
struct Hook {
    password: SecretString,
}

#[hwctl_core::async_trait]
impl SessionAuth for Hook {
    async fn login(&self, client: &SessionClient<'_>) -> hwctl_core::Result<Session> {
        let body = serde_json::json!({"password": self.password.expose_secret()});
        client.send(Request::post("/login").json(&body)).await?;
        Session::new()
            .header("X-Auth-Token", "token-SECRET-3".to_string().into())?
            .cookie("SESSION", "cookie-SECRET-4".to_string().into())
    }
    async fn logout(&self, _client: &SessionClient<'_>, _s: &Session) -> hwctl_core::Result<()> {
        Ok(())
    }
    fn cache_key(&self) -> String {
        hwctl_core::shared::Fingerprint::of(self.password.expose_secret()).to_string()
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_appear_in_debug_display_errors_or_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Every request is refused, after echoing nothing of what it got.
    let server = TestServer::start(|req| {
        if req.target == "/login" {
            Reply::ok("{}").header("set-cookie", "SESSION=cookie-SECRET-4")
        } else {
            Reply::status(401)
                .header(
                    "www-authenticate",
                    r#"Digest realm="r", nonce="n", qop="auth""#,
                )
                .body("denied")
        }
    })
    .await
    .unwrap();

    let auths = [
        Auth::basic("admin", "pw-SECRET-1"),
        Auth::digest("admin", "digest-SECRET-2"),
        Auth::session(Hook {
            password: "session-pw-SECRET-5".to_string().into(),
        }),
    ];
    let clients = HttpClients::new();
    for auth in auths {
        assert_clean("Auth Debug", &format!("{auth:?}"));
        let builder = EndpointConfig::builder(server.base_url())
            .auth(auth)
            .tls(TlsConfig::danger_accept_invalid_certs())
            .retry(RetryPolicy::none());
        assert_clean("builder Debug", &format!("{builder:?}"));
        let config = builder.build().unwrap();
        assert_clean("config Debug", &format!("{config:?}"));
        let client = clients.get(&config).unwrap();
        let req = Request::get("/x?token=token-SECRET-3")
            .header("Authorization", "Bearer token-SECRET-3")
            .header("Cookie", "SESSION=cookie-SECRET-4")
            .header("X-Auth-Token", "token-SECRET-3");
        assert_clean("Request Debug", &format!("{req:?}"));
        let err = client.send(req.clone()).await.unwrap_err();
        assert_clean("error Display", &err.to_string());
        assert_clean("error Debug", &format!("{err:?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            assert_clean("error source", &format!("{s} {s:?}"));
            source = s.source();
        }
        let resp = client.send_raw(req).await.unwrap();
        assert_clean("Response Debug", &format!("{resp:?}"));
        assert_clean("client Debug", &format!("{client:?}"));
        assert_clean("clients Debug", &format!("{clients:?}"));
    }

    let session = Session::new()
        .header("Auth", "token-SECRET-3".to_string().into())
        .unwrap()
        .cookie("SESSION", "cookie-SECRET-4".to_string().into())
        .unwrap()
        .with_id("/rest/sessions/1");
    assert_clean("Session Debug", &format!("{session:?}"));
    let resp = {
        let mut h = hwctl_http::HeaderMap::new();
        h.insert("set-cookie", "SESSION=cookie-SECRET-4".parse().unwrap());
        hwctl_http::Response::from_parts(hwctl_http::StatusCode::OK, h, "")
    };
    assert_clean("Response Debug", &format!("{resp:?}"));

    // Build-time errors: credentials in the URL are refused without being echoed.
    let err = EndpointConfig::builder("http://admin:url-SECRET-6@h/")
        .build()
        .unwrap_err();
    assert_clean("build error", &format!("{err} {err:?}"));
    let b = EndpointConfig::builder("http://admin:url-SECRET-6@h/");
    assert_clean("builder Debug", &format!("{b:?}"));
    let err = Session::new()
        .header("X-Auth-Token", "bad\nvalue-SECRET".to_string().into())
        .unwrap_err();
    assert_clean("session header error", &format!("{err} {err:?}"));

    // A plain client to an unreachable port, for a transport error's chain.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = HttpClient::new(
        EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
            .auth(Auth::basic("u", "pw-SECRET-1"))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = c.get("/").await.unwrap_err();
    assert_clean("transport error", &format!("{err} {err:?}"));

    // The insecure TLS option warns when an https client is built with it.
    let _insecure = HttpClient::new(
        EndpointConfig::builder("https://127.0.0.1:1/")
            .tls(TlsConfig::danger_accept_invalid_certs())
            .build()
            .unwrap(),
    )
    .unwrap();

    drop(_guard);
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("http.request"), "no spans were logged: {log}");
    assert!(
        log.contains("WARN") && log.contains("DISABLED"),
        "no warning: {log}"
    );
    assert_clean("trace log", &log);
}
