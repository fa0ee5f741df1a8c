/* sasa.c: Shrake-Rupley solvent accessibility per residue and RSA (sasa.h).
 * Its own small atom reader (every heavy atom, which structure.c does not
 * keep): PDB fixed columns, or mmCIF _atom_site loops by item name. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/sasa.h"
#include "seqloop/structure.h"
#include "seqloop/zeroshot.h"

typedef struct { double x[3], r; int64_t res; } atom;

static const struct { const char *name; char aa; double max; } aa_tab[] = {
  {"ALA", 'A', 129}, {"ARG", 'R', 274}, {"ASN", 'N', 195}, {"ASP", 'D', 193}, {"CYS", 'C', 167},
  {"GLU", 'E', 223}, {"GLN", 'Q', 225}, {"GLY", 'G', 104}, {"HIS", 'H', 224}, {"ILE", 'I', 197},
  {"LEU", 'L', 201}, {"LYS", 'K', 236}, {"MET", 'M', 224}, {"PHE", 'F', 240}, {"PRO", 'P', 159},
  {"SER", 'S', 155}, {"THR", 'T', 172}, {"TRP", 'W', 285}, {"TYR", 'Y', 263}, {"VAL", 'V', 174},
  {"MSE", 'M', 224}};

double sl_max_asa(char aa) {
  for (size_t k = 0; k < sizeof aa_tab / sizeof *aa_tab; k++)
    if (aa_tab[k].aa == aa) return aa_tab[k].max;
  return NAN;
}

static char one_letter(const char *name) {
  for (size_t k = 0; k < sizeof aa_tab / sizeof *aa_tab; k++)
    if (strcmp(aa_tab[k].name, name) == 0) return aa_tab[k].aa;
  return 'X';
}

static double radius(const char *el) {
  if (strcmp(el, "C") == 0) return 1.70;
  if (strcmp(el, "N") == 0) return 1.55;
  if (strcmp(el, "O") == 0) return 1.52;
  if (strcmp(el, "S") == 0) return 1.80;
  if (strcmp(el, "SE") == 0) return 1.90;
  return 1.80;
}

typedef struct {
  atom *a; int64_t na, ca;
  sl_sasa_res *r; int64_t nr, cr;
} acc;

/* Add one atom; a new residue starts when number, insertion code or name changes. */
static int add_atom(acc *A, const char *resname, int64_t num, char icode, const char *el,
                    const double x[3]) {
  if (strcmp(el, "H") == 0 || strcmp(el, "D") == 0) return 0;
  if (A->nr == 0 || A->r[A->nr - 1].num != num || A->r[A->nr - 1].icode != icode) {
    if (A->nr == A->cr) {
      A->cr = A->cr ? 2 * A->cr : 256;
      sl_sasa_res *t = realloc(A->r, (size_t)A->cr * sizeof *t);
      if (!t) return -1;
      A->r = t;
    }
    sl_sasa_res *r = &A->r[A->nr++];
    memset(r, 0, sizeof *r);
    r->num = num;
    r->icode = icode;
    r->aa = one_letter(resname);
  }
  if (A->na == A->ca) {
    A->ca = A->ca ? 2 * A->ca : 4096;
    atom *t = realloc(A->a, (size_t)A->ca * sizeof *t);
    if (!t) return -1;
    A->a = t;
  }
  atom *a = &A->a[A->na++];
  memcpy(a->x, x, sizeof a->x);
  a->r = radius(el);
  a->res = A->nr - 1;
  A->r[A->nr - 1].n_atoms++;
  return 0;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t k = 0;
  while (s[k] && isspace((unsigned char)s[k])) k++;
  memmove(s, s + k, strlen(s + k) + 1);
}

static int read_pdb(FILE *fp, const char *chain, acc *A) {
  char line[512];
  while (fgets(line, sizeof line, fp)) {
    if (strncmp(line, "ENDMDL", 6) == 0 && A->na) break;
    int is_atom = strncmp(line, "ATOM  ", 6) == 0, is_het = strncmp(line, "HETATM", 6) == 0;
    if ((!is_atom && !is_het) || strlen(line) < 54) continue;
    char resname[4] = {line[17], line[18], line[19], 0}, el[3] = {0}, num[5];
    trim(resname);
    if (is_het && strcmp(resname, "MSE") != 0) continue;
    if (line[21] != chain[0] || chain[1]) continue;
    if (line[16] != ' ' && line[16] != 'A') continue;
    if (strlen(line) >= 78) { el[0] = line[76]; el[1] = line[77]; trim(el); }
    if (!el[0]) { char nm[5] = {line[12], line[13], line[14], line[15], 0}; trim(nm); el[0] = nm[0]; }
    for (char *p = el; *p; p++) *p = (char)toupper((unsigned char)*p);
    memcpy(num, line + 22, 4); num[4] = 0;
    double x[3];
    char buf[9];
    for (int d = 0; d < 3; d++) { memcpy(buf, line + 30 + 8 * d, 8); buf[8] = 0; x[d] = strtod(buf, NULL); }
    if (add_atom(A, resname, strtoll(num, NULL, 10), line[26], el, x)) return -1;
  }
  return 0;
}

