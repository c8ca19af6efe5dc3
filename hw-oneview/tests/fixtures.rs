//! Every fixture decoded by the wire types, with its values asserted.
#![allow(clippy::unwrap_used)]

use hwctl_core::power::PowerAction;
use hwctl_core::{BootDevice, DriverInfo, ExposeSecret, NodeContext, PowerState};
use hwctl_oneview::config::parse_capabilities;
use hwctl_oneview::wire::{
    self, Collection, OneviewErrorBody, PortMap, ServerHardware, ServerProfile,
    ServerProfileTemplate, Task, TaskStatus, Utilization,
};
use hwctl_sim::testkit::read_fixture;
use serde_json::{Value, json};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn fx(rel: &str) -> Vec<u8> {
    read_fixture(DIR, &format!("oneview/{rel}"))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&fx(rel)).unwrap()
}

#[test]
fn python_oneviewclient_server_hardware() {
    let hw: ServerHardware =
        wire::decode("sh", &fx("python-oneviewclient_SERVER_HARDWARE_JSON.json")).unwrap();
    assert_eq!(
        hw.uri,
        "/rest/server-hardware/30303437-3933-4753-4831-31315835524E"
    );
    assert_eq!(
        hw.uuid.as_deref(),
        Some("30303437-3933-4753-4831-31315835524E")
    );
    assert_eq!(hw.name.as_deref(), Some("Encl2, bay 16"));
    assert_eq!(hw.power_state, "Off");
    assert_eq!(hw.power(), PowerState::Off);
    assert_eq!(hw.server_profile_uri, None);
    assert!(!hw.in_use_by_others(None));
    assert_eq!(
        hw.server_hardware_type_uri.as_deref(),
        Some("/rest/server-hardware-types/D30D027D-FEB9-46C7-A96A-C8B063AD09F2")
    );
    assert_eq!(
        hw.server_group_uri.as_deref(),
        Some("/rest/enclosure-groups/c02d2e96-6142-49d6-bd38-0ce9d371e94f")
    );
    assert_eq!(hw.state.as_deref(), Some("NoProfileApplied"));
    assert_eq!(hw.model.as_deref(), Some("ProLiant BL460c Gen9"));
    assert_eq!(hw.mp_ip_address.as_deref(), Some("172.18.6.30"));
    let pm = hw.port_map.unwrap();
    assert_eq!(pm.device_slots.len(), 3);
    assert_eq!(
        pm.device_slots[0].device_name,
        "HP FlexFabric 10Gb 2-port 536FLB Adapter"
    );
    assert_eq!(
        pm.device_slots[0].physical_ports[1].mac.as_deref(),
        Some("02:23:13:25:22:8A")
    );
    // No virtual ports: the physical port's MAC.
    assert_eq!(pm.first_mac(), Some("02:23:13:25:22:86"));
}

#[test]
fn python_oneviewclient_port_map_first_function_a_mac() {
    let pm: PortMap = wire::decode("pm", &fx("python-oneviewclient_PORT_MAP.json")).unwrap();
    assert_eq!(pm.device_slots.len(), 3);
    let p = &pm.device_slots[0].physical_ports[0];
    assert_eq!(
        (p.port_type.as_str(), p.port_number, p.virtual_ports.len()),
        ("Ethernet", 1, 4)
    );
    assert_eq!(p.virtual_ports[1].port_function, "b");
    assert_eq!(
        pm.device_slots[1].physical_ports[0].port_type,
        "FibreChannel"
    );
    assert_eq!(pm.device_slots[1].physical_ports[0].mac, None);
    assert_eq!(pm.first_mac(), Some("EA:EF:C7:70:00:00"));
}

