/* test/unit/test_table_vtab.c - the "mm" module end to end: an in-memory
 * SQLite connection over a store in a temp dir, tables made with tbl_ddl. */
#include <stdlib.h>
#include <unistd.h>

#include "table/table.h"
#include "unit.h"

static char dir[64];
static store *st;
static tbl_catalog *cat;
static sqlite3 *db;
static tbl_conn *tc;
static txn *cur; /* explicit transaction, or NULL for autocommit */
static char out[8192];
static mm_error lasterr;

static int ddl(const char *sql) {
  mm_error e;
  mm_error_clear(&e);
  int rc = tbl_ddl(tc, "d", sql, strlen(sql), &e);
  if (rc) fprintf(stderr, "ddl %s: %d %s\n", sql, e.code, e.msg);
  tbl_conn_sync(tc);
  return rc;
}

/* Run one statement: declares the tables it names on "no such table". */
static int run(const char *sql, char *res, size_t cap) {
  int own = !cur;
  txn *t = cur ? cur : txn_begin(st, TXN_REPEATABLE_READ);
  tbl_conn_set_txn(tc, t);
  tbl_conn_stmt_begin(tc);
  txn_statement_start(t);
  if (!own) txn_savepoint(t);
  mm_error_clear(&lasterr);
  sqlite3_stmt *s = NULL;
  int rc;
  for (int tries = 0; tries < 5; tries++) {
    rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) break;
    const char *m = sqlite3_errmsg(db);
    const char *p = strstr(m, "no such table: ");
    if (!p) break;
    char name[128];
    snprintf(name, sizeof name, "%s", p + 15);
    char *dot = strchr(name, '.');
    if (!dot) break;
    *dot = 0;
    mm_error e;
    if (tbl_conn_declare(tc, name, dot + 1, &e) != MM_OK) break;
  }
  if (res) res[0] = 0;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (res && res[0]) strncat(res, ";", cap - strlen(res) - 1);
      for (int i = 0; res && i < sqlite3_column_count(s); i++) {
        if (i) strncat(res, "|", cap - strlen(res) - 1);
        const char *v = (const char *)sqlite3_column_text(s, i);
        strncat(res, v ? v : "NULL", cap - strlen(res) - 1);
      }
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) {
    lasterr = *tbl_conn_error(tc);
    if (!lasterr.code) mm_error_set(&lasterr, 1, "HY000", "%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(s);
  if (own) {
    tbl_conn_set_txn(tc, NULL);
    if (rc == SQLITE_OK) {
      mm_error e;
      if (txn_commit(t, &e) != MM_OK) rc = SQLITE_ERROR;
    } else {
      txn_rollback(t);
    }
  } else {
    if (rc == SQLITE_OK) txn_release_savepoint(t);
    else txn_rollback_to_savepoint(t);
  }
  return rc;
}

static const char *q(const char *sql) {
  if (run(sql, out, sizeof out) != SQLITE_OK) snprintf(out, sizeof out, "ERR %d %s", lasterr.code, lasterr.msg);
  return out;
}
static int ex(const char *sql) { return run(sql, NULL, 0) == SQLITE_OK ? 0 : lasterr.code ? lasterr.code : -1; }

static const char *plan(const char *sql) {
  static char p[2048];
  char buf[2100];
  snprintf(buf, sizeof buf, "EXPLAIN QUERY PLAN %s", sql);
  run(buf, p, sizeof p);
  return p;
}

TEST(types_roundtrip) {
  CHECK_EQ_INT(ddl("CREATE TABLE types (id INT PRIMARY KEY, ti TINYINT, u INT UNSIGNED, big BIGINT UNSIGNED,"
                   " dec_ DECIMAL(10,2), f FLOAT, dbl DOUBLE, c CHAR(5), vc VARCHAR(10), tx TEXT, bn BINARY(4),"
                   " vb VARBINARY(8), bl BLOB, dt DATE, tm TIME, dtm DATETIME, ts TIMESTAMP NULL, yr YEAR,"
                   " en ENUM('a','b'), st SET('x','y'), bt BIT(8))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.types\" VALUES (1, -128, 4294967295, 18446744073709551615, '12.345', 1.5, 2.25,"
                  " 'ab  ', 'Hello', 'long text', x'0102', x'00ff', x'deadbeef', '2020-02-29', '-12:30:00',"
                  " '2021-03-04 05:06:07', '2022-01-01 00:00:00', 2024, 'B', 'y,x', 255)"), 0);
  CHECK_EQ_STR(q("SELECT id, ti, u, big, dec_, f, dbl, c, vc, tx, hex(bn), hex(vb), hex(bl), dt, tm, dtm, ts, yr, en, st, bt"
                 " FROM \"d.types\""),
               "1|-128|4294967295|18446744073709551615|12.35|1.5|2.25|ab|Hello|long text|01020000|00FF|DEADBEEF|"
               "2020-02-29|-12:30:00|2021-03-04 05:06:07|2022-01-01 00:00:00|2024|b|x,y|255");
  CHECK_EQ_STR(q("SELECT typeof(dec_), typeof(ti), typeof(vc) FROM \"d.types\""), "real|integer|text");
  CHECK_EQ_INT(ex("INSERT INTO \"d.types\"(id, ti) VALUES (2, NULL)"), 0);
  CHECK_EQ_STR(q("SELECT ti, vc, dt FROM \"d.types\" WHERE id = 2"), "NULL|NULL|NULL");
}

TEST(strict_errors) {
  CHECK_EQ_INT(ddl("CREATE TABLE s (id INT PRIMARY KEY, n INT NOT NULL, v VARCHAR(3), t TINYINT, d DATE, e ENUM('x'))"), 0);
  tbl_conn_set_mode(tc, TBL_MODE_STRICT);
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n) VALUES (1, NULL)"), 1048);
  CHECK_EQ_STR(lasterr.msg, "Column 'n' cannot be null");
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id) VALUES (1)"), 1364);
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, v) VALUES (1, 1, 'abcd')"), 1406);
  CHECK_EQ_STR(lasterr.msg, "Data too long for column 'v' at row 1");
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, t) VALUES (1, 1, 300)"), 1264);
  CHECK_EQ_STR(lasterr.msg, "Out of range value for column 't' at row 1");
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, t) VALUES (1, 1, 'abc')"), 1366);
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, d) VALUES (1, 1, '2021-02-30')"), 1292);
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, e) VALUES (1, 1, 'nope')"), 1265);
  CHECK_EQ_STR(q("SELECT count(*) FROM \"d.s\""), "0");
  /* non-strict: clamp / truncate with warnings */
  tbl_conn_set_mode(tc, 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, v, t) VALUES (1, 1, 'abcd', 300)"), 0);
  int nw;
  tbl_conn_warnings(tc, &nw);
  CHECK_EQ_INT(nw, 2);
  CHECK_EQ_STR(q("SELECT v, t FROM \"d.s\""), "abc|127");
  tbl_conn_set_mode(tc, TBL_MODE_STRICT);
  CHECK_EQ_INT(ex("INSERT INTO \"d.s\"(id, n, t) VALUES (2, '42', '-7')"), 0);
  CHECK_EQ_STR(q("SELECT n, t FROM \"d.s\" WHERE id = 2"), "42|-7");
}

