/*
 * sql/fn.c - MySQL's built-in functions for SQLite (see fn.h).
 *
 * Every function here takes SQLite values and gives MySQL's answer:
 * NULL in -> NULL out (except where MySQL says otherwise: CONCAT_WS, IFNULL,
 * ISNULL, FIELD), strings are converted to numbers by their longest numeric
 * prefix, dates and times are TEXT ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff]',
 * '[-]HH:MM:SS[.ffffff]').  Date arithmetic is proleptic Gregorian on day
 * numbers (days since 1970-01-01), independent of the libc time zone: the
 * only time zone is the session's fixed offset fn_state.tz_offset.
 *
 * Names the dialect rewriter (rewrite.c) emits and that are defined here:
 *   mm_div(a,b)          a / b inside expressions: REAL, NULL if b = 0
 *   mm_divf(a,b)         a / b as a whole select item: TEXT with MySQL's scale
 *                        (scale of a + div_precision_increment 4): '2.5000'
 *   mm_intdiv(a,b)       a DIV b                      mm_mod(a,b)   a % b, MOD
 *   mm_bitxor(a,b)       a ^ b                        mm_xor(a,b)   a XOR b
 *   mm_cast(x,'TYPE')    CAST / CONVERT               mm_extract('UNIT', d)
 *   mm_date_add(d,n,'UNIT') / mm_date_sub(...)        DATE_ADD, INTERVAL, ...
 *   mm_trim(s, rem, 'LEADING'|'TRAILING'|'BOTH')
 *   mm_group_concat(sep, distinct, nexpr, e1..en, k1, desc1, ...)
 *   mm_left mm_right mm_insert mm_isnull mm_log mm_truncate mm_round mm_format
 *   timestampdiff('UNIT', a, b), locate, substring, char, now, curdate, ...
 * and the collation mm_ci (utf8mb4_general_ci-like, codec_ci_cmp).
 *
 * Invariant: no function keeps state between calls except through
 * sqlite3_set_auxdata (compiled REGEXP patterns, RAND(seed) sequences) and
 * the session's fn_state (LAST_INSERT_ID(x)).
 */
#include "sql/fn.h"

#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "table/codec.h"
#include "util/mm.h"

#define GROUP_CONCAT_MAX_LEN 1024
#define MAX_RESULT_LEN (64u << 20) /* REPEAT/LPAD/SPACE: larger is NULL (max_allowed_packet) */

typedef sqlite3_context ctx_t;
typedef sqlite3_value val_t;

static fn_state *ST(ctx_t *c) { return (fn_state *)sqlite3_user_data(c); }

static int any_null(int argc, val_t **argv) {
  for (int i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return 1;
  return 0;
}
#define NULL_IF_ANY_NULL()                      \
  do {                                          \
    if (any_null(argc, argv)) {                 \
      sqlite3_result_null(c);                   \
      return;                                   \
    }                                           \
  } while (0)

static void res_text(ctx_t *c, const char *p, size_t n) {
  sqlite3_result_text64(c, p ? p : "", (sqlite3_uint64)n, SQLITE_TRANSIENT, SQLITE_UTF8);
}
static void res_buf(ctx_t *c, mm_buf *b) {
  if (b->oom) sqlite3_result_error_nomem(c);
  else res_text(c, b->p, b->len);
  mm_buf_free(b);
}
static const char *txt(val_t *v, size_t *n) {
  const char *p = (const char *)sqlite3_value_text(v);
  *n = (size_t)sqlite3_value_bytes(v);
  return p ? p : "";
}

/* ---- numbers ------------------------------------------------------------- */

/* double -> int64 truncating, saturating at +-INT64_MAX, NaN -> 0 (no UB). */
static int64_t d2i(double d) {
  if (d != d) return 0;
  if (d >= 9.2233720368547758e18) return INT64_MAX;
  if (d <= -9.2233720368547758e18) return -INT64_MAX;
  return (int64_t)d;
}

enum { N_NULL = 0, N_INT, N_REAL };
/* MySQL's number of a value: integers stay integers, strings by their
 * longest numeric prefix ('12abc' -> 12, 'abc' -> 0). */
static int num(val_t *v, int64_t *i, double *d) {
  switch (sqlite3_value_type(v)) {
  case SQLITE_NULL: return N_NULL;
  case SQLITE_INTEGER: *i = sqlite3_value_int64(v); *d = (double)*i; return N_INT;
  case SQLITE_FLOAT: *d = sqlite3_value_double(v); *i = d2i(*d); return N_REAL;
  default: {
    const char *s = (const char *)sqlite3_value_text(v);
    if (!s) { *i = 0; *d = 0; return N_INT; }
    while (isspace((unsigned char)*s)) s++;
    char *e;
    *d = strtod(s, &e);
    if (e == s || strncasecmp(s, "inf", 3) == 0 || strncasecmp(s, "nan", 3) == 0 ||
        strncasecmp(s + (*s == '-' || *s == '+'), "inf", 3) == 0 ||
        strncasecmp(s + (*s == '-' || *s == '+'), "nan", 3) == 0 || (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
      /* strtod accepts inf/nan/hex; MySQL does not */
      const char *q = s;
      if (*q == '-' || *q == '+') q++;
      if (!isdigit((unsigned char)*q)) { *i = 0; *d = 0; return N_INT; }
      long long x = strtoll(s, &e, 10);
      *i = x; *d = (double)x; return N_INT;
    }
    int isint = 1;
    for (const char *q = s; q < e; q++)
      if (*q == '.' || *q == 'e' || *q == 'E') isint = 0;
    if (isint && *d >= -9.2e18 && *d <= 9.2e18) { *i = strtoll(s, NULL, 10); return N_INT; }
    *i = d2i(*d);
    return N_REAL;
  }
  }
}
static double dbl(val_t *v) { int64_t i; double d; num(v, &i, &d); return d; }
static int64_t i64(val_t *v) {
  int64_t i; double d;
  int k = num(v, &i, &d);
  if (k == N_REAL) return d2i(round(d));
  return i == INT64_MIN ? -INT64_MAX : i; /* so that callers may negate */
}
static int is_num_type(val_t *v) { int t = sqlite3_value_type(v); return t == SQLITE_INTEGER || t == SQLITE_FLOAT; }

/* ---- UTF-8 --------------------------------------------------------------- */

static size_t u8_len1(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}
/* Number of characters in p[0..n). */
static int64_t u8_count(const char *p, size_t n) {
  int64_t k = 0;
  for (size_t i = 0; i < n; k++) i += u8_len1((unsigned char)p[i]);
  return k;
}
/* Byte offset of character ci (clamped to n). */
static size_t u8_off(const char *p, size_t n, int64_t ci) {
  size_t i = 0;
  while (ci > 0 && i < n) { i += u8_len1((unsigned char)p[i]); ci--; }
  return i < n ? i : n;
}
static size_t u8_dec(const char *p, size_t n, uint32_t *cp) {
  const unsigned char *s = (const unsigned char *)p;
  size_t l = u8_len1(s[0]);
  if (l > n) l = n;
  uint32_t c = l == 1 ? s[0] : l == 2 ? s[0] & 0x1F : l == 3 ? s[0] & 0x0F : s[0] & 0x07;
  for (size_t i = 1; i < l; i++) c = c << 6 | (s[i] & 0x3F);
  *cp = c;
  return l;
}
static void u8_put(mm_buf *b, uint32_t c) {
  char o[4];
  size_t n;
  if (c < 0x80) { o[0] = (char)c; n = 1; }
  else if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); n = 2; }
  else if (c < 0x10000) { o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F)); n = 3; }
  else { o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3F)); o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F)); n = 4; }
  mm_buf_append(b, o, n);
}
static uint32_t cp_lower(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x137 && !(c & 1)) return c + 1;
  if (c >= 0x14A && c <= 0x177 && !(c & 1)) return c + 1;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}
static uint32_t cp_upper(uint32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c >= 0x101 && c <= 0x137 && (c & 1)) return c - 1;
  if (c >= 0x14B && c <= 0x177 && (c & 1)) return c - 1;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}
static void case_map(mm_buf *b, const char *p, size_t n, int up) {
  for (size_t i = 0; i < n;) {
    if ((unsigned char)p[i] < 0x80) {
      char ch = p[i++];
      mm_buf_putc(b, up ? toupper((unsigned char)ch) : tolower((unsigned char)ch));
      continue;
    }
    uint32_t c;
    i += u8_dec(p + i, n - i, &c);
    u8_put(b, up ? cp_upper(c) : cp_lower(c));
  }
}
/* Case-insensitive search for needle in hay (both lowered first); returns
 * the byte offset in the lowered hay or -1.  *lh receives the lowered hay. */
static int ci_eq(const char *a, size_t na, const char *b, size_t nb) {
  return codec_ci_cmp(a, na, b, nb) == 0 && u8_count(a, na) == u8_count(b, nb);
}

/* ---- dates and times ----------------------------------------------------- */

enum { DT_NONE = 0, DT_DATE, DT_DATETIME, DT_TIME };
typedef struct dtm {
  int kind;
  int neg;   /* TIME only */
  int y, mo, d, h, mi, s, us;
  int fsp;   /* digits of fraction given */
} dtm;

static const char *const mon_names[] = {"January", "February", "March", "April", "May", "June", "July",
                                        "August", "September", "October", "November", "December"};
