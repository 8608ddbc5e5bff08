/*
 * test/fuzz/fuzz_packet.c - libFuzzer target over the protocol decoders
 * (proto/codec.c): the packet reader (framing, 16 MB joins, max size),
 * HandshakeResponse41, COM_CHANGE_USER, COM_STMT_EXECUTE parameters (with
 * types kept across executes), the bounded reader primitives, and the
 * binary row encoder's text-to-binary conversions.
 *
 * The first input byte selects nothing: every decoder sees every input, so
 * the corpus stays useful for all of them.
 */
#include <stdint.h>
#include <string.h>

#include "proto/codec.h"

typedef struct memsrc {
  const uint8_t *p;
  size_t n, pos, chunk;
} memsrc;

static int mem_fill(void *ctx, uint8_t *p, size_t cap) {
  memsrc *m = ctx;
  size_t k = m->n - m->pos;
  if (k > cap) k = cap;
  if (k > m->chunk) k = m->chunk;
  memcpy(p, m->p + m->pos, k);
  m->pos += k;
  return (int)k;
}

static void fuzz_reader(const uint8_t *data, size_t size) {
  memsrc m = {data, size, 0, size ? (size_t)(data[0] % 13) + 1 : 1};
  proto_reader r;
  if (proto_reader_init(&r, 64, mem_fill, &m) != MM_OK) return;
  uint64_t max = size > 1 ? (uint64_t)data[1] * 4 + 8 : 1024;
  for (int i = 0; i < 64; i++) {
    const uint8_t *p;
    size_t n;
    if (proto_reader_next(&r, max, &p, &n) != PROTO_RD_OK) break;
    volatile uint8_t sink = 0;
    for (size_t k = 0; k < n; k++) sink ^= p[k];
    (void)sink;
  }
  proto_reader_free(&r);
}

static void fuzz_execute(const uint8_t *data, size_t size) {
  if (size < 1) return;
  proto_stmt_params st;
  int np = data[0] % 9;
  if (proto_stmt_params_init(&st, np) != MM_OK) return;
  mm_value vals[8];
  mm_buf scratch;
  mm_buf_init(&scratch);
  uint8_t flags;
  /* Twice: the second run may reuse the types bound by the first. */
  for (int pass = 0; pass < 2; pass++) {
    if (np > 0 && size > 2) proto_stmt_long_data(&st, data[1] % np, data + 2, size > 8 ? 6 : size - 2);
    if (proto_parse_execute(data + 1, size - 1, &st, vals, &scratch, &flags) == MM_OK) {
      for (int i = 0; i < np; i++) {
        if (vals[i].kind == MM_V_TEXT || vals[i].kind == MM_V_BLOB) {
          volatile uint8_t s = 0;
          for (size_t k = 0; k < vals[i].n; k++) s ^= (uint8_t)vals[i].p[k];
          (void)s;
        }
      }
    }
    proto_stmt_clear_long(&st);
  }
  proto_stmt_params_free(&st);
  mm_buf_free(&scratch);
}

static void fuzz_rows(const uint8_t *data, size_t size) {
  /* Split the input on '|' into cells; column i gets type data[i]. */
  mm_cell cells[16];
  uint8_t types[16];
  uint16_t flags[16];
  int n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size && n < 16; i++) {
    if (i == size || data[i] == '|') {
      cells[n].p = (const char *)data + start;
      cells[n].n = i - start;
      cells[n].null = (i - start) == 1 && data[start] == 'N';
      types[n] = size ? data[n % size] : 0;
      flags[n] = (n & 1) ? MM_FLAG_UNSIGNED : 0;
      n++;
      start = i + 1;
    }
  }
  mm_buf b;
  mm_buf_init(&b);
  uint8_t seq = 0;
  proto_write_binary_row(&b, &seq, types, flags, cells, n);
  proto_write_text_row(&b, &seq, cells, n);
  /* Column definitions with arbitrary (NUL-terminated) names. */
  char name[256];
  size_t k = size < sizeof name - 1 ? size : sizeof name - 1;
  memcpy(name, data, k);
  name[k] = 0;
  mm_col c = {.db = name, .table = name + k / 2, .org_table = "", .name = name,
              .org_name = name + k / 3, .charset = 63, .length = 11,
              .type = size ? data[0] : 0, .flags = 0xffff, .decimals = 0};
  proto_write_coldef(&b, &seq, &c, size & 1);
  mm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  proto_hs_resp hs;
  proto_parse_handshake_response(data, size, &hs);
  proto_change_user cu;
  proto_parse_change_user(data, size, size ? (uint32_t)data[0] << 8 | PROTO_CLIENT_PLUGIN_AUTH : 0,
                          &cu);
  proto_rd r;
  proto_rd_init(&r, data, size);
  while (!r.bad && proto_rd_left(&r)) {
    size_t n;
    proto_rd_lenenc_str(&r, &n);
    if (!r.bad && proto_rd_left(&r)) proto_rd_lenenc(&r, NULL);
  }
  fuzz_reader(data, size);
  fuzz_execute(data, size);
  fuzz_rows(data, size);
  return 0;
}
