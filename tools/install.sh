#!/usr/bin/env bash
# Installs Cairn on this machine (as root): the system packages it needs, a release build of `cairn`
# in /usr/local/bin, and the default StorageClasses in /etc/cairn/storage-classes (what `cairn serve`
# loads when it is not run from a checkout). Safe to run again; a new build replaces the old one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "error: run as root: cairn serve mounts FUSE filesystems and bind mounts" >&2; exit 1; fi
bash tools/setup.sh
swift build -c release --product cairn
install -m 0755 "$(swift build -c release --show-bin-path)/cairn" /usr/local/bin/cairn
install -d -m 0755 /etc/cairn/storage-classes
install -m 0644 storage-classes/*.yaml /etc/cairn/storage-classes/
echo "installed /usr/local/bin/cairn ($(/usr/local/bin/cairn version --client 2>/dev/null | head -1 || echo cairn)) and /etc/cairn/storage-classes"
