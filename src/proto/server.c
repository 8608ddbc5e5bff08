/*
 * proto/server.c - the listening socket and the accept loop.
 *
 * proto_serve() owns the registry of live connections (a list of
 * proto_slot, guarded by one mutex).  Each connection runs proto_conn_main
 * on its own joinable thread; finished threads are joined by the accept
 * loop, and all of them at shutdown (see proto.h for the threading rules).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/proto.h"
#include "proto/protoInt.h"
#include "store/store.h"

int proto_listen(const char *addr, int port, int *fd_out, mm_error *err) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  const char *host = addr && *addr ? addr : NULL;
  if (host && strcmp(host, "*") == 0) host = NULL;
  int gai = getaddrinfo(host, portstr, &hints, &res);
  if (gai != 0) {
    mm_error_set(err, 1105, "HY000", "Can't resolve bind address '%s': %s", addr ? addr : "",
                 gai_strerror(gai));
    return MM_EIO;
  }
  int fd = -1, last_errno = 0;
  /* Prefer IPv4 when the name resolves to both (127.0.0.1 is what the
   * clients use by default). */
  for (int pass = 0; pass < 2 && fd < 0; pass++) {
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
      if ((pass == 0) != (ai->ai_family == AF_INET)) continue;
      int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     ai->ai_protocol);
      if (s < 0) {
        last_errno = errno;
        continue;
      }
      int one = 1;
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, SOMAXCONN) != 0) {
        last_errno = errno;
        close(s);
        continue;
      }
      fd = s;
      break;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    mm_error_set(err, 1105, "HY000", "Can't start server: Bind on TCP/IP port %d (%s): %s", port,
                 addr && *addr ? addr : "*", strerror(last_errno));
    return MM_EIO;
  }
  *fd_out = fd;
  return MM_OK;
}

int proto_local_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return -1;
}

static void peer_host(const struct sockaddr_storage *ss, char *out, size_t cap) {
  snprintf(out, cap, "unknown");
  if (ss->ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)cap);
  } else if (ss->ss_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
    else inet_ntop(AF_INET6, a, out, (socklen_t)cap);
  }
  if (strcmp(out, "127.0.0.1") == 0 || strcmp(out, "::1") == 0) snprintf(out, cap, "localhost");
}

static void *conn_thread(void *arg) {
  proto_slot *slot = arg;
  store_thread_init();
  proto_conn_main(slot);
  pthread_mutex_lock(slot->mu);
  slot->done = 1;
  pthread_mutex_unlock(slot->mu);
  return NULL;
}

typedef struct server {
  pthread_mutex_t mu;
  proto_slot *head;
  int live;
} server;

/* Join and free finished connections (all of them when `all`). */
static void reap(server *sv, int all) {
  for (;;) {
    proto_slot *victim = NULL, **pp;
    pthread_mutex_lock(&sv->mu);
    for (pp = &sv->head; *pp; pp = &(*pp)->next) {
      if ((*pp)->done || all) {
        victim = *pp;
        *pp = victim->next;
        sv->live--;
        break;
      }
    }
    pthread_mutex_unlock(&sv->mu);
    if (!victim) return;
    pthread_join(victim->th, NULL);
    mm_free(victim);
  }
}

static void accept_one(server *sv, mm_instance *inst, int listen_fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      mm_log_warn("accept: %s", strerror(errno));
      usleep(10000);
    }
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  int maxc = mm_instance_options(inst)->max_connections;
  if (maxc <= 0) maxc = 151;
  pthread_mutex_lock(&sv->mu);
  int live = sv->live;
  pthread_mutex_unlock(&sv->mu);
  if (live >= maxc) {
    proto_send_err_now(fd, 0, 1040, "08004", "Too many connections");
    mm_instance_count_connection(inst, 1);
    close(fd);
    return;
  }
  proto_slot *slot = mm_calloc(1, sizeof *slot);
  if (!slot) {
    proto_send_err_now(fd, 0, 1037, "HY001", "Out of memory");
    close(fd);
    return;
  }
  slot->fd = fd;
  slot->inst = inst;
  slot->mu = &sv->mu;
  peer_host(&ss, slot->host, sizeof slot->host);
  pthread_mutex_lock(&sv->mu);
  slot->next = sv->head;
  sv->head = slot;
  sv->live++;
  int rc = pthread_create(&slot->th, NULL, conn_thread, slot);
  if (rc != 0) {
    sv->head = slot->next;
    sv->live--;
  }
  pthread_mutex_unlock(&sv->mu);
  if (rc != 0) {
    proto_send_err_now(fd, 0, 1135, "HY000",
                       "Can't create a new thread (errno 11); if you are not out of available "
                       "memory, you can consult the manual for a possible OS-dependent bug");
    close(fd);
    mm_free(slot);
  }
}

int proto_serve(mm_instance *inst, int listen_fd, volatile int *stop) {
  server sv;
  memset(&sv, 0, sizeof sv);
  pthread_mutex_init(&sv.mu, NULL);
  while (!*stop) {
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    int r = poll(&pfd, 1, 200);
    reap(&sv, 0);
    if (r > 0 && !*stop) accept_one(&sv, inst, listen_fd);
  }
  /* Shutdown: wake every connection thread, then wait for all of them. */
  pthread_mutex_lock(&sv.mu);
  for (proto_slot *s = sv.head; s; s = s->next) {
    if (s->fd >= 0) shutdown(s->fd, SHUT_RDWR);
    if (s->s) sess_kill(s->s, 0);
  }
  pthread_mutex_unlock(&sv.mu);
  reap(&sv, 1);
  pthread_mutex_destroy(&sv.mu);
  return MM_OK;
}
