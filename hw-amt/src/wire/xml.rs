//! Replies as an owned element tree, read with [`hwctl_xml`].
//!
//! Elements are matched by namespace URI and local name, never by prefix: AMT
//! answers with `a:`, `b:`, `g:`, `h:` (go-wsman-messages' fixtures), openwsman with
//! `s:`, `wsa:`, `wsen:`. Parsing (well-formedness, namespaces, depth and element
//! caps) is hwctl-xml's; this module copies the borrowed tree into owned
//! [`Element`]s, because a decoded reply (its enumeration items, its body)
//! outlives the HTTP body it came from. Attributes are checked here: an
//! undeclared attribute prefix or a bad entity in a value is a protocol error.
//!
//! ```
//! use hwctl_amt::wire::xml;
//! let a = xml::parse(br#"<x:R xmlns:x="urn:a"><x:v>t</x:v></x:R>"#)?;
//! let b = xml::parse(br#"<R xmlns="urn:a"><v>t</v></R>"#)?;
//! assert_eq!(a, b); // prefixes do not matter, namespaces do
//! # Ok::<(), hwctl_core::Error>(())
//! ```

use hwctl_core::{Error, Result};
use hwctl_xml::{Doc, Limits};

/// The deepest element nesting accepted (real replies nest about 8 deep).
pub const MAX_DEPTH: usize = 48;

/// The most elements accepted in one reply.
pub const MAX_ELEMENTS: usize = 50_000;

const LIMITS: Limits = Limits {
    max_depth: MAX_DEPTH,
    max_elements: MAX_ELEMENTS,
};

/// One element of a parsed reply.
///
/// ```
/// use hwctl_amt::wire::xml;
/// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
/// assert_eq!((root.ns.as_str(), root.name.as_str()), ("urn:a", "R"));
/// assert_eq!(root.children.len(), 3);
/// assert_eq!(root.children[0].attributes, [("urn:q".to_owned(), "k".to_owned(), "1".to_owned())]);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// use hwctl_amt::wire::xml;
    /// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
    /// assert!(root.is("urn:a", "R"));
    /// assert!(!root.is("urn:q", "R"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    ///
    /// ```
    /// use hwctl_amt::wire::xml;
    /// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
    /// assert_eq!(root.child("urn:a", "v").map(|v| v.text.as_str()), Some(" t "));
    /// assert!(root.child("urn:a", "deep").is_none()); // a grandchild, not a child
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    ///
    /// ```
    /// use hwctl_amt::wire::xml;
    /// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
    /// let texts: Vec<&str> = root.children_named("urn:a", "v").map(|v| v.text.trim()).collect();
    /// assert_eq!(texts, ["t", "u"]);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The trimmed text of the first child `{ns}name`.
    ///
    /// ```
    /// use hwctl_amt::wire::xml;
    /// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
    /// assert_eq!(root.child_text("urn:a", "v"), Some("t"));
    /// assert_eq!(root.child_text("urn:b", "v"), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name).map(|c| c.text.trim())
    }

    /// The value of the attribute with local name `name` (any namespace).
    ///
    /// ```
    /// use hwctl_amt::wire::xml;
    /// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
    /// let v = root.child("urn:a", "v").expect("a v child");
    /// assert_eq!(v.attribute("k"), Some("1"));
    /// assert_eq!(v.attribute("q:k"), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// The first descendant (depth first, self excluded) `{ns}name`.
    ///
    /// ```
    /// use hwctl_amt::wire::xml;
    /// let root = xml::parse(br#"<p:R xmlns:p="urn:a" xmlns:q="urn:q"><p:v q:k="1"> t </p:v><p:v>u</p:v><p:w><p:deep>d</p:deep></p:w></p:R>"#)?;
    /// assert_eq!(root.find("urn:a", "deep").map(|d| d.text.as_str()), Some("d"));
    /// assert!(root.find("urn:a", "R").is_none());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
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

