/*
 * raft/raft_node.c - node driver: feeds the core from the network, the tick
 * timer, client submissions and disk completions, and carries out each
 * ready batch in the order raft.h prescribes.  See raft_node.h.
 *
 * Threads.  The commit path has one hand-off per fsync group in each
 * direction (driver -> sync thread -> driver); a submitter costs the driver
 * no wake-up while it is busy:
 *
 *   driver  epoll loop; the only thread touching the core, the transport
 *           and the callback table.  Carries out a ready batch inline:
 *           hard state / snapshot (durable when the call returns), the
 *           messages (encoded straight into the per-peer send queues, one
 *           send() per peer per batch), then truncation and appends
 *           (written into the page cache: a pwrite, not synced), applied
 *           entries and events (callbacks).
 *   sync    one fdatasync at a time covering everything written before it
 *           began (raft_log_sync_begin/finish); everything the driver
 *           writes meanwhile goes into the next one (group commit).  Reports
 *           the durable (index, term); the driver feeds raft_persisted in
 *           its next iteration, so a follower's APPEND_RESP leaves then.
 *   zero    keeps the last segment preallocated with zeros ahead of the
 *           appends (raft_log_zero_*), off the driver and the fdatasyncs.
 *
 * Submissions: raft_node_submit pushes onto a lock-free stack (one
 * allocation with the data inline, one compare-and-swap); the driver takes
 * the whole stack with one exchange.  No lock is shared between submitters
 * and the driver (the status has its own).
 *
 * Wake-ups: submitters, the sync thread and raft_node_transfer set a bit in
 * `pending` and write the eventfd only if the driver sleeps in epoll_wait
 * (`sleeping`): the driver sets `sleeping` and then re-reads `pending`
 * before it blocks, the wakers set `pending` and then read `sleeping` (both
 * sequentially consistent), so either the driver sees the work or the waker
 * sees it asleep.
 *
 * (Measured and rejected, on the 2-core benchmark machine: delivering the
 * callbacks from a separate thread, letting submitters drive the core
 * themselves under a lock, and two overlapping fdatasyncs per member: each
 * cost more in extra hand-offs or smaller batches than it saved.)
 *
 * Invariants:
 *   - only the driver thread touches r, net and the callback table;
 *   - the raft_log is touched only under lmu: the driver appends, truncates
 *     and writes metadata, the sync thread takes sync sets, the zero thread
 *     begins and ends its zeroing; the fdatasync and the zero writes run
 *     outside the lock;
 *   - syncs run one at a time, so a report covers every earlier one;
 *   - messages of a ready batch leave only after its hard state/snapshot is
 *     durable (written synchronously before they are queued).
 */
#include "raft/raft_node.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "raft/raft_codec.h"
#include "raft/raft_log.h"
#include "raft/raft_net.h"
#include "util/mm.h"

#define STOPPING(n) __atomic_load_n(&(n)->stop, __ATOMIC_ACQUIRE)

/* A submission waiting for the driver: pushed by raft_node_submit onto a
 * lock-free stack (one allocation, data inline), taken all at once. */
typedef struct sub {
  struct sub *next;
  raft_node_done_fn done;
  void *arg;
  uint32_t len;
  unsigned char data[];
} sub;

typedef struct cbslot { uint64_t req; raft_node_done_fn done; void *arg; } cbslot;

struct tagged { int tag; };
enum { TAG_TIMER = 1, TAG_WAKE };

/* Work for the driver (bits of raft_node.pending). */
enum { P_SUBS = 1, P_SYNC = 2, P_TRANSFER = 4 };

struct raft_node {
  raft_node_config c;
  char *dir, *host;
  raft *r;
  raft_log *log;
  raft_net *net;
  int epfd, tfd, efd;
  struct tagged timer_tag, wake_tag;
  pthread_t thr, ythr, zthr;
  int started_thr, started_ythr, started_zthr;
  int stop; /* set once by raft_node_stop; read with STOPPING() */
  int failed;
  int pending;  /* P_* bits (atomic) */
  int sleeping; /* the driver is in, or about to enter, a blocking epoll_wait (atomic) */

