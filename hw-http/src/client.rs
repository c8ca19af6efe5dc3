//! The client: one per endpoint, cheap to clone, shared by every node behind it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::header::{
    AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HOST, HeaderValue, RETRY_AFTER, USER_AGENT,
};
use http::{StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hwctl_core::retry::{Idempotency, retry};
use hwctl_core::{Error, ErrorKind, ExposeSecret};
use tokio::sync::{Semaphore, TryAcquireError};
use tracing::Instrument;

use crate::config::{Auth, EndpointConfig, Scheme};
use crate::digest::{self, ChallengeError, DigestState};
use crate::pool::{Pool, SendError};
use crate::request::{Request, Response};
use crate::session::{Session, SessionAuth, SessionClient};
use crate::transport::Connector;

const DRIVER: &str = "hwctl-http";

/// How long an idle pooled connection is kept open.
pub(crate) const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTP(S) client for one endpoint.
///
/// Cloning is cheap (an `Arc`); every clone shares the connection pool, the
/// concurrency limit, the digest nonce and the session. Share one per endpoint
/// (see [`crate::HttpClients`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// # let (base_url, _server) = hwctl_http::testing::hello_server().await;
/// use hwctl_http::{EndpointConfig, HttpClient, Request};
///
/// let client = HttpClient::new(EndpointConfig::builder(base_url).build()?)?;
/// let reply = client.send(Request::get("/hello").operation("greet")).await?;
/// assert_eq!(reply.status(), 200);
/// assert_eq!(reply.text()?, "hello");
///
/// // Non-2xx statuses are typed errors with `send`, plain responses with `send_raw`.
/// let err = client.get("/missing").await.unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::NotFound);
/// assert_eq!(client.send_raw(Request::get("/missing")).await?.status(), 404);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) handle: Arc<Handle>,
}

/// The last clone's drop logs out the session.
pub(crate) struct Handle {
    pub(crate) core: Arc<Core>,
    /// The key [`crate::HttpClients`] holds this client under, set when it
    /// builds it (unset for a client of its own): handing the client out again
    /// ([`crate::HttpClients::renew`]) needs no key computed (issue 16).
    pub(crate) key: std::sync::OnceLock<Arc<hwctl_core::shared::EndpointKey>>,
}

pub(crate) struct Core {
    pub(crate) config: EndpointConfig,
    /// What every request carries that the endpoint alone decides, built once
    /// rather than per request (issue 16).
    fixed: Fixed,
    /// The endpoint's keep-alive connections (issue 16: our own, over
    /// `hyper::client::conn::http1`).
    pool: Pool,
    permits: Semaphore,
    /// Request targets already parsed, by path (issue 16: parsing one cost more
    /// than looking it up); at most [`TARGETS_CACHED`] of them.
    targets: std::sync::Mutex<Targets>,
    /// The last attempt's headers built from the template and a request's own
    /// headers, reused while requests bring the same own headers (issue 16).
    merged: std::sync::Mutex<Option<Merged>>,
    digest: std::sync::Mutex<Option<DigestState>>,
    session: tokio::sync::Mutex<SessionSlot>,
    stats: Counters,
}

/// An attempt's headers as [`Core::headers`] built them for a request's own
/// headers, without a digest or session map: a clone of `headers` is what the
/// next request with the same own headers (in the same order, and with the
/// same template) gets.
///
/// A clone of a map is exactly sized, so adding a request's `Accept` to a clone
/// of the client's template reallocated its entries whatever the template
/// reserved (0.6k instructions per request); building the map at its size
/// and appending cost more still (each append about 0.18k). A clone of the
/// finished map is what an attempt minimally costs.
struct Merged {
    /// Whether `headers` was built from the basic template.
    basic: bool,
    /// The request's own headers it was built from (none sensitive: no
    /// request's secret is kept past its request).
    own: http::HeaderMap,
    headers: http::HeaderMap,
}

/// Whether two header maps hold the same names and values in the same order,
/// sensitivity included.
fn same_headers(a: &http::HeaderMap, b: &http::HeaderMap) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((n1, v1), (n2, v2))| {
            n1 == n2 && v1 == v2 && v1.is_sensitive() == v2.is_sensitive()
        })
}

/// Per-endpoint request parts computed once at construction.
struct Fixed {
    /// `scheme://authority/base_path`, which every request URI starts with (what
    /// a request URI is parsed from when `origin` is `None`).
    uri_prefix: String,
    /// The URI's scheme and authority, parsed once: a request parses only its
    /// `base_path` + path (`None` if they did not parse, which a built
    /// configuration rules out; then the whole URI is parsed per request).
    origin: Option<(http::uri::Scheme, http::uri::Authority)>,
    /// `origin` then `base_path` (`http://cm:8000/api`), which every error context
    /// has after the method.
    context_prefix: String,
    /// The headers every request starts from, cloned per request rather than
    /// inserted one by one (issue 16): `Host` (the authority, without the
    /// scheme's default port, as hyper-util's client sent it) and `User-Agent`,
    /// each left out when not a valid header value (none is sent, as before).
    headers: http::HeaderMap,
    /// `headers` and the basic `Authorization` value, what a request with basic
    /// authentication starts from (`None` without basic authentication, or when
    /// the value is not a valid header value: none is sent, as before).
    headers_basic: Option<http::HeaderMap>,
}

/// How many request targets a client keeps parsed: a device answers at a
/// handful of paths (a chassis manager's 24 blades make 24 per command); paths
/// past this many are parsed per request, as all were before.
const TARGETS_CACHED: usize = 256;

/// Parsed request targets by the request's path (with its query), under
/// hwctl-core's unkeyed word hasher: the paths are a driver's own and the table
/// is bounded, so no defence against chosen collisions is needed (std's keyed
/// hash cost more than the parse it saves on a short path).
type Targets = std::collections::HashMap<Box<str>, Uri, hwctl_core::fast_hash::FastHash>;

impl Fixed {
    fn new(config: &EndpointConfig) -> Self {
        let basic = match &config.auth {
            Auth::Basic { username, password } => {
                BasicAuthorization::new(username, password.expose_secret())
            }
            _ => None,
        };
        let scheme = match config.scheme {
            Scheme::Http => http::uri::Scheme::HTTP,
            Scheme::Https => http::uri::Scheme::HTTPS,
        };
        let origin = http::uri::Authority::try_from(config.authority())
            .ok()
            .map(|authority| (scheme, authority));
        let host = HeaderValue::from_str(&config.authority()).ok();
        let user_agent = HeaderValue::from_str(&config.user_agent).ok();
        let mut headers = http::HeaderMap::with_capacity(2);
        if let Some(v) = &host {
            headers.insert(HOST, v.clone());
        }
        if let Some(v) = &user_agent {
            headers.insert(USER_AGENT, v.clone());
        }
        let headers_basic = basic.as_ref().map(|b| {
            let mut with = headers.clone();
            with.insert(AUTHORIZATION, b.value().clone());
            with
        });
        Fixed {
            uri_prefix: format!(
                "{}://{}{}",
                config.scheme.as_str(),
                config.authority(),
                config.base_path
            ),
            origin,
            context_prefix: format!("{}{}", config.origin(), config.base_path),
            headers,
            headers_basic,
        }
    }
}

