/*
 * raft/raft_node.h - a running Raft member: the pure core (raft.h) wired to
 * the on-disk log (raft_log.h), the TCP transport (raft_net.h) and a tick
 * timer.
 *
 * Threads: a driver thread runs an epoll loop (timer, network, wake-ups), is
 * the only one touching the core and writes the entries (page cache); a sync
 * thread fdatasyncs them (everything written while the previous fdatasync
 * ran goes in the next one: group commit) and reports the durable position
 * back; a zero thread preallocates the log ahead of the appends.  Hard state
 * and snapshot metadata are written synchronously before the messages of
 * the same ready batch are sent.
 */
#ifndef MM_RAFT_NODE_H
#define MM_RAFT_NODE_H

#include "raft/raft.h"

typedef struct raft_node raft_node;

/* Outcome of a submission, called on the driver thread: status MM_OK and
 * the entry's log position once it is committed (durable on a majority; it
 * may reach on_apply on this member slightly later, once its own copy is
 * durable: thesis 10.2.1),
 * or MM_EAGAIN (not appended, or lost to a new leader: retry; see
 * docs/raft.md for the unknown-outcome case).  Must not block. */
typedef void (*raft_node_done_fn)(void *arg, int status, raft_index index);

typedef struct raft_node_config {
  raft_id id;
  const char *dir;               /* log directory */
  const char *listen_host;       /* e.g. "127.0.0.1" */
  int listen_port;
  int n_peers;                   /* other members' addresses */
  struct { raft_id id; char host[64]; int port; } peers[RAFT_MAX_MEMBERS];
  raft_config bootstrap;         /* configuration for a fresh directory */
  uint32_t tick_ms;              /* default 10 */
  uint32_t election_ticks;       /* default 30 */
  uint32_t heartbeat_ticks;      /* default 5 */
  /* Called on the driver thread for every committed entry, in order.  The
   * entry is valid only during the call. */
  void (*on_apply)(void *arg, const raft_entry *e);
  void *arg;
} raft_node_config;

/* Open the log, start the threads.  c is copied (dir/listen_host strings
 * too).  Returns NULL with *err set. */
raft_node *raft_node_start(const raft_node_config *c, int *err);
/* Stop the threads and close everything.  Pending submissions get no
 * callback after this returns. */
void raft_node_stop(raft_node *n);
/* Submit an entry from any thread.  data is copied.  done is always called
 * exactly once (possibly before this returns, on the driver thread only).
 * Returns MM_OK, or MM_ENOMEM / MM_ECLOSED without calling done. */
int raft_node_submit(raft_node *n, const void *data, uint32_t len, raft_node_done_fn done, void *arg);
/* Thread-safe copy of the core's status as of the last loop iteration. */
void raft_node_status(raft_node *n, raft_status *st);
/* Ask the leader to hand leadership to target (thread-safe, asynchronous). */
void raft_node_transfer(raft_node *n, raft_id target);
/* Non-zero once the node hit a fatal error (disk); it then stops acting. */
int raft_node_failed(raft_node *n);

#endif
