/* oracle.c: every source of measurements behind one interface.
 *
 * Contents
 *   1. the interface: create from a specification, measure, encode/decode
 *   2. ehrlich: a closed-form test function (ehrlich.c)
 *   3. table: a measured landscape read from CSV (e.g. GB1 four-site)
 *   4. model: a seqloop model as synthetic ground truth
 *   5. external: a program answering JSON lines on stdin/stdout
 *   7. callback: a function of the calling program (the Python bindings)
 *
 * Policy for a table's unmeasured variants (missing=na, the default): the
 * oracle answers NAN, the loop records a failed measurement (NULL) that used
 * budget, as a lab experiment that failed would; missing=error stops with the
 * variant named. GB1's four-site table lacks 10,639 of 160,000 variants, so
 * "error" would end most campaigns.
 *
 * External protocol (docs/design.md, version 2): seqloop writes one line
 *   {"id": 1, "sequences": ["ACDE", ...]}
 * and expects one line back within the timeout
 *   {"id": 1, "values": [0.5, null, ...]}
 * (null = not measurable; "id" may be left out, but if present it must echo
 * the request's). The program is started once (/bin/sh -c COMMAND, in its
 * own process group) and kept for the whole run. A crash (EOF, with the exit
 * status), a hang (no answer in time), garbage (not JSON, wrong count, a
 * value that is not a finite number of magnitude <= SL_DESIGN_MAX_VALUE or
 * null) and output nobody asked for are errors that say which; each ends
 * the program's whole process group.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "seqloop/design.h"
#include "seqloop/score.h"
#include "oracle_ext.h"

/* ---- 1. interface ----------------------------------------------------------- */
void sl_oracle_destroy(sl_oracle *o) {
  if (!o) return;
  if (o->destroy_impl) o->destroy_impl(o->impl);
  free(o->optimum_seq);
  free(o->start_seq);
  free(o->spec_json);
  free(o);
}

int sl_oracle_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err) {
  return o->measure(o, x, n, y, err);
}

int sl_design_encode(const sl_oracle *o, const char *text, uint8_t *x, sl_error *err) {
  size_t len = strlen(text);
  if ((int64_t)len != o->L)
    return sl_fail(err, SL_EINPUT, "sequence '%.60s' has length %zu, expected %lld", text, len, (long long)o->L);
  for (int64_t i = 0; i < o->L; i++) {
    const char *p = text[i] ? strchr(o->symbols, text[i]) : NULL;
    if (!p) return sl_fail(err, SL_EINPUT, "sequence '%.60s': symbol '%c' at position %lld is not one of '%s'",
                           text, text[i], (long long)(i + 1), o->symbols);
    x[i] = (uint8_t)(p - o->symbols);
  }
  return SL_OK;
}

void sl_design_decode(const sl_oracle *o, const uint8_t *x, char *text) {
  for (int64_t i = 0; i < o->L; i++) text[i] = o->symbols[x[i]];
  text[o->L] = '\0';
}

static sl_oracle *oracle_new(const char *name) {
  sl_oracle *o = calloc(1, sizeof *o);
  if (o) {
    snprintf(o->name, sizeof o->name, "%s", name);
    o->optimum = NAN;
  }
  return o;
}

/* key=value list "a=1,b=2": value of key, or NULL. Writes into buf. */
static const char *kv(const char *list, const char *key, char *buf, size_t size) {
  size_t kl = strlen(key);
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
      size_t vl = n - kl - 1;
      if (vl >= size) vl = size - 1;
      memcpy(buf, p + kl + 1, vl);
      buf[vl] = '\0';
      return buf;
    }
    p = end ? end + 1 : NULL;
  }
  return NULL;
}

/* Every key of list must be one of allowed (space-separated). */
static int kv_check(const char *what, const char *list, const char *allowed, sl_error *err) {
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ','), *eq = strchr(p, '=');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (!eq || (end && eq > end))
      return sl_fail(err, SL_EUSAGE, "%s: expected key=value, not '%.*s'", what, (int)n, p);
    char key[64];
    size_t kl = (size_t)(eq - p);
    if (kl >= sizeof key) kl = sizeof key - 1;
    memcpy(key, p, kl);
    key[kl] = '\0';
    char pat[80];
    snprintf(pat, sizeof pat, " %s ", key);
    char all[256];
    snprintf(all, sizeof all, " %s ", allowed);
    if (!strstr(all, pat)) return sl_fail(err, SL_EUSAGE, "%s: unknown parameter '%s' (expected: %s)", what, key, allowed);
    p = end ? end + 1 : NULL;
  }
  return SL_OK;
}

static int kv_int(const char *list, const char *key, long long def, long long lo, long long hi,
                  long long *ret, sl_error *err) {
  char buf[64];
  const char *v = kv(list, key, buf, sizeof buf);
  if (!v) { *ret = def; return SL_OK; }
  char *e = NULL;
  long long x = strtoll(v, &e, 10);
  if (e == v || *e || x < lo || x > hi)
    return sl_fail(err, SL_EUSAGE, "oracle parameter %s=%s: expected an integer in %lld..%lld", key, v, lo, hi);
  *ret = x;
  return SL_OK;
}

/* A measurement as text: a decimal number (no hex, no inf/nan, nothing
 * after it) that neither overflows nor underflows strtod and whose magnitude
 * is at most SL_DESIGN_MAX_VALUE. 0 ok; -1 with why ("is not a number", ...). */
