/*
 * table/catalog.c - the node's dictionary: databases, table definitions,
 * id counters.  See catalog.h for the contract and docs/catalog.md for the
 * on-disk format.
 *
 * Keys (all under STORE_PFX_CATALOG = 0x01):
 *   01 'V'                      -> u32be format version (1)
 *   01 'N'                      -> u32be next table id, u32be next index id
 *   01 'D' db                   -> database record (charset \0 collation)
 *   01 'T' db 00 name           -> table definition (tbl_def_encode)
 *   01 'G' u32be index id       -> "" : index range to delete (pending drop)
 *
 * Invariants:
 * - A published tbl_def is immutable; the catalog holds one reference on
 *   each current def; readers hold their own (tbl_get/tbl_def_release).
 * - cat->lock (rwlock) guards the in-memory lists, counters and version;
 *   cat->ddl (mutex) serializes edits, so an edit's read-modify-write of the
 *   counters and of definitions is never interleaved with another's.
 * - The in-memory state changes only after the edit's batch is durable.
 * - 'G' markers are written in the same batch as the catalog change that
 *   orphans an index range; the range is deleted after the commit and the
 *   marker removed, and tbl_catalog_open finishes any left over by a crash.
 *   Tables named "#mmsql-..." (ALTER's temporary copies) left by a crash are
 *   dropped at open the same way.
 */
#include "table/catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "txn/txn.h"

#define CAT_FORMAT 1
#define DEF_FORMAT 1
#define HIDDEN_PREFIX "#mmsql-"

typedef struct cat_db {
  char *name, *charset, *collation;
} cat_db;

struct tbl_catalog {
  store *st;
  pthread_rwlock_t lock;
  pthread_mutex_t ddl;
  uint64_t version;
  uint32_t next_table_id, next_index_id;
  cat_db *dbs;
  int ndbs, capdbs;
  tbl_def **tables; /* sorted by (db, name) */
  int ntables, captables;
};

/* ---- collations ------------------------------------------------------- */

static const tbl_collation collations[] = {
  {"utf8mb4_general_ci", "utf8mb4", 45, 1, 4, "UTF-8 Unicode"},
  {"utf8mb4_bin", "utf8mb4", 46, 0, 4, NULL},
  {"utf8mb4_unicode_ci", "utf8mb4", 224, 0, 4, NULL},
  {"utf8mb4_unicode_520_ci", "utf8mb4", 246, 0, 4, NULL},
  {"utf8mb4_0900_ai_ci", "utf8mb4", 255, 0, 4, NULL},
  {"utf8_general_ci", "utf8", 33, 1, 3, "UTF-8 Unicode"},
  {"utf8_bin", "utf8", 83, 0, 3, NULL},
  {"utf8_unicode_ci", "utf8", 192, 0, 3, NULL},
  {"latin1_swedish_ci", "latin1", 8, 1, 1, "cp1252 West European"},
  {"latin1_bin", "latin1", 47, 0, 1, NULL},
  {"latin1_general_ci", "latin1", 48, 0, 1, NULL},
  {"ascii_general_ci", "ascii", 11, 1, 1, "US ASCII"},
  {"ascii_bin", "ascii", 65, 0, 1, NULL},
  {"binary", "binary", 63, 1, 1, "Binary pseudo charset"},
};

const tbl_collation *tbl_collations(int *n) {
  *n = (int)MM_ARRAY_SIZE(collations);
  return collations;
}

/* "utf8mb3..." -> "utf8..." into buf. */
static const char *alias_utf8mb3(const char *name, char *buf, size_t size) {
  if (strncasecmp(name, "utf8mb3", 7) == 0) {
    snprintf(buf, size, "utf8%s", name + 7);
    return buf;
  }
  return name;
}

const tbl_collation *tbl_collation_find(const char *name) {
  char buf[80];
  if (!name) return NULL;
  name = alias_utf8mb3(name, buf, sizeof buf);
  for (size_t i = 0; i < MM_ARRAY_SIZE(collations); i++)
    if (strcasecmp(collations[i].name, name) == 0) return &collations[i];
  return NULL;
}

const tbl_collation *tbl_charset_default(const char *cs) {
  char buf[80];
  if (!cs) return NULL;
  cs = alias_utf8mb3(cs, buf, sizeof buf);
  for (size_t i = 0; i < MM_ARRAY_SIZE(collations); i++)
    if (collations[i].is_default && strcasecmp(collations[i].charset, cs) == 0) return &collations[i];
  return NULL;
}

/* ---- definitions ------------------------------------------------------ */

void tbl_column_clear(tbl_column *c) {
  if (!c) return;
  mm_free(c->name);
  for (int i = 0; i < c->n_enum; i++) mm_free(c->enum_vals[i]);
  mm_free(c->enum_vals);
  mm_free(c->default_value);
  mm_free(c->charset);
  mm_free(c->collation);
  mm_free(c->comment);
  memset(c, 0, sizeof *c);
}

static int dup_str(char **dst, const char *src) {
  *dst = NULL;
  if (!src) return 0;
  *dst = mm_strdup(src);
  return *dst ? 0 : -1;
}

int tbl_column_copy(tbl_column *d, const tbl_column *s) {
  *d = *s;
  d->name = d->default_value = d->charset = d->collation = d->comment = NULL;
  d->enum_vals = NULL;
  d->n_enum = 0;
  if (dup_str(&d->name, s->name) || dup_str(&d->default_value, s->default_value) ||
      dup_str(&d->charset, s->charset) || dup_str(&d->collation, s->collation) ||
      dup_str(&d->comment, s->comment))
    goto err_oom;
  if (s->n_enum) {
    d->enum_vals = mm_calloc((size_t)s->n_enum, sizeof(char *));
    if (!d->enum_vals) goto err_oom;
    for (int i = 0; i < s->n_enum; i++) {
      if (dup_str(&d->enum_vals[i], s->enum_vals[i])) { d->n_enum = i; goto err_oom; }
    }
    d->n_enum = s->n_enum;
  }
  return MM_OK;
err_oom:
  tbl_column_clear(d);
  return MM_ENOMEM;
}

static void index_clear(tbl_index *x) {
  mm_free(x->name);
  mm_free(x->cols);
  mm_free(x->prefix);
  mm_free(x->comment);
  memset(x, 0, sizeof *x);
}

void tbl_def_free(tbl_def *d) {
  if (!d) return;
  mm_free(d->db);
  mm_free(d->name);
  for (int i = 0; i < d->ncols; i++) tbl_column_clear(&d->cols[i]);
  mm_free(d->cols);
  for (int i = 0; i < d->nindexes; i++) index_clear(&d->indexes[i]);
  mm_free(d->indexes);
  mm_free(d->engine);
  mm_free(d->charset);
  mm_free(d->collation);
  mm_free(d->comment);
  mm_free(d);
}

