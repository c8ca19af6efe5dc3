//! Flat replies in the plain layout chassis managers write, read by one scan of
//! the bytes; anything else goes the general way ([`Flat::read`]).
//!
//! A chassis manager (and the simulator) writes every flat reply the same way:
//! `<Root xmlns="…Contracts" xmlns:i="…XMLSchema-instance">`, then one element
//! per field, `<name>text</name>` or `<name/>` (or `<name i:nil="true"/>`),
//! then `</Root>`. For that layout the general reader (quick-xml's events,
//! namespace scopes, attribute lists) is most of the cost of a `GetBladeState`
//! (issue 16). [`scan`] recognises a strict subset of well-formed documents
//! and builds the same [`Flat`] from it, its texts borrowed from the body;
//! whenever a byte falls outside the subset it gives up (`None`) and the caller
//! reads the body with [`Flat::read`], so every error (malformed, truncated,
//! hostile, foreign namespace, over the limits) is still that reader's, with
//! its kind and message. What the subset allows:
//!
//! * UTF-8; ASCII whitespace (space, tab, CR, LF) around the root;
//! * names `[A-Za-z_][A-Za-z0-9_.-]*`, without prefix;
//! * on the root, only `xmlns` (the contract namespace or `""`) and
//!   `xmlns:p` (the contract or the XSI namespace, `p` not starting with
//!   `xml`), each at most once, values quoted as written, exactly;
//! * on a child, at most one attribute, `p:nil` with `p` declared on the
//!   root and an alphanumeric value;
//! * at most [`MAX_CHILDREN`] children, none with children of its own;
//! * text without `<`, `&`, `>` or control characters (a child's text
//!   without CR either): no entity reference, comment, CDATA, processing
//!   instruction, declaration or DOCTYPE anywhere;
//! * end tags written `</name>`, each naming its start tag.
//!
//! Such a document is well-formed and namespace-well-formed, within the
//! limits, every element in the contract namespace (or none): the general
//! reader accepts it, and its first wanted child of each name, its `i:nil`
//! flag and its text (one borrowed piece) are exactly what [`scan`] records.
//! The tests below and `flat_vs_tree.rs` check that on the fixtures, edges,
//! generated, mutated and truncated replies.

use std::borrow::Cow;

use super::flat::{Field, Flat, MAX_FIELDS};
use super::xml::{NAMESPACE, XSI_NAMESPACE};

/// The most children a reply read by [`scan`] may have (a real flat reply has
/// six at most); a reply with more is read the general way.
pub(crate) const MAX_CHILDREN: usize = 64;

/// The plain layout's [`Flat`] of `body` for `wanted`, or `None` when `body`
/// is not in the plain layout described above (the caller then reads it with
/// [`Flat::read`], which gives the same `Flat` for any body this accepts).
pub(crate) fn scan<'a>(body: &'a [u8], wanted: &'static [&'static str]) -> Option<Flat<'a>> {
    if wanted.len() > MAX_FIELDS {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut s = Cursor { text, at: 0 };
    s.skip_ws();
    s.eat(b'<')?;
    let root = s.name()?;
    // The prefixes declared on the root with their namespaces (two at most:
    // `i` for XSI, and one for the contract).
    let mut prefixes: [Option<(&str, &str)>; 2] = [None, None];
    let mut default_declared = false;
    let empty = loop {
        let spaced = s.skip_ws();
        match s.peek()? {
            b'>' => {
                s.at += 1;
                break false;
            }
            b'/' => {
                s.at += 1;
                s.eat(b'>')?;
                break true;
            }
            _ if spaced => {
                let (qname, value) = s.attribute()?;
                if qname == "xmlns" {
                    if default_declared || !(value == NAMESPACE || value.is_empty()) {
                        return None;
                    }
                    default_declared = true;
                } else {
                    let prefix = qname.strip_prefix("xmlns:")?;
                    if !is_name(prefix)
                        || prefix
                            .get(..3)
                            .is_some_and(|p| p.eq_ignore_ascii_case("xml"))
                        || !(value == NAMESPACE || value == XSI_NAMESPACE)
                        || prefixes.iter().flatten().any(|(p, _)| *p == prefix)
                    {
                        return None;
                    }
                    *prefixes.iter_mut().find(|p| p.is_none())? = Some((prefix, value));
                }
            }
            _ => return None,
        }
    };
    let mut flat = Flat {
        name: root,
        contract: true,
        wanted,
        fields: Default::default(),
    };
    if !empty {
        let mut children = 0;
        loop {
            s.text(true)?;
            s.eat(b'<')?;
            if s.peek()? == b'/' {
                s.at += 1;
                s.end_name(root)?;
                break;
            }
            children += 1;
            if children > MAX_CHILDREN {
                return None;
            }
            let name = s.name()?;
            let mut nil = false;
            let mut attributes = 0;
            let empty = loop {
                let spaced = s.skip_ws();
                match s.peek()? {
                    b'>' => {
                        s.at += 1;
                        break false;
                    }
                    b'/' => {
                        s.at += 1;
                        s.eat(b'>')?;
                        break true;
                    }
                    _ if spaced && attributes == 0 => {
                        attributes += 1;
                        let (qname, value) = s.attribute()?;
                        let (prefix, local) = qname.split_once(':')?;
                        let (_, ns) = prefixes.iter().flatten().find(|(p, _)| *p == prefix)?;
                        if local != "nil" || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                            return None;
                        }
                        nil = *ns == XSI_NAMESPACE
                            && (value.eq_ignore_ascii_case("true") || value == "1");
                    }
                    _ => return None,
                }
            };
            let content = if empty {
                ""
            } else {
                let content = s.text(false)?;
                s.eat(b'<')?;
                s.eat(b'/')?;
                s.end_name(name)?;
                content
            };
            if let Some(i) = wanted.iter().position(|w| *w == name)
                && let Some(slot) = flat.fields.get_mut(i)
                && slot.is_none()
            {
                *slot = Some(Field {
                    nil,
                    text: Cow::Borrowed(content),
                });
            }
        }
    }
    s.skip_ws();
    (s.at == text.len()).then_some(flat)
}

