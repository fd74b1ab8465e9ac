#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/, replays each target's checked-in
# corpus (tests/fuzz/corpus/<target>/), then fuzzes each target for SECONDS_PER_TARGET
# (default 20) starting from a copy of that corpus in a temporary directory, so the checked-in
# corpus never changes. Fails if any input crashes, hangs (10 s), runs out of memory or makes
# a sanitizer report; the input that did is kept in build-fuzz/fuzz-artifacts/.
#
#   tests/fuzz/run-fuzz.sh [SECONDS_PER_TARGET]
#
# Nothing is left behind but build-fuzz/ (git-ignored).
set -euo pipefail

seconds=${1:-20}
if [[ ! $seconds =~ ^[0-9]+$ || $seconds -lt 1 ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET]   (a whole number of seconds, default 20)" >&2
    exit 2
fi
for tool in clang clang++ cmake; do
    if ! command -v "$tool" >/dev/null; then
        echo "$0: $tool is missing (./run.sh fuzz installs it)" >&2
        exit 2
    fi
done

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$fuzz_dir/../.." && pwd)
build=$source_dir/build-fuzz
targets=(fuzz_netsetgo_args fuzz_net_config fuzz_step_options)

CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build" -DNSP_FUZZ=ON \
    -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz >/dev/null

work=$(mktemp -d /tmp/nsp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts  # what this run found, and only that
rm -rf "$artifacts"
mkdir -p "$artifacts"

# Every input is a command line or an address: one taking more than 10 s is a hang.
limits=(-timeout=10 -rss_limit_mb=2048)
failed=()

# Prints the end of a libFuzzer log: the report, and the input that caused it ("Running:" names
# a checked-in one; one found while fuzzing is kept in $artifacts).
show_failure() {
    echo "---- $1: last lines of the libFuzzer log ----"
    tail -n 40 "$2"
    local kept
    kept=$(find "$artifacts" -name "$1-*")
    [[ -z $kept ]] || echo "---- the input, kept: $kept"
}

for target in "${targets[@]}"; do
    binary=$build/tests/fuzz/$target
    corpus=$fuzz_dir/corpus/$target
    log=$work/$target.log

    # 1. Replay: every checked-in input (the regressions among them) runs once.
    if ! (cd "$work" && "$binary" "${limits[@]}" -artifact_prefix="$artifacts/$target-" \
        "$corpus"/*) >"$log" 2>&1; then
        echo "$target: FAILED replaying the checked-in corpus"
        show_failure "$target" "$log"
        failed+=("$target (corpus)")
        continue
    fi
    inputs=$(find "$corpus" -type f | wc -l)

    # 2. Fuzz, from a copy of the corpus.
    mkdir "$work/$target"
    cp "$corpus"/* "$work/$target/"
    dict=()
    [[ -f $fuzz_dir/$target.dict ]] && dict=(-dict="$fuzz_dir/$target.dict")
    if ! (cd "$work" && "$binary" "${limits[@]}" "${dict[@]}" -max_total_time="$seconds" \
        -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$work/$target") \
        >"$log" 2>&1; then
        echo "$target: FAILED while fuzzing"
        show_failure "$target" "$log"
        failed+=("$target")
        continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    coverage=$(grep -o 'DONE *cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -n 1 |
        sed 's/DONE *//')
    echo "$target: ok: corpus of $inputs replayed; ${seconds}s fuzzing, $runs runs, $coverage"
done

rmdir "$artifacts" 2>/dev/null || true  # only when no input had to be kept
if ((${#failed[@]} > 0)); then
    echo "fuzzing FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzzing passed: ${targets[*]}"
