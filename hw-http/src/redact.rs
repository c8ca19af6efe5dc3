//! Which headers carry secrets, and a `Debug` view of headers that hides them.

use std::fmt;

use http::header::{HeaderMap, HeaderName};

/// Header names whose values are credentials, tokens or session cookies.
const SENSITIVE: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-auth-token",
    "auth",
    "x-api-key",
    "www-authenticate-info",
];

/// Whether a header's value must never be printed.
pub fn is_sensitive(name: &HeaderName) -> bool {
    let n = name.as_str();
    SENSITIVE.contains(&n) || contains_marker(n.as_bytes())
}

/// Whether a (lowercase) header name contains `token`, `session` or `secret`: one
/// pass over the name, comparing only where a `t` or an `s` starts (a header is
/// checked per request: `str::contains` set up a substring search three times).
fn contains_marker(n: &[u8]) -> bool {
    n.iter().enumerate().any(|(i, &b)| {
        let rest = &n[i..];
        match b {
            b't' => rest.starts_with(b"token"),
            b's' => rest.starts_with(b"session") || rest.starts_with(b"secret"),
            _ => false,
        }
    })
}

/// `Debug` for a header map: names with values, except sensitive ones (`<redacted>`).
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, value) in self.0 {
            if is_sensitive(name) || value.is_sensitive() {
                m.entry(&name.as_str(), &"<redacted>");
            } else {
                m.entry(&name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
            }
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass marker search finds what the substring searches found, and
    /// nothing else.
    #[test]
    fn sensitive_names_are_found_wherever_the_marker_is() {
        let sensitive = [
            "authorization",
            "cookie",
            "x-auth-token",
            "token",
            "tokens-x",
            "x-session-id",
            "session",
            "my-secret",
            "x-secretkey",
            "x-api-key",
        ];
        for n in sensitive {
            assert!(is_sensitive(&HeaderName::from_static(n)), "{n}");
        }
        let plain = [
            "accept",
            "content-type",
            "user-agent",
            "x-toke",
            "sessio",
            "secre",
            "t",
            "s",
            "x-tsession-ok",
        ];
        for n in plain {
            let sensitive = n.contains("token") || n.contains("session") || n.contains("secret");
            assert_eq!(is_sensitive(&HeaderName::from_static(n)), sensitive, "{n}");
        }
    }
}
