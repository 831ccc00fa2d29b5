#!/usr/bin/env bash
# The demo: builds Cairn, starts a daemon with two logical nodes (k8s-node1, k8s-node2) in a temporary
# state directory, and runs the seed lesson's manifests: a StatefulSet scaled 1 -> 3 -> 0 -> 3 that keeps
# and re-binds its claims with their data, and a ReplicaSet whose claim lives on the other node.
# Everything it starts is stopped and unmounted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
swift build
root=$PWD
cairn=$root/.build/debug/cairn
demo=$(mktemp -d /tmp/cairn-demo.XXXXXX)
export CAIRN_SOCKET=$demo/state/cairn.sock
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    grep -o " $demo[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$demo"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ cairn %s\n' "$*"; "$cairn" "$@"; }
wait_for() { # wait_for DESCRIPTION COMMAND... : polls for up to 60 s
    local what=$1; shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "timed out waiting for $what" >&2; return 1
}
running() { "$cairn" get pod "$1" 2>/dev/null | grep -q " Running "; }

step "Start cairn serve: k8s-node1 offers 5Gi, k8s-node2 20Gi"
setsid "$cairn" serve --state-dir "$demo/state" --node "k8s-node1=$demo/data/k8s-node1" --node "k8s-node2=$demo/data/k8s-node2" \
    --node-capacity k8s-node1=5Gi --node-capacity k8s-node2=20Gi --log-level warning >"$demo/daemon.log" 2>&1 &
daemon=$!
wait_for "the daemon" "$cairn" version
run get nodes -o wide
run get storageclasses

step "The seed's StatefulSet with its headless Service"
run apply -f examples/seed/statefulset.yaml
wait_for "stateful-pvc-0" running stateful-pvc-0
run get statefulset,pods,pvc

step "Scale to 3: pods are created one at a time, each with its own claim"
run scale statefulset stateful-pvc --replicas=3
for i in 0 1 2; do wait_for "stateful-pvc-$i" running stateful-pvc-$i; done
run get pods -o wide
for i in 0 1 2; do run exec stateful-pvc-$i -- sh -c "echo 'written by stateful-pvc-$i' > /applog/identity; touch /applog/server.log"; done
run exec stateful-pvc-0 -- df -h /applog

step "Scale to 0: pods go (highest ordinal first), claims stay Bound with their data"
run scale statefulset stateful-pvc --replicas=0
wait_for "no pods" sh -c "! '$cairn' get pods -o name 2>/dev/null | grep -q stateful-pvc"
run get pvc
run verify retention statefulset stateful-pvc --deep

step "Scale back to 3: each pod binds its own claim again and finds its data"
run scale statefulset stateful-pvc --replicas=3
for i in 0 1 2; do wait_for "stateful-pvc-$i" running stateful-pvc-$i; done
for i in 0 1 2; do run exec stateful-pvc-$i -- cat /applog/identity; done
run verify retention statefulset stateful-pvc
run bindings

step "The seed's ReplicaSet: its claim was provisioned on k8s-node2 (most free storage), the pod is pinned to k8s-node1"
run apply -f examples/seed/pvc.yaml
wait_for "replica-pvc1 bound" sh -c "'$cairn' get pvc replica-pvc1 | grep -q Bound"
run apply -f examples/seed/replicaset.yaml
sleep 2
run get pods -l type=web2
run get events --namespace default | grep -E "REASON|FailedScheduling" || true
run describe pvc replica-pvc1 | sed -n '1,26p'

step "Done; stopping the daemon (volumes are unmounted, data stays under $demo/data until cleanup)"
