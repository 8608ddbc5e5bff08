/*
 * test/unit/test_raft.c - unit tests for the Raft core, codec and log store,
 * with fault loops: the Nth allocation fails (core and codec), the Nth disk
 * write fails (log store); each must give a clean error and recover on
 * restart with acknowledged data intact.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft/raft.h"
#include "raft/raft_codec.h"
#include "raft/raft_log.h"
#include "unit.h"
#include "util/mm.h"

/* ---- a tiny synchronous cluster --------------------------------------------------- */
#define CN 5
typedef struct tnode {
  raft *r;
  int up;
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  raft_entry dur[4096];
  size_t ndur;
  raft_index applied;
  int committed_events, failed_events, reads;
  raft_index read_index;
} tnode;

typedef struct tmsg { unsigned char *p; size_t n; raft_id to; } tmsg;
static tnode T[CN];
static int TN;
static tmsg Q[100000];
static size_t qh, qt;
static int cut[CN + 1]; /* cut[i]: node i isolated */
static int oom_crashes;

static void store_truncate(tnode *n, raft_index from) {
  while (n->ndur && n->dur[n->ndur - 1].index >= from) raft_entry_unref(&n->dur[--n->ndur]);
}

static int tn_load(int i) {
  raft_options o = {.id = (raft_id)(i + 1), .election_ticks = 10, .heartbeat_ticks = 2, .seed = 7};
  T[i].r = raft_new(&o);
  if (!T[i].r) return MM_ENOMEM;
  int rc = raft_load(T[i].r, T[i].term, T[i].vote, &T[i].snap, T[i].dur, T[i].ndur, T[i].snap.index);
  if (rc != MM_OK) { raft_free(T[i].r); T[i].r = NULL; return rc; }
  T[i].up = 1;
  T[i].applied = T[i].snap.index;
  return MM_OK;
}

static void tn_crash(int i) {
  raft_free(T[i].r);
  T[i].r = NULL;
  T[i].up = 0;
}

static void cluster_init(int n, int voters) {
  for (int i = 0; i < CN; i++) {
    for (size_t k = 0; k < T[i].ndur; k++) raft_entry_unref(&T[i].dur[k]);
    if (T[i].r) raft_free(T[i].r);
  }
  memset(T, 0, sizeof T);
  memset(cut, 0, sizeof cut);
  while (qh < qt) free(Q[qh++].p);
  qh = qt = 0;
  TN = n;
  raft_config c = {0};
  for (int i = 0; i < voters; i++) {
    c.m[c.n].id = (raft_id)(i + 1);
    c.m[c.n].voter = 1;
    c.n++;
  }
  for (int i = 0; i < n; i++) {
    if (i < voters) T[i].snap.conf = c;
    tn_load(i);
  }
}

/* Carry out node i's ready batch; storage is synchronous here.  On an
 * injected allocation failure the node "crashes" and restarts from storage. */
static void tn_ready(int i) {
  tnode *n = &T[i];
  if (!n->up) return;
  raft_ready rd;
  if (raft_get_ready(n->r, &rd) != MM_OK) goto crash;
  if (rd.hs_changed) { n->term = rd.term; n->vote = rd.vote; }
  if (rd.snap_installed) {
    n->snap = rd.snap;
    size_t d = 0;
    while (d < n->ndur && n->dur[d].index <= rd.snap.index) raft_entry_unref(&n->dur[d++]);
    if (n->ndur > d) memmove(n->dur, n->dur + d, (n->ndur - d) * sizeof(raft_entry));
    n->ndur -= d;
    n->applied = rd.snap.index;
  }
  if (rd.truncate_from) store_truncate(n, rd.truncate_from);
  for (size_t k = 0; k < rd.n_persist; k++) {
    store_truncate(n, rd.persist[k].index);
    if (n->ndur && n->dur[0].index != n->snap.index + 1) { n->ndur = 0; }
    n->dur[n->ndur] = rd.persist[k];
    raft_entry_ref(&n->dur[n->ndur]);
    n->ndur++;
  }
  mm_buf b;
  mm_buf_init(&b);
  for (size_t k = 0; k < rd.n_msgs; k++) {
    mm_buf_reset(&b);
    if (raft_msg_encode(&rd.msgs[k], &b) != MM_OK) continue;
    Q[qt].p = malloc(b.len);
    memcpy(Q[qt].p, b.p, b.len);
    Q[qt].n = b.len;
    Q[qt].to = rd.msgs[k].to;
    qt++;
  }
  mm_buf_free(&b);
  for (size_t k = 0; k < rd.n_committed; k++) n->applied = rd.committed[k].index;
  for (size_t k = 0; k < rd.n_events; k++) {
    if (rd.events[k].type == RAFT_EV_COMMITTED) n->committed_events++;
    if (rd.events[k].type == RAFT_EV_FAILED) n->failed_events++;
    if (rd.events[k].type == RAFT_EV_READ && rd.events[k].status == MM_OK) { n->reads++; n->read_index = rd.events[k].index; }
  }
  raft_ready_done(n->r, &rd);
  if (n->ndur && raft_persisted(n->r, n->dur[n->ndur - 1].index, n->dur[n->ndur - 1].term) != MM_OK) goto crash;
  raft_get_ready(n->r, &rd); /* acks produced by persisted */
  for (size_t k = 0; k < rd.n_msgs; k++) {
    mm_buf_init(&b);
    if (raft_msg_encode(&rd.msgs[k], &b) == MM_OK) {
      Q[qt].p = (unsigned char *)b.p;
      Q[qt].n = b.len;
      Q[qt].to = rd.msgs[k].to;
      qt++;
    } else {
      mm_buf_free(&b);
    }
  }
  for (size_t k = 0; k < rd.n_committed; k++) n->applied = rd.committed[k].index;
  for (size_t k = 0; k < rd.n_events; k++) if (rd.events[k].type == RAFT_EV_COMMITTED) n->committed_events++;
  if (raft_failed(n->r)) goto crash;
  raft_ready_done(n->r, &rd);
  return;
crash:
  oom_crashes++;
  tn_crash(i);
  while (tn_load(i) != MM_OK) {}
}

