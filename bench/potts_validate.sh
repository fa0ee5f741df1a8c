#!/usr/bin/env bash
# bench/potts_validate.sh - accuracy of seqloop's Potts model against plmc
# (https://github.com/debbiemarkslab/plmc, MIT) on real data. Not a test, not a timing.
#
# Usage: PLMC_BIN=/path/to/plmc/builds bench/potts_validate.sh
#
# Environment:
#   PLMC_BIN      directory holding plmc-double and plmc-float (serial builds of plmc,
#                 `make all` / `make all32`). Unset: every plmc part prints
#                 'skipped: no plmc' and only seqloop's own numbers are produced.
#   SEQLOOP_DATA  real data (default ../shared/data beside the repository)
#   TMPDIR        scratch; everything goes to ${TMPDIR:-/tmp}/seqloop-potts-validate
#   STAGES        subset of "dhfr blat gb1 contacts report" (default: all, in that order)
#   FORCE=1       recompute outputs already present in the scratch directory (by
#                 default a step whose output exists is reused, so an interrupted run
#                 can be resumed; the results keep the first run's numbers and times)
#   BLAT_ITER     L-BFGS iterations for the BLAT_ECOLX fits (default 100)
#   GB1_ITER      L-BFGS iterations for the GB1 fits (default 50: plmc needs ~30 s per
#                 iteration single-threaded on 3,109 x 448)
#   RESULTS       markdown output (default bench/results/potts_validation.md)
#
# Heavy jobs run one at a time, single-threaded (seqloop -t 1, OMP_NUM_THREADS=1 and
# the serial plmc builds): the point is accuracy, not speed. Expect ~2.5 hours in all
# (plmc: DHFR 2 x 6 min, BLAT ~35 min, GB1 ~25 min; seqloop about the same or less).
# Peak memory: ~7 GB (GB1 fits).
#
# What is measured (see bench/results/potts_validation.md for the latest numbers):
#   1 dhfr: seqloop's objective at plmc-double's saved parameters after 1, 3, 20, 100
#     iterations (`seqloop fit --init X.params --evaluate`) vs plmc's printed fx;
#   2 dhfr: seqloop's own 100-iteration fit vs plmc-double and plmc-float;
#   3 dhfr: top-L contact overlap seqloop vs plmc, and plmc's -c file reproduced from
#     its parameters converted to a seqloop model;
#   4 blat, gb1: zero-shot Spearman of seqloop's model, of plmc's parameters (converted)
#     and of the profile model;
#   5 contacts: precision of seqloop models against structures (Pfam seeds, WW full).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SL=$ROOT/seqloop
PY=/usr/bin/python3
HELP=$ROOT/bench/potts_helper.py
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
DATA=$(cd "$DATA" 2>/dev/null && pwd || echo "$DATA")
PLMC_BIN=${PLMC_BIN:-}
WORK=${TMPDIR:-/tmp}/seqloop-potts-validate
STAGES=${STAGES:-dhfr blat gb1 contacts report}
FORCE=${FORCE:-0}
BLAT_ITER=${BLAT_ITER:-100}
GB1_ITER=${GB1_ITER:-50}
RESULTS=${RESULTS:-$ROOT/bench/results/potts_validation.md}
KV=$WORK/results.kv
CMDLOG=$WORK/commands.log

[ -x "$SL" ] || { echo "potts_validate: build seqloop first (make -j2)" >&2; exit 1; }
[ -d "$DATA" ] || { echo "potts_validate: skipped: no data at $DATA" >&2; exit 0; }
mkdir -p "$WORK"
touch "$KV" "$CMDLOG"

HAVE_PLMC=0
if [ -n "$PLMC_BIN" ] && [ -x "$PLMC_BIN/plmc-double" ] && [ -x "$PLMC_BIN/plmc-float" ]; then
    HAVE_PLMC=1
else
    echo "potts_validate: skipped: no plmc (set PLMC_BIN to a directory with plmc-double and plmc-float)" >&2
