#!/usr/bin/env bash
# A half-size student of the xm-bench teacher made by cutting it down in steps (examples/xm-bench-narrow.yaml, or
# RECIPE), against the teacher per task and language. Usage: examples/xm-bench-narrow.sh [XM_BENCH_DIR] [OUT_DIR]
#
#  1. the teacher: examples/xm-bench-pretrained.sh (skipped when its run has finished);
#  2. xlmt compress --recipe RECIPE into OUT_DIR/NAME: each step's line (size, speed and
#     speedup on this CPU at 32 × 128 tokens, dev macro-F1 per task, relative change against the teacher, time) in
#     OUT_DIR/NAME/report.md, per task and language in OUT_DIR/NAME/reports/;
#  3. xlmt eval of the last trained step's model against the teacher (OUT_DIR/NAME/student-dev.md).
# Resumes after a kill: finished steps are skipped, a training (a round's included) resumes from its checkpoint.
#
# Environment: as examples/xm-bench-pretrained.sh (EPOCHS for the teacher, THREADS, XLMT, PYTHON), SPEED_ITERATIONS (3),
# RECIPE (examples/xm-bench-narrow.yaml; examples/xm-bench-narrow-3x128.yaml cuts a 3 × 128 one), NAME (narrow).
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-pretrained}
THREADS=${THREADS:-2}
SPEED_ITERATIONS=${SPEED_ITERATIONS:-3}
NAME=${NAME:-narrow}
read -r -a CLI <<< "${XLMT:-npx xlmt}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECIPE=${RECIPE:-$HERE/examples/xm-bench-narrow.yaml}
# shellcheck source=stage.sh
source "$HERE/examples/stage.sh"

"$HERE/examples/xm-bench-pretrained.sh" "$XM" "$OUT"
NARROW=$OUT/$NAME
stage "compress by $RECIPE into $NARROW" "$NARROW/report.md" \
  "${CLI[@]}" compress --teacher "$OUT/train" --train "$XM/train.jsonl" --dev "$XM/dev.jsonl" --tasks "$XM/tasks.json" \
  --recipe "$RECIPE" --out "$NARROW" --threads "$THREADS" --speed-iterations "$SPEED_ITERATIONS"
cat "$NARROW/report.md"
student_dev() { # the last training step's model (the recipe ends with a train step, then the export)
  local student
  student=$(find "$NARROW" -maxdepth 1 -name '[0-9]*-*train' | sort | tail -n 1)
  "${CLI[@]}" eval --model "$student" --reference "$OUT/train" --data "$XM/dev.jsonl" --threads "$THREADS" > "$1.part"
  mv "$1.part" "$1"
  sed -n '/^## across/,$p' "$1" | head -n 12
}
stage "the student on dev against the teacher" "$NARROW/student-dev.md" student_dev "$NARROW/student-dev.md"
