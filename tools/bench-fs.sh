#!/usr/bin/env bash
# Benchmarks CairnFS against the native backing directory and a bindfs mount of it, in one
# invocation: data rows with fio, metadata rows with tools/bench-meta.c (a C loop, so the figure is
# the filesystem's, not the tool's). Two data roots:
#   plain: a directory on the root disk's ext4 (Cairn enforces capacity itself)    native, bindfs, cairn
#   kq:    a loop-mounted image whose kernel enforces each volume's capacity       native-kq, cairn-kq
#          (ext4 with project quotas where the kernel can mount it, CONFIG_QFMT_V2; else btrfs
#          with qgroups, the volume a NOCOW subvolume with a limit, the native target the same)
#
#   sudo tools/bench-fs.sh            # builds cairnfs-harness (release) in the package dir
#
# Environment:
#   CAIRN_PACKAGE_DIR   package to build cairnfs-harness in (default: this script's ..)
#   CAIRNFS_HARNESS     use this cairnfs-harness binary instead of building
#   CAIRNFS_ARGS        extra harness arguments (e.g. "--no-passthrough", "--writeback")
#   BENCH_DIR           parent of the scratch directory (default /var/tmp)
#   BENCH_RUNS=3 BENCH_SEQ_SIZE=1G BENCH_RAND_SIZE=128M BENCH_RUNTIME=3 BENCH_FILES=10000
#   BENCH_KQ_IMAGE_SIZE=6G
#   BENCH_TARGETS="native bindfs cairn native-kq cairn-kq"
#
# Prints one table: each row's median over BENCH_RUNS runs and its ratio to its data root's
# native figure (cairn-kq against native-kq).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
package=${CAIRN_PACKAGE_DIR:-$here/..}
runs=${BENCH_RUNS:-3}
seq_size=${BENCH_SEQ_SIZE:-1G}
rand_size=${BENCH_RAND_SIZE:-128M}
runtime=${BENCH_RUNTIME:-3}
nfiles=${BENCH_FILES:-10000}
kq_size=${BENCH_KQ_IMAGE_SIZE:-6G}
targets=${BENCH_TARGETS:-native bindfs cairn native-kq cairn-kq}

if [ "$(id -u)" != 0 ]; then echo "bench-fs: run as root (drop_caches, mounts)" >&2; exit 1; fi
for tool in fio bindfs python3 cc mkfs.ext4 mkfs.btrfs; do
    command -v "$tool" >/dev/null || apt-get install -y fio bindfs python3 gcc e2fsprogs btrfs-progs >/dev/null
done

harness=${CAIRNFS_HARNESS:-}
if [ -z "$harness" ]; then
    echo "bench-fs: building cairnfs-harness (release) in $package" >&2
    swift build -c release --product cairnfs-harness --package-path "$package" >&2
    harness="$(swift build -c release --package-path "$package" --show-bin-path)/cairnfs-harness"
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench.XXXXXX")
harness_pids=()
cleanup() {
    set +e
    mountpoint -q "$work/bindfs-mnt" && umount "$work/bindfs-mnt"
    for pid in "${harness_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    for m in "$work/cairn-mnt" "$work/kq/cairn-mnt"; do mountpoint -q "$m" && umount -l "$m"; done
    mountpoint -q "$work/kq" && umount -l "$work/kq"
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM

cc -O2 -o "$work/bench-meta" "$here/bench-meta.c"
mkdir -p "$work"/{native,bindfs-backing,bindfs-mnt,cairn-backing,cairn-mnt,results,kq}
# The kernel-quota data root: an image on the same disk, loop-mounted.
truncate -s "$kq_size" "$work/kq.img"
if mkfs.ext4 -q -F -O project,quota "$work/kq.img" && mount -o loop,prjquota "$work/kq.img" "$work/kq" 2>/dev/null; then
    kq_kind="ext4 project quotas"
    mkdir -p "$work/kq"/{native,cairn-backing}
    # The native target gets a project id and limit too, so both pay for quota accounting.
    chattr -p 4242 +P "$work/kq/native" 2>/dev/null || true
else
    kq_kind="btrfs qgroups"
    mkfs.btrfs -q -f "$work/kq.img"
    mount -o loop "$work/kq.img" "$work/kq"
    btrfs quota enable "$work/kq"
    for d in native cairn-backing; do
        btrfs subvolume create "$work/kq/$d" >/dev/null
        chattr +C "$work/kq/$d"
        btrfs qgroup limit $((64 << 30)) "$work/kq/$d"
    done
fi
mkdir -p "$work/kq/cairn-mnt"
# ext4 avoids reusing recently deleted inodes by scanning for them, which makes creates that follow
# another target's unlinks slow; with the Orlov "top directory" flag each new metadata directory
# goes to a fresh block group, so no target pays for the one before it.
chattr +T "$work/native" "$work/bindfs-backing" "$work/cairn-backing" 2>/dev/null || true
bindfs "$work/bindfs-backing" "$work/bindfs-mnt"

start_harness() {  # MOUNT BACKING
    local out="$1.out"
    mkfifo "$out"
    # shellcheck disable=SC2086
    "$harness" --mount "$1" --volume "bench=$2:$((64 << 30))" --no-holder ${CAIRNFS_ARGS:-} \
        >"$out" 2>"$1.log" </dev/null &
    harness_pids+=($!)
    local line=""
    read -r -t 30 line <"$out" || true
    if [ "$line" != ready ]; then echo "bench-fs: cairnfs-harness did not start on $1: $(cat "$1.log")" >&2; exit 1; fi
}
start_harness "$work/cairn-mnt" "$work/cairn-backing"
start_harness "$work/kq/cairn-mnt" "$work/kq/cairn-backing"

dir_of() {
    case $1 in
        native) echo "$work/native" ;;
        bindfs) echo "$work/bindfs-mnt" ;;
        cairn) echo "$work/cairn-mnt/bench" ;;
        native-kq) echo "$work/kq/native" ;;
        cairn-kq) echo "$work/kq/cairn-mnt/bench" ;;
    esac
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# fio_run ROW TARGET RUN METRIC fio-args...   METRIC: read_bw, write_bw, read_iops, write_iops
fio_run() {
    local row=$1 target=$2 run=$3 metric=$4
    shift 4
    local out="$work/results/$row.$target.$run.json"
    fio --output-format=json --output="$out" --directory="$(dir_of "$target")" "$@" >/dev/null
    python3 - "$out" "$metric" "$row" "$target" "$run" >>"$work/results/all.txt" <<'PY'
import json, sys
path, metric, row, target, run = sys.argv[1:]
jobs = json.load(open(path))["jobs"]
kind, what = metric.split("_")
total = sum(j[kind]["bw_bytes" if what == "bw" else "iops"] for j in jobs)
if what == "bw":
    total /= 1e6
print(row, target, run, f"{total:.3f}")
PY
}

