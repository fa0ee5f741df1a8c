/* campaign.c: a design campaign over a ledger: the options that define it,
 * how they are stored and compared on resume, and the three ways to drive
 * it (run, propose, ingest).
 *
 * Contents
 *   1. options: init/free, the canonical JSON, back from JSON, the diff
 *   2. open: stored options vs given ones, the limits in force, the oracle,
 *      the prior, the inputs' hashes, round 0
 *   3. run, propose, ingest; the per-round table
 *
 * The options that define a campaign are written to the ledger as JSON on
 * the first call (runs.options); later calls with no campaign option reuse
 * them, and calls that give options must give the same ones, so a resumed
 * campaign cannot silently change course. The limits (--rounds, --budget)
 * are the exception: they may change between calls.
 *
 * Limits: --budget alone runs until the budget is spent (rounds unlimited,
 * stored as "rounds": null); --rounds alone stops after that round; both:
 * whichever comes first (sl_design_end says which); neither: 10 rounds.
 * Whenever a command gives --budget without --rounds the round limit is
 * lifted, also on resume, so rerunning a command line continues what it
 * asked for.
 *
 * Why the JSON is canonical (fixed key order, cJSON's number printing): it
 * is stored once and compared key by key later; a stored run written by an
 * older seqloop compares equal as long as its values are equal.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "seqloop/seqfile.h"
#include "loop_impl.h"

/* ---- 1. options ------------------------------------------------------------------ */
void sl_design_campaign_opts_init(sl_design_campaign_opts *c) {
  memset(c, 0, sizeof *c);
  c->oracle_timeout = 60;
  sl_design_opts_init(&c->o);
}

void sl_design_campaign_opts_free(sl_design_campaign_opts *c) {
  if (!c) return;
  free(c->oracle); free(c->start); free(c->symbols); free(c->naturals); free(c->prior); free(c->prior_sites);
  c->oracle = c->start = c->symbols = c->naturals = c->prior = c->prior_sites = NULL;
}

static int opts_copy(const sl_design_campaign_opts *src, sl_design_campaign_opts *dst) {
  *dst = *src;
  dst->oracle = src->oracle ? sl_strdup(src->oracle) : NULL;
  dst->start = src->start ? sl_strdup(src->start) : NULL;
  dst->symbols = src->symbols ? sl_strdup(src->symbols) : NULL;
  dst->naturals = src->naturals ? sl_strdup(src->naturals) : NULL;
  dst->prior = src->prior ? sl_strdup(src->prior) : NULL;
  dst->prior_sites = src->prior_sites ? sl_strdup(src->prior_sites) : NULL;
  if ((src->oracle && !dst->oracle) || (src->start && !dst->start) || (src->symbols && !dst->symbols) ||
      (src->naturals && !dst->naturals) || (src->prior && !dst->prior) || (src->prior_sites && !dst->prior_sites)) {
    sl_design_campaign_opts_free(dst);
    return -1;
  }
  return 0;
}

static void add_str(cJSON *j, const char *k, const char *v) {
  if (v) cJSON_AddStringToObject(j, k, v);
  else cJSON_AddNullToObject(j, k);
}

