#!/usr/bin/env bash
# Prints the failed tests of node --test TAP logs, each with its location and error: the
# last lines of a run, which is the part of a long CI log a reader is sure to see.
#
#   scripts/test-failures.sh LOG...
#
# A failed file or suite repeats its subtests' failures ("subtestsFailed"); only the
# failures themselves are printed, at most 24 lines each and 200 in all.
set -uo pipefail
(($#)) || exit 0
awk '
  function flush() {
    if (n > 0 && !parent) { for (i = 1; i <= n && i <= 24; i++) print buf[i]; shown++ }
    n = 0; parent = 0
  }
  /^ *not ok [0-9]+ / { flush(); inblock = 1; match($0, /^ */); indent = RLENGTH; buf[++n] = FILENAME ": " $0; next }
  inblock {
    match($0, /^ */)
    if (RLENGTH == indent + 2 && $0 ~ /^ *\.\.\.$/) { inblock = 0; flush(); next }
    if ($0 ~ /failureType: .subtestsFailed./) parent = 1
    buf[++n] = $0
  }
  END { flush(); if (!shown) print "(no failed test in the logs)" }
' "$@" | head -n 200
