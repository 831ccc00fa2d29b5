#!/usr/bin/env bash
# The test command: installs the system packages, builds, and runs every test (unit tables, store,
# filesystem mounts, node agent, and end-to-end tests against a live daemon). Needs root and /dev/fuse.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
swift build
# The end-to-end tests run the binary that was just built; the node agent's exec tests use it too.
export CAIRN_BINARY="$PWD/.build/debug/cairn"
# Every test that mounts has its own deadline; this outer one only guarantees that CI reports instead of
# hanging if one of those deadlines is ever wrong.
timeout --kill-after=30 1800 swift test "$@"
