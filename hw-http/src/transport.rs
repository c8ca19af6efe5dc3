//! The connector under the pool (`crate::pool`): DNS, TCP connect and the rustls handshake,
//! all within the connect timeout, with errors that say what failed.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hwctl_core::ErrorKind;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::{CaSource, TlsConfig};

/// Why a connection could not be opened (nothing was sent on it).
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) source: Option<io::Error>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// Builds the rustls client config for `tls` with the ring provider.
pub(crate) fn client_config(tls: &TlsConfig) -> Result<ClientConfig, hwctl_core::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| hwctl_core::Error::new(ErrorKind::Other, format!("TLS setup failed: {e}")))?;
    if tls.accept_invalid_certs {
        let chosen_by = tls
            .off_switch()
            .unwrap_or_else(|| "danger_accept_invalid_certs".into());
        tracing::warn!(
            "TLS certificate verification is DISABLED for this endpoint \
             ({chosen_by}): the connection can be read and altered on its path"
        );
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    let pem = match &tls.ca {
        CaSource::WebpkiRoots => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            None
        }
        CaSource::File(path) => Some((
            std::fs::read(path).map_err(|e| {
                hwctl_core::Error::invalid_parameter(
                    "ca_file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?,
            path.display().to_string(),
        )),
        CaSource::Pem(pem) => Some((pem.clone(), "the CA PEM".to_string())),
    };
    if let Some((pem, what)) = pem {
        add_ca_pem(&mut roots, &pem).map_err(|why| {
            hwctl_core::Error::invalid_parameter("ca_file", format!("{what} {why}"))
        })?;
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Adds the CA certificates of `pem` to `roots`; `Err(why)` (to follow the file's
/// name in a message) when it is not PEM, holds no certificate, or holds one that
/// is not a usable CA certificate.
pub(crate) fn add_ca_pem(roots: &mut rustls::RootCertStore, pem: &[u8]) -> Result<(), String> {
    let before = roots.len();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("is not valid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("holds a certificate that is not a usable CA certificate: {e}"))?;
    }
    if roots.len() == before {
        return Err("holds no PEM certificate (expected a CA bundle)".into());
    }
    Ok(())
}

/// The verifier behind `danger_accept_invalid_certs`: any certificate, but the
/// handshake signatures are still checked (so the peer holds the key it shows).
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Opens the endpoint's connections: plain TCP, or TCP + rustls.
///
/// Every open connection holds one of the endpoint's `max_connections` slots until it
/// closes, so the pool can never have more connections open to the endpoint than
/// that.
pub(crate) struct Connector {
    tls: Option<TlsConnector>,
    /// The host to connect to (an IPv6 literal without its brackets) and the port.
    host: String,
    port: u16,
    connect_timeout: Duration,
    slots: Arc<Semaphore>,
    max_connections: usize,
    /// What a rejected certificate's error advises, naming the user's settings
    /// (`set redfish_verify_ca to …`; [`TlsConfig::certificate_hint`]).
    ca_hint: Option<Arc<str>>,
    /// The last connection that could not be opened, until one is
    /// ([`FoundUnreachable`]).
    unreachable: FoundUnreachable,
}

/// The client's failure bookkeeping: when a connection to the endpoint could not
/// be opened (refused, no route, a resolver failing for now, the connect timeout
/// passed: an `Unreachable` or `Timeout` [`ConnectError`]), and what that error
/// said; cleared when a connection opens.
///
/// `Core::execute` fails a request that *starts* while the mark is younger than
/// the retry policy's longest backoff wait at once, without a connection attempt
/// or a retry (the nodes of one chassis share one client: 48 blades of a chassis
/// whose manager refused connections were 48 retry loops, 96 warnings). Requests
/// already started go on as they would have.
#[derive(Default)]
pub(crate) struct FoundUnreachable {
    /// Whether `last` holds a mark: the one load a request makes when all is well.
    marked: std::sync::atomic::AtomicBool,
    last: std::sync::Mutex<Option<UnreachableMark>>,
}

/// When a connection last failed to open, and the error's message.
#[derive(Debug, Clone)]
pub(crate) struct UnreachableMark {
    pub(crate) at: tokio::time::Instant,
    pub(crate) message: String,
}

impl FoundUnreachable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<UnreachableMark>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a connection that could not be opened (the newest failure wins).
    pub(crate) fn mark(&self, message: &str) {
        let mut last = self.lock();
        *last = Some(UnreachableMark {
            at: tokio::time::Instant::now(),
            message: message.to_owned(),
        });
        self.marked
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// A connection opened: the endpoint is reachable again.
    pub(crate) fn clear(&self) {
        if self.marked.load(std::sync::atomic::Ordering::Acquire) {
            let mut last = self.lock();
            *last = None;
            self.marked
                .store(false, std::sync::atomic::Ordering::Release);
        }
    }

    /// The mark, if one is younger than `window`.
    pub(crate) fn within(&self, window: Duration) -> Option<UnreachableMark> {
        if !self.marked.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        self.lock()
            .as_ref()
            .filter(|m| m.at.elapsed() < window)
            .cloned()
    }
}

impl Connector {
    pub(crate) fn new(
        tls: Option<Arc<ClientConfig>>,
        host: &str,
        port: u16,
        connect_timeout: Duration,
        max_connections: usize,
        ca_hint: Option<String>,
    ) -> Self {
        Connector {
            tls: tls.map(TlsConnector::from),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            connect_timeout,
            slots: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            ca_hint: ca_hint.map(Arc::from),
            unreachable: FoundUnreachable::default(),
        }
    }

    /// When a connection to the endpoint last failed to open, if none opened
    /// since and that was less than `window` ago.
    pub(crate) fn found_unreachable(&self, window: Duration) -> Option<UnreachableMark> {
        self.unreachable.within(window)
    }

    /// Connections open right now (for tests and stats).
    pub(crate) fn open_connections(&self) -> usize {
        self.max_connections - self.slots.available_permits()
    }

    /// Opens a connection holding one of the endpoint's connection slots: the slot
    /// is waited for, then DNS, TCP and TLS, each wait bounded by the connect
    /// timeout.
    pub(crate) async fn open(&self) -> Result<Limited, ConnectError> {
        let (host, port) = (&self.host, self.port);
        let timeout = self.connect_timeout;
        // A request holding one of the endpoint's request slots finds an idle
        // connection or a free connection slot almost at once (both limits are the
        // same number, and a connection is back in the idle list before its request
        // frees its slot); the wait is bounded all the same.
        let slot = match tokio::time::timeout(timeout, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) => {
                return Err(ConnectError {
                    kind: ErrorKind::Other,
                    message: "the client is closed".into(),
                    source: None,
                });
            }
            Err(_) => {
                return Err(ConnectError {
                    kind: ErrorKind::Busy,
                    message: format!(
                        "all {} connections to {host}:{port} stayed busy for {timeout:?}",
                        self.max_connections
                    ),
                    source: None,
                });
            }
        };
        let opened = match tokio::time::timeout(timeout, self.connect(host, port)).await {
            Ok(r) => r.map(|inner| Limited { inner, _slot: slot }),
            Err(_) => Err(ConnectError {
                kind: ErrorKind::Timeout,
                message: format!("connecting to {host}:{port} timed out after {timeout:?}"),
                source: None,
            }),
        };
        match &opened {
            Ok(_) => self.unreachable.clear(),
            Err(e) if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Timeout) => {
                self.unreachable.mark(&e.message);
            }
            Err(_) => {}
        }
        opened
    }
}

/// A connection holding its endpoint slot; the slot is freed when hyper's
/// connection task drops it (the connection closed).
pub(crate) struct Limited {
    inner: Stream,
    _slot: OwnedSemaphorePermit,
}

impl hyper::rt::Read for Limited {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Limited {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A connection: plain or TLS.
pub(crate) enum Stream {
    Plain(TokioIo<TcpStream>),
    Tls(Box<TokioIo<TlsStream<TcpStream>>>),
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl Connector {
    async fn connect(&self, host: &str, port: u16) -> Result<Stream, ConnectError> {
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| resolve_error(host, e))?
                .collect(),
        };
        let mut last = None;
        let mut tcp = None;
        for addr in &addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some((addr, e)),
            }
        }
        let tcp = match (tcp, last) {
            (Some(t), _) => t,
            (None, Some((addr, e))) => {
                // A name with several addresses (`localhost`: ::1 and 127.0.0.1) is
                // one connect per address: the message says so.
                let message = if addrs.len() > 1 {
                    format!(
                        "cannot connect to {host}:{port} at any of its {} addresses \
                         (last, {addr}: {e})",
                        addrs.len()
                    )
                } else {
                    format!("cannot connect to {addr}: {e}")
                };
                return Err(ConnectError {
                    kind: ErrorKind::Unreachable,
                    message,
                    source: Some(e),
                });
            }
            (None, None) => {
                return Err(ConnectError {
                    kind: ErrorKind::Unreachable,
                    message: format!("{host} resolved to no address"),
                    source: None,
                });
            }
        };
        let _ = tcp.set_nodelay(true);
        let Some(tls) = &self.tls else {
            return Ok(Stream::Plain(TokioIo::new(tcp)));
        };
        let name = ServerName::try_from(host.to_string()).map_err(|e| ConnectError {
            kind: ErrorKind::InvalidParameter,
            message: format!("{host:?} is not a valid TLS server name: {e}"),
            source: None,
        })?;
        match tls.connect(name, tcp).await {
            Ok(s) => Ok(Stream::Tls(Box::new(TokioIo::new(s)))),
            Err(e) => Err(tls_error(host, port, e, self.ca_hint.as_deref())),
        }
    }
}

/// Whether a resolver error says the name does not exist
/// ([`hwctl_core::address::name_does_not_exist`]).
pub(crate) fn name_does_not_exist(e: &io::Error) -> bool {
    hwctl_core::address::name_does_not_exist(e)
}

/// A failed name lookup: a name that does not exist is the endpoint's configuration
/// (`InvalidParameter`, never retried: one line, no warning per attempt); any other
/// resolver failure is `Unreachable` (retried).
fn resolve_error(host: &str, e: io::Error) -> ConnectError {
    if name_does_not_exist(&e) {
        ConnectError {
            kind: ErrorKind::InvalidParameter,
            message: format!("host name {host:?} does not exist (DNS: {e})"),
            source: Some(e),
        }
    } else {
        ConnectError {
            kind: ErrorKind::Unreachable,
            message: format!("cannot resolve {host}: {e}"),
            source: Some(e),
        }
    }
}

/// A failed TLS handshake; a rejected certificate says what to change: `hint`
/// (naming the user's CA key, `redfish_verify_ca`) when known.
fn tls_error(host: &str, port: u16, e: io::Error, hint: Option<&str>) -> ConnectError {
    let rustls_err = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(reason)) => ConnectError {
            kind: ErrorKind::BadCertificate,
            message: format!(
                "TLS certificate of {host}:{port} rejected: {} ({})",
                certificate_problem(&reason, host),
                hint.unwrap_or("set a CA file for this endpoint, or fix its certificate")
            ),
            source: Some(e),
        },
        // What a plain-HTTP server's reply looks like to a TLS client.
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) => {
            ConnectError {
                kind: ErrorKind::Protocol,
                message: format!(
                    "TLS handshake with {host}:{port} failed: the server did not answer in \
                     TLS (it may speak plain HTTP on this port: use an http:// address, or \
                     check the port)"
                ),
                source: Some(e),
            }
        }
        Some(other) => ConnectError {
            kind: ErrorKind::Other,
            message: format!("TLS handshake with {host}:{port} failed: {other}"),
            source: Some(e),
        },
        None => ConnectError {
            kind: ErrorKind::Unreachable,
            message: format!("TLS handshake with {host}:{port} failed: {e}"),
            source: Some(e),
        },
    }
}

