/* opt.c: the option table (opt.h): parsing over getopt_long, -h with live
 * defaults, errors that name the option, --version and --options-json.
 *
 * getopt_long does the scanning (GNU permutation, "--", "--name=value",
 * abbreviations) so behaviour matches the loops it replaces; this file turns
 * a table into getopt's arrays and types the values. opterr is off: the
 * messages are ours and name the option, never the value in its place.
 * Long-option codes are 1000 + the entry's index; a short letter maps back
 * to its entry by a scan (tables are a few dozen entries).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "opt.h"
#include "seqloop/base.h"
#include "seqloop/shard.h"

enum { CODE_BASE = 1000, CODE_HELP = 900, CODE_VERSION, CODE_OPTJSON };

void cli_list_free(cli_list *l) {
  if (!l) return;
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

int cli_usage_error(const cli_cmdinfo *info, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "seqloop %s: ", info->name);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see 'seqloop %s -h')\n", info->name);
  va_end(ap);
  return 2;
}

cli_opt *cli_opt_find(cli_opt *opts, const char *name) {
  for (cli_opt *o = opts; o->name; o++)
    if (strcmp(o->name, name) == 0) return o;
  return NULL;
}

static int is_builtin(const cli_opt *o) {
  return !o->target && o->type == CLI_T_FLAG && (strcmp(o->name, "help") == 0 || strcmp(o->name, "version") == 0);
}

/* Bounds beyond 1e18 read as none (int64 limits stored in a double). */
static int has_min(const cli_opt *o) { return isfinite(o->min) && o->min > -1e18; }
static int has_max(const cli_opt *o) { return isfinite(o->max) && o->max < 1e18; }

static void range_text(const cli_opt *o, char *buf, size_t n) {
  int lo = has_min(o), hi = has_max(o);
  if (o->type == CLI_T_UINT64 && o->min <= 0) lo = 0; /* "non-negative" says it */
  if (o->type == CLI_T_INT || o->type == CLI_T_INT64 || o->type == CLI_T_UINT64) {
    if (lo && hi) snprintf(buf, n, " in [%.0f, %.0f]", o->min, o->max);
    else if (lo) snprintf(buf, n, " >= %.0f", o->min);
    else if (hi) snprintf(buf, n, " <= %.0f", o->max);
    else buf[0] = 0;
    return;
  }
  if (lo && hi)
    snprintf(buf, n, " in %c%g, %g%c", o->flags & CLI_F_MIN_OPEN ? '(' : '[', o->min, o->max,
             o->flags & CLI_F_MAX_OPEN ? ')' : ']');
  else if (lo) snprintf(buf, n, " %s %g", o->flags & CLI_F_MIN_OPEN ? ">" : ">=", o->min);
  else if (hi) snprintf(buf, n, " %s %g", o->flags & CLI_F_MAX_OPEN ? "<" : "<=", o->max);
  else buf[0] = 0;
}

static int in_range(const cli_opt *o, double v) {
  if (has_min(o) && (o->flags & CLI_F_MIN_OPEN ? !(v > o->min) : !(v >= o->min))) return 0;
  if (has_max(o) && (o->flags & CLI_F_MAX_OPEN ? !(v < o->max) : !(v <= o->max))) return 0;
  return 1;
}

static int is_alias(const cli_choice *ch, int k) {
  for (int j = 0; j < k; j++)
    if (ch[j].value == ch[k].value) return 1;
  return 0;
}

static void choices_text(const cli_opt *o, char *buf, size_t n) {
  size_t off = 0, k, nc = 0, shown = 0;
  buf[0] = 0;
  for (k = 0; o->choices && o->choices[k].name; k++) nc += !is_alias(o->choices, (int)k);
  for (k = 0; o->choices && o->choices[k].name && off < n; k++) {
    if (is_alias(o->choices, (int)k)) continue;
    shown++;
    off += (size_t)snprintf(buf + off, n - off, "%s%s", shown == 1 ? "" : shown == nc ? " or " : ", ",
                            o->choices[k].name);
  }
}