  pthread_mutex_t lmu; /* the raft_log, between the driver, the sync and the zero thread */
  pthread_cond_t zcv;  /* (with lmu) the log wants zeroing ahead: raft_log_zero_needed */
  pthread_cond_t lcv;  /* (with lmu) a background zeroing finished */

  sub *subs;          /* stack of submissions, newest first (atomic) */
  raft_id transfer;   /* requested transfer target (atomic) */
  pthread_mutex_t mu; /* status */
  raft_status status;

  pthread_mutex_t ymu; /* sync thread state */
  pthread_cond_t ycv;
  int y_want;          /* written since the sync thread last began a sync */
  int y_idle;          /* the sync thread waits on ycv */
  raft_index p_index;
  raft_term p_term;
  int p_new;
  int y_err;

  uint64_t next_req;
  cbslot *cbs;
  size_t cbcap, cbn;
};

/* ---- callback table --------------------------------------------------------------
 * Request ids are consecutive, so slot = req & (cap-1); the table doubles
 * whenever the span of outstanding ids would make two share a slot. */
static int cb_put(raft_node *n, uint64_t req, raft_node_done_fn done, void *arg) {
  while (!n->cbcap || n->cbs[req & (n->cbcap - 1)].req) {
    size_t nc = n->cbcap ? n->cbcap * 2 : 1024;
    cbslot *t = mm_calloc(nc, sizeof *t);
    if (!t) return MM_ENOMEM;
    for (size_t i = 0; i < n->cbcap; i++)
      if (n->cbs[i].req) t[n->cbs[i].req & (nc - 1)] = n->cbs[i];
    mm_free(n->cbs);
    n->cbs = t;
    n->cbcap = nc;
  }
  n->cbs[req & (n->cbcap - 1)] = (cbslot){req, done, arg};
  n->cbn++;
  return MM_OK;
}

static int cb_take(raft_node *n, uint64_t req, cbslot *out) {
  if (!n->cbcap) return 0;
  cbslot *s = &n->cbs[req & (n->cbcap - 1)];
  if (s->req != req) return 0;
  *out = *s;
  s->req = 0;
  n->cbn--;
  return 1;
}

/* ---- wake-ups --------------------------------------------------------------------- */

/* "raft<id>-<role>" (Linux limits names to 15 characters): for top/perf. */
static void name_thread(raft_node *n, const char *role) {
  char name[16];
  snprintf(name, sizeof name, "raft%llu-%s", (unsigned long long)(n->c.id % 1000), role);
  pthread_setname_np(pthread_self(), name);
}

static void wake_driver(raft_node *n, int bit) {
  __atomic_fetch_or(&n->pending, bit, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&n->sleeping, __ATOMIC_SEQ_CST)) {
    uint64_t one = 1;
    ssize_t w = write(n->efd, &one, 8);
    (void)w;
  }
}

/* ---- sync thread ------------------------------------------------------------------- */

/* One fdatasync at a time, covering everything written before it began;
 * reports raft_persisted(index, term) to the driver as soon as it returns
 * (followers acknowledge from there). */
