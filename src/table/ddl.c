/*
 * table/ddl.c - MySQL DDL: parse with sql/lex and apply to the catalog.
 *
 * Statements: CREATE/DROP/ALTER DATABASE, CREATE TABLE (columns, keys,
 * options, LIKE, ... SELECT through the session's prepare hook), DROP TABLE,
 * TRUNCATE, RENAME TABLE, CREATE/DROP INDEX, ALTER TABLE.
 *
 * Every statement runs under the catalog's DDL lock.  A statement is parsed
 * into a "work table" (columns with their origin in the old definition,
 * indexes by column *name*), which build_def() validates and turns into an
 * immutable tbl_def, applying MySQL's implicit rules (docs/catalog.md):
 *   - explicit_defaults_for_timestamp = ON (5.7's recommended setting): a
 *     TIMESTAMP column gets no implicit NOT NULL / DEFAULT / ON UPDATE;
 *   - PRIMARY KEY columns become NOT NULL (explicit NULL: 1171);
 *   - unnamed keys are named after their first column, then _2, _3...;
 *   - keys are ordered as MySQL's sort_keys orders them;
 *   - a table without PRIMARY KEY keeps its NOT NULL UNIQUE key as a
 *     unique key (SHOW CREATE prints it as such); rows use a hidden row id;
 *   - FOREIGN KEY clauses are accepted and ignored with a warning (not
 *     enforced), keeping mariadb-dump output restorable.
 *
 * Changes that touch stored rows (columns, indexes) rebuild the table: a new
 * definition under fresh ids is published under a hidden name
 * ("#mmsql-alter-<id>"), rows are copied through SQLite with INSERT ...
 * SELECT inside a txn (so every conversion and uniqueness check is the
 * vtab's), and the swap to the real name is written through the same txn;
 * the old index ranges are deleted after the commit.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sql/lex.h"
#include "table/catalog.h"
#include "table/tableInt.h"
#include "txn/txn.h"

#define NAME_MAX_LEN 64

/* ---- parser ------------------------------------------------------------- */

typedef struct ps {
  lex l;
  lex_token t; /* the last token consumed */
  mm_error *err;
  tbl_conn *tc;
  const char *curdb;
  int failed;
} ps;

static int p_next(ps *p) { return lex_next(&p->l, &p->t); }
static int p_peek(ps *p, lex_token *t) { return lex_peek(&p->l, t); }

static int p_syntax_at(ps *p, const lex_token *at) {
  char near[96];
  lex_token eof;
  if (!at) {
    eof.p = p->l.src + p->l.len;
    eof.n = 0;
    at = &eof;
  }
  lex_near(&p->l, at, near, sizeof near);
  int line = 1;
  for (const char *s = p->l.src; s < at->p; s++)
    if (*s == '\n') line++;
  p->failed = 1;
  return mm_error_set(p->err, 1064, "42000",
                      "You have an error in your SQL syntax; check the manual that corresponds "
                      "to your MySQL server version for the right syntax to use near '%s' at line %d",
                      near, line);
}
/* Syntax error at the next (unconsumed) token. */
static int p_syntax(ps *p) {
  lex_token t;
  if (p_peek(p, &t) == TK_EOF) return p_syntax_at(p, NULL);
  return p_syntax_at(p, &t);
}

static int p_accept(ps *p, const char *kw) {
  lex_token t;
  p_peek(p, &t);
  if (lex_is(&t, kw)) { p_next(p); return 1; }
  return 0;
}
static int p_accept_op(ps *p, const char *op) {
  lex_token t;
  p_peek(p, &t);
  if (lex_is_op(&t, op)) { p_next(p); return 1; }
  return 0;
}
static int p_is(ps *p, const char *kw) {
  lex_token t;
  p_peek(p, &t);
  return lex_is(&t, kw);
}
static int p_is_op(ps *p, const char *op) {
  lex_token t;
  p_peek(p, &t);
  return lex_is_op(&t, op);
}
static int p_expect(ps *p, const char *kw) { return p_accept(p, kw) ? MM_OK : p_syntax(p); }
static int p_expect_op(ps *p, const char *op) { return p_accept_op(p, op) ? MM_OK : p_syntax(p); }
static int p_at_end(ps *p) {
  lex_token t;
  int ty = p_peek(p, &t);
  if (ty == TK_OP && lex_is_op(&t, ";")) {
    p_next(p);
    ty = p_peek(p, &t);
  }
  return ty == TK_EOF;
}
static int p_expect_end(ps *p) { return p_at_end(p) ? MM_OK : p_syntax(p); }
static int p_oom(ps *p) {
  p->failed = 1;
  mm_error_set(p->err, 1037, "HY001", "Out of memory; restart server and try again (needed %d bytes)", 0);
  return MM_ENOMEM;
}

/* An identifier (bare or quoted) into *out.  what: "table", "column"... for
 * the 1059 message. */
static int p_ident(ps *p, char **out) {
  *out = NULL;
  lex_token t;
  p_peek(p, &t);
  if (!lex_is_name(&t)) return p_syntax(p);
  p_next(p);
  char *s = lex_strdup(&p->t, 0);
  if (!s) return p_oom(p);
  if (strlen(s) > NAME_MAX_LEN) {
    p->failed = 1;
    mm_error_set(p->err, 1059, "42000", "Identifier name '%s' is too long", s);
    mm_free(s);
    return MM_ESQL;
  }
  *out = s;
  return MM_OK;
}

/* [db.]name; db defaults to the current database (1046 if none). */
static int p_qname(ps *p, char **db, char **name) {
  *db = *name = NULL;
  char *a;
  if (p_ident(p, &a)) return MM_ESQL;
  if (p_accept_op(p, ".")) {
    char *b;
    if (p_ident(p, &b)) { mm_free(a); return MM_ESQL; }
    *db = a;
    *name = b;
    return MM_OK;
  }
  if (!p->curdb) {
    mm_free(a);
    p->failed = 1;
    return mm_error_set(p->err, 1046, "3D000", "No database selected");
  }
  *db = mm_strdup(p->curdb);
  if (!*db) { mm_free(a); return p_oom(p); }
  *name = a;
  return MM_OK;
}

/* A string literal (or a charset-introduced one: _utf8mb4'x'). */
static int p_string(ps *p, char **out) {
  *out = NULL;
  lex_token t;
  p_peek(p, &t);
  if (t.type == TK_IDENT && t.n > 1 && t.p[0] == '_') { /* introducer */
    lex save = p->l;
    p_next(p);
    p_peek(p, &t);
    if (t.type != TK_STRING) { p->l = save; p_peek(p, &t); }
  }
  if (t.type != TK_STRING) return p_syntax(p);
  p_next(p);
  *out = lex_strdup(&p->t, 0);
  return *out ? MM_OK : p_oom(p);
}

/* An unsigned integer literal. */
static int p_uint(ps *p, uint64_t *v) {
  lex_token t;
  p_peek(p, &t);
  if (t.type != TK_INTEGER) return p_syntax(p);
  p_next(p);
  uint64_t r = 0;
  for (size_t i = 0; i < t.n; i++) {
    if (r > (UINT64_MAX - 9) / 10) { r = UINT64_MAX; break; }
    r = r * 10 + (uint64_t)(t.p[i] - '0');
  }
  *v = r;
  return MM_OK;
}

/* Skip a balanced parenthesized group starting at the next token "(". */
static int p_skip_parens(ps *p) {
  if (p_expect_op(p, "(")) return MM_ESQL;
  int depth = 1;
  while (depth > 0) {
    int ty = p_next(p);
    if (ty == TK_EOF || ty == TK_ERROR) return p_syntax_at(p, ty == TK_EOF ? NULL : &p->t);
    if (lex_is_op(&p->t, "(")) depth++;
    else if (lex_is_op(&p->t, ")")) depth--;
  }
  return MM_OK;
}

