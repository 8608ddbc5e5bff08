/* test/unit/test_txn.c - snapshots, own writes, latest reads, iterators,
 * savepoints, commit. */
#include <stdlib.h>
#include <unistd.h>

#include "txn/txn.h"
#include "unit.h"

static char dir[64];
static store *st;

static int getv(txn *t, const char *k, int latest, char *out) {
  char *v;
  size_t n;
  int rc = txn_get(t, k, strlen(k), latest, &v, &n);
  if (rc == MM_OK) { memcpy(out, v, n); out[n] = 0; mm_free(v); }
  else out[0] = 0;
  return rc;
}

static int put(txn *t, const char *k, const char *v) { return txn_put(t, k, strlen(k), v, strlen(v)); }

static int commit(txn *t) { mm_error e; mm_error_clear(&e); return txn_commit(t, &e); }

TEST(own_writes_and_commit) {
  char b[64];
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK(!txn_has_writes(t));
  CHECK_EQ_INT(getv(t, "a", 0, b), MM_ENOTFOUND);
  CHECK_EQ_INT(put(t, "a", "1"), MM_OK);
  CHECK(txn_has_writes(t));
  CHECK_EQ_INT(getv(t, "a", 0, b), MM_OK);
  CHECK_EQ_STR(b, "1");
  CHECK_EQ_INT(txn_del(t, "a", 1), MM_OK);
  CHECK_EQ_INT(getv(t, "a", 1, b), MM_ENOTFOUND);
  CHECK_EQ_INT(put(t, "a", "2"), MM_OK);
  CHECK_EQ_INT(commit(t), MM_OK);
  t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(getv(t, "a", 0, b), MM_OK);
  CHECK_EQ_STR(b, "2");
  txn_rollback(t);
}

TEST(snapshot_isolation) {
  char b[64];
  txn *w = txn_begin(st, TXN_REPEATABLE_READ);
  put(w, "s", "old");
  CHECK_EQ_INT(commit(w), MM_OK);
  txn *r = txn_begin(st, TXN_REPEATABLE_READ);
  txn *rc = txn_begin(st, TXN_READ_COMMITTED);
  CHECK_EQ_INT(getv(r, "s", 0, b), MM_OK);
  CHECK_EQ_INT(getv(rc, "s", 0, b), MM_OK);
  w = txn_begin(st, TXN_REPEATABLE_READ);
  put(w, "s", "new");
  /* uncommitted: invisible to others, even latest */
  CHECK_EQ_INT(getv(r, "s", 1, b), MM_OK);
  CHECK_EQ_STR(b, "old");
  CHECK_EQ_INT(commit(w), MM_OK);
  CHECK_EQ_INT(getv(r, "s", 0, b), MM_OK);
  CHECK_EQ_STR(b, "old");
  CHECK_EQ_INT(getv(r, "s", 1, b), MM_OK);
  CHECK_EQ_STR(b, "new");
  txn_statement_start(r);
  CHECK_EQ_INT(getv(r, "s", 0, b), MM_OK);
  CHECK_EQ_STR(b, "old");
  CHECK_EQ_INT(getv(rc, "s", 0, b), MM_OK);
  CHECK_EQ_STR(b, "old");
  txn_statement_start(rc);
  CHECK_EQ_INT(getv(rc, "s", 0, b), MM_OK);
  CHECK_EQ_STR(b, "new");
  txn_rollback(r);
  txn_rollback(rc);
}

TEST(snapshot_now) {
  char b[64];
  txn *r = txn_begin(st, TXN_REPEATABLE_READ);
  txn_snapshot_now(r);
  txn *w = txn_begin(st, TXN_REPEATABLE_READ);
  put(w, "sn", "x");
  CHECK_EQ_INT(commit(w), MM_OK);
  CHECK_EQ_INT(getv(r, "sn", 0, b), MM_ENOTFOUND);
  txn_rollback(r);
}

static int collect(txn_iter *it, int rev, char *out) {
  out[0] = 0;
  int n = 0;
  for (; txn_iter_valid(it); rev ? txn_iter_prev(it) : txn_iter_next(it)) {
    size_t kl;
    const char *k = txn_iter_key(it, &kl);
    strncat(out, k, kl);
    strcat(out, ",");
    n++;
  }
  return n;
}

