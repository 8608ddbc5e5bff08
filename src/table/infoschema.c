/*
 * table/infoschema.c - read-only information_schema virtual tables.
 *
 * Each table is a virtual table of module "mm_is" declared in the
 * connection's temp schema as "information_schema.X" (X uppercase, as the
 * rewriter names it), with MySQL 5.7's column names in MySQL's order.  A
 * scan materializes its rows from the catalog at xFilter (a consistent
 * snapshot: one tbl_list_defs call, refcounted defs), so a query sees one
 * catalog version.  SQLite applies the WHERE clause.
 *
 * SHOW statements are SELECTs over these (the session rewrites them):
 *   SHOW [FULL] COLUMNS  <- COLUMNS (COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME,
 *                           IS_NULLABLE, COLUMN_KEY, COLUMN_DEFAULT, EXTRA,
 *                           PRIVILEGES, COLUMN_COMMENT) ORDER BY ORDINAL_POSITION
 *   SHOW INDEX           <- STATISTICS (TABLE_NAME, NON_UNIQUE, INDEX_NAME,
 *                           SEQ_IN_INDEX, COLUMN_NAME, COLLATION, CARDINALITY,
 *                           SUB_PART, PACKED, NULLABLE, INDEX_TYPE, COMMENT,
 *                           INDEX_COMMENT)
 *   SHOW TABLE STATUS    <- TABLES
 *   SHOW [FULL] TABLES   <- TABLES (TABLE_NAME, TABLE_TYPE)
 * Tables created empty (we have no views, triggers, routines, events,
 * foreign keys, tablespaces or partitions): VIEWS, TRIGGERS, ROUTINES,
 * FILES, PARTITIONS, EVENTS, REFERENTIAL_CONSTRAINTS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "table/catalog.h"
#include "table/tableInt.h"

enum {
  IS_SCHEMATA, IS_TABLES, IS_COLUMNS, IS_STATISTICS, IS_KEY_COLUMN_USAGE, IS_TABLE_CONSTRAINTS,
  IS_ENGINES, IS_COLLATIONS, IS_CHARACTER_SETS, IS_COLLATION_CHARACTER_SET_APPLICABILITY,
  IS_VIEWS, IS_TRIGGERS, IS_ROUTINES, IS_FILES, IS_PARTITIONS, IS_EVENTS,
  IS_REFERENTIAL_CONSTRAINTS, IS_COUNT
};

#define S " varchar(64)"
#define L " longtext"
#define N " bigint unsigned"
#define D " datetime"

static const struct {
  const char *name;
  const char *cols; /* "NAME type, ..." */
} is_tables[IS_COUNT] = {
  [IS_SCHEMATA] = {"SCHEMATA", "CATALOG_NAME" S ", SCHEMA_NAME" S ", DEFAULT_CHARACTER_SET_NAME" S
                   ", DEFAULT_COLLATION_NAME" S ", SQL_PATH" S},
  [IS_TABLES] = {"TABLES", "TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S ", TABLE_TYPE" S
                 ", ENGINE" S ", VERSION" N ", ROW_FORMAT" S ", TABLE_ROWS" N ", AVG_ROW_LENGTH" N
                 ", DATA_LENGTH" N ", MAX_DATA_LENGTH" N ", INDEX_LENGTH" N ", DATA_FREE" N
                 ", AUTO_INCREMENT" N ", CREATE_TIME" D ", UPDATE_TIME" D ", CHECK_TIME" D
                 ", TABLE_COLLATION" S ", CHECKSUM" N ", CREATE_OPTIONS" S ", TABLE_COMMENT" S},
  [IS_COLUMNS] = {"COLUMNS", "TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S ", COLUMN_NAME" S
                  ", ORDINAL_POSITION" N ", COLUMN_DEFAULT" L ", IS_NULLABLE" S ", DATA_TYPE" S
                  ", CHARACTER_MAXIMUM_LENGTH" N ", CHARACTER_OCTET_LENGTH" N ", NUMERIC_PRECISION" N
                  ", NUMERIC_SCALE" N ", DATETIME_PRECISION" N ", CHARACTER_SET_NAME" S
                  ", COLLATION_NAME" S ", COLUMN_TYPE" L ", COLUMN_KEY" S ", EXTRA" S
                  ", PRIVILEGES" S ", COLUMN_COMMENT" S ", GENERATION_EXPRESSION" L},
  [IS_STATISTICS] = {"STATISTICS", "TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S
                     ", NON_UNIQUE" N ", INDEX_SCHEMA" S ", INDEX_NAME" S ", SEQ_IN_INDEX" N
                     ", COLUMN_NAME" S ", COLLATION" S ", CARDINALITY" N ", SUB_PART" N ", PACKED" S
                     ", NULLABLE" S ", INDEX_TYPE" S ", COMMENT" S ", INDEX_COMMENT" S},
  [IS_KEY_COLUMN_USAGE] = {"KEY_COLUMN_USAGE", "CONSTRAINT_CATALOG" S ", CONSTRAINT_SCHEMA" S
                           ", CONSTRAINT_NAME" S ", TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S
                           ", COLUMN_NAME" S ", ORDINAL_POSITION" N ", POSITION_IN_UNIQUE_CONSTRAINT" N
                           ", REFERENCED_TABLE_SCHEMA" S ", REFERENCED_TABLE_NAME" S
                           ", REFERENCED_COLUMN_NAME" S},
  [IS_TABLE_CONSTRAINTS] = {"TABLE_CONSTRAINTS", "CONSTRAINT_CATALOG" S ", CONSTRAINT_SCHEMA" S
                            ", CONSTRAINT_NAME" S ", TABLE_SCHEMA" S ", TABLE_NAME" S
                            ", CONSTRAINT_TYPE" S},
  [IS_ENGINES] = {"ENGINES", "ENGINE" S ", SUPPORT" S ", COMMENT" S ", TRANSACTIONS" S ", XA" S
                  ", SAVEPOINTS" S},
  [IS_COLLATIONS] = {"COLLATIONS", "COLLATION_NAME" S ", CHARACTER_SET_NAME" S ", ID" N
                     ", IS_DEFAULT" S ", IS_COMPILED" S ", SORTLEN" N},
  [IS_CHARACTER_SETS] = {"CHARACTER_SETS", "CHARACTER_SET_NAME" S ", DEFAULT_COLLATE_NAME" S
                         ", DESCRIPTION" S ", MAXLEN" N},
  [IS_COLLATION_CHARACTER_SET_APPLICABILITY] = {"COLLATION_CHARACTER_SET_APPLICABILITY",
                                                "COLLATION_NAME" S ", CHARACTER_SET_NAME" S},
  [IS_VIEWS] = {"VIEWS", "TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S ", VIEW_DEFINITION" L
                ", CHECK_OPTION" S ", IS_UPDATABLE" S ", DEFINER" S ", SECURITY_TYPE" S
                ", CHARACTER_SET_CLIENT" S ", COLLATION_CONNECTION" S},
  [IS_TRIGGERS] = {"TRIGGERS", "TRIGGER_CATALOG" S ", TRIGGER_SCHEMA" S ", TRIGGER_NAME" S
                   ", EVENT_MANIPULATION" S ", EVENT_OBJECT_CATALOG" S ", EVENT_OBJECT_SCHEMA" S
                   ", EVENT_OBJECT_TABLE" S ", ACTION_ORDER" N ", ACTION_CONDITION" L
                   ", ACTION_STATEMENT" L ", ACTION_ORIENTATION" S ", ACTION_TIMING" S
                   ", ACTION_REFERENCE_OLD_TABLE" S ", ACTION_REFERENCE_NEW_TABLE" S
                   ", ACTION_REFERENCE_OLD_ROW" S ", ACTION_REFERENCE_NEW_ROW" S ", CREATED" D
                   ", SQL_MODE" S ", DEFINER" S ", CHARACTER_SET_CLIENT" S ", COLLATION_CONNECTION" S
                   ", DATABASE_COLLATION" S},
  [IS_ROUTINES] = {"ROUTINES", "SPECIFIC_NAME" S ", ROUTINE_CATALOG" S ", ROUTINE_SCHEMA" S
                   ", ROUTINE_NAME" S ", ROUTINE_TYPE" S ", DATA_TYPE" S ", CHARACTER_MAXIMUM_LENGTH" N
                   ", CHARACTER_OCTET_LENGTH" N ", NUMERIC_PRECISION" N ", NUMERIC_SCALE" N
                   ", DATETIME_PRECISION" N ", CHARACTER_SET_NAME" S ", COLLATION_NAME" S
                   ", DTD_IDENTIFIER" L ", ROUTINE_BODY" S ", ROUTINE_DEFINITION" L ", EXTERNAL_NAME" S
                   ", EXTERNAL_LANGUAGE" S ", PARAMETER_STYLE" S ", IS_DETERMINISTIC" S
                   ", SQL_DATA_ACCESS" S ", SQL_PATH" S ", SECURITY_TYPE" S ", CREATED" D
                   ", LAST_ALTERED" D ", SQL_MODE" S ", ROUTINE_COMMENT" L ", DEFINER" S
                   ", CHARACTER_SET_CLIENT" S ", COLLATION_CONNECTION" S ", DATABASE_COLLATION" S},
  [IS_FILES] = {"FILES", "FILE_ID" N ", FILE_NAME" S ", FILE_TYPE" S ", TABLESPACE_NAME" S
                ", TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S ", LOGFILE_GROUP_NAME" S
                ", LOGFILE_GROUP_NUMBER" N ", ENGINE" S ", FULLTEXT_KEYS" S ", DELETED_ROWS" N
                ", UPDATE_COUNT" N ", FREE_EXTENTS" N ", TOTAL_EXTENTS" N ", EXTENT_SIZE" N
                ", INITIAL_SIZE" N ", MAXIMUM_SIZE" N ", AUTOEXTEND_SIZE" N ", CREATION_TIME" D
                ", LAST_UPDATE_TIME" D ", LAST_ACCESS_TIME" D ", RECOVER_TIME" N
                ", TRANSACTION_COUNTER" N ", VERSION" N ", ROW_FORMAT" S ", TABLE_ROWS" N
                ", AVG_ROW_LENGTH" N ", DATA_LENGTH" N ", MAX_DATA_LENGTH" N ", INDEX_LENGTH" N
                ", DATA_FREE" N ", CREATE_TIME" D ", UPDATE_TIME" D ", CHECK_TIME" D ", CHECKSUM" N
                ", STATUS" S ", EXTRA" S},
  [IS_PARTITIONS] = {"PARTITIONS", "TABLE_CATALOG" S ", TABLE_SCHEMA" S ", TABLE_NAME" S
                     ", PARTITION_NAME" S ", SUBPARTITION_NAME" S ", PARTITION_ORDINAL_POSITION" N
                     ", SUBPARTITION_ORDINAL_POSITION" N ", PARTITION_METHOD" S
                     ", SUBPARTITION_METHOD" S ", PARTITION_EXPRESSION" L
                     ", SUBPARTITION_EXPRESSION" L ", PARTITION_DESCRIPTION" L ", TABLE_ROWS" N
                     ", AVG_ROW_LENGTH" N ", DATA_LENGTH" N ", MAX_DATA_LENGTH" N ", INDEX_LENGTH" N
                     ", DATA_FREE" N ", CREATE_TIME" D ", UPDATE_TIME" D ", CHECK_TIME" D
                     ", CHECKSUM" N ", PARTITION_COMMENT" S ", NODEGROUP" S ", TABLESPACE_NAME" S},
  [IS_EVENTS] = {"EVENTS", "EVENT_CATALOG" S ", EVENT_SCHEMA" S ", EVENT_NAME" S ", DEFINER" S
                 ", TIME_ZONE" S ", EVENT_BODY" S ", EVENT_DEFINITION" L ", EVENT_TYPE" S
                 ", EXECUTE_AT" D ", INTERVAL_VALUE" S ", INTERVAL_FIELD" S ", SQL_MODE" S
                 ", STARTS" D ", ENDS" D ", STATUS" S ", ON_COMPLETION" S ", CREATED" D
                 ", LAST_ALTERED" D ", LAST_EXECUTED" D ", EVENT_COMMENT" S ", ORIGINATOR" N
                 ", CHARACTER_SET_CLIENT" S ", COLLATION_CONNECTION" S ", DATABASE_COLLATION" S},
  [IS_REFERENTIAL_CONSTRAINTS] = {"REFERENTIAL_CONSTRAINTS", "CONSTRAINT_CATALOG" S
                                  ", CONSTRAINT_SCHEMA" S ", CONSTRAINT_NAME" S
                                  ", UNIQUE_CONSTRAINT_CATALOG" S ", UNIQUE_CONSTRAINT_SCHEMA" S
                                  ", UNIQUE_CONSTRAINT_NAME" S ", MATCH_OPTION" S ", UPDATE_RULE" S
                                  ", DELETE_RULE" S ", TABLE_NAME" S ", REFERENCED_TABLE_NAME" S},
};