fi
export OMP_NUM_THREADS=1

log() { echo "potts_validate: $*" >&2; }
# kv KEY VALUE...: record a result (the last value of a key wins)
kv() { local k=$1; shift; printf '%s\t%s\n' "$k" "$*" >>"$KV"; }
getkv() { awk -F'\t' -v k="$1" '$1==k{v=$2} END{print v}' "$KV"; }

# step NAME OUTPUT CMD...: run CMD (stderr to $WORK/NAME.err; stdout to $STDOUT_TO if
# that is set, else $WORK/NAME.out) unless OUTPUT exists (FORCE=1: always); records
# NAME.wall_s, NAME.rss_mb and the command line (under section $SECTION).
SECTION=misc
STDOUT_TO=
step() {
    local name=$1 out=$2; shift 2
    local so=${STDOUT_TO:-$WORK/$name.out}
    local pretty="$*"
    [ -n "$STDOUT_TO" ] && [ "$STDOUT_TO" != /dev/null ] && pretty="$pretty > $STDOUT_TO"
    pretty="${pretty//$WORK\//}"
    pretty="${pretty//$DATA/\$DATA}"
    pretty="${pretty//$ROOT\//./}"
    [ -n "$PLMC_BIN" ] && pretty="${pretty//$PLMC_BIN\//}"
    pretty="${pretty//$PY /python3 }"
    grep -qxF "$SECTION	$name	$pretty" "$CMDLOG" || printf '%s\t%s\t%s\n' "$SECTION" "$name" "$pretty" >>"$CMDLOG"
    if [ -s "$out" ] && [ "$FORCE" != 1 ]; then
        log "$name: reusing $out"
        return 0
    fi
    log "$name: $pretty"
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$WORK/$name.time" "$@" >"$so" 2>"$WORK/$name.err"
    local t1=$EPOCHREALTIME
    kv "$name.wall_s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')"
    kv "$name.rss_mb" "$(awk '{printf "%.0f", $1/1024}' "$WORK/$name.time")"
}

# evaluate NAME PARAMS ARGS...: seqloop's objective at given parameters
evaluate() {
    local name=$1 params=$2; shift 2
    STDOUT_TO=$WORK/$name.out step "$name" "$WORK/$name.out" "$SL" fit --init "$params" --evaluate -t 1 -q "$@"
    kv "$name.objective" "$(awk '$1=="objective"{print $2}' "$WORK/$name.out")"
}

plmc_fx() { $PY "$HELP" fx "$WORK/$1.err" | awk '{print $2}'; }

