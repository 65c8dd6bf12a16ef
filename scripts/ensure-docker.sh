#!/usr/bin/env bash
# Make sure a Docker engine answers, installing and starting one when it does not.
#
# berth's tests, `npm start` and CI need a real engine. On a fresh Debian machine there
# is none, so (as root, with apt) this installs Debian's docker.io and busybox-static and
# starts dockerd in the background. It is idempotent and returns at once when the engine
# already answers. It copes with the pid files and sockets an engine leaves behind when it
# is killed (SIGKILL, a crashed VM snapshot...), removing them only when the process they
# name is gone.
#
# Environment:
#   BERTH_DOCKERD_LOG   where dockerd logs (default /var/log/berth-dockerd.log)
#   BERTH_DOCKERD_WAIT  seconds to wait for the engine to answer (default 60)
set -euo pipefail

LOG=${BERTH_DOCKERD_LOG:-/var/log/berth-dockerd.log}
WAIT_SECS=${BERTH_DOCKERD_WAIT:-60}
LOCK=/var/run/berth-ensure-docker.lock

DOCKER_PID=/var/run/docker.pid
DOCKER_SOCK=/var/run/docker.sock
# dockerd supervises its own containerd and keeps its state here...
DOCKERD_CONTAINERD_DIR=/var/run/docker/containerd
# ...unless a system containerd socket exists, which dockerd then prefers (so a stale
# one makes dockerd dial a dead socket and hang).
SYSTEM_CONTAINERD_SOCK=/run/containerd/containerd.sock

say() { echo "ensure-docker: $*" >&2; }
die() { say "$*"; exit 1; }

engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

# The test images need busybox as a static binary (it runs FROM scratch).
busybox_static_present() {
  local bb
  bb=$(command -v busybox 2>/dev/null) || return 1
  # ldd fails on a static executable ("not a dynamic executable").
  ! ldd "$bb" >/dev/null 2>&1
}

# True when $1 is the pid of a live process whose command name is $2.
pid_is() {
  local pid=$1 name=$2
  local comm
  [[ $pid =~ ^[0-9]+$ ]] && read -r comm 2>/dev/null <"/proc/$pid/comm" && [[ $comm == "$name" ]]
}

pid_from_file() { tr -dc '0-9' 2>/dev/null <"$1" || true; }

# Like `pgrep -x`, without needing procps (a minimal Debian has none).
any_process_named() {
  local comm name
  for comm in /proc/[0-9]*/comm; do
    read -r name 2>/dev/null <"$comm" && [[ $name == "$1" ]] && return 0
  done
  return 1
}

# A remote DOCKER_HOST that does not answer is not ours to start.
check_docker_host() {
  case "${DOCKER_HOST:-}" in
    "" | "unix://$DOCKER_SOCK" | "unix:///run/docker.sock") ;;
    *) die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info'; start that engine or unset DOCKER_HOST." ;;
  esac
}

require_root() {
  [[ $(id -u) -eq 0 ]] && return 0
  die "$1 needs root: run 'sudo bash scripts/ensure-docker.sh' once, then make 'docker info' work for this user (e.g. add it to the docker group)."
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    die "no apt-get here: install Docker (and a static busybox) yourself so that 'docker info' answers, then rerun."
  say "installing $* with apt..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y -qq "$@" >/dev/null
}

