//! Digest authentication against a real server: Apache httpd with mod_auth_digest
//! (MD5, qop=auth) on 127.0.0.1, started and stopped by the test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hwctl_core::ErrorKind;
use hwctl_http::{Auth, EndpointConfig, HttpClient, Request, RetryPolicy};

const REALM: &str = "hw test realm, with a comma";
const USER: &str = "alice";
const PASSWORD: &str = "wonder land:1";
const MODULES: &str = "/usr/lib/apache2/modules";

/// Apache running in the foreground; killed (by its PID) on drop.
struct Apache {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Apache {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_apache() -> Option<PathBuf> {
    ["/usr/sbin/apache2", "/usr/sbin/httpd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .filter(|_| Path::new(MODULES).join("mod_auth_digest.so").is_file())
}

fn md5_hex(s: &str) -> String {
    use md5::Digest as _;
    md5::Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn start_apache() -> Option<Apache> {
    let Some(bin) = find_apache() else {
        if std::env::var("HW_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!(
                "apache2 with mod_auth_digest is required (HW_REQUIRE_PEERS=1) but not installed"
            );
        }
        eprintln!("SKIPPED: apache2 (Debian apache2, apache2-utils) not installed");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let www = root.join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("index.txt"), "digest ok\n").unwrap();
    // htdigest format: user:realm:MD5(user:realm:password). A realm in this file
    // cannot contain ':' (PEERS.md), so AMT-like colons are tested in-process.
    std::fs::write(
        root.join("htdigest"),
        format!(
            "{USER}:{REALM}:{}\n",
            md5_hex(&format!("{USER}:{REALM}:{PASSWORD}"))
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = root.display();
    let realm = REALM;
    let conf = format!(
        r#"ServerRoot "{r}"
PidFile "{r}/httpd.pid"
ErrorLog "{r}/error.log"
DefaultRuntimeDir "{r}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User nobody
Group nogroup
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authn_file_module {MODULES}/mod_authn_file.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule auth_digest_module {MODULES}/mod_auth_digest.so
DocumentRoot "{r}/www"
<Directory "{r}/www">
  AllowOverride None
  AuthType Digest
  AuthName "{realm}"
  AuthDigestProvider file
  AuthUserFile "{r}/htdigest"
  Require valid-user
</Directory>
"#
    );
    std::fs::write(root.join("httpd.conf"), conf).unwrap();
    // Apache drops to `nobody` when started as root: let it read the files.
    for p in [root.to_path_buf(), www.clone()] {
        set_mode(&p, 0o755);
    }
    for p in ["htdigest", "httpd.conf", "www/index.txt"] {
        set_mode(&root.join(p), 0o644);
    }
    let child = Command::new(bin)
        .arg("-X")
        .arg("-f")
        .arg(root.join("httpd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let apache = Apache { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "apache did not listen on 127.0.0.1:{port}: {}",
            std::fs::read_to_string(apache.dir.path().join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(apache)
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn client(port: u16, password: &str) -> HttpClient {
    HttpClient::new(
        EndpointConfig::builder(format!("http://127.0.0.1:{port}/"))
            .auth(Auth::digest(USER, password.to_string()))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_digest_accepts_right_password_and_rejects_wrong_one() {
    let Some(apache) = start_apache() else { return };

    let good = client(apache.port, PASSWORD);
    let reply = good
        .get("/index.txt")
        .await
        .unwrap_or_else(|e| panic!("{e}\napache log:\n{}", apache.log()));
    assert_eq!(reply.text().unwrap(), "digest ok\n");
    // First request: 401 challenge + answer = 2 exchanges.
    assert_eq!(good.stats().attempts, 2);

    // Later requests answer the known challenge directly (nonce count 2, 3, …),
    // with a query string in the digest URI.
    for i in 0..3 {
        let reply = good
            .send(Request::get(format!("/index.txt?i={i}&x=a%20b")))
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    assert_eq!(good.stats().attempts, 5, "the nonce was not reused");

    let bad = client(apache.port, "wrong password");
    let err = bad.get("/index.txt").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.to_string().contains("401"), "{err}");
    assert!(!err.to_string().contains("wrong password"));
    assert!(!format!("{err:?}").contains("wrong password"));
    // One challenge, one answer, no loop.
    assert!(bad.stats().attempts <= 3, "{:?}", bad.stats());

    // POST (not idempotent) is answered after the challenge too: the 401 was not acted on.
    let reply = good
        .send_raw(Request::post("/index.txt").body("x"))
        .await
        .unwrap();
    assert_ne!(reply.status(), 401);
}
