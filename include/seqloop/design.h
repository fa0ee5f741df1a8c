/* seqloop/design.h: closed-loop sequence design: oracles, a predictor with
 * uncertainty, proposal generators, acquisition, and the loop that writes
 * every step to the ledger (docs/design.md).
 *
 * Sequences in a design space are L codes in 0..q-1, written as text with
 * one symbol per code (protein: "ACDEFGHIKLMNPQRSTVWY", no gap; an Ehrlich
 * function with v states: the first v of "0-9A-Za-z"). The text is what the
 * ledger and the lab see.
 */
#ifndef SEQLOOP_DESIGN_H
#define SEQLOOP_DESIGN_H

#include <stdint.h>
#include <stdio.h>

#include "seqloop/base.h"
#include "seqloop/ledger.h"
#include "seqloop/model.h"
#include "seqloop/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_DESIGN_PROTEIN "ACDEFGHIKLMNPQRSTVWY"
#define SL_DESIGN_SYMBOLS62 "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
/* The largest magnitude a measurement may have (ingested, or answered by an
 * oracle): beyond it the predictor's sums of squares overflow (1e308 made
 * every later prediction infinite). Measured quantities are nowhere near it. */
#define SL_DESIGN_MAX_VALUE 1e100

/* ---- oracles ----------------------------------------------------------------
 * One interface for every source of measurements. measure() fills y[k] for n
 * sequences x (n*L codes); y[k] = NAN means "not measurable" (a failed
 * experiment: it uses budget and is recorded, but never trains the
 * predictor). An oracle is deterministic unless it is external.
 */
typedef struct sl_oracle sl_oracle;
struct sl_oracle {
  char name[32];          /* "ehrlich", "table", "model", "external" */
  int64_t L;
  int q;
  char symbols[64];       /* q symbols */
  double optimum;         /* the global maximum if known, else NAN */
  char *optimum_seq;      /* a sequence reaching it (text), or NULL */
  char *start_seq;        /* a natural starting point (text), or NULL */
  char *spec_json;        /* parameters that rebuild the instance */
  int (*measure)(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err);
  void (*destroy_impl)(void *impl);
  void *impl;
};

/* sl_oracle_create()
 * Purpose:  Build an oracle from a specification:
 *             ehrlich:v=32,c=4,k=4,L=32,q=4,seed=1
 *             table:FILE[,seq=COL][,value=COL][,missing=na|error][,symbols=S]
 *             model:FILE            (H(s) = sl_model_energy; log P for ar)
 *             external:COMMAND      (JSON lines over stdin/stdout, see below)
 *             lab                   (measurements come from design ingest)
 * Args:     timeout_s - external: seconds to wait for each answer
 *           L         - external: sequence length (from the start sequence)
 *           symbols   - external: the alphabet (NULL: protein)
 * Returns:  SL_OK; SL_EUSAGE for a bad specification; SL_EINPUT/SL_EIO for
 *           bad files, with file and line.
 */
SL_MUSTCHECK int sl_oracle_create(const char *spec, double timeout_s, int64_t L, const char *symbols,
                                  sl_oracle **ret_o, sl_error *err);
void sl_oracle_destroy(sl_oracle *o);

/* sl_oracle_callback_register()
 * Purpose:  Make fn the oracle "callback:NAME" (for bindings: Python's
 *           seqloop.design). fn receives n sequences as text and fills y[k]
 *           (pre-set to NAN: not measurable); a nonzero status with err
 *           filled fails the round, which is rolled back. fn NULL
 *           unregisters. A resumed campaign needs the same name registered.
 * Returns:  SL_OK; SL_EUSAGE for a bad name; SL_ENOMEM past 16 names.
 */
typedef int (*sl_oracle_callback_fn)(void *ctx, const char *const *seqs, int64_t n, double *y, sl_error *err);
SL_MUSTCHECK int sl_oracle_callback_register(const char *name, sl_oracle_callback_fn fn, void *ctx, sl_error *err);
SL_MUSTCHECK int sl_oracle_measure(sl_oracle *o, const uint8_t *x, int64_t n, double *y, sl_error *err);

/* sl_design_results_read()
 * Purpose:  Read a lab results CSV (columns 'sequence' and 'value'; others
 *           ignored; '#' lines before the header skipped): every sequence
 *           must fit the oracle's space, every value must be a finite
 *           number, no sequence may repeat. Errors name the file and line.
 * Args:     ret_seqs, ret_values - RETURN: n entries (caller frees each and both)
 */
SL_MUSTCHECK int sl_design_results_read(const char *path, const sl_oracle *o, char ***ret_seqs,
                                        double **ret_values, int64_t *ret_n, sl_error *err);
