/* test_structure.c: PDB/mmCIF reading, sequence-to-structure alignment,
 * contact precision.
 *
 * Facts about the real files were checked independently of this code (a
 * small Python reader of the fixed PDB columns and of the _atom_site loop
 * via shlex, grep and awk on the files): 2QMT chain A is the 56-residue
 * MQYKLILNG... (SEQRES agrees: MET GLN TYR ...); its Met1-Gln2 CA-CA distance
 * is 3.7955 A; it has 104 CB-CB (CA for Gly) contacts < 8 A with |i-j| >= 6,
 * 32 of them within residues 6-51; chain A carries 139 HETATM groups (135
 * waters, PO4, MRD, 2 IPA). The mmCIF chains and sequences likewise.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "seqloop/structure.h"
#include "tap.h"

static const char *GB1 = "MQYKLILNGKTLKGETTTEAVDAATAEKVFKQYANDNGVDGEWTYDDATKTFTVTE";

/* Path of a data file, or NULL (after a skip line) if it is absent. */
static const char *data_file(const char *rel, const char *what) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", tap_data(), rel);
  if (access(path, R_OK) != 0) {
    printf("skip - %s: data absent (%s)\n", what, path);
    return NULL;
  }
  return path;
}

static sl_structure *read_mem(const char *text, int format, const char *chain, int *st, sl_error *err) {
  sl_structure *s = NULL;
  sl_error_clear(err);
  *st = sl_structure_read_mem(text, strlen(text), "mem", format, chain, &s, err);
  return s;
}

/* Append one PDB ATOM/HETATM record (name4 is the 4-column atom name, e.g. " CA "). */
static void pdb_atom(char *buf, size_t cap, const char *rec, const char *name4, char alt,
                     const char *res, char chain, int num, char icode, double x, double y, double z) {
  size_t n = strlen(buf);
  snprintf(buf + n, cap - n, "%-6s%5d %-4s%c%3s %c%4d%c   %8.3f%8.3f%8.3f  1.00 10.00           C\n",
           rec, 1, name4, alt, res, chain, num, icode, x, y, z);
}