static void deliver_all(void) {
  while (qh < qt) {
    tmsg m = Q[qh++];
    int to = (int)m.to - 1;
    raft_msg msg;
    if (to >= 0 && to < TN && T[to].up && !cut[to + 1] && raft_msg_decode(m.p, m.n, &msg) == MM_OK) {
      if (!cut[msg.from]) {
        if (raft_step(T[to].r, &msg) == MM_ENOMEM) { raft_msg_release(&msg); free(m.p); oom_crashes++; tn_crash(to); while (tn_load(to) != MM_OK) {} continue; }
        tn_ready(to);
      }
      raft_msg_release(&msg);
    }
    free(m.p);
  }
  if (qh == qt) qh = qt = 0;
}

static void tick_all(int times) {
  for (int t = 0; t < times; t++) {
    for (int i = 0; i < TN; i++) {
      if (!T[i].up) continue;
      if (raft_tick(T[i].r) == MM_ENOMEM) { oom_crashes++; tn_crash(i); while (tn_load(i) != MM_OK) {} continue; }
      tn_ready(i);
    }
    deliver_all();
  }
}

static int leader(void) {
  for (int i = 0; i < TN; i++) {
    if (!T[i].up) continue;
    raft_status st;
    raft_get_status(T[i].r, &st);
    if (st.role == RAFT_LEADER && !cut[i + 1]) return i;
  }
  return -1;
}

static int submit(int i, uint64_t req, const char *s) {
  int rc = raft_submit(T[i].r, req, s, (uint32_t)strlen(s));
  tn_ready(i);
  deliver_all();
  return rc;
}

