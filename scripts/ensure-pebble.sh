#!/usr/bin/env bash
# Make sure Debian's `pebble` (Let's Encrypt's test ACME server) is installed, for the
# HTTPS tests: they run it on 127.0.0.1 with a config of their own (test/support/pebble.ts).
#
# Idempotent: returns at once when `pebble` is on the PATH. Otherwise, as root with apt,
# it installs Debian's `pebble` package non-interactively; without root or apt it prints
# one line saying what to do and fails.
set -euo pipefail
# shellcheck source=scripts/apt-ensure.sh
source "$(dirname "$0")/apt-ensure.sh"

present() { command -v pebble >/dev/null 2>&1; }

ensure_apt_packages ensure-pebble present "the HTTPS tests need it" pebble