static int parse_value(const char *v, double *ret, const char **why) {
  const char *p = v;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '+' || *p == '-') p++;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) { *why = "is hexadecimal (write a decimal number)"; return -1; }
  char *end = NULL;
  errno = 0;
  double x = strtod(v, &end);
  int range = errno == ERANGE;
  if (end == v || *end || !isfinite(x)) { *why = "is not a finite number"; return -1; }
  if (range && x != 0 && fabs(x) >= DBL_MIN) range = 0; /* glibc sets ERANGE for some exact subnormal cases */
  if (range) { *why = "underflows or overflows a double (|value| must be 0 or in 1e-300..1e100)"; return -1; }
  if (x != 0 && fabs(x) < 1e-300) { *why = "is subnormal (|value| must be 0 or in 1e-300..1e100)"; return -1; }
  if (fabs(x) > SL_DESIGN_MAX_VALUE) { *why = "is larger in magnitude than 1e100, the bound on measurements"; return -1; }
  *ret = x;
  return 0;
}

/* Columns named twice would make "which one is the value" a guess. */
static int unique_col(const sl_csv *csv, const char *path, const char *name, sl_error *err) {
  int k = sl_csv_col(csv, name);
  for (int j = k + 1; k >= 0 && j < csv->ncols; j++)
    if (strcmp(csv->header[j], name) == 0)
      return sl_fail(err, SL_EINPUT, "%s: the header names column '%s' twice (columns %d and %d)", path, name, k + 1,
                     j + 1);
  return SL_OK;
}

/* ---- 2. ehrlich ---------------------------------------------------------------- */
static int ehrlich_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err) {
  for (int64_t k = 0; k < n; k++) y[k] = sl_ehrlich_eval(o->impl, x + k * o->L);
  return SL_OK;
}
static void ehrlich_free(void *p) { sl_ehrlich_destroy(p); }

