/* test/unit/test_table_codec.c - key order properties, row round trips,
 * collation. */
#include <math.h>
#include <stdlib.h>

#include "table/codec.h"
#include "unit.h"

static int keycmp(int kc, tbl_val a, tbl_val b) {
  mm_buf x, y;
  mm_buf_init(&x);
  mm_buf_init(&y);
  codec_key_append(&x, kc, &a, 0);
  codec_key_append(&y, kc, &b, 0);
  size_t m = MM_MIN(x.len, y.len);
  int c = memcmp(x.p, y.p, m);
  if (c == 0) c = x.len < y.len ? -1 : x.len > y.len;
  c = c < 0 ? -1 : c > 0;
  /* the component must be skippable to exactly its length */
  long s1 = codec_key_skip((unsigned char *)x.p, x.len, kc);
  long s2 = codec_key_skip((unsigned char *)y.p, y.len, kc);
  if (s1 != (long)x.len || s2 != (long)y.len) c = 99;
  mm_buf_free(&x);
  mm_buf_free(&y);
  return c;
}
static tbl_val I(int64_t i) { tbl_val v = {.t = CODEC_T_INT, .i = i}; return v; }
static tbl_val U(uint64_t u) { tbl_val v = {.t = CODEC_T_UINT, .u = u}; return v; }
static tbl_val D(double d) { tbl_val v = {.t = CODEC_T_DOUBLE, .d = d}; return v; }
static tbl_val S(const char *s) { tbl_val v = {.t = CODEC_T_TEXT, .p = s, .n = strlen(s)}; return v; }
static tbl_val N(void) { tbl_val v = {.t = CODEC_T_NULL}; return v; }

TEST(int_order) {
  int64_t vals[] = {INT64_MIN, -1000000, -256, -1, 0, 1, 255, 256, 65536, INT64_MAX};
  int n = MM_ARRAY_SIZE(vals);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) CHECK_EQ_INT(keycmp(CODEC_K_INT, I(vals[i]), I(vals[j])), i < j ? -1 : i > j);
  CHECK_EQ_INT(keycmp(CODEC_K_INT, N(), I(INT64_MIN)), -1);
  for (int k = 0; k < 10000; k++) {
    int64_t a = (int64_t)((uint64_t)rand() << 33 ^ (uint64_t)rand() << 2) * (rand() & 1 ? 1 : -1);
    int64_t b = (int64_t)((uint64_t)rand() << 33 ^ (uint64_t)rand()) * (rand() & 1 ? 1 : -1);
    CHECK_EQ_INT(keycmp(CODEC_K_INT, I(a), I(b)), a < b ? -1 : a > b);
  }
}

TEST(uint_order) {
  uint64_t vals[] = {0, 1, 255, 256, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
  int n = MM_ARRAY_SIZE(vals);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) CHECK_EQ_INT(keycmp(CODEC_K_UINT, U(vals[i]), U(vals[j])), i < j ? -1 : i > j);
}

TEST(double_order) {
  double vals[] = {-INFINITY, -1e300, -2.5, -1, -1e-300, 0, 1e-300, 0.5, 1, 3.25, 1e300, INFINITY};
  int n = MM_ARRAY_SIZE(vals);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) CHECK_EQ_INT(keycmp(CODEC_K_DOUBLE, D(vals[i]), D(vals[j])), i < j ? -1 : i > j);
  CHECK_EQ_INT(keycmp(CODEC_K_DOUBLE, D(-0.0), D(0.0)), 0);
}

TEST(decimal_order) {
  const char *vals[] = {"-1000.5", "-999.99", "-10", "-1.23", "-1.2", "-0.5", "-0.05", "0",
                        "0.001", "0.05", "0.5", "1", "1.2", "1.23", "9.99", "10", "99.5", "100", "12345678901234567890.12"};
  int n = MM_ARRAY_SIZE(vals);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) CHECK_EQ_INT(keycmp(CODEC_K_DECIMAL, S(vals[i]), S(vals[j])), i < j ? -1 : i > j);
  CHECK_EQ_INT(keycmp(CODEC_K_DECIMAL, S("1.50"), S("1.5")), 0);
  CHECK_EQ_INT(keycmp(CODEC_K_DECIMAL, S("0.00"), S("-0")), 0);
  CHECK_EQ_INT(keycmp(CODEC_K_DECIMAL, S("12.00"), I(12)), 0);
  CHECK_EQ_INT(keycmp(CODEC_K_DECIMAL, S("12.5"), D(12.5)), 0);
}