char *sl_design_campaign_opts_json(const sl_design_campaign_opts *c) {
  cJSON *j = cJSON_CreateObject();
  if (!j) return NULL;
  add_str(j, "oracle", c->oracle);
  cJSON_AddNumberToObject(j, "oracle_timeout", c->oracle_timeout);
  add_str(j, "start", c->start);
  add_str(j, "symbols", c->symbols);
  add_str(j, "naturals", c->naturals);
  add_str(j, "prior", c->prior);
  add_str(j, "prior_sites", c->prior_sites);
  cJSON_AddNumberToObject(j, "seed", (double)c->o.seed);
  cJSON_AddNumberToObject(j, "batch", c->o.batch);
  cJSON_AddStringToObject(j, "proposer", sl_design_proposer_name(c->o.proposer));
  cJSON_AddStringToObject(j, "acquisition", sl_design_acquisition_name(c->o.acquisition));
  cJSON_AddNumberToObject(j, "beta", c->o.beta);
  cJSON_AddBoolToObject(j, "predictor", c->o.use_predictor);
  cJSON_AddNumberToObject(j, "candidates", c->o.candidates);
  cJSON_AddNumberToObject(j, "mutations", c->o.mutations);
  cJSON_AddNumberToObject(j, "max_edits", c->o.max_edits);
  if (isfinite(c->o.min_prior)) cJSON_AddNumberToObject(j, "min_prior", c->o.min_prior);
  else cJSON_AddNullToObject(j, "min_prior");
  cJSON_AddNumberToObject(j, "min_distance", c->o.min_distance);
  cJSON_AddNumberToObject(j, "population", c->o.population);
  cJSON_AddNumberToObject(j, "members", c->o.pred.members);
  cJSON_AddNumberToObject(j, "lambda", c->o.pred.lambda);
  cJSON_AddBoolToObject(j, "pairwise", c->o.pred.pairwise);
  cJSON_AddNumberToObject(j, "prior_weight", c->o.pred.prior_weight);
  /* stored only when on, like init_random: ledgers made before the option
   * existed (and campaigns without it) keep the same options and resume */
  if (c->o.pred.descriptors > 0) cJSON_AddNumberToObject(j, "descriptors", c->o.pred.descriptors);
  if (c->o.pred.order_weight > 0) cJSON_AddNumberToObject(j, "order_weight", c->o.pred.order_weight);
  /* Options added after campaigns existed are stored only when not at their
   * defaults, so an older ledger's options still compare equal. */
  if (c->o.conformal != SL_CONF_NONE) {
    cJSON_AddStringToObject(j, "conformal", sl_conformal_method_name(c->o.conformal));
    cJSON_AddNumberToObject(j, "alpha", c->o.alpha);
    if (c->o.conformal == SL_CONF_WEIGHTED) {
      cJSON_AddNumberToObject(j, "query_lambda", c->o.query_lambda);
      cJSON_AddNumberToObject(j, "cal_fraction", c->o.cal_fraction);
      cJSON_AddNumberToObject(j, "cal_lambda", c->o.cal_lambda);
    }
    if (c->o.conformal == SL_CONF_BATCH) cJSON_AddNumberToObject(j, "cal_fraction", c->o.cal_fraction);
  }
  if (c->o.init_random > 0) cJSON_AddNumberToObject(j, "init_random", c->o.init_random);
  if (c->o.oracle_noise > 0) cJSON_AddNumberToObject(j, "oracle_noise", c->o.oracle_noise);
  if (c->o.replicates > 1) cJSON_AddNumberToObject(j, "replicates", c->o.replicates);
  if (c->o.prior_top > 0) cJSON_AddNumberToObject(j, "prior_top", c->o.prior_top);
  if (c->o.rounds >= 0) cJSON_AddNumberToObject(j, "rounds", c->o.rounds);
  else cJSON_AddNullToObject(j, "rounds"); /* no round limit: the budget decides */
  cJSON_AddNumberToObject(j, "budget", (double)c->o.budget);
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  return s;
}

static char *get_str(const cJSON *j, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsString(v) ? sl_strdup(v->valuestring) : NULL;
}
static double get_num(const cJSON *j, const char *k, double def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1 : 0) : def;
}

int sl_design_campaign_opts_from_json(const char *text, sl_design_campaign_opts *ret, sl_error *err) {
  cJSON *j = cJSON_Parse(text);
  if (!j || !cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return sl_fail(err, SL_EINPUT, "the stored campaign options are not a JSON object");
  }
  sl_design_campaign_opts n;
  sl_design_campaign_opts_init(&n);
  const cJSON *rounds = cJSON_GetObjectItemCaseSensitive(j, "rounds");
  n.o.rounds = cJSON_IsNull(rounds) ? -1 : (int)get_num(j, "rounds", 10);
  n.o.budget = (int64_t)get_num(j, "budget", 0);
  n.oracle = get_str(j, "oracle");
  n.start = get_str(j, "start");
  n.symbols = get_str(j, "symbols");
  n.naturals = get_str(j, "naturals");
  n.prior = get_str(j, "prior");
  n.prior_sites = get_str(j, "prior_sites");
  n.oracle_timeout = get_num(j, "oracle_timeout", 60);
  n.o.seed = (uint64_t)get_num(j, "seed", 1);
  n.o.batch = (int)get_num(j, "batch", 8);
  char *p = get_str(j, "proposer"), *a = get_str(j, "acquisition");
  n.o.proposer = p ? sl_design_proposer_parse(p) : SL_PROPOSE_MUTATE;
  n.o.acquisition = a ? sl_design_acquisition_parse(a) : SL_ACQ_UCB;
  n.o.beta = get_num(j, "beta", 2);
  n.o.use_predictor = (int)get_num(j, "predictor", 1);
  n.o.candidates = (int)get_num(j, "candidates", 1000);
  n.o.mutations = (int)get_num(j, "mutations", 2);
  n.o.max_edits = (int)get_num(j, "max_edits", 0);
  n.o.min_prior = get_num(j, "min_prior", INFINITY);
  n.o.min_distance = (int)get_num(j, "min_distance", 1);
  n.o.population = (int)get_num(j, "population", 32);
  n.o.pred.members = (int)get_num(j, "members", 10);
  n.o.pred.lambda = get_num(j, "lambda", 1);
  n.o.pred.pairwise = (int)get_num(j, "pairwise", 0);
  n.o.pred.prior_weight = get_num(j, "prior_weight", 1);
  n.o.pred.descriptors = get_num(j, "descriptors", 0);
  n.o.pred.order_weight = get_num(j, "order_weight", 0);
  char *cf = get_str(j, "conformal");
  n.o.conformal = cf ? sl_conformal_method_parse(cf) : SL_CONF_NONE;
  n.o.alpha = get_num(j, "alpha", 0.1);
  n.o.query_lambda = get_num(j, "query_lambda", 10.0);
  n.o.cal_fraction = get_num(j, "cal_fraction", 0.5);
  n.o.cal_lambda = get_num(j, "cal_lambda", 2.0);
  n.o.init_random = (int)get_num(j, "init_random", 0);
  n.o.oracle_noise = get_num(j, "oracle_noise", 0);
  n.o.replicates = (int)get_num(j, "replicates", 1);
  n.o.prior_top = get_num(j, "prior_top", 0);
  cJSON_Delete(j);
  if (n.o.conformal < 0 || (cf && n.o.conformal != SL_CONF_JAB && n.o.conformal != SL_CONF_RECENT &&
                               n.o.conformal != SL_CONF_WEIGHTED && n.o.conformal != SL_CONF_BATCH)) {
    int st = sl_fail(err, SL_EINPUT, "the stored campaign options name an unknown conformal method '%s'", cf);
    free(cf); free(p); free(a);
    sl_design_campaign_opts_free(&n);
    return st;
  }
  free(cf);
  int status = SL_OK;
  if (n.o.proposer < 0 || n.o.acquisition < 0)
    status = sl_fail(err, SL_EINPUT, "the stored campaign options name an unknown proposer '%s' or acquisition '%s'",
                     p ? p : "", a ? a : "");
  else if (sl_design_opts_check(&n.o, err)) { /* a ledger edited or forged elsewhere */
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    status = sl_fail(err, SL_EINPUT, "the stored campaign options are out of range: %s", msg);
  }
  free(p);
  free(a);
  if (status) { sl_design_campaign_opts_free(&n); return status; }
  *ret = n;
  return SL_OK;
}

