/*
 * sql/setvar.c - the SET statement: system variables (session and global),
 * user variables, SET NAMES / CHARACTER SET, SET TRANSACTION.
 *
 * Right-hand sides that are a single word (ON, OFF, DEFAULT, TRADITIONAL),
 * string or number are taken as written; anything else is evaluated by
 * SQLite as `SELECT <expr>` through the rewriter, so functions, @vars and
 * @@vars work there too.  All assignments of one SET are checked before any
 * is applied, as in MySQL.
 */
#include "sql/sessionInt.h"

#include <stdlib.h>
#include <string.h>

enum { SC_DEFAULT, SC_SESSION, SC_GLOBAL };

typedef struct assign {
  int uvar;            /* user variable */
  char *name;          /* variable name */
  int scope;
  int var;             /* index (system variables) */
  int is_default;
  int is_null;
  int is_int;
  int64_t iv;
  char *text;          /* value as text (system) */
  sqlite3_value *val;  /* value (user variables) */
} assign;

static void assign_free(assign *a) {
  mm_free(a->name);
  mm_free(a->text);
  sqlite3_value_free(a->val);
}

/* Evaluate MySQL expression text to a sqlite3_value copy (caller frees). */
static int eval_expr(sess *s, const char *e, size_t n, sqlite3_value **out, mm_error *err) {
  mm_buf b;
  mm_buf_init(&b);
  mm_buf_puts(&b, "SELECT ");
  mm_buf_append(&b, e, n);
  rw_in in = {s->db, s->sql_mode_rw};
  rw_out rw;
  rw_out_init(&rw);
  sqlite3_stmt *st = NULL;
  int rc = b.oom ? mm_error_set(err, 1037, "HY001", "Out of memory") : rw_rewrite(&in, b.p, b.len, &rw, err);
  if (rc == MM_OK) rc = sess_prepare_sql(s, rw.sql.p, &st, err);
  if (rc == MM_OK) {
    txn *tmp = NULL;
    if (!s->txn) { tmp = txn_begin(s->inst->st, TXN_READ_COMMITTED); tbl_conn_set_txn(s->tc, tmp); }
    s->fn.stmt_time_us = mm_wall_us();
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      *out = sqlite3_value_dup(sqlite3_column_value(st, 0));
      if (!*out) rc = mm_error_set(err, 1037, "HY001", "Out of memory");
    } else {
      sess_map_sqlite_error(s, r, "field list", err);
      rc = MM_ESQL;
    }
    sqlite3_reset(st); /* close the cursors before their transaction ends */
    if (tmp) { tbl_conn_set_txn(s->tc, s->txn); txn_rollback(tmp); }
  }
  sqlite3_finalize(st);
  rw_out_free(&rw);
  mm_buf_free(&b);
  return rc;
}

/* Parse the right-hand side that starts at the lexer's position and ends at
 * the next top-level ',' or the end.  Fills a. */
