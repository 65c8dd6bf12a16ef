# Measuring for bench/run.sh (sourced by it): wrk runs, quiet-machine waits, the CPU each process used, one target started and measured.

machine_busy_ticks() { # busy ticks of all CPUs since boot (user nice system irq softirq steal)
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}

run_wrk() { # run_wrk <name> <duration> <url> <outfile> [lua]: wrk on the load CPU; its own CPU goes to <outfile>.cpu
  local name=$1 duration=$2 url=$3 out=$4 script=${5:-$HERE/wrk-report.lua} secs pid rc=0
  secs=$(seconds_of "$duration")
  local cmd=(/usr/bin/time -f '%U %S' -o "$out.cpu" timeout $((secs + 30))
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --timeout 5s --latency -s "$script" "$url")
  # In the background and waited for, so that a signal runs the cleanup at once
  # (bash defers traps while a foreground child runs); stop_tree TERMs `timeout`,
  # which passes it on to wrk.
  if ((PIN)); then taskset -c "$LOAD_CPU" "${cmd[@]}" >"$out" 2>&1 & else "${cmd[@]}" >"$out" 2>&1 & fi
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  ((rc == 0)) || die "$name: wrk failed (exit $rc): $(tail -n 3 "$out")"
  if [[ $name == berth-serve* ]]; then # for gateway_history_check
    GW_SENT=$((GW_SENT + $(sed -n 's/^WRK_JSON {"requests":\([0-9]*\),.*/\1/p' "$out" | head -n1 || echo 0)))
    GW_RUNS=$((GW_RUNS + 1))
  fi
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
  local name=$1 round=$2 pids before after sbefore safter bbefore bafter mbefore mafter wrk_cpu_s
  local base="$RUN/$name.r$round"
  # nginx may have spawned its worker late; take the set now.
  mapfile -t pids < <(process_set "${MAIN_PID[$name]}")
  log "round $round/$ROUNDS $name: $DURATION, $CONNECTIONS connections"
  mbefore=$(machine_busy_ticks)
  before=$(cpu_ticks "${pids[@]}")
  sbefore=$(cpu_ticks --system "${pids[@]}")
  bbefore=$(cpu_ticks "${BACKEND_PIDS[@]}")
  run_wrk "$name" "$DURATION" "${URL[$name]}" "$base.wrk.txt"
  after=$(cpu_ticks "${pids[@]}")
  safter=$(cpu_ticks --system "${pids[@]}")
  bafter=$(cpu_ticks "${BACKEND_PIDS[@]}")
  mafter=$(machine_busy_ticks)
  wrk_cpu_s=$(awk '{print $1 + $2}' "$base.wrk.txt.cpu" 2>/dev/null || echo 0)
  printf '{"target":"%s","round":%d,"url":"%s","pids":[%s],"cpuTicks":%d,"systemTicks":%d,"backendCpuTicks":%d,"machineBusyTicks":%d,"wrkCpuS":%s,"clockTicksPerSecond":%d,"vmHwmKb":%d}\n' \
    "$name" "$round" "${URL[$name]}" "$(IFS=,; echo "${pids[*]}")" $((after - before)) $((safter - sbefore)) $((bafter - bbefore)) \
    $((mafter - mbefore)) "${wrk_cpu_s:-0}" "$CLK_TCK" "$(vm_hwm_kb "${pids[@]}")" >"$base.meta.json"
  grep -E 'Requests/sec|Non-2xx|Socket errors' "$base.wrk.txt" | sed "s/^/[bench]   /" >&2 || true
  measure_paced "$name" "$base"
}

