/*
 * table/vtab.c - the "mm" SQLite module: MySQL tables stored in RocksDB.
 *
 * Owns: the per-connection registry of declared tables (tc->priv), the
 * virtual tables and cursors, the rowid map, and the process-wide table
 * state (AUTO_INCREMENT and hidden row id counters, rough row counts).
 *
 * Invariants:
 *   - every read and write goes through tc->txn (the session's txn); a
 *     cursor never outlives the statement, so never the txn;
 *   - a row and all its index entries change together in one xUpdate call;
 *   - index keys are built only by index_key() and pk_of(), from values in
 *     stored form (tbl_value_convert), so every key of a row can be
 *     recomputed from the row alone (DELETE/UPDATE rebuild old keys so);
 *   - the scan order a plan claims in xBestIndex (orderByConsumed) is the
 *     order SQLite itself would produce for those columns (see
 *     order_ok()).
 *
 * Rowids: integer single-column PK -> the key value; no PK -> the hidden
 * row id; otherwise a rowid is an index into the connection's rowid map of
 * encoded PKs, valid for the current and the previous statement (enough for
 * UPDATE/DELETE and the ON DUPLICATE KEY UPDATE follow-up statement).
 *
 * See docs/storage.md for the plan choices and the decisions.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/codec.h"
#include "table/tableInt.h"

/* The value of mm_default(): an explicit DEFAULT in INSERT/UPDATE (the
 * session rewrites the DEFAULT keyword to it). */
static const char SENTINEL[] = "\x01mm-default\x02";
#define SENTINEL_LEN (sizeof SENTINEL - 1)

enum { RID_INTPK, RID_HIDDEN, RID_MAP };

/* ---- process-wide table state ------------------------------------------- */
typedef struct tstate {
  store *st;
  uint32_t id;
  uint64_t version;     /* def version the counters were loaded at */
  int ai_loaded, hid_loaded;
  uint64_t ai_next;     /* next AUTO_INCREMENT value (as stored under 0x03) */
  uint64_t hid_next;    /* next hidden row id */
  _Atomic int64_t rows; /* rough row count */
  int rows_init;
  struct tstate *next;
} tstate;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static tstate *g_states[256];

static tstate *state_get(store *st, uint32_t id) {
  unsigned h = (id * 2654435761u) >> 24;
  pthread_mutex_lock(&g_mu);
  tstate *s = g_states[h];
  while (s && !(s->st == st && s->id == id)) s = s->next;
  if (!s && (s = calloc(1, sizeof *s))) { /* never freed: one per table id */
    s->st = st;
    s->id = id;
    s->next = g_states[h];
    g_states[h] = s;
  }
  pthread_mutex_unlock(&g_mu);
  return s;
}

/* Smallest v >= next with v = offset (mod inc). */
static uint64_t align_up(uint64_t next, int offset, int inc) {
  if (inc < 1) inc = 1;
  if (offset < 1 || offset > inc) offset = 1;
  if (next <= (uint64_t)offset) return (uint64_t)offset;
  return (uint64_t)offset + (next - (uint64_t)offset + (uint64_t)inc - 1) / (uint64_t)inc * (uint64_t)inc;
}

static void counter_key(unsigned char k[6], uint32_t id, int hidden) {
  k[0] = STORE_PFX_AUTOINC;
  mm_put_u32be(k + 1, id);
  k[5] = 'h';
  (void)hidden;
}

static uint64_t counter_load(store *st, uint32_t id, int hidden) {
  unsigned char k[6];
  counter_key(k, id, hidden);
  char *v;
  size_t n;
  uint64_t r = 1;
  if (store_get(st, k, hidden ? 6 : 5, &v, &n) == MM_OK) {
    if (n == 8) r = mm_get_u64be((unsigned char *)v);
    mm_free(v);
  }
  return r ? r : 1;
}

static void counter_save(store *st, uint32_t id, int hidden, uint64_t next) {
  unsigned char k[6], v[8];
  counter_key(k, id, hidden);
  mm_put_u64be(v, next);
  store_put(st, k, hidden ? 6 : 5, v, 8, 0);
}

/* AUTO_INCREMENT / hidden row id.  gen: generate the next value (returned);
 * else note that `seen` was used explicitly (moves the counter forward). */
static uint64_t counter_step(tstate *s, const tbl_def *def, int hidden, int gen, uint64_t seen, int offset, int inc) {
  pthread_mutex_lock(&g_mu);
  if (s->version != def->version) { s->version = def->version; s->ai_loaded = s->hid_loaded = 0; }
  int *loaded = hidden ? &s->hid_loaded : &s->ai_loaded;
  uint64_t *next = hidden ? &s->hid_next : &s->ai_next;
  if (!*loaded) { *next = counter_load(s->st, def->id, hidden); *loaded = 1; }
  uint64_t v = seen;
  if (gen) {
    v = align_up(*next, offset, inc);
    *next = v + 1;
    counter_save(s->st, def->id, hidden, *next);
  } else if (seen >= *next && seen < UINT64_MAX) {
    *next = seen + 1;
    counter_save(s->st, def->id, hidden, *next);
  }
  pthread_mutex_unlock(&g_mu);
  return v;
}

/* ---- per-connection registry ------------------------------------------------ */
typedef struct decl {
  char *vname, *db, *name;
  uint64_t version;
  tbl_def *def; /* reference held until the declaration is dropped */
} decl;

typedef struct rmap {
  mm_buf keys;      /* concatenated encoded PKs */
  size_t *off;      /* n + 1 offsets */
  int64_t base;     /* rowid of entry 0 */
  int n, cap;
} rmap;

typedef struct vpriv {
  decl *d;
  int nd, capd;
  rmap cur, prev;
  int64_t next_base;
  sqlite3_stmt *dupst; /* "SELECT ?1": makes sqlite3_values for dup capture */
  uint64_t stmt_gen;   /* bumped by tbl_conn_stmt_begin */
  uint64_t rownum;     /* rows written by the statement (for messages) */
} vpriv;

static vpriv *priv(tbl_conn *tc) { return tc->priv; }

static void rmap_reset(rmap *m, int64_t base) {
  mm_buf_reset(&m->keys);
  m->n = 0;
  m->base = base;
}

static int64_t rmap_add(tbl_conn *tc, const char *k, size_t n) {
  vpriv *p = priv(tc);
  rmap *m = &p->cur;
  if (m->n + 2 > m->cap) {
    int nc = m->cap ? m->cap * 2 : 64;
    size_t *o = mm_realloc(m->off, (size_t)nc * sizeof *o);
    if (!o) return -1;
    m->off = o;
    m->cap = nc;
  }
  if (m->n == 0) m->off[0] = 0;
  if (mm_buf_append(&m->keys, k, n)) return -1;
  m->off[m->n + 1] = m->keys.len;
  return m->base + m->n++;
}

static int rmap_get(tbl_conn *tc, int64_t rowid, const char **k, size_t *n) {
  vpriv *p = priv(tc);
  rmap *ms[2] = {&p->cur, &p->prev};
  for (int i = 0; i < 2; i++) {
    rmap *m = ms[i];
    if (rowid >= m->base && rowid < m->base + m->n) {
      int j = (int)(rowid - m->base);
      *k = m->keys.p + m->off[j];
      *n = m->off[j + 1] - m->off[j];
      return MM_OK;
    }
  }
  return MM_ENOTFOUND;
}

/* ---- the virtual table --------------------------------------------------------- */
typedef struct mm_cursor mm_cursor;

typedef struct mm_vtab {
  sqlite3_vtab base;
  tbl_conn *tc;
  tbl_def *def;       /* borrowed from the decl */
  tstate *state;
  int rid;            /* RID_* */
  uint32_t pk_id;     /* index id of the clustered rows */
  int *kc;            /* key class per column */
  tbl_val *nv, *ov;   /* new / old row cells */
  mm_buf *cbuf;       /* per-column buffers for converted values */
  tbl_val *dflt;      /* converted DEFAULT per column (t = -1: none/NULL handled apart) */
  mm_buf *dbuf;
  mm_buf row, oldrow, pk, oldpk, key, key2, tmp, msg;
  mm_buf lk;          /* lock_key scratch */
  /* The last row read at latest under an X lock (lock_and_fetch): the
   * UPDATE or DELETE of that row (read_row) takes it from here instead of
   * reading it again, while its txn is unchanged (txn_version). */
  const txn *xr_txn;
  uint64_t xr_ver;
  mm_buf xr_key, xr_row;
  mm_cursor *spare;
  unsigned char *given;  /* INSERT: columns the statement names (see insert_given) */
  uint64_t given_gen;
} mm_vtab;

struct mm_cursor {
  sqlite3_vtab_cursor base;
  mm_vtab *vt;
  txn_iter *it;
  int slot;           /* index slot, -1 = clustered */
  int point, desc, eof, latest;
  int lock;           /* TXN_LOCK_* taken on each row reached (latest scans) */
  mm_buf lo, hi, row, pk, vbuf;
  const char *scan_row; /* plain scans of a stable iterator: the row in place, else NULL: c->row */
  size_t scan_len;
  tbl_val *cells;
  int ncells, decoded;
};

static void set_err(mm_vtab *vt, const mm_error *e) {
  vt->tc->err = *e;
  sqlite3_free(vt->base.zErrMsg);
  vt->base.zErrMsg = sqlite3_mprintf("%s", e->msg);
}

