/*
 * server/config.c - option parsing for mmsqld.  See config.h.
 */
#include "server/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mm.h"

enum { O_STR, O_INT, O_UINT64, O_BOOL, O_DOUBLE, O_SIZE, O_IGNORED };

typedef struct opt_def {
  const char *name;
  int type;
  size_t off;
  const char *help;
} opt_def;

#define OFF(f) offsetof(mm_options, f)
static const opt_def opt_defs[] = {
    {"datadir", O_STR, OFF(datadir), "data directory (created and initialised when empty)"},
    {"port", O_INT, OFF(port), "TCP port for MySQL clients (default 3306)"},
    {"bind-address", O_STR, OFF(bind_address), "address to listen on (default 127.0.0.1)"},
    {"server-id", O_INT, OFF(server_id), "this node's id (default 1)"},
    {"auto-increment-offset", O_INT, OFF(auto_increment_offset), "this node's AUTO_INCREMENT slot, 1..16"},
    {"log-error", O_STR, OFF(log_error), "error log file (default stderr)"},
    {"general-log-file", O_STR, OFF(general_log_file), "general query log file"},
    {"general-log", O_BOOL, OFF(general_log), "enable the general query log"},
    {"slow-query-log-file", O_STR, OFF(slow_query_log_file), "slow query log file"},
    {"slow-query-log", O_BOOL, OFF(slow_query_log), "enable the slow query log"},
    {"long-query-time", O_DOUBLE, OFF(long_query_time), "slow query threshold in seconds (default 10)"},
    {"root-password", O_STR, OFF(root_password), "root's password when initialising a new data directory"},
    {"pid-file", O_STR, OFF(pid_file), "pid file (default <datadir>/mmsqld.pid)"},
    {"max-allowed-packet", O_SIZE, OFF(max_allowed_packet), "largest packet/statement (default 64M)"},
    {"max-connections", O_INT, OFF(max_connections), "client connection limit (default 151)"},
    {"innodb-flush-log-at-trx-commit", O_INT, OFF(sync_binlog_fsync), "1: fsync the commit log at each commit group (default); 0 or 2: once a second"},
    /* accepted for compatibility with existing my.cnf files, no effect */
    {"user", O_IGNORED, 0, NULL}, {"socket", O_IGNORED, 0, NULL}, {"basedir", O_IGNORED, 0, NULL},
    {"tmpdir", O_IGNORED, 0, NULL}, {"character-set-server", O_IGNORED, 0, NULL},
    {"collation-server", O_IGNORED, 0, NULL}, {"skip-name-resolve", O_IGNORED, 0, NULL},
    {"innodb-buffer-pool-size", O_IGNORED, 0, NULL}, {"skip-external-locking", O_IGNORED, 0, NULL},
    {"lc-messages-dir", O_IGNORED, 0, NULL}, {"lc-messages", O_IGNORED, 0, NULL},
    {"default-storage-engine", O_IGNORED, 0, NULL}, {"sql-mode", O_IGNORED, 0, NULL},
    {"innodb-log-file-size", O_IGNORED, 0, NULL}, {"log-bin", O_IGNORED, 0, NULL},
    {"binlog-format", O_IGNORED, 0, NULL}, {"expire-logs-days", O_IGNORED, 0, NULL},
};

/* Normalise an option name: '_' -> '-', lower case. */
static void norm(char *d, size_t n, const char *s, size_t len) {
  size_t i = 0;
  for (; i < len && i + 1 < n; i++) d[i] = s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]);
  d[i] = 0;
}

static int parse_size(const char *v, uint64_t *out) {
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (end == v) return -1;
  switch (toupper((unsigned char)*end)) {
  case 'K': n <<= 10; end++; break;
  case 'M': n <<= 20; end++; break;
  case 'G': n <<= 30; end++; break;
  default: break;
  }
  if (*end) return -1;
  *out = n;
  return 0;
}

