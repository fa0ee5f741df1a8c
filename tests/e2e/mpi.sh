# tests/e2e/mpi.sh: fits across MPI ranks (make MPI=1; docs/scale.md, "MPI").
# `mpirun -np K` of the MPI binary writes, byte for byte, the model file of the
# default build's one-process fit, for potts, ar and profile, K = 1, 2, 3 (3:
# an uneven split, oversubscribed on small machines) and 1 or 2 threads; only
# rank 0 writes; a rank killed with kill -9 mid-fit fails the job with mpirun's
# message and leaves no model file, not even a temporary one. Builds the MPI
# binary next to the library under test ($B/mpi/seqloop: only cli/dist.c is
# compiled). Skips when Open MPI is absent.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v mpicc > /dev/null 2>&1 || ! command -v mpirun > /dev/null 2>&1; then
  skip "mpi: OpenMPI absent (no mpicc/mpirun; scripts/setup.sh installs openmpi-bin and libopenmpi-dev)"
  finish
fi
# The build under test: the sanitizer build's binary is build-san/seqloop.
B=build; SAN=
case "$BIN" in */build-san/*) B=build-san; SAN=address,undefined ;; esac
MPIBIN=$ROOT/$B/mpi/seqloop
if ! make -C "$ROOT" -j2 MPI=1 ${SAN:+SAN=$SAN} "$B/mpi/seqloop" > "$TMP/make.log" 2>&1; then
  nok "mpi: make MPI=1 $B/mpi/seqloop failed: $(tail -5 "$TMP/make.log")"
  finish
fi
ok "mpi: make MPI=1 builds $B/mpi/seqloop"
check "mpi: the default build links no MPI library" bash -c "! ldd '$BIN' | grep -qi libmpi"
check "mpi: the MPI build links libmpi" bash -c "ldd '$MPIBIN' | grep -qi libmpi"

# Open MPI refuses root unless told (CI runs as root); shared-memory transport
# without cross-memory attach (containers often forbid ptrace).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
# The sanitizer build: Open MPI's own allocations outlive MPI_Finalize.
[ -n "$SAN" ] && export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
# mpi_fit NP THREADS ARGS...: the MPI binary across NP ranks, THREADS threads each
mpi_fit() {
  local np=$1 t=$2; shift 2
  OMP_NUM_THREADS=$t timeout 300 mpirun --oversubscribe --bind-to none -np "$np" -x OMP_NUM_THREADS \
    ${ASAN_OPTIONS:+-x ASAN_OPTIONS} "$MPIBIN" "$@"
}

# same_fits NAME ALIGNMENT FIT-ARGS...: the default build's one-process fit
# (1 thread), then each RANKS/THREADS of $RUNS (default: 1, 2, 3 ranks x 1, 2
# threads); argv is the same in every run (the model file records it):
# threads come from OMP_NUM_THREADS, and each run writes out.model in the
# same folder.
same_fits() {
  local name=$1 aln=$2 runs=${RUNS:-1/1 1/2 2/1 2/2 3/1 3/2}; shift 2
  local d=$TMP/$name
  mkdir -p "$d"
  ( cd "$d" && OMP_NUM_THREADS=1 "$BIN" fit -q "$@" -o out.model "$aln" 2> "$TMP/$name.ref.log" &&
    mv out.model ref.model ) ||
    { nok "mpi: $name: the one-process fit failed"; return; }
  local bad="" np t r
  for r in $runs; do
    np=${r%/*}; t=${r#*/}
    rm -f "$d/out.model"
    if ! ( cd "$d" && mpi_fit "$np" "$t" fit -q "$@" -o out.model "$aln" ) > "$d/run.log" 2>&1; then
      bad="$bad np$np/t$t:exit"; continue
    fi
    cmp -s "$d/out.model" "$d/ref.model" || bad="$bad np$np/t$t:differs"
  done
  if [ -z "$bad" ]; then ok "mpi: $name: mpirun -np/threads $runs: the one-process model file, byte for byte"
  else nok "mpi: $name: not identical to the one-process fit:$bad ($(tail -3 "$d/run.log"))"; fi
  # rank 0 alone writes: the model, its sidecar, the reference; nothing else
  local files
  files=$(cd "$d" && ls -A | sort | tr '\n' ' ')
  check "mpi: $name: only rank 0's outputs in the folder ($files)" test "$files" = "out.model out.model.prov.json ref.model run.log "
}

