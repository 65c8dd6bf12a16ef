#!/usr/bin/env bash
# A throwaway two-node Docker Swarm on this machine, for berth's Swarm tests and bench.
#
#   scripts/swarm-harness.sh up [IMAGE...]   make it (after removing a crashed run's leftovers);
#                                            prints the addresses as shell assignments
#   scripts/swarm-harness.sh down            remove everything it made; safe to repeat
#
# Each node is an extra dockerd in a network namespace of its own, with its own data root,
# exec root, pid file, unix socket and containerd namespace; its hostname (a UTS namespace
# of its own) names the Swarm node. The machine's main engine is never touched, let alone
# turned into a swarm: images reach the nodes by `docker save` from it and `docker load`
# into each node, so nothing is ever pulled.
#
# Links (no bridge in the main namespace: its FORWARD policy, set by the main engine,
# would drop bridged traffic; point-to-point veths need no change to the host's firewall):
#
#   main  NAME-m0 10.N.1.1/24  <->  manager eth0 10.N.1.2   (gateway → manager's tasks)
#   main  NAME-w0 10.N.2.1/24  <->  worker  eth0 10.N.2.2   (gateway → worker's tasks)
#   manager eth1 10.N.3.1/24   <->  worker  eth1 10.N.3.2   (Swarm's own traffic)
#
# No TCP port is opened in the main namespace: the Engine APIs are unix sockets and the
# Swarm listens on 10.N.3.x inside the namespaces.
#
# What a machine like the one this was built on refuses, and the way around it:
#   - `ip netns exec` remounts /sys for the namespace, hiding the cgroup mounts: dockerd
#     fails with "Devices cgroup isn't mounted". nsenter --net enters only the network.
#   - A bridge in the main namespace: the main engine's FORWARD policy (DROP) with
#     bridge-nf-call-iptables=1 drops bridged traffic between the nodes. Hence veths.
#   - The ingress routing mesh and service VIPs need IPVS; a kernel without ip_vs (no
#     /proc/sys/net/ipv4/vs, no modprobe) answers nothing on an ingress-published port.
#     berth publishes in host mode and uses DNS round robin instead.
#   - `--bridge none` leaves tasks without networks unable to publish host-mode ports:
#     the nodes keep their default bridge (inside their namespace).
#
# Environment:
#   BERTH_SWARM_NAME   prefix of every name (namespaces, links, node hostnames); default bsw
#   BERTH_SWARM_NET    first two octets of the addresses; default 10.213
#   BERTH_SWARM_DIR    state directory; default /tmp/berth-swarm-NAME
set -euo pipefail

NAME=${BERTH_SWARM_NAME:-bsw}
NET=${BERTH_SWARM_NET:-10.213}
DIR=${BERTH_SWARM_DIR:-/tmp/berth-swarm-$NAME}
NODES=(manager worker)
declare -A SIDE=([manager]=1 [worker]=2)  # third octet of the node's link to the main namespace
declare -A PEER=([manager]=1 [worker]=2)  # last octet on the manager–worker link

say() { echo "swarm-harness: $*" >&2; }
die() { say "$*"; exit 1; }

