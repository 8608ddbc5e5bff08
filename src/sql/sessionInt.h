/*
 * sql/sessionInt.h - private to the sql module: the session struct, shared
 * by session.c (dispatch, transactions, statements), show.c (SHOW and the
 * session-owned information_schema tables) and setvar.c (SET).
 *
 * Session state machine (s->state), checked on every change:
 *
 *   IDLE --sess_query/sess_execute--> RUNNING --done--> IDLE
 *   any --sess_kill(conn)--> KILLED (the protocol closes the connection)
 *
 * Transaction state: s->txn != NULL while a transaction is open.  With
 * autocommit=1 and no BEGIN, each statement opens and ends its own txn
 * (s->explicit_txn == 0).  BEGIN / START TRANSACTION / autocommit=0 open an
 * explicit one that lasts until COMMIT / ROLLBACK / DDL / disconnect.
 */
#ifndef MM_SQL_SESSIONINT_H
#define MM_SQL_SESSIONINT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "sql/fn.h"
#include "sql/instanceInt.h"
#include "sql/lex.h"
#include "sql/rewrite.h"
#include "sql/session.h"
#include "table/table.h"
#include "txn/txn.h"

enum { SESS_IDLE, SESS_RUNNING, SESS_KILLED };

typedef struct sess_uvar {
  char *name;
  sqlite3_value *val; /* sqlite3_value_dup'd; NULL = SQL NULL */
} sess_uvar;

/* How to print a REAL result column (session.c, cell_text).  expr: an
 * expression column, whose kind follows the first row's type. */
typedef struct colfmt { int kind; int scale; int expr; } colfmt;

typedef struct sess_stmt {
  uint32_t id;
  char *mysql;          /* original text */
  size_t mysql_len;
  int nparams;
  sqlite3_stmt *st;     /* prepared SQLite statement for data statements, else NULL */
  rw_out rw;            /* rewrite result (data statements) */
  mm_col *cols;         /* metadata from prepare */
  char *colstrs;        /* string storage for cols */
  int ncols;
  uint64_t cat_version; /* catalog version when prepared */
  colfmt *fmt;          /* print formats of the columns, from the first execution
                           since (re)prepare; NULL until then */
} sess_stmt;

struct sess {
  mm_instance *inst;
  uint32_t id;
  char *user, *host;
  char *db;
  int charset;
  sqlite3 *sql;
  tbl_conn *tc;
  fn_state fn;
  var_val *vars;        /* session values of all variables */
  txn *txn;
  int explicit_txn;     /* BEGIN seen / autocommit off */
  int txn_read_only;
  int next_isolation;   /* SET TRANSACTION ISOLATION LEVEL (next txn only), -1 none */
  int multi;            /* CLIENT_MULTI_STATEMENTS */
  unsigned sql_mode_rw; /* RW_MODE_* */
  unsigned sql_mode_tbl;/* TBL_MODE_* */
  int savepoint_depth;  /* SQL savepoints on the txn */
  char **savepoint_names;
  /* user variables */
  sess_uvar *uvars;
  int nuvars, capuvars;
  /* prepared statements */
  sess_stmt **stmts;
  uint32_t *stmt_ids; /* stmt_ids[i] == stmts[i]->id: found without a pointer per entry */
  int nstmts, capstmts;
  uint32_t next_stmt_id;
  /* warnings of the last statement (beyond the table layer's) */
  mm_error warn[64];
  int nwarn;
  uint64_t warn_total;
  mm_error pending;     /* error raised inside an SQLite function callback */
  /* process list */
  _Atomic int state;
  _Atomic int kill_query;
  int fd;
  pthread_mutex_t info_mu; /* guards info and command */
  char *info;           /* current statement text (PROCESSLIST INFO), NULL when none */
  char *info_buf;       /* info points here when set; kept between statements */
  size_t info_cap;
  const char *command;  /* "Sleep", "Query", "Execute" */
  uint64_t state_since_us;
  uint64_t synced_cat_version;
  /* field-list scratch */
  mm_col *fl_cols;
  char *fl_strs;
  int fl_ncols;
};

/* Run one MySQL statement (already split). */
int sess_exec_one(sess *s, const char *sql, size_t len, const mm_value *params, int nparams,
                  int more, mm_sink *out);
/* Run rewritten SQLite text / a prepared SQLite statement and send its result. */
int sess_run_select_sql(sess *s, const char *mysql_text, int more, mm_sink *out);
/* Send a simple result set of text columns from an array of rows (NULL = SQL NULL). */
int sess_send_rows(sess *s, const char *const *names, int ncols, const char *const *cells,
                   int nrows, int more, mm_sink *out);
/* SHOW ...; SET ...; (show.c, setvar.c) */
int sess_show(sess *s, lex *l, int more, mm_sink *out);
int sess_set(sess *s, lex *l, const char *sql, size_t len, int more, mm_sink *out);
int sess_register_infoschema(sess *s);
/* Called after a session variable changed (applies side effects). */
int sess_var_changed(sess *s, int var, mm_error *err);
int sess_send_error(sess *s, mm_sink *out, const mm_error *e);
int sess_send_ok(sess *s, mm_sink *out, uint64_t affected, uint64_t insert_id, const char *info, int more);
int sess_prepare_sql(sess *s, const char *sql, sqlite3_stmt **out, mm_error *err);
void sess_map_sqlite_error(sess *s, int rc, const char *where, mm_error *err);
int sess_syntax_error_at(sess *s, lex *l, lex_token *t, mm_sink *out);
int sess_unsupported(sess *s, mm_sink *out, const char *what);
void sess_col_from_def(mm_col *c, const tbl_def *def, int ci);
/* Transactions */
int sess_commit(sess *s, mm_error *err);
void sess_rollback(sess *s);
/* Variable value for SELECT @@x: returns via sqlite3_context. */
void sess_sysvar_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
int sess_var_index(sess *s, const char *name, size_t n, mm_error *err);
void sess_var_get(sess *s, int i, int global, var_val *out);
int sess_uvar_set(sess *s, const char *name, sqlite3_value *v);
/* MySQL LIKE match (case-insensitive, \ escape). */
int sess_like(const char *pat, const char *s);
uint16_t sess_status(sess *s);
/* Quote an identifier / string literal in MySQL syntax into b. */
void sess_quote_ident(mm_buf *b, const char *s);
void sess_quote_str(mm_buf *b, const char *s);

#endif
