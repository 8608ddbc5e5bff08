/*
 * raft/raft_codec.c - message, log-record and configuration encodings.
 *
 * Message (all little-endian):
 *   u8 version(1) u8 type u16 flags
 *   u64 from, to, term, index, log_term, commit, reject, seq, req_id
 *   i32 status  u32 n_entries
 *   n_entries x entry
 *   SNAPSHOT only: u64 snap.index, u64 snap.term, config
 * Entry:  u64 term, index, origin, req_id; u32 type; u32 len; len bytes
 * Config: u32 n (<= 16); n x (u64 id, u8 voter)
 * Record: u32 body length, u32 crc32c(body), body = entry
 *
 * Decoders treat input as hostile: bounds are checked before every read.
 */
#include "raft/raft_codec.h"

#include <string.h>

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
  __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t n) {
  while (n >= 8) {
    uint32_t lo = crc ^ (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24);
    crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
          crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
          crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The SSE4.2 crc32 instruction computes exactly this CRC (Castagnoli,
 * reflected), 8 bytes per instruction: several times faster than the
 * table.  Used when the CPU has it (checked once). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
    p += 8;
    n -= 8;
  }
  crc = (uint32_t)c;
  while (n--) crc = __builtin_ia32_crc32qi(crc, *p++);
  return crc;
}
static int crc_hw; /* 0 unknown, 1 yes, -1 no */
#endif

uint32_t raft_crc32c(uint32_t crc, const void *buf, size_t n) {
  const unsigned char *p = buf;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  int hw = __atomic_load_n(&crc_hw, __ATOMIC_RELAXED);
  if (!hw) {
    __builtin_cpu_init();
    hw = __builtin_cpu_supports("sse4.2") ? 1 : -1;
    __atomic_store_n(&crc_hw, hw, __ATOMIC_RELAXED);
  }
  if (hw > 0) return ~crc32c_hw(~crc, p, n);
#endif
  if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) crc_init(); /* idempotent: same table */
  return ~crc32c_sw(~crc, p, n);
}

/* ---- writer / reader helpers ---------------------------------------------------- */

static int put64(mm_buf *b, uint64_t v) {
  unsigned char t[8];
  mm_put_u64le(t, v);
  return mm_buf_append(b, t, 8);
}
static int put32(mm_buf *b, uint32_t v) {
  unsigned char t[4];
  mm_put_u32le(t, v);
  return mm_buf_append(b, t, 4);
}

typedef struct rd {
  const unsigned char *p;
  size_t n, off;
  int bad;
} rd;
static uint64_t get64(rd *r) {
  if (r->n - r->off < 8) { r->bad = 1; r->off = r->n; return 0; }
  uint64_t v = mm_get_u64le(r->p + r->off);
  r->off += 8;
  return v;
}
static uint32_t get32(rd *r) {
  if (r->n - r->off < 4) { r->bad = 1; r->off = r->n; return 0; }
  uint32_t v = mm_get_u32le(r->p + r->off);
  r->off += 4;
  return v;
}
static uint8_t get8(rd *r) {
  if (r->n - r->off < 1) { r->bad = 1; return 0; }
  return r->p[r->off++];
}

/* ---- config ------------------------------------------------------------------------ */

int raft_config_encode(const raft_config *c, mm_buf *b) {
  put32(b, c->n);
  for (uint32_t i = 0; i < c->n && i < RAFT_MAX_MEMBERS; i++) {
    put64(b, c->m[i].id);
    mm_buf_putc(b, c->m[i].voter ? 1 : 0);
  }
  return b->oom ? MM_ENOMEM : MM_OK;
}

static int config_read(rd *r, raft_config *c) {
  memset(c, 0, sizeof *c);
  uint32_t n = get32(r);
  if (r->bad || n > RAFT_MAX_MEMBERS) return MM_EINVAL;
  for (uint32_t i = 0; i < n; i++) {
    c->m[i].id = get64(r);
    uint8_t v = get8(r);
    if (r->bad || !c->m[i].id || v > 1) return MM_EINVAL;
    for (uint32_t k = 0; k < i; k++) if (c->m[k].id == c->m[i].id) return MM_EINVAL;
    c->m[i].voter = v;
  }
  c->n = n;
  return MM_OK;
}

