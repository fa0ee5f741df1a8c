/* modelfile.c: the seqloop model file, and plmc's binary parameter file.
 *
 * Contents:
 *   1. Byte helpers and the in-memory file
 *   2. seqloop format: write, read (docs/model-format.md)
 *   3. plmc format: read, write
 *
 * seqloop format, little-endian:
 *   0   "SEQLOOP\0"                 magic (8 bytes)
 *   8   uint32 format version (1)
 *   12  uint32 H: header length
 *   16  H bytes of JSON (padded with spaces so that 16 + H is a multiple of 64)
 *   16+H  tensor data; each tensor starts at a multiple of 64 from here
 *   end-32  SHA-256 of every byte before it
 * The JSON header is self-describing: kind, alphabet, q, L, gap handling,
 * focus and numbering, Neff, fit options and provenance ("meta"), and the
 * tensor table (name, dtype, shape, offset, nbytes). J is stored once per pair
 * (i < j, a-major). A reader checks magic, version, sizes, checksum, every
 * field's type and every tensor's bounds and shape before it trusts a byte:
 * a truncated, corrupted or foreign file is an error, never a wrong score.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/model.h"
#include "seqloop/msa.h"
#include "seqloop/potts.h"
#include "seqloop/tfm.h"

#include "modelfile.h"

#define MAGIC "SEQLOOP"
#define FORMAT_VERSION 1u
#define ALIGN 64

/* 1. Byte helpers -------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static int host_little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

/* Read a whole file into memory. */
static int slurp(const char *path, uint8_t **ret_buf, size_t *ret_len, sl_error *err) {
  FILE *fp = fopen(path, "rb");
  *ret_buf = NULL;
  *ret_len = 0;
  if (!fp) return sl_fail(err, SL_EIO, "cannot open %s: %s", path, strerror(errno));
  size_t cap = 1 << 20, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) { fclose(fp); return sl_fail(err, SL_ENOMEM, "out of memory reading %s", path); }
    size_t n = fread(buf + len, 1, cap - len, fp);
    len += n;
    if (n == 0) break;
    if (len == cap) {
      uint8_t *p = realloc(buf, cap * 2);
      if (!p) free(buf);
      buf = p;
      cap *= 2;
    }
  }
  int bad = ferror(fp);
  fclose(fp);
  if (bad) { free(buf); return sl_fail(err, SL_EIO, "error reading %s", path); }
  *ret_buf = buf;
  *ret_len = len;
  return SL_OK;
}

/* 2. seqloop format -------------------------------------------------------- */

static char *states_string(const sl_model *m, const uint8_t *codes) {
  char *s = malloc((size_t)m->L + 1);
  if (!s) return NULL;
  for (int64_t i = 0; i < m->L; i++) s[i] = m->abc->symbols[codes[i]];
  s[m->L] = 0;
  return s;
}

static cJSON *tensor_entry(const char *name, int64_t d0, int64_t d1, int64_t d2, size_t off,
                           size_t nbytes, const char *layout) {
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "name", name);
  cJSON_AddStringToObject(t, "dtype", "f32");
  cJSON *shape = cJSON_AddArrayToObject(t, "shape");
  cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)d0));
  cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)d1));
  if (d2 > 0) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)d2));
  cJSON_AddNumberToObject(t, "offset", (double)off);
  cJSON_AddNumberToObject(t, "nbytes", (double)nbytes);
  if (layout) cJSON_AddStringToObject(t, "layout", layout);
  return t;
}

/* Tensors after h and J: a tfm model's named parameter views, then (in a
 * checkpoint) the AdamW moments. */
typedef struct {
  const char *name;
  const float *data;
  size_t n;
  int64_t d[3];
  size_t off;
} extra_tensor;

static int tfm_extras(const sl_model *m, const sl_tfm_state *st, extra_tensor *x) {
  const sl_tfm *t = m->tfm;
  if (!t) return 0;
  const int64_t V = t->cfg.vocab, C = t->cfg.d_model, T = t->cfg.n_ctx, NL = t->cfg.n_layer;
  const int64_t shp[SL_TFM_NTENSORS][3] = {
    {V, C, 0}, {T, C, 0}, {NL, C, 0}, {NL, C, 0}, {NL, 3 * C, C}, {NL, 3 * C, 0}, {NL, C, C},
    {NL, C, 0}, {NL, C, 0}, {NL, C, 0}, {NL, 4 * C, C}, {NL, 4 * C, 0}, {NL, C, 4 * C}, {NL, C, 0},
    {C, 0, 0}, {C, 0, 0}};
  const float *p = t->mem;
  int k;
  for (k = 0; k < SL_TFM_NTENSORS; k++) {
    x[k] = (extra_tensor){sl_tfm_tensor_names[k], p, t->sizes[k], {shp[k][0], shp[k][1], shp[k][2]}, 0};
    p += t->sizes[k];
  }
  if (st) {
    x[k++] = (extra_tensor){"adam_m", st->m, t->n_params, {(int64_t)t->n_params, 0, 0}, 0};
    x[k++] = (extra_tensor){"adam_v", st->v, t->n_params, {(int64_t)t->n_params, 0, 0}, 0};
  }
  return k;
}