tbl_def *tbl_def_clone(const tbl_def *s) {
  tbl_def *d = mm_calloc(1, sizeof *d);
  if (!d) return NULL;
  d->id = s->id;
  d->version = s->version;
  d->has_pk = s->has_pk;
  d->hidden_index_id = s->hidden_index_id;
  d->autoinc_col = s->autoinc_col;
  d->create_time = s->create_time;
  if (dup_str(&d->db, s->db) || dup_str(&d->name, s->name) || dup_str(&d->engine, s->engine) ||
      dup_str(&d->charset, s->charset) || dup_str(&d->collation, s->collation) ||
      dup_str(&d->comment, s->comment))
    goto err;
  if (s->ncols) {
    d->cols = mm_calloc((size_t)s->ncols, sizeof(tbl_column));
    if (!d->cols) goto err;
    for (int i = 0; i < s->ncols; i++) {
      if (tbl_column_copy(&d->cols[i], &s->cols[i])) goto err;
      d->ncols = i + 1;
    }
  }
  if (s->nindexes) {
    d->indexes = mm_calloc((size_t)s->nindexes, sizeof(tbl_index));
    if (!d->indexes) goto err;
    for (int i = 0; i < s->nindexes; i++) {
      tbl_index *x = &d->indexes[i];
      const tbl_index *y = &s->indexes[i];
      d->nindexes = i + 1;
      *x = *y;
      x->name = x->comment = NULL;
      x->cols = NULL;
      x->prefix = NULL;
      if (dup_str(&x->name, y->name) || dup_str(&x->comment, y->comment)) goto err;
      x->cols = mm_calloc((size_t)(y->ncols ? y->ncols : 1), sizeof(int));
      x->prefix = mm_calloc((size_t)(y->ncols ? y->ncols : 1), sizeof(uint32_t));
      if (!x->cols || !x->prefix) goto err;
      memcpy(x->cols, y->cols, sizeof(int) * (size_t)y->ncols);
      memcpy(x->prefix, y->prefix, sizeof(uint32_t) * (size_t)y->ncols);
    }
  }
  d->refs = 0;
  return d;
err:
  tbl_def_free(d);
  return NULL;
}

/* ---- encoding --------------------------------------------------------- */

static void put_u8(mm_buf *b, unsigned v) { mm_buf_putc(b, (int)(v & 0xff)); }
static void put_u32(mm_buf *b, uint32_t v) {
  unsigned char x[4];
  mm_put_u32le(x, v);
  mm_buf_append(b, x, 4);
}
static void put_u64(mm_buf *b, uint64_t v) {
  unsigned char x[8];
  mm_put_u64le(x, v);
  mm_buf_append(b, x, 8);
}
static void put_str(mm_buf *b, const char *s) {
  if (!s) { put_u32(b, 0xffffffffu); return; }
  size_t n = strlen(s);
  put_u32(b, (uint32_t)n);
  mm_buf_append(b, s, n);
}

int tbl_def_encode(const tbl_def *d, mm_buf *b) {
  put_u8(b, DEF_FORMAT);
  put_str(b, d->db);
  put_str(b, d->name);
  put_u32(b, d->id);
  put_u32(b, d->hidden_index_id);
  put_u8(b, (unsigned)d->has_pk);
  put_str(b, d->engine);
  put_str(b, d->charset);
  put_str(b, d->collation);
  put_str(b, d->comment);
  put_u64(b, (uint64_t)d->create_time);
  put_u32(b, (uint32_t)d->ncols);
  for (int i = 0; i < d->ncols; i++) {
    const tbl_column *c = &d->cols[i];
    put_str(b, c->name);
    put_u8(b, (unsigned)c->type);
    unsigned fl = (c->is_unsigned ? 1u : 0) | (c->zerofill ? 2u : 0) | (c->not_null ? 4u : 0) |
                  (c->has_default ? 8u : 0) | (c->default_now ? 16u : 0) |
                  (c->on_update_now ? 32u : 0) | (c->auto_increment ? 64u : 0) |
                  (c->binary_collation ? 128u : 0);
    put_u8(b, fl);
    put_u32(b, c->length);
    put_u32(b, (uint32_t)c->scale);
    put_str(b, c->default_value);
    put_str(b, c->charset);
    put_str(b, c->collation);
    put_str(b, c->comment);
    put_u32(b, (uint32_t)c->n_enum);
    for (int k = 0; k < c->n_enum; k++) put_str(b, c->enum_vals[k]);
  }
  put_u32(b, (uint32_t)d->nindexes);
  for (int i = 0; i < d->nindexes; i++) {
    const tbl_index *x = &d->indexes[i];
    put_str(b, x->name);
    put_u32(b, x->id);
    put_u8(b, (x->primary ? 1u : 0) | (x->unique ? 2u : 0));
    put_u32(b, (uint32_t)x->ncols);
    for (int k = 0; k < x->ncols; k++) {
      put_u32(b, (uint32_t)x->cols[k]);
      put_u32(b, x->prefix[k]);
    }
    put_str(b, x->comment);
  }
  return b->oom ? MM_ENOMEM : MM_OK;
}

typedef struct rd {
  const unsigned char *p, *e;
  int bad;
} rd;
static unsigned get_u8(rd *r) {
  if (r->p + 1 > r->e) { r->bad = 1; return 0; }
  return *r->p++;
}
static uint32_t get_u32(rd *r) {
  if (r->p + 4 > r->e) { r->bad = 1; return 0; }
  uint32_t v = mm_get_u32le(r->p);
  r->p += 4;
  return v;
}
static uint64_t get_u64(rd *r) {
  if (r->p + 8 > r->e) { r->bad = 1; return 0; }
  uint64_t v = mm_get_u64le(r->p);
  r->p += 8;
  return v;
}
static char *get_str(rd *r) {
  uint32_t n = get_u32(r);
  if (r->bad || n == 0xffffffffu) return NULL;
  if ((size_t)(r->e - r->p) < n) { r->bad = 1; return NULL; }
  char *s = mm_strndup((const char *)r->p, n);
  if (!s) r->bad = 1;
  r->p += n;
  return s;
}

tbl_def *tbl_def_decode(const char *p, size_t n) {
  rd r = {(const unsigned char *)p, (const unsigned char *)p + n, 0};
  if (get_u8(&r) != DEF_FORMAT) return NULL;
  tbl_def *d = mm_calloc(1, sizeof *d);
  if (!d) return NULL;
  d->db = get_str(&r);
  d->name = get_str(&r);
  d->id = get_u32(&r);
  d->hidden_index_id = get_u32(&r);
  d->has_pk = (int)get_u8(&r);
  d->engine = get_str(&r);
  d->charset = get_str(&r);
  d->collation = get_str(&r);
  d->comment = get_str(&r);
  d->create_time = (int64_t)get_u64(&r);
  uint32_t nc = get_u32(&r);
  if (r.bad || nc > 4096) goto bad;
  d->cols = mm_calloc(nc ? nc : 1, sizeof(tbl_column));
  if (!d->cols) goto bad;
  d->autoinc_col = -1;
  for (uint32_t i = 0; i < nc && !r.bad; i++) {
    tbl_column *c = &d->cols[i];
    d->ncols = (int)i + 1;
    c->name = get_str(&r);
    c->type = (tbl_type)get_u8(&r);
    unsigned fl = get_u8(&r);
    c->is_unsigned = !!(fl & 1);
    c->zerofill = !!(fl & 2);
    c->not_null = !!(fl & 4);
    c->has_default = !!(fl & 8);
    c->default_now = !!(fl & 16);
    c->on_update_now = !!(fl & 32);
    c->auto_increment = !!(fl & 64);
    c->binary_collation = !!(fl & 128);
    c->length = get_u32(&r);
    c->scale = (int)get_u32(&r);
    c->default_value = get_str(&r);
    c->charset = get_str(&r);
    c->collation = get_str(&r);
    c->comment = get_str(&r);
    uint32_t ne = get_u32(&r);
    if (r.bad || ne > 65535) goto bad;
    if (ne) {
      c->enum_vals = mm_calloc(ne, sizeof(char *));
      if (!c->enum_vals) goto bad;
      for (uint32_t k = 0; k < ne; k++) {
        c->enum_vals[k] = get_str(&r);
        c->n_enum = (int)k + 1;
      }
    }
    if (c->auto_increment) d->autoinc_col = (int)i;
    if (!c->name) r.bad = 1;
  }
  uint32_t ni = get_u32(&r);
  if (r.bad || ni > 4096) goto bad;
  d->indexes = mm_calloc(ni ? ni : 1, sizeof(tbl_index));
  if (!d->indexes) goto bad;
  for (uint32_t i = 0; i < ni && !r.bad; i++) {
    tbl_index *x = &d->indexes[i];
    d->nindexes = (int)i + 1;
    x->name = get_str(&r);
    x->id = get_u32(&r);
    unsigned fl = get_u8(&r);
    x->primary = !!(fl & 1);
    x->unique = !!(fl & 2);
    uint32_t k = get_u32(&r);
    if (r.bad || k > 64) goto bad;
    x->cols = mm_calloc(k ? k : 1, sizeof(int));
    x->prefix = mm_calloc(k ? k : 1, sizeof(uint32_t));
    if (!x->cols || !x->prefix) goto bad;
    x->ncols = (int)k;
    for (uint32_t j = 0; j < k; j++) {
      x->cols[j] = (int)get_u32(&r);
      x->prefix[j] = get_u32(&r);
      if (x->cols[j] < 0 || x->cols[j] >= d->ncols) r.bad = 1;
    }
    x->comment = get_str(&r);
  }
  if (r.bad || !d->db || !d->name || r.p != r.e) goto bad;
  return d;
bad:
  tbl_def_free(d);
  return NULL;
}

