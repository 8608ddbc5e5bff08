/*
 * txn/txn.h - a transaction's view of the store.
 *
 * A txn owns a RocksDB snapshot (taken lazily at the first read, or
 * explicitly with txn_snapshot_now) and a write batch with index holding
 * its own uncommitted writes.  Reads see the snapshot plus the txn's own
 * writes; "latest" reads (used for UPDATE/DELETE/unique checks and locking
 * reads) see the latest committed data plus own writes.
 *
 * Lifecycle:  txn_begin -> (reads, writes, savepoints)* -> txn_commit | txn_rollback.
 * Both end functions free the txn.  After an error from commit the txn is
 * already rolled back and freed.  A txn is used by one thread at a time.
 *
 * Commit path (DESIGN.md, "The path of one commit"): txn_commit builds the
 * write set (certification keys = X-locked keys + catalog keys, the row
 * changes, the applied position), hands it to the pipeline of commit.h
 * (order -> certify -> grouped synced apply) and returns once it is
 * applied; the txn's row locks are released only then.
 */
#ifndef MM_TXN_TXN_H
#define MM_TXN_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/mm.h"

typedef struct txn txn;
typedef struct txn_iter txn_iter;

enum { TXN_REPEATABLE_READ = 0, TXN_READ_COMMITTED = 1 };
/* Row lock modes and wait policies for txn_lock_row (same values as
 * lock.h's LOCK_S / LOCK_X and LOCK_WAIT / LOCK_NOWAIT / LOCK_SKIP). */
enum { TXN_LOCK_NONE = 0, TXN_LOCK_S = 1, TXN_LOCK_X = 2 };
enum { TXN_WAIT = 0, TXN_NOWAIT = 1, TXN_SKIP_LOCKED = 2 };

/* Start a transaction on st.  NULL on out-of-memory. */
txn *txn_begin(store *st, int isolation);
/* READ COMMITTED: drop the snapshot so the next read takes a fresh one
 * (called by the session at each statement start). */
void txn_statement_start(txn *t);
/* Take the snapshot now (START TRANSACTION WITH CONSISTENT SNAPSHOT). */
void txn_snapshot_now(txn *t);
/* Non-zero once the txn has written something. */
int txn_has_writes(txn *t);
/* Changes whenever what the txn reads at latest may change under its own
 * hand (a write, a rollback to a savepoint), and never repeats (not even
 * for another txn): a cache of a row read at latest under an X lock is
 * valid while the version is the same. */
uint64_t txn_version(const txn *t);

/* Point read.  latest=0: snapshot + own writes; latest=1: latest committed
 * + own writes.  *val is mm_malloc'd (caller frees).  MM_ENOTFOUND/MM_EIO. */
int txn_get(txn *t, const void *key, size_t klen, int latest, char **val, size_t *vlen);
/* Same, into a caller-owned reusable buffer (out->p[0..out->len), NUL
 * after it): no allocation once the buffer is big enough.  The hot path of
 * point SELECTs. */
int txn_get_buf(txn *t, const void *key, size_t klen, int latest, mm_buf *out);
int txn_put(txn *t, const void *key, size_t klen, const void *val, size_t vlen);
int txn_del(txn *t, const void *key, size_t klen);

/* Iterator over [lo, hi) merged with own writes.  latest as for txn_get.
 * The iterator must be freed before the txn ends. Keys/values returned by
 * txn_iter_key/value are valid until the next move. */
txn_iter *txn_iter_new(txn *t, const void *lo, size_t lolen, const void *hi, size_t hilen,
                       int latest);
void txn_iter_seek(txn_iter *it, const void *key, size_t klen); /* first key >= key */
void txn_iter_seek_last(txn_iter *it);                          /* last key < hi */
void txn_iter_next(txn_iter *it);
void txn_iter_prev(txn_iter *it);
int txn_iter_valid(txn_iter *it);
const char *txn_iter_key(txn_iter *it, size_t *klen);
const char *txn_iter_value(txn_iter *it, size_t *vlen);
/* 1 if key and value stay valid until the iterator itself moves, even
 * when the transaction writes meanwhile (an iterator merged with the
 * transaction's own writes loses them on the next write: RocksDB's
 * WriteBatchWithIndex). */
int txn_iter_stable(const txn_iter *it);
void txn_iter_free(txn_iter *it);

/* Savepoints (statement atomicity and SQL SAVEPOINT), a stack. */
int txn_savepoint(txn *t);
int txn_rollback_to_savepoint(txn *t); /* undo writes since the top savepoint, and pop it */
int txn_release_savepoint(txn *t);     /* pop the top savepoint, keeping its writes */

/* Row locks (lock.h).  Lock `key` (the encoded RocksDB key of a row, or of
 * a unique-index entry) in mode LOCK_S / LOCK_X with policy LOCK_WAIT /
 * LOCK_NOWAIT / LOCK_SKIP; held until the txn ends.  Take the lock BEFORE
 * reading the row at latest, so that a read-modify-write never loses an
 * update.  Returns MM_OK; MM_EBUSY (LOCK_SKIP, not granted, no error);
 * MM_ESQL with err = 1205 (timeout: the caller rolls back the statement),
 * 1213 (deadlock victim or brute-force aborted: the caller rolls back the
 * whole transaction; its locks are already released), 3572 (NOWAIT). */
int txn_lock_row(txn *t, const void *key, size_t klen, int mode, int policy, mm_error *err);
/* Lock wait timeout in milliseconds (innodb_lock_wait_timeout * 1000);
 * default 50 s; < 0 waits forever. */
void txn_set_lock_wait_timeout(txn *t, int64_t ms);
/* A flag that ends this transaction's lock waits with 1317 when it becomes
 * non-zero (the session's KILL flag); it must outlive the transaction. */
void txn_set_interrupt(txn *t, const _Atomic int *flag);
/* Non-zero when the txn was chosen as a deadlock victim or brute-force
 * aborted: the session answers 1213 at the next statement or at COMMIT
 * (txn_commit does) and rolls it back. */
int txn_aborted(txn *t);
/* Brute-force abort (DESIGN.md pillar 4): abort every local transaction
 * other than `except` (may be NULL) holding a lock on `key`; a waiting
 * victim wakes with 1213 at once; its locks are released before this
 * returns.  Returns the number of transactions aborted.  Called by the
 * applier of remote write sets. */
int txn_bf_abort(const void *key, size_t klen, txn *except);
/* Age in milliseconds of the oldest snapshot still open (0 if none): the
 * "purge lag" (old row versions RocksDB must keep). */
uint64_t txn_oldest_snapshot_age_ms(void);

/* Counters for SHOW STATUS (row locks of the node, commit pipeline of st). */
typedef struct txn_stats {
  uint64_t lock_waits, lock_timeouts, deadlocks, bf_aborts;
  int lock_current_waits;
  uint64_t commits, commit_groups, cert_failures, applied_pos, log_compactions, log_syncs;
  uint64_t oldest_snapshot_age_ms;
} txn_stats;
void txn_get_stats(store *st, txn_stats *out);

/* Commit: durable (fsynced) on return MM_OK.  Frees t in every case.
 * On failure err holds the MySQL error (e.g. 1213 for a lost conflict). */
int txn_commit(txn *t, mm_error *err);
void txn_rollback(txn *t);

#endif
