#!/usr/bin/env bash
# Cold start on Swarm: `bash bench/swarm-cold-start.sh [--runs N]` (as root).
#
# Makes a throwaway two-node swarm on this machine (scripts/swarm-harness.sh, under the
# name bswb and addresses 10.214.x, so it never meets the tests' swarm), loads the test
# image into both nodes, and measures in one run (see bench/swarm-cold-start.ts):
#   - the swarm's floor: a service scaled 0 → 1, its task's port polled directly;
#   - berth on the swarm: a stopped app (0 replicas) → first 200 through the proxy;
#   - berth on the local engine: a stopped app → first 200.
# Prints a table; writes bench/results/swarm-cold-start-latest.json (and a timestamped
# copy). The swarm (daemons, data, namespaces, links) is removed on exit, even after a
# failure or Ctrl-C.
#
#   BENCH_SWARM_RUNS=8        measured runs per series
#   BENCH_SWARM_TIMEOUT=900   the whole benchmark is stopped after this many seconds
#   BENCH_QUIET_CORES=0.5     before each measured step, wait until other work uses less than this...
#   BENCH_QUIET_BUDGET=180    ...spending at most this many seconds waiting in all
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
TIMEOUT_S=${BENCH_SWARM_TIMEOUT:-900}

log() { printf '[swarm-cold-start] %s\n' "$*" >&2; }
die() { printf '[swarm-cold-start] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

export BERTH_SWARM_NAME=bswb BERTH_SWARM_NET=10.214
NODE_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$NODE_PID" 250
  bash "$ROOT/scripts/swarm-harness.sh" down || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$ROOT/scripts/ensure-docker.sh"
bash "$ROOT/scripts/build-test-images.sh" app >&2
compile_bench '^bench/(swarm-cold-start|lib/)|^src/runtime/swarm/' 'bench/swarm-cold-start.ts or the swarm runtime'
[[ -f $ROOT/dist/bench/swarm-cold-start.js ]] || die "dist/bench/swarm-cold-start.js was not built"

log "making the swarm"
swarm_env=$(bash "$ROOT/scripts/swarm-harness.sh" up berth-test/app:latest)
while IFS= read -r line; do
  [[ $line == BERTH_SWARM_*=* ]] && export "${line?}"
done <<<"$swarm_env"

cd "$ROOT"
timeout --kill-after=30 "$TIMEOUT_S" node dist/bench/swarm-cold-start.js "$@" &
NODE_PID=$!
rc=0
wait "$NODE_PID" || rc=$?
NODE_PID=
((rc == 124)) && die "the benchmark took longer than ${TIMEOUT_S}s and was stopped"
exit "$rc"
