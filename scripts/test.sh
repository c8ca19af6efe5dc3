#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, rustdoc, and all tests (unit,
# integration, simulator, real third-party peers on loopback, doctests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
# Peers are installed by deps.sh: a test that cannot find its peer fails.
export HW_REQUIRE_PEERS="${HW_REQUIRE_PEERS:-1}"

echo "== cargo fmt" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo doc" >&2
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
echo "== cargo check --no-default-features, per crate" >&2
# Each library crate builds on its own with no features (feature unification in a
# workspace build can hide a missing feature gate).
for krate in $(cargo metadata --no-deps --format-version 1 \
    | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"] if any("lib" in t["kind"] for t in p["targets"])))'); do
  cargo check -q -p "$krate" --no-default-features
done
echo "== test fixtures inside the repository, each with its source" >&2
bash scripts/check-fixtures.sh
echo "== cargo check --all-targets, per crate (its tests build alone)" >&2
# Each crate's tests build on their own, as `cargo test -p X` builds them from a fresh
# clone: alone, a crate gets no features from the rest of the workspace (its
# dev-dependencies must carry what its tests use, e.g. a self dev-dependency with
# `sim`). A type check finds exactly that, without linking a second copy of every
# test binary (`cargo test -p X --no-run` per crate: see docs/decisions.md).
for krate in $(cargo metadata --no-deps --format-version 1 \
    | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))'); do
  cargo check -q -p "$krate" --all-targets
done
echo "== cargo test" >&2
cargo test --workspace --all-features --no-fail-fast
echo "== first hour" >&2
# A new user's first hour from a fresh clone of the commit (README commands, an Ironic
# export per driver on the simulators, secrets, fleet + Ctrl-C, a piped console 20
# times), with the target/debug/hwctl the step above built; about a minute.
bash scripts/first-hour.sh
echo "== fuzz smoke" >&2
# Every fuzz target briefly (fuzz/, its own workspace). By default each target runs
# over its seeds, their cuts and byte changes through a plain cargo test, and the
# libFuzzer binaries are type-checked: a cold `cargo fuzz build` of every target
# (AddressSanitizer, release) took 16 minutes on a loaded 2-core machine, over CI's
# budget. HW_FUZZ_SMOKE=libfuzzer runs each target 5 s under libFuzzer instead
# (bounded to 5 minutes; deps.sh then installs cargo-fuzz); HW_FUZZ_SMOKE=0 skips.
case "${HW_FUZZ_SMOKE:-seeds}" in
  0) echo "fuzz smoke skipped (HW_FUZZ_SMOKE=0)" >&2 ;;
  libfuzzer) timeout 300 scripts/fuzz.sh --seconds "${HW_FUZZ_SECONDS:-5}" ;;
  *) scripts/fuzz.sh --seeds-only ;;
esac