static void *sync_main(void *arg) {
  raft_node *n = arg;
  name_thread(n, "sync");
  for (;;) {
    pthread_mutex_lock(&n->ymu);
    while (!n->y_want && !STOPPING(n)) {
      n->y_idle = 1;
      pthread_cond_wait(&n->ycv, &n->ymu);
      n->y_idle = 0;
    }
    int want = n->y_want;
    n->y_want = 0;
    pthread_mutex_unlock(&n->ymu);
    if (!want) break; /* stopping */
    raft_log_syncset ss;
    pthread_mutex_lock(&n->lmu);
    int rc = raft_log_sync_begin(n->log, &ss);
    pthread_mutex_unlock(&n->lmu);
    if (rc == MM_OK) rc = raft_log_sync_finish(&ss);
    pthread_mutex_lock(&n->ymu);
    if (rc != MM_OK) {
      n->y_err = rc;
    } else {
      n->p_index = ss.index;
      n->p_term = ss.term;
      n->p_new = 1;
    }
    pthread_mutex_unlock(&n->ymu);
    wake_driver(n, P_SYNC);
    if (rc != MM_OK) break; /* the log failed (sticky): the driver stops acting */
  }
  return NULL;
}

/* Keeps zeros ahead of the appends (raft_log_zero_*), so that neither the
 * driver nor the fdatasyncs pay for writing them. */
static void *zero_main(void *arg) {
  raft_node *n = arg;
  name_thread(n, "zero");
  pthread_mutex_lock(&n->lmu);
  for (;;) {
    while (!STOPPING(n) && !raft_log_zero_needed(n->log)) pthread_cond_wait(&n->zcv, &n->lmu);
    if (STOPPING(n)) break;
    int rc = raft_log_zero_step(n->log, &n->lmu, &n->lcv);
    if (rc == MM_EBUSY) { /* (no descriptor left) retry after the next append */
      pthread_cond_wait(&n->zcv, &n->lmu);
      continue;
    }
    if (rc != MM_OK) break; /* the device fails: the appends will tell */
  }
  pthread_mutex_unlock(&n->lmu);
  return NULL;
}

/* After the driver wrote (appended or truncated): the sync thread makes it
 * durable, now if idle, else right after the fdatasync in progress. */
static void want_sync(raft_node *n) {
  pthread_mutex_lock(&n->ymu);
  n->y_want = 1;
  if (n->y_idle) pthread_cond_signal(&n->ycv);
  pthread_mutex_unlock(&n->ymu);
}

/* ---- driver ------------------------------------------------------------------------- */
static void fatal(raft_node *n, const char *what, int rc) {
  if (!n->failed) mm_log_error("raft node %llu: %s: %s; stopping", (unsigned long long)n->c.id, what, mm_strerror(rc));
  __atomic_store_n(&n->failed, rc ? rc : MM_EIO, __ATOMIC_RELAXED);
}

static void on_frame(void *arg, const unsigned char *p, size_t len) {
  raft_node *n = arg;
  raft_msg m;
  if (raft_msg_decode(p, len, &m) != MM_OK) return;
  if (!n->failed) {
    int rc = raft_step(n->r, &m);
    if (rc == MM_ENOMEM) fatal(n, "raft_step", rc);
  }
  raft_msg_release(&m);
}

static void finish(raft_node *n, uint64_t req, int status, raft_index idx) {
  cbslot s;
  if (cb_take(n, req, &s)) s.done(s.arg, status, idx);
}

/* Steps 1-2 of a ready batch: durable when raft_log_set_* return. */
static int store_meta(raft_node *n, const raft_ready *rd) {
  int rc = MM_OK;
  const char *what = NULL;
  pthread_mutex_lock(&n->lmu);
  if (rd->snap_installed && (rc = raft_log_set_snapshot(n->log, &rd->snap)) != MM_OK) what = "snapshot";
  if (!what && rd->hs_changed && (rc = raft_log_set_hard_state(n->log, rd->term, rd->vote)) != MM_OK)
    what = "hard state";
  pthread_mutex_unlock(&n->lmu);
  if (what) fatal(n, what, rc);
  return rc;
}

/* Step 3: truncate and append, written but not synced (the sync thread
 * makes them durable and reports back). */
