/*
 * sql/lex.c - the MySQL lexer.  See lex.h.
 *
 * Invariant: tokens always point inside [src, src+len); the lexer never
 * reads past the end, whatever the input (the dialect fuzzer checks this).
 */
#include "sql/lex.h"

#include <ctype.h>
#include <string.h>

void lex_init(lex *l, const char *src, size_t len) {
  memset(l, 0, sizeof *l);
  l->src = src;
  l->len = len;
}

static int is_ident_char(unsigned char c) {
  return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Skip whitespace and comments; handles executable comments by entering
 * them.  Returns TK_ERROR on an unterminated comment, else 0. */
static int skip_space(lex *l) {
  const char *s = l->src;
  size_t n = l->len;
  for (;;) {
    while (l->pos < n && isspace((unsigned char)s[l->pos])) l->pos++;
    if (l->pos >= n) return 0;
    char c = s[l->pos];
    if (c == '#' || (c == '-' && l->pos + 1 < n && s[l->pos + 1] == '-' &&
                     (l->pos + 2 >= n || isspace((unsigned char)s[l->pos + 2])))) {
      while (l->pos < n && s[l->pos] != '\n') l->pos++;
      continue;
    }
    if (c == '*' && l->in_exec_comment && l->pos + 1 < n && s[l->pos + 1] == '/') {
      l->in_exec_comment = 0;
      l->pos += 2;
      continue;
    }
    if (c == '/' && l->pos + 1 < n && s[l->pos + 1] == '*') {
      size_t p = l->pos + 2;
      int mariadb = 0;
      if (p < n && s[p] == 'M' && p + 1 < n && s[p + 1] == '!') { mariadb = 1; p++; }
      if (p < n && s[p] == '!' && !l->in_exec_comment) {
        p++;
        size_t d = p;
        long ver = 0;
        while (p < n && isdigit((unsigned char)s[p]) && p - d < 6) ver = ver * 10 + (s[p++] - '0');
        long ours = mariadb ? LEX_MARIADB_VERSION : LEX_MYSQL_VERSION;
        if (p == d || ver <= ours) {
          l->in_exec_comment = 1;
          l->pos = p;
          continue;
        }
        /* version too new: skip it like a comment */
      }
      const char *end = NULL;
      for (size_t q = l->pos + 2; q + 1 < n; q++)
        if (s[q] == '*' && s[q + 1] == '/') { end = s + q; break; }
      if (!end) return TK_ERROR;
      l->pos = (size_t)(end - s) + 2;
      continue;
    }
    return 0;
  }
}

/* Scan a quoted run starting at the quote char; returns end index (after
 * the closing quote) or 0 if unterminated. */
static size_t scan_quoted(const lex *l, size_t p, char q, int escapes) {
  const char *s = l->src;
  size_t n = l->len;
  p++;
  while (p < n) {
    if (escapes && s[p] == '\\') { p += 2; continue; }
    if (s[p] == q) {
      if (p + 1 < n && s[p + 1] == q) { p += 2; continue; }
      return p + 1;
    }
    p++;
  }
  return 0;
}

static const char *ops3[] = {"<=>", "->>", NULL};
static const char *ops2[] = {"<>", "!=", "<=", ">=", "||", "&&", "<<", ">>", ":=", "->", NULL};

int lex_next(lex *l, lex_token *t) {
  const char *s = l->src;
  size_t n = l->len;
  if (skip_space(l) == TK_ERROR) {
    t->type = TK_ERROR;
    t->p = s + l->pos;
    t->n = n - l->pos;
    l->pos = n;
    return TK_ERROR;
  }
  size_t st = l->pos;
  t->p = s + st;
  t->n = 0;
  if (st >= n) return t->type = TK_EOF;
  unsigned char c = (unsigned char)s[st];
  size_t p = st;
  int type;

  if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && p + 1 < n && s[p + 1] == '\'') {
    size_t e = scan_quoted(l, p + 1, '\'', 0);
    if (!e) goto unterminated;
    p = e;
    type = (c == 'x' || c == 'X') ? TK_HEX : TK_BIT;
  } else if (c == '0' && p + 2 < n && (s[p + 1] == 'x' || s[p + 1] == 'b') &&
             isxdigit((unsigned char)s[p + 2])) {
    int hex = s[p + 1] == 'x';
    size_t q = p + 2;
    while (q < n && (hex ? isxdigit((unsigned char)s[q]) : (s[q] == '0' || s[q] == '1'))) q++;
    if (q < n && is_ident_char((unsigned char)s[q])) goto ident; /* e.g. 0xyz is a name */
    p = q;
    type = hex ? TK_HEX : TK_BIT;
  } else if (isdigit(c) || (c == '.' && p + 1 < n && isdigit((unsigned char)s[p + 1]))) {
    type = TK_INTEGER;
    while (p < n && isdigit((unsigned char)s[p])) p++;
    if (p < n && is_ident_char((unsigned char)s[p]) && s[p] != 'e' && s[p] != 'E') goto ident;
    if (p < n && s[p] == '.') {
      type = TK_DECIMAL;
      p++;
      while (p < n && isdigit((unsigned char)s[p])) p++;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
      size_t q = p + 1;
      if (q < n && (s[q] == '+' || s[q] == '-')) q++;
      if (q < n && isdigit((unsigned char)s[q])) {
        while (q < n && isdigit((unsigned char)s[q])) q++;
        p = q;
        type = TK_FLOAT;
      } else if (type == TK_INTEGER) {
        goto ident; /* 1e is an identifier in MySQL */
      }
    }
  } else if (c == '\'' || c == '"') {
    size_t e = scan_quoted(l, p, (char)c, !l->no_backslash_escapes);
    if (!e) goto unterminated;
    p = e;
    type = TK_STRING;
  } else if (c == '`') {
    size_t e = scan_quoted(l, p, '`', 0);
    if (!e) goto unterminated;
    p = e;
    type = TK_QIDENT;
  } else if (c == '@') {
    if (p + 1 < n && s[p + 1] == '@') {
      p += 2;
      /* @@name, @@session.name, @@`name` */
      for (;;) {
        if (p < n && s[p] == '`') {
          size_t e = scan_quoted(l, p, '`', 0);
          if (!e) goto unterminated;
          p = e;
        } else {
          while (p < n && is_ident_char((unsigned char)s[p])) p++;
        }
        if (p + 1 < n && s[p] == '.' && (is_ident_char((unsigned char)s[p + 1]) || s[p + 1] == '`')) { p++; continue; }
        break;
      }
      type = TK_SYSVAR;
    } else {
      p++;
      if (p < n && (s[p] == '\'' || s[p] == '"' || s[p] == '`')) {
        size_t e = scan_quoted(l, p, s[p], s[p] != '`' && !l->no_backslash_escapes);
        if (!e) goto unterminated;
        p = e;
      } else {
        while (p < n && (is_ident_char((unsigned char)s[p]) || s[p] == '.')) p++;
      }
      type = TK_USERVAR;
    }
  } else if (is_ident_char(c)) {
  ident:
    p = st;
    while (p < n && is_ident_char((unsigned char)s[p])) p++;
    type = TK_IDENT;
  } else if (c == '?') {
    p++;
    type = TK_PARAM;
  } else {
    type = TK_OP;
    size_t len = 1;
    for (int i = 0; ops3[i]; i++)
      if (p + 3 <= n && memcmp(s + p, ops3[i], 3) == 0) { len = 3; break; }
    if (len == 1)
      for (int i = 0; ops2[i]; i++)
        if (p + 2 <= n && memcmp(s + p, ops2[i], 2) == 0) { len = 2; break; }
    p += len;
  }
  l->pos = p;
  t->n = p - st;
  return t->type = type;

unterminated:
  t->type = TK_ERROR;
  t->n = n - st;
  l->pos = n;
  return TK_ERROR;
}

