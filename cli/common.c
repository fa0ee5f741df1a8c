/* common.c: options, loading and provenance shared by the subcommands. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char *cli_common_help =
  "input:\n"
  "  --format FMT            auto|fasta|a2m|a3m|stockholm (default auto: by content)\n"
  "  --alphabet ABC          auto|protein|dna|rna (default auto)\n"
  "  -f, --focus NAME        focus sequence: keep its uppercase columns, number by NAME/start-end\n"
  "  --focus-first           the first row is the focus\n"
  "  --max-gap-frac X        drop columns with gap fraction > X (default 1: keep all)\n"
  "  --min-coverage X        drop rows with non-gap fraction < X (default 0: keep all)\n"
  "  --nonstandard P         drop|gap: rows with X B Z U O J * are dropped (default) or read as gaps\n"
  "  --allow-duplicate-names accept repeated sequence names\n"
  "weights:\n"
  "  --theta X               neighbour if identity above 1-X (default 0.2; outside [0,1]: no weights)\n"
  "  --convention C          plmc|eve (default plmc; eve = EVE/DeepSequence/ProteinGym)\n"
  "  --weights-in FILE       read weights (seqloop or plmc format) instead of computing them\n"
  "  -t, --threads N         threads (default: OMP_NUM_THREADS, else all cores)\n"
  "  --kernel K              auto|plain|avx2|avx512 identity kernel (default auto)\n"
  "output:\n"
  "  -o, --output FILE       output file, written atomically (default '-': stdout)\n"
  "  --json                  machine-readable JSON instead of text\n"
  "  -q, --quiet             no summary on stderr\n"
  "  -h, --help              this help\n";

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

static int bad(const cli_common *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "seqloop %s: ", c->cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return -1;
}

static int parse_double(const char *s, double *ret) {
  char *e = NULL;
  errno = 0;
  double v = strtod(s, &e);
  if (e == s || *e || errno || !isfinite(v)) return -1;
  *ret = v;
  return 0;
}

int cli_common_opt(cli_common *c, int opt, const char *arg) {
  switch (opt) {
    case OPT_FORMAT:
      if ((c->msa.format = sl_format_parse(arg)) < 0)
        return bad(c, "--format: expected auto, fasta, a2m, a3m or stockholm, not '%s'", arg);
      return 1;
    case OPT_ALPHABET:
      if ((c->msa.alphabet = sl_alphabet_parse(arg)) < 0)
        return bad(c, "--alphabet: expected auto, protein, dna or rna, not '%s'", arg);
      return 1;
    case 'f':
      if (!*arg) return bad(c, "--focus: expected a sequence name, not an empty string");
      c->msa.focus = arg;
      return 1;
    case OPT_FOCUS_FIRST: c->msa.focus_first = 1; return 1;
    case OPT_MAX_GAP:
      if (parse_double(arg, &c->msa.max_gap_frac) || c->msa.max_gap_frac < 0 || c->msa.max_gap_frac > 1)
        return bad(c, "--max-gap-frac: expected a number in [0, 1], not '%s'", arg);
      return 1;
    case OPT_MIN_COV:
      if (parse_double(arg, &c->msa.min_coverage) || c->msa.min_coverage < 0 || c->msa.min_coverage > 1)
        return bad(c, "--min-coverage: expected a number in [0, 1], not '%s'", arg);
      return 1;
    case OPT_NONSTD:
      if (strcmp(arg, "drop") == 0) c->msa.nonstd = SL_NONSTD_DROP;
      else if (strcmp(arg, "gap") == 0) c->msa.nonstd = SL_NONSTD_GAP;
      else return bad(c, "--nonstandard: expected drop or gap, not '%s'", arg);
      return 1;
    case OPT_DUPNAMES: c->msa.allow_dup_names = 1; return 1;
    case OPT_THETA:
      if (parse_double(arg, &c->w.theta)) return bad(c, "--theta: expected a number, not '%s'", arg);
      return 1;
    case OPT_CONVENTION:
      if ((c->w.convention = sl_weights_convention_parse(arg)) < 0)
        return bad(c, "--convention: expected plmc or eve, not '%s'", arg);
      return 1;
    case OPT_WEIGHTS_IN: c->weights_in = arg; return 1;
    case OPT_KERNEL:
      if (strcmp(arg, "auto") == 0) c->w.kernel = SL_KERN_AUTO;
      else if (strcmp(arg, "plain") == 0) c->w.kernel = SL_KERN_PLAIN;
      else if (strcmp(arg, "avx2") == 0) c->w.kernel = SL_KERN_AVX2;
      else if (strcmp(arg, "avx512") == 0) c->w.kernel = SL_KERN_AVX512;
      else return bad(c, "--kernel: expected auto, plain, avx2 or avx512, not '%s'", arg);
      return 1;
    case 't': {
      char *e = NULL;
      long v = strtol(arg, &e, 10);
      if (e == arg || *e || v < 1 || v > 4096) return bad(c, "--threads: expected a count >= 1, not '%s'", arg);
      c->w.threads = (int)v;
      return 1;
    }
    case 'o': c->out = arg; return 1;
    case OPT_JSON: c->json = 1; return 1;
    case 'q': c->quiet = 1; return 1;
    case 'v': c->verbose++; return 1;
    default: return 0;
  }
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
  if (r->numbering_note[0]) fprintf(stderr, "seqloop %s: warning: %s\n", c->cmd, r->numbering_note);
  if (r->focus_note[0]) fprintf(stderr, "seqloop %s: warning: %s\n", c->cmd, r->focus_note);
  if (r->n_empty_names)
    fprintf(stderr, "seqloop %s: %lld rows without a name were named row<k> (k = record number)\n",
            c->cmd, (long long)r->n_empty_names);
}

int cli_load(cli_common *c, const char *path, sl_msa **ret_msa, double **ret_w, double *ret_neff,
             sl_error *err) {
  sl_msa *m = NULL;
  double *w = NULL;
  int status;
  *ret_msa = NULL;
  *ret_w = NULL;
  if ((status = sl_msa_read(path, &c->msa, &m, err))) return status;
  if (!c->quiet) summary(c, m);
  w = malloc((size_t)m->N * sizeof *w);
  if (!w) { sl_msa_destroy(m); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  if (c->weights_in) status = sl_weights_read(c->weights_in, m, w, ret_neff, err);
  else status = sl_weights_compute(m, &c->w, w, ret_neff, err);
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

char *cli_provenance(const cli_common *c, const sl_msa *msa) {
  size_t n = 4096;
  for (int k = 0; k < c->argc; k++) n += strlen(c->argv[k]) + 1;
  char *buf = malloc(n), opts[1024];
  if (!buf) return NULL;
  options_line(c, opts, sizeof opts);
  size_t off = (size_t)snprintf(buf, n, "# seqloop %s %s\n# command: seqloop", SL_VERSION, c->cmd);
  for (int k = 0; k < c->argc && off < n; k++) off += (size_t)snprintf(buf + off, n - off, " %s", c->argv[k]);
  snprintf(buf + off, n - off, "\n# input: %s sha256=%s\n# options: %s\n", msa->path, msa->sha256, opts);
  return buf;
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
