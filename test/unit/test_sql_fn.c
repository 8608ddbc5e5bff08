/*
 * test/unit/test_sql_fn.c - the MySQL function library (sql/fn.c) on an
 * in-memory SQLite database: each check is a MySQL-visible result.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/fn.h"
#include "unit.h"

static sqlite3 *db;
static fn_state st;
static char res[4096];

/* First column of the first row as text ("NULL" for NULL, "ERR:msg" on error). */
static const char *q(const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
    snprintf(res, sizeof res, "ERR:%s", sqlite3_errmsg(db));
    return res;
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (sqlite3_column_type(s, 0) == SQLITE_NULL) snprintf(res, sizeof res, "NULL");
    else if (sqlite3_column_type(s, 0) == SQLITE_FLOAT) snprintf(res, sizeof res, "%.15g", sqlite3_column_double(s, 0));
    else snprintf(res, sizeof res, "%.*s", sqlite3_column_bytes(s, 0), (const char *)sqlite3_column_text(s, 0));
  } else if (rc == SQLITE_DONE) snprintf(res, sizeof res, "EMPTY");
  else snprintf(res, sizeof res, "ERR:%s", sqlite3_errmsg(db));
  sqlite3_finalize(s);
  return res;
}
static int qtype(const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return -1;
  int t = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_type(s, 0) : -1;
  sqlite3_finalize(s);
  return t;
}
#define Q(sql, want) CHECK_EQ_STR(q(sql), want)

TEST(now_and_tz) {
  /* 2024-02-29 23:59:58.123456 UTC */
  st.stmt_time_us = 1709251198123456LL;
  st.tz_offset = 0;
  Q("SELECT now()", "2024-02-29 23:59:58");
  Q("SELECT now(3)", "2024-02-29 23:59:58.123");
  Q("SELECT now(6)", "2024-02-29 23:59:58.123456");
  Q("SELECT sysdate() > '2020'", "1");
  Q("SELECT localtime()", "2024-02-29 23:59:58");
  Q("SELECT curdate()", "2024-02-29");
  Q("SELECT curtime()", "23:59:58");
  Q("SELECT unix_timestamp()", "1709251198");
  st.tz_offset = 3600; /* +01:00 */
  Q("SELECT now()", "2024-03-01 00:59:58");
  Q("SELECT curdate()", "2024-03-01");
  Q("SELECT utc_timestamp()", "2024-02-29 23:59:58");
  Q("SELECT utc_date()", "2024-02-29");
  Q("SELECT unix_timestamp()", "1709251198");
  Q("SELECT unix_timestamp('2024-03-01 00:59:58')", "1709251198");
  Q("SELECT from_unixtime(1709251198)", "2024-03-01 00:59:58");
  st.tz_offset = 0;
  Q("SELECT from_unixtime(0)", "1970-01-01 00:00:00");
  Q("SELECT from_unixtime(1.5)", "1970-01-01 00:00:01.500000");
  Q("SELECT from_unixtime(86400, '%Y/%m/%d')", "1970/01/02");
  Q("SELECT from_unixtime(-1)", "NULL");
  Q("SELECT unix_timestamp('1970-01-02')", "86400");
  Q("SELECT unix_timestamp('2024-01-01 00:00:00.5')", "1704067200.5");
  Q("SELECT unix_timestamp('garbage')", "0");
  Q("SELECT unix_timestamp(NULL)", "NULL");
  Q("SELECT now(7)", "ERR:Too-big precision specified. Maximum is 6.");
}

TEST(date_format) {
  Q("SELECT date_format('2024-03-05 14:07:09.012345', '%Y-%m-%d %H:%i:%s.%f')", "2024-03-05 14:07:09.012345");
  Q("SELECT date_format('2024-03-05 14:07:09', '%a %b %c %D %e %j %k %l %p %r %T %W %w %y %M %%')",
    "Tue Mar 3 5th 5 065 14 2 PM 02:07:09 PM 14:07:09 Tuesday 2 24 March %");
  Q("SELECT date_format('2024-01-01', '%U %u %V %v %X %x')", "00 01 53 01 2023 2024");
  Q("SELECT date_format('2023-01-01', '%U %u %V %v %X %x')", "01 00 01 52 2023 2022");
  Q("SELECT date_format('2024-02-30', '%Y')", "NULL");
  Q("SELECT date_format(NULL, '%Y')", "NULL");
  Q("SELECT date_format('2001-01-11', '%D %h %I')", "11th 12 12");
  Q("SELECT date_format('2001-01-22 00:00:00', '%D %h')", "22nd 12");
  Q("SELECT time_format('10:05:03', '%H.%i.%s %p')", "10.05.03 AM");
  Q("SELECT date_format(20240305, '%d.%m.%Y')", "05.03.2024");
}

