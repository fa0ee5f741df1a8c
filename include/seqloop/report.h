/* seqloop/report.h: one self-contained HTML page (and the same data as
 * JSON) showing what seqloop's files hold: the alignment, a model, its
 * contacts, variant effects, samples, a design ledger and a
 * perpetual-motion cycle (docs/report.md).
 *
 * A report is built section by section from objects the caller has read
 * (an sl_msa, an sl_model, a scored CSV, an open ledger, ...), then
 * rendered. Plots are inline SVG drawn here; the page loads nothing (no
 * script, font, style sheet or image from anywhere). Rendering is a pure
 * function of the sections added: no time, host or random number goes into
 * the page, so the same inputs give the same bytes. Sections appear in a
 * fixed order (alignment, model, contacts, variants, samples, design,
 * cycle) whatever the order of the calls.
 */
#ifndef SEQLOOP_REPORT_H
#define SEQLOOP_REPORT_H

#include <stdint.h>

#include "seqloop/audit.h"
#include "seqloop/base.h"
#include "seqloop/ledger.h"
#include "seqloop/model.h"
#include "seqloop/msa.h"
#include "seqloop/seqfile.h"
#include "seqloop/structure.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_report sl_report;

/* Section ids, in page order. */
enum { SL_REPORT_ALIGNMENT = 0, SL_REPORT_MODEL, SL_REPORT_CONTACTS, SL_REPORT_VARIANTS,
       SL_REPORT_SAMPLES, SL_REPORT_DESIGN, SL_REPORT_CYCLE, SL_REPORT_NSECTIONS };
/* "alignment", "model", ...: the section's HTML id and JSON key. */
const char *sl_report_section_name(int section);

SL_MUSTCHECK int sl_report_create(const char *title, sl_report **ret, sl_error *err);
void sl_report_destroy(sl_report *r);

/* sl_report_alignment()
 * Purpose:  Depth (N, Neff, Neff/L, depth class), coverage per column and per
 *           row, entropy per column, and what ingestion dropped and why
 *           (msa->rep). a: sl_audit_compute(msa, w) of the same alignment.
 */
SL_MUSTCHECK int sl_report_alignment(sl_report *r, const sl_msa *msa, const sl_audit *a, sl_error *err);

/* sl_report_model()
 * Purpose:  Kind, L, q, couplings or not, file size; entropy where the kind
 *           defines one (ent NULL: not computed); held-out bits per site and
 *           perplexity (heldout NULL: none given; needs SL_CAP_NORMALISED and
 *           SL_CAP_ALIGNED: rows over the model's L columns);
 *           per column of aligned kinds, the site entropy: exact for
 *           independent sites (SL_CAP_INDEPENDENT), else of the marginals
 *           of 2000 exact samples (SL_CAP_EXACT_SAMPLE; seed, any thread
 *           count gives the same draws), else of the fields softmax(h_i)
 *           alone (said so on the plot); with the alignment's column
 *           entropy beside it when the alignment section has the same L
 *           (add the alignment first).
 * Args:     path: the model file as named by the user (shown); file_bytes: its size
 */
SL_MUSTCHECK int sl_report_model(sl_report *r, const char *path, int64_t file_bytes, const sl_model *m,
                                 const sl_entropy *ent, const sl_msa *heldout, uint64_t seed, int threads,
                                 sl_error *err);

/* sl_report_contacts()
 * Purpose:  APC-corrected coupling scores of a model with SL_CAP_COUPLINGS:
 *           the top L pairs with |i-j| >= min_sep on a contact map; with a
 *           structure (st not NULL; the focus aligned to st->seq), its
 *           contacts (CB < 8 A, |i-j| >= min_sep) in the lower triangle,
 *           true and false predictions told apart, and the precision of the
 *           top k pairs for k = 1..2L.
 * Returns:  SL_EUSAGE for a model without couplings.
 */
SL_MUSTCHECK int sl_report_contacts(sl_report *r, const sl_model *m, const sl_structure *st,
                                    int64_t min_sep, sl_error *err);

/* sl_report_variants()
 * Purpose:  From a scored CSV (`seqloop score`): a positions x amino acids
 *           heat map of the single mutants' scores, wild type marked; with
 *           measured_col, predicted against measured with Spearman's rho
 *           (all scored rows with both values finite).
 * Args:     mutant_col, score_col: column names ("mutant", "seqloop_score")
 * Returns:  SL_EINPUT naming a missing column or a table without singles.
 */
SL_MUSTCHECK int sl_report_variants(sl_report *r, const sl_csv *csv, const char *mutant_col,
                                    const char *score_col, const char *measured_col, sl_error *err);

/* sl_report_samples()
 * Purpose:  Samples against the natural alignment (same L and alphabet):
 *           one-point frequencies (scatter), connected two-point
 *           correlations (binned density), novelty (Hamming distance to
 *           the nearest natural) and diversity (between the first 300
 *           samples) histograms; summary numbers from sl_sample_stats.
 *           w: the naturals' weights (NULL: 1). Single-threaded, so
 *           the numbers do not depend on a thread count.
 */
SL_MUSTCHECK int sl_report_samples(sl_report *r, const char *path, const sl_msa *samples, const sl_msa *nat,
                                   const double *w, sl_error *err);

/* sl_report_design()
 * Purpose:  The newest run of a design ledger: best so far against the
 *           measurements (and the global maximum where the round summaries
 *           give a regret), predictions with mean +- 2 sd against measured
 *           values per round, bits injected per round, distance to the
 *           naturals per round.
 */
SL_MUSTCHECK int sl_report_design(sl_report *r, const char *path, sl_ledger *l, sl_error *err);

/* sl_report_cycle()
 * Purpose:  The CSV of `seqloop audit cycle`: held-out log P and entropy per
 *           generation for each arm.
 * Returns:  SL_EINPUT naming a missing column.
 */
SL_MUSTCHECK int sl_report_cycle(sl_report *r, const sl_csv *csv, sl_error *err);

/* sl_report_add_source()
 * Purpose:  Record an input file (role, path) in the page's list of sources.
 */
SL_MUSTCHECK int sl_report_add_source(sl_report *r, const char *role, const char *path, sl_error *err);

/* sl_report_html(), sl_report_json()
 * Purpose:  Render the page / the data (caller frees *ret_text).
 * Returns:  SL_OK; SL_EUSAGE when no section was added; SL_ENOMEM.
 */
SL_MUSTCHECK int sl_report_html(const sl_report *r, char **ret_text, sl_error *err);
SL_MUSTCHECK int sl_report_json(const sl_report *r, char **ret_text, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
