#!/usr/bin/env bash
# Provisioning and binding benchmark: how long until every claim of a StatefulSet is Bound and every pod
# Running (volumes provisioned, FUSE-attached and mounted at the kubelet path); how fast 10,000 claims
# are applied and Bound (overall, first and last thousand, timed by a watch); how long `cairn get pvc`
# takes over them; the idle daemon's CPU with them and without; one more claim's time to Bound with
# them and without.
#
#   bash tools/bench-provision.sh            # 1,000 Parallel, 200 OrderedReady, 10,000 claims
#   PARALLEL=300 ORDERED=50 CLAIMS=2000 bash tools/bench-provision.sh   # a quicker run
#
# Each scenario gets a fresh daemon (release build, two logical nodes, log level warning) in a temporary
# state directory that is removed at the end. The baseline for the latency figures is
# `cairn get nodes` (one small object) against the same daemon in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
PARALLEL=${PARALLEL:-1000}
ORDERED=${ORDERED:-200}
CLAIMS=${CLAIMS:-10000}
CONFIG=${CONFIG:-release}

# SCRATCH: another build directory (e.g. .build-release), so a release build does not wait for the debug one.
SCRATCH=${SCRATCH:-.build}
if ! build_log=$(swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product cairn 2>&1); then echo "$build_log" >&2; exit 1; fi
cairn="$(swift build -c "$CONFIG" --scratch-path "$SCRATCH" --show-bin-path)/cairn"
work=$(mktemp -d /tmp/cairn-bench.XXXXXX)
export CAIRN_SOCKET=$work/state/cairn.sock
daemon=""

