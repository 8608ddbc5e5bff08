/*
 * raft/raftInt.h - private state of the Raft core, shared by raft.c,
 * election.c, replication.c and membership.c.  Nothing outside src/raft
 * includes this file.
 *
 * Invariants (checked with assert on every change in debug builds):
 *   - log[i].index == snap.index + 1 + i; terms never decrease along the log.
 *   - snap.index <= applied <= resolved <= commit; applied <= stable <= last_index().
 *     (resolved: pending submissions were matched against every entry up to
 *     it; it runs ahead of applied when this member's copy is not yet
 *     durable but a majority without it already is: thesis 10.2.1.)
 *   - commit never decreases; entries <= commit are never truncated.
 *   - conf is the latest configuration in the log (or snap.conf if none);
 *     conf_index is the index of that entry (snap.index when from snap).
 *   - role == LEADER implies leader == self and vote == self for this term.
 */
#ifndef MM_RAFT_RAFTINT_H
#define MM_RAFT_RAFTINT_H

#include <assert.h>
#include <string.h>

#include "raft/raft.h"
#include "raft/raft_codec.h"
#include "util/mm.h"

enum { PEER_PROBE, PEER_REPLICATE, PEER_SNAPSHOT };

typedef struct raft_peer {
  raft_id id;
  int voter;
  int state;            /* PEER_* */
  int paused;           /* PROBE: one APPEND outstanding */
  int active;           /* heard from since the last CheckQuorum round */
  raft_index next, match;
  raft_index sent_commit;
  uint64_t ack_seq;     /* highest ReadIndex round acknowledged */
  uint32_t snap_wait;   /* ticks since SNAPSHOT was sent */
  uint32_t infl_head, infl_n; /* ring of last indexes of APPENDs in flight */
  raft_index *infl;
} raft_peer;

enum { PEND_FORWARDED = 1, PEND_ACCEPTED, PEND_READ };
typedef struct raft_pending {
  uint64_t req_id;
  int state;
  raft_index index;
  raft_term term;
  uint32_t age;
} raft_pending;

typedef struct raft_read {
  uint64_t ctx;
  raft_id origin;
  raft_index index;
  uint64_t seq;
} raft_read;

/* Growable array helper. */
#define RAFT_VEC(T) struct { T *v; size_t n, cap; }

struct raft {
  raft_options o;
  int failed;          /* sticky MM_* error, 0 when healthy */
  int loaded;

  /* persistent state */
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  raft_entry *log;
  size_t n, cap;

  /* volatile state */
  int role;
  raft_id leader;
  raft_index commit, applied, stable;
  raft_index resolved;     /* submissions resolved against entries <= resolved */
  raft_config conf;
  raft_index conf_index;
  uint64_t rng;
  uint32_t elapsed, timeout, hb_elapsed;

  /* candidate */
  raft_id granted[RAFT_MAX_MEMBERS], rejected[RAFT_MAX_MEMBERS];
  uint32_t n_granted, n_rejected;

  /* leader */
  raft_peer peers[RAFT_MAX_MEMBERS];
  uint32_t n_peers;
  raft_index term_start;   /* index of this leader's NOOP */
  raft_id transfer_to;
  uint32_t transfer_elapsed;
  uint64_t read_seq;
  RAFT_VEC(raft_read) reads;
  int bcast_hb;            /* send heartbeats at the next flush */

  /* follower */
  raft_index verified;     /* highest index known to match the leader's log (this term) */
  raft_index acked;        /* highest match sent to the leader (this term) */
  RAFT_VEC(raft_entry) fwd;/* submissions to forward at the next flush */

  /* submissions and reads of this member awaiting an outcome */
  RAFT_VEC(raft_pending) pend;
  /* dedupe of forwarded submissions: highest req_id seen per origin */
  struct { raft_id origin; uint64_t req; } seen[32];
  uint32_t n_seen;

