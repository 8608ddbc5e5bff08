/*
 * sql/rewrite.c - MySQL data statements rewritten into SQLite's dialect.
 * See rewrite.h for the rules.
 *
 * How it works: the statement is lexed once into a token array (sql/lex.c),
 * then a recursive-descent parser that knows MySQL's grammar for SELECT,
 * INSERT, REPLACE, UPDATE and DELETE walks the tokens and writes SQLite text
 * into an output buffer as it goes (one pass, no tree).  Expressions are
 * parsed by precedence climbing with MySQL's operator precedences; when an
 * operator has to become a function call (a / b -> mm_div(a, b)) or when
 * SQLite's precedence differs from MySQL's, the already written left operand
 * is wrapped in place by inserting text at its start offset.
 *
 * Invariants:
 * - Every identifier is written double-quoted, so MySQL names that are
 *   SQLite keywords stay names.
 * - Every '?' is written as ?N, N its 1-based position in the MySQL text, so
 *   clauses may be reordered (LIMIT a, b) without changing parameter order.
 * - Errors unwind with longjmp to rw_rewrite(); everything allocated during
 *   the rewrite is owned by the rw context (token array, scratch buffers)
 *   or by the rw_out, so nothing leaks on that path.
 */
#include "sql/rewrite.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lex.h"

/* SQLite precedence of the text written for an expression (higher binds
 * tighter); used to decide when parentheses are needed. */
enum { P_OR = 1, P_AND, P_NOT, P_EQ, P_CMP, P_ESC, P_BIT, P_ADD, P_MUL, P_CAT, P_COLL, P_UNARY, P_PRIM };

/* Facts about a written expression. */
enum {
  EX_COL = 1,   /* a bare column reference (possibly with COLLATE) */
  EX_STR = 2,   /* a string literal */
  EX_COLL = 4,  /* carries an explicit COLLATE */
};
typedef struct ex {
  int prec;
  unsigned f;
} ex;

#define NPOOL 8
#define MAXDEPTH 200
#define NAMEMAX 256

typedef struct reftab {
  char alias[NAMEMAX];
  char table[2 * NAMEMAX + 8]; /* "db.t" already quoted */
} reftab;

typedef struct rw {
  const rw_in *in;
  rw_out *out;
  mm_error *err;
  const char *src;
  size_t len;
  int nbe;              /* NO_BACKSLASH_ESCAPES */
  lex_token *tk;        /* tokens; tk[ntk-1] is TK_EOF */
  int ntk, cap, i;
  lex_token tkbuf[64];
  mm_buf *ob;           /* where text goes now */
  mm_buf pool[NPOOL];
  int npool;
  int nparam;           /* ? seen so far */
  int depth;
  jmp_buf jb;
  char cte[16][NAMEMAX];
  int ncte;
  int dup_mode;         /* inside ON DUPLICATE KEY UPDATE */
  char row_alias[NAMEMAX]; /* INSERT ... VALUES (...) AS alias */
  size_t div_start, div_end; /* last a/b written as mm_div(...) */
  reftab *refs;         /* when non-NULL, table references are recorded here */
  int nrefs, maxrefs;
} rw;

/* ---- errors ------------------------------------------------------------ */

