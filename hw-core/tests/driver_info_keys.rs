//! Issue 15: unknown keys in a driver's namespace are errors with a "did you mean";
//! Ironic's generic keys pass; Ironic's masked secrets and the keys a driver
//! refuses are reported; `force_persistent_boot_device` reaches every boot device
//! set through a node built by a hardware type.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hwctl_core::driver_info::{GENERIC_KEYS, IRONIC_MASK};
use hwctl_core::fake::FakeManagement;
use hwctl_core::{
    BootDevice, BootPersistence, DriverInfo, ErrorKind, HardwareType, InterfaceKind, Node,
    NodeContext, Property, Registry,
};
use serde_json::json;

const IBOOT: &[Property] = &[
    Property::required("iboot_address", "Address."),
    Property::required("iboot_username", "User."),
    Property::required("iboot_password", "Password.").secret(),
    Property::optional("iboot_relay_id", "Relay.").default_value("1"),
    Property::optional("iboot_port", "Port.").default_value("9100"),
];

fn iboot(extra: serde_json::Value) -> DriverInfo {
    let mut info =
        json!({"iboot_address": "10.0.0.5", "iboot_username": "admin", "iboot_password": "pw"});
    for (k, v) in extra.as_object().unwrap() {
        info[k] = v.clone();
    }
    DriverInfo::from_json(info).unwrap()
}

fn problems(info: &DriverInfo, schema: &[Property]) -> Vec<(String, String)> {
    match info.validator(schema).finish() {
        Ok(()) => Vec::new(),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| (p.name.clone(), p.reason.clone().unwrap_or_default()))
            .collect(),
    }
}

#[test]
fn a_misspelled_key_in_the_namespace_is_refused_with_a_suggestion() {
    let got = problems(&iboot(json!({"iboot_relayid": "3"})), IBOOT);
    assert_eq!(
        got,
        [(
            "iboot_relayid".to_owned(),
            "is not a known key (did you mean iboot_relay_id?)".to_owned()
        )]
    );
    const IPMI: &[Property] = &[
        Property::required("ipmi_address", "."),
        Property::optional("ipmi_password", ".").secret(),
        Property::optional("ipmi_port", "."),
    ];
    let info = DriverInfo::from_pairs([("ipmi_address", "h"), ("ipmi_passwrod", "S3cret!")]);
    let err = info.validator(IPMI).finish().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert!(
        err.to_string()
            .contains("ipmi_passwrod: is not a known key (did you mean ipmi_password?)"),
        "{err}"
    );
    // The value of a misspelled password is never shown.
    assert!(!format!("{err} {err:?}").contains("S3cret!"));
    // Case does not hide a key from its namespace.
    let got = problems(&iboot(json!({"IBOOT_PORT": "9100"})), IBOOT);
    assert_eq!(got[0].1, "is not a known key (did you mean iboot_port?)");
    // A short unknown key is not "close" to every key of its namespace because of
    // the shared prefix: the keys are listed, not a wrong guess.
    let got = problems(&iboot(json!({"iboot_zzz": "1"})), IBOOT);
    assert!(!got[0].1.contains("did you mean"), "{}", got[0].1);
    assert!(got[0].1.contains("iboot_port"), "{}", got[0].1);
    // Nothing close: the namespace's keys are listed instead.
    let got = problems(&iboot(json!({"iboot_zzzzzzzzzz": "1"})), IBOOT);
    assert!(
        got[0]
            .1
            .starts_with("is not a known key (known iboot_* keys: iboot_address, ")
    );
}

#[test]
fn generic_other_namespace_and_read_keys_pass() {
    let mut extra = serde_json::Map::new();
    for k in GENERIC_KEYS {
        extra.insert((*k).to_owned(), json!("x"));
    }
    // Another driver's keys are not this driver's business.
    extra.insert("ipmi_address".into(), json!("10.0.0.6"));
    extra.insert("redfish_address".into(), json!("https://bmc"));
    let info = iboot(serde_json::Value::Object(extra));
    assert_eq!(problems(&info, IBOOT), []);
    // A key the driver reads through the validator is known, listed or not.
    let info = iboot(json!({"iboot_extra_knob": "1"}));
    let mut v = info.validator(IBOOT);
    let _ = v.str("iboot_extra_knob");
    assert!(v.finish().is_ok());
    let mut v = info.validator(IBOOT);
    v.known("iboot_extra_knob");
    assert!(v.finish().is_ok());
    // No schema, no namespace: nothing is unknown.
    assert!(info.validator(&[]).finish().is_ok());
}

