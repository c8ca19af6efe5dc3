//! A small, bounded, namespace-aware element tree over quick-xml.
//!
//! The chassis manager's replies are a few hundred bytes of DataContract XML. The
//! tree keeps what the typed decoders need (local name, whether the element is in
//! the contract namespace, text, children, `i:nil`) and nothing else. Elements in a
//! foreign namespace are kept but never matched, so an unknown extension cannot be
//! mistaken for a contract field. Depth and element count are capped so a hostile
//! reply cannot make the parser allocate without bound.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use hw_core::{Error, Result};

/// The DataContract namespace every chassis manager reply uses.
pub const NAMESPACE: &str = "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts";

/// The XML Schema instance namespace (`i:nil="true"`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The deepest element nesting accepted (real replies nest 4 deep).
pub const MAX_DEPTH: usize = 32;

/// The most elements accepted in one reply (a 48-blade chassis info has a few
/// thousand at most).
pub const MAX_ELEMENTS: usize = 20_000;

/// One element of a parsed reply.
#[derive(Debug, Clone, Default)]
pub struct Element {
    /// The local name (no prefix).
    pub name: String,
    /// Whether the element is in the contract namespace (or in no namespace at all,
    /// which is accepted for tolerance).
    pub contract: bool,
    /// `i:nil="true"`.
    pub nil: bool,
    /// Concatenated text and CDATA content directly inside the element.
    pub text: String,
    /// Child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first contract child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.contract && c.name == name)
    }

    /// Every contract child called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children
            .iter()
            .filter(move |c| c.contract && c.name == name)
    }

    /// The trimmed text of the first child called `name`; `None` if absent or nil.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).filter(|c| !c.nil).map(|c| c.text.trim())
    }
}

fn namespace_is(r: &ResolveResult<'_>, ns: &str) -> bool {
    matches!(r, ResolveResult::Bound(n) if n.as_ref() == ns.as_bytes())
}

fn classify(resolved: &ResolveResult<'_>) -> Result<bool> {
    match resolved {
        ResolveResult::Unbound => Ok(true),
        ResolveResult::Bound(_) => Ok(namespace_is(resolved, NAMESPACE)),
        ResolveResult::Unknown(prefix) => Err(Error::protocol(format!(
            "undeclared namespace prefix {:?}",
            String::from_utf8_lossy(prefix)
        ))),
    }
}

fn open(reader: &NsReader<&[u8]>, contract: bool, start: &BytesStart<'_>) -> Result<Element> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut nil = false;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::protocol(format!("malformed attribute: {e}")))?;
        let (ns, local) = reader.resolve_attribute(attr.key);
        if namespace_is(&ns, XSI_NAMESPACE) && local.as_ref() == b"nil" {
            nil = attr.value.as_ref().eq_ignore_ascii_case(b"true") || attr.value.as_ref() == b"1";
        }
    }
    Ok(Element {
        name,
        contract,
        nil,
        text: String::new(),
        children: Vec::new(),
    })
}

/// Parses a whole document into its root element.
///
/// Fails with [`ErrorKind::Protocol`](hw_core::ErrorKind::Protocol) on anything that
/// is not one well-formed, UTF-8 XML document within the limits above.
pub(crate) fn parse(body: &[u8]) -> Result<Element> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::protocol(format!("reply is not UTF-8: {e}")))?;
    let mut reader = NsReader::from_reader(text.as_bytes());
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (contract, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (classify(&resolved), event),
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
                let element = open(&reader, contract?, start)?;
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
    use hw_core::ErrorKind;

    #[test]
    fn prefixes_are_resolved() {
        let doc = format!(
            r#"<a:R xmlns:a="{NAMESPACE}" xmlns:o="urn:other"><a:x>1</a:x><o:x>2</o:x><y i:nil="true" xmlns:i="{XSI_NAMESPACE}"/></a:R>"#
        );
        let root = parse(doc.as_bytes()).unwrap();
        assert_eq!(root.name, "R");
        assert!(root.contract);
        assert_eq!(root.child_text("x"), Some("1"));
        assert_eq!(root.children_named("x").count(), 1);
        assert!(root.child("y").unwrap().nil);
        assert_eq!(root.child_text("y"), None);
    }

    #[test]
    fn foreign_default_namespace_is_not_the_contract() {
        let root = parse(br#"<R xmlns="urn:other"><x>1</x></R>"#).unwrap();
        assert!(!root.contract);
        assert!(root.child("x").is_none());
    }

    #[test]
    fn rejects_broken_documents() {
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
            let e = parse(doc).unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::Protocol,
                "{:?}",
                String::from_utf8_lossy(doc)
            );
        }
    }

    #[test]
    fn depth_and_count_are_capped() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(
            parse(deep.as_bytes())
                .unwrap_err()
                .message()
                .contains("deeper")
        );
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS + 1));
        assert!(
            parse(wide.as_bytes())
                .unwrap_err()
                .message()
                .contains("more than")
        );
    }
}