TEST(str_to_date) {
  Q("SELECT str_to_date('01,5,2013', '%d,%m,%Y')", "2013-05-01");
  Q("SELECT str_to_date('May 1, 2013', '%M %d,%Y')", "2013-05-01");
  Q("SELECT str_to_date('a09:30:17', 'a%h:%i:%s')", "09:30:17");
  Q("SELECT str_to_date('2013-05-01 10:11:12', '%Y-%m-%d %H:%i:%s')", "2013-05-01 10:11:12");
  Q("SELECT str_to_date('09:30:17 PM', '%r')", "21:30:17");
  Q("SELECT str_to_date('2013-02-30', '%Y-%m-%d')", "NULL");
  Q("SELECT str_to_date('x', '%Y')", "NULL");
  Q("SELECT str_to_date('12/31/99', '%m/%d/%y')", "1999-12-31");
}

TEST(parts) {
  Q("SELECT date('2024-03-05 10:11:12')", "2024-03-05");
  Q("SELECT time('2024-03-05 10:11:12.5')", "10:11:12.500000");
  Q("SELECT time('10:11:12')", "10:11:12");
  Q("SELECT date('bogus')", "NULL");
  Q("SELECT year('2024-03-05'), 1", "2024");
  Q("SELECT month('2024-03-05')", "3");
  Q("SELECT day('2024-03-05')", "5");
  Q("SELECT dayofmonth('2024-03-05')", "5");
  Q("SELECT hour('2024-03-05 10:11:12')", "10");
  Q("SELECT hour('838:00:00')", "838");
  Q("SELECT minute('10:11:12')", "11");
  Q("SELECT second('2024-03-05 10:11:12')", "12");
  Q("SELECT microsecond('10:11:12.000123')", "123");
  Q("SELECT dayofweek('2024-03-05')", "3"); /* Tuesday: 1 = Sunday */
  Q("SELECT weekday('2024-03-05')", "1");   /* 0 = Monday */
  Q("SELECT dayofyear('2024-12-31')", "366");
  Q("SELECT dayname('2024-03-03')", "Sunday");
  Q("SELECT monthname('2024-03-03')", "March");
  Q("SELECT quarter('2024-11-03')", "4");
  Q("SELECT week('2024-03-05')", "9");
  Q("SELECT week('2024-01-01')", "0");
  Q("SELECT week('2024-01-01', 1)", "1");
  Q("SELECT week('2008-02-20', 0)", "7");
  Q("SELECT week('2008-12-31', 1)", "53");
  Q("SELECT weekofyear('2008-02-20')", "8");
  Q("SELECT yearweek('1987-01-01')", "198652");
  Q("SELECT last_day('2024-02-10')", "2024-02-29");
  Q("SELECT last_day('2023-02-10 10:00:00')", "2023-02-28");
  Q("SELECT last_day('2023-13-10')", "NULL");
  Q("SELECT to_days('2007-10-07')", "733321");
  Q("SELECT from_days(733321)", "2007-10-07");
  Q("SELECT makedate(2011, 32)", "2011-02-01");
  Q("SELECT year(NULL)", "NULL");
  Q("SELECT year('0000-00-00')", "0");
  Q("SELECT dayname('0000-00-00')", "NULL");
  Q("SELECT year(20240305)", "2024");
  Q("SELECT month('2024-3-5')", "3");
  Q("SELECT day('2024-03-05T10:00:00')", "5");
}

