//! The bodies of the fuzz targets in `fuzz_targets/`, one function per parser of
//! untrusted bytes, each named like its target. They are plain functions so that
//! `tests/corpus.rs` can run them over the seeds with `cargo test` (no libFuzzer),
//! and `cargo fuzz run <target>` runs them under libFuzzer.
//!
//! Every function takes arbitrary bytes and must return without panicking, hanging
//! or allocating without bound; a panic is a crash the fuzzer reports.

use std::sync::OnceLock;

use hw_core::{DriverInfo, MacAddress, NodeContext, Registry};
use serde_json::Value;

/// A fixed session integrity key: seeds are packets sealed with it.
pub const SIK: [u8; 32] = [0x42; 32];

/// The RMCP+ codec a target decodes with: suite 3 for an even first byte, else 17.
pub fn ipmi_codec(selector: u8) -> hw_ipmi::codec::PacketCodec {
    let suite = if selector & 1 == 0 {
        hw_ipmi::CipherSuite::Suite3
    } else {
        hw_ipmi::CipherSuite::Suite17
    };
    hw_ipmi::codec::PacketCodec::new(suite, &SIK)
}

/// RMCP+ session packets (integrity, confidentiality, IPMI message), through the
/// public `PacketCodec::decode_response`. The first byte picks the cipher suite.
pub fn ipmi_packet(data: &[u8]) {
    let Some((&selector, datagram)) = data.split_first() else {
        return;
    };
    let _ = ipmi_codec(selector).decode_response(datagram);
}

/// SDR records (`SdrRecord::parse`) and what the driver reads from them.
pub fn ipmi_sdr(data: &[u8]) {
    if let Ok(r) = hw_ipmi::SdrRecord::parse(data) {
        let _ = format!("{r:?}");
        match &r.kind {
            hw_ipmi::SdrKind::Full(s) => {
                let _ = (s.kind(), s.unit());
                for raw in [0u8, 1, 0x7f, 0x80, 0xff] {
                    let _ = s.convert(raw);
                }
            }
            hw_ipmi::SdrKind::Compact(s) => {
                let _ = (s.kind(), s.unit());
            }
            _ => {}
        }
    }
    if let (Some(&t), Some(a), Some(b)) = (data.first(), data.get(1), data.get(2)) {
        let _ = hw_ipmi::sdr::reading_status(t, u16::from_le_bytes([*a, *b]));
    }
}

/// Get System Boot Options reply data (boot flags).
pub fn ipmi_boot_flags(data: &[u8]) {
    if let Ok(f) = hw_ipmi::ipmi::decode_boot_flags(data) {
        let _ = hw_ipmi::ipmi::encode_boot_flags(&f);
    }
}

/// Intel Node Manager replies (every decoder), and ipmitool's raw output text.
pub fn nm_reply(data: &[u8]) {
    use hw_nodemanager::wire;
    let _ = wire::check_intel_id(data);
    let _ = wire::decode_version(data);
    let _ = wire::decode_capabilities(data);
    let _ = wire::decode_policy(data);
    let _ = wire::decode_policy_suspend(data);
    let _ = wire::decode_statistics(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wire::parse_ipmitool_output(text);
    }
}

/// Node Manager discovery: the NM record in SDR bytes, and a stored location (JSON).
pub fn nm_discovery(data: &[u8]) {
    let _ = hw_nodemanager::discovery::find_in_sdr(data);
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let _ = hw_nodemanager::discovery::NmLocation::from_json(&v);
    }
}

/// Every OCS chassis manager reply decoder (XML).
pub fn ocs_xml(data: &[u8]) {
    use hw_ocs::wire::*;
    let _ = parse_status(data);
    let _ = BladeResponse::decode(data);
    let _ = BladeStateResponse::decode(data);
    let _ = BootResponse::decode(data);
    let _ = PowerStateResponse::decode(data);
    let _ = ChassisInfoResponse::decode(data).map(|c| format!("{c:?}"));
    let _ = StartSerialResponse::decode(data);
    let _ = SerialDataResponse::decode(data);
    let _ = ChassisResponse::decode(data);
}

/// OCS serial console data: the base64 payload and the reply that carries it.
pub fn ocs_serial(data: &[u8]) {
    use hw_ocs::wire::{Response as _, SerialDataResponse, decode_data, encode_data};
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_data(text);
    }
    let _ = SerialDataResponse::decode(data);
    // What we encode, we decode to the same bytes.
    let back = decode_data(&encode_data(data)).expect("our own encoding decodes");
    assert_eq!(back, data, "serial data did not round-trip");
}

/// `WWW-Authenticate` headers (one per line) through the digest client.
pub fn http_www_authenticate(data: &[u8]) {
    let values: Vec<&[u8]> = data.split(|b| *b == b'\n').take(16).collect();
    let _ = hw_http::fuzzing::www_authenticate(&values);
}

/// DxP replies of an iBoot PDU: the sequence number, GET_RELAYS, CHANGE_RELAY.
pub fn iboot_dxp(data: &[u8]) {
    use hw_iboot::wire;
    if let [a, b, ..] = data {
        let _ = wire::next_sequence([*a, *b]);
    }
    if let Some(&b) = data.first() {
        // Only 0x00 (done) and 0x01 (refused) mean anything.
        if let Ok(done) = wire::decode_change_relay_reply(b) {
            assert!(b <= 1 && done == (b == 0), "0x{b:02x} read as {done}");
        }
    }
    // Relay bytes are 0x00 or 0x01, never guessed: one state per byte.
    if let Ok(relays) = wire::decode_relays(data) {
        assert_eq!(relays.len(), data.len());
        assert!(relays.iter().zip(data).all(|(on, b)| u8::from(*on) == *b));
    }
}