#[test]
fn python_oneviewclient_profile_template_and_lists() {
    let p: ServerProfile =
        wire::decode("sp", &fx("python-oneviewclient_SERVER_PROFILE_JSON.json")).unwrap();
    assert_eq!(
        p.uri,
        "/rest/server-profiles/f2160e28-8107-45f9-b4b2-3119a622a3a1"
    );
    assert_eq!(p.name, "blade3");
    assert_eq!(
        p.server_hardware_uri.as_deref(),
        Some("/rest/server-hardware/30313436-3631-5242-4333-303632544333")
    );
    assert_eq!(p.mac_type.as_deref(), Some("Virtual"));
    let boot = p.boot.unwrap();
    assert_eq!(boot.order, ["CD", "Floppy", "USB", "HardDisk", "PXE"]);
    assert!(boot.manage_boot);
    assert_eq!(p.connections[0].mac.as_deref(), Some("F6:08:CF:00:00:01"));
    assert_eq!(p.connections[0].port_id.as_deref(), Some("Flb 1:1-a"));
    assert_eq!(
        wire::boot_device_of(&boot.order[0]),
        Some(BootDevice::Cdrom)
    );
    assert_eq!(wire::boot_device_of(&boot.order[2]), None); // USB has no hwctl-core device

    let t: ServerProfileTemplate = wire::decode(
        "spt",
        &fx("python-oneviewclient_SERVER_PROFILE_TEMPLATE_JSON.json"),
    )
    .unwrap();
    assert_eq!(
        t.uri,
        "/rest/server-profile-templates/1597face-5ef4-40a5-b677-24e1b63697f6"
    );
    assert_eq!(t.name, "encl1-blade1-spt-test");
    assert_eq!(
        t.server_hardware_type_uri.as_deref(),
        Some("/rest/server-hardware-types/934E00C0-45F0-4329-AA8C-A0864E834ED4")
    );
    assert_eq!(t.boot.unwrap().order, ["CD", "USB", "HardDisk", "PXE"]);

    let l: Collection<ServerHardware> = wire::decode(
        "shl",
        &fx("python-oneviewclient_SERVER_HARDWARE_LIST_JSON.json"),
    )
    .unwrap();
    assert_eq!((l.count, l.total, l.members.len()), (32, 38, 32));
    assert_eq!(
        l.members
            .iter()
            .filter(|m| m.power() == PowerState::On)
            .count(),
        8
    );
    assert_eq!(
        l.members
            .iter()
            .filter(|m| m.server_profile_uri.is_some())
            .count(),
        8
    );
    assert_eq!(
        l.members[0].uri,
        "/rest/server-hardware/30313436-3631-5242-4333-303632544333"
    );
    assert!(l.members[0].in_use_by_others(None));
    assert!(!l.members[0].in_use_by_others(Some(
        "/rest/server-profiles/f2160e28-8107-45f9-b4b2-3119a622a3a1"
    )));

    let l: Collection<ServerProfile> = wire::decode(
        "spl",
        &fx("python-oneviewclient_SERVER_PROFILE_LIST_JSON.json"),
    )
    .unwrap();
    assert_eq!((l.count, l.members.len()), (11, 11));
    assert_eq!(
        l.members[0].uri,
        "/rest/server-profiles/0cccd18d-df97-4414-a7d3-a0183607c612"
    );
    let l: Collection<ServerProfileTemplate> = wire::decode(
        "sptl",
        &fx("python-oneviewclient_SERVER_PROFILE_TEMPLATE_LIST_JSON.json"),
    )
    .unwrap();
    assert_eq!((l.count, l.members.len()), (10, 10));
    assert_eq!(l.members[0].mac_type.as_deref(), Some("Virtual"));
    // The index resources: the same collection shape.
    let l: Collection<Value> = wire::decode(
        "idx",
        &fx("python-oneviewclient_INDEX_SERVER_HARDWARE_LIST_JSON.json"),
    )
    .unwrap();
    assert_eq!((l.count, l.total, l.members.len()), (39, 39, 38)); // as saved: one member fewer than counted
    let one: Collection<Value> = wire::decode(
        "idx1",
        &fx("python-oneviewclient_INDEX_SERVER_HARDWARE_JSON.json"),
    )
    .unwrap();
    assert_eq!(one.members[0]["attributes"]["powerState"], "Unknown");
}

