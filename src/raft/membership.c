/*
 * raft/membership.c - configurations, single-server membership changes with
 * non-voting learners (thesis 4.1-4.2), the leader's per-follower progress
 * table, and log compaction into metadata-only snapshots (thesis 5).
 *
 * Invariants:
 *   - a member uses the latest configuration in its log, committed or not
 *     (raft__append / raft__truncate keep conf in step);
 *   - at most one configuration entry is uncommitted at a time, and none is
 *     appended before the leader has committed an entry of its own term
 *     (the fix for the single-server change bug, Ongaro 2015);
 *   - a learner is promoted only once it has caught up with the commit index;
 *   - the configuration never loses its last voter.
 */
#include "raft/raftInt.h"

int raft_config_has(const raft_config *c, raft_id id) {
  for (uint32_t i = 0; i < c->n; i++) if (c->m[i].id == id) return 1;
  return 0;
}

int raft_config_is_voter(const raft_config *c, raft_id id) {
  for (uint32_t i = 0; i < c->n; i++) if (c->m[i].id == id) return c->m[i].voter;
  return 0;
}

void raft__set_conf(raft *r, const raft_config *c, raft_index at) {
  r->conf = *c;
  r->conf_index = at;
  r->conf_changed = 1;
}

raft_peer *raft__peer(raft *r, raft_id id) {
  for (uint32_t i = 0; i < r->n_peers; i++) if (r->peers[i].id == id) return &r->peers[i];
  return NULL;
}

void raft__peers_free(raft *r) {
  for (uint32_t i = 0; i < r->n_peers; i++) mm_free(r->peers[i].infl);
  r->n_peers = 0;
}

/* Make the progress table match conf: keep progress of members that stay. */
int raft__peers_rebuild(raft *r) {
  raft_peer np[RAFT_MAX_MEMBERS];
  uint32_t nn = 0;
  for (uint32_t i = 0; i < r->conf.n; i++) {
    raft_id id = r->conf.m[i].id;
    if (id == r->o.id) continue;
    raft_peer *old = raft__peer(r, id);
    if (old) {
      np[nn] = *old;
      old->infl = NULL;
    } else {
      memset(&np[nn], 0, sizeof np[nn]);
      np[nn].id = id;
      np[nn].next = raft__last(r) + 1;
      np[nn].state = PEER_PROBE;
      np[nn].active = 1;
      np[nn].infl = mm_calloc(r->o.max_inflight, sizeof(raft_index));
      if (!np[nn].infl) {
        for (uint32_t k = 0; k <= nn; k++) mm_free(np[k].infl);
        raft__peers_free(r);
        return raft__fail(r, MM_ENOMEM);
      }
    }
    np[nn].voter = r->conf.m[i].voter;
    nn++;
  }
  raft__peers_free(r);
  memcpy(r->peers, np, nn * sizeof np[0]);
  r->n_peers = nn;
  return MM_OK;
}

/* Configuration as of index (which must be >= snap.index). */
int raft__conf_at(raft *r, raft_index index, raft_config *out) {
  if (r->conf_index <= index) { *out = r->conf; return MM_OK; }
  for (raft_index i = index; i > r->snap.index; i--) {
    raft_entry *e = raft__at(r, i);
    if (e->type == RAFT_ENTRY_CONF && raft_config_decode(e->data, e->len, out) == MM_OK) return MM_OK;
  }
  *out = r->snap.conf;
  return MM_OK;
}

/* After a truncation or snapshot: the latest configuration left. */
int raft__conf_recompute(raft *r) {
  raft_config c;
  raft_index at = r->snap.index;
  c = r->snap.conf;
  for (raft_index i = raft__last(r); i > r->snap.index; i--) {
    raft_entry *e = raft__at(r, i);
    if (e->type == RAFT_ENTRY_CONF && raft_config_decode(e->data, e->len, &c) == MM_OK) { at = i; break; }
  }
  raft__set_conf(r, &c, at);
  return raft__peers_rebuild(r);
}

int raft_change(raft *r, int op, raft_id id, uint64_t req_id) {
  if (r->failed) return r->failed;
  if (r->role != RAFT_LEADER || !id) return MM_EINVAL;
  if (r->transfer_to || r->conf_index > r->commit || r->commit < r->term_start) return MM_EAGAIN;
  raft_config c = r->conf;
  int pos = -1;
  for (uint32_t i = 0; i < c.n; i++) if (c.m[i].id == id) pos = (int)i;
  switch (op) {
  case RAFT_CHANGE_ADD_LEARNER:
    if (pos >= 0 || c.n >= RAFT_MAX_MEMBERS) return MM_EINVAL;
    c.m[c.n].id = id;
    c.m[c.n].voter = 0;
    c.n++;
    break;
  case RAFT_CHANGE_PROMOTE: {
    if (pos < 0 || c.m[pos].voter) return MM_EINVAL;
    raft_peer *p = raft__peer(r, id);
    if (!p || p->match < r->commit) return MM_EAGAIN; /* not caught up yet */
    c.m[pos].voter = 1;
    break;
  }
  case RAFT_CHANGE_REMOVE: {
    if (pos < 0) return MM_EINVAL;
    int voters = 0;
    for (uint32_t i = 0; i < c.n; i++) voters += c.m[i].voter;
    if (c.m[pos].voter && voters == 1) return MM_EINVAL;
    c.m[pos] = c.m[--c.n];
    break;
  }
  default: return MM_EINVAL;
  }
  mm_buf b;
  mm_buf_init(&b);
  if (raft_config_encode(&c, &b) != MM_OK) { mm_buf_free(&b); return raft__fail(r, MM_ENOMEM); }
  raft_entry tmp;
  int rc = raft_entry_init(&tmp, b.p, (uint32_t)b.len);
  mm_buf_free(&b);
  if (rc != MM_OK) return raft__fail(r, MM_ENOMEM);
  raft__seen_check(r, r->o.id, req_id);
  rc = raft__leader_append(r, RAFT_ENTRY_CONF, r->o.id, req_id, tmp.data, tmp.len, tmp.blk);
  raft_entry_unref(&tmp);
  if (rc != MM_OK) return rc;
  raft_pending p = {.req_id = req_id, .state = PEND_ACCEPTED, .index = raft__last(r), .term = r->term};
  if (RAFT_PUSH(r, r->pend, p) != MM_OK) return r->failed;
  raft__event(r, RAFT_EV_ACCEPTED, MM_OK, req_id, raft__last(r), r->term);
  return r->failed;
}

int raft_compact(raft *r, raft_index index, raft_snapshot *out) {
  if (r->failed) return r->failed;
  if (index > r->applied || index < r->snap.index) return MM_EINVAL;
  if (index == r->snap.index) { if (out) *out = r->snap; return MM_OK; }
  raft_snapshot s;
  s.index = index;
  s.term = raft__term(r, index);
  raft__conf_at(r, index, &s.conf);
  size_t drop = (size_t)(index - r->snap.index);
  for (size_t i = 0; i < drop; i++) raft_entry_unref(&r->log[i]);
  if (r->n > drop) memmove(r->log, r->log + drop, (r->n - drop) * sizeof *r->log);
  r->n -= drop;
  r->snap = s;
  if (r->conf_index < index) r->conf_index = index;
  if (out) *out = s;
  return MM_OK;
}