/* Type one value into o's target; on failure print the message and return 2. */
static int set_value(const cli_cmdinfo *info, cli_opt *o, const char *arg) {
  char want[512], rng[96];
  char *e = NULL;
  range_text(o, rng, sizeof rng);
  want[0] = 0;
  errno = 0;
  switch (o->type) {
    case CLI_T_FLAG: *(int *)o->target = 1; return 0;
    case CLI_T_COUNT: (*(int *)o->target)++; return 0;
    case CLI_T_INT:
    case CLI_T_INT64: {
      long long v = strtoll(arg, &e, 10);
      if (e == arg || *e || errno || !in_range(o, (double)v) ||
          (o->type == CLI_T_INT && (v > 2147483647LL || v < -2147483647LL - 1))) {
        snprintf(want, sizeof want, "an integer%s", rng);
        break;
      }
      if (o->type == CLI_T_INT) *(int *)o->target = (int)v;
      else *(int64_t *)o->target = (int64_t)v;
      return 0;
    }
    case CLI_T_UINT64: {
      const char *p = arg;
      while (*p == ' ' || *p == '\t') p++;
      unsigned long long v = strtoull(arg, &e, 10);
      if (*p == '-' || e == arg || *e || errno || !in_range(o, (double)v)) {
        snprintf(want, sizeof want, "a non-negative integer%s", rng);
        break;
      }
      *(uint64_t *)o->target = (uint64_t)v;
      return 0;
    }
    case CLI_T_DOUBLE: {
      double v = strtod(arg, &e);
      if (e == arg || *e || errno == ERANGE || !isfinite(v) || !in_range(o, v)) {
        snprintf(want, sizeof want, "a number%s", rng);
        break;
      }
      *(double *)o->target = v;
      return 0;
    }
    case CLI_T_STRING:
      if (!*arg) {
        fprintf(stderr, "seqloop %s: --%s: expected a value (%s), not an empty string\n", info->name, o->name,
                o->metavar ? o->metavar : "text");
        return 2;
      }
      *(const char **)o->target = arg;
      return 0;
    case CLI_T_CHOICE:
      for (const cli_choice *c = o->choices; c && c->name; c++)
        if (strcmp(c->name, arg) == 0) {
          *(int *)o->target = c->value;
          return 0;
        }
      choices_text(o, want, sizeof want);
      break;
    case CLI_T_LIST: {
      cli_list *l = o->target;
      const char **v = realloc(l->v, (size_t)(l->n + 1) * sizeof *v);
      if (!v) {
        fprintf(stderr, "seqloop %s: error: out of memory\n", info->name);
        return 3;
      }
      v[l->n++] = arg;
      l->v = v;
      return 0;
    }
    case CLI_T_FUNC:
      if (o->fn(o->target, arg, want, sizeof want) == 0) return 0;
      break;
    case CLI_T_END: break;
  }
  fprintf(stderr, "seqloop %s: --%s: expected %s, not '%s'\n", info->name, o->name, want, arg);
  return 2;
}

void cli_opt_value(const cli_opt *o, char *buf, size_t n) {
  buf[0] = 0;
  if (!o->target) return;
  switch (o->type) {
    case CLI_T_INT: snprintf(buf, n, "%d", *(const int *)o->target); break;
    case CLI_T_INT64: snprintf(buf, n, "%lld", (long long)*(const int64_t *)o->target); break;
    case CLI_T_UINT64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)o->target); break;
    case CLI_T_DOUBLE: {
      double v = *(const double *)o->target;
      if (!isnan(v)) snprintf(buf, n, "%g", v);
      break;
    }
    case CLI_T_STRING: {
      const char *s = *(const char *const *)o->target;
      if (s) snprintf(buf, n, "%s", s);
      break;
    }
    case CLI_T_CHOICE:
      for (const cli_choice *c = o->choices; c && c->name; c++)
        if (c->value == *(const int *)o->target) {
          snprintf(buf, n, "%s", c->name);
          break;
        }
      break;
    default: break;
  }
}

static void help_entry(FILE *fp, const char *sh, const char *name, const char *metavar, const char *help,
                       const char *dflt) {
  char left[128];
  int w = snprintf(left, sizeof left, "  %s%s--%s%s%s", sh, sh[0] ? ", " : "", name, metavar ? " " : "",
                   metavar ? metavar : "");
  fputs(left, fp);
  if (w >= 26) fprintf(fp, "\n%26s", "");
  else fprintf(fp, "%*s", 26 - w, "");
  for (const char *p = help ? help : ""; *p; p++) {
    fputc(*p, fp);
    if (*p == '\n' && p[1]) fprintf(fp, "%26s", "");
  }
  if (dflt && *dflt) fprintf(fp, " (default %s)", dflt);
  fputc('\n', fp);
}