static int err_set(ps *p, int code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err_set(ps *p, int code, const char *state, const char *fmt, ...) {
  va_list ap;
  char msg[512];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->failed = 1;
  return mm_error_set(p->err, code, state, "%s", msg);
}

static void warn(ps *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(ps *p, int code, const char *fmt, ...) {
  if (!p->tc) return;
  va_list ap;
  char msg[512];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tbl_conn_warn(p->tc, code, "%s", msg);
}

/* ---- work table ------------------------------------------------------- */

typedef struct wcol {
  tbl_column c;
  int orig;          /* position in the old definition, -1 if new */
  int explicit_null; /* NULL was written */
  int inline_pk, inline_unique;
  int serial;        /* SERIAL type or SERIAL DEFAULT VALUE */
} wcol;

typedef struct widx {
  char *name;        /* NULL: to be named after its first column */
  int primary, unique;
  int ncols;
  char **cols;
  uint32_t *prefix;
  char *comment;
  uint32_t id;       /* kept id (metadata-only ALTER), 0 = new */
  int order;         /* creation order */
} widx;

typedef struct wtab {
  wcol *cols;
  int ncols, capcols;
  widx *idx;
  int nidx, capidx;
  char *charset, *collation, *comment;
  int has_charset, has_collation;
  uint64_t auto_increment;
  int has_auto_increment;
} wtab;

static void widx_clear(widx *x) {
  mm_free(x->name);
  for (int i = 0; i < x->ncols; i++) mm_free(x->cols[i]);
  mm_free(x->cols);
  mm_free(x->prefix);
  mm_free(x->comment);
  memset(x, 0, sizeof *x);
}

static void wtab_free(wtab *w) {
  for (int i = 0; i < w->ncols; i++) tbl_column_clear(&w->cols[i].c);
  mm_free(w->cols);
  for (int i = 0; i < w->nidx; i++) widx_clear(&w->idx[i]);
  mm_free(w->idx);
  mm_free(w->charset);
  mm_free(w->collation);
  mm_free(w->comment);
  memset(w, 0, sizeof *w);
}

static wcol *wtab_insert_col(wtab *w, int pos) {
  if (w->ncols == w->capcols) {
    int nc = w->capcols ? w->capcols * 2 : 16;
    wcol *c = mm_realloc(w->cols, sizeof(wcol) * (size_t)nc);
    if (!c) return NULL;
    w->cols = c;
    w->capcols = nc;
  }
  if (pos < 0 || pos > w->ncols) pos = w->ncols;
  memmove(w->cols + pos + 1, w->cols + pos, sizeof(wcol) * (size_t)(w->ncols - pos));
  w->ncols++;
  memset(&w->cols[pos], 0, sizeof(wcol));
  w->cols[pos].orig = -1;
  w->cols[pos].c.scale = -1;
  return &w->cols[pos];
}

static widx *wtab_add_idx(wtab *w) {
  if (w->nidx == w->capidx) {
    int nc = w->capidx ? w->capidx * 2 : 8;
    widx *x = mm_realloc(w->idx, sizeof(widx) * (size_t)nc);
    if (!x) return NULL;
    w->idx = x;
    w->capidx = nc;
  }
  widx *x = &w->idx[w->nidx++];
  memset(x, 0, sizeof *x);
  x->order = w->nidx == 1 ? 0 : w->idx[w->nidx - 2].order + 1;
  return x;
}

static int wtab_find_col(const wtab *w, const char *name) {
  for (int i = 0; i < w->ncols; i++)
    if (strcasecmp(w->cols[i].c.name, name) == 0) return i;
  return -1;
}

static int wtab_find_idx(const wtab *w, const char *name) {
  for (int i = 0; i < w->nidx; i++)
    if (w->idx[i].name && strcasecmp(w->idx[i].name, name) == 0) return i;
  return -1;
}

static int wtab_find_pk(const wtab *w) {
  for (int i = 0; i < w->nidx; i++)
    if (w->idx[i].primary) return i;
  return -1;
}

/* Load an existing definition into a work table. */
static int wtab_from_def(wtab *w, const tbl_def *d) {
  memset(w, 0, sizeof *w);
  for (int i = 0; i < d->ncols; i++) {
    wcol *c = wtab_insert_col(w, -1);
    if (!c || tbl_column_copy(&c->c, &d->cols[i])) {
      if (c) w->ncols--;
      return MM_ENOMEM;
    }
    c->orig = i;
  }
  for (int i = 0; i < d->nindexes; i++) {
    const tbl_index *y = &d->indexes[i];
    widx *x = wtab_add_idx(w);
    if (!x) return MM_ENOMEM;
    x->name = mm_strdup(y->name);
    x->primary = y->primary;
    x->unique = y->unique;
    x->id = y->id;
    x->cols = mm_calloc((size_t)y->ncols + 1, sizeof(char *));
    x->prefix = mm_calloc((size_t)y->ncols + 1, sizeof(uint32_t));
    if (y->comment) x->comment = mm_strdup(y->comment);
    if (!x->name || !x->cols || !x->prefix) return MM_ENOMEM;
    for (int k = 0; k < y->ncols; k++) {
      x->cols[k] = mm_strdup(d->cols[y->cols[k]].name);
      if (!x->cols[k]) return MM_ENOMEM;
      x->ncols = k + 1;
      x->prefix[k] = y->prefix[k];
    }
  }
  w->charset = mm_strdup(d->charset);
  w->collation = mm_strdup(d->collation);
  if (d->comment) w->comment = mm_strdup(d->comment);
  if (!w->charset || !w->collation) return MM_ENOMEM;
  return MM_OK;
}

/* ---- types ------------------------------------------------------------- */

static int is_int_type(tbl_type t) {
  return t == TBL_TINYINT || t == TBL_SMALLINT || t == TBL_MEDIUMINT || t == TBL_INT || t == TBL_BIGINT;
}
static int is_time_type(tbl_type t) {
  return t == TBL_DATETIME || t == TBL_TIMESTAMP;
}
static int is_binary_type(tbl_type t) {
  return t == TBL_BINARY || t == TBL_VARBINARY || t == TBL_TINYBLOB || t == TBL_BLOB ||
         t == TBL_MEDIUMBLOB || t == TBL_LONGBLOB;
}
static int is_text_blob(tbl_type t) {
  return t == TBL_TINYTEXT || t == TBL_TEXT || t == TBL_MEDIUMTEXT || t == TBL_LONGTEXT ||
         t == TBL_TINYBLOB || t == TBL_BLOB || t == TBL_MEDIUMBLOB || t == TBL_LONGBLOB;
}

static uint32_t int_width(tbl_type t, int uns) {
  switch (t) {
  case TBL_TINYINT: return uns ? 3 : 4;
  case TBL_SMALLINT: return uns ? 5 : 6;
  case TBL_MEDIUMINT: return uns ? 8 : 9;
  case TBL_INT: return uns ? 10 : 11;
  default: return 20;
  }
}

/* Optional "(n)" / "(m,d)": *a, *b set to -1 when absent. */
static int p_len2(ps *p, int64_t *a, int64_t *b) {
  *a = *b = -1;
  if (!p_accept_op(p, "(")) return MM_OK;
  uint64_t v;
  if (p_uint(p, &v)) return MM_ESQL;
  *a = v > 0xffffffffu ? 0xffffffffLL : (int64_t)v;
  if (p_accept_op(p, ",")) {
    if (p_uint(p, &v)) return MM_ESQL;
    *b = v > 0xffff ? 0xffff : (int64_t)v;
  }
  return p_expect_op(p, ")");
}

static int p_len1(ps *p, int64_t *a) {
  int64_t b;
  lex save = p->l;
  if (p_len2(p, a, &b)) return MM_ESQL;
  if (b >= 0) {
    p->l = save;
    p_next(p);
    p_next(p);
    p_next(p);
    return p_syntax_at(p, &p->t);
  }
  return MM_OK;
}

/* CHARACTER SET / CHARSET name, or "binary"/"ascii"/"unicode" shortcuts are
 * not supported.  Sets *cs (canonical charset name, owned). */
static int p_charset_name(ps *p, char **cs) {
  *cs = NULL;
  char *n;
  lex_token t;
  p_peek(p, &t);
  if (t.type == TK_STRING) {
    if (p_string(p, &n)) return MM_ESQL;
  } else if (p_ident(p, &n)) {
    return MM_ESQL;
  }
  if (strcasecmp(n, "default") == 0) { *cs = n; return MM_OK; }
  const tbl_collation *c = tbl_charset_default(n);
  if (!c) {
    err_set(p, 1115, "42000", "Unknown character set: '%s'", n);
    mm_free(n);
    return MM_ESQL;
  }
  mm_free(n);
  *cs = mm_strdup(c->charset);
  return *cs ? MM_OK : p_oom(p);
}

static int p_collation_name(ps *p, char **co) {
  *co = NULL;
  char *n;
  lex_token t;
  p_peek(p, &t);
  if (t.type == TK_STRING) {
    if (p_string(p, &n)) return MM_ESQL;
  } else if (p_ident(p, &n)) {
    return MM_ESQL;
  }
  const tbl_collation *c = tbl_collation_find(n);
  if (!c) {
    err_set(p, 1273, "HY000", "Unknown collation: '%s'", n);
    mm_free(n);
    return MM_ESQL;
  }
  mm_free(n);
  *co = mm_strdup(c->name);
  return *co ? MM_OK : p_oom(p);
}

/* Column charset/collation clauses that may follow a type. */
static int p_col_charset(ps *p, wcol *c) {
  for (;;) {
    if (p_is(p, "CHARACTER") || p_is(p, "CHARSET")) {
      if (p_accept(p, "CHARACTER") && p_expect(p, "SET")) return MM_ESQL;
      p_accept(p, "CHARSET");
      char *cs;
      if (p_charset_name(p, &cs)) return MM_ESQL;
      mm_free(c->c.charset);
      c->c.charset = cs;
      continue;
    }
    if (p_is(p, "COLLATE")) {
      p_next(p);
      char *co;
      if (p_collation_name(p, &co)) return MM_ESQL;
      mm_free(c->c.collation);
      c->c.collation = co;
      continue;
    }
    if (p_is(p, "BINARY") && tbl_type_is_string(c->c.type)) { /* VARCHAR(10) BINARY */
      p_next(p);
      mm_free(c->c.collation);
      c->c.collation = mm_strdup("#bin"); /* resolved against the charset later */
      if (!c->c.collation) return p_oom(p);
      continue;
    }
    if (p_is(p, "ASCII") || p_is(p, "UNICODE")) {
      int uni = p_is(p, "UNICODE");
      p_next(p);
      mm_free(c->c.charset);
      c->c.charset = mm_strdup(uni ? "utf8mb4" : "latin1");
      if (!c->c.charset) return p_oom(p);
      continue;
    }
    return MM_OK;
  }
}

static int p_enum_vals(ps *p, wcol *c) {
  if (p_expect_op(p, "(")) return MM_ESQL;
  for (;;) {
    char *v;
    if (p_string(p, &v)) return MM_ESQL;
    char **nv = mm_realloc(c->c.enum_vals, sizeof(char *) * (size_t)(c->c.n_enum + 1));
    if (!nv) { mm_free(v); return p_oom(p); }
    c->c.enum_vals = nv;
    /* MySQL strips trailing spaces from members */
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ') v[--n] = 0;
    c->c.enum_vals[c->c.n_enum++] = v;
    if (p_accept_op(p, ",")) continue;
    break;
  }
  return p_expect_op(p, ")");
}

/* Parse a data type into c. */
static int p_type(ps *p, wcol *w) {
  tbl_column *c = &w->c;
  lex_token t;
  p_peek(p, &t);
  if (t.type != TK_IDENT) return p_syntax(p);
  p_next(p);
  int64_t a = -1, b = -1;
  int intlike = 0;
#define IS(k) lex_is(&t, k)
  if (IS("TINYINT") || IS("INT1")) { c->type = TBL_TINYINT; intlike = 1; }
  else if (IS("SMALLINT") || IS("INT2")) { c->type = TBL_SMALLINT; intlike = 1; }
  else if (IS("MEDIUMINT") || IS("INT3") || IS("MIDDLEINT")) { c->type = TBL_MEDIUMINT; intlike = 1; }
  else if (IS("INT") || IS("INTEGER") || IS("INT4")) { c->type = TBL_INT; intlike = 1; }
  else if (IS("BIGINT") || IS("INT8")) { c->type = TBL_BIGINT; intlike = 1; }
  else if (IS("SERIAL")) {
    c->type = TBL_BIGINT; c->is_unsigned = 1; c->length = 20; c->not_null = 1; c->auto_increment = 1;
    w->serial = 1;
    return MM_OK;
  } else if (IS("BOOL") || IS("BOOLEAN")) { c->type = TBL_TINYINT; c->length = 1; return MM_OK; }
  else if (IS("DECIMAL") || IS("DEC") || IS("NUMERIC") || IS("FIXED")) {
    c->type = TBL_DECIMAL;
    if (p_len2(p, &a, &b)) return MM_ESQL;
    if (a > 65) return err_set(p, 1426, "42000", "Too big precision %lld specified for column '%s'. Maximum is 65.", (long long)a, c->name);
    if (b > 30) return err_set(p, 1425, "42000", "Too big scale %lld specified for column '%s'. Maximum is 30.", (long long)b, c->name);
    if (a >= 0 && b > a) return err_set(p, 1427, "42000", "For float(M,D), double(M,D) or decimal(M,D), M must be >= D (column '%s').", c->name);
    c->length = a < 0 ? 10 : a == 0 ? 10 : (uint32_t)a;
    c->scale = b < 0 ? 0 : (int)b;
    intlike = 2;
  } else if (IS("FLOAT") || IS("FLOAT4") || IS("FLOAT8") || IS("DOUBLE") || IS("REAL")) {
    c->type = (IS("FLOAT") || IS("FLOAT4")) ? TBL_FLOAT : TBL_DOUBLE;
    if (IS("DOUBLE")) p_accept(p, "PRECISION");
    if (p_len2(p, &a, &b)) return MM_ESQL;
    if (b >= 0) {
      if (a > 255) return err_set(p, 1439, "42000", "Display width out of range for column '%s' (max = 255)", c->name);
      if (b > 30) return err_set(p, 1425, "42000", "Too big scale %lld specified for column '%s'. Maximum is 30.", (long long)b, c->name);
      if (b > a) return err_set(p, 1427, "42000", "For float(M,D), double(M,D) or decimal(M,D), M must be >= D (column '%s').", c->name);
      c->length = (uint32_t)a;
      c->scale = (int)b;
    } else if (a >= 0 && c->type == TBL_FLOAT) {
      if (a > 53) return err_set(p, 1063, "42000", "Incorrect column specifier for column '%s'", c->name);
      if (a > 24) c->type = TBL_DOUBLE;
    }
    intlike = 2;
  } else if (IS("BIT")) {
    c->type = TBL_BIT;
    if (p_len1(p, &a)) return MM_ESQL;
    if (a > 64) return err_set(p, 1439, "42000", "Display width out of range for column '%s' (max = 64)", c->name);
    c->length = a <= 0 ? 1 : (uint32_t)a;
    return MM_OK;
  } else if (IS("CHAR") || IS("CHARACTER") || IS("NCHAR") || IS("NATIONAL") || IS("VARCHAR") ||
             IS("NVARCHAR") || IS("VARCHARACTER")) {
    int var = IS("VARCHAR") || IS("NVARCHAR") || IS("VARCHARACTER");
    int national = IS("NCHAR") || IS("NVARCHAR") || IS("NATIONAL");
    if (IS("NATIONAL")) {
      if (p_accept(p, "VARCHAR")) var = 1;
      else if (p_accept(p, "CHAR") || p_accept(p, "CHARACTER")) {}
      else return p_syntax(p);
    }
    if (!var && p_accept(p, "VARYING")) var = 1;
    c->type = var ? TBL_VARCHAR : TBL_CHAR;
    if (p_len1(p, &a)) return MM_ESQL;
    if (var && a < 0) return p_syntax(p);
    if (!var && a > 255) return err_set(p, 1074, "42000", "Column length too big for column '%s' (max = 255); use BLOB or TEXT instead", c->name);
    c->length = a < 0 ? 1 : (uint32_t)a;
    if (national && !(c->charset = mm_strdup("utf8"))) return p_oom(p);
    return p_col_charset(p, w);
  } else if (IS("BINARY") || IS("VARBINARY")) {
    int var = IS("VARBINARY");
    c->type = var ? TBL_VARBINARY : TBL_BINARY;
    if (p_len1(p, &a)) return MM_ESQL;
    if (var && a < 0) return p_syntax(p);
    if (!var && a > 255) return err_set(p, 1074, "42000", "Column length too big for column '%s' (max = 255); use BLOB or TEXT instead", c->name);
    if (a > 65535) return err_set(p, 1074, "42000", "Column length too big for column '%s' (max = 65535); use BLOB or TEXT instead", c->name);
    c->length = a < 0 ? 1 : (uint32_t)a;
    return MM_OK;
  } else if (IS("TINYTEXT")) { c->type = TBL_TINYTEXT; return p_col_charset(p, w); }
  else if (IS("MEDIUMTEXT")) { c->type = TBL_MEDIUMTEXT; return p_col_charset(p, w); }
  else if (IS("LONGTEXT")) { c->type = TBL_LONGTEXT; return p_col_charset(p, w); }
  else if (IS("TEXT")) {
    c->type = TBL_TEXT;
    if (p_len1(p, &a)) return MM_ESQL;
    if (a >= 0) {
      int64_t bytes = a * 4;
      c->type = bytes < 256 ? TBL_TINYTEXT : bytes < 65536 ? TBL_TEXT : bytes < (1 << 24) ? TBL_MEDIUMTEXT : TBL_LONGTEXT;
    }
    return p_col_charset(p, w);
  } else if (IS("LONG")) {
    if (p_accept(p, "VARBINARY")) { c->type = TBL_MEDIUMBLOB; return MM_OK; }
    if (!p_accept(p, "VARCHAR")) p_accept(p, "VARCHARACTER");
    c->type = TBL_MEDIUMTEXT;
    return p_col_charset(p, w);
  } else if (IS("TINYBLOB")) { c->type = TBL_TINYBLOB; return MM_OK; }
  else if (IS("MEDIUMBLOB")) { c->type = TBL_MEDIUMBLOB; return MM_OK; }
  else if (IS("LONGBLOB")) { c->type = TBL_LONGBLOB; return MM_OK; }
  else if (IS("BLOB")) {
    c->type = TBL_BLOB;
    if (p_len1(p, &a)) return MM_ESQL;
    if (a >= 0) c->type = a < 256 ? TBL_TINYBLOB : a < 65536 ? TBL_BLOB : a < (1 << 24) ? TBL_MEDIUMBLOB : TBL_LONGBLOB;
    return MM_OK;
  } else if (IS("DATE")) { c->type = TBL_DATE; return MM_OK; }
  else if (IS("TIME") || IS("DATETIME") || IS("TIMESTAMP")) {
    c->type = IS("TIME") ? TBL_TIME : IS("DATETIME") ? TBL_DATETIME : TBL_TIMESTAMP;
    if (p_len1(p, &a)) return MM_ESQL;
    if (a > 6) return err_set(p, 1426, "42000", "Too big precision %lld specified for column '%s'. Maximum is 6.", (long long)a, c->name);
    c->scale = a < 0 ? 0 : (int)a;
    return MM_OK;
  } else if (IS("YEAR")) {
    c->type = TBL_YEAR;
    if (p_len1(p, &a)) return MM_ESQL;
    c->length = 4;
    return MM_OK;
  } else if (IS("ENUM") || IS("SET")) {
    c->type = IS("ENUM") ? TBL_ENUM : TBL_SET;
    if (p_enum_vals(p, w)) return MM_ESQL;
    if (c->type == TBL_SET && c->n_enum > 64)
      return err_set(p, 1097, "HY000", "Too many strings for column %s and SET", c->name);
    return p_col_charset(p, w);
  } else if (IS("JSON")) { c->type = TBL_JSON; return MM_OK; }
  else if (IS("GEOMETRY") || IS("POINT") || IS("LINESTRING") || IS("POLYGON") ||
           IS("MULTIPOINT") || IS("MULTILINESTRING") || IS("MULTIPOLYGON") || IS("GEOMETRYCOLLECTION")) {
    return err_set(p, 1235, "42000", "This version of MySQL doesn't yet support 'spatial data types'");
  } else {
    return p_syntax_at(p, &t);
  }
#undef IS
  /* integer family and numerics: width, SIGNED/UNSIGNED/ZEROFILL */
  if (intlike == 1) {
    if (p_len1(p, &a)) return MM_ESQL;
    if (a > 255) return err_set(p, 1439, "42000", "Display width out of range for column '%s' (max = 255)", c->name);
    c->length = a > 0 ? (uint32_t)a : 0;
  }
  for (;;) {
    if (p_accept(p, "UNSIGNED")) c->is_unsigned = 1;
    else if (p_accept(p, "SIGNED")) {}
    else if (p_accept(p, "ZEROFILL")) { c->zerofill = 1; c->is_unsigned = 1; }
    else break;
  }
  if (intlike == 1 && c->length == 0) c->length = int_width(c->type, c->is_unsigned);
  return MM_OK;
}

/* ---- defaults ---------------------------------------------------------- */

/* Count UTF-8 characters. */
static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xc0) != 0x80) n++;
  return n;
}

static int parse_number(const char *s, long double *v) {
  while (isspace((unsigned char)*s)) s++;
  if (!*s) return -1;
  char *end;
  *v = strtold(s, &end);
  if (end == s) return -1;
  while (isspace((unsigned char)*end)) end++;
  return *end ? -1 : 0;
}

/* Round a decimal text to `scale` digits; returns a new string or NULL if
 * malformed / more than prec-scale integer digits. */
static char *decimal_normalize(const char *s, int prec, int scale) {
  while (isspace((unsigned char)*s)) s++;
  int neg = 0;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  const char *ip = s;
  while (isdigit((unsigned char)*s)) s++;
  size_t in = (size_t)(s - ip);
  const char *fp = "";
  size_t fn = 0;
  if (*s == '.') {
    fp = ++s;
    while (isdigit((unsigned char)*s)) s++;
    fn = (size_t)(s - fp);
  }
  if (in == 0 && fn == 0) return NULL;
  if (*s == 'e' || *s == 'E') { /* exponent: go through long double */
    long double v;
    if (parse_number(ip - (neg ? 1 : 0), &v)) return NULL;
    char buf[128];
    snprintf(buf, sizeof buf, "%.*Lf", scale, v);
    return decimal_normalize(buf, prec, scale);
  }
  while (isspace((unsigned char)*s)) s++;
  if (*s) return NULL;
  /* digits: integer part without leading zeros, fraction padded to scale+1 */
  while (in > 1 && *ip == '0') { ip++; in--; }
  size_t total = in + (size_t)scale;
  char *dig = mm_malloc(total + 2);
  if (!dig) return NULL;
  memcpy(dig + 1, ip, in);
  dig[0] = '0';
  for (int i = 0; i < scale; i++) dig[1 + in + (size_t)i] = (size_t)i < fn ? fp[i] : '0';
  if (in == 0) { /* ".5" */ }
  int round = (size_t)scale < fn && fp[scale] >= '5';
  size_t len = 1 + total;
  if (round) {
    size_t i = len;
    while (i > 0) {
      i--;
      if (dig[i] == '9') dig[i] = '0';
      else { dig[i]++; break; }
    }
  }
  /* strip the spare leading zero(s) but keep one integer digit */
  size_t start = 0;
  size_t intdigits = len - (size_t)scale;
  while (intdigits > 1 && dig[start] == '0') { start++; intdigits--; }
  if ((int)intdigits > prec - scale && !(intdigits == 1 && dig[start] == '0')) { mm_free(dig); return NULL; }
  int iszero = 1;
  for (size_t i = start; i < len; i++) if (dig[i] != '0') iszero = 0;
  mm_buf b;
  mm_buf_init(&b);
  if (neg && !iszero) mm_buf_putc(&b, '-');
  mm_buf_append(&b, dig + start, intdigits);
  if (scale > 0) {
    mm_buf_putc(&b, '.');
    mm_buf_append(&b, dig + start + intdigits, (size_t)scale);
  }
  mm_free(dig);
  if (b.oom) { mm_buf_free(&b); return NULL; }
  return mm_buf_steal(&b, NULL);
}

static char *shortest_double(long double v, int is_float) {
  char buf[64];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*Lg", prec, v);
    if (is_float ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == (double)v) break;
  }
  /* MySQL prints 1e20 as 1e20; %g already does */
  return mm_strdup(buf);
}

static int parse_digits(const char **s, int maxn, int *v) {
  int n = 0;
  *v = 0;
  while (n < maxn && isdigit((unsigned char)**s)) { *v = *v * 10 + (**s - '0'); (*s)++; n++; }
  return n;
}

/* Normalize date/time text for type t; NULL if invalid.  *zero set when the
 * date part is zero. */
