//! Every real reply in `tests/fixtures/msftocs/`, decoded with its values asserted;
//! and hostile variations of them.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use hwctl_core::{BootDevice, ErrorKind, MacAddress, PowerState};
use hwctl_ocs::wire::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/msftocs")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_fixture_is_covered() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/msftocs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ironic_BladeResponse.xml",
            "ironic_BladeStateResponse.xml",
            "ironic_BootResponse.xml",
            "ironic_PowerStateResponse.xml",
            "ironic_bad_completion_code.xml",
            "maas_GetChassisInfo_ChassisInfoResponse.xml",
        ],
        "a fixture was added: decode it below"
    );
}

#[test]
fn blade_response() {
    let r = BladeResponse::decode(&fixture("ironic_BladeResponse.xml")).unwrap();
    assert_eq!(r.status.completion_code, CompletionCode::Success);
    assert_eq!(r.status.api_version, Some(1));
    assert_eq!(r.status.status_description, "");
    assert_eq!(r.blade_number, Some(1));
}

#[test]
fn blade_state_response() {
    let r = BladeStateResponse::decode(&fixture("ironic_BladeStateResponse.xml")).unwrap();
    assert!(r.status.completion_code.is_success());
    assert_eq!(r.status.api_version, Some(1));
    assert_eq!(r.blade_number, Some(1));
    assert_eq!(r.blade_state, BladeState::On);
    assert_eq!(r.blade_state.power_state(), PowerState::On);
}

#[test]
fn boot_response() {
    let r = BootResponse::decode(&fixture("ironic_BootResponse.xml")).unwrap();
    assert_eq!(r.status.status_description, "Success");
    assert_eq!(r.blade_number, Some(1));
    assert_eq!(r.next_boot, BootType::ForcePxe);
    assert_eq!(r.next_boot.device(), Some(BootDevice::Pxe));
}

#[test]
fn power_state_response() {
    let r = PowerStateResponse::decode(&fixture("ironic_PowerStateResponse.xml")).unwrap();
    assert_eq!(
        r.status.status_description,
        "Blade Power is On, firmware decompressed"
    );
    assert_eq!(r.blade_number, Some(1));
    assert_eq!(r.decompression, Some(0));
    assert_eq!(r.power_state, BladeState::On);
}

#[test]
fn bad_completion_code() {
    let body = fixture("ironic_bad_completion_code.xml");
    let s = parse_status(&body).unwrap();
    assert_eq!(
        s.completion_code,
        CompletionCode::Unrecognized("Fail".into())
    );
    assert_eq!(s.api_version, None);
    let e = s.check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceFault);
    assert!(e.to_string().contains("Fail"), "{e}");
    // As a typed reply it is not even the right document.
    assert_eq!(
        BladeResponse::decode(&body).unwrap_err().kind(),
        ErrorKind::Protocol
    );
}

#[test]
fn chassis_info_response() {
    let r = ChassisInfoResponse::decode(&fixture("maas_GetChassisInfo_ChassisInfoResponse.xml"))
        .unwrap();
    assert_eq!(r.status, None);
    assert_eq!(r.blades.len(), 1);
    let b = &r.blades[0];
    assert_eq!(b.blade_number, 11);
    assert_eq!(b.blade_guid, None);
    assert_eq!(b.blade_name.as_deref(), Some("BLADE11"));
    assert_eq!(b.power_state, Some(BladeState::On));
    assert!(b.status.as_ref().unwrap().completion_code.is_success());
    assert_eq!(b.nics.len(), 2);
    assert_eq!(b.nics[0].device_id, Some(1));
    assert_eq!(
        b.nics[0].mac_address,
        Some("f4:52:14:d6:70:98".parse::<MacAddress>().unwrap())
    );
    assert_eq!(b.nics[1].device_id, Some(2));
    assert_eq!(b.nics[1].mac_address, None);
    assert_eq!(
        b.macs(),
        vec!["F4:52:14:D6:70:98".parse::<MacAddress>().unwrap()]
    );
}

const NS: &str = "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts";

#[test]
fn order_unknown_elements_and_prefixes_are_tolerated() {
    let body = format!(
        r#"<?xml version="1.0"?><c:BladeStateResponse xmlns:c="{NS}" xmlns:x="urn:ext">
        <c:bladeState>OFF</c:bladeState><x:bladeState>ON</x:bladeState><c:futureField>1</c:futureField>
        <c:bladeNumber>7</c:bladeNumber><c:completionCode>Success</c:completionCode></c:BladeStateResponse>"#
    );
    let r = BladeStateResponse::decode(body.as_bytes()).unwrap();
    assert_eq!(r.blade_state, BladeState::Off);
    assert_eq!(r.blade_number, Some(7));
    assert_eq!(r.status.api_version, None);
}