/// Parses a whole document into its root element.
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::Protocol`] for anything that is not one well-formed UTF-8
/// XML document within [`MAX_DEPTH`] and [`MAX_ELEMENTS`] (truncated, malformed,
/// DOCTYPE, undeclared prefix, bad entity in an attribute value).
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_amt::wire::xml;
/// assert_eq!(xml::parse(b"<R>t</R>")?.text, "t");
/// for bad in [&b"<R>"[..], b"<R/><S/>", b"<p:R/>", b"<R k=\"&bogus;\"/>"] {
///     assert_eq!(xml::parse(bad).unwrap_err().kind(), ErrorKind::Protocol);
/// }
/// let deep = "<a>".repeat(xml::MAX_DEPTH + 1);
/// assert_eq!(xml::parse(deep.as_bytes()).unwrap_err().kind(), ErrorKind::Protocol);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn parse(body: &[u8]) -> Result<Element> {
    let doc = Doc::parse(body, LIMITS)?;
    owned(doc.root())
}

fn owned(e: hwctl_xml::Element<'_, '_>) -> Result<Element> {
    let mut attributes = Vec::with_capacity(e.attributes().len());
    for a in e.attributes() {
        // Names in the reserved xmlns… space are not data (as before issue 16).
        if a.qname.starts_with("xmlns") {
            continue;
        }
        let ns = a.ns.ok_or_else(|| {
            Error::protocol(format!(
                "undeclared namespace prefix in attribute {:?}",
                a.qname
            ))
        })?;
        attributes.push((ns.to_owned(), a.name.to_owned(), a.value()?.into_owned()));
    }
    Ok(Element {
        ns: e.ns().to_owned(),
        name: e.name().to_owned(),
        attributes,
        text: e.text().to_owned(),
        children: e.children().map(owned).collect::<Result<_>>()?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hwctl_core::ErrorKind;
    use hwctl_xml::oracle::{self, OwnedElement};

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
            b"<R p:k=\"1\"/>",
            b"<R k=\"&bogus;\"/>",
        ] {
            assert_eq!(parse(doc).unwrap_err().kind(), ErrorKind::Protocol);
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    /// The owned tree the pre-issue-16 parser built, from hwctl-xml's oracle
    /// (quick-xml's own resolver), with this module's attribute checks.
    fn reference(body: &[u8]) -> Result<Element> {
        fn convert(e: OwnedElement) -> Result<Element> {
            let mut attributes = Vec::new();
            for (qname, ns, local, raw) in e.attributes {
                if qname.starts_with("xmlns") {
                    continue;
                }
                let ns = ns.ok_or_else(|| Error::protocol("undeclared prefix"))?;
                let value = quick_xml::escape::unescape(&raw)
                    .map_err(|e| Error::protocol(format!("value: {e}")))?;
                attributes.push((ns, local, value.into_owned()));
            }
            Ok(Element {
                ns: e.ns,
                name: e.name,
                attributes,
                text: e.text,
                children: e.children.into_iter().map(convert).collect::<Result<_>>()?,
            })
        }
        convert(oracle::parse(body, LIMITS)?)
    }

    fn same_as_before(body: &[u8]) -> bool {
        match (parse(body), reference(body)) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a.kind() == b.kind(),
            _ => false,
        }
    }

    fn fixtures() -> &'static [Vec<u8>] {
        static ALL: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
        ALL.get_or_init(|| {
            let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
            let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "xml"))
                .map(|p| std::fs::read(p).unwrap())
                .collect();
            out.sort();
            out
        })
    }

    #[test]
    fn the_tree_equals_the_old_one_on_every_fixture() {
        let all = fixtures();
        assert!(all.len() >= 15);
        for body in all {
            assert!(parse(body).is_ok(), "{}", String::from_utf8_lossy(body));
            assert!(same_as_before(body), "{}", String::from_utf8_lossy(body));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1500))]

        #[test]
        fn the_tree_equals_the_old_one_on_xmlish_text(
            s in r#"(<[/!?]?[a-zA-Z:]{0,6}( [a-z:]{1,6}="[^"]{0,8}")?/?>|[^<]{0,6}|&[a-z#0-9]{0,5};?|<!\[CDATA\[[a-z<]{0,4}\]\]>){0,30}"#
        ) {
            proptest::prop_assert!(same_as_before(s.as_bytes()), "{:?}", s);
        }

        #[test]
        fn the_tree_equals_the_old_one_on_mutated_fixtures(
            which in 0usize..15, cut in 0usize..4000, at in 0usize..4000, byte in proptest::prelude::any::<u8>()
        ) {
            let all = fixtures();
            let mut b = all[which % all.len()].clone();
            if at < b.len() { b[at] = byte; }
            b.truncate(cut.min(b.len()));
            proptest::prop_assert!(same_as_before(&b));
        }
    }
}
