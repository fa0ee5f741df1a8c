/* common.c: what the subcommands share: the choices of the shared option
 * groups (cli.h), loading with an ingestion summary, and provenance.
 *
 * Provenance travels beside each output as a JSON sidecar, OUT.prov.json
 * (cli_prov_write), not as '#' lines inside it: CSV outputs then read in
 * pandas and R with no options. Output on stdout gets no sidecar unless
 * --provenance FILE names one. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "cli.h"

const cli_choice cli_format_choices[] = {{"auto", SL_FMT_AUTO}, {"fasta", SL_FMT_FASTA},
  {"a2m", SL_FMT_A2M}, {"a3m", SL_FMT_A3M}, {"stockholm", SL_FMT_STOCKHOLM}, {"afa", SL_FMT_FASTA},
  {"sto", SL_FMT_STOCKHOLM}, {NULL, 0}};
const cli_choice cli_alphabet_choices[] = {{"auto", SL_ABC_AUTO}, {"protein", SL_ABC_PROTEIN},
  {"dna", SL_ABC_DNA}, {"rna", SL_ABC_RNA}, {"amino", SL_ABC_PROTEIN}, {NULL, 0}};
const cli_choice cli_nonstd_choices[] = {{"drop", SL_NONSTD_DROP}, {"gap", SL_NONSTD_GAP}, {NULL, 0}};
const cli_choice cli_convention_choices[] = {{"plmc", SL_WEIGHTS_PLMC}, {"eve", SL_WEIGHTS_EVE},
  {"proteingym", SL_WEIGHTS_EVE}, {NULL, 0}};
const cli_choice cli_kernel_choices[] = {{"auto", SL_KERN_AUTO}, {"plain", SL_KERN_PLAIN},
  {"avx2", SL_KERN_AVX2}, {"avx512", SL_KERN_AVX512}, {NULL, 0}};

void cli_common_init(cli_common *c, const char *cmd, int argc, char **argv) {
  memset(c, 0, sizeof *c);
  c->cmd = cmd;
  sl_msa_opts_init(&c->msa);
  sl_weights_opts_init(&c->w);
  c->w.threads = sl_threads_default();
  c->out = "-";
  c->argc = argc;
  c->argv = argv;
}

int cli_common_parse(cli_common *c, const cli_cmdinfo *info, cli_opt *opts, int *ret_optind) {
  c->info = info;
  c->opts = opts;
  return cli_parse(info, opts, c->argc, c->argv, ret_optind);
}

void cli_input(cli_common *c, const char *role, const char *path) {
  if (!path || c->n_in >= (int)(sizeof c->in / sizeof *c->in)) return;
  for (int k = 0; k < c->n_in; k++)
    if (strcmp(c->in[k].path, path) == 0 && strcmp(c->in[k].role, role) == 0) return;
  c->in[c->n_in].role = role;
  c->in[c->n_in].path = path;
  c->in[c->n_in].sha256[0] = 0;
  c->n_in++;
}

/* SHA-256 of a file's bytes (as stored: a gzip file hashes compressed);
 * 0 ok, -1 unreadable. stdin ("-") cannot be read twice: -1. */
static int file_sha256(const char *path, char hex[SL_SHA256_HEX]) {
  if (strcmp(path, "-") == 0) return -1;
  return sl_sha256_file(path, hex);
}

