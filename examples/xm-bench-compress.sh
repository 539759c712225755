#!/usr/bin/env bash
# Structural compression of the pretrained teacher on xm-bench (issue 15's quality figures), end to end and
# resumable. Usage: examples/xm-bench-compress.sh [XM_BENCH_DIR] [OUT_DIR]
#
#  1. the teacher: examples/xm-bench-pretrained.sh (multilingual-e5-small fine-tuned; skipped when its run has
#     finished), its dev report the reference of every comparison below;
#  2. half the layers: xlmt prune layers --keep-count 6 (the top six go), then one epoch of retraining;
#  3. half the heads and FFN neurons by importance: xlmt prune heads-ffn --heads 6 --ffn 768 on the training data
#     (4 rounds, 1,000 examples per task), then one epoch;
#  4. the same budget at random (--method random), then one epoch: the baseline importance has to beat;
#  5. xlmt eval of each, before and after retraining, with --reference the teacher: macro-F1 per task and
#     language, and the relative change against the teacher.
# Retraining uses the teacher's recipe (lr 5e-5, mean pooling, T = 2, batch 32, 10% warm-up, linear decay).
#
# Every stage is skipped when its output exists, and training resumes from its last checkpoint, so after a kill
# the same command continues. Each stage prints its wall and CPU time.
#
# Environment: as examples/xm-bench-pretrained.sh (EPOCHS for the teacher, THREADS, XLMT, PYTHON, and SMOKE=N for a
# check of the path on the first N training rows, into OUT_DIR-smoke); SAMPLES (examples per task for importance,
# 1000), ITERATIONS (rounds, 4), RETRAIN_EPOCHS (1).
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-pretrained}
THREADS=${THREADS:-2}
SAMPLES=${SAMPLES:-1000}
ITERATIONS=${ITERATIONS:-4}
RETRAIN_EPOCHS=${RETRAIN_EPOCHS:-1}
read -r -a CLI <<< "${XLMT:-npx xlmt}" # XLMT itself stays a string, for the teacher script
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRAIN=$XM/train.jsonl
DEV=$XM/dev.jsonl
# shellcheck source=stage.sh
source "$HERE/examples/stage.sh"
retrain() { # retrain FROM RUN
  "${CLI[@]}" train --train "$TRAIN" --dev "$DEV" --tasks "$XM/tasks.json" --init "$1" --out "$2" \
    --epochs "$RETRAIN_EPOCHS" --batch-size 32 --max-length 128 --lr 5e-5 --warmup-ratio 0.1 --schedule linear \
    --pooling mean --sampling temperature --temperature 2 --patience 0 --checkpoint-every 500 --threads "$THREADS"
}
report() { # report MODEL FILE: dev scores against the teacher
  "${CLI[@]}" eval --model "$1" --reference "$TEACHER" --data "$DEV" --threads "$THREADS" > "$2.part"
  mv "$2.part" "$2"
  head -n 12 "$2"
}

"$HERE/examples/xm-bench-pretrained.sh" "$XM" "$OUT"
if [ -n "${SMOKE:-}" ]; then # the teacher's smoke run wrote its data subsets beside it
  OUT=$OUT-smoke
  TRAIN=$OUT/train.jsonl
  DEV=$OUT/dev.jsonl
fi
TEACHER=$OUT/train

stage "prune layers: keep 6 of 12 (top strategy)" "$OUT/layers6/config.json" \
  "${CLI[@]}" prune layers --model "$TEACHER" --keep-count 6 --out "$OUT/layers6"
stage "prune heads-ffn by importance: 6 heads, FFN 768" "$OUT/heads6-ffn768/config.json" \
  "${CLI[@]}" prune heads-ffn --model "$TEACHER" --data "$TRAIN" --tasks "$XM/tasks.json" --heads 6 --ffn 768 \
  --iterations "$ITERATIONS" --samples "$SAMPLES" --threads "$THREADS" --out "$OUT/heads6-ffn768"
stage "prune heads-ffn at random: 6 heads, FFN 768" "$OUT/heads6-ffn768-random/config.json" \
  "${CLI[@]}" prune heads-ffn --model "$TEACHER" --data "$TRAIN" --tasks "$XM/tasks.json" --heads 6 --ffn 768 \
  --method random --samples "$SAMPLES" --threads "$THREADS" --out "$OUT/heads6-ffn768-random"

for variant in heads6-ffn768 heads6-ffn768-random layers6; do # the importance-vs-random pair first
  stage "$variant before retraining: dev against the teacher" "$OUT/$variant-dev.md" report "$OUT/$variant" "$OUT/$variant-dev.md"
  echo "== $variant: retrain $RETRAIN_EPOCHS epoch(s) (resumes)"
  time retrain "$OUT/$variant" "$OUT/$variant-train"
  stage "$variant retrained: dev against the teacher" "$OUT/$variant-train-dev.md" report "$OUT/$variant-train" "$OUT/$variant-train-dev.md"
done
