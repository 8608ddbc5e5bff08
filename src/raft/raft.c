/*
 * raft/raft.c - the Raft core's public entry points, its in-memory log and
 * the output ("ready") batch.  Elections live in election.c, replication,
 * commitment and ReadIndex in replication.c, configurations and compaction
 * in membership.c.  See raft.h for the contract and the role diagram, and
 * raftInt.h for the invariants.
 *
 * Entry payloads live in reference-counted blocks so that the log, the
 * messages and the persist/committed lists of a ready batch can share them
 * without copying; a block is freed when its last reference goes.
 */
#include "raft/raftInt.h"

#include <stdlib.h>

typedef struct blk {
  uint32_t refs;
  uint32_t len;
  unsigned char data[];
} blk;

int raft_entry_init(raft_entry *e, const void *data, uint32_t len) {
  memset(e, 0, sizeof *e);
  e->type = RAFT_ENTRY_NORMAL;
  if (len == 0) return MM_OK;
  blk *b = mm_malloc(sizeof *b + len);
  if (!b) return MM_ENOMEM;
  b->refs = 1;
  b->len = len;
  memcpy(b->data, data, len);
  e->blk = b;
  e->data = b->data;
  e->len = len;
  return MM_OK;
}

void raft_entry_ref(raft_entry *e) {
  if (e->blk) ((blk *)e->blk)->refs++;
}

void raft_entry_unref(raft_entry *e) {
  blk *b = e->blk;
  if (b && --b->refs == 0) mm_free(b);
  e->blk = NULL;
  e->data = NULL;
}

const char *raft_role_name(int role) {
  switch (role) {
  case RAFT_FOLLOWER: return "follower";
  case RAFT_PRECANDIDATE: return "precandidate";
  case RAFT_CANDIDATE: return "candidate";
  case RAFT_LEADER: return "leader";
  default: return "?";
  }
}

/* ---- small helpers ------------------------------------------------------- */

int raft__vec_grow(void **v, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return MM_OK;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc < need) nc *= 2;
  void *p = mm_realloc(*v, nc * elem);
  if (!p) return MM_ENOMEM;
  *v = p;
  *cap = nc;
  return MM_OK;
}

int raft__fail(raft *r, int rc) {
  if (!r->failed) r->failed = rc;
  return rc;
}

uint32_t raft__rand(raft *r, uint32_t n) {
  /* xorshift64*: deterministic per seed, no global state. */
  uint64_t x = r->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->rng = x;
  return n ? (uint32_t)((x * 2685821657736338717ull) >> 33) % n : 0;
}

raft_term raft__term(const raft *r, raft_index i) {
  if (i == r->snap.index) return r->snap.term;
  if (i < r->snap.index || i > raft__last(r)) return 0;
  return r->log[i - r->snap.index - 1].term;
}

raft_term raft_term_at(const raft *r, raft_index index) { return raft__term(r, index); }

const raft_entry *raft_entry_at(const raft *r, raft_index index) {
  return raft__at((raft *)r, index);
}

int raft_failed(const raft *r) { return r->failed; }

int raft__seen_check(raft *r, raft_id origin, uint64_t req) {
  for (uint32_t i = 0; i < r->n_seen; i++)
    if (r->seen[i].origin == origin) {
      if (req <= r->seen[i].req) return 0;
      r->seen[i].req = req;
      return 1;
    }
  raft__seen_note(r, origin, req);
  return 1;
}

void raft__seen_note(raft *r, raft_id origin, uint64_t req) {
  if (!origin) return;
  for (uint32_t i = 0; i < r->n_seen; i++)
    if (r->seen[i].origin == origin) {
      if (req > r->seen[i].req) r->seen[i].req = req;
      return;
    }
  uint32_t slot = r->n_seen < MM_ARRAY_SIZE(r->seen) ? r->n_seen++ : raft__rand(r, MM_ARRAY_SIZE(r->seen));
  r->seen[slot].origin = origin;
  r->seen[slot].req = req;
}

/* ---- log ------------------------------------------------------------------- */