static int ehrlich_create(const char *args, sl_oracle **ret_o, sl_error *err) {
  long long v, c, k, L, q, seed;
  int status = kv_check("ehrlich", args, "v c k L q seed", err);
  if (status) return status;
  if ((status = kv_int(args, "v", 32, 2, 62, &v, err)) || (status = kv_int(args, "c", 4, 1, 1000, &c, err)) ||
      (status = kv_int(args, "k", 4, 2, 1000, &k, err)) || (status = kv_int(args, "L", 32, 2, 100000, &L, err)) ||
      (status = kv_int(args, "q", k, 1, 1000, &q, err)) || (status = kv_int(args, "seed", 1, 0, INT64_MAX, &seed, err)))
    return status;
  sl_ehrlich *e = NULL;
  if ((status = sl_ehrlich_create((int)v, (int)c, (int)k, (int)L, (int)q, (uint64_t)seed, &e, err))) return status;
  sl_oracle *o = oracle_new("ehrlich");
  uint8_t *x = malloc((size_t)L);
  if (o) { o->impl = e; o->destroy_impl = ehrlich_free; }
  else sl_ehrlich_destroy(e);
  if (!o || !x || !(o->spec_json = sl_ehrlich_json(e)) || !(o->optimum_seq = malloc((size_t)L + 1)) ||
      !(o->start_seq = malloc((size_t)L + 1))) {
    free(x);
    sl_oracle_destroy(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  o->L = L;
  o->q = (int)v;
  memcpy(o->symbols, SL_DESIGN_SYMBOLS62, (size_t)v);
  o->measure = ehrlich_measure;
  sl_ehrlich_optimum(e, x);
  o->optimum = sl_ehrlich_eval(e, x);
  sl_design_decode(o, x, o->optimum_seq);
  sl_ehrlich_initial(e, x);
  sl_design_decode(o, x, o->start_seq);
  free(x);
  *ret_o = o;
  return SL_OK;
}

/* ---- 3. table ---------------------------------------------------------------------- */
typedef struct {
  int64_t n;
  char **key;      /* sorted */
  double *value;
  int missing_error;
  char *path;
  char *buf;       /* L + 1 */
} table_impl;

static void table_free(void *p) {
  table_impl *t = p;
  if (!t) return;
  for (int64_t k = 0; k < t->n; k++) free(t->key[k]);
  free(t->key); free(t->value); free(t->path); free(t->buf);
  free(t);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int table_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err) {
  table_impl *t = o->impl;
  for (int64_t k = 0; k < n; k++) {
    sl_design_decode(o, x + k * o->L, t->buf);
    const char *key = t->buf;
    char **hit = bsearch(&key, t->key, (size_t)t->n, sizeof *t->key, cmp_str);
    if (!hit) {
      if (t->missing_error)
        return sl_fail(err, SL_EINPUT, "%s: variant %s was not measured (missing=error)", t->path, t->buf);
      y[k] = NAN;
    } else {
      y[k] = t->value[hit - t->key];
    }
  }
  return SL_OK;
}

static int table_create(const char *args, sl_oracle **ret_o, sl_error *err) {
  char path[4096], seqcol[256], valcol[256], missing[32], symbols[128];
  const char *comma = strchr(args, ',');
  size_t pl = comma ? (size_t)(comma - args) : strlen(args);
  if (pl == 0 || pl >= sizeof path) return sl_fail(err, SL_EUSAGE, "table: expected table:FILE[,seq=COL][,value=COL][,missing=na|error][,symbols=S]");
  memcpy(path, args, pl);
  path[pl] = '\0';
  const char *opts = comma ? comma + 1 : "";
  int status = kv_check("table", opts, "seq value missing symbols", err);
  if (status) return status;
  if (!kv(opts, "seq", seqcol, sizeof seqcol)) snprintf(seqcol, sizeof seqcol, "Variants");
  if (!kv(opts, "value", valcol, sizeof valcol)) snprintf(valcol, sizeof valcol, "Fitness");
  if (!kv(opts, "missing", missing, sizeof missing)) snprintf(missing, sizeof missing, "na");
  if (strcmp(missing, "na") && strcmp(missing, "error"))
    return sl_fail(err, SL_EUSAGE, "table: missing=%s: expected na or error", missing);
  /* The alphabet of the table's sequences: the 20 amino acids unless
   * symbols=S names another (e.g. symbols=01 for a binary landscape such as
   * Poelwijk et al. 2019's 2^13 genotypes). */
  if (!kv(opts, "symbols", symbols, sizeof symbols)) snprintf(symbols, sizeof symbols, "%s", SL_DESIGN_PROTEIN);
  size_t nsym = strlen(symbols);
  if (nsym < 2 || nsym > 62) return sl_fail(err, SL_EUSAGE, "table: symbols=%s: expected 2..62 characters", symbols);
  for (size_t i = 0; i < nsym; i++)
    if (strchr(symbols + i + 1, symbols[i]) || symbols[i] == ',' || (unsigned char)symbols[i] <= ' ')
      return sl_fail(err, SL_EUSAGE, "table: symbols=%s: '%c' is repeated or not a printable symbol", symbols, symbols[i]);
  sl_csv *csv = NULL;
  if ((status = sl_csv_read(path, &csv, err))) return status;
  sl_oracle *o = oracle_new("table");
  table_impl *t = calloc(1, sizeof *t);
  int sc = sl_csv_col(csv, seqcol), vc = sl_csv_col(csv, valcol);
  if (!o || !t) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
  o->impl = t;
  o->destroy_impl = table_free;
  o->measure = table_measure;
  t->missing_error = strcmp(missing, "error") == 0;
  if (sc < 0 || vc < 0) {
    status = sl_fail(err, SL_EINPUT, "%s: no column '%s' in the header (seq=COL, value=COL choose others)",
                     path, sc < 0 ? seqcol : valcol);
    goto ERROR;
  }
  if ((status = unique_col(csv, path, seqcol, err)) || (status = unique_col(csv, path, valcol, err))) goto ERROR;
  if (csv->nrows == 0) { status = sl_fail(err, SL_EINPUT, "%s: no rows", path); goto ERROR; }
  t->key = calloc((size_t)csv->nrows, sizeof *t->key);
  t->value = malloc((size_t)csv->nrows * sizeof *t->value);
  t->path = sl_strdup(path);
  if (!t->key || !t->value || !t->path) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
  memcpy(o->symbols, symbols, nsym);
  o->q = (int)nsym;
  o->L = (int64_t)strlen(csv->cell[0][sc]);
  if (o->L < 1) { status = sl_fail(err, SL_EINPUT, "%s line %lld: empty sequence", path, (long long)csv->line[0]); goto ERROR; }
  uint8_t *x = malloc((size_t)o->L);
  if (!x) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
  double best = -INFINITY;
  int64_t best_row = -1;
  for (int64_t r = 0; r < csv->nrows; r++) {
    const char *s = csv->cell[r][sc], *v = csv->cell[r][vc];
    sl_error e2;
    if ((status = sl_design_encode(o, s, x, &e2))) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: %s", path, (long long)csv->line[r], e2.msg);
      break;
    }
    double val = 0;
    const char *why = NULL;
    if (parse_value(v, &val, &why)) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: value '%.40s' in column '%s' %s",
                       path, (long long)csv->line[r], v, valcol, why);
      break;
    }
    if (!(t->key[r] = sl_strdup(s))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
    t->n = r + 1;
    if (val > best) { best = val; best_row = r; }
  }
  free(x);
  if (status) goto ERROR;
  /* Sort keys with their values: sort an index, then permute. */
  {
    char **keys = t->key;
    double *vals = malloc((size_t)t->n * sizeof *vals);
    if (!vals) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
    /* values by original row; after sorting keys we look each up again */
    qsort(keys, (size_t)t->n, sizeof *keys, cmp_str);
    for (int64_t r = 1; r < t->n; r++)
      if (strcmp(keys[r - 1], keys[r]) == 0) {
        status = sl_fail(err, SL_EINPUT, "%s: variant %s appears twice", path, keys[r]);
        free(vals);
        goto ERROR;
      }
    for (int64_t r = 0; r < csv->nrows; r++) {
      const char *key = csv->cell[r][sc];
      char **hit = bsearch(&key, keys, (size_t)t->n, sizeof *keys, cmp_str);
      vals[hit - keys] = strtod(csv->cell[r][vc], NULL);
    }
    free(t->value);
    t->value = vals;
  }
  o->optimum = best;
  if (!(o->optimum_seq = sl_strdup(csv->cell[best_row][sc])) || !(t->buf = malloc((size_t)o->L + 1))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto ERROR;
  }
  {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "oracle", "table");
    cJSON_AddStringToObject(j, "file", path);
    cJSON_AddStringToObject(j, "seq_column", seqcol);
    cJSON_AddStringToObject(j, "value_column", valcol);
    cJSON_AddStringToObject(j, "missing", missing);
    cJSON_AddNumberToObject(j, "variants", (double)t->n);
    o->spec_json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
  }
  sl_csv_destroy(csv);
  *ret_o = o;
  return SL_OK;
ERROR:
  sl_csv_destroy(csv);
  if (o) sl_oracle_destroy(o);
  else table_free(t);
  return status;
}

/* ---- 4. model ------------------------------------------------------------------------ */
typedef struct {
  sl_model *m;
  uint8_t *s;   /* L alphabet codes */
  uint8_t map[64];
} model_impl;

