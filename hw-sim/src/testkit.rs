//! Helpers for the tests of every crate: the real-peer rule, fixture loading and hex.
//!
//! These panic on bad input with a message that says what to fix: they are meant for
//! tests, where a panic is a failed test.
//!
//! ```
//! use hwctl_sim::testkit::{hex, unhex};
//! assert_eq!(unhex("06 00 ff 07\n 20 18"), [0x06, 0x00, 0xff, 0x07, 0x20, 0x18]);
//! assert_eq!(hex(&[0x06, 0x00, 0xff]), "0600ff");
//! ```

use std::path::{Path, PathBuf};

/// The environment variable that makes a missing real peer a test failure: set
/// `HW_REQUIRE_PEERS=1` (CI does) and every peer test must run.
pub const REQUIRE_PEERS_ENV: &str = "HW_REQUIRE_PEERS";

/// Whether missing peers fail tests (`HW_REQUIRE_PEERS=1`).
pub fn peers_required() -> bool {
    std::env::var(REQUIRE_PEERS_ENV).as_deref() == Ok("1")
}

/// The peer rule: returns `found`; when the peer `name` is missing, panics if
/// [`peers_required`], else prints a `SKIPPED: peer <name> missing` line to stderr
/// and returns `false` so the test can return early.
///
/// ```
/// # fn main() {
/// use hwctl_sim::testkit::{program_installed, require_peer};
/// if !require_peer("ipmitool (apt-get install ipmitool)", program_installed("ipmitool")) {
///     return;
/// }
/// // … run the peer test …
/// # }
/// ```
///
/// # Panics
///
/// When the peer is missing and `HW_REQUIRE_PEERS=1`.
#[track_caller]
pub fn require_peer(name: &str, found: bool) -> bool {
    if found {
        return true;
    }
    if peers_required() {
        panic!(
            "peer {name} missing and {REQUIRE_PEERS_ENV}=1: install it or unset {REQUIRE_PEERS_ENV}"
        );
    }
    eprintln!("SKIPPED: peer {name} missing (set {REQUIRE_PEERS_ENV}=1 to make this a failure)");
    false
}

/// A free TCP port on 127.0.0.1 for a third-party peer a test starts (Apache,
/// lighttpd, sushy-tools), never one this function gave before in this process.
///
/// The port is found by binding port 0 and closing the socket, so another
/// process may still take it before the peer binds it; within one test binary,
/// where tests start their peers at once, the same port is never handed out
/// twice (a closed port can come back from the next `bind(0)`: a run under load
/// once gave lighttpd and Apache one port, and one test's requests reached the
/// other's server). A peer should be watched for exiting before it listens.
///
/// ```
/// let a = hwctl_sim::testkit::peer_port();
/// let b = hwctl_sim::testkit::peer_port();
/// assert_ne!(a, b);
/// ```
///
/// # Panics
///
/// When no loopback port can be bound (no loopback interface).
pub fn peer_port() -> u16 {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        let mut given = GIVEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if given.insert(port) {
            return port;
        }
    }
}

