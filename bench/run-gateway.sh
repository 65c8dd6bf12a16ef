# The full gateway for bench/run.sh (sourced by it; uses its start, stop_tree, RUN, TMP, PIN...):
# `berth serve --config <file>` as users run it, and the app container it starts, which is
# every target's backend.
#
# Its own data directory (SQLite store: history, usage accounting) under $TMP, its own apps
# network, an app name of this run's, the default log level (BERTH_LOG_LEVEL is unset for
# it). The app is berth-bench/nginx (bench/nginx-image.sh) on the host network at
# 127.0.0.1:$APP_PORT, so no docker-proxy hop is measured; the bench's own policy allows
# the host network. Only one gateway runs at a time: the serve targets of a run (one per
# BENCH_WORKERS value) take turns on the same store, and a gateway that starts adopts the
# app container the previous one left running (a stopping gateway leaves containers as
# they are). The trap removes the container and the network (gateway_cleanup).

APP_PORT=${BENCH_APP_PORT:-18479}
APP_IMAGE=berth-bench/nginx:latest
APP="bench-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')" # this run's: containers berth-$APP-N
APPS_NET="berth-$APP"
GW_ACTIVE=""      # the serve target whose gateway runs now
GW_DIR=""
GW_SENT=0         # requests wrk completed (and check requests) through any berth serve
GW_RUNS=0         # wrk runs through berth serve

# gateway_supports_workers: whether this build's config schema has a `workers` key.
gateway_supports_workers() {
  node --input-type=module -e '
    const m = await import(process.argv[1]);
    process.exit(Object.hasOwn(m.configFileSchema.shape, "workers") ? 0 : 1);
  ' "$ROOT/dist/src/config/config-schema.js" 2>/dev/null
}

# serve_targets: the full-gateway targets for BENCH_WORKERS (berth-serve without it).
serve_targets() {
  local w out=()
  if [[ -z ${BENCH_WORKERS:-} ]]; then echo berth-serve; return 0; fi
  if ! gateway_supports_workers; then
    log "BENCH_WORKERS=\"$BENCH_WORKERS\" skipped: this build's gateway config has no 'workers' key (src/config/config-schema.ts); measuring berth serve once, without it"
    echo berth-serve
    return 0
  fi
  for w in $BENCH_WORKERS; do
    [[ $w =~ ^[1-9][0-9]*$ || $w == auto ]] || die "BENCH_WORKERS: '$w' is not a number or auto"
    out+=("berth-serve-w$w")
  done
  echo "${out[*]}"
}

workers_of() { # berth-serve-w2 → 2; berth-serve → ""
  [[ $1 == berth-serve-w* ]] && echo "${1#berth-serve-w}" || true
}

write_gateway_config() { # write_gateway_config <workers or ""> [tls]
  local workers=$1 tls=${2:-}
  {
    cat <<EOF
# bench/run.sh: berth serve as users run it (history, metrics and accounting are always on).
listen: 127.0.0.1:$GW_PORT
admin: 127.0.0.1:$GW_ADMIN_PORT
store: ./data/berth.db
appsNetwork: $APPS_NET
EOF
    [[ -n $workers ]] && echo "workers: $workers"
    if [[ -n $tls ]]; then
      cat <<EOF
tls:                            # berth-serve-tls: the same certificate as nginx-tls
  listen: 127.0.0.1:$GW_TLS_PORT
  certificates: [{cert: $TLS_CERT, key: $TLS_KEY}]
EOF
    fi
    cat <<EOF
defaults:
  idleTimeout: 1h               # no idle stop between the rounds
policy:
  images: ["berth-bench/*"]
  allowHostNetwork: true        # the app listens on the host's 127.0.0.1:$APP_PORT: no docker-proxy hop
apps:
  - apiVersion: berth/v1
    name: $APP
    image: $APP_IMAGE
    port: $APP_PORT
    routes: [{path: $REQUEST_PATH}]
    readiness: {path: /}
    security: {hostNetwork: true}
EOF
  } >"$GW_DIR/berth.yaml"
}

