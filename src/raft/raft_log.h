/*
 * raft/raft_log.h - the durable Raft log on disk: segment files of CRC'd
 * records plus a small metadata file (hard state and snapshot metadata).
 *
 *   DIR/meta                    term, vote, snapshot (index, term, config), crc
 *   DIR/seg-<first index 20d>   records (raft_codec.h): u32 len, u32 crc32c, entry
 *
 * Appends are buffered writes; raft_log_sync() makes everything written so
 * far durable (fdatasync), so a caller groups many entries per fsync.  On
 * open, the first record that is incomplete or fails its CRC (a torn write
 * at a crash) and everything after it are cut off.  The metadata file is
 * replaced atomically (write temp, fsync, rename, fsync directory).
 *
 * Errors are sticky: after an I/O failure every call returns MM_EIO until
 * the log is closed and reopened (which recovers what reached the disk).
 * A raft_log is used by one thread at a time.
 */
#ifndef MM_RAFT_LOG_H
#define MM_RAFT_LOG_H

#include <pthread.h>

#include "raft/raft.h"

typedef struct raft_log raft_log;

/* Open (creating DIR if needed) and recover.  *out on MM_OK.  Errors: MM_EIO,
 * MM_ECORRUPT (meta file damaged), MM_ENOMEM. */
int raft_log_open(const char *dir, raft_log **out);
void raft_log_close(raft_log *l);

/* What was recovered.  entries[] (contiguous from snap->index + 1) stay owned
 * by the log and valid until the next call that modifies it.  *fresh is 1 if
 * the directory held no state (bootstrap). */
void raft_log_state(raft_log *l, raft_term *term, raft_id *vote, raft_snapshot *snap,
                    const raft_entry **entries, size_t *n, int *fresh);

/* Durably store term and vote (returns after fsync). */
int raft_log_set_hard_state(raft_log *l, raft_term term, raft_id vote);
/* Durably store snapshot metadata, then drop entries <= snap->index (all
 * entries if the log does not reach snap->index). */
int raft_log_set_snapshot(raft_log *l, const raft_snapshot *snap);
/* Drop entries >= from (durable at the next raft_log_sync). */
int raft_log_truncate(raft_log *l, raft_index from);
/* Append entries (index must continue the log).  Not durable until sync.
 * MM_EBUSY (nothing done) while a background zeroing holds the range the
 * records would go to (see raft_log_zero_begin). */
int raft_log_append(raft_log *l, const raft_entry *e, size_t n);
/* fdatasync everything written. */
int raft_log_sync(raft_log *l);
/* Pipelined sync, for a storage thread that keeps appending while an
 * fdatasync runs.  raft_log_sync_begin (on the thread that owns the log)
 * records the last (index, term) written so far and takes duplicates of
 * the descriptors of every segment written since the previous sync (their
 * dirty marks move into ss).  raft_log_sync_finish (any thread, no lock: it
 * touches only ss) fdatasyncs and closes them; when it returns MM_OK every
 * entry up to (ss->index, ss->term) as of raft_log_sync_begin is durable.
 * Appends, truncations and segment removals may go on in between (a stale
 * (index, term) after a truncation is harmless: raft_persisted ignores it).
 * An MM_EIO from finish must be treated as fatal for the log (the caller
 * stops and reopens it). */
typedef struct raft_log_syncset {
  raft_index index;
  raft_term term;
  uint32_t n;
  int fd[8];
} raft_log_syncset;
int raft_log_sync_begin(raft_log *l, raft_log_syncset *ss);
int raft_log_sync_finish(raft_log_syncset *ss);
/* Background preallocation.  Segments are extended with zeros ahead of the
 * appends (their fdatasync is then much cheaper: see raft_log.c); writing
 * the zeros is about as costly as writing the records, so a background
 * thread does it while the appends go on:
 *   raft_log_zero_needed  (owner, cheap) there is zeroing to do;
 *   raft_log_zero_begin   (owner) 1 and *z filled if so: the range after the
 *                         last segment's zeros, and a dup of its descriptor;
 *   raft_log_zero_write   (any thread, no lock: touches only z);
 *   raft_log_zero_end     (owner) publish it and close the descriptor.
 * While one is in flight, raft_log_append returns MM_EBUSY instead of
 * writing into its range (the log is unchanged: wait for _end, retry);
 * truncations and segment removals may go on (zeros that land beyond a cut
 * are harmless: the log ends at zeros).  Without a background thread the
 * appends preallocate inline, in bigger and rarer steps. */
typedef struct raft_log_zero {
  int fd;
  uint64_t from, to;
  uint64_t gen;
  size_t seg;
} raft_log_zero;
int raft_log_zero_needed(const raft_log *l);
int raft_log_zero_begin(raft_log *l, raft_log_zero *z);
int raft_log_zero_write(raft_log_zero *z);
void raft_log_zero_end(raft_log *l, raft_log_zero *z, int rc);
/* One background zeroing step for a thread that shares the log under mu
 * (held on entry and on return; released while the zeros are written):
 * begin, write, end, then broadcast done (appenders waiting on MM_EBUSY).
 * Returns MM_OK, MM_EBUSY if no zeroing could begin (nothing needed, or no
 * descriptor left: retry after the next append), or the write's error
 * (the device fails: stop zeroing; the appends preallocate inline). */
int raft_log_zero_step(raft_log *l, pthread_mutex_t *mu, pthread_cond_t *done);
raft_index raft_log_last(const raft_log *l);
raft_term raft_log_last_term(const raft_log *l);

/* Test hook (all logs in the process): the nth write()/ftruncate from now
 * fails with EIO; 0 disarms. */
void raft_log_fail_write_at(uint64_t n);

#endif
