/*
 * table/codec.c - row and key encodings (see codec.h, docs/storage.md).
 *
 * Invariant: for every key class, memcmp(enc(a), enc(b)) has the sign of
 * the SQL comparison of a and b (NULL first), and for CODEC_K_CI the same
 * order as the mm_ci collation (codec_ci_cmp), so an index scan is ordered
 * exactly as SQLite would sort the column.
 *
 * Strings are escaped so that components concatenate: 0x00 -> 0x00 0xFF,
 * end of string -> 0x00 0x01.  Decimals: 0x80 for zero; positive 0xC0,
 * exponent byte (64 + number of integer digits), the significant digits as
 * ASCII, 0x00; negative 0x40, complemented exponent, complemented digits,
 * 0xFF.  Trailing zeros are dropped so 1.5 and 1.50 encode the same.
 */
#include "table/codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 and folding ---------------------------------------------------- */
int codec_utf8_next(const unsigned char *p, size_t n, uint32_t *cp) {
  unsigned c = p[0];
  if (c < 0x80) { *cp = c; return 1; }
  int len = c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (len == 0 || (size_t)len > n) { *cp = c; return 1; }
  uint32_t v = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
  for (int i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) { *cp = c; return 1; }
    v = v << 6 | (p[i] & 0x3F);
  }
  *cp = v;
  return len;
}

size_t codec_utf8_len(const char *p, size_t n) {
  size_t cnt = 0;
  for (size_t i = 0; i < n; cnt++) {
    uint32_t cp;
    i += (size_t)codec_utf8_next((const unsigned char *)p + i, n - i, &cp);
  }
  return cnt;
}

size_t codec_utf8_prefix(const char *p, size_t n, size_t nchars) {
  size_t i = 0;
  while (i < n && nchars--) {
    uint32_t cp;
    i += (size_t)codec_utf8_next((const unsigned char *)p + i, n - i, &cp);
  }
  return i;
}

/* general_ci weights of U+00C0..U+00FF and U+0100..U+017F: a letter is the
 * base letter, '=' keeps the code point, '^' is cp - 0x20, '*' folds the
 * odd (lower) code point of a pair onto the even one. */
static const char latin1_fold[] = "AAAAAA=CEEEEIIIIDNOOOOO=OUUUUY=S"
                                  "AAAAAA^CEEEEIIIIDNOOOOO=OUUUUY^Y";
static const char latinA_fold[] = "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIII**JJKK=LLLLLLLL"
                                  "LLNNNNNN=**OOOOOO**RRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUUWWYYYZZZZZZS";

uint32_t codec_ci_fold(uint32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
  if (c >= 0xC0 && c <= 0xFF) {
    char m = latin1_fold[c - 0xC0];
    return m == '=' ? c : m == '^' ? c - 0x20 : (uint32_t)m;
  }
  if (c >= 0x100 && c <= 0x17F) {
    char m = latinA_fold[c - 0x100];
    return m == '=' ? c : m == '*' ? (c & ~1u) : (uint32_t)m;
  }
  if (c >= 0x3B1 && c <= 0x3C9) return c == 0x3C2 ? 0x3A3 : c - 0x20; /* Greek */
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;                      /* Cyrillic */
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;
  return c;
}

static size_t rtrim_len(const char *p, size_t n) {
  while (n > 0 && p[n - 1] == ' ') n--;
  return n;
}

int codec_ci_cmp(const char *a, size_t na, const char *b, size_t nb) {
  na = rtrim_len(a, na);
  nb = rtrim_len(b, nb);
  size_t i = 0, j = 0;
  while (i < na && j < nb) {
    unsigned ca = (unsigned char)a[i], cb = (unsigned char)b[j];
    if (ca < 0x80 && cb < 0x80) { /* ASCII fast path */
      if (ca >= 'a' && ca <= 'z') ca -= 32;
      if (cb >= 'a' && cb <= 'z') cb -= 32;
      if (ca != cb) return ca < cb ? -1 : 1;
      i++, j++;
      continue;
    }
    uint32_t x, y;
    i += (size_t)codec_utf8_next((const unsigned char *)a + i, na - i, &x);
    j += (size_t)codec_utf8_next((const unsigned char *)b + j, nb - j, &y);
    x = codec_ci_fold(x);
    y = codec_ci_fold(y);
    if (x != y) return x < y ? -1 : 1;
  }
  if (i < na) return 1;
  if (j < nb) return -1;
  return 0;
}

