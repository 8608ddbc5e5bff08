/*
 * sql/instanceInt.h - private to the sql module: the instance struct, the
 * process list and the system-variable tables.
 */
#ifndef MM_SQL_INSTANCEINT_H
#define MM_SQL_INSTANCEINT_H

#include <pthread.h>
#include <stdio.h>

#include "sql/instance.h"
#include "sql/vars.h"
#include "store/store.h"
#include "table/catalog.h"

typedef struct sess sess;

struct mm_instance {
  mm_options opt;
  store *st;
  tbl_catalog *cat;
  int lock_fd;
  FILE *general_log, *slow_log;
  uint64_t start_us;
  pthread_mutex_t mu; /* guards everything below */
  uint32_t next_conn_id;
  uint64_t max_allowed_packet;
  sess **procs;
  int nprocs, capprocs;
  var_val *globals; /* one per var_defs entry */
  /* counters (SHOW STATUS); stat_questions is updated with atomics, not mu */
  uint64_t stat_connections, stat_aborted_connects, stat_questions, stat_com_commit,
      stat_com_rollback, stat_slow_queries;
};

int inst_proc_add(mm_instance *inst, sess *s);
void inst_proc_remove(mm_instance *inst, sess *s);
void inst_general_log(mm_instance *inst, uint32_t id, const char *cmd, const char *text, size_t n);

#endif