/* ---- codec ---------------------------------------------------------------------------- */
TEST(codec_roundtrip) {
  raft_entry e[2];
  CHECK(raft_entry_init(&e[0], "hello", 5) == MM_OK);
  CHECK(raft_entry_init(&e[1], NULL, 0) == MM_OK);
  e[0].term = 3; e[0].index = 7; e[0].origin = 2; e[0].req_id = 99;
  e[1].term = 3; e[1].index = 8; e[1].type = RAFT_ENTRY_NOOP;
  raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 3, .index = 6, .log_term = 2, .commit = 5,
                .seq = 11, .n_entries = 2, .entries = e};
  mm_buf b;
  mm_buf_init(&b);
  CHECK(raft_msg_encode(&m, &b) == MM_OK);
  raft_msg d;
  CHECK(raft_msg_decode(b.p, b.len, &d) == MM_OK);
  CHECK_EQ_INT(d.type, RAFT_MSG_APPEND);
  CHECK_EQ_INT(d.n_entries, 2);
  CHECK_EQ_INT(d.entries[0].len, 5);
  CHECK(memcmp(d.entries[0].data, "hello", 5) == 0);
  CHECK_EQ_INT(d.entries[0].req_id, 99);
  CHECK_EQ_INT(d.entries[1].type, RAFT_ENTRY_NOOP);
  CHECK_EQ_INT(d.commit, 5);
  raft_msg_release(&d);
  /* every truncation is rejected cleanly */
  for (size_t n = 0; n < b.len; n++) CHECK(raft_msg_decode(b.p, n, &d) != MM_OK);
  /* snapshot message */
  raft_msg s = {.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 4};
  s.snap.index = 100; s.snap.term = 3; s.snap.conf.n = 2;
  s.snap.conf.m[0].id = 1; s.snap.conf.m[0].voter = 1; s.snap.conf.m[1].id = 5;
  mm_buf_reset(&b);
  CHECK(raft_msg_encode(&s, &b) == MM_OK);
  CHECK(raft_msg_decode(b.p, b.len, &d) == MM_OK);
  CHECK_EQ_INT(d.snap.index, 100);
  CHECK_EQ_INT(d.snap.conf.n, 2);
  CHECK_EQ_INT(d.snap.conf.m[1].id, 5);
  CHECK_EQ_INT(d.snap.conf.m[1].voter, 0);
  raft_msg_release(&d);
  /* records: torn and corrupt */
  mm_buf_reset(&b);
  CHECK(raft_record_encode(&e[0], &b) == MM_OK);
  raft_entry out;
  size_t used;
  CHECK(raft_record_decode(b.p, b.len, &out, &used) == MM_OK);
  CHECK_EQ_INT(used, b.len);
  CHECK_EQ_INT(out.index, 7);
  raft_entry_unref(&out);
  for (size_t n = 0; n < b.len; n++) CHECK(raft_record_decode(b.p, n, &out, &used) == MM_EAGAIN);
  b.p[b.len - 1] ^= 1;
  CHECK(raft_record_decode(b.p, b.len, &out, &used) == MM_ECORRUPT);
  mm_buf_free(&b);
  raft_entry_unref(&e[0]);
  raft_entry_unref(&e[1]);
}

TEST(codec_alloc_faults) {
  raft_entry e;
  CHECK(raft_entry_init(&e, "abcdef", 6) == MM_OK);
  e.term = 1; e.index = 1;
  raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1, .n_entries = 1, .entries = &e};
  mm_buf b;
  mm_buf_init(&b);
  CHECK(raft_msg_encode(&m, &b) == MM_OK);
  for (uint64_t n = 1; n < 10; n++) {
    raft_msg d;
    mm_alloc_fail_at(n, 0);
    int rc = raft_msg_decode(b.p, b.len, &d);
    mm_alloc_fail_at(0, 0);
    CHECK(rc == MM_OK || rc == MM_ENOMEM);
    if (rc == MM_OK) raft_msg_release(&d);
  }
  mm_buf_free(&b);
  raft_entry_unref(&e);
}

/* ---- core ----------------------------------------------------------------------------- */
TEST(single_node_commits) {
  cluster_init(1, 1);
  tick_all(25);
  CHECK(leader() == 0);
  CHECK(submit(0, 1, "a") == MM_OK);
  CHECK(submit(0, 2, "b") == MM_OK);
  tick_all(1);
  CHECK_EQ_INT(T[0].committed_events, 2);
  CHECK_EQ_INT(T[0].applied, 3); /* noop + 2 */
  CHECK(raft_read_index(T[0].r, 5) == MM_OK);
  tn_ready(0);
  CHECK_EQ_INT(T[0].reads, 1);
  CHECK_EQ_INT(T[0].read_index, 3);
}

TEST(three_nodes_replicate_forward_read) {
  cluster_init(3, 3);
  tick_all(40);
  int L = leader();
  CHECK(L >= 0);
  int F = (L + 1) % 3;
  for (int k = 1; k <= 20; k++) CHECK(submit(F, (uint64_t)k, "from-follower") == MM_OK);
  tick_all(3);
  CHECK_EQ_INT(T[F].committed_events, 20);
  raft_status a, b;
  raft_get_status(T[L].r, &a);
  raft_get_status(T[F].r, &b);
  CHECK_EQ_INT(a.commit, b.commit);
  CHECK_EQ_INT(T[F].applied, a.commit);
  /* ReadIndex from a follower */
  CHECK(raft_read_index(T[F].r, 77) == MM_OK);
  tn_ready(F);
  deliver_all();
  tick_all(2);
  CHECK_EQ_INT(T[F].reads, 1);
  CHECK(T[F].read_index >= a.commit);
}

/* Thesis 10.2.1: the leader's own fsync runs in parallel with replication; an
 * entry commits (and its submitter hears COMMITTED) once a majority that
 * excludes the leader has it on disk, but the leader applies it only once
 * its own copy is durable. */
