/*
 * test/fuzz/fuzz_rewrite.c - libFuzzer target over the SQL front end:
 * arbitrary bytes -> lex_split -> rw_rewrite (current database "test", the
 * sql_mode taken from the first byte) -> sqlite3_prepare_v2 of the rewritten
 * text on an in-memory database with the MySQL functions (sql/fn.c)
 * registered.  Statements that prepare are also stepped a bounded number of
 * times, so that the function library sees arbitrary arguments.
 *
 * Properties checked: no crash, leak or undefined behaviour; the rewriter
 * either fails with one of its MySQL errors (1064, 1046, 1235, 1059, 1065,
 * 1109) or MM_ENOMEM, or returns
 * NUL-terminated SQL.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql/fn.h"
#include "sql/lex.h"
#include "sql/rewrite.h"

static sqlite3 *db;
static fn_state st;
static unsigned mode;

static void null_fn(sqlite3_context *c, int argc, sqlite3_value **argv) { sqlite3_result_null(c); }
static int progress(void *arg) { return ++*(int *)arg > 2000; }

static void setup(void) {
  if (db) return;
  st.db = "test";
  st.user = "root@localhost";
  st.version = "5.7.99-mmsql";
  st.conn_id = 1;
  st.stmt_time_us = 1700000000000000LL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK || fn_register(db, &st) != SQLITE_OK) abort();
  /* what the session registers, and no sleeping */
  sqlite3_create_function(db, "mm_sysvar", 2, SQLITE_UTF8, NULL, null_fn, NULL, NULL);
  sqlite3_create_function(db, "mm_sysvar", 1, SQLITE_UTF8, NULL, null_fn, NULL, NULL);
  sqlite3_create_function(db, "mm_uservar", 1, SQLITE_UTF8, NULL, null_fn, NULL, NULL);
  sqlite3_create_function(db, "mm_set_uservar", 2, SQLITE_UTF8, NULL, null_fn, NULL, NULL);
  sqlite3_create_function(db, "sleep", 1, SQLITE_UTF8, NULL, null_fn, NULL, NULL);
  sqlite3_create_function(db, "benchmark", 2, SQLITE_UTF8, NULL, null_fn, NULL, NULL);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_exec(db,
               "CREATE TABLE \"test.t\"(id INTEGER PRIMARY KEY, a, b TEXT COLLATE mm_ci, c, d);"
               "INSERT INTO \"test.t\" VALUES (1, 10, 'x', 2.5, '2024-01-31 10:00:00'),"
               "(2, NULL, 'Y', -1, '1999-12-31'), (3, 'abc', '', X'00ff', NULL);"
               "CREATE TABLE \"test.t2\"(id INTEGER PRIMARY KEY, a, b);"
               "INSERT INTO \"test.t2\" VALUES (1, 1, 'a');",
               NULL, NULL, NULL);
}

static int one(void *ctx, const char *sql, size_t n) {
  rw_in in = {"test", mode};
  rw_out o;
  mm_error e;
  rw_out_init(&o);
  mm_error_clear(&e);
  int rc = rw_rewrite(&in, sql, n, &o, &e);
  if (rc == MM_ESQL) {
    /* syntax, no database, unsupported, identifier too long, empty query, unknown table in multi-delete */
    if (e.code != 1064 && e.code != 1046 && e.code != 1235 && e.code != 1059 && e.code != 1065 && e.code != 1109)
      abort();
  } else if (rc == MM_OK) {
    if (!o.sql.p || strlen(o.sql.p) != o.sql.len) abort();
    sqlite3_stmt *s = NULL;
    /* writes are prepared but not run: the fixture tables stay as they are */
    if (sqlite3_prepare_v2(db, o.sql.p, (int)o.sql.len, &s, NULL) == SQLITE_OK && s) {
      if (sqlite3_stmt_readonly(s)) {
        int steps = 0;
        sqlite3_progress_handler(db, 1000, progress, &steps);
        for (int k = 0; k < 50 && sqlite3_step(s) == SQLITE_ROW; k++)
          for (int i = 0; i < sqlite3_column_count(s); i++) (void)sqlite3_column_text(s, i);
        sqlite3_progress_handler(db, 0, NULL, NULL);
      }
    }
    sqlite3_finalize(s);
    if (o.dup_update.len) {
      s = NULL;
      sqlite3_prepare_v2(db, o.dup_update.p, (int)o.dup_update.len, &s, NULL);
      sqlite3_finalize(s);
    }
  } else if (rc != MM_ENOMEM) {
    abort();
  }
  rw_out_free(&o);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size == 0) return 0;
  mode = data[0] & 15; /* RW_MODE_* bits */
  data++;
  size--;
  lex_split((const char *)data, size, (mode & RW_MODE_NO_BACKSLASH_ESCAPES) != 0, one, NULL);
  return 0;
}
