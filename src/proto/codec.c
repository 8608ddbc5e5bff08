/*
 * proto/codec.c - pure encoders and decoders of the MySQL protocol.
 *
 * See codec.h for the contract.  Nothing here touches a socket or a
 * session; every decoder is bounded by its input length.  Encoders reserve
 * the exact packet size once and write in place, so encoding a row costs no
 * allocation once the output buffer has grown to its working size.
 */
#include "proto/codec.h"

#include <math.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* ---- reader ------------------------------------------------------------------ */

static const uint8_t *rd_take(proto_rd *r, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n;
  return p;
}

uint8_t proto_rd_u8(proto_rd *r) {
  const uint8_t *p = rd_take(r, 1);
  return p ? p[0] : 0;
}
uint16_t proto_rd_u16(proto_rd *r) {
  const uint8_t *p = rd_take(r, 2);
  return p ? mm_get_u16le(p) : 0;
}
uint32_t proto_rd_u24(proto_rd *r) {
  const uint8_t *p = rd_take(r, 3);
  return p ? mm_get_u24le(p) : 0;
}
uint32_t proto_rd_u32(proto_rd *r) {
  const uint8_t *p = rd_take(r, 4);
  return p ? mm_get_u32le(p) : 0;
}
uint64_t proto_rd_u64(proto_rd *r) {
  const uint8_t *p = rd_take(r, 8);
  return p ? mm_get_u64le(p) : 0;
}

uint64_t proto_rd_lenenc(proto_rd *r, int *is_null) {
  if (is_null) *is_null = 0;
  uint8_t c = proto_rd_u8(r);
  if (r->bad) return 0;
  if (c < 0xfb) return c;
  switch (c) {
  case 0xfb:
    if (is_null) *is_null = 1;
    else r->bad = 1;
    return 0;
  case 0xfc: return proto_rd_u16(r);
  case 0xfd: return proto_rd_u24(r);
  case 0xfe: return proto_rd_u64(r);
  default: r->bad = 1; return 0;
  }
}

const uint8_t *proto_rd_bytes(proto_rd *r, size_t n) { return rd_take(r, n); }

const uint8_t *proto_rd_lenenc_str(proto_rd *r, size_t *n) {
  uint64_t len = proto_rd_lenenc(r, NULL);
  *n = 0;
  if (r->bad) return NULL;
  if (len > proto_rd_left(r)) {
    r->bad = 1;
    return NULL;
  }
  *n = (size_t)len;
  return rd_take(r, (size_t)len);
}

const char *proto_rd_nulstr(proto_rd *r, size_t *n) {
  *n = 0;
  if (r->bad) return NULL;
  const uint8_t *z = memchr(r->p, 0, proto_rd_left(r));
  if (!z) {
    r->bad = 1;
    return NULL;
  }
  const char *s = (const char *)r->p;
  *n = (size_t)(z - r->p);
  r->p = z + 1;
  return s;
}

const uint8_t *proto_rd_rest(proto_rd *r, size_t *n) {
  *n = r->bad ? 0 : proto_rd_left(r);
  const uint8_t *p = r->p;
  r->p = r->end;
  return p;
}

/* ---- writers ------------------------------------------------------------------ */

/* Reserve n bytes at the end of b and return where to write them (len is
 * advanced), or NULL once the buffer is out of memory. */
static inline uint8_t *wr(mm_buf *b, size_t n) {
  if (b->oom) return NULL;
  if (b->len + n + 1 > b->cap && mm_buf_reserve(b, n) != MM_OK) return NULL;
  uint8_t *p = (uint8_t *)b->p + b->len;
  b->len += n;
  return p;
}

size_t proto_lenenc_size(uint64_t v) {
  if (v < 0xfb) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffff) return 4;
  return 9;
}

static inline uint8_t *enc_lenenc(uint8_t *p, uint64_t v) {
  if (v < 0xfb) {
    *p++ = (uint8_t)v;
  } else if (v <= 0xffff) {
    *p++ = 0xfc;
    mm_put_u16le(p, (uint16_t)v);
    p += 2;
  } else if (v <= 0xffffff) {
    *p++ = 0xfd;
    mm_put_u24le(p, (uint32_t)v);
    p += 3;
  } else {
    *p++ = 0xfe;
    mm_put_u64le(p, v);
    p += 8;
  }
  return p;
}

static inline uint8_t *enc_lenenc_str(uint8_t *p, const void *s, size_t n) {
  p = enc_lenenc(p, n);
  if (n) memcpy(p, s, n);
  return p + n;
}

void proto_put_u8(mm_buf *b, uint8_t v) {
  uint8_t *p = wr(b, 1);
  if (p) *p = v;
}
void proto_put_u16(mm_buf *b, uint16_t v) {
  uint8_t *p = wr(b, 2);
  if (p) mm_put_u16le(p, v);
}
void proto_put_u32(mm_buf *b, uint32_t v) {
  uint8_t *p = wr(b, 4);
  if (p) mm_put_u32le(p, v);
}
void proto_put_lenenc(mm_buf *b, uint64_t v) {
  uint8_t *p = wr(b, proto_lenenc_size(v));
  if (p) enc_lenenc(p, v);
}
void proto_put_lenenc_str(mm_buf *b, const void *s, size_t n) {
  uint8_t *p = wr(b, proto_lenenc_size(n) + n);
  if (p) enc_lenenc_str(p, s, n);
}

