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

/// The root's two declarations exactly as a chassis manager (and the
/// simulator) writes them: taken in one comparison, as the attribute loop
/// below would take them one by one (issue 16: the two namespace names are
/// most of a reply's bytes).
const ROOT_DECLARATIONS: &str = concat!(
    " xmlns=\"",
    "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts",
    "\" xmlns:i=\"",
    "http://www.w3.org/2001/XMLSchema-instance",
    "\""
);

/// The plain layout's [`Flat`] of `body` for `wanted`, or `None` when `body`
/// is not in the plain layout described above (the caller then reads it with
/// [`Flat::read`], which gives the same `Flat` for any body this accepts).
///
/// `wanted` holds names of the plain layout (`[A-Za-z_][A-Za-z0-9_.-]*`;
/// every decoder's `FIELDS` is checked by a test): a child whose name is the
/// next wanted one is recognised by comparing that name, not by reading the
/// name byte by byte and searching `wanted` for it.
pub(crate) fn scan<'a>(body: &'a [u8], wanted: &'static [&'static str]) -> Option<Flat<'a>> {
    if wanted.len() > MAX_FIELDS {
        return None;
    }
    // One check of the whole body: `from_utf8` per piece of text costs more
    // (~60 instructions a call on a few ASCII bytes, against ~210 for a
    // whole `BladeStateResponse`).
    let text = std::str::from_utf8(body).ok()?;
    let mut s = Cursor {
        bytes: body,
        text,
        at: 0,
    };
    s.skip_ws();
    s.eat(b'<')?;
    let start = s.at;
    s.name()?;
    let root = text.get(start..s.at)?;
    // The prefixes declared on the root with their namespaces (two at most:
    // `i` for XSI, and one for the contract).
    let mut prefixes: [Option<(&[u8], &'static str)>; 2] = [None, None];
    let mut default_declared = false;
    if s.rest().starts_with(ROOT_DECLARATIONS.as_bytes()) {
        s.at += ROOT_DECLARATIONS.len();
        default_declared = true;
        prefixes[0] = Some((b"i", XSI_NAMESPACE));
    }
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
                if qname == b"xmlns" {
                    if default_declared || !(value == NAMESPACE.as_bytes() || value.is_empty()) {
                        return None;
                    }
                    default_declared = true;
                } else {
                    let prefix = qname.strip_prefix(b"xmlns:")?;
                    let value = [NAMESPACE, XSI_NAMESPACE]
                        .into_iter()
                        .find(|ns| value == ns.as_bytes())?;
                    if !is_name(prefix)
                        || prefix
                            .get(..3)
                            .is_some_and(|p| p.eq_ignore_ascii_case(b"xml"))
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
        // The wanted name expected next: replies list their fields in the
        // order of `FIELDS`.
        let mut next = 0;
        loop {
            if s.peek()? != b'<' {
                s.text(true)?;
            }
            s.eat(b'<')?;
            if s.peek()? == b'/' {
                s.at += 1;
                s.end_name(root.as_bytes())?;
                break;
            }
            children += 1;
            if children > MAX_CHILDREN {
                return None;
            }
            // The same name and index `name()` and a search of `wanted`
            // would give: the longest run of name bytes is exactly the
            // expected name when the byte after it is not a name byte.
            let (name, index): (&[u8], _) = match wanted.get(next) {
                Some(w)
                    if s.rest().starts_with(w.as_bytes())
                        && !s.rest().get(w.len()).is_some_and(|b| is_name_byte(*b)) =>
                {
                    s.at += w.len();
                    (w.as_bytes(), Some(next))
                }
                _ => {
                    let name = s.name()?;
                    (name, wanted.iter().position(|w| w.as_bytes() == name))
                }
            };
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
                        let colon = qname.iter().position(|b| *b == b':')?;
                        let (prefix, local) = (&qname[..colon], &qname[colon + 1..]);
                        let (_, ns) = prefixes.iter().flatten().find(|(p, _)| *p == prefix)?;
                        if local != b"nil" || !value.iter().all(|b| b.is_ascii_alphanumeric()) {
                            return None;
                        }
                        nil = *ns == XSI_NAMESPACE
                            && (value.eq_ignore_ascii_case(b"true") || value == b"1");
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
            if let Some(i) = index {
                next = i + 1;
                if let Some(slot) = flat.fields.get_mut(i)
                    && slot.is_none()
                {
                    *slot = Some(Field {
                        nil,
                        text: Cow::Borrowed(content),
                    });
                }
            }
        }
    }
    s.skip_ws();
    (s.at == body.len()).then_some(flat)
}

/// Whether `s` is a name of the plain layout.
fn is_name(s: &[u8]) -> bool {
    s.first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && s.iter().skip(1).all(|b| is_name_byte(*b))
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
    /// The document's bytes.
    bytes: &'a [u8],
    /// The same, as UTF-8.
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// What is left from the position on.
    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
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
        let rest = self.rest();
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

    /// A name of the plain layout (ASCII).
    fn name(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest();
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
        self.at += len;
        rest.get(..len)
    }

    /// `name>`: the rest of the end tag of `name`, written `</name>`.
    fn end_name(&mut self, name: &[u8]) -> Option<()> {
        let rest = self.rest();
        if rest.starts_with(name) && rest.get(name.len()) == Some(&b'>') {
            self.at += name.len() + 1;
            Some(())
        } else {
            None
        }
    }

    /// `qname="value"` (or `'value'`), no space around `=`. The qname is a
    /// name or `prefix:name`; the value is as written (the callers accept only
    /// the namespace names, an empty `xmlns` or an alphanumeric `nil` value).
    fn attribute(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let start = self.at;
        self.name()?;
        if self.peek() == Some(b':') {
            self.at += 1;
            self.name()?;
        }
        let qname = self.bytes.get(start..self.at)?;
        self.eat(b'=')?;
        let quote = self.peek().filter(|q| matches!(q, b'"' | b'\''))?;
        self.at += 1;
        let rest = self.rest();
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
        let value = rest.get(..len)?;
        self.at += len + 1;
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

    /// The root's declarations are compared as one string: it must be what
    /// the attribute loop would read, and what may follow it is still read
    /// by that loop (another declaration, a missing space, the end).
    #[test]
    fn the_root_declarations_taken_whole_are_the_two_namespaces() {
        assert_eq!(
            ROOT_DECLARATIONS,
            format!(r#" xmlns="{NAMESPACE}" xmlns:i="{XSI_NAMESPACE}""#)
        );
        let head = format!("<R{ROOT_DECLARATIONS}");
        for body in [
            format!("{head}/>"),
            format!("{head} />"),
            format!("{head}></R>"),
            format!(r#"{head} xmlns:a="{NAMESPACE}"><a/></R>"#),
            format!("{head}\n><completionCode i:nil=\"true\"/></R>"),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(WANTED.len()), "{body}");
        }
        for body in [
            format!(r#"{head} xmlns=""/>"#),
            format!(r#"{head} xmlns="{NAMESPACE}"/>"#),
            format!(r#"{head} xmlns:i="{XSI_NAMESPACE}"/>"#),
            format!(r#"{head} xmlns:j="{XSI_NAMESPACE}" xmlns:k="{NAMESPACE}"/>"#),
            format!(r#"{head}a="1"/>"#),
            format!(r#"{head}xmlns:a="{NAMESPACE}"/>"#),
            format!("{head}x/>"),
            head.clone(),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(0), "{body}");
        }
    }

    /// A child is taken as the next wanted field by comparing that name; a
    /// longer name that starts with it, a prefixed one, fields out of order
    /// or repeated read as they do byte by byte.
    #[test]
    fn the_next_wanted_name_is_only_taken_whole() {
        for wanted in WANTED {
            for name in wanted {
                assert!(is_name(name.as_bytes()), "{name}");
            }
        }
        let head = format!("<R{ROOT_DECLARATIONS}>");
        let plain = |inner: &str| format!("{head}{inner}</R>");
        for body in [
            plain("<completionCodeX>a</completionCodeX><completionCode>b</completionCode>"),
            plain("<completionCode.1>a</completionCode.1><completionCode>b</completionCode>"),
            plain(
                "<completionCode-x/><apiVersion>2</apiVersion><completionCode>c</completionCode>",
            ),
            plain(
                "<apiVersionX>1</apiVersionX><completionCode>Success</completionCode><apiVersion>1</apiVersion>",
            ),
            plain(
                "<apiVersion>1</apiVersion><completionCode>Success</completionCode><apiVersion>2</apiVersion>",
            ),
            plain(
                "<completionCode>a</completionCode><completionCode>b</completionCode><apiVersion>3</apiVersion>",
            ),
            plain("<statusDescription>x</statusDescription><completionCode>Fail</completionCode>"),
            plain(
                "<completionCode/><apiVersion i:nil=\"true\">1</apiVersion><bladeNumber>2</bladeNumber><statusDescription>z</statusDescription>",
            ),
            plain("<completionCode>\u{e9}</completionCode>"),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(WANTED.len()), "{body}");
            let flat = scan(body.as_bytes(), BladeStateResponse::FIELDS).unwrap();
            let read = Flat::read(body.as_bytes(), BladeStateResponse::FIELDS).unwrap();
            assert_eq!(flat, read, "{body}");
        }
        let body = plain("<completionCodeX>a</completionCodeX><completionCode>b</completionCode>");
        let flat = scan(body.as_bytes(), BladeStateResponse::FIELDS).unwrap();
        use super::super::flat::Fields as _;
        assert_eq!(flat.child_text("completionCode"), Some("b"));
        for body in [
            plain("<completionCode:x>a</completionCode:x>"),
            plain("<completionCode>a</completionCodeX>"),
            plain("<completionCode>a</completionCode"),
            plain("<completionCode"),
            plain("<completionCode>\u{1}</completionCode>"),
        ] {
            assert_eq!(agrees(body.as_bytes()), Ok(0), "{body}");
        }
        // Invalid UTF-8 anywhere in text, in a field or between them.
        for bad in [&b"\xff"[..], b"\xc3", b"\xed\xa0\x80"] {
            for body in [
                [
                    head.as_bytes(),
                    b"<completionCode>",
                    bad,
                    b"</completionCode></R>",
                ]
                .concat(),
                [head.as_bytes(), bad, b"<completionCode/></R>"].concat(),
                [head.as_bytes(), b"<completionCode/>", bad, b"</R>"].concat(),
            ] {
                assert_eq!(agrees(&body), Ok(0), "{body:?}");
                assert!(scan(&body, BladeStateResponse::FIELDS).is_none());
            }
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