/// `Basic <base64(user:password)>`, encoded once per client (issue 16), marked
/// sensitive (hyper and `http`'s `Debug` do not print it). Its own `Debug`
/// prints no part of it: the value is the password, barely disguised.
#[derive(Clone)]
pub(crate) struct BasicAuthorization(HeaderValue);

impl BasicAuthorization {
    /// The value for `username` and `password` (RFC 7617: `user-id ":" password`,
    /// base64, after `Basic `); `None` only if that were not a valid header value,
    /// which base64 text always is.
    pub(crate) fn new(username: &str, password: &str) -> Option<Self> {
        use base64::engine::general_purpose::STANDARD;
        // Exactly sized, so the boxed secret is this allocation, wiped on drop.
        let mut plain = String::with_capacity(username.len() + 1 + password.len());
        plain.push_str(username);
        plain.push(':');
        plain.push_str(password);
        let plain = secrecy::SecretString::from(plain);
        let mut value =
            String::with_capacity(6 + base64::encoded_len(plain.expose_secret().len(), true)?);
        value.push_str("Basic ");
        STANDARD.encode_string(plain.expose_secret(), &mut value);
        let mut value = HeaderValue::try_from(value).ok()?;
        value.set_sensitive(true);
        Some(BasicAuthorization(value))
    }

    /// The header value (sensitive).
    pub(crate) fn value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for BasicAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAuthorization(<redacted>)")
    }
}

/// The authentication header(s) one attempt carries.
enum AuthHeaders {
    /// Basic authentication's `Authorization` value (built once, in the client's
    /// header template [`Fixed::headers_basic`]).
    Basic,
    /// Headers to set (digest's answer, a session's token).
    Map(http::HeaderMap),
}

#[derive(Default)]
struct SessionSlot {
    session: Option<Arc<Session>>,
    generation: u64,
}

#[derive(Default)]
struct Counters {
    attempts: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    logins: AtomicU64,
    logouts: AtomicU64,
}

/// Counters of one client, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ClientStats {
    /// HTTP exchanges sent (every attempt, auth round trips and log-ins included).
    pub attempts: u64,
    /// Requests holding a concurrency slot right now.
    pub in_flight: usize,
    /// The most requests that held a slot at once.
    pub peak_in_flight: usize,
    /// Session log-ins performed.
    pub logins: u64,
    /// Session log-outs performed.
    pub logouts: u64,
    /// Connections open to the endpoint right now (never more than `max_concurrency`).
    pub open_connections: usize,
}

impl HttpClient {
    /// The operation of an error from a session log-in ([`crate::SessionAuth::login`])
    /// that names none itself (a reply the hook refused, such as a 401 to its
    /// `POST`); an error of one of the log-in's requests keeps that request's.
    ///
    /// ```
    /// assert_eq!(hwctl_http::HttpClient::SESSION_LOGIN, "session log-in");
    /// ```
    pub const SESSION_LOGIN: &'static str = "session log-in";

    /// Builds a client for `config` (reads the CA file, if one is configured).
    ///
    /// Must be called inside a tokio runtime only when used; building needs none.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` when the CA file cannot be read or holds no usable CA
    /// certificate; `Other` when TLS cannot be set up.
    pub fn new(config: EndpointConfig) -> Result<Self, Error> {
        Self::with_idle_timeout(config, POOL_IDLE_TIMEOUT)
    }

    /// [`new`](Self::new), keeping idle connections open for `idle_timeout`
    /// (tests shorten it).
    pub(crate) fn with_idle_timeout(
        config: EndpointConfig,
        idle_timeout: Duration,
    ) -> Result<Self, Error> {
        let tls = match config.scheme {
            Scheme::Https => Some(Arc::new(
                crate::transport::client_config(&config.tls).map_err(|e| e.or_driver(DRIVER))?,
            )),
            Scheme::Http => None,
        };
        let connector = Connector::new(
            tls,
            config.host(),
            config.port(),
            config.connect_timeout,
            config.max_concurrency,
            config.tls.certificate_hint(),
        );
        let core = Core {
            fixed: Fixed::new(&config),
            pool: Pool::new(connector, idle_timeout),
            permits: Semaphore::new(config.max_concurrency),
            targets: std::sync::Mutex::new(Targets::default()),
            merged: std::sync::Mutex::new(None),
            config,
            digest: std::sync::Mutex::new(None),
            session: tokio::sync::Mutex::new(SessionSlot::default()),
            stats: Counters::default(),
        };
        Ok(HttpClient {
            handle: Arc::new(Handle {
                core: Arc::new(core),
                key: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The endpoint's configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.handle.core.config
    }

    /// Sends `request`; a non-2xx status is an error (see the crate docs for the
    /// status → [`ErrorKind`] table). Retries idempotent requests per the policy.
    ///
    /// # Errors
    ///
    /// The kind of the status (see the status → kind table in the crate docs:
    /// `Unauthenticated`, `PermissionDenied`, `NotFound`, `Busy`, `Timeout`,
    /// `Unsupported`, `InvalidParameter`, `DeviceFault`, `Protocol`) or of the
    /// transport failure (`Unreachable`, `Timeout`, `Busy`, `Protocol` for a malformed
    /// or truncated response, `BadCertificate` for a rejected certificate);
    /// `InvalidParameter` for a bad path or header.
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        self.handle
            .core
            .execute(&request, true)
            .await?
            .error_for_status()
            .map_err(|e| e.or_operation(request.operation))
    }

    /// Sends `request` and returns the response whatever its status, for callers
    /// that interpret statuses themselves. Transport failures are still errors;
    /// 401 still triggers digest and session re-authentication first.
    ///
    /// # Errors
    ///
    /// Transport failures only: `Unreachable`, `Timeout`, `Busy` (no slot within
    /// the queue timeout), `Protocol` (malformed or truncated response, body over
    /// the cap), `BadCertificate` (certificate rejected), `Other` (other TLS
    /// handshake failures), `InvalidParameter` (bad path or header);
    /// `Unauthenticated`/`Unsupported` when a session log-in or digest challenge
    /// fails.
    pub async fn send_raw(&self, request: Request) -> Result<Response, Error> {
        self.handle.core.execute(&request, true).await
    }

    /// `send(Request::get(path))`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn get(&self, path: impl Into<String>) -> Result<Response, Error> {
        self.send(Request::get(path)).await
    }

    /// `send(Request::post(path).body(body))` (not idempotent: never retried).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn post(
        &self,
        path: impl Into<String>,
        body: impl Into<Bytes>,
    ) -> Result<Response, Error> {
        self.send(Request::post(path).body(body)).await
    }

    /// `send(Request::put(path).body(body))`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn put(
        &self,
        path: impl Into<String>,
        body: impl Into<Bytes>,
    ) -> Result<Response, Error> {
        self.send(Request::put(path).body(body)).await
    }