TEST(diffs) {
  Q("SELECT datediff('2007-12-31 23:59:59', '2007-12-30')", "1");
  Q("SELECT datediff('2010-11-30 23:59:59', '2010-12-31')", "-31");
  Q("SELECT datediff('2010-11-31', '2010-12-31')", "NULL");
  Q("SELECT timestampdiff('MONTH', '2003-02-01', '2003-05-01')", "3");
  Q("SELECT timestampdiff('YEAR', '2002-05-01', '2001-01-01')", "-1");
  Q("SELECT timestampdiff('MINUTE', '2003-02-01', '2003-05-01 12:05:55')", "128885");
  Q("SELECT timestampdiff('MONTH', '2024-01-31', '2024-02-29')", "0");
  Q("SELECT timestampdiff('DAY', '2024-01-01 12:00:00', '2024-01-02 11:59:59')", "0");
  Q("SELECT timestampdiff('SECOND', '2024-01-01', '2024-01-01 00:01:00')", "60");
  Q("SELECT timestampdiff('QUARTER', '2024-01-01', '2024-12-31')", "3");
  Q("SELECT timediff('2000-01-01 00:00:00', '2000-01-01 00:00:00.000001')", "-00:00:00.000001");
  Q("SELECT timediff('2008-12-31 23:59:59.000001', '2008-12-30 01:01:01.000002')", "46:58:57.999999");
  Q("SELECT timediff('10:00:00', '2008-12-30 01:01:01')", "NULL");
  Q("SELECT time_to_sec('22:23:00')", "80580");
  Q("SELECT sec_to_time(2378)", "00:39:38");
  Q("SELECT addtime('2007-12-31 23:59:59.999999', '1 1:1:1.000002')", "2008-01-02 01:01:01.000001");
  Q("SELECT subtime('01:00:00', '02:00:00')", "-01:00:00");
}

TEST(date_add) {
  Q("SELECT mm_date_add('2024-01-31', 1, 'MONTH')", "2024-02-29");
  Q("SELECT mm_date_add('2024-02-29', 1, 'YEAR')", "2025-02-28");
  Q("SELECT mm_date_add('2024-01-01', 1, 'DAY')", "2024-01-02");
  Q("SELECT mm_date_add('2024-01-01', 1, 'HOUR')", "2024-01-01 01:00:00");
  Q("SELECT mm_date_add('2024-12-31 23:59:59', 1, 'SECOND')", "2025-01-01 00:00:00");
  Q("SELECT mm_date_sub('2024-03-01', 1, 'DAY')", "2024-02-29");
  Q("SELECT mm_date_add('2024-03-01', -1, 'DAY')", "2024-02-29");
  Q("SELECT mm_date_add('2024-01-01', 2, 'WEEK')", "2024-01-15");
  Q("SELECT mm_date_add('2024-01-01', 1, 'QUARTER')", "2024-04-01");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', 5, 'MICROSECOND')", "2024-01-01 00:00:00.000005");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', 1.5, 'SECOND')", "2024-01-01 00:00:01.500000");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', '1:1', 'MINUTE_SECOND')", "2024-01-01 00:01:01");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', '1 2', 'DAY_HOUR')", "2024-01-02 02:00:00");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', '-1 10', 'DAY_HOUR')", "2023-12-30 14:00:00");
  Q("SELECT mm_date_add('2024-01-01', '1-2', 'YEAR_MONTH')", "2025-03-01");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', '1 1:1:1', 'DAY_SECOND')", "2024-01-02 01:01:01");
  Q("SELECT mm_date_add('2024-01-01 00:00:00', '1.5', 'SECOND_MICROSECOND')", "2024-01-01 00:00:01.500000");
  Q("SELECT mm_date_add('9999-12-31', 1, 'DAY')", "NULL");
  Q("SELECT mm_date_add('0001-01-01', -1, 'YEAR')", "0000-01-01");
  Q("SELECT mm_date_add(NULL, 1, 'DAY')", "NULL");
  Q("SELECT mm_date_add('2024-01-01', NULL, 'DAY')", "NULL");
  Q("SELECT mm_date_add('nope', 1, 'DAY')", "NULL");
  Q("SELECT mm_date_add('2024-01-01', 1, 'FORTNIGHT')", "NULL");
  Q("SELECT mm_date_add('10:00:00', 30, 'MINUTE')", "10:30:00");
  Q("SELECT mm_extract('YEAR', '2024-03-05 10:11:12')", "2024");
  Q("SELECT mm_extract('YEAR_MONTH', '2024-03-05 10:11:12')", "202403");
  Q("SELECT mm_extract('DAY_MINUTE', '2024-03-05 10:11:12')", "51011");
  Q("SELECT mm_extract('MICROSECOND', '2024-03-05 10:11:12.000042')", "42");
  Q("SELECT mm_extract('HOUR_SECOND', '10:11:12')", "101112");
}