void cli_help(FILE *fp, const cli_cmdinfo *info, const cli_opt *opts) {
  const char *group = NULL;
  int has_help = 0, has_version = 0;
  fprintf(fp, "usage: %s\n", info->usage);
  if (info->about) fprintf(fp, "\n%s", info->about);
  fputc('\n', fp);
  for (const cli_opt *o = opts; o->name; o++) {
    has_help |= strcmp(o->name, "help") == 0;
    has_version |= strcmp(o->name, "version") == 0;
    if (o->flags & CLI_F_HIDDEN) continue;
    if (o->group && (!group || strcmp(o->group, group) != 0)) {
      fprintf(fp, "%s:\n", o->group);
      group = o->group;
    }
    char sh[4] = {0}, val[256];
    if (o->shortc) snprintf(sh, sizeof sh, "-%c", o->shortc);
    if (o->default_text) snprintf(val, sizeof val, "%s", o->default_text);
    else if (o->flags & CLI_F_NODEFAULT) val[0] = 0;
    else cli_opt_value(o, val, sizeof val);
    help_entry(fp, sh, o->name, o->metavar, o->help, val);
  }
  if (!has_help) help_entry(fp, "-h", "help", NULL, "this help", NULL);
  if (!has_version) help_entry(fp, "", "version", NULL, "print the version and exit", NULL);
  if (info->footer) fprintf(fp, "\n%s", info->footer);
}

static const char *type_name(cli_opt_type t) {
  static const char *names[] = {"end", "flag", "count", "int", "int64", "uint64", "double",
                                "string", "choice", "list", "custom"};
  return names[t];
}

void cli_options_json(FILE *fp, const cli_cmdinfo *info, const cli_opt *opts) {
  cJSON *root = cJSON_CreateObject(), *arr;
  char buf[256];
  const char *group = NULL;
  cJSON_AddStringToObject(root, "command", info->name);
  cJSON_AddStringToObject(root, "usage", info->usage);
  arr = cJSON_AddArrayToObject(root, "options");
  for (const cli_opt *o = opts; o->name; o++) {
    cJSON *j = cJSON_CreateObject();
    if (o->group) group = o->group;
    cJSON_AddStringToObject(j, "name", o->name);
    if (o->shortc) {
      snprintf(buf, sizeof buf, "%c", o->shortc);
      cJSON_AddStringToObject(j, "short", buf);
    }
    cJSON_AddStringToObject(j, "type", is_builtin(o) ? "builtin" : type_name(o->type));
    if (o->metavar) cJSON_AddStringToObject(j, "metavar", o->metavar);
    if (o->help) cJSON_AddStringToObject(j, "help", o->help);
    if (group) cJSON_AddStringToObject(j, "group", group);
    if (o->default_text) cJSON_AddStringToObject(j, "default", o->default_text);
    else if (!(o->flags & CLI_F_NODEFAULT)) {
      cli_opt_value(o, buf, sizeof buf);
      if (buf[0]) cJSON_AddStringToObject(j, "default", buf);
    }
    if (has_min(o)) cJSON_AddNumberToObject(j, o->flags & CLI_F_MIN_OPEN ? "min_exclusive" : "min", o->min);
    if (has_max(o)) cJSON_AddNumberToObject(j, o->flags & CLI_F_MAX_OPEN ? "max_exclusive" : "max", o->max);
    if (o->type == CLI_T_CHOICE) {
      cJSON *c = cJSON_AddArrayToObject(j, "choices");
      for (int k = 0; o->choices && o->choices[k].name; k++)
        if (!is_alias(o->choices, k)) cJSON_AddItemToArray(c, cJSON_CreateString(o->choices[k].name));
    }
    if (o->flags & CLI_F_HIDDEN) cJSON_AddBoolToObject(j, "hidden", 1);
    cJSON_AddItemToArray(arr, j);
  }
  char *s = cJSON_Print(root);
  if (s) fprintf(fp, "%s\n", s);
  cJSON_free(s);
  cJSON_Delete(root);
}

/* The entry of getopt's code, or NULL. */
static cli_opt *entry_of(cli_opt *opts, int code) {
  if (code >= CODE_BASE) return &opts[code - CODE_BASE];
  for (cli_opt *o = opts; o->name; o++)
    if (o->shortc && o->shortc == code) return o;
  return NULL;
}

