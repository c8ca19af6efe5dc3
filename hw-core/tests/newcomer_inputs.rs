//! Newcomer reports (an orchestrator building nodes from Ironic `driver_info`
//! through the registry): an address of the wrong JSON type, a wrong type on a
//! required key, a port written in an address, an unknown hardware type name.
#![allow(clippy::unwrap_used)]

use hwctl_core::address::Host;
use hwctl_core::{
    DriverInfo, Error, ErrorKind, HardwareType, NodeContext, Property, Registry, fake,
};
use serde_json::json;

const SCHEMA: &[Property] = &[
    Property::required("a_address", "Address."),
    Property::required("a_password", "Password.").secret(),
    Property::optional("a_port", "Port.").default_value("623"),
];

#[test]
fn a_required_key_of_the_wrong_type_is_one_invalid_problem_not_also_missing() {
    for (value, what) in [
        (json!(["https://bmc"]), "an array"),
        (json!({"a": 1}), "an object"),
    ] {
        let info =
            DriverInfo::from_json(json!({"a_address": value, "a_password": ["pw"]})).unwrap();
        let mut v = info.validator(SCHEMA);
        // Every text getter, as drivers read them: nothing is added twice.
        assert_eq!(v.str("a_address"), None);
        assert_eq!(v.host("a_address"), None);
        assert_eq!(v.url("a_address", "https", &["https"]), None);
        assert!(v.secret("a_password").is_none());
        v.missing("a_address");
        let err = v.finish().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        let got: Vec<_> = err
            .problems()
            .iter()
            .map(|p| (p.name.as_str(), p.reason.clone()))
            .collect();
        let reason = Some(format!("must be a string, not {what}"));
        assert_eq!(
            got,
            [
                ("a_address", reason.clone()),
                (
                    "a_password",
                    Some("must be a string, not an array".to_owned())
                )
            ]
        );
        assert!(!err.to_string().contains("missing"), "{err}");
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}

#[test]
fn an_address_or_url_of_a_number_or_boolean_is_refused_not_read_as_text() {
    for (value, what) in [
        (json!(42), "a number"),
        (json!(3.5), "a number"),
        (json!(-1), "a number"),
        (json!(true), "a boolean"),
    ] {
        let info =
            DriverInfo::from_json(json!({"a_address": value.clone(), "a_password": "p"})).unwrap();
        for read in [0, 1] {
            let mut v = info.validator(SCHEMA);
            let got = match read {
                0 => v.host("a_address"),
                _ => v.url("a_address", "https", &["https"]).map(String::from),
            };
            assert_eq!(got, None, "{value}");
            // Read again, as hwctl-http does: still one problem.
            let _ = v.url("a_address", "https", &["https"]);
            let err = v.finish().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidParameter);
            assert_eq!(
                err.to_string(),
                format!("invalid parameters: a_address: must be a string, not {what}")
            );
        }
    }
    // Ironic's numbers stay numbers where a number is meant.
    let info = DriverInfo::from_json(json!({"a_address": "10.0.0.5", "a_port": 623})).unwrap();
    let mut v = info.validator(&[]);
    assert_eq!(v.port("a_port"), Some(623));
    assert_eq!(v.host("a_address").as_deref(), Some("10.0.0.5"));
    assert!(v.finish().is_ok());
}

#[test]
fn a_port_written_in_the_address_is_named_as_a_port() {
    for (with_port, port) in [
        ("10.0.0.1:623", "623"),
        ("bmc-1.lab:6230", "6230"),
        ("[fe80::1%eth0]:623", "623"),
        ("[::1]:443", "443"),
        (" 10.0.0.1:623 ", "623"),
    ] {
        let why = Host::parse(with_port).unwrap_err();
        assert_eq!(
            why,
            format!(
                "has a port ({port}); an address has no port here: give the port in its own key"
            ),
            "{with_port}"
        );
    }
    // Not a port: IPv6 without brackets, and what is no number.
    assert!(Host::parse("fe80::623").is_ok());
    assert!(Host::parse("::623").is_ok());
    assert!(
        Host::parse("10.0.0.1:x")
            .unwrap_err()
            .starts_with("is not a valid IPv6")
    );
}

#[test]
fn an_unknown_hardware_type_is_an_input_error_with_a_suggestion() {
    let mut r = Registry::new();
    r.register(fake::hardware_type());
    for (name, close) in [
        ("FAKE-HARDWARE", Some("fake-hardware")),
        ("Fake-Hardware", Some("fake-hardware")),
        ("fake-hardwre", Some("fake-hardware")),
        ("hardware", Some("fake-hardware")),
        ("zzzz", None),
        ("", None),
    ] {
        let e = r
            .build(name, &DriverInfo::new(), &NodeContext::new("n"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{name}");
        assert!(e.kind().is_input_error());
        assert_eq!(e.problems().len(), 1);
        assert_eq!(e.problems()[0].name, "driver");
        let text = e.to_string();
        assert!(
            text.contains(&format!("no hardware type {name:?}")),
            "{text}"
        );
        assert!(text.contains("(enabled: fake-hardware)"), "{text}");
        match close {
            Some(c) => assert!(text.ends_with(&format!("; did you mean `{c}`?")), "{text}"),
            None => assert!(!text.contains("did you mean"), "{text}"),
        }
    }
    // A case-only difference suggests the registered spelling, among several.
    r.register(HardwareType::new("ipmi", "x", [], vec![], |_, _| {
        Err(Error::protocol("not built"))
    }));
    r.register(HardwareType::new(
        "staging-iboot",
        "x",
        [],
        vec![],
        |_, _| Err(Error::protocol("not built")),
    ));
    for (name, close) in [
        ("IPMI", "ipmi"),
        ("ipmitool", "ipmi"),
        ("iboot", "staging-iboot"),
    ] {
        let e = r.get(name).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(&format!("; did you mean `{close}`?")),
            "{name}: {e}"
        );
    }
    assert!(
        r.default_boot_interface("IPMI")
            .unwrap_err()
            .kind()
            .is_input_error()
    );
}

#[test]
fn a_url_host_written_as_a_shorthand_ipv4_is_refused() {
    for (raw, read_as) in [
        ("42", "0.0.0.42"),
        ("https://3.5", "3.0.0.5"),
        ("https://10.1:8443/redfish", "10.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
    ] {
        let info = DriverInfo::from_pairs([("a_address", raw)]);
        let mut v = info.validator(&[]);
        assert_eq!(v.url("a_address", "https", &["https"]), None, "{raw}");
        let err = v.finish().unwrap_err();
        assert!(
            err.to_string()
                .contains("which is not a valid IPv4 address (four numbers"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("it would be read as {read_as})")),
            "{err}"
        );
    }
    for ok in [
        "10.0.0.5",
        "https://10.0.0.5:8443/redfish/v1",
        "http://[::1]:8000",
        "https://bmc-1.lab",
        "https://10.0.0.5?x#y",
    ] {
        let info = DriverInfo::from_pairs([("a_address", ok)]);
        let mut v = info.validator(&[]);
        assert!(
            v.url("a_address", "https", &["http", "https"]).is_some(),
            "{ok}"
        );
    }
}
