#!/usr/bin/env bash
# `npm test`: the whole suite (unit + integration against a real Docker engine and pebble + the dashboard in Chromium).
#
#   scripts/test.sh                  build, then run dist/test/unit/, dist/test/integration/, dist/test/adversarial/ and dist/test/browser/
#   scripts/test.sh FILE_OR_DIR...   build, then run only these (compiled .js paths under dist/)
#
# BERTH_TEST_PREBUILT=1 skips the build when dist/test exists: only for a fresh clone just
# built by `npm ci` (.ci/run), where a second tsc run would make the same files.
#
# A PostgreSQL server is started for the PostgreSQL store's tests unless BERTH_TEST_PG_URL
# names one (scripts/ensure-postgres.sh), and stopped and removed when the run ends.
#
# Tests label every Docker object they create berth.test=true; whatever a crashed or
# interrupted run left behind is removed before the run and again after it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test: $*" >&2; }

# The throwaway PostgreSQL this run started, if any. Never fails (EXIT trap).
stop_postgres() {
  [[ -n ${BERTH_TEST_PG_DIR:-} ]] && bash scripts/ensure-postgres.sh stop "$BERTH_TEST_PG_DIR"
  return 0
}

on_exit() {
  stop_free_lane
  rm -f "$FREE_LANE_LOG" "$ENGINE_LANE_LOG"
  remove_test_networks
  stop_postgres
  remove_test_swarm
}

# The two-node swarm the Swarm tests make (scripts/swarm-harness.sh) removes itself when
# its file ends; a run killed mid-file leaves it, and this removes it. Never fails.
remove_test_swarm() {
  [[ -e /tmp/berth-swarm-bsw || -e /var/run/netns/bsw-manager ]] || return 0
  bash scripts/swarm-harness.sh down >/dev/null 2>&1 || true
  return 0
}

