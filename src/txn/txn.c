/*
 * txn/txn.c - a transaction's view of the store (see txn.h).
 *
 * A txn owns:
 *   - a RocksDB snapshot, taken lazily at the first snapshot read (or by
 *     txn_snapshot_now), dropped at each statement start under READ
 *     COMMITTED, released at the end;
 *   - a WriteBatchWithIndex (created at the first write) holding its own
 *     writes, so that reads see "snapshot (or latest) + own writes";
 *   - a stack of savepoints.
 *
 * States (checked with assertions):
 *
 *      txn_begin --> ACTIVE --txn_commit--> (freed)    ACTIVE --txn_rollback--> (freed)
 *                      |  I/O error
 *                      v
 *                    FAILED: every read/write returns MM_EIO, commit rolls back
 *
 * Savepoints.  The RocksDB C API offers set_save_point and
 * rollback_to_save_point (which pops) but no PopSavePoint.  We keep our own
 * logical stack: each logical savepoint remembers how many RocksDB
 * savepoints existed when it was set (its mark).  Release pops only the
 * logical entry: the RocksDB savepoint stays as an orphan, merged into the
 * savepoint below it.  Rollback to the top logical savepoint rolls RocksDB
 * back (popping orphans on the way) until the RocksDB depth equals its mark
 * minus one, which restores the state at that savepoint.  An orphan costs a
 * few bytes until the txn ends; when nothing was written since a savepoint,
 * release pops it for real with a (no-op) rollback.
 *
 * Commit (DESIGN.md, "The path of one commit"): ws_build makes the write
 * set (certification keys: X-locked keys and catalog keys; the batch of
 * row changes; the base = applied position), and commit.c orders,
 * certifies and applies it with group commit.  Row locks (lock.c) are
 * taken by the table layer through txn_lock_row and released when the txn
 * ends, after its write set is applied.
 *
 * txn structs are recycled through a small per-thread cache, so an
 * autocommit point SELECT allocates nothing in steady state.
 */
#include "txn/txn.h"

#include "txn/commit.h"
#include "txn/lock.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { TXN_ACTIVE = 1, TXN_FAILED = 2 };
_Static_assert((int)TXN_LOCK_S == (int)LOCK_S && (int)TXN_LOCK_X == (int)LOCK_X, "lock modes");
_Static_assert((int)TXN_WAIT == (int)LOCK_WAIT && (int)TXN_NOWAIT == (int)LOCK_NOWAIT && (int)TXN_SKIP_LOCKED == (int)LOCK_SKIP, "policies");

struct txn {
  store *st;
  rocksdb_t *db;
  int state;
  int iso;
  const rocksdb_snapshot_t *snap;
  rocksdb_readoptions_t *ro_snap;   /* snapshot set when snap != NULL */
  rocksdb_readoptions_t *ro_latest; /* no snapshot */
  rocksdb_writebatch_wi_t *wb;      /* NULL until the first write */
  uint64_t nwrites;                 /* put/del calls since begin */
  uint64_t ver;                     /* txn_version: new at begin and at each change */
  uint64_t read_pos;                /* RocksDB sequence the txn first read at */
  /* savepoints */
  int *sp_mark;                     /* logical stack: RocksDB depth when set */
  size_t *sp_size;                  /* batch data size when set */
  int nsp, capsp;
  int rdepth;                       /* RocksDB savepoints currently set */
  int niters;                       /* open iterators */
  rocksdb_writeoptions_t *wo;       /* unused since the commit pipeline (commit.c) */
  /* row locks (lock.h): the owner is kept across recycling; `locking` is
   * set at the first lock of a transaction (the owner is reset then) */
  lock_owner *lo;
  int locking;
  int64_t lock_timeout_ms;
  const _Atomic int *interrupt; /* ends lock waits (KILL); may be NULL */
  /* open-snapshot registry (oldest snapshot age) */
  struct txn *snext, *sprev;
  uint64_t snap_us;
  int in_reg;
};

