/* report.c: the HTML report and its JSON twin (seqloop/report.h).
 *
 * Each section keeps its HTML fragment (tables and inline SVG, svg.h) and
 * a cJSON object of the same numbers; sl_report_html() wraps the fragments
 * in one page with an inline style sheet and a Content-Security-Policy that
 * forbids every load, and sl_report_json() prints the objects. Nothing
 * here reads a clock, a host name or a random generator: the page is a
 * function of the data. Numbers in tables use "%.4g", coordinates "%.2f".
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "seqloop/metrics.h"
#include "seqloop/report.h"
#include "seqloop/sample.h"
#include "seqloop/samplestats.h"
#include "seqloop/score.h"

#include "svg.h"

struct sl_report {
  char *title;
  cJSON *sources;                       /* [{role, path}] */
  sl_sb html[SL_REPORT_NSECTIONS];      /* one fragment per section (empty: absent) */
  cJSON *data[SL_REPORT_NSECTIONS];
};

static const char *section_names[SL_REPORT_NSECTIONS] = {"alignment", "model", "contacts", "variants",
                                                         "samples", "design", "cycle"};
static const char *section_titles[SL_REPORT_NSECTIONS] = {
  "Alignment", "Model", "Contacts", "Variant effects", "Samples", "Design campaign", "Perpetual-motion cycle"};

const char *sl_report_section_name(int s) {
  return s >= 0 && s < SL_REPORT_NSECTIONS ? section_names[s] : NULL;
}

int sl_report_create(const char *title, sl_report **ret, sl_error *err) {
  *ret = NULL;
  sl_report *r = calloc(1, sizeof *r);
  if (!r) return sl_fail(err, SL_ENOMEM, "out of memory");
  r->title = strdup(title ? title : "seqloop report");
  r->sources = cJSON_CreateArray();
  if (!r->title || !r->sources) {
    sl_report_destroy(r);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  *ret = r;
  return SL_OK;
}

void sl_report_destroy(sl_report *r) {
  if (!r) return;
  free(r->title);
  cJSON_Delete(r->sources);
  for (int s = 0; s < SL_REPORT_NSECTIONS; s++) {
    sl_sb_free(&r->html[s]);
    cJSON_Delete(r->data[s]);
  }
  free(r);
}

int sl_report_add_source(sl_report *r, const char *role, const char *path, sl_error *err) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "role", role) || !cJSON_AddStringToObject(o, "path", path)) {
    cJSON_Delete(o);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  cJSON_AddItemToArray(r->sources, o);
  return SL_OK;
}

/* Start a section: reset a previous one of the same id. */
static sl_sb *section_begin(sl_report *r, int s, cJSON **ret_j) {
  sl_sb_free(&r->html[s]);
  cJSON_Delete(r->data[s]);
  r->data[s] = cJSON_CreateObject();
  *ret_j = r->data[s];
  return &r->html[s];
}

static int section_end(sl_report *r, int s, sl_error *err) {
  if (r->html[s].oom || !r->data[s]) return sl_fail(err, SL_ENOMEM, "out of memory (report section %s)", section_names[s]);
  return SL_OK;
}

/* A row of a key/value table. */
static void kv(sl_sb *b, const char *k, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
static void kv(sl_sb *b, const char *k, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  sl_sb_puts(b, "<tr><th>");
  sl_sb_esc(b, k);
  sl_sb_puts(b, "</th><td>");
  sl_sb_esc(b, buf);
  sl_sb_puts(b, "</td></tr>\n");
}

static cJSON *json_array(const double *x, int64_t n) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t k = 0; a && k < n; k++)
    cJSON_AddItemToArray(a, isfinite(x[k]) ? cJSON_CreateNumber(x[k]) : cJSON_CreateNull());
  return a;
}
static void json_num(cJSON *o, const char *k, double v) {
  if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
  else cJSON_AddNullToObject(o, k);
}

/* A histogram of x (finite values) with nb bins over [lo, hi]: centres and counts. */
static void histogram(const double *x, int64_t n, double lo, double hi, int nb, double *centre, double *count) {
  for (int k = 0; k < nb; k++) {
    centre[k] = lo + (k + 0.5) * (hi - lo) / nb;
    count[k] = 0;
  }
  for (int64_t t = 0; t < n; t++) {
    if (!isfinite(x[t])) continue;
    int k = (int)floor((x[t] - lo) / (hi - lo) * nb);
    if (k < 0) k = 0;
    if (k >= nb) k = nb - 1;
    count[k]++;
  }
}

static void hist_plot(sl_sb *b, const char *id, const char *title, const double *x, int64_t n, double lo,
                      double hi, const char *xlabel, const char *color, cJSON *j) {
  enum { NB = 25 };
  double c[NB], h[NB], cmax = 1;
  histogram(x, n, lo, hi, NB, c, h);
  for (int k = 0; k < NB; k++) cmax = h[k] > cmax ? h[k] : cmax;
  sl_plot p;
  sl_plot_begin(&p, b, id, title, 420, 260, lo, hi, 0, cmax * 1.05, xlabel, "count");
  sl_plot_bars(&p, c, h, NB, (hi - lo) / NB * 0.9, color);
  sl_plot_end(&p);
  if (j) {
    cJSON *o = cJSON_AddObjectToObject(j, id);
    cJSON_AddItemToObject(o, "bin_centres", json_array(c, NB));
    cJSON_AddItemToObject(o, "counts", json_array(h, NB));
  }
}

/* ---- alignment ----------------------------------------------------------- */

int sl_report_alignment(sl_report *r, const sl_msa *msa, const sl_audit *a, sl_error *err) {
  cJSON *j;
  sl_sb *b = section_begin(r, SL_REPORT_ALIGNMENT, &j);
  const sl_ingest_report *ir = &msa->rep;
  const int64_t L = msa->L, N = msa->N;
  double *x = malloc((size_t)(L > N ? L : N) * 3 * sizeof *x + 8);
  if (!x) return sl_fail(err, SL_ENOMEM, "out of memory");
  double *ent = x + (L > N ? L : N), *cov = ent + (L > N ? L : N);
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "file", "%s (%s, %s, layout %s)", msa->path ? msa->path : "-", sl_format_name(msa->format), msa->abc->name,
     ir->layout);
  kv(b, "rows (N)", "%lld kept of %lld records", (long long)N, (long long)ir->n_records);
  kv(b, "rows dropped", "%lld for nonstandard characters, %lld below the coverage threshold", (long long)ir->n_nonstd,
     (long long)ir->n_lowcov);
  if (ir->first_nonstd[0]) kv(b, "first row dropped for characters", "%s", ir->first_nonstd);
  kv(b, "columns (L)", "%lld kept of %lld", (long long)L, (long long)ir->cols_in);
  kv(b, "columns dropped", "%lld insert, %lld gap in the focus, %lld over the gap threshold",
     (long long)ir->cols_insert, (long long)ir->cols_focus_gap, (long long)ir->cols_gappy);
  if (msa->focus >= 0) kv(b, "focus", "%s (residues from %lld)", msa->name[msa->focus], (long long)msa->focus_start);
  kv(b, "Neff", "%.4g (Neff/L %.4g; ProteinGym Neff/L %.4g over %lld columns with <= 30%% gaps: depth %s)", a->neff,
     a->neff_per_L, a->neff_per_L_pg, (long long)a->L_pg, a->depth_class);
  kv(b, "distinct rows", "%lld (%lld duplicates of an earlier row)", (long long)a->n_distinct,
     (long long)a->n_duplicates);
  kv(b, "mean column entropy", "%.4g bits (maximum %.4g)", a->mean_entropy, a->max_entropy);
  sl_sb_puts(b, "</table>\n");
  cJSON_AddStringToObject(j, "path", msa->path ? msa->path : "-");
  cJSON_AddNumberToObject(j, "records", (double)ir->n_records);
  cJSON_AddNumberToObject(j, "N", (double)N);
  cJSON_AddNumberToObject(j, "L", (double)L);
  cJSON *dr = cJSON_AddObjectToObject(j, "dropped");
  cJSON_AddNumberToObject(dr, "rows_nonstandard", (double)ir->n_nonstd);
  cJSON_AddNumberToObject(dr, "rows_low_coverage", (double)ir->n_lowcov);
  cJSON_AddNumberToObject(dr, "columns_insert", (double)ir->cols_insert);
  cJSON_AddNumberToObject(dr, "columns_focus_gap", (double)ir->cols_focus_gap);
  cJSON_AddNumberToObject(dr, "columns_gappy", (double)ir->cols_gappy);
  json_num(j, "neff", a->neff);
  json_num(j, "neff_per_L", a->neff_per_L);
  json_num(j, "neff_per_L_proteingym", a->neff_per_L_pg);
  cJSON_AddStringToObject(j, "depth_class", a->depth_class);
  cJSON_AddNumberToObject(j, "duplicates", (double)a->n_duplicates);
  json_num(j, "mean_entropy_bits", a->mean_entropy);

  for (int64_t i = 0; i < L; i++) {
    x[i] = (double)(i + 1);
    ent[i] = a->col[i].entropy;
    cov[i] = 1 - a->col[i].gap_frac;
  }
  const char *xl = msa->focus >= 0 ? "column (1 = first focus column)" : "column";
  sl_plot p;
  sl_plot_begin(&p, b, "aln-entropy", "Entropy per column (bits, weighted, gap a state)", 860, 260, 0.5, L + 0.5, 0,
                a->max_entropy, xl, "bits");
  sl_plot_bars(&p, x, ent, L, 0.85, "#3182bd");
  sl_plot_end(&p);
  sl_plot_begin(&p, b, "aln-colcov", "Coverage per column (fraction of rows with a residue)", 860, 220, 0.5, L + 0.5,
                0, 1, xl, "coverage");
  sl_plot_line(&p, x, cov, L, "#2ca02c", 0, NULL);
  sl_plot_end(&p);
  cJSON_AddItemToObject(j, "column_entropy_bits", json_array(ent, L));
  cJSON_AddItemToObject(j, "column_coverage", json_array(cov, L));
  for (int64_t n = 0; n < N; n++) {
    const uint8_t *row = sl_msa_row(msa, n);
    int64_t k = 0;
    for (int64_t i = 0; i < L; i++) k += row[i] != 0;
    x[n] = L ? (double)k / (double)L : 0;
  }
  hist_plot(b, "aln-rowcov", "Coverage per row (residues / columns)", x, N, 0, 1, "coverage",
            "#9467bd", j);
  free(x);
  return section_end(r, SL_REPORT_ALIGNMENT, err);
}

