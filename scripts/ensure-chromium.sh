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
# shellcheck source=scripts/apt-ensure.sh
source "$(dirname "$0")/apt-ensure.sh"

CHROMIUM=${BERTH_CHROMIUM:-/usr/bin/chromium}

present() { [[ -x $CHROMIUM ]]; }

ensure_apt_packages ensure-chromium present "the browser tests need $CHROMIUM" chromium
