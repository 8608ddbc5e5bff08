/*
 * table/table.c - MySQL value conversion for stored columns (see codec.h,
 * "value conversion").
 *
 * One function per type family; each takes a value of any SQL type and
 * either produces the stored form or reports the MySQL error/warning the
 * server would give.  Nothing here touches SQLite or the store.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "table/codec.h"
#include "table/table.h"

/* ---- reporting ------------------------------------------------------------ */
static int problem(tbl_conv *cv, int code, const char *state, const tbl_column *c, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Error in strict mode (returns MM_ESQL), warning otherwise (returns MM_OK). */
static int problem(tbl_conv *cv, int code, const char *state, const tbl_column *c, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (cv->strict) return mm_error_set(cv->err, code, state, "%s", msg);
  if (cv->warn) cv->warn(cv->warn_ctx, code, msg);
  return MM_OK;
}

static int out_of_range(tbl_conv *cv, const tbl_column *c) {
  return problem(cv, 1264, "22003", c, "Out of range value for column '%s' at row %llu", c->name,
                 (unsigned long long)cv->row);
}
static int truncated(tbl_conv *cv, const tbl_column *c) {
  return problem(cv, 1265, "01000", c, "Data truncated for column '%s' at row %llu", c->name,
                 (unsigned long long)cv->row);
}
static int incorrect(tbl_conv *cv, const tbl_column *c, const char *what, const tbl_val *in) {
  char v[128];
  mm_buf b;
  mm_buf_init(&b);
  tbl_value_text(in, &b);
  snprintf(v, sizeof v, "%.*s", (int)MM_MIN(b.len, 100), b.p ? b.p : "");
  mm_buf_free(&b);
  int code = strstr(what, "date") || strstr(what, "time") ? 1292 : 1366;
  return problem(cv, code, code == 1292 ? "22007" : "HY000", c, "Incorrect %s value: '%s' for column '%s' at row %llu",
                 what, v, c->name, (unsigned long long)cv->row);
}

void tbl_value_text(const tbl_val *v, mm_buf *out) {
  switch (v->t) {
  case CODEC_T_NULL: mm_buf_puts(out, "NULL"); break;
  case CODEC_T_INT: mm_buf_printf(out, "%lld", (long long)v->i); break;
  case CODEC_T_UINT: mm_buf_printf(out, "%llu", (unsigned long long)v->u); break;
  case CODEC_T_DOUBLE: mm_buf_printf(out, "%.15g", v->d); break;
  default: mm_buf_append(out, v->p ? v->p : "", v->n); break;
  }
}

/* Copy a value's text form into a NUL-terminated local buffer. */
static void as_cstr(const tbl_val *v, char *buf, size_t cap) {
  mm_buf b;
  mm_buf_init(&b);
  tbl_value_text(v, &b);
  size_t n = MM_MIN(b.len, cap - 1);
  memcpy(buf, b.p ? b.p : "", n);
  buf[n] = 0;
  mm_buf_free(&b);
}

/* ---- numbers from text -------------------------------------------------------- */
/* Parse a number prefix of s.  Returns 0 if there is no number, 1 if the
 * whole string (but spaces) is a number, 2 if trailing garbage follows. */
static int parse_num(const char *s, double *d, int *is_int, long long *ll, unsigned long long *ull, int *neg) {
  while (isspace((unsigned char)*s)) s++;
  char *end;
  *d = strtod(s, &end);
  if (end == s) return 0;
  const char *p = s;
  *neg = *p == '-';
  if (*p == '-' || *p == '+') p++;
  *is_int = 1;
  for (const char *q = p; q < end; q++)
    if (!isdigit((unsigned char)*q)) { *is_int = 0; break; }
  if (*is_int) {
    errno = 0;
    if (*neg) *ll = strtoll(s, NULL, 10);
    else *ull = strtoull(p, NULL, 10);
    if (errno == ERANGE) *is_int = 0;
  }
  while (isspace((unsigned char)*end)) end++;
  return *end ? 2 : 1;
}

/* ---- integers --------------------------------------------------------------------- */
static void int_range(const tbl_column *c, long long *lo, unsigned long long *hi) {
  int bits = c->type == TBL_TINYINT ? 8 : c->type == TBL_SMALLINT ? 16 : c->type == TBL_MEDIUMINT ? 24
           : c->type == TBL_INT ? 32 : 64;
  if (c->type == TBL_BIT) {
    int n = c->length ? (int)c->length : 1;
    *lo = 0;
    *hi = n >= 64 ? UINT64_MAX : (1ull << n) - 1;
    return;
  }
  if (c->is_unsigned) {
    *lo = 0;
    *hi = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
  } else {
    *lo = bits == 64 ? INT64_MIN : -(1ll << (bits - 1));
    *hi = bits == 64 ? (unsigned long long)INT64_MAX : (1ull << (bits - 1)) - 1;
  }
}

static void set_uint(tbl_val *out, unsigned long long u) {
  if (u <= (unsigned long long)INT64_MAX) { out->t = CODEC_T_INT; out->i = (int64_t)u; }
  else { out->t = CODEC_T_UINT; out->u = u; }
}

static int conv_int(const tbl_column *c, const tbl_val *in, tbl_val *out, tbl_conv *cv) {
  long long lo;
  unsigned long long hi;
  int_range(c, &lo, &hi);
  int neg = 0, isint = 1;
  long long sv = 0;
  unsigned long long uv = 0;
  double d = 0;
  switch (in->t) {
  case CODEC_T_INT: neg = in->i < 0; sv = in->i; uv = neg ? 0 : (unsigned long long)in->i; break;
  case CODEC_T_UINT: uv = in->u; break;
  case CODEC_T_DOUBLE: d = in->d; isint = 0; break;
  default: {
    if (c->type == TBL_BIT && (in->t == CODEC_T_BLOB || in->t == CODEC_T_TEXT)) {
      /* MySQL reads a string assigned to BIT as its bytes, big-endian */
      if (in->n > 8) return out_of_range(cv, c) ? MM_ESQL : (set_uint(out, hi), MM_OK);
      for (size_t i = 0; i < in->n; i++) uv = uv << 8 | (unsigned char)in->p[i];
      break;
    }
    char buf[128];
    as_cstr(in, buf, sizeof buf);
    int r = parse_num(buf, &d, &isint, &sv, &uv, &neg);
    if (r == 0) {
      if (incorrect(cv, c, "integer", in)) return MM_ESQL;
      out->t = CODEC_T_INT;
      out->i = 0;
      return MM_OK;
    }
    if (r == 2 && truncated(cv, c)) return MM_ESQL;
    if (isint && neg) uv = 0;
    else if (isint) sv = 0;
    break;
  }
  }
  if (!isint) {
    d = round(d);
    if (d < (double)lo || d > (double)hi || d != d) {
      if (out_of_range(cv, c)) return MM_ESQL;
      if (d < (double)lo) { out->t = CODEC_T_INT; out->i = lo; }
      else set_uint(out, hi);
      return MM_OK;
    }
    if (d < 0) { out->t = CODEC_T_INT; out->i = (int64_t)d; }
    else set_uint(out, d >= 1.8446744073709552e19 ? UINT64_MAX : (unsigned long long)d);
    return MM_OK;
  }
  if (neg) {
    if (sv < lo) {
      if (out_of_range(cv, c)) return MM_ESQL;
      sv = lo;
    }
    out->t = CODEC_T_INT;
    out->i = sv;
    return MM_OK;
  }
  if (uv > hi) {
    if (out_of_range(cv, c)) return MM_ESQL;
    uv = hi;
  }
  set_uint(out, uv);
  return MM_OK;
}

/* ---- DECIMAL ------------------------------------------------------------------------ */
static int conv_decimal(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv) {
  int prec = c->length ? (int)c->length : 10, scale = c->scale >= 0 ? c->scale : 0;
  if (prec > 65) prec = 65;
  if (scale > 30) scale = 30;
  if (prec < scale) prec = scale; /* DDL forbids it; be safe */
  char txt[512];
  if (in->t == CODEC_T_DOUBLE) snprintf(txt, sizeof txt, "%.*f", scale + 2 > 30 ? 30 : scale + 2, in->d);
  else as_cstr(in, txt, sizeof txt);
  /* parse */
  const char *s = txt;
  while (isspace((unsigned char)*s)) s++;
  int neg = 0;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  char ip[256], fp[256];
  int ni = 0, nf = 0;
  while (isdigit((unsigned char)*s)) { if (ni < 255 && !(ni == 0 && *s == '0')) ip[ni++] = *s; s++; }
  int digits = ni > 0 || (s > txt && s[-1] == '0');
  if (*s == '.') {
    s++;
    while (isdigit((unsigned char)*s)) { if (nf < 255) fp[nf++] = *s; s++; digits = 1; }
  }
  if (*s == 'e' || *s == 'E') { /* exponent: go through double */
    double d = strtod(txt, NULL);
    snprintf(txt, sizeof txt, "%.*f", scale + 2 > 30 ? 30 : scale + 2, d);
    tbl_val t2 = {.t = CODEC_T_TEXT, .p = txt, .n = strlen(txt)};
    return conv_decimal(c, &t2, out, buf, cv);
  }
  while (isspace((unsigned char)*s)) s++;
  if (!digits) {
    if (incorrect(cv, c, "decimal", in)) return MM_ESQL;
    ni = nf = 0;
    neg = 0;
  } else if (*s && truncated(cv, c)) return MM_ESQL;
  /* round to scale, half away from zero */
  int carry = nf > scale && fp[scale] >= '5';
  nf = MM_MIN(nf, scale);
  while (nf < scale) fp[nf++] = '0';
  for (int i = nf - 1; carry && i >= 0; i--) {
    if (fp[i] == '9') fp[i] = '0';
    else { fp[i]++; carry = 0; }
  }
  for (int i = ni - 1; carry && i >= 0; i--) {
    if (ip[i] == '9') ip[i] = '0';
    else { ip[i]++; carry = 0; }
  }
  if (carry) { memmove(ip + 1, ip, (size_t)ni); ip[0] = '1'; ni++; }
  int allzero = 1;
  for (int i = 0; i < ni && allzero; i++) if (ip[i] != '0') allzero = 0;
  for (int i = 0; i < nf && allzero; i++) if (fp[i] != '0') allzero = 0;
  if (allzero) neg = 0;
  if (ni > prec - scale || (neg && c->is_unsigned)) {
    if (out_of_range(cv, c)) return MM_ESQL;
    if (neg && c->is_unsigned) { ni = 0; for (int i = 0; i < nf; i++) fp[i] = '0'; neg = 0; }
    else { ni = prec - scale; for (int i = 0; i < ni; i++) ip[i] = '9'; for (int i = 0; i < nf; i++) fp[i] = '9'; }
  }
  mm_buf_reset(buf);
  if (neg) mm_buf_putc(buf, '-');
  if (ni == 0) mm_buf_putc(buf, '0');
  else mm_buf_append(buf, ip, (size_t)ni);
  if (nf) { mm_buf_putc(buf, '.'); mm_buf_append(buf, fp, (size_t)nf); }
  if (buf->oom) return mm_error_set(cv->err, 1037, "HY001", "Out of memory");
  out->t = CODEC_T_TEXT;
  out->p = buf->p;
  out->n = buf->len;
  return MM_OK;
}

/* ---- FLOAT / DOUBLE ------------------------------------------------------------------- */
static int conv_real(const tbl_column *c, const tbl_val *in, tbl_val *out, tbl_conv *cv) {
  double d;
  if (in->t == CODEC_T_INT) d = (double)in->i;
  else if (in->t == CODEC_T_UINT) d = (double)in->u;
  else if (in->t == CODEC_T_DOUBLE) d = in->d;
  else {
    char buf[128];
    as_cstr(in, buf, sizeof buf);
    int isint, neg;
    long long ll;
    unsigned long long ull;
    int r = parse_num(buf, &d, &isint, &ll, &ull, &neg);
    if (r == 0) {
      if (incorrect(cv, c, "double", in)) return MM_ESQL;
      d = 0;
    } else if (r == 2 && truncated(cv, c)) return MM_ESQL;
  }
  double max = c->type == TBL_FLOAT ? 3.402823466e38 : 1.7976931348623157e308;
  if (c->length && c->scale > 0 && c->length < 40) {
    max = pow(10, (int)c->length - c->scale) - pow(10, -c->scale);
    d = round(d * pow(10, c->scale)) / pow(10, c->scale);
  }
  if (!(d == d) || d > max || d < -max || (c->is_unsigned && d < 0)) {
    if (out_of_range(cv, c)) return MM_ESQL;
    d = !(d == d) ? 0 : c->is_unsigned && d < 0 ? 0 : d > 0 ? max : -max;
  }
  if (c->type == TBL_FLOAT) { /* float precision, shortest decimal form */
    char b[64];
    snprintf(b, sizeof b, "%.7g", (double)(float)d);
    d = strtod(b, NULL);
  }
  out->t = CODEC_T_DOUBLE;
  out->d = d;
  return MM_OK;
}

/* ---- strings ---------------------------------------------------------------------------- */
static int conv_string(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv) {
  const char *p;
  size_t n;
  if (in->t == CODEC_T_TEXT || in->t == CODEC_T_BLOB) {
    p = in->p ? in->p : "";
    n = in->n;
  } else {
    mm_buf_reset(buf);
    tbl_value_text(in, buf);
    p = buf->p ? buf->p : "";
    n = buf->len;
  }
  int binary = c->type == TBL_BINARY || c->type == TBL_VARBINARY || c->type == TBL_TINYBLOB ||
               c->type == TBL_BLOB || c->type == TBL_MEDIUMBLOB || c->type == TBL_LONGBLOB;
  size_t maxbytes = c->type == TBL_TINYTEXT || c->type == TBL_TINYBLOB ? 255
                  : c->type == TBL_TEXT || c->type == TBL_BLOB ? 65535
                  : c->type == TBL_MEDIUMTEXT || c->type == TBL_MEDIUMBLOB ? 16777215 : 0xFFFFFFFFu;
  if (c->type == TBL_CHAR) while (n > 0 && p[n - 1] == ' ') n--;
  if (c->type == TBL_CHAR || c->type == TBL_VARCHAR) {
    size_t chars = codec_utf8_len(p, n);
    if (c->length && chars > c->length) {
      /* trailing spaces beyond the length are silently removed (MySQL) */
      size_t keep = codec_utf8_prefix(p, n, c->length);
      size_t k = keep;
      while (k < n && p[k] == ' ') k++;
      if (k < n) {
        if (cv->strict) return mm_error_set(cv->err, 1406, "22001", "Data too long for column '%s' at row %llu", c->name, (unsigned long long)cv->row);
        truncated(cv, c);
      }
      n = keep;
    }
  } else if (c->type == TBL_BINARY || c->type == TBL_VARBINARY) {
    size_t lim = c->length ? c->length : 1;
    if (n > lim) {
      if (cv->strict) return mm_error_set(cv->err, 1406, "22001", "Data too long for column '%s' at row %llu", c->name, (unsigned long long)cv->row);
      truncated(cv, c);
      n = lim;
    }
    if (c->type == TBL_BINARY && n < lim) { /* MySQL pads BINARY(n) with 0x00 */
      if (p != buf->p) { mm_buf_reset(buf); mm_buf_append(buf, p, n); }
      while (buf->len < lim) mm_buf_putc(buf, 0);
      if (buf->oom) return mm_error_set(cv->err, 1037, "HY001", "Out of memory");
      p = buf->p;
      n = buf->len;
    }
  } else if (n > maxbytes) {
    if (cv->strict) return mm_error_set(cv->err, 1406, "22001", "Data too long for column '%s' at row %llu", c->name, (unsigned long long)cv->row);
    truncated(cv, c);
    n = binary ? maxbytes : codec_utf8_prefix(p, maxbytes, maxbytes);
    while (!binary && n > maxbytes) n--;
  }
  out->t = binary ? CODEC_T_BLOB : CODEC_T_TEXT;
  out->p = p;
  out->n = n;
  return MM_OK;
}

/* ENUM / SET */
static int enum_find(const tbl_column *c, const char *p, size_t n) {
  for (int i = 0; i < c->n_enum; i++)
    if (codec_ci_cmp(c->enum_vals[i], strlen(c->enum_vals[i]), p, n) == 0) return i;
  return -1;
}

static int conv_enum(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv) {
  out->t = CODEC_T_TEXT;
  if (c->type == TBL_ENUM) {
    int k = -1;
    if (in->t == CODEC_T_INT || in->t == CODEC_T_UINT || in->t == CODEC_T_DOUBLE) {
      int64_t i = in->t == CODEC_T_INT ? in->i : in->t == CODEC_T_UINT ? (int64_t)MM_MIN(in->u, 100000) : (int64_t)in->d;
      if (i >= 1 && i <= c->n_enum) k = (int)i - 1;
    } else {
      k = enum_find(c, in->p ? in->p : "", in->n);
      if (k < 0 && in->n > 0 && in->n < 6) { /* '2' means the second member */
        char b[8];
        memcpy(b, in->p, in->n);
        b[in->n] = 0;
        char *e;
        long v = strtol(b, &e, 10);
        if (!*e && v >= 1 && v <= c->n_enum) k = (int)v - 1;
      }
    }
    if (k < 0) {
      if (truncated(cv, c)) return MM_ESQL;
      out->p = "";
      out->n = 0;
      return MM_OK;
    }
    out->p = c->enum_vals[k];
    out->n = strlen(c->enum_vals[k]);
    return MM_OK;
  }
  /* SET */
  uint64_t mask = 0;
  int bad = 0;
  if (in->t == CODEC_T_INT || in->t == CODEC_T_UINT) {
    mask = in->t == CODEC_T_INT ? (uint64_t)in->i : in->u;
    if (c->n_enum < 64 && (mask >> c->n_enum)) bad = 1;
  } else {
    char tmp[64];
    const char *p = in->p ? in->p : "";
    if (in->t == CODEC_T_DOUBLE) { snprintf(tmp, sizeof tmp, "%.0f", in->d); p = tmp; }
    size_t n = in->t == CODEC_T_DOUBLE ? strlen(tmp) : in->n;
    size_t s = 0;
    for (size_t i = 0; i <= n; i++) {
      if (i == n || p[i] == ',') {
        if (i > s) {
          int k = enum_find(c, p + s, i - s);
          if (k < 0 || k >= 64) bad = 1;
          else mask |= 1ull << k;
        }
        s = i + 1;
      }
    }
  }
  if (bad && truncated(cv, c)) return MM_ESQL;
  mm_buf_reset(buf);
  int first = 1;
  for (int k = 0; k < c->n_enum && k < 64; k++) {
    if (!(mask >> k & 1)) continue;
    if (!first) mm_buf_putc(buf, ',');
    mm_buf_puts(buf, c->enum_vals[k]);
    first = 0;
  }
  out->p = buf->p ? buf->p : "";
  out->n = buf->len;
  return MM_OK;
}

/* ---- dates and times ---------------------------------------------------------------------- */
static int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return d[m - 1];
}