# ---------------------------------------------------------------- dhfr
stage_dhfr() {
    SECTION=dhfr
    local A=$DATA/dhfr/DHFR.a2m
    [ -f "$A" ] || { log "dhfr: skipped: $A absent"; return 0; }
    local SLARGS=(-f DYR_ECOLI -g --lambda-h 0.01 --lambda-j 16 "$A")
    if [ $HAVE_PLMC = 1 ]; then
        for m in 1 3 20 100; do
            local extra=()
            [ $m = 100 ] && extra=(-c "$WORK/dhfr_plmcd_m$m.couplings")
            step "dhfr_plmcd_m$m" "$WORK/dhfr_plmcd_m$m.params" \
                "$PLMC_BIN/plmc-double" -o "$WORK/dhfr_plmcd_m$m.params" "${extra[@]}" \
                -le 16.0 -lh 0.01 -m $m -g -f DYR_ECOLI "$A"
            kv "dhfr_plmcd_m$m.fx" "$(plmc_fx dhfr_plmcd_m$m)"
            evaluate "dhfr_eval_plmcd_m$m" "$WORK/dhfr_plmcd_m$m.params" "${SLARGS[@]}"
        done
        step dhfr_plmcf_m100 "$WORK/dhfr_plmcf_m100.params" \
            "$PLMC_BIN/plmc-float" -o "$WORK/dhfr_plmcf_m100.params" -c "$WORK/dhfr_plmcf_m100.couplings" \
            -le 16.0 -lh 0.01 -m 100 -g -f DYR_ECOLI "$A"
        kv dhfr_plmcf_m100.fx "$(plmc_fx dhfr_plmcf_m100)"
        evaluate dhfr_eval_plmcf_m100 "$WORK/dhfr_plmcf_m100.params" "${SLARGS[@]}"
    fi
    step dhfr_sl_m100 "$WORK/dhfr_sl_m100.model" \
        "$SL" fit --model potts -f DYR_ECOLI -g --lambda-h 0.01 --lambda-j 16 -m 100 -t 1 \
        -o "$WORK/dhfr_sl_m100.model" "$A"
    kv dhfr_sl_m100.final "$($PY "$HELP" slfinal "$WORK/dhfr_sl_m100.err")"
    evaluate dhfr_eval_sl_m100 "$WORK/dhfr_sl_m100.model" "${SLARGS[@]}"
    # independent check: the project's numpy reference objective (tools/plm_ref.py) at
    # plmc's and seqloop's parameters (seqloop's exported to plmc's format)
    STDOUT_TO=/dev/null step dhfr_ingest "$WORK/dhfr_ingest.fa" "$SL" ingest -f DYR_ECOLI -o "$WORK/dhfr_ingest.fa" "$A"
    STDOUT_TO=/dev/null step dhfr_weights "$WORK/dhfr_weights.txt" "$SL" weights -f DYR_ECOLI --theta 0.2 -t 1 --plmc-format -o "$WORK/dhfr_weights.txt" "$A"
    awk '$1+0 > 0' "$WORK/dhfr_weights.txt" >"$WORK/dhfr_weights_kept.txt"   # dropped rows have weight 0
    STDOUT_TO=/dev/null step dhfr_sl_toplmc "$WORK/dhfr_sl_m100.params" "$SL" convert "$WORK/dhfr_sl_m100.model" --to plmc -o "$WORK/dhfr_sl_m100.params"
    local refs=(sl_m100)
    [ $HAVE_PLMC = 1 ] && refs+=(plmcd_m1 plmcd_m3 plmcd_m20 plmcd_m100 plmcf_m100)
    for p in "${refs[@]}"; do
        step dhfr_ref_$p "$WORK/dhfr_ref_$p.out" $PY "$ROOT/tools/plm_ref.py" "$WORK/dhfr_ingest.fa" \
            "$WORK/dhfr_weights_kept.txt" "$WORK/dhfr_$p.params" --gaps-missing --lambda-h 0.01 --lambda-j 16
        kv dhfr_ref_$p.objective "$(tail -n 1 "$WORK/dhfr_ref_$p.out")"
    done
    step dhfr_sl_contacts "$WORK/dhfr_sl_m100.contacts" \
        "$SL" contacts -m "$WORK/dhfr_sl_m100.model" --gauge raw -o "$WORK/dhfr_sl_m100.contacts"
    if [ $HAVE_PLMC = 1 ]; then
        # top-L overlap: seqloop numbers by focus residue, plmc by alignment column
        kv dhfr_topl_sl_vs_plmcd "$($PY "$HELP" topl "$WORK/dhfr_plmcd_m100.couplings" "$WORK/dhfr_sl_m100.contacts" "$A" DYR_ECOLI 159 seqloop)"
        kv dhfr_topl_sl_vs_plmcf "$($PY "$HELP" topl "$WORK/dhfr_plmcf_m100.couplings" "$WORK/dhfr_sl_m100.contacts" "$A" DYR_ECOLI 159 seqloop)"
        kv dhfr_topl_plmcf_vs_plmcd "$($PY "$HELP" topl2 "$WORK/dhfr_plmcd_m100.couplings" "$WORK/dhfr_plmcf_m100.couplings" 159)"
        for v in d f; do
            step dhfr_convert_plmc$v "$WORK/dhfr_plmc$v.model" \
                "$SL" convert "$WORK/dhfr_plmc${v}_m100.params" -o "$WORK/dhfr_plmc$v.model"
            step dhfr_plmc${v}_contacts "$WORK/dhfr_plmc$v.contacts" \
                "$SL" contacts -m "$WORK/dhfr_plmc$v.model" -o "$WORK/dhfr_plmc$v.contacts"
            kv dhfr_cmpcoup_plmc$v "$($PY "$HELP" cmpcoup "$WORK/dhfr_plmc${v}_m100.couplings" "$WORK/dhfr_plmc$v.contacts")"
        done
    fi
}