static const char *const day_names[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int mdays(int y, int m) {
  static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : md[m - 1];
}
/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
static void civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yy + (*m <= 2));
}
#define US_DAY 86400000000LL
/* MySQL's TO_DAYS. */
static int64_t to_days(const dtm *t) { return days_from_civil(t->y, t->mo, t->d) + 719528; }
/* 0 = Monday .. 6 = Sunday */
static int weekday_of(const dtm *t) {
  int64_t z = days_from_civil(t->y, t->mo, t->d);
  return (int)(((z % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
}
static int64_t dt_us(const dtm *t) {
  int64_t day = t->kind == DT_TIME ? 0 : days_from_civil(t->y, t->mo, t->d);
  int64_t tod = (((int64_t)t->h * 60 + t->mi) * 60 + t->s) * 1000000 + t->us;
  if (t->kind == DT_TIME && t->neg) tod = -tod;
  return day * US_DAY + tod;
}
static void dt_from_us(int64_t us, dtm *t) {
  int64_t day = us >= 0 ? us / US_DAY : -((-us + US_DAY - 1) / US_DAY);
  int64_t r = us - day * US_DAY;
  civil_from_days(day, &t->y, &t->mo, &t->d);
  t->h = (int)(r / 3600000000LL);
  t->mi = (int)(r / 60000000 % 60);
  t->s = (int)(r / 1000000 % 60);
  t->us = (int)(r % 1000000);
  t->kind = DT_DATETIME;
  t->neg = 0;
}
static int valid_date(const dtm *t) {
  if (t->y == 0 && t->mo == 0 && t->d == 0) return 1; /* the zero date */
  return t->y >= 0 && t->y <= 9999 && t->mo >= 1 && t->mo <= 12 && t->d >= 1 && t->d <= mdays(t->y, t->mo);
}
static int real_date(const dtm *t) { return t->mo >= 1 && t->d >= 1; }

/* Digits at *p: value and count. */
static int digits(const char **p, const char *e, int64_t *v) {
  int n = 0;
  *v = 0;
  while (*p < e && isdigit((unsigned char)**p)) {
    if (n < 18) *v = *v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  return n;
}
static int frac_us(const char **p, const char *e, int *fsp) {
  int us = 0, n = 0;
  while (*p < e && isdigit((unsigned char)**p)) {
    if (n < 6) us = us * 10 + (**p - '0');
    n++;
    (*p)++;
  }
  *fsp = n > 6 ? 6 : n;
  for (int k = n; k < 6; k++) us *= 10;
  return us;
}
static int time_tail(const char *p, const char *e, dtm *t);

/* Parse MySQL date/time text.  Returns the kind or DT_NONE. */
static int parse_dt_str(const char *s, size_t n, dtm *t) {
  memset(t, 0, sizeof *t);
  const char *p = s, *e = s + n;
  while (p < e && isspace((unsigned char)*p)) p++;
  while (e > p && (isspace((unsigned char)e[-1]) || e[-1] == 0)) e--;
  if (p == e) return DT_NONE;
  int neg = 0;
  if (*p == '-' && p + 1 < e && isdigit((unsigned char)p[1])) {
    const char *q = p + 1;
    while (q < e && isdigit((unsigned char)*q)) q++;
    if (q < e && (*q == ':' || *q == ' ')) { neg = 1; p++; }
    else return DT_NONE;
  }
  const char *q = p;
  int64_t a;
  int na = digits(&q, e, &a);
  if (na == 0) return DT_NONE;
  if (q == e || *q == '.') {
    /* compact: YYYYMMDD[HHMMSS[.f]], YYMMDD[HHMMSS], or a TIME HHMMSS */
    const char *dp = p;
    if (na == 14 || na == 12 || na == 8 || na == 6) {
      int yl = (na == 14 || na == 8) ? 4 : 2;
      if (!(na == 6 && q < e)) {
        int64_t y = 0;
        for (int k = 0; k < yl; k++) y = y * 10 + (*dp++ - '0');
        if (yl == 2) y += y < 70 ? 2000 : 1900;
        t->y = (int)y;
        t->mo = (dp[0] - '0') * 10 + dp[1] - '0';
        t->d = (dp[2] - '0') * 10 + dp[3] - '0';
        dp += 4;
        t->kind = DT_DATE;
        if (na >= 12) {
          t->h = (dp[0] - '0') * 10 + dp[1] - '0';
          t->mi = (dp[2] - '0') * 10 + dp[3] - '0';
          t->s = (dp[4] - '0') * 10 + dp[5] - '0';
          t->kind = DT_DATETIME;
          if (q < e && *q == '.') { q++; t->us = frac_us(&q, e, &t->fsp); }
        }
        if (q != e) return DT_NONE;
        if (t->h > 23 || t->mi > 59 || t->s > 59 || !valid_date(t)) return DT_NONE;
        return t->kind;
      }
    }
    if (na <= 7) { /* [H]HMMSS time */
      t->kind = DT_TIME;
      t->neg = neg;
      t->s = (int)(a % 100);
      t->mi = (int)(a / 100 % 100);
      t->h = (int)(a / 10000);
      if (q < e && *q == '.') { q++; t->us = frac_us(&q, e, &t->fsp); }
      if (q != e || t->mi > 59 || t->s > 59) return DT_NONE;
      return DT_TIME;
    }
    return DT_NONE;
  }
  if (*q == ':' || (*q == ' ' && q + 1 < e && isdigit((unsigned char)q[1]) && memchr(q, ':', (size_t)(e - q)) &&
                    !memchr(p, '-', (size_t)(e - p)))) {
    /* TIME: [D ]HH:MM[:SS[.f]] */
    t->neg = neg;
    return time_tail(p, e, t);
  }
  if (neg) return DT_NONE;
  /* date with delimiters */
  int64_t mo, d;
  if (q >= e || !ispunct((unsigned char)*q)) return DT_NONE;
  q++;
  if (!digits(&q, e, &mo)) return DT_NONE;
  if (q >= e || !ispunct((unsigned char)*q)) return DT_NONE;
  q++;
  if (!digits(&q, e, &d)) return DT_NONE;
  if (a > 9999) return DT_NONE;
  t->y = (int)(na <= 2 ? (a < 70 ? 2000 + a : 1900 + a) : a);
  t->mo = (int)(mo > 99 ? 99 : mo);
  t->d = (int)(d > 99 ? 99 : d);
  t->kind = DT_DATE;
  if (!valid_date(t)) return DT_NONE;
  if (q == e) return DT_DATE;
  if (*q != ' ' && *q != 'T') return DT_NONE;
  while (q < e && (*q == ' ' || *q == 'T')) q++;
  int64_t h, mi = 0, sec = 0;
  if (!digits(&q, e, &h) || h > 23) return DT_NONE;
  if (q < e && ispunct((unsigned char)*q) && *q != '.') {
    q++;
    if (!digits(&q, e, &mi) || mi > 59) return DT_NONE;
    if (q < e && ispunct((unsigned char)*q) && *q != '.') {
      q++;
      if (!digits(&q, e, &sec) || sec > 59) return DT_NONE;
    }
  }
  t->h = (int)h; t->mi = (int)mi; t->s = (int)sec;
  if (q < e && *q == '.') { q++; t->us = frac_us(&q, e, &t->fsp); }
  if (q != e) return DT_NONE;
  t->kind = DT_DATETIME;
  return DT_DATETIME;
}
static int time_tail(const char *p, const char *e, dtm *t) {
  const char *q = p;
  int64_t a, b = 0, c = 0, days = 0;
  digits(&q, e, &a);
  if (q < e && *q == ' ') {
    days = a;
    q++;
    if (!digits(&q, e, &a)) return DT_NONE;
  }
  if (q < e && *q == ':') {
    q++;
    if (!digits(&q, e, &b) || b > 59) return DT_NONE;
    if (q < e && *q == ':') {
      q++;
      if (!digits(&q, e, &c) || c > 59) return DT_NONE;
    }
  }
  if (days > 34 || a > 838 || days * 24 + a > 838) return DT_NONE;
  t->h = (int)(days * 24 + a);
  t->mi = (int)b; t->s = (int)c;
  if (q < e && *q == '.') { q++; t->us = frac_us(&q, e, &t->fsp); }
  if (q != e) return DT_NONE;
  t->kind = DT_TIME;
  return DT_TIME;
}
static int parse_dt(val_t *v, dtm *t) {
  int ty = sqlite3_value_type(v);
  if (ty == SQLITE_NULL) return DT_NONE;
  if (ty == SQLITE_FLOAT) {
    char b[64];
    snprintf(b, sizeof b, "%.6f", sqlite3_value_double(v));
    return parse_dt_str(b, strlen(b), t);
  }
  size_t n;
  const char *s = txt(v, &n);
  return parse_dt_str(s, n, t);
}
/* A date or datetime (TIME values are refused: NULL in MySQL's date functions). */
static int parse_date(val_t *v, dtm *t) {
  int k = parse_dt(v, t);
  return k == DT_DATE || k == DT_DATETIME ? k : DT_NONE;
}
static size_t fmt_date(char *b, const dtm *t) { return (size_t)sprintf(b, "%04d-%02d-%02d", t->y, t->mo, t->d); }
static size_t fmt_time(char *b, const dtm *t, int fsp) {
  size_t n = (size_t)sprintf(b, "%s%02d:%02d:%02d", t->neg ? "-" : "", t->h, t->mi, t->s);
  if (fsp > 0) {
    char f[8];
    snprintf(f, sizeof f, "%06d", t->us);
    n += (size_t)sprintf(b + n, ".%.*s", fsp, f);
  }
  return n;
}
static size_t fmt_datetime(char *b, const dtm *t, int fsp) {
  size_t n = fmt_date(b, t);
  b[n++] = ' ';
  dtm x = *t;
  x.neg = 0;
  return n + fmt_time(b + n, &x, fsp);
}
static void res_dt(ctx_t *c, const dtm *t, int fsp) {
  char b[64];
  size_t n;
  if (t->kind == DT_DATE) n = fmt_date(b, t);
  else if (t->kind == DT_TIME) n = fmt_time(b, t, fsp);
  else n = fmt_datetime(b, t, fsp);
  res_text(c, b, n);
}

/* Session-local "now" in microseconds since the epoch. */
static int64_t now_local_us(ctx_t *c, int sys) {
  fn_state *st = ST(c);
  int64_t us = st->stmt_time_us;
  if (sys || us == 0) us = mm_wall_us();
  return us + (int64_t)st->tz_offset * 1000000;
}
static int fsp_arg(ctx_t *c, int argc, val_t **argv) {
  if (argc < 1) return 0;
  int64_t f = i64(argv[0]);
  if (f < 0 || f > 6) {
    sqlite3_result_error(c, "Too-big precision specified. Maximum is 6.", -1);
    return -1;
  }
  return (int)f;
}
static void trunc_fsp(dtm *t, int fsp) {
  int m = 1;
  for (int k = fsp; k < 6; k++) m *= 10;
  t->us -= t->us % m;
}
static void now_common(ctx_t *c, int argc, val_t **argv, int64_t us, int kind) {
  int fsp = fsp_arg(c, argc, argv);
  if (fsp < 0) return;
  dtm t;
  dt_from_us(us, &t);
  trunc_fsp(&t, fsp);
  t.kind = kind;
  res_dt(c, &t, fsp);
}
static void f_now(ctx_t *c, int argc, val_t **argv) { now_common(c, argc, argv, now_local_us(c, 0), DT_DATETIME); }
static void f_sysdate(ctx_t *c, int argc, val_t **argv) { now_common(c, argc, argv, now_local_us(c, 1), DT_DATETIME); }
static void f_curdate(ctx_t *c, int argc, val_t **argv) { now_common(c, 0, argv, now_local_us(c, 0), DT_DATE); }
static void f_curtime(ctx_t *c, int argc, val_t **argv) { now_common(c, argc, argv, now_local_us(c, 0), DT_TIME); }
static int64_t now_utc_us(ctx_t *c) { return now_local_us(c, 0) - (int64_t)ST(c)->tz_offset * 1000000; }
static void f_utc_timestamp(ctx_t *c, int argc, val_t **argv) { now_common(c, argc, argv, now_utc_us(c), DT_DATETIME); }
static void f_utc_date(ctx_t *c, int argc, val_t **argv) { now_common(c, 0, argv, now_utc_us(c), DT_DATE); }
static void f_utc_time(ctx_t *c, int argc, val_t **argv) { now_common(c, argc, argv, now_utc_us(c), DT_TIME); }

static void f_unix_timestamp(ctx_t *c, int argc, val_t **argv) {
  if (argc == 0) {
    sqlite3_result_int64(c, now_utc_us(c) / 1000000);
    return;
  }
  dtm t;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(c); return; }
  if (!parse_date(argv[0], &t) || !real_date(&t)) { sqlite3_result_int64(c, 0); return; }
  int64_t us = dt_us(&t) - (int64_t)ST(c)->tz_offset * 1000000;
  if (us < 0) { sqlite3_result_int64(c, 0); return; }
  if (t.us) sqlite3_result_double(c, (double)us / 1e6);
  else sqlite3_result_int64(c, us / 1000000);
}
static void f_from_unixtime(ctx_t *c, int argc, val_t **argv);

/* DATE_FORMAT / TIME_FORMAT */
static int week_calc(const dtm *t, unsigned beh, int *year);
static void date_format_buf(mm_buf *b, const dtm *t, const char *f, size_t fn) {
  char x[32];
  for (size_t i = 0; i < fn; i++) {
    if (f[i] != '%' || i + 1 == fn) { mm_buf_putc(b, f[i]); continue; }
    char ch = f[++i];
    int wd = (t->kind != DT_TIME && real_date(t)) ? weekday_of(t) : 0, y;
    int h12 = t->h % 12 == 0 ? 12 : t->h % 12;
    x[0] = 0;
    switch (ch) {
    case 'a': if (real_date(t)) snprintf(x, sizeof x, "%.3s", day_names[wd]); else { mm_buf_free(b); b->oom = 2; return; } break;
    case 'b': if (t->mo) snprintf(x, sizeof x, "%.3s", mon_names[t->mo - 1]); else { mm_buf_free(b); b->oom = 2; return; } break;
    case 'c': snprintf(x, sizeof x, "%d", t->mo); break;
    case 'D': {
      const char *sfx = (t->d % 100 >= 11 && t->d % 100 <= 13) ? "th" : t->d % 10 == 1 ? "st" : t->d % 10 == 2 ? "nd" : t->d % 10 == 3 ? "rd" : "th";
      snprintf(x, sizeof x, "%d%s", t->d, sfx);
      break;
    }
    case 'd': snprintf(x, sizeof x, "%02d", t->d); break;
    case 'e': snprintf(x, sizeof x, "%d", t->d); break;
    case 'f': snprintf(x, sizeof x, "%06d", t->us); break;
    case 'H': snprintf(x, sizeof x, "%02d", t->h); break;
    case 'h': case 'I': snprintf(x, sizeof x, "%02d", h12); break;
    case 'i': snprintf(x, sizeof x, "%02d", t->mi); break;
    case 'j': snprintf(x, sizeof x, "%03d", real_date(t) ? (int)(days_from_civil(t->y, t->mo, t->d) - days_from_civil(t->y, 1, 1) + 1) : 0); break;
    case 'k': snprintf(x, sizeof x, "%d", t->h); break;
    case 'l': snprintf(x, sizeof x, "%d", h12); break;
    case 'M': if (t->mo) snprintf(x, sizeof x, "%s", mon_names[t->mo - 1]); else { mm_buf_free(b); b->oom = 2; return; } break;
    case 'm': snprintf(x, sizeof x, "%02d", t->mo); break;
    case 'p': snprintf(x, sizeof x, "%s", t->h % 24 < 12 ? "AM" : "PM"); break;
    case 'r': snprintf(x, sizeof x, "%02d:%02d:%02d %s", h12, t->mi, t->s, t->h % 24 < 12 ? "AM" : "PM"); break;
    case 'S': case 's': snprintf(x, sizeof x, "%02d", t->s); break;
    case 'T': snprintf(x, sizeof x, "%02d:%02d:%02d", t->h, t->mi, t->s); break;
    case 'U': snprintf(x, sizeof x, "%02d", week_calc(t, 4, &y)); break;
    case 'u': snprintf(x, sizeof x, "%02d", week_calc(t, 1, &y)); break;
    case 'V': snprintf(x, sizeof x, "%02d", week_calc(t, 4 | 2, &y)); break;
    case 'v': snprintf(x, sizeof x, "%02d", week_calc(t, 1 | 2, &y)); break;
    case 'X': week_calc(t, 4 | 2, &y); snprintf(x, sizeof x, "%04d", y); break;
    case 'x': week_calc(t, 1 | 2, &y); snprintf(x, sizeof x, "%04d", y); break;
    case 'W': if (real_date(t)) snprintf(x, sizeof x, "%s", day_names[wd]); else { mm_buf_free(b); b->oom = 2; return; } break;
    case 'w': snprintf(x, sizeof x, "%d", (wd + 1) % 7); break;
    case 'Y': snprintf(x, sizeof x, "%04d", t->y); break;
    case 'y': snprintf(x, sizeof x, "%02d", t->y % 100); break;
    default: x[0] = ch; x[1] = 0;
    }
    mm_buf_puts(b, x);
  }
}
static void f_date_format(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  dtm t;
  int k = parse_dt(argv[0], &t);
  if (!k) { sqlite3_result_null(c); return; }
  if (k == DT_TIME) { /* DATE_FORMAT of a TIME: today's date in MySQL; keep the time */
    dtm n;
    dt_from_us(now_local_us(c, 0), &n);
    t.y = n.y; t.mo = n.mo; t.d = n.d;
    t.kind = DT_DATETIME;
  }
  size_t fn;
  const char *f = txt(argv[1], &fn);
  mm_buf b;
  mm_buf_init(&b);
  date_format_buf(&b, &t, f, fn);
  if (b.oom == 2) { sqlite3_result_null(c); return; }
  res_buf(c, &b);
}
static void f_time_format(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  dtm t;
  if (!parse_dt(argv[0], &t)) { sqlite3_result_null(c); return; }
  t.kind = DT_TIME;
  t.y = t.mo = t.d = 0;
  size_t fn;
  const char *f = txt(argv[1], &fn);
  mm_buf b;
  mm_buf_init(&b);
  for (size_t i = 0; i < fn; i++) {
    if (f[i] == '%' && i + 1 < fn && strchr("aDbcdeMmjUuVvWwXxYy", f[i + 1])) { sqlite3_result_null(c); mm_buf_free(&b); return; }
    if (f[i] == '%') i++;
  }
  date_format_buf(&b, &t, f, fn);
  res_buf(c, &b);
}

static void f_from_unixtime(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t i;
  double d;
  int k = num(argv[0], &i, &d);
  int fsp = 0;
  int64_t us;
  if (k == N_REAL) {
    if (d < 0 || d > 32536771199.0) { sqlite3_result_null(c); return; }
    us = (int64_t)llround(d * 1e6);
    fsp = 6;
  } else {
    if (i < 0 || i > 32536771199LL) { sqlite3_result_null(c); return; }
    us = i * 1000000;
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    if (s && strchr(s, '.')) fsp = 6;
  }
  dtm t;
  dt_from_us(us + (int64_t)ST(c)->tz_offset * 1000000, &t);
  if (argc == 1) { res_dt(c, &t, fsp); return; }
  size_t fn;
  const char *f = txt(argv[1], &fn);
  mm_buf b;
  mm_buf_init(&b);
  date_format_buf(&b, &t, f, fn);
  if (b.oom == 2) { sqlite3_result_null(c); return; }
  res_buf(c, &b);
}

/* STR_TO_DATE(s, fmt) */
static int match_name(const char **p, const char *e, const char *const *names, int n, int abbr) {
  for (int k = 0; k < n; k++) {
    size_t l = abbr ? 3 : strlen(names[k]);
    if ((size_t)(e - *p) >= l && strncasecmp(*p, names[k], l) == 0) { *p += l; return k + 1; }
  }
  return 0;
}
static void f_str_to_date(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  size_t sn, fn;
  const char *s = txt(argv[0], &sn), *f = txt(argv[1], &fn);
  const char *p = s, *e = s + sn;
  dtm t;
  memset(&t, 0, sizeof t);
  int has_date = 0, has_time = 0, pm = -1, fsp = 0;
  for (size_t i = 0; i < fn; i++) {
    if (f[i] != '%' || i + 1 == fn) {
      if (isspace((unsigned char)f[i])) { while (p < e && isspace((unsigned char)*p)) p++; continue; }
      if (p >= e || *p != f[i]) goto bad;
      p++;
      continue;
    }
    char ch = f[++i];
    int64_t v = 0;
    int nd;
    if (ch != '%')
      while (p < e && isspace((unsigned char)*p)) p++; /* MySQL skips spaces before each field */
    const char *q;
    switch (ch) {
#define NUM(maxd) do { q = p; while (p < e && p - q < (maxd) && isdigit((unsigned char)*p)) { v = v * 10 + (*p - '0'); p++; } if (p == q) goto bad; } while (0)
    case 'Y': NUM(4); nd = (int)(p - q); t.y = (int)(nd <= 2 ? (v < 70 ? 2000 + v : 1900 + v) : v); has_date = 1; break;
    case 'y': NUM(2); t.y = (int)(v < 70 ? 2000 + v : 1900 + v); has_date = 1; break;
    case 'm': case 'c': NUM(2); t.mo = (int)v; has_date = 1; break;
    case 'd': case 'e': NUM(2); t.d = (int)v; has_date = 1; break;
    case 'D': NUM(2); t.d = (int)v; has_date = 1; while (p < e && isalpha((unsigned char)*p)) p++; break;
    case 'H': case 'k': case 'h': case 'I': case 'l': NUM(2); t.h = (int)v; has_time = 1; break;
    case 'i': NUM(2); t.mi = (int)v; has_time = 1; break;
    case 'S': case 's': NUM(2); t.s = (int)v; has_time = 1; break;
    case 'f': q = p; t.us = frac_us(&p, e, &fsp); if (p == q) goto bad; fsp = 6; has_time = 1; break;
    case 'j': { NUM(3); has_date = 1; if (!t.y) goto bad; int yy, mm, dd; civil_from_days(days_from_civil(t.y, 1, 1) + v - 1, &yy, &mm, &dd); t.mo = mm; t.d = dd; break; }
    case 'p':
      if (e - p >= 2 && strncasecmp(p, "AM", 2) == 0) pm = 0;
      else if (e - p >= 2 && strncasecmp(p, "PM", 2) == 0) pm = 1;
      else goto bad;
      p += 2;
      break;
    case 'M': if (!(t.mo = match_name(&p, e, mon_names, 12, 0))) goto bad; has_date = 1; break;
    case 'b': if (!(t.mo = match_name(&p, e, mon_names, 12, 1))) goto bad; has_date = 1; break;
    case 'W': if (!match_name(&p, e, day_names, 7, 0)) goto bad; break;
    case 'a': if (!match_name(&p, e, day_names, 7, 1)) goto bad; break;
    case 'T': case 'r': {
      int64_t hh, mi, ss;
      if (!digits(&p, e, &hh) || p >= e || *p++ != ':' || !digits(&p, e, &mi) || p >= e || *p++ != ':' || !digits(&p, e, &ss)) goto bad;
      t.h = (int)hh; t.mi = (int)mi; t.s = (int)ss; has_time = 1;
      if (ch == 'r') {
        while (p < e && isspace((unsigned char)*p)) p++;
        if (e - p >= 2 && strncasecmp(p, "PM", 2) == 0) { pm = 1; p += 2; }
        else if (e - p >= 2 && strncasecmp(p, "AM", 2) == 0) { pm = 0; p += 2; }
      }
      break;
    }
    case '%': if (p >= e || *p != '%') goto bad; p++; break;
    default: goto bad;
#undef NUM
    }
  }
  if (pm >= 0) {
    if (t.h < 1 || t.h > 12) goto bad;
    t.h = t.h % 12 + (pm ? 12 : 0);
  }
  if (t.h > 23 || t.mi > 59 || t.s > 59) goto bad;
  if (has_date) {
    t.kind = has_time ? DT_DATETIME : DT_DATE;
    if (!valid_date(&t) && !(t.mo >= 0 && t.mo <= 12 && t.d >= 0 && t.d <= 31 && (t.mo == 0 || t.d == 0))) goto bad;
    if (t.mo && t.d && t.d > mdays(t.y, t.mo)) goto bad;
    if (!t.mo || !t.d) goto bad; /* NO_ZERO_IN_DATE is part of the default sql_mode */
  } else if (has_time) {
    t.kind = DT_TIME;
  } else goto bad;
  res_dt(c, &t, fsp);
  return;
bad:
  sqlite3_result_null(c);
}

static void f_date(ctx_t *c, int argc, val_t **argv) {
  dtm t;
  if (!parse_date(argv[0], &t)) { sqlite3_result_null(c); return; }
  t.kind = DT_DATE;
  res_dt(c, &t, 0);
}
static void f_time(ctx_t *c, int argc, val_t **argv) {
  dtm t;
  int k = parse_dt(argv[0], &t);
  if (!k || k == DT_DATE) {
    if (k == DT_DATE) { t.h = t.mi = t.s = t.us = 0; }
    else { sqlite3_result_null(c); return; }
  }
  t.kind = DT_TIME;
  res_dt(c, &t, t.fsp ? 6 : 0);
}
static void f_timestamp(ctx_t *c, int argc, val_t **argv) {
  dtm t;
  if (!parse_date(argv[0], &t)) { sqlite3_result_null(c); return; }
  t.kind = DT_DATETIME;
  if (argc == 2) {
    dtm u;
    int k = parse_dt(argv[1], &u);
    if (k != DT_TIME) { sqlite3_result_null(c); return; }
    dt_from_us(dt_us(&t) + dt_us(&u), &t);
    t.fsp = t.fsp > u.fsp ? t.fsp : u.fsp;
  }
  res_dt(c, &t, t.fsp ? 6 : 0);
}

enum { P_YEAR, P_MONTH, P_DAY, P_HOUR, P_MINUTE, P_SECOND, P_MICROSECOND, P_WEEK, P_QUARTER,
       P_DAYOFWEEK, P_DAYOFYEAR, P_WEEKDAY, P_DAYNAME, P_MONTHNAME, P_LAST_DAY, P_TO_DAYS, P_WEEKOFYEAR };

static int week_calc(const dtm *t, unsigned beh, int *year) {
  if (!real_date(t)) { *year = t->y; return 0; }
  int64_t daynr = to_days(t);
  dtm j = *t;
  j.mo = 1; j.d = 1;
  int64_t first = to_days(&j);
  int monday_first = beh & 1, week_year = (beh & 2) != 0, first_weekday = (beh & 4) != 0;
  int weekday = (int)((first + 5 + (monday_first ? 0 : 1)) % 7);
  int days;
  *year = t->y;
  if (t->mo == 1 && t->d <= 7 - weekday) {
    if (!week_year && ((first_weekday && weekday != 0) || (!first_weekday && weekday >= 4))) return 0;
    week_year = 1;
    (*year)--;
    days = is_leap(*year) ? 366 : 365;
    first -= days;
    weekday = (weekday + 53 * 7 - days) % 7;
  }
  if ((first_weekday && weekday != 0) || (!first_weekday && weekday >= 4)) days = (int)(daynr - (first + (7 - weekday)));
  else days = (int)(daynr - (first - weekday));
  if (week_year && days >= 52 * 7) {
    weekday = (weekday + (is_leap(*year) ? 366 : 365)) % 7;
    if ((!first_weekday && weekday < 4) || (first_weekday && weekday == 0)) {
      (*year)++;
      return 1;
    }
  }
  return days / 7 + 1;
}
static unsigned week_mode(int64_t mode) {
  unsigned m = (unsigned)(mode & 7);
  if (!(m & 1)) m ^= 4;
  return m;
}

static void part_impl(ctx_t *c, int argc, val_t **argv, int part) {
  dtm t;
  int k = parse_dt(argv[0], &t);
  if (!k) { sqlite3_result_null(c); return; }
  int time_ok = part == P_HOUR || part == P_MINUTE || part == P_SECOND || part == P_MICROSECOND;
  if (k == DT_TIME && !time_ok) { sqlite3_result_null(c); return; }
  int needs_real = part >= P_WEEK && part != P_QUARTER;
  if (needs_real && !real_date(&t)) { sqlite3_result_null(c); return; }
  int y;
  switch (part) {
  case P_YEAR: sqlite3_result_int(c, t.y); break;
  case P_MONTH: sqlite3_result_int(c, t.mo); break;
  case P_DAY: sqlite3_result_int(c, t.d); break;
  case P_HOUR: sqlite3_result_int(c, t.h); break;
  case P_MINUTE: sqlite3_result_int(c, t.mi); break;
  case P_SECOND: sqlite3_result_int(c, t.s); break;
  case P_MICROSECOND: sqlite3_result_int(c, t.us); break;
  case P_QUARTER: sqlite3_result_int(c, (t.mo + 2) / 3); break;
  case P_WEEK: sqlite3_result_int(c, week_calc(&t, week_mode(argc > 1 ? i64(argv[1]) : 0), &y)); break;
  case P_WEEKOFYEAR: sqlite3_result_int(c, week_calc(&t, week_mode(3), &y)); break;
  case P_DAYOFWEEK: sqlite3_result_int(c, (weekday_of(&t) + 1) % 7 + 1); break;
  case P_WEEKDAY: sqlite3_result_int(c, weekday_of(&t)); break;
  case P_DAYOFYEAR: sqlite3_result_int64(c, days_from_civil(t.y, t.mo, t.d) - days_from_civil(t.y, 1, 1) + 1); break;
  case P_DAYNAME: sqlite3_result_text(c, day_names[weekday_of(&t)], -1, SQLITE_STATIC); break;
  case P_MONTHNAME: sqlite3_result_text(c, mon_names[t.mo - 1], -1, SQLITE_STATIC); break;
  case P_LAST_DAY: t.d = mdays(t.y, t.mo); t.kind = DT_DATE; res_dt(c, &t, 0); break;
  case P_TO_DAYS: sqlite3_result_int64(c, to_days(&t)); break;
  }
}
#define PART(fname, P) static void fname(ctx_t *c, int argc, val_t **argv) { part_impl(c, argc, argv, P); }
PART(f_year, P_YEAR)
PART(f_month, P_MONTH)
PART(f_day, P_DAY)
PART(f_hour, P_HOUR)
PART(f_minute, P_MINUTE)
PART(f_second, P_SECOND)
PART(f_microsecond, P_MICROSECOND)
PART(f_quarter, P_QUARTER)
PART(f_week, P_WEEK)
PART(f_weekofyear, P_WEEKOFYEAR)
PART(f_dayofweek, P_DAYOFWEEK)
PART(f_weekday, P_WEEKDAY)
PART(f_dayofyear, P_DAYOFYEAR)
PART(f_dayname, P_DAYNAME)
PART(f_monthname, P_MONTHNAME)
PART(f_last_day, P_LAST_DAY)
PART(f_to_days, P_TO_DAYS)

static void f_yearweek(ctx_t *c, int argc, val_t **argv) {
  dtm t;
  if (!parse_date(argv[0], &t) || !real_date(&t)) { sqlite3_result_null(c); return; }
  int y;
  int w = week_calc(&t, week_mode(argc > 1 ? i64(argv[1]) : 0) | 2, &y);
  sqlite3_result_int64(c, (int64_t)y * 100 + w);
}
static void f_from_days(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t n = i64(argv[0]);
  dtm t;
  memset(&t, 0, sizeof t);
  t.kind = DT_DATE;
  if (n >= 366 && n <= 3652424) civil_from_days(n - 719528, &t.y, &t.mo, &t.d);
  res_dt(c, &t, 0);
}
static void f_makedate(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t y = i64(argv[0]), doy = i64(argv[1]);
  if (doy <= 0 || doy > 3660000 || y < 0 || y > 9999) { sqlite3_result_null(c); return; }
  if (y < 70) y += 2000; else if (y < 100) y += 1900;
  dtm t;
  memset(&t, 0, sizeof t);
  civil_from_days(days_from_civil(y, 1, 1) + doy - 1, &t.y, &t.mo, &t.d);
  if (t.y > 9999) { sqlite3_result_null(c); return; }
  t.kind = DT_DATE;
  res_dt(c, &t, 0);
}
static void f_datediff(ctx_t *c, int argc, val_t **argv) {
  dtm a, b;
  if (!parse_date(argv[0], &a) || !parse_date(argv[1], &b) || !real_date(&a) || !real_date(&b)) {
    sqlite3_result_null(c);
    return;
  }
  sqlite3_result_int64(c, days_from_civil(a.y, a.mo, a.d) - days_from_civil(b.y, b.mo, b.d));
}
static void res_time_us(ctx_t *c, int64_t us, int fsp) {
  dtm t;
  memset(&t, 0, sizeof t);
  t.kind = DT_TIME;
  if (us < 0) { t.neg = 1; us = -us; }
  int64_t maxus = (838LL * 3600 + 59 * 60 + 59) * 1000000;
  if (us > maxus) us = maxus; /* MySQL clamps to 838:59:59 */
  t.h = (int)(us / 3600000000LL);
  t.mi = (int)(us / 60000000 % 60);
  t.s = (int)(us / 1000000 % 60);
  t.us = (int)(us % 1000000);
  res_dt(c, &t, fsp);
}
static void f_timediff(ctx_t *c, int argc, val_t **argv) {
  dtm a, b;
  int ka = parse_dt(argv[0], &a), kb = parse_dt(argv[1], &b);
  if (!ka || !kb || ((ka == DT_TIME) != (kb == DT_TIME))) { sqlite3_result_null(c); return; }
  res_time_us(c, dt_us(&a) - dt_us(&b), (a.fsp || b.fsp) ? 6 : 0);
}
static void f_time_to_sec(ctx_t *c, int argc, val_t **argv) {
  dtm t;
  int k = parse_dt(argv[0], &t);
  if (!k) { sqlite3_result_null(c); return; }
  int64_t s = ((int64_t)t.h * 60 + t.mi) * 60 + t.s;
  sqlite3_result_int64(c, t.neg ? -s : s);
}
static void f_sec_to_time(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t i;
  double d;
  if (num(argv[0], &i, &d) == N_REAL) res_time_us(c, d2i(round(d * 1e6)), 6);
  else res_time_us(c, i > 9000000000000LL ? 9000000000000LL * 1000000 : i < -9000000000000LL ? -9000000000000LL * 1000000 : i * 1000000, 0);
}
static void f_addtime(ctx_t *c, int argc, val_t **argv) {
  int sub = sqlite3_user_data(c) == NULL;
  dtm a, b;
  int ka = parse_dt(argv[0], &a), kb = parse_dt(argv[1], &b);
  if (!ka || kb != DT_TIME) { sqlite3_result_null(c); return; }
  int64_t d = dt_us(&b);
  if (sub) d = -d;
  int fsp = (a.fsp || b.fsp) ? 6 : 0;
  if (ka == DT_TIME) { res_time_us(c, dt_us(&a) + d, fsp); return; }
  dt_from_us(dt_us(&a) + d, &a);
  res_dt(c, &a, fsp);
}

/* Interval units. */
static const char *const unit_names[] = {
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
    "SECOND_MICROSECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND",
    "HOUR_SECOND", "HOUR_MINUTE", "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR",
    "YEAR_MONTH", NULL};
/* first..last component (0 YEAR 1 MONTH 2 DAY 3 HOUR 4 MINUTE 5 SECOND 6 MICROSECOND) */
static const signed char unit_span[][2] = {
    {6, 6}, {5, 5}, {4, 4}, {3, 3}, {2, 2}, {2, 2}, {1, 1}, {1, 1}, {0, 0},
    {5, 6}, {4, 6}, {4, 5}, {3, 6}, {3, 5}, {3, 4}, {2, 6}, {2, 5}, {2, 4}, {2, 3}, {0, 1}};
enum { U_MICROSECOND, U_SECOND, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH, U_QUARTER, U_YEAR };
static int unit_of(val_t *v) {
  const char *s = (const char *)sqlite3_value_text(v);
  if (!s) return -1;
  for (int k = 0; unit_names[k]; k++)
    if (!strcasecmp(s, unit_names[k])) return k;
  return -1;
}

/* Interval value -> months and microseconds.  0 on a bad value. */
static int interval_of(val_t *v, int unit, int64_t *months, int64_t *us) {
  *months = 0;
  *us = 0;
  static const int64_t mult[] = {12, 1, US_DAY, 3600000000LL, 60000000, 1000000, 1};
  if (unit <= U_YEAR) {
    int64_t i;
    double d;
    int k = num(v, &i, &d);
    if (k == N_NULL) return 0;
    if (unit == U_SECOND && k == N_REAL) {
      if (fabs(d) > 1e12) return 0;
      *us = d2i(round(d * 1e6));
      return 1;
    }
    if (k == N_REAL) i = d2i(round(d));
    if (i > 1000000000000LL || i < -1000000000000LL) return 0;
    switch (unit) {
    case U_MICROSECOND: *us = i; break;
    case U_SECOND: *us = i * 1000000; break;
    case U_MINUTE: if (i > 10000000000LL || i < -10000000000LL) return 0; *us = i * 60000000; break;
    case U_HOUR: if (i > 100000000 || i < -100000000) return 0; *us = i * 3600000000LL; break;
    case U_DAY: if (i > 10000000 || i < -10000000) return 0; *us = i * US_DAY; break;
    case U_WEEK: if (i > 1000000 || i < -1000000) return 0; *us = i * 7 * US_DAY; break;
    case U_MONTH: *months = i; break;
    case U_QUARTER: *months = i * 3; break;
    case U_YEAR: *months = i * 12; break;
    }
    return 1;
  }
  int first = unit_span[unit][0], last = unit_span[unit][1], ncomp = last - first + 1;
  size_t n;
  const char *s = txt(v, &n), *p = s, *e = s + n;
  while (p < e && isspace((unsigned char)*p)) p++;
  int neg = 0;
  if (p < e && *p == '-') { neg = 1; p++; }
  int64_t vals[8];
  int nd[8], nv = 0;
  while (p < e && nv < 8) {
    if (!isdigit((unsigned char)*p)) { p++; continue; }
    const char *q = p;
    nd[nv] = digits(&p, e, &vals[nv]);
    (void)q;
    nv++;
  }
  if (nv == 0 || nv > ncomp) return 0;
  int64_t comp[7] = {0};
  for (int k = 0; k < nv; k++) comp[last - (nv - 1) + k] = vals[k];
  if (last == 6 && nv >= 2) { /* a fraction: '1.5' SECOND_MICROSECOND is 1.500000 */
    for (int k = nd[nv - 1]; k < 6; k++) comp[6] *= 10;
  }
  for (int k = first; k <= last; k++) {
    int64_t x;
    if (comp[k] > 1000000000000LL || __builtin_mul_overflow(comp[k], mult[k], &x)) return 0;
    if (k <= 1 ? __builtin_add_overflow(*months, x, months) : __builtin_add_overflow(*us, x, us)) return 0;
  }
  if (*us > 4000000000000000000LL) return 0; /* far beyond any date */
  if (neg) { *months = -*months; *us = -*us; }
  return 1;
}
static void date_add_impl(ctx_t *c, val_t **argv, int sub) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(c);
    return;
  }
  int unit = unit_of(argv[2]);
  dtm t;
  int k = parse_dt(argv[0], &t);
  int64_t months, us;
  if (unit < 0 || !k || !interval_of(argv[1], unit, &months, &us)) { sqlite3_result_null(c); return; }
  if (sub) { months = -months; us = -us; }
  if (k == DT_TIME) {
    if (months) { sqlite3_result_null(c); return; }
    res_time_us(c, dt_us(&t) + us, (t.fsp || us % 1000000) ? 6 : 0);
    return;
  }
  if (!real_date(&t)) { sqlite3_result_null(c); return; }
  if (months) {
    int64_t m = (int64_t)t.y * 12 + (t.mo - 1) + months;
    if (m < 0 || m >= 120000) { sqlite3_result_null(c); return; }
    t.y = (int)(m / 12);
    t.mo = (int)(m % 12) + 1;
    if (t.d > mdays(t.y, t.mo)) t.d = mdays(t.y, t.mo);
  }
  int date_only = k == DT_DATE && unit_span[unit][1] <= 2;
  int fsp = (t.fsp || unit_span[unit][1] == 6 || us % 1000000) ? 6 : 0;
  if (us) {
    int64_t base = dt_us(&t);
    int64_t lim = days_from_civil(10000, 1, 1) * US_DAY;
    if ((us > 0 && base > lim - us) || (us < 0 && base < days_from_civil(0, 1, 1) * US_DAY - us)) {
      sqlite3_result_null(c);
      return;
    }
    dt_from_us(base + us, &t);
  }
  if (t.y < 0 || t.y > 9999) { sqlite3_result_null(c); return; }
  t.kind = date_only ? DT_DATE : DT_DATETIME;
  res_dt(c, &t, fsp);
}
static void f_date_add(ctx_t *c, int argc, val_t **argv) { date_add_impl(c, argv, 0); }
static void f_date_sub(ctx_t *c, int argc, val_t **argv) { date_add_impl(c, argv, 1); }

static void f_extract(ctx_t *c, int argc, val_t **argv) {
  int unit = unit_of(argv[0]);
  dtm t;
  int k = parse_dt(argv[1], &t);
  if (unit < 0 || !k) { sqlite3_result_null(c); return; }
  if (unit == U_WEEK) { int y; sqlite3_result_int(c, week_calc(&t, week_mode(0), &y)); return; }
  if (unit == U_QUARTER) { sqlite3_result_int(c, (t.mo + 2) / 3); return; }
  int64_t comp[7] = {t.y, t.mo, t.d, t.h, t.mi, t.s, t.us};
  if (k == DT_TIME) comp[2] = 0;
  int first = unit_span[unit][0], last = unit_span[unit][1];
  int64_t v = 0;
  for (int i = first; i <= last; i++) v = v * (i == 6 ? 1000000 : i == 1 ? 100 : 100) + comp[i];
  if (k == DT_TIME && t.neg && first >= 2) v = -v;
  sqlite3_result_int64(c, v);
}
static void f_timestampdiff(ctx_t *c, int argc, val_t **argv) {
  int unit = unit_of(argv[0]);
  dtm a, b;
  int ka = parse_dt(argv[1], &a), kb = parse_dt(argv[2], &b);
  if (unit < 0 || unit > U_YEAR || !ka || !kb || ka == DT_TIME || kb == DT_TIME) { sqlite3_result_null(c); return; }
  int64_t ua = dt_us(&a), ub = dt_us(&b);
  static const int64_t div[] = {1, 1000000, 60000000, 3600000000LL, US_DAY, 7 * US_DAY};
  if (unit <= U_WEEK) { sqlite3_result_int64(c, (ub - ua) / div[unit]); return; }
  int neg = 0;
  if (ub < ua) { dtm x = a; a = b; b = x; neg = 1; }
  int64_t months = ((int64_t)b.y * 12 + b.mo) - ((int64_t)a.y * 12 + a.mo);
  int64_t ra = ((((int64_t)a.d * 24 + a.h) * 60 + a.mi) * 60 + a.s) * 1000000 + a.us;
  int64_t rb = ((((int64_t)b.d * 24 + b.h) * 60 + b.mi) * 60 + b.s) * 1000000 + b.us;
  if (rb < ra) months--;
  if (unit == U_QUARTER) months /= 3;
  if (unit == U_YEAR) months /= 12;
  sqlite3_result_int64(c, neg ? -months : months);
}

/* ---- strings ------------------------------------------------------------- */

static void f_concat(ctx_t *c, int argc, val_t **argv) {
  if (argc < 1) {
    sqlite3_result_error(c, "Incorrect parameter count in the call to native function 'CONCAT'", -1);
    return;
  }
  NULL_IF_ANY_NULL();
  mm_buf b;
  mm_buf_init(&b);
  int blob = 0;
  for (int i = 0; i < argc; i++) {
    if (sqlite3_value_type(argv[i]) == SQLITE_BLOB) {
      blob = 1;
      mm_buf_append(&b, sqlite3_value_blob(argv[i]), (size_t)sqlite3_value_bytes(argv[i]));
    } else {
      size_t n;
      const char *p = txt(argv[i], &n);
      mm_buf_append(&b, p, n);
    }
  }
  if (blob && !b.oom) {
    sqlite3_result_blob64(c, b.p ? b.p : "", b.len, SQLITE_TRANSIENT);
    mm_buf_free(&b);
    return;
  }
  res_buf(c, &b);
}
static void f_concat_ws(ctx_t *c, int argc, val_t **argv) {
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(c); return; }
  size_t sn;
  const char *sep = txt(argv[0], &sn);
  char *sepc = mm_strndup(sep, sn);
  if (!sepc) { sqlite3_result_error_nomem(c); return; }
  mm_buf b;
  mm_buf_init(&b);
  int first = 1;
  for (int i = 1; i < argc; i++) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    if (!first) mm_buf_append(&b, sepc, sn);
    first = 0;
    size_t n;
    const char *p = txt(argv[i], &n);
    mm_buf_append(&b, p, n);
  }
  mm_free(sepc);
  res_buf(c, &b);
}
static int is_blob(val_t *v) { return sqlite3_value_type(v) == SQLITE_BLOB; }
static void f_length(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  if (is_blob(argv[0])) sqlite3_result_int(c, sqlite3_value_bytes(argv[0]));
  else { size_t n; txt(argv[0], &n); sqlite3_result_int64(c, (int64_t)n); }
}
static void f_char_length(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  if (is_blob(argv[0])) { sqlite3_result_int(c, sqlite3_value_bytes(argv[0])); return; }
  size_t n;
  const char *p = txt(argv[0], &n);
  sqlite3_result_int64(c, u8_count(p, n));
}
/* String argument as bytes + whether characters are bytes (BLOB). */
typedef struct sarg { const char *p; size_t n; int bin; } sarg;
static sarg sget(val_t *v) {
  sarg s;
  if (is_blob(v)) {
    s.p = sqlite3_value_blob(v);
    s.n = (size_t)sqlite3_value_bytes(v);
    s.bin = 1;
    if (!s.p) s.p = "";
  } else {
    s.p = txt(v, &s.n);
    s.bin = 0;
  }
  return s;
}
static int64_t s_count(sarg s) { return s.bin ? (int64_t)s.n : u8_count(s.p, s.n); }
static size_t s_off(sarg s, int64_t ci) { return s.bin ? (ci < 0 ? 0 : (size_t)ci < s.n ? (size_t)ci : s.n) : u8_off(s.p, s.n, ci); }
static void res_s(ctx_t *c, sarg s, const char *p, size_t n) {
  if (s.bin) sqlite3_result_blob64(c, p, n, SQLITE_TRANSIENT);
  else res_text(c, p, n);
}

