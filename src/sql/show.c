/*
 * sql/show.c - SHOW, DESCRIBE and EXPLAIN, and the information_schema tables
 * the session owns (PROCESSLIST, GLOBAL/SESSION_VARIABLES and _STATUS).
 *
 * Most SHOW forms are rewritten into a SELECT over information_schema (the
 * catalog's virtual tables, table/infoschema.c) and run like any query, so
 * LIKE and WHERE filters behave as in MySQL.  SHOW CREATE uses the
 * catalog's printers; SHOW WARNINGS reads the last statement's list.
 */
#include "sql/sessionInt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- session-owned information_schema tables -------------------------------- */
enum { SV_PROCESSLIST, SV_GVARS, SV_SVARS, SV_GSTATUS, SV_SSTATUS };
static const struct { const char *name; const char *schema; int ncols; } sv_tables[] = {
    {"PROCESSLIST", "CREATE TABLE x(ID INTEGER, USER TEXT, HOST TEXT, DB TEXT, COMMAND TEXT, TIME INTEGER, STATE TEXT, INFO TEXT)", 8},
    {"GLOBAL_VARIABLES", "CREATE TABLE x(VARIABLE_NAME TEXT, VARIABLE_VALUE TEXT)", 2},
    {"SESSION_VARIABLES", "CREATE TABLE x(VARIABLE_NAME TEXT, VARIABLE_VALUE TEXT)", 2},
    {"GLOBAL_STATUS", "CREATE TABLE x(VARIABLE_NAME TEXT, VARIABLE_VALUE TEXT)", 2},
    {"SESSION_STATUS", "CREATE TABLE x(VARIABLE_NAME TEXT, VARIABLE_VALUE TEXT)", 2},
};

typedef struct sv_vtab {
  sqlite3_vtab base;
  sess *s;
  int kind;
} sv_vtab;

typedef struct sv_cursor {
  sqlite3_vtab_cursor base;
  char **cells; /* nrows * ncols, NULL = SQL NULL */
  int nrows, ncols, row;
} sv_cursor;

