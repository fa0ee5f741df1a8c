#!/usr/bin/env bash
# bench/run.sh (`make bench`): every benchmark; results go to stdout. Set
# PLMC_DIR (a plmc source tree) and PLMC_BIN (a directory of plmc builds) to
# compare with plmc; without them the peer columns say "skipped".
set -u
cd "$(dirname "$0")/.."
echo "## weights (bench/weights_vs_plmc.sh)"
bench/weights_vs_plmc.sh ${PLMC_DIR:-}
echo "## instruction counts (bench/callgrind.sh)"
bench/callgrind.sh
echo "## potts fit speed (bench/potts_speed.sh)"
bench/potts_speed.sh
echo "## ar (bench/ar_speed.sh)"
bench/ar_speed.sh
echo "## perpetual-motion test (bench/cycle.sh)"
bench/cycle.sh
echo "## transformer training vs PyTorch (bench/tfm_vs_torch.sh)"
bench/tfm_vs_torch.sh
echo "## transformer pre-training and fine-tuning (bench/tfm_pretrain.sh)"
bench/tfm_pretrain.sh
echo "## design: GB1 four-site (bench/design_gb1.sh)"
bench/design_gb1.sh 20
echo "## design: Ehrlich v=32 c=4 k=4 L=32 (bench/design_ehrlich.sh)"
bench/design_ehrlich.sh 10 32 500
echo "## transformer zero-shot on BLAT_ECOLX and GB1 (bench/tfm_zeroshot.sh)"
bench/tfm_zeroshot.sh