/// A sentence a person reads for a rejected certificate (never Rust `Debug` text).
pub(crate) fn certificate_problem(reason: &rustls::CertificateError, host: &str) -> String {
    use rustls::CertificateError as C;
    match reason {
        C::UnknownIssuer => "certificate issued by an unknown authority".into(),
        C::NotValidForName => format!("certificate does not match {host}"),
        C::NotValidForNameContext { presented, .. } => {
            let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
            if names.is_empty() {
                format!("certificate names no host, so it does not match {host}")
            } else {
                format!("certificate for {} does not match {host}", names.join(", "))
            }
        }
        C::Expired => "certificate expired".into(),
        C::ExpiredContext { not_after, .. } => {
            format!("certificate expired on {}", utc(*not_after))
        }
        C::NotValidYet => "certificate not valid yet".into(),
        C::NotValidYetContext { not_before, .. } => {
            format!("certificate not valid before {}", utc(*not_before))
        }
        C::Revoked => "certificate revoked".into(),
        C::BadSignature => "certificate signature does not verify".into(),
        C::BadEncoding => "certificate is not valid DER".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "certificate is not for TLS server authentication".into()
        }
        // webpki's reasons arrive wrapped (`Other(OtherError(CaUsedAsEndEntity))`):
        // the common one on BMCs in words, the others by their name alone.
        C::Other(inner) => {
            let name = inner.to_string();
            if name.contains("CaUsedAsEndEntity") {
                "certificate is a CA certificate (CA:TRUE) serving as the server's own, \
                 which is refused even when that CA is trusted; the server needs a \
                 certificate signed by the CA (a plain `openssl req -x509` makes a CA \
                 certificate)"
                    .into()
            } else {
                format!("certificate rejected ({name})")
            }
        }
        // Anything else: rustls' own wording, which is a sentence.
        other => format!(
            "certificate rejected: {}",
            rustls::Error::from(other.clone())
        ),
    }
}

