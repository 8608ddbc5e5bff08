/* test/unit/test_txn_commit.c - the commit pipeline (txn/commit.c):
 * certification verdicts (first committer wins against writes ordered
 * after the base), group commit (many commits, few synced writes), the
 * applied position stored with the data and read back after reopening;
 * the commit log: groups RocksDB lost are written again on open (also
 * groups split into several records, and node-local redo), a torn group is
 * dropped, compaction, a failed log write stops the pipeline. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft/raft_log.h"
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
  store_close(st);
  char *em = NULL;
  CHECK_EQ_INT(store_open(dir, &st, &em), MM_OK);
  p = cm_pipe_get(st);
  CHECK_EQ_INT(cm_applied(p), a);
  mm_error e;
  CHECK_EQ_INT(commit1(p, a, "\x10" "after", "1", &e), MM_OK);
  CHECK_EQ_INT(cm_applied(p), a + 1);
}

/* ---- the commit log ------------------------------------------------------------- */
static void sh(const char *fmt, const char *a) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, fmt, a, a, a);
  if (system(cmd) != 0) { fprintf(stderr, "failed: %s\n", cmd); abort(); }
}

static void close_all(void) {
  store_close(st);
  st = NULL;
}

static cm_pipe *open_all(void) {
  char *em = NULL;
  if (store_open(dir, &st, &em) != MM_OK) { fprintf(stderr, "open: %s\n", em); abort(); }
  return cm_pipe_get(st);
}

/* Close, keep a copy of the RocksDB directory as it is now, reopen. */
static cm_pipe *backup_rocksdb(void) {
  close_all();
  sh("rm -rf %s.bak && cp -a %s %s.bak", dir);
  return open_all();
}

/* Close and put the RocksDB directory back as it was at backup_rocksdb():
 * RocksDB lost every write since (as if its unsynced WAL tail had gone in a
 * power loss); the commit log is untouched. */
static void lose_rocksdb_writes(void) {
  close_all();
  sh("rm -rf %s && cp -a %s.bak %s", dir);
}

TEST(log_replays_groups_rocksdb_lost) {
  cm_pipe *p = backup_rocksdb();
  mm_error e;
  char b[64];
  uint64_t a = cm_applied(p);
  CHECK_EQ_INT(commit1(p, a, "\x10lost1", "1", &e), MM_OK);
  CHECK_EQ_INT(commit1(p, a, "\x10lost2", "2", &e), MM_OK);
  /* a node-local put (AUTO_INCREMENT counter) rides with the next group */
  CHECK_EQ_INT(store_put(st, "\x03redo", 5, "42", 2, 0), MM_OK);
  CHECK_EQ_INT(commit1(p, a, "\x10lost3", "3", &e), MM_OK);
  CHECK_EQ_INT(cm_applied(p), a + 3);
  lose_rocksdb_writes();
  char *em = NULL;
  CHECK_EQ_INT(store_open(dir, &st, &em), MM_OK);
  CHECK_EQ_INT(getv("\x10lost1", b), MM_ENOTFOUND); /* RocksDB alone lost them */
  p = cm_pipe_get(st);                              /* the log brings them back */
  CHECK(p);
  CHECK_EQ_INT(cm_applied(p), a + 3);
  CHECK_EQ_INT(getv("\x10lost1", b), MM_OK);
  CHECK_EQ_STR(b, "1");
  CHECK_EQ_INT(getv("\x10lost3", b), MM_OK);
  CHECK_EQ_STR(b, "3");
  CHECK_EQ_INT(getv("\x03redo", b), MM_OK);
  CHECK_EQ_STR(b, "42");
  /* the log goes on from there, and a plain reopen writes nothing again */
  CHECK_EQ_INT(commit1(p, a + 3, "\x10lost4", "4", &e), MM_OK);
  close_all();
  p = open_all();
  CHECK_EQ_INT(cm_applied(p), a + 4);
  CHECK_EQ_INT(getv("\x10lost4", b), MM_OK);
}