struct txn_iter {
  txn *t;
  rocksdb_iterator_t *it;
  rocksdb_readoptions_t *ro;
  char *lo, *hi;
  size_t lolen, hilen;
  int merged; /* reads through the transaction's own writes */
};

/* ---- per-thread recycling --------------------------------------------- */
/* Versions come from one counter: unique over all txns and all threads
 * (a relaxed increment per write; no per-thread assumption). */
static _Atomic uint64_t g_ver;

static uint64_t next_ver(void) { return atomic_fetch_add_explicit(&g_ver, 1, memory_order_relaxed) + 1; }

uint64_t txn_version(const txn *t) { return t->ver; }

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* ---- open snapshots, oldest first (for the purge-lag status) ----------- */
static pthread_mutex_t g_snap_mu = PTHREAD_MUTEX_INITIALIZER;
static txn *g_snap_head, *g_snap_tail;

static void snap_reg_add(txn *t) {
  t->snap_us = mm_now_us();
  pthread_mutex_lock(&g_snap_mu);
  t->snext = NULL;
  t->sprev = g_snap_tail;
  if (g_snap_tail) g_snap_tail->snext = t; else g_snap_head = t;
  g_snap_tail = t;
  t->in_reg = 1;
  pthread_mutex_unlock(&g_snap_mu);
}

static void snap_reg_del(txn *t) {
  if (!t->in_reg) return;
  pthread_mutex_lock(&g_snap_mu);
  if (t->sprev) t->sprev->snext = t->snext; else g_snap_head = t->snext;
  if (t->snext) t->snext->sprev = t->sprev; else g_snap_tail = t->sprev;
  t->in_reg = 0;
  pthread_mutex_unlock(&g_snap_mu);
}

static void release_snapshot(txn *t) {
  if (!t->snap) return;
  snap_reg_del(t);
  rocksdb_release_snapshot(t->db, t->snap);
  t->snap = NULL;
}

uint64_t txn_oldest_snapshot_age_ms(void) {
  uint64_t now = mm_now_us(), age = 0;
  pthread_mutex_lock(&g_snap_mu);
  if (g_snap_head && now > g_snap_head->snap_us) age = (now - g_snap_head->snap_us) / 1000;
  pthread_mutex_unlock(&g_snap_mu);
  return age;
}

static void txn_destroy(txn *t) {
  if (!t) return;
  release_snapshot(t);
  if (t->lo) { lock_release_all(t->lo); lock_owner_free(t->lo); }
  if (t->ro_snap) rocksdb_readoptions_destroy(t->ro_snap);
  if (t->ro_latest) rocksdb_readoptions_destroy(t->ro_latest);
  if (t->wb) rocksdb_writebatch_wi_destroy(t->wb);
  if (t->wo) rocksdb_writeoptions_destroy(t->wo);
  mm_free(t->sp_mark);
  mm_free(t->sp_size);
  mm_free(t);
}
static void cache_free(void *p) { txn_destroy(p); }
static void cache_init(void) { pthread_key_create(&cache_key, cache_free); }

/* End of life of a txn: release what is per-transaction and keep the rest
 * in this thread's cache. */
static void txn_recycle(txn *t) {
  assert(t->niters == 0);
  release_snapshot(t);
  rocksdb_readoptions_set_snapshot(t->ro_snap, NULL);
  if (t->locking) { lock_release_all(t->lo); t->locking = 0; }
  if (t->wb) {
    /* a big batch is not worth keeping */
    size_t sz = 0;
    rocksdb_writebatch_wi_data(t->wb, &sz);
    if (sz > (1u << 20)) { rocksdb_writebatch_wi_destroy(t->wb); t->wb = NULL; }
    else rocksdb_writebatch_wi_clear(t->wb); /* also clears its savepoints */
  }
  t->nsp = 0;
  t->rdepth = 0;
  t->state = 0;
  pthread_once(&cache_once, cache_init);
  txn *old = pthread_getspecific(cache_key);
  if (old) txn_destroy(old);
  pthread_setspecific(cache_key, t);
}