# measure_paced <target> <base>: the same connections, each pausing between its requests so
# that together they offer PACED_RATE requests/s; twice: with random gaps (<base>.paced.txt,
# independent clients) and with equal gaps (<base>.paced-step.txt, the connections in step,
# arriving as bursts); see wrk-paced.lua.
measure_paced() {
  ((PACED_RATE > 0)) || return 0
  local delay_ms=$(( CONNECTIONS * 1000 / PACED_RATE ))
  ((delay_ms > 0)) || delay_ms=1
  log "  paced: $PACED_RATE req/s over $CONNECTIONS connections (${delay_ms} ms between a connection's requests on average, random gaps, then equal gaps), $PACED_DURATION each"
  WRK_DELAY_MS=$delay_ms WRK_PACED_GAPS=random WRK_REPORT_LUA="$HERE/wrk-report.lua" \
    run_wrk "$1" "$PACED_DURATION" "${URL[$1]}" "$2.paced.txt" "$HERE/wrk-paced.lua"
  WRK_DELAY_MS=$delay_ms WRK_PACED_GAPS=step WRK_REPORT_LUA="$HERE/wrk-report.lua" \
    run_wrk "$1" "$PACED_DURATION" "${URL[$1]}" "$2.paced-step.txt" "$HERE/wrk-paced.lua"
}

move_backend() { # move_backend <cpu>
  ((PIN)) || return 0
  local pid
  for pid in "${BACKEND_PIDS[@]}"; do taskset -a -p -c "$1" "$pid" >/dev/null; done
}

measure_target() { # measure_target <target> <round>: quiet machine first, a disturbed run is redone
  local t=$1 round=$2 try other
  [[ $t == berth-serve* ]] && gateway_up "$t"
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

# start_target <target>: starts a peer or the bare proxy on the proxy CPU and checks one
# request (the full gateway's targets are started by gateway_up, one at a time).
start_target() {
  local t=$1 port
  case $t in
    direct)
      MAIN_PID[direct]=$BACKEND_MAIN
      URL[direct]="http://127.0.0.1:$BACKEND_PORT$REQUEST_PATH"
      check_ok direct "${URL[direct]}"
      return 0
      ;;
    nginx)
      port=$NGINX_PORT
      write_nginx_proxy_conf "$TMP/nginx" "$port" "$BACKEND_PORT"
      start nginx "$PROXY_CPU" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log"
      ;;
    haproxy)
      port=$HAPROXY_PORT
      write_haproxy_conf "$TMP/haproxy" "$port" "$BACKEND_PORT"
      start haproxy "$PROXY_CPU" haproxy -db -f "$TMP/haproxy/haproxy.cfg"
      ;;
    chp)
      port=$CHP_PORT
      start chp "$PROXY_CPU" node "$CHP_BIN" --ip 127.0.0.1 --port "$port" \
        --api-ip 127.0.0.1 --api-port "$CHP_API_PORT" \
        --default-target "http://127.0.0.1:$BACKEND_PORT" --log-level warn
      ;;
    nginx-tls)
      port=$NGINX_TLS_PORT
      write_nginx_tls_conf "$TMP/nginx-tls" "$port" "$BACKEND_PORT"
      start nginx-tls "$PROXY_CPU" nginx -c "$TMP/nginx-tls/nginx.conf" -p "$TMP/nginx-tls" -e "$TMP/nginx-tls/error.log"
      ;;
    berth-proxy)
      port=$BERTH_PORT
      start berth-proxy "$PROXY_CPU" node "$ROOT/dist/bench/berth-proxy.js" \
        --port "$port" --backend "127.0.0.1:$BACKEND_PORT" --prefix "$REQUEST_PATH"
      ;;
    berth-serve*) return 0 ;;
    *) die "unknown target '$t' (known: $KNOWN_TARGETS)" ;;
  esac
  WRAPPER[$t]=$STARTED_WRAPPER
  MAIN_PID[$t]=$STARTED_PID
  URL[$t]="http://127.0.0.1:$port$REQUEST_PATH"
  [[ $t == nginx-tls ]] && URL[$t]="https://localhost:$port$REQUEST_PATH"
  wait_port "$t" "$port" "$STARTED_WRAPPER"
  check_ok "$t" "${URL[$t]}"
}