/* Append e (its index must be last+1) to the log and to the persist list. */
int raft__append(raft *r, const raft_entry *e) {
  assert(e->index == raft__last(r) + 1);
  assert(e->term >= raft__term(r, raft__last(r)));
  if (raft__vec_grow((void **)&r->log, &r->cap, r->n + 1, sizeof *r->log) != MM_OK ||
      raft__vec_grow((void **)&r->persist.v, &r->persist.cap, r->persist.n + 1, sizeof(raft_entry)) != MM_OK)
    return raft__fail(r, MM_ENOMEM);
  r->log[r->n] = *e;
  raft_entry_ref(&r->log[r->n]);
  r->n++;
  r->persist.v[r->persist.n] = *e;
  raft_entry_ref(&r->persist.v[r->persist.n]);
  r->persist.n++;
  raft__seen_note(r, e->origin, e->req_id);
  if (e->type == RAFT_ENTRY_CONF) {
    raft_config c;
    if (raft_config_decode(e->data, e->len, &c) == MM_OK) {
      raft__set_conf(r, &c, e->index);
      if (raft__peers_rebuild(r) != MM_OK) return raft__fail(r, MM_ENOMEM);
    }
  }
  return MM_OK;
}

/* Drop entries >= from (never committed ones: a violation is a bug). */
int raft__truncate(raft *r, raft_index from) {
  assert(from > r->commit);
  assert(from > r->snap.index);
  if (from > raft__last(r)) return MM_OK;
  while (raft__last(r) >= from) raft_entry_unref(&r->log[--r->n]);
  while (r->persist.n && r->persist.v[r->persist.n - 1].index >= from)
    raft_entry_unref(&r->persist.v[--r->persist.n]);
  if (from <= r->out_base && (!r->truncate_from || from < r->truncate_from)) r->truncate_from = from;
  if (r->out_base >= from) r->out_base = from - 1;
  if (r->stable >= from) r->stable = from - 1;
  if (r->conf_index >= from) return raft__conf_recompute(r);
  return MM_OK;
}

/* ---- output ---------------------------------------------------------------- */

raft_msg *raft__msg(raft *r, uint32_t type, raft_id to) {
  if (raft__vec_grow((void **)&r->msgs.v, &r->msgs.cap, r->msgs.n + 1, sizeof(raft_msg)) != MM_OK) {
    raft__fail(r, MM_ENOMEM);
    return NULL;
  }
  raft_msg *m = &r->msgs.v[r->msgs.n++];
  memset(m, 0, sizeof *m);
  m->type = type;
  m->from = r->o.id;
  m->to = to;
  m->term = r->term;
  return m;
}

int raft__event(raft *r, uint32_t type, int status, uint64_t req, raft_index idx, raft_term t) {
  raft_event ev = {.type = type, .status = status, .req_id = req, .index = idx, .term = t};
  return RAFT_PUSH(r, r->events, ev);
}

/* Every submission/read still waiting fails with MM_EAGAIN (fwd_only: only
 * those not yet accepted into a log). */
void raft__pending_fail_all(raft *r, int fwd_only) {
  size_t k = 0;
  for (size_t i = 0; i < r->pend.n; i++) {
    raft_pending *p = &r->pend.v[i];
    if (fwd_only && p->state == PEND_ACCEPTED) { r->pend.v[k++] = *p; continue; }
    raft__event(r, p->state == PEND_READ ? RAFT_EV_READ : RAFT_EV_FAILED, MM_EAGAIN, p->req_id, 0, 0);
  }
  r->pend.n = k;
}

/* ---- lifecycle -------------------------------------------------------------- */

raft *raft_new(const raft_options *opts) {
  if (!opts || !opts->id) return NULL;
  raft *r = mm_calloc(1, sizeof *r);
  if (!r) return NULL;
  r->o = *opts;
  if (!r->o.election_ticks) r->o.election_ticks = 10;
  if (!r->o.heartbeat_ticks) r->o.heartbeat_ticks = 1;
  if (!r->o.max_inflight) r->o.max_inflight = 128;
  if (!r->o.max_batch_bytes) r->o.max_batch_bytes = 1u << 20;
  if (!r->o.max_batch_entries) r->o.max_batch_entries = 4096;
  if (!r->o.submit_timeout_ticks) r->o.submit_timeout_ticks = 4 * r->o.election_ticks;
  if (!r->o.check_quorum) r->o.check_quorum = 1;
  if (!r->o.pre_vote) r->o.pre_vote = 1;
  r->rng = (opts->seed ^ (opts->id * 0x9E3779B97F4A7C15ull)) | 1;
  r->role = RAFT_FOLLOWER;
  return r;
}

static void entries_release(raft_entry *v, size_t n) {
  for (size_t i = 0; i < n; i++) raft_entry_unref(&v[i]);
}

static void msgs_release(raft_msg *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    entries_release(v[i].entries, v[i].n_entries);
    mm_free(v[i].entries);
  }
}

