#!/usr/bin/env bash
# Make sure the tools the Swarm tests' harness (scripts/swarm-harness.sh) needs are here:
# iproute2 (ip: network namespaces, veth links) and util-linux (nsenter, unshare, findmnt).
# Idempotent and quiet when they are; installs them with apt (as root) on a fresh machine.
set -euo pipefail

have_all() {
  command -v ip >/dev/null && command -v nsenter >/dev/null && command -v unshare >/dev/null && command -v findmnt >/dev/null
}

have_all && exit 0
[[ $(id -u) -eq 0 ]] || { echo "ensure-swarm-tools: needs root to install iproute2 and util-linux" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "ensure-swarm-tools: no apt-get; install iproute2 and util-linux yourself" >&2; exit 1; }
echo "ensure-swarm-tools: installing iproute2 and util-linux with apt..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq iproute2 util-linux >/dev/null
have_all || { echo "ensure-swarm-tools: ip, nsenter, unshare or findmnt still missing after the install" >&2; exit 1; }