/* The command-line spelling of a stored key, and whether it is a flag
 * ("predictor" is stored positively but spelled --no-predictor). */
static void option_name(const char *key, char *buf, size_t n, int *negated) {
  *negated = strcmp(key, "predictor") == 0;
  if (*negated) { snprintf(buf, n, "--no-predictor"); return; }
  snprintf(buf, n, "--%s", key);
  for (char *s = buf; *s; s++) if (*s == '_') *s = '-';
}

static void value_text(const cJSON *v, char *buf, size_t n) {
  if (!v || cJSON_IsNull(v)) snprintf(buf, n, "none");
  else if (cJSON_IsString(v)) snprintf(buf, n, "'%.200s'", v->valuestring);
  else {
    char *t = cJSON_PrintUnformatted(v);
    snprintf(buf, n, "%s", t ? t : "?");
    free(t);
  }
}

int sl_design_campaign_opts_diff(const char *stored_json, const char *now_json, char **ret_text,
                                 sl_error *err) {
  *ret_text = NULL;
  cJSON *a = cJSON_Parse(stored_json), *b = cJSON_Parse(now_json);
  size_t cap = 1024, len = 0;
  char *text = malloc(cap);
  int status = SL_OK;
  if (!a || !b || !text) {
    if (!a || !b) status = sl_fail(err, SL_EINPUT, "campaign options are not valid JSON");
    else status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  text[0] = '\0';
  /* Every key of either side, in the order of the current options (then any
   * key only an older ledger has). */
  for (int side = 0; side < 2 && !status; side++) {
    const cJSON *it, *keys = side == 0 ? b : a;
    cJSON_ArrayForEach(it, keys) {
      const char *key = it->string;
      if (!strcmp(key, "rounds") || !strcmp(key, "budget")) continue; /* limits may change */
      if (side == 1 && cJSON_GetObjectItemCaseSensitive(b, key)) continue;
      const cJSON *va = cJSON_GetObjectItemCaseSensitive(a, key), *vb = cJSON_GetObjectItemCaseSensitive(b, key);
      int same = (!va || cJSON_IsNull(va)) && (!vb || cJSON_IsNull(vb));
      if (!same && va && vb) same = cJSON_Compare(va, vb, 1);
      if (same) continue;
      char name[64], sa[256], sb[256], line[700];
      int neg;
      option_name(key, name, sizeof name, &neg);
      if (cJSON_IsBool(va) || cJSON_IsBool(vb)) {
        int on_a = cJSON_IsTrue(va) != neg, on_b = cJSON_IsTrue(vb) != neg;
        (void)on_b;
        snprintf(line, sizeof line, "%s: the ledger's run %s it, this command line %s", name,
                 on_a ? "used" : "did not use", on_a ? "does not" : "does");
      } else {
        value_text(va, sa, sizeof sa);
        value_text(vb, sb, sizeof sb);
        snprintf(line, sizeof line, "%s: the ledger's run used %s, this command line says %s", name, sa, sb);
      }
      size_t need = len + strlen(line) + 3;
      if (need > cap) {
        char *t = realloc(text, 2 * need);
        if (!t) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
        text = t;
        cap = 2 * need;
      }
      len += (size_t)sprintf(text + len, "%s%s", len ? "; " : "", line);
    }
  }
DONE:
  cJSON_Delete(a);
  cJSON_Delete(b);
  if (status || len == 0) { free(text); return status; }
  *ret_text = text;
  return SL_OK;
}

/* ---- 2. open --------------------------------------------------------------------- */
/* Record an input file's hash in the run's inputs (path -> SHA-256). */
static void add_input(cJSON *inputs, const char *path) {
  char hex[SL_SHA256_HEX];
  if (path && sl_sha256_file(path, hex) == 0) cJSON_AddStringToObject(inputs, path, hex);
}

static int parse_int(const char *s, long long *ret) {
  char *e = NULL;
  long long v = strtoll(s, &e, 10);
  if (e == s || *e) return -1;
  *ret = v;
  return 0;
}

/* The prior: read the model, map the design sites to its columns, memoise. */
static int load_prior(const sl_design_campaign_opts *c, const sl_oracle *o, sl_design_prior *p, sl_error *err) {
  memset(p, 0, sizeof *p);
  if (!c->prior) return SL_OK;
  int status = sl_model_read(c->prior, &p->m, err);
  if (status) return status;
  if (!(p->cols = malloc((size_t)o->L * sizeof *p->cols))) return sl_fail(err, SL_ENOMEM, "out of memory");
  if (!c->prior_sites) {
    if (p->m->L != o->L)
      return sl_fail(err, SL_EUSAGE, "--prior %s has %lld columns but designs have length %lld: give "
                     "--prior-sites", c->prior, (long long)p->m->L, (long long)o->L);
    for (int64_t i = 0; i < o->L; i++) p->cols[i] = i;
  } else {
    char *list = sl_strdup(c->prior_sites), *save = NULL;
    int64_t n = 0;
    if (!list) return sl_fail(err, SL_ENOMEM, "out of memory");
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      long long num;
      int64_t col = -1;
      if (parse_int(t, &num) == 0)
        for (int64_t j = 0; j < p->m->L; j++) if (p->m->pos[j] == num) col = j;
      if (col < 0 || n >= o->L) {
        status = sl_fail(err, SL_EUSAGE, "--prior-sites: '%s' is not a residue number of %s (or too many sites)",
                         t, c->prior);
        free(list);
        return status;
      }
      p->cols[n++] = col;
    }
    free(list);
    if (n != o->L)
      return sl_fail(err, SL_EUSAGE, "--prior-sites lists %lld sites, designs have length %lld", (long long)n,
                     (long long)o->L);
  }
  /* Memoise log P: up to 2^20 sequences, or 256 MB of keys for long designs. */
  int64_t max_entries = (int64_t)1 << 20;
  if (o->L * max_entries > ((int64_t)1 << 28)) max_entries = ((int64_t)1 << 28) / o->L;
  if ((status = sl_design_prior_cache_create(p, o->L, max_entries, err))) return status;
  /* Design symbols must be the model's residues in the model's order. */
  if (strncmp(o->symbols, p->m->abc->symbols + 1, (size_t)o->q) != 0 || o->q != p->m->abc->q - 1)
    return sl_fail(err, SL_EUSAGE, "--prior %s: its alphabet (%s) differs from the design symbols (%s)", c->prior,
                   p->m->abc->symbols + 1, o->symbols);
  return SL_OK;
}

