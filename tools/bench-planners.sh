#!/usr/bin/env bash
# Planner benchmark: how long the scheduler and the PV controller take over large states, and what one
# key and one change cost against a whole pass (release build). No test asserts these figures.
#
#   bash tools/bench-planners.sh          # 1,000 pods, 2,000 claims
#   bash tools/bench-planners.sh 10000
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
if ! log=$(swift build -c release --scratch-path "$SCRATCH" --product cairn-planner-bench 2>&1); then echo "$log" >&2; exit 1; fi
"$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/cairn-planner-bench" "${1:-1000}"
