//! The simulator's HTTP/1.1 server (hyper), basic-auth check, fault injection and
//! counting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hwctl_sim::{CommonFault, Spawner};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::chassis::{Answer, Params, canonical_op, failure};
use super::reply::esc;
use super::{Fault, RecordedRequest, Shared, lock};

type Reply = Response<Full<Bytes>>;

#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected connection reset")
    }
}

impl std::error::Error for Reset {}

struct InFlightGuard<'a>(&'a AtomicU64);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>, spawner: Spawner) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "simulator accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let guard = shared.counters.connection();
        let shared = shared.clone();
        spawner.spawn(async move {
            let _guard = guard;
            let service = service_fn(move |req| {
                let shared = shared.clone();
                handle(shared, req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn text(status: u16, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == 401 {
        r.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ChassisManager\""),
        );
    }
    r
}

fn xml(body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    r
}

fn authorized(shared: &Shared, header: Option<&str>) -> bool {
    let Some(h) = header else { return false };
    let Some((scheme, value)) = h.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value.trim()) else {
        return false;
    };
    let Ok(pair) = String::from_utf8(decoded) else {
        return false;
    };
    pair.split_once(':')
        .is_some_and(|(u, p)| u == shared.username && p == shared.password)
}

/// The first matching fault rule (consuming one use of it).
fn take_fault(shared: &Shared, op: &str, blade: Option<u32>) -> Option<Fault> {
    let mut rules = lock(&shared.faults);
    let i = rules.iter().position(|r| {
        r.operation
            .as_deref()
            .is_none_or(|o| o.eq_ignore_ascii_case(op))
            && r.blade.is_none_or(|b| Some(b) == blade)
            && r.remaining != Some(0)
    })?;
    let rule = &mut rules[i];
    if let Some(n) = rule.remaining.as_mut() {
        *n -= 1;
    }
    let fault = rule.fault.clone();
    if rule.remaining == Some(0) {
        rules.remove(i);
    }
    Some(fault)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Reset> {
    let shared = &*shared;
    shared.counters.request();
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.peak_in_flight.fetch_max(now, Ordering::SeqCst);
    let _in_flight = InFlightGuard(&shared.in_flight);

    let auth = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    lock(&shared.log).push(RecordedRequest {
        method: req.method().to_string(),
        path: path.clone(),
        query: query.clone(),
        authorization: auth.clone(),
    });

    let segment = path.trim_matches('/');
    let op = canonical_op(segment);
    if let Some(op) = op {
        *lock(&shared.by_operation).entry(op.to_owned()).or_default() += 1;
    }
    match shared.common.take() {
        None => {}
        Some(fault) => {
            shared.counters.fault_injected();
            match fault {
                CommonFault::Silence => std::future::pending::<()>().await,
                CommonFault::BadCredentials => {
                    shared.counters.failed_login();
                    return Ok(text(
                        401,
                        "401 Unauthorized: basic credentials required".into(),
                    ));
                }
                CommonFault::Garbage => {
                    return Ok(xml("\u{1}garbage, not a chassis manager reply <<&&".into()));
                }
                CommonFault::Delay(d) => tokio::time::sleep(d).await,
                _ => {}
            }
        }
    }
    if !authorized(shared, auth.as_deref()) {
        shared.counters.failed_login();
        // As IIS words it: no credentials, or credentials it did not accept.
        let why = if auth.is_some() {
            "401 Unauthorized: access is denied due to invalid credentials"
        } else {
            "401 Unauthorized: basic credentials required"
        };
        return Ok(text(401, why.into()));
    }
    if req.method() != hyper::Method::GET {
        return Ok(text(
            405,
            "405 Method Not Allowed: every operation is a GET".into(),
        ));
    }
    let Some(op) = op else {
        return Ok(text(404, format!("Endpoint not found: {}", esc(segment))));
    };
    let params = Params::parse(&query);
    let blade = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("bladeId"))
        .and_then(|(_, v)| v.trim().parse().ok());

    let fault = take_fault(shared, op, blade);
    if let Some(Fault::Delay(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    match &fault {
        Some(Fault::HttpStatus(code)) => {
            return Ok(text(*code, format!("{code} injected by the simulator")));
        }
        Some(Fault::ResetConnection) => return Err(Reset),
        Some(Fault::MalformedXml) => {
            return Ok(xml("<<this is not a chassis manager reply>> &&".into()));
        }
        Some(Fault::Body(body)) => return Ok(xml(body.clone())),
        Some(Fault::CompletionCode { code, description }) => {
            return Ok(xml(failure(op, code, description, blade)));
        }
        _ => {}
    }

    let answer = lock(&shared.chassis).answer(op, &params, Instant::now());
    if let Some(Fault::SlowReply(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let body = match answer {
        Answer::Http(code, msg) => return Ok(text(code, msg)),
        Answer::Xml(body) => body,
    };
    Ok(match fault {
        Some(Fault::TruncatedXml) => {
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            xml(body[..cut].to_owned())
        }
        Some(Fault::Oversized(size)) => {
            // A well-formed document: the padding is a comment before the root.
            let pad = size.saturating_sub(body.len() + 7);
            let mut big = String::with_capacity(size);
            big.push_str("<!--");
            big.extend(std::iter::repeat_n('x', pad));
            big.push_str("-->");
            big.push_str(&body);
            xml(big)
        }
        _ => xml(body),
    })
}