/* ---- framing ------------------------------------------------------------------ */

size_t proto_pkt_begin(mm_buf *b) {
  size_t off = b->len;
  wr(b, 4);
  return off;
}

void proto_pkt_end(mm_buf *b, size_t off, uint8_t *seq) {
  if (b->oom || b->len < off + 4) return;
  size_t len = b->len - off - 4;
  if (len < PROTO_MAX_FRAME) {
    uint8_t *h = (uint8_t *)b->p + off;
    mm_put_u24le(h, (uint32_t)len);
    h[3] = (*seq)++;
    return;
  }
  /* Split: k frames of 0xffffff bytes then one shorter (maybe empty). */
  size_t k = len / PROTO_MAX_FRAME + 1;
  if (!wr(b, 4 * (k - 1))) return;
  uint8_t *base = (uint8_t *)b->p + off;
  for (size_t i = k; i-- > 0;) {
    size_t flen = i + 1 < k ? PROTO_MAX_FRAME : len - i * PROTO_MAX_FRAME;
    uint8_t *src = base + 4 + i * PROTO_MAX_FRAME;
    uint8_t *dst = base + 4 * (i + 1) + i * PROTO_MAX_FRAME;
    memmove(dst, src, flen);
    mm_put_u24le(dst - 4, (uint32_t)flen);
  }
  for (size_t i = 0; i < k; i++) base[4 * i + i * PROTO_MAX_FRAME + 3] = (*seq)++;
}

/* ---- OK / ERR / EOF ------------------------------------------------------------ */

void proto_write_ok(mm_buf *b, uint8_t *seq, uint64_t affected, uint64_t insert_id,
                    uint16_t status, uint16_t warnings, const char *info) {
  size_t ilen = info ? strlen(info) : 0;
  size_t off = proto_pkt_begin(b);
  /* The info text is length-encoded, as MySQL's net_send_ok writes it and
   * as libmariadb reads it. */
  uint8_t *p = wr(b, 1 + proto_lenenc_size(affected) + proto_lenenc_size(insert_id) + 4 +
                         (ilen ? proto_lenenc_size(ilen) + ilen : 0));
  if (!p) return;
  *p++ = 0x00;
  p = enc_lenenc(p, affected);
  p = enc_lenenc(p, insert_id);
  mm_put_u16le(p, status);
  mm_put_u16le(p + 2, warnings);
  if (ilen) {
    p = enc_lenenc(p + 4, ilen);
    memcpy(p, info, ilen);
  }
  proto_pkt_end(b, off, seq);
}

void proto_write_eof_ok(mm_buf *b, uint8_t *seq, uint16_t status, uint16_t warnings) {
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, 7);
  if (!p) return;
  p[0] = 0xfe;
  p[1] = 0;
  p[2] = 0;
  mm_put_u16le(p + 3, status);
  mm_put_u16le(p + 5, warnings);
  proto_pkt_end(b, off, seq);
}

void proto_write_eof(mm_buf *b, uint8_t *seq, uint16_t status, uint16_t warnings) {
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, 5);
  if (!p) return;
  p[0] = 0xfe;
  mm_put_u16le(p + 1, warnings);
  mm_put_u16le(p + 3, status);
  proto_pkt_end(b, off, seq);
}

void proto_write_end(mm_buf *b, uint8_t *seq, int deprecate_eof, uint16_t status,
                     uint16_t warnings) {
  if (deprecate_eof) proto_write_eof_ok(b, seq, status, warnings);
  else proto_write_eof(b, seq, status, warnings);
}

void proto_write_err(mm_buf *b, uint8_t *seq, int code, const char *sqlstate, const char *msg) {
  size_t mlen = msg ? strnlen(msg, 511) : 0;
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, 9 + mlen);
  if (!p) return;
  p[0] = 0xff;
  mm_put_u16le(p + 1, (uint16_t)code);
  p[3] = '#';
  const char *st = sqlstate && strlen(sqlstate) == 5 ? sqlstate : "HY000";
  memcpy(p + 4, st, 5);
  if (mlen) memcpy(p + 9, msg, mlen);
  proto_pkt_end(b, off, seq);
}

/* ---- result sets --------------------------------------------------------------- */

static inline size_t slen(const char *s) { return s ? strlen(s) : 0; }

/* Length of the valid UTF-8 prefix of s (overlongs and surrogates count
 * as invalid). */
static size_t utf8_valid_prefix(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) k = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) k = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) k = 4, cp = c & 0x07;
    else return i;
    if (i + k > n) return i;
    for (size_t j = 1; j < k; j++) {
      if ((s[i + j] & 0xc0) != 0x80) return i;
      cp = cp << 6 | (s[i + j] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return i;
    i += k;
  }
  return i;
}

/* Names in column definitions must be valid UTF-8 (clients decode them):
 * invalid bytes become '?', as MySQL does when it converts an item name to
 * the system character set.  Returns the sanitised length written to out
 * (at most n bytes). */
static size_t utf8_sanitize(const uint8_t *s, size_t n, uint8_t *out) {
  size_t i = 0, o = 0;
  while (i < n) {
    size_t v = utf8_valid_prefix(s + i, n - i);
    memcpy(out + o, s + i, v);
    o += v;
    i += v;
    if (i < n) {
      out[o++] = '?';
      i++;
    }
  }
  return o;
}