/* Parse a date[time] in any of MySQL's accepted forms into parts.
 * Returns 0 on success. */
static int parse_datetime(const char *s, int *Y, int *M, int *D, int *h, int *mi, int *se, long *us, int *has_time) {
  while (isspace((unsigned char)*s)) s++;
  int part[7] = {0};
  int np = 0;
  *has_time = 0;
  *us = 0;
  const char *p = s;
  size_t dig = 0;
  while (isdigit((unsigned char)p[dig])) dig++;
  if (dig >= 6 && (p[dig] == 0 || p[dig] == '.' || isspace((unsigned char)p[dig]))) {
    /* YYYYMMDD[hhmmss] or YYMMDD[hhmmss] */
    char b[16];
    if (dig > 14) return 1;
    memcpy(b, p, dig);
    b[dig] = 0;
    int yl = (dig == 8 || dig == 14) ? 4 : 2;
    if (dig != 6 && dig != 8 && dig != 12 && dig != 14) return 1;
    int off = 0;
    int y = 0;
    for (int i = 0; i < yl; i++) y = y * 10 + (b[off++] - '0');
    if (yl == 2) y += y < 70 ? 2000 : 1900;
    part[0] = y;
    np = 1;
    while (off < (int)dig) { part[np++] = (b[off] - '0') * 10 + (b[off + 1] - '0'); off += 2; }
    p += dig;
    if (np > 3) *has_time = 1;
  } else {
    while (*p && np < 6) {
      if (!isdigit((unsigned char)*p)) return 1;
      long v = 0;
      int nd = 0;
      while (isdigit((unsigned char)*p)) { if (nd < 9) v = v * 10 + (*p - '0'); p++; nd++; }
      if (np == 0 && nd <= 2) v += v < 70 ? 2000 : 1900;
      part[np++] = (int)v;
      if (np == 3) {
        if (*p == 0) break;
        if (*p != ' ' && *p != 'T') return 1;
        while (*p == ' ' || *p == 'T') p++;
        *has_time = 1;
        continue;
      }
      if (*p == 0 || *p == '.') break;
      if (np >= 3 && *p != ':') return 1;
      if (!ispunct((unsigned char)*p)) return 1;
      p++;
    }
    if (np < 3) return 1;
  }
  if (*p == '.') {
    p++;
    int nd = 0;
    while (isdigit((unsigned char)*p)) { if (nd < 6) { *us = *us * 10 + (*p - '0'); nd++; } p++; }
    while (nd++ < 6) *us *= 10;
  }
  while (isspace((unsigned char)*p)) p++;
  if (*p) return 1;
  *Y = part[0]; *M = part[1]; *D = part[2]; *h = part[3]; *mi = part[4]; *se = part[5];
  if (*Y > 9999 || *M > 12 || *D > 31 || *h > 23 || *mi > 59 || *se > 59) return 1;
  if (*M > 0 && *D > 0 && *D > days_in_month(*Y, *M)) return 1;
  return 0;
}