/* ---- model --------------------------------------------------------------- */

static double jnum_at(const cJSON *a, int64_t i) {
  const cJSON *v = cJSON_GetArrayItem(a, (int)i);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int sl_report_model(sl_report *r, const char *path, int64_t file_bytes, const sl_model *m, const sl_entropy *ent,
                    const sl_msa *heldout, uint64_t seed, int threads, sl_error *err) {
  cJSON *j;
  sl_sb *b = section_begin(r, SL_REPORT_MODEL, &j);
  const int64_t L = m->L;
  const int q = m->q;
  double bits_site = NAN, ppl = NAN;
  int64_t nheld = 0;
  if (heldout) {
    if (!sl_model_has(m, SL_CAP_NORMALISED))
      return sl_fail(err, SL_EUSAGE, "a %s model has no normalised log P: no held-out perplexity", sl_model_name(m));
    if (!sl_model_has(m, SL_CAP_ALIGNED))
      return sl_fail(err, SL_EUSAGE, "a %s model reads ungapped sequences: seqloop score --perplexity gives its "
                     "held-out perplexity", sl_model_name(m));
    if (heldout->L != L)
      return sl_fail(err, SL_EINPUT, "the held-out alignment has %lld columns, the model %lld", (long long)heldout->L,
                     (long long)L);
    double sum = 0;
    int64_t sites = 0;
    for (int64_t n = 0; n < heldout->N; n++) {
      double lp;
      int st = sl_model_logp(m, NULL, sl_msa_row(heldout, n), &lp, err);
      if (st) return st;
      sum += lp;
      /* sites as `score --perplexity` counts them: every column where the
       * model has a state (all of them unless gaps are missing data) */
      const uint8_t *x = sl_msa_row(heldout, n);
      for (int64_t i = 0; i < heldout->L; i++) sites += sl_model_state(m, x[i]) >= 0;
    }
    nheld = heldout->N;
    if (sites > 0) {
      bits_site = -sum / log(2) / (double)sites;
      ppl = pow(2, bits_site);
    }
  }
  int has_j = sl_model_has(m, SL_CAP_COUPLINGS);
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "file", "%s (%lld bytes)", path, (long long)file_bytes);
  kv(b, "kind", "%s", sl_model_name(m));
  kv(b, "size", "L %lld columns, q %d states%s", (long long)L, q, has_j ? ", couplings" : "");
  if (m->n_train > 0) kv(b, "trained on", "%lld rows, Neff %.4g", (long long)m->n_train, m->neff);
  if (ent)
  {
    if (ent->n)
      kv(b, "entropy", "%.4g bits (+- %.2g, Monte Carlo over %lld samples), %.4g bits per site", ent->bits, ent->se,
         (long long)ent->n, L ? ent->bits / (double)L : NAN);
    else
      kv(b, "entropy", "%.4g bits (exact), %.4g bits per site", ent->bits, L ? ent->bits / (double)L : NAN);
  }
  else
    kv(b, "entropy", "%s", sl_model_has(m, SL_CAP_NORMALISED) ? "not computed" : "not defined (no normaliser)");
  if (heldout) kv(b, "held-out", "%.4g bits per site, perplexity %.4g (%lld sequences of %s)", bits_site, ppl,
                  (long long)nheld, heldout->path ? heldout->path : "-");
  sl_sb_puts(b, "</table>\n");
  cJSON_AddStringToObject(j, "path", path);
  cJSON_AddNumberToObject(j, "file_bytes", (double)file_bytes);
  cJSON_AddStringToObject(j, "kind", sl_model_name(m));
  cJSON_AddNumberToObject(j, "L", (double)L);
  cJSON_AddNumberToObject(j, "q", q);
  cJSON_AddBoolToObject(j, "couplings", has_j);
  if (ent) {
    json_num(j, "entropy_bits", ent->bits);
    json_num(j, "entropy_se", ent->se);
    cJSON_AddNumberToObject(j, "entropy_samples", (double)ent->n);
  }
  if (heldout) {
    json_num(j, "heldout_bits_per_site", bits_site);
    json_num(j, "heldout_perplexity", ppl);
    cJSON_AddNumberToObject(j, "heldout_sequences", (double)nheld);
  }
  /* Per column: exact site entropies (independent sites), else the
   * marginals of exact samples, else the fields alone. */
  const int indep = sl_model_has(m, SL_CAP_INDEPENDENT), exact = sl_model_has(m, SL_CAP_EXACT_SAMPLE);
  const int64_t ns = 2000;
  if (sl_model_has(m, SL_CAP_ALIGNED) && L > 0 && (indep || exact || m->h)) {
    double *x = malloc((size_t)L * 2 * sizeof *x), *e = x + L, *cnt = calloc((size_t)(L * 64), sizeof *cnt);
    uint8_t *X = NULL;
    if (!x || !cnt) { free(x); free(cnt); return sl_fail(err, SL_ENOMEM, "out of memory"); }
    const char *what;
    if (!indep && exact) {
      sl_draw_opts o;
      sl_draw_opts_init(&o);
      const int64_t R = sl_model_row_len(m);
      if (!(X = malloc((size_t)(ns * R)))) { free(x); free(cnt); return sl_fail(err, SL_ENOMEM, "out of memory"); }
      int st = sl_sample_ancestral(m, &o, ns, seed, threads, NULL, X, NULL, NULL, err);
      if (st) { free(x); free(cnt); free(X); return st; }
      for (int64_t n = 0; n < ns; n++)
        for (int64_t i = 0; i < L; i++) cnt[i * 64 + (X[n * R + i] & 63)] += 1;
      what = "Site entropy of the model's marginals (bits; 2000 exact samples)";
      cJSON_AddStringToObject(j, "site_entropy_from", "marginals of 2000 exact samples");
    } else {
      for (int64_t i = 0; i < L; i++) {
        const float *h = m->h + i * q;
        double mx = h[0];
        for (int a = 1; a < q; a++) mx = h[a] > mx ? h[a] : mx;
        for (int a = 0; a < q && a < 64; a++) cnt[i * 64 + a] = exp(h[a] - mx);
      }
      what = indep ? "Site entropy of the model (bits, exact)" : "Entropy of each column's fields softmax(h_i) (bits; couplings left out)";
      cJSON_AddStringToObject(j, "site_entropy_from", indep ? "exact (independent sites)" : "fields alone");
    }
    for (int64_t i = 0; i < L; i++) {
      double z = 0, sh = 0;
      for (int a = 0; a < 64; a++) z += cnt[i * 64 + a];
      for (int a = 0; a < 64; a++) {
        double pa = z > 0 ? cnt[i * 64 + a] / z : 0;
        if (pa > 0) sh -= pa * log2(pa);
      }
      x[i] = (double)(i + 1);
      e[i] = sh;
    }
    sl_plot p;
    sl_plot_begin(&p, b, "model-sites", what, 860, 240, 0.5, L + 0.5, 0, log2(m->abc->q), "model column", "bits");
    sl_plot_bars(&p, x, e, L, 0.85, "#ff7f0e");
    const cJSON *ae = r->data[SL_REPORT_ALIGNMENT] ? cJSON_GetObjectItem(r->data[SL_REPORT_ALIGNMENT], "column_entropy_bits") : NULL;
    if (ae && cJSON_GetArraySize(ae) == L) {
      double *y = cnt; /* reuse: L values */
      for (int64_t i = 0; i < L; i++) y[i] = jnum_at(ae, i);
      sl_plot_line(&p, x, y, L, "#1f77b4", 0, NULL);
      const char *nm[2] = {"model", "alignment (weighted)"}, *cl[2] = {"#ff7f0e", "#1f77b4"};
      sl_plot_legend(&p, nm, cl, 2);
    }
    sl_plot_end(&p);
    cJSON_AddItemToObject(j, "site_entropy_bits", json_array(e, L));
    free(x); free(cnt); free(X);
  }
  return section_end(r, SL_REPORT_MODEL, err);
}