static void prior_free(sl_design_prior *p) {
  sl_design_prior_cache_destroy(p);
  sl_model_destroy(p->m);
  free(p->cols);
  memset(p, 0, sizeof *p);
}

void sl_design_campaign_close(sl_design_campaign *c) {
  if (!c) return;
  prior_free(&c->prior);
  sl_oracle_destroy(c->oracle);
  sl_ledger_close(c->ledger);
  sl_design_campaign_opts_free(&c->opts);
  free(c->ledger_path);
  free(c);
}

int sl_design_campaign_open(const char *ledger_path, const sl_design_campaign_opts *given, int mode,
                            const char *cmdline, sl_design_campaign **ret_c, sl_error *err) {
  sl_design_campaign *c = calloc(1, sizeof *c);
  sl_seqset *nat = NULL;
  char *opts_json = NULL, *inputs_json = NULL, *stored_json = NULL;
  cJSON *inputs = NULL;
  int status = SL_OK;
  *ret_c = NULL;
  if (!c || !(c->ledger_path = sl_strdup(ledger_path)) || opts_copy(given, &c->opts)) {
    free(c ? c->ledger_path : NULL);
    free(c);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  c->run = -1;
  sl_design_campaign_opts *op = &c->opts;
  /* Options filled by a caller other than the command line (the Python
   * package) are checked as the command line checks its own. */
  if (given->given && (status = sl_design_opts_check(&given->o, err))) goto ERROR;
  /* Refused before the ledger file exists: a sampled batch (--conformal
   * weighted) needs the whole space and an acquisition that is a function
   * of the predictor (Thompson draws a member per slot: no density). */
  if (given->given && given->o.conformal == SL_CONF_WEIGHTED) {
    const sl_design_opts *g = &given->o;
    if (!sl_design_has_density(g->proposer))
      status = sl_fail(err, SL_EUSAGE, "--conformal weighted draws each batch from a density over the whole design "
                       "space: use --proposer all, prior, cbas or cbas-ar");
    else if (g->acquisition == SL_ACQ_THOMPSON)
      status = sl_fail(err, SL_EUSAGE, "--conformal weighted draws from a softmax of the acquisition: Thompson "
                       "sampling has no such density (use ucb, ei or greedy)");
    if (status) goto ERROR;
  }
  if (given->given && given->o.prior_top > 0 && !given->prior) {
    status = sl_fail(err, SL_EUSAGE, "--prior-top keeps a share of the design space by the prior's log P: give --prior");
    goto ERROR;
  }
  /* A ledger that does not exist yet is created only once every check has
   * passed (below, before round 0), so a refused command line leaves no
   * file behind; one that exists is opened now, for its stored run. */
  struct stat st;
  const int fresh = stat(ledger_path, &st) != 0;
  if (!fresh && (status = sl_ledger_open(ledger_path, &c->ledger, err))) goto ERROR;

  /* The limits in force: given now, else stored, else the defaults; a
   * --budget without --rounds lifts the round limit. */
  int limit_rounds = given->rounds_given ? given->o.rounds : given->budget_given ? -1 : given->o.rounds;
  int64_t limit_budget = given->o.budget;
  sl_ledger_run r;
  int found = 0;
  if (!fresh && (status = sl_ledger_run_last(c->ledger, &r, &found, err))) goto ERROR;
  if (found) {
    sl_design_campaign_opts stored;
    status = sl_design_campaign_opts_from_json(r.options_json, &stored, err);
    if (!status && !(stored_json = sl_strdup(r.options_json))) {
      sl_design_campaign_opts_free(&stored);
      status = sl_fail(err, SL_ENOMEM, "out of memory");
    }
    sl_ledger_run_free(&r);
    if (status) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err->msg);
      status = sl_fail(err, SL_EINPUT, "%s: %s", ledger_path, msg);
      goto ERROR;
    }
    if (!given->rounds_given && !given->budget_given) limit_rounds = stored.o.rounds;
    if (!given->budget_given) limit_budget = stored.o.budget;
    if (!given->given) { /* no campaign option given: take the stored ones (the test hook stays) */
      /* A ledger may come from someone else: its stored command runs only
       * when the user names it again, or says they trust the ledger. */
      if (stored.oracle && !strncmp(stored.oracle, "external:", 9) && !given->trust_ledger_oracle) {
        status = sl_fail(err, SL_EUSAGE, "%s: the campaign measures with an external command stored in the ledger "
                         "('%.300s'), and a ledger does not run commands by itself: resume with the campaign's "
                         "options on the command line (--oracle 'external:...' and the others, as first given), "
                         "or add --trust-ledger-oracle if you trust where this ledger came from",
                         ledger_path, stored.oracle + 9);
        sl_design_campaign_opts_free(&stored);
        goto ERROR;
      }
      int crash = op->o.crash_after;
      sl_design_campaign_opts_free(op);
      *op = stored;
      op->o.crash_after = crash;
    } else {
      /* The JSON compared with the stored one carries the stored limits. */
      op->o.rounds = stored.o.rounds;
      op->o.budget = stored.o.budget;
      sl_design_campaign_opts_free(&stored);
    }
  } else {
    if (mode == SL_CAMPAIGN_INGEST) {
      status = sl_fail(err, SL_EUSAGE, "%s: no campaign in this ledger (run 'seqloop design propose' first)",
                       ledger_path);
      goto ERROR;
    }
    op->o.rounds = limit_rounds;
    op->o.budget = limit_budget;
  }
  op->given = given->given;
  op->rounds_given = given->rounds_given;
  op->budget_given = given->budget_given;
  if (!op->oracle) {
    status = sl_fail(err, SL_EUSAGE, "--oracle SPEC is required to start a campaign (propose/ingest: --oracle lab)");
    goto ERROR;
  }
  if (mode == SL_CAMPAIGN_RUN && strcmp(op->oracle, "lab") == 0) {
    status = sl_fail(err, SL_EUSAGE, "the lab oracle runs through 'design propose' and 'design ingest', not 'design run'");
    goto ERROR;
  }
  /* Options are checked before any oracle is built: an external oracle is a
   * program started at creation, which a refused command line must not run.
   * (Without --start the options cannot be compared yet, the start may be
   * the oracle's own; an external oracle needs --start, so it is always
   * checked here; sl_design_setup checks the rest after creation.) */
  if (stored_json && op->given && op->start) {
    char *now = sl_design_campaign_opts_json(op), *diff = NULL;
    if (!now) status = sl_fail(err, SL_ENOMEM, "out of memory");
    else status = sl_design_campaign_opts_diff(stored_json, now, &diff, err);
    if (!status && diff)
      status = sl_fail(err, SL_EUSAGE, "the ledger holds a run with other options (resume with the same options, "
                       "or with --ledger alone; --rounds and --budget may change): %s", diff);
    free(now);
    free(diff);
    if (status) goto ERROR;
  }
  if ((status = sl_oracle_create(op->oracle, op->oracle_timeout, op->start ? (int64_t)strlen(op->start) : 0,
                                 op->symbols, &c->oracle, err)))
    goto ERROR;
  if (!op->start && c->oracle->start_seq && !(op->start = sl_strdup(c->oracle->start_seq))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto ERROR;
  }
  if (!op->start) {
    status = sl_fail(err, SL_EUSAGE, "--start SEQ is required with oracle '%s'", c->oracle->name);
    goto ERROR;
  }
  /* refused before the ledger gets a run, not at the first fit */
  if (op->o.pred.descriptors > 0 && op->o.use_predictor)
    for (const char *q = c->oracle->symbols; *q; q++) {
      double d[8];
      if (sl_predictor_descriptors(*q, d) < 0) {
        status = sl_fail(err, SL_EUSAGE,
                         "--descriptors: residue descriptors need a protein alphabet; symbol '%c' of the oracle's '%s' "
                         "is not one of the 20 amino acids",
                         *q, c->oracle->symbols);
        goto ERROR;
      }
    }
  if ((status = load_prior(op, c->oracle, &c->prior, err))) goto ERROR;
  if (!(opts_json = sl_design_campaign_opts_json(op)) || !(inputs = cJSON_CreateObject())) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto ERROR;
  }
  const char **names = NULL;
  if (op->naturals) {
    if ((status = sl_seqset_read(op->naturals, SL_FMT_FASTA, &nat, err))) goto ERROR;
    char hex[SL_SHA256_HEX];
    sl_sha256_hex(nat->sha256, hex);
    cJSON_AddStringToObject(inputs, op->naturals, hex);
    names = (const char **)nat->seq;
  }
  /* The oracle's file (table:FILE[,...], model:FILE) and the prior. */
  if (!strncmp(op->oracle, "table:", 6) || !strncmp(op->oracle, "model:", 6)) {
    char file[4096];
    snprintf(file, sizeof file, "%s", op->oracle + 6);
    if (!strncmp(op->oracle, "table:", 6)) {
      char *comma = strchr(file, ',');
      if (comma) *comma = '\0';
    }
    add_input(inputs, file);
  }
  add_input(inputs, op->prior);
  inputs_json = cJSON_PrintUnformatted(inputs);
  /* --prior-top: the share becomes a --min-prior cut, here, after the
   * options were stored or compared as given (a resume computes the same
   * cut from the same prior and space); the tighter of the two holds. */
  if (op->o.prior_top > 0) {
    uint8_t *sx = malloc((size_t)c->oracle->L + 1);
    double cut = INFINITY;
    if (!c->prior.m) /* a stored campaign with no prior (checked above for given options) */
      status = sl_fail(err, SL_EINPUT, "the stored campaign keeps a share by the prior (prior_top) but names no prior");
    else if (!sx)
      status = sl_fail(err, SL_ENOMEM, "out of memory");
    else if (!(status = sl_design_encode(c->oracle, op->start, sx, err)))
      status = sl_design_prior_top_cut(&c->prior, c->oracle, sx, op->o.prior_top, &cut, err);
    free(sx);
    if (status) goto ERROR;
    if (!(op->o.min_prior <= cut)) op->o.min_prior = cut;
  }
  /* What a sampled batch needs of the space and the prior, known only now
   * (query.c); refused here, before the ledger gets a run. */
  if (op->o.conformal == SL_CONF_WEIGHTED && (status = sl_design_query_check(c->oracle, &op->o, &c->prior, 0, err)))
    goto ERROR;
  op->o.rounds = limit_rounds;
  op->o.budget = limit_budget;
  /* (Another process may have started a campaign there since the stat:
   * sl_design_setup reads the runs under the write lock and joins it.) */
  if (fresh && (status = sl_ledger_open(ledger_path, &c->ledger, err))) goto ERROR;
  if ((status = sl_design_setup(c->ledger, c->oracle, &op->o, op->start, names, nat ? nat->n : 0, &c->prior,
                                cmdline, opts_json, inputs_json ? inputs_json : "{}", &c->run, &c->created, err)))
    goto ERROR;
  cJSON_Delete(inputs);
  free(inputs_json);
  free(opts_json);
  free(stored_json);
  sl_seqset_destroy(nat);
  *ret_c = c;
  return SL_OK;
