/*
 * test/sim/sim.c - deterministic simulator for the Raft core.
 *
 *   raft-sim --seeds A-B [--jobs N] [-v]     run seeds A..B (N worker processes)
 *   raft-sim --seed S [-v]                   replay one seed (-v traces events)
 *
 * One seed = one random schedule over a fake network, fake disks and fake
 * clocks, all driven from a single PRNG, so a seed replays exactly.
 *
 * Chaos phase: 1..7 voters (up to 16 members with learners); message delay,
 * loss, duplication and reordering; symmetric and one-way partitions that
 * heal; crashes that keep only a random prefix of the writes not yet fsynced;
 * restarts; per-node clock skew and drift; membership changes (learners added,
 * promoted once caught up, members removed); leadership transfer; ReadIndex;
 * log compaction (followers then install metadata-only snapshots).
 * Every message goes through the codec (encode on send, decode on delivery).
 *
 * Checked after every step:
 *   Election Safety     at most one leader per term
 *   Log Matching        same (index, term) => same prefix (hash chains)
 *   Leader Completeness a leader of term T holds every entry committed before T
 *   State Machine Safety every member applies the same sequence; committed
 *                        prefixes agree; snapshots match the committed prefix
 *   acknowledgments      a COMMITTED event names the entry committed there
 *   ReadIndex            a read returns an index >= every write acknowledged
 *                        before the read started
 * Heal phase: network healed, everyone restarted; within bounded simulated
 * time a leader commits a probe entry, every member applies everything, and
 * every submission has an outcome (COMMITTED or FAILED).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "raft/raft.h"
#include "raft/raft_codec.h"
#include "util/mm.h"

#define MAXN 16
#define TICK_US 10000 /* nominal tick: 10 ms */
#define MS 1000ull
#define SEC 1000000ull

