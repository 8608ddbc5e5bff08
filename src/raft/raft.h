/*
 * raft/raft.h - the ordered log: a Raft core written as a pure state machine.
 *
 * The core owns the in-memory log (from the last snapshot onward), the role
 * and the term.  It does no I/O, reads no clock, starts no thread and
 * allocates only through mm_malloc/mm_free.  Inputs:
 *
 *   raft_step()      a message from another member
 *   raft_tick()      one clock tick (the driver decides how long a tick is)
 *   raft_persisted() the driver's storage made entries up to (index, term) durable
 *   raft_submit()    append an entry (any member; followers forward to the leader)
 *   raft_read_index(), raft_transfer(), raft_change(), raft_compact()
 *
 * Output: after any input the driver calls raft_get_ready() and processes the
 * batch IN THIS ORDER, then hands it back with raft_ready_done():
 *
 *   1. if rd.hs_changed: durably store (term, vote)          -- before 3.
 *   2. if rd.snap_installed: durably store rd.snap (metadata) and drop every
 *      stored entry; then fetch the state data out of band    -- before 3.
 *   3. if rd.truncate_from: drop stored entries >= truncate_from, then append
 *      rd.persist[]; fsync (may be asynchronous, grouped) and call
 *      raft_persisted(last index, its term) once durable.  Messages may be
 *      sent before this fsync completes: the core never acknowledges or
 *      counts an entry before raft_persisted() says it is durable.
 *   4. send rd.msgs[] (best effort: loss, duplication, reordering are fine).
 *   5. apply rd.committed[] in order (they are durable locally and committed).
 *      A RAFT_EV_COMMITTED may precede this: an entry commits once a majority
 *      has it on disk, which may exclude this member (thesis 10.2.1).
 *   6. deliver rd.events[] (submission outcomes, reads, role changes).
 *
 * Pointers in a raft_ready (messages, entries, entry data) stay valid until
 * raft_ready_done(); copy what must live longer.  No other input may be
 * given between raft_get_ready() and raft_ready_done().
 *
 * Roles and transitions (function behind each arrow):
 *
 *             tick: election timeout               PreVote quorum
 *   FOLLOWER ------------------------> PRECANDIDATE ---------------> CANDIDATE
 *      ^   ^  election_tick()            |  pv_won()                 |  vote quorum
 *      |   |                             | higher term / leader seen | become_leader()
 *      |   +-----------------------------+ become_follower()         v
 *      +------------------------------------------------------------ LEADER
 *         higher term, CheckQuorum failure, removed from config: become_follower()
 *   TimeoutNow (leadership transfer) moves a FOLLOWER straight to CANDIDATE.
 *   Learners and members outside the configuration never leave FOLLOWER.
 *
 * Errors: MM_OK; MM_EAGAIN (retry later: no leader, election, transfer in
 * progress, a configuration change pending); MM_EINVAL (bad argument or wrong
 * role); MM_ENOMEM.  An MM_ENOMEM is sticky: the core refuses every later
 * input (raft_failed() != 0) and must be freed and rebuilt from storage with
 * raft_load(); nothing it had not yet handed out in a ready was promised.
 */
#ifndef MM_RAFT_RAFT_H
#define MM_RAFT_RAFT_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t raft_id;    /* member id, 1..UINT64_MAX (0 = none) */
typedef uint64_t raft_index; /* log position, 1-based (0 = before the log) */
typedef uint64_t raft_term;

#define RAFT_MAX_MEMBERS 16

enum raft_role { RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER };

enum raft_entry_type {
  RAFT_ENTRY_NORMAL = 1, /* payload from raft_submit() */
  RAFT_ENTRY_NOOP = 2,   /* appended by a new leader (thesis 6.4) */
  RAFT_ENTRY_CONF = 3,   /* payload is an encoded raft_config */
};

/* One log entry.  data points into a reference-counted block owned by the
 * core (or by whoever decoded it); see raft_entry_ref/unref. */