/// libvirt domain XML (`virDomainGetXMLDesc`) and the boot-device rewrite.
pub fn libvirt_domain_xml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        hw_libvirt::fuzzing::domain_xml(text);
    }
}

/// The registry `hwctl` builds: every hardware type but libvirt (whose build may
/// open a connection; its config is checked alone).
fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let mut r = Registry::new();
        r.register(hw_core::fake::hardware_type());
        r.register(hw_wol::hardware_type());
        r.register(hw_iboot::hardware_type());
        r.register(hw_ocs::hardware_type());
        r.register(hw_ipmi::hardware_type());
        r.register(hw_nodemanager::hardware_type());
        r.register(hw_oneview::hardware_type());
        r.register(hw_amt::hardware_type());
        r.register(hw_redfish::hardware_type());
        r.register(hw_openbmc::hardware_type());
        r
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Validation reads files some keys name (CA bundles, SSH keys); device files
/// could block or never end, so inputs naming them are skipped.
fn names_special_files(text: &str) -> bool {
    ["/dev", "/proc", "/sys", "/run", "\\\\"]
        .iter()
        .any(|p| text.contains(p))
}

/// Validates one node for `driver` (or every type when it is unknown) as
/// `hwctl validate` and a `Registry` user would.
fn validate(driver: &str, info: &DriverInfo, ctx: &NodeContext) {
    let _guard = runtime().enter();
    let r = registry();
    match r.get(driver) {
        Ok(_) => {
            let _ = r.validate(driver, info, ctx);
        }
        Err(_) => {
            for t in r.hardware_types() {
                let _ = t.build(info, ctx);
            }
        }
    }
    let _ = hw_libvirt::LibvirtConfig::from_driver_info(info, ctx);
}

/// `driver_info` JSON: parsed into a `DriverInfo` and validated by every driver.
pub fn driver_info(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if names_special_files(text) {
        return;
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Ok(info) = DriverInfo::from_json(value) else {
        return;
    };
    let ctx = NodeContext::new("fuzz").with_port(MacAddress::new([2, 0, 0, 0, 0, 1]));
    validate("", &info, &ctx);
}

/// hwctl's inventory node type, compiled from hwctl's own source (hwctl is a binary,
/// so it cannot be a dependency).
#[allow(dead_code, unreachable_pub)]
#[path = "../../hwctl/src/inventory.rs"]
mod hwctl_inventory;

/// An inventory file as `hwctl fleet --inventory` reads it (an array of nodes or
/// `{"nodes": [...]}`), each node turned into driver_info + context and validated.
pub fn inventory(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if names_special_files(text) {
        return;
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let list = match value {
        Value::Array(_) => value,
        Value::Object(mut o) => match o.remove("nodes") {
            Some(v) => v,
            None => return,
        },
        _ => return,
    };
    let Ok(nodes) = serde_json::from_value::<Vec<hwctl_inventory::InventoryNode>>(list) else {
        return;
    };
    for node in nodes.iter().take(8) {
        let Ok(info) = DriverInfo::from_json(Value::Object(node.driver_info.clone())) else {
            continue;
        };
        let mut ctx = NodeContext::new(node.name.clone());
        for p in &node.ports {
            if let Ok(mac) = p.parse::<MacAddress>() {
                ctx.ports.push(mac);
            }
        }
        ctx.capabilities = node.capabilities.clone();
        validate(&node.driver, &info, &ctx);
    }
}

/// WS-Management replies of Intel AMT (SOAP envelopes, enumerations, faults).
pub fn amt_wsman(data: &[u8]) {
    use hw_amt::wire;
    let _ = wire::parse_envelope(data);
    if let Ok(r) = wire::parse_reply(data) {
        let _ = wire::enumeration_page(&r);
        let _ = r.return_value();
        let _ = r.instance();
    }
}

/// HPE OneView JSON replies.
pub fn oneview_json(data: &[u8]) {
    use hw_oneview::wire::{
        self, ApiVersion, Collection, IloSystem, OneviewErrorBody, ServerHardware, ServerProfile,
        Task, Utilization,
    };
    let _ = wire::decode::<ServerHardware>("x", data);
    let _ = wire::decode::<ServerProfile>("x", data);
    let _ = wire::decode::<Task>("x", data);
    let _ = wire::decode::<ApiVersion>("x", data);
    let _ = wire::decode::<Utilization>("x", data);
    let _ = wire::decode::<IloSystem>("x", data);
    let _ = wire::decode::<Collection<ServerHardware>>("x", data);
    let _ = OneviewErrorBody::parse(data);
}

/// A target body.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus test and the seed writer.
pub const TARGETS: &[(&str, Target)] = &[
    ("ipmi_packet", ipmi_packet),
    ("ipmi_sdr", ipmi_sdr),
    ("ipmi_boot_flags", ipmi_boot_flags),
    ("nm_reply", nm_reply),
    ("nm_discovery", nm_discovery),
    ("ocs_xml", ocs_xml),
    ("ocs_serial", ocs_serial),
    ("http_www_authenticate", http_www_authenticate),
    ("iboot_dxp", iboot_dxp),
    ("libvirt_domain_xml", libvirt_domain_xml),
    ("driver_info", driver_info),
    ("inventory", inventory),
    ("amt_wsman", amt_wsman),
    ("oneview_json", oneview_json),
];
