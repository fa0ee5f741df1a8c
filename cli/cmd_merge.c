/* cmd_merge.c: `seqloop merge -o OUTPUT PIECE...` - reassemble the pieces of
 * a sharded run (--shard I/N; docs/scale.md) into exactly the output of the
 * unsharded run.
 *
 * Contents: 1. reading and checking the pieces (one run, every shard once);
 * 2. line-oriented outputs (score, sample, audit cycle): the header once,
 * then each piece's lines in shard order; 3. the benchmark: each piece's
 * per-assay files gathered into OUTDIR and summary.csv recomputed over all
 * assays (its bootstrap runs over every assay, so it cannot be pasted from
 * the pieces' tables); 4. the merged provenance.
 *
 * "One run" is decided from the pieces' provenance sidecars: the same
 * command, program version, inputs (by SHA-256) and options (seed included),
 * except those that cannot change a result (output paths, threads, -q/-v,
 * --retry). Each piece's own SHA-256, recorded when it was written, must
 * still match: a piece rewritten since is refused. Any refusal is exit 1
 * with the reason; nothing is written then.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>


#include "shard.h"

static const cli_cmdinfo info = {
  "merge", "seqloop merge -o OUTPUT PIECE...",
  "Reassembles the pieces of a sharded run (seqloop benchmark, score, sample or audit\n"
  "cycle with --shard I/N) into exactly the output of the same command run without\n"
  "--shard. Each PIECE is a piece's output file (for benchmark: OUTDIR/shard-I-of-N.csv)\n"
  "with its provenance sidecar PIECE.prov.json beside it, or that sidecar itself (a\n"
  "name ending in .json, where --provenance put it); the order does not matter.\n"
  "Refuses (exit 1, nothing written) pieces of different runs (inputs, options or seed\n"
  "differ), a missing or repeated shard, or a piece changed since it was written.\n"
  "OUTPUT.prov.json lists every piece with its SHA-256.\n",
  "For benchmark pieces OUTPUT is a folder: each piece's per-assay files are copied\n"
  "there (unless the pieces already wrote into it) and OUTPUT/summary.csv is computed\n"
  "over all assays. docs/scale.md has worked examples (Slurm array job, xargs -P).\n"};

typedef struct {
  const char *path;
  cJSON *prov;  /* the sidecar */
  cJSON *shard; /* its "shard" object */
  int i, n;
  int64_t items, first, count;
  char *head;   /* its header lines (line-oriented merges) */
} piece;

static char *read_all(const char *path, size_t *ret_len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  size_t got;
  while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) {
      char *t = realloc(buf, 2 * cap + 1);
      if (!t) { free(buf); buf = NULL; break; }
      buf = t;
      cap *= 2;
    }
  }
  if (buf && ferror(fp)) { free(buf); buf = NULL; }
  fclose(fp);
  if (buf) { buf[len] = 0; *ret_len = len; }
  return buf;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}
static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* 1. The pieces --------------------------------------------------------------- */

/* Options that cannot change what a run computes (same seed, same result for
 * any thread count), so pieces may differ in them. */
static const char *const local_options[] = {"output", "provenance", "threads", "quiet", "verbose", "retry", NULL};

static int is_local(const char *k) {
  for (int j = 0; local_options[j]; j++)
    if (strcmp(k, local_options[j]) == 0) return 1;
  return 0;
}

/* A PIECE argument is the piece's output (its sidecar beside it), or a
 * sidecar itself (a name ending in .json, e.g. one --provenance put
 * elsewhere; no sharded command writes JSON as its output): then the piece
 * is the output that sidecar names. */
