#!/usr/bin/env bash
# The crash matrix: for every crash point (CAIRN_CRASH_AT, Sources/CairnCrashPoint) and every scenario
# that reaches it (Tests/CairnEndToEndTests/CrashScenarios.swift), a daemon is killed there, started
# again, the client retries what was not answered, and once the cluster settles the invariants are
# checked (ClusterInvariants.swift). Each scenario is first run with the trace on to learn which points
# it reaches and how often. Prints the table: one row per point, one column per scenario, each cell
# `crashed/runs` with `!N` for N inconsistent runs, then the totals and every violation.
#
#   bash tools/crash-matrix.sh                      # quick: every point at its first reach
#   bash tools/crash-matrix.sh full                 # first, middle and last reach, each also just
#                                                   # after the commit that follows, and every
#                                                   # recovery point after a crash mid-operation
#   bash tools/crash-matrix.sh quick 1500           # stop starting runs after 1500 s (scenarios are
#                                                   # interleaved, so a budget samples all of them)
#   bash tools/crash-matrix.sh quick 0 provision,reclaim   # only these scenarios (0: no budget)
#
# The table is also written to .build/crash-matrix.txt. Exit status 1 when any run was inconsistent.
set -euo pipefail
cd "$(dirname "$0")/.."
scope=${1:-quick}
budget=${2:-0}
scenarios=${3:-}
case "$scope" in quick|full) ;; *) echo "usage: $0 [quick|full] [seconds, 0 = no budget] [scenario,...]" >&2; exit 2 ;; esac
if ! log=$(swift build --build-tests 2>&1); then echo "$log" | tail -40 >&2; exit 1; fi
export CAIRN_BINARY="$PWD/.build/debug/cairn"
export CAIRN_CRASH_MATRIX="$scope"
export CAIRN_CRASH_MATRIX_REPORT="$PWD/.build/crash-matrix.txt"
[ "$budget" != 0 ] && export CAIRN_CRASH_MATRIX_SECONDS="$budget"
[ -n "$scenarios" ] && export CAIRN_CRASH_MATRIX_SCENARIOS="$scenarios"
rm -f "$CAIRN_CRASH_MATRIX_REPORT"
set +e
swift test --skip-build --no-parallel --filter 'CrashMatrixTests/crashMatrix\(\)' >.build/crash-matrix.log 2>&1
status=$?
set -e
grep '^crash matrix:' .build/crash-matrix.log || true
if [ -f "$CAIRN_CRASH_MATRIX_REPORT" ]; then
    echo
    cat "$CAIRN_CRASH_MATRIX_REPORT"
else
    tail -40 .build/crash-matrix.log
fi
[ $status -eq 0 ] || { echo "crash matrix: inconsistent runs or a failure (log: .build/crash-matrix.log)" >&2; exit 1; }
