#!/usr/bin/env bash
# Builds hwctl and runs `hwctl demo`: every built-in simulator, a mixed fleet driven on them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --build
exec cargo run -q -p hwctl -- demo "$@"