/* Set one option; value NULL means "given without a value". */
static int set_opt(mm_options *o, const char *name, size_t nlen, const char *val, const char *where) {
  char key[128];
  norm(key, sizeof key, name, nlen);
  int negate = 0;
  const char *k = key;
  if (!strncmp(k, "skip-", 5) && strcmp(k, "skip-name-resolve") && strcmp(k, "skip-external-locking")) {
    k += 5;
    negate = 1;
  } else if (!strncmp(k, "loose-", 6)) {
    k += 6;
  }
  for (size_t i = 0; i < MM_ARRAY_SIZE(opt_defs); i++) {
    const opt_def *d = &opt_defs[i];
    if (strcmp(d->name, k)) continue;
    char *field = (char *)o + d->off;
    if (d->type == O_IGNORED) return 0;
    if (d->type == O_BOOL) {
      int b = 1;
      if (val) b = !strcmp(val, "1") || !strcasecmp(val, "ON") || !strcasecmp(val, "TRUE");
      *(int *)field = negate ? 0 : b;
      return 0;
    }
    if (!val) {
      fprintf(stderr, "mmsqld: option '--%s' requires a value (%s)\n", d->name, where);
      return -1;
    }
    char *end;
    switch (d->type) {
    case O_STR:
      mm_free(*(char **)field);
      *(char **)field = mm_strdup(val);
      return 0;
    case O_INT: {
      long v = strtol(val, &end, 10);
      if (end == val || *end) break;
      *(int *)field = (int)v;
      return 0;
    }
    case O_DOUBLE: {
      double v = strtod(val, &end);
      if (end == val || *end) break;
      *(double *)field = v;
      return 0;
    }
    case O_SIZE: {
      uint64_t v;
      if (parse_size(val, &v)) break;
      *(uint64_t *)field = v;
      return 0;
    }
    }
    fprintf(stderr, "mmsqld: bad value '%s' for option '--%s' (%s)\n", val, d->name, where);
    return -1;
  }
  fprintf(stderr, "mmsqld: unknown option '--%.*s' (%s)\n", (int)nlen, name, where);
  return -1;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
  return s;
}

static int read_file(mm_options *o, const char *path) {
  FILE *fp = fopen(path, "r");
  if (!fp) {
    fprintf(stderr, "mmsqld: cannot read defaults file '%s'\n", path);
    return -1;
  }
  char line[4096];
  int in_section = 0, lineno = 0, rc = 0;
  while (fgets(line, sizeof line, fp)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#' || *s == ';') continue;
    if (*s == '[') {
      char *e = strchr(s, ']');
      if (!e) continue;
      *e = 0;
      in_section = !strcmp(s + 1, "mmsqld") || !strcmp(s + 1, "mysqld") || !strcmp(s + 1, "server");
      continue;
    }
    if (*s == '!') continue; /* !include / !includedir not supported: skipped */
    if (!in_section) continue;
    char *eq = strchr(s, '=');
    char where[256];
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    if (eq) {
      *eq = 0;
      char *name = trim(s), *val = trim(eq + 1);
      size_t vl = strlen(val);
      if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
        val[vl - 1] = 0;
        val++;
      }
      if (set_opt(o, name, strlen(name), val, where)) rc = -1;
    } else {
      if (set_opt(o, s, strlen(s), NULL, where)) rc = -1;
    }
  }
  fclose(fp);
  return rc;
}

void config_usage(const char *prog) {
  printf("Usage: %s [--defaults-file=FILE] [OPTIONS]\n\nmmsql node: a multi-master, MySQL-compatible database server.\n\nOptions (also in a my.cnf [mmsqld] section):\n", prog);
  for (size_t i = 0; i < MM_ARRAY_SIZE(opt_defs); i++)
    if (opt_defs[i].help) printf("  --%-32s %s\n", opt_defs[i].name, opt_defs[i].help);
  printf("  --%-32s %s\n", "defaults-file=FILE", "read options from FILE only");
  printf("  --%-32s %s\n", "help", "this text");
  printf("  --%-32s %s\n", "version", "print the version");
}