/* ---- rows ------------------------------------------------------------ */

typedef struct cell {
  int type; /* SQLITE_NULL / SQLITE_INTEGER / SQLITE_TEXT */
  int64_t i;
  char *s;
} cell;

typedef struct rows {
  cell *c;
  int n, cap; /* cells */
  int oom;
} rows;

static void put_null(rows *r) {
  if (r->n == r->cap) {
    int nc = r->cap ? r->cap * 2 : 256;
    cell *c = mm_realloc(r->c, sizeof(cell) * (size_t)nc);
    if (!c) { r->oom = 1; return; }
    r->c = c;
    r->cap = nc;
  }
  r->c[r->n++] = (cell){SQLITE_NULL, 0, NULL};
}
static void put_int(rows *r, int64_t v) {
  put_null(r);
  if (r->oom) return;
  r->c[r->n - 1].type = SQLITE_INTEGER;
  r->c[r->n - 1].i = v;
}
static void put_text(rows *r, const char *s) {
  if (!s) { put_null(r); return; }
  char *d = mm_strdup(s);
  if (!d) { r->oom = 1; return; }
  put_null(r);
  if (r->oom) { mm_free(d); return; }
  r->c[r->n - 1].type = SQLITE_TEXT;
  r->c[r->n - 1].s = d;
}
static void put_buf(rows *r, mm_buf *b) {
  mm_buf_putc(b, 0);
  put_text(r, b->oom ? "" : b->p);
  mm_buf_reset(b);
}
static void rows_free(rows *r) {
  for (int i = 0; i < r->n; i++) mm_free(r->c[i].s);
  mm_free(r->c);
  memset(r, 0, sizeof *r);
}

