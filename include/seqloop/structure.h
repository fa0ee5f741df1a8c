/* seqloop/structure.h: protein structures, sequence-to-structure alignment,
 * and contact precision (what `seqloop contacts --structure` is built on).
 *
 * Reading (PDB or mmCIF, plain or gzip, detected by content):
 *   - First model only: PDB atoms up to the first ENDMDL; mmCIF rows whose
 *     pdbx_PDB_model_num equals that of the first _atom_site row.
 *   - One residue per (chain, author residue number, insertion code), in
 *     order of first appearance in the file; atoms of a residue need not be
 *     contiguous. (mmCIF: also per label_asym_id, so that a water numbered
 *     like a residue of the same author chain stays a separate group.)
 *   - Alternate locations: atoms with a blank altloc (' ', '.', '?') are
 *     always kept; of the others, only those carrying the first altloc id
 *     seen in that residue (usually 'A'). Of repeated atom names, the first.
 *   - Which groups are residues: every group with at least one ATOM record;
 *     a HETATM-only group when (mmCIF with label_seq_id) its label_seq_id is
 *     not null, i.e. it belongs to a polymer entity, or (PDB, or mmCIF
 *     without label_seq_id) it is MSE or has backbone atoms N, CA and C
 *     (modified amino acids). Waters (HOH, DOD, WAT, H2O) never are; other
 *     HETATM groups (ions, ligands) are skipped and counted.
 *   - Letters: the 20 standard amino acids and MSE -> M; every other residue
 *     name (UNK, SEP, nucleotides, caps) -> 'X'. X residues stay in the
 *     sequence, so that numbering and alignment are not shifted.
 *   - Representative atom: CB; CA for glycine; CA when a non-glycine residue
 *     has no CB (flag SL_RES_NO_CB); none when there is no CA either (flag
 *     SL_RES_NO_COORD, coordinates NaN: such a residue is never in contact).
 *   - Chains: by author id (PDB column 22, mmCIF auth_asym_id); when no atom
 *     has that author id, by mmCIF label_asym_id. A NULL or empty chain
 *     selects the first chain (author ids, file order) that has residues.
 * Errors name the file and line: no atom records, malformed numbers and
 * fields, short PDB records, broken mmCIF loops, an unknown chain (the
 * message lists the chains present), a chain without residues.
 */
#ifndef SEQLOOP_STRUCTURE_H
#define SEQLOOP_STRUCTURE_H

#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_STRUCT_AUTO = 0, SL_STRUCT_PDB = 1, SL_STRUCT_MMCIF = 2 };

/* Residue flags (sl_residue.flags). */
enum {
  SL_RES_REP_CB = 1 << 0,   /* the representative atom is CB */
  SL_RES_REP_CA = 1 << 1,   /* the representative atom is CA (glycine, or CB missing) */
  SL_RES_NO_CB = 1 << 2,    /* not glycine, no CB: CA stands in */
  SL_RES_NO_COORD = 1 << 3, /* neither CB nor CA: xyz is NaN */
  SL_RES_NONSTD = 1 << 4,   /* name is not one of the 20 standard ones (MSE included) */
  SL_RES_HETATM = 1 << 5,   /* read from HETATM records only (e.g. MSE) */
  SL_RES_ALTLOC = 1 << 6    /* alternate locations present; the first was kept */
};

#define SL_RESNAME_MAX 8 /* residue names are stored truncated to 7 characters */

typedef struct sl_residue {
  int64_t num;                 /* author residue number (PDB cols 23-26, mmCIF auth_seq_id) */
  char icode;                  /* insertion code; ' ' when none */
  char aa;                     /* one-letter code; 'X' for anything not standard or MSE */
  char name[SL_RESNAME_MAX];   /* residue name as in the file, e.g. "MSE" */
  unsigned flags;              /* SL_RES_* */
  double xyz[3];               /* representative atom (Angstrom); NaN if SL_RES_NO_COORD */
  double ca[3];                /* CA (Angstrom); NaN when the residue has none */
} sl_residue;

