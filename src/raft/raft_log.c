/*
 * raft/raft_log.c - on-disk Raft log: segment files + metadata file.
 * See raft_log.h for the layout and guarantees.
 *
 * Invariants:
 *   - segments are sorted by first index and contiguous: entry k of the
 *     in-memory offset table lives in segment segi[k] at byte off[k];
 *   - every write of records, metadata and inline preallocation goes
 *     through wr() so a test can make the Nth one fail; after any failure
 *     l->err is set and every call returns it (sticky).  (Background zeroing,
 *     raft_log_zero_write, runs outside the owner's lock on a dup'd
 *     descriptor and carries no data: a failure there only leaves the
 *     preallocation short.)
 *   - while a background zeroing is in flight (z_busy), no record is written
 *     into [z_from, z_to) of that segment (raft_log_append: MM_EBUSY);
 *   - meta is only ever replaced by rename of a fully fsynced temp file.
 */
#include "raft/raft_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft/raft_codec.h"
#include "util/mm.h"

#define SEG_MAX (64u << 20)
/* Segments are extended with zeros ahead of the appends, so that an append
 * overwrites blocks that are already allocated and inside the file size:
 * its fdatasync then needs no journal commit (no size or extent change) and
 * is several times faster on ext4/xfs.  A zero record header fails to
 * decode (length < 40), so on open the log ends at the first zero record
 * like at a torn tail.
 *
 * Writing zeros costs about as much as writing the records (a copy into the
 * page cache, then the device), so it should not sit on the append path:
 * a background thread keeps PREALLOC_LOW zero bytes ahead of the last
 * record, PREALLOC_STEP at a time, through raft_log_zero_begin/write/end.
 * raft_log_append preallocates inline only when fewer than PREALLOC_MIN
 * zero bytes are left (a fresh segment, or nobody zeroing in the
 * background), and then up to PREALLOC_LOW + PREALLOC_STEP. */
#define PREALLOC_LOW (1u << 20)
#define PREALLOC_STEP (256u << 10)
#define PREALLOC_MIN (64u << 10)
#define ZCHUNK (256u << 10)
#define META_MAGIC 0x3141544d4d52ull /* "RMMTA1" */

typedef struct seg {
  raft_index first;
  int fd;
  uint64_t size;  /* end of the last record */
  uint64_t alloc; /* file size: records, then zeros (preallocated) */
  int dirty;
} seg;

struct raft_log {
  char *dir;
  int dirfd;
  int err;
  int fresh;
  raft_term term;
  raft_id vote;
  raft_snapshot snap;
  seg *segs;
  size_t nsegs, capsegs;
  raft_index base; /* entries in the table are base+1 .. base+n */
  uint64_t *off;
  uint32_t *segi;
  size_t n, cap;
  raft_term last_term;
  raft_entry *loaded;
  size_t nloaded;
  mm_buf wbuf;
  unsigned char *zeros; /* ZCHUNK zero bytes, allocated on first use */
  /* Background zeroing in flight (raft_log_zero_begin .. _end): segment
   * z_seg, bytes [z_from, z_to); appends must not write there meanwhile. */
  int z_busy;
  raft_index z_first; /* the segment's first index */
  uint64_t z_from, z_to;
  uint64_t z_gen; /* bumped by truncation and segment removal */
};

static _Atomic uint64_t g_writes, g_fail_at;

void raft_log_fail_write_at(uint64_t n) { g_fail_at = n ? g_writes + n : 0; }

static int fail_now(void) {
  uint64_t c = ++g_writes;
  return g_fail_at && c == g_fail_at;
}

static int wr(raft_log *l, int fd, uint64_t pos, const void *p, size_t n) {
  if (fail_now()) { l->err = MM_EIO; return MM_EIO; }
  const char *c = p;
  while (n) {
    ssize_t w = pwrite(fd, c, n, (off_t)pos);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) { l->err = MM_EIO; return MM_EIO; }
    c += w;
    pos += (uint64_t)w;
    n -= (size_t)w;
  }
  return MM_OK;
}