static int fail(mm_vtab *vt, int rc, int code, const char *state, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(mm_vtab *vt, int rc, int code, const char *state, const char *fmt, ...) {
  mm_error e;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mm_error_set(&e, code, state, "%s", msg);
  set_err(vt, &e);
  return rc;
}

static int fail_io(mm_vtab *vt, int rc) {
  if (rc == MM_ESQL) return SQLITE_ERROR; /* error already set (lock_key) */
  if (rc == MM_ENOMEM) return fail(vt, SQLITE_NOMEM, 1037, "HY001", "Out of memory");
  return fail(vt, SQLITE_IOERR, 1030, "HY000", "Got error %d \"%s\" from storage engine", rc, mm_strerror(rc));
}

static int no_txn(mm_vtab *vt) {
  return fail(vt, SQLITE_ERROR, 1105, "HY000", "No transaction for table '%s.%s'", vt->def->db, vt->def->name);
}

/* The SQL type named in the declaration: MySQL's name, SQLite's affinity
 * (INT -> INTEGER, CHAR/TEXT -> TEXT, BLOB -> BLOB, FLOAT/DOUBLE -> REAL,
 * the rest NUMERIC). */
static void decl_type(const tbl_column *c, mm_buf *b) {
  static const char *names[] = {
      [TBL_TINYINT] = "TINYINT", [TBL_SMALLINT] = "SMALLINT", [TBL_MEDIUMINT] = "MEDIUMINT", [TBL_INT] = "INT",
      [TBL_BIGINT] = "BIGINT", [TBL_DECIMAL] = "DECIMAL", [TBL_FLOAT] = "FLOAT", [TBL_DOUBLE] = "DOUBLE",
      [TBL_BIT] = "BIT", [TBL_CHAR] = "CHAR", [TBL_VARCHAR] = "VARCHAR", [TBL_TINYTEXT] = "TINYTEXT",
      [TBL_TEXT] = "TEXT", [TBL_MEDIUMTEXT] = "MEDIUMTEXT", [TBL_LONGTEXT] = "LONGTEXT", [TBL_BINARY] = "BINARY",
      [TBL_VARBINARY] = "VARBINARY", [TBL_TINYBLOB] = "TINYBLOB", [TBL_BLOB] = "BLOB", [TBL_MEDIUMBLOB] = "MEDIUMBLOB",
      [TBL_LONGBLOB] = "LONGBLOB", [TBL_DATE] = "DATE", [TBL_TIME] = "TIME", [TBL_DATETIME] = "DATETIME",
      [TBL_TIMESTAMP] = "TIMESTAMP", [TBL_YEAR] = "YEAR", [TBL_ENUM] = "ENUM", [TBL_SET] = "\"SET\"", [TBL_JSON] = "JSON"};
  mm_buf_puts(b, names[c->type]);
  switch (c->type) {
  case TBL_DECIMAL:
    mm_buf_printf(b, "(%u,%d)", c->length ? c->length : 10, c->scale > 0 ? c->scale : 0);
    break;
  case TBL_FLOAT: case TBL_DOUBLE:
    if (c->length && c->scale >= 0) mm_buf_printf(b, "(%u,%d)", c->length, c->scale);
    break;
  case TBL_CHAR: case TBL_VARCHAR: case TBL_BINARY: case TBL_VARBINARY: case TBL_BIT:
    mm_buf_printf(b, "(%u)", c->length ? c->length : 1);
    break;
  case TBL_TIME: case TBL_DATETIME: case TBL_TIMESTAMP:
    if (c->scale > 0) mm_buf_printf(b, "(%d)", c->scale);
    break;
  default: break;
  }
  if (c->is_unsigned) mm_buf_puts(b, " UNSIGNED");
}

static int is_text_type(tbl_type t) {
  return t == TBL_CHAR || t == TBL_VARCHAR || t == TBL_TINYTEXT || t == TBL_TEXT || t == TBL_MEDIUMTEXT ||
         t == TBL_LONGTEXT || t == TBL_ENUM || t == TBL_SET;
}

static void put_ident(mm_buf *b, const char *s) {
  mm_buf_putc(b, '"');
  for (; *s; s++) {
    if (*s == '"') mm_buf_putc(b, '"');
    mm_buf_putc(b, *s);
  }
  mm_buf_putc(b, '"');
}

/* DECIMAL values leave xColumn as INTEGER (scale 0, up to 18 digits),
 * REAL (up to 15 digits: exact to the scale, the session formats it with
 * the scale from the decltype) or TEXT (wider; exact but sorts as text). */
static int decimal_kind(const tbl_column *c) {
  int p = c->length ? (int)c->length : 10, s = c->scale > 0 ? c->scale : 0;
  if (s == 0 && p <= 18) return CODEC_T_INT;
  if (p <= 15) return CODEC_T_DOUBLE;
  return CODEC_T_TEXT;
}

static void vt_free(mm_vtab *vt) {
  if (!vt) return;
  int n = vt->def ? vt->def->ncols : 0;
  for (int i = 0; vt->cbuf && i < n; i++) mm_buf_free(&vt->cbuf[i]);
  for (int i = 0; vt->dbuf && i < n; i++) mm_buf_free(&vt->dbuf[i]);
  mm_free(vt->cbuf);
  mm_free(vt->dbuf);
  mm_free(vt->dflt);
  mm_free(vt->kc);
  mm_free(vt->given);
  mm_free(vt->nv);
  mm_free(vt->ov);
  mm_buf_free(&vt->row);
  mm_buf_free(&vt->oldrow);
  mm_buf_free(&vt->xr_key);
  mm_buf_free(&vt->xr_row);
  mm_buf_free(&vt->pk);
  mm_buf_free(&vt->oldpk);
  mm_buf_free(&vt->key);
  mm_buf_free(&vt->key2);
  mm_buf_free(&vt->tmp);
  mm_buf_free(&vt->lk);
  mm_buf_free(&vt->msg);
  if (vt->spare) {
    mm_cursor *c = vt->spare;
    mm_buf_free(&c->lo);
    mm_buf_free(&c->hi);
    mm_buf_free(&c->row);
    mm_buf_free(&c->pk);
    mm_buf_free(&c->vbuf);
    mm_free(c->cells);
    mm_free(c);
  }
  sqlite3_free(vt->base.zErrMsg);
  mm_free(vt);
}

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **perr) {
  tbl_conn *tc = aux;
  vpriv *p = priv(tc);
  const char *vname = argv[2];
  decl *d = NULL;
  for (int i = 0; i < p->nd; i++)
    if (strcmp(p->d[i].vname, vname) == 0) { d = &p->d[i]; break; }
  if (!d) {
    *perr = sqlite3_mprintf("mm: table %s is not declared", vname);
    return SQLITE_ERROR;
  }
  tbl_def *def = d->def;
  mm_vtab *vt = mm_calloc(1, sizeof *vt);
  if (!vt) return SQLITE_NOMEM;
  vt->tc = tc;
  vt->def = def;
  int n = def->ncols;
  vt->kc = mm_calloc((size_t)n, sizeof *vt->kc);
  vt->nv = mm_calloc((size_t)n, sizeof *vt->nv);
  vt->ov = mm_calloc((size_t)n, sizeof *vt->ov);
  vt->cbuf = mm_calloc((size_t)n, sizeof *vt->cbuf);
  vt->dbuf = mm_calloc((size_t)n, sizeof *vt->dbuf);
  vt->dflt = mm_calloc((size_t)n, sizeof *vt->dflt);
  vt->given = mm_calloc((size_t)n, 1);
  if (!vt->given || !vt->kc || !vt->nv || !vt->ov || !vt->cbuf || !vt->dbuf || !vt->dflt) { vt_free(vt); return SQLITE_NOMEM; }
  vt->state = state_get(tc->st, def->id);
  if (!vt->state) { vt_free(vt); return SQLITE_NOMEM; }
  for (int i = 0; i < n; i++) vt->kc[i] = codec_key_class(&def->cols[i]);
  if (def->has_pk) {
    tbl_index *pk = &def->indexes[0];
    vt->pk_id = pk->id;
    vt->rid = pk->ncols == 1 && (vt->kc[pk->cols[0]] == CODEC_K_INT || vt->kc[pk->cols[0]] == CODEC_K_UINT) &&
                      !(pk->prefix && pk->prefix[0])
                  ? RID_INTPK
                  : RID_MAP;
  } else {
    vt->pk_id = def->hidden_index_id;
    vt->rid = RID_HIDDEN;
  }
  /* converted defaults */
  mm_error e;
  tbl_conv cv = {.strict = 0, .row = 1, .err = &e};
  for (int i = 0; i < n; i++) {
    const tbl_column *c = &def->cols[i];
    vt->dflt[i].t = CODEC_T_NULL;
    if (c->has_default && c->default_value && !c->default_now && !c->auto_increment) {
      tbl_val in = {.t = CODEC_T_TEXT, .p = c->default_value, .n = strlen(c->default_value)};
      if (c->type == TBL_BIT && c->default_value[0] != 'b') { /* numeric text */ }
      if (tbl_value_convert(c, &in, &vt->dflt[i], &vt->dbuf[i], &cv) != MM_OK) vt->dflt[i].t = CODEC_T_NULL;
      /* keep text stable: copy into dbuf if it points elsewhere */
      if ((vt->dflt[i].t == CODEC_T_TEXT || vt->dflt[i].t == CODEC_T_BLOB) && vt->dflt[i].p != vt->dbuf[i].p) {
        mm_buf tmpb;
        mm_buf_init(&tmpb);
        mm_buf_append(&tmpb, vt->dflt[i].p, vt->dflt[i].n);
        mm_buf_free(&vt->dbuf[i]);
        vt->dbuf[i] = tmpb;
        vt->dflt[i].p = tmpb.p ? tmpb.p : "";
      }
    }
  }
  /* declaration */
  mm_buf b;
  mm_buf_init(&b);
  mm_buf_puts(&b, "CREATE TABLE x(");
  for (int i = 0; i < n; i++) {
    const tbl_column *c = &def->cols[i];
    if (i) mm_buf_putc(&b, ',');
    put_ident(&b, c->name);
    mm_buf_putc(&b, ' ');
    decl_type(c, &b);
    if (is_text_type(c->type) && !c->binary_collation) mm_buf_puts(&b, " COLLATE mm_ci");
  }
  mm_buf_putc(&b, ')');
  mm_buf_putc(&b, 0);
  int rc = b.oom ? SQLITE_NOMEM : sqlite3_declare_vtab(db, b.p);
  mm_buf_free(&b);
  if (rc != SQLITE_OK) {
    *perr = sqlite3_mprintf("mm: cannot declare %s: %s", vname, sqlite3_errmsg(db));
    vt_free(vt);
    return rc;
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  *out = &vt->base;
  return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *v) {
  vt_free((mm_vtab *)v);
  return SQLITE_OK;
}

/* ---- plans ------------------------------------------------------------------------- */
/* idxNum layout */
#define P_SLOT(x) ((x) & 0xFF)       /* index slot, 0xFF = clustered scan */
#define P_NEQ(x) (((x) >> 8) & 0x3F)
#define P_LO 0x4000
#define P_HI 0x8000
#define P_DESC 0x10000
#define P_POINT 0x20000
#define P_ROWID 0x40000

static int64_t est_rows(mm_vtab *vt) {
  tstate *s = vt->state;
  if (!s->rows_init) {
    unsigned char lo[5], hi[5];
    lo[0] = hi[0] = 0x10;
    mm_put_u32be(lo + 1, vt->pk_id);
    mm_put_u32be(hi + 1, vt->pk_id + 1);
    uint64_t bytes = store_approx_size(vt->tc->st, lo, 5, hi, 5);
    atomic_fetch_add(&s->rows, (int64_t)(bytes / 100));
    s->rows_init = 1;
  }
  int64_t r = atomic_load(&s->rows);
  return r < 10 ? 10 : r;
}

/* May the scan order of column c stand for SQLite's ORDER BY c? */
static int order_ok(mm_vtab *vt, int col) {
  const tbl_column *c = &vt->def->cols[col];
  switch (vt->kc[col]) {
  case CODEC_K_INT: case CODEC_K_UINT: case CODEC_K_DOUBLE: case CODEC_K_CI: case CODEC_K_BYTES: return 1;
  case CODEC_K_DECIMAL: return decimal_kind(c) != CODEC_T_TEXT;
  default: return 0; /* TIME (text order differs), BINPAD (trailing spaces) */
  }
}

/* Does constraint i's collation match how column col is keyed? */
static int coll_ok(mm_vtab *vt, sqlite3_index_info *info, int i, int col) {
  int kc = vt->kc[col];
  if (kc != CODEC_K_CI && kc != CODEC_K_BINPAD && kc != CODEC_K_BYTES) return 1;
  const char *coll = sqlite3_vtab_collation(info, i);
  if (!coll) coll = "BINARY";
  if (kc == CODEC_K_CI) return sqlite3_stricmp(coll, "mm_ci") == 0;
  if (!is_text_type(vt->def->cols[col].type) && vt->kc[col] == CODEC_K_BYTES &&
      (vt->def->cols[col].type == TBL_DATE || vt->def->cols[col].type == TBL_DATETIME ||
       vt->def->cols[col].type == TBL_TIMESTAMP))
    return sqlite3_stricmp(coll, "BINARY") == 0;
  return sqlite3_stricmp(coll, "BINARY") == 0;
}

static int find_cons(sqlite3_index_info *info, int col, int opmask, mm_vtab *vt, int *used) {
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (!c->usable || c->iColumn != col || used[i]) continue;
    if (c->op > SQLITE_INDEX_CONSTRAINT_GE || !(opmask & c->op)) continue; /* ops are values, not bits */
    if (col >= 0 && !coll_ok(vt, info, i, col)) continue;
    return i;
  }
  return -1;
}

