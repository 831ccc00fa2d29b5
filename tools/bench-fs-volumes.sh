#!/usr/bin/env bash
# What a node costs at many attached volumes: one CairnFS session serving all of them versus one
# session (cairnfs-harness process) per volume. Prints threads, RSS and open descriptors.
#
#   sudo tools/bench-fs-volumes.sh
#
# Environment: CAIRNFS_HARNESS (binary; else built like tools/bench-fs.sh), CAIRN_PACKAGE_DIR,
# VOLUMES=500 (volumes in the one session), SEPARATE_SESSIONS=$VOLUMES (0 skips that part),
# BENCH_DIR=/var/tmp.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
package=${CAIRN_PACKAGE_DIR:-$here/..}
volumes=${VOLUMES:-500}
separate=${SEPARATE_SESSIONS:-$volumes}
if [ "$(id -u)" != 0 ]; then echo "bench-fs-volumes: run as root" >&2; exit 1; fi

harness=${CAIRNFS_HARNESS:-}
if [ -z "$harness" ]; then
    swift build -c release --product cairnfs-harness --package-path "$package" >&2
    harness="$(swift build -c release --package-path "$package" --show-bin-path)/cairnfs-harness"
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-volumes.XXXXXX")
pids=()
cleanup() {
    set +e
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    grep " $work/" /proc/self/mounts | cut -d' ' -f2 | while read -r m; do umount -l "$m"; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM

wait_ready() {  # FILE PID
    for _ in $(seq 300); do
        grep -q '^ready$' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "harness $2 died: $(cat "$1.err")" >&2; return 1; }
        sleep 0.1
    done
    echo "harness $2 not ready" >&2
    return 1
}

# Sum of threads, RSS (KiB) and descriptors over the given pids.
measure() {
    local threads=0 rss=0 fds=0 p
    for p in "$@"; do
        threads=$((threads + $(awk '/^Threads:/ {print $2}' "/proc/$p/status")))
        rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")))
        fds=$((fds + $(ls "/proc/$p/fd" | wc -l)))
    done
    echo "$threads $rss $fds"
}

# Every volume is used a little: list it, stat and read a file, write one.
touch_volumes() {  # ROOT_FOR_VOLUME_FUNCTION
    local i dir
    for i in $(seq "$volumes"); do
        dir=$($1 "$i")
        ls "$dir" >/dev/null
        cat "$dir/data" >/dev/null
        echo x >"$dir/new"
    done
}

for i in $(seq "$volumes"); do
    mkdir -p "$work/backing/v$i"
    echo "volume $i" >"$work/backing/v$i/data"
done

# One session, all volumes.
mkdir -p "$work/one"
args=()
for i in $(seq "$volumes"); do args+=(--volume "v$i=$work/backing/v$i:$((1 << 30))"); done
start=$(date +%s.%N)
"$harness" --mount "$work/one" "${args[@]}" >"$work/one.out" 2>"$work/one.out.err" </dev/null &
one=$!
pids+=("$one")
wait_ready "$work/one.out" "$one"
ready=$(date +%s.%N)
read -r t0 r0 f0 < <(measure "$one")
one_dir() { echo "$work/one/v$1"; }
touch_volumes one_dir
read -r t1 r1 f1 < <(measure "$one")
echo "| layout | sessions | threads | RSS MiB | open fds | start s |"
echo "|---|---|---|---|---|---|"
printf "| one session, %d volumes, idle | 1 | %d | %.1f | %d | %.2f |\n" "$volumes" "$t0" "$(echo "$r0/1024" | bc -l)" "$f0" "$(echo "$ready - $start" | bc -l)"
printf "| one session, %d volumes, after use | 1 | %d | %.1f | %d | |\n" "$volumes" "$t1" "$(echo "$r1/1024" | bc -l)" "$f1"
kill -TERM "$one"; wait "$one" || true
pids=()

if [ "$separate" -gt 0 ]; then
    start=$(date +%s.%N)
    for i in $(seq "$separate"); do
        mkdir -p "$work/sep/m$i"
        "$harness" --mount "$work/sep/m$i" --volume "v=$work/backing/v$i:$((1 << 30))" --no-holder \
            >"$work/sep/m$i.out" 2>"$work/sep/m$i.out.err" </dev/null &
        pids+=("$!")
    done
    for i in $(seq "$separate"); do wait_ready "$work/sep/m$i.out" "${pids[$((i - 1))]}"; done
    ready=$(date +%s.%N)
    read -r t0 r0 f0 < <(measure "${pids[@]}")
    sep_dir() { echo "$work/sep/m$1/v"; }
    volumes=$separate touch_volumes sep_dir
    read -r t1 r1 f1 < <(measure "${pids[@]}")
    printf "| one session per volume, idle | %d | %d | %.1f | %d | %.2f |\n" "$separate" "$t0" "$(echo "$r0/1024" | bc -l)" "$f0" "$(echo "$ready - $start" | bc -l)"
    printf "| one session per volume, after use | %d | %d | %.1f | %d | |\n" "$separate" "$t1" "$(echo "$r1/1024" | bc -l)" "$f1"
fi