static cJSON *tfm_json(const sl_tfm *t) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "n_layer", t->cfg.n_layer);
  cJSON_AddNumberToObject(o, "d_model", t->cfg.d_model);
  cJSON_AddNumberToObject(o, "n_head", t->cfg.n_head);
  cJSON_AddNumberToObject(o, "n_ctx", t->cfg.n_ctx);
  cJSON_AddNumberToObject(o, "vocab", t->cfg.vocab);
  cJSON_AddStringToObject(o, "tokens", "ACDEFGHIKLMNPQRSTVWY then BOS=20 EOS=21 PAD=22");
  cJSON_AddStringToObject(o, "architecture", "gpt2: pre-norm LayerNorm (eps 1e-5), learned positions, "
                          "causal MHA, GELU (tanh) MLP 4x, tied output embedding");
  return o;
}

static int model_write(const char *path, const sl_model *m, const sl_tfm_state *st, const char *train_json,
                       sl_error *err);

int sl_model_write(const char *path, const sl_model *m, sl_error *err) {
  return model_write(path, m, NULL, NULL, err);
}

int sl_model_write_checkpoint(const char *path, const sl_model *m, const sl_tfm_state *st,
                              const char *train_json, sl_error *err) {
  if (!m->tfm || !st || st->model != m->tfm)
    return sl_fail(err, SL_EINTERNAL, "a checkpoint needs a tfm model and its trainer state");
  return model_write(path, m, st, train_json, err);
}

