/*
 * txn/lock.c - the row lock manager (see lock.h for the model and the
 * invariants).
 *
 * Table: a fixed array of hash buckets, each a chain of lk_entry; entries
 * are created on first request and freed when nobody holds or waits.  One
 * global mutex g_mu protects the table, every entry and the lock state of
 * every owner (held[], waiting_on, aborted).
 *
 * Owner state machine (per transaction):
 *
 *     reset --> RUNNING --lock_acquire conflicts--> WAITING --granted--> RUNNING
 *                  |                                  |  timeout --> RUNNING (1205)
 *                  |                                  |  cycle / BF --> ABORTED (1213)
 *                  +-- deadlock victim / lock_bf_abort --> ABORTED (locks released)
 *     ABORTED --lock_owner_reset--> RUNNING (next transaction)
 *
 * Deadlock detection runs before each wait: a depth-first search from the
 * owners that block the request along "waits for" edges (an owner waits
 * for the holders of its waiting_on entry whose mode conflicts with its
 * own request).  Reaching the requester means a cycle.  The victim is the
 * owner of the cycle holding the fewest locks (the smaller transaction,
 * as InnoDB picks the one with fewer changed rows), the younger on a tie;
 * when it is not the requester it is aborted (its waiting statement gets
 * 1213) and the search runs again.  A search deeper than LK_MAX_DEPTH is
 * treated as a deadlock with the requester as the victim (as InnoDB does),
 * which can only make a victim too many, never hang.
 */
#include "txn/lock.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LK_NBUCKETS (1u << 16)
#define LK_MAX_DEPTH 200

typedef struct lk_entry lk_entry;

typedef struct lk_hold {
  lock_owner *o;
  int mode;
} lk_hold;

struct lk_entry {
  lk_entry *next; /* bucket chain */
  uint64_t hash;
  lk_hold *h;     /* holders */
  int nh, caph;
  int nwait;      /* owners whose waiting_on is this entry */
  size_t klen;
  char key[];
};

struct lock_owner {
  uint64_t age;           /* begin order: larger is younger */
  pthread_cond_t cv;
  lk_entry *waiting_on;   /* NULL when not waiting */
  int wait_mode;
  int aborted;
  const _Atomic int *interrupt; /* see lock_owner_set_interrupt */
  uint64_t visit;         /* deadlock search epoch */
  lk_entry **held;
  int nheld, capheld;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static lk_entry *g_buckets[LK_NBUCKETS];
static uint64_t g_age, g_epoch;
static lock_stats g_stats;

static uint64_t hash_key(const void *key, size_t n) {
  const unsigned char *p = key;
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
  return h ^ (h >> 29);
}

static int conflicts(int a, int b) { return a == LOCK_X || b == LOCK_X; }

lock_owner *lock_owner_new(void) {
  lock_owner *o = mm_calloc(1, sizeof *o);
  if (!o) return NULL;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&o->cv, &ca);
  pthread_condattr_destroy(&ca);
  lock_owner_reset(o);
  return o;
}

void lock_owner_free(lock_owner *o) {
  if (!o) return;
  assert(o->nheld == 0 && !o->waiting_on);
  pthread_cond_destroy(&o->cv);
  mm_free(o->held);
  mm_free(o);
}

void lock_owner_reset(lock_owner *o) {
  pthread_mutex_lock(&g_mu);
  assert(o->nheld == 0);
  o->age = ++g_age;
  o->aborted = 0;
  pthread_mutex_unlock(&g_mu);
}

void lock_owner_set_interrupt(lock_owner *o, const _Atomic int *flag) { o->interrupt = flag; }

#define INTERRUPT_POLL_MS 100

static int interrupted(const lock_owner *o) { return o->interrupt && *o->interrupt; }

int lock_owner_aborted(lock_owner *o) {
  pthread_mutex_lock(&g_mu);
  int a = o->aborted;
  pthread_mutex_unlock(&g_mu);
  return a;
}

int lock_owner_count(lock_owner *o) {
  pthread_mutex_lock(&g_mu);
  int n = o->nheld;
  pthread_mutex_unlock(&g_mu);
  return n;
}

