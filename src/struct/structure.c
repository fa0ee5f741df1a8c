/* structure.c: the PDB and mmCIF readers behind sl_structure_read().
 *
 * Contents:
 *   1. Atoms: what both parsers produce (first model, every chain)
 *   2. The PDB parser (fixed columns of ATOM/HETATM, MODEL/ENDMDL)
 *   3. The mmCIF parser (a CIF tokenizer; the _atom_site loop by its header)
 *   4. Residues: grouping the selected chain's atoms, altlocs, CB/CA
 *   5. sl_structure_read(): open, detect the format, dispatch, select
 *
 * Both parsers reduce every atom record of the first model to an `atom`
 * (chain ids interned, residue number, insertion code, altloc, residue
 * name, whether it is one of N/CA/C/CB, coordinates, file line), keeping
 * all chains, so that chain selection (author id, then label id) and the
 * error that lists the chains can look at the whole model. Residues are
 * then built for the selected chain only. The rules are those of
 * seqloop/structure.h; this file implements them and nothing else.
 *
 * The mmCIF tokenizer follows CIF 1.1 syntax: whitespace-separated tokens,
 * '...' and "..." quotes (closed by the quote followed by whitespace or the
 * line end), ';' text fields (a line starting with ';' opens one, the next
 * such line closes it), '#' comments, and the reserved words loop_, data_,
 * save_, global_, stop_. Unquoted '.' and '?' are null. Only the first data
 * block is read, and reading stops after its _atom_site loop. A single atom
 * written as `_atom_site.<field> value` pairs (no loop) is read too.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seqloop/base.h"
#include "seqloop/seqfile.h"
#include "seqloop/structure.h"

/* 1. Atoms --------------------------------------------------------------- */

enum { AT_OTHER = 0, AT_N = 1, AT_CA = 2, AT_C = 3, AT_CB = 4 };

#define MODEL_MAX 64

typedef struct {
  int64_t num;   /* residue number */
  int64_t line;  /* file line of the record */
  double xyz[3];
  int32_t auth;  /* interned author chain id */
  int32_t label; /* interned label chain id (== auth for PDB) */
  char icode;    /* ' ' when none */
  char alt;      /* ' ' when none */
  char het;      /* 1 for HETATM */
  char poly;     /* mmCIF label_seq_id not null: 1; null: 0; unknown: -1 */
  char role;     /* AT_*: the atom's role in the residue (CA, CB, ...) */
  char res[SL_RESNAME_MAX];
} atom;

typedef struct {
  sl_reader *r;
  const char *name;      /* display name */
  int format;
  atom *a;
  int64_t n, cap;
  char **chains;         /* interned chain ids, first-seen order */
  uint8_t *chain_role;   /* bit 0: used as author id, bit 1: as label id */
  int32_t nchains, chains_cap;
  sl_strmap *chain_map;
  char model[MODEL_MAX]; /* first model's id */
  int have_model;
  int stop;              /* the parser has read all it needs */
} parser;

static int oom(parser *p, sl_error *err) {
  return sl_fail(err, SL_ENOMEM, "out of memory reading %s", p->name);
}

/* Intern chain id s (len bytes) with a role bit; returns its index or -1 (no memory). */
static int32_t chain_intern(parser *p, const char *s, size_t len, uint8_t role) {
  int64_t v = sl_strmap_get(p->chain_map, s, len);
  if (v >= 0) {
    p->chain_role[v] |= role;
    return (int32_t)v;
  }
  if (p->nchains == p->chains_cap) {
    int32_t cap = p->chains_cap ? 2 * p->chains_cap : 16;
    char **c = sl_realloc(p->chains, (size_t)cap, sizeof *c);
    if (!c) return -1;
    p->chains = c;
    uint8_t *r = sl_realloc(p->chain_role, (size_t)cap, 1);
    if (!r) return -1;
    p->chain_role = r;
    p->chains_cap = cap;
  }
  char *d = malloc(len + 1);
  if (!d) return -1;
  memcpy(d, s, len);
  d[len] = '\0';
  if (sl_strmap_put(p->chain_map, d, len, p->nchains) == -2) {
    free(d);
    return -1;
  }
  p->chains[p->nchains] = d;
  p->chain_role[p->nchains] = role;
  return p->nchains++;
}

static atom *atom_new(parser *p) {
  if (p->n == p->cap) {
    int64_t cap = p->cap ? 2 * p->cap : 1024;
    atom *a = sl_realloc(p->a, (size_t)cap, sizeof *a);
    if (!a) return NULL;
    p->a = a;
    p->cap = cap;
  }
  atom *a = &p->a[p->n++];
  memset(a, 0, sizeof *a);
  return a;
}

static int atom_role(const char *name) {
  if (strcmp(name, "CA") == 0) return AT_CA;
  if (strcmp(name, "CB") == 0) return AT_CB;
  if (strcmp(name, "N") == 0) return AT_N;
  if (strcmp(name, "C") == 0) return AT_C;
  return AT_OTHER;
}