TEST(defaults) {
  CHECK_EQ_INT(ddl("CREATE TABLE df (id INT PRIMARY KEY, a INT DEFAULT 7, b VARCHAR(5) DEFAULT 'zz', c INT,"
                   " ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, e DECIMAL(5,2) DEFAULT '1.5')"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.df\"(id) VALUES (1)"), 0);
  CHECK_EQ_STR(q("SELECT a, b, c, e, length(ts) FROM \"d.df\""), "7|zz|NULL|1.5|19");
  CHECK_EQ_INT(ex("INSERT INTO \"d.df\"(id, a, c) VALUES (2, NULL, NULL)"), 0);
  CHECK_EQ_STR(q("SELECT a, c FROM \"d.df\" WHERE id = 2"), "NULL|NULL");
  CHECK_EQ_INT(ex("UPDATE \"d.df\" SET ts = '2000-01-01 00:00:00' WHERE id = 1"), 0);
  CHECK_EQ_STR(q("SELECT ts FROM \"d.df\" WHERE id = 1"), "2000-01-01 00:00:00");
  CHECK_EQ_INT(ex("UPDATE \"d.df\" SET a = 8 WHERE id = 1"), 0);
  CHECK(strcmp(q("SELECT ts FROM \"d.df\" WHERE id = 1"), "2000-01-01 00:00:00") != 0); /* ON UPDATE */
  CHECK_EQ_INT(tbl_conn_matched(tc), 0);
  CHECK_EQ_INT(ex("UPDATE \"d.df\" SET a = 8 WHERE id = 1"), 0); /* unchanged row */
  CHECK_EQ_INT(tbl_conn_matched(tc), 1);
  CHECK_EQ_INT(tbl_conn_affected(tc), 0);
}

