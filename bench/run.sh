#!/usr/bin/env bash
# berth proxy benchmark (`npm run bench`).
#
# One run on 127.0.0.1 measures, with wrk, the same request against:
#   direct  a fast backend on the host (nginx answering `ok\n`), no proxy
#   nginx   nginx as a reverse proxy to it (keep-alive upstream)
#   chp     configurable-http-proxy (JupyterHub's Node proxy) to it
#   berth   berth's ProxyServer (dist/bench/berth-proxy.js) to it
# and prints requests/s, p50, p99, the proxy's CPU time per request (utime+stime
# from /proc/<pid>/stat, all of its processes and threads) and its peak RSS
# (VmHWM from /proc and `/usr/bin/time -v`), then berth's ratios to the others.
# Results: bench/results/latest.json, raw logs in bench/results/<timestamp>/.
#
# Knobs (environment):
#   BENCH_DURATION=10s     measured wrk run per target
#   BENCH_WARMUP=3s        unmeasured wrk run first (JIT, pooled connections)
#   BENCH_CONNECTIONS=64   wrk connections
#   BENCH_THREADS=1        wrk threads (they share one core, see pinning)
#   BENCH_ROUNDS=3         measured runs per target, interleaved; the report
#                          gives the median of each figure and the spread
#   BENCH_TARGETS="direct nginx chp berth"
#   BENCH_PIN=1            pin with taskset (0: let the scheduler place things)
#   BENCH_PROFILE=0        1: after the measurements, run berth once more under
#                          `node --cpu-prof` and summarise its top self-time functions
#   BENCH_QUIET_CORES=0.2  before each run, wait until other work uses less than this
#   BENCH_QUIET_BUDGET=180 ... spending at most this many seconds waiting in all
#   BENCH_RETRIES=2        redo a run during which other work used > 0.3 cores
#
# CPU placement (the machine has 2 cores). The process being measured gets a
# core of its own: the proxy under test runs on CPU 1, while wrk and the
# backend share CPU 0. For `direct` the backend itself is the thing measured,
# so it is moved to CPU 1 for that run and back to CPU 0 afterwards. nginx runs
# with `worker_processes 1` and the Node proxies are single-threaded, so each
# proxy is limited to one core, and its throughput is what one core gives it
# (unless the load core saturates first: then CPU/request is the figure to
# compare; see bench/README.md).
#
# Everything is bounded in time (wrk under `timeout`, bounded waits) and every
# process this script starts is stopped on exit by the trap, by its pid.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DEPS="$HERE/.deps"

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-1}
TARGETS=${BENCH_TARGETS:-"direct nginx chp berth"}
PIN=${BENCH_PIN:-1}
PROFILE=${BENCH_PROFILE:-0}
ROUNDS=${BENCH_ROUNDS:-3}
REQUEST_PATH=/session/bench/

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

