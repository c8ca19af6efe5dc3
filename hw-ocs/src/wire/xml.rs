//! A small, bounded, namespace-aware element tree over quick-xml, borrowed from
//! the reply body.
//!
//! The chassis manager's replies are a few hundred bytes of DataContract XML. The
//! tree keeps what the typed decoders need (local name, whether the element is in
//! the contract namespace, text, children, `i:nil`) and nothing else, in one
//! vector of nodes whose names and texts point into the body: no string is built
//! per element (only text with entity references, or split by comments or
//! children, is copied). Elements in a foreign namespace are kept but never
//! matched, so an unknown extension cannot be mistaken for a contract field.
//! Depth and element count are capped so a hostile reply cannot make the parser
//! allocate without bound.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use hwctl_core::{Error, Result};

/// The DataContract namespace every chassis manager reply uses.
pub const NAMESPACE: &str = "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts";

/// The XML Schema instance namespace (`i:nil="true"`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The deepest element nesting accepted (real replies nest 4 deep).
pub const MAX_DEPTH: usize = 32;

/// The most elements accepted in one reply (a 48-blade chassis info has a few
/// thousand at most).
pub const MAX_ELEMENTS: usize = 20_000;

/// No node (end of a child or sibling chain).
const NONE: u32 = u32::MAX;

/// One element of a parsed reply, stored in [`Doc::nodes`].
#[derive(Debug, Clone)]
struct NodeData<'a> {
    name: Cow<'a, str>,
    contract: bool,
    nil: bool,
    text: Cow<'a, str>,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// A parsed reply: its elements in document order, the root first.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    nodes: Vec<NodeData<'a>>,
}

/// One element of a [`Doc`] (a cheap handle; copy it freely).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Element<'d, 'a> {
    doc: &'d Doc<'a>,
    index: u32,
}

impl<'a> Doc<'a> {
    /// The root element.
    pub(crate) fn root(&self) -> Element<'_, 'a> {
        Element {
            doc: self,
            index: 0,
        }
    }
}

impl<'d, 'a> Element<'d, 'a> {
    fn data(&self) -> &'d NodeData<'a> {
        // Indices come from the document itself; a miss would be a bug, and the
        // first node (the root) always exists.
        let nodes = &self.doc.nodes;
        nodes.get(self.index as usize).unwrap_or(&nodes[0])
    }

    /// The local name (no prefix).
    pub fn name(&self) -> &'d str {
        &self.data().name
    }

    /// Whether the element is in the contract namespace (or in no namespace at
    /// all, which is accepted for tolerance).
    pub fn contract(&self) -> bool {
        self.data().contract
    }

    /// `i:nil="true"`.
    pub fn nil(&self) -> bool {
        self.data().nil
    }

    /// Concatenated text and CDATA content directly inside the element.
    pub fn text(&self) -> &'d str {
        &self.data().text
    }

    /// The child elements, in document order.
    pub fn children(&self) -> impl Iterator<Item = Element<'d, 'a>> + 'd {
        let doc = self.doc;
        let mut next = self.data().first_child;
        std::iter::from_fn(move || {
            if next == NONE {
                return None;
            }
            let e = Element { doc, index: next };
            next = e.data().next_sibling;
            Some(e)
        })
    }

    /// The first contract child called `name`.
    pub fn child(&self, name: &str) -> Option<Element<'d, 'a>> {
        self.children().find(|c| c.contract() && c.name() == name)
    }

    /// Every contract child called `name`.
    pub fn children_named<'n>(&self, name: &'n str) -> impl Iterator<Item = Element<'d, 'a>> + 'n
    where
        'd: 'n,
    {
        self.children()
            .filter(move |c| c.contract() && c.name() == name)
    }

    /// The trimmed text of the first child called `name`; `None` if absent or nil.
    pub fn child_text(&self, name: &str) -> Option<&'d str> {
        self.child(name)
            .filter(|c| !c.nil())
            .map(|c| c.text().trim())
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

/// `part` as a slice of `body` when it points into it (what quick-xml's slice
/// reader gives), else a copy.
fn borrow_from<'a>(body: &'a str, part: &[u8]) -> Cow<'a, str> {
    let inside = (part.as_ptr() as usize)
        .checked_sub(body.as_ptr() as usize)
        .and_then(|start| body.get(start..start + part.len()))
        .filter(|s| s.as_bytes() == part);
    match inside {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(String::from_utf8_lossy(part).into_owned()),
    }
}