static void f_substring(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  int64_t pos = i64(argv[1]);
  int64_t len = argc > 2 ? i64(argv[2]) : INT64_MAX;
  int64_t nc = s_count(s);
  if (pos == 0 || len <= 0 || pos > nc || pos < -nc) { res_s(c, s, "", 0); return; }
  int64_t start = pos > 0 ? pos - 1 : nc + pos;
  size_t a = s_off(s, start);
  size_t b = len >= nc - start ? s.n : a + s_off((sarg){s.p + a, s.n - a, s.bin}, len);
  res_s(c, s, s.p + a, b - a);
}
static void f_left(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  int64_t n = i64(argv[1]);
  if (n <= 0) { res_s(c, s, "", 0); return; }
  res_s(c, s, s.p, s_off(s, n));
}
static void f_right(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  int64_t n = i64(argv[1]), nc = s_count(s);
  if (n <= 0) { res_s(c, s, "", 0); return; }
  if (n >= nc) { res_s(c, s, s.p, s.n); return; }
  size_t a = s_off(s, nc - n);
  res_s(c, s, s.p + a, s.n - a);
}
/* Case-insensitive (or binary) search of needle in hay from character
 * index `from`; returns the 1-based character position or 0. */
static int64_t find_ci(sarg hay, sarg nd, int64_t from) {
  int64_t nc = s_count(hay);
  if (from < 0 || from > nc) return 0;
  if (nd.n == 0) return from + 1;
  int bin = hay.bin || nd.bin;
  int64_t ndc = s_count(nd);
  size_t off = s_off(hay, from);
  for (int64_t ci = from; off < hay.n; ci++) {
    size_t rem = hay.n - off;
    if (bin) {
      if (rem >= nd.n && memcmp(hay.p + off, nd.p, nd.n) == 0) return ci + 1;
    } else {
      size_t l = u8_off(hay.p + off, rem, ndc);
      if (ci_eq(hay.p + off, l, nd.p, nd.n)) return ci + 1;
    }
    off += bin ? 1 : u8_len1((unsigned char)hay.p[off]);
  }
  return 0;
}
static void f_locate(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t from = 0;
  if (argc > 2) {
    from = i64(argv[2]) - 1;
    if (from < 0) { sqlite3_result_int(c, 0); return; }
  }
  sqlite3_result_int64(c, find_ci(sget(argv[1]), sget(argv[0]), from));
}
static void f_instr(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sqlite3_result_int64(c, find_ci(sget(argv[0]), sget(argv[1]), 0));
}
static void f_substring_index(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]), d = sget(argv[1]);
  int64_t cnt = i64(argv[2]);
  if (cnt == 0 || d.n == 0) { res_s(c, s, "", 0); return; }
  if (cnt > 0) {
    size_t off = 0;
    for (int64_t k = 0; k < cnt; k++) {
      const char *f = memmem(s.p + off, s.n - off, d.p, d.n);
      if (!f) { res_s(c, s, s.p, s.n); return; }
      if (k == cnt - 1) { res_s(c, s, s.p, (size_t)(f - s.p)); return; }
      off = (size_t)(f - s.p) + d.n;
    }
  } else {
    /* from the right */
    size_t end = s.n;
    for (int64_t k = 0; k < -cnt; k++) {
      const char *f = NULL;
      if (end >= d.n)
        for (size_t i = end - d.n + 1; i-- > 0;)
          if (memcmp(s.p + i, d.p, d.n) == 0) { f = s.p + i; break; }
      if (!f) { res_s(c, s, s.p, s.n); return; }
      if (k == -cnt - 1) { size_t a = (size_t)(f - s.p) + d.n; res_s(c, s, s.p + a, s.n - a); return; }
      end = (size_t)(f - s.p);
      if (end == 0) { res_s(c, s, s.p, s.n); return; }
    }
  }
  res_s(c, s, s.p, s.n);
}
static void f_lower(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  if (s.bin) { res_s(c, s, s.p, s.n); return; } /* binary strings have no case */
  mm_buf b;
  mm_buf_init(&b);
  case_map(&b, s.p, s.n, sqlite3_user_data(c) != NULL);
  res_buf(c, &b);
}
static void f_trim3(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]), r = sget(argv[1]);
  const char *mode = (const char *)sqlite3_value_text(argv[2]);
  int lead = !mode || strcasecmp(mode, "TRAILING") != 0;
  int trail = !mode || strcasecmp(mode, "LEADING") != 0;
  size_t a = 0, b = s.n;
  if (r.n) {
    if (lead) while (b - a >= r.n && memcmp(s.p + a, r.p, r.n) == 0) a += r.n;
    if (trail) while (b - a >= r.n && memcmp(s.p + b - r.n, r.p, r.n) == 0) b -= r.n;
  }
  res_s(c, s, s.p + a, b - a);
}
static void f_trim1(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  intptr_t m = (intptr_t)sqlite3_user_data(c); /* 1 L, 2 R, 3 both */
  size_t a = 0, b = s.n;
  if (m & 1) while (a < b && s.p[a] == ' ') a++;
  if (m & 2) while (b > a && s.p[b - 1] == ' ') b--;
  res_s(c, s, s.p + a, b - a);
}
static void pad_impl(ctx_t *c, int argc, val_t **argv, int left) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]), p = sget(argv[2]);
  int64_t len = i64(argv[1]);
  if (len < 0 || (uint64_t)len > MAX_RESULT_LEN) { sqlite3_result_null(c); return; }
  int64_t nc = s_count(s);
  if (len <= nc) { res_s(c, s, s.p, s_off(s, len)); return; }
  int64_t pc = s_count(p);
  if (pc == 0) { sqlite3_result_null(c); return; }
  mm_buf b;
  mm_buf_init(&b);
  int64_t need = len - nc;
  if (!left) mm_buf_append(&b, s.p, s.n);
  while (need > 0 && !b.oom) {
    if (need >= pc) { mm_buf_append(&b, p.p, p.n); need -= pc; }
    else { mm_buf_append(&b, p.p, s_off(p, need)); need = 0; }
  }
  if (left) mm_buf_append(&b, s.p, s.n);
  if (s.bin && !b.oom) { sqlite3_result_blob64(c, b.p, b.len, SQLITE_TRANSIENT); mm_buf_free(&b); return; }
  res_buf(c, &b);
}
static void f_lpad(ctx_t *c, int argc, val_t **argv) { pad_impl(c, argc, argv, 1); }
static void f_rpad(ctx_t *c, int argc, val_t **argv) { pad_impl(c, argc, argv, 0); }
static void f_repeat(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  int64_t n = i64(argv[1]);
  if (n <= 0 || s.n == 0) { res_s(c, s, "", 0); return; }
  if ((uint64_t)n > MAX_RESULT_LEN || (uint64_t)n * s.n > MAX_RESULT_LEN) { sqlite3_result_null(c); return; }
  mm_buf b;
  mm_buf_init(&b);
  for (int64_t k = 0; k < n && !b.oom; k++) mm_buf_append(&b, s.p, s.n);
  if (s.bin && !b.oom) { sqlite3_result_blob64(c, b.p, b.len, SQLITE_TRANSIENT); mm_buf_free(&b); return; }
  res_buf(c, &b);
}
static void f_space(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t n = i64(argv[0]);
  if (n <= 0) n = 0;
  if ((uint64_t)n > MAX_RESULT_LEN) { sqlite3_result_null(c); return; }
  char *p = sqlite3_malloc64((sqlite3_uint64)n + 1);
  if (!p) { sqlite3_result_error_nomem(c); return; }
  memset(p, ' ', (size_t)n);
  sqlite3_result_text64(c, p, (sqlite3_uint64)n, sqlite3_free, SQLITE_UTF8);
}
static void f_reverse(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  char *o = mm_malloc(s.n + 1);
  if (!o) { sqlite3_result_error_nomem(c); return; }
  size_t w = s.n;
  for (size_t i = 0; i < s.n;) {
    size_t l = s.bin ? 1 : u8_len1((unsigned char)s.p[i]);
    if (l > s.n - i) l = s.n - i;
    w -= l;
    memcpy(o + w, s.p + i, l);
    i += l;
  }
  res_s(c, s, o, s.n);
  mm_free(o);
}
static void f_strcmp(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg a = sget(argv[0]), b = sget(argv[1]);
  int r;
  if (a.bin || b.bin) {
    size_t m = a.n < b.n ? a.n : b.n;
    r = memcmp(a.p, b.p, m);
    if (!r) r = a.n < b.n ? -1 : a.n > b.n;
  } else r = codec_ci_cmp(a.p, a.n, b.p, b.n);
  sqlite3_result_int(c, r < 0 ? -1 : r > 0);
}
static void f_insert(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]), ns = sget(argv[3]);
  int64_t pos = i64(argv[1]), len = i64(argv[2]), nc = s_count(s);
  if (pos < 1 || pos > nc) { res_s(c, s, s.p, s.n); return; }
  if (len < 0 || len > nc - pos + 1) len = nc - pos + 1;
  size_t a = s_off(s, pos - 1), b = s_off(s, pos - 1 + len);
  mm_buf o;
  mm_buf_init(&o);
  mm_buf_append(&o, s.p, a);
  mm_buf_append(&o, ns.p, ns.n);
  mm_buf_append(&o, s.p + b, s.n - b);
  res_buf(c, &o);
}
static void f_ascii(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  sqlite3_result_int(c, s.n ? (unsigned char)s.p[0] : 0);
}
static void f_ord(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  if (!s.n) { sqlite3_result_int(c, 0); return; }
  size_t l = s.bin ? 1 : u8_len1((unsigned char)s.p[0]);
  if (l > s.n) l = s.n;
  int64_t v = 0;
  for (size_t i = 0; i < l; i++) v = v * 256 + (unsigned char)s.p[i];
  sqlite3_result_int64(c, v);
}
static int valid_utf8(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  for (size_t i = 0; i < n;) {
    unsigned char b = s[i];
    size_t l = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (!l || i + l > n) return 0;
    for (size_t k = 1; k < l; k++)
      if ((s[i + k] & 0xC0) != 0x80) return 0;
    i += l;
  }
  return 1;
}
static void f_char(ctx_t *c, int argc, val_t **argv) {
  mm_buf b;
  mm_buf_init(&b);
  for (int i = 0; i < argc; i++) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    uint64_t v = (uint64_t)i64(argv[i]) & 0xFFFFFFFFu;
    unsigned char o[4];
    int n = 0;
    for (int k = 3; k >= 0; k--) {
      unsigned char byte = (unsigned char)(v >> (8 * k));
      if (byte || n || k == 0) o[n++] = byte;
    }
    mm_buf_append(&b, o, (size_t)n);
  }
  if (b.oom) { sqlite3_result_error_nomem(c); mm_buf_free(&b); return; }
  if (valid_utf8(b.p ? b.p : "", b.len)) res_text(c, b.p, b.len);
  else sqlite3_result_blob64(c, b.p ? b.p : "", b.len, SQLITE_TRANSIENT);
  mm_buf_free(&b);
}
/* Compare two values MySQL-style: numerically if either is a number,
 * else as case-insensitive strings.  Returns <0, 0, >0. */