typedef struct sl_structure {
  char *path;          /* display name of the input */
  int format;          /* SL_STRUCT_PDB or SL_STRUCT_MMCIF */
  char *chain;         /* the chain read (author id, or label id if by_label) */
  int by_label;        /* 1 if chain matched label_asym_id, not auth_asym_id */
  char *model;         /* model number read ("" when the file names none) */
  int64_t n;           /* residues */
  char *seq;           /* n one-letter codes, NUL-terminated */
  sl_residue *res;     /* n residues, in file order */
  int64_t n_atoms;           /* atoms of the chain kept (first model, first altloc) */
  int64_t n_altloc_skipped;  /* atoms of the chain skipped as later alternate locations */
  int64_t n_groups_skipped;  /* HETATM groups of the chain that are not residues */
  int64_t n_no_cb;           /* residues flagged SL_RES_NO_CB */
  int64_t n_no_coord;        /* residues flagged SL_RES_NO_COORD */
  int64_t n_nonstd;          /* residues flagged SL_RES_NONSTD */
} sl_structure;

/* sl_structure_read()
 * Purpose:  Read one chain of the first model of a PDB or mmCIF file.
 * Args:     path   - file name (plain or gzip), or "-" for standard input
 *           format - SL_STRUCT_AUTO (a first non-blank line starting with
 *                    "data_" or '#' is mmCIF, anything else PDB),
 *                    SL_STRUCT_PDB or SL_STRUCT_MMCIF
 *           chain  - author chain id (falls back to label_asym_id); NULL or
 *                    "" for the first chain with residues
 *           ret_s  - RETURN: the structure (caller destroys); NULL on failure
 * Returns:  SL_OK; SL_EIO if the file cannot be read; SL_EINPUT on malformed
 *           input, an unknown chain or a chain without residues; SL_ENOMEM.
 */
SL_MUSTCHECK int sl_structure_read(const char *path, int format, const char *chain,
                                   sl_structure **ret_s, sl_error *err);

/* sl_structure_read_mem(): the same from a memory buffer (not gzip); `name`
 * is used in messages. For fuzzing and tests. */
SL_MUSTCHECK int sl_structure_read_mem(const char *buf, size_t len, const char *name, int format,
                                       const char *chain, sl_structure **ret_s, sl_error *err);

/* sl_structure_destroy(): free a structure; NULL is a no-op. */
void sl_structure_destroy(sl_structure *s);

/* sl_structure_distance()
 * Purpose:  Distance between the representative atoms of residues r1 and r2
 *           (0-based indices into s->res).
 * Returns:  The distance in Angstrom; NaN if either index is out of range or
 *           either residue has no coordinates.
 */
double sl_structure_distance(const sl_structure *s, int64_t r1, int64_t r2);

/* sl_align_global()
 * Purpose:  Align sequence a (e.g. a model's focus sequence) to b (e.g. a
 *           structure's sequence) and map each position of a to b.
 *           Needleman-Wunsch with affine gaps (Gotoh): BLOSUM62 (NCBI), gap
 *           of length k costs 11 + k, as BLAST's defaults. End gaps are free
 *           (a may be a domain of a longer chain, and b may miss termini).
 *           Letters are case-insensitive; letters outside BLOSUM62's alphabet
 *           (J, O, U) score as X. Gap characters '-' and '.' in either string
 *           are not aligned: such a position of a maps to -1, and positions
 *           of b count all characters of b, gaps included. Ties in the
 *           traceback prefer a match, then a gap in b, then a gap in a, and
 *           opening a gap to extending one; the end cell is the first best
 *           one found scanning the last column down (rows 1 to |a|-1), then
 *           the last row left to right, states match, gap in b, gap in a.
 *           With b = s->seq of a structure, the map gives residue indices.
 * Args:     a, b            - NUL-terminated strings
 *           ret_map_a_to_b  - caller-allocated, strlen(a) entries (RETURN):
 *                             the 0-based position of b aligned to each
 *                             position of a, or -1 (gap or not aligned)
 *           ret_identity    - RETURN (may be NULL): aligned pairs of identical
 *                             letters (X and '*' excluded) / aligned pairs;
 *                             0 when none. Coverage is the count of map
 *                             entries >= 0.
 * Returns:  SL_OK (also when either has no residues: all -1); SL_EUSAGE for a
 *           character other than a letter, '*', '-' or '.', or when
 *           (|a|+1)(|b|+1) exceeds 4e8; SL_ENOMEM.
 * Cost:     O(|a| |b|) time, |a| |b| bytes of traceback.
 */
