#!/bin/sh
# bench/raft-bench.sh - Raft log benchmark (see tools/raft-bench.c).
# 3 members on loopback, fsync on; 200 B and 4 KiB entries; 1 and 64
# submitters; submissions on the leader and on a follower.  Prints committed
# entries/s and p50/p99 commit latency next to the fsync and loopback floor.
#
#   bench/raft-bench.sh [--seconds S] [--dir DIR] [--size 200|4096] [--submitters 1|64]
#     DIR defaults to ./bench-raft-data: put it on the disk you want to measure;
#     --size / --submitters run only the matching rows.
# The machine is often shared: run it several times and compare medians.
set -e
cd "$(dirname "$0")/.."
if ! make -s build/raft-bench 2>/dev/null; then
  # Other modules may not build yet: link the benchmark against raft + util only.
  make -s build/lib/libmm_raft.a build/lib/libmm_util.a
  cc -std=gnu11 -O2 -g -D_GNU_SOURCE -Isrc -o build/raft-bench tools/raft-bench.c \
     build/lib/libmm_raft.a build/lib/libmm_util.a -lpthread
fi
exec build/raft-bench "$@"
