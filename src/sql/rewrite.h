/*
 * sql/rewrite.h - MySQL data statements rewritten into SQLite's dialect.
 *
 * Input: one MySQL statement (SELECT, WITH, INSERT, REPLACE, UPDATE, DELETE,
 * and SELECT-like parts of other statements).  Output: SQLite SQL that the
 * session prepares against the virtual tables, with the same meaning as
 * MySQL gives the input.  The rules (each one tested in
 * test/unit/test_sql_rewrite.c):
 *
 * - Names: `x` -> "x".  A table reference db.t -> "db.t" AS "t"; a bare t ->
 *   "<curdb>.t" AS "t" (1046 "No database selected" if no current
 *   database); information_schema.X -> "information_schema.X" with X in
 *   upper case.  db.t.c in expressions -> "t"."c".  Names of CTEs are not
 *   qualified.
 * - Strings: MySQL escapes are decoded and re-quoted for SQLite; "..." is a
 *   string (not ANSI_QUOTES); x'..'/0x.. -> blob literal; b'..' -> integer.
 *   Decimal literals longer than 15 significant digits become strings so
 *   that DECIMAL columns receive them exactly.
 * - Operators: a / b -> mm_div(a, b) (MySQL division: NULL on zero,
 *   decimal result); DIV -> mm_intdiv; MOD / % -> mm_mod; || -> OR (unless
 *   PIPES_AS_CONCAT); && -> AND; XOR; ! -> NOT; <=> -> IS; REGEXP / RLIKE;
 *   = and <> on strings compare case-insensitively via column collations.
 * - Syntax: INTERVAL arithmetic and DATE_ADD/DATE_SUB/ADDDATE/SUBDATE ->
 *   mm_date_add(d, n, 'UNIT'); CAST/CONVERT(x, type) -> mm_cast(x, 'TYPE');
 *   CONVERT(x USING cs) -> x; SUBSTRING(x FROM a FOR b); TRIM(LEADING|
 *   TRAILING|BOTH y FROM x); GROUP_CONCAT([DISTINCT] x [ORDER BY ..]
 *   [SEPARATOR s]); CURRENT_TIMESTAMP / CURRENT_DATE / CURRENT_TIME /
 *   LOCALTIME[STAMP] / UTC_* without parentheses -> function calls;
 *   @@[session.|global.]v -> mm_sysvar('v', 'session'|'global'|'');
 *   @v -> mm_uservar('v'); @v := e -> mm_set_uservar('v', e).
 * - Statement modifiers: SQL_NO_CACHE, SQL_CACHE, SQL_CALC_FOUND_ROWS (flag
 *   set), HIGH_PRIORITY, STRAIGHT_JOIN, LOW_PRIORITY, DELAYED, QUICK are
 *   removed; FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE [NOWAIT | SKIP
 *   LOCKED] are removed and reported in `lock`.
 * - INSERT IGNORE -> INSERT OR IGNORE; REPLACE -> INSERT OR REPLACE;
 *   INSERT ... SET a=1 -> INSERT ... (a) VALUES (1); INSERT ... ON DUPLICATE
 *   KEY UPDATE: the INSERT part goes to `sql` and the assignments to
 *   `dup_update` (see below).  UPDATE/DELETE ... ORDER BY/LIMIT -> rowid IN
 *   (SELECT rowid ... ORDER BY ... LIMIT ...).  Multi-table UPDATE (UPDATE
 *   a JOIN b ... SET) and DELETE (DELETE a FROM a JOIN b ...) -> rowid IN
 *   subqueries.
 * - Select-list items whose SQLite text would differ from the MySQL text
 *   get an explicit alias with the MySQL text, so result column names are
 *   what MySQL would send ("COUNT(*)", "@@version_comment", "1+1").
 * - Anything the rewriter does not support is an error 1235 naming it;
 *   syntax errors are 1064 with MySQL's "near '...' at line N" text.
 */
#ifndef MM_SQL_REWRITE_H
#define MM_SQL_REWRITE_H

#include <stddef.h>
#include "util/mm.h"

enum { RW_SELECT = 1, RW_INSERT, RW_REPLACE, RW_UPDATE, RW_DELETE };
enum { RW_LOCK_NONE = 0, RW_LOCK_UPDATE = 1, RW_LOCK_SHARE = 2 };
enum { RW_WAIT = 0, RW_NOWAIT = 1, RW_SKIP_LOCKED = 2 };

/* sql_mode bits the rewriter honours. */
enum {
  RW_MODE_ANSI_QUOTES = 1,
  RW_MODE_PIPES_AS_CONCAT = 2,
  RW_MODE_NO_BACKSLASH_ESCAPES = 4,
  RW_MODE_HIGH_NOT_PRECEDENCE = 8,
};

typedef struct rw_in {
  const char *curdb; /* current database, or NULL */
  unsigned mode;     /* RW_MODE_* */
} rw_in;

typedef struct rw_out {
  mm_buf sql;        /* the SQLite statement (NUL-terminated) */
  int kind;          /* RW_* */
  int nparams;       /* number of '?' placeholders, in order */
  int lock;          /* RW_LOCK_* */
  int lock_wait;     /* RW_WAIT / RW_NOWAIT / RW_SKIP_LOCKED */
  int calc_found_rows;
  /* INSERT ... ON DUPLICATE KEY UPDATE: non-empty when present.  An UPDATE
   * statement text of the form  UPDATE "db.t" AS "t" SET <assignments>
   * WHERE rowid = ?1  in which each VALUES(col) (or new.col) of the
   * original became ?K, K-2 being the position of col in `dup_cols`.  '?'
   * placeholders in the assignments are refused (1235).  The session runs
   * it for each inserted row that hit a duplicate, with the row's rowid and
   * values. */
  mm_buf dup_update;
  char **dup_cols;   /* the columns named in VALUES(col) / alias.col, in order of first use (?2 is dup_cols[0]); NULL if none */
  int ndup_cols;
  char *table_db;    /* INSERT/REPLACE/UPDATE/DELETE: target table */
  char *table_name;
} rw_out;

void rw_out_init(rw_out *o);
void rw_out_free(rw_out *o);

/* Rewrite one statement.  MM_OK, or MM_ESQL with err filled (1064, 1046,
 * 1235), or MM_ENOMEM. */
int rw_rewrite(const rw_in *in, const char *sql, size_t len, rw_out *out, mm_error *err);

#endif