# start_gateway <name> <workers> [node flags...]: starts `berth serve` on the proxy CPU.
start_gateway() {
  local name=$1 workers=$2
  shift 2
  write_gateway_config "$workers" "$([[ $name == berth-serve-tls ]] && echo tls)"
  cp "$GW_DIR/berth.yaml" "$RUN/$name.config.yaml"
  start "$name" "$PROXY_CPU" env -u BERTH_LOG_LEVEL -u BERTH_ADMIN_TOKEN \
    node "$@" "$ROOT/dist/src/cli/main.js" serve --config "$GW_DIR/berth.yaml"
  WRAPPER[$name]=$STARTED_WRAPPER
  MAIN_PID[$name]=$STARTED_PID
  URL[$name]="http://127.0.0.1:$GW_PORT$REQUEST_PATH"
  [[ $name == berth-serve-tls ]] && URL[$name]="https://localhost:$GW_TLS_PORT$REQUEST_PATH"
  # The TLS listener opens after the plain one: the TLS row waits for it.
  wait_port "$name" "$([[ $name == berth-serve-tls ]] && echo "$GW_TLS_PORT" || echo "$GW_PORT")" "$STARTED_WRAPPER"
}

stop_gateway() { # stop_gateway <name>: TERM (it drains and exits), KILL after 5 s
  [[ -n ${WRAPPER[$1]:-} ]] || return 0
  stop_tree "${WRAPPER[$1]}"
  forget_pid "${WRAPPER[$1]}"
  unset "WRAPPER[$1]"
  [[ $GW_ACTIVE == "$1" ]] && GW_ACTIVE=""
  return 0
}

# gateway_up <serve target>: makes its gateway the running one, warmed up. The first one
# also starts the app container (berth's cold start on the first request).
gateway_up() {
  local t=$1
  [[ $GW_ACTIVE == "$t" ]] && return 0
  [[ -n $GW_ACTIVE ]] && stop_gateway "$GW_ACTIVE"
  if [[ -z $GW_DIR ]]; then
    GW_DIR=$TMP/gateway
    mkdir -p "$GW_DIR"
    port_is_free "$APP_PORT" || die "127.0.0.1:$APP_PORT (the app's fixed port on the host network) is in use; set BENCH_APP_PORT"
  fi
  log "starting $t: berth serve --config ${GW_DIR#"$TMP"/}/berth.yaml${2:+ ($2)}"
  # shellcheck disable=SC2086 # BENCH_NODE_FLAGS is a list of node flags, split on spaces
  start_gateway "$t" "$(workers_of "$t")" ${BENCH_NODE_FLAGS:-}
  GW_ACTIVE=$t
  check_ok_cold "$t" "${URL[$t]}"
  if ((WARMUP_S > 0)) && [[ -n ${BACKEND_PIDS[*]:-} ]]; then
    log "warm-up $t: $WARMUP"
    run_wrk "$t" "$WARMUP" "${URL[$t]}" "$RUN/$t.warmup.txt"
  fi
}

