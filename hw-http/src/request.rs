//! One request and one response, as plain values.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use hwctl_core::{Error, ErrorKind};

/// An HTTP request relative to the endpoint's base URL.
///
/// `idempotent` decides whether a failed attempt may be retried: it defaults to
/// `true` for GET, HEAD, PUT, DELETE and OPTIONS and to `false` for POST and PATCH.
/// Mark a request that changes the device (power cycle, reset, NMI) as not
/// idempotent, whatever its method: it is then never sent twice.
///
/// ```
/// use hwctl_http::Request;
/// let req = Request::post("/SetBladeActivePowerCycle?bladeid=3")
///     .operation("power cycle")
///     .header("Accept", "application/xml")
///     .body("");
/// assert!(!req.is_idempotent());
/// assert!(Request::get("/GetBladeState?bladeid=3").is_idempotent());
/// ```
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) idempotent: bool,
    pub(crate) operation: Cow<'static, str>,
    pub(crate) header_error: Option<String>,
    pub(crate) despite_unreachable: bool,
}

impl Request {
    /// A request with `method` for `path` (with its query, relative to the base URL).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        let operation = method_name(&method);
        Request {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            idempotent,
            operation,
            header_error: None,
            despite_unreachable: false,
        }
    }

    /// A GET request.
    pub fn get(path: impl Into<String>) -> Self {
        Request::new(Method::GET, path)
    }
    /// A POST request (not idempotent unless marked so).
    pub fn post(path: impl Into<String>) -> Self {
        Request::new(Method::POST, path)
    }
    /// A PUT request.
    pub fn put(path: impl Into<String>) -> Self {
        Request::new(Method::PUT, path)
    }
    /// A PATCH request (not idempotent unless marked so).
    pub fn patch(path: impl Into<String>) -> Self {
        Request::new(Method::PATCH, path)
    }
    /// A DELETE request.
    pub fn delete(path: impl Into<String>) -> Self {
        Request::new(Method::DELETE, path)
    }

    /// Adds a header. An invalid name or value is reported when the request is sent.
    ///
    /// The names and values drivers send on every request (`Accept`,
    /// `Content-Type`, `application/json`, …, spelled as drivers spell them)
    /// are recognised and taken as static: no name is parsed, no value copied,
    /// and the value is cloned into every attempt without a shared count
    /// (about 0.9k instructions per request before, issue 16). Any other name
    /// or value is parsed and checked as before.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        let value = value.as_ref();
        let (parsed_name, known_sensitive) = match known_name(name) {
            Some((n, sensitive)) => (Ok(n), Some(sensitive)),
            None => (HeaderName::from_bytes(name.as_bytes()), None),
        };
        let parsed_value = match known_value(value) {
            Some(v) => Ok(v),
            None => HeaderValue::from_str(value),
        };
        match (parsed_name, parsed_value) {
            (Ok(n), Ok(mut v)) => {
                if known_sensitive.unwrap_or_else(|| crate::redact::is_sensitive(&n)) {
                    v.set_sensitive(true);
                }
                self.headers.append(n, v);
            }
            _ => {
                self.header_error
                    .get_or_insert_with(|| format!("invalid header {name:?}"));
            }
        }
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and the `Content-Type: application/json` header.
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.header("content-type", "application/json").body(body),
            Err(e) => {
                let mut req = self;
                req.header_error = Some(format!("cannot encode JSON body: {e}"));
                req
            }
        }
    }

    /// Marks whether the request may be sent again after a failure.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Tries a connection even when the shared client found the endpoint
    /// unreachable moments ago. By default a request that starts within the retry
    /// policy's longest backoff wait (`RetryPolicy::backoff`'s `max`, 2 s by
    /// default) after a connection to its endpoint could not be opened fails at
    /// once as `Unreachable`, not sent (so the nodes of one dead chassis do not
    /// each run a retry loop); this is for a deliberate resend after a wait of the
    /// caller's own, such as Intel AMT's resend after its wake-up wait (a sleeping
    /// AMT refuses connections until it is awake).
    ///
    /// ```
    /// use hwctl_http::Request;
    /// let req = Request::post("/wsman").body("…").despite_unreachable();
    /// # let _ = req;
    /// ```
    pub fn despite_unreachable(mut self) -> Self {
        self.despite_unreachable = true;
        self
    }

    /// Names the operation (for spans and error context), e.g. `"GetBladeState"`.
    pub fn operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.operation = operation.into();
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The path with its query, relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The path without its query (what spans and errors show).
    pub fn path_only(&self) -> &str {
        // A byte scan: both delimiters are ASCII, so the cut is on a character
        // boundary (a `split` with a char set cost more per request, issue 16).
        let end = self
            .path
            .bytes()
            .position(|b| b == b'?' || b == b'#')
            .unwrap_or(self.path.len());
        self.path.get(..end).unwrap_or(&self.path)
    }
    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }
    /// Whether the request may be retried.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }
    /// The operation name.
    pub fn operation_name(&self) -> &str {
        &self.operation
    }
}

