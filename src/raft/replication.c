/*
 * raft/replication.c - log replication (paper 5.3), commitment (5.4.2),
 * heartbeats, snapshot installation, ReadIndex (thesis 6.4) and forwarded
 * submissions.
 *
 * Per follower the leader runs a small state machine (raft_peer.state):
 *
 *   PROBE --(APPEND_RESP success)--> REPLICATE --(reject)--> PROBE
 *   PROBE/REPLICATE --(next <= snapshot index)--> SNAPSHOT --(success)--> REPLICATE
 *   SNAPSHOT --(no answer for an election timeout, raft__election_tick)--> PROBE
 *
 * PROBE sends one APPEND and waits; REPLICATE pipelines up to max_inflight
 * APPENDs of up to max_batch_entries/bytes each (batching: every entry
 * appended since the last flush leaves in the same message).
 *
 * Invariants:
 *   - a follower acknowledges (APPEND_RESP index) only entries that are both
 *     durable (<= stable) and known to match the leader (<= verified);
 *   - the leader counts itself only up to its own stable index;
 *   - the leader commits only entries of its own term by counting (5.4.2);
 *   - a follower never truncates an entry <= commit.
 */
#include "raft/raftInt.h"

#include <stdlib.h>

static void commit_to(raft *r, raft_index c) {
  if (c > raft__last(r)) c = raft__last(r);
  if (c > r->commit) r->commit = c;
}

/* ---- leader side ---------------------------------------------------------------- */

int raft__leader_append(raft *r, uint32_t type, raft_id origin, uint64_t req,
                        const unsigned char *data, uint32_t len, void *blk) {
  raft_entry e = {.term = r->term, .index = raft__last(r) + 1, .origin = origin, .req_id = req,
                  .type = type, .len = len, .data = data, .blk = blk};
  return raft__append(r, &e);
}

static int infl_full(const raft *r, const raft_peer *p) { return p->infl_n >= r->o.max_inflight; }

static void infl_add(raft *r, raft_peer *p, raft_index last) {
  if (infl_full(r, p)) return;
  p->infl[(p->infl_head + p->infl_n) % r->o.max_inflight] = last;
  p->infl_n++;
}

static void infl_free_to(raft *r, raft_peer *p, raft_index upto) {
  while (p->infl_n && p->infl[p->infl_head] <= upto) {
    p->infl_head = (p->infl_head + 1) % r->o.max_inflight;
    p->infl_n--;
  }
}

static int send_snapshot(raft *r, raft_peer *p) {
  raft_msg *m = raft__msg(r, RAFT_MSG_SNAPSHOT, p->id);
  if (!m) return r->failed;
  m->snap = r->snap;
  p->state = PEER_SNAPSHOT;
  p->snap_wait = 0;
  p->infl_n = p->infl_head = 0;
  return MM_OK;
}

/* One APPEND to p starting at p->next with up to max_batch entries. */
static int append_msg(raft *r, raft_peer *p, size_t *count) {
  raft_index last = raft__last(r);
  size_t n = 0, bytes = 0;
  for (raft_index i = p->next; i <= last && n < r->o.max_batch_entries; i++) {
    uint32_t len = raft__at(r, i)->len;
    if (n && bytes + len > r->o.max_batch_bytes) break;
    bytes += len;
    n++;
  }
  raft_msg *m = raft__msg(r, RAFT_MSG_APPEND, p->id);
  if (!m) return r->failed;
  m->index = p->next - 1;
  m->log_term = raft__term(r, p->next - 1);
  m->commit = r->commit;
  if (n) {
    m->entries = mm_malloc(n * sizeof(raft_entry));
    if (!m->entries) return raft__fail(r, MM_ENOMEM);
    for (size_t k = 0; k < n; k++) {
      m->entries[k] = *raft__at(r, p->next + k);
      raft_entry_ref(&m->entries[k]);
    }
    m->n_entries = (uint32_t)n;
  }
  p->sent_commit = MM_MAX(p->sent_commit, MM_MIN(r->commit, p->next - 1 + n));
  *count = n;
  return MM_OK;
}

