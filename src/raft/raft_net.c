/*
 * raft/raft_net.c - TCP transport (see raft_net.h).
 *
 * Connection states (outbound): IDLE --connect()--> CONNECTING --EPOLLOUT ok-->
 * UP --error/EOF--> IDLE (retry after 100 ms, queue dropped).  Inbound
 * connections are read-only and simply closed on error.
 */
#include "raft/raft_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raft/raft_codec.h"
#include "util/mm.h"

enum { C_LISTEN = 1, C_OUT, C_IN };
enum { S_IDLE, S_CONNECTING, S_UP };

typedef struct conn {
  int tag; /* RAFT_NET_TAG */
  int kind;
  int fd;
  int state;
  raft_id peer;
  char host[128];
  int port;
  uint64_t retry_at;
  mm_buf out;
  size_t out_off;
  mm_buf in;
  int want_out;
  struct conn *next; /* inbound list */
} conn;

struct raft_net {
  int epfd;
  raft_net_recv_fn fn;
  void *arg;
  conn listener;
  conn peers[RAFT_MAX_MEMBERS * 4];
  int npeers;
  conn *inbound;
};

static int set_nb(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return 0;
}

static int resolve(const char *host, int port, struct sockaddr_in *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa->sin_addr) == 1) return 0;
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return -1;
  sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

raft_net *raft_net_new(int epfd, const char *host, int port, raft_net_recv_fn fn, void *arg, int *err) {
  raft_net *n = mm_calloc(1, sizeof *n);
  if (!n) { *err = MM_ENOMEM; return NULL; }
  n->epfd = epfd;
  n->fn = fn;
  n->arg = arg;
  n->listener.tag = RAFT_NET_TAG;
  n->listener.kind = C_LISTEN;
  n->listener.fd = -1;
  if (port) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || resolve(host ? host : "0.0.0.0", port, &sa) != 0) goto fail_fd;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) goto fail_fd;
    n->listener.fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &n->listener};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) goto fail_fd;
    goto ok;
  fail_fd:
    if (fd >= 0) close(fd);
    mm_free(n);
    *err = MM_EIO;
    return NULL;
  }
ok:
  *err = MM_OK;
  return n;
}