TEST(leader_commits_before_own_fsync) {
  cluster_init(3, 3);
  tick_all(40);
  int L = leader();
  CHECK(L >= 0);
  raft *r = T[L].r;
  CHECK(raft_submit(r, 900, "early", 5) == MM_OK);
  raft_ready rd;
  CHECK(raft_get_ready(r, &rd) == MM_OK);
  CHECK_EQ_INT(rd.n_persist, 1);
  raft_index idx = rd.persist[0].index;
  raft_term term = rd.persist[0].term;
  /* Send the APPENDs but do not store the leader's copy. */
  mm_buf b;
  mm_buf_init(&b);
  size_t sent = 0;
  for (size_t k = 0; k < rd.n_msgs; k++) {
    if (rd.msgs[k].type != RAFT_MSG_APPEND || !rd.msgs[k].n_entries) continue;
    mm_buf_reset(&b);
    CHECK(raft_msg_encode(&rd.msgs[k], &b) == MM_OK);
    raft_msg m;
    CHECK(raft_msg_decode((unsigned char *)b.p, b.len, &m) == MM_OK);
    int to = (int)m.to - 1;
    CHECK(raft_step(T[to].r, &m) == MM_OK);
    raft_msg_release(&m);
    sent++;
  }
  mm_buf_free(&b);
  raft_ready_done(r, &rd);
  CHECK_EQ_INT(sent, 2);
  /* Followers persist (synchronously in tn_ready) and acknowledge; deliver
   * only the acknowledgements to the leader by hand. */
  for (int f = 0; f < 3; f++) if (f != L) tn_ready(f);
  int committed = 0;
  while (qh < qt) {
    tmsg q = Q[qh++];
    raft_msg m;
    if ((int)q.to - 1 == L && raft_msg_decode(q.p, q.n, &m) == MM_OK) {
      CHECK(raft_step(r, &m) == MM_OK);
      raft_msg_release(&m);
      CHECK(raft_get_ready(r, &rd) == MM_OK);
      for (size_t k = 0; k < rd.n_committed; k++) CHECK(rd.committed[k].index < idx); /* not applied */
      for (size_t k = 0; k < rd.n_events; k++)
        if (rd.events[k].type == RAFT_EV_COMMITTED && rd.events[k].req_id == 900) {
          CHECK_EQ_INT(rd.events[k].index, idx);
          committed++;
        }
      raft_ready_done(r, &rd);
    }
    free(q.p);
  }
  qh = qt = 0;
  CHECK_EQ_INT(committed, 1);
  raft_status st;
  raft_get_status(r, &st);
  CHECK(st.commit >= idx);
  CHECK(st.stable < idx);
  CHECK(st.applied < idx);
  /* Now the leader's own write completes: the entry is applied. */
  CHECK(raft_persisted(r, idx, term) == MM_OK);
  CHECK(raft_get_ready(r, &rd) == MM_OK);
  int applied = 0;
  for (size_t k = 0; k < rd.n_committed; k++) applied |= rd.committed[k].index == idx;
  for (size_t k = 0; k < rd.n_events; k++) CHECK(rd.events[k].type != RAFT_EV_COMMITTED || rd.events[k].req_id != 900);
  raft_ready_done(r, &rd);
  CHECK(applied);
}

TEST(election_retry_status) {
  cluster_init(3, 3);
  /* no leader yet: a submission gets a clear retry status */
  CHECK(raft_submit(T[0].r, 1, "x", 1) == MM_EAGAIN);
  tick_all(40);
  int L = leader();
  CHECK(L >= 0);
  /* isolate the leader: it steps down (CheckQuorum), others elect a new one */
  cut[L + 1] = 1;
  tick_all(60);
  raft_status st;
  raft_get_status(T[L].r, &st);
  CHECK(st.role != RAFT_LEADER);
  int L2 = leader();
  CHECK(L2 >= 0 && L2 != L);
  cut[L + 1] = 0;
  tick_all(30);
  CHECK(submit(L, 9, "after-heal") == MM_OK);
  tick_all(3);
  CHECK_EQ_INT(T[L].committed_events, 1);
}

TEST(leadership_transfer) {
  cluster_init(3, 3);
  tick_all(40);
  int L = leader();
  CHECK(L >= 0);
  int tgt = (L + 2) % 3;
  CHECK(raft_transfer(T[L].r, (raft_id)(tgt + 1)) == MM_OK);
  CHECK(raft_submit(T[L].r, 5, "x", 1) == MM_EAGAIN); /* during transfer */
  tn_ready(L);
  deliver_all();
  tick_all(2);
  CHECK_EQ_INT(leader(), tgt);
}