typedef struct raft_entry {
  raft_term term;
  raft_index index;
  raft_id origin;      /* member that submitted it (0 for NOOP) */
  uint64_t req_id;     /* origin's request id (see raft_submit) */
  uint32_t type;       /* enum raft_entry_type */
  uint32_t len;
  const unsigned char *data; /* len bytes; NULL when len == 0 */
  void *blk;           /* internal: refcounted block holding data, or NULL */
} raft_entry;

/* Make a standalone entry holding a copy of data (refcount 1).  Returns
 * MM_OK or MM_ENOMEM. */
int raft_entry_init(raft_entry *e, const void *data, uint32_t len);
/* Take / drop one reference on e's data block. */
void raft_entry_ref(raft_entry *e);
void raft_entry_unref(raft_entry *e);

/* Member set.  Voters count for elections and commitment; learners receive
 * the log but do not vote. */
typedef struct raft_config {
  uint32_t n;
  struct { raft_id id; uint8_t voter; } m[RAFT_MAX_MEMBERS];
} raft_config;

/* Snapshot metadata: the log position it covers and the configuration as
 * of that position.  The data lives in the layer above (RocksDB). */
typedef struct raft_snapshot {
  raft_index index;
  raft_term term;
  raft_config conf;
} raft_snapshot;

/* ---- messages ----------------------------------------------------------- */
enum raft_msg_type {
  RAFT_MSG_APPEND = 1,     /* term, prev_index, prev_term, commit, entries */
  RAFT_MSG_APPEND_RESP,    /* term, success?, index = match or hint, reject = rejected prev */
  RAFT_MSG_PREVOTE,        /* term (proposed), index/log_term = last entry */
  RAFT_MSG_PREVOTE_RESP,   /* term, success = granted */
  RAFT_MSG_VOTE,           /* term, index/log_term = last entry, flags & TRANSFER */
  RAFT_MSG_VOTE_RESP,      /* term, success = granted */
  RAFT_MSG_HEARTBEAT,      /* term, commit, seq (ReadIndex round) */
  RAFT_MSG_HEARTBEAT_RESP, /* term, seq */
  RAFT_MSG_SNAPSHOT,       /* term, snap */
  RAFT_MSG_TIMEOUT_NOW,    /* term: start an election now (transfer) */
  RAFT_MSG_SUBMIT,         /* follower -> leader: req_id, entries[0] payload */
  RAFT_MSG_SUBMIT_RESP,    /* req_id, index, log_term, status */
  RAFT_MSG_READ,           /* follower -> leader: req_id = read ctx */
  RAFT_MSG_READ_RESP,      /* req_id, index, status */
  RAFT_MSG__MAX
};
#define RAFT_FLAG_TRANSFER 1u /* vote request caused by leadership transfer */

typedef struct raft_msg {
  uint32_t type;
  uint32_t flags;
  raft_id from, to;
  raft_term term;
  raft_index index;     /* APPEND: prev_index; *_RESP: match / hint / assigned index; votes: last index */
  raft_term log_term;   /* APPEND: prev_term; votes: last term; SUBMIT_RESP: assigned term */
  raft_index commit;
  raft_index reject;    /* APPEND_RESP: prev_index that was rejected (0 = success) */
  uint64_t seq;         /* HEARTBEAT(_RESP): ReadIndex round */
  uint64_t req_id;      /* SUBMIT/READ(_RESP) */
  int32_t status;       /* *_RESP: MM_OK, MM_EAGAIN...; votes: granted = 1 */
  uint32_t n_entries;
  raft_entry *entries;  /* APPEND, SUBMIT */
  raft_snapshot snap;   /* SNAPSHOT */
} raft_msg;

