/* test/unit/test_txn_lock.c - the row lock manager (txn/lock.c): S/X
 * compatibility, re-entrance and upgrade, waits and timeouts, deadlock
 * cycles of 2 and 3, NOWAIT / SKIP LOCKED, brute-force abort; and the txn
 * wrappers (txn_lock_row, txn_aborted, txn_bf_abort). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "txn/lock.h"
#include "txn/txn.h"
#include "unit.h"

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int acq(lock_owner *o, const char *k, int mode, int policy, int64_t to, mm_error *e) {
  mm_error_clear(e);
  return lock_acquire(o, k, strlen(k), mode, policy, to, e);
}

TEST(compat_s_x) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "r1", LOCK_S, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(b, "r1", LOCK_S, LOCK_WAIT, 0, &e), MM_OK); /* S + S */
  CHECK_EQ_INT(acq(b, "r1", LOCK_X, LOCK_NOWAIT, 0, &e), MM_ESQL); /* S blocks X */
  CHECK_EQ_INT(e.code, 3572);
  CHECK_EQ_INT(acq(a, "r1", LOCK_X, LOCK_SKIP, 0, &e), MM_EBUSY);
  CHECK_EQ_INT(e.code, 0);
  lock_release_all(b);
  CHECK_EQ_INT(acq(a, "r1", LOCK_X, LOCK_NOWAIT, 0, &e), MM_OK); /* upgrade, alone */
  CHECK_EQ_INT(acq(a, "r1", LOCK_S, LOCK_NOWAIT, 0, &e), MM_OK); /* re-entrant, X covers S */
  CHECK_EQ_INT(acq(b, "r1", LOCK_S, LOCK_NOWAIT, 0, &e), MM_ESQL); /* X blocks S */
  CHECK_EQ_INT(acq(b, "r2", LOCK_X, LOCK_NOWAIT, 0, &e), MM_OK); /* other key */
  CHECK_EQ_INT(lock_owner_count(a), 1);
  CHECK_EQ_INT(lock_owner_count(b), 1);
  lock_release_all(a);
  lock_release_all(b);
  CHECK_EQ_INT(acq(b, "r1", LOCK_X, LOCK_NOWAIT, 0, &e), MM_OK);
  lock_release_all(b);
  lock_owner_free(a);
  lock_owner_free(b);
}

TEST(timeout_1205) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "t1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  uint64_t t0 = now_ms();
  CHECK_EQ_INT(acq(b, "t1", LOCK_X, LOCK_WAIT, 200, &e), MM_ESQL);
  uint64_t took = now_ms() - t0;
  CHECK_EQ_INT(e.code, 1205);
  CHECK_EQ_STR(e.sqlstate, "HY000");
  CHECK(took >= 190 && took < 1000);
  CHECK(!lock_owner_aborted(b)); /* a timeout does not abort the transaction */
  lock_stats st;
  lock_get_stats(&st);
  CHECK(st.timeouts >= 1);
  CHECK_EQ_INT(st.current_waits, 0);
  lock_release_all(a);
  lock_release_all(b);
  lock_owner_free(a);
  lock_owner_free(b);
}

/* A thread that acquires one lock and records the outcome. */
typedef struct waiter_arg {
  lock_owner *o;
  const char *key;
  int mode;
  int64_t timeout;
  int rc, code;
  uint64_t took;
} waiter_arg;

static void *waiter(void *p) {
  waiter_arg *w = p;
  mm_error e;
  uint64_t t0 = now_ms();
  w->rc = acq(w->o, w->key, w->mode, LOCK_WAIT, w->timeout, &e);
  w->code = e.code;
  w->took = now_ms() - t0;
  return NULL;
}

static void wait_waiting(int n) {
  for (int i = 0; i < 2000; i++) {
    lock_stats st;
    lock_get_stats(&st);
    if (st.current_waits >= n) return;
    usleep(1000);
  }
}

static _Atomic int g_kill;

static void *set_kill_later(void *arg) {
  usleep(250000);
  g_kill = 1;
  return NULL;
}