static int store_entries(raft_node *n, const raft_ready *rd) {
  int rc = MM_OK;
  const char *what = NULL;
  pthread_mutex_lock(&n->lmu);
  if (rd->truncate_from && (rc = raft_log_truncate(n->log, rd->truncate_from)) != MM_OK) what = "truncate";
  if (!what && rd->n_persist) {
    while ((rc = raft_log_append(n->log, rd->persist, rd->n_persist)) == MM_EBUSY) /* (rare) */
      pthread_cond_wait(&n->lcv, &n->lmu);
    if (rc != MM_OK) what = "append";
  }
  if (!what && raft_log_zero_needed(n->log)) pthread_cond_signal(&n->zcv);
  pthread_mutex_unlock(&n->lmu);
  if (what) {
    fatal(n, what, rc);
    return rc;
  }
  want_sync(n);
  return MM_OK;
}

/* Steps in raft.h's order, except that the messages leave before the
 * entries are written: nothing in them depends on that write (the core
 * acknowledges and counts entries only once raft_persisted says they are
 * durable, and a leader may replicate before its own fsync: thesis
 * 10.2.1), and this takes the write off the replication path. */
static void process_ready(raft_node *n) {
  raft_ready rd;
  int rc = raft_get_ready(n->r, &rd);
  if (rc != MM_OK) { fatal(n, "raft_get_ready", rc); return; }
  if ((rd.hs_changed || rd.snap_installed) && store_meta(n, &rd) != MM_OK) goto out;
  for (size_t i = 0; i < rd.n_msgs; i++) raft_net_queue_msg(n->net, &rd.msgs[i]);
  if (rd.n_msgs) raft_net_flush(n->net);
  if ((rd.truncate_from || rd.n_persist) && store_entries(n, &rd) != MM_OK) goto out;
  if (n->c.on_apply)
    for (size_t i = 0; i < rd.n_committed; i++) n->c.on_apply(n->c.arg, &rd.committed[i]);
  for (size_t i = 0; i < rd.n_events; i++) {
    raft_event *v = &rd.events[i];
    if (v->type == RAFT_EV_COMMITTED) finish(n, v->req_id, MM_OK, v->index);
    else if (v->type == RAFT_EV_FAILED) finish(n, v->req_id, MM_EAGAIN, 0);
  }
out:
  raft_ready_done(n->r, &rd);
}

/* The durable position the sync thread reported, or its error. */
static void take_persisted(raft_node *n) {
  pthread_mutex_lock(&n->ymu);
  int p_new = n->p_new, y_err = n->y_err;
  raft_index pi = n->p_index;
  raft_term pt = n->p_term;
  n->p_new = 0;
  pthread_mutex_unlock(&n->ymu);
  if (y_err) fatal(n, "disk", y_err);
  if (p_new && !n->failed) raft_persisted(n->r, pi, pt);
}

/* Submissions queued by raft_node_submit, and a requested transfer. */
static void take_subs(raft_node *n) {
  raft_id tr = __atomic_exchange_n(&n->transfer, 0, __ATOMIC_ACQ_REL);
  if (tr && !n->failed) raft_transfer(n->r, tr);
  sub *list = __atomic_exchange_n(&n->subs, NULL, __ATOMIC_ACQUIRE), *fifo = NULL;
  while (list) { /* newest first: reverse into submission order */
    sub *s = list;
    list = s->next;
    s->next = fifo;
    fifo = s;
  }
  while (fifo) {
    sub *s = fifo;
    fifo = s->next;
    uint64_t req = ++n->next_req;
    int rc = n->failed ? MM_EIO : cb_put(n, req, s->done, s->arg);
    if (rc == MM_OK) {
      rc = raft_submit(n->r, req, s->data, s->len);
      if (rc != MM_OK) {
        cbslot tmp;
        cb_take(n, req, &tmp);
      }
    }
    if (rc != MM_OK) s->done(s->arg, rc == MM_EAGAIN ? MM_EAGAIN : rc, 0);
    mm_free(s);
  }
}

