#!/usr/bin/env bash
# bench/weights_vs_plmc.sh - sequence-weighting speed, memory and agreement:
# seqloop against plmc (https://github.com/debbiemarkslab/plmc, MIT).
#
# Usage: bench/weights_vs_plmc.sh [PLMC_DIR]        (or: PLMC_DIR=... bench/...)
#
# PLMC_DIR is a plmc source tree (it must hold src/weights.c). Nothing from it
# is copied into this repository: bench/plmc_weights_driver.c is compiled
# against it into a scratch directory outside the repository,
#   ${TMPDIR:-/tmp}/seqloop-bench-plmc
# with plmc's makefile flags plus OpenMP (-std=c99 -O3 -msse4.2 -fopenmp),
# once in single precision (-D USE_FLOAT, plmc's `make all-openmp32`) and once
# in double precision (`make all-openmp`). Without PLMC_DIR, seqloop alone is
# timed.
#
# For each alignment (data dir: ../shared/data beside the repository, or
# $SEQLOOP_DATA):
#   dhfr    dhfr/DHFR.a2m                          focus DYR_ECOLI
#   kunitz  kunitz_pf00014/PF00014_mgap6.fasta.gz  no focus (all columns)
#   ww      ww_pf00397/PF00397_WW_pfam_full.fasta  no focus (all columns)
# it runs
#   plmc:    OMP_NUM_THREADS=$THREADS plmc_weights_driver -t 0.2 [-f FOCUS] -o W ALN
#            (plmc cannot read gzip: kunitz is decompressed into the scratch
#            directory first, outside the timing)
#   seqloop: ./seqloop weights --convention plmc --theta 0.2 -t $THREADS
#            [--focus FOCUS] --plmc-format -o W ALN       (gzip read directly)
# $REPS times each (default 3; the tools take turns within each repetition,
# so load changes hit them alike) under /usr/bin/time -f '%e %M' and reports
# the medians of wall seconds and peak RSS. Wall seconds are taken from bash's
# EPOCHREALTIME around the command (microseconds; /usr/bin/time's %e only has
# 10 ms steps) and fall back to %e on shells without it.
#
# Both weight files have one line per input record in input order, 0 for the
# rows that were dropped (plmc drops rows with a character outside its
# alphabet), so max |dw| is a plain line-by-line comparison.
#
# Columns: "plmc s"/"seqloop s" are whole-process wall times (read, weigh,
# write); plmc's reweighting-only time (clock_gettime around
# MSAReweightSequences) is listed under the table. speed ratio = plmc s /
# seqloop s (> 1: seqloop is faster). "Neff plmc" is plmc's own sum (float
# accumulation in the f32 build); "Neff seqloop" is the sum of seqloop's file.
#
# Environment: PLMC_DIR, SEQLOOP_DATA, REPS (3), THREADS (2), THETA (0.2),
# PLMC_PRECISIONS ("float double"), CC (gcc), TMPDIR.
# Plain bash + awk; needs gcc and /usr/bin/time (Debian package `time`).

set -u
export LC_ALL=C

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT" || exit 1

PLMC_DIR=${1:-${PLMC_DIR:-}}
DATA=${SEQLOOP_DATA:-$REPO_ROOT/../shared/data}
REPS=${REPS:-3}
THREADS=${THREADS:-2}
THETA=${THETA:-0.2}
PLMC_PRECISIONS=${PLMC_PRECISIONS:-float double}
CC=${CC:-gcc}
BUILD=${TMPDIR:-/tmp}/seqloop-bench-plmc
SEQLOOP=./seqloop
TIMEBIN=/usr/bin/time

DATASETS=(
    "dhfr|dhfr/DHFR.a2m|DYR_ECOLI"
    "kunitz|kunitz_pf00014/PF00014_mgap6.fasta.gz|"
    "ww|ww_pf00397/PF00397_WW_pfam_full.fasta|"
)

say() { printf '%s\n' "$*" >&2; }