static double dist3(const double *a, const double *b) {
  return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

static void test_pdb_synthetic(void) {
  static char t[8192];
  sl_error err;
  int st;
  t[0] = '\0';
  strcat(t, "HEADER    TEST\nMODEL        1\n");
  pdb_atom(t, sizeof t, "ATOM", " N  ", ' ', "ALA", 'A', 1, ' ', 0, 0, 0);
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "ALA", 'A', 1, ' ', 1, 0, 0);
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "GLY", 'A', 2, ' ', 4, 0, 0);
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "LYS", 'A', 52, ' ', 8, 0, 0);
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "LYS", 'A', 52, 'A', 12, 0, 0);
  pdb_atom(t, sizeof t, "ATOM", " CB ", 'A', "SER", 'A', 53, ' ', 1, 1, 1);
  pdb_atom(t, sizeof t, "ATOM", " CB ", 'B', "SER", 'A', 53, ' ', 2, 2, 2);
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "SER", 'A', 53, ' ', 16, 0, 0);
  pdb_atom(t, sizeof t, "HETATM", " N  ", ' ', "MSE", 'A', 54, ' ', 19, 0, 0);
  pdb_atom(t, sizeof t, "HETATM", " CA ", ' ', "MSE", 'A', 54, ' ', 20, 0, 0);
  pdb_atom(t, sizeof t, "HETATM", " C  ", ' ', "MSE", 'A', 54, ' ', 21, 0, 0);
  pdb_atom(t, sizeof t, "HETATM", " O  ", ' ', "HOH", 'A', 100, ' ', 50, 0, 0);
  pdb_atom(t, sizeof t, "HETATM", "CA  ", ' ', " CA", 'A', 101, ' ', 60, 0, 0); /* calcium */
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "UNK", 'A', 55, ' ', 24, 0, 0);
  pdb_atom(t, sizeof t, "ATOM", " CB ", ' ', "ALA", 'A', 1, ' ', 1, 1, 0); /* residue 1 again */
  pdb_atom(t, sizeof t, "ATOM", " CB ", ' ', "ALA", 'A', 1, ' ', 7, 7, 7); /* repeated name */
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "TRP", 'B', 1, ' ', 0, 0, 0);
  strcat(t, "ENDMDL\nMODEL        2\n");
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "TRP", 'A', 99, ' ', 0, 0, 0);
  strcat(t, "ENDMDL\nEND\n");

  sl_structure *s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_OK && s, "synthetic PDB chain A (%s)", st ? err.msg : "");
  if (s) {
    CHECK(s->format == SL_STRUCT_PDB && strcmp(s->model, "1") == 0, "PDB detected, model 1");
    CHECK(s->n == 7 && strcmp(s->seq, "AGKKSMX") == 0, "residues AGKKSMX (got %lld: %s)",
          (long long)s->n, s->seq);
    CHECK(s->res[2].num == 52 && s->res[2].icode == ' ' && s->res[3].num == 52 && s->res[3].icode == 'A',
          "insertion code 52A is its own residue");
    CHECK(s->res[0].flags == SL_RES_REP_CB && s->res[0].xyz[0] == 1 && s->res[0].xyz[1] == 1 &&
          s->res[0].xyz[2] == 0, "atoms of residue 1 merged across the file; first CB kept");
    CHECK(s->res[1].flags == SL_RES_REP_CA && s->res[1].xyz[0] == 4, "glycine uses CA");
    CHECK(s->res[2].flags == (SL_RES_REP_CA | SL_RES_NO_CB) && s->n_no_cb == 4,
          "CB missing: CA with a flag (%u, %lld)", s->res[2].flags, (long long)s->n_no_cb);
    CHECK((s->res[4].flags & SL_RES_ALTLOC) && s->res[4].xyz[0] == 1 && s->n_altloc_skipped == 1,
          "altloc A kept, B skipped");
    CHECK(s->res[5].aa == 'M' && (s->res[5].flags & SL_RES_HETATM) && (s->res[5].flags & SL_RES_NONSTD) &&
          strcmp(s->res[5].name, "MSE") == 0, "HETATM MSE read as M");
    CHECK(s->res[6].aa == 'X' && strcmp(s->res[6].name, "UNK") == 0, "UNK read as X");
    CHECK(s->n_groups_skipped == 2, "water and calcium skipped (%lld)", (long long)s->n_groups_skipped);
    CHECK(s->res[6].num == 55, "model 2 ignored");
    CHECK_NEAR(sl_structure_distance(s, 0, 1), sqrt(9 + 1), 1e-12, "distance between representatives");
    CHECK(isnan(sl_structure_distance(s, 0, 7)), "distance out of range is NaN");
  }
  sl_structure_destroy(s);
  s = read_mem(t, SL_STRUCT_PDB, NULL, &st, &err);
  CHECK(st == SL_OK && s && strcmp(s->chain, "A") == 0 && s->n == 7, "no chain given: the first");
  sl_structure_destroy(s);
  s = read_mem(t, SL_STRUCT_PDB, "B", &st, &err);
  CHECK(st == SL_OK && s && strcmp(s->seq, "W") == 0 && s->res[0].flags == (SL_RES_REP_CA | SL_RES_NO_CB),
        "chain B");
  sl_structure_destroy(s);
  s = read_mem(t, SL_STRUCT_PDB, "Z", &st, &err);
  CHECK(st == SL_EINPUT && !s && strstr(err.msg, "no chain 'Z'") && strstr(err.msg, "'A', 'B'"),
        "unknown chain lists the chains: %s", err.msg);

  /* Errors. */
  t[0] = '\0';
  strcat(t, "REMARK\n");
  pdb_atom(t, sizeof t, "ATOM", " CA ", ' ', "ALA", 'A', 1, ' ', 1, 2, 3);
  memcpy(strstr(t, "   1.000"), "   1.2x ", 8);
  s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && !s && strstr(err.msg, "mem line 2") && strstr(err.msg, "columns 31-38 (x)") &&
        strstr(err.msg, "'1.2x'"), "malformed x: %s", err.msg);
  s = read_mem("ATOM      1  CA  ALA A   1       1.000   2.000\n", SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 1") && strstr(err.msg, "columns 31-54"),
        "short record: %s", err.msg);
  s = read_mem("ATOM      1  CA  ALA A   x       1.000   2.000   3.000\n", SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "columns 23-26") && strstr(err.msg, "'x'"),
        "malformed residue number: %s", err.msg);
  s = read_mem("HEADER    NOTHING\nREMARK 1\n", SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "no ATOM or HETATM records"), "no atoms: %s", err.msg);
  s = read_mem("\n  \n", SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "empty file"), "empty: %s", err.msg);
  s = read_mem("x", 7, "A", &st, &err);
  CHECK(st == SL_EUSAGE, "bad format code");
}

