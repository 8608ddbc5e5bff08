/*
 * sql/lex.h - the MySQL lexer shared by the session (statement
 * classification, SET/SHOW), the dialect rewriter and the DDL parser.
 *
 * It turns MySQL text into tokens that point into the source (no copies).
 * It follows MySQL's rules: backslash escapes in '...' and "..." strings
 * (unless NO_BACKSLASH_ESCAPES), doubled quotes, `quoted` identifiers,
 * comments (-- , #, slash-star), and executable comments: the contents of
 * slash-star-bang NNNNN ... star-slash (MySQL) and slash-star-M-bang NNNNNN (MariaDB)
 * are lexed as ordinary tokens when the version is at most ours; otherwise
 * the whole comment is skipped.
 */
#ifndef MM_SQL_LEX_H
#define MM_SQL_LEX_H

#include <stddef.h>
#include <stdint.h>
#include "util/mm.h"

enum {
  TK_EOF = 0,
  TK_IDENT,    /* bare word: keyword or identifier (case-insensitive) */
  TK_QIDENT,   /* `quoted identifier` (p/n include the backticks) */
  TK_STRING,   /* 'string' or "string" (p/n include the quotes) */
  TK_INTEGER,  /* 123 */
  TK_DECIMAL,  /* 1.5, .5, 1. */
  TK_FLOAT,    /* 1e5, 1.5E-3 */
  TK_HEX,      /* x'0A' X'0a' 0x0A */
  TK_BIT,      /* b'101' 0b101 */
  TK_PARAM,    /* ? */
  TK_USERVAR,  /* @name, @'name', @`name` */
  TK_SYSVAR,   /* @@name, @@session.name, @@global.name */
  TK_OP,       /* operators and punctuation: ( ) , . ; = <=> != <> <= >= < > + - * / % || && ! ~ ^ & | << >> := -> ->> */
  TK_ERROR     /* unterminated string / comment; p points at its start */
};

typedef struct lex_token {
  int type;
  const char *p; /* start in the source */
  size_t n;      /* length in the source */
} lex_token;

typedef struct lex {
  const char *src;
  size_t len;
  size_t pos;
  int no_backslash_escapes;
  int in_exec_comment; /* inside an executable comment: its closing star-slash is skipped */
} lex;

/* Our version for executable comments (MySQL 5.7.99 / MariaDB 10.11.99). */
#define LEX_MYSQL_VERSION 50799
#define LEX_MARIADB_VERSION 101199

void lex_init(lex *l, const char *src, size_t len);
/* Next token; TK_EOF at the end.  Never reads past src+len. */
int lex_next(lex *l, lex_token *t);
/* Peek the next token without consuming it. */
int lex_peek(lex *l, lex_token *t);

/* Non-zero if the token is the bare word `kw` (case-insensitive). */
int lex_is(const lex_token *t, const char *kw);
/* Non-zero if the token is the operator `op` exactly. */
int lex_is_op(const lex_token *t, const char *op);
/* Non-zero if t is an identifier (bare or quoted). */
static inline int lex_is_name(const lex_token *t) { return t->type == TK_IDENT || t->type == TK_QIDENT; }

/* Decode a TK_STRING / TK_QIDENT / TK_IDENT into its value (escapes and
 * doubled quotes resolved), appended to out.  For TK_HEX / TK_BIT the bytes
 * are decoded.  Returns MM_OK or MM_ENOMEM / MM_EINVAL. */
int lex_unquote(const lex_token *t, int no_backslash_escapes, mm_buf *out);
/* Convenience: lex_unquote into a fresh NUL-terminated string (mm_free it);
 * NULL on error. */
char *lex_strdup(const lex_token *t, int no_backslash_escapes);

/* Value of a TK_INTEGER token (the source need not be NUL-terminated);
 * saturates at INT64_MAX. */
int64_t lex_int(const lex_token *t);

/* Split a multi-statement text at top-level ';'.  Calls cb for each
 * non-empty statement (without the ';'), stops when cb returns non-zero and
 * returns that value.  Empty statements are skipped. */
int lex_split(const char *src, size_t len, int no_backslash_escapes,
              int (*cb)(void *ctx, const char *stmt, size_t n), void *ctx);

/* Text of the source near t for 1064 messages: up to 80 bytes starting at
 * t->p (MySQL's "near '...'"), NUL-terminated in buf. */
void lex_near(const lex *l, const lex_token *t, char *buf, size_t size);

#endif