if [ ! -x "$TIMEBIN" ]; then
    say "error: $TIMEBIN is missing (Debian/Ubuntu: apt-get install -y time)"
    exit 1
fi
mkdir -p "$BUILD" || exit 1

# ---------------------------------------------------------------- plmc build
HAVE_PLMC=0
PLMC_NOTE=""
declare -A DRIVER=()
if [ -z "$PLMC_DIR" ] || [ ! -f "$PLMC_DIR/src/weights.c" ]; then
    PLMC_NOTE="skipped: no plmc source tree given (set PLMC_DIR)"
    echo "$PLMC_NOTE"
else
    PLMC_DIR=$(cd "$PLMC_DIR" && pwd)
    P=$PLMC_DIR/src
    for prec in $PLMC_PRECISIONS; do
        def=""
        [ "$prec" = float ] && def="-D USE_FLOAT"
        out=$BUILD/plmc_weights_driver-$prec
        say "building $out"
        # shellcheck disable=SC2086
        if "$CC" -std=c99 -O3 -msse4.2 -fopenmp $def -I"$P/include" \
               "$REPO_ROOT/bench/plmc_weights_driver.c" \
               "$P/lib/twister.c" "$P/lib/lbfgs.c" "$P/plm.c" \
               "$P/inference.c" "$P/weights.c" -lm -o "$out" \
               >"$BUILD/build-$prec.log" 2>&1; then
            DRIVER[$prec]=$out
            HAVE_PLMC=1
        else
            say "error: building the plmc driver ($prec) failed:"
            tail -n 20 "$BUILD/build-$prec.log" >&2
        fi
    done
    if [ "$HAVE_PLMC" = 0 ]; then
        PLMC_NOTE="skipped: the plmc driver did not build (see $BUILD/build-*.log)"
        echo "$PLMC_NOTE"
    fi
fi

HAVE_SEQLOOP=1
if [ ! -x "$SEQLOOP" ]; then
    HAVE_SEQLOOP=0
    echo "skipped: $SEQLOOP is not built (run make)"
fi

# ------------------------------------------------------------------ helpers
median() { # numbers on stdin -> median
    sort -g | awk '{v[NR]=$1} END{ if (NR==0) {print "nan"; exit}
        if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}

# run_once TAG CMD... : runs CMD once under /usr/bin/time; its stdout/stderr
# go to $BUILD/TAG.out / TAG.err (the last run's are kept). Appends the wall
# seconds, peak RSS (KB) and any plmc_weights_seconds= value to the lists
# SECS[TAG], KBS[TAG], INNER[TAG]; RC[TAG] keeps the last non-zero status.
declare -A SECS=() KBS=() INNER=() RC=()
run_once() {
    local tag=$1; shift
    local t0 t1 rc v last
    t0=${EPOCHREALTIME:-}
    "$TIMEBIN" -f '%e %M' -o "$BUILD/$tag.time" -- "$@" \
        >"$BUILD/$tag.out" 2>"$BUILD/$tag.err"
    rc=$?
    t1=${EPOCHREALTIME:-}
    [ "$rc" != 0 ] && RC[$tag]=$rc
    last=$(tail -n 1 "$BUILD/$tag.time")
    if [ -n "$t0" ] && [ -n "$t1" ]; then
        SECS[$tag]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b-a}') "
    else
        SECS[$tag]+="${last%% *} "
    fi
    KBS[$tag]+="${last##* } "
    v=$(sed -n 's/^plmc_weights_seconds=\([^ ]*\).*/\1/p' "$BUILD/$tag.out")
    [ -n "$v" ] && INNER[$tag]+="$v "
    return 0
}

