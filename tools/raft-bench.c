/*
 * tools/raft-bench.c - Raft log benchmark: 3 members on loopback in one
 * process (each with its own log directory, storage thread and TCP
 * transport), fsync on.  For entry sizes 200 B and 4 KiB, 1 and 64
 * concurrent submitters, submitting on the leader and on a follower, it
 * prints committed entries/s and p50/p99 commit latency (submit -> commit
 * callback on the submitting member), next to the physical floor: measured
 * fsync latency of the disk and loopback TCP round trip.
 *
 *   raft-bench [--dir DIR] [--seconds S] [--size 200|4096] [--submitters 1|64]
 *   (--size / --submitters run only the matching rows)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raft/raft_node.h"
#include "util/mm.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}
static uint64_t pct(uint64_t *v, size_t n, double p) {
  if (!n) return 0;
  qsort(v, n, sizeof *v, cmp_u64);
  size_t i = (size_t)(p * (double)(n - 1));
  return v[i];
}

static double fsync_floor(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/fsync-probe", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  char buf[200];
  memset(buf, 'x', sizeof buf);
  uint64_t lat[200];
  for (int i = 0; i < 200; i++) {
    uint64_t t0 = mm_now_us();
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) break;
    fdatasync(fd);
    lat[i] = mm_now_us() - t0;
  }
  close(fd);
  unlink(path);
  return (double)pct(lat, 200, 0.5);
}

static void *echo_main(void *arg) {
  int lfd = *(int *)arg;
  int fd = accept(lfd, NULL, NULL);
  char b[64];
  for (;;) {
    ssize_t r = recv(fd, b, sizeof b, MSG_WAITALL);
    if (r <= 0) break;
    if (send(fd, b, (size_t)r, 0) != r) break;
  }
  close(fd);
  return NULL;
}

static double rtt_floor(void) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t sl = sizeof sa;
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sa, &sl))
    return -1;
  pthread_t t;
  pthread_create(&t, NULL, echo_main, &lfd);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) return -1;
  char b[64] = {0};
  uint64_t lat[2000];
  for (int i = 0; i < 2000; i++) {
    uint64_t t0 = mm_now_us();
    if (send(fd, b, sizeof b, 0) != (ssize_t)sizeof b || recv(fd, b, sizeof b, MSG_WAITALL) != (ssize_t)sizeof b) break;
    lat[i] = mm_now_us() - t0;
  }
  close(fd);
  pthread_join(t, NULL);
  close(lfd);
  return (double)pct(lat, 2000, 0.5);
}

/* ---- cluster ---------------------------------------------------------------- */
static raft_node *nodes[3];

/* A submitter waits for its completion on a futex word: on_done (driver
 * thread) stores the status and issues FUTEX_WAKE only if the submitter is
 * actually asleep -- one syscall at most, no mutex the two sides contend on. */
typedef struct waiter {
  int state; /* W_PENDING, W_SLEEPING, W_DONE */
  int status;
} waiter;
enum { W_PENDING, W_SLEEPING, W_DONE };