/// `DnsName("other.example")` (webpki's rendering of a subject name) → `other.example`.
fn presented_name(name: &str) -> String {
    for prefix in ["DnsName(\"", "UniformResourceIdentifier(\""] {
        if let Some(inner) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("\")"))
        {
            return inner.to_string();
        }
    }
    if let Some(inner) = name
        .strip_prefix("IpAddress(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return inner.to_string();
    }
    name.to_string()
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a certificate time.
fn utc(t: UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod certificate_tests {
    use super::*;

    #[test]
    fn certificate_times_read_as_utc_dates() {
        assert_eq!(
            utc(UnixTime::since_unix_epoch(Duration::ZERO)),
            "1970-01-01 00:00:00 UTC"
        );
        assert_eq!(
            utc(UnixTime::since_unix_epoch(Duration::from_secs(
                1_709_210_096
            ))),
            "2024-02-29 12:34:56 UTC"
        );
    }

    #[test]
    fn presented_names_lose_their_debug_wrapping() {
        assert_eq!(
            presented_name("DnsName(\"other.example\")"),
            "other.example"
        );
        assert_eq!(presented_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(presented_name("DirectoryName"), "DirectoryName");
    }
}

#[cfg(test)]
mod dns_tests {
    use super::*;

    #[test]
    fn a_name_that_does_not_exist_is_invalid_input_other_resolver_failures_are_retried() {
        let gai =
            |text: &str| io::Error::other(format!("failed to lookup address information: {text}"));
        for text in [
            "Name or service not known",
            "No address associated with hostname",
            "nodename nor servname provided, or not known",
        ] {
            let e = resolve_error("bmc-typo", gai(text));
            assert_eq!(e.kind, ErrorKind::InvalidParameter, "{text}");
            assert!(e.message.contains("does not exist"), "{}", e.message);
        }
        let e = resolve_error("bmc", gai("Temporary failure in name resolution"));
        assert_eq!(e.kind, ErrorKind::Unreachable);
    }
}

#[cfg(test)]
mod unreachable_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_mark_holds_for_its_window_and_is_cleared() {
        let mark = FoundUnreachable::default();
        assert!(mark.within(Duration::from_secs(60)).is_none());
        mark.mark("cannot connect to 10.0.0.5:8000: Connection refused");
        let seen = mark.within(Duration::from_secs(60)).unwrap();
        assert!(seen.message.contains("Connection refused"));
        assert!(mark.within(Duration::ZERO).is_none(), "past its window");
        mark.clear();
        assert!(mark.within(Duration::from_secs(60)).is_none());
    }

    /// A refused connect marks the endpoint; a connection that opens clears it.
    #[tokio::test]
    async fn a_connection_that_opens_clears_the_mark() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let connector = Connector::new(None, "127.0.0.1", port, Duration::from_secs(5), 2, None);
        let err = connector.open().await.err().unwrap();
        assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
        let mark = connector
            .found_unreachable(Duration::from_secs(60))
            .unwrap();
        assert_eq!(mark.message, err.message);
        // The port listened on again (a BMC back up).
        let _listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let _conn = connector.open().await.unwrap();
        assert!(
            connector
                .found_unreachable(Duration::from_secs(60))
                .is_none()
        );
    }
}
