//! The bodies of the fuzz targets in `fuzz_targets/`, one function per parser of
//! untrusted bytes, each named like its target. They are plain functions so that
//! `tests/corpus.rs` can run them over the seeds with `cargo test` (no libFuzzer),
//! and `cargo fuzz run <target>` runs them under libFuzzer.
//!
//! Every function takes arbitrary bytes and must return without panicking, hanging
//! or allocating without bound; a panic is a crash the fuzzer reports.

pub mod alloc_limit;

#[global_allocator]
static ALLOCATOR: alloc_limit::Limited = alloc_limit::Limited;

use std::sync::OnceLock;

use hwctl_core::{DriverInfo, MacAddress, NodeContext};
use serde_json::Value;

/// A fixed session integrity key: seeds are packets sealed with it.
pub const SIK: [u8; 32] = [0x42; 32];

/// The RMCP+ codec a target decodes with: suite 3 for an even first byte, else 17.
pub fn ipmi_codec(selector: u8) -> hwctl_ipmi::codec::PacketCodec {
    let suite = if selector & 1 == 0 {
        hwctl_ipmi::CipherSuite::Suite3
    } else {
        hwctl_ipmi::CipherSuite::Suite17
    };
    hwctl_ipmi::codec::PacketCodec::new(suite, &SIK)
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
    if let Ok(r) = hwctl_ipmi::SdrRecord::parse(data) {
        let _ = format!("{r:?}");
        match &r.kind {
            hwctl_ipmi::SdrKind::Full(s) => {
                let _ = (s.kind(), s.unit());
                for raw in [0u8, 1, 0x7f, 0x80, 0xff] {
                    let _ = s.convert(raw);
                }
            }
            hwctl_ipmi::SdrKind::Compact(s) => {
                let _ = (s.kind(), s.unit());
            }
            _ => {}
        }
    }
    if let (Some(&t), Some(a), Some(b)) = (data.first(), data.get(1), data.get(2)) {
        let _ = hwctl_ipmi::sdr::reading_status(t, u16::from_le_bytes([*a, *b]));
    }
}

/// Get System Boot Options reply data (boot flags).
pub fn ipmi_boot_flags(data: &[u8]) {
    if let Ok(f) = hwctl_ipmi::ipmi::decode_boot_flags(data) {
        let _ = hwctl_ipmi::ipmi::encode_boot_flags(&f);
    }
}

/// Intel Node Manager replies (every decoder), and ipmitool's raw output text.
pub fn nm_reply(data: &[u8]) {
    use hwctl_nodemanager::wire;
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
    let _ = hwctl_nodemanager::discovery::find_in_sdr(data);
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let _ = hwctl_nodemanager::discovery::NmLocation::from_json(&v);
    }
}

/// Every OCS chassis manager reply decoder (XML).
pub fn ocs_xml(data: &[u8]) {
    use hwctl_ocs::wire::*;
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
    use hwctl_ocs::wire::{Response as _, SerialDataResponse, decode_data, encode_data};
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
    let _ = hwctl_http::fuzzing::www_authenticate(&values);
}

/// DxP replies of an iBoot PDU: the sequence number, GET_RELAYS, CHANGE_RELAY.
pub fn iboot_dxp(data: &[u8]) {
    use hwctl_iboot::wire;
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
        assert!(relays.iter().zip(data).all(|(on, b)| u8::from(on) == *b));
    }
}

/// libvirt domain XML (`virDomainGetXMLDesc`) and the boot-device rewrite.
pub fn libvirt_domain_xml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        hwctl_libvirt::fuzzing::domain_xml(text);
    }
}

/// Validation reads files some keys name (CA bundles, SSH keys); device files
/// could block or never end, so inputs naming them are skipped.
fn names_special_files(text: &str) -> bool {
    ["/dev", "/proc", "/sys", "/run", "\\\\"]
        .iter()
        .any(|p| text.contains(p))
}