static void futex_wait(int *addr, int val) { syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0); }
static void futex_wake(int *addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void on_done(void *arg, int status, raft_index idx) {
  (void)idx;
  waiter *w = arg;
  w->status = status;
  if (__atomic_exchange_n(&w->state, W_DONE, __ATOMIC_ACQ_REL) == W_SLEEPING) futex_wake(&w->state);
}

static void wait_done(waiter *w) {
  int s = W_PENDING;
  if (!__atomic_compare_exchange_n(&w->state, &s, W_SLEEPING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return;
  while (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) == W_SLEEPING) futex_wait(&w->state, W_SLEEPING);
}

typedef struct worker {
  pthread_t t;
  raft_node *n;
  uint32_t size;
  volatile int *stop;
  volatile uint64_t *end_us; /* completions after it are not counted */
  uint64_t *lat;
  size_t nlat, cap;
  uint64_t ok, fail;
  int reset;
} worker;

static void *worker_main(void *arg) {
  worker *w = arg;
  pthread_setname_np(pthread_self(), "bench-sub");
  char *buf = malloc(w->size);
  memset(buf, 'e', w->size);
  waiter wt;
  while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
    wt.state = W_PENDING;
    uint64_t t0 = mm_now_us();
    if (raft_node_submit(w->n, buf, w->size, on_done, &wt) != MM_OK) break;
    wait_done(&wt);
    uint64_t t1 = mm_now_us();
    if (__atomic_load_n(&w->reset, __ATOMIC_ACQUIRE)) {
      w->reset = 0;
      w->nlat = w->ok = w->fail = 0;
    }
    if (t1 > __atomic_load_n(w->end_us, __ATOMIC_ACQUIRE)) continue;
    if (wt.status == MM_OK) {
      if (w->nlat == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
      }
      w->lat[w->nlat++] = t1 - t0;
      w->ok++;
    } else {
      w->fail++;
      usleep(1000);
    }
  }
  free(buf);
  return NULL;
}

static int find_leader(void) {
  for (int tries = 0; tries < 500; tries++) {
    for (int i = 0; i < 3; i++) {
      raft_status st;
      raft_node_status(nodes[i], &st);
      if (st.role == RAFT_LEADER) return i;
    }
    usleep(10000);
  }
  return -1;
}

static void run(const char *label, int on, uint32_t size, int nsub, double seconds) {
  worker *w = calloc((size_t)nsub, sizeof *w);
  volatile int stop = 0;
  volatile uint64_t end_us = UINT64_MAX;
  for (int i = 0; i < nsub; i++) {
    w[i].n = nodes[on];
    w[i].size = size;
    w[i].stop = &stop;
    w[i].end_us = &end_us;
    pthread_create(&w[i].t, NULL, worker_main, &w[i]);
  }
  /* warm-up, then measure.  The workers own their counters: the warm-up
   * ones are dropped by each worker at its first completion after t0, completions
   * after t1 are not counted, and the results are
   * read only after every worker has been joined (reading them while the
   * workers ran let the latency copy overflow its buffer). */
  usleep(300000);
  uint64_t t0 = mm_now_us();
  for (int i = 0; i < nsub; i++) __atomic_store_n(&w[i].reset, 1, __ATOMIC_RELEASE);
  usleep((useconds_t)(seconds * 1e6));
  uint64_t t1 = mm_now_us();
  __atomic_store_n(&end_us, t1, __ATOMIC_RELEASE);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < nsub; i++) pthread_join(w[i].t, NULL);
  uint64_t ok = 0, fail = 0;
  size_t total = 0;
  for (int i = 0; i < nsub; i++) { ok += w[i].ok; fail += w[i].fail; total += w[i].nlat; }
  uint64_t *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < nsub; i++) { memcpy(all + k, w[i].lat, w[i].nlat * sizeof *all); k += w[i].nlat; }
  for (int i = 0; i < nsub; i++) free(w[i].lat);
  double secs = (double)(t1 - t0) / 1e6;
  printf("%-9s %6u B %3d submitters: %9.0f entries/s  p50 %7.0f us  p99 %7.0f us%s\n", label, size, nsub,
         (double)ok / secs, (double)pct(all, k, 0.5), (double)pct(all, k, 0.99), fail ? "  (retries seen)" : "");
  fflush(stdout);
  free(all);
  free(w);
}

int main(int argc, char **argv) {
  const char *base = "bench-raft-data";
  double seconds = 3;
  uint32_t only_size = 0;
  int only_subs = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dir") && i + 1 < argc) base = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) only_size = (uint32_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--submitters") && i + 1 < argc) only_subs = atoi(argv[++i]);
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
  if (system(cmd) != 0) return 1;
  double fs = fsync_floor(base), rtt = rtt_floor();
  printf("floor: fsync (200 B write + fdatasync) p50 %.0f us; loopback TCP round trip p50 %.0f us\n", fs, rtt);
  printf("floor for a commit from a follower ~ fsync + round trip = %.0f us\n", fs + rtt);
  int ports[3];
  for (int i = 0; i < 3; i++) ports[i] = 27100 + (int)(mm_now_us() % 1000) * 3 + i;
  for (int i = 0; i < 3; i++) {
    raft_node_config c = {0};
    char dir[512];
    snprintf(dir, sizeof dir, "%s/n%d", base, i + 1);
    c.id = (raft_id)(i + 1);
    c.dir = dir;
    c.listen_host = "127.0.0.1";
    c.listen_port = ports[i];
    for (int j = 0; j < 3; j++) {
      c.bootstrap.m[j].id = (raft_id)(j + 1);
      c.bootstrap.m[j].voter = 1;
      if (j == i) continue;
      c.peers[c.n_peers].id = (raft_id)(j + 1);
      snprintf(c.peers[c.n_peers].host, sizeof c.peers[c.n_peers].host, "127.0.0.1");
      c.peers[c.n_peers].port = ports[j];
      c.n_peers++;
    }
    c.bootstrap.n = 3;
    int err;
    nodes[i] = raft_node_start(&c, &err);
    if (!nodes[i]) { fprintf(stderr, "start node %d: %s\n", i + 1, mm_strerror(err)); return 1; }
  }
  int L = find_leader();
  if (L < 0) { fprintf(stderr, "no leader\n"); return 1; }
  int F = (L + 1) % 3;
  uint32_t sizes[2] = {200, 4096};
  int subs[2] = {1, 64};
  for (int s = 0; s < 2; s++)
    for (int c = 0; c < 2; c++) {
      if ((only_size && sizes[s] != only_size) || (only_subs && subs[c] != only_subs)) continue;
      L = find_leader();
      F = (L + 1) % 3;
      run("leader", L, sizes[s], subs[c], seconds);
      run("follower", F, sizes[s], subs[c], seconds);
    }
  for (int i = 0; i < 3; i++) raft_node_stop(nodes[i]);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  if (system(cmd) != 0) return 1;
  return 0;
}
