//! `hwctl completions SHELL` and `hwctl man` (issue 15, item 7): the scripts really
//! complete in bash, and the man page really renders.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn hwctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .args(args)
        .output()
        .expect("hwctl runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// Sources the generated bash script and asks its completion function what follows
/// `words` (the last word being the one completed), as bash does on Tab.
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hwctl.bash");
    std::fs::write(&path, script).unwrap();
    let words_q: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\n\
         fn=$(complete -p hwctl | sed -E 's/.*-F ([^ ]+).*/\\1/')\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         \"$fn\" hwctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        words_q.join(" "),
        words.len() - 1,
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completion_completes_commands_and_fleet_actions() {
    let script = stdout(&hwctl(&["completions", "bash"]));
    assert!(script.contains("fleet"), "{script}");
    let firsts = bash_complete(&script, &["hwctl", "fl"]);
    assert_eq!(firsts, ["fleet"], "completions of `hwctl fl`");
    let all = bash_complete(&script, &["hwctl", ""]);
    for cmd in ["power", "boot", "fleet", "console", "completions", "man"] {
        assert!(all.iter().any(|c| c == cmd), "{cmd} missing from {all:?}");
    }
    let actions = bash_complete(&script, &["hwctl", "fleet", "power", "re"]);
    assert_eq!(actions, ["reboot"], "completions of `hwctl fleet power re`");
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    let zsh = stdout(&hwctl(&["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef hwctl"), "{zsh}");
    assert!(
        zsh.contains("fleet") && zsh.contains("--info-file"),
        "{zsh}"
    );
    let fish = stdout(&hwctl(&["completions", "fish"]));
    assert!(fish.contains("complete -c hwctl"), "{fish}");
    assert!(fish.contains("fleet"), "{fish}");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let o = hwctl(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tcsh"));
}

#[test]
fn the_man_page_renders() {
    let page = stdout(&hwctl(&["man"]));
    assert!(page.contains(".TH hwctl 1"), "{page}");
    assert!(page.contains("fleet"), "{page}");
    // Rendered as `man` would (`-k`: preconv, as man-db runs it for UTF-8 pages):
    // no warning, and the text has the sections and commands.
    if !hwctl_sim::testkit::require_peer("groff", hwctl_sim::testkit::program_installed("groff")) {
        return;
    }
    let mut groff = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-P-cbou", "-ww"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff starts");
    groff
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = groff.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff warnings: {warnings}");
    for needle in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "SUBCOMMANDS",
        "fleet",
        "--info-file",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the rendered page:\n{text}"
        );
    }
}

/// A reader that stops early (`hwctl completions bash | head`) is not an error: exit 0
/// and nothing on stderr (a newcomer saw "Broken pipe" and exit 1).
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hwctl"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end at once, before hwctl writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `hwctl properties <TAB>` offers the hardware types and `hwctl sim <TAB>` the
/// simulators (issue 15, a newcomer's first hour: neither completed).
#[test]
fn bash_completes_hardware_types_and_simulator_names() {
    let script = stdout(&hwctl(&["completions", "bash"]));
    let types = bash_complete(&script, &["hwctl", "properties", ""]);
    for t in ["ipmi", "redfish", "staging-wol", "fake-hardware"] {
        assert!(types.iter().any(|c| c == t), "{t} missing from {types:?}");
    }
    assert_eq!(
        bash_complete(&script, &["hwctl", "properties", "redf"]),
        ["redfish"]
    );
    let sims = bash_complete(&script, &["hwctl", "sim", ""]);
    for s in ["msftocs", "ipmi", "staging-iboot", "oneview"] {
        assert!(sims.iter().any(|c| c == s), "{s} missing from {sims:?}");
    }
    // fake-hardware has no simulator.
    assert!(!sims.iter().any(|c| c == "fake-hardware"), "{sims:?}");
    assert_eq!(
        bash_complete(&script, &["hwctl", "sim", "msf"]),
        ["msftocs"]
    );
}

/// Every `hwctl-…(N)` page a generated page names (the SUBCOMMANDS sections) is one
/// `hwctl man --dir DIR` writes; `hwctl man` on stdout names only those too.
#[test]
fn every_man_page_referenced_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    let listing = stdout(&hwctl(&["man", "--dir", dir.path().to_str().unwrap()]));
    let written: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(written.len() > 10, "{written:?}");
    for path in &written {
        assert!(listing.contains(&path.display().to_string()), "{listing}");
    }
    let references = |roff: &str| -> Vec<String> {
        // roff escapes '-' as '\-'.
        let text = roff.replace("\\-", "-");
        let mut refs = Vec::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("hwctl-") {
            let tail = &rest[i..];
            let name_len = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(tail.len());
            if tail[name_len..].starts_with("(1)") {
                refs.push(format!("{}.1", &tail[..name_len]));
            }
            rest = &tail[name_len..];
        }
        refs
    };
    let main = std::fs::read_to_string(dir.path().join("hwctl.1")).unwrap();
    assert!(main.contains(".SH \"EXIT STATUS\""), "{main}");
    let mut all = references(&stdout(&hwctl(&["man"])));
    assert!(all.iter().any(|r| r == "hwctl-power.1"), "{all:?}");
    for path in &written {
        all.extend(references(&std::fs::read_to_string(path).unwrap()));
    }
    assert!(all.iter().any(|r| r == "hwctl-power-on.1"), "{all:?}");
    for r in &all {
        assert!(
            dir.path().join(r).is_file(),
            "{r} is referenced but not generated"
        );
    }
}