#[test]
fn unknown_keys_are_reported_with_the_other_problems() {
    let info = DriverInfo::from_pairs([("iboot_adress", "10.0.0.5"), ("iboot_port", "0")]);
    let mut v = info.validator(IBOOT);
    let _ = v.port("iboot_port");
    let err = v.finish().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingParameter);
    let names: Vec<&str> = err.problems().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "iboot_address",
            "iboot_username",
            "iboot_password",
            "iboot_port",
            "iboot_adress"
        ]
    );
    assert!(
        err.to_string().contains("did you mean iboot_address?"),
        "{err}"
    );
}

#[test]
fn namespaces_are_derived_and_may_be_named() {
    let info = DriverInfo::from_pairs([("sasl_usernme", "u"), ("libvirt_uri", "test:///default")]);
    const LIBVIRT: &[Property] = &[
        Property::optional("libvirt_uri", "."),
        Property::optional("sasl_username", "."),
        Property::optional("sasl_password", ".").secret(),
    ];
    let v = info.validator(LIBVIRT);
    assert_eq!(v.namespaces(), ["libvirt_", "sasl_"]);
    assert!(
        v.finish()
            .unwrap_err()
            .to_string()
            .contains("did you mean sasl_username?")
    );
    // Narrowed to libvirt_: the sasl_ typo is no longer this validator's business.
    assert!(
        info.validator(LIBVIRT)
            .with_namespaces(&["libvirt_"])
            .finish()
            .is_ok()
    );
}

#[test]
fn ironic_masked_secrets_are_refused_saying_to_supply_them_another_way() {
    let info = iboot(json!({"iboot_password": IRONIC_MASK}));
    let mut v = info.validator(IBOOT);
    // Never handed to the driver as a password.
    assert!(v.secret("iboot_password").is_none());
    let err = v.finish().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert_eq!(err.problems()[0].name, "iboot_password");
    let text = err.to_string();
    assert!(text.contains("the export has no secret"), "{text}");
    assert!(text.contains("supply the secret another way"), "{text}");
    // A non-secret key holding six stars is just a value.
    let info = iboot(json!({"iboot_username": IRONIC_MASK}));
    assert!(info.validator(IBOOT).finish().is_ok());
}

#[test]
fn refused_properties_are_reported_when_set_only() {
    const P: &[Property] = &[
        Property::required("redfish_address", "."),
        Property::optional("redfish_tls_ciphers", "OpenSSL cipher list.")
            .refused("there is no OpenSSL here; remove the key"),
    ];
    let ok = DriverInfo::from_pairs([("redfish_address", "h")]);
    assert!(ok.validator(P).finish().is_ok());
    let bad = DriverInfo::from_pairs([("redfish_address", "h"), ("redfish_tls_ciphers", "HIGH")]);
    let err = bad.validator(P).finish().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid parameters: redfish_tls_ciphers: is not supported: there is no OpenSSL here; remove the key"
    );
    // Listed as a property (so `hwctl properties` shows it), with its reason.
    let shown = serde_json::to_value(&P[1]).unwrap();
    assert_eq!(shown["refused"], "there is no OpenSSL here; remove the key");
    assert!(shown.get("unused").is_none());
}

/// An Ironic key hw has no use for (the console proxy port of a node Ironic gave
/// a console) passes, whatever its value, and is listed with its reason; a typo
/// of it is still a typo.
#[test]
fn unused_properties_pass_and_are_listed_with_their_reason() {
    const P: &[Property] = &[
        Property::required("ipmi_address", "."),
        Property::optional("ipmi_terminal_port", "Console proxy port.")
            .unused("hw speaks Serial over LAN itself; no proxy listens on that port"),
    ];
    for value in [json!("8023"), json!(8023), json!("")] {
        let info = DriverInfo::from_json(json!({"ipmi_address": "h", "ipmi_terminal_port": value}))
            .unwrap();
        assert!(info.validator(P).finish().is_ok(), "{value}");
    }
    let shown = serde_json::to_value(&P[1]).unwrap();
    assert_eq!(
        shown["unused"],
        "hw speaks Serial over LAN itself; no proxy listens on that port"
    );
    assert!(shown.get("refused").is_none());
    let typo = DriverInfo::from_pairs([("ipmi_address", "h"), ("ipmi_terminal_prot", "8023")]);
    let err = typo.validator(P).finish().unwrap_err();
    assert!(
        err.to_string().contains("did you mean ipmi_terminal_port?"),
        "{err}"
    );
}