int raft__send_append(raft *r, raft_peer *p, int force) {
  if (r->role != RAFT_LEADER || p->state == PEER_SNAPSHOT) return MM_OK;
  if (p->state == PEER_PROBE && p->paused && !force) return MM_OK;
  if (p->next <= r->snap.index) return send_snapshot(r, p);
  if (p->state == PEER_PROBE) {
    size_t n;
    if (append_msg(r, p, &n) != MM_OK) return r->failed;
    p->paused = 1;
    return MM_OK;
  }
  /* REPLICATE: pipeline. */
  int sent = 0;
  while (p->next <= raft__last(r) && !infl_full(r, p)) {
    size_t n;
    if (append_msg(r, p, &n) != MM_OK) return r->failed;
    p->next += n;
    infl_add(r, p, p->next - 1);
    sent = 1;
  }
  if (!sent && force) {
    /* Nothing new or window full: an empty APPEND at next-1 detects lost
     * messages (the follower rejects it if it misses entries). */
    raft_msg *m = raft__msg(r, RAFT_MSG_APPEND, p->id);
    if (!m) return r->failed;
    m->index = p->next - 1;
    m->log_term = raft__term(r, p->next - 1);
    m->commit = r->commit;
  }
  return MM_OK;
}

/* The commit index p can use as soon as it has what we sent it: entries it
 * has verified against our log, durable there or not (thesis 10.2.1: it may
 * learn that an entry is committed before its own copy is on disk). */
static raft_index usable_commit(const raft *r, const raft_peer *p) {
  return MM_MIN(r->commit, MM_MAX(p->match, p->next - 1));
}

static int heartbeat(raft *r, raft_peer *p) {
  raft_msg *m = raft__msg(r, RAFT_MSG_HEARTBEAT, p->id);
  if (!m) return r->failed;
  /* commit: min(its acknowledged match, our commit) -- safe to take as is;
   * index: our commit, which the follower caps at its verified index. */
  m->commit = MM_MIN(p->match, r->commit);
  m->index = r->commit;
  m->seq = r->read_seq;
  p->sent_commit = MM_MAX(p->sent_commit, usable_commit(r, p));
  return MM_OK;
}

int raft__bcast_heartbeat(raft *r) {
  for (uint32_t i = 0; i < r->n_peers; i++) heartbeat(r, &r->peers[i]);
  r->bcast_hb = 0;
  r->hb_elapsed = 0;
  return r->failed;
}