static int vt_best_index(sqlite3_vtab *v, sqlite3_index_info *info) {
  mm_vtab *vt = (mm_vtab *)v;
  const tbl_def *def = vt->def;
  double N = (double)est_rows(vt);
  int nc = info->nConstraint;
  int used[nc > 0 ? nc : 1], best_used[nc > 0 ? nc : 1];
  memset(best_used, 0, sizeof best_used);
  /* default: full scan of the clustered rows */
  double best_cost = N + 10;
  double best_rows = N;
  int best_plan = 0xFF, best_unique = 0, best_ordered = 0;
  /* a full clustered scan is ordered by the PK */
  if (def->has_pk && info->nOrderBy > 0) {
    const tbl_index *ix = &def->indexes[0];
    int ok = info->nOrderBy <= ix->ncols, desc = info->aOrderBy[0].desc;
    for (int k = 0; ok && k < info->nOrderBy; k++)
      if (info->aOrderBy[k].iColumn != ix->cols[k] || info->aOrderBy[k].desc != desc || !order_ok(vt, ix->cols[k]) ||
          (ix->prefix && ix->prefix[k]))
        ok = 0;
    if (ok) { best_ordered = 1; best_plan = 0xFF | (desc ? P_DESC : 0); }
  }
  if (info->nOrderBy > 0 && !best_ordered) best_cost += N * log2(N + 1) * 0.3;

  /* rowid equality */
  memset(used, 0, sizeof used);
  int ri = find_cons(info, -1, SQLITE_INDEX_CONSTRAINT_EQ, vt, used);
  if (ri >= 0) {
    memset(best_used, 0, sizeof best_used);
    best_used[ri] = 1;
    best_plan = 0xFF | P_ROWID | P_POINT;
    best_cost = 1;
    best_rows = 1;
    best_unique = 1;
    best_ordered = info->nOrderBy > 0; /* one row is ordered */
  }
  for (int s = 0; s < def->nindexes && ri < 0; s++) {
    const tbl_index *ix = &def->indexes[s];
    memset(used, 0, sizeof used);
    int neq = 0, has_in = 0, prefix_stop = 0;
    for (; neq < ix->ncols && neq < 63; neq++) {
      int i = find_cons(info, ix->cols[neq], SQLITE_INDEX_CONSTRAINT_EQ, vt, used);
      if (i < 0) break;
      used[i] = 1 + neq;
      if (sqlite3_vtab_in(info, i, -1)) has_in = 1;
      if (ix->prefix && ix->prefix[neq]) { neq++; prefix_stop = 1; break; }
    }
    int lo = -1, hi = -1;
    if (neq < ix->ncols && !prefix_stop && !(ix->prefix && ix->prefix[neq])) {
      int col = ix->cols[neq];
      lo = find_cons(info, col, SQLITE_INDEX_CONSTRAINT_GT | SQLITE_INDEX_CONSTRAINT_GE, vt, used);
      if (lo >= 0) used[lo] = 100;
      hi = find_cons(info, col, SQLITE_INDEX_CONSTRAINT_LT | SQLITE_INDEX_CONSTRAINT_LE, vt, used);
      if (hi >= 0) used[hi] = 101;
    }
    if (neq == 0 && lo < 0 && hi < 0 && !(info->nOrderBy > 0)) continue;
    int unique = (ix->unique || ix->primary) && neq == ix->ncols && !prefix_stop;
    double rows = N, cost;
    for (int k = 0; k < neq; k++) rows /= 10;
    if (lo >= 0) rows /= 3;
    if (hi >= 0) rows /= 3;
    if (rows < 1) rows = 1;
    if (unique) {
      rows = 1;
      cost = ix->primary ? 1.5 : 3;
    } else {
      cost = 10 + rows * (ix->primary ? 1 : 3);
    }
    /* ORDER BY: terms on eq columns are constant; the rest must follow the index */
    int ordered = 0, desc = 0;
    if (info->nOrderBy > 0 && !has_in) {
      ordered = 1;
      int pos = neq;
      for (int k = 0; k < info->nOrderBy && ordered; k++) {
        int col = info->aOrderBy[k].iColumn, is_eq = 0;
        for (int q = 0; q < neq; q++)
          if (ix->cols[q] == col) is_eq = 1;
        if (is_eq && !(ix->prefix && ix->prefix[0])) continue;
        if (pos >= ix->ncols || ix->cols[pos] != col || !order_ok(vt, col) || (ix->prefix && ix->prefix[pos])) {
          ordered = 0;
          break;
        }
        if (pos > neq && info->aOrderBy[k].desc != desc) ordered = 0;
        if (pos == neq || k == 0) desc = info->aOrderBy[k].desc;
        pos++;
      }
      if (unique) ordered = 1;
    }
    if (!ordered && neq == 0 && lo < 0 && hi < 0) continue;
    double total = cost + (info->nOrderBy > 0 && !ordered ? rows * log2(rows + 1) * 0.3 : 0);
    if (total < best_cost + (info->nOrderBy > 0 && !best_ordered ? 0 : 0)) {
      best_cost = total;
      best_rows = rows;
      best_unique = unique;
      best_ordered = ordered;
      best_plan = s | neq << 8 | (lo >= 0 ? P_LO : 0) | (hi >= 0 ? P_HI : 0) | (ordered && desc ? P_DESC : 0) |
                  (unique ? P_POINT : 0);
      memcpy(best_used, used, sizeof used);
    }
  }
  /* argv: eq values in index order, then lo, then hi (or the rowid) */
  int argn = 0;
  if (best_plan & P_ROWID) {
    for (int i = 0; i < nc; i++)
      if (best_used[i]) { info->aConstraintUsage[i].argvIndex = ++argn; info->aConstraintUsage[i].omit = 1; }
  } else if (P_SLOT(best_plan) != 0xFF) {
    const tbl_index *ix = &def->indexes[P_SLOT(best_plan)];
    int neq = P_NEQ(best_plan);
    for (int k = 1; k <= neq; k++)
      for (int i = 0; i < nc; i++)
        if (best_used[i] == k) {
          info->aConstraintUsage[i].argvIndex = ++argn;
          /* exact unless a prefix column or a type whose key is lossy */
          int col = ix->cols[k - 1];
          int kc = vt->kc[col];
          info->aConstraintUsage[i].omit = !(ix->prefix && ix->prefix[k - 1]) &&
                                           (kc == CODEC_K_INT || kc == CODEC_K_UINT || kc == CODEC_K_CI);
          if (sqlite3_vtab_in(info, i, -1)) info->aConstraintUsage[i].omit = 0;
        }
    for (int i = 0; i < nc; i++)
      if (best_used[i] == 100) info->aConstraintUsage[i].argvIndex = ++argn;
    for (int i = 0; i < nc; i++)
      if (best_used[i] == 101) info->aConstraintUsage[i].argvIndex = ++argn;
  }
  info->idxNum = best_plan;
  /* A readable plan for EXPLAIN: "type=<MySQL access type>;key=<index>" */
  {
    const char *type, *key = NULL;
    if (best_plan & P_ROWID) type = "const";
    else if (P_SLOT(best_plan) == 0xFF) type = "ALL";
    else {
      key = def->indexes[P_SLOT(best_plan)].name;
      if (best_plan & P_POINT) type = best_unique ? "const" : "ref";
      else if (best_plan & (P_LO | P_HI)) type = "range";
      else if (P_NEQ(best_plan) > 0) type = "ref";
      else type = "index";
    }
    info->idxStr = key ? sqlite3_mprintf("type=%s;key=%s", type, key) : sqlite3_mprintf("type=%s", type);
    info->needToFreeIdxStr = info->idxStr != NULL;
  }
  info->estimatedCost = best_cost;
  info->estimatedRows = (sqlite3_int64)best_rows;
  if (best_unique) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  info->orderByConsumed = best_ordered;
  return SQLITE_OK;
}

/* ---- cursors ---------------------------------------------------------------------------- */
static int vt_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out) {
  mm_vtab *vt = (mm_vtab *)v;
  mm_cursor *c = vt->spare;
  if (c) vt->spare = NULL;
  else {
    c = mm_calloc(1, sizeof *c);
    if (!c) return SQLITE_NOMEM;
    c->cells = mm_calloc((size_t)vt->def->ncols, sizeof *c->cells);
    if (!c->cells) { mm_free(c); return SQLITE_NOMEM; }
  }
  c->vt = vt;
  c->it = NULL;
  c->eof = 1;
  *out = &c->base;
  return SQLITE_OK;
}

static int vt_close(sqlite3_vtab_cursor *cur) {
  mm_cursor *c = (mm_cursor *)cur;
  mm_vtab *vt = c->vt;
  if (c->it) { txn_iter_free(c->it); c->it = NULL; }
  if (!vt->spare && c->row.cap < (1u << 20)) { vt->spare = c; return SQLITE_OK; }
  mm_buf_free(&c->lo);
  mm_buf_free(&c->hi);
  mm_buf_free(&c->row);
  mm_buf_free(&c->pk);
  mm_buf_free(&c->vbuf);
  mm_free(c->cells);
  mm_free(c);
  return SQLITE_OK;
}

static void sv_to_val(sqlite3_value *sv, tbl_val *v) {
  switch (sqlite3_value_type(sv)) {
  case SQLITE_INTEGER: v->t = CODEC_T_INT; v->i = sqlite3_value_int64(sv); break;
  case SQLITE_FLOAT: v->t = CODEC_T_DOUBLE; v->d = sqlite3_value_double(sv); break;
  case SQLITE_TEXT: v->t = CODEC_T_TEXT; v->p = (const char *)sqlite3_value_text(sv); v->n = (size_t)sqlite3_value_bytes(sv); break;
  case SQLITE_BLOB: v->t = CODEC_T_BLOB; v->p = sqlite3_value_blob(sv); v->n = (size_t)sqlite3_value_bytes(sv); if (!v->p) v->p = ""; break;
  default: v->t = CODEC_T_NULL; break;
  }
}

/* A constraint value for a key on column col.  Returns 0 if usable, 1 if
 * it cannot match anything (EQ only), 2 if it must be ignored (bound). */