static int cmp_vals(val_t *a, val_t *b, int numeric) {
  if (numeric) {
    int64_t ia, ib;
    double da, db;
    int ka = num(a, &ia, &da), kb = num(b, &ib, &db);
    if (ka == N_INT && kb == N_INT) return ia < ib ? -1 : ia > ib;
    return da < db ? -1 : da > db;
  }
  sarg x = sget(a), y = sget(b);
  if (x.bin || y.bin) {
    size_t m = x.n < y.n ? x.n : y.n;
    int r = memcmp(x.p, y.p, m);
    return r ? r : (x.n < y.n ? -1 : x.n > y.n);
  }
  return codec_ci_cmp(x.p, x.n, y.p, y.n);
}
static void f_field(ctx_t *c, int argc, val_t **argv) {
  if (argc < 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_int(c, 0); return; }
  int allstr = 1;
  for (int i = 0; i < argc; i++)
    if (is_num_type(argv[i])) allstr = 0;
  for (int i = 1; i < argc; i++) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    if (cmp_vals(argv[0], argv[i], !allstr) == 0) { sqlite3_result_int(c, i); return; }
  }
  sqlite3_result_int(c, 0);
}
static void f_elt(ctx_t *c, int argc, val_t **argv) {
  if (argc < 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(c); return; }
  int64_t n = i64(argv[0]);
  if (n < 1 || n >= argc) { sqlite3_result_null(c); return; }
  sqlite3_result_value(c, argv[n]);
}
static void f_find_in_set(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]), l = sget(argv[1]);
  if (memchr(s.p, ',', s.n)) { sqlite3_result_int(c, 0); return; }
  int idx = 1;
  size_t a = 0;
  if (l.n == 0) { sqlite3_result_int(c, 0); return; }
  for (size_t i = 0; i <= l.n; i++) {
    if (i == l.n || l.p[i] == ',') {
      if (ci_eq(l.p + a, i - a, s.p, s.n)) { sqlite3_result_int(c, idx); return; }
      idx++;
      a = i + 1;
    }
  }
  sqlite3_result_int(c, 0);
}
static void f_greatest(ctx_t *c, int argc, val_t **argv) {
  int least = sqlite3_user_data(c) != NULL;
  if (argc < 2) {
    sqlite3_result_error(c, least ? "Incorrect parameter count in the call to native function 'LEAST'"
                                  : "Incorrect parameter count in the call to native function 'GREATEST'", -1);
    return;
  }
  NULL_IF_ANY_NULL();
  int numeric = 0;
  for (int i = 0; i < argc; i++)
    if (is_num_type(argv[i])) numeric = 1;
  int best = 0;
  for (int i = 1; i < argc; i++) {
    int r = cmp_vals(argv[i], argv[best], numeric);
    if (least ? r < 0 : r > 0) best = i;
  }
  if (numeric && !is_num_type(argv[best])) {
    int64_t iv;
    double dv;
    if (num(argv[best], &iv, &dv) == N_INT) sqlite3_result_int64(c, iv);
    else sqlite3_result_double(c, dv);
    return;
  }
  sqlite3_result_value(c, argv[best]);
}
static void f_isnull(ctx_t *c, int argc, val_t **argv) { sqlite3_result_int(c, sqlite3_value_type(argv[0]) == SQLITE_NULL); }
static void f_if(ctx_t *c, int argc, val_t **argv) {
  int t = sqlite3_value_type(argv[0]) != SQLITE_NULL && dbl(argv[0]) != 0;
  sqlite3_result_value(c, argv[t ? 1 : 2]);
}

