//! Newcomer report: `{"redfish_address": 42, …}` built a node for
//! `https://0.0.0.42:443` (and `true` one for `https://true:443`). Every
//! driver's address or URL key must be a JSON string: a number, boolean, array
//! or object is one invalid-parameter problem naming the key, at validation.
#![allow(clippy::unwrap_used)]

use hwctl_core::{DriverInfo, ErrorKind, HardwareType, NodeContext, Registry};
use serde_json::{Value, json};

/// Each hardware type, a `driver_info` it builds from, and its address key.
fn drivers() -> Vec<(HardwareType, Value, &'static str)> {
    vec![
        (
            hwctl_ipmi::hardware_type(),
            json!({"ipmi_address": "10.0.0.5", "ipmi_username": "u", "ipmi_password": "p"}),
            "ipmi_address",
        ),
        (
            hwctl_redfish::hardware_type(),
            json!({"redfish_address": "https://10.0.0.5", "redfish_username": "u",
                   "redfish_password": "p"}),
            "redfish_address",
        ),
        (
            hwctl_openbmc::hardware_type(),
            json!({"openbmc_address": "https://10.0.0.5", "openbmc_username": "u",
                   "openbmc_password": "p"}),
            "openbmc_address",
        ),
        (
            hwctl_oneview::hardware_type(),
            json!({"oneview_manager_url": "https://10.0.0.5", "oneview_username": "u",
                   "oneview_password": "p",
                   "server_hardware_uri": "/rest/server-hardware/30303437-3034-4D32-3230-313130304752"}),
            "oneview_manager_url",
        ),
        (
            hwctl_amt::hardware_type(),
            json!({"amt_address": "10.0.0.5", "amt_username": "u", "amt_password": "p"}),
            "amt_address",
        ),
        (
            hwctl_ocs::hardware_type(),
            json!({"msftocs_base_url": "http://10.0.0.5:8000", "msftocs_blade_id": 1,
                   "msftocs_username": "u", "msftocs_password": "p"}),
            "msftocs_base_url",
        ),
        (
            hwctl_iboot::hardware_type(),
            json!({"iboot_address": "10.0.0.5", "iboot_username": "u", "iboot_password": "p"}),
            "iboot_address",
        ),
        (
            hwctl_wol::hardware_type(),
            json!({"wol_host": "10.0.0.255"}),
            "wol_host",
        ),
    ]
}

#[test]
fn every_address_key_must_be_a_json_string() {
    let ctx = NodeContext::new("n1").with_port("52:54:00:12:34:56".parse().unwrap());
    let mut registry = Registry::new();
    let drivers = drivers();
    for (ht, _, _) in &drivers {
        registry.register(ht.clone());
    }
    for (ht, good, key) in &drivers {
        let name = ht.name();
        // The entry as written builds: only the address's type is wrong below.
        let info = DriverInfo::from_json(good.clone()).unwrap();
        if let Err(e) = registry.build(name, &info, &ctx) {
            panic!("{name}: {e}");
        }
        for (value, what) in [
            (json!(42), "a number"),
            (json!(3.5), "a number"),
            (json!(true), "a boolean"),
            (json!(["10.0.0.5"]), "an array"),
            (json!({"host": "10.0.0.5"}), "an object"),
        ] {
            let mut bad = good.clone();
            bad[*key] = value.clone();
            let info = DriverInfo::from_json(bad).unwrap();
            let e = match registry.build(name, &info, &ctx) {
                Ok(_) => panic!("{name}: {key} = {value} was accepted"),
                Err(e) => e,
            };
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{name} {value}: {e}");
            let problems: Vec<_> = e
                .problems()
                .iter()
                .map(|p| (p.name.as_str(), p.reason.as_deref()))
                .collect();
            let reason = format!("must be a string, not {what}");
            assert_eq!(
                problems,
                [(*key, Some(reason.as_str()))],
                "{name} {value}: {e}"
            );
        }
    }
}
