//! A `staging-nm` node's serial console: IPMI Serial over LAN through
//! `hwctl_ipmi::IpmiConsole`, against the `hwctl-ipmi` simulator BMC with Node
//! Manager plugged in (Ironic's `staging-nm` is its `ipmi` type plus the Node
//! Manager vendor methods, console included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hwctl_core::shared::Shared;
use hwctl_core::{ErrorKind, HttpMethod, NodeContext};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// A bound on anything that could hang: a hang fails the test instead of blocking
/// CI (no assertion on how long anything took).
const HANG: Duration = Duration::from_secs(30);

/// Reads until `want` has been seen; returns everything read.
async fn read_until(stream: &mut (impl AsyncRead + Unpin), want: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(HANG, async {
        while !seen.windows(want.len()).any(|w| w == want) {
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "end of stream before {want:?}; read {seen:?}");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("hung");
    seen
}

/// The node has a console (it had none: `node.console()` was `Unsupported`);
/// what is written reaches the BMC's serial line and its echo comes back, power and
/// Node Manager keep working on the shared session while the console is open, a
/// second console is `Busy` naming `staging-nm`, and shutdown deactivates SOL.
#[tokio::test]
async fn a_staging_nm_node_has_the_ipmi_sol_console() {
    let sim = hwctl_nodemanager::sim::start_bmc(Default::default())
        .await
        .unwrap();
    let node = hwctl_nodemanager::hardware_type_with(Shared::new())
        .build(&sim.bmc.driver_info(), &NodeContext::new("nm-1"))
        .unwrap();
    assert!(node.capabilities().console);

    let mut stream = node.console().unwrap().open().await.unwrap();
    assert!(sim.bmc.sol_active());
    stream.write_all(b"nm-login\r").await.unwrap();
    read_until(&mut stream, b"nm-login\r").await;
    assert_eq!(sim.bmc.sol_received(), b"nm-login\r");

    // Power and Node Manager go on over the node's shared session meanwhile.
    node.power().unwrap().get_power_state().await.unwrap();
    let v = node
        .vendor()
        .unwrap()
        .call("get_nm_version", HttpMethod::Get, serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(v["nm"], "3.0");
    let s = sim.bmc.stats();
    assert_eq!(
        s.open_sessions, 2,
        "the console's own and the shared one: {s:?}"
    );

    let err = match node.console().unwrap().open().await {
        Ok(_) => panic!("a second console opened while SOL is held"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert_eq!(err.driver(), Some("staging-nm"), "{err:?}");
    assert!(err.to_string().contains("already active"), "{err}");

    stream.shutdown().await.unwrap();
    assert!(!sim.bmc.sol_active());
    assert_eq!(sim.bmc.stats().sol_deactivations, 1);
}