ERROR:
  cJSON_Delete(inputs);
  free(inputs_json);
  free(opts_json);
  free(stored_json);
  sl_seqset_destroy(nat);
  sl_design_campaign_close(c);
  return status;
}

/* ---- 3. run, propose, ingest ------------------------------------------------------- */
/* Where the campaign stands: its last round and the measurements so far. */
static int standing(sl_design_campaign *c, int64_t *ret_k, int64_t *ret_n, sl_error *err) {
  char rs[16];
  double n = NAN;
  int status = sl_ledger_round_last(c->ledger, c->run, ret_k, rs, err);
  int64_t k = *ret_k;
  /* The last round that is done carries the count (a proposed round has none yet). */
  if (!status && k >= 0 && strcmp(rs, "done") != 0) k--;
  if (!status && k >= 0) status = sl_ledger_round_stat_get(c->ledger, c->run, k, "n_measured", &n, err);
  *ret_n = isfinite(n) ? (int64_t)n : 0;
  return status;
}

static int end_of(sl_design_campaign *c, int stuck, sl_design_end *e, sl_error *err) {
  memset(e, 0, sizeof *e);
  int status = standing(c, &e->last_round, &e->n_measured, err);
  if (status) return status;
  const sl_design_opts *o = &c->opts.o;
  if (stuck) e->why |= SL_DESIGN_END_STUCK;
  if (o->rounds >= 0 && e->last_round >= o->rounds) e->why |= SL_DESIGN_END_ROUNDS;
  if (o->budget > 0 && e->n_measured >= o->budget) e->why |= SL_DESIGN_END_BUDGET;
  return SL_OK;
}

