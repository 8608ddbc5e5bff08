/*
 * sql/vars.c - the system variable table and value handling.  See vars.h.
 *
 * Names and defaults follow MySQL 5.7, plus the Aurora multi-master and
 * Galera (wsrep_*) names that mmsql's users expect.  Variables with a NULL
 * default are computed from the options at start (port, server_id, ...).
 */
#include "sql/vars.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql/instanceInt.h"
#include "txn/commit.h"

#define G VS_GLOBAL
#define S VS_SESSION
#define B VS_BOTH
#define RO VF_READONLY

const var_def var_defs[] = {
    {"aurora_mm_session_consistency_level", VT_ENUM, B, 0, "INSTANCE_RAW", "INSTANCE_RAW,REGIONAL_RAW", 0, 0},
    {"aurora_server_id", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"auto_increment_increment", VT_UINT, B, RO, "16", NULL, 1, 65535},
    {"auto_increment_offset", VT_UINT, B, RO, NULL, NULL, 1, 65535},
    {"autocommit", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"automatic_sp_privileges", VT_BOOL, G, 0, "1", NULL, 0, 0},
    {"back_log", VT_INT, G, RO, "80", NULL, 0, 0},
    {"basedir", VT_STR, G, RO, "/usr", NULL, 0, 0},
    {"big_tables", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"bind_address", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"binlog_format", VT_ENUM, B, 0, "ROW", "ROW,STATEMENT,MIXED", 0, 0},
    {"character_set_client", VT_STR, B, 0, "utf8mb4", NULL, 0, 0},
    {"character_set_connection", VT_STR, B, 0, "utf8mb4", NULL, 0, 0},
    {"character_set_database", VT_STR, B, 0, "utf8mb4", NULL, 0, 0},
    {"character_set_filesystem", VT_STR, B, 0, "binary", NULL, 0, 0},
    {"character_set_results", VT_STR, B, VF_NULLABLE, "utf8mb4", NULL, 0, 0},
    {"character_set_server", VT_STR, B, 0, "utf8mb4", NULL, 0, 0},
    {"character_set_system", VT_STR, G, RO, "utf8", NULL, 0, 0},
    {"collation_connection", VT_STR, B, 0, "utf8mb4_general_ci", NULL, 0, 0},
    {"collation_database", VT_STR, B, 0, "utf8mb4_general_ci", NULL, 0, 0},
    {"collation_server", VT_STR, B, 0, "utf8mb4_general_ci", NULL, 0, 0},
    {"completion_type", VT_ENUM, B, 0, "NO_CHAIN", "NO_CHAIN,CHAIN,RELEASE", 0, 0},
    {"connect_timeout", VT_UINT, G, 0, "10", NULL, 2, 31536000},
    {"datadir", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"default_storage_engine", VT_STR, B, 0, "InnoDB", NULL, 0, 0},
    {"default_tmp_storage_engine", VT_STR, B, 0, "InnoDB", NULL, 0, 0},
    {"default_week_format", VT_UINT, B, 0, "0", NULL, 0, 7},
    {"div_precision_increment", VT_UINT, B, 0, "4", NULL, 0, 30},
    {"explicit_defaults_for_timestamp", VT_BOOL, B, RO, "1", NULL, 0, 0},
    {"foreign_key_checks", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"general_log", VT_BOOL, G, 0, NULL, NULL, 0, 0},
    {"general_log_file", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"group_concat_max_len", VT_UINT, B, 0, "1024", NULL, 4, 0},
    {"have_ssl", VT_STR, G, RO, "DISABLED", NULL, 0, 0},
    {"hostname", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"identity", VT_UINT, S, 0, "0", NULL, 0, 0},
    {"init_connect", VT_STR, G, 0, "", NULL, 0, 0},
    {"innodb_autoinc_lock_mode", VT_INT, G, RO, "2", NULL, 0, 0},
    {"innodb_buffer_pool_size", VT_UINT, G, RO, "134217728", NULL, 0, 0},
    {"innodb_flush_log_at_trx_commit", VT_UINT, G, 0, "1", NULL, 0, 2},
    {"innodb_lock_wait_timeout", VT_UINT, B, 0, "50", NULL, 1, 1073741824},
    {"innodb_read_only", VT_BOOL, G, RO, "0", NULL, 0, 0},
    {"innodb_rollback_on_timeout", VT_BOOL, G, RO, "0", NULL, 0, 0},
    {"innodb_strict_mode", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"insert_id", VT_UINT, S, 0, "0", NULL, 0, 0},
    {"interactive_timeout", VT_UINT, B, 0, "28800", NULL, 1, 31536000},
    {"last_insert_id", VT_UINT, S, 0, "0", NULL, 0, 0},
    {"lc_messages", VT_STR, B, 0, "en_US", NULL, 0, 0},
    {"lc_time_names", VT_STR, B, 0, "en_US", NULL, 0, 0},
    {"license", VT_STR, G, RO, "GPL", NULL, 0, 0},
    {"local_infile", VT_BOOL, G, 0, "0", NULL, 0, 0},
    {"lock_wait_timeout", VT_UINT, B, 0, "31536000", NULL, 1, 31536000},
    {"log_bin", VT_BOOL, G, RO, "0", NULL, 0, 0},
    {"log_error", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"long_query_time", VT_DOUBLE, B, 0, NULL, NULL, 0, 0},
    {"lower_case_table_names", VT_UINT, G, RO, "0", NULL, 0, 0},
    {"max_allowed_packet", VT_UINT, B, 0, NULL, NULL, 1024, 1073741824},
    {"max_connections", VT_UINT, G, 0, NULL, NULL, 1, 100000},
    {"max_execution_time", VT_UINT, B, 0, "0", NULL, 0, 0},
    {"max_statement_time", VT_DOUBLE, B, 0, "0", NULL, 0, 0},
    {"net_buffer_length", VT_UINT, B, 0, "16384", NULL, 1024, 1048576},
    {"net_read_timeout", VT_UINT, B, 0, "30", NULL, 1, 31536000},
    {"net_write_timeout", VT_UINT, B, 0, "60", NULL, 1, 31536000},
    {"optimizer_switch", VT_STR, B, 0, "index_merge=on,index_merge_union=on", NULL, 0, 0},
    {"pid_file", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"port", VT_UINT, G, RO, NULL, NULL, 0, 0},
    {"protocol_version", VT_UINT, G, RO, "10", NULL, 0, 0},
    {"query_cache_size", VT_UINT, G, 0, "0", NULL, 0, 0},
    {"query_cache_type", VT_ENUM, B, 0, "OFF", "OFF,ON,DEMAND", 0, 0},
    {"read_only", VT_BOOL, G, 0, "0", NULL, 0, 0},
    {"server_id", VT_UINT, G, RO, NULL, NULL, 0, 0},
    {"session_track_schema", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"session_track_state_change", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"session_track_system_variables", VT_STR, B, 0, "time_zone,autocommit,character_set_client,character_set_results,character_set_connection", NULL, 0, 0},
    {"session_track_transaction_info", VT_ENUM, B, 0, "OFF", "OFF,STATE,CHARACTERISTICS", 0, 0},
    {"skip_name_resolve", VT_BOOL, G, RO, "1", NULL, 0, 0},
    {"skip_networking", VT_BOOL, G, RO, "0", NULL, 0, 0},
    {"slow_query_log", VT_BOOL, G, 0, NULL, NULL, 0, 0},
    {"slow_query_log_file", VT_STR, G, RO, NULL, NULL, 0, 0},
    {"socket", VT_STR, G, RO, "", NULL, 0, 0},
    {"sql_auto_is_null", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"sql_big_selects", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"sql_log_bin", VT_BOOL, S, 0, "1", NULL, 0, 0},
    {"sql_mode", VT_STR, B, 0, "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION", NULL, 0, 0},
    {"sql_notes", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"sql_quote_show_create", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"sql_safe_updates", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"sql_select_limit", VT_UINT, B, 0, "18446744073709551615", NULL, 0, 0},
    {"sql_warnings", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"storage_engine", VT_STR, B, 0, "InnoDB", NULL, 0, 0},
    {"sync_binlog", VT_UINT, G, 0, "1", NULL, 0, 0},
    {"system_time_zone", VT_STR, G, RO, "UTC", NULL, 0, 0},
    {"time_zone", VT_STR, B, 0, "SYSTEM", NULL, 0, 0},
    {"timestamp", VT_DOUBLE, S, 0, "0", NULL, 0, 0},
    {"transaction_isolation", VT_ENUM, B, 0, "REPEATABLE-READ", "READ-UNCOMMITTED,READ-COMMITTED,REPEATABLE-READ,SERIALIZABLE", 0, 0},
    {"transaction_read_only", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"tx_isolation", VT_ENUM, B, 0, "REPEATABLE-READ", "READ-UNCOMMITTED,READ-COMMITTED,REPEATABLE-READ,SERIALIZABLE", 0, 0},
    {"tx_read_only", VT_BOOL, B, 0, "0", NULL, 0, 0},
    {"unique_checks", VT_BOOL, B, 0, "1", NULL, 0, 0},
    {"version", VT_STR, G, RO, MM_VERSION, NULL, 0, 0},
    {"version_comment", VT_STR, G, RO, MM_VERSION_COMMENT, NULL, 0, 0},
    {"version_compile_machine", VT_STR, G, RO, "x86_64", NULL, 0, 0},
    {"version_compile_os", VT_STR, G, RO, "Linux", NULL, 0, 0},
    {"wait_timeout", VT_UINT, B, 0, "28800", NULL, 1, 31536000},
    {"wsrep_on", VT_BOOL, G, RO, "1", NULL, 0, 0},
    {"wsrep_sync_wait", VT_UINT, B, 0, "0", NULL, 0, 15},
};
const int var_count = (int)MM_ARRAY_SIZE(var_defs);

