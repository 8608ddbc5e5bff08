/*
 * txn/commit.c - order, certify, log, apply (see commit.h).
 *
 * State of a pipeline (one per store), under p->mu unless noted:
 *   next_order     the local sequencer: last position handed out
 *   applied        last position whose effects are in RocksDB
 *   queue          certified write sets waiting for a group, in order
 *   logging        1 while a group leader appends and syncs the commit log
 *   last_group     last group number handed out (= the commit log's index)
 *   applied_group  last group written to RocksDB
 *   cert index     open-addressing table: 64-bit key hash -> last position
 *                  that wrote the key; entries older than `horizon` pruned
 *   log            the commit log (raft_log), under p->lmu, which also
 *                  guards log_bytes and the background thread's state
 *
 * A write set's life:   cm_commit
 *   ORDERED --cm_deliver--> refused (1213, done)
 *                      \--> QUEUED --leader: log + fdatasync--> DURABLE
 *                                   --in group order: RocksDB--> APPLIED (done)
 *
 * Pipelining: a leader holds the log role only while it appends and syncs
 * its group, so the next group is logged while this one is written to
 * RocksDB; RocksDB writes happen strictly in group order (a leader waits
 * for applied_group == its group - 1).
 *
 * Invariants: queue positions increase; group numbers increase with
 * positions; applied only grows and equals the last position of
 * applied_group; a group reaches RocksDB only after it is durable in the
 * log and after every group before it; a write set is answered only after
 * its group reached RocksDB.  Hash collisions in the index can only add a
 * false conflict (deterministically on every node), never hide a real one.
 *
 * Commit log entry (one per group; raft_log records, term 1, consecutive
 * indexes; a record's data is a flag byte, 1 = more records of the same
 * group follow, then at most CHUNK bytes of)
 *   u64be last position | u32be rows length | rows | redo
 * rows: the group's WriteBatch (every write set's records, plus the applied
 * position); redo: the node-local puts (store_take_redo) made since the
 * previous group, applied before rows on replay only (RocksDB already has
 * them).  RocksDB itself is written without fsync, and keeps the tail of
 * its WAL in memory (store.c); on open, entries whose position is above
 * RocksDB's applied position are written again (after a kill -9, the
 * groups of that tail; after a power loss, RocksDB recovers a prefix of its
 * WAL and the log supplies the rest).  The log is cut behind the applied
 * position after an fsync of RocksDB's WAL (compaction, by the background
 * thread every CM_COMPACT_BYTES of entries), which also preallocates the
 * log with zeros so that its fdatasyncs are overwrites (raft_log.c).
 *
 * WriteBatch concatenation: a serialized RocksDB WriteBatch is a 12-byte
 * header (fixed64 sequence, fixed32 count, little-endian) followed by its
 * records; several batches form one by summing the counts and appending
 * the records (the WAL format, stable across RocksDB versions).
 */
#include "txn/commit.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "raft/raft_log.h"

#define WB_HDR 12
#define CHUNK (16u << 20)       /* largest commit log record payload */
#define CM_COMPACT_BYTES (32ull << 20)
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
  int logging;
  int failed;
  uint64_t last_group, applied_group;
  pthread_cond_t acv; /* (with mu) applied_group moved or failed was set */
  ci_slot *ci;
  size_t ci_cap, ci_n;
  cm_stats stats;
  rocksdb_writeoptions_t *wo;
  /* the commit log and its background thread */
  pthread_mutex_t lmu;
  pthread_cond_t zcv; /* (with lmu) wake the background thread */
  pthread_cond_t lcv; /* (with lmu) a background zeroing finished */
  raft_log *log;
  uint64_t log_bytes; /* entry bytes appended since the last compaction */
  int flush_mode;     /* innodb_flush_log_at_trx_commit (atomic) */
  int unsynced;       /* appended, not fdatasynced yet (flush_mode 0, 2) */
  uint64_t sync_due;  /* when the background thread syncs them (mm_now_us) */
  uint64_t log_syncs; /* stats (atomic: SHOW STATUS must not wait for an fdatasync) */
  int stop;
  pthread_t thr;
  int thr_started;
};

void (*cm_test_before_write)(int nws);
uint64_t cm_test_compact_bytes;

