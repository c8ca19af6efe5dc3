#!/usr/bin/env bash
# Builds hwctl and runs `hwctl demo`: every built-in simulator, a mixed fleet driven on them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --build
# The first build compiles the workspace (minutes on two cores): cargo's own progress
# (one "Compiling" line per crate, a progress bar on a terminal) shows it is working.
echo "== building and running hwctl demo (cargo run -p hwctl -- demo)" >&2
exec cargo run -p hwctl -- demo "$@"