static void model_free(void *p) {
  model_impl *mi = p;
  if (!mi) return;
  sl_model_destroy(mi->m);
  free(mi->s);
  free(mi);
}

static int model_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err) {
  model_impl *mi = o->impl;
  for (int64_t k = 0; k < n; k++) {
    for (int64_t i = 0; i < o->L; i++) mi->s[i] = mi->map[x[k * o->L + i]];
    int st = sl_model_has(mi->m, SL_CAP_NORMALISED) ? sl_model_logp(mi->m, NULL, mi->s, &y[k], err)
                                                    : sl_model_score(mi->m, NULL, mi->s, &y[k], err);
    if (st) return st;
  }
  return SL_OK;
}

static int model_create(const char *path, sl_oracle **ret_o, sl_error *err) {
  sl_model *m = NULL;
  int status = sl_model_read(path, &m, err);
  if (status) return status;
  sl_oracle *o = oracle_new("model");
  model_impl *mi = calloc(1, sizeof *mi);
  if (!o || !mi || !(mi->s = malloc((size_t)m->L)) || !(o->start_seq = malloc((size_t)m->L + 1))) {
    sl_model_destroy(m);
    if (mi) free(mi->s);
    free(mi);
    sl_oracle_destroy(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  mi->m = m;
  o->impl = mi;
  o->destroy_impl = model_free;
  o->measure = model_measure;
  o->L = m->L;
  /* Design symbols: the alphabet without the gap. */
  o->q = m->abc->q - 1;
  memcpy(o->symbols, m->abc->symbols + 1, (size_t)o->q);
  for (int a = 0; a < o->q; a++) mi->map[a] = (uint8_t)(a + 1);
  /* The focus is the natural start if it has no gaps. */
  int gaps = 0;
  for (int64_t i = 0; i < m->L; i++) {
    if (m->focus[i] == 0) gaps = 1;
    o->start_seq[i] = m->abc->symbols[m->focus[i]];
  }
  o->start_seq[m->L] = '\0';
  if (gaps) { free(o->start_seq); o->start_seq = NULL; }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "oracle", "model");
  cJSON_AddStringToObject(j, "file", path);
  cJSON_AddStringToObject(j, "kind", sl_model_name(m));
  cJSON_AddNumberToObject(j, "L", (double)m->L);
  o->spec_json = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  *ret_o = o;
  return SL_OK;
}

/* ---- 5. external ----------------------------------------------------------------------
 * Protocol v2 (docs/design.md, "External programs"): every request carries an
 * id, {"id": 7, "sequences": [...]}; an answer that carries "id" must echo it,
 * and any output outside one answer line per request is an error: a line
 * before its request (checked just before each request is written), bytes
 * after the answer line, an answer for another id. An unsolicited line used
 * to shift every later answer onto the wrong round.
 *
 * Process group: the program runs in its own process group (setpgid in the
 * child and in the parent, so neither order of scheduling leaves a window),
 * and every way of ending it (timeout, EOF, a closed pipe, a garbled answer,
 * the end of the run) kills the whole group, while the leader is still
 * unreaped (waitid WNOWAIT), so the group id cannot have been reused. A
 * `/bin/sh -c` leader used to die alone, leaving its children with parent 1. */
typedef struct {
  pid_t pid;        /* the leader, also the process group id; 0: ended */
  int to_child, from_child;
  double timeout_s;
  char *cmd;
  uint64_t next_id;
  sl_ext_reader rd;
} ext_impl;

/* Wait up to grace_s for the leader to exit on its own, then kill the whole
 * group and reap the leader; why (may be NULL) says how the leader ended. */
static void ext_end(ext_impl *x, double grace_s, char *why, size_t size) {
  if (x->pid <= 0) {
    if (why) snprintf(why, size, "closed its output");
    return;
  }
  int exited = 0;
  for (int i = 0; i <= (int)(grace_s * 100); i++) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)x->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == x->pid) {
      exited = 1;
      break;
    }
    if (i < (int)(grace_s * 100)) {
      struct timespec ts = {0, 10000000};
      nanosleep(&ts, NULL);
    }
  }
  kill(-x->pid, SIGKILL); /* the group: the leader if alive, and whatever it started */
  int st = 0;
  while (waitpid(x->pid, &st, 0) < 0 && errno == EINTR) {}
  x->pid = 0;
  if (!why) return;
  if (!exited) snprintf(why, size, "closed its output (it was killed)");
  else if (WIFEXITED(st)) snprintf(why, size, "exited with status %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) snprintf(why, size, "was killed by signal %d", WTERMSIG(st));
  else snprintf(why, size, "stopped");
}

static void ext_stop(ext_impl *x) {
  if (x->to_child >= 0) close(x->to_child);
  if (x->from_child >= 0) close(x->from_child);
  x->to_child = x->from_child = -1;
  /* Closing stdin asks a well-behaved program to leave; give it a moment. */
  ext_end(x, 0.5, NULL, 0);
}

