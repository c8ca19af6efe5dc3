//! A throwaway CA (rcgen) and a TLS simulator for the TLS and peer tests.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::io::Write;
use std::sync::Arc;

use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct Pki {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

fn make_ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it.
pub fn make_pki() -> Pki {
    let (ca, ca_key) = make_ca("hwctl-oneview test CA");
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
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
    Pki {
        ca_pem: ca.pem(),
        server_config: Arc::new(server_config),
    }
}

/// Another CA's certificate (signed nothing we serve).
pub fn other_ca_pem() -> String {
    make_ca("someone else's CA").0.pem()
}

pub fn pem_file(pem: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
    f.write_all(pem.as_bytes()).unwrap();
    f.flush().unwrap();
    f
}

/// A TLS simulator whose driver_info names `ca`.
pub async fn tls_sim(pki: &Pki, ca: &std::path::Path, config: OneviewSimConfig) -> OneviewSim {
    OneviewSim::start(OneviewSimConfig {
        tls: Some(pki.server_config.clone()),
        ca_file: Some(ca.to_owned()),
        ..config
    })
    .await
    .unwrap()
}
