#!/usr/bin/env bash
# Installs what building and testing hw needs on a Debian machine. Idempotent.
#   scripts/deps.sh           everything the tests need (.ci/apt-*.txt, .ci/pip-requirements.txt)
#   scripts/deps.sh --build   only what building the workspace needs (.ci/apt-build-packages.txt)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
lists=(.ci/apt-build-packages.txt)
[ "$mode" = "--build" ] || lists+=(.ci/apt-packages.txt)

wanted=$(cat "${lists[@]}" | sed -e 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
# HW_LONG_TESTS=1 only: a real libvirtd with its QEMU driver, and virsh, for
# hwctl/tests/libvirt_pxe_long.rs (~15 s to install; never started as a service).
if [ "$mode" != "--build" ] && [ "${HW_LONG_TESTS:-}" = 1 ]; then
  wanted="$wanted libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
fi
missing=()
for p in $wanted; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "deps: installing ${missing[*]}" >&2
  $sudo apt-get update -q >&2
  # Do not let package scripts start services (apache2 and friends): tests start
  # their own instances on loopback.
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >&2 || status=$?
  [ -z "$own_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
  if [ "$status" -ne 0 ]; then
    echo "deps: apt-get install failed ($status)" >&2
    exit "$status"
  fi
fi

if [ "$mode" != "--build" ] && [ "${HW_FUZZ_SMOKE:-seeds}" = libfuzzer ] \
    && ! cargo fuzz --version >/dev/null 2>&1; then
  # scripts/test.sh's libFuzzer smoke run (HW_FUZZ_SMOKE=libfuzzer) and
  # scripts/fuzz.sh need it; about two minutes to build. Without it test.sh fails under
  # HW_REQUIRE_PEERS=1 and skips that part, saying so, otherwise.
  echo "deps: installing cargo-fuzz" >&2
  # Pinned: the version this project's smoke run was checked with.
  cargo install --locked cargo-fuzz --version 0.13.2 >&2 || echo "deps: cargo-fuzz not installed" >&2
fi

if [ "$mode" != "--build" ]; then
  reqs=$(sed -e 's/#.*//' .ci/pip-requirements.txt | sed '/^\s*$/d' || true)
  if [ -n "$reqs" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    if ! .venv/bin/python -m pip install -q --disable-pip-version-check -r .ci/pip-requirements.txt >&2; then
      echo "deps: pip install failed" >&2
      exit 1
    fi
  fi
fi

# npm peers (.ci/npm-packages.txt) into .npm-peers/, never globally; and MeshCentral's
# AMT stack (four files of the meshcentral package, which is a whole server).
if [ "$mode" != "--build" ] && [ -f .ci/npm-packages.txt ]; then
  if ! command -v npm >/dev/null 2>&1; then
    # Debian's nodejs comes without npm; the machine image's nodesource nodejs has
    # it (and conflicts with Debian's npm package), so install it only when absent.
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends npm >&2
  fi
  npm_pkgs=$(sed -e 's/#.*//' .ci/npm-packages.txt | sed '/^\s*$/d' || true)
  if [ -n "$npm_pkgs" ]; then
    mkdir -p .npm-peers
    # shellcheck disable=SC2086
    if ! npm install -q --prefix .npm-peers --no-audit --no-fund $npm_pkgs >&2; then
      echo "deps: npm install failed" >&2
      exit 1
    fi
  fi
  if [ ! -f .npm-peers/meshcentral-amt/amt-wsman-comm.js ]; then
    mkdir -p .npm-peers/meshcentral-amt
    if ! (cd .npm-peers && npm pack -q meshcentral@1.1.55 >/dev/null \
        && tar -xzf meshcentral-1.1.55.tgz -C meshcentral-amt --strip-components=2 \
           package/amt/amt-wsman-comm.js package/amt/amt-wsman.js package/amt/amt.js package/amt/amt-xml.js \
        && rm -f meshcentral-1.1.55.tgz); then
      echo "deps: MeshCentral's AMT stack could not be fetched" >&2
      exit 1
    fi
  fi
fi
