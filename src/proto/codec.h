/*
 * proto/codec.h - pure encoders and decoders of the MySQL client/server
 * protocol (no sockets, no threads, no session): packet framing,
 * length-encoded integers and strings, the v10 handshake and the
 * HandshakeResponse41, the auth scrambles, OK / ERR / EOF packets,
 * ColumnDefinition41, text and binary result rows and the COM_STMT_EXECUTE
 * parameter block.
 *
 * Everything here is deterministic and bounds-checked, so that it can be
 * unit-tested (test/unit/test_proto.c) and fuzzed (test/fuzz/fuzz_packet.c).
 *
 * Invariants:
 * - Decoders never read outside [p, p + n).  A malformed input gives a
 *   non-zero return (or a sticky `bad` flag in proto_rd), never a crash.
 * - Decoded strings point into the input buffer; they stay valid as long as
 *   that buffer does.  Nothing is NUL-terminated unless said so.
 * - Encoders append to an mm_buf; an allocation failure is sticky in the
 *   buffer (mm_buf.oom) and callers check it once per packet or response.
 *
 * Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html
 * (Protocol Basics, Connection Phase, Text Protocol, Prepared Statements).
 */
#ifndef MM_PROTO_CODEC_H
#define MM_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "sql/result.h"
#include "util/mm.h"

/* ---- capability flags (include/mysql_com.h) ---------------------------- */
enum {
  PROTO_CLIENT_MYSQL = 1u << 0, /* == CLIENT_LONG_PASSWORD */
  PROTO_CLIENT_FOUND_ROWS = 1u << 1,
  PROTO_CLIENT_LONG_FLAG = 1u << 2,
  PROTO_CLIENT_CONNECT_WITH_DB = 1u << 3,
  PROTO_CLIENT_NO_SCHEMA = 1u << 4,
  PROTO_CLIENT_COMPRESS = 1u << 5,
  PROTO_CLIENT_ODBC = 1u << 6,
  PROTO_CLIENT_LOCAL_FILES = 1u << 7,
  PROTO_CLIENT_IGNORE_SPACE = 1u << 8,
  PROTO_CLIENT_PROTOCOL_41 = 1u << 9,
  PROTO_CLIENT_INTERACTIVE = 1u << 10,
  PROTO_CLIENT_SSL = 1u << 11,
  PROTO_CLIENT_IGNORE_SIGPIPE = 1u << 12,
  PROTO_CLIENT_TRANSACTIONS = 1u << 13,
  PROTO_CLIENT_RESERVED = 1u << 14,
  PROTO_CLIENT_SECURE_CONNECTION = 1u << 15,
  PROTO_CLIENT_MULTI_STATEMENTS = 1u << 16,
  PROTO_CLIENT_MULTI_RESULTS = 1u << 17,
  PROTO_CLIENT_PS_MULTI_RESULTS = 1u << 18,
  PROTO_CLIENT_PLUGIN_AUTH = 1u << 19,
  PROTO_CLIENT_CONNECT_ATTRS = 1u << 20,
  PROTO_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1u << 21,
  PROTO_CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1u << 22,
  PROTO_CLIENT_SESSION_TRACK = 1u << 23,
  PROTO_CLIENT_DEPRECATE_EOF = 1u << 24,
};

/* What this server advertises.  No SSL, LOCAL_FILES, COMPRESS or
 * SESSION_TRACK; bit 0 set so MariaDB clients stay in MySQL mode. */
#define PROTO_SERVER_CAPS                                                                   \
  (PROTO_CLIENT_MYSQL | PROTO_CLIENT_FOUND_ROWS | PROTO_CLIENT_LONG_FLAG |                  \
   PROTO_CLIENT_CONNECT_WITH_DB | PROTO_CLIENT_PROTOCOL_41 | PROTO_CLIENT_TRANSACTIONS |    \
   PROTO_CLIENT_SECURE_CONNECTION | PROTO_CLIENT_MULTI_STATEMENTS |                         \
   PROTO_CLIENT_MULTI_RESULTS | PROTO_CLIENT_PS_MULTI_RESULTS | PROTO_CLIENT_PLUGIN_AUTH |  \
   PROTO_CLIENT_CONNECT_ATTRS | PROTO_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |               \
   PROTO_CLIENT_DEPRECATE_EOF)