  /* output under construction */
  int hs_changed;
  int snap_installed;
  raft_index out_base;     /* last index the driver knows about (start of batch) */
  raft_index truncate_from;
  RAFT_VEC(raft_entry) persist;
  RAFT_VEC(raft_msg) msgs;
  RAFT_VEC(raft_event) events;
  RAFT_VEC(raft_entry) committed;
  int role_changed;
  int conf_changed;
};

/* ---- raft.c: log and output helpers ---- */
static inline raft_index raft__last(const raft *r) { return r->snap.index + r->n; }
static inline raft_entry *raft__at(raft *r, raft_index i) {
  return (i > r->snap.index && i <= raft__last(r)) ? &r->log[i - r->snap.index - 1] : NULL;
}
raft_term raft__term(const raft *r, raft_index i);   /* 0 if unknown */
int raft__vec_grow(void **v, size_t *cap, size_t need, size_t elem);
#define RAFT_PUSH(r, vec, item)                                                          \
  (((vec).n < (vec).cap || raft__vec_grow((void **)&(vec).v, &(vec).cap, (vec).n + 1,     \
                                          sizeof(*(vec).v)) == MM_OK)                    \
       ? ((vec).v[(vec).n++] = (item), MM_OK)                                            \
       : raft__fail(r, MM_ENOMEM))
int raft__fail(raft *r, int rc);
int raft__append(raft *r, const raft_entry *e);       /* takes a new reference */
int raft__truncate(raft *r, raft_index from);          /* drop entries >= from */
raft_msg *raft__msg(raft *r, uint32_t type, raft_id to); /* NULL on ENOMEM (sticky) */
int raft__event(raft *r, uint32_t type, int status, uint64_t req, raft_index idx, raft_term t);
uint32_t raft__rand(raft *r, uint32_t n);
int raft__seen_check(raft *r, raft_id origin, uint64_t req); /* 1 if new (and records it) */
void raft__seen_note(raft *r, raft_id origin, uint64_t req);
void raft__pending_fail_all(raft *r, int fwd_only);

/* ---- election.c ---- */
void raft__become_follower(raft *r, raft_term term, raft_id leader);
int raft__campaign(raft *r, int pre, int transfer);
int raft__election_tick(raft *r);
int raft__handle_vote(raft *r, const raft_msg *m);
int raft__handle_vote_resp(raft *r, const raft_msg *m);
int raft__handle_timeout_now(raft *r, const raft_msg *m);
int raft__maybe_transfer(raft *r, raft_peer *p);
int raft__quorum(const raft *r);
int raft__lease_active(const raft *r);

/* ---- replication.c ---- */
int raft__send_append(raft *r, raft_peer *p, int force);
int raft__bcast_heartbeat(raft *r);
int raft__handle_append(raft *r, const raft_msg *m);
int raft__handle_append_resp(raft *r, const raft_msg *m);
int raft__handle_heartbeat(raft *r, const raft_msg *m);
int raft__handle_heartbeat_resp(raft *r, const raft_msg *m);
int raft__handle_snapshot(raft *r, const raft_msg *m);
int raft__maybe_commit(raft *r);
int raft__flush(raft *r);
int raft__leader_append(raft *r, uint32_t type, raft_id origin, uint64_t req,
                        const unsigned char *data, uint32_t len, void *blk);
int raft__handle_submit(raft *r, const raft_msg *m);
int raft__handle_submit_resp(raft *r, const raft_msg *m);
int raft__handle_read(raft *r, const raft_msg *m);
int raft__handle_read_resp(raft *r, const raft_msg *m);
int raft__reads_check(raft *r);
int raft__read_local(raft *r, uint64_t ctx, raft_id origin);
int raft__follower_ack(raft *r, int force);

/* ---- membership.c ---- */
void raft__set_conf(raft *r, const raft_config *c, raft_index at);
int raft__conf_recompute(raft *r);
int raft__peers_rebuild(raft *r);
void raft__peers_free(raft *r);
raft_peer *raft__peer(raft *r, raft_id id);
int raft__conf_at(raft *r, raft_index index, raft_config *out);


#endif