TEST(membership_learner_promote_remove) {
  cluster_init(4, 3);
  tick_all(40);
  int L = leader();
  CHECK(L >= 0);
  for (int k = 1; k <= 10; k++) submit(L, (uint64_t)k, "data");
  tick_all(3);
  /* compact so the learner needs a snapshot */
  raft_status st;
  raft_get_status(T[L].r, &st);
  raft_snapshot snap;
  CHECK(raft_compact(T[L].r, st.applied, &snap) == MM_OK);
  CHECK_EQ_INT(snap.index, st.applied);
  CHECK(raft_change(T[L].r, RAFT_CHANGE_ADD_LEARNER, 4, 100) == MM_OK);
  tn_ready(L);
  deliver_all();
  tick_all(10);
  raft_status s4;
  raft_get_status(T[3].r, &s4);
  CHECK(s4.snap_index >= snap.index); /* installed the snapshot */
  raft_get_status(T[L].r, &st);
  CHECK_EQ_INT(s4.commit, st.commit);
  CHECK(raft_config_has(&s4.conf, 4) && !raft_config_is_voter(&s4.conf, 4));
  CHECK(raft_change(T[L].r, RAFT_CHANGE_PROMOTE, 4, 101) == MM_OK);
  tn_ready(L);
  deliver_all();
  tick_all(5);
  raft_get_status(T[L].r, &st);
  CHECK(raft_config_is_voter(&st.conf, 4));
  CHECK(raft_change(T[L].r, RAFT_CHANGE_REMOVE, (raft_id)(L + 1), 102) == MM_OK);
  tn_ready(L);
  deliver_all();
  tick_all(60);
  int L2 = leader();
  CHECK(L2 >= 0 && L2 != L);
  raft_get_status(T[L2].r, &st);
  CHECK(!raft_config_has(&st.conf, (raft_id)(L + 1)));
  CHECK_EQ_INT(st.conf.n, 3);
}

/* Fault loop: the Nth allocation fails somewhere in a replication scenario.
 * The failing member reports MM_ENOMEM (sticky), is rebuilt from storage,
 * and the cluster still commits everything that was acknowledged. */
TEST(alloc_fault_loop) {
  for (uint64_t n = 1; n < 400; n += 3) {
    cluster_init(3, 3);
    tick_all(40);
    int L = leader();
    CHECK(L >= 0);
    oom_crashes = 0;
    mm_alloc_fail_at(n, 0);
    int acked_before = 0;
    for (int k = 1; k <= 8; k++) {
      int who = leader();
      if (who < 0) { tick_all(5); continue; }
      submit(who, (uint64_t)(1000 * n + (uint64_t)k), "payload");
    }
    tick_all(5);
    mm_alloc_fail_at(0, 0);
    for (int i = 0; i < 3; i++) acked_before += T[i].committed_events;
    tick_all(60);
    int L2 = leader();
    CHECK(L2 >= 0);
    CHECK(submit(L2, 1000 * n + 99, "final") == MM_OK);
    tick_all(5);
    raft_status s[3];
    for (int i = 0; i < 3; i++) raft_get_status(T[i].r, &s[i]);
    CHECK_EQ_INT(s[0].commit, s[1].commit);
    CHECK_EQ_INT(s[1].commit, s[2].commit);
    CHECK(acked_before >= 0);
    /* every committed entry agrees across members */
    for (raft_index i = s[0].snap_index + 1; i <= s[0].commit; i++) {
      const raft_entry *a = raft_entry_at(T[0].r, i), *b = raft_entry_at(T[1].r, i), *c = raft_entry_at(T[2].r, i);
      CHECK(a && b && c);
      CHECK(a->term == b->term && b->term == c->term && a->req_id == b->req_id && b->req_id == c->req_id);
    }
  }
}

/* ---- log store ------------------------------------------------------------------------- */
static char tdir[256];

static void rmrf(const char *d) {
  DIR *dd = opendir(d);
  if (!dd) return;
  struct dirent *de;
  char p[512];
  while ((de = readdir(dd)))
    if (de->d_name[0] != '.') { snprintf(p, sizeof p, "%s/%s", d, de->d_name); unlink(p); }
  closedir(dd);
  rmdir(d);
}

static int append_n(raft_log *l, raft_index from, size_t n, raft_term term) {
  for (size_t i = 0; i < n; i++) {
    raft_entry e;
    char buf[64];
    int len = snprintf(buf, sizeof buf, "entry-%llu", (unsigned long long)(from + i));
    if (raft_entry_init(&e, buf, (uint32_t)len) != MM_OK) return MM_ENOMEM;
    e.index = from + i;
    e.term = term;
    int rc = raft_log_append(l, &e, 1);
    raft_entry_unref(&e);
    if (rc != MM_OK) return rc;
  }
  return MM_OK;
}

