"""Timing and reporting shared by the Python reference harnesses.

Each harness prints one JSON object on stdout: {"results": {name: median_ns},
"missing": [what, ...], "notes": [...]}. Medians are per operation, in
nanoseconds, over `REPEATS` timeit repeats (pyperf-style: each repeat runs the
operation enough times to last at least `MIN_TIME` seconds).
"""

import json
import os
import statistics
import sys
import timeit

QUICK = os.environ.get("HW_BENCH_QUICK", "0") == "1"
REPEATS = int(os.environ.get("HW_BENCH_PY_REPEATS", "5" if QUICK else "11"))
MIN_TIME = float(os.environ.get("HW_BENCH_PY_MIN_TIME", "0.05" if QUICK else "0.2"))


def median_ns(fn):
    """Median time of one call of `fn`, in nanoseconds."""
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    # autorange stops at >= 0.2 s; scale the loop count to MIN_TIME per repeat.
    per_call = elapsed / number
    number = max(1, int(MIN_TIME / per_call)) if per_call > 0 else number
    runs = timer.repeat(repeat=REPEATS, number=number)
    return statistics.median(runs) / number * 1e9


class Report:
    """Collects results and missing references; `emit()` prints them as JSON."""

    def __init__(self):
        self.results = {}
        self.missing = []
        self.notes = []

    def time(self, name, fn):
        fn()  # a first call fails loudly here rather than inside timeit
        self.results[name] = median_ns(fn)

    def miss(self, what):
        self.missing.append(what)

    def emit(self):
        json.dump(
            {"results": self.results, "missing": self.missing, "notes": self.notes},
            sys.stdout,
        )
        sys.stdout.write("\n")


def cache_dir():
    """Where downloaded references live (never committed)."""
    d = os.environ.get("HW_BENCH_CACHE")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "target", "bench-cache")
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    return d


def fixture(*parts):
    """Path of a fixture, looked for in $HW_FIXTURES, then hw-ocs's copies (what its
    Rust bench compiles in), then /work/shared/fixtures, then ../shared/fixtures
    beside the checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    roots = [os.environ.get("HW_FIXTURES", ""),
             os.path.join(here, "..", "..", "hw-ocs", "tests", "fixtures"),
             "/work/shared/fixtures",
             os.path.join(here, "..", "..", "..", "shared", "fixtures")]
    for root in roots:
        if root and os.path.exists(os.path.join(root, *parts)):
            return os.path.join(root, *parts)
    raise FileNotFoundError(os.path.join(*parts))