/* ---- contacts ------------------------------------------------------------ */

typedef struct { int64_t i, j; double s; } scored_pair;
static int pair_cmp(const void *pa, const void *pb) {
  const scored_pair *a = pa, *b = pb;
  if (a->s != b->s) return a->s > b->s ? -1 : 1;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  return a->j < b->j ? -1 : a->j > b->j;
}

int sl_report_contacts(sl_report *r, const sl_model *m, const sl_structure *st, int64_t min_sep, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_COUPLINGS))
    return sl_fail(err, SL_EUSAGE, "a %s model has no couplings: no contacts (fit --model potts)", sl_model_name(m));
  const int64_t L = m->L;
  if (L < 2) return sl_fail(err, SL_EINPUT, "a model of %lld columns has no pairs", (long long)L);
  double *fn = malloc((size_t)(L * L) * sizeof *fn), *raw = malloc((size_t)(L * L) * sizeof *raw);
  scored_pair *pr = malloc((size_t)(L * L / 2 + 1) * sizeof *pr);
  int64_t *map = malloc((size_t)L * sizeof *map);
  char *focus = malloc((size_t)L + 1);
  double *buf = malloc((size_t)(8 * L + 8) * sizeof *buf);
  int status = SL_OK;
  if (!fn || !raw || !pr || !map || !focus || !buf) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if ((status = sl_coupling_scores(m, SL_GAUGE_RAW, fn, raw, err))) goto DONE;
  int64_t np = 0;
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + min_sep; j < L; j++) pr[np++] = (scored_pair){i, j, fn[i * L + j]};
  qsort(pr, (size_t)np, sizeof *pr, pair_cmp);
  double ident = NAN;
  int64_t mapped = 0;
  if (st) {
    for (int64_t i = 0; i < L; i++) focus[i] = m->abc->symbols[m->focus[i]];
    focus[L] = 0;
    if ((status = sl_align_global(focus, st->seq, map, &ident, err))) goto DONE;
    for (int64_t i = 0; i < L; i++) mapped += map[i] >= 0;
  }
  /* 1 contact, 0 not, -1 unknown */
#define CONTACT(i, j) (st && map[i] >= 0 && map[j] >= 0 && isfinite(sl_structure_distance(st, map[i], map[j])) \
                         ? (sl_structure_distance(st, map[i], map[j]) < SL_CONTACT_CUTOFF) : -1)
  cJSON *j;
  sl_sb *b = section_begin(r, SL_REPORT_CONTACTS, &j);
  int64_t ntop = L < np ? L : np;
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "scores", "Frobenius norm of J_ij with the average product correction (raw gauge), |i-j| >= %lld",
     (long long)min_sep);
  kv(b, "shown", "the top %lld pairs (L) above the diagonal%s", (long long)ntop,
     st ? ": red a contact in the structure, blue not, black a column without a residue" : "");
  if (st)
    kv(b, "structure", "%s chain %s: %lld of %lld columns aligned (identity %.1f%%); contacts (CB < %.0f A) below the diagonal",
       st->path, st->chain, (long long)mapped, (long long)L, 100 * ident, SL_CONTACT_CUTOFF);
  sl_sb_puts(b, "</table>\n");
  double lo = 0.5, hi = L + 0.5;
  sl_plot p;
  sl_plot_begin(&p, b, "contact-map", st ? "Contact map: top L pairs (upper), structure (lower)"
                                         : "Contact map: top L predicted pairs",
                520, 520, lo, hi, lo, hi, "model column i", "model column j");
  double cell = (p.W - p.ml - p.mr) / (double)L;
  if (st) {
    sl_sb_puts(b, "<g class=\"d\" fill=\"#bbbbbb\">");
    for (int64_t i = 0; i < L; i++)
      for (int64_t jj = i + min_sep; jj < L; jj++)
        if (CONTACT(i, jj) == 1)
          sl_sb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", sl_plot_x(&p, jj + 1) - cell / 2,
                       sl_plot_y(&p, i + 1) - cell / 2, cell, cell);
    sl_sb_puts(b, "</g>\n");
  }
  cJSON *top = cJSON_AddArrayToObject(j, "top_pairs");
  int64_t ntrue = 0;
  for (int64_t t = 0; t < ntop; t++) {
    int c = st ? CONTACT(pr[t].i, pr[t].j) : -1;
    ntrue += c == 1;
    const char *col = c == 1 ? "#d62728" : c == 0 ? "#1f77b4" : "#333333";
    sl_sb_printf(b, "<circle class=\"d\" cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"/>", sl_plot_x(&p, pr[t].i + 1),
                 sl_plot_y(&p, pr[t].j + 1), cell * 0.6 > 1.5 ? cell * 0.6 : 1.5, col);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "i", (double)m->pos[pr[t].i]);
    cJSON_AddNumberToObject(o, "j", (double)m->pos[pr[t].j]);
    cJSON_AddNumberToObject(o, "col_i", (double)(pr[t].i + 1));
    cJSON_AddNumberToObject(o, "col_j", (double)(pr[t].j + 1));
    cJSON_AddNumberToObject(o, "score", pr[t].s);
    if (c >= 0) cJSON_AddBoolToObject(o, "contact", c);
    cJSON_AddItemToArray(top, o);
  }
  sl_sb_puts(b, "\n");
  sl_plot_end(&p);
  if (st) {
    /* Precision of the top k pairs whose ends map to residues with coordinates. */
    int64_t kmax = 2 * L, k = 0, tp = 0;
    double *kx = buf, *py = buf + 2 * L + 2;
    for (int64_t t = 0; t < np && k < kmax; t++) {
      int c = CONTACT(pr[t].i, pr[t].j);
      if (c < 0) continue;
      k++;
      tp += c;
      kx[k - 1] = (double)k;
      py[k - 1] = (double)tp / (double)k;
    }
    sl_plot_begin(&p, b, "contact-precision", "Precision of the top k predicted pairs", 520, 260, 0, (double)kmax, 0, 1,
                  "k (pairs, by score)", "precision");
    sl_plot_line(&p, kx, py, k, "#d62728", 0, NULL);
    double xs[2] = {(double)L, (double)L}, ys[2] = {0, 1};
    sl_plot_line(&p, xs, ys, 2, "#999999", 1, "k = L");
    sl_plot_end(&p);
    cJSON_AddItemToObject(j, "precision_top_k", json_array(py, k));
    json_num(j, "precision_at_L", k >= L ? py[L - 1] : NAN);
    cJSON_AddNumberToObject(j, "aligned_columns", (double)mapped);
    json_num(j, "identity", ident);
  }