static const char hexd[] = "0123456789ABCDEF";
static void f_hex(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int ty = sqlite3_value_type(argv[0]);
  if (ty == SQLITE_INTEGER || ty == SQLITE_FLOAT) {
    uint64_t v;
    if (ty == SQLITE_INTEGER) v = (uint64_t)sqlite3_value_int64(argv[0]);
    else {
      double d = sqlite3_value_double(argv[0]);
      v = d <= -9.2233720368547758e18 ? (uint64_t)INT64_MIN : d >= 1.8446744073709552e19 ? UINT64_MAX
        : d < 0 ? (uint64_t)(int64_t)llround(d) : (uint64_t)(d + 0.5);
    }
    char b[24];
    snprintf(b, sizeof b, "%llX", (unsigned long long)v);
    res_text(c, b, strlen(b));
    return;
  }
  sarg s = sget(argv[0]);
  char *o = mm_malloc(s.n * 2 + 1);
  if (!o) { sqlite3_result_error_nomem(c); return; }
  for (size_t i = 0; i < s.n; i++) {
    o[2 * i] = hexd[(unsigned char)s.p[i] >> 4];
    o[2 * i + 1] = hexd[(unsigned char)s.p[i] & 15];
  }
  res_text(c, o, s.n * 2);
  mm_free(o);
}
static int hexv(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}
static void f_unhex(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  size_t on = (s.n + 1) / 2;
  unsigned char *o = mm_malloc(on + 1);
  if (!o) { sqlite3_result_error_nomem(c); return; }
  size_t i = 0, w = 0;
  if (s.n % 2) {
    int v = hexv((unsigned char)s.p[0]);
    if (v < 0) goto bad;
    o[w++] = (unsigned char)v;
    i = 1;
  }
  for (; i < s.n; i += 2) {
    int h = hexv((unsigned char)s.p[i]), l = hexv((unsigned char)s.p[i + 1]);
    if (h < 0 || l < 0) goto bad;
    o[w++] = (unsigned char)(h << 4 | l);
  }
  sqlite3_result_blob64(c, o, w, SQLITE_TRANSIENT);
  mm_free(o);
  return;
bad:
  mm_free(o);
  sqlite3_result_null(c);
}
static void digest(ctx_t *c, val_t *v, const EVP_MD *md) {
  sarg s = sget(v);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int on = 0;
  if (!EVP_Digest(s.p, s.n, out, &on, md, NULL)) { sqlite3_result_error(c, "digest failed", -1); return; }
  char hx[EVP_MAX_MD_SIZE * 2 + 1];
  static const char lh[] = "0123456789abcdef";
  for (unsigned i = 0; i < on; i++) {
    hx[2 * i] = lh[out[i] >> 4];
    hx[2 * i + 1] = lh[out[i] & 15];
  }
  res_text(c, hx, on * 2);
}
static void f_md5(ctx_t *c, int argc, val_t **argv) { NULL_IF_ANY_NULL(); digest(c, argv[0], EVP_md5()); }
static void f_sha1(ctx_t *c, int argc, val_t **argv) { NULL_IF_ANY_NULL(); digest(c, argv[0], EVP_sha1()); }
static void f_sha2(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t bits = i64(argv[1]);
  const EVP_MD *md = bits == 0 || bits == 256 ? EVP_sha256() : bits == 224 ? EVP_sha224()
                   : bits == 384 ? EVP_sha384() : bits == 512 ? EVP_sha512() : NULL;
  if (!md) { sqlite3_result_null(c); return; }
  digest(c, argv[0], md);
}
static void f_to_base64(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sarg s = sget(argv[0]);
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  mm_buf b;
  mm_buf_init(&b);
  for (size_t i = 0; i < s.n; i += 3) {
    uint32_t v = (uint32_t)(unsigned char)s.p[i] << 16;
    if (i + 1 < s.n) v |= (uint32_t)(unsigned char)s.p[i + 1] << 8;
    if (i + 2 < s.n) v |= (unsigned char)s.p[i + 2];
    if (i && i % 57 == 0) mm_buf_putc(&b, '\n'); /* MySQL wraps every 76 output chars */
    mm_buf_putc(&b, a[v >> 18]);
    mm_buf_putc(&b, a[(v >> 12) & 63]);
    mm_buf_putc(&b, i + 1 < s.n ? a[(v >> 6) & 63] : '=');
    mm_buf_putc(&b, i + 2 < s.n ? a[v & 63] : '=');
  }
  res_buf(c, &b);
}
static void f_uuid(ctx_t *c, int argc, val_t **argv) {
  /* Version 1 layout as MySQL: time-based with 100ns ticks since 1582-10-15;
   * clock sequence and node are random per call. */
  static uint64_t last;
  uint64_t t = (uint64_t)mm_wall_us() * 10 + 0x01B21DD213814000ULL;
  if (t <= __atomic_load_n(&last, __ATOMIC_RELAXED)) t = __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
  else __atomic_store_n(&last, t, __ATOMIC_RELAXED);
  unsigned char r[8];
  sqlite3_randomness(sizeof r, r);
  char b[40];
  snprintf(b, sizeof b, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned)(t & 0xFFFFFFFF),
           (unsigned)((t >> 32) & 0xFFFF), (unsigned)(((t >> 48) & 0x0FFF) | 0x1000), (r[0] & 0x3F) | 0x80, r[1],
           r[2] | 1, r[3], r[4], r[5], r[6], r[7]);
  res_text(c, b, 36);
}
static void f_uuid_short(ctx_t *c, int argc, val_t **argv) {
  static uint64_t ctr;
  uint64_t v = ((uint64_t)(ST(c)->conn_id & 0xFF) << 56) + ((uint64_t)(mm_wall_us() / 1000000) << 24) +
               __atomic_add_fetch(&ctr, 1, __ATOMIC_RELAXED);
  sqlite3_result_int64(c, (int64_t)(v & 0x7FFFFFFFFFFFFFFFULL));
}