TEST(interrupt_ends_wait) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "i1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  g_kill = 0;
  lock_owner_set_interrupt(b, &g_kill);
  pthread_t th;
  pthread_create(&th, NULL, set_kill_later, NULL);
  uint64_t t0 = now_ms();
  CHECK_EQ_INT(acq(b, "i1", LOCK_X, LOCK_WAIT, 10000, &e), MM_ESQL); /* KILL, not the 10 s timeout */
  uint64_t took = now_ms() - t0;
  pthread_join(th, NULL);
  CHECK_EQ_INT(e.code, 1317);
  CHECK_EQ_STR(e.sqlstate, "70100");
  CHECK(took >= 200 && took < 1000);
  CHECK(!lock_owner_aborted(b)); /* only the statement ends */
  lock_stats st;
  lock_get_stats(&st);
  CHECK_EQ_INT(st.current_waits, 0);
  /* cleared flag: waits and timeouts work as before */
  g_kill = 0;
  CHECK_EQ_INT(acq(b, "i1", LOCK_X, LOCK_WAIT, 300, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1205);
  lock_release_all(a);
  CHECK_EQ_INT(acq(b, "i1", LOCK_X, LOCK_WAIT, 300, &e), MM_OK);
  lock_release_all(b);
  lock_owner_free(a);
  lock_owner_free(b);
}

TEST(wait_then_granted) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "w1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w = {b, "w1", LOCK_S, 5000, 0, 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, waiter, &w);
  wait_waiting(1);
  usleep(50000);
  lock_release_all(a);
  pthread_join(th, NULL);
  CHECK_EQ_INT(w.rc, MM_OK);
  CHECK(w.took >= 40 && w.took < 2000);
  lock_release_all(b);
  lock_owner_free(a);
  lock_owner_free(b);
}

TEST(deadlock_cycle_of_2) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "d1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(b, "d2", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w = {a, "d2", LOCK_X, 10000, 0, 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, waiter, &w); /* a waits for b */
  wait_waiting(1);
  uint64_t t0 = now_ms();
  CHECK_EQ_INT(acq(b, "d1", LOCK_X, LOCK_WAIT, 10000, &e), MM_ESQL); /* b closes the cycle */
  CHECK(now_ms() - t0 < 100); /* at once */
  CHECK_EQ_INT(e.code, 1213);
  CHECK_EQ_STR(e.sqlstate, "40001");
  CHECK(lock_owner_aborted(b));
  CHECK_EQ_INT(lock_owner_count(b), 0); /* the victim's locks are released: a proceeds */
  pthread_join(th, NULL);
  CHECK_EQ_INT(w.rc, MM_OK);
  CHECK(w.took < 2000);
  CHECK_EQ_INT(acq(b, "zz", LOCK_S, LOCK_WAIT, 0, &e), MM_ESQL); /* aborted is sticky */
  CHECK_EQ_INT(e.code, 1213);
  lock_release_all(a);
  lock_owner_reset(b);
  CHECK(!lock_owner_aborted(b));
  lock_owner_free(a);
  lock_owner_free(b);
}

TEST(deadlock_victim_is_the_smaller) {
  /* b (the requester, younger) holds 3 locks, a holds 1: a is the victim */
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "v1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(b, "v2", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(b, "v3", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(b, "v4", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w = {a, "v2", LOCK_X, 10000, 0, 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, waiter, &w); /* a waits for b */
  wait_waiting(1);
  lock_stats s0, s1;
  lock_get_stats(&s0);
  uint64_t t0 = now_ms();
  CHECK_EQ_INT(acq(b, "v1", LOCK_X, LOCK_WAIT, 10000, &e), MM_OK); /* b closes the cycle, a loses */
  CHECK(now_ms() - t0 < 1000);
  pthread_join(th, NULL);
  CHECK_EQ_INT(w.rc, MM_ESQL);
  CHECK_EQ_INT(w.code, 1213);
  CHECK(w.took < 2000);
  CHECK(lock_owner_aborted(a));
  CHECK(!lock_owner_aborted(b));
  CHECK_EQ_INT(lock_owner_count(a), 0);
  CHECK_EQ_INT(lock_owner_count(b), 4);
  lock_get_stats(&s1);
  CHECK_EQ_INT(s1.deadlocks - s0.deadlocks, 1);
  lock_release_all(b);
  lock_owner_free(a);
  lock_owner_free(b);
}

