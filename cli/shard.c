/* shard.c: what a piece of a sharded run writes beside its output so that
 * `seqloop merge` can check that the pieces belong to one run and put them
 * back together (shard.h, docs/scale.md).
 *
 * The record lives in the piece's provenance sidecar (OUTPUT.prov.json),
 * which already holds the inputs with their SHA-256 and every option's
 * value: merge compares those, so nothing about "the same run" is stored
 * twice. The piece's own SHA-256 is recorded too, so a piece edited or
 * truncated after it was written is refused rather than merged. */
#include <stdlib.h>
#include <string.h>


#include "shard.h"

int cli_shard_need_file(const cli_cmdinfo *info, const sl_shard *s, const char *out) {
  if (s->n > 0 && (!out || strcmp(out, "-") == 0))
    return cli_usage_error(info, "--shard needs -o FILE: `seqloop merge` reads each piece and its "
                           "provenance sidecar");
  return -1;
}

/* The arguments of custom options as given ("--arms self,mix",
 * "--arms=self"), last one winning as in parsing. */
static void func_options(const cli_common *c, cJSON *opts) {
  for (const cli_opt *o = c->opts; o && o->name; o++) {
    if (o->type != CLI_T_FUNC || strcmp(o->name, "shard") == 0) continue;
    const char *val = NULL;
    size_t len = strlen(o->name);
    for (int k = 1; k < c->argc; k++) {
      const char *a = c->argv[k];
      if (strcmp(a, "--") == 0) break;
      if (strncmp(a, "--", 2) || strncmp(a + 2, o->name, len)) continue;
      if (a[2 + len] == '=') val = a + 3 + len;
      else if (!a[2 + len] && k + 1 < c->argc) val = c->argv[++k];
    }
    cJSON_DeleteItemFromObject(opts, o->name);
    if (val) cJSON_AddStringToObject(opts, o->name, val);
    else cJSON_AddNullToObject(opts, o->name);
  }
}

int cli_piece_prov_write(const cli_common *c, const char *out, const cJSON *extra, const cli_piece *p,
                         sl_error *err) {
  if (!p || p->s.n <= 0) return cli_prov_write(c, out, extra, err);
  char hex[SL_SHA256_HEX];
  if (sl_sha256_file(out, hex)) return sl_fail(err, SL_EIO, "%s: cannot read back the piece", out);
  cJSON *j = cli_prov_json(c, out, extra);
  if (!j) return sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON *opts = cJSON_GetObjectItemCaseSensitive(j, "options");
  if (opts) func_options(c, opts);
  cJSON *s = cJSON_AddObjectToObject(j, "shard");
  cJSON_AddNumberToObject(s, "i", p->s.i);
  cJSON_AddNumberToObject(s, "N", p->s.n);
  cJSON_AddStringToObject(s, "unit", p->unit);
  cJSON_AddNumberToObject(s, "items", (double)p->items);
  cJSON_AddNumberToObject(s, "first", (double)p->lo);
  cJSON_AddNumberToObject(s, "count", (double)(p->hi - p->lo));
  cJSON_AddNumberToObject(s, "header_lines", p->header_lines);
  cJSON_AddNumberToObject(s, "lead_lines", p->lead_lines);
  cJSON_AddStringToObject(s, "merge", p->merge);
  cJSON_AddStringToObject(s, "output_sha256", hex);
  char *path = cli_prov_path(c, out);
  int status = path ? cli_write_json(path, j, err) : sl_fail(err, SL_ENOMEM, "out of memory");
  free(path);
  cJSON_Delete(j);
  return status;
}
