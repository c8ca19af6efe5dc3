//! A command line clap refuses (unknown subcommand, unexpected or missing
//! argument) printed `error: …` without the `[kind]` every other hwctl error
//! carries (`error [invalid-parameter]: …`). It now carries it, with the same exit
//! code (2, a usage error) and clap's tips kept; `--json` and `--help` are as they
//! were.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

fn hwctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .env_remove("HWCTL_LOG")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn refused_command_lines_name_their_kind_and_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["--driver", "fake-hardware", "power", "bogus"],
        &["properties"],
        &["--driver", "fake-hardware", "power", "status", "--bogus"],
        &[
            "--timeout",
            "1.5",
            "--driver",
            "fake-hardware",
            "power",
            "status",
        ],
    ] {
        let o = hwctl(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error [invalid-parameter]: "),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

/// The tips hwctl adds to clap's errors survive the tag.
#[test]
fn the_tips_are_kept() {
    let o = hwctl(&["power", "status", "--driver", "ipmi"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    assert!(err.contains("'--driver' goes before the command"), "{err}");
}

/// `--json` keeps its one object on stdout, and help is not an error.
#[test]
fn json_and_help_are_unchanged() {
    let o = hwctl(&["--json", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = hwctl(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("Command-line tool for hw"));
}

/// A subcommand left out under `--json` (`hwctl --json power`) is one JSON error on
/// stdout with the usage in `usage`, exit 2 (where clap answers with the help, the help goes
/// to stderr as without `--json`); without `--json` it stays clap's text alone.
#[test]
fn a_missing_subcommand_under_json_is_a_json_error() {
    for args in [
        &["--json", "power"][..],
        &["--json", "boot"],
        &["--json", "vendor"],
    ] {
        let o = hwctl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {:?}", o.stdout));
        assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(!msg.is_empty() && !msg.contains('\n'), "{msg}");
        // The usage is its own field, as for every usage error under --json.
        let usage = v["error"]["usage"].as_str().unwrap();
        assert!(usage.starts_with("hwctl"), "{usage}");
        assert!(usage.contains(args[1]), "{usage}");
    }
    let o = hwctl(&["power"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Usage:"));
}