int sl_design_campaign_run(sl_design_campaign *c, void (*on_round)(const sl_design_round *R, void *arg), void *arg,
                           sl_design_end *ret_end, sl_error *err) {
  int status;
  sl_design_round R;
  for (;;) {
    if ((status = sl_design_step(c->ledger, c->run, c->oracle, &c->opts.o, &c->prior, &R, err))) return status;
    if (R.k < 0) break;
    if (on_round) on_round(&R, arg);
  }
  return end_of(c, R.k == -2, ret_end, err);
}

/* What ended a campaign, in words (for the complete-campaign error). */
static void limits_text(const sl_design_opts *o, char *buf, size_t n) {
  if (o->rounds >= 0 && o->budget > 0) snprintf(buf, n, "--rounds %d or --budget %lld reached", o->rounds, (long long)o->budget);
  else if (o->rounds >= 0) snprintf(buf, n, "--rounds %d reached", o->rounds);
  else snprintf(buf, n, "--budget %lld reached", (long long)o->budget);
}

int sl_design_campaign_propose(sl_design_campaign *c, sl_design_batch_writer write, void *arg, int64_t *ret_k,
                               int64_t *ret_n, sl_error *err) {
  int64_t k = -1, n = 0;
  char **seqs = NULL;
  double *mean = NULL, *sd = NULL;
  *ret_k = -1;
  *ret_n = 0;
  int status = sl_ledger_begin(c->ledger, err);
  if (status) return status;
  if (c->created && !strcmp(c->oracle->name, "lab")) k = 0; /* the new campaign's round 0: measure the start */
  else if ((status = sl_design_propose(c->ledger, c->run, c->oracle, &c->opts.o, &c->prior, &k, err))) goto ERROR;
  if (k < 0) {
    if (k == -2) {
      status = sl_fail(err, SL_EINPUT, "no new candidate passed the filters; loosen --max-edits or --min-prior, "
                       "or raise --candidates");
    } else {
      char lim[128];
      limits_text(&c->opts.o, lim, sizeof lim);
      status = sl_fail(err, SL_EUSAGE, "the campaign is complete (%s); nothing proposed", lim);
    }
    goto ERROR;
  }
  if ((status = sl_design_batch(c->ledger, c->run, k, &seqs, &mean, &sd, &n, err))) goto ERROR;
  /* The batch is written before the commit: if writing fails the round is not opened. */
  if ((status = write(arg, k, seqs, mean, sd, n, err))) goto ERROR;
  if ((status = sl_ledger_commit(c->ledger, err))) goto ERROR;
  *ret_k = k;
  *ret_n = n;
  goto DONE;
ERROR:
  sl_ledger_rollback(c->ledger);
DONE:
  for (int64_t j = 0; j < n; j++) free(seqs[j]);
  free(seqs); free(mean); free(sd);
  return status;
}

