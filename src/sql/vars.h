/*
 * sql/vars.h - MySQL system variables: names, scopes, types, defaults.
 *
 * var_defs[] is the one table of variables mmsql knows.  Global values live
 * in the instance (guarded by its mutex); each session starts with a copy of
 * the globals for the variables that have a session scope.  Side effects of
 * a change (autocommit, sql_mode, isolation, time zone) are applied by the
 * session (sess_var_changed).
 */
#ifndef MM_SQL_VARS_H
#define MM_SQL_VARS_H

#include <stdint.h>
#include "util/mm.h"

typedef struct mm_instance mm_instance;

enum { VT_BOOL, VT_INT, VT_UINT, VT_STR, VT_ENUM, VT_DOUBLE };
enum { VS_GLOBAL = 1, VS_SESSION = 2, VS_BOTH = 3 };
enum { VF_READONLY = 1, VF_NULLABLE = 2 };

typedef struct var_def {
  const char *name;
  int type;        /* VT_* */
  int scope;       /* VS_* */
  int flags;       /* VF_* */
  const char *def; /* default as text; NULL = computed at start */
  const char *enums; /* VT_ENUM: comma-separated allowed values (upper case) */
  int64_t min, max;  /* VT_INT/VT_UINT bounds (max 0 = none) */
} var_def;

typedef struct var_val {
  int64_t i;  /* VT_BOOL, VT_INT, VT_UINT */
  double d;   /* VT_DOUBLE */
  char *s;    /* VT_STR, VT_ENUM (owned; NULL = NULL value) */
} var_val;

extern const var_def var_defs[];
extern const int var_count;

/* Index of a variable by name (case-insensitive), or -1. */
int var_find(const char *name, size_t n);

int vars_init_globals(mm_instance *inst);
void vars_free_globals(mm_instance *inst);
/* Copy the global values into a new session array (var_count entries). */
var_val *vars_session_copy(mm_instance *inst);
void vars_session_free(var_val *v);

/* Parse `text` (or the integer `iv` when is_int) into a value of var i.
 * Returns MM_OK or MM_ESQL with 1231 ("Variable 'x' can't be set to the
 * value of 'y'") / 1232 (wrong argument type). */
int var_parse(int i, const char *text, int is_int, int64_t iv, var_val *out, mm_error *err);
void var_val_free(var_val *v);
/* Text of a value as SHOW VARIABLES prints it (ON/OFF for booleans). */
void var_format(int i, const var_val *v, mm_buf *out);

/* Global get/set under the instance lock. get copies into out (caller frees with var_val_free). */
void vars_global_get(mm_instance *inst, int i, var_val *out);
void vars_global_set(mm_instance *inst, int i, var_val *v); /* takes ownership of v->s */

#endif