/* ---- table (under g_mu) ------------------------------------------------------ */
static lk_entry *entry_find(const void *key, size_t klen, uint64_t h, int create) {
  lk_entry **b = &g_buckets[h & (LK_NBUCKETS - 1)];
  for (lk_entry *e = *b; e; e = e->next)
    if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
  if (!create) return NULL;
  lk_entry *e = mm_calloc(1, sizeof *e + klen);
  if (!e) return NULL;
  e->hash = h;
  e->klen = klen;
  memcpy(e->key, key, klen);
  e->next = *b;
  *b = e;
  return e;
}

static void entry_maybe_free(lk_entry *e) {
  if (e->nh || e->nwait) return;
  lk_entry **b = &g_buckets[e->hash & (LK_NBUCKETS - 1)];
  while (*b != e) b = &(*b)->next;
  *b = e->next;
  mm_free(e->h);
  mm_free(e);
}

static int hold_index(lk_entry *e, lock_owner *o) {
  for (int i = 0; i < e->nh; i++)
    if (e->h[i].o == o) return i;
  return -1;
}

/* Can o take e in mode now?  (Holders other than o only.) */
static int grantable(lk_entry *e, lock_owner *o, int mode) {
  for (int i = 0; i < e->nh; i++)
    if (e->h[i].o != o && conflicts(e->h[i].mode, mode)) return 0;
  return 1;
}

static int grant(lk_entry *e, lock_owner *o, int mode) {
  int i = hold_index(e, o);
  if (i >= 0) {
    if (mode > e->h[i].mode) e->h[i].mode = mode;
    return MM_OK;
  }
  if (e->nh == e->caph) {
    int nc = e->caph ? 2 * e->caph : 2;
    lk_hold *nh = mm_realloc(e->h, (size_t)nc * sizeof *nh);
    if (!nh) return MM_ENOMEM;
    e->h = nh;
    e->caph = nc;
  }
  if (o->nheld == o->capheld) {
    int nc = o->capheld ? 2 * o->capheld : 8;
    lk_entry **nh = mm_realloc(o->held, (size_t)nc * sizeof *nh);
    if (!nh) return MM_ENOMEM;
    o->held = nh;
    o->capheld = nc;
  }
  e->h[e->nh++] = (lk_hold){o, mode};
  o->held[o->nheld++] = e;
  return MM_OK;
}

/* ---- waiter lists ----------------------------------------------------------- */
/* Waiters of an entry, kept in a small side table keyed by entry: a linked
 * list through lk_waiter nodes that live on the waiting thread's stack. */
typedef struct lk_waiter {
  struct lk_waiter *next, **pprev;
  lk_entry *e;
  lock_owner *o;
  uint64_t ticket; /* arrival order */
} lk_waiter;
static lk_waiter *g_wait_buckets[LK_NBUCKETS];
static uint64_t g_ticket;

static void waiter_add(lk_waiter *w) {
  lk_waiter **b = &g_wait_buckets[w->e->hash & (LK_NBUCKETS - 1)];
  w->ticket = ++g_ticket;
  w->next = *b;
  w->pprev = b;
  if (*b) (*b)->pprev = &w->next;
  *b = w;
  w->e->nwait++;
  w->o->waiting_on = w->e;
  g_stats.current_waits++;
}

static void waiter_del(lk_waiter *w) {
  *w->pprev = w->next;
  if (w->next) w->next->pprev = w->pprev;
  w->e->nwait--;
  w->o->waiting_on = NULL;
  g_stats.current_waits--;
}

/* Wake the waiters of e that can go next, in arrival order: the oldest
 * waiter, and if it asks for a shared lock every shared request that
 * arrived before the oldest exclusive one.  Waking every waiter of a hot
 * row would have all of them race for one lock and all but one go back to
 * sleep.  A woken waiter that leaves without the lock (timeout, abort)
 * calls this again, so the turn passes on. */
