#!/usr/bin/env bash
# mmsqld vs MariaDB sysbench comparison (issues 2 and 3, "Performance").
#
# Starts a private MariaDB (Debian mariadb-server, /usr/sbin/mariadbd run
# directly, never the system service) and an mmsqld on temporary data
# directories, loads the same sysbench tables into both, then runs each
# workload/thread-count pair REPEAT times, alternating servers, and prints
# median throughput, the mmsqld/MariaDB ratio and p95 latencies, plus the
# measured fsync latency of the disk holding the data directories.
#
# sysbench runs with --auto_inc=off, so both servers hold ids 1..TABLE_SIZE:
# mmsqld's AUTO_INCREMENT steps by 16 (auto_increment_increment, as in Aurora
# multi-master), and with auto_inc=on its tables would get ids 1, 17, 33...,
# so that most of sysbench's random ids would miss on mmsqld and hit on
# MariaDB: a different, cheaper workload.
#
#   bench/run-bench.sh                 # issue-2 set (read)
#   bench/run-bench.sh --write         # issue-3 set (writes) only
#   SET=all bench/run-bench.sh         # both sets
#   SET=read DURATION=15 REPEAT=3 bench/run-bench.sh
#
# Knobs (environment variables; defaults in brackets):
#   SET          read | write | all                        [read]
#                  read : oltp_point_select, oltp_read_only  at READ_THREADS
#                  write: oltp_read_write, oltp_write_only,
#                         oltp_update_index                  at WRITE_THREADS
#                (--write on the command line = SET=write, --all = SET=all)
#   WORKLOADS    override the set: space-separated sysbench scripts, e.g.
#                "oltp_read_write" (threads: READ_THREADS for oltp_point_select
#                and oltp_read_only, WRITE_THREADS for the others)   [by SET]
#   TABLES       sysbench --tables                         [4]
#   TABLE_SIZE   sysbench --table-size                     [100000]
#   DURATION     seconds per sysbench run                  [20]
#   REPEAT       runs per (workload, threads, server)      [3]
#   WARMUP       seconds of oltp_read_only warm-up per server after load [10]
#   READ_THREADS  thread counts for the read set           ["1 8"]
#   WRITE_THREADS thread counts for the write set          ["1 8 32"]
#   PS_MODE      sysbench --db-ps-mode (auto = prepared statements) [auto]
#   RAND_TYPE    sysbench --rand-type (sysbench default)   [special]
#   MMSQLD       mmsqld binary   [build/mmsqld, else /tmp/mmsqld-test]
#   MARIADBD     MariaDB server binary                     [/usr/sbin/mariadbd]
#   MM_PORT / MARIA_PORT   TCP ports                       [23306 / 23307]
#   BUFFER_POOL  MariaDB innodb_buffer_pool_size           [1G]
#   BENCH_DIR    parent of the temporary work directory    [/tmp]
#   KEEP=1       keep the work directory (logs, data, raw sysbench output)
#   SKIP_DEPS=1  do not call scripts/install-deps.sh --bench
#   FSYNC_ITERS  iterations of the fsync probe             [200]
#
# Durability is comparable on both sides: MariaDB runs with
# innodb_flush_log_at_trx_commit=1, binary log off (sync_binlog=0),
# innodb_doublewrite on (default), performance_schema off, a BUFFER_POOL
# buffer pool; mmsqld runs with --innodb-flush-log-at-trx-commit=1 (fsync
# per commit group). Both listen on 127.0.0.1 and sysbench connects over
# TCP to both, as root with an empty password (MariaDB's grant tables are
# in force: root@127.0.0.1 is created over the private socket).
#
# Shape of a run (deterministic): load both, warm up both, then for each
# workload in order, for each thread count, for r in 1..REPEAT: run both
# servers back to back, mmsqld first on odd r, MariaDB first on even r.
# Both servers stay up for the whole run; only one is loaded at a time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
PY=/usr/bin/python3
LIB="$here/benchlib.py"

for a in "$@"; do
  case "$a" in
    --write) SET="write" ;;
    --all) SET=all ;;
    --read) SET="read" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $a (see --help)" >&2; exit 2 ;;
  esac
done