TEST(unique_and_conflicts) {
  CHECK_EQ_INT(ddl("CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(20), n INT, UNIQUE KEY uk_email (email))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.u\" VALUES (1, 'a@x', 1), (2, 'b@x', 2)"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.u\" VALUES (1, 'c@x', 3)"), 1062);
  CHECK_EQ_STR(lasterr.msg, "Duplicate entry '1' for key 'PRIMARY'");
  CHECK_EQ_STR(lasterr.sqlstate, "23000");
  CHECK_EQ_INT(ex("INSERT INTO \"d.u\" VALUES (3, 'A@X', 3)"), 1062); /* case-insensitive */
  CHECK_EQ_STR(lasterr.msg, "Duplicate entry 'A@X' for key 'uk_email'");
  CHECK_EQ_INT(ex("INSERT INTO \"d.u\" VALUES (3, NULL, 3), (4, NULL, 4)"), 0); /* NULLs never collide */
  CHECK_EQ_INT(ex("INSERT OR IGNORE INTO \"d.u\" VALUES (1, 'z@x', 9), (5, 'e@x', 5)"), 0);
  CHECK_EQ_INT(tbl_conn_affected(tc), 1);
  int nw;
  tbl_conn_warnings(tc, &nw);
  CHECK_EQ_INT(nw, 1);
  /* REPLACE deletes both conflicting rows (PK 1 and email b@x) */
  CHECK_EQ_INT(ex("REPLACE INTO \"d.u\" VALUES (1, 'b@x', 10)"), 0);
  CHECK_EQ_INT(tbl_conn_affected(tc), 3);
  CHECK_EQ_STR(q("SELECT id, email, n FROM \"d.u\" ORDER BY id"), "1|b@x|10;3|NULL|3;4|NULL|4;5|e@x|5");
  CHECK_EQ_INT(ex("UPDATE \"d.u\" SET email = 'E@x' WHERE id = 1"), 1062);
  CHECK_EQ_INT(ex("UPDATE \"d.u\" SET id = 3 WHERE id = 1"), 1062);
  CHECK_EQ_INT(ex("UPDATE \"d.u\" SET id = 7 WHERE id = 1"), 0);
  CHECK_EQ_STR(q("SELECT id FROM \"d.u\" WHERE email = 'B@X'"), "7");
  /* dup capture (ON DUPLICATE KEY UPDATE) */
  tbl_conn_stmt_begin(tc);
  tbl_conn_set_dup_capture(tc, 1);
  CHECK_EQ_INT(ex("INSERT INTO \"d.u\"(id, email) VALUES (5, 'new@x')"), 0);
  CHECK_EQ_INT(tbl_conn_dup_count(tc), 1);
  int64_t rid;
  sqlite3_value **vals;
  int nv;
  tbl_conn_dup_get(tc, 0, &rid, &vals, &nv);
  CHECK_EQ_INT(rid, 5);
  CHECK_EQ_INT(nv, 3);
  CHECK_EQ_STR((const char *)sqlite3_value_text(vals[1]), "new@x");
  tbl_conn_set_dup_capture(tc, 0);
  CHECK_EQ_STR(q("SELECT email FROM \"d.u\" WHERE id = 5"), "e@x");
  /* DELETE keeps the unique index in step */
  CHECK_EQ_INT(ex("DELETE FROM \"d.u\" WHERE id = 7"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.u\" VALUES (8, 'b@x', 1)"), 0);
}