static char *datetime_normalize(const char *s, tbl_type t, int fsp, int *zero) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, n;
  long frac = 0;
  int fdig = 0, neg = 0;
  char buf[64];
  *zero = 0;
  while (isspace((unsigned char)*s)) s++;
  if (t == TBL_TIME) {
    if (*s == '-') { neg = 1; s++; }
    n = parse_digits(&s, 3, &h);
    if (!n) return NULL;
    if (*s == ':') {
      s++;
      if (!parse_digits(&s, 2, &mi)) return NULL;
      if (*s == ':') { s++; if (!parse_digits(&s, 2, &se)) return NULL; }
    } else if (n >= 1 && !*s) { /* plain seconds / HHMMSS */
      int v = h;
      h = v / 10000; mi = v / 100 % 100; se = v % 100;
    }
  } else {
    n = parse_digits(&s, 4, &y);
    if (n != 4 && n != 2) return NULL;
    if (n == 2) y += y < 70 ? 2000 : 1900;
    if (*s != '-' && *s != '/') return NULL;
    s++;
    if (!parse_digits(&s, 2, &mo)) return NULL;
    if (*s != '-' && *s != '/') return NULL;
    s++;
    if (!parse_digits(&s, 2, &d)) return NULL;
    if (*s == ' ' || *s == 'T') {
      s++;
      while (*s == ' ') s++;
      if (*s) {
        if (!parse_digits(&s, 2, &h)) return NULL;
        if (*s == ':') { s++; if (!parse_digits(&s, 2, &mi)) return NULL; }
        if (*s == ':') { s++; if (!parse_digits(&s, 2, &se)) return NULL; }
      }
    }
  }
  if (*s == '.') {
    s++;
    while (isdigit((unsigned char)*s)) {
      if (fdig < 6) { frac = frac * 10 + (*s - '0'); fdig++; }
      s++;
    }
  }
  while (isspace((unsigned char)*s)) s++;
  if (*s) return NULL;
  while (fdig < 6) { frac *= 10; fdig++; }
  if (mi > 59 || se > 59) return NULL;
  if (t != TBL_TIME) {
    if (h > 23) return NULL;
    if (y == 0 && mo == 0 && d == 0) *zero = 1;
    else {
      static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return NULL;
      if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return NULL;
    }
    if (t == TBL_TIMESTAMP && !*zero && (y < 1970 || y > 2038)) return NULL;
  } else if (h > 838) {
    return NULL;
  }
  /* fraction truncated to fsp (MySQL rounds; close enough for defaults) */
  long div = 1;
  for (int i = fsp; i < 6; i++) div *= 10;
  frac /= div;
  int off;
  if (t == TBL_DATE) off = snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
  else if (t == TBL_TIME) off = snprintf(buf, sizeof buf, "%s%02d:%02d:%02d", neg ? "-" : "", h, mi, se);
  else off = snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se);
  if (t != TBL_DATE && fsp > 0) snprintf(buf + off, sizeof buf - (size_t)off, ".%0*ld", fsp, frac);
  return mm_strdup(buf);
}

/* Raw default as parsed. */
typedef struct rawdef {
  int kind;      /* 0 none, 1 NULL, 2 literal, 3 now */
  char *text;    /* literal text (strings decoded, bytes for hex/bit) */
  size_t len;
  int is_bits;   /* hex / bit literal: text is bytes */
  int is_number; /* unquoted number */
  int now_fsp;
} rawdef;

static int p_default(ps *p, rawdef *r) {
  lex_token t;
  p_peek(p, &t);
  mm_free(r->text);
  memset(r, 0, sizeof *r);
  if (lex_is(&t, "NULL")) { p_next(p); r->kind = 1; return MM_OK; }
  if (lex_is(&t, "CURRENT_TIMESTAMP") || lex_is(&t, "NOW") || lex_is(&t, "LOCALTIME") ||
      lex_is(&t, "LOCALTIMESTAMP")) {
    int need_parens = lex_is(&t, "NOW");
    p_next(p);
    r->kind = 3;
    if (p_accept_op(p, "(")) {
      lex_token u;
      p_peek(p, &u);
      if (u.type == TK_INTEGER) { uint64_t v; p_uint(p, &v); r->now_fsp = (int)v; }
      if (p_expect_op(p, ")")) return MM_ESQL;
    } else if (need_parens) {
      return p_syntax(p);
    }
    return MM_OK;
  }
  if (lex_is(&t, "TRUE") || lex_is(&t, "FALSE")) {
    p_next(p);
    r->kind = 2;
    r->is_number = 1;
    r->text = mm_strdup(lex_is(&t, "TRUE") ? "1" : "0");
    return r->text ? MM_OK : p_oom(p);
  }
  int neg = 0;
  if (lex_is_op(&t, "-") || lex_is_op(&t, "+")) {
    neg = lex_is_op(&t, "-");
    p_next(p);
    p_peek(p, &t);
    if (t.type != TK_INTEGER && t.type != TK_DECIMAL && t.type != TK_FLOAT) return p_syntax(p);
  }
  if (t.type == TK_INTEGER || t.type == TK_DECIMAL || t.type == TK_FLOAT) {
    p_next(p);
    r->kind = 2;
    r->is_number = 1;
    r->text = mm_sprintf("%s%.*s", neg ? "-" : "", (int)t.n, t.p);
    return r->text ? MM_OK : p_oom(p);
  }
  if (t.type == TK_HEX || t.type == TK_BIT) {
    p_next(p);
    mm_buf b;
    mm_buf_init(&b);
    if (lex_unquote(&t, 0, &b)) { mm_buf_free(&b); return p_syntax_at(p, &t); }
    r->kind = 2;
    r->is_bits = 1;
    r->len = b.len;
    mm_buf_putc(&b, 0);
    if (b.oom) { mm_buf_free(&b); return p_oom(p); }
    r->text = mm_buf_steal(&b, NULL);
    return MM_OK;
  }
  if (t.type == TK_STRING || (t.type == TK_IDENT && t.n > 1 && t.p[0] == '_')) {
    if (p_string(p, &r->text)) return MM_ESQL;
    /* adjacent strings concatenate */
    while (p_peek(p, &t) == TK_STRING) {
      char *more;
      if (p_string(p, &more)) return MM_ESQL;
      char *j = mm_sprintf("%s%s", r->text, more);
      mm_free(more);
      if (!j) return p_oom(p);
      mm_free(r->text);
      r->text = j;
    }
    r->kind = 2;
    r->len = strlen(r->text);
    return MM_OK;
  }
  if (lex_is_op(&t, "(")) return err_set(p, 1235, "42000", "This version of MySQL doesn't yet support 'expression defaults'");
  return p_syntax(p);
}

static int bad_default(ps *p, const tbl_column *c) {
  return err_set(p, 1067, "42000", "Invalid default value for '%s'", c->name);
}

/* Validate and normalize a literal default into c->default_value. */
static int apply_default(ps *p, tbl_column *c, rawdef *r) {
  mm_free(c->default_value);
  c->default_value = NULL;
  c->default_now = 0;
  c->has_default = 0;
  if (r->kind == 0) return MM_OK;
  if (r->kind == 1) {
    if (c->not_null) return bad_default(p, c);
    c->has_default = 1;
    return MM_OK;
  }
  if (r->kind == 3) {
    if (!is_time_type(c->type) || r->now_fsp != (c->scale < 0 ? 0 : c->scale)) return bad_default(p, c);
    c->has_default = 1;
    c->default_now = 1;
    return MM_OK;
  }
  if (tbl_type_is_blob(c->type))
    return err_set(p, 1101, "42000", "BLOB, TEXT, GEOMETRY or JSON column '%s' can't have a default value", c->name);
  const char *s = r->text;
  char numbuf[32];
  if (r->is_bits && c->type != TBL_CHAR && c->type != TBL_VARCHAR && c->type != TBL_BINARY &&
      c->type != TBL_VARBINARY && c->type != TBL_ENUM && c->type != TBL_SET) {
    if (r->len > 8) return bad_default(p, c);
    unsigned long long v = 0;
    for (size_t i = 0; i < r->len; i++) v = v << 8 | (unsigned char)r->text[i];
    snprintf(numbuf, sizeof numbuf, "%llu", v);
    s = numbuf;
  }
  char *out = NULL;
  long double v;
  switch (c->type) {
  case TBL_TINYINT: case TBL_SMALLINT: case TBL_MEDIUMINT: case TBL_INT: case TBL_BIGINT: {
    static const long double smax[] = {127.0L, 32767.0L, 8388607.0L, 2147483647.0L, 9223372036854775807.0L};
    int k = c->type - TBL_TINYINT;
    long double lo = c->is_unsigned ? 0 : -smax[k] - 1, hi = c->is_unsigned ? smax[k] * 2 + 1 : smax[k];
    const char *q = s;
    while (isspace((unsigned char)*q)) q++;
    char *end;
    errno = 0;
    if (c->is_unsigned && isdigit((unsigned char)*q)) { /* exact: 18446744073709551615 */
      unsigned long long u = strtoull(q, &end, 10);
      while (isspace((unsigned char)*end)) end++;
      if (!*end && !errno) {
        if ((long double)u > hi) return bad_default(p, c);
        out = mm_sprintf("%llu", u);
        break;
      }
    } else if (*q == '-' || isdigit((unsigned char)*q)) {
      long long x = strtoll(q, &end, 10);
      while (isspace((unsigned char)*end)) end++;
      if (!*end && !errno) {
        if ((long double)x < lo || (long double)x > hi) return bad_default(p, c);
        out = mm_sprintf("%lld", x);
        break;
      }
    }
    if (parse_number(s, &v)) return bad_default(p, c);
    v = v < 0 ? -floorl(-v + 0.5L) : floorl(v + 0.5L);
    if (v < lo || v > hi) return bad_default(p, c);
    if (c->is_unsigned) out = mm_sprintf("%llu", (unsigned long long)v);
    else out = mm_sprintf("%lld", (long long)v);
    break;
  }
  case TBL_DECIMAL:
    out = decimal_normalize(s, (int)c->length, c->scale < 0 ? 0 : c->scale);
    if (!out || (c->is_unsigned && out[0] == '-')) { mm_free(out); return bad_default(p, c); }
    break;
  case TBL_FLOAT: case TBL_DOUBLE:
    if (parse_number(s, &v) || (c->is_unsigned && v < 0)) return bad_default(p, c);
    if (c->scale >= 0 && c->length) {
      char *d = decimal_normalize(s, (int)c->length, c->scale);
      if (!d) return bad_default(p, c);
      parse_number(d, &v);
      mm_free(d);
    }
    out = shortest_double(v, c->type == TBL_FLOAT);
    break;
  case TBL_BIT:
    if (parse_number(s, &v) || v < 0) return bad_default(p, c);
    if (c->length < 64 && v >= ldexpl(1.0L, (int)c->length)) return bad_default(p, c);
    out = mm_sprintf("%llu", (unsigned long long)v);
    break;
  case TBL_YEAR: {
    if (parse_number(s, &v) || v != floorl(v)) return bad_default(p, c);
    long y = (long)v;
    if (y == 0 && !r->is_number && strlen(s) < 4) y = 2000;
    else if (y > 0 && y < 70) y += 2000;
    else if (y >= 70 && y < 100) y += 1900;
    if (y != 0 && (y < 1901 || y > 2155)) return bad_default(p, c);
    out = mm_sprintf("%04ld", y);
    break;
  }
  case TBL_DATE: case TBL_TIME: case TBL_DATETIME: case TBL_TIMESTAMP: {
    int zero;
    out = datetime_normalize(s, c->type, c->scale < 0 ? 0 : c->scale, &zero);
    if (!out) return bad_default(p, c);
    if (zero && p->tc && (p->tc->mode & TBL_MODE_STRICT) && (p->tc->mode & TBL_MODE_NO_ZERO_DATE)) {
      mm_free(out);
      return bad_default(p, c);
    }
    break;
  }
  case TBL_CHAR: case TBL_VARCHAR:
    if (utf8_chars(s) > c->length) return bad_default(p, c);
    out = mm_strdup(s);
    break;
  case TBL_BINARY: case TBL_VARBINARY:
    if ((r->is_bits ? r->len : strlen(s)) > c->length) return bad_default(p, c);
    out = mm_strdup(s);
    break;
  case TBL_ENUM: {
    int found = -1;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') n--;
    for (int i = 0; i < c->n_enum && found < 0; i++)
      if (strlen(c->enum_vals[i]) == n && strncasecmp(c->enum_vals[i], s, n) == 0) found = i;
    if (found < 0 && r->is_number && parse_number(s, &v) == 0 && v >= 1 && v <= c->n_enum && v == floorl(v))
      found = (int)v - 1;
    if (found < 0) return bad_default(p, c);
    out = mm_strdup(c->enum_vals[found]);
    break;
  }
  case TBL_SET: {
    uint64_t bits = 0;
    const char *q = s;
    if (r->is_number && parse_number(s, &v) == 0) {
      if (v < 0 || (c->n_enum < 64 && v >= ldexpl(1.0L, c->n_enum))) return bad_default(p, c);
      bits = (uint64_t)v;
    } else {
      while (*q) {
        const char *e = strchr(q, ',');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        int found = -1;
        for (int i = 0; i < c->n_enum && found < 0; i++)
          if (strlen(c->enum_vals[i]) == n && strncasecmp(c->enum_vals[i], q, n) == 0) found = i;
        if (found < 0 && n) return bad_default(p, c);
        if (found >= 0) bits |= 1ull << found;
        q += n + (e ? 1 : 0);
      }
    }
    mm_buf b;
    mm_buf_init(&b);
    mm_buf_puts(&b, "");
    for (int i = 0; i < c->n_enum; i++)
      if (bits >> i & 1) {
        if (b.len) mm_buf_putc(&b, ',');
        mm_buf_puts(&b, c->enum_vals[i]);
      }
    out = b.oom ? NULL : b.p ? mm_buf_steal(&b, NULL) : mm_strdup("");
    mm_buf_free(&b);
    break;
  }
  default:
    return bad_default(p, c);
  }
  if (!out) return p_oom(p);
  c->default_value = out;
  c->has_default = 1;
  return MM_OK;
}

/* ---- column definitions ------------------------------------------------- */

/* Column options after the type.  Fills the inline key flags. */
static int p_col_options(ps *p, wcol *w) {
  tbl_column *c = &w->c;
  rawdef r = {0};
  int rc = MM_OK;
  for (;;) {
    if (p_accept(p, "NOT")) {
      if ((rc = p_expect(p, "NULL"))) break;
      c->not_null = 1;
      w->explicit_null = 0;
    } else if (p_accept(p, "NULL")) {
      c->not_null = 0;
      w->explicit_null = 1;
    } else if (p_accept(p, "DEFAULT")) {
      if (p_is(p, "VALUE") && w->serial) { p_next(p); continue; }
      if ((rc = p_default(p, &r))) break;
    } else if (p_accept(p, "SERIAL")) {
      if ((rc = p_expect(p, "DEFAULT")) || (rc = p_expect(p, "VALUE"))) break;
      c->not_null = 1;
      c->auto_increment = 1;
      w->inline_unique = 1;
    } else if (p_accept(p, "AUTO_INCREMENT")) {
      c->auto_increment = 1;
    } else if (p_accept(p, "PRIMARY")) {
      if ((rc = p_expect(p, "KEY"))) break;
      w->inline_pk = 1;
    } else if (p_accept(p, "KEY")) {
      w->inline_pk = 1; /* KEY alone in a column definition means PRIMARY KEY */
    } else if (p_accept(p, "UNIQUE")) {
      if (!p_accept(p, "KEY")) p_accept(p, "INDEX");
      w->inline_unique = 1;
    } else if (p_accept(p, "COMMENT")) {
      char *s;
      if ((rc = p_string(p, &s))) break;
      mm_free(c->comment);
      c->comment = s;
    } else if (p_is(p, "COLLATE") || p_is(p, "CHARACTER") || p_is(p, "CHARSET")) {
      if ((rc = p_col_charset(p, w))) break;
    } else if (p_accept(p, "ON")) {
      if ((rc = p_expect(p, "UPDATE"))) break;
      lex_token t;
      p_peek(p, &t);
      if (!(lex_is(&t, "CURRENT_TIMESTAMP") || lex_is(&t, "NOW") || lex_is(&t, "LOCALTIME") ||
            lex_is(&t, "LOCALTIMESTAMP"))) { rc = p_syntax(p); break; }
      p_next(p);
      int fsp = 0;
      if (p_accept_op(p, "(")) {
        p_peek(p, &t);
        if (t.type == TK_INTEGER) { uint64_t v; p_uint(p, &v); fsp = (int)v; }
        if ((rc = p_expect_op(p, ")"))) break;
      }
      if (!is_time_type(c->type) || fsp != (c->scale < 0 ? 0 : c->scale)) {
        rc = err_set(p, 1294, "HY000", "Invalid ON UPDATE clause for '%s' column", c->name);
        break;
      }
      c->on_update_now = 1;
    } else if (p_accept(p, "COLUMN_FORMAT") || p_accept(p, "STORAGE")) {
      p_next(p);
    } else if (p_accept(p, "REFERENCES")) {
      char *d, *n;
      if ((rc = p_qname(p, &d, &n))) break;
      mm_free(d);
      mm_free(n);
      if (p_is_op(p, "(") && (rc = p_skip_parens(p))) break;
      while (p_accept(p, "MATCH") || p_accept(p, "ON")) {
        if (lex_is(&p->t, "MATCH")) { p_next(p); continue; }
        p_next(p); /* DELETE / UPDATE */
        if (p_accept(p, "SET")) p_next(p);
        else if (p_accept(p, "NO")) p_next(p);
        else p_next(p);
      }
      warn(p, 1235, "Foreign keys are parsed but not enforced");
    } else if (p_accept(p, "CHECK")) {
      if ((rc = p_skip_parens(p))) break;
    } else if (p_is(p, "GENERATED") || p_is(p, "AS")) {
      rc = err_set(p, 1235, "42000", "This version of MySQL doesn't yet support 'generated columns'");
      break;
    } else if (p_accept(p, "INVISIBLE") || p_accept(p, "VISIBLE")) {
    } else {
      break;
    }
  }
  if (!rc) {
    if (c->auto_increment) {
      if (!is_int_type(c->type) && c->type != TBL_FLOAT && c->type != TBL_DOUBLE)
        rc = err_set(p, 1063, "42000", "Incorrect column specifier for column '%s'", c->name);
      else if (r.kind != 0)
        rc = bad_default(p, c);
      else
        c->not_null = 1;
    }
    if (!rc && w->inline_pk && w->explicit_null)
      rc = err_set(p, 1171, "42000", "All parts of a PRIMARY KEY must be NOT NULL; if you need NULL in a key, use UNIQUE instead");
    if (!rc) rc = apply_default(p, c, &r);
  }
  mm_free(r.text);
  return rc;
}