TEST(iterators_merge_own_writes) {
  char b[256];
  txn *w = txn_begin(st, TXN_REPEATABLE_READ);
  put(w, "i1", "");
  put(w, "i3", "");
  put(w, "i5", "");
  put(w, "j0", "");
  CHECK_EQ_INT(commit(w), MM_OK);
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  put(t, "i2", "");
  put(t, "i9", "");
  put(t, "j1", ""); /* beyond hi: must not show */
  put(t, "h9", ""); /* below lo */
  txn_del(t, "i3", 2);
  txn_iter *it = txn_iter_new(t, "i", 1, "j", 1, 0);
  txn_iter_seek(it, "", 0);
  collect(it, 0, b);
  CHECK_EQ_STR(b, "i1,i2,i5,i9,");
  txn_iter_seek_last(it);
  collect(it, 1, b);
  CHECK_EQ_STR(b, "i9,i5,i2,i1,");
  txn_iter_seek(it, "i4", 2);
  collect(it, 0, b);
  CHECK_EQ_STR(b, "i5,i9,");
  txn_iter_free(it);
  /* no own writes: plain iterator */
  txn *r = txn_begin(st, TXN_REPEATABLE_READ);
  it = txn_iter_new(r, "i", 1, "j", 1, 0);
  txn_iter_seek_last(it);
  collect(it, 1, b);
  CHECK_EQ_STR(b, "i5,i3,i1,");
  txn_iter_free(it);
  txn_rollback(r);
  txn_rollback(t);
}

TEST(savepoints) {
  char b[64];
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  put(t, "p", "0");
  CHECK_EQ_INT(txn_savepoint(t), MM_OK);   /* A */
  put(t, "p", "1");
  CHECK_EQ_INT(txn_savepoint(t), MM_OK);   /* B */
  put(t, "p", "2");
  put(t, "q", "2");
  CHECK_EQ_INT(txn_release_savepoint(t), MM_OK); /* B released: its writes stay */
  getv(t, "p", 0, b);
  CHECK_EQ_STR(b, "2");
  CHECK_EQ_INT(txn_savepoint(t), MM_OK);   /* C */
  put(t, "p", "3");
  CHECK_EQ_INT(txn_rollback_to_savepoint(t), MM_OK); /* to C */
  getv(t, "p", 0, b);
  CHECK_EQ_STR(b, "2");
  CHECK_EQ_INT(txn_rollback_to_savepoint(t), MM_OK); /* to A (through orphan B) */
  getv(t, "p", 0, b);
  CHECK_EQ_STR(b, "0");
  CHECK_EQ_INT(getv(t, "q", 0, b), MM_ENOTFOUND);
  CHECK_EQ_INT(txn_rollback_to_savepoint(t), MM_ENOTFOUND);
  /* empty savepoints released for real */
  for (int i = 0; i < 100; i++) {
    CHECK_EQ_INT(txn_savepoint(t), MM_OK);
    CHECK_EQ_INT(txn_release_savepoint(t), MM_OK);
  }
  CHECK_EQ_INT(commit(t), MM_OK);
  t = txn_begin(st, TXN_REPEATABLE_READ);
  getv(t, "p", 0, b);
  CHECK_EQ_STR(b, "0");
  txn_rollback(t);
}

TEST(rollback_discards) {
  char b[64];
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  put(t, "rb", "x");
  txn_rollback(t);
  t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(getv(t, "rb", 1, b), MM_ENOTFOUND);
  mm_buf mb;
  mm_buf_init(&mb);
  CHECK_EQ_INT(txn_get_buf(t, "a", 1, 0, &mb), MM_OK);
  CHECK_EQ_INT(mb.len, 1);
  mm_buf_free(&mb);
  txn_rollback(t);
}

static uint64_t seqno(void) { return rocksdb_get_latest_sequence_number(store_db(st)); }

/* Commit t; returns how many records RocksDB got (its sequence number
 * advances by one per record), or -1 if the commit failed. */
static int64_t commit_records(txn *t) {
  uint64_t s0 = seqno();
  if (commit(t) != MM_OK) return -1;
  return (int64_t)(seqno() - s0);
}