SET=${SET:-read}
USER_WORKLOADS=${WORKLOADS:-}
TABLES=${TABLES:-4}
TABLE_SIZE=${TABLE_SIZE:-100000}
DURATION=${DURATION:-20}
REPEAT=${REPEAT:-3}
WARMUP=${WARMUP:-10}
READ_THREADS=${READ_THREADS:-"1 8"}
WRITE_THREADS=${WRITE_THREADS:-"1 8 32"}
PS_MODE=${PS_MODE:-auto}
RAND_TYPE=${RAND_TYPE:-special}
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
MM_PORT=${MM_PORT:-23306}
MARIA_PORT=${MARIA_PORT:-23307}
BUFFER_POOL=${BUFFER_POOL:-1G}
BENCH_DIR=${BENCH_DIR:-/tmp}
KEEP=${KEEP:-0}
FSYNC_ITERS=${FSYNC_ITERS:-200}
if [ -z "${MMSQLD:-}" ]; then
  if [ -x "$root/build/mmsqld" ]; then MMSQLD="$root/build/mmsqld"; else MMSQLD=/tmp/mmsqld-test; fi
fi

case "$SET" in
  read)  WORKLOADS="oltp_point_select:R oltp_read_only:R" ;;
  write) WORKLOADS="oltp_read_write:W oltp_write_only:W oltp_update_index:W" ;;
  all)   WORKLOADS="oltp_point_select:R oltp_read_only:R oltp_read_write:W oltp_write_only:W oltp_update_index:W" ;;
  *) echo "SET must be read, write or all" >&2; exit 2 ;;
esac
if [ -n "$USER_WORKLOADS" ]; then
  WORKLOADS=""
  for w in $USER_WORKLOADS; do
    case "$w" in
      oltp_point_select|oltp_read_only|select_random_*) WORKLOADS="$WORKLOADS $w:R" ;;
      *) WORKLOADS="$WORKLOADS $w:W" ;;
    esac
  done
fi

# fd 9 = the script's stderr, so that messages from the traps (which may
# fire while a sysbench run's output is redirected to its log) reach it.
exec 9>&2
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&9; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- deps
if [ "${SKIP_DEPS:-0}" != 1 ]; then
  bash "$root/scripts/install-deps.sh" --bench >&2 || die "scripts/install-deps.sh --bench failed"
fi
[ -x "$MARIADBD" ] || die "$MARIADBD not found (install mariadb-server)"
command -v mariadb-install-db >/dev/null || die "mariadb-install-db not found (mariadb-server)"
command -v sysbench >/dev/null || die "sysbench not found"
command -v mariadb >/dev/null || die "mariadb client not found (mariadb-client)"
[ -x "$MMSQLD" ] || die "mmsqld binary $MMSQLD not found (make build/mmsqld or set MMSQLD)"
[ -x "$PY" ] || die "$PY not found"

# ---------------------------------------------------------------- work dir + cleanup
WORK=$(mktemp -d "$BENCH_DIR/mmsql-bench.XXXXXX")
MM_PID=""; MARIA_PID=""; SB_PID=""