int sl_design_campaign_ingest(sl_design_campaign *c, const char *path, sl_design_round *ret_round, sl_error *err) {
  char **seqs = NULL;
  double *vals = NULL;
  int64_t n = 0, k;
  char rs[16];
  int status = sl_design_results_read_rep(path, c->oracle, c->opts.o.replicates, &seqs, &vals, &n, err);
  if (status) return status;
  if ((status = sl_ledger_round_last(c->ledger, c->run, &k, rs, err))) goto DONE;
  if ((status = sl_ledger_begin(c->ledger, err))) goto DONE;
  if ((status = sl_design_record(c->ledger, c->run, c->oracle, &c->opts.o, k, (const char *const *)seqs, vals, n,
                                 &c->prior, ret_round, err))) {
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    status = sl_fail(err, status, "%s: %s (nothing was recorded)", path, msg);
    sl_ledger_rollback(c->ledger);
    goto DONE;
  }
  status = sl_ledger_commit(c->ledger, err);
DONE:
  for (int64_t j = 0; j < n; j++) free(seqs[j]);
  free(seqs);
  free(vals);
  return status;
}

int sl_design_campaign_plate(sl_design_campaign *c, const char *path, FILE *fp, sl_error *err) {
  char **seqs = NULL;
  double *vals = NULL;
  int64_t n = 0;
  int status = path ? sl_design_results_read_rep(path, c->oracle, 1, &seqs, &vals, &n, err) : SL_OK;
  if (status) return status;
  if ((status = sl_ledger_begin(c->ledger, err))) goto DONE;
  status = sl_design_plate(c->ledger, c->run, c->oracle, &c->opts.o, &c->prior, (const char *const *)seqs, vals, n,
                           fp, err);
  sl_ledger_rollback(c->ledger); /* the plate records nothing */
  if (status == SL_EINPUT && path) { /* a sequence of the file: name the file */
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    status = sl_fail(err, status, "%s: %s", path, msg);
  }
DONE:
  for (int64_t j = 0; j < n; j++) free(seqs[j]);
  free(seqs);
  free(vals);
  return status;
}

