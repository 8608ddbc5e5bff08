/*
 * test/unit/test_proto.c - the pure protocol codecs (proto/codec.c):
 * lenenc, framing (split on write, join on read), OK/ERR/EOF, column
 * definitions, text and binary rows, handshake build/parse, auth scrambles
 * (vectors computed with PyMySQL's formulas), COM_STMT_EXECUTE parameters.
 */
#include <stdlib.h>

#include "proto/codec.h"
#include "unit.h"

static const uint8_t *U(const mm_buf *b) { return (const uint8_t *)b->p; }

static void hex2bin(const char *h, uint8_t *out) {
  for (size_t i = 0; h[2 * i]; i++) {
    unsigned v;
    sscanf(h + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

TEST(lenenc_roundtrip) {
  uint64_t vals[] = {0, 1, 250, 251, 252, 0xffff, 0x10000, 0xffffff, 0x1000000, UINT64_MAX};
  mm_buf b;
  mm_buf_init(&b);
  for (size_t i = 0; i < MM_ARRAY_SIZE(vals); i++) proto_put_lenenc(&b, vals[i]);
  proto_rd r;
  proto_rd_init(&r, b.p, b.len);
  for (size_t i = 0; i < MM_ARRAY_SIZE(vals); i++) {
    int isnull;
    CHECK(proto_rd_lenenc(&r, &isnull) == vals[i]);
    CHECK(!isnull && !r.bad);
  }
  CHECK_EQ_INT(proto_rd_left(&r), 0);
  CHECK_EQ_INT(proto_lenenc_size(250), 1);
  CHECK_EQ_INT(proto_lenenc_size(251), 3);
  CHECK_EQ_INT(proto_lenenc_size(0x10000), 4);
  CHECK_EQ_INT(proto_lenenc_size(0x1000000), 9);
  /* Truncated lenenc values are malformed, never over-read. */
  for (size_t cut = 0; cut < b.len; cut++) {
    proto_rd_init(&r, b.p, cut);
    for (int i = 0; i < 20; i++) proto_rd_lenenc(&r, NULL);
    CHECK(r.bad);
  }
  mm_buf_free(&b);
}

TEST(reader_bounds) {
  const uint8_t in[] = {0x03, 'a', 'b', 'c', 'x', 'y', 0, 0xfc, 0x01};
  proto_rd r;
  proto_rd_init(&r, in, sizeof in);
  size_t n;
  const uint8_t *s = proto_rd_lenenc_str(&r, &n);
  CHECK(s && n == 3 && memcmp(s, "abc", 3) == 0);
  const char *z = proto_rd_nulstr(&r, &n);
  CHECK(z && n == 2 && memcmp(z, "xy", 2) == 0);
  proto_rd_lenenc(&r, NULL); /* 0xfc needs two bytes, only one left */
  CHECK(r.bad);
  proto_rd_init(&r, "abc", 3);
  CHECK(proto_rd_nulstr(&r, &n) == NULL && r.bad);
  const uint8_t big[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  proto_rd_init(&r, big, sizeof big);
  CHECK(proto_rd_lenenc_str(&r, &n) == NULL && r.bad);
  const uint8_t ff[] = {0xff};
  proto_rd_init(&r, ff, 1);
  proto_rd_lenenc(&r, NULL);
  CHECK(r.bad);
}

TEST(ok_err_eof) {
  mm_buf b;
  mm_buf_init(&b);
  uint8_t seq = 1;
  proto_write_ok(&b, &seq, 3, 300, 0x0002, 1, "Rows matched: 1");
  CHECK_EQ_INT(seq, 2);
  /* The info text is length-encoded (MySQL's net_send_ok, libmariadb). */
  const uint8_t ok_hdr[] = {25, 0, 0, 1, 0x00, 3, 0xfc, 0x2c, 0x01, 0x02, 0x00, 0x01, 0x00, 15};
  CHECK(b.len == 4 + 25 && memcmp(b.p, ok_hdr, sizeof ok_hdr) == 0);
  CHECK(memcmp(b.p + 14, "Rows matched: 1", 15) == 0);
  mm_buf_reset(&b);
  proto_write_ok(&b, &seq, 0, 0, 0x0002, 0, NULL);
  const uint8_t ok_plain[] = {7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0};
  CHECK(b.len == sizeof ok_plain && memcmp(b.p, ok_plain, sizeof ok_plain) == 0);
  mm_buf_reset(&b);
  proto_write_err(&b, &seq, 1045, "28000", "Access denied");
  const uint8_t err_pkt[] = {22, 0, 0, 3, 0xff, 0x15, 0x04, '#', '2', '8', '0', '0', '0', 'A'};
  CHECK(b.len == 26 && memcmp(b.p, err_pkt, sizeof err_pkt) == 0);
  mm_buf_reset(&b);
  proto_write_end(&b, &seq, 0, 0x0022, 0);
  const uint8_t eof[] = {5, 0, 0, 4, 0xfe, 0, 0, 0x22, 0};
  CHECK(b.len == 9 && memcmp(b.p, eof, 9) == 0);
  mm_buf_reset(&b);
  proto_write_end(&b, &seq, 1, 0x0002, 0);
  const uint8_t eofok[] = {7, 0, 0, 5, 0xfe, 0, 0, 0x02, 0, 0, 0};
  CHECK(b.len == 11 && memcmp(b.p, eofok, 11) == 0);
  mm_buf_free(&b);
}

TEST(split_on_write) {
  mm_buf b;
  mm_buf_init(&b);
  size_t sizes[] = {PROTO_MAX_FRAME - 1, PROTO_MAX_FRAME, 2 * (size_t)PROTO_MAX_FRAME + 5};
  for (size_t t = 0; t < MM_ARRAY_SIZE(sizes); t++) {
    size_t len = sizes[t];
    mm_buf_reset(&b);
    uint8_t seq = 7;
    size_t off = proto_pkt_begin(&b);
    CHECK(mm_buf_reserve(&b, len) == MM_OK);
    for (size_t i = 0; i < len; i++) b.p[b.len + i] = (char)(i * 7 + 3);
    b.len += len;
    proto_pkt_end(&b, off, &seq);
    size_t frames = len / PROTO_MAX_FRAME + 1;
    CHECK_EQ_INT(seq, 7 + frames);
    CHECK_EQ_INT(b.len, len + 4 * frames);
    /* Walk the frames and check the payload bytes. */
    size_t pos = 0, got = 0;
    for (size_t f = 0; f < frames; f++) {
      uint32_t fl = mm_get_u24le(U(&b) + pos);
      CHECK_EQ_INT(U(&b)[pos + 3], 7 + f);
      CHECK_EQ_INT(fl, f + 1 < frames ? PROTO_MAX_FRAME : len - f * PROTO_MAX_FRAME);
      for (size_t i = 0; i < fl; i += 4099)
        CHECK_EQ_INT(U(&b)[pos + 4 + i], (uint8_t)((got + i) * 7 + 3));
      if (fl) CHECK_EQ_INT(U(&b)[pos + 4 + fl - 1], (uint8_t)((got + fl - 1) * 7 + 3));
      got += fl;
      pos += 4 + fl;
    }
    CHECK_EQ_INT(got, len);
  }
  mm_buf_free(&b);
}

/* A memory-backed fill function that returns at most `chunk` bytes. */
typedef struct memsrc {
  const uint8_t *p;
  size_t n, pos, chunk;
} memsrc;
static int mem_fill(void *ctx, uint8_t *p, size_t cap) {
  memsrc *m = ctx;
  size_t k = MM_MIN(cap, MM_MIN(m->chunk, m->n - m->pos));
  memcpy(p, m->p + m->pos, k);
  m->pos += k;
  return (int)k;
}

TEST(join_on_read) {
  /* Three packets: a small one, one of exactly 0xffffff (+ empty frame),
   * and one of 0xffffff + 10, then a small one. */
  mm_buf in;
  mm_buf_init(&in);
  uint8_t seq = 0;
  size_t off = proto_pkt_begin(&in);
  mm_buf_append(&in, "\x03select 1", 9);
  proto_pkt_end(&in, off, &seq);
  size_t lens[] = {PROTO_MAX_FRAME, PROTO_MAX_FRAME + 10};
  for (int t = 0; t < 2; t++) {
    seq = 0;
    off = proto_pkt_begin(&in);
    CHECK(mm_buf_reserve(&in, lens[t]) == MM_OK);
    memset(in.p + in.len, 'a' + t, lens[t]);
    in.len += lens[t];
    proto_pkt_end(&in, off, &seq);
  }
  seq = 0;
  off = proto_pkt_begin(&in);
  mm_buf_append(&in, "\x0e", 1);
  proto_pkt_end(&in, off, &seq);

  size_t chunks[] = {1, 7, 16384, 1 << 20};
  for (size_t ci = 0; ci < MM_ARRAY_SIZE(chunks); ci++) {
    if (chunks[ci] == 1) continue; /* too slow for 32 MB; 1-byte covered below */
    memsrc m = {U(&in), in.len, 0, chunks[ci]};
    proto_reader r;
    CHECK(proto_reader_init(&r, 16384, mem_fill, &m) == MM_OK);
    const uint8_t *p;
    size_t n;
    CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_OK);
    CHECK(n == 9 && memcmp(p, "\x03select 1", 9) == 0);
    CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_OK);
    CHECK_EQ_INT(n, PROTO_MAX_FRAME);
    CHECK(p[0] == 'a' && p[n - 1] == 'a');
    CHECK_EQ_INT(r.seq, 1);
    CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_OK);
    CHECK_EQ_INT(n, PROTO_MAX_FRAME + 10);
    CHECK(p[0] == 'b' && p[n - 1] == 'b');
    CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_OK);
    CHECK(n == 1 && p[0] == 0x0e);
    CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_EOF);
    proto_reader_free(&r);
  }
  /* max_allowed_packet: the joined size counts. */
  memsrc m = {U(&in), in.len, 0, 65536};
  proto_reader r;
  CHECK(proto_reader_init(&r, 16384, mem_fill, &m) == MM_OK);
  const uint8_t *p;
  size_t n;
  CHECK_EQ_INT(proto_reader_next(&r, 1000, &p, &n), PROTO_RD_OK);
  CHECK_EQ_INT(proto_reader_next(&r, 1000, &p, &n), PROTO_RD_TOO_BIG);
  proto_reader_free(&r);
  m = (memsrc){U(&in), in.len, 0, 65536};
  CHECK(proto_reader_init(&r, 16384, mem_fill, &m) == MM_OK);
  CHECK_EQ_INT(proto_reader_next(&r, 1000, &p, &n), PROTO_RD_OK);
  CHECK_EQ_INT(proto_reader_next(&r, PROTO_MAX_FRAME + 5, &p, &n), PROTO_RD_OK);
  CHECK_EQ_INT(proto_reader_next(&r, PROTO_MAX_FRAME + 5, &p, &n), PROTO_RD_TOO_BIG);
  proto_reader_free(&r);
  mm_buf_free(&in);
}