# ---------------------------------------------------------------- zero-shot
# zeroshot TAG A2M FOCUS ASSAY_CSV SCORE_COLUMN ITER LAMBDA_J
zeroshot() {
    local tag=$1 A=$2 focus=$3 assay=$4 col=$5 iter=$6 lj=$7
    SECTION=$tag
    local common=(-f "$focus" --theta 0.2)
    step ${tag}_sl "$WORK/${tag}_sl.model" \
        "$SL" fit --model potts --preset evcouplings "${common[@]}" -m "$iter" -t 1 -o "$WORK/${tag}_sl.model" "$A"
    kv ${tag}_sl.final "$($PY "$HELP" slfinal "$WORK/${tag}_sl.err")"
    kv ${tag}_sl.lambda_J "$(grep -o 'lambda_J [0-9.]*' "$WORK/${tag}_sl.err" | head -1 | awk '{print $2}')"
    kv ${tag}_sl.neff "$(grep -o 'Neff = [0-9.]*' "$WORK/${tag}_sl.err" | head -1 | awk '{print $3}')"
    step ${tag}_profile "$WORK/${tag}_profile.model" \
        "$SL" fit --model profile "${common[@]}" -t 1 -o "$WORK/${tag}_profile.model" "$A"
    for m in sl profile; do
        step ${tag}_score_$m "$WORK/${tag}_score_$m.csv" \
            "$SL" score -m "$WORK/${tag}_$m.model" --dms-score-column "$col" --skip-invalid \
            --metrics-json "$WORK/${tag}_score_$m.json" -o "$WORK/${tag}_score_$m.csv" "$assay"
        kv ${tag}_score_$m.spearman "$($PY "$HELP" json spearman "$WORK/${tag}_score_$m.json")"
        kv ${tag}_score_$m.summary "$(tail -n 2 "$WORK/${tag}_score_$m.err" | tr '\n' ' ')"
    done
    if [ $HAVE_PLMC = 1 ]; then
        step ${tag}_plmcd "$WORK/${tag}_plmcd.params" \
            "$PLMC_BIN/plmc-double" -o "$WORK/${tag}_plmcd.params" -le "$lj" -lh 0.01 -t 0.2 -m "$iter" -f "$focus" "$A"
        kv ${tag}_plmcd.fx "$($PY "$HELP" fx "$WORK/${tag}_plmcd.err")"
        kv ${tag}_plmcd.neff "$(grep -o 'Effective number of samples: [0-9.]*' "$WORK/${tag}_plmcd.err" | awk '{print $5}')"
        evaluate ${tag}_eval_plmcd "$WORK/${tag}_plmcd.params" --lambda-h 0.01 --lambda-j "$lj" "${common[@]}" "$A"
        evaluate ${tag}_eval_sl "$WORK/${tag}_sl.model" --lambda-h 0.01 --lambda-j "$lj" "${common[@]}" "$A"
        step ${tag}_convert_plmcd "$WORK/${tag}_plmcd.model" \
            "$SL" convert "$WORK/${tag}_plmcd.params" -o "$WORK/${tag}_plmcd.model"
        # the converted model keeps plmc's numbering (alignment column + start - 1):
        # the assay's focus-residue numbers are rewritten to it
        step ${tag}_renumber "$WORK/${tag}_assay_plmcnum.csv" \
            $PY "$HELP" renumber "$assay" "$A" "$focus" "$WORK/${tag}_assay_plmcnum.csv"
        kv ${tag}_renumber.out "$(cat "$WORK/${tag}_renumber.out")"
        step ${tag}_score_plmcd "$WORK/${tag}_score_plmcd.csv" \
            "$SL" score -m "$WORK/${tag}_plmcd.model" --dms-score-column "$col" --skip-invalid \
            --metrics-json "$WORK/${tag}_score_plmcd.json" -o "$WORK/${tag}_score_plmcd.csv" "$WORK/${tag}_assay_plmcnum.csv"
        kv ${tag}_score_plmcd.spearman "$($PY "$HELP" json spearman "$WORK/${tag}_score_plmcd.json")"
        kv ${tag}_score_plmcd.summary "$(tail -n 2 "$WORK/${tag}_score_plmcd.err" | tr '\n' ' ')"
        # and unrenumbered, as a user would do it
        step ${tag}_score_plmcd_raw "$WORK/${tag}_score_plmcd_raw.csv" \
            "$SL" score -m "$WORK/${tag}_plmcd.model" --dms-score-column "$col" --skip-invalid \
            --metrics-json "$WORK/${tag}_score_plmcd_raw.json" -o "$WORK/${tag}_score_plmcd_raw.csv" "$assay"
        kv ${tag}_score_plmcd_raw.summary "$(tail -n 2 "$WORK/${tag}_score_plmcd_raw.err" | tr '\n' ' ')"
        kv ${tag}_scorecorr_sl_plmcd "$($PY "$HELP" scorecorr "$WORK/${tag}_score_sl.csv" seqloop_score "$WORK/${tag}_score_plmcd.csv" seqloop_score)"
        # contacts of the two fits (raw gauge, gaps a state); plmc's numbering equals the
        # focus-residue numbering here (the focus rows have no gap columns; checked by renumber)
        for m in sl plmcd; do
            step ${tag}_contacts_$m "$WORK/${tag}_$m.contacts" \
                "$SL" contacts -m "$WORK/${tag}_$m.model" --gauge raw -o "$WORK/${tag}_$m.contacts"
        done
        local nres; nres=$($PY "$HELP" plmcmap "$A" "$focus" | wc -l)
        kv ${tag}_topl_sl_vs_plmcd "$($PY "$HELP" toplsl "$WORK/${tag}_plmcd.contacts" "$WORK/${tag}_sl.contacts" "$nres")"
    fi
}