#[test]
fn python_oneviewclient_driver_info_and_capabilities_build_a_config() {
    let di = json("python-oneviewclient_DRIVER_INFO_DICT.json");
    let props = json("python-oneviewclient_PROPERTIES_DICT.json");
    assert_eq!(di["server_hardware_uri"], "fake_sh_uri");
    let caps = parse_capabilities(props["capabilities"].as_str().unwrap());
    assert_eq!(caps["server_hardware_type_uri"], "fake_sht_uri");
    assert_eq!(caps["enclosure_group_uri"], "fake_eg_uri");
    let mut ctx = NodeContext::new("n");
    ctx.capabilities = caps;
    // Ironic's fake URIs are not /rest/server-hardware/{uuid}: refused, by name.
    let mut info = DriverInfo::from_json(di.clone()).unwrap();
    info.insert("oneview_manager_url", "https://ov.example");
    info.insert("oneview_username", "u");
    info.insert("oneview_password", "p");
    let e = hwctl_oneview::OneviewConfig::from_driver_info(&info, &ctx).unwrap_err();
    let names: Vec<_> = e.problems().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["server_hardware_uri", "server_profile_template_uri"],
        "{e}"
    );
    info.insert(
        "server_hardware_uri",
        "/rest/server-hardware/30303437-3933-4753-4831-31315835524E",
    );
    info.insert(
        "server_profile_template_uri",
        "/rest/server-profile-templates/1597face-5ef4-40a5-b677-24e1b63697f6",
    );
    let c = hwctl_oneview::OneviewConfig::from_driver_info(&info, &ctx).unwrap();
    assert_eq!(c.server_hardware_type_uri.as_deref(), Some("fake_sht_uri"));
    assert_eq!(c.enclosure_group_uri.as_deref(), Some("fake_eg_uri"));
}

#[test]
fn request_bodies_and_maps_match_the_wire_module() {
    let m = json("request_bodies_and_maps.json");
    assert_eq!(m["login_request"]["path"], "/rest/login-sessions");
    assert_eq!(m["login_request"]["response_field"], "sessionID");
    assert_eq!(m["version_request"]["headers"]["Accept-Language"], "en_US");
    let ironic = &m["power_bodies_ironic_hponeview"];
    for (action, key) in [
        (PowerAction::On, "power on"),
        (PowerAction::Off, "power off"),
        (PowerAction::Reboot, "rebooting"),
        (PowerAction::SoftReboot, "soft rebooting"),
        (PowerAction::SoftOff, "soft power off"),
    ] {
        assert_eq!(wire::power_body(action), ironic[key], "{key}");
    }
    assert_eq!(
        m["power_put_path"],
        "/rest/server-hardware/{uuid}/powerState"
    );
    for (name, ov) in m["boot_device_map_oneview"].as_object().unwrap() {
        let dev: BootDevice = name.parse().unwrap();
        assert_eq!(wire::oneview_boot_name(dev), ov.as_str(), "{name}");
        assert_eq!(wire::boot_device_of(ov.as_str().unwrap()), Some(dev));
    }
    for (name, ilo) in m["boot_device_map_ilo"].as_object().unwrap() {
        let dev: BootDevice = name.parse().unwrap();
        assert_eq!(wire::ilo_boot_target(dev), ilo.as_str(), "{name}");
        assert_eq!(wire::boot_device_of_ilo(ilo.as_str().unwrap()), Some(dev));
    }
    assert_eq!(m["ilo_onetime_boot_patch"]["path"], "/rest/v1/Systems/1");
    assert_eq!(
        m["ilo_onetime_boot_patch"]["body"],
        wire::ilo_one_time_boot_body("Pxe")
    );
    let a =
        wire::parse_remote_console_url(m["remote_console_url_example"].as_str().unwrap()).unwrap();
    assert_eq!(a.address, "1.2.3.4");
    assert_eq!(
        a.session_key.expose_secret(),
        "a79659e3b3b7c8209c901ac3509a6719"
    );
    // Ironic's map reads transitions as the state they leave; we read Unknown.
    for (ov, _) in m["get_power_state_map"].as_object().unwrap() {
        let hw: ServerHardware =
            serde_json::from_value(json!({"uri": "/x", "powerState": ov})).unwrap();
        let want = match ov.as_str() {
            "On" => PowerState::On,
            "Off" => PowerState::Off,
            _ => PowerState::Unknown,
        };
        assert_eq!(hw.power(), want, "{ov}");
    }
}