# Never fails: it also runs from the EXIT trap, where it must not mask the tests' exit code.
remove_test_objects() {
  local ids
  mapfile -t ids < <(older_than_limit container "$(docker ps -aq --filter label=berth.test=true)")
  if ((${#ids[@]})); then
    say "removing ${#ids[@]} leftover test container(s)"
    docker rm -f -v "${ids[@]}" >/dev/null || true
  fi
  mapfile -t ids < <(older_than_limit network "$(docker network ls -q --filter label=berth.test=true)")
  ((${#ids[@]})) && { docker network rm "${ids[@]}" >/dev/null || true; }
  mapfile -t ids < <(older_than_limit volume "$(docker volume ls -q --filter label=berth.test=true)")
  ((${#ids[@]})) && { docker volume rm -f "${ids[@]}" >/dev/null || true; }
  return 0
}

# The per-test apps networks a `berth serve` child made (it cannot carry the test labels).
# Only after the run, and the engine refuses to remove one still in use by a parallel suite.
remove_test_networks() {
  remove_test_objects
  local id
  for id in $(docker network ls -q --filter name=berth-apps-test- --filter name=berth-adv-); do
    docker network rm "$id" >/dev/null 2>&1 || true
  done
  return 0
}

# Each test file removes what it made, by its own run label, even when it fails. What is
# left is a crashed run's: only objects older than the longest test file may run are
# removed, so a second suite running beside this one (a developer's) keeps its objects.
LEFTOVER_AGE_S=${BERTH_TEST_LEFTOVER_AGE_S:-1200}
older_than_limit() {
  local kind=$1 ids=$2 id created now
  now=$(date +%s)
  for id in $ids; do
    if [[ $kind == volume ]]; then
      created=$(docker volume inspect -f '{{.CreatedAt}}' "$id" 2>/dev/null) || continue
    else
      created=$(docker "$kind" inspect -f '{{.Created}}' "$id" 2>/dev/null) || continue
    fi
    # Docker prints "2026-11-23 00:39:15.39 +0000 UTC" for networks; date wants it without the zone name.
    created=$(date -d "${created% UTC}" +%s 2>/dev/null) || continue
    ((now - created > LEFTOVER_AGE_S)) && echo "$id"
  done
  return 0
}

# The runner's own test files, or the default suites. Node 20's `node --test DIR` finds
# *.test.js (and test-*.js, *_test.js...) recursively below DIR.
test_targets() {
  if (($# > 0)); then
    printf '%s\n' "$@"
    return
  fi
  local dir
  for dir in dist/test/unit dist/test/integration dist/test/adversarial dist/test/browser; do
    [[ -d $dir ]] && echo "$dir/"
  done
  return 0
}

# What the targets' tests need besides the engine and PostgreSQL.
ensure_tools() {
  local t
  # The browser tests drive Debian's chromium; installed only when they are going to run.
  for t in "$@"; do
    if [[ $t == *browser* || -d $t/browser ]]; then
      bash scripts/ensure-chromium.sh
      break
    fi
  done
  # The HTTPS tests run Let's Encrypt's test CA; installed only when they are going to run.
  for t in "$@"; do
    if [[ $t == *https* || $t == */integration/ || $t == dist/test/integration ]]; then
      bash scripts/ensure-pebble.sh
      break
    fi
  done
  return 0
}

main() {
  bash scripts/ensure-docker.sh
  # The images (the engine, a few hashes) build beside the steps below (tsc, apt, the
  # PostgreSQL start); the tests wait for them.
  bash scripts/build-test-images.sh &
  local images_pid=$!
  # The Swarm tests make network namespaces (scripts/swarm-harness.sh): ip, nsenter, unshare.
  bash scripts/ensure-swarm-tools.sh
  # BERTH_TEST_PREBUILT=1 (.ci/run): `npm ci`'s prepare script has just built this fresh
  # clone, so building again would only repeat the same tsc run.
  if [[ ${BERTH_TEST_PREBUILT:-} == 1 && -d dist/test ]]; then
    say "using the build npm ci just made (BERTH_TEST_PREBUILT=1)"
  else
    # tsc never deletes outputs: drop compiled tests so a renamed or deleted test cannot run stale.
    rm -rf dist/test
    npm run build --silent
  fi

  local targets
  mapfile -t targets < <(test_targets "$@")
  ((${#targets[@]})) || { say "no compiled tests under dist/test/"; exit 1; }
  remove_test_objects
  trap on_exit EXIT
  trap 'exit 130' INT # make Ctrl-C and a CI timeout go through the EXIT trap too
  trap 'exit 143' TERM
  # After the trap is set, so a server started is always stopped; exported for the tests.
  local pg_env
  BERTH_TEST_PG_DIR="" # only a server this run starts is ever stopped
  pg_env=$(bash scripts/ensure-postgres.sh start)
  eval "$pg_env"
  export BERTH_TEST_PG_URL BERTH_TEST_PG_DIR
  local engine=() free=() rc=0 lanes=1
  split_lanes "${targets[@]}"
  if [[ ${BERTH_TEST_ONE_LANE:-} == 1 ]] || ((${#engine[@]} == 0 || ${#free[@]} == 0)); then lanes=0; fi
  # The free lane needs none of what follows (Chromium, pebble, the images): it starts first.
  if ((lanes)); then start_free_lane; fi
  ensure_tools "${targets[@]}"
  wait "$images_pid" || { say "building the test images failed"; exit 1; }
  if ((!lanes)); then
    run_one_lane "${targets[@]}" || rc=$?
    exit "$rc"
  fi
  local engine_started=$SECONDS
  ENGINE_LANE_LOG=$(mktemp /tmp/berth-test-engine-lane.XXXXXX)
  node --test --test-concurrency=1 --test-timeout="$TEST_TIMEOUT_MS" "${engine[@]}" | tee "$ENGINE_LANE_LOG" || rc=$?
  say "engine lane: ${#engine[@]} file(s) in $((SECONDS - engine_started)) s"
  wait_free_lane || rc=$?
  if ((rc != 0)); then
    # A long CI log is read from its end: what failed, and where, goes last.
    say "failed tests (exit $rc):"
    bash scripts/test-failures.sh "$ENGINE_LANE_LOG" "$FREE_LANE_LOG" >&2
  fi
  exit "$rc"
}

# Two lanes run side by side. The engine lane: the files that use the Docker engine, one at
# a time (they share one engine, one swarm and the machine's two cores; two at a time
# flaked). The free lane, beside it: the unit files (dist/test/unit/: fakes only, never the
# engine) and every other file that cannot reach the engine, which
# test/support/test-lanes.ts decides from the file's imports (can they reach dockerode?), so
# a new file lands in its lane without a list to keep. A free file made to use the engine
# through something other than an import (a `docker` command, a spawned `berth serve`
# without test/support/gateway-process.ts) would run beside the engine lane: import the
# support module that cleans up after it (docker-cleanup.ts) and it moves.
# BERTH_TEST_ONE_LANE=1 runs them one after the other instead (run_one_lane).
TEST_TIMEOUT_MS=${BERTH_TEST_TIMEOUT_MS:-300000}
FREE_LANE_PID=""
FREE_LANE_LOG=""
ENGINE_LANE_LOG=""

# Sets engine=() and free=() from the targets.
split_lanes() {
  local t lane file lines others=()
  for t in "$@"; do
    if [[ $t == dist/test/unit || $t == dist/test/unit/* ]]; then free+=("$t"); else others+=("$t"); fi
  done
  ((${#others[@]})) || return 0
  # Not read from a <(...): a failing classifier must stop the run, not drop the files.
  lines=$(node dist/test/support/test-lanes-main.js "${others[@]}") || { say "sorting the test files into lanes failed"; exit 1; }
  while read -r lane file; do
    if [[ $lane == free ]]; then free+=("$file"); else engine+=("$file"); fi
  done <<<"$lines"
  return 0
}

# One lane (BERTH_TEST_ONE_LANE=1, or nothing to run beside), and the free lane: the unit
# files two at a time (no engine, mostly short timers; a file's own start, ~0.65 s of
# imports, is most of a unit file's time, and two of them overlap it), then the others one
# at a time (browsers, gateways, PostgreSQL, the adversarial proxies). Every file runs,
# whatever failed.
run_one_lane() {
  local t unit=() rest=() rc=0
  for t in "$@"; do
    if [[ $t == dist/test/unit || $t == dist/test/unit/* ]]; then unit+=("$t"); else rest+=("$t"); fi
  done
  if ((${#unit[@]})); then
    node --test --test-concurrency=2 --test-timeout="$TEST_TIMEOUT_MS" "${unit[@]}" || rc=$?
  fi
  if ((${#rest[@]})); then
    node --test --test-concurrency=1 --test-timeout="$TEST_TIMEOUT_MS" "${rest[@]}" || rc=$?
  fi
  return "$rc"
}

# Beside the engine lane, as run_one_lane runs its files: the unit files two at a time, the
# others one at a time (one at a time for all of them took as long as the engine lane,
# ~680 s, a third of it node's start of each file), in a process group of its own so an
# interrupted run stops it (stop_free_lane), its output kept in a file and printed when both
# lanes are done, not interleaved with the engine lane's. Not niced: at nice 5 the engine lane
# took as long (716 s) and Chromium, starved beside it, missed a 15 s wait in a browser file.
start_free_lane() {
  FREE_LANE_LOG=$(mktemp /tmp/berth-test-free-lane.XXXXXX)
  FREE_LANE_STARTED=$SECONDS
  say "free lane: ${#free[@]} target(s) beside the engine lane; its output follows the engine lane's"
  export -f run_one_lane
  export TEST_TIMEOUT_MS
  setsid bash -c 'run_one_lane "$@"; rc=$?; echo "test: free lane: its files took $SECONDS s"; exit $rc' free-lane "${free[@]}" >"$FREE_LANE_LOG" 2>&1 &
  FREE_LANE_PID=$!
}

wait_free_lane() {
  local rc=0
  wait "$FREE_LANE_PID" || rc=$?
  FREE_LANE_PID=""
  say "free lane output (${free[*]}):"
  cat "$FREE_LANE_LOG"
  say "free lane: exit $rc, its output read $((SECONDS - FREE_LANE_STARTED)) s after it started (its files' own time is in the line above)"
  return "$rc"
}

# Never fails (EXIT trap): an interrupted run stops the free lane's test runner and its files.
stop_free_lane() {
  if [[ -n $FREE_LANE_PID ]]; then
    kill -TERM -- "-$FREE_LANE_PID" 2>/dev/null || true
    wait "$FREE_LANE_PID" 2>/dev/null || true
    [[ -n $FREE_LANE_LOG ]] && tail -n 50 "$FREE_LANE_LOG"
  fi
  return 0
}

main "$@"
