#!/usr/bin/env bash
# Installs what Cairn needs on a fresh Debian 12 machine (as root): FUSE (the daemon speaks /dev/fuse itself), SQLite,
# and the tools the tests and benchmarks compare against. Safe to run again.
set -euo pipefail
packages=(fuse3 libsqlite3-dev bindfs fio btrfs-progs e2fsprogs zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -e /dev/fuse ]; then
    echo "error: /dev/fuse is missing; Cairn serves volumes through FUSE (load the fuse module or run with --device /dev/fuse)" >&2
    exit 1
fi
command -v swift >/dev/null || { echo "error: swift is not on PATH (Swift 6 toolchain needed)" >&2; exit 1; }