    /// `send(Request::delete(path))`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn delete(&self, path: impl Into<String>) -> Result<Response, Error> {
        self.send(Request::delete(path)).await
    }

    /// Logs out the session (if any) and waits for it. Later requests log in again.
    ///
    /// # Errors
    ///
    /// Whatever the session hook's log-out returns (the session is forgotten
    /// either way).
    pub async fn close(&self) -> Result<(), Error> {
        self.handle.core.logout().await
    }

    /// The client's counters.
    pub fn stats(&self) -> ClientStats {
        let s = &self.handle.core.stats;
        ClientStats {
            attempts: s.attempts.load(Ordering::Relaxed),
            in_flight: s.in_flight.load(Ordering::Relaxed),
            peak_in_flight: s.peak_in_flight.load(Ordering::Relaxed),
            logins: s.logins.load(Ordering::Relaxed),
            logouts: s.logouts.load(Ordering::Relaxed),
            open_connections: self.handle.core.pool.open_connections(),
        }
    }

    /// Whether two handles are clones of the same client.
    pub fn same_client(&self, other: &HttpClient) -> bool {
        Arc::ptr_eq(&self.handle, &other.handle)
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.handle.core.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let Auth::Session(_) = &self.core.config.auth else {
            return;
        };
        let has_session = match self.core.session.try_lock() {
            Ok(slot) => slot.session.is_some(),
            Err(_) => true,
        };
        if !has_session {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let core = self.core.clone();
                crate::session::track_logout(rt.spawn(async move {
                    if let Err(e) = core.logout().await {
                        tracing::warn!(error = %e, "session log-out after the last client was dropped failed");
                    }
                }));
            }
            Err(_) => tracing::warn!(
                origin = %self.core.config.origin(),
                "HttpClient dropped outside a tokio runtime: session not logged out (call close() first)"
            ),
        }
    }
}

/// What one attempt produced.
enum Attempt {
    Done(Response),
    /// The attempt failed; `sent` is false when nothing reached the server.
    Failed {
        err: Error,
        sent: bool,
    },
    /// The session log-in failed. The log-in's requests went through their own
    /// retry loop (and noted their attempts), so the request that needed the
    /// session is not retried around it: that multiplied the attempts (3 × 3
    /// connects for one "after 3 attempts" message, issue 15).
    LoginFailed(Error),
}

impl Core {
    /// `METHOD origin/base_path/path` (no query), what errors and replies name the
    /// request by; one exact-size allocation.
    fn context(&self, req: &Request) -> String {
        let method = req.method.as_str();
        let prefix = &self.fixed.context_prefix;
        let path = req.path_only();
        let mut context = String::with_capacity(method.len() + 1 + prefix.len() + path.len());
        context.push_str(method);
        context.push(' ');
        context.push_str(prefix);
        context.push_str(path);
        context
    }

