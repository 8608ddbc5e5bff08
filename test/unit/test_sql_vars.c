/* Unit tests for sql/vars.c: the system variable table and value parsing. */
#include "sql/vars.h"
#include "unit.h"

#include <string.h>

TEST(table_sorted_and_found) {
  for (int i = 1; i < var_count; i++) CHECK(strcmp(var_defs[i - 1].name, var_defs[i].name) < 0);
  CHECK(var_find("autocommit", 10) >= 0);
  CHECK(var_find("AUTOCOMMIT", 10) >= 0);
  CHECK_EQ_INT(var_find("autocommi", 9), -1);
  CHECK_EQ_INT(var_find("nosuch", 6), -1);
  int i = var_find("auto_increment_increment", 24);
  CHECK(i >= 0);
  CHECK_EQ_STR(var_defs[i].def, "16");
}

TEST(bool_values) {
  int i = var_find("autocommit", 10);
  var_val v;
  mm_error e;
  CHECK_EQ_INT(var_parse(i, "ON", 0, 0, &v, &e), MM_OK);
  CHECK_EQ_INT(v.i, 1);
  CHECK_EQ_INT(var_parse(i, "off", 0, 0, &v, &e), MM_OK);
  CHECK_EQ_INT(v.i, 0);
  CHECK_EQ_INT(var_parse(i, NULL, 1, 1, &v, &e), MM_OK);
  CHECK_EQ_INT(v.i, 1);
  CHECK_EQ_INT(var_parse(i, "maybe", 0, 0, &v, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1231);
  CHECK_EQ_INT(var_parse(i, NULL, 0, 0, &v, &e), MM_ESQL);
  mm_buf b;
  mm_buf_init(&b);
  v.i = 1;
  var_format(i, &v, &b);
  CHECK_EQ_STR(b.p, "ON");
  mm_buf_free(&b);
}

TEST(enum_values) {
  int i = var_find("transaction_isolation", 21);
  var_val v;
  mm_error e;
  CHECK_EQ_INT(var_parse(i, "read committed", 0, 0, &v, &e), MM_OK);
  CHECK_EQ_STR(v.s, "READ-COMMITTED");
  var_val_free(&v);
  CHECK_EQ_INT(var_parse(i, NULL, 1, 2, &v, &e), MM_OK);
  CHECK_EQ_STR(v.s, "REPEATABLE-READ");
  var_val_free(&v);
  CHECK_EQ_INT(var_parse(i, "SNAPSHOT", 0, 0, &v, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1231);
}

TEST(int_values_clamped) {
  int i = var_find("innodb_lock_wait_timeout", 24);
  var_val v;
  mm_error e;
  CHECK_EQ_INT(var_parse(i, "0", 0, 0, &v, &e), MM_OK);
  CHECK_EQ_INT(v.i, 1); /* min 1 */
  CHECK_EQ_INT(var_parse(i, NULL, 1, 7, &v, &e), MM_OK);
  CHECK_EQ_INT(v.i, 7);
  CHECK_EQ_INT(var_parse(i, "abc", 0, 0, &v, &e), MM_ESQL);
  CHECK_EQ_INT(e.code, 1232);
  int j = var_find("sql_select_limit", 16);
  CHECK_EQ_INT(var_parse(j, "18446744073709551615", 0, 0, &v, &e), MM_OK);
  mm_buf b;
  mm_buf_init(&b);
  var_format(j, &v, &b);
  CHECK_EQ_STR(b.p, "18446744073709551615");
  mm_buf_free(&b);
}

TEST(nullable_strings) {
  int i = var_find("character_set_results", 21);
  var_val v;
  mm_error e;
  CHECK_EQ_INT(var_parse(i, NULL, 0, 0, &v, &e), MM_OK);
  CHECK(v.s == NULL);
  CHECK_EQ_INT(var_parse(var_find("time_zone", 9), NULL, 0, 0, &v, &e), MM_ESQL);
}

int main(void) {
  RUN(table_sorted_and_found);
  RUN(bool_values);
  RUN(enum_values);
  RUN(int_values_clamped);
  RUN(nullable_strings);
  return unit_report("sql_vars");
}
