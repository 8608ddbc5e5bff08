/*
 * sql/session.c - one client session: statement dispatch, transactions,
 * prepared statements, and the bridge from SQLite results to result sinks.
 * See session.h for the API and sessionInt.h for the state machine.
 *
 * The path of a data statement (SELECT/INSERT/UPDATE/DELETE/REPLACE):
 *   sess_exec_one -> classify by first keyword -> rw_rewrite (MySQL ->
 *   SQLite text) -> prepare (declaring "db.t" virtual tables on demand) ->
 *   txn for the statement (statement savepoint in an explicit transaction)
 *   -> sqlite3_step rows into the sink -> commit (autocommit) or release.
 */
#include "sql/sessionInt.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- small helpers -------------------------------------------------------- */
void sess_quote_ident(mm_buf *b, const char *s) {
  mm_buf_putc(b, '`');
  for (; *s; s++) {
    if (*s == '`') mm_buf_putc(b, '`');
    mm_buf_putc(b, *s);
  }
  mm_buf_putc(b, '`');
}

void sess_quote_str(mm_buf *b, const char *s) {
  mm_buf_putc(b, '\'');
  for (; *s; s++) {
    if (*s == '\'' || *s == '\\') mm_buf_putc(b, '\\');
    mm_buf_putc(b, *s);
  }
  mm_buf_putc(b, '\'');
}

int sess_like(const char *p, const char *s) {
  for (;;) {
    if (!*p) return !*s;
    if (*p == '%') {
      while (*p == '%') p++;
      if (!*p) return 1;
      for (; *s; s++)
        if (sess_like(p, s)) return 1;
      return 0;
    }
    if (!*s) return 0;
    if (*p == '\\' && p[1]) {
      p++;
      if (*p != *s) return 0;
    } else if (*p != '_' && tolower((unsigned char)*p) != tolower((unsigned char)*s)) {
      return 0;
    }
    p++;
    s++;
  }
}

static void set_info(sess *s, const char *cmd, const char *text, size_t n) {
  if (n > 65535) n = 65535;
  pthread_mutex_lock(&s->info_mu);
  s->info = NULL;
  if (text && n + 1 > s->info_cap) { /* the buffer is reused: no allocation per statement */
    mm_free(s->info_buf);
    s->info_cap = n + 1 < 256 ? 256 : n + 1;
    s->info_buf = mm_malloc(s->info_cap);
    if (!s->info_buf) s->info_cap = 0;
  }
  if (text && s->info_buf) {
    memcpy(s->info_buf, text, n);
    s->info_buf[n] = 0;
    s->info = s->info_buf;
  }
  s->command = cmd;
  s->state_since_us = mm_now_us();
  pthread_mutex_unlock(&s->info_mu);
}

uint16_t sess_status(sess *s) {
  uint16_t st = 0;
  if (s->vars[var_find("autocommit", 10)].i) st |= MM_STATUS_AUTOCOMMIT;
  if (s->txn && s->explicit_txn) st |= MM_STATUS_IN_TRANS;
  if (s->txn_read_only && s->explicit_txn) st |= MM_STATUS_IN_TRANS_READONLY;
  if (s->sql_mode_rw & RW_MODE_NO_BACKSLASH_ESCAPES) st |= MM_STATUS_NO_BACKSLASH_ESCAPES;
  return st;
}

static uint16_t warn_count(sess *s) {
  int n = 0;
  tbl_conn_warnings(s->tc, &n);
  n += s->nwarn;
  return (uint16_t)(n > 65535 ? 65535 : n);
}

int sess_send_error(sess *s, mm_sink *out, const mm_error *e) {
  return out->error(out, e);
}

int sess_send_ok(sess *s, mm_sink *out, uint64_t affected, uint64_t insert_id, const char *info,
                 int more) {
  return out->ok(out, affected, insert_id, sess_status(s), warn_count(s), info, more);
}

/* ---- variables ------------------------------------------------------------ */
static int VI_AUTOCOMMIT, VI_SQL_MODE, VI_TX_ISO, VI_TRANSACTION_ISO, VI_TIME_ZONE,
    VI_MAX_PACKET, VI_TX_RO, VI_TRANSACTION_RO, VI_LAST_INSERT_ID, VI_IDENTITY, VI_READ_ONLY,
    VI_LOCK_WAIT_TIMEOUT;
static pthread_once_t vi_once = PTHREAD_ONCE_INIT;
static void vi_init(void) {
#define VI(v, n) v = var_find(n, strlen(n))
  VI(VI_AUTOCOMMIT, "autocommit");
  VI(VI_SQL_MODE, "sql_mode");
  VI(VI_TX_ISO, "tx_isolation");
  VI(VI_TRANSACTION_ISO, "transaction_isolation");
  VI(VI_TIME_ZONE, "time_zone");
  VI(VI_MAX_PACKET, "max_allowed_packet");
  VI(VI_TX_RO, "tx_read_only");
  VI(VI_TRANSACTION_RO, "transaction_read_only");
  VI(VI_LAST_INSERT_ID, "last_insert_id");
  VI(VI_IDENTITY, "identity");
  VI(VI_READ_ONLY, "read_only");
  VI(VI_LOCK_WAIT_TIMEOUT, "innodb_lock_wait_timeout");
#undef VI
}

int sess_var_index(sess *s, const char *name, size_t n, mm_error *err) {
  int i = var_find(name, n);
  if (i < 0) mm_error_set(err, 1193, "HY000", "Unknown system variable '%.*s'", (int)n, name);
  return i;
}

void sess_var_get(sess *s, int i, int global, var_val *out) {
  if (global || !(var_defs[i].scope & VS_SESSION)) {
    vars_global_get(s->inst, i, out);
    return;
  }
  *out = s->vars[i];
  if (out->s) out->s = mm_strdup(out->s);
  if (i == VI_LAST_INSERT_ID || i == VI_IDENTITY) out->i = (int64_t)s->fn.last_insert_id;
}

/* Parse sql_mode into the rewriter's and the table layer's bits, and
 * canonicalise it (upper case, expanded combination modes). */
static int apply_sql_mode(sess *s, mm_error *err) {
  char *m = s->vars[VI_SQL_MODE].s;
  unsigned rw = 0, tb = 0;
  mm_buf canon;
  mm_buf_init(&canon);
  static const char *known[] = {
      "ALLOW_INVALID_DATES", "ANSI_QUOTES", "ERROR_FOR_DIVISION_BY_ZERO", "HIGH_NOT_PRECEDENCE",
      "IGNORE_SPACE", "NO_AUTO_CREATE_USER", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES",
      "NO_DIR_IN_CREATE", "NO_ENGINE_SUBSTITUTION", "NO_FIELD_OPTIONS", "NO_KEY_OPTIONS",
      "NO_TABLE_OPTIONS", "NO_UNSIGNED_SUBTRACTION", "NO_ZERO_DATE", "NO_ZERO_IN_DATE",
      "ONLY_FULL_GROUP_BY", "PAD_CHAR_TO_FULL_LENGTH", "PIPES_AS_CONCAT", "REAL_AS_FLOAT",
      "STRICT_ALL_TABLES", "STRICT_TRANS_TABLES", "ANSI", "TRADITIONAL", "DB2", "MAXDB",
      "MSSQL", "MYSQL323", "MYSQL40", "ORACLE", "POSTGRESQL", "EMPTY_STRING_IS_NULL",
      "SIMULTANEOUS_ASSIGNMENT", "TIME_ROUND_FRACTIONAL", NULL};
  const char *p = m ? m : "";
  while (*p) {
    while (*p == ',' || *p == ' ') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != ',') e++;
    size_t n = (size_t)(e - p);
    while (n && p[n - 1] == ' ') n--;
    char w[64];
    if (n >= sizeof w) goto bad;
    for (size_t k = 0; k < n; k++) w[k] = (char)toupper((unsigned char)p[k]);
    w[n] = 0;
    int ok = 0;
    for (int k = 0; known[k]; k++) if (!strcmp(known[k], w)) ok = 1;
    if (!ok) {
    bad:
      mm_buf_free(&canon);
      return mm_error_set(err, 1231, "42000", "Variable 'sql_mode' can't be set to the value of '%.*s'", (int)n, p);
    }
    const char *add = w;
    if (!strcmp(w, "TRADITIONAL"))
      add = "STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION,TRADITIONAL";
    else if (!strcmp(w, "ANSI"))
      add = "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI";
    if (strstr(add, "STRICT_")) tb |= TBL_MODE_STRICT;
    if (strstr(add, "NO_ZERO_DATE")) tb |= TBL_MODE_NO_ZERO_DATE;
    if (strstr(add, "NO_AUTO_VALUE_ON_ZERO")) tb |= TBL_MODE_NO_AUTO_VALUE_ON_ZERO;
    if (strstr(add, "PAD_CHAR_TO_FULL_LENGTH")) tb |= TBL_MODE_PAD_CHAR_TO_FULL_LENGTH;
    if (strstr(add, "ANSI_QUOTES")) rw |= RW_MODE_ANSI_QUOTES;
    if (strstr(add, "PIPES_AS_CONCAT")) rw |= RW_MODE_PIPES_AS_CONCAT;
    if (strstr(add, "NO_BACKSLASH_ESCAPES")) rw |= RW_MODE_NO_BACKSLASH_ESCAPES;
    if (strstr(add, "HIGH_NOT_PRECEDENCE")) rw |= RW_MODE_HIGH_NOT_PRECEDENCE;
    if (canon.len) mm_buf_putc(&canon, ',');
    mm_buf_puts(&canon, add);
    p = e;
  }
  mm_free(s->vars[VI_SQL_MODE].s);
  s->vars[VI_SQL_MODE].s = canon.p ? mm_buf_steal(&canon, NULL) : mm_strdup("");
  s->sql_mode_rw = rw;
  s->sql_mode_tbl = tb;
  tbl_conn_set_mode(s->tc, tb);
  return MM_OK;
}

/* Parse a time_zone value: SYSTEM (UTC on our servers), '+HH:MM', '-HH:MM', 'UTC'. */
static int apply_time_zone(sess *s, mm_error *err) {
  const char *z = s->vars[VI_TIME_ZONE].s;
  int off = 0;
  if (!z || !strcasecmp(z, "SYSTEM") || !strcasecmp(z, "UTC") || !strcasecmp(z, "GMT")) {
    off = 0;
  } else if ((z[0] == '+' || z[0] == '-') && isdigit((unsigned char)z[1])) {
    int h = 0, m = 0;
    if (sscanf(z + 1, "%d:%d", &h, &m) != 2 || h > 14 || m > 59)
      return mm_error_set(err, 1298, "HY000", "Unknown or incorrect time zone: '%s'", z);
    off = (h * 3600 + m * 60) * (z[0] == '-' ? -1 : 1);
  } else {
    return mm_error_set(err, 1298, "HY000", "Unknown or incorrect time zone: '%s'", z);
  }
  s->fn.tz_offset = off;
  tbl_conn_set_tz(s->tc, off);
  return MM_OK;
}

int sess_var_changed(sess *s, int i, mm_error *err) {
  if (i == VI_SQL_MODE) return apply_sql_mode(s, err);
  if (i == VI_TIME_ZONE) return apply_time_zone(s, err);
  if (i == VI_TX_ISO || i == VI_TRANSACTION_ISO) {
    const char *v = s->vars[i].s;
    if (v && (!strcmp(v, "SERIALIZABLE") || !strcmp(v, "READ-UNCOMMITTED"))) {
      /* Aurora multi-master and mmsql support REPEATABLE READ and READ COMMITTED only. */
      int ser = !strcmp(v, "SERIALIZABLE");
      mm_free(s->vars[i].s);
      s->vars[i].s = mm_strdup("REPEATABLE-READ");
      return mm_error_set(err, 1235, "42000",
                          "This version of mmsql doesn't yet support '%s isolation level' "
                          "(a multi-master cluster certifies write sets, it cannot serialize reads)",
                          ser ? "SERIALIZABLE" : "READ UNCOMMITTED");
    }
    int other = i == VI_TX_ISO ? VI_TRANSACTION_ISO : VI_TX_ISO;
    mm_free(s->vars[other].s);
    s->vars[other].s = v ? mm_strdup(v) : NULL;
    return MM_OK;
  }
  if (i == VI_TX_RO || i == VI_TRANSACTION_RO) {
    s->vars[i == VI_TX_RO ? VI_TRANSACTION_RO : VI_TX_RO].i = s->vars[i].i;
    return MM_OK;
  }
  if (i == VI_AUTOCOMMIT) {
    if (s->vars[i].i && s->txn) return sess_commit(s, err); /* SET autocommit=1 commits */
    return MM_OK;
  }
  if (i == VI_LAST_INSERT_ID || i == VI_IDENTITY) {
    s->fn.last_insert_id = (uint64_t)s->vars[i].i;
    return MM_OK;
  }
  return MM_OK;
}

