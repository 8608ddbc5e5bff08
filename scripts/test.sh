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
step() { echo; echo "=== $* ==="; }

step build
make -j"$jobs" all

step unit tests
make -s unit || status=1

if [ -f test/sim/sim.c ] || ls test/sim/*.c >/dev/null 2>&1; then
  step raft simulator
  build/raft-sim --seeds "${SIM_SEEDS:-1-2000}" || status=1
fi

step integration tests

/usr/bin/python3 -m pytest -q test/integration || status=1

if [ -z "${QUICK:-}" ]; then
  step sanitizers: unit tests under ASan+UBSan
  make -j"$jobs" SANITIZE=address,undefined B=build-san build-san/mmsqld \
    $(ls test/unit/test_*.c | sed 's#test/unit/#build-san/test/#; s#\.c$##')
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    scripts/run-unit.sh build-san/test/test_* || status=1
  step sanitizers: integration smoke under ASan+UBSan
  MMSQLD=build-san/mmsqld ASAN_OPTIONS=detect_leaks=0 \
    /usr/bin/python3 -m pytest -q test/integration -k "smoke or robust" || status=1

  step fuzzing
  make -j"$jobs" fuzz_bins 2>/dev/null || true
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/run-fuzz.sh build/fuzz/fuzz_* || status=1
fi

echo
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $status
