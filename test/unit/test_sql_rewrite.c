/*
 * test/unit/test_sql_rewrite.c - the MySQL -> SQLite dialect rewriter
 * (sql/rewrite.c): the rewritten text of the statements real clients send,
 * the errors, and the results of running rewritten statements on an
 * in-memory SQLite database whose tables are named "db.t" as the virtual
 * tables are.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/fn.h"
#include "sql/rewrite.h"
#include "unit.h"

static char out[8192];
static rw_out last;

/* Rewrite sql with current database curdb; the SQLite text, or "ERR <code>". */
static const char *rwm(const char *curdb, unsigned mode, const char *sql) {
  rw_in in = {curdb, mode};
  mm_error e;
  mm_error_clear(&e);
  rw_out_free(&last);
  rw_out_init(&last);
  int rc = rw_rewrite(&in, sql, strlen(sql), &last, &e);
  if (rc == MM_ESQL) snprintf(out, sizeof out, "ERR %d", e.code);
  else if (rc) snprintf(out, sizeof out, "RC %d", rc);
  else snprintf(out, sizeof out, "%s", last.sql.p ? last.sql.p : "");
  return out;
}
static const char *rw(const char *sql) { return rwm("db", 0, sql); }
static char errmsg[600];
static int rw_err(const char *curdb, const char *sql) {
  rw_in in = {curdb, 0};
  mm_error e;
  mm_error_clear(&e);
  rw_out o;
  rw_out_init(&o);
  int rc = rw_rewrite(&in, sql, strlen(sql), &o, &e);
  rw_out_free(&o);
  snprintf(errmsg, sizeof errmsg, "%s", e.msg);
  return rc == MM_ESQL ? e.code : rc;
}
#define RW(sql, want) CHECK_EQ_STR(rw(sql), want)

TEST(sysbench) {
  RW("SELECT c FROM sbtest1 WHERE id=?", "SELECT \"c\" FROM \"db.sbtest1\" AS \"sbtest1\" WHERE \"id\" = ?1");
  CHECK_EQ_INT(last.kind, RW_SELECT);
  CHECK_EQ_INT(last.nparams, 1);
  RW("SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
     "SELECT \"c\" FROM \"db.sbtest1\" AS \"sbtest1\" WHERE \"id\" BETWEEN ?1 AND ?2 ORDER BY \"c\"");
  RW("SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?",
     "SELECT SUM(\"k\") AS \"SUM(k)\" FROM \"db.sbtest1\" AS \"sbtest1\" WHERE \"id\" BETWEEN ?1 AND ?2");
  RW("SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
     "SELECT DISTINCT \"c\" FROM \"db.sbtest1\" AS \"sbtest1\" WHERE \"id\" BETWEEN ?1 AND ?2 ORDER BY \"c\"");
  RW("UPDATE sbtest1 SET k=k+1 WHERE id=?", "UPDATE \"db.sbtest1\" AS \"sbtest1\" SET \"k\" = \"k\" + 1 WHERE \"id\" = ?1");
  CHECK_EQ_INT(last.kind, RW_UPDATE);
  CHECK_EQ_STR(last.table_db, "db");
  CHECK_EQ_STR(last.table_name, "sbtest1");
  RW("UPDATE sbtest1 SET c=? WHERE id=?", "UPDATE \"db.sbtest1\" AS \"sbtest1\" SET \"c\" = ?1 WHERE \"id\" = ?2");
  RW("DELETE FROM sbtest1 WHERE id=?", "DELETE FROM \"db.sbtest1\" AS \"sbtest1\" WHERE \"id\" = ?1");
  CHECK_EQ_INT(last.kind, RW_DELETE);
  RW("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)",
     "INSERT INTO \"db.sbtest1\" (\"id\", \"k\", \"c\", \"pad\") VALUES (?1, ?2, ?3, ?4)");
  CHECK_EQ_INT(last.kind, RW_INSERT);
  CHECK_EQ_INT(last.nparams, 4);
  /* --db-ps-mode=disable sends literals */
  RW("SELECT c FROM sbtest1 WHERE id=5012", "SELECT \"c\" FROM \"db.sbtest1\" AS \"sbtest1\" WHERE \"id\" = 5012");
  RW("INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 2, '83868641912-28773972837', '67847967377-48000963322')",
     "INSERT INTO \"db.sbtest1\" (\"id\", \"k\", \"c\", \"pad\") VALUES (1, 2, '83868641912-28773972837', "
     "'67847967377-48000963322')");
}

