//! Differential tests: every flat reply decoded in one streaming pass
//! ([`Flat`](super::flat::Flat)) equals the same decoder run over the whole tree
//! (`decode_tree`, what `decode` did before issue 16), which the tests in
//! `xml.rs` hold equal to hwctl-xml's oracle (the owned tree read with
//! quick-xml's own namespace resolver). Equal means: both succeed with equal
//! values, or both fail with the same kind and message.
#![allow(clippy::unwrap_used)]

use std::fmt::Debug;

use proptest::prelude::*;

use super::response::{FlatResponse, decode_tree};
use super::*;

fn same<T: FlatResponse + PartialEq + Debug>(body: &[u8]) -> std::result::Result<(), String> {
    match (T::decode(body), decode_tree::<T>(body)) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if a.kind() == b.kind() && a.message() == b.message() => Ok(()),
        (a, b) => Err(format!(
            "{}: streamed {a:?}, tree {b:?} on {:?}",
            T::ROOT,
            String::from_utf8_lossy(body)
        )),
    }
}

/// Every flat decoder and the status head agree on `body`, and so do the
/// byte scan and the general reader.
fn all_same(body: &[u8]) -> std::result::Result<(), String> {
    // The plain layout's scan, where it applies, gives the general reader's fields.
    super::plain::agrees(body)?;
    same::<BladeResponse>(body)?;
    same::<BladeStateResponse>(body)?;
    same::<BootResponse>(body)?;
    same::<PowerStateResponse>(body)?;
    same::<StartSerialResponse>(body)?;
    same::<SerialDataResponse>(body)?;
    same::<ChassisResponse>(body)?;
    let tree = super::xml::parse(body)
        .and_then(|doc| super::response::status(&super::xml::Element::root(&doc)));
    match (parse_status(body), tree) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if a.kind() == b.kind() && a.message() == b.message() => Ok(()),
        (a, b) => Err(format!("status: streamed {a:?}, tree {b:?}")),
    }
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

/// Replies the fixtures do not cover: serial replies, failures, nil and
/// duplicated fields, comments and CDATA inside fields, nested children,
/// foreign namespaces, prefixes, whitespace.
const EDGES: &[&str] = &[
    r#"<StartSerialResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>Success</completionCode><serialSessionToken> tok </serialSessionToken></StartSerialResponse>"#,
    r#"<SerialDataResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>Success</completionCode><data>aGk=</data></SerialDataResponse>"#,
    r#"<SerialDataResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>Success</completionCode><data>a<!-- c -->Gk<![CDATA[=]]></data></SerialDataResponse>"#,
    r#"<ChassisResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>SerialSessionActive</completionCode><statusDescription>busy &amp; more</statusDescription></ChassisResponse>"#,
    r#"<BladeStateResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><bladeState i:nil="true"/><bladeState>ON</bladeState><completionCode>Success</completionCode></BladeStateResponse>"#,
    r#"<BladeStateResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>Success</completionCode><bladeState>O<x>junk</x>N</bladeState><bladeState>OFF</bladeState></BladeStateResponse>"#,
    r#"<a:BladeStateResponse xmlns:a="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts" xmlns:o="urn:o"><o:bladeState>OFF</o:bladeState><a:completionCode> Success </a:completionCode><bladeState xmlns="">ON</bladeState></a:BladeStateResponse>"#,
    r#"<BladeStateResponse xmlns="urn:other"><completionCode>Success</completionCode><bladeState>ON</bladeState></BladeStateResponse>"#,
    "<BladeStateResponse>\n  <completionCode>Success</completionCode>\n  <bladeNumber> 7 </bladeNumber>\n  <bladeState>\n OFF \n</bladeState>\n</BladeStateResponse>",
    r#"<BladeStateResponse><completionCode>Success</completionCode><bladeNumber>x</bladeNumber><bladeState>ON</bladeState></BladeStateResponse>"#,
    r#"<BladeStateResponse><completionCode>Success</completionCode><bladeNumber/></BladeStateResponse>"#,
    r#"<BladeStateResponse><completionCode></completionCode></BladeStateResponse>"#,
    r#"<BladeStateResponse><x><completionCode>Success</completionCode><bladeState>ON</bladeState></x></BladeStateResponse>"#,
    r#"<BootResponse><completionCode>Success</completionCode><nextBoot>ForcePxe</nextBoot><bladeNumber>99999999999</bladeNumber></BootResponse>"#,
    r#"<PowerStateResponse><completionCode>Success</completionCode><Decompression>3</Decompression><powerState>OnFwDecompress</powerState></PowerStateResponse>"#,
    r#"<BladeResponse><completionCode>Success</completionCode></BladeResponse><x/>"#,
    r#"<BladeResponse><completionCode>Success</completionCode></BladeResponse"#,
    r#"<BladeResponse xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><completionCode i:nil="1">Success</completionCode></BladeResponse>"#,
];