TEST(reader_small_and_errors) {
  /* Pipelined small packets, delivered one byte at a time. */
  const uint8_t in[] = {1, 0, 0, 0, 0x0e, 0, 0, 0, 0, 2, 0, 0, 0, 0x03, 'x'};
  memsrc m = {in, sizeof in, 0, 1};
  proto_reader r;
  CHECK(proto_reader_init(&r, 64, mem_fill, &m) == MM_OK);
  const uint8_t *p;
  size_t n;
  CHECK_EQ_INT(proto_reader_next(&r, 100, &p, &n), PROTO_RD_OK);
  CHECK(n == 1 && p[0] == 0x0e);
  CHECK_EQ_INT(proto_reader_next(&r, 100, &p, &n), PROTO_RD_OK);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(proto_reader_next(&r, 100, &p, &n), PROTO_RD_OK);
  CHECK(n == 2 && p[1] == 'x');
  CHECK_EQ_INT(proto_reader_next(&r, 100, &p, &n), PROTO_RD_EOF);
  proto_reader_free(&r);
  /* A header that claims 16 MB, then EOF: an I/O error, not a crash. */
  const uint8_t liar[] = {0xff, 0xff, 0xff, 0, 'a', 'b'};
  m = (memsrc){liar, sizeof liar, 0, 4096};
  CHECK(proto_reader_init(&r, 64, mem_fill, &m) == MM_OK);
  CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_IO);
  proto_reader_free(&r);
  /* Truncated header. */
  m = (memsrc){liar, 2, 0, 4096};
  CHECK(proto_reader_init(&r, 64, mem_fill, &m) == MM_OK);
  CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_IO);
  proto_reader_free(&r);
  /* Continuation frame with a wrong sequence id. */
  mm_buf b;
  mm_buf_init(&b);
  uint8_t seq = 0;
  size_t off = proto_pkt_begin(&b);
  CHECK(mm_buf_reserve(&b, PROTO_MAX_FRAME + 1) == MM_OK);
  memset(b.p + b.len, 'z', PROTO_MAX_FRAME + 1);
  b.len += PROTO_MAX_FRAME + 1;
  proto_pkt_end(&b, off, &seq);
  b.p[4 + PROTO_MAX_FRAME + 3] = 9;
  m = (memsrc){U(&b), b.len, 0, 1 << 20};
  CHECK(proto_reader_init(&r, 16384, mem_fill, &m) == MM_OK);
  CHECK_EQ_INT(proto_reader_next(&r, 64u << 20, &p, &n), PROTO_RD_ORDER);
  proto_reader_free(&r);
  mm_buf_free(&b);
}