/* NUM_FLAG is what client libraries derive from the type (IS_NUM in
 * mysql_com.h); tools such as mariadb-dump print values of NUM_FLAG columns
 * unquoted, so it must never be set on other types (BIT, strings, dates). */
static uint16_t coldef_flags(uint8_t type, uint16_t flags) {
  int is_num = (type <= MYSQL_TYPE_INT24 && type != MYSQL_TYPE_TIMESTAMP &&
                type != MYSQL_TYPE_NULL) ||
               type == MYSQL_TYPE_YEAR || type == MYSQL_TYPE_NEWDECIMAL;
  return is_num ? flags : (uint16_t)(flags & ~MM_FLAG_NUM);
}

void proto_write_coldef(mm_buf *b, uint8_t *seq, const mm_col *c, int field_list) {
  const char *strs[5] = {c->db, c->table, c->org_table, c->name, c->org_name};
  size_t lens[5], total = 4 + 13 + (field_list ? 1 : 0);
  int bad = 0;
  for (int i = 0; i < 5; i++) {
    lens[i] = slen(strs[i]);
    total += proto_lenenc_size(lens[i]) + lens[i];
    if (utf8_valid_prefix((const uint8_t *)strs[i], lens[i]) != lens[i]) bad = 1;
  }
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, total);
  if (!p) return;
  p = enc_lenenc_str(p, "def", 3);
  for (int i = 0; i < 5; i++) {
    if (!bad || utf8_valid_prefix((const uint8_t *)strs[i], lens[i]) == lens[i]) {
      p = enc_lenenc_str(p, strs[i], lens[i]);
    } else {
      /* The sanitised name is never longer; its lenenc prefix never grows. */
      uint8_t *hdr = p;
      uint8_t *body = p + proto_lenenc_size(lens[i]);
      size_t m = utf8_sanitize((const uint8_t *)strs[i], lens[i], body);
      size_t hs = proto_lenenc_size(m);
      memmove(hdr + hs, body, m);
      enc_lenenc(hdr, m);
      p = hdr + hs + m;
    }
  }
  *p++ = 0x0c;
  mm_put_u16le(p, c->charset);
  mm_put_u32le(p + 2, c->length);
  p[6] = c->type;
  mm_put_u16le(p + 7, coldef_flags(c->type, c->flags));
  p[9] = c->decimals;
  p[10] = 0;
  p[11] = 0;
  p += 12;
  if (field_list) *p++ = 0xfb; /* default value: NULL */
  b->len = (size_t)(p - (uint8_t *)b->p); /* sanitising may have shortened it */
  proto_pkt_end(b, off, seq);
}

void proto_write_text_row(mm_buf *b, uint8_t *seq, const mm_cell *cells, int ncols) {
  size_t total = 0;
  for (int i = 0; i < ncols; i++)
    total += cells[i].null ? 1 : proto_lenenc_size(cells[i].n) + cells[i].n;
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, total);
  if (!p) return;
  for (int i = 0; i < ncols; i++) {
    if (cells[i].null) *p++ = 0xfb;
    else p = enc_lenenc_str(p, cells[i].p, cells[i].n);
  }
  proto_pkt_end(b, off, seq);
}

/* Copy a text cell into a NUL-terminated buffer (numbers are short). */
static const char *cstr(const char *s, size_t n, char *tmp, size_t cap) {
  if (n >= cap) n = cap - 1;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  return tmp;
}

static uint64_t parse_int(const char *s, size_t n, int is_unsigned) {
  char tmp[80];
  const char *t = cstr(s, n, tmp, sizeof tmp);
  while (*t == ' ') t++;
  char *end;
  uint64_t v;
  if (is_unsigned && *t != '-') v = strtoull(t, &end, 10);
  else v = (uint64_t)strtoll(t, &end, 10);
  if (end == t || (*end && *end != ' ')) {
    /* Not a plain integer ("1.5", "1e3"): round the double, saturating. */
    double d = strtod(t, &end);
    if (end == t || isnan(d)) return 0;
    d = round(d);
    if (is_unsigned && d >= 0) {
      if (d >= 18446744073709551615.0) return UINT64_MAX;
      return (uint64_t)d;
    }
    if (d >= 9223372036854775807.0) return (uint64_t)INT64_MAX;
    if (d <= -9223372036854775808.0) return (uint64_t)INT64_MIN;
    return (uint64_t)(int64_t)d;
  }
  return v;
}

static double parse_double(const char *s, size_t n) {
  char tmp[400];
  const char *t = cstr(s, n, tmp, sizeof tmp);
  char *end;
  double d = strtod(t, &end);
  return end == t ? 0 : d;
}

/* Parse up to maxd digits at s[*i]; -1 if none. */
static long digits(const char *s, size_t n, size_t *i, int maxd) {
  long v = 0;
  int k = 0;
  while (*i < n && k < maxd && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10 + (s[*i] - '0');
    (*i)++;
    k++;
  }
  return k ? v : -1;
}

/* Fraction ".ffffff" at s[*i] -> microseconds. */
static long fraction(const char *s, size_t n, size_t *i) {
  if (*i >= n || s[*i] != '.') return 0;
  (*i)++;
  long us = 0;
  int k = 0;
  while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
    if (k < 6) us = us * 10 + (s[*i] - '0');
    k++;
    (*i)++;
  }
  for (; k < 6; k++) us *= 10;
  return us;
}