stop_pid() {  # pid name
  local pid=$1 name=$2
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  log "$name (pid $pid) did not stop in 30 s; killing"
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  exec >&9 2>&9
  if [ -n "$SB_PID" ]; then kill -TERM "$SB_PID" 2>/dev/null || true; wait "$SB_PID" 2>/dev/null || true; fi
  stop_pid "$MM_PID" mmsqld
  stop_pid "$MARIA_PID" mariadbd
  if [ "$KEEP" = 1 ] || [ $rc -ne 0 ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free "$MM_PORT" || die "port $MM_PORT (MM_PORT) is in use"
port_free "$MARIA_PORT" || die "port $MARIA_PORT (MARIA_PORT) is in use"

# ---------------------------------------------------------------- MariaDB
start_mariadb() {
  local d="$WORK/maria"
  mkdir -p "$d/data" "$d/tmp"
  cat >"$d/my.cnf" <<EOF
[mariadbd]
datadir=$d/data
tmpdir=$d/tmp
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=$MARIA_PORT
bind-address=127.0.0.1
skip-name-resolve
max_connections=500
max_prepared_stmt_count=100000
performance_schema=OFF
skip-log-bin
sync_binlog=0
innodb_flush_log_at_trx_commit=1
innodb_buffer_pool_size=$BUFFER_POOL
innodb_log_file_size=512M
EOF
  log "initialising MariaDB datadir ($("$MARIADBD" --version | sed 's/ for .*//'))"
  mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
      --datadir="$d/data" --user=root >"$d/install.log" 2>&1 \
    || { tail -20 "$d/install.log" >&2; die "mariadb-install-db failed"; }
  "$MARIADBD" --defaults-file="$d/my.cnf" --user=root >"$d/stdout.log" 2>&1 &
  MARIA_PID=$!
  for _ in $(seq 300); do
    mariadb --no-defaults -S "$d/mysqld.sock" -uroot -e 'select 1' >/dev/null 2>&1 && break
    kill -0 "$MARIA_PID" 2>/dev/null || { tail -20 "$d/error.log" >&2; die "mariadbd exited"; }
    sleep 0.2
  done
  mariadb --no-defaults -S "$d/mysqld.sock" -uroot -e "
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    FLUSH PRIVILEGES;" || die "could not create root@127.0.0.1 in MariaDB"
  log "MariaDB up (pid $MARIA_PID, port $MARIA_PORT)"
}

# ---------------------------------------------------------------- mmsqld
start_mmsqld() {
  local d="$WORK/mm"
  mkdir -p "$d"
  # Run a private copy so a rebuild of build/mmsqld mid-run changes nothing.
  cp "$MMSQLD" "$d/mmsqld"
  "$d/mmsqld" --datadir="$d/data" --port="$MM_PORT" --bind-address=127.0.0.1 \
      --log-error="$d/error.log" --max-connections=500 \
      --innodb-flush-log-at-trx-commit=1 >"$d/stdout.log" 2>&1 &
  MM_PID=$!
  for _ in $(seq 300); do
    mariadb --no-defaults -h127.0.0.1 -P"$MM_PORT" -uroot -e 'select 1' >/dev/null 2>&1 && break
    kill -0 "$MM_PID" 2>/dev/null || { tail -20 "$d/error.log" "$d/stdout.log" >&2 2>/dev/null; die "mmsqld exited"; }
    sleep 0.2
  done
  log "mmsqld up (pid $MM_PID, port $MM_PORT, binary $MMSQLD)"
}

port_of() { if [ "$1" = mmsqld ]; then echo "$MM_PORT"; else echo "$MARIA_PORT"; fi; }
pid_of()  { if [ "$1" = mmsqld ]; then echo "$MM_PID"; else echo "$MARIA_PID"; fi; }

# sysbench runs in the background and the script waits for it, so that a
# signal reaches the traps at once (not only after the run) and the cleanup
# can stop sysbench too.
sb() {  # server workload threads seconds action [extra...]  (stdout/stderr as given)
  local srv=$1 w=$2 t=$3 secs=$4 action=$5; shift 5
  sb_cmd "$srv" "$w" "$t" "$secs" "$action" "$@" &
  SB_PID=$!
  local rc=0
  wait "$SB_PID" || rc=$?
  SB_PID=""
  return $rc
}
sb_cmd() {
  local srv=$1 w=$2 t=$3 secs=$4 action=$5; shift 5
  exec sysbench "$w" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$(port_of "$srv")" \
    --mysql-user=root --mysql-password= --mysql-db=sbtest \
    --tables="$TABLES" --table-size="$TABLE_SIZE" --threads="$t" --time="$secs" \
    --db-ps-mode="$PS_MODE" --rand-type="$RAND_TYPE" --percentile=95 \
    --auto_inc=off --report-interval=0 "$@" "$action"
}

check_alive() {
  kill -0 "$MM_PID" 2>/dev/null || { tail -20 "$WORK/mm/error.log" >&2; die "mmsqld died"; }
  kill -0 "$MARIA_PID" 2>/dev/null || { tail -20 "$WORK/maria/error.log" >&2; die "mariadbd died"; }
}

# ---------------------------------------------------------------- main
START=$(date +%s)
log "work dir $WORK; SET=$SET workloads:${WORKLOADS//:[RW]/} TABLES=$TABLES TABLE_SIZE=$TABLE_SIZE DURATION=$DURATION REPEAT=$REPEAT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
FSYNC_OUT=$("$PY" "$LIB" fsync "$WORK" "$FSYNC_ITERS")
echo "$FSYNC_OUT" >&2

start_mariadb
start_mmsqld

mkdir -p "$WORK/out"
for srv in mmsqld mariadb; do
  mariadb --no-defaults -h127.0.0.1 -P"$(port_of $srv)" -uroot \
    -e 'CREATE DATABASE IF NOT EXISTS sbtest' || die "CREATE DATABASE failed on $srv"
  log "loading $TABLES x $TABLE_SIZE rows into $srv"
  t0=$(date +%s)
  sb "$srv" oltp_read_only "$TABLES" 0 prepare >"$WORK/out/prepare-$srv.log" 2>&1 \
    || { tail -20 "$WORK/out/prepare-$srv.log" >&2; die "sysbench prepare failed on $srv"; }
  log "  $srv loaded in $(( $(date +%s) - t0 )) s"
done
if [ "$WARMUP" -gt 0 ]; then
  for srv in mmsqld mariadb; do
    log "warming up $srv (${WARMUP}s oltp_read_only, 4 threads)"
    sb "$srv" oltp_read_only 4 "$WARMUP" run >"$WORK/out/warmup-$srv.log" 2>&1 || true
  done
fi

RES="$WORK/results.tsv"
: >"$RES"
nruns=0
for wk in $WORKLOADS; do
  w=${wk%%:*}; kind=${wk##*:}
  if [ "$kind" = R ]; then threads=$READ_THREADS; else threads=$WRITE_THREADS; fi
  for t in $threads; do
    for r in $(seq "$REPEAT"); do
      if [ $((r % 2)) = 1 ]; then order="mmsqld mariadb"; else order="mariadb mmsqld"; fi
      for srv in $order; do
        check_alive
        f="$WORK/out/$w-$t-$srv-$r.log"
        sb "$srv" "$w" "$t" "$DURATION" run >"$f" 2>&1 || true
        read -r tps qps p95 err ok < <("$PY" "$LIB" parse "$f")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$t" "$srv" "$r" "$tps" "$qps" "$p95" "$err" "$ok" >>"$RES"
        log "$w t=$t r=$r $srv: tps=$tps qps=$qps p95=${p95}ms errors=$err ok=$ok"
        if [ "$ok" != 1 ]; then
          log "  run failed; last lines of $f:"; tail -5 "$f" | sed 's/^/    /' >&2
        fi
        nruns=$((nruns + 1))
      done
    done
  done
done
check_alive
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
FSYNC_END=$("$PY" "$LIB" fsync "$WORK" "$FSYNC_ITERS" | sed 's/^fsync latency on/fsync latency (again, after the runs) on/')

# ---------------------------------------------------------------- report
echo
echo "=== mmsqld vs MariaDB, sysbench $(sysbench --version | awk '{print $2}') ==="
echo "host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; kernel $(uname -r)"
echo "mmsqld:  $MMSQLD ($("$MMSQLD" --version 2>/dev/null | head -1)), --innodb-flush-log-at-trx-commit=1"
echo "MariaDB: $("$MARIADBD" --version | sed 's/ for .*//'); innodb_flush_log_at_trx_commit=1, binlog off,"
echo "         innodb_buffer_pool_size=$BUFFER_POOL, performance_schema=OFF, grant tables on (no --skip-grant-tables)"
echo "sysbench: --tables=$TABLES --table-size=$TABLE_SIZE --time=$DURATION --db-ps-mode=$PS_MODE --rand-type=$RAND_TYPE --auto_inc=off, TCP 127.0.0.1"
echo "runs: $nruns ($REPEAT repeats per cell, alternating servers), wall time $(( $(date +%s) - START )) s"
echo "load average (1/5/15 min): $LOAD_START at start, $LOAD_END at end (other load skews results)"
echo
"$PY" "$LIB" report "$RES"
echo
echo "$FSYNC_OUT"
echo "$FSYNC_END"
if [ "$KEEP" = 1 ]; then echo; echo "raw output: $WORK/out, results: $RES"; fi