static int conv_datetime(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv) {
  char s[128];
  if (in->t == CODEC_T_DOUBLE) snprintf(s, sizeof s, "%.6f", in->d);
  else as_cstr(in, s, sizeof s);
  if ((in->t == CODEC_T_INT || in->t == CODEC_T_UINT) && strcmp(s, "0") == 0) strcpy(s, "00000000");
  int Y, M, D, h, mi, se, ht;
  long us;
  const char *what = c->type == TBL_DATE ? "date" : "datetime";
  int bad = parse_datetime(s, &Y, &M, &D, &h, &mi, &se, &us, &ht);
  if (!bad && c->type == TBL_TIMESTAMP && !(Y == 0 && M == 0 && D == 0) && (Y < 1970 || Y > 2038)) bad = 1;
  int zero = !bad && Y == 0 && M == 0 && D == 0;
  if (!bad && (M == 0 || D == 0) && !zero && (cv->mode & TBL_MODE_STRICT) && (cv->mode & TBL_MODE_NO_ZERO_DATE)) bad = 1;
  if (!bad && zero && (cv->mode & TBL_MODE_NO_ZERO_DATE) && cv->strict) bad = 1;
  if (bad) {
    if (cv->strict) return incorrect(cv, c, what, in);
    truncated(cv, c);
    Y = M = D = h = mi = se = 0;
    us = 0;
  }
  if (c->type == TBL_DATE && ht && (h || mi || se || us) && !bad) {
    /* time part dropped: a note in MySQL; nothing to report here */
  }
  mm_buf_reset(buf);
  mm_buf_printf(buf, "%04d-%02d-%02d", Y, M, D);
  if (c->type != TBL_DATE) {
    mm_buf_printf(buf, " %02d:%02d:%02d", h, mi, se);
    int sc = c->scale > 0 ? MM_MIN(c->scale, 6) : 0;
    if (sc) {
      char f[8];
      snprintf(f, sizeof f, "%06ld", us);
      mm_buf_putc(buf, '.');
      mm_buf_append(buf, f, (size_t)sc);
    }
  }
  out->t = CODEC_T_TEXT;
  out->p = buf->p;
  out->n = buf->len;
  return buf->oom ? mm_error_set(cv->err, 1037, "HY001", "Out of memory") : MM_OK;
}

