//! Every request envelope we send, compared element by element (action, resource
//! URI, selectors, body) with the one Intel's own generator produces for the same
//! call (npm `@open-amt-cloud-toolkit/wsman-messages`, installed into
//! `<workspace>/.npm-peers` by `scripts/deps.sh`).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

use hwctl_amt::wire::{self, BootSource, Element, NS_ADDRESSING, NS_SOAP, NS_WSMAN, class};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn golden() -> Option<serde_json::Map<String, serde_json::Value>> {
    let modules =
        workspace().join(".npm-peers/node_modules/@open-amt-cloud-toolkit/wsman-messages");
    let found = hwctl_sim::testkit::program_installed("node") && modules.exists();
    if !hwctl_sim::testkit::require_peer("npm @open-amt-cloud-toolkit/wsman-messages", found) {
        return None;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/golden.js");
    let o = Command::new("node")
        .arg(script)
        .env("NODE_PATH", workspace().join(".npm-peers/node_modules"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

/// (action, resource URI, selectors, body)
fn parts(xml: &[u8]) -> (String, String, Vec<(String, String)>, Element) {
    let env = wire::xml::parse(xml).unwrap();
    let h = env.child(NS_SOAP, "Header").unwrap();
    let sel = h
        .child(NS_WSMAN, "SelectorSet")
        .map(|s| {
            s.children
                .iter()
                .map(|c| (c.attribute("Name").unwrap_or("").to_owned(), c.text.clone()))
                .collect()
        })
        .unwrap_or_default();
    (
        h.child_text(NS_ADDRESSING, "Action")
            .unwrap_or("")
            .to_owned(),
        h.child_text(NS_WSMAN, "ResourceURI")
            .unwrap_or("")
            .to_owned(),
        sel,
        env.child(NS_SOAP, "Body").unwrap().clone(),
    )
}

/// Element by element; an EPR `Address` is the one known difference (Intel writes
/// the addressing namespace, the staging driver and MAAS the anonymous role).
fn same(ours: &Element, theirs: &Element, path: &str) {
    let here = format!("{path}/{}", ours.name);
    assert_eq!(
        (&ours.ns, &ours.name),
        (&theirs.ns, &theirs.name),
        "at {here}"
    );
    if ours.is(NS_ADDRESSING, "Address") {
        assert_eq!(ours.text, wire::ANONYMOUS, "at {here}");
        assert_eq!(theirs.text, NS_ADDRESSING, "at {here}");
    } else {
        assert_eq!(ours.text.trim(), theirs.text.trim(), "text at {here}");
    }
    let attrs = |e: &Element| {
        let mut v: Vec<_> = e
            .attributes
            .iter()
            .map(|(_, n, v)| (n.clone(), v.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(attrs(ours), attrs(theirs), "attributes at {here}");
    assert_eq!(
        ours.children.len(),
        theirs.children.len(),
        "children at {here}"
    );
    for (a, b) in ours.children.iter().zip(&theirs.children) {
        same(a, b, &here);
    }
}

#[test]
fn our_envelopes_are_intels_element_by_element() {
    let Some(g) = golden() else { return };
    let theirs = |k: &str| g[k].as_str().unwrap().as_bytes().to_vec();
    let mut cases: Vec<(String, wire::WsmanRequest)> = Vec::new();
    for s in [2u16, 8, 12, 10, 14, 5] {
        cases.push((
            format!("RequestPowerStateChange_{s}"),
            wire::request_power_state_change(s),
        ));
    }
    cases.push((
        "ChangeBootOrder_pxe".into(),
        wire::change_boot_order(Some(BootSource::Pxe)),
    ));
    cases.push((
        "ChangeBootOrder_disk".into(),
        wire::change_boot_order(Some(BootSource::HardDrive)),
    ));
    cases.push((
        "ChangeBootOrder_cdrom".into(),
        wire::change_boot_order(Some(BootSource::CdDvd)),
    ));
    cases.push((
        "ChangeBootOrder_clear".into(),
        wire::change_boot_order(None),
    ));
    cases.push(("SetBootConfigRole".into(), wire::set_boot_config_role()));
    cases.push((
        "Get_BootSettingData".into(),
        wire::WsmanRequest::get(class::BOOT_SETTING_DATA),
    ));
    cases.push((
        "Enumerate_BootSourceSetting".into(),
        wire::WsmanRequest::enumerate(class::BOOT_SOURCE_SETTING, false),
    ));
    cases.push((
        "Pull_BootSourceSetting".into(),
        wire::WsmanRequest::pull(
            class::BOOT_SOURCE_SETTING,
            "DD020000-0000-0000-0000-000000000000",
        ),
    ));
    for (name, req) in cases {
        let (a1, r1, s1, b1) = parts(&req.to_xml());
        let (a2, r2, s2, b2) = parts(&theirs(&name));
        assert_eq!(a1, a2, "{name}: action");
        assert_eq!(r1, r2, "{name}: resource URI");
        assert_eq!(s1, s2, "{name}: selectors");
        same(&b1, &b2, &name);
    }
}
