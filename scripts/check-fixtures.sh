#!/usr/bin/env bash
# A fresh clone's tests need nothing beside the checkout (issue 15, item 6):
#  1. no Rust source reaches outside the repository for a fixture (`../shared`,
#     `shared/fixtures`) except through hwctl_sim::testkit (fixture_path/read_fixture),
#     which looks in the crate's tests/fixtures first and is used only for the
#     bulky DMTF Redfish mockup and schema folders, behind require_peer;
#  2. every file in a crate's tests/fixtures is named in a SOURCES.md there (its
#     own folder's or a parent's), so each fixture keeps its source.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import fnmatch, os, re, subprocess, sys

files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                       capture_output=True, check=True).stdout.decode().split("\0")
bad = []
for f in files:
    if not f.endswith(".rs") or f.startswith(("fuzz/", "target/")) or f == "hw-sim/src/testkit.rs":
        continue
    if not os.path.isfile(f):
        continue
    for n, line in enumerate(open(f, encoding="utf-8", errors="replace"), 1):
        code = line.split("//", 1)[0] if "include_str" not in line else line
        if re.search(r"\.\./shared|shared/fixtures", code):
            bad.append(f"{f}:{n}: {line.strip()}")
if bad:
    print("check-fixtures: these read fixtures from outside the repository; copy them into "
          "the crate's tests/fixtures (with SOURCES.md) or use hwctl_sim::testkit::fixture_path:",
          file=sys.stderr)
    print("\n".join("  " + b for b in bad), file=sys.stderr)

def patterns(text):
    # Names in backticks or table cells, with {a,b} alternatives expanded.
    out = set()
    for tok in re.findall(r"[\w.*{},/+-]+\.(?:json|xml|template|txt|bin|toml|conf|md|hex)\b|[\w.*{},/+-]+/", text):
        stack = [tok]
        while stack:
            t = stack.pop()
            m = re.search(r"\{([^{}]*)\}", t)
            if m:
                stack.extend(t[:m.start()] + alt + t[m.end():] for alt in m.group(1).split(","))
            else:
                out.add(t)
    return out

missing = []
for f in files:
    parts = f.split("/")
    if "fixtures" not in parts or parts[0] in ("fuzz", "target") or len(parts) < 4 or parts[1] != "tests":
        continue
    if not os.path.isfile(f):
        continue
    name = os.path.basename(f)
    if name == "SOURCES.md" or name.upper().startswith(("LICENSE", "DMTF-LICENSE")):
        continue
    base = "/".join(parts[:3])  # <crate>/tests/fixtures
    d = os.path.dirname(f)
    found, any_sources = False, False
    while True:
        src = os.path.join(d, "SOURCES.md")
        if os.path.isfile(src):
            any_sources = True
            rel = os.path.relpath(f, d)
            text = open(src, encoding="utf-8").read()
            pats = patterns(text)
            # Also a name in backticks without its extension (`ipmi` for ipmi.json).
            ticked = set(re.findall(r"`([^`]+)`", text))
            if os.path.splitext(name)[0] in ticked or any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) or
                   (p.endswith("/") and rel.startswith(p)) for p in pats):
                found = True
                break
        if d == base:
            break
        d = os.path.dirname(d)
    if not found:
        missing.append(f + ("" if any_sources else " (no SOURCES.md)"))
if missing:
    print("check-fixtures: fixtures not named in a SOURCES.md beside them:", file=sys.stderr)
    print("\n".join("  " + m for m in missing), file=sys.stderr)
sys.exit(1 if bad or missing else 0)
PY
echo "check-fixtures: every test fixture is in the repository, with its source" >&2
