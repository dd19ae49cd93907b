#!/usr/bin/env bash
# Wharf remote configuration timing (docs/benchmarks.md, "Remote configuration"): from the publish
# of a signed desired document on a real Mosquitto to the gateway's reported outcome, for a change
# applied live and for one applied by a restart, with the release wharfd.
#
#   REMOTE_BENCH_REPEAT [10]   pushes per kind of change
#   BENCH_SKIP_BUILD [0]       1: use the binaries already in .build/release
#   REMOTE_BENCH_OUT [Benchmarks/results/remote-config-latest.md]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${REMOTE_BENCH_OUT:-Benchmarks/results/remote-config-latest.md}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --product wharfd
fi
bin=$(swift build -c release --show-bin-path)
[ -x .venv/bin/python ] || scripts/e2e-env.sh
mkdir -p "$(dirname "$OUT")"
# wharfctl (signing the documents) is this wharfd under the name wharfctl (Tests/EndToEnd/wharf_e2e).
WHARFD="$bin/wharfd" .venv/bin/python Benchmarks/remote-config/timing.py | tee "$OUT"