static void put_time(rows *r, int64_t t) {
  if (!t) { put_null(r); return; }
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  put_text(r, buf);
}

/* ---- column facts ---------------------------------------------------- */

static int64_t char_max_len(const tbl_column *c) {
  switch (c->type) {
  case TBL_CHAR: case TBL_VARCHAR: case TBL_BINARY: case TBL_VARBINARY: return c->length;
  case TBL_TINYTEXT: case TBL_TINYBLOB: return 255;
  case TBL_TEXT: case TBL_BLOB: return 65535;
  case TBL_MEDIUMTEXT: case TBL_MEDIUMBLOB: return 16777215;
  case TBL_LONGTEXT: case TBL_LONGBLOB: case TBL_JSON: return 4294967295LL;
  case TBL_ENUM: case TBL_SET: {
    int64_t m = 0, sum = 0;
    for (int i = 0; i < c->n_enum; i++) {
      int64_t l = (int64_t)strlen(c->enum_vals[i]);
      if (l > m) m = l;
      sum += l + (i ? 1 : 0);
    }
    return c->type == TBL_ENUM ? m : sum;
  }
  default: return -1;
  }
}

static int charset_maxlen(const char *cs) {
  const tbl_collation *c = tbl_charset_default(cs);
  return c ? c->maxlen : 4;
}