/* sl_design_results_read_rep(): the same, where a sequence may have up to
 * max_rep rows (its replicate measurements, in file order); more is
 * SL_EINPUT naming the line. max_rep 1 is sl_design_results_read(). */
SL_MUSTCHECK int sl_design_results_read_rep(const char *path, const sl_oracle *o, int max_rep, char ***ret_seqs,
                                            double **ret_values, int64_t *ret_n, sl_error *err);

/* Text <-> codes in the oracle's space; encode fails (SL_EINPUT) on a wrong
 * length or symbol, with the reason in err. */
SL_MUSTCHECK int sl_design_encode(const sl_oracle *o, const char *text, uint8_t *x, sl_error *err);
void sl_design_decode(const sl_oracle *o, const uint8_t *x, char *text);

/* ---- Ehrlich functions (Stanton et al. 2024; holo-bench) ---------------------
 * The construction follows holo-bench's Ehrlich class step by step (banded
 * transition matrix with shuffled rows and the diagonal always allowed,
 * softmax(randn / 0.5) entries, ergodicity check; motifs from one DMP
 * trajectory of length c*k started from the stationary distribution, cut
 * into c pieces; spacings 1 + floor((slack / c) * w) with w uniform on the
 * simplex), drawn with seqloop's xoshiro generator instead of torch's: the
 * same family of functions, not the same instances as a torch seed.
 * Infeasible sequences score 0 (holo-bench: -inf) so the ledger stays finite.
 */
typedef struct sl_ehrlich {
  int v, c, k, L, q;
  uint64_t seed;
  double *T;          /* v*v transition matrix (T[a*v + b] = P(b | a)); 0 = banned */
  double *stat;       /* v stationary distribution */
  int *motif;         /* c*k states */
  int *spacing;       /* c*k offsets (spacing[m*k + 0] = 0, increasing) */
} sl_ehrlich;

SL_MUSTCHECK int sl_ehrlich_create(int v, int c, int k, int L, int q, uint64_t seed,
                                   sl_ehrlich **ret_e, sl_error *err);
void sl_ehrlich_destroy(sl_ehrlich *e);
/* Objective in [0, 1] (0 if infeasible). */
double sl_ehrlich_eval(const sl_ehrlich *e, const uint8_t *x);
int sl_ehrlich_feasible(const sl_ehrlich *e, const uint8_t *x);
/* holo-bench's optimal_solution(): motifs at their spacings, gaps filled by
 * repeats. x: L codes (RETURN). */
void sl_ehrlich_optimum(const sl_ehrlich *e, uint8_t *x);
/* holo-bench's initial_solution(): one DMP trajectory (feasible, usually far
 * from optimal), from a generator seeded with e->seed + 1. */
void sl_ehrlich_initial(const sl_ehrlich *e, uint8_t *x);
/* JSON description (parameters, transition matrix, motifs, spacings); caller frees. */
char *sl_ehrlich_json(const sl_ehrlich *e);

/* ---- predictor: bootstrap ensemble of kernel ridge regressions ----------------
 * Features: one-hot sites (+ optional one-hot site pairs) (+ optional prior
 * score, standardised). Each of B members is fitted on a bootstrap resample
 * in the dual (n x n Cholesky), so pairwise features cost nothing extra in
 * memory. Prediction: mean and sd across members. */
typedef struct sl_predictor sl_predictor;
typedef struct sl_predictor_opts {
  int members;        /* B (10) */
  double lambda;      /* ridge penalty (1.0) */
  int pairwise;       /* add pair features (0) */
  double prior_weight; /* weight of the standardised prior feature (1.0; 0 = none) */
  double noise_sd;    /* known measurement noise sd (0: none): adds noise_sd^2 / var(y) to the
                       * penalty of each member's scaled problem */
  double descriptors; /* weight w of residue-descriptor features (0: off): five published
                       * per-residue scales per site (+ their products across site pairs with
                       * pairwise), kernel w^2 (sum_i s_i + sum_{i<j} s_i s_j), s_i = <d(x_i), d(x'_i)>;
                       * protein alphabets only (SL_EUSAGE otherwise) */
  double order_weight; /* c > 0: the all-orders kernel (0: off, the additive or pairwise one).
                        * Every interaction order k = 1..L of one-hot sites, weighted c^(k-1):
                        * k(x, x') = ((1 + c)^m - 1) / c, m = agreeing sites (c -> 0: additive;
                        * implies pairs, so pairwise is ignored); with descriptors
                        * + w^2 (prod_i (1 + c s_i) - 1) / c. SL_EUSAGE if (1 + c)^L > e^690. */
  const char *symbols; /* the alphabet of the codes (NULL: SL_DESIGN_PROTEIN); read at fit only */
} sl_predictor_opts;
void sl_predictor_opts_init(sl_predictor_opts *o);
/* Fit on n sequences x (n*L codes) with values y and prior scores (NULL if none). */
SL_MUSTCHECK int sl_predictor_fit(const sl_predictor_opts *o, int64_t L, const uint8_t *x,
                                  const double *y, const double *prior, int64_t n, sl_rng *rng,
                                  sl_predictor **ret_p, sl_error *err);
