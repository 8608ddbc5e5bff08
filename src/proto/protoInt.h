/*
 * proto/protoInt.h - what server.c and conn.c share (private to proto/).
 */
#ifndef MM_PROTO_PROTOINT_H
#define MM_PROTO_PROTOINT_H

#include <pthread.h>
#include "sql/instance.h"
#include "sql/session.h"

/* One live connection in the server's registry.  `fd` and `s` are read by
 * proto_serve() at shutdown and written by the connection thread, both
 * under *mu.  `done` is set (under *mu) as the thread's last action. */
typedef struct proto_slot {
  pthread_t th;
  int fd;
  sess *s;
  int done;
  char host[64];
  mm_instance *inst;
  pthread_mutex_t *mu;
  struct proto_slot *next;
} proto_slot;

/* Thread body of one connection: handshake, command loop, cleanup.  Closes
 * slot->fd (clearing it under slot->mu first). */
void proto_conn_main(proto_slot *slot);

/* Write a whole ERR packet (sequence id seq) directly to fd, best effort,
 * non-blocking (used for 1040 before a thread exists). */
void proto_send_err_now(int fd, uint8_t seq, int code, const char *sqlstate, const char *msg);

#endif