/* ---- the commit log ----------------------------------------------------------------- */
/* Write one serialized WriteBatch to RocksDB (no fsync). */
static int write_rep(cm_pipe *p, const char *rep, size_t n) {
  if (n <= WB_HDR) return MM_OK;
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create_from(rep, n);
  if (!wb) return MM_ENOMEM;
  char *err = NULL;
  rocksdb_write(store_db(p->st), p->wo, wb, &err);
  rocksdb_writebatch_destroy(wb);
  if (err) {
    mm_log_error("commit: RocksDB write failed: %s", err);
    rocksdb_free(err);
    return MM_EIO;
  }
  return MM_OK;
}

/* Re-apply one logged group (payload = the whole entry, chunks joined) if
 * RocksDB does not have it yet. */
static int replay_group(cm_pipe *p, const unsigned char *d, size_t n, uint64_t *replayed) {
  if (n < 12) return MM_ECORRUPT;
  uint64_t pos = mm_get_u64be(d);
  uint32_t rows = mm_get_u32be(d + 8);
  if (rows > n - 12) return MM_ECORRUPT;
  if (pos <= p->applied) return MM_OK;
  int rc = write_rep(p, (const char *)d + 12 + rows, n - 12 - rows); /* redo */
  if (rc == MM_OK) rc = write_rep(p, (const char *)d + 12, rows);
  if (rc != MM_OK) return rc;
  p->applied = pos;
  (*replayed)++;
  return MM_OK;
}

/* Open the log beside the store and bring RocksDB up to its end. */
static int log_open(cm_pipe *p) {
  mm_buf path, acc;
  mm_buf_init(&path);
  mm_buf_init(&acc);
  mm_buf_printf(&path, "%s-commitlog", store_dir(p->st));
  if (path.oom) return MM_ENOMEM;
  int rc = raft_log_open(path.p, &p->log);
  if (rc != MM_OK) {
    mm_log_error("commit log %s: cannot open: %s", path.p, mm_strerror(rc));
    mm_buf_free(&path);
    return rc;
  }
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  const raft_entry *e;
  size_t n;
  int fresh;
  raft_log_state(p->log, &term, &vote, &snap, &e, &n, &fresh);
  uint64_t replayed = 0, from = p->applied;
  for (size_t i = 0; i < n && rc == MM_OK; i++) {
    if (e[i].len < 1) { rc = MM_ECORRUPT; break; }
    if (mm_buf_append(&acc, e[i].data + 1, e[i].len - 1) != MM_OK) { rc = MM_ENOMEM; break; }
    if (e[i].data[0] & 1) continue; /* more chunks follow */
    rc = replay_group(p, (const unsigned char *)acc.p, acc.len, &replayed);
    mm_buf_reset(&acc);
  }
  /* A group whose last chunk is missing was torn at a crash: never
   * acknowledged, so it is dropped with the log's tail. */
  raft_index last = raft_log_last(p->log);
  if (rc == MM_OK && acc.len) {
    raft_index k = last;
    while (k > snap.index && (e[k - snap.index - 1].data[0] & 1)) k--;
    rc = raft_log_truncate(p->log, k + 1);
    if (rc == MM_OK) rc = raft_log_sync(p->log);
    last = k;
  }
  if (rc != MM_OK)
    mm_log_error("commit log %s: replay failed: %s", path.p, mm_strerror(rc));
  else if (replayed)
    mm_log_note("commit log %s: wrote %llu groups again (positions %llu..%llu) that RocksDB had lost",
                path.p, (unsigned long long)replayed, (unsigned long long)from + 1,
                (unsigned long long)p->applied);
  p->last_group = p->applied_group = last;
  mm_buf_free(&path);
  mm_buf_free(&acc);
  return rc;
}

/* Make RocksDB durable up to applied_group, then cut the log behind it. */
static void log_compact(cm_pipe *p) {
  pthread_mutex_lock(&p->mu);
  uint64_t g = p->applied_group;
  pthread_mutex_unlock(&p->mu);
  if (store_sync_wal(p->st) != MM_OK) return; /* the log keeps everything */
  raft_snapshot s;
  memset(&s, 0, sizeof s);
  s.index = g;
  s.term = 1;
  pthread_mutex_lock(&p->lmu);
  int rc = raft_log_set_snapshot(p->log, &s);
  pthread_mutex_unlock(&p->lmu);
  if (rc != MM_OK) mm_log_error("commit log: compaction failed: %s", mm_strerror(rc));
  pthread_mutex_lock(&p->mu);
  p->stats.log_compactions++;
  pthread_mutex_unlock(&p->mu);
}

