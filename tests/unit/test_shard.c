/* test_shard.c: the arithmetic of sharded runs (seqloop/shard.h): "I/N"
 * parsing (what is accepted, what is refused and the message), and the
 * ranges (contiguous, in order, covering every item once, balanced with
 * the larger pieces first, empty pieces when N > items), checked
 * exhaustively on small sizes and at the limits; sl_sample_ancestral_range
 * (any range of a run = those rows of the whole run, across the ar kind's
 * chunks of 1024 draws, for any thread count); then --shard through the
 * option table (CLI_SHARD, cli/opt.c compiled in as test_opt.c does). */
#include <stdint.h>
#include <unistd.h>

#include "../../cli/opt.c"
#include "seqloop/alphabet.h"
#include "seqloop/model.h"
#include "seqloop/sample.h"
#include "seqloop/shard.h"
#include "tap.h"

/* Ranges of a 2500-draw ar run (chunks of 1024: [0,1024) [1024,2048)
 * [2048,2500)) drawn alone equal those rows of the whole run. */
static void sample_ranges(void) {
  sl_error err;
  const int64_t L = 12, n = 2500;
  sl_model *m = sl_model_create("ar", L, sl_alphabet_get(SL_ABC_PROTEIN), 0);
  if (!m) { CHECK(0, "an ar model"); return; }
  for (int64_t v = 0; v < L * m->q; v++) m->h[v] = (float)(1.5 * sin(0.37 * (double)v));
  for (int64_t v = 0; v < L * L * m->q * m->q; v++) m->J[v] = (float)(0.6 * cos(1.3 * (double)v));
  for (int64_t i = 0; i < L; i++) m->order[i] = (i * 5) % L;
  const int64_t R = sl_model_row_len(m);
  uint8_t *all = malloc((size_t)(n * R)), *part = malloc((size_t)(n * R) + 1);
  double *lp = malloc((size_t)n * sizeof *lp), *lq = malloc((size_t)(n + 1) * sizeof *lq);
  sl_draw_opts d;
  sl_draw_opts_init(&d);
  int ok = sl_model_prepare(m, &err) == SL_OK && sl_sample_ancestral(m, &d, n, 42, 1, NULL, all, NULL, lp, &err) == SL_OK;
  CHECK(ok, "2500 draws from a synthetic ar model (%s)", ok ? "" : err.msg);
  static const int64_t ranges[][2] = {{0, 0}, {0, 1}, {1000, 1030}, {1023, 1025}, {1024, 2048}, {2047, 2049},
                                      {2499, 2500}, {2500, 2500}, {0, 2500}, {7, 2493}};
  for (size_t k = 0; k < sizeof ranges / sizeof *ranges && ok; k++) {
    const int64_t lo = ranges[k][0], hi = ranges[k][1];
    for (int threads = 1; threads <= 3 && ok; threads += 2) {
      memset(part, 0xEE, (size_t)(n * R) + 1);
      ok = sl_sample_ancestral_range(m, &d, n, lo, hi, 42, threads, NULL, part, NULL, lq, &err) == SL_OK &&
           memcmp(part, all + lo * R, (size_t)((hi - lo) * R)) == 0 &&
           (hi == lo || memcmp(lq, lp + lo, (size_t)(hi - lo) * sizeof *lq) == 0) &&
           part[(hi - lo) * R] == 0xEE; /* nothing written past the range */
      if (!ok) printf("# range %lld..%lld, %d threads\n", (long long)lo, (long long)hi, threads);
    }
  }
  CHECK(ok, "draws lo..hi-1 alone = rows lo..hi-1 of the whole run (10 ranges across chunk edges, 1 and 3 threads)");
  CHECK(sl_sample_ancestral_range(m, &d, n, 5, 4, 42, 1, NULL, part, NULL, lq, &err) == SL_EUSAGE &&
        sl_sample_ancestral_range(m, &d, n, 0, n + 1, 42, 1, NULL, part, NULL, lq, &err) == SL_EUSAGE,
        "a range outside 0..n is SL_EUSAGE (%s)", err.msg);
  free(all);
  free(part);
  free(lp);
  free(lq);
  sl_model_destroy(m);
}

static int parses(const char *text, int i, int n) {
  sl_shard s = {-7, -7};
  sl_error err;
  sl_error_clear(&err);
  return sl_shard_parse(text, &s, &err) == SL_OK && s.i == i && s.n == n;
}

static int refused(const char *text, const char *msg_part) {
  sl_shard s = {-7, -7};
  sl_error err;
  sl_error_clear(&err);
  return sl_shard_parse(text, &s, &err) == SL_EUSAGE && s.i == -7 && s.n == -7 && strstr(err.msg, msg_part);
}