TEST(autoinc_offsets) {
  CHECK_EQ_INT(ddl("CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(5))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.ai\"(s) VALUES ('a'),('b'),('c')"), 0);
  CHECK_EQ_INT(tbl_conn_insert_id(tc), 2);
  CHECK_EQ_STR(q("SELECT id, s FROM \"d.ai\""), "2|a;18|b;34|c");
  CHECK_EQ_INT(ex("INSERT INTO \"d.ai\" VALUES (100, 'x')"), 0);
  CHECK_EQ_INT(tbl_conn_insert_id(tc), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.ai\" VALUES (NULL, 'y'), (0, 'z')"), 0);
  CHECK_EQ_INT(tbl_conn_insert_id(tc), 114);
  CHECK_EQ_STR(q("SELECT id FROM \"d.ai\" WHERE s IN ('y','z') ORDER BY id"), "114;130");
}

TEST(no_pk_and_composite) {
  CHECK_EQ_INT(ddl("CREATE TABLE np (a INT, b VARCHAR(5))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.np\" VALUES (1, 'x'), (1, 'x'), (2, 'y')"), 0);
  CHECK_EQ_STR(q("SELECT count(*) FROM \"d.np\""), "3");
  CHECK_EQ_INT(ex("UPDATE \"d.np\" SET b = 'q' WHERE a = 1"), 0);
  CHECK_EQ_INT(tbl_conn_affected(tc), 2);
  CHECK_EQ_INT(ex("DELETE FROM \"d.np\" WHERE a = 2"), 0);
  CHECK_EQ_STR(q("SELECT a, b FROM \"d.np\""), "1|q;1|q");
  CHECK_EQ_INT(ddl("CREATE TABLE cp (a VARCHAR(5), b INT, v INT, PRIMARY KEY (a, b))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.cp\" VALUES ('x', 2, 1), ('x', 1, 2), ('w', 9, 3)"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.cp\" VALUES ('X', 1, 2)"), 1062);
  CHECK_EQ_STR(lasterr.msg, "Duplicate entry 'X-1' for key 'PRIMARY'");
  CHECK_EQ_STR(q("SELECT a, b FROM \"d.cp\""), "w|9;x|1;x|2");
  CHECK_EQ_INT(ex("UPDATE \"d.cp\" SET v = v + 10 WHERE a = 'x'"), 0);
  CHECK_EQ_STR(q("SELECT v FROM \"d.cp\" ORDER BY v"), "3;11;12");
  CHECK_EQ_INT(ex("DELETE FROM \"d.cp\" WHERE b = 1"), 0);
  CHECK_EQ_STR(q("SELECT a, b, v FROM \"d.cp\""), "w|9|3;x|2|11");
}

