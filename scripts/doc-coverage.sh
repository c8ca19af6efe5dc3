#!/usr/bin/env bash
# Per-crate rustdoc coverage: documented items and items with an example (a code block).
# Uses rustdoc's unstable --show-coverage on the stable toolchain (RUSTC_BOOTSTRAP=1).
# Usage: scripts/doc-coverage.sh [package…]   (default: every library package in the workspace)
# Prints one line per package: name, documented %, with-examples count and %.
# Pass -v to also print rustdoc's per-file table.
set -euo pipefail
cd "$(dirname "$0")/.."
verbose=0
if [[ ${1:-} == -v ]]; then verbose=1; shift; fi
if [[ $# -eq 0 ]]; then
    set -- $(cargo metadata --no-deps --format-version 1 |
        jq -r '.packages[] | select(any(.targets[]; .kind | index("lib"))) | .name')
fi
printf '%-20s %12s %10s %10s\n' package documented examples 'examples%'
for pkg in "$@"; do
    out=$(RUSTDOCFLAGS="-Z unstable-options --show-coverage" RUSTC_BOOTSTRAP=1 \
        cargo doc -p "$pkg" --no-deps --all-features 2>&1) || { echo "$out" >&2; exit 1; }
    [[ $verbose == 1 ]] && grep '^|' <<<"$out"
    total=$(grep '^| Total' <<<"$out")
    read -r doc docpct ex expct < <(awk -F'|' '{gsub(/ /,""); print $3, $4, $5, $6}' <<<"$total")
    printf '%-20s %5s %6s %10s %10s\n' "$pkg" "$doc" "$docpct" "$ex" "$expct"
done