size_t proto_bin_datetime(const char *s, size_t n, uint8_t *out) {
  size_t i = 0;
  long y, mo, d, h = 0, mi = 0, sec = 0, us = 0;
  y = digits(s, n, &i, 4);
  if (y < 0 || i >= n || s[i++] != '-') goto zero;
  mo = digits(s, n, &i, 2);
  if (mo < 0 || i >= n || s[i++] != '-') goto zero;
  d = digits(s, n, &i, 2);
  if (d < 0) goto zero;
  if (i < n && (s[i] == ' ' || s[i] == 'T')) {
    i++;
    h = digits(s, n, &i, 2);
    if (h < 0 || i >= n || s[i++] != ':') goto zero;
    mi = digits(s, n, &i, 2);
    if (mi < 0 || i >= n || s[i++] != ':') goto zero;
    sec = digits(s, n, &i, 2);
    if (sec < 0) goto zero;
    us = fraction(s, n, &i);
  }
  uint8_t len = us ? 11 : (h || mi || sec) ? 7 : (y || mo || d) ? 4 : 0;
  out[0] = len;
  if (len >= 4) {
    mm_put_u16le(out + 1, (uint16_t)y);
    out[3] = (uint8_t)mo;
    out[4] = (uint8_t)d;
  }
  if (len >= 7) {
    out[5] = (uint8_t)h;
    out[6] = (uint8_t)mi;
    out[7] = (uint8_t)sec;
  }
  if (len >= 11) mm_put_u32le(out + 8, (uint32_t)us);
  return 1 + len;
zero:
  out[0] = 0;
  return 1;
}

size_t proto_bin_time(const char *s, size_t n, uint8_t *out) {
  size_t i = 0;
  int neg = 0;
  if (i < n && s[i] == '-') {
    neg = 1;
    i++;
  }
  long h = digits(s, n, &i, 9), mi, sec, us;
  if (h < 0 || i >= n || s[i++] != ':') goto zero;
  mi = digits(s, n, &i, 2);
  if (mi < 0 || i >= n || s[i++] != ':') goto zero;
  sec = digits(s, n, &i, 2);
  if (sec < 0) goto zero;
  us = fraction(s, n, &i);
  uint8_t len = us ? 12 : (h || mi || sec) ? 8 : 0;
  out[0] = len;
  if (len >= 8) {
    out[1] = (uint8_t)neg;
    mm_put_u32le(out + 2, (uint32_t)(h / 24));
    out[6] = (uint8_t)(h % 24);
    out[7] = (uint8_t)mi;
    out[8] = (uint8_t)sec;
  }
  if (len >= 12) mm_put_u32le(out + 9, (uint32_t)us);
  return 1 + len;
zero:
  out[0] = 0;
  return 1;
}

/* Fixed-size binary encoding of one non-NULL cell; returns bytes written
 * to out (<= 13), or (size_t)-1 for "lenenc string". */
static size_t bin_fixed(uint8_t type, uint16_t flags, const mm_cell *c, uint8_t *out) {
  int uns = (flags & MM_FLAG_UNSIGNED) != 0;
  switch (type) {
  case MYSQL_TYPE_TINY: out[0] = (uint8_t)parse_int(c->p, c->n, uns); return 1;
  case MYSQL_TYPE_SHORT:
  case MYSQL_TYPE_YEAR: mm_put_u16le(out, (uint16_t)parse_int(c->p, c->n, uns)); return 2;
  case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_INT24: mm_put_u32le(out, (uint32_t)parse_int(c->p, c->n, uns)); return 4;
  case MYSQL_TYPE_LONGLONG: mm_put_u64le(out, parse_int(c->p, c->n, uns)); return 8;
  case MYSQL_TYPE_FLOAT: {
    float f = (float)parse_double(c->p, c->n);
    uint32_t u;
    memcpy(&u, &f, 4);
    mm_put_u32le(out, u);
    return 4;
  }
  case MYSQL_TYPE_DOUBLE: {
    double d = parse_double(c->p, c->n);
    uint64_t u;
    memcpy(&u, &d, 8);
    mm_put_u64le(out, u);
    return 8;
  }
  case MYSQL_TYPE_DATE:
  case MYSQL_TYPE_NEWDATE:
  case MYSQL_TYPE_DATETIME:
  case MYSQL_TYPE_TIMESTAMP: return proto_bin_datetime(c->p, c->n, out);
  case MYSQL_TYPE_TIME: return proto_bin_time(c->p, c->n, out);
  default: return (size_t)-1;
  }
}

void proto_write_binary_row(mm_buf *b, uint8_t *seq, const uint8_t *types,
                            const uint16_t *flags, const mm_cell *cells, int ncols) {
  size_t nb = ((size_t)ncols + 7 + 2) / 8;
  /* Upper bound: fixed values take at most 13 bytes. */
  size_t total = 1 + nb;
  for (int i = 0; i < ncols; i++)
    if (!cells[i].null) total += 13 + proto_lenenc_size(cells[i].n) + cells[i].n;
  size_t off = proto_pkt_begin(b);
  uint8_t *start = wr(b, total);
  if (!start) return;
  uint8_t *p = start;
  *p++ = 0x00;
  uint8_t *bitmap = p;
  memset(bitmap, 0, nb);
  p += nb;
  for (int i = 0; i < ncols; i++) {
    if (cells[i].null || types[i] == MYSQL_TYPE_NULL) {
      bitmap[(i + 2) / 8] |= (uint8_t)(1u << ((i + 2) % 8));
      continue;
    }
    size_t k = bin_fixed(types[i], flags[i], &cells[i], p);
    if (k == (size_t)-1) p = enc_lenenc_str(p, cells[i].p, cells[i].n);
    else p += k;
  }
  b->len -= total - (size_t)(p - start); /* give back the unused estimate */
  proto_pkt_end(b, off, seq);
}

