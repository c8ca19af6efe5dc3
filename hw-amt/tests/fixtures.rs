//! Every fixture in `tests/fixtures/` decoded, with its values asserted; our request
//! bodies compared element by element with MAAS's templates; our Put compared with
//! go-wsman-messages' own Put request.
#![allow(clippy::unwrap_used)]

use hwctl_amt::errors::check_return_value;
use hwctl_amt::wire::{
    self, AssociatedPowerManagementService, BootSource, Element, Envelope, NS_ADDRESSING, NS_SOAP,
    NS_WSMAN, class,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn reply(name: &str) -> wire::RawAmtReply {
    wire::parse_reply(&fixture(name)).unwrap()
}

const AMT_PM: &str = class::ASSOCIATED_POWER_MANAGEMENT_SERVICE;

#[test]
fn availabletoelement_pull_holds_the_power_state_and_what_may_be_requested() {
    let r = reply("gowsman_cim_service_availabletoelement_pull.xml");
    assert_eq!(
        r.action,
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse"
    );
    assert_eq!(r.relates_to, "1");
    let page = wire::enumeration_page(&r).unwrap();
    assert!(page.end_of_sequence);
    assert_eq!(page.context, None);
    assert_eq!(page.items.len(), 1);
    let s = AssociatedPowerManagementService::decode(&page.items[0]).unwrap();
    assert_eq!(s.power_state, 2);
    assert_eq!(
        s.available_requested_power_states,
        [10, 8, 5, 11, 4, 7, 14, 12]
    );
    assert_eq!(
        hwctl_amt::power::power_state_of(s.power_state),
        hwctl_core::PowerState::On
    );
    // The EPRs inside are kept: the service provided names its selectors.
    let sp = page.items[0].child(AMT_PM, "ServiceProvided").unwrap();
    let sel: Vec<_> = sp
        .find(NS_WSMAN, "SelectorSet")
        .unwrap()
        .children
        .iter()
        .map(|c| (c.attribute("Name").unwrap(), c.text.as_str()))
        .collect();
    assert_eq!(
        sel,
        [
            ("CreationClassName", "CIM_PowerManagementService"),
            ("Name", "Intel(r) AMT Power Management Service"),
            ("SystemCreationClassName", "CIM_ComputerSystem"),
            ("SystemName", "Intel(r) AMT"),
        ]
    );
}

#[test]
fn availabletoelement_enumerate_gives_a_context() {
    let r = reply("gowsman_cim_service_availabletoelement_enumerate.xml");
    let page = wire::enumeration_page(&r).unwrap();
    assert_eq!(
        page.context.as_deref(),
        Some("DD020000-0000-0000-0000-000000000000")
    );
    assert!(!page.end_of_sequence);
    assert!(page.items.is_empty());
}

#[test]
fn return_values_of_the_three_invokes_are_zero() {
    for (f, method) in [
        (
            "gowsman_cim_power_managementservice_requestpowerstatechange.xml",
            "RequestPowerStateChange",
        ),
        (
            "gowsman_cim_boot_configsetting_changebootorder.xml",
            "ChangeBootOrder",
        ),
        (
            "gowsman_cim_boot_service_setbootconfigrole.xml",
            "SetBootConfigRole",
        ),
    ] {
        let r = reply(f);
        // go-wsman's SetBootConfigRole reply names the request action, not
        // `…Response`: the action is not relied on.
        assert!(r.action.contains(&format!("/{method}")), "{}", r.action);
        assert_eq!(r.return_value().unwrap(), 0, "{f}");
        check_return_value(method, 0).unwrap();
        assert_eq!(r.instance().unwrap().name, format!("{method}_OUTPUT"));
    }
}

fn props(name: &str) -> Vec<(String, String)> {
    wire::properties(reply(name).instance().unwrap())
}

fn prop<'a>(p: &'a [(String, String)], k: &str) -> &'a str {
    p.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[test]
fn gets_decode_their_instances() {
    let pm = props("gowsman_cim_power_managementservice_get.xml");
    assert_eq!(prop(&pm, "Name"), "Intel(r) AMT Power Management Service");
    assert_eq!(prop(&pm, "EnabledState"), "5");
    assert_eq!(prop(&pm, "RequestedState"), "12");
    assert_eq!(prop(&pm, "SystemName"), "Intel(r) AMT");

    let bs = props("gowsman_cim_boot_service_get.xml");
    assert_eq!(prop(&bs, "Name"), wire::BOOT_SERVICE_NAME);
    assert_eq!(prop(&bs, "EnabledState"), "2");
    assert_eq!(prop(&bs, "OperationalStatus"), "0");

    let cs = props("gowsman_cim_boot_configsetting_get.xml");
    assert_eq!(prop(&cs, "InstanceID"), wire::BOOT_CONFIGURATION_0);
    assert_eq!(prop(&cs, "ElementName"), "Intel(r) AMT: Boot Configuration");

    let sd = props("gowsman_amt_boot_settingdata_get.xml");
    assert_eq!(prop(&sd, "InstanceID"), wire::BOOT_SETTING_DATA_0);
    assert_eq!(prop(&sd, "BIOSSetup"), "false");
    assert_eq!(prop(&sd, "BootguardStatus"), "127");
    assert_eq!(prop(&sd, "UEFIHTTPSBootEnabled"), "true");
    assert_eq!(prop(&sd, "RSEPassword"), "");
    assert_eq!(sd.iter().filter(|(k, _)| k == "BIOSLastStatus").count(), 2);
    assert_eq!(sd.len(), 33);

    let cap = props("gowsman_amt_boot_capabilities_get.xml");
    for k in [
        "BIOSSetup",
        "ForcePXEBoot",
        "ForceHardDriveBoot",
        "ForceCDorDVDBoot",
        "SOL",
        "IDER",
    ] {
        assert_eq!(prop(&cap, k), "true", "{k}");
    }
    assert_eq!(prop(&cap, "ForceDiagnosticBoot"), "false");
    assert_eq!(prop(&cap, "InstanceID"), "Intel(r) AMT:BootCapabilities 0");
}