TEST(log_store_basic) {
  snprintf(tdir, sizeof tdir, "/tmp/mm-raft-unit-%d", (int)getpid());
  rmrf(tdir);
  raft_log *l;
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_term t; raft_id v; raft_snapshot s; const raft_entry *e; size_t n; int fresh;
  raft_log_state(l, &t, &v, &s, &e, &n, &fresh);
  CHECK(fresh);
  CHECK(raft_log_set_hard_state(l, 5, 2) == MM_OK);
  CHECK(append_n(l, 1, 100, 5) == MM_OK);
  CHECK(raft_log_sync(l) == MM_OK);
  CHECK(raft_log_truncate(l, 51) == MM_OK);
  CHECK(append_n(l, 51, 10, 6) == MM_OK);
  CHECK(raft_log_sync(l) == MM_OK);
  CHECK_EQ_INT(raft_log_last(l), 60);
  CHECK_EQ_INT(raft_log_last_term(l), 6);
  raft_log_close(l);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_log_state(l, &t, &v, &s, &e, &n, &fresh);
  CHECK(!fresh);
  CHECK_EQ_INT(t, 5);
  CHECK_EQ_INT(v, 2);
  CHECK_EQ_INT(n, 60);
  CHECK_EQ_INT(e[49].term, 5);
  CHECK_EQ_INT(e[50].term, 6);
  CHECK(e[59].len == 8 && memcmp(e[59].data, "entry-60", 8) == 0);
  /* snapshot: entries <= 30 go away */
  raft_snapshot sn = {.index = 30, .term = 5};
  sn.conf.n = 1; sn.conf.m[0].id = 1; sn.conf.m[0].voter = 1;
  CHECK(raft_log_set_snapshot(l, &sn) == MM_OK);
  raft_log_close(l);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_log_state(l, &t, &v, &s, &e, &n, &fresh);
  CHECK_EQ_INT(s.index, 30);
  CHECK_EQ_INT(n, 30);
  CHECK_EQ_INT(e[0].index, 31);
  raft_log_close(l);
  /* torn tail: chop the last segment in the middle of a record, add garbage */
  DIR *dd = opendir(tdir);
  struct dirent *de;
  char seg[512] = "";
  while ((de = readdir(dd))) if (!strncmp(de->d_name, "seg-", 4)) snprintf(seg, sizeof seg, "%s/%s", tdir, de->d_name);
  closedir(dd);
  CHECK(seg[0]);
  struct stat stt;
  CHECK(stat(seg, &stt) == 0);
  CHECK(truncate(seg, stt.st_size - 5) == 0);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_log_state(l, &t, &v, &s, &e, &n, &fresh);
  CHECK_EQ_INT(n, 29); /* entry 60 was torn */
  CHECK(append_n(l, 60, 1, 6) == MM_OK);
  CHECK(raft_log_sync(l) == MM_OK);
  raft_log_close(l);
  int fd = open(seg, O_WRONLY | O_APPEND);
  CHECK(fd >= 0);
  CHECK(write(fd, "\x30\x00\x00\x00garbagegarbage", 18) == 18);
  close(fd);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_log_state(l, &t, &v, &s, &e, &n, &fresh);
  CHECK_EQ_INT(n, 30);
  CHECK_EQ_INT(raft_log_last(l), 60);
  raft_log_close(l);
  rmrf(tdir);
}

/* Background preallocation (raft_log_zero_*): while a zeroing is in
 * flight, appends below its range go on and an append that would reach it
 * is refused with MM_EBUSY without changing the log; after _end the file
 * holds the new zeros and the append goes through.  A truncation during a
 * zeroing is harmless, and the log reopens with exactly its entries. */
static int append_big(raft_log *l, raft_index idx, raft_term term) {
  static char big[4000];
  memset(big, 'x', sizeof big);
  snprintf(big, 32, "big-%llu", (unsigned long long)idx);
  raft_entry e;
  if (raft_entry_init(&e, big, sizeof big) != MM_OK) return MM_ENOMEM;
  e.index = idx;
  e.term = term;
  int rc = raft_log_append(l, &e, 1);
  raft_entry_unref(&e);
  return rc;
}

static off_t seg_size(const char *dir) {
  DIR *dd = opendir(dir);
  struct dirent *de;
  off_t sz = -1;
  while (dd && (de = readdir(dd))) {
    if (strncmp(de->d_name, "seg-", 4)) continue;
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
    if (stat(p, &st) == 0 && st.st_size > sz) sz = st.st_size;
  }
  if (dd) closedir(dd);
  return sz;
}