TEST(deadlock_cycle_of_3) {
  mm_error e;
  lock_owner *o[3];
  for (int i = 0; i < 3; i++) o[i] = lock_owner_new();
  CHECK_EQ_INT(acq(o[0], "c0", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(o[1], "c1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(o[2], "c2", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w0 = {o[0], "c1", LOCK_X, 10000, 0, 0, 0}; /* 0 -> 1 */
  waiter_arg w1 = {o[1], "c2", LOCK_X, 10000, 0, 0, 0}; /* 1 -> 2 */
  pthread_t t0, t1;
  pthread_create(&t0, NULL, waiter, &w0);
  wait_waiting(1);
  pthread_create(&t1, NULL, waiter, &w1);
  wait_waiting(2);
  CHECK_EQ_INT(acq(o[2], "c0", LOCK_X, LOCK_WAIT, 10000, &e), MM_ESQL); /* 2 -> 0: cycle */
  CHECK_EQ_INT(e.code, 1213);
  pthread_join(t1, NULL); /* 1 gets c2 from the victim */
  CHECK_EQ_INT(w1.rc, MM_OK);
  lock_release_all(o[1]);
  pthread_join(t0, NULL);
  CHECK_EQ_INT(w0.rc, MM_OK);
  lock_release_all(o[0]);
  for (int i = 0; i < 3; i++) lock_owner_free(o[i]);
}

TEST(no_false_deadlock_on_chain) {
  /* 0 -> 1 -> 2 (a chain, no cycle): 2 waiting for an unrelated key of
   * a fourth owner is no deadlock. */
  mm_error e;
  lock_owner *o[4];
  for (int i = 0; i < 4; i++) o[i] = lock_owner_new();
  CHECK_EQ_INT(acq(o[1], "n1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(o[3], "n3", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w0 = {o[0], "n1", LOCK_X, 300, 0, 0, 0};
  pthread_t t0;
  pthread_create(&t0, NULL, waiter, &w0);
  wait_waiting(1);
  CHECK_EQ_INT(acq(o[1], "n3", LOCK_X, LOCK_WAIT, 100, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1205); /* waited, timed out: not a deadlock */
  pthread_join(t0, NULL);
  CHECK_EQ_INT(w0.code, 1205);
  for (int i = 0; i < 4; i++) { lock_release_all(o[i]); lock_owner_free(o[i]); }
}

TEST(upgrade_deadlock) {
  /* both hold S, both want X: the second requester is the victim */
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new();
  CHECK_EQ_INT(acq(a, "u1", LOCK_S, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(b, "u1", LOCK_S, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w = {a, "u1", LOCK_X, 10000, 0, 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, waiter, &w);
  wait_waiting(1);
  CHECK_EQ_INT(acq(b, "u1", LOCK_X, LOCK_WAIT, 10000, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1213);
  pthread_join(th, NULL);
  CHECK_EQ_INT(w.rc, MM_OK);
  lock_release_all(a);
  lock_owner_free(a);
  lock_owner_free(b);
}

TEST(bf_abort_idle_and_waiting) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *b = lock_owner_new(), *ap = lock_owner_new();
  /* idle holder: aborted, its locks released, the applier gets the row */
  CHECK_EQ_INT(acq(a, "b1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(a, "b2", LOCK_S, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(lock_bf_abort("b1", 2, ap), 1);
  CHECK(lock_owner_aborted(a));
  CHECK_EQ_INT(lock_owner_count(a), 0);
  CHECK_EQ_INT(acq(ap, "b1", LOCK_X, LOCK_NOWAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(a, "b3", LOCK_S, LOCK_WAIT, 0, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1213);
  lock_release_all(ap);
  /* a holder that is itself waiting: woken at once with 1213 */
  lock_owner_reset(a);
  CHECK_EQ_INT(acq(b, "b5", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  CHECK_EQ_INT(acq(a, "b4", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  waiter_arg w = {a, "b5", LOCK_X, 10000, 0, 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, waiter, &w);
  wait_waiting(1);
  CHECK_EQ_INT(lock_bf_abort("b4", 2, ap), 1);
  pthread_join(th, NULL);
  CHECK_EQ_INT(w.rc, MM_ESQL);
  CHECK_EQ_INT(w.code, 1213);
  CHECK(w.took < 2000);
  CHECK_EQ_INT(lock_bf_abort("nobody", 6, ap), 0);
  lock_stats st;
  lock_get_stats(&st);
  CHECK(st.bf_aborts >= 2);
  lock_release_all(b);
  lock_owner_free(a);
  lock_owner_free(b);
  lock_owner_free(ap);
}

/* Turn order: a release wakes the oldest waiter (and the shared requests
 * queued before the first exclusive one), not everybody; a woken waiter
 * that leaves without the lock passes the turn on. */
static int done_count(waiter_arg *w, int n) {
  int d = 0;
  for (int i = 0; i < n; i++) d += w[i].took != 0;
  return d;
}

TEST(fifo_handoff) {
  mm_error e;
  lock_owner *a = lock_owner_new(), *o[4];
  for (int i = 0; i < 4; i++) o[i] = lock_owner_new();
  CHECK_EQ_INT(acq(a, "f1", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  /* queue: o0 X, o1 S, o2 S, o3 X (arrival order fixed by waiting in turn) */
  int modes[4] = {LOCK_X, LOCK_S, LOCK_S, LOCK_X};
  waiter_arg w[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (waiter_arg){o[i], "f1", modes[i], 10000, 0, 0, 0};
    pthread_create(&th[i], NULL, waiter, &w[i]);
    wait_waiting(i + 1);
  }
  lock_release_all(a); /* -> o0 only */
  pthread_join(th[0], NULL);
  CHECK_EQ_INT(w[0].rc, MM_OK);
  usleep(50000);
  CHECK_EQ_INT(done_count(w + 1, 3), 0);
  lock_release_all(o[0]); /* -> o1 and o2 together, o3 still waits */
  pthread_join(th[1], NULL);
  pthread_join(th[2], NULL);
  CHECK_EQ_INT(w[1].rc, MM_OK);
  CHECK_EQ_INT(w[2].rc, MM_OK);
  usleep(50000);
  CHECK_EQ_INT(done_count(w + 3, 1), 0);
  lock_release_all(o[1]);
  lock_release_all(o[2]);
  pthread_join(th[3], NULL);
  CHECK_EQ_INT(w[3].rc, MM_OK);
  lock_release_all(o[3]);

  /* the first waiter is aborted while woken: the next one still gets it */
  CHECK_EQ_INT(acq(a, "f2", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  lock_owner_reset(o[0]);
  CHECK_EQ_INT(acq(o[0], "f3", LOCK_S, LOCK_WAIT, 0, &e), MM_OK);
  w[0] = (waiter_arg){o[0], "f2", LOCK_X, 10000, 0, 0, 0};
  w[1] = (waiter_arg){o[1], "f2", LOCK_X, 10000, 0, 0, 0};
  pthread_create(&th[0], NULL, waiter, &w[0]);
  wait_waiting(1);
  pthread_create(&th[1], NULL, waiter, &w[1]);
  wait_waiting(2);
  CHECK_EQ_INT(lock_bf_abort("f3", 2, a), 1); /* o0 leaves with 1213 */
  pthread_join(th[0], NULL);
  CHECK_EQ_INT(w[0].code, 1213);
  lock_release_all(a);
  pthread_join(th[1], NULL);
  CHECK_EQ_INT(w[1].rc, MM_OK);
  CHECK(w[1].took < 5000);
  lock_release_all(o[1]);

  /* a waiter that times out first passes the turn too */
  CHECK_EQ_INT(acq(a, "f4", LOCK_X, LOCK_WAIT, 0, &e), MM_OK);
  w[2] = (waiter_arg){o[2], "f4", LOCK_X, 100, 0, 0, 0};
  w[3] = (waiter_arg){o[3], "f4", LOCK_X, 10000, 0, 0, 0};
  pthread_create(&th[2], NULL, waiter, &w[2]);
  wait_waiting(1);
  pthread_create(&th[3], NULL, waiter, &w[3]);
  pthread_join(th[2], NULL);
  CHECK_EQ_INT(w[2].code, 1205);
  lock_release_all(a);
  pthread_join(th[3], NULL);
  CHECK_EQ_INT(w[3].rc, MM_OK);
  lock_release_all(o[3]);
  lock_owner_free(a);
  for (int i = 0; i < 4; i++) lock_owner_free(o[i]);
}

/* ---- through the txn layer ------------------------------------------------------ */
static char dir[64];
static store *st;

TEST(txn_lock_and_bf_abort) {
  mm_error e;
  mm_error_clear(&e);
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(txn_lock_row(t, "\x10rowA", 5, TXN_LOCK_X, TXN_WAIT, &e), MM_OK);
  CHECK_EQ_INT(txn_put(t, "\x10rowA", 5, "v", 1), MM_OK);
  CHECK(!txn_aborted(t));
  CHECK_EQ_INT(txn_bf_abort("\x10rowA", 5, NULL), 1);
  CHECK(txn_aborted(t));
  CHECK_EQ_INT(txn_commit(t, &e), MM_ESQL); /* 1213 at COMMIT, rolled back */
  CHECK_EQ_INT(e.code, 1213);
  t = txn_begin(st, TXN_REPEATABLE_READ);
  char *v;
  size_t n;
  CHECK_EQ_INT(txn_get(t, "\x10rowA", 5, 1, &v, &n), MM_ENOTFOUND);
  CHECK(!txn_aborted(t)); /* a recycled txn starts clean */
  CHECK_EQ_INT(txn_lock_row(t, "\x10rowA", 5, TXN_LOCK_X, TXN_NOWAIT, &e), MM_OK);
  txn_rollback(t); /* releases */
  t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(txn_lock_row(t, "\x10rowA", 5, TXN_LOCK_X, TXN_NOWAIT, &e), MM_OK);
  txn_rollback(t);
}

typedef struct incr_arg { int n; int fails; } incr_arg;

/* read-modify-write under an X lock, from many threads: no lost update */
static void *incr(void *p) {
  incr_arg *a = p;
  for (int i = 0; i < a->n; i++) {
    mm_error e;
    mm_error_clear(&e);
    txn *t = txn_begin(st, TXN_REPEATABLE_READ);
    txn_set_lock_wait_timeout(t, 10000);
    if (txn_lock_row(t, "\x10" "ctr", 4, TXN_LOCK_X, TXN_WAIT, &e) != MM_OK) { a->fails++; txn_rollback(t); continue; }
    char *v = NULL;
    size_t n = 0;
    long x = 0;
    if (txn_get(t, "\x10" "ctr", 4, 1, &v, &n) == MM_OK) { x = strtol(v, NULL, 10); mm_free(v); }
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%ld", x + 1);
    txn_put(t, "\x10" "ctr", 4, buf, (size_t)l);
    if (txn_commit(t, &e) != MM_OK) a->fails++;
  }
  return NULL;
}

TEST(txn_no_lost_update) {
  pthread_t th[8];
  incr_arg a[8];
  for (int i = 0; i < 8; i++) { a[i] = (incr_arg){200, 0}; pthread_create(&th[i], NULL, incr, &a[i]); }
  int fails = 0;
  for (int i = 0; i < 8; i++) { pthread_join(th[i], NULL); fails += a[i].fails; }
  CHECK_EQ_INT(fails, 0);
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  char *v;
  size_t n;
  CHECK_EQ_INT(txn_get(t, "\x10" "ctr", 4, 1, &v, &n), MM_OK);
  CHECK_EQ_INT(strtol(v, NULL, 10), 1600);
  mm_free(v);
  txn_rollback(t);
  txn_stats ts;
  txn_get_stats(st, &ts);
  CHECK(ts.commit_groups <= ts.commits);
  printf("  group commit: %llu commits in %llu synced writes\n", (unsigned long long)ts.commits,
         (unsigned long long)ts.commit_groups);
}

TEST(oldest_snapshot_age) {
  CHECK_EQ_INT(txn_oldest_snapshot_age_ms(), 0);
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  txn_snapshot_now(t);
  usleep(60000);
  CHECK(txn_oldest_snapshot_age_ms() >= 50);
  txn_rollback(t);
  CHECK_EQ_INT(txn_oldest_snapshot_age_ms(), 0);
}

int main(void) {
  RUN(compat_s_x);
  RUN(timeout_1205);
  RUN(interrupt_ends_wait);
  RUN(wait_then_granted);
  RUN(deadlock_cycle_of_2);
  RUN(deadlock_victim_is_the_smaller);
  RUN(deadlock_cycle_of_3);
  RUN(no_false_deadlock_on_chain);
  RUN(upgrade_deadlock);
  RUN(bf_abort_idle_and_waiting);
  RUN(fifo_handoff);
  snprintf(dir, sizeof dir, "/tmp/mmsql-txnlock-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  char *em = NULL;
  if (store_open(dir, &st, &em) != MM_OK) { fprintf(stderr, "open: %s\n", em); return 1; }
  RUN(txn_lock_and_bf_abort);
  RUN(txn_no_lost_update);
  RUN(oldest_snapshot_age);
  store_close(st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  return unit_report("txn_lock");
}