/* CONV(n, from, to) */
static void conv_impl(ctx_t *c, val_t *nv, int64_t from, int64_t to) {
  if (from == INT64_MIN || to == INT64_MIN) { sqlite3_result_null(c); return; }
  int64_t af = from < 0 ? -from : from, at = to < 0 ? -to : to;
  if (af < 2 || af > 36 || at < 2 || at > 36) { sqlite3_result_null(c); return; }
  size_t n;
  const char *s = txt(nv, &n);
  const char *p = s, *e = s + n;
  while (p < e && isspace((unsigned char)*p)) p++;
  int neg = 0;
  if (p < e && *p == '-') { neg = 1; p++; }
  uint64_t v = 0;
  int ovf = 0;
  for (; p < e; p++) {
    int d = isdigit((unsigned char)*p) ? *p - '0' : isalpha((unsigned char)*p) ? tolower((unsigned char)*p) - 'a' + 10 : 99;
    if (d >= af) break;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)af) ovf = 1;
    v = v * (uint64_t)af + (uint64_t)d;
  }
  if (ovf) v = UINT64_MAX;
  if (neg) v = 0 - v;
  int oneg = 0;
  if (to < 0 && (v >> 63)) { oneg = 1; v = 0 - v; }
  char b[72];
  int w = 71;
  b[w] = 0;
  do {
    int d = (int)(v % (uint64_t)at);
    b[--w] = (char)(d < 10 ? '0' + d : 'A' + d - 10);
    v /= (uint64_t)at;
  } while (v);
  if (oneg) b[--w] = '-';
  res_text(c, b + w, (size_t)(71 - w));
}
static void f_conv(ctx_t *c, int argc, val_t **argv) { NULL_IF_ANY_NULL(); conv_impl(c, argv[0], i64(argv[1]), i64(argv[2])); }
static void f_bin(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  intptr_t base = (intptr_t)sqlite3_user_data(c);
  uint64_t v = (uint64_t)i64(argv[0]);
  char o[72];
  int w = 71;
  o[w] = 0;
  do {
    int d = (int)(v % (uint64_t)base);
    o[--w] = (char)(d < 10 ? '0' + d : 'A' + d - 10);
    v /= (uint64_t)base;
  } while (v);
  res_text(c, o + w, (size_t)(71 - w));
}
static void f_bit_count(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sqlite3_result_int(c, __builtin_popcountll((unsigned long long)i64(argv[0])));
}
static void f_inet_aton(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  size_t n;
  const char *s = txt(argv[0], &n);
  uint64_t result = 0, byte = 0;
  int dots = 0;
  char ch = 0;
  if (n == 0) goto bad;
  for (size_t i = 0; i < n; i++) {
    ch = s[i];
    if (ch >= '0' && ch <= '9') {
      if ((byte = byte * 10 + (uint64_t)(ch - '0')) > 255) goto bad;
    } else if (ch == '.') {
      dots++;
      result = (result << 8) + byte;
      byte = 0;
    } else goto bad;
  }
  if (ch == '.' || dots > 3) goto bad;
  if (dots == 1) result <<= 16;
  else if (dots == 2) result <<= 8;
  sqlite3_result_int64(c, (int64_t)((result << 8) + byte));
  return;
bad:
  sqlite3_result_null(c);
}
static void f_inet_ntoa(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t v = i64(argv[0]);
  if (v < 0 || v > 0xFFFFFFFFLL) { sqlite3_result_null(c); return; }
  char b[20];
  snprintf(b, sizeof b, "%d.%d.%d.%d", (int)(v >> 24), (int)(v >> 16 & 255), (int)(v >> 8 & 255), (int)(v & 255));
  res_text(c, b, strlen(b));
}

/* ---- numbers ------------------------------------------------------------- */

static void res_num_int_if_exact(ctx_t *c, double d) {
  if (d >= -9.2e18 && d <= 9.2e18 && d == floor(d)) sqlite3_result_int64(c, (int64_t)d);
  else sqlite3_result_double(c, d);
}
static void f_floor(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t i;
  double d;
  if (num(argv[0], &i, &d) == N_INT) { sqlite3_result_int64(c, i); return; }
  res_num_int_if_exact(c, sqlite3_user_data(c) ? ceil(d) : floor(d));
}
static double pow10i(int64_t e) { return pow(10.0, (double)e); }
static void round_impl(ctx_t *c, int argc, val_t **argv, int trunc_) {
  NULL_IF_ANY_NULL();
  int64_t i;
  double d;
  int k = num(argv[0], &i, &d);
  int64_t dec = argc > 1 ? i64(argv[1]) : 0;
  if (dec > 30) dec = 30;
  if (dec < -30) dec = -30;
  if (k == N_INT) {
    if (dec >= 0) { sqlite3_result_int64(c, i); return; }
    int64_t m = 1;
    for (int64_t q = 0; q < -dec && m <= INT64_MAX / 10; q++) m *= 10;
    if (-dec > 18) { sqlite3_result_int(c, 0); return; }
    int64_t r = i / m * m, rem = i % m;
    if (!trunc_) {
      if (rem >= (m + 1) / 2 && r <= INT64_MAX - m) r += m;
      else if (rem <= -(m + 1) / 2 && r >= INT64_MIN + m) r -= m;
    }
    sqlite3_result_int64(c, r);
    return;
  }
  double r;
  if (trunc_) {
    double f = pow10i(dec);
    r = dec >= 0 ? trunc(d * f) / f : trunc(d / pow10i(-dec)) * pow10i(-dec);
  } else {
    /* half away from zero, on the decimal text so that 1.005 -> 1.01 like
     * MySQL's DECIMAL literals */
    if (dec >= 0 && dec <= 15) {
      char b[64];
      snprintf(b, sizeof b, "%.15g", d);
      double x = strtod(b, NULL);
      double f = pow10i(dec);
      double y = x * f;
      double ry = round(y);
      /* correct representation error: 1.005*100 = 100.49999... */
      if (fabs(y - ry) != 0.5) {
        char b2[64];
        snprintf(b2, sizeof b2, "%.*f", (int)dec + 2, x);
        size_t L = strlen(b2);
        if (L >= 2 && b2[L - 2] == '5' && b2[L - 1] == '0') y = y > 0 ? floor(y) + 0.5 : ceil(y) - 0.5;
        ry = round(y);
      }
      r = ry / f;
    } else if (dec > 15) {
      r = d;
    } else {
      double f = pow10i(-dec);
      r = round(d / f) * f;
    }
  }
  if (dec <= 0) res_num_int_if_exact(c, r);
  else sqlite3_result_double(c, r);
}
static void f_round(ctx_t *c, int argc, val_t **argv) { round_impl(c, argc, argv, 0); }
static void f_truncate(ctx_t *c, int argc, val_t **argv) { round_impl(c, argc, argv, 1); }
static void f_sign(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  double d = dbl(argv[0]);
  sqlite3_result_int(c, d > 0 ? 1 : d < 0 ? -1 : 0);
}
static void f_abs(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t i;
  double d;
  if (num(argv[0], &i, &d) == N_INT) {
    if (i == INT64_MIN) sqlite3_result_double(c, 9223372036854775808.0);
    else sqlite3_result_int64(c, i < 0 ? -i : i);
  } else sqlite3_result_double(c, fabs(d));
}
static void res_real(ctx_t *c, double d) {
  if (isnan(d) || isinf(d)) sqlite3_result_null(c);
  else sqlite3_result_double(c, d);
}
typedef double (*dfn)(double);
static void f_math1(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  dfn f = (dfn)sqlite3_user_data(c);
  double d = dbl(argv[0]);
  if ((f == log || f == log10 || f == log2) && d <= 0) { sqlite3_result_null(c); return; }
  if (f == sqrt && d < 0) { sqlite3_result_null(c); return; }
  if ((f == asin || f == acos) && (d < -1 || d > 1)) { sqlite3_result_null(c); return; }
  res_real(c, f(d));
}
static double degrees_(double x) { return x * 180.0 / M_PI; }
static double radians_(double x) { return x * M_PI / 180.0; }
static double cot_(double x) { return 1.0 / tan(x); }
static void f_log(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  if (argc == 1) {
    double d = dbl(argv[0]);
    if (d <= 0) sqlite3_result_null(c);
    else res_real(c, log(d));
    return;
  }
  double b = dbl(argv[0]), x = dbl(argv[1]);
  if (b <= 0 || b == 1 || x <= 0) { sqlite3_result_null(c); return; }
  res_real(c, log(x) / log(b));
}
static void f_pow(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  double r = pow(dbl(argv[0]), dbl(argv[1]));
  if (isinf(r) || isnan(r)) { sqlite3_result_error(c, "DOUBLE value is out of range in 'pow'", -1); return; }
  sqlite3_result_double(c, r);
}
static void f_atan(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  if (argc == 2) res_real(c, atan2(dbl(argv[0]), dbl(argv[1])));
  else res_real(c, atan(dbl(argv[0])));
}
static void f_pi(ctx_t *c, int argc, val_t **argv) { sqlite3_result_double(c, M_PI); }

/* RAND([seed]): MySQL's my_rnd, so RAND(3) gives MySQL's sequence. */
typedef struct rnd { uint64_t s1, s2; } rnd;
static double rnd_next(rnd *r) {
  const uint64_t max = 0x3FFFFFFFULL;
  r->s1 = (r->s1 * 3 + r->s2) % max;
  r->s2 = (r->s1 + r->s2 + 33) % max;
  return (double)r->s1 / (double)max;
}
static void f_rand(ctx_t *c, int argc, val_t **argv) {
  if (argc == 0) {
    uint64_t v;
    sqlite3_randomness(sizeof v, &v);
    sqlite3_result_double(c, (double)(v >> 11) / 9007199254740992.0);
    return;
  }
  rnd *r = sqlite3_get_auxdata(c, 0);
  if (!r) {
    r = sqlite3_malloc(sizeof *r);
    if (!r) { sqlite3_result_error_nomem(c); return; }
    uint32_t seed = (uint32_t)i64(argv[0]);
    r->s1 = ((uint64_t)seed * 0x10001 + 55555555) % 0x3FFFFFFFULL;
    r->s2 = ((uint64_t)seed * 0x10000001) % 0x3FFFFFFFULL;
    double d = rnd_next(r);
    sqlite3_set_auxdata(c, 0, r, sqlite3_free);
    sqlite3_result_double(c, d);
    return;
  }
  sqlite3_result_double(c, rnd_next(r));
}

/* a / b inside an expression: REAL, NULL on zero. */
static void f_div(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  double b = dbl(argv[1]);
  if (b == 0) { sqlite3_result_null(c); return; }
  res_real(c, dbl(argv[0]) / b);
}
/* Decimal digits after the point in a value's shortest text (its scale). */
static int scale_of(val_t *v) {
  char b[64];
  const char *s;
  int ty = sqlite3_value_type(v);
  if (ty == SQLITE_INTEGER) return 0;
  if (ty == SQLITE_FLOAT) {
    snprintf(b, sizeof b, "%.15g", sqlite3_value_double(v));
    if (strchr(b, 'e')) return 4;
    s = b;
  } else {
    s = (const char *)sqlite3_value_text(v);
    if (!s) return 0;
  }
  const char *dot = strchr(s, '.');
  if (!dot) return 0;
  int n = 0;
  for (dot++; isdigit((unsigned char)*dot); dot++) n++;
  return n;
}
/* a / b as a whole select item: TEXT with MySQL's decimal scale. */
static void f_divf(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  double b = dbl(argv[1]);
  if (b == 0) { sqlite3_result_null(c); return; }
  double r = dbl(argv[0]) / b;
  if (isnan(r) || isinf(r)) { sqlite3_result_null(c); return; }
  int sc = scale_of(argv[0]) + 4;
  if (sc > 30) sc = 30;
  if (fabs(r) >= 1e20) { sqlite3_result_double(c, r); return; }
  char o[128];
  int n = snprintf(o, sizeof o, "%.*f", sc, r);
  if (!strncmp(o, "-0.", 3)) {
    int zero = 1;
    for (int k = 3; k < n; k++) if (o[k] != '0') zero = 0;
    if (zero) { memmove(o, o + 1, (size_t)n); n--; }
  }
  res_text(c, o, (size_t)n);
}
static void f_intdiv(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t ia, ib;
  double da, db;
  int ka = num(argv[0], &ia, &da), kb = num(argv[1], &ib, &db);
  if (ka == N_INT && kb == N_INT) {
    if (ib == 0) { sqlite3_result_null(c); return; }
    if (ia == INT64_MIN && ib == -1) { sqlite3_result_error(c, "BIGINT value is out of range in 'DIV'", -1); return; }
    sqlite3_result_int64(c, ia / ib);
    return;
  }
  if (db == 0) { sqlite3_result_null(c); return; }
  double q = trunc(da / db);
  if (q >= 9.2233720368547758e18 || q < -9.2233720368547758e18 || isnan(q)) {
    sqlite3_result_error(c, "BIGINT value is out of range in 'DIV'", -1);
    return;
  }
  sqlite3_result_int64(c, (int64_t)q);
}
static void f_mod(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  int64_t ia, ib;
  double da, db;
  int ka = num(argv[0], &ia, &da), kb = num(argv[1], &ib, &db);
  if (ka == N_INT && kb == N_INT) {
    if (ib == 0) { sqlite3_result_null(c); return; }
    sqlite3_result_int64(c, ib == -1 ? 0 : ia % ib);
    return;
  }
  if (db == 0) { sqlite3_result_null(c); return; }
  res_real(c, fmod(da, db));
}
static void f_bitxor(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sqlite3_result_int64(c, (int64_t)((uint64_t)i64(argv[0]) ^ (uint64_t)i64(argv[1])));
}
static void f_xor(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  sqlite3_result_int(c, (dbl(argv[0]) != 0) != (dbl(argv[1]) != 0));
}
/* FORMAT(x, d): '12,332.1235' */
static void f_format(ctx_t *c, int argc, val_t **argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(c);
    return;
  }
  int64_t dec = i64(argv[1]);
  if (dec < 0) dec = 0;
  if (dec > 30) dec = 30;
  char b[400];
  int64_t iv;
  double d;
  if (num(argv[0], &iv, &d) == N_INT) snprintf(b, sizeof b, "%lld%s%.*s", (long long)iv, dec ? "." : "", (int)dec, "000000000000000000000000000000");
  else {
    double f = pow10i(dec);
    double r = fabs(d * f) < 1e17 ? round(d * f) / f : d;
    snprintf(b, sizeof b, "%.*f", (int)dec, r);
  }
  mm_buf o;
  mm_buf_init(&o);
  const char *p = b;
  if (*p == '-') mm_buf_putc(&o, *p++);
  const char *dot = strchr(p, '.');
  size_t il = dot ? (size_t)(dot - p) : strlen(p);
  for (size_t i = 0; i < il; i++) {
    mm_buf_putc(&o, p[i]);
    if ((il - i - 1) % 3 == 0 && i + 1 < il) mm_buf_putc(&o, ',');
  }
  if (dot) mm_buf_puts(&o, dot);
  res_buf(c, &o);
}

