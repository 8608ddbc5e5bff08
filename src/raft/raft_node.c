/*
 * raft/raft_node.c - node driver: feeds the core from the network, the tick
 * timer, client submissions and storage completions, and carries out each
 * ready batch in the order raft.h prescribes.  See raft_node.h.
 *
 * Invariants:
 *   - only the driver thread touches r, net and the callback table;
 *   - the storage thread executes jobs in submission order (so a hard-state
 *     or snapshot job finishing implies every earlier append/truncate was
 *     written); the sync thread makes appends durable: pipelined, the
 *     storage thread writes batch N+1 while the fdatasync of ..N runs, and
 *     every write queued during an fdatasync goes into the next one (group
 *     commit).  Both touch the raft_log only under lmu; the fdatasync itself
 *     runs outside it (raft_log_sync_begin/finish);
 *   - messages of a ready batch leave only after its hard state/snapshot is
 *     durable (the driver waits for that job).
 */
#include "raft/raft_node.h"

#include <errno.h>
#include <pthread.h>
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

enum { J_TRUNC = 1, J_APPEND, J_HS, J_SNAP };
typedef struct job {
  int kind;
  raft_index from;
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  raft_entry *e;
  size_t n;
  struct job *next;
} job;

typedef struct sub {
  void *data;
  uint32_t len;
  raft_node_done_fn done;
  void *arg;
} sub;

typedef struct cbslot { uint64_t req; raft_node_done_fn done; void *arg; } cbslot;

struct tagged { int tag; };
enum { TAG_TIMER = 1, TAG_WAKE };

struct raft_node {
  raft_node_config c;
  char *dir, *host;
  raft *r;
  raft_log *log;
  raft_net *net;
  int epfd, tfd, efd;
  struct tagged timer_tag, wake_tag;
  pthread_t thr, sthr, ythr;
  int started_thr, started_sthr, started_ythr;
  pthread_mutex_t lmu; /* the raft_log, between the storage and sync threads */
  int stop; /* set once by raft_node_stop; read with STOPPING() */
  int failed;

  pthread_mutex_t mu; /* subs, status, transfer */
  sub *subs;
  size_t nsubs, capsubs;
  raft_status status;
  raft_id transfer;

  pthread_mutex_t smu; /* storage queue */
  pthread_cond_t scv, sdone, ycv;
  int y_pending; /* written since the sync thread last began a sync */
  job *jhead, *jtail;
  uint64_t jobs_pushed, jobs_done;
  raft_index p_index;
  raft_term p_term;
  int p_new;
  int s_err;

