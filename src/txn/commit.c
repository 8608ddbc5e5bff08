/*
 * txn/commit.c - order, certify, apply (see commit.h).
 *
 * State of a pipeline (one per store), all under p->mu:
 *   next_order   the local sequencer: last position handed out
 *   applied      last position whose effects are in RocksDB (durable)
 *   queue        certified write sets waiting to be applied, in order
 *   leader       1 while a group write is in flight (outside the mutex)
 *   cert index   open-addressing table: 64-bit key hash -> last position
 *                that wrote the key; entries older than `horizon` pruned
 *
 * A write set's life:   cm_commit
 *      ORDERED (position assigned) --cm_deliver--> refused (1213, done)
 *                                             \--> QUEUED --leader--> APPLIED (done)
 *
 * Invariants: queue positions increase; applied only grows and equals the
 * position of the last write set of the last group written; at most one
 * group is in flight; a write set is applied only after every write set
 * ordered before it.  Hash collisions in the index can only add a false
 * conflict (deterministically on every node), never hide a real one.
 *
 * WriteBatch concatenation: a serialized RocksDB WriteBatch is a 12-byte
 * header (fixed64 sequence, fixed32 count, little-endian) followed by its
 * records; several batches form one by summing the counts and appending
 * the records (the WAL format, stable across RocksDB versions).
 */
#include "txn/commit.h"

#include <pthread.h>
#include <string.h>

#define WB_HDR 12
#define CM_INDEX_MAX (1u << 17) /* prune when the index holds more keys */
#define CM_KEEP 4096            /* positions kept behind `applied` when pruning */

typedef struct ci_slot {
  uint64_t h;   /* 0 = empty */
  uint64_t pos;
} ci_slot;

struct cm_pipe {
  store *st;
  pthread_mutex_t mu;
  uint64_t next_order, applied, horizon;
  cm_ws *qhead, *qtail;
  int leader;
  int failed;
  ci_slot *ci;
  size_t ci_cap, ci_n;
  cm_stats stats;
  rocksdb_writeoptions_t *wo;
};

void (*cm_test_before_write)(int nws);

/* ---- registry: one pipeline per store ------------------------------------------ */
/* A list, never shrunk except by cm_pipe_drop: a pipeline may outlive its
 * store only in tests that reopen stores, and then it is harmless (it
 * reads the db through store_db(p->st) and its positions only grow). */
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
typedef struct reg_ent { store *st; cm_pipe *p; struct reg_ent *next; } reg_ent;
static reg_ent *g_reg;

static uint64_t get_u64be(const unsigned char *b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | b[i];
  return v;
}
static void put_u64be(unsigned char *b, uint64_t v) {
  for (int i = 7; i >= 0; i--) { b[i] = (unsigned char)v; v >>= 8; }
}

static cm_pipe *pipe_new(store *st) {
  cm_pipe *p = mm_calloc(1, sizeof *p);
  if (!p) return NULL;
  p->st = st;
  pthread_mutex_init(&p->mu, NULL);
  p->ci_cap = 1024;
  p->ci = mm_calloc(p->ci_cap, sizeof *p->ci);
  p->wo = rocksdb_writeoptions_create();
  if (!p->ci || !p->wo) {
    mm_free(p->ci);
    if (p->wo) rocksdb_writeoptions_destroy(p->wo);
    mm_free(p);
    return NULL;
  }
  rocksdb_writeoptions_set_sync(p->wo, 1);
  /* recovery: the applied position was written with the last group */
  char *v = NULL;
  size_t n = 0;
  if (store_get(st, CM_APPLIED_KEY, CM_APPLIED_KEYLEN, &v, &n) == MM_OK && n == 8)
    p->applied = get_u64be((unsigned char *)v);
  mm_free(v);
  p->next_order = p->applied;
  p->horizon = p->applied;
  return p;
}

static void pipe_free(cm_pipe *p) {
  pthread_mutex_destroy(&p->mu);
  rocksdb_writeoptions_destroy(p->wo);
  mm_free(p->ci);
  mm_free(p);
}

cm_pipe *cm_pipe_get(store *st) {
  pthread_mutex_lock(&g_reg_mu);
  cm_pipe *p = NULL;
  for (reg_ent *e = g_reg; e; e = e->next)
    if (e->st == st) { p = e->p; break; }
  if (!p) {
    reg_ent *e = mm_calloc(1, sizeof *e);
    if (e && (p = pipe_new(st))) {
      e->st = st;
      e->p = p;
      e->next = g_reg;
      g_reg = e;
    } else {
      mm_free(e);
    }
  }
  pthread_mutex_unlock(&g_reg_mu);
  return p;
}