static int conv_time(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv) {
  char s[128];
  if (in->t == CODEC_T_DOUBLE) snprintf(s, sizeof s, "%.6f", in->d);
  else as_cstr(in, s, sizeof s);
  const char *p = s;
  while (isspace((unsigned char)*p)) p++;
  int neg = 0;
  if (*p == '-') { neg = 1; p++; }
  long h = 0, m = 0, sec = 0, us = 0, days = 0;
  int bad = 0;
  if (strchr(p, ':')) {
    const char *sp = strchr(p, ' ');
    if (sp) { days = strtol(p, NULL, 10); p = sp + 1; }
    char *e;
    h = strtol(p, &e, 10);
    if (*e == ':') { m = strtol(e + 1, &e, 10); if (*e == ':') sec = strtol(e + 1, &e, 10); }
    if (*e == '.') { int nd = 0; for (e++; isdigit((unsigned char)*e); e++) if (nd < 6) { us = us * 10 + (*e - '0'); nd++; } while (nd++ < 6) us *= 10; }
    while (isspace((unsigned char)*e)) e++;
    if (*e) bad = 1;
    if (days < 0 || days > 100000 || h < 0 || h > 10000000) bad = 1;
    else h += days * 24;
  } else {
    char *e;
    long v = strtol(p, &e, 10);
    if (e == p) bad = 1;
    if (*e == '.') { int nd = 0; for (e++; isdigit((unsigned char)*e); e++) if (nd < 6) { us = us * 10 + (*e - '0'); nd++; } while (nd++ < 6) us *= 10; }
    while (isspace((unsigned char)*e)) e++;
    if (*e) bad = 1;
    h = v / 10000;
    m = v / 100 % 100;
    sec = v % 100;
  }
  if (!bad && (m > 59 || sec > 59 || m < 0 || sec < 0 || h < 0)) bad = 1;
  if (bad) {
    if (cv->strict) return incorrect(cv, c, "time", in);
    truncated(cv, c);
    h = m = sec = us = 0;
    neg = 0;
  }
  if (h > 838 || (h == 838 && (m > 59 || sec > 59))) {
    if (out_of_range(cv, c)) return MM_ESQL;
    h = 838; m = 59; sec = 59; us = 0;
  }
  mm_buf_reset(buf);
  if (neg && (h || m || sec || us)) mm_buf_putc(buf, '-');
  mm_buf_printf(buf, "%02ld:%02ld:%02ld", h, m, sec);
  int sc = c->scale > 0 ? MM_MIN(c->scale, 6) : 0;
  if (sc) {
    char f[8];
    snprintf(f, sizeof f, "%06ld", us);
    mm_buf_putc(buf, '.');
    mm_buf_append(buf, f, (size_t)sc);
  }
  out->t = CODEC_T_TEXT;
  out->p = buf->p;
  out->n = buf->len;
  return buf->oom ? mm_error_set(cv->err, 1037, "HY001", "Out of memory") : MM_OK;
}