/* ---- events -------------------------------------------------------------- */
enum raft_event_type {
  RAFT_EV_ACCEPTED = 1, /* req_id got log position (index, term); not yet committed */
  RAFT_EV_COMMITTED,    /* req_id committed at index: durable on a majority, final.  May come
                           before the entry is in rd.committed here (thesis 10.2.1: a majority
                           without this member's own copy suffices; it is applied once that
                           copy is durable too) */
  RAFT_EV_FAILED,       /* req_id: status MM_EAGAIN (no leader / lost to a new leader /
                           no answer in time: outcome unknown, see docs/raft.md) */
  RAFT_EV_READ,         /* ReadIndex ctx = req_id: status MM_OK and index, or MM_EAGAIN */
  RAFT_EV_ROLE,         /* role/term/leader changed (see raft_status) */
  RAFT_EV_CONF,         /* configuration in effect changed */
};
typedef struct raft_event {
  uint32_t type;
  int32_t status;
  uint64_t req_id;
  raft_index index;
  raft_term term;
} raft_event;

/* ---- ready batch --------------------------------------------------------- */
typedef struct raft_ready {
  int hs_changed;          /* term/vote must be stored durably (step 1) */
  raft_term term;
  raft_id vote;
  int snap_installed;      /* step 2 */
  raft_snapshot snap;
  raft_index truncate_from;/* 0 = no truncation (step 3) */
  raft_entry *persist;
  size_t n_persist;
  raft_msg *msgs;          /* step 4 */
  size_t n_msgs;
  raft_entry *committed;   /* step 5 */
  size_t n_committed;
  raft_event *events;      /* step 6 */
  size_t n_events;
} raft_ready;

/* ---- options ------------------------------------------------------------- */
typedef struct raft_options {
  raft_id id;                 /* this member; non-zero */
  uint32_t election_ticks;    /* election timeout is random in [e, 2e) ticks; default 10 */
  uint32_t heartbeat_ticks;   /* default 1 */
  uint32_t max_inflight;      /* pipelined APPENDs per follower; default 128 */
  uint32_t max_batch_bytes;   /* per APPEND; default 1 MiB */
  uint32_t max_batch_entries; /* per APPEND; default 4096 */
  uint32_t submit_timeout_ticks; /* forwarded submit unanswered -> FAILED; default 4*election */
  uint64_t seed;              /* randomness for election timeouts */
  int check_quorum;           /* default on (1); -1 to disable */
  int pre_vote;               /* default on (1); -1 to disable */
} raft_options;

typedef struct raft raft;

/* Create a core.  opts is copied.  The core starts empty: call raft_load()
 * exactly once before any other input.  Returns NULL on MM_ENOMEM. */
raft *raft_new(const raft_options *opts);
/* Free the core and every entry it still references.  NULL is fine. */
void raft_free(raft *r);

/* Restore durable state: hard state (term, vote), the snapshot metadata
 * (snap->conf is the bootstrap configuration for a fresh member, with
 * index = term = 0), and the stored entries, which must be contiguous from
 * snap->index + 1.  The core copies entries (takes new references) and
 * treats all of them as durable.  applied = the position the layer above has
 * already applied (>= snap->index; committed entries after it are delivered
 * again in rd.committed).  Returns MM_OK, MM_EINVAL, MM_ENOMEM. */
int raft_load(raft *r, raft_term term, raft_id vote, const raft_snapshot *snap,
              const raft_entry *entries, size_t n, raft_index applied);

/* Deliver one message addressed to this member.  The core copies what it
 * keeps (entries get a new reference).  Messages from an older term, from
 * unknown members or stale duplicates are ignored.  Returns MM_OK or
 * MM_ENOMEM (sticky). */
int raft_step(raft *r, const raft_msg *m);
/* Advance the logical clock by one tick. */
int raft_tick(raft *r);
/* Storage says every entry up to (index, term) is durable.  Stale reports
 * (entry since truncated or replaced) are ignored. */
int raft_persisted(raft *r, raft_index index, raft_term term);