void cm_pipe_drop(store *st) {
  pthread_mutex_lock(&g_reg_mu);
  for (reg_ent **pe = &g_reg; *pe;) {
    reg_ent *e = *pe;
    if (e->st == st) {
      *pe = e->next;
      pipe_free(e->p);
      mm_free(e);
    } else {
      pe = &e->next;
    }
  }
  pthread_mutex_unlock(&g_reg_mu);
}

uint64_t cm_applied(cm_pipe *p) {
  pthread_mutex_lock(&p->mu);
  uint64_t a = p->applied;
  pthread_mutex_unlock(&p->mu);
  return a;
}

/* ---- certification index (under mu) --------------------------------------------- */
static uint64_t key_hash(const char *k, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)k[i]; h *= 1099511628211ULL; }
  h ^= h >> 31;
  return h ? h : 1;
}

static ci_slot *ci_find(ci_slot *tab, size_t cap, uint64_t h) {
  size_t i = (size_t)h & (cap - 1);
  while (tab[i].h && tab[i].h != h) i = (i + 1) & (cap - 1);
  return &tab[i];
}

/* Rebuild into a table of `cap` slots keeping positions > keep_above. */
static int ci_rebuild(cm_pipe *p, size_t cap, uint64_t keep_above) {
  ci_slot *nt = mm_calloc(cap, sizeof *nt);
  if (!nt) return MM_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < p->ci_cap; i++)
    if (p->ci[i].h && p->ci[i].pos > keep_above) {
      *ci_find(nt, cap, p->ci[i].h) = p->ci[i];
      n++;
    }
  mm_free(p->ci);
  p->ci = nt;
  p->ci_cap = cap;
  p->ci_n = n;
  return MM_OK;
}

static int ci_insert(cm_pipe *p, uint64_t h, uint64_t pos) {
  if (2 * (p->ci_n + 1) > p->ci_cap) {
    if (p->ci_n >= CM_INDEX_MAX && p->applied > CM_KEEP) {
      /* prune: write sets based before the new horizon will be refused */
      uint64_t hz = p->applied - CM_KEEP;
      if (hz > p->horizon) p->horizon = hz;
      if (ci_rebuild(p, p->ci_cap, p->horizon)) return MM_ENOMEM;
    }
    if (2 * (p->ci_n + 1) > p->ci_cap && ci_rebuild(p, 2 * p->ci_cap, 0)) return MM_ENOMEM;
  }
  ci_slot *s = ci_find(p->ci, p->ci_cap, h);
  if (!s->h) { s->h = h; p->ci_n++; }
  s->pos = pos;
  return MM_OK;
}

typedef int (*key_fn)(void *ctx, const char *k, size_t n);

static int for_keys(const cm_ws *ws, key_fn fn, void *ctx) {
  size_t off = 0;
  while (off + 4 <= ws->keys_len) {
    const unsigned char *b = (const unsigned char *)ws->keys + off;
    uint32_t n = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if (off + 4 + n > ws->keys_len) return MM_EINVAL;
    int rc = fn(ctx, (const char *)b + 4, n);
    if (rc) return rc;
    off += 4 + n;
  }
  return MM_OK;
}

typedef struct { cm_pipe *p; const cm_ws *ws; } cert_ctx;

static int check_key(void *ctx, const char *k, size_t n) {
  cert_ctx *c = ctx;
  ci_slot *s = ci_find(c->p->ci, c->p->ci_cap, key_hash(k, n));
  return s->h && s->pos > c->ws->base ? MM_EAGAIN : MM_OK;
}

static int index_key(void *ctx, const char *k, size_t n) {
  cert_ctx *c = ctx;
  return ci_insert(c->p, key_hash(k, n), c->ws->order);
}

static int certify(cm_pipe *p, const cm_ws *ws) {
  if (ws->base < p->horizon) return MM_EAGAIN;
  cert_ctx c = {p, ws};
  return for_keys(ws, check_key, &c);
}