#[test]
fn boot_source_pull_lists_the_three_sources() {
    let r = reply("gowsman_cim_boot_sourcesetting_pull.xml");
    let page = wire::enumeration_page(&r).unwrap();
    assert!(page.end_of_sequence);
    let ids: Vec<_> = page
        .items
        .iter()
        .map(|i| {
            i.child_text(class::BOOT_SOURCE_SETTING, "InstanceID")
                .unwrap()
        })
        .collect();
    assert_eq!(
        ids,
        [
            BootSource::HardDrive.instance_id(),
            BootSource::Pxe.instance_id(),
            BootSource::CdDvd.instance_id()
        ]
    );
    let strings: Vec<_> = page
        .items
        .iter()
        .map(|i| {
            i.child_text(class::BOOT_SOURCE_SETTING, "StructuredBootString")
                .unwrap()
        })
        .collect();
    assert_eq!(
        strings,
        ["CIM:Hard-Disk:1", "CIM:Network:1", "CIM:CD/DVD:1"]
    );
}

/// Compares two trees: namespace + local name, attributes by local name (namespace
/// declarations ignored), trimmed text, children in order.
fn same(a: &Element, b: &Element, path: &str) {
    let here = format!("{path}/{}", a.name);
    assert_eq!((&a.ns, &a.name), (&b.ns, &b.name), "at {here}");
    let attrs = |e: &Element| {
        let mut v: Vec<_> = e
            .attributes
            .iter()
            .map(|(_, n, v)| (n.clone(), v.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(attrs(a), attrs(b), "attributes at {here}");
    assert_eq!(a.text.trim(), b.text.trim(), "text at {here}");
    assert_eq!(
        a.children.len(),
        b.children.len(),
        "children at {here}: {:?} vs {:?}",
        a.children.iter().map(|c| &c.name).collect::<Vec<_>>(),
        b.children.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    for (x, y) in a.children.iter().zip(&b.children) {
        same(x, y, &here);
    }
}

fn our_body(req: &wire::WsmanRequest) -> Element {
    let env = wire::xml::parse(&req.to_xml()).unwrap();
    env.child(NS_SOAP, "Body").unwrap().children[0].clone()
}

fn maas(name: &str, fill_power_state: Option<&str>) -> Element {
    let mut text = String::from_utf8(fixture(name)).unwrap();
    if let Some(s) = fill_power_state {
        text = text.replace(
            "<p:PowerState></p:PowerState>",
            &format!("<p:PowerState>{s}</p:PowerState>"),
        );
    }
    wire::xml::parse(text.as_bytes()).unwrap()
}

#[test]
fn our_bodies_are_maas_templates_element_by_element() {
    for (state, s) in [(2u16, "2"), (8, "8"), (10, "10")] {
        same(
            &our_body(&wire::request_power_state_change(state)),
            &maas("maas_amt.wsman-state.xml", Some(s)),
            "",
        );
    }
    same(
        &our_body(&wire::change_boot_order(Some(BootSource::Pxe))),
        &maas("maas_amt.wsman-pxe.xml", None),
        "",
    );
    same(
        &our_body(&wire::set_boot_config_role()),
        &maas("maas_amt.wsman-boot-config.xml", None),
        "",
    );
}

#[test]
fn our_put_is_go_wsman_messages_put_request() {
    // gowsman_amt_boot_settingdata_put.xml is Intel's own Put request envelope.
    let theirs = wire::xml::parse(&fixture("gowsman_amt_boot_settingdata_put.xml")).unwrap();
    let header = theirs.child(NS_SOAP, "Header").unwrap();
    assert_eq!(
        header.child_text(NS_ADDRESSING, "Action"),
        Some(wire::ACTION_PUT)
    );
    let instance = &theirs.child(NS_SOAP, "Body").unwrap().children[0];
    let fields = wire::properties(instance);
    assert_eq!(prop(&fields, "RPEEnabled"), "false");
    let ours = wire::put_boot_setting_data(&fields).message_id(1);
    let ours_env = wire::xml::parse(&ours.to_xml()).unwrap();
    same(&ours_env, &theirs, "");
}

#[test]
fn envelopes_parse_as_replies_whatever_the_prefixes() {
    for f in std::fs::read_dir(format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("gowsman_") {
            continue;
        }
        match wire::parse_envelope(&std::fs::read(&p).unwrap()).unwrap() {
            Envelope::Reply(r) => assert!(!r.body.children.is_empty(), "{name}"),
            Envelope::Fault(f) => panic!("{name}: {f:?}"),
        }
    }
}