/* Every property of the split of n items into N pieces; 1 if all hold. */
static int split_ok(int64_t n, int N) {
  int64_t next = 0, q = n / N, r = n % N;
  for (int i = 1; i <= N; i++) {
    sl_shard s = {i, N};
    int64_t lo, hi;
    sl_shard_range(&s, n, &lo, &hi);
    if (lo != next || hi < lo) return 0;                  /* contiguous, in order */
    if (hi - lo != q + (i <= r ? 1 : 0)) return 0;        /* balanced, larger first */
    next = hi;
  }
  return next == n;                                       /* covers every item once */
}

int main(void) {
  /* parsing */
  CHECK(parses("1/1", 1, 1) && parses("2/3", 2, 3) && parses("3/3", 3, 3), "I/N parses (1-based)");
  CHECK(parses("007/010", 7, 10), "leading zeros are decimal, not octal");
  CHECK(parses("1000000/1000000", 1000000, 1000000), "N up to SL_SHARD_MAX");
  CHECK(refused("0/2", "I must be in 1..N"), "0/2 refused: pieces are numbered from 1");
  CHECK(refused("3/2", "I must be in 1..N"), "3/2 refused: I > N");
  CHECK(refused("1/0", "N must be in 1.."), "1/0 refused");
  CHECK(refused("1/1000001", "N must be in 1.."), "N above SL_SHARD_MAX refused");
  const char *bad[] = {"x/y", "1/2/3", "", "1", "/2", "1/", " 1/2", "1/2 ", "+1/2", "-1/2", "1/-2",
                       "1.0/2", "1/2x", "0x1/2", "1 /2", "99999999999/2"};
  int all_bad = 1;
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
    if (!refused(bad[k], "")) { all_bad = 0; printf("# accepted '%s'\n", bad[k]); }
  CHECK(all_bad, "malformed values refused (signs, spaces, extra parts, non-digits, overflow)");

  /* ranges */
  int ok = 1;
  for (int64_t n = 0; n <= 150 && ok; n++)
    for (int N = 1; N <= 40 && ok; N++)
      if (!split_ok(n, N)) { ok = 0; printf("# n=%lld N=%d\n", (long long)n, N); }
  CHECK(ok, "every split of 0..150 items into 1..40 pieces: contiguous, covering, balanced");
  CHECK(split_ok(INT64_C(1) << 50, 999983) && split_ok((INT64_C(1) << 50) + 12345, SL_SHARD_MAX),
        "large item counts split without overflow");
  int64_t lo, hi;
  sl_shard s = {2, 3};
  sl_shard_range(&s, 10, &lo, &hi);
  CHECK(lo == 4 && hi == 7, "10 items, piece 2/3: items 4..6 (pieces of 4, 3, 3)");
  s = (sl_shard){5, 7};
  sl_shard_range(&s, 3, &lo, &hi);
  CHECK(lo == 3 && hi == 3, "N > items: piece 5/7 of 3 items is empty, placed after the last item");
  sl_shard_range(NULL, 9, &lo, &hi);
  CHECK(lo == 0 && hi == 9, "no shard: the whole run");
  s = (sl_shard){0, 0};
  sl_shard_range(&s, 9, &lo, &hi);
  CHECK(lo == 0 && hi == 9, "an unset shard (N = 0): the whole run");

  sample_ranges();

  /* --shard through the option table */
  sl_shard sh = {0, 0};
  cli_opt opts[] = {CLI_SHARD(&sh, "items"), CLI_END};
  static const cli_cmdinfo info = {"demo", "seqloop demo", NULL, NULL};
  char *argv1[] = {"demo", "--shard", "2/5", NULL};
  int oi;
  CHECK(cli_parse(&info, opts, 3, argv1, &oi) == -1 && sh.i == 2 && sh.n == 5, "--shard 2/5 sets the target");
  char *argv2[] = {"demo", "--shard=3/2", NULL};
  optind = 0;
  fflush(stderr);
  FILE *tmp = tmpfile();
  int saved = dup(2);
  dup2(fileno(tmp), 2);
  int rc = cli_parse(&info, opts, 2, argv2, &oi);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char msg[512] = {0};
  rewind(tmp);
  size_t got = fread(msg, 1, sizeof msg - 1, tmp);
  msg[got] = 0;
  fclose(tmp);
  CHECK(rc == 2 && strstr(msg, "seqloop demo: --shard: expected I/N") && strstr(msg, "I must be in 1..N") &&
        strstr(msg, "not '3/2'"), "--shard 3/2: a usage error naming the option (%s)", msg);
  return TAP_DONE();
}