static void numeric_facts(const tbl_column *c, int64_t *prec, int64_t *scale) {
  *prec = *scale = -1;
  switch (c->type) {
  case TBL_TINYINT: *prec = 3; *scale = 0; break;
  case TBL_SMALLINT: *prec = 5; *scale = 0; break;
  case TBL_MEDIUMINT: *prec = 7; *scale = 0; break;
  case TBL_INT: *prec = 10; *scale = 0; break;
  case TBL_BIGINT: *prec = c->is_unsigned ? 20 : 19; *scale = 0; break;
  case TBL_DECIMAL: *prec = c->length; *scale = c->scale < 0 ? 0 : c->scale; break;
  case TBL_FLOAT: *prec = c->length && c->scale >= 0 ? c->length : 12; if (c->scale >= 0 && c->length) *scale = c->scale; break;
  case TBL_DOUBLE: *prec = c->length && c->scale >= 0 ? c->length : 22; if (c->scale >= 0 && c->length) *scale = c->scale; break;
  case TBL_BIT: *prec = c->length; break;
  default: break;
  }
}

/* COLUMN_KEY: PRI > UNI > MUL, MySQL's flags.  A table without PRIMARY KEY
 * shows its first NOT NULL unique key as PRI, as MySQL does. */
static const char *column_key(const tbl_def *d, int col) {
  int pri = 0, uni = 0, mul = 0;
  int promoted = -1;
  if (!d->has_pk) {
    for (int i = 0; i < d->nindexes && promoted < 0; i++) {
      const tbl_index *x = &d->indexes[i];
      if (!x->unique) continue;
      int ok = 1;
      for (int k = 0; k < x->ncols; k++)
        if (!d->cols[x->cols[k]].not_null || x->prefix[k]) ok = 0;
      if (ok) promoted = i;
    }
  }
  for (int i = 0; i < d->nindexes; i++) {
    const tbl_index *x = &d->indexes[i];
    for (int k = 0; k < x->ncols; k++) {
      if (x->cols[k] != col) continue;
      if (x->primary || i == promoted) pri = 1;
      else if (x->unique && x->ncols == 1) uni = 1;
      else if (k == 0) mul = 1;
    }
  }
  return pri ? "PRI" : uni ? "UNI" : mul ? "MUL" : "";
}

