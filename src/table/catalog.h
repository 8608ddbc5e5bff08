/*
 * table/catalog.h - databases and table definitions.
 *
 * The catalog is the node's dictionary: which databases exist, and for each
 * table its columns, indexes and storage ids.  It is persisted in the store
 * under STORE_PFX_CATALOG and cached in memory.  Readers take a reference
 * to an immutable tbl_def (tbl_get / tbl_def_release); DDL builds a new
 * tbl_def and swaps it in, bumping the catalog version, so a reader's def
 * never changes under it.  Thread-safe.
 *
 * Names: database and table names are case-sensitive (lower_case_table_names
 * = 0, as MySQL on Linux); column and index names are case-insensitive.
 * Index and table ids are assigned from counters stored in the catalog
 * (deterministic: later, every node assigns the same ids at the same log
 * position).
 */
#ifndef MM_TABLE_CATALOG_H
#define MM_TABLE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/mm.h"

/* MySQL column types as declared. */
typedef enum tbl_type {
  TBL_TINYINT, TBL_SMALLINT, TBL_MEDIUMINT, TBL_INT, TBL_BIGINT,
  TBL_DECIMAL, TBL_FLOAT, TBL_DOUBLE, TBL_BIT,
  TBL_CHAR, TBL_VARCHAR, TBL_TINYTEXT, TBL_TEXT, TBL_MEDIUMTEXT, TBL_LONGTEXT,
  TBL_BINARY, TBL_VARBINARY, TBL_TINYBLOB, TBL_BLOB, TBL_MEDIUMBLOB, TBL_LONGBLOB,
  TBL_DATE, TBL_TIME, TBL_DATETIME, TBL_TIMESTAMP, TBL_YEAR,
  TBL_ENUM, TBL_SET, TBL_JSON
} tbl_type;

typedef struct tbl_column {
  char *name;
  tbl_type type;
  int is_unsigned;
  int zerofill;
  uint32_t length;     /* CHAR/VARCHAR/BINARY/VARBINARY(n), BIT(n), int display width, DECIMAL precision; 0 = unset */
  int scale;           /* DECIMAL scale, FLOAT/DOUBLE(m,d) decimals, fractional seconds of TIME/DATETIME/TIMESTAMP; -1 = unset */
  char **enum_vals;    /* ENUM / SET members */
  int n_enum;
  int not_null;
  int has_default;     /* a DEFAULT clause was given (or implied) */
  char *default_value; /* text form of the default; NULL means DEFAULT NULL */
  int default_now;     /* DEFAULT CURRENT_TIMESTAMP[(n)] / NOW() */
  int on_update_now;   /* ON UPDATE CURRENT_TIMESTAMP */
  int auto_increment;
  char *charset;       /* NULL = the table's */
  char *collation;     /* NULL = the table's */
  int binary_collation;/* comparisons are byte-wise (binary types, *_bin collations) */
  char *comment;       /* NULL if none */
} tbl_column;

typedef struct tbl_index {
  char *name;          /* "PRIMARY" for the primary key */
  uint32_t id;         /* storage id: keys are 0x10 + u32be(id) + ... */
  int primary;
  int unique;
  int ncols;
  int *cols;           /* column positions in tbl_def.cols */
  uint32_t *prefix;    /* key prefix length in characters, 0 = whole column */
  char *comment;
} tbl_index;

typedef struct tbl_def {
  char *db;
  char *name;
  uint32_t id;         /* table id (AUTO_INCREMENT counter key, hidden row ids) */
  uint64_t version;    /* catalog version at which this definition was made */
  int ncols;
  tbl_column *cols;
  int nindexes;
  tbl_index *indexes;  /* if has_pk, indexes[0] is the PRIMARY KEY */
  int has_pk;          /* else rows are keyed by a hidden 8-byte row id under hidden_index_id */
  uint32_t hidden_index_id;
  int autoinc_col;     /* position of the AUTO_INCREMENT column, or -1 */
  char *engine;        /* as given, e.g. "InnoDB" */
  char *charset;       /* default "utf8mb4" */
  char *collation;     /* default "utf8mb4_general_ci" */
  char *comment;
  int64_t create_time; /* unix seconds */
  int refs;            /* private to the catalog */
} tbl_def;

typedef struct tbl_catalog tbl_catalog;

/* Load the catalog from the store (creating the system databases on a
 * fresh store: information_schema is virtual, `mysql` and `test` are not
 * created).  Returns MM_OK, MM_ENOMEM or MM_EIO/MM_ECORRUPT (errmsg set). */
