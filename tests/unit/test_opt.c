/* test_opt.c: the option table (cli/opt.h): typed parsing, ranges, choices
 * and their aliases, lists, custom parsers, the errors (which must name the
 * option), -h with live defaults, and --options-json. cli/opt.c is compiled
 * in here: the cli layer is not part of libseqloop. */
#include <stdint.h>
#include <unistd.h>

#include "../../cli/opt.c"
#include "tap.h"

static const cli_cmdinfo info = {"demo", "seqloop demo [options] FILE", "About.\n", "Footer.\n"};

/* Run cli_parse on a NULL-terminated word list, with stderr captured into
 * msg (what the user would see). */
static int parse(cli_opt *opts, const char **words, int *ret_optind, char *msg, size_t n) {
  char *argv[32];
  int argc = 0;
  for (; words[argc]; argc++) argv[argc] = (char *)words[argc];
  argv[argc] = NULL;
  FILE *tmp = tmpfile();
  fflush(stderr);
  int saved = dup(2);
  dup2(fileno(tmp), 2);
  FILE *devnull = fopen("/dev/null", "w");
  FILE *out = stdout;
  stdout = devnull; /* -h and --version print here */
  int rc = cli_parse(&info, opts, argc, argv, ret_optind);
  fflush(stderr);
  stdout = out;
  fclose(devnull);
  dup2(saved, 2);
  close(saved);
  rewind(tmp);
  size_t got = fread(msg, 1, n - 1, tmp);
  msg[got] = 0;
  fclose(tmp);
  for (int k = 0; k < argc; k++) words[k] = argv[k]; /* getopt permuted them */
  return rc;
}

static int parse_pair(void *target, const char *arg, char *why, size_t n) {
  int a, b;
  char c;
  if (sscanf(arg, "%d-%d%c", &a, &b, &c) != 2 || a > b) {
    snprintf(why, n, "a range A-B with A <= B");
    return -1;
  }
  ((int *)target)[0] = a;
  ((int *)target)[1] = b;
  return 0;
}

enum { RED = 7, GREEN = 9 };
static const cli_choice colours[] = {{"red", RED}, {"green", GREEN}, {"rouge", RED}, {NULL, 0}};

typedef struct {
  int flag, count, n, colour, range[2];
  int64_t big;
  uint64_t seed;
  double x, t;
  const char *name;
  cli_list tags;
} vals;

#define TABLE(v)                                                                                  \
  cli_opt opts[] = {                                                                              \
    CLI_FLAG("flag", 'F', &(v).flag, "a flag", "options"),                                        \
    CLI_COUNT("verbose", 'v', &(v).count, "more", NULL),                                          \
    CLI_INT("number", 'n', &(v).n, 1, 100, "N", "how many", NULL),                                \
    CLI_INT64("big", 0, &(v).big, -HUGE_VAL, HUGE_VAL, "N", "any integer", NULL),                 \
    CLI_UINT64("seed", 0, &(v).seed, 0, HUGE_VAL, "S", "a seed", NULL),                          \
    CLI_DOUBLE("frac", 0, &(v).x, 0, 1, "X", "a fraction", "numbers"),                            \
    CLI_DOUBLE_POS("temperature", 0, &(v).t, HUGE_VAL, "T", "positive", NULL),                    \
    CLI_STRING("name", 'N', &(v).name, "NAME", "a name", NULL),                                   \
    CLI_CHOICE("colour", 0, &(v).colour, colours, "C", "red or green", NULL),                     \
    CLI_LIST("tag", 0, &(v).tags, "T", "repeatable", NULL),                                       \
    CLI_FUNC("range", 0, (v).range, parse_pair, "A-B", "a range", NULL),                          \
    CLI_END}

static void init(vals *v) {
  memset(v, 0, sizeof *v);
  v->n = 5;
  v->seed = 1;
  v->x = 0.25;
  v->t = 1.5;
  v->colour = GREEN;
  v->name = "default-name";
}