/* ---- fill functions -------------------------------------------------- */

static int fill(tbl_conn *tc, int kind, rows *r) {
  tbl_catalog *cat = tc->cat;
  mm_buf b;
  mm_buf_init(&b);
  switch (kind) {
  case IS_SCHEMATA: {
    char **names;
    int n;
    if (tbl_list_dbs(cat, &names, &n)) return MM_ENOMEM;
    for (int i = 0; i < n; i++) {
      char *cs, *co;
      if (tbl_db_info(cat, names[i], &cs, &co)) continue;
      put_text(r, "def");
      put_text(r, names[i]);
      put_text(r, cs);
      put_text(r, co);
      put_null(r);
      mm_free(cs);
      mm_free(co);
    }
    tbl_free_names(names, n);
    break;
  }
  case IS_ENGINES:
    put_text(r, "InnoDB");
    put_text(r, "DEFAULT");
    put_text(r, "Supports transactions, row-level locking, and foreign keys");
    put_text(r, "YES");
    put_text(r, "NO");
    put_text(r, "YES");
    break;
  case IS_COLLATIONS: case IS_CHARACTER_SETS: case IS_COLLATION_CHARACTER_SET_APPLICABILITY: {
    int n;
    const tbl_collation *c = tbl_collations(&n);
    for (int i = 0; i < n; i++) {
      if (kind == IS_COLLATIONS) {
        put_text(r, c[i].name);
        put_text(r, c[i].charset);
        put_int(r, c[i].id);
        put_text(r, c[i].is_default ? "Yes" : "");
        put_text(r, "Yes");
        put_int(r, 1);
      } else if (kind == IS_CHARACTER_SETS) {
        if (!c[i].is_default) continue;
        put_text(r, c[i].charset);
        put_text(r, c[i].name);
        put_text(r, c[i].description ? c[i].description : "");
        put_int(r, c[i].maxlen);
      } else {
        put_text(r, c[i].name);
        put_text(r, c[i].charset);
      }
    }
    break;
  }
  case IS_TABLES: case IS_COLUMNS: case IS_STATISTICS: case IS_KEY_COLUMN_USAGE:
  case IS_TABLE_CONSTRAINTS: {
    tbl_def **defs;
    int n;
    if (tbl_list_defs(cat, NULL, 0, &defs, &n)) return MM_ENOMEM;
    if (kind == IS_TABLES) {
      for (int i = 0; i < IS_COUNT; i++) { /* our own system views */
        put_text(r, "def");
        put_text(r, "information_schema");
        put_text(r, is_tables[i].name);
        put_text(r, "SYSTEM VIEW");
        put_text(r, "MEMORY");
        put_int(r, 10);
        put_text(r, "Fixed");
        put_null(r); put_int(r, 0); put_int(r, 0); put_int(r, 0); put_int(r, 0); put_int(r, 0);
        put_null(r); put_null(r); put_null(r); put_null(r);
        put_text(r, "utf8_general_ci");
        put_null(r);
        put_text(r, "");
        put_text(r, "");
      }
    }
    for (int t = 0; t < n; t++) {
      const tbl_def *d = defs[t];
      if (kind == IS_TABLES) {
        uint64_t rowsz = 0;
        put_text(r, "def");
        put_text(r, d->db);
        put_text(r, d->name);
        put_text(r, "BASE TABLE");
        put_text(r, d->engine ? d->engine : "InnoDB");
        put_int(r, 10);
        put_text(r, "Dynamic");
        {
          /* estimate from the store's approximate size of the row index */
          unsigned char lo[5], hi[5];
          uint32_t id = d->has_pk ? d->indexes[0].id : d->hidden_index_id;
          lo[0] = hi[0] = STORE_PFX_DATA;
          mm_put_u32be(lo + 1, id);
          mm_put_u32be(hi + 1, id + 1);
          const char *starts[1] = {(const char *)lo}, *limits[1] = {(const char *)hi};
          size_t sl[1] = {5}, ll[1] = {5};
          uint64_t sz = 0;
          char *e = NULL;
          rocksdb_approximate_sizes(store_db(tc->st), 1, starts, sl, limits, ll, &sz, &e);
          if (e) { free(e); sz = 0; }
          rowsz = sz;
        }
        put_int(r, (int64_t)(rowsz / 64));
        put_int(r, rowsz ? 64 : 0);
        put_int(r, (int64_t)rowsz);
        put_int(r, 0);
        put_int(r, 0);
        put_int(r, 0);
        if (d->autoinc_col >= 0) {
          uint64_t ai = tbl_autoinc_peek(cat, d);
          put_int(r, (int64_t)(ai ? ai : 1));
        } else {
          put_null(r);
        }
        put_time(r, d->create_time);
        put_null(r);
        put_null(r);
        put_text(r, d->collation);
        put_null(r);
        put_text(r, "");
        put_text(r, d->comment ? d->comment : "");
        continue;
      }
      if (kind == IS_COLUMNS) {
        for (int i = 0; i < d->ncols; i++) {
          const tbl_column *c = &d->cols[i];
          put_text(r, "def");
          put_text(r, d->db);
          put_text(r, d->name);
          put_text(r, c->name);
          put_int(r, i + 1);
          if (c->default_now) {
            mm_buf_puts(&b, "CURRENT_TIMESTAMP");
            if (c->scale > 0) mm_buf_printf(&b, "(%d)", c->scale);
            put_buf(r, &b);
          } else if (c->has_default && c->default_value && !tbl_type_is_blob(c->type)) {
            if (c->type == TBL_BIT) {
              tbl_column_default_sql(c, &b);
              put_buf(r, &b);
            } else {
              put_text(r, c->default_value);
            }
          } else {
            put_null(r);
          }
          put_text(r, c->not_null ? "NO" : "YES");
          put_text(r, tbl_type_name(c->type));
          int64_t ml = char_max_len(c);
          const char *cs = tbl_column_charset(d, c);
          if (ml >= 0) {
            put_int(r, ml);
            int64_t oct = ml;
            if (cs && (c->type == TBL_CHAR || c->type == TBL_VARCHAR || c->type == TBL_ENUM || c->type == TBL_SET))
              oct = ml * charset_maxlen(cs);
            put_int(r, oct);
          } else {
            put_null(r);
            put_null(r);
          }
          int64_t prec, scale;
          numeric_facts(c, &prec, &scale);
          if (prec >= 0) put_int(r, prec); else put_null(r);
          if (scale >= 0) put_int(r, scale); else put_null(r);
          if (c->type == TBL_TIME || c->type == TBL_DATETIME || c->type == TBL_TIMESTAMP)
            put_int(r, c->scale < 0 ? 0 : c->scale);
          else
            put_null(r);
          put_text(r, cs);
          put_text(r, tbl_column_collation(d, c));
          tbl_column_type_sql(c, &b);
          put_buf(r, &b);
          put_text(r, column_key(d, i));
          if (c->auto_increment) mm_buf_puts(&b, "auto_increment");
          if (c->on_update_now) {
            mm_buf_puts(&b, "on update CURRENT_TIMESTAMP");
            if (c->scale > 0) mm_buf_printf(&b, "(%d)", c->scale);
          }
          put_buf(r, &b);
          put_text(r, "select,insert,update,references");
          put_text(r, c->comment ? c->comment : "");
          put_text(r, "");
        }
        continue;
      }
      for (int i = 0; i < d->nindexes; i++) {
        const tbl_index *x = &d->indexes[i];
        if (kind == IS_TABLE_CONSTRAINTS) {
          if (!x->unique) continue;
          put_text(r, "def");
          put_text(r, d->db);
          put_text(r, x->name);
          put_text(r, d->db);
          put_text(r, d->name);
          put_text(r, x->primary ? "PRIMARY KEY" : "UNIQUE");
          continue;
        }
        for (int k = 0; k < x->ncols; k++) {
          const tbl_column *c = &d->cols[x->cols[k]];
          if (kind == IS_KEY_COLUMN_USAGE) {
            if (!x->unique) continue;
            put_text(r, "def");
            put_text(r, d->db);
            put_text(r, x->name);
            put_text(r, "def");
            put_text(r, d->db);
            put_text(r, d->name);
            put_text(r, c->name);
            put_int(r, k + 1);
            put_null(r);
            put_null(r);
            put_null(r);
            put_null(r);
            continue;
          }
          put_text(r, "def");
          put_text(r, d->db);
          put_text(r, d->name);
          put_int(r, x->unique ? 0 : 1);
          put_text(r, d->db);
          put_text(r, x->name);
          put_int(r, k + 1);
          put_text(r, c->name);
          put_text(r, "A");
          put_int(r, 0);
          if (x->prefix[k]) put_int(r, x->prefix[k]); else put_null(r);
          put_null(r);
          put_text(r, c->not_null ? "" : "YES");
          put_text(r, "BTREE");
          put_text(r, "");
          put_text(r, x->comment ? x->comment : "");
        }
      }
    }
    for (int t = 0; t < n; t++) tbl_def_release(cat, defs[t]);
    mm_free(defs);
    break;
  }
  default: /* empty tables */
    break;
  }
  mm_buf_free(&b);
  return r->oom ? MM_ENOMEM : MM_OK;
}