static void *driver_main(void *arg) {
  raft_node *n = arg;
  name_thread(n, "drv");
  struct epoll_event evs[64];
  while (!STOPPING(n)) {
    /* Block only if nothing is pending (see the wake-up protocol above). */
    int timeout = 0;
    if (!__atomic_load_n(&n->pending, __ATOMIC_ACQUIRE)) {
      __atomic_store_n(&n->sleeping, 1, __ATOMIC_SEQ_CST);
      if (!__atomic_load_n(&n->pending, __ATOMIC_SEQ_CST)) timeout = 50;
    }
    int k = epoll_wait(n->epfd, evs, 64, timeout);
    __atomic_store_n(&n->sleeping, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < k; i++) {
      struct tagged *t = evs[i].data.ptr;
      if (t->tag == RAFT_NET_TAG) {
        raft_net_event(n->net, t, evs[i].events);
      } else if (t == &n->timer_tag) {
        uint64_t v;
        ssize_t rr = read(n->tfd, &v, 8);
        (void)rr;
        if (!n->failed) raft_tick(n->r);
      } else if (t == &n->wake_tag) {
        uint64_t v;
        ssize_t rr = read(n->efd, &v, 8);
        (void)rr;
      }
    }
    int p = __atomic_exchange_n(&n->pending, 0, __ATOMIC_ACQ_REL);
    if (p & P_SYNC) take_persisted(n);
    if (p & (P_SUBS | P_TRANSFER)) take_subs(n);
    if (!n->failed) process_ready(n);
    pthread_mutex_lock(&n->mu);
    raft_get_status(n->r, &n->status);
    pthread_mutex_unlock(&n->mu);
  }
  return NULL;
}

raft_node *raft_node_start(const raft_node_config *c, int *err) {
  raft_node *n = mm_calloc(1, sizeof *n);
  int rc = MM_ENOMEM;
  if (!n) goto fail_early;
  n->c = *c;
  n->epfd = n->tfd = n->efd = -1;
  pthread_mutex_init(&n->mu, NULL);
  pthread_mutex_init(&n->ymu, NULL);
  pthread_mutex_init(&n->lmu, NULL);
  pthread_cond_init(&n->ycv, NULL);
  pthread_cond_init(&n->zcv, NULL);
  pthread_cond_init(&n->lcv, NULL);
  n->dir = mm_strdup(c->dir);
  n->host = mm_strdup(c->listen_host ? c->listen_host : "127.0.0.1");
  if (!n->dir || !n->host) goto fail;
  n->c.dir = n->dir;
  n->c.listen_host = n->host;
  if (!n->c.tick_ms) n->c.tick_ms = 10;
  if (!n->c.election_ticks) n->c.election_ticks = 30;
  if (!n->c.heartbeat_ticks) n->c.heartbeat_ticks = 5;
  if ((rc = raft_log_open(n->dir, &n->log)) != MM_OK) goto fail;
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  const raft_entry *ents;
  size_t ne;
  int fresh;
  raft_log_state(n->log, &term, &vote, &snap, &ents, &ne, &fresh);
  if (fresh) {
    snap.conf = c->bootstrap;
    if ((rc = raft_log_set_snapshot(n->log, &snap)) != MM_OK) goto fail;
  }
  raft_options o = {.id = c->id, .election_ticks = n->c.election_ticks, .heartbeat_ticks = n->c.heartbeat_ticks,
                    .seed = (uint64_t)mm_wall_us() ^ c->id};
  rc = MM_ENOMEM;
  if (!(n->r = raft_new(&o))) goto fail;
  if ((rc = raft_load(n->r, term, vote, &snap, ents, ne, snap.index)) != MM_OK) goto fail;
  raft_get_status(n->r, &n->status);
  /* Request ids must grow across restarts: start from the wall clock. */
  n->next_req = (uint64_t)mm_wall_us() << 8;
  rc = MM_EIO;
  n->epfd = epoll_create1(EPOLL_CLOEXEC);
  n->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (n->epfd < 0 || n->tfd < 0 || n->efd < 0) goto fail;
  n->timer_tag.tag = TAG_TIMER;
  n->wake_tag.tag = TAG_WAKE;
  struct itimerspec its = {.it_interval = {0, (long)n->c.tick_ms * 1000000L}, .it_value = {0, (long)n->c.tick_ms * 1000000L}};
  timerfd_settime(n->tfd, 0, &its, NULL);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &n->timer_tag};
  epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->tfd, &ev);
  ev.data.ptr = &n->wake_tag;
  epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->efd, &ev);
  n->net = raft_net_new(n->epfd, n->host, c->listen_port, on_frame, n, &rc);
  if (!n->net) goto fail;
  for (int i = 0; i < c->n_peers; i++) raft_net_add_peer(n->net, c->peers[i].id, c->peers[i].host, c->peers[i].port);
  if (pthread_create(&n->zthr, NULL, zero_main, n) != 0) goto fail;
  n->started_zthr = 1;
  if (pthread_create(&n->ythr, NULL, sync_main, n) != 0) goto fail;
  n->started_ythr = 1;
  if (pthread_create(&n->thr, NULL, driver_main, n) != 0) goto fail;
  n->started_thr = 1;
  *err = MM_OK;
  return n;