txn *txn_begin(store *st, int isolation) {
  pthread_once(&cache_once, cache_init);
  txn *t = pthread_getspecific(cache_key);
  if (t) {
    pthread_setspecific(cache_key, NULL);
  } else {
    t = mm_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ro_snap = rocksdb_readoptions_create();
    t->ro_latest = rocksdb_readoptions_create();
    t->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(t->wo, 1);
  }
  t->st = st;
  t->db = store_db(st);
  t->state = TXN_ACTIVE;
  t->iso = isolation;
  t->nwrites = 0;
  t->ver = next_ver();
  t->read_pos = 0;
  t->nsp = 0;
  t->rdepth = 0;
  t->niters = 0;
  t->locking = 0;
  t->lock_timeout_ms = 50000;
  t->interrupt = NULL;
  return t;
}

static void take_snapshot(txn *t) {
  /* (the C API has no snapshot sequence getter: the latest sequence taken
   * just before is a lower bound of what the snapshot sees) */
  if (!t->read_pos) t->read_pos = rocksdb_get_latest_sequence_number(t->db);
  t->snap = rocksdb_create_snapshot(t->db);
  rocksdb_readoptions_set_snapshot(t->ro_snap, t->snap);
  snap_reg_add(t);
}

void txn_statement_start(txn *t) {
  if (t->iso == TXN_READ_COMMITTED && t->snap && t->niters == 0) {
    release_snapshot(t);
    rocksdb_readoptions_set_snapshot(t->ro_snap, NULL);
  }
}

void txn_snapshot_now(txn *t) {
  if (!t->snap) take_snapshot(t);
}

int txn_has_writes(txn *t) { return t->nwrites > 0; }

static rocksdb_readoptions_t *read_opts(txn *t, int latest) {
  if (latest) {
    if (!t->read_pos) t->read_pos = rocksdb_get_latest_sequence_number(t->db);
    return t->ro_latest;
  }
  if (!t->snap) take_snapshot(t);
  return t->ro_snap;
}

static int fail_io(txn *t, const char *what, char *err) {
  mm_log_error("txn %s: %s", what, err);
  rocksdb_free(err);
  t->state = TXN_FAILED;
  return MM_EIO;
}

int txn_get_buf(txn *t, const void *key, size_t klen, int latest, mm_buf *out) {
  if (t->state != TXN_ACTIVE) return MM_EIO;
  rocksdb_readoptions_t *ro = read_opts(t, latest);
  char *err = NULL;
  mm_buf_reset(out);
  if (!t->wb || rocksdb_writebatch_wi_count(t->wb) == 0) {
    rocksdb_pinnableslice_t *ps = rocksdb_get_pinned(t->db, ro, key, klen, &err);
    if (err) return fail_io(t, "get", err);
    if (!ps) return MM_ENOTFOUND;
    size_t n;
    const char *v = rocksdb_pinnableslice_value(ps, &n);
    int rc = mm_buf_reserve(out, n + 1);
    if (rc == MM_OK) {
      memcpy(out->p, v, n);
      out->len = n;
      out->p[n] = 0;
    }
    rocksdb_pinnableslice_destroy(ps);
    return rc;
  }
  size_t n = 0;
  char *v = rocksdb_writebatch_wi_get_from_batch_and_db(t->wb, t->db, ro, key, klen, &n, &err);
  if (err) return fail_io(t, "get", err);
  if (!v) return MM_ENOTFOUND;
  int rc = mm_buf_reserve(out, n + 1);
  if (rc == MM_OK) {
    memcpy(out->p, v, n);
    out->len = n;
    out->p[n] = 0;
  }
  rocksdb_free(v);
  return rc;
}

int txn_get(txn *t, const void *key, size_t klen, int latest, char **val, size_t *vlen) {
  mm_buf b;
  mm_buf_init(&b);
  int rc = txn_get_buf(t, key, klen, latest, &b);
  if (rc != MM_OK) { mm_buf_free(&b); return rc; }
  if (!b.p && mm_buf_reserve(&b, 1) != MM_OK) return MM_ENOMEM;
  b.p[b.len] = 0;
  *vlen = b.len;
  *val = b.p; /* mm_malloc'd by mm_buf */
  return MM_OK;
}

