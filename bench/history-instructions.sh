#!/usr/bin/env bash
# Instructions per request of the request history (bench/history-instructions.ts) counted by
# callgrind: the same process at N and 3N requests, (I(3N) − I(N)) / 2N, so start-up, the schema
# and the JIT's warm-up cancel out. Repeatable on a busy machine (instructions, not time).
#
#   bash bench/history-instructions.sh [N] [sink...]      # default 20000, sinks "none thread"
#
# sink none: the main thread's part alone (record, take); thread: also the post to the writer
# thread and its inserts (every thread of the process is counted). Run `npm run build` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20000}
shift || true
sinks=${*:-none thread}
out=$(mktemp -d /tmp/berth-history-cg.XXXXXX)
trap 'rm -rf "$out"' EXIT
count() { # requests sink → total instructions of every thread
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" node "$root/dist/bench/history-instructions.js" --requests "$1" --sink "$2" \
    2>"$out/log" >/dev/null || { cat "$out/log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/log"
}
for sink in $sinks; do
  a=$(count "$n" "$sink")
  b=$(count $((3 * n)) "$sink")
  echo "sink $sink: $a at $n, $b at $((3 * n)): $(( (b - a) / (2 * n) )) instructions per request"
done