void proto_write_prepare_ok(mm_buf *b, uint8_t *seq, uint32_t stmt_id, uint16_t ncols,
                            uint16_t nparams, uint16_t warnings) {
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, 12);
  if (!p) return;
  p[0] = 0;
  mm_put_u32le(p + 1, stmt_id);
  mm_put_u16le(p + 5, ncols);
  mm_put_u16le(p + 7, nparams);
  p[9] = 0;
  mm_put_u16le(p + 10, warnings);
  proto_pkt_end(b, off, seq);
}

/* ---- handshake ------------------------------------------------------------------ */

int proto_make_scramble(uint8_t *out) {
  if (RAND_bytes(out, PROTO_SCRAMBLE_LEN) != 1) return MM_EIO;
  for (int i = 0; i < PROTO_SCRAMBLE_LEN; i++) {
    out[i] &= 0x7f;
    if (out[i] == 0 || out[i] == '$') out[i]++;
  }
  return MM_OK;
}

void proto_write_handshake(mm_buf *b, uint32_t conn_id, const uint8_t *scramble,
                           uint32_t caps, uint8_t charset, uint16_t status,
                           const char *version, const char *plugin) {
  size_t vlen = strlen(version), plen = strlen(plugin);
  size_t off = proto_pkt_begin(b);
  uint8_t *p = wr(b, 1 + vlen + 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 13 + plen + 1);
  if (!p) return;
  *p++ = 10;
  memcpy(p, version, vlen + 1);
  p += vlen + 1;
  mm_put_u32le(p, conn_id);
  p += 4;
  memcpy(p, scramble, 8);
  p += 8;
  *p++ = 0;
  mm_put_u16le(p, (uint16_t)caps);
  p += 2;
  *p++ = charset;
  mm_put_u16le(p, status);
  p += 2;
  mm_put_u16le(p, (uint16_t)(caps >> 16));
  p += 2;
  *p++ = PROTO_SCRAMBLE_LEN + 1;
  memset(p, 0, 10);
  p += 10;
  memcpy(p, scramble + 8, 12);
  p += 12;
  *p++ = 0;
  memcpy(p, plugin, plen + 1);
  uint8_t seq = 0;
  proto_pkt_end(b, off, &seq);
}

/* A NUL-terminated string, or the rest of the input when the NUL is
 * missing (some clients omit it on the last field). */
static const char *rd_str_lenient(proto_rd *r, size_t *n) {
  if (r->bad || !proto_rd_left(r)) {
    *n = 0;
    return NULL;
  }
  const uint8_t *z = memchr(r->p, 0, proto_rd_left(r));
  if (z) return proto_rd_nulstr(r, n);
  return (const char *)proto_rd_rest(r, n);
}

int proto_parse_handshake_response(const uint8_t *p, size_t n, proto_hs_resp *o) {
  memset(o, 0, sizeof *o);
  proto_rd r;
  proto_rd_init(&r, p, n);
  o->caps = proto_rd_u32(&r);
  if (r.bad || !(o->caps & PROTO_CLIENT_PROTOCOL_41)) return MM_EINVAL;
  o->max_packet = proto_rd_u32(&r);
  o->charset = proto_rd_u8(&r);
  proto_rd_bytes(&r, 23);
  if (r.bad) return MM_EINVAL;
  if (!proto_rd_left(&r)) {
    if (o->caps & PROTO_CLIENT_SSL) {
      o->is_ssl_request = 1;
      return MM_OK;
    }
    return MM_EINVAL;
  }
  o->user = proto_rd_nulstr(&r, &o->user_len);
  if (o->caps & PROTO_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
    o->auth = proto_rd_lenenc_str(&r, &o->auth_len);
  } else if (o->caps & PROTO_CLIENT_SECURE_CONNECTION) {
    o->auth_len = proto_rd_u8(&r);
    o->auth = proto_rd_bytes(&r, o->auth_len);
  } else {
    o->auth = (const uint8_t *)proto_rd_nulstr(&r, &o->auth_len);
  }
  if (r.bad) return MM_EINVAL;
  if ((o->caps & PROTO_CLIENT_CONNECT_WITH_DB) && proto_rd_left(&r)) {
    o->db = rd_str_lenient(&r, &o->db_len);
  }
  if ((o->caps & PROTO_CLIENT_PLUGIN_AUTH) && proto_rd_left(&r)) {
    o->plugin = rd_str_lenient(&r, &o->plugin_len);
  }
  /* Connection attributes are validated but not kept. */
  if ((o->caps & PROTO_CLIENT_CONNECT_ATTRS) && proto_rd_left(&r)) {
    size_t alen;
    const uint8_t *a = proto_rd_lenenc_str(&r, &alen);
    if (r.bad) return MM_EINVAL;
    proto_rd ar;
    proto_rd_init(&ar, a, alen);
    while (proto_rd_left(&ar) && !ar.bad) {
      size_t kn;
      proto_rd_lenenc_str(&ar, &kn);
      proto_rd_lenenc_str(&ar, &kn);
    }
    if (ar.bad) return MM_EINVAL;
  }
  return r.bad ? MM_EINVAL : MM_OK;
}