TEST(strings) {
  /* PyMySQL escapes with backslashes */
  RW("INSERT INTO t VALUES ('it\\'s \\\"q\\\" é中', \"dq\", 'a\\\\b', 'x''y')",
     "INSERT INTO \"db.t\" VALUES ('it''s \"q\" é中', 'dq', 'a\\b', 'x''y')");
  RW("SELECT 'a\\nb'", "SELECT 'a\nb' AS \"a\nb\""); /* MySQL names a literal column by its value */
  RW("SELECT x'4142', 0x4142, b'101'", "SELECT X'4142' AS \"x'4142'\", X'4142' AS \"0x4142\", 5 AS \"b'101'\"");
  RW("SELECT 12345678901234567890.5", "SELECT '12345678901234567890.5' AS \"12345678901234567890.5\"");
  RW("SELECT 'abc' = 'ABC'", "SELECT 'abc' = 'ABC' COLLATE mm_ci AS \"'abc' = 'ABC'\"");
  /* NO_BACKSLASH_ESCAPES */
  CHECK_EQ_STR(rwm("db", RW_MODE_NO_BACKSLASH_ESCAPES, "SELECT 'a\\b' AS x"), "SELECT 'a\\b' AS \"x\"");
  /* ANSI_QUOTES: "x" is a name */
  CHECK_EQ_STR(rwm("db", RW_MODE_ANSI_QUOTES, "SELECT \"a\" FROM t"), "SELECT \"a\" FROM \"db.t\" AS \"t\"");
}

TEST(names) {
  RW("SELECT * FROM other.t2 JOIN t USING (id)", "SELECT * FROM \"other.t2\" AS \"t2\" JOIN \"db.t\" AS \"t\" USING (\"id\")");
  RW("SELECT `weird name`.`col` FROM `weird name`", "SELECT \"weird name\".\"col\" FROM \"db.weird name\" AS \"weird name\"");
  RW("SELECT db.t.c FROM db.t", "SELECT \"t\".\"c\" FROM \"db.t\" AS \"t\"");
  RW("SELECT * FROM information_schema.tables WHERE table_schema = 'db'",
     "SELECT * FROM \"information_schema.TABLES\" AS \"tables\" WHERE \"table_schema\" = 'db'");
  RW("WITH x AS (SELECT 1 AS a) SELECT a FROM x", "WITH \"x\" AS (SELECT 1 AS \"a\") SELECT \"a\" FROM \"x\" AS \"x\"");
}