fn fake_type() -> HardwareType {
    const PROPS: &[Property] = &[Property::optional("fake_knob", "A knob.")];
    HardwareType::new(
        "fakey",
        "Fake.",
        [InterfaceKind::Management],
        PROPS.to_vec(),
        |info, ctx| {
            let mut v = info.validator(PROPS);
            let _ = v.str("fake_knob");
            v.finish()?;
            Ok(
                Node::new("fakey", ctx.clone())
                    .with_management(Arc::new(FakeManagement::default())),
            )
        },
    )
}

async fn persistent_after(value: Option<&str>, asked: bool) -> Option<bool> {
    let mut r = Registry::new();
    r.register(fake_type());
    let mut info = DriverInfo::new();
    if let Some(v) = value {
        info.insert("force_persistent_boot_device", v);
    }
    let node = r.build("fakey", &info, &NodeContext::new("n")).unwrap();
    let m = node.management().unwrap();
    m.set_boot_device(BootDevice::Pxe, asked).await.unwrap();
    m.get_boot_device().await.unwrap().persistent
}

#[tokio::test]
async fn force_persistent_boot_device_has_ironics_meaning() {
    for (value, asked, sent) in [
        (None, false, false),
        (None, true, true),
        (Some("Default"), false, false),
        (Some("Default"), true, true),
        (Some("Always"), false, true),
        (Some("Always"), true, true),
        (Some("Never"), true, false),
        (Some("Never"), false, false),
        // Ironic's deprecated booleans: true = Always, false = Default.
        (Some("True"), false, true),
        (Some("False"), true, true),
    ] {
        assert_eq!(
            persistent_after(value, asked).await,
            Some(sent),
            "{value:?} asked {asked}"
        );
    }
}

#[test]
fn a_bad_force_persistent_boot_device_is_reported_with_the_drivers_problems() {
    let mut r = Registry::new();
    r.register(fake_type());
    let info =
        DriverInfo::from_pairs([("force_persistent_boot_device", "Nevr"), ("fake_knb", "1")]);
    let err = r.build("fakey", &info, &NodeContext::new("n")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    let names: Vec<&str> = err.problems().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["fake_knb", "force_persistent_boot_device"], "{err}");
    assert_eq!(err.driver(), Some("fakey"));
    assert_eq!(
        BootPersistence::from_driver_info(&DriverInfo::from_pairs([(
            "force_persistent_boot_device",
            "ALWAYS"
        )]))
        .unwrap(),
        BootPersistence::Always
    );
}

#[test]
fn a_misspelled_boot_interface_key_is_reported_by_the_registry() {
    let mut r = Registry::new();
    r.register(fake_type().with_boot_interfaces(["pxe"]));
    const PXE: &[Property] = &[
        Property::optional("deploy_kernel", "."),
        Property::optional("deploy_ramdisk", "."),
    ];
    r.register_boot_interface(hwctl_core::BootInterface::new(
        "pxe",
        "PXE.",
        PXE.to_vec(),
        |b| {
            Ok(Arc::new(hwctl_core::fake::FakeBoot::new(
                b.management.clone(),
            )))
        },
    ));
    let info = DriverInfo::from_pairs([
        ("deploy_kernal", "http://x/k"),
        ("deploy_ramdisk", "http://x/r"),
    ]);
    let err = r.build("fakey", &info, &NodeContext::new("n")).unwrap_err();
    assert!(
        err.to_string()
            .contains("deploy_kernal: is not a known key (did you mean deploy_kernel?)"),
        "{err}"
    );
    let info = DriverInfo::from_pairs([
        ("deploy_kernel", "http://x/k"),
        ("deploy_iso", "http://x/i"),
    ]);
    assert!(r.build("fakey", &info, &NodeContext::new("n")).is_ok());
}