# summarize TAG: sets M_RC (0 if every run succeeded), M_SEC_RAW, M_SEC
# (3 decimals), M_MIB, M_INNER ("-" if the command printed none): medians.
summarize() {
    local tag=$1
    M_RC=${RC[$tag]:-0}
    M_SEC_RAW=$(tr ' ' '\n' <<<"${SECS[$tag]:-}" | grep . | median)
    M_SEC=$(awk -v x="$M_SEC_RAW" 'BEGIN{printf "%.3f", x}')
    M_MIB=$(tr ' ' '\n' <<<"${KBS[$tag]:-}" | grep . | median |
            awk '{printf "%.1f", $1/1024}')
    M_INNER="-"
    if [ -n "${INNER[$tag]:-}" ]; then
        M_INNER=$(tr ' ' '\n' <<<"${INNER[$tag]}" | grep . | median |
                  awk '{printf "%.3f", $1}')
    fi
}

kv() { # KEY LINE -> value of KEY=value in LINE
    sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"
}

sum_file() { awk '{s += $1} END{printf "%.3f", s}' "$1"; }

maxdiff() { # FILE_A FILE_B -> max |a-b| over lines, or a reason
    local na nb
    na=$(wc -l <"$1"); nb=$(wc -l <"$2")
    if [ "$na" != "$nb" ]; then echo "n/a ($na vs $nb lines)"; return; fi
    paste "$1" "$2" | awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d}
        END{printf "%.2e", m}'
}

nrecords() { # number of FASTA records, gzip or plain
    case $1 in
        *.gz) gzip -dc -- "$1" | grep -c '^>' ;;
        *) grep -c '^>' -- "$1" ;;
    esac
}

ncols() { # FILE [FOCUS]: columns plmc keeps (all, or the focus row's
          # non-lowercase, non-gap columns; focus = first name prefix match)
    local cat=cat
    case $1 in *.gz) cat="gzip -dc" ;; esac
    $cat -- "$1" | awk -v f="${2:-}" '
        { sub(/\r$/, "") }
        /^>/ { if (seen) exit; name = substr($0, 2)
               take = (f == "" || substr(name, 1, length(f)) == f); next }
        take { s = s $0; seen = 1 }
        END { if (f == "") { print length(s); exit }
              gsub(/[a-z.-]/, "", s); print length(s) }'
}

fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }'; }

label_of() { # PREC -> table label suffix
    case $1 in float) echo "plmc f32" ;; double) echo "plmc f64" ;; *) echo "plmc $1" ;; esac
}

# --------------------------------------------------------------------- runs
ROWS=()
NOTES=()
echo "# weights: plmc vs seqloop  (theta $THETA, $THREADS threads, median of $REPS interleaved runs)"
echo "host: $(uname -m), $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null), $("$CC" --version | head -n 1); load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
if [ "$HAVE_PLMC" = 1 ]; then
    echo "plmc: $PLMC_DIR $(git -C "$PLMC_DIR" rev-parse --short HEAD 2>/dev/null)"
fi
if [ "$HAVE_SEQLOOP" = 1 ]; then
    echo "seqloop: $REPO_ROOT $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null)"
fi
echo