int raft_config_decode(const unsigned char *p, size_t n, raft_config *c) {
  rd r = {p, n, 0, 0};
  if (!p) return MM_EINVAL;
  int rc = config_read(&r, c);
  if (rc == MM_OK && r.off != n) return MM_EINVAL;
  return rc;
}

/* ---- entries ------------------------------------------------------------------------ */

/* Writers into memory reserved beforehand (one mm_buf_reserve per message
 * or record instead of one append per field). */
static unsigned char *w64(unsigned char *p, uint64_t v) {
  mm_put_u64le(p, v);
  return p + 8;
}
static unsigned char *w32(unsigned char *p, uint32_t v) {
  mm_put_u32le(p, v);
  return p + 4;
}

#define ENTRY_HDR 40 /* term, index, origin, req_id, type, len */

static unsigned char *entry_put(unsigned char *p, const raft_entry *e) {
  p = w64(p, e->term);
  p = w64(p, e->index);
  p = w64(p, e->origin);
  p = w64(p, e->req_id);
  p = w32(p, e->type);
  p = w32(p, e->len);
  if (e->len) memcpy(p, e->data, e->len);
  return p + e->len;
}

/* On MM_OK e holds a fresh reference (len > 0) or none. */
static int entry_read(rd *r, raft_entry *e) {
  memset(e, 0, sizeof *e);
  raft_term term = get64(r);
  raft_index index = get64(r);
  raft_id origin = get64(r);
  uint64_t req = get64(r);
  uint32_t type = get32(r);
  uint32_t len = get32(r);
  if (r->bad || len > RAFT_MAX_ENTRY_BYTES || len > r->n - r->off) return MM_EINVAL;
  if (type < RAFT_ENTRY_NORMAL || type > RAFT_ENTRY_CONF) return MM_EINVAL;
  int rc = raft_entry_init(e, r->p + r->off, len);
  if (rc != MM_OK) return rc;
  r->off += len;
  e->term = term;
  e->index = index;
  e->origin = origin;
  e->req_id = req;
  e->type = type;
  return MM_OK;
}

/* ---- messages ----------------------------------------------------------------------- */

#define MSG_HDR (4 + 9 * 8 + 4 + 4)

int raft_msg_encode(const raft_msg *m, mm_buf *b) {
  size_t size = MSG_HDR;
  for (uint32_t i = 0; i < m->n_entries; i++) size += ENTRY_HDR + (size_t)m->entries[i].len;
  if (mm_buf_reserve(b, size) != MM_OK) return MM_ENOMEM;
  unsigned char *p = (unsigned char *)b->p + b->len, *start = p;
  *p++ = RAFT_CODEC_VERSION;
  *p++ = (unsigned char)m->type;
  *p++ = (unsigned char)m->flags;
  *p++ = (unsigned char)(m->flags >> 8);
  p = w64(p, m->from);
  p = w64(p, m->to);
  p = w64(p, m->term);
  p = w64(p, m->index);
  p = w64(p, m->log_term);
  p = w64(p, m->commit);
  p = w64(p, m->reject);
  p = w64(p, m->seq);
  p = w64(p, m->req_id);
  p = w32(p, (uint32_t)m->status);
  p = w32(p, m->n_entries);
  for (uint32_t i = 0; i < m->n_entries; i++) p = entry_put(p, &m->entries[i]);
  b->len += (size_t)(p - start);
  b->p[b->len] = 0;
  if (m->type == RAFT_MSG_SNAPSHOT) {
    unsigned char t[16];
    mm_put_u64le(t, m->snap.index);
    mm_put_u64le(t + 8, m->snap.term);
    mm_buf_append(b, t, sizeof t);
    raft_config_encode(&m->snap.conf, b);
  }
  return b->oom ? MM_ENOMEM : MM_OK;
}