/* A group larger than one log record (16 MB). */
static int commit_big(cm_pipe *p, const char *k, size_t n, char fill) {
  char *v = malloc(n + 1);
  memset(v, fill, n);
  v[n] = 0;
  tws t;
  const char *kv[2] = {k, v};
  tws_init(&t, cm_applied(p), kv, 1);
  mm_error e;
  int rc = cm_commit(p, &t.ws, &e);
  tws_free(&t);
  free(v);
  return rc;
}

static int check_big(const char *k, size_t n, char fill) {
  char *v;
  size_t vn;
  if (store_get(st, k, strlen(k), &v, &vn) != MM_OK) return 0;
  int ok = vn == n;
  for (size_t i = 0; ok && i < n; i++) ok = v[i] == fill;
  mm_free(v);
  return ok;
}

TEST(log_group_in_several_records) {
  cm_pipe *p = backup_rocksdb();
  mm_error e;
  uint64_t a = cm_applied(p);
  CHECK_EQ_INT(commit_big(p, "\x10" "big", (17u << 20) + 5, 'b'), MM_OK);
  CHECK_EQ_INT(commit1(p, a + 1, "\x10" "afterbig", "1", &e), MM_OK);
  lose_rocksdb_writes();
  p = open_all();
  CHECK_EQ_INT(cm_applied(p), a + 2);
  CHECK(check_big("\x10" "big", (17u << 20) + 5, 'b'));
  char b[64];
  CHECK_EQ_INT(getv("\x10" "afterbig", b), MM_OK);
}

/* Zero the last record of the commit log (a group torn at a crash). */
static void tear_last_record(void) {
  char path[128];
  snprintf(path, sizeof path, "%s-commitlog", dir);
  DIR *d = opendir(path);
  if (!d) abort();
  char last[256] = "";
  struct dirent *de;
  while ((de = readdir(d)))
    if (!strncmp(de->d_name, "seg-", 4) && strcmp(de->d_name, last) > 0) snprintf(last, sizeof last, "%s", de->d_name);
  closedir(d);
  char seg[512];
  snprintf(seg, sizeof seg, "%s/%s", path, last);
  int fd = open(seg, O_RDWR);
  if (fd < 0) abort();
  uint64_t off = 0, prev = 0;
  unsigned char h[4];
  while (pread(fd, h, 4, (off_t)off) == 4) {
    uint32_t len = mm_get_u32le(h);
    if (!len) break;
    prev = off;
    off += 8 + len;
  }
  static char zeros[4096];
  for (uint64_t o = prev; o < off; o += sizeof zeros)
    if (pwrite(fd, zeros, off - o < sizeof zeros ? off - o : sizeof zeros, (off_t)o) < 0) abort();
  close(fd);
}

TEST(log_torn_group_is_dropped) {
  cm_pipe *p = backup_rocksdb();
  uint64_t a = cm_applied(p);
  CHECK_EQ_INT(commit_big(p, "\x10" "torn", (17u << 20), 't'), MM_OK); /* two records */
  lose_rocksdb_writes();
  tear_last_record(); /* the second record never reached the disk */
  p = open_all();
  CHECK_EQ_INT(cm_applied(p), a);
  char b[64];
  CHECK_EQ_INT(getv("\x10" "torn", b), MM_ENOTFOUND); /* all of the group or nothing */
  mm_error e;
  CHECK_EQ_INT(commit1(p, a, "\x10" "aftertorn", "1", &e), MM_OK);
  close_all();
  p = open_all();
  CHECK_EQ_INT(cm_applied(p), a + 1);
  CHECK_EQ_INT(getv("\x10" "aftertorn", b), MM_OK);
}