/// Header names drivers send per request, as they spell them, with their
/// static name and whether their value is a secret
/// ([`crate::redact::is_sensitive`]'s answer, which a test checks). Compared
/// exactly (a length check and a byte compare): another spelling is parsed.
static KNOWN_NAMES: [(&str, HeaderName, bool); 11] = [
    ("Accept", http::header::ACCEPT, false),
    ("accept", http::header::ACCEPT, false),
    ("Content-Type", http::header::CONTENT_TYPE, false),
    ("content-type", http::header::CONTENT_TYPE, false),
    ("Accept-Language", http::header::ACCEPT_LANGUAGE, false),
    ("if-match", http::header::IF_MATCH, false),
    ("authorization", http::header::AUTHORIZATION, true),
    (
        "X-Auth-Token",
        HeaderName::from_static("x-auth-token"),
        true,
    ),
    (
        "x-auth-token",
        HeaderName::from_static("x-auth-token"),
        true,
    ),
    (
        "X-API-Version",
        HeaderName::from_static("x-api-version"),
        false,
    ),
    ("Auth", HeaderName::from_static("auth"), true),
];

/// The static name for `name` and whether it is sensitive, when it is one of
/// [`KNOWN_NAMES`]: cheaper than `HeaderName::from_bytes` and the sensitivity
/// scan.
fn known_name(name: &str) -> Option<(HeaderName, bool)> {
    KNOWN_NAMES
        .iter()
        .find(|(known, _, _)| *known == name)
        .map(|(_, n, sensitive)| (n.clone(), *sensitive))
}

/// Header values drivers send on every request, built once (checking a value
/// given to `HeaderValue::from_static` outside a constant is a loop per call).
static KNOWN_VALUES: [HeaderValue; 4] = [
    HeaderValue::from_static("application/xml"),
    HeaderValue::from_static("application/json"),
    HeaderValue::from_static("application/soap+xml; charset=utf-8"),
    HeaderValue::from_static("en_US"),
];

/// A static value for `value` when it is one of [`KNOWN_VALUES`] (compared
/// exactly: a value's case may matter): no copy, and clones share nothing.
fn known_value(value: &str) -> Option<HeaderValue> {
    KNOWN_VALUES
        .iter()
        .find(|known| known.as_bytes() == value.as_bytes())
        .cloned()
}

/// The method's name as the default operation: borrowed for the standard
/// methods (no allocation per request, issue 16), copied for an extension one.
fn method_name(method: &Method) -> Cow<'static, str> {
    Cow::Borrowed(match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => return Cow::Owned(method.as_str().to_owned()),
    })
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path_only())
            .field("headers", &crate::redact::Headers(&self.headers))
            .field("body_len", &self.body.len())
            .field("idempotent", &self.idempotent)
            .field("operation", &self.operation)
            .field("despite_unreachable", &self.despite_unreachable)
            .finish()
    }
}

/// A complete response: status, headers and the body (at most the endpoint's cap).
#[derive(Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) context: Cow<'static, str>,
}

impl Response {
    /// Builds a response by hand (for tests of code that consumes responses).
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Response {
            status,
            headers,
            body: body.into(),
            context: Cow::Borrowed("response"),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// A header as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// Takes the body.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The body as UTF-8 text ([`ErrorKind::Protocol`] if it is not).
    ///
    /// # Errors
    ///
    /// `Protocol` when the body is not UTF-8.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|e| {
            Error::protocol(format!("{}: body is not UTF-8 text", self.context))
                .with_source(e)
                .with_driver("hwctl-http")
        })
    }

    /// The body decoded as JSON ([`ErrorKind::Protocol`] if it does not decode).
    ///
    /// # Errors
    ///
    /// `Protocol` when the body is not JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::protocol(format!(
                "{}: body is not the expected JSON: {e}",
                self.context
            ))
            .with_driver("hwctl-http")
        })
    }

    /// `Ok(self)` for a 2xx status, else the error [`crate::HttpClient::send`] would
    /// have returned (see the crate docs for the status → kind table).
    ///
    /// # Errors
    ///
    /// The status's kind ([`status_kind`]) for a non-2xx status.
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(status_error(self.status, &self.body, &self.context))
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &crate::redact::Headers(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The longest body excerpt an error message carries.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// The kind a non-2xx status maps to.
pub fn status_kind(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 | 410 => ErrorKind::NotFound,
        409 | 423 | 429 | 503 => ErrorKind::Busy,
        408 | 504 => ErrorKind::Timeout,
        405 | 501 => ErrorKind::Unsupported,
        300..=399 => ErrorKind::Protocol,
        400..=499 => ErrorKind::InvalidParameter,
        _ => ErrorKind::DeviceFault,
    }
}