TEST(log_store_background_zeroing) {
  snprintf(tdir, sizeof tdir, "/tmp/mm-raft-unit-%d", (int)getpid());
  rmrf(tdir);
  raft_log *l;
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_index i = 1;
  CHECK(append_big(l, i++, 1) == MM_OK);
  CHECK(!raft_log_zero_needed(l)); /* the first append preallocated inline */
  while (!raft_log_zero_needed(l) && i < 2000) CHECK(append_big(l, i++, 1) == MM_OK);
  CHECK(raft_log_zero_needed(l));
  raft_log_zero z;
  CHECK_EQ_INT(raft_log_zero_begin(l, &z), 1);
  CHECK(z.to > z.from && z.fd >= 0);
  CHECK(!raft_log_zero_needed(l)); /* one at a time */
  /* appends below the range go on; the one that would reach it waits */
  int busy = 0;
  raft_index before = raft_log_last(l);
  for (int k = 0; k < 400 && !busy; k++) {
    int rc = append_big(l, i, 1);
    if (rc == MM_EBUSY) busy = 1;
    else { CHECK(rc == MM_OK); i++; }
  }
  CHECK(busy);
  CHECK(raft_log_last(l) == i - 1 && i - 1 > before);
  CHECK(raft_log_zero_write(&z) == MM_OK);
  raft_log_zero_end(l, &z, MM_OK);
  CHECK(seg_size(tdir) >= (off_t)z.to);
  CHECK(append_big(l, i++, 1) == MM_OK); /* now it fits */
  CHECK(raft_log_sync(l) == MM_OK);

  /* a truncation while a zeroing is in flight */
  while (!raft_log_zero_needed(l) && i < 4000) CHECK(append_big(l, i++, 1) == MM_OK);
  CHECK_EQ_INT(raft_log_zero_begin(l, &z), 1);
  CHECK(raft_log_truncate(l, i - 50) == MM_OK);
  i -= 50;
  CHECK(append_big(l, i++, 2) == MM_OK);
  CHECK(raft_log_zero_write(&z) == MM_OK);
  raft_log_zero_end(l, &z, MM_OK);
  CHECK(append_big(l, i++, 2) == MM_OK);
  CHECK(raft_log_sync(l) == MM_OK);
  raft_log_close(l);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_term t; raft_id v; raft_snapshot sn; const raft_entry *e; size_t n; int fresh;
  raft_log_state(l, &t, &v, &sn, &e, &n, &fresh);
  CHECK_EQ_INT(n, i - 1);
  CHECK_EQ_INT(e[n - 1].term, 2);
  CHECK_EQ_INT(e[n - 3].term, 1);
  char want[32];
  snprintf(want, sizeof want, "big-%llu", (unsigned long long)(i - 1));
  CHECK(e[n - 1].len == 4000 && memcmp(e[n - 1].data, want, strlen(want)) == 0);
  raft_log_close(l);
  rmrf(tdir);
}

/* Fault loop: the Nth disk write fails.  The store returns MM_EIO, stays
 * failed (sticky), and after reopening holds every entry synced before the
 * failure, contiguous, with nothing half-written. */
/* Pipelined sync (raft_log_sync_begin/finish) and preallocated segments:
 * appends go on while a sync of an earlier prefix is in flight; the zero
 * tail of a preallocated segment is not a torn record and disappears on
 * open; truncation cuts the preallocation too. */
