/*
 * raft/election.c - leader election: election timer, PreVote (thesis 9.6),
 * RequestVote (paper 5.2, 5.4.1), CheckQuorum (thesis 6.2), and leadership
 * transfer (thesis 3.10).
 *
 * Invariants:
 *   - a member votes at most once per term (vote is persisted through the
 *     ready batch before any VOTE_RESP leaves: rd.hs_changed comes first);
 *   - a vote is granted only to a candidate whose log is at least as
 *     up-to-date as ours (last term, then last index);
 *   - PreVote never changes anybody's term;
 *   - only voters of the member's own latest configuration campaign.
 */
#include "raft/raftInt.h"

static void reset_timer(raft *r) {
  r->elapsed = 0;
  r->timeout = r->o.election_ticks + raft__rand(r, r->o.election_ticks);
}

int raft__quorum(const raft *r) {
  uint32_t v = 0;
  for (uint32_t i = 0; i < r->conf.n; i++) v += r->conf.m[i].voter;
  return (int)(v / 2 + 1);
}

/* True while we have heard from a leader within the minimum election
 * timeout: votes for others are then refused. */
int raft__lease_active(const raft *r) {
  if (r->o.check_quorum < 0) return 0;
  if (r->role == RAFT_LEADER) return 1;
  return r->leader != 0 && r->elapsed < r->o.election_ticks;
}

static void fail_reads(raft *r) {
  for (size_t i = 0; i < r->reads.n; i++) {
    raft_read *rd = &r->reads.v[i];
    if (rd->origin == r->o.id) {
      raft__event(r, RAFT_EV_READ, MM_EAGAIN, rd->ctx, 0, 0);
    } else {
      raft_msg *m = raft__msg(r, RAFT_MSG_READ_RESP, rd->origin);
      if (m) { m->req_id = rd->ctx; m->status = MM_EAGAIN; }
    }
  }
  r->reads.n = 0;
}

void raft__become_follower(raft *r, raft_term term, raft_id leader) {
  if (term > r->term) {
    r->term = term;
    r->vote = 0;
    r->hs_changed = 1;
    r->verified = r->acked = 0;
  }
  if (r->role == RAFT_LEADER) fail_reads(r);
  if (r->role != RAFT_FOLLOWER || r->leader != leader) r->role_changed = 1;
  if (leader != r->leader) {
    /* Forwarded submissions queued for the old leader fail now rather than
     * leave for a member that is not leading. */
    for (size_t i = 0; i < r->fwd.n; i++) {
      raft__event(r, RAFT_EV_FAILED, MM_EAGAIN, r->fwd.v[i].req_id, 0, 0);
      for (size_t j = 0; j < r->pend.n; j++)
        if (r->pend.v[j].req_id == r->fwd.v[i].req_id && r->pend.v[j].state == PEND_FORWARDED) {
          r->pend.v[j] = r->pend.v[--r->pend.n];
          break;
        }
      raft_entry_unref(&r->fwd.v[i]);
    }
    r->fwd.n = 0;
  }
  r->role = RAFT_FOLLOWER;
  r->leader = leader;
  r->transfer_to = 0;
  reset_timer(r);
}

static void send_votes(raft *r, uint32_t type, raft_term term, int transfer) {
  raft_index li = raft__last(r);
  raft_term lt = raft__term(r, li);
  for (uint32_t i = 0; i < r->conf.n; i++) {
    if (!r->conf.m[i].voter || r->conf.m[i].id == r->o.id) continue;
    raft_msg *m = raft__msg(r, type, r->conf.m[i].id);
    if (!m) return;
    m->term = term;
    m->index = li;
    m->log_term = lt;
    if (transfer) m->flags |= RAFT_FLAG_TRANSFER;
  }
}

static int become_leader(raft *r);

/* May this member start an election?  Voters of the latest configuration,
 * and also the voters of the previous one while the latest is uncommitted:
 * a leader that removed itself and lost leadership before the change
 * committed must be able to finish it (the others may lack the entry). */