int tbl_catalog_open(store *st, tbl_catalog **out, mm_error *err);
void tbl_catalog_close(tbl_catalog *cat);

/* Bumped by every DDL; sessions compare it to know when to re-sync. */
uint64_t tbl_catalog_version(tbl_catalog *cat);

/* A reference to the current definition of db.name, or NULL if none.
 * Release with tbl_def_release. */
tbl_def *tbl_get(tbl_catalog *cat, const char *db, const char *name);
void tbl_def_release(tbl_catalog *cat, tbl_def *def);

int tbl_db_exists(tbl_catalog *cat, const char *db);
/* Sorted lists (caller frees with tbl_free_names).  Databases include
 * information_schema and performance_schema-less system ones we serve. */
int tbl_list_dbs(tbl_catalog *cat, char ***names, int *n);
int tbl_list_tables(tbl_catalog *cat, const char *db, char ***names, int *n);
void tbl_free_names(char **names, int n);

/* Position of a column by name (case-insensitive), or -1. */
int tbl_column_index(const tbl_def *def, const char *name);
/* The column's type as SHOW COLUMNS prints it, e.g. "int(10) unsigned",
 * "varchar(120)", "decimal(10,2)", "enum('a','b')".  Appended to out. */
int tbl_column_type_sql(const tbl_column *c, mm_buf *out);
/* SHOW CREATE TABLE text. */
int tbl_show_create(const tbl_def *def, mm_buf *out);

/* ---- character sets and collations ------------------------------------ */
/* The collations we know (information_schema.COLLATIONS / CHARACTER_SETS,
 * validation of CHARACTER SET / COLLATE clauses).  Static data. */
typedef struct tbl_collation {
  const char *name;     /* "utf8mb4_general_ci" */
  const char *charset;  /* "utf8mb4" */
  int id;               /* MySQL collation id (45) */
  int is_default;       /* the charset's default collation */
  int maxlen;           /* bytes per character at most */
  const char *description; /* charset description (on the default row) */
} tbl_collation;
const tbl_collation *tbl_collations(int *n);
/* Case-insensitive; "utf8mb3*" is an alias of "utf8*".  NULL if unknown. */
const tbl_collation *tbl_collation_find(const char *name);
/* The default collation of a charset, NULL if the charset is unknown. */
const tbl_collation *tbl_charset_default(const char *charset);

/* ---- SQL text helpers (SHOW, information_schema) ---------------------- */
const char *tbl_type_name(tbl_type t);          /* "int", "varchar", ... (DATA_TYPE) */
int tbl_type_is_string(tbl_type t);             /* has a charset: char/varchar/text/enum/set */
int tbl_type_is_blob(tbl_type t);               /* TEXT/BLOB family and JSON: no DEFAULT */
/* The column's effective charset / collation (its own or the table's);
 * NULL for non-string columns.  Borrowed from the defs. */
const char *tbl_column_charset(const tbl_def *d, const tbl_column *c);
const char *tbl_column_collation(const tbl_def *d, const tbl_column *c);
/* The DEFAULT clause as SHOW CREATE TABLE prints it (after "DEFAULT "):
 * "NULL", "'0'", "CURRENT_TIMESTAMP", "b'1'"...  Returns 1 if MySQL prints
 * one, 0 if none (NOT NULL without default, TEXT/BLOB, AUTO_INCREMENT). */
int tbl_column_default_sql(const tbl_column *c, mm_buf *out);
/* 'text' quoted the way SHOW CREATE TABLE quotes (' doubled, \ escaped). */
int tbl_append_quoted(mm_buf *b, const char *s);
/* `ident` with backquotes doubled. */
int tbl_append_ident(mm_buf *b, const char *s);

/* ---- more readers -------------------------------------------------------- */
/* A database's default charset and collation (mm_strdup'd copies, caller
 * frees).  MM_ENOTFOUND if there is no such database. */
int tbl_db_info(tbl_catalog *cat, const char *db, char **charset, char **collation);
/* SHOW CREATE DATABASE text, as MySQL 5.7 prints it:
 *   CREATE DATABASE [/\*!32312 IF NOT EXISTS*\/ ]`x` /\*!40100 DEFAULT CHARACTER SET utf8mb4 *\/
 * MM_ENOTFOUND if there is no such database. */
