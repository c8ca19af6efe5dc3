//! Redfish error conditions → [`hwctl_core::ErrorKind`], as a table in code.
//!
//! | condition | kind |
//! |---|---|
//! | HTTP 400 (`Base.*.PropertyValueNotInList`, …) | `InvalidParameter` |
//! | HTTP 401 after one re-login | `Unauthenticated` |
//! | HTTP 403 | `PermissionDenied` |
//! | HTTP 404, 410 | `NotFound` |
//! | HTTP 405, 501 (action or method not implemented) | `Unsupported` |
//! | HTTP 429, 503 | `Busy`, retryable |
//! | HTTP 409 (conflict: the resource is busy), 412 (ETag no longer current), 423 (locked) | `Busy`, not retryable |
//! | HTTP 408, 504 | `Timeout` |
//! | other HTTP 5xx | `DeviceFault` |
//! | a body that is not JSON, too deep, too large, or the wrong shape | `Protocol` |
//! | a task that ends `Exception`, `Killed`, `Cancelled`, `Interrupted` | `DeviceFault` |
//! | a reset type or boot target outside the service's `AllowableValues` | `Unsupported` |
//! | an NMI to a system whose `PowerState` is `Off` or `PoweringOn` (nothing sent) | `PowerStateFailure` |
//! | several systems and no `redfish_system_id` (the problem names it) | `MissingParameter` |
//!
//! The error text keeps the Redfish `@Message.ExtendedInfo` message ids
//! (`[Base.1.8.PropertyValueNotInList] …`).

use hwctl_core::{Error, ErrorKind};
use hwctl_http::{Response, StatusCode};

use crate::NAME;
use crate::wire::ErrorBody;

/// The kind an HTTP status maps to (see the module table).
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_http::StatusCode;
/// use hwctl_redfish::errors::kind_of;
/// assert_eq!(kind_of(StatusCode::PRECONDITION_FAILED), ErrorKind::Busy);
/// assert_eq!(kind_of(StatusCode::METHOD_NOT_ALLOWED), ErrorKind::Unsupported);
/// assert_eq!(kind_of(StatusCode::BAD_REQUEST), ErrorKind::InvalidParameter);
/// assert_eq!(kind_of(StatusCode::BAD_GATEWAY), ErrorKind::DeviceFault);
/// ```
pub fn kind_of(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 | 410 => ErrorKind::NotFound,
        405 | 501 => ErrorKind::Unsupported,
        409 | 412 | 423 | 429 | 503 => ErrorKind::Busy,
        408 | 504 => ErrorKind::Timeout,
        300..=399 => ErrorKind::Protocol,
        400..=499 => ErrorKind::InvalidParameter,
        _ => ErrorKind::DeviceFault,
    }
}

/// The error for a non-2xx reply to `what`: its kind by [`kind_of`], its text with
/// the Redfish message ids (or a printable excerpt of a body that is no Redfish
/// error).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::ErrorKind;
/// use hwctl_http::Request;
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
/// let client = hwctl_redfish::RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
/// let reply = client.http().send_raw(Request::get("/redfish/v1/Systems/9")).await?;
/// let err = hwctl_redfish::errors::status_error(&reply, "GET /redfish/v1/Systems/9");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert!(err.to_string().contains("HTTP 404"), "{err}");
/// # Ok(()) }
/// ```
pub fn status_error(response: &Response, what: &str) -> Error {
    let status = response.status();
    let detail = match crate::wire::decode::<ErrorBody>(response.body(), what) {
        Ok(b) => b.summary(),
        Err(_) => excerpt(response.body()),
    };
    let reason = status.canonical_reason().unwrap_or("");
    let msg = if detail.is_empty() {
        format!("{what}: HTTP {} {reason}", status.as_u16())
    } else {
        format!("{what}: HTTP {} {reason}: {detail}", status.as_u16())
    };
    let err = Error::new(kind_of(status), msg).with_driver(NAME);
    if matches!(status.as_u16(), 409 | 412 | 423) {
        err.with_retryable(false)
    } else {
        err
    }
}

/// At most 200 printable characters of a body.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(800)]);
    let s: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hwctl_http::HeaderMap;

    #[test]
    fn statuses() {
        let k = |s: u16| kind_of(StatusCode::from_u16(s).unwrap_or(StatusCode::OK));
        assert_eq!(k(401), ErrorKind::Unauthenticated);
        assert_eq!(k(403), ErrorKind::PermissionDenied);
        assert_eq!(k(404), ErrorKind::NotFound);
        assert_eq!(k(409), ErrorKind::Busy);
        assert_eq!(k(412), ErrorKind::Busy);
        assert_eq!(k(400), ErrorKind::InvalidParameter);
        assert_eq!(k(500), ErrorKind::DeviceFault);
        assert_eq!(k(503), ErrorKind::Busy);
        assert_eq!(k(501), ErrorKind::Unsupported);
    }

    #[test]
    fn message_ids_in_text() {
        let body = r#"{"error":{"code":"Base.1.8.GeneralError","message":"See ExtendedInfo",
          "@Message.ExtendedInfo":[{"MessageId":"Base.1.8.ActionParameterNotSupported","Message":"nope"}]}}"#;
        let r = Response::from_parts(StatusCode::BAD_REQUEST, HeaderMap::new(), body);
        let e = status_error(&r, "POST ComputerSystem.Reset");
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(
            e.to_string()
                .contains("Base.1.8.ActionParameterNotSupported"),
            "{e}"
        );
        let r = Response::from_parts(
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            "\u{1}<html>",
        );
        assert_eq!(status_error(&r, "x").kind(), ErrorKind::DeviceFault);
    }
}