int config_parse(int argc, char **argv, mm_options *o) {
  memset(o, 0, sizeof *o);
  o->port = 3306;
  o->bind_address = mm_strdup("127.0.0.1");
  o->server_id = 1;
  o->auto_increment_offset = 1;
  o->max_allowed_packet = 64u << 20;
  o->max_connections = 151;
  o->long_query_time = 10.0;
  o->sync_binlog_fsync = 1;
  /* defaults files first (mysqld requires --defaults-file to be first; we accept it anywhere) */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "--defaults-file=", 16) && read_file(o, a + 16)) return -1;
    if (!strncmp(a, "--defaults-extra-file=", 22) && read_file(o, a + 22)) return -1;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "--defaults-file=", 16) || !strncmp(a, "--defaults-extra-file=", 22) ||
        !strcmp(a, "--no-defaults"))
      continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-?")) { config_usage(argv[0]); return 1; }
    if (!strcmp(a, "--version") || !strcmp(a, "-V")) { printf("mmsqld  Ver %s\n", MM_VERSION); return 1; }
    if (!strncmp(a, "-P", 2) && a[2]) { if (set_opt(o, "port", 4, a + 2, "command line")) return -1; continue; }
    if (!strncmp(a, "-h", 2) && a[2]) { if (set_opt(o, "datadir", 7, a + 2, "command line")) return -1; continue; }
    if (strncmp(a, "--", 2)) {
      fprintf(stderr, "mmsqld: unexpected argument '%s'\n", a);
      return -1;
    }
    const char *eq = strchr(a, '=');
    const char *val = eq ? eq + 1 : NULL;
    size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (!val && i + 1 < argc && argv[i + 1][0] != '-') {
      /* "--port 3307" form, for options that take a value */
      char key[128];
      norm(key, sizeof key, a + 2, nlen);
      for (size_t k = 0; k < MM_ARRAY_SIZE(opt_defs); k++)
        if (!strcmp(opt_defs[k].name, key) && opt_defs[k].type != O_BOOL && opt_defs[k].type != O_IGNORED)
          val = argv[++i];
    }
    if (set_opt(o, a + 2, nlen, val, "command line")) return -1;
  }
  if (!o->datadir) {
    fprintf(stderr, "mmsqld: --datadir is required\n");
    return -1;
  }
  if (o->auto_increment_offset < 1 || o->auto_increment_offset > 16) {
    fprintf(stderr, "mmsqld: --auto-increment-offset must be between 1 and 16\n");
    return -1;
  }
  if (o->sync_binlog_fsync < 0 || o->sync_binlog_fsync > 2) {
    fprintf(stderr, "mmsqld: --innodb-flush-log-at-trx-commit must be 0, 1 or 2\n");
    return -1;
  }
  if (o->port < 0 || o->port > 65535) {
    fprintf(stderr, "mmsqld: --port must be between 0 and 65535\n");
    return -1;
  }
  if (o->max_allowed_packet < 1024) o->max_allowed_packet = 1024;
  if (o->max_allowed_packet > (1u << 30)) o->max_allowed_packet = 1u << 30;
  if (!o->pid_file) o->pid_file = mm_sprintf("%s/mmsqld.pid", o->datadir);
  if (!o->general_log) { mm_free(o->general_log_file); o->general_log_file = NULL; }
  else if (!o->general_log_file) o->general_log_file = mm_sprintf("%s/general.log", o->datadir);
  if (!o->slow_query_log) { mm_free(o->slow_query_log_file); o->slow_query_log_file = NULL; }
  else if (!o->slow_query_log_file) o->slow_query_log_file = mm_sprintf("%s/slow.log", o->datadir);
  return 0;
}

void config_free(mm_options *o) {
  mm_free(o->datadir);
  mm_free(o->bind_address);
  mm_free(o->log_error);
  mm_free(o->general_log_file);
  mm_free(o->slow_query_log_file);
  mm_free(o->root_password);
  mm_free(o->pid_file);
}
