#!/usr/bin/env bash
# gc-summary.sh <results dir> [target]: sums up the garbage collections of a bench run made
# with BENCH_NODE_FLAGS="--trace-gc --trace-gc-nvp" (one line per collection in
# <results dir>/<target>.out; default target berth-serve), per V8 isolate (the main thread,
# the history writer thread, each proxy worker), over the whole life of the gateway: warm-up,
# measured run and check requests. Per 10k requests divides by the requests the history
# recorded (history-check.txt), so it covers the same span.
set -euo pipefail
dir=${1:?usage: gc-summary.sh <results dir> [target]}
target=${2:-berth-serve}
out="$dir/$target.out"
[[ -f $out ]] || { echo "gc-summary: no $out" >&2; exit 1; }
requests=$(sed -nE 's/.*history: ([0-9]+) requests recorded.*/\1/p' "$dir/history-check.txt" 2>/dev/null || true)
awk -v requests="${requests:-0}" '
  / gc=/ {
    iso = $1; sub(/\].*/, "", iso); sub(/^\[/, "", iso)
    kind = ""; pause = 0; promoted = 0; survived = 0
    for (i = 2; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "gc") kind = kv[2]
      else if (kv[1] == "pause") pause = kv[2] + 0
      else if (kv[1] == "promoted") promoted = kv[2] + 0
      else if (kv[1] == "new_space_survived") survived = kv[2] + 0
    }
    if (kind == "s") {
      n[iso]++; sum[iso] += pause; if (pause > max[iso]) max[iso] = pause
      prom[iso] += promoted; surv[iso] += survived
    } else { other[iso]++; otherPause[iso] += pause }
  }
  END {
    printf "%-22s %9s %12s %10s %10s %12s %12s %14s %12s\n", "isolate", "scavenges", "per 10k req", "mean ms", "max ms", "total ms", "promoted MB", "survived/scav", "mark-compact"
    for (iso in n) {
      per = requests > 0 ? sprintf("%.1f", n[iso] * 10000 / requests) : "-"
      printf "%-22s %9d %12s %10.2f %10.2f %12.1f %12.1f %11.0f KB %7d (%.0f ms)\n", iso, n[iso], per, sum[iso] / n[iso], max[iso], sum[iso], prom[iso] / 1048576, surv[iso] / n[iso] / 1024, other[iso], otherPause[iso]
    }
    if (requests > 0) printf "requests recorded by the history: %d\n", requests
  }
' "$out"