/* sl_predictor_fit_counts(): the same, where y[i] is the mean of count[i] >= 1
 * replicate measurements of x_i (NULL: one each). Equal to fitting every
 * replicate as its own row when the ensemble has one member (no resampling):
 * point i's penalty is lambda / count[i] and the centring mean is weighted by
 * the counts. A count below 1 is SL_EINPUT. */
SL_MUSTCHECK int sl_predictor_fit_counts(const sl_predictor_opts *o, int64_t L, const uint8_t *x,
                                         const double *y, const double *count, const double *prior,
                                         int64_t n, sl_rng *rng, sl_predictor **ret_p, sl_error *err);
/* Mean and sd over members, and (if member_out) each member's prediction (B values). */
void sl_predictor_predict(const sl_predictor *p, const uint8_t *x, double prior, double *ret_mean,
                          double *ret_sd, double *member_out);
int sl_predictor_members(const sl_predictor *p);
/* sl_predictor_descriptors(): the descriptor vector of amino acid aa (5 values:
 * Kyte-Doolittle hydropathy, Zamyatnin volume, charge, Grantham polarity, Pace-Scholtz
 * helix propensity, each standardised over the 20 amino acids and divided by sqrt(5)).
 * Returns 5, or -1 if aa is not one of ACDEFGHIKLMNPQRSTVWY. */
int sl_predictor_descriptors(char aa, double *out);
/* sl_predictor_oob(): mean and sd over the members whose bootstrap resample
 * left training point j (0-based, the order of fit) out; returns how many
 * (sd is NAN below 2, mean below 1; -1: out of memory). */
int sl_predictor_oob(const sl_predictor *p, int64_t j, double *ret_mean, double *ret_sd);
/* sl_predictor_inbag(): out[i*B + b] = 1 if training point i is in member
 * b's resample (n*B bytes). Returns 0 for a one-member ensemble (no
 * resampling: every point is in), else 1. */
int sl_predictor_inbag(const sl_predictor *p, uint8_t *out);
void sl_predictor_destroy(sl_predictor *p);

/* ---- conformal prediction (conformal.c; docs/design.md "Conformal intervals") ----
 * Methods: split (exchangeable calibration data); weighted (calibration
 * points weighted by a likelihood ratio); jab, the loop's intervals:
 * jackknife+-after-bootstrap (Kim, Xu & Barber 2020) on the bootstrap
 * ensemble's out-of-bag residuals (sl_conformal_jab); recent: split
 * conformal whose calibration set is the latest designed batches, each
 * scored by the prediction made when it was proposed; batch: split conformal
 * within each designed batch, a random part of it (measured first) calibrating
 * the rest (exchangeable by the random split, whatever chose the batch). */
enum { SL_CONF_NONE = 0, SL_CONF_SPLIT = 1, SL_CONF_WEIGHTED = 2, SL_CONF_JAB = 3, SL_CONF_RECENT = 4,
       SL_CONF_BATCH = 5 };
/* recent: calibrate on at least this many of the latest designed measurements */
#define SL_CONF_RECENT_MIN 50
/* Scores (jab, recent, weighted) are |y - mean| / max(sd, SL_CONF_SD_FLOOR); batch's are y - mean. */
#define SL_CONF_SD_FLOOR 1e-9
const char *sl_conformal_method_name(int m);
int sl_conformal_method_parse(const char *s);   /* -1 if unknown */
/* sl_conformal_quantile()
 * Purpose:  The conformal (1 - alpha) quantile of n calibration scores.
 *           w == NULL: split conformal, the ceil((1 - alpha)(n + 1))-th
 *           smallest score (+inf when that exceeds n). Otherwise weighted
 *           conformal (Tibshirani et al. 2019): the smallest score whose
 *           cumulative weight reaches (1 - alpha) of the total, the test
 *           point's weight w_test counted as a point mass at +inf.
 * Returns:  the quantile (may be +inf); NAN when out of memory.
 */
