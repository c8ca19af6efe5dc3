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
    SENSITIVE.contains(&n) || n.contains("token") || n.contains("session") || n.contains("secret")
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
