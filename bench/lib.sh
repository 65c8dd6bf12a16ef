# Shell pieces the benchmark scripts share. Source it after defining log() and die().

# apt_install PKG...: installs Debian packages as root, or dies saying what to install.
# Installing nginx must not start the system's nginx service on port 80: a policy-rc.d
# that refuses service starts is put in place for this install only, and only if the
# machine has none of its own.
apt_install() {
  (($# == 0)) && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing $*: install them (Debian: sudo apt-get install -y $*) and rerun"
  fi
  log "installing $* (apt)"
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  local rc=0
  { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "$@"; } >&2 || rc=$?
  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get install $* failed"
}

# remove_run_objects RUN_ID: the backstop of a benchmark's cleanup, removing the
# containers and volumes labelled berth.bench.run=RUN_ID (normally none are left:
# each benchmark cleans up after itself). Never fails.
remove_run_objects() {
  command -v docker >/dev/null 2>&1 || return 0
  local left
  left=$(timeout 30 docker ps -aq --filter "label=berth.bench.run=$1" 2>/dev/null || true)
  if [[ -n $left ]]; then
    log "removing $(wc -w <<<"$left") leftover container(s) of run $1"
    # shellcheck disable=SC2086
    timeout 60 docker rm -f $left >/dev/null 2>&1 || true
  fi
  left=$(timeout 30 docker volume ls -q --filter "label=berth.bench.run=$1" 2>/dev/null || true)
  # shellcheck disable=SC2086
  [[ -n $left ]] && { timeout 60 docker volume rm $left >/dev/null 2>&1 || true; }
  return 0
}

# install_bench_tools [CMD PKG]...: installs what is missing of wrk, nginx,
# /usr/bin/time and taskset, and of each extra command CMD (from package PKG).
install_bench_tools() {
  local need=()
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
  command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
  [[ -x /usr/bin/time ]] || need+=(time)
  command -v taskset >/dev/null 2>&1 || need+=(util-linux)
  while (($# >= 2)); do
    command -v "$1" >/dev/null 2>&1 || need+=("$2")
    shift 2
  done
  apt_install "${need[@]}"
}

# npm_ci_if_missing: installs the project's node_modules (npm ci) when there are none.
npm_ci_if_missing() {
  if [[ ! -d $ROOT/node_modules ]]; then
    log "node_modules missing: npm ci"
    (cd "$ROOT" && timeout 600 npm ci --no-audit --no-fund >&2) || die "npm ci failed"
  fi
  return 0
}

# compile_bench PATTERN WHAT: tsc over the project. tsc emits even when it reports
# type errors elsewhere in the tree (work in progress); errors only warn here,
# those in files matching PATTERN (an ERE on their paths) stop the run: "WHAT does not compile".
compile_bench() {
  npm_ci_if_missing
  log "compiling (tsc)"
  local out
  out=$(cd "$ROOT" && timeout 300 npx tsc -p tsconfig.json 2>&1 | grep 'error TS') || true
  if [[ -n $out ]]; then
    log "tsc reported errors:"
    printf '%s\n' "$out" | head -n 20 >&2
    grep -Eq "$1" <<<"$out" && die "$2 does not compile"
  fi
  return 0
}

# stop_pid PID TENTHS: TERM to PID (if it still runs), KILL when it is still there
# after TENTHS tenths of a second; then reaps it.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