TEST(string_ci) {
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("abc"), S("ABC")), 0);
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("abc"), S("abc   ")), 0);
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("caf\xc3\xa9"), S("CAFE")), 0);      /* é = E in general_ci */
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("stra\xc3\x9f" "e"), S("STRASE")), 0); /* ß = s */
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("\xd0\xb4"), S("\xd0\x94")), 0);      /* Cyrillic д = Д */
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("a"), S("b")), -1);
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("a"), S("ab")), -1);
  CHECK_EQ_INT(keycmp(CODEC_K_CI, S("Z"), S("a")), 1);
  CHECK_EQ_INT(keycmp(CODEC_K_CI, N(), S("")), -1);
  CHECK_EQ_INT(keycmp(CODEC_K_BINPAD, S("abc"), S("ABC")), 1);
  CHECK_EQ_INT(keycmp(CODEC_K_BINPAD, S("abc "), S("abc")), 0);
  CHECK_EQ_INT(keycmp(CODEC_K_BYTES, S("abc "), S("abc")), 1);
  tbl_val z1 = {.t = CODEC_T_BLOB, .p = "a\0", .n = 2}, z2 = {.t = CODEC_T_BLOB, .p = "a", .n = 1},
          z3 = {.t = CODEC_T_BLOB, .p = "a\0b", .n = 3}, z4 = {.t = CODEC_T_BLOB, .p = "a\x01", .n = 2};
  CHECK_EQ_INT(keycmp(CODEC_K_BYTES, z2, z1), -1);
  CHECK_EQ_INT(keycmp(CODEC_K_BYTES, z1, z3), -1);
  CHECK_EQ_INT(keycmp(CODEC_K_BYTES, z3, z4), -1);
  /* key order == collation order on random strings */
  const char alpha[] = "aAbB zZ\xc3\xa9\xc3\x89";
  for (int k = 0; k < 5000; k++) {
    char a[8], b[8];
    int la = rand() % 6, lb = rand() % 6;
    for (int i = 0; i < la; i++) a[i] = alpha[rand() % 7];
    for (int i = 0; i < lb; i++) b[i] = alpha[rand() % 7];
    a[la] = b[lb] = 0;
    int c = codec_ci_cmp(a, (size_t)la, b, (size_t)lb);
    CHECK_EQ_INT(keycmp(CODEC_K_CI, S(a), S(b)), c < 0 ? -1 : c > 0);
  }
}

TEST(fold_tables) {
  CHECK_EQ_INT(codec_ci_fold('a'), 'A');
  CHECK_EQ_INT(codec_ci_fold(0xE9), 'E');
  CHECK_EQ_INT(codec_ci_fold(0xE6), 0xC6);
  CHECK_EQ_INT(codec_ci_fold(0x17E), 'Z');
  CHECK_EQ_INT(codec_ci_fold(0x153), 0x152);
  CHECK_EQ_INT(codec_ci_fold(0x3B1), 0x391);
  CHECK_EQ_INT(codec_ci_cmp("abc", 3, "ABD", 3), -1);
  CHECK_EQ_INT(codec_ci_cmp("a ", 2, "A", 1), 0);
  CHECK_EQ_INT(codec_utf8_len("h\xc3\xa9llo", 6), 5);
  CHECK_EQ_INT(codec_utf8_prefix("h\xc3\xa9llo", 6, 2), 3);
}

TEST(time_order) {
  const char *vals[] = {"-838:59:59", "-01:00:00", "-00:00:01", "00:00:00", "00:00:00.5", "09:00:00", "10:00:00", "100:00:00"};
  int n = MM_ARRAY_SIZE(vals);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) CHECK_EQ_INT(keycmp(CODEC_K_TIME, S(vals[i]), S(vals[j])), i < j ? -1 : i > j);
}

TEST(composite_keys) {
  /* (a, b): component boundaries must not leak: ("a","zz") < ("ab","")  */
  mm_buf x, y;
  mm_buf_init(&x);
  mm_buf_init(&y);
  tbl_val a = S("a"), zz = S("zz"), ab = S("ab"), e = S("");
  codec_key_append(&x, CODEC_K_CI, &a, 0);
  codec_key_append(&x, CODEC_K_CI, &zz, 0);
  codec_key_append(&y, CODEC_K_CI, &ab, 0);
  codec_key_append(&y, CODEC_K_CI, &e, 0);
  CHECK(memcmp(x.p, y.p, MM_MIN(x.len, y.len)) < 0);
  mm_buf_free(&x);
  mm_buf_free(&y);
}

TEST(row_roundtrip) {
  tbl_val in[7] = {I(-5), U(UINT64_MAX), D(3.5), S("hello"), N(), I(INT64_MIN), {.t = CODEC_T_BLOB, .p = "\0\1", .n = 2}};
  mm_buf b;
  mm_buf_init(&b);
  CHECK_EQ_INT(codec_row_encode(&b, in, 7), MM_OK);
  tbl_val out[7];
  int n;
  CHECK_EQ_INT(codec_row_decode(b.p, b.len, out, 7, &n), MM_OK);
  CHECK_EQ_INT(n, 7);
  CHECK_EQ_INT(out[0].i, -5);
  CHECK(out[1].u == UINT64_MAX);
  CHECK(out[2].d == 3.5);
  CHECK_EQ_INT(out[3].n, 5);
  CHECK(memcmp(out[3].p, "hello", 5) == 0);
  CHECK_EQ_INT(out[4].t, CODEC_T_NULL);
  CHECK(out[5].i == INT64_MIN);
  CHECK_EQ_INT(out[6].t, CODEC_T_BLOB);
  /* fewer slots than cells */
  CHECK_EQ_INT(codec_row_decode(b.p, b.len, out, 2, &n), MM_OK);
  CHECK_EQ_INT(n, 7);
  /* every truncation is rejected */
  for (size_t l = 0; l < b.len; l++) CHECK_EQ_INT(codec_row_decode(b.p, l, out, 7, &n), MM_ECORRUPT);
  mm_buf_free(&b);
}

int main(void) {
  srand(42);
  RUN(int_order);
  RUN(uint_order);
  RUN(double_order);
  RUN(decimal_order);
  RUN(string_ci);
  RUN(fold_tables);
  RUN(time_order);
  RUN(composite_keys);
  RUN(row_roundtrip);
  return unit_report("table_codec");
}
