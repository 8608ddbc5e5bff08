/*
 * util/mm.c - allocation wrapper with fault injection, error helpers,
 * byte buffers, the error log and clocks.  See mm.h.
 */
#include "util/mm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- allocation ---------------------------------------------------------- */
static _Atomic uint64_t alloc_count;
static _Atomic uint64_t alloc_fail_at; /* absolute count at which to fail; 0 = off */
static _Atomic int alloc_fail_sticky;

void mm_alloc_fail_at(uint64_t n, int sticky) {
  alloc_fail_sticky = sticky;
  alloc_fail_at = n ? atomic_load(&alloc_count) + n : 0;
}

uint64_t mm_alloc_count(void) { return atomic_load(&alloc_count); }

/* Returns non-zero when this allocation must fail (test hook). */
static int alloc_should_fail(void) {
  uint64_t c = atomic_fetch_add(&alloc_count, 1) + 1;
  uint64_t at = atomic_load(&alloc_fail_at);
  if (at == 0) return 0;
  return c == at || (alloc_fail_sticky && c > at);
}

void *mm_malloc(size_t n) { return alloc_should_fail() ? NULL : malloc(n ? n : 1); }
void *mm_calloc(size_t n, size_t size) { return alloc_should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1); }
void *mm_realloc(void *p, size_t n) { return alloc_should_fail() ? NULL : realloc(p, n ? n : 1); }
void mm_free(void *p) { free(p); }

char *mm_strndup(const char *s, size_t n) {
  char *d = mm_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}
char *mm_strdup(const char *s) { return mm_strndup(s, strlen(s)); }

char *mm_sprintf(const char *fmt, ...) {
  mm_buf b;
  mm_buf_init(&b);
  va_list ap;
  va_start(ap, fmt);
  int rc = mm_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (rc != MM_OK) { mm_buf_free(&b); return NULL; }
  if (!b.p) return mm_strdup("");
  return mm_buf_steal(&b, NULL);
}

const char *mm_strerror(int status) {
  switch (status) {
  case MM_OK: return "ok";
  case MM_ENOMEM: return "out of memory";
  case MM_EIO: return "I/O error";
  case MM_EINVAL: return "invalid input";
  case MM_ENOTFOUND: return "not found";
  case MM_EEXIST: return "already exists";
  case MM_EAGAIN: return "try again";
  case MM_ECORRUPT: return "corrupt data";
  case MM_ECLOSED: return "closed";
  case MM_EBUSY: return "busy";
  case MM_ESQL: return "SQL error";
  default: return "unknown error";
  }
}

/* ---- MySQL-facing errors ------------------------------------------------- */
int mm_error_set(mm_error *e, int code, const char *sqlstate, const char *fmt, ...) {
  e->code = code;
  snprintf(e->sqlstate, sizeof e->sqlstate, "%s", sqlstate ? sqlstate : "HY000");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return MM_ESQL;
}

void mm_error_clear(mm_error *e) {
  e->code = 0;
  e->sqlstate[0] = 0;
  e->msg[0] = 0;
}

/* ---- byte buffer ------------------------------------------------------------ */
void mm_buf_init(mm_buf *b) { memset(b, 0, sizeof *b); }
void mm_buf_free(mm_buf *b) { mm_free(b->p); mm_buf_init(b); }
void mm_buf_reset(mm_buf *b) { b->len = 0; b->oom = 0; if (b->p) b->p[0] = 0; }

int mm_buf_reserve(mm_buf *b, size_t extra) {
  if (b->oom) return MM_ENOMEM;
  if (b->len + extra + 1 <= b->cap) return MM_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  char *p = mm_realloc(b->p, cap);
  if (!p) { b->oom = 1; return MM_ENOMEM; }
  b->p = p;
  b->cap = cap;
  return MM_OK;
}

int mm_buf_append(mm_buf *b, const void *p, size_t n) {
  if (mm_buf_reserve(b, n) != MM_OK) return MM_ENOMEM;
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = 0;
  return MM_OK;
}

int mm_buf_puts(mm_buf *b, const char *s) { return mm_buf_append(b, s, strlen(s)); }
int mm_buf_putc(mm_buf *b, int c) { char ch = (char)c; return mm_buf_append(b, &ch, 1); }

int mm_buf_vprintf(mm_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) return MM_EINVAL;
  if ((size_t)n < sizeof small) return mm_buf_append(b, small, (size_t)n);
  if (mm_buf_reserve(b, (size_t)n) != MM_OK) return MM_ENOMEM;
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return MM_OK;
}

int mm_buf_printf(mm_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = mm_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *mm_buf_steal(mm_buf *b, size_t *len) {
  char *p = b->p;
  if (len) *len = b->len;
  mm_buf_init(b);
  return p;
}

/* ---- log ------------------------------------------------------------------- */
static FILE *log_fp;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

int mm_log_open(const char *path) {
  FILE *fp = stderr;
  if (path && *path) {
    fp = fopen(path, "a");
    if (!fp) return MM_EIO;
    setvbuf(fp, NULL, _IOLBF, 0);
  }
  pthread_mutex_lock(&log_mu);
  if (log_fp && log_fp != stderr) fclose(log_fp);
  log_fp = fp;
  pthread_mutex_unlock(&log_mu);
  return MM_OK;
}

void mm_log(int level, const char *fmt, ...) {
  static const char *names[] = {"ERROR", "Warning", "Note"};
  char ts[64];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm tm;
  localtime_r(&now.tv_sec, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
  pthread_mutex_lock(&log_mu);
  FILE *fp = log_fp ? log_fp : stderr;
  fprintf(fp, "%s %lu [%s] ", ts, (unsigned long)pthread_self() % 100000,
          names[level < 0 || level > 2 ? 0 : level]);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(fp, fmt, ap);
  va_end(ap);
  fputc('\n', fp);
  fflush(fp);
  pthread_mutex_unlock(&log_mu);
}

int mm_cond_init_monotonic(pthread_cond_t *cv) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(cv, &ca);
  pthread_condattr_destroy(&ca);
  return rc;
}

uint64_t mm_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t mm_wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
