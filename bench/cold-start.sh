#!/usr/bin/env bash
# berth cold-start benchmark: `bash bench/cold-start.sh [--runs N] [--burst N]`.
#
# Measures, on the real Docker engine and in one run (see bench/cold-start.ts):
#   - stopped container → first 200 through berth, against the engine's floor
#     (Engine API start, then polling the published port directly);
#   - paused container → first 200 through berth, against unpause + poll;
#   - N (1000) concurrent requests to a stopped app: engine starts, successes,
#     time until the last is served.
# Prints a table; writes bench/results/cold-start-latest.json (and a timestamped copy).
#
# Knobs (environment; the same as flags of dist/bench/cold-start.js):
#   BENCH_COLD_RUNS=20        measured runs per series (at least 10)
#   BENCH_COLD_WARMUP=2       unmeasured runs first
#   BENCH_COLD_BURST=1000     concurrent cold requests
#   BENCH_COLD_SETTLE_MS=300  pause before each measured run
#   BENCH_COLD_BOOT_DELAY_MS=0 the cold-start app (floor and berth) waits this long before
#                             it listens: shows how readiness polling copes with slower apps
#   BENCH_QUIET_CORES=0.3     before each run, wait until other work uses less than this...
#   BENCH_QUIET_BUDGET=120    ...spending at most this many seconds waiting in all
#   BENCH_COLD_TIMEOUT=900    the whole benchmark is stopped after this many seconds
#   BERTH_LOG_LEVEL=silent    the in-process gateway's log level (debug shows every step)
#   BENCH_COLD_APPS_NETWORK=  the gateway's appsNetwork (default berth-apps); `none` measures both
#                             sides without it (the floor container joins it like berth's)
#
# Everything the benchmark creates carries berth.bench=true and
# berth.bench.run=<id>; the node process removes it on exit, and this script's
# trap removes whatever is left by that run label (after a crash or kill -9).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
TIMEOUT_S=${BENCH_COLD_TIMEOUT:-900}

log() { printf '[cold-start] %s\n' "$*" >&2; }
die() { printf '[cold-start] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

[[ $TIMEOUT_S =~ ^[1-9][0-9]*$ ]] || die "BENCH_COLD_TIMEOUT must be a number of seconds, got '$TIMEOUT_S'"

RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export BENCH_COLD_RUN_ID=$RUN_ID
TMP=$(mktemp -d /tmp/berth-cold-bench.XXXXXX)
export BENCH_COLD_TMPDIR=$TMP
NODE_PID=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$NODE_PID" 250
  remove_run_objects "$RUN_ID"
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$ROOT/scripts/ensure-docker.sh"
bash "$ROOT/scripts/build-test-images.sh" >&2

# Type errors in bench/cold-start*.ts and bench/lib/ stop the run; others only warn.
compile_bench '^bench/(cold-start|lib/)' 'bench/cold-start*.ts or bench/lib/'
[[ -f $ROOT/dist/bench/cold-start.js ]] || die "dist/bench/cold-start.js was not built"

cd "$ROOT"
# In the background and waited for, so that a signal reaches the trap at once;
# `timeout` bounds the whole run (TERM first: the benchmark then cleans up itself).
timeout --kill-after=30 "$TIMEOUT_S" node dist/bench/cold-start.js "$@" &
NODE_PID=$!
rc=0
wait "$NODE_PID" || rc=$?
NODE_PID=
((rc == 124)) && die "the benchmark took longer than ${TIMEOUT_S}s and was stopped"
exit "$rc"