/* Copy s[0..len) into buf (size cap) without surrounding blanks. Returns the trimmed length. */
static size_t trim_copy(char *buf, size_t cap, const char *s, size_t len) {
  while (len > 0 && isspace((unsigned char)*s)) s++, len--;
  while (len > 0 && isspace((unsigned char)s[len - 1])) len--;
  if (len >= cap) len = cap - 1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return len;
}

/* Parse a whole string as a finite real / an integer. Returns 1 on success. */
static int parse_real(const char *s, double *ret) {
  if (!*s) return 0;
  char *e;
  errno = 0;
  double v = strtod(s, &e);
  if (*e || errno == ERANGE || !isfinite(v)) return 0;
  *ret = v;
  return 1;
}

static int parse_int(const char *s, int64_t *ret) {
  if (!*s) return 0;
  char *e;
  errno = 0;
  long long v = strtoll(s, &e, 10);
  if (*e || errno == ERANGE) return 0;
  *ret = (int64_t)v;
  return 1;
}

/* 2. PDB ---------------------------------------------------------------- */

static const char *pdb_axis[3] = {"31-38 (x)", "39-46 (y)", "47-54 (z)"};

static int pdb_line(parser *p, const char *line, size_t len, sl_error *err) {
  long long ln = (long long)sl_reader_lineno(p->r);
  if (len >= 5 && strncmp(line, "MODEL", 5) == 0 && (len == 5 || line[5] == ' ')) {
    if (p->n > 0) { p->stop = 1; return SL_OK; } /* a second model without ENDMDL */
    if (!p->have_model) {
      trim_copy(p->model, sizeof p->model, line + 5, len - 5);
      p->have_model = 1;
    }
    return SL_OK;
  }
  if (len >= 6 && strncmp(line, "ENDMDL", 6) == 0) {
    if (p->n > 0) p->stop = 1;
    return SL_OK;
  }
  int het = len >= 6 && strncmp(line, "HETATM", 6) == 0;
  if (!het && !(len >= 6 && strncmp(line, "ATOM  ", 6) == 0)) return SL_OK;
  const char *rec = het ? "HETATM" : "ATOM";
  if (len < 54)
    return sl_fail(err, SL_EINPUT, "%s line %lld: %s record is %zu characters long; expected "
                   "coordinates in columns 31-54", p->name, ln, rec, len);
  char buf[16], name[8];
  trim_copy(name, sizeof name, line + 12, 4);
  atom *a = atom_new(p);
  if (!a) return oom(p, err);
  a->line = ln;
  a->het = (char)het;
  a->poly = -1;
  a->role = (char)atom_role(name);
  a->alt = line[16];
  if (trim_copy(a->res, sizeof a->res, line + 17, 3) == 0)
    return sl_fail(err, SL_EINPUT, "%s line %lld: %s record without a residue name in columns "
                   "18-20", p->name, ln, rec);
  if ((a->auth = a->label = chain_intern(p, line + 21, 1, 3)) < 0) return oom(p, err);
  trim_copy(buf, sizeof buf, line + 22, 4);
  if (!parse_int(buf, &a->num))
    return sl_fail(err, SL_EINPUT, "%s line %lld: expected a residue number in columns 23-26, "
                   "got '%s'", p->name, ln, buf);
  a->icode = line[26];
  for (int d = 0; d < 3; d++) {
    trim_copy(buf, sizeof buf, line + 30 + 8 * d, 8);
    if (!parse_real(buf, &a->xyz[d]))
      return sl_fail(err, SL_EINPUT, "%s line %lld: expected a number in columns %s, got '%s'",
                     p->name, ln, pdb_axis[d], buf);
  }
  if (a->alt == '\t') a->alt = ' ';
  if (a->icode == '\t') a->icode = ' ';
  return SL_OK;
}

/* 3. mmCIF -------------------------------------------------------------- */

enum {
  F_GROUP, F_LATOM, F_AATOM, F_LALT, F_LCOMP, F_ACOMP, F_LASYM, F_AASYM,
  F_LSEQ, F_ASEQ, F_INS, F_X, F_Y, F_Z, F_MODEL, NF
};
static const char *const field_name[NF] = {
  "group_PDB", "label_atom_id", "auth_atom_id", "label_alt_id", "label_comp_id", "auth_comp_id",
  "label_asym_id", "auth_asym_id", "label_seq_id", "auth_seq_id", "pdbx_PDB_ins_code",
  "Cartn_x", "Cartn_y", "Cartn_z", "pdbx_PDB_model_num"};

#define VALMAX 64 /* needed values longer than 63 characters are refused */

enum { ST_NONE, ST_TAGS, ST_VALUES };

