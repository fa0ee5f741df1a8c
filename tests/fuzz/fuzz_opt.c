/* fuzz_opt.c: libFuzzer target for the option table (cli/opt.c): the input
 * is split at NUL bytes into an argv and parsed against a table with one
 * option of every type. Invariants: the parser returns -1 (go on), 0 (help,
 * version) or 2 (usage error); a parsed number lies in its declared range;
 * optind stays within argc. cli/opt.c prints its messages on stderr, which
 * libFuzzer keeps quiet with -close_fd_mask=2 (make fuzz sets it). */
#include <getopt.h>
#include <stdio.h>

#include "../../cli/opt.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  char *argv[66];
  int argc = 0;
  argv[argc++] = (char *)"fuzz";
  for (size_t k = 0; k <= size && argc < 65;) {
    argv[argc++] = buf + k;
    k += strlen(buf + k) + 1;
  }
  argv[argc] = NULL;
  int flag = 0, count = 0, i = 5, ch = 0;
  int64_t n = 10;
  uint64_t seed = 1;
  double x = 0.5, pos = 1.0;
  const char *s = NULL;
  cli_list l = {0};
  static const cli_choice choices[] = {{"alpha", 0}, {"beta", 1}, {"b", 1}, {NULL, 0}};
  cli_opt opts[] = {
    CLI_FLAG("flag", 'f', &flag, "a flag", "options"),
    CLI_COUNT("verbose", 'v', &count, "more", NULL),
    CLI_INT("int", 'i', &i, 1, 100, "N", "an int", NULL),
    CLI_INT64("n", 'n', &n, 0, INT64_MAX, "N", "an int64", NULL),
    CLI_UINT64("seed", 0, &seed, 0, HUGE_VAL, "S", "a seed", NULL),
    CLI_DOUBLE("x", 'x', &x, 0, 1, "X", "in [0,1]", NULL),
    CLI_DOUBLE_POS("pos", 0, &pos, HUGE_VAL, "X", "> 0", NULL),
    CLI_STRING("s", 's', &s, "S", "a string", NULL),
    CLI_CHOICE("choice", 'c', &ch, choices, "C", "a choice", NULL),
    CLI_LIST("list", 'l', &l, "L", "a list", NULL),
    CLI_END};
  static const cli_cmdinfo info = {"fuzz", "fuzz [options]", "", NULL};
  FILE *devnull = fopen("/dev/null", "w");
  FILE *saved = stdout;
  if (devnull) stdout = devnull; /* -h and --version print */
  int oi = 0;
  optind = 1;
  int rc = cli_parse(&info, opts, argc, argv, &oi);
  stdout = saved;
  if (devnull) fclose(devnull);
  if (rc != -1 && rc != 0 && rc != 2) __builtin_trap();
  if (rc == -1) {
    if (oi < 1 || oi > argc) __builtin_trap();
    if (i < 1 || i > 100 || n < 0 || !(x >= 0 && x <= 1) || !(pos > 0) || (ch != 0 && ch != 1)) __builtin_trap();
  }
  cli_list_free(&l);
  free(buf);
  return 0;
}
