/*
 * tools/raft-node.c - one Raft member as a process (for kill -9 tests).
 *
 *   raft-node --id N --dir DIR --peers 1=127.0.0.1:7001,2=...:7002,... --client-port P
 *   raft-node --dump DIR          print the stored log: "index term type payload"
 *
 * Client protocol on P (text lines, pipelined, replies may come out of order):
 *   S <tag> <payload>  ->  OK <tag> <index>   (committed)  |  ERR <tag> AGAIN
 *   STATUS             ->  ST <role> <term> <leader> <commit> <applied> <last>
 *   TRANSFER <id>      ->  OK
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raft/raft_log.h"
#include "raft/raft_node.h"
#include "util/mm.h"

typedef struct cconn {
  int fd;
  pthread_mutex_t mu;
  atomic_int refs;
} cconn;

typedef struct pend {
  cconn *c;
  char tag[64];
} pend;

static raft_node *node;

static void cconn_unref(cconn *c) {
  if (atomic_fetch_sub(&c->refs, 1) == 1) {
    close(c->fd);
    pthread_mutex_destroy(&c->mu);
    free(c);
  }
}

static void reply(cconn *c, const char *s) {
  pthread_mutex_lock(&c->mu);
  size_t n = strlen(s), off = 0;
  while (off < n) {
    ssize_t w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += (size_t)w;
  }
  pthread_mutex_unlock(&c->mu);
}

static void done(void *arg, int status, raft_index index) {
  pend *p = arg;
  char buf[128];
  if (status == MM_OK) snprintf(buf, sizeof buf, "OK %s %llu\n", p->tag, (unsigned long long)index);
  else snprintf(buf, sizeof buf, "ERR %s AGAIN\n", p->tag);
  reply(p->c, buf);
  cconn_unref(p->c);
  free(p);
}

static void handle_line(cconn *c, char *line) {
  if (!strncmp(line, "S ", 2)) {
    char *tag = line + 2, *sp = strchr(tag, ' ');
    if (!sp) return;
    *sp = 0;
    char *payload = sp + 1;
    pend *p = calloc(1, sizeof *p);
    snprintf(p->tag, sizeof p->tag, "%s", tag);
    p->c = c;
    atomic_fetch_add(&c->refs, 1);
    if (raft_node_submit(node, payload, (uint32_t)strlen(payload), done, p) != MM_OK) done(p, MM_EAGAIN, 0);
  } else if (!strcmp(line, "STATUS")) {
    raft_status st;
    raft_node_status(node, &st);
    char buf[256];
    snprintf(buf, sizeof buf, "ST %s %llu %llu %llu %llu %llu\n", raft_role_name(st.role), (unsigned long long)st.term,
             (unsigned long long)st.leader, (unsigned long long)st.commit, (unsigned long long)st.applied,
             (unsigned long long)st.last);
    reply(c, buf);
  } else if (!strncmp(line, "TRANSFER ", 9)) {
    raft_node_transfer(node, strtoull(line + 9, NULL, 10));
    reply(c, "OK\n");
  }
}

static void *client_main(void *arg) {
  cconn *c = arg;
  char *buf = malloc(1 << 20);
  size_t len = 0;
  for (;;) {
    ssize_t r = recv(c->fd, buf + len, (1 << 20) - len - 1, 0);
    if (r <= 0) break;
    len += (size_t)r;
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
      if (buf[i] == '\n') {
        buf[i] = 0;
        if (i > start && buf[i - 1] == '\r') buf[i - 1] = 0;
        handle_line(c, buf + start);
        start = i + 1;
      }
    memmove(buf, buf + start, len - start);
    len -= start;
    if (len >= (1 << 20) - 1) break;
  }
  free(buf);
  shutdown(c->fd, SHUT_RDWR);
  cconn_unref(c);
  return NULL;
}

static int dump(const char *dir) {
  raft_log *l;
  int rc = raft_log_open(dir, &l);
  if (rc != MM_OK) {
    fprintf(stderr, "raft-node: %s: %s\n", dir, mm_strerror(rc));
    return 1;
  }
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  const raft_entry *e;
  size_t n;
  int fresh;
  raft_log_state(l, &term, &vote, &snap, &e, &n, &fresh);
  printf("# term %llu vote %llu snapshot %llu/%llu entries %zu\n", (unsigned long long)term, (unsigned long long)vote,
         (unsigned long long)snap.index, (unsigned long long)snap.term, n);
  for (size_t i = 0; i < n; i++)
    printf("%llu %llu %u %.*s\n", (unsigned long long)e[i].index, (unsigned long long)e[i].term, e[i].type,
           e[i].type == RAFT_ENTRY_NORMAL ? (int)e[i].len : 0, e[i].data ? (const char *)e[i].data : "");
  raft_log_close(l);
  return 0;
}

int main(int argc, char **argv) {
  raft_node_config c = {0};
  const char *peers = NULL;
  int cport = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dump") && i + 1 < argc) return dump(argv[i + 1]);
    if (!strcmp(argv[i], "--id") && i + 1 < argc) c.id = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) c.dir = argv[++i];
    else if (!strcmp(argv[i], "--peers") && i + 1 < argc) peers = argv[++i];
    else if (!strcmp(argv[i], "--client-port") && i + 1 < argc) cport = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: raft-node --id N --dir DIR --peers ID=HOST:PORT,... --client-port P | --dump DIR\n");
      return 2;
    }
  }
  if (!c.id || !c.dir || !peers || !cport) {
    fprintf(stderr, "raft-node: --id, --dir, --peers and --client-port are required\n");
    return 2;
  }
  static char hostbuf[64];
  char *list = strdup(peers);
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    unsigned long long id;
    char host[64];
    int port;
    if (sscanf(tok, "%llu=%63[^:]:%d", &id, host, &port) != 3) {
      fprintf(stderr, "raft-node: bad peer %s\n", tok);
      return 2;
    }
    c.bootstrap.m[c.bootstrap.n].id = id;
    c.bootstrap.m[c.bootstrap.n].voter = 1;
    c.bootstrap.n++;
    if (id == c.id) {
      snprintf(hostbuf, sizeof hostbuf, "%s", host);
      c.listen_host = hostbuf;
      c.listen_port = port;
    } else {
      c.peers[c.n_peers].id = id;
      snprintf(c.peers[c.n_peers].host, sizeof c.peers[c.n_peers].host, "%s", host);
      c.peers[c.n_peers].port = port;
      c.n_peers++;
    }
  }
  free(list);
  signal(SIGPIPE, SIG_IGN);
  int err;
  node = raft_node_start(&c, &err);
  if (!node) {
    fprintf(stderr, "raft-node: start: %s\n", mm_strerror(err));
    return 1;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cport)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 64) != 0) {
    perror("raft-node: client port");
    return 1;
  }
  fprintf(stderr, "raft-node %llu: up, client port %d\n", (unsigned long long)c.id, cport);
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cconn *cc = calloc(1, sizeof *cc);
    cc->fd = fd;
    pthread_mutex_init(&cc->mu, NULL);
    atomic_store(&cc->refs, 1);
    pthread_t t;
    pthread_create(&t, NULL, client_main, cc);
    pthread_detach(t);
  }
}