#undef CONTACT
  status = section_end(r, SL_REPORT_CONTACTS, err);
DONE:
  free(fn); free(raw); free(pr); free(map); free(focus); free(buf);
  return status;
}

/* ---- variants ------------------------------------------------------------ */

static int parse_single(const char *s, char *wt, long *pos, char *mt) {
  int n = 0;
  if (sscanf(s, "%c%ld%c%n", wt, pos, mt, &n) != 3 || s[n] != 0) return 0;
  return *wt >= 'A' && *wt <= 'Z' && *mt >= 'A' && *mt <= 'Z';
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

static double num_cell(const char *s) {
  if (!s || !*s) return NAN;
  char *end;
  double v = strtod(s, &end);
  return *end == 0 ? v : NAN;
}

int sl_report_variants(sl_report *r, const sl_csv *csv, const char *mutant_col, const char *score_col,
                       const char *measured_col, sl_error *err) {
  int cm = sl_csv_col(csv, mutant_col), cs = sl_csv_col(csv, score_col);
  int cy = measured_col ? sl_csv_col(csv, measured_col) : -1;
  if (cm < 0) return sl_fail(err, SL_EINPUT, "%s: no column '%s'", csv->path, mutant_col);
  if (cs < 0) return sl_fail(err, SL_EINPUT, "%s: no column '%s' (a table written by seqloop score)", csv->path, score_col);
  if (measured_col && cy < 0) return sl_fail(err, SL_EINPUT, "%s: no column '%s'", csv->path, measured_col);
  static const char AA[] = "ACDEFGHIKLMNPQRSTVWY";
  const int64_t n = csv->nrows;
  long *pos = malloc((size_t)(n + 1) * sizeof *pos), *upos = malloc((size_t)(n + 1) * sizeof *upos);
  char *wt = malloc((size_t)n + 1), *mt = malloc((size_t)n + 1);
  double *sc = malloc((size_t)(n + 1) * 3 * sizeof *sc), *ms = sc + n + 1, *px = ms + n + 1;
  double *grid = NULL;
  int status = SL_OK;
  if (!pos || !upos || !wt || !mt || !sc) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  int64_t nsingle = 0, nu = 0;
  for (int64_t t = 0; t < n; t++) {
    sc[t] = num_cell(csv->cell[t][cs]);
    ms[t] = cy >= 0 ? num_cell(csv->cell[t][cy]) : NAN;
    if (parse_single(csv->cell[t][cm], &wt[t], &pos[t], &mt[t]) && strchr(AA, mt[t]) && isfinite(sc[t])) {
      upos[nsingle++] = pos[t];
    } else pos[t] = LONG_MIN;
  }
  if (nsingle == 0) { status = sl_fail(err, SL_EINPUT, "%s: no scored single mutants (like A42G) in column '%s'", csv->path, mutant_col); goto DONE; }
  qsort(upos, (size_t)nsingle, sizeof *upos, cmp_long);
  for (int64_t t = 0; t < nsingle; t++)
    if (nu == 0 || upos[t] != upos[nu - 1]) upos[nu++] = upos[t];
  grid = malloc((size_t)(nu * 20) * sizeof *grid);
  char *gwt = calloc((size_t)nu, 1);
  if (!grid || !gwt) { free(gwt); status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < nu * 20; k++) grid[k] = NAN;
  double amax = 0;
  for (int64_t t = 0; t < n; t++) {
    if (pos[t] == LONG_MIN) continue;
    long *hit = bsearch(&pos[t], upos, (size_t)nu, sizeof *upos, cmp_long);
    int64_t k = hit - upos;
    grid[k * 20 + (strchr(AA, mt[t]) - AA)] = sc[t];
    gwt[k] = wt[t];
    amax = fabs(sc[t]) > amax ? fabs(sc[t]) : amax;
  }
  if (amax == 0) amax = 1;
  cJSON *j;
  sl_sb *b = section_begin(r, SL_REPORT_VARIANTS, &j);
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "table", "%s: %lld rows, %lld single mutants at %lld positions", csv->path, (long long)n, (long long)nsingle,
     (long long)nu);
  kv(b, "colour", "score (column %s): blue below 0, red above; the wild type is marked with a dot", score_col);
  sl_sb_puts(b, "</table>\n");
  /* The heat map: positions across, amino acids down. */
  double cw = 860.0 / (double)nu;
  cw = cw > 14 ? 14 : cw < 3 ? 3 : cw;
  const double ch = 12, ml = 44, mt_ = 28;
  int W = (int)ceil(ml + cw * nu + 20), H = (int)(mt_ + 20 * ch + 64);
  sl_sb_printf(b, "<svg class=\"plot\" id=\"variants-heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>Single-mutant scores</title>\n"
               "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
               "<text x=\"%.0f\" y=\"16\" class=\"t\">Single-mutant scores (positions x amino acids)</text>\n",
               W, H, W, H, W, H, ml);
  char col[8];
  for (int a = 0; a < 20; a++)
    sl_sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"s\">%c</text>", ml - 4,
                 mt_ + a * ch + ch - 2, AA[a]);
  sl_sb_puts(b, "\n");
  for (int64_t k = 0; k < nu; k++) {
    for (int a = 0; a < 20; a++) {
      double v = grid[k * 20 + a];
      if (!isfinite(v)) continue;
      sl_color_div(0.5 + 0.5 * v / amax, col);
      sl_sb_printf(b, "<rect class=\"d\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"/>", ml + k * cw,
                   mt_ + a * ch, cw, ch, col);
    }
    const char *w = gwt[k] ? strchr(AA, gwt[k]) : NULL;
    if (w)
      sl_sb_printf(b, "<circle class=\"d wt\" cx=\"%.2f\" cy=\"%.1f\" r=\"%.2f\" fill=\"#000000\"/>", ml + (k + 0.5) * cw,
                   mt_ + (w - AA + 0.5) * ch, cw / 3 < 3 ? cw / 3 : 3);
    sl_sb_puts(b, "\n");
  }
  int every = nu > 40 ? (int)(nu / 20 / 5 + 1) * 5 : nu > 15 ? 5 : 1;
  for (int64_t k = 0; k < nu; k++)
    if (upos[k] % every == 0 || nu <= 15)
      sl_sb_printf(b, "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">%ld</text>", ml + (k + 0.5) * cw,
                   mt_ + 20 * ch + 12, upos[k]);
  sl_sb_printf(b, "\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">position</text>\n", ml + cw * nu / 2,
               mt_ + 20 * ch + 28);
  for (int t = 0; t <= 20; t++) {
    sl_color_div(t / 20.0, col);
    sl_sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>", ml + t * 8,
                 mt_ + 20 * ch + 36, col);
  }
  sl_sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"s\">%.3g .. 0 .. %.3g</text>\n</svg>\n", ml + 21 * 8 + 6,
               mt_ + 20 * ch + 44, -amax, amax);
  cJSON_AddStringToObject(j, "path", csv->path);
  cJSON_AddStringToObject(j, "score_column", score_col);
  cJSON_AddNumberToObject(j, "rows", (double)n);
  cJSON_AddNumberToObject(j, "singles", (double)nsingle);
  cJSON *jp = cJSON_AddArrayToObject(j, "positions");
  cJSON *jw = cJSON_AddArrayToObject(j, "wild_type");
  for (int64_t k = 0; k < nu; k++) {
    char s[2] = {gwt[k] ? gwt[k] : '?', 0};
    cJSON_AddItemToArray(jp, cJSON_CreateNumber((double)upos[k]));
    cJSON_AddItemToArray(jw, cJSON_CreateString(s));
  }
  cJSON_AddStringToObject(j, "amino_acids", AA);
  cJSON_AddItemToObject(j, "scores_position_by_amino_acid", json_array(grid, nu * 20));
  free(gwt);
  if (cy >= 0) {
    int64_t k = 0;
    for (int64_t t = 0; t < n; t++)
      if (isfinite(sc[t]) && isfinite(ms[t])) { px[k] = sc[t]; ms[k] = ms[t]; k++; }
    double rho = k >= 2 ? sl_spearman(px, ms, k) : NAN, xl, xh, yl, yh;
    sl_range(px, k, &xl, &xh);
    sl_range(ms, k, &yl, &yh);
    double px_ = 0.03 * (xh - xl), py_ = 0.03 * (yh - yl); /* so that edge points show whole */
    xl -= px_; xh += px_; yl -= py_; yh += py_;
    char title[256];
    snprintf(title, sizeof title, "Predicted against measured (%s): Spearman %.3f, n = %lld", measured_col, rho,
             (long long)k);
    sl_plot p;
    sl_plot_begin(&p, b, "variants-assay", title, 520, 400, xl, xh, yl, yh, "predicted (score)", measured_col);
    sl_plot_points(&p, px, ms, k, "#1f77b4", 2);
    sl_plot_end(&p);
    cJSON_AddStringToObject(j, "measured_column", measured_col);
    cJSON_AddNumberToObject(j, "assay_n", (double)k);
    json_num(j, "spearman", rho);
  }
  status = section_end(r, SL_REPORT_VARIANTS, err);