stage_blat() {
    local A=$DATA/blat_ecolx/BLAT_ECOLX.a2m C=$DATA/blat_ecolx/BLAT_ECOLX_Ranganathan2015.csv
    [ -f "$A" ] && [ -f "$C" ] || { log "blat: skipped: data absent"; return 0; }
    # L = 253 focus columns, q = 21: lambda_J = 0.01 * 20 * 252
    zeroshot blat "$A" BLAT_ECOLX "$C" 2500 "$BLAT_ITER" 50.4
}

stage_gb1() {
    local A=$DATA/gb1/SPG1_STRSG_full_b0.1.a2m
    local S=$DATA/gb1/olson2014_gb1_single_mutants_counts.csv W=$DATA/gb1/olson2014_gb1_wild_type_counts.csv
    [ -f "$A" ] && [ -f "$S" ] && [ -f "$W" ] || { log "gb1: skipped: data absent"; return 0; }
    SECTION=gb1
    step gb1_csv "$WORK/gb1_csv.out" $PY "$HELP" gb1csv "$S" "$W" "$WORK/gb1_olson_singles.csv"
    kv gb1_csv.counts "$(cat "$WORK/gb1_csv.out")"
    # L = 448, q = 21: lambda_J = 0.01 * 20 * 447
    zeroshot gb1 "$A" SPG1_STRSG "$WORK/gb1_olson_singles.csv" fitness "$GB1_ITER" 89.4
}