static int trunc_fd(raft_log *l, int fd, uint64_t size) {
  if (fail_now() || ftruncate(fd, (off_t)size) != 0) { l->err = MM_EIO; return MM_EIO; }
  return MM_OK;
}

static char *seg_path(raft_log *l, raft_index first) {
  return mm_sprintf("%s/seg-%020llu", l->dir, (unsigned long long)first);
}

static raft_index last_index(const raft_log *l) { return l->base + l->n; }

raft_index raft_log_last(const raft_log *l) {
  return last_index(l) > l->snap.index ? last_index(l) : l->snap.index;
}
raft_term raft_log_last_term(const raft_log *l) {
  return last_index(l) > l->snap.index ? l->last_term : l->snap.term;
}

/* ---- metadata ------------------------------------------------------------------ */

static int meta_write(raft_log *l, raft_term term, raft_id vote, const raft_snapshot *s) {
  if (l->err) return l->err;
  mm_buf b;
  mm_buf_init(&b);
  unsigned char h[40];
  mm_put_u64le(h, META_MAGIC);
  mm_put_u64le(h + 8, term);
  mm_put_u64le(h + 16, vote);
  mm_put_u64le(h + 24, s->index);
  mm_put_u64le(h + 32, s->term);
  mm_buf_append(&b, h, sizeof h);
  raft_config_encode(&s->conf, &b);
  unsigned char c[4];
  mm_put_u32le(c, raft_crc32c(0, b.p, b.len));
  mm_buf_append(&b, c, 4);
  if (b.oom) { mm_buf_free(&b); return MM_ENOMEM; }
  char *tmp = mm_sprintf("%s/meta.tmp", l->dir), *fin = mm_sprintf("%s/meta", l->dir);
  int rc = MM_ENOMEM, fd = -1;
  if (!tmp || !fin) goto out;
  rc = MM_EIO;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) { l->err = MM_EIO; goto out; }
  if (wr(l, fd, 0, b.p, b.len) != MM_OK) goto out;
  if (fdatasync(fd) != 0 || rename(tmp, fin) != 0 || fsync(l->dirfd) != 0) { l->err = MM_EIO; goto out; }
  l->term = term;
  l->vote = vote;
  l->snap = *s;
  rc = MM_OK;
out:
  if (fd >= 0) close(fd);
  mm_free(tmp);
  mm_free(fin);
  mm_buf_free(&b);
  return rc;
}

static int meta_read(raft_log *l) {
  char *p = mm_sprintf("%s/meta", l->dir);
  if (!p) return MM_ENOMEM;
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  mm_free(p);
  if (fd < 0) {
    if (errno != ENOENT) return MM_EIO;
    l->fresh = 1;
    return MM_OK;
  }
  unsigned char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 48) return MM_ECORRUPT;
  if (mm_get_u64le(buf) != META_MAGIC) return MM_ECORRUPT;
  if (raft_crc32c(0, buf, (size_t)n - 4) != mm_get_u32le(buf + n - 4)) return MM_ECORRUPT;
  l->term = mm_get_u64le(buf + 8);
  l->vote = mm_get_u64le(buf + 16);
  l->snap.index = mm_get_u64le(buf + 24);
  l->snap.term = mm_get_u64le(buf + 32);
  if (raft_config_decode(buf + 40, (size_t)n - 44, &l->snap.conf) != MM_OK) return MM_ECORRUPT;
  return MM_OK;
}

/* ---- segments -------------------------------------------------------------------- */

static int table_push(raft_log *l, uint64_t off, uint32_t si) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 1024;
    uint64_t *o = mm_realloc(l->off, nc * sizeof *o);
    if (!o) return MM_ENOMEM;
    l->off = o;
    uint32_t *s = mm_realloc(l->segi, nc * sizeof *s);
    if (!s) return MM_ENOMEM;
    l->segi = s;
    l->cap = nc;
  }
  l->off[l->n] = off;
  l->segi[l->n] = si;
  l->n++;
  return MM_OK;
}

static void seg_remove(raft_log *l, size_t i) {
  char *p = seg_path(l, l->segs[i].first);
  close(l->segs[i].fd);
  if (p) unlink(p);
  mm_free(p);
}