static void ext_free(void *p) {
  ext_impl *x = p;
  if (!x) return;
  ext_stop(x);
  free(x->cmd);
  sl_ext_reader_free(&x->rd);
  free(x);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sl_ext_reader_free(sl_ext_reader *r) {
  free(r->buf);
  memset(r, 0, sizeof *r);
}

int sl_ext_read_line(sl_ext_reader *r, int fd, double timeout_s, size_t *ret_len) {
  size_t max = r->max_line ? r->max_line : ((size_t)1 << 30);
  double deadline = now_s() + timeout_s;
  r->len = r->scanned = 0;
  *ret_len = 0;
  for (;;) {
    /* Only the bytes not searched before: each byte is examined once. */
    if (r->scanned < r->len) {
      char *nl = memchr(r->buf + r->scanned, '\n', r->len - r->scanned);
      r->examined += (uint64_t)((nl ? (size_t)(nl - r->buf) + 1 : r->len) - r->scanned);
      if (nl) {
        *nl = '\0';
        *ret_len = (size_t)(nl - r->buf);
        r->scanned = *ret_len + 1;
        return SL_EXT_LINE;
      }
      r->scanned = r->len;
    }
    if (r->len > max) return SL_EXT_TOOLONG;
    double left = deadline - now_s();
    if (left <= 0) return SL_EXT_TIMEOUT;
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
    if (pr < 0 && errno != EINTR) return SL_EXT_IOERR;
    if (pr <= 0) continue;
    /* Room for at least 64 KiB more (and the terminating '\0'): doubling
     * keeps the total copying linear in the answer's length. */
    if (r->cap - r->len < 65536 + 1) {
      size_t cap = r->cap ? 2 * r->cap : 131072;
      char *p = realloc(r->buf, cap);
      if (!p) return SL_EXT_NOMEM;
      r->buf = p;
      r->cap = cap;
    }
    ssize_t got = read(fd, r->buf + r->len, r->cap - r->len - 1);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return SL_EXT_IOERR;
    if (got == 0) return SL_EXT_EOF;
    r->len += (size_t)got;
  }
}

/* Up to 60 printable characters of s, for messages. */
static void excerpt(const char *s, size_t n, char *out, size_t size) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 5 < size && i < 60; i++)
    out[k++] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
  if (n > 60 && k + 4 < size) { memcpy(out + k, "...", 3); k += 3; }
  out[k] = '\0';
}

int sl_ext_parse_answer(const char *line, size_t len, size_t trailing, uint64_t id, int64_t n, double *y,
                        char *why, size_t why_size) {
  char ex[80];
  if (trailing) {
    excerpt(line + len + 1, trailing, ex, sizeof ex);
    snprintf(why, why_size, "wrote %zu bytes after its answer ('%s'): the protocol is one line per request", trailing, ex);
    return -1;
  }
  if (memchr(line, '\0', len)) {
    snprintf(why, why_size, "answered a line holding a NUL byte");
    return -1;
  }
  const char *end = NULL;
  cJSON *ans = cJSON_ParseWithLengthOpts(line, len, &end, 0);
  /* Only blanks may follow the JSON object on its line. */
  int junk = 0;
  for (const char *p = end; ans && p && p < line + len; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r') junk = 1;
  cJSON *vals = ans && cJSON_IsObject(ans) ? cJSON_GetObjectItemCaseSensitive(ans, "values") : NULL;
  cJSON *aid = ans && cJSON_IsObject(ans) ? cJSON_GetObjectItemCaseSensitive(ans, "id") : NULL;
  int status = -1;
  excerpt(line, len, ex, sizeof ex);
  if (!ans || junk || !cJSON_IsArray(vals)) {
    snprintf(why, why_size, "expected a line {\"id\": %llu, \"values\": [...]}, got '%s'", (unsigned long long)id, ex);
  } else if (aid && !(cJSON_IsNumber(aid) && aid->valuedouble == (double)id)) {
    char *t = cJSON_PrintUnformatted(aid);
    snprintf(why, why_size, "answered id %.40s to request %llu (a line nobody asked for, or answers out of order)",
             t ? t : "?", (unsigned long long)id);
    free(t);
  } else if (cJSON_GetArraySize(vals) != n) {
    snprintf(why, why_size, "%d values for %lld sequences", cJSON_GetArraySize(vals), (long long)n);
  } else {
    int64_t k = 0;
    cJSON *it;
    status = 0;
    cJSON_ArrayForEach(it, vals) {
      if (cJSON_IsNull(it)) y[k] = NAN;
      else if (cJSON_IsNumber(it) && isfinite(it->valuedouble) && fabs(it->valuedouble) <= SL_DESIGN_MAX_VALUE)
        y[k] = it->valuedouble;
      else {
        snprintf(why, why_size, "value %lld is not a finite number of magnitude at most %g, or null",
                 (long long)(k + 1), SL_DESIGN_MAX_VALUE);
        status = -1;
        break;
      }
      k++;
    }
  }
  cJSON_Delete(ans);
  return status;
}

/* Write all of buf to the child. SIGPIPE is blocked for this thread while
 * writing (a library must not change the process's signal handlers), and a
 * pending SIGPIPE from a dead reader is consumed before unblocking. */
static int ext_write(ext_impl *x, const char *buf, size_t n, sl_error *err) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int status = SL_OK, saved = 0;
  while (n > 0) {
    ssize_t w = write(x->to_child, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      saved = errno;
      break;
    }
    buf += w;
    n -= (size_t)w;
  }
  if (saved == EPIPE) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (saved) {
    char why[128];
    ext_end(x, 0.5, why, sizeof why);
    status = sl_fail(err, SL_EINPUT, "external oracle '%s' %s before reading its request (%s)", x->cmd, why,
                     strerror(saved));
  }
  return status;
}

/* Before a request: nothing may be waiting on the program's output (a line
 * nobody asked for would otherwise be taken as this request's answer). */
