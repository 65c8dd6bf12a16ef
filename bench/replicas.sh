#!/usr/bin/env bash
# berth replicas benchmark: `bash bench/replicas.sh`.
#
# Measures, on the real Docker engine and in one run (see bench/replicas.ts):
#   - throughput with 1, 2 and 4 replicas of an app behind berth's real gateway,
#     against nginx balancing the very same replicas (their ports published on
#     127.0.0.1), with wrk: req/s, p50/p99, the proxy's CPU time per request,
#     where the rest of the CPU went, and berth/nginx ratios;
#   - the failed requests (non-2xx and socket errors) during blue/green updates
#     of 2 replicas under a keep-alive load, and how long the switch took.
# Prints a table; writes bench/results/replicas-latest.json (and a timestamped copy).
#
# Knobs (environment):
#   BENCH_DURATION=8s          measured wrk run per proxy, replica count, placement and round
#   BENCH_WARMUP=2s            unmeasured wrk run per proxy and replica count first
#   BENCH_ROUNDS=3             measured runs per cell (the report gives the median)
#   BENCH_REPLICAS="1 2 4"     replica counts (at most 4: the app's scale.max)
#   BENCH_PLACEMENTS="shared pinned"
#                              shared: no pinning; pinned: proxy alone on CPU 1, the rest on CPU 0
#   BENCH_PIN=1                0: only the shared placement
#   BENCH_BALANCE=least-connections   or round-robin (nginx gets least_conn or its default to match)
#   BENCH_CONNECTIONS=64       wrk connections (BENCH_THREADS=1 wrk threads)
#   BENCH_UPDATES=3            blue/green updates under load (0: none)
#   BENCH_UPDATE_CLIENTS=16    keep-alive clients of that load
#   BENCH_UPDATE_LEAD_MS=2000  load before each apply; BENCH_UPDATE_TAIL_MS=2000 after it
#   BENCH_QUIET_CORES=0.2      before each run, wait until other work uses less than this...
#   BENCH_QUIET_BUDGET=180     ...spending at most this many seconds waiting in all
#   BENCH_RETRIES=1            redo a run during which other work used > 0.3 cores
#   BENCH_REPLICAS_TIMEOUT=1200  the whole benchmark is stopped after this many seconds
#   BERTH_LOG_LEVEL=warn       the gateway's log level (its stderr)
#
# Everything the benchmark creates carries berth.bench=true and
# berth.bench.run=<id>; the node process removes it on exit, and this script's
# trap removes whatever is left by that run label (after a crash or kill -9),
# and stops the processes the run recorded in its pid file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
TIMEOUT_S=${BENCH_REPLICAS_TIMEOUT:-1200}

log() { printf '[replicas] %s\n' "$*" >&2; }
die() { printf '[replicas] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

[[ $TIMEOUT_S =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPLICAS_TIMEOUT must be a number of seconds, got '$TIMEOUT_S'"
[[ $(uname -s) == Linux ]] || die "this benchmark reads /proc: Linux only"

RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export BENCH_RUN_ID=$RUN_ID
TMP=$(mktemp -d "/tmp/berth-replicas-bench-$RUN_ID.XXXXXX")
export BENCH_TMPDIR=$TMP
NODE_PID=

# Processes the run recorded (pid name, in $TMP/run-*/pids) that are still ours:
# alive, and their command line names this run's temp dir or run id.
stop_recorded() {
  local f pid cmd
  for f in "$TMP"/run-*/pids; do
    [[ -f $f ]] || continue
    while read -r pid _; do
      [[ $pid =~ ^[0-9]+$ ]] || continue
      [[ -r /proc/$pid/cmdline ]] || continue
      cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
      [[ $cmd == *"$TMP"* || $cmd == *"$RUN_ID"* ]] || continue
      kill -TERM "$pid" 2>/dev/null || true
    done <"$f"
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$NODE_PID" 350
  stop_recorded
  remove_run_objects "$RUN_ID"
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
install_bench_tools
command -v nginx >/dev/null 2>&1 || export PATH="$PATH:/usr/sbin"

bash "$ROOT/scripts/ensure-docker.sh"
bash "$ROOT/scripts/build-test-images.sh" app >&2

# Type errors in bench/replicas*.ts and bench/lib/ stop the run; others only warn.
compile_bench '^bench/(replicas|lib/)' 'bench/replicas*.ts or bench/lib/'
for f in replicas.js replicas-gateway.js replicas-load.js; do
  [[ -f $ROOT/dist/bench/$f ]] || die "dist/bench/$f was not built"
done

cd "$ROOT"
# In the background and waited for, so that a signal reaches the trap at once;
# `timeout` bounds the whole run (TERM first: the benchmark then cleans up itself).
timeout --kill-after=40 "$TIMEOUT_S" node dist/bench/replicas.js "$@" &
NODE_PID=$!
rc=0
wait "$NODE_PID" || rc=$?
NODE_PID=
((rc == 124)) && die "the benchmark took longer than ${TIMEOUT_S}s and was stopped"
exit "$rc"