  uint64_t next_req;
  cbslot *cbs;
  size_t cbcap, cbn;
  mm_buf enc;
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

/* ---- storage thread ---------------------------------------------------------------- */
static void job_free(job *j) {
  for (size_t i = 0; i < j->n; i++) raft_entry_unref(&j->e[i]);
  mm_free(j->e);
  mm_free(j);
}

static void wake_driver(raft_node *n) {
  uint64_t one = 1;
  ssize_t w = write(n->efd, &one, 8);
  (void)w;
}

/* Executes queued jobs: appends and truncations are written (not synced),
 * hard state and snapshot metadata are durable when their job is done. */
static void *storage_main(void *arg) {
  raft_node *n = arg;
  pthread_mutex_lock(&n->smu);
  for (;;) {
    while (!n->jhead && !STOPPING(n)) pthread_cond_wait(&n->scv, &n->smu);
    if (!n->jhead && STOPPING(n)) break;
    job *list = n->jhead;
    n->jhead = n->jtail = NULL;
    pthread_mutex_unlock(&n->smu);
    int rc = MM_OK;
    uint64_t cnt = 0;
    pthread_mutex_lock(&n->lmu);
    for (job *j = list; j; j = j->next, cnt++) {
      if (rc != MM_OK) continue;
      switch (j->kind) {
      case J_TRUNC: rc = raft_log_truncate(n->log, j->from); break;
      case J_APPEND: rc = raft_log_append(n->log, j->e, j->n); break;
      case J_HS: rc = raft_log_set_hard_state(n->log, j->term, j->vote); break;
      case J_SNAP: rc = raft_log_set_snapshot(n->log, &j->snap); break;
      }
    }
    pthread_mutex_unlock(&n->lmu);
    while (list) {
      job *j = list;
      list = j->next;
      job_free(j);
    }
    pthread_mutex_lock(&n->smu);
    if (rc != MM_OK) n->s_err = rc;
    n->jobs_done += cnt;
    n->y_pending = 1;
    pthread_cond_signal(&n->ycv);
    pthread_cond_broadcast(&n->sdone);
    if (rc != MM_OK) wake_driver(n);
  }
  pthread_mutex_unlock(&n->smu);
  return NULL;
}

/* One fdatasync at a time, covering everything written before it began;
 * reports raft_persisted(index, term) to the driver as soon as it returns
 * (followers acknowledge from there). */
static void *sync_main(void *arg) {
  raft_node *n = arg;
  pthread_mutex_lock(&n->smu);
  for (;;) {
    while (!n->y_pending && !STOPPING(n)) pthread_cond_wait(&n->ycv, &n->smu);
    if (!n->y_pending && STOPPING(n)) break;
    n->y_pending = 0;
    pthread_mutex_unlock(&n->smu);
    raft_log_syncset ss;
    pthread_mutex_lock(&n->lmu);
    int rc = raft_log_sync_begin(n->log, &ss);
    pthread_mutex_unlock(&n->lmu);
    if (rc == MM_OK) rc = raft_log_sync_finish(&ss);
    pthread_mutex_lock(&n->smu);
    if (rc != MM_OK) {
      n->s_err = rc;
    } else {
      n->p_index = ss.index;
      n->p_term = ss.term;
      n->p_new = 1;
    }
    wake_driver(n);
  }
  pthread_mutex_unlock(&n->smu);
  return NULL;
}

/* Queue a job; with wait, return once it (and all before it) is durable. */
static int job_push(raft_node *n, job *j, int wait) {
  pthread_mutex_lock(&n->smu);
  j->next = NULL;
  if (n->jtail) n->jtail->next = j; else n->jhead = j;
  n->jtail = j;
  uint64_t my = ++n->jobs_pushed;
  pthread_cond_signal(&n->scv);
  if (wait)
    while (n->jobs_done < my && !n->s_err) pthread_cond_wait(&n->sdone, &n->smu);
  int rc = n->s_err;
  pthread_mutex_unlock(&n->smu);
  return rc;
}

/* ---- driver ------------------------------------------------------------------------- */
static void fatal(raft_node *n, const char *what, int rc) {
  if (!n->failed) mm_log_error("raft node %llu: %s: %s; stopping", (unsigned long long)n->c.id, what, mm_strerror(rc));
  n->failed = rc ? rc : MM_EIO;
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

static void process_ready(raft_node *n) {
  raft_ready rd;
  int rc = raft_get_ready(n->r, &rd);
  if (rc != MM_OK) { fatal(n, "raft_get_ready", rc); return; }
  if (rd.hs_changed || rd.snap_installed) {
    if (rd.snap_installed) {
      job *j = mm_calloc(1, sizeof *j);
      if (!j) { fatal(n, "snapshot", MM_ENOMEM); goto out; }
      j->kind = J_SNAP;
      j->snap = rd.snap;
      if ((rc = job_push(n, j, 0)) != MM_OK) { fatal(n, "snapshot", rc); goto out; }
    }
    job *j = mm_calloc(1, sizeof *j);
    if (!j) { fatal(n, "hard state", MM_ENOMEM); goto out; }
    j->kind = J_HS;
    j->term = rd.term;
    j->vote = rd.vote;
    if ((rc = job_push(n, j, 1)) != MM_OK) { fatal(n, "hard state", rc); goto out; }
  }
  if (rd.truncate_from) {
    job *j = mm_calloc(1, sizeof *j);
    if (!j) { fatal(n, "truncate", MM_ENOMEM); goto out; }
    j->kind = J_TRUNC;
    j->from = rd.truncate_from;
    job_push(n, j, 0);
  }
  if (rd.n_persist) {
    job *j = mm_calloc(1, sizeof *j);
    raft_entry *e = j ? mm_calloc(rd.n_persist, sizeof *e) : NULL;
    if (!e) { mm_free(j); fatal(n, "append", MM_ENOMEM); goto out; }
    /* Deep copies: reference counts are not thread-safe. */
    for (size_t i = 0; i < rd.n_persist; i++) {
      const raft_entry *s = &rd.persist[i];
      if (raft_entry_init(&e[i], s->data, s->len) != MM_OK) {
        j->e = e;
        j->n = i;
        job_free(j);
        fatal(n, "append", MM_ENOMEM);
        goto out;
      }
      e[i].term = s->term;
      e[i].index = s->index;
      e[i].origin = s->origin;
      e[i].req_id = s->req_id;
      e[i].type = s->type;
    }
    j->kind = J_APPEND;
    j->e = e;
    j->n = rd.n_persist;
    job_push(n, j, 0);
  }
  for (size_t i = 0; i < rd.n_msgs; i++) {
    mm_buf_reset(&n->enc);
    if (raft_msg_encode(&rd.msgs[i], &n->enc) != MM_OK) continue;
    raft_net_send(n->net, rd.msgs[i].to, n->enc.p, n->enc.len);
  }
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

static void drain_wake(raft_node *n) {
  uint64_t v;
  ssize_t rr = read(n->efd, &v, 8);
  (void)rr;
  pthread_mutex_lock(&n->smu);
  int p_new = n->p_new, s_err = n->s_err;
  raft_index pi = n->p_index;
  raft_term pt = n->p_term;
  n->p_new = 0;
  pthread_mutex_unlock(&n->smu);
  if (s_err) fatal(n, "disk", s_err);
  if (p_new && !n->failed) raft_persisted(n->r, pi, pt);

  pthread_mutex_lock(&n->mu);
  sub *subs = n->subs;
  size_t ns = n->nsubs;
  n->subs = NULL;
  n->nsubs = n->capsubs = 0;
  raft_id tr = n->transfer;
  n->transfer = 0;
  pthread_mutex_unlock(&n->mu);
  if (tr && !n->failed) raft_transfer(n->r, tr);
  for (size_t i = 0; i < ns; i++) {
    sub *s = &subs[i];
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
    mm_free(s->data);
  }
  mm_free(subs);
}

static void *driver_main(void *arg) {
  raft_node *n = arg;
  struct epoll_event evs[64];
  while (!STOPPING(n)) {
    int k = epoll_wait(n->epfd, evs, 64, 50);
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
        drain_wake(n);
      }
    }
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
  mm_buf_init(&n->enc);
  pthread_mutex_init(&n->mu, NULL);
  pthread_mutex_init(&n->smu, NULL);
  pthread_mutex_init(&n->lmu, NULL);
  pthread_cond_init(&n->scv, NULL);
  pthread_cond_init(&n->ycv, NULL);
  pthread_cond_init(&n->sdone, NULL);
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
  if (pthread_create(&n->sthr, NULL, storage_main, n) != 0) goto fail;
  n->started_sthr = 1;
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
  pthread_mutex_lock(&n->smu);
  pthread_cond_broadcast(&n->scv);
  pthread_cond_broadcast(&n->ycv);
  pthread_mutex_unlock(&n->smu);
  if (n->started_sthr) pthread_join(n->sthr, NULL);
  if (n->started_ythr) pthread_join(n->ythr, NULL);
  while (n->jhead) {
    job *j = n->jhead;
    n->jhead = j->next;
    job_free(j);
  }
  for (size_t i = 0; i < n->nsubs; i++) mm_free(n->subs[i].data);
  mm_free(n->subs);
  raft_net_free(n->net);
  raft_free(n->r);
  raft_log_close(n->log);
  if (n->epfd >= 0) close(n->epfd);
  if (n->tfd >= 0) close(n->tfd);
  if (n->efd >= 0) close(n->efd);
  mm_free(n->cbs);
  mm_buf_free(&n->enc);
  mm_free(n->dir);
  mm_free(n->host);
  mm_free(n);
}

int raft_node_submit(raft_node *n, const void *data, uint32_t len, raft_node_done_fn done, void *arg) {
  if (STOPPING(n)) return MM_ECLOSED;
  void *copy = mm_malloc(len ? len : 1);
  if (!copy) return MM_ENOMEM;
  memcpy(copy, data, len);
  pthread_mutex_lock(&n->mu);
  if (n->nsubs == n->capsubs) {
    size_t nc = n->capsubs ? n->capsubs * 2 : 64;
    sub *t = mm_realloc(n->subs, nc * sizeof *t);
    if (!t) { pthread_mutex_unlock(&n->mu); mm_free(copy); return MM_ENOMEM; }
    n->subs = t;
    n->capsubs = nc;
  }
  n->subs[n->nsubs++] = (sub){copy, len, done, arg};
  int first = n->nsubs == 1;
  pthread_mutex_unlock(&n->mu);
  if (first) {
    uint64_t one = 1;
    ssize_t w = write(n->efd, &one, 8);
    (void)w;
  }
  return MM_OK;
}

void raft_node_status(raft_node *n, raft_status *st) {
  pthread_mutex_lock(&n->mu);
  *st = n->status;
  pthread_mutex_unlock(&n->mu);
}

void raft_node_transfer(raft_node *n, raft_id target) {
  pthread_mutex_lock(&n->mu);
  n->transfer = target;
  pthread_mutex_unlock(&n->mu);
  uint64_t one = 1;
  ssize_t w = write(n->efd, &one, 8);
  (void)w;
}

int raft_node_failed(raft_node *n) { return n->failed; }