/// Whether `s` is a name of the plain layout.
fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(is_name_byte)
}

fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

/// The bytes of a name after its first: `[A-Za-z0-9_.-]`.
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-';
        b += 1;
    }
    table
};

/// What a byte is in text.
#[derive(Clone, Copy)]
enum Text {
    /// Allowed anywhere in text: tab, LF, and from space up but `&`, `>` and DEL.
    Allowed,
    /// CR: allowed between children, not in a child's text.
    Cr,
    /// `<`: the end of the text.
    Open,
    /// Anything else.
    Refused,
}

const TEXT_BYTES: [Text; 256] = {
    let mut table = [Text::Refused; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'<' => Text::Open,
            b'&' | b'>' => Text::Refused,
            b'\t' | b'\n' => Text::Allowed,
            b'\r' => Text::Cr,
            c if c >= 0x20 && c != 0x7F => Text::Allowed,
            _ => Text::Refused,
        };
        b += 1;
    }
    table
};

/// A position in the document; every step either moves over what it expects
/// or gives up (`None`).
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Skips ASCII whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            self.at += 1;
        }
        self.at > start
    }

    /// The bytes up to the next `<`, all of them allowed text (CR only when
    /// `cr`); the slice of the document they make.
    fn text(&mut self, cr: bool) -> Option<&'a str> {
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        // One pass: the first `<` ends the text; any byte not allowed before
        // it (or no `<` at all) gives up.
        let mut len = None;
        for (i, &b) in rest.iter().enumerate() {
            match TEXT_BYTES[usize::from(b)] {
                Text::Allowed => {}
                Text::Cr if cr => {}
                Text::Open => {
                    len = Some(i);
                    break;
                }
                Text::Cr | Text::Refused => return None,
            }
        }
        self.at = start + len?;
        self.text.get(start..self.at)
    }

    /// A name of the plain layout.
    fn name(&mut self) -> Option<&'a str> {
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        if !rest
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            return None;
        }
        let len = rest
            .iter()
            .position(|b| !is_name_byte(*b))
            .unwrap_or(rest.len());
        self.at = start + len;
        self.text.get(start..self.at)
    }

    /// `name>`: the rest of the end tag of `name`, written `</name>`.
    fn end_name(&mut self, name: &str) -> Option<()> {
        let rest = self.text.as_bytes().get(self.at..)?;
        if rest.starts_with(name.as_bytes()) && rest.get(name.len()) == Some(&b'>') {
            self.at += name.len() + 1;
            Some(())
        } else {
            None
        }
    }

    /// `qname="value"` (or `'value'`), no space around `=`. The qname is a
    /// name or `prefix:name`; the value is as written (the callers accept only
    /// the namespace names or an alphanumeric `nil` value).
    fn attribute(&mut self) -> Option<(&'a str, &'a str)> {
        let start = self.at;
        self.name()?;
        if self.peek() == Some(b':') {
            self.at += 1;
            self.name()?;
        }
        let qname = self.text.get(start..self.at)?;
        self.eat(b'=')?;
        let quote = self.peek().filter(|q| matches!(q, b'"' | b'\''))?;
        self.at += 1;
        let from = self.at;
        let rest = self.text.as_bytes().get(from..)?;
        // The namespace names a root declares are most of a reply's bytes:
        // one comparison each instead of a byte-by-byte search for the quote
        // (neither holds a quote, so the first quote is the one after them).
        let len = match [NAMESPACE, XSI_NAMESPACE]
            .iter()
            .find(|v| rest.starts_with(v.as_bytes()) && rest.get(v.len()) == Some(&quote))
        {
            Some(v) => v.len(),
            None => rest.iter().position(|&b| b == quote)?,
        };
        let value = self.text.get(from..from + len)?;
        self.at = from + len + 1;
        Some((qname, value))
    }
}

