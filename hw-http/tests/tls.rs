//! TLS with a throwaway CA made by rcgen: verified with the CA file, rejected
//! without it (and with another CA), accepted with the explicit insecure option.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hwctl_core::ErrorKind;
use hwctl_http::testing::{Reply, TestServer};
use hwctl_http::{EndpointConfig, HttpClient, RetryPolicy, TlsConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Pki {
    ca_pem: String,
    server_config: Arc<rustls::ServerConfig>,
}

fn make_ca() -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "hwctl-http test CA");
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

fn make_pki() -> Pki {
    make_pki_with(
        vec!["127.0.0.1".to_string(), "localhost".to_string()],
        |_| {},
    )
}

/// A CA and a server certificate for `names`, adjusted by `adjust` before signing.
fn make_pki_with(names: Vec<String>, adjust: impl FnOnce(&mut CertificateParams)) -> Pki {
    let (ca, ca_key) = make_ca();
    let mut params = CertificateParams::new(names).unwrap();
    adjust(&mut params);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_config: server_config(&cert, &key),
    }
}

/// A TLS server configuration presenting `cert` (with its `key`).
fn server_config(cert: &rcgen::Certificate, key: &KeyPair) -> Arc<rustls::ServerConfig> {
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
    Arc::new(config)
}

async fn server(pki: &Pki) -> TestServer {
    TestServer::start_tls(pki.server_config.clone(), |_| Reply::ok("over tls"))
        .await
        .unwrap()
}

fn client(base_url: String, tls: TlsConfig) -> hwctl_core::Result<HttpClient> {
    HttpClient::new(
        EndpointConfig::builder(base_url)
            .tls(tls)
            .retry(RetryPolicy::none())
            .build()?,
    )
}

#[tokio::test]
async fn verified_with_the_ca_file() {
    let pki = make_pki();
    let server = server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();

    let c = client(server.base_url(), TlsConfig::ca_file(&ca_file)).unwrap();
    let reply = c.get("/x").await.unwrap();
    assert_eq!(reply.text().unwrap(), "over tls");
    // The name form works too (the certificate covers "localhost").
    let url = format!("https://localhost:{}/", server.addr().port());
    let c = client(url, TlsConfig::ca_pem(pki.ca_pem.clone())).unwrap();
    assert_eq!(c.get("/x").await.unwrap().status(), 200);
}

#[tokio::test]
async fn rejected_without_the_ca() {
    let pki = make_pki();
    let server = server(&pki).await;

    // Default: Mozilla roots, which do not include our throwaway CA.
    let c = client(server.base_url(), TlsConfig::verified()).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadCertificate, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 0);

    // Another CA: rejected as well.
    let (other_ca, _) = make_ca();
    let c = client(server.base_url(), TlsConfig::ca_pem(other_ca.pem())).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

/// The message is a sentence a person reads, never rustls' `Debug` text.
fn assert_readable(err: &hwctl_core::Error, sentence: &str) {
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::BadCertificate, "{text}");
    assert!(!err.is_retryable(), "{text}");
    assert!(text.contains(sentence), "{text:?} lacks {sentence:?}");
    for debug in [
        "Context",
        "IpAddress",
        "DnsName",
        "UnixTime",
        "{",
        "UnknownIssuer",
    ] {
        assert!(!text.contains(debug), "{text:?} has Debug text {debug:?}");
    }
}

#[tokio::test]
async fn an_unknown_issuer_is_a_bad_certificate_in_words() {
    let pki = make_pki();
    let server = server(&pki).await;
    let c = client(server.base_url(), TlsConfig::verified()).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert_readable(&err, "certificate issued by an unknown authority");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_bad_certificate_in_words() {
    let pki = make_pki_with(vec!["other.example".to_string()], |_| {});
    let server = server(&pki).await;
    let c = client(server.base_url(), TlsConfig::ca_pem(pki.ca_pem.clone())).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert_readable(
        &err,
        "certificate for other.example does not match 127.0.0.1",
    );
}

#[tokio::test]
async fn an_expired_certificate_is_a_bad_certificate_in_words() {
    let pki = make_pki_with(vec!["127.0.0.1".to_string()], |p| {
        p.not_before = rcgen::date_time_ymd(2019, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    });
    let server = server(&pki).await;
    let c = client(server.base_url(), TlsConfig::ca_pem(pki.ca_pem.clone())).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert_readable(&err, "certificate expired on 2020-01-01 00:00:00 UTC");
}

#[tokio::test]
async fn accepted_with_the_explicit_insecure_option() {
    let pki = make_pki();
    let server = server(&pki).await;
    let tls = TlsConfig::danger_accept_invalid_certs();
    assert!(tls.accepts_invalid_certs());
    assert!(format!("{tls:?}").contains("INSECURE"));
    let c = client(server.base_url(), tls).unwrap();
    assert_eq!(c.get("/x").await.unwrap().text().unwrap(), "over tls");
}

#[tokio::test]
async fn bad_ca_files_are_reported_at_build_time() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem");
    let err = EndpointConfig::builder("https://127.0.0.1:1/")
        .tls(TlsConfig::ca_file(&missing))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert!(err.to_string().contains("ca_file"), "{err}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let err = client("https://127.0.0.1:1/".into(), TlsConfig::ca_file(&garbage)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
}

#[tokio::test]
async fn plain_http_to_a_tls_port_is_a_typed_error() {
    let pki = make_pki();
    let server = server(&pki).await;
    let url = format!("http://{}/", server.addr());
    let c = HttpClient::new(
        EndpointConfig::builder(url)
            .retry(RetryPolicy::none())
            .request_timeout(std::time::Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Protocol | ErrorKind::Unreachable | ErrorKind::Timeout
        ),
        "{err}"
    );
}

/// `https://` to a server speaking plain HTTP says so (a newcomer got
/// `error [other] … received corrupt message of type InvalidContentType`).
#[tokio::test]
async fn tls_to_a_plain_http_server_says_it_answered_in_plain_http() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A plain HTTP server answers the ClientHello's bytes as a bad request.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    let url = format!("https://{addr}/");
    let c = client(url, TlsConfig::verified()).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("did not answer in TLS") && text.contains("http://"),
        "{text}"
    );
    assert!(!text.contains("InvalidContentType"), "{text}");
}