ensure_packages() {
  local pkgs=()
  command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || pkgs+=(docker.io)
  busybox_static_present || pkgs+=(busybox-static)
  ((${#pkgs[@]} == 0)) && return 0
  require_root "installing ${pkgs[*]}"
  apt_install "${pkgs[@]}"
}

# Remove a pid file (and the sockets beside it) when the process it names is not alive.
clean_stale_files() {
  local pid
  pid=$(pid_from_file "$DOCKER_PID")
  if [[ -e $DOCKER_PID ]] && ! pid_is "$pid" dockerd; then
    say "removing stale $DOCKER_PID (pid ${pid:-?} is not a running dockerd)"
    rm -f "$DOCKER_PID"
  fi
  if [[ -S $DOCKER_SOCK ]] && ! any_process_named dockerd; then
    say "removing stale $DOCKER_SOCK"
    rm -f "$DOCKER_SOCK"
  fi

  pid=$(pid_from_file "$DOCKERD_CONTAINERD_DIR/containerd.pid")
  if [[ -e $DOCKERD_CONTAINERD_DIR/containerd.pid ]] && ! pid_is "$pid" containerd; then
    say "removing stale containerd pid file and sockets in $DOCKERD_CONTAINERD_DIR"
    rm -f "$DOCKERD_CONTAINERD_DIR"/containerd.pid "$DOCKERD_CONTAINERD_DIR"/containerd*.sock*
  fi
  if [[ -S $SYSTEM_CONTAINERD_SOCK ]] && ! any_process_named containerd; then
    say "removing stale $SYSTEM_CONTAINERD_SOCK"
    rm -f "$SYSTEM_CONTAINERD_SOCK" "$SYSTEM_CONTAINERD_SOCK".ttrpc
  fi
}

# Without systemd nobody may have mounted the cgroup hierarchies dockerd needs
# (cgroupfs-mount comes with docker.io's recommended packages).
ensure_cgroups() {
  awk '$2 ~ "^/sys/fs/cgroup" && ($3 == "cgroup" || $3 == "cgroup2") { found = 1 } END { exit !found }' /proc/mounts &&
    return 0
  say "no cgroup hierarchy is mounted; mounting them"
  if command -v cgroupfs-mount >/dev/null 2>&1; then
    cgroupfs-mount || say "cgroupfs-mount failed; dockerd may not start"
  else
    mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null || say "no cgroup filesystem mounted; dockerd may not start"
  fi
}

start_dockerd() {
  mkdir -p "$(dirname "$LOG")"
  say "starting dockerd (log: $LOG)"
  # setsid + nohup: the engine must outlive this script, its terminal and its process group.
  # 9>&-: the lock must not be inherited, or dockerd (and the containerd shims it spawns,
  # which outlive a killed engine) would hold it forever.
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null 9>&- &
}

start_fresh_dockerd() {
  ensure_cgroups
  clean_stale_files
  start_dockerd
}

wait_for_engine() {
  local deadline=$((SECONDS + WAIT_SECS))
  while ((SECONDS < deadline)); do
    engine_answers && return 0
    if ! any_process_named dockerd; then
      say "dockerd exited while starting; last lines of $LOG:"
      tail -n 30 "$LOG" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  say "the engine did not answer within ${WAIT_SECS}s; last lines of $LOG:"
  tail -n 30 "$LOG" >&2 || true
  return 1
}

main() {
  # Fast path: nothing to do.
  if engine_answers && busybox_static_present; then
    exit 0
  fi
  if engine_answers; then
    # Only the test images need busybox; npm start does not, so a non-root user gets a hint.
    if [[ $(id -u) -ne 0 ]]; then
      say "warning: no static busybox; the test images need it ('sudo apt-get install busybox-static')."
      exit 0
    fi
    apt_install busybox-static
    exit 0
  fi

  check_docker_host
  require_root "starting a Docker engine"

  # Serialise concurrent callers (npm test and npm start at once) so only one dockerd starts.
  exec 9>"$LOCK"
  flock -w $((WAIT_SECS * 5)) 9 || die "could not take $LOCK"
  engine_answers && busybox_static_present && exit 0

  ensure_packages
  engine_answers && exit 0 # apt may have started the service itself

  if any_process_named dockerd; then
    say "a dockerd is running but not answering yet; waiting for it"
    # One that was shutting down (a restart caught midway) exits instead of answering: start ours then.
    if ! wait_for_engine; then
      any_process_named dockerd && die "could not get a Docker engine to answer."
      say "that dockerd has exited; starting one"
      start_fresh_dockerd
    fi
  else
    start_fresh_dockerd
  fi
  wait_for_engine || die "could not get a Docker engine to answer."
  say "engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
}

main "$@"
