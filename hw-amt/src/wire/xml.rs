//! A small, bounded, namespace-aware element tree over quick-xml, for replies.
//!
//! Elements are matched by namespace URI and local name, never by prefix: AMT
//! answers with `a:`, `b:`, `g:`, `h:` (go-wsman-messages' fixtures), openwsman with
//! `s:`, `wsa:`, `wsen:`. Depth and element count are capped so a hostile reply
//! cannot make the parser allocate without bound.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use hwctl_core::{Error, Result};

/// The deepest element nesting accepted (real replies nest about 8 deep).
pub const MAX_DEPTH: usize = 48;

/// The most elements accepted in one reply.
pub const MAX_ELEMENTS: usize = 50_000;

/// One element of a parsed reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The namespace URI (empty when the element is in no namespace).
    pub ns: String,
    /// The local name (no prefix).
    pub name: String,
    /// Attributes as (namespace URI, local name, value); unprefixed attributes have
    /// an empty namespace.
    pub attributes: Vec<(String, String, String)>,
    /// Concatenated text and CDATA directly inside the element.
    pub text: String,
    /// Child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The trimmed text of the first child `{ns}name`.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name).map(|c| c.text.trim())
    }

    /// The value of the attribute with local name `name` (any namespace).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// The first descendant (depth first, self excluded) `{ns}name`.
    pub fn find(&self, ns: &str, name: &str) -> Option<&Element> {
        for c in &self.children {
            if c.is(ns, name) {
                return Some(c);
            }
            if let Some(d) = c.find(ns, name) {
                return Some(d);
            }
        }
        None
    }
}

fn resolved_ns(r: &ResolveResult<'_>) -> Result<String> {
    match r {
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Bound(n) => Ok(String::from_utf8_lossy(n.as_ref()).into_owned()),
        ResolveResult::Unknown(prefix) => Err(Error::protocol(format!(
            "undeclared namespace prefix {:?}",
            String::from_utf8_lossy(prefix)
        ))),
    }
}

fn open(reader: &NsReader<&[u8]>, ns: String, start: &BytesStart<'_>) -> Result<Element> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::protocol(format!("malformed attribute: {e}")))?;
        if attr.key.as_ref().starts_with(b"xmlns") {
            continue;
        }
        let (ans, local) = reader.resolve_attribute(attr.key);
        let ans = resolved_ns(&ans)?;
        let value = attr
            .unescape_value()
            .map_err(|e| Error::protocol(format!("malformed attribute value: {e}")))?;
        attributes.push((
            ans,
            String::from_utf8_lossy(local.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        ns,
        name,
        attributes,
        text: String::new(),
        children: Vec::new(),
    })
}

/// Parses a whole document into its root element.
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::Protocol`] for anything that is not one well-formed UTF-8
/// XML document within [`MAX_DEPTH`] and [`MAX_ELEMENTS`] (truncated, malformed,
/// DOCTYPE, undeclared prefix).
pub fn parse(body: &[u8]) -> Result<Element> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::protocol(format!("reply is not UTF-8: {e}")))?;
    let mut reader = NsReader::from_reader(text.as_bytes());
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (resolved_ns(&resolved), event),
            Err(e) => return Err(Error::protocol(format!("malformed XML: {e}"))),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(Error::protocol("content after the root element"));
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(Error::protocol(format!(
                        "reply has more than {MAX_ELEMENTS} elements"
                    )));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::protocol(format!(
                        "reply nests deeper than {MAX_DEPTH} elements"
                    )));
                }
                let element = open(&reader, ns?, start)?;
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| Error::protocol("unbalanced end tag"))?;
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| Error::protocol(format!("malformed text: {e}")))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(Error::protocol("text outside the root element")),
                }
            }
            Event::CData(c) => {
                let s = std::str::from_utf8(c.as_ref())
                    .map_err(|e| Error::protocol(format!("CDATA is not UTF-8: {e}")))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(s),
                    None => return Err(Error::protocol("CDATA outside the root element")),
                }
            }
            Event::DocType(_) => {
                return Err(Error::protocol("DOCTYPE is not accepted in a reply"));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Error::protocol("reply ends inside an element (truncated)"));
    }
    root.ok_or_else(|| Error::protocol("reply has no XML element"))
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::ErrorKind;

    #[test]
    fn prefixes_are_resolved_to_namespaces() {
        let a = parse(br#"<x:R xmlns:x="urn:a"><x:v k="1">t</x:v></x:R>"#).unwrap();
        let b = parse(br#"<R xmlns="urn:a"><v k="1">t</v></R>"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.child_text("urn:a", "v"), Some("t"));
        assert_eq!(a.child("urn:a", "v").unwrap().attribute("k"), Some("1"));
        assert!(a.child("urn:b", "v").is_none());
    }

    #[test]
    fn broken_documents_are_protocol_errors() {
        for doc in [
            &b""[..],
            b"<R>",
            b"<R></S>",
            b"<R/><S/>",
            b"text",
            b"<p:R/>",
            b"<R>\xff</R>",
            b"<!DOCTYPE R [<!ENTITY x \"y\">]><R>&x;</R>",
        ] {
            assert_eq!(parse(doc).unwrap_err().kind(), ErrorKind::Protocol);
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }
}