/* ---- keys --------------------------------------------------------------- */

static int key_table(mm_buf *k, const char *db, const char *name) {
  mm_buf_putc(k, STORE_PFX_CATALOG);
  mm_buf_putc(k, 'T');
  mm_buf_puts(k, db);
  mm_buf_putc(k, 0);
  mm_buf_puts(k, name);
  return k->oom ? MM_ENOMEM : MM_OK;
}
static int key_db(mm_buf *k, const char *db) {
  mm_buf_putc(k, STORE_PFX_CATALOG);
  mm_buf_putc(k, 'D');
  mm_buf_puts(k, db);
  return k->oom ? MM_ENOMEM : MM_OK;
}
static void key_gc(unsigned char k[6], uint32_t id) {
  k[0] = STORE_PFX_CATALOG;
  k[1] = 'G';
  mm_put_u32be(k + 2, id);
}
static void key_autoinc(unsigned char k[5], uint32_t id) {
  k[0] = STORE_PFX_AUTOINC;
  mm_put_u32be(k + 1, id);
}

/* Delete index ranges and their 'G' markers, directly (post-commit). */
static int gc_ranges(store *st, const uint32_t *ids, int n) {
  if (n == 0) return MM_OK;
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  for (int i = 0; i < n; i++) {
    unsigned char lo[5], hi[5], g[6];
    lo[0] = hi[0] = STORE_PFX_DATA;
    mm_put_u32be(lo + 1, ids[i]);
    if (ids[i] == 0xffffffffu) {
      hi[0] = STORE_PFX_DATA + 1;
      mm_put_u32be(hi + 1, 0);
    } else {
      mm_put_u32be(hi + 1, ids[i] + 1);
    }
    rocksdb_writebatch_delete_range(wb, (const char *)lo, 5, (const char *)hi, 5);
    key_gc(g, ids[i]);
    rocksdb_writebatch_delete(wb, (const char *)g, 6);
  }
  int rc = store_write(st, wb, 0);
  rocksdb_writebatch_destroy(wb);
  return rc;
}

/* ---- in-memory lists ---------------------------------------------------- */

static int def_cmp(const char *db1, const char *n1, const char *db2, const char *n2) {
  int c = strcmp(db1, db2);
  return c ? c : strcmp(n1, n2);
}

