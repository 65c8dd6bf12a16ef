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

# The measured process: the child of the /usr/bin/time wrapper.
child_of() {
  local parent=$1 i pid
  for ((i = 0; i < 100; i++)); do
    pid=$(ps -o pid= --ppid "$parent" 2>/dev/null | head -n1 | tr -d ' ')
    [[ -n $pid ]] && { echo "$pid"; return 0; }
    sleep 0.05
  done
  return 1
}

# A process and its direct children (nginx: master + worker).
process_set() {
  local main=$1
  echo "$main"
  ps -o pid= --ppid "$main" 2>/dev/null | tr -d ' ' || true
}

cpu_ticks() { # utime+stime summed over the pids given, in clock ticks
  local total=0 pid t
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    # fields after "pid (comm) ": utime is the 12th, stime the 13th
    t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') || continue
    total=$((total + t))
  done
  echo "$total"
}

vm_hwm_kb() { # peak RSS summed over the pids given
  local total=0 pid kb
  for pid in "$@"; do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# stop_tree <wrapper pid>: TERM the measured child (so /usr/bin/time reports
# it), then the wrapper; KILL whatever is left after 5 s.
stop_tree() {
  local wrapper=$1 child i
  kill -0 "$wrapper" 2>/dev/null || return 0
  child=$(ps -o pid= --ppid "$wrapper" 2>/dev/null | head -n1 | tr -d ' ' || true)
  [[ -n $child ]] && kill -TERM "$child" 2>/dev/null || kill -TERM "$wrapper" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$wrapper" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$wrapper" 2>/dev/null; then
    [[ -n $child ]] && kill -KILL "$child" 2>/dev/null
    kill -KILL "$wrapper" 2>/dev/null || true
  fi
  wait "$wrapper" 2>/dev/null || true
}

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

pin() { # pin <cpu> cmd...: taskset when pinning is on
  local cpu=$1
  shift
  if ((PIN)); then taskset -c "$cpu" "$@"; else "$@"; fi
}

# start <name> <cpu> cmd... → sets STARTED_WRAPPER and STARTED_PID
start() {
  local name=$1 cpu=$2
  shift 2
  # Not through pin(): a function in the background is a subshell, and $! must
  # be the taskset → /usr/bin/time process whose child is the measured one.
  if ((PIN)); then
    taskset -c "$cpu" /usr/bin/time -v -o "$RUN/$name.time.txt" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
  else
    /usr/bin/time -v -o "$RUN/$name.time.txt" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
  fi
  STARTED_WRAPPER=$!
  PIDS+=("$STARTED_WRAPPER")
  STARTED_PID=$(child_of "$STARTED_WRAPPER") || die "$name did not start (see $RUN/$name.err)"
}

wait_port() { # wait_port <name> <port> <wrapper>: until it accepts, 10 s at most
  local name=$1 port=$2 wrapper=$3 i
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$wrapper" 2>/dev/null || die "$name exited: $(tail -n 5 "$RUN/$name.err" 2>/dev/null)"
    sleep 0.05
  done
  die "$name is not listening on 127.0.0.1:$port after 10 s"
}

check_ok() { # one request through the target must answer 200 "ok"
  local name=$1 url=$2 body
  body=$(curl -fsS --max-time 5 "$url") || die "$name: GET $url failed"
  [[ $body == ok ]] || die "$name: GET $url answered '$body', expected 'ok'"
}

free_ports() { # free_ports N: N distinct free loopback ports, from the OS
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise((ok, ko) => { s.once("error", ko); s.listen(0, "127.0.0.1", ok); });
        servers.push(s);
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      for (const s of servers) s.close();
    })().catch((e) => { console.error(e.message); process.exit(1); });
  ' "$1"
}

nginx_common() { # the parts of an nginx config both instances share
  local dir=$1
  cat <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
EOF
}

nginx_http_common() {
  local dir=$1
  cat <<EOF
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
EOF
}