static uint64_t compact_bytes(void) {
  return cm_test_compact_bytes ? cm_test_compact_bytes : CM_COMPACT_BYTES;
}

/* Background thread: zeros ahead of the appends (raft_log_zero_*),
 * compaction when enough was appended, and the once-a-second fdatasync of
 * flush modes 0 and 2. */
static void *log_main(void *arg) {
  cm_pipe *p = arg;
  int zeroing = 1; /* until the device fails a zero write */
  pthread_mutex_lock(&p->lmu);
  for (;;) {
    while (!p->stop && !(zeroing && raft_log_zero_needed(p->log)) && p->log_bytes < compact_bytes()) {
      if (!p->unsynced) {
        pthread_cond_wait(&p->zcv, &p->lmu);
        continue;
      }
      uint64_t now = mm_now_us();
      if (now >= p->sync_due) break;
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t ns = (uint64_t)ts.tv_nsec + (p->sync_due - now) * 1000u;
      ts.tv_sec += (time_t)(ns / 1000000000u);
      ts.tv_nsec = (long)(ns % 1000000000u);
      pthread_cond_timedwait(&p->zcv, &p->lmu, &ts);
    }
    if (p->stop) break;
    if (p->unsynced && mm_now_us() >= p->sync_due) {
      p->unsynced = 0;
      int rc = raft_log_sync(p->log); /* (sticky on failure: the next append tells) */
      __atomic_fetch_add(&p->log_syncs, 1, __ATOMIC_RELAXED);
      if (rc != MM_OK) mm_log_error("commit log: fdatasync failed: %s", mm_strerror(rc));
      continue;
    }
    if (p->log_bytes >= compact_bytes()) {
      p->log_bytes = 0;
      pthread_mutex_unlock(&p->lmu);
      log_compact(p);
      pthread_mutex_lock(&p->lmu);
      continue;
    }
    if (!zeroing) continue;
    int rc = raft_log_zero_step(p->log, &p->lmu, &p->lcv);
    if (rc == MM_EBUSY) /* (no descriptor left) retry after the next append */
      pthread_cond_wait(&p->zcv, &p->lmu);
    else if (rc != MM_OK)
      zeroing = 0; /* the device fails: appends preallocate inline (and will tell) */
  }
  if (p->unsynced && raft_log_sync(p->log) == MM_OK) p->unsynced = 0; /* a clean stop */
  pthread_mutex_unlock(&p->lmu);
  return NULL;
}

void cm_set_flush_mode(cm_pipe *p, int mode) {
  __atomic_store_n(&p->flush_mode, mode, __ATOMIC_RELAXED);
}

static void pipe_free(cm_pipe *p) {
  if (p->thr_started) {
    pthread_mutex_lock(&p->lmu);
    p->stop = 1;
    pthread_cond_signal(&p->zcv);
    pthread_mutex_unlock(&p->lmu);
    pthread_join(p->thr, NULL);
  }
  if (p->log) raft_log_close(p->log);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->lmu);
  pthread_cond_destroy(&p->acv);
  pthread_cond_destroy(&p->zcv);
  pthread_cond_destroy(&p->lcv);
  if (p->wo) rocksdb_writeoptions_destroy(p->wo);
  mm_free(p->ci);
  mm_free(p);
}

static cm_pipe *pipe_new(store *st) {
  cm_pipe *p = mm_calloc(1, sizeof *p);
  if (!p) return NULL;
  p->st = st;
  pthread_mutex_init(&p->mu, NULL);
  pthread_mutex_init(&p->lmu, NULL);
  pthread_cond_init(&p->acv, NULL);
  mm_cond_init_monotonic(&p->zcv); /* log_main's timed waits */
  pthread_cond_init(&p->lcv, NULL);
  p->flush_mode = 1;
  p->ci_cap = 1024;
  p->ci = mm_calloc(p->ci_cap, sizeof *p->ci);
  p->wo = rocksdb_writeoptions_create();
  if (!p->ci || !p->wo) goto fail;
  /* durability is the commit log's fdatasync; RocksDB's WAL is written
   * without one (and synced before the log is cut) */
  rocksdb_writeoptions_set_sync(p->wo, 0);
  /* recovery: the applied position was written with the last group */
  char *v = NULL;
  size_t n = 0;
  if (store_get(st, CM_APPLIED_KEY, CM_APPLIED_KEYLEN, &v, &n) == MM_OK && n == 8)
    p->applied = mm_get_u64be((unsigned char *)v);
  mm_free(v);
  if (log_open(p) != MM_OK) goto fail;
  p->next_order = p->applied;
  p->horizon = p->applied;
  if (pthread_create(&p->thr, NULL, log_main, p) != 0) goto fail;
  p->thr_started = 1;
  return p;
fail:
  pipe_free(p);
  return NULL;
}