fail:
  raft_node_stop(n);
fail_early:
  *err = rc;
  return NULL;
}

void raft_node_stop(raft_node *n) {
  if (!n) return;
  __atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
  if (n->started_thr) pthread_join(n->thr, NULL);
  pthread_mutex_lock(&n->ymu);
  pthread_cond_broadcast(&n->ycv);
  pthread_mutex_unlock(&n->ymu);
  if (n->started_ythr) pthread_join(n->ythr, NULL);
  pthread_mutex_lock(&n->lmu);
  pthread_cond_broadcast(&n->zcv);
  pthread_mutex_unlock(&n->lmu);
  if (n->started_zthr) pthread_join(n->zthr, NULL);
  while (n->subs) {
    sub *s = n->subs;
    n->subs = s->next;
    mm_free(s);
  }
  raft_net_free(n->net);
  raft_free(n->r);
  raft_log_close(n->log);
  if (n->epfd >= 0) close(n->epfd);
  if (n->tfd >= 0) close(n->tfd);
  if (n->efd >= 0) close(n->efd);
  mm_free(n->cbs);
  pthread_mutex_destroy(&n->mu);
  pthread_mutex_destroy(&n->ymu);
  pthread_mutex_destroy(&n->lmu);
  pthread_cond_destroy(&n->ycv);
  pthread_cond_destroy(&n->zcv);
  pthread_cond_destroy(&n->lcv);
  mm_free(n->dir);
  mm_free(n->host);
  mm_free(n);
}

int raft_node_submit(raft_node *n, const void *data, uint32_t len, raft_node_done_fn done, void *arg) {
  if (STOPPING(n)) return MM_ECLOSED;
  sub *s = mm_malloc(sizeof *s + len);
  if (!s) return MM_ENOMEM;
  s->done = done;
  s->arg = arg;
  s->len = len;
  memcpy(s->data, data, len);
  s->next = __atomic_load_n(&n->subs, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(&n->subs, &s->next, s, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
  }
  wake_driver(n, P_SUBS);
  return MM_OK;
}

void raft_node_status(raft_node *n, raft_status *st) {
  pthread_mutex_lock(&n->mu);
  *st = n->status;
  pthread_mutex_unlock(&n->mu);
}

void raft_node_transfer(raft_node *n, raft_id target) {
  __atomic_store_n(&n->transfer, target, __ATOMIC_RELEASE);
  wake_driver(n, P_TRANSFER);
}

int raft_node_failed(raft_node *n) { return __atomic_load_n(&n->failed, __ATOMIC_RELAXED); }
