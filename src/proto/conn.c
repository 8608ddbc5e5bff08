/*
 * proto/conn.c - one client connection: authentication, the command loop
 * and the mm_sink that encodes session results as MySQL packets.
 *
 * State machine (see proto.h): HANDSHAKE -> COMMAND -> CLOSED.
 *
 * Invariants:
 * - Only the connection thread reads or writes the socket and the buffers
 *   below.  slot->fd and slot->s are published under slot->mu.
 * - Every command gets exactly one complete response (or none for
 *   COM_STMT_CLOSE / COM_STMT_SEND_LONG_DATA / COM_QUIT): if the session
 *   returns without a final packet, an OK is sent so the client never hangs.
 * - Output is buffered in c->out and written once per command response
 *   (or whenever more than FLUSH_AT bytes are pending, for big results).
 * - Prepared statement parameter types are kept per statement (c->stmts)
 *   across executes: clients send them only with new_params_bound = 1.
 * - The session is freed before the socket is closed, so that a KILL from
 *   another thread never shuts down a reused descriptor.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proto/codec.h"
#include "proto/protoInt.h"

#define FLUSH_AT (256 * 1024)
#define INBUF_SIZE (16 * 1024)
#define HANDSHAKE_TIMEOUT_S 10
#define AUTH_MAX_PACKET (1u << 20)
#define NATIVE_PLUGIN "mysql_native_password"
#define SHA2_PLUGIN "caching_sha2_password"

typedef struct pstmt {
  uint32_t id;
  int long_too_big; /* long data exceeded max_allowed_packet: next execute fails */
  proto_stmt_params prm;
} pstmt;

typedef struct conn {
  proto_slot *slot;
  mm_instance *inst;
  int fd;
  uint32_t id;
  uint32_t caps; /* client caps & server caps */
  uint8_t scramble[PROTO_SCRAMBLE_LEN];
  proto_reader rd;
  mm_buf out;
  uint8_t seq;
  int broken; /* a write failed: stop producing */
  uint16_t status; /* last SERVER_STATUS_* seen; used inside sink callbacks so
                      that they never call back into the session */
  sess *s;
  int multi;
  int charset;
  char user[128];
  char db[256]; /* database from the handshake / COM_INIT_DB, for resets */
  int has_db;

  /* sink state */
  mm_sink sink;
  int binary;    /* encode rows in the binary protocol */
  int final_sent;
  int ncols, colcap;
  uint8_t *types;
  uint16_t *flags;

  /* prepared statements */
  pstmt *stmts;
  int nstmts, stmtcap;
  mm_value *vals;
  int valcap;
  mm_buf scratch;
} conn;

/* ---- socket I/O ------------------------------------------------------------- */

static int sock_fill(void *ctx, uint8_t *p, size_t cap) {
  conn *c = ctx;
  for (;;) {
    ssize_t n = recv(c->fd, p, cap, 0);
    if (n >= 0) return (int)MM_MIN((size_t)n, (size_t)0x7fffffff);
    if (errno == EINTR) continue;
    return -1;
  }
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int conn_flush(conn *c) {
  if (c->out.oom) {
    /* Could not build the response: the stream is now inconsistent. */
    c->broken = 1;
    mm_buf_free(&c->out);
    return -1;
  }
  if (!c->broken && c->out.len && write_all(c->fd, c->out.p, c->out.len) != 0) c->broken = 1;
  if (c->out.cap > 4 * FLUSH_AT) mm_buf_free(&c->out);
  else mm_buf_reset(&c->out);
  return c->broken ? -1 : 0;
}

static inline int conn_maybe_flush(conn *c) {
  if (c->out.len >= FLUSH_AT || c->out.oom) return conn_flush(c);
  return c->broken ? -1 : 0;
}

/* After a fatal error: send what is pending, then read and discard what the
 * client still sends for a short while, so it sees our ERR packet instead
 * of a connection reset. */
static void conn_linger(conn *c) {
  conn_flush(c);
  shutdown(c->fd, SHUT_WR);
  uint64_t deadline = mm_now_us() + 2000000;
  char junk[16384];
  size_t total = 0;
  while (total < ((size_t)1 << 30)) {
    uint64_t now = mm_now_us();
    if (now >= deadline) break;
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)((deadline - now) / 1000) + 1);
    if (r <= 0) break;
    ssize_t n = recv(c->fd, junk, sizeof junk, 0);
    if (n <= 0) break;
    total += (size_t)n;
  }
}