/* ---- user variables ---------------------------------------------------------- */
static sess_uvar *uvar_find(sess *s, const char *name) {
  for (int i = 0; i < s->nuvars; i++)
    if (!strcasecmp(s->uvars[i].name, name)) return &s->uvars[i];
  return NULL;
}

int sess_uvar_set(sess *s, const char *name, sqlite3_value *v) {
  sess_uvar *u = uvar_find(s, name);
  sqlite3_value *copy = NULL;
  if (v && sqlite3_value_type(v) != SQLITE_NULL) {
    copy = sqlite3_value_dup(v);
    if (!copy) return MM_ENOMEM;
  }
  if (!u) {
    if (s->nuvars == s->capuvars) {
      int cap = s->capuvars ? s->capuvars * 2 : 8;
      sess_uvar *p = mm_realloc(s->uvars, (size_t)cap * sizeof *p);
      if (!p) { sqlite3_value_free(copy); return MM_ENOMEM; }
      s->uvars = p;
      s->capuvars = cap;
    }
    u = &s->uvars[s->nuvars];
    u->name = mm_strdup(name);
    if (!u->name) { sqlite3_value_free(copy); return MM_ENOMEM; }
    u->val = NULL;
    s->nuvars++;
  }
  sqlite3_value_free(u->val);
  u->val = copy;
  return MM_OK;
}

static void fn_uservar(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sess *s = sqlite3_user_data(ctx);
  const char *name = (const char *)sqlite3_value_text(argv[0]);
  sess_uvar *u = name ? uvar_find(s, name) : NULL;
  if (u && u->val) sqlite3_result_value(ctx, u->val);
  else sqlite3_result_null(ctx);
}

static void fn_set_uservar(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sess *s = sqlite3_user_data(ctx);
  const char *name = (const char *)sqlite3_value_text(argv[0]);
  if (!name || sess_uvar_set(s, name, argv[1]) != MM_OK) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_value(ctx, argv[1]);
}

void sess_sysvar_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sess *s = sqlite3_user_data(ctx);
  const char *name = (const char *)sqlite3_value_text(argv[0]);
  const char *scope = argc > 1 ? (const char *)sqlite3_value_text(argv[1]) : "";
  if (!name) { sqlite3_result_null(ctx); return; }
  int i = sess_var_index(s, name, strlen(name), &s->pending);
  if (i < 0) { sqlite3_result_error(ctx, s->pending.msg, -1); return; }
  int global = scope && !strcasecmp(scope, "global");
  if (global && !(var_defs[i].scope & VS_GLOBAL)) {
    mm_error_set(&s->pending, 1238, "HY000", "Variable '%s' is a SESSION variable", var_defs[i].name);
    sqlite3_result_error(ctx, s->pending.msg, -1);
    return;
  }
  if (scope && !strcasecmp(scope, "session") && !(var_defs[i].scope & VS_SESSION)) {
    mm_error_set(&s->pending, 1238, "HY000", "Variable '%s' is a GLOBAL variable", var_defs[i].name);
    sqlite3_result_error(ctx, s->pending.msg, -1);
    return;
  }
  var_val v;
  sess_var_get(s, i, global, &v);
  switch (var_defs[i].type) {
  case VT_BOOL: case VT_INT: sqlite3_result_int64(ctx, v.i); break;
  case VT_UINT:
    if (v.i < 0) sqlite3_result_text(ctx, "18446744073709551615", -1, SQLITE_STATIC);
    else sqlite3_result_int64(ctx, v.i);
    break;
  case VT_DOUBLE: sqlite3_result_double(ctx, v.d); break;
  default:
    if (v.s) sqlite3_result_text(ctx, v.s, -1, SQLITE_TRANSIENT);
    else sqlite3_result_null(ctx);
  }
  var_val_free(&v);
}

/* For DDL with an embedded query (CREATE TABLE ... SELECT). */
static int prepare_mysql_hook(void *ctx, const char *sql, size_t len, sqlite3_stmt **out, mm_error *err) {
  sess *s = ctx;
  rw_in in = {s->db, s->sql_mode_rw};
  rw_out rw;
  rw_out_init(&rw);
  int rc = rw_rewrite(&in, sql, len, &rw, err);
  if (rc == MM_OK) rc = sess_prepare_sql(s, rw.sql.p, out, err);
  rw_out_free(&rw);
  return rc;
}