TEST(strings) {
  Q("SELECT concat('a', 1, 2.5)", "a12.5");
  Q("SELECT concat('a', NULL)", "NULL");
  Q("SELECT concat_ws(',', 'a', NULL, 'b')", "a,b");
  Q("SELECT concat_ws(NULL, 'a')", "NULL");
  Q("SELECT length('héllo')", "6");
  Q("SELECT octet_length('中')", "3");
  Q("SELECT char_length('héllo')", "5");
  Q("SELECT character_length('中文')", "2");
  Q("SELECT substring('Quadratically', 5)", "ratically");
  Q("SELECT substring('Quadratically', 5, 6)", "ratica");
  Q("SELECT substring('Sakila', -3)", "ila");
  Q("SELECT substring('Sakila', -5, 3)", "aki");
  Q("SELECT substring('Sakila', 0)", "");
  Q("SELECT substring('Sakila', 7)", "");
  Q("SELECT substring('Sakila', -7)", "");
  Q("SELECT substring('Sakila', 2, -1)", "");
  Q("SELECT substr('héllo', 2, 2)", "él");
  Q("SELECT mid('abcdef', 2, 3)", "bcd");
  Q("SELECT substring_index('www.mysql.com', '.', 2)", "www.mysql");
  Q("SELECT substring_index('www.mysql.com', '.', -2)", "mysql.com");
  Q("SELECT substring_index('www.mysql.com', '.', 0)", "");
  Q("SELECT substring_index('www.mysql.com', 'x', 1)", "www.mysql.com");
  Q("SELECT locate('bar', 'foobarbar')", "4");
  Q("SELECT locate('xbar', 'foobar')", "0");
  Q("SELECT locate('bar', 'foobarbar', 5)", "7");
  Q("SELECT locate('BAR', 'foobar')", "4");
  Q("SELECT locate('', 'abc')", "1");
  Q("SELECT locate('é', 'aéb')", "2");
  Q("SELECT instr('foobarbar', 'bar')", "4");
  Q("SELECT position('b', 'abc')", "2");
  Q("SELECT replace('www.mysql.com', 'w', 'Ww')", "WwWwWw.mysql.com");
  Q("SELECT lower('ÀBC Ω')", "àbc ω");
  Q("SELECT upper('àbc ж')", "ÀBC Ж");
  Q("SELECT lcase('X'), ucase('y')", "x");
  Q("SELECT ucase('y')", "Y");
  Q("SELECT trim('  bar   ')", "bar");
  Q("SELECT ltrim('  bar  ')", "bar  ");
  Q("SELECT rtrim('  bar  ')", "  bar");
  Q("SELECT mm_trim('xxbarxxx', 'x', 'LEADING')", "barxxx");
  Q("SELECT mm_trim('xxbarxxx', 'x', 'BOTH')", "bar");
  Q("SELECT mm_trim('barxxyz', 'xyz', 'TRAILING')", "barx");
  Q("SELECT mm_trim('  a  ', ' ', 'BOTH')", "a");
  Q("SELECT lpad('hi', 4, '!!')", "!!hi");
  Q("SELECT lpad('hi', 1, '!!')", "h");
  Q("SELECT lpad('hi', 5, 'ab')", "abahi");
  Q("SELECT rpad('hi', 5, '?')", "hi???");
  Q("SELECT rpad('hi', 5, '')", "NULL");
  Q("SELECT lpad('hi', -1, 'x')", "NULL");
  Q("SELECT mm_left('foobarbar', 5)", "fooba");
  Q("SELECT mm_left('héllo', 2)", "hé");
  Q("SELECT mm_right('foobarbar', 4)", "rbar");
  Q("SELECT mm_right('ab', 5)", "ab");
  Q("SELECT mm_left('ab', -1)", "");
  Q("SELECT repeat('ab', 3)", "ababab");
  Q("SELECT repeat('ab', 0)", "");
  Q("SELECT reverse('abc中')", "中cba");
  Q("SELECT concat('[', space(3), ']')", "[   ]");
  Q("SELECT strcmp('text', 'text2')", "-1");
  Q("SELECT strcmp('text2', 'text')", "1");
  Q("SELECT strcmp('Text', 'text')", "0");
  Q("SELECT mm_insert('Quadratic', 3, 4, 'What')", "QuWhattic");
  Q("SELECT mm_insert('Quadratic', -1, 4, 'What')", "Quadratic");
  Q("SELECT mm_insert('Quadratic', 3, 100, 'What')", "QuWhat");
  Q("SELECT ascii('2'), 1", "50");
  Q("SELECT ascii('')", "0");
  Q("SELECT ord('2')", "50");
  Q("SELECT ord('é')", "50089");
  Q("SELECT char(77, 121, 83, 81, '76')", "MySQL");
  Q("SELECT char(77, NULL, 77)", "MM");
  Q("SELECT hex(char(1, 0))", "0100");
  Q("SELECT field('Bb', 'Aa', 'Bb', 'Cc')", "2");
  Q("SELECT field('bb', 'Aa', 'BB')", "2");
  Q("SELECT field('Gg', 'Aa')", "0");
  Q("SELECT field(NULL, 'a')", "0");
  Q("SELECT field(2, '1', '2.0')", "2");
  Q("SELECT elt(1, 'Aa', 'Bb')", "Aa");
  Q("SELECT elt(3, 'Aa', 'Bb')", "NULL");
  Q("SELECT find_in_set('b', 'a,b,c,d')", "2");
  Q("SELECT find_in_set('B', 'a,b,c,d')", "2");
  Q("SELECT find_in_set('e', 'a,b,c,d')", "0");
  Q("SELECT find_in_set('a', '')", "0");
  Q("SELECT find_in_set(NULL, 'a')", "NULL");
  Q("SELECT mm_format(12332.123456, 4)", "12,332.1235");
  Q("SELECT mm_format(12332.1, 4)", "12,332.1000");
  Q("SELECT mm_format(12332.2, 0)", "12,332");
  Q("SELECT mm_format(-1234567, 2)", "-1,234,567.00");
  Q("SELECT to_base64('abc')", "YWJj");
}