static void conn_close(raft_net *n, conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(n->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->state = S_IDLE;
  c->want_out = 0;
  mm_buf_reset(&c->out);
  c->out_off = 0;
  mm_buf_reset(&c->in);
  c->retry_at = mm_now_us() + 100000;
}

void raft_net_free(raft_net *n) {
  if (!n) return;
  for (int i = 0; i < n->npeers; i++) {
    conn_close(n, &n->peers[i]);
    mm_buf_free(&n->peers[i].out);
    mm_buf_free(&n->peers[i].in);
  }
  while (n->inbound) {
    conn *c = n->inbound;
    n->inbound = c->next;
    conn_close(n, c);
    mm_buf_free(&c->in);
    mm_buf_free(&c->out);
    mm_free(c);
  }
  if (n->listener.fd >= 0) close(n->listener.fd);
  mm_free(n);
}

int raft_net_add_peer(raft_net *n, raft_id id, const char *host, int port) {
  if (n->npeers >= (int)MM_ARRAY_SIZE(n->peers)) return MM_EINVAL;
  conn *c = &n->peers[n->npeers++];
  memset(c, 0, sizeof *c);
  c->tag = RAFT_NET_TAG;
  c->kind = C_OUT;
  c->fd = -1;
  c->peer = id;
  snprintf(c->host, sizeof c->host, "%s", host);
  c->port = port;
  mm_buf_init(&c->out);
  mm_buf_init(&c->in);
  return MM_OK;
}

static void update_events(raft_net *n, conn *c) {
  uint32_t want = EPOLLIN | ((c->state == S_CONNECTING || c->out.len > c->out_off) ? EPOLLOUT : 0);
  struct epoll_event ev = {.events = want, .data.ptr = c};
  epoll_ctl(n->epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = (want & EPOLLOUT) != 0;
}

static void try_connect(raft_net *n, conn *c) {
  struct sockaddr_in sa;
  if (resolve(c->host, c->port, &sa) != 0) { c->retry_at = mm_now_us() + 100000; return; }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { c->retry_at = mm_now_us() + 100000; return; }
  set_nb(fd);
  c->fd = fd;
  int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  if (r != 0 && errno != EINPROGRESS) { close(fd); c->fd = -1; c->retry_at = mm_now_us() + 100000; return; }
  c->state = r == 0 ? S_UP : S_CONNECTING;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev);
  c->want_out = 1;
}

static void flush_out(raft_net *n, conn *c) {
  while (c->out.len > c->out_off) {
    ssize_t w = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (w <= 0) { conn_close(n, c); return; }
    c->out_off += (size_t)w;
  }
  if (c->out_off == c->out.len) {
    mm_buf_reset(&c->out);
    c->out_off = 0;
  } else if (c->out_off > (1u << 20)) {
    memmove(c->out.p, c->out.p + c->out_off, c->out.len - c->out_off);
    c->out.len -= c->out_off;
    c->out_off = 0;
  }
  int need = c->out.len > c->out_off;
  if (need != c->want_out) update_events(n, c);
}

/* The outbound connection to peer id, connecting it if it is idle and its
 * retry time has come; NULL with *rc set when nothing can be queued now. */
static conn *out_conn(raft_net *n, raft_id id, int *rc) {
  conn *c = NULL;
  for (int i = 0; i < n->npeers; i++) if (n->peers[i].peer == id) c = &n->peers[i];
  if (!c) { *rc = MM_ENOTFOUND; return NULL; }
  if (c->state == S_IDLE) {
    if (mm_now_us() < c->retry_at) { *rc = MM_EAGAIN; return NULL; }
    try_connect(n, c);
    if (c->state == S_IDLE) { *rc = MM_EAGAIN; return NULL; }
  }
  return c;
}

int raft_net_send(raft_net *n, raft_id id, const void *p, size_t len) {
  int rc;
  conn *c = out_conn(n, id, &rc);
  if (!c) return rc;
  if (c->out.len - c->out_off + len + 4 > RAFT_NET_QUEUE_MAX) return MM_EAGAIN;
  unsigned char h[4];
  mm_put_u32le(h, (uint32_t)len);
  if (mm_buf_append(&c->out, h, 4) != MM_OK || mm_buf_append(&c->out, p, len) != MM_OK) {
    conn_close(n, c);
    return MM_ENOMEM;
  }
  if (c->state == S_UP && !c->want_out) flush_out(n, c);
  return MM_OK;
}

int raft_net_queue_msg(raft_net *n, const raft_msg *m) {
  int rc;
  conn *c = out_conn(n, m->to, &rc);
  if (!c) return rc;
  size_t start = c->out.len;
  static const unsigned char h[4];
  if (mm_buf_append(&c->out, h, 4) != MM_OK || raft_msg_encode(m, &c->out) != MM_OK) {
    conn_close(n, c);
    return MM_ENOMEM;
  }
  size_t len = c->out.len - start - 4;
  if (c->out.len - c->out_off > RAFT_NET_QUEUE_MAX || len > RAFT_NET_FRAME_MAX) {
    c->out.len = start; /* dropped: Raft retransmits */
    return MM_EAGAIN;
  }
  mm_put_u32le((unsigned char *)c->out.p + start, (uint32_t)len);
  return MM_OK;
}

void raft_net_flush(raft_net *n) {
  for (int i = 0; i < n->npeers; i++) {
    conn *c = &n->peers[i];
    if (c->state == S_UP && !c->want_out && c->out.len > c->out_off) flush_out(n, c);
  }
}

/* Read what is available and deliver complete frames. */
static void read_in(raft_net *n, conn *c) {
  for (;;) {
    if (mm_buf_reserve(&c->in, 65536) != MM_OK) { conn_close(n, c); return; }
    ssize_t r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r <= 0) { conn_close(n, c); return; }
    int drained = (size_t)r < c->in.cap - c->in.len - 1;
    c->in.len += (size_t)r;
    size_t off = 0;
    while (c->in.len - off >= 4) {
      uint32_t fl = mm_get_u32le((unsigned char *)c->in.p + off);
      if (fl > RAFT_NET_FRAME_MAX) { conn_close(n, c); return; }
      if (c->in.len - off - 4 < fl) {
        if (mm_buf_reserve(&c->in, fl + 4) != MM_OK) { conn_close(n, c); return; }
        break;
      }
      n->fn(n->arg, (unsigned char *)c->in.p + off + 4, fl);
      off += 4 + fl;
    }
    if (off) {
      memmove(c->in.p, c->in.p + off, c->in.len - off);
      c->in.len -= off;
    }
    /* A short read emptied the socket: the next recv would only say EAGAIN,
     * and the epoll registration is level-triggered, so anything arriving
     * later is reported again. */
    if (drained) break;
  }
}

void raft_net_event(raft_net *n, void *tag, uint32_t events) {
  conn *c = tag;
  if (c->kind == C_LISTEN) {
    for (;;) {
      int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;
      set_nb(fd);
      conn *in = mm_calloc(1, sizeof *in);
      if (!in) { close(fd); continue; }
      in->tag = RAFT_NET_TAG;
      in->kind = C_IN;
      in->fd = fd;
      in->state = S_UP;
      mm_buf_init(&in->in);
      mm_buf_init(&in->out);
      in->next = n->inbound;
      n->inbound = in;
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = in};
      epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    return;
  }
  if (c->kind == C_IN) {
    read_in(n, c);
    if (c->fd < 0) { /* closed: unlink and free */
      for (conn **pp = &n->inbound; *pp; pp = &(*pp)->next)
        if (*pp == c) { *pp = c->next; break; }
      mm_buf_free(&c->in);
      mm_buf_free(&c->out);
      mm_free(c);
    }
    return;
  }
  /* outbound */
  if (events & (EPOLLERR | EPOLLHUP)) { conn_close(n, c); return; }
  if (c->state == S_CONNECTING && (events & EPOLLOUT)) {
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) { conn_close(n, c); return; }
    c->state = S_UP;
  }
  if (events & EPOLLIN) { /* peers never send on this direction: EOF = closed */
    char b[256];
    ssize_t r = recv(c->fd, b, sizeof b, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { conn_close(n, c); return; }
  }
  if (c->state == S_UP) flush_out(n, c);
}

void raft_net_tick(raft_net *n, uint64_t now_us) {
  (void)n;
  (void)now_us; /* reconnection happens lazily on the next send after retry_at */
}
