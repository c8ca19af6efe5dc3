//! `hwctl console` on an OCS blade (the simulator's blade terminal echoes what it
//! reads), from a pipe and from a terminal (issue 15 item 4).
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwctl_sim::Simulator;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An OCS simulator with blade `blade` on, and a node file for it.
fn blade(rt: &tokio::runtime::Runtime, blade: u32) -> (hwctl_ocs::sim::OcsSim, tempfile::TempDir) {
    let sim = rt
        .block_on(hwctl_ocs::sim::OcsSim::start(Default::default()))
        .unwrap();
    sim.set_blade_power(blade, true);
    let dir = tempfile::tempdir().unwrap();
    let node = serde_json::json!({
        "name": format!("blade-{blade}"),
        "driver": "msftocs",
        "driver_info": sim.driver_info(usize::try_from(blade - 1).unwrap()).as_map(),
    });
    std::fs::write(dir.path().join("blade.json"), node.to_string()).unwrap();
    (sim, dir)
}

fn hwctl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    c.env(
        "HWCTL_STATE_DIR",
        std::env::temp_dir().join("hwctl-test-state"),
    );
    c
}

/// `printf 'cmd\n' | hwctl console`: the reply is printed every time.
fn piped_runs(sim: &hwctl_ocs::sim::OcsSim, file: &std::path::Path, runs: usize) {
    for i in 0..runs {
        let line = format!("cmd {i}\n");
        let mut child = hwctl()
            .arg("--info-file")
            .arg(file)
            .arg("console")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "run {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(line.trim_end()),
            "run {i} of {runs}: the reply is missing: {stdout:?}"
        );
    }
    // Every session was stopped on the way out.
    assert_eq!(sim.stats().active_sessions, 0);
}

#[test]
fn a_piped_console_prints_the_reply_20_times_in_a_row() {
    let rt = runtime();
    let (sim, dir) = blade(&rt, 7);
    piped_runs(&sim, &dir.path().join("blade.json"), 20);
}

/// A chassis slow to answer each request (the same delay on every call, over a
/// second for the echo to come back): the piped console still waits for the reply.
#[test]
fn a_piped_console_waits_for_a_slow_node() {
    let rt = runtime();
    let (sim, dir) = blade(&rt, 3);
    sim.inject(Some(hwctl_sim::CommonFault::Delay(Duration::from_millis(
        1000,
    ))))
    .unwrap();
    piped_runs(&sim, &dir.path().join("blade.json"), 2);
}

/// What a process printed so far, read on a thread.
struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    fn collect(mut from: impl Read + Send + 'static) -> Output {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let b = buf.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                b.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Output(buf)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits until `what` was printed `times` times.
    fn wait_for(&self, what: &str, times: usize, child: &mut Child) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.text().matches(what).count() < times {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{what:?} not printed {times} times: {:?}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn script_found() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Through a terminal (util-linux `script` gives hwctl a pty): raw mode (no local
/// echo, so each line shows once: the blade's echo), Ctrl-C goes to the blade and
/// hwctl stays, `~.` after Enter leaves with exit 0, and the terminal is restored
/// (`stty` after hwctl in the same terminal shows `icanon echo`).
#[test]
fn on_a_terminal_the_console_is_raw_and_tilde_dot_leaves() {
    if !hwctl_sim::testkit::require_peer("script (util-linux)", script_found()) {
        return;
    }
    let rt = runtime();
    let (sim, dir) = blade(&rt, 5);
    let file = dir.path().join("blade.json");
    let inner = format!(
        "'{}' --info-file '{}' console; echo \"hwctl exit $?\"; stty -a",
        env!("CARGO_BIN_EXE_hwctl"),
        file.display()
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &inner, "/dev/null"])
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Output::collect(child.stdout.take().unwrap());
    let mut keys = child.stdin.take().unwrap();
    // Typed only once hwctl is in raw mode (its banner says so).
    out.wait_for("~. after Enter leaves", 1, &mut child);
    keys.write_all(b"hello blade\r").unwrap();
    out.wait_for("hello blade", 1, &mut child);
    // Ctrl-C: a byte for the blade, which echoes it; hwctl goes on.
    keys.write_all(b"\x03").unwrap();
    out.wait_for("\x03", 1, &mut child);
    keys.write_all(b"second line\r").unwrap();
    out.wait_for("second line", 1, &mut child);
    // Leave: ~ and . after the CR above.
    keys.write_all(b"~.").unwrap();
    out.wait_for("hwctl exit", 1, &mut child);
    out.wait_for("icanon", 1, &mut child);
    drop(keys);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "script did not end: {:?}",
            out.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = out.text();
    assert!(text.contains("hwctl exit 0"), "{text:?}");
    // No local echo: each line once (the blade's echo), not twice.
    assert_eq!(text.matches("hello blade").count(), 1, "{text:?}");
    assert_eq!(text.matches("second line").count(), 1, "{text:?}");
    // The escape was not sent to the blade (nothing echoed after the last line).
    let after = &text[text.rfind("second line").unwrap()..];
    assert!(!after.contains('~'), "{text:?}");
    // The terminal is back in cooked mode with echo.
    assert!(
        text.contains(" icanon") && text.contains(" echo "),
        "terminal not restored: {text:?}"
    );
    assert_eq!(sim.stats().active_sessions, 0);
}