/* Remove segments i.. (and their entries from the table). */
static int segs_cut_from(raft_log *l, size_t i) {
  if (i >= l->nsegs) return MM_OK;
  l->z_gen++;
  for (size_t k = i; k < l->nsegs; k++) seg_remove(l, k);
  l->nsegs = i;
  while (l->n && l->segi[l->n - 1] >= i) l->n--;
  if (fsync(l->dirfd) != 0) { l->err = MM_EIO; return MM_EIO; }
  return MM_OK;
}

static int seg_new(raft_log *l, raft_index first) {
  if (l->nsegs == l->capsegs) {
    size_t nc = l->capsegs ? l->capsegs * 2 : 8;
    seg *s = mm_realloc(l->segs, nc * sizeof *s);
    if (!s) return MM_ENOMEM;
    l->segs = s;
    l->capsegs = nc;
  }
  char *p = seg_path(l, first);
  if (!p) return MM_ENOMEM;
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  mm_free(p);
  if (fd < 0 || fsync(l->dirfd) != 0) {
    if (fd >= 0) close(fd);
    l->err = MM_EIO;
    return MM_EIO;
  }
  l->segs[l->nsegs++] = (seg){.first = first, .fd = fd};
  return MM_OK;
}

static int cmp_idx(const void *a, const void *b) {
  raft_index x = *(const raft_index *)a, y = *(const raft_index *)b;
  return x < y ? -1 : x > y;
}