    /// Sends with retries; `with_auth` false for log-in/log-out requests.
    ///
    /// The span is recorded on directly (status, attempt): when debug logging is
    /// off it is disabled and neither its fields nor those records format
    /// anything, and no lookup of the current span is made (issue 16).
    pub(crate) async fn execute(&self, req: &Request, with_auth: bool) -> Result<Response, Error> {
        let span = tracing::debug_span!(
            "http.request",
            method = %req.method,
            path = %req.path_only(),
            operation = %req.operation,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        let result = if span.is_disabled() {
            self.execute_inner(req, with_auth, &span).await
        } else {
            self.execute_inner(req, with_auth, &span)
                .instrument(span.clone())
                .await
        };
        // The operation is copied only into an error.
        result.map_err(|e| e.or_operation(req.operation.clone()).or_driver(DRIVER))
    }

    async fn execute_inner(
        &self,
        req: &Request,
        with_auth: bool,
        span: &tracing::Span,
    ) -> Result<Response, Error> {
        if let Some(problem) = &req.header_error {
            return Err(Error::new(ErrorKind::InvalidParameter, problem.clone()));
        }
        if !(req.path.starts_with('/') || req.path.is_empty()) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "request path {:?} must start with '/' (it is relative to the base URL)",
                    req.path_only()
                ),
            ));
        }
        let policy = self.config.retry;
        if !req.despite_unreachable
            && let Some(mark) = self.pool.found_unreachable(policy.backoff.max)
            && !self.logs_in_first(with_auth)
        {
            return Err(self.found_unreachable(req, &mark, policy.backoff.max));
        }
        // A retryable status (429, 502, 503, 504) of an idempotent request is a
        // failure to `retry`; the response is held so that, when no attempt is left,
        // the last one is returned as it came (`send` turns it into its error).
        let held: std::sync::Mutex<Option<(Response, Option<Duration>)>> =
            std::sync::Mutex::new(None);
        let held = &held;
        let take_held = || held.lock().unwrap_or_else(|p| p.into_inner()).take();
        // Whether the log-in's error (ending the loop) was retryable, to give it back.
        let login_failed: std::sync::Mutex<Option<bool>> = std::sync::Mutex::new(None);
        let login_failed = &login_failed;
        let result = retry(
            &policy,
            Idempotency::from_bool(req.idempotent),
            None,
            |n| async move {
                if let Some((_, Some(after))) = take_held() {
                    // Retry-After, up to the backoff's longest wait, counting the
                    // backoff `retry` already slept.
                    let wait = after
                        .min(policy.backoff.max)
                        .saturating_sub(policy.backoff.delay(n.saturating_sub(1)));
                    tokio::time::sleep(wait).await;
                }
                span.record("attempt", n + 1);
                let outcome = if with_auth {
                    self.attempt_with_auth(req).await
                } else {
                    self.attempt(req, None).await
                };
                match outcome {
                    Attempt::Done(resp) => {
                        let code = resp.status.as_u16();
                        span.record("status", code);
                        if req.idempotent && matches!(code, 429 | 502 | 503 | 504) {
                            let err = Error::new(
                                crate::request::status_kind(resp.status),
                                format!("{}: HTTP {code}", self.context(req)),
                            )
                            .with_retryable(true);
                            let after = retry_after(&resp);
                            *held.lock().unwrap_or_else(|p| p.into_inner()) = Some((resp, after));
                            return Err(err);
                        }
                        Ok(resp)
                    }
                    // Nothing reached the server: hwctl-core's retry may resend even a
                    // request that is not idempotent.
                    Attempt::Failed { err, sent: false } => Err(err.not_delivered()),
                    Attempt::Failed { err, sent: true } => Err(err),
                    Attempt::LoginFailed(err) => {
                        *login_failed.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(err.is_retryable());
                        Err(err.with_retryable(false))
                    }
                }
            },
        )
        .await;
        let login_retryable = login_failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match (result, take_held()) {
            (Ok(resp), _) => Ok(resp),
            (Err(_), Some((resp, _))) => Ok(resp),
            (Err(e), None) => match login_retryable {
                Some(retryable) => Err(e.with_retryable(retryable)),
                None => Err(e),
            },
        }
    }

    /// Whether a request will log in before it is sent (session authentication,
    /// no session held, or one being logged in): the log-in's own requests then
    /// meet an endpoint found unreachable, and the error is named the log-in's
    /// (`session log-in: GET ServiceRoot: …`), as every log-in failure is.
    #[cold]
    fn logs_in_first(&self, with_auth: bool) -> bool {
        with_auth
            && matches!(self.config.auth, Auth::Session(_))
            && self
                .session
                .try_lock()
                .map_or(true, |slot| slot.session.is_none())
    }

    /// The error of a request that starts while an earlier request's connection
    /// failure is younger than `window` (the retry policy's longest backoff
    /// wait): `Unreachable`, nothing sent, no connection attempted. It stays
    /// retryable: after the window a request connects again.
    #[cold]
    fn found_unreachable(
        &self,
        req: &Request,
        mark: &crate::transport::UnreachableMark,
        window: Duration,
    ) -> Error {
        let ago = mark.at.elapsed().as_secs_f64();
        Error::new(
            ErrorKind::Unreachable,
            format!(
                "{}: not sent: {} was found unreachable {ago:.1}s ago by an earlier request \
                 ({}); no connection is tried until {:.1}s after that",
                self.context(req),
                self.config.origin(),
                mark.message,
                window.as_secs_f64(),
            ),
        )
        .not_delivered()
    }

    async fn attempt_with_auth(&self, req: &Request) -> Attempt {
        match &self.config.auth {
            Auth::None => self.attempt(req, None).await,
            Auth::Basic { .. } => {
                let auth = self
                    .fixed
                    .headers_basic
                    .as_ref()
                    .map(|_| AuthHeaders::Basic);
                self.attempt(req, auth).await
            }
            Auth::Digest { username, password } => {
                self.attempt_digest(req, username, password.expose_secret())
                    .await
            }
            Auth::Session(hook) => self.attempt_session(req, hook.as_ref()).await,
        }
    }

    fn digest_header(&self, username: &str, password: &str, req: &Request) -> Option<AuthHeaders> {
        let uri = format!("{}{}", self.config.base_path, req.path);
        let mut guard = self.digest.lock().unwrap_or_else(|p| p.into_inner());
        let state = guard.as_mut()?;
        let value = state.authorization(username, password, req.method.as_str(), &uri);
        let mut h = http::HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(&value).ok()?);
        Some(AuthHeaders::Map(h))
    }

    async fn attempt_digest(&self, req: &Request, username: &str, password: &str) -> Attempt {
        let sent_auth = self.digest_header(username, password, req);
        let had_auth = sent_auth.is_some();
        let resp = match self.attempt(req, sent_auth).await {
            Attempt::Done(r) => r,
            failed => return failed,
        };
        if resp.status != StatusCode::UNAUTHORIZED {
            return Attempt::Done(resp);
        }
        let challenge = match digest::select_challenge(&resp.headers) {
            Ok(c) => c,
            Err(ChallengeError::NoDigest) => return Attempt::Done(resp),
            Err(ChallengeError::Unsupported(why)) => {
                return Attempt::Failed {
                    err: Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "{}: digest challenge not supported: {why}",
                            self.context(req)
                        ),
                    ),
                    sent: true,
                };
            }
        };
        // We answered a challenge and were refused without `stale`: wrong credentials.
        if had_auth && !challenge.stale && self.same_nonce(&challenge.nonce) {
            return Attempt::Done(resp);
        }
        *self.digest.lock().unwrap_or_else(|p| p.into_inner()) = Some(DigestState::new(challenge));
        let auth = self.digest_header(username, password, req);
        // The server did not act on a 401: answering the challenge is not a retry.
        self.attempt(req, auth).await
    }

    fn same_nonce(&self, nonce: &str) -> bool {
        self.digest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|s| s.challenge.nonce == nonce)
    }

    async fn session(&self, hook: &dyn SessionAuth) -> Result<(Arc<Session>, u64), Error> {
        let mut slot = self.session.lock().await;
        if let Some(s) = &slot.session {
            return Ok((s.clone(), slot.generation));
        }
        let session = hook
            .login(&SessionClient { core: self })
            .await
            .map_err(|e| e.or_operation(HttpClient::SESSION_LOGIN))?;
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(origin = %self.config.origin(), "session logged in");
        let session = Arc::new(session);
        slot.generation += 1;
        slot.session = Some(session.clone());
        Ok((session, slot.generation))
    }

    async fn attempt_session(&self, req: &Request, hook: &dyn SessionAuth) -> Attempt {
        let (session, generation) = match self.session(hook).await {
            Ok(s) => s,
            Err(err) => return Attempt::LoginFailed(err),
        };
        let mut h = http::HeaderMap::new();
        session.add_to(&mut h);
        let resp = match self.attempt(req, Some(AuthHeaders::Map(h))).await {
            Attempt::Done(r) => r,
            failed => return failed,
        };
        if resp.status != StatusCode::UNAUTHORIZED {
            return Attempt::Done(resp);
        }
        // The session expired or was revoked: forget it (unless another request
        // already replaced it), log in again once and resend once.
        {
            let mut slot = self.session.lock().await;
            if slot.generation == generation {
                slot.session = None;
            }
        }
        tracing::debug!("401 with a session: logging in again");
        let (session, _) = match self.session(hook).await {
            Ok(s) => s,
            Err(err) => return Attempt::LoginFailed(err),
        };
        let mut h = http::HeaderMap::new();
        session.add_to(&mut h);
        self.attempt(req, Some(AuthHeaders::Map(h))).await
    }

    pub(crate) async fn logout(&self) -> Result<(), Error> {
        let Auth::Session(hook) = &self.config.auth else {
            return Ok(());
        };
        let mut slot = self.session.lock().await;
        let Some(session) = slot.session.take() else {
            return Ok(());
        };
        slot.generation += 1;
        let result = hook.logout(&SessionClient { core: self }, &session).await;
        // Counted even when the device refused: the session is forgotten either way.
        self.stats.logouts.fetch_add(1, Ordering::Relaxed);
        result.map_err(|e| e.or_operation("session log-out").or_driver(DRIVER))
    }

    /// The request target in origin form (`base_path` + `path`, with the query),
    /// as hyper-util's client sent it: the URI [`uri`](Self::uri) gives without
    /// its scheme and authority (`/` alone when that is all). `None` when it is
    /// not a valid URI path and query.
    fn target(&self, path: &str) -> Option<Uri> {
        let lock = || self.targets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(uri) = lock().get(path) {
            return Some(uri.clone());
        }
        let uri = self.parse_target(path)?;
        let mut targets = lock();
        if targets.len() < TARGETS_CACHED {
            targets.insert(path.into(), uri.clone());
        }
        Some(uri)
    }

    /// [`target`](Self::target), parsed.
    fn parse_target(&self, path: &str) -> Option<Uri> {
        let path_and_query = if self.fixed.origin.is_none() {
            self.uri(path)?.path_and_query()?.clone()
        } else {
            self.path_and_query(path)?
        };
        if path_and_query.as_str() == "/" {
            return Some(Uri::default());
        }
        let mut parts = http::uri::Parts::default();
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts).ok()
    }

    /// `base_path` + `path` (`/` for an empty one), parsed as a path and query.
    fn path_and_query(&self, path: &str) -> Option<http::uri::PathAndQuery> {
        let path = if path.is_empty() { "/" } else { path };
        let base = &self.config.base_path;
        if base.is_empty() {
            http::uri::PathAndQuery::try_from(path)
        } else {
            let mut joined = String::with_capacity(base.len() + path.len());
            joined.push_str(base);
            joined.push_str(path);
            http::uri::PathAndQuery::try_from(joined)
        }
        .ok()
    }

    /// The request URI: the endpoint's scheme and authority (parsed once) and
    /// `base_path` + `path`, which alone is parsed here; `None` when that is not
    /// a valid URI path and query.
    fn uri(&self, path: &str) -> Option<Uri> {
        let Some((scheme, authority)) = &self.fixed.origin else {
            let path = if path.is_empty() { "/" } else { path };
            let mut uri = String::with_capacity(self.fixed.uri_prefix.len() + path.len());
            uri.push_str(&self.fixed.uri_prefix);
            uri.push_str(path);
            return Uri::try_from(uri).ok();
        };
        let path_and_query = self.path_and_query(path)?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(scheme.clone());
        parts.authority = Some(authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts).ok()
    }

    /// The headers of one attempt: the client's template (`Host`, `User-Agent`,
    /// basic `Authorization`), the request's own headers, then `auth`'s map. A
    /// request's own `Host` or `User-Agent` replaces the client's (every value of
    /// it is sent); its own `Authorization` is replaced by the authentication's,
    /// as each later step replaced what came before when the headers were
    /// inserted one by one.
    fn headers(&self, req: &Request, auth: Option<AuthHeaders>) -> http::HeaderMap {
        let basic = match &auth {
            Some(AuthHeaders::Basic) => self.fixed.headers_basic.as_ref(),
            _ => None,
        };
        let template = basic.unwrap_or(&self.fixed.headers);
        let reusable = !matches!(auth, Some(AuthHeaders::Map(_)));
        let lock = || self.merged.lock().unwrap_or_else(|p| p.into_inner());
        if reusable
            && let Some(m) = &*lock()
            && m.basic == basic.is_some()
            && same_headers(&m.own, &req.headers)
        {
            return m.headers.clone();
        }
        let mut headers = template.clone();
        // The values of one name come one after another: the first one of a name
        // the template holds replaces the template's, the others are added.
        let mut previous: Option<&http::HeaderName> = None;
        for (name, value) in &req.headers {
            let first = previous != Some(name);
            previous = Some(name);
            if *name == AUTHORIZATION && basic.is_some() {
                continue;
            }
            if first && (*name == HOST || *name == USER_AGENT) {
                headers.insert(name.clone(), value.clone());
            } else {
                headers.append(name.clone(), value.clone());
            }
        }
        if let Some(AuthHeaders::Map(map)) = auth {
            for (name, mut value) in map {
                value.set_sensitive(true);
                if let Some(name) = name {
                    headers.insert(name, value);
                }
            }
        } else if reusable && !req.headers.values().any(HeaderValue::is_sensitive) {
            *lock() = Some(Merged {
                basic: basic.is_some(),
                own: req.headers.clone(),
                headers: headers.clone(),
            });
        }
        headers
    }

    /// One HTTP exchange, holding a concurrency slot, within the request timeout.
    async fn attempt(&self, req: &Request, auth: Option<AuthHeaders>) -> Attempt {
        let context = self.context(req);
        let Some(uri) = self.target(&req.path) else {
            return Attempt::Failed {
                err: Error::new(
                    ErrorKind::InvalidParameter,
                    format!("{context}: the request path is not a valid URI"),
                ),
                sent: false,
            };
        };
        let mut http_req = http::Request::new(Full::new(req.body.clone()));
        *http_req.method_mut() = req.method.clone();
        *http_req.uri_mut() = uri;
        *http_req.headers_mut() = self.headers(req, auth);

        // A free slot is taken at once; only a wait for one is timed.
        let _permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return client_closed(&context),
            Err(TryAcquireError::NoPermits) => {
                let queue = self.config.queue_timeout;
                match tokio::time::timeout(queue, self.permits.acquire()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return client_closed(&context),
                    Err(_) => {
                        return Attempt::Failed {
                            err: Error::new(
                                ErrorKind::Busy,
                                format!(
                                    "{context}: waited {queue:?} for one of the endpoint's {} request slots",
                                    self.config.max_concurrency
                                ),
                            )
                            // The wait already was the patience: do not queue again here.
                            .with_retryable(false),
                            sent: false,
                        };
                    }
                }
            }
        };
        let now = self.stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.stats.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        self.stats.attempts.fetch_add(1, Ordering::Relaxed);
        let _guard = InFlight(&self.stats.in_flight);

        let timeout = self.config.request_timeout;
        // The context moves into the reply; the rare timeout formats it again.
        let exchange = self.exchange(http_req, context);
        match tokio::time::timeout(timeout, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Attempt::Failed {
                err: Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{}: no complete response within {timeout:?}",
                        self.context(req)
                    ),
                ),
                sent: true,
            },
        }
    }

    async fn exchange(&self, http_req: http::Request<Full<Bytes>>, context: String) -> Attempt {
        let (resp, lease) = match self.pool.send(http_req).await {
            Ok(r) => r,
            Err(e) => return map_send_error(e, &context),
        };
        let (parts, mut body) = resp.into_parts();
        let cap = self.config.max_body_bytes;
        let (declared, closing) = scan_reply(&parts);
        if let Some(len) = declared
            && len > cap as u64
        {
            return Attempt::Failed {
                err: body_cap_error(&context, cap, Some(len)),
                sent: true,
            };
        }
        let initial = declared.map_or(0, |l| usize::try_from(l).unwrap_or(cap).min(cap));
        let mut buf = BytesMut::with_capacity(initial);
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) if cut_short(&e) => {
                    // The peer declared a length (or chunking) and closed before
                    // delivering it: the reply is truncated. `Protocol`, as a
                    // truncated XML or JSON body is; retryable, since a BMC restarting
                    // mid-reply or a middlebox cutting the connection is transient and
                    // an idempotent read can be asked again (the retry policy never
                    // resends a request that is not idempotent: it was sent).
                    let expected = declared.map_or_else(String::new, |n| format!(" of {n}"));
                    return Attempt::Failed {
                        err: Error::protocol(format!(
                            "{context}: truncated response: the connection closed after {}{expected} bytes of the body",
                            buf.len()
                        ))
                        .with_retryable(true)
                        .with_source(e),
                        sent: true,
                    };
                }
                Err(e) => {
                    return Attempt::Failed {
                        err: Error::new(
                            ErrorKind::Unreachable,
                            format!("{context}: connection failed while reading the body: {e}"),
                        )
                        .with_source(e),
                        sent: true,
                    };
                }
            };
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > cap {
                    return Attempt::Failed {
                        err: body_cap_error(&context, cap, None),
                        sent: true,
                    };
                }
                buf.extend_from_slice(&data);
            }
        }
        // Read to the end without an error: the connection may serve another.
        lease.release(closing);
        Attempt::Done(Response {
            status: parts.status,
            headers: parts.headers,
            body: buf.freeze(),
            context: context.into(),
        })
    }
}