double sl_conformal_quantile(const double *scores, const double *w, int64_t n, double w_test, double alpha);
/* sl_conformal_calibrate(): the quantile of normalised scores
 * |y_i - mean_i| / sd_i (weights as in sl_conformal_quantile). */
double sl_conformal_calibrate(const double *y, const double *mean, const double *sd, const double *w, int64_t n,
                              double w_test, double alpha);
/* sl_conformal_jab()
 * Purpose:  Jackknife+-after-bootstrap interval at one input from an
 *           ensemble of B members: member[b] the members' predictions at the
 *           input, inbag[i*B + b] whether training point i is in member b's
 *           resample, oob_res[i] = |y_i - mean of i's out-of-bag members at
 *           x_i| (NAN: i was in every resample, left out). The interval is
 *           [q_alpha^-(mu_-i(x) - R_i), q_1-alpha^+(mu_-i(x) + R_i)]
 *           over the n' usable points, mu_-i(x) the mean of i's out-of-bag
 *           members at x; an end is infinite when n' is too small for alpha.
 *           work: 2n doubles.
 */
void sl_conformal_jab(const double *member, int B, const uint8_t *inbag, const double *oob_res, int64_t n, double alpha,
                      double *work, double *lower, double *upper);
/* sl_conformal_interval(): mean +- q sd (+-inf when q is infinite). */
void sl_conformal_interval(double mean, double sd, double q, double *lower, double *upper);

/* Full conformal ridge regression on a finite input space of U points with
 * features phi (U x p, row-major) and the design distribution
 * p(x) ∝ exp(lambda mu(x)) (Fannjiang et al. 2022). Candidate labels:
 * the uniform grid y0 + k dy, k < ny. ptrain: the training density on the
 * space (NULL: uniform). */
typedef struct sl_conformal_ridge {
  int64_t U, p;
  const double *phi;
  const double *ptrain;
  double gamma;          /* ridge penalty */
  double lambda;         /* inverse temperature of the design distribution */
  double alpha;
  double y0, dy;
  int64_t ny;
} sl_conformal_ridge;
/* sl_conformal_ridge_sets()
 * Purpose:  Conformal sets for the label of input `test` given n training
 *           inputs train[] (indices into the space) with labels ytrain:
 *           in_exch[k] = 1 if grid value k is in the unweighted full
 *           conformal set (valid for exchangeable data only), in_std[k] = 1 if grid value k is in the standard covariate-shift
 *           set (weights from the fit on the training data), in_fcs[k] = 1
 *           if in the feedback-covariate-shift set (weights from every
 *           leave-one-out fit of the augmented data). Any may be NULL.
 *           Scores: leave-one-out residuals. lambda = 0: both are the
 *           unweighted full conformal set. ret_pred (may be NULL): the ridge
 *           fit's prediction at the test input.
 */
SL_MUSTCHECK int sl_conformal_ridge_sets(const sl_conformal_ridge *pr, const int64_t *train, const double *ytrain,
                                         int64_t n, int64_t test, uint8_t *in_exch, uint8_t *in_std, uint8_t *in_fcs,
                                         double *ret_pred, sl_error *err);

/* ---- the loop ------------------------------------------------------------------ */
enum { SL_PROPOSE_MUTATE = 0, SL_PROPOSE_GA = 1, SL_PROPOSE_RANDOM = 2, SL_PROPOSE_WALK = 3,
       SL_PROPOSE_PRIOR = 4, SL_PROPOSE_CBAS = 5, SL_PROPOSE_CBAS_AR = 6,
       SL_PROPOSE_ALL = 7 /* every unmeasured sequence of a small design space (<= SL_PROPOSE_ALL_MAX) */ };
#define SL_PROPOSE_ALL_MAX 4194304
enum { SL_ACQ_GREEDY = 0, SL_ACQ_UCB = 1, SL_ACQ_EI = 2, SL_ACQ_THOMPSON = 3 };

