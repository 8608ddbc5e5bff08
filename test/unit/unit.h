/*
 * test/unit/unit.h - a tiny unit test harness.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_EQ_STR(s, "x"); }
 *   int main(void) { RUN(name); ...; return unit_report(); }
 *
 * A failed CHECK prints file:line and the expression, marks the test as
 * failed and returns from it.  unit_report() prints "N passed, N failed".
 */
#ifndef MM_TEST_UNIT_H
#define MM_TEST_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_cur_failed;

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                   \
  do {                                                              \
    unit_cur_failed = 0;                                            \
    test_##name();                                                  \
    if (unit_cur_failed) { unit_failed++; fprintf(stderr, "FAIL %s\n", #name); } \
    else unit_passed++;                                             \
  } while (0)
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
      unit_cur_failed = 1;                                                       \
      return;                                                                    \
    }                                                                            \
  } while (0)
#define CHECK_EQ_INT(a, b)                                                              \
  do {                                                                                  \
    long long _a = (long long)(a), _b = (long long)(b);                                 \
    if (_a != _b) {                                                                     \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
      unit_cur_failed = 1;                                                              \
      return;                                                                           \
    }                                                                                   \
  } while (0)
#define CHECK_EQ_STR(a, b)                                                              \
  do {                                                                                  \
    const char *_a = (a), *_b = (b);                                                    \
    if (!_a || !_b || strcmp(_a, _b) != 0) {                                            \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
              _a ? _a : "(null)", _b ? _b : "(null)");                                  \
      unit_cur_failed = 1;                                                              \
      return;                                                                           \
    }                                                                                   \
  } while (0)

static inline int unit_report(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
  return unit_failed ? 1 : 0;
}
#endif