static int ensure_wb(txn *t) {
  if (!t->wb) t->wb = rocksdb_writebatch_wi_create(0, 1);
  return t->wb ? MM_OK : MM_ENOMEM;
}

int txn_put(txn *t, const void *key, size_t klen, const void *val, size_t vlen) {
  if (t->state != TXN_ACTIVE) return MM_EIO;
  if (ensure_wb(t)) return MM_ENOMEM;
  rocksdb_writebatch_wi_put(t->wb, key, klen, val, vlen);
  t->nwrites++;
  t->ver = next_ver();
  return MM_OK;
}

int txn_del(txn *t, const void *key, size_t klen) {
  if (t->state != TXN_ACTIVE) return MM_EIO;
  if (ensure_wb(t)) return MM_ENOMEM;
  rocksdb_writebatch_wi_delete(t->wb, key, klen);
  t->nwrites++;
  t->ver = next_ver();
  return MM_OK;
}

/* ---- iterators ---------------------------------------------------------- */
txn_iter *txn_iter_new(txn *t, const void *lo, size_t lolen, const void *hi, size_t hilen,
                       int latest) {
  if (t->state != TXN_ACTIVE) return NULL;
  txn_iter *it = mm_calloc(1, sizeof *it + lolen + hilen + 2);
  if (!it) return NULL;
  it->t = t;
  it->lo = (char *)(it + 1);
  it->hi = it->lo + lolen + 1;
  memcpy(it->lo, lo, lolen);
  memcpy(it->hi, hi, hilen);
  it->lolen = lolen;
  it->hilen = hilen;
  it->ro = rocksdb_readoptions_create();
  read_opts(t, latest);
  if (!latest) rocksdb_readoptions_set_snapshot(it->ro, t->snap);
  if (lolen) rocksdb_readoptions_set_iterate_lower_bound(it->ro, lo, lolen);
  if (hilen) rocksdb_readoptions_set_iterate_upper_bound(it->ro, hi, hilen);
  rocksdb_iterator_t *base = rocksdb_create_iterator(t->db, it->ro);
  it->merged = t->wb && rocksdb_writebatch_wi_count(t->wb) > 0;
  if (it->merged)
    it->it = rocksdb_writebatch_wi_create_iterator_with_base(t->wb, base); /* owns base */
  else
    it->it = base;
  t->niters++;
  return it;
}

/* The merged iterator does not apply the bounds to the batch's own keys:
 * txn_iter_valid checks them. */
void txn_iter_seek(txn_iter *it, const void *key, size_t klen) {
  if (it->lolen && (klen < it->lolen ? memcmp(key, it->lo, klen) <= 0
                                     : memcmp(key, it->lo, it->lolen) < 0)) {
    key = it->lo;
    klen = it->lolen;
  }
  rocksdb_iter_seek(it->it, key, klen);
}

void txn_iter_seek_last(txn_iter *it) {
  if (!it->hilen) { rocksdb_iter_seek_to_last(it->it); return; }
  rocksdb_iter_seek_for_prev(it->it, it->hi, it->hilen);
  while (rocksdb_iter_valid(it->it)) {
    size_t kl;
    const char *k = rocksdb_iter_key(it->it, &kl);
    size_t m = MM_MIN(kl, it->hilen);
    int c = memcmp(k, it->hi, m);
    if (c < 0 || (c == 0 && kl < it->hilen)) break;
    rocksdb_iter_prev(it->it);
  }
}

void txn_iter_next(txn_iter *it) { rocksdb_iter_next(it->it); }
void txn_iter_prev(txn_iter *it) { rocksdb_iter_prev(it->it); }

int txn_iter_valid(txn_iter *it) {
  if (!rocksdb_iter_valid(it->it)) {
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (err) fail_io(it->t, "iterator", err);
    return 0;
  }
  size_t kl;
  const char *k = rocksdb_iter_key(it->it, &kl);
  if (it->hilen) {
    size_t m = MM_MIN(kl, it->hilen);
    int c = memcmp(k, it->hi, m);
    if (c > 0 || (c == 0 && kl >= it->hilen)) return 0;
  }
  if (it->lolen) {
    size_t m = MM_MIN(kl, it->lolen);
    int c = memcmp(k, it->lo, m);
    if (c < 0 || (c == 0 && kl < it->lolen)) return 0;
  }
  return 1;
}

