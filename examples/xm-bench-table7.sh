#!/usr/bin/env bash
# The paper's Table 7 on xm-bench (issue 18's reproduction): speedup on this CPU (32 texts × 128 tokens) and dev
# macro-F1 per task of the teacher fp32 and int8, a half-depth student fp32 and int8 and students of 6 × 192 and
# 3 × 192 fp32 and int8, each trained one epoch with the teacher (Eq. 2), the teacher's logits cached once for all
# (OUT_DIR/table7/teacher-cache). Usage: examples/xm-bench-table7.sh [XM_BENCH_DIR] [OUT_DIR]
#
#  1. the teacher: examples/xm-bench-pretrained.sh (skipped when its run has finished);
#  2. xlmt compress --search --exhaustive over examples/xm-bench-table7.yaml: every shape timed first with random
#     weights, then every candidate made, scored on dev and timed on itself; the report (OUT_DIR/table7/search.md)
#     gives each candidate's speedup and macro-F1 per task, the budget's verdict (BUDGET, 2.6% of the mean; PER_TASK,
#     unset), the fastest within it, and the Pareto front (search.md and pareto.svg); reports/ per task and language.
#     With EXHAUSTIVE=0, the search as a user runs it instead, into OUT_DIR/search: the untrained candidates first,
#     then the fastest expected until one is within the budget; its search.md says when each was decided (the search's
#     own time: how soon an answer is in hand, against the teacher's training).
#     With BASELINE_TEACHER=TASKS (e.g. emotion), `xlmt baseline train` fits OUT_DIR/baseline first (skipped when it
#     exists) and the search runs with `--teacher-model TASKS=OUT_DIR/baseline`: those tasks are taught by the mean of
#     the teacher and the baseline; its output directory gets the suffix -baseline-TASKS. BASELINE_FOLDS=K fits the
#     baseline with K out-of-fold models (OUT_DIR/baseline-folds-K, suffix -baseline-folds-K-TASKS): each training text
#     is then taught by a baseline model not fitted on it.
# Resumes after a kill: the teacher's training and each candidate's from their checkpoints, finished steps skipped.
#
# Environment: as examples/xm-bench-pretrained.sh (EPOCHS for the teacher, THREADS, XLMT, PYTHON), BUDGET (2.6%),
# PER_TASK (unset), SPEED_ITERATIONS (3), EXHAUSTIVE (1), BASELINE_TEACHER (unset), BASELINE_FOLDS (unset).
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-pretrained}
THREADS=${THREADS:-2}
BUDGET=${BUDGET:-2.6%}
SPEED_ITERATIONS=${SPEED_ITERATIONS:-3}
read -r -a CLI <<< "${XLMT:-npx xlmt}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$HERE/examples/xm-bench-pretrained.sh" "$XM" "$OUT"
SEARCH=(--exhaustive)
SEARCH_OUT=$OUT/table7
if [ "${EXHAUSTIVE:-1}" = 0 ]; then
  SEARCH=()
  SEARCH_OUT=$OUT/search
fi
MORE_TEACHERS=()
if [ -n "${BASELINE_TEACHER:-}" ]; then
  BASELINE=baseline${BASELINE_FOLDS:+-folds-$BASELINE_FOLDS}
  if [ ! -f "$OUT/$BASELINE/baseline.json" ]; then
    echo "== the baseline teacher: xlmt baseline train into $OUT/$BASELINE"
    time "${CLI[@]}" baseline train --train "$XM/train.jsonl" --dev "$XM/dev.jsonl" --tasks "$XM/tasks.json" \
      ${BASELINE_FOLDS:+--folds "$BASELINE_FOLDS"} --out "$OUT/$BASELINE" --quiet
  fi
  MORE_TEACHERS=(--teacher-model "$BASELINE_TEACHER=$OUT/$BASELINE")
  SEARCH_OUT=$SEARCH_OUT-$BASELINE-${BASELINE_TEACHER//,/-}
fi
echo "== Table 7: xlmt compress --search ${SEARCH[*]} ${MORE_TEACHERS[*]} into $SEARCH_OUT (resumes)"
time "${CLI[@]}" compress --teacher "$OUT/train" "${MORE_TEACHERS[@]}" --train "$XM/train.jsonl" --dev "$XM/dev.jsonl" --tasks "$XM/tasks.json" \
  --search "${SEARCH[@]}" --space "$HERE/examples/xm-bench-table7.yaml" --max-degradation "$BUDGET" \
  ${PER_TASK:+--per-task "$PER_TASK"} --speed-iterations "$SPEED_ITERATIONS" --threads "$THREADS" --out "$SEARCH_OUT"
cat "$SEARCH_OUT/search.md"
