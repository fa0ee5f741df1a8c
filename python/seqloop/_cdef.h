/* _cdef.h: the part of seqloop's C API the Python bindings call, in cffi's
 * cdef dialect ("...;" lets the compiler fill in the rest of a struct).
 * API mode: build_cffi.py compiles this against include/seqloop/seqloop.h, so
 * a declaration that disagrees with the headers fails the build. */
enum { SL_OK = 0, SL_EINPUT = 1, SL_EUSAGE = 2, SL_EIO = 3, SL_ENOMEM = 4, SL_EINTERNAL = 5 };
typedef struct sl_error { int status; char msg[1024]; } sl_error;
const char *sl_version(void);
const char *sl_status_name(int status);
int sl_threads_default(void);
enum { SL_CH_UNKNOWN = 0, SL_CH_RESIDUE = 1, SL_CH_GAP = 2, SL_CH_NONSTD = 3 };

typedef struct sl_alphabet { int type; int q; const char *name; const char *symbols; uint8_t cls[256]; uint8_t code[256]; } sl_alphabet;
const sl_alphabet *sl_alphabet_get(int type);
int sl_alphabet_parse(const char *s);

typedef struct sl_ingest_report { int64_t n_records; int64_t n_kept; int64_t cols_in; int64_t cols_kept; ...; } sl_ingest_report;
typedef struct sl_msa_opts { int format; int alphabet; const char *focus; int focus_first; double max_gap_frac;
  double min_coverage; int nonstd; int allow_dup_names; double evc_min_seq_cov; double evc_min_col_cov; } sl_msa_opts;
typedef struct sl_msa { int64_t N, L; const sl_alphabet *abc; uint8_t *x; char **name; int64_t focus;
  int64_t focus_start; int64_t *pos; char *path; char sha256[...]; sl_ingest_report rep; ...; } sl_msa;
void sl_msa_opts_init(sl_msa_opts *o);
int sl_msa_read(const char *path, const sl_msa_opts *o, sl_msa **ret_msa, sl_error *err);
int sl_msa_from_rows(const sl_alphabet *abc, const uint8_t *x, int64_t N, int64_t L, const char *prefix,
                     const char *path, sl_msa **ret, sl_error *err);
void sl_msa_destroy(sl_msa *msa);

typedef struct sl_weights_opts { int convention; double theta; int threads; int kernel; ...; } sl_weights_opts;
void sl_weights_opts_init(sl_weights_opts *o);
int sl_weights_convention_parse(const char *s);
int sl_weights_compute(const sl_msa *msa, const sl_weights_opts *o, double *ret_w, double *ret_neff, sl_error *err);

typedef struct sl_model { int64_t L; int q; int gap_missing; const sl_alphabet *abc; float *h; float *J;
  char *focus_name; uint8_t *focus; int64_t *pos; int64_t *order; double neff; int64_t n_train; char *meta; ...; } sl_model;
typedef struct sl_model_ws sl_model_ws;
typedef struct sl_draw_opts { double T; double top_p; const uint8_t *fixed; const uint8_t *prefix; int64_t n_prefix; } sl_draw_opts;
#define SL_CAP_NORMALISED ...
#define SL_CAP_EXACT_SAMPLE ...
#define SL_CAP_COUPLINGS ...
#define SL_CAP_CONDITIONALS ...
#define SL_CAP_ALIGNED ...
#define SL_CAP_INDEPENDENT ...
void sl_draw_opts_init(sl_draw_opts *o);
void sl_model_destroy(sl_model *m);
int sl_model_ws_create(const sl_model *m, sl_model_ws **ret_ws, sl_error *err);
void sl_model_ws_destroy(sl_model_ws *ws);
int sl_model_score(const sl_model *m, sl_model_ws *ws, const uint8_t *s, double *ret, sl_error *err);
int sl_model_logp(const sl_model *m, sl_model_ws *ws, const uint8_t *s, double *ret, sl_error *err);
int64_t sl_model_row_len(const sl_model *m);
int sl_model_write(const char *path, const sl_model *m, sl_error *err);
int sl_model_read(const char *path, sl_model **ret_m, sl_error *err);
const char *sl_model_name(const sl_model *m);
unsigned sl_model_caps(const sl_model *m);

typedef int (*sl_plm_progress_fn)(void *ctx, int iter, int n_evals, double fx, double gnorm, double xnorm, double seconds);
typedef struct sl_plm_opts { double lambda_h; double lambda_J; int gap_missing; int max_iter; double epsilon;
  int lbfgs_m; int threads; double stop_at; sl_plm_progress_fn progress; void *progress_ctx; const double *init;
  int portable; ...; } sl_plm_opts;