typedef struct {
  int state;
  int atom_loop;          /* the current loop is _atom_site */
  int64_t ntags, cur;     /* tags of the current loop; value index within a row */
  int64_t loop_line;      /* line of loop_ */
  int64_t col[NF];        /* tag position of each field in the atom loop, -1 if absent */
  char val[NF][VALMAX];   /* the current row's needed values */
  char isnull[NF];
  int64_t row_line;
  int pending;            /* a tag outside a loop waits for its value */
  int pending_field;      /* its field (-1: another _atom_site field; -2: another category) */
  int single;             /* _atom_site values were given without a loop */
  int64_t single_line;
  int in_text;            /* inside a ';' text field */
  int64_t text_line;
  char text[VALMAX];
  size_t text_len;
  int text_long;          /* the text field is longer than VALMAX - 1 */
} cif;

/* Is tok (len bytes) "_atom_site.<field>"? Returns the length of "_atom_site." or 0. */
static size_t atom_site_tag(const char *tok, size_t len) {
  static const char pre[] = "_atom_site.";
  size_t n = sizeof pre - 1;
  return len > n && strncasecmp(tok, pre, n) == 0 ? n : 0;
}

static int field_of(const char *s, size_t len) {
  for (int f = 0; f < NF; f++)
    if (strlen(field_name[f]) == len && strncasecmp(field_name[f], s, len) == 0) return f;
  return -1;
}

/* Chain id of a row: the value of field f, or of the other chain field when f is null. */
static const char *cif_chain(const cif *c, int f, int other) {
  if (c->col[f] >= 0 && !c->isnull[f]) return c->val[f];
  if (c->col[other] >= 0 && !c->isnull[other]) return c->val[other];
  return NULL;
}

/* The columns a row needs; names what is missing in err. */
static int cif_check_columns(parser *p, const cif *c, int64_t line, sl_error *err) {
  const char *miss = NULL;
  if (c->col[F_X] < 0 || c->col[F_Y] < 0 || c->col[F_Z] < 0) miss = "Cartn_x, Cartn_y and Cartn_z";
  else if (c->col[F_LATOM] < 0 && c->col[F_AATOM] < 0) miss = "label_atom_id or auth_atom_id";
  else if (c->col[F_LCOMP] < 0 && c->col[F_ACOMP] < 0) miss = "label_comp_id or auth_comp_id";
  else if (c->col[F_LASYM] < 0 && c->col[F_AASYM] < 0) miss = "auth_asym_id or label_asym_id";
  else if (c->col[F_LSEQ] < 0 && c->col[F_ASEQ] < 0) miss = "auth_seq_id or label_seq_id";
  if (!miss) return SL_OK;
  return sl_fail(err, SL_EINPUT, "%s line %lld: the _atom_site %s lacks %s", p->name,
                 (long long)line, c->single ? "category" : "loop", miss);
}

/* One complete _atom_site row -> an atom (or nothing, for a later model). */
static int cif_row(parser *p, cif *c, sl_error *err) {
  long long ln = (long long)c->row_line;
  if (c->col[F_MODEL] >= 0) {
    const char *m = c->isnull[F_MODEL] ? "" : c->val[F_MODEL];
    if (!p->have_model) {
      snprintf(p->model, sizeof p->model, "%s", m);
      p->have_model = 1;
    } else if (strcmp(m, p->model) != 0) {
      return SL_OK;
    }
  }
  int fa = c->col[F_LATOM] >= 0 && !c->isnull[F_LATOM] ? F_LATOM : F_AATOM;
  int fc = c->col[F_LCOMP] >= 0 && !c->isnull[F_LCOMP] ? F_LCOMP : F_ACOMP;
  int fs = c->col[F_ASEQ] >= 0 && !c->isnull[F_ASEQ] ? F_ASEQ : F_LSEQ;
  if (c->col[fa] < 0 || c->isnull[fa])
    return sl_fail(err, SL_EINPUT, "%s line %lld: expected an atom name (label_atom_id)", p->name, ln);
  if (c->col[fc] < 0 || c->isnull[fc])
    return sl_fail(err, SL_EINPUT, "%s line %lld: expected a residue name (label_comp_id)", p->name, ln);
  if (c->col[fs] < 0 || c->isnull[fs])
    return sl_fail(err, SL_EINPUT, "%s line %lld: expected a residue number (auth_seq_id or "
                   "label_seq_id)", p->name, ln);
  const char *auth = cif_chain(c, F_AASYM, F_LASYM), *label = cif_chain(c, F_LASYM, F_AASYM);
  if (!auth || !label)
    return sl_fail(err, SL_EINPUT, "%s line %lld: expected a chain id (auth_asym_id or "
                   "label_asym_id)", p->name, ln);
  atom *a = atom_new(p);
  if (!a) return oom(p, err);
  a->line = c->row_line;
  a->het = c->col[F_GROUP] >= 0 && !c->isnull[F_GROUP] && strcasecmp(c->val[F_GROUP], "HETATM") == 0;
  a->poly = (char)(c->col[F_LSEQ] < 0 ? -1 : !c->isnull[F_LSEQ]);
  a->role = (char)atom_role(c->val[fa]);
  snprintf(a->res, sizeof a->res, "%s", c->val[fc]);
  if (!parse_int(c->val[fs], &a->num))
    return sl_fail(err, SL_EINPUT, "%s line %lld: expected an integer residue number in %s, got "
                   "'%s'", p->name, ln, field_name[fs], c->val[fs]);
  static const int ch1[2] = {F_INS, F_LALT};
  char *dst[2] = {&a->icode, &a->alt};
  for (int k = 0; k < 2; k++) {
    int f = ch1[k];
    *dst[k] = ' ';
    if (c->col[f] < 0 || c->isnull[f]) continue;
    if (strlen(c->val[f]) != 1)
      return sl_fail(err, SL_EINPUT, "%s line %lld: expected one character in %s, got '%s'",
                     p->name, ln, field_name[f], c->val[f]);
    *dst[k] = c->val[f][0];
  }
  for (int d = 0; d < 3; d++)
    if (c->isnull[F_X + d] || !parse_real(c->val[F_X + d], &a->xyz[d]))
      return sl_fail(err, SL_EINPUT, "%s line %lld: expected a number in %s, got '%s'", p->name,
                     ln, field_name[F_X + d], c->isnull[F_X + d] ? "(null)" : c->val[F_X + d]);
  if ((a->auth = chain_intern(p, auth, strlen(auth), 1)) < 0) return oom(p, err);
  if ((a->label = chain_intern(p, label, strlen(label), 2)) < 0) return oom(p, err);
  return SL_OK;
}

