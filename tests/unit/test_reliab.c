/* test_reliab.c: issue 18's structural checks that an e2e script cannot
 * make without timing: the external oracle's answer reader examines each
 * byte once (linear; the old reader rescanned its whole buffer after every
 * 4 KiB read, quadratic in the answer's length), and its framing rules. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "design/oracle_ext.h"
#include "seqloop/design.h"

/* Write `head`, then `blanks` spaces, then `tail` into a pipe from a child
 * process; return the read end. */
static int feeder(const char *head, size_t blanks, const char *tail, pid_t *ret_pid) {
  int p[2];
  if (pipe(p)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    static char chunk[1 << 16];
    memset(chunk, ' ', sizeof chunk);
    if (write(p[1], head, strlen(head)) < 0) _exit(1);
    while (blanks > 0) {
      size_t n = blanks < sizeof chunk ? blanks : sizeof chunk;
      ssize_t w = write(p[1], chunk, n);
      if (w <= 0) _exit(1);
      blanks -= (size_t)w;
    }
    if (write(p[1], tail, strlen(tail)) < 0) _exit(1);
    _exit(0);
  }
  close(p[1]);
  *ret_pid = pid;
  return p[0];
}

static void test_linear(void) {
  const size_t B = 50u * 1000 * 1000;
  const char *head = "{\"id\": 3, \"values\": [1.5, null", *tail = "]}\n";
  pid_t pid;
  int fd = feeder(head, B, tail, &pid);
  sl_ext_reader r = {0};
  size_t len = 0;
  int st = sl_ext_read_line(&r, fd, 600, &len);
  size_t total = strlen(head) + B + strlen(tail);
  CHECK(st == SL_EXT_LINE && len == total - 1, "a 50 MB answer is read as one line (%zu bytes)", len);
  /* The structural bound: every byte searched for the newline exactly once. */
  CHECK(r.examined == total, "each byte examined once: %llu examined for %zu read",
        (unsigned long long)r.examined, total);
  CHECK(r.cap <= 2 * total + (1u << 20), "buffer within 2x the answer (%zu for %zu)", r.cap, total);
  double y[2] = {0, 0};
  char why[256] = "";
  CHECK(sl_ext_parse_answer(r.buf, len, r.len - len - 1, 3, 2, y, why, sizeof why) == 0 && y[0] == 1.5 && isnan(y[1]),
        "its values parse (1.5, null) %s", why);
  close(fd);
  waitpid(pid, NULL, 0);
  sl_ext_reader_free(&r);
}

static void test_framing(void) {
  double y[2];
  char why[256];
  const char *two = "{\"values\": [1]}\n{\"values\": [2]}\n";
  pid_t pid;
  int fd = feeder(two, 0, "", &pid);
  waitpid(pid, NULL, 0); /* both lines are in the pipe before the read */
  sl_ext_reader r = {0};
  size_t len = 0;
  int st = sl_ext_read_line(&r, fd, 10, &len);
  CHECK(st == SL_EXT_LINE && r.len - len - 1 == 16, "the bytes after the first line are kept (%zu)", r.len - len - 1);
  CHECK(sl_ext_parse_answer(r.buf, len, r.len - len - 1, 1, 1, y, why, sizeof why) != 0 &&
        strstr(why, "16 bytes after its answer"), "and refused: %s", why);
  close(fd);
  sl_ext_reader_free(&r);
  struct { const char *line; uint64_t id; int64_t n; int ok; const char *msg; } cases[] = {
    {"{\"id\": 2, \"values\": [1, 2]}", 2, 2, 1, ""},
    {"{\"values\": [1, null]}", 9, 2, 1, ""},                     /* no id: accepted (protocol v1 programs) */
    {"{\"id\": 1, \"values\": [1, 2]}", 2, 2, 0, "answered id 1 to request 2"},
    {"{\"id\": \"2\", \"values\": [1, 2]}", 2, 2, 0, "answered id \"2\""},
    {"{\"values\": [1, 2]} x", 1, 2, 0, "expected a line"},
    {"{\"values\": [1e101, 2]}", 1, 2, 0, "value 1 is not a finite number"},
    {"{\"values\": [1]}", 1, 2, 0, "1 values for 2 sequences"},
    {"[1, 2]", 1, 2, 0, "expected a line"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    why[0] = '\0';
    int rc = sl_ext_parse_answer(cases[k].line, strlen(cases[k].line), 0, cases[k].id, cases[k].n, y, why, sizeof why);
    CHECK((rc == 0) == cases[k].ok && strstr(why, cases[k].msg), "answer %s for request %llu: %s", cases[k].line,
          (unsigned long long)cases[k].id, rc ? why : "accepted");
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  test_linear();
  test_framing();
  return TAP_DONE();
}