/// A printable, length-limited excerpt of a body (control characters replaced).
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().count() > EXCERPT_CHARS || body.len() > EXCERPT_CHARS * 4 {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `excerpt` without a leading repeat of the status line the message already gives
/// (`401 Unauthorized: …`, `401 - Unauthorized: …`, as servers often start their
/// error pages), so it is not said twice.
fn without_status_line(excerpt: String, code: u16, reason: &str) -> String {
    let code = code.to_string();
    let Some(rest) = excerpt.strip_prefix(code.as_str()) else {
        return excerpt;
    };
    let rest = rest.trim_start_matches([' ', '-']);
    let Some(after) = rest
        .get(..reason.len())
        .filter(|r| !reason.is_empty() && r.eq_ignore_ascii_case(reason))
        .and_then(|_| rest.get(reason.len()..))
    else {
        return excerpt;
    };
    let after = after.trim_start_matches([' ', ':', '-', '.']);
    after.to_owned()
}

pub(crate) fn status_error(status: StatusCode, body: &[u8], context: &str) -> Error {
    let kind = status_kind(status);
    let reason = status.canonical_reason().unwrap_or("");
    let ex = without_status_line(excerpt(body), status.as_u16(), reason);
    let message = if ex.is_empty() {
        format!("{context}: HTTP {} {reason}", status.as_u16())
    } else {
        format!("{context}: HTTP {} {reason}: {ex}", status.as_u16())
    };
    // 409 (conflict) and 423 (locked) need the device to change first; 429/503 pass.
    let err = Error::new(kind, message).with_driver("hwctl-http");
    if matches!(status.as_u16(), 409 | 423) {
        err.with_retryable(false)
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's default operation is its method's name, borrowed for the
    /// standard methods (no copy per request) and copied for an extension one.
    #[test]
    fn the_default_operation_is_the_method_name_borrowed_when_standard() {
        for (method, name) in [
            (Method::GET, "GET"),
            (Method::POST, "POST"),
            (Method::PUT, "PUT"),
            (Method::PATCH, "PATCH"),
            (Method::DELETE, "DELETE"),
            (Method::HEAD, "HEAD"),
            (Method::OPTIONS, "OPTIONS"),
        ] {
            let req = Request::new(method, "/x");
            assert!(
                matches!(req.operation, Cow::Borrowed(n) if n == name),
                "{name}"
            );
        }
        let propfind = Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(Request::new(propfind, "/x").operation_name(), "PROPFIND");
    }

    /// The names and values `header` takes as static are what parsing gives
    /// (the same name, the same bytes) and each name's sensitivity is
    /// `is_sensitive`'s answer, so a table entry changes no request and hides
    /// every secret the scan hid.
    #[test]
    fn the_static_names_and_values_are_what_parsing_gives() {
        for (text, name, sensitive) in &KNOWN_NAMES {
            assert_eq!(HeaderName::from_bytes(text.as_bytes()).unwrap(), *name);
            assert_eq!(crate::redact::is_sensitive(name), *sensitive, "{text}");
        }
        for value in &KNOWN_VALUES {
            let text = value.to_str().unwrap();
            assert_eq!(HeaderValue::from_str(text).unwrap(), *value);
            assert_eq!(known_value(text).as_ref(), Some(value));
        }
    }

    /// A known name as drivers spell it and a known value are taken as static: adding
    /// them allocates only the request's header map (its index table and its
    /// entries), no copy of the value; a known sensitive name still marks its
    /// value sensitive, and other names and values are parsed and checked as
    /// before. Fails on the parse-everything `header` (3 allocations: the value
    /// was copied).
    #[test]
    fn a_known_header_is_neither_parsed_nor_copied() {
        use hwctl_core::testing::counting_alloc::allocations_during;
        let req = Request::get("/");
        let (req, n) = allocations_during(|| req.header("Accept", "application/xml"));
        assert_eq!(n, 2, "allocations adding Accept: application/xml");
        assert_eq!(req.headers()["accept"], "application/xml");
        let (_, n) = allocations_during(|| req.headers()["accept"].clone());
        assert_eq!(n, 0, "allocations cloning the value");

        let req = Request::get("/")
            .header("ACCEPT", "application/json")
            .header("X-Auth-Token", "t0k3n")
            .header("authorization", "Bearer x")
            .header("Content-Type", "application/XML")
            .header("X-Custom", "application/xml");
        let headers = req.headers();
        assert_eq!(headers["accept"], "application/json");
        assert!(!headers["accept"].is_sensitive());
        assert!(headers["x-auth-token"].is_sensitive());
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers["content-type"], "application/XML");
        assert_eq!(headers["x-custom"], "application/xml");
        assert!(req.header_error.is_none());

        let bad = Request::get("/").header("Accept", "line\nbreak");
        assert_eq!(
            bad.header_error.as_deref(),
            Some("invalid header \"Accept\"")
        );
        let bad = Request::get("/").header("Acc ept", "application/xml");
        assert!(bad.header_error.is_some());
    }

    #[test]
    fn the_path_without_its_query_or_fragment() {
        for (path, only) in [
            ("/a/b?x=1", "/a/b"),
            ("/a#f?x", "/a"),
            ("/a?x#f", "/a"),
            ("/ü?x", "/ü"),
            ("", ""),
            ("?x", ""),
            ("/plain", "/plain"),
        ] {
            assert_eq!(Request::get(path).path_only(), only, "{path}");
        }
    }

    #[test]
    fn status_mapping() {
        let k = |s: u16| status_kind(StatusCode::from_u16(s).unwrap());
        assert_eq!(k(401), ErrorKind::Unauthenticated);
        assert_eq!(k(403), ErrorKind::PermissionDenied);
        assert_eq!(k(404), ErrorKind::NotFound);
        assert_eq!(k(409), ErrorKind::Busy);
        assert_eq!(k(429), ErrorKind::Busy);
        assert_eq!(k(503), ErrorKind::Busy);
        assert_eq!(k(400), ErrorKind::InvalidParameter);
        assert_eq!(k(500), ErrorKind::DeviceFault);
        assert_eq!(k(302), ErrorKind::Protocol);
    }

    #[test]
    fn a_body_repeating_the_status_line_is_not_said_twice() {
        let e = status_error(
            StatusCode::UNAUTHORIZED,
            b"401 Unauthorized: basic credentials required",
            "GET /x",
        );
        assert_eq!(
            e.message(),
            "GET /x: HTTP 401 Unauthorized: basic credentials required"
        );
        let e = status_error(
            StatusCode::UNAUTHORIZED,
            b"401 - Unauthorized: Access is denied due to invalid credentials.",
            "GET /x",
        );
        assert_eq!(
            e.message(),
            "GET /x: HTTP 401 Unauthorized: Access is denied due to invalid credentials."
        );
        // Only the whole status line goes; other bodies stay as they are.
        for body in [
            "401 errors today",
            "4011 Unauthorized",
            "Unauthorized",
            "401 Unauthorized",
        ] {
            let e = status_error(StatusCode::UNAUTHORIZED, body.as_bytes(), "GET /x");
            let expected = match body {
                "401 Unauthorized" => "GET /x: HTTP 401 Unauthorized".to_owned(),
                _ => format!("GET /x: HTTP 401 Unauthorized: {body}"),
            };
            assert_eq!(e.message(), expected, "{body}");
        }
    }

    #[test]
    fn excerpt_is_limited_and_printable() {
        let body = format!("line1\r\nline2\x00{}", "x".repeat(10_000));
        let ex = excerpt(body.as_bytes());
        assert!(ex.chars().count() <= EXCERPT_CHARS + 1);
        assert!(ex.starts_with("line1 line2"));
        assert!(!ex.contains('\n'));
    }

    #[test]
    fn error_for_status_carries_status_and_excerpt() {
        let r = Response::from_parts(StatusCode::NOT_FOUND, HeaderMap::new(), "no such blade");
        let err = r.error_for_status().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string()
                .contains("HTTP 404 Not Found: no such blade"),
            "{err}"
        );
    }
}