TEST(log_compaction) {
  cm_pipe *p = cm_pipe_get(st);
  cm_stats s0, s1;
  cm_get_stats(p, &s0);
  cm_test_compact_bytes = 64 << 10;
  mm_error e;
  char v[1024];
  memset(v, 'c', sizeof v - 1);
  v[sizeof v - 1] = 0;
  for (int i = 0; i < 200; i++) {
    char k[32];
    snprintf(k, sizeof k, "\x10" "cmp%03d", i);
    CHECK_EQ_INT(commit1(p, cm_applied(p), k, v, &e), MM_OK);
  }
  for (int i = 0; i < 500; i++) {
    cm_get_stats(p, &s1);
    if (s1.log_compactions > s0.log_compactions) break;
    usleep(10000);
  }
  cm_test_compact_bytes = 0;
  CHECK(s1.log_compactions > s0.log_compactions);
  uint64_t a = cm_applied(p);
  close_all();
  p = open_all();
  CHECK_EQ_INT(cm_applied(p), a);
  char b[1100];
  CHECK_EQ_INT(getv("\x10" "cmp199", b), MM_OK);
  CHECK_EQ_INT(strlen(b), sizeof v - 1);
  CHECK_EQ_INT(commit1(p, a, "\x10" "aftercmp", "1", &e), MM_OK);
}

TEST(log_flush_modes) {
  cm_pipe *p = cm_pipe_get(st);
  mm_error e;
  cm_stats s0, s1, s2;
  cm_get_stats(p, &s0);
  for (int i = 0; i < 20; i++) CHECK_EQ_INT(commit1(p, cm_applied(p), "\x10" "fm1", "1", &e), MM_OK);
  cm_get_stats(p, &s1);
  CHECK_EQ_INT(s1.log_syncs - s0.log_syncs, 20); /* 1: one fdatasync per group */
  cm_set_flush_mode(p, 2);
  uint64_t t0 = mm_now_us();
  for (int i = 0; i < 20; i++) CHECK_EQ_INT(commit1(p, cm_applied(p), "\x10" "fm2", "2", &e), MM_OK);
  cm_get_stats(p, &s2);
  if (mm_now_us() - t0 < 900000) CHECK_EQ_INT(s2.log_syncs, s1.log_syncs); /* none at commit */
  for (int i = 0; i < 300 && s2.log_syncs == s1.log_syncs; i++) {
    usleep(10000);
    cm_get_stats(p, &s2);
  }
  CHECK_EQ_INT(s2.log_syncs - s1.log_syncs, 1); /* one, about a second later */
  CHECK(mm_now_us() - t0 >= 900000);
  cm_set_flush_mode(p, 1);
}

TEST(log_write_failure_stops_the_pipeline) {
  cm_pipe *p = cm_pipe_get(st);
  mm_error e;
  uint64_t a = cm_applied(p);
  raft_log_fail_write_at(1);
  CHECK_EQ_INT(commit1(p, a, "\x10" "fail1", "1", &e), MM_EIO);
  CHECK_EQ_INT(e.code, 1180);
  raft_log_fail_write_at(0);
  CHECK_EQ_INT(commit1(p, a, "\x10" "fail2", "1", &e), MM_EIO); /* sticky */
  char b[64];
  CHECK_EQ_INT(getv("\x10" "fail1", b), MM_ENOTFOUND);
  close_all(); /* a restart recovers */
  p = open_all();
  CHECK_EQ_INT(commit1(p, cm_applied(p), "\x10" "fail3", "1", &e), MM_OK);
  CHECK_EQ_INT(getv("\x10" "fail3", b), MM_OK);
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
  RUN(log_replays_groups_rocksdb_lost);
  RUN(log_group_in_several_records);
  RUN(log_torn_group_is_dropped);
  RUN(log_compaction);
  RUN(log_flush_modes);
  RUN(log_write_failure_stops_the_pipeline);
  store_close(st);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s %s.bak %s-commitlog", dir, dir, dir);
  if (system(cmd)) {}
  return unit_report("txn_commit");
}