typedef struct sl_plm_report { double fx; double neg_loglk; int iterations; int evaluations; int lbfgs_status;
  double seconds; ...; } sl_plm_report;
void sl_plm_opts_init(sl_plm_opts *o);
int sl_plm_preset(const char *name, int64_t L, int q, sl_plm_opts *o, sl_error *err);
int sl_potts_fit_plm(const sl_msa *msa, const double *w, const sl_plm_opts *o, sl_model **ret_m,
                     sl_plm_report *rep, sl_error *err);
int sl_profile_fit(const sl_msa *msa, const double *w, double lambda_h, int gap_missing, sl_model **ret_m, sl_error *err);

typedef struct sl_ar_opts { double lambda_h; double lambda_J; int order_kind; const int64_t *order; int threads;
  int max_iter; double epsilon; ...; } sl_ar_opts;
typedef struct sl_ar_report { double neg_loglk; double objective; int64_t iterations; double seconds; int n_not_converged; ...; } sl_ar_report;
void sl_ar_opts_init(sl_ar_opts *o);
int sl_ar_fit(const sl_msa *msa, const double *w, const sl_ar_opts *o, sl_model **ret_m, sl_ar_report *rep, sl_error *err);

typedef struct sl_mutation { int64_t col; int64_t pos; uint8_t wt; uint8_t mt; } sl_mutation;
#define SL_MAX_MUTATIONS ...
int sl_mutant_parse(const sl_model *m, const char *text, int64_t offset, sl_mutation *ret_mut, int *ret_n, sl_error *err);
int sl_mutant_delta(const sl_model *m, sl_model_ws *ws, const uint8_t *s, const sl_mutation *mut, int n,
                    double *ret, sl_error *err);
int sl_coupling_scores(const sl_model *m, int gauge, double *ret_fn, double *ret_raw, sl_error *err);

int sl_sample_ancestral(const sl_model *m, const sl_draw_opts *o, int64_t n, uint64_t seed, int threads,
                        void *pr, uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err);
typedef struct sl_gibbs_opts { int64_t burnin; int64_t thin; int chains; double T; uint64_t seed;
  const uint8_t *fixed; int threads; ...; } sl_gibbs_opts;
void sl_gibbs_opts_init(sl_gibbs_opts *o);
int sl_gibbs_sample(const sl_model *m, const sl_gibbs_opts *o, int64_t n, uint8_t *out, double *energy,
                    double *ret_rhat, sl_error *err);

/* _glue.h: the bindings' own loops */
int slpy_score_many(const sl_model *m, const uint8_t *x, int64_t n, int normalised, int threads,
                    double *ret, sl_error *err);
int slpy_delta_many(const sl_model *m, const uint8_t *ref, const char *const *mutants, int64_t n,
                    int64_t offset, int skip_invalid, int threads, double *ret, sl_error *err);
int slpy_all_singles(const sl_model *m, const uint8_t *ref, double *ret, sl_error *err);

/* Python callbacks (called from C with the GIL taken by cffi) */
extern "Python" int _py_plm_progress(void *ctx, int iter, int n_evals, double fx, double gnorm, double xnorm, double seconds);

/* splits and leakage (split.h) */
typedef struct sl_leakage { int64_t n_test, n_train; double *max_id; int64_t *nearest; int64_t hist[20];
  int64_t above[7]; double mean, median, max; double threshold; int64_t n_leaky; int held_out; } sl_leakage;
extern const double sl_leak_thresholds[7];
int sl_leakage_compute(const uint8_t *train, int64_t n_train, const uint8_t *test, int64_t n_test, int64_t L,
                       double threshold, int threads, int kernel, sl_leakage **ret, sl_error *err);
void sl_leakage_destroy(sl_leakage *lk);
typedef struct sl_split_opts { int method; double t1; double t2; double test_frac; uint64_t seed; int kernel; } sl_split_opts;
typedef struct sl_split_report { int64_t n_train, n_test, n_dropped; int64_t n_clusters; int64_t n_test_clusters; } sl_split_report;
void sl_split_opts_init(sl_split_opts *o);
int sl_split_method_parse(const char *s);
int sl_split(const uint8_t *x, int64_t N, int64_t L, int64_t keep_in_train, const sl_split_opts *o, int8_t *ret_set,
             sl_split_report *rep, sl_error *err);