TEST(index_scans_and_order) {
  CHECK_EQ_INT(ddl("CREATE TABLE ix (id INT PRIMARY KEY, k INT, c VARCHAR(10), KEY k_k (k), KEY k_c (c))"), 0);
  char sql[256];
  for (int i = 1; i <= 50; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO \"d.ix\" VALUES (%d, %d, '%c%d')", i, (i * 7) % 10, i % 2 ? 'a' : 'B', 100 - i);
    CHECK_EQ_INT(ex(sql), 0);
  }
  CHECK_EQ_STR(q("SELECT id FROM \"d.ix\" WHERE id BETWEEN 10 AND 13"), "10;11;12;13");
  CHECK_EQ_STR(q("SELECT id FROM \"d.ix\" WHERE id > 47 ORDER BY id DESC"), "50;49;48");
  CHECK_EQ_STR(q("SELECT id FROM \"d.ix\" WHERE id < 4 ORDER BY id DESC"), "3;2;1");
  CHECK_EQ_STR(q("SELECT id FROM \"d.ix\" WHERE k = 3 ORDER BY id"), "9;19;29;39;49");
  CHECK_EQ_STR(q("SELECT id FROM \"d.ix\" WHERE id IN (5, 3, 99)"), "3;5");
  CHECK_EQ_STR(q("SELECT k FROM \"d.ix\" WHERE k >= 8 ORDER BY k DESC LIMIT 3"), "9;9;9");
  /* ORDER BY c on a range of id: SQLite must sort (sysbench) */
  CHECK_EQ_STR(q("SELECT c FROM \"d.ix\" WHERE id BETWEEN 1 AND 4 ORDER BY c"), "a97;a99;B96;B98");
  CHECK(strstr(plan("SELECT c FROM \"d.ix\" WHERE id BETWEEN 1 AND 4 ORDER BY c"), "ORDER BY") != NULL);
  /* an ordered index scan on c */
  CHECK_EQ_STR(q("SELECT c FROM \"d.ix\" WHERE c > 'b90' ORDER BY c LIMIT 3"), "B92;B94;B96");
  CHECK_EQ_STR(q("SELECT c FROM \"d.ix\" WHERE c < 'A52' ORDER BY c DESC LIMIT 2"), "a51");
  CHECK_EQ_STR(q("SELECT id FROM \"d.ix\" WHERE c = 'A99'"), "1");
  CHECK(strstr(plan("SELECT id FROM \"d.ix\" WHERE id = 5"), "INDEX") != NULL);
  CHECK_EQ_STR(q("SELECT count(*) FROM \"d.ix\" WHERE k = 3 AND id > 20"), "3");
}

TEST(snapshot_isolation_and_savepoints) {
  CHECK_EQ_INT(ddl("CREATE TABLE si (id INT PRIMARY KEY, n INT)"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.si\" VALUES (1, 10)"), 0);
  txn *reader = txn_begin(st, TXN_REPEATABLE_READ);
  cur = reader;
  CHECK_EQ_STR(q("SELECT n FROM \"d.si\""), "10");
  cur = NULL;
  CHECK_EQ_INT(ex("UPDATE \"d.si\" SET n = 20 WHERE id = 1"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.si\" VALUES (2, 30)"), 0);
  cur = reader;
  CHECK_EQ_STR(q("SELECT n FROM \"d.si\""), "10");
  tbl_conn_set_read_latest(tc, 1);
  CHECK_EQ_STR(q("SELECT n FROM \"d.si\""), "20;30");
  tbl_conn_set_read_latest(tc, 0);
  txn_rollback(reader);
  /* statement rollback and savepoints inside a txn */
  cur = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(ex("INSERT INTO \"d.si\" VALUES (3, 1)"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.si\" VALUES (4, 1), (1, 1)"), 1062); /* undone as a whole */
  CHECK_EQ_STR(q("SELECT id FROM \"d.si\""), "1;2;3");
  txn_savepoint(cur);
  CHECK_EQ_INT(ex("DELETE FROM \"d.si\" WHERE id = 3"), 0);
  CHECK_EQ_STR(q("SELECT id FROM \"d.si\""), "1;2");
  txn_rollback_to_savepoint(cur);
  CHECK_EQ_STR(q("SELECT id FROM \"d.si\""), "1;2;3");
  mm_error e;
  CHECK_EQ_INT(txn_commit(cur, &e), MM_OK);
  cur = NULL;
  CHECK_EQ_STR(q("SELECT id, n FROM \"d.si\""), "1|20;2|30;3|1");
}

