/*
 * sql/result.h - how statement results leave the SQL layer.
 *
 * The session (sql/session.c) produces results; the protocol layer
 * (proto/) implements an mm_sink that encodes them as MySQL packets, in the
 * text protocol for COM_QUERY and the binary protocol for COM_STMT_EXECUTE.
 *
 * Contract for one statement, in order:
 *   - a result set:  columns() once, row() zero or more times, end_rows();
 *   - or no result set: ok();
 *   - or error(), which ends the whole COM_QUERY / COM_STMT_EXECUTE (later
 *     statements of a multi-statement query are not run).
 * `more` is non-zero when another result follows (multi-statements), so the
 * protocol sets SERVER_MORE_RESULTS_EXISTS.  `status` carries the
 * SERVER_STATUS_* bits (in transaction, autocommit, ...).
 * Cells are always given in the text-protocol form of their column's type
 * (e.g. "42", "3.50", "2026-11-21 10:00:00", raw bytes for strings/blobs);
 * the binary-protocol encoder converts them by column type.
 * Every pointer passed to a sink is owned by the caller and valid only for
 * the duration of the call.  A sink function returns 0, or non-zero when the
 * connection is broken; the session then stops producing output.
 */
#ifndef MM_SQL_RESULT_H
#define MM_SQL_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include "util/mm.h"

/* MySQL field types (include/mysql_com.h enum_field_types). */
enum {
  MYSQL_TYPE_DECIMAL = 0, MYSQL_TYPE_TINY = 1, MYSQL_TYPE_SHORT = 2, MYSQL_TYPE_LONG = 3,
  MYSQL_TYPE_FLOAT = 4, MYSQL_TYPE_DOUBLE = 5, MYSQL_TYPE_NULL = 6, MYSQL_TYPE_TIMESTAMP = 7,
  MYSQL_TYPE_LONGLONG = 8, MYSQL_TYPE_INT24 = 9, MYSQL_TYPE_DATE = 10, MYSQL_TYPE_TIME = 11,
  MYSQL_TYPE_DATETIME = 12, MYSQL_TYPE_YEAR = 13, MYSQL_TYPE_NEWDATE = 14,
  MYSQL_TYPE_VARCHAR = 15, MYSQL_TYPE_BIT = 16, MYSQL_TYPE_JSON = 245,
  MYSQL_TYPE_NEWDECIMAL = 246, MYSQL_TYPE_ENUM = 247, MYSQL_TYPE_SET = 248,
  MYSQL_TYPE_TINY_BLOB = 249, MYSQL_TYPE_MEDIUM_BLOB = 250, MYSQL_TYPE_LONG_BLOB = 251,
  MYSQL_TYPE_BLOB = 252, MYSQL_TYPE_VAR_STRING = 253, MYSQL_TYPE_STRING = 254,
  MYSQL_TYPE_GEOMETRY = 255
};

/* Column definition flags. */
enum {
  MM_FLAG_NOT_NULL = 1, MM_FLAG_PRI_KEY = 2, MM_FLAG_UNIQUE_KEY = 4, MM_FLAG_MULTIPLE_KEY = 8,
  MM_FLAG_BLOB = 16, MM_FLAG_UNSIGNED = 32, MM_FLAG_ZEROFILL = 64, MM_FLAG_BINARY = 128,
  MM_FLAG_ENUM = 256, MM_FLAG_AUTO_INCREMENT = 512, MM_FLAG_TIMESTAMP = 1024, MM_FLAG_SET = 2048,
  MM_FLAG_NO_DEFAULT_VALUE = 4096, MM_FLAG_ON_UPDATE_NOW = 8192, MM_FLAG_NUM = 32768
};

/* Character set / collation ids used in column definitions. */
enum { MM_CS_UTF8MB3 = 33, MM_CS_UTF8MB4 = 45, MM_CS_BINARY = 63, MM_CS_UTF8MB4_BIN = 46 };

/* SERVER_STATUS_* bits. */
enum {
  MM_STATUS_IN_TRANS = 0x0001, MM_STATUS_AUTOCOMMIT = 0x0002, MM_STATUS_MORE_RESULTS = 0x0008,
  MM_STATUS_NO_GOOD_INDEX = 0x0010, MM_STATUS_NO_INDEX = 0x0020, MM_STATUS_CURSOR_EXISTS = 0x0040,
  MM_STATUS_LAST_ROW_SENT = 0x0080, MM_STATUS_DB_DROPPED = 0x0100,
  MM_STATUS_NO_BACKSLASH_ESCAPES = 0x0200, MM_STATUS_IN_TRANS_READONLY = 0x2000
};

/* One column of a result set, as in MySQL's ColumnDefinition41. */
typedef struct mm_col {
  const char *db;        /* schema of the source table, "" for expressions */
  const char *table;     /* table alias as written in the query, or "" */
  const char *org_table; /* real table name, or "" */
  const char *name;      /* column alias / label */
  const char *org_name;  /* real column name, or "" */
  uint16_t charset;      /* MM_CS_*: 63 (binary) for numbers, dates and blobs */
  uint32_t length;       /* display length in bytes, as MySQL reports it */
  uint8_t type;          /* MYSQL_TYPE_* */
  uint16_t flags;        /* MM_FLAG_* */
  uint8_t decimals;      /* digits after the point; 31 (0x1f) for "not fixed" */
} mm_col;

/* One value of a row: NULL, or bytes in the text-protocol form. */
typedef struct mm_cell {
  const char *p;
  size_t n;
  int null;
} mm_cell;

typedef struct mm_sink mm_sink;
struct mm_sink {
  int (*columns)(mm_sink *s, const mm_col *cols, int ncols);
  int (*row)(mm_sink *s, const mm_cell *cells, int ncols);
  int (*end_rows)(mm_sink *s, uint16_t status, uint16_t warnings, int more);
  int (*ok)(mm_sink *s, uint64_t affected, uint64_t insert_id, uint16_t status,
            uint16_t warnings, const char *info, int more);
  int (*error)(mm_sink *s, const mm_error *e);
  void *ctx; /* for the implementer */
};

/* A statement parameter (COM_STMT_EXECUTE), decoded by the protocol layer.
 * Dates and times arrive as text ("2026-11-21 10:00:00.000000", "10:00:00",
 * "2026-11-21"); DECIMAL as its text; strings and blobs as bytes. */
enum { MM_V_NULL, MM_V_INT, MM_V_UINT, MM_V_DOUBLE, MM_V_TEXT, MM_V_BLOB };
typedef struct mm_value {
  int kind;       /* MM_V_* */
  int64_t i;      /* MM_V_INT; MM_V_UINT as (int64_t)u */
  double d;       /* MM_V_DOUBLE */
  const char *p;  /* MM_V_TEXT / MM_V_BLOB bytes (not NUL-terminated) */
  size_t n;
} mm_value;

#endif
