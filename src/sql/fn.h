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