/* ---- varints ---------------------------------------------------------------- */
int codec_put_varint(mm_buf *out, uint64_t v) {
  unsigned char b[10];
  int n = 0;
  do {
    b[n] = v & 0x7F;
    v >>= 7;
    if (v) b[n] |= 0x80;
    n++;
  } while (v);
  return mm_buf_append(out, b, (size_t)n);
}

int codec_get_varint(const unsigned char *p, size_t n, uint64_t *v) {
  uint64_t r = 0;
  for (size_t i = 0; i < n && i < 10; i++) {
    r |= (uint64_t)(p[i] & 0x7F) << (7 * i);
    if (!(p[i] & 0x80)) { *v = r; return (int)i + 1; }
  }
  return 0;
}

/* ---- rows -------------------------------------------------------------------- */
int codec_row_encode(mm_buf *out, const tbl_val *vals, int n) {
  codec_put_varint(out, (uint64_t)n);
  for (int i = 0; i < n; i++) {
    const tbl_val *v = &vals[i];
    unsigned char tag = (unsigned char)v->t;
    mm_buf_putc(out, tag);
    switch (v->t) {
    case CODEC_T_NULL: break;
    case CODEC_T_INT: codec_put_varint(out, ((uint64_t)v->i << 1) ^ (uint64_t)(v->i >> 63)); break;
    case CODEC_T_UINT: codec_put_varint(out, v->u); break;
    case CODEC_T_DOUBLE: {
      unsigned char b[8];
      uint64_t bits;
      memcpy(&bits, &v->d, 8);
      mm_put_u64le(b, bits);
      mm_buf_append(out, b, 8);
      break;
    }
    case CODEC_T_TEXT:
    case CODEC_T_BLOB:
      codec_put_varint(out, v->n);
      mm_buf_append(out, v->p, v->n);
      break;
    default: return MM_EINVAL;
    }
  }
  return out->oom ? MM_ENOMEM : MM_OK;
}

int codec_row_decode(const char *ps, size_t n, tbl_val *vals, int max, int *ncols) {
  const unsigned char *p = (const unsigned char *)ps;
  uint64_t cnt;
  int k = codec_get_varint(p, n, &cnt);
  if (!k || cnt > 4096) return MM_ECORRUPT;
  size_t i = (size_t)k;
  for (uint64_t c = 0; c < cnt; c++) {
    if (i >= n) return MM_ECORRUPT;
    tbl_val tmp, *v = (int)c < max ? &vals[c] : &tmp;
    v->t = p[i++];
    uint64_t x;
    switch (v->t) {
    case CODEC_T_NULL: break;
    case CODEC_T_INT:
      if (!(k = codec_get_varint(p + i, n - i, &x))) return MM_ECORRUPT;
      i += (size_t)k;
      v->i = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
      break;
    case CODEC_T_UINT:
      if (!(k = codec_get_varint(p + i, n - i, &x))) return MM_ECORRUPT;
      i += (size_t)k;
      v->u = x;
      break;
    case CODEC_T_DOUBLE:
      if (n - i < 8) return MM_ECORRUPT;
      x = mm_get_u64le(p + i);
      memcpy(&v->d, &x, 8);
      i += 8;
      break;
    case CODEC_T_TEXT:
    case CODEC_T_BLOB:
      if (!(k = codec_get_varint(p + i, n - i, &x))) return MM_ECORRUPT;
      i += (size_t)k;
      if (x > n - i) return MM_ECORRUPT;
      v->p = ps + i;
      v->n = (size_t)x;
      i += (size_t)x;
      break;
    default: return MM_ECORRUPT;
    }
  }
  if (i != n) return MM_ECORRUPT;
  *ncols = (int)cnt;
  return MM_OK;
}