/* Position of db.name in cat->tables, or -(insertion point) - 1. */
static int find_table(const tbl_catalog *cat, const char *db, const char *name) {
  int lo = 0, hi = cat->ntables - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int c = def_cmp(cat->tables[mid]->db, cat->tables[mid]->name, db, name);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

static int find_db(const tbl_catalog *cat, const char *db) {
  for (int i = 0; i < cat->ndbs; i++)
    if (strcmp(cat->dbs[i].name, db) == 0) return i;
  return -1;
}

static void def_unref(tbl_def *d) {
  if (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) tbl_def_free(d);
}

/* Insert (taking the reference) or replace. Caller holds the write lock. */
static int mem_put_table(tbl_catalog *cat, tbl_def *d) {
  int i = find_table(cat, d->db, d->name);
  if (i >= 0) {
    def_unref(cat->tables[i]);
    cat->tables[i] = d;
    return MM_OK;
  }
  i = -i - 1;
  if (cat->ntables == cat->captables) {
    int nc = cat->captables ? cat->captables * 2 : 16;
    tbl_def **t = mm_realloc(cat->tables, sizeof(tbl_def *) * (size_t)nc);
    if (!t) return MM_ENOMEM;
    cat->tables = t;
    cat->captables = nc;
  }
  memmove(cat->tables + i + 1, cat->tables + i, sizeof(tbl_def *) * (size_t)(cat->ntables - i));
  cat->tables[i] = d;
  cat->ntables++;
  return MM_OK;
}

static void mem_del_table(tbl_catalog *cat, const char *db, const char *name) {
  int i = find_table(cat, db, name);
  if (i < 0) return;
  def_unref(cat->tables[i]);
  memmove(cat->tables + i, cat->tables + i + 1, sizeof(tbl_def *) * (size_t)(cat->ntables - i - 1));
  cat->ntables--;
}

static int mem_put_db(tbl_catalog *cat, const char *name, const char *cs, const char *coll) {
  int i = find_db(cat, name);
  char *n = mm_strdup(name), *c = mm_strdup(cs), *o = mm_strdup(coll);
  if (!n || !c || !o) { mm_free(n); mm_free(c); mm_free(o); return MM_ENOMEM; }
  if (i >= 0) {
    cat_db *x = &cat->dbs[i];
    mm_free(x->name); mm_free(x->charset); mm_free(x->collation);
    x->name = n; x->charset = c; x->collation = o;
    return MM_OK;
  }
  if (cat->ndbs == cat->capdbs) {
    int nc = cat->capdbs ? cat->capdbs * 2 : 8;
    cat_db *t = mm_realloc(cat->dbs, sizeof(cat_db) * (size_t)nc);
    if (!t) { mm_free(n); mm_free(c); mm_free(o); return MM_ENOMEM; }
    cat->dbs = t;
    cat->capdbs = nc;
  }
  cat->dbs[cat->ndbs++] = (cat_db){n, c, o};
  return MM_OK;
}

static void mem_del_db(tbl_catalog *cat, const char *name) {
  int i = find_db(cat, name);
  if (i < 0) return;
  mm_free(cat->dbs[i].name); mm_free(cat->dbs[i].charset); mm_free(cat->dbs[i].collation);
  cat->dbs[i] = cat->dbs[--cat->ndbs];
}

/* ---- open / close ----------------------------------------------------- */

static int put_counters(rocksdb_writebatch_t *wb, uint32_t t, uint32_t x) {
  unsigned char k[2] = {STORE_PFX_CATALOG, 'N'}, v[8];
  mm_put_u32be(v, t);
  mm_put_u32be(v + 4, x);
  rocksdb_writebatch_put(wb, (const char *)k, 2, (const char *)v, 8);
  return 0;
}

int tbl_catalog_open(store *st, tbl_catalog **out, mm_error *err) {
  *out = NULL;
  tbl_catalog *cat = mm_calloc(1, sizeof *cat);
  if (!cat) return MM_ENOMEM;
  cat->st = st;
  cat->version = 1;
  cat->next_table_id = 1;
  cat->next_index_id = 1;
  pthread_rwlock_init(&cat->lock, NULL);
  pthread_mutex_init(&cat->ddl, NULL);
  int rc = MM_OK, have_version = 0;
  uint32_t *gc = NULL;
  int ngc = 0, capgc = 0;
  tbl_def **stale = NULL;
  int nstale = 0;

  rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
  rocksdb_iterator_t *it = rocksdb_create_iterator(store_db(st), ro);
  char lo = STORE_PFX_CATALOG;
  for (rocksdb_iter_seek(it, &lo, 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
    size_t kn, vn;
    const char *k = rocksdb_iter_key(it, &kn), *v = rocksdb_iter_value(it, &vn);
    if (kn < 2 || k[0] != STORE_PFX_CATALOG) break;
    switch (k[1]) {
    case 'V':
      if (vn != 4 || mm_get_u32be((const unsigned char *)v) != CAT_FORMAT) {
        rc = MM_ECORRUPT;
        mm_error_set(err, 1105, "HY000", "catalog format %u not supported",
                     vn == 4 ? mm_get_u32be((const unsigned char *)v) : 0);
        goto done;
      }
      have_version = 1;
      break;
    case 'N':
      if (vn != 8) goto corrupt;
      cat->next_table_id = mm_get_u32be((const unsigned char *)v);
      cat->next_index_id = mm_get_u32be((const unsigned char *)v + 4);
      break;
    case 'D': {
      const char *z = memchr(v, 0, vn);
      if (!z) goto corrupt;
      char *name = mm_strndup(k + 2, kn - 2), *cs = mm_strndup(v, (size_t)(z - v)),
           *co = mm_strndup(z + 1, vn - (size_t)(z - v) - 1);
      int r2 = name && cs && co ? mem_put_db(cat, name, cs, co) : MM_ENOMEM;
      mm_free(name); mm_free(cs); mm_free(co);
      if (r2) { rc = r2; goto done; }
      break;
    }
    case 'T': {
      tbl_def *d = tbl_def_decode(v, vn);
      if (!d) goto corrupt;
      d->refs = 1;
      d->version = cat->version;
      if (tbl_is_hidden_name(d->name)) { /* ALTER's copy, left by a crash */
        tbl_def **s = mm_realloc(stale, sizeof(tbl_def *) * (size_t)(nstale + 1));
        if (!s) { tbl_def_free(d); rc = MM_ENOMEM; goto done; }
        stale = s;
        stale[nstale++] = d;
        break;
      }
      if (mem_put_table(cat, d)) { tbl_def_free(d); rc = MM_ENOMEM; goto done; }
      break;
    }
    case 'G':
      if (kn != 6) goto corrupt;
      if (ngc == capgc) {
        capgc = capgc ? capgc * 2 : 16;
        uint32_t *g = mm_realloc(gc, sizeof(uint32_t) * (size_t)capgc);
        if (!g) { rc = MM_ENOMEM; goto done; }
        gc = g;
      }
      gc[ngc++] = mm_get_u32be((const unsigned char *)k + 2);
      break;
    default:
      break;
    }
  }
  {
    char *e = NULL;
    rocksdb_iter_get_error(it, &e);
    if (e) {
      mm_error_set(err, 1030, "HY000", "Got error reading the catalog: %s", e);
      free(e);
      rc = MM_EIO;
      goto done;
    }
  }
  if (!have_version) { /* fresh store */
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    unsigned char k[2] = {STORE_PFX_CATALOG, 'V'}, v[4];
    mm_put_u32be(v, CAT_FORMAT);
    rocksdb_writebatch_put(wb, (const char *)k, 2, (const char *)v, 4);
    put_counters(wb, cat->next_table_id, cat->next_index_id);
    rc = store_write(st, wb, 1);
    rocksdb_writebatch_destroy(wb);
    if (rc) { mm_error_set(err, 1030, "HY000", "Got error writing the catalog"); goto done; }
  }
  /* finish interrupted drops and ALTERs */
  for (int i = 0; i < nstale; i++) {
    tbl_def *d = stale[i];
    for (int k = 0; k < d->nindexes; k++) {
      uint32_t id = d->indexes[k].id;
      if (gc_ranges(st, &id, 1)) { rc = MM_EIO; goto done; }
    }
    if (!d->has_pk && gc_ranges(st, &d->hidden_index_id, 1)) { rc = MM_EIO; goto done; }
    mm_buf kb;
    mm_buf_init(&kb);
    key_table(&kb, d->db, d->name);
    unsigned char ak[5];
    key_autoinc(ak, d->id);
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    if (!kb.oom) rocksdb_writebatch_delete(wb, kb.p, kb.len);
    rocksdb_writebatch_delete(wb, (const char *)ak, 5);
    rc = store_write(st, wb, 1);
    rocksdb_writebatch_destroy(wb);
    mm_buf_free(&kb);
    if (rc) goto done;
  }
  if (gc_ranges(st, gc, ngc)) rc = MM_EIO;
  goto done;
corrupt:
  rc = MM_ECORRUPT;
  mm_error_set(err, 1105, "HY000", "corrupt catalog record");
done:
  rocksdb_iter_destroy(it);
  rocksdb_readoptions_destroy(ro);
  mm_free(gc);
  for (int i = 0; i < nstale; i++) tbl_def_free(stale[i]);
  mm_free(stale);
  if (rc) {
    if (rc == MM_EIO && err && !err->code) mm_error_set(err, 1030, "HY000", "Got error from the store");
    tbl_catalog_close(cat);
    return rc;
  }
  *out = cat;
  return MM_OK;
}

void tbl_catalog_close(tbl_catalog *cat) {
  if (!cat) return;
  for (int i = 0; i < cat->ntables; i++) def_unref(cat->tables[i]);
  mm_free(cat->tables);
  for (int i = 0; i < cat->ndbs; i++) {
    mm_free(cat->dbs[i].name); mm_free(cat->dbs[i].charset); mm_free(cat->dbs[i].collation);
  }
  mm_free(cat->dbs);
  pthread_rwlock_destroy(&cat->lock);
  pthread_mutex_destroy(&cat->ddl);
  mm_free(cat);
}

/* ---- readers ----------------------------------------------------------- */

uint64_t tbl_catalog_version(tbl_catalog *cat) {
  pthread_rwlock_rdlock(&cat->lock);
  uint64_t v = cat->version;
  pthread_rwlock_unlock(&cat->lock);
  return v;
}

tbl_def *tbl_get(tbl_catalog *cat, const char *db, const char *name) {
  if (!db || !name) return NULL;
  pthread_rwlock_rdlock(&cat->lock);
  int i = find_table(cat, db, name);
  tbl_def *d = NULL;
  if (i >= 0) {
    d = cat->tables[i];
    __atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
  }
  pthread_rwlock_unlock(&cat->lock);
  return d;
}

void tbl_def_release(tbl_catalog *cat, tbl_def *def) {
  (void)cat;
  def_unref(def);
}

static int is_infoschema(const char *db) { return strcasecmp(db, "information_schema") == 0; }

int tbl_db_exists(tbl_catalog *cat, const char *db) {
  if (!db) return 0;
  if (is_infoschema(db)) return 1;
  pthread_rwlock_rdlock(&cat->lock);
  int r = find_db(cat, db) >= 0;
  pthread_rwlock_unlock(&cat->lock);
  return r;
}

int tbl_db_info(tbl_catalog *cat, const char *db, char **cs, char **coll) {
  *cs = *coll = NULL;
  if (is_infoschema(db)) {
    *cs = mm_strdup("utf8");
    *coll = mm_strdup("utf8_general_ci");
  } else {
    pthread_rwlock_rdlock(&cat->lock);
    int i = find_db(cat, db);
    if (i < 0) { pthread_rwlock_unlock(&cat->lock); return MM_ENOTFOUND; }
    *cs = mm_strdup(cat->dbs[i].charset);
    *coll = mm_strdup(cat->dbs[i].collation);
    pthread_rwlock_unlock(&cat->lock);
  }
  if (!*cs || !*coll) { mm_free(*cs); mm_free(*coll); *cs = *coll = NULL; return MM_ENOMEM; }
  return MM_OK;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int tbl_list_dbs(tbl_catalog *cat, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  pthread_rwlock_rdlock(&cat->lock);
  int cnt = cat->ndbs + 1;
  char **v = mm_calloc((size_t)cnt, sizeof(char *));
  int rc = MM_OK;
  if (!v) { rc = MM_ENOMEM; goto out; }
  v[0] = mm_strdup("information_schema");
  if (!v[0]) rc = MM_ENOMEM;
  for (int i = 0; i < cat->ndbs && !rc; i++)
    if (!(v[i + 1] = mm_strdup(cat->dbs[i].name))) rc = MM_ENOMEM;
out:
  pthread_rwlock_unlock(&cat->lock);
  if (rc) { tbl_free_names(v, v ? cnt : 0); return rc; }
  qsort(v, (size_t)cnt, sizeof(char *), cmp_names);
  *names = v;
  *n = cnt;
  return MM_OK;
}

int tbl_is_hidden_name(const char *name) {
  return name && strncmp(name, HIDDEN_PREFIX, strlen(HIDDEN_PREFIX)) == 0;
}

int tbl_list_tables(tbl_catalog *cat, const char *db, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  pthread_rwlock_rdlock(&cat->lock);
  int cnt = 0, rc = MM_OK;
  char **v = mm_calloc((size_t)cat->ntables + 1, sizeof(char *));
  if (!v) { rc = MM_ENOMEM; goto out; }
  for (int i = 0; i < cat->ntables; i++) {
    tbl_def *d = cat->tables[i];
    if (strcmp(d->db, db) != 0 || tbl_is_hidden_name(d->name)) continue;
    if (!(v[cnt++] = mm_strdup(d->name))) { rc = MM_ENOMEM; break; }
  }
out:
  pthread_rwlock_unlock(&cat->lock);
  if (rc) { tbl_free_names(v, cnt); return rc; }
  *names = v;
  *n = cnt;
  return MM_OK;
}

int tbl_list_defs(tbl_catalog *cat, const char *db, int with_hidden, tbl_def ***defs, int *n) {
  *defs = NULL;
  *n = 0;
  pthread_rwlock_rdlock(&cat->lock);
  tbl_def **v = mm_calloc((size_t)cat->ntables + 1, sizeof(tbl_def *));
  if (!v) { pthread_rwlock_unlock(&cat->lock); return MM_ENOMEM; }
  int cnt = 0;
  for (int i = 0; i < cat->ntables; i++) {
    tbl_def *d = cat->tables[i];
    if (db && strcmp(d->db, db) != 0) continue;
    if (!with_hidden && tbl_is_hidden_name(d->name)) continue;
    __atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
    v[cnt++] = d;
  }
  pthread_rwlock_unlock(&cat->lock);
  *defs = v;
  *n = cnt;
  return MM_OK;
}

void tbl_free_names(char **names, int n) {
  if (!names) return;
  for (int i = 0; i < n; i++) mm_free(names[i]);
  mm_free(names);
}

int tbl_column_index(const tbl_def *def, const char *name) {
  for (int i = 0; i < def->ncols; i++)
    if (strcasecmp(def->cols[i].name, name) == 0) return i;
  return -1;
}

/* ---- SQL text ---------------------------------------------------------- */

static const char *type_names[] = {
  [TBL_TINYINT] = "tinyint", [TBL_SMALLINT] = "smallint", [TBL_MEDIUMINT] = "mediumint",
  [TBL_INT] = "int", [TBL_BIGINT] = "bigint", [TBL_DECIMAL] = "decimal",
  [TBL_FLOAT] = "float", [TBL_DOUBLE] = "double", [TBL_BIT] = "bit",
  [TBL_CHAR] = "char", [TBL_VARCHAR] = "varchar", [TBL_TINYTEXT] = "tinytext",
  [TBL_TEXT] = "text", [TBL_MEDIUMTEXT] = "mediumtext", [TBL_LONGTEXT] = "longtext",
  [TBL_BINARY] = "binary", [TBL_VARBINARY] = "varbinary", [TBL_TINYBLOB] = "tinyblob",
  [TBL_BLOB] = "blob", [TBL_MEDIUMBLOB] = "mediumblob", [TBL_LONGBLOB] = "longblob",
  [TBL_DATE] = "date", [TBL_TIME] = "time", [TBL_DATETIME] = "datetime",
  [TBL_TIMESTAMP] = "timestamp", [TBL_YEAR] = "year", [TBL_ENUM] = "enum",
  [TBL_SET] = "set", [TBL_JSON] = "json",
};

const char *tbl_type_name(tbl_type t) {
  return (unsigned)t < MM_ARRAY_SIZE(type_names) && type_names[t] ? type_names[t] : "unknown";
}

/* MySQL's append_unescaped: a quoted string literal. */
int tbl_append_quoted(mm_buf *b, const char *s) {
  mm_buf_putc(b, '\'');
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '\\': mm_buf_puts(b, "\\\\"); break;
    case '\n': mm_buf_puts(b, "\\n"); break;
    case '\r': mm_buf_puts(b, "\\r"); break;
    case '\032': mm_buf_puts(b, "\\Z"); break;
    case '\'': mm_buf_puts(b, "''"); break;
    default: mm_buf_putc(b, *p);
    }
  }
  return mm_buf_putc(b, '\'');
}

int tbl_append_ident(mm_buf *b, const char *s) {
  mm_buf_putc(b, '`');
  for (const char *p = s; *p; p++) {
    if (*p == '`') mm_buf_putc(b, '`');
    mm_buf_putc(b, *p);
  }
  return mm_buf_putc(b, '`');
}

int tbl_column_type_sql(const tbl_column *c, mm_buf *out) {
  mm_buf_puts(out, tbl_type_name(c->type));
  switch (c->type) {
  case TBL_TINYINT: case TBL_SMALLINT: case TBL_MEDIUMINT: case TBL_INT: case TBL_BIGINT:
  case TBL_BIT: case TBL_CHAR: case TBL_VARCHAR: case TBL_BINARY: case TBL_VARBINARY:
  case TBL_YEAR:
    if (c->length) mm_buf_printf(out, "(%u)", c->length);
    break;
  case TBL_DECIMAL:
    mm_buf_printf(out, "(%u,%d)", c->length, c->scale < 0 ? 0 : c->scale);
    break;
  case TBL_FLOAT: case TBL_DOUBLE:
    if (c->length && c->scale >= 0) mm_buf_printf(out, "(%u,%d)", c->length, c->scale);
    break;
  case TBL_TIME: case TBL_DATETIME: case TBL_TIMESTAMP:
    if (c->scale > 0) mm_buf_printf(out, "(%d)", c->scale);
    break;
  case TBL_ENUM: case TBL_SET:
    mm_buf_putc(out, '(');
    for (int i = 0; i < c->n_enum; i++) {
      if (i) mm_buf_putc(out, ',');
      tbl_append_quoted(out, c->enum_vals[i]);
    }
    mm_buf_putc(out, ')');
    break;
  default:
    break;
  }
  if (c->is_unsigned) mm_buf_puts(out, " unsigned");
  if (c->zerofill) mm_buf_puts(out, " zerofill");
  return out->oom ? MM_ENOMEM : MM_OK;
}

int tbl_type_is_string(tbl_type t) {
  return t == TBL_CHAR || t == TBL_VARCHAR || t == TBL_TINYTEXT || t == TBL_TEXT ||
         t == TBL_MEDIUMTEXT || t == TBL_LONGTEXT || t == TBL_ENUM || t == TBL_SET;
}
int tbl_type_is_blob(tbl_type t) {
  return t == TBL_TINYTEXT || t == TBL_TEXT || t == TBL_MEDIUMTEXT || t == TBL_LONGTEXT ||
         t == TBL_TINYBLOB || t == TBL_BLOB || t == TBL_MEDIUMBLOB || t == TBL_LONGBLOB ||
         t == TBL_JSON;
}

/* The column's effective collation (its own or the table's). */
const char *tbl_column_collation(const tbl_def *d, const tbl_column *c) {
  if (!tbl_type_is_string(c->type)) return NULL;
  return c->collation ? c->collation : d->collation;
}
const char *tbl_column_charset(const tbl_def *d, const tbl_column *c) {
  if (!tbl_type_is_string(c->type)) return NULL;
  return c->charset ? c->charset : d->charset;
}

/* The DEFAULT clause text (without " DEFAULT "), as SHOW CREATE TABLE
 * prints it; empty when MySQL prints none.  Returns 1 if there is one. */
int tbl_column_default_sql(const tbl_column *c, mm_buf *out) {
  if (tbl_type_is_blob(c->type) || c->auto_increment) return 0;
  if (c->default_now) {
    mm_buf_puts(out, "CURRENT_TIMESTAMP");
    if (c->scale > 0) mm_buf_printf(out, "(%d)", c->scale);
    return 1;
  }
  if (!c->has_default) {
    if (c->not_null) return 0;
    mm_buf_puts(out, "NULL");
    return 1;
  }
  if (!c->default_value) {
    mm_buf_puts(out, "NULL");
    return 1;
  }
  if (c->type == TBL_BIT) {
    unsigned long long v = strtoull(c->default_value, NULL, 10);
    char bits[65];
    int n = 0;
    do { bits[n++] = (char)('0' + (v & 1)); v >>= 1; } while (v);
    mm_buf_puts(out, "b'");
    while (n) mm_buf_putc(out, bits[--n]);
    mm_buf_putc(out, '\'');
    return 1;
  }
  tbl_append_quoted(out, c->default_value);
  return 1;
}

static int show_create(tbl_catalog *cat, const tbl_def *d, mm_buf *out) {
  mm_buf_puts(out, "CREATE TABLE ");
  tbl_append_ident(out, d->name);
  mm_buf_puts(out, " (\n");
  for (int i = 0; i < d->ncols; i++) {
    const tbl_column *c = &d->cols[i];
    mm_buf_puts(out, "  ");
    tbl_append_ident(out, c->name);
    mm_buf_putc(out, ' ');
    tbl_column_type_sql(c, out);
    if (tbl_type_is_string(c->type) && c->collation && strcasecmp(c->collation, d->collation) != 0) {
      const tbl_collation *co = tbl_collation_find(c->collation);
      mm_buf_printf(out, " CHARACTER SET %s", c->charset ? c->charset : co ? co->charset : d->charset);
      if (!co || !co->is_default) mm_buf_printf(out, " COLLATE %s", c->collation);
    }
    if (c->not_null) mm_buf_puts(out, " NOT NULL");
    else if (c->type == TBL_TIMESTAMP) mm_buf_puts(out, " NULL");
    mm_buf dv;
    mm_buf_init(&dv);
    if (tbl_column_default_sql(c, &dv)) {
      mm_buf_puts(out, " DEFAULT ");
      mm_buf_append(out, dv.p, dv.len);
    }
    mm_buf_free(&dv);
    if (c->on_update_now) {
      mm_buf_puts(out, " ON UPDATE CURRENT_TIMESTAMP");
      if (c->scale > 0) mm_buf_printf(out, "(%d)", c->scale);
    }
    if (c->auto_increment) mm_buf_puts(out, " AUTO_INCREMENT");
    if (c->comment && *c->comment) {
      mm_buf_puts(out, " COMMENT ");
      tbl_append_quoted(out, c->comment);
    }
    if (i + 1 < d->ncols || d->nindexes) mm_buf_putc(out, ',');
    mm_buf_putc(out, '\n');
  }
  for (int i = 0; i < d->nindexes; i++) {
    const tbl_index *x = &d->indexes[i];
    mm_buf_puts(out, "  ");
    if (x->primary) mm_buf_puts(out, "PRIMARY KEY (");
    else {
      mm_buf_puts(out, x->unique ? "UNIQUE KEY " : "KEY ");
      tbl_append_ident(out, x->name);
      mm_buf_puts(out, " (");
    }
    for (int k = 0; k < x->ncols; k++) {
      if (k) mm_buf_putc(out, ',');
      tbl_append_ident(out, d->cols[x->cols[k]].name);
      if (x->prefix[k]) mm_buf_printf(out, "(%u)", x->prefix[k]);
    }
    mm_buf_putc(out, ')');
    if (x->comment && *x->comment) {
      mm_buf_puts(out, " COMMENT ");
      tbl_append_quoted(out, x->comment);
    }
    if (i + 1 < d->nindexes) mm_buf_putc(out, ',');
    mm_buf_putc(out, '\n');
  }
  mm_buf_printf(out, ") ENGINE=%s", d->engine ? d->engine : "InnoDB");
  if (cat && d->autoinc_col >= 0) {
    uint64_t ai = tbl_autoinc_peek(cat, d);
    if (ai > 1) mm_buf_printf(out, " AUTO_INCREMENT=%llu", (unsigned long long)ai);
  }
  mm_buf_printf(out, " DEFAULT CHARSET=%s", d->charset);
  const tbl_collation *co = tbl_collation_find(d->collation);
  if (!co || !co->is_default) mm_buf_printf(out, " COLLATE=%s", d->collation);
  if (d->comment && *d->comment) {
    mm_buf_puts(out, " COMMENT=");
    tbl_append_quoted(out, d->comment);
  }
  return out->oom ? MM_ENOMEM : MM_OK;
}

int tbl_show_create(const tbl_def *def, mm_buf *out) { return show_create(NULL, def, out); }
int tbl_show_create_ex(tbl_catalog *cat, const tbl_def *def, mm_buf *out) {
  return show_create(cat, def, out);
}

uint64_t tbl_autoinc_peek(tbl_catalog *cat, const tbl_def *def) {
  if (def->autoinc_col < 0) return 0;
  unsigned char k[5];
  key_autoinc(k, def->id);
  char *v = NULL;
  size_t vn = 0;
  if (store_get(cat->st, k, 5, &v, &vn) != MM_OK) return 0;
  uint64_t r = vn == 8 ? mm_get_u64be((const unsigned char *)v) : 0;
  mm_free(v);
  return r;
}

int tbl_show_create_db(tbl_catalog *cat, const char *db, int if_not_exists, mm_buf *out) {
  char *cs, *co;
  int rc = tbl_db_info(cat, db, &cs, &co);
  if (rc) return rc;
  mm_buf_puts(out, "CREATE DATABASE ");
  if (if_not_exists) mm_buf_puts(out, "/*!32312 IF NOT EXISTS*/ ");
  tbl_append_ident(out, db);
  mm_buf_printf(out, " /*!40100 DEFAULT CHARACTER SET %s", cs);
  const tbl_collation *c = tbl_collation_find(co);
  if (!c || !c->is_default) mm_buf_printf(out, " COLLATE %s", co);
  mm_buf_puts(out, " */");
  mm_free(cs);
  mm_free(co);
  return out->oom ? MM_ENOMEM : MM_OK;
}

/* ---- edits ------------------------------------------------------------- */

void tbl_catalog_ddl_lock(tbl_catalog *cat) { pthread_mutex_lock(&cat->ddl); }
void tbl_catalog_ddl_unlock(tbl_catalog *cat) { pthread_mutex_unlock(&cat->ddl); }

enum { OP_PUT_DB, OP_DROP_DB, OP_PUT_TABLE, OP_DROP_TABLE, OP_PUT_RAW, OP_DEL_RAW };

typedef struct edit_op {
  int kind;
  char *a, *b, *c;  /* db / name / charset / collation, or raw key (a, an) + value (b, bn) */
  size_t an, bn;
  tbl_def *def;     /* OP_PUT_TABLE */
} edit_op;

struct tbl_cat_edit {
  tbl_catalog *cat;
  edit_op *ops;
  int nops, capops;
  uint32_t next_table_id, next_index_id;
  uint32_t *gc;     /* index ranges to delete after the commit */
  int ngc, capgc;
  int oom;
};

tbl_cat_edit *tbl_cat_edit_new(tbl_catalog *cat) {
  tbl_cat_edit *e = mm_calloc(1, sizeof *e);
  if (!e) return NULL;
  e->cat = cat;
  pthread_rwlock_rdlock(&cat->lock);
  e->next_table_id = cat->next_table_id;
  e->next_index_id = cat->next_index_id;
  pthread_rwlock_unlock(&cat->lock);
  return e;
}

uint32_t tbl_cat_edit_new_table_id(tbl_cat_edit *e) { return e->next_table_id++; }
uint32_t tbl_cat_edit_new_index_id(tbl_cat_edit *e) { return e->next_index_id++; }

static edit_op *add_op(tbl_cat_edit *e, int kind) {
  if (e->nops == e->capops) {
    int nc = e->capops ? e->capops * 2 : 8;
    edit_op *o = mm_realloc(e->ops, sizeof(edit_op) * (size_t)nc);
    if (!o) { e->oom = 1; return NULL; }
    e->ops = o;
    e->capops = nc;
  }
  edit_op *o = &e->ops[e->nops++];
  memset(o, 0, sizeof *o);
  o->kind = kind;
  return o;
}

static char *edup(tbl_cat_edit *e, const char *s) {
  char *r = mm_strdup(s ? s : "");
  if (!r) e->oom = 1;
  return r;
}

int tbl_cat_edit_put_db(tbl_cat_edit *e, const char *name, const char *cs, const char *coll) {
  edit_op *o = add_op(e, OP_PUT_DB);
  if (!o) return MM_ENOMEM;
  o->a = edup(e, name);
  o->b = edup(e, cs);
  o->c = edup(e, coll);
  return e->oom ? MM_ENOMEM : MM_OK;
}

int tbl_cat_edit_drop_db(tbl_cat_edit *e, const char *name) {
  edit_op *o = add_op(e, OP_DROP_DB);
  if (!o) return MM_ENOMEM;
  o->a = edup(e, name);
  return e->oom ? MM_ENOMEM : MM_OK;
}

int tbl_cat_edit_put_table(tbl_cat_edit *e, tbl_def *def) {
  edit_op *o = add_op(e, OP_PUT_TABLE);
  if (!o) { tbl_def_free(def); return MM_ENOMEM; }
  o->def = def;
  o->a = edup(e, def->db);
  o->b = edup(e, def->name);
  return e->oom ? MM_ENOMEM : MM_OK;
}

int tbl_cat_edit_drop_index_data(tbl_cat_edit *e, uint32_t id) {
  if (e->ngc == e->capgc) {
    int nc = e->capgc ? e->capgc * 2 : 8;
    uint32_t *g = mm_realloc(e->gc, sizeof(uint32_t) * (size_t)nc);
    if (!g) { e->oom = 1; return MM_ENOMEM; }
    e->gc = g;
    e->capgc = nc;
  }
  e->gc[e->ngc++] = id;
  return MM_OK;
}

int tbl_cat_edit_put_raw(tbl_cat_edit *e, const void *k, size_t kn, const void *v, size_t vn) {
  edit_op *o = add_op(e, OP_PUT_RAW);
  if (!o) return MM_ENOMEM;
  o->a = mm_malloc(kn ? kn : 1);
  o->b = mm_malloc(vn ? vn : 1);
  if (!o->a || !o->b) { e->oom = 1; return MM_ENOMEM; }
  memcpy(o->a, k, kn);
  if (vn) memcpy(o->b, v, vn);
  o->an = kn;
  o->bn = vn;
  return MM_OK;
}

int tbl_cat_edit_del_raw(tbl_cat_edit *e, const void *k, size_t kn) {
  edit_op *o = add_op(e, OP_DEL_RAW);
  if (!o) return MM_ENOMEM;
  o->a = mm_malloc(kn ? kn : 1);
  if (!o->a) { e->oom = 1; return MM_ENOMEM; }
  memcpy(o->a, k, kn);
  o->an = kn;
  return MM_OK;
}

const tbl_def *tbl_cat_edit_get(tbl_cat_edit *e, const char *db, const char *name) {
  for (int i = e->nops - 1; i >= 0; i--) {
    edit_op *o = &e->ops[i];
    if (o->kind == OP_PUT_TABLE && o->a && o->b && strcmp(o->a, db) == 0 && strcmp(o->b, name) == 0)
      return o->def;
    if (o->kind == OP_DROP_TABLE && o->a && o->b && strcmp(o->a, db) == 0 && strcmp(o->b, name) == 0)
      return NULL;
    if (o->kind == OP_DROP_DB && o->a && strcmp(o->a, db) == 0) return NULL;
  }
  /* The caller holds the DDL lock, so the current def cannot be freed by
   * another edit while this one lives. */
  pthread_rwlock_rdlock(&e->cat->lock);
  int i = find_table(e->cat, db, name);
  const tbl_def *d = i >= 0 ? e->cat->tables[i] : NULL;
  pthread_rwlock_unlock(&e->cat->lock);
  return d;
}

int tbl_cat_edit_db_exists(tbl_cat_edit *e, const char *db) {
  for (int i = e->nops - 1; i >= 0; i--) {
    edit_op *o = &e->ops[i];
    if (o->kind == OP_PUT_DB && o->a && strcmp(o->a, db) == 0) return 1;
    if (o->kind == OP_DROP_DB && o->a && strcmp(o->a, db) == 0) return 0;
  }
  return tbl_db_exists(e->cat, db);
}

int tbl_cat_edit_drop_table(tbl_cat_edit *e, const char *db, const char *name, int drop_data) {
  const tbl_def *d = tbl_cat_edit_get(e, db, name);
  if (drop_data && d) {
    for (int i = 0; i < d->nindexes; i++)
      if (tbl_cat_edit_drop_index_data(e, d->indexes[i].id)) return MM_ENOMEM;
    if (!d->has_pk && tbl_cat_edit_drop_index_data(e, d->hidden_index_id)) return MM_ENOMEM;
    unsigned char k[5];
    key_autoinc(k, d->id);
    if (tbl_cat_edit_del_raw(e, k, 5)) return MM_ENOMEM;
  }
  edit_op *o = add_op(e, OP_DROP_TABLE);
  if (!o) return MM_ENOMEM;
  o->a = edup(e, db);
  o->b = edup(e, name);
  return e->oom ? MM_ENOMEM : MM_OK;
}

static void edit_free(tbl_cat_edit *e) {
  for (int i = 0; i < e->nops; i++) {
    edit_op *o = &e->ops[i];
    mm_free(o->a); mm_free(o->b); mm_free(o->c);
    if (o->def) tbl_def_free(o->def);
  }
  mm_free(e->ops);
  mm_free(e->gc);
  mm_free(e);
}

void tbl_cat_edit_abort(tbl_cat_edit *e) {
  if (e) edit_free(e);
}

/* Key/value writes of the edit, through a callback (batch or txn). */
typedef int (*kv_put_fn)(void *ctx, const void *k, size_t kn, const void *v, size_t vn);
typedef int (*kv_del_fn)(void *ctx, const void *k, size_t kn);

static int edit_emit(tbl_cat_edit *e, kv_put_fn put, kv_del_fn del, void *ctx) {
  mm_buf k, v;
  mm_buf_init(&k);
  mm_buf_init(&v);
  int rc = MM_OK;
  for (int i = 0; i < e->nops && !rc; i++) {
    edit_op *o = &e->ops[i];
    mm_buf_reset(&k);
    mm_buf_reset(&v);
    switch (o->kind) {
    case OP_PUT_DB:
      key_db(&k, o->a);
      mm_buf_puts(&v, o->b);
      mm_buf_putc(&v, 0);
      mm_buf_puts(&v, o->c);
      if (k.oom || v.oom) { rc = MM_ENOMEM; break; }
      rc = put(ctx, k.p, k.len, v.p, v.len);
      break;
    case OP_DROP_DB:
      key_db(&k, o->a);
      if (k.oom) { rc = MM_ENOMEM; break; }
      rc = del(ctx, k.p, k.len);
      break;
    case OP_PUT_TABLE:
      key_table(&k, o->a, o->b);
      if (k.oom || tbl_def_encode(o->def, &v)) { rc = MM_ENOMEM; break; }
      rc = put(ctx, k.p, k.len, v.p, v.len);
      break;
    case OP_DROP_TABLE:
      key_table(&k, o->a, o->b);
      if (k.oom) { rc = MM_ENOMEM; break; }
      rc = del(ctx, k.p, k.len);
      break;
    case OP_PUT_RAW:
      rc = put(ctx, o->a, o->an, o->b, o->bn);
      break;
    case OP_DEL_RAW:
      rc = del(ctx, o->a, o->an);
      break;
    }
  }
  for (int i = 0; i < e->ngc && !rc; i++) {
    unsigned char g[6];
    key_gc(g, e->gc[i]);
    rc = put(ctx, g, 6, "", 0);
  }
  if (!rc) {
    unsigned char ck[2] = {STORE_PFX_CATALOG, 'N'}, cv[8];
    mm_put_u32be(cv, e->next_table_id);
    mm_put_u32be(cv + 4, e->next_index_id);
    rc = put(ctx, ck, 2, cv, 8);
  }
  mm_buf_free(&k);
  mm_buf_free(&v);
  return rc;
}

static int wb_put(void *ctx, const void *k, size_t kn, const void *v, size_t vn) {
  rocksdb_writebatch_put(ctx, k, kn, v, vn);
  return MM_OK;
}
static int wb_del(void *ctx, const void *k, size_t kn) {
  rocksdb_writebatch_delete(ctx, k, kn);
  return MM_OK;
}
static int tx_put(void *ctx, const void *k, size_t kn, const void *v, size_t vn) {
  return txn_put(ctx, k, kn, v, vn);
}
static int tx_del(void *ctx, const void *k, size_t kn) { return txn_del(ctx, k, kn); }

int tbl_cat_edit_commit(tbl_cat_edit *e, struct txn *t, mm_error *err) {
  tbl_catalog *cat = e->cat;
  int rc;
  if (e->oom) {
    if (t) txn_rollback(t);
    edit_free(e);
    return MM_ENOMEM;
  }
  if (t) {
    rc = edit_emit(e, tx_put, tx_del, t);
    if (rc) {
      txn_rollback(t);
      edit_free(e);
      return rc;
    }
    rc = txn_commit(t, err);
    if (rc) { edit_free(e); return rc; }
  } else {
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    rc = edit_emit(e, wb_put, wb_del, wb);
    if (!rc) rc = store_write(cat->st, wb, 1);
    rocksdb_writebatch_destroy(wb);
    if (rc) {
      if (err && rc == MM_EIO) mm_error_set(err, 1030, "HY000", "Got error %d from storage engine", rc);
      edit_free(e);
      return rc;
    }
  }
  /* durable: now the memory */
  pthread_rwlock_wrlock(&cat->lock);
  uint64_t nv = cat->version + 1;
  for (int i = 0; i < e->nops; i++) {
    edit_op *o = &e->ops[i];
    switch (o->kind) {
    case OP_PUT_DB:
      if (mem_put_db(cat, o->a, o->b, o->c)) rc = MM_ENOMEM;
      break;
    case OP_DROP_DB:
      mem_del_db(cat, o->a);
      break;
    case OP_PUT_TABLE:
      o->def->version = nv;
      o->def->refs = 1;
      if (mem_put_table(cat, o->def) == MM_OK) o->def = NULL;
      else rc = MM_ENOMEM;
      break;
    case OP_DROP_TABLE:
      mem_del_table(cat, o->a, o->b);
      break;
    default:
      break;
    }
  }
  cat->version = nv;
  if (e->next_table_id > cat->next_table_id) cat->next_table_id = e->next_table_id;
  if (e->next_index_id > cat->next_index_id) cat->next_index_id = e->next_index_id;
  pthread_rwlock_unlock(&cat->lock);
  if (rc) mm_log_error("catalog: out of memory applying a committed edit; restart to reload");
  gc_ranges(cat->st, e->gc, e->ngc); /* a failure leaves markers, finished at open */
  edit_free(e);
  return rc;
}