/* Store a value for field f of the current row. */
static int cif_store(parser *p, cif *c, int f, const char *v, size_t len, int null, int64_t line,
                     sl_error *err) {
  if (len >= VALMAX)
    return sl_fail(err, SL_EINPUT, "%s line %lld: the value of _atom_site.%s is longer than %d "
                   "characters", p->name, (long long)line, field_name[f], VALMAX - 1);
  memcpy(c->val[f], v, len);
  c->val[f][len] = '\0';
  c->isnull[f] = (char)null;
  return SL_OK;
}

static int cif_end_loop(parser *p, cif *c, int64_t line, sl_error *err) {
  if (c->state == ST_VALUES && c->atom_loop) {
    if (c->cur != 0)
      return sl_fail(err, SL_EINPUT, "%s line %lld: the _atom_site loop ends in the middle of a "
                     "row (%lld of %lld values); expected whole rows", p->name, (long long)line,
                     (long long)c->cur, (long long)c->ntags);
    p->stop = 1; /* the one loop we read is complete */
  }
  c->state = ST_NONE;
  c->atom_loop = 0;
  return SL_OK;
}

/* The single-atom form (`_atom_site.<field> value` pairs): emit its row. */
static int cif_end_single(parser *p, cif *c, sl_error *err) {
  if (!c->single) return SL_OK;
  c->row_line = c->single_line;
  int status = cif_check_columns(p, c, c->single_line, err);
  c->single = 0;
  if (!status) status = cif_row(p, c, err);
  if (!status) p->stop = 1;
  return status;
}

enum { TK_VALUE, TK_TAG, TK_LOOP, TK_BLOCK };