/* design (design.h) */
typedef struct sl_predictor_opts { int members; double lambda; int pairwise; double prior_weight; double descriptors;
  double order_weight; ...; } sl_predictor_opts;
typedef struct sl_design_opts { uint64_t seed; int rounds; int batch; int64_t budget; int proposer; int acquisition;
  double beta; int use_predictor; int candidates; int mutations; int max_edits; double min_prior; double prior_top; int min_distance;
  int population; sl_predictor_opts pred; int conformal; double alpha; int init_random; double oracle_noise;
  int replicates; double query_lambda; double cal_lambda; double cal_fraction; ...; } sl_design_opts;
int sl_conformal_method_parse(const char *s);
typedef struct sl_design_end { int why; int64_t last_round; int64_t n_measured; } sl_design_end;
void sl_design_opts_init(sl_design_opts *o);
int sl_design_proposer_parse(const char *s);
int sl_design_acquisition_parse(const char *s);
typedef int (*sl_oracle_callback_fn)(void *ctx, const char *const *seqs, int64_t n, double *y, sl_error *err);
int sl_oracle_callback_register(const char *name, sl_oracle_callback_fn fn, void *ctx, sl_error *err);
int slpy_design_run(const char *ledger, const char *oracle, const char *start, const char *symbols,
                    const char *prior, const char *prior_sites, const char *naturals, const sl_design_opts *o,
                    int rounds_given, int budget_given, sl_design_end *ret_end, sl_error *err);
int slpy_ledger_csv(const char *path, const char *table, int with_times, char **ret, sl_error *err);
void slpy_free(void *p);
int sl_ledger_export_tables(const char *const **ret_names);
extern "Python" int _py_oracle(void *ctx, const char *const *seqs, int64_t n, double *y, sl_error *err);
int slpy_model_finish(sl_model *m, const sl_msa *msa, const char *meta, sl_error *err);
int sl_model_write_plmc_msa(const char *path, const sl_model *m, const sl_msa *msa, const double *w, double theta,
                            double lambda_h, double lambda_J, int max_iter, sl_error *err);
int sl_weights_write(const char *path, const sl_msa *msa, const double *w, int plmc_format, const char *provenance,
                     sl_error *err);

/* the transformer (tfm.h; training and log P of unaligned sequences, _glue.c) */
typedef struct sl_tfm_config { int n_layer; int d_model; int n_head; int n_ctx; int vocab; } sl_tfm_config;
#define SL_TFM_VOCAB ...
typedef struct sl_tfm_train_opts { int64_t steps; int batch; double lr; double min_lr_frac; int64_t warmup;
  double beta1, beta2; double eps; double weight_decay; double clip; uint64_t seed; int64_t eval_every;
  int64_t ckpt_every; int threads;
  int (*progress)(void *, int64_t, double, double, int64_t, double, double, int); void *progress_ctx; ...; } sl_tfm_train_opts;
void sl_tfm_train_opts_init(sl_tfm_train_opts *o);
int slpy_tfm_fit(const char *const *seqs, const double *w, int64_t n, const char *ref, const int64_t *ref_pos,
                 const char *ref_name, const sl_tfm_config *cfg0, const sl_tfm_train_opts *o, const char *meta,
                 sl_model **ret, int64_t *ret_skipped, sl_error *err);
int slpy_tfm_logp(sl_model *m, const char *const *seqs, int64_t n, int threads, double *ret, sl_error *err);
extern "Python" int _py_tfm_progress(void *ctx, int64_t step, double lr, double loss, int64_t ntok, double seconds,
                                     double eval_nll, int is_eval);

/* zero-shot kinds and RSA weighting (zeroshot.h, sasa.h) */
int sl_lor_fit(const sl_msa *msa, const double *w, double reg, sl_model **ret_m, sl_error *err);
int sl_gemme_fit(const sl_msa *msa, const double *w, double alpha, sl_model **ret_m, sl_error *err);
int sl_profile_fit_evc(const sl_msa *msa, const double *w, double lambda_h, int gap_missing, sl_model **ret_m,
                       sl_error *err);
int sl_model_scale_columns(sl_model *m, const double *f, sl_error *err);
typedef struct sl_rsa_map { int64_t n_res; int64_t aligned; int64_t mapped; double identity; } sl_rsa_map;
int sl_rsa_model_factors(const sl_model *m, const char *path, const char *chain, int n_points, double min_identity,
                         double *fac, sl_rsa_map *rep, sl_error *err);
int slpy_model_set_meta(sl_model *m, const char *meta, sl_error *err);
