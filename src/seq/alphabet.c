/* alphabet.c: the three built-in alphabets and character classification.
 *
 * The tables are built once, at first use, into static storage that is never
 * written again (a read-only constant after initialisation; pthread_once makes
 * the first use thread-safe).
 */
#include "seqloop/alphabet.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

static sl_alphabet abc_protein, abc_dna, abc_rna;
static pthread_once_t abc_once = PTHREAD_ONCE_INIT;

static void build(sl_alphabet *a, int type, const char *name, const char *symbols,
                  const char *nonstd) {
  memset(a, 0, sizeof *a);
  a->type = type;
  a->name = name;
  a->symbols = symbols;
  a->q = (int)strlen(symbols);
  a->cls['-'] = SL_CH_GAP;
  a->cls['.'] = SL_CH_GAP;
  for (int k = 1; k < a->q; k++) {
    unsigned char up = (unsigned char)symbols[k];
    unsigned char lo = (unsigned char)tolower(up);
    a->cls[up] = a->cls[lo] = SL_CH_RESIDUE;
    a->code[up] = a->code[lo] = (uint8_t)k;
  }
  for (const char *p = nonstd; *p; p++) {
    unsigned char up = (unsigned char)*p;
    a->cls[up] = SL_CH_NONSTD;
    if (isalpha(up)) a->cls[tolower(up)] = SL_CH_NONSTD;
  }
}

static void build_all(void) {
  build(&abc_protein, SL_ABC_PROTEIN, "protein", "-ACDEFGHIKLMNPQRSTVWY", "BJOUXZ*");
  build(&abc_dna, SL_ABC_DNA, "dna", "-ACGT", "NRYKMSWBDHVU*");
  build(&abc_rna, SL_ABC_RNA, "rna", "-ACGU", "NRYKMSWBDHVT*");
}

const sl_alphabet *sl_alphabet_get(int type) {
  pthread_once(&abc_once, build_all);
  switch (type) {
    case SL_ABC_PROTEIN: return &abc_protein;
    case SL_ABC_DNA: return &abc_dna;
    case SL_ABC_RNA: return &abc_rna;
    default: return NULL;
  }
}

int sl_alphabet_parse(const char *s) {
  if (strcmp(s, "auto") == 0) return SL_ABC_AUTO;
  if (strcmp(s, "protein") == 0 || strcmp(s, "amino") == 0) return SL_ABC_PROTEIN;
  if (strcmp(s, "dna") == 0) return SL_ABC_DNA;
  if (strcmp(s, "rna") == 0) return SL_ABC_RNA;
  return -1;
}

int sl_alphabet_guess(const uint64_t counts[256]) {
  uint64_t letters = 0, nuc = 0, t = 0, u = 0;
  for (int c = 0; c < 256; c++) {
    if (!isalpha(c)) continue;
    letters += counts[c];
    int up = toupper(c);
    if (strchr("ACGTUN", up)) nuc += counts[c];
    if (up == 'T') t += counts[c];
    if (up == 'U') u += counts[c];
  }
  if (letters == 0 || nuc * 10 < letters * 9) return SL_ABC_PROTEIN;
  return u > t ? SL_ABC_RNA : SL_ABC_DNA;
}