typedef struct sl_design_opts {
  uint64_t seed;
  int rounds;           /* last round number (10; < 0: no limit, the budget decides) */
  int batch;            /* measurements per round (8) */
  int64_t budget;       /* stop when this many measurements exist (0: rounds decide) */
  int proposer;         /* SL_PROPOSE_* */
  int acquisition;      /* SL_ACQ_* */
  double beta;          /* UCB: mean + beta sd (2) */
  int use_predictor;    /* 0: pick candidates at random (the plain GA / random baselines) */
  int candidates;       /* candidates generated per round (1000) */
  int mutations;        /* mutate/GA: substitutions per child, 1..mutations (2) */
  int max_edits;        /* trust region: Hamming distance to the start (0: L) */
  double min_prior;     /* trust region: prior log P(x) - log P(start) >= -min_prior (inf: off) */
  double prior_top;     /* trust region as a share: the top prior_top of the (enumerable) design space by
                           prior log P, ties included (0: off); a campaign resolves it into min_prior
                           (sl_design_prior_top_cut; the tighter of the two holds) */
  int min_distance;     /* diversity: minimum Hamming distance within a batch (1) */
  int population;       /* GA: parents = top this many measured (32) */
  sl_predictor_opts pred;
  int conformal;        /* SL_CONF_NONE, _JAB, _RECENT, _WEIGHTED or _BATCH: intervals for every prediction (none);
                           _WEIGHTED samples each batch from a known density (query.c); _BATCH: intervals
                           for the part of each batch not drawn to calibrate them (loop.c) */
  double alpha;         /* their miscoverage (0.1) */
  int init_random;      /* round 1 is this many uniform random sequences (ALDE's first batch; 0: off) */
  double oracle_noise;  /* automated runs: add N(0, oracle_noise^2) to each measurement (0: off) */
  int replicates;       /* measurements per designed sequence: design run measures each this many
                           times; design ingest takes up to this many rows of one sequence (1) */
  double query_lambda;  /* --conformal weighted: each batch drawn from exp(query_lambda * acquisition) over
                           the design space (10) */
  double cal_lambda;    /* --conformal weighted: the held-out (cal) draws from exp(cal_lambda * acquisition) (2) */
  double cal_fraction;  /* --conformal weighted: share of each batch's draws held out to calibrate the next
                           round's intervals; batch: share of each batch calibrating the rest's (0.5) */
  int crash_after;      /* tests: raise SIGKILL inside round crash_after's transaction (-1: never) */
} sl_design_opts;
void sl_design_opts_init(sl_design_opts *o);
/* The ranges of the numeric options: one place for the library's check
 * below and the command line's parser (cli/cmd_design.c). */
#define SL_DESIGN_ROUNDS_MAX 1000000
#define SL_DESIGN_BATCH_MAX 1000000
#define SL_DESIGN_CANDIDATES_MAX 10000000
#define SL_DESIGN_MUTATIONS_MAX 1000
#define SL_DESIGN_SITES_MAX 1000000      /* --max-edits, --min-distance, --init-random */
#define SL_DESIGN_POPULATION_MAX 10000000
#define SL_DESIGN_MEMBERS_MAX 1000
#define SL_DESIGN_REPLICATES_MAX 100
#define SL_DESIGN_SHARE_MIN 1e-6         /* --alpha and --cal-fraction lie in [MIN, 1 - MIN] */
#define SL_DESIGN_QUERY_LAMBDA_MAX 1e6   /* --query-lambda, --cal-lambda */
/* sl_design_opts_check()
 * Purpose:  Check every option of o against its range (and the codes of the
 *           proposer, acquisition and conformal method), as the command line
 *           does, for callers that fill the struct themselves (the Python
 *           package, a stored campaign). rounds < 0 means no round limit;
 *           budget 0 none.
 * Returns:  SL_OK, or SL_EUSAGE naming the first option out of range with
 *           its command-line spelling and the value given.
 */
SL_MUSTCHECK int sl_design_opts_check(const sl_design_opts *o, sl_error *err);
int sl_design_proposer_parse(const char *s);
int sl_design_acquisition_parse(const char *s);
const char *sl_design_proposer_name(int p);
const char *sl_design_acquisition_name(int a);

/* A prior: a seqloop model and which model column each design site is
 * (cols[i] for site i; the other columns keep the model's focus).
 * cache memoises log P by design sequence (an ar or Potts log P costs
 * O(L^2 q) for the whole model length, and loops revisit neighbourhoods);
 * create it with sl_design_prior_cache_create() or leave it NULL. */
typedef struct sl_design_prior {
  sl_model *m;
  int64_t *cols;      /* L entries */
  void *cache;
} sl_design_prior;
/* sl_design_prior_cache_create(): a memo for sequences of length L, holding
 * at most max_entries (then it stops growing). SL_OK or SL_ENOMEM. */
SL_MUSTCHECK int sl_design_prior_cache_create(sl_design_prior *p, int64_t L, int64_t max_entries,
                                              sl_error *err);
void sl_design_prior_cache_destroy(sl_design_prior *p);
/* sl_design_prior_top_cut()
 * Purpose:  The --min-prior cut that keeps the top share (0, 1] of the design
 *           space of o by prior log P: every sequence of the space is scored
 *           (o->q^L <= SL_PROPOSE_ALL_MAX), v is the value at rank
 *           ceil(share * size) from the top, and *ret_cut = log P(start) - v,
 *           so that the filter log P(x) - log P(start) >= -cut keeps v's whole
 *           tie block (at least the share; unscorable sequences rank last).
 *           The cut may be negative when the start is outside the share.
 * Returns:  SL_OK; SL_EUSAGE for a space too large or a share outside
 *           (0, 1]; SL_ENOMEM.
 */
