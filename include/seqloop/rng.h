/* seqloop/rng.h: the random number generator, passed explicitly (no global
 * state), so a seed fixes every result.
 *
 * xoshiro256** (Blackman and Vigna 2018), seeded through splitmix64 as its
 * authors recommend; sl_rng_jump() gives independent streams for threads
 * and chains. Not for cryptography.
 */
#ifndef SEQLOOP_RNG_H
#define SEQLOOP_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_rng {
  uint64_t s[4];
} sl_rng;

void sl_rng_seed(sl_rng *r, uint64_t seed);
uint64_t sl_rng_u64(sl_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double sl_rng_uniform(sl_rng *r);
/* Advance by 2^128 steps: call k times on a copy for the k-th stream. */
void sl_rng_jump(sl_rng *r);

#ifdef __cplusplus
}
#endif
#endif