static int cons_val(mm_vtab *vt, int col, sqlite3_value *sv, int is_eq, int is_lo, tbl_val *out) {
  int kc = vt->kc[col];
  if (sqlite3_value_type(sv) == SQLITE_NULL) return is_eq ? 1 : 2; /* = NULL / < NULL: nothing */
  if (kc == CODEC_K_INT || kc == CODEC_K_UINT) {
    int t = sqlite3_value_numeric_type(sv);
    if (t == SQLITE_INTEGER) {
      out->t = CODEC_T_INT;
      out->i = sqlite3_value_int64(sv);
      if (kc == CODEC_K_UINT && out->i < 0) {
        if (is_eq) return 1;
        if (is_lo) out->i = 0;
        else return 1;
      }
      return 0;
    }
    if (t == SQLITE_FLOAT) {
      double d = sqlite3_value_double(sv);
      double r = is_eq ? d : is_lo ? floor(d) : ceil(d);
      if (is_eq && r != floor(d)) return 1;
      if (r >= 9.2e18 || r <= -9.2e18) return is_eq ? 1 : 2;
      out->t = CODEC_T_INT;
      out->i = (int64_t)r;
      if (kc == CODEC_K_UINT && out->i < 0) { if (is_lo) out->i = 0; else return 1; }
      return 0;
    }
    return is_eq ? 1 : 2;
  }
  if (kc == CODEC_K_DOUBLE || kc == CODEC_K_DECIMAL) {
    int t = sqlite3_value_numeric_type(sv);
    if (t == SQLITE_INTEGER) { out->t = CODEC_T_INT; out->i = sqlite3_value_int64(sv); return 0; }
    if (t == SQLITE_FLOAT) { out->t = CODEC_T_DOUBLE; out->d = sqlite3_value_double(sv); return 0; }
    return is_eq ? 1 : 2;
  }
  sv_to_val(sv, out);
  if (kc == CODEC_K_TIME && !(out->t == CODEC_T_TEXT || out->t == CODEC_T_BLOB)) return is_eq ? 1 : 2;
  return 0;
}

static int key_succ(mm_buf *b) {
  while (b->len > 0) {
    unsigned char *p = (unsigned char *)b->p + b->len - 1;
    if (*p != 0xFF) { (*p)++; return 1; }
    b->len--;
  }
  return 0;
}

/* Row lock on the row with primary key pk (its clustered key) or, pk_id 0,
 * on the full key `pk` itself (unique-index entries).  MM_OK, MM_EBUSY
 * (SKIP LOCKED: not granted), or MM_ESQL / MM_ENOMEM with the statement's
 * error set (1205, 1213, 3572). */
static int lock_key(mm_vtab *vt, int mode, int policy, uint32_t pk_id, const char *pk, size_t pklen) {
  mm_buf *k = &vt->lk;
  const char *kp = pk;
  size_t kl = pklen;
  if (pk_id) {
    mm_buf_reset(k);
    codec_key_index_prefix(k, pk_id);
    mm_buf_append(k, pk, pklen);
    if (k->oom) return MM_ENOMEM;
    kp = k->p;
    kl = k->len;
  }
  mm_error e;
  mm_error_clear(&e);
  int rc = txn_lock_row(vt->tc->txn, kp, kl, mode, policy, &e);
  if (rc == MM_ESQL || (rc == MM_ENOMEM && e.code)) { set_err(vt, &e); return MM_ESQL; }
  return rc;
}

/* Load the row whose clustered key is 0x10 id pk into c->row. */
static int fetch_row(mm_cursor *c, const char *pk, size_t pklen) {
  mm_vtab *vt = c->vt;
  mm_buf_reset(&vt->key2);
  codec_key_index_prefix(&vt->key2, vt->pk_id);
  mm_buf_append(&vt->key2, pk, pklen);
  if (vt->key2.oom) return MM_ENOMEM;
  return txn_get_buf(vt->tc->txn, vt->key2.p, vt->key2.len, c->latest, &c->row);
}

/* Locking scans (c->lock): lock the row c->pk, then read it at latest.
 * MM_OK (c->row loaded), MM_ENOTFOUND (skip: SKIP LOCKED, or the row went
 * away while we waited), or an error (MM_ESQL: statement error set). */
static int lock_and_fetch(mm_cursor *c) {
  mm_vtab *vt = c->vt;
  int rc = lock_key(vt, c->lock, vt->tc->lock_policy, vt->pk_id, c->pk.p, c->pk.len);
  if (rc == MM_EBUSY) return MM_ENOTFOUND;
  if (rc) return rc;
  rc = fetch_row(c, c->pk.p, c->pk.len);
  vt->xr_txn = NULL;
  if (rc == MM_OK && c->lock == TXN_LOCK_X && c->latest) {
    mm_buf_reset(&vt->xr_key);
    mm_buf_reset(&vt->xr_row);
    mm_buf_append(&vt->xr_key, vt->key2.p, vt->key2.len); /* (fetch_row's key) */
    mm_buf_append(&vt->xr_row, c->row.p, c->row.len);
    if (!vt->xr_key.oom && !vt->xr_row.oom) {
      vt->xr_txn = vt->tc->txn;
      vt->xr_ver = txn_version(vt->tc->txn);
    }
  }
  return rc;
}

/* Position on the current iterator entry: fill c->pk and c->row. */
static int load_entry(mm_cursor *c) {
  mm_vtab *vt = c->vt;
  for (;;) {
    if (!txn_iter_valid(c->it)) { c->eof = 1; return MM_OK; }
    size_t kl, vl;
    const char *k = txn_iter_key(c->it, &kl);
    const char *v = txn_iter_value(c->it, &vl);
    c->decoded = 0;
    c->scan_row = NULL;
    if (c->slot < 0 || vt->def->indexes[c->slot].primary) {
      mm_buf_reset(&c->pk);
      mm_buf_append(&c->pk, k + 5, kl - 5);
      if (!c->lock) {
        if (txn_iter_stable(c->it)) {
          /* read in place: the row stays valid until this cursor moves,
           * whatever the statement writes meanwhile (INSERT ... SELECT) */
          c->scan_row = v;
          c->scan_len = vl;
        } else {
          mm_buf_reset(&c->row);
          if (mm_buf_append(&c->row, v, vl) != MM_OK) return MM_ENOMEM;
        }
        return c->pk.oom ? MM_ENOMEM : MM_OK;
      }
    } else {
      /* secondary entry -> pk -> row */
      mm_buf_reset(&c->pk);
      if (vl > 0) mm_buf_append(&c->pk, v, vl);
      else {
        const tbl_index *ix = &vt->def->indexes[c->slot];
        size_t off = 5;
        for (int q = 0; q < ix->ncols; q++) {
          long s = codec_key_skip((const unsigned char *)k + off, kl - off, vt->kc[ix->cols[q]]);
          if (s < 0) return MM_ECORRUPT;
          off += (size_t)s;
        }
        mm_buf_append(&c->pk, k + off, kl - off);
      }
    }
    if (c->pk.oom) return MM_ENOMEM;
    int rc = c->lock ? lock_and_fetch(c) : fetch_row(c, c->pk.p, c->pk.len);
    if (rc == MM_ENOTFOUND) { /* skipped, deleted meanwhile, or index entry without row */
      if (c->desc) txn_iter_prev(c->it); else txn_iter_next(c->it);
      continue;
    }
    return rc;
  }
}

static int rowid_to_pk(mm_vtab *vt, sqlite3_int64 rowid, mm_buf *out) {
  mm_buf_reset(out);
  if (vt->rid == RID_INTPK) {
    tbl_val v = {.t = CODEC_T_INT, .i = rowid};
    if (vt->kc[vt->def->indexes[0].cols[0]] == CODEC_K_UINT) { v.t = CODEC_T_UINT; v.u = (uint64_t)rowid; }
    return codec_key_append(out, vt->kc[vt->def->indexes[0].cols[0]], &v, 0);
  }
  if (vt->rid == RID_HIDDEN) {
    unsigned char b[8];
    mm_put_u64be(b, (uint64_t)rowid);
    return mm_buf_append(out, b, 8);
  }
  const char *k;
  size_t n;
  if (rmap_get(vt->tc, rowid, &k, &n) != MM_OK) return MM_ENOTFOUND;
  return mm_buf_append(out, k, n);
}

static int vt_filter(sqlite3_vtab_cursor *cur, int plan, const char *idxStr, int argc, sqlite3_value **argv) {
  mm_cursor *c = (mm_cursor *)cur;
  mm_vtab *vt = c->vt;
  txn *t = vt->tc->txn;
  if (!t) return no_txn(vt);
  if (c->it) { txn_iter_free(c->it); c->it = NULL; }
  c->eof = 1;
  c->decoded = 0;
  c->scan_row = NULL;
  c->latest = vt->tc->read_latest;
  c->lock = c->latest ? vt->tc->lock_mode : 0;
  c->desc = !!(plan & P_DESC);
  c->slot = P_SLOT(plan) == 0xFF ? -1 : P_SLOT(plan);
  int rc;
  if (plan & P_ROWID) {
    rc = rowid_to_pk(vt, sqlite3_value_int64(argv[0]), &c->pk);
    if (rc == MM_ENOTFOUND || sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER) return SQLITE_OK;
    if (rc) return fail_io(vt, rc);
    rc = c->lock ? lock_and_fetch(c) : fetch_row(c, c->pk.p, c->pk.len);
    if (rc == MM_ENOTFOUND) return SQLITE_OK;
    if (rc) return fail_io(vt, rc);
    c->point = 1;
    c->eof = 0;
    return SQLITE_OK;
  }
  uint32_t id = c->slot < 0 ? vt->pk_id : vt->def->indexes[c->slot].id;
  mm_buf_reset(&c->lo);
  codec_key_index_prefix(&c->lo, id);
  int neq = P_NEQ(plan), ai = 0;
  const tbl_index *ix = c->slot >= 0 ? &vt->def->indexes[c->slot] : NULL;
  for (int k = 0; k < neq; k++) {
    tbl_val v;
    int col = ix->cols[k];
    if (cons_val(vt, col, argv[ai++], 1, 0, &v)) return SQLITE_OK; /* cannot match */
    codec_key_append(&c->lo, vt->kc[col], &v, ix->prefix ? ix->prefix[k] : 0);
  }
  mm_buf_reset(&c->hi);
  mm_buf_append(&c->hi, c->lo.p, c->lo.len);
  if ((plan & P_POINT) && ix) {
    if (c->lo.oom) return fail_io(vt, MM_ENOMEM);
    c->point = 1;
    if (ix->primary) {
      mm_buf_reset(&c->pk);
      mm_buf_append(&c->pk, c->lo.p + 5, c->lo.len - 5);
      if (c->lock) rc = c->pk.oom ? MM_ENOMEM : lock_and_fetch(c);
      else rc = txn_get_buf(t, c->lo.p, c->lo.len, c->latest, &c->row);
    } else {
      rc = txn_get_buf(t, c->lo.p, c->lo.len, c->latest, &c->vbuf);
      if (rc == MM_OK) {
        mm_buf_reset(&c->pk);
        mm_buf_append(&c->pk, c->vbuf.p, c->vbuf.len);
        rc = c->lock ? lock_and_fetch(c) : fetch_row(c, c->pk.p, c->pk.len);
      }
    }
    if (rc == MM_ENOTFOUND) return SQLITE_OK;
    if (rc) return fail_io(vt, rc);
    c->eof = 0;
    return SQLITE_OK;
  }
  c->point = 0;
  if (ix && neq < ix->ncols) {
    int col = ix->cols[neq];
    if (plan & P_LO) {
      tbl_val v;
      int r = cons_val(vt, col, argv[ai++], 0, 1, &v);
      if (r == 1) return SQLITE_OK;
      if (r == 0) codec_key_append(&c->lo, vt->kc[col], &v, 0);
    }
    if (plan & P_HI) {
      tbl_val v;
      int r = cons_val(vt, col, argv[ai++], 0, 0, &v);
      if (r == 1) return SQLITE_OK;
      if (r == 0) codec_key_append(&c->hi, vt->kc[col], &v, 0);
    }
  }
  if (!key_succ(&c->hi)) mm_buf_append(&c->hi, "\xff\xff\xff\xff\xff\xff", 6);
  if (c->lo.oom || c->hi.oom) return fail_io(vt, MM_ENOMEM);
  c->it = txn_iter_new(t, c->lo.p, c->lo.len, c->hi.p, c->hi.len, c->latest);
  if (!c->it) return fail_io(vt, MM_ENOMEM);
  c->eof = 0;
  if (c->desc) txn_iter_seek_last(c->it);
  else txn_iter_seek(c->it, c->lo.p, c->lo.len);
  rc = load_entry(c);
  return rc ? fail_io(vt, rc) : SQLITE_OK;
}

