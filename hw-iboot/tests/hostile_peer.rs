#![allow(clippy::unwrap_used)]
//! The client against a hostile DxP peer that answers random bytes of random
//! length, sometimes closing early, sometimes keeping silent: every operation ends
//! in a typed error (or a valid answer) within its timeout, never a panic or a hang.

use std::time::{Duration, Instant};

use hwctl_core::{ErrorKind, SecretString};
use hwctl_iboot::{IbootConfig, IbootPower};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_answers_give_typed_errors_within_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                break;
            };
            let (len, mode) = (rng.next() % 80, rng.next() % 4);
            let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
            tokio::spawn(async move {
                let mut buf = [0u8; 128];
                let _ = s.read(&mut buf).await;
                match mode {
                    0 => {} // close at once
                    1 => {
                        let _ = s.write_all(&bytes).await;
                    }
                    2 => {
                        let _ = s.write_all(&bytes).await;
                        let _ = s.read(&mut buf).await;
                        let _ = s.write_all(&bytes).await;
                    }
                    _ => tokio::time::sleep(Duration::from_millis(500)).await, // silent
                }
            });
        }
    });
    let power = IbootPower::new(
        IbootConfig::new("127.0.0.1", "admin", SecretString::from("pw"))
            .unwrap()
            .with_port(port)
            .with_relay(2)
            .with_timeout(Duration::from_millis(100))
            .with_retries(0, Duration::ZERO),
    );
    let mut kinds = std::collections::BTreeSet::new();
    for i in 0..120 {
        let t = Instant::now();
        let r = if i % 2 == 0 {
            hwctl_core::Power::get_power_state(&power).await.map(drop)
        } else {
            power.client().change_relay(2, true).await
        };
        assert!(
            t.elapsed() < Duration::from_millis(600),
            "op {i} took {:?}",
            t.elapsed()
        );
        if let Err(e) = r {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::Timeout
                        | ErrorKind::Protocol
                        | ErrorKind::NotFound
                        | ErrorKind::DeviceFault
                        | ErrorKind::Unreachable
                ),
                "unexpected kind for {e:?}"
            );
            kinds.insert(e.kind().as_str());
        }
    }
    assert!(
        kinds.contains("timeout") && kinds.contains("protocol"),
        "{kinds:?}"
    );
    server.abort();
}