/* ---- the module ---------------------------------------------------------- */

typedef struct is_vtab {
  sqlite3_vtab base;
  tbl_conn *tc;
  int kind;
  int ncols;
} is_vtab;

typedef struct is_cursor {
  sqlite3_vtab_cursor base;
  rows r;
  int row, nrows;
} is_cursor;

static int count_cols(const char *cols) {
  int n = 1;
  for (const char *s = cols; *s; s++)
    if (*s == ',') n++;
  return n;
}

static int is_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **errp) {
  if (argc < 4) { *errp = sqlite3_mprintf("mm_is: table kind missing"); return SQLITE_ERROR; }
  int kind = -1;
  for (int i = 0; i < IS_COUNT; i++)
    if (strcasecmp(argv[3], is_tables[i].name) == 0) kind = i;
  if (kind < 0) { *errp = sqlite3_mprintf("mm_is: unknown table %s", argv[3]); return SQLITE_ERROR; }
  /* quote every column name: some are SQLite keywords */
  mm_buf b;
  mm_buf_init(&b);
  mm_buf_puts(&b, "CREATE TABLE x(\"");
  int in_name = 1;
  for (const char *s = is_tables[kind].cols; *s; s++) {
    if (in_name && *s == ' ') { mm_buf_puts(&b, "\" "); in_name = 0; continue; }
    if (*s == ',') { mm_buf_puts(&b, ", \""); in_name = 1; while (s[1] == ' ') s++; continue; }
    mm_buf_putc(&b, *s);
  }
  mm_buf_puts(&b, ")");
  mm_buf_putc(&b, 0);
  if (b.oom) { mm_buf_free(&b); return SQLITE_NOMEM; }
  int rc = sqlite3_declare_vtab(db, b.p);
  if (rc != SQLITE_OK) *errp = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  mm_buf_free(&b);
  if (rc != SQLITE_OK) return rc;
  is_vtab *v = sqlite3_malloc(sizeof *v);
  if (!v) return SQLITE_NOMEM;
  memset(v, 0, sizeof *v);
  v->tc = aux;
  v->kind = kind;
  v->ncols = count_cols(is_tables[kind].cols);
  *out = &v->base;
  return SQLITE_OK;
}

