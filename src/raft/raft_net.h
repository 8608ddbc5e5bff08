/*
 * raft/raft_net.h - TCP transport between Raft members, driven by the node's
 * epoll loop (single-threaded: every function runs on the driver thread).
 *
 * Each member keeps one outbound connection per peer (created on demand,
 * re-established 100 ms after a failure) and accepts inbound connections.
 * Frames are u32 little-endian length + payload (an encoded raft_msg).
 * Back-pressure: a peer's send queue is capped (RAFT_NET_QUEUE_MAX bytes);
 * beyond it raft_net_send drops the frame and returns MM_EAGAIN -- Raft
 * retransmits what matters, and the leader's pipelining window bounds what
 * it queues anyway.  A connection that fails drops its queue.
 */
#ifndef MM_RAFT_NET_H
#define MM_RAFT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define RAFT_NET_QUEUE_MAX (64u << 20)
#define RAFT_NET_FRAME_MAX (256u << 20)

/* epoll data.ptr of every fd registered by raft_net points to a struct whose
 * first member is an int equal to RAFT_NET_TAG. */
#define RAFT_NET_TAG 0x52464e54

typedef struct raft_net raft_net;
typedef void (*raft_net_recv_fn)(void *arg, const unsigned char *p, size_t n);

/* Listen on host:port (port 0 = no listener) and register with epfd.
 * fn(arg, frame, len) is called for every complete inbound frame; frame is
 * valid only during the call.  Returns NULL with *err set (MM_EIO, MM_ENOMEM). */
raft_net *raft_net_new(int epfd, const char *host, int port, raft_net_recv_fn fn, void *arg, int *err);
void raft_net_free(raft_net *n);
/* Declare where peer id listens. */
int raft_net_add_peer(raft_net *n, raft_id id, const char *host, int port);
/* Queue one frame for peer id and try to send it at once.  MM_OK, MM_EAGAIN
 * (queue full: dropped), MM_ENOTFOUND (unknown peer). */
int raft_net_send(raft_net *n, raft_id id, const void *p, size_t len);
/* Encode m straight into the send queue of peer m->to, without sending yet:
 * raft_net_flush() then sends everything queued per peer with one send()
 * (batching: all the messages of a ready batch to one peer leave together).
 * Same results as raft_net_send; MM_ENOMEM drops the connection. */
int raft_net_queue_msg(raft_net *n, const raft_msg *m);
/* Send what raft_net_queue_msg queued (as much as the sockets take; the
 * rest leaves when they become writable). */
void raft_net_flush(raft_net *n);
/* Handle readiness of an fd whose epoll data.ptr is tag (a RAFT_NET_TAG struct). */
void raft_net_event(raft_net *n, void *tag, uint32_t events);
/* Periodic work: reconnect failed peers.  now_us from mm_now_us(). */
void raft_net_tick(raft_net *n, uint64_t now_us);

#endif