/// `https://` pointed at a plain-HTTP port is never retried (operator trial: each
/// idempotent request was tried three times, two warnings each): the peer answered
/// bytes that are not TLS, which no retry changes. Counted at a plain HTTP
/// listener, under a policy that would retry a retryable failure.
#[tokio::test]
async fn tls_to_a_plain_http_server_is_not_retried() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    let c = HttpClient::new(
        EndpointConfig::builder(format!("https://{addr}/"))
            .retry(
                RetryPolicy::default().with_backoff(hwctl_core::poll::Backoff::fixed(
                    std::time::Duration::from_millis(1),
                )),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = c.get("/redfish/v1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("http://"), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "{err}");
    assert_eq!(c.stats().attempts, 1);
}

/// Issue 15: a rejected certificate names the driver's own CA setting (the key the
/// user can change), and that `false` turns verification off.
#[tokio::test]
async fn a_rejected_certificate_names_the_drivers_verify_ca_key() {
    use hwctl_core::{DriverInfo, Property};
    use hwctl_http::driver_info::EndpointKeys;

    let pki = make_pki();
    let server = server(&pki).await;
    for (url_key, key) in [
        ("redfish_address", "redfish_verify_ca"),
        ("amt_address", "amt_verify_ca"),
    ] {
        let keys = EndpointKeys::new(url_key).verify_ca(key);
        let schema = [
            Property::required(url_key, "URL."),
            Property::optional(key, "CA."),
        ];
        let info = DriverInfo::from_pairs([(url_key, server.base_url().as_str())]);
        let mut v = info.validator(&schema);
        let config = EndpointConfig::read(&mut v, &keys, Some("https"))
            .unwrap()
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        v.finish().unwrap();
        assert_eq!(config.tls().setting(), Some(key));
        let err = HttpClient::new(config)
            .unwrap()
            .get("/x")
            .await
            .unwrap_err();
        assert_readable(&err, "certificate issued by an unknown authority");
        let text = err.to_string();
        assert!(
            text.contains(&format!("set {key} to the path of a CA bundle")),
            "{text}"
        );
        assert!(text.contains(&format!("{key}=false")), "{text}");
    }
    // A driver whose CA key takes files only names its own off switch.
    let tls = TlsConfig::verified()
        .with_setting("oneview_tls_cacert_file")
        .with_off_switch("oneview_allow_insecure_connections=true");
    let text = client(server.base_url(), tls)
        .unwrap()
        .get("/x")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("set oneview_tls_cacert_file to the path of a CA bundle")
            && text.contains("oneview_allow_insecure_connections=true turns verification off")
            && !text.contains("oneview_tls_cacert_file=false"),
        "{text}"
    );
    // Without a driver key (the library used directly) the advice stays generic.
    let c = client(server.base_url(), TlsConfig::verified()).unwrap();
    let text = c.get("/x").await.unwrap_err().to_string();
    assert!(!text.contains("verify_ca"), "{text}");
}

/// A self-signed certificate marked CA:TRUE serving as the server's own (what a
/// plain `openssl req -x509` makes, common on BMCs) is refused even when that very
/// file is the trusted CA; the error says so in words, not as `CaUsedAsEndEntity`.
#[tokio::test]
async fn a_ca_certificate_serving_as_the_servers_own_is_explained_in_words() {
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let server = TestServer::start_tls(server_config(&cert, &key), |_| Reply::ok("x"))
        .await
        .unwrap();
    let c = client(server.base_url(), TlsConfig::ca_pem(cert.pem())).unwrap();
    let err = c.get("/x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadCertificate, "{err}");
    assert_readable(&err, "certificate is a CA certificate (CA:TRUE)");
    assert!(!err.to_string().contains("CaUsedAsEndEntity"), "{err}");
}
