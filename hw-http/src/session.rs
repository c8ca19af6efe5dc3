//! Session-token authentication: log in once, reuse the token, log in again once
//! on a 401, log out when the client is closed or its last clone is dropped.
//!
//! The protocol crate says how (OneView: `POST /rest/login-sessions` → `Auth:`
//! header; OpenBMC: `X-Auth-Token` or a cookie) by implementing [`SessionAuth`];
//! hwctl-http decides when.

use std::fmt;

use async_trait::async_trait;
use http::header::{HeaderName, HeaderValue};
use hwctl_core::{Error, ExposeSecret, SecretString};

use crate::client::Core;
use crate::request::{Request, Response};

/// A log-in hook for [`crate::Auth::Session`].
///
/// Contract:
/// - `login` runs at most once at a time per client; every request waits for it and
///   then carries the [`Session`]'s headers.
/// - On a 401 the session is dropped, `login` runs once more and the request is
///   sent once more (the server did not act on it); a second 401 is
///   [`hwctl_core::ErrorKind::Unauthenticated`].
/// - `logout` runs from [`crate::HttpClient::close`], or in a spawned task when the
///   last clone of the client is dropped inside a tokio runtime.
///
/// ```
/// use hwctl_http::{SessionAuth, Session, SessionClient, Request};
/// use hwctl_core::{ExposeSecret, SecretString};
///
/// /// OneView-style: POST credentials, get `{"sessionID": …}`, send it as `Auth:`.
/// #[derive(Debug)]
/// struct OneViewLogin { user: String, password: SecretString }
///
/// #[hwctl_core::async_trait]
/// impl SessionAuth for OneViewLogin {
///     async fn login(&self, client: &SessionClient<'_>) -> hwctl_core::Result<Session> {
///         let body = serde_json::json!({
///             "userName": self.user, "password": self.password.expose_secret()
///         });
///         let reply: serde_json::Value = client
///             .send(Request::post("/rest/login-sessions").json(&body).operation("login"))
///             .await?
///             .json()?;
///         let id = reply["sessionID"].as_str()
///             .ok_or_else(|| hwctl_core::Error::protocol("login reply has no sessionID"))?;
///         Session::new().header("Auth", SecretString::from(id.to_string()))
///     }
///     async fn logout(&self, client: &SessionClient<'_>, session: &Session) -> hwctl_core::Result<()> {
///         client.send(session.apply(Request::delete("/rest/login-sessions"))).await?;
///         Ok(())
///     }
///     fn cache_key(&self) -> String {
///         format!("oneview:{}:{}", self.user,
///             hwctl_core::shared::Fingerprint::of_parts(&[self.user.as_bytes(), self.password.expose_secret().as_bytes()]))
///     }
/// }
/// ```
#[async_trait]
pub trait SessionAuth: Send + Sync + fmt::Debug {
    /// Logs in and returns the session's headers. `client` sends without session
    /// headers.
    async fn login(&self, client: &SessionClient<'_>) -> hwctl_core::Result<Session>;

    /// Ends `session` on the device.
    async fn logout(&self, client: &SessionClient<'_>, session: &Session)
    -> hwctl_core::Result<()>;

    /// What identifies the account for the client cache: the user and a hash of the
    /// credentials (see [`hwctl_core::shared::Fingerprint`]), never a secret itself. Two hooks with
    /// the same key share one client and one session.
    fn cache_key(&self) -> String;
}

/// What a successful log-in yields: headers to add to every request (each value a
/// secret), and an optional non-secret id (e.g. the session's URI for log-out).
///
/// ```
/// use hwctl_http::{Request, Session};
/// let session = Session::new().header("X-Auth-Token", "tok-1".to_string().into())?;
/// let logout = session.apply(Request::delete("/redfish/v1/SessionService/Sessions/1"));
/// assert_eq!(logout.headers()["x-auth-token"], "tok-1");
/// // The token never shows in Debug.
/// assert!(!format!("{session:?}").contains("tok-1"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Session {
    headers: Vec<(HeaderName, SecretString)>,
    id: Option<String>,
}

impl Session {
    /// An empty session (add headers with [`header`](Self::header) or
    /// [`cookie`](Self::cookie)).
    ///
    /// ```
    /// let session = hwctl_http::Session::new();
    /// assert_eq!(session.id(), None);
    /// ```
    pub fn new() -> Self {
        Session::default()
    }