/* name type options */
static int p_coldef(ps *p, wcol *w) {
  if (p_ident(p, &w->c.name)) return MM_ESQL;
  if (p_type(p, w)) return MM_ESQL;
  return p_col_options(p, w);
}

/* Key parts: ( col[(len)] [ASC|DESC], ... ) into x. */
static int p_key_parts(ps *p, widx *x) {
  if (p_expect_op(p, "(")) return MM_ESQL;
  for (;;) {
    char *n;
    if (p_ident(p, &n)) return MM_ESQL;
    char **nc = mm_realloc(x->cols, sizeof(char *) * (size_t)(x->ncols + 1));
    uint32_t *np = nc ? mm_realloc(x->prefix, sizeof(uint32_t) * (size_t)(x->ncols + 1)) : NULL;
    if (nc) x->cols = nc;
    if (np) x->prefix = np;
    if (!nc || !np) { mm_free(n); return p_oom(p); }
    x->cols[x->ncols] = n;
    x->prefix[x->ncols] = 0;
    x->ncols++;
    if (p_accept_op(p, "(")) {
      uint64_t v;
      if (p_uint(p, &v) || p_expect_op(p, ")")) return MM_ESQL;
      if (v == 0 || v > 0xffffff) return p_syntax_at(p, &p->t);
      x->prefix[x->ncols - 1] = (uint32_t)v;
    }
    if (!p_accept(p, "ASC")) p_accept(p, "DESC");
    if (p_accept_op(p, ",")) continue;
    break;
  }
  return p_expect_op(p, ")");
}

/* Index options after the key parts. */
static int p_index_options(ps *p, widx *x) {
  for (;;) {
    if (p_accept(p, "USING")) { p_next(p); continue; }
    if (p_accept(p, "COMMENT")) {
      char *s;
      if (p_string(p, &s)) return MM_ESQL;
      mm_free(x->comment);
      x->comment = s;
      continue;
    }
    if (p_accept(p, "KEY_BLOCK_SIZE")) {
      p_accept_op(p, "=");
      p_next(p);
      continue;
    }
    if (p_accept(p, "VISIBLE") || p_accept(p, "INVISIBLE")) continue;
    return MM_OK;
  }
}

/* A table constraint / index definition, the leading keyword not consumed.
 * Returns 1 in *ignored for FOREIGN KEY (parsed and dropped). */
static int p_index_def(ps *p, wtab *w, int *handled) {
  *handled = 1;
  char *cname = NULL;
  int rc = MM_OK;
  widx *x = NULL;
  if (p_accept(p, "CONSTRAINT")) {
    if (!p_is(p, "PRIMARY") && !p_is(p, "UNIQUE") && !p_is(p, "FOREIGN") && !p_is(p, "CHECK"))
      if (p_ident(p, &cname)) return MM_ESQL;
  }
  if (p_accept(p, "PRIMARY")) {
    if ((rc = p_expect(p, "KEY"))) goto out;
    if (wtab_find_pk(w) >= 0) { rc = err_set(p, 1068, "42000", "Multiple primary key defined"); goto out; }
    if (!(x = wtab_add_idx(w))) { rc = p_oom(p); goto out; }
    x->primary = x->unique = 1;
    if (!(x->name = mm_strdup("PRIMARY"))) { rc = p_oom(p); goto out; }
    if (p_accept(p, "USING")) p_next(p);
    if ((rc = p_key_parts(p, x)) || (rc = p_index_options(p, x))) goto out;
  } else if (p_is(p, "UNIQUE") || p_is(p, "KEY") || p_is(p, "INDEX")) {
    int uniq = p_accept(p, "UNIQUE");
    if (!p_accept(p, "KEY")) p_accept(p, "INDEX");
    if (!(x = wtab_add_idx(w))) { rc = p_oom(p); goto out; }
    x->unique = uniq;
    lex_token t;
    p_peek(p, &t);
    if (lex_is_name(&t) && !lex_is(&t, "USING")) {
      if ((rc = p_ident(p, &x->name))) goto out;
    } else if (uniq && cname) {
      x->name = cname;
      cname = NULL;
    }
    if (p_accept(p, "USING")) p_next(p);
    if ((rc = p_key_parts(p, x)) || (rc = p_index_options(p, x))) goto out;
  } else if (p_is(p, "FULLTEXT") || p_is(p, "SPATIAL")) {
    rc = err_set(p, 1235, "42000", "This version of MySQL doesn't yet support '%s indexes'",
                 p_is(p, "FULLTEXT") ? "FULLTEXT" : "SPATIAL");
  } else if (p_accept(p, "FOREIGN")) {
    if ((rc = p_expect(p, "KEY"))) goto out;
    widx fk = {0};
    lex_token t;
    p_peek(p, &t);
    if (lex_is_name(&t)) { char *n; if ((rc = p_ident(p, &n))) goto out; mm_free(n); }
    rc = p_key_parts(p, &fk);
    widx_clear(&fk);
    if (rc) goto out;
    if ((rc = p_expect(p, "REFERENCES"))) goto out;
    char *d, *n;
    if ((rc = p_qname(p, &d, &n))) goto out;
    mm_free(d);
    mm_free(n);
    if ((rc = p_skip_parens(p))) goto out;
    for (;;) {
      if (p_accept(p, "MATCH")) { p_next(p); continue; }
      if (p_accept(p, "ON")) {
        p_next(p); /* DELETE | UPDATE */
        if (p_accept(p, "SET")) p_next(p);        /* NULL | DEFAULT */
        else if (p_accept(p, "NO")) p_next(p);    /* ACTION */
        else p_next(p);                           /* RESTRICT | CASCADE */
        continue;
      }
      break;
    }
    warn(p, 1235, "Foreign keys are parsed but not enforced");
  } else if (p_accept(p, "CHECK")) {
    rc = p_skip_parens(p); /* MySQL 5.7 parses and ignores CHECK */
  } else {
    *handled = 0;
    if (cname) rc = p_syntax(p);
  }
out:
  mm_free(cname);
  return rc;
}

/* Table options.  alter: stop at ',' handled by caller (options may be
 * comma-separated in CREATE too). */
static int p_table_options(ps *p, wtab *w) {
  for (;;) {
    p_accept_op(p, ",");
    int dflt = p_accept(p, "DEFAULT");
    if (p_accept(p, "ENGINE") || p_accept(p, "TYPE")) {
      p_accept_op(p, "=");
      char *e;
      lex_token t;
      p_peek(p, &t);
      if (t.type == TK_STRING ? p_string(p, &e) : p_ident(p, &e)) return MM_ESQL;
      if (strcasecmp(e, "InnoDB") != 0)
        warn(p, 1266, "Using storage engine InnoDB for table");
      mm_free(e);
    } else if (p_is(p, "CHARSET") || p_is(p, "CHARACTER")) {
      if (p_accept(p, "CHARACTER") && p_expect(p, "SET")) return MM_ESQL;
      p_accept(p, "CHARSET");
      p_accept_op(p, "=");
      char *cs;
      if (p_charset_name(p, &cs)) return MM_ESQL;
      mm_free(w->charset);
      w->charset = cs;
      w->has_charset = 1;
    } else if (p_accept(p, "COLLATE")) {
      p_accept_op(p, "=");
      char *co;
      if (p_collation_name(p, &co)) return MM_ESQL;
      mm_free(w->collation);
      w->collation = co;
      w->has_collation = 1;
    } else if (dflt) {
      return p_syntax(p);
    } else if (p_accept(p, "COMMENT")) {
      p_accept_op(p, "=");
      char *s;
      if (p_string(p, &s)) return MM_ESQL;
      mm_free(w->comment);
      w->comment = s;
    } else if (p_accept(p, "AUTO_INCREMENT")) {
      p_accept_op(p, "=");
      if (p_uint(p, &w->auto_increment)) return MM_ESQL;
      w->has_auto_increment = 1;
    } else if (p_accept(p, "ROW_FORMAT") || p_accept(p, "KEY_BLOCK_SIZE") ||
               p_accept(p, "AVG_ROW_LENGTH") || p_accept(p, "MAX_ROWS") || p_accept(p, "MIN_ROWS") ||
               p_accept(p, "PACK_KEYS") || p_accept(p, "CHECKSUM") || p_accept(p, "DELAY_KEY_WRITE") ||
               p_accept(p, "STATS_PERSISTENT") || p_accept(p, "STATS_AUTO_RECALC") ||
               p_accept(p, "STATS_SAMPLE_PAGES") || p_accept(p, "INSERT_METHOD") ||
               p_accept(p, "TABLESPACE") || p_accept(p, "COMPRESSION") || p_accept(p, "ENCRYPTION") ||
               p_accept(p, "PAGE_CHECKSUM") || p_accept(p, "TRANSACTIONAL") ||
               p_accept(p, "PASSWORD") || p_accept(p, "CONNECTION")) {
      p_accept_op(p, "=");
      p_next(p);
    } else if (p_is(p, "DATA") || p_is(p, "INDEX")) {
      lex save = p->l;
      p_next(p);
      if (!p_accept(p, "DIRECTORY")) { p->l = save; return MM_OK; }
      p_accept_op(p, "=");
      p_next(p);
    } else if (p_accept(p, "UNION")) {
      p_accept_op(p, "=");
      if (p_skip_parens(p)) return MM_ESQL;
    } else if (p_accept(p, "PARTITION")) {
      /* partitioning is ignored: rows are stored the same way */
      warn(p, 1235, "Partitioning is ignored");
      int depth = 0;
      lex_token t;
      for (;;) {
        int ty = p_peek(p, &t);
        if (ty == TK_EOF || ty == TK_ERROR || (depth == 0 && lex_is_op(&t, ";"))) break;
        p_next(p);
        if (lex_is_op(&t, "(")) depth++;
        else if (lex_is_op(&t, ")")) depth--;
      }
    } else {
      return MM_OK;
    }
  }
}

/* ---- building a definition ------------------------------------------- */

static int key_sort_class(const tbl_def *d, const tbl_index *x, int *nullpart, int *partseg) {
  *nullpart = *partseg = 0;
  for (int k = 0; k < x->ncols; k++) {
    if (!d->cols[x->cols[k]].not_null) *nullpart = 1;
    if (x->prefix[k]) *partseg = 1;
  }
  return 0;
}

/* MySQL's sort_keys (sql_table.cc) with creation order as the tie break. */
static int index_before(const tbl_def *d, const tbl_index *a, int ao, const tbl_index *b, int bo) {
  int an, ap, bn, bp;
  key_sort_class(d, a, &an, &ap);
  key_sort_class(d, b, &bn, &bp);
  if (a->unique != b->unique) return a->unique;
  if (a->unique) {
    if (an != bn) return !an;
    if (a->primary != b->primary) return a->primary;
    if (ap != bp) return !ap;
  }
  return ao < bo;
}

/* Resolve a collation name against a charset: "#bin" = the charset's _bin. */
static const char *resolve_bin(const char *cs, char *buf, size_t n) {
  if (strcmp(cs, "binary") == 0) return "binary";
  snprintf(buf, n, "%s_bin", cs);
  return buf;
}

/* Validate the work table and produce a definition.  New ids are drawn from
 * e for indexes whose id is 0, and for the table when *table_id is 0. */
