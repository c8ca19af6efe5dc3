//! HTTPS (AMT's 16993): a custom CA verifies the simulator's certificate, a wrong
//! CA is refused, `amt_verify_ca=false` accepts it (insecure, logged).
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::sync::Arc;

use hwctl_amt::sim::{AmtSim, AmtSimConfig};
use hwctl_core::{ErrorKind, PowerState};
use hwctl_sim::Simulator as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn make_ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

fn pem_file(pem: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
    f.write_all(pem.as_bytes()).unwrap();
    f
}

async fn tls_sim() -> (AmtSim, tempfile::NamedTempFile) {
    let (ca, ca_key) = make_ca("hwctl-amt test CA");
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
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
    let ca_file = pem_file(&ca.pem());
    let sim = AmtSim::start(AmtSimConfig {
        tls: Some(Arc::new(server)),
        ca_file: Some(ca_file.path().to_owned()),
        ..AmtSimConfig::default()
    })
    .await
    .unwrap();
    (sim, ca_file)
}

#[tokio::test]
async fn a_custom_ca_verifies_and_a_wrong_one_is_refused() {
    let (sim, _ca) = tls_sim().await;
    let info = sim.driver_info(0);
    assert_eq!(info.get_str("amt_protocol").as_deref(), Some("https"));
    let node = hwctl_amt::hardware_type()
        .build(&info, &sim.node_context(0))
        .unwrap();
    assert_eq!(
        node.power().unwrap().get_power_state().await.unwrap(),
        PowerState::Off
    );

    let other = pem_file(&make_ca("someone else's CA").0.pem());
    let mut wrong = info.clone();
    wrong.insert("amt_verify_ca", other.path().display().to_string());
    let node = hwctl_amt::hardware_type()
        .build(&wrong, &sim.node_context(0))
        .unwrap();
    let e = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_ne!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    // The system roots do not know the test CA either.
    let mut system = info.clone();
    system.insert("amt_verify_ca", "true");
    let node = hwctl_amt::hardware_type()
        .build(&system, &sim.node_context(0))
        .unwrap();
    assert!(node.power().unwrap().get_power_state().await.is_err());

    // Insecure on request.
    let mut insecure = info;
    insecure.insert("amt_verify_ca", "false");
    let node = hwctl_amt::hardware_type()
        .build(&insecure, &sim.node_context(0))
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
}
