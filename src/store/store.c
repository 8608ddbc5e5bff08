/*
 * store/store.c - the node's one RocksDB database (see store.h).
 *
 * Owns: the rocksdb_t handle, its options, the shared block cache and the
 * default read/write options.  Invariants:
 *   - every write goes through a WriteBatch (store_write / txn commit), so a
 *     write is atomic; sync=1 writes return after the WAL is fsynced
 *     (commits are not synced here: the commit pipeline's log makes them
 *     durable, txn/commit.c);
 *   - RocksDB keeps its WAL records in memory (manual_wal_flush) until its
 *     1 MB buffer fills, a memtable is switched, a sync=1 write, or
 *     store_sync_wal: what reaches the file is always a prefix of the
 *     writes, and a kill -9 loses at most that buffer.  Everything in it is
 *     in a durable place too: the commit pipeline's groups in its log
 *     (written again on open), node-local puts in the redo of the group
 *     that follows them (a put no group took only reserved values that no
 *     committed row uses), index drops behind their 'G' markers (finished
 *     at open).  This saves a write(2) per commit group: 1-4.5% of server
 *     CPU on sysbench's write workloads (bench/README.md, session 6);
 *   - the attachment (the commit pipeline) is created once, read without a
 *     lock, and destroyed in store_close before the database closes.
 *
 * Options are tuned for an OLTP node: a 256 MB LRU block cache for data
 * blocks (index and filter blocks stay with their open tables), full bloom
 * filters (10 bits/key) so point reads of absent keys (unique checks,
 * INSERT of a new PK) rarely touch disk, 4 MB memtables also flushed for
 * their age (see below), LZ4 on the last level, level compaction with
 * dynamic level sizes.  (WAL recycling, which would
 * make each commit's fdatasync an overwrite, is refused by RocksDB 7.8 in
 * every recovery mode that keeps acknowledged commits, so it is not set.)
 */
#include "store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Node-local puts (store_put, sync=0) kept for the commit log: past this
 * size without a commit group to carry them, the WAL is synced instead. */
#define REDO_MAX (1u << 20)

struct store {
  rocksdb_t *db;
  rocksdb_options_t *opts;
  rocksdb_block_based_table_options_t *topts;
  rocksdb_cache_t *cache;
  rocksdb_readoptions_t *ro;
  rocksdb_writeoptions_t *wo_sync, *wo_nosync;
  char *dir;
  pthread_mutex_t att_mu;  /* creating the attachment */
  void *att;               /* see store_attachment (atomic) */
  void (*att_destroy)(void *a);
  pthread_mutex_t redo_mu;
  rocksdb_writebatch_t *redo; /* node-local puts not yet taken by store_take_redo */
  /* memtable age (see age_main) */
  pthread_t age_thr;
  int age_started;
  int age_stop;               /* with age_mu */
  pthread_mutex_t age_mu;
  pthread_cond_t age_cv;
  uint64_t age_ms, age_min_bytes;
  uint64_t age_flushes;       /* atomic */
};

static void store_free_parts(store *st) {
  if (st->ro) rocksdb_readoptions_destroy(st->ro);
  if (st->wo_sync) rocksdb_writeoptions_destroy(st->wo_sync);
  if (st->wo_nosync) rocksdb_writeoptions_destroy(st->wo_nosync);
  if (st->opts) rocksdb_options_destroy(st->opts);
  if (st->topts) rocksdb_block_based_options_destroy(st->topts);
  if (st->cache) rocksdb_cache_destroy(st->cache);
  if (st->redo) rocksdb_writebatch_destroy(st->redo);
  pthread_mutex_destroy(&st->redo_mu);
  pthread_mutex_destroy(&st->att_mu);
  pthread_mutex_destroy(&st->age_mu);
  pthread_cond_destroy(&st->age_cv);
  mm_free(st->dir);
  mm_free(st);
}

/* Memtable age.  A memtable keeps every version of a row until it is
 * flushed, and a range scan steps over all of them: a row updated u times
 * a second has about u * age versions there.  Size alone bounds age only
 * under a heavy write load; under a light one (oltp_read_write writes about
 * 1.5 MB/s) a 4 MB memtable lived about 3 s.  So a memtable is also flushed
 * once it is age_ms old, if it holds at least age_min_bytes (a flush costs
 * about the same whatever its size: the compaction behind it rewrites the
 * base level, so tiny memtables are left to grow).  A thread samples the
 * active memtable's size every 100 ms; a drop means a new memtable. */