cJSON *cli_prov_json(const cli_common *c, const char *out, const cJSON *extra) {
  cJSON *p = cJSON_CreateObject();
  char buf[512], hex[SL_SHA256_HEX];
  cJSON_AddStringToObject(p, "program", "seqloop");
  cJSON_AddStringToObject(p, "version", SL_VERSION);
  cJSON_AddStringToObject(p, "command", c->cmd);
  cJSON *args = cJSON_AddArrayToObject(p, "argv");
  cJSON_AddItemToArray(args, cJSON_CreateString("seqloop"));
  for (int k = 0; k < c->argc; k++) cJSON_AddItemToArray(args, cJSON_CreateString(c->argv[k]));
  if (out) cJSON_AddStringToObject(p, "output", out);
  cJSON *ins = cJSON_AddArrayToObject(p, "inputs");
  for (int k = 0; k < c->n_in; k++) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "role", c->in[k].role);
    cJSON_AddStringToObject(j, "path", c->in[k].path);
    if (c->in[k].sha256[0]) cJSON_AddStringToObject(j, "sha256", c->in[k].sha256);
    else if (file_sha256(c->in[k].path, hex) == 0) cJSON_AddStringToObject(j, "sha256", hex);
    else cJSON_AddNullToObject(j, "sha256");
    cJSON_AddItemToArray(ins, j);
  }
  cJSON *opts = cJSON_AddObjectToObject(p, "options");
  for (const cli_opt *o = c->opts; o && o->name; o++) {
    if (!o->target) continue; /* -h, --version */
    switch (o->type) {
      case CLI_T_FLAG: cJSON_AddBoolToObject(opts, o->name, *(const int *)o->target != 0); break;
      case CLI_T_COUNT:
      case CLI_T_INT: cJSON_AddNumberToObject(opts, o->name, *(const int *)o->target); break;
      case CLI_T_INT64: cJSON_AddNumberToObject(opts, o->name, (double)*(const int64_t *)o->target); break;
      case CLI_T_UINT64: /* seeds: as text, exactly */
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)*(const uint64_t *)o->target);
        cJSON_AddStringToObject(opts, o->name, buf);
        break;
      case CLI_T_DOUBLE: {
        double v = *(const double *)o->target;
        if (isnan(v)) cJSON_AddNullToObject(opts, o->name);
        else cJSON_AddNumberToObject(opts, o->name, v);
        break;
      }
      case CLI_T_LIST: {
        const cli_list *l = o->target;
        cJSON *a = cJSON_AddArrayToObject(opts, o->name);
        for (int k = 0; k < l->n; k++) cJSON_AddItemToArray(a, cJSON_CreateString(l->v[k]));
        break;
      }
      case CLI_T_FUNC: /* custom targets: the arguments as given are in argv */
        break;
      default:
        cli_opt_value(o, buf, sizeof buf);
        if (buf[0] || o->type == CLI_T_CHOICE) cJSON_AddStringToObject(opts, o->name, buf);
        else cJSON_AddNullToObject(opts, o->name);
    }
  }
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  cJSON_AddStringToObject(p, "created_utc", buf);
  if (extra) cJSON_AddItemToObject(p, "extra", cJSON_Duplicate(extra, 1));
  return p;
}

/* An output that is not a regular file (/dev/null, /dev/stdout, a fifo, a
 * symbolic link) gets no sidecar beside it unless --provenance names one:
 * "beside" would be /dev, or beside a link. */
static int is_special(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

char *cli_prov_path(const cli_common *c, const char *out) {
  if (c->prov) return sl_strdup(c->prov);
  size_t n = strlen(out) + 16;
  char *path = malloc(n);
  if (path) snprintf(path, n, "%s.prov.json", out);
  return path;
}

static int prov_write(const cli_common *c, const char *out, const cJSON *extra, sl_error *err) {
  if (!c->prov && (!out || strcmp(out, "-") == 0 || is_special(out))) return SL_OK;
  char *path = cli_prov_path(c, out);
  if (!path) return sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON *p = cli_prov_json(c, out, extra);
  int status = p ? cli_write_json(path, p, err) : sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON_Delete(p);
  free(path);
  return status;
}

/* A committed output whose sidecar failed is removed: the command exits
 * with an error, and an error leaves no output (an output without its
 * provenance looked complete). Only regular files: never /dev/null, a fifo
 * or what a symbolic link points to. */
static void remove_output(const char *path) {
  struct stat st;
  if (path && strcmp(path, "-") != 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode)) unlink(path);
}

int cli_prov_write(const cli_common *c, const char *out, const cJSON *extra, sl_error *err) {
  int status = prov_write(c, out, extra, err);
  if (status) remove_output(out);
  return status;
}

int cli_prov_write_files(const cli_common *c, const char *out, const cJSON *extra, const char *const *files, int n,
                         sl_error *err) {
  int status = prov_write(c, out, extra, err);
  for (int k = 0; status && k < n; k++) remove_output(files[k]);
  return status;
}

int cli_error(const cli_common *c, int status, const sl_error *err) {
  fprintf(stderr, "seqloop %s: error: %s\n", c->cmd, err->msg[0] ? err->msg : sl_status_name(status));
  return sl_exit_code(status);
}