#[test]
fn streamed_equals_tree_on_every_fixture_and_edge() {
    for name in FIXTURES {
        all_same(&fixture(name)).unwrap();
    }
    for edge in EDGES {
        all_same(edge.as_bytes()).unwrap();
    }
    // The fixtures decode, through the streamed path, to what they hold.
    let state = BladeStateResponse::decode(&fixture("ironic_BladeStateResponse.xml")).unwrap();
    assert_eq!(state.blade_state, BladeState::On);
    assert_eq!(state.blade_number, Some(1));
}

/// One field element as a chassis manager (or a broken one) might write it.
fn field() -> impl Strategy<Value = String> {
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
        Just(String::new()),
        Just("Success".to_owned()),
        Just("Failure".to_owned()),
        Just("ON".to_owned()),
        Just(" OFF ".to_owned()),
        Just("ForcePxe".to_owned()),
        Just("7".to_owned()),
        Just("-1".to_owned()),
        Just("aGk=".to_owned()),
        Just("a<!--c-->b".to_owned()),
        Just("<![CDATA[ON]]>".to_owned()),
        Just("&amp;&#65;".to_owned()),
        Just("O<k>x</k>N".to_owned()),
        "[ -~]{0,6}".prop_map(|s| s.replace(['<', '&'], "")),
    ];
    let prefix = prop_oneof![Just(""), Just("a:"), Just("o:")];
    let nil = prop_oneof![
        Just(""),
        Just(r#" i:nil="true""#),
        Just(r#" i:nil="false""#),
        Just(r#" xmlns="urn:o""#),
        Just(r#" xmlns="""#),
    ];
    (name, text, prefix, nil, any::<bool>()).prop_map(|(name, text, prefix, nil, empty)| {
        if empty {
            format!("<{prefix}{name}{nil}/>")
        } else {
            format!("<{prefix}{name}{nil}>{text}</{prefix}{name}>")
        }
    })
}

fn reply() -> impl Strategy<Value = String> {
    let root = prop_oneof![
        Just("BladeResponse"),
        Just("BladeStateResponse"),
        Just("BootResponse"),
        Just("PowerStateResponse"),
        Just("StartSerialResponse"),
        Just("SerialDataResponse"),
        Just("ChassisResponse"),
        Just("Other"),
    ];
    let sep = prop_oneof![Just(""), Just("\n  "), Just("<!-- c -->"), Just("x")];
    (
        root,
        any::<bool>(),
        proptest::collection::vec((field(), sep), 0..9),
    )
        .prop_map(|(root, prefixed, fields)| {
            let p = if prefixed { "a:" } else { "" };
            let mut s = format!(
                r#"<{p}{root} xmlns="{NAMESPACE}" xmlns:a="{NAMESPACE}" xmlns:o="urn:o" xmlns:i="{XSI_NAMESPACE}">"#
            );
            for (f, sep) in fields {
                s.push_str(&f);
                s.push_str(sep);
            }
            s.push_str(&format!("</{p}{root}>"));
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn streamed_equals_tree_on_generated_replies(s in reply()) {
        if let Err(e) = all_same(s.as_bytes()) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn streamed_equals_tree_on_xmlish_text(
        s in r#"(<[/!?]?[a-zA-Z:]{0,6}( [a-z:]{1,6}="[^"]{0,8}")?/?>|[^<]{0,6}|&[a-z#0-9]{0,5};?|<!\[CDATA\[[a-z<]{0,4}\]\]>){0,30}"#
    ) {
        if let Err(e) = all_same(s.as_bytes()) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn streamed_equals_tree_on_mutated_replies(
        which in 0usize..(FIXTURES.len() + EDGES.len()),
        cut in 0usize..1400, at in 0usize..1400, byte in any::<u8>()
    ) {
        let mut b = match FIXTURES.get(which) {
            Some(name) => fixture(name),
            None => EDGES[which - FIXTURES.len()].as_bytes().to_vec(),
        };
        if at < b.len() { b[at] = byte; }
        b.truncate(cut.min(b.len()));
        if let Err(e) = all_same(&b) {
            prop_assert!(false, "{}", e);
        }
    }
}