static int load_piece(piece *p, sl_error *err) {
  char sc[PATH_MAX + 16];
  size_t n = strlen(p->path);
  const int is_sidecar = n > 5 && strcmp(p->path + n - 5, ".json") == 0;
  snprintf(sc, sizeof sc, is_sidecar ? "%s" : "%s.prov.json", p->path);
  char *text = read_all(sc, &n);
  if (!text) return sl_fail(err, SL_EINPUT, "%s: no provenance sidecar %s (merge needs the sidecar each piece "
                            "wrote beside it)", p->path, sc);
  p->prov = cJSON_Parse(text);
  free(text);
  if (!p->prov) return sl_fail(err, SL_EINPUT, "%s: not valid JSON", sc);
  if (is_sidecar) {
    if (!jstr(p->prov, "output")) return sl_fail(err, SL_EINPUT, "%s: names no output", sc);
    p->path = jstr(p->prov, "output"); /* relative paths: as the piece was run (run merge from there) */
  }
  p->shard = cJSON_GetObjectItemCaseSensitive(p->prov, "shard");
  if (!cJSON_IsObject(p->shard))
    return sl_fail(err, SL_EINPUT, "%s: not a piece of a sharded run (its sidecar has no \"shard\"; was it "
                   "written with --shard I/N?)", p->path);
  double i = jnum(p->shard, "i"), N = jnum(p->shard, "N"), items = jnum(p->shard, "items");
  double first = jnum(p->shard, "first"), count = jnum(p->shard, "count");
  if (!(i >= 1 && i <= N && N <= SL_SHARD_MAX && items >= 0 && first >= 0 && count >= 0) ||
      !jstr(p->shard, "merge") || !jstr(p->prov, "command"))
    return sl_fail(err, SL_EINPUT, "%s: the \"shard\" record of its sidecar is incomplete", p->path);
  p->i = (int)i;
  p->n = (int)N;
  p->items = (int64_t)items;
  p->first = (int64_t)first;
  p->count = (int64_t)count;
  sl_shard s = {p->i, p->n};
  int64_t lo, hi;
  sl_shard_range(&s, p->items, &lo, &hi);
  if (lo != p->first || hi - lo != p->count)
    return sl_fail(err, SL_EINPUT, "%s: says shard %d/%d covers items %lld..%lld of %lld, not %lld..%lld",
                   p->path, p->i, p->n, (long long)p->first, (long long)(p->first + p->count),
                   (long long)p->items, (long long)lo, (long long)hi);
  return SL_OK;
}

/* The piece, checked against the SHA-256 it recorded when written. */
static int check_piece(piece *p, sl_error *err) {
  char hex[SL_SHA256_HEX];
  if (sl_sha256_file(p->path, hex)) return sl_fail(err, SL_EIO, "%s: %s", p->path, strerror(errno));
  const char *want = jstr(p->shard, "output_sha256");
  if (!want || strcmp(want, hex))
    return sl_fail(err, SL_EINPUT, "%s: changed since it was written (SHA-256 %.12s..., its sidecar says "
                   "%.12s...); rerun that shard", p->path, hex, want ? want : "nothing");
  return SL_OK;
}

/* A short text of a JSON value for messages. */
static void jtext(const cJSON *v, char *buf, size_t n) {
  char *s = v ? cJSON_PrintUnformatted(v) : NULL;
  snprintf(buf, n, "%.80s", s ? s : "absent");
  cJSON_free(s);
}

/* cJSON_Compare, with two absent values equal (cJSON_Compare says no). */
static int same_json(const cJSON *u, const cJSON *v) { return (!u && !v) || (u && v && cJSON_Compare(u, v, 1)); }