static int model_write(const char *path, const sl_model *m, const sl_tfm_state *st, const char *train_json,
                       sl_error *err) {
  if (!host_little_endian()) return sl_fail(err, SL_EINTERNAL, "big-endian hosts are not supported");
  const int64_t L = m->L;
  const int q = m->q;
  const int64_t npair = L * (L - 1) / 2;
  size_t h_bytes = (size_t)(L * q) * 4;
  size_t j_bytes = m->J ? (size_t)npair * (size_t)q * (size_t)q * 4 : 0;
  size_t h_off = 0, j_off = (h_bytes + ALIGN - 1) / ALIGN * ALIGN;
  size_t data_len = m->J ? j_off + j_bytes : h_bytes;
  extra_tensor ex[SL_TFM_NTENSORS + 2];
  int nex = tfm_extras(m, st, ex);
  for (int k = 0; k < nex; k++) {
    ex[k].off = (data_len + ALIGN - 1) / ALIGN * ALIGN;
    data_len = ex[k].off + ex[k].n * 4;
  }

  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "format", "seqloop-model");
  cJSON_AddNumberToObject(root, "version", FORMAT_VERSION);
  cJSON_AddStringToObject(root, "program", "seqloop " SL_VERSION);
  cJSON_AddStringToObject(root, "kind", sl_model_name(m));
  cJSON_AddStringToObject(root, "alphabet", m->abc->name);
  cJSON_AddNumberToObject(root, "q", q);
  cJSON_AddNumberToObject(root, "L", (double)L);
  cJSON_AddBoolToObject(root, "gap_missing", m->gap_missing);
  if (m->focus_name) cJSON_AddStringToObject(root, "focus_name", m->focus_name);
  else cJSON_AddNullToObject(root, "focus_name");
  char *fs = states_string(m, m->focus);
  if (fs) cJSON_AddStringToObject(root, "focus", fs);
  free(fs);
  cJSON *pos = cJSON_AddArrayToObject(root, "positions");
  for (int64_t i = 0; i < L; i++) cJSON_AddItemToArray(pos, cJSON_CreateNumber((double)m->pos[i]));
  cJSON_AddNumberToObject(root, "neff", m->neff);
  cJSON_AddNumberToObject(root, "n_train", (double)m->n_train);
  if (m->order) {
    cJSON *ord = cJSON_AddArrayToObject(root, "order");
    for (int64_t k = 0; k < L; k++) cJSON_AddItemToArray(ord, cJSON_CreateNumber((double)m->order[k]));
  }
  if (m->tfm) cJSON_AddItemToObject(root, "tfm", tfm_json(m->tfm));
  if (st) {
    cJSON *tr = cJSON_AddObjectToObject(root, "trainer");
    cJSON_AddNumberToObject(tr, "step", (double)st->step);
    cJSON *rs = cJSON_AddArrayToObject(tr, "rng");
    for (int k = 0; k < 4; k++) {
      char hex[17];
      snprintf(hex, sizeof hex, "%016llx", (unsigned long long)st->rng.s[k]);
      cJSON_AddItemToArray(rs, cJSON_CreateString(hex));
    }
    cJSON_AddNumberToObject(tr, "last_eval", st->last_eval);
    cJSON *opts = train_json ? cJSON_Parse(train_json) : NULL;
    if (opts) cJSON_AddItemToObject(tr, "options", opts);
  }
  cJSON *meta = m->meta ? cJSON_Parse(m->meta) : NULL;
  if (meta) cJSON_AddItemToObject(root, "meta", meta);
  else cJSON_AddObjectToObject(root, "meta");
  cJSON *tensors = cJSON_AddArrayToObject(root, "tensors");
  cJSON_AddItemToArray(tensors, tensor_entry("h", L, q, 0, h_off, h_bytes, "h[i][a]"));
  if (m->J)
    cJSON_AddItemToArray(tensors, tensor_entry("J", npair, q, q, j_off, j_bytes,
                                               m->order ? "J[pair (k, l < k) of order positions][a][b] = "
                                                          "J_{order[k], order[l]}(a,b)"
                                                        : "J[pair(i<j) in lexicographic order][a][b] = J_ij(a,b)"));
  for (int k = 0; k < nex; k++) {
    cJSON *te = tensor_entry(ex[k].name, ex[k].d[0], ex[k].d[1], ex[k].d[2], ex[k].off, ex[k].n * 4, NULL);
    if (ex[k].d[1] == 0) cJSON_DeleteItemFromArray(cJSON_GetObjectItem(te, "shape"), 1);
    cJSON_AddItemToArray(tensors, te);
  }
  char *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!json) return sl_fail(err, SL_ENOMEM, "out of memory writing %s", path);

  size_t jl = strlen(json);
  size_t H = (16 + jl + ALIGN - 1) / ALIGN * ALIGN - 16;
  size_t total = 16 + H + data_len + 32;
  uint8_t *buf = calloc(1, total);
  if (!buf) { free(json); return sl_fail(err, SL_ENOMEM, "out of memory writing %s", path); }
  memcpy(buf, MAGIC, 8); /* includes the NUL */
  put_u32(buf + 8, FORMAT_VERSION);
  put_u32(buf + 12, (uint32_t)H);
  memcpy(buf + 16, json, jl);
  memset(buf + 16 + jl, ' ', H - jl);
  free(json);
  uint8_t *data = buf + 16 + H;
  memcpy(data + h_off, m->h, h_bytes);
  if (m->J && m->order) { /* ar: pairs of order positions (k, l < k) */
    float *dst = (float *)(void *)(data + j_off);
    for (int64_t k = 1; k < L; k++)
      for (int64_t l = 0; l < k; l++, dst += q * q)
        memcpy(dst, sl_model_J(m, m->order[k], m->order[l]), (size_t)q * (size_t)q * sizeof(float));
  } else if (m->J) {
    float *dst = (float *)(void *)(data + j_off);
    for (int64_t i = 0; i < L; i++)
      for (int64_t j = i + 1; j < L; j++, dst += q * q)
        memcpy(dst, sl_model_J(m, i, j), (size_t)q * (size_t)q * sizeof(float));
  }
  for (int k = 0; k < nex; k++) memcpy(data + ex[k].off, ex[k].data, ex[k].n * 4);
  struct sha256_ctx sha;
  sha256_init(&sha);
  sha256_update(&sha, total - 32, buf);
  sha256_digest(&sha, 32, buf + total - 32);

  sl_outfile *of = NULL;
  int status = sl_outfile_open(path, &of, err);
  if (!status) {
    if (fwrite(buf, 1, total, sl_outfile_fp(of)) != total) {
      sl_outfile_abort(of);
      status = sl_fail(err, SL_EIO, "error writing %s: %s", path, strerror(errno));
    } else {
      status = sl_outfile_commit(of, err);
    }
  }
  free(buf);
  return status;
}

#define json_int sl_mf_json_int
int sl_mf_json_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *ret) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  /* range first: converting a double beyond int64 (1e300) is undefined */
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi)) return -1;
  if (v->valuedouble != (double)(int64_t)v->valuedouble) return -1;
  int64_t x = (int64_t)v->valuedouble;
  if (x < lo || x > hi) return -1;
  *ret = x;
  return 0;
}

/* Find a tensor entry and check it against the expected shape. */
static const uint8_t *tensor(const cJSON *root, const char *name, const uint8_t *data,
                             size_t data_len, size_t expect_bytes, const char *path, sl_error *err) {
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "tensors"), *t;
  cJSON_ArrayForEach(t, ts) {
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
    if (!cJSON_IsString(nm) || strcmp(nm->valuestring, name) != 0) continue;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    int64_t off, nb;
    if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "f32") != 0 ||
        json_int(t, "offset", 0, INT64_MAX, &off) || json_int(t, "nbytes", 0, INT64_MAX, &nb)) {
      sl_fail(err, SL_EINPUT, "%s: tensor '%s' has a malformed entry (dtype f32, offset, nbytes expected)", path, name);
      return NULL;
    }
    if ((size_t)nb != expect_bytes || (size_t)off > data_len || (size_t)nb > data_len - (size_t)off ||
        off % 4 != 0) {
      sl_fail(err, SL_EINPUT, "%s: tensor '%s' has %lld bytes at offset %lld; expected %zu bytes "
              "within the %zu-byte data section", path, name, (long long)nb, (long long)off,
              expect_bytes, data_len);
      return NULL;
    }
    return data + off;
  }
  sl_fail(err, SL_EINPUT, "%s: tensor '%s' missing from the model file", path, name);
  return NULL;
}