static int build_def(ps *p, wtab *w, const char *db, const char *name, uint32_t table_id,
                     uint32_t hidden_id, tbl_cat_edit *e, tbl_def **out) {
  *out = NULL;
  int rc = MM_OK;
  tbl_def *d = mm_calloc(1, sizeof *d);
  if (!d) return p_oom(p);
  if (w->ncols == 0) { rc = err_set(p, 1113, "42000", "A table must have at least 1 column"); goto err; }
  d->db = mm_strdup(db);
  d->name = mm_strdup(name);
  d->engine = mm_strdup("InnoDB");
  /* table charset / collation */
  const tbl_collation *tc = NULL;
  if (w->collation && strcmp(w->collation, "#bin") != 0) tc = tbl_collation_find(w->collation);
  if (w->charset && strcasecmp(w->charset, "default") != 0) {
    const tbl_collation *cd = tbl_charset_default(w->charset);
    if (tc && strcmp(tc->charset, cd->charset) != 0) {
      rc = err_set(p, 1253, "42000", "COLLATION '%s' is not valid for CHARACTER SET '%s'", tc->name, cd->charset);
      goto err;
    }
    if (!tc) tc = cd;
  }
  if (!tc) tc = tbl_collation_find("utf8mb4_general_ci");
  d->charset = mm_strdup(tc->charset);
  d->collation = mm_strdup(tc->name);
  if (w->comment && *w->comment) d->comment = mm_strdup(w->comment);
  if (!d->db || !d->name || !d->engine || !d->charset || !d->collation || (w->comment && *w->comment && !d->comment)) {
    rc = p_oom(p);
    goto err;
  }
  /* columns */
  d->cols = mm_calloc((size_t)w->ncols, sizeof(tbl_column));
  if (!d->cols) { rc = p_oom(p); goto err; }
  d->autoinc_col = -1;
  for (int i = 0; i < w->ncols; i++) {
    tbl_column *c = &w->cols[i].c;
    for (int j = 0; j < i; j++)
      if (strcasecmp(w->cols[j].c.name, c->name) == 0) {
        rc = err_set(p, 1060, "42S21", "Duplicate column name '%s'", c->name);
        goto err;
      }
    if (!*c->name || c->name[strlen(c->name) - 1] == ' ') {
      rc = err_set(p, 1166, "42000", "Incorrect column name '%s'", c->name);
      goto err;
    }
    if (tbl_type_is_string(c->type)) {
      /* effective charset / collation */
      const char *cs = c->charset ? c->charset : NULL;
      const tbl_collation *co = NULL;
      char buf[80];
      if (c->collation) {
        const char *cn = c->collation;
        if (strcmp(cn, "#bin") == 0) cn = resolve_bin(cs ? cs : d->charset, buf, sizeof buf);
        co = tbl_collation_find(cn);
        if (!co) { rc = err_set(p, 1273, "HY000", "Unknown collation: '%s'", cn); goto err; }
        if (cs && strcasecmp(co->charset, cs) != 0) {
          rc = err_set(p, 1253, "42000", "COLLATION '%s' is not valid for CHARACTER SET '%s'", co->name, cs);
          goto err;
        }
      } else if (cs) {
        co = tbl_charset_default(cs);
      }
      if (co && strcmp(co->charset, "binary") == 0) { /* CHAR(n) CHARACTER SET binary */
        c->type = c->type == TBL_CHAR ? TBL_BINARY : c->type == TBL_VARCHAR ? TBL_VARBINARY :
                  c->type == TBL_TINYTEXT ? TBL_TINYBLOB : c->type == TBL_TEXT ? TBL_BLOB :
                  c->type == TBL_MEDIUMTEXT ? TBL_MEDIUMBLOB : c->type == TBL_LONGTEXT ? TBL_LONGBLOB : c->type;
        co = NULL;
      }
      mm_free(c->charset);
      mm_free(c->collation);
      c->charset = c->collation = NULL;
      if (co && strcasecmp(co->name, d->collation) != 0) {
        c->charset = mm_strdup(co->charset);
        c->collation = mm_strdup(co->name);
        if (!c->charset || !c->collation) { rc = p_oom(p); goto err; }
      }
      const char *eff = c->collation ? c->collation : d->collation;
      size_t el = strlen(eff);
      c->binary_collation = el >= 4 && strcmp(eff + el - 4, "_bin") == 0;
      if (c->type == TBL_VARCHAR) {
        const tbl_collation *ec = tbl_collation_find(eff);
        uint32_t maxc = 65535 / (uint32_t)(ec ? ec->maxlen : 4);
        if (c->length > maxc) {
          rc = err_set(p, 1074, "42000", "Column length too big for column '%s' (max = %u); use BLOB or TEXT instead", c->name, maxc);
          goto err;
        }
      }
    } else {
      mm_free(c->charset);
      mm_free(c->collation);
      c->charset = c->collation = NULL;
    }
    if (is_binary_type(c->type)) c->binary_collation = 1;
    if (c->auto_increment) {
      if (d->autoinc_col >= 0) {
        rc = err_set(p, 1075, "42000", "Incorrect table definition; there can be only one auto column and it must be defined as a key");
        goto err;
      }
      d->autoinc_col = i;
    }
    if (tbl_column_copy(&d->cols[i], c)) { rc = p_oom(p); goto err; }
    d->ncols = i + 1;
  }
  /* indexes */
  d->indexes = mm_calloc((size_t)w->nidx + 1, sizeof(tbl_index));
  int *order = mm_calloc((size_t)w->nidx + 1, sizeof(int));
  if (!d->indexes || !order) { mm_free(order); rc = p_oom(p); goto err; }
  for (int i = 0; i < w->nidx; i++) {
    widx *x = &w->idx[i];
    tbl_index *y = &d->indexes[d->nindexes];
    y->cols = mm_calloc((size_t)x->ncols + 1, sizeof(int));
    y->prefix = mm_calloc((size_t)x->ncols + 1, sizeof(uint32_t));
    if (!y->cols || !y->prefix) { mm_free(y->cols); mm_free(y->prefix); y->cols = NULL; mm_free(order); rc = p_oom(p); goto err; }
    d->nindexes++;
    y->primary = x->primary;
    y->unique = x->unique;
    y->ncols = x->ncols;
    y->id = x->id;
    if (x->comment && *x->comment && !(y->comment = mm_strdup(x->comment))) { mm_free(order); rc = p_oom(p); goto err; }
    for (int k = 0; k < x->ncols; k++) {
      int pos = tbl_column_index(d, x->cols[k]);
      if (pos < 0) {
        mm_free(order);
        rc = err_set(p, 1072, "42000", "Key column '%s' doesn't exist in table", x->cols[k]);
        goto err;
      }
      for (int j = 0; j < k; j++)
        if (y->cols[j] == pos) {
          mm_free(order);
          rc = err_set(p, 1060, "42S21", "Duplicate column name '%s'", d->cols[pos].name);
          goto err;
        }
      tbl_column *c = &d->cols[pos];
      uint32_t pre = x->prefix[k];
      int stringish = tbl_type_is_string(c->type) || is_binary_type(c->type);
      if (pre) {
        uint32_t maxl = (c->type == TBL_CHAR || c->type == TBL_VARCHAR || c->type == TBL_BINARY || c->type == TBL_VARBINARY) ? c->length : 0xffffffffu;
        if (!stringish || c->type == TBL_ENUM || c->type == TBL_SET || pre > maxl || (x->primary && 0)) {
          mm_free(order);
          rc = err_set(p, 1089, "HY000", "Incorrect prefix key; the used key part isn't a string, the used length is longer than the key part, or the storage engine doesn't support unique prefix keys");
          goto err;
        }
        if (pre == maxl && maxl != 0xffffffffu) pre = 0; /* whole column */
      } else if (is_text_blob(c->type) || c->type == TBL_JSON) {
        mm_free(order);
        if (c->type == TBL_JSON)
          rc = err_set(p, 3152, "42000", "JSON column '%s' supports indexing only via generated columns on a specified JSON path.", c->name);
        else
          rc = err_set(p, 1170, "42000", "BLOB/TEXT column '%s' used in key specification without a key length", c->name);
        goto err;
      }
      y->cols[k] = pos;
      y->prefix[k] = pre;
      if (x->primary) {
        if (w->cols[pos].explicit_null && !c->not_null) {
          mm_free(order);
          rc = err_set(p, 1171, "42000", "All parts of a PRIMARY KEY must be NOT NULL; if you need NULL in a key, use UNIQUE instead");
          goto err;
        }
        c->not_null = 1;
        if (c->has_default && !c->default_value) { c->has_default = 0; }
      }
    }
    /* names */
    if (x->primary) {
      y->name = mm_strdup("PRIMARY");
    } else if (x->name) {
      if (strcasecmp(x->name, "PRIMARY") == 0) {
        mm_free(order);
        rc = err_set(p, 1280, "42000", "Incorrect index name '%s'", x->name);
        goto err;
      }
      y->name = mm_strdup(x->name);
    }
    order[d->nindexes - 1] = x->order;
    if (x->name || x->primary) {
      if (!y->name) { mm_free(order); rc = p_oom(p); goto err; }
      for (int j = 0; j < d->nindexes - 1; j++)
        if (d->indexes[j].name && strcasecmp(d->indexes[j].name, y->name) == 0) {
          mm_free(order);
          if (x->primary) rc = err_set(p, 1068, "42000", "Multiple primary key defined");
          else rc = err_set(p, 1061, "42000", "Duplicate key name '%s'", y->name);
          goto err;
        }
    }
  }
  /* generated names: first column name, then _2, _3 ... */
  for (int i = 0; i < d->nindexes; i++) {
    tbl_index *y = &d->indexes[i];
    if (y->name) continue;
    const char *base = d->cols[y->cols[0]].name;
    for (int n = 1; n < 100 && !y->name; n++) {
      char *cand = n == 1 ? mm_strdup(base) : mm_sprintf("%s_%d", base, n);
      if (!cand) { mm_free(order); rc = p_oom(p); goto err; }
      int taken = strcasecmp(cand, "PRIMARY") == 0;
      for (int j = 0; j < d->nindexes && !taken; j++)
        if (j != i && d->indexes[j].name && strcasecmp(d->indexes[j].name, cand) == 0) taken = 1;
      if (taken) mm_free(cand);
      else y->name = cand;
    }
    if (!y->name) { mm_free(order); rc = err_set(p, 1061, "42000", "Duplicate key name '%s'", base); goto err; }
  }
  /* sort (insertion sort: few keys) */
  for (int i = 1; i < d->nindexes; i++) {
    tbl_index t = d->indexes[i];
    int to = order[i], j = i;
    while (j > 0 && index_before(d, &t, to, &d->indexes[j - 1], order[j - 1])) {
      d->indexes[j] = d->indexes[j - 1];
      order[j] = order[j - 1];
      j--;
    }
    d->indexes[j] = t;
    order[j] = to;
  }
  mm_free(order);
  if (d->nindexes > 64) { rc = err_set(p, 1069, "42000", "Too many keys specified; max 64 keys allowed"); goto err; }
  d->has_pk = d->nindexes > 0 && d->indexes[0].primary;
  /* AUTO_INCREMENT must lead some key */
  if (d->autoinc_col >= 0) {
    int ok = 0;
    for (int i = 0; i < d->nindexes; i++)
      if (d->indexes[i].cols[0] == d->autoinc_col) ok = 1;
    if (!ok) {
      rc = err_set(p, 1075, "42000", "Incorrect table definition; there can be only one auto column and it must be defined as a key");
      goto err;
    }
  }
  /* ids */
  d->id = table_id ? table_id : tbl_cat_edit_new_table_id(e);
  for (int i = 0; i < d->nindexes; i++)
    if (!d->indexes[i].id) d->indexes[i].id = tbl_cat_edit_new_index_id(e);
  if (!d->has_pk) d->hidden_index_id = hidden_id ? hidden_id : tbl_cat_edit_new_index_id(e);
  d->create_time = (int64_t)time(NULL);
  *out = d;
  return MM_OK;
err:
  tbl_def_free(d);
  return rc ? rc : MM_ESQL;
}

/* Add a column's inline PRIMARY KEY / UNIQUE as indexes. */
static int add_inline_keys(ps *p, wtab *w, wcol *c) {
  if (c->inline_pk) {
    if (wtab_find_pk(w) >= 0) return err_set(p, 1068, "42000", "Multiple primary key defined");
    widx *x = wtab_add_idx(w);
    if (!x) return p_oom(p);
    x->primary = x->unique = 1;
    x->name = mm_strdup("PRIMARY");
    x->cols = mm_calloc(1, sizeof(char *));
    x->prefix = mm_calloc(1, sizeof(uint32_t));
    if (!x->name || !x->cols || !x->prefix || !(x->cols[0] = mm_strdup(c->c.name))) return p_oom(p);
    x->ncols = 1;
    c->inline_pk = 0;
  }
  if (c->inline_unique || c->serial) {
    widx *x = wtab_add_idx(w);
    if (!x) return p_oom(p);
    x->unique = 1;
    x->cols = mm_calloc(1, sizeof(char *));
    x->prefix = mm_calloc(1, sizeof(uint32_t));
    if (!x->cols || !x->prefix || !(x->cols[0] = mm_strdup(c->c.name))) return p_oom(p);
    x->ncols = 1;
    c->inline_unique = 0;
    c->serial = 0;
  }
  return MM_OK;
}

/* ---- shared helpers -------------------------------------------------- */

static int err_no_table(ps *p, const char *db, const char *name) {
  return err_set(p, 1146, "42S02", "Table '%s.%s' doesn't exist", db, name);
}
static int err_no_db(ps *p, const char *db) {
  return err_set(p, 1049, "42000", "Unknown database '%s'", db);
}
static int check_table_name(ps *p, const char *name) {
  size_t n = strlen(name);
  if (n == 0 || name[n - 1] == ' ' || tbl_is_hidden_name(name) || strchr(name, '/') || strchr(name, '\\'))
    return err_set(p, 1103, "42000", "Incorrect table name '%s'", name);
  return MM_OK;
}
static int check_db_name(ps *p, const char *name) {
  size_t n = strlen(name);
  if (n == 0 || name[n - 1] == ' ' || strchr(name, '/') || strchr(name, '\\') || strchr(name, '.'))
    return err_set(p, 1102, "42000", "Incorrect database name '%s'", name);
  return MM_OK;
}
static int is_system_db(const char *db) {
  return strcasecmp(db, "information_schema") == 0 || strcasecmp(db, "performance_schema") == 0;
}

static int commit_edit(ps *p, tbl_cat_edit *e, txn *t) {
  mm_error err2;
  mm_error_clear(&err2);
  int rc = tbl_cat_edit_commit(e, t, &err2);
  if (rc) {
    p->failed = 1;
    if (err2.code) *p->err = err2;
    else if (rc == MM_ENOMEM) p_oom(p);
    else mm_error_set(p->err, 1030, "HY000", "Got error %d from storage engine", rc);
    return MM_ESQL;
  }
  return MM_OK;
}

/* Store a table's AUTO_INCREMENT counter (0x03 + u32be id -> u64be). */
static int edit_set_autoinc(tbl_cat_edit *e, uint32_t table_id, uint64_t next) {
  unsigned char k[5], v[8];
  k[0] = STORE_PFX_AUTOINC;
  mm_put_u32be(k + 1, table_id);
  mm_put_u64be(v, next);
  return tbl_cat_edit_put_raw(e, k, 5, v, 8);
}

/* ---- CREATE / DROP / ALTER DATABASE --------------------------------- */


/* [DEFAULT] CHARACTER SET|CHARSET [=] cs and [DEFAULT] COLLATE [=] co, in any
 * order and number (CREATE/ALTER DATABASE).  *cs and *co are replaced by the
 * last value given (the caller frees them). */
static int p_db_options(ps *p, char **cs, char **co) {
  int rc;
  for (;;) {
    int dflt = p_accept(p, "DEFAULT");
    if (p_is(p, "CHARACTER") || p_is(p, "CHARSET")) {
      if (p_accept(p, "CHARACTER") && (rc = p_expect(p, "SET"))) return rc;
      p_accept(p, "CHARSET");
      p_accept_op(p, "=");
      mm_free(*cs);
      *cs = NULL;
      if ((rc = p_charset_name(p, cs))) return rc;
    } else if (p_accept(p, "COLLATE")) {
      p_accept_op(p, "=");
      mm_free(*co);
      *co = NULL;
      if ((rc = p_collation_name(p, co))) return rc;
    } else if (dflt) {
      return p_syntax(p);
    } else {
      return MM_OK;
    }
  }
}

static int do_create_db(ps *p) {
  int ifne = 0, rc;
  char *name = NULL, *cs = NULL, *co = NULL;
  if (p_accept(p, "IF")) {
    if (p_expect(p, "NOT") || p_expect(p, "EXISTS")) return MM_ESQL;
    ifne = 1;
  }
  if ((rc = p_ident(p, &name))) return rc;
  if ((rc = p_db_options(p, &cs, &co))) goto out;
  if ((rc = p_expect_end(p)) || (rc = check_db_name(p, name))) goto out;
  const tbl_collation *c = co ? tbl_collation_find(co) : NULL;
  if (cs && strcasecmp(cs, "default") != 0) {
    const tbl_collation *d = tbl_charset_default(cs);
    if (c && strcmp(c->charset, d->charset) != 0) {
      rc = err_set(p, 1253, "42000", "COLLATION '%s' is not valid for CHARACTER SET '%s'", c->name, d->charset);
      goto out;
    }
    if (!c) c = d;
  }
  if (!c) c = tbl_collation_find("utf8mb4_general_ci");
  tbl_cat_edit *e = NULL;
  if (tbl_db_exists(p->tc->cat, name)) {
    if (ifne) { warn(p, 1007, "Can't create database '%s'; database exists", name); goto out; }
    rc = err_set(p, 1007, "HY000", "Can't create database '%s'; database exists", name);
    goto out;
  }
  if (!(e = tbl_cat_edit_new(p->tc->cat))) { rc = p_oom(p); goto out; }
  if (tbl_cat_edit_put_db(e, name, c->charset, c->name)) { tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
  rc = commit_edit(p, e, NULL);
out:
  mm_free(name);
  mm_free(cs);
  mm_free(co);
  return rc;
}

static int do_alter_db(ps *p) {
  char *name = NULL, *cs = NULL, *co = NULL;
  int rc = MM_OK;
  lex_token t;
  p_peek(p, &t);
  if (lex_is_name(&t) && !lex_is(&t, "DEFAULT") && !lex_is(&t, "CHARACTER") && !lex_is(&t, "CHARSET") &&
      !lex_is(&t, "COLLATE")) {
    if ((rc = p_ident(p, &name))) return rc;
  } else if (p->curdb) {
    name = mm_strdup(p->curdb);
    if (!name) return p_oom(p);
  } else {
    return err_set(p, 1046, "3D000", "No database selected");
  }
  if ((rc = p_db_options(p, &cs, &co))) goto out;
  if ((rc = p_expect_end(p))) goto out;
  char *ocs, *oco;
  if (tbl_db_info(p->tc->cat, name, &ocs, &oco)) { rc = err_no_db(p, name); goto out; }
  const tbl_collation *c = co ? tbl_collation_find(co) : NULL;
  if (cs && strcasecmp(cs, "default") != 0) {
    const tbl_collation *d = tbl_charset_default(cs);
    if (!c || strcmp(c->charset, d->charset) != 0) c = d;
  }
  if (!c) c = tbl_collation_find(oco);
  mm_free(ocs);
  mm_free(oco);
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e || tbl_cat_edit_put_db(e, name, c->charset, c->name)) { tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
  rc = commit_edit(p, e, NULL);
out:
  mm_free(name);
  mm_free(cs);
  mm_free(co);
  return rc;
}

static int do_drop_db(ps *p) {
  int ife = 0, rc;
  char *name = NULL;
  if (p_accept(p, "IF")) {
    if (p_expect(p, "EXISTS")) return MM_ESQL;
    ife = 1;
  }
  if ((rc = p_ident(p, &name))) return rc;
  if ((rc = p_expect_end(p))) goto out;
  if (is_system_db(name)) {
    rc = err_set(p, 1044, "42000", "Access denied for user 'root'@'%%' to database '%s'", name);
    goto out;
  }
  if (!tbl_db_exists(p->tc->cat, name)) {
    if (ife) { warn(p, 1008, "Can't drop database '%s'; database doesn't exist", name); goto out; }
    rc = err_set(p, 1008, "HY000", "Can't drop database '%s'; database doesn't exist", name);
    goto out;
  }
  tbl_def **defs;
  int n;
  if (tbl_list_defs(p->tc->cat, name, 1, &defs, &n)) { rc = p_oom(p); goto out; }
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) rc = p_oom(p);
  for (int i = 0; i < n; i++) {
    if (!rc && tbl_cat_edit_drop_table(e, defs[i]->db, defs[i]->name, 1)) rc = p_oom(p);
    tbl_def_release(p->tc->cat, defs[i]);
  }
  mm_free(defs);
  if (!rc && tbl_cat_edit_drop_db(e, name)) rc = p_oom(p);
  if (rc) tbl_cat_edit_abort(e);
  else rc = commit_edit(p, e, NULL);
out:
  mm_free(name);
  return rc;
}

/* ---- CREATE TABLE ----------------------------------------------------- */