fn client_closed(context: &str) -> Attempt {
    Attempt::Failed {
        err: Error::new(ErrorKind::Other, format!("{context}: client closed")),
        sent: false,
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a body error is the connection closing before the declared length (or
/// the last chunk) arrived: hyper reports an `UnexpectedEof` I/O error as its source.
fn cut_short(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() {
        return true;
    }
    let mut cur = std::error::Error::source(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::UnexpectedEof
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn body_cap_error(context: &str, cap: usize, declared: Option<u64>) -> Error {
    let msg = match declared {
        Some(len) => {
            format!("{context}: response body of {len} bytes exceeds the limit of {cap} bytes")
        }
        None => format!("{context}: response body exceeds the limit of {cap} bytes"),
    };
    Error::new(ErrorKind::Protocol, msg).with_retryable(false)
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp
        .headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// The reply's declared body length (its first `Content-Length`, when a number)
/// and whether it closes its connection (`Connection: close`, or not HTTP/1.1: an
/// HTTP/1.0 reply's connection is not reused), in one pass over its few headers
/// rather than a hash lookup for each name (issue 16).
fn scan_reply(parts: &http::response::Parts) -> (Option<u64>, bool) {
    let mut length: Option<&HeaderValue> = None;
    let mut closing = parts.version != http::Version::HTTP_11;
    for (name, value) in &parts.headers {
        if *name == CONTENT_LENGTH {
            length.get_or_insert(value);
        } else if *name == CONNECTION && !closing {
            closing = value.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|token| token.trim().eq_ignore_ascii_case("close"))
            });
        }
    }
    let declared = length
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    (declared, closing)
}

/// Maps the pool's error to a kind, and whether the request went out.
fn map_send_error(e: SendError, context: &str) -> Attempt {
    let (e, sent) = match e {
        // Our connector's error says exactly what failed; nothing was sent.
        SendError::Connect(ce) => {
            // Only what may pass is retried: not a certificate, a configuration,
            // or a peer that answered but not in TLS (`Protocol`: an `https://`
            // address of a plain-HTTP port never gets a TLS answer, however often
            // asked).
            let retryable = matches!(
                ce.kind,
                ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Busy
            );
            return Attempt::Failed {
                err: Error::new(ce.kind, format!("{context}: {}", ce.message))
                    .with_retryable(retryable),
                sent: false,
            };
        }
        SendError::Failed { error, sent } => (error, sent),
    };
    if e.is_parse() || e.is_parse_status() {
        return Attempt::Failed {
            err: Error::protocol(format!("{context}: malformed HTTP response: {e}")),
            sent: true,
        };
    }
    let detail = std::error::Error::source(&e)
        .map(|s| format!("{e}: {s}"))
        .unwrap_or_else(|| e.to_string());
    Attempt::Failed {
        err: Error::new(
            ErrorKind::Unreachable,
            format!("{context}: connection failed: {detail}"),
        )
        .with_source(e),
        sent,
    }
}

#[cfg(all(test, feature = "testing"))]
mod pool_race_tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use crate::{EndpointConfig, HttpClient};

    /// hyper-util's pool started a connect for a request that found no idle
    /// connection and let it run on in the background when the connection coming
    /// back to the pool served the request instead. Our pool opens a connection
    /// only for a request that found none idle, in the request's own task: after
    /// 300 requests one after another, one connection was opened and no task is
    /// left beside the first request's (its connection's and the idle reaper).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connects_that_lost_the_race_to_the_pool_end_with_their_request() {
        let (url, server) = crate::testing::hello_server().await;
        let config = EndpointConfig::builder(url)
            .max_concurrency(8)
            .connect_timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let client = HttpClient::new(config).unwrap();
        let metrics = tokio::runtime::Handle::current().metrics();
        client.get("/hello").await.unwrap();
        let baseline = metrics.num_alive_tasks();
        for _ in 0..300 {
            client.get("/hello").await.unwrap();
        }
        assert_eq!(server.connections(), 1);
        // The last requests' background connects see their request end as soon as
        // they run; bounded well below the connect timeout.
        let mut alive = metrics.num_alive_tasks();
        for _ in 0..200 {
            if alive <= baseline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            alive = metrics.num_alive_tasks();
        }
        assert!(
            alive <= baseline,
            "{alive} tasks alive after 300 sequential requests, {baseline} after the first"
        );
        assert_eq!(client.stats().open_connections, 1);
    }
}

#[cfg(all(test, feature = "testing"))]
mod context_tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use crate::testing::{Reply, TestServer};
    use crate::{EndpointConfig, HttpClient, Request};

    /// The context errors and replies name a request by (`METHOD origin/base_path/path`,
    /// no query) is built from a prefix computed once per client (issue 16): the
    /// same text as when it was formatted whole per request, for a reply's status
    /// error and for a timeout (formatted again after the exchange took it).
    #[tokio::test]
    async fn errors_name_the_method_origin_base_path_and_path_without_the_query() {
        let server = TestServer::start(|r| {
            if r.target.starts_with("/api/v1/slow") {
                Reply::ok("late").delay(Duration::from_secs(5))
            } else {
                Reply::status(500)
            }
        })
        .await
        .unwrap();
        let port = server.addr().port();
        let config = EndpointConfig::builder(format!("http://127.0.0.1:{port}/api/v1/"))
            .request_timeout(Duration::from_millis(300))
            .retry(hwctl_core::retry::RetryPolicy::none())
            .build()
            .unwrap();
        let client = HttpClient::new(config).unwrap();
        let reply = client.send_raw(Request::get("/x?y=1")).await.unwrap();
        let err = reply.error_for_status().unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("GET http://127.0.0.1:{port}/api/v1/x: HTTP 500")),
            "{err}"
        );
        let err = client
            .send_raw(Request::post("/slow?z=2"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "POST http://127.0.0.1:{port}/api/v1/slow: no complete response within"
            )),
            "{err}"
        );
    }
}