static int cif_token(parser *p, cif *c, const char *tok, size_t len, int quoted, int64_t line,
                     sl_error *err) {
  int type = TK_VALUE, status;
  if (!quoted) {
    if (tok[0] == '_') type = TK_TAG;
    else if (len == 5 && strncasecmp(tok, "loop_", 5) == 0) type = TK_LOOP;
    else if ((len >= 5 && (strncasecmp(tok, "data_", 5) == 0 || strncasecmp(tok, "save_", 5) == 0))
             || (len == 7 && strncasecmp(tok, "global_", 7) == 0)
             || (len == 5 && strncasecmp(tok, "stop_", 5) == 0))
      type = TK_BLOCK;
  }
  int null = !quoted && len == 1 && (tok[0] == '.' || tok[0] == '?');

  if (type != TK_VALUE && c->state == ST_VALUES) {
    if ((status = cif_end_loop(p, c, line, err))) return status;
    if (p->stop) return SL_OK;
  }
  if (type != TK_VALUE && c->state == ST_NONE && c->single && !atom_site_tag(tok, len)) {
    if ((status = cif_end_single(p, c, err))) return status; /* the category ended */
    return SL_OK;
  }
  switch (type) {
  case TK_BLOCK:
    if (p->n > 0) p->stop = 1; /* the first data block had the atoms */
    c->state = ST_NONE;
    c->pending = 0;
    return SL_OK;
  case TK_LOOP:
    c->state = ST_TAGS;
    c->ntags = 0;
    c->atom_loop = 0;
    c->loop_line = line;
    c->pending = 0;
    for (int f = 0; f < NF; f++) c->col[f] = -1;
    return SL_OK;
  case TK_TAG:
    if (c->state == ST_TAGS) {
      size_t pre = atom_site_tag(tok, len);
      if (c->ntags == 0) c->atom_loop = pre > 0;
      if (c->atom_loop && pre) {
        int f = field_of(tok + pre, len - pre);
        if (f >= 0 && c->col[f] < 0) c->col[f] = c->ntags;
      }
      c->ntags++;
      return SL_OK;
    }
    c->pending = 1; /* ST_NONE: a tag-value pair */
    c->pending_field = -2;
    size_t pre = atom_site_tag(tok, len);
    if (pre) {
      if (!c->single) {
        for (int f = 0; f < NF; f++) c->col[f] = -1;
        c->single = 1;
        c->single_line = line;
      }
      c->pending_field = field_of(tok + pre, len - pre);
      if (c->pending_field >= 0) c->col[c->pending_field] = 0;
      else c->pending_field = -1;
    }
    return SL_OK;
  default:
    break;
  }
  /* A value. */
  if (c->state == ST_TAGS) {
    if (c->ntags == 0)
      return sl_fail(err, SL_EINPUT, "%s line %lld: a value follows 'loop_' (line %lld) before "
                     "any tag", p->name, (long long)line, (long long)c->loop_line);
    c->state = ST_VALUES;
    c->cur = 0;
    if (c->atom_loop && (status = cif_check_columns(p, c, c->loop_line, err))) return status;
  }
  if (c->state == ST_VALUES) {
    if (!c->atom_loop) return SL_OK;
    if (c->cur == 0) c->row_line = line;
    for (int f = 0; f < NF; f++)
      if (c->col[f] == c->cur && (status = cif_store(p, c, f, tok, len, null, line, err)))
        return status;
    if (++c->cur == c->ntags) {
      c->cur = 0;
      if ((status = cif_row(p, c, err))) return status;
    }
    return SL_OK;
  }
  if (c->pending) {
    c->pending = 0;
    if (c->pending_field >= 0)
      return cif_store(p, c, c->pending_field, tok, len, null, line, err);
  }
  return SL_OK; /* a value without a tag: not ours to judge */
}

/* Tokenize s (the rest of one line). */
static int cif_tokens(parser *p, cif *c, const char *s, int64_t line, sl_error *err) {
  int status;
  for (;;) {
    while (*s && isspace((unsigned char)*s)) s++;
    if (!*s || *s == '#') return SL_OK;
    const char *start = s, *end;
    int quoted = 0;
    if (*s == '\'' || *s == '"') {
      char q = *s;
      const char *e = s + 1;
      while (*e && !(*e == q && (e[1] == '\0' || isspace((unsigned char)e[1])))) e++;
      if (!*e)
        return sl_fail(err, SL_EINPUT, "%s line %lld: a value opened with %c is not closed on "
                       "its line", p->name, (long long)line, q);
      start = s + 1;
      end = e;
      s = e + 1;
      quoted = 1;
    } else {
      while (*s && !isspace((unsigned char)*s)) s++;
      end = s;
    }
    if ((status = cif_token(p, c, start, (size_t)(end - start), quoted, line, err))) return status;
    if (p->stop) return SL_OK;
  }
}

static int cif_line(parser *p, cif *c, const char *line, size_t len, sl_error *err) {
  int64_t ln = sl_reader_lineno(p->r);
  if (c->in_text) {
    if (line[0] != ';') {
      for (size_t k = 0; k <= len && !c->text_long; k++) { /* '\n' then the line */
        char ch = k == 0 ? '\n' : line[k - 1];
        if (c->text_len + 1 >= VALMAX) c->text_long = 1;
        else c->text[c->text_len++] = ch;
      }
      return SL_OK;
    }
    c->in_text = 0;
    /* An over-long text field is passed with length VALMAX, which cif_store() refuses
     * (and nothing else reads the bytes of a quoted value). */
    int status = cif_token(p, c, c->text, c->text_long ? VALMAX : c->text_len, 1, c->text_line, err);
    if (status) return status;
    if (p->stop) return SL_OK;
    return cif_tokens(p, c, line + 1, ln, err);
  }
  if (line[0] == ';') {
    c->in_text = 1;
    c->text_line = ln;
    c->text_long = 0;
    c->text_len = 0;
    for (size_t k = 1; k < len && !c->text_long; k++) {
      if (c->text_len + 1 >= VALMAX) c->text_long = 1;
      else c->text[c->text_len++] = line[k];
    }
    return SL_OK;
  }
  return cif_tokens(p, c, line, ln, err);
}

static int cif_finish(parser *p, cif *c, sl_error *err) {
  int64_t ln = sl_reader_lineno(p->r);
  if (p->stop) return SL_OK;
  if (c->in_text)
    return sl_fail(err, SL_EINPUT, "%s line %lld: a text field opened with ';' is never closed",
                   p->name, (long long)c->text_line);
  int status = cif_end_loop(p, c, ln, err);
  if (status) return status;
  return cif_end_single(p, c, err);
}

