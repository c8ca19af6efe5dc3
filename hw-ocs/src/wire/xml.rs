//! The chassis manager's replies as seen through [`hwctl_xml`]: the contract
//! namespace, `i:nil`, and the limits a reply must stay within.
//!
//! The chassis manager's replies are a few hundred bytes of DataContract XML.
//! They are read with hwctl-xml's borrowed tree (names and texts point into the
//! body; no string is built per element). An element counts as a contract field
//! when it is in the contract namespace (or in no namespace at all, accepted for
//! tolerance); elements in a foreign namespace are kept but never matched, so an
//! unknown extension cannot be mistaken for a contract field. Depth and element
//! count are capped so a hostile reply cannot make the parser allocate without
//! bound.

use hwctl_core::Result;
use hwctl_xml::{Doc, Limits};

/// The DataContract namespace every chassis manager reply uses.
pub const NAMESPACE: &str = "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts";

/// The XML Schema instance namespace (`i:nil="true"`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The deepest element nesting accepted (real replies nest 4 deep).
pub const MAX_DEPTH: usize = 32;

/// The most elements accepted in one reply (a 48-blade chassis info has a few
/// thousand at most).
pub const MAX_ELEMENTS: usize = 20_000;

/// The limits above, as hwctl-xml takes them.
pub(crate) const LIMITS: Limits = Limits {
    max_depth: MAX_DEPTH,
    max_elements: MAX_ELEMENTS,
};

/// Parses a whole reply.
///
/// Fails with [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) on anything that
/// is not one well-formed, UTF-8 XML document within the limits above.
pub(crate) fn parse(body: &[u8]) -> Result<Doc<'_>> {
    Doc::parse(body, LIMITS)
}

/// Whether a namespace name is the contract's (or none at all).
pub(crate) fn is_contract(ns: &str) -> bool {
    ns.is_empty() || ns == NAMESPACE
}

/// One element of a parsed reply (a cheap handle; copy it freely).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Element<'d, 'a>(hwctl_xml::Element<'d, 'a>);

impl<'d, 'a> Element<'d, 'a> {
    /// The root element of `doc`.
    pub(crate) fn root(doc: &'d Doc<'a>) -> Self {
        Element(doc.root())
    }

    /// The local name (no prefix).
    pub fn name(&self) -> &'a str {
        self.0.name()
    }

    /// Whether the element is in the contract namespace (or in no namespace at
    /// all, which is accepted for tolerance).
    pub fn contract(&self) -> bool {
        is_contract(self.0.ns())
    }

    /// `i:nil="true"` (or `"1"`; the last `nil` attribute in the XSI namespace wins).
    pub fn nil(&self) -> bool {
        super::flat::nil(self.0.attributes())
    }

    /// Concatenated text and CDATA content directly inside the element.
    pub fn text(&self) -> &'d str {
        self.0.text()
    }

    /// The child elements, in document order.
    pub fn children(&self) -> impl Iterator<Item = Element<'d, 'a>> + use<'d, 'a> {
        self.0.children().map(Element)
    }

    /// The first contract child called `name`.
    pub fn child(&self, name: &str) -> Option<Element<'d, 'a>> {
        self.children().find(|c| c.contract() && c.name() == name)
    }

    /// Every contract child called `name`.
    pub fn children_named<'n>(&self, name: &'n str) -> impl Iterator<Item = Element<'d, 'a>> + 'n
    where
        'd: 'n,
        'a: 'n,
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

/// Whether the tree of `body` and the pre-issue-16 owned tree (hwctl-xml's
/// oracle, read with quick-xml's own resolver) agree: both fail, or both succeed
/// with the same names, contract flags, nil flags, texts and children.
#[cfg(test)]
pub(crate) fn same_as_owned(body: &[u8]) -> bool {
    use hwctl_xml::oracle::{self, OwnedElement};
    fn nil(b: &OwnedElement) -> bool {
        b.attributes.iter().fold(false, |nil, (_, ns, local, v)| {
            if ns.as_deref() == Some(XSI_NAMESPACE) && local == "nil" {
                v.eq_ignore_ascii_case("true") || v == "1"
            } else {
                nil
            }
        })
    }
    fn same(a: Element<'_, '_>, b: &OwnedElement) -> bool {
        a.name() == b.name
            && a.contract() == is_contract(&b.ns)
            && a.nil() == nil(b)
            && a.text() == b.text
            && a.children().count() == b.children.len()
            && a.children().zip(&b.children).all(|(x, y)| same(x, y))
    }
    match (parse(body), oracle::parse(body, LIMITS)) {
        (Ok(doc), Ok(root)) => same(Element::root(&doc), &root),
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
        let root = Element::root(&doc);
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
        let root = Element::root(&doc);
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
        assert_eq!(Element::root(&doc).text(), "ab&");
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