static void *age_main(void *arg) {
  store *st = arg;
  uint64_t born = mm_now_us(), last = 0;
  rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
  if (!fo) return NULL;
  rocksdb_flushoptions_set_wait(fo, 0);
  pthread_mutex_lock(&st->age_mu);
  while (!st->age_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 100 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&st->age_cv, &st->age_mu, &ts);
    if (st->age_stop) break;
    pthread_mutex_unlock(&st->age_mu);
    uint64_t size = 0, now = mm_now_us();
    if (!rocksdb_property_int(st->db, "rocksdb.cur-size-active-mem-table", &size)) {
      if (size < last) born = now; /* switched since the last sample */
      last = size;
      if (size >= st->age_min_bytes && now - born >= st->age_ms * 1000) {
        char *err = NULL;
        rocksdb_flush(st->db, fo, &err);
        if (err) { mm_log_error("store: memtable flush: %s", err); rocksdb_free(err); }
        else __atomic_fetch_add(&st->age_flushes, 1, __ATOMIC_RELAXED);
        born = mm_now_us();
        last = 0;
      }
    }
    pthread_mutex_lock(&st->age_mu);
  }
  pthread_mutex_unlock(&st->age_mu);
  rocksdb_flushoptions_destroy(fo);
  return NULL;
}

static void age_start(store *st, size_t write_buffer) {
  const char *a = getenv("MMSQL_MEMTABLE_MAX_AGE_MS");
  st->age_ms = a ? (uint64_t)atoll(a) : 1500;
  st->age_min_bytes = write_buffer / 4;
  if (!st->age_ms) return;
  st->age_started = pthread_create(&st->age_thr, NULL, age_main, st) == 0;
}

static void age_stop(store *st) {
  if (!st->age_started) return;
  pthread_mutex_lock(&st->age_mu);
  st->age_stop = 1;
  pthread_cond_signal(&st->age_cv);
  pthread_mutex_unlock(&st->age_mu);
  pthread_join(st->age_thr, NULL);
  st->age_started = 0;
}

uint64_t store_age_flushes(store *st) { return __atomic_load_n(&st->age_flushes, __ATOMIC_RELAXED); }

/* Iterators start reading ahead (a readahead(2) call per new data block)
 * once they have stepped through num_file_reads_for_auto_readahead blocks
 * of one file in order, RocksDB's default being 2, whether or not the
 * blocks come from the block cache.  Short OLTP range scans (sysbench's
 * 100 rows cross 2-3 blocks of 16 KB) then made about 0.3 such calls each,
 * all for blocks already cached: 7,617 calls in 6 s of oltp_read_write at
 * 8 threads.  At 8 blocks (128 KB) only long scans read ahead: 7 calls.
 * The C API has no setter for this table option, hence the option string
 * (applied to a copy of the options; on failure the default stays). */
static void set_readahead(store *st) {
  rocksdb_options_t *o = rocksdb_options_create();
  char *err = NULL;
  if (o) rocksdb_get_options_from_string(st->opts, "block_based_table_factory={num_file_reads_for_auto_readahead=8}", o, &err);
  if (!o || err) {
    mm_log_error("store: cannot set num_file_reads_for_auto_readahead: %s", err ? err : "out of memory");
    rocksdb_free(err);
    if (o) rocksdb_options_destroy(o);
    return;
  }
  rocksdb_options_destroy(st->opts);
  st->opts = o;
}

