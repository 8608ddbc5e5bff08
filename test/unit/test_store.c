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

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mm_test_store.%d", (int)getpid());
  rmrf(dir);
  RUN(open_put_get_reopen);
  RUN(open_bad_dir);
  rmrf(dir);
  return unit_report("store");
}