TEST(operators) {
  RW("SELECT 5/2", "SELECT mm_divf(5, 2) AS \"5/2\"");
  RW("SELECT a/b + 1 FROM t", "SELECT mm_div(\"a\", \"b\") + 1 AS \"a/b + 1\" FROM \"db.t\" AS \"t\"");
  RW("SELECT 5 DIV 2", "SELECT mm_intdiv(5, 2) AS \"5 DIV 2\"");
  RW("SELECT 7 % 3, 7 MOD 3", "SELECT mm_mod(7, 3) AS \"7 % 3\", mm_mod(7, 3) AS \"7 MOD 3\"");
  RW("SELECT 1 || 0", "SELECT 1 OR 0 AS \"1 || 0\"");
  CHECK_EQ_STR(rwm("db", RW_MODE_PIPES_AS_CONCAT, "SELECT 'a' || 'b'"), "SELECT 'a' || 'b'");
  RW("SELECT a && b, !c FROM t", "SELECT \"a\" AND \"b\" AS \"a && b\", (NOT \"c\") AS \"!c\" FROM \"db.t\" AS \"t\"");
  RW("SELECT a <=> b, a != b, a XOR b, a ^ b FROM t",
     "SELECT \"a\" IS \"b\" AS \"a <=> b\", \"a\" <> \"b\" AS \"a != b\", mm_xor(\"a\", \"b\") AS \"a XOR b\", "
     "mm_bitxor(\"a\", \"b\") AS \"a ^ b\" FROM \"db.t\" AS \"t\"");
  RW("SELECT a FROM t WHERE a REGEXP '^x' AND b NOT RLIKE 'y'",
     "SELECT \"a\" FROM \"db.t\" AS \"t\" WHERE \"a\" REGEXP '^x' AND \"b\" NOT REGEXP 'y'");
}

TEST(vars) {
  RW("SELECT @@version_comment LIMIT 1", "SELECT mm_sysvar('version_comment', '') AS \"@@version_comment\" LIMIT 1");
  RW("SELECT @@session.autocommit, @@global.max_allowed_packet",
     "SELECT mm_sysvar('autocommit', 'session') AS \"@@session.autocommit\", mm_sysvar('max_allowed_packet', 'global') "
     "AS \"@@global.max_allowed_packet\"");
  RW("SELECT @a, @b := 5", "SELECT mm_uservar('a') AS \"@a\", mm_set_uservar('b', 5) AS \"@b := 5\"");
}

TEST(functions) {
  RW("SELECT NOW(), CURRENT_TIMESTAMP, UTC_TIMESTAMP",
     "SELECT NOW(), now() AS \"CURRENT_TIMESTAMP\", utc_timestamp() AS \"UTC_TIMESTAMP\"");
  RW("SELECT DATE_ADD(d, INTERVAL 1 DAY) AS x, d - INTERVAL 2 HOUR AS y, INTERVAL 1 DAY + d AS z FROM t",
     "SELECT mm_date_add(\"d\", 1, 'DAY') AS \"x\", mm_date_sub(\"d\", 2, 'HOUR') AS \"y\", mm_date_add(\"d\", 1, 'DAY') "
     "AS \"z\" FROM \"db.t\" AS \"t\"");
  RW("SELECT CAST(a AS SIGNED) x, CONVERT(b, CHAR(10)) y, CAST(c AS DECIMAL(10,2)) z, CONVERT(d USING utf8mb4) w FROM t",
     "SELECT mm_cast(\"a\", 'SIGNED') AS \"x\", mm_cast(\"b\", 'CHAR(10)') AS \"y\", mm_cast(\"c\", 'DECIMAL(10,2)') AS "
     "\"z\", (\"d\") AS \"w\" FROM \"db.t\" AS \"t\"");
  RW("SELECT GROUP_CONCAT(DISTINCT a ORDER BY b DESC SEPARATOR ';') x FROM t GROUP BY c",
     "SELECT mm_group_concat(';', 1, 1, \"a\", \"b\", 1) AS \"x\" FROM \"db.t\" AS \"t\" GROUP BY \"c\"");
  RW("SELECT SUBSTRING(a FROM 2 FOR 3) x, TRIM(LEADING 'x' FROM a) y, POSITION('a' IN b) z, EXTRACT(YEAR FROM d) w FROM t",
     "SELECT substring(\"a\", 2, 3) AS \"x\", mm_trim(\"a\", 'x', 'LEADING') AS \"y\", locate('a', \"b\") AS \"z\", "
     "mm_extract('YEAR', \"d\") AS \"w\" FROM \"db.t\" AS \"t\"");
  RW("SELECT IF(a, 1, 2) x, LEFT(a, 2) y, ROUND(a, 1) z FROM t",
     "SELECT iif(\"a\", 1, 2) AS \"x\", mm_left(\"a\", 2) AS \"y\", mm_round(\"a\", 1) AS \"z\" FROM \"db.t\" AS \"t\"");
  RW("SELECT COUNT(*) FROM t", "SELECT COUNT(*) FROM \"db.t\" AS \"t\"");
}

