#!/usr/bin/env bash
# berth proxy benchmark (`npm run bench`, `npm run bench -- --cpu-prof`).
#
# One run on 127.0.0.1 measures, with wrk, the same request to the same backend, an app
# container that berth itself starts (berth-bench/nginx: the machine's nginx FROM scratch,
# on the host network at 127.0.0.1:$BENCH_APP_PORT, answering `ok\n`), through:
#   direct       no proxy: wrk to the app container's port
#   nginx        nginx as a reverse proxy (keep-alive upstream)
#   haproxy      HAProxy (Debian's haproxy), one thread, connection reuse
#   chp          configurable-http-proxy (JupyterHub's Node proxy)
#   berth-proxy  berth's bare ProxyServer (dist/bench/berth-proxy.js): no store, no activator
#   berth-serve  the product: `berth serve --config <file>` with its SQLite store, request
#                history, metrics and usage accounting, at the default log level; it
#                started the app container on the first request (bench/run-gateway.sh)
#   nginx-tls    nginx as above, over TLS (HTTP/1.1 keep-alive; a self-signed P-256
#                certificate for localhost made by openssl for the run)
#   berth-serve-tls  berth serve's TLS listener (`tls:` block) with the same certificate
# and prints requests/s, p50, p99, the proxy's CPU time per request (utime+stime from
# /proc/<pid>/stat, the process and all its descendants and threads) and its peak RSS,
# then each berth row's ratios to the others and the targets of issue 11.
# Results: bench/results/latest.json, raw logs in bench/results/<timestamp>/.
#
# Knobs (environment):
#   BENCH_DURATION=10s     measured wrk run per target
#   BENCH_WARMUP=3s        unmeasured wrk run first (JIT, pooled connections)
#   BENCH_CONNECTIONS=50   wrk connections
#   BENCH_THREADS=1        wrk threads (they share one core, see pinning)
#   BENCH_PACED_RATE=2000  after each measured run, a paced run at this many requests/s in all
#                          (0: none): the latency a proxy adds below saturation (the p99 target)
#   BENCH_PACED_DURATION=5s
#   BENCH_ROUNDS=3         measured runs per target, interleaved; the report
#                          gives the median of each figure and the spread
#   BENCH_TARGETS="direct nginx haproxy chp berth-proxy berth-serve nginx-tls berth-serve-tls"
#   BENCH_WORKERS=""       e.g. "1 2": one berth-serve row per value, with `workers: N`
#                          in the gateway config (skipped, saying so, when this build's
#                          config has no such key)
#   BENCH_APP_PORT=18479   the app container's fixed port on the host network
#   BENCH_PIN=1            pin with taskset (0: let the scheduler place things)
#   BENCH_PROFILE=0        1 (or --cpu-prof): after the measurements, run berth serve once
#                          more under `node --cpu-prof` into bench/.out/<time>/ and
#                          summarise its top self-time functions
#   BENCH_NODE_FLAGS=""    node flags for the measured berth serve, e.g. "--trace-gc" (its
#                          lines land in results/<time>/berth-serve.out; bench/gc-summary.sh
#                          sums them up) or "--max-semi-space-size=32"
#   BENCH_QUIET_CORES=0.2  before each run, wait until other work uses less than this
#   BENCH_QUIET_BUDGET=180 ... spending at most this many seconds waiting in all
#   BENCH_RETRIES=2        redo a run during which other work used > 0.3 cores
#
# CPU placement (the machine has 2 cores). The process being measured gets a
# core of its own: the proxy under test runs on CPU 1, while wrk and the app
# container share CPU 0. For `direct` the app container itself is the thing measured,
# so it is moved to CPU 1 for that run and back to CPU 0 afterwards. nginx runs
# with `worker_processes 1`, HAProxy with one thread and the Node proxies are
# single-threaded, so each proxy is limited to one core, and its throughput
# is what one core gives it (unless the load core saturates first: then CPU/request
# is the figure to compare; see bench/README.md).
#
# Everything is bounded in time (wrk under `timeout`, bounded waits) and every
# process this script starts is stopped on exit by the trap, by its pid; the app
# container and its network are removed then too.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DEPS="$HERE/.deps"

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CONNECTIONS=${BENCH_CONNECTIONS:-50}
PACED_RATE=${BENCH_PACED_RATE:-2000}
PACED_DURATION=${BENCH_PACED_DURATION:-5s}
THREADS=${BENCH_THREADS:-1}
TARGETS=${BENCH_TARGETS:-"direct nginx haproxy chp berth-proxy berth-serve nginx-tls berth-serve-tls"}
PIN=${BENCH_PIN:-1}
PROFILE=${BENCH_PROFILE:-0}
ROUNDS=${BENCH_ROUNDS:-3}
REQUEST_PATH=/session/bench/
KNOWN_TARGETS="direct nginx haproxy chp berth-proxy berth-serve nginx-tls berth-serve-tls"
for arg in "$@"; do
  case $arg in
    --cpu-prof) PROFILE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bash bench/run.sh [--cpu-prof]   (knobs: see the top of this file)" >&2; exit 2 ;;
  esac
done

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
    grep -E '^(bench|src/(proxy|gateway|cli|config))/' <<<"$out" | sed 's/^/[bench]   /' >&2 || true
  fi
  for f in bench/berth-proxy.js bench/report.js bench/profile-summary.js src/cli/main.js; do
    [[ -f $ROOT/dist/$f ]] || die "dist/$f was not built"
  done
}