const char *txn_iter_key(txn_iter *it, size_t *klen) { return rocksdb_iter_key(it->it, klen); }
const char *txn_iter_value(txn_iter *it, size_t *vlen) { return rocksdb_iter_value(it->it, vlen); }
int txn_iter_stable(const txn_iter *it) { return !it->merged; }

void txn_iter_free(txn_iter *it) {
  if (!it) return;
  rocksdb_iter_destroy(it->it);
  rocksdb_readoptions_destroy(it->ro);
  it->t->niters--;
  mm_free(it);
}

/* ---- savepoints ----------------------------------------------------------- */
static size_t wb_size(txn *t) {
  size_t sz = 0;
  if (t->wb) rocksdb_writebatch_wi_data(t->wb, &sz);
  return sz;
}

int txn_savepoint(txn *t) {
  if (t->state != TXN_ACTIVE) return MM_EIO;
  if (ensure_wb(t)) return MM_ENOMEM;
  if (t->nsp == t->capsp) {
    int nc = t->capsp ? 2 * t->capsp : 8;
    int *m = mm_realloc(t->sp_mark, (size_t)nc * sizeof *m);
    if (!m) return MM_ENOMEM;
    t->sp_mark = m;
    size_t *s = mm_realloc(t->sp_size, (size_t)nc * sizeof *s);
    if (!s) return MM_ENOMEM;
    t->sp_size = s;
    t->capsp = nc;
  }
  rocksdb_writebatch_wi_set_save_point(t->wb);
  t->rdepth++;
  t->sp_mark[t->nsp] = t->rdepth;
  t->sp_size[t->nsp] = wb_size(t);
  t->nsp++;
  return MM_OK;
}

static int rocks_rollback_one(txn *t) {
  char *err = NULL;
  rocksdb_writebatch_wi_rollback_to_save_point(t->wb, &err);
  t->ver = next_ver();
  if (err) return fail_io(t, "rollback to savepoint", err);
  t->rdepth--;
  return MM_OK;
}

int txn_rollback_to_savepoint(txn *t) {
  if (t->nsp == 0) return MM_ENOTFOUND;
  if (t->state != TXN_ACTIVE) return MM_EIO;
  int mark = t->sp_mark[--t->nsp];
  while (t->rdepth >= mark)
    if (rocks_rollback_one(t)) return MM_EIO;
  return MM_OK;
}

int txn_release_savepoint(txn *t) {
  if (t->nsp == 0) return MM_ENOTFOUND;
  t->nsp--;
  /* Nothing written since it was set, and it is the top RocksDB savepoint:
   * pop it for real (the rollback restores an identical batch). */
  if (t->state == TXN_ACTIVE && t->sp_mark[t->nsp] == t->rdepth && wb_size(t) == t->sp_size[t->nsp])
    return rocks_rollback_one(t);
  return MM_OK;
}

/* ---- row locks ------------------------------------------------------------------ */
void txn_set_lock_wait_timeout(txn *t, int64_t ms) { t->lock_timeout_ms = ms; }
void txn_set_interrupt(txn *t, const _Atomic int *flag) { t->interrupt = flag; }

int txn_lock_row(txn *t, const void *key, size_t klen, int mode, int policy, mm_error *err) {
  if (t->state != TXN_ACTIVE) {
    mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
    return MM_ESQL;
  }
  if (!t->lo && !(t->lo = lock_owner_new())) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
    return MM_ENOMEM;
  }
  if (!t->locking) { lock_owner_reset(t->lo); t->locking = 1; }
  lock_owner_set_interrupt(t->lo, t->interrupt);
  return lock_acquire(t->lo, key, klen, mode, policy, t->lock_timeout_ms, err);
}

int txn_aborted(txn *t) { return t && t->locking && lock_owner_aborted(t->lo); }