const uint8_t *sl_mf_tensor(const sl_model_file *f, const char *name, size_t nbytes, sl_error *err) {
  return tensor(f->root, name, f->data, f->data_len, nbytes, f->path, err);
}

/* p may be unaligned (plmc files pack floats after odd-sized fields).
 * Parameters must be finite and at most SL_MODEL_MAX_PARAM in magnitude: a
 * finite but absurd value (2.5e38, found by a fuzzer that re-signs its
 * inputs) overflows float sums and activations into inf and NaN, so it is
 * refused here, before any score is computed (issue 18). Optimiser moments
 * (adam_m, adam_v) are checked for finiteness only (max = 0). */
static int check_floats_max(const void *p, size_t n, const char *name, const char *path,
                            double max, sl_error *err) {
  for (size_t k = 0; k < n; k++) {
    float v;
    memcpy(&v, (const char *)p + 4 * k, 4);
    if (!isfinite(v))
      return sl_fail(err, SL_EINPUT, "%s: tensor '%s' holds a non-finite value at index %zu", path, name, k);
    if (max > 0 && fabs((double)v) > max)
      return sl_fail(err, SL_EINPUT, "%s: tensor '%s' holds %g at index %zu: parameters beyond "
                     "+-%g overflow the model's sums (not a fitted model)", path, name, (double)v, k, max);
  }
  return SL_OK;
}

static int check_floats(const void *p, size_t n, const char *name, const char *path, sl_error *err) {
  return check_floats_max(p, n, name, path, SL_MODEL_MAX_PARAM, err);
}

int sl_mf_check_floats(const sl_model_file *f, const void *p, size_t n, const char *name, sl_error *err) {
  return check_floats(p, n, name, f->path, err);
}

/* Fill the symmetric J of a Potts model from packed little-endian float32
 * pairs (i < j lexicographic, J_ij(a, b) a-major), the layout of both file
 * formats; src may be unaligned. */
#define unpack_pairs sl_mf_unpack_pairs
void sl_mf_unpack_pairs(sl_model *m, const uint8_t *src) {
  const int64_t L = m->L;
  const int q = m->q;
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + 1; j < L; j++, src += 4 * q * q) {
      float *Jij = sl_model_J(m, i, j), *Jji = sl_model_J(m, j, i);
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          float v;
          memcpy(&v, src + 4 * (a * q + b), 4);
          Jij[a * q + b] = Jji[b * q + a] = v;
        }
    }
}

/* The trainer state of a checkpoint. */
static int read_trainer(const cJSON *root, const uint8_t *data, size_t data_len, const char *path,
                        sl_model *m, sl_tfm_state **ret_st, char **ret_train, sl_error *err) {
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "trainer");
  const cJSON *rs = tr ? cJSON_GetObjectItemCaseSensitive(tr, "rng") : NULL;
  int64_t step;
  if (!m->tfm || !cJSON_IsObject(tr) || json_int(tr, "step", 0, INT64_MAX, &step) || !cJSON_IsArray(rs) ||
      cJSON_GetArraySize(rs) != 4)
    return sl_fail(err, SL_EINPUT, "%s: not a tfm training checkpoint (no 'trainer' object with step and "
                   "rng)", path);
  sl_tfm_state *st = NULL;
  int status = sl_tfm_state_create(m->tfm, 0, &st, err);
  if (status) return status;
  st->step = step;
  for (int k = 0; k < 4; k++) {
    const cJSON *e = cJSON_GetArrayItem(rs, k);
    char *end = NULL;
    if (!cJSON_IsString(e) || strlen(e->valuestring) != 16) goto BAD;
    st->rng.s[k] = strtoull(e->valuestring, &end, 16);
    if (*end) goto BAD;
  }
  const cJSON *le = cJSON_GetObjectItemCaseSensitive(tr, "last_eval");
  st->last_eval = cJSON_IsNumber(le) ? le->valuedouble : -1;
  size_t nb = m->tfm->n_params * 4;
  const uint8_t *am = tensor(root, "adam_m", data, data_len, nb, path, err);
  const uint8_t *av = am ? tensor(root, "adam_v", data, data_len, nb, path, err) : NULL;
  if (!am || !av || check_floats_max(am, nb / 4, "adam_m", path, 0, err) ||
      check_floats_max(av, nb / 4, "adam_v", path, 0, err)) {
    sl_tfm_state_destroy(st);
    return SL_EINPUT;
  }
  memcpy(st->m, am, nb);
  memcpy(st->v, av, nb);
  if (ret_train) {
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(tr, "options");
    *ret_train = op ? cJSON_PrintUnformatted(op) : NULL;
  }
  *ret_st = st;
  return SL_OK;
BAD:
  sl_tfm_state_destroy(st);
  return sl_fail(err, SL_EINPUT, "%s: the checkpoint's generator state is not four 16-digit hex words", path);
}