TEST(control) {
  Q("SELECT ifnull(NULL, 'x')", "x");
  Q("SELECT ifnull(1, 'x')", "1");
  Q("SELECT nullif(1, 1)", "NULL");
  Q("SELECT iif(1 > 0, 'y', 'n')", "y");
  Q("SELECT if(0, 'y', 'n')", "n");
  Q("SELECT if(NULL, 'y', 'n')", "n");
  Q("SELECT if('0.5', 'y', 'n')", "y");
  Q("SELECT mm_isnull(NULL)", "1");
  Q("SELECT mm_isnull(0)", "0");
  Q("SELECT coalesce(NULL, NULL, 3)", "3");
  Q("SELECT greatest(2, 0, 34.0)", "34");
  Q("SELECT greatest('B', 'A', 'C')", "C");
  Q("SELECT greatest('b', 'A', 'C')", "C");
  Q("SELECT least('10', 9)", "9");
  Q("SELECT greatest('10', 9)", "10");
  Q("SELECT least(2, NULL)", "NULL");
  Q("SELECT least(34.0, 3.0, 5.0, 767.0)", "3");
  Q("SELECT greatest()", "ERR:Incorrect parameter count in the call to native function 'GREATEST'");
  Q("SELECT least(1)", "ERR:Incorrect parameter count in the call to native function 'LEAST'");
}