[[ ${#NAME} -le 8 && $NAME =~ ^[a-z][a-z0-9]*$ ]] || die "BERTH_SWARM_NAME=$NAME: use up to 8 lower-case letters and digits (it prefixes interface names)"
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces and extra dockerds)"

ns() { echo "$NAME-$1"; }
sock() { echo "$DIR/$1/docker.sock"; }
node_docker() { local node=$1; shift; docker -H "unix://$(sock "$node")" "$@"; }

# Every process whose command line names our state directory: the dockerds, their
# containerds and the shims of their containers. Only ours carry that path.
our_pids() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ $cmd == *"$DIR/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

stop_daemons() {
  local node pid pids i
  for node in "${NODES[@]}"; do
    pid=$(cat "$DIR/$node/dockerd.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  for ((i = 0; i < 100; i++)); do
    mapfile -t pids < <(our_pids)
    ((${#pids[@]} == 0)) && return 0
    # dockerd stops its containers and containerd itself; give it 10 s, then force.
    ((i == 50)) && kill -KILL "${pids[@]}" 2>/dev/null
    sleep 0.2
  done
  say "warning: processes under $DIR still alive: ${pids[*]}"
}

# Processes of the nodes' containers that outlived their shims (a crashed run's dockerd
# killed with -9): found by the container ids in the nodes' data roots, in their cgroups.
kill_container_processes() {
  local ids p cg id
  mapfile -t ids < <(ls "$DIR"/manager/data/containers "$DIR"/worker/data/containers 2>/dev/null | grep -E '^[0-9a-f]{64}$')
  ((${#ids[@]})) || return 0
  for p in /proc/[0-9]*; do
    cg=$(cat "$p/cgroup" 2>/dev/null) || continue
    for id in "${ids[@]}"; do
      [[ $cg == *"$id"* ]] && kill -KILL "${p#/proc/}" 2>/dev/null
    done
  done
  return 0
}

# Mounts dockerd leaves when killed (overlay layers, netns files), deepest first.
unmount_all() {
  local m
  findmnt -rn -o TARGET | awk -v d="$DIR/" 'index($0, d) == 1' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

down() {
  local node
  stop_daemons
  kill_container_processes
  unmount_all
  for node in "${NODES[@]}"; do
    ip netns del "$(ns "$node")" 2>/dev/null || true
  done
  ip link del "$NAME-m0" 2>/dev/null || true
  ip link del "$NAME-w0" 2>/dev/null || true
  rm -rf "$DIR"
}

veth_to_main() {
  local node=$1 host_if=$2 side=${SIDE[$1]}
  ip link add "$host_if" type veth peer name "$NAME-tmp"
  ip link set "$NAME-tmp" netns "$(ns "$node")"
  ip -n "$(ns "$node")" link set "$NAME-tmp" name eth0
  ip addr add "$NET.$side.1/24" dev "$host_if"
  ip link set "$host_if" up
  ip -n "$(ns "$node")" addr add "$NET.$side.2/24" dev eth0
  ip -n "$(ns "$node")" link set eth0 up
}

make_network() {
  local node
  for node in "${NODES[@]}"; do
    ip netns add "$(ns "$node")"
    ip -n "$(ns "$node")" link set lo up
  done
  veth_to_main manager "$NAME-m0"
  veth_to_main worker "$NAME-w0"
  ip -n "$(ns manager)" link add eth1 type veth peer name "$NAME-tmp"
  ip -n "$(ns manager)" link set "$NAME-tmp" netns "$(ns worker)"
  ip -n "$(ns worker)" link set "$NAME-tmp" name eth1
  for node in "${NODES[@]}"; do
    ip -n "$(ns "$node")" addr add "$NET.3.${PEER[$node]}/24" dev eth1
    ip -n "$(ns "$node")" link set eth1 up
  done
}

# `ip netns exec` would remount /sys (hiding the cgroup mounts dockerd needs): nsenter
# enters only the network namespace. unshare --uts gives the node its own hostname.
# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: a task runs the node's own copy of its image
# instead of first asking a registry for it (which the namespaces cannot reach anyway).
start_daemon() {
  local node=$1 d=$DIR/$1
  mkdir -p "$d"
  echo '{}' >"$d/daemon.json"
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid nsenter --net="/var/run/netns/$(ns "$node")" unshare --uts sh -c '
    hostname "$0"
    exec dockerd --config-file "$1/daemon.json" --data-root "$1/data" --exec-root "$1/exec" \
      --pidfile "$1/dockerd.pid" -H "unix://$1/docker.sock" \
      --containerd-namespace "$0" --containerd-plugins-namespace "$0-plugins"' \
    "$NAME-$node" "$d" >"$d/dockerd.log" 2>&1 </dev/null 9>&- &
}

wait_daemon() {
  local node=$1 i
  for ((i = 0; i < 120; i++)); do
    node_docker "$node" info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -n 20 "$DIR/$node/dockerd.log" >&2 || true
  die "the $node's dockerd did not answer on $(sock "$node")"
}

make_swarm() {
  local token i
  # A pool of our own: the overlay subnets must not collide with the links above.
  node_docker manager swarm init --advertise-addr "$NET.3.1" --listen-addr "$NET.3.1:2377" \
    --default-addr-pool "$NET.128.0/17" --default-addr-pool-mask-length 24 >/dev/null
  token=$(node_docker manager swarm join-token -q worker)
  node_docker worker swarm join --token "$token" --advertise-addr "$NET.3.2" --listen-addr "$NET.3.2:2377" "$NET.3.1:2377" >/dev/null
  for ((i = 0; i < 60; i++)); do
    [[ $(node_docker manager node ls --filter role=worker --format '{{.Status}}' 2>/dev/null) == Ready ]] && break
    sleep 0.5
  done
  # Where the gateway reaches each node's host-published ports, as labels berth reads.
  node_docker manager node update --label-add "berth.address=$NET.1.2" "$NAME-manager" >/dev/null
  node_docker manager node update --label-add "berth.address=$NET.2.2" "$NAME-worker" >/dev/null
}

load_images() {
  local node pid pids=() rc=0
  (($# == 0)) && return 0
  docker save -o "$DIR/images.tar" "$@"
  for node in "${NODES[@]}"; do
    node_docker "$node" load -q -i "$DIR/images.tar" >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  rm -f "$DIR/images.tar"
  ((rc == 0)) || die "loading $* into the nodes failed"
}

print_env() {
  cat <<EOF
BERTH_SWARM_MANAGER=unix://$(sock manager)
BERTH_SWARM_WORKER=unix://$(sock worker)
BERTH_SWARM_MANAGER_NODE=$NAME-manager
BERTH_SWARM_WORKER_NODE=$NAME-worker
BERTH_SWARM_MANAGER_ADDRESS=$NET.1.2
BERTH_SWARM_WORKER_ADDRESS=$NET.2.2
BERTH_SWARM_DIR=$DIR
EOF
}

up() {
  bash "$(dirname "$0")/ensure-swarm-tools.sh"
  [[ -e $DIR || -e /var/run/netns/$(ns manager) || -e /sys/class/net/$NAME-m0 ]] && { say "removing a previous run's leftovers"; down; }
  mkdir -p "$DIR"
  make_network
  start_daemon manager
  start_daemon worker
  wait_daemon manager
  wait_daemon worker
  make_swarm
  load_images "$@"
  print_env
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) down ;;
  *) die "usage: $0 up [IMAGE...] | down" ;;
esac