static int conv_year(const tbl_column *c, const tbl_val *in, tbl_val *out, tbl_conv *cv) {
  long y;
  int from_text = 0;
  if (in->t == CODEC_T_INT) y = (long)MM_MAX(MM_MIN(in->i, 100000), -100000);
  else if (in->t == CODEC_T_UINT) y = 100000;
  else if (in->t == CODEC_T_DOUBLE) y = (long)round(MM_MAX(MM_MIN(in->d, 100000), -100000));
  else {
    char s[64];
    as_cstr(in, s, sizeof s);
    char *e;
    y = strtol(s, &e, 10);
    while (isspace((unsigned char)*e)) e++;
    if (e == s || *e) {
      if (incorrect(cv, c, "integer", in)) return MM_ESQL;
      y = 0;
    }
    from_text = 1;
  }
  if (y == 0 && from_text) y = 2000;
  else if (y >= 1 && y <= 69) y += 2000;
  else if (y >= 70 && y <= 99) y += 1900;
  if (y != 0 && (y < 1901 || y > 2155)) {
    if (out_of_range(cv, c)) return MM_ESQL;
    y = 0;
  }
  out->t = CODEC_T_INT;
  out->i = y;
  return MM_OK;
}

int tbl_value_convert(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv) {
  switch (c->type) {
  case TBL_TINYINT: case TBL_SMALLINT: case TBL_MEDIUMINT: case TBL_INT: case TBL_BIGINT: case TBL_BIT:
    return conv_int(c, in, out, cv);
  case TBL_DECIMAL: return conv_decimal(c, in, out, buf, cv);
  case TBL_FLOAT: case TBL_DOUBLE: return conv_real(c, in, out, cv);
  case TBL_DATE: case TBL_DATETIME: case TBL_TIMESTAMP: return conv_datetime(c, in, out, buf, cv);
  case TBL_TIME: return conv_time(c, in, out, buf, cv);
  case TBL_YEAR: return conv_year(c, in, out, cv);
  case TBL_ENUM: case TBL_SET: return conv_enum(c, in, out, buf, cv);
  case TBL_JSON:
    if (in->t == CODEC_T_TEXT || in->t == CODEC_T_BLOB) { *out = *in; out->t = CODEC_T_TEXT; return MM_OK; }
    mm_buf_reset(buf);
    tbl_value_text(in, buf);
    out->t = CODEC_T_TEXT;
    out->p = buf->p ? buf->p : "";
    out->n = buf->len;
    return MM_OK;
  default: return conv_string(c, in, out, buf, cv);
  }
}