/* mmCIF: the _atom_site loop, fields by name, whitespace-separated tokens
 * ('...' or "..." quoted tokens handled). */
static int read_cif(FILE *fp, const char *chain, acc *A) {
  char line[4096];
  enum { GRP, SYM, ALT, COMP, SEQ, INS, X, Y, Z, ASYM, MODEL, NF };
  const char *want[NF] = {"group_PDB", "type_symbol", "label_alt_id", "label_comp_id", "auth_seq_id",
                          "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z", "auth_asym_id",
                          "pdbx_PDB_model_num"};
  int col[NF], nitems = 0, in_loop = 0;
  char first_model[32] = "";
  for (int k = 0; k < NF; k++) col[k] = -1;
  while (fgets(line, sizeof line, fp)) {
    if (strncmp(line, "_atom_site.", 11) == 0) {
      char item[128];
      sscanf(line + 11, "%127s", item);
      for (int k = 0; k < NF; k++) if (strcmp(item, want[k]) == 0) col[k] = nitems;
      nitems++;
      in_loop = 1;
      continue;
    }
    if (!in_loop || nitems == 0) continue;
    if (line[0] == '#' || line[0] == '_' || strncmp(line, "loop_", 5) == 0) { if (A->na) break; continue; }
    char *tok[64];
    int nt = 0;
    char *p = line;
    while (*p && nt < 64) {
      while (isspace((unsigned char)*p)) p++;
      if (!*p) break;
      char q = (*p == '\'' || *p == '"') ? *p : 0;
      if (q) {
        tok[nt++] = ++p;
        while (*p && !(*p == q && (isspace((unsigned char)p[1]) || !p[1]))) p++;
      } else {
        tok[nt++] = p;
        while (*p && !isspace((unsigned char)*p)) p++;
      }
      if (*p) *p++ = 0;
    }
    if (nt < nitems) continue;
    for (int k = 0; k < NF; k++) if (col[k] < 0 && k != INS && k != MODEL && k != ALT) return -2;
    const char *grp = tok[col[GRP]], *comp = tok[col[COMP]];
    if (strcmp(grp, "ATOM") != 0 && !(strcmp(grp, "HETATM") == 0 && strcmp(comp, "MSE") == 0)) continue;
    if (strcmp(tok[col[ASYM]], chain) != 0) continue;
    if (col[MODEL] >= 0) {
      if (!first_model[0]) snprintf(first_model, sizeof first_model, "%s", tok[col[MODEL]]);
      if (strcmp(tok[col[MODEL]], first_model) != 0) continue;
    }
    if (col[ALT] >= 0) { const char *al = tok[col[ALT]]; if (strcmp(al, ".") && strcmp(al, "A")) continue; }
    char el[8];
    snprintf(el, sizeof el, "%s", tok[col[SYM]]);
    for (char *e = el; *e; e++) *e = (char)toupper((unsigned char)*e);
    double x[3] = {strtod(tok[col[X]], NULL), strtod(tok[col[Y]], NULL), strtod(tok[col[Z]], NULL)};
    char ic = ' ';
    if (col[INS] >= 0 && strcmp(tok[col[INS]], "?") && strcmp(tok[col[INS]], ".")) ic = tok[col[INS]][0];
    if (add_atom(A, comp, strtoll(tok[col[SEQ]], NULL, 10), ic, el, x)) return -1;
  }
  return 0;
}

