/*
 * util/mm.h - the few things every module of mmsql shares.
 *
 * - One allocation wrapper for the whole server (mm_malloc & co).  Tests can
 *   make the Nth allocation fail with mm_alloc_fail_at(); every caller must
 *   handle NULL from these functions.
 * - One table of internal status codes (MM_OK, MM_ERR_*), 0 for success.
 *   "Try again" (MM_EAGAIN) is distinct from failure.  MySQL-facing errors
 *   are carried separately as (errno, SQLSTATE, message) in mm_error.
 * - A growable byte buffer (mm_buf) and the error log (mm_log).
 */
#ifndef MM_UTIL_MM_H
#define MM_UTIL_MM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* ---- status codes ------------------------------------------------------ */
enum {
  MM_OK = 0,
  MM_ENOMEM = -1,    /* allocation failed */
  MM_EIO = -2,       /* disk or network I/O failed */
  MM_EINVAL = -3,    /* malformed input */
  MM_ENOTFOUND = -4, /* no such key / object */
  MM_EEXIST = -5,    /* already exists */
  MM_EAGAIN = -6,    /* try again: transient, nothing was done */
  MM_ECORRUPT = -7,  /* stored data failed a check */
  MM_ECLOSED = -8,   /* peer or object closed */
  MM_EBUSY = -9,     /* resource held by someone else */
  MM_ESQL = -10,     /* a MySQL-level error; details in an mm_error */
};
/* Text for an MM_* status; never NULL. */
const char *mm_strerror(int status);

/* ---- allocation ------------------------------------------------------- */
void *mm_malloc(size_t n);
void *mm_calloc(size_t n, size_t size);
void *mm_realloc(void *p, size_t n);
void mm_free(void *p);
char *mm_strdup(const char *s);
char *mm_strndup(const char *s, size_t n);
char *mm_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Test hook: the nth allocation from now (1 = the next) fails, and every
 * one after it too when sticky is non-zero.  n = 0 disarms. */
void mm_alloc_fail_at(uint64_t n, int sticky);
/* Number of allocations made so far (for fault loops). */
uint64_t mm_alloc_count(void);

/* ---- MySQL-facing errors ---------------------------------------------- */
/* An error as the client will see it: MySQL error number, 5-char SQLSTATE
 * and the message MySQL would print. */
typedef struct mm_error {
  int code;          /* 0 = no error */
  char sqlstate[6];
  char msg[512];
} mm_error;
/* Fill e; fmt is the message text. Returns MM_ESQL for convenient
 * `return mm_error_set(...)`. */
int mm_error_set(mm_error *e, int code, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void mm_error_clear(mm_error *e);

/* ---- byte buffer -------------------------------------------------------- */
typedef struct mm_buf {
  char *p;     /* owned; NUL-terminated when len < cap */
  size_t len;
  size_t cap;
  int oom;     /* sticky: set once an allocation failed, all appends no-op */
} mm_buf;
void mm_buf_init(mm_buf *b);
void mm_buf_free(mm_buf *b);
void mm_buf_reset(mm_buf *b);               /* len = 0, keeps memory */
int mm_buf_reserve(mm_buf *b, size_t extra); /* MM_OK or MM_ENOMEM */
int mm_buf_append(mm_buf *b, const void *p, size_t n);
int mm_buf_puts(mm_buf *b, const char *s);
int mm_buf_putc(mm_buf *b, int c);
int mm_buf_printf(mm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mm_buf_vprintf(mm_buf *b, const char *fmt, va_list ap);
/* Detach the contents (caller frees with mm_free); b is reset to empty. */
char *mm_buf_steal(mm_buf *b, size_t *len);

/* Little-endian and big-endian fixed-width helpers. */
static inline void mm_put_u16le(unsigned char *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void mm_put_u24le(unsigned char *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; }
static inline void mm_put_u32le(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static inline void mm_put_u64le(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static inline uint16_t mm_get_u16le(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t mm_get_u24le(const unsigned char *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16; }
static inline uint32_t mm_get_u32le(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t mm_get_u64le(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }
static inline void mm_put_u32be(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (24 - 8 * i); }
static inline void mm_put_u64be(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (56 - 8 * i); }
static inline uint32_t mm_get_u32be(const unsigned char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static inline uint64_t mm_get_u64be(const unsigned char *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return v; }

/* ---- error log ------------------------------------------------------------ */
enum { MM_LOG_ERROR, MM_LOG_WARN, MM_LOG_NOTE };
/* Open the log file (NULL or "" = stderr).  Thread-safe after this. */
int mm_log_open(const char *path);
void mm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define mm_log_error(...) mm_log(MM_LOG_ERROR, __VA_ARGS__)
#define mm_log_warn(...) mm_log(MM_LOG_WARN, __VA_ARGS__)
#define mm_log_note(...) mm_log(MM_LOG_NOTE, __VA_ARGS__)

/* Monotonic clock in microseconds, and wall clock in microseconds since the epoch. */
uint64_t mm_now_us(void);
/* pthread_cond_init on CLOCK_MONOTONIC (the clock of mm_now_us), for
 * pthread_cond_timedwait deadlines that wall-clock steps do not move. */
int mm_cond_init_monotonic(pthread_cond_t *cv);
int64_t mm_wall_us(void);

#define MM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MM_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
