#!/usr/bin/env bash
# The differential filesystem test, longer than the suite's slice: random sequences of file operations
# (Tests/CairnFSTests/DifferentialOperations.swift) applied with the same seed to a native directory
# and to a Cairn volume (a cairnfs-harness child), the answers (return value, errno, data) and the trees
# compared after every step. Prints how many steps were compared, how many sequences differed and what
# the calls answered; every difference is reported with its seed and the operations up to it.
#
#   bash tools/fs-differential.sh                  # 3,000 sequences of 40 steps, seed 1, daemon mode
#   bash tools/fs-differential.sh 10000 60 7 all   # SEQUENCES STEPS SEED MODE (daemon, kernelQuota, all)
#
# Needs root and /dev/fuse, as the suite does. Exit status 1 when any sequence differed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CAIRN_DIFF_SEQUENCES=${1:-3000}
export CAIRN_DIFF_STEPS=${2:-40}
export CAIRN_DIFF_SEED=${3:-1}
export CAIRN_DIFF_MODE=${4:-daemon}
if ! log=$(swift build --build-tests 2>&1); then echo "$log" | tail -40 >&2; exit 1; fi
set +e
swift test --skip-build --filter 'DifferentialTests/nativeAndCairnAgree' >.build/fs-differential.log 2>&1
status=$?
set -e
grep -E '^differential|seed [0-9]+ step' -A3 .build/fs-differential.log | head -200
[ $status -eq 0 ] || { echo "fs-differential: differences or a failure (log: .build/fs-differential.log)" >&2; exit 1; }
