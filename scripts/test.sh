#!/usr/bin/env bash
# The one test command (README.md): installs what is missing, builds, and
# runs unit tests, the Raft simulator, the integration tests against real
# mmsqld processes with real clients, the same unit tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, and bounded fuzzing.
#   scripts/test.sh            everything
#   QUICK=1 scripts/test.sh    skip sanitizers and fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
status=0
stages_ok=0; stages_failed=0; failed_stages=()
step() { echo; echo "=== $* ==="; current="$*"; }
# run_stage CMD...: runs one stage and records its outcome
run_stage() {
  if "$@"; then stages_ok=$((stages_ok+1)); else stages_failed=$((stages_failed+1)); failed_stages+=("$current"); status=1; fi
}

step build
make -j"$jobs" all

step unit tests
run_stage make -s unit

if [ -f test/sim/sim.c ] || ls test/sim/*.c >/dev/null 2>&1; then
  step raft simulator
  run_stage build/raft-sim --seeds "${SIM_SEEDS:-1-2000}"
fi

step integration tests

run_stage /usr/bin/python3 -m pytest -q test/integration

if [ -z "${QUICK:-}" ]; then
  step sanitizers: unit tests under ASan+UBSan
  make -j"$jobs" SANITIZE=address,undefined B=build-san build-san/mmsqld \
    $(ls test/unit/test_*.c | sed 's#test/unit/#build-san/test/#; s#\.c$##')
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_stage scripts/run-unit.sh build-san/test/test_*
  step sanitizers: integration smoke under ASan+UBSan
  MMSQLD=build-san/mmsqld ASAN_OPTIONS=detect_leaks=0 \
    run_stage /usr/bin/python3 -m pytest -q test/integration -k "smoke or robust or semantics or clients"

  step fuzzing
  make -j"$jobs" fuzz_bins
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} run_stage scripts/run-fuzz.sh build/fuzz/fuzz_*
fi

echo
[ ${#failed_stages[@]} -gt 0 ] && echo "failed stages: ${failed_stages[*]}"
echo "stages: $stages_ok passed, $stages_failed failed"
exit $status