for entry in "${DATASETS[@]}"; do
    IFS='|' read -r name rel focus <<<"$entry"
    aln=$DATA/$rel
    if [ ! -f "$aln" ]; then
        echo "$name: skipped: data absent ($aln)"
        continue
    fi
    N=$(nrecords "$aln")
    L=$(ncols "$aln" "$focus")
    focus_plmc=(); focus_seq=()
    if [ -n "$focus" ]; then focus_plmc=(-f "$focus"); focus_seq=(--focus "$focus"); fi

    # plmc reads plain text only
    paln=$aln
    if [ "$HAVE_PLMC" = 1 ]; then
        case $aln in
            *.gz)
                paln=$BUILD/data/$(basename "${aln%.gz}")
                mkdir -p "$BUILD/data"
                if [ ! -s "$paln" ] || [ "$aln" -nt "$paln" ]; then
                    gzip -dc -- "$aln" >"$paln.tmp" && mv "$paln.tmp" "$paln"
                fi ;;
        esac
    fi

    # Interleave the tools within each repetition, so that a change in
    # machine load hits all of them alike.
    s_w=$BUILD/$name.seqloop.w
    for ((rep = 1; rep <= REPS; rep++)); do
        if [ "$HAVE_SEQLOOP" = 1 ]; then
            say "seqloop: $name ($rep/$REPS)"
            run_once "$name.seqloop" "$SEQLOOP" weights --convention plmc \
                --theta "$THETA" -t "$THREADS" "${focus_seq[@]}" \
                --plmc-format -o "$s_w" "$aln"
        fi
        [ "$HAVE_PLMC" = 1 ] || continue
        for prec in $PLMC_PRECISIONS; do
            [ -n "${DRIVER[$prec]:-}" ] || continue
            say "plmc ($prec): $name ($rep/$REPS)"
            run_once "$name.plmc-$prec" env OMP_NUM_THREADS="$THREADS" \
                "${DRIVER[$prec]}" -t "$THETA" "${focus_plmc[@]}" \
                -o "$BUILD/$name.plmc-$prec.w" "$paln"
        done
    done

    s_sec="-"; s_raw=0; s_mib="-"; s_neff="-"
    if [ "$HAVE_SEQLOOP" = 1 ]; then
        summarize "$name.seqloop"
        if [ "$M_RC" = 0 ] && [ -f "$s_w" ]; then
            s_sec=$M_SEC; s_raw=$M_SEC_RAW; s_mib=$M_MIB; s_neff=$(sum_file "$s_w")
        else
            s_sec="failed (rc $M_RC)"; s_w=""
            NOTES+=("$name seqloop failed: $(tail -n 3 "$BUILD/$name.seqloop.err" | tr '\n' ' ')")
        fi
    else
        s_w=""
    fi

    if [ "$HAVE_PLMC" = 0 ]; then
        ROWS+=("| $name | $N | $L | - | - | $s_sec | $s_mib | - | - | $s_neff | - |")
        continue
    fi

    for prec in $PLMC_PRECISIONS; do
        [ -n "${DRIVER[$prec]:-}" ] || continue
        label="$name ($(label_of "$prec"))"
        p_w=$BUILD/$name.plmc-$prec.w
        summarize "$name.plmc-$prec"
        if [ "$M_RC" != 0 ]; then
            ROWS+=("| $label | $N | $L | failed (rc $M_RC) | - | $s_sec | $s_mib | - | - | $s_neff | - |")
            NOTES+=("$name plmc-$prec failed: $(tail -n 3 "$BUILD/$name.plmc-$prec.err" | tr '\n' ' ')")
            continue
        fi
        line=$(grep '^plmc_weights_seconds=' "$BUILD/$name.plmc-$prec.out" | tail -n 1)
        p_neff=$(awk -v x="$(kv neff "$line")" 'BEGIN{printf "%.3f", x}')
        p_nseqs=$(kv nseqs "$line"); L=$(kv nsites "$line")
        Ncell=$N
        [ "$p_nseqs" != "$N" ] && Ncell="$N ($p_nseqs kept)"
        ratio="-"; dw="-"
        if [ -n "$s_w" ]; then
            ratio=$(fmt_ratio "$M_SEC_RAW" "$s_raw")
            dw=$(maxdiff "$p_w" "$s_w")
        fi
        ROWS+=("| $label | $Ncell | $L | $M_SEC | $M_MIB | $s_sec | $s_mib | $ratio | $p_neff | $s_neff | $dw |")
        NOTES+=("$name plmc-$prec: MSAReweightSequences alone (median): $M_INNER s")
    done
done

echo "| alignment | N | L | plmc s | plmc MiB | seqloop s | seqloop MiB | speed ratio | Neff plmc | Neff seqloop | max abs dw |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for r in "${ROWS[@]}"; do echo "$r"; done
echo
[ -n "$PLMC_NOTE" ] && echo "$PLMC_NOTE"
for n in "${NOTES[@]}"; do echo "- $n"; done
echo "- scratch files (weights, logs): $BUILD"
