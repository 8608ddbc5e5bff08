/*
 * proto/proto.h - the MySQL network server: listening socket, accept loop
 * and one thread per client connection speaking the MySQL client/server
 * protocol (handshake v10, mysql_native_password / caching_sha2_password,
 * COM_* commands, text and binary result sets).
 *
 * Files of this module:
 *   codec.c/.h  pure encoders/decoders (packets, handshake, rows, params);
 *               no I/O, unit-tested and fuzzed.
 *   conn.c      one connection: authentication, command loop, the mm_sink
 *               that turns session results into packets, prepared
 *               statement parameter state.
 *   server.c    proto_listen / proto_serve: accept loop and threads.
 *
 * Threading:
 *   - proto_serve() runs the accept loop on the calling thread.  Each
 *     accepted connection gets its own joinable thread, which owns the
 *     socket, the connection's buffers and its session (sql/session.h);
 *     no other thread touches them, except:
 *       * KILL CONNECTION from another session calls shutdown() on the
 *         socket (sess_set_socket) and marks the session killed; the
 *         connection thread notices after the current command and exits;
 *       * at shutdown, proto_serve() calls shutdown(fd, SHUT_RDWR) and
 *         sess_kill() for every live connection, under the server mutex
 *         that also guards the connection registry.
 *   - A connection thread frees its session before it closes its socket,
 *     and it clears its registry entry (under the mutex) before close(), so
 *     proto_serve() never shuts down a reused file descriptor.
 *   - Finished threads are joined by the accept loop (every poll cycle);
 *     at shutdown all remaining threads are joined before proto_serve()
 *     returns.
 *
 * Connection state machine (conn.c):
 *   HANDSHAKE --auth ok--> COMMAND --COM_QUIT / EOF / fatal error / killed--> CLOSED
 *   HANDSHAKE --bad auth / malformed / timeout (10 s)--> CLOSED
 */
#ifndef MM_PROTO_PROTO_H
#define MM_PROTO_PROTO_H

#include "sql/instance.h"
#include "util/mm.h"

/* Open a TCP listening socket on addr:port (addr NULL or "" = all
 * interfaces; "0.0.0.0", "::", host names and IP literals accepted; port 0
 * picks a free port, see proto_local_port).  SO_REUSEADDR, non-blocking,
 * close-on-exec.  MM_OK with *fd_out set, or MM_EIO with err filled
 * (message names the address and the errno text). */
int proto_listen(const char *addr, int port, int *fd_out, mm_error *err);

/* The local port a socket is bound to, or -1. */
int proto_local_port(int fd);

/* Serve MySQL clients on listen_fd until *stop becomes non-zero (checked
 * at least every 200 ms; set it from a signal handler or another thread).
 * Connections beyond max_connections get error 1040 and are closed.  On
 * stop: no more accepts, every client socket is shut down and every session
 * killed, all connection threads are joined, then it returns MM_OK.  The
 * listening socket is not closed (the caller owns it). */
int proto_serve(mm_instance *inst, int listen_fd, volatile int *stop);

#endif
