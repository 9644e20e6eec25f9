#!/usr/bin/env bash
# The test command (README.md's `<!-- test-command -->`, which .ci/run runs): installs
# what a fresh Debian machine lacks, runs the package's tests and those of
# examples/custom-plugin, then checks that the tests left no process running. Every step
# runs even when an earlier one failed; the script fails when any did.
#
#   scripts/test.sh              # SWIFT=swiftb scripts/test.sh runs swift through a wrapper
set -uo pipefail
cd "$(dirname "$0")/.."
swift=${SWIFT:-swift}

scripts/prepare-machine.sh || exit 1

# Every process the tests start inherits this variable: whatever carries it after the
# tests have ended was left behind.
run_marker="BOTHOST_TEST_RUN=$$-$(date +%s%N)"

marked_processes() {
  local environ
  for environ in /proc/[0-9]*/environ; do
    if grep -qzxF "$run_marker" "$environ" 2>/dev/null; then
      environ=${environ#/proc/}
      echo "${environ%/environ}"
    fi
  done
}

# A child killed by its parent-death signal may take a moment to go (PostgreSQL shuts
# down on it): wait up to 5 s, then report what is left and kill it.
no_process_left() {
  local left
  for _ in $(seq 50); do
    left=$(marked_processes)
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "left running by the tests:" >&2
  ps -o pid,ppid,pgid,user,args -p "$(echo $left | tr ' ' ,)" >&2
  kill -KILL $left 2>/dev/null
  return 1
}

failed=()
step() {
  echo "+ $*"
  "$@" || failed+=("$*")
}
# The plugin package shares the build folder, which saves building every dependency
# again. Each step plans its build afresh: with the plan cached, SwiftPM may reuse one
# package's plan for the other and run the wrong tests (seen: this package's tests ran in
# place of the plugin package's).
# The tests that measure time (HeavyProcessTests, and PostgresTests, whose lock sessions
# are fenced when the server answers late) run last, without the rest: beside every other
# suite, a 2-core machine would hold up the very pace they measure.
timed='HeavyProcessTests|PostgresTests'
step env "$run_marker" "$swift" test --disable-build-manifest-caching --skip "$timed"
step env "$run_marker" "$swift" test --disable-build-manifest-caching --filter "$timed"
step env "$run_marker" "$swift" test --package-path examples/custom-plugin --scratch-path .build --disable-build-manifest-caching
step no_process_left

if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "all tests passed, no process left behind"
