/*
 * table/tableInt.h - private to the table module (vtab.c, catalog.c,
 * ddl.c, infoschema.c).  Other modules use table.h and catalog.h only.
 */
#ifndef MM_TABLE_TABLEINT_H
#define MM_TABLE_TABLEINT_H

#include "table/table.h"

struct tbl_conn {
  sqlite3 *db;           /* the session's connection (not owned) */
  tbl_catalog *cat;      /* not owned */
  store *st;             /* not owned */
  txn *txn;              /* current transaction (not owned), may be NULL */
  int read_latest;       /* scans read the latest committed rows (UPDATE/DELETE/locking reads) */
  int lock_mode;         /* TXN_LOCK_*: rows reached by latest scans are locked first */
  int lock_policy;       /* TXN_WAIT / TXN_NOWAIT / TXN_SKIP_LOCKED */
  unsigned mode;         /* TBL_MODE_* */
  int tz_offset;         /* seconds east of UTC */
  int autoinc_offset;    /* 1..16 */
  int autoinc_increment; /* 16 */
  /* statement bookkeeping */
  uint64_t affected, matched, insert_id;
  mm_error err;          /* last error raised by a vtab call */
  mm_error *warnings;    /* array of nwarn (SHOW WARNINGS) */
  int nwarn, capwarn;
  int dup_capture;
  struct tbl_dup { int64_t rowid; sqlite3_value **vals; int ncols; } *dups;
  int ndups, capdups;
  /* declared tables: name -> def version (private to vtab.c) */
  void *declared;
  uint64_t synced_version;
  /* free for vtab.c's own use */
  void *priv;
  /* Set by the session (optional): prepare MySQL-dialect text, rewritten
   * to SQLite, on db.  ddl.c uses it for CREATE TABLE ... SELECT; without
   * it that statement answers 1235.  *out is finalized by the caller. */
  int (*prepare_mysql)(void *ctx, const char *sql, size_t len, sqlite3_stmt **out, mm_error *err);
  void *prepare_ctx;
};

/* Append a warning to the current statement's list (vtab.c, ddl.c). */
void tbl_conn_warn(tbl_conn *tc, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