common=(--ioengine=psync --group_reporting=0 --thread)
for run in $(seq "$runs"); do
    for target in $targets; do
        d=$(dir_of "$target")
        echo "bench-fs: run $run/$runs on $target" >&2
        rm -f "$d"/seq.* "$d"/rand.*
        # Sequential write, 1 MiB blocks, fsync at the end.
        fio_run seq-write "$target" "$run" write_bw --name=seq --rw=write --bs=1M --size="$seq_size" \
            --end_fsync=1 "${common[@]}"
        # Sequential read, cold: every page cache dropped (the backing's and FUSE's).
        drop_caches
        fio_run seq-read-cold "$target" "$run" read_bw --name=seq --rw=read --bs=1M --size="$seq_size" "${common[@]}"
        # Sequential read, warm: the same file again, cache kept (invalidate=0).
        fio_run seq-read-warm "$target" "$run" read_bw --name=seq --rw=read --bs=1M --size="$seq_size" \
            --invalidate=0 "${common[@]}"
        rm -f "$d"/seq.*
        # Random 4 KiB, files laid out first (by writing, which fills the page cache), then reads
        # that hit the cache and writes without fsync, 1 and 2 jobs (one file each).
        for jobs in 1 2; do
            fio --name=rand --directory="$d" --rw=write --bs=1M --size="$rand_size" --numjobs="$jobs" \
                --invalidate=0 "${common[@]}" >/dev/null
            fio_run "rand-read-${jobs}j" "$target" "$run" read_iops --name=rand --rw=randread --bs=4k \
                --size="$rand_size" --numjobs="$jobs" --time_based --runtime="$runtime" --invalidate=0 "${common[@]}"
            fio_run "rand-write-${jobs}j" "$target" "$run" write_iops --name=rand --rw=randwrite --bs=4k \
                --size="$rand_size" --numjobs="$jobs" --time_based --runtime="$runtime" --invalidate=0 "${common[@]}"
            rm -f "$d"/rand.*
        done
        # Metadata: $nfiles files in a fresh directory: create + 1 KiB write + close, stat, unlink.
        mkdir -p "$d/meta.$run"
        "$work/bench-meta" "$d/meta.$run" "$nfiles" | while read -r op value; do
            echo "meta-$op $target $run $value" >>"$work/results/all.txt"
        done
        rmdir "$d/meta.$run"
    done
done

python3 - "$work/results/all.txt" "$targets" "$runs" "$kq_kind" <<'PY'
import statistics, sys
path, targets, runs, kq_kind = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
values = {}
for line in open(path):
    row, target, run, value = line.split()
    values.setdefault((row, target), []).append(float(value))
rows = ["seq-write", "seq-read-cold", "seq-read-warm", "rand-read-1j", "rand-read-2j",
        "rand-write-1j", "rand-write-2j", "meta-create", "meta-stat", "meta-unlink"]
unit = {"seq-write": "MB/s", "seq-read-cold": "MB/s", "seq-read-warm": "MB/s"}
baseline = {t: ("native-kq" if t.endswith("-kq") else "native") for t in targets}
header = "| row | unit | " + " | ".join(t if t == baseline[t] else f"{t} | {t}/{baseline[t]}" for t in targets) + " |"
print(header)
print("|" + "---|" * (header.count("|") - 1))
for row in rows:
    med = {t: statistics.median(values[(row, t)]) for t in targets if (row, t) in values}
    cells = []
    for t in targets:
        v = med.get(t)
        cells.append("-" if v is None else f"{v:,.0f}")
        if t != baseline[t]:
            n = med.get(baseline[t])
            cells.append("-" if v is None or not n else f"{v / n:.2f}x")
    print(f"| {row} | {unit.get(row, 'IOPS' if row.startswith('rand') else 'ops/s')} | " + " | ".join(cells) + " |")
print(f"\n{runs} runs per cell, median. kq: {kq_kind}. Metadata: create + 1 KiB write + close, stat, unlink of the same files (C loop).")
PY
