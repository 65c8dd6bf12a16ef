#!/usr/bin/env bash
# Make sure the tools the Swarm tests' harness (scripts/swarm-harness.sh) needs are here:
# iproute2 (ip: network namespaces, veth links) and util-linux (nsenter, unshare, findmnt).
# Idempotent and quiet when they are; installs them with apt (as root) on a fresh machine.
set -euo pipefail
# shellcheck source=scripts/apt-ensure.sh
source "$(dirname "$0")/apt-ensure.sh"

have_all() {
  command -v ip >/dev/null && command -v nsenter >/dev/null && command -v unshare >/dev/null && command -v findmnt >/dev/null
}

ensure_apt_packages ensure-swarm-tools have_all "the Swarm tests' harness needs ip, nsenter, unshare and findmnt" iproute2 util-linux