/// Validates one node's `driver_info` for `driver` (every hardware type when it is
/// unknown): each type's own parse and validation (`<Type>Config::from_driver_info`,
/// the part of a build that reads `driver_info`) and the generic
/// `force_persistent_boot_device`. The builds themselves are not run: past the
/// config they only make clients (TLS set-up) and fill process-wide client caches
/// keyed by address, which parse nothing and which a fuzzer would grow with every
/// new address.
fn validate(driver: &str, info: &DriverInfo, ctx: &NodeContext) {
    const KNOWN: [&str; 10] = [
        "ipmi",
        "staging-nm",
        "msftocs",
        "staging-iboot",
        "staging-wol",
        "staging-amt",
        "oneview",
        "redfish",
        "openbmc",
        "staging-libvirt",
    ];
    let all = !KNOWN.contains(&driver);
    let is = |name: &str| all || driver == name;
    let _ = hwctl_core::BootPersistence::from_driver_info(info);
    if is("ipmi") {
        let _ = hwctl_ipmi::IpmiConfig::from_driver_info(info, ctx);
    }
    if is("staging-nm") {
        let _ = hwctl_nodemanager::NmConfig::from_driver_info(info, ctx);
    }
    if is("msftocs") {
        let _ = hwctl_ocs::OcsConfig::from_driver_info(info, ctx);
    }
    if is("staging-iboot") {
        let _ = hwctl_iboot::IbootConfig::from_driver_info(info, ctx);
    }
    if is("staging-wol") {
        let _ = hwctl_wol::WolConfig::from_driver_info(info, ctx);
    }
    if is("staging-amt") {
        let _ = hwctl_amt::AmtConfig::from_driver_info(info, ctx);
    }
    if is("oneview") {
        let _ = hwctl_oneview::OneviewConfig::from_driver_info(info, ctx);
    }
    if is("redfish") {
        let _ = hwctl_redfish::RedfishConfig::from_driver_info(info, ctx);
    }
    if is("openbmc") {
        let _ = hwctl_openbmc::OpenbmcConfig::from_driver_info(info, ctx);
    }
    if is("staging-libvirt") {
        let _ = hwctl_libvirt::LibvirtConfig::from_driver_info(info, ctx);
    }
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
/// `{"nodes": [...]}`), read in one pass as `hwctl fleet` does, each node turned
/// into driver_info + context and validated.
pub fn inventory(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if names_special_files(text) {
        return;
    }
    // The one-pass reader `hwctl fleet` uses (issue 16). Where it accepts a file,
    // the file is JSON, and so the general reader must accept it too.
    let nodes = match hwctl_inventory::Inventory::read(text) {
        Ok(hwctl_inventory::Inventory::Nodes(nodes)) => nodes,
        Ok(_) | Err(_) => return,
    };
    if serde_json::from_str::<Value>(text).is_err() {
        // One known difference: a number too large for a float in a skipped member
        // (`1e999`) is skipped by the one-pass reader and refused by the tree.
        assert!(
            text.contains('e') || text.contains('E'),
            "the inventory reader accepted what is not JSON"
        );
    }
    for node in nodes.iter().take(8) {
        let info = &node.driver_info;
        let mut ctx = NodeContext::new(node.name.clone());
        for p in &node.ports {
            if let Ok(mac) = p.parse::<MacAddress>() {
                ctx.ports.push(mac);
            }
        }
        ctx.capabilities = node.capabilities.clone();
        validate(&node.driver, info, &ctx);
    }
}

/// WS-Management replies of Intel AMT (SOAP envelopes, enumerations, faults).
pub fn amt_wsman(data: &[u8]) {
    use hwctl_amt::wire;
    let _ = wire::parse_envelope(data);
    if let Ok(r) = wire::parse_reply(data) {
        let _ = wire::enumeration_page(&r);
        let _ = r.return_value();
        let _ = r.instance();
    }
}

/// HPE OneView JSON replies.
pub fn oneview_json(data: &[u8]) {
    use hwctl_oneview::wire::{
        self, ApiVersion, Collection, IloSystem, OneviewErrorBody, ServerHardware, ServerProfile,
        Task, Utilization,
    };
    // A decode error quotes at most 200 characters of serde's message.
    let bounded = |e: hwctl_core::Error| assert_printable(&e.to_string(), 300);
    let _ = wire::decode::<ServerHardware>("x", data).map_err(bounded);
    let _ = wire::decode::<ServerProfile>("x", data).map_err(bounded);
    let _ = wire::decode::<Task>("x", data).map_err(bounded);
    let _ = wire::decode::<ApiVersion>("x", data).map_err(bounded);
    let _ = wire::decode::<Utilization>("x", data).map_err(bounded);
    let _ = wire::decode::<IloSystem>("x", data).map_err(bounded);
    let _ = wire::decode::<Collection<ServerHardware>>("x", data).map_err(bounded);
    let _ = OneviewErrorBody::parse(data);
}

/// Pre-session IPMI bytes (hwctl-ipmi's private decoders, through its hidden
/// `fuzzing` module): RMCP+ packets without keys, Open Session Response, RAKP 2/4,
/// the session-less v1.5 packet, authentication capabilities, cipher suite records.
/// The module asserts what the decoders accept and that our encodings read back.
pub fn ipmi_pre_session(data: &[u8]) {
    let _ = hwctl_ipmi::fuzzing::pre_session(data);
}

/// Replies to (bridged) IPMI requests, interpreted as the session does
/// (`hwctl_ipmi::fuzzing::bridged_reply`: byte 0 the bridging, bytes 1–3 the request,
/// then the reply message).
pub fn ipmi_bridged_reply(data: &[u8]) {
    let _ = hwctl_ipmi::fuzzing::bridged_reply(data);
}

/// No error text a reply can put in front of a person is unbounded or carries
/// control characters (terminal escapes).
fn assert_printable(text: &str, max: usize) {
    assert!(
        text.chars().count() <= max,
        "{} chars: {text:.200}",
        text.len()
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control character in {text:?}"
    );
}

/// Redfish replies (`hwctl_redfish::wire::decode` into every resource the driver
/// reads: service root, system, task monitor, chassis, thermal, power, sensor,
/// collection) and error bodies (`errors::status_error` for a non-2xx status picked
/// by the first byte).
pub fn redfish_json(data: &[u8]) {
    use hwctl_redfish::wire::{self, Collection, ComputerSystem, ErrorBody, ServiceRoot, Task};
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    if let Ok(root) = wire::decode::<ServiceRoot>(body, "root") {
        let _ = root.sessions();
    }
    if let Ok(sys) = wire::decode::<ComputerSystem>(body, "system") {
        let _ = (sys.power(), sys.chassis());
        if let Some(boot) = &sys.boot {
            let _ = (boot.setting(), boot.mode());
            if let Some(t) = &boot.boot_source_override_target {
                let _ = wire::device_of_target(t);
            }
        }
        if let Some(reset) = sys.reset() {
            let wanted = wire::reset_types(hwctl_core::power::PowerAction::Reboot);
            match wire::choose_reset_type(reset.allowable_values.as_deref(), wanted) {
                Ok(t) => assert!(wanted.contains(&t)),
                // The service's list is summarised, never quoted whole.
                Err(e) => assert_printable(&e.to_string(), 400),
            }
        }
    }
    if let Ok(task) = wire::decode::<Task>(body, "task") {
        let _ = format!("{task:?}");
    }
    if let Err(e) = wire::decode::<Collection>(body, "collection") {
        assert_printable(&e.to_string(), 400);
    }
    let _ = wire::decode::<wire::Chassis>(body, "chassis");
    let _ = wire::decode::<wire::Thermal>(body, "thermal");
    let _ = wire::decode::<wire::Power>(body, "power");
    let _ = wire::decode::<wire::Sensor>(body, "sensor");
    if let Ok(e) = wire::decode::<ErrorBody>(body, "error") {
        assert_printable(&e.summary(), 300);
    }
    const STATUSES: [u16; 12] = [300, 400, 401, 403, 404, 405, 409, 412, 429, 500, 503, 504];
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let status = hwctl_http::StatusCode::from_u16(status).expect("a valid status");
    let r = hwctl_http::Response::from_parts(status, hwctl_http::HeaderMap::new(), body.to_vec());
    let e = hwctl_redfish::errors::status_error(&r, "POST x");
    assert_eq!(e.kind(), hwctl_redfish::errors::kind_of(status));
    assert_printable(&e.to_string(), 400);
}

/// OpenBMC REST replies: the `{data, message, status}` envelope, and what the
/// driver reads from `data` (host state, boot source and mode, sensors).
pub fn openbmc_json(data: &[u8]) {
    use hwctl_openbmc::wire::{self, Envelope};
    match Envelope::decode(data, "x") {
        Ok(e) => {
            if let Ok(t) = e.text("x") {
                let _ = wire::host_power(t);
            }
            let s = |k: &str| e.data.get(k).and_then(serde_json::Value::as_str);
            if let (Some(src), Some(mode)) = (s("BootSource"), s("BootMode")) {
                let _ = wire::device_of(src, mode);
            }
            for r in wire::sensors(&e.data) {
                // A sensor without a value is never reported as working.
                assert!(r.value.is_some() || r.status == "unavailable", "{r:?}");
            }
            assert_printable(&e.describe(), 300);
        }
        Err(err) => assert_printable(&err.to_string(), 400),
    }
}

/// PXE templates. A template is operator configuration (hw-pxe's `render` docs:
/// bounded against mistakes, not a sandbox), so its text goes through the parser
/// only (`render::parse`). A node's data is untrusted: the `pxe_options` (JSON
/// after the first NUL, or the raw bytes as `pxe_append_params` when they are not
/// a JSON object) and the iPXE URI are rendered through the shipped template the
/// first byte picks, then the instance label switch runs over the result.
pub fn pxe_template(data: &[u8]) {
    use hwctl_pxe::render::{self, Loader};
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (template, params) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    if let Ok(template) = std::str::from_utf8(template) {
        let _ = render::parse(template, "pxe_config_template");
    }
    let text_value = String::from_utf8_lossy(params);
    let options = match serde_json::from_slice::<Value>(params) {
        Ok(Value::Object(o)) => o,
        _ => {
            let mut o = serde_json::Map::new();
            o.insert("pxe_append_params".into(), Value::from(text_value.as_ref()));
            o
        }
    };
    let loader = [Loader::Pxelinux, Loader::Grub, Loader::Ipxe][usize::from(selector >> 1) % 3];
    let out = if selector & 1 == 0 {
        let template = match loader {
            Loader::Pxelinux => render::PXE_CONFIG_TEMPLATE,
            Loader::Grub => render::GRUB_CONFIG_TEMPLATE,
            Loader::Ipxe => render::IPXE_CONFIG_TEMPLATE,
        };
        render::render(template, "pxe_config_template", &options)
    } else {
        render::render_boot_ipxe(render::BOOT_IPXE_TEMPLATE, &text_value)
    };
    let text = match out {
        Ok(text) => text,
        Err(e) => {
            assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter, "{e}");
            return;
        }
    };
    let switched = render::switch_label(&text, loader, "boot_partition", "UUID=1");
    assert_eq!(switched.lines().count(), text.lines().count());
}