int cli_parse(const cli_cmdinfo *info, cli_opt *opts, int argc, char **argv, int *ret_optind) {
  int n = 0, rc = -1;
  while (opts[n].name) n++;
  struct option *lo = calloc((size_t)n + 4, sizeof *lo);
  char *shorts = malloc(3 * (size_t)n + 4);
  if (!lo || !shorts) {
    free(lo);
    free(shorts);
    fprintf(stderr, "seqloop %s: error: out of memory\n", info->name);
    return 3;
  }
  size_t ns = 0;
  int m = 0, help_given = 0, version_given = 0;
  shorts[ns++] = ':';
  for (int k = 0; k < n; k++) {
    cli_opt *o = &opts[k];
    int arg = o->type == CLI_T_FLAG || o->type == CLI_T_COUNT ? no_argument : required_argument;
    lo[m++] = (struct option){o->name, arg, NULL, CODE_BASE + k};
    if (o->shortc) {
      shorts[ns++] = (char)o->shortc;
      if (arg == required_argument) shorts[ns++] = ':';
    }
    o->given = 0;
  }
  if (!cli_opt_find(opts, "help")) {
    lo[m++] = (struct option){"help", no_argument, NULL, CODE_HELP};
    if (!memchr(shorts, 'h', ns)) shorts[ns++] = 'h';
  }
  if (!cli_opt_find(opts, "version")) lo[m++] = (struct option){"version", no_argument, NULL, CODE_VERSION};
  lo[m++] = (struct option){"options-json", no_argument, NULL, CODE_OPTJSON};
  shorts[ns] = 0;
  opterr = 0;
  optind = 0; /* glibc: full re-initialisation (a second parse in one process) */
  int c;
  while (rc < 0 && (c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
    if (c == CODE_HELP || (c == 'h' && !entry_of(opts, 'h'))) { help_given = 1; continue; }
    if (c == CODE_VERSION) { version_given = 1; continue; }
    if (c == CODE_OPTJSON) {
      cli_options_json(stdout, info, opts);
      rc = 0;
      break;
    }
    if (c == '?' || c == ':') {
      cli_opt *o = optopt ? entry_of(opts, optopt) : NULL;
      const char *bad = argv[optind - 1];
      if (c == ':' && o) rc = cli_usage_error(info, "--%s: needs a value (%s)", o->name, o->metavar ? o->metavar : "an argument");
      else if (c == ':' && optopt == CODE_HELP) rc = cli_usage_error(info, "--help takes no value");
      else if (o && strncmp(bad, "--", 2) == 0) rc = cli_usage_error(info, "--%s takes no value", o->name);
      else if (optopt && optopt < 256 && strncmp(bad, "--", 2) != 0) rc = cli_usage_error(info, "unknown option '-%c'", optopt);
      else {
        const char *eq = strchr(bad, '=');
        rc = cli_usage_error(info, "unknown or ambiguous option '%.*s'", eq ? (int)(eq - bad) : (int)strlen(bad), bad);
      }
      break;
    }
    cli_opt *o = entry_of(opts, c);
    if (!o) { rc = cli_usage_error(info, "unknown option"); break; }
    if (is_builtin(o)) {
      if (strcmp(o->name, "help") == 0) help_given = 1;
      else version_given = 1;
      continue;
    }
    o->given++;
    int r = set_value(info, o, optarg);
    if (r) rc = r;
  }
  if (rc < 0 && help_given) {
    cli_help(stdout, info, opts);
    rc = 0;
  } else if (rc < 0 && version_given) {
    printf("seqloop %s\n", SL_VERSION);
    rc = 0;
  }
  *ret_optind = optind;
  free(lo);
  free(shorts);
  return rc;
}

int cli_shard_opt(void *target, const char *arg, char *why, size_t n) {
  sl_error err;
  sl_error_clear(&err);
  if (sl_shard_parse(arg, target, &err) == SL_OK) return 0;
  /* the range errors say which number is wrong ("I must be in 1..N"); a syntax error needs no more */
  const char *what = strstr(err.msg, "must be");
  if (what) snprintf(why, n, "I/N, piece I of N (%s)", what - 2);
  else snprintf(why, n, "I/N, piece I of N with 1 <= I <= N (two integers; pieces are numbered from 1)");
  return -1;
}