TEST(coldef_and_rows) {
  mm_buf b;
  mm_buf_init(&b);
  uint8_t seq = 2;
  mm_col c = {.db = "d", .table = "t", .org_table = "t", .name = "id", .org_name = "id",
              .charset = 63, .length = 11, .type = MYSQL_TYPE_LONG,
              .flags = MM_FLAG_NOT_NULL | MM_FLAG_PRI_KEY, .decimals = 0};
  proto_write_coldef(&b, &seq, &c, 0);
  const uint8_t want[] = {3, 'd', 'e', 'f', 1, 'd', 1, 't', 1, 't', 2, 'i', 'd', 2, 'i', 'd',
                          0x0c, 63, 0, 11, 0, 0, 0, 3, 3, 0, 0, 0, 0};
  CHECK_EQ_INT(b.len, 4 + sizeof want);
  CHECK_EQ_INT(mm_get_u24le(U(&b)), sizeof want);
  CHECK_EQ_INT(U(&b)[3], 2);
  CHECK(memcmp(b.p + 4, want, sizeof want) == 0);
  mm_buf_reset(&b);
  proto_write_coldef(&b, &seq, &c, 1);
  CHECK_EQ_INT(b.len, 4 + sizeof want + 1);
  CHECK_EQ_INT(U(&b)[b.len - 1], 0xfb);

  /* NUM_FLAG only on numeric types. */
  mm_buf_reset(&b);
  mm_col bit = c;
  bit.type = MYSQL_TYPE_BIT;
  bit.flags = MM_FLAG_UNSIGNED | MM_FLAG_NUM;
  proto_write_coldef(&b, &seq, &bit, 0);
  CHECK_EQ_INT(mm_get_u16le(U(&b) + b.len - 5), MM_FLAG_UNSIGNED);
  mm_buf_reset(&b);
  bit.type = MYSQL_TYPE_LONG;
  proto_write_coldef(&b, &seq, &bit, 0);
  CHECK_EQ_INT(mm_get_u16le(U(&b) + b.len - 5), MM_FLAG_UNSIGNED | MM_FLAG_NUM);

  /* Names that are not valid UTF-8 are sanitised; valid ones are kept. */
  mm_buf_reset(&b);
  mm_col bad = c;
  bad.name = "\xff\x80" "a" "\xc3\xa9\xe4\xb8\xad\xed\xa0\x80";
  bad.org_name = "\xc3\xa9";
  proto_write_coldef(&b, &seq, &bad, 0);
  CHECK_EQ_INT(mm_get_u24le(U(&b)), b.len - 4);
  const uint8_t want_names[] = {11, '?', '?', 'a', 0xc3, 0xa9, 0xe4, 0xb8, 0xad, '?', '?', '?',
                                2, 0xc3, 0xa9, 0x0c};
  CHECK(memcmp(b.p + 4 + 10, want_names, sizeof want_names) == 0);

  mm_buf_reset(&b);
  mm_cell cells[3] = {{"42", 2, 0}, {NULL, 0, 1}, {"", 0, 0}};
  seq = 5;
  proto_write_text_row(&b, &seq, cells, 3);
  const uint8_t row[] = {5, 0, 0, 5, 2, '4', '2', 0xfb, 0};
  CHECK(b.len == sizeof row && memcmp(b.p, row, sizeof row) == 0);
  mm_buf_free(&b);
}