/* ---- commands ------------------------------------------------------------ */
enum {
  PROTO_COM_SLEEP = 0x00, PROTO_COM_QUIT = 0x01, PROTO_COM_INIT_DB = 0x02,
  PROTO_COM_QUERY = 0x03, PROTO_COM_FIELD_LIST = 0x04, PROTO_COM_STATISTICS = 0x09,
  PROTO_COM_PROCESS_KILL = 0x0c, PROTO_COM_PING = 0x0e, PROTO_COM_CHANGE_USER = 0x11,
  PROTO_COM_STMT_PREPARE = 0x16, PROTO_COM_STMT_EXECUTE = 0x17,
  PROTO_COM_STMT_SEND_LONG_DATA = 0x18, PROTO_COM_STMT_CLOSE = 0x19,
  PROTO_COM_STMT_RESET = 0x1a, PROTO_COM_SET_OPTION = 0x1b, PROTO_COM_STMT_FETCH = 0x1c,
  PROTO_COM_RESET_CONNECTION = 0x1f,
};

/* ---- limits --------------------------------------------------------------- */
#define PROTO_MAX_FRAME 0xffffffu /* payload bytes in one physical packet */
#define PROTO_SCRAMBLE_LEN 20
#define PROTO_MAX_PARAMS 65535

/* ---- bounded reader --------------------------------------------------------- */
/* Reads from [p, end).  Any read past the end sets `bad` (sticky) and
 * returns zeros / empty strings. */
typedef struct proto_rd {
  const uint8_t *p, *end;
  int bad;
} proto_rd;

static inline void proto_rd_init(proto_rd *r, const void *p, size_t n) {
  r->p = (const uint8_t *)p;
  r->end = r->p + n;
  r->bad = 0;
}
static inline size_t proto_rd_left(const proto_rd *r) { return (size_t)(r->end - r->p); }
uint8_t proto_rd_u8(proto_rd *r);
uint16_t proto_rd_u16(proto_rd *r);
uint32_t proto_rd_u24(proto_rd *r);
uint32_t proto_rd_u32(proto_rd *r);
uint64_t proto_rd_u64(proto_rd *r);
/* Length-encoded integer.  *is_null (may be NULL) is set for 0xfb; 0xff is
 * malformed. */
uint64_t proto_rd_lenenc(proto_rd *r, int *is_null);
/* n raw bytes; returns a pointer into the input or NULL (bad set). */
const uint8_t *proto_rd_bytes(proto_rd *r, size_t n);
/* A length-encoded string. */
const uint8_t *proto_rd_lenenc_str(proto_rd *r, size_t *n);
/* A NUL-terminated string; the NUL is consumed and not counted. */
const char *proto_rd_nulstr(proto_rd *r, size_t *n);
/* The rest of the input. */
const uint8_t *proto_rd_rest(proto_rd *r, size_t *n);

/* ---- encoders ------------------------------------------------------------------ */
/* Append helpers (errors are sticky in b->oom). */
void proto_put_u8(mm_buf *b, uint8_t v);
void proto_put_u16(mm_buf *b, uint16_t v);
void proto_put_u32(mm_buf *b, uint32_t v);
void proto_put_lenenc(mm_buf *b, uint64_t v);
void proto_put_lenenc_str(mm_buf *b, const void *p, size_t n);
/* Bytes a length-encoded integer takes. */
size_t proto_lenenc_size(uint64_t v);

/* Packet framing on write.  proto_pkt_begin() reserves the 4-byte header at
 * the end of b and returns its offset; proto_pkt_end() fills it in with
 * *seq (and increments *seq), splitting payloads of 0xffffff bytes or more
 * into several physical packets (with an empty trailing one when the size
 * is an exact multiple). */
size_t proto_pkt_begin(mm_buf *b);
void proto_pkt_end(mm_buf *b, size_t off, uint8_t *seq);

/* Whole packets. `status` is SERVER_STATUS_* bits. */
void proto_write_ok(mm_buf *b, uint8_t *seq, uint64_t affected, uint64_t insert_id,
                    uint16_t status, uint16_t warnings, const char *info);
