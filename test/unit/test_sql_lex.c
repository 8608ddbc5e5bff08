/*
 * test/unit/test_sql_lex.c - the MySQL lexer (sql/lex.c): tokens, string
 * escapes, comments, executable comments, numbers, hex/bit literals and
 * statement splitting.
 */
#include <stdio.h>
#include <string.h>

#include "sql/lex.h"
#include "unit.h"

static char toks[4096];

/* "type:text type:text ..." of all tokens of s. */
static const char *lx(const char *s) {
  lex l;
  lex_init(&l, s, strlen(s));
  lex_token t;
  size_t n = 0;
  toks[0] = 0;
  int ty;
  while ((ty = lex_next(&l, &t)) != TK_EOF) {
    n += (size_t)snprintf(toks + n, sizeof toks - n, "%s%d:%.*s", n ? " " : "", ty, (int)t.n, t.p);
    if (n >= sizeof toks) break;
    if (ty == TK_ERROR) break;
  }
  return toks;
}
/* Decoded value of the first token of s. */
static mm_buf val;
static const char *uq(const char *s, int nbe) {
  lex l;
  lex_init(&l, s, strlen(s));
  l.no_backslash_escapes = nbe;
  lex_token t;
  lex_next(&l, &t);
  mm_buf_reset(&val);
  if (lex_unquote(&t, nbe, &val) != MM_OK) return "(error)";
  mm_buf_putc(&val, 0);
  return val.p;
}

TEST(tokens) {
  CHECK_EQ_STR(lx("SELECT a, `b c` FROM t;"), "1:SELECT 1:a 12:, 2:`b c` 1:FROM 1:t 12:;");
  CHECK_EQ_STR(lx("a<=>b != c <> d <= e >= f := g -> h ->> i || j && k << l >> m"),
               "1:a 12:<=> 1:b 12:!= 1:c 12:<> 1:d 12:<= 1:e 12:>= 1:f 12::= 1:g 12:-> 1:h 12:->> 1:i 12:|| 1:j 12:&& 1:k "
               "12:<< 1:l 12:>> 1:m");
  CHECK_EQ_STR(lx("@a @'b c' @`d` @@x @@session.y @@global.z ?"),
               "10:@a 10:@'b c' 10:@`d` 11:@@x 11:@@session.y 11:@@global.z 9:?");
  CHECK_EQ_STR(lx("x.y.z"), "1:x 12:. 1:y 12:. 1:z");
  CHECK_EQ_STR(lx("  \t\n "), "");
  lex_token t = {TK_IDENT, "select", 6};
  CHECK(lex_is(&t, "SELECT"));
  CHECK(!lex_is(&t, "SELEC"));
  lex l;
  lex_init(&l, "a b", 3);
  CHECK_EQ_INT(lex_peek(&l, &t), TK_IDENT);
  CHECK_EQ_INT(t.n, 1);
  CHECK_EQ_INT(lex_next(&l, &t), TK_IDENT);
  CHECK(t.p[0] == 'a');
  CHECK_EQ_INT(lex_next(&l, &t), TK_IDENT);
  CHECK(t.p[0] == 'b');
  CHECK_EQ_INT(lex_next(&l, &t), TK_EOF);
  CHECK_EQ_INT(lex_next(&l, &t), TK_EOF);
}

TEST(numbers) {
  CHECK_EQ_STR(lx("1 1.5 .5 1. 1e5 1.5E-3 2e+2"), "4:1 5:1.5 5:.5 5:1. 6:1e5 6:1.5E-3 6:2e+2");
  CHECK_EQ_STR(lx("0x1F X'0a' x'' b'101' B'1' 0b11"), "7:0x1F 7:X'0a' 7:x'' 8:b'101' 8:B'1' 8:0b11");
  /* identifiers may start with digits */
  CHECK_EQ_STR(lx("123abc 0xZZ 1e"), "1:123abc 1:0xZZ 1:1e");
  CHECK_EQ_STR(lx("1-2 1--2"), "4:1 12:- 4:2 4:1 12:- 12:- 4:2");
  CHECK_EQ_STR(uq("0x4142", 0), "AB");
  CHECK_EQ_STR(uq("X'4a4B'", 0), "JK");
  CHECK_EQ_STR(uq("0x141", 0), "\001A"); /* odd number of digits: leading 0 */
  lex l;
  lex_token t;
  lex_init(&l, "b'0100000101000010'", 19);
  lex_next(&l, &t);
  mm_buf_reset(&val);
  CHECK_EQ_INT(lex_unquote(&t, 0, &val), MM_OK);
  CHECK_EQ_INT(val.len, 2);
  CHECK(memcmp(val.p, "AB", 2) == 0);
}