int proto_parse_change_user(const uint8_t *p, size_t n, uint32_t caps, proto_change_user *o) {
  memset(o, 0, sizeof *o);
  proto_rd r;
  proto_rd_init(&r, p, n);
  o->user = proto_rd_nulstr(&r, &o->user_len);
  if (caps & PROTO_CLIENT_SECURE_CONNECTION) {
    o->auth_len = proto_rd_u8(&r);
    o->auth = proto_rd_bytes(&r, o->auth_len);
  } else {
    o->auth = (const uint8_t *)proto_rd_nulstr(&r, &o->auth_len);
  }
  if (r.bad) return MM_EINVAL;
  o->db = rd_str_lenient(&r, &o->db_len);
  if (proto_rd_left(&r) >= 2) o->charset = proto_rd_u16(&r);
  if ((caps & PROTO_CLIENT_PLUGIN_AUTH) && proto_rd_left(&r))
    o->plugin = rd_str_lenient(&r, &o->plugin_len);
  return r.bad ? MM_EINVAL : MM_OK;
}

/* ---- auth ------------------------------------------------------------------------ */

void proto_native_token(const char *pw, size_t pwlen, const uint8_t *scramble, uint8_t *out) {
  uint8_t s1[20], s2[20], buf[40], x[20];
  SHA1((const unsigned char *)pw, pwlen, s1);
  SHA1(s1, 20, s2);
  memcpy(buf, scramble, 20);
  memcpy(buf + 20, s2, 20);
  SHA1(buf, 40, x);
  for (int i = 0; i < 20; i++) out[i] = s1[i] ^ x[i];
}

int proto_native_check(const uint8_t *scramble, const uint8_t *token, size_t token_len,
                       const uint8_t *stored) {
  if (token_len != 20) return 0;
  uint8_t buf[40], x[20], s1[20], s2[20];
  memcpy(buf, scramble, 20);
  memcpy(buf + 20, stored, 20);
  SHA1(buf, 40, x);
  for (int i = 0; i < 20; i++) s1[i] = token[i] ^ x[i];
  SHA1(s1, 20, s2);
  return CRYPTO_memcmp(s2, stored, 20) == 0;
}

void proto_sha2_token(const char *pw, size_t pwlen, const uint8_t *scramble, uint8_t *out) {
  uint8_t m1[32], m2[32], buf[52], m3[32];
  SHA256((const unsigned char *)pw, pwlen, m1);
  SHA256(m1, 32, m2);
  memcpy(buf, m2, 32);
  memcpy(buf + 32, scramble, 20);
  SHA256(buf, 52, m3);
  for (int i = 0; i < 32; i++) out[i] = m1[i] ^ m3[i];
}

int proto_sha2_check(const uint8_t *scramble, const uint8_t *token, size_t token_len,
                     const uint8_t *stored) {
  if (token_len != 32) return 0;
  uint8_t buf[52], m3[32], m1[32], m2[32];
  memcpy(buf, stored, 32);
  memcpy(buf + 32, scramble, 20);
  SHA256(buf, 52, m3);
  for (int i = 0; i < 32; i++) m1[i] = token[i] ^ m3[i];
  SHA256(m1, 32, m2);
  return CRYPTO_memcmp(m2, stored, 32) == 0;
}

/* ---- prepared statement parameters ---------------------------------------------- */

int proto_stmt_params_init(proto_stmt_params *st, int nparams) {
  memset(st, 0, sizeof *st);
  if (nparams < 0 || nparams > PROTO_MAX_PARAMS) return MM_EINVAL;
  st->nparams = nparams;
  if (nparams) {
    st->types = mm_calloc((size_t)nparams, sizeof *st->types);
    if (!st->types) return MM_ENOMEM;
  }
  return MM_OK;
}

void proto_stmt_params_free(proto_stmt_params *st) {
  if (st->long_data)
    for (int i = 0; i < st->nparams; i++) mm_buf_free(&st->long_data[i]);
  mm_free(st->long_data);
  mm_free(st->has_long);
  mm_free(st->types);
  memset(st, 0, sizeof *st);
}

int proto_stmt_long_data(proto_stmt_params *st, int param, const void *p, size_t n) {
  if (param < 0 || param >= st->nparams) return MM_EINVAL;
  if (!st->long_data) {
    st->long_data = mm_calloc((size_t)st->nparams, sizeof *st->long_data);
    st->has_long = mm_calloc((size_t)st->nparams, 1);
    if (!st->long_data || !st->has_long) {
      mm_free(st->long_data);
      mm_free(st->has_long);
      st->long_data = NULL;
      st->has_long = NULL;
      return MM_ENOMEM;
    }
  }
  st->has_long[param] = 1;
  if (mm_buf_append(&st->long_data[param], p, n) != MM_OK) return MM_ENOMEM;
  return MM_OK;
}

void proto_stmt_clear_long(proto_stmt_params *st) {
  if (!st->long_data) return;
  for (int i = 0; i < st->nparams; i++) {
    st->has_long[i] = 0;
    if (st->long_data[i].cap > 65536) mm_buf_free(&st->long_data[i]);
    else mm_buf_reset(&st->long_data[i]);
  }
}

int proto_parse_stmt_id(const uint8_t *p, size_t n, uint32_t *id) {
  if (n < 4) return MM_EINVAL;
  *id = mm_get_u32le(p);
  return MM_OK;
}