/* The per-round table is the ledger export's round_stats, reshaped to one
 * row per round: what benchmarks plot. */
int sl_design_rounds_write(sl_ledger *l, FILE *fp, sl_error *err) {
  static const char *cols[] = {"n_measured", "best", "regret", "batch_mean", "batch_best", "prior_logp",
                               "dist_natural", "coverage90", "acceptance", "bits_injected",
                               "conformal_coverage", "conformal_width", "conformal_unbounded"};
  enum { NC = sizeof cols / sizeof *cols };
  char *json = NULL;
  int status = sl_ledger_export_json(l, &json, 0, err);
  if (status) return status;
  cJSON *j = cJSON_Parse(json);
  free(json);
  if (!j) return sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "round_stats");
  fprintf(fp, "round");
  for (int c = 0; c < NC; c++) fprintf(fp, ",%s", cols[c]);
  fprintf(fp, "\n");
  long long cur = -1;
  double row[NC];
  const cJSON *it;
  int n = cJSON_GetArraySize(rs), idx = 0;
  cJSON_ArrayForEach(it, rs) {
    long long k = (long long)get_num(it, "k", -1);
    if (k != cur) {
      if (cur >= 0) {
        fprintf(fp, "%lld", cur);
        for (int c = 0; c < NC; c++) isfinite(row[c]) ? fprintf(fp, ",%.10g", row[c]) : fprintf(fp, ",");
        fprintf(fp, "\n");
      }
      cur = k;
      for (int c = 0; c < NC; c++) row[c] = NAN;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
    for (int c = 0; c < NC && cJSON_IsString(name); c++)
      if (!strcmp(name->valuestring, cols[c])) row[c] = get_num(it, "value", NAN);
    if (++idx == n) {
      fprintf(fp, "%lld", cur);
      for (int c = 0; c < NC; c++) isfinite(row[c]) ? fprintf(fp, ",%.10g", row[c]) : fprintf(fp, ",");
      fprintf(fp, "\n");
    }
  }
  cJSON_Delete(j);
  return ferror(fp) ? sl_fail(err, SL_EIO, "writing the rounds table failed") : SL_OK;
}