SL_MUSTCHECK int sl_align_global(const char *a, const char *b, int64_t *ret_map_a_to_b,
                                 double *ret_identity, sl_error *err);

/* ---- Contact precision ----------------------------------------------- */

#define SL_CONTACT_MIN_SEP 6    /* |i - j| at least this, in sequence a */
#define SL_CONTACT_CUTOFF 8.0   /* Angstrom between representative atoms, strict < */
#define SL_PREC_NK 4            /* k = L/10, L/5, L/2, L */

/* A scored pair in the coordinates of sequence a (0-based). */
typedef struct sl_pair {
  int64_t i, j;
  double score; /* higher = more likely in contact */
} sl_pair;

typedef struct sl_precision {
  int64_t L;                  /* length of sequence a */
  int64_t k[SL_PREC_NK];      /* L/10, L/5, L/2, L (integer division, each at least 1) */
  int64_t n_eval[SL_PREC_NK]; /* pairs evaluated: min(k, pairs that qualify) */
  int64_t n_true[SL_PREC_NK]; /* true contacts among them */
  double precision[SL_PREC_NK]; /* n_true / n_eval; NaN when n_eval is 0 */
  int64_t n_pairs;            /* pairs given */
  int64_t n_near;             /* pairs with |i - j| < min_sep (dropped) */
  int64_t n_unmapped;         /* pairs with an end not aligned to a residue with coordinates (skipped) */
  int64_t n_duplicate;        /* later copies of a remaining pair ((i,j) and (j,i) are one pair) */
  int64_t n_qualify;          /* pairs left, which are ranked */
  int64_t n_contacts;         /* true contacts among all qualifying pairs */
} sl_precision;

/* sl_contact_precision()
 * Purpose:  Precision of the top-scoring pairs as contact predictions.
 *           A pair is normalised to i < j; a pair given again is dropped
 *           (the first in rank order counts). Pairs with |i - j| < min_sep
 *           are dropped. Pairs with an end i or j that maps to no structure
 *           residue (map -1) or to a residue without coordinates are
 *           SKIPPED: dropped before ranking, not counted as false. The rest
 *           are ranked by score, highest first; ties by (i, j) ascending
 *           (after normalisation), then by input order.
 *           A pair is a true contact when the distance between the
 *           representative atoms (CB; CA for glycine) is < cutoff.
 *           precision[t] = true contacts among the first k[t] ranked pairs /
 *           the number of pairs ranked there (fewer than k[t] when fewer
 *           qualify).
 * Args:     pairs, npairs - the scored pairs (any order)
 *           L             - length of sequence a (pairs must lie in [0, L))
 *           map_a_to_b    - L entries: structure residue of each position of
 *                           a, or -1 (as from sl_align_global())
 *           s             - the structure
 *           min_sep       - SL_CONTACT_MIN_SEP (6) by convention
 *           cutoff        - SL_CONTACT_CUTOFF (8.0) by convention
 *           ret           - RETURN: the precisions and counts
 * Returns:  SL_OK; SL_EUSAGE for a pair index or map entry out of range, a
 *           NaN score, L < 1, min_sep < 0, cutoff not positive; SL_ENOMEM.
 *           *ret is written only on success.
 */
SL_MUSTCHECK int sl_contact_precision(const sl_pair *pairs, int64_t npairs, int64_t L,
                                      const int64_t *map_a_to_b, const sl_structure *s,
                                      int64_t min_sep, double cutoff, sl_precision *ret,
                                      sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