int raft__maybe_commit(raft *r) {
  if (r->role != RAFT_LEADER) return MM_OK;
  raft_index v[RAFT_MAX_MEMBERS];
  int nv = 0;
  for (uint32_t i = 0; i < r->conf.n; i++) {
    if (!r->conf.m[i].voter) continue;
    if (r->conf.m[i].id == r->o.id) { v[nv++] = r->stable; continue; }
    raft_peer *p = raft__peer(r, r->conf.m[i].id);
    v[nv++] = p ? p->match : 0;
  }
  if (!nv) return MM_OK;
  /* sort descending (n <= 16) */
  for (int i = 1; i < nv; i++)
    for (int j = i; j > 0 && v[j] > v[j - 1]; j--) { raft_index t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
  raft_index c = v[raft__quorum(r) - 1];
  if (c > r->commit && raft__term(r, c) == r->term) r->commit = c;
  /* Thesis 4.2.2: a leader removed from the configuration steps down once
   * the change is committed. */
  if (r->conf_index <= r->commit && !raft_config_is_voter(&r->conf, r->o.id))
    raft__become_follower(r, r->term, 0);
  return r->failed;
}

int raft__handle_append_resp(raft *r, const raft_msg *m) {
  if (r->role != RAFT_LEADER) return MM_OK;
  raft_peer *p = raft__peer(r, m->from);
  if (!p) return MM_OK;
  p->active = 1;
  if (m->reject) {
    if (m->reject <= p->match) return MM_OK;                       /* stale */
    if (p->state == PEER_PROBE && m->reject != p->next - 1) return MM_OK; /* stale probe */
    if (p->state == PEER_SNAPSHOT) return MM_OK;
    raft_index nx = MM_MIN(m->reject, m->index + 1);
    p->next = MM_MAX(p->match + 1, nx);
    p->state = PEER_PROBE;
    p->paused = 0;
    p->infl_n = p->infl_head = 0;
    return raft__send_append(r, p, 0);
  }
  if (m->index > p->match) {
    p->match = m->index;
    if (p->state != PEER_REPLICATE) {
      p->state = PEER_REPLICATE;
      p->next = p->match + 1;
      p->infl_n = p->infl_head = 0;
    } else if (p->next <= p->match) {
      p->next = p->match + 1;
    }
    infl_free_to(r, p, p->match);
    raft__maybe_commit(r);
    if (r->role == RAFT_LEADER) raft__maybe_transfer(r, p);
  } else if (p->state == PEER_PROBE && m->index + 1 == p->next && p->paused) {
    /* Our probe was answered but the follower's copy is not durable yet;
     * stay paused until it acknowledges (raft__follower_ack). */
  }
  return r->failed;
}

int raft__handle_heartbeat_resp(raft *r, const raft_msg *m) {
  if (r->role != RAFT_LEADER) return MM_OK;
  raft_peer *p = raft__peer(r, m->from);
  if (!p) return MM_OK;
  p->active = 1;
  if (m->seq > p->ack_seq) p->ack_seq = m->seq;
  raft__reads_check(r);
  if (p->state == PEER_PROBE) p->paused = 0;
  if (p->match < raft__last(r)) raft__send_append(r, p, 1);
  return r->failed;
}

/* Called from raft_get_ready(): everything batched since the last flush. */
int raft__flush(raft *r) {
  if (r->role == RAFT_LEADER) {
    if (r->bcast_hb) raft__bcast_heartbeat(r);
    for (uint32_t i = 0; i < r->n_peers && !r->failed; i++) {
      raft_peer *p = &r->peers[i];
      raft__send_append(r, p, 0);
      /* Followers learn the commit index now, not at the next heartbeat. */
      if (usable_commit(r, p) > p->sent_commit) heartbeat(r, p);
    }
    return r->failed;
  }
  if (r->fwd.n) {
    if (r->leader && r->leader != r->o.id) {
      raft_msg *m = raft__msg(r, RAFT_MSG_SUBMIT, r->leader);
      if (!m) return r->failed;
      m->entries = r->fwd.v;
      m->n_entries = (uint32_t)r->fwd.n;
      r->fwd.v = NULL;
      r->fwd.n = r->fwd.cap = 0;
    }
  }
  return r->failed;
}

/* ---- follower side ---------------------------------------------------------------- */

static void ensure_follower(raft *r, raft_id from) {
  if (r->role != RAFT_FOLLOWER || r->leader != from) raft__become_follower(r, r->term, from);
  r->elapsed = 0;
}

int raft__follower_ack(raft *r, int force) {
  if (r->role != RAFT_FOLLOWER || !r->leader) return MM_OK;
  raft_index ack = MM_MIN(r->verified, r->stable);
  if (ack <= r->acked && !force) return MM_OK;
  raft_msg *o = raft__msg(r, RAFT_MSG_APPEND_RESP, r->leader);
  if (!o) return r->failed;
  o->index = ack;
  if (ack > r->acked) r->acked = ack;
  return MM_OK;
}

int raft__handle_append(raft *r, const raft_msg *m) {
  ensure_follower(r, m->from);
  raft_index prev = m->index;
  size_t n = m->n_entries, skip = 0;
  for (size_t i = 0; i < n; i++)
    if (m->entries[i].index != prev + 1 + i || m->entries[i].term > m->term) return MM_EINVAL;
  if (prev < r->commit) {
    /* Entries up to our commit index are known to match the leader's. */
    skip = (size_t)MM_MIN((raft_index)n, r->commit - prev);
  } else if (prev > raft__last(r) || raft__term(r, prev) != m->log_term) {
    raft_index hint = MM_MIN(prev - 1, raft__last(r));
    while (hint > r->commit && raft__term(r, hint) > m->log_term) hint--;
    raft_msg *o = raft__msg(r, RAFT_MSG_APPEND_RESP, m->from);
    if (!o) return r->failed;
    o->reject = prev;
    o->index = hint;
    return MM_OK;
  }
  for (size_t i = skip; i < n; i++) {
    const raft_entry *e = &m->entries[i];
    if (e->index <= raft__last(r)) {
      if (raft__term(r, e->index) == e->term) continue;
      if (raft__truncate(r, e->index) != MM_OK) return r->failed;
    }
    if (raft__append(r, e) != MM_OK) return r->failed;
  }
  if (prev + n > r->verified) r->verified = prev + n;
  commit_to(r, MM_MIN(m->commit, r->verified));
  raft_index ack = MM_MIN(r->verified, r->stable);
  if (n == 0 || ack >= prev + n || ack > r->acked) return raft__follower_ack(r, 1);
  return MM_OK;
}

int raft__handle_heartbeat(raft *r, const raft_msg *m) {
  ensure_follower(r, m->from);
  /* commit = min(our acknowledged match, its commit): safe to take; index =
   * its commit, safe up to what we verified against its log this term. */
  commit_to(r, MM_MAX(m->commit, MM_MIN(m->index, r->verified)));
  raft_msg *o = raft__msg(r, RAFT_MSG_HEARTBEAT_RESP, m->from);
  if (!o) return r->failed;
  o->seq = m->seq;
  return MM_OK;
}

int raft__handle_snapshot(raft *r, const raft_msg *m) {
  ensure_follower(r, m->from);
  const raft_snapshot *s = &m->snap;
  if (s->index <= r->commit) {
    raft_msg *o = raft__msg(r, RAFT_MSG_APPEND_RESP, m->from);
    if (!o) return r->failed;
    o->index = MM_MIN(r->commit, r->stable);
    return MM_OK;
  }
  size_t drop;
  int keep = 0;
  if (s->index <= raft__last(r) && raft__term(r, s->index) == s->term) {
    /* Keep the matching suffix (we may have acknowledged it). */
    drop = (size_t)(s->index - r->snap.index);
    keep = 1;
  } else {
    drop = r->n;
    r->truncate_from = s->index + 1;
    r->out_base = s->index;
  }
  for (size_t i = 0; i < drop; i++) raft_entry_unref(&r->log[i]);
  if (r->n > drop) memmove(r->log, r->log + drop, (r->n - drop) * sizeof *r->log);
  r->n -= drop;
  size_t k = 0;
  for (size_t i = 0; i < r->persist.n; i++) {
    if (!keep || r->persist.v[i].index <= s->index) raft_entry_unref(&r->persist.v[i]);
    else r->persist.v[k++] = r->persist.v[i];
  }
  r->persist.n = k;
  r->snap = *s;
  r->snap_installed = 1;
  r->commit = r->applied = s->index;
  if (r->resolved < s->index) r->resolved = s->index;
  if (!keep) {
    /* The whole log was dropped: what was durable of it says nothing about
     * the entries that will follow the snapshot.  (Keeping the old stable
     * here let this member acknowledge entries it had not yet persisted;
     * found by the simulator's commit-durability check, seed 6923.) */
    r->stable = s->index;
    r->verified = s->index;
  }
  if (r->stable < s->index) r->stable = s->index;
  if (r->verified < s->index) r->verified = s->index;
  /* Outcome of our submissions inside the snapshot cannot be known here. */
  for (size_t i = 0; i < r->pend.n; i++) {
    raft_pending *p = &r->pend.v[i];
    if (p->state == PEND_ACCEPTED && p->index <= s->index) {
      raft__event(r, RAFT_EV_FAILED, MM_EAGAIN, p->req_id, p->index, p->term);
      r->pend.v[i--] = r->pend.v[--r->pend.n];
    }
  }
  if (raft__conf_recompute(r) != MM_OK) return r->failed;
  raft_msg *o = raft__msg(r, RAFT_MSG_APPEND_RESP, m->from);
  if (!o) return r->failed;
  o->index = s->index;
  if (r->acked < s->index) r->acked = s->index;
  return MM_OK;
}

/* ---- forwarded submissions --------------------------------------------------------- */

int raft__handle_submit(raft *r, const raft_msg *m) {
  if (!m->n_entries) return MM_OK;
  raft_msg *o = raft__msg(r, RAFT_MSG_SUBMIT_RESP, m->from);
  if (!o) return r->failed;
  o->entries = mm_calloc(m->n_entries, sizeof(raft_entry));
  if (!o->entries) return raft__fail(r, MM_ENOMEM);
  int ok = r->role == RAFT_LEADER && !r->transfer_to;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->n_entries; i++) {
    const raft_entry *e = &m->entries[i];
    if (ok && !raft__seen_check(r, m->from, e->req_id)) continue; /* duplicate: already appended */
    raft_entry *a = &o->entries[k++];
    a->req_id = e->req_id;
    a->type = RAFT_ENTRY_NORMAL;
    if (!ok) continue; /* index 0: refused, retry */
    if (raft__leader_append(r, RAFT_ENTRY_NORMAL, m->from, e->req_id, e->data, e->len, e->blk) != MM_OK)
      return r->failed;
    a->index = raft__last(r);
    a->term = r->term;
  }
  o->n_entries = k;
  o->status = ok ? MM_OK : MM_EAGAIN;
  return MM_OK;
}