static const char *CIF =
  "data_test\n"
  "#\n"
  "loop_\n_entity.id\n_entity.type\n1 polymer\n2 water\n"
  "#\n"
  "_struct.title\n"
  ";A title with loop_ and\n_atom_site.Cartn_x 'inside' a text field\n;\n"
  "loop_\n"
  "_atom_site.group_PDB\n_atom_site.id\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n"
  "_atom_site.label_asym_id\n_atom_site.auth_asym_id\n_atom_site.label_seq_id\n"
  "_atom_site.auth_seq_id\n_atom_site.pdbx_PDB_ins_code\n_atom_site.label_alt_id\n"
  "_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.pdbx_PDB_model_num\n"
  "ATOM 1 N GLY A X 1 10 ? . 0.0 0.0 0.0 1\n"
  "ATOM 2 CA GLY A X 1 10 ? . 1.0 0.0 0.0 1\n"
  "ATOM 3 CA ALA A X 2 11 ? A 4.8 0.0 0.0 1\n"
  "ATOM 4 CA ALA A X 2 11 ? B 9.9 9.9 9.9 1\n"
  "ATOM 5 CB ALA A X 2 11 ? A 5.0 1.0 0.0 1\n"
  "HETATM 6 N MSE A X 3 12 ? . 8 0 0 1\n"
  "HETATM 7 CA MSE A X 3 12 ? . 8.6 0 0 1\n"
  "ATOM 8 \"O5'\" DA A X 4 12 A . 1 2 3 1 # a nucleotide, insertion code A\n"
  "HETATM 9 O HOH B X . 100 ? . 50 50 50 1\n"
  "HETATM 10 C1 LIG C X . 101 ? . 60 60 60 1\n"
  "HETATM 11 CA 'CA' D X . 11 ? . 70 70 70 1\n"
  "ATOM 12 CA ALA A X 2 11 ? . 99 99 99 2\n"
  "ATOM 13 CA SER E Y 1 1 ?\n . 0 0 0 1\n"
  "#\n"
  "loop_\n_atom_site_anisotrop.id\n_atom_site_anisotrop.type_symbol\n1 N\n";

