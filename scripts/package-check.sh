#!/usr/bin/env bash
# The crates as crates.io would serve them (issue 15 item 7):
#   1. `cargo package --workspace` of every publishable crate (with --verify: each
#      packaged crate builds on its own, workspace crates resolved from the packages
#      just made; --no-verify skips that build);
#   2. every file git tracks under a crate's tests/ (fixtures, their SOURCES.md) is in
#      its package;
#   3. for the crates named (default: hwctl-core hwctl-ipmi; --all: every library
#      crate), the .crate is unpacked and its own tests built and run there, outside the
#      workspace, the other hwctl-* crates taken from their unpacked packages (as from
#      crates.io once published).
# A self dev-dependency (`hwctl-ipmi = { path = ".", features = ["sim"] }`) cannot be
# published (cargo strips a path-only dev-dependency, and one with a version must already
# be on crates.io: rust-lang/cargo#15151), so a packaged crate's tests are run with the
# features that self dev-dependency turns on (`cargo test --features sim`):
# docs/decisions.md.
#
#   scripts/package-check.sh [--no-verify] [--all | CRATE...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# Where `cargo package` writes the .crate files (CARGO_TARGET_DIR when set).
PACKAGES="${CARGO_TARGET_DIR:-$ROOT/target}/package"
verify=1
crates=()
for a in "$@"; do
  case "$a" in
    --no-verify) verify=0 ;;
    --all) crates=(all) ;;
    -*) echo "package-check: unknown option $a" >&2; exit 2 ;;
    *) crates+=("$a") ;;
  esac
done
[ "${#crates[@]}" -gt 0 ] || crates=(hwctl-core hwctl-ipmi)

# name dir publishable has_lib self_dev_features, one line per workspace package.
meta=$(cargo metadata --no-deps --format-version 1 --offline | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    own = [d for d in p["dependencies"] if d["name"] == p["name"] and d["kind"] == "dev"]
    feats = ",".join(f for d in own for f in d["features"]) or "-"
    publish = "no" if p["publish"] == [] else "yes"
    lib = "lib" if any("lib" in t["kind"] for t in p["targets"]) else "bin"
    print(p["name"], p["manifest_path"].rsplit("/", 1)[0], publish, lib, feats)')
publishable=$(awk '$3 == "yes" {print $1}' <<<"$meta")
excluded=$(awk '$3 == "no" {printf " --exclude %s", $1}' <<<"$meta")
[ "${crates[0]}" = all ] && crates=($(awk '$3 == "yes" && $4 == "lib" {print $1}' <<<"$meta"))

echo "== cargo package --workspace$excluded$([ $verify = 1 ] || echo ' --no-verify')" >&2
# --allow-dirty: what is checked is the packages' contents; CI's checkout is clean.
log=$(mktemp)
# shellcheck disable=SC2086
if ! cargo package --workspace $excluded --allow-dirty $([ $verify = 1 ] || echo --no-verify) >"$log" 2>&1; then
  cat "$log" >&2
  echo "package-check: cargo package --workspace failed" >&2
  exit 1
fi
grep -E '^\s+(Packaged|Verifying)|^(warning|error)' "$log" >&2 || true
rm -f "$log"

echo "== every file under tests/ is packaged" >&2
version=$(cargo metadata --no-deps --format-version 1 --offline \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')
status=0
for name in $publishable; do
  dir=$(awk -v n="$name" '$1 == n {print $2}' <<<"$meta")
  rel=${dir#"$ROOT"/}
  crate_file="$PACKAGES/$name-$version.crate"
  [ -f "$crate_file" ] || { echo "package-check: $crate_file missing" >&2; exit 1; }
  listed=$(tar tzf "$crate_file" | sed "s|^$name-$version/||")
  # Less what the manifest's `exclude` leaves out on purpose (exact paths only).
  excl=$(python3 -c 'import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["package"].get("exclude", [])))' "$dir/Cargo.toml")
  missing=$(git ls-files -- "$rel/tests" | sed "s|^$rel/||" | grep -vxF -f <(printf '%s\n' "$listed" "$excl") || true)
  if [ -n "$missing" ]; then
    echo "package-check: $name's package lacks files its tests may read: $missing" >&2
    status=1
  fi
  printf '  %-18s %4d files, %3d under tests/\n' "$name" "$(wc -l <<<"$listed")" \
    "$(grep -c '^tests/' <<<"$listed" || true)" >&2
done
[ "$status" = 0 ] || exit 1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hw-package-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
patches=()
for name in $publishable; do
  tar xzf "$PACKAGES/$name-$version.crate" -C "$WORK"
  patches+=(--config "patch.crates-io.$name.path='$WORK/$name-$version'")
done
# The packaged tests read nothing beside their crate: no ../shared, no ../.venv; a peer
# they cannot find is skipped, as for any user of the .crate.
unset HW_REQUIRE_PEERS
for name in "${crates[@]}"; do
  feats=$(awk -v n="$name" '$1 == n {print $5}' <<<"$meta")
  [ -n "$feats" ] || { echo "package-check: no crate $name in the workspace" >&2; exit 2; }
  args=()
  [ "$feats" = - ] || args=(--features "$feats")
  echo "== $name: cargo test ${args[*]} in its unpacked .crate" >&2
  cp Cargo.lock "$WORK/$name-$version/Cargo.lock"
  ( cd "$WORK/$name-$version" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}" \
      cargo test --offline -q --no-fail-fast "${patches[@]}" "${args[@]}" ) \
    || { echo "package-check: the packaged tests of $name failed" >&2; exit 1; }
done
echo "package-check: ok (${crates[*]})" >&2