void tbl_value_implicit(const tbl_column *c, tbl_val *out, mm_buf *buf) {
  mm_buf_reset(buf);
  switch (c->type) {
  case TBL_TINYINT: case TBL_SMALLINT: case TBL_MEDIUMINT: case TBL_INT: case TBL_BIGINT: case TBL_BIT: case TBL_YEAR:
    out->t = CODEC_T_INT; out->i = 0; return;
  case TBL_FLOAT: case TBL_DOUBLE: out->t = CODEC_T_DOUBLE; out->d = 0; return;
  case TBL_DECIMAL: {
    int sc = c->scale > 0 ? c->scale : 0;
    mm_buf_putc(buf, '0');
    if (sc) { mm_buf_putc(buf, '.'); for (int i = 0; i < sc; i++) mm_buf_putc(buf, '0'); }
    break;
  }
  case TBL_DATE: mm_buf_puts(buf, "0000-00-00"); break;
  case TBL_DATETIME: case TBL_TIMESTAMP:
    mm_buf_puts(buf, "0000-00-00 00:00:00");
    if (c->scale > 0) { mm_buf_putc(buf, '.'); for (int i = 0; i < c->scale && i < 6; i++) mm_buf_putc(buf, '0'); }
    break;
  case TBL_TIME: mm_buf_puts(buf, "00:00:00"); break;
  case TBL_ENUM: if (c->n_enum) mm_buf_puts(buf, c->enum_vals[0]); break;
  case TBL_BINARY:
    for (uint32_t i = 0; i < (c->length ? c->length : 1); i++) mm_buf_putc(buf, 0);
    out->t = CODEC_T_BLOB; out->p = buf->p ? buf->p : ""; out->n = buf->len;
    return;
  case TBL_VARBINARY: case TBL_TINYBLOB: case TBL_BLOB: case TBL_MEDIUMBLOB: case TBL_LONGBLOB:
    out->t = CODEC_T_BLOB; out->p = ""; out->n = 0;
    return;
  default: break;
  }
  out->t = CODEC_T_TEXT;
  out->p = buf->p ? buf->p : "";
  out->n = buf->len;
}

void tbl_now_text(int tz, int scale, mm_buf *out) {
  int64_t us = mm_wall_us() + (int64_t)tz * 1000000;
  time_t secs = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  mm_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  if (scale > 0) {
    char f[8];
    snprintf(f, sizeof f, "%06ld", (long)(us % 1000000));
    mm_buf_putc(out, '.');
    mm_buf_append(out, f, (size_t)MM_MIN(scale, 6));
  }
}
