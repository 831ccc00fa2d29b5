#!/usr/bin/env bash
# The test command: installs the system packages, builds, and runs every test (unit tables, store,
# in-process server, filesystem mounts, node agent, and end-to-end tests against a live daemon). Needs
# root and /dev/fuse.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
swift build --build-tests
# The end-to-end tests run the binary that was just built; the node agent's exec tests use it too.
export CAIRN_BINARY="$PWD/.build/debug/cairn"
# Every test that mounts has its own deadline; the outer one only guarantees that CI reports instead of
# hanging if one of those deadlines is ever wrong.
if [ $# -gt 0 ]; then
    exec timeout --kill-after=30 2400 swift test --skip-build "$@"
fi
# Two runs. Tests that wait on live daemons, mounts and child processes block the threads they run on;
# beside them, tests that serve HTTP inside the test process (the in-process server, the TLS and
# kubectl machinery tests) could be starved of threads on a 2-core machine. So those run first, in
# parallel, and the blocking ones after, one at a time.
blocking="CairnEndToEndTests|CairnFSTests|CairnNodeTests|CairnCSITests|CairnKubectlTests"
timeout --kill-after=30 1200 swift test --skip-build --skip "$blocking"
timeout --kill-after=30 2400 swift test --skip-build --no-parallel --filter "$blocking"