static int create_like(ps *p, const char *db, const char *name, int ifne) {
  char *sdb = NULL, *sname = NULL;
  int rc, paren = p_accept_op(p, "(");
  if ((rc = p_qname(p, &sdb, &sname))) return rc;
  if (paren && (rc = p_expect_op(p, ")"))) goto out;
  if ((rc = p_expect_end(p))) goto out;
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) { rc = p_oom(p); goto out; }
  const tbl_def *src = tbl_cat_edit_get(e, sdb, sname);
  if (!src) { tbl_cat_edit_abort(e); rc = err_no_table(p, sdb, sname); goto out; }
  if (tbl_cat_edit_get(e, db, name)) {
    tbl_cat_edit_abort(e);
    if (ifne) { warn(p, 1050, "Table '%s' already exists", name); goto out; }
    rc = err_set(p, 1050, "42S01", "Table '%s' already exists", name);
    goto out;
  }
  tbl_def *d = tbl_def_clone(src);
  char *n1 = mm_strdup(db), *n2 = mm_strdup(name);
  if (!d || !n1 || !n2) { tbl_def_free(d); mm_free(n1); mm_free(n2); tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
  mm_free(d->db);
  mm_free(d->name);
  d->db = n1;
  d->name = n2;
  d->id = tbl_cat_edit_new_table_id(e);
  for (int i = 0; i < d->nindexes; i++) d->indexes[i].id = tbl_cat_edit_new_index_id(e);
  if (!d->has_pk) d->hidden_index_id = tbl_cat_edit_new_index_id(e);
  d->create_time = (int64_t)time(NULL);
  if (tbl_cat_edit_put_table(e, d)) { tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
  rc = commit_edit(p, e, NULL);
out:
  mm_free(sdb);
  mm_free(sname);
  return rc;
}

static int create_select(ps *p, const char *db, const char *name, wtab *w, int ifne, const char *sel);

static int do_create_table(ps *p) {
  int ifne = 0, rc;
  char *db = NULL, *name = NULL;
  wtab w;
  memset(&w, 0, sizeof w);
  if (p_accept(p, "IF")) {
    if (p_expect(p, "NOT") || p_expect(p, "EXISTS")) return MM_ESQL;
    ifne = 1;
  }
  if ((rc = p_qname(p, &db, &name))) return rc;
  if ((rc = check_table_name(p, name))) goto out;
  if (!tbl_db_exists(p->tc->cat, db)) { rc = err_no_db(p, db); goto out; }
  if (is_system_db(db)) {
    rc = err_set(p, 1044, "42000", "Access denied for user 'root'@'%%' to database '%s'", db);
    goto out;
  }
  if (p_accept(p, "LIKE")) { rc = create_like(p, db, name, ifne); goto out; }
  if (p_is_op(p, "(")) {
    lex save = p->l;
    p_next(p);
    if (p_accept(p, "LIKE")) {
      rc = create_like(p, db, name, ifne);
      goto out;
    }
    if (p_is(p, "SELECT")) { p->l = save; goto select; }
    for (;;) {
      int handled;
      if ((rc = p_index_def(p, &w, &handled))) goto out;
      if (!handled) {
        wcol *c = wtab_insert_col(&w, -1);
        if (!c) { rc = p_oom(p); goto out; }
        if ((rc = p_coldef(p, c)) || (rc = add_inline_keys(p, &w, c))) goto out;
      }
      if (p_accept_op(p, ",")) continue;
      break;
    }
    if ((rc = p_expect_op(p, ")"))) goto out;
  }
  if ((rc = p_table_options(p, &w))) goto out;
  if (!p_accept(p, "IGNORE")) p_accept(p, "REPLACE");
  p_accept(p, "AS");
select:
  if (!p_at_end(p)) {
    lex_token t;
    p_peek(p, &t);
    if (!lex_is(&t, "SELECT") && !lex_is_op(&t, "(")) { rc = p_syntax(p); goto out; }
    rc = create_select(p, db, name, &w, ifne, t.p);
    goto out;
  }
  {
    tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
    if (!e) { rc = p_oom(p); goto out; }
    if (tbl_cat_edit_get(e, db, name)) {
      tbl_cat_edit_abort(e);
      if (ifne) { warn(p, 1050, "Table '%s' already exists", name); goto out; }
      rc = err_set(p, 1050, "42S01", "Table '%s' already exists", name);
      goto out;
    }
    if (!w.has_charset && !w.has_collation) {
      char *cs, *co;
      if (tbl_db_info(p->tc->cat, db, &cs, &co) == MM_OK) {
        w.charset = cs;
        w.collation = co;
      }
    } else if (w.has_charset && !w.has_collation) {
      mm_free(w.collation);
      w.collation = NULL;
    }
    tbl_def *d;
    if ((rc = build_def(p, &w, db, name, 0, 0, e, &d))) { tbl_cat_edit_abort(e); goto out; }
    if (w.has_auto_increment && w.auto_increment > 1 && edit_set_autoinc(e, d->id, w.auto_increment)) {
      tbl_def_free(d);
      tbl_cat_edit_abort(e);
      rc = p_oom(p);
      goto out;
    }
    if (tbl_cat_edit_put_table(e, d)) { tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
    rc = commit_edit(p, e, NULL);
  }
out:
  wtab_free(&w);
  mm_free(db);
  mm_free(name);
  return rc;
}

/* ---- DROP TABLE ---------------------------------------------------------- */

static int do_drop_table(ps *p) {
  int ife = 0, rc = MM_OK;
  if (p_accept(p, "IF")) {
    if (p_expect(p, "EXISTS")) return MM_ESQL;
    ife = 1;
  }
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) return p_oom(p);
  mm_buf missing;
  mm_buf_init(&missing);
  int ndropped = 0;
  for (;;) {
    char *db, *name;
    if ((rc = p_qname(p, &db, &name))) goto out;
    if (tbl_cat_edit_get(e, db, name)) {
      if (tbl_cat_edit_drop_table(e, db, name, 1)) rc = p_oom(p);
      ndropped++;
    } else if (ife) {
      warn(p, 1051, "Unknown table '%s.%s'", db, name);
    } else {
      if (missing.len) mm_buf_putc(&missing, ',');
      mm_buf_printf(&missing, "%s.%s", db, name);
    }
    mm_free(db);
    mm_free(name);
    if (rc) goto out;
    if (!p_accept_op(p, ",")) break;
  }
  if (!p_accept(p, "RESTRICT")) p_accept(p, "CASCADE");
  if ((rc = p_expect_end(p))) goto out;
  if (ndropped) {
    rc = commit_edit(p, e, NULL);
    e = NULL;
    if (rc) goto out;
  }
  if (missing.len) {
    mm_buf_putc(&missing, 0);
    rc = err_set(p, 1051, "42S02", "Unknown table '%s'", missing.oom ? "?" : missing.p);
  }
out:
  tbl_cat_edit_abort(e);
  mm_buf_free(&missing);
  return rc;
}

/* ---- row copy (ALTER, CREATE INDEX, ... SELECT) -------------------------- */

static void sql_ident(mm_buf *b, const char *db, const char *name) {
  mm_buf_putc(b, '"');
  for (const char *s = db; *s; s++) {
    if (*s == '"') mm_buf_putc(b, '"');
    mm_buf_putc(b, *s);
  }
  mm_buf_putc(b, '.');
  for (const char *s = name; *s; s++) {
    if (*s == '"') mm_buf_putc(b, '"');
    mm_buf_putc(b, *s);
  }
  mm_buf_putc(b, '"');
}
static void sql_col(mm_buf *b, const char *name) {
  mm_buf_putc(b, '"');
  for (const char *s = name; *s; s++) {
    if (*s == '"') mm_buf_putc(b, '"');
    mm_buf_putc(b, *s);
  }
  mm_buf_putc(b, '"');
}

/* The value MySQL gives a new NOT NULL column without DEFAULT in existing rows. */
static const char *implicit_default(const tbl_column *c) {
  switch (c->type) {
  case TBL_DATE: return "'0000-00-00'";
  case TBL_TIME: return "'00:00:00'";
  case TBL_DATETIME: case TBL_TIMESTAMP: return "'0000-00-00 00:00:00'";
  case TBL_YEAR: return "'0000'";
  case TBL_CHAR: case TBL_VARCHAR: case TBL_BINARY: case TBL_VARBINARY: case TBL_SET:
  case TBL_TINYTEXT: case TBL_TEXT: case TBL_MEDIUMTEXT: case TBL_LONGTEXT:
  case TBL_TINYBLOB: case TBL_BLOB: case TBL_MEDIUMBLOB: case TBL_LONGBLOB:
    return "''";
  case TBL_JSON: return "'null'";
  case TBL_ENUM: return NULL; /* first member, quoted by the caller */
  default: return "0";
  }
}

/* Error of a failed SQLite statement: the vtab's MySQL error if it set one. */
static int sqlite_failed(ps *p, const char *what) {
  const mm_error *ve = tbl_conn_error(p->tc);
  p->failed = 1;
  if (ve && ve->code) *p->err = *ve;
  else mm_error_set(p->err, 1105, "HY000", "%s: %s", what, sqlite3_errmsg(p->tc->db));
  return MM_ESQL;
}

/* Drop a published (temporary) table and its data. */
static void drop_quietly(ps *p, const char *db, const char *name) {
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) return;
  if (tbl_cat_edit_drop_table(e, db, name, 1)) { tbl_cat_edit_abort(e); return; }
  mm_error err2;
  mm_error_clear(&err2);
  tbl_cat_edit_commit(e, NULL, &err2);
}

static uint64_t txn_get_autoinc(txn *t, uint32_t id) {
  unsigned char k[5];
  k[0] = STORE_PFX_AUTOINC;
  mm_put_u32be(k + 1, id);
  char *v = NULL;
  size_t vn = 0;
  if (txn_get(t, k, 5, 1, &v, &vn) != MM_OK) return 0;
  uint64_t r = vn == 8 ? mm_get_u64be((const unsigned char *)v) : 0;
  mm_free(v);
  return r;
}

/* Rebuild old into the definition described by w, named newdb.newname:
 * publish it under a hidden name, copy rows through SQLite in a txn, then
 * swap names and drop the old data in the same txn's commit.
 * ai: AUTO_INCREMENT=N given (0 = not). */
static int rebuild(ps *p, const tbl_def *old, wtab *w, const char *newdb, const char *newname, uint64_t ai) {
  int rc;
  tbl_conn *tc = p->tc;
  for (int i = 0; i < w->nidx; i++) w->idx[i].id = 0;
  /* 1. the new table under a hidden name */
  tbl_cat_edit *e = tbl_cat_edit_new(tc->cat);
  if (!e) return p_oom(p);
  char tmpname[48];
  snprintf(tmpname, sizeof tmpname, "#mmsql-alter-%u", old->id);
  tbl_def *d;
  if ((rc = build_def(p, w, newdb, tmpname, 0, 0, e, &d))) { tbl_cat_edit_abort(e); return rc; }
  uint32_t new_id = d->id;
  d->create_time = old->create_time;
  /* the SELECT list, while w and d are at hand */
  mm_buf sql;
  mm_buf_init(&sql);
  mm_buf_puts(&sql, "INSERT INTO ");
  sql_ident(&sql, newdb, tmpname);
  mm_buf_puts(&sql, " (");
  mm_buf sel;
  mm_buf_init(&sel);
  int n = 0;
  for (int i = 0; i < w->ncols; i++) {
    const tbl_column *c = &d->cols[i];
    const char *lit = NULL;
    if (w->cols[i].orig < 0) {
      if (c->has_default || !c->not_null || c->auto_increment) continue; /* vtab fills it */
      lit = implicit_default(c);
    }
    if (n++) { mm_buf_putc(&sql, ','); mm_buf_putc(&sel, ','); }
    sql_col(&sql, c->name);
    if (w->cols[i].orig >= 0) sql_col(&sel, old->cols[w->cols[i].orig].name);
    else if (lit) mm_buf_puts(&sel, lit);
    else if (c->type == TBL_ENUM && c->n_enum) tbl_append_quoted(&sel, c->enum_vals[0]);
    else mm_buf_puts(&sel, "''");
  }
  mm_buf_puts(&sql, ") SELECT ");
  mm_buf_append(&sql, sel.p ? sel.p : "", sel.len);
  mm_buf_puts(&sql, " FROM ");
  sql_ident(&sql, old->db, old->name);
  mm_buf_putc(&sql, 0);
  mm_buf_free(&sel);
  if (sql.oom) { tbl_def_free(d); tbl_cat_edit_abort(e); mm_buf_free(&sql); return p_oom(p); }
  tbl_def *fin = tbl_def_clone(d);
  if (!fin || tbl_cat_edit_put_table(e, d)) { tbl_def_free(fin); tbl_cat_edit_abort(e); mm_buf_free(&sql); return p_oom(p); }
  if ((rc = commit_edit(p, e, NULL))) { tbl_def_free(fin); mm_buf_free(&sql); return rc; }

  /* 2. copy rows */
  txn *saved = tc->txn;
  unsigned saved_mode = tc->mode;
  txn *t = txn_begin(tc->st, TXN_REPEATABLE_READ);
  if (!t) { rc = p_oom(p); goto err_drop_tmp; }
  mm_error de;
  mm_error_clear(&de);
  if (n > 0) {
    if (tbl_conn_declare(tc, old->db, old->name, &de) || tbl_conn_declare(tc, newdb, tmpname, &de)) {
      *p->err = de;
      p->failed = 1;
      txn_rollback(t);
      rc = MM_ESQL;
      goto err_drop_tmp;
    }
    tbl_conn_set_txn(tc, t);
    tbl_conn_set_mode(tc, saved_mode & ~(unsigned)TBL_MODE_NO_ZERO_DATE);
    tbl_conn_stmt_begin(tc);
    int src = sqlite3_exec(tc->db, sql.p, NULL, NULL, NULL);
    tbl_conn_set_mode(tc, saved_mode);
    tbl_conn_set_txn(tc, saved);
    if (src != SQLITE_OK) {
      rc = sqlite_failed(p, "copying rows");
      txn_rollback(t);
      goto err_drop_tmp;
    }
  }
  /* 3. swap, in the same txn */
  e = tbl_cat_edit_new(tc->cat);
  if (!e) { txn_rollback(t); rc = p_oom(p); goto err_drop_tmp; }
  mm_free(fin->name);
  mm_free(fin->db);
  fin->name = mm_strdup(newname);
  fin->db = mm_strdup(newdb);
  uint64_t next = txn_get_autoinc(t, old->id), cur = txn_get_autoinc(t, new_id);
  if (cur > next) next = cur;
  if (ai > next) next = ai;
  if (!fin->name || !fin->db || tbl_cat_edit_drop_table(e, old->db, old->name, 1) ||
      tbl_cat_edit_drop_table(e, newdb, tmpname, 0) ||
      (fin->autoinc_col >= 0 && next > 1 && edit_set_autoinc(e, new_id, next))) {
    tbl_cat_edit_abort(e);
    txn_rollback(t);
    rc = p_oom(p);
    goto err_drop_tmp;
  }
  rc = tbl_cat_edit_put_table(e, fin);
  fin = NULL;
  if (rc) { tbl_cat_edit_abort(e); txn_rollback(t); rc = p_oom(p); goto err_drop_tmp; }
  if ((rc = commit_edit(p, e, t))) goto err_drop_tmp;
  mm_buf_free(&sql);
  return MM_OK;
err_drop_tmp:
  tbl_def_free(fin);
  mm_buf_free(&sql);
  drop_quietly(p, newdb, tmpname);
  return rc;
}

/* Does the new definition store rows differently from the old one? */
static int col_storage_differs(const tbl_def *od, const tbl_column *a, const tbl_def *nd, const tbl_column *b) {
  if (a->type != b->type || a->length != b->length || a->scale != b->scale ||
      a->is_unsigned != b->is_unsigned || a->zerofill != b->zerofill || a->not_null != b->not_null ||
      a->auto_increment != b->auto_increment || a->n_enum != b->n_enum)
    return 1;
  for (int i = 0; i < a->n_enum; i++)
    if (strcmp(a->enum_vals[i], b->enum_vals[i]) != 0) return 1;
  const char *ca = tbl_column_collation(od, a), *cb = tbl_column_collation(nd, b);
  if ((ca || cb) && (!ca || !cb || strcasecmp(ca, cb) != 0)) return 1;
  return 0;
}

/* Apply w to old: metadata-only when rows are unaffected, else rebuild. */
static int alter_finish(ps *p, const tbl_def *old, wtab *w, const char *newdb, const char *newname,
                        int force, int has_ai, uint64_t ai) {
  int rc;
  int renamed = strcmp(newdb, old->db) != 0 || strcmp(newname, old->name) != 0;
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) return p_oom(p);
  if (renamed) {
    if (!tbl_cat_edit_db_exists(e, newdb)) { tbl_cat_edit_abort(e); return err_no_db(p, newdb); }
    if (tbl_cat_edit_get(e, newdb, newname)) {
      tbl_cat_edit_abort(e);
      return err_set(p, 1050, "42S01", "Table '%s' already exists", newname);
    }
  }
  int need_copy = force || w->ncols != old->ncols;
  int kept = 0;
  for (int i = 0; i < w->nidx; i++) {
    if (!w->idx[i].id) need_copy = 1;
    else kept++;
  }
  if (kept != old->nindexes) need_copy = 1;
  for (int i = 0; i < w->ncols && !need_copy; i++)
    if (w->cols[i].orig != i) need_copy = 1;
  tbl_def *d = NULL;
  if (!need_copy) {
    if ((rc = build_def(p, w, newdb, newname, old->id, old->hidden_index_id, e, &d))) {
      tbl_cat_edit_abort(e);
      return rc;
    }
    for (int i = 0; i < d->ncols && !need_copy; i++)
      if (col_storage_differs(old, &old->cols[i], d, &d->cols[i])) need_copy = 1;
    if (d->has_pk != old->has_pk) need_copy = 1;
  }
  if (need_copy) {
    tbl_def_free(d);
    tbl_cat_edit_abort(e);
    return rebuild(p, old, w, newdb, newname, has_ai ? ai : 0);
  }
  d->create_time = old->create_time;
  if (!renamed && !has_ai) { /* nothing changed (e.g. DISABLE KEYS): no new version */
    mm_buf b1, b2;
    mm_buf_init(&b1);
    mm_buf_init(&b2);
    int same = tbl_def_encode(old, &b1) == MM_OK && tbl_def_encode(d, &b2) == MM_OK &&
               b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0;
    mm_buf_free(&b1);
    mm_buf_free(&b2);
    if (same) {
      tbl_def_free(d);
      tbl_cat_edit_abort(e);
      return MM_OK;
    }
  }
  if (renamed && tbl_cat_edit_drop_table(e, old->db, old->name, 0)) {
    tbl_def_free(d);
    tbl_cat_edit_abort(e);
    return p_oom(p);
  }
  if (has_ai && d->autoinc_col >= 0) {
    uint64_t cur = tbl_autoinc_peek(p->tc->cat, old);
    if (ai > cur && edit_set_autoinc(e, d->id, ai)) { tbl_def_free(d); tbl_cat_edit_abort(e); return p_oom(p); }
  }
  if (tbl_cat_edit_put_table(e, d)) { tbl_cat_edit_abort(e); return p_oom(p); }
  return commit_edit(p, e, NULL);
}