/* CAST(x AS type) */
static void f_cast(ctx_t *c, int argc, val_t **argv) {
  val_t *v = argv[0];
  if (sqlite3_value_type(v) == SQLITE_NULL) { sqlite3_result_null(c); return; }
  const char *ty = (const char *)sqlite3_value_text(argv[1]);
  if (!ty) { sqlite3_result_null(c); return; }
  int64_t a1 = -1, a2 = -1;
  const char *par = strchr(ty, '(');
  if (par) {
    a1 = strtoll(par + 1, NULL, 10);
    const char *cm = strchr(par, ',');
    if (cm) a2 = strtoll(cm + 1, NULL, 10);
  }
  size_t tl = par ? (size_t)(par - ty) : strlen(ty);
#define TY(s) (tl == strlen(s) && !strncasecmp(ty, s, tl))
  if (TY("SIGNED") || TY("UNSIGNED")) {
    int64_t i;
    double d;
    int k = num(v, &i, &d);
    if (sqlite3_value_type(v) == SQLITE_TEXT || sqlite3_value_type(v) == SQLITE_BLOB) {
      /* a string is read as an integer: '1.9' -> 1 (MySQL warns) */
      sarg s = sget(v);
      char b[64];
      size_t n = s.n < sizeof b - 1 ? s.n : sizeof b - 1;
      memcpy(b, s.p, n);
      b[n] = 0;
      const char *p = b;
      while (isspace((unsigned char)*p)) p++;
      if (TY("UNSIGNED") && *p != '-') {
        unsigned long long u = strtoull(p, NULL, 10);
        if (u > INT64_MAX) {
          char o[24];
          snprintf(o, sizeof o, "%llu", u);
          res_text(c, o, strlen(o));
          return;
        }
        sqlite3_result_int64(c, (int64_t)u);
        return;
      }
      i = strtoll(p, NULL, 10);
      k = N_INT;
    }
    if (k == N_REAL) i = i64(v);
    if (TY("UNSIGNED") && i < 0) {
      char o[24];
      snprintf(o, sizeof o, "%llu", (unsigned long long)i);
      res_text(c, o, strlen(o));
      return;
    }
    sqlite3_result_int64(c, i);
    return;
  }
  if (TY("CHAR") || TY("JSON")) {
    sarg s = sget(v);
    size_t n = s.n;
    if (a1 >= 0) n = u8_off(s.p, s.n, a1);
    res_text(c, s.p, n);
    return;
  }
  if (TY("BINARY")) {
    sarg s = sget(v);
    if (a1 < 0) { sqlite3_result_blob64(c, s.p, s.n, SQLITE_TRANSIENT); return; }
    if ((uint64_t)a1 > MAX_RESULT_LEN) { sqlite3_result_null(c); return; }
    unsigned char *o = mm_calloc((size_t)a1 + 1, 1);
    if (!o) { sqlite3_result_error_nomem(c); return; }
    memcpy(o, s.p, s.n < (size_t)a1 ? s.n : (size_t)a1);
    sqlite3_result_blob64(c, o, (size_t)a1, SQLITE_TRANSIENT);
    mm_free(o);
    return;
  }
  if (TY("DATE") || TY("DATETIME") || TY("TIME")) {
    dtm t;
    int k = parse_dt(v, &t);
    if (!k) { sqlite3_result_null(c); return; }
    int fsp = a1 > 0 ? (int)(a1 > 6 ? 6 : a1) : 0;
    if (TY("TIME")) {
      if (k == DT_DATE) { sqlite3_result_text(c, "00:00:00", -1, SQLITE_STATIC); return; }
      t.kind = DT_TIME;
    } else {
      if (k == DT_TIME) { /* TIME -> today's date + time */
        dtm n;
        dt_from_us(now_local_us(c, 0) + dt_us(&t), &n);
        t = n;
      }
      t.kind = TY("DATE") ? DT_DATE : DT_DATETIME;
    }
    /* round to fsp like MySQL */
    int m = 1;
    for (int q = fsp; q < 6; q++) m *= 10;
    if (t.us % m) {
      int64_t us = dt_us(&t);
      int64_t r = us % m;
      us += (r >= m / 2 ? m - r : -r) * (t.neg ? -1 : 1);
      int kind = t.kind, neg = t.neg;
      if (kind == DT_TIME) {
        res_time_us(c, neg ? -(us < 0 ? -us : us) : us, fsp);
        return;
      }
      dt_from_us(us, &t);
      t.kind = kind;
    }
    res_dt(c, &t, fsp);
    return;
  }
  if (TY("DECIMAL")) {
    int64_t m = a1 >= 0 ? a1 : 10, d = a2 >= 0 ? a2 : 0;
    if (m > 65) m = 65;
    if (d > 30) d = 30;
    if (d > m) d = m;
    double x = dbl(v);
    double lim = pow10i(m - d);
    double f = pow10i(d);
    double r = round(x * f) / f;
    if (fabs(r) >= lim) r = (r < 0 ? -1 : 1) * (lim - 1 / f);
    /* REAL (integer when scale is 0) so that comparisons stay numeric */
    if (d == 0) res_num_int_if_exact(c, r);
    else sqlite3_result_double(c, r);
    return;
  }
  if (TY("DOUBLE") || TY("FLOAT")) {
    double x = dbl(v);
    sqlite3_result_double(c, TY("FLOAT") && a1 >= 0 && a1 <= 24 ? (double)(float)x : x);
    return;
  }
  if (TY("YEAR")) {
    int64_t y = i64(v);
    if (y > 0 && y < 70) y += 2000;
    else if (y >= 70 && y < 100) y += 1900;
    if (y != 0 && (y < 1901 || y > 2155)) { sqlite3_result_null(c); return; }
    sqlite3_result_int64(c, y);
    return;
  }
#undef TY
  sqlite3_result_value(c, v);
}

/* ---- REGEXP -------------------------------------------------------------- */

static void re_free(void *p) {
  regfree((regex_t *)p);
  sqlite3_free(p);
}
/* regexp(pattern, subject): SQLite calls it for "subject REGEXP pattern". */
static void f_regexp(ctx_t *c, int argc, val_t **argv) {
  NULL_IF_ANY_NULL();
  regex_t *re = sqlite3_get_auxdata(c, 0);
  if (!re) {
    size_t pn;
    const char *pat = txt(argv[0], &pn);
    if (strlen(pat) != pn) { sqlite3_result_error(c, "Got error 'invalid pattern' from regexp", -1); return; }
    re = sqlite3_malloc(sizeof *re);
    if (!re) { sqlite3_result_error_nomem(c); return; }
    int rc = regcomp(re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc) {
      char m[160], e[200];
      regerror(rc, re, m, sizeof m);
      sqlite3_free(re);
      snprintf(e, sizeof e, "Got error '%s' from regexp", m);
      sqlite3_result_error(c, e, -1);
      return;
    }
    sqlite3_set_auxdata(c, 0, re, re_free);
    re = sqlite3_get_auxdata(c, 0);
    if (!re) { sqlite3_result_error_nomem(c); return; }
  }
  size_t sn;
  const char *s = txt(argv[1], &sn);
  /* regexec needs a NUL-terminated subject; text values are */
  sqlite3_result_int(c, regexec(re, s, 0, NULL, 0) == 0);
}

/* ---- session information ------------------------------------------------- */

static void f_last_insert_id(ctx_t *c, int argc, val_t **argv) {
  fn_state *st = ST(c);
  if (argc == 1) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(c); return; }
    st->last_insert_id = (uint64_t)i64(argv[0]);
    sqlite3_result_int64(c, i64(argv[0]));
    return;
  }
  sqlite3_result_int64(c, (int64_t)st->last_insert_id);
}
static void f_row_count(ctx_t *c, int argc, val_t **argv) { sqlite3_result_int64(c, ST(c)->row_count); }
static void f_found_rows(ctx_t *c, int argc, val_t **argv) { sqlite3_result_int64(c, (int64_t)ST(c)->found_rows); }
static void f_database(ctx_t *c, int argc, val_t **argv) {
  const char *d = ST(c)->db;
  if (d) sqlite3_result_text(c, d, -1, SQLITE_TRANSIENT);
  else sqlite3_result_null(c);
}
static void f_user(ctx_t *c, int argc, val_t **argv) {
  const char *u = ST(c)->user;
  sqlite3_result_text(c, u ? u : "root@localhost", -1, SQLITE_TRANSIENT);
}
static void f_version(ctx_t *c, int argc, val_t **argv) {
  const char *v = ST(c)->version;
  sqlite3_result_text(c, v ? v : "5.7.99-mmsql", -1, SQLITE_TRANSIENT);
}
static void f_connection_id(ctx_t *c, int argc, val_t **argv) { sqlite3_result_int64(c, ST(c)->conn_id); }
static void f_sleep(ctx_t *c, int argc, val_t **argv) {
  double d = dbl(argv[0]);
  if (d > 3600) d = 3600;
  if (d > 0) {
    struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
    nanosleep(&ts, NULL);
  }
  sqlite3_result_int(c, 0);
}
static void f_noop_first(ctx_t *c, int argc, val_t **argv) { sqlite3_result_value(c, argv[0]); }

/* ---- GROUP_CONCAT ---------------------------------------------------------
 * mm_group_concat(sep, distinct, nexpr, e1..en, k1, desc1, k2, desc2, ...) */
typedef struct gc_row {
  char *val;
  size_t len;
  sqlite3_value **keys;
  size_t seq;
} gc_row;
typedef struct gc_agg {
  int init;
  int distinct, nexpr, nkeys;
  int *desc;
  char *sep;
  size_t seplen;
  gc_row *rows;
  size_t n, cap;
  int oom;
} gc_agg;

static void gc_step(ctx_t *c, int argc, val_t **argv) {
  gc_agg *g = sqlite3_aggregate_context(c, sizeof *g);
  if (!g) { sqlite3_result_error_nomem(c); return; }
  if (g->oom) return;
  if (!g->init) {
    g->init = 1;
    if (argc < 4) { g->oom = 2; return; }
    size_t sn = 0;
    const char *s = sqlite3_value_type(argv[0]) == SQLITE_NULL ? "" : txt(argv[0], &sn);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) sn = 0;
    g->sep = mm_strndup(s, sn);
    g->seplen = sn;
    g->distinct = (int)i64(argv[1]);
    int64_t ne = i64(argv[2]);
    if (ne < 1 || ne > argc - 3) { g->oom = 2; return; }
    g->nexpr = (int)ne;
    g->nkeys = (argc - 3 - g->nexpr) / 2;
    if (g->nkeys) {
      g->desc = mm_calloc((size_t)g->nkeys, sizeof *g->desc);
      if (!g->desc) { g->oom = 1; return; }
      for (int k = 0; k < g->nkeys; k++) g->desc[k] = (int)i64(argv[3 + g->nexpr + 2 * k + 1]);
    }
    if (!g->sep) { g->oom = 1; return; }
  }
  for (int i = 0; i < g->nexpr; i++)
    if (sqlite3_value_type(argv[3 + i]) == SQLITE_NULL) return; /* rows with a NULL are skipped */
  mm_buf b;
  mm_buf_init(&b);
  for (int i = 0; i < g->nexpr; i++) {
    sarg s = sget(argv[3 + i]);
    mm_buf_append(&b, s.p, s.n);
  }
  if (b.oom) { g->oom = 1; return; }
  if (g->n == g->cap) {
    size_t nc = g->cap ? g->cap * 2 : 16;
    gc_row *nr = mm_realloc(g->rows, nc * sizeof *nr);
    if (!nr) { mm_buf_free(&b); g->oom = 1; return; }
    g->rows = nr;
    g->cap = nc;
  }
  gc_row *r = &g->rows[g->n];
  r->len = b.len;
  r->val = mm_buf_steal(&b, NULL);
  if (!r->val) { r->val = mm_strdup(""); if (!r->val) { g->oom = 1; return; } }
  r->seq = g->n;
  r->keys = NULL;
  if (g->nkeys) {
    r->keys = mm_calloc((size_t)g->nkeys, sizeof *r->keys);
    if (!r->keys) { mm_free(r->val); g->oom = 1; return; }
    for (int k = 0; k < g->nkeys; k++) {
      r->keys[k] = sqlite3_value_dup(argv[3 + g->nexpr + 2 * k]);
      if (!r->keys[k]) {
        for (int j = 0; j < k; j++) sqlite3_value_free(r->keys[j]);
        mm_free(r->keys);
        mm_free(r->val);
        g->oom = 1;
        return;
      }
    }
  }
  g->n++;
}
static int key_cmp(val_t *a, val_t *b) {
  int ta = sqlite3_value_type(a), tb = sqlite3_value_type(b);
  if (ta == SQLITE_NULL || tb == SQLITE_NULL) return (ta != SQLITE_NULL) - (tb != SQLITE_NULL);
  int na = ta == SQLITE_INTEGER || ta == SQLITE_FLOAT, nb = tb == SQLITE_INTEGER || tb == SQLITE_FLOAT;
  if (na && nb) return cmp_vals(a, b, 1);
  if (na != nb) return na ? -1 : 1;
  return cmp_vals(a, b, 0);
}
static int gc_cmp(const void *x, const void *y, void *arg) {
  const gc_row *a = x, *b = y;
  const gc_agg *g = arg;
  for (int k = 0; k < g->nkeys; k++) {
    int r = key_cmp(a->keys[k], b->keys[k]);
    if (r) return g->desc[k] ? -r : r;
  }
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}
static int gc_val_cmp(const void *x, const void *y) {
  const gc_row *a = x, *b = y;
  int r = codec_ci_cmp(a->val, a->len, b->val, b->len);
  if (r) return r;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}
static void gc_free(gc_agg *g) {
  for (size_t i = 0; i < g->n; i++) {
    for (int k = 0; k < g->nkeys && g->rows[i].keys; k++) sqlite3_value_free(g->rows[i].keys[k]);
    mm_free(g->rows[i].keys);
    mm_free(g->rows[i].val);
  }
  mm_free(g->rows);
  mm_free(g->desc);
  mm_free(g->sep);
}
static void gc_final(ctx_t *c) {
  gc_agg *g = sqlite3_aggregate_context(c, 0);
  if (!g) { sqlite3_result_null(c); return; }
  if (g->oom) {
    if (g->oom == 2) sqlite3_result_error(c, "bad mm_group_concat arguments", -1);
    else sqlite3_result_error_nomem(c);
    gc_free(g);
    return;
  }
  if (!g->n) { sqlite3_result_null(c); gc_free(g); return; }
  if (g->distinct) {
    /* keep the first row of each value (case-insensitively equal values are duplicates) */
    qsort(g->rows, g->n, sizeof *g->rows, gc_val_cmp);
    size_t w = 0;
    for (size_t i = 0; i < g->n; i++) {
      if (w && codec_ci_cmp(g->rows[w - 1].val, g->rows[w - 1].len, g->rows[i].val, g->rows[i].len) == 0 &&
          g->rows[w - 1].len == g->rows[i].len) {
        for (int k = 0; k < g->nkeys && g->rows[i].keys; k++) sqlite3_value_free(g->rows[i].keys[k]);
        mm_free(g->rows[i].keys);
        mm_free(g->rows[i].val);
        continue;
      }
      g->rows[w++] = g->rows[i];
    }
    g->n = w;
  }
  qsort_r(g->rows, g->n, sizeof *g->rows, gc_cmp, g);
  mm_buf b;
  mm_buf_init(&b);
  for (size_t i = 0; i < g->n && b.len < GROUP_CONCAT_MAX_LEN; i++) {
    if (i) mm_buf_append(&b, g->sep, g->seplen);
    mm_buf_append(&b, g->rows[i].val, g->rows[i].len);
  }
  if (!b.oom && b.len > GROUP_CONCAT_MAX_LEN) {
    size_t n = GROUP_CONCAT_MAX_LEN;
    while (n > 0 && ((unsigned char)b.p[n] & 0xC0) == 0x80) n--; /* whole characters only */
    b.len = n;
  }
  gc_free(g);
  res_buf(c, &b);
}


