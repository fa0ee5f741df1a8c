/* test_seqfile.c: parsing FASTA, A2M, A3M and Stockholm from memory. */
#include <stdlib.h>

#include "seqloop/seqfile.h"
#include "tap.h"

static sl_seqset *parse(const char *text, int fmt, int *status, sl_error *err) {
  sl_seqset *ss = NULL;
  *status = sl_seqset_read_mem(text, strlen(text), "mem", fmt, &ss, err);
  return ss;
}

int main(void) {
  sl_error err;
  int st;

  /* Multi-line FASTA with descriptions, blank lines, CRLF and inner spaces. */
  sl_seqset *ss = parse("\n>s1 first one\r\nAC DE\r\nFG\n\n>s2\nAC-EFG\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_OK && ss, "fasta parses");
  if (ss) {
    CHECK(ss->n == 2, "two records");
    CHECK(strcmp(ss->name[0], "s1") == 0 && strcmp(ss->desc[0], "first one") == 0, "name and description");
    CHECK(strcmp(ss->seq[0], "ACDEFG") == 0 && ss->len[0] == 6, "lines joined, spaces and CR removed");
    CHECK(ss->line[0] == 2 && ss->line[1] == 6, "header line numbers (%lld, %lld)",
          (long long)ss->line[0], (long long)ss->line[1]);
    CHECK(ss->format == SL_FMT_FASTA, "format is fasta");
    CHECK(ss->nbytes == 38, "byte count (%lld)", (long long)ss->nbytes);
  }
  sl_seqset_destroy(ss);

  /* SHA-256 of "abc\n"-style content is stable: hash of a known string. */
  ss = parse(">a\nA\n", SL_FMT_AUTO, &st, &err);
  if (ss) {
    char hex[SL_SHA256_HEX];
    sl_sha256_hex(ss->sha256, hex);
    /* sha256(">a\nA\n") computed with coreutils sha256sum */
    CHECK(strcmp(hex, "e4daec5e83a06bedd7cb969280c417ef1118792f2c23789589114b68abffdc47") == 0,
          "sha256 of the content (%s)", hex);
  }
  sl_seqset_destroy(ss);

  /* Syntax errors carry file and line. */
  ss = parse(">a\nAC1D\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 2, column 3") != NULL, "unknown char: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse(">a\n>b\nAC\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "line 1") && strstr(err.msg, "no sequence"), "empty record: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse("", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "empty file"), "empty file: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse("ACDE\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "expected a FASTA header"), "no header: %s", err.msg);
  sl_seqset_destroy(ss);
  {
    const char nul[] = ">a\nAC\0DE\n";
    st = sl_seqset_read_mem(nul, sizeof nul - 1, "mem", SL_FMT_AUTO, &ss, &err);
    CHECK(st == SL_EINPUT && strstr(err.msg, "binary data (byte 0x00)") && strstr(err.msg, "line 2"),
          "NUL byte: %s", err.msg);
    sl_seqset_destroy(ss);
  }
  {
    const char bin[] = ">a\nAC\001DE\n";
    st = sl_seqset_read_mem(bin, sizeof bin - 1, "mem", SL_FMT_AUTO, &ss, &err);
    CHECK(st == SL_EINPUT && strstr(err.msg, "binary data (byte 0x01)"), "binary: %s", err.msg);
    sl_seqset_destroy(ss);
  }

  /* Stockholm: two blocks, RF, annotation, terminator. */
  const char *sto =
    "# STOCKHOLM 1.0\n#=GF ID test\n#=GS s1 AC P00001\n\n"
    "s1/1-8   AC.DE\ns2       ac-DE\n#=GR s1 SS ....\n#=GC RF  xx.xx\n\n"
    "s1/1-8   FGH\ns2       FG-\n#=GC RF  xxx\n//\n";
  ss = parse(sto, SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_OK && ss, "stockholm parses (%s)", st ? err.msg : "");
  if (ss) {
    CHECK(ss->n == 2 && ss->format == SL_FMT_STOCKHOLM, "two rows");
    CHECK(strcmp(ss->seq[0], "AC.DEFGH") == 0 && strcmp(ss->seq[1], "ac-DEFG-") == 0, "blocks joined");
    CHECK(ss->rf && strcmp(ss->rf, "xx.xxxxx") == 0, "RF joined");
    CHECK(strcmp(ss->name[0], "s1/1-8") == 0, "names kept with range");
  }
  sl_seqset_destroy(ss);
  ss = parse("# STOCKHOLM 1.0\ns1 ACDE\ns2 ACDE\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "'//'"), "missing //: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse("# STOCKHOLM 1.0\ns1 ACDE\n\ns3 ACDE\n//\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "line 4") && strstr(err.msg, "first block"), "new name in block 2: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse("# STOCKHOLM 1.0\ns1 ACDE\ns1 ACDE\n//\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "twice"), "repeated in block: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse("# STOCKHOLM 1.0\ns1 ACDE\ns2 ACD\n//\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "same length"), "ragged stockholm: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse("# STOCKHOLM 1.0\ns1 ACDE\n//\n# STOCKHOLM 1.0\ns1 ACDE\n//\n", SL_FMT_AUTO, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "second alignment"), "two alignments: %s", err.msg);
  sl_seqset_destroy(ss);
  ss = parse(">a\nAC\n", SL_FMT_STOCKHOLM, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "STOCKHOLM"), "forced stockholm on fasta: %s", err.msg);
  sl_seqset_destroy(ss);

  CHECK(sl_format_parse("sto") == SL_FMT_STOCKHOLM && sl_format_parse("x") == -1, "format names");
  return TAP_DONE();
}
