/*
 * test/fuzz/fuzz_raft_codec.c - libFuzzer target for the Raft decoders:
 * messages (raft_msg_decode), log records (raft_record_decode) and
 * configurations (raft_config_decode).  A message that decodes is encoded
 * again and must decode to the same bytes, and is then fed to a Raft core
 * (hostile input must never crash the state machine).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "raft/raft_codec.h"
#include "util/mm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  raft_msg m;
  if (raft_msg_decode(data, size, &m) == MM_OK) {
    mm_buf b;
    mm_buf_init(&b);
    if (raft_msg_encode(&m, &b) == MM_OK) {
      raft_msg m2;
      if (raft_msg_decode(b.p, b.len, &m2) != MM_OK) abort();
      mm_buf b2;
      mm_buf_init(&b2);
      if (raft_msg_encode(&m2, &b2) != MM_OK || b2.len != b.len || memcmp(b.p, b2.p, b.len) != 0) abort();
      mm_buf_free(&b2);
      raft_msg_release(&m2);
    }
    mm_buf_free(&b);
    /* Feed it to a follower of a 3-member cluster. */
    raft_options o = {.id = 1, .seed = 1};
    raft *r = raft_new(&o);
    if (r) {
      raft_snapshot s = {0};
      s.conf.n = 3;
      for (int i = 0; i < 3; i++) { s.conf.m[i].id = (raft_id)(i + 1); s.conf.m[i].voter = 1; }
      if (raft_load(r, 1, 0, &s, NULL, 0, 0) == MM_OK) {
        m.to = 1;
        raft_step(r, &m);
        raft_ready rd;
        if (raft_get_ready(r, &rd) == MM_OK) raft_ready_done(r, &rd);
      }
      raft_free(r);
    }
    raft_msg_release(&m);
  }
  raft_entry e;
  size_t used;
  if (raft_record_decode(data, size, &e, &used) == MM_OK) {
    if (used > size) abort();
    raft_entry_unref(&e);
  }
  raft_config c;
  raft_config_decode(data, size, &c);
  return 0;
}
