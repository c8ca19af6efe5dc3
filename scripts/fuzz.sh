#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer) for a while each and
# prints how many inputs each one executed.
#
#   scripts/fuzz.sh                      smoke: every target 5 s
#   scripts/fuzz.sh --long 600           every target 600 s (the long run)
#   scripts/fuzz.sh --long 120 ocs_xml   some targets only
#   scripts/fuzz.sh --seeds-only         no libFuzzer: every target over its seeds,
#                                        their cuts and byte changes (cargo test),
#                                        and the target binaries type-checked
#   --runs N        stop a target after N executions (or its seconds, first wins)
#   --log-dir DIR   keep each target's libFuzzer output as DIR/<target>.log
#   --no-build      run the binaries already built (a long run while code changes)
#   --sanitizer S   address (default) or none: no AddressSanitizer, 3-4x the
#                   inputs/s; built into <target dir>/sanitizer-none
#
# Inputs are at most 8 KiB (-max_len; the seeds fit): bigger replies exercise the
# same code, only slower. Limits, as issue 17 asks: an input slower than 1 s, or a
# process over 512 MiB, is a failure. Runs on stable Rust through
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Zsanitizer flags). Needs cargo-fuzz
# (`cargo install cargo-fuzz`, done by scripts/deps.sh) and a C++ compiler
# (libFuzzer). New inputs go to fuzz/corpus/ (not committed); crashes to
# fuzz/artifacts/<target>/.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../fuzz"

secs=5
mode=fuzz
runs=-1
logdir=
build=1
sanitizer=address
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --long) secs=${2:?--long takes seconds}; shift 2 ;;
    --seconds) secs=${2:?--seconds takes seconds}; shift 2 ;;
    --seeds-only) mode=seeds; shift ;;
    --runs) runs=${2:?--runs takes a count}; shift 2 ;;
    --log-dir) logdir=${2:?--log-dir takes a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    --sanitizer) sanitizer=${2:?--sanitizer takes address or none}; shift 2 ;;
    -h|--help) sed -n '2,23p' "$self"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < targets.txt
case "$sanitizer" in
  address) ;;
  # Our crates have no `unsafe` code, so AddressSanitizer guards only the
  # dependencies'; without it the targets run 3-4 times the inputs a second.
  # Panics, hangs (-timeout), the process limit (-rss_limit_mb) and, through
  # src/alloc_limit.rs, single allocations over 512 MiB are still failures. Its
  # own target dir, so the two builds do not replace each other.
  none) export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/sanitizer-none" ;;
  *) echo "fuzz.sh: --sanitizer is address or none, not $sanitizer" >&2; exit 2 ;;
esac

if [ "$mode" = seeds ]; then
  # The target bodies over the seeds, and the libFuzzer binaries type-checked.
  cargo test --no-default-features --lib --test corpus
  RUSTC_BOOTSTRAP=1 cargo check --bins
  exit 0
fi

export RUSTC_BOOTSTRAP=1
# AddressSanitizer keeps freed memory in a quarantine (256 MiB by default) to catch
# use-after-free; under the 512 MiB process limit that, plus a grown corpus, ended a
# long `inventory` run "out of memory" with 28 MB of live heap. A 64 MiB quarantine
# keeps the limit about what the parsers hold; one allocation over 512 MiB still fails
# (-malloc_limit_mb).
export ASAN_OPTIONS="quarantine_size_mb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
if [ "$build" = 0 ]; then
  :
elif [ ${#targets[@]} -eq "$(wc -l < targets.txt)" ]; then
  cargo fuzz build -O -s "$sanitizer" >&2
else
  for t in "${targets[@]}"; do cargo fuzz build -O -s "$sanitizer" "$t" >&2; done
fi
[ -z "$logdir" ] || mkdir -p "$logdir"
bin="${CARGO_TARGET_DIR:-target}/$(rustc -vV | sed -n 's/^host: //p')/release"
summary=()
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  if [ -n "$logdir" ]; then log="$logdir/$t.log"; else log=$(mktemp); fi
  start=$(date +%s)
  : >"$log"
  echo "== fuzz $t for ${secs}s" >&2
  # The binary cargo fuzz built, run directly: `cargo fuzz run` would check (and,
  # with crates edited meanwhile, rebuild) everything once per target.
  # -timeout counts wall time: on a loaded machine a niced run can be descheduled
  # for a second. A timeout whose input then runs 10 times within the limit on its
  # own is such a false one: the run resumes from its corpus for the executions and
  # seconds left, and the summary counts the resumptions. Anything else stops it.
  result=ok execs=0 rate= rss=0 slow=0 resumed=0
  while :; do
    left_secs=$((secs - ($(date +%s) - start)))
    left_runs=$runs
    [ "$runs" -lt 0 ] || left_runs=$((runs - execs))
    [ "$left_secs" -gt 0 ] && [ "$left_runs" -ne 0 ] || break
    seg_start=$(date +%s)
    seg_line=$(($(wc -l <"$log") + 1))
    if "$bin/$t" "corpus/$t" "seeds/$t" \
        -max_total_time="$left_secs" -runs="$left_runs" -max_len=8192 -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" >>"$log" 2>&1; then
      ok=1
    else
      ok=0
    fi
    # This segment's final stats only (earlier segments are above it in the log).
    seg_stat() { tail -n +"$seg_line" "$log" | grep -a -o "stat::$1: *[0-9]*" | grep -o '[0-9]*$' | tail -1 || true; }
    seg_execs=$(seg_stat number_of_executed_units)
    execs=$((execs + ${seg_execs:-0}))
    seg_rss=$(seg_stat peak_rss_mb)
    [ "${seg_rss:-0}" -le "$rss" ] || rss=$seg_rss
    seg_slow=$(seg_stat slowest_unit_time_sec)
    [ "${seg_slow:-0}" -le "$slow" ] || slow=$seg_slow
    [ "$ok" = 1 ] && break
    false_timeouts=0 real=0
    for a in "artifacts/$t"/timeout-*; do
      [ -e "$a" ] && [ "$(stat -c %Y "$a")" -ge "$seg_start" ] || continue
      if "$bin/$t" -runs=10 -timeout=1 "$a" >/dev/null 2>&1; then
        echo "$t: $a ran 10 times within the 1 s limit alone (machine load?); resuming" >&2
        echo "== false timeout: $a ran 10 times within 1 s alone; resuming" >>"$log"
        mkdir -p "artifacts/$t/false-timeouts" && mv "$a" "artifacts/$t/false-timeouts/"
        false_timeouts=$((false_timeouts + 1))
      else
        real=1
      fi
    done
    if [ "$false_timeouts" -gt 0 ] && [ "$real" = 0 ]; then
      resumed=$((resumed + 1))
      continue
    fi
    result=FAILED
    status=1
    tail -40 "$log" >&2
    break
  done
  took=$(($(date +%s) - start))
  [ "$took" -gt 0 ] && rate=$((execs / took))
  summary+=("$(printf '%-24s %-6s %5ss %12s execs %8s/s  slowest %ss  peak %4s MiB  corpus %5s  false timeouts %s' \
    "$t" "$result" "$took" "$execs" "${rate:-?}" "$slow" \
    "$rss" "$(ls "corpus/$t" | wc -l)" "$resumed")")
  [ -n "$logdir" ] || rm -f "$log"
done
printf '%s\n' "${summary[@]}"
exit $status
