/* test_base.c: atomic output files, statuses, allocation overflow. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seqloop/base.h"
#include "tap.h"

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (!d) return -1;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))) n++;
  closedir(d);
  return n;
}

int main(void) {
  sl_error err;
  char dir[] = "/tmp/seqloop-btest.XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char path[256];
  snprintf(path, sizeof path, "%s/out.txt", dir);

  /* Commit: the file appears with the content; no temporary remains. */
  sl_outfile *of = NULL;
  int st = sl_outfile_open(path, &of, &err);
  CHECK(st == SL_OK, "open");
  fputs("hello\n", sl_outfile_fp(of));
  struct stat sb;
  CHECK(stat(path, &sb) != 0, "nothing at the destination before commit");
  st = sl_outfile_commit(of, &err);
  CHECK(st == SL_OK && stat(path, &sb) == 0 && sb.st_size == 6, "committed file in place");
  CHECK(count_entries(dir) == 1, "no temporary left after commit");

  /* Abort: the old file is untouched, the temporary is gone. */
  st = sl_outfile_open(path, &of, &err);
  fputs("partial", sl_outfile_fp(of));
  sl_outfile_abort(of);
  CHECK(stat(path, &sb) == 0 && sb.st_size == 6, "abort keeps the previous file");
  CHECK(count_entries(dir) == 1, "no temporary left after abort");
  sl_outfile_abort(NULL);

  /* Unwritable destination. */
  st = sl_outfile_open("/nonexistent-dir/x", &of, &err);
  CHECK(st == SL_EIO && strstr(err.msg, "cannot create output file /nonexistent-dir/x"), "unwritable: %s", err.msg);

  /* Exit codes and overflow checks. */
  CHECK(sl_exit_code(SL_OK) == 0 && sl_exit_code(SL_EINPUT) == 1 && sl_exit_code(SL_EIO) == 1 &&
        sl_exit_code(SL_EUSAGE) == 2 && sl_exit_code(SL_ENOMEM) == 3 && sl_exit_code(SL_EINTERNAL) == 3,
        "exit codes");
  CHECK(sl_malloc(SIZE_MAX / 2, 4) == NULL, "size overflow refused");
  CHECK(sl_fail(&err, SL_EINPUT, "x %d", 3) == SL_EINPUT && strcmp(err.msg, "x 3") == 0, "sl_fail formats");
  unlink(path);
  rmdir(dir);
  return TAP_DONE();
}