static int ext_check_quiet(ext_impl *x, sl_error *err) {
  struct pollfd pfd = {x->from_child, POLLIN, 0};
  if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR))) return SL_OK;
  char buf[64];
  ssize_t got = read(x->from_child, buf, sizeof buf);
  char why[128], ex[80];
  if (got > 0) {
    excerpt(buf, (size_t)got, ex, sizeof ex);
    ext_end(x, 0, NULL, 0);
    return sl_fail(err, SL_EINPUT, "external oracle '%s' wrote output nobody asked for ('%s') before request %llu; "
                   "the protocol is one answer line per request (it was killed)", x->cmd, ex,
                   (unsigned long long)x->next_id);
  }
  if (got < 0 && errno == EINTR) return SL_OK;
  ext_end(x, 0.5, why, sizeof why);
  return sl_fail(err, SL_EINPUT, "external oracle '%s' %s without answering (crash?)", x->cmd, why);
}

static int ext_measure(sl_oracle *o, const uint8_t *xs, int64_t n, double *y, sl_error *err) {
  ext_impl *x = o->impl;
  if (x->pid <= 0) return sl_fail(err, SL_EINPUT, "external oracle '%s' is no longer running", x->cmd);
  int status = ext_check_quiet(x, err);
  if (status) return status;
  uint64_t id = x->next_id++;
  cJSON *req = cJSON_CreateObject(), *arr = NULL;
  char *text = malloc((size_t)o->L + 1), *line = NULL;
  if (req) cJSON_AddNumberToObject(req, "id", (double)id);
  if (req) arr = cJSON_AddArrayToObject(req, "sequences");
  if (!req || !arr || !text) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < n; k++) {
    sl_design_decode(o, xs + k * o->L, text);
    cJSON *s = cJSON_CreateString(text);
    if (!s) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    cJSON_AddItemToArray(arr, s);
  }
  if (!(line = cJSON_PrintUnformatted(req))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  size_t ll = strlen(line);
  if ((status = ext_write(x, line, ll, err)) || (status = ext_write(x, "\n", 1, err))) goto DONE;
  size_t len = 0;
  char why[256];
  int r = sl_ext_read_line(&x->rd, x->from_child, x->timeout_s, &len);
  if (r == SL_EXT_TIMEOUT) {
    ext_end(x, 0, NULL, 0);
    status = sl_fail(err, SL_EINPUT, "external oracle '%s' gave no answer within %g s (hang?); it was killed",
                     x->cmd, x->timeout_s);
  } else if (r == SL_EXT_EOF || r == SL_EXT_IOERR) {
    ext_end(x, 0.5, why, sizeof why);
    status = sl_fail(err, SL_EINPUT, "external oracle '%s' %s without answering (crash?)", x->cmd, why);
  } else if (r == SL_EXT_TOOLONG) {
    ext_end(x, 0, NULL, 0);
    status = sl_fail(err, SL_EINPUT, "external oracle '%s': answer line over 1 GiB (it was killed)", x->cmd);
  } else if (r == SL_EXT_NOMEM) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  } else if (sl_ext_parse_answer(x->rd.buf, len, x->rd.len - len - 1, id, n, y, why, sizeof why)) {
    /* The stream can no longer be trusted to line up with the requests. */
    ext_end(x, 0, NULL, 0);
    status = sl_fail(err, SL_EINPUT, "external oracle '%s': %s", x->cmd, why);
  }
DONE:
  free(line);
  cJSON_Delete(req);
  free(text);
  return status;
}