#[cfg(test)]
use super::response::FlatResponse;
#[cfg(test)]
use super::{
    BladeResponse, BladeStateResponse, BootResponse, ChassisResponse, PowerStateResponse,
    SerialDataResponse, StartSerialResponse,
};

/// Every field list a flat decoder reads with.
#[cfg(test)]
const WANTED: [&[&str]; 8] = [
    BladeResponse::FIELDS,
    BladeStateResponse::FIELDS,
    BootResponse::FIELDS,
    PowerStateResponse::FIELDS,
    StartSerialResponse::FIELDS,
    SerialDataResponse::FIELDS,
    ChassisResponse::FIELDS,
    &["completionCode", "apiVersion", "statusDescription"],
];

/// `scan` gives up on `body` or agrees with the general reader, for every
/// field list; returns how many lists it read `body` for.
#[cfg(test)]
pub(crate) fn agrees(body: &[u8]) -> std::result::Result<usize, String> {
    let mut scanned = 0;
    for wanted in WANTED {
        if let Some(fast) = scan(body, wanted) {
            scanned += 1;
            match Flat::read(body, wanted) {
                Ok(general) if general == fast => {}
                other => {
                    return Err(format!(
                        "scanned {fast:?}, read {other:?} on {:?}",
                        String::from_utf8_lossy(body)
                    ));
                }
            }
        }
    }
    Ok(scanned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/msftocs")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_captured_flat_replies_are_scanned_and_agree() {
        for name in [
            "ironic_BladeResponse.xml",
            "ironic_BladeStateResponse.xml",
            "ironic_BootResponse.xml",
            "ironic_PowerStateResponse.xml",
            "ironic_bad_completion_code.xml",
        ] {
            assert_eq!(agrees(&fixture(name)), Ok(WANTED.len()), "{name}");
        }
        // Nested (ChassisInfoResponse) goes the general way.
        let chassis = fixture("maas_GetChassisInfo_ChassisInfoResponse.xml");
        assert_eq!(agrees(&chassis), Ok(0));
        let body = fixture("ironic_BladeStateResponse.xml");
        let flat = scan(&body, BladeStateResponse::FIELDS).unwrap();
        use super::super::flat::Fields as _;
        assert_eq!(flat.child_text("bladeState"), Some("ON"));
        assert_eq!(flat.child_text("statusDescription"), Some(""));
        assert!(flat.has("statusDescription"));
    }

    #[test]
    fn what_the_plain_layout_leaves_out_goes_the_general_way() {
        let head = format!(r#"<R xmlns="{NAMESPACE}" xmlns:i="{XSI_NAMESPACE}">"#);
        let plain = |inner: &str| format!("{head}{inner}</R>");
        // In the layout: scanned.
        for body in [
            plain("<completionCode>Success</completionCode>"),
            plain(" \n<completionCode i:nil=\"true\"/>\r\n"),
            plain("<completionCode i:nil='1'>x</completionCode>"),
            "  <R/>\n".to_owned(),
            r#"<R xmlns=""><completionCode>é ]] ok</completionCode></R>"#.to_owned(),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(WANTED.len()), "{body}");
        }
        // Out of it (valid or not): left to the general reader.
        for body in [
            plain("<completionCode>a &amp; b</completionCode>"),
            plain("<completionCode><![CDATA[x]]></completionCode>"),
            plain("<completionCode>x<!-- c --></completionCode>"),
            plain("<completionCode>a\r\nb</completionCode>"),
            plain("<completionCode>a > b</completionCode>"),
            plain("<completionCode><x/></completionCode>"),
            plain("<a:completionCode xmlns:a=\"urn:a\"/>"),
            plain("<completionCode xmlns=\"urn:a\"/>"),
            plain("<completionCode nil=\"true\"/>"),
            plain("<completionCode j:nil=\"true\"/>"),
            plain("<completionCode i:nil=\"true\" i:nil=\"false\"/>"),
            plain("<completionCode i:type=\"x\"/>"),
            plain("<completionCode>x</completionCode >"),
            plain("<completionCode>x</completioncode>"),
            plain(&"<x/>".repeat(MAX_CHILDREN + 1)),
            format!("{head}</R><!-- after -->"),
            format!("<?xml version=\"1.0\"?>{head}</R>"),
            format!("\u{feff}{head}</R>"),
            format!("{head}</R>x"),
            head.clone(),
            r#"<R xmlns="urn:other"/>"#.to_owned(),
            r#"<R xmlns="" xmlns=""/>"#.to_owned(),
            format!(r#"<R xmlns:i="{XSI_NAMESPACE}" xmlns:i="{XSI_NAMESPACE}"/>"#),
            format!(r#"<R xmlns:xmlx="{XSI_NAMESPACE}"/>"#),
            r#"<R xmlns:i="urn:other"/>"#.to_owned(),
            r#"<R a="1"/>"#.to_owned(),
            format!(r#"<R xmlns="{NAMESPACE}"xmlns:i="{XSI_NAMESPACE}"/>"#),
            "<R>\u{1}</R>".to_owned(),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(0), "{body}");
        }
        assert_eq!(agrees(b"<R>\xff</R>"), Ok(0));
    }

    /// The namespace names are matched whole before the quote is searched
    /// for: that holds only because neither has a quote in it. A value that
    /// begins with one and goes on, or ends with the other quote, is still
    /// searched byte by byte (and left to the general reader).
    #[test]
    fn a_namespace_name_is_matched_only_whole_and_quoted_alike() {
        for ns in [NAMESPACE, XSI_NAMESPACE] {
            assert!(!ns.contains(['"', '\'']), "{ns}");
        }
        for body in [
            format!(r#"<R xmlns="{NAMESPACE}/x"/>"#),
            format!(r#"<R xmlns="{NAMESPACE}'/>"#),
            format!(r#"<R xmlns='{NAMESPACE}"/>"#),
            format!(r#"<R xmlns="{NAMESPACE}"#),
            format!(r#"<R xmlns:i="{XSI_NAMESPACE}x"/>"#),
            format!(r#"<R xmlns:i="{XSI_NAMESPACE}' a="1"/>"#),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(0), "{body}");
        }
        for body in [
            format!(r#"<R xmlns='{NAMESPACE}' xmlns:i='{XSI_NAMESPACE}'/>"#),
            format!(r#"<R xmlns:i="{NAMESPACE}" xmlns:j="{XSI_NAMESPACE}"/>"#),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(WANTED.len()), "{body}");
        }
    }

    /// A reply in (or near) the plain layout.
    fn plain_reply() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("completionCode"),
            Just("apiVersion"),
            Just("statusDescription"),
            Just("bladeNumber"),
            Just("bladeState"),
            Just("nextBoot"),
            Just("powerState"),
            Just("Decompression"),
            Just("serialSessionToken"),
            Just("data"),
            Just("other"),
        ];
        let text = prop_oneof![
            Just(""),
            Just("Success"),
            Just("ON"),
            Just(" OFF "),
            Just("7"),
            Just("x y"),
            Just("\n"),
        ];
        let attribute = prop_oneof![
            Just(""),
            Just(r#" i:nil="true""#),
            Just(r#" i:nil="false""#),
            Just(r#" a:nil="true""#),
            Just(" i:nil='1'"),
        ];
        let field = (name, text, attribute, any::<bool>()).prop_map(|(n, t, a, empty)| {
            if empty {
                format!("<{n}{a}/>")
            } else {
                format!("<{n}{a}>{t}</{n}>")
            }
        });
        let root = prop_oneof![
            Just("BladeResponse"),
            Just("BladeStateResponse"),
            Just("BootResponse"),
            Just("PowerStateResponse"),
            Just("ChassisResponse"),
            Just("Other"),
        ];
        let sep = prop_oneof![Just(""), Just(""), Just("\n  "), Just("\r\n")];
        (root, proptest::collection::vec((field, sep), 0..8)).prop_map(|(root, fields)| {
            let mut s = format!(
                r#"<{root} xmlns="{NAMESPACE}" xmlns:i="{XSI_NAMESPACE}" xmlns:a="{NAMESPACE}">"#
            );
            for (f, sep) in fields {
                s.push_str(&f);
                s.push_str(sep);
            }
            s.push_str(&format!("</{root}>"));
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn scan_agrees_on_plain_replies(s in plain_reply()) {
            prop_assert_eq!(agrees(s.as_bytes()), Ok(WANTED.len()));
        }

        #[test]
        fn scan_agrees_on_mutated_and_truncated_plain_replies(
            s in plain_reply(), cut in 0usize..600, at in 0usize..600, byte in any::<u8>(),
            second in 0usize..600
        ) {
            let mut b = s.into_bytes();
            if at < b.len() { b[at] = byte; }
            if second < b.len() { b.remove(second); }
            b.truncate(cut.min(b.len()));
            if let Err(e) = agrees(&b) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}