static void set_rcv_timeout(int fd, int seconds) {
  struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* ---- packets ------------------------------------------------------------------- */

static int deprecate_eof(conn *c) { return (c->caps & PROTO_CLIENT_DEPRECATE_EOF) != 0; }

/* Not for use inside sink callbacks (it calls into the session). */
static uint16_t cur_status(conn *c) {
  if (c->s) c->status = sess_status(c->s);
  return c->status;
}

static void send_err(conn *c, int code, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void send_err(conn *c, int code, const char *sqlstate, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  proto_write_err(&c->out, &c->seq, code, sqlstate, msg);
}

static void send_mm_err(conn *c, const mm_error *e) {
  proto_write_err(&c->out, &c->seq, e->code ? e->code : 1105, e->code ? e->sqlstate : "HY000",
                  e->code ? e->msg : "Unknown error");
}

static void send_ok(conn *c) { proto_write_ok(&c->out, &c->seq, 0, 0, cur_status(c), 0, NULL); }

static void send_oom(conn *c) {
  mm_buf_reset(&c->out);
  c->out.oom = 0;
  send_err(c, 1037, "HY001", "Out of memory; restart server and try again (needed %d bytes)", 0);
}

/* ---- the sink ------------------------------------------------------------------ */

static int grow_cols(conn *c, int n) {
  if (n <= c->colcap) return 0;
  int cap = MM_MAX(n, 16);
  uint8_t *t = mm_realloc(c->types, (size_t)cap);
  if (!t) return -1;
  c->types = t;
  uint16_t *f = mm_realloc(c->flags, (size_t)cap * sizeof *f);
  if (!f) return -1;
  c->flags = f;
  c->colcap = cap;
  return 0;
}

static int sink_columns(mm_sink *sk, const mm_col *cols, int ncols) {
  conn *c = sk->ctx;
  if (ncols < 0) ncols = 0;
  if (grow_cols(c, ncols) != 0) {
    c->out.oom = 1;
    return conn_maybe_flush(c);
  }
  c->ncols = ncols;
  for (int i = 0; i < ncols; i++) {
    c->types[i] = cols[i].type;
    c->flags[i] = cols[i].flags;
  }
  size_t off = proto_pkt_begin(&c->out);
  proto_put_lenenc(&c->out, (uint64_t)ncols);
  proto_pkt_end(&c->out, off, &c->seq);
  for (int i = 0; i < ncols; i++) proto_write_coldef(&c->out, &c->seq, &cols[i], 0);
  if (!deprecate_eof(c)) proto_write_eof(&c->out, &c->seq, c->status, 0);
  return conn_maybe_flush(c);
}

static int sink_row(mm_sink *sk, const mm_cell *cells, int ncols) {
  conn *c = sk->ctx;
  if (c->binary) {
    if (ncols > c->ncols) {
      /* The session sent more cells than columns: encode extras as strings. */
      if (grow_cols(c, ncols) != 0) {
        c->out.oom = 1;
        return conn_maybe_flush(c);
      }
      for (int i = c->ncols; i < ncols; i++) {
        c->types[i] = MYSQL_TYPE_VAR_STRING;
        c->flags[i] = 0;
      }
      c->ncols = ncols;
    }
    proto_write_binary_row(&c->out, &c->seq, c->types, c->flags, cells, ncols);
  } else {
    proto_write_text_row(&c->out, &c->seq, cells, ncols);
  }
  return conn_maybe_flush(c);
}

static uint16_t more_status(uint16_t status, int more) {
  return more ? (uint16_t)(status | MM_STATUS_MORE_RESULTS)
              : (uint16_t)(status & ~MM_STATUS_MORE_RESULTS);
}

static int sink_end_rows(mm_sink *sk, uint16_t status, uint16_t warnings, int more) {
  conn *c = sk->ctx;
  c->status = status;
  proto_write_end(&c->out, &c->seq, deprecate_eof(c), more_status(status, more), warnings);
  c->final_sent = !more;
  return conn_maybe_flush(c);
}

static int sink_ok(mm_sink *sk, uint64_t affected, uint64_t insert_id, uint16_t status,
                   uint16_t warnings, const char *info, int more) {
  conn *c = sk->ctx;
  c->status = status;
  proto_write_ok(&c->out, &c->seq, affected, insert_id, more_status(status, more), warnings,
                 info);
  c->final_sent = !more;
  return conn_maybe_flush(c);
}

static int sink_error(mm_sink *sk, const mm_error *e) {
  conn *c = sk->ctx;
  send_mm_err(c, e);
  c->final_sent = 1;
  return conn_maybe_flush(c);
}

/* Start / finish one command's result stream through the sink. */
static void sink_begin(conn *c, int binary) {
  c->binary = binary;
  c->final_sent = 0;
  c->ncols = 0;
}

static void sink_finish(conn *c, int rc) {
  if (rc != 0 || c->broken) {
    c->broken = 1;
    return;
  }
  if (!c->final_sent) {
    /* The session ended without a final result: keep the client in sync. */
    mm_log_warn("conn %u: command ended without a final result packet", c->id);
    send_ok(c);
  }
}

/* ---- prepared statements ---------------------------------------------------------- */

static pstmt *stmt_find(conn *c, uint32_t id) {
  for (int i = 0; i < c->nstmts; i++)
    if (c->stmts[i].id == id) return &c->stmts[i];
  return NULL;
}

static void stmt_remove(conn *c, uint32_t id) {
  for (int i = 0; i < c->nstmts; i++) {
    if (c->stmts[i].id == id) {
      proto_stmt_params_free(&c->stmts[i].prm);
      c->stmts[i] = c->stmts[--c->nstmts];
      return;
    }
  }
}

static void stmt_free_all(conn *c) {
  for (int i = 0; i < c->nstmts; i++) proto_stmt_params_free(&c->stmts[i].prm);
  c->nstmts = 0;
}

static int stmt_add(conn *c, uint32_t id, int nparams) {
  stmt_remove(c, id);
  if (c->nstmts == c->stmtcap) {
    int cap = c->stmtcap ? c->stmtcap * 2 : 8;
    pstmt *n = mm_realloc(c->stmts, (size_t)cap * sizeof *n);
    if (!n) return MM_ENOMEM;
    c->stmts = n;
    c->stmtcap = cap;
  }
  pstmt *st = &c->stmts[c->nstmts];
  st->id = id;
  st->long_too_big = 0;
  int rc = proto_stmt_params_init(&st->prm, nparams);
  if (rc != MM_OK) return rc;
  c->nstmts++;
  return MM_OK;
}

/* ---- session lifetime ------------------------------------------------------------- */

static void conn_set_sess(conn *c, sess *s) {
  pthread_mutex_lock(c->slot->mu);
  c->slot->s = s;
  pthread_mutex_unlock(c->slot->mu);
  c->s = s;
}

static void conn_drop_sess(conn *c) {
  if (!c->s) return;
  sess *s = c->s;
  conn_set_sess(c, NULL);
  sess_free(s);
  stmt_free_all(c);
}

/* Create the session; on failure an ERR packet is queued and -1 returned. */
static int conn_open_sess(conn *c, const char *db) {
  mm_error err;
  mm_error_clear(&err);
  sess *s = sess_new(c->inst, c->id, c->user, c->slot->host, db, c->charset, &err);
  if (!s) {
    send_mm_err(c, &err);
    return -1;
  }
  sess_set_socket(s, c->fd);
  conn_set_sess(c, s);
  if (err.code) {
    send_mm_err(c, &err); /* 1049 Unknown database */
    conn_drop_sess(c);
    return -1;
  }
  if (db) {
    snprintf(c->db, sizeof c->db, "%s", db);
    c->has_db = 1;
  } else {
    c->has_db = 0;
  }
  return 0;
}

/* ---- authentication --------------------------------------------------------------- */

static int plugin_is(const char *p, size_t n, const char *name) {
  return p && n == strlen(name) && memcmp(p, name, n) == 0;
}

static int empty_token(const uint8_t *auth, size_t n) { return n == 0 || (n == 1 && auth[0] == 0); }

static int check_native(const mm_account *a, int found, const uint8_t *auth, size_t n,
                        const uint8_t *scramble) {
  if (!found) return 0;
  if (!a->has_password) return empty_token(auth, n);
  return proto_native_check(scramble, auth, n, a->native_hash);
}

/* Authenticate `user` with the client's first token under `plugin`.
 * Returns 1 (authenticated), 0 (denied: ERR 1045 queued), -1 (I/O or
 * malformed: close).  May run an AuthSwitchRequest round trip. */
static int conn_auth(conn *c, const char *plugin, size_t plen, const uint8_t *auth,
                     size_t alen) {
  mm_account acct;
  memset(&acct, 0, sizeof acct);
  int found = c->user[0] && mm_instance_account(c->inst, c->user, &acct) == MM_OK;
  int ok;
  if (!plugin || plugin_is(plugin, plen, NATIVE_PLUGIN)) {
    ok = check_native(&acct, found, auth, alen, c->scramble);
  } else if (plugin_is(plugin, plen, SHA2_PLUGIN)) {
    if (!found) ok = 0;
    else if (!acct.has_password) ok = empty_token(auth, alen);
    else {
      ok = proto_sha2_check(c->scramble, auth, alen, acct.sha2_hash);
      if (ok) {
        /* AuthMoreData: fast_auth_success. */
        size_t off = proto_pkt_begin(&c->out);
        proto_put_u8(&c->out, 0x01);
        proto_put_u8(&c->out, 0x03);
        proto_pkt_end(&c->out, off, &c->seq);
      }
    }
  } else {
    /* Unknown plugin: AuthSwitchRequest to mysql_native_password. */
    size_t off = proto_pkt_begin(&c->out);
    proto_put_u8(&c->out, 0xfe);
    mm_buf_append(&c->out, NATIVE_PLUGIN, sizeof NATIVE_PLUGIN);
    mm_buf_append(&c->out, c->scramble, PROTO_SCRAMBLE_LEN);
    proto_put_u8(&c->out, 0);
    proto_pkt_end(&c->out, off, &c->seq);
    if (conn_flush(c) != 0) return -1;
    const uint8_t *p;
    size_t n;
    int rc = proto_reader_next(&c->rd, AUTH_MAX_PACKET, &p, &n);
    if (rc != PROTO_RD_OK) return -1;
    c->seq = (uint8_t)(c->rd.seq + 1);
    auth = p;
    alen = n;
    ok = check_native(&acct, found, auth, alen, c->scramble);
  }
  if (!ok) {
    send_err(c, 1045, "28000", "Access denied for user '%s'@'%s' (using password: %s)", c->user,
             c->slot->host, empty_token(auth, alen) ? "NO" : "YES");
    return 0;
  }
  return 1;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n) {
  if (!s) n = 0;
  if (n >= cap) n = cap - 1;
  if (n) memcpy(dst, s, n);
  dst[n] = 0;
}

/* The connection phase.  0 when the client is authenticated and has a
 * session (OK sent), -1 otherwise (an ERR may be queued). */
static int conn_handshake(conn *c) {
  if (proto_make_scramble(c->scramble) != MM_OK) {
    send_err(c, 1105, "HY000", "Unknown error: no random source");
    return -1;
  }
  mm_buf_reset(&c->out);
  proto_write_handshake(&c->out, c->id, c->scramble, PROTO_SERVER_CAPS, MM_CS_UTF8MB4,
                        MM_STATUS_AUTOCOMMIT, MM_VERSION, NATIVE_PLUGIN);
  if (conn_flush(c) != 0) return -1;

  const uint8_t *p;
  size_t n;
  int rc = proto_reader_next(&c->rd, AUTH_MAX_PACKET, &p, &n);
  if (rc != PROTO_RD_OK) {
    if (rc == PROTO_RD_TOO_BIG) {
      c->seq = 2;
      send_err(c, 1043, "08S01", "Bad handshake");
    }
    return -1;
  }
  c->seq = (uint8_t)(c->rd.seq + 1);
  proto_hs_resp hs;
  if (proto_parse_handshake_response(p, n, &hs) != MM_OK) {
    send_err(c, 1043, "08S01", "Bad handshake");
    return -1;
  }
  if (hs.is_ssl_request) {
    send_err(c, 1043, "08S01", "Bad handshake: SSL is not supported by this server");
    return -1;
  }
  c->caps = hs.caps & PROTO_SERVER_CAPS;
  c->charset = hs.charset;
  c->multi = (c->caps & PROTO_CLIENT_MULTI_STATEMENTS) != 0;
  if (hs.user_len >= sizeof c->user || memchr(hs.user, 0, hs.user_len)) {
    send_err(c, 1045, "28000", "Access denied for user '%.*s'@'%s' (using password: %s)",
             (int)MM_MIN(hs.user_len, 64), hs.user, c->slot->host, hs.auth_len ? "YES" : "NO");
    return -1;
  }
  copy_str(c->user, sizeof c->user, hs.user, hs.user_len);
  char db[256];
  int has_db = hs.db && hs.db_len > 0;
  if (has_db && hs.db_len >= sizeof db) {
    send_err(c, 1102, "42000", "Incorrect database name '%.*s'", 64, hs.db);
    return -1;
  }
  copy_str(db, sizeof db, hs.db, hs.db_len);
  /* hs points into the reader buffer: conn_auth may read again, so only
   * the plugin name and token are used before that, and db is copied. */
  char plugin[64];
  int has_plugin = hs.plugin && hs.plugin_len > 0 && hs.plugin_len < sizeof plugin;
  copy_str(plugin, sizeof plugin, hs.plugin, has_plugin ? hs.plugin_len : 0);
  rc = conn_auth(c, has_plugin ? plugin : NULL, has_plugin ? strlen(plugin) : 0, hs.auth,
                 hs.auth_len);
  if (rc != 1) return -1;
  if (conn_open_sess(c, has_db ? db : NULL) != 0) return -1;
  send_ok(c);
  return 0;
}

/* ---- commands ---------------------------------------------------------------------- */

static void com_query(conn *c, const uint8_t *p, size_t n) {
  sink_begin(c, 0);
  int rc = sess_query(c->s, (const char *)p, n, c->multi, &c->sink);
  sink_finish(c, rc);
}

static void com_init_db(conn *c, const uint8_t *p, size_t n) {
  char *db = mm_strndup((const char *)p, n);
  if (!db) {
    send_oom(c);
    return;
  }
  mm_error err;
  mm_error_clear(&err);
  if (sess_use(c->s, db, &err) != 0 || err.code) {
    send_mm_err(c, &err);
  } else {
    snprintf(c->db, sizeof c->db, "%s", db);
    c->has_db = 1;
    send_ok(c);
  }
  mm_free(db);
}

static void com_field_list(conn *c, const uint8_t *p, size_t n) {
  const uint8_t *z = memchr(p, 0, n);
  size_t tlen = z ? (size_t)(z - p) : n;
  char *table = mm_strndup((const char *)p, tlen);
  char *wild = z && (size_t)(z - p) + 1 < n
                   ? mm_strndup((const char *)z + 1, n - tlen - 1)
                   : NULL;
  if (!table || (z && (size_t)(z - p) + 1 < n && !wild)) {
    mm_free(table);
    mm_free(wild);
    send_oom(c);
    return;
  }
  const mm_col *cols = NULL;
  int ncols = 0;
  mm_error err;
  mm_error_clear(&err);
  if (sess_field_list(c->s, table, wild && *wild ? wild : NULL, &cols, &ncols, &err) != 0 ||
      err.code) {
    send_mm_err(c, &err);
  } else {
    for (int i = 0; i < ncols; i++) {
      proto_write_coldef(&c->out, &c->seq, &cols[i], 1);
      if (conn_maybe_flush(c) != 0) break;
    }
    proto_write_end(&c->out, &c->seq, deprecate_eof(c), cur_status(c), 0);
  }
  mm_free(table);
  mm_free(wild);
}

static void com_statistics(conn *c) {
  mm_buf text;
  mm_buf_init(&text);
  sess_statistics(c->s, &text);
  size_t off = proto_pkt_begin(&c->out);
  if (text.len) mm_buf_append(&c->out, text.p, text.len);
  proto_pkt_end(&c->out, off, &c->seq);
  mm_buf_free(&text);
}

static void com_set_option(conn *c, const uint8_t *p, size_t n) {
  if (n < 2) {
    send_err(c, 1835, "HY000", "Malformed communication packet.");
    return;
  }
  uint16_t opt = mm_get_u16le(p);
  if (opt > 1) {
    send_err(c, 1047, "08S01", "Unknown command");
    return;
  }
  c->multi = opt == 0;
  sess_set_multi(c->s, opt == 0);
  proto_write_end(&c->out, &c->seq, deprecate_eof(c), cur_status(c), 0);
}

static void com_process_kill(conn *c, const uint8_t *p, size_t n) {
  if (n < 4) {
    send_err(c, 1835, "HY000", "Malformed communication packet.");
    return;
  }
  char sql[32];
  int k = snprintf(sql, sizeof sql, "KILL %u", mm_get_u32le(p));
  com_query(c, (const uint8_t *)sql, (size_t)k);
}

static void com_stmt_prepare(conn *c, const uint8_t *p, size_t n) {
  uint32_t id = 0;
  int nparams = 0, ncols = 0;
  const mm_col *cols = NULL;
  mm_error err;
  mm_error_clear(&err);
  if (sess_prepare(c->s, (const char *)p, n, &id, &nparams, &cols, &ncols, &err) != 0 ||
      err.code) {
    send_mm_err(c, &err);
    return;
  }
  if (nparams < 0 || nparams > PROTO_MAX_PARAMS || ncols < 0 || ncols > 65535) {
    sess_stmt_close(c->s, id);
    send_err(c, 1390, "HY000", "Prepared statement contains too many placeholders");
    return;
  }
  if (stmt_add(c, id, nparams) != MM_OK) {
    sess_stmt_close(c->s, id);
    send_oom(c);
    return;
  }
  proto_write_prepare_ok(&c->out, &c->seq, id, (uint16_t)ncols, (uint16_t)nparams, 0);
  if (nparams) {
    mm_col pc = {.db = "", .table = "", .org_table = "", .name = "?", .org_name = "",
                 .charset = MM_CS_BINARY, .length = 0, .type = MYSQL_TYPE_VAR_STRING,
                 .flags = MM_FLAG_BINARY, .decimals = 0};
    for (int i = 0; i < nparams; i++) proto_write_coldef(&c->out, &c->seq, &pc, 0);
    if (!deprecate_eof(c)) proto_write_eof(&c->out, &c->seq, cur_status(c), 0);
  }
  if (ncols) {
    for (int i = 0; i < ncols; i++) proto_write_coldef(&c->out, &c->seq, &cols[i], 0);
    if (!deprecate_eof(c)) proto_write_eof(&c->out, &c->seq, cur_status(c), 0);
  }
}

static void unknown_stmt(conn *c, uint32_t id, const char *cmd) {
  send_err(c, 1243, "HY000", "Unknown prepared statement handler (%u) given to %s", id, cmd);
}

static void com_stmt_execute(conn *c, const uint8_t *p, size_t n) {
  uint32_t id;
  if (proto_parse_stmt_id(p, n, &id) != MM_OK) {
    send_err(c, 1210, "HY000", "Incorrect arguments to mysqld_stmt_execute");
    return;
  }
  pstmt *st = stmt_find(c, id);
  if (!st) {
    unknown_stmt(c, id, "mysqld_stmt_execute");
    return;
  }
  if (st->long_too_big) {
    st->long_too_big = 0;
    proto_stmt_clear_long(&st->prm);
    send_err(c, 1153, "08S01",
             "Parameter of prepared statement which is set through mysql_send_long_data() is "
             "longer than 'max_allowed_packet' bytes");
    return;
  }
  int np = st->prm.nparams;
  if (np > c->valcap) {
    mm_value *v = mm_realloc(c->vals, (size_t)np * sizeof *v);
    if (!v) {
      send_oom(c);
      return;
    }
    c->vals = v;
    c->valcap = np;
  }
  uint8_t flags = 0;
  int rc = proto_parse_execute(p, n, &st->prm, c->vals, &c->scratch, &flags);
  if (rc == MM_ENOMEM) {
    proto_stmt_clear_long(&st->prm);
    send_oom(c);
    return;
  }
  if (rc != MM_OK) {
    proto_stmt_clear_long(&st->prm);
    send_err(c, 1210, "HY000", "Incorrect arguments to mysqld_stmt_execute");
    return;
  }
  sink_begin(c, 1);
  rc = sess_execute(c->s, id, c->vals, np, &c->sink);
  /* The session may have closed the statement (it should not); look again. */
  st = stmt_find(c, id);
  if (st) proto_stmt_clear_long(&st->prm);
  if (c->scratch.cap > 65536) mm_buf_free(&c->scratch);
  sink_finish(c, rc);
}

static void com_stmt_send_long_data(conn *c, const uint8_t *p, size_t n) {
  /* No response, ever; errors surface at execute time (as in MySQL). */
  if (n < 6) return;
  pstmt *st = stmt_find(c, mm_get_u32le(p));
  if (!st) return;
  int param = mm_get_u16le(p + 4);
  if (param >= st->prm.nparams) return;
  size_t have = st->prm.long_data ? st->prm.long_data[param].len : 0;
  if (have + (n - 6) > sess_max_allowed_packet(c->s)) {
    st->long_too_big = 1;
    return;
  }
  if (proto_stmt_long_data(&st->prm, param, p + 6, n - 6) != MM_OK) st->long_too_big = 1;
}

static void com_stmt_close(conn *c, const uint8_t *p, size_t n) {
  uint32_t id;
  if (proto_parse_stmt_id(p, n, &id) != MM_OK) return;
  stmt_remove(c, id);
  sess_stmt_close(c->s, id);
}

static void com_stmt_reset(conn *c, const uint8_t *p, size_t n) {
  uint32_t id;
  if (proto_parse_stmt_id(p, n, &id) != MM_OK) {
    send_err(c, 1835, "HY000", "Malformed communication packet.");
    return;
  }
  pstmt *st = stmt_find(c, id);
  if (!st) {
    unknown_stmt(c, id, "mysqld_stmt_reset");
    return;
  }
  proto_stmt_clear_long(&st->prm);
  st->long_too_big = 0;
  mm_error err;
  mm_error_clear(&err);
  if (sess_stmt_reset(c->s, id, &err) != 0 || err.code) send_mm_err(c, &err);
  else send_ok(c);
}

static void com_stmt_fetch(conn *c, const uint8_t *p, size_t n) {
  uint32_t id;
  if (proto_parse_stmt_id(p, n, &id) != MM_OK) {
    send_err(c, 1835, "HY000", "Malformed communication packet.");
    return;
  }
  if (!stmt_find(c, id)) {
    unknown_stmt(c, id, "mysqld_stmt_fetch");
    return;
  }
  send_err(c, 1421, "HY000", "The statement (%u) has no open cursor.", id);
}

static int com_reset_connection(conn *c) {
  char db[256];
  int has_db = c->has_db;
  snprintf(db, sizeof db, "%s", c->db);
  conn_drop_sess(c);
  if (conn_open_sess(c, has_db ? db : NULL) != 0) return -1;
  c->multi = (c->caps & PROTO_CLIENT_MULTI_STATEMENTS) != 0;
  send_ok(c);
  return 0;
}

/* COM_CHANGE_USER: re-authenticate against the connection's scramble (what
 * libmysql/libmariadb send), then replace the session.  A failure ends the
 * connection.  Returns -1 to close. */
static int com_change_user(conn *c, const uint8_t *p, size_t n) {
  proto_change_user cu;
  if (proto_parse_change_user(p, n, c->caps, &cu) != MM_OK) {
    send_err(c, 1835, "HY000", "Malformed communication packet.");
    return -1;
  }
  if (cu.user_len >= sizeof c->user) {
    send_err(c, 1045, "28000", "Access denied for user '%.*s'@'%s' (using password: YES)", 64,
             cu.user, c->slot->host);
    return -1;
  }
  char db[256], plugin[64];
  if (cu.db_len >= sizeof db) {
    send_err(c, 1102, "42000", "Incorrect database name '%.*s'", 64, cu.db);
    return -1;
  }
  copy_str(db, sizeof db, cu.db, cu.db_len);
  int has_plugin = cu.plugin && cu.plugin_len > 0 && cu.plugin_len < sizeof plugin;
  copy_str(plugin, sizeof plugin, cu.plugin, has_plugin ? cu.plugin_len : 0);
  conn_drop_sess(c);
  copy_str(c->user, sizeof c->user, cu.user, cu.user_len);
  if (cu.charset) c->charset = cu.charset;
  int rc = conn_auth(c, has_plugin ? plugin : NULL, has_plugin ? strlen(plugin) : 0, cu.auth,
                     cu.auth_len);
  if (rc != 1) return -1;
  if (conn_open_sess(c, db[0] ? db : NULL) != 0) return -1;
  c->multi = (c->caps & PROTO_CLIENT_MULTI_STATEMENTS) != 0;
  send_ok(c);
  return 0;
}

/* One command.  Returns -1 when the connection must close. */
static int conn_dispatch(conn *c, const uint8_t *pkt, size_t len) {
  if (len == 0) {
    send_err(c, 1047, "08S01", "Unknown command");
    return 0;
  }
  const uint8_t *p = pkt + 1;
  size_t n = len - 1;
  switch (pkt[0]) {
  case PROTO_COM_QUIT: return -1;
  case PROTO_COM_QUERY: com_query(c, p, n); break;
  case PROTO_COM_INIT_DB: com_init_db(c, p, n); break;
  case PROTO_COM_PING: send_ok(c); break;
  case PROTO_COM_FIELD_LIST: com_field_list(c, p, n); break;
  case PROTO_COM_STATISTICS: com_statistics(c); break;
  case PROTO_COM_SET_OPTION: com_set_option(c, p, n); break;
  case PROTO_COM_PROCESS_KILL: com_process_kill(c, p, n); break;
  case PROTO_COM_STMT_PREPARE: com_stmt_prepare(c, p, n); break;
  case PROTO_COM_STMT_EXECUTE: com_stmt_execute(c, p, n); break;
  case PROTO_COM_STMT_SEND_LONG_DATA: com_stmt_send_long_data(c, p, n); break;
  case PROTO_COM_STMT_CLOSE: com_stmt_close(c, p, n); break;
  case PROTO_COM_STMT_RESET: com_stmt_reset(c, p, n); break;
  case PROTO_COM_STMT_FETCH: com_stmt_fetch(c, p, n); break;
  case PROTO_COM_RESET_CONNECTION: return com_reset_connection(c);
  case PROTO_COM_CHANGE_USER: return com_change_user(c, p, n);
  default: send_err(c, 1047, "08S01", "Unknown command"); break;
  }
  return 0;
}

static void conn_loop(conn *c) {
  for (;;) {
    const uint8_t *p;
    size_t n;
    uint64_t max = c->s ? sess_max_allowed_packet(c->s) : AUTH_MAX_PACKET;
    if (max < 1024) max = 1024; /* MySQL's minimum */
    int rc = proto_reader_next(&c->rd, max, &p, &n);
    if (rc != PROTO_RD_OK) {
      if (rc == PROTO_RD_TOO_BIG) {
        c->seq = (uint8_t)(c->rd.seq + 1);
        send_err(c, 1153, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes");
        conn_linger(c);
      } else if (rc == PROTO_RD_ORDER) {
        c->seq = (uint8_t)(c->rd.seq + 1);
        send_err(c, 1156, "08S01", "Got packets out of order");
        conn_linger(c);
      } else if (rc == PROTO_RD_NOMEM) {
        send_oom(c);
        conn_linger(c);
      }
      return;
    }
    c->seq = (uint8_t)(c->rd.seq + 1);
    int stop = conn_dispatch(c, p, n);
    if (conn_flush(c) != 0 || stop) return;
    if (!c->s || sess_killed(c->s)) return;
  }
}

void proto_send_err_now(int fd, uint8_t seq, int code, const char *sqlstate, const char *msg) {
  mm_buf b;
  mm_buf_init(&b);
  proto_write_err(&b, &seq, code, sqlstate, msg);
  if (!b.oom && b.len) {
    ssize_t k = send(fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)k;
  }
  mm_buf_free(&b);
}

void proto_conn_main(proto_slot *slot) {
  conn *c = mm_calloc(1, sizeof *c);
  int fd = slot->fd;
  if (!c) goto close_fd;
  c->slot = slot;
  c->inst = slot->inst;
  c->fd = fd;
  mm_buf_init(&c->out);
  mm_buf_init(&c->scratch);
  c->status = MM_STATUS_AUTOCOMMIT;
  c->sink = (mm_sink){.columns = sink_columns, .row = sink_row, .end_rows = sink_end_rows,
                      .ok = sink_ok, .error = sink_error, .ctx = c};
  if (proto_reader_init(&c->rd, INBUF_SIZE, sock_fill, c) != MM_OK) goto free_conn;
  c->id = mm_instance_next_conn_id(c->inst);
  mm_instance_count_connection(c->inst, 0);

  set_rcv_timeout(fd, HANDSHAKE_TIMEOUT_S);
  if (conn_handshake(c) != 0) {
    mm_instance_count_connection(c->inst, 1);
    conn_linger(c);
    goto free_reader;
  }
  set_rcv_timeout(fd, 0);
  if (conn_flush(c) == 0) conn_loop(c);
  conn_flush(c);

free_reader:
  conn_drop_sess(c);
  proto_reader_free(&c->rd);
free_conn:
  if (c) {
    stmt_free_all(c);
    mm_free(c->stmts);
    mm_free(c->vals);
    mm_free(c->types);
    mm_free(c->flags);
    mm_buf_free(&c->scratch);
    mm_buf_free(&c->out);
    mm_free(c);
  }
close_fd:
  pthread_mutex_lock(slot->mu);
  slot->fd = -1;
  slot->s = NULL;
  close(fd);
  pthread_mutex_unlock(slot->mu);
}