static int external_create(const char *cmd, double timeout_s, int64_t L, const char *symbols,
                           sl_oracle **ret_o, sl_error *err) {
  if (!*cmd) return sl_fail(err, SL_EUSAGE, "external: expected external:COMMAND");
  if (L < 1) return sl_fail(err, SL_EUSAGE, "external oracle: the sequence length is unknown (give --start)");
  if (!symbols) symbols = SL_DESIGN_PROTEIN;
  if (strlen(symbols) < 2 || strlen(symbols) > 62)
    return sl_fail(err, SL_EUSAGE, "external oracle: symbols '%s': expected 2..62 characters", symbols);
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  sl_oracle *o = oracle_new("external");
  ext_impl *x = calloc(1, sizeof *x);
  cJSON *j = cJSON_CreateObject();
  if (!o || !x || !j || !(x->cmd = sl_strdup(cmd))) {
    if (x) free(x->cmd);
    free(x);
    cJSON_Delete(j);
    sl_oracle_destroy(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  x->to_child = x->from_child = -1;
  x->timeout_s = timeout_s > 0 ? timeout_s : 60;
  x->next_id = 1;
  o->impl = x;
  o->destroy_impl = ext_free;
  o->measure = ext_measure;
  o->L = L;
  o->q = (int)strlen(symbols);
  memcpy(o->symbols, symbols, (size_t)o->q);
  /* The description first: after fork nothing may fail without ending the child. */
  cJSON_AddStringToObject(j, "oracle", "external");
  cJSON_AddStringToObject(j, "command", cmd);
  cJSON_AddNumberToObject(j, "timeout_s", x->timeout_s);
  cJSON_AddStringToObject(j, "symbols", o->symbols);
  cJSON_AddNumberToObject(j, "protocol", 2);
  o->spec_json = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!o->spec_json) {
    sl_oracle_destroy(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
    int st = sl_fail(err, SL_EIO, "external oracle: pipe: %s", strerror(errno));
    for (int k = 0; k < 2; k++) { if (in[k] >= 0) close(in[k]); if (out[k] >= 0) close(out[k]); }
    sl_oracle_destroy(o);
    return st;
  }
  pid_t pid = fork();
  if (pid < 0) {
    int st = sl_fail(err, SL_EIO, "external oracle: fork: %s", strerror(errno));
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
    sl_oracle_destroy(o);
    return st;
  }
  if (pid == 0) {
    /* child: its own process group; stdin from in[0], stdout to out[1];
     * stderr is shared (its messages reach the user). Only
     * async-signal-safe calls here. */
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid); /* also here: whichever runs first, the group exists before any kill */
  close(in[0]);
  close(out[1]);
  x->pid = pid;
  x->to_child = in[1];
  x->from_child = out[0];
  *ret_o = o;
  return SL_OK;
}

/* ---- 6. lab ------------------------------------------------------------------------------
 * Measurements come from outside through `design propose` / `design ingest`;
 * the oracle only names the space and refuses to measure. */
static int lab_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err) {
  return sl_fail(err, SL_EUSAGE, "the lab oracle measures nothing itself: use 'seqloop design propose' "
                 "and 'seqloop design ingest'");
}

static int lab_create(int64_t L, const char *symbols, sl_oracle **ret_o, sl_error *err) {
  if (L < 1) return sl_fail(err, SL_EUSAGE, "lab oracle: the sequence length is unknown (give --start)");
  if (!symbols) symbols = SL_DESIGN_PROTEIN;
  if (strlen(symbols) < 2 || strlen(symbols) > 62)
    return sl_fail(err, SL_EUSAGE, "lab oracle: symbols '%s': expected 2..62 characters", symbols);
  sl_oracle *o = oracle_new("lab");
  if (!o || !(o->spec_json = sl_strdup("{\"oracle\":\"lab\"}"))) {
    sl_oracle_destroy(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  o->L = L;
  o->q = (int)strlen(symbols);
  memcpy(o->symbols, symbols, (size_t)o->q);
  o->measure = lab_measure;
  *ret_o = o;
  return SL_OK;
}

int sl_design_results_read(const char *path, const sl_oracle *o, char ***ret_seqs, double **ret_values,
                           int64_t *ret_n, sl_error *err) {
  return sl_design_results_read_rep(path, o, 1, ret_seqs, ret_values, ret_n, err);
}

int sl_design_results_read_rep(const char *path, const sl_oracle *o, int max_rep, char ***ret_seqs,
                               double **ret_values, int64_t *ret_n, sl_error *err) {
  sl_csv *csv = NULL;
  *ret_seqs = NULL;
  *ret_values = NULL;
  *ret_n = 0;
  int status = sl_csv_read(path, &csv, err);
  if (status) return status;
  int sc = sl_csv_col(csv, "sequence"), vc = sl_csv_col(csv, "value");
  char **seqs = NULL;
  double *vals = NULL;
  uint8_t *x = malloc((size_t)o->L + 1);
  if (sc < 0 || vc < 0) {
    status = sl_fail(err, SL_EINPUT, "%s: expected columns 'sequence' and 'value' in the header (no '%s')",
                     path, sc < 0 ? "sequence" : "value");
    goto DONE;
  }
  if ((status = unique_col(csv, path, "sequence", err)) || (status = unique_col(csv, path, "value", err))) goto DONE;
  if (csv->nrows == 0) { status = sl_fail(err, SL_EINPUT, "%s: no results in the file", path); goto DONE; }
  seqs = calloc((size_t)csv->nrows, sizeof *seqs);
  vals = malloc((size_t)csv->nrows * sizeof *vals);
  if (!seqs || !vals || !x) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t r = 0; r < csv->nrows; r++) {
    const char *s = csv->cell[r][sc], *v = csv->cell[r][vc];
    sl_error e2;
    if (sl_design_encode(o, s, x, &e2)) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: %s", path, (long long)csv->line[r], e2.msg);
      goto DONE;
    }
    double val = 0;
    const char *why = NULL;
    if (parse_value(v, &val, &why)) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: value '%.40s' %s", path, (long long)csv->line[r], v, why);
      goto DONE;
    }
    int64_t seen = 0, first = -1;
    for (int64_t j = 0; j < r; j++)
      if (strcmp(seqs[j], s) == 0 && seen++ == 0) first = j;
    if (seen >= (max_rep > 1 ? max_rep : 1)) {
      if (max_rep > 1)
        status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence %.80s has more than %d rows (first on line %lld; "
                         "the campaign takes --replicates %d)", path, (long long)csv->line[r], s, max_rep,
                         (long long)csv->line[first], max_rep);
      else
        status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence %.80s is repeated (first on line %lld; a campaign "
                         "created with --replicates R takes up to R rows of a sequence)", path,
                         (long long)csv->line[r], s, (long long)csv->line[first]);
      goto DONE;
    }
    if (!(seqs[r] = sl_strdup(s))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    vals[r] = val;
  }
  *ret_n = csv->nrows;
  *ret_seqs = seqs;
  *ret_values = vals;
  seqs = NULL;
  vals = NULL;
DONE:
  if (seqs) for (int64_t r = 0; r < csv->nrows; r++) free(seqs[r]);
  free(seqs);
  free(vals);
  free(x);
  sl_csv_destroy(csv);
  return status;
}

/* ---- 7. callback -------------------------------------------------------------------------
 * A function of the calling program measures: bindings (Python's
 * seqloop.design) register a C function pointer under a name, and the spec
 * "callback:NAME" finds it, so a campaign's stored options name the oracle
 * as they name an external command, and a resumed campaign needs the same
 * name registered again. The loop stays in C and calls back once per batch
 * with the sequences as text; the callback fills y (NAN: not measurable) or
 * returns a status with err filled, which fails the round (its transaction
 * is rolled back). The registry is small and process-wide, guarded by a mutex. */
#include <pthread.h>

enum { CALLBACK_MAX = 16 };
static struct {
  char name[64];
  sl_oracle_callback_fn fn;
  void *ctx;
} callbacks[CALLBACK_MAX];
static pthread_mutex_t callbacks_lock = PTHREAD_MUTEX_INITIALIZER;

int sl_oracle_callback_register(const char *name, sl_oracle_callback_fn fn, void *ctx, sl_error *err) {
  if (!name || !*name || strlen(name) >= sizeof callbacks[0].name || strpbrk(name, ",:"))
    return sl_fail(err, SL_EUSAGE, "callback oracle: name '%s': expected 1..63 characters without ',' or ':'",
                   name ? name : "");
  int status = SL_OK, k, free_k = -1;
  pthread_mutex_lock(&callbacks_lock);
  for (k = 0; k < CALLBACK_MAX; k++) {
    if (callbacks[k].fn && strcmp(callbacks[k].name, name) == 0) break;
    if (!callbacks[k].fn && free_k < 0) free_k = k;
  }
  if (k == CALLBACK_MAX) k = fn ? free_k : -1;
  if (k < 0 && fn) status = sl_fail(err, SL_ENOMEM, "callback oracle: more than %d registered", CALLBACK_MAX);
  else if (k >= 0) {
    snprintf(callbacks[k].name, sizeof callbacks[k].name, "%s", name);
    callbacks[k].fn = fn; /* NULL: unregistered */
    callbacks[k].ctx = ctx;
  }
  pthread_mutex_unlock(&callbacks_lock);
  return status;
}

typedef struct {
  sl_oracle_callback_fn fn;
  void *ctx;
} callback_impl;

static int callback_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err) {
  callback_impl *c = o->impl;
  char **seqs = calloc((size_t)n + 1, sizeof *seqs);
  char *text = malloc((size_t)n * (size_t)(o->L + 1) + 1);
  int status = SL_OK;
  if (!seqs || !text) status = sl_fail(err, SL_ENOMEM, "out of memory");
  for (int64_t k = 0; k < n && !status; k++) {
    seqs[k] = text + k * (o->L + 1);
    sl_design_decode(o, x + k * o->L, seqs[k]);
  }
  if (!status) {
    for (int64_t k = 0; k < n; k++) y[k] = NAN;
    sl_error_clear(err);
    if ((status = c->fn(c->ctx, (const char *const *)seqs, n, y, err)) && !err->msg[0])
      sl_fail(err, status, "callback oracle '%s' failed", o->name);
    for (int64_t k = 0; k < n && !status; k++)
      if (isinf(y[k]) || fabs(y[k]) > SL_DESIGN_MAX_VALUE)
        status = sl_fail(err, SL_EINPUT, "callback oracle: value %lld of %lld is %s", (long long)k + 1, (long long)n,
                         isinf(y[k]) ? "infinite" : "larger in magnitude than 1e100, the bound on measurements");
  }
  free(seqs);
  free(text);
  return status;
}