#[test]
fn remote_console_urls_without_key_or_address_are_protocol_errors() {
    for bad in [
        "hplocons://addr=1.2.3.4",
        "hplocons://sessionkey=abc",
        "hplocons://addr=&sessionkey=abc",
        "hplocons://addr=1.2.3.4/evil&sessionkey=abc",
        "",
    ] {
        let e = wire::parse_remote_console_url(bad).unwrap_err();
        assert_eq!(e.kind(), hwctl_core::ErrorKind::Protocol, "{bad}");
        assert!(!e.to_string().contains("abc"), "{e}");
    }
    let a = wire::parse_remote_console_url("hplocons://addr=127.0.0.1:4443&sessionkey=k").unwrap();
    assert_eq!(a.address, "127.0.0.1:4443");
}

#[test]
fn toolkit_server_hardware_and_list() {
    let hw: ServerHardware = wire::decode("sh", &fx("toolkit/ServerHardware.json")).unwrap();
    assert_eq!(
        hw.uri,
        "/rest/server-hardware/30303437-3034-4D32-3230-313133364752"
    );
    assert_eq!(hw.power(), PowerState::On);
    assert_eq!(
        hw.server_profile_uri.as_deref(),
        Some("/rest/server-profiles/b425802b-a6a5-4941-8885-aab68dfa2ee2")
    );
    assert_eq!(
        hw.server_hardware_type_uri.as_deref(),
        Some("/rest/server-hardware-types/0AB36CC2-D424-4C88-9CA5-25DF0B1A2A87")
    );
    assert_eq!(
        hw.model.as_deref(),
        Some("HPE Synergy 480 Gen9 Compute Module")
    );
    // The first slot is SAS; the first Ethernet port's function-a FlexNIC wins.
    assert_eq!(
        hw.port_map.as_ref().unwrap().first_mac(),
        Some("02:23:13:25:23:0B")
    );
    // The toolkit's whole server-hardware list (tests/fixtures/oneview/toolkit).
    let l: Vec<ServerHardware> =
        wire::decode("shl", &fx("toolkit/ServerHardwareList.json")).unwrap();
    assert_eq!(l.len(), 24);
    assert_eq!(l.iter().filter(|h| h.power() == PowerState::On).count(), 23);
    assert_eq!(
        l[0].uri,
        "/rest/server-hardware/30373737-3237-4D32-3230-313531354752"
    );
    for rel in [
        "toolkit/ServerHardwareTypes.json",
        "toolkit/Enclosures.json",
        "toolkit/Enclosure.json",
    ] {
        let v: Value = serde_json::from_slice(&fx(rel)).unwrap();
        assert!(v.is_object() || v.is_array(), "{rel}");
    }
}

#[test]
fn toolkit_profiles_templates_and_utilization() {
    let p: ServerProfile = wire::decode("sp", &fx("toolkit/ServerProfile.json")).unwrap();
    assert_eq!(
        p.uri,
        "/rest/server-profiles/b425802b-a6a5-4941-8885-aab68dfa2ee2"
    );
    assert_eq!(p.name, "Apache_Primary");
    assert_eq!(p.boot.unwrap().order, ["HardDisk"]);
    let l: Vec<ServerProfile> = wire::decode("spl", &fx("toolkit/ServerProfileList.json")).unwrap();
    assert_eq!(l.len(), 3);
    let t: ServerProfileTemplate =
        wire::decode("spt", &fx("toolkit/ServerProfileTemplate.json")).unwrap();
    assert_eq!(
        t.uri,
        "/rest/server-profile-templates/1f0ca9ef-7f81-45e3-9d64-341b46cf87e0"
    );
    assert_eq!(
        t.enclosure_group_uri.as_deref(),
        Some("/rest/enclosure-groups/bc41f38d-e8ce-4241-acd1-00b2d8c5d0fa")
    );
    assert_eq!(t.mac_type.as_deref(), Some("Virtual"));
    assert!(t.boot.unwrap().manage_boot);
    let ts: Vec<ServerProfileTemplate> =
        wire::decode("spts", &fx("toolkit/ServerProfileTemplates.json")).unwrap();
    assert_eq!(ts.len(), 2);
    let built = json("toolkit/ServerProfileBuiltFromTemplateToCreateASystem.json");
    assert_eq!(built["name"], "Composed System Using Redfish");
    assert_eq!(
        built["serverHardwareUri"],
        "/rest/server-hardware/30303437-3034-4D32-3230-313133364752"
    );
    assert_eq!(built["boot"]["order"], json!(["HardDisk"]));
    let u: Utilization = wire::decode("u", &fx("toolkit/ServerHardwareUtilization.json")).unwrap();
    assert_eq!(u.metric_list.len(), 1);
    assert_eq!(u.metric_list[0].metric_name, "AmbientTemperature");
    assert_eq!(u.metric_list[0].latest(), Some(20.0));
    assert_eq!(u.metric_list[0].metric_capacity, Some(35.0));
}