/// Whether the program `prog` is an executable file in a directory of `PATH`.
///
/// ```
/// assert!(hwctl_sim::testkit::program_installed("sh"));
/// assert!(!hwctl_sim::testkit::program_installed("no-such-program-hw"));
/// ```
pub fn program_installed(prog: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

/// The two places a fixture is looked for, in order: `<crate_dir>/tests/fixtures/<rel>`
/// and `<workspace root>/../shared/fixtures/<rel>`, the workspace root being
/// `crate_dir`'s parent.
///
/// ```
/// let [local, shared] = hwctl_sim::testkit::fixture_candidates("/src/hw/hw-ipmi", "ipmi/get_device_id.hex");
/// assert_eq!(local, std::path::Path::new("/src/hw/hw-ipmi/tests/fixtures/ipmi/get_device_id.hex"));
/// assert_eq!(shared, std::path::Path::new("/src/hw/../shared/fixtures/ipmi/get_device_id.hex"));
/// ```
pub fn fixture_candidates(crate_dir: &str, rel: &str) -> [PathBuf; 2] {
    let crate_dir = Path::new(crate_dir);
    let root = crate_dir.parent().unwrap_or(crate_dir);
    [
        crate_dir.join("tests").join("fixtures").join(rel),
        root.join("..").join("shared").join("fixtures").join(rel),
    ]
}

/// The first existing fixture path for `rel` (see [`fixture_candidates`]): a file,
/// or a directory of fixtures (the DMTF Redfish mockup, the CSDL schema folder);
/// pass `env!("CARGO_MANIFEST_DIR")` as `crate_dir`.
///
/// ```
/// use hwctl_sim::testkit::fixture_path;
/// assert!(fixture_path(env!("CARGO_MANIFEST_DIR"), "no/such/fixture").is_none());
/// ```
pub fn fixture_path(crate_dir: &str, rel: &str) -> Option<PathBuf> {
    fixture_candidates(crate_dir, rel)
        .into_iter()
        .find(|p| p.exists())
}

/// The bytes of fixture `rel` (see [`fixture_path`]).
///
/// # Panics
///
/// When the fixture is in neither place (`fixture X missing: looked in A and B;
/// ../shared must sit beside the checkout`), or cannot be read.
#[track_caller]
pub fn read_fixture(crate_dir: &str, rel: &str) -> Vec<u8> {
    let Some(path) = fixture_path(crate_dir, rel) else {
        let [a, b] = fixture_candidates(crate_dir, rel);
        panic!(
            "fixture {rel} missing: looked in {} and {}; ../shared must sit beside the checkout",
            a.display(),
            b.display()
        );
    };
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {rel}: cannot read {}: {e}", path.display()))
}

/// Fixture `rel` as UTF-8 text (see [`read_fixture`]).
///
/// # Panics
///
/// As [`read_fixture`], and when the file is not UTF-8.
#[track_caller]
pub fn read_fixture_string(crate_dir: &str, rel: &str) -> String {
    String::from_utf8(read_fixture(crate_dir, rel))
        .unwrap_or_else(|e| panic!("fixture {rel} is not UTF-8: {e}"))
}

/// `bytes` as lower-case hex digits, two per byte, without separators.
///
/// ```
/// assert_eq!(hwctl_sim::testkit::hex(&[0x00, 0x0a, 0xff]), "000aff");
/// assert_eq!(hwctl_sim::testkit::hex(&[]), "");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Parses hex digits (either case), ignoring whitespace anywhere (`"0600 ff07"`,
/// `"06 00\nff"`, as `ipmitool raw` prints).
///
/// # Panics
///
/// On a character that is not a hex digit or whitespace, or an odd number of digits,
/// with a message quoting the input.
///
/// ```
/// use hwctl_sim::testkit::unhex;
/// assert_eq!(unhex("20 18\nC8"), [0x20, 0x18, 0xc8]);
/// assert!(std::panic::catch_unwind(|| unhex("0g")).is_err());
/// ```
#[track_caller]
pub fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_digit(16) {
            // A hex digit is below 16, so it fits in a u8.
            Some(d) => d as u8,
            None => panic!("unhex: {c:?} is not a hex digit in {s:?}"),
        })
        .collect();
    assert!(
        digits.len().is_multiple_of(2),
        "unhex: odd number of hex digits ({}) in {s:?}",
        digits.len()
    );
    digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&all)), all);
        assert_eq!(unhex(" 0A\tbC\r\n"), [0x0a, 0xbc]);
        assert_eq!(unhex(""), Vec::<u8>::new());
    }

    #[test]
    #[should_panic(expected = "not a hex digit in \"0g\"")]
    fn unhex_names_bad_digit() {
        unhex("0g");
    }

    #[test]
    #[should_panic(expected = "odd number of hex digits (3)")]
    fn unhex_refuses_odd_length() {
        unhex("abc");
    }

    #[test]
    fn fixtures_are_found_in_the_crate_first_then_shared() {
        let dir = std::env::temp_dir().join(format!("hw-sim-testkit-{}", std::process::id()));
        let krate = dir.join("ws").join("hw-x");
        let shared = dir.join("shared").join("fixtures").join("p");
        std::fs::create_dir_all(krate.join("tests/fixtures/p")).unwrap();
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::write(shared.join("a.bin"), b"shared").unwrap();
        std::fs::write(shared.join("b.bin"), b"shared").unwrap();
        std::fs::write(krate.join("tests/fixtures/p/b.bin"), b"own").unwrap();
        let k = krate.to_str().unwrap();
        assert_eq!(read_fixture(k, "p/a.bin"), b"shared");
        assert_eq!(read_fixture(k, "p/b.bin"), b"own");
        assert_eq!(read_fixture_string(k, "p/b.bin"), "own");
        assert!(fixture_path(k, "p/c.bin").is_none());
        let missing = std::panic::catch_unwind(|| read_fixture(k, "p/c.bin")).unwrap_err();
        let msg = missing.downcast_ref::<String>().unwrap();
        assert!(
            msg.starts_with("fixture p/c.bin missing: looked in "),
            "{msg}"
        );
        assert!(
            msg.contains("tests/fixtures/p/c.bin") && msg.contains("shared/fixtures/p/c.bin"),
            "{msg}"
        );
        assert!(
            msg.ends_with("../shared must sit beside the checkout"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn real_shared_fixtures_are_reachable_when_present() {
        let [_, shared] = fixture_candidates(env!("CARGO_MANIFEST_DIR"), "");
        if !shared.is_dir() {
            eprintln!("SKIPPED: {} not present", shared.display());
            return;
        }
        assert!(fixture_path(env!("CARGO_MANIFEST_DIR"), "wol/magic_packet_vector.json").is_some());
    }

    #[test]
    fn present_peers_pass_and_missing_ones_skip_or_panic() {
        assert!(require_peer("sh", true));
        if peers_required() {
            assert!(std::panic::catch_unwind(|| require_peer("nope", false)).is_err());
        } else {
            assert!(!require_peer("nope", false));
        }
        assert!(!program_installed("hw-sim-no-such-program"));
    }
}
