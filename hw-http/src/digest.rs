//! HTTP digest authentication (RFC 7616, compatible with RFC 2617): challenge
//! parsing and response computation for MD5, MD5-sess, SHA-256 and SHA-256-sess
//! with `qop=auth` (or no qop, RFC 2069 style).

use std::fmt::Write as _;

use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// A hash algorithm offered in a digest challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One usable digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) realm: String,
    pub(crate) nonce: String,
    pub(crate) opaque: Option<String>,
    pub(crate) algorithm: Algorithm,
    /// Whether the challenge named an algorithm (if not, none is sent back).
    pub(crate) algorithm_explicit: bool,
    /// `true` for `qop=auth`; `false` when the challenge had no qop (RFC 2069).
    pub(crate) qop_auth: bool,
    pub(crate) stale: bool,
}

/// Why no usable challenge was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChallengeError {
    /// No `Digest` challenge at all.
    NoDigest,
    /// Digest challenges, none we support (the text says why).
    Unsupported(String),
}

/// All `(scheme, params)` challenges in the `WWW-Authenticate` headers.
pub(crate) fn parse_challenges(headers: &HeaderMap) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for value in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        parse_header_value(text, &mut out);
    }
    out
}

/// Tokenizes one header value into challenges. A challenge is a scheme token
/// followed by comma-separated `name=value` pairs (value a token or a quoted string
/// with `\` escapes); a bare token not followed by `=` starts a new challenge.
fn parse_header_value(text: &str, out: &mut Vec<(String, Vec<(String, String)>)>) {
    let b = text.as_bytes();
    let mut i = 0;
    let skip = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t' || b[*i] == b',') {
            *i += 1;
        }
    };
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c);
    loop {
        skip(&mut i);
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && is_tchar(b[i]) && b[i] != b'=' {
            i += 1;
        }
        if start == i {
            // Not a token: skip one byte to make progress.
            i += 1;
            continue;
        }
        let token = &text[start..i];
        let mut j = i;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            // name=value (or a token68 ending in '=')
            j += 1;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            let value;
            if j < b.len() && b[j] == b'"' {
                j += 1;
                let mut v = String::new();
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' && j + 1 < b.len() {
                        j += 1;
                    }
                    // Push whole UTF-8 characters.
                    let ch_len = utf8_len(b[j]);
                    let end = (j + ch_len).min(b.len());
                    v.push_str(&String::from_utf8_lossy(&b[j..end]));
                    j = end;
                }
                j += 1; // closing quote
                value = v;
            } else {
                let vs = j;
                while j < b.len() && b[j] != b',' && b[j] != b' ' && b[j] != b'\t' {
                    j += 1;
                }
                value = text[vs..j].to_string();
            }
            i = j;
            // A parameter before any scheme is ignored.
            if let Some((_, params)) = out.last_mut() {
                params.push((token.to_ascii_lowercase(), value));
            }
        } else {
            out.push((token.to_string(), Vec::new()));
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The strongest usable digest challenge in `headers`.
pub(crate) fn select_challenge(headers: &HeaderMap) -> Result<Challenge, ChallengeError> {
    let mut best: Option<Challenge> = None;
    let mut why = None;
    let mut any_digest = false;
    for (scheme, params) in parse_challenges(headers) {
        if !scheme.eq_ignore_ascii_case("digest") {
            continue;
        }
        any_digest = true;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (Some(realm), Some(nonce)) = (get("realm"), get("nonce")) else {
            why = Some("challenge without realm or nonce".to_string());
            continue;
        };
        let algorithm_explicit = get("algorithm").is_some();
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => match Algorithm::parse(&a) {
                Some(a) => a,
                None => {
                    why = Some(format!("algorithm {a:?} is not supported"));
                    continue;
                }
            },
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(q) => {
                if q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")) {
                    true
                } else {
                    why = Some(format!("qop {q:?} is not supported (only auth)"));
                    continue;
                }
            }
        };
        // `userhash=true` is allowed by RFC 7616 to be ignored: we send the plain
        // user name.
        let stale = get("stale").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let c = Challenge {
            realm,
            nonce,
            opaque: get("opaque"),
            algorithm,
            algorithm_explicit,
            qop_auth,
            stale,
        };
        if best
            .as_ref()
            .is_none_or(|b| c.algorithm.strength() > b.algorithm.strength())
        {
            best = Some(c);
        }
    }
    match best {
        Some(c) => Ok(c),
        None if any_digest => Err(ChallengeError::Unsupported(
            why.unwrap_or_else(|| "unusable digest challenge".into()),
        )),
        None => Err(ChallengeError::NoDigest),
    }
}

/// A challenge in use, with its nonce count.
#[derive(Debug)]
pub(crate) struct DigestState {
    pub(crate) challenge: Challenge,
    nc: u32,
}

impl DigestState {
    pub(crate) fn new(challenge: Challenge) -> Self {
        DigestState { challenge, nc: 0 }
    }