/* 4. Residues ----------------------------------------------------------- */

typedef struct {
  int64_t num;
  int32_t label;
  char icode, alt, altseen, any_atom, poly; /* poly: any atom with label_seq_id */
  char poly_known, has[5];
  char res[SL_RESNAME_MAX];
  double ca[3], cb[3];
} resbuild;

static const struct { char name[4]; char aa; } aa_table[] = {
  {"ALA", 'A'}, {"ARG", 'R'}, {"ASN", 'N'}, {"ASP", 'D'}, {"CYS", 'C'}, {"GLN", 'Q'},
  {"GLU", 'E'}, {"GLY", 'G'}, {"HIS", 'H'}, {"ILE", 'I'}, {"LEU", 'L'}, {"LYS", 'K'},
  {"MET", 'M'}, {"PHE", 'F'}, {"PRO", 'P'}, {"SER", 'S'}, {"THR", 'T'}, {"TRP", 'W'},
  {"TYR", 'Y'}, {"VAL", 'V'}};

/* One-letter code of a residue name; *ret_std = 1 for the 20 standard names. */
static char aa_letter(const char *name, int *ret_std) {
  *ret_std = 0;
  for (size_t k = 0; k < sizeof aa_table / sizeof aa_table[0]; k++)
    if (strcmp(name, aa_table[k].name) == 0) {
      *ret_std = 1;
      return aa_table[k].aa;
    }
  return strcmp(name, "MSE") == 0 ? 'M' : 'X';
}

static int is_water(const char *name) {
  return !strcmp(name, "HOH") || !strcmp(name, "DOD") || !strcmp(name, "WAT") || !strcmp(name, "H2O");
}

static uint64_t res_hash(int64_t num, char icode, int32_t label) {
  uint64_t h = ((uint64_t)num * 0x9E3779B97F4A7C15ull ^ (uint64_t)(unsigned char)icode) +
               (uint64_t)label * 0xC2B2AE3D27D4EB4Full;
  return h ^ (h >> 29);
}

/* Build the residues of chain ci (by author or label id) into s. s->n may be 0.
 * Residues are keyed by (number, insertion code, label chain): in mmCIF the
 * label chain keeps a water or ligand numbered like a residue of the same
 * author chain apart; in PDB it equals the chain and changes nothing. */
static int build_chain(parser *p, int32_t ci, int by_label, sl_structure *s, sl_error *err) {
  int64_t nat = 0;
  for (int64_t k = 0; k < p->n; k++) nat += (by_label ? p->a[k].label : p->a[k].auth) == ci;
  size_t hcap = 16;
  while (hcap < 2 * (size_t)nat) hcap *= 2;
  int64_t *slot = sl_malloc(hcap, sizeof *slot);
  resbuild *rb = sl_calloc((size_t)(nat ? nat : 1), sizeof *rb);
  int64_t nres = 0;
  int status = SL_OK;
  if (!slot || !rb) { status = oom(p, err); goto DONE; }
  for (size_t h = 0; h < hcap; h++) slot[h] = -1;
  s->n_atoms = s->n_altloc_skipped = 0;
  for (int64_t k = 0; k < p->n; k++) {
    const atom *a = &p->a[k];
    if ((by_label ? a->label : a->auth) != ci) continue;
    size_t h = (size_t)res_hash(a->num, a->icode, a->label) & (hcap - 1);
    while (slot[h] >= 0 && !(rb[slot[h]].num == a->num && rb[slot[h]].icode == a->icode &&
                             rb[slot[h]].label == a->label))
      h = (h + 1) & (hcap - 1);
    if (slot[h] < 0) {
      slot[h] = nres;
      resbuild *n = &rb[nres++];
      n->num = a->num;
      n->label = a->label;
      n->icode = a->icode;
      memcpy(n->res, a->res, sizeof n->res);
    }
    resbuild *r = &rb[slot[h]];
    if (a->alt != ' ') {
      r->altseen = 1;
      if (!r->alt) r->alt = a->alt;
      else if (a->alt != r->alt) { s->n_altloc_skipped++; continue; }
    }
    s->n_atoms++;
    if (!a->het) r->any_atom = 1;
    if (a->poly >= 0) { r->poly_known = 1; r->poly |= a->poly; }
    if (a->role != AT_OTHER && !r->has[(int)a->role]) {
      r->has[(int)a->role] = 1;
      if (a->role == AT_CA) memcpy(r->ca, a->xyz, sizeof r->ca);
      if (a->role == AT_CB) memcpy(r->cb, a->xyz, sizeof r->cb);
    }
  }
  s->res = sl_calloc((size_t)(nres ? nres : 1), sizeof *s->res);
  s->seq = malloc((size_t)nres + 1);
  if (!s->res || !s->seq) { status = oom(p, err); goto DONE; }
  s->n = s->n_groups_skipped = s->n_no_cb = s->n_no_coord = s->n_nonstd = 0;
  for (int64_t k = 0; k < nres; k++) {
    const resbuild *r = &rb[k];
    int keep;
    if (is_water(r->res)) keep = 0;
    else if (r->any_atom) keep = 1;
    else if (r->poly_known) keep = r->poly;
    else keep = !strcmp(r->res, "MSE") || (r->has[AT_N] && r->has[AT_CA] && r->has[AT_C]);
    if (!keep) { s->n_groups_skipped++; continue; }
    sl_residue *o = &s->res[s->n];
    int std;
    o->num = r->num;
    o->icode = r->icode;
    o->aa = aa_letter(r->res, &std);
    memcpy(o->name, r->res, sizeof o->name);
    o->flags = 0;
    if (!std) { o->flags |= SL_RES_NONSTD; s->n_nonstd++; }
    if (!r->any_atom) o->flags |= SL_RES_HETATM;
    if (r->altseen) o->flags |= SL_RES_ALTLOC;
    if (r->has[AT_CA]) memcpy(o->ca, r->ca, sizeof o->ca);
    else o->ca[0] = o->ca[1] = o->ca[2] = NAN;
    int gly = !strcmp(r->res, "GLY");
    if (!gly && r->has[AT_CB]) {
      memcpy(o->xyz, r->cb, sizeof o->xyz);
      o->flags |= SL_RES_REP_CB;
    } else if (r->has[AT_CA]) {
      memcpy(o->xyz, r->ca, sizeof o->xyz);
      o->flags |= SL_RES_REP_CA;
      if (!gly) { o->flags |= SL_RES_NO_CB; s->n_no_cb++; }
    } else {
      o->xyz[0] = o->xyz[1] = o->xyz[2] = NAN;
      o->flags |= SL_RES_NO_COORD;
      s->n_no_coord++;
    }
    s->seq[s->n++] = o->aa;
  }
  s->seq[s->n] = '\0';
DONE:
  free(slot);
  free(rb);
  return status;
}

