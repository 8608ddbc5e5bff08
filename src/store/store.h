/*
 * store/store.h - the node's one RocksDB database.
 *
 * Owns the rocksdb_t handle and its options.  Everything a node keeps on
 * disk lives here, under these key prefixes (first byte):
 *
 *   0x01  catalog: databases, table definitions, id counters (table/)
 *   0x02  node metadata: applied log position, server identity (txn/, raft)
 *   0x03  AUTO_INCREMENT counters: 0x03 + u32be table id -> u64be next value
 *   0x10  rows and index entries: 0x10 + u32be index id + encoded key
 *
 * Writes are atomic batches; store_write() with sync=1 returns only after
 * the WAL is fsynced.  The handle is thread-safe.
 */
#ifndef MM_STORE_STORE_H
#define MM_STORE_STORE_H

#include <rocksdb/c.h>
#include <stddef.h>
#include <stdint.h>

#include "util/mm.h"

enum {
  STORE_PFX_CATALOG = 0x01,
  STORE_PFX_META = 0x02,
  STORE_PFX_AUTOINC = 0x03,
  STORE_PFX_DATA = 0x10,
};

typedef struct store store;

/* Open (creating if needed) the database in directory `dir`.  On failure
 * returns MM_EIO and, if errmsg is not NULL, sets *errmsg to a message the
 * caller frees with mm_free. */
int store_open(const char *dir, store **out, char **errmsg);
void store_close(store *st);

/* Memtables flushed for their age rather than their size (store.c,
 * age_main; MMSQL_MEMTABLE_MAX_AGE_MS, default 1500, 0 = off). */
uint64_t store_age_flushes(store *st);

/* The raw handle, for txn/ and table/ (iterators, snapshots, batches).
 * Valid until store_close. */
rocksdb_t *store_db(store *st);

/* Read the latest committed value of a key.  On success *val is an
 * mm_malloc'd copy (caller frees).  MM_ENOTFOUND if absent, MM_EIO on error. */
int store_get(store *st, const void *key, size_t klen, char **val, size_t *vlen);

/* Atomically apply a batch.  sync=1: fsync the WAL before returning. */
int store_write(store *st, rocksdb_writebatch_t *wb, int sync);

/* Put one key outside any transaction (node-local state such as the
 * AUTO_INCREMENT counters).  sync=0 writes the WAL without fsync and also
 * keeps the put for store_take_redo: the commit pipeline copies it into the
 * next commit group's log entry, so it is durable before any commit that
 * followed it is acknowledged (past 1 MB of puts without a commit group,
 * the WAL is synced instead). */
int store_put(store *st, const void *key, size_t klen, const void *val, size_t vlen, int sync);

/* Append the node-local puts made since the last call, as one serialized
 * WriteBatch (nothing if there were none), and forget them.  MM_ENOMEM
 * leaves them in place. */
int store_take_redo(store *st, mm_buf *out);

/* Write out RocksDB's WAL buffer and fsync the WAL: every write made so far
 * is durable on return. */
int store_sync_wal(store *st);

/* Per-thread setup for a thread that will use stores (connection threads):
 * turns off RocksDB's per-thread perf counters, which are on by default and
 * cost a thread-local lookup on every read step. */
void store_thread_init(void);

/* The layer above keeps one object with the store (the commit pipeline,
 * txn/commit.c): the first call creates it with create(st) (serialised),
 * later calls return it without a lock.  NULL if create failed (the next
 * call tries again).  store_close calls destroy(a) before it closes the
 * database. */
void *store_attachment(store *st, void *(*create)(store *st), void (*destroy)(void *a));

/* The directory the store was opened in. */
const char *store_dir(store *st);

/* Approximate on-disk bytes of keys in [lo, hi) (SST files only; 0 when
 * everything is still in the memtable).  For planner estimates. */
uint64_t store_approx_size(store *st, const void *lo, size_t lolen, const void *hi, size_t hilen);

#endif