static int load_segments(raft_log *l) {
  DIR *d = opendir(l->dir);
  if (!d) return MM_EIO;
  raft_index *firsts = NULL;
  size_t nf = 0, cf = 0;
  struct dirent *de;
  int rc = MM_OK;
  while ((de = readdir(d))) {
    unsigned long long f;
    if (sscanf(de->d_name, "seg-%llu", &f) != 1 || strlen(de->d_name) != 24) continue;
    if (nf == cf) {
      cf = cf ? cf * 2 : 16;
      raft_index *t = mm_realloc(firsts, cf * sizeof *t);
      if (!t) { rc = MM_ENOMEM; break; }
      firsts = t;
    }
    firsts[nf++] = f;
  }
  closedir(d);
  if (rc != MM_OK) { mm_free(firsts); return rc; }
  if (nf) qsort(firsts, nf, sizeof *firsts, cmp_idx);
  size_t cap_loaded = 0;
  int cut = 0;
  for (size_t i = 0; i < nf && rc == MM_OK; i++) {
    char *p = seg_path(l, firsts[i]);
    if (!p) { rc = MM_ENOMEM; break; }
    if (cut || (l->nsegs && firsts[i] != last_index(l) + 1)) {
      unlink(p); /* after a cut or a gap: unusable */
      mm_free(p);
      cut = 1;
      continue;
    }
    int fd = open(p, O_RDWR | O_CLOEXEC);
    mm_free(p);
    if (fd < 0) { rc = MM_EIO; break; }
    struct stat stt;
    if (fstat(fd, &stt) != 0) { close(fd); rc = MM_EIO; break; }
    size_t sz = (size_t)stt.st_size;
    unsigned char *buf = mm_malloc(sz ? sz : 1);
    if (!buf) { close(fd); rc = MM_ENOMEM; break; }
    size_t got = 0;
    while (got < sz) {
      ssize_t r = pread(fd, buf + got, sz - got, (off_t)got);
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (l->nsegs == 0) l->base = firsts[i] - 1;
    size_t si = l->nsegs;
    if (l->nsegs == l->capsegs) {
      size_t nc = l->capsegs ? l->capsegs * 2 : 8;
      seg *s = mm_realloc(l->segs, nc * sizeof *s);
      if (!s) { close(fd); mm_free(buf); rc = MM_ENOMEM; break; }
      l->segs = s;
      l->capsegs = nc;
    }
    l->segs[l->nsegs++] = (seg){.first = firsts[i], .fd = fd};
    size_t off = 0;
    while (off < got) {
      raft_entry e;
      size_t used;
      int drc = raft_record_decode(buf + off, got - off, &e, &used);
      if (drc == MM_ENOMEM) { rc = MM_ENOMEM; break; }
      if (drc != MM_OK || e.index != last_index(l) + 1) {
        if (drc == MM_OK) raft_entry_unref(&e);
        cut = 1; /* torn or corrupt tail: cut here */
        break;
      }
      if (table_push(l, off, (uint32_t)si) != MM_OK) { raft_entry_unref(&e); rc = MM_ENOMEM; break; }
      l->last_term = e.term;
      if (e.index > l->snap.index) {
        if (l->nloaded == cap_loaded) {
          cap_loaded = cap_loaded ? cap_loaded * 2 : 1024;
          raft_entry *t = mm_realloc(l->loaded, cap_loaded * sizeof *t);
          if (!t) { raft_entry_unref(&e); rc = MM_ENOMEM; break; }
          l->loaded = t;
        }
        l->loaded[l->nloaded++] = e;
      } else {
        raft_entry_unref(&e);
      }
      off += used;
    }
    size_t nz = off;
    while (nz < got && buf[nz] == 0) nz++;
    mm_free(buf);
    l->segs[si].size = off;
    l->segs[si].alloc = off;
    if (rc == MM_OK && off < sz) {
      if (trunc_fd(l, fd, off) != MM_OK || fdatasync(fd) != 0) rc = MM_EIO;
      if (nz < sz) /* not just the preallocated zeros */
        mm_log_warn("raft log %s: cut torn tail of segment %llu at byte %zu (%zu bytes dropped)", l->dir,
                    (unsigned long long)firsts[i], off, sz - off);
    }
  }
  mm_free(firsts);
  if (rc == MM_OK && cut) fsync(l->dirfd);
  /* Entries must continue the snapshot; otherwise none is usable. */
  if (rc == MM_OK && l->nloaded && l->loaded[0].index != l->snap.index + 1) {
    for (size_t i = 0; i < l->nloaded; i++) raft_entry_unref(&l->loaded[i]);
    l->nloaded = 0;
    rc = segs_cut_from(l, 0);
    l->base = l->snap.index;
    l->n = 0;
  }
  if (rc == MM_OK && !l->nsegs) l->base = l->snap.index;
  return rc;
}

/* ---- public ---------------------------------------------------------------------- */

int raft_log_open(const char *dir, raft_log **out) {
  *out = NULL;
  raft_log *l = mm_calloc(1, sizeof *l);
  if (!l) return MM_ENOMEM;
  l->dirfd = -1;
  mm_buf_init(&l->wbuf);
  int rc = MM_ENOMEM;
  l->dir = mm_strdup(dir);
  if (!l->dir) goto fail;
  rc = MM_EIO;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) goto fail;
  l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (l->dirfd < 0) goto fail;
  if ((rc = meta_read(l)) != MM_OK) goto fail;
  if ((rc = load_segments(l)) != MM_OK) goto fail;
  *out = l;
  return MM_OK;
fail:
  raft_log_close(l);
  return rc;
}

void raft_log_close(raft_log *l) {
  if (!l) return;
  for (size_t i = 0; i < l->nsegs; i++) close(l->segs[i].fd);
  for (size_t i = 0; i < l->nloaded; i++) raft_entry_unref(&l->loaded[i]);
  mm_free(l->loaded);
  mm_free(l->segs);
  mm_free(l->off);
  mm_free(l->segi);
  mm_buf_free(&l->wbuf);
  mm_free(l->zeros);
  if (l->dirfd >= 0) close(l->dirfd);
  mm_free(l->dir);
  mm_free(l);
}

void raft_log_state(raft_log *l, raft_term *term, raft_id *vote, raft_snapshot *snap,
                    const raft_entry **entries, size_t *n, int *fresh) {
  *term = l->term;
  *vote = l->vote;
  *snap = l->snap;
  *entries = l->loaded;
  *n = l->nloaded;
  *fresh = l->fresh;
}

static int sync_all(raft_log *l);

static void drop_loaded(raft_log *l) {
  for (size_t i = 0; i < l->nloaded; i++) raft_entry_unref(&l->loaded[i]);
  l->nloaded = 0;
}

