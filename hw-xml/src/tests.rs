#![allow(clippy::unwrap_used)]
use super::*;
use hwctl_core::ErrorKind;

fn events(doc: &str) -> Result<Vec<Event<'_>>, hwctl_core::Error> {
    let mut r = Reader::new(doc.as_bytes(), Limits::default())?;
    let mut out = Vec::new();
    while let Some(e) = r.next()? {
        out.push(e);
    }
    Ok(out)
}

#[test]
fn events_borrow_names_and_text_and_copy_only_escaped_text() {
    let doc = r#"<R xmlns="urn:a"><x>plain</x><y>a&amp;b</y><z/></R>"#;
    let ev = events(doc).unwrap();
    assert_eq!(ev.len(), 10);
    assert!(matches!(
        ev[2],
        Event::Text(std::borrow::Cow::Borrowed("plain"))
    ));
    assert!(matches!(&ev[5], Event::Text(std::borrow::Cow::Owned(s)) if s == "a&b"));
    assert_eq!(
        ev[7],
        Event::Open {
            ns: "urn:a",
            name: "z"
        }
    );
    assert_eq!(ev[8], Event::Close);
}

#[test]
fn prefixes_resolve_by_scope_and_attributes_take_no_default() {
    let doc = r#"<a:R xmlns:a="urn:a" xmlns="urn:d" k="1" a:k="2"><a:x xmlns:a="urn:b"/><y xmlns=""/><a:z/></a:R>"#;
    let mut r = Reader::new(doc.as_bytes(), Limits::default()).unwrap();
    assert_eq!(
        r.next().unwrap(),
        Some(Event::Open {
            ns: "urn:a",
            name: "R"
        })
    );
    let attrs: Vec<_> = r.attributes().iter().map(|a| (a.ns, a.name)).collect();
    assert_eq!(attrs, [(Some(""), "k"), (Some("urn:a"), "k")]);
    assert_eq!(
        r.next().unwrap(),
        Some(Event::Open {
            ns: "urn:b",
            name: "x"
        })
    );
    assert_eq!(r.next().unwrap(), Some(Event::Close));
    assert_eq!(r.next().unwrap(), Some(Event::Open { ns: "", name: "y" }));
    assert_eq!(r.next().unwrap(), Some(Event::Close));
    assert_eq!(
        r.next().unwrap(),
        Some(Event::Open {
            ns: "urn:a",
            name: "z"
        })
    );
}

#[test]
fn undeclared_attribute_prefix_is_reported_not_fatal() {
    let doc = Doc::parse(br#"<R p:k="&bogus;"/>"#, Limits::default()).unwrap();
    let a = doc.root().attributes()[0];
    assert_eq!(a.ns, None);
    assert_eq!(a.value().unwrap_err().kind(), ErrorKind::Protocol);
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
        b"<R x='1' x='2'/>",
        b"<R xmlns:xmlns='urn:x'/>",
        b"<R xmlns:xml='urn:x'/>",
        b"<R xmlns:p='http://www.w3.org/2000/xmlns/'/>",
        b"<R xmlns:p='urn:p'><q:x/></R>",
        b"<R>&bogus;</R>",
        b"</R>",
        b"<R/>text",
        b"<R/><![CDATA[x]]>",
    ] {
        let e = Doc::parse(doc, Limits::default()).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Protocol,
            "{:?}",
            String::from_utf8_lossy(doc)
        );
        assert!(
            oracle::agrees(doc, Limits::default()),
            "{:?}",
            String::from_utf8_lossy(doc)
        );
    }
}

#[test]
fn limits_cap_depth_and_count() {
    let limits = Limits {
        max_depth: 4,
        max_elements: 10,
    };
    let deep = "<a>".repeat(5) + &"</a>".repeat(5);
    let e = Doc::parse(deep.as_bytes(), limits).unwrap_err();
    assert!(e.message().contains("deeper than 4"), "{e}");
    let ok = "<a>".repeat(4) + &"</a>".repeat(4);
    assert!(Doc::parse(ok.as_bytes(), limits).is_ok());
    let wide = format!("<a>{}</a>", "<b/>".repeat(10));
    let e = Doc::parse(wide.as_bytes(), limits).unwrap_err();
    assert!(e.message().contains("more than 10"), "{e}");
}