TEST(binary_row) {
  mm_buf b;
  mm_buf_init(&b);
  uint8_t seq = 0;
  uint8_t types[] = {MYSQL_TYPE_TINY,     MYSQL_TYPE_SHORT,    MYSQL_TYPE_LONG,
                     MYSQL_TYPE_LONGLONG, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_DOUBLE,
                     MYSQL_TYPE_FLOAT,    MYSQL_TYPE_DATE,     MYSQL_TYPE_DATETIME,
                     MYSQL_TYPE_TIME,     MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_VAR_STRING,
                     MYSQL_TYPE_LONG};
  uint16_t flags[13] = {0};
  flags[4] = MM_FLAG_UNSIGNED;
  mm_cell cells[13] = {
      {"-5", 2, 0},
      {"300", 3, 0},
      {"-70000", 6, 0},
      {"-9223372036854775808", 20, 0},
      {"18446744073709551615", 20, 0},
      {"1.5", 3, 0},
      {"2.25", 4, 0},
      {"2026-11-21", 10, 0},
      {"2026-11-21 10:00:01.5", 21, 0},
      {"-25:30:01", 9, 0},
      {"3.50", 4, 0},
      {NULL, 0, 1},
      {"abc", 3, 0}, /* unparsable number -> 0 */
  };
  proto_write_binary_row(&b, &seq, types, flags, cells, 13);
  const uint8_t *p = U(&b) + 4;
  size_t n = mm_get_u24le(U(&b));
  CHECK_EQ_INT(b.len, n + 4);
  CHECK_EQ_INT(p[0], 0);
  /* bitmap: 2 bytes for 13 cols + offset 2; col 11 -> bit 13 -> byte 1 bit 5 */
  CHECK_EQ_INT(p[1], 0);
  CHECK_EQ_INT(p[2], 1 << 5);
  p += 3;
  CHECK_EQ_INT((int8_t)p[0], -5);
  p += 1;
  CHECK_EQ_INT(mm_get_u16le(p), 300);
  p += 2;
  CHECK_EQ_INT((int32_t)mm_get_u32le(p), -70000);
  p += 4;
  CHECK((int64_t)mm_get_u64le(p) == INT64_MIN);
  p += 8;
  CHECK(mm_get_u64le(p) == UINT64_MAX);
  p += 8;
  double d;
  uint64_t u = mm_get_u64le(p);
  memcpy(&d, &u, 8);
  CHECK(d == 1.5);
  p += 8;
  uint32_t u32 = mm_get_u32le(p);
  float f;
  memcpy(&f, &u32, 4);
  CHECK(f == 2.25f);
  p += 4;
  const uint8_t date[] = {4, 0xea, 0x07, 11, 21};
  CHECK(memcmp(p, date, 5) == 0);
  p += 5;
  const uint8_t dt[] = {11, 0xea, 0x07, 11, 21, 10, 0, 1, 0x20, 0xa1, 0x07, 0};
  CHECK(memcmp(p, dt, 12) == 0);
  p += 12;
  const uint8_t tm[] = {8, 1, 1, 0, 0, 0, 1, 30, 1};
  CHECK(memcmp(p, tm, 9) == 0);
  p += 9;
  CHECK(p[0] == 4 && memcmp(p + 1, "3.50", 4) == 0);
  p += 5;
  CHECK_EQ_INT(mm_get_u32le(p), 0);
  p += 4;
  CHECK(p == U(&b) + b.len);

  uint8_t out[16];
  CHECK_EQ_INT(proto_bin_datetime("0000-00-00 00:00:00", 19, out), 1);
  CHECK_EQ_INT(proto_bin_datetime("garbage", 7, out), 1);
  CHECK_EQ_INT(proto_bin_datetime("2020-01-02 03:04:05", 19, out), 8);
  CHECK_EQ_INT(proto_bin_time("00:00:00", 8, out), 1);
  CHECK_EQ_INT(proto_bin_time("838:59:59.000001", 16, out), 13);
  CHECK_EQ_INT(mm_get_u32le(out + 2), 34);
  mm_buf_free(&b);
}

