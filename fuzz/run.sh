#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (60 unless set) and prints how many
# inputs each one executed. Fails when a target crashed, leaked or hung on an
# input; the input is then in fuzz/artifacts/TARGET/ and the run's log in
# target/fuzz/TARGET.log. `make fuzz` builds the targets first.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
cargo=${CARGO:-cargo}
export RUSTC_BOOTSTRAP=1
dirs=(--fuzz-dir fuzz --target-dir target/fuzz)

# Seeds besides fuzz/corpus/TARGET: the example configs and the refused ones.
extra_seeds() {
    case $1 in
    config) echo examples tests/invalid ;;
    esac
}

targets=$($cargo fuzz list --fuzz-dir fuzz) || exit 1
declare -A runs
failed=()
for t in $targets; do
    # New inputs go to the first directory; the checked-in seeds are only read.
    corpus=target/fuzz/corpus/$t
    mkdir -p "$corpus"
    seeds=()
    [ -d "fuzz/corpus/$t" ] && seeds+=("fuzz/corpus/$t")
    read -ra more <<<"$(extra_seeds "$t")"
    seeds+=("${more[@]}")
    log=target/fuzz/$t.log
    echo "fuzz: $t for ${seconds}s"
    if ! "$cargo" fuzz run "${dirs[@]}" "$t" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        failed+=("$t")
        grep -E -A20 "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|^error" "$log" | head -40
        grep -E "Test unit written|artifact" "$log" | tail -1
    fi
    runs[$t]=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
done

printf '\n%-20s %12s  (%ss each)\n' target executions "$seconds"
for t in $targets; do
    printf '%-20s %12s\n' "$t" "${runs[$t]}"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
