/*
 * table/codec.h - how rows and index keys are laid out in the store.
 *
 * Keys are memcomparable: memcmp order of encoded keys is the SQL order of
 * the values (under the column's collation), so RocksDB's byte order is the
 * index order.  See docs/storage.md for the full layout:
 *
 *   primary / hidden row id:  0x10 u32be(index id) pk-key            -> row
 *   secondary, non-unique:    0x10 u32be(index id) idx-key pk-key    -> ""
 *   secondary, unique, no NULL in idx-key:
 *                             0x10 u32be(index id) idx-key           -> pk-key
 *
 * A key component is 0x00 for NULL (NULLs sort first) or 0x01 followed by
 * the value's encoding for its key class (CODEC_K_*).
 *
 * A row is a varint column count followed by one tagged cell per column
 * (CODEC_T_*).  Rows written before an ALTER ADD COLUMN simply have fewer
 * cells; the decoder reports how many it found.
 *
 * Decoders never read outside the given buffer and return MM_ECORRUPT on
 * malformed input (fuzzed by test/fuzz/fuzz_rowcodec.c).
 */
#ifndef MM_TABLE_CODEC_H
#define MM_TABLE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "table/catalog.h"
#include "util/mm.h"

/* A cell: a value in its stored (normalized) form.  p points into a row
 * buffer or a caller's buffer; never owned. */
enum { CODEC_T_NULL = 0, CODEC_T_INT = 1, CODEC_T_UINT = 2, CODEC_T_DOUBLE = 3, CODEC_T_TEXT = 4, CODEC_T_BLOB = 5 };
typedef struct tbl_val {
  int t;        /* CODEC_T_* */
  int64_t i;    /* INT */
  uint64_t u;   /* UINT */
  double d;     /* DOUBLE */
  const char *p;/* TEXT / BLOB */
  size_t n;
} tbl_val;

/* Key classes: how one column is encoded in a key. */
enum {
  CODEC_K_INT,     /* signed 64-bit: 8 bytes big-endian, sign bit flipped */
  CODEC_K_UINT,    /* unsigned 64-bit: 8 bytes big-endian */
  CODEC_K_DOUBLE,  /* IEEE bits, order-preserving transform, 8 bytes */
  CODEC_K_DECIMAL, /* sign, exponent, digits: see codec.c */
  CODEC_K_CI,      /* case/accent-folded UTF-8, trailing spaces removed, escaped */
  CODEC_K_BINPAD,  /* bytes, trailing spaces removed (*_bin collations), escaped */
  CODEC_K_BYTES,   /* raw bytes, escaped (binary types, dates) */
  CODEC_K_TIME,    /* TIME as signed microseconds, like INT */
};
int codec_key_class(const tbl_column *c);

/* Append 0x10 + u32be(index id). */
int codec_key_index_prefix(mm_buf *out, uint32_t index_id);
/* Append one key component (NULL or value) of class kc.  prefix_chars > 0:
 * only the first that many characters of a string.  A value of the wrong
 * cell type for the class is converted (ints from doubles, etc.). */
int codec_key_append(mm_buf *out, int kc, const tbl_val *v, uint32_t prefix_chars);
/* Length of the key component at p (of class kc), or -1 if malformed. */
long codec_key_skip(const unsigned char *p, size_t n, int kc);

/* Row value: encode n cells; decode up to max cells (*ncols = cells found,
 * which may be more than max: the rest are ignored). */
int codec_row_encode(mm_buf *out, const tbl_val *vals, int n);
int codec_row_decode(const char *p, size_t n, tbl_val *vals, int max, int *ncols);

/* The mm_ci collation: case- and accent-insensitive for Latin letters as
 * utf8mb4_general_ci (plus Greek and Cyrillic case), trailing spaces
 * ignored (PAD SPACE).  Same order as CODEC_K_CI keys. */
int codec_ci_cmp(const char *a, size_t na, const char *b, size_t nb);
/* The folded code point of c (general_ci weight). */
uint32_t codec_ci_fold(uint32_t c);
/* Decode one UTF-8 character at p (n > 0 bytes); invalid bytes decode as
 * themselves, one byte long.  Returns the length consumed. */
int codec_utf8_next(const unsigned char *p, size_t n, uint32_t *cp);
/* Number of characters in a UTF-8 string, and the byte length of its
 * first nchars characters. */
size_t codec_utf8_len(const char *p, size_t n);
size_t codec_utf8_prefix(const char *p, size_t n, size_t nchars);

/* Parse a canonical TIME text ("[-]H+:MM:SS[.f+]") to microseconds. */
int codec_time_parse(const char *p, size_t n, int64_t *us);

/* varints (LEB128) for rows */
int codec_put_varint(mm_buf *out, uint64_t v);
/* Returns bytes consumed or 0 if malformed/truncated. */
int codec_get_varint(const unsigned char *p, size_t n, uint64_t *v);

#endif

/* ---- value conversion (table.c) -------------------------------------------
 * Turn a value as given by SQL into the column's stored form, as MySQL
 * does on INSERT/UPDATE: range and length checks, DECIMAL rounded to its
 * scale as exact text, dates and times as canonical text, ENUM/SET members
 * in their declared spelling, CHAR trailing spaces removed, integers from
 * strings.  Strict mode turns problems into errors (1264, 1406, 1366, 1292,
 * 1265); otherwise the value is clamped/truncated and a warning recorded
 * through warn(). */
typedef struct tbl_conv {
  int strict;          /* errors instead of warnings */
  unsigned mode;       /* TBL_MODE_* */
  uint64_t row;        /* 1-based row number for messages */
  mm_error *err;       /* filled on error */
  void (*warn)(void *ctx, int code, const char *msg);
  void *warn_ctx;
} tbl_conv;
/* in: a non-NULL value (t != CODEC_T_NULL).  out may point into in's memory
 * or into buf (which the caller keeps alive until out is used).
 * MM_OK, or MM_ESQL with cv->err set. */
int tbl_value_convert(const tbl_column *c, const tbl_val *in, tbl_val *out, mm_buf *buf, tbl_conv *cv);
/* The implicit default of a NOT NULL column without DEFAULT (0, '', zero
 * date, first ENUM member), in stored form; text in buf. */
void tbl_value_implicit(const tbl_column *c, tbl_val *out, mm_buf *buf);
/* Text of a value for messages ("Duplicate entry 'x'"), appended to out. */
void tbl_value_text(const tbl_val *v, mm_buf *out);
/* Current time as DATETIME text with `scale` fraction digits, in the zone
 * offset tz (seconds east of UTC). */
void tbl_now_text(int tz, int scale, mm_buf *out);
