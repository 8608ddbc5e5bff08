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

#endif