/* Submit an entry from this member.  req_id identifies it to the caller and
 * must increase strictly per member, across restarts (a leader drops a
 * forwarded submission whose req_id is not above the last one seen from that
 * origin, so network duplicates never append twice).  data is copied.
 * On the leader: appended now (RAFT_EV_ACCEPTED in this ready).  On a
 * follower with a known leader: forwarded; ACCEPTED arrives when the leader
 * answers.  Either way a RAFT_EV_COMMITTED or RAFT_EV_FAILED follows.
 * Returns MM_OK, MM_EAGAIN (no leader known, or transfer in progress: nothing
 * was done, retry), MM_EINVAL, MM_ENOMEM. */
int raft_submit(raft *r, uint64_t req_id, const void *data, uint32_t len);

/* ReadIndex (thesis 6.4): ask for a log position that is at least every
 * entry committed before this call.  Result comes as RAFT_EV_READ with
 * req_id = ctx: the caller may serve a linearizable read once it has applied
 * up to event.index.  Returns MM_OK or MM_EAGAIN (no leader known). */
int raft_read_index(raft *r, uint64_t ctx);

/* Leadership transfer (thesis 3.10).  Leader only; target must be a voter.
 * Submissions get MM_EAGAIN until it completes or times out (one election
 * timeout).  Returns MM_OK, MM_EINVAL (not leader / bad target), MM_EAGAIN. */
int raft_transfer(raft *r, raft_id target);

/* Membership change, one server at a time (thesis 4.1).  Leader only.
 *   RAFT_CHANGE_ADD_LEARNER: id joins as a non-voting member
 *   RAFT_CHANGE_PROMOTE:     learner becomes voter; MM_EAGAIN until it has
 *                            caught up with the leader's commit index
 *   RAFT_CHANGE_REMOVE:      id leaves (a removed leader steps down once the
 *                            change commits)
 * The change is a log entry submitted with req_id (events as raft_submit).
 * MM_EAGAIN while an earlier change is uncommitted or no entry of this term is
 * committed yet. */
enum { RAFT_CHANGE_ADD_LEARNER = 1, RAFT_CHANGE_PROMOTE, RAFT_CHANGE_REMOVE };
int raft_change(raft *r, int op, raft_id id, uint64_t req_id);

/* Log compaction: forget entries up to index (<= applied).  The new snapshot
 * metadata is returned in *out; the driver stores it and may then delete the
 * entries from disk.  Followers that need forgotten entries get a SNAPSHOT
 * message and install it (rd.snap_installed).  MM_EINVAL if index > applied. */
int raft_compact(raft *r, raft_index index, raft_snapshot *out);

/* Collect the output batch produced by the inputs so far.  Always succeeds
 * unless the core failed (returns the sticky error; rd is then empty). */
int raft_get_ready(raft *r, raft_ready *rd);
/* Release a batch obtained from raft_get_ready(). */
void raft_ready_done(raft *r, raft_ready *rd);

/* ---- inspection (read-only; cheap) --------------------------------------- */
typedef struct raft_status {
  raft_id id, leader;
  int role;
  raft_term term;
  raft_id vote;
  raft_index commit, applied, stable, first, last;
  raft_index snap_index;
  raft_config conf;      /* configuration in effect (latest in the log) */
} raft_status;
void raft_get_status(const raft *r, raft_status *st);
/* The entry at index (first <= index <= last) or NULL.  Valid until the
 * next input. */
const raft_entry *raft_entry_at(const raft *r, raft_index index);
/* Term of the entry at index (snapshot term for snap index; 0 if unknown). */
raft_term raft_term_at(const raft *r, raft_index index);
/* Non-zero after a sticky failure. */
int raft_failed(const raft *r);
/* Is id a voter / member of c? */
int raft_config_is_voter(const raft_config *c, raft_id id);
int raft_config_has(const raft_config *c, raft_id id);
const char *raft_role_name(int role);

#endif