int raft__handle_submit_resp(raft *r, const raft_msg *m) {
  for (uint32_t i = 0; i < m->n_entries; i++) {
    const raft_entry *a = &m->entries[i];
    for (size_t j = 0; j < r->pend.n; j++) {
      raft_pending *p = &r->pend.v[j];
      if (p->req_id != a->req_id || p->state != PEND_FORWARDED) continue;
      if (a->index) {
        p->state = PEND_ACCEPTED;
        p->index = a->index;
        p->term = a->term;
        raft__event(r, RAFT_EV_ACCEPTED, MM_OK, p->req_id, a->index, a->term);
        /* Already resolved past it (the answer was slow)?  Resolve now. */
        if (p->index <= r->resolved) {
          const raft_entry *e = raft__at(r, p->index);
          int mine = e && e->origin == r->o.id && e->req_id == p->req_id;
          raft__event(r, mine ? RAFT_EV_COMMITTED : RAFT_EV_FAILED, mine ? MM_OK : MM_EAGAIN,
                      p->req_id, p->index, p->term);
          r->pend.v[j] = r->pend.v[--r->pend.n];
        }
      } else {
        raft__event(r, RAFT_EV_FAILED, MM_EAGAIN, p->req_id, 0, 0);
        r->pend.v[j] = r->pend.v[--r->pend.n];
      }
      break;
    }
  }
  return r->failed;
}

