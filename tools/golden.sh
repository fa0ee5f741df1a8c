#!/usr/bin/env bash
# tools/golden.sh: the renovation's golden check (issue 11). Runs a fixed list
# of commands on real data (dhfr, kunitz_pf00014, gb1, blat_ecolx, the PDZ
# seed) with one seqloop binary and keeps every output; then compares two such
# captures number for number. Only the provenance may differ: '#' lines of
# text outputs, "provenance"/timing keys of JSON documents, the "meta" of model
# files and sidecar files are ignored; everything else must be identical
# (model tensors byte for byte, samples, scores, ledgers).
#
#   tools/golden.sh capture DIR BIN     run the commands with BIN into DIR
#   tools/golden.sh compare DIR_A DIR_B exit 0 iff every output of A has an
#                                       identical twin in B
#   tools/golden.sh check BIN [BASE]    capture into a temporary DIR with BIN and
#                                       compare with BASE (default /work/golden/base)
#
# Not a test (minutes, needs ../shared/data); run before and after a refactor.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
D=${SEQLOOP_DATA:-$here/../shared/data}

capture() {
  local out=$1 bin; bin=$(readlink -f "$2")
  mkdir -p "$out" && cd "$out" || exit 2
  local fails=0
  run() { # run NAME ARGS... : stdout to NAME, stderr to NAME.err
    local name=$1; shift
    if ! "$bin" "$@" > "$name" 2> "$name.err"; then echo "golden: '$*' failed (see $out/$name.err)"; fails=$((fails+1)); fi
  }
  export OMP_NUM_THREADS=2
  run audit_dhfr.json audit -f DYR_ECOLI --json "$D/dhfr/DHFR.a2m"
  run audit_kunitz.txt audit "$D/kunitz_pf00014/PF00014_mgap6.fasta.gz"
  run weights.log weights -f DYR_ECOLI --theta 0.2 -o dhfr.weights "$D/dhfr/DHFR.a2m"
  run ingest.log ingest -f BLAT_ECOLX --max-gap-frac 0.3 --min-coverage 0.5 -o blat.fa "$D/blat_ecolx/BLAT_ECOLX.a2m"
  # Potts (DHFR, plmc's README settings, 10 iterations), plmc export, contacts, Gibbs.
  run fit_dhfr.log fit --model potts -f DYR_ECOLI -g --lambda-h 0.01 --lambda-j 16 -m 10 -o dhfr.model "$D/dhfr/DHFR.a2m"
  run convert.log convert dhfr.model -o dhfr.params
  run dhfr.ecs contacts -m dhfr.model --top 100
  run dhfr_zs.ecs contacts -m dhfr.model --gauge zerosum --top 100
  run dhfr_gibbs.fa sample -m dhfr.model -n 40 --seed 3 --burnin 20 --thin 2 --chains 2
  run dhfr_singles.csv score -m dhfr.model --all-singles
  # BLAT: profile and a short Potts fit, zero-shot scores and metrics.
  run fit_blat_prof.log fit --model profile -f BLAT_ECOLX -o blat.prof "$D/blat_ecolx/BLAT_ECOLX.a2m"
  run blat_prof_scored.csv score -m blat.prof --skip-invalid --dms-score-column 2500 --metrics-json blat_prof_metrics.json "$D/blat_ecolx/BLAT_ECOLX_Ranganathan2015.csv"
  run fit_blat_potts.log fit --model potts -f BLAT_ECOLX -m 5 -o blat.potts "$D/blat_ecolx/BLAT_ECOLX.a2m"
  run blat_potts_scored.csv score -m blat.potts --skip-invalid --dms-score-column 2500 --metrics-json blat_potts_metrics.json "$D/blat_ecolx/BLAT_ECOLX_Ranganathan2015.csv"
  run blat_mutants.csv score -m blat.potts --mutants A34F,A77H:L135G
  # kunitz: split, leakage audit, ar and profile, perplexity, samples, entropy, KL.
  run split.txt split --identity 0.8 --seed 1 -o kunitz "$D/kunitz_pf00014/PF00014_mgap6.fasta.gz"
  run leak.json audit --json --train kunitz.train.fa --test kunitz.test.fa
  run fit_kar.log fit --model ar --lambda-j 0.01 --lambda-h 0.01 -o k.ar kunitz.train.fa
  run fit_kprof.log fit --model profile -o k.prof kunitz.train.fa
  run k_ar_ppl.txt score -m k.ar --perplexity kunitz.test.fa
  run k_prof_ppl.txt score -m k.prof --perplexity kunitz.test.fa
  run k_ar_singles.csv score -m k.ar --all-singles
  run k_samples.fa sample -m k.ar -n 2000 --seed 7
  run k_samples_t.fa sample -m k.ar -n 200 --seed 8 --temperature 0.8
  run k_prof_samples.fa sample -m k.prof -n 50 --seed 4 --burnin 10 --thin 1 --chains 2
  run k_samplestats.json audit --json --model k.ar --samples k_samples.fa --against kunitz.train.fa
  run k_info.json audit --json --model k.ar --compare k.prof --heldout kunitz.test.fa --data kunitz.train.fa --entropy-samples 2000
  # transformer: a tiny fit, perplexity, samples.
  run fit_ktfm.log fit --model tfm -t 1 --layers 1 --width 16 --heads 2 --context 64 --steps 20 --batch 8 --seed 5 -o k.tfm kunitz.train.fa
  run k_tfm_ppl.txt score -m k.tfm --perplexity kunitz.test.fa
  run k_tfm_samples.fa sample -m k.tfm -n 20 --seed 2
  # GB1: ar on ProteinGym's 44-row alignment; design on the four-site landscape.
  run fit_gb1ar.log fit --model ar --lambda-j 0.01 --lambda-h 0.01 -f SPG1_STRSG -o gb1.ar "$D/gb1/SPG1_STRSG_full_11-26-2021_b07.a2m"
  run gb1_ar_singles.csv score -m gb1.ar --all-singles
  run design_rounds.csv design run --ledger gb1.db --oracle "table:$D/gb1/wu2016_four_site_fitness.DERIVED.csv" --start VDGV --budget 40 --rounds 4 --batch 8 --seed 1 -q
  run ledger.json ledger export --ledger gb1.db --json
  run design_cbas.csv design run --ledger gb1c.db --oracle "table:$D/gb1/wu2016_four_site_fitness.DERIVED.csv" --start VDGV --proposer cbas --rounds 3 --batch 8 --seed 2 -q
  run ledger_cbas.json ledger export --ledger gb1c.db --json
  # the perpetual-motion cycle on a small family (PDZ seed).
  run cycle.csv audit cycle --generations 1 --arms self,mix --samples 300 --entropy-samples 300 --lambda-j 0.01 --lambda-h 0.01 --seed 3 "$D/dlg4_pdz3/PF00595_PDZ_seed_hmmalign_no_inserts.fasta"
  echo "golden: captured $(ls | grep -vc '\.err$') outputs into $out ($fails commands failed)"
  return $fails
}