/* ---- keys ------------------------------------------------------------------------ */
int codec_key_class(const tbl_column *c) {
  switch (c->type) {
  case TBL_TINYINT: case TBL_SMALLINT: case TBL_MEDIUMINT: case TBL_INT: case TBL_BIGINT:
    return c->is_unsigned ? CODEC_K_UINT : CODEC_K_INT;
  case TBL_BIT: case TBL_YEAR: return CODEC_K_UINT;
  case TBL_DECIMAL: return CODEC_K_DECIMAL;
  case TBL_FLOAT: case TBL_DOUBLE: return CODEC_K_DOUBLE;
  case TBL_TIME: return CODEC_K_TIME;
  case TBL_DATE: case TBL_DATETIME: case TBL_TIMESTAMP: return CODEC_K_BYTES;
  case TBL_BINARY: case TBL_VARBINARY: case TBL_TINYBLOB: case TBL_BLOB: case TBL_MEDIUMBLOB:
  case TBL_LONGBLOB: return CODEC_K_BYTES;
  case TBL_JSON: return CODEC_K_BYTES;
  default: return c->binary_collation ? CODEC_K_BINPAD : CODEC_K_CI;
  }
}

int codec_key_index_prefix(mm_buf *out, uint32_t index_id) {
  unsigned char b[5];
  b[0] = 0x10;
  mm_put_u32be(b + 1, index_id);
  return mm_buf_append(out, b, 5);
}

static void put_u64be(mm_buf *out, uint64_t v) {
  unsigned char b[8];
  mm_put_u64be(b, v);
  mm_buf_append(out, b, 8);
}

/* Append bytes with 0x00 escaped (no terminator). */
static void put_escaped(mm_buf *out, const unsigned char *p, size_t n) {
  size_t s = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0) {
      mm_buf_append(out, p + s, i - s);
      mm_buf_append(out, "\0\xff", 2);
      s = i + 1;
    }
  }
  mm_buf_append(out, p + s, n - s);
}

static void put_utf8(mm_buf *out, uint32_t c) {
  unsigned char b[4];
  int n;
  if (c < 0x80) { b[0] = (unsigned char)c; n = 1; }
  else if (c < 0x800) { b[0] = 0xC0 | c >> 6; b[1] = 0x80 | (c & 0x3F); n = 2; }
  else if (c < 0x10000) { b[0] = 0xE0 | c >> 12; b[1] = 0x80 | (c >> 6 & 0x3F); b[2] = 0x80 | (c & 0x3F); n = 3; }
  else { b[0] = 0xF0 | c >> 18; b[1] = 0x80 | (c >> 12 & 0x3F); b[2] = 0x80 | (c >> 6 & 0x3F); b[3] = 0x80 | (c & 0x3F); n = 4; }
  if (n == 1 && b[0] == 0) mm_buf_append(out, "\0\xff", 2);
  else mm_buf_append(out, b, (size_t)n);
}