TEST(strings) {
  CHECK_EQ_STR(uq("'it\\'s'", 0), "it's");
  CHECK_EQ_STR(uq("'it''s'", 0), "it's");
  CHECK_EQ_STR(uq("\"say \\\"hi\\\"\"", 0), "say \"hi\"");
  CHECK_EQ_STR(uq("\"a\"\"b\"", 0), "a\"b");
  CHECK_EQ_STR(uq("'a\\nb\\tc\\rd\\\\e\\Zf\\bg'", 0), "a\nb\tc\rd\\e\032f\bg");
  CHECK_EQ_STR(uq("'\\%\\_'", 0), "\\%\\_"); /* kept for LIKE */
  CHECK_EQ_STR(uq("'\\x\\y'", 0), "xy");    /* unknown escapes drop the backslash */
  CHECK_EQ_STR(uq("'é中'", 0), "é中");
  CHECK_EQ_STR(uq("`a``b`", 0), "a`b");
  CHECK_EQ_STR(uq("'a\\'", 1), "a\\"); /* NO_BACKSLASH_ESCAPES */
  /* \0 is a NUL byte */
  lex l;
  lex_token t;
  lex_init(&l, "'a\\0b'", 6);
  lex_next(&l, &t);
  mm_buf_reset(&val);
  CHECK_EQ_INT(lex_unquote(&t, 0, &val), MM_OK);
  CHECK_EQ_INT(val.len, 3);
  CHECK(memcmp(val.p, "a\0b", 3) == 0);
  char *s = lex_strdup(&t, 0);
  CHECK(s != NULL);
  CHECK(s[0] == 'a' && s[1] == 0);
  mm_free(s);
  /* the token text includes the quotes and is not cut at an escaped quote */
  CHECK_EQ_STR(lx("'a\\'b' 'c'"), "3:'a\\'b' 3:'c'");
  CHECK_EQ_STR(lx("'unterminated"), "13:'unterminated");
  CHECK_EQ_STR(lx("\"unterminated\\\""), "13:\"unterminated\\\"");
  CHECK_EQ_STR(lx("`unterminated"), "13:`unterminated");
}

TEST(comments) {
  CHECK_EQ_STR(lx("SELECT 1 -- comment ; here"), "1:SELECT 4:1");
  CHECK_EQ_STR(lx("SELECT 1 # hash\n, 2"), "1:SELECT 4:1 12:, 4:2");
  CHECK_EQ_STR(lx("SELECT /* c ; */ 2"), "1:SELECT 4:2");
  CHECK_EQ_STR(lx("SELECT 1 --x"), "1:SELECT 4:1 12:- 12:- 1:x"); /* '--' needs a space after it */
  CHECK_EQ_STR(lx("SELECT /* unterminated"), "1:SELECT 13:/* unterminated");
  /* executable comments */
  CHECK_EQ_STR(lx("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"),
               "1:SET 10:@OLD_CHARACTER_SET_CLIENT 12:= 11:@@CHARACTER_SET_CLIENT");
  CHECK_EQ_STR(lx("/*!80000 SET x=1 */ SELECT 1"), "1:SELECT 4:1");
  CHECK_EQ_STR(lx("/*! SET x=1 */"), "1:SET 1:x 12:= 4:1");
  CHECK_EQ_STR(lx("/*M!100100 SET y=2 */ /*M!999999 SET z=3 */ SELECT 2"), "1:SET 1:y 12:= 4:2 1:SELECT 4:2");
  CHECK_EQ_STR(lx("SELECT /*!40001 SQL_NO_CACHE */ * FROM t"), "1:SELECT 1:SQL_NO_CACHE 12:* 1:FROM 1:t");
  CHECK_EQ_STR(lx("CREATE TABLE t (a int) /*!50100 PARTITION BY x */"), "1:CREATE 1:TABLE 1:t 12:( 1:a 1:int 12:) 1:PARTITION 1:BY 1:x"); /* 50100 <= ours */
}

static char stmts[4096];
static size_t nst;
static int cb(void *ctx, const char *s, size_t n) {
  nst += (size_t)snprintf(stmts + nst, sizeof stmts - nst, "[%.*s]", (int)n, s);
  return ctx ? 7 : 0;
}
static const char *split(const char *s) {
  nst = 0;
  stmts[0] = 0;
  lex_split(s, strlen(s), 0, cb, NULL);
  return stmts;
}

TEST(split) {
  CHECK_EQ_STR(split("SELECT 1; SELECT 2"), "[SELECT 1][SELECT 2]");
  CHECK_EQ_STR(split("SELECT ';'; SELECT \";\"; SELECT `;`"), "[SELECT ';'][SELECT \";\"][SELECT `;`]");
  CHECK_EQ_STR(split("SELECT 1 -- ;\n; SELECT 2 # ;"), "[SELECT 1 -- ;][SELECT 2 # ;]");
  CHECK_EQ_STR(split("SELECT /* ; */ 1;;  ;"), "[SELECT /* ; */ 1]");
  CHECK_EQ_STR(split("/*!40101 SET NAMES utf8 */;\nINSERT INTO t VALUES ('a\\';b');"),
               "[/*!40101 SET NAMES utf8 */][INSERT INTO t VALUES ('a\\';b')]");
  CHECK_EQ_STR(split(""), "");
  CHECK_EQ_STR(split(";"), "");
  nst = 0;
  CHECK_EQ_INT(lex_split("a; b; c", 7, 0, cb, (void *)1), 7); /* stops at the first non-zero */
  CHECK_EQ_STR(stmts, "[a]");
}

TEST(near) {
  const char *s = "SELECT * FROM t WHERE x = = 1";
  lex l;
  lex_init(&l, s, strlen(s));
  lex_token t;
  for (int i = 0; i < 7; i++) lex_next(&l, &t);
  CHECK(lex_is_op(&t, "="));
  char buf[100];
  lex_near(&l, &t, buf, sizeof buf);
  CHECK_EQ_STR(buf, "= = 1");
  lex_next(&l, &t);
  lex_next(&l, &t);
  lex_next(&l, &t);
  CHECK_EQ_INT(t.type, TK_EOF);
  lex_near(&l, &t, buf, sizeof buf);
  CHECK_EQ_STR(buf, "");
}

int main(void) {
  mm_buf_init(&val);
  RUN(tokens);
  RUN(numbers);
  RUN(strings);
  RUN(comments);
  RUN(split);
  RUN(near);
  mm_buf_free(&val);
  return unit_report("sql_lex");
}