int tbl_show_create_db(tbl_catalog *cat, const char *db, int if_not_exists, mm_buf *out);
/* The next AUTO_INCREMENT value of the table as stored (0x03 key), or 0
 * when none was ever stored or the table has no AUTO_INCREMENT column. */
uint64_t tbl_autoinc_peek(tbl_catalog *cat, const tbl_def *def);
/* SHOW CREATE TABLE with the " AUTO_INCREMENT=N" table option (N > 1),
 * exactly as MySQL prints it.  (tbl_show_create omits it.) */
int tbl_show_create_ex(tbl_catalog *cat, const tbl_def *def, mm_buf *out);
/* Non-zero for the catalog's internal names ("#mmsql-..."), which SHOW
 * TABLES and information_schema never list. */
int tbl_is_hidden_name(const char *name);
/* Every table of db (including hidden ones when with_hidden), as
 * references; release each with tbl_def_release and free the array with
 * mm_free.  db NULL = all databases.  Sorted by (db, name). */
int tbl_list_defs(tbl_catalog *cat, const char *db, int with_hidden, tbl_def ***defs, int *n);

/* ---- definitions, for the table module (ddl.c) ------------------------- */
tbl_def *tbl_def_clone(const tbl_def *def);   /* deep copy, refs = 0; NULL on ENOMEM */
void tbl_def_free(tbl_def *def);              /* a def never published */
int tbl_column_copy(tbl_column *dst, const tbl_column *src); /* deep copy */
void tbl_column_clear(tbl_column *c);         /* free its strings */
/* Encode / decode the stored form of a table definition (see docs/catalog.md). */
int tbl_def_encode(const tbl_def *def, mm_buf *out);
tbl_def *tbl_def_decode(const char *p, size_t n);

/* ---- catalog edits ------------------------------------------------------ */
/* DDL statements run one at a time: hold the DDL lock for the whole
 * statement (it does not block readers). */
void tbl_catalog_ddl_lock(tbl_catalog *cat);
void tbl_catalog_ddl_unlock(tbl_catalog *cat);

/* An edit collects catalog changes and applies them atomically: in one
 * RocksDB batch (or through a txn, with its data), then in memory, moving
 * the catalog version.  Caller holds the DDL lock from new to commit/abort. */
typedef struct tbl_cat_edit tbl_cat_edit;
tbl_cat_edit *tbl_cat_edit_new(tbl_catalog *cat);
/* Fresh ids from the catalog's counters (persisted by the commit). */
uint32_t tbl_cat_edit_new_table_id(tbl_cat_edit *e);
uint32_t tbl_cat_edit_new_index_id(tbl_cat_edit *e);
int tbl_cat_edit_put_db(tbl_cat_edit *e, const char *name, const char *charset, const char *collation);
int tbl_cat_edit_drop_db(tbl_cat_edit *e, const char *name);
/* Create or replace db.name by def (ownership passes to the edit). */
int tbl_cat_edit_put_table(tbl_cat_edit *e, tbl_def *def);
/* Remove db.name.  drop_data: also delete its index ranges and its
 * AUTO_INCREMENT counter after the commit. */
int tbl_cat_edit_drop_table(tbl_cat_edit *e, const char *db, const char *name, int drop_data);
/* Delete the key range of an index id after the commit (crash-safe). */
int tbl_cat_edit_drop_index_data(tbl_cat_edit *e, uint32_t index_id);
/* Raw key changes committed with the edit (e.g. AUTO_INCREMENT counters). */
int tbl_cat_edit_put_raw(tbl_cat_edit *e, const void *k, size_t kn, const void *v, size_t vn);
int tbl_cat_edit_del_raw(tbl_cat_edit *e, const void *k, size_t kn);
/* The definition as the edit would leave it (borrowed, valid until the
 * edit ends), NULL if none; and the same for databases. */
const tbl_def *tbl_cat_edit_get(tbl_cat_edit *e, const char *db, const char *name);
int tbl_cat_edit_db_exists(tbl_cat_edit *e, const char *db);
/* Commit and free the edit.  t == NULL: one synced RocksDB batch.  t !=
 * NULL: the catalog keys are written into t, and t is committed (and freed,
 * whatever the outcome) so that data and catalog change together.  The
 * in-memory catalog changes only if the commit succeeded. */
struct txn;
int tbl_cat_edit_commit(tbl_cat_edit *e, struct txn *t, mm_error *err);
void tbl_cat_edit_abort(tbl_cat_edit *e);

#endif
