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
 * Commit (DESIGN.md, "The path of one commit") has four steps, each its own
 * function so that issue 3 (certification, group commit, Raft) replaces
 * them one at a time:
 *     ws_build   write set: written keys (certification keys), the batch
 *                of row changes, and the position the txn read from
 *     ws_order   total order: a local sequence number for now
 *     ws_certify deterministic verdict: always "commit" on one node for now
 *     ws_apply   write the batch to RocksDB with sync (RocksDB groups
 *                concurrent synced writers into one fsync)
 *
 * txn structs are recycled through a small per-thread cache, so an
 * autocommit point SELECT allocates nothing in steady state.
 */
#include "txn/txn.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

enum { TXN_ACTIVE = 1, TXN_FAILED = 2 };

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
  uint64_t read_pos;                /* RocksDB sequence the txn first read at */
  /* savepoints */
  int *sp_mark;                     /* logical stack: RocksDB depth when set */
  size_t *sp_size;                  /* batch data size when set */
  int nsp, capsp;
  int rdepth;                       /* RocksDB savepoints currently set */
  int niters;                       /* open iterators */
  rocksdb_writeoptions_t *wo;       /* sync */
};

struct txn_iter {
  txn *t;
  rocksdb_iterator_t *it;
  rocksdb_readoptions_t *ro;
  char *lo, *hi;
  size_t lolen, hilen;
};

/* ---- per-thread recycling --------------------------------------------- */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void txn_destroy(txn *t) {
  if (!t) return;
  if (t->snap) rocksdb_release_snapshot(t->db, t->snap);
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
  if (t->snap) { rocksdb_release_snapshot(t->db, t->snap); t->snap = NULL; }
  rocksdb_readoptions_set_snapshot(t->ro_snap, NULL);
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
  t->read_pos = 0;
  t->nsp = 0;
  t->rdepth = 0;
  t->niters = 0;
  return t;
}

static void take_snapshot(txn *t) {
  /* (the C API has no snapshot sequence getter: the latest sequence taken
   * just before is a lower bound of what the snapshot sees) */
  if (!t->read_pos) t->read_pos = rocksdb_get_latest_sequence_number(t->db);
  t->snap = rocksdb_create_snapshot(t->db);
  rocksdb_readoptions_set_snapshot(t->ro_snap, t->snap);
}

void txn_statement_start(txn *t) {
  if (t->iso == TXN_READ_COMMITTED && t->snap && t->niters == 0) {
    rocksdb_release_snapshot(t->db, t->snap);
    t->snap = NULL;
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
  return MM_OK;
}

int txn_del(txn *t, const void *key, size_t klen) {
  if (t->state != TXN_ACTIVE) return MM_EIO;
  if (ensure_wb(t)) return MM_ENOMEM;
  rocksdb_writebatch_wi_delete(t->wb, key, klen);
  t->nwrites++;
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
  if (t->wb && rocksdb_writebatch_wi_count(t->wb) > 0)
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

/* ---- commit ---------------------------------------------------------------- */
/* The write set a commit hands to ordering and certification. */
typedef struct txn_writeset {
  uint64_t read_pos;       /* position (RocksDB sequence for now) the txn read at */
  uint64_t order;          /* position assigned by ws_order */
  const char *batch;       /* the row changes: a serialized RocksDB WriteBatch */
  size_t batch_len;
  mm_buf keys;             /* certification keys: u32le len + bytes, repeated */
  int nkeys;
} txn_writeset;

static void ws_key(void *ctx, const char *k, size_t klen) {
  txn_writeset *ws = ctx;
  unsigned char l[4];
  mm_put_u32le(l, (uint32_t)klen);
  mm_buf_append(&ws->keys, l, 4);
  mm_buf_append(&ws->keys, k, klen);
  ws->nkeys++;
}
static void ws_put(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) { ws_key(ctx, k, klen); }

static int ws_build(txn *t, txn_writeset *ws) {
  memset(ws, 0, sizeof *ws);
  mm_buf_init(&ws->keys);
  ws->read_pos = t->read_pos;
  ws->batch = rocksdb_writebatch_wi_data(t->wb, &ws->batch_len);
  /* Every written key is a certification key for now; issue 3 narrows this
   * to primary and unique keys (index entries of non-unique indexes never
   * conflict) and adds locking-read keys. */
  rocksdb_writebatch_wi_iterate(t->wb, ws, ws_put, ws_key);
  return ws->keys.oom ? MM_ENOMEM : MM_OK;
}

static _Atomic uint64_t local_order;

static int ws_order(txn_writeset *ws) {
  ws->order = atomic_fetch_add(&local_order, 1) + 1;
  return MM_OK;
}

static int ws_certify(const txn_writeset *ws) { return MM_OK; }

static int ws_apply(txn *t, const txn_writeset *ws) {
  char *err = NULL;
  rocksdb_write_writebatch_wi(t->db, t->wo, t->wb, &err);
  if (err) return fail_io(t, "commit", err);
  return MM_OK;
}

int txn_commit(txn *t, mm_error *err) {
  assert(t->niters == 0);
  if (t->state != TXN_ACTIVE) {
    mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
    txn_rollback(t);
    return MM_EIO;
  }
  if (!t->wb || rocksdb_writebatch_wi_count(t->wb) == 0) {
    txn_recycle(t);
    return MM_OK;
  }
  txn_writeset ws;
  int rc = ws_build(t, &ws);
  if (rc == MM_OK) rc = ws_order(&ws);
  if (rc == MM_OK && ws_certify(&ws) != MM_OK) {
    mm_error_set(err, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
    rc = MM_ESQL;
  } else if (rc == MM_OK) {
    rc = ws_apply(t, &ws);
    if (rc != MM_OK)
      mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
  } else {
    mm_error_set(err, 1037, "HY001", "Out of memory; restart server and try again (needed 0 bytes)");
  }
  mm_buf_free(&ws.keys);
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