TEST(math) {
  Q("SELECT round(-1.23)", "-1");
  Q("SELECT round(-1.58)", "-2");
  Q("SELECT round(1.58)", "2");
  Q("SELECT round(1.298, 1)", "1.3");
  Q("SELECT round(1.298, 0)", "1");
  Q("SELECT round(23.298, -1)", "20");
  Q("SELECT round(2.5)", "3");
  Q("SELECT round(-2.5)", "-3");
  Q("SELECT round(1.005, 2)", "1.01");
  Q("SELECT round(125, -1)", "130");
  Q("SELECT round(-125, -1)", "-130");
  Q("SELECT mm_round(7)", "7");
  CHECK_EQ_INT(qtype("SELECT round(2.5)"), SQLITE_INTEGER);
  Q("SELECT truncate(1.223, 1)", "1.2");
  Q("SELECT truncate(1.999, 1)", "1.9");
  Q("SELECT truncate(-1.999, 1)", "-1.9");
  Q("SELECT truncate(122, -2)", "100");
  Q("SELECT mm_truncate(10.28*100, 0)", "1028");
  Q("SELECT floor(1.23)", "1");
  Q("SELECT floor(-1.23)", "-2");
  Q("SELECT ceil(1.23)", "2");
  Q("SELECT ceiling(-1.23)", "-1");
  Q("SELECT floor('3.7abc')", "3");
  CHECK_EQ_INT(qtype("SELECT floor(1.5)"), SQLITE_INTEGER);
  Q("SELECT abs(-32)", "32");
  Q("SELECT sign(-32), 1", "-1");
  Q("SELECT sign(0)", "0");
  Q("SELECT pow(2, 10)", "1024");
  Q("SELECT power(2, -2)", "0.25");
  Q("SELECT sqrt(4)", "2");
  Q("SELECT sqrt(-16)", "NULL");
  Q("SELECT exp(0)", "1");
  Q("SELECT ln(1)", "0");
  Q("SELECT ln(0)", "NULL");
  Q("SELECT log(2, 65536)", "16");
  Q("SELECT mm_log(1, 100)", "NULL");
  Q("SELECT log10(100)", "2");
  Q("SELECT log2(65536)", "16");
  Q("SELECT pi()", "3.14159265358979");
  Q("SELECT mod(234, 10)", "4");
  Q("SELECT mm_mod(253, 7)", "1");
  Q("SELECT mm_mod(29, 9)", "2");
  Q("SELECT mm_mod(-7, 3)", "-1");
  Q("SELECT mm_mod(34.5, 3)", "1.5");
  Q("SELECT mm_mod(1, 0)", "NULL");
  Q("SELECT mm_div(5, 2)", "2.5");
  Q("SELECT mm_div(1, 0)", "NULL");
  Q("SELECT mm_div('6', '3')", "2");
  Q("SELECT mm_divf(5, 2)", "2.5000");
  Q("SELECT mm_divf(1, 3)", "0.3333");
  Q("SELECT mm_divf(1.5, 3)", "0.50000");
  Q("SELECT mm_divf(-1, 100000)", "0.0000");
  Q("SELECT mm_divf(1, 0)", "NULL");
  Q("SELECT mm_intdiv(5, 2)", "2");
  Q("SELECT mm_intdiv(-5, 2)", "-2");
  Q("SELECT mm_intdiv(5.5, 2)", "2");
  Q("SELECT mm_intdiv(5, 0)", "NULL");
  Q("SELECT mm_bitxor(1, 3)", "2");
  Q("SELECT mm_xor(1, 1)", "0");
  Q("SELECT mm_xor(1, 0)", "1");
  Q("SELECT mm_xor(1, NULL)", "NULL");
  Q("SELECT bit_count(29)", "4");
  Q("SELECT conv('a', 16, 2)", "1010");
  Q("SELECT conv('6E', 18, 8)", "172");
  Q("SELECT conv(-17, 10, -18)", "-H");
  Q("SELECT conv(10, 10, 99)", "NULL");
  Q("SELECT bin(12)", "1100");
  Q("SELECT oct(12)", "14");
  Q("SELECT hex(255)", "FF");
  Q("SELECT hex('abc')", "616263");
  Q("SELECT hex(-1)", "FFFFFFFFFFFFFFFF");
  Q("SELECT unhex('4D7953514C')", "MySQL");
  Q("SELECT unhex('GG')", "NULL");
  Q("SELECT hex(unhex('abc'))", "0ABC");
  Q("SELECT inet_aton('10.0.5.9')", "167773449");
  Q("SELECT inet_aton('127.1')", "2130706433");
  Q("SELECT inet_aton('1.2.3.')", "NULL");
  Q("SELECT inet_aton('256.1.1.1')", "NULL");
  Q("SELECT inet_ntoa(167773449)", "10.0.5.9");
  Q("SELECT inet_ntoa(-1)", "NULL");
}

