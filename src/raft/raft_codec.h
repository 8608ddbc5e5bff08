/*
 * raft/raft_codec.h - byte encodings of Raft messages, log records and
 * configurations (see docs/raft.md for the layouts).  All integers are
 * little-endian, fixed width.  Decoders never trust their input: every
 * length is checked against the buffer, and they return MM_EINVAL (or
 * MM_ECORRUPT for a CRC mismatch) rather than reading past the end.
 */
#ifndef MM_RAFT_CODEC_H
#define MM_RAFT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "util/mm.h"

#define RAFT_CODEC_VERSION 1
#define RAFT_MAX_ENTRY_BYTES (64u << 20) /* refuse larger payloads */
#define RAFT_RECORD_HDR 8                /* u32 len + u32 crc32c */

/* CRC-32C (Castagnoli), software table; crc = 0 to start. */
uint32_t raft_crc32c(uint32_t crc, const void *p, size_t n);

/* Append the encoding of m to b.  MM_OK or MM_ENOMEM. */
int raft_msg_encode(const raft_msg *m, mm_buf *b);
/* Decode one message from exactly n bytes.  On MM_OK, m->entries is an
 * array owned by m, each entry holding its own reference; release with
 * raft_msg_release().  On error m is left empty (nothing to release).
 * Returns MM_OK, MM_EINVAL (malformed), MM_ENOMEM. */
int raft_msg_decode(const void *p, size_t n, raft_msg *m);
void raft_msg_release(raft_msg *m);

/* Log record = u32 body length, u32 crc32c(body), body = encoded entry.
 * raft_record_encode appends one record to b. */
int raft_record_encode(const raft_entry *e, mm_buf *b);
/* Decode the record at p (n bytes available).  On MM_OK *used = record size
 * and e holds its own reference (raft_entry_unref when done).  Returns
 * MM_EAGAIN if the record is incomplete (a torn tail), MM_ECORRUPT if the CRC
 * does not match or the body is malformed, MM_ENOMEM. */
int raft_record_decode(const void *p, size_t n, raft_entry *e, size_t *used);

/* Configuration payload (RAFT_ENTRY_CONF data, snapshots). */
int raft_config_encode(const raft_config *c, mm_buf *b);
int raft_config_decode(const unsigned char *p, size_t n, raft_config *c);

#endif