#[test]
fn toolkit_error_bodies() {
    for (file, code, msg) in [
        (
            "EnclosuresNotFound.json",
            "Base.1.1.GeneralError",
            "Resource enclosures not found",
        ),
        (
            "Error500.json",
            "Base.1.1.InternalError",
            "An exception has occurred",
        ),
        (
            "InvalidJsonKey.json",
            "Base.1.1.PropertyValueNotInList",
            "Invalid JSON key: INVALID_KEY",
        ),
    ] {
        let e = OneviewErrorBody::parse(&fx(&format!("toolkit/errors/{file}"))).unwrap();
        assert_eq!(e.error_code.as_deref(), Some(code), "{file}");
        assert_eq!(e.message.as_deref(), Some(msg), "{file}");
    }
    for file in [
        "InvalidCredentialsJsonKey.json",
        "RacksNotFound.json",
        "RedfishErrorExtendedInfo.json",
        "RedfishErrorNoExtendedInfo.json",
        "RedfishErrorPersonalizedMessage.json",
        "ServerHardwareListNotFound.json",
    ] {
        let e = OneviewErrorBody::parse(&fx(&format!("toolkit/errors/{file}"))).unwrap();
        assert!(e.message.is_some(), "{file}");
    }
    // OneView's own shape.
    let e = OneviewErrorBody::parse(
        br#"{"errorCode":"RESOURCE_NOT_FOUND","message":"gone","details":"d"}"#,
    )
    .unwrap();
    assert_eq!(
        (
            e.error_code.as_deref(),
            e.message.as_deref(),
            e.details.as_deref()
        ),
        (Some("RESOURCE_NOT_FOUND"), Some("gone"), Some("d"))
    );
    assert_eq!(OneviewErrorBody::parse(b"<html>"), None);
}

#[test]
fn task_states_follow_hpeoneview() {
    let t = |v: Value| -> Task { serde_json::from_value(v).unwrap() };
    let running = t(
        json!({"uri": "/rest/tasks/1", "category": "tasks", "taskState": "Running", "percentComplete": 40}),
    );
    assert!(matches!(running.status(), TaskStatus::Running(s) if s.contains("40%")));
    for s in ["Completed", "Warning"] {
        assert_eq!(
            t(json!({"uri": "/rest/tasks/1", "taskState": s})).status(),
            TaskStatus::Done
        );
    }
    for s in ["Error", "Terminated", "Killed"] {
        let st = t(json!({"uri": "/rest/tasks/1", "taskState": s,
            "taskErrors": [{"errorCode": "RESOURCE_NOT_FOUND", "message": "gone"}],
            "associatedResource": {"resourceUri": "/rest/server-profiles/9"}}))
        .status();
        assert_eq!(
            st,
            TaskStatus::Failed {
                state: s.into(),
                code: Some("RESOURCE_NOT_FOUND".into()),
                message: Some("gone".into())
            }
        );
    }
    // python-oneviewclient's shape: no state, an errorCode.
    let st = t(json!({"uri": "/rest/tasks/1", "errorCode": "RESOURCE_NOT_FOUND", "details": "x"}))
        .status();
    assert!(matches!(st, TaskStatus::Failed { code: Some(c), .. } if c == "RESOURCE_NOT_FOUND"));
    let done = t(
        json!({"uri": "/rest/tasks/1", "taskState": "Completed", "associatedResource": {"resourceUri": "/rest/server-profiles/9"}}),
    );
    assert_eq!(done.resource_uri(), Some("/rest/server-profiles/9"));
    assert_eq!(
        hwctl_oneview::errors::kind_of_code(Some("RESOURCE_NOT_FOUND")),
        hwctl_core::ErrorKind::NotFound
    );
}
