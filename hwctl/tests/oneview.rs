//! `hwctl` against the OneView simulator over TLS with a throwaway CA: power
//! on/off/status/reboot, `boot set pxe` (one-time, through the iLO) and `boot set
//! disk --persistent` (through the profile), and `vendor call` allocating and
//! freeing a profile — each a separate run, as a user types them.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::Command;
use std::sync::Arc;

use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn tls() -> (String, Arc<rustls::ServerConfig>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "hwctl test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    (ca.pem(), Arc::new(config))
}

fn hwctl(base: &[String], args: &[&str]) -> (bool, String) {
    let o = {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    }
    .args(base)
    .args(args)
    .output()
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_boot_and_allocation_through_the_cli_over_tls() {
    let (ca_pem, config) = tls();
    let mut ca = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
    ca.write_all(ca_pem.as_bytes()).unwrap();
    let sim = OneviewSim::start(OneviewSimConfig {
        tls: Some(config),
        ..OneviewSimConfig::default()
    })
    .await
    .unwrap();
    let common = |i: usize| -> Vec<String> {
        [
            "--driver".to_owned(),
            "oneview".to_owned(),
            "--node-id".to_owned(),
            format!("node-{i}"),
            "--info".to_owned(),
            format!("oneview_manager_url={}", sim.base_url()),
            "--info".to_owned(),
            "oneview_username=Administrator".to_owned(),
            "--info".to_owned(),
            "oneview_password=password".to_owned(),
            "--info".to_owned(),
            format!("oneview_tls_cacert_file={}", ca.path().display()),
            "--info".to_owned(),
            "oneview_task_poll_interval=0.05".to_owned(),
            "--info".to_owned(),
            format!("server_hardware_uri={}", sim.server_uri(i)),
            "--info".to_owned(),
            format!("server_profile_template_uri={}", sim.template_uri()),
        ]
        .to_vec()
    };
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    // Server 0 carries this node's profile (found by its name, node-0 is not
    // oneview-1: pass the URI as Ironic did).
    let mut n0 = common(0);
    n0.extend([
        "--info".to_owned(),
        format!(
            "applied_server_profile_uri={}",
            sim.server(0).unwrap().profile.unwrap()
        ),
    ]);
    let run = |base: Vec<String>, args: &'static [&'static str]| {
        tokio::task::spawn_blocking(move || hwctl(&base, args))
    };
    for (args, want) in [
        (&["power", "status"][..], "off"),
        (&["power", "on"][..], "on"),
        (&["power", "reboot"][..], "on"),
        (&["boot", "set", "pxe"][..], "pxe"),
        (&["boot", "get"][..], "pxe (persistent: no)"),
        (&["boot", "set", "disk", "--persistent"][..], "disk"),
        (&["boot", "get"][..], "disk (persistent: yes)"),
        (&["power", "off"][..], "off"),
        (&["power", "status"][..], "off"),
    ] {
        let (ok, out) = run(n0.clone(), args).await.unwrap();
        assert!(ok && out.contains(want), "hwctl {args:?}: {out}");
    }
    let s = sim.server(0).unwrap();
    assert_eq!(s.boot_order[0], "HardDisk");
    assert_eq!(
        s.ilo_once, None,
        "the persistent setting cancelled the one-time PXE"
    );
    // The profile's PXE, set in one run, used by a power on in the next.
    let (ok, out) = run(n0.clone(), &["boot", "set", "pxe"]).await.unwrap();
    assert!(ok, "{out}");
    let (ok, out) = run(n0.clone(), &["power", "on"]).await.unwrap();
    assert!(ok, "{out}");
    assert_eq!(
        sim.server(0).unwrap().boots.last().map(String::as_str),
        Some("Pxe")
    );

    // A free server: allocated and freed through vendor passthru, in separate runs.
    let n6 = common(6);
    let (ok, out) = run(n6.clone(), &["vendor", "call", "server_status"])
        .await
        .unwrap();
    assert!(ok && out.contains("\"free\""), "{out}");
    let (ok, out) = run(n6.clone(), &["vendor", "call", "allocate_server"])
        .await
        .unwrap();
    assert!(ok && out.contains("applied_server_profile_uri"), "{out}");
    let profile = sim
        .server(6)
        .unwrap()
        .profile
        .expect("a profile was applied");
    assert!(out.contains(&profile), "{out}");
    let (ok, out) = run(n6.clone(), &["boot", "set", "pxe", "--persistent"])
        .await
        .unwrap();
    assert!(ok, "{out}");
    assert_eq!(sim.server(6).unwrap().boot_order[0], "PXE");
    let (ok, out) = run(n6.clone(), &["vendor", "call", "deallocate_server"])
        .await
        .unwrap();
    assert!(ok && out.contains(&profile), "{out}");
    assert_eq!(sim.server(6).unwrap().profile, None);
    // Every run logged its session out.
    assert_eq!(hwctl_sim::Simulator::stats(&sim).open_sessions, 0);
}