/* Do a and b come from one run? SL_OK, else SL_EINPUT naming the difference. */
static int same_run(const piece *a, const piece *b, sl_error *err) {
  char x[100], y[100];
  static const char *const fields[] = {"command", "version", NULL};
  for (int k = 0; fields[k]; k++) {
    const char *u = jstr(a->prov, fields[k]), *v = jstr(b->prov, fields[k]);
    if (!u || !v || strcmp(u, v))
      return sl_fail(err, SL_EINPUT, "pieces of different runs: %s is from %s '%s', %s from '%s'", a->path,
                     fields[k], u ? u : "?", b->path, v ? v : "?");
  }
  static const char *const sfields[] = {"N", "items", "unit", "merge", "header_lines", "lead_lines", NULL};
  for (int k = 0; sfields[k]; k++) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(a->shard, sfields[k]);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b->shard, sfields[k]);
    if (!same_json(u, v)) {
      jtext(u, x, sizeof x);
      jtext(v, y, sizeof y);
      return sl_fail(err, SL_EINPUT, "pieces of different runs: %s has shard %s %s, %s has %s", a->path,
                     sfields[k], x, b->path, y);
    }
  }
  const cJSON *ia = cJSON_GetObjectItemCaseSensitive(a->prov, "inputs");
  const cJSON *ib = cJSON_GetObjectItemCaseSensitive(b->prov, "inputs");
  int na = cJSON_GetArraySize(ia), nb = cJSON_GetArraySize(ib);
  if (na != nb)
    return sl_fail(err, SL_EINPUT, "pieces of different runs: %s has %d inputs, %s %d", a->path, na, b->path, nb);
  for (int k = 0; k < na; k++) {
    const cJSON *u = cJSON_GetArrayItem(ia, k), *v = cJSON_GetArrayItem(ib, k);
    const char *ru = jstr(u, "role"), *rv = jstr(v, "role");
    const char *su = jstr(u, "sha256"), *sv = jstr(v, "sha256");
    const char *pu = jstr(u, "path"), *pv = jstr(v, "path");
    int same = ru && rv && !strcmp(ru, rv) &&
               ((su && sv) ? !strcmp(su, sv) : (!su && !sv && pu && pv && !strcmp(pu, pv)));
    if (!same)
      return sl_fail(err, SL_EINPUT, "pieces of different runs: input '%s' differs (%s: %s %.16s, %s: %s %.16s)",
                     ru ? ru : "?", a->path, pu ? pu : "?", su ? su : "", b->path, pv ? pv : "?", sv ? sv : "");
  }
  const cJSON *oa = cJSON_GetObjectItemCaseSensitive(a->prov, "options");
  const cJSON *ob = cJSON_GetObjectItemCaseSensitive(b->prov, "options");
  const cJSON *e;
  for (int pass = 0; pass < 2; pass++) { /* keys of a, then keys only b has */
    const cJSON *keys = pass ? ob : oa;
    cJSON_ArrayForEach(e, keys) {
      if (is_local(e->string)) continue;
      const cJSON *u = cJSON_GetObjectItemCaseSensitive(oa, e->string);
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(ob, e->string);
      if (!same_json(u, v)) {
        jtext(u, x, sizeof x);
        jtext(v, y, sizeof y);
        return sl_fail(err, SL_EINPUT, "pieces of different runs: option --%s differs (%s: %s, %s: %s)",
                       e->string, a->path, x, b->path, y);
      }
    }
  }
  if (!same_json(cJSON_GetObjectItemCaseSensitive(a->prov, "extra"),
                 cJSON_GetObjectItemCaseSensitive(b->prov, "extra")))
    return sl_fail(err, SL_EINPUT, "pieces of different runs: %s and %s record different settings (\"extra\")",
                   a->path, b->path);
  return SL_OK;
}

/* Order the pieces by shard and check that each of 1..N is there once. */
static int check_set(piece *p, int n, piece **by_i, sl_error *err) {
  const int N = p[0].n;
  for (int k = 0; k < n; k++) {
    piece *q = &p[k];
    if (by_i[q->i - 1])
      return sl_fail(err, SL_EINPUT, "shard %d/%d given twice (%s and %s)", q->i, N, by_i[q->i - 1]->path, q->path);
    by_i[q->i - 1] = q;
  }
  if (n < N) {
    char miss[256];
    size_t off = 0;
    int nm = 0;
    for (int i = 0; i < N; i++)
      if (!by_i[i] && off < sizeof miss - 24) off += (size_t)snprintf(miss + off, sizeof miss - off, "%s%d/%d", nm++ ? ", " : "", i + 1, N);
    return sl_fail(err, SL_EINPUT, "missing shard%s %s%s (%d of %d pieces given)", N - n > 1 ? "s" : "", miss,
                   off >= sizeof miss - 24 ? ", ..." : "", n, N);
  }
  return SL_OK;
}

/* 2. Line-oriented outputs ------------------------------------------------------ */

/* Copy (fp != NULL) or skip the next k lines of in; 0 ok, -1 if in has
 * fewer. Lines are copied as bytes, whatever their length. */
static int lines(FILE *in, int k, FILE *fp) {
  for (int j = 0; j < k; j++) {
    int ch;
    while ((ch = getc(in)) != EOF && ch != '\n')
      if (fp) putc(ch, fp);
    if (ch == EOF) return -1;
    if (fp) putc('\n', fp);
  }
  return 0;
}