int sl_rsa_compute(const char *path, const char *chain, int n_points, sl_sasa_res **ret,
                   int64_t *ret_n, sl_error *err) {
  *ret = NULL;
  *ret_n = 0;
  if (n_points < 1) return sl_fail(err, SL_EUSAGE, "Shrake-Rupley needs at least one point per atom");
  FILE *fp = fopen(path, "r");
  if (!fp) return sl_fail(err, SL_EINPUT, "%s: cannot open", path);
  int cif = 0;
  char line[512];
  while (fgets(line, sizeof line, fp)) if (strncmp(line, "_atom_site.", 11) == 0) { cif = 1; break; }
  rewind(fp);
  acc A = {0};
  int rc = cif ? read_cif(fp, chain, &A) : read_pdb(fp, chain, &A);
  fclose(fp);
  if (rc == -1) { free(A.a); free(A.r); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  if (rc == -2) { free(A.a); free(A.r); return sl_fail(err, SL_EINPUT, "%s: _atom_site lacks a needed item", path); }
  if (A.na == 0) {
    free(A.a); free(A.r);
    return sl_fail(err, SL_EINPUT, "%s: no protein atoms in chain '%s'", path, chain);
  }
  const double probe = 1.4;
  double *sp = malloc((size_t)n_points * 3 * sizeof *sp);
  int64_t *nb = malloc((size_t)A.na * sizeof *nb);
  if (!sp || !nb) { free(sp); free(nb); free(A.a); free(A.r); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  /* golden-spiral points on the unit sphere */
  const double golden = M_PI * (3.0 - sqrt(5.0));
  for (int k = 0; k < n_points; k++) {
    double y = 1.0 - (k + 0.5) * 2.0 / n_points, rr = sqrt(fmax(0, 1 - y * y)), th = golden * k;
    sp[3 * k] = cos(th) * rr; sp[3 * k + 1] = y; sp[3 * k + 2] = sin(th) * rr;
  }
  for (int64_t i = 0; i < A.na; i++) {
    const atom *ai = &A.a[i];
    double Ri = ai->r + probe;
    int64_t nn = 0;
    for (int64_t j = 0; j < A.na; j++) {
      if (j == i) continue;
      double d2 = 0, Rj = A.a[j].r + probe;
      for (int d = 0; d < 3; d++) d2 += (ai->x[d] - A.a[j].x[d]) * (ai->x[d] - A.a[j].x[d]);
      if (d2 < (Ri + Rj) * (Ri + Rj)) nb[nn++] = j;
    }
    int free_pts = 0;
    int64_t last = 0; /* the last occluding neighbour is tried first (often occludes again) */
    for (int k = 0; k < n_points; k++) {
      double p[3] = {ai->x[0] + Ri * sp[3 * k], ai->x[1] + Ri * sp[3 * k + 1], ai->x[2] + Ri * sp[3 * k + 2]};
      int buried = 0;
      for (int64_t t = 0; t < nn && !buried; t++) {
        int64_t j = nb[(t + last) % nn];
        double Rj = A.a[j].r + probe, d2 = 0;
        for (int d = 0; d < 3; d++) d2 += (p[d] - A.a[j].x[d]) * (p[d] - A.a[j].x[d]);
        if (d2 < Rj * Rj) { buried = 1; last = (t + last) % nn; }
      }
      free_pts += !buried;
    }
    A.r[ai->res].sasa += 4.0 * M_PI * Ri * Ri * free_pts / n_points;
  }
  for (int64_t k = 0; k < A.nr; k++) A.r[k].rsa = 100.0 * A.r[k].sasa / sl_max_asa(A.r[k].aa);
  free(sp); free(nb); free(A.a);
  *ret = A.r;
  *ret_n = A.nr;
  return SL_OK;
}

int sl_rsa_model_factors(const sl_model *m, const char *path, const char *chain, int n_points,
                         double min_identity, double *fac, sl_rsa_map *rep, sl_error *err) {
  memset(rep, 0, sizeof *rep);
  sl_sasa_res *res = NULL;
  int64_t nr = 0;
  int status = sl_rsa_compute(path, chain, n_points, &res, &nr, err);
  if (status) return status;
  char *seq = malloc((size_t)nr + 1), *focus = malloc((size_t)m->L + 1);
  int64_t *map = malloc((size_t)(m->L ? m->L : 1) * sizeof *map);
  if (!seq || !focus || !map) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < nr; k++) seq[k] = res[k].aa;
  seq[nr] = 0;
  /* the focus's gaps (none in a focus-mode model) stay unaligned: '-' maps to -1 */
  for (int64_t i = 0; i < m->L; i++) focus[i] = m->abc->symbols[m->focus[i]];
  focus[m->L] = 0;
  if ((status = sl_align_global(focus, seq, map, &rep->identity, err))) goto DONE;
  rep->n_res = nr;
  for (int64_t i = 0; i < m->L; i++) {
    fac[i] = 1.0;
    if (map[i] < 0) continue;
    rep->aligned++;
    if (!isfinite(res[map[i]].rsa)) continue;
    fac[i] = sl_rsa_factor(res[map[i]].rsa);
    rep->mapped++;
  }
  if (rep->aligned == 0 || rep->identity < min_identity)
    status = sl_fail(err, SL_EINPUT, "%s chain %s: the chain's %lld residues align to %lld of the "
                     "model's %lld columns at %.0f%% identity (at least %.0f%% expected): is this "
                     "the model's protein and chain?", path, chain, (long long)nr,
                     (long long)rep->aligned, (long long)m->L, 100 * rep->identity, 100 * min_identity);
DONE:
  free(res);
  free(seq);
  free(focus);
  free(map);
  return status;
}