/* ---- ALTER TABLE ------------------------------------------------------- */

/* Remove column name from every index (dropping emptied ones). */
static void drop_col_from_indexes(wtab *w, const char *name) {
  for (int i = 0; i < w->nidx; i++) {
    widx *x = &w->idx[i];
    for (int k = 0; k < x->ncols; k++) {
      if (strcasecmp(x->cols[k], name) != 0) continue;
      mm_free(x->cols[k]);
      memmove(x->cols + k, x->cols + k + 1, sizeof(char *) * (size_t)(x->ncols - k - 1));
      memmove(x->prefix + k, x->prefix + k + 1, sizeof(uint32_t) * (size_t)(x->ncols - k - 1));
      x->ncols--;
      x->id = 0;
      k--;
    }
    if (x->ncols == 0) {
      widx_clear(x);
      memmove(w->idx + i, w->idx + i + 1, sizeof(widx) * (size_t)(w->nidx - i - 1));
      w->nidx--;
      i--;
    }
  }
}

static int rename_col_in_indexes(wtab *w, const char *from, const char *to) {
  for (int i = 0; i < w->nidx; i++)
    for (int k = 0; k < w->idx[i].ncols; k++)
      if (strcasecmp(w->idx[i].cols[k], from) == 0) {
        char *n = mm_strdup(to);
        if (!n) return MM_ENOMEM;
        mm_free(w->idx[i].cols[k]);
        w->idx[i].cols[k] = n;
      }
  return MM_OK;
}

/* [FIRST | AFTER col]: *pos = target position, -1 = unchanged/end. */
static int p_col_position(ps *p, const wtab *w, const char *tname, int *pos) {
  *pos = -1;
  if (p_accept(p, "FIRST")) { *pos = 0; return MM_OK; }
  if (p_accept(p, "AFTER")) {
    char *n;
    if (p_ident(p, &n)) return MM_ESQL;
    int i = wtab_find_col(w, n);
    if (i < 0) {
      err_set(p, 1054, "42S22", "Unknown column '%s' in '%s'", n, tname);
      mm_free(n);
      return MM_ESQL;
    }
    mm_free(n);
    *pos = i + 1;
  }
  return MM_OK;
}

/* Move column at from to position to (computed before removal). */
static void move_col(wtab *w, int from, int to) {
  if (to < 0) return;
  wcol c = w->cols[from];
  memmove(w->cols + from, w->cols + from + 1, sizeof(wcol) * (size_t)(w->ncols - from - 1));
  if (to > from) to--;
  memmove(w->cols + to + 1, w->cols + to, sizeof(wcol) * (size_t)(w->ncols - 1 - to));
  w->cols[to] = c;
}

static int do_alter_table(ps *p) {
  char *db = NULL, *name = NULL, *newdb = NULL, *newname = NULL;
  int rc, force = 0;
  wtab w;
  memset(&w, 0, sizeof w);
  tbl_def *old = NULL;
  if ((rc = p_qname(p, &db, &name))) return rc;
  old = tbl_get(p->tc->cat, db, name); /* our reference: ALTER commits edits */
  if (!old) { rc = err_no_table(p, db, name); goto out; }
  if (wtab_from_def(&w, old)) { rc = p_oom(p); goto out; }
  if (!(newdb = mm_strdup(db)) || !(newname = mm_strdup(name))) { rc = p_oom(p); goto out; }
  if (p_at_end(p)) goto finish;
  for (;;) {
    if (p_accept(p, "ADD")) {
      int handled = 0;
      if (!p_is(p, "COLUMN")) {
        if ((rc = p_index_def(p, &w, &handled))) goto out;
      }
      if (!handled) {
        p_accept(p, "COLUMN");
        int paren = p_accept_op(p, "(");
        for (;;) {
          wcol c;
          memset(&c, 0, sizeof c);
          c.orig = -1;
          c.c.scale = -1;
          if ((rc = p_coldef(p, &c))) { tbl_column_clear(&c.c); goto out; }
          int pos = -1;
          if (!paren && (rc = p_col_position(p, &w, name, &pos))) { tbl_column_clear(&c.c); goto out; }
          wcol *nc = wtab_insert_col(&w, pos);
          if (!nc) { tbl_column_clear(&c.c); rc = p_oom(p); goto out; }
          *nc = c;
          if ((rc = add_inline_keys(p, &w, nc))) goto out;
          if (paren && p_accept_op(p, ",")) continue;
          break;
        }
        if (paren && (rc = p_expect_op(p, ")"))) goto out;
      }
    } else if (p_accept(p, "DROP")) {
      if (p_accept(p, "PRIMARY")) {
        if ((rc = p_expect(p, "KEY"))) goto out;
        int i = wtab_find_pk(&w);
        if (i < 0) { rc = err_set(p, 1091, "42000", "Can't DROP 'PRIMARY'; check that column/key exists"); goto out; }
        widx_clear(&w.idx[i]);
        memmove(w.idx + i, w.idx + i + 1, sizeof(widx) * (size_t)(w.nidx - i - 1));
        w.nidx--;
      } else if (p_accept(p, "INDEX") || p_accept(p, "KEY")) {
        char *n;
        if ((rc = p_ident(p, &n))) goto out;
        int i = wtab_find_idx(&w, n);
        if (i < 0) { rc = err_set(p, 1091, "42000", "Can't DROP '%s'; check that column/key exists", n); mm_free(n); goto out; }
        mm_free(n);
        widx_clear(&w.idx[i]);
        memmove(w.idx + i, w.idx + i + 1, sizeof(widx) * (size_t)(w.nidx - i - 1));
        w.nidx--;
      } else if (p_accept(p, "FOREIGN")) {
        char *n;
        if ((rc = p_expect(p, "KEY")) || (rc = p_ident(p, &n))) goto out;
        mm_free(n); /* foreign keys are not kept: nothing to drop */
      } else if (p_accept(p, "CHECK") || p_accept(p, "CONSTRAINT")) {
        char *n;
        if ((rc = p_ident(p, &n))) goto out;
        mm_free(n);
      } else {
        p_accept(p, "COLUMN");
        char *n;
        if ((rc = p_ident(p, &n))) goto out;
        int i = wtab_find_col(&w, n);
        if (i < 0) { rc = err_set(p, 1091, "42000", "Can't DROP '%s'; check that column/key exists", n); mm_free(n); goto out; }
        drop_col_from_indexes(&w, w.cols[i].c.name);
        tbl_column_clear(&w.cols[i].c);
        memmove(w.cols + i, w.cols + i + 1, sizeof(wcol) * (size_t)(w.ncols - i - 1));
        w.ncols--;
        mm_free(n);
        if (w.ncols == 0) {
          rc = err_set(p, 1090, "42000", "You can't delete all columns with ALTER TABLE; use DROP TABLE instead");
          goto out;
        }
      }
    } else if (p_is(p, "MODIFY") || p_is(p, "CHANGE")) {
      int change = p_is(p, "CHANGE");
      p_next(p);
      p_accept(p, "COLUMN");
      char *oldn = NULL;
      if (change && (rc = p_ident(p, &oldn))) goto out;
      wcol c;
      memset(&c, 0, sizeof c);
      c.c.scale = -1;
      if ((rc = p_coldef(p, &c))) { tbl_column_clear(&c.c); mm_free(oldn); goto out; }
      const char *look = change ? oldn : c.c.name;
      int i = wtab_find_col(&w, look);
      if (i < 0) {
        rc = err_set(p, 1054, "42S22", "Unknown column '%s' in '%s'", look, name);
        tbl_column_clear(&c.c);
        mm_free(oldn);
        goto out;
      }
      mm_free(oldn);
      c.orig = w.cols[i].orig;
      if (rename_col_in_indexes(&w, w.cols[i].c.name, c.c.name)) { tbl_column_clear(&c.c); rc = p_oom(p); goto out; }
      tbl_column_clear(&w.cols[i].c);
      w.cols[i] = c;
      int pos;
      if ((rc = p_col_position(p, &w, name, &pos))) goto out;
      move_col(&w, i, pos);
      i = wtab_find_col(&w, c.c.name);
      if ((rc = add_inline_keys(p, &w, &w.cols[i]))) goto out;
    } else if (p_accept(p, "ALTER")) {
      if (p_accept(p, "INDEX")) { /* ALTER INDEX x VISIBLE */
        char *n;
        if ((rc = p_ident(p, &n))) goto out;
        mm_free(n);
        p_next(p);
      } else {
        p_accept(p, "COLUMN");
        char *n;
        if ((rc = p_ident(p, &n))) goto out;
        int i = wtab_find_col(&w, n);
        if (i < 0) { rc = err_set(p, 1054, "42S22", "Unknown column '%s' in '%s'", n, name); mm_free(n); goto out; }
        mm_free(n);
        tbl_column *c = &w.cols[i].c;
        if (p_accept(p, "SET")) {
          if ((rc = p_expect(p, "DEFAULT"))) goto out;
          rawdef r = {0};
          if ((rc = p_default(p, &r))) { mm_free(r.text); goto out; }
          if (c->auto_increment) { mm_free(r.text); rc = bad_default(p, c); goto out; }
          rc = apply_default(p, c, &r);
          mm_free(r.text);
          if (rc) goto out;
        } else if (p_accept(p, "DROP")) {
          if ((rc = p_expect(p, "DEFAULT"))) goto out;
          mm_free(c->default_value);
          c->default_value = NULL;
          c->default_now = 0;
          c->has_default = 0;
        } else {
          rc = p_syntax(p);
          goto out;
        }
      }
    } else if (p_accept(p, "RENAME")) {
      if (p_accept(p, "INDEX") || p_accept(p, "KEY")) {
        char *a, *b;
        if ((rc = p_ident(p, &a))) goto out;
        if ((rc = p_expect(p, "TO")) || (rc = p_ident(p, &b))) { mm_free(a); goto out; }
        int i = wtab_find_idx(&w, a);
        if (i < 0 || w.idx[i].primary) {
          rc = err_set(p, 1176, "42000", "Key '%s' doesn't exist in table '%s'", a, name);
          mm_free(a); mm_free(b);
          goto out;
        }
        mm_free(a);
        mm_free(w.idx[i].name);
        w.idx[i].name = b;
      } else if (p_accept(p, "COLUMN")) {
        char *a, *b;
        if ((rc = p_ident(p, &a))) goto out;
        if ((rc = p_expect(p, "TO")) || (rc = p_ident(p, &b))) { mm_free(a); goto out; }
        int i = wtab_find_col(&w, a);
        if (i < 0) { rc = err_set(p, 1054, "42S22", "Unknown column '%s' in '%s'", a, name); mm_free(a); mm_free(b); goto out; }
        if (rename_col_in_indexes(&w, w.cols[i].c.name, b)) { mm_free(a); mm_free(b); rc = p_oom(p); goto out; }
        mm_free(w.cols[i].c.name);
        w.cols[i].c.name = b;
        mm_free(a);
      } else {
        if (!p_accept(p, "TO")) p_accept(p, "AS");
        mm_free(newdb);
        mm_free(newname);
        newdb = newname = NULL;
        if ((rc = p_qname(p, &newdb, &newname))) goto out;
        if ((rc = check_table_name(p, newname))) goto out;
      }
    } else if (p_accept(p, "DISABLE") || p_accept(p, "ENABLE")) {
      if ((rc = p_expect(p, "KEYS"))) goto out;
    } else if (p_accept(p, "CONVERT")) {
      if ((rc = p_expect(p, "TO"))) goto out;
      if (p_accept(p, "CHARACTER")) { if ((rc = p_expect(p, "SET"))) goto out; }
      else if ((rc = p_expect(p, "CHARSET"))) goto out;
      char *cs, *co = NULL;
      if ((rc = p_charset_name(p, &cs))) goto out;
      if (p_accept(p, "COLLATE") && (rc = p_collation_name(p, &co))) { mm_free(cs); goto out; }
      const tbl_collation *tc = co ? tbl_collation_find(co) : tbl_charset_default(cs);
      mm_free(cs);
      mm_free(co);
      if (!tc) { rc = err_set(p, 1115, "42000", "Unknown character set"); goto out; }
      mm_free(w.charset);
      mm_free(w.collation);
      w.charset = mm_strdup(tc->charset);
      w.collation = mm_strdup(tc->name);
      w.has_charset = w.has_collation = 1;
      for (int i = 0; i < w.ncols; i++) {
        tbl_column *c = &w.cols[i].c;
        if (!tbl_type_is_string(c->type)) continue;
        mm_free(c->charset);
        mm_free(c->collation);
        c->charset = c->collation = NULL;
        /* TEXT grows to keep its byte capacity, as MySQL does */
      }
      if (!w.charset || !w.collation) { rc = p_oom(p); goto out; }
    } else if (p_accept(p, "FORCE")) {
      force = 1;
    } else if (p_accept(p, "ALGORITHM") || p_accept(p, "LOCK")) {
      p_accept_op(p, "=");
      p_next(p);
    } else if (p_accept(p, "ORDER")) {
      if ((rc = p_expect(p, "BY"))) goto out;
      do {
        char *n;
        if ((rc = p_ident(p, &n))) goto out;
        mm_free(n);
        if (!p_accept(p, "ASC")) p_accept(p, "DESC");
      } while (p_accept_op(p, ","));
    } else {
      char *cs0 = w.charset, *co0 = w.collation;
      w.charset = w.collation = NULL;
      int hc = w.has_charset, hco = w.has_collation;
      w.has_charset = w.has_collation = 0;
      size_t before = p->l.pos;
      rc = p_table_options(p, &w);
      if (w.has_charset && !w.has_collation) { /* CHARSET x alone: its default collation */
        mm_free(w.collation);
        w.collation = NULL;
        mm_free(co0);
        mm_free(cs0);
      } else if (w.has_collation) {
        mm_free(cs0);
        mm_free(co0);
      } else {
        w.charset = cs0;
        w.collation = co0;
        w.has_charset = hc;
        w.has_collation = hco;
      }
      if (rc) goto out;
      if (p->l.pos == before) { rc = p_syntax(p); goto out; }
    }
    if (p_accept_op(p, ",")) continue;
    if (p_at_end(p)) break;
    lex_token t;
    p_peek(p, &t);
    if (t.type == TK_IDENT && !lex_is(&t, "ADD") && !lex_is(&t, "DROP")) continue; /* options list */
    rc = p_syntax(p);
    goto out;
  }
finish:
  if (w.has_charset && !w.has_collation) {
    const tbl_collation *c = tbl_charset_default(w.charset);
    mm_free(w.collation);
    w.collation = c ? mm_strdup(c->name) : NULL;
  }
  rc = alter_finish(p, old, &w, newdb, newname, force, w.has_auto_increment, w.auto_increment);
out:
  if (old) tbl_def_release(p->tc->cat, old);
  wtab_free(&w);
  mm_free(db);
  mm_free(name);
  mm_free(newdb);
  mm_free(newname);
  return rc;
}

/* ---- CREATE INDEX / DROP INDEX ----------------------------------------- */


/* CREATE/DROP INDEX ... [ALGORITHM [=] x] [LOCK [=] y]: accepted, no effect
 * (every DDL here copies under the catalog's DDL lock). */
static void p_skip_algorithm_lock(ps *p) {
  while (p_accept(p, "ALGORITHM") || p_accept(p, "LOCK")) {
    p_accept_op(p, "=");
    p_next(p);
  }
}

