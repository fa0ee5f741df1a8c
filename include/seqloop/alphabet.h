/* seqloop/alphabet.h: residue alphabets and the character policy.
 *
 * State 0 is always the gap; residues follow in a fixed order. The protein
 * order "-ACDEFGHIKLMNPQRSTVWY" is plmc's, so parameter files interchange.
 *
 * Every input character falls in exactly one class (docs/formats.md):
 *   residue      a letter of the alphabet, either case (lowercase = insert
 *                in A2M/A3M, otherwise the same residue)
 *   gap          '-' (match-column gap) or '.' (insert padding)
 *   nonstandard  a letter valid for the molecule but not a state: protein
 *                B J O U X Z; nucleic IUPAC ambiguity codes (N R Y ...);
 *                and '*' (stop). The row is dropped (default) or the
 *                character read as a gap, by option.
 *   unknown      anything else (digits, punctuation, other letters): an
 *                input error naming the file and line.
 */
#ifndef SEQLOOP_ALPHABET_H
#define SEQLOOP_ALPHABET_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_ABC_AUTO = 0, SL_ABC_PROTEIN = 1, SL_ABC_DNA = 2, SL_ABC_RNA = 3 };

/* Character classes. */
enum { SL_CH_UNKNOWN = 0, SL_CH_RESIDUE = 1, SL_CH_GAP = 2, SL_CH_NONSTD = 3 };

typedef struct sl_alphabet {
  int type;            /* SL_ABC_PROTEIN, SL_ABC_DNA or SL_ABC_RNA */
  int q;               /* number of states, gap included */
  const char *name;    /* "protein", "dna", "rna" */
  const char *symbols; /* q characters; symbols[0] == '-' */
  uint8_t cls[256];    /* character class of each byte */
  uint8_t code[256];   /* state of each residue byte (either case); 0 for gaps */
} sl_alphabet;

/* sl_alphabet_get(): the built-in alphabet of a type (not AUTO); NULL if bad. */
const sl_alphabet *sl_alphabet_get(int type);

/* sl_alphabet_parse(): "auto", "protein", "dna", "rna" -> type; -1 if unknown. */
int sl_alphabet_parse(const char *s);

/* sl_alphabet_guess()
 * Purpose:  Guess the molecule from residue letter counts: nucleic if at
 *           least 90% of letters are A C G T U N and both T and U are not
 *           common; RNA if U outnumbers T; protein otherwise.
 * Args:     counts - occurrences of each byte (case-folded by the caller or not)
 */
int sl_alphabet_guess(const uint64_t counts[256]);

#ifdef __cplusplus
}
#endif
#endif
