#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need on a fresh machine, then runs
# every test in the solution. Safe to run again: each install step checks first.
set -euo pipefail
cd "$(dirname "$0")"

# --- dependencies -----------------------------------------------------------------------------
# Debian packages the test suites need, as "command-or-path:package".
apt_needs=(
  /usr/bin/chromium:chromium   # browser tests (tests/Broker.BrowserTests): Playwright drives Debian's Chromium
  # gRPC interop tests (tests/Broker.InteropTests): a real gRPC peer, seen only by /usr/bin/python3.
  /usr/lib/python3/dist-packages/grpc:python3-grpcio
  /usr/lib/python3/dist-packages/grpc_tools:python3-grpc-tools
  # the load test (benchmarks/Broker.LoadTest) and its smoke test (tests/Broker.LoadTests): NATS, the peer it compares with.
  /usr/sbin/nats-server:nats-server
  # the client package tests (tests/Broker.ClientPackageTests): npm pack, node and the TypeScript compiler.
  node:nodejs
  npm:npm
  # cluster tests (sessions, tickets, the key ring and the engine on Redis) and the broker.js epoch tests: each starts its own redis-server on a free port.
  /usr/bin/redis-server:redis-server
)

missing=()
for need in "${apt_needs[@]}"; do
  probe=${need%%:*}; pkg=${need#*:}
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("$pkg"); else command -v "$probe" >/dev/null || missing+=("$pkg"); fi
done
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The TypeScript compiler the broker-js package tests compile with: the package's pinned dev dependency
# (clients/broker-js/package-lock.json), installed here so the tests themselves never need the registry.
if [[ ! -x clients/broker-js/node_modules/typescript/bin/tsc ]]; then
  echo "test.sh: installing the broker-js dev dependencies (npm ci)"
  (cd clients/broker-js && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- tests ------------------------------------------------------------------------------------
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Broker.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line for the whole run, summed over the test assemblies.
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
