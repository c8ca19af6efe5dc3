//! The simulator's HTTP/1.1 server: digest authentication (its own challenge
//! parsing and hashing, RFC 7616), faults, the sleeping first connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hwctl_sim::{CommonFault, Spawner};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use tokio::net::TcpListener;

use super::device::{Answer, envelope, fault_envelope, scan};
use super::{Fault, Shared, lock};

type Reply = Response<Full<Bytes>>;

/// The largest request body read.
const MAX_REQUEST: usize = 256 * 1024;

pub(super) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    spawner: Spawner,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "simulator accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        if shared.should_sleep() {
            // Asleep: the first connection is dropped unanswered; it wakes AMT up.
            shared.wakeups.fetch_add(1, Ordering::SeqCst);
            shared.set_sleeping(false);
            drop(stream);
            continue;
        }
        let guard = shared.counters.connection();
        let shared = shared.clone();
        let tls = tls.clone();
        spawner.spawn(async move {
            let _guard = guard;
            match tls {
                Some(acceptor) => {
                    if let Ok(Ok(s)) = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        serve_io(TokioIo::new(s), shared).await;
                    }
                }
                None => serve_io(TokioIo::new(stream), shared).await,
            }
        });
    }
}

async fn serve_io<I>(io: I, shared: Arc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let sleep_after = shared.sleep_after;
    let service = service_fn(move |req| {
        let shared = shared.clone();
        handle(shared, req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.keep_alive(true);
    if let Some(after) = sleep_after {
        // A device that falls asleep drops its idle connections too.
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(after);
    }
    let _ = builder.serve_connection(io, service).await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(sha256: bool, s: &str) -> String {
    if sha256 {
        hex(&Sha256::digest(s.as_bytes()))
    } else {
        hex(&Md5::digest(s.as_bytes()))
    }
}

/// `name=value` pairs of a `Digest …` header (values quoted or not).
fn digest_params(h: &str) -> Option<HashMap<String, String>> {
    let rest = h.trim();
    let (scheme, rest) = rest.split_at(rest.find(' ')?);
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let b = rest.as_bytes();
    let mut i = 0;
    let mut out = HashMap::new();
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let key = rest[ks..i].trim().to_ascii_lowercase();
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                val.push(b[i] as char);
                i += 1;
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = rest[vs..i].trim().to_owned();
        }
        out.insert(key, val);
    }
    Some(out)
}

enum AuthOutcome {
    Ok,
    Refused { stale: bool },
}

fn check_digest(shared: &Shared, header: Option<&str>) -> AuthOutcome {
    let Some(p) = header.and_then(digest_params) else {
        return AuthOutcome::Refused { stale: false };
    };
    let g = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let sha256 = g("algorithm").eq_ignore_ascii_case("SHA-256");
    if sha256 && !shared.algorithms.sha256() || !sha256 && !shared.algorithms.md5() {
        return AuthOutcome::Refused { stale: false };
    }
    if g("username") != shared.username || g("realm") != shared.realm {
        return AuthOutcome::Refused { stale: false };
    }
    let nonce = g("nonce").to_owned();
    let nc = u64::from_str_radix(g("nc"), 16).unwrap_or(0);
    let qop = g("qop");
    let ha1 = hash(
        sha256,
        &format!("{}:{}:{}", shared.username, shared.realm, shared.password),
    );
    let ha2 = hash(sha256, &format!("POST:{}", g("uri")));
    let expected = if qop.is_empty() {
        hash(sha256, &format!("{ha1}:{nonce}:{ha2}"))
    } else {
        hash(
            sha256,
            &format!("{ha1}:{nonce}:{}:{}:{qop}:{ha2}", g("nc"), g("cnonce")),
        )
    };
    if expected != g("response") {
        return AuthOutcome::Refused { stale: false };
    }
    let mut nonces = lock(&shared.nonces);
    let Some(entry) = nonces.get_mut(&nonce) else {
        // A right answer to a nonce we no longer (or never) issued: stale.
        return AuthOutcome::Refused { stale: true };
    };
    if entry.0.elapsed() > shared.nonce_lifetime {
        nonces.remove(&nonce);
        return AuthOutcome::Refused { stale: true };
    }
    if !qop.is_empty() {
        if nc <= entry.1 {
            // A replayed nonce count.
            return AuthOutcome::Refused { stale: false };
        }
        if entry.1 >= 1 {
            shared.nonce_reuses.fetch_add(1, Ordering::SeqCst);
        }
        entry.1 = nc;
    }
    AuthOutcome::Ok
}

fn challenge(shared: &Shared, stale: bool) -> Reply {
    let nonce = hex(&rand::random::<[u8; 16]>());
    lock(&shared.nonces).insert(nonce.clone(), (Instant::now(), 0));
    shared.nonces_issued.fetch_add(1, Ordering::SeqCst);
    let mut r = Response::new(Full::new(Bytes::from_static(b"")));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    let realm = shared.realm.replace('\\', "\\\\").replace('"', "\\\"");
    let stale = if stale { "true" } else { "false" };
    let mut values = Vec::new();
    if shared.algorithms.sha256() {
        values.push(format!(
            r#"Digest realm="{realm}", nonce="{nonce}", stale="{stale}", qop="auth", algorithm=SHA-256"#
        ));
    }
    if shared.algorithms.md5() {
        // AMT's own challenge names no algorithm (MD5).
        values.push(format!(
            r#"Digest realm="{realm}", nonce="{nonce}", stale="{stale}", qop="auth""#
        ));
    }
    for v in values {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().append(WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn soap(status: u16, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/soap+xml; charset=UTF-8"),
    );
    r
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
    let shared = &*shared;
    shared.counters.request();
    *lock(&shared.last_request) = Instant::now();
    let auth = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let body = match Limited::new(req.into_body(), MAX_REQUEST).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(soap(413, String::new())),
    };
    if let Some(fault) = shared.common.take() {
        shared.counters.fault_injected();
        match fault {
            CommonFault::Silence => std::future::pending::<()>().await,
            CommonFault::BadCredentials => {
                shared.counters.failed_login();
                return Ok(challenge(shared, false));
            }
            CommonFault::Garbage => return Ok(soap(200, "\u{1}not XML at all <<&&".into())),
            CommonFault::Delay(d) => tokio::time::sleep(d).await,
            _ => {}
        }
    }
    // A 401 storm refuses even the right answer.
    let storm = {
        let mut f = lock(&shared.faults);
        match f.first_mut() {
            Some((Fault::Unauthorized, n)) => {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    f.remove(0);
                }
                true
            }
            _ => false,
        }
    };
    if storm {
        shared.counters.failed_login();
        return Ok(challenge(shared, false));
    }
    match check_digest(shared, auth.as_deref()) {
        AuthOutcome::Ok => {}
        AuthOutcome::Refused { stale } => {
            if auth.is_some() && !stale {
                shared.counters.failed_login();
            }
            return Ok(challenge(shared, stale));
        }
    }
    if path != "/wsman" && path != "/wsman/" {
        return Ok(soap(404, String::new()));
    }
    if method != hyper::Method::POST {
        return Ok(soap(405, String::new()));
    }
    let parsed = match scan(&body) {
        Ok(p) => p,
        Err(why) => {
            return Ok(soap(
                400,
                fault_envelope("", "Sender", "c:SchemaValidationError", &why),
            ));
        }
    };
    let op = parsed
        .action
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(if parsed.body_root == "Identify" {
            "Identify"
        } else {
            "?"
        })
        .to_owned();
    *lock(&shared.by_operation).entry(op).or_default() += 1;
    let fault = {
        let mut f = lock(&shared.faults);
        match f.first_mut() {
            Some((fault, n)) => {
                let fault = fault.clone();
                *n = n.saturating_sub(1);
                if *n == 0 {
                    f.remove(0);
                }
                Some(fault)
            }
            None => None,
        }
    };
    let answer = lock(&shared.device).handle(&parsed);
    let text = match answer {
        Answer::Reply(action, body) => {
            let seq = lock(&shared.device).seq;
            (
                200,
                envelope(
                    &parsed.message_id,
                    &action,
                    &parsed.resource_uri,
                    &body,
                    seq,
                ),
            )
        }
        Answer::Fault(status, code, sub, reason) => (
            status,
            fault_envelope(&parsed.message_id, code, &sub, &reason),
        ),
    };
    match fault {
        None | Some(Fault::Unauthorized) => Ok(soap(text.0, text.1)),
        Some(Fault::SoapFault { subcode, reason }) => Ok(soap(
            400,
            fault_envelope(&parsed.message_id, "Sender", &subcode, &reason),
        )),
        Some(Fault::MalformedXml) => Ok(soap(200, "<a:Envelope><a:Body></b:Body>".into())),
        Some(Fault::TruncatedXml) => {
            let cut = text.1.len() / 2;
            Ok(soap(200, text.1[..cut].to_owned()))
        }
        Some(Fault::Oversized(n)) => {
            let mut s = text.1;
            s.push_str(&" ".repeat(n));
            Ok(soap(200, s))
        }
        Some(Fault::SlowReply(d)) => {
            tokio::time::sleep(d).await;
            Ok(soap(text.0, text.1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_bare_values() {
        let p = digest_params(
            r#"Digest username="admin", realm="Digest:1A2B, x", nonce="abc", uri="/wsman", algorithm="MD5", qop="auth", nc=00000001, cnonce="c", response="r""#,
        )
        .unwrap_or_default();
        assert_eq!(p.get("realm").map(String::as_str), Some("Digest:1A2B, x"));
        assert_eq!(p.get("algorithm").map(String::as_str), Some("MD5"));
        assert_eq!(p.get("nc").map(String::as_str), Some("00000001"));
    }
}
