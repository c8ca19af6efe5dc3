#!/usr/bin/env bash
# Our criterion benches against the Python references users would otherwise run,
# interleaved in one run on this machine, then the fleet bench (issue 16).
#
#   scripts/bench.sh                 # full settings (~15-25 min on 2 cores)
#   scripts/bench.sh --quick         # short settings (a few minutes plus builds)
#   scripts/bench.sh --only nm,ocs   # some of: nm, wol, iboot, ipmi, ocs, fleet
#   scripts/bench.sh --fleet-ops 10000 --reference-ops 1000 --concurrency 1,8,48
#   scripts/bench.sh --json-out bench.json
#   scripts/bench.sh --only fleet --fleet-pin   # simulators on CPU 0, clients on CPU 1
#
# Python references install into .venv from .ci/bench-requirements.txt:
# `scripts/bench.sh --install` installs them and stops; `--install` followed by
# other options installs, then runs with those. ironic-staging-drivers is
# downloaded at run time into target/bench-cache (HW_BENCH_CACHE), never committed.
# A missing reference prints `missing: <what> (install with …)` and the run goes on.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--install" ]]; then
    shift
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/pip install --quiet -r .ci/bench-requirements.txt
    if [[ $# -eq 0 ]]; then
        echo "bench: Python references installed into .venv" >&2
        exit 0
    fi
fi

py=python3
[[ -x .venv/bin/python ]] && py=.venv/bin/python
exec "$py" benches/python/compare.py "$@"
