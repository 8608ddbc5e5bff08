/*
 * sql/session.h - one client session: the MySQL dialect layer.
 *
 * The protocol layer (proto/) owns the socket and the packets; it creates a
 * session after authentication and hands it every command.  The session
 * owns the SQLite connection, the current database, session variables,
 * the open transaction and the prepared statements.
 *
 * Threading: one session is used by one thread at a time (the connection's
 * thread).  sess_kill() may be called from any thread.
 *
 * Every function that produces results writes them to the given sink (see
 * sql/result.h) and returns 0; it returns non-zero only when the sink
 * reported a broken connection.
 */
#ifndef MM_SQL_SESSION_H
#define MM_SQL_SESSION_H

#include "sql/result.h"
#include "sql/instance.h"

typedef struct sess sess;

/* Create a session for an authenticated client.  `db` may be NULL (no
 * CONNECT_WITH_DB) ; if it names an unknown database the session is still
 * created and *err gets 1049.  `charset` is the handshake collation id.
 * Returns NULL on out-of-memory (err filled). */
sess *sess_new(mm_instance *inst, uint32_t conn_id, const char *user, const char *host,
               const char *db, int charset, mm_error *err);
/* The client socket, so that KILL CONNECTION from another session can shut
 * it down (wakes a thread blocked reading it). */
void sess_set_socket(sess *s, int fd);
/* Roll back any open transaction, free prepared statements, unregister from
 * the process list and free the session. */
void sess_free(sess *s);

/* COM_QUERY: run every statement of `sql` (multi-statements allowed when
 * `multi` is non-zero, otherwise a second statement is a 1064 error). */
int sess_query(sess *s, const char *sql, size_t len, int multi, mm_sink *out);

/* COM_INIT_DB. Returns 0 and fills nothing on success, else fills err. */
int sess_use(sess *s, const char *db, mm_error *err);

/* COM_FIELD_LIST: column definitions of a table of the current database
 * (wild: optional LIKE pattern, may be NULL).  On success *cols is an array
 * owned by the session, valid until the next call on the session. */
int sess_field_list(sess *s, const char *table, const char *wild, const mm_col **cols,
                    int *ncols, mm_error *err);

/* COM_STATISTICS text ("Uptime: 5  Threads: 1  Questions: 3 ..."). */
void sess_statistics(sess *s, mm_buf *out);

/* COM_STMT_PREPARE.  On success fills *id, *nparams, and the result columns
 * if known (*cols owned by the session, valid until the statement is closed;
 * *ncols = 0 when the statement returns no rows). */
int sess_prepare(sess *s, const char *sql, size_t len, uint32_t *id, int *nparams,
                 const mm_col **cols, int *ncols, mm_error *err);
/* COM_STMT_EXECUTE of statement `id` with its parameters. */
int sess_execute(sess *s, uint32_t id, const mm_value *params, int nparams, mm_sink *out);
/* COM_STMT_CLOSE (no answer is sent) and COM_STMT_RESET. Unknown ids: err 1243. */
int sess_stmt_close(sess *s, uint32_t id);
int sess_stmt_reset(sess *s, uint32_t id, mm_error *err);

/* SERVER_STATUS_* bits for OK/EOF packets (in transaction, autocommit). */
uint16_t sess_status(sess *s);
/* The session's current max_allowed_packet. */
uint64_t sess_max_allowed_packet(sess *s);
/* COM_SET_OPTION: multi-statements on (0) or off (1). */
void sess_set_multi(sess *s, int on);

/* From any thread: KILL QUERY (query_only) interrupts the running statement;
 * KILL CONNECTION also marks the session killed, so its connection closes. */
void sess_kill(sess *s, int query_only);
int sess_killed(sess *s);

#endif