TEST(dml) {
  RW("SELECT * FROM t LIMIT 5, 10", "SELECT * FROM \"db.t\" AS \"t\" LIMIT 10 OFFSET 5");
  RW("SELECT * FROM t LIMIT 10 OFFSET 5", "SELECT * FROM \"db.t\" AS \"t\" LIMIT 10 OFFSET 5");
  RW("INSERT IGNORE INTO t (a) VALUES (1)", "INSERT OR IGNORE INTO \"db.t\" (\"a\") VALUES (1)");
  RW("REPLACE INTO t (a, b) VALUES (1, 2)", "INSERT OR REPLACE INTO \"db.t\" (\"a\", \"b\") VALUES (1, 2)");
  CHECK_EQ_INT(last.kind, RW_REPLACE);
  RW("INSERT INTO t SET a = 1, b = 'x'", "INSERT INTO \"db.t\" (\"a\", \"b\") VALUES (1, 'x')");
  RW("INSERT INTO t (a, b) VALUES (1, 2) ON DUPLICATE KEY UPDATE b = VALUES(b) + 1",
     "INSERT INTO \"db.t\" (\"a\", \"b\") VALUES (1, 2)");
  CHECK_EQ_STR(last.dup_update.p, "UPDATE \"db.t\" AS \"t\" SET \"b\" = ?2 + 1 WHERE rowid = ?1");
  CHECK_EQ_INT(last.ndup_cols, 1);
  CHECK_EQ_STR(last.dup_cols[0], "b");
  RW("UPDATE t SET a = 1 WHERE b > 2 ORDER BY c LIMIT 3",
     "UPDATE \"db.t\" AS \"t\" SET \"a\" = 1 WHERE rowid IN (SELECT rowid FROM \"db.t\" AS \"t\" WHERE \"b\" > 2 ORDER "
     "BY \"c\" LIMIT 3)");
  RW("DELETE FROM t WHERE b > 2 LIMIT 3",
     "DELETE FROM \"db.t\" AS \"t\" WHERE rowid IN (SELECT rowid FROM \"db.t\" AS \"t\" WHERE \"b\" > 2 LIMIT 3)");
  RW("SELECT SQL_CALC_FOUND_ROWS * FROM t FOR UPDATE", "SELECT * FROM \"db.t\" AS \"t\"");
  CHECK_EQ_INT(last.lock, RW_LOCK_UPDATE);
  CHECK_EQ_INT(last.calc_found_rows, 1);
  RW("SELECT * FROM t LOCK IN SHARE MODE", "SELECT * FROM \"db.t\" AS \"t\"");
  CHECK_EQ_INT(last.lock, RW_LOCK_SHARE);
  RW("SELECT * FROM t FOR UPDATE NOWAIT", "SELECT * FROM \"db.t\" AS \"t\"");
  CHECK_EQ_INT(last.lock_wait, RW_NOWAIT);
  RW("SELECT SQL_NO_CACHE a FROM t", "SELECT \"a\" FROM \"db.t\" AS \"t\"");
}

TEST(dump) {
  /* what mariadb-dump sends / writes */
  RW("SELECT /*!40001 SQL_NO_CACHE */ * FROM `t1`", "SELECT * FROM \"db.t1\" AS \"t1\"");
  RW("INSERT INTO `t1` VALUES (1,'a\\'b',NULL,0x00FF),(2,'',-1.5,'2024-01-01 00:00:00')",
     "INSERT INTO \"db.t1\" VALUES (1, 'a''b', NULL, X'00FF'), (2, '', -1.5, '2024-01-01 00:00:00')");
  RW("INSERT  IGNORE INTO `t1` VALUES (1)", "INSERT OR IGNORE INTO \"db.t1\" VALUES (1)");
}

