/* test/unit/test_txn_commit.c - the commit pipeline (txn/commit.c):
 * certification verdicts (first committer wins against writes ordered
 * after the base), group commit (many commits, few synced writes), the
 * applied position stored with the data and read back after reopening. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "txn/commit.h"
#include "txn/txn.h"
#include "unit.h"

static char dir[64];
static store *st;

/* A write set putting key=val, with certification keys = the same keys. */
typedef struct tws {
  cm_ws ws;
  rocksdb_writebatch_t *wb;
  mm_buf keys;
} tws;

static void tws_init(tws *t, uint64_t base, const char *const *kv, int n) {
  memset(t, 0, sizeof *t);
  t->wb = rocksdb_writebatch_create();
  mm_buf_init(&t->keys);
  for (int i = 0; i < n; i++) {
    const char *k = kv[2 * i], *v = kv[2 * i + 1];
    rocksdb_writebatch_put(t->wb, k, strlen(k), v, strlen(v));
    unsigned char l[4];
    mm_put_u32le(l, (uint32_t)strlen(k));
    mm_buf_append(&t->keys, l, 4);
    mm_buf_append(&t->keys, k, strlen(k));
  }
  t->ws.base = base;
  t->ws.batch = rocksdb_writebatch_data(t->wb, &t->ws.batch_len);
  t->ws.keys = t->keys.p;
  t->ws.keys_len = t->keys.len;
}

static void tws_free(tws *t) {
  rocksdb_writebatch_destroy(t->wb);
  mm_buf_free(&t->keys);
}

static int commit1(cm_pipe *p, uint64_t base, const char *k, const char *v, mm_error *e) {
  const char *kv[2] = {k, v};
  tws t;
  tws_init(&t, base, kv, 1);
  mm_error_clear(e);
  int rc = cm_commit(p, &t.ws, e);
  tws_free(&t);
  return rc;
}

static int getv(const char *k, char *out) {
  char *v;
  size_t n;
  int rc = store_get(st, k, strlen(k), &v, &n);
  if (rc == MM_OK) { memcpy(out, v, n); out[n] = 0; mm_free(v); }
  return rc;
}