int txn_bf_abort(const void *key, size_t klen, txn *except) {
  return lock_bf_abort(key, klen, except && except->locking ? except->lo : NULL);
}

void txn_get_stats(store *st, txn_stats *out) {
  memset(out, 0, sizeof *out);
  lock_stats ls;
  lock_get_stats(&ls);
  out->lock_waits = ls.waits;
  out->lock_timeouts = ls.timeouts;
  out->deadlocks = ls.deadlocks;
  out->bf_aborts = ls.bf_aborts;
  out->lock_current_waits = ls.current_waits;
  cm_pipe *p = st ? cm_pipe_get(st) : NULL;
  if (p) {
    cm_stats cs;
    cm_get_stats(p, &cs);
    out->commits = cs.commits;
    out->commit_groups = cs.groups;
    out->log_compactions = cs.log_compactions;
    out->log_syncs = cs.log_syncs;
    out->cert_failures = cs.cert_failures;
    out->applied_pos = cm_applied(p);
  }
  out->oldest_snapshot_age_ms = txn_oldest_snapshot_age_ms();
}

/* ---- commit ---------------------------------------------------------------- */
/* Certification keys (DESIGN.md pillar 3): the keys the txn X-locked
 * (primary-key keys of changed rows, unique-index entries, rows locked FOR
 * UPDATE) plus every written key outside the row keyspace (catalog keys:
 * table-level keys for DDL).  Index entries of non-unique indexes never
 * conflict. */
static void ws_key(void *ctx, const char *k, size_t klen) {
  mm_buf *b = ctx;
  unsigned char l[4];
  mm_put_u32le(l, (uint32_t)klen);
  mm_buf_append(b, l, 4);
  mm_buf_append(b, k, klen);
}
static void ws_wkey(void *ctx, const char *k, size_t klen) {
  if (klen && (unsigned char)k[0] != STORE_PFX_DATA) ws_key(ctx, k, klen);
}

/* One record of the transaction's batch, in batch order (seq). */
typedef struct ws_rec {
  const char *k, *v;
  size_t klen, vlen;
  uint32_t seq;
  int del;
} ws_rec;

typedef struct ws_scan {
  ws_rec *r;
  uint32_t n, cap;
  int oom;
  ws_rec small[32]; /* most transactions: no allocation */
} ws_scan;

static void scan_rec(ws_scan *sc, const char *k, size_t klen, const char *v, size_t vlen, int del) {
  if (sc->oom) return;
  if (sc->n == sc->cap) {
    uint32_t nc = 2 * sc->cap;
    ws_rec *r = sc->r == sc->small ? mm_malloc((size_t)nc * sizeof *r) : mm_realloc(sc->r, (size_t)nc * sizeof *r);
    if (!r) { sc->oom = 1; return; }
    if (sc->r == sc->small) memcpy(r, sc->small, sizeof sc->small);
    sc->r = r;
    sc->cap = nc;
  }
  sc->r[sc->n] = (ws_rec){.k = k, .klen = klen, .v = v, .vlen = vlen, .seq = sc->n, .del = del};
  sc->n++;
}
static void scan_put(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
  scan_rec(ctx, k, klen, v, vlen, 0);
}
static void scan_del(void *ctx, const char *k, size_t klen) { scan_rec(ctx, k, klen, NULL, 0, 1); }