static void test_cif_synthetic(void) {
  sl_error err;
  int st;
  sl_structure *s = read_mem(CIF, SL_STRUCT_AUTO, "X", &st, &err);
  CHECK(st == SL_OK && s, "synthetic mmCIF chain X (%s)", st ? err.msg : "");
  if (s) {
    CHECK(s->format == SL_STRUCT_MMCIF && !s->by_label && strcmp(s->model, "1") == 0, "mmCIF detected");
    CHECK(s->n == 4 && strcmp(s->seq, "GAMX") == 0, "residues GAMX (got %lld: %s)", (long long)s->n, s->seq);
    CHECK(s->res[0].num == 10 && s->res[0].flags == SL_RES_REP_CA && s->res[0].xyz[0] == 1.0,
          "glycine 10 uses CA");
    CHECK(s->res[1].flags == (SL_RES_REP_CB | SL_RES_ALTLOC) && s->res[1].xyz[0] == 5.0 &&
          s->res[1].ca[0] == 4.8 && s->n_altloc_skipped == 1, "altloc A kept (CA 4.8, not B's 9.9)");
    CHECK(s->res[2].aa == 'M' && s->res[2].flags == (SL_RES_REP_CA | SL_RES_NO_CB | SL_RES_NONSTD | SL_RES_HETATM),
          "MSE in the polymer (flags %u)", s->res[2].flags);
    CHECK(s->res[3].num == 12 && s->res[3].icode == 'A' && (s->res[3].flags & SL_RES_NO_COORD) &&
          isnan(s->res[3].xyz[0]) && s->n_no_coord == 1, "nucleotide: X without coordinates");
    CHECK(s->n_groups_skipped == 3, "water, ligand, calcium skipped (%lld)", (long long)s->n_groups_skipped);
  }
  sl_structure_destroy(s);
  s = read_mem(CIF, SL_STRUCT_MMCIF, "Y", &st, &err);
  CHECK(st == SL_OK && s && strcmp(s->seq, "S") == 0 && s->res[0].num == 1, "a row over two lines");
  sl_structure_destroy(s);
  s = read_mem(CIF, SL_STRUCT_MMCIF, "A", &st, &err);
  CHECK(st == SL_OK && s && s->by_label && strcmp(s->seq, "GAMX") == 0, "label chain A when no author A");
  sl_structure_destroy(s);
  s = read_mem(CIF, SL_STRUCT_MMCIF, "B", &st, &err);
  CHECK(st == SL_EINPUT && !s && strstr(err.msg, "chain 'B' has no amino-acid residues"), "water chain: %s", err.msg);
  s = read_mem(CIF, SL_STRUCT_MMCIF, "Q", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "'X', 'Y' (author ids); 'A', 'B', 'C', 'D', 'E' (label ids)"),
        "unknown chain lists both kinds of ids: %s", err.msg);
  s = read_mem(CIF, SL_STRUCT_PDB, "X", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 33: HETATM record is 35 characters long"),
        "mmCIF forced as PDB: %s", err.msg);

  /* The single-atom form. */
  s = read_mem("data_one\n_atom_site.group_PDB ATOM\n_atom_site.label_atom_id CA\n"
               "_atom_site.label_comp_id TRP\n_atom_site.auth_asym_id A\n_atom_site.auth_seq_id 5\n"
               "_atom_site.Cartn_x 1.0\n_atom_site.Cartn_y 2.0\n_atom_site.Cartn_z 3.0\n#\n_other.x 1\n",
               SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_OK && s && strcmp(s->seq, "W") == 0 && s->res[0].num == 5 && s->res[0].xyz[2] == 3.0,
        "single atom without a loop (%s)", st ? err.msg : "");
  sl_structure_destroy(s);

  /* Errors. */
  const char *head = "data_e\nloop_\n_atom_site.group_PDB\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n"
                     "_atom_site.auth_asym_id\n_atom_site.auth_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n";
  char t[2048];
  snprintf(t, sizeof t, "%sATOM CA ALA A 1 1.0 2.0\n", head);
  s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 2") && strstr(err.msg, "lacks Cartn_x, Cartn_y and Cartn_z"),
        "missing column: %s", err.msg);
  snprintf(t, sizeof t, "%s_atom_site.Cartn_z\nATOM CA ALA A 1 1.0 2.0 3.0\nATOM CA GLY A 2 1.0 1.2.3 3.0\n", head);
  s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 12") && strstr(err.msg, "Cartn_y, got '1.2.3'"),
        "malformed coordinate: %s", err.msg);
  snprintf(t, sizeof t, "%s_atom_site.Cartn_z\nATOM CA ALA A 1x 1.0 2.0 3.0\n", head);
  s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 11") && strstr(err.msg, "auth_seq_id, got '1x'"),
        "malformed residue number: %s", err.msg);
  snprintf(t, sizeof t, "%s_atom_site.Cartn_z\nATOM CA ALA A 1 1.0 2.0 3.0\nATOM CA\n", head);
  s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "middle of a row (2 of 8 values)"), "partial row: %s", err.msg);
  snprintf(t, sizeof t, "%s_atom_site.Cartn_z\nATOM 'CA ALA A 1 1.0 2.0 3.0\n", head);
  s = read_mem(t, SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 11") && strstr(err.msg, "not closed"), "open quote: %s", err.msg);
  s = read_mem("data_x\n_cell.length_a 10\n;\nnever closed\n", SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 3") && strstr(err.msg, "never closed"), "open text: %s", err.msg);
  s = read_mem("data_x\n_cell.length_a 10\n", SL_STRUCT_AUTO, "A", &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "no _atom_site records"), "no atoms: %s", err.msg);
}