    /// The `Authorization` header value for one request (increments the nonce count).
    pub(crate) fn authorization(
        &mut self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
    ) -> String {
        self.nc = self.nc.wrapping_add(1);
        let cnonce = hex(&rand::random::<[u8; 16]>());
        authorization(
            &self.challenge,
            username,
            password,
            method,
            uri,
            self.nc,
            &cnonce,
        )
    }
}

/// Computes the header value for a given nonce count and client nonce.
pub(crate) fn authorization(
    c: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> String {
    let alg = c.algorithm;
    let mut ha1 = alg.hash(&format!("{username}:{}:{password}", c.realm));
    if alg.is_sess() {
        ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", c.nonce));
    }
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    let nc_text = format!("{nc:08x}");
    let response = if c.qop_auth {
        alg.hash(&format!("{ha1}:{}:{nc_text}:{cnonce}:auth:{ha2}", c.nonce))
    } else {
        alg.hash(&format!("{ha1}:{}:{ha2}", c.nonce))
    };
    let mut h = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\"",
        quote(username),
        quote(&c.realm),
        quote(&c.nonce),
        quote(uri)
    );
    if c.algorithm_explicit || alg != Algorithm::Md5 {
        let _ = write!(h, ", algorithm={}", alg.name());
    }
    if c.qop_auth {
        let _ = write!(h, ", qop=auth, nc={nc_text}, cnonce=\"{}\"", quote(cnonce));
    }
    if let Some(opaque) = &c.opaque {
        let _ = write!(h, ", opaque=\"{}\"", quote(opaque));
    }
    h
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(WWW_AUTHENTICATE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// RFC 2617 section 3.5 example.
    #[test]
    fn rfc2617_example() {
        let h = headers(&[
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        ]);
        let c = select_challenge(&h).unwrap();
        assert!(c.qop_auth);
        let v = authorization(
            &c,
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            1,
            "0a4f113b",
        );
        assert!(
            v.contains(r#"response="6629fae49393a05397450978507c4ef1""#),
            "{v}"
        );
        assert!(v.contains("nc=00000001"));
        assert!(v.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#));
    }

    /// RFC 7616 section 3.9.1 example (SHA-256 and MD5 challenges offered).
    #[test]
    fn rfc7616_sha256_example() {
        let h = headers(&[
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        ]);
        let c = select_challenge(&h).unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        let v = authorization(
            &c,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        assert!(
            v.contains(
                r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#
            ),
            "{v}"
        );
        assert!(v.contains("algorithm=SHA-256"));
    }

    #[test]
    fn realm_with_colon_comma_and_escapes() {
        let h = headers(&[
            r#"Basic realm="x", Digest realm="Digest:4A3B0000000000000000000000000000, \"q\"", nonce="abc", stale=TRUE, qop="auth""#,
        ]);
        let c = select_challenge(&h).unwrap();
        assert_eq!(c.realm, r#"Digest:4A3B0000000000000000000000000000, "q""#);
        assert!(c.stale);
        let v = authorization(&c, "admin", "P@ssw0rd", "POST", "/wsman", 2, "00");
        assert!(
            v.contains(r#"realm="Digest:4A3B0000000000000000000000000000, \"q\"""#),
            "{v}"
        );
    }

    #[test]
    fn unsupported_challenges_are_reported() {
        let h = headers(&[r#"Digest realm="r", nonce="n", qop="auth-int""#]);
        assert!(matches!(
            select_challenge(&h),
            Err(ChallengeError::Unsupported(_))
        ));
        let h = headers(&[r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#]);
        assert!(matches!(
            select_challenge(&h),
            Err(ChallengeError::Unsupported(_))
        ));
        let h = headers(&[r#"Basic realm="r""#]);
        assert_eq!(select_challenge(&h), Err(ChallengeError::NoDigest));
    }

    #[test]
    fn hostile_header_values_do_not_panic() {
        for v in [
            "Digest",
            "Digest realm=\"unterminated",
            "=,=,=\"",
            "Digest realm=\"é\\",
            ",,,,",
            "Digest realm=, nonce=",
        ] {
            let _ = select_challenge(&headers(&[v]));
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any header bytes (obs-text included): no panic.
            #[test]
            fn arbitrary_headers_never_panic(
                bytes in proptest::collection::vec(any::<u8>(), 0..200)
            ) {
                if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                    let mut h = HeaderMap::new();
                    h.insert(WWW_AUTHENTICATE, v);
                    let _ = select_challenge(&h);
                }
            }

            /// Realms and nonces with quotes, backslashes, commas and colons
            /// survive quoting by the server and parsing by the client.
            #[test]
            fn quoted_values_round_trip(
                realm in "[ -~]{1,40}",
                nonce in "[A-Za-z0-9+/=:,]{1,40}",
            ) {
                let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
                let value = format!(
                    r#"Digest realm="{}", nonce="{}", qop="auth", algorithm=SHA-256"#,
                    q(&realm), q(&nonce)
                );
                let h = headers(&[&value]);
                let c = select_challenge(&h).unwrap();
                prop_assert_eq!(c.realm, realm);
                prop_assert_eq!(c.nonce, nonce);
                prop_assert_eq!(c.algorithm, Algorithm::Sha256);
            }
        }
    }
}
