/* opt.h: one table of options per command, from which come the parsing,
 * the -h text (with the live defaults) and the error messages.
 *
 * A command declares its options as an automatic array of cli_opt, each
 * entry naming its target variable. The command sets its defaults in code
 * (the targets' initial values) BEFORE calling cli_parse: -h prints each
 * default from the target's current value, so a default is typed once.
 * Shared groups (ingestion, weights, output, threads, -q/-v/-h) are macros
 * that expand to table fragments over a cli_common (cli.h), so every command
 * spells them the same way.
 *
 *   double lambda = 0.01; int64_t n = 100; const char *model = NULL;
 *   cli_opt opts[] = {
 *     CLI_STRING("model", 'm', &model, "FILE", "a seqloop model file", "options"),
 *     CLI_INT64("number", 'n', &n, 1, INT64_MAX, "N", "how many", NULL),
 *     CLI_DOUBLE("lambda", 0, &lambda, 0, HUGE_VAL, "X", "regularisation", NULL),
 *     CLI_OPTS_OUTPUT(&c), CLI_OPTS_GENERAL(&c), CLI_END};
 *   static const cli_cmdinfo info = {"sample", "seqloop sample -m MODEL [options]",
 *                                    "Draws sequences.\n", NULL};
 *   int optind_, rc = cli_common_parse(&c, &info, opts, &optind_);   (or cli_parse)
 *   if (rc >= 0) return rc;      (0 after -h/--version, 2 after a usage error)
 *
 * The group argument (last) starts a -h heading; NULL keeps the previous
 * one. Ranges are inclusive (CLI_DOUBLE_POS and CLI_F_*_OPEN for open ends);
 * +-HUGE_VAL (or beyond +-1e18) means no bound. Choices list names with
 * their values; a later name with an earlier value is an accepted alias.
 * After parsing, each entry's given counts its uses (e.g. to tell a default
 * from an explicit value).
 *
 * Every table also answers --version and the hidden --options-json (the
 * table as JSON, for the man-page and completion generators). A table is an
 * array ending with CLI_END (name NULL); walk it with a plain loop.
 *
 * Error messages name the option: "seqloop fit: --lambda-j: expected a
 * number >= 0, not 'abc'".
 */
#ifndef SL_CLI_OPT_H
#define SL_CLI_OPT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
  CLI_T_END = 0,
  CLI_T_FLAG,   /* int*: set to 1 (no value) */
  CLI_T_COUNT,  /* int*: incremented (-v -v) */
  CLI_T_INT,    /* int*, in [min, max] */
  CLI_T_INT64,  /* int64_t*, in [min, max] */
  CLI_T_UINT64, /* uint64_t* (seeds), in [min, max] as far as a double holds them */
  CLI_T_DOUBLE, /* double*, finite, in [min, max] */
  CLI_T_STRING, /* const char**: the argument itself (points into argv) */
  CLI_T_CHOICE, /* int*: the value of the named choice */
  CLI_T_LIST,   /* cli_list*: repeatable; each use appends its argument */
  CLI_T_FUNC    /* custom: parse(target, arg, why, n) */
} cli_opt_type;

/* Flags of an option. */
enum {
  CLI_F_MIN_OPEN = 1, /* the range excludes min (x > min) */
  CLI_F_MAX_OPEN = 2, /* the range excludes max (x < max) */
  CLI_F_HIDDEN = 4,   /* parsed, not shown by -h */
  CLI_F_NODEFAULT = 8 /* -h prints no default (the help line says it) */
};

typedef struct cli_choice {
  const char *name; /* NULL ends the list */
  int value;       /* a value that repeats an earlier entry's marks an alias: accepted, not
                     listed in errors or --options-json ("sto" after "stockholm") */
} cli_choice;

/* A repeatable option's values (CLI_T_LIST). */
typedef struct cli_list {
  const char **v;
  int n;
} cli_list;
void cli_list_free(cli_list *l);

/* CLI_T_FUNC parser: 0 ok, else -1 with what was expected in why ("a
 * comma-separated list of ..."); the caller adds the option and value. */
typedef int (*cli_opt_fn)(void *target, const char *arg, char *why, size_t n);

typedef struct cli_opt {
  const char *name;           /* long name without "--"; NULL ends a table */
  int shortc;                 /* short letter, or 0 */
  cli_opt_type type;
  void *target;
  double min, max;            /* numeric range (inclusive unless CLI_F_*_OPEN) */
  const cli_choice *choices;  /* CLI_T_CHOICE */
  const char *metavar;        /* "N", "FILE"; NULL for flags */
  const char *help;           /* one line (may contain '\n' for more) */
  const char *group;          /* -h heading; NULL: same group as the entry before */
  int flags;                  /* CLI_F_* */
  const char *default_text;   /* printed as the default instead of the live value:
                                 only for defaults computed at run time (threads) */
  cli_opt_fn fn;              /* CLI_T_FUNC */
  int given;                  /* set by cli_parse: how many times the option was used */
} cli_opt;