static int is_text_type(uint8_t t) {
  switch (t) {
  case MYSQL_TYPE_VARCHAR:
  case MYSQL_TYPE_VAR_STRING:
  case MYSQL_TYPE_STRING:
  case MYSQL_TYPE_ENUM:
  case MYSQL_TYPE_SET:
  case MYSQL_TYPE_JSON:
  case MYSQL_TYPE_DECIMAL:
  case MYSQL_TYPE_NEWDECIMAL: return 1;
  default: return 0;
  }
}

static int is_blob_type(uint8_t t) {
  switch (t) {
  case MYSQL_TYPE_TINY_BLOB:
  case MYSQL_TYPE_MEDIUM_BLOB:
  case MYSQL_TYPE_LONG_BLOB:
  case MYSQL_TYPE_BLOB:
  case MYSQL_TYPE_GEOMETRY:
  case MYSQL_TYPE_BIT: return 1;
  default: return 0;
  }
}

/* Decode a binary DATE/DATETIME/TIMESTAMP/TIME parameter into text at w
 * (room for 40 bytes); returns the text length. */
static size_t param_temporal(uint8_t type, const uint8_t *d, size_t len, char *w) {
  if (type == MYSQL_TYPE_TIME) {
    unsigned neg = 0, days = 0, h = 0, mi = 0, s = 0, us = 0;
    if (len >= 8) {
      neg = d[0];
      days = mm_get_u32le(d + 1);
      h = d[5];
      mi = d[6];
      s = d[7];
    }
    if (len >= 12) us = mm_get_u32le(d + 8);
    unsigned long long hours = (unsigned long long)days * 24 + h;
    int k = us ? snprintf(w, 40, "%s%02llu:%02u:%02u.%06u", neg ? "-" : "", hours, mi, s,
                          us % 1000000)
               : snprintf(w, 40, "%s%02llu:%02u:%02u", neg ? "-" : "", hours, mi, s);
    return k < 0 ? 0 : MM_MIN((size_t)k, 39);
  }
  unsigned y = 0, mo = 0, dd = 0, h = 0, mi = 0, s = 0, us = 0;
  if (len >= 4) {
    y = mm_get_u16le(d);
    mo = d[2];
    dd = d[3];
  }
  if (len >= 7) {
    h = d[4];
    mi = d[5];
    s = d[6];
  }
  if (len >= 11) us = mm_get_u32le(d + 7);
  int k;
  if (type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_NEWDATE)
    k = snprintf(w, 40, "%04u-%02u-%02u", y, mo, dd);
  else if (us)
    k = snprintf(w, 40, "%04u-%02u-%02u %02u:%02u:%02u.%06u", y, mo, dd, h, mi, s, us % 1000000);
  else
    k = snprintf(w, 40, "%04u-%02u-%02u %02u:%02u:%02u", y, mo, dd, h, mi, s);
  return k < 0 ? 0 : MM_MIN((size_t)k, 39);
}

int proto_parse_execute(const uint8_t *p, size_t n, proto_stmt_params *st, mm_value *vals,
                        mm_buf *scratch, uint8_t *flags_out) {
  proto_rd r;
  proto_rd_init(&r, p, n);
  proto_rd_u32(&r); /* statement id, looked up by the caller */
  uint8_t flags = proto_rd_u8(&r);
  proto_rd_u32(&r); /* iteration count, always 1 */
  if (r.bad) return MM_EINVAL;
  if (flags_out) *flags_out = flags;
  int np = st->nparams;
  if (np == 0) return MM_OK;
  const uint8_t *nullmap = proto_rd_bytes(&r, ((size_t)np + 7) / 8);
  uint8_t bound = proto_rd_u8(&r);
  if (r.bad) return MM_EINVAL;
  if (bound == 1) {
    const uint8_t *t = proto_rd_bytes(&r, 2 * (size_t)np);
    if (!t) return MM_EINVAL;
    for (int i = 0; i < np; i++) st->types[i] = (uint16_t)(t[2 * i] | t[2 * i + 1] << 8);
    st->has_types = 1;
  } else if (bound != 0 || !st->has_types) {
    return MM_EINVAL;
  }
  mm_buf_reset(scratch);
  if (mm_buf_reserve(scratch, (size_t)np * 40) != MM_OK) return MM_ENOMEM;
  char *w = scratch->p;
  for (int i = 0; i < np; i++) {
    mm_value *v = &vals[i];
    memset(v, 0, sizeof *v);
    uint8_t type = (uint8_t)st->types[i];
    int uns = (st->types[i] >> 8) & 0x80;
    if (st->has_long && st->has_long[i]) {
      v->kind = is_blob_type(type) ? MM_V_BLOB : MM_V_TEXT;
      v->p = st->long_data[i].p ? st->long_data[i].p : "";
      v->n = st->long_data[i].len;
      continue;
    }
    if (nullmap[i / 8] & (1u << (i % 8)) || type == MYSQL_TYPE_NULL) {
      v->kind = MM_V_NULL;
      continue;
    }
    switch (type) {
    case MYSQL_TYPE_TINY: {
      uint8_t x = proto_rd_u8(&r);
      v->kind = MM_V_INT;
      v->i = uns ? (int64_t)x : (int64_t)(int8_t)x;
      break;
    }
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_YEAR: {
      uint16_t x = proto_rd_u16(&r);
      v->kind = MM_V_INT;
      v->i = uns ? (int64_t)x : (int64_t)(int16_t)x;
      break;
    }
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24: {
      uint32_t x = proto_rd_u32(&r);
      v->kind = MM_V_INT;
      v->i = uns ? (int64_t)x : (int64_t)(int32_t)x;
      break;
    }
    case MYSQL_TYPE_LONGLONG: {
      uint64_t x = proto_rd_u64(&r);
      v->kind = uns && x > (uint64_t)INT64_MAX ? MM_V_UINT : MM_V_INT;
      v->i = (int64_t)x;
      break;
    }
    case MYSQL_TYPE_FLOAT: {
      uint32_t x = proto_rd_u32(&r);
      float f;
      memcpy(&f, &x, 4);
      v->kind = MM_V_DOUBLE;
      v->d = f;
      break;
    }
    case MYSQL_TYPE_DOUBLE: {
      uint64_t x = proto_rd_u64(&r);
      memcpy(&v->d, &x, 8);
      v->kind = MM_V_DOUBLE;
      break;
    }
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIME: {
      uint8_t len = proto_rd_u8(&r);
      const uint8_t *d = proto_rd_bytes(&r, len);
      if (!d) return MM_EINVAL;
      v->kind = MM_V_TEXT;
      v->p = w;
      v->n = param_temporal(type, d, len, w);
      w += 40;
      break;
    }
    default:
      if (!is_text_type(type) && !is_blob_type(type)) return MM_EINVAL;
      v->kind = is_blob_type(type) ? MM_V_BLOB : MM_V_TEXT;
      v->p = (const char *)proto_rd_lenenc_str(&r, &v->n);
      if (!v->p) v->p = "";
      break;
    }
    if (r.bad) return MM_EINVAL;
  }
  scratch->len = (size_t)(w - scratch->p);
  return MM_OK;
}