/* The write set carries each key once, with its last write: a key written
 * twice would otherwise be two versions in the memtable.  RocksDB's
 * sequence number advances by one per record written. */
TEST(commit_writes_each_key_once) {
  char b[64];
  /* overhead of a commit (the applied position) beside its records */
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  put(t, "e1", "1");
  txn_del(t, "e2", 2);
  int64_t overhead = commit_records(t) - 2;
  CHECK(overhead >= 0);

  t = txn_begin(st, TXN_REPEATABLE_READ);
  put(t, "d1", "1");
  txn_del(t, "d1", 2);
  put(t, "d1", "2");   /* deleted, then written again: the value stays */
  put(t, "d2", "x");
  txn_del(t, "d2", 2); /* written, then deleted: gone */
  put(t, "d3", "y");
  put(t, "d3", "z");
  txn_del(t, "d4", 2);
  CHECK_EQ_INT(commit_records(t), 4 + overhead);
  t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(getv(t, "d1", 0, b), MM_OK);
  CHECK_EQ_STR(b, "2");
  CHECK_EQ_INT(getv(t, "d2", 0, b), MM_ENOTFOUND);
  CHECK_EQ_INT(getv(t, "d3", 0, b), MM_OK);
  CHECK_EQ_STR(b, "z");
  CHECK_EQ_INT(getv(t, "d4", 0, b), MM_ENOTFOUND);
  txn_rollback(t);

  /* many keys, each written three times, interleaved */
  t = txn_begin(st, TXN_REPEATABLE_READ);
  char k[16], v[16];
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < 300; i++) {
      snprintf(k, sizeof k, "m%03d", i);
      snprintf(v, sizeof v, "%d", r);
      put(t, k, v);
    }
  CHECK_EQ_INT(commit_records(t), 300 + overhead);
  t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(getv(t, "m123", 0, b), MM_OK);
  CHECK_EQ_STR(b, "2");
  txn_rollback(t);

  /* no repeated key: the batch is written as it is */
  t = txn_begin(st, TXN_REPEATABLE_READ);
  put(t, "u1", "1");
  put(t, "u2", "2");
  put(t, "u3", "3");
  CHECK_EQ_INT(commit_records(t), 3 + overhead);
}

/* txn_version: the same while the txn only reads; new after each write,
 * each rollback to a savepoint, and for every new txn of the thread. */
TEST(version_moves_with_own_changes) {
  char b[64];
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  uint64_t v0 = txn_version(t);
  getv(t, "va", 1, b);
  getv(t, "va", 0, b);
  CHECK(txn_version(t) == v0);
  CHECK_EQ_INT(put(t, "va", "1"), MM_OK);
  uint64_t v1 = txn_version(t);
  CHECK(v1 != v0);
  CHECK_EQ_INT(txn_savepoint(t), MM_OK);
  CHECK(txn_version(t) == v1);
  CHECK_EQ_INT(txn_del(t, "va", 2), MM_OK);
  uint64_t v2 = txn_version(t);
  CHECK(v2 != v1);
  CHECK_EQ_INT(txn_rollback_to_savepoint(t), MM_OK); /* "va" is back: a change too */
  CHECK(txn_version(t) != v2 && txn_version(t) != v1);
  uint64_t v3 = txn_version(t);
  txn_rollback(t);
  txn *u = txn_begin(st, TXN_REPEATABLE_READ); /* (the same struct, recycled) */
  CHECK(txn_version(u) != v0 && txn_version(u) != v1 && txn_version(u) != v2 && txn_version(u) != v3);
  txn_rollback(u);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mm_test_txn.%d", (int)getpid());
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  char *em;
  if (store_open(dir, &st, &em) != MM_OK) { fprintf(stderr, "open: %s\n", em); return 1; }
  RUN(own_writes_and_commit);
  RUN(snapshot_isolation);
  RUN(snapshot_now);
  RUN(iterators_merge_own_writes);
  RUN(savepoints);
  RUN(rollback_discards);
  RUN(commit_writes_each_key_once);
  RUN(version_moves_with_own_changes);
  store_close(st);
  if (system(cmd)) {}
  return unit_report("txn");
}