static int vt_next(sqlite3_vtab_cursor *cur) {
  mm_cursor *c = (mm_cursor *)cur;
  if (c->point || !c->it) { c->eof = 1; return SQLITE_OK; }
  if (c->desc) txn_iter_prev(c->it);
  else txn_iter_next(c->it);
  int rc = load_entry(c);
  return rc ? fail_io(c->vt, rc) : SQLITE_OK;
}

static int vt_eof(sqlite3_vtab_cursor *cur) { return ((mm_cursor *)cur)->eof; }

static int decode_row(mm_cursor *c) {
  if (c->decoded) return MM_OK;
  int n;
  int ncols = c->vt->def->ncols;
  const char *row = c->scan_row ? c->scan_row : c->row.p;
  size_t len = c->scan_row ? c->scan_len : c->row.len;
  int rc = codec_row_decode(row, len, c->cells, ncols, &n);
  if (rc) return rc;
  for (int i = n; i < ncols; i++) c->cells[i] = c->vt->dflt[i]; /* added after the row was written */
  c->decoded = 1;
  return MM_OK;
}

static void result_cell(sqlite3_context *ctx, const tbl_column *col, const tbl_val *v) {
  switch (v->t) {
  case CODEC_T_NULL: sqlite3_result_null(ctx); return;
  case CODEC_T_INT: sqlite3_result_int64(ctx, v->i); return;
  case CODEC_T_UINT: {
    char b[24];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v->u);
    sqlite3_result_text(ctx, b, n, SQLITE_TRANSIENT);
    return;
  }
  case CODEC_T_DOUBLE: sqlite3_result_double(ctx, v->d); return;
  case CODEC_T_BLOB: sqlite3_result_blob(ctx, v->p, (int)v->n, SQLITE_TRANSIENT); return;
  default:
    if (col->type == TBL_DECIMAL) {
      int k = decimal_kind(col);
      if (k != CODEC_T_TEXT) {
        char b[80];
        size_t n = MM_MIN(v->n, sizeof b - 1);
        memcpy(b, v->p, n);
        b[n] = 0;
        if (k == CODEC_T_INT) sqlite3_result_int64(ctx, strtoll(b, NULL, 10));
        else sqlite3_result_double(ctx, strtod(b, NULL));
        return;
      }
    }
    sqlite3_result_text(ctx, v->p, (int)v->n, SQLITE_TRANSIENT);
  }
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  mm_cursor *c = (mm_cursor *)cur;
  if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK; /* UPDATE: xUpdate rereads the row */
  int rc = decode_row(c);
  if (rc) return fail_io(c->vt, rc);
  result_cell(ctx, &c->vt->def->cols[i], &c->cells[i]);
  return SQLITE_OK;
}

static int pk_to_rowid(mm_vtab *vt, const char *pk, size_t n, sqlite3_int64 *rowid) {
  if (vt->rid == RID_INTPK || vt->rid == RID_HIDDEN) {
    const unsigned char *p = (const unsigned char *)pk;
    if (vt->rid == RID_INTPK) {
      if (n != 9) return MM_ECORRUPT;
      uint64_t u = mm_get_u64be(p + 1);
      if (vt->kc[vt->def->indexes[0].cols[0]] == CODEC_K_INT) u ^= 0x8000000000000000ull;
      *rowid = (sqlite3_int64)u;
    } else {
      if (n != 8) return MM_ECORRUPT;
      *rowid = (sqlite3_int64)mm_get_u64be(p);
    }
    return MM_OK;
  }
  int64_t r = rmap_add(vt->tc, pk, n);
  if (r < 0) return MM_ENOMEM;
  *rowid = r;
  return MM_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  mm_cursor *c = (mm_cursor *)cur;
  int rc = pk_to_rowid(c->vt, c->pk.p, c->pk.len, rowid);
  return rc ? fail_io(c->vt, rc) : SQLITE_OK;
}

/* ---- writes -------------------------------------------------------------------------------- */
static void warn_cb(void *ctx, int code, const char *msg) { tbl_conn_warn(ctx, code, "%s", msg); }

/* The primary key of the row in vals (has_pk tables). */
static int pk_of(mm_vtab *vt, const tbl_val *vals, mm_buf *out) {
  mm_buf_reset(out);
  const tbl_index *ix = &vt->def->indexes[0];
  for (int k = 0; k < ix->ncols; k++)
    codec_key_append(out, vt->kc[ix->cols[k]], &vals[ix->cols[k]], ix->prefix ? ix->prefix[k] : 0);
  return out->oom ? MM_ENOMEM : MM_OK;
}

/* Key of secondary index slot s for a row; *uniq set when it is in the
 * unique format (value = pk), else pk is appended (value empty). */
static int index_key(mm_vtab *vt, int s, const tbl_val *vals, const mm_buf *pk, mm_buf *out, int *uniq) {
  const tbl_index *ix = &vt->def->indexes[s];
  mm_buf_reset(out);
  codec_key_index_prefix(out, ix->id);
  int has_null = 0;
  for (int k = 0; k < ix->ncols; k++) {
    const tbl_val *v = &vals[ix->cols[k]];
    if (v->t == CODEC_T_NULL) has_null = 1;
    codec_key_append(out, vt->kc[ix->cols[k]], v, ix->prefix ? ix->prefix[k] : 0);
  }
  *uniq = ix->unique && !has_null;
  if (!*uniq) mm_buf_append(out, pk->p, pk->len);
  return out->oom ? MM_ENOMEM : MM_OK;
}

/* Write locks: X on the row key of pk and on every unique-index entry the
 * row vals would have, taken before the uniqueness checks (which read at
 * latest), as InnoDB locks the keys it inserts. */
static int lock_write_keys(mm_vtab *vt, const tbl_val *vals, const mm_buf *pk) {
  int rc;
  if (vt->def->has_pk && (rc = lock_key(vt, TXN_LOCK_X, TXN_WAIT, vt->pk_id, pk->p, pk->len))) return rc;
  for (int s = 0; s < vt->def->nindexes; s++) {
    const tbl_index *ix = &vt->def->indexes[s];
    if (ix->primary || !ix->unique) continue;
    int uniq;
    if ((rc = index_key(vt, s, vals, pk, &vt->key, &uniq))) return rc;
    if (!uniq) continue;
    if ((rc = lock_key(vt, TXN_LOCK_X, TXN_WAIT, 0, vt->key.p, vt->key.len))) return rc;
  }
  return MM_OK;
}

static int put_row(mm_vtab *vt, const mm_buf *pk, const mm_buf *row) {
  mm_buf_reset(&vt->key);
  codec_key_index_prefix(&vt->key, vt->pk_id);
  mm_buf_append(&vt->key, pk->p, pk->len);
  if (vt->key.oom) return MM_ENOMEM;
  return txn_put(vt->tc->txn, vt->key.p, vt->key.len, row->p, row->len);
}

/* Write (del=0) or delete (del=1) every secondary entry of a row. */
static int put_indexes(mm_vtab *vt, const tbl_val *vals, const mm_buf *pk, int del, const tbl_val *other) {
  for (int s = 0; s < vt->def->nindexes; s++) {
    const tbl_index *ix = &vt->def->indexes[s];
    if (ix->primary) continue;
    int uniq, rc;
    if ((rc = index_key(vt, s, vals, pk, &vt->key, &uniq))) return rc;
    if (other) { /* skip entries that are the same for both rows */
      int u2;
      if ((rc = index_key(vt, s, other, pk, &vt->key2, &u2))) return rc;
      if (vt->key.len == vt->key2.len && memcmp(vt->key.p, vt->key2.p, vt->key.len) == 0) continue;
    }
    if (del) rc = txn_del(vt->tc->txn, vt->key.p, vt->key.len);
    else rc = txn_put(vt->tc->txn, vt->key.p, vt->key.len, uniq ? pk->p : "", uniq ? pk->len : 0);
    if (rc) return rc;
  }
  return MM_OK;
}

/* Read the latest row with primary key pk into buf and decode into vals. */
static int read_row(mm_vtab *vt, const char *pk, size_t pklen, mm_buf *buf, tbl_val *vals) {
  mm_buf_reset(&vt->key2);
  codec_key_index_prefix(&vt->key2, vt->pk_id);
  mm_buf_append(&vt->key2, pk, pklen);
  if (vt->key2.oom) return MM_ENOMEM;
  txn *t = vt->tc->txn;
  int rc;
  if (vt->xr_txn == t && vt->xr_ver == txn_version(t) && vt->xr_key.len == vt->key2.len &&
      memcmp(vt->xr_key.p, vt->key2.p, vt->key2.len) == 0) {
    /* this txn locked and read the row, and changed nothing since */
    mm_buf_reset(buf);
    if ((rc = mm_buf_reserve(buf, vt->xr_row.len + 1))) return rc;
    memcpy(buf->p, vt->xr_row.p, vt->xr_row.len);
    buf->len = vt->xr_row.len;
    buf->p[buf->len] = 0;
  } else if ((rc = txn_get_buf(t, vt->key2.p, vt->key2.len, 1, buf))) {
    return rc;
  }
  int n;
  if ((rc = codec_row_decode(buf->p, buf->len, vals, vt->def->ncols, &n))) return rc;
  for (int i = n; i < vt->def->ncols; i++) vals[i] = vt->dflt[i];
  return MM_OK;
}