DONE:
  free(pos); free(upos); free(wt); free(mt); free(sc); free(grid);
  return status;
}

/* ---- samples ------------------------------------------------------------- */

int sl_report_samples(sl_report *r, const char *path, const sl_msa *S, const sl_msa *A, const double *w, sl_error *err) {
  if (S->L != A->L || S->abc != A->abc)
    return sl_fail(err, SL_EINPUT, "%s: %lld columns (%s) against the alignment's %lld (%s): the samples must be over "
                   "the same columns", path, (long long)S->L, S->abc->name, (long long)A->L, A->abc->name);
  if (S->N < 2 || A->N < 1) return sl_fail(err, SL_EINPUT, "%s: need at least 2 samples and 1 natural sequence", path);
  sl_sample_stats st;
  int status = sl_sample_stats_compute(S, A, w, 300, 1, &st, err);
  if (status) return status;
  const int64_t L = S->L;
  const int q = S->abc->q;
  const int64_t nS = S->N < 1000 ? S->N : 1000, nD = S->N < 300 ? S->N : 300, npairs = nD * (nD - 1) / 2;
  double *fa = calloc((size_t)(L * q), sizeof *fa), *fs = calloc((size_t)(L * q), sizeof *fs);
  double *nov = malloc((size_t)nS * sizeof *nov), *div = malloc((size_t)(npairs + 1) * sizeof *div);
  double *fij_a = malloc((size_t)(q * q) * sizeof *fij_a), *fij_s = malloc((size_t)(q * q) * sizeof *fij_s);
  enum { NB = 48 };
  double *dens = calloc(NB * NB, sizeof *dens);
  if (!fa || !fs || !nov || !div || !fij_a || !fij_s || !dens) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  double wsum = 0;
  for (int64_t n = 0; n < A->N; n++) {
    double wn = w ? w[n] : 1;
    wsum += wn;
    const uint8_t *x = sl_msa_row(A, n);
    for (int64_t i = 0; i < L; i++) fa[i * q + x[i]] += wn;
  }
  for (int64_t k = 0; k < L * q; k++) fa[k] /= wsum;
  for (int64_t n = 0; n < S->N; n++) {
    const uint8_t *x = sl_msa_row(S, n);
    for (int64_t i = 0; i < L; i++) fs[i * q + x[i]] += 1;
  }
  for (int64_t k = 0; k < L * q; k++) fs[k] /= (double)S->N;
  /* Connected two-point correlations, binned: range from the naturals. */
  double cmax = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t i = 0; i < L; i++)
      for (int64_t jj = i + 1; jj < L; jj++) {
        memset(fij_a, 0, (size_t)(q * q) * sizeof *fij_a);
        memset(fij_s, 0, (size_t)(q * q) * sizeof *fij_s);
        for (int64_t n = 0; n < A->N; n++) {
          const uint8_t *x = sl_msa_row(A, n);
          fij_a[x[i] * q + x[jj]] += (w ? w[n] : 1) / wsum;
        }
        for (int64_t n = 0; n < S->N; n++) {
          const uint8_t *x = sl_msa_row(S, n);
          fij_s[x[i] * q + x[jj]] += 1.0 / (double)S->N;
        }
        for (int a = 0; a < q; a++)
          for (int c = 0; c < q; c++) {
            double ca = fij_a[a * q + c] - fa[i * q + a] * fa[jj * q + c];
            double cs = fij_s[a * q + c] - fs[i * q + a] * fs[jj * q + c];
            if (pass == 0) {
              cmax = fabs(ca) > cmax ? fabs(ca) : cmax;
              cmax = fabs(cs) > cmax ? fabs(cs) : cmax;
            } else {
              int bx = (int)floor((ca + cmax) / (2 * cmax) * NB), by = (int)floor((cs + cmax) / (2 * cmax) * NB);
              bx = bx < 0 ? 0 : bx >= NB ? NB - 1 : bx;
              by = by < 0 ? 0 : by >= NB ? NB - 1 : by;
              dens[by * NB + bx] += 1;
            }
          }
      }
    if (cmax == 0) cmax = 1e-3;
  }
  for (int64_t s = 0; s < nS; s++) {
    const uint8_t *x = sl_msa_row(S, s);
    int64_t best = L;
    for (int64_t n = 0; n < A->N && best > 0; n++) {
      const uint8_t *y = sl_msa_row(A, n);
      int64_t d = 0;
      for (int64_t i = 0; i < L && d < best; i++) d += x[i] != y[i];
      best = d < best ? d : best;
    }
    nov[s] = L ? (double)best / (double)L : 0;
  }
  int64_t k = 0;
  for (int64_t s = 0; s < nD; s++)
    for (int64_t t = s + 1; t < nD; t++) {
      const uint8_t *x = sl_msa_row(S, s), *y = sl_msa_row(S, t);
      int64_t d = 0;
      for (int64_t i = 0; i < L; i++) d += x[i] != y[i];
      div[k++] = L ? (double)d / (double)L : 0;
    }
  cJSON *j;
  sl_sb *b = section_begin(r, SL_REPORT_SAMPLES, &j);
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "samples", "%s: %lld sequences against %lld natural ones (%s)", path, (long long)S->N, (long long)A->N,
     A->path ? A->path : "-");
  kv(b, "one-point r", "%.4f (Pearson of f_i(a), gaps included)", st.r_one);
  kv(b, "two-point r", "%.4f (connected correlations; slope %.3f)", st.r_two, st.slope_two);
  kv(b, "novelty", "Hamming distance to the nearest natural: mean %.3f, median %.3f (all %lld samples)",
     st.novelty.mean, st.novelty.q50, (long long)st.novelty.n);
  kv(b, "diversity", "Hamming distance between samples: mean %.3f, median %.3f (pairs of the first %lld)",
     st.diversity.mean, st.diversity.q50, (long long)nD);
  sl_sb_puts(b, "</table>\n<div class=\"row\">\n");
  sl_plot p;
  sl_plot_begin(&p, b, "samples-onepoint", "One-point frequencies f_i(a)", 420, 400, 0, 1, 0, 1, "natural (weighted)",
                "samples");
  double d01[2] = {0, 1};
  sl_plot_line(&p, d01, d01, 2, "#999999", 1, NULL);
  sl_plot_points(&p, fa, fs, L * q, "#1f77b4", 1.8);
  sl_plot_end(&p);
  double dmax = 0;
  for (int t = 0; t < NB * NB; t++) dmax = dens[t] > dmax ? dens[t] : dmax;
  sl_plot_begin(&p, b, "samples-twopoint", "Two-point C_ij(a,b), connected (log density)", 420, 400, -cmax,
                cmax, -cmax, cmax, "natural", "samples");
  char col[8];
  double cwid = (p.W - p.ml - p.mr) / (double)NB, chei = (p.H - p.mt - p.mb) / (double)NB;
  for (int by = 0; by < NB; by++)
    for (int bx = 0; bx < NB; bx++) {
      double v = dens[by * NB + bx];
      if (v <= 0) continue;
      sl_color_seq(0.15 + 0.85 * log1p(v) / log1p(dmax), col);
      sl_sb_printf(b, "<rect class=\"d\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>", p.ml + bx * cwid,
                   p.H - p.mb - (by + 1) * chei, cwid, chei, col);
    }
  double dd[2] = {-cmax, cmax};
  sl_plot_line(&p, dd, dd, 2, "#d62728", 1, NULL);
  sl_plot_end(&p);
  sl_sb_puts(b, "</div>\n<div class=\"row\">\n");
  hist_plot(b, "samples-novelty", "Novelty: distance to the nearest natural", nov, nS, 0, 1,
            "Hamming distance (fraction of columns)", "#2ca02c", j);
  hist_plot(b, "samples-diversity", "Diversity: distance between samples", div, k, 0, 1,
            "Hamming distance (fraction of columns)", "#ff7f0e", j);
  sl_sb_puts(b, "</div>\n");
  cJSON_AddStringToObject(j, "path", path);
  cJSON_AddNumberToObject(j, "n", (double)S->N);
  json_num(j, "r_one_point", st.r_one);
  json_num(j, "r_two_point_connected", st.r_two);
  json_num(j, "slope_two_point", st.slope_two);
  json_num(j, "novelty_mean", st.novelty.mean);
  json_num(j, "novelty_median", st.novelty.q50);
  json_num(j, "diversity_mean", st.diversity.mean);
  json_num(j, "diversity_median", st.diversity.q50);
  cJSON_AddNumberToObject(j, "novelty_histogram_samples", (double)nS);
  cJSON_AddNumberToObject(j, "diversity_histogram_samples", (double)nD);
  status = section_end(r, SL_REPORT_SAMPLES, err);