static int model_read(const char *path, sl_model **ret_m, sl_tfm_state **ret_st, char **ret_train,
                      sl_error *err);

int sl_model_read(const char *path, sl_model **ret_m, sl_error *err) {
  return model_read(path, ret_m, NULL, NULL, err);
}

int sl_model_read_checkpoint(const char *path, sl_model **ret_m, sl_tfm_state **ret_st, char **ret_train,
                             sl_error *err) {
  *ret_st = NULL;
  if (ret_train) *ret_train = NULL;
  return model_read(path, ret_m, ret_st, ret_train, err);
}

static int model_read(const char *path, sl_model **ret_m, sl_tfm_state **ret_st, char **ret_train,
                      sl_error *err) {
  uint8_t *buf = NULL;
  size_t len = 0;
  cJSON *root = NULL;
  sl_model *m = NULL;
  int status;
  *ret_m = NULL;
  if ((status = slurp(path, &buf, &len, err))) return status;
  if (len < 8 || memcmp(buf, MAGIC, 8) != 0) {
    status = sl_fail(err, SL_EINPUT, "%s: not a seqloop model file (no 'SEQLOOP' magic); a plmc "
                     "parameter file is converted with 'seqloop convert'", path);
    goto DONE;
  }
  if (len < 16 + 32) { status = sl_fail(err, SL_EINPUT, "%s: truncated model file (%zu bytes)", path, len); goto DONE; }
  uint32_t version = get_u32(buf + 8), H = get_u32(buf + 12);
  if (version != FORMAT_VERSION) {
    status = sl_fail(err, SL_EINPUT, "%s: model format version %u; this seqloop reads version %u",
                     path, version, FORMAT_VERSION);
    goto DONE;
  }
  if ((size_t)H > len - 16 - 32) {
    status = sl_fail(err, SL_EINPUT, "%s: truncated model file (header of %u bytes, file of %zu)", path, H, len);
    goto DONE;
  }
  uint8_t digest[32];
  struct sha256_ctx sha;
  sha256_init(&sha);
  sha256_update(&sha, len - 32, buf);
  sha256_digest(&sha, 32, digest);
  if (memcmp(digest, buf + len - 32, 32) != 0) {
    status = sl_fail(err, SL_EINPUT, "%s: checksum mismatch: the model file is truncated or corrupted", path);
    goto DONE;
  }
  root = cJSON_ParseWithLength((const char *)buf + 16, H);
  if (!root || !cJSON_IsObject(root)) {
    status = sl_fail(err, SL_EINPUT, "%s: the model header is not valid JSON", path);
    goto DONE;
  }
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
  const cJSON *abcname = cJSON_GetObjectItemCaseSensitive(root, "alphabet");
  const cJSON *gm = cJSON_GetObjectItemCaseSensitive(root, "gap_missing");
  int64_t L, q;
  const sl_model_ops *k = cJSON_IsString(kind) ? sl_model_kind(kind->valuestring) : NULL;
  int at = cJSON_IsString(abcname) ? sl_alphabet_parse(abcname->valuestring) : -1;
  if (!k || at <= 0 || !cJSON_IsBool(gm) || json_int(root, "L", 1, 1 << 24, &L) ||
      json_int(root, "q", 2, 32, &q)) {
    /* Name the field and, for a number, the value and the bound (a header
     * claiming L = 2^40 used to get only "lacks a valid ... L or q"). */
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(root, "L"), *jq = cJSON_GetObjectItemCaseSensitive(root, "q");
    if (!k)
      status = sl_fail(err, SL_EINPUT, "%s: the model header's kind %s%.40s%s is not one this seqloop knows", path,
                       cJSON_IsString(kind) ? "'" : "", cJSON_IsString(kind) ? kind->valuestring : "(missing)",
                       cJSON_IsString(kind) ? "'" : "");
    else if (at <= 0 || !cJSON_IsBool(gm))
      status = sl_fail(err, SL_EINPUT, "%s: the model header lacks a valid %s", path,
                       at <= 0 ? "alphabet" : "gap_missing (true or false)");
    else if (json_int(root, "L", 1, 1 << 24, &L))
      status = cJSON_IsNumber(jl)
                   ? sl_fail(err, SL_EINPUT, "%s: the model header claims L = %.17g columns; a model has an integer "
                             "L in 1..%d (corrupted or not a seqloop model)", path, jl->valuedouble, 1 << 24)
                   : sl_fail(err, SL_EINPUT, "%s: the model header lacks its length L", path);
    else
      status = cJSON_IsNumber(jq)
                   ? sl_fail(err, SL_EINPUT, "%s: the model header claims q = %.17g states; expected an integer in "
                             "2..32", path, jq->valuedouble)
                   : sl_fail(err, SL_EINPUT, "%s: the model header lacks its alphabet size q", path);
    goto DONE;
  }
  m = sl_model_create(k->name, L, sl_alphabet_get(at), cJSON_IsTrue(gm));
  if (!m) { status = sl_fail(err, SL_ENOMEM, "out of memory loading %s", path); goto DONE; }
  if (m->q != q) {
    status = sl_fail(err, SL_EINPUT, "%s: q = %lld does not fit the %s alphabet with gap_missing = %d",
                     path, (long long)q, m->abc->name, m->gap_missing);
    goto DONE;
  }
  const uint8_t *data = buf + 16 + H;
  size_t data_len = len - 16 - H - 32;
  const uint8_t *th = tensor(root, "h", data, data_len, (size_t)(L * q) * 4, path, err);
  if (!th) { status = SL_EINPUT; goto DONE; }
  memcpy(m->h, th, (size_t)(L * q) * 4);
  if ((status = check_floats(m->h, (size_t)(L * q), "h", path, err))) goto DONE;
  const sl_model_file f = {root, data, data_len, path};
  if (k->read && (status = k->read(m, &f, err))) goto DONE; /* the kind's own fields and tensors */
  if (ret_st && (status = read_trainer(root, data, data_len, path, m, ret_st, ret_train, err))) goto DONE;
  const cJSON *focus = cJSON_GetObjectItemCaseSensitive(root, "focus");
  if (!cJSON_IsString(focus) || (int64_t)strlen(focus->valuestring) != L) {
    status = sl_fail(err, SL_EINPUT, "%s: the focus sequence is missing or not %lld characters long", path, (long long)L);
    goto DONE;
  }
  for (int64_t i = 0; i < L; i++) {
    unsigned char c = (unsigned char)focus->valuestring[i];
    int cls = m->abc->cls[c];
    if (cls != SL_CH_RESIDUE && cls != SL_CH_GAP) {
      status = sl_fail(err, SL_EINPUT, "%s: the focus sequence has '%c', not a %s state", path, c, m->abc->name);
      goto DONE;
    }
    m->focus[i] = m->abc->code[c];
  }
  const cJSON *pos = cJSON_GetObjectItemCaseSensitive(root, "positions"), *p;
  if (!cJSON_IsArray(pos) || cJSON_GetArraySize(pos) != L) {
    status = sl_fail(err, SL_EINPUT, "%s: 'positions' must list %lld residue numbers", path, (long long)L);
    goto DONE;
  }
  int64_t i = 0;
  cJSON_ArrayForEach(p, pos) {
    if (!cJSON_IsNumber(p)) { status = sl_fail(err, SL_EINPUT, "%s: 'positions' holds a non-number", path); goto DONE; }
    m->pos[i++] = (int64_t)p->valuedouble;
  }
  const cJSON *fn = cJSON_GetObjectItemCaseSensitive(root, "focus_name");
  if (cJSON_IsString(fn) && !(m->focus_name = sl_strdup(fn->valuestring))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  const cJSON *ne = cJSON_GetObjectItemCaseSensitive(root, "neff");
  if (cJSON_IsNumber(ne)) m->neff = ne->valuedouble;
  int64_t nt = 0;
  if (!json_int(root, "n_train", 0, INT64_MAX, &nt)) m->n_train = nt;
  const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
  if (meta) m->meta = cJSON_PrintUnformatted(meta);
  if ((status = sl_model_prepare(m, err))) goto DONE; /* derived layouts, once */
  *ret_m = m;
  m = NULL;
DONE:
  if (m && ret_st && *ret_st) { sl_tfm_state_destroy(*ret_st); *ret_st = NULL; }
  if (m && ret_train && *ret_train) { free(*ret_train); *ret_train = NULL; }
  cJSON_Delete(root);
  sl_model_destroy(m);
  free(buf);
  return status;
}

/* 3. plmc's binary parameter file ------------------------------------------
 * int32 L, q, nSeqs, nSkippedSeqs, iterations; float theta, lambda_h,
 * lambda_e, lambda_group, Neff; q alphabet bytes; (nSeqs + nSkipped) floats
 * (1/weight, 0 for skipped rows); L focus bytes; L int32 residue numbers;
 * L*q floats fi; L*q floats h; pairs(i<j)*q*q floats fij; pairs*q*q floats J.
 * Source: plmc src/plm.c, OutputParametersFull. */

typedef struct {
  const uint8_t *p;
  size_t left;
} cursor;

static int take(cursor *c, void *dst, size_t n) {
  if (c->left < n) return -1;
  if (dst) memcpy(dst, c->p, n);
  c->p += n;
  c->left -= n;
  return 0;
}

int sl_model_read_plmc(const char *path, sl_model **ret_m, sl_error *err) {
  uint8_t *buf = NULL;
  size_t len = 0;
  sl_model *m = NULL;
  int status;
  *ret_m = NULL;
  if ((status = slurp(path, &buf, &len, err))) return status;
  cursor c = {buf, len};
  int32_t L, q, nseq, nskip, iters;
  float hdr[5];
  if (take(&c, &L, 4) || take(&c, &q, 4) || take(&c, &nseq, 4) || take(&c, &nskip, 4) ||
      take(&c, &iters, 4) || take(&c, hdr, sizeof hdr)) {
    status = sl_fail(err, SL_EINPUT, "%s: truncated plmc parameter file (%zu bytes)", path, len);
    goto DONE;
  }
  if (L < 1 || L > (1 << 20) || (q != 20 && q != 21) || nseq < 0 || nskip < 0) {
    status = sl_fail(err, SL_EINPUT, "%s: not a plmc protein parameter file (L = %d, q = %d; expected "
                     "q = 21 with gaps or 20 with -g)", path, L, q);
    goto DONE;
  }
  /* The size must match exactly; this also bounds every later read. */
  uint64_t npair = (uint64_t)L * (uint64_t)(L - 1) / 2;
  uint64_t expect = 20 + 20 + (uint64_t)q + 4ULL * ((uint64_t)nseq + (uint64_t)nskip) + (uint64_t)L +
                    4ULL * L + 8ULL * L * (uint64_t)q + 8ULL * npair * (uint64_t)q * (uint64_t)q;
  if (expect != len) {
    status = sl_fail(err, SL_EINPUT, "%s: plmc parameter file of %zu bytes; L = %d, q = %d and %lld "
                     "sequences imply %llu bytes (truncated or not a plmc file)", path, len, L, q,
                     (long long)nseq + nskip, (unsigned long long)expect);
    goto DONE;
  }
  char alpha[22] = {0};
  take(&c, alpha, (size_t)q);
  const char *want = q == 21 ? "-ACDEFGHIKLMNPQRSTVWY" : "ACDEFGHIKLMNPQRSTVWY";
  if (memcmp(alpha, want, (size_t)q) != 0) {
    status = sl_fail(err, SL_EINPUT, "%s: plmc alphabet '%.*s' is not the protein alphabet '%s'", path,
                     q, alpha, want);
    goto DONE;
  }
  m = sl_model_create("potts", L, sl_alphabet_get(SL_ABC_PROTEIN), q == 20);
  if (!m) { status = sl_fail(err, SL_ENOMEM, "out of memory loading %s", path); goto DONE; }
  m->neff = hdr[4];
  m->n_train = nseq;
  take(&c, NULL, 4 * ((size_t)nseq + (size_t)nskip)); /* neighbour counts */
  for (int32_t i = 0; i < L; i++) {
    unsigned char ch = c.p[i];
    if (m->abc->cls[ch] != SL_CH_RESIDUE && ch != '-') {
      status = sl_fail(err, SL_EINPUT, "%s: focus character '%c' at position %d is not a residue", path, ch, i + 1);
      goto DONE;
    }
    m->focus[i] = m->abc->code[ch];
  }
  take(&c, NULL, (size_t)L);
  for (int32_t i = 0; i < L; i++) {
    int32_t v = 0;
    take(&c, &v, 4);
    m->pos[i] = v;
  }
  take(&c, NULL, 4 * (size_t)L * (size_t)q); /* fi */
  take(&c, m->h, 4 * (size_t)L * (size_t)q);
  take(&c, NULL, 4 * (size_t)(npair * (uint64_t)q * (uint64_t)q)); /* fij */
  const uint8_t *src = c.p; /* may be unaligned */
  if ((status = check_floats(m->h, (size_t)L * (size_t)q, "h", path, err)) ||
      (status = check_floats(src, (size_t)(npair * (uint64_t)q * (uint64_t)q), "J", path, err)))
    goto DONE;
  unpack_pairs(m, src);
  char meta[256];
  snprintf(meta, sizeof meta, "{\"imported_from\":\"plmc\",\"theta\":%g,\"lambda_h\":%g,\"lambda_J\":%g,"
           "\"iterations\":%d}", hdr[0], hdr[1], hdr[2], iters);
  m->meta = sl_strdup(meta);
  if ((status = sl_model_prepare(m, err))) goto DONE;
  *ret_m = m;
  m = NULL;
DONE:
  sl_model_destroy(m);
  free(buf);
  return status;
}

/* plmc's pair marginals of one pair (i < j), as plmc's MSAReadSeqs computes
 * them: weighted counts over the rows, normalised by Neff (the sum of the
 * weights); with gaps missing (plmc -g) over rows ungapped at both sites,
 * normalised per pair (a uniform 1/q^2 when no row qualifies). ab is q*q,
 * row-major: ab[a*q + b] = f_ij(a, b). */
static void plmc_pair_frequencies(const sl_msa *msa, const double *w, int gap_missing, int q, int64_t i,
                                  int64_t j, double *ab) {
  memset(ab, 0, (size_t)(q * q) * sizeof *ab);
  double sum = 0;
  for (int64_t n = 0; n < msa->N; n++) {
    const uint8_t *row = sl_msa_row(msa, n);
    int a = gap_missing ? row[i] - 1 : row[i], b = gap_missing ? row[j] - 1 : row[j];
    if (a < 0 || b < 0) continue;
    ab[a * q + b] += w[n];
    sum += w[n];
  }
  for (int k = 0; k < q * q; k++) ab[k] = sum > 0 ? ab[k] / sum : 1.0 / (q * q);
}

/* The writer behind both exports: pair marginals from fij (full L*L*q*q), or
 * computed pair by pair from msa and w (no L^2 q^2 buffer), or zeros. */
static int write_plmc(const char *path, const sl_model *m, const double *weights, int64_t n_weights,
                      const float *fi, const float *fij, const sl_msa *msa, const double *w, double theta,
                      double lambda_h, double lambda_J, int iterations, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_COUPLINGS) || m->abc->type != SL_ABC_PROTEIN)
    return sl_fail(err, SL_EUSAGE, "plmc's format holds protein Potts models only");
  const int64_t L = m->L;
  const int q = m->q;
  double *ab = msa ? malloc((size_t)(q * q) * sizeof *ab) : NULL;
  if (msa && !ab) return sl_fail(err, SL_ENOMEM, "out of memory");
  sl_outfile *of = NULL;
  int status = sl_outfile_open(path, &of, err);
  if (status) { free(ab); return status; }
  FILE *fp = sl_outfile_fp(of);
  int64_t nvalid = 0;
  for (int64_t k = 0; k < n_weights; k++) nvalid += weights[k] > 0;
  int32_t ints[5] = {(int32_t)L, q, (int32_t)nvalid, (int32_t)(n_weights - nvalid), iterations};
  float flts[5] = {(float)theta, (float)lambda_h, (float)lambda_J, 0.0f, (float)m->neff};
  fwrite(ints, 4, 5, fp);
  fwrite(flts, 4, 5, fp);
  fwrite(m->abc->symbols + (m->gap_missing ? 1 : 0), 1, (size_t)q, fp);
  for (int64_t k = 0; k < n_weights; k++) {
    float v = weights[k] > 0 ? (float)(1.0 / weights[k]) : 0.0f; /* plmc: neighbours (1 / weight) */
    fwrite(&v, 4, 1, fp);
  }
  for (int64_t i = 0; i < L; i++) fputc(m->abc->symbols[m->focus[i]], fp);
  for (int64_t i = 0; i < L; i++) {
    int32_t v = (int32_t)m->pos[i];
    fwrite(&v, 4, 1, fp);
  }
  const float zero = 0.0f;
  for (int64_t k = 0; k < L * q; k++) fwrite(fi ? fi + k : &zero, 4, 1, fp);
  fwrite(m->h, 4, (size_t)(L * q), fp);
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + 1; j < L; j++) {
      if (msa) {
        plmc_pair_frequencies(msa, w, m->gap_missing, q, i, j, ab);
        for (int k = 0; k < q * q; k++) {
          float v = (float)ab[k];
          fwrite(&v, 4, 1, fp);
        }
      } else {
        for (int k = 0; k < q * q; k++)
          fwrite(fij ? fij + ((size_t)i * (size_t)L + (size_t)j) * (size_t)(q * q) + k : &zero, 4, 1, fp);
      }
    }
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + 1; j < L; j++) fwrite(sl_model_J(m, i, j), 4, (size_t)(q * q), fp);
  free(ab);
  return sl_outfile_commit(of, err);
}

