/*
 * txn/commit.h - the commit pipeline: order -> certify -> apply (DESIGN.md
 * "The path of one commit", pillars 1, 2 and 5).
 *
 * A write set (cm_ws) is what a transaction hands to the pipeline at
 * COMMIT: its certification keys (primary and unique keys of changed rows,
 * catalog keys for DDL), its row changes (a serialized RocksDB WriteBatch)
 * and its base: the last log position this node had applied when the write
 * set was built.  Every write set, local or (later) remote, goes through
 * the same three steps:
 *
 *   order    a total order: each write set gets the next log position.
 *            Today a local sequencer (cm_pipe's counter); the Raft log
 *            replaces it by calling cm_deliver for each committed entry in
 *            log order, and nothing after it changes.
 *   certify  deterministic, in log order (cm_deliver): the write set
 *            conflicts if one of its keys was written by a write set that
 *            passed certification at a position > base (first committer
 *            wins).  The verdict depends only on the log.  A loser gets
 *            1213 (40001).  A base older than the certification index's
 *            horizon also fails (the index cannot prove it safe).
 *   apply    in log order, grouped: write sets that passed are queued; the
 *            first waiter with no group in flight becomes the leader,
 *            concatenates the queued batches plus the applied position
 *            (STORE_PFX_META "applied") into one RocksDB WriteBatch,
 *            appends it to the commit log and fdatasyncs it (one sync for
 *            the whole group), then writes it to RocksDB (no sync) and
 *            wakes the group.  Writes and applied position are in one
 *            atomic batch; on open, the log's groups beyond RocksDB's
 *            applied position are written again, so after kill -9 or a
 *            power loss exactly the acknowledged groups are there.
 *
 * cm_commit returns only after the write set is durable and applied (or
 * refused), so a session answers OK only for durable commits.
 *
 * Memory: the cm_ws and the buffers it points to belong to the caller and
 * must stay valid until cm_commit returns.  Thread-safe.
 */
#ifndef MM_TXN_COMMIT_H
#define MM_TXN_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/mm.h"

typedef struct cm_pipe cm_pipe;

typedef struct cm_ws {
  uint64_t base;        /* last applied position when built */
  uint64_t order;       /* set by the ordering step */
  const char *batch;    /* serialized RocksDB WriteBatch (row changes) */
  size_t batch_len;
  const char *keys;     /* certification keys: (u32le len, bytes)* */
  size_t keys_len;
  /* pipeline-private */
  struct cm_ws *next;
  int word;             /* futex: 0 waiting, 1 may lead a group, 2 done */
  int rc;
} cm_ws;

/* The pipeline of store st: one per store, created at first use (it reads
 * the applied position back from STORE_PFX_META and writes again what its
 * commit log holds beyond it), closed by store_close.  NULL if the commit
 * log cannot be opened or replayed (logged) or on out-of-memory. */
cm_pipe *cm_pipe_get(store *st);

/* Last applied log position. */
uint64_t cm_applied(cm_pipe *p);

/* Order, certify and apply ws; returns when applied (MM_OK), refused by
 * certification (MM_ESQL, err 1213 40001), or failed (MM_EIO, err 1180;
 * the pipeline then refuses every later commit: failure is sticky). */
int cm_commit(cm_pipe *p, cm_ws *ws, mm_error *err);

/* Pure certification against p's index, without ordering or applying
 * (tests and diagnostics): MM_OK or MM_EAGAIN (would conflict). */
int cm_certify_probe(cm_pipe *p, const cm_ws *ws);

/* innodb_flush_log_at_trx_commit: 1 (default) fdatasyncs the commit log
 * for every group before answering it; 0 and 2 write the group to the log
 * (the page cache: it survives a crash of mmsqld, not of the machine) and
 * fdatasync it at most a second later, from the log's background thread. */
void cm_set_flush_mode(cm_pipe *p, int mode);

typedef struct cm_stats {
  uint64_t commits;       /* write sets applied */
  uint64_t groups;        /* groups: commit log appends, one fdatasync each */
  uint64_t cert_failures; /* write sets refused by certification */
  uint64_t index_size;    /* keys in the certification index */
  uint64_t log_compactions; /* times the commit log was cut behind RocksDB */
  uint64_t log_syncs;       /* fdatasyncs of the commit log */
} cm_stats;
void cm_get_stats(cm_pipe *p, cm_stats *out);

/* Hook for tests: called by the group leader before it appends its group
 * to the commit log, with the number of write sets in the group. */
extern void (*cm_test_before_write)(int nws);
/* For tests: compact the commit log every this many bytes (0: default). */
extern uint64_t cm_test_compact_bytes;

/* The META key holding the applied position (u64be). */
#define CM_APPLIED_KEY "\x02" "applied"
#define CM_APPLIED_KEYLEN 8

#endif