TEST(errors) {
  CHECK_EQ_INT(rw_err(NULL, "SELECT * FROM t"), 1046);
  CHECK_EQ_STR(errmsg, "No database selected");
  CHECK_EQ_INT(rw_err(NULL, "SELECT 1"), 0);
  CHECK_EQ_INT(rw_err(NULL, "SELECT * FROM db.t"), 0);
  CHECK_EQ_INT(rw_err("db", "SELEC 1"), 1064);
  CHECK(strstr(errmsg, "near 'SELEC 1' at line 1") != NULL);
  CHECK_EQ_INT(rw_err("db", "SELECT a FROM"), 1064);
  CHECK(strstr(errmsg, "near '' at line 1") != NULL);
  CHECK_EQ_INT(rw_err("db", "SELECT * FROM t WHERE\n a = = 1"), 1064);
  CHECK(strstr(errmsg, "at line 2") != NULL);
  CHECK_EQ_INT(rw_err("db", "SELECT 'abc"), 1064);
  CHECK_EQ_INT(rw_err("db", "SELECT MATCH (a) AGAINST ('x') FROM t"), 1235);
  CHECK_EQ_INT(rw_err("db", "SELECT (1"), 1064);
}

/* ---- executing rewritten statements -------------------------------------- */

static sqlite3 *db;
static fn_state st;
static char res[4096];

static int ex(const char *mysql) {
  if (strncmp(rw(mysql), "ERR", 3) == 0 || strncmp(out, "RC", 2) == 0) return -1;
  char *err = NULL;
  int rc = sqlite3_exec(db, out, NULL, NULL, &err);
  if (rc) fprintf(stderr, "exec %s: %s\n", out, err ? err : "?");
  sqlite3_free(err);
  return rc;
}
/* Rows of a MySQL query, rewritten and run: "a,b|c,d". */
static const char *qq(const char *mysql) {
  if (strncmp(rw(mysql), "ERR", 3) == 0) return out;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, out, -1, &s, NULL) != SQLITE_OK) {
    snprintf(res, sizeof res, "PREPARE: %s", sqlite3_errmsg(db));
    return res;
  }
  size_t n = 0;
  res[0] = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n) n += (size_t)snprintf(res + n, sizeof res - n, "|");
    for (int i = 0; i < sqlite3_column_count(s); i++) {
      const char *v = (const char *)sqlite3_column_text(s, i);
      n += (size_t)snprintf(res + n, sizeof res - n, "%s%s", i ? "," : "", v ? v : "NULL");
      if (n >= sizeof res) n = sizeof res - 1;
    }
  }
  if (rc != SQLITE_DONE) snprintf(res, sizeof res, "STEP: %s", sqlite3_errmsg(db));
  sqlite3_finalize(s);
  return res;
}
#define QQ(sql, want) CHECK_EQ_STR(qq(sql), want)

