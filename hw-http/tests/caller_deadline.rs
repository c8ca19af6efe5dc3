//! An endpoint where nothing listens, under a caller's deadline shorter than the
//! retries (`hwctl --timeout 2.5 … power status` on a Redfish, OCS, OneView, AMT
//! or OpenBMC address with a closed port). hwctl-http retries through
//! hwctl-core's `retry`, which reads the caller's deadline: the client answers
//! before it with the refusal (`unreachable`), not cut by it into a bare
//! `timeout`, and each retry is one `WARN` line holding no credential.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::ErrorKind;
use hwctl_core::poll::Backoff;
use hwctl_core::retry::with_named_caller_deadline;
use hwctl_http::{Auth, EndpointConfig, HttpClient, Request, RetryPolicy};
use tokio::time::Instant;

const PASSWORD: &str = "pw-never-logged";
const TOKEN: &str = "tok-never-logged";

/// A loopback port that was bound and closed again: connecting is refused.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Log lines, as a `tracing` fmt subscriber writes them.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// Captures everything at DEBUG and above on this thread while the guard lives.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let w = self.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_default(sub)
    }
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Five attempts 1 s apart under a caller's 2.5 s: attempts at 0, 1 and 2 s, then
/// the wait that would end at 3 s is not begun. The old `retry` did not see the
/// caller's deadline: it began that wait, the caller cut it at 2.5 s, and the
/// refusal was lost (this test's `expect` failed); it also logged these retries
/// at DEBUG only.
#[tokio::test]
async fn a_refused_port_under_a_short_caller_deadline_is_unreachable_not_a_timeout() {
    let log = Log::default();
    let _g = log.capture();
    let port = closed_port();
    let client = HttpClient::new(
        EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
            .auth(Auth::basic("root", PASSWORD))
            .retry(
                RetryPolicy::default()
                    .with_max_attempts(5)
                    .with_backoff(Backoff::fixed(Duration::from_secs(1))),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    let request = Request::get("/redfish/v1/Systems/1").header("X-Auth-Token", TOKEN);

    let limit = Duration::from_millis(2500);
    let started = Instant::now();
    let cut = tokio::time::timeout(
        limit,
        with_named_caller_deadline(started + limit, "--timeout 2.5s", client.send(request)),
    )
    .await;
    let took = started.elapsed();
    let err = cut
        .expect("the client must answer before the caller's deadline, not be cut by it")
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    let msg = err.to_string();
    assert!(msg.to_ascii_lowercase().contains("refused"), "{msg}");
    assert!(msg.contains(&port.to_string()), "{msg}");
    assert!(
        msg.contains("(after 3 attempts over 2.0s; the next would start after --timeout 2.5s)"),
        "{msg}"
    );
    assert!(err.was_not_delivered(), "{msg}");
    assert!(took < limit, "{took:?}");

    let text = log.text();
    let retries: Vec<&str> = text.lines().filter(|l| l.contains("retr")).collect();
    assert_eq!(retries.len(), 2, "{text}");
    for (i, line) in retries.iter().enumerate() {
        assert!(line.contains(" WARN "), "{line}");
        assert!(line.to_ascii_lowercase().contains("refused"), "{line}");
        assert!(
            line.contains(&format!("retrying in 1000 ms (attempt {} of 5)", i + 2)),
            "{line}"
        );
    }
    for secret in [PASSWORD, TOKEN] {
        assert!(!msg.contains(secret), "{msg}");
        assert!(!format!("{err:?}").contains(secret));
        assert!(!text.contains(secret), "{text}");
    }
}