/* The OK packet with a 0xfe header that ends a result set under
 * CLIENT_DEPRECATE_EOF. */
void proto_write_eof_ok(mm_buf *b, uint8_t *seq, uint16_t status, uint16_t warnings);
void proto_write_eof(mm_buf *b, uint8_t *seq, uint16_t status, uint16_t warnings);
void proto_write_err(mm_buf *b, uint8_t *seq, int code, const char *sqlstate, const char *msg);
/* End of a column/row sequence: classic EOF, or OK-0xfe when deprecate_eof. */
void proto_write_end(mm_buf *b, uint8_t *seq, int deprecate_eof, uint16_t status,
                     uint16_t warnings);
/* ColumnDefinition41.  field_list adds the (NULL) default value that
 * COM_FIELD_LIST responses carry. */
void proto_write_coldef(mm_buf *b, uint8_t *seq, const mm_col *c, int field_list);
/* A text-protocol row. */
void proto_write_text_row(mm_buf *b, uint8_t *seq, const mm_cell *cells, int ncols);
/* A binary-protocol row; types[i] is the column's MYSQL_TYPE_*, flags[i]
 * its MM_FLAG_* bits (MM_FLAG_UNSIGNED matters).  Cells are text-form
 * values converted by type; an unparsable number encodes as 0. */
void proto_write_binary_row(mm_buf *b, uint8_t *seq, const uint8_t *types,
                            const uint16_t *flags, const mm_cell *cells, int ncols);
/* COM_STMT_PREPARE_OK header packet. */
void proto_write_prepare_ok(mm_buf *b, uint8_t *seq, uint32_t stmt_id, uint16_t ncols,
                            uint16_t nparams, uint16_t warnings);

/* Binary value encoders (exposed for tests): return bytes written into out
 * (at most 13). */
size_t proto_bin_datetime(const char *s, size_t n, uint8_t *out);
size_t proto_bin_time(const char *s, size_t n, uint8_t *out);

/* ---- handshake ------------------------------------------------------------------- */
/* Build the Protocol::HandshakeV10 payload (framed, seq 0). scramble is 20
 * bytes. */
void proto_write_handshake(mm_buf *b, uint32_t conn_id, const uint8_t *scramble,
                           uint32_t caps, uint8_t charset, uint16_t status,
                           const char *version, const char *plugin);
/* Fill a 20-byte scramble with random bytes in 1..127 excluding '$' (as
 * MySQL does; some clients treat it as a C string).  0 or MM_EIO. */
int proto_make_scramble(uint8_t *out);

/* Decoded HandshakeResponse41 (or SSLRequest when is_ssl_request).
 * Pointers point into the packet. */
typedef struct proto_hs_resp {
  uint32_t caps;
  uint32_t max_packet;
  uint8_t charset;
  int is_ssl_request;
  const char *user;
  size_t user_len;
  const uint8_t *auth;
  size_t auth_len;
  const char *db; /* NULL when absent */
  size_t db_len;
  const char *plugin; /* NULL when absent */
  size_t plugin_len;
} proto_hs_resp;
/* 0, or MM_EINVAL for a malformed / pre-4.1 response. */
int proto_parse_handshake_response(const uint8_t *p, size_t n, proto_hs_resp *out);

/* COM_CHANGE_USER payload (after the command byte), decoded with the
 * connection's capabilities.  charset is 0 when absent. */
typedef struct proto_change_user {
  const char *user;
  size_t user_len;
  const uint8_t *auth;
  size_t auth_len;
  const char *db;
  size_t db_len;
  uint16_t charset;
  const char *plugin;
  size_t plugin_len;
} proto_change_user;
int proto_parse_change_user(const uint8_t *p, size_t n, uint32_t caps, proto_change_user *out);

/* ---- auth ---------------------------------------------------------------------- */
/* mysql_native_password: SHA1(pw) XOR SHA1(scramble . SHA1(SHA1(pw))). */
void proto_native_token(const char *pw, size_t pwlen, const uint8_t *scramble, uint8_t *out20);
/* Check a 20-byte client token against stored SHA1(SHA1(pw)). 1 if it matches. */
int proto_native_check(const uint8_t *scramble, const uint8_t *token, size_t token_len,
                       const uint8_t *stored20);