int var_find(const char *name, size_t n) {
  int lo = 0, hi = var_count - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int c = strncasecmp(var_defs[mid].name, name, n);
    if (c == 0 && var_defs[mid].name[n] != 0) c = 1;
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

void var_val_free(var_val *v) {
  mm_free(v->s);
  v->s = NULL;
}

static int parse_bool(const char *t, int64_t *out) {
  if (!strcasecmp(t, "ON") || !strcasecmp(t, "TRUE") || !strcmp(t, "1")) { *out = 1; return 0; }
  if (!strcasecmp(t, "OFF") || !strcasecmp(t, "FALSE") || !strcmp(t, "0")) { *out = 0; return 0; }
  return -1;
}

int var_parse(int i, const char *text, int is_int, int64_t iv, var_val *out, mm_error *err) {
  const var_def *d = &var_defs[i];
  char num[32];
  memset(out, 0, sizeof *out);
  if (is_int) { snprintf(num, sizeof num, "%lld", (long long)iv); text = num; }
  if (!text) {
    if (d->flags & VF_NULLABLE) return MM_OK;
    return mm_error_set(err, 1231, "42000", "Variable '%s' can't be set to the value of 'NULL'", d->name);
  }
  switch (d->type) {
  case VT_BOOL:
    if (parse_bool(text, &out->i) != 0)
      return mm_error_set(err, 1231, "42000", "Variable '%s' can't be set to the value of '%s'", d->name, text);
    return MM_OK;
  case VT_INT:
  case VT_UINT: {
    char *end;
    long double v = is_int ? (long double)iv : strtold(text, &end);
    if (!is_int && (end == text || *end))
      return mm_error_set(err, 1232, "42000", "Incorrect argument type to variable '%s'", d->name);
    if (d->type == VT_UINT && v < 0) v = 0;
    if (v < d->min) v = (long double)d->min;
    if (d->max && v > d->max) v = (long double)d->max;
    out->i = v >= 9.2e18L ? INT64_MAX : (int64_t)v;
    if (d->type == VT_UINT && !is_int && strtoull(text, NULL, 10) > (unsigned long long)INT64_MAX)
      out->i = -1; /* 18446744073709551615 */
    return MM_OK;
  }
  case VT_DOUBLE: {
    char *end;
    out->d = strtod(text, &end);
    if (end == text || *end)
      return mm_error_set(err, 1232, "42000", "Incorrect argument type to variable '%s'", d->name);
    return MM_OK;
  }
  case VT_ENUM: {
    /* accept case-insensitively, and "REPEATABLE READ" for "REPEATABLE-READ" */
    char up[128];
    size_t k = 0;
    for (; text[k] && k + 1 < sizeof up; k++) up[k] = (char)(text[k] == ' ' ? '-' : toupper((unsigned char)text[k]));
    up[k] = 0;
    const char *e = d->enums;
    int idx = 0;
    while (e && *e) {
      const char *c = strchr(e, ',');
      size_t len = c ? (size_t)(c - e) : strlen(e);
      if (len == k && memcmp(e, up, k) == 0) { out->s = mm_strndup(e, len); return out->s ? MM_OK : MM_ENOMEM; }
      if (is_int && iv == idx) { out->s = mm_strndup(e, len); return out->s ? MM_OK : MM_ENOMEM; }
      idx++;
      e = c ? c + 1 : NULL;
    }
    return mm_error_set(err, 1231, "42000", "Variable '%s' can't be set to the value of '%s'", d->name, text);
  }
  default:
    out->s = mm_strdup(text);
    return out->s ? MM_OK : MM_ENOMEM;
  }
}

void var_format(int i, const var_val *v, mm_buf *out) {
  switch (var_defs[i].type) {
  case VT_BOOL: mm_buf_puts(out, v->i ? "ON" : "OFF"); break;
  case VT_INT: mm_buf_printf(out, "%lld", (long long)v->i); break;
  case VT_UINT: mm_buf_printf(out, "%llu", (unsigned long long)v->i); break;
  case VT_DOUBLE: mm_buf_printf(out, "%.6f", v->d); break;
  default: if (v->s) mm_buf_puts(out, v->s); break;
  }
}

/* Default text of variable i, computed from the options when the table
 * says NULL.  Returns a static or buf-backed string. */
static const char *default_text(mm_instance *inst, int i, char *buf, size_t n) {
  const var_def *d = &var_defs[i];
  const mm_options *o = &inst->opt;
  const char *nm = d->name;
  if (!strcmp(nm, "innodb_flush_log_at_trx_commit")) { /* (its compiled-in default is 1) */
    snprintf(buf, n, "%d", o->sync_binlog_fsync);
    return buf;
  }
  if (d->def) return d->def;
  if (!strcmp(nm, "aurora_server_id") || !strcmp(nm, "server_id")) snprintf(buf, n, "%u", o->server_id);
  else if (!strcmp(nm, "auto_increment_offset")) snprintf(buf, n, "%d", o->auto_increment_offset);
  else if (!strcmp(nm, "bind_address")) snprintf(buf, n, "%s", o->bind_address ? o->bind_address : "");
  else if (!strcmp(nm, "datadir")) snprintf(buf, n, "%s/", o->datadir);
  else if (!strcmp(nm, "general_log")) snprintf(buf, n, "%d", o->general_log_file && *o->general_log_file);
  else if (!strcmp(nm, "general_log_file")) snprintf(buf, n, "%s", o->general_log_file ? o->general_log_file : "");
  else if (!strcmp(nm, "slow_query_log")) snprintf(buf, n, "%d", o->slow_query_log_file && *o->slow_query_log_file);
  else if (!strcmp(nm, "slow_query_log_file")) snprintf(buf, n, "%s", o->slow_query_log_file ? o->slow_query_log_file : "");
  else if (!strcmp(nm, "long_query_time")) snprintf(buf, n, "%f", o->long_query_time);
  else if (!strcmp(nm, "hostname")) { if (gethostname(buf, n) != 0) snprintf(buf, n, "localhost"); }
  else if (!strcmp(nm, "log_error")) snprintf(buf, n, "%s", o->log_error && *o->log_error ? o->log_error : "stderr");
  else if (!strcmp(nm, "max_allowed_packet")) snprintf(buf, n, "%llu", (unsigned long long)o->max_allowed_packet);
  else if (!strcmp(nm, "max_connections")) snprintf(buf, n, "%d", o->max_connections);
  else if (!strcmp(nm, "pid_file")) snprintf(buf, n, "%s", o->pid_file ? o->pid_file : "");
  else if (!strcmp(nm, "port")) snprintf(buf, n, "%d", o->port);
  else snprintf(buf, n, "%s", "");
  return buf;
}

int vars_init_globals(mm_instance *inst) {
  inst->globals = mm_calloc((size_t)var_count, sizeof(var_val));
  if (!inst->globals) return MM_ENOMEM;
  for (int i = 0; i < var_count; i++) {
    char buf[512];
    mm_error e;
    const char *t = default_text(inst, i, buf, sizeof buf);
    if (var_parse(i, t, 0, 0, &inst->globals[i], &e) != MM_OK) {
      mm_log_error("bad default for variable %s: %s", var_defs[i].name, e.msg);
      return MM_EINVAL;
    }
  }
  return MM_OK;
}

void vars_free_globals(mm_instance *inst) {
  if (!inst->globals) return;
  for (int i = 0; i < var_count; i++) var_val_free(&inst->globals[i]);
  mm_free(inst->globals);
  inst->globals = NULL;
}

var_val *vars_session_copy(mm_instance *inst) {
  var_val *v = mm_calloc((size_t)var_count, sizeof *v);
  if (!v) return NULL;
  pthread_mutex_lock(&inst->mu);
  for (int i = 0; i < var_count; i++) {
    v[i] = inst->globals[i];
    if (v[i].s) v[i].s = mm_strdup(v[i].s);
  }
  pthread_mutex_unlock(&inst->mu);
  return v;
}

void vars_session_free(var_val *v) {
  if (!v) return;
  for (int i = 0; i < var_count; i++) var_val_free(&v[i]);
  mm_free(v);
}

void vars_global_get(mm_instance *inst, int i, var_val *out) {
  pthread_mutex_lock(&inst->mu);
  *out = inst->globals[i];
  if (out->s) out->s = mm_strdup(out->s);
  pthread_mutex_unlock(&inst->mu);
}

void vars_global_set(mm_instance *inst, int i, var_val *v) {
  pthread_mutex_lock(&inst->mu);
  var_val_free(&inst->globals[i]);
  inst->globals[i] = *v;
  if (!strcmp(var_defs[i].name, "max_allowed_packet")) inst->max_allowed_packet = (uint64_t)v->i;
  if (!strcmp(var_defs[i].name, "innodb_flush_log_at_trx_commit")) {
    cm_pipe *p = cm_pipe_get(inst->st);
    if (p) cm_set_flush_mode(p, (int)v->i);
  }
  pthread_mutex_unlock(&inst->mu);
  v->s = NULL;
}