SL_MUSTCHECK int sl_design_prior_top_cut(const sl_design_prior *p, const sl_oracle *o, const uint8_t *start,
                                         double share, double *ret_cut, sl_error *err);

/* Per-round summary (also written to round_stats). */
typedef struct sl_design_round {
  int64_t k;
  int64_t n_measured;     /* total after the round */
  double best;            /* best measured so far */
  double batch_mean;      /* mean of this round's measurements */
  double batch_best;
  double regret;          /* optimum - best (NAN if unknown) */
  double prior_logp;      /* mean prior log P of the proposals (NAN if no prior) */
  double dist_natural;    /* mean Hamming distance of proposals to the nearest natural */
  double coverage90;      /* fraction of measurements inside the 90% predictive interval */
  double acceptance;      /* accepted / generated candidates (filters) */
  double bits_injected;   /* log2(1 / acceptance) */
  double conformal_coverage; /* fraction of measurements inside their conformal interval (NAN: none) */
  double conformal_width;    /* mean width of the bounded conformal intervals (NAN: none) */
  double conformal_unbounded; /* --conformal weighted: share of unbounded intervals (NAN: other methods) */
} sl_design_round;

/* sl_design_setup()
 * Purpose:  Start or resume the campaign in ledger l: if the ledger has a run,
 *           its options must equal options_json (else SL_EUSAGE naming both);
 *           otherwise a run is added with round 0 in one transaction: the
 *           start sequence (and any naturals) recorded and the start
 *           measured; with the lab oracle round 0 is left 'proposed', a
 *           batch of one (the start) for the lab to measure.
 * Args:     naturals    - n_nat sequences (text) recorded as natural (may be 0)
 *           ret_run     - RETURN: run id
 *           ret_created - RETURN: 1 if this call created the run
 */
SL_MUSTCHECK int sl_design_setup(sl_ledger *l, sl_oracle *o, const sl_design_opts *opts,
                                 const char *start, const char *const *naturals, int64_t n_nat,
                                 const sl_design_prior *prior, const char *cmdline,
                                 const char *options_json, const char *inputs_json,
                                 int64_t *ret_run, int *ret_created, sl_error *err);
/* sl_design_propose()
 * Purpose:  Round k = last + 1: fit the predictor on the ledger's
 *           measurements, generate and filter candidates, select a batch,
 *           and write sequences, predictions and the filter statistics with
 *           round status 'proposed'. Callers wrap it in a transaction.
 *           *ret_k = -1 if the rounds or the budget are spent; -2 if no new
 *           candidate passed the filters (the campaign is stuck: a walk at a
 *           local optimum, or a trust region too tight); nothing is written
 *           then, and the caller rolls back.
 *           The round's generator is seeded from (seed, k), so a resumed run
 *           draws exactly what an uninterrupted one draws.
 */
SL_MUSTCHECK int sl_design_propose(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *opts,
                                   const sl_design_prior *prior, int64_t *ret_k, sl_error *err);
/* sl_design_record()
 * Purpose:  Record measurements of round k's batch (values in the batch's
 *           order as sl_design_batch returns it, or looked up by sequence)
 *           and the round statistics; mark it done. Callers wrap it in a
 *           transaction together with anything else of the round.
 */
SL_MUSTCHECK int sl_design_record(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *opts,
                                  int64_t k, const char *const *seqs, const double *values, int64_t n,
                                  const sl_design_prior *prior, sl_design_round *ret_round,
                                  sl_error *err);
/* sl_design_plate()
 * Purpose:  --conformal batch in a lab: the open round's batch as a CSV
 *           (round,sequence,part,predicted_mean,lower,upper), part
 *           "calibrate" or "rest" (the split that recording will use), and
 *           for the rest the intervals that the calibration values given
 *           (seqs[i], values[i], n of them; n = 0: none yet, bounds empty)
 *           give: those recorded when the whole round is ingested with the
 *           same calibration values. Writes intervals into the ledger:
 *           callers wrap it in a transaction and roll it back.
 * Returns:  SL_OK; SL_EUSAGE when the campaign is not --conformal batch or
 *           no designed round awaits measurements; SL_EINPUT naming a
 *           sequence that is not in the calibration part.
 */