int sl_model_write_plmc(const char *path, const sl_model *m, const double *weights,
                        int64_t n_weights, const float *fi, const float *fij, double theta,
                        double lambda_h, double lambda_J, int iterations, sl_error *err) {
  return write_plmc(path, m, weights, n_weights, fi, fij, NULL, NULL, theta, lambda_h, lambda_J, iterations, err);
}

int sl_model_write_plmc_msa(const char *path, const sl_model *m, const sl_msa *msa, const double *w,
                            double theta, double lambda_h, double lambda_J, int max_iter, sl_error *err) {
  if (msa->L != m->L || msa->abc != m->abc)
    return sl_fail(err, SL_EUSAGE, "plmc export: the alignment (L %lld, %s) is not the model's (L %lld, %s)",
                   (long long)msa->L, msa->abc->name, (long long)m->L, m->abc->name);
  const int64_t nrec = msa->rep.n_records > msa->N ? msa->rep.n_records : msa->N;
  double *all = calloc((size_t)nrec, sizeof *all), *fd = malloc((size_t)(m->L * m->q) * sizeof *fd);
  float *fi = malloc((size_t)(m->L * m->q) * sizeof *fi);
  int status = !all || !fd || !fi ? sl_fail(err, SL_ENOMEM, "out of memory") : SL_OK;
  if (!status) {
    /* one weight per record of the file, in file order; 0 for records ingestion dropped (plmc's skipped) */
    for (int64_t n = 0; n < msa->N; n++) all[msa->src_row ? msa->src_row[n] : n] = w[n];
    status = sl_site_frequencies(msa, w, m->gap_missing, fd, err);
  }
  if (!status) {
    for (int64_t k = 0; k < m->L * m->q; k++) fi[k] = (float)fd[k];
    status = write_plmc(path, m, all, nrec, fi, NULL, msa, w, theta, lambda_h, lambda_J, max_iter, err);
  }
  free(all);
  free(fd);
  free(fi);
  return status;
}