# ---------------------------------------------------------------- contacts
# prec TAG ALN STRUCT CHAIN FOCUSARGS...
prec() {
    local tag=$1 aln=$2 st=$3 ch=$4; shift 4
    step ${tag}_fit "$WORK/${tag}.model" \
        "$SL" fit --model potts --preset evcouplings "$@" -t 1 -o "$WORK/${tag}.model" "$aln"
    kv ${tag}_fit.final "$($PY "$HELP" slfinal "$WORK/${tag}_fit.err")"
    for g in zerosum raw; do
        step ${tag}_$g "$WORK/${tag}_$g.json" \
            "$SL" contacts -m "$WORK/${tag}.model" --gauge $g --structure "$st" --chain "$ch" \
            --json "$WORK/${tag}_$g.json" -o "$WORK/${tag}_$g.contacts"
        kv ${tag}_$g.prec "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["L"], d["aligned_columns"], "%.3f" % d["identity"], *["%.3f" % d["precision_"+k] for k in ("L/10","L/5","L/2","L")])' "$WORK/${tag}_$g.json")"
        # independent precision (potts_helper.py: its own chain parsing, local alignment of
        # the focus to the chain, C-beta distances); meaningful where that alignment is clear
        step ${tag}_${g}_indep "$WORK/${tag}_${g}_indep.out" $PY "$HELP" precision "$WORK/${tag}_$g.contacts" "$st" "$ch"
        kv ${tag}_$g.indep "$(cat "$WORK/${tag}_${g}_indep.out")"
    done
}

stage_contacts() {
    SECTION=contacts
    local S=$DATA/pfam_seeds_contacts
    local fam st ch
    for x in "PF00072 3ilh A" "PF00512 3dge A" "PF00595 1be9 A" "PF00397 4rex A"; do
        set -- $x; fam=$1 st=$S/$2.cif ch=$3
        local aln=$S/${fam}_seed_hmmalign_no_inserts.fasta
        [ -f "$aln" ] && [ -f "$st" ] || { log "contacts $fam: skipped: data absent"; continue; }
        step ${fam}_bestfocus "$WORK/${fam}_bestfocus.out" $PY "$HELP" bestfocus "$aln" "$st" "$ch"
        local best; best=$(awk '{print $1}' "$WORK/${fam}_bestfocus.out")
        kv ${fam}_bestfocus "$(cat "$WORK/${fam}_bestfocus.out") $2 $ch"
        prec ${fam}_first "$aln" "$st" "$ch" --focus-first
        prec ${fam}_best "$aln" "$st" "$ch" -f "$best"
    done
    local W=$DATA/ww_pf00397/PF00397_WW_pfam_full.fasta
    if [ -f "$W" ] && [ -f "$S/4rex.cif" ]; then
        prec ww_full_first "$W" "$S/4rex.cif" A --focus-first
        prec ww_full_yap1 "$W" "$S/4rex.cif" A -f YAP1_HUMAN
    else
        log "contacts ww_pf00397: skipped: data absent"
    fi
}

stage_report() {
    mkdir -p "$(dirname "$RESULTS")"
    $PY "$ROOT/bench/potts_report.py" "$KV" "$CMDLOG" "$RESULTS" \
        "$HAVE_PLMC" "$BLAT_ITER" "$GB1_ITER"
    log "wrote $RESULTS"
}

# the seqloop binary each stage ran with (the report flags a change between stages)
binid() {
    printf '%s %s%s' "$(sha256sum "$SL" | cut -c1-12)" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src cli include Makefile 2>/dev/null | grep -q . && echo ' +local changes')"
}

for s in $STAGES; do
    [ "$s" != report ] && kv "stage_$s.binary" "$(binid)"
    case $s in
        dhfr|blat|gb1|contacts|report) "stage_$s" ;;
        *) echo "potts_validate: unknown stage $s" >&2; exit 2 ;;
    esac
done