static int is_disconnect(sqlite3_vtab *v) {
  sqlite3_free(v);
  return SQLITE_OK;
}

static int is_best_index(sqlite3_vtab *v, sqlite3_index_info *info) {
  info->estimatedCost = 1000;
  info->estimatedRows = 100;
  return SQLITE_OK;
}

static int is_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out) {
  is_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  *out = &c->base;
  return SQLITE_OK;
}

static int is_close(sqlite3_vtab_cursor *cur) {
  is_cursor *c = (is_cursor *)cur;
  rows_free(&c->r);
  sqlite3_free(c);
  return SQLITE_OK;
}

static int is_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxs, int argc, sqlite3_value **argv) {
  is_cursor *c = (is_cursor *)cur;
  is_vtab *v = (is_vtab *)cur->pVtab;
  rows_free(&c->r);
  c->row = 0;
  if (fill(v->tc, v->kind, &c->r) != MM_OK) {
    rows_free(&c->r);
    return SQLITE_NOMEM;
  }
  c->nrows = c->r.n / v->ncols;
  return SQLITE_OK;
}

static int is_next(sqlite3_vtab_cursor *cur) {
  ((is_cursor *)cur)->row++;
  return SQLITE_OK;
}

static int is_eof(sqlite3_vtab_cursor *cur) {
  is_cursor *c = (is_cursor *)cur;
  return c->row >= c->nrows;
}

