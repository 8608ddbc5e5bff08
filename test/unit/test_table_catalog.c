/*
 * test_table_catalog - the catalog without SQL: edits, persistence across
 * reopen, the stored format, refcounted defs, id counters, pending drops,
 * SHOW CREATE text of hand-built definitions.
 */
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"
#include "table/catalog.h"
#include "txn/txn.h"
#include "unit.h"

static char dir[64];
static store *st;
static tbl_catalog *cat;
static mm_error err;

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/mmsql-cat-XXXXXX");
  if (!mkdtemp(dir)) abort();
  if (store_open(dir, &st, NULL)) abort();
  if (tbl_catalog_open(st, &cat, &err)) abort();
}
static int reopen(void) {
  tbl_catalog_close(cat);
  store_close(st);
  if (store_open(dir, &st, NULL)) return -1;
  return tbl_catalog_open(st, &cat, &err);
}
static void teardown(void) {
  tbl_catalog_close(cat);
  store_close(st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) {}
}

/* t (id int NOT NULL AUTO_INCREMENT, s varchar(20) DEFAULT 'x', PRIMARY KEY (id), KEY s (s)) */
static tbl_def *make_def(tbl_cat_edit *e, const char *db, const char *name) {
  tbl_def *d = mm_calloc(1, sizeof *d);
  d->db = mm_strdup(db);
  d->name = mm_strdup(name);
  d->engine = mm_strdup("InnoDB");
  d->charset = mm_strdup("utf8mb4");
  d->collation = mm_strdup("utf8mb4_general_ci");
  d->ncols = 2;
  d->cols = mm_calloc(2, sizeof(tbl_column));
  d->cols[0] = (tbl_column){.name = mm_strdup("id"), .type = TBL_INT, .length = 11, .scale = -1,
                            .not_null = 1, .auto_increment = 1};
  d->cols[1] = (tbl_column){.name = mm_strdup("s"), .type = TBL_VARCHAR, .length = 20, .scale = -1,
                            .has_default = 1, .default_value = mm_strdup("x"), .comment = mm_strdup("it's")};
  d->autoinc_col = 0;
  d->nindexes = 2;
  d->indexes = mm_calloc(2, sizeof(tbl_index));
  d->indexes[0] = (tbl_index){.name = mm_strdup("PRIMARY"), .primary = 1, .unique = 1, .ncols = 1,
                              .cols = mm_calloc(1, sizeof(int)), .prefix = mm_calloc(1, sizeof(uint32_t))};
  d->indexes[1] = (tbl_index){.name = mm_strdup("s"), .ncols = 1, .cols = mm_calloc(1, sizeof(int)),
                              .prefix = mm_calloc(1, sizeof(uint32_t))};
  d->indexes[1].cols[0] = 1;
  d->indexes[1].prefix[0] = 5;
  d->has_pk = 1;
  d->id = tbl_cat_edit_new_table_id(e);
  d->indexes[0].id = tbl_cat_edit_new_index_id(e);
  d->indexes[1].id = tbl_cat_edit_new_index_id(e);
  return d;
}

static const char *expected_show =
  "CREATE TABLE `t` (\n"
  "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
  "  `s` varchar(20) DEFAULT 'x' COMMENT 'it''s',\n"
  "  PRIMARY KEY (`id`),\n"
  "  KEY `s` (`s`(5))\n"
  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