void raft_free(raft *r) {
  if (!r) return;
  entries_release(r->log, r->n);
  mm_free(r->log);
  entries_release(r->persist.v, r->persist.n);
  mm_free(r->persist.v);
  entries_release(r->committed.v, r->committed.n);
  mm_free(r->committed.v);
  entries_release(r->fwd.v, r->fwd.n);
  mm_free(r->fwd.v);
  msgs_release(r->msgs.v, r->msgs.n);
  mm_free(r->msgs.v);
  mm_free(r->events.v);
  mm_free(r->reads.v);
  mm_free(r->pend.v);
  raft__peers_free(r);
  mm_free(r);
}

int raft_load(raft *r, raft_term term, raft_id vote, const raft_snapshot *snap,
              const raft_entry *entries, size_t n, raft_index applied) {
  if (r->loaded) return MM_EINVAL;
  if (applied < snap->index) applied = snap->index;
  if (applied > snap->index + n) return MM_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (entries[i].index != snap->index + 1 + i) return MM_EINVAL;
  r->term = term;
  r->vote = vote;
  r->snap = *snap;
  r->conf = snap->conf;
  r->conf_index = snap->index;
  if (n && raft__vec_grow((void **)&r->log, &r->cap, n, sizeof *r->log) != MM_OK) return raft__fail(r, MM_ENOMEM);
  for (size_t i = 0; i < n; i++) {
    r->log[i] = entries[i];
    raft_entry_ref(&r->log[i]);
    raft__seen_note(r, entries[i].origin, entries[i].req_id);
    if (entries[i].type == RAFT_ENTRY_CONF) {
      raft_config c;
      if (raft_config_decode(entries[i].data, entries[i].len, &c) == MM_OK) {
        r->conf = c;
        r->conf_index = entries[i].index;
      }
    }
  }
  r->n = n;
  r->commit = r->applied = r->resolved = applied;
  r->stable = raft__last(r);
  r->out_base = raft__last(r);
  r->loaded = 1;
  r->timeout = r->o.election_ticks + raft__rand(r, r->o.election_ticks);
  if (raft__peers_rebuild(r) != MM_OK) return raft__fail(r, MM_ENOMEM);
  return MM_OK;
}

/* ---- inputs ------------------------------------------------------------------- */

static int is_term_free(uint32_t type) {
  return type == RAFT_MSG_SUBMIT || type == RAFT_MSG_SUBMIT_RESP || type == RAFT_MSG_READ ||
         type == RAFT_MSG_READ_RESP;
}

int raft_step(raft *r, const raft_msg *m) {
  if (r->failed) return r->failed;
  if (!r->loaded || m->to != r->o.id || m->from == r->o.id || !m->from) return MM_EINVAL;
  if (m->type == 0 || m->type >= RAFT_MSG__MAX) return MM_EINVAL;

  if (!is_term_free(m->type)) {
    if (m->term > r->term) {
      int vote_req = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE;
      if (vote_req && !(m->flags & RAFT_FLAG_TRANSFER) && raft__lease_active(r)) {
        /* Thesis 4.2.3: a member that hears from a live leader ignores
         * would-be candidates (disruptive removed servers). */
        return MM_OK;
      }
      if (m->type == RAFT_MSG_PREVOTE) {
        /* Never changes our term. */
      } else if (m->type == RAFT_MSG_PREVOTE_RESP && m->status) {
        /* A granted pre-vote carries the proposed term. */
      } else {
        raft_id lead = (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
                        m->type == RAFT_MSG_SNAPSHOT) ? m->from : 0;
        raft__become_follower(r, m->term, lead);
      }
    } else if (m->term < r->term) {
      if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT || m->type == RAFT_MSG_SNAPSHOT) {
        /* A stale leader: tell it our term so it steps down. */
        raft_msg *o = raft__msg(r, RAFT_MSG_APPEND_RESP, m->from);
        if (!o) return r->failed;
        o->reject = 0;
        o->index = 0;
      } else if (m->type == RAFT_MSG_PREVOTE) {
        raft_msg *o = raft__msg(r, RAFT_MSG_PREVOTE_RESP, m->from);
        if (!o) return r->failed;
        o->status = 0;
      }
      return r->failed;
    }
  }

  int rc = MM_OK;
  switch (m->type) {
  case RAFT_MSG_APPEND: rc = raft__handle_append(r, m); break;
  case RAFT_MSG_APPEND_RESP: rc = raft__handle_append_resp(r, m); break;
  case RAFT_MSG_HEARTBEAT: rc = raft__handle_heartbeat(r, m); break;
  case RAFT_MSG_HEARTBEAT_RESP: rc = raft__handle_heartbeat_resp(r, m); break;
  case RAFT_MSG_SNAPSHOT: rc = raft__handle_snapshot(r, m); break;
  case RAFT_MSG_PREVOTE:
  case RAFT_MSG_VOTE: rc = raft__handle_vote(r, m); break;
  case RAFT_MSG_PREVOTE_RESP:
  case RAFT_MSG_VOTE_RESP: rc = raft__handle_vote_resp(r, m); break;
  case RAFT_MSG_TIMEOUT_NOW: rc = raft__handle_timeout_now(r, m); break;
  case RAFT_MSG_SUBMIT: rc = raft__handle_submit(r, m); break;
  case RAFT_MSG_SUBMIT_RESP: rc = raft__handle_submit_resp(r, m); break;
  case RAFT_MSG_READ: rc = raft__handle_read(r, m); break;
  case RAFT_MSG_READ_RESP: rc = raft__handle_read_resp(r, m); break;
  }
  return r->failed ? r->failed : rc;
}

