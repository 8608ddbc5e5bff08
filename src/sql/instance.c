/*
 * sql/instance.c - the running node: data directory, storage, catalog,
 * accounts, process list and global counters.  See instance.h.
 *
 * Data directory layout:
 *   <datadir>/mmsqld.lock   flock()ed while a server runs on the directory
 *   <datadir>/mmsqld.pid    pid of the running server
 *   <datadir>/db/           the RocksDB database (store/)
 * Accounts live in the store under STORE_PFX_META "account:<user>".
 */
#include "sql/instanceInt.h"
#include "txn/commit.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
  return 0;
}

static void account_key(const char *user, mm_buf *k) {
  mm_buf_putc(k, STORE_PFX_META);
  mm_buf_puts(k, "account:");
  mm_buf_puts(k, user);
}

/* Compute both stored hashes of a password. */
static void account_hash(const char *pw, mm_account *a) {
  uint8_t h1[SHA256_DIGEST_LENGTH];
  memset(a, 0, sizeof *a);
  a->has_password = pw && *pw;
  if (!a->has_password) return;
  SHA1((const unsigned char *)pw, strlen(pw), h1);
  SHA1(h1, SHA_DIGEST_LENGTH, a->native_hash);
  SHA256((const unsigned char *)pw, strlen(pw), h1);
  SHA256(h1, SHA256_DIGEST_LENGTH, a->sha2_hash);
}

static int account_store(mm_instance *inst, const char *user, const mm_account *a) {
  mm_buf k;
  mm_buf_init(&k);
  account_key(user, &k);
  unsigned char v[53];
  v[0] = (unsigned char)a->has_password;
  memcpy(v + 1, a->native_hash, 20);
  memcpy(v + 21, a->sha2_hash, 32);
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  rocksdb_writebatch_put(wb, k.p, k.len, (const char *)v, sizeof v);
  int rc = store_write(inst->st, wb, 1);
  rocksdb_writebatch_destroy(wb);
  mm_buf_free(&k);
  return rc;
}

int mm_instance_account(mm_instance *inst, const char *user, mm_account *out) {
  mm_buf k;
  mm_buf_init(&k);
  account_key(user, &k);
  char *v = NULL;
  size_t vn = 0;
  int rc = k.oom ? MM_ENOMEM : store_get(inst->st, k.p, k.len, &v, &vn);
  mm_buf_free(&k);
  if (rc != MM_OK) return rc;
  if (vn != 53) { mm_free(v); return MM_ECORRUPT; }
  out->has_password = v[0];
  memcpy(out->native_hash, v + 1, 20);
  memcpy(out->sha2_hash, v + 21, 32);
  mm_free(v);
  return MM_OK;
}

static char *dup_or_null(const char *s) { return s ? mm_strdup(s) : NULL; }

static void options_copy(mm_options *d, const mm_options *s) {
  *d = *s;
  d->datadir = dup_or_null(s->datadir);
  d->bind_address = dup_or_null(s->bind_address);
  d->log_error = dup_or_null(s->log_error);
  d->general_log_file = dup_or_null(s->general_log_file);
  d->slow_query_log_file = dup_or_null(s->slow_query_log_file);
  d->root_password = NULL; /* never kept in memory longer than needed */
  d->pid_file = dup_or_null(s->pid_file);
}

static void options_free(mm_options *o) {
  mm_free(o->datadir);
  mm_free(o->bind_address);
  mm_free(o->log_error);
  mm_free(o->general_log_file);
  mm_free(o->slow_query_log_file);
  mm_free(o->pid_file);
}