static int parse_rhs(sess *s, lex *l, assign *a, mm_error *err) {
  size_t start = l->pos;
  lex_token t, first = {0};
  int depth = 0, ntok = 0;
  size_t end = l->len;
  for (;;) {
    lex save = *l;
    int ty = lex_next(l, &t);
    if (ty == TK_EOF) break; /* end stays at the last token's end: not past a closing comment */
    if (ty == TK_ERROR) return mm_error_set(err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%.*s' at line 1", (int)MM_MIN(t.n, 80), t.p);
    if (lex_is_op(&t, "(")) depth++;
    if (lex_is_op(&t, ")")) depth--;
    if (depth == 0 && lex_is_op(&t, ",")) { *l = save; end = (size_t)(t.p - l->src); break; }
    if (ntok++ == 0) first = t;
    end = (size_t)(t.p - l->src) + t.n;
  }
  if (ntok == 0) return mm_error_set(err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' at line 1");
  int nbe = (s->sql_mode_rw & RW_MODE_NO_BACKSLASH_ESCAPES) != 0;
  if (ntok == 1 && !a->uvar) {
    if (lex_is(&first, "DEFAULT")) { a->is_default = 1; return MM_OK; }
    if (lex_is(&first, "NULL")) { a->is_null = 1; return MM_OK; }
    if (first.type == TK_IDENT || first.type == TK_QIDENT || first.type == TK_STRING) {
      a->text = lex_strdup(&first, nbe);
      return a->text ? MM_OK : MM_ENOMEM;
    }
    if (first.type == TK_INTEGER) {
      a->is_int = 1;
      a->iv = lex_int(&first);
      return MM_OK;
    }
  }
  while (start < end && (l->src[start] == ' ' || l->src[start] == '\t' || l->src[start] == '\n')) start++;
  sqlite3_value *v = NULL;
  if (eval_expr(s, l->src + start, end - start, &v, err) != MM_OK) return MM_ESQL;
  if (a->uvar) { a->val = v; return MM_OK; }
  switch (sqlite3_value_type(v)) {
  case SQLITE_NULL: a->is_null = 1; break;
  case SQLITE_INTEGER: a->is_int = 1; a->iv = sqlite3_value_int64(v); break;
  default: a->text = mm_strdup((const char *)sqlite3_value_text(v)); if (!a->text) { sqlite3_value_free(v); return MM_ENOMEM; }
  }
  sqlite3_value_free(v);
  return MM_OK;
}

static int set_names(sess *s, lex *l, int charset_form, mm_error *err) {
  lex_token t;
  lex_next(l, &t);
  char *cs = NULL;
  if (lex_is(&t, "DEFAULT")) cs = mm_strdup("utf8mb4");
  else if (lex_is_name(&t) || t.type == TK_STRING) cs = lex_strdup(&t, 0);
  else return mm_error_set(err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%.*s' at line 1", (int)MM_MIN(t.n, 80), t.p);
  if (!cs) return MM_ENOMEM;
  for (char *p = cs; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  static const char *known[] = {"utf8mb4", "utf8", "utf8mb3", "latin1", "binary", "ascii", NULL};
  int ok = 0;
  for (int i = 0; known[i]; i++) if (!strcmp(cs, known[i])) ok = 1;
  if (!ok) {
    mm_error_set(err, 1115, "42000", "Unknown character set: '%s'", cs);
    mm_free(cs);
    return MM_ESQL;
  }
  char *coll = NULL;
  if (lex_next(l, &t) != TK_EOF) {
    if (!lex_is(&t, "COLLATE")) { mm_free(cs); return mm_error_set(err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%.*s' at line 1", (int)MM_MIN(t.n, 80), t.p); }
    lex_next(l, &t);
    coll = lex_strdup(&t, 0);
  }
  const char *names[] = {"character_set_client", "character_set_results", "character_set_connection"};
  for (int i = 0; i < 3; i++) {
    if (charset_form && i == 2) break; /* SET CHARACTER SET leaves the connection charset to the database's */
    int k = var_find(names[i], strlen(names[i]));
    mm_free(s->vars[k].s);
    s->vars[k].s = mm_strdup(cs);
  }
  int k = var_find("collation_connection", 20);
  mm_free(s->vars[k].s);
  s->vars[k].s = coll ? coll : mm_sprintf("%s_general_ci", strcmp(cs, "utf8") ? cs : "utf8");
  mm_free(cs);
  return MM_OK;
}

static int set_transaction(sess *s, lex *l, int scope, mm_error *err) {
  lex_token t;
  for (;;) {
    lex_next(l, &t);
    if (lex_is(&t, "ISOLATION")) {
      lex_next(l, &t);
      if (!lex_is(&t, "LEVEL")) goto syntax;
      lex_next(l, &t);
      const char *lvl;
      if (lex_is(&t, "REPEATABLE")) { lex_next(l, &t); if (!lex_is(&t, "READ")) goto syntax; lvl = "REPEATABLE-READ"; }
      else if (lex_is(&t, "SERIALIZABLE")) lvl = "SERIALIZABLE";
      else if (lex_is(&t, "READ")) {
        lex_next(l, &t);
        if (lex_is(&t, "COMMITTED")) lvl = "READ-COMMITTED";
        else if (lex_is(&t, "UNCOMMITTED")) lvl = "READ-UNCOMMITTED";
        else goto syntax;
      } else goto syntax;
      if (!strcmp(lvl, "SERIALIZABLE") || !strcmp(lvl, "READ-UNCOMMITTED"))
        return mm_error_set(err, 1235, "42000",
                            "This version of mmsql doesn't yet support '%s isolation level' "
                            "(a multi-master cluster certifies write sets, it cannot serialize reads)",
                            lvl[0] == 'S' ? "SERIALIZABLE" : "READ UNCOMMITTED");
      if (scope == SC_DEFAULT) {
        if (s->txn && s->explicit_txn)
          return mm_error_set(err, 1568, "25001", "Transaction characteristics can't be changed while a transaction is in progress");
        s->next_isolation = lvl[5] == 'C' ? TXN_READ_COMMITTED : TXN_REPEATABLE_READ;
      } else {
        int vi = var_find("transaction_isolation", 21), vj = var_find("tx_isolation", 12);
        if (scope == SC_GLOBAL) {
          var_val v = {0};
          v.s = mm_strdup(lvl);
          vars_global_set(s->inst, vi, &v);
          v.s = mm_strdup(lvl);
          vars_global_set(s->inst, vj, &v);
        } else {
          mm_free(s->vars[vi].s); s->vars[vi].s = mm_strdup(lvl);
          mm_free(s->vars[vj].s); s->vars[vj].s = mm_strdup(lvl);
        }
      }
    } else if (lex_is(&t, "READ")) {
      lex_next(l, &t);
      int ro;
      if (lex_is(&t, "ONLY")) ro = 1;
      else if (lex_is(&t, "WRITE")) ro = 0;
      else goto syntax;
      if (scope == SC_DEFAULT) {
        if (s->txn && s->explicit_txn)
          return mm_error_set(err, 1568, "25001", "Transaction characteristics can't be changed while a transaction is in progress");
        s->txn_read_only = ro;
      } else {
        int vi = var_find("transaction_read_only", 21), vj = var_find("tx_read_only", 12);
        if (scope == SC_GLOBAL) {
          var_val v = {0};
          v.i = ro;
          vars_global_set(s->inst, vi, &v);
          v.i = ro;
          vars_global_set(s->inst, vj, &v);
        } else {
          s->vars[vi].i = s->vars[vj].i = ro;
        }
      }
    } else {
      goto syntax;
    }
    lex_next(l, &t);
    if (t.type == TK_EOF) return MM_OK;
    if (!lex_is_op(&t, ",")) goto syntax;
  }
syntax:
  return mm_error_set(err, 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%.*s' at line 1", (int)MM_MIN(t.n, 80), t.p);
}

/* Split "@@global.name" / "@@session.name" / "@@name" into scope and name. */
static const char *sysvar_name(const lex_token *t, int *scope, size_t *n) {
  const char *p = t->p + 2;
  size_t len = t->n - 2;
  *scope = SC_DEFAULT;
  if (len > 7 && !strncasecmp(p, "global.", 7)) { *scope = SC_GLOBAL; p += 7; len -= 7; }
  else if (len > 8 && !strncasecmp(p, "session.", 8)) { *scope = SC_SESSION; p += 8; len -= 8; }
  else if (len > 6 && !strncasecmp(p, "local.", 6)) { *scope = SC_SESSION; p += 6; len -= 6; }
  if (len >= 2 && p[0] == '`') { p++; len -= 2; }
  *n = len;
  return p;
}

static int apply(sess *s, assign *a, mm_error *err) {
  if (a->uvar) return sess_uvar_set(s, a->name, a->val) == MM_OK ? MM_OK : mm_error_set(err, 1037, "HY001", "Out of memory");
  const var_def *d = &var_defs[a->var];
  int global = a->scope == SC_GLOBAL || (a->scope == SC_DEFAULT && d->scope == VS_GLOBAL);
  var_val v;
  if (a->is_default) {
    if (global) {
      /* Reset to the compiled-in default where there is one. */
      if (!d->def) return mm_error_set(err, 1230, "42000", "Variable '%s' doesn't have a default value", d->name);
      if (var_parse(a->var, d->def, 0, 0, &v, err) != MM_OK) return MM_ESQL;
    } else {
      vars_global_get(s->inst, a->var, &v);
    }
  } else if (var_parse(a->var, a->is_null ? NULL : a->text, a->is_int, a->iv, &v, err) != MM_OK) {
    return MM_ESQL;
  }
  if (global) {
    vars_global_set(s->inst, a->var, &v);
    return MM_OK;
  }
  var_val old = s->vars[a->var];
  s->vars[a->var] = v;
  int rc = sess_var_changed(s, a->var, err);
  if (rc != MM_OK && !(err->code == 1235)) {
    var_val_free(&s->vars[a->var]);
    s->vars[a->var] = old;
    return rc;
  }
  var_val_free(&old);
  return rc;
}

int sess_set(sess *s, lex *l, const char *sql, size_t len, int more, mm_sink *out) {
  mm_error err;
  mm_error_clear(&err);
  lex_token t;
  assign as[32];
  int na = 0, rc = MM_OK;
  lex save = *l;
  lex_next(l, &t);
  /* SET NAMES / CHARACTER SET / TRANSACTION forms */
  if (lex_is(&t, "NAMES")) { rc = set_names(s, l, 0, &err); goto done; }
  if (lex_is(&t, "CHARSET")) { rc = set_names(s, l, 1, &err); goto done; }
  if (lex_is(&t, "CHARACTER")) {
    lex_next(l, &t);
    if (!lex_is(&t, "SET")) return sess_syntax_error_at(s, l, &t, out);
    rc = set_names(s, l, 1, &err);
    goto done;
  }
  if (lex_is(&t, "PASSWORD")) return sess_unsupported(s, out, "SET PASSWORD");
  if (lex_is(&t, "TRANSACTION")) { rc = set_transaction(s, l, SC_DEFAULT, &err); goto done; }
  if (lex_is(&t, "GLOBAL") || lex_is(&t, "SESSION") || lex_is(&t, "LOCAL")) {
    lex_token n;
    lex_peek(l, &n);
    if (lex_is(&n, "TRANSACTION")) {
      lex_next(l, &n);
      rc = set_transaction(s, l, lex_is(&t, "GLOBAL") ? SC_GLOBAL : SC_SESSION, &err);
      goto done;
    }
  }
  *l = save;
  for (;;) {
    if (na == (int)MM_ARRAY_SIZE(as)) { rc = mm_error_set(&err, 1235, "42000", "This version of mmsql doesn't yet support 'more than 32 assignments in one SET'"); break; }
    assign *a = &as[na];
    memset(a, 0, sizeof *a);
    int scope = SC_DEFAULT;
    lex_next(l, &t);
    if (lex_is(&t, "GLOBAL")) { scope = SC_GLOBAL; lex_next(l, &t); }
    else if (lex_is(&t, "SESSION") || lex_is(&t, "LOCAL")) { scope = SC_SESSION; lex_next(l, &t); }
    if (t.type == TK_USERVAR) {
      a->uvar = 1;
      lex_token nt = t;
      nt.p++;
      nt.n--;
      if (nt.n && (nt.p[0] == '\'' || nt.p[0] == '"' || nt.p[0] == '`')) {
        nt.type = nt.p[0] == '`' ? TK_QIDENT : TK_STRING;
        a->name = lex_strdup(&nt, 0);
      } else {
        a->name = mm_strndup(nt.p, nt.n);
      }
    } else if (t.type == TK_SYSVAR) {
      size_t n;
      int sc;
      const char *nm = sysvar_name(&t, &sc, &n);
      if (sc != SC_DEFAULT) scope = sc;
      else if (scope == SC_DEFAULT) scope = SC_SESSION;
      a->name = mm_strndup(nm, n);
    } else if (lex_is_name(&t)) {
      a->name = lex_strdup(&t, 0);
    } else {
      rc = sess_syntax_error_at(s, l, &t, out);
      goto cleanup_sent;
    }
    if (!a->name) { rc = mm_error_set(&err, 1037, "HY001", "Out of memory"); break; }
    a->scope = scope;
    na++;
    if (!a->uvar) {
      a->var = sess_var_index(s, a->name, strlen(a->name), &err);
      if (a->var < 0) { rc = MM_ESQL; break; }
      const var_def *d = &var_defs[a->var];
      if (d->flags & VF_READONLY) {
        rc = mm_error_set(&err, 1238, "HY000", "Variable '%s' is a read only variable", d->name);
        break;
      }
      if (scope == SC_GLOBAL && !(d->scope & VS_GLOBAL)) {
        rc = mm_error_set(&err, 1228, "HY000", "Variable '%s' is a SESSION variable and can't be used with SET GLOBAL", d->name);
        break;
      }
      if (scope != SC_GLOBAL && !(d->scope & VS_SESSION)) {
        if (scope == SC_SESSION) {
          rc = mm_error_set(&err, 1229, "HY000", "Variable '%s' is a GLOBAL variable and should be set with SET GLOBAL", d->name);
          break;
        }
        a->scope = SC_GLOBAL;
      }
      if (!strcmp(d->name, "aurora_mm_session_consistency_level") && s->txn && s->explicit_txn) {
        rc = mm_error_set(&err, 1766, "HY000", "The system variable aurora_mm_session_consistency_level cannot be set when there is an ongoing transaction");
        break;
      }
      if ((!strcmp(d->name, "transaction_isolation") || !strcmp(d->name, "tx_isolation")) &&
          a->scope != SC_GLOBAL && s->txn && s->explicit_txn) {
        rc = mm_error_set(&err, 1568, "25001", "Transaction characteristics can't be changed while a transaction is in progress");
        break;
      }
    }
    lex_next(l, &t);
    if (!lex_is_op(&t, "=") && !lex_is_op(&t, ":=")) { rc = sess_syntax_error_at(s, l, &t, out); goto cleanup_sent; }
    if ((rc = parse_rhs(s, l, a, &err)) != MM_OK) {
      if (rc == MM_ENOMEM) mm_error_set(&err, 1037, "HY001", "Out of memory");
      break;
    }
    lex_next(l, &t);
    if (t.type == TK_EOF) break;
    if (!lex_is_op(&t, ",")) { rc = sess_syntax_error_at(s, l, &t, out); goto cleanup_sent; }
  }
  for (int i = 0; rc == MM_OK && i < na; i++) rc = apply(s, &as[i], &err);
  for (int i = 0; i < na; i++) assign_free(&as[i]);
done:
  if (rc != MM_OK) {
    if (!err.code) mm_error_set(&err, 1037, "HY001", "Out of memory");
    return sess_send_error(s, out, &err);
  }
  return sess_send_ok(s, out, 0, 0, NULL, more);
cleanup_sent:
  for (int i = 0; i < na; i++) assign_free(&as[i]);
  return rc;
}
