#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets under Tests/Fuzz/Targets (declared in Package.swift only when
# CAIRN_FUZZ is set) with the fuzzer and address sanitizer in their own scratch directory, so they never
# slow or break `swift build`, then runs each for SECONDS from the committed seeds in
# Tests/Fuzz/Corpus/<target>/ (what it finds goes to the scratch directory, not to git) and prints,
# per target, the executions, the coverage (libFuzzer's edges and features), the corpus it grew and the
# crashes, leaks, timeouts and out-of-memory inputs it saved.
#
#   bash tools/fuzz.sh                    # 60 s per target, every target
#   bash tools/fuzz.sh 600                # the issue's 10 minutes per target
#   bash tools/fuzz.sh 120 fuzz-quantity fuzz-patch
#
# A saved input reproduces with `.build-fuzz/debug/<target> <file>`; turn it into a regression test
# in the target's unit tests before fixing it. Exit status 1 when any target saved one.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
all=(fuzz-manifest fuzz-quantity fuzz-selectors fuzz-patch fuzz-api-request fuzz-bindings)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
scratch=${FUZZ_SCRATCH:-.build-fuzz}
export CAIRN_FUZZ=1
# main.swift holds only declarations; -parse-as-library leaves `main` to libFuzzer. Swift 6.3 on Linux
# instruments nothing for -sanitize=fuzzer alone: the coverage libFuzzer reads (inline 8-bit counters,
# the PC table for `cov:`, comparisons for its dictionary) is asked for explicitly.
build=(swift build -c debug --scratch-path "$scratch" --sanitize=fuzzer --sanitize=address
       -Xswiftc -parse-as-library -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
# FUZZ_NO_BUILD=1 runs what is already built (while another build holds the scratch directory).
for t in "${targets[@]}"; do
    [ -n "${FUZZ_NO_BUILD:-}" ] && break
    if ! log=$("${build[@]}" --product "$t" 2>&1); then echo "$log" | tail -40 >&2; echo "fuzz: building $t failed" >&2; exit 1; fi
done
bin="$scratch/debug"
[ -n "${FUZZ_NO_BUILD:-}" ] || bin=$("${build[@]}" --show-bin-path)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# Tables built once and kept (their spare-bit tagged pointers hide them from LeakSanitizer).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Tests/Fuzz/lsan-suppressions.txt:print_suppressions=0}
# Swift's crash backtracer reads the crashed process's memory in ways ASan reports as errors of its
# own: libFuzzer's report is what is wanted.
export SWIFT_BACKTRACE=enable=no
failed=0
rows=()
for t in "${targets[@]}"; do
    work="$scratch/fuzz/$t"
    mkdir -p "$work/corpus" "$work/artifacts"
    rm -f "$work/artifacts"/*
    started=$(date +%s)
    set +e
    "$bin/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=25 -rss_limit_mb=4096 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" "Tests/Fuzz/Corpus/$t" >"$work/log" 2>&1
    status=$?
    set -e
    elapsed=$(( $(date +%s) - started ))
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | tail -1 | awk '{print $2}')
    last=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
    corp=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
    saved=$(find "$work/artifacts" -type f | wc -l)
    kinds=$(find "$work/artifacts" -type f -printf '%f\n' | sed 's/-.*//' | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')
    rows+=("$(printf '%-18s %6ss %12s %7s %8s %7s  %s' "$t" "$elapsed" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${saved} ${kinds}")")
    if [ "$saved" -gt 0 ] || { [ "$status" -ne 0 ] && [ -z "$execs" ]; }; then
        failed=1
        echo "== $t (exit $status): $work/log" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|panic|==[0-9]+==' "$work/log" | head -20 >&2
    fi
done
printf '%-18s %7s %12s %7s %8s %7s  %s\n' target time executions cov ft corpus "saved inputs (crash/leak/timeout/oom)"
printf '%s\n' "${rows[@]}"
exit $failed