static int is_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  is_cursor *c = (is_cursor *)cur;
  is_vtab *v = (is_vtab *)cur->pVtab;
  const cell *x = &c->r.c[c->row * v->ncols + i];
  switch (x->type) {
  case SQLITE_INTEGER: sqlite3_result_int64(ctx, x->i); break;
  case SQLITE_TEXT: sqlite3_result_text(ctx, x->s, -1, SQLITE_TRANSIENT); break;
  default: sqlite3_result_null(ctx); break;
  }
  return SQLITE_OK;
}

static int is_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = ((is_cursor *)cur)->row;
  return SQLITE_OK;
}

static sqlite3_module is_module = {
  .iVersion = 1,
  .xCreate = is_connect,
  .xConnect = is_connect,
  .xBestIndex = is_best_index,
  .xDisconnect = is_disconnect,
  .xDestroy = is_disconnect,
  .xOpen = is_open,
  .xClose = is_close,
  .xFilter = is_filter,
  .xNext = is_next,
  .xEof = is_eof,
  .xColumn = is_column,
  .xRowid = is_rowid,
};

int tbl_infoschema_register(tbl_conn *tc, mm_error *err) {
  int rc = sqlite3_create_module_v2(tc->db, "mm_is", &is_module, tc, NULL);
  if (rc != SQLITE_OK)
    return mm_error_set(err, 1105, "HY000", "information_schema: %s", sqlite3_errstr(rc));
  for (int i = 0; i < IS_COUNT; i++) {
    char *sql = sqlite3_mprintf("CREATE VIRTUAL TABLE IF NOT EXISTS temp.\"information_schema.%s\" USING mm_is(%s)",
                                is_tables[i].name, is_tables[i].name);
    if (!sql) return mm_error_set(err, 1037, "HY001", "Out of memory");
    rc = sqlite3_exec(tc->db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
      return mm_error_set(err, 1105, "HY000", "information_schema.%s: %s", is_tables[i].name,
                          sqlite3_errmsg(tc->db));
  }
  return MM_OK;
}
