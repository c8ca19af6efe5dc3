//! The embedded TFTP and HTTP servers: a real client (curl), option negotiation
//! (blksize, tsize, windowsize), and refused paths that leave the root.
#![allow(clippy::unwrap_used)]

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hwctl_pxe::{HttpServer, TftpOptions, TftpServer};

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("root");
    std::fs::create_dir_all(r.join("pxelinux.cfg")).unwrap();
    // 5000 bytes: several blocks at any block size.
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(r.join("kernel"), &data).unwrap();
    std::fs::write(dir.path().join("secret"), b"outside").unwrap();
    std::os::unix::fs::symlink("../secret", r.join("escape")).unwrap();
    std::os::unix::fs::symlink("../kernel", r.join("pxelinux.cfg/01-aa")).unwrap();
    dir
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

fn rrq(path: &str, opts: &[(&str, &str)]) -> Vec<u8> {
    let mut p = vec![0, 1];
    p.extend_from_slice(path.as_bytes());
    p.push(0);
    p.extend_from_slice(b"octet\0");
    for (k, v) in opts {
        p.extend_from_slice(k.as_bytes());
        p.push(0);
        p.extend_from_slice(v.as_bytes());
        p.push(0);
    }
    p
}

fn ask(server: std::net::SocketAddr, packet: &[u8]) -> Vec<u8> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.send_to(packet, server).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = s.recv_from(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn tftp_with_curl_negotiates_blksize_and_serves_links_inside_the_root() {
    let found = have("curl");
    if !hwctl_sim::testkit::require_peer("curl (tftp)", found) {
        return;
    }
    let dir = root();
    let srv = TftpServer::start(
        &dir.path().join("root"),
        "127.0.0.1:0".parse().unwrap(),
        &TftpOptions::default(),
    )
    .unwrap();
    let port = srv.local_addr().port();
    let want = std::fs::read(dir.path().join("root/kernel")).unwrap();
    for (path, blksize) in [
        ("kernel", "512"),
        ("kernel", "1024"),
        ("pxelinux.cfg/01-aa", "1468"),
    ] {
        let out = dir.path().join("out");
        let st = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--tftp-blksize", blksize, "-o"])
            .arg(&out)
            .arg(format!("tftp://127.0.0.1:{port}/{path}"))
            .status()
            .unwrap();
        assert!(st.success(), "curl {path} blksize {blksize}");
        assert_eq!(
            std::fs::read(&out).unwrap(),
            want,
            "{path} blksize {blksize}"
        );
    }
    // ../ and a symbolic link out of the root are refused.
    for path in ["../secret", "escape", "/etc/passwd", "missing"] {
        let st = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--path-as-is", "-o", "/dev/null"])
            .arg(format!("tftp://127.0.0.1:{port}/{path}"))
            .status()
            .unwrap();
        assert!(!st.success(), "{path} must be refused");
    }
    srv.shutdown();
}

#[test]
fn tftp_option_ack_and_refusals_on_the_wire() {
    let dir = root();
    let srv = TftpServer::start(
        &dir.path().join("root"),
        "127.0.0.1:0".parse().unwrap(),
        &TftpOptions::default(),
    )
    .unwrap();
    let addr = srv.local_addr();
    // RFC 2347 OACK carrying blksize, tsize and windowsize (RFC 7440).
    let oack = ask(
        addr,
        &rrq(
            "kernel",
            &[("blksize", "1024"), ("tsize", "0"), ("windowsize", "4")],
        ),
    );
    assert_eq!(&oack[..2], &[0, 6], "OACK");
    let text = String::from_utf8_lossy(&oack[2..]).to_ascii_lowercase();
    assert!(text.contains("blksize\x001024\x00"), "{text:?}");
    assert!(text.contains("tsize\x005000\x00"), "{text:?}");
    assert!(text.contains("windowsize\x004\x00"), "{text:?}");
    // Write requests, `..` and symbolic link escapes: ERROR packets.
    let mut wrq = rrq("new", &[]);
    wrq[1] = 2;
    for (packet, what) in [
        (wrq, "write"),
        (rrq("../secret", &[]), "dot-dot"),
        (rrq("escape", &[]), "symlink"),
        (rrq("/../secret", &[]), "absolute dot-dot"),
    ] {
        let reply = ask(addr, &packet);
        assert_eq!(&reply[..2], &[0, 5], "{what} must get an ERROR");
    }
    drop(srv);
}

fn http_get(port: u16, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let code: u16 = String::from_utf8_lossy(&buf[9..12]).parse().unwrap();
    (code, buf[head_end + 4..].to_vec())
}

#[tokio::test]
async fn http_serves_files_and_refuses_escapes() {
    let dir = root();
    let srv = HttpServer::start(&dir.path().join("root"), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = srv.local_addr().port();
    let want = std::fs::read(dir.path().join("root/kernel")).unwrap();
    let r = tokio::task::spawn_blocking(move || {
        let ok = http_get(port, "/kernel");
        let link = http_get(port, "/pxelinux.cfg/01-aa");
        let pct = http_get(port, "/%6bernel");
        let dd = http_get(port, "/../secret");
        let dd2 = http_get(port, "/%2e%2e/secret");
        let esc = http_get(port, "/escape");
        let missing = http_get(port, "/nope");
        (ok, link, pct, dd, dd2, esc, missing)
    })
    .await
    .unwrap();
    assert_eq!(r.0, (200, want.clone()));
    assert_eq!(r.1, (200, want.clone()));
    assert_eq!(r.2, (200, want));
    assert_eq!(r.3.0, 403);
    assert_eq!(r.4.0, 403);
    assert_eq!(r.5.0, 403);
    assert_eq!(r.6.0, 404);
    srv.shutdown();
    let _ = Path::new("");
}

#[test]
fn tftp_retransmits_on_timeout_then_gives_up() {
    let dir = root();
    let mut opts = TftpOptions::default();
    opts.timeout = Duration::from_millis(300);
    opts.max_retries = 2;
    let srv = TftpServer::start(
        &dir.path().join("root"),
        "127.0.0.1:0".parse().unwrap(),
        &opts,
    )
    .unwrap();
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.send_to(&rrq("kernel", &[]), srv.local_addr()).unwrap();
    // Never acknowledge: block 1 comes again after each timeout, then stops.
    let mut blocks = 0;
    let mut buf = [0u8; 1024];
    let started = std::time::Instant::now();
    let mut gave_up = false;
    while let Ok((n, _)) = s.recv_from(&mut buf) {
        if buf[..2] == [0, 5] {
            // ERROR: the server gave up on us.
            gave_up = true;
            break;
        }
        assert_eq!(&buf[..4], &[0, 3, 0, 1], "DATA block 1");
        assert_eq!(n, 516);
        blocks += 1;
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    assert!(gave_up, "no ERROR after the retries");
    assert!((2..=4).contains(&blocks), "sent block 1 {blocks} times");
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// A bind failure says what is wrong with the address, as hwctl-sim's listeners do
/// (docs/error-kinds.md): in use is `Busy` (retryable, another process holds it), an
/// address not on this host is `InvalidParameter`; each names the server and address.
#[tokio::test]
async fn a_server_that_cannot_bind_names_itself_the_address_and_the_kind() {
    use hwctl_core::ErrorKind;
    let dir = root();
    let root = dir.path().join("root");

    let held = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let err = TftpServer::start(&root, addr, &TftpOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.is_retryable(), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("TFTP server on {addr}")), "{text}");
    assert!(text.contains("another process holds it"), "{text}");

    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let err = HttpServer::start(&root, addr).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("HTTP server on {addr}")), "{text}");
    assert!(text.contains("another process holds it"), "{text}");

    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): not an address of this host.
    let addr = "192.0.2.1:0".parse().unwrap();
    let err = TftpServer::start(&root, addr, &TftpOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string().contains("TFTP server on 192.0.2.1:0"),
        "{err}"
    );
    let err = HttpServer::start(&root, addr).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    assert!(
        err.to_string().contains("HTTP server on 192.0.2.1:0"),
        "{err}"
    );
}
