/* rng.c: xoshiro256** and splitmix64 (public-domain algorithms by Blackman
 * and Vigna; written here from their published description). */
#include "seqloop/rng.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void sl_rng_seed(sl_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int k = 0; k < 4; k++) r->s[k] = splitmix64(&x);
}

uint64_t sl_rng_u64(sl_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double sl_rng_uniform(sl_rng *r) { return (double)(sl_rng_u64(r) >> 11) * 0x1.0p-53; }

void sl_rng_jump(sl_rng *r) {
  static const uint64_t JUMP[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                  0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
  uint64_t t[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 64; b++) {
      if (JUMP[i] & (1ULL << b))
        for (int k = 0; k < 4; k++) t[k] ^= r->s[k];
      sl_rng_u64(r);
    }
  for (int k = 0; k < 4; k++) r->s[k] = t[k];
}