int raft_tick(raft *r) {
  if (r->failed) return r->failed;
  if (!r->loaded) return MM_EINVAL;
  /* Age submissions and reads forwarded to a leader that never answered. */
  size_t k = 0;
  for (size_t i = 0; i < r->pend.n; i++) {
    raft_pending *p = &r->pend.v[i];
    if (p->state != PEND_ACCEPTED && ++p->age > r->o.submit_timeout_ticks) {
      raft__event(r, p->state == PEND_READ ? RAFT_EV_READ : RAFT_EV_FAILED, MM_EAGAIN, p->req_id, 0, 0);
      continue;
    }
    r->pend.v[k++] = *p;
  }
  r->pend.n = k;
  raft__election_tick(r);
  return r->failed;
}

int raft_persisted(raft *r, raft_index index, raft_term term) {
  if (r->failed) return r->failed;
  if (index <= r->stable || index > raft__last(r) || raft__term(r, index) != term) return MM_OK;
  r->stable = index;
  if (r->role == RAFT_LEADER) raft__maybe_commit(r);
  else raft__follower_ack(r, 0);
  return r->failed;
}

int raft_submit(raft *r, uint64_t req_id, const void *data, uint32_t len) {
  if (r->failed) return r->failed;
  if (!r->loaded || len > RAFT_MAX_ENTRY_BYTES) return MM_EINVAL;
  if (r->role == RAFT_LEADER) {
    if (r->transfer_to) return MM_EAGAIN;
    raft_entry tmp;
    if (raft_entry_init(&tmp, data, len) != MM_OK) return raft__fail(r, MM_ENOMEM);
    raft__seen_check(r, r->o.id, req_id);
    int rc = raft__leader_append(r, RAFT_ENTRY_NORMAL, r->o.id, req_id, tmp.data, len, tmp.blk);
    raft_entry_unref(&tmp);
    if (rc != MM_OK) return rc;
    raft_pending p = {.req_id = req_id, .state = PEND_ACCEPTED, .index = raft__last(r), .term = r->term};
    if (RAFT_PUSH(r, r->pend, p) != MM_OK) return r->failed;
    raft__event(r, RAFT_EV_ACCEPTED, MM_OK, req_id, raft__last(r), r->term);
    return r->failed;
  }
  if (!r->leader || r->leader == r->o.id) return MM_EAGAIN;
  raft_entry e;
  if (raft_entry_init(&e, data, len) != MM_OK) return raft__fail(r, MM_ENOMEM);
  e.origin = r->o.id;
  e.req_id = req_id;
  if (RAFT_PUSH(r, r->fwd, e) != MM_OK) {
    raft_entry_unref(&e);
    return r->failed;
  }
  raft_pending p = {.req_id = req_id, .state = PEND_FORWARDED};
  RAFT_PUSH(r, r->pend, p);
  return r->failed;
}

int raft_read_index(raft *r, uint64_t ctx) {
  if (r->failed) return r->failed;
  if (!r->loaded) return MM_EINVAL;
  if (r->role == RAFT_LEADER) return raft__read_local(r, ctx, r->o.id);
  if (!r->leader || r->leader == r->o.id) return MM_EAGAIN;
  raft_msg *m = raft__msg(r, RAFT_MSG_READ, r->leader);
  if (!m) return r->failed;
  m->req_id = ctx;
  raft_pending p = {.req_id = ctx, .state = PEND_READ};
  RAFT_PUSH(r, r->pend, p);
  return r->failed;
}

