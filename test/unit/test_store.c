/* test/unit/test_store.c - store open/put/get/write, reopen keeps data. */
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"
#include "unit.h"

static char dir[64];

static void rmrf(const char *d) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  if (system(cmd)) {}
}

TEST(open_put_get_reopen) {
  store *st;
  char *em = NULL;
  CHECK_EQ_INT(store_open(dir, &st, &em), MM_OK);
  CHECK_EQ_INT(store_put(st, "k1", 2, "v1", 2, 1), MM_OK);
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  rocksdb_writebatch_put(wb, "k2", 2, "v2", 2);
  rocksdb_writebatch_delete(wb, "k1", 2);
  CHECK_EQ_INT(store_write(st, wb, 1), MM_OK);
  rocksdb_writebatch_destroy(wb);
  char *v;
  size_t n;
  CHECK_EQ_INT(store_get(st, "k1", 2, &v, &n), MM_ENOTFOUND);
  CHECK_EQ_INT(store_get(st, "k2", 2, &v, &n), MM_OK);
  CHECK_EQ_INT(n, 2);
  CHECK(memcmp(v, "v2", 2) == 0);
  mm_free(v);
  store_close(st);
  CHECK_EQ_INT(store_open(dir, &st, &em), MM_OK);
  CHECK_EQ_INT(store_get(st, "k2", 2, &v, &n), MM_OK);
  mm_free(v);
  (void)store_approx_size(st, "a", 1, "z", 1);
  store_close(st);
}

TEST(open_bad_dir) {
  store *st;
  char *em = NULL;
  CHECK_EQ_INT(store_open("/proc/definitely/not/here", &st, &em), MM_EIO);
  CHECK(em != NULL);
  mm_free(em);
}

static uint64_t active_mem(store *st) {
  uint64_t n = 0;
  rocksdb_property_int(store_db(st), "rocksdb.cur-size-active-mem-table", &n);
  return n;
}

static void fill(store *st, int kb, int tag) {
  char k[32], v[1024];
  memset(v, 'x', sizeof v);
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  for (int i = 0; i < kb; i++) {
    snprintf(k, sizeof k, "age%d-%06d", tag, i);
    rocksdb_writebatch_put(wb, k, strlen(k), v, sizeof v);
  }
  store_write(st, wb, 0);
  rocksdb_writebatch_destroy(wb);
}

/* A memtable is flushed once it is old enough and holds at least a quarter
 * of the write buffer (4 MB): not before, and not when it is small. */
TEST(memtable_flushed_for_age) {
  char d[80];
  snprintf(d, sizeof d, "%s-age", dir);
  rmrf(d);
  setenv("MMSQL_MEMTABLE_MAX_AGE_MS", "300", 1);
  store *st;
  char *em = NULL;
  CHECK_EQ_INT(store_open(d, &st, &em), MM_OK);
  fill(st, 200, 1); /* 200 KB: too small to flush */
  usleep(800 * 1000);
  CHECK_EQ_INT(store_age_flushes(st), 0);
  CHECK(active_mem(st) >= 200 * 1024);
  fill(st, 1100, 2); /* now past 1 MB and older than 300 ms */
  for (int i = 0; i < 40 && store_age_flushes(st) == 0; i++) usleep(100 * 1000);
  CHECK_EQ_INT(store_age_flushes(st), 1);
  for (int i = 0; i < 40 && active_mem(st) >= 1024 * 1024; i++) usleep(50 * 1000);
  CHECK(active_mem(st) < 1024 * 1024);
  char *v;
  size_t n;
  CHECK_EQ_INT(store_get(st, "age2-000007", 11, &v, &n), MM_OK);
  CHECK_EQ_INT(n, 1024);
  mm_free(v);
  store_close(st);

  /* 0 turns it off */
  rmrf(d);
  setenv("MMSQL_MEMTABLE_MAX_AGE_MS", "0", 1);
  CHECK_EQ_INT(store_open(d, &st, &em), MM_OK);
  fill(st, 1300, 3);
  usleep(600 * 1000);
  CHECK_EQ_INT(store_age_flushes(st), 0);
  CHECK(active_mem(st) >= 1024 * 1024);
  store_close(st);
  unsetenv("MMSQL_MEMTABLE_MAX_AGE_MS");
  rmrf(d);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mm_test_store.%d", (int)getpid());
  rmrf(dir);
  RUN(open_put_get_reopen);
  RUN(open_bad_dir);
  RUN(memtable_flushed_for_age);
  rmrf(dir);
  return unit_report("store");
}