int lex_peek(lex *l, lex_token *t) {
  lex save = *l;
  int r = lex_next(l, t);
  *l = save;
  return r;
}

int lex_is(const lex_token *t, const char *kw) {
  if (t->type != TK_IDENT) return 0;
  size_t k = strlen(kw);
  return t->n == k && strncasecmp(t->p, kw, k) == 0;
}

int lex_is_op(const lex_token *t, const char *op) {
  size_t k = strlen(op);
  return t->type == TK_OP && t->n == k && memcmp(t->p, op, k) == 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int lex_unquote(const lex_token *t, int nbe, mm_buf *out) {
  const char *s = t->p;
  size_t n = t->n;
  switch (t->type) {
  case TK_IDENT:
    return mm_buf_append(out, s, n);
  case TK_QIDENT:
  case TK_STRING: {
    if (n < 2) return MM_EINVAL;
    char q = s[0];
    int esc = t->type == TK_STRING && !nbe;
    for (size_t i = 1; i + 1 < n; i++) {
      char c = s[i];
      if (esc && c == '\\' && i + 2 < n) {
        char d = s[++i];
        switch (d) {
        case '0': c = 0; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'b': c = '\b'; break;
        case 'Z': c = 26; break;
        case '%': case '_': /* kept with the backslash, as MySQL does (LIKE) */
          if (mm_buf_putc(out, '\\')) return MM_ENOMEM;
          c = d;
          break;
        default: c = d;
        }
      } else if (c == q && i + 2 < n && s[i + 1] == q) {
        i++;
      }
      if (mm_buf_putc(out, c)) return MM_ENOMEM;
    }
    return out->oom ? MM_ENOMEM : MM_OK;
  }
  case TK_HEX: {
    const char *d = s + 2, *e = s + n;
    if (s[0] != '0') e--; /* x'..' form: drop the closing quote */
    size_t digits = (size_t)(e - d);
    int carry = -1;
    if (digits % 2) carry = 0; /* odd count: leading zero nibble */
    for (const char *p = d; p < e; p++) {
      int v = hexval((unsigned char)*p);
      if (v < 0) return MM_EINVAL;
      if (carry < 0) carry = v;
      else { if (mm_buf_putc(out, carry << 4 | v)) return MM_ENOMEM; carry = -1; }
    }
    return MM_OK;
  }
  case TK_BIT: {
    const char *d = s + 2, *e = s + n;
    if (s[0] != '0') e--;
    size_t bits = (size_t)(e - d);
    unsigned v = 0;
    size_t first = bits % 8 ? bits % 8 : 8, k = 0;
    for (const char *p = d; p < e; p++) {
      if (*p != '0' && *p != '1') return MM_EINVAL;
      v = v << 1 | (unsigned)(*p - '0');
      if (++k == first) { if (mm_buf_putc(out, (int)v)) return MM_ENOMEM; v = 0; k = 0; first = 8; }
    }
    return MM_OK;
  }
  default:
    return mm_buf_append(out, s, n);
  }
}

char *lex_strdup(const lex_token *t, int nbe) {
  mm_buf b;
  mm_buf_init(&b);
  if (lex_unquote(t, nbe, &b) != MM_OK) { mm_buf_free(&b); return NULL; }
  if (!b.p) return mm_strdup("");
  return mm_buf_steal(&b, NULL);
}

int lex_split(const char *src, size_t len, int nbe, int (*cb)(void *, const char *, size_t),
              void *ctx) {
  lex l;
  lex_init(&l, src, len);
  l.no_backslash_escapes = nbe;
  lex_token t;
  size_t start = 0;
  int any = 0;
  for (;;) {
    int ty = lex_next(&l, &t);
    if (ty == TK_EOF || ty == TK_ERROR || (ty == TK_OP && lex_is_op(&t, ";"))) {
      size_t end = ty == TK_OP ? (size_t)(t.p - src) : len;
      if (any) {
        /* trim surrounding whitespace */
        size_t a = start, b = end;
        while (a < b && isspace((unsigned char)src[a])) a++;
        while (b > a && isspace((unsigned char)src[b - 1])) b--;
        int r = cb(ctx, src + a, b - a);
        if (r) return r;
      }
      if (ty != TK_OP) return 0;
      start = l.pos;
      any = 0;
    } else {
      any = 1;
    }
  }
}

void lex_near(const lex *l, const lex_token *t, char *buf, size_t size) {
  size_t off = t ? (size_t)(t->p - l->src) : l->pos;
  if (off > l->len) off = l->len;
  size_t n = l->len - off;
  if (n > 80) n = 80;
  if (n >= size) n = size - 1;
  memcpy(buf, l->src + off, n);
  buf[n] = 0;
}

int64_t lex_int(const lex_token *t) {
  uint64_t v = 0;
  for (size_t i = 0; i < t->n && t->p[i] >= '0' && t->p[i] <= '9'; i++) {
    if (v > (uint64_t)(INT64_MAX - 9) / 10) return INT64_MAX;
    v = v * 10 + (uint64_t)(t->p[i] - '0');
  }
  return (int64_t)v;
}