    /// Adds a header sent with every request (`X-Auth-Token`, `Auth`, …).
    /// Fails with [`hwctl_core::ErrorKind::Protocol`] when the name or value is not a
    /// valid header (the value is not echoed).
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::Protocol`] for an invalid header name or value.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_http::Session;
    /// assert!(Session::new().header("Auth", "abc".to_string().into()).is_ok());
    /// let err = Session::new().header("Auth", "line\nbreak".to_string().into()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Protocol);
    /// assert!(!err.to_string().contains("break"));
    /// ```
    pub fn header(mut self, name: &str, value: SecretString) -> hwctl_core::Result<Self> {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::protocol(format!("session header name {name:?} is invalid"))
                .with_driver("hwctl-http")
        })?;
        if HeaderValue::from_str(value.expose_secret()).is_err() {
            return Err(Error::protocol(format!(
                "session header {name} got a value that is not a valid header value"
            ))
            .with_driver("hwctl-http"));
        }
        self.headers.push((n, value));
        Ok(self)
    }

    /// Adds a `Cookie: name=value` header (OpenBMC's `SESSION` cookie).
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::Protocol`] for an invalid cookie.
    ///
    /// ```
    /// use hwctl_http::{Request, Session};
    /// let session = Session::new().cookie("SESSION", "s3cr3t".to_string().into())?;
    /// assert_eq!(session.apply(Request::get("/")).headers()["cookie"], "SESSION=s3cr3t");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn cookie(self, name: &str, value: SecretString) -> hwctl_core::Result<Self> {
        let pair = SecretString::from(format!("{name}={}", value.expose_secret()));
        self.header("cookie", pair)
    }

    /// Sets a non-secret identifier (for example the session resource's path).
    ///
    /// ```
    /// let session = hwctl_http::Session::new().with_id("/redfish/v1/SessionService/Sessions/7");
    /// assert_eq!(session.id(), Some("/redfish/v1/SessionService/Sessions/7"));
    /// ```
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The non-secret identifier, if set.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Adds this session's headers to `request` (for log-out requests).
    ///
    /// ```
    /// use hwctl_http::{Request, Session};
    /// let session = Session::new().header("Auth", "t".to_string().into())?;
    /// let req = session.apply(Request::delete("/rest/login-sessions"));
    /// assert_eq!(req.headers()["auth"], "t");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn apply(&self, mut request: Request) -> Request {
        self.add_to(&mut request.headers);
        request
    }

    pub(crate) fn add_to(&self, headers: &mut http::HeaderMap) {
        for (name, value) in &self.headers {
            if let Ok(mut v) = HeaderValue::from_str(value.expose_secret()) {
                v.set_sensitive(true);
                headers.append(name.clone(), v);
            }
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Session")
            .field("headers", &names)
            .field("values", &"<redacted>")
            .field("id", &self.id)
            .finish()
    }
}

/// The client a [`SessionAuth`] hook logs in and out with: the same endpoint,
/// pool, limits and timeouts, without session headers.
pub struct SessionClient<'a> {
    pub(crate) core: &'a Core,
}

impl SessionClient<'_> {
    /// Sends `request`; non-2xx statuses are errors (as [`crate::HttpClient::send`]).
    ///
    /// # Errors
    ///
    /// As [`crate::HttpClient::send`].
    pub async fn send(&self, request: Request) -> hwctl_core::Result<Response> {
        self.core
            .execute(&request, false)
            .await?
            .error_for_status()
            .map_err(|e| e.or_operation(request.operation))
    }

    /// Sends `request` and returns any status (as [`crate::HttpClient::send_raw`]).
    ///
    /// # Errors
    ///
    /// As [`crate::HttpClient::send_raw`].
    pub async fn send_raw(&self, request: Request) -> hwctl_core::Result<Response> {
        self.core.execute(&request, false).await
    }
}

impl fmt::Debug for SessionClient<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClient")
            .field("origin", &self.core.config.origin())
            .finish()
    }
}

/// Log-outs started when the last clone of a session client was dropped (see
/// [`finish_logouts`]).
static PENDING_LOGOUTS: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

pub(crate) fn track_logout(handle: tokio::task::JoinHandle<()>) {
    let mut pending = PENDING_LOGOUTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pending.retain(|h| !h.is_finished());
    pending.push(handle);
}

/// Waits (at most `timeout`) for the session log-outs started by dropping the last
/// clone of a client. A short-lived program (a CLI run) calls it before its runtime
/// ends, so that its sessions are not left open on the device.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// hwctl_http::session::finish_logouts(std::time::Duration::from_secs(5)).await;
/// # }
/// ```
pub async fn finish_logouts(timeout: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    let handles: Vec<_> = std::mem::take(
        &mut *PENDING_LOGOUTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for h in handles {
        if tokio::time::timeout_at(deadline, h).await.is_err() {
            tracing::warn!("session log-outs still running at the end of the wait");
            return;
        }
    }
}
