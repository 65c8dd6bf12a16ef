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
# Read with builtins: a fork per process costs seconds per scan on a loaded machine,
# and stop_daemons scans every 0.2 s.
our_pids() {
  local p args
  for p in /proc/[0-9]*; do
    mapfile -d '' args 2>/dev/null <"$p/cmdline" || continue
    [[ "${args[*]}" == *"$DIR/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

# True once no container exists on either node (and both answer).
nodes_empty() {
  local node
  for node in "${NODES[@]}"; do
    [[ -z $(timeout 5 docker -H "unix://$(sock "$node")" ps -aq 2>/dev/null || echo unanswered) ]] || return 1
  done
}

# Removes the services (tasks and their containers with them) while the swarm still
# answers, and waits up to 10 s for the nodes to hold no container. Everything on these
# nodes is the harness's own.
remove_services() {
  local ids i
  [[ -S $(sock manager) ]] || return 1
  mapfile -t ids < <(timeout 5 docker -H "unix://$(sock manager)" service ls -q 2>/dev/null)
  ((${#ids[@]})) && timeout 10 docker -H "unix://$(sock manager)" service rm "${ids[@]}" >/dev/null 2>&1
  for ((i = 0; i < 50; i++)); do
    nodes_empty && return 0
    sleep 0.2
  done
  return 1
}

stop_daemons() {
  local node pid pids i signal=TERM
  # A graceful stop of a swarm node waits ~6 s for its ingress network to go, for
  # nothing: the namespaces and data roots are deleted next. With no container left
  # to stop, killing the daemons leaves nothing behind that `down` does not remove
  # (it already copes with a crashed run's killed dockerds).
  remove_services && signal=KILL
  for node in "${NODES[@]}"; do
    pid=$(cat "$DIR/$node/dockerd.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && kill -"$signal" "$pid" 2>/dev/null || true
  done
  # The containerds a killed dockerd leaves.
  [[ $signal == KILL ]] && { mapfile -t pids < <(our_pids); ((${#pids[@]})) && kill -KILL "${pids[@]}" 2>/dev/null; }
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
    [[ -r $p/cgroup ]] || continue
    read -r -d '' cg 2>/dev/null <"$p/cgroup" || [[ -n $cg ]] || continue # no fork per process
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

# The images reach the nodes in the background, overlapping the slow steps of `up`:
# save_images runs while the nodes' dockerds start, load_images while the swarm is
# made; wait_images waits for both and fails when either did.
save_images() {
  IMAGES=("$@")
  SAVE_PID=""
  LOAD_PIDS=()
  (($# == 0)) && return 0
  docker save -o "$DIR/images.tar" "$@" &
  SAVE_PID=$!
}

load_images() {
  local node
  ((${#IMAGES[@]} == 0)) && return 0
  wait "$SAVE_PID" || die "saving ${IMAGES[*]} from the main engine failed"
  for node in "${NODES[@]}"; do
    node_docker "$node" load -q -i "$DIR/images.tar" >/dev/null &
    LOAD_PIDS+=($!)
  done
}

wait_images() {
  local pid rc=0
  ((${#IMAGES[@]} == 0)) && return 0
  for pid in "${LOAD_PIDS[@]}"; do wait "$pid" || rc=1; done
  rm -f "$DIR/images.tar"
  ((rc == 0)) || die "loading ${IMAGES[*]} into the nodes failed"
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
  save_images "$@"
  make_network
  start_daemon manager
  start_daemon worker
  wait_daemon manager
  wait_daemon worker
  load_images
  make_swarm
  wait_images
  print_env
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) down ;;
  *) die "usage: $0 up [IMAGE...] | down" ;;
esac