TEST(handshake_and_response) {
  uint8_t scramble[20];
  CHECK(proto_make_scramble(scramble) == MM_OK);
  for (int i = 0; i < 20; i++) CHECK(scramble[i] != 0 && scramble[i] != '$' && scramble[i] < 128);
  mm_buf b;
  mm_buf_init(&b);
  proto_write_handshake(&b, 7, scramble, PROTO_SERVER_CAPS, 45, 2, "5.7.99-mmsql-0.1",
                        "mysql_native_password");
  proto_rd r;
  proto_rd_init(&r, b.p + 4, b.len - 4);
  CHECK_EQ_INT(proto_rd_u8(&r), 10);
  size_t n;
  CHECK_EQ_STR(proto_rd_nulstr(&r, &n), "5.7.99-mmsql-0.1");
  CHECK_EQ_INT(proto_rd_u32(&r), 7);
  CHECK(memcmp(proto_rd_bytes(&r, 8), scramble, 8) == 0);
  proto_rd_u8(&r);
  uint32_t caps = proto_rd_u16(&r);
  CHECK_EQ_INT(proto_rd_u8(&r), 45);
  CHECK_EQ_INT(proto_rd_u16(&r), 2);
  caps |= (uint32_t)proto_rd_u16(&r) << 16;
  CHECK_EQ_INT(caps, PROTO_SERVER_CAPS);
  CHECK(caps & PROTO_CLIENT_MYSQL);
  CHECK(!(caps & PROTO_CLIENT_SSL));
  CHECK_EQ_INT(proto_rd_u8(&r), 21);
  proto_rd_bytes(&r, 10);
  CHECK(memcmp(proto_rd_bytes(&r, 12), scramble + 8, 12) == 0);
  CHECK_EQ_INT(proto_rd_u8(&r), 0);
  CHECK_EQ_STR(proto_rd_nulstr(&r, &n), "mysql_native_password");
  CHECK(!r.bad && proto_rd_left(&r) == 0);

  /* A HandshakeResponse41 as libmariadb sends it. */
  mm_buf hr;
  mm_buf_init(&hr);
  uint32_t cc = PROTO_CLIENT_PROTOCOL_41 | PROTO_CLIENT_SECURE_CONNECTION |
                PROTO_CLIENT_PLUGIN_AUTH | PROTO_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
                PROTO_CLIENT_CONNECT_WITH_DB | PROTO_CLIENT_CONNECT_ATTRS;
  proto_put_u32(&hr, cc);
  proto_put_u32(&hr, 1 << 24);
  proto_put_u8(&hr, 45);
  for (int i = 0; i < 23; i++) proto_put_u8(&hr, 0);
  mm_buf_append(&hr, "root", 5);
  proto_put_lenenc_str(&hr, "01234567890123456789", 20);
  mm_buf_append(&hr, "sbtest", 7);
  mm_buf_append(&hr, "mysql_native_password", 22);
  proto_put_lenenc(&hr, 12);
  proto_put_lenenc_str(&hr, "_os", 3);
  proto_put_lenenc_str(&hr, "Linux", 5);
  proto_put_lenenc_str(&hr, "_p", 2);
  proto_hs_resp hs;
  /* Attrs block claims 12 bytes but has 14: malformed. Fix it. */
  CHECK_EQ_INT(proto_parse_handshake_response(U(&hr), hr.len, &hs), MM_EINVAL);
  hr.len -= 3;
  CHECK_EQ_INT(proto_parse_handshake_response(U(&hr), hr.len, &hs), MM_EINVAL);
  mm_buf_reset(&hr);
  proto_put_u32(&hr, cc);
  proto_put_u32(&hr, 1 << 24);
  proto_put_u8(&hr, 45);
  for (int i = 0; i < 23; i++) proto_put_u8(&hr, 0);
  mm_buf_append(&hr, "root", 5);
  proto_put_lenenc_str(&hr, "01234567890123456789", 20);
  mm_buf_append(&hr, "sbtest", 7);
  mm_buf_append(&hr, "mysql_native_password", 22);
  proto_put_lenenc(&hr, 10);
  proto_put_lenenc_str(&hr, "_os", 3);
  proto_put_lenenc_str(&hr, "Linux", 5);
  CHECK_EQ_INT(proto_parse_handshake_response(U(&hr), hr.len, &hs), MM_OK);
  CHECK(hs.user_len == 4 && memcmp(hs.user, "root", 4) == 0);
  CHECK(hs.auth_len == 20 && memcmp(hs.auth, "0123456789", 10) == 0);
  CHECK(hs.db_len == 6 && memcmp(hs.db, "sbtest", 6) == 0);
  CHECK(hs.plugin_len == 21);
  CHECK_EQ_INT(hs.charset, 45);
  /* Every truncation is either a clean parse or EINVAL. */
  for (size_t cut = 0; cut < hr.len; cut++) {
    int rc = proto_parse_handshake_response(U(&hr), cut, &hs);
    CHECK(rc == MM_OK || rc == MM_EINVAL);
    if (cut < 33) CHECK(rc == MM_EINVAL);
  }
  /* SSLRequest: exactly 32 bytes with CLIENT_SSL. */
  mm_buf_reset(&hr);
  proto_put_u32(&hr, cc | PROTO_CLIENT_SSL);
  proto_put_u32(&hr, 0);
  proto_put_u8(&hr, 33);
  for (int i = 0; i < 23; i++) proto_put_u8(&hr, 0);
  CHECK_EQ_INT(proto_parse_handshake_response(U(&hr), hr.len, &hs), MM_OK);
  CHECK(hs.is_ssl_request);
  /* Pre-4.1 clients are refused. */
  hr.p[1] &= (char)~(PROTO_CLIENT_PROTOCOL_41 >> 8);
  CHECK_EQ_INT(proto_parse_handshake_response(U(&hr), hr.len, &hs), MM_EINVAL);
  mm_buf_free(&hr);
  mm_buf_free(&b);
}

