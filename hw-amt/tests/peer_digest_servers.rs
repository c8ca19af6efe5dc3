//! Our client against real digest servers on loopback, each in front of a tiny
//! WS-Management CGI (`tests/peers/wsman.cgi`): lighttpd (MD5 and SHA-256, an
//! AMT-shaped realm with `:`) and Apache `mod_auth_digest` (MD5, `opaque`, base64
//! nonces). Right password works, a wrong one is unauthenticated, and the nonce is
//! reused with a counting `nc` — counted in the server's own access log.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hwctl_amt::{AmtClient, AmtConfig};
use hwctl_core::ErrorKind;

const USER: &str = "admin";
const PASSWORD: &str = "P@ssw0rd:1";
const AMT_REALM: &str = "Digest:4A3B0000000000000000000000000000";

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn cgi() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/wsman.cgi")
}

/// Waits until the server listens; one that exits first (its port taken by
/// another process) fails the test with its error log, not with a later
/// mismatch of access logs.
fn wait_listening(s: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err() {
        if let Ok(Some(status)) = s.child.try_wait() {
            panic!(
                "server exited ({status}) before listening: {}",
                s.error_log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "server did not listen: {}",
            s.error_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_lighttpd(algorithm: &str) -> Option<Server> {
    let found = Path::new("/usr/sbin/lighttpd").is_file();
    if !hwctl_sim::testkit::require_peer("lighttpd", found) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir(r.join("www")).unwrap();
    std::fs::copy(cgi(), r.join("www/wsman")).unwrap();
    set_mode(&r.join("www/wsman"), 0o755);
    std::fs::write(r.join("users"), format!("{USER}:{PASSWORD}\n")).unwrap();
    let port = hwctl_sim::testkit::peer_port();
    let d = r.display();
    let conf = format!(
        r#"server.document-root = "{d}/www"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{d}/error.log"
server.modules = ("mod_auth", "mod_authn_file", "mod_cgi", "mod_accesslog")
accesslog.filename = "{d}/access.log"
accesslog.format = "%s %{{Authorization}}i"
auth.backend = "plain"
auth.backend.plain.userfile = "{d}/users"
auth.require = ( "/wsman" => ( "method" => "digest", "realm" => "{AMT_REALM}", "require" => "valid-user", "algorithm" => "{algorithm}" ) )
$HTTP["url"] =~ "^/wsman" {{ cgi.assign = ( "" => "" ) }}
"#
    );
    std::fs::write(r.join("lighttpd.conf"), conf).unwrap();
    let child = Command::new("/usr/sbin/lighttpd")
        .args(["-D", "-f"])
        .arg(r.join("lighttpd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut s = Server { child, port, dir };
    wait_listening(&mut s);
    Some(s)
}

fn md5_hex(s: &str) -> String {
    // A tiny dependency-free MD5 is not worth it here: use the system's md5sum.
    let mut c = Command::new("md5sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), s.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stdout)[..32].to_owned()
}

const MODULES: &str = "/usr/lib/apache2/modules";
const APACHE_REALM: &str = "Intel(r) AMT realm";

fn start_apache() -> Option<Server> {
    let found = Path::new("/usr/sbin/apache2").is_file()
        && Path::new(MODULES).join("mod_auth_digest.so").is_file();
    if !hwctl_sim::testkit::require_peer("apache2 mod_auth_digest", found) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir(r.join("cgi")).unwrap();
    std::fs::copy(cgi(), r.join("cgi/wsman")).unwrap();
    std::fs::write(
        r.join("htdigest"),
        format!(
            "{USER}:{APACHE_REALM}:{}\n",
            md5_hex(&format!("{USER}:{APACHE_REALM}:{PASSWORD}"))
        ),
    )
    .unwrap();
    let port = hwctl_sim::testkit::peer_port();
    let d = r.display();
    let conf = format!(
        r#"ServerRoot "{d}"
PidFile "{d}/httpd.pid"
ErrorLog "{d}/error.log"
DefaultRuntimeDir "{d}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User nobody
Group nogroup
LoadModule mpm_prefork_module {MODULES}/mod_mpm_prefork.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authn_file_module {MODULES}/mod_authn_file.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule auth_digest_module {MODULES}/mod_auth_digest.so
LoadModule alias_module {MODULES}/mod_alias.so
LoadModule cgi_module {MODULES}/mod_cgi.so
LogFormat "%>s %{{Authorization}}i" amt
CustomLog "{d}/access.log" amt
ScriptAlias /wsman "{d}/cgi/wsman"
<Location "/wsman">
  AuthType Digest
  AuthName "{APACHE_REALM}"
  AuthDigestProvider file
  AuthUserFile "{d}/htdigest"
  Require valid-user
</Location>
"#
    );
    std::fs::write(r.join("httpd.conf"), conf).unwrap();
    for p in [r.to_path_buf(), r.join("cgi")] {
        set_mode(&p, 0o755);
    }
    set_mode(&r.join("cgi/wsman"), 0o755);
    for p in ["htdigest", "httpd.conf"] {
        set_mode(&r.join(p), 0o644);
    }
    let child = Command::new("/usr/sbin/apache2")
        .arg("-X")
        .arg("-f")
        .arg(r.join("httpd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut s = Server { child, port, dir };
    wait_listening(&mut s);
    Some(s)
}

fn client(port: u16, password: &str) -> AmtClient {
    let config = AmtConfig::new(
        format!("http://127.0.0.1:{port}"),
        USER,
        password.to_owned(),
    )
    .unwrap();
    AmtClient::new(&config).unwrap()
}

/// (401s, authorized requests, authorized requests with nc > 1, distinct nonces).
fn count(log: &[String]) -> (usize, usize, usize, usize) {
    // Apache escapes the quotes of the logged header.
    let log: Vec<String> = log.iter().map(|l| l.replace('\\', "")).collect();
    let unauthorized = log.iter().filter(|l| l.starts_with("401")).count();
    let ok: Vec<_> = log.iter().filter(|l| l.starts_with("200")).collect();
    let reused = ok
        .iter()
        .filter(|l| l.contains("nc=") && !l.contains("nc=00000001"))
        .count();
    let mut nonces: Vec<_> = ok
        .iter()
        .filter_map(|l| l.split("nonce=\"").nth(1).and_then(|s| s.split('"').next()))
        .collect();
    nonces.sort();
    nonces.dedup();
    (unauthorized, ok.len(), reused, nonces.len())
}

async fn exercise(s: &Server, expect_algorithm: &str) {
    let good = client(s.port, PASSWORD);
    for _ in 0..3 {
        let svc = good
            .power_service()
            .await
            .unwrap_or_else(|e| panic!("{e}\nserver log:\n{}", s.error_log()));
        assert_eq!(svc.power_state, 8);
    }
    good.invoke(hwctl_amt::wire::request_power_state_change(2))
        .await
        .unwrap();
    // Servers write their access log after the reply (lighttpd buffers it for up
    // to a second or so): wait for the five lines.
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut log = s.access_log();
    while log.len() < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        log = s.access_log();
    }
    let (unauth, ok, reused, nonces) = count(&log);
    println!(
        "{expect_algorithm}: 401s {unauth}, answered {ok}, nonce reused (nc>1) {reused}, nonces {nonces}"
    );
    assert_eq!(unauth, 1, "{log:#?}");
    assert_eq!(ok, 4, "{log:#?}");
    assert_eq!(reused, 3, "the nonce was not reused: {log:#?}");
    assert_eq!(nonces, 1, "{log:#?}");
    assert!(
        log.iter().any(|l| l.contains(expect_algorithm)) || expect_algorithm == "MD5",
        "{log:#?}"
    );

    let bad = client(s.port, "wrong-password");
    let e = bad.power_service().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighttpd_md5_with_an_amt_realm() {
    let Some(s) = start_lighttpd("MD5") else {
        return;
    };
    exercise(&s, "MD5").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighttpd_sha256_with_an_amt_realm() {
    let Some(s) = start_lighttpd("SHA-256") else {
        return;
    };
    exercise(&s, "SHA-256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_mod_auth_digest() {
    let Some(s) = start_apache() else { return };
    exercise(&s, "MD5").await;
    // Apache's nonces are base64 (with '='): answered above.
    assert!(s.access_log().iter().any(|l| l.contains("=")));
}