# check_ok_cold <name> <url>: the first request may wait for the container to start (60 s at
# most). A 404 right after start is retried for 5 s, saying so (it has been seen once, on a
# busy machine, from a gateway that had logged its one app; the answer is kept in the log).
check_ok_cold() {
  local name=$1 url=$2 code i tls=()
  [[ $url == https:* ]] && tls=(--cacert "$TLS_CERT") # the TLS rows' own certificate
  for ((i = 0; i < 50; i++)); do
    code=$(curl -sS --max-time 60 "${tls[@]}" -o "$RUN/$name.check.txt" -w '%{http_code}' "$url") || code=000
    [[ $code == 404 ]] || break
    ((i == 0)) && log "$name: GET $url answered 404 ($(head -c 300 "$RUN/$name.check.txt")); retrying for 5 s"
    sleep 0.1
  done
  [[ $code == 200 && $(<"$RUN/$name.check.txt") == ok ]] ||
    die "$name: GET $url answered $code '$(head -c 300 "$RUN/$name.check.txt")', expected 200 'ok' (see $RUN/$name.out)"
  ((i > 0)) && log "$name: answered 200 after $i retries"
  GW_SENT=$((GW_SENT + 1))
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

app_container() { # the id of this run's app container
  timeout 30 docker ps -q --filter "label=berth.managed=true" --filter "label=berth.app=$APP" | head -n1
}

# find_backend: the app container's processes (docker-init, nginx master and worker) as
# BACKEND_MAIN / BACKEND_PIDS, pinned to the load CPU.
find_backend() {
  local id pid
  id=$(app_container)
  [[ -n $id ]] || die "berth started no container for app $APP (see $RUN/$GW_ACTIVE.out)"
  pid=$(docker inspect -f '{{.State.Pid}}' "$id")
  [[ $pid =~ ^[1-9][0-9]*$ ]] || die "app container $id has no process"
  BACKEND_MAIN=$pid
  mapfile -t BACKEND_PIDS < <(process_set "$pid")
  log "app container ${id:0:12} ($APP_IMAGE, host network, 127.0.0.1:$APP_PORT): pids ${BACKEND_PIDS[*]}"
  move_backend "$LOAD_CPU"
}

# profile_gateway <out dir>: berth serve once more under `node --cpu-prof`, after the
# measured rounds (the profiler slows it down, so it is not part of the figures).
profile_gateway() {
  local out=$1 t=${SERVE_TARGETS%% *}
  mkdir -p "$out"
  [[ -n $GW_ACTIVE ]] && stop_gateway "$GW_ACTIVE"
  log "berth-serve-profile: node --cpu-prof into ${out#"$ROOT"/}"
  start_gateway berth-serve-profile "$(workers_of "$t")" --cpu-prof --cpu-prof-dir "$out"
  check_ok_cold berth-serve-profile "${URL[berth-serve-profile]}"
  ((WARMUP_S > 0)) && run_wrk berth-serve-profile "$WARMUP" "${URL[berth-serve-profile]}" "$RUN/berth-serve-profile.warmup.txt"
  run_wrk berth-serve-profile "$DURATION" "${URL[berth-serve-profile]}" "$out/wrk.txt"
  stop_gateway berth-serve-profile
}

# gateway_history_check: once every gateway has stopped (and written its history), that the
# store's request history holds every request wrk saw answered through berth serve. wrk
# does not count the requests still in flight when a run ends (up to BENCH_CONNECTIONS
# each); berth records those too.
gateway_history_check() {
  [[ -n $GW_DIR && -f $GW_DIR/data/berth.db ]] || return 0
  local rows
  rows=$(cd "$ROOT" && node --input-type=module -e '
    import Database from "better-sqlite3";
    const db = new Database(process.argv[1], { readonly: true });
    const r = db.prepare("SELECT max(id) AS ids, count(*) AS kept FROM requests").get();
    console.log(`${r.ids ?? 0} ${r.kept}`);
  ' "$GW_DIR/data/berth.db") || { log "could not read berth serve's history"; return 0; }
  read -r ids kept <<<"$rows"
  local msg="berth serve's history: $ids requests recorded ($kept kept), wrk saw $GW_SENT answered in $GW_RUNS run(s) (+ up to $CONNECTIONS in flight at the end of each)"
  echo "$msg" >"$RUN/history-check.txt"
  if ((ids < GW_SENT)); then log "warning: $msg: records are missing"; else log "$msg"; fi
}

# gateway_cleanup: after the gateways are stopped (the trap stops every process first),
# removes this run's app container(s) and apps network. Never fails.
gateway_cleanup() {
  command -v docker >/dev/null 2>&1 || return 0
  local left
  left=$(timeout 30 docker ps -aq --filter "label=berth.managed=true" --filter "label=berth.app=$APP" 2>/dev/null || true)
  # shellcheck disable=SC2086
  [[ -n $left ]] && { timeout 60 docker rm -f $left >/dev/null 2>&1 || log "could not remove container(s) $left"; }
  if timeout 30 docker network inspect "$APPS_NET" >/dev/null 2>&1; then
    timeout 60 docker network rm "$APPS_NET" >/dev/null 2>&1 || log "could not remove network $APPS_NET"
  fi
  return 0
}