static int64_t val_as_i64(const tbl_val *v) {
  switch (v->t) {
  case CODEC_T_INT: return v->i;
  case CODEC_T_UINT: return v->u > INT64_MAX ? INT64_MAX : (int64_t)v->u;
  case CODEC_T_DOUBLE:
    if (!(v->d == v->d)) return 0;
    if (v->d >= 9.2233720368547758e18) return INT64_MAX;
    if (v->d <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v->d;
  default: {
    char buf[64];
    size_t n = MM_MIN(v->n, sizeof buf - 1);
    memcpy(buf, v->p ? v->p : "", n);
    buf[n] = 0;
    return strtoll(buf, NULL, 10);
  }
  }
}

static uint64_t val_as_u64(const tbl_val *v) {
  switch (v->t) {
  case CODEC_T_INT: return v->i < 0 ? 0 : (uint64_t)v->i;
  case CODEC_T_UINT: return v->u;
  case CODEC_T_DOUBLE:
    if (!(v->d > 0)) return 0;
    if (v->d >= 1.8446744073709552e19) return UINT64_MAX;
    return (uint64_t)v->d;
  default: {
    char buf[64];
    size_t n = MM_MIN(v->n, sizeof buf - 1);
    memcpy(buf, v->p ? v->p : "", n);
    buf[n] = 0;
    if (buf[0] == '-') return 0;
    return strtoull(buf, NULL, 10);
  }
  }
}

static double val_as_double(const tbl_val *v) {
  switch (v->t) {
  case CODEC_T_INT: return (double)v->i;
  case CODEC_T_UINT: return (double)v->u;
  case CODEC_T_DOUBLE: return v->d;
  default: {
    char buf[128];
    size_t n = MM_MIN(v->n, sizeof buf - 1);
    memcpy(buf, v->p ? v->p : "", n);
    buf[n] = 0;
    return strtod(buf, NULL);
  }
  }
}

static void put_decimal(mm_buf *out, const char *p, size_t n) {
  char dig[160];
  int nd = 0, intd = 0, neg = 0, seen_point = 0, lead = 1, exp_adj = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '+')) i++;
  if (i < n && p[i] == '-') { neg = 1; i++; }
  for (; i < n; i++) {
    char c = p[i];
    if (c == '.') { if (seen_point) break; seen_point = 1; continue; }
    if (c < '0' || c > '9') break;
    if (lead && c == '0') { if (seen_point) exp_adj--; continue; }
    lead = 0;
    if (nd < (int)sizeof dig) dig[nd++] = c;
    if (!seen_point) intd++;
  }
  while (nd > 0 && dig[nd - 1] == '0') nd--;
  if (nd == 0) { mm_buf_putc(out, 0x80); return; }
  int e = (intd ? intd : exp_adj) + 64;
  if (e < 1) e = 1;
  if (e > 254) e = 254;
  if (!neg) {
    mm_buf_putc(out, 0xC0);
    mm_buf_putc(out, e);
    mm_buf_append(out, dig, (size_t)nd);
    mm_buf_putc(out, 0x00);
  } else {
    mm_buf_putc(out, 0x40);
    mm_buf_putc(out, 255 - e);
    for (int k = 0; k < nd; k++) mm_buf_putc(out, 0xFF - (unsigned char)dig[k]);
    mm_buf_putc(out, 0xFF);
  }
}

