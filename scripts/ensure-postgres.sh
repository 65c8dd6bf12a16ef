#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: started from Debian's server binaries when the
# environment gives none (BERTH_TEST_PG_URL), stopped and removed afterwards.
#
#   eval "$(bash scripts/ensure-postgres.sh start)"   prints export lines: BERTH_TEST_PG_URL, BERTH_TEST_PG_DIR
#   bash scripts/ensure-postgres.sh stop DIR          stops that server and removes DIR
#
# start: with BERTH_TEST_PG_URL already set it prints nothing and starts nothing (that
# server is the caller's). Otherwise (as root, with apt when the package is missing) it
# installs Debian's postgresql, runs initdb and pg_ctl as the postgres user into a new
# temp directory, listening on a free 127.0.0.1 port only, with its unix socket in that
# directory and trust authentication for loopback connections only (nothing else is
# allowed in), and waits until it accepts connections.
#
# Environment:
#   BERTH_PG_BIN   where initdb and pg_ctl are (default: the newest /usr/lib/postgresql/*/bin)
#   BERTH_PG_WAIT  seconds to wait for the server to accept connections (default 60)
set -euo pipefail

WAIT_SECS=${BERTH_PG_WAIT:-60}

say() { echo "ensure-postgres: $*" >&2; }
die() { say "$*"; exit 1; }

pg_bin() {
  if [[ -n ${BERTH_PG_BIN:-} ]]; then
    echo "$BERTH_PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
  echo "$dir"
}

ensure_package() {
  local bin
  bin=$(pg_bin)
  [[ -n $bin && -x $bin/initdb && -x $bin/pg_ctl ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "no PostgreSQL server binaries; install Debian's postgresql (sudo apt-get install postgresql) or set BERTH_TEST_PG_URL."
  command -v apt-get >/dev/null 2>&1 || die "no apt-get here: install a PostgreSQL server or set BERTH_TEST_PG_URL."
  say "installing postgresql with apt..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  # policy-rc.d 101: the package must not start (or need) the system-wide cluster service;
  # the tests run their own server. Put back as it was afterwards.
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [[ -e $policy ]] && had_policy=1
  ((had_policy)) || { printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"; }
  apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y -qq postgresql >/dev/null || {
    ((had_policy)) || rm -f "$policy"
    die "apt-get install postgresql failed"
  }
  ((had_policy)) || rm -f "$policy"
}

# A port nothing listens on now; the server's own bind is the final check (a race loses with a clear log).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

run_as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_url_answers <url>: whether something accepts connections at the URL's host and port
# (a server left in the environment by a run that has stopped it does not).
pg_url_answers() {
  local rest=${1#*://} host port
  rest=${rest#*@}
  rest=${rest%%/*}
  host=${rest%:*}
  port=${rest##*:}
  [[ $port =~ ^[0-9]+$ ]] || port=5432
  timeout 3 bash -c "exec 3<>/dev/tcp/${host:-127.0.0.1}/$port" 2>/dev/null
}

start() {
  if [[ -n ${BERTH_TEST_PG_URL:-} ]]; then
    if pg_url_answers "$BERTH_TEST_PG_URL"; then
      say "using the server in BERTH_TEST_PG_URL"
      return 0
    fi
    say "BERTH_TEST_PG_URL names a server that does not answer; starting one of this run's own instead"
    unset BERTH_TEST_PG_URL
    BERTH_TEST_PG_DIR=""
  fi
  ensure_package
  local bin dir port
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/berth-pg.XXXXXX)
  # initdb refuses to run as root; the postgres user (made by the Debian package) owns the cluster.
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  chmod 700 "$dir"
  port=$(free_port)
  run_as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
  # Loopback only: trust needs no password, so nothing else may connect at all.
  cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
  # fsync stays on: the store's durability is part of what the tests check.
  run_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$WAIT_SECS" \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" start >/dev/null ||
    { tail -n 30 "$dir/server.log" >&2 || true; rm -rf "$dir"; die "the server did not start"; }
  say "PostgreSQL is up on 127.0.0.1:$port (data in $dir)"
  echo "export BERTH_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export BERTH_TEST_PG_DIR=$dir"
}

# Never fails: it runs from test.sh's EXIT trap, where it must not mask the tests' exit code.
stop() {
  local dir=${1:-} bin
  [[ -n $dir && -d $dir ]] || return 0
  case $dir in /tmp/berth-pg.*) ;; *) say "refusing to remove $dir (not a berth-pg temp dir)"; return 0 ;; esac
  bin=$(pg_bin)
  [[ -f $dir/data/postmaster.pid ]] && { run_as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || say "pg_ctl stop failed"; }
  rm -rf "$dir"
  return 0
}

case ${1:-} in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) die "usage: ensure-postgres.sh start | stop DIR" ;;
esac
