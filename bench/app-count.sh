#!/usr/bin/env bash
# berth app-count benchmark: `bash bench/app-count.sh`.
#
# Registers BENCH_APPS apps through the admin API of a real `berth serve` (temp data
# dir, its own apps network) in batches, and reports (see bench/app-count.ts):
# per-batch apply time, gateway RSS per app after a full GC, GET /v1/apps page time,
# route lookups/s with 10 apps and with BENCH_APPS, cold starts with and without a
# pre-created container, and the engine's side (dockerd RSS, `docker ps -a` time,
# `docker create` cost with BENCH_ENGINE_CONTAINERS created containers).
# Writes bench/results/app-count-latest.json (and a timestamped copy).
#
# Knobs (environment):
#   BENCH_APPS=10000              apps registered
#   BENCH_BATCH=500               apps per POST /v1/apps
#   BENCH_CREATE_AHEAD=           the gateway's createAhead (unset: its default)
#   BENCH_ENGINE_CONTAINERS=1000  containers created directly for the engine figures (0: skip)
#   BENCH_COLD_RUNS=5             cold starts measured each way
#   BENCH_APP_COUNT_TIMEOUT=3600  the whole benchmark is stopped after this many seconds
#
# Every container it makes carries bench.app-count.run=<id>: the node process removes
# them at the end, and this script's trap removes whatever that label still finds.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
TIMEOUT_S=${BENCH_APP_COUNT_TIMEOUT:-3600}

log() { printf '[app-count] %s\n' "$*" >&2; }
die() { printf '[app-count] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

[[ $TIMEOUT_S =~ ^[1-9][0-9]*$ ]] || die "BENCH_APP_COUNT_TIMEOUT must be a number of seconds, got '$TIMEOUT_S'"

RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export BENCH_APP_COUNT_RUN_ID=$RUN_ID
TMP=$(mktemp -d /tmp/berth-app-count.XXXXXX)
export BENCH_APP_COUNT_TMPDIR=$TMP
NODE_PID=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$NODE_PID" 1200
  if command -v docker >/dev/null 2>&1; then
    local left
    left=$(timeout 120 docker ps -aq --filter "label=bench.app-count.run=$RUN_ID" 2>/dev/null || true)
    if [[ -n $left ]]; then
      log "removing $(wc -w <<<"$left") leftover container(s) of run $RUN_ID"
      # shellcheck disable=SC2086
      xargs -n 100 timeout 300 docker rm -f <<<"$left" >/dev/null 2>&1 || true
    fi
    timeout 30 docker network rm "berth-bench-$RUN_ID" >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$ROOT/scripts/ensure-docker.sh"
bash "$ROOT/scripts/build-test-images.sh" >&2

compile_bench '^bench/(app-count|route-lookup|lib/)' 'bench/app-count*.ts, bench/route-lookup.ts or bench/lib/'
[[ -f $ROOT/dist/bench/app-count.js ]] || die "dist/bench/app-count.js was not built"

cd "$ROOT"
timeout --kill-after=60 "$TIMEOUT_S" node dist/bench/app-count.js "$@" &
NODE_PID=$!
rc=0
wait "$NODE_PID" || rc=$?
NODE_PID=
((rc == 124)) && die "the benchmark took longer than ${TIMEOUT_S}s and was stopped"
exit "$rc"
