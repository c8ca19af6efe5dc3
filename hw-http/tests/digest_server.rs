//! Digest authentication against an in-process server whose checking code is
//! written here, independently of the client: SHA-256, SHA-256-sess, MD5-sess,
//! AMT-style realms with ':', nonce counts, `stale=true` nonce rotation.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hwctl_core::ErrorKind;
use hwctl_http::testing::{Reply, ServerRequest, TestServer};
use hwctl_http::{Auth, EndpointConfig, HttpClient, Request, RetryPolicy};
use md5::Md5;
use sha2::{Digest, Sha256};

const USER: &str = "admin";
const PASSWORD: &str = "P@ssw0rd!";
const REALM: &str = "Digest:A1B2C3D4E5F60718293A4B5C6D7E8F90";

fn h(alg: &str, s: &str) -> String {
    let bytes: Vec<u8> = if alg.starts_with("SHA-256") {
        Sha256::digest(s.as_bytes()).to_vec()
    } else {
        Md5::digest(s.as_bytes()).to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits `Digest k=v, k="v", …` (server side, independent of the client's parser).
fn params(header: &str) -> Option<HashMap<String, String>> {
    let rest = header.strip_prefix("Digest ")?;
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | ',')) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => val.extend(chars.next()),
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_string(), val.trim().to_string());
    }
    Some(out)
}

struct DigestServer {
    algorithm: &'static str,
    nonce: Mutex<String>,
    /// Rotate the nonce (answering stale=true) after this many successes.
    rotate_every: usize,
    ok: AtomicUsize,
    seen_nc: Mutex<Vec<u32>>,
    stale_sent: AtomicUsize,
}

impl DigestServer {
    fn challenge(&self, stale: bool) -> Reply {
        let mut v = format!(
            r#"Digest realm="{REALM}", nonce="{}", qop="auth", algorithm={}, opaque="op-aque""#,
            self.nonce.lock().unwrap(),
            self.algorithm
        );
        if stale {
            v.push_str(", stale=true");
        }
        Reply::status(401)
            // An unsupported scheme first, to check the client picks Digest.
            .header("www-authenticate", r#"Negotiate"#)
            .header("www-authenticate", &v)
    }

    fn handle(&self, req: &ServerRequest) -> Reply {
        let Some(p) = req.header("authorization").and_then(params) else {
            return self.challenge(false);
        };
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        if get("username") != USER || get("realm") != REALM || get("uri") != req.target {
            return self.challenge(false);
        }
        if get("opaque") != "op-aque" || get("qop") != "auth" {
            return Reply::status(400).body("bad digest parameters");
        }
        let alg = self.algorithm;
        if !get("algorithm").eq_ignore_ascii_case(alg) {
            return Reply::status(400).body("wrong algorithm");
        }
        let nonce = self.nonce.lock().unwrap().clone();
        let mut ha1 = h(alg, &format!("{USER}:{REALM}:{PASSWORD}"));
        if alg.ends_with("-sess") {
            ha1 = h(alg, &format!("{ha1}:{}:{}", get("nonce"), get("cnonce")));
        }
        let ha2 = h(alg, &format!("{}:{}", req.method, req.target));
        let expected = h(
            alg,
            &format!(
                "{ha1}:{}:{}:{}:auth:{ha2}",
                get("nonce"),
                get("nc"),
                get("cnonce")
            ),
        );
        if expected != get("response") {
            return self.challenge(false);
        }
        if get("nonce") != nonce {
            // Right password, old nonce.
            self.stale_sent.fetch_add(1, Ordering::SeqCst);
            return self.challenge(true);
        }
        self.seen_nc
            .lock()
            .unwrap()
            .push(u32::from_str_radix(&get("nc"), 16).unwrap());
        let n = self.ok.fetch_add(1, Ordering::SeqCst) + 1;
        if n.is_multiple_of(self.rotate_every) {
            *self.nonce.lock().unwrap() = format!("nonce-{n}");
        }
        Reply::ok(format!("hello {}", req.method))
    }
}

async fn start(algorithm: &'static str, rotate_every: usize) -> (TestServer, Arc<DigestServer>) {
    let state = Arc::new(DigestServer {
        algorithm,
        nonce: Mutex::new("nonce-0".into()),
        rotate_every,
        ok: AtomicUsize::new(0),
        seen_nc: Mutex::new(Vec::new()),
        stale_sent: AtomicUsize::new(0),
    });
    let s = state.clone();
    let server = TestServer::start(move |req| s.handle(req)).await.unwrap();
    (server, state)
}

fn client(server: &TestServer, password: &str) -> HttpClient {
    HttpClient::new(
        EndpointConfig::builder(server.base_url())
            .auth(Auth::digest(USER, password.to_string()))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn sha256_and_sess_variants() {
    for alg in ["SHA-256", "SHA-256-sess", "MD5", "MD5-sess"] {
        let (server, state) = start(alg, 1000).await;
        let c = client(&server, PASSWORD);
        for i in 0..4 {
            let reply = c
                .send(Request::post(format!("/wsman?i={i}")).body("<x/>"))
                .await
                .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(reply.text().unwrap(), "hello POST");
        }
        // One challenge round trip, then the nonce is answered directly.
        assert_eq!(server.requests(), 5, "{alg}");
        assert_eq!(*state.seen_nc.lock().unwrap(), [1, 2, 3, 4], "{alg}");
    }
}

#[tokio::test]
async fn stale_nonces_are_renewed_without_failing() {
    let (server, state) = start("SHA-256", 2).await;
    let c = client(&server, PASSWORD);
    for _ in 0..6 {
        assert_eq!(c.get("/x").await.unwrap().status(), 200);
    }
    assert_eq!(state.ok.load(Ordering::SeqCst), 6);
    assert!(state.stale_sent.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn wrong_password_is_unauthenticated() {
    let (server, _) = start("SHA-256", 1000).await;
    let c = client(&server, "not the password");
    let err = c.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(server.requests() <= 3);
    // The client keeps working (no poisoned state) for the next request too.
    assert_eq!(
        c.get("/x").await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

#[tokio::test]
async fn unsupported_digest_variants_are_reported() {
    let server = TestServer::start(|_| {
        Reply::status(401).header(
            "www-authenticate",
            r#"Digest realm="r", nonce="n", qop="auth-int", algorithm=MD5"#,
        )
    })
    .await
    .unwrap();
    let c = client(&server, PASSWORD);
    let err = c.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("auth-int"), "{err}");
}