static int can_campaign(raft *r) {
  if (raft_config_is_voter(&r->conf, r->o.id)) return 1;
  if (r->conf_index <= r->commit || r->conf_index <= r->snap.index) return 0;
  raft_config prev;
  raft__conf_at(r, r->conf_index - 1, &prev);
  return raft_config_is_voter(&prev, r->o.id);
}

static int tally(raft *r) {
  uint32_t g = 0;
  for (uint32_t i = 0; i < r->n_granted; i++) g += raft_config_is_voter(&r->conf, r->granted[i]);
  if ((int)g >= raft__quorum(r)) {
    if (r->role == RAFT_PRECANDIDATE) return raft__campaign(r, 0, 0);
    return become_leader(r);
  }
  if ((int)r->n_rejected >= raft__quorum(r)) raft__become_follower(r, r->term, 0);
  return r->failed;
}

int raft__campaign(raft *r, int pre, int transfer) {
  if (!can_campaign(r)) return MM_OK;
  r->n_granted = r->n_rejected = 0;
  r->granted[r->n_granted++] = r->o.id;
  r->leader = 0;
  r->role_changed = 1;
  reset_timer(r);
  if (pre) {
    r->role = RAFT_PRECANDIDATE;
    send_votes(r, RAFT_MSG_PREVOTE, r->term + 1, 0);
  } else {
    r->role = RAFT_CANDIDATE;
    r->term++;
    r->vote = r->o.id;
    r->hs_changed = 1;
    r->verified = r->acked = 0;
    send_votes(r, RAFT_MSG_VOTE, r->term, transfer);
  }
  return tally(r);
}

static int become_leader(raft *r) {
  r->role = RAFT_LEADER;
  r->leader = r->o.id;
  r->role_changed = 1;
  r->transfer_to = 0;
  r->hb_elapsed = 0;
  r->elapsed = 0;
  r->reads.n = 0;
  for (uint32_t i = 0; i < r->n_peers; i++) {
    raft_peer *p = &r->peers[i];
    p->next = raft__last(r) + 1;
    p->match = 0;
    p->state = PEER_PROBE;
    p->paused = 0;
    p->active = 1;
    p->infl_n = p->infl_head = 0;
    p->sent_commit = 0;
    p->ack_seq = 0;
  }
  /* Queued forwards from our follower days: submit them here. */
  for (size_t i = 0; i < r->fwd.n; i++) {
    raft_entry *e = &r->fwd.v[i];
    raft__leader_append(r, RAFT_ENTRY_NORMAL, e->origin, e->req_id, e->data, e->len, e->blk);
    for (size_t j = 0; j < r->pend.n; j++)
      if (r->pend.v[j].req_id == e->req_id && r->pend.v[j].state == PEND_FORWARDED) {
        r->pend.v[j].state = PEND_ACCEPTED;
        r->pend.v[j].index = raft__last(r);
        r->pend.v[j].term = r->term;
        raft__event(r, RAFT_EV_ACCEPTED, MM_OK, e->req_id, raft__last(r), r->term);
        break;
      }
    raft_entry_unref(e);
  }
  r->fwd.n = 0;
  /* Thesis 6.4: commit a no-op of our own term first. */
  raft__leader_append(r, RAFT_ENTRY_NOOP, 0, 0, NULL, 0, NULL);
  r->term_start = raft__last(r);
  raft__maybe_commit(r);
  return r->failed;
}