#[cfg(all(test, feature = "testing"))]
mod per_client_parts_tests {
    #![allow(clippy::unwrap_used)]

    use base64::Engine as _;
    use http::Uri;

    use super::BasicAuthorization;
    use crate::testing::{Reply, TestServer};
    use crate::{Auth, EndpointConfig, HttpClient, HttpClients, Request};

    /// The basic `Authorization` value built once per client is that of the
    /// client's own credentials (RFC 7617's example shape), marked sensitive, and
    /// neither it nor the password shows in `Debug`.
    #[test]
    fn the_basic_value_is_the_credentials_own_and_debug_shows_none_of_it() {
        let a = BasicAuthorization::new("Aladdin", "open sesame").unwrap();
        assert_eq!(a.value(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(a.value().is_sensitive());
        let b = BasicAuthorization::new("Aladdin", "open sesame!").unwrap();
        let c = BasicAuthorization::new("aladdin", "open sesame").unwrap();
        assert_ne!(a.value(), b.value());
        assert_ne!(a.value(), c.value());
        for shown in [format!("{a:?}"), format!("{:?}", a.value())] {
            assert!(!shown.contains("QWxhZGRpbj"), "{shown}");
            assert!(!shown.contains("sesame"), "{shown}");
        }
    }

    /// Two clients of one endpoint that differ only in the password each send
    /// their own basic value (nothing is shared between clients), and the
    /// client's `Debug` shows neither.
    #[tokio::test]
    async fn each_client_sends_its_own_basic_credentials() {
        let server = TestServer::start(|r| {
            Reply::ok(r.header("authorization").unwrap_or("none").to_owned())
        })
        .await
        .unwrap();
        let clients = HttpClients::new();
        for password in ["first-pw", "second-pw", "first-pw"] {
            let config = EndpointConfig::builder(server.base_url())
                .auth(Auth::basic("admin", password))
                .build()
                .unwrap();
            let client = clients.get(&config).unwrap();
            let sent = client.get("/").await.unwrap().text().unwrap().to_owned();
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
            assert_eq!(sent, format!("Basic {token}"));
            let debug = format!("{client:?}");
            assert!(
                !debug.contains(&token) && !debug.contains(password),
                "{debug}"
            );
        }
    }

    /// The request URI made of the origin parsed once and the base path and path
    /// parsed per request is the URI the whole text parses to, for every shape of
    /// base URL and path, and the target sent is its origin form (what
    /// hyper-util's client sent); a path that is not a valid URI path is refused
    /// as the whole text was.
    #[test]
    fn the_request_uri_is_what_the_whole_text_parses_to() {
        let bases = [
            "http://10.0.0.5:8000/",
            "http://10.0.0.5/",
            "https://cm.example.net/redfish/",
            "https://cm.example.net:443/api/v1",
            "http://[fe80::1]:8000/base/",
            "http://[::1]/",
        ];
        let paths = [
            "",
            "/",
            "/GetBladeState?bladeid=3",
            "/a/b?x=1&y=%20z",
            "/frag#part",
            "//double",
            "/with space",
            "/bad\u{7f}",
            "/ümlaut",
        ];
        for base in bases {
            let client = HttpClient::new(EndpointConfig::builder(base).build().unwrap()).unwrap();
            let core = &client.handle.core;
            assert!(core.fixed.origin.is_some(), "{base}: origin not parsed");
            for path in paths {
                let whole = format!(
                    "{}{}",
                    core.fixed.uri_prefix,
                    if path.is_empty() { "/" } else { path }
                );
                let expected = Uri::try_from(whole.as_str()).ok();
                assert_eq!(core.uri(path), expected, "{base} + {path:?}");
                // What goes on the wire: hyper-util's origin form of that URI.
                let origin_form = expected.map(|u| match u.path_and_query() {
                    Some(pq) if pq.as_str() != "/" => Uri::try_from(pq.as_str()).unwrap(),
                    _ => Uri::default(),
                });
                assert_eq!(core.target(path), origin_form, "{base} + {path:?}");
                // Again, now from the client's parsed targets.
                assert_eq!(core.target(path), origin_form, "{base} + {path:?}, cached");
            }
        }
    }

    /// A client keeps at most `TARGETS_CACHED` parsed targets; a path past them,
    /// or one looked up again, gives the target a fresh parse gives, and paths
    /// whose hashes could meet (same length, one byte apart) stay apart.
    #[test]
    fn parsed_targets_are_bounded_and_each_is_its_own_paths() {
        let client = HttpClient::new(
            EndpointConfig::builder("http://10.0.0.5:8000/api/")
                .build()
                .unwrap(),
        )
        .unwrap();
        let core = &client.handle.core;
        let paths: Vec<String> = (0..super::TARGETS_CACHED + 50)
            .map(|i| format!("/GetBladeState?bladeid={i}"))
            .collect();
        for _ in 0..2 {
            for path in &paths {
                let whole = Uri::try_from(format!("{}{path}", core.fixed.uri_prefix)).unwrap();
                let expected = Uri::try_from(whole.path_and_query().unwrap().as_str()).unwrap();
                assert_eq!(core.target(path), Some(expected), "{path}");
            }
        }
        assert_eq!(core.targets.lock().unwrap().len(), super::TARGETS_CACHED);
        assert_eq!(core.target("/bad\u{7f}"), None);
        assert_eq!(core.target("/bad\u{7f}"), None);
    }

    /// An attempt whose request brings the same own headers as the previous
    /// one (with the same template) gets a clone of the headers built then:
    /// two allocations (the index table and the entries) and nothing more, and
    /// the same headers a fresh build gives. Other own headers, another
    /// template, a digest or session map, or a sensitive own value are built
    /// afresh (and a sensitive one is not kept). Fails on the template clone,
    /// whose entries were copied at their length and reallocated for the
    /// request's first header (4 allocations).
    #[test]
    fn an_attempt_reuses_the_headers_built_for_the_same_own_headers() {
        use super::AuthHeaders;
        use hwctl_core::testing::counting_alloc::allocations_during;
        let client = HttpClient::new(
            EndpointConfig::builder("http://10.0.0.5:8000/")
                .auth(Auth::basic("u", "p"))
                .build()
                .unwrap(),
        )
        .unwrap();
        let core = &client.handle.core;
        let names = |h: &http::HeaderMap| -> Vec<String> {
            h.iter()
                .map(|(n, v)| format!("{n}={}", v.to_str().unwrap()))
                .collect()
        };
        let accept = || Request::get("/").header("Accept", "application/xml");
        let first = core.headers(&accept(), Some(AuthHeaders::Basic));
        let again = core.headers(&accept(), Some(AuthHeaders::Basic));
        let (_, n) = {
            let req = accept();
            allocations_during(|| core.headers(&req, Some(AuthHeaders::Basic)))
        };
        assert_eq!(n, 2, "allocations building an attempt's headers");
        assert_eq!(names(&again), names(&first));
        assert_eq!(
            names(&first),
            [
                "host=10.0.0.5:8000",
                &format!("user-agent={}", client.config().user_agent),
                "authorization=Basic dTpw",
                "accept=application/xml"
            ]
        );
        assert!(again["authorization"].is_sensitive());

        // Without the basic template (a log-in request's), other own headers,
        // the same names in another order: each its own headers.
        let plain = core.headers(&accept(), None);
        assert_eq!(names(&plain)[2], "accept=application/xml");
        assert_eq!(plain.len(), 3);
        let json = Request::get("/").header("Accept", "application/json");
        assert_eq!(
            core.headers(&json, Some(AuthHeaders::Basic))["accept"],
            "application/json"
        );
        let ab = Request::get("/").header("X-A", "1").header("X-B", "2");
        let ba = Request::get("/").header("X-B", "2").header("X-A", "1");
        let built_ab = names(&core.headers(&ab, Some(AuthHeaders::Basic)));
        let built_ba = names(&core.headers(&ba, Some(AuthHeaders::Basic)));
        assert_eq!(built_ab[3..], ["x-a=1", "x-b=2"]);
        assert_eq!(built_ba[3..], ["x-b=2", "x-a=1"]);

        // A digest or session map is added per attempt, never reused.
        let mut token = http::HeaderMap::new();
        token.insert("x-auth-token", http::HeaderValue::from_static("one"));
        let with_map = core.headers(&accept(), Some(AuthHeaders::Map(token)));
        assert_eq!(with_map["x-auth-token"], "one");
        assert!(core.headers(&accept(), None).get("x-auth-token").is_none());

        // A request's own secret is sent but not kept.
        let secret = Request::get("/").header("X-Auth-Token", "s3cret");
        assert_eq!(core.headers(&secret, None)["x-auth-token"], "s3cret");
        let kept = core.merged.lock().unwrap();
        assert!(
            kept.as_ref()
                .is_some_and(|m| m.own.get("x-auth-token").is_none())
        );
    }

    /// What a request carries besides its own headers: every value of a header
    /// given twice, in order; the client's `User-Agent` unless the request sets
    /// one; the basic value.
    #[tokio::test]
    async fn request_headers_go_out_whole_beside_the_clients_own() {
        let server = TestServer::start(|r| {
            let mut seen: Vec<String> = r
                .headers
                .iter()
                .filter(|(n, _)| n != "host")
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            seen.sort();
            Reply::ok(seen.join("\n"))
        })
        .await
        .unwrap();
        let config = EndpointConfig::builder(server.base_url())
            .auth(Auth::basic("u", "p"))
            .user_agent("ours/1")
            .build()
            .unwrap();
        let client = HttpClient::new(config).unwrap();
        let reply = client
            .get_request(
                Request::get("/")
                    .header("Accept", "application/xml")
                    .header("X-Twice", "one")
                    .header("X-Twice", "two"),
            )
            .await;
        assert_eq!(
            reply,
            "accept=application/xml\nauthorization=Basic dTpw\nuser-agent=ours/1\nx-twice=one\nx-twice=two"
        );
        let reply = client
            .get_request(Request::get("/").header("User-Agent", "theirs/2"))
            .await;
        assert_eq!(reply, "authorization=Basic dTpw\nuser-agent=theirs/2");
    }

    /// Built from the client's header template (issue 16), a request still sends
    /// what inserting the client's headers after its own sent: its own `Host`
    /// and every value of its own `User-Agent` instead of the client's, and the
    /// client's basic `Authorization` instead of its own; without basic
    /// authentication its own `Authorization` goes out.
    #[tokio::test]
    async fn a_requests_own_host_and_user_agent_replace_the_clients_and_basic_wins() {
        let server = TestServer::start(|r| {
            let mut seen: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}={v}")).collect();
            seen.sort();
            Reply::ok(seen.join("\n"))
        })
        .await
        .unwrap();
        let port = server.addr().port();
        let request = || {
            Request::get("/")
                .header("Host", "elsewhere:1")
                .header("User-Agent", "a/1")
                .header("User-Agent", "b/2")
                .header("Authorization", "Bearer theirs")
        };
        let basic = HttpClient::new(
            EndpointConfig::builder(server.base_url())
                .auth(Auth::basic("u", "p"))
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            basic.get_request(request()).await,
            "authorization=Basic dTpw\nhost=elsewhere:1\nuser-agent=a/1\nuser-agent=b/2"
        );
        let none = HttpClient::new(
            EndpointConfig::builder(server.base_url())
                .user_agent("ours/1")
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            none.get_request(request()).await,
            "authorization=Bearer theirs\nhost=elsewhere:1\nuser-agent=a/1\nuser-agent=b/2"
        );
        assert_eq!(
            none.get_request(Request::get("/")).await,
            format!("host=127.0.0.1:{port}\nuser-agent=ours/1")
        );
    }

    impl HttpClient {
        async fn get_request(&self, request: Request) -> String {
            self.send(request).await.unwrap().text().unwrap().to_owned()
        }
    }
}