write_backend_conf() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "ok\n"; }
  }
}
EOF
  } >"$dir/nginx.conf"
}

write_nginx_proxy_conf() {
  local dir=$1 port=$2 backend=$3
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
  upstream backend {
    server 127.0.0.1:$backend;
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }
}
EOF
  } >"$dir/nginx.conf"
}

# ---------------------------------------------------------------- measuring
machine_busy_ticks() { # busy ticks of all CPUs since boot (user nice system irq softirq steal)
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}

run_wrk() { # run_wrk <name> <duration> <url> <outfile>: wrk on the load CPU; its own CPU goes to <outfile>.cpu
  local name=$1 duration=$2 url=$3 out=$4 secs pid rc=0
  secs=$(seconds_of "$duration")
  local cmd=(/usr/bin/time -f '%U %S' -o "$out.cpu" timeout $((secs + 30))
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --timeout 5s --latency -s "$HERE/wrk-report.lua" "$url")
  # In the background and waited for, so that a signal runs the cleanup at once
  # (bash defers traps while a foreground child runs); stop_tree TERMs `timeout`,
  # which passes it on to wrk.
  if ((PIN)); then taskset -c "$LOAD_CPU" "${cmd[@]}" >"$out" 2>&1 & else "${cmd[@]}" >"$out" 2>&1 & fi
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  ((rc == 0)) || die "$name: wrk failed (exit $rc): $(tail -n 3 "$out")"
}

declare -A MAIN_PID=() WRAPPER=() URL=()