static void signal_entry(lk_entry *e) {
  if (!e->nwait) return;
  lk_waiter *first = NULL, *first_x = NULL;
  lk_waiter *b = g_wait_buckets[e->hash & (LK_NBUCKETS - 1)];
  for (lk_waiter *w = b; w; w = w->next) {
    if (w->e != e) continue;
    if (!first || w->ticket < first->ticket) first = w;
    if (w->o->wait_mode == LOCK_X && (!first_x || w->ticket < first_x->ticket)) first_x = w;
  }
  if (!first) return;
  if (first == first_x) {
    pthread_cond_signal(&first->o->cv);
    return;
  }
  for (lk_waiter *w = b; w; w = w->next)
    if (w->e == e && w->o->wait_mode != LOCK_X && (!first_x || w->ticket < first_x->ticket))
      pthread_cond_signal(&w->o->cv);
}

/* Release everything o holds (under g_mu). */
static void release_all_locked(lock_owner *o) {
  for (int k = 0; k < o->nheld; k++) {
    lk_entry *e = o->held[k];
    int i = hold_index(e, o);
    assert(i >= 0);
    e->h[i] = e->h[--e->nh];
    signal_entry(e);
    entry_maybe_free(e);
  }
  o->nheld = 0;
}

/* Abort o (under g_mu): mark, release its locks, wake it if it waits. */
static void abort_owner(lock_owner *o) {
  if (o->aborted) return;
  o->aborted = 1;
  release_all_locked(o);
  if (o->waiting_on) pthread_cond_signal(&o->cv);
}

/* ---- deadlock detection ------------------------------------------------------ */
/* The owners on the cycle found by the last search (besides the
 * requester), or g_cycle_n = -1 when the search gave up (too deep). */
static lock_owner *g_cycle[LK_MAX_DEPTH + 2];
static int g_cycle_n;

/* Does some owner blocking (e, mode) for `who` wait, transitively, for
 * `target`?  depth counts edges followed; the owners of the path found are
 * added to g_cycle. */
static int reaches(lk_entry *e, lock_owner *who, int mode, lock_owner *target, int depth) {
  if (depth > LK_MAX_DEPTH) { g_cycle_n = -1; return 1; }
  for (int i = 0; i < e->nh; i++) {
    lock_owner *b = e->h[i].o;
    if (b == who || !conflicts(e->h[i].mode, mode)) continue;
    if (b == target) return 1;
    if (b->visit == g_epoch) continue;
    b->visit = g_epoch;
    if (b->waiting_on && !b->aborted && reaches(b->waiting_on, b, b->wait_mode, target, depth + 1)) {
      if (g_cycle_n >= 0) g_cycle[g_cycle_n++] = b;
      return 1;
    }
  }
  return 0;
}

/* NULL if o may wait for (e, mode); else the deadlock victim. */
static lock_owner *deadlock_victim(lk_entry *e, lock_owner *o, int mode) {
  g_epoch++;
  o->visit = g_epoch;
  g_cycle_n = 0;
  if (!reaches(e, o, mode, o, 0)) return NULL;
  lock_owner *v = o;
  for (int i = 0; i < g_cycle_n; i++) {
    lock_owner *c = g_cycle[i];
    if (c->nheld < v->nheld || (c->nheld == v->nheld && c->age > v->age)) v = c;
  }
  return v;
}