static int sv_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err) {
  int kind = -1;
  for (int i = 0; i < (int)MM_ARRAY_SIZE(sv_tables); i++)
    if (argc > 3 && !strcmp(argv[3], sv_tables[i].name)) kind = i;
  if (kind < 0) return SQLITE_ERROR;
  int rc = sqlite3_declare_vtab(db, sv_tables[kind].schema);
  if (rc != SQLITE_OK) return rc;
  sv_vtab *v = sqlite3_malloc(sizeof *v);
  if (!v) return SQLITE_NOMEM;
  memset(v, 0, sizeof *v);
  v->s = aux;
  v->kind = kind;
  *out = &v->base;
  return SQLITE_OK;
}
static int sv_disconnect(sqlite3_vtab *v) { sqlite3_free(v); return SQLITE_OK; }
static int sv_best_index(sqlite3_vtab *v, sqlite3_index_info *ii) {
  ii->estimatedCost = 1000;
  ii->estimatedRows = 100;
  return SQLITE_OK;
}
static int sv_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out) {
  sv_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  *out = &c->base;
  return SQLITE_OK;
}
static void sv_clear(sv_cursor *c) {
  for (int i = 0; i < c->nrows * c->ncols; i++) mm_free(c->cells[i]);
  mm_free(c->cells);
  c->cells = NULL;
  c->nrows = 0;
}
static int sv_close(sqlite3_vtab_cursor *cur) {
  sv_clear((sv_cursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

typedef struct rowbuf { char **cells; int n, cap, ncols, oom; } rowbuf;
static void rb_add(rowbuf *b, char *cell) {
  if (b->oom) { mm_free(cell); return; }
  if (b->n == b->cap) {
    int cap = b->cap ? b->cap * 2 : 64;
    char **p = mm_realloc(b->cells, (size_t)cap * sizeof *p);
    if (!p) { b->oom = 1; mm_free(cell); return; }
    b->cells = p;
    b->cap = cap;
  }
  b->cells[b->n++] = cell;
}
static void rb_kv(rowbuf *b, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rb_kv(rowbuf *b, const char *k, const char *fmt, ...) {
  mm_buf v;
  mm_buf_init(&v);
  va_list ap;
  va_start(ap, fmt);
  mm_buf_vprintf(&v, fmt, ap);
  va_end(ap);
  rb_add(b, mm_strdup(k));
  rb_add(b, v.p ? mm_buf_steal(&v, NULL) : mm_strdup(""));
}

static void fill_vars(sess *s, int global, rowbuf *b) {
  for (int i = 0; i < var_count; i++) {
    if (!global && !(var_defs[i].scope & VS_SESSION) && !(var_defs[i].scope & VS_GLOBAL)) continue;
    if (global && !(var_defs[i].scope & VS_GLOBAL)) continue;
    var_val v;
    sess_var_get(s, i, global, &v);
    mm_buf t;
    mm_buf_init(&t);
    var_format(i, &v, &t);
    var_val_free(&v);
    rb_add(b, mm_strdup(var_defs[i].name));
    rb_add(b, t.p ? mm_buf_steal(&t, NULL) : mm_strdup(""));
  }
}

static void fill_status(sess *s, int global, rowbuf *b) {
  mm_instance *inst = s->inst;
  pthread_mutex_lock(&inst->mu);
  uint64_t up = (mm_now_us() - inst->start_us) / 1000000;
  int threads = inst->nprocs, running = 0;
  for (int i = 0; i < inst->nprocs; i++) running += inst->procs[i]->state == SESS_RUNNING;
  uint64_t q = __atomic_load_n(&inst->stat_questions, __ATOMIC_RELAXED), conns = inst->stat_connections, ab = inst->stat_aborted_connects,
           slow = inst->stat_slow_queries;
  pthread_mutex_unlock(&inst->mu);
  txn_stats ts;
  txn_get_stats(inst->st, &ts);
  rb_kv(b, "Aborted_connects", "%llu", (unsigned long long)ab);
  rb_kv(b, "Connections", "%llu", (unsigned long long)conns);
  /* issue 3: row locks, the commit pipeline, the oldest open snapshot */
  rb_kv(b, "Innodb_deadlocks", "%llu", (unsigned long long)ts.deadlocks);
  rb_kv(b, "Innodb_row_lock_current_waits", "%d", ts.lock_current_waits);
  rb_kv(b, "Innodb_row_lock_timeouts", "%llu", (unsigned long long)ts.lock_timeouts);
  rb_kv(b, "Innodb_row_lock_waits", "%llu", (unsigned long long)ts.lock_waits);
  rb_kv(b, "Max_used_connections", "%d", threads);
  rb_kv(b, "mmsql_commit_groups", "%llu", (unsigned long long)ts.commit_groups);
  rb_kv(b, "mmsql_commit_log_compactions", "%llu", (unsigned long long)ts.log_compactions);
  rb_kv(b, "mmsql_commit_log_syncs", "%llu", (unsigned long long)ts.log_syncs);
  rb_kv(b, "mmsql_commits", "%llu", (unsigned long long)ts.commits);
  rb_kv(b, "mmsql_memtable_age_flushes", "%llu", (unsigned long long)(inst->st ? store_age_flushes(inst->st) : 0));
  rb_kv(b, "mmsql_oldest_snapshot_age_ms", "%llu", (unsigned long long)ts.oldest_snapshot_age_ms);
  rb_kv(b, "Queries", "%llu", (unsigned long long)q);
  rb_kv(b, "Questions", "%llu", (unsigned long long)q);
  rb_kv(b, "Slow_queries", "%llu", (unsigned long long)slow);
  rb_kv(b, "Threads_connected", "%d", threads);
  rb_kv(b, "Threads_running", "%d", running);
  rb_kv(b, "Uptime", "%llu", (unsigned long long)up);
  /* Galera-style status: this node is a cluster of one until replication
   * lands (issue: the ordered log); every value below is the true state. */
  rb_kv(b, "wsrep_cluster_size", "1");
  rb_kv(b, "wsrep_cluster_status", "Primary");
  rb_kv(b, "wsrep_connected", "ON");
  rb_kv(b, "wsrep_flow_control_paused", "0.000000");
  rb_kv(b, "wsrep_last_committed", "%llu", (unsigned long long)ts.applied_pos);
  rb_kv(b, "wsrep_local_bf_aborts", "%llu", (unsigned long long)ts.bf_aborts);
  rb_kv(b, "wsrep_local_cert_failures", "%llu", (unsigned long long)ts.cert_failures);
  rb_kv(b, "wsrep_local_recv_queue", "0");
  rb_kv(b, "wsrep_local_send_queue", "0");
  rb_kv(b, "wsrep_local_state", "4");
  rb_kv(b, "wsrep_local_state_comment", "Synced");
  rb_kv(b, "wsrep_ready", "ON");
}

static void fill_processlist(sess *s, rowbuf *b) {
  mm_instance *inst = s->inst;
  uint64_t now = mm_now_us();
  pthread_mutex_lock(&inst->mu);
  for (int i = 0; i < inst->nprocs; i++) {
    sess *p = inst->procs[i];
    pthread_mutex_lock(&p->info_mu);
    rb_add(b, mm_sprintf("%u", p->id));
    rb_add(b, mm_strdup(p->user));
    rb_add(b, mm_strdup(p->host));
    rb_add(b, p->db ? mm_strdup(p->db) : NULL);
    rb_add(b, mm_strdup(p->state == SESS_KILLED ? "Killed" : p->command));
    rb_add(b, mm_sprintf("%llu", (unsigned long long)((now - p->state_since_us) / 1000000)));
    rb_add(b, mm_strdup(p->info ? "executing" : ""));
    rb_add(b, p->info ? mm_strdup(p->info) : NULL);
    pthread_mutex_unlock(&p->info_mu);
  }
  pthread_mutex_unlock(&inst->mu);
}

static int sv_filter(sqlite3_vtab_cursor *cur, int idx, const char *is, int argc, sqlite3_value **argv) {
  sv_cursor *c = (sv_cursor *)cur;
  sv_vtab *v = (sv_vtab *)cur->pVtab;
  sv_clear(c);
  rowbuf b = {0};
  switch (v->kind) {
  case SV_PROCESSLIST: fill_processlist(v->s, &b); break;
  case SV_GVARS: fill_vars(v->s, 1, &b); break;
  case SV_SVARS: fill_vars(v->s, 0, &b); break;
  case SV_GSTATUS: fill_status(v->s, 1, &b); break;
  default: fill_status(v->s, 0, &b); break;
  }
  if (b.oom) {
    for (int i = 0; i < b.n; i++) mm_free(b.cells[i]);
    mm_free(b.cells);
    return SQLITE_NOMEM;
  }
  c->cells = b.cells;
  c->ncols = sv_tables[v->kind].ncols;
  c->nrows = b.n / c->ncols;
  c->row = 0;
  return SQLITE_OK;
}
static int sv_next(sqlite3_vtab_cursor *cur) { ((sv_cursor *)cur)->row++; return SQLITE_OK; }
static int sv_eof(sqlite3_vtab_cursor *cur) { sv_cursor *c = (sv_cursor *)cur; return c->row >= c->nrows; }
static int sv_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  sv_cursor *c = (sv_cursor *)cur;
  sv_vtab *v = (sv_vtab *)cur->pVtab;
  const char *cell = c->cells[c->row * c->ncols + i];
  if (!cell) sqlite3_result_null(ctx);
  else if (v->kind == SV_PROCESSLIST && (i == 0 || i == 5)) sqlite3_result_int64(ctx, strtoll(cell, NULL, 10));
  else sqlite3_result_text(ctx, cell, -1, SQLITE_TRANSIENT);
  return SQLITE_OK;
}
static int sv_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *r) { *r = ((sv_cursor *)cur)->row; return SQLITE_OK; }

static sqlite3_module sv_module = {
    0, sv_connect, sv_connect, sv_best_index, sv_disconnect, sv_disconnect, sv_open, sv_close,
    sv_filter, sv_next, sv_eof, sv_column, sv_rowid, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL};

int sess_register_infoschema(sess *s) {
  if (sqlite3_create_module(s->sql, "mm_sess", &sv_module, s) != SQLITE_OK) return MM_ENOMEM;
  for (int i = 0; i < (int)MM_ARRAY_SIZE(sv_tables); i++) {
    char *q = sqlite3_mprintf("CREATE VIRTUAL TABLE temp.\"information_schema.%s\" USING mm_sess(%s)",
                              sv_tables[i].name, sv_tables[i].name);
    int rc = q ? sqlite3_exec(s->sql, q, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(q);
    if (rc != SQLITE_OK) {
      mm_log_error("cannot create information_schema.%s: %s", sv_tables[i].name, sqlite3_errmsg(s->sql));
      return MM_ENOMEM;
    }
  }
  return MM_OK;
}

/* ---- SHOW ---------------------------------------------------------------------- */
typedef struct showq {
  mm_buf sql;  /* the SELECT */
  char *like;  /* LIKE pattern (MySQL string token text, quoted) */
  char *where; /* WHERE expression text */
} showq;

/* Parse an optional trailing [LIKE 'p' | WHERE expr]; returns 0 or -1 on syntax. */
static int parse_filter(lex *l, showq *q, lex_token *bad) {
  lex_token t;
  int ty = lex_next(l, &t);
  if (ty == TK_EOF) return 0;
  if (lex_is(&t, "LIKE")) {
    lex_next(l, &t);
    if (t.type != TK_STRING) { *bad = t; return -1; }
    q->like = mm_strndup(t.p, t.n);
    lex_next(l, &t);
    if (t.type != TK_EOF) { *bad = t; return -1; }
    return 0;
  }
  if (lex_is(&t, "WHERE")) {
    q->where = mm_strndup(l->src + l->pos, l->len - l->pos);
    return 0;
  }
  *bad = t;
  return -1;
}

/* Wrap q->sql as a derived table filtered by LIKE on `col` or by WHERE. */
static void finish_query(showq *q, const char *col, const char *order) {
  mm_buf b;
  mm_buf_init(&b);
  mm_buf_puts(&b, "SELECT * FROM (");
  mm_buf_append(&b, q->sql.p, q->sql.len);
  mm_buf_puts(&b, ") AS `show`");
  if (q->like) mm_buf_printf(&b, " WHERE `%s` LIKE %s", col, q->like);
  else if (q->where) mm_buf_printf(&b, " WHERE %s", q->where);
  if (order) mm_buf_printf(&b, " ORDER BY %s", order);
  mm_buf_free(&q->sql);
  q->sql = b;
}

static char *name_tok(lex *l, lex_token *t) {
  lex_next(l, t);
  if (!lex_is_name(t) && t->type != TK_STRING) return NULL;
  return lex_strdup(t, 0);
}

/* [FROM|IN] tbl [FROM|IN db]  or  db.tbl */
static int parse_table_ref(sess *s, lex *l, char **db, char **tbl, lex_token *bad) {
  lex_token t;
  lex_next(l, &t);
  if (!lex_is(&t, "FROM") && !lex_is(&t, "IN")) { *bad = t; return -1; }
  *tbl = name_tok(l, &t);
  if (!*tbl) { *bad = t; return -1; }
  lex_token n;
  lex_peek(l, &n);
  if (lex_is_op(&n, ".")) {
    lex_next(l, &n);
    *db = *tbl;
    *tbl = name_tok(l, &t);
    if (!*tbl) { *bad = t; return -1; }
  } else if (lex_is(&n, "FROM") || lex_is(&n, "IN")) {
    lex_next(l, &n);
    *db = name_tok(l, &t);
    if (!*db) { *bad = t; return -1; }
  } else {
    *db = s->db ? mm_strdup(s->db) : NULL;
  }
  return 0;
}

static int show_create(sess *s, lex *l, int more, mm_sink *out) {
  lex_token t;
  mm_error err;
  lex_next(l, &t);
  mm_buf b;
  mm_buf_init(&b);
  int r;
  if (lex_is(&t, "DATABASE") || lex_is(&t, "SCHEMA")) {
    int ine = 0;
    lex_token n;
    lex_peek(l, &n);
    if (lex_is(&n, "IF")) {
      lex_next(l, &n);
      lex_next(l, &n);
      lex_next(l, &n);
      ine = 1;
    }
    char *db = name_tok(l, &t);
    if (!db) return sess_syntax_error_at(s, l, &t, out);
    if (!tbl_db_exists(s->inst->cat, db)) {
      mm_error_set(&err, 1049, "42000", "Unknown database '%s'", db);
      mm_free(db);
      return sess_send_error(s, out, &err);
    }
    tbl_show_create_db(s->inst->cat, db, ine, &b);
    const char *names[] = {"Database", "Create Database"};
    const char *cells[] = {db, b.p ? b.p : ""};
    r = sess_send_rows(s, names, 2, cells, 1, more, out);
    mm_free(db);
  } else if (lex_is(&t, "TABLE")) {
    char *db = NULL, *tbl = name_tok(l, &t);
    if (!tbl) return sess_syntax_error_at(s, l, &t, out);
    lex_token n;
    lex_peek(l, &n);
    if (lex_is_op(&n, ".")) {
      lex_next(l, &n);
      db = tbl;
      tbl = name_tok(l, &t);
      if (!tbl) { mm_free(db); return sess_syntax_error_at(s, l, &t, out); }
    } else if (s->db) {
      db = mm_strdup(s->db);
    }
    if (!db) {
      mm_free(tbl);
      return sess_send_error(s, out, (mm_error[]){{1046, "3D000", "No database selected"}});
    }
    tbl_def *def = tbl_get(s->inst->cat, db, tbl);
    if (!def) {
      mm_error_set(&err, 1146, "42S02", "Table '%s.%s' doesn't exist", db, tbl);
      r = sess_send_error(s, out, &err);
    } else {
      tbl_show_create_ex(s->inst->cat, def, &b);
      tbl_def_release(s->inst->cat, def);
      const char *names[] = {"Table", "Create Table"};
      const char *cells[] = {tbl, b.p ? b.p : ""};
      r = sess_send_rows(s, names, 2, cells, 1, more, out);
    }
    mm_free(db);
    mm_free(tbl);
  } else {
    char what[64];
    snprintf(what, sizeof what, "SHOW CREATE %.*s", (int)MM_MIN(t.n, 40), t.p);
    r = sess_unsupported(s, out, what);
  }
  mm_buf_free(&b);
  return r;
}

static int show_warnings(sess *s, int errors_only, int count_only, int more, mm_sink *out) {
  int nt = 0;
  const mm_error *tw = tbl_conn_warnings(s->tc, &nt);
  int n = nt + s->nwarn;
  if (count_only) {
    char num[16];
    snprintf(num, sizeof num, "%d", n);
    const char *names[] = {errors_only ? "@@session.error_count" : "@@session.warning_count"};
    const char *cells[] = {num};
    return sess_send_rows(s, names, 1, cells, 1, more, out);
  }
  const char **cells = mm_calloc((size_t)(n ? n : 1) * 3, sizeof *cells);
  char (*codes)[16] = mm_calloc((size_t)(n ? n : 1), 16);
  if (!cells || !codes) {
    mm_free(cells);
    mm_free(codes);
    return sess_send_error(s, out, (mm_error[]){{1037, "HY001", "Out of memory"}});
  }
  int k = 0;
  for (int i = 0; i < n; i++) {
    const mm_error *e = i < nt ? &tw[i] : &s->warn[i - nt];
    snprintf(codes[k], 16, "%d", e->code);
    cells[k * 3] = "Warning";
    cells[k * 3 + 1] = codes[k];
    cells[k * 3 + 2] = e->msg;
    k++;
  }
  const char *names[] = {"Level", "Code", "Message"};
  int r = sess_send_rows(s, names, 3, cells, errors_only ? 0 : k, more, out);
  mm_free(cells);
  mm_free(codes);
  return r;
}

static int send_empty(sess *s, const char *const *names, int n, int more, mm_sink *out) {
  return sess_send_rows(s, names, n, NULL, 0, more, out);
}

/* EXPLAIN <data statement>: SQLite's plan in MySQL's EXPLAIN shape. */
static int explain_stmt(sess *s, lex *l, int more, mm_sink *out) {
  mm_error err;
  lex_token t;
  lex_peek(l, &t);
  if (lex_is(&t, "EXTENDED") || lex_is(&t, "PARTITIONS")) lex_next(l, &t);
  if (lex_is(&t, "FORMAT")) return sess_unsupported(s, out, "EXPLAIN FORMAT");
  rw_in in = {s->db, s->sql_mode_rw};
  rw_out rw;
  rw_out_init(&rw);
  if (rw_rewrite(&in, l->src + l->pos, l->len - l->pos, &rw, &err) != MM_OK) {
    rw_out_free(&rw);
    return sess_send_error(s, out, &err);
  }
  mm_buf q;
  mm_buf_init(&q);
  mm_buf_puts(&q, "EXPLAIN QUERY PLAN ");
  mm_buf_append(&q, rw.sql.p, rw.sql.len);
  sqlite3_stmt *st = NULL;
  int r;
  if (sess_prepare_sql(s, q.p, &st, &err) != MM_OK) {
    r = sess_send_error(s, out, &err);
    goto done;
  }
  const char *names[] = {"id", "select_type", "table", "partitions", "type", "possible_keys",
                         "key", "key_len", "ref", "rows", "filtered", "Extra"};
  char **cells = NULL;
  int nrows = 0, cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *detail = (const char *)sqlite3_column_text(st, 3);
    if (!detail) continue;
    if (nrows == cap) {
      cap = cap ? cap * 2 : 8;
      char **p = mm_realloc(cells, (size_t)cap * 12 * sizeof *p);
      if (!p) break;
      cells = p;
    }
    char **row = cells + nrows * 12;
    memset(row, 0, 12 * sizeof *row);
    /* detail: "SCAN t VIRTUAL TABLE INDEX n:plan" / "SEARCH t USING ..." */
    char tbl[256] = "", type[16] = "ALL", key[128] = "";
    const char *p = detail;
    if (!strncmp(p, "SCAN ", 5) || !strncmp(p, "SEARCH ", 7)) {
      p = strchr(p, ' ') + 1;
      size_t n = strcspn(p, " ");
      snprintf(tbl, sizeof tbl, "%.*s", (int)n, p);
      /* the table layer's plan string: "type=<access>;key=<index>" */
      const char *tp = strstr(detail, "type=");
      if (tp) {
        tp += 5;
        snprintf(type, sizeof type, "%.*s", (int)strcspn(tp, "; "), tp);
        const char *kp = strstr(tp, "key=");
        if (kp) snprintf(key, sizeof key, "%.*s", (int)strcspn(kp + 4, "; "), kp + 4);
      }
    } else {
      snprintf(type, sizeof type, "%s", "");
    }
    row[0] = mm_strdup("1");
    row[1] = mm_strdup(strstr(detail, "SUBQUERY") ? "SUBQUERY" : "SIMPLE");
    row[2] = tbl[0] ? mm_strdup(tbl) : NULL;
    row[4] = type[0] ? mm_strdup(type) : NULL;
    row[5] = key[0] ? mm_strdup(key) : NULL;
    row[6] = key[0] ? mm_strdup(key) : NULL;
    row[9] = mm_strdup("1");
    row[10] = mm_strdup("100.00");
    row[11] = mm_strdup(detail);
    nrows++;
  }
  r = sess_send_rows(s, names, 12, (const char *const *)cells, nrows, more, out);
  for (int i = 0; i < nrows * 12; i++) mm_free(cells[i]);
  mm_free(cells);
done:
  sqlite3_finalize(st);
  mm_buf_free(&q);
  rw_out_free(&rw);
  return r;
}

int sess_show(sess *s, lex *l, int more, mm_sink *out) {
  lex_token t, bad = {0};
  mm_error err;
  showq q = {{0}, NULL, NULL};
  int r = 0, full = 0;
  const char *filter_col = NULL, *order = NULL;
  char *db = NULL, *tbl = NULL;
  /* Came from DESCRIBE/EXPLAIN?  The token before l->pos tells. */
  {
    lex back;
    lex_init(&back, l->src, l->len);
    lex_token first;
    lex_next(&back, &first);
    if (!lex_is(&first, "SHOW")) {
      lex_token n;
      lex_peek(l, &n);
      if (lex_is(&n, "SELECT") || lex_is(&n, "INSERT") || lex_is(&n, "UPDATE") || lex_is(&n, "DELETE") ||
          lex_is(&n, "REPLACE") || lex_is(&n, "WITH") || lex_is(&n, "EXTENDED") ||
          lex_is(&n, "PARTITIONS") || lex_is(&n, "FORMAT") || lex_is_op(&n, "("))
        return explain_stmt(s, l, more, out);
      /* DESCRIBE t [col] */
      tbl = name_tok(l, &t);
      if (!tbl) return sess_syntax_error_at(s, l, &t, out);
      lex_peek(l, &n);
      if (lex_is_op(&n, ".")) {
        lex_next(l, &n);
        db = tbl;
        tbl = name_tok(l, &t);
        if (!tbl) { mm_free(db); return sess_syntax_error_at(s, l, &t, out); }
      } else {
        db = s->db ? mm_strdup(s->db) : NULL;
      }
      lex_next(l, &n);
      if (lex_is_name(&n) || n.type == TK_STRING) {
        char *c = lex_strdup(&n, 0);
        mm_buf lb;
        mm_buf_init(&lb);
        sess_quote_str(&lb, c ? c : "");
        q.like = mm_buf_steal(&lb, NULL);
        mm_free(c);
      }
      goto columns;
    }
  }
  lex_next(l, &t);
  if (lex_is(&t, "FULL")) { full = 1; lex_next(l, &t); }
  if (lex_is(&t, "DATABASES") || lex_is(&t, "SCHEMAS")) {
    mm_buf_puts(&q.sql, "SELECT SCHEMA_NAME AS `Database` FROM information_schema.SCHEMATA");
    filter_col = "Database";
    order = "`Database`";
  } else if (lex_is(&t, "TABLES")) {
    lex_token n;
    lex_peek(l, &n);
    if (lex_is(&n, "FROM") || lex_is(&n, "IN")) {
      lex_next(l, &n);
      db = name_tok(l, &t);
      if (!db) return sess_syntax_error_at(s, l, &t, out);
    } else if (s->db) {
      db = mm_strdup(s->db);
    } else {
      return sess_send_error(s, out, (mm_error[]){{1046, "3D000", "No database selected"}});
    }
    if (strcasecmp(db, "information_schema") && !tbl_db_exists(s->inst->cat, db)) {
      mm_error_set(&err, 1049, "42000", "Unknown database '%s'", db);
      mm_free(db);
      return sess_send_error(s, out, &err);
    }
    mm_buf col;
    mm_buf_init(&col);
    mm_buf_printf(&col, "Tables_in_%s", db);
    mm_buf_puts(&q.sql, "SELECT TABLE_NAME AS ");
    sess_quote_ident(&q.sql, col.p);
    if (full) mm_buf_puts(&q.sql, ", TABLE_TYPE AS `Table_type`");
    mm_buf_puts(&q.sql, " FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
    sess_quote_str(&q.sql, db);
    if (parse_filter(l, &q, &bad) != 0) { mm_buf_free(&col); goto syntax; }
    mm_buf ord;
    mm_buf_init(&ord);
    sess_quote_ident(&ord, col.p);
    finish_query(&q, col.p, ord.p);
    r = sess_run_select_sql(s, q.sql.p, more, out);
    mm_buf_free(&col);
    mm_buf_free(&ord);
    goto out;
  } else if (lex_is(&t, "COLUMNS") || lex_is(&t, "FIELDS")) {
    if (parse_table_ref(s, l, &db, &tbl, &bad) != 0) goto syntax;
  columns:
    if (!db) { r = sess_send_error(s, out, (mm_error[]){{1046, "3D000", "No database selected"}}); goto out; }
    {
      tbl_def *def = strcasecmp(db, "information_schema") ? tbl_get(s->inst->cat, db, tbl) : NULL;
      if (!def && strcasecmp(db, "information_schema")) {
        mm_error_set(&err, 1146, "42S02", "Table '%s.%s' doesn't exist", db, tbl);
        r = sess_send_error(s, out, &err);
        goto out;
      }
      if (def) tbl_def_release(s->inst->cat, def);
    }
    mm_buf_puts(&q.sql, "SELECT COLUMN_NAME AS `Field`, COLUMN_TYPE AS `Type`, ");
    if (full) mm_buf_puts(&q.sql, "COLLATION_NAME AS `Collation`, ");
    mm_buf_puts(&q.sql, "IS_NULLABLE AS `Null`, COLUMN_KEY AS `Key`, COLUMN_DEFAULT AS `Default`, EXTRA AS `Extra`");
    if (full) mm_buf_puts(&q.sql, ", PRIVILEGES AS `Privileges`, COLUMN_COMMENT AS `Comment`");
    mm_buf_puts(&q.sql, ", ORDINAL_POSITION AS `#pos` FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
    sess_quote_str(&q.sql, db);
    mm_buf_puts(&q.sql, " AND TABLE_NAME = ");
    sess_quote_str(&q.sql, tbl);
    if (!q.like && parse_filter(l, &q, &bad) != 0) goto syntax;
    {
      /* drop the ordering helper column from the output */
      mm_buf b;
      mm_buf_init(&b);
      mm_buf_puts(&b, full ? "SELECT `Field`, `Type`, `Collation`, `Null`, `Key`, `Default`, `Extra`, `Privileges`, `Comment` FROM ("
                           : "SELECT `Field`, `Type`, `Null`, `Key`, `Default`, `Extra` FROM (");
      mm_buf_append(&b, q.sql.p, q.sql.len);
      mm_buf_puts(&b, ") AS `cols`");
      if (q.like) mm_buf_printf(&b, " WHERE `Field` LIKE %s", q.like);
      else if (q.where) mm_buf_printf(&b, " WHERE %s", q.where);
      mm_buf_puts(&b, " ORDER BY `#pos`");
      r = sess_run_select_sql(s, b.p, more, out);
      mm_buf_free(&b);
    }
    goto out;
  } else if (lex_is(&t, "INDEX") || lex_is(&t, "INDEXES") || lex_is(&t, "KEYS")) {
    if (parse_table_ref(s, l, &db, &tbl, &bad) != 0) goto syntax;
    if (!db) { r = sess_send_error(s, out, (mm_error[]){{1046, "3D000", "No database selected"}}); goto out; }
    tbl_def *def = tbl_get(s->inst->cat, db, tbl);
    if (!def) {
      mm_error_set(&err, 1146, "42S02", "Table '%s.%s' doesn't exist", db, tbl);
      r = sess_send_error(s, out, &err);
      goto out;
    }
    tbl_def_release(s->inst->cat, def);
    mm_buf_puts(&q.sql, "SELECT TABLE_NAME AS `Table`, NON_UNIQUE AS `Non_unique`, INDEX_NAME AS `Key_name`, "
                        "SEQ_IN_INDEX AS `Seq_in_index`, COLUMN_NAME AS `Column_name`, COLLATION AS `Collation`, "
                        "CARDINALITY AS `Cardinality`, SUB_PART AS `Sub_part`, PACKED AS `Packed`, "
                        "NULLABLE AS `Null`, INDEX_TYPE AS `Index_type`, COMMENT AS `Comment`, "
                        "INDEX_COMMENT AS `Index_comment` FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ");
    sess_quote_str(&q.sql, db);
    mm_buf_puts(&q.sql, " AND TABLE_NAME = ");
    sess_quote_str(&q.sql, tbl);
    if (parse_filter(l, &q, &bad) != 0 || q.like) goto syntax;
    filter_col = "Key_name";
  } else if (lex_is(&t, "CREATE")) {
    r = show_create(s, l, more, out);
    goto out;
  } else if (lex_is(&t, "GLOBAL") || lex_is(&t, "SESSION") || lex_is(&t, "LOCAL") ||
             lex_is(&t, "VARIABLES") || lex_is(&t, "STATUS")) {
    int global = lex_is(&t, "GLOBAL");
    if (!lex_is(&t, "VARIABLES") && !lex_is(&t, "STATUS")) lex_next(l, &t);
    if (lex_is(&t, "VARIABLES"))
      mm_buf_printf(&q.sql, "SELECT VARIABLE_NAME AS `Variable_name`, VARIABLE_VALUE AS `Value` FROM information_schema.%s",
                    global ? "GLOBAL_VARIABLES" : "SESSION_VARIABLES");
    else if (lex_is(&t, "STATUS"))
      mm_buf_printf(&q.sql, "SELECT VARIABLE_NAME AS `Variable_name`, VARIABLE_VALUE AS `Value` FROM information_schema.%s",
                    global ? "GLOBAL_STATUS" : "SESSION_STATUS");
    else { bad = t; goto syntax; }
    filter_col = "Variable_name";
    order = "`Variable_name`";
  } else if (lex_is(&t, "PROCESSLIST")) {
    mm_buf_printf(&q.sql, "SELECT ID AS `Id`, USER AS `User`, HOST AS `Host`, DB AS `db`, COMMAND AS `Command`, "
                          "TIME AS `Time`, STATE AS `State`, %s AS `Info`, 0.000 AS `Progress` FROM information_schema.PROCESSLIST",
                  full ? "INFO" : "SUBSTRING(INFO, 1, 100)");
    order = "`Id`";
  } else if (lex_is(&t, "WARNINGS") || lex_is(&t, "ERRORS")) {
    r = show_warnings(s, lex_is(&t, "ERRORS"), 0, more, out);
    goto out;
  } else if (lex_is(&t, "COUNT")) {
    lex_token a, b, c, d;
    lex_next(l, &a); lex_next(l, &b); lex_next(l, &c); lex_next(l, &d);
    if (!lex_is_op(&a, "(") || !lex_is_op(&b, "*") || !lex_is_op(&c, ")") ||
        (!lex_is(&d, "WARNINGS") && !lex_is(&d, "ERRORS"))) { bad = a; goto syntax; }
    r = show_warnings(s, lex_is(&d, "ERRORS"), 1, more, out);
    goto out;
  } else if (lex_is(&t, "TABLE")) {
    lex_next(l, &t);
    if (!lex_is(&t, "STATUS")) { bad = t; goto syntax; }
    lex_token n;
    lex_peek(l, &n);
    if (lex_is(&n, "FROM") || lex_is(&n, "IN")) {
      lex_next(l, &n);
      db = name_tok(l, &t);
      if (!db) { bad = t; goto syntax; }
    } else if (s->db) {
      db = mm_strdup(s->db);
    } else {
      r = sess_send_error(s, out, (mm_error[]){{1046, "3D000", "No database selected"}});
      goto out;
    }
    mm_buf_puts(&q.sql, "SELECT TABLE_NAME AS `Name`, ENGINE AS `Engine`, VERSION AS `Version`, ROW_FORMAT AS `Row_format`, "
                        "TABLE_ROWS AS `Rows`, AVG_ROW_LENGTH AS `Avg_row_length`, DATA_LENGTH AS `Data_length`, "
                        "MAX_DATA_LENGTH AS `Max_data_length`, INDEX_LENGTH AS `Index_length`, DATA_FREE AS `Data_free`, "
                        "AUTO_INCREMENT AS `Auto_increment`, CREATE_TIME AS `Create_time`, UPDATE_TIME AS `Update_time`, "
                        "CHECK_TIME AS `Check_time`, TABLE_COLLATION AS `Collation`, CHECKSUM AS `Checksum`, "
                        "CREATE_OPTIONS AS `Create_options`, TABLE_COMMENT AS `Comment` FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
    sess_quote_str(&q.sql, db);
    filter_col = "Name";
    order = "`Name`";
  } else if (lex_is(&t, "ENGINES") || lex_is(&t, "STORAGE")) {
    if (lex_is(&t, "STORAGE")) lex_next(l, &t);
    mm_buf_puts(&q.sql, "SELECT ENGINE AS `Engine`, SUPPORT AS `Support`, COMMENT AS `Comment`, TRANSACTIONS AS `Transactions`, XA AS `XA`, SAVEPOINTS AS `Savepoints` FROM information_schema.ENGINES");
  } else if (lex_is(&t, "ENGINE")) {
    lex_next(l, &t);
    char *eng = lex_strdup(&t, 0);
    lex_next(l, &t);
    if (!lex_is(&t, "STATUS") && !lex_is(&t, "MUTEX")) { mm_free(eng); bad = t; goto syntax; }
    mm_buf st;
    mm_buf_init(&st);
    mm_buf_printf(&st, "\n=====================================\nmmsql engine status (node %u)\n=====================================\n"
                       "TRANSACTIONS\n------------\nThis session: %s\n",
                  s->inst->opt.server_id, s->txn ? "transaction open" : "no transaction");
    const char *names[] = {"Type", "Name", "Status"};
    const char *cells[] = {eng ? eng : "InnoDB", "", st.p ? st.p : ""};
    r = sess_send_rows(s, names, 3, cells, 1, more, out);
    mm_free(eng);
    mm_buf_free(&st);
    goto out;
  } else if (lex_is(&t, "COLLATION")) {
    mm_buf_puts(&q.sql, "SELECT COLLATION_NAME AS `Collation`, CHARACTER_SET_NAME AS `Charset`, ID AS `Id`, IS_DEFAULT AS `Default`, IS_COMPILED AS `Compiled`, SORTLEN AS `Sortlen` FROM information_schema.COLLATIONS");
    filter_col = "Collation";
    order = "`Collation`";
  } else if (lex_is(&t, "CHARSET") || lex_is(&t, "CHARACTER")) {
    if (lex_is(&t, "CHARACTER")) { lex_next(l, &t); if (!lex_is(&t, "SET")) { bad = t; goto syntax; } }
    mm_buf_puts(&q.sql, "SELECT CHARACTER_SET_NAME AS `Charset`, DESCRIPTION AS `Description`, DEFAULT_COLLATE_NAME AS `Default collation`, MAXLEN AS `Maxlen` FROM information_schema.CHARACTER_SETS");
    filter_col = "Charset";
    order = "`Charset`";
  } else if (lex_is(&t, "GRANTS")) {
    char g[256];
    snprintf(g, sizeof g, "GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION", s->user);
    char col[128];
    snprintf(col, sizeof col, "Grants for %s@%%", s->user);
    const char *names[] = {col};
    const char *cells[] = {g};
    r = sess_send_rows(s, names, 1, cells, 1, more, out);
    goto out;
  } else if (lex_is(&t, "MASTER") || lex_is(&t, "BINARY")) {
    const char *names[] = {"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"};
    r = send_empty(s, names, 4, more, out); /* log_bin is OFF */
    goto out;
  } else if (lex_is(&t, "SLAVE") || lex_is(&t, "REPLICA")) {
    const char *names[] = {"Slave_IO_State", "Master_Host", "Master_User", "Master_Port"};
    r = send_empty(s, names, 4, more, out); /* not a replica of anything */
    goto out;
  } else if (lex_is(&t, "TRIGGERS")) {
    const char *names[] = {"Trigger", "Event", "Table", "Statement", "Timing", "Created", "sql_mode", "Definer", "character_set_client", "collation_connection", "Database Collation"};
    r = send_empty(s, names, 11, more, out); /* triggers are not supported, so there are none */
    goto out;
  } else if (lex_is(&t, "EVENTS")) {
    const char *names[] = {"Db", "Name", "Definer", "Time zone", "Type", "Execute at", "Interval value", "Interval field", "Starts", "Ends", "Status", "Originator", "character_set_client", "collation_connection", "Database Collation"};
    r = send_empty(s, names, 15, more, out);
    goto out;
  } else if (lex_is(&t, "PROCEDURE") || lex_is(&t, "FUNCTION")) {
    lex_next(l, &t);
    if (!lex_is(&t, "STATUS")) { r = sess_unsupported(s, out, "SHOW PROCEDURE/FUNCTION CODE"); goto out; }
    const char *names[] = {"Db", "Name", "Type", "Definer", "Modified", "Created", "Security_type", "Comment", "character_set_client", "collation_connection", "Database Collation"};
    r = send_empty(s, names, 11, more, out);
    goto out;
  } else if (lex_is(&t, "PLUGINS")) {
    const char *names[] = {"Name", "Status", "Type", "Library", "License"};
    const char *cells[] = {"mysql_native_password", "ACTIVE", "AUTHENTICATION", NULL, "GPL",
                           "caching_sha2_password", "ACTIVE", "AUTHENTICATION", NULL, "GPL",
                           "InnoDB", "ACTIVE", "STORAGE ENGINE", NULL, "GPL"};
    r = sess_send_rows(s, names, 5, cells, 3, more, out);
    goto out;
  } else if (lex_is(&t, "OPEN")) {
    const char *names[] = {"Database", "Table", "In_use", "Name_locked"};
    r = send_empty(s, names, 4, more, out);
    goto out;
  } else if (lex_is(&t, "PRIVILEGES")) {
    const char *names[] = {"Privilege", "Context", "Comment"};
    const char *cells[] = {"All", "Server Admin", "All privileges"};
    r = sess_send_rows(s, names, 3, cells, 1, more, out);
    goto out;
  } else {
    bad = t;
    goto syntax;
  }
  if (parse_filter(l, &q, &bad) != 0) goto syntax;
  if (q.like && !filter_col) goto syntax;
  finish_query(&q, filter_col, order);
  r = sess_run_select_sql(s, q.sql.p, more, out);
  goto out;
syntax:
  r = sess_syntax_error_at(s, l, &bad, out);
out:
  mm_buf_free(&q.sql);
  mm_free(q.like);
  mm_free(q.where);
  mm_free(db);
  mm_free(tbl);
  return r;
}