int cm_certify_probe(cm_pipe *p, const cm_ws *ws) {
  pthread_mutex_lock(&p->mu);
  int rc = certify(p, ws);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* The step every ordered write set goes through, in log order (under mu):
 * certify, index its keys, queue it for the applier.  The Raft log will
 * call this for each committed entry. */
static void cm_deliver(cm_pipe *p, cm_ws *ws) {
  ws->next = NULL;
  ws->done = 0;
  if (certify(p, ws) != MM_OK) {
    p->stats.cert_failures++;
    ws->rc = MM_EAGAIN;
    ws->done = 1;
    return;
  }
  cert_ctx c = {p, ws};
  if (for_keys(ws, index_key, &c) != MM_OK) {
    ws->rc = MM_ENOMEM;
    ws->done = 1;
    return;
  }
  if (p->qtail) p->qtail->next = ws;
  else p->qhead = ws;
  p->qtail = ws;
}

/* ---- apply: group commit ---------------------------------------------------------- */
/* Write the group [head..tail] (outside mu).  Returns MM_OK or MM_EIO. */
static int write_group(cm_pipe *p, cm_ws *head, uint64_t last) {
  size_t total = WB_HDR;
  uint32_t count = 0;
  int nws = 0;
  for (cm_ws *w = head; w; w = w->next) {
    nws++;
    if (w->batch_len < WB_HDR) continue;
    total += w->batch_len - WB_HDR;
    const unsigned char *b = (const unsigned char *)w->batch + 8;
    count += (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  }
  char *rep = mm_malloc(total);
  if (!rep) return MM_EIO;
  memset(rep, 0, WB_HDR);
  rep[8] = (char)count;
  rep[9] = (char)(count >> 8);
  rep[10] = (char)(count >> 16);
  rep[11] = (char)(count >> 24);
  size_t off = WB_HDR;
  for (cm_ws *w = head; w; w = w->next) {
    if (w->batch_len < WB_HDR) continue;
    memcpy(rep + off, w->batch + WB_HDR, w->batch_len - WB_HDR);
    off += w->batch_len - WB_HDR;
  }
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create_from(rep, total);
  mm_free(rep);
  if (!wb) return MM_EIO;
  unsigned char pos[8];
  put_u64be(pos, last);
  rocksdb_writebatch_put(wb, CM_APPLIED_KEY, CM_APPLIED_KEYLEN, (const char *)pos, 8);
  if (cm_test_before_write) cm_test_before_write(nws);
  char *err = NULL;
  rocksdb_write(store_db(p->st), p->wo, wb, &err);
  rocksdb_writebatch_destroy(wb);
  if (err) {
    mm_log_error("commit: group write failed: %s", err);
    rocksdb_free(err);
    return MM_EIO;
  }
  return MM_OK;
}

/* Each committing thread sleeps on its own condition variable, so that the
 * end of a group wakes exactly its members and the one thread that leads
 * the next group, not every waiter (a broadcast on 32 sessions costs more
 * context switches than the fsync it waits for). */
static __thread pthread_cond_t t_wake;
static __thread int t_wake_ready;

int cm_commit(cm_pipe *p, cm_ws *ws, mm_error *err) {
  if (!t_wake_ready) {
    pthread_cond_init(&t_wake, NULL);
    t_wake_ready = 1;
  }
  ws->wake = &t_wake;
  pthread_mutex_lock(&p->mu);
  if (p->failed) {
    pthread_mutex_unlock(&p->mu);
    mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
    return MM_EIO;
  }
  /* order: the local sequencer */
  ws->order = ++p->next_order;
  cm_deliver(p, ws);
  /* apply: become the leader of the next group, or wait for ours */
  while (!ws->done) {
    if (p->leader || !p->qhead) {
      pthread_cond_wait(&t_wake, &p->mu);
      continue;
    }
    p->leader = 1;
    cm_ws *head = p->qhead, *tail = p->qtail;
    p->qhead = p->qtail = NULL;
    pthread_mutex_unlock(&p->mu);
    int rc = write_group(p, head, tail->order);
    pthread_mutex_lock(&p->mu);
    int n = 0;
    for (cm_ws *w = head; w;) {
      cm_ws *nx = w->next; /* its thread owns w again once it has the mutex */
      w->rc = rc;
      w->done = 1;
      if (w != ws) pthread_cond_signal((pthread_cond_t *)w->wake);
      n++;
      w = nx;
    }
    if (rc == MM_OK) {
      p->applied = tail->order;
      p->stats.commits += (uint64_t)n;
      p->stats.groups++;
    } else {
      p->failed = 1;
    }
    p->leader = 0;
    /* whoever queued while we wrote leads the next group */
    if (p->qhead) pthread_cond_signal((pthread_cond_t *)p->qhead->wake);
  }
  int rc = ws->rc;
  pthread_mutex_unlock(&p->mu);
  if (rc == MM_EAGAIN) {
    mm_error_set(err, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
    return MM_ESQL;
  }
  if (rc == MM_ENOMEM) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
    return MM_ENOMEM;
  }
  if (rc != MM_OK) {
    mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
    return MM_EIO;
  }
  return MM_OK;
}

void cm_get_stats(cm_pipe *p, cm_stats *out) {
  pthread_mutex_lock(&p->mu);
  *out = p->stats;
  out->index_size = p->ci_n;
  pthread_mutex_unlock(&p->mu);
}