static void test_real(void) {
  sl_error err;
  int st;
  const char *p = data_file("gb1/2qmt.pdb", "2qmt.pdb");
  if (p) {
    sl_structure *s = NULL;
    st = sl_structure_read(p, SL_STRUCT_AUTO, "A", &s, &err);
    CHECK(st == SL_OK && s, "2qmt.pdb chain A (%s)", st ? err.msg : "");
    if (s) {
      CHECK(s->n == 56 && strcmp(s->seq, GB1) == 0, "2qmt sequence MQYKLILNG... (%s)", s->seq);
      CHECK(s->res[0].num == 1 && s->res[55].num == 56, "numbered 1-56");
      CHECK_NEAR(dist3(s->res[0].ca, s->res[1].ca), 3.7955, 1e-4, "Met1-Gln2 CA-CA");
      int ok = 1;
      for (int64_t k = 0; k + 1 < s->n; k++) {
        double d = dist3(s->res[k].ca, s->res[k + 1].ca);
        if (!(d > 3.6 && d < 4.0)) ok = 0;
      }
      CHECK(ok, "every consecutive CA-CA within 3.6-4.0 A");
      CHECK(s->res[0].flags == SL_RES_REP_CB && s->res[0].xyz[0] == 1.648 && s->res[0].xyz[1] == 28.265 &&
            s->res[0].xyz[2] == 24.266, "Met1 represented by its CB");
      CHECK(s->res[8].aa == 'G' && s->res[8].flags == SL_RES_REP_CA && s->res[8].xyz[0] == 1.491 &&
            s->res[8].xyz[1] == 8.159 && s->res[8].xyz[2] == 9.547, "Gly9 represented by its CA");
      CHECK_NEAR(sl_structure_distance(s, 0, 9), 29.6403, 1e-4, "residue 1 to 10 distance");
      CHECK(s->n_groups_skipped == 139 && s->n_no_cb == 0 && s->n_nonstd == 0,
            "139 HETATM groups skipped (%lld)", (long long)s->n_groups_skipped);
    }

    /* Contact precision with the true distances as scores. */
    if (s && s->n == 56) {
      int64_t map[56], L = 56, np = 0;
      double id;
      sl_pair *pairs = malloc(56 * 56 * sizeof *pairs);
      CHECK(sl_align_global(GB1, s->seq, map, &id, &err) == SL_OK && id == 1.0, "self alignment");
      for (int64_t i = 0; i < L; i++)
        for (int64_t j = i + 1; j < L; j++)
          pairs[np++] = (sl_pair){i, j, -sl_structure_distance(s, i, j)};
      sl_precision pr;
      st = sl_contact_precision(pairs, np, L, map, s, SL_CONTACT_MIN_SEP, SL_CONTACT_CUTOFF, &pr, &err);
      CHECK(st == SL_OK && pr.n_contacts == 104 && pr.precision[3] == 1.0 && pr.k[0] == 5 && pr.k[1] == 11 &&
            pr.k[2] == 28 && pr.k[3] == 56, "perfect scores: P@L = 1, 104 contacts (%lld)", (long long)pr.n_contacts);
      for (int64_t k = 0; k < np; k++) pairs[k].score = -pairs[k].score;
      st = sl_contact_precision(pairs, np, L, map, s, SL_CONTACT_MIN_SEP, SL_CONTACT_CUTOFF, &pr, &err);
      CHECK(st == SL_OK && pr.precision[0] == 0.0 && pr.precision[3] == 0.0, "inverted scores: P@L = 0");

      /* A truncated focus (residues 6-51): positions map with an offset of 5. */
      char focus[64];
      memcpy(focus, GB1 + 5, 46);
      focus[46] = '\0';
      st = sl_align_global(focus, s->seq, map, &id, &err);
      CHECK(st == SL_OK && map[0] == 5 && map[45] == 50, "truncated focus maps at offset 5");
      np = 0;
      for (int64_t i = 0; i < 46; i++)
        for (int64_t j = i + 1; j < 46; j++)
          pairs[np++] = (sl_pair){i, j, -sl_structure_distance(s, map[i], map[j])};
      st = sl_contact_precision(pairs, np, 46, map, s, SL_CONTACT_MIN_SEP, SL_CONTACT_CUTOFF, &pr, &err);
      CHECK(st == SL_OK && pr.n_contacts == 32 && pr.n_true[3] == 32 && pr.k[3] == 46,
            "truncated focus: 32 contacts in its range (%lld)", (long long)pr.n_contacts);
      CHECK_NEAR(pr.precision[3], 32.0 / 46.0, 1e-12, "P@L = 32/46");
      free(pairs);
    }

    /* The same file gzip-compressed. */
    if (s) {
      char tmp[] = "/tmp/seqloop-test-structure.XXXXXX";
      int fd = mkstemp(tmp);
      FILE *in = fopen(p, "rb");
      gzFile gz = fd >= 0 ? gzdopen(fd, "wb") : NULL;
      char buf[4096];
      size_t n;
      while (in && gz && (n = fread(buf, 1, sizeof buf, in)) > 0) gzwrite(gz, buf, (unsigned)n);
      if (in) fclose(in);
      if (gz) gzclose(gz);
      sl_structure *g = NULL;
      st = sl_structure_read(tmp, SL_STRUCT_AUTO, "A", &g, &err);
      CHECK(st == SL_OK && g && strcmp(g->seq, s->seq) == 0 && g->res[55].xyz[0] == s->res[55].xyz[0],
            "gzip copy reads the same (%s)", st ? err.msg : "");
      sl_structure_destroy(g);
      unlink(tmp);
    }
    sl_structure_destroy(s);
  }

  static const struct {
    const char *file, *chain;
    int64_t n, first, last;
    const char *seq;
  } cif[] = {
    {"1be9.cif", "A", 115, 301, 415,
     "FLGEEDIPREPRRIVIHRGSTGLGFNIIGGEDGEGIFISFILAGGPADLSGELRKGDQILSVNGVDLRNASHEQAAIALKNAGQTVTIIAQYKPEEYSRFEANSRVNSSGRIVTN"},
    {"1be9.cif", "B", 5, 5, 9, "KQTSV"},
    {"4rex.cif", "A", 48, 161, 208, "GAMGFEIPDDVPLPAGWEMAKTSSGQRYFLNHIDQTTTWQDPRKAMLS"},
    {"3ilh.cif", "A", 133, 5, 137,
     "RKIDSVLLIDDDDIVNFLNTTIIRMTHRVEEIQSVTSGNAAINKLNELYAAGRWPSIICIDINMPGINGWELIDLFKQHFQPMKNKSIVCLLSSSLDPRDQAKAEASDWVDYYVSKPLTANALNNLYNKVLNE"},
    {"3dge.cif", "A", 237, 245, 481,
     "KRIDRMKTEFIANISHELRTPLTAIKAYAETIYNSLGELDLSTLKEFLEVIIDQSNHLENLLNELLDFSRLERKSLQINREKVDLCDLVESAVNAIKEFASSHNVNVLFESNVPCPVEAYIDPTRIRQVLLNLLNNGVKYSKKDAPDKYVKVILDEKDGGVLIIVEDNGIGIPDHAKDRIFEQFYRVDSSLTYEVPGTGLGLAITKEIVELHGGRIWVESEVGKGSRFFVWIPKDRA"},
    {"3dge.cif", "C", 122, 1, 122,
     "MSKKVLLVDDSAVLRKIVSFNLKKEGYEVIEAENGQIALEKLSEFTPDLIVLDIMMPVMDGFTVLKKLQEKEEWKRIPVIVLTAKGGEEDESLALSLGARKVMRKPFSPSQFIEEVKHLLNE"},
  };
  for (size_t k = 0; k < sizeof cif / sizeof cif[0]; k++) {
    char rel[256], what[256];
    snprintf(rel, sizeof rel, "pfam_seeds_contacts/%s", cif[k].file);
    snprintf(what, sizeof what, "%s chain %s", cif[k].file, cif[k].chain);
    if (!(p = data_file(rel, what))) continue;
    sl_structure *s = NULL;
    st = sl_structure_read(p, SL_STRUCT_AUTO, cif[k].chain, &s, &err);
    CHECK(st == SL_OK && s && s->format == SL_STRUCT_MMCIF, "%s (%s)", what, st ? err.msg : "");
    if (!s) continue;
    CHECK(s->n == cif[k].n && strcmp(s->seq, cif[k].seq) == 0, "%s: %lld residues, sequence", what, (long long)s->n);
    CHECK(s->res[0].num == cif[k].first && s->res[s->n - 1].num == cif[k].last, "%s: numbered %lld-%lld", what,
          (long long)cif[k].first, (long long)cif[k].last);
    CHECK(s->n_no_cb == 0 && s->n_no_coord == 0 && !s->by_label, "%s: every residue has its atom", what);
    if (!strcmp(cif[k].file, "4rex.cif")) {
      /* THR 197 has altlocs A (CB 4.402 36.529 50.723, occupancy 0.37) and B (0.63): A is kept. */
      CHECK(s->res[36].num == 197 && (s->res[36].flags & SL_RES_ALTLOC) && s->res[36].xyz[0] == 4.402 &&
            s->res[36].xyz[1] == 36.529 && s->res[36].xyz[2] == 50.723, "4rex Thr197: altloc A's CB");
      CHECK(s->res[0].aa == 'G' && s->res[0].flags == SL_RES_REP_CA, "4rex Gly161 uses CA");
      CHECK_NEAR(sl_structure_distance(s, 0, 9), 15.9245, 1e-4, "4rex residue 161 to 170 distance");
    }
    if (!strcmp(cif[k].file, "1be9.cif") && !strcmp(cif[k].chain, "A")) {
      CHECK_NEAR(dist3(s->res[0].ca, s->res[1].ca), 3.8013, 1e-4, "1be9 Phe301-Leu302 CA-CA");
      sl_structure *z = NULL;
      st = sl_structure_read(p, SL_STRUCT_AUTO, "Z", &z, &err);
      CHECK(st == SL_EINPUT && !z && strstr(err.msg, "no chain 'Z'") &&
            strstr(err.msg, "'A', 'B' (author ids); 'A', 'B', 'C', 'D' (label ids)"),
            "1be9 unknown chain: %s", err.msg);
      st = sl_structure_read(p, SL_STRUCT_AUTO, "C", &z, &err);
      CHECK(st == SL_EINPUT && !z && strstr(err.msg, "chain 'C' has no amino-acid residues"),
            "1be9 label chain C holds only waters: %s", err.msg);
    }
    if (!strcmp(cif[k].file, "3dge.cif") && !strcmp(cif[k].chain, "A")) {
      sl_structure *z = NULL;
      st = sl_structure_read(p, SL_STRUCT_AUTO, "N", &z, &err);
      CHECK(st == SL_EINPUT && !z && strstr(err.msg, "chain 'N' has no amino-acid residues"),
            "3dge author chain N holds only waters: %s", err.msg);
      st = sl_structure_read(p, SL_STRUCT_AUTO, "B", &z, &err);
      CHECK(st == SL_OK && z && z->n == 237 && strcmp(z->seq, s->seq) == 0 &&
            sl_structure_distance(z, 0, 9) != sl_structure_distance(s, 0, 9), "3dge chain B: the other protomer");
      sl_structure_destroy(z);
    }
    sl_structure_destroy(s);
  }
}