TEST(auth_vectors) {
  uint8_t sc[20], tok[32], want[32], stored1[20], stored2[32];
  for (int i = 0; i < 20; i++) sc[i] = (uint8_t)(i + 1);
  /* Computed with PyMySQL's scramble_native_password / scramble_caching_sha2. */
  hex2bin("b32bb3a583e1340c0a1108d58b1be49781ad8c2f", want);
  hex2bin("14e65567abdb5135d0cfd9a70b3032c179a49ee7", stored1);
  proto_native_token("secret", 6, sc, tok);
  CHECK(memcmp(tok, want, 20) == 0);
  CHECK(proto_native_check(sc, tok, 20, stored1));
  CHECK(!proto_native_check(sc, tok, 19, stored1));
  tok[3] ^= 1;
  CHECK(!proto_native_check(sc, tok, 20, stored1));
  proto_native_token("secreT", 6, sc, tok);
  CHECK(!proto_native_check(sc, tok, 20, stored1));

  hex2bin("746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9", want);
  hex2bin("3881219d087dd9c634373fd33dfa33a2cb6bfc6c520b64b8bb60ef2ceb534ae7", stored2);
  proto_sha2_token("secret", 6, sc, tok);
  CHECK(memcmp(tok, want, 32) == 0);
  CHECK(proto_sha2_check(sc, tok, 32, stored2));
  CHECK(!proto_sha2_check(sc, tok, 20, stored2));
  tok[31] ^= 0x80;
  CHECK(!proto_sha2_check(sc, tok, 32, stored2));
}

/* Build a COM_STMT_EXECUTE payload (after the command byte). */
static void exec_hdr(mm_buf *b, uint32_t id) {
  proto_put_u32(b, id);
  proto_put_u8(b, 0);
  proto_put_u32(b, 1);
}