int raft_log_set_hard_state(raft_log *l, raft_term term, raft_id vote) {
  if (l->err) return l->err;
  int rc = meta_write(l, term, vote, &l->snap);
  if (rc == MM_OK) l->fresh = 0;
  return rc;
}

int raft_log_set_snapshot(raft_log *l, const raft_snapshot *s) {
  if (l->err) return l->err;
  int rc = sync_all(l);
  if (rc != MM_OK) return rc;
  if ((rc = meta_write(l, l->term, l->vote, s)) != MM_OK) return rc;
  l->fresh = 0;
  drop_loaded(l);
  if (last_index(l) < s->index) {
    /* The log does not reach the snapshot: nothing in it is usable. */
    rc = segs_cut_from(l, 0);
    l->base = s->index;
    l->n = 0;
    return rc;
  }
  /* Delete whole segments that end at or before the snapshot. */
  size_t k = 0;
  while (k + 1 < l->nsegs && l->segs[k + 1].first <= s->index + 1) k++;
  if (k == 0) return MM_OK;
  for (size_t i = 0; i < k; i++) seg_remove(l, i);
  l->z_gen++; /* segment numbers shift */
  if (l->nsegs > k) memmove(l->segs, l->segs + k, (l->nsegs - k) * sizeof(seg));
  l->nsegs -= k;
  size_t drop = (size_t)(l->segs[0].first - 1 - l->base);
  if (l->n > drop) memmove(l->off, l->off + drop, (l->n - drop) * sizeof *l->off);
  if (l->n > drop) memmove(l->segi, l->segi + drop, (l->n - drop) * sizeof *l->segi);
  l->n -= drop;
  for (size_t i = 0; i < l->n; i++) l->segi[i] -= (uint32_t)k;
  l->base = l->segs[0].first - 1;
  if (fsync(l->dirfd) != 0) { l->err = MM_EIO; return MM_EIO; }
  return MM_OK;
}

int raft_log_truncate(raft_log *l, raft_index from) {
  if (l->err) return l->err;
  drop_loaded(l);
  if (from > last_index(l)) return MM_OK;
  if (from <= l->base + 1) {
    int rc = segs_cut_from(l, 0);
    l->base = from - 1 > l->snap.index ? from - 1 : l->snap.index;
    l->n = 0;
    return rc;
  }
  size_t k = (size_t)(from - l->base - 1);
  uint32_t si = l->segi[k];
  int rc = segs_cut_from(l, si + 1);
  if (rc != MM_OK) return rc;
  l->z_gen++;
  if (trunc_fd(l, l->segs[si].fd, l->off[k]) != MM_OK) return MM_EIO;
  l->segs[si].size = l->off[k];
  l->segs[si].alloc = l->off[k];
  l->segs[si].dirty = 1;
  l->n = k;
  /* Recover the last term by reading the record before the cut. */
  if (k > 0) {
    unsigned char h[RAFT_RECORD_HDR + 8];
    if (pread(l->segs[l->segi[k - 1]].fd, h, sizeof h, (off_t)l->off[k - 1]) != (ssize_t)sizeof h) {
      l->err = MM_EIO;
      return MM_EIO;
    }
    l->last_term = mm_get_u64le(h + RAFT_RECORD_HDR);
  }
  return MM_OK;
}

/* Inline preallocation, when fewer than PREALLOC_MIN zero bytes are left
 * after the last record of s: extend to PREALLOC_LOW + PREALLOC_STEP past it
 * (up to SEG_MAX).  The zeros reach the disk with the next sync; writeback
 * starts now so that sync does not have to write all of them. */
static int prealloc(raft_log *l, seg *s) {
  if (s->alloc >= (uint64_t)SEG_MAX || s->alloc - s->size >= PREALLOC_MIN) return MM_OK;
  uint64_t to = s->size + PREALLOC_LOW + PREALLOC_STEP;
  if (to > SEG_MAX) to = SEG_MAX;
  if (to <= s->alloc) return MM_OK;
  if (!l->zeros && !(l->zeros = mm_calloc(1, ZCHUNK))) return MM_OK; /* no memory: just do not preallocate */
  uint64_t from = s->alloc;
  for (uint64_t at = from; at < to; at += ZCHUNK) {
    size_t len = (size_t)(to - at < ZCHUNK ? to - at : ZCHUNK);
    if (wr(l, s->fd, at, l->zeros, len) != MM_OK) return MM_EIO;
    s->alloc = at + len;
  }
  s->dirty = 1;
  (void)sync_file_range(s->fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE);
  return MM_OK;
}

