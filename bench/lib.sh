# bench/lib.sh - the timing protocol every speed benchmark in bench/ uses.
# Sourced, not run. Why it exists: a 2-core machine shared with another job
# flatters whichever program copes better with contention (issue 17 found a
# 2.5x claim that was 1.43x on an idle machine), so a timing here is only
# quoted with the state of the machine it was taken on.
#
# The protocol:
#   1. Before the first timing, the 1-minute load average must be below
#      BENCH_MAX_LOAD (0.3); bench_wait_idle waits for it up to
#      BENCH_WAIT_S seconds (default 600) and otherwise says BUSY.
#   2. Before each later timing, the 1-minute load average still carries the
#      previous timing of the same run (it decays over minutes), so the check
#      there is direct: the share of CPU time used by anything during the last
#      BENCH_QUIET_S seconds (from /proc/stat) must be below BENCH_MAX_BUSY
#      (5%). Every row records both numbers.
#   3. Tools take turns within each repetition and the order rotates between
#      repetitions (a slow drift hits every tool alike); at least 3
#      repetitions; tables report the median and the range.
#   4. Each table ends with the machine (CPU model, cores, memory, kernel,
#      compiler) and the date.
# Nothing here gates CI: `make bench` and `make validate` are never run by `make test`.

BENCH_MAX_LOAD=${BENCH_MAX_LOAD:-0.3}
BENCH_MAX_BUSY=${BENCH_MAX_BUSY:-5}
BENCH_QUIET_S=${BENCH_QUIET_S:-3}
BENCH_WAIT_S=${BENCH_WAIT_S:-600}
BENCH_REPS=${BENCH_REPS:-3}

bench_load() { cut -d' ' -f1 /proc/loadavg; }

# bench_busy SECONDS: percent of all CPU time that was not idle over the next SECONDS.
bench_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  sleep "${1:-$BENCH_QUIET_S}"
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a, x, " "); split(b, y, " "); u = y[1] - x[1]; i = y[2] - x[2];
    printf "%.1f", ((u + i) > 0 ? 100 * u / (u + i) : 0)}'
}

# bench_wait_idle: step 1 of the protocol. Sets BENCH_IDLE (yes/no) and prints one line.
bench_wait_idle() {
  local t=0
  while awk -v l="$(bench_load)" -v m="$BENCH_MAX_LOAD" 'BEGIN{exit !(l >= m)}'; do
    [ "$t" -ge "$BENCH_WAIT_S" ] && break
    sleep 10; t=$((t + 10))
  done
  if awk -v l="$(bench_load)" -v m="$BENCH_MAX_LOAD" 'BEGIN{exit !(l < m)}'; then
    BENCH_IDLE=yes; echo "machine idle: load average $(cut -d' ' -f1-3 /proc/loadavg) (waited ${t} s)"
  else
    BENCH_IDLE=no; echo "MACHINE BUSY: load average $(cut -d' ' -f1-3 /proc/loadavg) after waiting ${t} s; every timing below is inflated by other work"
  fi
}

# bench_quiet: step 2. Waits (up to 60 s) for a quiet interval; prints "busy%".
bench_quiet() {
  local b t=0
  while :; do
    b=$(bench_busy)
    awk -v b="$b" -v m="$BENCH_MAX_BUSY" 'BEGIN{exit !(b < m)}' && break
    [ "$t" -ge 60 ] && break
    t=$((t + BENCH_QUIET_S))
  done
  echo "$b"
}

# bench_time TSV TOOL REP CMD...: one timing. Appends
#   tool rep seconds peak_KiB busy%_before load_before exit_status
# to TSV; the command's stdout/stderr go to $BENCH_OUT/TOOL.REP.{out,err}.
bench_time() {
  local tsv=$1 tool=$2 rep=$3; shift 3
  local busy load t0 t1 rc
  busy=$(bench_quiet); load=$(bench_load)
  t0=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$BENCH_OUT/$tool.$rep.mem" "$@" > "$BENCH_OUT/$tool.$rep.out" 2> "$BENCH_OUT/$tool.$rep.err"
  rc=$?
  t1=$EPOCHREALTIME
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$rep" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')" \
    "$(tail -1 "$BENCH_OUT/$tool.$rep.mem")" "$busy" "$load" "$rc" >> "$tsv"
}

# bench_rotate REP NAME...: the names rotated left by REP-1 (the order of turns in repetition REP).
bench_rotate() {
  local rep=$1; shift
  local n=$# k=$(( (rep - 1) % $# )) i
  local a=("$@")
  for ((i = 0; i < n; i++)); do echo "${a[$(( (i + k) % n ))]}"; done
}

# bench_stats TSV TOOL: "median min max median_peak_MiB max_busy% n failures" over the tool's rows.
bench_stats() {
  awk -F'\t' -v t="$2" '$1 == t {n++; s[n] = $3; m[n] = $4; if ($5 > b) b = $5; if ($7 != 0) f++}
    function med(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { if (!n) { print "- - - - - 0 0"; exit }
      lo = s[1]; hi = s[1]; for (i = 1; i <= n; i++) { if (s[i] < lo) lo = s[i]; if (s[i] > hi) hi = s[i] }
      ms = med(s, n); mm = med(m, n); printf "%.2f %.2f %.2f %.0f %.1f %d %d\n", ms, lo, hi, mm / 1024, b, n, f + 0 }' "$1"
}

# bench_machine: one line naming the machine, for the foot of every table.
bench_machine() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
    "$(awk '/MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)," \
    "$(${CC:-gcc} --version | head -1); $(date -u '+%Y-%m-%d %H:%M UTC')"
}