/* What -h prints around the table. */
typedef struct cli_cmdinfo {
  const char *name;     /* "fit", "audit cycle" */
  const char *usage;    /* "seqloop fit --model potts|profile|ar -o MODEL [options] ALIGNMENT" (may hold several lines) */
  const char *about;    /* paragraph(s) after the usage line, or NULL */
  const char *footer;   /* text after the options, or NULL */
} cli_cmdinfo;

/* Entries. G: group heading (NULL: same as before). */
#define CLI_OPT_(nm, sh, ty, tg, mn, mx, ch, mv, hp, gr, fl, dt, fn) \
  {(nm), (sh), (ty), (tg), (mn), (mx), (ch), (mv), (hp), (gr), (fl), (dt), (fn), 0}
#define CLI_FLAG(nm, sh, tg, hp, gr) CLI_OPT_(nm, sh, CLI_T_FLAG, tg, 0, 0, NULL, NULL, hp, gr, 0, NULL, NULL)
#define CLI_COUNT(nm, sh, tg, hp, gr) CLI_OPT_(nm, sh, CLI_T_COUNT, tg, 0, 0, NULL, NULL, hp, gr, CLI_F_NODEFAULT, NULL, NULL)
#define CLI_INT(nm, sh, tg, mn, mx, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_INT, tg, mn, mx, NULL, mv, hp, gr, 0, NULL, NULL)
#define CLI_INT64(nm, sh, tg, mn, mx, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_INT64, tg, mn, mx, NULL, mv, hp, gr, 0, NULL, NULL)
#define CLI_UINT64(nm, sh, tg, mn, mx, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_UINT64, tg, mn, mx, NULL, mv, hp, gr, 0, NULL, NULL)
#define CLI_DOUBLE(nm, sh, tg, mn, mx, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_DOUBLE, tg, mn, mx, NULL, mv, hp, gr, 0, NULL, NULL)
/* x > mn (for example a positive temperature) */
#define CLI_DOUBLE_POS(nm, sh, tg, mx, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_DOUBLE, tg, 0, mx, NULL, mv, hp, gr, CLI_F_MIN_OPEN, NULL, NULL)
#define CLI_STRING(nm, sh, tg, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_STRING, tg, 0, 0, NULL, mv, hp, gr, 0, NULL, NULL)
#define CLI_CHOICE(nm, sh, tg, ch, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_CHOICE, tg, 0, 0, ch, mv, hp, gr, 0, NULL, NULL)
#define CLI_LIST(nm, sh, tg, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_LIST, tg, 0, 0, NULL, mv, hp, gr, CLI_F_NODEFAULT, NULL, NULL)
#define CLI_FUNC(nm, sh, tg, fnp, mv, hp, gr) CLI_OPT_(nm, sh, CLI_T_FUNC, tg, 0, 0, NULL, mv, hp, gr, CLI_F_NODEFAULT, NULL, fnp)
/* --shard I/N (seqloop/shard.h, docs/scale.md): one option, spelled and
 * checked the same by every command that splits its work; target is an
 * sl_shard (n = 0 when not given). unit names what the command splits
 * ("assays", "rows", "sequences", "arms") for -h. */
#define CLI_SHARD(tg, unit)                                                                         \
  CLI_FUNC("shard", 0, (tg), cli_shard_opt, "I/N",                                                  \
           "compute piece I of N (1 <= I <= N) of the " unit ";\n"                                 \
           "`seqloop merge` reassembles the pieces into the unsharded output\n"                      \
           "(docs/scale.md)", "shard")
#define CLI_END CLI_OPT_(NULL, 0, CLI_T_END, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL)

/* CLI_T_FUNC parser of --shard: "I/N" into an sl_shard (seqloop/shard.h). */
int cli_shard_opt(void *target, const char *arg, char *why, size_t n);

/* Parse argv (argv[0] is the command name) against opts. Returns -1 when the
 * command should go on (*ret_optind: the first positional argument; GNU
 * permutation: options and arguments may mix, "--" ends options); 0 when
 * -h, --version or --options-json was answered on stdout; 2 after a usage
 * error, printed on stderr as "seqloop CMD: --opt: expected ..., not 'v'". */
int cli_parse(const cli_cmdinfo *info, cli_opt *opts, int argc, char **argv, int *ret_optind);

/* The -h text: usage, about, then each group's options with their live
 * defaults, then the footer. */
void cli_help(FILE *fp, const cli_cmdinfo *info, const cli_opt *opts);

/* The table as JSON (name, short, type, metavar, help, group, default,
 * range, choices) on fp: what --options-json prints. */
void cli_options_json(FILE *fp, const cli_cmdinfo *info, const cli_opt *opts);

/* The current value of an option's target as text ("0.2", "plmc", "" when
 * unset or a flag): what -h prints as the default. */
void cli_opt_value(const cli_opt *o, char *buf, size_t n);

/* The entry named name (long name), or NULL. */
cli_opt *cli_opt_find(cli_opt *opts, const char *name);

/* Usage error naming the command: "seqloop CMD: MSG (see 'seqloop CMD -h')"
 * on stderr; returns 2. */
int cli_usage_error(const cli_cmdinfo *info, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

#endif