TEST(log_store_pipelined_sync) {
  snprintf(tdir, sizeof tdir, "/tmp/mm-raft-unit-%d", (int)getpid());
  rmrf(tdir);
  raft_log *l;
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  CHECK(append_n(l, 1, 10, 1) == MM_OK);
  raft_log_syncset ss;
  CHECK(raft_log_sync_begin(l, &ss) == MM_OK);
  CHECK_EQ_INT(ss.index, 10);
  CHECK_EQ_INT(ss.term, 1);
  CHECK_EQ_INT(ss.n, 1);
  CHECK(append_n(l, 11, 10, 1) == MM_OK);      /* while the sync of ..10 "runs" */
  CHECK(raft_log_sync_finish(&ss) == MM_OK);
  CHECK(raft_log_sync_begin(l, &ss) == MM_OK); /* the next one covers 11..20 */
  CHECK_EQ_INT(ss.index, 20);
  CHECK_EQ_INT(ss.n, 1);
  CHECK(raft_log_sync_finish(&ss) == MM_OK);
  CHECK(raft_log_sync_begin(l, &ss) == MM_OK); /* nothing new */
  CHECK_EQ_INT(ss.n, 0);
  CHECK(raft_log_sync_finish(&ss) == MM_OK);
  DIR *dd = opendir(tdir);
  struct dirent *de;
  char seg[512] = "";
  while ((de = readdir(dd))) if (!strncmp(de->d_name, "seg-", 4)) snprintf(seg, sizeof seg, "%s/%s", tdir, de->d_name);
  closedir(dd);
  struct stat stt;
  CHECK(seg[0] && stat(seg, &stt) == 0);
  CHECK(stt.st_size >= (off_t)(1u << 20)); /* preallocated */
  CHECK(raft_log_truncate(l, 15) == MM_OK);
  CHECK(stat(seg, &stt) == 0);
  CHECK(stt.st_size < 4096);               /* the zeros went with the cut */
  CHECK(append_n(l, 15, 3, 2) == MM_OK);
  CHECK(raft_log_sync(l) == MM_OK);
  raft_log_close(l);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_term t; raft_id v; raft_snapshot sn; const raft_entry *e; size_t n; int fresh;
  raft_log_state(l, &t, &v, &sn, &e, &n, &fresh);
  CHECK_EQ_INT(n, 17);
  CHECK_EQ_INT(e[13].term, 1);
  CHECK_EQ_INT(e[14].term, 2);
  CHECK_EQ_INT(raft_log_last_term(l), 2);
  CHECK(stat(seg, &stt) == 0);
  CHECK(stt.st_size < 4096);               /* zero tail cut on open */
  CHECK(append_n(l, 18, 5, 2) == MM_OK);   /* appends continue after it */
  CHECK(raft_log_sync(l) == MM_OK);
  raft_log_close(l);
  CHECK(raft_log_open(tdir, &l) == MM_OK);
  raft_log_state(l, &t, &v, &sn, &e, &n, &fresh);
  CHECK_EQ_INT(n, 22);
  CHECK(e[21].len == 8 && memcmp(e[21].data, "entry-22", 8) == 0);
  raft_log_close(l);
  rmrf(tdir);
}

TEST(log_store_write_fault_loop) {
  snprintf(tdir, sizeof tdir, "/tmp/mm-raft-unit-%d", (int)getpid());
  for (uint64_t n = 1; n <= 40; n++) {
    rmrf(tdir);
    raft_log *l;
    CHECK(raft_log_open(tdir, &l) == MM_OK);
    raft_log_fail_write_at(n);
    raft_index synced = 0, idx = 1;
    int rc = MM_OK;
    for (int batch = 0; batch < 10 && rc == MM_OK; batch++) {
      if (batch == 3) rc = raft_log_set_hard_state(l, 2, 1);
      if (rc == MM_OK && batch == 6) {
        idx -= 2;
        rc = raft_log_truncate(l, idx);
        if (synced >= idx) synced = idx - 1;
      }
      if (rc == MM_OK) rc = append_n(l, idx, 5, 2);
      if (rc == MM_OK) rc = raft_log_sync(l);
      if (rc == MM_OK) { idx += 5; synced = idx - 1; }
    }
    raft_log_fail_write_at(0);
    if (rc != MM_OK) {
      CHECK_EQ_INT(rc, MM_EIO);
      CHECK(raft_log_sync(l) == MM_EIO); /* sticky */
      CHECK(append_n(l, idx, 1, 2) == MM_EIO);
    }
    raft_log_close(l);
    CHECK(raft_log_open(tdir, &l) == MM_OK);
    raft_term t; raft_id v; raft_snapshot s; const raft_entry *e; size_t ne; int fresh;
    raft_log_state(l, &t, &v, &s, &e, &ne, &fresh);
    CHECK(ne >= synced);
    for (size_t i = 0; i < ne; i++) CHECK_EQ_INT(e[i].index, i + 1);
    /* the store works again after the restart */
    CHECK(append_n(l, raft_log_last(l) + 1, 3, 3) == MM_OK);
    CHECK(raft_log_sync(l) == MM_OK);
    raft_log_close(l);
  }
  rmrf(tdir);
}

int main(void) {
  RUN(codec_roundtrip);
  RUN(codec_alloc_faults);
  RUN(single_node_commits);
  RUN(three_nodes_replicate_forward_read);
  RUN(leader_commits_before_own_fsync);
  RUN(election_retry_status);
  RUN(leadership_transfer);
  RUN(membership_learner_promote_remove);
  RUN(alloc_fault_loop);
  RUN(log_store_basic);
  RUN(log_store_pipelined_sync);
  RUN(log_store_background_zeroing);
  RUN(log_store_write_fault_loop);
  cluster_init(0, 0);
  return unit_report("raft");
}