/* The first k lines of path as a string (caller frees), or NULL. */
static char *head_lines(const char *path, int k) {
  FILE *in = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0;
  FILE *mem = in ? open_memstream(&buf, &n) : NULL;
  int bad = !mem || lines(in, k, mem);
  if (mem) fclose(mem);
  if (in) fclose(in);
  if (bad) { free(buf); return NULL; }
  return buf;
}

/* Streamed, so a piece of any size merges in constant memory: every piece is
 * checked (SHA-256, header) before the output is opened. */
static int merge_concat(piece **by_i, int N, const char *out, sl_error *err) {
  const int hl = (int)jnum(by_i[0]->shard, "header_lines"), ll = (int)jnum(by_i[0]->shard, "lead_lines");
  int status;
  for (int i = 0; i < N; i++) {
    if ((status = check_piece(by_i[i], err))) return status;
    if (!(by_i[i]->head = head_lines(by_i[i]->path, hl)))
      return sl_fail(err, SL_EINPUT, "%s: shorter than its %d header line(s)", by_i[i]->path, hl);
    if (strcmp(by_i[i]->head, by_i[0]->head))
      return sl_fail(err, SL_EINPUT, "%s and %s have different headers", by_i[0]->path, by_i[i]->path);
  }
  sl_outfile *of;
  if ((status = sl_outfile_open(out, &of, err))) return status;
  FILE *fp = sl_outfile_fp(of);
  fputs(by_i[0]->head, fp);
  int lead_done = 0;
  char buf[1 << 16];
  for (int i = 0; i < N && !status; i++) {
    const piece *p = by_i[i];
    FILE *in = fopen(p->path, "rb");
    if (!in) { status = sl_fail(err, SL_EIO, "%s: %s", p->path, strerror(errno)); break; }
    lines(in, hl, NULL);
    if (p->count > 0 && ll > 0) { /* the repeated lines: kept from the first non-empty piece */
      if (lines(in, ll, lead_done ? NULL : fp)) status = sl_fail(err, SL_EINPUT, "%s: shorter than its header and lead lines", p->path);
      lead_done = 1;
    }
    size_t n;
    while (!status && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, fp);
    if (!status && ferror(in)) status = sl_fail(err, SL_EIO, "%s: read error", p->path);
    fclose(in);
  }
  if (status) { sl_outfile_abort(of); return status; }
  return sl_outfile_commit(of, err);
}

/* 3. Benchmark ------------------------------------------------------------------ */

static int copy_file(const char *from, const char *to, sl_error *err) {
  FILE *in = fopen(from, "rb");
  if (!in) return sl_fail(err, SL_EIO, "%s: %s", from, strerror(errno));
  sl_outfile *of;
  int status = sl_outfile_open(to, &of, err);
  char buf[1 << 16];
  size_t n;
  while (!status && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, sl_outfile_fp(of));
  if (!status && ferror(in)) { sl_outfile_abort(of); status = sl_fail(err, SL_EIO, "%s: read error", from); }
  else if (!status) status = sl_outfile_commit(of, err);
  fclose(in);
  return status;
}

static int same_dir(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The piece's folder (its file's dirname) into buf. */
static void piece_dir(const char *path, char *buf, size_t n) {
  const char *s = strrchr(path, '/');
  if (!s) snprintf(buf, n, ".");
  else if (s == path) snprintf(buf, n, "/");
  else snprintf(buf, n, "%.*s", (int)(s - path), path);
}