SL_MUSTCHECK int sl_design_plate(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *opts,
                                 const sl_design_prior *prior, const char *const *seqs,
                                 const double *values, int64_t n, FILE *fp, sl_error *err);
/* sl_design_batch(): the sequences proposed in round k (text; caller frees
 * each and the array) with their predictions. */
SL_MUSTCHECK int sl_design_batch(sl_ledger *l, int64_t run, int64_t k, char ***ret_seqs,
                                 double **ret_mean, double **ret_sd, int64_t *ret_n, sl_error *err);
/* sl_design_step()
 * Purpose:  One automated round: propose, measure with the oracle, record,
 *           all in one transaction. ret_round->k = -1 when the rounds or
 *           the budget are spent, -2 when no new candidate passed the filters.
 */
SL_MUSTCHECK int sl_design_step(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *opts,
                                const sl_design_prior *prior, sl_design_round *ret_round,
                                sl_error *err);
/* Prior log P (ar, profile) or energy (Potts) of a design sequence x (L
 * codes): the model's focus with the design sites replaced. work: the
 * model's L codes (scratch). NAN without a prior. */
double sl_design_prior_logp(const sl_design_prior *p, int64_t L, const uint8_t *x, uint8_t *work);


/* ---- campaigns (campaign.c) -------------------------------------------------------
 * A campaign is a ledger, the options stored in it, an oracle and a prior.
 * What `seqloop design run|propose|ingest` does, as a library:
 *
 *   sl_design_campaign_opts g;
 *   sl_design_campaign_opts_init(&g);
 *   g.oracle = sl_strdup("ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4");
 *   g.o.budget = 40; g.given = g.budget_given = 1;
 *   sl_design_campaign *c;
 *   if (sl_design_campaign_open("l.db", &g, SL_CAMPAIGN_RUN, "my program", &c, &err)) ...
 *   sl_design_end e;
 *   if (sl_design_campaign_run(c, NULL, NULL, &e, &err)) ...
 *   sl_design_campaign_close(c);
 *   sl_design_campaign_opts_free(&g);
 *
 * Limits: o.rounds and o.budget. A --budget given without --rounds lifts the
 * round limit (the campaign runs until the budget is spent); both given:
 * whichever comes first; neither: 10 rounds. Limits may change between
 * calls; every other option is fixed by the first call (docs/design.md).
 */
typedef struct sl_design_campaign_opts {
  char *oracle;          /* specification (sl_oracle_create); required for a new campaign */
  char *start;           /* start sequence (NULL: the oracle's) */
  char *symbols;         /* external/lab alphabet (NULL: protein) */
  char *naturals;        /* FASTA of natural sequences (NULL: none) */
  char *prior;           /* a seqloop model file (NULL: none) */
  char *prior_sites;     /* "265,266,..." residue numbers of the design sites in the prior (NULL: all) */
  double oracle_timeout; /* external oracle: seconds per answer (60) */
  sl_design_opts o;      /* the loop's options, limits included */
  int given;             /* 1: campaign options were given (compared with the stored ones);
                          * 0: a resumed campaign takes the stored ones */
  int rounds_given;      /* o.rounds was given (else: stored, or 10, or none with a budget) */
  int budget_given;      /* o.budget was given (else: stored) */
  int trust_ledger_oracle; /* 1: a resume with given == 0 may start the ledger's stored
                            * external:COMMAND; 0 (default): refused, since a ledger
                            * received from elsewhere must not run code (issue 18) */
} sl_design_campaign_opts;

/* Strings are owned by the struct: free() before replacing one. */
void sl_design_campaign_opts_init(sl_design_campaign_opts *c);
void sl_design_campaign_opts_free(sl_design_campaign_opts *c);
/* The canonical JSON of the options (the ledger's runs.options); caller frees; NULL: out of memory. */
char *sl_design_campaign_opts_json(const sl_design_campaign_opts *c);
/* Options stored as JSON back into *ret (initialised here; caller frees). SL_EINPUT if invalid. */
SL_MUSTCHECK int sl_design_campaign_opts_from_json(const char *text, sl_design_campaign_opts *ret,
                                                   sl_error *err);
/* sl_design_campaign_opts_diff()
 * Purpose:  Compare stored options with current ones, key by key, ignoring
 *           the limits (rounds, budget). *ret_text is NULL when they agree,
 *           else (caller frees) one clause per differing option, with the
 *           option's command-line name and both values, e.g.
 *           "--batch: the ledger's run used 8, this command line says 16".
 */
SL_MUSTCHECK int sl_design_campaign_opts_diff(const char *stored_json, const char *now_json,
                                              char **ret_text, sl_error *err);