int main(void) {
  vals v;
  char msg[4096];
  int oi = 0, rc;

  /* Values of every type, options and arguments mixed (GNU permutation). */
  init(&v);
  {
  TABLE(v);
  const char *ok1[] = {"demo", "-F", "-vv", "--verbose", "file.txt", "-n", "42", "--big=-9000000000",
                       "--seed", "18446744073709551615", "--frac", "1", "--temperature", "0.5", "-N",
                       "x", "--colour", "rouge", "--tag", "a", "--tag", "b", "--range", "3-8", NULL};
  rc = parse(opts, ok1, &oi, msg, sizeof msg);
  CHECK(rc == -1 && msg[0] == 0, "a valid command line parses with no message (rc %d, '%s')", rc, msg);
  CHECK(v.flag == 1 && v.count == 3 && v.n == 42, "flag, count (-vv --verbose = 3) and int");
  CHECK(v.big == -9000000000LL && v.seed == UINT64_MAX, "int64 below -2^32 and uint64 at its maximum");
  CHECK(v.x == 1.0 && v.t == 0.5 && strcmp(v.name, "x") == 0, "double at the closed bound, positive double, string");
  CHECK(v.colour == RED, "a choice's alias sets the same value as its name");
  CHECK(v.tags.n == 2 && strcmp(v.tags.v[0], "a") == 0 && strcmp(v.tags.v[1], "b") == 0, "a list keeps every use in order");
  CHECK(v.range[0] == 3 && v.range[1] == 8, "a custom parser writes its target");
  CHECK(oi == 23 && strcmp(ok1[oi], "file.txt") == 0, "the positional argument comes after the options (optind %d)", oi);
  CHECK(cli_opt_find(opts, "verbose")->given == 3 && cli_opt_find(opts, "frac")->given == 1 &&
        cli_opt_find(opts, "big")->given == 1 && cli_opt_find(opts, "number")->given == 1 &&
        cli_opt_find(opts, "name")->given == 1 && cli_opt_find(opts, "flag")->given == 1,
        "given counts each use (-vv counts 2)");
  cli_list_free(&v.tags);
  }

  /* Errors name the option and quote the value; exit code 2. */
  struct { const char *words[6]; const char *want; } bad[] = {
    {{"demo", "--number", "abc", NULL}, "seqloop demo: --number: expected an integer in [1, 100], not 'abc'\n"},
    {{"demo", "-n", "0", NULL}, "seqloop demo: --number: expected an integer in [1, 100], not '0'\n"},
    {{"demo", "-n", "5x", NULL}, "seqloop demo: --number: expected an integer in [1, 100], not '5x'\n"},
    {{"demo", "--big", "99999999999999999999", NULL}, "seqloop demo: --big: expected an integer, not '99999999999999999999'\n"},
    {{"demo", "--seed", "-1", NULL}, "seqloop demo: --seed: expected a non-negative integer, not '-1'\n"},
    {{"demo", "--frac", "1.5", NULL}, "seqloop demo: --frac: expected a number in [0, 1], not '1.5'\n"},
    {{"demo", "--frac", "nan", NULL}, "seqloop demo: --frac: expected a number in [0, 1], not 'nan'\n"},
    {{"demo", "--temperature", "0", NULL}, "seqloop demo: --temperature: expected a number > 0, not '0'\n"},
    {{"demo", "--colour", "blue", NULL}, "seqloop demo: --colour: expected red or green, not 'blue'\n"},
    {{"demo", "--name", "", NULL}, "seqloop demo: --name: expected a value (NAME), not an empty string\n"},
    {{"demo", "--range", "9-3", NULL}, "seqloop demo: --range: expected a range A-B with A <= B, not '9-3'\n"},
    {{"demo", "--nope", NULL}, "seqloop demo: unknown or ambiguous option '--nope' (see 'seqloop demo -h')\n"},
    {{"demo", "--nope=3", NULL}, "seqloop demo: unknown or ambiguous option '--nope' (see 'seqloop demo -h')\n"},
    {{"demo", "-z", NULL}, "seqloop demo: unknown option '-z' (see 'seqloop demo -h')\n"},
    {{"demo", "--number", NULL}, "seqloop demo: --number: needs a value (N) (see 'seqloop demo -h')\n"},
    {{"demo", "-n", NULL}, "seqloop demo: --number: needs a value (N) (see 'seqloop demo -h')\n"},
    {{"demo", "--flag=1", NULL}, "seqloop demo: --flag takes no value (see 'seqloop demo -h')\n"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    init(&v);
    TABLE(v);
    rc = parse(opts, bad[k].words, &oi, msg, sizeof msg);
    CHECK(rc == 2 && strcmp(msg, bad[k].want) == 0, "%s %s: exit 2 with \"%.*s\" (got %d, \"%.*s\")",
          bad[k].words[1], bad[k].words[2] ? bad[k].words[2] : "", (int)strlen(bad[k].want) - 1,
          bad[k].want, rc, (int)strcspn(msg, "\n"), msg);
    cli_list_free(&v.tags);
  }
  /* A value error leaves the default in place (nothing half-parsed). */
  init(&v);
  {
    TABLE(v);
    const char *w[] = {"demo", "--frac", "2", NULL};
    parse(opts, w, &oi, msg, sizeof msg);
    CHECK(v.x == 0.25, "a rejected value leaves the target's default (%g)", v.x);
  }

  /* -h and --version answer 0; abbreviations and "--" behave as in getopt. */
  init(&v);
  {
    TABLE(v);
    const char *h[] = {"demo", "--frac", "0.5", "-h", NULL}, *ver[] = {"demo", "--version", NULL};
    const char *ab[] = {"demo", "--temp", "2", "--", "-F", NULL};
    CHECK(parse(opts, h, &oi, msg, sizeof msg) == 0, "-h: exit 0");
    CHECK(parse(opts, ver, &oi, msg, sizeof msg) == 0 && msg[0] == 0, "--version: exit 0, nothing on stderr");
    CHECK(parse(opts, ab, &oi, msg, sizeof msg) == -1 && v.t == 2 && v.flag == 0 && oi == 4,
          "an unambiguous abbreviation is taken; after '--' everything is an argument");
  }

  /* -h prints the live defaults: the targets' values when -h is read. */
  init(&v);
  v.x = 0.125;
  v.colour = RED;
  {
    TABLE(v);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    cli_help(fp, &info, opts);
    fclose(fp);
    CHECK(strncmp(buf, "usage: seqloop demo [options] FILE\n\nAbout.\n\noptions:\n", 52) == 0,
          "help starts with the usage, the about text and the first group");
    CHECK(strstr(buf, "\n  --frac X                a fraction (default 0.125)\n") != NULL,
          "a double's default is its current value");
    CHECK(strstr(buf, "\n  -n, --number N          how many (default 5)\n") != NULL, "short and long names, metavar, int default");
    CHECK(strstr(buf, "(default red)") && !strstr(buf, "(default rouge)"), "a choice's default is its first name");
    CHECK(strstr(buf, "\n  -F, --flag              a flag\n") != NULL, "a flag shows no default");
    CHECK(strstr(buf, "\nnumbers:\n  --frac") != NULL, "a group heading before its first option");
    CHECK(strstr(buf, "  -h, --help              this help\n  --version               print the version and exit\n\nFooter.\n") != NULL,
          "-h and --version are listed even when the table omits them, then the footer");
    CHECK(strstr(buf, "(default default-name)") != NULL, "a string's default");
    free(buf);

    buf = NULL;
    fp = open_memstream(&buf, &len);
    cli_options_json(fp, &info, opts);
    fclose(fp);
    cJSON *j = cJSON_Parse(buf);
    const cJSON *arr = cJSON_GetObjectItem(j, "options"), *o;
    int seen = 0;
    cJSON_ArrayForEach(o, arr) {
      const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(o, "name"));
      if (!strcmp(name, "number"))
        seen += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "type")), "int") &&
                cJSON_GetObjectItem(o, "min")->valuedouble == 1 && cJSON_GetObjectItem(o, "max")->valuedouble == 100 &&
                !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "default")), "5") &&
                !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "short")), "n");
      if (!strcmp(name, "colour"))
        seen += cJSON_GetArraySize(cJSON_GetObjectItem(o, "choices")) == 2; /* the alias is not listed */
      if (!strcmp(name, "temperature")) seen += cJSON_GetObjectItem(o, "min_exclusive") != NULL;
      if (!strcmp(name, "frac")) seen += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "group")), "numbers");
    }
    CHECK(j && cJSON_GetArraySize(arr) == 11 && seen == 4, "--options-json: every entry typed, ranged, grouped (%d of 4)", seen);
    cJSON_Delete(j);
    free(buf);
  }
  return TAP_DONE();
}