/* caching_sha2_password: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) . nonce). */
void proto_sha2_token(const char *pw, size_t pwlen, const uint8_t *scramble, uint8_t *out32);
/* Check a 32-byte token against stored SHA256(SHA256(pw)). 1 if it matches. */
int proto_sha2_check(const uint8_t *scramble, const uint8_t *token, size_t token_len,
                     const uint8_t *stored32);

/* ---- COM_STMT_EXECUTE ------------------------------------------------------------ */
/* Per-statement parameter state the protocol keeps between executes. */
typedef struct proto_stmt_params {
  int nparams;
  int has_types;      /* a new_params_bound=1 execute was seen */
  uint16_t *types;    /* nparams entries: type | (flags << 8), flags 0x80 = unsigned */
  mm_buf *long_data;  /* nparams buffers, or NULL when no long data was sent */
  uint8_t *has_long;  /* nparams flags, or NULL */
} proto_stmt_params;

/* Allocate the state of a statement with nparams parameters.  0 or MM_ENOMEM. */
int proto_stmt_params_init(proto_stmt_params *st, int nparams);
void proto_stmt_params_free(proto_stmt_params *st);
/* COM_STMT_SEND_LONG_DATA: append to parameter `param`.  MM_EINVAL for a
 * bad parameter number, MM_ENOMEM. */
int proto_stmt_long_data(proto_stmt_params *st, int param, const void *p, size_t n);
/* Forget long data (after an execute, and on COM_STMT_RESET). */
void proto_stmt_clear_long(proto_stmt_params *st);

/* Decode the parameter block of a COM_STMT_EXECUTE payload (p/n start
 * after the command byte, at the statement id).  Updates st->types when
 * new_params_bound is 1.  Values go to vals[0..nparams); text they need
 * (dates, times) is written into scratch, which is reset first; other
 * strings point into the packet or st->long_data.
 * Returns 0, MM_EINVAL (malformed: caller answers 1210 / 1835) or
 * MM_ENOMEM. *flags_out receives the cursor flags byte. */
int proto_parse_execute(const uint8_t *p, size_t n, proto_stmt_params *st, mm_value *vals,
                        mm_buf *scratch, uint8_t *flags_out);
/* Read the statement id at the start of an execute / close / reset /
 * fetch / send-long-data payload (after the command byte). MM_EINVAL if short. */
int proto_parse_stmt_id(const uint8_t *p, size_t n, uint32_t *id);

/* ---- packet reader --------------------------------------------------------------- */
/* Reads logical packets (joining 16 MB continuations) through a fill
 * callback, which returns bytes read (> 0), 0 at EOF or < 0 on error.
 * Small packets are returned in place (a pointer into the reader's buffer,
 * valid until the next proto_reader_next call): one fill call normally
 * returns a whole packet, so one read syscall per command. */
typedef struct proto_reader {
  int (*fill)(void *ctx, uint8_t *p, size_t cap);
  void *ctx;
  uint8_t *buf; /* input buffer */
  size_t cap, start, end;
  mm_buf big;   /* joined payloads that do not fit in buf */
  uint8_t seq;  /* sequence id of the last physical packet read */
} proto_reader;

enum {
  PROTO_RD_OK = 0,
  PROTO_RD_EOF = 1,       /* clean EOF before a packet started */
  PROTO_RD_IO = -1,       /* read error, or EOF in the middle of a packet */
  PROTO_RD_TOO_BIG = -2,  /* payload > max: answer 1153 and close */
  PROTO_RD_ORDER = -3,    /* continuation with a wrong sequence id: 1156 */
  PROTO_RD_NOMEM = -4,
};
int proto_reader_init(proto_reader *r, size_t cap, int (*fill)(void *, uint8_t *, size_t),
                      void *ctx);
void proto_reader_free(proto_reader *r);
/* Next logical packet (*payload, *len), and r->seq is the sequence id of its
 * last physical packet (the reply uses r->seq + 1).  max is the largest
 * payload accepted. */
int proto_reader_next(proto_reader *r, uint64_t max, const uint8_t **payload, size_t *len);

#endif