/* ---- lifecycle ------------------------------------------------------------------- */
sess *sess_new(mm_instance *inst, uint32_t conn_id, const char *user, const char *host,
               const char *db, int charset, mm_error *err) {
  pthread_once(&vi_once, vi_init);
  sess *s = mm_calloc(1, sizeof *s);
  if (!s) { mm_error_set(err, 1037, "HY001", "Out of memory"); return NULL; }
  s->inst = inst;
  s->id = conn_id;
  s->fd = -1;
  s->next_isolation = -1;
  s->next_stmt_id = 1;
  s->charset = charset;
  pthread_mutex_init(&s->info_mu, NULL);
  s->command = "Sleep";
  s->state_since_us = mm_now_us();
  s->user = mm_strdup(user ? user : "");
  s->host = mm_strdup(host ? host : "localhost");
  s->vars = vars_session_copy(inst);
  if (!s->user || !s->host || !s->vars) goto err_oom;
  if (sqlite3_open_v2(":memory:", &s->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    goto err_oom;
  sqlite3_extended_result_codes(s->sql, 1);
  /* "x" is always an identifier in the SQL we generate: never let SQLite
   * fall back to reading an unknown "column" as a string literal. */
  sqlite3_db_config(s->sql, SQLITE_DBCONFIG_DQS_DML, 0, (int *)0);
  sqlite3_db_config(s->sql, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)0);
  const mm_options *o = &inst->opt;
  s->tc = tbl_conn_new(s->sql, inst->cat, inst->st, o->auto_increment_offset, 16);
  if (!s->tc) goto err_oom;
  mm_buf ub;
  mm_buf_init(&ub);
  mm_buf_printf(&ub, "%s@%s", s->user, s->host);
  s->fn.user = mm_buf_steal(&ub, NULL);
  s->fn.version = MM_VERSION;
  s->fn.conn_id = conn_id;
  if (!s->fn.user) goto err_oom;
  if (fn_register(s->sql, &s->fn) != SQLITE_OK) goto err_oom;
  int fl = SQLITE_UTF8;
  if (sqlite3_create_function(s->sql, "mm_sysvar", 2, fl, s, sess_sysvar_fn, NULL, NULL) ||
      sqlite3_create_function(s->sql, "mm_sysvar", 1, fl, s, sess_sysvar_fn, NULL, NULL) ||
      sqlite3_create_function(s->sql, "mm_uservar", 1, fl, s, fn_uservar, NULL, NULL) ||
      sqlite3_create_function(s->sql, "mm_set_uservar", 2, fl, s, fn_set_uservar, NULL, NULL))
    goto err_oom;
  tbl_conn_set_prepare_hook(s->tc, prepare_mysql_hook, s);
  if (tbl_infoschema_register(s->tc, err) != MM_OK) goto err_free;
  if (sess_register_infoschema(s) != MM_OK) goto err_oom;
  if (apply_sql_mode(s, err) != MM_OK || apply_time_zone(s, err) != MM_OK) goto err_free;
  if (inst_proc_add(inst, s) != MM_OK) goto err_oom;
  if (db && *db) {
    if (sess_use(s, db, err) != MM_OK) {
      /* caller decides: the session exists but the handshake fails with 1049 */
      return s;
    }
  }
  mm_error_clear(err);
  return s;

err_oom:
  mm_error_set(err, 1037, "HY001", "Out of memory");
err_free:
  if (s->sql) sqlite3_close(s->sql);
  if (s->tc) tbl_conn_free(s->tc);
  vars_session_free(s->vars);
  mm_free((char *)s->fn.user);
  mm_free(s->user);
  mm_free(s->host);
  pthread_mutex_destroy(&s->info_mu);
  mm_free(s);
  return NULL;
}

static void stmt_free(sess_stmt *st) {
  if (!st) return;
  sqlite3_finalize(st->st);
  rw_out_free(&st->rw);
  mm_free(st->mysql);
  mm_free(st->cols);
  mm_free(st->colstrs);
  mm_free(st->fmt);
  mm_free(st);
}

void sess_set_socket(sess *s, int fd) { s->fd = fd; }

void sess_free(sess *s) {
  if (!s) return;
  inst_proc_remove(s->inst, s);
  sess_rollback(s);
  for (int i = 0; i < s->nstmts; i++) stmt_free(s->stmts[i]);
  mm_free(s->stmts);
  mm_free(s->stmt_ids);
  for (int i = 0; i < s->nuvars; i++) {
    mm_free(s->uvars[i].name);
    sqlite3_value_free(s->uvars[i].val);
  }
  mm_free(s->uvars);
  for (int i = 0; i < s->savepoint_depth; i++) mm_free(s->savepoint_names[i]);
  mm_free(s->savepoint_names);
  sqlite3_close(s->sql);
  tbl_conn_free(s->tc);
  vars_session_free(s->vars);
  mm_free((char *)s->fn.user);
  mm_free(s->db);
  mm_free(s->user);
  mm_free(s->host);
  mm_free(s->info_buf);
  mm_free(s->fl_cols);
  mm_free(s->fl_strs);
  pthread_mutex_destroy(&s->info_mu);
  mm_free(s);
}

void sess_kill(sess *s, int query_only) {
  s->kill_query = 1;
  sqlite3_interrupt(s->sql);
  if (!query_only) {
    s->state = SESS_KILLED;
    if (s->fd >= 0) shutdown(s->fd, SHUT_RDWR);
  }
}

int sess_killed(sess *s) { return s->state == SESS_KILLED; }
uint64_t sess_max_allowed_packet(sess *s) { return (uint64_t)s->vars[VI_MAX_PACKET].i; }
void sess_set_multi(sess *s, int on) { s->multi = on; }

int sess_use(sess *s, const char *db, mm_error *err) {
  if (strcasecmp(db, "information_schema") && !tbl_db_exists(s->inst->cat, db))
    return mm_error_set(err, 1049, "42000", "Unknown database '%s'", db);
  char *d = mm_strdup(strcasecmp(db, "information_schema") ? db : "information_schema");
  if (!d) return mm_error_set(err, 1037, "HY001", "Out of memory");
  mm_free(s->db);
  s->db = d;
  s->fn.db = s->db;
  return MM_OK;
}

/* ---- transactions -------------------------------------------------------------- */
static int cur_isolation(sess *s) {
  if (s->next_isolation >= 0) return s->next_isolation;
  const char *v = s->vars[VI_TRANSACTION_ISO].s;
  return v && !strcmp(v, "READ-COMMITTED") ? TXN_READ_COMMITTED : TXN_REPEATABLE_READ;
}

static int txn_open(sess *s, int explicit_txn, mm_error *err) {
  if (s->txn) return MM_OK;
  s->txn = txn_begin(s->inst->st, cur_isolation(s));
  if (!s->txn) return mm_error_set(err, 1037, "HY001", "Out of memory");
  txn_set_interrupt(s->txn, &s->kill_query); /* KILL ends a lock wait */
  s->next_isolation = -1;
  s->explicit_txn = explicit_txn;
  s->txn_read_only = (int)s->vars[VI_TX_RO].i;
  tbl_conn_set_txn(s->tc, s->txn);
  return MM_OK;
}

static void savepoints_clear(sess *s) {
  for (int i = 0; i < s->savepoint_depth; i++) mm_free(s->savepoint_names[i]);
  s->savepoint_depth = 0;
}

int sess_commit(sess *s, mm_error *err) {
  if (!s->txn) return MM_OK;
  txn *t = s->txn;
  s->txn = NULL;
  s->explicit_txn = 0;
  savepoints_clear(s);
  tbl_conn_set_txn(s->tc, NULL);
  if (!txn_has_writes(t) && !txn_aborted(t)) { txn_rollback(t); return MM_OK; }
  return txn_commit(t, err); /* 1213 if the txn was a deadlock victim or brute-force aborted */
}

void sess_rollback(sess *s) {
  if (!s->txn) return;
  txn_rollback(s->txn);
  s->txn = NULL;
  s->explicit_txn = 0;
  savepoints_clear(s);
  tbl_conn_set_txn(s->tc, NULL);
}

/* ---- result metadata ------------------------------------------------------------ */
/* Fill col from a MySQL column definition. */
void sess_col_from_def(mm_col *c, const tbl_def *def, int ci) {
  const tbl_column *tc = &def->cols[ci];
  uint16_t fl = 0;
  if (tc->not_null) fl |= MM_FLAG_NOT_NULL;
  if (tc->is_unsigned) fl |= MM_FLAG_UNSIGNED;
  if (tc->zerofill) fl |= MM_FLAG_ZEROFILL;
  if (tc->auto_increment) fl |= MM_FLAG_AUTO_INCREMENT;
  if (tc->on_update_now) fl |= MM_FLAG_ON_UPDATE_NOW;
  if (!tc->has_default && tc->not_null && !tc->auto_increment) fl |= MM_FLAG_NO_DEFAULT_VALUE;
  for (int k = 0; k < def->nindexes; k++) {
    const tbl_index *ix = &def->indexes[k];
    for (int j = 0; j < ix->ncols; j++) {
      if (ix->cols[j] != ci) continue;
      if (ix->primary) fl |= MM_FLAG_PRI_KEY;
      else if (ix->unique && ix->ncols == 1) fl |= MM_FLAG_UNIQUE_KEY;
      else if (j == 0) fl |= MM_FLAG_MULTIPLE_KEY;
    }
  }
  uint32_t n = tc->length;
  c->charset = MM_CS_BINARY;
  c->decimals = 0;
  int num = 1;
  switch (tc->type) {
  case TBL_TINYINT: c->type = MYSQL_TYPE_TINY; c->length = n ? n : (tc->is_unsigned ? 3 : 4); break;
  case TBL_SMALLINT: c->type = MYSQL_TYPE_SHORT; c->length = n ? n : (tc->is_unsigned ? 5 : 6); break;
  case TBL_MEDIUMINT: c->type = MYSQL_TYPE_INT24; c->length = n ? n : (tc->is_unsigned ? 8 : 9); break;
  case TBL_INT: c->type = MYSQL_TYPE_LONG; c->length = n ? n : (tc->is_unsigned ? 10 : 11); break;
  case TBL_BIGINT: c->type = MYSQL_TYPE_LONGLONG; c->length = n ? n : 20; break;
  case TBL_DECIMAL:
    c->type = MYSQL_TYPE_NEWDECIMAL;
    c->decimals = (uint8_t)(tc->scale > 0 ? tc->scale : 0);
    c->length = (n ? n : 10) + (c->decimals ? 1 : 0) + (tc->is_unsigned ? 0 : 1);
    break;
  case TBL_FLOAT: c->type = MYSQL_TYPE_FLOAT; c->length = 12; c->decimals = tc->scale >= 0 ? (uint8_t)tc->scale : 31; break;
  case TBL_DOUBLE: c->type = MYSQL_TYPE_DOUBLE; c->length = 22; c->decimals = tc->scale >= 0 ? (uint8_t)tc->scale : 31; break;
  case TBL_BIT: c->type = MYSQL_TYPE_BIT; c->length = n ? n : 1; fl |= MM_FLAG_UNSIGNED; break;
  case TBL_YEAR: c->type = MYSQL_TYPE_YEAR; c->length = 4; fl |= MM_FLAG_UNSIGNED | MM_FLAG_ZEROFILL; break;
  default: num = 0;
  }
  if (!num) {
    int fsp = tc->scale > 0 ? tc->scale : 0;
    int bin = tc->binary_collation;
    c->charset = MM_CS_UTF8MB4;
    switch (tc->type) {
    case TBL_CHAR: c->type = MYSQL_TYPE_STRING; c->length = (n ? n : 1) * 4; break;
    case TBL_VARCHAR: c->type = MYSQL_TYPE_VAR_STRING; c->length = n * 4; break;
    case TBL_TINYTEXT: c->type = MYSQL_TYPE_BLOB; c->length = 255 * 4; fl |= MM_FLAG_BLOB; break;
    case TBL_TEXT: c->type = MYSQL_TYPE_BLOB; c->length = 65535 * 4; fl |= MM_FLAG_BLOB; break;
    case TBL_MEDIUMTEXT: c->type = MYSQL_TYPE_BLOB; c->length = 16777215 * 4u; fl |= MM_FLAG_BLOB; break;
    case TBL_LONGTEXT: c->type = MYSQL_TYPE_BLOB; c->length = 4294967295u; fl |= MM_FLAG_BLOB; break;
    case TBL_JSON: c->type = MYSQL_TYPE_BLOB; c->length = 4294967295u; fl |= MM_FLAG_BLOB; break;
    case TBL_BINARY: c->type = MYSQL_TYPE_STRING; c->length = n ? n : 1; bin = 1; break;
    case TBL_VARBINARY: c->type = MYSQL_TYPE_VAR_STRING; c->length = n; bin = 1; break;
    case TBL_TINYBLOB: c->type = MYSQL_TYPE_BLOB; c->length = 255; bin = 1; fl |= MM_FLAG_BLOB; break;
    case TBL_BLOB: c->type = MYSQL_TYPE_BLOB; c->length = 65535; bin = 1; fl |= MM_FLAG_BLOB; break;
    case TBL_MEDIUMBLOB: c->type = MYSQL_TYPE_BLOB; c->length = 16777215; bin = 1; fl |= MM_FLAG_BLOB; break;
    case TBL_LONGBLOB: c->type = MYSQL_TYPE_BLOB; c->length = 4294967295u; bin = 1; fl |= MM_FLAG_BLOB; break;
    case TBL_DATE: c->type = MYSQL_TYPE_DATE; c->length = 10; c->charset = MM_CS_BINARY; fl |= MM_FLAG_BINARY; break;
    case TBL_TIME: c->type = MYSQL_TYPE_TIME; c->length = 10 + (fsp ? fsp + 1 : 0); c->decimals = (uint8_t)fsp; c->charset = MM_CS_BINARY; fl |= MM_FLAG_BINARY; break;
    case TBL_DATETIME: c->type = MYSQL_TYPE_DATETIME; c->length = 19 + (fsp ? fsp + 1 : 0); c->decimals = (uint8_t)fsp; c->charset = MM_CS_BINARY; fl |= MM_FLAG_BINARY; break;
    case TBL_TIMESTAMP: c->type = MYSQL_TYPE_TIMESTAMP; c->length = 19 + (fsp ? fsp + 1 : 0); c->decimals = (uint8_t)fsp; c->charset = MM_CS_BINARY; fl |= MM_FLAG_BINARY | MM_FLAG_TIMESTAMP; break;
    case TBL_ENUM: c->type = MYSQL_TYPE_STRING; c->length = 4; fl |= MM_FLAG_ENUM; break;
    case TBL_SET: c->type = MYSQL_TYPE_STRING; c->length = 4; fl |= MM_FLAG_SET; break;
    default: c->type = MYSQL_TYPE_VAR_STRING; c->length = 255;
    }
    if (bin) { c->charset = MM_CS_BINARY; fl |= MM_FLAG_BINARY; }
  } else if (tc->type != TBL_BIT) {
    fl |= MM_FLAG_NUM; /* MySQL does not mark BIT numeric: dumps quote its bytes */
  }
  c->flags = fl;
}

/* Metadata of the result columns of a prepared SQLite statement.  When row
 * is non-zero the statement has been stepped to its first row, and
 * expression columns take their type from it.  Strings are written into
 * *strs (one allocation); returns MM_OK or MM_ENOMEM. */
enum { CF_DEFAULT, CF_DECIMAL, CF_FLOAT, CF_DOUBLE, CF_EXPR_REAL, CF_BIT };

static int build_cols(sess *s, sqlite3_stmt *st, int row, mm_col **out_cols, char **out_strs,
                      colfmt **out_fmt) {
  int n = sqlite3_column_count(st);
  mm_col *cols = mm_calloc((size_t)(n ? n : 1), sizeof *cols);
  colfmt *fmt = out_fmt ? mm_calloc((size_t)(n ? n : 1), sizeof *fmt) : NULL;
  mm_buf strs;
  mm_buf_init(&strs);
  size_t *offs = mm_calloc((size_t)(n ? n : 1) * 5, sizeof *offs);
  if (!cols || !offs || (out_fmt && !fmt)) goto oom;
  tbl_def *cache = NULL;
  for (int i = 0; i < n; i++) {
    const char *tname = sqlite3_column_table_name(st, i);
    const char *oname = sqlite3_column_origin_name(st, i);
    const char *label = sqlite3_column_name(st, i);
    const char *dot = tname ? strchr(tname, '.') : NULL;
    char dbn[256] = "", tbn[256] = "";
    tbl_def *def = NULL;
    int ci = -1;
    if (dot && oname) {
      snprintf(dbn, sizeof dbn, "%.*s", (int)(dot - tname), tname);
      snprintf(tbn, sizeof tbn, "%s", dot + 1);
      if (cache && !strcmp(cache->db, dbn) && !strcmp(cache->name, tbn)) def = cache;
      else {
        if (cache) tbl_def_release(s->inst->cat, cache);
        cache = def = tbl_get(s->inst->cat, dbn, tbn);
      }
      if (def) ci = tbl_column_index(def, oname);
    }
    mm_col *c = &cols[i];
    offs[i * 5 + 0] = strs.len; mm_buf_append(&strs, dbn, strlen(dbn) + 1);
    offs[i * 5 + 1] = strs.len; mm_buf_append(&strs, tbn, strlen(tbn) + 1);
    offs[i * 5 + 2] = strs.len; mm_buf_append(&strs, tbn, strlen(tbn) + 1);
    offs[i * 5 + 3] = strs.len; mm_buf_append(&strs, label ? label : "", strlen(label ? label : "") + 1);
    const char *on = ci >= 0 ? def->cols[ci].name : "";
    offs[i * 5 + 4] = strs.len; mm_buf_append(&strs, on, strlen(on) + 1);
    if (ci >= 0) {
      sess_col_from_def(c, def, ci);
      if (fmt) {
        tbl_type ty = def->cols[ci].type;
        fmt[i].kind = ty == TBL_DECIMAL ? CF_DECIMAL : ty == TBL_FLOAT ? CF_FLOAT
                    : ty == TBL_DOUBLE ? CF_DOUBLE : ty == TBL_BIT ? CF_BIT : CF_DEFAULT;
        fmt[i].scale = ty == TBL_BIT ? (int)((def->cols[ci].length ? def->cols[ci].length : 1) + 7) / 8
                                     : def->cols[ci].scale;
      }
    } else {
      if (fmt) fmt[i].expr = 1;
      int ty = row ? sqlite3_column_type(st, i) : SQLITE_TEXT;
      const char *decl = sqlite3_column_decltype(st, i);
      if (!row && decl && strstr(decl, "INT")) ty = SQLITE_INTEGER;
      c->charset = MM_CS_BINARY;
      c->flags = MM_FLAG_BINARY;
      switch (ty) {
      case SQLITE_INTEGER: c->type = MYSQL_TYPE_LONGLONG; c->length = 21; c->flags |= MM_FLAG_NUM; break;
      case SQLITE_FLOAT: c->type = MYSQL_TYPE_DOUBLE; c->length = 23; c->decimals = 31; c->flags |= MM_FLAG_NUM;
        if (fmt) fmt[i].kind = CF_EXPR_REAL;
        break;
      case SQLITE_BLOB: c->type = MYSQL_TYPE_BLOB; c->length = 65535; c->flags |= MM_FLAG_BLOB; break;
      case SQLITE_NULL: c->type = MYSQL_TYPE_NULL; c->length = 0; c->flags = 0; break;
      default: c->type = MYSQL_TYPE_VAR_STRING; c->length = 1024; c->charset = MM_CS_UTF8MB4; c->flags = 0;
      }
      c->decimals = c->type == MYSQL_TYPE_DOUBLE ? 31 : 0;
      if (c->type == MYSQL_TYPE_LONGLONG || c->type == MYSQL_TYPE_VAR_STRING) c->decimals = 0;
    }
  }
  if (cache) tbl_def_release(s->inst->cat, cache);
  if (strs.oom) goto oom;
  for (int i = 0; i < n; i++) {
    cols[i].db = strs.p + offs[i * 5 + 0];
    cols[i].table = strs.p + offs[i * 5 + 1];
    cols[i].org_table = strs.p + offs[i * 5 + 2];
    cols[i].name = strs.p + offs[i * 5 + 3];
    cols[i].org_name = strs.p + offs[i * 5 + 4];
  }
  mm_free(offs);
  *out_cols = cols;
  *out_strs = mm_buf_steal(&strs, NULL);
  if (out_fmt) *out_fmt = fmt;
  return MM_OK;
oom:
  mm_free(cols);
  mm_free(fmt);
  mm_free(offs);
  mm_buf_free(&strs);
  return MM_ENOMEM;
}

/* Shortest text that reads back as the same double (MySQL's %g-like output). */
static int fmt_double(char *buf, size_t n, double d, int prec_max) {
  if (isnan(d) || isinf(d)) return snprintf(buf, n, "NULL");
  for (int p = prec_max < 15 ? prec_max : 15; p <= prec_max; p++) {
    int k = snprintf(buf, n, "%.*g", p, d);
    if (p == prec_max || strtod(buf, NULL) == d) {
      /* MySQL writes 1e20 as 1e20 and 1e-5 as 0.00001: keep %g form */
      return k;
    }
  }
  return (int)strlen(buf);
}

/* Text form of column i of the current row. */
static void cell_text(sqlite3_stmt *st, int i, const colfmt *f, char *buf, size_t bufn, mm_cell *c) {
  int ty = sqlite3_column_type(st, i);
  c->null = 0;
  switch (ty) {
  case SQLITE_NULL: c->null = 1; c->p = NULL; c->n = 0; return;
  case SQLITE_INTEGER: {
    long long v = sqlite3_column_int64(st, i);
    if (f && f->kind == CF_BIT) {
      /* BIT(n) goes to the client as ceil(n/8) big-endian bytes, as MySQL sends it */
      int nb = f->scale > 0 && f->scale <= 8 ? f->scale : 8;
      for (int k = 0; k < nb; k++) buf[k] = (char)((unsigned long long)v >> (8 * (nb - 1 - k)));
      c->p = buf;
      c->n = (size_t)nb;
      return;
    }
    if (f && f->kind == CF_DECIMAL && f->scale > 0) c->n = (size_t)snprintf(buf, bufn, "%lld.%0*d", v, f->scale, 0);
    else c->n = (size_t)snprintf(buf, bufn, "%lld", v);
    c->p = buf;
    return;
  }
  case SQLITE_FLOAT: {
    double d = sqlite3_column_double(st, i);
    int k;
    if (f && f->kind == CF_DECIMAL) k = snprintf(buf, bufn, "%.*f", f->scale > 0 ? f->scale : 0, d);
    else if (f && f->kind == CF_FLOAT) k = fmt_double(buf, bufn, (double)(float)d, 6);
    else if (f && f->kind == CF_DOUBLE && f->scale >= 0) k = snprintf(buf, bufn, "%.*f", f->scale, d);
    else if (f && f->kind == CF_EXPR_REAL) k = fmt_double(buf, bufn, d, 15);
    else k = fmt_double(buf, bufn, d, 17);
    c->p = buf;
    c->n = (size_t)k;
    return;
  }
  case SQLITE_BLOB:
    c->p = sqlite3_column_blob(st, i);
    c->n = (size_t)sqlite3_column_bytes(st, i);
    if (!c->p) c->p = "";
    return;
  default:
    c->p = (const char *)sqlite3_column_text(st, i);
    c->n = (size_t)sqlite3_column_bytes(st, i);
    if (!c->p) c->p = "";
  }
}

/* ---- SQLite errors -> MySQL errors ------------------------------------------------ */
void sess_map_sqlite_error(sess *s, int rc, const char *where, mm_error *err) {
  const mm_error *te = tbl_conn_error(s->tc);
  if (s->pending.code) { *err = s->pending; mm_error_clear(&s->pending); return; }
  if (te && te->code) { *err = *te; return; }
  const char *msg = sqlite3_errmsg(s->sql);
  if ((rc & 0xff) == SQLITE_INTERRUPT) {
    mm_error_set(err, 1317, "70100", "Query execution was interrupted");
  } else if ((rc & 0xff) == SQLITE_NOMEM) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
  } else if (!strncmp(msg, "no such column: ", 16)) {
    mm_error_set(err, 1054, "42S22", "Unknown column '%s' in '%s'", msg + 16, where);
  } else if (!strncmp(msg, "no such function: ", 18)) {
    mm_error_set(err, 1305, "42000", "FUNCTION %s%s%s does not exist", s->db ? s->db : "",
                 s->db ? "." : "", msg + 18);
  } else if (!strncmp(msg, "ambiguous column name: ", 23)) {
    mm_error_set(err, 1052, "23000", "Column '%s' in %s is ambiguous", msg + 23, where);
  } else if (strstr(msg, "syntax error") || strstr(msg, "incomplete input")) {
    const char *near = strstr(msg, "near \"");
    if (near) {
      near += 6;
      const char *e = strrchr(near, '"');
      mm_error_set(err, 1064, "42000",
                   "You have an error in your SQL syntax; check the manual that corresponds to "
                   "your MySQL server version for the right syntax to use near '%.*s' at line 1",
                   e ? (int)(e - near) : 40, near);
    } else {
      mm_error_set(err, 1064, "42000",
                   "You have an error in your SQL syntax; check the manual that corresponds to "
                   "your MySQL server version for the right syntax to use near '' at line 1");
    }
  } else if (strstr(msg, "wrong number of arguments to function ")) {
    const char *f = strstr(msg, "function ") + 9;
    mm_error_set(err, 1582, "42000", "Incorrect parameter count in the call to native function '%.*s'",
                 (int)strcspn(f, "()"), f);
  } else if (strstr(msg, "SELECTs to the left and right of")) {
    mm_error_set(err, 1222, "21000", "The used SELECT statements have a different number of columns");
  } else if (strstr(msg, "sub-select returns") || strstr(msg, "row value misused")) {
    mm_error_set(err, 1241, "21000", "Operand should contain 1 column(s)");
  } else {
    mm_error_set(err, 1105, "HY000", "%s", msg);
  }
}

