//! `hwctl capabilities --json` printed `"boot": false` beside `"boot_interfaces":
//! ["pxe", "ipxe"]` (a newcomer's fleet trial): the library's field says whether
//! the node as built has a boot interface attached, and this command never
//! attaches one. `boot` now says whether the node can be network-booted through
//! hwctl, as the table's `boot` row always did.
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

/// Every hardware type of this build declares `pxe` and `ipxe`, so `boot` is true
/// for each; it follows `boot_interfaces` whatever the type.
#[test]
fn boot_agrees_with_boot_interfaces() {
    for node in [
        &["--driver", "fake-hardware"][..],
        &["--driver", "staging-wol", "--port", "52:54:00:12:34:56"][..],
    ] {
        let caps = capabilities(node);
        assert_eq!(
            caps["boot_interfaces"],
            serde_json::json!(["pxe", "ipxe"]),
            "{caps}"
        );
        assert_eq!(caps["capabilities"]["boot"], true, "{caps}");
    }
}