/* 5. Reading ------------------------------------------------------------ */

/* Append to buf (size cap, used so far *used), clamping at the end. */
static void append(char *buf, size_t cap, size_t *used, const char *fmt, const char *arg) {
  if (*used + 1 >= cap) return;
  int w = snprintf(buf + *used, cap - *used, fmt, arg);
  if (w < 0) return;
  *used = (size_t)w >= cap - *used ? cap - 1 : *used + (size_t)w;
}

/* "'A', 'B' (author ids); 'A', 'C' (label ids)" (mmCIF) or "'A', 'B'" (PDB) into buf. */
static void chain_list(const parser *p, char *buf, size_t cap) {
  size_t used = 0;
  int passes = p->format == SL_STRUCT_MMCIF ? 2 : 1;
  buf[0] = '\0';
  for (int pass = 0; pass < passes; pass++) {
    int shown = 0;
    for (int32_t k = 0; k < p->nchains; k++) {
      if (!(p->chain_role[k] & (1 << pass))) continue;
      if (shown == 40) { append(buf, cap, &used, "%s", ", ..."); break; }
      append(buf, cap, &used, "%s", shown ? ", " : pass ? "; " : "");
      append(buf, cap, &used, "'%s'", p->chains[k]);
      shown++;
    }
    if (shown && passes == 2) append(buf, cap, &used, "%s", pass ? " (label ids)" : " (author ids)");
  }
}

static int select_chain(parser *p, const char *chain, sl_structure *s, sl_error *err) {
  char list[512];
  int status;
  if (!chain || !*chain) {
    for (int32_t k = 0; k < p->nchains; k++) {
      if (!(p->chain_role[k] & 1)) continue;
      if ((status = build_chain(p, k, 0, s, err))) return status;
      if (s->n > 0) {
        s->chain = sl_strdup(p->chains[k]);
        return s->chain ? SL_OK : oom(p, err);
      }
      free(s->res); free(s->seq);
      s->res = NULL; s->seq = NULL;
    }
    return sl_fail(err, SL_EINPUT, "%s: no amino-acid residues in the first model (only "
                   "waters, ions or ligands)", p->name);
  }
  size_t clen = strlen(chain);
  int64_t ci = sl_strmap_get(p->chain_map, chain, clen);
  int by_label = 0;
  if (ci >= 0 && !(p->chain_role[ci] & 1)) by_label = 1; /* no author match: a label id */
  if (ci < 0) {
    chain_list(p, list, sizeof list);
    return sl_fail(err, SL_EINPUT, "%s: no chain '%s' in the first model; chains present: %s",
                   p->name, chain, list);
  }
  if ((status = build_chain(p, (int32_t)ci, by_label, s, err))) return status;
  if (s->n == 0)
    return sl_fail(err, SL_EINPUT, "%s: chain '%s' has no amino-acid residues (%lld atoms in "
                   "%lld groups such as waters, ions or ligands)", p->name, chain,
                   (long long)s->n_atoms, (long long)s->n_groups_skipped);
  s->by_label = by_label;
  s->chain = sl_strdup(chain);
  return s->chain ? SL_OK : oom(p, err);
}