static int callback_create(const char *name, int64_t L, const char *symbols, sl_oracle **ret_o, sl_error *err) {
  callback_impl c = {NULL, NULL};
  pthread_mutex_lock(&callbacks_lock);
  for (int k = 0; k < CALLBACK_MAX; k++)
    if (callbacks[k].fn && strcmp(callbacks[k].name, name) == 0) c = (callback_impl){callbacks[k].fn, callbacks[k].ctx};
  pthread_mutex_unlock(&callbacks_lock);
  if (!c.fn) return sl_fail(err, SL_EUSAGE, "callback oracle '%s' is not registered in this program", name);
  if (L < 1) return sl_fail(err, SL_EUSAGE, "callback oracle: the sequence length is unknown (give the start sequence)");
  if (!symbols) symbols = SL_DESIGN_PROTEIN;
  if (strlen(symbols) < 2 || strlen(symbols) > 62)
    return sl_fail(err, SL_EUSAGE, "callback oracle: symbols '%s': expected 2..62 characters", symbols);
  sl_oracle *o = oracle_new("callback");
  callback_impl *impl = malloc(sizeof *impl);
  cJSON *j = cJSON_CreateObject();
  if (o && impl && j) {
    cJSON_AddStringToObject(j, "oracle", "callback");
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddStringToObject(j, "symbols", symbols);
    o->spec_json = cJSON_PrintUnformatted(j);
  }
  cJSON_Delete(j);
  if (!o || !impl || !o->spec_json) {
    free(impl);
    sl_oracle_destroy(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  *impl = c;
  o->impl = impl;
  o->destroy_impl = free;
  o->L = L;
  o->q = (int)strlen(symbols);
  memcpy(o->symbols, symbols, (size_t)o->q);
  o->measure = callback_measure;
  *ret_o = o;
  return SL_OK;
}

int sl_oracle_create(const char *spec, double timeout_s, int64_t L, const char *symbols, sl_oracle **ret_o,
                     sl_error *err) {
  *ret_o = NULL;
  if (strncmp(spec, "ehrlich", 7) == 0 && (spec[7] == '\0' || spec[7] == ':'))
    return ehrlich_create(spec[7] ? spec + 8 : "", ret_o, err);
  if (strncmp(spec, "table:", 6) == 0) return table_create(spec + 6, ret_o, err);
  if (strncmp(spec, "model:", 6) == 0) return model_create(spec + 6, ret_o, err);
  if (strcmp(spec, "lab") == 0) return lab_create(L, symbols, ret_o, err);
  if (strncmp(spec, "external:", 9) == 0) return external_create(spec + 9, timeout_s, L, symbols, ret_o, err);
  if (strncmp(spec, "callback:", 9) == 0) return callback_create(spec + 9, L, symbols, ret_o, err);
  return sl_fail(err, SL_EUSAGE, "oracle '%s': expected ehrlich:..., table:FILE, model:FILE or external:COMMAND", spec);
}