static int delete_row(mm_vtab *vt, const char *pk, size_t pklen, mm_buf *rowbuf, tbl_val *vals) {
  int rc = lock_key(vt, TXN_LOCK_X, TXN_WAIT, vt->pk_id, pk, pklen);
  if (rc) return rc;
  rc = read_row(vt, pk, pklen, rowbuf, vals);
  if (rc) return rc;
  mm_buf pkb = {.p = (char *)pk, .len = pklen};
  if ((rc = put_indexes(vt, vals, &pkb, 1, NULL))) return rc;
  mm_buf_reset(&vt->key);
  codec_key_index_prefix(&vt->key, vt->pk_id);
  mm_buf_append(&vt->key, pk, pklen);
  if (vt->key.oom) return MM_ENOMEM;
  if ((rc = txn_del(vt->tc->txn, vt->key.p, vt->key.len))) return rc;
  atomic_fetch_sub(&vt->state->rows, 1);
  return MM_OK;
}

/* "Duplicate entry 'a-b' for key 'name'" */
static void dup_message(mm_vtab *vt, int s, const tbl_val *vals, mm_error *e) {
  const tbl_index *ix = s >= 0 ? &vt->def->indexes[s] : NULL;
  mm_buf_reset(&vt->msg);
  if (!ix) {
    mm_buf_puts(&vt->msg, "?");
  } else {
    for (int k = 0; k < ix->ncols; k++) {
      if (k) mm_buf_putc(&vt->msg, '-');
      const tbl_val *v = &vals[ix->cols[k]];
      size_t before = vt->msg.len;
      tbl_value_text(v, &vt->msg);
      if (ix->prefix && ix->prefix[k] && v->t != CODEC_T_NULL)
        vt->msg.len = before + codec_utf8_prefix(vt->msg.p + before, vt->msg.len - before, ix->prefix[k]);
    }
  }
  mm_error_set(e, 1062, "23000", "Duplicate entry '%.*s' for key '%s'", (int)MM_MIN(vt->msg.len, 192),
               vt->msg.p ? vt->msg.p : "", ix ? ix->name : "PRIMARY");
}

/* Find a row conflicting with vals (pk: its primary key) on the PK or a
 * unique index, ignoring the row whose pk is self (UPDATE).  Returns 1 and
 * sets *slot and the conflicting pk in vt->oldpk, 0 if none, <0 error. */
static int find_conflict(mm_vtab *vt, const tbl_val *vals, const mm_buf *pk, const mm_buf *self, int from, int *slot) {
  txn *t = vt->tc->txn;
  for (int s = from; s < vt->def->nindexes; s++) {
    const tbl_index *ix = &vt->def->indexes[s];
    if (!ix->unique && !ix->primary) continue;
    int rc;
    if (ix->primary) {
      if (self && self->len == pk->len && memcmp(self->p, pk->p, pk->len) == 0) continue;
      mm_buf_reset(&vt->key);
      codec_key_index_prefix(&vt->key, vt->pk_id);
      mm_buf_append(&vt->key, pk->p, pk->len);
      rc = txn_get_buf(t, vt->key.p, vt->key.len, 1, &vt->tmp);
      if (rc == MM_ENOTFOUND) continue;
      if (rc) return rc;
      mm_buf_reset(&vt->oldpk);
      mm_buf_append(&vt->oldpk, pk->p, pk->len);
    } else {
      int uniq;
      if ((rc = index_key(vt, s, vals, pk, &vt->key, &uniq))) return rc;
      if (!uniq) continue; /* a NULL never conflicts */
      rc = txn_get_buf(t, vt->key.p, vt->key.len, 1, &vt->tmp);
      if (rc == MM_ENOTFOUND) continue;
      if (rc) return rc;
      if (self && self->len == vt->tmp.len && memcmp(self->p, vt->tmp.p, self->len) == 0) continue;
      mm_buf_reset(&vt->oldpk);
      mm_buf_append(&vt->oldpk, vt->tmp.p, vt->tmp.len);
    }
    if (vt->oldpk.oom) return MM_ENOMEM;
    *slot = s;
    return 1;
  }
  return 0;
}

static int is_sentinel(sqlite3_value *v) {
  return sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) == (int)SENTINEL_LEN &&
         memcmp(sqlite3_value_blob(v), SENTINEL, SENTINEL_LEN) == 0;
}

/* The value of column i when the statement gave none (or DEFAULT). */
static int default_value(mm_vtab *vt, int i, tbl_val *out, tbl_conv *cv) {
  const tbl_column *c = &vt->def->cols[i];
  if (c->default_now) {
    mm_buf *b = &vt->cbuf[i];
    mm_buf_reset(b);
    tbl_now_text(vt->tc->tz_offset, c->scale, b);
    if (c->type == TBL_DATE) b->len = 10;
    else if (c->type == TBL_TIME) { memmove(b->p, b->p + 11, b->len - 11); b->len -= 11; }
    else if (c->type == TBL_YEAR) { out->t = CODEC_T_INT; out->i = strtol(b->p, NULL, 10); return MM_OK; }
    out->t = CODEC_T_TEXT;
    out->p = b->p;
    out->n = b->len;
    return b->oom ? MM_ENOMEM : MM_OK;
  }
  if (c->has_default || !c->not_null || c->auto_increment) {
    *out = vt->dflt[i];
    return MM_OK;
  }
  /* NOT NULL without DEFAULT */
  if (cv->strict) {
    mm_error_set(cv->err, 1364, "HY000", "Field '%s' doesn't have a default value", c->name);
    return MM_ESQL;
  }
  tbl_conn_warn(vt->tc, 1364, "Field '%s' doesn't have a default value", c->name);
  tbl_value_implicit(c, out, &vt->cbuf[i]);
  return MM_OK;
}

/* SQLite does not apply DEFAULT to virtual tables: an omitted column
 * arrives as NULL.  To tell "omitted" from an explicit NULL we look at the
 * running INSERT statement's text (the busy statement naming this table)
 * and its column list, once per statement.  Columns it names are "given";
 * the rest get their defaults.  mm_default() (the sentinel) marks an
 * explicit DEFAULT.  If the statement cannot be found, every column counts
 * as given. */
static const char *skip_ws(const char *p) {
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (p[0] == '/' && p[1] == '*') { const char *e = strstr(p + 2, "*/"); if (!e) return p + strlen(p); p = e + 2; continue; }
    return p;
  }
}

static void insert_given(mm_vtab *vt) {
  tbl_conn *tc = vt->tc;
  vpriv *pv = priv(tc);
  if (vt->given_gen == pv->stmt_gen && pv->stmt_gen) return;
  vt->given_gen = pv->stmt_gen;
  int n = vt->def->ncols;
  memset(vt->given, 1, (size_t)n);
  /* quoted name as it appears in SQL */
  mm_buf q;
  mm_buf_init(&q);
  put_ident(&q, vt->def->db);
  q.len--; /* drop closing quote: "db.name" */
  mm_buf_putc(&q, '.');
  for (const char *c = vt->def->name; *c; c++) { if (*c == '"') mm_buf_putc(&q, '"'); mm_buf_putc(&q, *c); }
  mm_buf_putc(&q, '"');
  mm_buf_putc(&q, 0);
  if (q.oom) { mm_buf_free(&q); return; }
  const char *sql = NULL, *at = NULL;
  for (sqlite3_stmt *s = sqlite3_next_stmt(tc->db, NULL); s; s = sqlite3_next_stmt(tc->db, s)) {
    if (!sqlite3_stmt_busy(s) || sqlite3_stmt_readonly(s)) continue;
    const char *t = skip_ws(sqlite3_sql(s));
    if (sqlite3_strnicmp(t, "INSERT", 6) != 0 && sqlite3_strnicmp(t, "REPLACE", 7) != 0) continue;
    const char *f = strstr(t, q.p);
    if (!f) continue;
    sql = t;
    at = f + q.len - 1;
    break;
  }
  mm_buf_free(&q);
  if (!sql) return;
  const char *p = skip_ws(at);
  if (*p == '(') {
    const char *r = skip_ws(p + 1);
    if (sqlite3_strnicmp(r, "SELECT", 6) == 0 || sqlite3_strnicmp(r, "WITH", 4) == 0 || sqlite3_strnicmp(r, "VALUES", 6) == 0 || *r == '(')
      return; /* a query, not a column list */
    memset(vt->given, 0, (size_t)n);
    p = r;
    while (*p && *p != ')') {
      char name[256];
      size_t k = 0;
      if (*p == '"' || *p == '`' || *p == '[') {
        char qc = *p == '[' ? ']' : *p;
        for (p++; *p; p++) {
          if (*p == qc) { if (p[1] == qc) p++; else { p++; break; } }
          if (k < sizeof name - 1) name[k++] = *p;
        }
      } else {
        while (*p && *p != ',' && *p != ')' && *p != ' ') { if (k < sizeof name - 1) name[k++] = *p; p++; }
      }
      name[k] = 0;
      for (int i = 0; i < n; i++)
        if (sqlite3_stricmp(vt->def->cols[i].name, name) == 0) vt->given[i] = 1;
      p = skip_ws(p);
      if (*p == ',') p = skip_ws(p + 1);
      else if (*p != ')') { memset(vt->given, 1, (size_t)n); return; }
    }
  } else if (sqlite3_strnicmp(p, "DEFAULT", 7) == 0) {
    memset(vt->given, 0, (size_t)n);
  }
}

/* Convert argv[2..] into vt->nv.  old != NULL for UPDATE (nochange values
 * come from it).  *changed_mask: not needed; on_update columns handled by
 * the caller through *explicit_set. */
static int build_row(mm_vtab *vt, sqlite3_value **argv, const tbl_val *old, tbl_conv *cv, int is_insert,
                     unsigned char *explicit_set) {
  const tbl_def *def = vt->def;
  for (int i = 0; i < def->ncols; i++) {
    const tbl_column *c = &def->cols[i];
    sqlite3_value *sv = argv[2 + i];
    tbl_val *out = &vt->nv[i];
    explicit_set[i] = 0;
    if (old && sqlite3_value_nochange(sv)) { *out = old[i]; continue; }
    explicit_set[i] = 1;
    if (is_sentinel(sv) || (is_insert && !vt->given[i])) {
      explicit_set[i] = 0;
      if (default_value(vt, i, out, cv)) return MM_ESQL;
      if (out->t == CODEC_T_NULL && c->auto_increment) out->t = CODEC_T_NULL;
      continue;
    }
    tbl_val in;
    sv_to_val(sv, &in);
    if (in.t == CODEC_T_NULL) {
      if (c->auto_increment && is_insert) { out->t = CODEC_T_NULL; continue; }
      if (c->not_null) {
        if (c->type == TBL_TIMESTAMP && (c->default_now || c->on_update_now)) { /* NULL into TIMESTAMP = now */
          tbl_val tmp;
          int save = c->default_now;
          (void)save;
          mm_buf_reset(&vt->cbuf[i]);
          tbl_now_text(vt->tc->tz_offset, c->scale, &vt->cbuf[i]);
          tmp.t = CODEC_T_TEXT;
          tmp.p = vt->cbuf[i].p;
          tmp.n = vt->cbuf[i].len;
          *out = tmp;
          continue;
        }
        if (cv->strict || is_insert) {
          mm_error_set(cv->err, 1048, "23000", "Column '%s' cannot be null", c->name);
          return MM_ESQL;
        }
        tbl_conn_warn(vt->tc, 1048, "Column '%s' cannot be null", c->name);
        tbl_value_implicit(c, out, &vt->cbuf[i]);
        continue;
      }
      out->t = CODEC_T_NULL;
      continue;
    }
    if (tbl_value_convert(c, &in, out, &vt->cbuf[i], cv)) return MM_ESQL;
  }
  return MM_OK;
}