/* ---- ReadIndex ---------------------------------------------------------------------- */

static int read_done(raft *r, raft_id origin, uint64_t ctx, int status, raft_index idx) {
  if (origin == r->o.id) return raft__event(r, RAFT_EV_READ, status, ctx, idx, r->term);
  raft_msg *o = raft__msg(r, RAFT_MSG_READ_RESP, origin);
  if (!o) return r->failed;
  o->req_id = ctx;
  o->status = status;
  o->index = idx;
  return MM_OK;
}

int raft__read_local(raft *r, uint64_t ctx, raft_id origin) {
  if (r->commit < r->term_start) {
    if (origin == r->o.id) return MM_EAGAIN;
    return read_done(r, origin, ctx, MM_EAGAIN, 0);
  }
  int others = 0;
  for (uint32_t i = 0; i < r->n_peers; i++) others += r->peers[i].voter;
  if (!others && raft_config_is_voter(&r->conf, r->o.id)) return read_done(r, origin, ctx, MM_OK, r->commit);
  raft_read rd = {.ctx = ctx, .origin = origin, .index = r->commit, .seq = ++r->read_seq};
  if (RAFT_PUSH(r, r->reads, rd) != MM_OK) return r->failed;
  r->bcast_hb = 1;
  return MM_OK;
}

int raft__reads_check(raft *r) {
  size_t done = 0;
  while (done < r->reads.n) {
    raft_read *rd = &r->reads.v[done];
    int acks = raft_config_is_voter(&r->conf, r->o.id);
    for (uint32_t i = 0; i < r->n_peers; i++)
      if (r->peers[i].voter && r->peers[i].ack_seq >= rd->seq) acks++;
    if (acks < raft__quorum(r)) break;
    read_done(r, rd->origin, rd->ctx, MM_OK, rd->index);
    done++;
  }
  if (done) {
    if (r->reads.n > done) memmove(r->reads.v, r->reads.v + done, (r->reads.n - done) * sizeof(raft_read));
    r->reads.n -= done;
  }
  return r->failed;
}

int raft__handle_read(raft *r, const raft_msg *m) {
  if (r->role != RAFT_LEADER) return read_done(r, m->from, m->req_id, MM_EAGAIN, 0);
  return raft__read_local(r, m->req_id, m->from);
}

int raft__handle_read_resp(raft *r, const raft_msg *m) {
  for (size_t j = 0; j < r->pend.n; j++) {
    raft_pending *p = &r->pend.v[j];
    if (p->state != PEND_READ || p->req_id != m->req_id) continue;
    raft__event(r, RAFT_EV_READ, m->status, m->req_id, m->index, m->term);
    r->pend.v[j] = r->pend.v[--r->pend.n];
    break;
  }
  return r->failed;
}