DONE:
  free(fa); free(fs); free(nov); free(div); free(fij_a); free(fij_s); free(dens);
  return status;
}

/* ---- design -------------------------------------------------------------- */

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int sl_report_design(sl_report *r, const char *path, sl_ledger *l, sl_error *err) {
  char *text = NULL;
  int status = sl_ledger_export_json(l, &text, 0, err);
  if (status) return status;
  cJSON *root = cJSON_Parse(text);
  free(text);
  if (!root) return sl_fail(err, SL_EINTERNAL, "%s: the ledger's export is not JSON", path);
  const cJSON *runs = cJSON_GetObjectItem(root, "runs"), *rounds = cJSON_GetObjectItem(root, "rounds"),
              *seqs = cJSON_GetObjectItem(root, "sequences"), *preds = cJSON_GetObjectItem(root, "predictions"),
              *meas = cJSON_GetObjectItem(root, "measurements"), *rstats = cJSON_GetObjectItem(root, "round_stats");
  double run = -1;
  const cJSON *it, *runobj = NULL;
  cJSON_ArrayForEach(it, runs) if (jnum(it, "id") > run) { run = jnum(it, "id"); runobj = it; }
  if (!runobj) { cJSON_Delete(root); return sl_fail(err, SL_EINPUT, "%s: the ledger holds no run", path); }
  int64_t nseq = cJSON_GetArraySize(seqs), nm = cJSON_GetArraySize(meas), np = cJSON_GetArraySize(preds),
          nr = cJSON_GetArraySize(rounds) + 1;
  /* Sequence ids of this run -> index; measured value per sequence. */
  double maxid = 0;
  cJSON_ArrayForEach(it, seqs) maxid = jnum(it, "id") > maxid ? jnum(it, "id") : maxid;
  int64_t nid = (int64_t)maxid + 1;
  double *val = malloc((size_t)nid * 2 * sizeof *val), *vn = val ? val + nid : NULL, *dnat = NULL;
  int8_t *inrun = calloc((size_t)nid, 1);
  double *mx = malloc((size_t)(nm + 1) * 3 * sizeof *mx), *my = mx + nm + 1, *best = my + nm + 1;
  double *px = malloc((size_t)(np + 1) * 4 * sizeof *px), *py = px + np + 1, *plo = py + np + 1, *pround = plo + np + 1;
  double *rk = malloc((size_t)nr * 6 * sizeof *rk), *rbits = rk + nr, *rdist = rbits + nr, *rcov = rdist + nr,
         *rwid = rcov + nr, *runb = rwid + nr;
  cJSON *j;
  if (!val || !inrun || !mx || !px || !rk) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  (void)nseq;
  (void)dnat;
  for (int64_t t = 0; t < nid; t++) { val[t] = NAN; vn[t] = 0; }
  cJSON_ArrayForEach(it, seqs) if (jnum(it, "run") == run) inrun[(int64_t)jnum(it, "id")] = 1;
  int64_t k = 0;
  double b_so_far = -HUGE_VAL;
  cJSON_ArrayForEach(it, meas) {
    int64_t s = (int64_t)jnum(it, "seq");
    if (s < 0 || s >= nid || !inrun[s]) continue;
    double v = jnum(it, "value");
    /* Replicates (ledger v4): a sequence's value is the mean of its
     * replicates with a value, as the loop trains on; each measurement is
     * still its own point of the best-so-far curve. */
    if (isfinite(v)) { val[s] = vn[s] ? val[s] + v : v; vn[s]++; }
    mx[k] = (double)(k + 1);
    my[k] = v;
    if (isfinite(v) && v > b_so_far) b_so_far = v;
    best[k] = isfinite(b_so_far) ? b_so_far : NAN;
    k++;
  }
  int64_t nmeas = k;
  /* Rounds: the global maximum from the regret of the last round that gives one. */
  double gmax = NAN;
  int64_t nround = 0;
  cJSON_ArrayForEach(it, rounds) {
    if (jnum(it, "run") != run) continue;
    const cJSON *sm = cJSON_GetObjectItem(it, "summary");
    double reg = jnum(sm, "regret"), bst = jnum(sm, "best");
    if (isfinite(reg) && isfinite(bst)) gmax = bst + reg;
  }
  for (int64_t t = 0; t < nr; t++) rk[t] = rbits[t] = rdist[t] = rcov[t] = rwid[t] = runb[t] = NAN;
  cJSON_ArrayForEach(it, rstats) {
    if (jnum(it, "run") != run) continue;
    int64_t rr = (int64_t)jnum(it, "k");
    if (rr < 0 || rr >= nr) continue;
    const cJSON *nmj = cJSON_GetObjectItem(it, "name");
    if (!cJSON_IsString(nmj)) continue;
    rk[rr] = (double)rr;
    if (strcmp(nmj->valuestring, "bits_injected") == 0) rbits[rr] = jnum(it, "value");
    if (strcmp(nmj->valuestring, "dist_natural") == 0) rdist[rr] = jnum(it, "value");
    if (strcmp(nmj->valuestring, "conformal_coverage") == 0) rcov[rr] = jnum(it, "value");
    if (strcmp(nmj->valuestring, "conformal_width") == 0) rwid[rr] = jnum(it, "value");
    if (strcmp(nmj->valuestring, "conformal_unbounded") == 0) runb[rr] = jnum(it, "value");
    nround = rr + 1 > nround ? rr + 1 : nround;
  }
  for (int64_t t = 0; t < nround; t++) rk[t] = (double)t;
  /* Predictions with a measurement of the same sequence. */
  k = 0;
  int maxround = 0;
  cJSON_ArrayForEach(it, preds) {
    int64_t s = (int64_t)jnum(it, "seq");
    if (s < 0 || s >= nid || !inrun[s] || !isfinite(val[s])) continue;
    px[k] = val[s] / vn[s];
    py[k] = jnum(it, "mean");
    plo[k] = jnum(it, "sd");
    pround[k] = jnum(it, "round");
    maxround = (int)pround[k] > maxround ? (int)pround[k] : maxround;
    k++;
  }
  int64_t npred = k;
  sl_sb *b = section_begin(r, SL_REPORT_DESIGN, &j);
  const cJSON *cmd = cJSON_GetObjectItem(runobj, "cmdline");
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "ledger", "%s: run %.0f, %lld measurements, %lld rounds", path, run, (long long)nmeas, (long long)nround);
  if (cJSON_IsString(cmd)) kv(b, "command", "%s", cmd->valuestring);
  kv(b, "best measured", "%.4g", nmeas ? best[nmeas - 1] : NAN);
  if (isfinite(gmax)) kv(b, "global maximum", "%.4g (best + regret, from the oracle)", gmax);
  {
    char bits[512] = "";
    size_t o = 0;
    for (int64_t t = 1; t < nround && o < sizeof bits - 32; t++)
      o += (size_t)snprintf(bits + o, sizeof bits - o, "%s%.3g", t > 1 ? ", " : "", rbits[t]);
    if (nround > 1) kv(b, "bits injected, rounds 1..", "%s (log2 1/acceptance of the proposal filters)", bits);
  }
  {
    /* Realised coverage of the conformal intervals on each measured batch;
     * an unbounded interval covers trivially, so its share is shown too. */
    char cov[1024] = "";
    size_t o = 0;
    for (int64_t t = 1; t < nround && o < sizeof cov - 96; t++) {
      if (!isfinite(rcov[t])) continue;
      o += (size_t)snprintf(cov + o, sizeof cov - o, "%sround %lld: %.3g (", o ? "; " : "", (long long)t, rcov[t]);
      o += (size_t)snprintf(cov + o, sizeof cov - o, isfinite(rwid[t]) ? "width %.3g" : "none bounded", rwid[t]);
      o += (size_t)snprintf(cov + o, sizeof cov - o, isfinite(runb[t]) ? ", %.2g unbounded)" : ")", runb[t]);
    }
    if (o) kv(b, "conformal coverage", "%s", cov);
  }
  sl_sb_puts(b, "</table>\n<div class=\"row\">\n");
  double lo, hi, lo2, hi2;
  sl_range(my, nmeas, &lo, &hi);
  if (isfinite(gmax)) hi = gmax > hi ? gmax : hi;
  sl_plot p;
  sl_plot_begin(&p, b, "design-best", "Best so far against measurements", 520, 320, 0.5, nmeas + 0.5, lo, hi + 0.05 * (hi - lo),
                "measurement (in order)", "measured value");
  sl_plot_points(&p, mx, my, nmeas, "#7f7f7f", 2.2);
  sl_plot_line(&p, mx, best, nmeas, "#1f77b4", 0, "best");
  if (isfinite(gmax)) sl_plot_hline(&p, gmax, "#d62728", "global maximum");
  sl_plot_end(&p);
  sl_range(px, npred, &lo, &hi);
  double yl[2];
  for (int64_t t = 0; t < npred; t++) {
    double a = py[t] - 2 * plo[t], z = py[t] + 2 * plo[t];
    if (t == 0 || a < yl[0]) yl[0] = a;
    if (t == 0 || z > yl[1]) yl[1] = z;
  }
  if (npred == 0) { yl[0] = 0; yl[1] = 1; }
  lo2 = lo < yl[0] ? lo : yl[0];
  hi2 = hi > yl[1] ? hi : yl[1];
  sl_plot_begin(&p, b, "design-predictions", "Predictions (mean +- 2 sd) against measured, by round", 520, 320, lo2, hi2,
                lo2, hi2, "measured", "predicted");
  double dg[2] = {lo2, hi2};
  sl_plot_line(&p, dg, dg, 2, "#999999", 1, NULL);
  for (int64_t t = 0; t < npred; t++) {
    const char *c = sl_color_cat((int)pround[t]);
    double X = sl_plot_x(&p, px[t]);
    sl_sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-opacity=\"0.5\"/>"
                 "<circle class=\"d\" cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>", X, sl_plot_y(&p, py[t] - 2 * plo[t]), X,
                 sl_plot_y(&p, py[t] + 2 * plo[t]), c, X, sl_plot_y(&p, py[t]), c);
  }
  sl_sb_puts(b, "\n");
  {
    const char *names[8], *cols[8];
    char nbuf[8][24];
    int nl = 0;
    for (int rr = 0; rr <= maxround && nl < 8; rr++) {
      int seen = 0;
      for (int64_t t = 0; t < npred && !seen; t++) seen = (int)pround[t] == rr;
      if (!seen) continue;
      snprintf(nbuf[nl], sizeof nbuf[nl], "round %d", rr);
      names[nl] = nbuf[nl];
      cols[nl] = sl_color_cat(rr);
      nl++;
    }
    sl_plot_legend(&p, names, cols, nl);
  }
  sl_plot_end(&p);
  sl_sb_puts(b, "</div>\n<div class=\"row\">\n");
  sl_range(rbits, nround, &lo, &hi);
  sl_plot_begin(&p, b, "design-bits", "Bits injected per round", 520, 260, -0.5, nround - 0.5, 0,
                isfinite(hi) && hi > 0 ? hi * 1.05 : 1, "round", "bits");
  sl_plot_bars(&p, rk, rbits, nround, 0.7, "#9467bd");
  sl_plot_end(&p);
  sl_range(rdist, nround, &lo, &hi);
  sl_plot_begin(&p, b, "design-distance", "Distance of the batch to the naturals (mean Hamming)", 520, 260, -0.5,
                nround - 0.5, 0, isfinite(hi) && hi > 0 ? hi * 1.1 : 1, "round", "edits");
  sl_plot_line(&p, rk, rdist, nround, "#2ca02c", 0, NULL);
  sl_plot_points(&p, rk, rdist, nround, "#2ca02c", 3);
  sl_plot_end(&p);
  sl_sb_puts(b, "</div>\n");
  cJSON_AddStringToObject(j, "path", path);
  cJSON_AddNumberToObject(j, "run", run);
  cJSON_AddItemToObject(j, "measured", json_array(my, nmeas));
  cJSON_AddItemToObject(j, "best_so_far", json_array(best, nmeas));
  json_num(j, "global_max", gmax);
  cJSON *jp = cJSON_AddObjectToObject(j, "predictions");
  cJSON_AddItemToObject(jp, "measured", json_array(px, npred));
  cJSON_AddItemToObject(jp, "mean", json_array(py, npred));
  cJSON_AddItemToObject(jp, "sd", json_array(plo, npred));
  cJSON_AddItemToObject(jp, "round", json_array(pround, npred));
  cJSON_AddItemToObject(j, "bits_injected_per_round", json_array(rbits, nround));
  cJSON_AddItemToObject(j, "dist_natural_per_round", json_array(rdist, nround));
  cJSON_AddItemToObject(j, "conformal_coverage_per_round", json_array(rcov, nround));
  cJSON_AddItemToObject(j, "conformal_width_per_round", json_array(rwid, nround));
  cJSON_AddItemToObject(j, "conformal_unbounded_per_round", json_array(runb, nround));
  status = section_end(r, SL_REPORT_DESIGN, err);