static void test_align(void) {
  sl_error err;
  double id;
  int64_t map[128];
  int64_t n = (int64_t)strlen(GB1);
  int st = sl_align_global(GB1, GB1, map, &id, &err);
  int ok = st == SL_OK && id == 1.0;
  for (int64_t i = 0; i < n; i++) ok = ok && map[i] == i;
  CHECK(ok, "a sequence aligns to itself");

  /* Truncated (5 off the start, 3 off the end) and mutated at 3 positions. */
  char a[128];
  memcpy(a, GB1 + 5, 48);
  a[48] = '\0';
  a[10] = 'W'; a[20] = 'P'; a[30] = 'Y';
  st = sl_align_global(a, GB1, map, &id, &err);
  ok = st == SL_OK;
  for (int64_t i = 0; i < 48; i++) ok = ok && map[i] == i + 5;
  CHECK(ok, "truncated mutant maps at offset 5");
  CHECK_NEAR(id, 45.0 / 48.0, 1e-12, "identity 45/48");

  /* An internal deletion (KQYA, positions 30-33: unambiguous placement). */
  memcpy(a, GB1, 30);
  strcpy(a + 30, GB1 + 34);
  st = sl_align_global(a, GB1, map, &id, &err);
  ok = st == SL_OK && id == 1.0;
  for (int64_t i = 0; i < n - 4; i++) ok = ok && map[i] == (i < 30 ? i : i + 4);
  CHECK(ok, "internal deletion skips 4 residues of b");
  /* And the reverse: b lacks them; a's 4 map to -1. */
  st = sl_align_global(GB1, a, map, &id, &err);
  ok = st == SL_OK;
  for (int64_t i = 0; i < n; i++) ok = ok && map[i] == (i < 30 ? i : i < 34 ? -1 : i - 4);
  CHECK(ok, "insertion in a maps to -1");

  /* Gap characters, lower case. */
  st = sl_align_global("-mq.YKL", "MQYKL", map, &id, &err);
  CHECK(st == SL_OK && map[0] == -1 && map[1] == 0 && map[2] == 1 && map[3] == -1 && map[4] == 2 &&
        map[6] == 4 && id == 1.0, "gaps in a map to -1; case ignored");
  st = sl_align_global("", GB1, map, &id, &err);
  CHECK(st == SL_OK && id == 0.0, "empty a");
  map[0] = 7;
  st = sl_align_global("AC", "", map, &id, &err);
  CHECK(st == SL_OK && map[0] == -1 && map[1] == -1, "empty b: all -1");
  st = sl_align_global("AC1D", "ACD", map, &id, &err);
  CHECK(st == SL_EUSAGE && strstr(err.msg, "'1'") && strstr(err.msg, "position 3"), "bad character: %s", err.msg);
}