/* by key, then batch order */
static int rec_cmp(const void *a, const void *b) {
  const ws_rec *x = a, *y = b;
  int c = memcmp(x->k, y->k, MM_MIN(x->klen, y->klen));
  if (c) return c;
  if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
  return x->seq < y->seq ? -1 : 1;
}
static int rec_seq_cmp(const void *a, const void *b) {
  const ws_rec *x = a, *y = b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int rec_same_key(const ws_rec *a, const ws_rec *b) {
  return a->klen == b->klen && memcmp(a->k, b->k, a->klen) == 0;
}

/* The batch keeps every write of the transaction: a row deleted and
 * inserted again, or updated by several statements, is there once per
 * write, and each copy would become a version in the memtable that every
 * later range scan steps over until the next flush.  When a key repeats,
 * the write set carries a batch with only the last write of each key
 * (same final state, in the order of those last writes).  Returns that
 * batch, or NULL when no key repeats or the copy cannot be made (then the
 * original batch is used: the result is the same, only larger).  Reorders
 * sc's records. */
static rocksdb_writebatch_t *ws_dedup(ws_scan *sc) {
  ws_rec *r = sc->r;
  uint32_t n = sc->n, keep = 0;
  qsort(r, n, sizeof *r, rec_cmp);
  for (uint32_t i = 0; i < n; i++) {
    if (i + 1 < n && rec_same_key(&r[i], &r[i + 1])) continue; /* superseded by a later write */
    r[keep++] = r[i];
  }
  if (keep == n) return NULL;
  qsort(r, keep, sizeof *r, rec_seq_cmp);
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  if (!wb) return NULL;
  for (uint32_t i = 0; i < keep; i++) {
    if (r[i].del) rocksdb_writebatch_delete(wb, r[i].k, r[i].klen);
    else rocksdb_writebatch_put(wb, r[i].k, r[i].klen, r[i].v, r[i].vlen);
  }
  return wb;
}

static int ws_build(txn *t, cm_pipe *p, cm_ws *ws, mm_buf *keys, rocksdb_writebatch_t **dedup) {
  memset(ws, 0, sizeof *ws);
  *dedup = NULL;
  /* Base: what this node had applied when the write set is built.  Rows
   * this txn changed were read at latest under an X lock held since, so
   * every write ordered before this point is already in what it read. */
  ws->base = cm_applied(p);
  if (t->locking) lock_owner_foreach_x(t->lo, ws_key, keys);
  /* One pass over the batch: its records, for the written catalog keys and
   * for ws_dedup. */
  ws_scan sc;
  sc.r = sc.small;
  sc.n = 0;
  sc.cap = (uint32_t)(sizeof sc.small / sizeof sc.small[0]);
  sc.oom = 0;
  rocksdb_writebatch_wi_iterate(t->wb, &sc, scan_put, scan_del);
  if (!sc.oom) {
    for (uint32_t i = 0; i < sc.n; i++) ws_wkey(keys, sc.r[i].k, sc.r[i].klen);
    *dedup = ws_dedup(&sc);
  }
  if (sc.r != sc.small) mm_free(sc.r);
  if (*dedup) ws->batch = rocksdb_writebatch_data(*dedup, &ws->batch_len);
  else ws->batch = rocksdb_writebatch_wi_data(t->wb, &ws->batch_len);
  ws->keys = keys->p;
  ws->keys_len = keys->len;
  return sc.oom || keys->oom ? MM_ENOMEM : MM_OK;
}

int txn_commit(txn *t, mm_error *err) {
  assert(t->niters == 0);
  if (txn_aborted(t)) {
    mm_error_set(err, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
    txn_rollback(t);
    return MM_ESQL;
  }
  if (t->state != TXN_ACTIVE) {
    mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
    txn_rollback(t);
    return MM_EIO;
  }
  if (!t->wb || rocksdb_writebatch_wi_count(t->wb) == 0) {
    txn_recycle(t);
    return MM_OK;
  }
  cm_pipe *p = cm_pipe_get(t->st);
  if (!p) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
    txn_rollback(t);
    return MM_ENOMEM;
  }
  cm_ws ws;
  mm_buf keys;
  mm_buf_init(&keys);
  rocksdb_writebatch_t *dedup = NULL;
  int rc = ws_build(t, p, &ws, &keys, &dedup);
  if (rc != MM_OK) mm_error_set(err, 1037, "HY001", "Out of memory");
  else rc = cm_commit(p, &ws, err);
  mm_buf_free(&keys);
  if (dedup) rocksdb_writebatch_destroy(dedup);
  /* locks are released only now: after the write set is applied */
  if (rc != MM_OK) {
    txn_rollback(t);
    return rc;
  }
  txn_recycle(t);
  return MM_OK;
}

void txn_rollback(txn *t) {
  if (!t) return;
  txn_recycle(t);
}