static int merge_benchmark(const cli_common *c, piece **by_i, int N, const char *outdir, int *ret_failed,
                           sl_error *err) {
  const cJSON *prov = by_i[0]->prov, *opts = cJSON_GetObjectItemCaseSensitive(prov, "options");
  const char *datadir = NULL;
  const cJSON *in;
  cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(prov, "inputs"))
    if (jstr(in, "role") && !strcmp(jstr(in, "role"), "data")) datadir = jstr(in, "path");
  if (!datadir) return sl_fail(err, SL_EINPUT, "%s: its sidecar names no data folder", by_i[0]->path);
  const int64_t total = by_i[0]->items;
  char **ids = calloc((size_t)total + 1, sizeof *ids);
  sl_bench_result *res = calloc((size_t)total + 1, sizeof *res);
  int *st = calloc((size_t)total + 1, sizeof *st);
  int status = SL_OK, n = 0;
  if (!ids || !res || !st) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if (mkdir(outdir, 0777) && errno != EEXIST) { status = sl_fail(err, SL_EIO, "%s: %s", outdir, strerror(errno)); goto DONE; }
  for (int i = 0; i < N && !status; i++) {
    const piece *p = by_i[i];
    char dir[PATH_MAX], from[PATH_MAX + 512], to[PATH_MAX + 512];
    sl_csv *csv = NULL;
    if ((status = check_piece(by_i[i], err)) || (status = sl_csv_read(p->path, &csv, err))) break;
    int cr = sl_csv_col(csv, "row"), cd = sl_csv_col(csv, "dms_id");
    int64_t got = 0;
    for (int64_t r = 0; cr >= 0 && cd >= 0 && r < csv->nrows; r++)
      if (!strcmp(csv->cell[r][cr], "assay") && n < total) { ids[n++] = sl_strdup(csv->cell[r][cd]); got++; }
    sl_csv_destroy(csv);
    if (got != p->count) { status = sl_fail(err, SL_EINPUT, "%s: lists %lld assays, its sidecar says %lld", p->path, (long long)got, (long long)p->count); break; }
    piece_dir(p->path, dir, sizeof dir);
    if (same_dir(dir, outdir)) continue;
    /* every file of the piece's assays: <id>.scores.csv, <id>.result.csv, saved models */
    DIR *d = opendir(dir);
    if (!d) { status = sl_fail(err, SL_EIO, "%s: %s", dir, strerror(errno)); break; }
    struct dirent *e;
    while (!status && (e = readdir(d)))
      for (int64_t k = n - got; k < n; k++) {
        size_t len = strlen(ids[k]);
        if (strncmp(e->d_name, ids[k], len) || e->d_name[len] != '.') continue;
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", outdir, e->d_name);
        status = copy_file(from, to, err);
        break;
      }
    closedir(d);
  }
  if (status) goto DONE;
  int failed = 0;
  for (int a = 0; a < n; a++) {
    char path[PATH_MAX + 512];
    sl_error e;
    snprintf(path, sizeof path, "%s/%s.result.csv", outdir, ids[a]);
    if ((st[a] = sl_bench_result_read(path, &res[a], &e))) {
      failed++;
      fprintf(stderr, "seqloop merge: %s: no result (%s): the assay failed in its piece; its row stays empty\n", ids[a], e.msg);
    }
  }
  const char *seed = jstr(opts, "seed");
  double boot = jnum(opts, "boot");
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/summary.csv", outdir);
  status = cli_bench_summary(path, datadir, ids, n, res, st, jstr(opts, "reference"), jstr(opts, "compare"),
                             isnan(boot) ? 1000 : (int)boot, seed ? strtoull(seed, NULL, 10) : 1, 0, c->quiet, err);
  *ret_failed = failed;
DONE:
  for (int a = 0; ids && a < n; a++) free(ids[a]);
  free(ids);
  free(res);
  free(st);
  return status;
}

/* 4. Provenance ------------------------------------------------------------------ */