/* Prepare SQLite text, declaring virtual tables on demand.  Returns MM_OK
 * with *out set, or MM_ESQL with err. */
int sess_prepare_sql(sess *s, const char *sql, sqlite3_stmt **out, mm_error *err) {
  uint64_t v = tbl_catalog_version(s->inst->cat);
  if (v != s->synced_cat_version) {
    tbl_conn_sync(s->tc);
    s->synced_cat_version = v;
  }
  for (int attempt = 0; attempt < 64; attempt++) {
    int rc = sqlite3_prepare_v3(s->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc == SQLITE_OK) return MM_OK;
    const char *msg = sqlite3_errmsg(s->sql);
    if (!strncmp(msg, "no such table: ", 15)) {
      const char *name = msg + 15;
      if (!strncmp(name, "main.", 5)) name += 5;
      const char *dot = strchr(name, '.');
      if (!dot) {
        mm_error_set(err, 1146, "42S02", "Table '%s%s%s' doesn't exist", s->db ? s->db : "",
                     s->db ? "." : "", name);
        return MM_ESQL;
      }
      char dbn[256], tbn[256];
      snprintf(dbn, sizeof dbn, "%.*s", (int)(dot - name), name);
      snprintf(tbn, sizeof tbn, "%s", dot + 1);
      if (tbl_conn_declare(s->tc, dbn, tbn, err) != MM_OK) return MM_ESQL;
      continue;
    }
    sess_map_sqlite_error(s, rc, "field list", err);
    return MM_ESQL;
  }
  return mm_error_set(err, 1105, "HY000", "too many tables in one statement");
}

/* Step a prepared statement to completion, sending a result set if it has
 * columns.  *rows gets the number of rows sent.  Returns 0, or MM_ESQL with
 * err filled (nothing sent), or 1 if the sink broke. */
static int run_stmt(sess *s, sqlite3_stmt *st, const mm_col *fixed_cols, colfmt **fmt_cache, int more,
                    mm_sink *out, uint64_t *rows, mm_error *err) {
  int ncols = sqlite3_column_count(st);
  *rows = 0;
  s->kill_query = 0;
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    sess_map_sqlite_error(s, rc, "where clause", err);
    sqlite3_reset(st);
    return MM_ESQL;
  }
  if (ncols == 0) {
    while (rc == SQLITE_ROW) rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) { sess_map_sqlite_error(s, rc, "field list", err); sqlite3_reset(st); return MM_ESQL; }
    sqlite3_reset(st);
    return MM_OK;
  }
  mm_col *cols = NULL;
  char *strs = NULL;
  colfmt *fmt = NULL, fmt_small[16];
  const mm_col *send_cols;
  if (fixed_cols && fmt_cache && *fmt_cache) {
    /* A prepared statement executed again: its metadata is the one
     * announced at prepare and its print formats were worked out at the
     * first execution (the catalog has not moved since, or it would have
     * been prepared again); only expression columns follow this row. */
    fmt = ncols <= 16 ? fmt_small : mm_malloc((size_t)ncols * sizeof *fmt);
    if (!fmt) {
      sqlite3_reset(st);
      return mm_error_set(err, 1037, "HY001", "Out of memory");
    }
    memcpy(fmt, *fmt_cache, (size_t)ncols * sizeof *fmt);
    for (int i = 0; i < ncols; i++)
      if (fmt[i].expr)
        fmt[i].kind = rc == SQLITE_ROW && sqlite3_column_type(st, i) == SQLITE_FLOAT ? CF_EXPR_REAL : CF_DEFAULT;
    send_cols = fixed_cols;
  } else {
    if (build_cols(s, st, rc == SQLITE_ROW, &cols, &strs, &fmt) != MM_OK) {
      sqlite3_reset(st);
      return mm_error_set(err, 1037, "HY001", "Out of memory");
    }
    if (fixed_cols) {
      /* Prepared statements keep the metadata announced at prepare time; the
       * print formats still come from the real columns. */
      memcpy(cols, fixed_cols, (size_t)ncols * sizeof *cols);
      if (fmt_cache && (*fmt_cache = mm_malloc((size_t)ncols * sizeof *fmt)))
        memcpy(*fmt_cache, fmt, (size_t)ncols * sizeof *fmt); /* (kept only if it can be) */
    }
    send_cols = cols;
  }
  /* Text of the first row must be produced before anything is sent, so
   * that an error in it (say, a bad conversion) can still be an ERR packet. */
  int broken = out->columns(out, send_cols, ncols);
  mm_cell cells_small[16];
  mm_cell *cells = ncols <= 16 ? cells_small : mm_malloc((size_t)ncols * sizeof *cells);
  char (*bufs)[64] = mm_malloc((size_t)ncols * 64);
  if (!cells || !bufs) { broken = broken ? broken : -1; }
  while (!broken && rc == SQLITE_ROW) {
    for (int i = 0; i < ncols; i++) cell_text(st, i, &fmt[i], bufs[i], 64, &cells[i]);
    broken = out->row(out, cells, ncols);
    (*rows)++;
    rc = sqlite3_step(st);
  }
  int failed = 0;
  if (!broken && rc != SQLITE_DONE) {
    /* Error after rows were sent: MySQL sends an ERR packet in place of EOF. */
    sess_map_sqlite_error(s, rc, "field list", err);
    broken = out->error(out, err);
    failed = 1;
  }
  if (!broken && !failed) broken = out->end_rows(out, sess_status(s), warn_count(s), more);
  if (cells != cells_small) mm_free(cells);
  mm_free(bufs);
  mm_free(cols);
  mm_free(strs);
  if (fmt != fmt_small) mm_free(fmt);
  sqlite3_reset(st);
  if (broken < 0 && !failed) { mm_error_set(err, 1037, "HY001", "Out of memory"); return MM_ESQL; }
  if (failed) return 2; /* error already sent */
  return broken ? 1 : MM_OK;
}