/* Record a conflict for ON DUPLICATE KEY UPDATE. */
static int dup_record(mm_vtab *vt, sqlite3_int64 rowid) {
  tbl_conn *tc = vt->tc;
  vpriv *p = priv(tc);
  if (tc->ndups == tc->capdups) {
    int nc = tc->capdups ? tc->capdups * 2 : 8;
    struct tbl_dup *d = mm_realloc(tc->dups, (size_t)nc * sizeof *d);
    if (!d) return MM_ENOMEM;
    tc->dups = d;
    tc->capdups = nc;
  }
  int n = vt->def->ncols;
  sqlite3_value **vals = mm_calloc((size_t)n, sizeof *vals);
  if (!vals) return MM_ENOMEM;
  if (!p->dupst && sqlite3_prepare_v2(tc->db, "SELECT ?1", -1, &p->dupst, NULL) != SQLITE_OK) { mm_free(vals); return MM_ENOMEM; }
  for (int i = 0; i < n; i++) {
    const tbl_val *v = &vt->nv[i];
    switch (v->t) {
    case CODEC_T_NULL: sqlite3_bind_null(p->dupst, 1); break;
    case CODEC_T_INT: sqlite3_bind_int64(p->dupst, 1, v->i); break;
    case CODEC_T_UINT: sqlite3_bind_double(p->dupst, 1, (double)v->u); break;
    case CODEC_T_DOUBLE: sqlite3_bind_double(p->dupst, 1, v->d); break;
    case CODEC_T_BLOB: sqlite3_bind_blob(p->dupst, 1, v->p, (int)v->n, SQLITE_TRANSIENT); break;
    default: sqlite3_bind_text(p->dupst, 1, v->p, (int)v->n, SQLITE_TRANSIENT); break;
    }
    if (sqlite3_step(p->dupst) == SQLITE_ROW) vals[i] = sqlite3_value_dup(sqlite3_column_value(p->dupst, 0));
    sqlite3_reset(p->dupst);
  }
  tc->dups[tc->ndups].rowid = rowid;
  tc->dups[tc->ndups].vals = vals;
  tc->dups[tc->ndups].ncols = n;
  tc->ndups++;
  return MM_OK;
}

static int do_insert(mm_vtab *vt, sqlite3_value **argv, sqlite3_int64 *out_rowid, tbl_conv *cv, int onconf) {
  const tbl_def *def = vt->def;
  tbl_conn *tc = vt->tc;
  unsigned char expl[def->ncols > 0 ? def->ncols : 1];
  insert_given(vt);
  if (build_row(vt, argv, NULL, cv, 1, expl)) { set_err(vt, cv->err); return SQLITE_CONSTRAINT; }
  /* AUTO_INCREMENT */
  if (def->autoinc_col >= 0) {
    tbl_val *v = &vt->nv[def->autoinc_col];
    int gen = v->t == CODEC_T_NULL || (!(tc->mode & TBL_MODE_NO_AUTO_VALUE_ON_ZERO) &&
                                       ((v->t == CODEC_T_INT && v->i == 0) || (v->t == CODEC_T_DOUBLE && v->d == 0)));
    if (gen) {
      uint64_t id = counter_step(vt->state, def, 0, 1, 0, tc->autoinc_offset, tc->autoinc_increment);
      tbl_val in = {.t = CODEC_T_UINT, .u = id};
      if (id <= INT64_MAX) { in.t = CODEC_T_INT; in.i = (int64_t)id; }
      mm_error e;
      tbl_conv strict = *cv;
      strict.strict = 1;
      strict.err = &e;
      if (tbl_value_convert(&def->cols[def->autoinc_col], &in, v, &vt->cbuf[def->autoinc_col], &strict)) {
        mm_error_set(&e, 1467, "HY000", "Failed to read auto-increment value from storage engine");
        set_err(vt, &e);
        return SQLITE_ERROR;
      }
      if (!tc->insert_id) tc->insert_id = id;
    } else if (v->t == CODEC_T_INT && v->i > 0) {
      counter_step(vt->state, def, 0, 0, (uint64_t)v->i, tc->autoinc_offset, tc->autoinc_increment);
    } else if (v->t == CODEC_T_UINT) {
      counter_step(vt->state, def, 0, 0, v->u, tc->autoinc_offset, tc->autoinc_increment);
    }
  }
  int rc;
  if (def->has_pk) {
    if ((rc = pk_of(vt, vt->nv, &vt->pk))) return fail_io(vt, rc);
  } else {
    uint64_t rid = counter_step(vt->state, def, 1, 1, 0, tc->autoinc_offset, tc->autoinc_increment);
    unsigned char b[8];
    mm_put_u64be(b, rid);
    mm_buf_reset(&vt->pk);
    mm_buf_append(&vt->pk, b, 8);
  }
  /* write locks, then uniqueness (latest committed + own writes) */
  if ((rc = lock_write_keys(vt, vt->nv, &vt->pk))) return fail_io(vt, rc);
  int slot, from = 0;
  while ((rc = find_conflict(vt, vt->nv, &vt->pk, NULL, from, &slot)) == 1) {
    if (tc->dup_capture) {
      sqlite3_int64 rowid;
      if ((rc = pk_to_rowid(vt, vt->oldpk.p, vt->oldpk.len, &rowid)) || (rc = dup_record(vt, rowid)))
        return fail_io(vt, rc);
      return SQLITE_OK;
    }
    if (onconf == SQLITE_REPLACE) {
      /* delete the conflicting row, then look again (it may conflict on another key) */
      mm_buf_reset(&vt->tmp);
      if ((rc = delete_row(vt, vt->oldpk.p, vt->oldpk.len, &vt->oldrow, vt->ov))) return fail_io(vt, rc);
      tc->affected++;
      from = 0;
      continue;
    }
    mm_error e;
    dup_message(vt, slot, vt->nv, &e);
    if (onconf == SQLITE_IGNORE) {
      tbl_conn_warn(tc, e.code, "%s", e.msg);
      return SQLITE_OK;
    }
    set_err(vt, &e);
    return SQLITE_CONSTRAINT;
  }
  if (rc < 0) return fail_io(vt, rc);
  mm_buf_reset(&vt->row);
  if ((rc = codec_row_encode(&vt->row, vt->nv, def->ncols))) return fail_io(vt, rc);
  if ((rc = put_row(vt, &vt->pk, &vt->row)) || (rc = put_indexes(vt, vt->nv, &vt->pk, 0, NULL))) return fail_io(vt, rc);
  atomic_fetch_add(&vt->state->rows, 1);
  tc->affected++;
  if (pk_to_rowid(vt, vt->pk.p, vt->pk.len, out_rowid)) *out_rowid = 0;
  return SQLITE_OK;
}

static int same_row(const mm_buf *a, const mm_buf *b) { return a->len == b->len && memcmp(a->p, b->p, a->len) == 0; }

static int do_update(mm_vtab *vt, sqlite3_int64 rowid, sqlite3_value **argv, tbl_conv *cv, int onconf) {
  const tbl_def *def = vt->def;
  tbl_conn *tc = vt->tc;
  int rc;
  mm_buf oldpk;
  mm_buf_init(&oldpk);
  if ((rc = rowid_to_pk(vt, rowid, &oldpk))) { mm_buf_free(&oldpk); return rc == MM_ENOTFOUND ? SQLITE_OK : fail_io(vt, rc); }
  rc = lock_key(vt, TXN_LOCK_X, TXN_WAIT, vt->pk_id, oldpk.p, oldpk.len);
  if (rc == MM_OK) rc = read_row(vt, oldpk.p, oldpk.len, &vt->oldrow, vt->ov);
  if (rc == MM_ENOTFOUND) { mm_buf_free(&oldpk); return SQLITE_OK; } /* gone meanwhile */
  if (rc) { mm_buf_free(&oldpk); return fail_io(vt, rc); }
  tc->matched++;
  unsigned char expl[def->ncols > 0 ? def->ncols : 1];
  if (build_row(vt, argv, vt->ov, cv, 0, expl)) { mm_buf_free(&oldpk); set_err(vt, cv->err); return SQLITE_CONSTRAINT; }
  mm_buf_reset(&vt->row);
  codec_row_encode(&vt->row, vt->nv, def->ncols);
  /* compare with the stored row re-encoded (old rows may have fewer cells) */
  mm_buf_reset(&vt->tmp);
  codec_row_encode(&vt->tmp, vt->ov, def->ncols);
  if (same_row(&vt->row, &vt->tmp)) { mm_buf_free(&oldpk); return SQLITE_OK; }
  int touched = 0;
  for (int i = 0; i < def->ncols; i++)
    if (def->cols[i].on_update_now && !expl[i]) {
      tbl_val now;
      mm_buf_reset(&vt->cbuf[i]);
      tbl_now_text(tc->tz_offset, def->cols[i].scale, &vt->cbuf[i]);
      now.t = CODEC_T_TEXT;
      now.p = vt->cbuf[i].p;
      now.n = def->cols[i].type == TBL_DATE ? 10 : vt->cbuf[i].len;
      vt->nv[i] = now;
      touched = 1;
    }
  if (touched) {
    mm_buf_reset(&vt->row);
    codec_row_encode(&vt->row, vt->nv, def->ncols);
  }
  if (vt->row.oom) { mm_buf_free(&oldpk); return fail_io(vt, MM_ENOMEM); }
  if (def->has_pk) {
    if ((rc = pk_of(vt, vt->nv, &vt->pk))) { mm_buf_free(&oldpk); return fail_io(vt, rc); }
  } else {
    mm_buf_reset(&vt->pk);
    mm_buf_append(&vt->pk, oldpk.p, oldpk.len);
  }
  int pk_changed = !same_row(&vt->pk, &oldpk);
  int slot;
  if ((rc = lock_write_keys(vt, vt->nv, &vt->pk))) { mm_buf_free(&oldpk); return fail_io(vt, rc); }
  rc = find_conflict(vt, vt->nv, &vt->pk, &oldpk, 0, &slot);
  if (rc == 1) {
    mm_error e;
    dup_message(vt, slot, vt->nv, &e);
    mm_buf_free(&oldpk);
    tc->matched--;
    if (onconf == SQLITE_IGNORE) {
      tbl_conn_warn(tc, e.code, "%s", e.msg);
      return SQLITE_OK;
    }
    set_err(vt, &e);
    return SQLITE_CONSTRAINT;
  }
  if (rc < 0) { mm_buf_free(&oldpk); return fail_io(vt, rc); }
  if (pk_changed) {
    if ((rc = put_indexes(vt, vt->ov, &oldpk, 1, NULL))) goto io;
    mm_buf_reset(&vt->key);
    codec_key_index_prefix(&vt->key, vt->pk_id);
    mm_buf_append(&vt->key, oldpk.p, oldpk.len);
    if ((rc = txn_del(tc->txn, vt->key.p, vt->key.len))) goto io;
    if ((rc = put_indexes(vt, vt->nv, &vt->pk, 0, NULL))) goto io;
  } else {
    if ((rc = put_indexes(vt, vt->ov, &oldpk, 1, vt->nv))) goto io;
    if ((rc = put_indexes(vt, vt->nv, &vt->pk, 0, vt->ov))) goto io;
  }
  if ((rc = put_row(vt, &vt->pk, &vt->row))) goto io;
  mm_buf_free(&oldpk);
  tc->affected++;
  return SQLITE_OK;
io:
  mm_buf_free(&oldpk);
  return fail_io(vt, rc);
}

