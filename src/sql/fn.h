/*
 * sql/fn.h - MySQL's built-in functions, registered into SQLite.
 *
 * fn_register() adds to a session's sqlite3 connection the MySQL functions
 * SQLite lacks or defines differently (NOW, CURDATE, UNIX_TIMESTAMP,
 * FROM_UNIXTIME, DATE_FORMAT, mm_date_add, CONCAT, CONCAT_WS, IF, IFNULL,
 * LOCATE, LPAD, RPAD, LEFT, RIGHT, MD5, SHA1, SHA2, HEX, UNHEX, UUID, RAND,
 * FLOOR, CEIL, ROUND, TRUNCATE, GREATEST, LEAST, mm_div, mm_intdiv, mm_mod,
 * mm_cast, REGEXP, LAST_INSERT_ID, ROW_COUNT, FOUND_ROWS, DATABASE, SCHEMA,
 * USER, CURRENT_USER, VERSION, CONNECTION_ID, mm_group_concat, ...), with
 * MySQL's semantics: NULL propagation, implicit string<->number
 * conversion, DATETIME text formats ('YYYY-MM-DD HH:MM:SS[.ffffff]').
 *
 * Session-dependent functions read the fn_state the session passes in.
 *
 * Conventions with the rewriter (rewrite.c) and the session:
 * - mm_div(a, b) (a / b inside an expression) is REAL, NULL when b = 0.
 *   mm_divf(a, b) (a / b that is a whole select item) is TEXT with MySQL's
 *   scale, scale(a) + div_precision_increment (4): SELECT 5/2 -> '2.5000'.
 * - mm_cast(x, 'DECIMAL(m,d)') is REAL (INTEGER when d = 0) so that
 *   comparisons stay numeric; CAST to UNSIGNED of a value above INT64_MAX
 *   (and BIT_AND of no rows) is decimal TEXT.
 * - Dates and times are TEXT; invalid ones give NULL (no warnings).
 * - Also registered: the aggregates mm_group_concat (group_concat_max_len
 *   1024), STD, STDDEV[_POP|_SAMP], VARIANCE, VAR_POP, VAR_SAMP, BIT_AND,
 *   BIT_OR, BIT_XOR, and the collation mm_ci (utf8mb4_general_ci-like,
 *   codec_ci_cmp in table/codec.c).
 * - Not registered here: mm_sysvar, mm_uservar, mm_set_uservar (session).
 */
#ifndef MM_SQL_FN_H
#define MM_SQL_FN_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct fn_state {
  const char *db;          /* DATABASE(); NULL if none */
  const char *user;        /* USER(): "root@localhost" */
  const char *version;     /* VERSION() */
  uint32_t conn_id;        /* CONNECTION_ID() */
  uint64_t last_insert_id; /* LAST_INSERT_ID(); LAST_INSERT_ID(x) sets it */
  uint64_t found_rows;     /* FOUND_ROWS() */
  int64_t row_count;       /* ROW_COUNT() */
  int tz_offset;           /* session time zone, seconds east of UTC */
  int64_t stmt_time_us;    /* NOW(): wall-clock time at statement start (UTC, us) */
} fn_state;

/* Register every function on db.  st must outlive db.  SQLITE_OK or an
 * SQLite error code. */
int fn_register(sqlite3 *db, fn_state *st);

#endif