stop_daemon() {
    if [ -n "$daemon" ]; then
        kill -TERM "$daemon" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon" 2>/dev/null || true
        wait "$daemon" 2>/dev/null || true
        daemon=""
    fi
    grep -o " $work[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}
cleanup() { stop_daemon; rm -rf "$work"; }
trap cleanup EXIT

start_daemon() {
    stop_daemon
    rm -rf "$work/state" "$work/data"
    setsid "$cairn" serve --state-dir "$work/state" \
        --node "k8s-node1=$work/data/k8s-node1" --node "k8s-node2=$work/data/k8s-node2" \
        --node-capacity k8s-node1=1Ti --node-capacity k8s-node2=1Ti \
        --log-level warning >>"$work/daemon.log" 2>&1 &
    daemon=$!
    for _ in $(seq 1 300); do "$cairn" version >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "the daemon did not start; its log:" >&2; cat "$work/daemon.log" >&2; exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

statefulset() { # statefulset NAME REPLICAS POLICY
    cat <<EOF
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: $1
spec:
  replicas: $2
  podManagementPolicy: $3
  serviceName: $1
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      containers:
      - name: app
        image: busybox
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: standard
      resources:
        requests:
          storage: 1Mi
EOF
}

# ready NAME: the StatefulSet's READY column ("1000/1000").
ready() { "$cairn" get statefulset "$1" --no-headers 2>/dev/null | awk '{print $2}'; }
count() { # count COLUMN VALUE GET-ARGS...: rows of `cairn get` whose COLUMN is VALUE
    local col=$1 want=$2; shift 2
    "$cairn" get "$@" --no-headers 2>/dev/null | awk -v col="$col" -v want="$want" '$col == want' | wc -l
}

# run_statefulset NAME REPLICAS POLICY: seconds from apply until every pod is Running and Ready.
run_statefulset() {
    start_daemon
    statefulset "$1" "$2" "$3" >"$work/$1.yaml"
    local t0 t1 deadline
    t0=$(now)
    "$cairn" apply -f "$work/$1.yaml" >/dev/null
    deadline=$(( $(date +%s) + 1800 ))
    until [ "$(ready "$1")" = "$2/$2" ]; do
        if [ "$(date +%s)" -gt "$deadline" ]; then echo "timed out: $(ready "$1") ready" >&2; exit 1; fi
        sleep 0.05
    done
    t1=$(now)
    local bound running mounts
    bound=$(count 2 Bound pvc)
    running=$(count 3 Running pods)
    mounts=$(grep -c " $work/state/pods/" /proc/self/mounts || true)
    if [ "$bound" != "$2" ] || [ "$running" != "$2" ] || [ "$mounts" != "$2" ]; then
        echo "inconsistent: $bound claims Bound, $running pods Running, $mounts volume mounts (want $2)" >&2; exit 1
    fi
    printf '%-34s %8s s   (%s claims Bound, %s pods Running, %s volume mounts)\n' \
        "StatefulSet $2 replicas, $3" "$(elapsed "$t0" "$t1")" "$bound" "$running" "$mounts"
}

median_ms() { # median_ms RUNS COMMAND...: median wall time in ms
    local runs=$1; shift
    for _ in $(seq 1 "$runs"); do
        local a b
        a=$(now); "$@" >/dev/null; b=$(now)
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
    done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# cpu_cores SECONDS: cores the daemon used over SECONDS of doing nothing (utime+stime from /proc).
cpu_cores() {
    local hz a b
    hz=$(getconf CLK_TCK)
    a=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
    sleep "$1"
    b=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
    awk -v a="$a" -v b="$b" -v hz="$hz" -v s="$1" 'BEGIN { printf "%.4f", (b - a) / hz / s }'
}

namespace() {
    "$cairn" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $1
EOF
}

run_claims() {
    # An empty daemon first: its idle CPU and one claim's time to Bound are the baselines.
    start_daemon
    namespace bench
    sleep 2
    local idle_empty one_empty
    idle_empty=$(cpu_cores 20)
    one_empty=$(python3 tools/bench_watch.py "$CAIRN_SOCKET" latency bench 5)

    start_daemon
    namespace bench
    local file=$work/claims.yaml
    : >"$file"
    for i in $(seq 1 "$CLAIMS"); do
        printf -- '---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: claim-%05d\n  namespace: bench\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: fast\n  resources:\n    requests:\n      storage: 1Mi\n' "$i" >>"$file"
    done
    python3 tools/bench_watch.py "$CAIRN_SOCKET" bound bench "$CLAIMS" "$work/bound.txt" &
    local watcher=$!
    sleep 1
    local t0 t1
    t0=$(date +%s.%N)
    "$cairn" apply -f "$file" >/dev/null
    t1=$(date +%s.%N)
    wait "$watcher"
    printf '%-40s %9s s\n' "apply $CLAIMS claims (one file)" "$(elapsed "$t0" "$t1")"
    # Bound times, in order: the overall rate, and the first and last thousand's.
    grep -v start "$work/bound.txt" | sort -n | awk -v t0="$t0" -v n="$CLAIMS" '
        { t[NR] = $1 }
        END {
            k = (n >= 2000) ? 1000 : int(n / 2)
            printf "%-40s %9.2f s   (%.0f claims/s from the start of the apply)\n", n " claims Bound", t[NR] - t0, n / (t[NR] - t0)
            # Both rates count from a Bound claim, so the first is not charged with the dry run that
            # checks every document before the first is created.
            printf "%-40s %9.0f claims/s\n", "first " k " Bound", (k - 1) / (t[k] - t[1])
            printf "%-40s %9.0f claims/s\n", "last " k " Bound", k / (t[NR] - t[NR - k])
        }'
    local base table json one idle one_full
    base=$(median_ms 7 "$cairn" get nodes)
    table=$(median_ms 7 "$cairn" get pvc -n bench)
    json=$(median_ms 7 "$cairn" get pvc -n bench -o json)
    one=$(median_ms 7 "$cairn" get pvc -n bench "$(printf claim-%05d $(( (CLAIMS + 1) / 2 )))")
    printf '%-40s %9s ms  (median of 7)\n' "cairn get nodes (baseline)" "$base"
    printf '%-40s %9s ms  (%sx baseline)\n' "cairn get pvc, $CLAIMS claims" "$table" "$(awk -v a="$table" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
    printf '%-40s %9s ms  (%sx baseline)\n' "cairn get pvc -o json, $CLAIMS" "$json" "$(awk -v a="$json" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
    printf '%-40s %9s ms  (%sx baseline)\n' "cairn get pvc NAME, $CLAIMS in ns" "$one" "$(awk -v a="$one" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
    sleep 5
    idle=$(cpu_cores 20)
    printf '%-40s %9s cores (empty daemon: %s; %sx)\n' "idle CPU, $CLAIMS claims" "$idle" "$idle_empty" \
        "$(awk -v a="$idle" -v b="$idle_empty" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }')"
    one_full=$(python3 tools/bench_watch.py "$CAIRN_SOCKET" latency bench 5)
    printf '%-40s %9s ms  (among none: %s ms; %sx)\n' "one claim to Bound among $CLAIMS" "$one_full" "$one_empty" \
        "$(awk -v a="$one_full" -v b="$one_empty" 'BEGIN { printf "%.2f", a / b }')"
}

echo "Cairn provisioning benchmark ($CONFIG build, $(nproc) cores, $(date -u +%Y-%m-%d))"
run_statefulset par "$PARALLEL" Parallel
run_statefulset ordered "$ORDERED" OrderedReady
run_claims
