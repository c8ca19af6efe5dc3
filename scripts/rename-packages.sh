#!/usr/bin/env bash
# Issue 15, item 7: rename the workspace's packages to the free crates.io family
# `hwctl-*` (hw-core is an unrelated crate on crates.io). Idempotent: a second run
# changes nothing. Folders keep their names (hw-core/, hw-ipmi/, …); library names
# follow the package names (hwctl_core, hwctl_ipmi, …), as a user would guess them.
#
# NOT YET APPLIED: written and tried on a clone on 2026-11-30; apply it alone, at the
# start of a session with no other work in flight, then run scripts/test.sh.
# Usage: bash scripts/rename-packages.sh [WORKSPACE_ROOT]   (default: the current directory)
#
# What it rewrites, in tracked text files (Rust, TOML, Markdown, shell, CI lists):
#   - package names and dependency keys: `hw-core` -> `hwctl-core` (also in
#     features: "dep:hw-sim", "hw-ipmi/sim"), `hw-examples`, `hw-benches` too;
#   - Rust paths: `hw_core::` -> `hwctl_core::` (and every `hw_<crate>` word);
#   - `-p hw-…` in scripts, and every mention in README/docs.
# What it keeps: folder paths (`hw-core/src/…`, `../hw-core`, `path = "hw-core"`,
# the workspace `members` list), fixture data (tests/fixtures, fuzz seeds/corpora),
# docs/decisions.md (a dated log: its entries keep the names of their time; the
# rename entry there gives the mapping), hw-fuzz's own package name (unpublished,
# its own workspace), and the CLI `hwctl`.
# Afterwards it refreshes Cargo.lock and fuzz/Cargo.lock (cargo metadata) and runs
# cargo fmt (longer names can move line breaks).
set -euo pipefail
root="${1:-.}"
cd "$root"
test -f Cargo.toml && test -d hw-core || { echo "rename-packages.sh: not the hw workspace root: $(pwd)" >&2; exit 2; }

python3 - <<'PY'
import re, subprocess, sys

CRATES = ["core", "http", "wol", "sim", "iboot", "ocs", "ipmi", "nodemanager",
          "libvirt", "oneview", "pxe", "amt", "redfish", "openbmc", "examples", "benches"]
alt = "|".join(sorted(CRATES, key=len, reverse=True))
# hw-core -> hwctl-core, unless it is a folder path: preceded by `/` or `path = "`,
# or followed by `/` (hw-core/src, hw-ocs/tests/fixtures, a Markdown link to
# `hw-core/`). "hw-http/" + a digit or a quote (a User-Agent, a version) is renamed.
# A feature reference (`hw-ipmi/sim`, `hw-core/testing`) is renamed: no folder of a
# crate is called like a feature.
dash = re.compile(r'(?<![\w/.-])(?<!path = ")hw-(' + alt + r')\b(?!-)'
                  r'(?!/(?!(?:sim|testing|fuzzing|libvirt)\b)(?![\d"]))')
# The template name of a new driver in docs/adding-a-protocol.md.
dash_t = re.compile(r'(?<![\w/.-])hw-<proto>(?!/)')
under_t = re.compile(r'(?<![\w])hw_<proto>')
under = re.compile(r'(?<![\w])hw_(' + alt + r')\b')

files = subprocess.run(["git", "ls-files", "-z"], capture_output=True, check=True).stdout.decode().split("\0")
SKIP_PREFIX = ("target/", "fuzz/target/", "fuzz/seeds/", "fuzz/corpus/", "fuzz/artifacts/",
               "docs/decisions.md")
EXTS = (".rs", ".toml", ".md", ".sh", ".txt", ".yml", ".yaml", ".py", ".bash", ".zsh", ".fish")
changed = []
for f in files:
    if not f or f.startswith(SKIP_PREFIX) or "/tests/fixtures/" in f or f.startswith("tests/fixtures/"):
        continue
    if not (f.endswith(EXTS) or f.startswith(".ci/") or f.startswith("scripts/")):
        continue
    try:
        text = open(f, encoding="utf-8").read()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        continue
    out = []
    in_members = False
    for line in text.splitlines(keepends=True):
        s = line.strip()
        if f == "Cargo.toml":
            # The workspace members (and exclude) list folders, not packages.
            if re.match(r'(members|exclude)\s*=\s*\[', s):
                in_members = not s.endswith("]")
                out.append(line)
                continue
            if in_members:
                if s.startswith("]"):
                    in_members = False
                out.append(line)
                continue
        new = dash.sub(lambda m: "hwctl-" + m.group(1), line)
        new = under.sub(lambda m: "hwctl_" + m.group(1), new)
        new = dash_t.sub("hwctl-<proto>", new)
        new = under_t.sub("hwctl_<proto>", new)
        out.append(new)
    new_text = "".join(out)
    if new_text != text:
        open(f, "w", encoding="utf-8").write(new_text)
        changed.append(f)
print(f"rename.sh: {len(changed)} files changed", file=sys.stderr)
for f in changed:
    print(f"  {f}", file=sys.stderr)
PY

# Lock files follow the new names (no version changes: metadata only re-resolves names).
cargo metadata --format-version 1 >/dev/null
if [ -f fuzz/Cargo.toml ]; then
  (cd fuzz && cargo metadata --format-version 1 >/dev/null)
fi
cargo fmt --all
if [ -f fuzz/Cargo.toml ]; then
  (cd fuzz && cargo fmt --all) || true
fi
echo "rename.sh: done; packages now: $(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))')" >&2
