/* modelfile.h: what a kind's read operation gets from the model-file reader
 * (private to src/models). The reader checks magic, version, checksum and the
 * common header (kind, alphabet, L, q, h, focus, positions) and then calls
 * the kind's ops->read with the parsed header and the data section; these
 * helpers check a tensor's entry and bounds and its values before the kind
 * trusts a byte (docs/model-format.md). */
#ifndef SEQLOOP_MODELS_MODELFILE_H
#define SEQLOOP_MODELS_MODELFILE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "seqloop/model.h"

typedef struct sl_model_file {
  const cJSON *root;    /* the JSON header */
  const uint8_t *data;  /* the tensor data section */
  size_t data_len;
  const char *path;     /* for messages */
} sl_model_file;

/* An integer header field within [lo, hi]: 0, or -1 (absent, not an integer, out of range). */
int sl_mf_json_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *ret);

/* The bytes of tensor `name` (f32, exactly nbytes, inside the data
 * section), or NULL with SL_EINPUT in err. */
const uint8_t *sl_mf_tensor(const sl_model_file *f, const char *name, size_t nbytes, sl_error *err);

/* SL_OK if the n floats at p (maybe unaligned) are finite, else SL_EINPUT. */
int sl_mf_check_floats(const sl_model_file *f, const void *p, size_t n, const char *name, sl_error *err);

/* J of a Potts model from packed pairs (i < j lexicographic, a-major). */
void sl_mf_unpack_pairs(sl_model *m, const uint8_t *src);

#endif
