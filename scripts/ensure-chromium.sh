#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at /usr/bin/chromium, for the dashboard's
# browser tests (playwright-core drives it; no browser is ever downloaded by a test tool).
#
# Idempotent: returns at once when the binary is there. Otherwise, as root with apt, it
# installs Debian's `chromium` package; without root or apt it prints one line saying
# what to do and fails.
#
# Environment:
#   BERTH_CHROMIUM   the browser binary to check (default /usr/bin/chromium)
set -euo pipefail

CHROMIUM=${BERTH_CHROMIUM:-/usr/bin/chromium}
LOCK=/var/run/berth-ensure-chromium.lock

say() { echo "ensure-chromium: $*" >&2; }
die() { say "$*"; exit 1; }

present() { [[ -x $CHROMIUM ]]; }

main() {
  present && exit 0
  [[ $(id -u) -eq 0 ]] || die "$CHROMIUM is missing: run 'sudo apt-get install -y chromium' (the browser tests need it)."
  command -v apt-get >/dev/null 2>&1 || die "$CHROMIUM is missing and there is no apt-get: install Chromium there yourself."

  # Serialise concurrent callers: two apt runs at once would fight over dpkg's lock.
  exec 9>"$LOCK"
  flock -w 900 9 || die "could not take $LOCK"
  present && exit 0

  say "installing Debian's chromium with apt..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y -qq --no-install-recommends chromium >/dev/null
  present || die "apt installed chromium, but $CHROMIUM is still missing."
  say "installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
}

main "$@"
