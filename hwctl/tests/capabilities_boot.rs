//! `hwctl capabilities --json` carried `capabilities.boot`: first the library's
//! "a boot interface is attached to the node as built" (always `false` here, beside
//! `"boot_interfaces": ["pxe", "ipxe"]`), then "`boot_interfaces` is not empty",
//! which is `true` for every hardware type of this build (iBoot and Wake-on-LAN
//! included) and which an operator read as "can set the boot device". It is gone:
//! network boot is `boot_interfaces`, and whether the boot device can be set is
//! `management.boot_devices`, spelled out as `management.can_set_boot_device`
//! (docs/decisions.md, 92).
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use serde_json::Value;

fn capabilities(node: &[&str]) -> Value {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state.path())
        .env_remove("HWCTL_LOG")
        .args(node)
        .args(["--json", "capabilities"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const WOL: &[&str] = &["--driver", "staging-wol", "--port", "52:54:00:12:34:56"];
const IBOOT: &[&str] = &[
    "--driver",
    "staging-iboot",
    "--info",
    "iboot_address=10.0.0.5",
    "--info",
    "iboot_username=admin",
    "--info",
    "iboot_password=pw",
];

/// No `capabilities.boot` for any type: it said nothing a reader could use.
/// Network boot stays `boot_interfaces`.
#[test]
fn there_is_no_boot_flag_and_network_boot_is_boot_interfaces() {
    for node in [&["--driver", "fake-hardware"][..], WOL, IBOOT] {
        let caps = capabilities(node);
        assert!(
            caps["capabilities"].get("boot").is_none(),
            "capabilities.boot is still printed: {caps}"
        );
        assert_eq!(
            caps["boot_interfaces"],
            serde_json::json!(["pxe", "ipxe"]),
            "{caps}"
        );
    }
}

/// "Can set the boot device" is management's: `can_set_boot_device` agrees with
/// `boot_devices`, and the power-only types (no management interface) have none.
#[test]
fn setting_the_boot_device_is_managements() {
    let fake = capabilities(&["--driver", "fake-hardware"]);
    let mgmt = &fake["capabilities"]["management"];
    assert_eq!(mgmt["can_set_boot_device"], true, "{fake}");
    assert!(
        mgmt["boot_devices"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "pxe")),
        "{fake}"
    );
    for node in [WOL, IBOOT] {
        let caps = capabilities(node);
        assert!(caps["capabilities"]["management"].is_null(), "{caps}");
    }
}
