#!/usr/bin/env bash
# `npm start`: make sure an engine answers and the example image exists, then
# run the gateway on the bundled example configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
bash scripts/build-test-images.sh example
[ -f dist/src/cli/main.js ] || npm run build
exec node bin/berth.js serve --config "${BERTH_CONFIG:-examples/berth.yaml}" "$@"
