/* strmap.c: open addressing with linear probing, FNV-1a hashing, load <= 1/2.
 * Chosen over a tree because look-ups dominate (one per row or line) and keys
 * are short; the table doubles when half full.
 */
#include "seqloop/base.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *key;
  size_t len;
  uint64_t hash;
  int64_t value;
} slot;

struct sl_strmap {
  slot *slots;
  size_t cap; /* power of two */
  size_t n;
};

static uint64_t fnv1a(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

sl_strmap *sl_strmap_create(size_t expected) {
  sl_strmap *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->cap = 16;
  while (m->cap < 2 * expected) m->cap *= 2;
  m->slots = calloc(m->cap, sizeof *m->slots);
  if (!m->slots) { free(m); return NULL; }
  return m;
}

void sl_strmap_destroy(sl_strmap *m) {
  if (!m) return;
  free(m->slots);
  free(m);
}

static size_t find(const slot *slots, size_t cap, const char *key, size_t len, uint64_t h) {
  size_t i = (size_t)h & (cap - 1);
  while (slots[i].key) {
    if (slots[i].hash == h && slots[i].len == len && memcmp(slots[i].key, key, len) == 0) return i;
    i = (i + 1) & (cap - 1);
  }
  return i;
}

int64_t sl_strmap_get(const sl_strmap *m, const char *key, size_t len) {
  uint64_t h = fnv1a(key, len);
  size_t i = find(m->slots, m->cap, key, len, h);
  return m->slots[i].key ? m->slots[i].value : -1;
}

int64_t sl_strmap_put(sl_strmap *m, const char *key, size_t len, int64_t value) {
  uint64_t h = fnv1a(key, len);
  size_t i = find(m->slots, m->cap, key, len, h);
  if (m->slots[i].key) return m->slots[i].value;
  if (2 * (m->n + 1) > m->cap) {
    size_t cap = m->cap * 2;
    slot *s = calloc(cap, sizeof *s);
    if (!s) return -2;
    for (size_t k = 0; k < m->cap; k++)
      if (m->slots[k].key) s[find(s, cap, m->slots[k].key, m->slots[k].len, m->slots[k].hash)] = m->slots[k];
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    i = find(m->slots, m->cap, key, len, h);
  }
  m->slots[i] = (slot){key, len, h, value};
  m->n++;
  return -1;
}
