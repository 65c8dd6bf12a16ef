#!/usr/bin/env bash
# Instructions per request of the request history (bench/history-instructions.ts) counted by
# callgrind: the same process at N and 3N requests, (I(3N) − I(N)) / 2N, so start-up, the schema
# and the JIT's warm-up cancel out. Repeatable on a busy machine (instructions, not time).
#
#   bash bench/history-instructions.sh [N] [sink...]      # default 20000, sinks "none thread"
#
# sink none: the main thread's part alone (record, take); thread: also the post to the writer
# thread and its inserts. Each line gives every thread's count and the main thread's alone
# (--separate-threads=yes): V8's GC and compiler threads move the first by a few hundred a
# request from run to run, the main thread's by under 100. Use N ≥ 60000 for figures to
# compare (bench/README.md). Run `npm run build` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20000}
shift || true
sinks=${*:-none thread}
out=$(mktemp -d /tmp/berth-history-cg.XXXXXX)
trap 'rm -rf "$out"' EXIT
count() { # requests sink → "all main": instructions of every thread, and of the main thread alone
  rm -f "$out"/cg.*
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/cg" node "$root/dist/bench/history-instructions.js" --requests "$1" --sink "$2" \
    2>"$out/log" >/dev/null || { cat "$out/log" >&2; exit 1; }
  echo "$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/log") $(sed -n 's/^summary: //p' "$out/cg-01")"
}
for sink in $sinks; do
  read -r a am < <(count "$n" "$sink")
  read -r b bm < <(count $((3 * n)) "$sink")
  echo "sink $sink: $(( (b - a) / (2 * n) )) instructions per request in all threads, $(( (bm - am) / (2 * n) )) on the main thread ($a and $b at $n and $((3 * n)) requests)"
done
