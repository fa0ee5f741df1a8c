#!/usr/bin/env bash
# tools/check_kinds.sh: only a model's own file knows its kind (issue 11;
# docs/architecture.md). Fails if any file outside src/models/ (in src, cli,
# include, python) tests which kind a model is: the SL_MODEL_* ids, the kind
# field, sl_model_kind_name, a comparison of sl_model_name() with a string,
# or of m->ops with a kind's table. Code outside src/models asks for
# capabilities instead (sl_model_has(m, SL_CAP_...)).
# Prints each offending line; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
pattern='SL_MODEL_(PROFILE|POTTS|AR|TFM)|(->|\.)kind\b|sl_model_kind_name|strn?cmp\(sl_model_name|->ops *[!=]=|sl_(profile|potts|ar|tfm)_ops\b'
hits=$(grep -rnE "$pattern" src cli include python 2>/dev/null \
  | grep -v "^src/models/")
if [ -n "$hits" ]; then
  echo "$hits"
  echo "check_kinds: the lines above test a model's kind outside src/models/ (ask sl_model_has instead)"
  exit 1
fi
echo "kinds: ok (no file outside src/models/ tests a model's kind)"