TEST(rand_hash_uuid) {
  /* MySQL: SELECT RAND(3) = 0.9057697559760601 */
  CHECK_EQ_STR(q("SELECT round(rand(3), 10)"), "0.905769756");
  Q("SELECT rand() BETWEEN 0 AND 1", "1");
  Q("SELECT md5('testing')", "ae2b1fca515949e5d54fb22b8ed95575");
  Q("SELECT sha1('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d");
  Q("SELECT sha('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d");
  Q("SELECT sha2('abc', 256)", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Q("SELECT sha2('abc', 0)", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Q("SELECT sha2('abc', 7)", "NULL");
  Q("SELECT md5(NULL)", "NULL");
  Q("SELECT length(uuid())", "36");
  Q("SELECT substr(uuid(), 15, 1)", "1");
  Q("SELECT uuid() <> uuid()", "1");
  Q("SELECT regexp('^b.*r$', 'BaR')", "1");
  Q("SELECT 'foobar' REGEXP 'o+b'", "1");
  Q("SELECT 'foobar' REGEXP '^x'", "0");
  Q("SELECT NULL REGEXP 'a'", "NULL");
  CHECK(strncmp(q("SELECT 'a' REGEXP '('"), "ERR:Got error", 13) == 0);
}

TEST(cast) {
  Q("SELECT mm_cast('12abc', 'SIGNED')", "12");
  Q("SELECT mm_cast(1.5, 'SIGNED')", "2");
  Q("SELECT mm_cast(-1.5, 'SIGNED')", "-2");
  Q("SELECT mm_cast('1.9', 'SIGNED')", "1");
  Q("SELECT mm_cast(-1, 'UNSIGNED')", "18446744073709551615");
  Q("SELECT mm_cast('18446744073709551615', 'UNSIGNED')", "18446744073709551615");
  Q("SELECT mm_cast(42, 'CHAR')", "42");
  Q("SELECT mm_cast('héllo', 'CHAR(2)')", "hé");
  Q("SELECT hex(mm_cast('ab', 'BINARY(4)'))", "61620000");
  Q("SELECT mm_cast('2024-03-05 10:11:12', 'DATE')", "2024-03-05");
  Q("SELECT mm_cast('2024-03-05', 'DATETIME')", "2024-03-05 00:00:00");
  Q("SELECT mm_cast('2024-03-05 10:11:12.5', 'DATETIME')", "2024-03-05 10:11:13");
  Q("SELECT mm_cast('2024-03-05 10:11:12.123456', 'DATETIME(3)')", "2024-03-05 10:11:12.123");
  Q("SELECT mm_cast('2024-03-05 10:11:12', 'TIME')", "10:11:12");
  Q("SELECT mm_cast('20240305', 'DATE')", "2024-03-05");
  Q("SELECT mm_cast('2024-02-30', 'DATE')", "NULL");
  Q("SELECT mm_cast('3.14159', 'DECIMAL(10,2)')", "3.14");
  Q("SELECT mm_cast(2.5, 'DECIMAL')", "3");
  Q("SELECT mm_cast(12345, 'DECIMAL(4,1)')", "999.9");
  Q("SELECT mm_cast('1e3', 'DOUBLE')", "1000");
  Q("SELECT mm_cast(NULL, 'SIGNED')", "NULL");
  Q("SELECT mm_cast('[1]', 'JSON')", "[1]");
  Q("SELECT mm_cast(99, 'YEAR')", "1999");
}

TEST(session_info) {
  st.last_insert_id = 42;
  st.row_count = 3;
  st.found_rows = 17;
  Q("SELECT last_insert_id()", "42");
  Q("SELECT last_insert_id(7)", "7");
  CHECK_EQ_INT(st.last_insert_id, 7);
  Q("SELECT last_insert_id()", "7");
  Q("SELECT row_count()", "3");
  Q("SELECT found_rows()", "17");
  Q("SELECT database()", "test");
  Q("SELECT schema()", "test");
  st.db = NULL;
  Q("SELECT database()", "NULL");
  st.db = "test";
  Q("SELECT user()", "root@localhost");
  Q("SELECT current_user()", "root@localhost");
  Q("SELECT session_user()", "root@localhost");
  Q("SELECT system_user()", "root@localhost");
  Q("SELECT version()", "5.7.99-mmsql");
  Q("SELECT connection_id()", "12");
}

TEST(group_concat) {
  CHECK(sqlite3_exec(db,
                     "CREATE TABLE g(k, v, w);"
                     "INSERT INTO g VALUES (1,'b',2),(1,'a',1),(1,'c',3),(1,'a',4),(2,NULL,1),(2,'x',2),(3,NULL,0);",
                     NULL, NULL, NULL) == SQLITE_OK);
  Q("SELECT mm_group_concat(',', 0, 1, v) FROM g WHERE k = 1", "b,a,c,a");
  Q("SELECT mm_group_concat(',', 1, 1, v, v, 0) FROM g WHERE k = 1", "a,b,c");
  Q("SELECT mm_group_concat('-', 0, 1, v, w, 1) FROM g WHERE k = 1", "a-c-b-a");
  Q("SELECT mm_group_concat(',', 0, 2, v, w, v, 0, w, 1) FROM g WHERE k = 1", "a4,a1,b2,c3");
  Q("SELECT mm_group_concat(',', 0, 1, v) FROM g WHERE k = 2", "x");
  Q("SELECT mm_group_concat(',', 0, 1, v) FROM g WHERE k = 3", "NULL");
  Q("SELECT mm_group_concat(',', 0, 1, v) FROM g WHERE k = 99", "NULL");
  Q("SELECT group_concat(r, ';') FROM (SELECT k, mm_group_concat(',', 0, 1, v, v, 0) AS r FROM g GROUP BY k ORDER BY k)",
    "a,a,b,c;x");
  /* group_concat_max_len = 1024 */
  CHECK(sqlite3_exec(db, "CREATE TABLE big(s); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 500) "
                         "INSERT INTO big SELECT 'abc' FROM n;", NULL, NULL, NULL) == SQLITE_OK);
  Q("SELECT length(mm_group_concat(',', 0, 1, s)) FROM big", "1024");
}

TEST(aggregates) {
  CHECK(sqlite3_exec(db, "CREATE TABLE n(x); INSERT INTO n VALUES (2),(4),(4),(4),(5),(5),(7),(9),(NULL);", NULL, NULL,
                     NULL) == SQLITE_OK);
  Q("SELECT std(x) FROM n", "2");
  Q("SELECT stddev_pop(x) FROM n", "2");
  Q("SELECT variance(x) FROM n", "4");
  Q("SELECT var_samp(x) FROM n", "4.57142857142857");
  Q("SELECT round(stddev_samp(x), 4) FROM n", "2.1381");
  Q("SELECT std(x) FROM n WHERE x > 100", "NULL");
  Q("SELECT var_samp(x) FROM n WHERE x = 2", "NULL");
  Q("SELECT bit_or(x) FROM n", "15");
  Q("SELECT bit_and(x) FROM n WHERE x BETWEEN 4 AND 7", "4");
  Q("SELECT bit_xor(x) FROM n WHERE x < 5", "6");
  Q("SELECT bit_and(x) FROM n WHERE x > 100", "18446744073709551615");
  Q("SELECT bit_or(x) FROM n WHERE x > 100", "0");
}

TEST(collation) {
  Q("SELECT 'abc' = 'ABC' COLLATE mm_ci", "1");
  Q("SELECT 'abc ' = 'ABC' COLLATE mm_ci", "1");
  Q("SELECT 'é' = 'É' COLLATE mm_ci", "1");
  Q("SELECT 'a' < 'B' COLLATE mm_ci", "1");
  Q("SELECT 'abc' = 'ABC'", "0");
}

int main(void) {
  st.db = "test";
  st.user = "root@localhost";
  st.version = "5.7.99-mmsql";
  st.conn_id = 12;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK || fn_register(db, &st) != SQLITE_OK) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  RUN(now_and_tz);
  RUN(date_format);
  RUN(str_to_date);
  RUN(parts);
  RUN(diffs);
  RUN(date_add);
  RUN(strings);
  RUN(control);
  RUN(math);
  RUN(rand_hash_uuid);
  RUN(cast);
  RUN(session_info);
  RUN(group_concat);
  RUN(aggregates);
  RUN(collation);
  sqlite3_close(db);
  return unit_report("sql_fn");
}
