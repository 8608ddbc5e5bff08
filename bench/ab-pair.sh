#!/bin/bash
# bench/ab-pair.sh - compare two mmsqld builds (or settings) by running them
# at the same time on the same machine.
#
#   bench/ab-pair.sh PRISTINE WORKLOAD THREADS SECONDS "A-BINARY [VAR=val ...]" "B-BINARY [VAR=val ...]"
#
# PRISTINE is a stopped mmsqld data directory already loaded with sysbench's
# tables (4 x 100k rows in database sbtest, --auto_inc=off; its
# PRISTINE-commitlog beside it is copied too).  Each side gets a fresh copy
# of it, its own port (23406, 23416) and its own sysbench; both are warmed
# for 6 s together, then measured for SECONDS together.  Printed: each
# side's tps, p95 and server CPU per transaction (utime+stime of the whole
# process), and B/A for tps and CPU.
#
# Why: on a shared 2-CPU machine the speed available to one run drifts by
# 10-30% within minutes, more than most changes are worth, so alternating
# solo runs need many repeats.  Two servers running at once see the same
# machine; the CPU-per-transaction ratio of two identical builds stays
# within about 1%.  Each side gets about half the machine, so a side runs
# at roughly half its solo throughput: effects that depend on the write
# rate (memtable age, flush frequency) are larger here than in a solo run.
# Swap A and B between repeats.
set -eu
[ $# -ge 6 ] || { sed -n 2,22p "$0"; exit 2; }
PRISTINE=$1; W=$2; T=$3; S=$4
read -r -a A <<<"$5"
read -r -a B <<<"$6"
WORK=$(mktemp -d /tmp/mmsql-abpair.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # side port binary [VAR=val ...]
  local side=$1 port=$2 bin=$3
  shift 3
  cp -a "$PRISTINE" "$WORK/$side"
  if [ -d "$PRISTINE-commitlog" ]; then cp -a "$PRISTINE-commitlog" "$WORK/$side-commitlog"; fi
  cp "$bin" "$WORK/mmsqld-$side"
  env "$@" "$WORK/mmsqld-$side" --datadir="$WORK/$side" --port="$port" --bind-address=127.0.0.1 \
    >"$WORK/$side.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    mariadb -h127.0.0.1 -P"$port" -uroot -e "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "side $side did not start:" >&2
  tail -5 "$WORK/$side.log" >&2
  exit 1
}

sb() { # port seconds
  sysbench "$W" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" --mysql-user=root \
    --mysql-db=sbtest --tables=4 --table-size=100000 --auto_inc=off --threads="$T" --time="$2" \
    --report-interval=0 run 2>&1
}

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start a 23406 "${A[@]}"
start b 23416 "${B[@]}"
both() { # seconds outA outB: both sysbench runs at once (wait for those two only: the servers are children too)
  sb 23406 "$1" >"$2" & local p1=$!
  sb 23416 "$1" >"$3" & local p2=$!
  wait "$p1" "$p2"
}
both 6 /dev/null /dev/null
ca0=$(cpu "${PIDS[0]}"); cb0=$(cpu "${PIDS[1]}")
both "$S" "$WORK/a.out" "$WORK/b.out"
ca1=$(cpu "${PIDS[0]}"); cb1=$(cpu "${PIDS[1]}")
tick=$(getconf CLK_TCK)
txn() { awk '/transactions:/{print $2}' "$1"; }
p95() { awk '/95th/{print $3}' "$1"; }
awk -v xa="$(txn "$WORK/a.out")" -v xb="$(txn "$WORK/b.out")" -v pa="$(p95 "$WORK/a.out")" \
    -v pb="$(p95 "$WORK/b.out")" -v ca=$((ca1 - ca0)) -v cb=$((cb1 - cb0)) -v s="$S" -v tick="$tick" \
    -v na="$5" -v nb="$6" 'BEGIN {
  if (xa == 0 || xb == 0) { print "a side made no transactions"; exit 1 }
  ua = ca * 1e6 / tick / xa; ub = cb * 1e6 / tick / xb
  printf "A [%s] tps %.0f p95 %s ms cpu %.0f us/txn\n", na, xa / s, pa, ua
  printf "B [%s] tps %.0f p95 %s ms cpu %.0f us/txn\n", nb, xb / s, pb, ub
  printf "B/A tps %.3f cpu/txn %.3f\n", xb / xa, ub / ua
}'