static int write_prov(const cli_common *c, piece **by_i, int N, const char *out, sl_error *err) {
  cJSON *j = cJSON_Duplicate(by_i[0]->prov, 1);
  if (!j) return sl_fail(err, SL_ENOMEM, "out of memory");
  const cJSON *s0 = by_i[0]->shard;
  cJSON *m = cJSON_CreateObject();
  cJSON_AddNumberToObject(m, "N", N);
  cJSON_AddStringToObject(m, "unit", jstr(s0, "unit") ? jstr(s0, "unit") : "");
  cJSON_AddNumberToObject(m, "items", jnum(s0, "items"));
  cJSON *args = cJSON_AddArrayToObject(m, "argv");
  cJSON_AddItemToArray(args, cJSON_CreateString("seqloop"));
  for (int k = 0; k < c->argc; k++) cJSON_AddItemToArray(args, cJSON_CreateString(c->argv[k]));
  cJSON *ps = cJSON_AddArrayToObject(m, "pieces");
  for (int i = 0; i < N; i++) {
    const piece *p = by_i[i];
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "path", p->path);
    cJSON_AddStringToObject(q, "sha256", jstr(p->shard, "output_sha256"));
    cJSON_AddNumberToObject(q, "i", p->i);
    cJSON_AddNumberToObject(q, "first", (double)p->first);
    cJSON_AddNumberToObject(q, "count", (double)p->count);
    static const char *const keep[] = {"argv", "inputs", "created_utc", NULL};
    for (int k = 0; keep[k]; k++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->prov, keep[k]);
      if (v) cJSON_AddItemToObject(q, keep[k], cJSON_Duplicate(v, 1));
    }
    cJSON_AddItemToArray(ps, q);
  }
  cJSON_DeleteItemFromObjectCaseSensitive(j, "shard");
  cJSON_DeleteItemFromObjectCaseSensitive(j, "argv"); /* piece 1's; every piece's is under merged */
  cJSON_ReplaceItemInObjectCaseSensitive(j, "output", cJSON_CreateString(out));
  cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "options");
  if (o) cJSON_ReplaceItemInObjectCaseSensitive(o, "output", cJSON_CreateString(out));
  char buf[64];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  cJSON_ReplaceItemInObjectCaseSensitive(j, "created_utc", cJSON_CreateString(buf));
  cJSON_AddItemToObject(j, "merged", m);
  char *path = cli_prov_path(c, out);
  int status = path ? cli_write_json(path, j, err) : sl_fail(err, SL_ENOMEM, "out of memory");
  free(path);
  cJSON_Delete(j);
  return status;
}

int cmd_merge(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "merge", argc, argv);
  c.out = NULL;
  int optind_;
  cli_opt opts[] = {
    CLI_STRING("output", 'o', &c.out, "FILE", "the merged output (for benchmark pieces: a folder), written\n"
               "atomically", "output"),
    CLI_STRING("provenance", 0, &c.prov, "FILE", "provenance JSON (default: OUTPUT.prov.json; for benchmark\n"
               "OUTPUT/summary.csv.prov.json)", NULL),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (!c.out || !strcmp(c.out, "-")) return cli_usage_error(&info, "-o OUTPUT is required (a file, or a folder for benchmark pieces)");
  if (optind_ >= argc) return cli_usage_error(&info, "expected one or more PIECE files");
  const int n = argc - optind_;
  piece *p = calloc((size_t)n, sizeof *p);
  piece **by_i = NULL;
  sl_error err;
  sl_error_clear(&err);
  int status = p ? SL_OK : sl_fail(&err, SL_ENOMEM, "out of memory"), failed = 0;
  for (int k = 0; k < n && !status; k++) {
    p[k].path = argv[optind_ + k];
    status = load_piece(&p[k], &err);
  }
  for (int k = 1; k < n && !status; k++) status = same_run(&p[0], &p[k], &err);
  if (status) goto DONE;
  const int N = p[0].n;
  by_i = calloc((size_t)N, sizeof *by_i);
  if (!by_i) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  if ((status = check_set(p, n, by_i, &err))) goto DONE;
  const char *kind = jstr(p[0].shard, "merge");
  const char *out = c.out;
  char sum[PATH_MAX + 32];
  if (!strcmp(kind, "concat")) {
    status = merge_concat(by_i, N, out, &err);
  } else if (!strcmp(kind, "benchmark")) {
    status = merge_benchmark(&c, by_i, N, c.out, &failed, &err);
    snprintf(sum, sizeof sum, "%s/summary.csv", c.out);
    out = sum;
  } else {
    status = sl_fail(&err, SL_EINPUT, "%s: unknown merge kind '%s' (a newer seqloop wrote it?)", p[0].path, kind);
  }
  if (!status) status = write_prov(&c, by_i, N, out, &err);
  if (!status && !c.quiet)
    fprintf(stderr, "seqloop merge: %d pieces of '%s' (%lld %s) -> %s\n", N, jstr(p[0].prov, "command"),
            (long long)p[0].items, jstr(p[0].shard, "unit") ? jstr(p[0].shard, "unit") : "items", out);
DONE:
  for (int k = 0; p && k < n; k++) { cJSON_Delete(p[k].prov); free(p[k].head); }
  free(p);
  free(by_i);
  if (status) return cli_error(&c, status, &err);
  return failed ? 1 : 0;
}
