#!/usr/bin/env bash
# Runs every unit test binary given on the command line; prints one summary
# line "unit: N passed, N failed" (counting test binaries) and exits non-zero
# if any failed.
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
  if out=$("$t" 2>&1); then
    pass=$((pass+1)); echo "$out" | tail -1
  else
    fail=$((fail+1)); failed+=("$t"); echo "$out" | tail -30
  fi
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
