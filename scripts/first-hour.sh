#!/usr/bin/env bash
# A new user's first hour, scripted (issue 15): from a fresh clone of what is committed,
#   1. the README's first two commands as the README prints them: the test command is
#      checked to be this very test script (running it again from here would recurse);
#      the demo command is run, and its table checked;
#   2. `hwctl drivers` lists every hardware type that has an Ironic export fixture;
#   3. an Ironic export (`openstack baremetal node show -f json`) of every hardware
#      type: validated offline as it is (the masked `******` secret refused, then filled
#      from `HW_<KEY>`), and its driver_info pointed at the built-in simulator (`hwctl
#      sim TYPE`) for a `power status`;
#   4. secrets through `HW_<KEY>` and `--password-file` (a wrong one fails), while a
#      sampler checks that no secret is ever in an hwctl process's /proc/PID/cmdline;
#   5. a fleet run interrupted with SIGINT (Ctrl-C): exit status non-zero and the
#      done / failed / not started summary, checked against the simulator;
#   6. `printf 'cmd N\n' | hwctl console` on an OCS blade, 20 times, then on an IPMI
#      node (Serial over LAN) 3 times, every reply printed.
# Each step checks its output and a failure names the step.
#
# hwctl is the binary already built (default $CARGO_TARGET_DIR or target, /debug/hwctl, as `cargo test
# --workspace` leaves it; HWCTL=PATH for another one). The demo command's compile step
# (`cargo run -p hwctl`) runs that binary instead of compiling the clone again;
# HW_FIRST_HOUR_BUILD=1 lets it really build in the clone (minutes, its own target/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HWCTL=$(realpath "${HWCTL:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/hwctl}")
STEP="setup"
fail() { echo "first-hour: FAILED at step '$STEP': $*" >&2; exit 1; }
step() { STEP=$1; echo "== first hour: $STEP" >&2; }
[ -x "$HWCTL" ] || fail "no hwctl binary at $HWCTL (cargo build -p hwctl, or HWCTL=PATH)"
command -v python3 >/dev/null || fail "python3 is needed (JSON handling)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hw-first-hour.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export HWCTL_STATE_DIR="$WORK/state"
# No secret of a previous shell leaks into the checks below.
for v in $(env | sed -n 's/^\(HW_[A-Z_]*PASSWORD[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset HW_PASSWORD_FILE

# Runs hwctl; output to $WORK/out, $WORK/err; returns its exit status.
run() {
  local rc=0
  "$HWCTL" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  return $rc
}
show() { echo "--- stdout:"; cat "$WORK/out"; echo "--- stderr:"; cat "$WORK/err"; }
expect_ok() { run "$@" || fail "hwctl $* exited $?: $(show)"; }
must_have() { grep -qE -- "$1" "$2" || fail "'$1' not in $(basename "$2"): $(show)"; }

# --------------------------------------------------------------------------------
step "fresh clone"
git clone -q "$ROOT" "$WORK/hw" || fail "git clone $ROOT"
CLONE="$WORK/hw"
[ "$(git -C "$CLONE" rev-parse HEAD)" = "$(git -C "$ROOT" rev-parse HEAD)" ] \
  || fail "the clone is not at the checkout's HEAD"
[ -f "$CLONE/README.md" ] || fail "no README.md in the clone"
FIXTURES="$CLONE/hwctl/tests/fixtures/ironic"
[ -d "$FIXTURES" ] || fail "no Ironic export fixtures in the clone ($FIXTURES)"

# --------------------------------------------------------------------------------
step "README commands"
# The first two commands of the README's first ```sh block, comments dropped.
mapfile -t CMDS < <(awk '/^```sh/ {inblock=1; next} inblock && /^```/ {exit}
  inblock { sub(/[ \t]*#.*/, ""); if ($0 ~ /[^ \t]/) print }' "$CLONE/README.md" | head -2)
[ "${#CMDS[@]}" -eq 2 ] || fail "the README's first sh block has no two commands: ${CMDS[*]:-none}"
TEST_CMD="" DEMO_CMD=""
for c in "${CMDS[@]}"; do
  read -r -a words <<<"$c"
  script="${words[1]:-}"
  [ "${words[0]}" = bash ] && [ -f "$CLONE/$script" ] \
    || fail "README command '$c' is not 'bash <a script of the repository>'"
  case "$script" in
    scripts/test.sh) TEST_CMD=$c ;;
    *) DEMO_CMD=$c ;;
  esac
done
[ -n "$TEST_CMD" ] || fail "no README command runs scripts/test.sh: ${CMDS[*]}"
[ -n "$DEMO_CMD" ] || fail "no demo command among the README's first two: ${CMDS[*]}"
# The test command is the one CI runs and the one that runs this script.
grep -qxF "$TEST_CMD" "$CLONE/.ci/run" || fail "'.ci/run' does not run the README's '$TEST_CMD'"
grep -q 'scripts/first-hour.sh' "$CLONE/scripts/test.sh" \
  || fail "the README's test command ($TEST_CMD) does not run scripts/first-hour.sh (as committed)"
# The demo command, for real, in the clone.
mkdir -p "$WORK/bin"
if [ "${HW_FIRST_HOUR_BUILD:-0}" != 1 ]; then
  REAL_CARGO=$(command -v cargo || true)
  cat >"$WORK/bin/cargo" <<EOF
#!/usr/bin/env bash
# first-hour.sh: \`cargo run -p hwctl -- ARGS\` runs the hwctl already built ($HWCTL).
args=("\$@")
if [ "\${args[0]:-}" = run ]; then
  for ((i = 1; i < \${#args[@]}; i++)); do
    if [ "\${args[i]}" = -- ]; then exec "$HWCTL" "\${args[@]:i+1}"; fi
  done
  case " \$* " in *" -p hwctl "*|*" --package hwctl "*) exec "$HWCTL" ;; esac
fi
echo "first-hour.sh: the demo ran 'cargo \$*'; only 'cargo run -p hwctl -- …' is stood in for (HW_FIRST_HOUR_BUILD=1 builds for real)" >&2
${REAL_CARGO:+exec "$REAL_CARGO" "\$@"}
exit 1
EOF
  chmod +x "$WORK/bin/cargo"
fi
( cd "$CLONE" && PATH="$WORK/bin:$PATH" timeout 600 $DEMO_CMD ) >"$WORK/out" 2>"$WORK/err" \
  || fail "'$DEMO_CMD' exited $?: $(show)"
must_have '^[0-9]+ nodes driven in .*; 0 failed steps' "$WORK/out"
if grep -qiE 'error|panicked' "$WORK/out"; then fail "the demo's table shows an error: $(show)"; fi

# --------------------------------------------------------------------------------
step "hwctl drivers"
TYPES=()
for f in "$FIXTURES"/*.json; do
  t=$(basename "$f" .json)
  # One export per hardware type, named after it; the API's reply, the whole
  # fleet's `node list --long` and an ipmi node with Ironic's console port are
  # other shapes of export.
  case "$t" in api-node-show-response|node-list-long|ipmi-socat-console) ;; *) TYPES+=("$t") ;; esac
done
[ "${#TYPES[@]}" -ge 10 ] || fail "only ${#TYPES[@]} Ironic exports in $FIXTURES"
expect_ok drivers
for t in "${TYPES[@]}"; do grep -qw -- "$t" "$WORK/out" || fail "hwctl drivers does not list $t: $(show)"; done
# And every hardware type it lists (but the in-memory fake) has an Ironic export here.
expect_ok --json drivers
for t in $(python3 -c 'import json,sys; print(" ".join(d["name"] for d in json.load(open(sys.argv[1]))))' "$WORK/out"); do
  [ "$t" = fake-hardware ] || [ -f "$FIXTURES/$t.json" ] \
    || fail "hwctl drivers lists $t, which has no Ironic export in $FIXTURES"
done
expect_ok sim --list
for t in "${TYPES[@]}"; do must_have "^$t\$" "$WORK/out"; done

# --------------------------------------------------------------------------------
step "secret sampler"
# Watches every hwctl process for the whole run: a secret as an argument, or in one.
cat >"$WORK/sampler.py" <<'EOF'
import os, sys, time
hwctl, secrets_file, stop, report = sys.argv[1:5]
seen, hits = set(), []
while not os.path.exists(stop):
    try:
        secrets = [s for s in open(secrets_file).read().split("\n") if s]
    except OSError:
        secrets = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.path.realpath(f"/proc/{pid}/exe") != hwctl:
                continue
            args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
        except OSError:
            continue
        seen.add(pid)
        for a in args:
            for s in secrets:
                if a == s or a.endswith("=" + s):
                    hits.append(f"pid {pid}: {' '.join(args)}")
    time.sleep(0.02)
with open(report, "w") as f:
    f.write(f"{len(seen)}\n" + "\n".join(hits))
EOF
: >"$WORK/secrets"
python3 "$WORK/sampler.py" "$HWCTL" "$WORK/secrets" "$WORK/sampler.stop" "$WORK/sampler.report" \
  >"$WORK/sampler.log" 2>&1 &
SAMPLER=$!
PIDS+=("$SAMPLER")

# --------------------------------------------------------------------------------
step "simulators"
# hwctl sim TYPE --json: one JSON line ({"nodes": [...], "simulator": ...}), then it serves.
for t in "${TYPES[@]}"; do
  "$HWCTL" --json sim "$t" >"$WORK/sim-$t.json" 2>"$WORK/sim-$t.err" &
  PIDS+=($!)
done
for t in "${TYPES[@]}"; do
  for _ in $(seq 200); do [ -s "$WORK/sim-$t.json" ] && break; sleep 0.1; done
  [ -s "$WORK/sim-$t.json" ] || fail "hwctl sim $t printed nothing in 20 s: $(cat "$WORK/sim-$t.err")"
done
# Every secret value the simulators use is one the sampler looks for.
for t in "${TYPES[@]}"; do
  "$HWCTL" --json properties "$t" >"$WORK/props-$t.json" || fail "hwctl properties $t"
  python3 - "$WORK/props-$t.json" "$WORK/sim-$t.json" >>"$WORK/secrets" <<'EOF'
import json, sys
props = json.load(open(sys.argv[1]))["properties"]
secret = {p["name"] for p in props if p["secret"]}
for node in json.loads(open(sys.argv[2]).readline())["nodes"]:
    for k, v in node["driver_info"].items():
        if k in secret and v:
            print(v)
EOF
done

# --------------------------------------------------------------------------------
step "Ironic exports"
# node.py FIXTURE SIM_JSON PROPS OUT ENV_OUT: the export with the simulator's
# driver_info (and capabilities) and ports; secret keys stay Ironic's "******" mask, their values go to
# ENV_OUT as HW_<KEY>=VALUE lines (one environment variable per secret key).
cat >"$WORK/node.py" <<'EOF'
import json, sys
fixture, sim, props, out, env_out = sys.argv[1:6]
node = json.load(open(fixture))
simnode = json.loads(open(sim).readline())["nodes"][0]
secret = {p["name"] for p in json.load(open(props))["properties"] if p["secret"]}
env = []
# Keys Ironic keeps in properties.capabilities ("k:v,k:v": OneView's URIs) stay there.
caps_text = node.get("properties", {}).get("capabilities") or ""
caps = dict(c.split(":", 1) for c in caps_text.split(",") if c)
for k, v in simnode["driver_info"].items():
    if k in caps:
        caps[k] = v
    elif k in secret:
        node["driver_info"][k] = "******"
        env.append(f"HW_{k.upper()}={v}")
    else:
        node["driver_info"][k] = v
if caps:
    node["properties"]["capabilities"] = ",".join(f"{k}:{v}" for k, v in caps.items())
node["ports"] = simnode.get("ports", [])
json.dump(node, open(out, "w"))
open(env_out, "w").write("\n".join(env) + "\n")
EOF
# missing.py FIXTURE SIM_JSON PROPS: the required keys the export lacks, with the
# simulator's values: "info KEY=VALUE", or "env HW_KEY=VALUE" for a secret.
cat >"$WORK/missing.py" <<'EOF'
import json, sys
fixture, sim, props = sys.argv[1:4]
have = json.load(open(fixture))["driver_info"]
simnode = json.loads(open(sim).readline())["nodes"][0]["driver_info"]
for p in json.load(open(props))["properties"]:
    k = p["name"]
    if p["required"] and k not in have and k in simnode:
        print(f"env HW_{k.upper()}={simnode[k]}" if p["secret"] else f"info {k}={simnode[k]}")
EOF
for t in "${TYPES[@]}"; do
  STEP="Ironic export: $t"
  f="$FIXTURES/$t.json"
  masked=$(python3 -c 'import json,sys; print(" ".join(k for k, v in json.load(open(sys.argv[1]))["driver_info"].items() if v == "******"))' "$f")
  # Ports are not part of `node show`: a user passes them (`openstack baremetal port list`).
  if [ -n "$masked" ]; then
    # As exported: the mask is refused, naming the key ...
    rc=0; run --info-file "$f" --port 52:54:00:12:34:56 validate || rc=$?
    [ "$rc" = 2 ] || fail "validate of the masked export exited $rc, not 2: $(show)"
    for k in $masked; do must_have "$k" "$WORK/err"; done
    must_have 'mask' "$WORK/err"
  fi
  # ... and valid once HW_<KEY> holds the secret. Required keys an export lacks (the
  # OneView appliance's URL and credentials are in ironic.conf, not in the node) the
  # user gives as --info / HW_<KEY>: here the simulator's values.
  envs=() infos=()
  for k in $masked; do envs+=("HW_${k^^}=not-the-real-one"); done
  while read -r kind kv; do
    case "$kind" in info) infos+=(--info "$kv") ;; env) envs+=("$kv") ;; esac
  done < <(python3 "$WORK/missing.py" "$f" "$WORK/sim-$t.json" "$WORK/props-$t.json")
  [ "${#infos[@]}" -eq 0 ] || echo "   $t: the export lacks ${infos[*]}" >&2
  env "${envs[@]}" "$HWCTL" --info-file "$f" "${infos[@]}" --port 52:54:00:12:34:56 validate \
    >"$WORK/out" 2>"$WORK/err" || fail "validate of the export with ${envs[*]:-no secret} exited $?: $(show)"
  must_have "valid" "$WORK/out"
  # Against the simulator: the export's keys with the simulator's address.
  python3 "$WORK/node.py" "$f" "$WORK/sim-$t.json" "$WORK/props-$t.json" "$WORK/node-$t.json" "$WORK/env-$t" \
    || fail "cannot build a node file from $f"
  mapfile -t envs < <(grep . "$WORK/env-$t" || true)
  env "${envs[@]}" "$HWCTL" --info-file "$WORK/node-$t.json" validate >"$WORK/out" 2>"$WORK/err" \
    || fail "validate against the simulator exited $?: $(show)"
  env "${envs[@]}" "$HWCTL" --json --info-file "$WORK/node-$t.json" power status >"$WORK/out" 2>"$WORK/err" \
    || fail "power status against the simulator exited $?: $(show)"
  must_have '"(on|off|unknown)"' "$WORK/out"
done

# --------------------------------------------------------------------------------
step "secrets: HW_<KEY> and --password-file"
ipmi_pw=$(sed -n 's/^HW_IPMI_PASSWORD=//p' "$WORK/env-ipmi")
[ -n "$ipmi_pw" ] || fail "the ipmi simulator has no password"
node="$WORK/node-ipmi.json"
printf '%s\n' "$ipmi_pw" >"$WORK/pw" && chmod 600 "$WORK/pw"
expect_ok --info-file "$node" --password-file "$WORK/pw" power status
HW_PASSWORD_FILE="$WORK/pw" "$HWCTL" --info-file "$node" power status >"$WORK/out" 2>"$WORK/err" \
  || fail "HW_PASSWORD_FILE: exited $?: $(show)"
printf 'wrong-%s\n' "$ipmi_pw" >"$WORK/badpw"
if run --info-file "$node" --password-file "$WORK/badpw" power status; then
  fail "a wrong --password-file was not used: power status succeeded"
fi
if HW_IPMI_PASSWORD="wrong-$ipmi_pw" "$HWCTL" --info-file "$node" power status >"$WORK/out" 2>"$WORK/err"; then
  fail "a wrong HW_IPMI_PASSWORD was not used: power status succeeded"
fi
HW_IPMI_PASSWORD="$ipmi_pw" "$HWCTL" --info-file "$node" power status >"$WORK/out" 2>"$WORK/err" \
  || fail "HW_IPMI_PASSWORD: exited $?: $(show)"
# The secrets are not echoed either.
if grep -qF -- "$ipmi_pw" "$WORK/out" "$WORK/err"; then fail "hwctl printed the password: $(show)"; fi

# --------------------------------------------------------------------------------
step "fleet interrupted with Ctrl-C"
ocs_url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["nodes"][0]["driver_info"]["msftocs_base_url"])' "$WORK/sim-msftocs.json")
ocs_pw=$(sed -n 's/^HW_MSFTOCS_PASSWORD=//p' "$WORK/env-msftocs")
# A chassis manager that accepts connections and never answers: its nodes stay in flight.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$WORK/silent.port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
silent=$(cat "$WORK/silent.port")
[ -n "$silent" ] || fail "the silent listener did not start"
python3 - "$ocs_url" "$silent" >"$WORK/inventory.json" <<'EOF'
import json, sys
url, silent = sys.argv[1:3]
nodes = []
for b in range(1, 13):
    base = url if b <= 4 else f"http://127.0.0.1:{silent}"
    nodes.append({"name": f"blade-{b}", "driver": "msftocs", "driver_info": {
        "msftocs_base_url": base, "msftocs_blade_id": str(b),
        "msftocs_username": "admin", "msftocs_password": "******"}})
print(json.dumps({"nodes": nodes}, indent=1))
EOF
blade_node() {
  printf '{"driver": "msftocs", "driver_info": {"msftocs_base_url": "%s", "msftocs_blade_id": "%s", "msftocs_username": "admin"}}' \
    "$ocs_url" "$1" >"$WORK/blade-$1.json"
  echo "$WORK/blade-$1.json"
}
blade_is_on() { "$HWCTL" --json --info-file "$WORK/blade-$1.json" power status 2>/dev/null | grep -q '"on"'; }
export HW_MSFTOCS_PASSWORD="$ocs_pw"
for b in 1 2 3 4; do expect_ok --info-file "$(blade_node $b)" power off; done
"$HWCTL" fleet --inventory "$WORK/inventory.json" --concurrency 1 power on \
  >"$WORK/fleet.out" 2>"$WORK/fleet.err" &
FLEET=$!
# Ctrl-C once a blade of the real chassis is on (the silent one's nodes cannot finish).
on=""
for _ in $(seq 100); do
  for b in 1 2 3 4; do
    if blade_is_on "$b"; then on=$b; break; fi
  done
  [ -n "$on" ] && break
  kill -0 "$FLEET" 2>/dev/null || break
  sleep 0.1
done
[ -n "$on" ] || fail "no blade came on under fleet: $(cat "$WORK/fleet.out" "$WORK/fleet.err")"
kill -0 "$FLEET" 2>/dev/null || fail "the fleet run ended before Ctrl-C: $(cat "$WORK/fleet.out" "$WORK/fleet.err")"
kill -INT "$FLEET"
rc=0
for _ in $(seq 300); do kill -0 "$FLEET" 2>/dev/null || break; sleep 0.1; done
kill -0 "$FLEET" 2>/dev/null && { kill -KILL "$FLEET"; fail "fleet still running 30 s after SIGINT"; }
wait "$FLEET" || rc=$?
cp "$WORK/fleet.out" "$WORK/out"; cp "$WORK/fleet.err" "$WORK/err"
[ "$rc" != 0 ] || fail "the interrupted fleet exited 0: $(show)"
# Any non-zero status (130, as a shell reports Ctrl-C, or 1); the summary shows hwctl
# handled the signal rather than died of it.
# The summary, on stdout or stderr.
cat "$WORK/fleet.out" "$WORK/fleet.err" >"$WORK/fleet.all"
must_have 'interrupted.*[1-9][0-9]* done.* [0-9]+ failed.* [1-9][0-9]* not started' "$WORK/fleet.all"
must_have '^not started: blade-' "$WORK/fleet.all"
must_have '^failed: ' "$WORK/fleet.all"
# What it says it switched on is on at the chassis.
switched=$(sed -n 's/^switched on: //p' "$WORK/fleet.all" | tr -d ',')
[ -n "$switched" ] || fail "no 'switched on:' line: $(show)"
for n in $switched; do
  b=${n#blade-}
  [ "$b" -le 4 ] || fail "$n (on the silent chassis) reported switched on: $(show)"
  blade_is_on "$b" || fail "$n reported switched on but is not on"
done

# --------------------------------------------------------------------------------
step "piped console, 20 times on OCS, 3 on IPMI"
blade=$(blade_node 7)
expect_ok --info-file "$blade" power on
for i in $(seq 1 20); do
  rc=0
  printf 'cmd %s\n' "$i" | "$HWCTL" --info-file "$blade" console >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = 0 ] || fail "run $i: console exited $rc: $(show)"
  grep -qF "cmd $i" "$WORK/out" || fail "run $i of 20: the reply is missing: $(show)"
done
unset HW_MSFTOCS_PASSWORD
# The same on an IPMI node: Serial over LAN to the `hwctl sim ipmi` BMC, whose serial
# line prints a banner and echoes.
for i in $(seq 1 3); do
  rc=0
  printf 'sol %s\n' "$i" | HW_IPMI_PASSWORD="$ipmi_pw" "$HWCTL" --info-file "$WORK/node-ipmi.json" console \
    >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = 0 ] || fail "IPMI run $i: console exited $rc: $(show)"
  grep -qF "sol $i" "$WORK/out" || fail "IPMI run $i of 3: the echo is missing: $(show)"
done

# --------------------------------------------------------------------------------
step "no secret in any hwctl command line"
touch "$WORK/sampler.stop"
wait "$SAMPLER" || fail "the sampler failed"
seen=$(head -1 "$WORK/sampler.report")
[ "$seen" -ge 20 ] || fail "the sampler saw only $seen hwctl processes"
if [ "$(wc -l <"$WORK/sampler.report")" -gt 0 ] && tail -n +2 "$WORK/sampler.report" | grep -q .; then
  fail "a secret in /proc/PID/cmdline: $(tail -n +2 "$WORK/sampler.report")"
fi

STEP=done
echo "first hour: every step passed (${#TYPES[@]} Ironic exports, $seen hwctl processes sampled, 20 OCS and 3 IPMI console sessions)" >&2