#[test]
fn skip_element_reads_past_a_subtree() {
    let mut r = Reader::new(b"<R><a><b>x</b><c/></a><d/></R>", Limits::default()).unwrap();
    r.next().unwrap();
    assert_eq!(r.next().unwrap(), Some(Event::Open { ns: "", name: "a" }));
    r.skip_element().unwrap();
    assert_eq!(r.next().unwrap(), Some(Event::Open { ns: "", name: "d" }));
    let mut r = Reader::new(b"<R><a><b>", Limits::default()).unwrap();
    r.next().unwrap();
    r.next().unwrap();
    assert_eq!(r.skip_element().unwrap_err().kind(), ErrorKind::Protocol);
    assert!(r.next().is_err(), "the reader is done after an error");
}

#[test]
fn find_walks_descendants_in_document_order() {
    let doc = Doc::parse(
        b"<R><a><x>1</x></a><x>2</x><b><x>3</x></b></R>",
        Limits::default(),
    )
    .unwrap();
    let root = doc.root();
    assert_eq!(root.find("", "x").unwrap().text(), "1");
    let b = root.child("", "b").unwrap();
    assert_eq!(b.find("", "x").unwrap().text(), "3");
    let a = root.child("", "a").unwrap();
    assert!(a.child("", "x").unwrap().find("", "x").is_none());
    assert!(root.child("", "x").unwrap().find("", "x").is_none());
}

#[test]
fn agrees_with_quick_xml_resolver_on_edges() {
    for doc in [
        &b"<R>a<!-- c -->b<![CDATA[<c>]]>&amp;d<x>e</x>f</R>"[..],
        b"<R> <x>1</x> <x>2</x><y/></R>",
        b"<R><x/></R><!-- after -->",
        b"<a:R xmlns:a=\"urn:a\"><b:x xmlns:b=\"urn:b\"/></a:R>",
        b"<R xmlns:=\"urn:e\"><x/></R>",
        b"<R xmlns:p=\"urn:p\"><p:x xmlns:p=\"\"/></R>",
        b"<R xmlns:p=\"urn:p\"><x xmlns:p=\"\"><p:y/></x></R>",
        b"<xml:R/>",
        b"<xmlns:R/>",
        b"<R xmlns:xml=\"http://www.w3.org/XML/1998/namespace\" xml:lang=\"en\"/>",
        b"<R xmlns=\"http://www.w3.org/XML/1998/namespace\"/>",
        b"<R xmlnsx=\"1\" xmlns:p=\"u&amp;\" p:a=\"&lt;\"/>",
        b"<a:b:c xmlns:a=\"urn:a\"/>",
        b"<R>&#65;&lt;</R>",
    ] {
        assert!(
            oracle::agrees(doc, Limits::default()),
            "{:?}",
            String::from_utf8_lossy(doc)
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

    #[test]
    fn agrees_with_quick_xml_resolver_on_xmlish_text(
        s in r#"(<[/!?]?[a-zA-Z:]{0,6}( (xmlns(:[a-z]{0,2})?|[a-z:]{1,6})="[^"]{0,8}"){0,2} ?/?>|[^<]{0,6}|&[a-z#0-9]{0,5};?|<!\[CDATA\[[a-z<]{0,4}\]\]>){0,30}"#
    ) {
        proptest::prop_assert!(oracle::agrees(s.as_bytes(), Limits::default()), "{:?}", s);
    }

    #[test]
    fn agrees_with_quick_xml_resolver_on_namespaced_documents(
        parts in proptest::collection::vec((0usize..4, 0usize..4, 0usize..3, proptest::bool::ANY), 1..12)
    ) {
        // Nested elements with prefixes p/q/none, declarations added, changed or
        // taken back on the way down.
        let prefixes = ["", "p:", "q:", "r:"];
        let decls = ["", " xmlns:p=\"urn:1\"", " xmlns=\"urn:2\" xmlns:q=\"urn:3\"", " xmlns:p=\"\" xmlns=\"\""];
        let attrs = ["", " p:a=\"1\"", " a=\"2\" q:b=\"3\""];
        let mut s = String::new();
        let mut close = Vec::new();
        for (prefix, decl, attr, leaf) in &parts {
            let name = format!("{}e", prefixes[*prefix]);
            s.push_str(&format!("<{name}{}{}", decls[*decl], attrs[*attr]));
            if *leaf {
                s.push_str("/>");
            } else {
                s.push('>');
                close.push(name);
            }
        }
        for name in close.iter().rev() {
            s.push_str(&format!("</{name}>"));
        }
        proptest::prop_assert!(oracle::agrees(s.as_bytes(), Limits::default()), "{:?}", s);
    }
}
