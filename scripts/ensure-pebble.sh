#!/usr/bin/env bash
# Make sure Debian's `pebble` (Let's Encrypt's test ACME server) is installed, for the
# HTTPS tests: they run it on 127.0.0.1 with a config of their own (test/support/pebble.ts).
#
# Idempotent: returns at once when `pebble` is on the PATH. Otherwise, as root with apt,
# it installs Debian's `pebble` package non-interactively; without root or apt it prints
# one line saying what to do and fails.
set -euo pipefail

LOCK=/var/run/berth-ensure-pebble.lock

say() { echo "ensure-pebble: $*" >&2; }
die() { say "$*"; exit 1; }

present() { command -v pebble >/dev/null 2>&1; }

main() {
  present && exit 0
  [[ $(id -u) -eq 0 ]] || die "pebble is missing: run 'sudo apt-get install -y pebble' (the HTTPS tests need it)."
  command -v apt-get >/dev/null 2>&1 || die "pebble is missing and there is no apt-get: install Debian's pebble (or pebble from its releases) yourself."

  # Serialise concurrent callers: two apt runs at once would fight over dpkg's lock.
  exec 9>"$LOCK"
  flock -w 900 9 || die "could not take $LOCK"
  present && exit 0

  say "installing Debian's pebble with apt..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y -qq --no-install-recommends pebble >/dev/null
  present || die "apt installed pebble, but it is still not on the PATH."
  say "installed $(command -v pebble)"
}

main "$@"