TEST(execute_params) {
  proto_stmt_params st;
  CHECK(proto_stmt_params_init(&st, 5) == MM_OK);
  mm_value v[5];
  mm_buf scratch, b;
  mm_buf_init(&scratch);
  mm_buf_init(&b);
  uint8_t fl;

  /* First execute: types bound; param 2 NULL. */
  exec_hdr(&b, 1);
  proto_put_u8(&b, 0x04); /* null bitmap: param 2 */
  proto_put_u8(&b, 1);
  uint8_t types[] = {MYSQL_TYPE_LONGLONG, 0,    MYSQL_TYPE_VAR_STRING, 0,
                     MYSQL_TYPE_LONG,     0,    MYSQL_TYPE_DATETIME,   0,
                     MYSQL_TYPE_LONGLONG, 0x80};
  mm_buf_append(&b, types, sizeof types);
  uint8_t ll[8];
  mm_put_u64le(ll, (uint64_t)-42);
  mm_buf_append(&b, ll, 8);
  proto_put_lenenc_str(&b, "hello", 5);
  const uint8_t dt[] = {11, 0xea, 0x07, 11, 21, 10, 0, 1, 0x01, 0, 0, 0};
  mm_buf_append(&b, dt, sizeof dt);
  mm_put_u64le(ll, UINT64_MAX);
  mm_buf_append(&b, ll, 8);
  CHECK_EQ_INT(proto_parse_execute(U(&b), b.len, &st, v, &scratch, &fl), MM_OK);
  CHECK(v[0].kind == MM_V_INT && v[0].i == -42);
  CHECK(v[1].kind == MM_V_TEXT && v[1].n == 5 && memcmp(v[1].p, "hello", 5) == 0);
  CHECK(v[2].kind == MM_V_NULL);
  CHECK(v[3].kind == MM_V_TEXT && v[3].n == 26 &&
        memcmp(v[3].p, "2026-11-21 10:00:01.000001", 26) == 0);
  CHECK(v[4].kind == MM_V_UINT && (uint64_t)v[4].i == UINT64_MAX);
  /* Every truncation fails cleanly. */
  for (size_t cut = 0; cut < b.len; cut++)
    CHECK_EQ_INT(proto_parse_execute(U(&b), cut, &st, v, &scratch, &fl), MM_EINVAL);

  /* Second execute: new_params_bound = 0, types reused (sysbench). */
  mm_buf_reset(&b);
  exec_hdr(&b, 1);
  proto_put_u8(&b, 0x1d); /* params 0,2,3,4 NULL */
  proto_put_u8(&b, 0);
  proto_put_lenenc_str(&b, "x", 1);
  CHECK_EQ_INT(proto_parse_execute(U(&b), b.len, &st, v, &scratch, &fl), MM_OK);
  CHECK(v[0].kind == MM_V_NULL && v[1].kind == MM_V_TEXT && v[1].n == 1);

  /* Long data replaces the value of its parameter (not in the packet). */
  CHECK(proto_stmt_long_data(&st, 1, "long ", 5) == MM_OK);
  CHECK(proto_stmt_long_data(&st, 1, "data", 4) == MM_OK);
  CHECK(proto_stmt_long_data(&st, 9, "x", 1) == MM_EINVAL);
  mm_buf_reset(&b);
  exec_hdr(&b, 1);
  proto_put_u8(&b, 0x1d);
  proto_put_u8(&b, 0);
  CHECK_EQ_INT(proto_parse_execute(U(&b), b.len, &st, v, &scratch, &fl), MM_OK);
  CHECK(v[1].kind == MM_V_TEXT && v[1].n == 9 && memcmp(v[1].p, "long data", 9) == 0);
  proto_stmt_clear_long(&st);
  CHECK_EQ_INT(proto_parse_execute(U(&b), b.len, &st, v, &scratch, &fl), MM_EINVAL);
  proto_stmt_params_free(&st);

  /* No types ever bound -> malformed. */
  CHECK(proto_stmt_params_init(&st, 1) == MM_OK);
  mm_buf_reset(&b);
  exec_hdr(&b, 2);
  proto_put_u8(&b, 0);
  proto_put_u8(&b, 0);
  proto_put_u8(&b, 5);
  CHECK_EQ_INT(proto_parse_execute(U(&b), b.len, &st, v, &scratch, &fl), MM_EINVAL);
  /* Each type decodes; unknown type codes are refused. */
  struct {
    uint8_t type, flags;
    const uint8_t *val;
    size_t n;
    int kind;
    const char *text;
  } cases[] = {
      {MYSQL_TYPE_TINY, 0, (const uint8_t *)"\xff", 1, MM_V_INT, NULL},
      {MYSQL_TYPE_TINY, 0x80, (const uint8_t *)"\xff", 1, MM_V_INT, NULL},
      {MYSQL_TYPE_SHORT, 0, (const uint8_t *)"\x00\x80", 2, MM_V_INT, NULL},
      {MYSQL_TYPE_DOUBLE, 0, (const uint8_t *)"\x00\x00\x00\x00\x00\x00\xf8\x3f", 8, MM_V_DOUBLE,
       NULL},
      {MYSQL_TYPE_FLOAT, 0, (const uint8_t *)"\x00\x00\xc0\x3f", 4, MM_V_DOUBLE, NULL},
      {MYSQL_TYPE_DATE, 0, (const uint8_t *)"\x04\xea\x07\x0b\x15", 5, MM_V_TEXT, "2026-11-21"},
      {MYSQL_TYPE_DATETIME, 0, (const uint8_t *)"\x00", 1, MM_V_TEXT, "0000-00-00 00:00:00"},
      {MYSQL_TYPE_TIME, 0, (const uint8_t *)"\x08\x01\x01\x00\x00\x00\x02\x03\x04", 9, MM_V_TEXT,
       "-26:03:04"},
      {MYSQL_TYPE_NEWDECIMAL, 0, (const uint8_t *)"\x04\x31\x2e\x35\x30", 5, MM_V_TEXT, "1.50"},
      {MYSQL_TYPE_BLOB, 0, (const uint8_t *)"\x02\x00\xff", 3, MM_V_BLOB, NULL},
      {MYSQL_TYPE_NULL, 0, (const uint8_t *)"", 0, MM_V_NULL, NULL},
      {100, 0, (const uint8_t *)"\x01", 1, -1, NULL},
  };
  for (size_t i = 0; i < MM_ARRAY_SIZE(cases); i++) {
    mm_buf_reset(&b);
    exec_hdr(&b, 2);
    proto_put_u8(&b, 0);
    proto_put_u8(&b, 1);
    proto_put_u8(&b, cases[i].type);
    proto_put_u8(&b, cases[i].flags);
    mm_buf_append(&b, cases[i].val, cases[i].n);
    int rc = proto_parse_execute(U(&b), b.len, &st, v, &scratch, &fl);
    if (cases[i].kind < 0) {
      CHECK_EQ_INT(rc, MM_EINVAL);
      continue;
    }
    CHECK_EQ_INT(rc, MM_OK);
    CHECK_EQ_INT(v[0].kind, cases[i].kind);
    if (cases[i].text) {
      CHECK_EQ_INT(v[0].n, strlen(cases[i].text));
      CHECK(memcmp(v[0].p, cases[i].text, v[0].n) == 0);
    }
  }
  CHECK_EQ_INT(v[0].kind, MM_V_NULL);
  proto_stmt_params_free(&st);
  mm_buf_free(&b);
  mm_buf_free(&scratch);
}