/* ---- packet reader ---------------------------------------------------------------- */

int proto_reader_init(proto_reader *r, size_t cap, int (*fill)(void *, uint8_t *, size_t),
                      void *ctx) {
  memset(r, 0, sizeof *r);
  if (cap < 64) cap = 64;
  r->buf = mm_malloc(cap);
  if (!r->buf) return MM_ENOMEM;
  r->cap = cap;
  r->fill = fill;
  r->ctx = ctx;
  mm_buf_init(&r->big);
  return MM_OK;
}

void proto_reader_free(proto_reader *r) {
  mm_free(r->buf);
  mm_buf_free(&r->big);
  r->buf = NULL;
}

/* Make at least k (<= cap) bytes available at buf[start..]. */
static int rd_need(proto_reader *r, size_t k) {
  while (r->end - r->start < k) {
    if (r->cap - r->start < k) {
      memmove(r->buf, r->buf + r->start, r->end - r->start);
      r->end -= r->start;
      r->start = 0;
    }
    int got = r->fill(r->ctx, r->buf + r->end, r->cap - r->end);
    if (got <= 0) return got == 0 && r->end == r->start ? PROTO_RD_EOF : PROTO_RD_IO;
    r->end += (size_t)got;
  }
  return PROTO_RD_OK;
}

int proto_reader_next(proto_reader *r, uint64_t max, const uint8_t **payload, size_t *len) {
  if (r->start == r->end) r->start = r->end = 0;
  if (r->big.cap > (1u << 20)) mm_buf_free(&r->big); /* do not pin huge buffers */
  int rc = rd_need(r, 4);
  if (rc) return rc;
  uint32_t flen = mm_get_u24le(r->buf + r->start);
  r->seq = r->buf[r->start + 3];
  if (flen > max) return PROTO_RD_TOO_BIG;
  if (flen < PROTO_MAX_FRAME && flen + 4 <= r->cap) {
    rc = rd_need(r, 4 + flen);
    if (rc) return rc == PROTO_RD_EOF ? PROTO_RD_IO : rc;
    *payload = r->buf + r->start + 4;
    *len = flen;
    r->start += 4 + flen;
    return PROTO_RD_OK;
  }
  /* Large or multi-frame packet: join into r->big. */
  mm_buf_reset(&r->big);
  uint64_t total = 0;
  for (;;) {
    r->start += 4;
    total += flen;
    if (total > max) return PROTO_RD_TOO_BIG;
    if (mm_buf_reserve(&r->big, flen) != MM_OK) return PROTO_RD_NOMEM;
    size_t have = MM_MIN(r->end - r->start, (size_t)flen);
    memcpy(r->big.p + r->big.len, r->buf + r->start, have);
    r->big.len += have;
    r->start += have;
    size_t want = flen - have;
    while (want) {
      int got = r->fill(r->ctx, (uint8_t *)r->big.p + r->big.len, want);
      if (got <= 0) return PROTO_RD_IO;
      r->big.len += (size_t)got;
      want -= (size_t)got;
    }
    if (flen < PROTO_MAX_FRAME) break;
    if (r->start == r->end) r->start = r->end = 0;
    rc = rd_need(r, 4);
    if (rc) return PROTO_RD_IO;
    flen = mm_get_u24le(r->buf + r->start);
    uint8_t s = r->buf[r->start + 3];
    if (s != (uint8_t)(r->seq + 1)) return PROTO_RD_ORDER;
    r->seq = s;
  }
  *payload = (const uint8_t *)r->big.p;
  *len = r->big.len;
  return PROTO_RD_OK;
}
