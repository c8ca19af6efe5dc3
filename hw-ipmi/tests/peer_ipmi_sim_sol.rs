#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Our SOL console against OpenIPMI's `ipmi_sim` (a BMC nobody here wrote):
//! `lan.conf`'s `sol "tcp:127.0.0.1:PORT"` makes `ipmi_sim` connect its SOL
//! serial line to a TCP server of this test, which plays the host: it prints a
//! banner and echoes what it reads.
//!
//! Needs the Debian package `openipmi`: without it the test prints "SKIPPED" —
//! or fails when `HW_REQUIRE_PEERS=1` (CI).

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{free_udp_port, require};
use hwctl_core::NodeContext;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

/// A bound on anything that could hang (no assertion on how long it took).
const HANG: Duration = Duration::from_secs(30);

/// The host's side of the serial line: what it was sent.
type Line = Arc<Mutex<Vec<u8>>>;

/// A TCP server playing the host's serial port: a banner for each connection,
/// then an echo of every byte (kept in the returned log too).
async fn serial_host() -> (u16, Line) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Line = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let _ = conn.write_all(b"\r\nipmi_sim host login: ").await;
                let mut buf = [0u8; 256];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            seen.lock().unwrap().extend_from_slice(&buf[..n]);
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (port, log)
}

struct OpenIpmiSim {
    _child: Child,
    _dir: tempfile::TempDir,
    port: u16,
}

impl OpenIpmiSim {
    async fn start(serial_port: u16) -> OpenIpmiSim {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_udp_port();
        std::fs::write(
            d.join("lan.conf"),
            format!(
                r#"name "hwsoltest"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback none md5 straight
    allowed_auths_user none md5 straight
    allowed_auths_operator none md5 straight
    allowed_auths_admin none md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  sol "tcp:127.0.0.1:{serial_port}" 115200
  user 2 true "admin" "password" admin 10 none md5 straight
"#
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("sim.emu"),
            "mc_setbmc 0x20\n\
             mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n\
             mc_enable 0x20\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.join("state")).unwrap();
        let child = Command::new("ipmi_sim")
            .arg("-c")
            .arg(d.join("lan.conf"))
            .arg("-f")
            .arg(d.join("sim.emu"))
            .arg("-s")
            .arg(d.join("state"))
            .arg("-n")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        OpenIpmiSim {
            _child: child,
            _dir: dir,
            port,
        }
    }

    fn driver_info(&self) -> hwctl_core::DriverInfo {
        hwctl_core::DriverInfo::from_pairs([
            ("ipmi_address", "127.0.0.1".to_owned()),
            ("ipmi_port", self.port.to_string()),
            ("ipmi_username", "admin".to_owned()),
            ("ipmi_password", "password".to_owned()),
        ])
    }
}

async fn read_until(stream: &mut (impl AsyncRead + Unpin), want: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(HANG, async {
        while !seen.windows(want.len()).any(|w| w == want) {
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "end of stream before {:?}; read {:?}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no {:?}; read {:?}",
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(&seen)
        )
    });
    seen
}

#[tokio::test]
async fn our_sol_console_against_ipmi_sim() {
    if !require("our_sol_console_against_ipmi_sim", &["ipmi_sim"]) {
        return;
    }
    let (serial, line) = serial_host().await;
    let sim = OpenIpmiSim::start(serial).await;
    let ht = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new());
    let node = ht
        .build(&sim.driver_info(), &NodeContext::new("peer"))
        .unwrap();
    let console = node.console().unwrap();
    // ipmi_sim may still be starting: the first opens can time out.
    let mut stream = None;
    for _ in 0..20 {
        match console.open().await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => {
                eprintln!("open: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let mut stream = stream.expect("SOL opened on ipmi_sim");
    stream.write_all(b"root\r").await.unwrap();
    read_until(&mut stream, b"root\r").await;
    assert_eq!(*line.lock().unwrap(), b"root\r");
    // More than one packet's worth, each way.
    let long: Vec<u8> = (0..700u32).map(|i| b'a' + (i % 26) as u8).collect();
    stream.write_all(&long).await.unwrap();
    read_until(&mut stream, &long).await;
    stream.shutdown().await.unwrap();
    // Deactivated: a new console gets the payload at once.
    let mut again = console.open().await.unwrap();
    again.write_all(b"x").await.unwrap();
    read_until(&mut again, b"x").await;
    again.shutdown().await.unwrap();
}