# A made-up family: 200 rows of 40 columns around one sequence (always run).
awk 'BEGIN { srand(5); a = "ACDEFGHIKLMNPQRSTVWY-"; b = "";
  for (i = 0; i < 40; i++) b = b substr(a, 1 + int(rand() * 20), 1);
  for (n = 0; n < 200; n++) { s = ""; for (i = 1; i <= 40; i++) { c = substr(b, i, 1);
      if (rand() < 0.3) c = substr(a, 1 + int(rand() * 21), 1); s = s c }
    if (n % 7 == 3) s = prev; prev = s; printf(">s%d\n%s\n", n, s) } }' > "$TMP/syn.fa"
same_fits syn-potts "$TMP/syn.fa" --model potts -m 15
RUNS="2/1 3/2" same_fits syn-potts-gaps-eve "$TMP/syn.fa" --model potts -g --convention eve -m 10
same_fits syn-ar "$TMP/syn.fa" --model ar
same_fits syn-profile "$TMP/syn.fa" --model profile

# ranks > 0 are quiet: one summary, from rank 0
( cd "$TMP" && mpi_fit 3 1 fit --model profile -o p3.model syn.fa ) > "$TMP/p3.log" 2>&1
check "mpi: one summary for 3 ranks (ranks > 0 print nothing but errors)" \
  test "$(grep -c 'weights: plmc, Neff' "$TMP/p3.log")" = 1

# An error on every rank: the job fails with the library's message and exit code.
( cd "$TMP" && mpi_fit 2 1 fit -q --model potts -o none.model absent.fa ) > "$TMP/absent.log" 2>&1; rc=$?
check "mpi: a missing alignment: exit 1, the message named by rank" \
  bash -c "[ $rc -eq 1 ] && grep -q 'rank 1 of 2): error: cannot open absent.fa' '$TMP/absent.log' && [ ! -e '$TMP/none.model' ]"
( cd "$TMP" && mpi_fit 2 1 fit -q --model lor -o lor.model syn.fa ) > "$TMP/lor.log" 2>&1; rc=$?
check "mpi: lor across ranks is refused (exit 2, says which models run across ranks)" \
  bash -c "[ $rc -eq 2 ] && grep -q 'fits across ranks: --model potts, ar or profile' '$TMP/lor.log'"
( cd "$TMP" && OMP_NUM_THREADS=1 timeout 300 mpirun --oversubscribe -np 2 "$BIN" fit -q --model potts -o d.model syn.fa ) > "$TMP/def.log" 2>&1; rc=$?
check "mpi: the default build under mpirun refuses (exit 2: built without MPI)" \
  bash -c "[ $rc -eq 2 ] && grep -q 'built without MPI: build it with make MPI=1' '$TMP/def.log' && [ ! -e '$TMP/d.model' ]"

# Ranks of one fit must run one command on one input (Open MPI's MPMD syntax
# gives each rank its own command line; -wdir its own folder).
( cd "$TMP" && OMP_NUM_THREADS=1 timeout 300 mpirun --oversubscribe -np 1 "$MPIBIN" fit -q --model profile \
    -o a.model syn.fa : -np 1 "$MPIBIN" fit -q --model profile -o b.model syn.fa ) > "$TMP/mpmd.log" 2>&1; rc=$?