#[test]
fn failure_codes_keep_the_description() {
    let body = format!(
        r#"<BladeStateResponse xmlns="{NS}"><completionCode>SerialSessionActive</completionCode><apiVersion>1</apiVersion><statusDescription>Serial session active on blade 7</statusDescription><bladeNumber>7</bladeNumber><bladeState>NA</bladeState></BladeStateResponse>"#
    );
    let e = BladeStateResponse::decode(body.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy);
    assert!(e.is_retryable());
    assert!(
        e.to_string().contains("Serial session active on blade 7"),
        "{e}"
    );
    let src = std::error::Error::source(&e)
        .unwrap()
        .downcast_ref::<CompletionError>()
        .unwrap();
    assert_eq!(src.code, CompletionCode::SerialSessionActive);
}

#[test]
fn strict_on_what_is_needed() {
    let cases = [
        // wrong root
        format!(r#"<BladeResponse xmlns="{NS}"><completionCode>Success</completionCode></BladeResponse>"#),
        // root in another namespace
        r#"<BladeStateResponse xmlns="urn:x"><completionCode>Success</completionCode><bladeState>ON</bladeState></BladeStateResponse>"#.to_owned(),
        // no completion code
        format!(r#"<BladeStateResponse xmlns="{NS}"><bladeState>ON</bladeState></BladeStateResponse>"#),
        // no state
        format!(r#"<BladeStateResponse xmlns="{NS}"><completionCode>Success</completionCode></BladeStateResponse>"#),
        // nil state
        format!(r#"<BladeStateResponse xmlns="{NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><completionCode>Success</completionCode><bladeState i:nil="true"/></BladeStateResponse>"#),
        // non-numeric blade number
        format!(r#"<BladeStateResponse xmlns="{NS}"><completionCode>Success</completionCode><bladeNumber>x</bladeNumber><bladeState>ON</bladeState></BladeStateResponse>"#),
        // truncated
        format!(r#"<BladeStateResponse xmlns="{NS}"><completionCode>Success</completionCode><bladeSt"#),
    ];
    for c in cases {
        let e = BladeStateResponse::decode(c.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{c}: {e}");
    }
    let boot = format!(
        r#"<BootResponse xmlns="{NS}"><completionCode>Success</completionCode><nextBoot>ForceUsb</nextBoot></BootResponse>"#
    );
    assert_eq!(
        BootResponse::decode(boot.as_bytes()).unwrap_err().kind(),
        ErrorKind::Protocol
    );
}

#[test]
fn other_states_are_unknown_not_off() {
    for (text, state) in [
        ("OnFwDecompress", BladeState::OnFwDecompress),
        ("NA", BladeState::NotAvailable),
        ("Weird", BladeState::Other("Weird".into())),
    ] {
        let body = format!(
            r#"<BladeStateResponse xmlns="{NS}"><completionCode>Success</completionCode><bladeState>{text}</bladeState></BladeStateResponse>"#
        );
        let r = BladeStateResponse::decode(body.as_bytes()).unwrap();
        assert_eq!(r.blade_state, state);
        assert_eq!(r.blade_state.power_state(), PowerState::Unknown);
    }
}

#[test]
fn serial_replies() {
    let start = format!(
        r#"<StartSerialResponse xmlns="{NS}"><completionCode>Success</completionCode><apiVersion>1</apiVersion><statusDescription/><serialSessionToken>abc123</serialSessionToken></StartSerialResponse>"#
    );
    let s = StartSerialResponse::decode(start.as_bytes()).unwrap();
    assert_eq!(s.serial_session_token, "abc123");
    assert!(!format!("{s:?}").contains("abc123"));
    let data = format!(
        r#"<SerialDataResponse xmlns="{NS}"><completionCode>Success</completionCode><data>bG9naW46IA==</data></SerialDataResponse>"#
    );
    assert_eq!(
        SerialDataResponse::decode(data.as_bytes()).unwrap().data,
        b"login: "
    );
    let empty = format!(
        r#"<SerialDataResponse xmlns="{NS}"><completionCode>Success</completionCode><data/></SerialDataResponse>"#
    );
    assert!(
        SerialDataResponse::decode(empty.as_bytes())
            .unwrap()
            .data
            .is_empty()
    );
    let bad = format!(
        r#"<SerialDataResponse xmlns="{NS}"><completionCode>Success</completionCode><data>@@@</data></SerialDataResponse>"#
    );
    assert_eq!(
        SerialDataResponse::decode(bad.as_bytes())
            .unwrap_err()
            .kind(),
        ErrorKind::Protocol
    );
    let nosession = format!(
        r#"<ChassisResponse xmlns="{NS}"><completionCode>NoActiveSerialSession</completionCode><statusDescription>no session</statusDescription></ChassisResponse>"#
    );
    assert_eq!(
        ChassisResponse::decode(nosession.as_bytes())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}