static void fail(rw *r, int code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
static void fail(rw *r, int code, const char *state, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  r->err->code = code;
  memcpy(r->err->sqlstate, state, 6);
  vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
  va_end(ap);
  longjmp(r->jb, MM_ESQL);
}

static void syntax(rw *r, const lex_token *t) __attribute__((noreturn));
static void syntax(rw *r, const lex_token *t) {
  size_t off = (size_t)(t->p - r->src);
  if (off > r->len) off = r->len;
  int line = 1;
  for (size_t k = 0; k < off; k++)
    if (r->src[k] == '\n') line++;
  char near[81];
  size_t n = r->len - off;
  if (n > 80) n = 80;
  memcpy(near, r->src + off, n);
  near[n] = 0;
  fail(r, 1064, "42000",
       "You have an error in your SQL syntax; check the manual that corresponds to your MySQL "
       "server version for the right syntax to use near '%s' at line %d",
       near, line);
}

static void unsupported(rw *r, const char *what) __attribute__((noreturn));
static void unsupported(rw *r, const char *what) {
  fail(r, 1235, "42000", "This version of mmsql doesn't yet support '%s'", what);
}

static void oom(rw *r) __attribute__((noreturn));
static void oom(rw *r) { longjmp(r->jb, MM_ENOMEM); }

/* ---- tokens ------------------------------------------------------------ */

static inline lex_token *T(rw *r) { return &r->tk[r->i]; }
static inline lex_token *P(rw *r, int k) {
  int j = r->i + k;
  return &r->tk[j < r->ntk ? j : r->ntk - 1];
}
static inline void adv(rw *r) {
  if (r->i < r->ntk - 1) r->i++;
}
static inline int is_kw(rw *r, const char *kw) { return lex_is(T(r), kw); }
static inline int is_op(rw *r, const char *op) { return lex_is_op(T(r), op); }
static int accept_kw(rw *r, const char *kw) {
  if (!is_kw(r, kw)) return 0;
  adv(r);
  return 1;
}
static int accept_op(rw *r, const char *op) {
  if (!is_op(r, op)) return 0;
  adv(r);
  return 1;
}
static void expect_kw(rw *r, const char *kw) {
  if (!accept_kw(r, kw)) syntax(r, T(r));
}
static void expect_op(rw *r, const char *op) {
  if (!accept_op(r, op)) syntax(r, T(r));
}

static void tokenize(rw *r) {
  lex l;
  lex_init(&l, r->src, r->len);
  l.no_backslash_escapes = r->nbe;
  r->tk = r->tkbuf;
  r->cap = (int)MM_ARRAY_SIZE(r->tkbuf);
  r->ntk = 0;
  for (;;) {
    if (r->ntk == r->cap) {
      int nc = r->cap * 2;
      lex_token *n = r->tk == r->tkbuf ? mm_malloc((size_t)nc * sizeof *n)
                                       : mm_realloc(r->tk, (size_t)nc * sizeof *n);
      if (!n) oom(r);
      if (r->tk == r->tkbuf) memcpy(n, r->tkbuf, sizeof r->tkbuf);
      r->tk = n;
      r->cap = nc;
    }
    lex_token *t = &r->tk[r->ntk++];
    int ty = lex_next(&l, t);
    if (ty == TK_ERROR) syntax(r, t);
    if (ty == TK_EOF) break;
    /* a trailing ';' is not part of the statement */
    if (ty == TK_OP && lex_is_op(t, ";")) {
      lex_token u;
      if (lex_peek(&l, &u) == TK_EOF) {
        t->type = TK_EOF;
        t->n = 0;
        break;
      }
    }
  }
}

/* ---- output ------------------------------------------------------------ */

static inline void putn(rw *r, const char *s, size_t n) {
  if (mm_buf_append(r->ob, s, n)) oom(r);
}
static inline void put(rw *r, const char *s) { putn(r, s, strlen(s)); }
static inline void putch(rw *r, char c) {
  if (mm_buf_putc(r->ob, c)) oom(r);
}
static void putf(rw *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(rw *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = mm_buf_vprintf(r->ob, fmt, ap);
  va_end(ap);
  if (rc) oom(r);
}
/* Insert s at offset pos of the current output. */
static void ins(rw *r, size_t pos, const char *s, size_t n) {
  mm_buf *b = r->ob;
  if (mm_buf_reserve(b, n + 1)) oom(r);
  memmove(b->p + pos + n, b->p + pos, b->len - pos);
  memcpy(b->p + pos, s, n);
  b->len += n;
  b->p[b->len] = 0;
}
static void inss(rw *r, size_t pos, const char *s) { ins(r, pos, s, strlen(s)); }

/* "name" with embedded quotes doubled and NUL bytes dropped. */
static void put_ident(rw *r, const char *s, size_t n) {
  putch(r, '"');
  for (size_t k = 0; k < n; k++) {
    if (s[k] == '"') putch(r, '"');
    if (s[k]) putch(r, s[k]);
  }
  putch(r, '"');
}

static mm_buf *tmp_get(rw *r) {
  if (r->npool == NPOOL) unsupported(r, "statement nesting this deep");
  mm_buf *b = &r->pool[r->npool++];
  mm_buf_reset(b);
  return b;
}
static void tmp_put(rw *r) { r->npool--; }

/* Decode a name token (TK_IDENT, TK_QIDENT, or a string used as a name) into
 * buf (NUL-terminated). */
static size_t tok_name(rw *r, const lex_token *t, char *buf) {
  size_t n = 0;
  if (t->type == TK_IDENT) {
    if (t->n >= NAMEMAX) goto toolong;
    memcpy(buf, t->p, t->n);
    n = t->n;
  } else if (t->type == TK_QIDENT || t->type == TK_STRING) {
    mm_buf *b = tmp_get(r);
    if (lex_unquote(t, r->nbe, b) == MM_ENOMEM) oom(r);
    if (b->len >= NAMEMAX) { tmp_put(r); goto toolong; }
    if (b->len) memcpy(buf, b->p, b->len);
    n = b->len;
    tmp_put(r);
  } else {
    syntax(r, t);
  }
  buf[n] = 0;
  return n;
toolong:
  fail(r, 1059, "42000", "Identifier name '%.*s' is too long", (int)MM_MIN(t->n, 64), t->p);
}

static void put_name_tok(rw *r, const lex_token *t) {
  char buf[NAMEMAX];
  size_t n = tok_name(r, t, buf);
  put_ident(r, buf, n);
}

static int is_name_tok(rw *r, const lex_token *t) {
  if (t->type == TK_IDENT || t->type == TK_QIDENT) return 1;
  return t->type == TK_STRING && (r->in->mode & RW_MODE_ANSI_QUOTES) && t->p[0] == '"';
}

/* Words that end an expression or clause and so cannot be an implicit alias. */
static const char *const reserved[] = {
    "FROM", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "UNION", "EXCEPT", "INTERSECT", "INTO",
    "FOR", "LOCK", "WINDOW", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "NATURAL",
    "STRAIGHT_JOIN", "OUTER", "SET", "VALUES", "VALUE", "SELECT", "AND", "OR", "XOR", "NOT", "AS",
    "IS", "IN", "LIKE", "BETWEEN", "USE", "FORCE", "IGNORE", "PARTITION", "WITH", "ASC", "DESC",
    "DIV", "MOD", "REGEXP", "RLIKE", "COLLATE", "ESCAPE", "THEN", "WHEN", "ELSE", "END", "CASE",
    "OFFSET", "PROCEDURE", "DUPLICATE", "SOUNDS", "RETURNING", "FETCH", NULL};
static int is_reserved(const lex_token *t) {
  if (t->type != TK_IDENT) return 0;
  for (int k = 0; reserved[k]; k++)
    if (lex_is(t, reserved[k])) return 1;
  return 0;
}

/* ---- literals ------------------------------------------------------------ */

static void put_hex_blob(rw *r, const unsigned char *p, size_t n) {
  static const char hx[] = "0123456789ABCDEF";
  put(r, "X'");
  for (size_t k = 0; k < n; k++) {
    putch(r, hx[p[k] >> 4]);
    putch(r, hx[p[k] & 15]);
  }
  putch(r, '\'');
}

/* A string value as an SQLite literal; NUL bytes force a blob cast to text. */
static void put_str_value(rw *r, const char *s, size_t n) {
  if (n && memchr(s, 0, n)) {
    put(r, "CAST(");
    put_hex_blob(r, (const unsigned char *)s, n);
    put(r, " AS TEXT)");
    return;
  }
  putch(r, '\'');
  const char *q;
  while (n && (q = memchr(s, '\'', n))) {
    putn(r, s, (size_t)(q - s) + 1);
    putch(r, '\'');
    n -= (size_t)(q - s) + 1;
    s = q + 1;
  }
  putn(r, s, n);
  putch(r, '\'');
}

/* One or more adjacent string tokens (MySQL concatenates 'a' 'b'). */
static void put_strings(rw *r, int binary) {
  mm_buf *b = tmp_get(r);
  do {
    if (lex_unquote(T(r), r->nbe, b) == MM_ENOMEM) oom(r);
    adv(r);
  } while (T(r)->type == TK_STRING && !(r->in->mode & RW_MODE_ANSI_QUOTES && T(r)->p[0] == '"'));
  if (b->oom) oom(r);
  if (binary) put_hex_blob(r, (const unsigned char *)b->p, b->len);
  else put_str_value(r, b->p ? b->p : "", b->len);
  tmp_put(r);
}

static int is_charset_intro(const lex_token *t) {
  static const char *const cs[] = {"_utf8", "_utf8mb4", "_utf8mb3", "_latin1", "_ascii",
                                   "_binary", "_ucs2", "_utf16", "_utf32", "_cp1252", NULL};
  if (t->type != TK_IDENT || t->n < 2 || t->p[0] != '_') return 0;
  for (int k = 0; cs[k]; k++)
    if (lex_is(t, cs[k])) return 1;
  return 0;
}

static void put_integer(rw *r, const lex_token *t, int neg) {
  /* digits only; compare with 9223372036854775807 (808 when negated) */
  const char *p = t->p;
  size_t n = t->n;
  while (n > 1 && *p == '0') { p++; n--; }
  int fits = n < 19 || (n == 19 && memcmp(p, neg ? "9223372036854775808" : "9223372036854775807", 19) <= 0);
  if (neg) putch(r, '-');
  if (fits) putn(r, p, n);
  else {
    /* out of BIGINT range: a string, so a DECIMAL/BIGINT UNSIGNED column gets it exactly */
    putch(r, '\'');
    putn(r, p, n);
    putch(r, '\'');
  }
}

static void put_decimal(rw *r, const lex_token *t, int neg) {
  int sig = 0, started = 0;
  for (size_t k = 0; k < t->n; k++) {
    char c = t->p[k];
    if (c >= '1' && c <= '9') started = 1;
    if (isdigit((unsigned char)c) && started) sig++;
  }
  if (sig > 15) {
    putch(r, '\'');
    if (neg) putch(r, '-');
    if (t->p[0] == '.') putch(r, '0');
    putn(r, t->p, t->n);
    putch(r, '\'');
  } else {
    if (neg) putch(r, '-');
    if (t->p[0] == '.') putch(r, '0');
    putn(r, t->p, t->n);
  }
}

static void put_param(rw *r) {
  if (r->dup_mode) unsupported(r, "? placeholders in ON DUPLICATE KEY UPDATE");
  putf(r, "?%d", ++r->nparam);
  adv(r);
}

/* ---- names ---------------------------------------------------------------- */

static int ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

static int is_cte(rw *r, const char *name) {
  for (int k = 0; k < r->ncte; k++)
    if (ieq(r->cte[k], name)) return 1;
  return 0;
}

/* Write a table reference: "db.t" (information_schema names upper-cased),
 * or a CTE name.  dbtok may be NULL.  Fills db/name (NAMEMAX each). */
static void put_table(rw *r, const lex_token *dbtok, const lex_token *ntok, char *db, char *name) {
  tok_name(r, ntok, name);
  if (dbtok) tok_name(r, dbtok, db);
  else if (is_cte(r, name)) {
    db[0] = 0;
    put_ident(r, name, strlen(name));
    return;
  } else if (r->in->curdb && r->in->curdb[0]) {
    snprintf(db, NAMEMAX, "%s", r->in->curdb);
  } else {
    fail(r, 1046, "3D000", "No database selected");
  }
  char full[2 * NAMEMAX + 2];
  if (ieq(db, "information_schema")) {
    char up[NAMEMAX];
    size_t k;
    for (k = 0; name[k]; k++) up[k] = (char)toupper((unsigned char)name[k]);
    up[k] = 0;
    snprintf(full, sizeof full, "information_schema.%s", up);
  } else {
    snprintf(full, sizeof full, "%s.%s", db, name);
  }
  put_ident(r, full, strlen(full));
}

/* ---- expressions ------------------------------------------------------------ */

static ex e_expr(rw *r, int minbp);
static void q_query(rw *r);
static void table_refs(rw *r);

static void depth_in(rw *r) {
  if (++r->depth > MAXDEPTH) unsupported(r, "expressions nested this deep");
}

static void wrap(rw *r, size_t st, ex e, int need) {
  if (e.prec < need) {
    inss(r, st, "(");
    putch(r, ')');
  }
}

static int starts_query(rw *r, int k) { return lex_is(P(r, k), "SELECT") || lex_is(P(r, k), "WITH"); }

/* "( query )" or "( expr, ... )"; current token is "(". */
static ex e_paren(rw *r) {
  adv(r);
  putch(r, '(');
  ex e = {P_PRIM, 0};
  if (starts_query(r, 0) || (is_op(r, "(") && starts_query(r, 1))) {
    q_query(r);
  } else {
    ex in = e_expr(r, 0);
    int n = 1;
    while (accept_op(r, ",")) {
      put(r, ", ");
      e_expr(r, 0);
      n++;
    }
    if (n == 1) e.f = in.f & (EX_STR | EX_COLL);
  }
  expect_op(r, ")");
  putch(r, ')');
  return e;
}

static const char *const units[] = {
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
    "SECOND_MICROSECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND",
    "HOUR_SECOND", "HOUR_MINUTE", "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR",
    "YEAR_MONTH", NULL};

/* An interval unit keyword, written as 'UNIT'. */
static void put_unit(rw *r) {
  lex_token *t = T(r);
  for (int k = 0; units[k]; k++)
    if (lex_is(t, units[k])) {
      putf(r, "'%s'", units[k]);
      adv(r);
      return;
    }
  /* MySQL also accepts SQL_TSI_DAY etc. in TIMESTAMPADD/DIFF */
  if (t->type == TK_IDENT && t->n > 8 && strncasecmp(t->p, "SQL_TSI_", 8) == 0) {
    for (int k = 0; units[k]; k++)
      if (t->n - 8 == strlen(units[k]) && strncasecmp(t->p + 8, units[k], t->n - 8) == 0) {
        putf(r, "'%s'", units[k]);
        adv(r);
        return;
      }
  }
  syntax(r, t);
}

/* INTERVAL expr unit, after the INTERVAL keyword: writes ", expr, 'UNIT'". */
static void interval_tail(rw *r) {
  put(r, ", ");
  e_expr(r, 0);
  put(r, ", ");
  put_unit(r);
}

static const char *map_collation(const lex_token *t) {
  size_t n = t->n;
  const char *p = t->p;
  if (t->type == TK_QIDENT || t->type == TK_STRING) { p++; n = n >= 2 ? n - 2 : 0; }
  if ((n >= 4 && strncasecmp(p + n - 4, "_bin", 4) == 0) || (n == 6 && strncasecmp(p, "binary", 6) == 0) ||
      (n >= 3 && strncasecmp(p + n - 3, "_cs", 3) == 0))
    return "BINARY";
  return "mm_ci";
}

/* CAST(x AS type) / CONVERT(x, type): after the x and separator; writes ", 'TYPE')". */
static void cast_type(rw *r) {
  char ty[64];
  lex_token *t = T(r);
  if (t->type != TK_IDENT) syntax(r, t);
  const char *base = NULL;
  if (lex_is(t, "SIGNED") || lex_is(t, "INT") || lex_is(t, "INTEGER") || lex_is(t, "BIGINT")) base = "SIGNED";
  else if (lex_is(t, "UNSIGNED")) base = "UNSIGNED";
  else if (lex_is(t, "CHAR") || lex_is(t, "NCHAR") || lex_is(t, "VARCHAR") || lex_is(t, "TEXT")) base = "CHAR";
  else if (lex_is(t, "BINARY")) base = "BINARY";
  else if (lex_is(t, "DATE")) base = "DATE";
  else if (lex_is(t, "DATETIME") || lex_is(t, "TIMESTAMP")) base = "DATETIME";
  else if (lex_is(t, "TIME")) base = "TIME";
  else if (lex_is(t, "DECIMAL") || lex_is(t, "NUMERIC") || lex_is(t, "DEC")) base = "DECIMAL";
  else if (lex_is(t, "DOUBLE") || lex_is(t, "REAL")) base = "DOUBLE";
  else if (lex_is(t, "FLOAT")) base = "FLOAT";
  else if (lex_is(t, "JSON")) base = "JSON";
  else if (lex_is(t, "YEAR")) base = "YEAR";
  else syntax(r, t);
  adv(r);
  if ((!strcmp(base, "SIGNED") || !strcmp(base, "UNSIGNED")) && (is_kw(r, "INTEGER") || is_kw(r, "INT")))
    adv(r);
  if (!strcmp(base, "DOUBLE")) accept_kw(r, "PRECISION");
  snprintf(ty, sizeof ty, "%s", base);
  if (accept_op(r, "(")) {
    lex_token *a = T(r);
    if (a->type != TK_INTEGER || a->n > 10) syntax(r, a);
    adv(r);
    size_t l = strlen(ty);
    snprintf(ty + l, sizeof ty - l, "(%.*s", (int)a->n, a->p);
    if (accept_op(r, ",")) {
      lex_token *b = T(r);
      if (b->type != TK_INTEGER || b->n > 10) syntax(r, b);
      adv(r);
      l = strlen(ty);
      snprintf(ty + l, sizeof ty - l, ",%.*s", (int)b->n, b->p);
    }
    expect_op(r, ")");
    l = strlen(ty);
    snprintf(ty + l, sizeof ty - l, ")");
  }
  /* CHAR CHARACTER SET x / CHARSET x / ASCII / UNICODE / BINARY */
  if (accept_kw(r, "CHARACTER")) {
    expect_kw(r, "SET");
    adv(r);
  } else if (accept_kw(r, "CHARSET")) {
    adv(r);
  } else if (!strcmp(base, "CHAR") && (accept_kw(r, "ASCII") || accept_kw(r, "UNICODE") || accept_kw(r, "BINARY"))) {
  }
  putf(r, ", '%s')", ty);
}

static void window_spec(rw *r);

static void order_items(rw *r) {
  do {
    e_expr(r, 0);
    if (accept_kw(r, "ASC")) put(r, " ASC");
    else if (accept_kw(r, "DESC")) put(r, " DESC");
    if (is_op(r, ",")) put(r, ", ");
  } while (accept_op(r, ","));
}

/* OVER (spec) | OVER name */
static void over_clause(rw *r) {
  if (!accept_kw(r, "OVER")) return;
  put(r, " OVER ");
  if (is_name_tok(r, T(r))) {
    put_name_tok(r, T(r));
    adv(r);
    return;
  }
  window_spec(r);
}

static void window_spec(rw *r) {
  expect_op(r, "(");
  putch(r, '(');
  if (is_name_tok(r, T(r)) && !is_kw(r, "PARTITION") && !is_kw(r, "ORDER") && !is_kw(r, "ROWS") &&
      !is_kw(r, "RANGE")) {
    put_name_tok(r, T(r));
    adv(r);
    putch(r, ' ');
  }
  if (accept_kw(r, "PARTITION")) {
    expect_kw(r, "BY");
    put(r, "PARTITION BY ");
    do {
      e_expr(r, 0);
      if (is_op(r, ",")) put(r, ", ");
    } while (accept_op(r, ","));
    putch(r, ' ');
  }
  if (accept_kw(r, "ORDER")) {
    expect_kw(r, "BY");
    put(r, "ORDER BY ");
    order_items(r);
    putch(r, ' ');
  }
  if (is_kw(r, "ROWS") || is_kw(r, "RANGE")) {
    /* frame: keywords and numbers pass through */
    while (!is_op(r, ")") && T(r)->type != TK_EOF) {
      lex_token *t = T(r);
      if (t->type == TK_IDENT) {
        if (lex_is(t, "INTERVAL")) unsupported(r, "RANGE INTERVAL frames");
        putn(r, t->p, t->n);
        adv(r);
      } else if (t->type == TK_INTEGER) {
        putn(r, t->p, t->n);
        adv(r);
      } else if (t->type == TK_PARAM) {
        put_param(r);
      } else {
        syntax(r, t);
      }
      putch(r, ' ');
    }
  }
  expect_op(r, ")");
  putch(r, ')');
}

/* Generic argument list after "name(": writes args and ")". */
static void args_tail(rw *r) {
  if (!is_op(r, ")")) {
    do {
      e_expr(r, 0);
      if (is_op(r, ",")) put(r, ", ");
    } while (accept_op(r, ","));
  }
  expect_op(r, ")");
  putch(r, ')');
}

/* VALUES(col) / alias.col inside ON DUPLICATE KEY UPDATE: ?(k+2). */
static void put_dup_value(rw *r, const char *col) {
  rw_out *o = r->out;
  int k;
  for (k = 0; k < o->ndup_cols; k++)
    if (ieq(o->dup_cols[k], col)) break;
  if (k == o->ndup_cols) {
    char **n = mm_realloc(o->dup_cols, (size_t)(k + 1) * sizeof *n);
    if (!n) oom(r);
    o->dup_cols = n;
    if (!(n[k] = mm_strdup(col))) oom(r);
    o->ndup_cols++;
  }
  putf(r, "?%d", k + 2);
}

/* GROUP_CONCAT([DISTINCT] e, ... [ORDER BY k [ASC|DESC], ...] [SEPARATOR 's'])
 * -> mm_group_concat(sep, distinct, nexpr, e..., k1, dir1, ...). */
static void group_concat(rw *r) {
  size_t st = r->ob->len;
  put(r, "mm_group_concat(',', ");
  int distinct = accept_kw(r, "DISTINCT");
  put(r, distinct ? "1, " : "0, ");
  size_t npos = r->ob->len;
  int n = 0;
  do {
    put(r, ", ");
    e_expr(r, 0);
    n++;
  } while (accept_op(r, ","));
  char nb[16];
  snprintf(nb, sizeof nb, "%d", n);
  inss(r, npos, nb);
  if (accept_kw(r, "ORDER")) {
    expect_kw(r, "BY");
    do {
      put(r, ", ");
      e_expr(r, 0);
      if (accept_kw(r, "DESC")) put(r, ", 1");
      else {
        accept_kw(r, "ASC");
        put(r, ", 0");
      }
    } while (accept_op(r, ","));
  }
  if (accept_kw(r, "SEPARATOR")) {
    if (T(r)->type != TK_STRING) syntax(r, T(r));
    /* replace the default ',' */
    mm_buf *b = tmp_get(r);
    if (lex_unquote(T(r), r->nbe, b) == MM_ENOMEM) oom(r);
    adv(r);
    mm_buf *save = r->ob;
    mm_buf *s = tmp_get(r);
    r->ob = s;
    put_str_value(r, b->p ? b->p : "", b->len);
    r->ob = save;
    size_t at = st + strlen("mm_group_concat(");
    memmove(r->ob->p + at, r->ob->p + at + 3, r->ob->len - at - 3);
    r->ob->len -= 3;
    ins(r, at, s->p, s->len);
    tmp_put(r);
    tmp_put(r);
  }
  expect_op(r, ")");
  putch(r, ')');
}

/* Function call; current token is the name, next is "(". */
static ex e_func(rw *r) {
  lex_token *nt = T(r);
  char name[64];
  size_t nn = nt->n < sizeof name ? nt->n : sizeof name - 1;
  for (size_t k = 0; k < nn; k++) name[k] = (char)tolower((unsigned char)nt->p[k]);
  name[nn] = 0;
  ex e = {P_PRIM, 0};
  adv(r);
  adv(r); /* ( */
#define NAME(s) (!strcmp(name, s))
  if (nt->type == TK_QIDENT) goto generic;
  if (NAME("count")) {
    putn(r, nt->p, nt->n);
    putch(r, '(');
    if (accept_op(r, "*")) {
      put(r, "*)");
      expect_op(r, ")");
    } else {
      if (accept_kw(r, "DISTINCT")) put(r, "DISTINCT ");
      else accept_kw(r, "ALL");
      e_expr(r, 0);
      if (is_op(r, ",")) unsupported(r, "COUNT(DISTINCT) with several expressions");
      expect_op(r, ")");
      putch(r, ')');
    }
    over_clause(r);
    return e;
  }
  if (NAME("sum") || NAME("avg") || NAME("min") || NAME("max") || NAME("bit_and") || NAME("bit_or") ||
      NAME("bit_xor") || NAME("std") || NAME("stddev") || NAME("stddev_pop") || NAME("stddev_samp") ||
      NAME("variance") || NAME("var_pop") || NAME("var_samp")) {
    putn(r, nt->p, nt->n);
    putch(r, '(');
    if (accept_kw(r, "DISTINCT")) put(r, "DISTINCT ");
    else accept_kw(r, "ALL");
    args_tail(r);
    over_clause(r);
    return e;
  }
  if (NAME("group_concat")) {
    group_concat(r);
    return e;
  }
  if (NAME("cast") || NAME("convert")) {
    size_t st = r->ob->len;
    put(r, "mm_cast(");
    e_expr(r, 0);
    if (NAME("convert") && accept_kw(r, "USING")) {
      /* CONVERT(x USING cs): character sets are all utf8mb4 here */
      adv(r);
      expect_op(r, ")");
      memmove(r->ob->p + st, r->ob->p + st + 8, r->ob->len - st - 8);
      r->ob->len -= 8;
      r->ob->p[r->ob->len] = 0;
      inss(r, st, "(");
      putch(r, ')');
      return e;
    }
    if (NAME("cast")) expect_kw(r, "AS");
    else expect_op(r, ",");
    cast_type(r);
    expect_op(r, ")");
    return e;
  }
  if (NAME("substring") || NAME("substr") || NAME("mid")) {
    put(r, "substring(");
    e_expr(r, 0);
    if (accept_kw(r, "FROM") || accept_op(r, ",")) {
      put(r, ", ");
      e_expr(r, 0);
      if (accept_kw(r, "FOR") || accept_op(r, ",")) {
        put(r, ", ");
        e_expr(r, 0);
      }
    }
    expect_op(r, ")");
    putch(r, ')');
    return e;
  }
  if (NAME("trim")) {
    const char *mode = NULL;
    if (accept_kw(r, "LEADING")) mode = "LEADING";
    else if (accept_kw(r, "TRAILING")) mode = "TRAILING";
    else if (accept_kw(r, "BOTH")) mode = "BOTH";
    if (mode && accept_kw(r, "FROM")) {
      put(r, "mm_trim(");
      e_expr(r, 0);
      putf(r, ", ' ', '%s')", mode);
    } else {
      /* TRIM([mode] [rem FROM] s) */
      mm_buf *save = r->ob, *rem = tmp_get(r);
      r->ob = rem;
      e_expr(r, 0);
      r->ob = save;
      if (accept_kw(r, "FROM")) {
        put(r, "mm_trim(");
        e_expr(r, 0);
        put(r, ", ");
        putn(r, rem->p, rem->len);
        putf(r, ", '%s')", mode ? mode : "BOTH");
      } else {
        if (mode) syntax(r, T(r));
        put(r, "trim(");
        putn(r, rem->p, rem->len);
        putch(r, ')');
      }
      tmp_put(r);
    }
    expect_op(r, ")");
    return e;
  }
  if (NAME("position")) {
    put(r, "locate(");
    e_expr(r, 8); /* stop before IN */
    expect_kw(r, "IN");
    put(r, ", ");
    e_expr(r, 0);
    expect_op(r, ")");
    putch(r, ')');
    return e;
  }
  if (NAME("extract")) {
    put(r, "mm_extract(");
    put_unit(r);
    expect_kw(r, "FROM");
    put(r, ", ");
    e_expr(r, 0);
    expect_op(r, ")");
    putch(r, ')');
    return e;
  }
  if (NAME("date_add") || NAME("date_sub") || NAME("adddate") || NAME("subdate")) {
    int sub = NAME("date_sub") || NAME("subdate");
    put(r, sub ? "mm_date_sub(" : "mm_date_add(");
    e_expr(r, 0);
    expect_op(r, ",");
    if (accept_kw(r, "INTERVAL")) {
      interval_tail(r);
    } else {
      put(r, ", ");
      e_expr(r, 0);
      put(r, ", 'DAY'");
    }
    expect_op(r, ")");
    putch(r, ')');
    return e;
  }
  if (NAME("timestampdiff")) {
    put(r, "timestampdiff(");
    put_unit(r);
    expect_op(r, ",");
    put(r, ", ");
    args_tail(r);
    return e;
  }
  if (NAME("timestampadd")) {
    /* TIMESTAMPADD(unit, n, d) -> mm_date_add(d, n, 'UNIT') */
    mm_buf *save = r->ob, *u = tmp_get(r), *n = tmp_get(r);
    r->ob = u;
    put_unit(r);
    expect_op(r, ",");
    r->ob = n;
    e_expr(r, 0);
    expect_op(r, ",");
    r->ob = save;
    put(r, "mm_date_add(");
    e_expr(r, 0);
    put(r, ", ");
    putn(r, n->p, n->len);
    put(r, ", ");
    putn(r, u->p, u->len);
    expect_op(r, ")");
    putch(r, ')');
    tmp_put(r);
    tmp_put(r);
    return e;
  }
  if (NAME("char")) {
    put(r, "char(");
    if (!is_op(r, ")")) {
      do {
        e_expr(r, 0);
        if (is_op(r, ",")) put(r, ", ");
      } while (accept_op(r, ","));
    }
    if (accept_kw(r, "USING")) adv(r);
    expect_op(r, ")");
    putch(r, ')');
    return e;
  }
  if (NAME("values")) {
    if (!r->dup_mode) syntax(r, nt);
    char col[NAMEMAX];
    lex_token *c = T(r);
    if (!is_name_tok(r, c)) syntax(r, c);
    adv(r);
    if (accept_op(r, ".")) { c = T(r); adv(r); }
    if (accept_op(r, ".")) { c = T(r); adv(r); }
    tok_name(r, c, col);
    expect_op(r, ")");
    put_dup_value(r, col);
    return e;
  }
  if (NAME("match")) unsupported(r, "MATCH ... AGAINST");
  if (NAME("default")) unsupported(r, "DEFAULT()");
  if (NAME("row")) unsupported(r, "ROW()");
  if (NAME("if")) { put(r, "iif("); args_tail(r); return e; }
  if (NAME("left") || NAME("right") || NAME("insert") || NAME("mod") || NAME("isnull") ||
      NAME("log") || NAME("truncate") || NAME("round") || NAME("format")) {
    putf(r, "mm_%s(", name);
    args_tail(r);
    return e;
  }
  if (NAME("current_timestamp") || NAME("localtime") || NAME("localtimestamp")) {
    put(r, "now(");
    args_tail(r);
    return e;
  }
  if (NAME("current_date")) { put(r, "curdate("); args_tail(r); return e; }
  if (NAME("current_time")) { put(r, "curtime("); args_tail(r); return e; }
generic:
  if (nt->type == TK_QIDENT) put_name_tok(r, nt);
  else putn(r, nt->p, nt->n);
  putch(r, '(');
  args_tail(r);
  over_clause(r);
  return e;
#undef NAME
}

/* Column reference a | t.a | db.t.a (written "t"."a"); current token is a name. */
static ex e_column(rw *r) {
  lex_token *a = T(r), *b = NULL, *c = NULL;
  adv(r);
  if (is_op(r, ".") && (is_name_tok(r, P(r, 1)) || lex_is_op(P(r, 1), "*"))) {
    adv(r);
    b = T(r);
    adv(r);
    if (is_op(r, ".") && is_name_tok(r, P(r, 1))) {
      adv(r);
      c = T(r);
      adv(r);
    }
  }
  if (b && lex_is_op(b, "*")) syntax(r, b);
  if (c) { a = b; b = c; }
  if (b && r->dup_mode && r->row_alias[0]) {
    char q[NAMEMAX];
    tok_name(r, a, q);
    if (!strcmp(q, r->row_alias)) {
      char col[NAMEMAX];
      tok_name(r, b, col);
      put_dup_value(r, col);
      return (ex){P_PRIM, 0};
    }
  }
  put_name_tok(r, a);
  if (b) {
    putch(r, '.');
    put_name_tok(r, b);
  }
  return (ex){P_PRIM, EX_COL};
}

static ex e_primary(rw *r) {
  lex_token *t = T(r);
  switch (t->type) {
  case TK_INTEGER:
    put_integer(r, t, 0);
    adv(r);
    return (ex){P_PRIM, 0};
  case TK_DECIMAL:
    put_decimal(r, t, 0);
    adv(r);
    return (ex){P_PRIM, 0};
  case TK_FLOAT:
    putn(r, t->p, t->n);
    adv(r);
    return (ex){P_PRIM, 0};
  case TK_STRING:
    if ((r->in->mode & RW_MODE_ANSI_QUOTES) && t->p[0] == '"') return e_column(r);
    put_strings(r, 0);
    return (ex){P_PRIM, EX_STR};
  case TK_HEX: {
    mm_buf *b = tmp_get(r);
    int rc = lex_unquote(t, r->nbe, b);
    if (rc == MM_ENOMEM) oom(r);
    if (rc != MM_OK) syntax(r, t);
    put_hex_blob(r, (const unsigned char *)b->p, b->len);
    tmp_put(r);
    adv(r);
    return (ex){P_PRIM, 0};
  }
  case TK_BIT: {
    mm_buf *b = tmp_get(r);
    int rc = lex_unquote(t, r->nbe, b);
    if (rc == MM_ENOMEM) oom(r);
    if (rc != MM_OK) syntax(r, t);
    if (b->len <= 7) {
      unsigned long long v = 0;
      for (size_t k = 0; k < b->len; k++) v = v << 8 | (unsigned char)b->p[k];
      putf(r, "%llu", v);
    } else {
      put_hex_blob(r, (const unsigned char *)b->p, b->len);
    }
    tmp_put(r);
    adv(r);
    return (ex){P_PRIM, 0};
  }
  case TK_PARAM:
    put_param(r);
    return (ex){P_PRIM, 0};
  case TK_USERVAR: {
    char name[NAMEMAX];
    lex_token nt = *t;
    nt.p++;
    nt.n--;
    if (nt.n && (nt.p[0] == '\'' || nt.p[0] == '"')) nt.type = TK_STRING;
    else if (nt.n && nt.p[0] == '`') nt.type = TK_QIDENT;
    else nt.type = TK_IDENT;
    size_t n = nt.n ? tok_name(r, &nt, name) : 0;
    name[n] = 0;
    for (size_t k = 0; k < n; k++) name[k] = (char)tolower((unsigned char)name[k]);
    adv(r);
    if (accept_op(r, ":=")) {
      put(r, "mm_set_uservar(");
      put_str_value(r, name, n);
      put(r, ", ");
      e_expr(r, 1);
      putch(r, ')');
    } else {
      put(r, "mm_uservar(");
      put_str_value(r, name, n);
      putch(r, ')');
    }
    return (ex){P_PRIM, 0};
  }
  case TK_SYSVAR: {
    const char *p = t->p + 2, *e = t->p + t->n;
    const char *scope = "";
    const char *dot = memchr(p, '.', (size_t)(e - p));
    if (dot && p[0] != '`') {
      size_t sn = (size_t)(dot - p);
      if ((sn == 7 && !strncasecmp(p, "session", 7)) || (sn == 5 && !strncasecmp(p, "local", 5))) scope = "session";
      else if (sn == 6 && !strncasecmp(p, "global", 6)) scope = "global";
      else syntax(r, t);
      p = dot + 1;
    }
    char name[NAMEMAX];
    size_t n;
    if (p < e && *p == '`') {
      lex_token q = {TK_QIDENT, p, (size_t)(e - p)};
      n = tok_name(r, &q, name);
    } else {
      n = (size_t)(e - p);
      if (n == 0 || n >= NAMEMAX) syntax(r, t);
      memcpy(name, p, n);
      name[n] = 0;
    }
    for (size_t k = 0; k < n; k++) name[k] = (char)tolower((unsigned char)name[k]);
    put(r, "mm_sysvar(");
    put_str_value(r, name, n);
    putf(r, ", '%s')", scope);
    adv(r);
    return (ex){P_PRIM, 0};
  }
  case TK_OP:
    if (lex_is_op(t, "(")) return e_paren(r);
    syntax(r, t);
  case TK_QIDENT:
    if (lex_is_op(P(r, 1), "(") && P(r, 1)->p == t->p + t->n) return e_func(r);
    return e_column(r);
  case TK_IDENT:
    break;
  default:
    syntax(r, t);
  }
  /* bare words */
  lex_token *nx = P(r, 1);
  if (is_charset_intro(t) && nx->type == TK_STRING) {
    int bin = lex_is(t, "_binary");
    adv(r);
    put_strings(r, bin);
    return (ex){P_PRIM, bin ? 0 : EX_STR};
  }
  if ((lex_is(t, "N") || lex_is(t, "_utf8")) && nx->type == TK_STRING && nx->p == t->p + t->n) {
    adv(r);
    put_strings(r, 0);
    return (ex){P_PRIM, EX_STR};
  }
  if ((lex_is(t, "DATE") || lex_is(t, "TIME") || lex_is(t, "TIMESTAMP")) && nx->type == TK_STRING) {
    adv(r);
    put_strings(r, 0);
    return (ex){P_PRIM, 0};
  }
  if (lex_is_op(nx, "(")) return e_func(r);
  if (lex_is(t, "NULL")) { put(r, "NULL"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "TRUE")) { put(r, "1"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "FALSE")) { put(r, "0"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "CURRENT_TIMESTAMP") || lex_is(t, "LOCALTIME") || lex_is(t, "LOCALTIMESTAMP")) {
    put(r, "now()"); adv(r); return (ex){P_PRIM, 0};
  }
  if (lex_is(t, "CURRENT_DATE")) { put(r, "curdate()"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "CURRENT_TIME")) { put(r, "curtime()"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "UTC_TIMESTAMP")) { put(r, "utc_timestamp()"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "UTC_DATE")) { put(r, "utc_date()"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "UTC_TIME")) { put(r, "utc_time()"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "CURRENT_USER")) { put(r, "current_user()"); adv(r); return (ex){P_PRIM, 0}; }
  if (lex_is(t, "CASE")) {
    adv(r);
    put(r, "CASE");
    if (!is_kw(r, "WHEN")) {
      putch(r, ' ');
      e_expr(r, 0);
    }
    if (!is_kw(r, "WHEN")) syntax(r, T(r));
    while (accept_kw(r, "WHEN")) {
      put(r, " WHEN ");
      e_expr(r, 0);
      expect_kw(r, "THEN");
      put(r, " THEN ");
      e_expr(r, 0);
    }
    if (accept_kw(r, "ELSE")) {
      put(r, " ELSE ");
      e_expr(r, 0);
    }
    expect_kw(r, "END");
    put(r, " END");
    return (ex){P_PRIM, 0};
  }
  if (lex_is(t, "DEFAULT")) unsupported(r, "DEFAULT in expressions");
  if (is_reserved(t) || lex_is(t, "INTERVAL") || lex_is(t, "EXISTS")) syntax(r, t);
  return e_column(r);
}

static ex e_prefix(rw *r) {
  lex_token *t = T(r);
  size_t st = r->ob->len;
  if (lex_is_op(t, "-")) {
    adv(r);
    lex_token *n = T(r);
    if (n->type == TK_INTEGER) { put_integer(r, n, 1); adv(r); return (ex){P_UNARY, 0}; }
    if (n->type == TK_DECIMAL) { put_decimal(r, n, 1); adv(r); return (ex){P_UNARY, 0}; }
    putch(r, '-');
    size_t os = r->ob->len;
    ex o = e_expr(r, 14);
    if (r->ob->p[os] == '-') inss(r, os, " ");
    wrap(r, os, o, P_UNARY);
    return (ex){P_UNARY, 0};
  }
  if (lex_is_op(t, "+")) {
    adv(r);
    ex o = e_expr(r, 14);
    o.f &= ~EX_COL;
    return o;
  }
  if (lex_is_op(t, "~")) {
    adv(r);
    putch(r, '~');
    size_t os = r->ob->len;
    ex o = e_expr(r, 14);
    wrap(r, os, o, P_UNARY);
    return (ex){P_UNARY, 0};
  }
  if (lex_is_op(t, "!") || (lex_is(t, "NOT") && (r->in->mode & RW_MODE_HIGH_NOT_PRECEDENCE))) {
    adv(r);
    put(r, "(NOT ");
    e_expr(r, 15);
    putch(r, ')');
    return (ex){P_PRIM, 0};
  }
  if (lex_is(t, "NOT")) {
    adv(r);
    if (is_kw(r, "EXISTS")) {
      put(r, "NOT ");
      return e_prefix(r);
    }
    put(r, "NOT ");
    size_t os = r->ob->len;
    ex o = e_expr(r, 5);
    wrap(r, os, o, P_NOT);
    return (ex){P_NOT, 0};
  }
  if (lex_is(t, "BINARY") && P(r, 1)->type != TK_EOF &&
      !lex_is_op(P(r, 1), ")") && !lex_is_op(P(r, 1), ",")) {
    adv(r);
    ex o = e_expr(r, 16);
    wrap(r, st, o, P_COLL);
    put(r, " COLLATE BINARY");
    return (ex){P_COLL, EX_COLL};
  }
  if (lex_is(t, "EXISTS")) {
    adv(r);
    expect_op(r, "(");
    put(r, "EXISTS (");
    q_query(r);
    expect_op(r, ")");
    putch(r, ')');
    return (ex){P_PRIM, 0};
  }
  if (lex_is(t, "INTERVAL")) {
    /* INTERVAL n unit + d */
    adv(r);
    mm_buf *save = r->ob, *iv = tmp_get(r);
    r->ob = iv;
    interval_tail(r);
    r->ob = save;
    expect_op(r, "+");
    put(r, "mm_date_add(");
    e_expr(r, 12);
    putn(r, iv->p, iv->len);
    putch(r, ')');
    tmp_put(r);
    return (ex){P_PRIM, 0};
  }
  return e_primary(r);
}

/* MySQL binding power of the binary/postfix operator at the current token
 * (0 if none).  *neg is set for NOT LIKE / NOT IN / NOT BETWEEN / NOT REGEXP. */
static int binop_bp(rw *r, int *neg) {
  lex_token *t = T(r);
  *neg = 0;
  if (t->type == TK_OP) {
    if (lex_is_op(t, "||")) return (r->in->mode & RW_MODE_PIPES_AS_CONCAT) ? 13 : 2;
    if (lex_is_op(t, "&&")) return 4;
    if (lex_is_op(t, "=") || lex_is_op(t, "<=>") || lex_is_op(t, "<>") || lex_is_op(t, "!=") ||
        lex_is_op(t, "<") || lex_is_op(t, ">") || lex_is_op(t, "<=") || lex_is_op(t, ">="))
      return 7;
    if (lex_is_op(t, "|")) return 8;
    if (lex_is_op(t, "&")) return 9;
    if (lex_is_op(t, "<<") || lex_is_op(t, ">>")) return 10;
    if (lex_is_op(t, "+") || lex_is_op(t, "-")) return 11;
    if (lex_is_op(t, "*") || lex_is_op(t, "/") || lex_is_op(t, "%")) return 12;
    if (lex_is_op(t, "^")) return 13;
    if (lex_is_op(t, "->") || lex_is_op(t, "->>")) unsupported(r, "JSON path operators");
    return 0;
  }
  if (t->type != TK_IDENT) return 0;
  if (lex_is(t, "OR")) return 2;
  if (lex_is(t, "XOR")) return 3;
  if (lex_is(t, "AND")) return 4;
  if (lex_is(t, "IS") || lex_is(t, "LIKE") || lex_is(t, "BETWEEN") || lex_is(t, "IN") ||
      lex_is(t, "REGEXP") || lex_is(t, "RLIKE"))
    return 7;
  if (lex_is(t, "SOUNDS")) unsupported(r, "SOUNDS LIKE");
  if (lex_is(t, "MEMBER")) unsupported(r, "MEMBER OF");
  if (lex_is(t, "NOT")) {
    lex_token *n = P(r, 1);
    if (lex_is(n, "LIKE") || lex_is(n, "BETWEEN") || lex_is(n, "IN") || lex_is(n, "REGEXP") || lex_is(n, "RLIKE")) {
      *neg = 1;
      return 7;
    }
    return 0;
  }
  if (lex_is(t, "DIV") || lex_is(t, "MOD")) return 12;
  if (lex_is(t, "COLLATE")) return 16;
  return 0;
}

/* left op right written as fn(left, right). */
static ex as_call(rw *r, size_t st, const char *fn, int rbp) {
  inss(r, st, fn);
  inss(r, st + strlen(fn), "(");
  put(r, ", ");
  e_expr(r, rbp);
  putch(r, ')');
  return (ex){P_PRIM, 0};
}

static ex e_expr(rw *r, int minbp) {
  depth_in(r);
  size_t st = r->ob->len;
  ex l = e_prefix(r);
  for (;;) {
    int neg, bp = binop_bp(r, &neg);
    if (!bp || bp < minbp) break;
    lex_token *t = T(r);
    if (neg) adv(r);
    lex_token *op = T(r);
    adv(r);
    if (bp == 16) { /* COLLATE name */
      lex_token *c = T(r);
      if (!is_name_tok(r, c) && c->type != TK_STRING) syntax(r, c);
      adv(r);
      wrap(r, st, l, P_COLL);
      putf(r, " COLLATE %s", map_collation(c));
      l = (ex){P_COLL, (l.f & EX_COL) | EX_COLL};
      continue;
    }
    if (bp == 7) {
      if (lex_is(op, "IS")) {
        wrap(r, st, l, P_EQ);
        int n = accept_kw(r, "NOT");
        put(r, n ? " IS NOT " : " IS ");
        if (accept_kw(r, "NULL") || accept_kw(r, "UNKNOWN")) put(r, "NULL");
        else if (accept_kw(r, "TRUE")) put(r, "TRUE");
        else if (accept_kw(r, "FALSE")) put(r, "FALSE");
        else syntax(r, T(r));
        l = (ex){P_EQ, 0};
        continue;
      }
      if (lex_is(op, "BETWEEN")) {
        wrap(r, st, l, P_EQ + 1);
        put(r, neg ? " NOT BETWEEN " : " BETWEEN ");
        size_t a = r->ob->len;
        wrap(r, a, e_expr(r, 8), P_EQ + 1);
        expect_kw(r, "AND");
        put(r, " AND ");
        a = r->ob->len;
        wrap(r, a, e_expr(r, 8), P_EQ + 1);
        l = (ex){P_EQ, 0};
        continue;
      }
      if (lex_is(op, "IN")) {
        wrap(r, st, l, P_EQ);
        put(r, neg ? " NOT IN " : " IN ");
        if (!is_op(r, "(")) syntax(r, T(r));
        e_paren(r);
        l = (ex){P_EQ, 0};
        continue;
      }
      if (lex_is(op, "LIKE")) {
        wrap(r, st, l, P_EQ);
        put(r, neg ? " NOT LIKE " : " LIKE ");
        size_t a = r->ob->len;
        wrap(r, a, e_expr(r, 8), P_ESC + 1);
        if (accept_kw(r, "ESCAPE")) {
          put(r, " ESCAPE ");
          size_t b = r->ob->len;
          wrap(r, b, e_prefix(r), P_ESC + 1);
        } else if (!r->nbe) {
          put(r, " ESCAPE '\\'");
        }
        l = (ex){P_EQ, 0};
        continue;
      }
      if (lex_is(op, "REGEXP") || lex_is(op, "RLIKE")) {
        wrap(r, st, l, P_EQ);
        put(r, neg ? " NOT REGEXP " : " REGEXP ");
        size_t a = r->ob->len;
        wrap(r, a, e_expr(r, 8), P_EQ + 1);
        l = (ex){P_EQ, 0};
        continue;
      }
      /* comparison operators */
      int cmp = lex_is_op(op, "<") || lex_is_op(op, ">") || lex_is_op(op, "<=") || lex_is_op(op, ">=");
      int lvl = cmp ? P_CMP : P_EQ;
      const char *sop = lex_is_op(op, "<=>") ? "IS" : lex_is_op(op, "!=") ? "<>" : NULL;
      if (is_kw(r, "ANY") || is_kw(r, "SOME") || is_kw(r, "ALL")) {
        int all = is_kw(r, "ALL");
        if (!lex_is_op(P(r, 1), "(")) syntax(r, T(r));
        if (!all && lex_is_op(op, "=")) sop = "IN";
        else if (all && (lex_is_op(op, "<>") || lex_is_op(op, "!="))) sop = "NOT IN";
        else unsupported(r, "comparison with ANY/ALL other than = ANY and <> ALL");
        adv(r);
        wrap(r, st, l, P_EQ);
        putf(r, " %s ", sop);
        e_paren(r);
        l = (ex){P_EQ, 0};
        continue;
      }
      wrap(r, st, l, lvl);
      putch(r, ' ');
      if (sop) put(r, sop);
      else putn(r, op->p, op->n);
      putch(r, ' ');
      size_t a = r->ob->len;
      ex rt = e_expr(r, 8);
      wrap(r, a, rt, lvl + 1);
      if (!(l.f & EX_COL) && !(rt.f & EX_COL) && ((l.f | rt.f) & EX_STR) && !((l.f | rt.f) & EX_COLL)) {
        /* two non-column strings: MySQL compares them with the connection's
         * case-insensitive collation */
        wrap(r, a, rt, P_COLL);
        put(r, " COLLATE mm_ci");
      }
      l = (ex){lvl, 0};
      continue;
    }
    (void)t;
    /* arithmetic, bit and logical operators (left associative) */
    if (lex_is_op(op, "/")) {
      size_t s0 = st;
      l = as_call(r, st, "mm_div", bp + 1);
      r->div_start = s0;
      r->div_end = r->ob->len;
      continue;
    }
    if (lex_is(op, "DIV")) { l = as_call(r, st, "mm_intdiv", bp + 1); continue; }
    if (lex_is_op(op, "%") || lex_is(op, "MOD")) { l = as_call(r, st, "mm_mod", bp + 1); continue; }
    if (lex_is_op(op, "^")) { l = as_call(r, st, "mm_bitxor", bp + 1); continue; }
    if (lex_is(op, "XOR")) { l = as_call(r, st, "mm_xor", bp + 1); continue; }
    if ((lex_is_op(op, "+") || lex_is_op(op, "-")) && is_kw(r, "INTERVAL")) {
      /* d + INTERVAL n unit */
      adv(r);
      inss(r, st, lex_is_op(op, "+") ? "mm_date_add(" : "mm_date_sub(");
      interval_tail(r);
      putch(r, ')');
      l = (ex){P_PRIM, 0};
      continue;
    }
    const char *sop;
    int lvl;
    if (lex_is_op(op, "||") && bp == 13) { sop = "||"; lvl = P_CAT; }
    else if (lex_is(op, "OR") || lex_is_op(op, "||")) { sop = "OR"; lvl = P_OR; }
    else if (lex_is(op, "AND") || lex_is_op(op, "&&")) { sop = "AND"; lvl = P_AND; }
    else if (lex_is_op(op, "+") || lex_is_op(op, "-")) { sop = NULL; lvl = P_ADD; }
    else if (lex_is_op(op, "*")) { sop = NULL; lvl = P_MUL; }
    else { sop = NULL; lvl = P_BIT; } /* | & << >> */
    wrap(r, st, l, lvl);
    putch(r, ' ');
    if (sop) put(r, sop);
    else putn(r, op->p, op->n);
    putch(r, ' ');
    size_t a = r->ob->len;
    ex rt = e_expr(r, bp + 1);
    wrap(r, a, rt, lvl + 1);
    l = (ex){lvl, 0};
  }
  r->depth--;
  return l;
}

/* ---- SELECT ---------------------------------------------------------------- */

/* [AS] alias after a table factor; default_alias used when there is none. */
static void table_alias(rw *r, const char *default_alias, char *alias_out) {
  lex_token *t = T(r);
  if (accept_kw(r, "AS")) t = T(r);
  else if (!is_name_tok(r, t) || is_reserved(t)) t = NULL;
  if (t) {
    if (!is_name_tok(r, t) && t->type != TK_STRING) syntax(r, t);
    tok_name(r, t, alias_out);
    adv(r);
  } else if (default_alias) {
    snprintf(alias_out, NAMEMAX, "%s", default_alias);
  } else {
    alias_out[0] = 0;
  }
  if (alias_out[0]) {
    put(r, " AS ");
    put_ident(r, alias_out, strlen(alias_out));
  }
}

static void index_hints(rw *r) {
  while ((is_kw(r, "USE") || is_kw(r, "FORCE") || is_kw(r, "IGNORE")) &&
         (lex_is(P(r, 1), "INDEX") || lex_is(P(r, 1), "KEY"))) {
    adv(r);
    adv(r);
    if (accept_kw(r, "FOR")) {
      if (accept_kw(r, "JOIN")) {
      } else if (accept_kw(r, "ORDER") || accept_kw(r, "GROUP")) {
        expect_kw(r, "BY");
      } else {
        syntax(r, T(r));
      }
    }
    expect_op(r, "(");
    while (!accept_op(r, ")")) {
      if (T(r)->type == TK_EOF) syntax(r, T(r));
      adv(r);
    }
  }
}

/* A table name [AS alias]: writes "db.t" AS "alias". */
static void table_name_ref(rw *r, int with_alias, char *alias_out) {
  lex_token *a = T(r), *b = NULL;
  if (!is_name_tok(r, a)) syntax(r, a);
  adv(r);
  if (is_op(r, ".") && is_name_tok(r, P(r, 1))) {
    adv(r);
    b = T(r);
    adv(r);
  }
  char db[NAMEMAX], name[NAMEMAX];
  size_t tstart = r->ob->len;
  put_table(r, b ? a : NULL, b ? b : a, db, name);
  size_t tend = r->ob->len;
  if (accept_kw(r, "PARTITION")) unsupported(r, "PARTITION");
  char alias[NAMEMAX];
  if (with_alias) table_alias(r, name, alias);
  else snprintf(alias, sizeof alias, "%s", name);
  if (alias_out) snprintf(alias_out, NAMEMAX, "%s", alias);
  if (r->refs && r->nrefs < r->maxrefs) {
    reftab *rt = &r->refs[r->nrefs++];
    snprintf(rt->alias, sizeof rt->alias, "%s", alias);
    size_t n = MM_MIN(tend - tstart, sizeof rt->table - 1);
    memcpy(rt->table, r->ob->p + tstart, n);
    rt->table[n] = 0;
  }
}

static void table_factor(rw *r) {
  depth_in(r);
  if (is_op(r, "(")) {
    int k = 1;
    while (lex_is_op(P(r, k), "(")) k++;
    if (starts_query(r, k)) {
      /* derived table */
      adv(r);
      putch(r, '(');
      q_query(r);
      expect_op(r, ")");
      putch(r, ')');
      char alias[NAMEMAX];
      table_alias(r, NULL, alias);
      if (is_op(r, "(")) unsupported(r, "derived table column lists");
    } else {
      adv(r);
      putch(r, '(');
      table_refs(r);
      expect_op(r, ")");
      putch(r, ')');
    }
  } else if (is_kw(r, "LATERAL") || (is_kw(r, "JSON_TABLE") && lex_is_op(P(r, 1), "("))) {
    unsupported(r, "LATERAL / JSON_TABLE");
  } else if (is_kw(r, "DUAL")) {
    syntax(r, T(r));
  } else {
    table_name_ref(r, 1, NULL);
    index_hints(r);
  }
  r->depth--;
}

static void table_ref(rw *r) {
  table_factor(r);
  for (;;) {
    const char *j = NULL;
    int natural = 0, cross = 0;
    if (accept_kw(r, "NATURAL")) natural = 1;
    if (accept_kw(r, "JOIN")) j = natural ? " NATURAL JOIN " : " JOIN ";
    else if (accept_kw(r, "INNER") || (cross = accept_kw(r, "CROSS"))) {
      expect_kw(r, "JOIN");
      j = natural ? " NATURAL JOIN " : cross ? " CROSS JOIN " : " JOIN ";
    } else if (accept_kw(r, "STRAIGHT_JOIN")) j = " JOIN ";
    else if (accept_kw(r, "LEFT")) {
      accept_kw(r, "OUTER");
      expect_kw(r, "JOIN");
      j = natural ? " NATURAL LEFT JOIN " : " LEFT JOIN ";
    } else if (accept_kw(r, "RIGHT")) {
      accept_kw(r, "OUTER");
      expect_kw(r, "JOIN");
      j = natural ? " NATURAL RIGHT JOIN " : " RIGHT JOIN ";
    } else if (natural) syntax(r, T(r));
    if (!j) break;
    put(r, j);
    table_factor(r);
    if (accept_kw(r, "ON")) {
      put(r, " ON ");
      e_expr(r, 0);
    } else if (accept_kw(r, "USING")) {
      expect_op(r, "(");
      put(r, " USING (");
      do {
        put_name_tok(r, T(r));
        if (!is_name_tok(r, T(r))) syntax(r, T(r));
        adv(r);
        if (is_op(r, ",")) put(r, ", ");
      } while (accept_op(r, ","));
      expect_op(r, ")");
      putch(r, ')');
    }
  }
}

static void table_refs(rw *r) {
  table_ref(r);
  while (accept_op(r, ",")) {
    put(r, ", ");
    table_ref(r);
  }
}

/* One select-list item. */
static void select_item(rw *r) {
  lex_token *first = T(r);
  if (is_op(r, "*")) {
    adv(r);
    putch(r, '*');
    return;
  }
  /* t.* and db.t.* */
  if (is_name_tok(r, first) && lex_is_op(P(r, 1), ".")) {
    if (lex_is_op(P(r, 2), "*")) {
      put_name_tok(r, first);
      put(r, ".*");
      r->i += 3;
      return;
    }
    if (is_name_tok(r, P(r, 2)) && lex_is_op(P(r, 3), ".") && lex_is_op(P(r, 4), "*")) {
      put_name_tok(r, P(r, 2));
      put(r, ".*");
      r->i += 5;
      return;
    }
  }
  size_t ost = r->ob->len;
  r->div_start = r->div_end = (size_t)-1;
  ex e = e_expr(r, 0);
  lex_token *last = &r->tk[r->i - 1];
  int is_div = r->div_start == ost && r->div_end == r->ob->len;
  if (is_div) inss(r, ost + strlen("mm_div"), "f"); /* mm_divf: MySQL's decimal display */
  lex_token *t = T(r);
  int has_alias = 0;
  if (accept_kw(r, "AS")) {
    t = T(r);
    if (!is_name_tok(r, t) && t->type != TK_STRING) syntax(r, t);
    has_alias = 1;
  } else if ((is_name_tok(r, t) && !is_reserved(t)) || t->type == TK_STRING) {
    has_alias = 1;
  }
  if (has_alias) {
    put(r, " AS ");
    put_name_tok(r, t);
    adv(r);
    return;
  }
  if (e.f & EX_COL) return;
  /* the name MySQL gives the column: the item's text, or a string's value */
  if ((e.f & EX_STR) && (first->type == TK_STRING || is_charset_intro(first) || lex_is(first, "N"))) {
    mm_buf *b = tmp_get(r);
    int k = r->i;
    for (int j = (int)(first - r->tk); j < k; j++)
      if (r->tk[j].type == TK_STRING && lex_unquote(&r->tk[j], r->nbe, b) == MM_ENOMEM) oom(r);
    put(r, " AS ");
    put_ident(r, b->p ? b->p : "", b->len);
    tmp_put(r);
    return;
  }
  const char *sp = first->p;
  size_t sn = (size_t)(last->p + last->n - first->p);
  if (sn > 256) sn = 256;
  if (r->ob->len - ost != sn || memcmp(r->ob->p + ost, sp, sn) != 0) {
    put(r, " AS ");
    put_ident(r, sp, sn);
  }
}

static void select_core(rw *r) {
  expect_kw(r, "SELECT");
  put(r, "SELECT ");
  for (;;) {
    if (accept_kw(r, "ALL") || accept_kw(r, "HIGH_PRIORITY") || accept_kw(r, "STRAIGHT_JOIN") ||
        accept_kw(r, "SQL_SMALL_RESULT") || accept_kw(r, "SQL_BIG_RESULT") ||
        accept_kw(r, "SQL_BUFFER_RESULT") || accept_kw(r, "SQL_NO_CACHE") || accept_kw(r, "SQL_CACHE"))
      continue;
    if (accept_kw(r, "DISTINCT") || accept_kw(r, "DISTINCTROW")) {
      put(r, "DISTINCT ");
      continue;
    }
    if (accept_kw(r, "SQL_CALC_FOUND_ROWS")) {
      r->out->calc_found_rows = 1;
      continue;
    }
    break;
  }
  do {
    select_item(r);
    if (is_op(r, ",")) put(r, ", ");
  } while (accept_op(r, ","));
  if (is_kw(r, "INTO")) unsupported(r, "SELECT ... INTO");
  if (accept_kw(r, "FROM")) {
    if (accept_kw(r, "DUAL")) {
    } else {
      put(r, " FROM ");
      table_refs(r);
    }
  }
  if (accept_kw(r, "WHERE")) {
    put(r, " WHERE ");
    e_expr(r, 0);
  }
  if (accept_kw(r, "GROUP")) {
    expect_kw(r, "BY");
    put(r, " GROUP BY ");
    do {
      e_expr(r, 0);
      if (!accept_kw(r, "ASC")) accept_kw(r, "DESC");
      if (is_op(r, ",")) put(r, ", ");
    } while (accept_op(r, ","));
    if (is_kw(r, "WITH") && lex_is(P(r, 1), "ROLLUP")) unsupported(r, "WITH ROLLUP");
  }
  if (accept_kw(r, "HAVING")) {
    put(r, " HAVING ");
    e_expr(r, 0);
  }
  if (accept_kw(r, "WINDOW")) {
    put(r, " WINDOW ");
    do {
      put_name_tok(r, T(r));
      if (!is_name_tok(r, T(r))) syntax(r, T(r));
      adv(r);
      expect_kw(r, "AS");
      put(r, " AS ");
      window_spec(r);
      if (is_op(r, ",")) put(r, ", ");
    } while (accept_op(r, ","));
  }
}

/* LIMIT value: integer literal or ?, into buf. */
static void limit_value(rw *r, char *buf, size_t size) {
  lex_token *t = T(r);
  if (t->type == TK_PARAM) {
    if (r->dup_mode) unsupported(r, "? placeholders in ON DUPLICATE KEY UPDATE");
    snprintf(buf, size, "?%d", ++r->nparam);
  } else if (t->type == TK_INTEGER) {
    if (t->n > 19 || (t->n == 19 && memcmp(t->p, "9223372036854775807", 19) > 0)) snprintf(buf, size, "-1");
    else snprintf(buf, size, "%.*s", (int)t->n, t->p);
  } else {
    syntax(r, t);
  }
  adv(r);
}

static int limit_clause(rw *r) {
  if (!accept_kw(r, "LIMIT")) return 0;
  char a[32], b[32];
  limit_value(r, a, sizeof a);
  if (accept_op(r, ",")) {
    limit_value(r, b, sizeof b);
    putf(r, " LIMIT %s OFFSET %s", b, a);
  } else if (accept_kw(r, "OFFSET")) {
    limit_value(r, b, sizeof b);
    putf(r, " LIMIT %s OFFSET %s", a, b);
  } else {
    putf(r, " LIMIT %s", a);
  }
  return 1;
}

static void locking(rw *r) {
  for (;;) {
    if (is_kw(r, "FOR") && (lex_is(P(r, 1), "UPDATE") || lex_is(P(r, 1), "SHARE"))) {
      adv(r);
      int upd = is_kw(r, "UPDATE");
      adv(r);
      if (upd || r->out->lock != RW_LOCK_UPDATE) r->out->lock = upd ? RW_LOCK_UPDATE : RW_LOCK_SHARE;
      if (accept_kw(r, "OF")) {
        do {
          if (!is_name_tok(r, T(r))) syntax(r, T(r));
          adv(r);
          if (accept_op(r, ".")) adv(r);
        } while (accept_op(r, ","));
      }
      if (accept_kw(r, "NOWAIT")) r->out->lock_wait = RW_NOWAIT;
      else if (accept_kw(r, "SKIP")) {
        expect_kw(r, "LOCKED");
        r->out->lock_wait = RW_SKIP_LOCKED;
      }
    } else if (is_kw(r, "LOCK") && lex_is(P(r, 1), "IN")) {
      adv(r);
      adv(r);
      expect_kw(r, "SHARE");
      expect_kw(r, "MODE");
      if (r->out->lock == RW_LOCK_NONE) r->out->lock = RW_LOCK_SHARE;
    } else {
      return;
    }
  }
}

static void q_term(rw *r) {
  depth_in(r);
  if (is_op(r, "(")) {
    adv(r);
    put(r, "SELECT * FROM (");
    q_query(r);
    expect_op(r, ")");
    putch(r, ')');
  } else if (is_kw(r, "SELECT")) {
    select_core(r);
  } else if (is_kw(r, "VALUES") || is_kw(r, "TABLE")) {
    unsupported(r, "VALUES / TABLE statements");
  } else {
    syntax(r, T(r));
  }
  r->depth--;
}

static void q_query(rw *r) {
  depth_in(r);
  if (accept_kw(r, "WITH")) {
    put(r, "WITH ");
    if (accept_kw(r, "RECURSIVE")) put(r, "RECURSIVE ");
    do {
      lex_token *n = T(r);
      if (!is_name_tok(r, n)) syntax(r, n);
      if (r->ncte < (int)MM_ARRAY_SIZE(r->cte)) tok_name(r, n, r->cte[r->ncte++]);
      put_name_tok(r, n);
      adv(r);
      if (accept_op(r, "(")) {
        put(r, "(");
        do {
          if (!is_name_tok(r, T(r))) syntax(r, T(r));
          put_name_tok(r, T(r));
          adv(r);
          if (is_op(r, ",")) put(r, ", ");
        } while (accept_op(r, ","));
        expect_op(r, ")");
        putch(r, ')');
      }
      expect_kw(r, "AS");
      expect_op(r, "(");
      put(r, " AS (");
      q_query(r);
      expect_op(r, ")");
      putch(r, ')');
      if (is_op(r, ",")) put(r, ", ");
    } while (accept_op(r, ","));
    putch(r, ' ');
  }
  q_term(r);
  for (;;) {
    const char *op = NULL;
    if (accept_kw(r, "UNION")) op = " UNION ";
    else if (accept_kw(r, "EXCEPT")) op = " EXCEPT ";
    else if (accept_kw(r, "INTERSECT")) op = " INTERSECT ";
    if (!op) break;
    put(r, op);
    if (accept_kw(r, "ALL")) {
      if (strcmp(op, " UNION ")) unsupported(r, "EXCEPT ALL / INTERSECT ALL");
      put(r, "ALL ");
    } else {
      accept_kw(r, "DISTINCT");
    }
    q_term(r);
  }
  if (accept_kw(r, "ORDER")) {
    expect_kw(r, "BY");
    put(r, " ORDER BY ");
    order_items(r);
  }
  locking(r);
  limit_clause(r);
  locking(r);
  if (is_kw(r, "INTO")) unsupported(r, "SELECT ... INTO");
  r->depth--;
}

/* ---- INSERT / REPLACE ----------------------------------------------------------- */

static void set_target(rw *r, const char *db, const char *name) {
  rw_out *o = r->out;
  mm_free(o->table_db);
  mm_free(o->table_name);
  o->table_db = mm_strdup(db && db[0] ? db : (r->in->curdb ? r->in->curdb : ""));
  o->table_name = mm_strdup(name);
  if (!o->table_db || !o->table_name) oom(r);
}

/* Table name for INSERT/UPDATE/DELETE targets: writes "db.t", records it. */
static void target_table(rw *r, char *name_out) {
  lex_token *a = T(r), *b = NULL;
  if (!is_name_tok(r, a)) syntax(r, a);
  adv(r);
  if (is_op(r, ".") && is_name_tok(r, P(r, 1))) {
    adv(r);
    b = T(r);
    adv(r);
  }
  char db[NAMEMAX], name[NAMEMAX];
  put_table(r, b ? a : NULL, b ? b : a, db, name);
  if (!db[0]) unsupported(r, "modifying a common table expression");
  set_target(r, db, name);
  if (name_out) snprintf(name_out, NAMEMAX, "%s", name);
  if (accept_kw(r, "PARTITION")) unsupported(r, "PARTITION");
}

/* Column name in an assignment target or column list: a | t.a | db.t.a. */
static void put_col_target(rw *r, char *name_out) {
  lex_token *c = T(r);
  if (!is_name_tok(r, c)) syntax(r, c);
  adv(r);
  while (is_op(r, ".") && is_name_tok(r, P(r, 1))) {
    adv(r);
    c = T(r);
    adv(r);
  }
  char buf[NAMEMAX];
  size_t n = tok_name(r, c, buf);
  put_ident(r, buf, n);
  if (name_out) memcpy(name_out, buf, n + 1);
}

static void assignments(rw *r) {
  do {
    put_col_target(r, NULL);
    if (!accept_op(r, "=") && !accept_op(r, ":=")) syntax(r, T(r));
    put(r, " = ");
    if (is_kw(r, "DEFAULT") && !lex_is_op(P(r, 1), "(")) unsupported(r, "SET col = DEFAULT");
    e_expr(r, 0);
    if (is_op(r, ",")) put(r, ", ");
  } while (accept_op(r, ","));
}

static void insert_stmt(rw *r, int replace) {
  adv(r);
  int ignore = 0;
  for (;;) {
    if (accept_kw(r, "LOW_PRIORITY") || accept_kw(r, "DELAYED") || accept_kw(r, "HIGH_PRIORITY")) continue;
    if (accept_kw(r, "IGNORE")) { ignore = 1; continue; }
    break;
  }
  accept_kw(r, "INTO");
  r->out->kind = replace ? RW_REPLACE : RW_INSERT;
  put(r, replace ? "INSERT OR REPLACE INTO " : ignore ? "INSERT OR IGNORE INTO " : "INSERT INTO ");
  size_t tst = r->ob->len;
  char tname[NAMEMAX];
  target_table(r, tname);
  size_t tend = r->ob->len;
  int ncols = -1;
  if (is_op(r, "(") && !starts_query(r, 1) && !(lex_is_op(P(r, 1), "(") && starts_query(r, 2))) {
    adv(r);
    ncols = 0;
    if (!is_op(r, ")")) {
      put(r, " (");
      do {
        put_col_target(r, NULL);
        ncols++;
        if (is_op(r, ",")) put(r, ", ");
      } while (accept_op(r, ","));
      putch(r, ')');
    }
    expect_op(r, ")");
  }
  if (accept_kw(r, "VALUES") || accept_kw(r, "VALUE")) {
    int nrows = 0, empty = 0;
    size_t vst = r->ob->len;
    put(r, " VALUES ");
    do {
      expect_op(r, "(");
      if (nrows) put(r, ", ");
      putch(r, '(');
      if (is_op(r, ")")) empty = 1;
      else {
        do {
          if (is_kw(r, "DEFAULT") && !lex_is_op(P(r, 1), "(")) unsupported(r, "DEFAULT in VALUES");
          e_expr(r, 0);
          if (is_op(r, ",")) put(r, ", ");
        } while (accept_op(r, ","));
      }
      expect_op(r, ")");
      putch(r, ')');
      nrows++;
    } while (accept_op(r, ","));
    if (empty) {
      if (nrows > 1 || ncols > 0) unsupported(r, "empty VALUES rows");
      r->ob->len = vst;
      put(r, " DEFAULT VALUES");
    }
    if (accept_kw(r, "AS")) {
      if (!is_name_tok(r, T(r))) syntax(r, T(r));
      tok_name(r, T(r), r->row_alias);
      adv(r);
      if (is_op(r, "(")) unsupported(r, "row alias column lists");
    }
  } else if (accept_kw(r, "SET")) {
    put(r, " (");
    size_t cst = r->ob->len;
    mm_buf *save = r->ob, *vals = tmp_get(r);
    int n = 0;
    do {
      r->ob = save;
      if (n) put(r, ", ");
      put_col_target(r, NULL);
      if (!accept_op(r, "=") && !accept_op(r, ":=")) syntax(r, T(r));
      r->ob = vals;
      if (n) put(r, ", ");
      if (is_kw(r, "DEFAULT") && !lex_is_op(P(r, 1), "(")) unsupported(r, "SET col = DEFAULT");
      e_expr(r, 0);
      n++;
    } while (accept_op(r, ","));
    r->ob = save;
    (void)cst;
    put(r, ") VALUES (");
    putn(r, vals->p, vals->len);
    putch(r, ')');
    tmp_put(r);
  } else if (starts_query(r, 0) || is_op(r, "(")) {
    putch(r, ' ');
    q_query(r);
  } else {
    syntax(r, T(r));
  }
  if (accept_kw(r, "ON")) {
    expect_kw(r, "DUPLICATE");
    expect_kw(r, "KEY");
    expect_kw(r, "UPDATE");
    if (replace) syntax(r, T(r));
    mm_buf *save = r->ob;
    r->ob = &r->out->dup_update;
    r->dup_mode = 1;
    put(r, "UPDATE ");
    putn(r, save->p + tst, tend - tst);
    put(r, " AS ");
    put_ident(r, tname, strlen(tname));
    put(r, " SET ");
    assignments(r);
    put(r, " WHERE rowid = ?1");
    r->dup_mode = 0;
    r->ob = save;
  }
}

/* ---- UPDATE / DELETE --------------------------------------------------------- */

/* Is the statement a single-table form?  Looks for name [. name] [[AS] alias]
 * followed by `stop` (SET for UPDATE; WHERE/ORDER/LIMIT/EOF for DELETE). */
static int single_table_form(rw *r, int upd) {
  int k = 0;
  if (!is_name_tok(r, P(r, k))) return 0;
  k++;
  if (lex_is_op(P(r, k), ".") && is_name_tok(r, P(r, k + 1))) k += 2;
  if (lex_is(P(r, k), "AS")) k += 2;
  else if (is_name_tok(r, P(r, k)) && !is_reserved(P(r, k))) k++;
  lex_token *t = P(r, k);
  if (upd) return lex_is(t, "SET") || lex_is(t, "USE") || lex_is(t, "FORCE") || lex_is(t, "IGNORE");
  return t->type == TK_EOF || lex_is(t, "WHERE") || lex_is(t, "ORDER") || lex_is(t, "LIMIT");
}

/* [WHERE] [ORDER BY] [LIMIT] of single-table UPDATE/DELETE; target text is
 * [tst, tend) of the output.  ORDER BY/LIMIT -> rowid IN (SELECT ...). */
static void where_order_limit(rw *r, size_t tst, size_t tend) {
  size_t wst = r->ob->len;
  if (accept_kw(r, "WHERE")) {
    put(r, " WHERE ");
    e_expr(r, 0);
  }
  size_t ost = r->ob->len;
  if (accept_kw(r, "ORDER")) {
    expect_kw(r, "BY");
    put(r, " ORDER BY ");
    order_items(r);
  }
  size_t lst = r->ob->len;
  if (limit_clause(r)) {
    mm_buf *tb = tmp_get(r);
    if (mm_buf_puts(tb, " WHERE rowid IN (SELECT rowid FROM ") || mm_buf_append(tb, r->ob->p + tst, tend - tst))
      oom(r);
    ins(r, wst, tb->p, tb->len);
    putch(r, ')');
    tmp_put(r);
  } else if (lst > ost) {
    /* ORDER BY without LIMIT changes nothing we can observe */
    r->ob->len = ost;
    r->ob->p[ost] = 0;
  }
}

static const reftab *find_ref(rw *r, const char *alias) {
  for (int k = 0; k < r->nrefs; k++)
    if (ieq(r->refs[k].alias, alias)) return &r->refs[k];
  return NULL;
}

static void set_target_from_ref(rw *r, const reftab *t) {
  /* t->table is "db.name" quoted */
  char buf[sizeof t->table];
  size_t n = strlen(t->table);
  if (n < 2) unsupported(r, "this multi-table statement");
  memcpy(buf, t->table + 1, n - 2);
  buf[n - 2] = 0;
  char *dot = strchr(buf, '.');
  if (!dot) unsupported(r, "modifying a common table expression");
  *dot = 0;
  set_target(r, buf, dot + 1);
}

static void update_stmt(rw *r) {
  adv(r);
  int ignore = 0;
  for (;;) {
    if (accept_kw(r, "LOW_PRIORITY")) continue;
    if (accept_kw(r, "IGNORE")) { ignore = 1; continue; }
    break;
  }
  r->out->kind = RW_UPDATE;
  put(r, ignore ? "UPDATE OR IGNORE " : "UPDATE ");
  if (single_table_form(r, 1)) {
    size_t tst = r->ob->len;
    char name[NAMEMAX], alias[NAMEMAX];
    target_table(r, name);
    table_alias(r, name, alias);
    size_t tend = r->ob->len;
    index_hints(r);
    expect_kw(r, "SET");
    put(r, " SET ");
    assignments(r);
    where_order_limit(r, tst, tend);
    return;
  }
  /* UPDATE a JOIN b ON ... SET a.x = ... WHERE ...
   * -> UPDATE "db.a" AS "mm_u" SET "x" = ... FROM <refs> WHERE "mm_u".rowid = "a".rowid AND (...) */
  reftab refs[16];
  r->refs = refs;
  r->maxrefs = 16;
  r->nrefs = 0;
  mm_buf *save = r->ob, *from = tmp_get(r), *set = tmp_get(r);
  r->ob = from;
  table_refs(r);
  r->refs = NULL;
  expect_kw(r, "SET");
  r->ob = set;
  char target[NAMEMAX] = "";
  do {
    lex_token *a = T(r);
    if (!is_name_tok(r, a)) syntax(r, a);
    char q[NAMEMAX] = "";
    if (lex_is_op(P(r, 1), ".")) tok_name(r, a, q);
    if (lex_is_op(P(r, 1), ".") && lex_is_op(P(r, 3), ".")) tok_name(r, P(r, 2), q);
    if (!q[0]) snprintf(q, sizeof q, "%s", r->nrefs ? refs[0].alias : "");
    if (!target[0]) snprintf(target, sizeof target, "%s", q);
    else if (!ieq(target, q)) unsupported(r, "multi-table UPDATE of several tables");
    put_col_target(r, NULL);
    if (!accept_op(r, "=")) syntax(r, T(r));
    put(r, " = ");
    e_expr(r, 0);
    if (is_op(r, ",")) put(r, ", ");
  } while (accept_op(r, ","));
  r->refs = refs;
  const reftab *t = find_ref(r, target);
  r->refs = NULL;
  if (!t) unsupported(r, "this multi-table UPDATE");
  set_target_from_ref(r, t);
  r->ob = save;
  putf(r, "%s AS \"mm_u\" SET ", t->table);
  putn(r, set->p, set->len);
  put(r, " FROM ");
  putn(r, from->p, from->len);
  put(r, " WHERE \"mm_u\".rowid = ");
  put_ident(r, t->alias, strlen(t->alias));
  put(r, ".rowid");
  if (accept_kw(r, "WHERE")) {
    put(r, " AND (");
    e_expr(r, 0);
    putch(r, ')');
  }
  tmp_put(r);
  tmp_put(r);
}

static void delete_stmt(rw *r) {
  adv(r);
  for (;;) {
    if (accept_kw(r, "LOW_PRIORITY") || accept_kw(r, "QUICK") || accept_kw(r, "IGNORE")) continue;
    break;
  }
  r->out->kind = RW_DELETE;
  put(r, "DELETE FROM ");
  char targets[4][NAMEMAX];
  int ntargets = 0;
  int using_form = 0;
  if (accept_kw(r, "FROM")) {
    if (single_table_form(r, 0)) {
      size_t tst = r->ob->len;
      char name[NAMEMAX], alias[NAMEMAX];
      target_table(r, name);
      table_alias(r, name, alias);
      size_t tend = r->ob->len;
      where_order_limit(r, tst, tend);
      return;
    }
    using_form = 1; /* DELETE FROM t1[.*], ... USING refs */
  }
  /* multi-table: target list */
  do {
    lex_token *a = T(r);
    if (!is_name_tok(r, a)) syntax(r, a);
    adv(r);
    if (is_op(r, ".") && is_name_tok(r, P(r, 1))) {
      adv(r);
      a = T(r);
      adv(r);
    }
    if (is_op(r, ".") && lex_is_op(P(r, 1), "*")) { adv(r); adv(r); }
    if (ntargets == 4) unsupported(r, "multi-table DELETE of several tables");
    tok_name(r, a, targets[ntargets++]);
  } while (accept_op(r, ","));
  if (ntargets > 1) unsupported(r, "multi-table DELETE of several tables");
  if (using_form) expect_kw(r, "USING");
  else expect_kw(r, "FROM");
  reftab refs[16];
  r->refs = refs;
  r->maxrefs = 16;
  r->nrefs = 0;
  mm_buf *save = r->ob, *from = tmp_get(r);
  r->ob = from;
  table_refs(r);
  r->ob = save;
  const reftab *t = find_ref(r, targets[0]);
  r->refs = NULL;
  if (!t) fail(r, 1109, "42S02", "Unknown table '%s' in MULTI DELETE", targets[0]);
  set_target_from_ref(r, t);
  putf(r, "%s AS \"mm_d\" WHERE rowid IN (SELECT ", t->table);
  put_ident(r, t->alias, strlen(t->alias));
  put(r, ".rowid FROM ");
  putn(r, from->p, from->len);
  tmp_put(r);
  if (accept_kw(r, "WHERE")) {
    put(r, " WHERE ");
    e_expr(r, 0);
  }
  putch(r, ')');
}

/* ---- entry points ------------------------------------------------------------ */

void rw_out_init(rw_out *o) {
  memset(o, 0, sizeof *o);
  mm_buf_init(&o->sql);
  mm_buf_init(&o->dup_update);
}

void rw_out_free(rw_out *o) {
  mm_buf_free(&o->sql);
  mm_buf_free(&o->dup_update);
  for (int k = 0; k < o->ndup_cols; k++) mm_free(o->dup_cols[k]);
  mm_free(o->dup_cols);
  mm_free(o->table_db);
  mm_free(o->table_name);
  memset(o, 0, sizeof *o);
}

static void reset_out(rw_out *o) {
  rw_out_free(o);
  rw_out_init(o);
}

int rw_rewrite(const rw_in *in, const char *sql, size_t len, rw_out *out, mm_error *err) {
  rw *r = mm_calloc(1, sizeof *r);
  if (!r) return MM_ENOMEM;
  mm_error_clear(err);
  reset_out(out);
  r->in = in;
  r->out = out;
  r->err = err;
  r->src = sql;
  r->len = len;
  r->nbe = (in->mode & RW_MODE_NO_BACKSLASH_ESCAPES) != 0;
  r->ob = &out->sql;
  int rc = setjmp(r->jb);
  if (rc == 0) {
    tokenize(r);
    if (mm_buf_reserve(r->ob, len + len / 4 + 64)) oom(r);
    lex_token *t = T(r);
    if (t->type == TK_EOF) fail(r, 1065, "42000", "Query was empty");
    if (lex_is(t, "SELECT") || lex_is(t, "WITH") || lex_is_op(t, "(")) {
      out->kind = RW_SELECT;
      q_query(r);
    } else if (lex_is(t, "INSERT")) {
      insert_stmt(r, 0);
    } else if (lex_is(t, "REPLACE")) {
      insert_stmt(r, 1);
    } else if (lex_is(t, "UPDATE")) {
      update_stmt(r);
    } else if (lex_is(t, "DELETE")) {
      delete_stmt(r);
    } else {
      syntax(r, t);
    }
    if (T(r)->type != TK_EOF) syntax(r, T(r));
    if (out->sql.oom || out->dup_update.oom) oom(r);
    out->nparams = r->nparam;
    rc = MM_OK;
  } else if (rc == MM_ENOMEM) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
  }
  if (rc != MM_OK) {
    int kind = out->kind;
    reset_out(out);
    out->kind = kind;
  }
  if (r->tk != r->tkbuf) mm_free(r->tk);
  for (int k = 0; k < NPOOL; k++) mm_buf_free(&r->pool[k]);
  mm_free(r);
  return rc;
}
