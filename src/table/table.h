/*
 * table/table.h - tables as SQLite virtual tables, for one session.
 *
 * A tbl_conn binds a session's sqlite3 connection to the catalog and to the
 * session's current transaction.  Every MySQL table db.t is seen in SQLite
 * as the virtual table "db.t" (one name with a dot, in the main schema,
 * module "mm"), declared lazily in each connection: after a "no such table"
 * the session calls tbl_conn_declare and prepares again.
 *
 * The virtual table enforces what SQLite ignores on virtual tables: NOT NULL,
 * defaults, types and ranges (strict mode), UNIQUE and PRIMARY KEY,
 * AUTO_INCREMENT (auto_increment_increment 16, offset = the node's slot),
 * ON UPDATE CURRENT_TIMESTAMP, INSERT IGNORE (OR IGNORE), REPLACE (OR
 * REPLACE).  When a statement fails, the MySQL error is available from
 * tbl_conn_error().
 *
 * Columns are declared to SQLite with a decltype that names the MySQL type,
 * and text columns with a case-insensitive collation ("mm_ci") unless the
 * column is binary.
 */
#ifndef MM_TABLE_TABLE_H
#define MM_TABLE_TABLE_H

#include <sqlite3.h>
#include <stdint.h>

#include "table/catalog.h"
#include "txn/txn.h"
#include "util/mm.h"

typedef struct tbl_conn tbl_conn;

/* sql_mode bits the table layer honours. */
enum {
  TBL_MODE_STRICT = 1,             /* STRICT_TRANS_TABLES / STRICT_ALL_TABLES */
  TBL_MODE_NO_ZERO_DATE = 2,
  TBL_MODE_NO_AUTO_VALUE_ON_ZERO = 4,
  TBL_MODE_PAD_CHAR_TO_FULL_LENGTH = 8,
};

/* Register the "mm" module and the mm_ci collation on db.  The tbl_conn is
 * owned by the caller (free with tbl_conn_free after sqlite3_close). */
tbl_conn *tbl_conn_new(sqlite3 *db, tbl_catalog *cat, store *st, int autoinc_offset,
                       int autoinc_increment);
void tbl_conn_free(tbl_conn *tc);

/* Declare "db.name" in this connection if the catalog has it (and re-declare
 * it if its definition changed).  MM_OK, MM_ENOTFOUND (err: 1146), or an error. */
int tbl_conn_declare(tbl_conn *tc, const char *db, const char *name, mm_error *err);
/* Drop declarations whose definitions are gone or changed since they were
 * declared (called when tbl_catalog_version moved). */
int tbl_conn_sync(tbl_conn *tc);

/* The transaction every read and write of the next statements goes to.
 * NULL: reads are refused (SQLITE_ERROR).  Not owned. */
void tbl_conn_set_txn(tbl_conn *tc, txn *t);
void tbl_conn_set_mode(tbl_conn *tc, unsigned mode_bits);
/* on = 1: table scans of the next statements read the latest committed rows
 * (plus the txn's own writes) instead of the snapshot: the session sets it
 * for UPDATE, DELETE, INSERT ... SELECT targets and locking reads (FOR
 * UPDATE / FOR SHARE), as InnoDB reads them.  Writes always check
 * uniqueness and re-read the row being changed at latest. */
void tbl_conn_set_read_latest(tbl_conn *tc, int on);
/* Row locks taken by the next statements' latest scans (read_latest on):
 * mode TXN_LOCK_NONE / TXN_LOCK_S / TXN_LOCK_X and policy TXN_WAIT /
 * TXN_NOWAIT / TXN_SKIP_LOCKED (txn.h).  Each row a scan reaches is locked
 * before it is read (then re-read at latest), so UPDATE ... SET n = n + 1
 * never loses an update.  Writes always X-lock the primary key and the
 * unique-index entries of the rows they write or delete.  A lock failure
 * fails the statement with 1205 / 1213 / 3572 in tbl_conn_error(). */
void tbl_conn_set_lock(tbl_conn *tc, int mode, int policy);
/* Session time zone offset in seconds, for CURRENT_TIMESTAMP defaults. */
void tbl_conn_set_tz(tbl_conn *tc, int offset_seconds);

/* Statement bookkeeping: call before each statement; after it, the counts
 * MySQL reports: affected rows (INSERT: rows inserted; REPLACE: +2 per
 * replaced row; UPDATE: rows changed; DELETE: rows deleted), the first
 * AUTO_INCREMENT value generated (0 if none), and warnings. */
void tbl_conn_stmt_begin(tbl_conn *tc);
uint64_t tbl_conn_affected(tbl_conn *tc);
uint64_t tbl_conn_matched(tbl_conn *tc);  /* UPDATE: rows matched */
uint64_t tbl_conn_insert_id(tbl_conn *tc);
/* Warnings of the last statement (SHOW WARNINGS); *n set, array owned by tc. */
const mm_error *tbl_conn_warnings(tbl_conn *tc, int *n);
/* The MySQL error of the last failed vtab call (code 0 if none). */
const mm_error *tbl_conn_error(tbl_conn *tc);

/* ON DUPLICATE KEY UPDATE support: while armed, an INSERT row that hits a
 * duplicate key does not fail and inserts nothing; instead the vtab records
 * the conflicting existing row's rowid together with copies of the values
 * the row would have been inserted with (after defaults), in the table's
 * column order.  The session then runs the rewriter's dup_update statement
 * once per recorded row, in order.  The list is cleared by
 * tbl_conn_stmt_begin and by tbl_conn_set_dup_capture. */
void tbl_conn_set_dup_capture(tbl_conn *tc, int on);
int tbl_conn_dup_count(tbl_conn *tc);
/* i-th recorded conflict: *rowid and *vals (ncols sqlite3_value copies,
 * owned by tc, valid until the list is cleared). */
void tbl_conn_dup_get(tbl_conn *tc, int i, int64_t *rowid, sqlite3_value ***vals, int *ncols);

/* Execute a DDL statement (CREATE/DROP DATABASE, CREATE/DROP/ALTER/RENAME/
 * TRUNCATE TABLE, CREATE/DROP INDEX) given as MySQL text.  curdb may be NULL.
 * The caller has committed any open transaction (implicit commit).  On
 * success the catalog version moves.  Errors as MySQL would give them
 * (1050, 1051, 1146, 1007, 1008, 1049, 1064, 1068, 1072, 1091, 1062, ...). */
int tbl_ddl(tbl_conn *tc, const char *curdb, const char *sql, size_t len, mm_error *err);

/* Hook for DDL that embeds a query (CREATE TABLE ... SELECT): prepare
 * MySQL-dialect text on the connection (rewritten to SQLite, tables
 * declared).  *out is finalized by the caller. */
typedef int (*tbl_prepare_fn)(void *ctx, const char *sql, size_t len, sqlite3_stmt **out,
                              mm_error *err);
void tbl_conn_set_prepare_hook(tbl_conn *tc, tbl_prepare_fn fn, void *ctx);

/* Register information_schema.* virtual tables (SCHEMATA, TABLES, COLUMNS,
 * STATISTICS, KEY_COLUMN_USAGE, ...) on this connection, named
 * "information_schema.X" like ordinary tables. */
int tbl_infoschema_register(tbl_conn *tc, mm_error *err);

#endif