static void summary(const cli_common *c, const sl_msa *m) {
  const sl_ingest_report *r = &m->rep;
  fprintf(stderr, "seqloop %s: %s: %s layout, %s alphabet, %lld records, %lld columns\n", c->cmd,
          m->path, r->layout, m->abc->name, (long long)r->n_records, (long long)r->cols_in);
  fprintf(stderr, "seqloop %s: rows: kept %lld of %lld (%lld with nonstandard characters, %lld "
          "below coverage)\n", c->cmd, (long long)r->n_kept, (long long)r->n_records,
          (long long)r->n_nonstd, (long long)r->n_lowcov);
  if (r->n_nonstd) fprintf(stderr, "seqloop %s:   first dropped: %s\n", c->cmd, r->first_nonstd);
  if (r->n_nonstd_as_gap)
    fprintf(stderr, "seqloop %s:   %lld nonstandard characters read as gaps\n", c->cmd,
            (long long)r->n_nonstd_as_gap);
  fprintf(stderr, "seqloop %s: columns: kept %lld of %lld (%lld insert, %lld focus gap, %lld over "
          "max gap fraction)\n", c->cmd, (long long)r->cols_kept, (long long)r->cols_in,
          (long long)r->cols_insert, (long long)r->cols_focus_gap, (long long)r->cols_gappy);
  if (m->focus >= 0)
    fprintf(stderr, "seqloop %s: focus: %s, residues numbered from %lld\n", c->cmd,
            m->name[m->focus], (long long)m->focus_start);
  if (r->n_empty_names)
    fprintf(stderr, "seqloop %s: %lld rows without a name were named row<k> (k = record number)\n",
            c->cmd, (long long)r->n_empty_names);
}

sl_progress *cli_progress(const cli_common *c, const char *step, const char *unit) {
  if (c->quiet || !isatty(2)) return NULL;
  char label[96];
  snprintf(label, sizeof label, "seqloop %s: %s", c->cmd, step);
  return sl_progress_create(stderr, label, unit);
}

/* Warnings are not part of the summary: -q silences the summary, never a
 * warning (a focus prefix that matches 261 records was taken silently). */
static void warnings(const cli_common *c, const sl_msa *m) {
  const sl_ingest_report *r = &m->rep;
  if (r->numbering_note[0]) fprintf(stderr, "seqloop %s: warning: %s\n", c->cmd, r->numbering_note);
  if (r->focus_note[0]) fprintf(stderr, "seqloop %s: warning: %s\n", c->cmd, r->focus_note);
}

int cli_load(cli_common *c, const char *path, sl_msa **ret_msa, double **ret_w, double *ret_neff,
             sl_error *err) {
  sl_msa *m = NULL;
  double *w = NULL;
  int status;
  *ret_msa = NULL;
  *ret_w = NULL;
  if ((status = sl_msa_read(path, &c->msa, &m, err))) return status;
  if (c->weights_in) cli_input(c, "weights", c->weights_in);
  /* the content as read (decompressed; stdin included), as model files record it */
  cli_input(c, "alignment", path);
  for (int k = 0; k < c->n_in; k++)
    if (strcmp(c->in[k].path, path) == 0) memcpy(c->in[k].sha256, m->sha256, SL_SHA256_HEX);
  if (!c->quiet) summary(c, m);
  warnings(c, m);
  w = malloc((size_t)m->N * sizeof *w);
  if (!w) { sl_msa_destroy(m); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  if (c->weights_in) status = sl_weights_read(c->weights_in, m, w, ret_neff, err);
  else {
    c->w.progress = cli_progress(c, "weights", "row pairs");
    status = sl_weights_compute(m, &c->w, w, ret_neff, err);
    sl_progress_destroy(c->w.progress);
    c->w.progress = NULL;
  }
  if (status) { free(w); sl_msa_destroy(m); return status; }
  if (!c->quiet)
    fprintf(stderr, "seqloop %s: weights: %s, Neff = %.1f (%lld x %lld)\n", c->cmd,
            c->weights_in ? c->weights_in : sl_weights_convention_name(c->w.convention), *ret_neff,
            (long long)m->N, (long long)m->L);
  *ret_msa = m;
  *ret_w = w;
  return SL_OK;
}

static void options_line(const cli_common *c, char *buf, size_t n) {
  snprintf(buf, n, "format=%s alphabet=%s focus=%s focus_first=%d max_gap_frac=%g "
           "min_coverage=%g nonstandard=%s convention=%s theta=%g weights_in=%s",
           sl_format_name(c->msa.format), c->msa.alphabet ? sl_alphabet_get(c->msa.alphabet)->name : "auto",
           c->msa.focus ? c->msa.focus : "-", c->msa.focus_first, c->msa.max_gap_frac,
           c->msa.min_coverage, c->msa.nonstd == SL_NONSTD_GAP ? "gap" : "drop",
           sl_weights_convention_name(c->w.convention), c->w.theta,
           c->weights_in ? c->weights_in : "-");
}

cJSON *cli_json_provenance(const cli_common *c, const sl_msa *msa) {
  cJSON *p = cJSON_CreateObject();
  char opts[1024];
  cJSON_AddStringToObject(p, "program", "seqloop");
  cJSON_AddStringToObject(p, "version", SL_VERSION);
  cJSON_AddStringToObject(p, "command", c->cmd);
  cJSON *args = cJSON_AddArrayToObject(p, "argv");
  for (int k = 0; k < c->argc; k++) cJSON_AddItemToArray(args, cJSON_CreateString(c->argv[k]));
  cJSON_AddStringToObject(p, "input", msa->path);
  cJSON_AddStringToObject(p, "input_sha256", msa->sha256);
  options_line(c, opts, sizeof opts);
  cJSON_AddStringToObject(p, "options", opts);
  return p;
}

cJSON *cli_json_ingest(const sl_msa *m) {
  const sl_ingest_report *r = &m->rep;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "layout", r->layout);
  cJSON_AddStringToObject(j, "alphabet", m->abc->name);
  cJSON_AddNumberToObject(j, "records", (double)r->n_records);
  cJSON_AddNumberToObject(j, "rows_kept", (double)r->n_kept);
  cJSON_AddNumberToObject(j, "rows_dropped_nonstandard", (double)r->n_nonstd);
  cJSON_AddNumberToObject(j, "rows_dropped_coverage", (double)r->n_lowcov);
  cJSON_AddNumberToObject(j, "nonstandard_read_as_gap", (double)r->n_nonstd_as_gap);
  cJSON_AddStringToObject(j, "first_dropped", r->first_nonstd);
  cJSON_AddNumberToObject(j, "columns_in", (double)r->cols_in);
  cJSON_AddNumberToObject(j, "columns_kept", (double)r->cols_kept);
  cJSON_AddNumberToObject(j, "columns_dropped_insert", (double)r->cols_insert);
  cJSON_AddNumberToObject(j, "columns_dropped_focus_gap", (double)r->cols_focus_gap);
  cJSON_AddNumberToObject(j, "columns_dropped_gappy", (double)r->cols_gappy);
  cJSON_AddNumberToObject(j, "a3m_insert_characters", (double)r->a3m_inserts);
  cJSON_AddNumberToObject(j, "empty_names", (double)r->n_empty_names);
  if (m->focus >= 0) {
    cJSON_AddStringToObject(j, "focus", m->name[m->focus]);
    cJSON_AddNumberToObject(j, "focus_start", (double)m->focus_start);
  } else {
    cJSON_AddNullToObject(j, "focus");
  }
  cJSON_AddStringToObject(j, "numbering_note", r->numbering_note);
  cJSON_AddStringToObject(j, "focus_note", r->focus_note);
  return j;
}