/* ---- STD / VARIANCE family and BIT_AND / BIT_OR / BIT_XOR ---------------- */
typedef struct var_agg { int64_t n; double mean, m2; } var_agg;
static void var_step(ctx_t *c, int argc, val_t **argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  var_agg *a = sqlite3_aggregate_context(c, sizeof *a);
  if (!a) { sqlite3_result_error_nomem(c); return; }
  double x = dbl(argv[0]); /* Welford */
  a->n++;
  double d = x - a->mean;
  a->mean += d / (double)a->n;
  a->m2 += d * (x - a->mean);
}
/* user data: 0 = population variance, 1 = sample variance, 2 = population
 * std, 3 = sample std */
static void var_final(ctx_t *c) {
  var_agg *a = sqlite3_aggregate_context(c, 0);
  intptr_t k = (intptr_t)sqlite3_user_data(c);
  int samp = k & 1;
  if (!a || a->n - samp <= 0) { sqlite3_result_null(c); return; }
  double v = a->m2 / (double)(a->n - samp);
  res_real(c, k >= 2 ? sqrt(v) : v);
}
typedef struct bit_agg { int init; uint64_t v; } bit_agg;
static void bit_step(ctx_t *c, int argc, val_t **argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  bit_agg *a = sqlite3_aggregate_context(c, sizeof *a);
  if (!a) { sqlite3_result_error_nomem(c); return; }
  intptr_t k = (intptr_t)sqlite3_user_data(c);
  uint64_t x = (uint64_t)i64(argv[0]);
  if (!a->init) { a->init = 1; a->v = k == 0 ? UINT64_MAX : 0; }
  a->v = k == 0 ? a->v & x : k == 1 ? a->v | x : a->v ^ x;
}
/* BIT_AND of no rows is 18446744073709551615 as in MySQL: values above
 * INT64_MAX are returned as decimal text. */
static void bit_final(ctx_t *c) {
  bit_agg *a = sqlite3_aggregate_context(c, 0);
  intptr_t k = (intptr_t)sqlite3_user_data(c);
  uint64_t v = a && a->init ? a->v : k == 0 ? UINT64_MAX : 0;
  if (v <= INT64_MAX) { sqlite3_result_int64(c, (int64_t)v); return; }
  char b[24];
  snprintf(b, sizeof b, "%llu", (unsigned long long)v);
  res_text(c, b, strlen(b));
}

/* ---- the mm_ci collation ------------------------------------------------- */
static int coll_ci(void *arg, int na, const void *a, int nb, const void *b) {
  return codec_ci_cmp(a, (size_t)na, b, (size_t)nb);
}

/* ---- registration -------------------------------------------------------- */

#define DET (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)
#define NDET (SQLITE_UTF8)
typedef void (*xfn)(ctx_t *, int, val_t **);
typedef struct fdef {
  const char *name;
  signed char nargs;
  int flags;
  xfn fn;
  void *arg; /* user data other than fn_state (NULL = fn_state) */
} fdef;

#define U(x) ((void *)(intptr_t)(x))
static const fdef fdefs[] = {
    /* date and time */
    {"now", 0, NDET, f_now, 0}, {"now", 1, NDET, f_now, 0},
    {"current_timestamp", 0, NDET, f_now, 0}, {"current_timestamp", 1, NDET, f_now, 0},
    {"localtime", 0, NDET, f_now, 0}, {"localtime", 1, NDET, f_now, 0},
    {"localtimestamp", 0, NDET, f_now, 0}, {"localtimestamp", 1, NDET, f_now, 0},
    {"sysdate", 0, NDET, f_sysdate, 0}, {"sysdate", 1, NDET, f_sysdate, 0},
    {"curdate", 0, NDET, f_curdate, 0}, {"current_date", 0, NDET, f_curdate, 0},
    {"curtime", 0, NDET, f_curtime, 0}, {"curtime", 1, NDET, f_curtime, 0},
    {"current_time", 0, NDET, f_curtime, 0}, {"current_time", 1, NDET, f_curtime, 0},
    {"utc_timestamp", 0, NDET, f_utc_timestamp, 0}, {"utc_timestamp", 1, NDET, f_utc_timestamp, 0},
    {"utc_date", 0, NDET, f_utc_date, 0}, {"utc_time", 0, NDET, f_utc_time, 0}, {"utc_time", 1, NDET, f_utc_time, 0},
    {"unix_timestamp", 0, NDET, f_unix_timestamp, 0}, {"unix_timestamp", 1, NDET, f_unix_timestamp, 0},
    {"from_unixtime", 1, NDET, f_from_unixtime, 0}, {"from_unixtime", 2, NDET, f_from_unixtime, 0},
    {"date_format", 2, NDET, f_date_format, 0}, {"time_format", 2, DET, f_time_format, 0},
    {"str_to_date", 2, DET, f_str_to_date, 0},
    {"date", 1, DET, f_date, 0}, {"time", 1, DET, f_time, 0},
    {"timestamp", 1, DET, f_timestamp, 0}, {"timestamp", 2, DET, f_timestamp, 0},
    {"year", 1, DET, f_year, 0}, {"month", 1, DET, f_month, 0}, {"day", 1, DET, f_day, 0},
    {"dayofmonth", 1, DET, f_day, 0}, {"hour", 1, DET, f_hour, 0}, {"minute", 1, DET, f_minute, 0},
    {"second", 1, DET, f_second, 0}, {"microsecond", 1, DET, f_microsecond, 0},
    {"quarter", 1, DET, f_quarter, 0}, {"week", 1, DET, f_week, 0}, {"week", 2, DET, f_week, 0},
    {"weekofyear", 1, DET, f_weekofyear, 0}, {"yearweek", 1, DET, f_yearweek, 0}, {"yearweek", 2, DET, f_yearweek, 0},
    {"dayofweek", 1, DET, f_dayofweek, 0}, {"weekday", 1, DET, f_weekday, 0}, {"dayofyear", 1, DET, f_dayofyear, 0},
    {"dayname", 1, DET, f_dayname, 0}, {"monthname", 1, DET, f_monthname, 0}, {"last_day", 1, DET, f_last_day, 0},
    {"to_days", 1, DET, f_to_days, 0}, {"from_days", 1, DET, f_from_days, 0}, {"makedate", 2, DET, f_makedate, 0},
    {"datediff", 2, DET, f_datediff, 0}, {"timediff", 2, DET, f_timediff, 0},
    {"time_to_sec", 1, DET, f_time_to_sec, 0}, {"sec_to_time", 1, DET, f_sec_to_time, 0},
    {"addtime", 2, DET, f_addtime, U(1)}, {"subtime", 2, DET, f_addtime, NULL},
    {"mm_date_add", 3, NDET, f_date_add, 0}, {"mm_date_sub", 3, NDET, f_date_sub, 0},
    {"mm_extract", 2, NDET, f_extract, 0}, {"timestampdiff", 3, NDET, f_timestampdiff, 0},
    /* strings */
    {"concat", -1, DET, f_concat, 0}, {"concat_ws", -1, DET, f_concat_ws, 0},
    {"length", 1, DET, f_length, 0}, {"octet_length", 1, DET, f_length, 0},
    {"char_length", 1, DET, f_char_length, 0}, {"character_length", 1, DET, f_char_length, 0},
    {"substring", 2, DET, f_substring, 0}, {"substring", 3, DET, f_substring, 0},
    {"substr", 2, DET, f_substring, 0}, {"substr", 3, DET, f_substring, 0},
    {"mid", 3, DET, f_substring, 0},
    {"substring_index", 3, DET, f_substring_index, 0},
    {"locate", 2, DET, f_locate, 0}, {"locate", 3, DET, f_locate, 0}, {"instr", 2, DET, f_instr, 0},
    {"position", 2, DET, f_locate, 0},
    {"lower", 1, DET, f_lower, NULL}, {"lcase", 1, DET, f_lower, NULL},
    {"upper", 1, DET, f_lower, U(1)}, {"ucase", 1, DET, f_lower, U(1)},
    {"mm_trim", 3, DET, f_trim3, 0}, {"trim", 1, DET, f_trim1, U(3)}, {"ltrim", 1, DET, f_trim1, U(1)},
    {"rtrim", 1, DET, f_trim1, U(2)},
    {"lpad", 3, DET, f_lpad, 0}, {"rpad", 3, DET, f_rpad, 0},
    {"left", 2, DET, f_left, 0}, {"mm_left", 2, DET, f_left, 0},
    {"right", 2, DET, f_right, 0}, {"mm_right", 2, DET, f_right, 0},
    {"mm_insert", 4, DET, f_insert, 0},
    {"repeat", 2, DET, f_repeat, 0}, {"reverse", 1, DET, f_reverse, 0}, {"space", 1, DET, f_space, 0},
    {"strcmp", 2, DET, f_strcmp, 0}, {"ascii", 1, DET, f_ascii, 0}, {"ord", 1, DET, f_ord, 0},
    {"char", -1, DET, f_char, 0}, {"field", -1, DET, f_field, 0}, {"elt", -1, DET, f_elt, 0},
    {"find_in_set", 2, DET, f_find_in_set, 0},
    {"hex", 1, DET, f_hex, 0}, {"unhex", 1, DET, f_unhex, 0},
    {"md5", 1, DET, f_md5, 0}, {"sha1", 1, DET, f_sha1, 0}, {"sha", 1, DET, f_sha1, 0}, {"sha2", 2, DET, f_sha2, 0},
    {"to_base64", 1, DET, f_to_base64, 0},
    {"uuid", 0, NDET, f_uuid, 0}, {"uuid_short", 0, NDET, f_uuid_short, 0},
    {"conv", 3, DET, f_conv, 0}, {"bin", 1, DET, f_bin, U(2)}, {"oct", 1, DET, f_bin, U(8)},
    {"bit_count", 1, DET, f_bit_count, 0},
    {"inet_aton", 1, DET, f_inet_aton, 0}, {"inet_ntoa", 1, DET, f_inet_ntoa, 0},
    {"mm_format", 2, DET, f_format, 0}, {"mm_format", 3, DET, f_format, 0},
    /* comparison and control */
    {"greatest", -1, DET, f_greatest, NULL}, {"least", -1, DET, f_greatest, U(1)},
    {"isnull", 1, DET, f_isnull, 0}, {"mm_isnull", 1, DET, f_isnull, 0}, {"if", 3, DET, f_if, 0},
    /* numbers */
    {"floor", 1, DET, f_floor, NULL}, {"ceil", 1, DET, f_floor, U(1)}, {"ceiling", 1, DET, f_floor, U(1)},
    {"round", 1, DET, f_round, 0}, {"round", 2, DET, f_round, 0},
    {"mm_round", 1, DET, f_round, 0}, {"mm_round", 2, DET, f_round, 0},
    {"truncate", 2, DET, f_truncate, 0}, {"mm_truncate", 2, DET, f_truncate, 0},
    {"abs", 1, DET, f_abs, 0}, {"sign", 1, DET, f_sign, 0},
    {"pow", 2, DET, f_pow, 0}, {"power", 2, DET, f_pow, 0},
    {"sqrt", 1, DET, f_math1, (void *)sqrt}, {"exp", 1, DET, f_math1, (void *)exp},
    {"ln", 1, DET, f_math1, (void *)log}, {"log10", 1, DET, f_math1, (void *)log10},
    {"log2", 1, DET, f_math1, (void *)log2},
    {"log", 1, DET, f_log, 0}, {"log", 2, DET, f_log, 0}, {"mm_log", 1, DET, f_log, 0}, {"mm_log", 2, DET, f_log, 0},
    {"sin", 1, DET, f_math1, (void *)sin}, {"cos", 1, DET, f_math1, (void *)cos},
    {"tan", 1, DET, f_math1, (void *)tan}, {"asin", 1, DET, f_math1, (void *)asin},
    {"acos", 1, DET, f_math1, (void *)acos}, {"atan", 1, DET, f_atan, 0}, {"atan", 2, DET, f_atan, 0},
    {"atan2", 2, DET, f_atan, 0}, {"cot", 1, DET, f_math1, (void *)cot_},
    {"degrees", 1, DET, f_math1, (void *)degrees_}, {"radians", 1, DET, f_math1, (void *)radians_},
    {"pi", 0, DET, f_pi, 0},
    {"rand", 0, NDET, f_rand, 0}, {"rand", 1, NDET, f_rand, 0},
    {"mod", 2, DET, f_mod, 0}, {"mm_mod", 2, DET, f_mod, 0},
    {"mm_div", 2, DET, f_div, 0}, {"mm_divf", 2, DET, f_divf, 0}, {"mm_intdiv", 2, DET, f_intdiv, 0},
    {"mm_bitxor", 2, DET, f_bitxor, 0}, {"mm_xor", 2, DET, f_xor, 0},
    {"mm_cast", 2, NDET, f_cast, 0},
    {"regexp", 2, DET, f_regexp, 0},
    /* session */
    {"last_insert_id", 0, NDET, f_last_insert_id, 0}, {"last_insert_id", 1, NDET, f_last_insert_id, 0},
    {"row_count", 0, NDET, f_row_count, 0}, {"found_rows", 0, NDET, f_found_rows, 0},
    {"database", 0, NDET, f_database, 0}, {"schema", 0, NDET, f_database, 0},
    {"user", 0, NDET, f_user, 0}, {"current_user", 0, NDET, f_user, 0}, {"session_user", 0, NDET, f_user, 0},
    {"system_user", 0, NDET, f_user, 0}, {"version", 0, NDET, f_version, 0},
    {"connection_id", 0, NDET, f_connection_id, 0},
    {"sleep", 1, NDET, f_sleep, 0}, {"benchmark", 2, NDET, f_noop_first, 0},
};

int fn_register(sqlite3 *db, fn_state *st) {
  int rc;
  for (size_t i = 0; i < MM_ARRAY_SIZE(fdefs); i++) {
    const fdef *f = &fdefs[i];
    void *ud = f->arg ? f->arg : (f->fn == f_lower || f->fn == f_greatest || f->fn == f_floor || f->fn == f_addtime ||
                                  f->fn == f_trim1 || f->fn == f_bin || f->fn == f_math1) ? NULL : st;
    rc = sqlite3_create_function_v2(db, f->name, f->nargs, f->flags, ud, f->fn, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return rc;
  }
  rc = sqlite3_create_function_v2(db, "mm_group_concat", -1, SQLITE_UTF8, st, NULL, gc_step, gc_final, NULL);
  if (rc != SQLITE_OK) return rc;
  static const struct { const char *name; intptr_t k; int bit; } aggs[] = {
      {"var_pop", 0, 0}, {"variance", 0, 0}, {"var_samp", 1, 0}, {"std", 2, 0}, {"stddev", 2, 0},
      {"stddev_pop", 2, 0}, {"stddev_samp", 3, 0}, {"bit_and", 0, 1}, {"bit_or", 1, 1}, {"bit_xor", 2, 1}};
  for (size_t i = 0; i < MM_ARRAY_SIZE(aggs); i++) {
    rc = sqlite3_create_function_v2(db, aggs[i].name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, (void *)aggs[i].k, NULL,
                                    aggs[i].bit ? bit_step : var_step, aggs[i].bit ? bit_final : var_final, NULL);
    if (rc != SQLITE_OK) return rc;
  }
  rc = sqlite3_create_collation_v2(db, "mm_ci", SQLITE_UTF8, NULL, coll_ci, NULL);
  return rc;
}