static int is_blank_line(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s)) return 0;
  return 1;
}

static int read_structure(sl_reader *r, int format, const char *chain, sl_structure **ret_s,
                          sl_error *err) {
  parser p;
  cif *c = NULL;
  sl_structure *s = NULL;
  char *line;
  size_t len;
  int status;
  memset(&p, 0, sizeof p);
  p.r = r;
  p.name = sl_reader_name(r);
  if (format != SL_STRUCT_AUTO && format != SL_STRUCT_PDB && format != SL_STRUCT_MMCIF) {
    status = sl_fail(err, SL_EUSAGE, "%s: unknown structure format code %d", p.name, format);
    goto DONE;
  }
  p.chain_map = sl_strmap_create(64);
  c = calloc(1, sizeof *c);
  if (!p.chain_map || !c) { status = oom(&p, err); goto DONE; }
  for (int f = 0; f < NF; f++) c->col[f] = -1;
  do {
    if ((status = sl_reader_line(r, &line, &len, err))) goto DONE;
  } while (line && is_blank_line(line));
  if (!line) {
    status = sl_fail(err, SL_EINPUT, "%s: empty file; expected a PDB or mmCIF structure", p.name);
    goto DONE;
  }
  if (format == SL_STRUCT_AUTO) {
    const char *q = line;
    while (isspace((unsigned char)*q)) q++;
    format = (*q == '#' || strncasecmp(q, "data_", 5) == 0) ? SL_STRUCT_MMCIF : SL_STRUCT_PDB;
  }
  p.format = format;
  while (line && !p.stop) {
    status = format == SL_STRUCT_PDB ? pdb_line(&p, line, len, err) : cif_line(&p, c, line, len, err);
    if (status) goto DONE;
    if (p.stop) break;
    if ((status = sl_reader_line(r, &line, &len, err))) goto DONE;
  }
  if (format == SL_STRUCT_MMCIF && (status = cif_finish(&p, c, err))) goto DONE;
  if (p.n == 0) {
    status = format == SL_STRUCT_PDB
      ? sl_fail(err, SL_EINPUT, "%s: no ATOM or HETATM records; expected a PDB file", p.name)
      : sl_fail(err, SL_EINPUT, "%s: no _atom_site records; expected an mmCIF file with atom "
                "coordinates", p.name);
    goto DONE;
  }
  s = calloc(1, sizeof *s);
  if (!s) { status = oom(&p, err); goto DONE; }
  s->format = format;
  s->path = sl_strdup(p.name);
  s->model = sl_strdup(p.have_model ? p.model : "");
  if (!s->path || !s->model) { status = oom(&p, err); goto DONE; }
  status = select_chain(&p, chain, s, err);
DONE:
  if (status) {
    sl_structure_destroy(s);
    s = NULL;
  }
  *ret_s = s;
  for (int32_t k = 0; k < p.nchains; k++) free(p.chains[k]);
  free(p.chains);
  free(p.chain_role);
  sl_strmap_destroy(p.chain_map);
  free(p.a);
  free(c);
  return status;
}

int sl_structure_read(const char *path, int format, const char *chain, sl_structure **ret_s,
                      sl_error *err) {
  sl_reader *r = NULL;
  *ret_s = NULL;
  int status = sl_reader_open(path, &r, err);
  if (status) return status;
  status = read_structure(r, format, chain, ret_s, err);
  sl_reader_close(r);
  return status;
}

int sl_structure_read_mem(const char *buf, size_t len, const char *name, int format,
                          const char *chain, sl_structure **ret_s, sl_error *err) {
  sl_reader *r = NULL;
  *ret_s = NULL;
  int status = sl_reader_open_mem(buf, len, name, &r, err);
  if (status) return status;
  status = read_structure(r, format, chain, ret_s, err);
  sl_reader_close(r);
  return status;
}

void sl_structure_destroy(sl_structure *s) {
  if (!s) return;
  free(s->path);
  free(s->chain);
  free(s->model);
  free(s->seq);
  free(s->res);
  free(s);
}

double sl_structure_distance(const sl_structure *s, int64_t r1, int64_t r2) {
  if (!s || r1 < 0 || r2 < 0 || r1 >= s->n || r2 >= s->n) return NAN;
  const sl_residue *a = &s->res[r1], *b = &s->res[r2];
  if ((a->flags | b->flags) & SL_RES_NO_COORD) return NAN;
  double dx = a->xyz[0] - b->xyz[0], dy = a->xyz[1] - b->xyz[1], dz = a->xyz[2] - b->xyz[2];
  return sqrt(dx * dx + dy * dy + dz * dz);
}