int cli_read_any_model(const char *cmd, const char *path, sl_model **ret_m, sl_error *err) {
  char magic[8] = {0};
  FILE *fp = fopen(path, "rb");
  if (!fp) return sl_fail(err, SL_EIO, "cannot open %s", path);
  size_t got = fread(magic, 1, 8, fp);
  fclose(fp);
  if (got == 8 && memcmp(magic, "SEQLOOP", 8) == 0) return sl_model_read(path, ret_m, err);
  int status = sl_model_read_plmc(path, ret_m, err);
  if (status) return status;
  const sl_model *m = *ret_m;
  int64_t holes = 0, first = -1;
  for (int64_t i = 1; i < m->L; i++)
    if (m->pos[i] != m->pos[i - 1] + 1) {
      holes++;
      if (first < 0) first = i;
    }
  if (holes)
    fprintf(stderr, "seqloop %s: warning: %s numbers its %lld columns %lld..%lld with %lld gap(s) "
            "(first after %lld): if plmc wrote it, those numbers are alignment columns, not residue "
            "numbers of the focus, from that point on; check mutant positions (docs/formats.md, "
            "Numbering)\n", cmd, path, (long long)m->L, (long long)m->pos[0],
            (long long)m->pos[m->L - 1], (long long)holes, (long long)m->pos[first - 1]);
  return SL_OK;
}

int cli_write_text(const char *path, const char *text, sl_error *err) {
  sl_outfile *of = NULL;
  int status = sl_outfile_open(path, &of, err);
  if (status) return status;
  fputs(text, sl_outfile_fp(of));
  return sl_outfile_commit(of, err);
}

int cli_write_json(const char *path, const cJSON *json, sl_error *err) {
  char *s = cJSON_Print(json);
  if (!s) return sl_fail(err, SL_ENOMEM, "out of memory writing JSON");
  size_t n = strlen(s);
  char *t = malloc(n + 2);
  if (!t) { cJSON_free(s); return sl_fail(err, SL_ENOMEM, "out of memory writing JSON"); }
  memcpy(t, s, n);
  t[n] = '\n';
  t[n + 1] = 0;
  cJSON_free(s);
  int status = cli_write_text(path, t, err);
  free(t);
  return status;
}

int cli_prov_exit(const cli_common *c, const char *out) {
  sl_error err;
  sl_error_clear(&err);
  int status = cli_prov_write(c, out, NULL, &err);
  return status ? cli_error(c, status, &err) : 0;
}
