"""Runs our criterion benches and the Python references interleaved; prints ratios.

For each codec: `cargo bench` on that codec's criterion functions, then the Python
reference for the same operations, back to back, so machine noise lands on both.
Rust medians come from criterion's `target/criterion/**/new/estimates.json`;
Python medians from timeit repeats (benches/python/common.py). Then the fleet
bench (src/bin/fleet.rs). A missing reference prints `missing: …` and the run goes
on. Usage: scripts/bench.sh [--quick] [--only nm,wol,iboot,ipmi,ocs,fleet]
[--fleet-ops N] [--reference-ops N] [--concurrency 1,8,48] [--json-out FILE].
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# codec: (criterion bench, criterion filter, python harness, [(label, rust id, python name)])
NM = ["get_nm_version", "get_nm_capabilities", "control_nm_policy", "set_nm_policy",
      "get_nm_policy", "remove_nm_policy", "set_nm_policy_suspend", "get_nm_policy_suspend",
      "remove_nm_policy_suspend", "get_nm_statistics", "reset_nm_statistics"]
CODECS = {
    "nm": ("nodemanager", "^nodemanager encode\\+decode/", "nm_ref.py",
           [("Node Manager " + n, "nodemanager encode+decode/" + n, "nm/" + n) for n in NM],
           "ironic-staging-drivers nm_commands"),
    "wol": ("wol", "^wol/parse_mac", "wol_ref.py",
            [("WoL parse MAC + magic packet", "wol/parse_mac+magic_packet",
              "wol/parse_mac+magic_packet")], "PyPI wakeonlan"),
    # encode_*: credentials laid out once per client (RequestTemplate, as the
    # client does); "+credentials": checked and laid out per call, as the
    # reference's struct.pack does. Both against the same reference call.
    "iboot": ("iboot", "^iboot/", "dxp_ref.py",
              [("DxP %s (credentials once)" % n, "iboot/" + n, "iboot/" + n)
               for n in ["encode_change_relay", "encode_get_relays"]] +
              [("DxP " + n, "iboot/" + n, "iboot/" + n) for n in
               ["decode_sequence", "decode_get_relays_8", "decode_change_relay_reply"]] +
              [("DxP %s (credentials per call)" % n, "iboot/%s+credentials" % n, "iboot/" + n)
               for n in ["encode_change_relay", "encode_get_relays"]],
              "struct port of python-iboot DxP"),
    "ipmi": ("ipmi", "get_chassis_status encode\\+decode", "ipmi_ref.py",
             [("IPMI suite %d get_chassis_status enc+dec" % s,
               "ipmi/suite%d/get_chassis_status encode+decode" % s,
               "ipmi/suite%d/get_chassis_status encode+decode" % s) for s in (3, 17)],
             "pyghmi packet path"),
    "ocs": ("ocs", "^ocs/decode_", "ocs_ref.py",
            [("OCS %s [%s]" % (n, lib), "ocs/" + n, "ocs/%s [%s]" % (n, lib))
             for n in ["decode_blade_state", "decode_chassis_info_1_blade",
                       "decode_chassis_info_48_blades"]
             for lib in ("ElementTree", "lxml")],
            "ElementTree / lxml"),
}
# The goals, for the table's last column.
GOALS = {"nm": 100, "wol": 100, "iboot": 100, "ipmi": 100}
GOAL_OCS_BLADE_STATE_LXML = 10


def say(*a):
    print(*a, flush=True)


def python_exe():
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def target_dir():
    try:
        out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                             cwd=ROOT, check=True, capture_output=True, text=True).stdout
        return json.loads(out)["target_directory"]
    except (subprocess.SubprocessError, OSError, ValueError, KeyError):
        return os.path.join(ROOT, "target")


def criterion_medians(tdir, since):
    """{full_id: median ns} for every criterion result written after `since`."""
    out = {}
    for bj in glob.glob(os.path.join(tdir, "criterion", "**", "new", "benchmark.json"),
                        recursive=True):
        est = os.path.join(os.path.dirname(bj), "estimates.json")
        try:
            if os.path.getmtime(est) < since:
                continue
            with open(bj) as f:
                full_id = json.load(f)["full_id"]
            with open(est) as f:
                out[full_id] = json.load(f)["median"]["point_estimate"]
        except (OSError, ValueError, KeyError):
            continue
    return out


def run_criterion(bench, flt, quick, tdir, exe=None):
    """Runs one criterion bench (its prebuilt binary when known, so the codecs are
    measured from one build even while the tree changes) and returns fresh medians."""
    since = time.time() - 1
    crit = [flt, "--noplot"]
    crit += (["--warm-up-time", "0.5", "--measurement-time", "1", "--sample-size", "20"]
             if quick else ["--warm-up-time", "2", "--measurement-time", "5"])
    if exe:
        args = [exe, "--bench"] + crit
    else:
        args = ["cargo", "bench", "-q", "-p", "hwctl-benches", "--bench", bench, "--"] + crit
    env = dict(os.environ, CRITERION_HOME=os.path.join(tdir, "criterion"))
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        say("missing: criterion bench %s failed (%s)" % (bench, r.stderr.strip()[-300:]))
    return criterion_medians(tdir, since)


def build_benches(benches):
    """Builds the bench binaries once; returns {bench name: executable}."""
    build = ["cargo", "bench", "-q", "-p", "hwctl-benches", "--no-run",
             "--message-format=json-render-diagnostics"]
    for b in benches:
        build += ["--bench", b]
    say("building benches (%s) ..." % " ".join(build[:6] + build[7:]))
    r = subprocess.run(build, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    exes = {}
    for line in r.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        t = msg.get("target", {})
        if msg.get("executable") and "bench" in t.get("kind", []):
            exes[t.get("name")] = msg["executable"]
    return r.returncode, exes


def run_python(script, quick):
    env = dict(os.environ, HW_BENCH_QUICK="1" if quick else "0")
    try:
        r = subprocess.run([python_exe(), os.path.join(HERE, script)], cwd=HERE, env=env,
                           capture_output=True, text=True, timeout=1800)
    except (subprocess.SubprocessError, OSError) as e:
        return {}, ["%s (%s)" % (script, e)]
    try:
        doc = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}, ["%s failed: %s" % (script, r.stderr.strip()[-400:])]
    return doc.get("results", {}), doc.get("missing", [])


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f us" % (ns / 1e3)
    return "%.1f ns" % ns


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + (" (+uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short criterion/timeit settings")
    ap.add_argument("--only", default="nm,wol,iboot,ipmi,ocs,fleet")
    ap.add_argument("--fleet-ops", type=int, default=10000)
    ap.add_argument("--reference-ops", type=int, default=1000)
    ap.add_argument("--concurrency", default="1,8,48")
    ap.add_argument("--json-out")
    ap.add_argument("--fleet-pin", action="store_true",
                    help="fleet bench: simulators on CPU 0, every client on CPU 1 "
                         "(fleet-bench --pin)")
    args = ap.parse_args()
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in only if x not in CODECS and x != "fleet"]
    if unknown:
        ap.error("unknown --only entries: %s (known: %s, fleet)" % (
            ", ".join(unknown), ", ".join(CODECS)))

    tdir = target_dir()
    say("hw bench: commit %s, python %s, %s settings" % (
        commit(), python_exe(), "quick" if args.quick else "full"))
    benches = [CODECS[c][0] for c in only if c in CODECS]
    rc, exes = build_benches(benches) if benches else (0, {})
    if rc != 0:
        say("cargo bench --no-run failed; stopping")
        return 1

    rows, missing, summary = [], [], {"commit": commit(), "codecs": {}, "fleet": None}
    for codec in [c for c in only if c in CODECS]:
        bench, flt, script, pairs, ref = CODECS[codec]
        say("== %s: criterion %s, then %s (%s)" % (codec, bench, script, ref))
        rust = run_criterion(bench, flt, args.quick, tdir, exes.get(bench))
        py, miss = run_python(script, args.quick)
        for m in miss:
            say("missing: " + m)
        missing += miss
        ratios = []
        for label, rid, pname in pairs:
            rns, pns = rust.get(rid), py.get(pname)
            ratio = pns / rns if rns and pns else None
            if ratio:
                ratios.append(ratio)
            if rns is None:
                say("missing: criterion result %r (bench %s)" % (rid, bench))
            rows.append((codec, label, rns, pns, ratio))
            summary["codecs"].setdefault(codec, []).append(
                {"op": label, "rust_ns": rns, "python_ns": pns, "ratio": ratio})

    if rows:
        say("")
        say("%-50s %12s %12s %9s" % ("operation (ours vs reference)", "ours", "python", "ratio"))
        last = None
        for codec, label, rns, pns, ratio in rows:
            if last and codec != last:
                say("")
            last = codec
            say("%-50s %12s %12s %9s" % (label, fmt_ns(rns), fmt_ns(pns),
                                         ("%.1fx" % ratio) if ratio else "-"))
        say("")
        say("%-10s %8s %8s %8s %8s" % ("codec", "median", "min", "max", "goal"))
        all_ratios = []
        for codec in [c for c in only if c in CODECS]:
            rs = [r[4] for r in rows if r[0] == codec and r[4]]
            all_ratios += rs
            if codec == "ocs":
                bs = [r[4] for r in rows if r[0] == "ocs" and r[1].startswith(
                    "OCS decode_blade_state [lxml]") and r[4]]
                goal = "%dx lxml (blade state: %s)" % (
                    GOAL_OCS_BLADE_STATE_LXML, ("%.1fx" % bs[0]) if bs else "-")
            else:
                goal = ("%dx" % GOALS[codec]) if codec in GOALS else "-"
            if rs:
                say("%-10s %7.1fx %7.1fx %7.1fx %8s" % (
                    codec, statistics.median(rs), min(rs), max(rs), goal))
            else:
                say("%-10s %8s %8s %8s %8s" % (codec, "-", "-", "-", goal))
        if all_ratios:
            say("%-10s %7.1fx  (median over every operation above)" % (
                "all", statistics.median(all_ratios)))

    if "fleet" in only:
        say("")
        say("== fleet: cargo build --release -p hwctl -p hwctl-benches --bin hwctl --bin fleet-bench")
        r = subprocess.run(["cargo", "build", "-q", "--release", "-p", "hwctl", "-p",
                            "hwctl-benches", "--bin", "hwctl", "--bin", "fleet-bench"], cwd=ROOT)
        if r.returncode != 0:
            say("missing: fleet bench (build failed)")
        else:
            fleet_json = os.path.join(tdir, "bench-fleet.json")
            cmd = [os.path.join(tdir, "release", "fleet-bench"),
                   "--hwctl", os.path.join(tdir, "release", "hwctl"),
                   "--ops", str(args.fleet_ops), "--reference-ops", str(args.reference_ops),
                   "--concurrency", args.concurrency, "--json-out", fleet_json]
            if args.fleet_pin:
                cmd.append("--pin")
            py = python_exe()
            probe = subprocess.run([py, "-c", "import requests"], capture_output=True)
            if probe.returncode == 0:
                cmd += ["--python", py]
            else:
                say("missing: python requests for the Ironic-style OCS sweep "
                    "(install with .venv/bin/pip install requests)")
            r = subprocess.run(cmd, cwd=ROOT)
            try:
                with open(fleet_json) as f:
                    summary["fleet"] = json.load(f)
            except (OSError, ValueError):
                say("missing: fleet bench results (it exited %d)" % r.returncode)

    if missing:
        say("")
        for m in missing:
            say("missing: " + m)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