enum { SL_CAMPAIGN_RUN = 0, SL_CAMPAIGN_PROPOSE = 1, SL_CAMPAIGN_INGEST = 2 };

/* An open campaign. Read-only for callers. */
typedef struct sl_design_campaign {
  sl_ledger *ledger;
  char *ledger_path;
  int64_t run;                 /* the ledger's run id */
  int created;                 /* 1 if this open created the run (and round 0) */
  sl_oracle *oracle;
  sl_design_prior prior;
  sl_design_campaign_opts opts; /* the options in force: stored or given, with the limits in force */
} sl_design_campaign;

/* sl_design_campaign_open()
 * Purpose:  Open (or create) the ledger, settle the options (the stored ones
 *           when given->given is 0; else given ones, which must equal the
 *           stored ones except for the limits), build the oracle, read the
 *           prior and the naturals, record the inputs' SHA-256, and create
 *           round 0 on a new ledger (sl_design_setup).
 * Args:     mode    - SL_CAMPAIGN_RUN (refuses the lab oracle), _PROPOSE, or
 *                     _INGEST (refuses a ledger without a campaign)
 *           cmdline - recorded with a new run
 * Returns:  SL_OK; SL_EUSAGE for missing or conflicting options (a resume
 *           with other options names each one with both values); SL_EINPUT /
 *           SL_EIO for bad files. Nothing is written on failure.
 */
SL_MUSTCHECK int sl_design_campaign_open(const char *ledger_path, const sl_design_campaign_opts *given,
                                         int mode, const char *cmdline, sl_design_campaign **ret_c,
                                         sl_error *err);
void sl_design_campaign_close(sl_design_campaign *c);

/* Why a run ended (bits of why): the round limit, the budget, or no new
 * candidate passed the filters. */
enum { SL_DESIGN_END_ROUNDS = 1, SL_DESIGN_END_BUDGET = 2, SL_DESIGN_END_STUCK = 4 };
typedef struct sl_design_end {
  int why;
  int64_t last_round;   /* the last round in the ledger */
  int64_t n_measured;   /* measurements after it */
} sl_design_end;

/* sl_design_campaign_run()
 * Purpose:  Automated rounds (sl_design_step) until a limit is reached or
 *           the campaign is stuck; on_round (may be NULL) sees each round's
 *           summary after its commit. ret_end says why it ended.
 */
SL_MUSTCHECK int sl_design_campaign_run(sl_design_campaign *c,
                                        void (*on_round)(const sl_design_round *R, void *arg), void *arg,
                                        sl_design_end *ret_end, sl_error *err);

/* A writer of a proposed batch: called inside the round's transaction,
 * before the commit (a failed write leaves the round unopened). mean/sd are
 * NAN where there is no prediction. */
typedef int (*sl_design_batch_writer)(void *arg, int64_t k, char *const *seqs, const double *mean,
                                      const double *sd, int64_t n, sl_error *err);
/* sl_design_campaign_propose()
 * Purpose:  Open the next round for the lab (a new lab campaign: round 0,
 *           the start alone), hand its batch to write, commit.
 * Returns:  SL_OK with *ret_k, *ret_n; SL_EUSAGE when a round awaits
 *           measurements or the campaign is complete; SL_EINPUT when no new
 *           candidate passed the filters.
 */
SL_MUSTCHECK int sl_design_campaign_propose(sl_design_campaign *c, sl_design_batch_writer write, void *arg,
                                            int64_t *ret_k, int64_t *ret_n, sl_error *err);
/* sl_design_campaign_ingest()
 * Purpose:  Record a results CSV (sl_design_results_read) as the open
 *           round's measurements, in one transaction: all or nothing.
 *           Errors name the file and end in "(nothing was recorded)".
 */
SL_MUSTCHECK int sl_design_campaign_ingest(sl_design_campaign *c, const char *results_path,
                                           sl_design_round *ret_round, sl_error *err);
/* sl_design_campaign_plate()
 * Purpose:  The open round's plate under --conformal batch (sl_design_plate):
 *           which sequences to measure first, and once results_path (NULL:
 *           none) holds their values, the intervals of the rest. Records
 *           nothing (its transaction is rolled back).
 */
SL_MUSTCHECK int sl_design_campaign_plate(sl_design_campaign *c, const char *results_path, FILE *fp,
                                          sl_error *err);
/* sl_design_rounds_write(): the per-round table (CSV, one header line, one
 * row per round: round, n_measured, best, regret, batch_mean, batch_best,
 * prior_logp, dist_natural, coverage90, acceptance, bits_injected; empty
 * cells for absent values). */
SL_MUSTCHECK int sl_design_rounds_write(sl_ledger *l, FILE *fp, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