void raft_msg_release(raft_msg *m) {
  for (uint32_t i = 0; i < m->n_entries; i++) raft_entry_unref(&m->entries[i]);
  mm_free(m->entries);
  m->entries = NULL;
  m->n_entries = 0;
}

int raft_msg_decode(const void *p, size_t n, raft_msg *m) {
  memset(m, 0, sizeof *m);
  rd r = {p, n, 0, 0};
  if (n < 4) return MM_EINVAL;
  const unsigned char *h = p;
  if (h[0] != RAFT_CODEC_VERSION || h[1] == 0 || h[1] >= RAFT_MSG__MAX) return MM_EINVAL;
  m->type = h[1];
  m->flags = (uint32_t)(h[2] | h[3] << 8);
  r.off = 4;
  m->from = get64(&r);
  m->to = get64(&r);
  m->term = get64(&r);
  m->index = get64(&r);
  m->log_term = get64(&r);
  m->commit = get64(&r);
  m->reject = get64(&r);
  m->seq = get64(&r);
  m->req_id = get64(&r);
  m->status = (int32_t)get32(&r);
  uint32_t ne = get32(&r);
  if (r.bad) goto bad;
  /* Each entry needs at least 40 bytes: refuse absurd counts before allocating. */
  if (ne > (n - r.off) / 40) goto bad;
  if (ne) {
    m->entries = mm_calloc(ne, sizeof(raft_entry));
    if (!m->entries) { memset(m, 0, sizeof *m); return MM_ENOMEM; }
  }
  for (uint32_t i = 0; i < ne; i++) {
    int rc = entry_read(&r, &m->entries[i]);
    if (rc != MM_OK) {
      raft_msg_release(m);
      memset(m, 0, sizeof *m);
      return rc;
    }
    m->n_entries = i + 1;
  }
  if (m->type == RAFT_MSG_SNAPSHOT) {
    m->snap.index = get64(&r);
    m->snap.term = get64(&r);
    if (r.bad || config_read(&r, &m->snap.conf) != MM_OK) {
      raft_msg_release(m);
      goto bad;
    }
  }
  if (r.off != n) {
    raft_msg_release(m);
    goto bad;
  }
  return MM_OK;
bad:
  memset(m, 0, sizeof *m);
  return MM_EINVAL;
}

/* ---- log records --------------------------------------------------------------------- */

int raft_record_encode(const raft_entry *e, mm_buf *b) {
  size_t body = ENTRY_HDR + (size_t)e->len;
  if (mm_buf_reserve(b, RAFT_RECORD_HDR + body) != MM_OK) return MM_ENOMEM;
  unsigned char *h = (unsigned char *)b->p + b->len;
  entry_put(h + RAFT_RECORD_HDR, e);
  mm_put_u32le(h, (uint32_t)body);
  mm_put_u32le(h + 4, raft_crc32c(0, h + RAFT_RECORD_HDR, body));
  b->len += RAFT_RECORD_HDR + body;
  b->p[b->len] = 0;
  return MM_OK;
}

int raft_record_decode(const void *p, size_t n, raft_entry *e, size_t *used) {
  memset(e, 0, sizeof *e);
  const unsigned char *h = p;
  if (n < RAFT_RECORD_HDR) return MM_EAGAIN;
  uint32_t len = mm_get_u32le(h);
  uint32_t crc = mm_get_u32le(h + 4);
  if (len < 40 || len > RAFT_MAX_ENTRY_BYTES + 40) return MM_ECORRUPT;
  if (n - RAFT_RECORD_HDR < len) return MM_EAGAIN;
  if (raft_crc32c(0, h + RAFT_RECORD_HDR, len) != crc) return MM_ECORRUPT;
  rd r = {h + RAFT_RECORD_HDR, len, 0, 0};
  int rc = entry_read(&r, e);
  if (rc == MM_ENOMEM) return rc;
  if (rc != MM_OK || r.off != len) {
    raft_entry_unref(e);
    return MM_ECORRUPT;
  }
  *used = RAFT_RECORD_HDR + len;
  return MM_OK;
}