# Other work on this machine (other sessions' builds and tests) distorts the
# figures a lot on 2 cores. Before each measured run, wait until the machine is
# quiet (under QUIET_CORES busy over 1 s while our processes are idle), spending
# at most QUIET_BUDGET seconds on waiting over the whole benchmark; then go on
# anyway (the report flags disturbed rounds).
QUIET_CORES=${BENCH_QUIET_CORES:-0.2}
QUIET_BUDGET=${BENCH_QUIET_BUDGET:-180}
RETRIES=${BENCH_RETRIES:-2}
wait_quiet() {
  local a b busy waited=0
  while ((QUIET_BUDGET > 0)); do
    a=$(machine_busy_ticks)
    sleep 1
    b=$(machine_busy_ticks)
    busy=$(awk -v d=$((b - a)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", d / hz}')
    if awk -v x="$busy" -v max="$QUIET_CORES" 'BEGIN {exit !(x <= max)}'; then
      ((waited > 0)) && log "  machine quiet again after ${waited}s"
      return 0
    fi
    ((waited == 0)) && log "  machine busy ($busy cores used by other work): waiting for it to settle (budget ${QUIET_BUDGET}s)"
    waited=$((waited + 1))
    QUIET_BUDGET=$((QUIET_BUDGET - 1))
  done
  log "  quiet-wait budget spent: measuring anyway"
}

# other_cores <meta.json>: the CPU used by other work during that run, in cores
other_cores() {
  node -e '
    const m = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const hz = m.clockTicksPerSecond;
    const wrk = require("node:fs").readFileSync(process.argv[2], "utf8");
    const line = wrk.split("\n").find((l) => l.startsWith("WRK_JSON "));
    const d = line ? JSON.parse(line.slice(9)).duration_us / 1e6 : 1;
    const ours = m.cpuTicks / hz + (m.target === "direct" ? 0 : m.backendCpuTicks / hz) + m.wrkCpuS;
    console.log(Math.max(0, (m.machineBusyTicks / hz - ours) / d).toFixed(2));
  ' "$1" "$2"
}

# measure <target> <round>
measure() {
  local name=$1 round=$2 pids before after bbefore bafter mbefore mafter wrk_cpu_s
  local base="$RUN/$name.r$round"
  # nginx may have spawned its worker late; take the set now.
  mapfile -t pids < <(process_set "${MAIN_PID[$name]}")
  log "round $round/$ROUNDS $name: $DURATION, $CONNECTIONS connections"
  mbefore=$(machine_busy_ticks)
  before=$(cpu_ticks "${pids[@]}")
  bbefore=$(cpu_ticks "${BACKEND_PIDS[@]}")
  run_wrk "$name" "$DURATION" "${URL[$name]}" "$base.wrk.txt"
  after=$(cpu_ticks "${pids[@]}")
  bafter=$(cpu_ticks "${BACKEND_PIDS[@]}")
  mafter=$(machine_busy_ticks)
  wrk_cpu_s=$(awk '{print $1 + $2}' "$base.wrk.txt.cpu" 2>/dev/null || echo 0)
  printf '{"target":"%s","round":%d,"url":"%s","pids":[%s],"cpuTicks":%d,"backendCpuTicks":%d,"machineBusyTicks":%d,"wrkCpuS":%s,"clockTicksPerSecond":%d,"vmHwmKb":%d}\n' \
    "$name" "$round" "${URL[$name]}" "$(IFS=,; echo "${pids[*]}")" $((after - before)) $((bafter - bbefore)) \
    $((mafter - mbefore)) "${wrk_cpu_s:-0}" "$CLK_TCK" "$(vm_hwm_kb "${pids[@]}")" >"$base.meta.json"
  grep -E 'Requests/sec|Non-2xx|Socket errors' "$base.wrk.txt" | sed "s/^/[bench]   /" >&2 || true
}

move_backend() { # move_backend <cpu>
  ((PIN)) || return 0
  local pid
  for pid in "${BACKEND_PIDS[@]}"; do taskset -a -p -c "$1" "$pid" >/dev/null; done
}

measure_target() { # measure_target <target> <round>: quiet machine first, a disturbed run is redone
  local t=$1 round=$2 try other
  for ((try = 0; try <= RETRIES; try++)); do
    wait_quiet
    # The direct run gets the backend on the proxy CPU: there it is the thing measured.
    [[ $t == direct ]] && move_backend "$PROXY_CPU"
    measure "$t" "$round"
    [[ $t == direct ]] && move_backend "$LOAD_CPU"
    other=$(other_cores "$RUN/$t.r$round.meta.json" "$RUN/$t.r$round.wrk.txt")
    if awk -v x="$other" 'BEGIN {exit !(x > 0.3)}' && ((try < RETRIES)) && ((QUIET_BUDGET > 0)); then
      log "  other work used $other cores during that run: redoing it"
      continue
    fi
    return 0
  done
}

# start_target <target>: starts the proxy on the proxy CPU and checks one request
start_target() {
  local t=$1 port
  case $t in
    direct)
      MAIN_PID[direct]=$BACKEND_MAIN
      URL[direct]="http://127.0.0.1:$BACKEND_PORT$REQUEST_PATH"
      return 0
      ;;
    nginx)
      port=$NGINX_PORT
      write_nginx_proxy_conf "$TMP/nginx" "$port" "$BACKEND_PORT"
      start nginx "$PROXY_CPU" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log"
      ;;
    chp)
      port=$CHP_PORT
      start chp "$PROXY_CPU" node "$CHP_BIN" --ip 127.0.0.1 --port "$port" \
        --api-ip 127.0.0.1 --api-port "$CHP_API_PORT" \
        --default-target "http://127.0.0.1:$BACKEND_PORT" --log-level warn
      ;;
    berth)
      port=$BERTH_PORT
      start berth "$PROXY_CPU" node "$ROOT/dist/bench/berth-proxy.js" \
        --port "$port" --backend "127.0.0.1:$BACKEND_PORT" --prefix "$REQUEST_PATH"
      ;;
    *) die "unknown target '$t' (known: direct nginx chp berth)" ;;
  esac
  WRAPPER[$t]=$STARTED_WRAPPER
  MAIN_PID[$t]=$STARTED_PID
  URL[$t]="http://127.0.0.1:$port$REQUEST_PATH"
  wait_port "$t" "$port" "$STARTED_WRAPPER"
  check_ok "$t" "${URL[$t]}"
}

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