/* A 12-residue structure on the x axis, 20 A apart, with a few placed contacts. */
static void test_precision(void) {
  sl_error err;
  sl_residue res[12];
  char seq[13] = "AAAAAAAAAAAA";
  memset(res, 0, sizeof res);
  for (int r = 0; r < 12; r++) {
    res[r].num = r + 1;
    res[r].icode = ' ';
    res[r].aa = 'A';
    res[r].flags = SL_RES_REP_CB;
    res[r].xyz[0] = 20.0 * r;
  }
  res[9].xyz[0] = 3.0;                          /* (0,9): 3 A, contact */
  res[8].xyz[0] = 40.0; res[8].xyz[1] = 7.9;    /* (2,8): 7.9 A, contact */
  res[11].xyz[0] = 60.0; res[11].xyz[1] = 8.0;  /* (3,11): exactly 8 A, not a contact */
  res[6].xyz[0] = 80.0; res[6].xyz[2] = 5.0;    /* (4,6): 5 A but |i-j| = 2 */
  res[7].xyz[0] = 20.0; res[7].xyz[1] = 1.0;    /* close to 1, but position 7 is not mapped */
  res[10].flags = SL_RES_NO_COORD;              /* (0,10): no coordinates */
  res[10].xyz[0] = res[10].xyz[1] = res[10].xyz[2] = NAN;
  sl_structure s;
  memset(&s, 0, sizeof s);
  s.n = 12;
  s.seq = seq;
  s.res = res;
  int64_t map[12];
  for (int i = 0; i < 12; i++) map[i] = i;
  map[7] = -1;
  sl_pair pairs[] = {
    {4, 6, 10.0}, {1, 7, 9.0}, {0, 10, 8.5}, {1, 8, 8.0}, {0, 9, 8.0},
    {3, 11, 7.0}, {2, 8, 6.0}, {8, 2, 5.0}, {5, 11, 4.0}, {0, 6, 3.0}};
  int np = (int)(sizeof pairs / sizeof pairs[0]);
  sl_precision pr;
  for (int rev = 0; rev < 2; rev++) {
    if (rev) /* the same pairs in reverse order, each with i and j swapped */
      for (int k = 0; k < np / 2; k++) {
        sl_pair t = pairs[k];
        pairs[k] = pairs[np - 1 - k];
        pairs[np - 1 - k] = t;
      }
    if (rev)
      for (int k = 0; k < np; k++) { int64_t t = pairs[k].i; pairs[k].i = pairs[k].j; pairs[k].j = t; }
    int st = sl_contact_precision(pairs, np, 12, map, &s, SL_CONTACT_MIN_SEP, SL_CONTACT_CUTOFF, &pr, &err);
    CHECK(st == SL_OK, "precision (%s)", rev ? "reversed input" : "input order");
    CHECK(pr.k[0] == 1 && pr.k[1] == 2 && pr.k[2] == 6 && pr.k[3] == 12, "k = 1, 2, 6, 12");
    CHECK(pr.n_pairs == 10 && pr.n_near == 1 && pr.n_unmapped == 2 && pr.n_duplicate == 1 && pr.n_qualify == 6 &&
          pr.n_contacts == 2, "counts: near 1, unmapped 2, duplicate 1, ranked 6, contacts 2");
    CHECK(pr.precision[0] == 1.0 && pr.n_eval[0] == 1, "P@1 = 1: the tie (0,9)/(1,8) goes to (0,9)");
    CHECK(pr.precision[1] == 0.5, "P@2 = 1/2");
    CHECK_NEAR(pr.precision[2], 2.0 / 6.0, 1e-15, "P@6 = 2/6: 8.0 A is not a contact");
    CHECK(pr.n_eval[3] == 6 && pr.n_true[3] == 2, "P@12 over the 6 pairs that qualify");
  }
  int st = sl_contact_precision(pairs, np, 12, map, &s, 0, SL_CONTACT_CUTOFF, &pr, &err);
  CHECK(st == SL_OK && pr.precision[0] == 1.0 && pr.n_near == 0 && pr.n_contacts == 3, "min_sep 0 admits (4,6)");
  st = sl_contact_precision(pairs, 0, 12, map, &s, 6, 8.0, &pr, &err);
  CHECK(st == SL_OK && pr.n_eval[0] == 0 && isnan(pr.precision[0]), "no pairs: NaN");
  sl_pair bad = {0, 12, 1.0};
  st = sl_contact_precision(&bad, 1, 12, map, &s, 6, 8.0, &pr, &err);
  CHECK(st == SL_EUSAGE && strstr(err.msg, "outside"), "index out of range: %s", err.msg);
  bad = (sl_pair){0, 11, NAN};
  st = sl_contact_precision(&bad, 1, 12, map, &s, 6, 8.0, &pr, &err);
  CHECK(st == SL_EUSAGE && strstr(err.msg, "NaN"), "NaN score: %s", err.msg);
  map[3] = 12;
  st = sl_contact_precision(pairs, np, 12, map, &s, 6, 8.0, &pr, &err);
  CHECK(st == SL_EUSAGE && strstr(err.msg, "position 3 maps to residue 12"), "map out of range: %s", err.msg);
}

int main(void) {
  test_pdb_synthetic();
  test_cif_synthetic();
  test_align();
  test_precision();
  test_real();
  return TAP_DONE();
}
