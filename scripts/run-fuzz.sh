#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time (FUZZ_SECONDS, default 30)
# from its seed corpus under test/fuzz/corpus/<name> if there is one.
set -u
secs=${FUZZ_SECONDS:-30}
pass=0; fail=0
for f in "$@"; do
  name=$(basename "$f")
  corpus=$(mktemp -d)
  [ -d "test/fuzz/corpus/$name" ] && cp -r "test/fuzz/corpus/$name/." "$corpus/"
  if "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 "$corpus" >"/tmp/$name.log" 2>&1; then
    pass=$((pass+1)); echo "fuzz $name: ok ($(grep -c . "/tmp/$name.log") log lines)"
  else
    fail=$((fail+1)); echo "fuzz $name: FAILED"; tail -40 "/tmp/$name.log"
  fi
  rm -rf "$corpus"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
