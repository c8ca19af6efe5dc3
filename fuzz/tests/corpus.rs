//! Runs every fuzz target body over its seeds, their truncations and single-byte
//! changes, without libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml
//! --no-default-features`. The smoke check of `scripts/test.sh` falls back to it
//! when cargo-fuzz is not installed.

use std::path::{Path, PathBuf};

fn seeds_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target)
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(seeds_dir(target))
        .unwrap_or_else(|e| panic!("{target}: no seeds directory: {e}"))
        .map(|e| {
            let path = e.expect("a directory entry").path();
            let bytes = std::fs::read(&path).expect("a readable seed");
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

/// RMCP+ replies sealed with the targets' fixed key, one per suite and shape.
fn ipmi_packets() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for selector in [0u8, 1] {
        let codec = hw_fuzz::ipmi_codec(selector);
        for (name, netfn, cmd, cc, data) in [
            (
                "chassis_status_on",
                0x00u8,
                0x01u8,
                0x00u8,
                &[0x01u8, 0x00, 0x00, 0x00][..],
            ),
            ("chassis_control", 0x00, 0x02, 0x00, &[][..]),
            (
                "boot_flags",
                0x00,
                0x09,
                0x00,
                &[0x01, 0x05, 0xa0, 0x04, 0, 0, 0][..],
            ),
            (
                "device_id",
                0x06,
                0x01,
                0x00,
                &[0x20, 0x01, 0x02, 0x00, 0x02, 0xbf, 0x57, 0x01, 0x00][..],
            ),
            ("completion_c1", 0x06, 0x34, 0xc1, &[][..]),
            (
                "nm_reply",
                0x2e,
                0xc8,
                0x00,
                &[0x57, 0x01, 0x00, 0x10, 0, 0x20, 0][..],
            ),
        ] {
            let mut packet = vec![selector];
            packet.extend(codec.encode_response(netfn, cmd, cc, data, 5));
            out.push((
                format!("suite{}_{name}.bin", if selector == 0 { 3 } else { 17 }),
                packet,
            ));
        }
    }
    out
}

/// Writes the generated IPMI seeds (run once when the codec changes):
/// `cargo test --manifest-path fuzz/Cargo.toml --no-default-features -- --ignored`.
#[test]
#[ignore = "writes fuzz/seeds/ipmi_packet"]
fn write_ipmi_packet_seeds() {
    let dir = seeds_dir("ipmi_packet");
    std::fs::create_dir_all(&dir).expect("seeds dir");
    for (name, bytes) in ipmi_packets() {
        std::fs::write(dir.join(name), bytes).expect("seed written");
    }
}

/// The seeds, each cut at a few places and with a few bytes changed.
fn variants(seed: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![seed.to_vec(), Vec::new()];
    let n = seed.len();
    for cut in [1, 2, 5, n / 3, n / 2, n.saturating_sub(1)] {
        if cut < n {
            out.push(seed[..cut].to_vec());
        }
    }
    for (i, at) in [0, 1, 4, n / 2, n.saturating_sub(2)]
        .into_iter()
        .enumerate()
    {
        if at < n {
            for byte in [0x00, 0xff, b'<', b'"', 0x80 + i as u8] {
                let mut v = seed.to_vec();
                v[at] = byte;
                out.push(v);
            }
        }
    }
    out
}

#[test]
fn every_target_has_seeds_and_survives_them() {
    let listed: Vec<String> = include_str!("../targets.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let known: Vec<&str> = hw_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(listed, known, "targets.txt and hw_fuzz::TARGETS differ");
    for (name, target) in hw_fuzz::TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "{name} has no seeds");
        let mut runs = 0;
        for (file, seed) in &seeds {
            for v in variants(seed) {
                let r = std::panic::catch_unwind(|| target(&v));
                assert!(r.is_ok(), "{name} panicked on a variant of {file}: {v:?}");
                runs += 1;
            }
        }
        eprintln!("{name}: {} seeds, {runs} inputs", seeds.len());
    }
}

#[test]
fn the_ipmi_seeds_are_what_the_codec_writes() {
    // Seeds written by `write_ipmi_packet_seeds` decode; a codec change that breaks
    // them shows here (rewrite them then).
    for (name, bytes) in ipmi_packets() {
        let codec = hw_fuzz::ipmi_codec(bytes[0]);
        let (cc, _) = codec
            .decode_response(&bytes[1..])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cc == 0, !name.contains("completion"), "{name}");
    }
}