TEST(decimal_compare) {
  CHECK_EQ_INT(ddl("CREATE TABLE dc (id INT PRIMARY KEY, p DECIMAL(8,2), big DECIMAL(30,10), KEY kp (p))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.dc\" VALUES (1, 5.5, '12345678901234567890.0123456789'), (2, 100, 1), (3, 20.25, 2)"), 0);
  CHECK_EQ_STR(q("SELECT id FROM \"d.dc\" WHERE p > 10 ORDER BY p"), "3;2");
  CHECK_EQ_STR(q("SELECT id FROM \"d.dc\" WHERE p = 5.50"), "1");
  CHECK_EQ_STR(q("SELECT big FROM \"d.dc\" WHERE id = 1"), "12345678901234567890.0123456789");
  CHECK_EQ_STR(q("SELECT id FROM \"d.dc\" WHERE big > 1.5"), "1;3");
}

/* Plain scans decode rows in place when their iterator is stable; a row
 * read through the transaction's own writes must be copied, since the
 * next write may move it.  INSERT ... SELECT over a join re-reads the
 * outer row after every insert; both kinds of iterator are used here
 * (autocommit: the outer scan starts before any write; then inside a
 * transaction that already wrote). */
TEST(insert_select_rereads_outer_rows) {
  CHECK_EQ_INT(ddl("CREATE TABLE ja (id INT PRIMARY KEY, s VARCHAR(100))"), 0);
  CHECK_EQ_INT(ddl("CREATE TABLE jb (id INT PRIMARY KEY)"), 0);
  CHECK_EQ_INT(ddl("CREATE TABLE jc (ai INT, bi INT, s VARCHAR(100), PRIMARY KEY (ai, bi))"), 0);
  char sql[256];
  for (int i = 1; i <= 30; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO \"d.ja\" VALUES (%d, 'row %d %0*d')", i, i, 60, i);
    CHECK_EQ_INT(ex(sql), 0);
    snprintf(sql, sizeof sql, "INSERT INTO \"d.jb\" VALUES (%d)", i);
    CHECK_EQ_INT(ex(sql), 0);
  }
  const char *copy = "INSERT INTO \"d.jc\" SELECT ja.id, jb.id, ja.s FROM \"d.ja\" ja CROSS JOIN \"d.jb\" jb";
  const char *check = "SELECT COUNT(*), SUM(jc.s = ja.s) FROM \"d.jc\" jc, \"d.ja\" ja WHERE ja.id = jc.ai";
  /* A transaction's batch keeps its capacity unless it passed 1 MB: write
   * more than that first, so that the next batch starts small and moves
   * while the join runs. */
  CHECK_EQ_INT(ddl("CREATE TABLE jbig (id INT PRIMARY KEY, b LONGBLOB)"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.jbig\" VALUES (1, zeroblob(1200000))"), 0);
  cur = txn_begin(st, TXN_REPEATABLE_READ);
  CHECK_EQ_INT(ex("UPDATE \"d.ja\" SET s = s || '!' WHERE id = 1"), 0);
  CHECK_EQ_INT(ex(copy), 0);
  CHECK_EQ_STR(q(check), "900|900");
  mm_error e;
  CHECK_EQ_INT(txn_commit(cur, &e), MM_OK);
  cur = NULL;
  CHECK_EQ_STR(q("SELECT COUNT(*) FROM \"d.jc\" WHERE s LIKE '%!'"), "30");
  CHECK_EQ_INT(ex("DELETE FROM \"d.jc\""), 0);
  CHECK_EQ_INT(ex(copy), 0);
  CHECK_EQ_STR(q(check), "900|900");
}

/* UPDATE and DELETE read the row they change once, under its X lock, and
 * xUpdate takes it from there while the transaction is unchanged
 * (txn_version).  The secondary index must follow every change: several
 * changes of one row in a transaction, a statement that fails after its
 * read, a DELETE, and a multi-row change of the primary key. */
