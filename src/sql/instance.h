/*
 * sql/instance.h - the running node: options, storage, catalog, users and
 * the process list, shared by every session.
 *
 * Created once by main() (mm_instance_open), then read by every connection
 * thread.  Mutable parts (process list, global variables, counters) are
 * protected by the instance's own locks.
 */
#ifndef MM_SQL_INSTANCE_H
#define MM_SQL_INSTANCE_H

#include <stdint.h>
#include "util/mm.h"

#define MM_VERSION "5.7.99-mmsql-0.1"
#define MM_VERSION_COMMENT "mmsql multi-master cluster"

typedef struct mm_options {
  char *datadir;             /* --datadir */
  int port;                  /* --port, default 3306 */
  char *bind_address;        /* --bind-address, default 127.0.0.1 */
  uint32_t server_id;        /* --server-id, default 1 */
  int auto_increment_offset; /* --auto-increment-offset (1..16), default 1 */
  char *log_error;           /* --log-error; NULL/"" = stderr */
  char *general_log_file;    /* --general-log-file */
  int general_log;           /* --general-log */
  char *slow_query_log_file; /* --slow-query-log-file */
  int slow_query_log;        /* --slow-query-log */
  double long_query_time;    /* --long-query-time, seconds */
  char *root_password;       /* --root-password, used when initialising a datadir */
  char *pid_file;            /* --pid-file; default <datadir>/mmsqld.pid */
  uint64_t max_allowed_packet; /* --max-allowed-packet, default 64M */
  int max_connections;       /* --max-connections, default 151 */
  int sync_binlog_fsync;     /* --innodb-flush-log-at-trx-commit (1 = fsync each group) */
} mm_options;

typedef struct mm_instance mm_instance;

/* Stored credentials of one account (the hashes MySQL keeps). */
typedef struct mm_account {
  int has_password;
  uint8_t native_hash[20]; /* SHA1(SHA1(password)): mysql_native_password */
  uint8_t sha2_hash[32];   /* SHA256(SHA256(password)): caching_sha2_password fast path */
} mm_account;

/* Open the node on opts->datadir (initialising an empty one).  The options
 * are copied.  MM_OK or an error with err filled. */
int mm_instance_open(const mm_options *opts, mm_instance **out, mm_error *err);
void mm_instance_close(mm_instance *inst);
const mm_options *mm_instance_options(mm_instance *inst);

/* Look up an account by user name (host is ignored for now: root@%).
 * MM_OK or MM_ENOTFOUND. */
int mm_instance_account(mm_instance *inst, const char *user, mm_account *out);

/* Connection ids, unique for the life of the process (starting at 1). */
uint32_t mm_instance_next_conn_id(mm_instance *inst);
/* Counters for SHOW STATUS: connections accepted, aborted, ... */
void mm_instance_count_connection(mm_instance *inst, int aborted);
/* Server-wide max_allowed_packet (SET GLOBAL changes it). */
uint64_t mm_instance_max_allowed_packet(mm_instance *inst);

#endif
