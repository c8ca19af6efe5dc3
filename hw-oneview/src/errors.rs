//! OneView's error conditions → [`hwctl_core::ErrorKind`], as tables in code (the
//! README's errors table lists the same rows).

use hwctl_core::ErrorKind;

/// Task and reply `errorCode`s and their kinds. Codes not listed are
/// [`ErrorKind::DeviceFault`] (the appliance understood and said no).
pub const ERROR_CODES: &[(&str, ErrorKind)] = &[
    // python-oneviewclient: RESOURCE_NOT_FOUND → OneViewResourceNotFoundError.
    ("RESOURCE_NOT_FOUND", ErrorKind::NotFound),
    ("AUTHN_AUTH_FAIL", ErrorKind::Unauthenticated),
    ("AUTHN_AUTH_DIR_FAIL", ErrorKind::Unauthenticated),
    ("AUTHN_SESSION_EXPIRED", ErrorKind::Unauthenticated),
    ("AUTHORIZATION", ErrorKind::PermissionDenied),
    ("INSUFFICIENT_PRIVILEGES", ErrorKind::PermissionDenied),
    // Our simulator's (and, we infer, the appliance's) session limit.
    ("SESSION_LIMIT_EXCEEDED", ErrorKind::Busy),
    ("RESOURCE_LOCKED", ErrorKind::Busy),
    ("CONFLICT", ErrorKind::Busy),
    ("INVALID_PARAMETER", ErrorKind::InvalidParameter),
    ("UNSUPPORTED_VERSION", ErrorKind::Unsupported),
    ("TASK_TIMEOUT", ErrorKind::Timeout),
];

/// The kind for a OneView `errorCode` (see [`ERROR_CODES`]); `None` or an
/// unknown code is [`ErrorKind::DeviceFault`].
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_oneview::errors::kind_of_code;
/// assert_eq!(kind_of_code(Some("TASK_TIMEOUT")), ErrorKind::Timeout);
/// assert_eq!(kind_of_code(Some("SOMETHING_NEW")), ErrorKind::DeviceFault);
/// assert_eq!(kind_of_code(None), ErrorKind::DeviceFault);
/// ```
pub fn kind_of_code(code: Option<&str>) -> ErrorKind {
    code.and_then(|c| {
        ERROR_CODES
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(c))
            .map(|(_, kind)| *kind)
    })
    .unwrap_or(ErrorKind::DeviceFault)
}

/// HTTP statuses OneView answers and how the client treats them (python-oneviewclient
/// `_check_request_status`; hpeOneView raises on every status ≥ 400).
pub const STATUSES: &[(u16, &str, ErrorKind)] = &[
    (400, "bad request", ErrorKind::InvalidParameter),
    (
        401,
        "session refused (re-login once, then fail)",
        ErrorKind::Unauthenticated,
    ),
    (403, "not allowed", ErrorKind::PermissionDenied),
    (404, "no such resource", ErrorKind::NotFound),
    (408, "wait and retry within the timeout", ErrorKind::Timeout),
    (409, "wait and retry within the timeout", ErrorKind::Busy),
    (500, "internal error", ErrorKind::DeviceFault),
    (
        503,
        "retried by hwctl-http (idempotent requests)",
        ErrorKind::Busy,
    ),
];

/// The kind of an HTTP status (an `errorCode` in the body, when known, wins).
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_oneview::errors::kind_of_status;
/// assert_eq!(kind_of_status(409), ErrorKind::Busy);
/// assert_eq!(kind_of_status(404), ErrorKind::NotFound);
/// ```
pub fn kind_of_status(status: u16) -> ErrorKind {
    STATUSES
        .iter()
        .find(|(s, _, _)| *s == status)
        .map(|(_, _, k)| *k)
        .unwrap_or(match status {
            300..=399 => ErrorKind::Protocol,
            400..=499 => ErrorKind::InvalidParameter,
            _ => ErrorKind::DeviceFault,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map() {
        assert_eq!(
            kind_of_code(Some("RESOURCE_NOT_FOUND")),
            ErrorKind::NotFound
        );
        assert_eq!(kind_of_code(Some("whatever")), ErrorKind::DeviceFault);
        assert_eq!(kind_of_code(None), ErrorKind::DeviceFault);
        assert_eq!(kind_of_status(409), ErrorKind::Busy);
        assert_eq!(kind_of_status(418), ErrorKind::InvalidParameter);
        assert_eq!(kind_of_status(502), ErrorKind::DeviceFault);
    }
}