/// A scratch TFTP root: files, a directory, and symbolic links inside and out.
fn tftp_root() -> &'static std::path::Path {
    static ROOT: OnceLock<std::path::PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        // One fixed directory, made idempotently: parallel runs share it.
        let dir = std::env::temp_dir().join("hw-fuzz-tftp-root");
        std::fs::create_dir_all(dir.join("pxelinux.cfg")).expect("tftp root");
        std::fs::write(dir.join("pxelinux.0"), b"loader").expect("tftp file");
        std::fs::write(dir.join("pxelinux.cfg/default"), b"default x").expect("tftp file");
        let _ = std::os::unix::fs::symlink("/etc", dir.join("etc"));
        let _ = std::os::unix::fs::symlink("/etc/hostname", dir.join("hostname"));
        let _ = std::os::unix::fs::symlink("pxelinux.cfg/default", dir.join("in"));
        std::fs::canonicalize(&dir).expect("tftp root")
    })
}

/// The file name of a TFTP read request, confined to the server root as hwctl-pxe's
/// TFTP handler does (`hwctl_pxe::tftp::confine`): whatever the bytes, a file it
/// grants is a regular file inside the root. (The packet itself, RRQ/WRQ framing
/// and options, is parsed by the `async-tftp` crate, privately.)
pub fn tftp_path(data: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let root = tftp_root();
    let requested = std::path::Path::new(std::ffi::OsStr::from_bytes(data));
    match hwctl_pxe::tftp::confine(root, requested) {
        Ok(real) => {
            assert!(real.starts_with(root), "{real:?} is outside {root:?}");
            assert!(real.is_file(), "{real:?} is not a file");
            assert!(
                !requested
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir)),
                "{requested:?} has .. and was granted"
            );
        }
        Err(e) => assert!(
            matches!(
                e.kind(),
                hwctl_core::ErrorKind::InvalidParameter | hwctl_core::ErrorKind::NotFound
            ),
            "{e}"
        ),
    }
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
    ("ipmi_pre_session", ipmi_pre_session),
    ("ipmi_bridged_reply", ipmi_bridged_reply),
    ("redfish_json", redfish_json),
    ("openbmc_json", openbmc_json),
    ("pxe_template", pxe_template),
    ("tftp_path", tftp_path),
];