/* ---- rng ------------------------------------------------------------------------ */
static uint64_t rng_s;
static uint64_t rnd(void) {
  uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint64_t rn(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(double p) { return (rnd() >> 11) * (1.0 / 9007199254740992.0) < p; }
static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

/* ---- u64 -> u64 hash map ----------------------------------------------------------- */
typedef struct map { uint64_t *k, *v; size_t cap, n; } map;
static void map_free(map *m) { free(m->k); free(m->v); memset(m, 0, sizeof *m); }
static uint64_t *map_slot(map *m, uint64_t key, int create);
static void map_grow(map *m) {
  map o = *m;
  m->cap = o.cap ? o.cap * 2 : 1024;
  m->k = calloc(m->cap, 8);
  m->v = calloc(m->cap, 8);
  m->n = 0;
  for (size_t i = 0; i < o.cap; i++)
    if (o.k[i]) *map_slot(m, o.k[i], 1) = o.v[i];
  free(o.k);
  free(o.v);
}
static uint64_t *map_slot(map *m, uint64_t key, int create) {
  if (create && (m->n + 1) * 2 > m->cap) map_grow(m);
  if (!m->cap) return NULL;
  size_t i = mix(0, key) & (m->cap - 1);
  while (m->k[i]) {
    if (m->k[i] == key) return &m->v[i];
    i = (i + 1) & (m->cap - 1);
  }
  if (!create) return NULL;
  m->k[i] = key;
  m->n++;
  return &m->v[i];
}

/* ---- state ------------------------------------------------------------------------------ */
enum { OP_TRUNC, OP_APPEND };
typedef struct op { int kind; raft_index from; raft_entry e; } op;

typedef struct snode {
  int exists, up;
  raft *r;
  uint32_t gen;
  uint64_t tick_us, fsync_us;
  /* durable storage */
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  raft_entry *dur;
  size_t ndur, capdur;
  op *ops;
  size_t nops, capops;
  int fsync_busy;
  size_t fsync_upto;
  /* mirror of the core's log: chain hash and term per index */
  uint64_t *chain;
  raft_term *mterm;
  size_t mlen, mcap; /* valid indexes 0..mlen-1 */
  raft_index base;   /* snapshot index of the mirror */
  /* state machine */
  raft_index applied;
  uint64_t app_chain;
  uint64_t next_req, next_ctx;
  int outstanding;
} snode;

typedef struct gent { raft_term term, cterm; uint64_t chain, origin, req; } gent;

enum { EV_TICK = 1, EV_DELIVER, EV_FSYNC, EV_ACTION, EV_CLIENT, EV_HEALCHK };
typedef struct ev {
  uint64_t t, seq;
  int type, node;
  uint32_t gen;
  unsigned char *buf;
  size_t len;
} ev;

static struct sim {
  uint64_t seed;
  int verbose;
  uint64_t now, seq;
  ev *heap;
  size_t nheap, capheap;
  snode n[MAXN];
  int nslots;
  /* network */
  unsigned char blocked[MAXN][MAXN];
  double loss, dup;
  uint64_t dmin, dmax, slow_p1000;
  /* global truth */
  gent *g;
  size_t gcap;
  raft_index gcommit;
  raft_id *leader_of; /* by term */
  size_t nleader_of;
  map lm;     /* (index,term) -> chain */
  map subs;   /* (node,req) -> state */
  map reads;  /* (node,ctx) -> ack_max at start + 1 */
  raft_index ack_max;
  /* phases */
  int healing;
  uint64_t heal_at, deadline;
  raft_index probe_index;
  uint64_t probe_req;
  int probe_node, converged;
  uint64_t converged_at;
  mm_buf enc;
  /* stats */
  struct {
    uint64_t steps, msgs, dropped, elections, commits, applied, acks, fails, reads, snaps, crashes,
        restarts, partitions, confchanges, transfers, compactions, events;
    /* thesis 10.2.1 paths: commits / acks before the leader's own copy was
     * durable, and leader crashes that lost committed entries locally */
    uint64_t early_commits, early_acks, lost_commits;
  } st;
} S;

static struct {
  uint64_t seeds, steps, msgs, dropped, elections, commits, applied, acks, fails, reads, snaps,
      crashes, restarts, partitions, confchanges, transfers, compactions;
  uint64_t early_commits, early_acks, lost_commits;
  uint64_t sim_us;
} TOT;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void violation(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stdout, "\nVIOLATION seed %" PRIu64 " at t=%.3fs: ", S.seed, S.now / 1e6);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fprintf(stdout, "\nreplay: build/raft-sim --seed %" PRIu64 " -v\n", S.seed);
  fflush(stdout);
  exit(1);
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...) {
  if (!S.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  printf("%9.3f ", S.now / 1e3);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
}

/* ---- event heap --------------------------------------------------------------------- */
static int ev_less(const ev *a, const ev *b) { return a->t < b->t || (a->t == b->t && a->seq < b->seq); }
static void push(uint64_t t, int type, int node, uint32_t gen, unsigned char *buf, size_t len) {
  if (S.nheap == S.capheap) {
    S.capheap = S.capheap ? S.capheap * 2 : 1024;
    S.heap = realloc(S.heap, S.capheap * sizeof(ev));
  }
  ev e = {t, S.seq++, type, node, gen, buf, len};
  size_t i = S.nheap++;
  while (i) {
    size_t p = (i - 1) / 2;
    if (!ev_less(&e, &S.heap[p])) break;
    S.heap[i] = S.heap[p];
    i = p;
  }
  S.heap[i] = e;
}
static ev pop(void) {
  ev top = S.heap[0], last = S.heap[--S.nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= S.nheap) break;
    if (c + 1 < S.nheap && ev_less(&S.heap[c + 1], &S.heap[c])) c++;
    if (!ev_less(&S.heap[c], &last)) break;
    S.heap[i] = S.heap[c];
    i = c;
  }
  if (S.nheap) S.heap[i] = last;
  return top;
}

/* ---- global truth ------------------------------------------------------------------- */
static gent *gat(raft_index i) {
  if (i >= S.gcap) {
    size_t nc = S.gcap ? S.gcap : 1024;
    while (nc <= i) nc *= 2;
    S.g = realloc(S.g, nc * sizeof(gent));
    memset(S.g + S.gcap, 0, (nc - S.gcap) * sizeof(gent));
    S.gcap = nc;
  }
  return &S.g[i];
}

static uint64_t entry_hash(const raft_entry *e) {
  uint64_t h = mix(e->type, e->origin);
  h = mix(h, e->req_id);
  for (uint32_t i = 0; i < e->len; i++) h = mix(h, e->data[i]);
  return mix(h, e->len);
}
static uint64_t chain_next(uint64_t prev, const raft_entry *e) {
  return mix(mix(prev, e->term), mix(e->index, entry_hash(e)));
}

/* ---- mirror ------------------------------------------------------------------------- */
static void mirror_reserve(snode *n, size_t len) {
  if (len <= n->mcap) return;
  size_t nc = n->mcap ? n->mcap : 256;
  while (nc < len) nc *= 2;
  n->chain = realloc(n->chain, nc * 8);
  n->mterm = realloc(n->mterm, nc * 8);
  n->mcap = nc;
}
static void mirror_reset_to(snode *n, raft_index snapi) {
  mirror_reserve(n, snapi + 1);
  for (raft_index i = 0; i <= snapi; i++) {
    n->chain[i] = i ? S.g[i].chain : 0;
    n->mterm[i] = i ? S.g[i].term : 0;
  }
  n->mlen = snapi + 1;
  n->base = snapi;
}
static void mirror_append(snode *n, int id, const raft_entry *e) {
  if (e->index != n->mlen) violation("node %d: log gap: appending %" PRIu64 " after %zu", id, e->index, n->mlen - 1);
  if (e->index > 1 && e->term < n->mterm[e->index - 1])
    violation("node %d: term decreases along the log at %" PRIu64, id, e->index);
  mirror_reserve(n, n->mlen + 1);
  uint64_t c = chain_next(n->chain[e->index - 1], e);
  n->chain[n->mlen] = c;
  n->mterm[n->mlen] = e->term;
  n->mlen++;
  if (e->term >= (1u << 24) || e->index >= (1ull << 39)) violation("term/index out of sim range");
  uint64_t key = (e->index << 24 | e->term) + 1;
  uint64_t *v = map_slot(&S.lm, key, 1);
  if (*v == 0) *v = c | 1;
  else if (*v != (c | 1))
    violation("Log Matching: node %d entry (%" PRIu64 ", term %" PRIu64 ") has a different prefix than another log", id,
              e->index, e->term);
}

/* ---- storage ------------------------------------------------------------------------- */
static void dur_apply(snode *n, op *o) {
  if (o->kind == OP_TRUNC) {
    while (n->ndur && n->dur[n->ndur - 1].index >= o->from) raft_entry_unref(&n->dur[--n->ndur]);
    return;
  }
  raft_index last = n->snap.index + n->ndur;
  if (o->e.index <= n->snap.index) { raft_entry_unref(&o->e); return; }
  if (o->e.index <= last) { /* overwrite: drop from there */
    while (n->ndur && n->dur[n->ndur - 1].index >= o->e.index) raft_entry_unref(&n->dur[--n->ndur]);
    last = n->snap.index + n->ndur;
  }
  if (o->e.index != last + 1) violation("storage gap: entry %" PRIu64 " after %" PRIu64, o->e.index, last);
  if (n->ndur == n->capdur) {
    n->capdur = n->capdur ? n->capdur * 2 : 256;
    n->dur = realloc(n->dur, n->capdur * sizeof(raft_entry));
  }
  n->dur[n->ndur++] = o->e;
}
static void ops_apply(snode *n, size_t k) {
  for (size_t i = 0; i < k; i++) dur_apply(n, &n->ops[i]);
  if (n->nops > k) memmove(n->ops, n->ops + k, (n->nops - k) * sizeof(op));
  n->nops -= k;
  if (n->fsync_upto >= k) n->fsync_upto -= k; else n->fsync_upto = 0;
}
static void op_push(snode *n, op o) {
  if (n->nops == n->capops) {
    n->capops = n->capops ? n->capops * 2 : 256;
    n->ops = realloc(n->ops, n->capops * sizeof(op));
  }
  n->ops[n->nops++] = o;
}
static void start_fsync(int k) {
  snode *n = &S.n[k];
  if (n->fsync_busy || !n->nops) return;
  n->fsync_busy = 1;
  n->fsync_upto = n->nops;
  uint64_t d = n->fsync_us / 2 + rn(n->fsync_us);
  if (rn(100) < 5) d += rn(20 * MS); /* a disk stall: the others commit without this member */
  push(S.now + d, EV_FSYNC, k, n->gen, NULL, 0);
}

/* Is entry (i, term) on n's disk (fsynced, or covered by its snapshot)? */
static int durable_has(const snode *n, raft_index i, raft_term term) {
  if (i <= n->snap.index) return 1;
  if (i > n->snap.index + n->ndur) return 0;
  return n->dur[i - n->snap.index - 1].term == term;
}
static raft_index durable_last(const snode *n) { return n->snap.index + n->ndur; }

/* ---- processing a ready batch -------------------------------------------------------- */
static void net_send(const raft_msg *m);
static snode *node_of(raft_id id) { return (id >= 1 && id <= (raft_id)S.nslots) ? &S.n[id - 1] : NULL; }

static void check_leader_completeness(int k) {
  snode *n = &S.n[k];
  raft_status st;
  raft_get_status(n->r, &st);
  if (st.role != RAFT_LEADER) return;
  /* largest committed index whose commit term < st.term */
  raft_index lo = 0, hi = S.gcommit;
  while (lo < hi) {
    raft_index mid = (lo + hi + 1) / 2;
    if (S.g[mid].cterm < st.term) lo = mid; else hi = mid - 1;
  }
  if (lo == 0) return;
  if (lo >= n->mlen) violation("Leader Completeness: leader %d (term %" PRIu64 ") lacks committed entry %" PRIu64, k + 1, st.term, lo);
  if (n->chain[lo] != S.g[lo].chain)
    violation("Leader Completeness: leader %d (term %" PRIu64 ") has a different entry at committed %" PRIu64, k + 1, st.term, lo);
}

static void process(int k) {
  snode *n = &S.n[k];
  raft_ready rd;
  int rc = raft_get_ready(n->r, &rd);
  if (rc != MM_OK) violation("node %d: raft_get_ready failed: %s", k + 1, mm_strerror(rc));
  /* 1. hard state */
  if (rd.hs_changed) {
    if (rd.term < n->term) violation("node %d: term went backwards", k + 1);
    if (rd.term == n->term && n->vote && rd.vote != n->vote) violation("node %d: voted twice in term %" PRIu64, k + 1, rd.term);
    n->term = rd.term;
    n->vote = rd.vote;
  }
  /* 2. snapshot install: drain the write queue, then store the metadata */
  if (rd.snap_installed) {
    S.st.snaps++;
    raft_index si = rd.snap.index;
    if (si > S.gcommit) violation("node %d: installed snapshot %" PRIu64 " beyond commit %" PRIu64, k + 1, si, S.gcommit);
    if (S.g[si].term != rd.snap.term) violation("node %d: snapshot term mismatch at %" PRIu64, k + 1, si);
    ops_apply(n, n->nops);
    n->snap = rd.snap;
    size_t drop = 0;
    while (drop < n->ndur && n->dur[drop].index <= si) raft_entry_unref(&n->dur[drop++]);
    if (n->ndur > drop) memmove(n->dur, n->dur + drop, (n->ndur - drop) * sizeof(raft_entry));
    n->ndur -= drop;
    if (n->ndur && n->dur[0].index != si + 1) { /* a gap: nothing after is usable */
      for (size_t i = 0; i < n->ndur; i++) raft_entry_unref(&n->dur[i]);
      n->ndur = 0;
    }
    if (rd.truncate_from == si + 1 || n->mlen <= si) {
      mirror_reset_to(n, si);
    } else {
      if (n->chain[si] != S.g[si].chain) violation("node %d: kept log disagrees with snapshot", k + 1);
      n->base = si;
    }
    n->applied = si;
    n->app_chain = S.g[si].chain;
    trace("n%d installs snapshot %" PRIu64, k + 1, si);
  }
  /* 3. entries */
  if (rd.truncate_from) {
    op o = {.kind = OP_TRUNC, .from = rd.truncate_from};
    op_push(n, o);
    int snapdrop = rd.snap_installed && rd.truncate_from == rd.snap.index + 1;
    raft_index tf = rd.truncate_from;
    if (!snapdrop && tf <= S.gcommit && tf > n->base && tf < n->mlen && n->chain[tf] == S.g[tf].chain)
      violation("node %d truncates committed entry %" PRIu64 " (commit %" PRIu64 ")", k + 1, rd.truncate_from, S.gcommit);
    if (n->mlen > rd.truncate_from) n->mlen = rd.truncate_from;
  }
  for (size_t i = 0; i < rd.n_persist; i++) {
    raft_entry *e = &rd.persist[i];
    if (e->index < n->mlen) {
      if (e->index <= S.gcommit && e->index > n->base && n->chain[e->index] == S.g[e->index].chain) violation("node %d overwrites committed entry %" PRIu64, k + 1, e->index);
      n->mlen = e->index;
    }
    mirror_append(n, k + 1, e);
    op o = {.kind = OP_APPEND, .e = *e};
    raft_entry_ref(&o.e);
    op_push(n, o);
  }
  if (rd.n_persist || rd.truncate_from || rd.snap_installed) start_fsync(k);
  /* commit tracking: the global committed prefix */
  raft_status st;
  raft_get_status(n->r, &st);
  if (st.last + 1 != n->mlen) violation("node %d: mirror has %zu entries, core last %" PRIu64, k + 1, n->mlen - 1, st.last);
  if (st.commit > S.gcommit) {
    for (raft_index i = S.gcommit + 1; i <= st.commit; i++) {
      gent *g = gat(i);
      const raft_entry *e = raft_entry_at(n->r, i);
      if (!e) violation("node %d: committed entry %" PRIu64 " not in its log", k + 1, i);
      g->term = e->term;
      g->chain = n->chain[i];
      g->origin = e->origin;
      g->req = e->req_id;
      g->cterm = MM_MAX(st.term, S.g[i - 1].cterm);
      /* Commitment (thesis 10.2.1): a majority of the committing leader's
       * voters -- possibly without the leader -- has it on disk. */
      if (st.role == RAFT_LEADER) {
        int nv = 0, dur = 0;
        char who[256] = "";
        size_t wl = 0;
        for (uint32_t m = 0; m < st.conf.n; m++) {
          if (!st.conf.m[m].voter) continue;
          nv++;
          snode *o = node_of(st.conf.m[m].id);
          int has = o && o->exists && durable_has(o, i, e->term);
          dur += has;
          raft_status os = {0};
          if (o && o->up) raft_get_status(o->r, &os);
          if (wl < sizeof who - 60)
            wl += (size_t)snprintf(who + wl, sizeof who - wl, " n%" PRIu64 "%s(disk to %" PRIu64 ", stable %" PRIu64 ")",
                                   st.conf.m[m].id, has ? "+" : "-", o ? durable_last(o) : 0, os.stable);
        }
        if (dur < nv / 2 + 1)
          violation("node %d commits %" PRIu64 " durable on only %d of %d voters:%s", k + 1, i, dur, nv, who);
      }
    }
    if (st.role == RAFT_LEADER && st.commit > durable_last(n)) S.st.early_commits++;
    trace("n%d commit %" PRIu64 " -> %" PRIu64 " (term %" PRIu64 ", role %s)", k + 1, S.gcommit, st.commit, st.term,
          raft_role_name(st.role));
    S.st.commits += st.commit - S.gcommit;
    S.gcommit = st.commit;
  }
  {
    raft_index c = MM_MIN(st.commit, S.gcommit);
    if (c > n->base && c < n->mlen && n->chain[c] != S.g[c].chain)
      violation("State Machine Safety: node %d committed prefix at %" PRIu64 " differs", k + 1, c);
  }
  /* 5. apply */
  for (size_t i = 0; i < rd.n_committed; i++) {
    raft_entry *e = &rd.committed[i];
    if (e->index != n->applied + 1) violation("node %d applies %" PRIu64 " after %" PRIu64, k + 1, e->index, n->applied);
    if (e->index > S.gcommit) violation("node %d applies uncommitted %" PRIu64, k + 1, e->index);
    n->app_chain = chain_next(n->app_chain, e);
    if (n->app_chain != S.g[e->index].chain)
      violation("State Machine Safety: node %d applied a different entry at %" PRIu64, k + 1, e->index);
    n->applied = e->index;
    S.st.applied++;
  }
  /* 6. events */
  for (size_t i = 0; i < rd.n_events; i++) {
    raft_event *v = &rd.events[i];
    S.st.events++;
    if (v->type == RAFT_EV_ROLE) {
      if (st.role == RAFT_LEADER) {
        if (st.term >= S.nleader_of) {
          size_t nc = S.nleader_of ? S.nleader_of : 64;
          while (nc <= st.term) nc *= 2;
          S.leader_of = realloc(S.leader_of, nc * sizeof(raft_id));
          memset(S.leader_of + S.nleader_of, 0, (nc - S.nleader_of) * sizeof(raft_id));
          S.nleader_of = nc;
        }
        if (S.leader_of[st.term] && S.leader_of[st.term] != (raft_id)(k + 1))
          violation("Election Safety: nodes %" PRIu64 " and %d both leaders of term %" PRIu64, S.leader_of[st.term], k + 1,
                    st.term);
        if (!S.leader_of[st.term]) S.st.elections++;
        S.leader_of[st.term] = k + 1;
        trace("n%d leader term %" PRIu64 " last %" PRIu64, k + 1, st.term, st.last);
      } else {
        trace("n%d %s term %" PRIu64 " leader %" PRIu64, k + 1, raft_role_name(st.role), st.term, st.leader);
      }
      continue;
    }
    if (v->type == RAFT_EV_ACCEPTED) trace("n%d accepted req %" PRIu64 " at %" PRIu64, k + 1, v->req_id, v->index);
    if (v->type == RAFT_EV_CONF || v->type == RAFT_EV_ACCEPTED) continue;
    if (v->type == RAFT_EV_READ) {
      uint64_t *start = map_slot(&S.reads, ((uint64_t)(k + 1) << 40 | v->req_id) + 1, 0);
      if (!start || !*start) violation("node %d: READ event for unknown ctx %" PRIu64, k + 1, v->req_id);
      if (v->status == MM_OK) {
        if (v->index + 1 < *start)
          violation("ReadIndex: node %d read index %" PRIu64 " < acknowledged %" PRIu64 " before the read", k + 1, v->index,
                    *start - 1);
        S.st.reads++;
      }
      *start = 0;
      continue;
    }
    trace("n%d event %u req %" PRIu64 " index %" PRIu64 " status %d", k + 1, v->type, v->req_id, v->index, v->status);
    /* COMMITTED / FAILED */
    uint64_t *s = map_slot(&S.subs, ((uint64_t)(k + 1) << 40 | v->req_id) + 1, 0);
    if (!s || *s != 1) violation("node %d: second outcome for req %" PRIu64, k + 1, v->req_id);
    n->outstanding--;
    if (v->type == RAFT_EV_COMMITTED) {
      if (v->index > S.gcommit || S.g[v->index].origin != (uint64_t)(k + 1) || S.g[v->index].req != v->req_id)
        violation("node %d: req %" PRIu64 " acknowledged at %" PRIu64 " but another entry is committed there", k + 1, v->req_id,
                  v->index);
      if (v->index > S.ack_max) S.ack_max = v->index;
      if (!durable_has(n, v->index, S.g[v->index].term)) S.st.early_acks++;
      *s = 3;
      S.st.acks++;
      if (v->req_id == S.probe_req && k == S.probe_node) S.probe_index = v->index;
    } else {
      *s = 4;
      S.st.fails++;
      if (v->req_id == S.probe_req && k == S.probe_node) S.probe_req = 0;
    }
  }
  /* 4. send */
  for (size_t i = 0; i < rd.n_msgs; i++) net_send(&rd.msgs[i]);
  raft_ready_done(n->r, &rd);
  check_leader_completeness(k);
}

/* ---- network ----------------------------------------------------------------------------- */
static void net_send(const raft_msg *m) {
  snode *to = node_of(m->to);
  S.st.msgs++;
  if (!to || S.blocked[m->from - 1][m->to - 1] || chance(S.loss)) { S.st.dropped++; return; }
  mm_buf_reset(&S.enc);
  if (raft_msg_encode(m, &S.enc) != MM_OK) violation("encode failed");
  int copies = chance(S.dup) ? 2 : 1;
  for (int c = 0; c < copies; c++) {
    uint64_t d = S.dmin + rn(S.dmax - S.dmin + 1);
    if (rn(1000) < S.slow_p1000) d += rn(100 * MS);
    unsigned char *b = malloc(S.enc.len);
    memcpy(b, S.enc.p, S.enc.len);
    push(S.now + d, EV_DELIVER, (int)m->to - 1, 0, b, S.enc.len);
  }
}

/* ---- node lifecycle ------------------------------------------------------------------------ */
static void node_start(int k) {
  snode *n = &S.n[k];
  raft_options o = {.id = (raft_id)(k + 1), .election_ticks = 10, .heartbeat_ticks = 2,
                    .max_inflight = 1 + (uint32_t)rn(16), .max_batch_entries = chance(0.5) ? 1 + (uint32_t)rn(4) : 64,
                    .seed = rnd()};
  n->r = raft_new(&o);
  if (!n->r) violation("raft_new failed");
  int rc = raft_load(n->r, n->term, n->vote, &n->snap, n->dur, n->ndur, n->snap.index);
  if (rc != MM_OK) violation("node %d: raft_load: %s", k + 1, mm_strerror(rc));
  n->up = 1;
  n->exists = 1;
  n->gen++;
  n->fsync_busy = 0;
  if (n->snap.index > S.gcommit) violation("node %d: stored snapshot beyond commit", k + 1);
  mirror_reset_to(n, n->snap.index);
  for (size_t i = 0; i < n->ndur; i++) mirror_append(n, k + 1, &n->dur[i]);
  n->applied = n->snap.index;
  n->app_chain = S.g[n->snap.index].chain;
  n->outstanding = 0;
  push(S.now + rn(n->tick_us) + 1, EV_TICK, k, n->gen, NULL, 0);
  trace("n%d starts: term %" PRIu64 " snap %" PRIu64 " entries %zu", k + 1, n->term, n->snap.index, n->ndur);
}

static void node_crash(int k) {
  snode *n = &S.n[k];
  if (!n->up) return;
  /* Writes not yet fsynced: a random prefix reached the disk. */
  size_t keep = rn(n->nops + 1);
  ops_apply(n, keep);
  {
    raft_status st;
    raft_get_status(n->r, &st);
    for (raft_index i = MM_MAX(n->snap.index + 1, 1); i <= MM_MIN(st.commit, S.gcommit); i++)
      if (!durable_has(n, i, S.g[i].term)) { S.st.lost_commits++; break; }
  }
  for (size_t i = 0; i < n->nops; i++) if (n->ops[i].kind == OP_APPEND) raft_entry_unref(&n->ops[i].e);
  n->nops = 0;
  raft_free(n->r);
  n->r = NULL;
  n->up = 0;
  n->gen++;
  n->fsync_busy = 0;
  S.st.crashes++;
  trace("n%d crashes (kept %zu unsynced writes)", k + 1, keep);
}

static void node_destroy(int k) {
  snode *n = &S.n[k];
  if (n->r) raft_free(n->r);
  for (size_t i = 0; i < n->ndur; i++) raft_entry_unref(&n->dur[i]);
  for (size_t i = 0; i < n->nops; i++) if (n->ops[i].kind == OP_APPEND) raft_entry_unref(&n->ops[i].e);
  free(n->dur);
  free(n->ops);
  free(n->chain);
  free(n->mterm);
  memset(n, 0, sizeof *n);
}

/* ---- helpers -------------------------------------------------------------------------------- */
static int find_leader(void) {
  int best = -1;
  raft_term bt = 0;
  for (int k = 0; k < S.nslots; k++) {
    if (!S.n[k].up) continue;
    raft_status st;
    raft_get_status(S.n[k].r, &st);
    if (st.role == RAFT_LEADER && st.term >= bt) { best = k; bt = st.term; }
  }
  return best;
}

static int random_up(void) {
  int c[MAXN], nc = 0;
  for (int k = 0; k < S.nslots; k++) if (S.n[k].up) c[nc++] = k;
  return nc ? c[rn(nc)] : -1;
}

static int client_submit(int k) {
  snode *n = &S.n[k];
  uint64_t req = ++n->next_req;
  unsigned char data[80];
  uint32_t len = 16 + (uint32_t)rn(64);
  mm_put_u64le(data, (uint64_t)(k + 1));
  mm_put_u64le(data + 8, req);
  for (uint32_t i = 16; i < len; i++) data[i] = (unsigned char)rnd();
  int rc = raft_submit(n->r, req, data, len);
  trace("n%d submit req %" PRIu64 ": %s", k + 1, req, mm_strerror(rc));
  if (rc == MM_OK) {
    *map_slot(&S.subs, ((uint64_t)(k + 1) << 40 | req) + 1, 1) = 1;
    n->outstanding++;
  } else if (rc != MM_EAGAIN) {
    violation("node %d: raft_submit: %s", k + 1, mm_strerror(rc));
  }
  process(k);
  return rc == MM_OK ? (int)req : 0;
}

/* ---- chaos actions ----------------------------------------------------------------------------- */
static void heal_net(void) {
  memset(S.blocked, 0, sizeof S.blocked);
}

static void action(void) {
  int L = find_leader();
  uint64_t what = rn(100);
  if (what < 12) { /* symmetric partition */
    heal_net();
    uint32_t side = (uint32_t)rnd();
    for (int a = 0; a < S.nslots; a++)
      for (int b = 0; b < S.nslots; b++)
        if (((side >> a) & 1) != ((side >> b) & 1)) S.blocked[a][b] = 1;
    S.st.partitions++;
    trace("partition %x", side & ((1u << S.nslots) - 1));
  } else if (what < 20) { /* one-way: isolate sending (or receiving) of one node, or one link */
    int a = (int)rn(S.nslots), b = (int)rn(S.nslots);
    if (chance(0.5)) {
      for (int x = 0; x < S.nslots; x++) {
        if (chance(0.5)) S.blocked[a][x] = 1; else S.blocked[x][a] = 1;
      }
    } else {
      S.blocked[a][b] = 1;
    }
    S.st.partitions++;
    trace("one-way block around n%d", a + 1);
  } else if (what < 35) {
    heal_net();
    trace("heal");
  } else if (what < 45) { /* crash (the leader half the time: its unsynced tail may hold committed entries) */
    int k = L >= 0 && chance(0.5) ? L : random_up();
    if (k >= 0) node_crash(k);
  } else if (what < 57) { /* restart */
    int c[MAXN], nc = 0;
    for (int k = 0; k < S.nslots; k++) if (S.n[k].exists && !S.n[k].up) c[nc++] = k;
    if (nc) {
      S.st.restarts++;
      int k = c[rn(nc)];
      node_start(k);
      process(k);
    }
  } else if (what < 63) { /* network parameters */
    S.loss = chance(0.5) ? 0 : (double)rn(30) / 100.0;
    S.dup = chance(0.6) ? 0 : (double)rn(10) / 100.0;
    S.dmin = rn(3 * MS) + 100;
    S.dmax = S.dmin + rn(30 * MS);
    S.slow_p1000 = chance(0.5) ? 0 : rn(50);
    trace("net loss %.2f dup %.2f delay %" PRIu64 "-%" PRIu64 "us", S.loss, S.dup, S.dmin, S.dmax);
  } else if (what < 66) { /* clock drift */
    int k = (int)rn(S.nslots);
    S.n[k].tick_us = TICK_US * (80 + rn(41)) / 100;
  } else if (what < 78) { /* membership */
    if (L < 0) return;
    raft_status st;
    raft_get_status(S.n[L].r, &st);
    int voters = 0, learners[MAXN], nl = 0;
    for (uint32_t i = 0; i < st.conf.n; i++) {
      if (st.conf.m[i].voter) voters++;
      else learners[nl++] = (int)st.conf.m[i].id;
    }
    uint64_t req = ++S.n[L].next_req;
    int op = 0;
    raft_id id = 0;
    uint64_t c = rn(3);
    if (c == 0 && st.conf.n < RAFT_MAX_MEMBERS) {
      int cand[MAXN], ncand = 0;
      for (int k = 0; k < S.nslots; k++) if (!raft_config_has(&st.conf, (raft_id)(k + 1))) cand[ncand++] = k;
      if (!ncand) return;
      int k = cand[rn(ncand)];
      if (!S.n[k].exists) node_start(k); /* fresh member with an empty configuration */
      op = RAFT_CHANGE_ADD_LEARNER;
      id = (raft_id)(k + 1);
    } else if (c == 1 && nl && voters < 7) {
      op = RAFT_CHANGE_PROMOTE;
      id = (raft_id)learners[rn(nl)];
    } else if (c == 2 && st.conf.n > 1) {
      op = RAFT_CHANGE_REMOVE;
      id = st.conf.m[rn(st.conf.n)].id;
    } else {
      return;
    }
    int rc = raft_change(S.n[L].r, op, id, req);
    trace("n%d change op %d id %" PRIu64 ": %s", L + 1, op, id, mm_strerror(rc));
    if (rc == MM_OK) {
      *map_slot(&S.subs, ((uint64_t)(L + 1) << 40 | req) + 1, 1) = 1;
      S.n[L].outstanding++;
      S.st.confchanges++;
    }
    process(L);
  } else if (what < 84) { /* leadership transfer */
    if (L < 0) return;
    raft_status st;
    raft_get_status(S.n[L].r, &st);
    raft_id t = st.conf.m[rn(st.conf.n)].id;
    int rc = raft_transfer(S.n[L].r, t);
    trace("n%d transfer to %" PRIu64 ": %s", L + 1, t, mm_strerror(rc));
    if (rc == MM_OK) S.st.transfers++;
    process(L);
  } else if (what < 94) { /* ReadIndex */
    for (int i = 0; i < 3; i++) {
      int k = random_up();
      if (k < 0) return;
      uint64_t ctx = ++S.n[k].next_ctx;
      int rc = raft_read_index(S.n[k].r, ctx);
      if (rc == MM_OK) *map_slot(&S.reads, ((uint64_t)(k + 1) << 40 | ctx) + 1, 1) = S.ack_max + 1;
      process(k);
    }
  } else { /* compaction */
    int k = random_up();
    if (k < 0) return;
    raft_status st;
    raft_get_status(S.n[k].r, &st);
    raft_index at = st.applied > 5 ? st.applied - rn(5) : st.applied;
    raft_snapshot snap;
    if (at > st.snap_index && raft_compact(S.n[k].r, at, &snap) == MM_OK) {
      /* The driver stores the metadata durably, then may delete entries. */
      snode *n = &S.n[k];
      /* durable entries up to at are fsynced (at <= applied <= stable) */
      n->snap = snap;
      size_t drop = 0;
      while (drop < n->ndur && n->dur[drop].index <= at) raft_entry_unref(&n->dur[drop++]);
      if (n->ndur > drop) memmove(n->dur, n->dur + drop, (n->ndur - drop) * sizeof(raft_entry));
      n->ndur -= drop;
      n->base = at;
      S.st.compactions++;
      trace("n%d compacts to %" PRIu64, k + 1, at);
    }
  }
}

/* ---- heal phase ----------------------------------------------------------------------------- */
static void heal_check(void) {
  int L = find_leader();
  if (!S.converged) {
    if (S.probe_index == 0) {
      if (!S.probe_req && L >= 0) {
        raft_status ls;
        raft_get_status(S.n[L].r, &ls);
        int k = (int)ls.conf.m[rn(ls.conf.n)].id - 1;
        if (!S.n[k].up) return;
        S.probe_req = (uint64_t)client_submit(k);
        S.probe_node = k;
      }
      return;
    }
    if (L < 0) return;
    raft_status ls;
    raft_get_status(S.n[L].r, &ls);
    for (uint32_t i = 0; i < ls.conf.n; i++) {
      snode *n = node_of(ls.conf.m[i].id);
      if (!n || !n->up || n->applied < S.probe_index) return;
    }
    S.converged = 1;
    S.converged_at = S.now;
    trace("converged: probe %" PRIu64 " applied everywhere", S.probe_index);
    return;
  }
  if (S.now < S.converged_at + 1 * SEC || L < 0) return;
  raft_status ls;
  raft_get_status(S.n[L].r, &ls);
  if (ls.commit != ls.last) return;
  for (uint32_t i = 0; i < ls.conf.n; i++) {
    snode *n = node_of(ls.conf.m[i].id);
    if (!n || !n->up || n->applied != ls.commit || n->outstanding) return;
  }
  S.deadline = 0; /* done */
}

/* ---- one seed ------------------------------------------------------------------------------ */
static void run_seed(uint64_t seed) {
  memset(&S.n, 0, sizeof S.n);
  S.seed = seed;
  rng_s = seed * 0x2545F4914F6CDD1Dull + 1;
  S.now = 0;
  S.nheap = 0;
  S.gcommit = 0;
  memset(&S.st, 0, sizeof S.st);
  memset(S.blocked, 0, sizeof S.blocked);
  if (S.nleader_of) memset(S.leader_of, 0, S.nleader_of * sizeof(raft_id));
  gat(0)->term = 0;
  memset(S.g, 0, S.gcap * sizeof(gent));
  map_free(&S.lm);
  map_free(&S.subs);
  map_free(&S.reads);
  S.ack_max = 0;
  S.healing = 0;
  S.converged = 0;
  S.probe_index = 0;
  S.probe_req = 0;
  S.loss = 0;
  S.dup = 0;
  S.dmin = 200;
  S.dmax = 5 * MS;
  S.slow_p1000 = 0;

  int voters = 1 + (int)rn(7);
  S.nslots = voters + (int)rn(MAXN - voters + 1);
  raft_config conf = {0};
  for (int k = 0; k < voters; k++) {
    conf.m[conf.n].id = (raft_id)(k + 1);
    conf.m[conf.n].voter = 1;
    conf.n++;
  }
  for (int k = 0; k < S.nslots; k++) {
    S.n[k].tick_us = TICK_US * (80 + rn(41)) / 100; /* clock skew +-20% */
    S.n[k].fsync_us = 200 + rn(3000);
  }
  for (int k = 0; k < voters; k++) {
    S.n[k].snap.conf = conf;
    node_start(k);
  }
  uint64_t chaos = (3 + rn(5)) * SEC;
  uint64_t client_gap = 2 * MS + rn(20 * MS);
  push(100 * MS, EV_ACTION, 0, 0, NULL, 0);
  push(10 * MS, EV_CLIENT, 0, 0, NULL, 0);
  S.heal_at = chaos;
  S.deadline = chaos + 10 * SEC;
  push(chaos, EV_HEALCHK, 0, 0, NULL, 0);
  trace("seed %" PRIu64 ": %d voters, %d slots, chaos %.1fs", seed, voters, S.nslots, chaos / 1e6);

  while (S.nheap && S.deadline) {
    ev e = pop();
    S.now = e.t;
    if (S.now > S.deadline) {
      free(e.buf);
      int L = find_leader();
      for (int k = 0; k < S.nslots; k++) {
        if (!S.n[k].up) continue;
        raft_status st;
        raft_get_status(S.n[k].r, &st);
        printf("  n%d %s term %" PRIu64 " leader %" PRIu64 " commit %" PRIu64 " applied %" PRIu64 " last %" PRIu64
               " outstanding %d conf", k + 1, raft_role_name(st.role), st.term, st.leader, st.commit, st.applied, st.last,
               S.n[k].outstanding);
        for (uint32_t i = 0; i < st.conf.n; i++) printf(" %" PRIu64 "%s", st.conf.m[i].id, st.conf.m[i].voter ? "" : "L");
        printf("\n");
      }
      for (size_t i = 0; i < S.subs.cap; i++)
        if (S.subs.k[i] && S.subs.v[i] == 1)
          printf("  unresolved: node %" PRIu64 " req %" PRIu64 "\n", (S.subs.k[i] - 1) >> 40, (uint64_t)((S.subs.k[i] - 1) & ((1ull << 40) - 1)));
      violation("liveness: not converged %.1fs after healing (leader %d, probe %" PRIu64 ", converged %d, commit %" PRIu64 ")",
                (S.deadline - S.heal_at) / 1e6, L + 1, S.probe_index, S.converged, S.gcommit);
    }
    S.st.steps++;
    snode *n = e.type == EV_ACTION || e.type == EV_CLIENT || e.type == EV_HEALCHK ? NULL : &S.n[e.node];
    switch (e.type) {
    case EV_TICK:
      if (!n->up || e.gen != n->gen) break;
      raft_tick(n->r);
      process(e.node);
      push(S.now + n->tick_us, EV_TICK, e.node, n->gen, NULL, 0);
      break;
    case EV_FSYNC:
      if (!n->up || e.gen != n->gen) break;
      n->fsync_busy = 0;
      ops_apply(n, n->fsync_upto);
      if (n->ndur) raft_persisted(n->r, n->dur[n->ndur - 1].index, n->dur[n->ndur - 1].term);
      process(e.node);
      start_fsync(e.node);
      break;
    case EV_DELIVER: {
      if (n->up) {
        raft_msg m;
        if (raft_msg_decode(e.buf, e.len, &m) != MM_OK) violation("decode of an encoded message failed");
        int rc = raft_step(n->r, &m);
        if (rc != MM_OK && rc != MM_EINVAL) violation("node %d: raft_step: %s", e.node + 1, mm_strerror(rc));
        process(e.node);
        raft_msg_release(&m);
      }
      free(e.buf);
      break;
    }
    case EV_ACTION:
      if (!S.healing) {
        action();
        push(S.now + 20 * MS + rn(300 * MS), EV_ACTION, 0, 0, NULL, 0);
      }
      break;
    case EV_CLIENT: {
      int k = random_up();
      if (k >= 0 && (!S.healing || !S.converged)) client_submit(k);
      push(S.now + (S.healing ? 20 * MS : client_gap / 2 + rn(client_gap)), EV_CLIENT, 0, 0, NULL, 0);
      break;
    }
    case EV_HEALCHK:
      if (!S.healing) {
        S.healing = 1;
        heal_net();
        S.loss = S.dup = 0;
        S.dmin = 200;
        S.dmax = 2 * MS;
        S.slow_p1000 = 0;
        trace("---- heal: network whole, everyone restarted");
        for (int k = 0; k < S.nslots; k++)
          if (S.n[k].exists && !S.n[k].up) { node_start(k); process(k); }
      } else {
        heal_check();
      }
      if (S.deadline) push(S.now + 50 * MS, EV_HEALCHK, 0, 0, NULL, 0);
      break;
    }
  }
  /* final: cores agree with the mirrors */
  for (int k = 0; k < S.nslots; k++) {
    snode *n = &S.n[k];
    if (!n->up) continue;
    raft_status st;
    raft_get_status(n->r, &st);
    for (raft_index i = st.first; i <= st.last; i++)
      if (raft_term_at(n->r, i) != n->mterm[i]) violation("node %d: mirror term differs at %" PRIu64, k + 1, i);
  }
  while (S.nheap) free(pop().buf);
  for (int k = 0; k < MAXN; k++) node_destroy(k);
  TOT.seeds++;
  TOT.steps += S.st.steps;
  TOT.msgs += S.st.msgs;
  TOT.dropped += S.st.dropped;
  TOT.elections += S.st.elections;
  TOT.commits += S.st.commits;
  TOT.applied += S.st.applied;
  TOT.acks += S.st.acks;
  TOT.fails += S.st.fails;
  TOT.reads += S.st.reads;
  TOT.snaps += S.st.snaps;
  TOT.crashes += S.st.crashes;
  TOT.restarts += S.st.restarts;
  TOT.partitions += S.st.partitions;
  TOT.confchanges += S.st.confchanges;
  TOT.transfers += S.st.transfers;
  TOT.compactions += S.st.compactions;
  TOT.early_commits += S.st.early_commits;
  TOT.early_acks += S.st.early_acks;
  TOT.lost_commits += S.st.lost_commits;
  TOT.sim_us += S.now;
  if (S.verbose)
    printf("seed %" PRIu64 " ok: %" PRIu64 " commits, %" PRIu64 " acks, %" PRIu64 " elections\n", seed, S.st.commits,
           S.st.acks, S.st.elections);
}

static void usage(void) {
  fprintf(stderr, "usage: raft-sim --seeds A-B [--jobs N] [-v] | --seed S [-v]\n");
  exit(2);
}

int main(int argc, char **argv) {
  uint64_t a = 0, b = 0;
  int have = 0, jobs = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
      if (sscanf(argv[++i], "%" SCNu64 "-%" SCNu64, &a, &b) != 2 || b < a) usage();
      have = 1;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      a = b = strtoull(argv[++i], NULL, 10);
      have = 1;
    } else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) {
      jobs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "-v")) {
      S.verbose = 1;
    } else {
      usage();
    }
  }
  if (!have) usage();
  if (jobs <= 0) {
    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    jobs = nc > 0 ? (int)nc : 1;
  }
  if (a == b || S.verbose) jobs = 1;
  mm_buf_init(&S.enc);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  printf("raft-sim: seeds %" PRIu64 "-%" PRIu64 ", %d job(s); checking Election Safety, Log Matching, Leader Completeness,\n"
         "  State Machine Safety, commit durability (majority on disk),\n  acknowledged entries, ReadIndex, and liveness after healing\n", a, b, jobs);
  fflush(stdout);
  int pipes[64][2];
  pid_t pids[64];
  if (jobs > 64) jobs = 64;
  for (int j = 0; j < jobs; j++) {
    if (jobs > 1) {
      if (pipe(pipes[j]) != 0) return 2;
      pids[j] = fork();
      if (pids[j] < 0) return 2;
      if (pids[j] > 0) { close(pipes[j][1]); continue; }
      close(pipes[j][0]);
    }
    for (uint64_t s = a + (uint64_t)j; s <= b; s += (uint64_t)jobs) run_seed(s);
    if (jobs > 1) {
      ssize_t w = write(pipes[j][1], &TOT, sizeof TOT);
      _exit(w == (ssize_t)sizeof TOT ? 0 : 3);
    }
  }
  int failed = 0;
  if (jobs > 1) {
    typeof(TOT) sum = {0};
    for (int j = 0; j < jobs; j++) {
      typeof(TOT) part;
      ssize_t r = read(pipes[j][0], &part, sizeof part);
      int status = 0;
      waitpid(pids[j], &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r != (ssize_t)sizeof part) { failed = 1; continue; }
      uint64_t *d = (uint64_t *)&sum, *p = (uint64_t *)&part;
      for (size_t i = 0; i < sizeof sum / 8; i++) d[i] += p[i];
    }
    TOT = sum;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("raft-sim: %" PRIu64 " seeds passed in %.1fs (%.0f simulated s)\n"
         "  %" PRIu64 " steps checked, %" PRIu64 " messages (%" PRIu64 " dropped), %" PRIu64 " leaders elected\n"
         "  %" PRIu64 " entries committed, %" PRIu64 " applied, %" PRIu64 " acknowledged, %" PRIu64 " failed with retry\n"
         "  %" PRIu64 " reads verified, %" PRIu64 " snapshots installed, %" PRIu64 " compactions\n"
         "  %" PRIu64 " crashes, %" PRIu64 " restarts, %" PRIu64 " partitions, %" PRIu64 " membership changes, %" PRIu64
         " transfers\n"
         "  leader not yet durable: %" PRIu64 " commits, %" PRIu64 " acknowledgements; %" PRIu64
         " leader crashes lost committed entries locally\n",
         TOT.seeds, secs, TOT.sim_us / 1e6, TOT.steps, TOT.msgs, TOT.dropped, TOT.elections, TOT.commits, TOT.applied,
         TOT.acks, TOT.fails, TOT.reads, TOT.snaps, TOT.compactions, TOT.crashes, TOT.restarts, TOT.partitions,
         TOT.confchanges, TOT.transfers, TOT.early_commits, TOT.early_acks, TOT.lost_commits);
  if (failed) printf("raft-sim: FAILED (see VIOLATION above)\n");
  return failed ? 1 : 0;
}