check "mpi: ranks with different command lines: exit 2, said, no model" \
  bash -c "[ $rc -eq 2 ] && grep -q 'ranks differ in their command lines' '$TMP/mpmd.log' && [ ! -e '$TMP/a.model' ]"
mkdir -p "$TMP/w1" "$TMP/w2"
cp "$TMP/syn.fa" "$TMP/w1/in.fa"
sed '2s/^./W/' "$TMP/syn.fa" > "$TMP/w2/in.fa"
( cd "$TMP" && OMP_NUM_THREADS=1 timeout 300 mpirun --oversubscribe -np 1 -wdir w1 "$MPIBIN" fit -q --model profile \
    -o o.model in.fa : -np 1 -wdir w2 "$MPIBIN" fit -q --model profile -o o.model in.fa ) > "$TMP/wdir.log" 2>&1; rc=$?
check "mpi: ranks reading different alignments under one path: exit 2, said, no model" \
  bash -c "[ $rc -eq 2 ] && grep -q 'ranks differ in their alignments (SHA-256)' '$TMP/wdir.log' && [ ! -e '$TMP/w1/o.model' ]"

# kill -9 of rank 1 mid-fit: a long fit (no convergence test), killed once rank
# 0 has reported iteration 3; rank 1 is found by its environment.
awk 'BEGIN { srand(9); a = "ACDEFGHIKLMNPQRSTVWY-"; b = "";
  for (i = 0; i < 50; i++) b = b substr(a, 1 + int(rand() * 20), 1);
  for (n = 0; n < 600; n++) { s = ""; for (i = 1; i <= 50; i++) { c = substr(b, i, 1);
      if (rand() < 0.4) c = substr(a, 1 + int(rand() * 21), 1); s = s c } printf(">s%d\n%s\n", n, s) } }' > "$TMP/long.fa"
mkdir -p "$TMP/kill"
mark="seqloop-mpi-test-$$"
( cd "$TMP/kill" && SEQLOOP_TEST_MARK=$mark OMP_NUM_THREADS=1 timeout 300 mpirun --oversubscribe -np 2 \
    -x OMP_NUM_THREADS -x SEQLOOP_TEST_MARK ${ASAN_OPTIONS:+-x ASAN_OPTIONS} "$MPIBIN" fit --model potts \
    -m 1000000 --epsilon 1e-30 -o killed.model ../long.fa ) > "$TMP/kill.log" 2>&1 &
job=$!
for _ in $(seq 1 1500); do grep -q '^3	' "$TMP/kill.log" 2> /dev/null && break; sleep 0.2; done
victim=
for e in /proc/[0-9]*/environ; do
  if { tr '\0' '\n' < "$e"; } 2> /dev/null | grep -qx "SEQLOOP_TEST_MARK=$mark" &&
     { tr '\0' '\n' < "$e"; } 2> /dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then
    victim=${e#/proc/}; victim=${victim%/environ}
  fi
done
if [ -z "$victim" ]; then
  nok "mpi: kill -9: rank 1 not found (log: $(tail -3 "$TMP/kill.log"))"
else
  kill -9 "$victim"
fi
wait "$job"; rc=$?
check "mpi: rank 1 killed with kill -9 mid-fit: the job fails (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "mpi: ... and says which rank died and how" grep -Eq 'rank 1 .*(signal 9|Killed)' "$TMP/kill.log"
check "mpi: ... and leaves no model file, not even a temporary one ($(ls -A "$TMP/kill" | tr '\n' ' '))" \
  test -z "$(ls -A "$TMP/kill")"

# Real data: the PDZ seed (Pfam PF00595).
PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
if CASE="mpi: PDZ" need "$PDZ"; then
  RUNS="1/2 2/1 3/2" same_fits pdz-potts "$PDZ" --model potts -m 20
  RUNS="2/2 3/1" same_fits pdz-ar "$PDZ" --model ar
  RUNS="2/1 3/2" same_fits pdz-profile "$PDZ" --model profile --preset proteingym --focus-first
fi
finish