# ---------------------------------------------------------------- processes
PIDS=()      # every process started here (the wrapper: taskset → /usr/bin/time)
TMP=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_tree "$pid"; done
  gateway_cleanup
  [[ -n $TMP && -d $TMP ]] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/run-procs.sh
source "$HERE/run-procs.sh"
# shellcheck source=bench/run-peers.sh
source "$HERE/run-peers.sh"
# shellcheck source=bench/run-gateway.sh
source "$HERE/run-gateway.sh"
# shellcheck source=bench/run-measure.sh
source "$HERE/run-measure.sh"

# ---------------------------------------------------------------- main
[[ $(uname -s) == Linux ]] || die "this benchmark reads /proc: Linux only"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive number, got '$ROUNDS'"
TARGETS=${TARGETS//berth-serve-tls/__SERVETLS__} # the TLS row is one gateway of its own, whatever BENCH_WORKERS says
TARGETS=${TARGETS//berth-serve/__SERVE__}
TARGETS=$(sed -E 's/(^| )berth( |$)/\1berth-proxy\2/g' <<<"$TARGETS") # the bare proxy's old name
for t in $TARGETS; do
  case $t in direct | nginx | haproxy | chp | berth-proxy | __SERVE__ | nginx-tls | __SERVETLS__) ;; *) die "unknown target '$t' (known: $KNOWN_TARGETS)" ;; esac
done
install_bench_tools curl curl haproxy haproxy
install_chp
build_berth
bash "$ROOT/scripts/ensure-docker.sh" >&2 || die "no Docker engine (scripts/ensure-docker.sh failed)"
bash "$HERE/nginx-image.sh" "${BENCH_APP_PORT:-18479}" >/dev/null
SERVE_TARGETS=$(serve_targets)
TARGETS=${TARGETS//__SERVE__/$SERVE_TARGETS}
TARGETS=${TARGETS//__SERVETLS__/berth-serve-tls}

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
BACKEND_PORT=$APP_PORT
read -r NGINX_PORT HAPROXY_PORT CHP_PORT CHP_API_PORT BERTH_PORT GW_PORT GW_ADMIN_PORT NGINX_TLS_PORT GW_TLS_PORT < <(free_ports 9)
make_tls_cert "$TMP/tls"
log "results in ${RUN#"$ROOT"/}; ports: app $BACKEND_PORT nginx $NGINX_PORT haproxy $HAPROXY_PORT chp $CHP_PORT berth-proxy $BERTH_PORT berth-serve $GW_PORT"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The first gateway starts the app container (berth's own cold start): every target's backend.
gateway_up "${SERVE_TARGETS%% *}"
find_backend

# All proxies are up for the whole run (idle when not measured; the serve targets take
# turns), warmed up once, then measured in interleaved rounds so that a burst of
# background load on the machine hits one round of each rather than all rounds of one.
for t in $TARGETS; do start_target "$t"; done
if ((WARMUP_S > 0)); then
  for t in $TARGETS; do
    if [[ $t == berth-serve* && $t != "$GW_ACTIVE" ]]; then gateway_up "$t"; continue; fi
    log "warm-up $t: $WARMUP"
    [[ $t == direct ]] && move_backend "$PROXY_CPU"
    run_wrk "$t" "$WARMUP" "${URL[$t]}" "$RUN/$t.warmup.txt"
    [[ $t == direct ]] && move_backend "$LOAD_CPU"
  done
fi
for ((round = 1; round <= ROUNDS; round++)); do
  for t in $TARGETS; do measure_target "$t" "$round"; done
done

PROFILE_DIR=""
if [[ $PROFILE == 1 ]]; then
  PROFILE_DIR="$HERE/.out/$STAMP"
  profile_gateway "$PROFILE_DIR"
fi

# Stop everything (TERM, so /usr/bin/time -v writes its report); the app container goes in the trap.
for t in $TARGETS; do
  [[ $t == berth-serve* ]] && { stop_gateway "$t"; continue; }
  [[ -n ${WRAPPER[$t]:-} ]] || continue
  stop_tree "${WRAPPER[$t]}"
  forget_pid "${WRAPPER[$t]}"
done

[[ -n $GW_ACTIVE ]] && stop_gateway "$GW_ACTIVE" # when no serve target was measured
gateway_history_check

node "$ROOT/dist/bench/report.js" --run "$RUN" --targets "$TARGETS" --rounds "$ROUNDS" \
  --duration "$DURATION" --warmup "$WARMUP" --connections "$CONNECTIONS" --threads "$THREADS" \
  --paced-rate "$PACED_RATE" --pinned "$PIN" --load-cpu "$LOAD_CPU" --proxy-cpu "$PROXY_CPU" --cpus "$CPUS" \
  --json "$RUN/results.json" | tee "$RUN/report.txt"
cp "$RUN/results.json" "$HERE/results/latest.json"
log "wrote ${HERE#"$ROOT"/}/results/latest.json (raw logs in ${RUN#"$ROOT"/})"

if [[ -n $PROFILE_DIR ]]; then
  # One .cpuprofile per node process (with workers, the control process and each worker).
  profs=("$PROFILE_DIR"/*.cpuprofile)
  [[ -f ${profs[0]} ]] || die "no .cpuprofile written in $PROFILE_DIR (see $RUN/berth-serve-profile.err)"
  for prof in "${profs[@]}"; do
    echo
    node "$ROOT/dist/bench/profile-summary.js" "$prof" --top 30 | tee -a "$PROFILE_DIR/profile-summary.txt"
  done
fi