TEST(certification_verdicts) {
  mm_error e;
  char b[64];
  cm_pipe *p = cm_pipe_get(st);
  CHECK(p);
  uint64_t base = cm_applied(p);
  CHECK_EQ_INT(commit1(p, base, "\x10k1", "a", &e), MM_OK); /* order base+1 */
  CHECK_EQ_INT(cm_applied(p), base + 1);
  /* built before base+1 was applied, writes k1 too: first committer wins */
  CHECK_EQ_INT(commit1(p, base, "\x10k1", "b", &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1213);
  CHECK_EQ_STR(e.sqlstate, "40001");
  CHECK_EQ_INT(getv("\x10k1", b), MM_OK);
  CHECK_EQ_STR(b, "a");
  /* same base, disjoint key: passes */
  CHECK_EQ_INT(commit1(p, base, "\x10k2", "c", &e), MM_OK);
  /* built after base+1: k1 again passes */
  CHECK_EQ_INT(commit1(p, base + 1, "\x10k1", "d", &e), MM_OK);
  CHECK_EQ_INT(getv("\x10k1", b), MM_OK);
  CHECK_EQ_STR(b, "d");
  /* probe without ordering: deterministic, no side effects */
  const char *kv[2] = {"\x10k2", "x"};
  tws t;
  tws_init(&t, base, kv, 1);
  CHECK_EQ_INT(cm_certify_probe(p, &t.ws), MM_EAGAIN);
  CHECK_EQ_INT(cm_certify_probe(p, &t.ws), MM_EAGAIN);
  t.ws.base = cm_applied(p);
  CHECK_EQ_INT(cm_certify_probe(p, &t.ws), MM_OK);
  tws_free(&t);
  cm_stats s;
  cm_get_stats(p, &s);
  CHECK_EQ_INT(s.cert_failures, 1);
}

TEST(multi_key_write_set) {
  mm_error e;
  char b[64];
  cm_pipe *p = cm_pipe_get(st);
  uint64_t base = cm_applied(p);
  const char *kv[6] = {"\x10m1", "1", "\x10m2", "2", "\x10m3", "3"};
  tws t;
  tws_init(&t, base, kv, 3);
  mm_error_clear(&e);
  CHECK_EQ_INT(cm_commit(p, &t.ws, &e), MM_OK);
  tws_free(&t);
  CHECK_EQ_INT(getv("\x10m3", b), MM_OK);
  CHECK_EQ_STR(b, "3");
  /* one overlapping key among several fails the whole write set, atomically */
  const char *kv2[4] = {"\x10m9", "9", "\x10m2", "x"};
  tws_init(&t, base, kv2, 2);
  CHECK_EQ_INT(cm_commit(p, &t.ws, &e), MM_ESQL);
  tws_free(&t);
  CHECK_EQ_INT(getv("\x10m9", b), MM_ENOTFOUND);
}

static void slow_write(int nws) { usleep(3000); }

typedef struct gc_arg { int id, n, fails; } gc_arg;

static void *gc_worker(void *p) {
  gc_arg *a = p;
  cm_pipe *pp = cm_pipe_get(st);
  for (int i = 0; i < a->n; i++) {
    char k[32], v[32];
    snprintf(k, sizeof k, "\x10g%02d-%04d", a->id, i);
    snprintf(v, sizeof v, "%d", i);
    mm_error e;
    if (commit1(pp, cm_applied(pp), k, v, &e) != MM_OK) a->fails++;
  }
  return NULL;
}

TEST(group_commit) {
  cm_pipe *p = cm_pipe_get(st);
  cm_stats before, after;
  cm_get_stats(p, &before);
  cm_test_before_write = slow_write; /* a slow disk: the queue fills up */
  enum { NT = 16, N = 40 };
  pthread_t th[NT];
  gc_arg a[NT];
  for (int i = 0; i < NT; i++) { a[i] = (gc_arg){i, N, 0}; pthread_create(&th[i], NULL, gc_worker, &a[i]); }
  int fails = 0;
  for (int i = 0; i < NT; i++) { pthread_join(th[i], NULL); fails += a[i].fails; }
  cm_test_before_write = NULL;
  CHECK_EQ_INT(fails, 0);
  cm_get_stats(p, &after);
  uint64_t commits = after.commits - before.commits, groups = after.groups - before.groups;
  CHECK_EQ_INT(commits, NT * N);
  printf("  group commit: %llu commits in %llu synced writes\n", (unsigned long long)commits,
         (unsigned long long)groups);
  CHECK(groups * 4 <= commits); /* at least 4 commits per fsync on average */
  char b[64];
  CHECK_EQ_INT(getv("\x10g15-0039", b), MM_OK);
  CHECK_EQ_STR(b, "39");
  /* the applied position is stored in the same batch */
  char *v;
  size_t n;
  CHECK_EQ_INT(store_get(st, CM_APPLIED_KEY, CM_APPLIED_KEYLEN, &v, &n), MM_OK);
  CHECK_EQ_INT(n, 8);
  uint64_t pos = 0;
  for (int i = 0; i < 8; i++) pos = pos << 8 | (unsigned char)v[i];
  mm_free(v);
  CHECK_EQ_INT(pos, cm_applied(p));
}

TEST(txn_commit_through_pipeline) {
  /* txn_commit certifies X-locked keys against the applied position */
  mm_error e;
  mm_error_clear(&e);
  cm_pipe *p = cm_pipe_get(st);
  uint64_t a0 = cm_applied(p);
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(txn_lock_row(t, "\x10tk", 3, TXN_LOCK_X, TXN_WAIT, &e), MM_OK);
  CHECK_EQ_INT(txn_put(t, "\x10tk", 3, "1", 1), MM_OK);
  CHECK_EQ_INT(txn_put(t, "\x02" "cat", 4, "1", 1), MM_OK);
  CHECK_EQ_INT(txn_commit(t, &e), MM_OK);
  CHECK_EQ_INT(cm_applied(p), a0 + 1);
  /* a write set built at a0 that touches the catalog key now conflicts */
  CHECK_EQ_INT(commit1(p, a0, "\x02" "cat", "2", &e), MM_ESQL);
  /* ... but not one on an unrelated key */
  CHECK_EQ_INT(commit1(p, a0, "\x02" "other", "2", &e), MM_OK);
}

TEST(applied_position_survives_reopen) {
  cm_pipe *p = cm_pipe_get(st);
  uint64_t a = cm_applied(p);
  CHECK(a > 0);
  cm_pipe_drop(st);
  store_close(st);
  char *em = NULL;
  CHECK_EQ_INT(store_open(dir, &st, &em), MM_OK);
  p = cm_pipe_get(st);
  CHECK_EQ_INT(cm_applied(p), a);
  mm_error e;
  CHECK_EQ_INT(commit1(p, a, "\x10" "after", "1", &e), MM_OK);
  CHECK_EQ_INT(cm_applied(p), a + 1);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mmsql-txncommit-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  char *em = NULL;
  if (store_open(dir, &st, &em) != MM_OK) { fprintf(stderr, "open: %s\n", em); return 1; }
  RUN(certification_verdicts);
  RUN(multi_key_write_set);
  RUN(group_commit);
  RUN(txn_commit_through_pipeline);
  RUN(applied_position_survives_reopen);
  cm_pipe_drop(st);
  store_close(st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  return unit_report("txn_commit");
}