/* ---- output batch ----------------------------------------------------------- */

/* Resolve this member's pending submissions against a committed entry. */
static void resolve_pending(raft *r, const raft_entry *e) {
  for (size_t i = 0; i < r->pend.n; i++) {
    raft_pending *p = &r->pend.v[i];
    if (p->state == PEND_READ) continue;
    int mine = e->origin == r->o.id && e->req_id == p->req_id;
    /* Lost: another entry committed at its index, or an entry of a later
     * term committed at or before it (terms never decrease along a log, so
     * (index, term) can no longer commit). */
    int lost = p->state == PEND_ACCEPTED &&
               (p->index == e->index || (e->term > p->term && e->index <= p->index));
    if (mine || lost) {
      raft__event(r, mine ? RAFT_EV_COMMITTED : RAFT_EV_FAILED, mine ? MM_OK : MM_EAGAIN, p->req_id,
                  e->index, e->term);
      r->pend.v[i] = r->pend.v[--r->pend.n];
      i--;
    }
  }
}

int raft_get_ready(raft *r, raft_ready *rd) {
  memset(rd, 0, sizeof *rd);
  if (r->failed) return r->failed;
  if (!r->loaded) return MM_EINVAL;
  raft__flush(r);
  assert(r->applied <= r->stable && r->stable <= raft__last(r));
  /* Outcomes of submissions: as soon as an entry is committed, which (thesis
   * 10.2.1) may be before this member's own copy is durable -- a majority
   * that excludes us has it on disk.  Committed entries are final (State
   * Machine Safety), so the in-memory entry at that index is the one. */
  if (r->resolved < r->applied) r->resolved = r->applied;
  while (!r->failed && r->resolved < r->commit) {
    raft_entry *e = raft__at(r, r->resolved + 1);
    assert(e);
    r->resolved++;
    if (r->pend.n) resolve_pending(r, e);
  }
  /* Committed entries that are also durable here are applied. */
  raft_index upto = MM_MIN(r->commit, r->stable);
  while (!r->failed && r->applied < upto) {
    raft_entry *e = raft__at(r, r->applied + 1);
    assert(e);
    if (RAFT_PUSH(r, r->committed, *e) != MM_OK) break;
    raft_entry_ref(&r->committed.v[r->committed.n - 1]);
    r->applied++;
  }
  if (r->role_changed) raft__event(r, RAFT_EV_ROLE, MM_OK, 0, r->leader, r->term);
  if (r->conf_changed) raft__event(r, RAFT_EV_CONF, MM_OK, 0, r->conf_index, 0);
  if (r->failed) return r->failed;
  r->role_changed = r->conf_changed = 0;

  rd->hs_changed = r->hs_changed;
  rd->term = r->term;
  rd->vote = r->vote;
  rd->snap_installed = r->snap_installed;
  rd->snap = r->snap;
  rd->truncate_from = r->truncate_from;
  rd->persist = r->persist.v;
  rd->n_persist = r->persist.n;
  rd->msgs = r->msgs.v;
  rd->n_msgs = r->msgs.n;
  rd->committed = r->committed.v;
  rd->n_committed = r->committed.n;
  rd->events = r->events.v;
  rd->n_events = r->events.n;
  return MM_OK;
}

void raft_ready_done(raft *r, raft_ready *rd) {
  entries_release(r->persist.v, r->persist.n);
  r->persist.n = 0;
  msgs_release(r->msgs.v, r->msgs.n);
  r->msgs.n = 0;
  entries_release(r->committed.v, r->committed.n);
  r->committed.n = 0;
  r->events.n = 0;
  r->hs_changed = 0;
  r->snap_installed = 0;
  r->truncate_from = 0;
  r->out_base = raft__last(r);
  memset(rd, 0, sizeof *rd);
}

void raft_get_status(const raft *r, raft_status *st) {
  memset(st, 0, sizeof *st);
  st->id = r->o.id;
  st->leader = r->leader;
  st->role = r->role;
  st->term = r->term;
  st->vote = r->vote;
  st->commit = r->commit;
  st->applied = r->applied;
  st->stable = r->stable;
  st->first = r->snap.index + 1;
  st->last = raft__last(r);
  st->snap_index = r->snap.index;
  st->conf = r->conf;
}