TEST(fresh_and_persist) {
  setup();
  char **names;
  int n;
  CHECK_EQ_INT(tbl_list_dbs(cat, &names, &n), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_STR(names[0], "information_schema");
  tbl_free_names(names, n);
  uint64_t v0 = tbl_catalog_version(cat);
  tbl_catalog_ddl_lock(cat);
  tbl_cat_edit *e = tbl_cat_edit_new(cat);
  CHECK_EQ_INT(tbl_cat_edit_put_db(e, "d", "utf8mb4", "utf8mb4_general_ci"), 0);
  CHECK_EQ_INT(tbl_cat_edit_put_table(e, make_def(e, "d", "t")), 0);
  CHECK(tbl_cat_edit_get(e, "d", "t") != NULL);
  CHECK(tbl_get(cat, "d", "t") == NULL); /* not before the commit */
  CHECK_EQ_INT(tbl_cat_edit_commit(e, NULL, &err), 0);
  tbl_catalog_ddl_unlock(cat);
  CHECK(tbl_catalog_version(cat) > v0);
  tbl_def *d = tbl_get(cat, "d", "t");
  CHECK(d != NULL);
  CHECK_EQ_INT(d->version, tbl_catalog_version(cat));
  mm_buf b;
  mm_buf_init(&b);
  tbl_show_create(d, &b);
  mm_buf_putc(&b, 0);
  CHECK_EQ_STR(b.p, expected_show);
  uint32_t id = d->id;
  tbl_def_release(cat, d);
  CHECK_EQ_INT(reopen(), 0);
  CHECK(tbl_db_exists(cat, "d"));
  d = tbl_get(cat, "d", "t");
  CHECK(d != NULL);
  CHECK_EQ_INT(d->id, id);
  CHECK_EQ_INT(d->autoinc_col, 0);
  CHECK_EQ_STR(d->cols[1].comment, "it's");
  mm_buf_reset(&b);
  tbl_show_create(d, &b);
  mm_buf_putc(&b, 0);
  CHECK_EQ_STR(b.p, expected_show);
  mm_buf_free(&b);
  tbl_def_release(cat, d);
  /* counters survive */
  tbl_catalog_ddl_lock(cat);
  e = tbl_cat_edit_new(cat);
  CHECK(tbl_cat_edit_new_table_id(e) > id);
  tbl_cat_edit_abort(e);
  tbl_catalog_ddl_unlock(cat);
  teardown();
}

TEST(encode_decode) {
  setup();
  tbl_cat_edit *e = tbl_cat_edit_new(cat);
  tbl_def *d = make_def(e, "a", "b");
  d->cols[1].n_enum = 0;
  mm_buf b1, b2;
  mm_buf_init(&b1);
  mm_buf_init(&b2);
  CHECK_EQ_INT(tbl_def_encode(d, &b1), 0);
  tbl_def *x = tbl_def_decode(b1.p, b1.len);
  CHECK(x != NULL);
  tbl_def_encode(x, &b2);
  CHECK_EQ_INT(b1.len, b2.len);
  CHECK(memcmp(b1.p, b2.p, b1.len) == 0);
  /* truncated or garbage input is refused, never crashes */
  for (size_t i = 0; i < b1.len; i++) CHECK(tbl_def_decode(b1.p, i) == NULL);
  tbl_def *c = tbl_def_clone(x);
  CHECK(c != NULL);
  mm_buf_reset(&b2);
  tbl_def_encode(c, &b2);
  CHECK(b2.len == b1.len && memcmp(b1.p, b2.p, b1.len) == 0);
  tbl_def_free(c);
  tbl_def_free(x);
  tbl_def_free(d);
  mm_buf_free(&b1);
  mm_buf_free(&b2);
  tbl_cat_edit_abort(e);
  teardown();
}

TEST(refs_and_drop) {
  setup();
  tbl_cat_edit *e = tbl_cat_edit_new(cat);
  tbl_cat_edit_put_db(e, "d", "utf8mb4", "utf8mb4_general_ci");
  tbl_cat_edit_put_table(e, make_def(e, "d", "t"));
  CHECK_EQ_INT(tbl_cat_edit_commit(e, NULL, &err), 0);
  tbl_def *held = tbl_get(cat, "d", "t");
  CHECK(held != NULL);
  uint32_t ix = held->indexes[0].id;
  /* a row in the table's primary index */
  unsigned char k[6] = {STORE_PFX_DATA, 0, 0, 0, 0, 7};
  mm_put_u32be(k + 1, ix);
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  rocksdb_writebatch_put(wb, (const char *)k, 6, "v", 1);
  CHECK_EQ_INT(store_write(st, wb, 1), 0);
  rocksdb_writebatch_destroy(wb);
  e = tbl_cat_edit_new(cat);
  CHECK_EQ_INT(tbl_cat_edit_drop_table(e, "d", "t", 1), 0);
  CHECK_EQ_INT(tbl_cat_edit_commit(e, NULL, &err), 0);
  CHECK(tbl_get(cat, "d", "t") == NULL);
  /* the reader's def is still intact */
  CHECK_EQ_STR(held->name, "t");
  tbl_def_release(cat, held);
  char *v;
  size_t vn;
  CHECK_EQ_INT(store_get(st, k, 6, &v, &vn), MM_ENOTFOUND);
  char **names;
  int n;
  tbl_list_tables(cat, "d", &names, &n);
  CHECK_EQ_INT(n, 0);
  tbl_free_names(names, n);
  teardown();
}

TEST(hidden_and_txn_commit) {
  setup();
  tbl_cat_edit *e = tbl_cat_edit_new(cat);
  tbl_cat_edit_put_db(e, "d", "utf8mb4", "utf8mb4_general_ci");
  tbl_cat_edit_put_table(e, make_def(e, "d", "#mmsql-alter-9"));
  CHECK_EQ_INT(tbl_cat_edit_commit(e, NULL, &err), 0);
  char **names;
  int n;
  tbl_list_tables(cat, "d", &names, &n);
  CHECK_EQ_INT(n, 0); /* hidden */
  tbl_free_names(names, n);
  { tbl_def *d_ = tbl_get(cat, "d", "#mmsql-alter-9"); CHECK(d_ != NULL); tbl_def_release(cat, d_); }
  /* through a txn */
  txn *t = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK(t != NULL);
  e = tbl_cat_edit_new(cat);
  tbl_cat_edit_put_table(e, make_def(e, "d", "t"));
  CHECK_EQ_INT(tbl_cat_edit_commit(e, t, &err), 0);
  { tbl_def *d_ = tbl_get(cat, "d", "t"); CHECK(d_ != NULL); tbl_def_release(cat, d_); }
  /* a leftover ALTER copy is dropped at open */
  CHECK_EQ_INT(reopen(), 0);
  CHECK(tbl_get(cat, "d", "#mmsql-alter-9") == NULL);
  { tbl_def *d_ = tbl_get(cat, "d", "t"); CHECK(d_ != NULL); tbl_def_release(cat, d_); }
  teardown();
}

TEST(collations) {
  CHECK(tbl_collation_find("UTF8MB4_BIN") != NULL);
  CHECK_EQ_STR(tbl_collation_find("utf8mb3_general_ci")->name, "utf8_general_ci");
  CHECK_EQ_STR(tbl_charset_default("latin1")->name, "latin1_swedish_ci");
  CHECK(tbl_charset_default("nope") == NULL);
}

int main(void) {
  RUN(fresh_and_persist);
  RUN(encode_decode);
  RUN(refs_and_drop);
  RUN(hidden_and_txn_commit);
  RUN(collations);
  return unit_report("table_catalog");
}