fn open<'a>(
    body: &'a str,
    reader: &NsReader<&'a [u8]>,
    contract: bool,
    start: &BytesStart<'a>,
) -> Result<NodeData<'a>> {
    let name = borrow_from(body, start.local_name().as_ref());
    let mut nil = false;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::protocol(format!("malformed attribute: {e}")))?;
        let (ns, local) = reader.resolve_attribute(attr.key);
        if namespace_is(&ns, XSI_NAMESPACE) && local.as_ref() == b"nil" {
            nil = attr.value.as_ref().eq_ignore_ascii_case(b"true") || attr.value.as_ref() == b"1";
        }
    }
    Ok(NodeData {
        name,
        contract,
        nil,
        text: Cow::Borrowed(""),
        first_child: NONE,
        last_child: NONE,
        next_sibling: NONE,
    })
}

/// Appends `piece` to an element's text, copying only when it is not the first
/// non-empty piece.
fn push_text<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if piece.is_empty() {
    } else if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

/// Parses a whole document into its elements.
///
/// Fails with [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) on anything that
/// is not one well-formed, UTF-8 XML document within the limits above.
pub(crate) fn parse(body: &[u8]) -> Result<Doc<'_>> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::protocol(format!("reply is not UTF-8: {e}")))?;
    let mut reader = NsReader::from_reader(text.as_bytes());
    reader.config_mut().check_end_names = true;
    // A reply has roughly one element per 40 bytes; a guess avoids regrowing.
    let mut nodes: Vec<NodeData<'_>> = Vec::with_capacity((body.len() / 40).clamp(4, 1024));
    // Indices of the open elements, innermost last (at most MAX_DEPTH).
    let mut open_stack = [0u32; MAX_DEPTH];
    let mut depth = 0usize;
    let mut closed_root = false;
    loop {
        let (contract, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (classify(&resolved), event),
            Err(e) => return Err(Error::protocol(format!("malformed XML: {e}"))),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if closed_root {
                    return Err(Error::protocol("content after the root element"));
                }
                if nodes.len() >= MAX_ELEMENTS {
                    return Err(Error::protocol(format!(
                        "reply has more than {MAX_ELEMENTS} elements"
                    )));
                }
                if depth >= MAX_DEPTH {
                    return Err(Error::protocol(format!(
                        "reply nests deeper than {MAX_DEPTH} elements"
                    )));
                }
                let element = open(text, &reader, contract?, start)?;
                // At most MAX_ELEMENTS (20,000) nodes: the index fits in u32.
                let index = nodes.len() as u32;
                nodes.push(element);
                if let Some(&parent) = open_stack[..depth].last() {
                    let p = parent as usize;
                    match nodes[p].last_child {
                        NONE => nodes[p].first_child = index,
                        last => nodes[last as usize].next_sibling = index,
                    }
                    nodes[p].last_child = index;
                }
                if matches!(event, Event::Empty(_)) {
                    closed_root |= depth == 0;
                } else {
                    open_stack[depth] = index;
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| Error::protocol("unbalanced end tag"))?;
                closed_root |= depth == 0;
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| Error::protocol(format!("malformed text: {e}")))?;
                match open_stack[..depth].last() {
                    Some(&top) => push_text(&mut nodes[top as usize].text, s),
                    None if s.trim().is_empty() => {}
                    None => return Err(Error::protocol("text outside the root element")),
                }
            }
            Event::CData(c) => {
                let s = std::str::from_utf8(c.as_ref())
                    .map_err(|e| Error::protocol(format!("CDATA is not UTF-8: {e}")))?;
                match open_stack[..depth].last() {
                    Some(&top) => push_text(
                        &mut nodes[top as usize].text,
                        borrow_from(text, s.as_bytes()),
                    ),
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
    if depth != 0 {
        return Err(Error::protocol("reply ends inside an element (truncated)"));
    }
    if nodes.is_empty() {
        return Err(Error::protocol("reply has no XML element"));
    }
    Ok(Doc { nodes })
}

/// The owned-tree parser this module had before issue 16, kept as an oracle for
/// the differential tests below.
#[cfg(test)]
pub(crate) mod owned {
    #![allow(clippy::unwrap_used, unreachable_pub, dead_code)]
    use super::{MAX_DEPTH, MAX_ELEMENTS, XSI_NAMESPACE, classify, namespace_is};
    use hwctl_core::{Error, Result};
    use quick_xml::NsReader;
    use quick_xml::events::{BytesStart, Event};

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

    fn open(reader: &NsReader<&[u8]>, contract: bool, start: &BytesStart<'_>) -> Result<Element> {
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let mut nil = false;
        for attr in start.attributes() {
            let attr = attr.map_err(|e| Error::protocol(format!("malformed attribute: {e}")))?;
            let (ns, local) = reader.resolve_attribute(attr.key);
            if namespace_is(&ns, XSI_NAMESPACE) && local.as_ref() == b"nil" {
                nil = attr.value.as_ref().eq_ignore_ascii_case(b"true")
                    || attr.value.as_ref() == b"1";
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
    /// Fails with [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) on anything that
    /// is not one well-formed, UTF-8 XML document within the limits above.
    pub fn parse(body: &[u8]) -> Result<Element> {
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
}

/// Whether the borrowed tree of `body` and the old owned tree agree: both fail,
/// or both succeed with the same names, flags, texts and children.
#[cfg(test)]
pub(crate) fn same_as_owned(body: &[u8]) -> bool {
    fn same(a: Element<'_, '_>, b: &owned::Element) -> bool {
        a.name() == b.name
            && a.contract() == b.contract
            && a.nil() == b.nil
            && a.text() == b.text
            && a.children().count() == b.children.len()
            && a.children().zip(&b.children).all(|(x, y)| same(x, y))
    }
    match (parse(body), owned::parse(body)) {
        (Ok(doc), Ok(root)) => same(doc.root(), &root),
        (Err(a), Err(b)) => a.kind() == b.kind(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::ErrorKind;

    #[test]
    fn prefixes_are_resolved() {
        let doc = format!(
            r#"<a:R xmlns:a="{NAMESPACE}" xmlns:o="urn:other"><a:x>1</a:x><o:x>2</o:x><y i:nil="true" xmlns:i="{XSI_NAMESPACE}"/></a:R>"#
        );
        let doc = parse(doc.as_bytes()).unwrap();
        let root = doc.root();
        assert_eq!(root.name(), "R");
        assert!(root.contract());
        assert_eq!(root.child_text("x"), Some("1"));
        assert_eq!(root.children_named("x").count(), 1);
        assert!(root.child("y").unwrap().nil());
        assert_eq!(root.child_text("y"), None);
    }

    #[test]
    fn foreign_default_namespace_is_not_the_contract() {
        let doc = parse(br#"<R xmlns="urn:other"><x>1</x></R>"#).unwrap();
        let root = doc.root();
        assert!(!root.contract());
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
    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/msftocs")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    const FIXTURES: [&str; 6] = [
        "ironic_BladeResponse.xml",
        "ironic_BladeStateResponse.xml",
        "ironic_BootResponse.xml",
        "ironic_PowerStateResponse.xml",
        "ironic_bad_completion_code.xml",
        "maas_GetChassisInfo_ChassisInfoResponse.xml",
    ];

    #[test]
    fn borrowed_tree_equals_the_owned_one_on_every_fixture_and_edge() {
        for name in FIXTURES {
            let body = fixture(name);
            assert!(parse(&body).is_ok(), "{name}");
            assert!(same_as_owned(&body), "{name}");
        }
        for doc in [
            &b"<R>a<!-- c -->b<![CDATA[<c>]]>&amp;d<x>e</x>f</R>"[..],
            b"<R> <x>1</x> <x>2</x><y/></R>",
            b"<R><x/></R><!-- after -->",
            b"<R/>",
            b"<a:R xmlns:a=\"urn:a\"><b:x xmlns:b=\"urn:b\"/></a:R>",
            b"<R>&#65;&lt;</R>",
            b"<R x='1' x='2'/>",
            b"<R><x></y></R>",
        ] {
            assert!(same_as_owned(doc), "{:?}", String::from_utf8_lossy(doc));
        }
        // Text split by a comment or a child is joined, as before.
        let doc = parse(b"<R>a<!-- c -->b<x>e</x>&amp;</R>").unwrap();
        assert_eq!(doc.root().text(), "ab&");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn borrowed_tree_equals_the_owned_one_on_xmlish_text(
            s in r#"(<[/!?]?[a-zA-Z:]{0,6}( [a-z:]{1,6}="[^"]{0,8}")?/?>|[^<]{0,6}|&[a-z#0-9]{0,5};?|<!\[CDATA\[[a-z<]{0,4}\]\]>){0,30}"#
        ) {
            proptest::prop_assert!(same_as_owned(s.as_bytes()), "{:?}", s);
        }

        #[test]
        fn borrowed_tree_equals_the_owned_one_on_mutated_fixtures(
            which in 0usize..6, cut in 0usize..1400, at in 0usize..1400, byte in proptest::prelude::any::<u8>()
        ) {
            let mut b = fixture(FIXTURES[which]);
            if at < b.len() { b[at] = byte; }
            b.truncate(cut.min(b.len()));
            proptest::prop_assert!(same_as_owned(&b));
        }
    }
}