/* ---- data statements ------------------------------------------------------------ */
static int bind_params(sqlite3_stmt *st, const mm_value *p, int n) {
  for (int i = 0; i < n; i++) {
    int rc;
    switch (p[i].kind) {
    case MM_V_NULL: rc = sqlite3_bind_null(st, i + 1); break;
    case MM_V_INT: rc = sqlite3_bind_int64(st, i + 1, p[i].i); break;
    case MM_V_UINT:
      if (p[i].i < 0) {
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)p[i].i);
        rc = sqlite3_bind_text(st, i + 1, b, -1, SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_int64(st, i + 1, p[i].i);
      }
      break;
    case MM_V_DOUBLE: rc = sqlite3_bind_double(st, i + 1, p[i].d); break;
    case MM_V_BLOB: rc = sqlite3_bind_blob64(st, i + 1, p[i].p ? p[i].p : "", p[i].n, SQLITE_STATIC); break;
    default: rc = sqlite3_bind_text64(st, i + 1, p[i].p ? p[i].p : "", p[i].n, SQLITE_STATIC, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

/* ON DUPLICATE KEY UPDATE: run the rewriter's update for each captured conflict. */
static int run_dup_updates(sess *s, rw_out *rw, uint64_t *affected, mm_error *err) {
  int nd = tbl_conn_dup_count(s->tc);
  if (nd == 0) return MM_OK;
  /* Copy the conflicts: running the UPDATE clears the table layer's list. */
  typedef struct { int64_t rowid; sqlite3_value **vals; int n; } dup;
  dup *d = mm_calloc((size_t)nd, sizeof *d);
  if (!d) return mm_error_set(err, 1037, "HY001", "Out of memory");
  for (int i = 0; i < nd; i++) {
    sqlite3_value **v;
    tbl_conn_dup_get(s->tc, i, &d[i].rowid, &v, &d[i].n);
    d[i].vals = mm_calloc((size_t)(d[i].n ? d[i].n : 1), sizeof *d[i].vals);
    for (int k = 0; d[i].vals && k < d[i].n; k++) d[i].vals[k] = sqlite3_value_dup(v[k]);
  }
  tbl_conn_set_dup_capture(s->tc, 0);
  int rc = MM_OK;
  sqlite3_stmt *st = NULL;
  tbl_def *def = tbl_get(s->inst->cat, rw->table_db, rw->table_name);
  if (!def) { rc = mm_error_set(err, 1146, "42S02", "Table '%s.%s' doesn't exist", rw->table_db, rw->table_name); goto out; }
  if ((rc = sess_prepare_sql(s, rw->dup_update.p, &st, err)) != MM_OK) goto out;
  int nparam = sqlite3_bind_parameter_count(st);
  for (int i = 0; i < nd && rc == MM_OK; i++) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* ?1 is the rowid; ?2.. are VALUES(col) in dup_cols order */
    sqlite3_bind_int64(st, 1, d[i].rowid);
    for (int k = 0; k < rw->ndup_cols && k + 2 <= nparam; k++) {
      int ci = tbl_column_index(def, rw->dup_cols[k]);
      if (ci >= 0 && ci < d[i].n && d[i].vals && d[i].vals[ci]) sqlite3_bind_value(st, k + 2, d[i].vals[ci]);
    }
    uint64_t before = tbl_conn_affected(s->tc);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW) { sess_map_sqlite_error(s, r, "field list", err); rc = MM_ESQL; break; }
    /* MySQL: 2 per row updated by ON DUPLICATE KEY, 0 if the row was unchanged. */
    if (tbl_conn_affected(s->tc) > before) *affected += 2;
  }
out:
  if (def) tbl_def_release(s->inst->cat, def);
  sqlite3_finalize(st);
  for (int i = 0; i < nd; i++) {
    for (int k = 0; d[i].vals && k < d[i].n; k++) sqlite3_value_free(d[i].vals[k]);
    mm_free(d[i].vals);
  }
  mm_free(d);
  return rc;
}

/* SQL_CALC_FOUND_ROWS: FOUND_ROWS() is the row count the SELECT would have
 * returned without its LIMIT.  Count it by running the rewritten statement
 * with its top-level LIMIT clause cut off, inside the same transaction. */
static void count_found_rows(sess *s, const char *sql, uint64_t *out) {
  lex l;
  lex_init(&l, sql, strlen(sql));
  lex_token t;
  int depth = 0;
  size_t cut = 0;
  while (lex_next(&l, &t) != TK_EOF && t.type != TK_ERROR) {
    if (lex_is_op(&t, "(")) depth++;
    else if (lex_is_op(&t, ")")) depth--;
    else if (depth == 0 && lex_is(&t, "LIMIT")) cut = (size_t)(t.p - sql);
  }
  if (!cut) return; /* no LIMIT: the rows sent are the answer */
  mm_buf q;
  mm_buf_init(&q);
  mm_buf_puts(&q, "SELECT count(*) FROM (");
  mm_buf_append(&q, sql, cut);
  mm_buf_puts(&q, ")");
  sqlite3_stmt *st = NULL;
  mm_error err;
  txn *tmp = NULL;
  if (!q.oom && sess_prepare_sql(s, q.p, &st, &err) == MM_OK) {
    if (!s->txn) { tmp = txn_begin(s->inst->st, TXN_READ_COMMITTED); tbl_conn_set_txn(s->tc, tmp); }
    if (sqlite3_step(st) == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st); /* close the cursors before their transaction ends */
    if (tmp) { tbl_conn_set_txn(s->tc, NULL); txn_rollback(tmp); }
  }
  sqlite3_finalize(st);
  mm_buf_free(&q);
}

/* Run a data statement (already rewritten into rw, or prepared in pst). */
static int exec_data(sess *s, rw_out *rw, sqlite3_stmt *pst, const mm_col *fixed_cols, colfmt **fmt_cache,
                     const mm_value *params, int nparams, int more, mm_sink *out) {
  mm_error err;
  mm_error_clear(&err);
  sqlite3_stmt *st = pst;
  int own = 0, rc;
  int write = rw->kind != RW_SELECT || rw->lock != RW_LOCK_NONE;
  int autocommit_stmt = 0;
  if (write && s->txn_read_only && s->explicit_txn && rw->kind != RW_SELECT)
    return sess_send_error(s, out, (mm_error[]){{1792, "25006", "Cannot execute statement in a READ ONLY transaction."}});
  if (rw->kind != RW_SELECT && !s->explicit_txn) {
    var_val ro;
    vars_global_get(s->inst, VI_READ_ONLY, &ro);
    if (ro.i)
      return sess_send_error(s, out, (mm_error[]){{1290, "HY000", "The MySQL server is running with the --read-only option so it cannot execute this statement"}});
  }
  if (!st) {
    if (sess_prepare_sql(s, rw->sql.p, &st, &err) != MM_OK) return sess_send_error(s, out, &err);
    own = 1;
  }
  if (params && bind_params(st, params, nparams) != SQLITE_OK) {
    sess_map_sqlite_error(s, SQLITE_ERROR, "field list", &err);
    goto fail;
  }
  if (!s->txn) {
    if (!s->vars[VI_AUTOCOMMIT].i) {
      if (txn_open(s, 1, &err) != MM_OK) goto fail;
    } else {
      if (txn_open(s, 0, &err) != MM_OK) goto fail;
      autocommit_stmt = 1;
    }
  }
  if (txn_aborted(s->txn)) { /* deadlock victim or brute-force aborted since the last statement */
    sess_rollback(s);
    mm_error_set(&err, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
    goto fail;
  }
  txn_statement_start(s->txn);
  /* Row locks (issue 3): UPDATE, DELETE and locking reads read the latest
   * committed rows and lock each row before reading it; INSERT / REPLACE
   * read their sources at latest under S locks (as InnoDB). */
  txn_set_lock_wait_timeout(s->txn, s->vars[VI_LOCK_WAIT_TIMEOUT].i * 1000);
  if (rw->kind == RW_UPDATE || rw->kind == RW_DELETE || rw->lock != RW_LOCK_NONE) {
    tbl_conn_set_read_latest(s->tc, 1);
    tbl_conn_set_lock(s->tc, rw->lock == RW_LOCK_SHARE ? TXN_LOCK_S : TXN_LOCK_X,
                      rw->lock_wait == RW_NOWAIT ? TXN_NOWAIT : rw->lock_wait == RW_SKIP_LOCKED ? TXN_SKIP_LOCKED : TXN_WAIT);
  } else if (rw->kind == RW_INSERT || rw->kind == RW_REPLACE) {
    tbl_conn_set_read_latest(s->tc, 1);
    tbl_conn_set_lock(s->tc, rw->dup_update.len ? TXN_LOCK_X : TXN_LOCK_S, TXN_WAIT);
  } else {
    tbl_conn_set_read_latest(s->tc, 0);
    tbl_conn_set_lock(s->tc, TXN_LOCK_NONE, TXN_WAIT);
  }
  int sp = !autocommit_stmt && rw->kind != RW_SELECT;
  if (sp && txn_savepoint(s->txn) != MM_OK) { mm_error_set(&err, 1037, "HY001", "Out of memory"); goto fail; }
  tbl_conn_stmt_begin(s->tc);
  /* UPDATE, DELETE and locking reads see the latest committed rows, not
   * the snapshot (InnoDB semantics). */
  tbl_conn_set_read_latest(s->tc, rw->kind != RW_SELECT || rw->lock != RW_LOCK_NONE);
  s->nwarn = 0;
  mm_error_clear(&s->pending);
  s->fn.stmt_time_us = mm_wall_us();
  int dup = rw->dup_update.len > 0;
  if (dup) tbl_conn_set_dup_capture(s->tc, 1);
  uint64_t rows = 0;
  rc = run_stmt(s, st, fixed_cols, fmt_cache, more, out, &rows, &err);
  uint64_t affected = tbl_conn_affected(s->tc);
  uint64_t insert_id = tbl_conn_insert_id(s->tc);
  if (rc == MM_OK && dup) rc = run_dup_updates(s, rw, &affected, &err);
  if (dup) tbl_conn_set_dup_capture(s->tc, 0);
  if (rc == MM_ESQL || rc == 2) {
    /* statement failed: undo only this statement */
    if (sp) txn_rollback_to_savepoint(s->txn);
    /* 1213: the whole transaction is rolled back (1205 only the statement) */
    if (autocommit_stmt || err.code == 1213 || txn_aborted(s->txn)) sess_rollback(s);
    if (own) sqlite3_finalize(st);
    if (rc == 2) return 0;
    return sess_send_error(s, out, &err);
  }
  if (sp) txn_release_savepoint(s->txn);
  if (autocommit_stmt && sess_commit(s, &err) != MM_OK) {
    if (own) sqlite3_finalize(st);
    return sess_send_error(s, out, &err);
  }
  if (own) sqlite3_finalize(st);
  if (rc == 1) return 1;
  if (rw->kind == RW_SELECT) {
    s->fn.found_rows = rows;
    if (rw->calc_found_rows) count_found_rows(s, rw->sql.p, &s->fn.found_rows);
    s->fn.row_count = -1;
    return 0; /* result already sent */
  }
  if (insert_id) s->fn.last_insert_id = insert_id;
  s->fn.row_count = (int64_t)affected;
  char info[128] = "";
  if (rw->kind == RW_UPDATE)
    snprintf(info, sizeof info, "Rows matched: %llu  Changed: %llu  Warnings: %u",
             (unsigned long long)tbl_conn_matched(s->tc), (unsigned long long)affected, warn_count(s));
  return sess_send_ok(s, out, affected, insert_id, info[0] ? info : NULL, more);
fail:
  if (own) sqlite3_finalize(st);
  return sess_send_error(s, out, &err);
}

static int exec_rewrite(sess *s, const char *sql, size_t len, int more, mm_sink *out) {
  rw_in in = {s->db, s->sql_mode_rw};
  rw_out rw;
  rw_out_init(&rw);
  mm_error err;
  int r;
  if (rw_rewrite(&in, sql, len, &rw, &err) != MM_OK) r = sess_send_error(s, out, &err);
  else if (rw.nparams > 0)
    r = sess_send_error(s, out, (mm_error[]){{1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '?' at line 1"}});
  else r = exec_data(s, &rw, NULL, NULL, NULL, NULL, 0, more, out);
  rw_out_free(&rw);
  return r;
}

int sess_run_select_sql(sess *s, const char *mysql_text, int more, mm_sink *out) {
  return exec_rewrite(s, mysql_text, strlen(mysql_text), more, out);
}

int sess_send_rows(sess *s, const char *const *names, int ncols, const char *const *cells,
                   int nrows, int more, mm_sink *out) {
  mm_col *cols = mm_calloc((size_t)ncols, sizeof *cols);
  mm_cell *row = mm_calloc((size_t)ncols, sizeof *row);
  if (!cols || !row) {
    mm_free(cols);
    mm_free(row);
    return sess_send_error(s, out, (mm_error[]){{1037, "HY001", "Out of memory"}});
  }
  for (int i = 0; i < ncols; i++) {
    cols[i].db = cols[i].table = cols[i].org_table = cols[i].org_name = "";
    cols[i].name = names[i];
    cols[i].charset = MM_CS_UTF8MB4;
    cols[i].type = MYSQL_TYPE_VAR_STRING;
    cols[i].length = 256;
    for (int r = 0; r < nrows; r++) {
      const char *c = cells[r * ncols + i];
      if (c && strlen(c) * 4 > cols[i].length) cols[i].length = (uint32_t)strlen(c) * 4;
    }
  }
  int broken = out->columns(out, cols, ncols);
  for (int r = 0; !broken && r < nrows; r++) {
    for (int i = 0; i < ncols; i++) {
      const char *c = cells[r * ncols + i];
      row[i].null = c == NULL;
      row[i].p = c ? c : "";
      row[i].n = c ? strlen(c) : 0;
    }
    broken = out->row(out, row, ncols);
  }
  if (!broken) broken = out->end_rows(out, sess_status(s), warn_count(s), more);
  mm_free(cols);
  mm_free(row);
  return broken;
}

/* ---- transaction statements ------------------------------------------------------- */
static int ok_or_err(sess *s, mm_sink *out, int rc, mm_error *err, int more) {
  if (rc != MM_OK) return sess_send_error(s, out, err);
  return sess_send_ok(s, out, 0, 0, NULL, more);
}

static int exec_begin(sess *s, lex *l, int more, mm_sink *out) {
  mm_error err;
  lex_token t;
  int snapshot = 0, ro = (int)s->vars[VI_TX_RO].i;
  while (lex_next(l, &t) != TK_EOF) {
    if (lex_is(&t, "WORK") || lex_is_op(&t, ",") || lex_is(&t, "TRANSACTION")) continue;
    if (lex_is(&t, "WITH")) {
      lex_next(l, &t);
      if (!lex_is(&t, "CONSISTENT")) goto syntax;
      lex_next(l, &t);
      if (!lex_is(&t, "SNAPSHOT")) goto syntax;
      snapshot = 1;
    } else if (lex_is(&t, "READ")) {
      lex_next(l, &t);
      if (lex_is(&t, "ONLY")) ro = 1;
      else if (lex_is(&t, "WRITE")) ro = 0;
      else goto syntax;
    } else {
      goto syntax;
    }
  }
  if (s->txn) { /* BEGIN commits an open transaction */
    if (sess_commit(s, &err) != MM_OK) return sess_send_error(s, out, &err);
  }
  if (txn_open(s, 1, &err) != MM_OK) return sess_send_error(s, out, &err);
  s->txn_read_only = ro;
  if (snapshot) txn_snapshot_now(s->txn);
  return sess_send_ok(s, out, 0, 0, NULL, more);
syntax:
  mm_error_set(&err, 1064, "42000",
               "You have an error in your SQL syntax; check the manual that corresponds to your "
               "MySQL server version for the right syntax to use near '%.*s' at line 1",
               (int)MM_MIN(t.n, 80), t.p);
  return sess_send_error(s, out, &err);
}

static int find_savepoint(sess *s, const char *name) {
  for (int i = s->savepoint_depth - 1; i >= 0; i--)
    if (!strcasecmp(s->savepoint_names[i], name)) return i;
  return -1;
}

static int exec_savepoint(sess *s, lex *l, int kind, int more, mm_sink *out) {
  /* kind: 0 SAVEPOINT x, 1 ROLLBACK [WORK] TO [SAVEPOINT] x, 2 RELEASE SAVEPOINT x */
  lex_token t;
  mm_error err;
  lex_next(l, &t);
  if (lex_is(&t, "SAVEPOINT")) lex_next(l, &t);
  if (!lex_is_name(&t)) {
    mm_error_set(&err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' at line 1");
    return sess_send_error(s, out, &err);
  }
  char *name = lex_strdup(&t, 0);
  if (!name) return sess_send_error(s, out, (mm_error[]){{1037, "HY001", "Out of memory"}});
  int i = find_savepoint(s, name);
  int rc = MM_OK;
  if (kind == 0) {
    if (!s->txn && !s->vars[VI_AUTOCOMMIT].i) rc = txn_open(s, 1, &err);
    if (rc == MM_OK && s->txn) {
      if (i >= 0) {
        /* same name again: the old one goes (its writes are kept) */
        while (s->savepoint_depth > i) {
          txn_release_savepoint(s->txn);
          mm_free(s->savepoint_names[--s->savepoint_depth]);
        }
      }
      char **p = mm_realloc(s->savepoint_names, (size_t)(s->savepoint_depth + 1) * sizeof *p);
      if (!p || txn_savepoint(s->txn) != MM_OK) {
        if (p) s->savepoint_names = p;
        mm_free(name);
        return sess_send_error(s, out, (mm_error[]){{1037, "HY001", "Out of memory"}});
      }
      s->savepoint_names = p;
      s->savepoint_names[s->savepoint_depth++] = name;
      name = NULL;
    }
  } else if (i < 0) {
    rc = mm_error_set(&err, 1305, "42000", "SAVEPOINT %s does not exist", name);
  } else if (kind == 1) {
    /* roll back to savepoint i and keep it */
    while (s->savepoint_depth > i + 1) {
      txn_release_savepoint(s->txn);
      mm_free(s->savepoint_names[--s->savepoint_depth]);
    }
    txn_rollback_to_savepoint(s->txn);
    txn_savepoint(s->txn);
  } else {
    while (s->savepoint_depth > i) {
      txn_release_savepoint(s->txn);
      mm_free(s->savepoint_names[--s->savepoint_depth]);
    }
  }
  mm_free(name);
  return ok_or_err(s, out, rc, &err, more);
}

/* ---- KILL, USE, DDL ---------------------------------------------------------------- */
static int exec_kill(sess *s, lex *l, int more, mm_sink *out) {
  lex_token t;
  mm_error err;
  int query_only = 0;
  lex_next(l, &t);
  if (lex_is(&t, "QUERY")) { query_only = 1; lex_next(l, &t); }
  else if (lex_is(&t, "CONNECTION")) lex_next(l, &t);
  if (t.type != TK_INTEGER) {
    mm_error_set(&err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%.*s' at line 1", (int)MM_MIN(t.n, 80), t.p);
    return sess_send_error(s, out, &err);
  }
  unsigned long id = (unsigned long)lex_int(&t);
  mm_instance *inst = s->inst;
  int found = 0;
  if (id == s->id) {
    found = 1;
    if (!query_only) s->state = SESS_KILLED;
  } else {
    pthread_mutex_lock(&inst->mu);
    for (int i = 0; i < inst->nprocs; i++)
      if (inst->procs[i]->id == id) { sess_kill(inst->procs[i], query_only); found = 1; }
    pthread_mutex_unlock(&inst->mu);
  }
  if (!found) {
    mm_error_set(&err, 1094, "HY000", "Unknown thread id: %lu", id);
    return sess_send_error(s, out, &err);
  }
  if (id == s->id && !query_only) {
    mm_error_set(&err, 1927, "70100", "Connection was killed");
    return sess_send_error(s, out, &err);
  }
  return sess_send_ok(s, out, 0, 0, NULL, more);
}

static int exec_ddl(sess *s, const char *sql, size_t len, int more, mm_sink *out) {
  mm_error err;
  mm_error_clear(&err);
  var_val ro;
  vars_global_get(s->inst, VI_READ_ONLY, &ro);
  if (ro.i)
    return sess_send_error(s, out, (mm_error[]){{1290, "HY000", "The MySQL server is running with the --read-only option so it cannot execute this statement"}});
  /* DDL commits the open transaction first (implicit commit). */
  if (sess_commit(s, &err) != MM_OK) return sess_send_error(s, out, &err);
  tbl_conn_stmt_begin(s->tc);
  s->nwarn = 0;
  s->fn.stmt_time_us = mm_wall_us();
  if (tbl_ddl(s->tc, s->db, sql, len, &err) != MM_OK) return sess_send_error(s, out, &err);
  /* A dropped current database leaves the session without one. */
  if (s->db && strcmp(s->db, "information_schema") && !tbl_db_exists(s->inst->cat, s->db)) {
    mm_free(s->db);
    s->db = NULL;
    s->fn.db = NULL;
  }
  uint64_t v = tbl_catalog_version(s->inst->cat);
  if (v != s->synced_cat_version) {
    tbl_conn_sync(s->tc);
    s->synced_cat_version = v;
  }
  return sess_send_ok(s, out, tbl_conn_affected(s->tc), 0, NULL, more);
}

/* ---- dispatch ------------------------------------------------------------------------ */
int sess_syntax_error_at(sess *s, lex *l, lex_token *t, mm_sink *out) {
  char near[96];
  lex_near(l, t, near, sizeof near);
  mm_error err;
  mm_error_set(&err, 1064, "42000",
               "You have an error in your SQL syntax; check the manual that corresponds to your "
               "MySQL server version for the right syntax to use near '%s' at line 1", near);
  return sess_send_error(s, out, &err);
}

int sess_unsupported(sess *s, mm_sink *out, const char *what) {
  mm_error err;
  mm_error_set(&err, 1235, "42000", "This version of mmsql doesn't yet support '%s'", what);
  return sess_send_error(s, out, &err);
}

/* Substitute '?' markers of a non-data statement with literal parameters. */
static char *substitute_params(const char *sql, size_t len, const mm_value *p, int n) {
  lex l;
  lex_init(&l, sql, len);
  lex_token t;
  mm_buf b;
  mm_buf_init(&b);
  size_t last = 0;
  int k = 0;
  while (lex_next(&l, &t) != TK_EOF && t.type != TK_ERROR) {
    if (t.type != TK_PARAM || k >= n) continue;
    mm_buf_append(&b, sql + last, (size_t)(t.p - sql) - last);
    const mm_value *v = &p[k++];
    switch (v->kind) {
    case MM_V_NULL: mm_buf_puts(&b, "NULL"); break;
    case MM_V_INT: mm_buf_printf(&b, "%lld", (long long)v->i); break;
    case MM_V_UINT: mm_buf_printf(&b, "%llu", (unsigned long long)v->i); break;
    case MM_V_DOUBLE: mm_buf_printf(&b, "%.17g", v->d); break;
    default:
      mm_buf_puts(&b, "X'");
      for (size_t i = 0; i < v->n; i++) mm_buf_printf(&b, "%02x", (unsigned char)v->p[i]);
      mm_buf_putc(&b, '\'');
    }
    last = (size_t)(t.p - sql) + t.n;
  }
  mm_buf_append(&b, sql + last, len - last);
  if (b.oom) { mm_buf_free(&b); return NULL; }
  return b.p ? mm_buf_steal(&b, NULL) : mm_strdup("");
}

int sess_exec_one(sess *s, const char *sql, size_t len, const mm_value *params, int nparams,
                  int more, mm_sink *out) {
  lex l;
  lex_init(&l, sql, len);
  l.no_backslash_escapes = (s->sql_mode_rw & RW_MODE_NO_BACKSLASH_ESCAPES) != 0;
  lex_token t;
  mm_error err;
  int ty = lex_next(&l, &t);
  if (ty == TK_EOF) {
    return sess_send_error(s, out, (mm_error[]){{1065, "42000", "Query was empty"}});
  }
  if (ty == TK_ERROR) return sess_syntax_error_at(s, &l, &t, out);
  if (ty == TK_OP && lex_is_op(&t, "(")) return exec_rewrite(s, sql, len, more, out);
  if (ty != TK_IDENT) return sess_syntax_error_at(s, &l, &t, out);

  if (lex_is(&t, "SELECT") || lex_is(&t, "WITH") || lex_is(&t, "INSERT") || lex_is(&t, "UPDATE") ||
      lex_is(&t, "DELETE") || lex_is(&t, "REPLACE") || lex_is(&t, "VALUES") || lex_is(&t, "TABLE"))
    return exec_rewrite(s, sql, len, more, out);
  if (lex_is(&t, "SET")) return sess_set(s, &l, sql, len, more, out);
  if (lex_is(&t, "SHOW")) return sess_show(s, &l, more, out);
  /* DESCRIBE t and EXPLAIN <statement>: show.c tells them apart */
  if (lex_is(&t, "DESCRIBE") || lex_is(&t, "DESC") || lex_is(&t, "EXPLAIN")) return sess_show(s, &l, more, out);
  if (lex_is(&t, "USE")) {
    lex_next(&l, &t);
    if (!lex_is_name(&t)) return sess_syntax_error_at(s, &l, &t, out);
    char *db = lex_strdup(&t, 0);
    int rc = db ? sess_use(s, db, &err) : mm_error_set(&err, 1037, "HY001", "Out of memory");
    mm_free(db);
    return ok_or_err(s, out, rc, &err, more);
  }
  if (lex_is(&t, "BEGIN")) return exec_begin(s, &l, more, out);
  if (lex_is(&t, "START")) {
    lex_next(&l, &t);
    if (!lex_is(&t, "TRANSACTION")) return sess_syntax_error_at(s, &l, &t, out);
    return exec_begin(s, &l, more, out);
  }
  if (lex_is(&t, "COMMIT")) {
    int chain = 0, release = 0;
    while (lex_next(&l, &t) != TK_EOF) {
      if (lex_is(&t, "WORK") || lex_is(&t, "AND") || lex_is(&t, "NO")) continue;
      if (lex_is(&t, "CHAIN")) chain = 1;
      else if (lex_is(&t, "RELEASE")) release = 1;
      else return sess_syntax_error_at(s, &l, &t, out);
    }
    int ro = s->txn_read_only;
    int rc = sess_commit(s, &err);
    if (rc == MM_OK && chain) {
      rc = txn_open(s, 1, &err);
      s->txn_read_only = ro;
    }
    if (release) s->state = SESS_KILLED;
    return ok_or_err(s, out, rc, &err, more);
  }
  if (lex_is(&t, "ROLLBACK")) {
    lex_token n;
    lex_peek(&l, &n);
    if (lex_is(&n, "WORK")) { lex_next(&l, &n); lex_peek(&l, &n); }
    if (lex_is(&n, "TO")) { lex_next(&l, &n); return exec_savepoint(s, &l, 1, more, out); }
    sess_rollback(s);
    return sess_send_ok(s, out, 0, 0, NULL, more);
  }
  if (lex_is(&t, "SAVEPOINT")) return exec_savepoint(s, &l, 0, more, out);
  if (lex_is(&t, "RELEASE")) return exec_savepoint(s, &l, 2, more, out);
  if (lex_is(&t, "CREATE") || lex_is(&t, "DROP") || lex_is(&t, "ALTER") || lex_is(&t, "RENAME") ||
      lex_is(&t, "TRUNCATE")) {
    lex_token n;
    lex_peek(&l, &n);
    if (lex_is(&n, "USER") || lex_is(&n, "ROLE")) {
      /* Accounts beyond root are not there yet. */
      return sess_unsupported(s, out, "CREATE/DROP USER (only root exists)");
    }
    if (lex_is(&n, "VIEW") || lex_is(&n, "PROCEDURE") || lex_is(&n, "FUNCTION") ||
        lex_is(&n, "TRIGGER") || lex_is(&n, "EVENT") || lex_is(&n, "SERVER") ||
        lex_is(&n, "TABLESPACE") || lex_is(&n, "LOGFILE") || lex_is(&n, "DEFINER") ||
        lex_is(&n, "ALGORITHM") || lex_is(&n, "OR")) {
      char what[64];
      snprintf(what, sizeof what, "%.*s %.*s", (int)t.n, t.p, (int)MM_MIN(n.n, 40), n.p);
      for (char *p = what; *p; p++) *p = (char)toupper((unsigned char)*p);
      return sess_unsupported(s, out, what);
    }
    if (lex_is(&n, "TEMPORARY")) return sess_unsupported(s, out, "TEMPORARY tables");
    return exec_ddl(s, sql, len, more, out);
  }
  if (lex_is(&t, "KILL")) return exec_kill(s, &l, more, out);
  if (lex_is(&t, "LOCK")) {
    /* LOCK TABLES / LOCK TABLE: accepted. Table locks are not enforced in a
     * multi-master cluster (as in Galera); see README compatibility notes.
     * The statement still commits an open transaction, as MySQL does. */
    lex_next(&l, &t);
    if (!lex_is(&t, "TABLES") && !lex_is(&t, "TABLE")) return sess_syntax_error_at(s, &l, &t, out);
    if (sess_commit(s, &err) != MM_OK) return sess_send_error(s, out, &err);
    return sess_send_ok(s, out, 0, 0, NULL, more);
  }
  if (lex_is(&t, "UNLOCK")) {
    lex_next(&l, &t);
    if (!lex_is(&t, "TABLES") && !lex_is(&t, "TABLE")) return sess_syntax_error_at(s, &l, &t, out);
    if (sess_commit(s, &err) != MM_OK) return sess_send_error(s, out, &err);
    return sess_send_ok(s, out, 0, 0, NULL, more);
  }
  if (lex_is(&t, "FLUSH")) {
    /* FLUSH TABLES / PRIVILEGES / LOGS / STATUS: nothing is cached that would
     * need flushing; data is durable at commit. */
    return sess_send_ok(s, out, 0, 0, NULL, more);
  }
  if (lex_is(&t, "DO")) {
    mm_buf b;
    mm_buf_init(&b);
    mm_buf_puts(&b, "SELECT ");
    mm_buf_append(&b, l.src + l.pos, len - l.pos);
    rw_in in = {s->db, s->sql_mode_rw};
    rw_out rw;
    rw_out_init(&rw);
    int rc = rw_rewrite(&in, b.p, b.len, &rw, &err);
    sqlite3_stmt *st = NULL;
    if (rc == MM_OK) rc = sess_prepare_sql(s, rw.sql.p, &st, &err);
    if (rc == MM_OK) {
      int r;
      while ((r = sqlite3_step(st)) == SQLITE_ROW) {}
      if (r != SQLITE_DONE) { sess_map_sqlite_error(s, r, "field list", &err); rc = MM_ESQL; }
    }
    sqlite3_finalize(st);
    rw_out_free(&rw);
    mm_buf_free(&b);
    return ok_or_err(s, out, rc, &err, more);
  }
  if (lex_is(&t, "CALL")) {
    /* CALL mysql.rds_set_read_only(0|1), as on Aurora. */
    lex_token a, b, c;
    lex_next(&l, &a);
    lex_next(&l, &b);
    lex_next(&l, &c);
    if (lex_is(&a, "mysql") && lex_is_op(&b, ".") && lex_is(&c, "rds_set_read_only")) {
      lex_token p, v, q;
      lex_next(&l, &p);
      lex_next(&l, &v);
      lex_next(&l, &q);
      if (!lex_is_op(&p, "(") || v.type != TK_INTEGER || !lex_is_op(&q, ")"))
        return sess_syntax_error_at(s, &l, &v, out);
      var_val nv = {0};
      nv.i = lex_int(&v) != 0;
      vars_global_set(s->inst, VI_READ_ONLY, &nv);
      return sess_send_ok(s, out, 0, 0, NULL, more);
    }
    return sess_unsupported(s, out, "stored procedures");
  }
  if (lex_is(&t, "HELP")) return sess_unsupported(s, out, "HELP (the help tables are not installed)");
  if (lex_is(&t, "XA")) return sess_unsupported(s, out, "XA transactions");
  if (lex_is(&t, "HANDLER") || lex_is(&t, "LOAD") || lex_is(&t, "GRANT") || lex_is(&t, "REVOKE") ||
      lex_is(&t, "PREPARE") || lex_is(&t, "EXECUTE") || lex_is(&t, "DEALLOCATE") ||
      lex_is(&t, "ANALYZE") || lex_is(&t, "OPTIMIZE") || lex_is(&t, "REPAIR") ||
      lex_is(&t, "CHECKSUM") || lex_is(&t, "CHECK") || lex_is(&t, "INSTALL") ||
      lex_is(&t, "UNINSTALL") || lex_is(&t, "RESET") || lex_is(&t, "PURGE") ||
      lex_is(&t, "CHANGE") || lex_is(&t, "BINLOG") || lex_is(&t, "CACHE")) {
    char what[64];
    snprintf(what, sizeof what, "%.*s", (int)MM_MIN(t.n, 40), t.p);
    for (char *p = what; *p; p++) *p = (char)toupper((unsigned char)*p);
    return sess_unsupported(s, out, what);
  }
  return sess_syntax_error_at(s, &l, &t, out);
}

typedef struct split_ctx {
  sess *s;
  mm_sink *out;
  const char *all;
  size_t all_len;
  int count;
  int broken;
  int failed;
} split_ctx;

static int count_cb(void *ctx, const char *stmt, size_t n) {
  ((split_ctx *)ctx)->count++;
  return 0;
}

/* A sink wrapper that records whether the statement ended in an error. */
typedef struct err_watch {
  mm_sink sink;
  mm_sink *inner;
  int errored;
} err_watch;
static int ew_columns(mm_sink *k, const mm_col *c, int n) { err_watch *w = k->ctx; return w->inner->columns(w->inner, c, n); }
static int ew_row(mm_sink *k, const mm_cell *c, int n) { err_watch *w = k->ctx; return w->inner->row(w->inner, c, n); }
static int ew_end(mm_sink *k, uint16_t st, uint16_t wn, int more) { err_watch *w = k->ctx; return w->inner->end_rows(w->inner, st, wn, more); }
static int ew_ok(mm_sink *k, uint64_t a, uint64_t id, uint16_t st, uint16_t wn, const char *info, int more) {
  err_watch *w = k->ctx;
  return w->inner->ok(w->inner, a, id, st, wn, info, more);
}
static int ew_error(mm_sink *k, const mm_error *e) { err_watch *w = k->ctx; w->errored = 1; return w->inner->error(w->inner, e); }

static int run_cb(void *ctx, const char *stmt, size_t n) {
  split_ctx *c = ctx;
  sess *s = c->s;
  c->count--;
  err_watch w = {{ew_columns, ew_row, ew_end, ew_ok, ew_error, NULL}, c->out, 0};
  w.sink.ctx = &w;
  set_info(s, "Query", stmt, n);
  uint64_t t0 = mm_now_us();
  c->broken = sess_exec_one(s, stmt, n, NULL, 0, c->count > 0, &w.sink);
  uint64_t dt = mm_now_us() - t0;
  if (s->inst->slow_log && s->vars[var_find("long_query_time", 15)].d * 1e6 <= (double)dt) {
    pthread_mutex_lock(&s->inst->mu);
    s->inst->stat_slow_queries++;
    fprintf(s->inst->slow_log, "# User@Host: %s\n# Query_time: %.6f\n%.*s;\n", s->fn.user, dt / 1e6, (int)n, stmt);
    pthread_mutex_unlock(&s->inst->mu);
  }
  if (w.errored) c->failed = 1;
  return c->broken || w.errored || s->state == SESS_KILLED;
}

int sess_query(sess *s, const char *sql, size_t len, int multi, mm_sink *out) {
  __atomic_fetch_add(&s->inst->stat_questions, 1, __ATOMIC_RELAXED); /* (no lock per statement) */
  inst_general_log(s->inst, s->id, "Query", sql, len);
  s->state = SESS_RUNNING;
  split_ctx c = {s, out, sql, len, 0, 0, 0};
  int nbe = (s->sql_mode_rw & RW_MODE_NO_BACKSLASH_ESCAPES) != 0;
  lex_split(sql, len, nbe, count_cb, &c);
  int r;
  if (c.count == 0) {
    r = sess_send_error(s, out, (mm_error[]){{1065, "42000", "Query was empty"}});
  } else if (c.count > 1 && !multi && !s->multi) {
    /* Without CLIENT_MULTI_STATEMENTS the text after the first ';' is a syntax error. */
    lex l;
    lex_init(&l, sql, len);
    lex_token t;
    while (lex_next(&l, &t) != TK_EOF && !lex_is_op(&t, ";")) {}
    lex_next(&l, &t);
    r = sess_syntax_error_at(s, &l, &t, out);
  } else {
    lex_split(sql, len, nbe, run_cb, &c);
    r = c.broken;
  }
  set_info(s, "Sleep", NULL, 0);
  if (s->state == SESS_RUNNING) s->state = SESS_IDLE;
  return r;
}

/* ---- COM_FIELD_LIST / COM_STATISTICS ---------------------------------------------- */
int sess_field_list(sess *s, const char *table, const char *wild, const mm_col **cols, int *ncols,
                    mm_error *err) {
  if (!s->db) return mm_error_set(err, 1046, "3D000", "No database selected");
  tbl_def *def = tbl_get(s->inst->cat, s->db, table);
  if (!def) return mm_error_set(err, 1146, "42S02", "Table '%s.%s' doesn't exist", s->db, table);
  mm_free(s->fl_cols);
  mm_free(s->fl_strs);
  s->fl_cols = mm_calloc((size_t)def->ncols + 1, sizeof(mm_col));
  mm_buf strs;
  mm_buf_init(&strs);
  size_t *offs = mm_calloc((size_t)def->ncols + 1, 3 * sizeof(size_t));
  int n = 0;
  if (!s->fl_cols || !offs) goto oom;
  for (int i = 0; i < def->ncols; i++) {
    if (wild && *wild && !sess_like(wild, def->cols[i].name)) continue;
    sess_col_from_def(&s->fl_cols[n], def, i);
    offs[n * 3] = strs.len; mm_buf_append(&strs, def->db, strlen(def->db) + 1);
    offs[n * 3 + 1] = strs.len; mm_buf_append(&strs, def->name, strlen(def->name) + 1);
    offs[n * 3 + 2] = strs.len; mm_buf_append(&strs, def->cols[i].name, strlen(def->cols[i].name) + 1);
    n++;
  }
  if (strs.oom) goto oom;
  s->fl_strs = mm_buf_steal(&strs, NULL);
  for (int i = 0; i < n; i++) {
    s->fl_cols[i].db = s->fl_strs + offs[i * 3];
    s->fl_cols[i].table = s->fl_cols[i].org_table = s->fl_strs + offs[i * 3 + 1];
    s->fl_cols[i].name = s->fl_cols[i].org_name = s->fl_strs + offs[i * 3 + 2];
  }
  mm_free(offs);
  tbl_def_release(s->inst->cat, def);
  *cols = s->fl_cols;
  *ncols = n;
  return MM_OK;
oom:
  mm_free(offs);
  mm_buf_free(&strs);
  tbl_def_release(s->inst->cat, def);
  return mm_error_set(err, 1037, "HY001", "Out of memory");
}

void sess_statistics(sess *s, mm_buf *out) {
  mm_instance *inst = s->inst;
  pthread_mutex_lock(&inst->mu);
  uint64_t up = (mm_now_us() - inst->start_us) / 1000000;
  mm_buf_printf(out,
                "Uptime: %llu  Threads: %d  Questions: %llu  Slow queries: %llu  Opens: 0  "
                "Flush tables: 1  Open tables: 0  Queries per second avg: %.3f",
                (unsigned long long)up, inst->nprocs,
                (unsigned long long)__atomic_load_n(&inst->stat_questions, __ATOMIC_RELAXED),
                (unsigned long long)inst->stat_slow_queries,
                up ? (double)__atomic_load_n(&inst->stat_questions, __ATOMIC_RELAXED) / (double)up : 0.0);
  pthread_mutex_unlock(&inst->mu);
}

/* ---- prepared statements --------------------------------------------------------------- */
static sess_stmt *stmt_find(sess *s, uint32_t id) {
  for (int i = 0; i < s->nstmts; i++)
    if (s->stmt_ids[i] == id) return s->stmts[i];
  return NULL;
}

static int is_data_stmt(const char *sql, size_t len) {
  lex l;
  lex_init(&l, sql, len);
  lex_token t;
  lex_next(&l, &t);
  return lex_is(&t, "SELECT") || lex_is(&t, "WITH") || lex_is(&t, "INSERT") || lex_is(&t, "UPDATE") ||
         lex_is(&t, "DELETE") || lex_is(&t, "REPLACE") || lex_is_op(&t, "(");
}

int sess_prepare(sess *s, const char *sql, size_t len, uint32_t *id, int *nparams,
                 const mm_col **cols, int *ncols, mm_error *err) {
  inst_general_log(s->inst, s->id, "Prepare", sql, len);
  sess_stmt *st = mm_calloc(1, sizeof *st);
  if (!st) return mm_error_set(err, 1037, "HY001", "Out of memory");
  rw_out_init(&st->rw);
  st->mysql = mm_strndup(sql, len);
  st->mysql_len = len;
  if (!st->mysql) goto oom;
  /* a single statement only */
  int count = 0;
  split_ctx c = {s, NULL, sql, len, 0, 0, 0};
  lex_split(sql, len, 0, count_cb, &c);
  count = c.count;
  if (count != 1) {
    stmt_free(st);
    if (count == 0) return mm_error_set(err, 1065, "42000", "Query was empty");
    return mm_error_set(err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ';' at line 1");
  }
  if (is_data_stmt(sql, len)) {
    rw_in in = {s->db, s->sql_mode_rw};
    if (rw_rewrite(&in, sql, len, &st->rw, err) != MM_OK) { stmt_free(st); return MM_ESQL; }
    if (sess_prepare_sql(s, st->rw.sql.p, &st->st, err) != MM_OK) { stmt_free(st); return MM_ESQL; }
    st->nparams = st->rw.nparams;
    st->ncols = sqlite3_column_count(st->st);
    if (st->ncols && build_cols(s, st->st, 0, &st->cols, &st->colstrs, NULL) != MM_OK) goto oom;
    st->cat_version = tbl_catalog_version(s->inst->cat);
  } else {
    lex l;
    lex_init(&l, sql, len);
    lex_token t;
    while (lex_next(&l, &t) != TK_EOF && t.type != TK_ERROR)
      if (t.type == TK_PARAM) st->nparams++;
  }
  if (s->nstmts == s->capstmts) {
    int cap = s->capstmts ? s->capstmts * 2 : 8;
    sess_stmt **p = mm_realloc(s->stmts, (size_t)cap * sizeof *p);
    if (!p) goto oom;
    s->stmts = p;
    uint32_t *ids = mm_realloc(s->stmt_ids, (size_t)cap * sizeof *ids);
    if (!ids) goto oom;
    s->stmt_ids = ids;
    s->capstmts = cap;
  }
  st->id = s->next_stmt_id++;
  s->stmt_ids[s->nstmts] = st->id;
  s->stmts[s->nstmts++] = st;
  *id = st->id;
  *nparams = st->nparams;
  *cols = st->cols;
  *ncols = st->ncols;
  return MM_OK;
oom:
  stmt_free(st);
  return mm_error_set(err, 1037, "HY001", "Out of memory");
}

int sess_execute(sess *s, uint32_t id, const mm_value *params, int nparams, mm_sink *out) {
  sess_stmt *st = stmt_find(s, id);
  mm_error err;
  if (!st) {
    mm_error_set(&err, 1243, "HY000", "Unknown prepared statement handler (%u) given to mysqld_stmt_execute", id);
    return sess_send_error(s, out, &err);
  }
  if (nparams < st->nparams)
    return sess_send_error(s, out, (mm_error[]){{1210, "HY000", "Incorrect arguments to mysqld_stmt_execute"}});
  __atomic_fetch_add(&s->inst->stat_questions, 1, __ATOMIC_RELAXED); /* (no lock per statement) */
  s->state = SESS_RUNNING;
  set_info(s, "Execute", st->mysql, st->mysql_len);
  int r;
  if (st->st) {
    if (st->cat_version != tbl_catalog_version(s->inst->cat)) {
      /* The schema moved: re-prepare so the plan sees the current tables. */
      sqlite3_finalize(st->st);
      st->st = NULL;
      mm_free(st->fmt);
      st->fmt = NULL;
      if (sess_prepare_sql(s, st->rw.sql.p, &st->st, &err) != MM_OK) {
        r = sess_send_error(s, out, &err);
        goto done;
      }
      st->cat_version = tbl_catalog_version(s->inst->cat);
    }
    sqlite3_clear_bindings(st->st);
    int same_cols = st->ncols == sqlite3_column_count(st->st);
    r = exec_data(s, &st->rw, st->st, same_cols ? st->cols : NULL, same_cols ? &st->fmt : NULL, params, nparams, 0,
                  out);
  } else if (st->nparams > 0) {
    char *text = substitute_params(st->mysql, st->mysql_len, params, nparams);
    if (!text) { r = sess_send_error(s, out, (mm_error[]){{1037, "HY001", "Out of memory"}}); goto done; }
    r = sess_exec_one(s, text, strlen(text), NULL, 0, 0, out);
    mm_free(text);
  } else {
    r = sess_exec_one(s, st->mysql, st->mysql_len, NULL, 0, 0, out);
  }
done:
  set_info(s, "Sleep", NULL, 0);
  if (s->state == SESS_RUNNING) s->state = SESS_IDLE;
  return r;
}

int sess_stmt_close(sess *s, uint32_t id) {
  for (int i = 0; i < s->nstmts; i++) {
    if (s->stmt_ids[i] != id) continue;
    stmt_free(s->stmts[i]);
    s->nstmts--;
    s->stmts[i] = s->stmts[s->nstmts];
    s->stmt_ids[i] = s->stmt_ids[s->nstmts];
    return MM_OK;
  }
  return MM_ENOTFOUND;
}

int sess_stmt_reset(sess *s, uint32_t id, mm_error *err) {
  sess_stmt *st = stmt_find(s, id);
  if (!st) return mm_error_set(err, 1243, "HY000", "Unknown prepared statement handler (%u) given to mysqld_stmt_reset", id);
  if (st->st) sqlite3_reset(st->st);
  return MM_OK;
}
