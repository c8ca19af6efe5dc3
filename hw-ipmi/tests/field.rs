#![allow(clippy::unwrap_used)]
//! BMCs as they behave in fleets (issue 14): each test is one kind of fault,
//! reproduced with the simulator's fault switches.

use std::time::{Duration, Instant};

use hw_core::{ErrorKind, Management};
use hw_ipmi::sim::{IpmiSim, IpmiSimConfig};
use hw_ipmi::{Ipmi, IpmiManagement};

async fn bmc() -> IpmiSim {
    IpmiSim::start(IpmiSimConfig::default()).await.unwrap()
}

fn mgmt(bmc: &IpmiSim) -> IpmiManagement {
    IpmiManagement::new(Ipmi::new(bmc.config()), None)
}

// ---- 14.5: one bad sensor does not spoil the list -------------------------------

/// Every error completion code a Get Sensor Reading may answer lists the sensor
/// as unavailable with its reason, and the others with their values.
#[tokio::test]
async fn a_sensor_answering_an_error_code_is_listed_unavailable() {
    let bmc = bmc().await;
    let m = mgmt(&bmc);
    for cc in [0xC0u8, 0xC3, 0xCD, 0xD5, 0xFF, 0xCE, 0xD2, 0xC1] {
        bmc.set_sensor_cc(2, cc); // FAN1
        let list = m.get_sensors().await.unwrap();
        let fan = list.iter().find(|s| s.name == "FAN1").unwrap();
        assert_eq!(fan.value, None, "0x{cc:02x}");
        assert!(fan.status.starts_with("unavailable: "), "{}", fan.status);
        assert!(
            fan.status.contains(&format!("0x{cc:02x}")),
            "{}",
            fan.status
        );
        let cpu = list.iter().find(|s| s.name == "CPU Temp").unwrap();
        assert_eq!(cpu.value, Some(45.0));
        assert_eq!(list.len(), 5);
    }
}

/// A reading whose flags say scanning is disabled (byte 2 bit 6 clear: an empty
/// DIMM slot, a host that is off) has no value; so has one marked unavailable.
#[tokio::test]
async fn a_sensor_with_scanning_disabled_has_no_value() {
    let bmc = bmc().await;
    bmc.set_sensor_flags(1, 0x80); // CPU Temp: events enabled, scanning disabled
    bmc.set_sensor_flags(5, 0x00); // the discrete PSU status, likewise
    bmc.set_sensor_flags(3, 0xE0); // 12V: scanning enabled, reading unavailable
    let list = mgmt(&bmc).get_sensors().await.unwrap();
    let cpu = list.iter().find(|s| s.name == "CPU Temp").unwrap();
    assert_eq!(
        (cpu.value, cpu.status.as_str()),
        (None, "unavailable: scanning disabled")
    );
    let psu = list.iter().find(|s| s.name == "PSU1 Status").unwrap();
    assert_eq!(psu.status, "unavailable: scanning disabled");
    let v = list.iter().find(|s| s.name == "12V").unwrap();
    assert_eq!(
        (v.value, v.status.as_str()),
        (None, "unavailable: reading unavailable")
    );
    let fan = list.iter().find(|s| s.name == "FAN1").unwrap();
    assert_eq!(fan.value, Some(5000.0));
}

/// The call fails only when nothing can be read, with the code's kind.
#[tokio::test]
async fn sensors_fail_only_when_nothing_can_be_read() {
    let bmc = bmc().await;
    for n in 1..=5 {
        bmc.set_sensor_cc(n, 0xC0);
    }
    let started = Instant::now();
    let err = mgmt(&bmc).get_sensors().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("no sensor could be read"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