TEST(update_delete_reuse_locked_row) {
  CHECK_EQ_INT(ddl("CREATE TABLE ur (id INT PRIMARY KEY, k INT, c VARCHAR(20), KEY kk (k))"), 0);
  CHECK_EQ_INT(ex("INSERT INTO \"d.ur\" VALUES (1, 0, 'a'), (2, 0, 'b'), (3, 5, 'c')"), 0);
  cur = txn_begin(st, TXN_REPEATABLE_READ);
  tbl_conn_set_read_latest(tc, 1); /* as the session runs UPDATE and DELETE */
  tbl_conn_set_lock(tc, TXN_LOCK_X, TXN_WAIT);
  CHECK_EQ_INT(ex("UPDATE \"d.ur\" SET k = k + 1 WHERE id = 1"), 0);
  CHECK_EQ_INT(ex("UPDATE \"d.ur\" SET k = k + 1 WHERE id = 1"), 0);
  CHECK_EQ_INT(ex("UPDATE \"d.ur\" SET c = 'x' WHERE id = 1"), 0);
  CHECK_EQ_INT(ex("UPDATE \"d.ur\" SET id = 3, k = 7 WHERE id = 1"), 1062); /* undone */
  CHECK_EQ_INT(ex("UPDATE \"d.ur\" SET k = k + 10 WHERE id = 1"), 0);
  CHECK_EQ_INT(ex("DELETE FROM \"d.ur\" WHERE id = 2"), 0);
  CHECK_EQ_INT(ex("UPDATE \"d.ur\" SET id = id + 100"), 0);
  tbl_conn_set_lock(tc, TXN_LOCK_NONE, TXN_WAIT);
  tbl_conn_set_read_latest(tc, 0);
  const char *rows = "101|12|x;103|5|c";
  CHECK_EQ_STR(q("SELECT id, k, c FROM \"d.ur\" ORDER BY id"), rows);
  CHECK_EQ_STR(q("SELECT id FROM \"d.ur\" WHERE k = 12"), "101");
  CHECK_EQ_STR(q("SELECT COUNT(*) FROM \"d.ur\" WHERE k IN (0, 1, 2, 7)"), "0");
  mm_error e;
  CHECK_EQ_INT(txn_commit(cur, &e), MM_OK);
  cur = NULL;
  CHECK_EQ_STR(q("SELECT id, k, c FROM \"d.ur\" ORDER BY id"), rows);
  CHECK_EQ_STR(q("SELECT k, id FROM \"d.ur\" ORDER BY k"), "5|103;12|101");
  CHECK_EQ_STR(q("SELECT id FROM \"d.ur\" WHERE k = 12"), "101");
  CHECK_EQ_STR(q("SELECT COUNT(*) FROM \"d.ur\" WHERE k IN (0, 1, 2, 7)"), "0");
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mm_test_vtab.%d", (int)getpid());
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  char *em;
  if (store_open(dir, &st, &em) != MM_OK) { fprintf(stderr, "open: %s\n", em); return 1; }
  mm_error e;
  if (tbl_catalog_open(st, &cat, &e) != MM_OK) { fprintf(stderr, "catalog: %s\n", e.msg); return 1; }
  sqlite3_open(":memory:", &db);
  tc = tbl_conn_new(db, cat, st, 2, 16);
  if (tbl_ddl(tc, NULL, "CREATE DATABASE d", 17, &e) != MM_OK) { fprintf(stderr, "db: %s\n", e.msg); return 1; }
  RUN(types_roundtrip);
  RUN(strict_errors);
  RUN(defaults);
  RUN(unique_and_conflicts);
  RUN(autoinc_offsets);
  RUN(no_pk_and_composite);
  RUN(index_scans_and_order);
  RUN(snapshot_isolation_and_savepoints);
  RUN(decimal_compare);
  RUN(insert_select_rereads_outer_rows);
  RUN(update_delete_reuse_locked_row);
  sqlite3_close(db);
  tbl_conn_free(tc);
  tbl_catalog_close(cat);
  store_close(st);
  if (system(cmd)) {}
  return unit_report("table_vtab");
}
