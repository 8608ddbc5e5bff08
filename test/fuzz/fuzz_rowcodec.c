/* test/fuzz/fuzz_rowcodec.c - libFuzzer target for the row and key
 * decoders of table/codec.c and the value converter of table/table.c.
 *
 * First byte selects what is exercised; the rest is the input.  Checks:
 * no crash or out-of-bounds read (ASan/UBSan), a decoded row re-encodes to
 * the same bytes, key components skip to exactly their length. */
#include <stdlib.h>
#include <string.h>

#include "table/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int sel = data[0];
  const char *p = (const char *)data + 1;
  size_t n = size - 1;
  switch (sel % 5) {
  case 0: { /* row decode -> encode round trip */
    tbl_val v[64];
    int nc;
    if (codec_row_decode(p, n, v, 64, &nc) == MM_OK && nc <= 64) {
      mm_buf b;
      mm_buf_init(&b);
      if (codec_row_encode(&b, v, nc) == MM_OK) {
        /* varints may be non-minimal in the input; decode the re-encoding */
        tbl_val w[64];
        int nc2;
        if (codec_row_decode(b.p, b.len, w, 64, &nc2) != MM_OK || nc2 != nc) abort();
      }
      mm_buf_free(&b);
    }
    break;
  }
  case 1: { /* key component skipping over arbitrary bytes */
    int kc = (sel >> 3) % 8;
    size_t off = 0;
    while (off < n) {
      long s = codec_key_skip((const unsigned char *)p + off, n - off, kc);
      if (s <= 0) break;
      if ((size_t)s > n - off) abort();
      off += (size_t)s;
    }
    break;
  }
  case 2: { /* encode any text as a key of each class, then skip it */
    tbl_val v = {.t = CODEC_T_TEXT, .p = p, .n = n};
    for (int kc = 0; kc < 8; kc++) {
      mm_buf b;
      mm_buf_init(&b);
      codec_key_append(&b, kc, &v, (sel >> 3) & 7);
      if (codec_key_skip((const unsigned char *)b.p, b.len, kc) != (long)b.len) abort();
      mm_buf_free(&b);
    }
    break;
  }
  case 3: { /* collation: antisymmetric, reflexive */
    size_t h = n / 2;
    int a = codec_ci_cmp(p, h, p + h, n - h), b = codec_ci_cmp(p + h, n - h, p, h);
    if ((a < 0) != (b > 0) || codec_ci_cmp(p, n, p, n) != 0) abort();
    int64_t us;
    codec_time_parse(p, n, &us);
    break;
  }
  case 4: { /* MySQL value conversion for every column type */
    static char *ev[] = {"a", "b", "c"};
    tbl_column c;
    memset(&c, 0, sizeof c);
    c.name = "c";
    c.type = (tbl_type)((sel >> 3) % (TBL_JSON + 1));
    c.length = (uint32_t)(n ? (unsigned char)p[0] % 70 : 0);
    c.scale = n > 1 ? (unsigned char)p[1] % 8 : -1;
    c.is_unsigned = sel & 0x80 ? 1 : 0;
    c.enum_vals = ev;
    c.n_enum = 3;
    mm_error e;
    tbl_conv cv = {.strict = sel & 0x40 ? 1 : 0, .row = 1, .err = &e};
    tbl_val in = {.t = CODEC_T_TEXT, .p = p, .n = n}, out;
    mm_buf b;
    mm_buf_init(&b);
    if (tbl_value_convert(&c, &in, &out, &b, &cv) == MM_OK && out.t != CODEC_T_NULL) {
      mm_buf k;
      mm_buf_init(&k);
      codec_key_append(&k, codec_key_class(&c), &out, 0);
      mm_buf_free(&k);
    }
    mm_buf_free(&b);
    break;
  }
  }
  return 0;
}