TEST(execute) {
  CHECK(sqlite3_exec(db, "CREATE TABLE \"db.t\"(id INTEGER PRIMARY KEY, a, b TEXT COLLATE mm_ci, d);", NULL, NULL, NULL) == 0);
  CHECK_EQ_INT(ex("INSERT INTO t (id, a, b, d) VALUES (1, 10, 'it\\'s', '2024-01-31'), (2, 20, 'B', '2024-02-29 10:00:00')"), 0);
  CHECK_EQ_INT(ex("INSERT INTO t SET id = 3, a = 30, b = \"c\\\\d\", d = NULL"), 0);
  QQ("SELECT id, b FROM t ORDER BY id", "1,it's|2,B|3,c\\d");
  QQ("SELECT id FROM t WHERE b = 'b'", "2");
  QQ("SELECT a / 4, a DIV 3, a % 7 FROM t WHERE id = 1", "2.5000,3,3");
  QQ("SELECT a / 0 FROM t WHERE id = 1", "NULL");
  QQ("SELECT 1 || 0, 0 || 0", "1,0");
  QQ("SELECT id FROM t ORDER BY id LIMIT 1, 1", "2");
  QQ("SELECT DATE_ADD(d, INTERVAL 1 MONTH) FROM t WHERE id = 1", "2024-02-29");
  QQ("SELECT d + INTERVAL 1 DAY FROM t WHERE id = 2", "2024-03-01 10:00:00");
  QQ("SELECT GROUP_CONCAT(b ORDER BY a DESC SEPARATOR '/') FROM t", "c\\d/B/it's");
  QQ("SELECT CONCAT(b, '-', a), CAST(a AS CHAR), LEFT(b, 1), IF(a > 15, 'hi', 'lo') FROM t WHERE id = 2", "B-20,20,B,hi");
  QQ("SELECT TRIM(LEADING 'i' FROM b), SUBSTRING(b FROM 2) FROM t WHERE id = 1", "t's,t's");
  QQ("SELECT COUNT(*), SUM(a) FROM t WHERE b REGEXP '^[a-c]'", "2,50");
  CHECK_EQ_INT(ex("INSERT IGNORE INTO t (id, a) VALUES (1, 99), (4, 40)"), 0);
  QQ("SELECT a FROM t WHERE id IN (1, 4) ORDER BY id", "10|40");
  CHECK_EQ_INT(ex("REPLACE INTO t (id, a) VALUES (1, 11)"), 0);
  QQ("SELECT a, b FROM t WHERE id = 1", "11,NULL");
  CHECK_EQ_INT(ex("UPDATE t SET a = a + 1 WHERE a > 10 ORDER BY a DESC LIMIT 2"), 0);
  QQ("SELECT id, a FROM t ORDER BY id", "1,11|2,20|3,31|4,41");
  CHECK_EQ_INT(ex("DELETE FROM t WHERE a > 10 ORDER BY a LIMIT 1"), 0);
  QQ("SELECT COUNT(*) FROM t", "3");
  QQ("SELECT @@x", "PREPARE: no such function: mm_sysvar");
  /* ON DUPLICATE KEY UPDATE: the session runs dup_update with the row's values */
  CHECK(strcmp(rw("INSERT INTO t (id, a) VALUES (2, 5) ON DUPLICATE KEY UPDATE a = a + VALUES(a)"), "ERR") != 0);
  sqlite3_stmt *s;
  CHECK(sqlite3_prepare_v2(db, last.dup_update.p, -1, &s, NULL) == SQLITE_OK);
  CHECK_EQ_STR(last.dup_update.p, "UPDATE \"db.t\" AS \"t\" SET \"a\" = \"a\" + ?2 WHERE rowid = ?1");
  CHECK_EQ_INT(last.ndup_cols, 1); /* the columns named in VALUES(), in order of first use */
  sqlite3_bind_int(s, 1, 2); /* rowid */
  sqlite3_bind_int(s, 2, 5); /* VALUES(a) */
  CHECK(sqlite3_step(s) == SQLITE_DONE);
  sqlite3_finalize(s);
  QQ("SELECT a FROM t WHERE id = 2", "25");
}

int main(void) {
  st.db = "db";
  if (sqlite3_open(":memory:", &db) != SQLITE_OK || fn_register(db, &st) != SQLITE_OK) return 1;
  rw_out_init(&last);
  RUN(sysbench);
  RUN(strings);
  RUN(names);
  RUN(operators);
  RUN(vars);
  RUN(functions);
  RUN(dml);
  RUN(dump);
  RUN(errors);
  RUN(execute);
  rw_out_free(&last);
  sqlite3_close(db);
  return unit_report("sql_rewrite");
}
