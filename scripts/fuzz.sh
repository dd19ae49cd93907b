#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/) with -sanitize=fuzzer,address and runs each for a while.
#
#   scripts/fuzz.sh                       # every target, FUZZ_SECONDS (600) each
#   scripts/fuzz.sh 20                    # every target, 20 s each (what `make test` runs)
#   scripts/fuzz.sh 3600 FuzzMQTTDecoder  # one target for an hour
#
# Each target starts from its committed seeds (Fuzz/corpus/<target>/) plus what earlier runs on
# this machine learned (.build-fuzz/corpus/<target>/, not committed). An input that crashes or
# breaks an invariant is written to .build-fuzz/artifacts/ and the script fails; replay it with
# `.build-fuzz/debug/<target> <file>`. The build has a scratch directory of its own so that it
# and the ordinary build do not rebuild each other. With FUZZ_LEARNED=0 (the short run of
# `make test`) a run starts from the seeds alone and keeps nothing, so that its start-up does not
# grow with what earlier runs learned.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-${FUZZ_SECONDS:-600}}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(FuzzMQTTDecoder FuzzConfigReader FuzzPluginFramer FuzzRemoteConfigJSON)
fi
scratch="$root/.build-fuzz"
swift="${SWIFT:-swift}"

cd "$root"
for target in "${targets[@]}"; do
    # The fuzz targets exist in the manifest only with WHARF_FUZZ set (Package.swift).
    # The linker warns once per ASan helper symbol it cannot export; nothing to act on.
    WHARF_FUZZ=1 "$swift" build -c debug --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address --product "$target" 2>&1 \
        | { grep -v "Cannot export local symbol" || true; }
    [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
done

status=0
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    if [ "${FUZZ_LEARNED:-1}" = 0 ]; then
        corpus="$(mktemp -d)"
    fi
    artifacts="$scratch/artifacts"
    mkdir -p "$corpus" "$artifacts"
    echo "fuzz: $target for ${seconds}s"
    # -timeout: one input taking this long counts as a hang (a loop the fuzzer found).
    # Swift's backtracer would race ASan's report of the same crash.
    if ! SWIFT_BACKTRACE=enable=no "$scratch/debug/$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
        "$corpus" "Fuzz/corpus/$target" >"$scratch/$target.log" 2>&1; then
        status=1
        echo "fuzz: $target FAILED; see $scratch/$target.log and $artifacts/" >&2
        grep -a -E "invariant violated|ERROR:|Fatal error|SUMMARY" "$scratch/$target.log" | head -5 >&2 || true
    else
        grep -a -E "^stat::(number_of_executed_units|new_units_added)|cov:.*DONE" "$scratch/$target.log" \
            | sed "s/^/fuzz: $target: /" || true
    fi
    if [ "${FUZZ_LEARNED:-1}" = 0 ]; then rm -rf "$corpus"; fi
done
exit $status