compare() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, os, struct, sys
A, B = sys.argv[1], sys.argv[2]
IGN = {"provenance", "seconds", "time", "elapsed", "created", "argv", "command", "version", "program", "input_sha256", "sha256"}
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k not in IGN}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
def model(path):
    b = open(path, "rb").read()
    if b[:8] != b"SEQLOOP\0": return ("raw", b)
    H = struct.unpack("<I", b[12:16])[0]
    h = json.loads(b[16:16 + H])
    base = 16 + H
    t = [(x["name"], x["shape"], b[base + x["offset"]: base + x["offset"] + x["nbytes"]]) for x in h["tensors"]]
    keep = {k: h.get(k) for k in ("kind", "alphabet", "q", "gap_missing", "L", "focus_name", "focus", "positions", "neff", "n_train", "order", "tfm")}
    keep["result"] = strip(((h.get("meta") or {}).get("result")) or {})  # objective, iterations
    return ("model", keep, t)
def text(path):
    ls = [l for l in open(path, errors="replace").read().splitlines() if not l.startswith("#")]
    if ls and ls[0].split()[-1:] in (["secs"], ["seconds"]):  # a timing column: drop it
        ls = [l.rsplit(None, 1)[0] if l.strip() else l for l in ls]
    return ls
bad = 0; n = 0
for f in sorted(os.listdir(A)):
    if f.endswith(".err") or f.endswith(".log") or ".prov" in f or f.endswith(".db") or f.endswith("-wal") or f.endswith("-shm"): continue
    pa, pb = os.path.join(A, f), os.path.join(B, f)
    n += 1
    if not os.path.exists(pb): print("MISSING in B:", f); bad += 1; continue
    try:
        if f.endswith(".json"):
            same = strip(json.load(open(pa))) == strip(json.load(open(pb)))
        elif f.endswith((".model", ".ar", ".prof", ".potts", ".tfm")):
            same = model(pa) == model(pb)
        elif f.endswith(".params"):
            same = open(pa, "rb").read() == open(pb, "rb").read()
        else:
            same = text(pa) == text(pb)
    except Exception as e:
        print("ERROR comparing", f, e); same = False
    if not same:
        bad += 1; print("DIFFERS:", f)
print(f"golden: {n - bad} of {n} outputs identical" + ("" if not bad else f", {bad} differ"))
sys.exit(1 if bad else 0)
EOF
}

case "${1:-}" in
  capture) capture "$2" "$3" ;;
  compare) compare "$2" "$3" ;;
  check) tmp=$(mktemp -d /tmp/golden.XXXXXX); capture "$tmp" "$2"; compare "${3:-/work/golden/base}" "$tmp" ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
