//! The wire types against DMTF's own mockup payloads (`tests/fixtures/`).
#![allow(clippy::unwrap_used)]

use hwctl_core::{BootDevice, BootMode, PowerState, SensorKind};
use hwctl_redfish::management::{power_readings, thermal_readings};
use hwctl_redfish::wire::{self, Chassis, Collection, ComputerSystem, Power, ServiceRoot, Thermal};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn service_root() {
    let root: ServiceRoot = wire::decode(&fixture("mockup_ServiceRoot.json"), "root").unwrap();
    assert_eq!(root.redfish_version.as_deref(), Some("1.15.0"));
    assert_eq!(root.systems.unwrap().id, "/redfish/v1/Systems");
    assert_eq!(
        root.session_service.unwrap().id,
        "/redfish/v1/SessionService"
    );
    let root: ServiceRoot = wire::decode(&fixture("mockup_ServiceRoot.json"), "root").unwrap();
    assert_eq!(root.sessions(), Some("/redfish/v1/SessionService/Sessions"));
    assert_eq!(
        root.uuid.as_deref(),
        Some("92384634-2938-2342-8820-489239905423")
    );
}

#[test]
fn systems_collection() {
    let c: Collection = wire::decode(&fixture("mockup_Systems.json"), "systems").unwrap();
    assert_eq!(c.members.len(), 1);
    assert_eq!(c.members[0].id, "/redfish/v1/Systems/437XR1138R2");
}

#[test]
fn computer_system() {
    let s: ComputerSystem = wire::decode(&fixture("mockup_ComputerSystem.json"), "system").unwrap();
    assert_eq!(s.id.as_deref(), Some("437XR1138R2"));
    assert_eq!(s.name.as_deref(), Some("WebFrontEnd483"));
    assert_eq!(s.power(), PowerState::On);
    let boot = s.boot.clone().unwrap();
    assert_eq!(boot.boot_source_override_target.as_deref(), Some("Pxe"));
    assert_eq!(boot.boot_source_override_enabled.as_deref(), Some("Once"));
    assert_eq!(boot.mode(), Some(BootMode::Uefi));
    let allowed = boot.target_allowable_values.clone().unwrap();
    assert_eq!(allowed.len(), 10);
    assert!(allowed.contains(&"BiosSetup".to_string()));
    let setting = boot.setting();
    assert_eq!(setting.device, Some(BootDevice::Pxe));
    assert_eq!(setting.persistent, Some(false));
    let reset = s.reset().unwrap();
    assert_eq!(
        reset.target.as_deref(),
        Some("/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset")
    );
    assert_eq!(
        reset.allowable_values.as_deref().unwrap(),
        [
            "On",
            "ForceOff",
            "GracefulShutdown",
            "GracefulRestart",
            "ForceRestart",
            "Nmi",
            "ForceOn",
            "PushPowerButton"
        ]
    );
    assert_eq!(s.chassis(), Some("/redfish/v1/Chassis/1U"));
}

#[test]
fn power_states() {
    for (wire_state, ours) in [
        ("On", PowerState::On),
        ("Off", PowerState::Off),
        ("PoweringOn", PowerState::Off),
        ("PoweringOff", PowerState::On),
        ("Paused", PowerState::Unknown),
        ("Blinking", PowerState::Unknown),
    ] {
        let s: ComputerSystem = wire::decode(
            format!("{{\"PowerState\":\"{wire_state}\"}}").as_bytes(),
            "s",
        )
        .unwrap();
        assert_eq!(s.power(), ours, "{wire_state}");
    }
    let s: ComputerSystem = wire::decode(br#"{"PowerState":null}"#, "s").unwrap();
    assert_eq!(s.power(), PowerState::Unknown);
}

#[test]
fn chassis_thermal_power() {
    let c: Chassis = wire::decode(&fixture("mockup_Chassis.json"), "chassis").unwrap();
    assert_eq!(c.thermal.unwrap().id, "/redfish/v1/Chassis/1U/Thermal");
    assert_eq!(c.power.unwrap().id, "/redfish/v1/Chassis/1U/Power");
    assert_eq!(
        c.thermal_subsystem.unwrap().id,
        "/redfish/v1/Chassis/1U/ThermalSubsystem"
    );

    let t: Thermal = wire::decode(&fixture("mockup_Thermal.json"), "thermal").unwrap();
    let r = thermal_readings(&t);
    assert_eq!(r.len(), 5);
    assert_eq!(r[0].name, "CPU1 Temp");
    assert_eq!(r[0].kind, SensorKind::Temperature);
    assert_eq!(r[0].value, Some(41.0));
    assert_eq!(r[0].status, "ok");
    // CPU2 is Disabled and has no reading.
    assert_eq!(r[1].value, None);
    assert_eq!(r[1].status, "unavailable");
    assert_eq!(r[2].value, Some(25.0));
    assert_eq!(r[3].kind, SensorKind::Fan);
    assert_eq!(r[3].name, "BaseBoard System Fan");
    assert_eq!((r[3].value, r[3].unit.as_str()), (Some(2100.0), "RPM"));
    assert_eq!(r[4].value, Some(2050.0));

    let p: Power = wire::decode(&fixture("mockup_Power.json"), "power").unwrap();
    let r = power_readings(&p);
    assert_eq!(r[0].name, "System Input Power");
    assert_eq!((r[0].kind, r[0].value), (SensorKind::Power, Some(344.0)));
    let volts: Vec<_> = r.iter().filter(|s| s.kind == SensorKind::Voltage).collect();
    assert_eq!(volts.len(), 2);
    assert_eq!(
        (volts[0].name.as_str(), volts[0].value),
        ("VRM1 Voltage", Some(12.0))
    );
    assert_eq!(volts[1].value, Some(5.0));
}

#[test]
fn sensor_resource() {
    let s: wire::Sensor = wire::decode(&fixture("mockup_Sensor_CPU1Temp.json"), "sensor").unwrap();
    let r = hwctl_redfish::management::sensor_reading(&s);
    assert_eq!(r.name, "CPU #1 Temperature");
    assert_eq!(
        (r.kind, r.value, r.unit.as_str()),
        (SensorKind::Temperature, Some(44.0), "degrees C")
    );
    assert_eq!(r.status, "warning");
}

#[test]
fn hostile_bodies_are_protocol_errors() {
    for body in [
        b"not json".to_vec(),
        b"{\"PowerState\": ".to_vec(),
        "[".repeat(100_000).into_bytes(),
        b"{\"Boot\": 7}".to_vec(),
        vec![0xff, 0xfe, 0x00],
    ] {
        let e = wire::decode::<ComputerSystem>(&body, "system").unwrap_err();
        assert_eq!(e.kind(), hwctl_core::ErrorKind::Protocol);
    }
}

proptest::proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let _ = wire::decode::<ComputerSystem>(&body, "system");
        let _ = wire::decode::<wire::ErrorBody>(&body, "error");
    }
}