static int do_create_index(ps *p, int unique) {
  char *iname = NULL, *db = NULL, *name = NULL;
  int rc;
  wtab w;
  memset(&w, 0, sizeof w);
  tbl_def *old = NULL;
  if ((rc = p_ident(p, &iname))) return rc;
  if (p_accept(p, "USING")) p_next(p);
  if ((rc = p_expect(p, "ON")) || (rc = p_qname(p, &db, &name))) goto out;
  old = tbl_get(p->tc->cat, db, name);
  if (!old) { rc = err_no_table(p, db, name); goto out; }
  if (wtab_from_def(&w, old)) { rc = p_oom(p); goto out; }
  widx *x = wtab_add_idx(&w);
  if (!x) { rc = p_oom(p); goto out; }
  x->unique = unique;
  x->name = iname;
  iname = NULL;
  if ((rc = p_key_parts(p, x)) || (rc = p_index_options(p, x))) goto out;
  p_skip_algorithm_lock(p);
  if ((rc = p_expect_end(p))) goto out;
  rc = alter_finish(p, old, &w, db, name, 0, 0, 0);
out:
  if (old) tbl_def_release(p->tc->cat, old);
  wtab_free(&w);
  mm_free(iname);
  mm_free(db);
  mm_free(name);
  return rc;
}

static int do_drop_index(ps *p) {
  char *iname = NULL, *db = NULL, *name = NULL;
  int rc;
  wtab w;
  memset(&w, 0, sizeof w);
  tbl_def *old = NULL;
  if ((rc = p_ident(p, &iname))) return rc;
  if ((rc = p_expect(p, "ON")) || (rc = p_qname(p, &db, &name))) goto out;
  p_skip_algorithm_lock(p);
  if ((rc = p_expect_end(p))) goto out;
  old = tbl_get(p->tc->cat, db, name);
  if (!old) { rc = err_no_table(p, db, name); goto out; }
  if (wtab_from_def(&w, old)) { rc = p_oom(p); goto out; }
  int i = wtab_find_idx(&w, iname);
  if (i < 0) { rc = err_set(p, 1091, "42000", "Can't DROP '%s'; check that column/key exists", iname); goto out; }
  widx_clear(&w.idx[i]);
  memmove(w.idx + i, w.idx + i + 1, sizeof(widx) * (size_t)(w.nidx - i - 1));
  w.nidx--;
  rc = alter_finish(p, old, &w, db, name, 0, 0, 0);
out:
  if (old) tbl_def_release(p->tc->cat, old);
  wtab_free(&w);
  mm_free(iname);
  mm_free(db);
  mm_free(name);
  return rc;
}

/* ---- RENAME / TRUNCATE --------------------------------------------------- */

static int do_rename(ps *p) {
  int rc = MM_OK;
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) return p_oom(p);
  for (;;) {
    char *db = NULL, *name = NULL, *ndb = NULL, *nname = NULL;
    if ((rc = p_qname(p, &db, &name)) || (rc = p_expect(p, "TO")) || (rc = p_qname(p, &ndb, &nname))) goto next;
    if ((rc = check_table_name(p, nname))) goto next;
    const tbl_def *src = tbl_cat_edit_get(e, db, name);
    if (!src) { rc = err_no_table(p, db, name); goto next; }
    if (tbl_cat_edit_get(e, ndb, nname)) { rc = err_set(p, 1050, "42S01", "Table '%s' already exists", nname); goto next; }
    if (!tbl_cat_edit_db_exists(e, ndb)) { rc = err_no_db(p, ndb); goto next; }
    tbl_def *d = tbl_def_clone(src);
    if (!d) { rc = p_oom(p); goto next; }
    mm_free(d->db);
    mm_free(d->name);
    d->db = ndb;
    d->name = nname;
    ndb = nname = NULL;
    if (tbl_cat_edit_drop_table(e, db, name, 0) || tbl_cat_edit_put_table(e, d)) rc = p_oom(p);
  next:
    mm_free(db); mm_free(name); mm_free(ndb); mm_free(nname);
    if (rc) { tbl_cat_edit_abort(e); return rc; }
    if (!p_accept_op(p, ",")) break;
  }
  if ((rc = p_expect_end(p))) { tbl_cat_edit_abort(e); return rc; }
  return commit_edit(p, e, NULL);
}

static int do_truncate(ps *p) {
  char *db, *name;
  int rc;
  p_accept(p, "TABLE");
  if ((rc = p_qname(p, &db, &name))) return rc;
  if ((rc = p_expect_end(p))) goto out;
  tbl_cat_edit *e = tbl_cat_edit_new(p->tc->cat);
  if (!e) { rc = p_oom(p); goto out; }
  const tbl_def *old = tbl_cat_edit_get(e, db, name);
  if (!old) { tbl_cat_edit_abort(e); rc = err_no_table(p, db, name); goto out; }
  tbl_def *d = tbl_def_clone(old);
  if (!d) { tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
  /* fresh index ids: the old ranges are deleted after the commit, and
   * snapshots taken before it keep seeing the old rows consistently */
  for (int i = 0; i < d->nindexes; i++) d->indexes[i].id = tbl_cat_edit_new_index_id(e);
  if (!d->has_pk) d->hidden_index_id = tbl_cat_edit_new_index_id(e);
  if (tbl_cat_edit_drop_table(e, db, name, 1) || tbl_cat_edit_put_table(e, d)) {
    tbl_cat_edit_abort(e);
    rc = p_oom(p);
    goto out;
  }
  rc = commit_edit(p, e, NULL);
out:
  mm_free(db);
  mm_free(name);
  return rc;
}

/* ---- CREATE TABLE ... SELECT ------------------------------------------- */

/* Infer a column from a result column: the vtab's decltype names the MySQL
 * type of plain column references; expressions get a type from the values. */
static int ctas_column(ps *p, wcol *c, const char *decl, int vtype, size_t maxlen) {
  if (decl && *decl) {
    ps q = *p;
    lex_init(&q.l, decl, strlen(decl));
    mm_error e2;
    q.err = &e2;
    q.tc = NULL;
    if (p_type(&q, c) == MM_OK && p_at_end(&q)) return MM_OK;
    tbl_column_clear(&c->c);
    c->c.scale = -1;
  }
  switch (vtype) {
  case SQLITE_INTEGER: c->c.type = TBL_BIGINT; c->c.length = 20; break;
  case SQLITE_FLOAT: c->c.type = TBL_DOUBLE; break;
  case SQLITE_BLOB: c->c.type = maxlen < 65536 ? TBL_VARBINARY : TBL_LONGBLOB; c->c.length = (uint32_t)maxlen; break;
  case SQLITE_TEXT: c->c.type = maxlen <= 16383 ? TBL_VARCHAR : TBL_LONGTEXT; c->c.length = (uint32_t)maxlen; break;
  default: c->c.type = TBL_BINARY; c->c.length = 0; break;
  }
  return MM_OK;
}

static int create_select(ps *p, const char *db, const char *name, wtab *w, int ifne, const char *sel) {
  tbl_conn *tc = p->tc;
  int rc = MM_OK;
  if (!tc->prepare_mysql)
    return err_set(p, 1235, "42000", "This version of MySQL doesn't yet support 'CREATE TABLE ... SELECT'");
  if (tbl_get(tc->cat, db, name)) {
    tbl_def *x = tbl_get(tc->cat, db, name);
    tbl_def_release(tc->cat, x);
    tbl_def_release(tc->cat, x);
    if (ifne) { warn(p, 1050, "Table '%s' already exists", name); return MM_OK; }
    return err_set(p, 1050, "42S01", "Table '%s' already exists", name);
  }
  size_t sl = (size_t)(p->l.src + p->l.len - sel);
  while (sl && (isspace((unsigned char)sel[sl - 1]) || sel[sl - 1] == ';')) sl--;
  txn *t = txn_begin(tc->st, TXN_REPEATABLE_READ);
  if (!t) return p_oom(p);
  txn *saved = tc->txn;
  tbl_conn_set_txn(tc, t);
  sqlite3_stmt *st = NULL, *ins = NULL;
  sqlite3_value ***rows = NULL;
  int nrows = 0, caprows = 0, ncol = 0;
  mm_error e2;
  mm_error_clear(&e2);
  if (tc->prepare_mysql(tc->prepare_ctx, sel, sl, &st, &e2) || !st) {
    if (e2.code) *p->err = e2;
    else mm_error_set(p->err, 1064, "42000", "bad SELECT");
    p->failed = 1;
    rc = MM_ESQL;
    goto out;
  }
  ncol = sqlite3_column_count(st);
  int src;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    if (nrows == caprows) {
      caprows = caprows ? caprows * 2 : 64;
      sqlite3_value ***r = mm_realloc(rows, sizeof(*rows) * (size_t)caprows);
      if (!r) { rc = p_oom(p); goto out; }
      rows = r;
    }
    rows[nrows] = mm_calloc((size_t)ncol + 1, sizeof(sqlite3_value *));
    if (!rows[nrows]) { rc = p_oom(p); goto out; }
    nrows++;
    for (int i = 0; i < ncol; i++) rows[nrows - 1][i] = sqlite3_value_dup(sqlite3_column_value(st, i));
  }
  if (src != SQLITE_DONE) { rc = sqlite_failed(p, "CREATE TABLE ... SELECT"); goto out; }
  /* columns: explicit ones, then result columns not named among them */
  int *target = mm_calloc((size_t)ncol + 1, sizeof(int));
  if (!target) { rc = p_oom(p); goto out; }
  for (int i = 0; i < ncol; i++) {
    const char *cn = sqlite3_column_name(st, i);
    int k = wtab_find_col(w, cn ? cn : "");
    if (k < 0) {
      int vtype = SQLITE_NULL;
      size_t maxlen = 0;
      for (int r = 0; r < nrows; r++) {
        int ty = sqlite3_value_type(rows[r][i]);
        if (ty == SQLITE_NULL) continue;
        if (vtype == SQLITE_NULL || ty == SQLITE_TEXT || (ty == SQLITE_BLOB && vtype != SQLITE_TEXT) ||
            (ty == SQLITE_FLOAT && vtype == SQLITE_INTEGER))
          vtype = ty;
        size_t len = (size_t)sqlite3_value_bytes(rows[r][i]);
        if (ty == SQLITE_TEXT) {
          const unsigned char *s = sqlite3_value_text(rows[r][i]);
          len = s ? utf8_chars((const char *)s) : 0;
        }
        if (len > maxlen) maxlen = len;
      }
      wcol *c = wtab_insert_col(w, -1);
      if (!c) { mm_free(target); rc = p_oom(p); goto out; }
      c->c.name = mm_strdup(cn ? cn : "?");
      if (!c->c.name) { mm_free(target); rc = p_oom(p); goto out; }
      ctas_column(p, c, sqlite3_column_decltype(st, i), vtype, maxlen);
      k = w->ncols - 1;
    }
    target[i] = k;
  }
  tbl_cat_edit *e = tbl_cat_edit_new(tc->cat);
  if (!e) { mm_free(target); rc = p_oom(p); goto out; }
  if (!w->has_charset && !w->has_collation) {
    char *cs, *co;
    if (tbl_db_info(tc->cat, db, &cs, &co) == MM_OK) { mm_free(w->charset); mm_free(w->collation); w->charset = cs; w->collation = co; }
  }
  tbl_def *d;
  if ((rc = build_def(p, w, db, name, 0, 0, e, &d))) { mm_free(target); tbl_cat_edit_abort(e); goto out; }
  if (tbl_cat_edit_put_table(e, d)) { mm_free(target); tbl_cat_edit_abort(e); rc = p_oom(p); goto out; }
  if ((rc = commit_edit(p, e, NULL))) { mm_free(target); goto out; }
  /* insert the rows */
  mm_buf sql;
  mm_buf_init(&sql);
  mm_buf_puts(&sql, "INSERT INTO ");
  sql_ident(&sql, db, name);
  mm_buf_puts(&sql, " (");
  for (int i = 0; i < ncol; i++) {
    if (i) mm_buf_putc(&sql, ',');
    sql_col(&sql, w->cols[target[i]].c.name);
  }
  mm_buf_puts(&sql, ") VALUES (");
  for (int i = 0; i < ncol; i++) mm_buf_puts(&sql, i ? ",?" : "?");
  mm_buf_putc(&sql, ')');
  mm_free(target);
  if (sql.oom) { mm_buf_free(&sql); rc = p_oom(p); goto err_drop; }
  if (tbl_conn_declare(tc, db, name, &e2)) { *p->err = e2; p->failed = 1; mm_buf_free(&sql); rc = MM_ESQL; goto err_drop; }
  if (sqlite3_prepare_v2(tc->db, sql.p, (int)sql.len, &ins, NULL) != SQLITE_OK) {
    mm_buf_free(&sql);
    rc = sqlite_failed(p, "CREATE TABLE ... SELECT");
    goto err_drop;
  }
  mm_buf_free(&sql);
  tbl_conn_stmt_begin(tc);
  for (int r = 0; r < nrows; r++) {
    for (int i = 0; i < ncol; i++) sqlite3_bind_value(ins, i + 1, rows[r][i]);
    if (sqlite3_step(ins) != SQLITE_DONE) { rc = sqlite_failed(p, "CREATE TABLE ... SELECT"); goto err_drop; }
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  ins = NULL;
  tbl_conn_set_txn(tc, saved);
  txn *tt = t;
  t = NULL;
  if (txn_commit(tt, &e2)) { *p->err = e2; p->failed = 1; rc = MM_ESQL; goto err_drop; }
  goto out;
err_drop:
  if (ins) sqlite3_finalize(ins);
  ins = NULL;
  if (st) sqlite3_finalize(st);
  st = NULL;
  drop_quietly(p, db, name);
out:
  if (st) sqlite3_finalize(st);
  if (ins) sqlite3_finalize(ins);
  for (int r = 0; r < nrows; r++) {
    for (int i = 0; i < ncol; i++) sqlite3_value_free(rows[r][i]);
    mm_free(rows[r]);
  }
  mm_free(rows);
  tbl_conn_set_txn(tc, saved);
  if (t) txn_rollback(t);
  return rc;
}

/* ---- entry point --------------------------------------------------------- */

int tbl_ddl(tbl_conn *tc, const char *curdb, const char *sql, size_t len, mm_error *err) {
  ps p;
  memset(&p, 0, sizeof p);
  lex_init(&p.l, sql, len);
  p.err = err;
  p.tc = tc;
  p.curdb = curdb && *curdb ? curdb : NULL;
  mm_error_clear(err);
  int rc;
  tbl_catalog_ddl_lock(tc->cat);
  if (p_accept(&p, "CREATE")) {
    if (p_accept(&p, "OR")) p_accept(&p, "REPLACE");
    if (p_accept(&p, "DATABASE") || p_accept(&p, "SCHEMA")) rc = do_create_db(&p);
    else if (p_accept(&p, "TEMPORARY")) rc = err_set(&p, 1235, "42000", "This version of MySQL doesn't yet support 'TEMPORARY tables'");
    else if (p_accept(&p, "TABLE")) rc = do_create_table(&p);
    else if (p_accept(&p, "UNIQUE")) rc = p_expect(&p, "INDEX") ? MM_ESQL : do_create_index(&p, 1);
    else if (p_accept(&p, "INDEX")) rc = do_create_index(&p, 0);
    else if (p_is(&p, "FULLTEXT") || p_is(&p, "SPATIAL"))
      rc = err_set(&p, 1235, "42000", "This version of MySQL doesn't yet support '%s indexes'", p_is(&p, "FULLTEXT") ? "FULLTEXT" : "SPATIAL");
    else rc = p_syntax(&p);
  } else if (p_accept(&p, "DROP")) {
    if (p_accept(&p, "DATABASE") || p_accept(&p, "SCHEMA")) rc = do_drop_db(&p);
    else if (p_accept(&p, "TEMPORARY")) rc = p_expect(&p, "TABLE") ? MM_ESQL : do_drop_table(&p);
    else if (p_accept(&p, "TABLE") || p_accept(&p, "TABLES")) rc = do_drop_table(&p);
    else if (p_accept(&p, "INDEX")) rc = do_drop_index(&p);
    else rc = p_syntax(&p);
  } else if (p_accept(&p, "ALTER")) {
    if (!p_accept(&p, "ONLINE")) p_accept(&p, "OFFLINE");
    p_accept(&p, "IGNORE");
    if (p_accept(&p, "TABLE")) rc = do_alter_table(&p);
    else if (p_accept(&p, "DATABASE") || p_accept(&p, "SCHEMA")) rc = do_alter_db(&p);
    else rc = p_syntax(&p);
  } else if (p_accept(&p, "RENAME")) {
    if (p_accept(&p, "TABLE") || p_accept(&p, "TABLES")) rc = do_rename(&p);
    else rc = p_syntax(&p);
  } else if (p_accept(&p, "TRUNCATE")) {
    rc = do_truncate(&p);
  } else {
    rc = p_syntax(&p);
  }
  tbl_catalog_ddl_unlock(tc->cat);
  if (rc && !err->code) {
    if (rc == MM_ENOMEM) p_oom(&p);
    else mm_error_set(err, 1105, "HY000", "DDL failed: %s", mm_strerror(rc));
  }
  return rc ? (err->code ? MM_ESQL : rc) : MM_OK;
}

void tbl_conn_set_prepare_hook(tbl_conn *tc, tbl_prepare_fn fn, void *ctx) {
  tc->prepare_mysql = fn;
  tc->prepare_ctx = ctx;
}