int raft_log_zero_needed(const raft_log *l) {
  if (l->err || l->z_busy || !l->nsegs) return 0;
  const seg *s = &l->segs[l->nsegs - 1];
  return s->alloc < (uint64_t)SEG_MAX && s->alloc - s->size < PREALLOC_LOW;
}

int raft_log_zero_begin(raft_log *l, raft_log_zero *z) {
  memset(z, 0, sizeof *z);
  z->fd = -1;
  if (!raft_log_zero_needed(l)) return 0;
  seg *s = &l->segs[l->nsegs - 1];
  uint64_t to = s->alloc + PREALLOC_STEP;
  if (to > SEG_MAX) to = SEG_MAX;
  int fd = dup(s->fd);
  if (fd < 0) return 0; /* the appends preallocate inline instead */
  z->fd = fd;
  z->from = s->alloc;
  z->to = to;
  z->gen = l->z_gen;
  z->seg = l->nsegs - 1;
  l->z_busy = 1;
  l->z_first = s->first;
  l->z_from = z->from;
  l->z_to = z->to;
  return 1;
}

int raft_log_zero_write(raft_log_zero *z) {
  static const unsigned char zero[ZCHUNK]; /* reads map the zero page */
  int rc = MM_OK;
  for (uint64_t at = z->from; at < z->to && rc == MM_OK;) {
    size_t len = (size_t)(z->to - at < sizeof zero ? z->to - at : sizeof zero);
    ssize_t w = pwrite(z->fd, zero, len, (off_t)at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = MM_EIO;
    else at += (uint64_t)w;
  }
  if (rc == MM_OK) (void)sync_file_range(z->fd, (off_t)z->from, (off_t)(z->to - z->from), SYNC_FILE_RANGE_WRITE);
  return rc;
}

void raft_log_zero_end(raft_log *l, raft_log_zero *z, int rc) {
  if (z->fd >= 0) close(z->fd);
  z->fd = -1;
  l->z_busy = 0;
  /* Counted only if the segment is still the last one and was not cut
   * meanwhile (then the zeros landed beyond its end: harmless, the log ends
   * at zeros; the appends just do not get their benefit there). */
  if (rc != MM_OK || z->gen != l->z_gen || z->seg != l->nsegs - 1) return;
  seg *s = &l->segs[z->seg];
  if (s->alloc >= z->from && s->alloc < z->to) s->alloc = z->to;
  s->dirty = 1;
}

int raft_log_zero_step(raft_log *l, pthread_mutex_t *mu, pthread_cond_t *done) {
  raft_log_zero z;
  if (!raft_log_zero_needed(l) || !raft_log_zero_begin(l, &z)) return MM_EBUSY;
  pthread_mutex_unlock(mu);
  int rc = raft_log_zero_write(&z);
  pthread_mutex_lock(mu);
  raft_log_zero_end(l, &z, rc);
  pthread_cond_broadcast(done);
  return rc;
}

/* Bytes the records of e[0..n) take. */
static uint64_t records_size(const raft_entry *e, size_t n) {
  uint64_t b = 0;
  for (size_t i = 0; i < n; i++) b += RAFT_RECORD_HDR + 40 + (uint64_t)e[i].len;
  return b;
}

int raft_log_append(raft_log *l, const raft_entry *e, size_t n) {
  if (l->err) return l->err;
  if (!n) return MM_OK;
  drop_loaded(l);
  if (e[0].index != raft_log_last(l) + 1) return MM_EINVAL;
  if (l->z_busy && l->nsegs && l->segs[l->nsegs - 1].first == l->z_first &&
      l->segs[l->nsegs - 1].size + records_size(e, n) > l->z_from)
    return MM_EBUSY; /* it would write where the background zeroing writes (conservative) */
  if (last_index(l) < l->snap.index) { /* empty log after a snapshot */
    l->base = l->snap.index;
    l->n = 0;
  }
  size_t i = 0;
  while (i < n) {
    if (!l->nsegs || l->segs[l->nsegs - 1].size >= SEG_MAX) {
      if (l->nsegs && l->segs[l->nsegs - 1].dirty) {
        if (fdatasync(l->segs[l->nsegs - 1].fd) != 0) { l->err = MM_EIO; return MM_EIO; }
        l->segs[l->nsegs - 1].dirty = 0;
      }
      int rc = seg_new(l, e[i].index);
      if (rc != MM_OK) return rc;
      if (l->nsegs == 1) l->base = e[i].index - 1;
    }
    seg *s = &l->segs[l->nsegs - 1];
    mm_buf_reset(&l->wbuf);
    size_t start_n = l->n;
    uint64_t pos = s->size;
    for (; i < n && pos < SEG_MAX; i++) {
      size_t before = l->wbuf.len;
      if (raft_record_encode(&e[i], &l->wbuf) != MM_OK) { l->n = start_n; return MM_ENOMEM; }
      if (table_push(l, pos, (uint32_t)(l->nsegs - 1)) != MM_OK) { l->n = start_n; return MM_ENOMEM; }
      pos += l->wbuf.len - before;
    }
    if (wr(l, s->fd, s->size, l->wbuf.p, l->wbuf.len) != MM_OK) {
      l->n = start_n;
      return MM_EIO;
    }
    s->size = pos;
    if (s->alloc < pos) s->alloc = pos;
    s->dirty = 1;
    l->last_term = e[i - 1].term;
    if (prealloc(l, s) != MM_OK) return MM_EIO;
  }
  return MM_OK;
}

int raft_log_sync(raft_log *l) {
  if (l->err) return l->err;
  for (size_t i = 0; i < l->nsegs; i++) {
    if (!l->segs[i].dirty) continue;
    if (fdatasync(l->segs[i].fd) != 0) { l->err = MM_EIO; return MM_EIO; }
    l->segs[i].dirty = 0;
  }
  return MM_OK;
}

/* Every segment, dirty or not: a pipelined sync (raft_log_sync_begin) may
 * have taken a segment's dirty flag and still be running. */
static int sync_all(raft_log *l) {
  if (l->err) return l->err;
  for (size_t i = 0; i < l->nsegs; i++) {
    if (fdatasync(l->segs[i].fd) != 0) { l->err = MM_EIO; return MM_EIO; }
    l->segs[i].dirty = 0;
  }
  return MM_OK;
}

int raft_log_sync_begin(raft_log *l, raft_log_syncset *ss) {
  memset(ss, 0, sizeof *ss);
  for (size_t i = 0; i < MM_ARRAY_SIZE(ss->fd); i++) ss->fd[i] = -1;
  if (l->err) return l->err;
  ss->index = raft_log_last(l);
  ss->term = raft_log_last_term(l);
  for (size_t i = 0; i < l->nsegs; i++) {
    if (!l->segs[i].dirty) continue;
    if (ss->n == MM_ARRAY_SIZE(ss->fd)) { /* (rare) too many: sync inline */
      if (fdatasync(l->segs[i].fd) != 0) { l->err = MM_EIO; break; }
      l->segs[i].dirty = 0;
      continue;
    }
    int fd = dup(l->segs[i].fd);
    if (fd < 0) { l->err = MM_EIO; break; }
    ss->fd[ss->n++] = fd;
    l->segs[i].dirty = 0;
  }
  if (l->err) {
    raft_log_sync_finish(ss);
    return l->err;
  }
  return MM_OK;
}

int raft_log_sync_finish(raft_log_syncset *ss) {
  int rc = MM_OK;
  for (uint32_t i = 0; i < ss->n; i++) {
    if (ss->fd[i] < 0) continue;
    if (rc == MM_OK && fdatasync(ss->fd[i]) != 0) rc = MM_EIO;
    close(ss->fd[i]);
    ss->fd[i] = -1;
  }
  ss->n = 0;
  return rc;
}
