/* cmd_split.c: `seqloop split ALIGNMENT -o PREFIX` - a homology-aware
 * train/test split (seqloop/split.h), written as two aligned FASTA files and
 * a JSON report, checked afterwards by the leakage audit it must pass. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seqloop/split.h"

static const cli_cmdinfo info = {
  "split", "seqloop split [options] ALIGNMENT -o PREFIX",
  "Splits an alignment into training and test sets so that no test sequence is more than\n"
  "--identity identical to any training sequence (identity: identical residues over the\n"
  "residues of the shorter sequence, Easel's definition, on the kept columns). Writes\n"
  "PREFIX.train.fa and PREFIX.test.fa (aligned FASTA over the kept columns; the focus, if\n"
  "any, is the first training row), PREFIX.split.json and PREFIX.prov.json, and prints a\n"
  "report.\n", NULL};

static const cli_choice method_choices[] = {{"cluster", SL_SPLIT_CLUSTER}, {"cobalt", SL_SPLIT_COBALT},
                                            {"random", SL_SPLIT_RANDOM}, {NULL, 0}};

static int write_report(const char *path, const cli_common *c, const sl_msa *m,
                        const sl_split_opts *so, const sl_split_report *r, const sl_leakage *lk,
                        double neff_train, double neff_test, sl_error *err) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToObject(j, "provenance", cli_json_provenance(c, m));
  cJSON_AddStringToObject(j, "method", sl_split_method_name(so->method));
  cJSON_AddNumberToObject(j, "identity", so->t1);
  cJSON_AddNumberToObject(j, "test_identity", so->t2);
  cJSON_AddNumberToObject(j, "test_frac_target", so->test_frac);
  cJSON_AddNumberToObject(j, "seed", (double)so->seed);
  cJSON_AddNumberToObject(j, "N", (double)m->N);
  cJSON_AddNumberToObject(j, "L", (double)m->L);
  cJSON_AddNumberToObject(j, "n_train", (double)r->n_train);
  cJSON_AddNumberToObject(j, "n_test", (double)r->n_test);
  cJSON_AddNumberToObject(j, "n_dropped", (double)r->n_dropped);
  cJSON_AddNumberToObject(j, "n_clusters", (double)r->n_clusters);
  cJSON_AddNumberToObject(j, "n_test_clusters", (double)r->n_test_clusters);
  cJSON_AddNumberToObject(j, "neff_train", neff_train);
  cJSON_AddNumberToObject(j, "neff_test", neff_test);
  cJSON_AddNumberToObject(j, "max_test_train_identity", lk->max);
  cJSON_AddNumberToObject(j, "median_test_train_identity", lk->median);
  cJSON_AddNumberToObject(j, "n_test_above_identity", (double)lk->n_leaky);
  cJSON_AddBoolToObject(j, "held_out", lk->held_out);
  int status = cli_write_json(path, j, err);
  cJSON_Delete(j);
  return status;
}

int cmd_split(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "split", argc, argv);
  c.out = NULL;
  sl_split_opts so;
  sl_split_opts_init(&so);
  int optind_;
  cli_opt opts[] = {
    CLI_CHOICE("method", 0, &so.method, method_choices, "M", "cluster: greedy clusters at --identity, whole\n"
               "clusters to the test set, training rows too close to a test row dropped;\n"
               "cobalt: Petti & Eddy-style, test rows also at most --test-identity to each\n"
               "other; random: no homology control (a leaky baseline)", "options"),
    CLI_DOUBLE("identity", 0, &so.t1, 0, 1, "T", "train-test threshold t1", NULL),
    CLI_DOUBLE("test-identity", 0, &so.t2, 0, 1, "T", "test-test threshold t2 for cobalt", NULL),
    CLI_DOUBLE("test-frac", 0, &so.test_frac, 0, 1, "F", "target fraction of rows in the test set", NULL),
    CLI_UINT64("seed", 0, &so.seed, 0, HUGE_VAL, "S", "random seed; the same seed gives the same split", NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c),
    CLI_STRING("output", 'o', &c.out, "PREFIX", "output prefix (required)", "output"),
    CLI_STRING("provenance", 0, &c.prov, "FILE", "provenance JSON (default: PREFIX.prov.json)", NULL),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (optind_ != argc - 1 || !c.out || !strcmp(c.out, "-"))
    return cli_usage_error(&info, "expected one ALIGNMENT and -o PREFIX");
  cli_input(&c, "alignment", argv[optind_]);
  so.kernel = c.w.kernel;
  sl_error err;
  sl_error_clear(&err);
  sl_msa *m = NULL;
  double *w = NULL, neff = 0, nt = 0, ns = 0;
  int8_t *set = NULL;
  uint8_t *xt = NULL, *xs = NULL;
  sl_leakage *lk = NULL;
  char *path = NULL;
  size_t plen = 0;
  int written = 0; /* an output was committed (DONE removes them on failure) */
  sl_split_report rep;
  int status = cli_load(&c, argv[optind], &m, &w, &neff, &err);
  if (status) goto DONE;
  set = malloc((size_t)m->N);
  plen = strlen(c.out) + 32;
  path = malloc(plen);
  if (!set || !path) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  if ((status = sl_split(m->x, m->N, m->L, m->focus, &so, set, &rep, &err))) goto DONE;
  /* Verify with the audit it must pass: rows of each set, nearest identity. */
  xs = malloc((size_t)(rep.n_train * m->L));
  xt = malloc((size_t)(rep.n_test * m->L));
  if (!xs || !xt) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  int64_t a = 0, b = 0;
  for (int64_t n = 0; n < m->N; n++) {
    if (set[n] == SL_SET_TRAIN) { memcpy(xs + a++ * m->L, sl_msa_row(m, n), (size_t)m->L); ns += w[n]; }
    else if (set[n] == SL_SET_TEST) { memcpy(xt + b++ * m->L, sl_msa_row(m, n), (size_t)m->L); nt += w[n]; }
  }
  if ((status = sl_leakage_compute(xs, a, xt, b, m->L, so.t1, c.w.threads, c.w.kernel, &lk, &err)))
    goto DONE;
  snprintf(path, plen, "%s.train.fa", c.out);
  written = 1;
  if ((status = sl_msa_write_fasta(path, m, set, SL_SET_TRAIN, &err))) goto DONE;
  snprintf(path, plen, "%s.test.fa", c.out);
  if ((status = sl_msa_write_fasta(path, m, set, SL_SET_TEST, &err))) goto DONE;
  snprintf(path, plen, "%s.split.json", c.out);
  if ((status = write_report(path, &c, m, &so, &rep, lk, ns, nt, &err))) goto DONE;
  {
    /* A failed sidecar removes the three outputs (cli_prov_write_files; c.out is a prefix, not a file). */
    static const char *ext[3] = {"train.fa", "test.fa", "split.json"};
    char *outs = malloc(3 * plen);
    const char *files[3];
    for (int k = 0; k < 3 && outs; k++) {
      snprintf(outs + k * plen, plen, "%s.%s", c.out, ext[k]);
      files[k] = outs + k * plen;
    }
    if (outs) status = cli_prov_write_files(&c, c.out, NULL, files, 3, &err);
    else {
      for (int k = 0; k < 3; k++) { snprintf(path, plen, "%s.%s", c.out, ext[k]); remove(path); }
      status = sl_fail(&err, SL_ENOMEM, "out of memory");
    }
    free(outs);
    if (status) goto DONE;
  }
  if (!c.quiet) {
    printf("split              %s, identity %g, test fraction %g, seed %llu\n",
           sl_split_method_name(so.method), so.t1, so.test_frac, (unsigned long long)so.seed);
    if (so.method == SL_SPLIT_COBALT) printf("                   test-test identity %g\n", so.t2);
    if (rep.n_clusters)
      printf("clusters           %lld at identity %g; %lld drawn into the test set\n",
             (long long)rep.n_clusters, so.t1, (long long)rep.n_test_clusters);
    printf("train              %lld sequences (weighted %.1f)\n", (long long)rep.n_train, ns);
    printf("test               %lld sequences (weighted %.1f, %.1f%% of rows)\n", (long long)rep.n_test,
           nt, 100.0 * (double)rep.n_test / (double)m->N);
    printf("dropped            %lld sequences (too close to both sides)\n", (long long)rep.n_dropped);
    printf("check              test-train identity: median %.3f, max %.3f; %lld test sequences above %g: %s\n",
           lk->median, lk->max, (long long)lk->n_leaky, so.t1, lk->held_out ? "held out" : "LEAKY");
    printf("wrote              %s.train.fa, %s.test.fa, %s.split.json\n", c.out, c.out, c.out);
  }
DONE:
  /* A failure after the first output was committed (the report, the
   * sidecar) leaves none of the three: no partial output (issue 18). */
  for (int k = 0; status && written && path && k < 3; k++) {
    static const char *ext[3] = {"train.fa", "test.fa", "split.json"};
    snprintf(path, plen, "%s.%s", c.out, ext[k]);
    remove(path);
  }
  free(path);
  free(set);
  free(xs);
  free(xt);
  free(w);
  sl_leakage_destroy(lk);
  sl_msa_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