DONE:
  cJSON_Delete(root);
  free(val); free(inrun); free(mx); free(px); free(rk);
  return status;
}

/* ---- cycle --------------------------------------------------------------- */

int sl_report_cycle(sl_report *r, const sl_csv *csv, sl_error *err) {
  static const char *need[] = {"arm", "generation", "heldout_logp", "entropy_bits"};
  int c[4];
  for (int t = 0; t < 4; t++)
    if ((c[t] = sl_csv_col(csv, need[t])) < 0)
      return sl_fail(err, SL_EINPUT, "%s: no column '%s' (a table written by seqloop audit cycle -o)", csv->path, need[t]);
  const int64_t n = csv->nrows;
  if (n == 0) return sl_fail(err, SL_EINPUT, "%s: no rows", csv->path);
  enum { MAXARM = 8 };
  const char *arms[MAXARM];
  int narm = 0;
  double *g = malloc((size_t)n * 3 * sizeof *g), *lp = g + n, *en = lp + n;
  double *xs = malloc((size_t)n * 3 * sizeof *xs), *ys = xs + n, *zs = ys + n;
  if (!g || !xs) { free(g); free(xs); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  int *arm = malloc((size_t)n * sizeof *arm);
  if (!arm) { free(g); free(xs); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  for (int64_t t = 0; t < n; t++) {
    const char *a = csv->cell[t][c[0]];
    int k = 0;
    while (k < narm && strcmp(arms[k], a)) k++;
    if (k == narm) {
      if (narm == MAXARM) { free(g); free(xs); free(arm); return sl_fail(err, SL_EINPUT, "%s: more than %d arms", csv->path, MAXARM); }
      arms[narm++] = a;
    }
    arm[t] = k;
    g[t] = num_cell(csv->cell[t][c[1]]);
    lp[t] = num_cell(csv->cell[t][c[2]]);
    en[t] = num_cell(csv->cell[t][c[3]]);
  }
  /* The real data (generation 0) start every arm's line. */
  int64_t g0 = -1;
  for (int64_t t = 0; t < n; t++) if (g[t] == 0) g0 = t;
  cJSON *j;
  sl_sb *b = section_begin(r, SL_REPORT_CYCLE, &j);
  sl_sb_puts(b, "<table class=\"kv\">\n");
  kv(b, "table", "%s: %lld rows, %d arms", csv->path, (long long)n, narm);
  kv(b, "what", "%s", "each arm refits a model on its previous generation's samples (real: the data; self: samples only; "
     "filter: accepted samples; mix: samples with the real data); held-out log P and entropy of each generation's model");
  sl_sb_puts(b, "</table>\n<div class=\"row\">\n");
  double glo, ghi;
  sl_range(g, n, &glo, &ghi);
  for (int plot = 0; plot < 2; plot++) {
    const double *v = plot ? en : lp;
    double lo, hi;
    sl_range(v, n, &lo, &hi);
    sl_plot p;
    sl_plot_begin(&p, b, plot ? "cycle-entropy" : "cycle-heldout",
                  plot ? "Model entropy per generation (bits)" : "Held-out log P per generation (nats per sequence)", 520, 320,
                  glo - 0.2, ghi + 0.2, lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), "generation",
                  plot ? "entropy (bits)" : "held-out log P");
    const char *cols[MAXARM];
    cJSON *ja = plot ? NULL : cJSON_AddObjectToObject(j, "arms");
    for (int a = 0; a < narm; a++) {
      int64_t k = 0;
      if (g0 >= 0 && arm[g0] != a) { xs[k] = 0; ys[k] = v[g0]; k++; }
      for (int64_t t = 0; t < n; t++)
        if (arm[t] == a) { xs[k] = g[t]; ys[k] = v[t]; zs[k] = en[t]; k++; }
      cols[a] = sl_color_cat(a);
      sl_plot_line(&p, xs, ys, k, cols[a], 0, NULL);
      sl_plot_points(&p, xs, ys, k, cols[a], 3);
      if (ja) {
        cJSON *o = cJSON_AddObjectToObject(ja, arms[a]);
        int64_t m = 0;
        for (int64_t t = 0; t < n; t++)
          if (arm[t] == a) { xs[m] = g[t]; ys[m] = lp[t]; zs[m] = en[t]; m++; }
        cJSON_AddItemToObject(o, "generation", json_array(xs, m));
        cJSON_AddItemToObject(o, "heldout_logp", json_array(ys, m));
        cJSON_AddItemToObject(o, "entropy_bits", json_array(zs, m));
      }
    }
    sl_plot_legend(&p, arms, cols, narm);
    sl_plot_end(&p);
  }
  sl_sb_puts(b, "</div>\n");
  cJSON_AddStringToObject(j, "path", csv->path);
  free(g); free(xs); free(arm);
  return section_end(r, SL_REPORT_CYCLE, err);
}

/* ---- rendering ----------------------------------------------------------- */

static const char *style =
  "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;padding:12px 24px;"
  "color:#222;background:#fafafa}\n"
  "h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-top:.6em}\n"
  "nav a{margin-right:1em}table.kv{border-collapse:collapse;margin:.5em 0;font-size:.9em}\n"
  "table.kv th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:normal;vertical-align:top}\n"
  "table.kv td{padding:2px 0}svg.plot{display:inline-block;margin:6px 10px 6px 0;border:1px solid #ddd}\n"
  "svg text{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;font-size:11px;fill:#333}\n"
  "svg text.t{font-size:12px;font-weight:bold}svg text.s{font-size:10px}\n"
  ".row{display:flex;flex-wrap:wrap}footer{color:#777;font-size:.8em;margin-top:2em}\n";

int sl_report_html(const sl_report *r, char **ret_text, sl_error *err) {
  *ret_text = NULL;
  int any = 0;
  for (int s = 0; s < SL_REPORT_NSECTIONS; s++) any |= r->html[s].n > 0;
  if (!any) return sl_fail(err, SL_EUSAGE, "the report has no section (give an alignment, a model, ...)");
  sl_sb b = {0};
  sl_sb_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
                 "<meta name=\"generator\" content=\"seqloop " SL_VERSION "\">\n<title>");
  sl_sb_esc(&b, r->title);
  sl_sb_printf(&b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
  sl_sb_esc(&b, r->title);
  sl_sb_puts(&b, "</h1>\n<nav>");
  for (int s = 0; s < SL_REPORT_NSECTIONS; s++)
    if (r->html[s].n) sl_sb_printf(&b, "<a href=\"#%s\">%s</a>", section_names[s], section_titles[s]);
  sl_sb_puts(&b, "</nav>\n<table class=\"kv\">\n");
  const cJSON *it;
  cJSON_ArrayForEach(it, r->sources)
    kv(&b, cJSON_GetObjectItem(it, "role")->valuestring, "%s", cJSON_GetObjectItem(it, "path")->valuestring);
  sl_sb_puts(&b, "</table>\n");
  for (int s = 0; s < SL_REPORT_NSECTIONS; s++) {
    if (!r->html[s].n) continue;
    sl_sb_printf(&b, "<section id=\"%s\">\n<h2>%s</h2>\n", section_names[s], section_titles[s]);
    sl_sb_puts(&b, r->html[s].s);
    sl_sb_puts(&b, "</section>\n");
  }
  sl_sb_puts(&b, "<footer>Written by seqloop " SL_VERSION " (seqloop report); the same data are in the JSON beside "
                 "this file, the provenance in its .prov.json sidecar.</footer>\n</body>\n</html>\n");
  if (b.oom) {
    sl_sb_free(&b);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  *ret_text = b.s;
  return SL_OK;
}

int sl_report_json(const sl_report *r, char **ret_text, sl_error *err) {
  *ret_text = NULL;
  cJSON *root = cJSON_CreateObject();
  if (!root) return sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON_AddStringToObject(root, "title", r->title);
  cJSON_AddItemToObject(root, "sources", cJSON_Duplicate(r->sources, 1));
  int any = 0;
  for (int s = 0; s < SL_REPORT_NSECTIONS; s++)
    if (r->data[s] && r->html[s].n) {
      cJSON_AddItemToObject(root, section_names[s], cJSON_Duplicate(r->data[s], 1));
      any = 1;
    }
  if (!any) {
    cJSON_Delete(root);
    return sl_fail(err, SL_EUSAGE, "the report has no section (give an alignment, a model, ...)");
  }
  *ret_text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!*ret_text) return sl_fail(err, SL_ENOMEM, "out of memory");
  return SL_OK;
}