int raft__election_tick(raft *r) {
  r->elapsed++;
  if (r->role == RAFT_LEADER) {
    if (++r->hb_elapsed >= r->o.heartbeat_ticks) {
      r->hb_elapsed = 0;
      r->bcast_hb = 1;
    }
    if (r->transfer_to && ++r->transfer_elapsed >= r->o.election_ticks) r->transfer_to = 0;
    if (r->elapsed >= r->o.election_ticks) {
      r->elapsed = 0;
      if (r->o.check_quorum > 0) {
        int active = raft_config_is_voter(&r->conf, r->o.id);
        for (uint32_t i = 0; i < r->n_peers; i++) {
          if (r->peers[i].voter && r->peers[i].active) active++;
          r->peers[i].active = 0;
        }
        if (active < raft__quorum(r)) raft__become_follower(r, r->term, 0);
      }
    }
    for (uint32_t i = 0; r->role == RAFT_LEADER && i < r->n_peers; i++) {
      raft_peer *p = &r->peers[i];
      if (p->state == PEER_SNAPSHOT && ++p->snap_wait > r->o.election_ticks) {
        p->state = PEER_PROBE;
        p->paused = 0;
      }
    }
    return r->failed;
  }
  if (r->elapsed >= r->timeout) {
    if (can_campaign(r)) return raft__campaign(r, r->o.pre_vote > 0, 0);
    r->elapsed = 0;
  }
  return r->failed;
}

int raft__handle_vote(raft *r, const raft_msg *m) {
  int pre = m->type == RAFT_MSG_PREVOTE;
  raft_index li = raft__last(r);
  raft_term lt = raft__term(r, li);
  int uptodate = m->log_term > lt || (m->log_term == lt && m->index >= li);
  int grant;
  if (pre) {
    grant = m->term > r->term && uptodate && !raft__lease_active(r);
  } else {
    grant = m->term == r->term && (r->vote == 0 || r->vote == m->from) && uptodate &&
            r->role != RAFT_LEADER;
    if (grant) {
      if (r->vote != m->from) r->hs_changed = 1;
      r->vote = m->from;
      reset_timer(r);
    }
  }
  raft_msg *o = raft__msg(r, pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP, m->from);
  if (!o) return r->failed;
  o->status = grant;
  o->term = (pre && grant) ? m->term : r->term;
  return MM_OK;
}

int raft__handle_vote_resp(raft *r, const raft_msg *m) {
  int pre = m->type == RAFT_MSG_PREVOTE_RESP;
  if (pre ? r->role != RAFT_PRECANDIDATE : r->role != RAFT_CANDIDATE) return MM_OK;
  if (pre && m->status && m->term != r->term + 1) return MM_OK; /* stale round */
  if (!raft_config_is_voter(&r->conf, m->from)) return MM_OK;
  for (uint32_t i = 0; i < r->n_granted; i++) if (r->granted[i] == m->from) return MM_OK;
  for (uint32_t i = 0; i < r->n_rejected; i++) if (r->rejected[i] == m->from) return MM_OK;
  if (m->status) r->granted[r->n_granted++] = m->from;
  else r->rejected[r->n_rejected++] = m->from;
  return tally(r);
}

int raft__handle_timeout_now(raft *r, const raft_msg *m) {
  if (r->role == RAFT_LEADER) return MM_OK;
  return raft__campaign(r, 0, 1);
}

/* Leader: if a transfer to p is pending and p has caught up, tell it to
 * start an election now. */
int raft__maybe_transfer(raft *r, raft_peer *p) {
  if (r->transfer_to != p->id || p->match != raft__last(r)) return MM_OK;
  raft__msg(r, RAFT_MSG_TIMEOUT_NOW, p->id);
  return r->failed;
}

int raft_transfer(raft *r, raft_id target) {
  if (r->failed) return r->failed;
  if (r->role != RAFT_LEADER || target == r->o.id || !raft_config_is_voter(&r->conf, target)) return MM_EINVAL;
  if (r->transfer_to) return MM_EAGAIN;
  raft_peer *p = raft__peer(r, target);
  if (!p) return MM_EINVAL;
  r->transfer_to = target;
  r->transfer_elapsed = 0;
  if (p->match == raft__last(r)) raft__maybe_transfer(r, p);
  else raft__send_append(r, p, 1);
  return r->failed;
}