# wrk durations like 10s / 1m / 500 → whole seconds, for timeouts.
seconds_of() {
  local v=$1
  case $v in
    *ms) echo 1 ;;
    *s) echo "${v%s}" ;;
    *m) echo $(( ${v%m} * 60 )) ;;
    *h) echo $(( ${v%h} * 3600 )) ;;
    *) echo "$v" ;;
  esac
}
DURATION_S=$(seconds_of "$DURATION")
WARMUP_S=$(seconds_of "$WARMUP")
[[ $DURATION_S =~ ^[0-9]+$ && $DURATION_S -ge 1 ]] || die "BENCH_DURATION must be like 10s, got '$DURATION'"
[[ $WARMUP_S =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be like 3s, got '$WARMUP'"

# ---------------------------------------------------------------- tools
install_chp() {
  local bin="$DEPS/node_modules/configurable-http-proxy/bin/configurable-http-proxy"
  if [[ ! -f $bin ]]; then
    log "installing configurable-http-proxy@5 into bench/.deps (not the project's package.json)"
    mkdir -p "$DEPS"
    (cd "$DEPS" && timeout 300 npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$DEPS" configurable-http-proxy@5 >&2) ||
      die "npm install configurable-http-proxy@5 failed"
  fi
  CHP_BIN=$bin
}

build_berth() {
  npm_ci_if_missing
  log "compiling (tsc)"
  # The whole project compiles in one tsc run, and tsc still emits when it
  # reports type errors; so errors only warn here (those in bench/ and
  # src/proxy/ are shown), and the one request each target must answer before
  # it is measured is what proves the compiled proxy works.
  local out
  out=$(cd "$ROOT" && timeout 300 npx tsc -p tsconfig.json 2>&1 | grep 'error TS') || true
  if [[ -n $out ]]; then
    log "warning: tsc reported $(grep -c . <<<"$out") type error(s); the build was emitted anyway"
    grep -E '^(bench|src/proxy)/' <<<"$out" | sed 's/^/[bench]   /' >&2 || true
  fi
  for f in berth-proxy.js report.js profile-summary.js; do
    [[ -f $ROOT/dist/bench/$f ]] || die "dist/bench/$f was not built"
  done
}

# ---------------------------------------------------------------- processes
PIDS=()      # every process started here (the wrapper: taskset → /usr/bin/time)
TMP=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_tree "$pid"; done
  [[ -n $TMP && -d $TMP ]] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/run-procs.sh
source "$HERE/run-procs.sh"
# shellcheck source=bench/run-nginx.sh
source "$HERE/run-nginx.sh"

# ---------------------------------------------------------------- measuring
# shellcheck source=bench/run-measure.sh
source "$HERE/run-measure.sh"

# ---------------------------------------------------------------- main
[[ $(uname -s) == Linux ]] || die "this benchmark reads /proc: Linux only"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive number, got '$ROUNDS'"
for t in $TARGETS; do
  case $t in direct | nginx | chp | berth) ;; *) die "unknown target '$t' (known: direct nginx chp berth)" ;; esac
done
install_bench_tools curl curl
install_chp
build_berth

CLK_TCK=$(getconf CLK_TCK)
CPUS=$(nproc)
if ((PIN)) && ((CPUS >= 2)); then
  LOAD_CPU=0
  PROXY_CPU=1
else
  ((PIN)) && log "only $CPUS CPU: not pinning"
  PIN=0
  LOAD_CPU=0
  PROXY_CPU=0
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUN="$HERE/results/$STAMP"
mkdir -p "$RUN"
TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
read -r BACKEND_PORT NGINX_PORT CHP_PORT CHP_API_PORT BERTH_PORT BERTH_PROFILE_PORT < <(free_ports 6)
log "results in ${RUN#"$ROOT"/}; ports: backend $BACKEND_PORT nginx $NGINX_PORT chp $CHP_PORT berth $BERTH_PORT"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

write_backend_conf "$TMP/backend" "$BACKEND_PORT"
start backend "$LOAD_CPU" nginx -c "$TMP/backend/nginx.conf" -p "$TMP/backend" -e "$TMP/backend/error.log"
BACKEND_WRAPPER=$STARTED_WRAPPER
BACKEND_MAIN=$STARTED_PID
wait_port backend "$BACKEND_PORT" "$BACKEND_WRAPPER"
check_ok backend "http://127.0.0.1:$BACKEND_PORT$REQUEST_PATH"
mapfile -t BACKEND_PIDS < <(process_set "$BACKEND_MAIN")

# All proxies are up for the whole run (idle when not measured), warmed up once,
# then measured in interleaved rounds so that a burst of background load on the
# machine hits one round of each rather than all rounds of one.
for t in $TARGETS; do start_target "$t"; done
if ((WARMUP_S > 0)); then
  for t in $TARGETS; do
    log "warm-up $t: $WARMUP"
    [[ $t == direct ]] && move_backend "$PROXY_CPU"
    run_wrk "$t" "$WARMUP" "${URL[$t]}" "$RUN/$t.warmup.txt"
    [[ $t == direct ]] && move_backend "$LOAD_CPU"
  done
fi
for ((round = 1; round <= ROUNDS; round++)); do
  for t in $TARGETS; do measure_target "$t" "$round"; done
done

if [[ $PROFILE == 1 ]]; then
  # A separate berth process: the profiler slows it down, so it is not part of the figures.
  mkdir -p "$RUN/profile"
  start berth-profile "$PROXY_CPU" node --cpu-prof --cpu-prof-dir "$RUN/profile" "$ROOT/dist/bench/berth-proxy.js" \
    --port "$BERTH_PROFILE_PORT" --backend "127.0.0.1:$BACKEND_PORT" --prefix "$REQUEST_PATH"
  pwrapper=$STARTED_WRAPPER
  wait_port berth-profile "$BERTH_PROFILE_PORT" "$pwrapper"
  purl="http://127.0.0.1:$BERTH_PROFILE_PORT$REQUEST_PATH"
  check_ok berth-profile "$purl"
  log "berth-profile: warm-up $WARMUP, then $DURATION under node --cpu-prof"
  ((WARMUP_S > 0)) && run_wrk berth-profile "$WARMUP" "$purl" "$RUN/berth-profile.warmup.txt"
  run_wrk berth-profile "$DURATION" "$purl" "$RUN/berth-profile.wrk.txt"
  stop_tree "$pwrapper"
  forget_pid "$pwrapper"
fi

# Stop everything (TERM, so /usr/bin/time -v writes its report), backend last.
for t in $TARGETS; do
  [[ -n ${WRAPPER[$t]:-} ]] || continue
  stop_tree "${WRAPPER[$t]}"
  forget_pid "${WRAPPER[$t]}"
done
stop_tree "$BACKEND_WRAPPER"
forget_pid "$BACKEND_WRAPPER"

node "$ROOT/dist/bench/report.js" --run "$RUN" --targets "$TARGETS" --rounds "$ROUNDS" \
  --duration "$DURATION" --warmup "$WARMUP" --connections "$CONNECTIONS" --threads "$THREADS" \
  --pinned "$PIN" --load-cpu "$LOAD_CPU" --proxy-cpu "$PROXY_CPU" --cpus "$CPUS" \
  --json "$RUN/results.json" | tee "$RUN/report.txt"
cp "$RUN/results.json" "$HERE/results/latest.json"
log "wrote ${HERE#"$ROOT"/}/results/latest.json (raw logs in ${RUN#"$ROOT"/})"

if [[ $PROFILE == 1 ]]; then
  prof=$(ls -t "$RUN"/profile/*.cpuprofile 2>/dev/null | head -n1 || true)
  [[ -n $prof ]] || die "no .cpuprofile written in $RUN/profile"
  echo
  node "$ROOT/dist/bench/profile-summary.js" "$prof" --top 30 | tee "$RUN/profile-summary.txt"
fi