int codec_key_append(mm_buf *out, int kc, const tbl_val *v, uint32_t prefix_chars) {
  if (v->t == CODEC_T_NULL) return mm_buf_putc(out, 0x00);
  mm_buf_putc(out, 0x01);
  switch (kc) {
  case CODEC_K_INT: put_u64be(out, (uint64_t)val_as_i64(v) ^ 0x8000000000000000ull); break;
  case CODEC_K_UINT: put_u64be(out, val_as_u64(v)); break;
  case CODEC_K_DOUBLE: {
    double d = val_as_double(v);
    if (d == 0) d = 0; /* -0.0 */
    uint64_t bits;
    memcpy(&bits, &d, 8);
    bits = (bits & 0x8000000000000000ull) ? ~bits : bits ^ 0x8000000000000000ull;
    put_u64be(out, bits);
    break;
  }
  case CODEC_K_TIME: {
    int64_t us = 0;
    if (v->t == CODEC_T_TEXT || v->t == CODEC_T_BLOB) codec_time_parse(v->p, v->n, &us);
    else us = val_as_i64(v); /* already microseconds */
    put_u64be(out, (uint64_t)us ^ 0x8000000000000000ull);
    break;
  }
  case CODEC_K_DECIMAL: {
    if (v->t == CODEC_T_TEXT || v->t == CODEC_T_BLOB) { put_decimal(out, v->p, v->n); break; }
    char buf[64];
    int len;
    if (v->t == CODEC_T_INT) len = snprintf(buf, sizeof buf, "%lld", (long long)v->i);
    else if (v->t == CODEC_T_UINT) len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->u);
    else len = snprintf(buf, sizeof buf, "%.15g", v->d);
    if (strchr(buf, 'e') || strchr(buf, 'E')) len = snprintf(buf, sizeof buf, "%.30f", v->d);
    put_decimal(out, buf, (size_t)MM_MIN(len, (int)sizeof buf - 1));
    break;
  }
  case CODEC_K_CI:
  case CODEC_K_BINPAD:
  case CODEC_K_BYTES: {
    char nb[64];
    const char *p = v->p;
    size_t n = v->n;
    if (v->t == CODEC_T_INT || v->t == CODEC_T_UINT || v->t == CODEC_T_DOUBLE) {
      if (v->t == CODEC_T_INT) n = (size_t)snprintf(nb, sizeof nb, "%lld", (long long)v->i);
      else if (v->t == CODEC_T_UINT) n = (size_t)snprintf(nb, sizeof nb, "%llu", (unsigned long long)v->u);
      else n = (size_t)snprintf(nb, sizeof nb, "%.17g", v->d);
      p = nb;
    }
    if (!p) p = "";
    if (prefix_chars) n = kc == CODEC_K_BYTES ? MM_MIN(n, prefix_chars) : codec_utf8_prefix(p, n, prefix_chars);
    if (kc != CODEC_K_BYTES) n = rtrim_len(p, n);
    if (kc == CODEC_K_CI) {
      for (size_t i = 0; i < n;) {
        uint32_t c;
        i += (size_t)codec_utf8_next((const unsigned char *)p + i, n - i, &c);
        put_utf8(out, codec_ci_fold(c));
      }
    } else {
      put_escaped(out, (const unsigned char *)p, n);
    }
    mm_buf_append(out, "\0\x01", 2);
    break;
  }
  default: return MM_EINVAL;
  }
  return out->oom ? MM_ENOMEM : MM_OK;
}

long codec_key_skip(const unsigned char *p, size_t n, int kc) {
  if (n < 1) return -1;
  if (p[0] == 0x00) return 1;
  if (p[0] != 0x01) return -1;
  switch (kc) {
  case CODEC_K_INT: case CODEC_K_UINT: case CODEC_K_DOUBLE: case CODEC_K_TIME:
    return n >= 9 ? 9 : -1;
  case CODEC_K_DECIMAL: {
    if (n < 2) return -1;
    if (p[1] == 0x80) return 2;
    unsigned char term = p[1] == 0xC0 ? 0x00 : p[1] == 0x40 ? 0xFF : 1;
    if (term == 1 || n < 4) return -1;
    for (size_t i = 3; i < n; i++)
      if (p[i] == term) return (long)i + 1;
    return -1;
  }
  default:
    for (size_t i = 1; i + 1 < n; i++) {
      if (p[i] == 0) {
        if (p[i + 1] == 0x01) return (long)i + 2;
        if (p[i + 1] != 0xFF) return -1;
        i++;
      }
    }
    return -1;
  }
}

int codec_time_parse(const char *p, size_t n, int64_t *us) {
  size_t i = 0;
  int neg = 0;
  while (i < n && p[i] == ' ') i++;
  if (i < n && p[i] == '-') { neg = 1; i++; }
  int64_t part[3] = {0, 0, 0};
  int k = 0;
  for (; i < n && k < 3; i++) {
    if (p[i] >= '0' && p[i] <= '9') { if (part[k] < 100000000) part[k] = part[k] * 10 + (p[i] - '0'); }
    else if (p[i] == ':') k++;
    else break;
  }
  int64_t frac = 0;
  if (i < n && p[i] == '.') {
    int d = 0;
    for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
      if (d < 6) { frac = frac * 10 + (p[i] - '0'); d++; }
    for (; d < 6; d++) frac *= 10;
  }
  int64_t v = ((part[0] * 60 + part[1]) * 60 + part[2]) * 1000000 + frac;
  *us = neg ? -v : v;
  return MM_OK;
}
