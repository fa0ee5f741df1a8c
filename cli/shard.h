/* shard.h: the cli side of sharded runs (docs/scale.md): what a piece
 * records in its provenance sidecar so that `seqloop merge` can check and
 * reassemble the pieces, and the benchmark summary that merge recomputes.
 * The arithmetic (I/N, ranges) is the library's (seqloop/shard.h); the
 * option is CLI_SHARD (opt.h). */
#ifndef SL_CLI_SHARD_H
#define SL_CLI_SHARD_H

#include "cli.h"
#include "seqloop/benchmark.h"
#include "seqloop/shard.h"

/* How a piece covers its run. Written in its sidecar as "shard":
 * {"i", "N", "unit", "items", "first", "count", "header_lines",
 *  "lead_lines", "merge", "output_sha256"}. */
typedef struct cli_piece {
  sl_shard s;        /* s.n == 0: not sharded (plain provenance) */
  const char *unit;  /* what is split: "assays", "rows", "sequences", "arms" */
  int64_t items;     /* items of the whole run */
  int64_t lo, hi;    /* this piece's items [lo, hi) (sl_shard_range) */
  int header_lines;  /* lines that open every piece (a CSV header), kept once */
  int lead_lines;    /* lines after the header that every non-empty piece repeats
                        (audit cycle's generation-0 row), kept once */
  const char *merge; /* "concat" (line-oriented outputs) or "benchmark" */
} cli_piece;

/* With --shard the output must be a file (merge reads its sidecar): -1 go
 * on, else 2 after a usage error naming --shard. */
int cli_shard_need_file(const cli_cmdinfo *info, const sl_shard *s, const char *out);

/* cli_piece_prov_write()
 * Purpose:  cli_prov_write, plus for a piece (p && p->s.n > 0) the "shard"
 *           object above and the arguments of the table's custom (CLI_FUNC)
 *           options as given, which cli_prov_json leaves out (--arms), so
 *           that merge can compare every option of the pieces.
 * Returns:  SL_OK, SL_EIO, SL_ENOMEM. */
int cli_piece_prov_write(const cli_common *c, const char *out, const cJSON *extra, const cli_piece *p,
                         sl_error *err);

/* The benchmark's summary (cmd_benchmark.c), shared with merge:
 * rows_only = 1 writes the per-assay rows alone (a piece's table);
 * else the rows, then the ProteinGym aggregate, the plain mean and (with
 * compare) paired differences of every metric, with the table on stderr
 * unless quiet. st[a] != 0: assay a failed (an empty row). Returns a status. */
int cli_bench_summary(const char *path, const char *datadir, char **ids, int n, const sl_bench_result *res,
                      const int *st, const char *ref, const char *compare, int n_boot, uint64_t seed,
                      int rows_only, int quiet, sl_error *err);

/* `seqloop merge` (cmd_merge.c). */
int cmd_merge(int argc, char **argv);

#endif