int mm_instance_open(const mm_options *opts, mm_instance **out, mm_error *err) {
  mm_instance *inst = mm_calloc(1, sizeof *inst);
  if (!inst) return mm_error_set(err, 1037, "HY001", "Out of memory");
  options_copy(&inst->opt, opts);
  pthread_mutex_init(&inst->mu, NULL);
  inst->lock_fd = -1;
  inst->next_conn_id = 1;
  inst->start_us = mm_now_us();
  inst->max_allowed_packet = opts->max_allowed_packet;
  char path[4096];
  int fresh = 0;

  if (mkdir_p(opts->datadir) != 0) {
    mm_error_set(err, 1, "HY000", "Can't create data directory '%s' (errno: %d)", opts->datadir, errno);
    goto err_after_alloc;
  }
  snprintf(path, sizeof path, "%s/mmsqld.lock", opts->datadir);
  inst->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (inst->lock_fd < 0 || flock(inst->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    mm_error_set(err, 1, "HY000",
                 "Unable to lock %s: another mmsqld is already running on data directory '%s'",
                 path, opts->datadir);
    goto err_after_alloc;
  }
  snprintf(path, sizeof path, "%s/db", opts->datadir);
  struct stat sb;
  fresh = stat(path, &sb) != 0;
  char *emsg = NULL;
  if (store_open(path, &inst->st, &emsg) != MM_OK) {
    mm_error_set(err, 1, "HY000", "Can't open the store in %s: %s", path, emsg ? emsg : "?");
    mm_free(emsg);
    goto err_after_lock;
  }
  /* The commit pipeline first: opening it replays its log into the store,
   * before anything (the catalog) is read from it. */
  if (!cm_pipe_get(inst->st)) {
    mm_error_set(err, 1, "HY000", "Can't open the commit log of %s (see the error log)", path);
    goto err_after_store;
  }
  if (tbl_catalog_open(inst->st, &inst->cat, err) != MM_OK) goto err_after_store;

  mm_account acc;
  if (mm_instance_account(inst, "root", &acc) == MM_ENOTFOUND) {
    account_hash(opts->root_password, &acc);
    if (account_store(inst, "root", &acc) != MM_OK) {
      mm_error_set(err, 1, "HY000", "Can't write the root account to the store");
      goto err_after_catalog;
    }
    mm_log_note("Initialised a new data directory in %s (root %s password)", opts->datadir,
                acc.has_password ? "with a" : "with an empty");
  } else if (fresh) {
    mm_log_note("Data directory %s opened", opts->datadir);
  }
  if (vars_init_globals(inst) != MM_OK) {
    mm_error_set(err, 1037, "HY001", "Out of memory");
    goto err_after_catalog;
  }
  cm_set_flush_mode(cm_pipe_get(inst->st), opts->sync_binlog_fsync);
  if (opts->general_log_file && *opts->general_log_file) {
    inst->general_log = fopen(opts->general_log_file, "a");
    if (!inst->general_log) mm_log_warn("Can't open general log %s", opts->general_log_file);
    else setvbuf(inst->general_log, NULL, _IOLBF, 0);
  }
  if (opts->slow_query_log_file && *opts->slow_query_log_file) {
    inst->slow_log = fopen(opts->slow_query_log_file, "a");
    if (!inst->slow_log) mm_log_warn("Can't open slow query log %s", opts->slow_query_log_file);
    else setvbuf(inst->slow_log, NULL, _IOLBF, 0);
  }
  *out = inst;
  return MM_OK;

err_after_catalog:
  tbl_catalog_close(inst->cat);
err_after_store:
  store_close(inst->st);
err_after_lock:
  close(inst->lock_fd);
  inst->lock_fd = -1;
err_after_alloc:
  if (inst->lock_fd >= 0 && !inst->st) close(inst->lock_fd);
  options_free(&inst->opt);
  mm_free(inst);
  return MM_ESQL;
}

void mm_instance_close(mm_instance *inst) {
  if (!inst) return;
  if (inst->general_log) fclose(inst->general_log);
  if (inst->slow_log) fclose(inst->slow_log);
  vars_free_globals(inst);
  tbl_catalog_close(inst->cat);
  store_close(inst->st);
  if (inst->lock_fd >= 0) close(inst->lock_fd);
  mm_free(inst->procs);
  options_free(&inst->opt);
  pthread_mutex_destroy(&inst->mu);
  mm_free(inst);
}

const mm_options *mm_instance_options(mm_instance *inst) { return &inst->opt; }

uint32_t mm_instance_next_conn_id(mm_instance *inst) {
  pthread_mutex_lock(&inst->mu);
  uint32_t id = inst->next_conn_id++;
  pthread_mutex_unlock(&inst->mu);
  return id;
}

void mm_instance_count_connection(mm_instance *inst, int aborted) {
  pthread_mutex_lock(&inst->mu);
  if (aborted) inst->stat_aborted_connects++;
  else inst->stat_connections++;
  pthread_mutex_unlock(&inst->mu);
}

uint64_t mm_instance_max_allowed_packet(mm_instance *inst) {
  pthread_mutex_lock(&inst->mu);
  uint64_t v = inst->max_allowed_packet;
  pthread_mutex_unlock(&inst->mu);
  return v;
}

/* ---- process list ------------------------------------------------------- */
int inst_proc_add(mm_instance *inst, sess *s) {
  pthread_mutex_lock(&inst->mu);
  if (inst->nprocs == inst->capprocs) {
    int cap = inst->capprocs ? inst->capprocs * 2 : 16;
    sess **p = mm_realloc(inst->procs, (size_t)cap * sizeof *p);
    if (!p) { pthread_mutex_unlock(&inst->mu); return MM_ENOMEM; }
    inst->procs = p;
    inst->capprocs = cap;
  }
  inst->procs[inst->nprocs++] = s;
  pthread_mutex_unlock(&inst->mu);
  return MM_OK;
}

void inst_proc_remove(mm_instance *inst, sess *s) {
  pthread_mutex_lock(&inst->mu);
  for (int i = 0; i < inst->nprocs; i++)
    if (inst->procs[i] == s) { inst->procs[i] = inst->procs[--inst->nprocs]; break; }
  pthread_mutex_unlock(&inst->mu);
}

void inst_general_log(mm_instance *inst, uint32_t id, const char *cmd, const char *text, size_t n) {
  if (!inst->general_log) return;
  char ts[64];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%y%m%d %H:%M:%S", &tm);
  pthread_mutex_lock(&inst->mu);
  fprintf(inst->general_log, "%s\t%6u %s\t%.*s\n", ts, id, cmd, (int)n, text);
  pthread_mutex_unlock(&inst->mu);
}