static int vt_update(sqlite3_vtab *v, int argc, sqlite3_value **argv, sqlite3_int64 *rowid) {
  mm_vtab *vt = (mm_vtab *)v;
  tbl_conn *tc = vt->tc;
  if (!tc->txn) return no_txn(vt);
  vpriv *p = priv(tc);
  int onconf = sqlite3_vtab_on_conflict(tc->db);
  mm_error e;
  mm_error_clear(&e);
  tbl_conv cv = {.strict = (tc->mode & TBL_MODE_STRICT) && onconf != SQLITE_IGNORE,
                 .mode = tc->mode,
                 .row = ++p->rownum,
                 .err = &e,
                 .warn = warn_cb,
                 .warn_ctx = tc};
  if (argc == 1) { /* DELETE */
    int rc = rowid_to_pk(vt, sqlite3_value_int64(argv[0]), &vt->oldpk);
    if (rc == MM_ENOTFOUND) return SQLITE_OK;
    if (rc) return fail_io(vt, rc);
    mm_buf pk;
    mm_buf_init(&pk);
    mm_buf_append(&pk, vt->oldpk.p, vt->oldpk.len);
    rc = pk.oom ? MM_ENOMEM : delete_row(vt, pk.p, pk.len, &vt->oldrow, vt->ov);
    mm_buf_free(&pk);
    if (rc == MM_ENOTFOUND) return SQLITE_OK;
    if (rc) return fail_io(vt, rc);
    tc->affected++;
    return SQLITE_OK;
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return do_insert(vt, argv, rowid, &cv, onconf);
  return do_update(vt, sqlite3_value_int64(argv[0]), argv, &cv, onconf);
}

static int vt_rename(sqlite3_vtab *v, const char *name) { return SQLITE_OK; }

static sqlite3_module mm_module = {
    .iVersion = 1,
    .xCreate = vt_connect,
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
    .xUpdate = vt_update,
    .xRename = vt_rename,
};

/* ---- collation ------------------------------------------------------------------------------ */
static int mm_ci_cmp(void *arg, int na, const void *a, int nb, const void *b) {
  return codec_ci_cmp(a, (size_t)na, b, (size_t)nb);
}

static void fn_mm_default(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sqlite3_result_blob(ctx, SENTINEL, (int)SENTINEL_LEN, SQLITE_STATIC);
}

/* ---- tbl_conn ------------------------------------------------------------------------------- */
tbl_conn *tbl_conn_new(sqlite3 *db, tbl_catalog *cat, store *st, int autoinc_offset, int autoinc_increment) {
  tbl_conn *tc = mm_calloc(1, sizeof *tc);
  if (!tc) return NULL;
  vpriv *p = mm_calloc(1, sizeof *p);
  if (!p) { mm_free(tc); return NULL; }
  tc->db = db;
  tc->cat = cat;
  tc->st = st;
  tc->autoinc_offset = autoinc_offset > 0 ? autoinc_offset : 1;
  tc->autoinc_increment = autoinc_increment > 0 ? autoinc_increment : 1;
  tc->mode = TBL_MODE_STRICT;
  tc->priv = p;
  tc->declared = p;
  p->cur.base = 1;
  p->next_base = 1;
  if (sqlite3_create_module_v2(db, "mm", &mm_module, tc, NULL) != SQLITE_OK ||
      sqlite3_create_collation_v2(db, "mm_ci", SQLITE_UTF8, NULL, mm_ci_cmp, NULL) != SQLITE_OK ||
      sqlite3_create_function_v2(db, "mm_default", 0, SQLITE_UTF8, NULL, fn_mm_default, NULL, NULL, NULL) != SQLITE_OK) {
    mm_free(p);
    mm_free(tc);
    return NULL;
  }
  return tc;
}

static void dups_clear(tbl_conn *tc) {
  for (int i = 0; i < tc->ndups; i++) {
    for (int k = 0; k < tc->dups[i].ncols; k++) sqlite3_value_free(tc->dups[i].vals[k]);
    mm_free(tc->dups[i].vals);
  }
  tc->ndups = 0;
}

static void decl_free(tbl_conn *tc, decl *d) {
  if (d->def) tbl_def_release(tc->cat, d->def);
  mm_free(d->vname);
  mm_free(d->db);
  mm_free(d->name);
}

void tbl_conn_free(tbl_conn *tc) {
  if (!tc) return;
  vpriv *p = priv(tc);
  for (int i = 0; i < p->nd; i++) decl_free(tc, &p->d[i]);
  mm_free(p->d);
  mm_buf_free(&p->cur.keys);
  mm_buf_free(&p->prev.keys);
  mm_free(p->cur.off);
  mm_free(p->prev.off);
  if (p->dupst) sqlite3_finalize(p->dupst);
  dups_clear(tc);
  mm_free(tc->dups);
  mm_free(tc->warnings);
  mm_free(p);
  mm_free(tc);
}

static int drop_decl(tbl_conn *tc, int i) {
  vpriv *p = priv(tc);
  char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS main.\"%w\"", p->d[i].vname);
  int rc = sql ? sqlite3_exec(tc->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
  sqlite3_free(sql);
  if (rc != SQLITE_OK) return MM_EBUSY;
  decl_free(tc, &p->d[i]);
  p->d[i] = p->d[--p->nd];
  return MM_OK;
}

int tbl_conn_declare(tbl_conn *tc, const char *db, const char *name, mm_error *err) {
  vpriv *p = priv(tc);
  char *vname = mm_sprintf("%s.%s", db, name);
  if (!vname) return mm_error_set(err, 1037, "HY001", "Out of memory");
  tbl_def *def = tbl_get(tc->cat, db, name);
  for (int i = 0; i < p->nd; i++) {
    if (strcmp(p->d[i].vname, vname) != 0) continue;
    if (def && def->version == p->d[i].version) {
      tbl_def_release(tc->cat, def);
      mm_free(vname);
      return MM_OK;
    }
    drop_decl(tc, i);
    break;
  }
  if (!def) {
    mm_free(vname);
    mm_error_set(err, 1146, "42S02", "Table '%s.%s' doesn't exist", db, name);
    return MM_ENOTFOUND;
  }
  if (p->nd == p->capd) {
    int nc = p->capd ? p->capd * 2 : 16;
    decl *nd = mm_realloc(p->d, (size_t)nc * sizeof *nd);
    if (!nd) { tbl_def_release(tc->cat, def); mm_free(vname); return mm_error_set(err, 1037, "HY001", "Out of memory"); }
    p->d = nd;
    p->capd = nc;
  }
  decl *d = &p->d[p->nd++];
  d->vname = vname;
  d->db = mm_strdup(db);
  d->name = mm_strdup(name);
  d->def = def;
  d->version = def->version;
  char *sql = sqlite3_mprintf("CREATE VIRTUAL TABLE main.\"%w\" USING mm", vname);
  int rc = sql && d->db && d->name ? sqlite3_exec(tc->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    mm_error_set(err, 1105, "HY000", "Cannot open table '%s.%s': %s", db, name, sqlite3_errmsg(tc->db));
    decl_free(tc, d);
    p->nd--;
    return MM_ESQL;
  }
  return MM_OK;
}

int tbl_conn_sync(tbl_conn *tc) {
  vpriv *p = priv(tc);
  int rc = MM_OK;
  for (int i = p->nd - 1; i >= 0; i--) {
    tbl_def *def = tbl_get(tc->cat, p->d[i].db, p->d[i].name);
    int stale = !def || def->version != p->d[i].version;
    if (def) tbl_def_release(tc->cat, def);
    if (stale && drop_decl(tc, i) != MM_OK) rc = MM_EBUSY;
  }
  tc->synced_version = tbl_catalog_version(tc->cat);
  return rc;
}

void tbl_conn_set_txn(tbl_conn *tc, txn *t) { tc->txn = t; }
void tbl_conn_set_mode(tbl_conn *tc, unsigned mode_bits) { tc->mode = mode_bits; }
void tbl_conn_set_tz(tbl_conn *tc, int offset_seconds) { tc->tz_offset = offset_seconds; }
void tbl_conn_set_read_latest(tbl_conn *tc, int on) { tc->read_latest = on; }
void tbl_conn_set_lock(tbl_conn *tc, int mode, int policy) {
  tc->lock_mode = mode;
  tc->lock_policy = policy;
}

void tbl_conn_stmt_begin(tbl_conn *tc) {
  vpriv *p = priv(tc);
  tc->affected = tc->matched = tc->insert_id = 0;
  tc->nwarn = 0;
  mm_error_clear(&tc->err);
  dups_clear(tc);
  p->rownum = 0;
  p->stmt_gen++;
  /* rowid map: the previous statement's entries stay valid one more statement */
  if (p->cur.n > 0) {
    rmap t = p->prev;
    p->prev = p->cur;
    p->cur = t;
    rmap_reset(&p->cur, p->prev.base + p->prev.n);
  }
}

uint64_t tbl_conn_affected(tbl_conn *tc) { return tc->affected; }
uint64_t tbl_conn_matched(tbl_conn *tc) { return tc->matched; }
uint64_t tbl_conn_insert_id(tbl_conn *tc) { return tc->insert_id; }

const mm_error *tbl_conn_warnings(tbl_conn *tc, int *n) {
  *n = tc->nwarn;
  return tc->warnings;
}

const mm_error *tbl_conn_error(tbl_conn *tc) { return &tc->err; }

void tbl_conn_set_dup_capture(tbl_conn *tc, int on) {
  tc->dup_capture = on;
  dups_clear(tc);
}

int tbl_conn_dup_count(tbl_conn *tc) { return tc->ndups; }

void tbl_conn_dup_get(tbl_conn *tc, int i, int64_t *rowid, sqlite3_value ***vals, int *ncols) {
  if (i < 0 || i >= tc->ndups) { *rowid = -1; *vals = NULL; *ncols = 0; return; }
  *rowid = tc->dups[i].rowid;
  *vals = tc->dups[i].vals;
  *ncols = tc->dups[i].ncols;
}

void tbl_conn_warn(tbl_conn *tc, int code, const char *fmt, ...) {
  if (tc->nwarn >= 65535) return; /* max_error_count */
  if (tc->nwarn == tc->capwarn) {
    int nc = tc->capwarn ? tc->capwarn * 2 : 8;
    mm_error *w = mm_realloc(tc->warnings, (size_t)nc * sizeof *w);
    if (!w) return;
    tc->warnings = w;
    tc->capwarn = nc;
  }
  mm_error *w = &tc->warnings[tc->nwarn++];
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mm_error_set(w, code, "HY000", "%s", msg);
}
