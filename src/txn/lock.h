/*
 * txn/lock.h - the node's row lock manager (DESIGN.md pillar 4).
 *
 * Locks are named by byte strings: the encoded RocksDB key of a row (its
 * primary-key key) or of a unique-index entry.  Two modes, S and X (S is
 * compatible with S only).  A lock is owned by a lock_owner (one per open
 * transaction, embedded in txn) and held until lock_release_all (commit or
 * rollback): there is no early release, as in InnoDB.
 *
 * Waits.  A conflicting request waits (policy LOCK_WAIT) until the lock is
 * granted, the timeout passes (1205, the statement is rolled back by the
 * caller, the transaction goes on), or the owner is chosen as a victim.
 * Before every wait the wait-for graph is searched for a cycle through the
 * requester; if there is one, the owner of the cycle holding the fewest
 * locks (the younger on a tie) is the victim (1213): it is marked aborted
 * and all its locks are released at once, so the other members of the
 * cycle proceed immediately.  A victim other than the requester is waiting:
 * its lock_acquire returns the 1213; the requester goes on to wait.  LOCK_NOWAIT answers 3572 at
 * once; LOCK_SKIP answers MM_EBUSY without an error (SKIP LOCKED).
 *
 * Brute-force abort (lock_bf_abort): the applier of an ordered write set
 * must never wait for a local transaction.  It aborts every owner holding
 * the named lock: the victim is marked aborted, its locks are released
 * now, and it is woken if it was waiting (its wait answers 1213).  An
 * aborted owner refuses further locks (1213) until lock_owner_reset; the
 * transaction layer turns "aborted" into 1213 on the next statement and at
 * COMMIT.
 *
 * Concurrency: one mutex guards the whole table and every owner's lock
 * state (deadlock detection needs a consistent graph); each owner sleeps on
 * its own condition variable.  Invariants (under the mutex):
 *   - an owner appears at most once among an entry's holders;
 *   - every holder of an entry lists the entry in its held[] and vice versa;
 *   - an owner waits on at most one entry (waiting_on), and is then in that
 *     entry's waiter list;
 *   - an entry with no holders and no waiters is freed.
 */
#ifndef MM_TXN_LOCK_H
#define MM_TXN_LOCK_H

#include <stddef.h>
#include <stdint.h>

#include "util/mm.h"

typedef struct lock_owner lock_owner;

enum { LOCK_S = 1, LOCK_X = 2 };
enum { LOCK_WAIT = 0, LOCK_NOWAIT = 1, LOCK_SKIP = 2 };

/* Allocate an owner (NULL on out-of-memory).  Free only when it holds no
 * locks and is not waiting. */
lock_owner *lock_owner_new(void);
void lock_owner_free(lock_owner *o);
/* Start a new transaction with this owner: a fresh age (younger than every
 * earlier one) and the aborted flag cleared.  Precondition: holds nothing. */
void lock_owner_reset(lock_owner *o);
/* Non-zero once the owner was chosen as a deadlock victim or brute-force
 * aborted (sticky until lock_owner_reset). */
int lock_owner_aborted(lock_owner *o);
/* Number of locks held. */
int lock_owner_count(lock_owner *o);

/* Acquire `key` in `mode` for o (re-entrant; S -> X upgrade allowed).
 * timeout_ms < 0: wait forever.  Returns:
 *   MM_OK     granted (or already held in a mode at least as strong);
 *   MM_EBUSY  policy LOCK_SKIP and the lock is held by another owner;
 *   MM_ESQL   err set: 1205 HY000 timeout, 1213 40001 deadlock victim or
 *             aborted owner, 3572 HY000 NOWAIT, 1317 70100 interrupted;
 *   MM_ENOMEM err set (1037). */
int lock_acquire(lock_owner *o, const void *key, size_t klen, int mode, int policy,
                 int64_t timeout_ms, mm_error *err);
/* A flag (owned by the caller, NULL for none) that ends o's lock waits
 * when it becomes non-zero: lock_acquire then gives MM_ESQL with 1317 70100
 * "Query execution was interrupted" (KILL QUERY / KILL CONNECTION).  A
 * waiter looks at it at least every 100 ms. */
void lock_owner_set_interrupt(lock_owner *o, const _Atomic int *flag);
/* Release every lock of o and wake the waiters that may now proceed. */
void lock_release_all(lock_owner *o);

/* Call fn for every lock o holds in mode X (the keys are valid during the
 * call only).  Used to build certification keys. */
void lock_owner_foreach_x(lock_owner *o, void (*fn)(void *ctx, const char *key, size_t klen),
                          void *ctx);

/* Brute-force abort every owner other than `except` (may be NULL) that
 * holds `key`: see the header comment.  Returns the number of owners
 * aborted. */
int lock_bf_abort(const void *key, size_t klen, lock_owner *except);

/* Counters since start (SHOW STATUS). */
typedef struct lock_stats {
  uint64_t waits, timeouts, deadlocks, bf_aborts;
  int current_waits;
} lock_stats;
void lock_get_stats(lock_stats *out);

#endif
