//! TLS to the appliance and its iLOs: a custom CA accepted, a wrong one refused,
//! insecure only when asked (and logged).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::{BootDevice, PowerState, PowerTarget};
use hwctl_oneview::sim::OneviewSimConfig;
use hwctl_sim::Simulator;

const T: Option<Duration> = Some(Duration::from_secs(10));

#[tokio::test]
async fn a_custom_ca_is_accepted_for_the_appliance_and_the_ilo() {
    let pki = common::make_pki();
    let ca = common::pem_file(&pki.ca_pem);
    let sim = common::tls_sim(&pki, ca.path(), OneviewSimConfig::default()).await;
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let node = hwctl_oneview::hardware_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    node.power()
        .unwrap()
        .set_power_state(PowerTarget::On, T)
        .await
        .unwrap();
    assert_eq!(
        node.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    // The one-time boot goes to the iLO over TLS with the same CA.
    node.management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, false)
        .await
        .unwrap();
    assert_eq!(sim.server(0).unwrap().ilo_once.as_deref(), Some("Pxe"));
    node.management()
        .unwrap()
        .set_boot_device(BootDevice::Disk, true)
        .await
        .unwrap();
    assert_eq!(sim.server(0).unwrap().boot_order[0], "HardDisk");
}

#[tokio::test]
async fn a_wrong_ca_or_the_default_roots_are_refused() {
    let pki = common::make_pki();
    let ca = common::pem_file(&pki.ca_pem);
    let wrong = common::pem_file(&common::other_ca_pem());
    let sim = common::tls_sim(&pki, ca.path(), OneviewSimConfig::default()).await;
    let mut info = sim.driver_info(0);
    info.insert(
        "oneview_tls_cacert_file",
        wrong.path().display().to_string(),
    );
    let node = hwctl_oneview::hardware_type()
        .build(&info, &sim.node_context(0))
        .unwrap();
    let e = node.power().unwrap().get_power_state().await.unwrap_err();
    assert!(!e.is_retryable(), "{e}"); // hwctl-http: a rejected certificate is not retried
    assert!(e.to_string().contains("certificate"), "{e}");
    // The advice names OneView's own keys: its CA key takes files only, so the off
    // switch is oneview_allow_insecure_connections (a newcomer followed
    // "oneview_tls_cacert_file=false" into an invalid-parameter error).
    assert!(
        e.to_string()
            .contains("set oneview_tls_cacert_file to the path")
            && e.to_string()
                .contains("oneview_allow_insecure_connections=true turns verification off")
            && !e.to_string().contains("oneview_tls_cacert_file=false"),
        "{e}"
    );
    info.remove("oneview_tls_cacert_file");
    let node = hwctl_oneview::hardware_type()
        .build(&info, &sim.node_context(0))
        .unwrap();
    let e = node.power().unwrap().get_power_state().await.unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    assert_eq!(sim.stats().common.sessions_opened, 0);
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn insecure_only_when_asked_and_logged() {
    let pki = common::make_pki();
    let ca = common::pem_file(&pki.ca_pem);
    let sim = common::tls_sim(&pki, ca.path(), OneviewSimConfig::default()).await;
    let mut info = sim.driver_info(0);
    info.remove("oneview_tls_cacert_file");
    info.insert("oneview_allow_insecure_connections", "true");
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .finish();
    let node = tracing::subscriber::with_default(subscriber, || {
        hwctl_oneview::hardware_type()
            .build(&info, &sim.node_context(0))
            .unwrap()
    });
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("NOT verified"), "{log}");
    node.power()
        .unwrap()
        .set_power_state(PowerTarget::On, T)
        .await
        .unwrap();
    node.management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, false)
        .await
        .unwrap();
    assert_eq!(sim.server(0).unwrap().ilo_once.as_deref(), Some("Pxe"));
    // Not asked: refused.
    info.insert("oneview_allow_insecure_connections", "false");
    let node = hwctl_oneview::hardware_type()
        .build(&info, &sim.node_context(0))
        .unwrap();
    assert!(node.power().unwrap().get_power_state().await.is_err());
}