static void *pipe_create(store *st) { return pipe_new(st); }
static void pipe_destroy(void *p) { pipe_free(p); }

cm_pipe *cm_pipe_get(store *st) { return store_attachment(st, pipe_create, pipe_destroy); }

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
    uint32_t n = mm_get_u32le(b);
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

/* ---- waiting: one futex word per write set ---------------------------------------- *
 * A committing thread sleeps on its write set's word, so that the end of a
 * group wakes exactly its members, and the end of a group's logging the
 * one thread that leads the next group, not every waiter.  WS_DONE is
 * final and its store is the last access to a write set by another thread:
 * the owner may return at once (the FUTEX_WAKE that follows may then reach
 * a reused address, which only causes a spurious wake-up there, as futex
 * users expect).  WS_LEAD is set only under mu, on a queued write set. */
enum { WS_WAITING = 0, WS_LEAD = 1, WS_DONE = 2 };

static void ws_wake(cm_ws *w, int to) {
  int *a = &w->word;
  if (to == WS_DONE) {
    __atomic_store_n(a, WS_DONE, __ATOMIC_RELEASE);
  } else {
    int exp = WS_WAITING;
    if (!__atomic_compare_exchange_n(a, &exp, to, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) return;
  }
  syscall(SYS_futex, a, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static int ws_sleep(cm_ws *w) {
  int v;
  while ((v = __atomic_load_n(&w->word, __ATOMIC_ACQUIRE)) == WS_WAITING)
    syscall(SYS_futex, &w->word, FUTEX_WAIT_PRIVATE, WS_WAITING, NULL, NULL, 0);
  return v;
}

/* The step every ordered write set goes through, in log order (under mu):
 * certify, index its keys, queue it for the applier.  The Raft log will
 * call this for each committed entry. */
static void cm_deliver(cm_pipe *p, cm_ws *ws) {
  ws->next = NULL;
  ws->word = WS_WAITING;
  if (certify(p, ws) != MM_OK) {
    p->stats.cert_failures++;
    ws->rc = MM_EAGAIN;
    ws->word = WS_DONE;
    return;
  }
  cert_ctx c = {p, ws};
  if (for_keys(ws, index_key, &c) != MM_OK) {
    ws->rc = MM_ENOMEM;
    ws->word = WS_DONE;
    return;
  }
  if (p->qtail) p->qtail->next = ws;
  else p->qhead = ws;
  p->qtail = ws;
}

/* ---- apply: group commit ---------------------------------------------------------- */
/* Build the group's log entry in b (outside mu): a flag byte for the first
 * record, the header, the WriteBatch of every write set plus the applied
 * position, then the node-local redo.  *rows_len: size of the WriteBatch,
 * which starts at b->p + 13. */
static int build_entry(cm_pipe *p, mm_buf *b, cm_ws *head, uint64_t last, size_t *rows_len, int *nws) {
  size_t total = WB_HDR + 19;
  uint32_t count = 1;
  *nws = 0;
  for (cm_ws *w = head; w; w = w->next) {
    (*nws)++;
    if (w->batch_len < WB_HDR) continue;
    total += w->batch_len - WB_HDR;
    count += mm_get_u32le((const unsigned char *)w->batch + 8);
  }
  if (total > UINT32_MAX || mm_buf_reserve(b, 13 + total) != MM_OK) return MM_ENOMEM;
  unsigned char *h = (unsigned char *)b->p;
  h[0] = 0;
  mm_put_u64be(h + 1, last);
  mm_put_u32be(h + 9, (uint32_t)total);
  unsigned char *wb = h + 13; /* WriteBatch header: sequence 0, count */
  memset(wb, 0, 8);
  mm_put_u32le(wb + 8, count);
  size_t off = 13 + WB_HDR;
  for (cm_ws *w = head; w; w = w->next) {
    if (w->batch_len < WB_HDR) continue;
    memcpy(h + off, w->batch + WB_HDR, w->batch_len - WB_HDR);
    off += w->batch_len - WB_HDR;
  }
  /* Put record (kTypeValue, varint key length, key, varint value length,
   * value) of the applied position */
  h[off++] = 0x01;
  h[off++] = CM_APPLIED_KEYLEN;
  memcpy(h + off, CM_APPLIED_KEY, CM_APPLIED_KEYLEN);
  off += CM_APPLIED_KEYLEN;
  h[off++] = 8;
  mm_put_u64be(h + off, last);
  off += 8;
  b->len = off;
  *rows_len = total;
  return store_take_redo(p->st, b);
}

/* Records the entry in b takes (its payload is b->len - 1 bytes). */
static size_t entry_records(const mm_buf *b) { return (b->len - 1 + CHUNK - 1) / CHUNK; }

/* Append the entry in b as records g.. and make it durable (outside mu;
 * the caller holds the log role). */
static int log_group(cm_pipe *p, mm_buf *b, uint64_t g) {
  size_t payload = b->len - 1, nrec = entry_records(b);
  raft_entry one, *e = &one;
  unsigned char *recs = NULL;
  memset(&one, 0, sizeof one);
  if (nrec > 1) { /* (huge groups) copy into records of a flag byte + a chunk */
    e = mm_calloc(nrec, sizeof *e);
    recs = mm_malloc(payload + nrec);
    if (!e || !recs) {
      if (e != &one) mm_free(e);
      mm_free(recs);
      return MM_ENOMEM;
    }
  }
  for (size_t i = 0, off = 0; i < nrec; i++) {
    size_t c = payload - off < CHUNK ? payload - off : CHUNK;
    if (recs) {
      unsigned char *r = recs + i * (CHUNK + 1);
      r[0] = i + 1 < nrec;
      memcpy(r + 1, b->p + 1 + off, c);
      e[i].data = r;
    } else {
      e[i].data = (const unsigned char *)b->p; /* flag byte 0 already in place */
    }
    off += c;
    e[i].term = 1;
    e[i].index = g + i;
    e[i].type = RAFT_ENTRY_NORMAL;
    e[i].len = (uint32_t)(c + 1);
  }
  pthread_mutex_lock(&p->lmu);
  int rc;
  while ((rc = raft_log_append(p->log, e, nrec)) == MM_EBUSY) /* (rare) */
    pthread_cond_wait(&p->lcv, &p->lmu);
  if (rc == MM_OK) {
    if (__atomic_load_n(&p->flush_mode, __ATOMIC_RELAXED) == 1) {
      rc = raft_log_sync(p->log);
      __atomic_fetch_add(&p->log_syncs, 1, __ATOMIC_RELAXED);
    } else if (!p->unsynced) {
      p->unsynced = 1;
      p->sync_due = mm_now_us() + 1000000u;
      pthread_cond_signal(&p->zcv);
    }
  }
  p->log_bytes += b->len;
  if (raft_log_zero_needed(p->log) || p->log_bytes >= compact_bytes()) pthread_cond_signal(&p->zcv);
  pthread_mutex_unlock(&p->lmu);
  if (e != &one) mm_free(e);
  mm_free(recs);
  if (rc != MM_OK) mm_log_error("commit log: write failed: %s", mm_strerror(rc));
  return rc;
}

/* Finish the write sets of [head..] with rc and wake their threads. */
static void finish_list(cm_ws *head, int rc) {
  for (cm_ws *w = head; w;) {
    cm_ws *nx = w->next; /* w belongs to its thread again after WS_DONE */
    w->rc = rc;
    ws_wake(w, WS_DONE);
    w = nx;
  }
}

/* Called with mu held, the queue not empty and no log leader: lead one
 * group through the log (append, fdatasync), then RocksDB in group order.
 * Returns with mu released. */
static void lead_group(cm_pipe *p) {
  p->logging = 1;
  cm_ws *head = p->qhead, *tail = p->qtail;
  p->qhead = p->qtail = NULL;
  uint64_t last = tail->order, g = p->last_group + 1;
  pthread_mutex_unlock(&p->mu);

  mm_buf b;
  mm_buf_init(&b);
  size_t rows = 0, nrec = 0;
  int nws = 0;
  int rc = build_entry(p, &b, head, last, &rows, &nws);
  if (rc == MM_OK) {
    nrec = entry_records(&b);
    if (cm_test_before_write) cm_test_before_write(nws);
    rc = log_group(p, &b, g);
  }
  pthread_mutex_lock(&p->mu);
  p->logging = 0;
  if (rc == MM_ENOMEM && !nrec) {
    /* nothing logged: only this group fails (its keys stay in the
     * certification index, which can only cause false conflicts) */
    if (p->qhead) ws_wake(p->qhead, WS_LEAD);
    pthread_mutex_unlock(&p->mu);
    mm_buf_free(&b);
    finish_list(head, rc);
    return;
  }
  if (rc == MM_OK) {
    p->last_group = g + nrec - 1;
    if (p->qhead) ws_wake(p->qhead, WS_LEAD); /* the next group's leader */
  }
  while (rc == MM_OK && !p->failed && p->applied_group != g - 1) pthread_cond_wait(&p->acv, &p->mu);
  if (rc == MM_OK && p->failed) rc = MM_EIO;
  if (rc == MM_OK) {
    pthread_mutex_unlock(&p->mu);
    rc = write_rep(p, b.p + 13, rows);
    pthread_mutex_lock(&p->mu);
  }
  cm_ws *q = NULL;
  if (rc == MM_OK) {
    p->applied = last;
    p->applied_group = g + nrec - 1;
    p->stats.commits += (uint64_t)nws;
    p->stats.groups++;
  } else if (!p->failed) {
    /* sticky: after a group that may or may not be durable nothing can be
     * applied in order any more (a restart replays what the log holds) */
    p->failed = 1;
    q = p->qhead;
    p->qhead = p->qtail = NULL;
  }
  pthread_cond_broadcast(&p->acv);
  pthread_mutex_unlock(&p->mu);
  mm_buf_free(&b);
  finish_list(q, MM_EIO);
  finish_list(head, rc);
}

static int err_io(mm_error *err) {
  mm_error_set(err, 1180, "HY000", "Got error %d \"%s\" during COMMIT", 5, "Input/output error");
  return MM_EIO;
}

int cm_commit(cm_pipe *p, cm_ws *ws, mm_error *err) {
  pthread_mutex_lock(&p->mu);
  if (p->failed) {
    pthread_mutex_unlock(&p->mu);
    return err_io(err);
  }
  /* order: the local sequencer */
  ws->order = ++p->next_order;
  cm_deliver(p, ws);
  /* lead the next group through the log, or wait for ours to be applied
   * (a thread whose own write set is in a group led by another may lead
   * the group after it meanwhile) */
  for (;;) {
    int v = __atomic_load_n(&ws->word, __ATOMIC_ACQUIRE);
    if (v == WS_DONE) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    if (!p->logging && p->qhead) {
      lead_group(p);
      if (__atomic_load_n(&ws->word, __ATOMIC_ACQUIRE) == WS_DONE) break;
      pthread_mutex_lock(&p->mu);
      continue;
    }
    /* sleep; a WS_LEAD already seen is taken back (it may turn to WS_DONE) */
    if (v == WS_LEAD && !__atomic_compare_exchange_n(&ws->word, &v, WS_WAITING, 0, __ATOMIC_ACQUIRE,
                                                     __ATOMIC_ACQUIRE))
      continue;
    pthread_mutex_unlock(&p->mu);
    if (ws_sleep(ws) == WS_DONE) break;
    pthread_mutex_lock(&p->mu);
  }
  int rc = ws->rc;
  if (rc == MM_EAGAIN) {
    mm_error_set(err, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
    return MM_ESQL;
  }
  if (rc == MM_ENOMEM) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
    return MM_ENOMEM;
  }
  if (rc != MM_OK) {
    return err_io(err);
  }
  return MM_OK;
}

void cm_get_stats(cm_pipe *p, cm_stats *out) {
  pthread_mutex_lock(&p->mu);
  *out = p->stats;
  out->index_size = p->ci_n;
  pthread_mutex_unlock(&p->mu);
  out->log_syncs = __atomic_load_n(&p->log_syncs, __ATOMIC_RELAXED);
}