TEST(execute_int_values) {
  proto_stmt_params st;
  CHECK(proto_stmt_params_init(&st, 3) == MM_OK);
  mm_value v[3];
  mm_buf scratch, b;
  mm_buf_init(&scratch);
  mm_buf_init(&b);
  exec_hdr(&b, 3);
  proto_put_u8(&b, 0);
  proto_put_u8(&b, 1);
  const uint8_t types[] = {MYSQL_TYPE_TINY, 0, MYSQL_TYPE_TINY, 0x80, MYSQL_TYPE_LONG, 0x80};
  mm_buf_append(&b, types, sizeof types);
  mm_buf_append(&b, "\xff\xff\xff\xff\xff\xff", 6);
  CHECK_EQ_INT(proto_parse_execute(U(&b), b.len, &st, v, &scratch, NULL), MM_OK);
  CHECK_EQ_INT(v[0].i, -1);
  CHECK_EQ_INT(v[1].i, 255);
  CHECK_EQ_INT(v[2].i, 4294967295LL);
  proto_stmt_params_free(&st);
  mm_buf_free(&b);
  mm_buf_free(&scratch);
}

TEST(change_user_parse) {
  mm_buf b;
  mm_buf_init(&b);
  mm_buf_append(&b, "bob", 4);
  proto_put_u8(&b, 20);
  mm_buf_append(&b, "01234567890123456789", 20);
  mm_buf_append(&b, "db1", 4);
  proto_put_u16(&b, 45);
  mm_buf_append(&b, "mysql_native_password", 22);
  proto_change_user cu;
  uint32_t caps = PROTO_CLIENT_SECURE_CONNECTION | PROTO_CLIENT_PLUGIN_AUTH;
  CHECK_EQ_INT(proto_parse_change_user(U(&b), b.len, caps, &cu), MM_OK);
  CHECK(cu.user_len == 3 && cu.auth_len == 20 && cu.db_len == 3 && cu.charset == 45);
  CHECK(cu.plugin_len == 21);
  for (size_t cut = 0; cut < b.len; cut++) {
    int rc = proto_parse_change_user(U(&b), cut, caps, &cu);
    CHECK(rc == MM_OK || rc == MM_EINVAL);
  }
  mm_buf_free(&b);
}

TEST(prepare_ok) {
  mm_buf b;
  mm_buf_init(&b);
  uint8_t seq = 1;
  proto_write_prepare_ok(&b, &seq, 5, 2, 3, 0);
  const uint8_t want[] = {12, 0, 0, 1, 0, 5, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0};
  CHECK(b.len == sizeof want && memcmp(b.p, want, sizeof want) == 0);
  mm_buf_free(&b);
}

int main(void) {
  RUN(lenenc_roundtrip);
  RUN(reader_bounds);
  RUN(ok_err_eof);
  RUN(split_on_write);
  RUN(join_on_read);
  RUN(reader_small_and_errors);
  RUN(coldef_and_rows);
  RUN(binary_row);
  RUN(handshake_and_response);
  RUN(auth_vectors);
  RUN(execute_params);
  RUN(execute_int_values);
  RUN(change_user_parse);
  RUN(prepare_ok);
  return unit_report("proto");
}
