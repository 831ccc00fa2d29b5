#!/usr/bin/env bash
# What a pod's process sees while `cairn serve` restarts: a writer keeps a file open in its volume
# and writes in a loop (tools/pod-writer.c) while the daemon is restarted gracefully (SIGHUP: it hands
# its FUSE connections to their descriptor holders and exits; the next one takes them over) and then
# killed with -9 and started again. Prints the writer's errors and longest stall for each.
#
#   sudo tools/restart-serve.sh        # builds cairn (debug) unless CAIRN_BINARY is set
#   RESTART_KERNEL_QUOTA=1 ...          # the node's data root on a loop-mounted btrfs with qgroups,
#                                       # so capacity is kernel-enforced and every open passthrough
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
if [ "$(id -u)" != 0 ]; then echo "restart-serve: run as root" >&2; exit 1; fi
cairn=${CAIRN_BINARY:-}
if [ -z "$cairn" ]; then
    swift build --package-path "$root" --product cairn >&2
    cairn=$root/.build/debug/cairn
fi
work=$(mktemp -d /tmp/cairn-restart.XXXXXX)
export CAIRN_SOCKET=$work/state/cairn.sock
daemon="" writer=""
cleanup() {
    set +e
    [ -n "$writer" ] && kill -TERM "$writer" 2>/dev/null
    [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    grep -o " $work[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/pod-writer" "$here/pod-writer.c"
if [ -n "${RESTART_KERNEL_QUOTA:-}" ]; then
    mkdir -p "$work/data/node1"
    truncate -s 2G "$work/btrfs.img"
    mkfs.btrfs -q -f "$work/btrfs.img"
    mount -o loop "$work/btrfs.img" "$work/data/node1"
    btrfs quota enable "$work/data/node1"
fi

start() {
    setsid "$cairn" serve --state-dir "$work/state" --storage-classes "$root/storage-classes" \
        --node "node1=$work/data/node1" --log-level warning >>"$work/daemon.log" 2>&1 &
    daemon=$!
    for _ in $(seq 300); do "$cairn" version >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "restart-serve: cairn serve did not start: $(tail -5 "$work/daemon.log")" >&2
    exit 1
}
stop_daemon() {  # SIGNAL
    kill "-$1" "$daemon"
    wait "$daemon" 2>/dev/null || true
    daemon=""
}

start
"$cairn" apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres
        volumeMounts: [{name: data, mountPath: /var/lib/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: standard
      resources: {requests: {storage: 1Gi}}
YAML
volume=$work/state/pods/default/db-0/volumes/data
for _ in $(seq 600); do mountpoint -q "$volume" && break; sleep 0.1; done
mountpoint -q "$volume" || { echo "restart-serve: the pod's volume never mounted" >&2; exit 1; }
echo "node1: $("$cairn" get node node1 -o yaml | grep -E 'capacity-enforcement' | head -1 | sed 's/^ *//')"

for how in HUP KILL; do
    "$work/pod-writer" "$volume/log.$how" >"$work/writer.$how" 2>&1 &
    writer=$!
    sleep 1
    begin=$(date +%s%N)
    stop_daemon "$how"
    start
    ready=$(date +%s%N)
    sleep 1
    kill -TERM "$writer"
    wait "$writer" || true
    writer=""
    printf 'restart (%s): daemon answering again after %d ms; pod writer: %s\n' \
        "$([ $how = HUP ] && echo "graceful, SIGHUP" || echo "kill -9")" $(( (ready - begin) / 1000000 )) "$(tail -1 "$work/writer.$how")"
    grep "pod-writer:" "$work/writer.$how" || true
done
stop_daemon TERM
