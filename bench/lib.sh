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