int store_open(const char *dir, store **out, char **errmsg) {
  *out = NULL;
  if (errmsg) *errmsg = NULL;
  store *st = mm_calloc(1, sizeof *st);
  if (!st) return MM_ENOMEM;
  pthread_mutex_init(&st->redo_mu, NULL);
  pthread_mutex_init(&st->att_mu, NULL);
  pthread_mutex_init(&st->age_mu, NULL);
  mm_cond_init_monotonic(&st->age_cv); /* age_main's timed waits */
  st->dir = mm_strdup(dir);
  st->redo = rocksdb_writebatch_create();
  if (!st->dir || !st->redo) {
    store_free_parts(st);
    return MM_ENOMEM;
  }

  const char *cm = getenv("MMSQL_BLOCK_CACHE_MB");
  size_t cache_mb = cm && atoi(cm) > 0 ? (size_t)atoi(cm) : 256;
  st->cache = rocksdb_cache_create_lru(cache_mb << 20);
  st->topts = rocksdb_block_based_options_create();
  rocksdb_block_based_options_set_block_cache(st->topts, st->cache);
  rocksdb_block_based_options_set_block_size(st->topts, 16 << 10);
  rocksdb_block_based_options_set_filter_policy(st->topts, rocksdb_filterpolicy_create_bloom_full(10));
  /* Index and filter blocks live with their open table (RocksDB's
   * default), not in the block cache: every Get and Seek looked them up
   * there (a hash and a shard mutex each, per level).  They take about 1-2%
   * of the data's size in memory, bounded by max_open_files.  Data blocks
   * carry a hash index for point lookups.  oltp_read_write at 8 threads,
   * three alternating runs: 1027/959/1003 -> 913/959/921 us of CPU per
   * transaction. */
  rocksdb_block_based_options_set_cache_index_and_filter_blocks(st->topts, 0);
  rocksdb_block_based_options_set_data_block_index_type(
      st->topts, rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
  rocksdb_block_based_options_set_data_block_hash_ratio(st->topts, 0.75);
  rocksdb_block_based_options_set_format_version(st->topts, 5);

  st->opts = rocksdb_options_create();
  rocksdb_options_set_create_if_missing(st->opts, 1);
  rocksdb_options_set_block_based_table_factory(st->opts, st->topts);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  rocksdb_options_increase_parallelism(st->opts, ncpu > 1 ? (int)ncpu : 2);
  rocksdb_options_set_max_background_jobs(st->opts, ncpu > 4 ? 4 : 2);
  /* Small memtables on purpose: a memtable keeps every version of a row
   * until it is flushed, and a range scan steps over all of them, so with
   * rows updated many times a second (sysbench's hot set) scan cost grows
   * with the memtable.  Flushing at 4 MB bounds that (measured on
   * oltp_read_write at 8 threads: 64 MB -> 4 MB cut CPU per transaction
   * by about 20%) at the price of more, smaller compactions. */
  const char *wb = getenv("MMSQL_WRITE_BUFFER_MB");
  size_t wb_mb = wb && atoi(wb) > 0 ? (size_t)atoi(wb) : 4;
  rocksdb_options_set_write_buffer_size(st->opts, wb_mb << 20);
  rocksdb_options_set_max_write_buffer_number(st->opts, 4);
  rocksdb_options_set_level_compaction_dynamic_level_bytes(st->opts, 1);
  /* LSM shape.  sysbench-style hot rows leave one version in every sorted
   * run (each memtable, each L0 file, each level), and a range scan steps
   * over all of them; a flushed memtable is therefore compacted at once
   * (trigger 1) into a small base level (16 MB, 4 MB files) instead of
   * piling up in L0 and then being merged into the whole last level.
   * Only the last level, which holds nearly all the data, is compressed:
   * the upper levels are rewritten often and compressing them cost about
   * 3% of the server's CPU under write load.  Measured on oltp_read_write
   * at 8 threads and update_index / write_only at 32 (bench/README.md):
   * background CPU per transaction fell from 34-46 us to 8-19 us. */
  rocksdb_options_set_level0_file_num_compaction_trigger(st->opts, 1);
  rocksdb_options_set_max_bytes_for_level_base(st->opts, 16u << 20);
  rocksdb_options_set_target_file_size_base(st->opts, 4u << 20);
  rocksdb_options_set_compression(st->opts, rocksdb_no_compression);
  rocksdb_options_set_bottommost_compression(st->opts, rocksdb_lz4_compression);
  rocksdb_options_set_bytes_per_sync(st->opts, 1 << 20);
  rocksdb_options_set_max_open_files(st->opts, 4096);
  rocksdb_options_set_allow_concurrent_memtable_write(st->opts, 1);
  rocksdb_options_set_enable_pipelined_write(st->opts, 1);
  rocksdb_options_set_memtable_prefix_bloom_size_ratio(st->opts, 0.0);
  rocksdb_options_set_keep_log_file_num(st->opts, 4);
  rocksdb_options_set_manual_wal_flush(st->opts, 1); /* see the header */

  char *err = NULL;
  set_readahead(st);
  st->db = rocksdb_open(st->opts, dir, &err);
  if (err) {
    /* Compression may be unavailable in this build: retry without it. */
    if (strstr(err, "ompression")) {
      rocksdb_free(err);
      err = NULL;
      rocksdb_options_set_bottommost_compression(st->opts, rocksdb_no_compression);
      st->db = rocksdb_open(st->opts, dir, &err);
    }
  }
  if (err) {
    if (errmsg) *errmsg = mm_strdup(err);
    rocksdb_free(err);
    store_free_parts(st);
    return MM_EIO;
  }
  st->ro = rocksdb_readoptions_create();
  st->wo_sync = rocksdb_writeoptions_create();
  rocksdb_writeoptions_set_sync(st->wo_sync, 1);
  st->wo_nosync = rocksdb_writeoptions_create();
  age_start(st, wb_mb << 20);
  *out = st;
  return MM_OK;
}

void store_close(store *st) {
  if (!st) return;
  age_stop(st);
  if (st->att) st->att_destroy(st->att);
  if (st->db) {
    store_sync_wal(st); /* (the WAL buffer: see the header) */
    rocksdb_close(st->db);
  }
  store_free_parts(st);
}

rocksdb_t *store_db(store *st) { return st->db; }

const char *store_dir(store *st) { return st->dir; }

void *store_attachment(store *st, void *(*create)(store *st), void (*destroy)(void *a)) {
  void *a = __atomic_load_n(&st->att, __ATOMIC_ACQUIRE);
  if (a) return a;
  pthread_mutex_lock(&st->att_mu);
  if (!(a = st->att) && (a = create(st))) {
    st->att_destroy = destroy;
    __atomic_store_n(&st->att, a, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&st->att_mu);
  return a;
}

void store_thread_init(void) { rocksdb_set_perf_level(rocksdb_disable); }

int store_get(store *st, const void *key, size_t klen, char **val, size_t *vlen) {
  char *err = NULL;
  size_t n = 0;
  char *v = rocksdb_get(st->db, st->ro, key, klen, &n, &err);
  if (err) {
    mm_log_error("store_get: %s", err);
    rocksdb_free(err);
    return MM_EIO;
  }
  if (!v) return MM_ENOTFOUND;
  *val = mm_malloc(n + 1);
  if (!*val) { rocksdb_free(v); return MM_ENOMEM; }
  memcpy(*val, v, n);
  (*val)[n] = 0;
  *vlen = n;
  rocksdb_free(v);
  return MM_OK;
}

int store_write(store *st, rocksdb_writebatch_t *wb, int sync) {
  char *err = NULL;
  rocksdb_write(st->db, sync ? st->wo_sync : st->wo_nosync, wb, &err);
  if (err) {
    mm_log_error("store_write: %s", err);
    rocksdb_free(err);
    return MM_EIO;
  }
  return MM_OK;
}

int store_put(store *st, const void *key, size_t klen, const void *val, size_t vlen, int sync) {
  char *err = NULL;
  if (sync) {
    rocksdb_put(st->db, st->wo_sync, key, klen, val, vlen, &err);
  } else {
    /* Write and remember under one lock, so that the redo batch holds the
     * puts of a key in the order RocksDB applied them. */
    pthread_mutex_lock(&st->redo_mu);
    rocksdb_put(st->db, st->wo_nosync, key, klen, val, vlen, &err);
    if (!err) {
      rocksdb_writebatch_put(st->redo, key, klen, val, vlen);
      size_t n;
      rocksdb_writebatch_data(st->redo, &n);
      if (n > REDO_MAX) { /* no commit group took them: make them durable here */
        rocksdb_flush_wal(st->db, 1, &err);
        if (!err) rocksdb_writebatch_clear(st->redo);
      }
    }
    pthread_mutex_unlock(&st->redo_mu);
  }
  if (err) {
    mm_log_error("store_put: %s", err);
    rocksdb_free(err);
    return MM_EIO;
  }
  return MM_OK;
}

int store_take_redo(store *st, mm_buf *out) {
  int rc = MM_OK;
  pthread_mutex_lock(&st->redo_mu);
  if (rocksdb_writebatch_count(st->redo) > 0) {
    size_t n;
    const char *d = rocksdb_writebatch_data(st->redo, &n);
    rc = mm_buf_append(out, d, n);
    if (rc == MM_OK) rocksdb_writebatch_clear(st->redo);
  }
  pthread_mutex_unlock(&st->redo_mu);
  return rc;
}

int store_sync_wal(store *st) {
  char *err = NULL;
  rocksdb_flush_wal(st->db, 1, &err);
  if (err) {
    mm_log_error("store: WAL sync failed: %s", err);
    rocksdb_free(err);
    return MM_EIO;
  }
  return MM_OK;
}

uint64_t store_approx_size(store *st, const void *lo, size_t lolen, const void *hi, size_t hilen) {
  const char *s[1] = {lo}, *l[1] = {hi};
  size_t sl[1] = {lolen}, ll[1] = {hilen};
  uint64_t size = 0;
  char *err = NULL;
  rocksdb_approximate_sizes(st->db, 1, s, sl, l, ll, &size, &err);
  if (err) { rocksdb_free(err); return 0; }
  return size;
}