/* ---- acquire / release ------------------------------------------------------- */
static int err_deadlock(mm_error *err) {
  mm_error_set(err, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
  return MM_ESQL;
}

int lock_acquire(lock_owner *o, const void *key, size_t klen, int mode, int policy,
                 int64_t timeout_ms, mm_error *err) {
  uint64_t h = hash_key(key, klen);
  pthread_mutex_lock(&g_mu);
  int rc;
  if (o->aborted) { rc = err_deadlock(err); goto out; }
  lk_entry *e = entry_find(key, klen, h, 1);
  if (!e) { rc = mm_error_set(err, 1037, "HY001", "Out of memory"); rc = MM_ENOMEM; goto out; }
  int i = hold_index(e, o);
  if (i >= 0 && e->h[i].mode >= mode) { rc = MM_OK; goto out; }
  if (grantable(e, o, mode)) {
    rc = grant(e, o, mode);
    if (rc) mm_error_set(err, 1037, "HY001", "Out of memory");
    entry_maybe_free(e);
    goto out;
  }
  if (policy == LOCK_SKIP) { entry_maybe_free(e); rc = MM_EBUSY; goto out; }
  if (policy == LOCK_NOWAIT) {
    entry_maybe_free(e);
    rc = mm_error_set(err, 3572, "HY000",
                      "Statement aborted because lock(s) could not be acquired immediately and NOWAIT is set.");
    rc = MM_ESQL;
    goto out;
  }
  lock_owner *v;
  while ((v = deadlock_victim(e, o, mode))) {
    g_stats.deadlocks++;
    abort_owner(v); /* a waiting victim wakes with 1213 */
    if (v == o) {
      entry_maybe_free(e);
      rc = err_deadlock(err);
      goto out;
    }
    /* the victim's release may have freed e (we do not wait on it yet) */
    if (!(e = entry_find(key, klen, h, 1))) {
      rc = mm_error_set(err, 1037, "HY001", "Out of memory");
      rc = MM_ENOMEM;
      goto out;
    }
  }
  /* wait (times in mm_now_us(), CLOCK_MONOTONIC like o->cv) */
  g_stats.waits++;
  uint64_t deadline = timeout_ms >= 0 ? mm_now_us() + (uint64_t)timeout_ms * 1000 : UINT64_MAX;
  lk_waiter w = {.e = e, .o = o};
  o->wait_mode = mode;
  waiter_add(&w);
  rc = MM_OK;
  for (;;) {
    if (o->aborted) { rc = err_deadlock(err); break; }
    if (grantable(e, o, mode)) {
      rc = grant(e, o, mode);
      if (rc) mm_error_set(err, 1037, "HY001", "Out of memory");
      break;
    }
    if (interrupted(o)) {
      rc = mm_error_set(err, 1317, "70100", "Query execution was interrupted");
      break;
    }
    uint64_t now = mm_now_us();
    if (now >= deadline) {
      g_stats.timeouts++;
      rc = mm_error_set(err, 1205, "HY000", "Lock wait timeout exceeded; try restarting transaction");
      break;
    }
    /* with an interrupt flag, wake at least every INTERRUPT_POLL_MS to look at it */
    uint64_t until = deadline;
    if (o->interrupt && now + INTERRUPT_POLL_MS * 1000 < until) until = now + INTERRUPT_POLL_MS * 1000;
    if (until == UINT64_MAX) {
      pthread_cond_wait(&o->cv, &g_mu);
    } else {
      struct timespec ts = {(time_t)(until / 1000000), (long)(until % 1000000) * 1000};
      pthread_cond_timedwait(&o->cv, &g_mu, &ts);
    }
  }
  waiter_del(&w);
  /* Leaving without the lock: we may have been the one woken for it. */
  if (rc != MM_OK) signal_entry(e);
  entry_maybe_free(e);
out:
  pthread_mutex_unlock(&g_mu);
  return rc;
}

void lock_release_all(lock_owner *o) {
  pthread_mutex_lock(&g_mu);
  release_all_locked(o);
  pthread_mutex_unlock(&g_mu);
}

void lock_owner_foreach_x(lock_owner *o, void (*fn)(void *ctx, const char *key, size_t klen),
                          void *ctx) {
  pthread_mutex_lock(&g_mu);
  for (int k = 0; k < o->nheld; k++) {
    lk_entry *e = o->held[k];
    int i = hold_index(e, o);
    if (i >= 0 && e->h[i].mode == LOCK_X) fn(ctx, e->key, e->klen);
  }
  pthread_mutex_unlock(&g_mu);
}

int lock_bf_abort(const void *key, size_t klen, lock_owner *except) {
  uint64_t h = hash_key(key, klen);
  int n = 0;
  pthread_mutex_lock(&g_mu);
  lk_entry *e = entry_find(key, klen, h, 0);
  while (e) {
    /* abort_owner releases the victim's locks, which may free e: pick one
     * holder at a time and look the entry up again. */
    lock_owner *v = NULL;
    for (int i = 0; i < e->nh; i++)
      if (e->h[i].o != except && !e->h[i].o->aborted) { v = e->h[i].o; break; }
    if (!v) break;
    abort_owner(v);
    g_stats.bf_aborts++;
    n++;
    e = entry_find(key, klen, h, 0);
  }
  pthread_mutex_unlock(&g_mu);
  return n;
}

void lock_get_stats(lock_stats *out) {
  pthread_mutex_lock(&g_mu);
  *out = g_stats;
  pthread_mutex_unlock(&g_mu);
}
