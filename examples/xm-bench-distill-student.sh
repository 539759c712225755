#!/usr/bin/env bash
# Distillation figures on xm-bench: a student with half the teacher's layers and half its hidden size, taught by the
# fine-tuned multilingual-e5-small (examples/xm-bench-pretrained.sh) in five ways. Usage:
#   examples/xm-bench-distill-student.sh [XM_BENCH_DIR] [OUT_DIR]
#
#  1. the students: xlmt init-student --layers 6 --hidden 192 (6 heads and FFN 768: the teacher's head size and FFN
#     ratio); `student`: word, position and type embeddings by truncated SVD of the teacher's, the layers initialized
#     afresh; `student-select` (--weights select): every weight a slice of the teacher's (layers 0, 2, …, 10, heads
#     and FFN neurons by magnitude, hidden coordinates evenly spaced);
#  2. for each seed of SEEDS, one xlmt train run of EPOCHS epochs for each way of WAYS, the same settings but the
#     loss or the student:
#       none        the gold labels alone, no teacher;
#       soft        the teacher's softened outputs alone (--gold-labels off: F²·KL at F = 4);
#       eq2         Eq. 2: gold cross-entropy + α·F²·KL, α = 1, F = 4;
#       eq2-select  Eq. 2 from student-select;
#       eq2-hidden  Eq. 2 + hidden-state MSE through learned projections (--hidden-weight 1, the uniform --match);
#       eq2-relation Eq. 2 + MiniLMv2's query, key and value relation KL (--relation-weight 1, 12 relation heads,
#                   the uniform --match);
#       eq2-transfer Eq. 2 with TRANSFER_ROWS unlabeled texts beside the training texts (--transfer): the teacher's
#                   term alone on them, each text drawn for one task an epoch (XtremeDistil's transfer set);
#     the ways with a teacher read its logits through one cache (--teacher-cache), so the teacher runs once per text;
#     the intermediate ways run it on every batch (a cache holds logits, not hidden states);
#  3. xlmt distill: XtremeDistil's stages (representation, logits, gradual unfreezing in groups of 2, fine-tuning with
#     Eq. 2), STAGE_EPOCHS epochs each on the training texts (and TRANSFER_ROWS unlabeled texts, 0 by default), seed 1:
#     multi-stage against eq2's single stage, with the time each took; with STAGE_ROWS > 0 the stages train on a
#     seeded random sample of that many training rows instead (OUT_DIR/stages-STAGE_ROWS), so that the six
#     stage-epochs (representation, logits, three unfreezing groups, fine-tuning) take about the steps of one
#     epoch of the whole set: 13600 for the equal-time comparison;
#  4. xlmt eval of each way over its seeds against the teacher: mean macro-F1 ± 95% interval per task and language,
#     and the relative change against the teacher (the target: at most 2.6% below it).
# The learning rate (LR, 5e-4) suits the student's fresh layers; it is not tuned. Every stage is skipped when its
# output exists and training resumes from its last checkpoint, so after a kill the same command continues. Each stage
# prints its wall and CPU time.
#
# Environment: SEEDS (1 2 3), WAYS (eq2 soft none; also eq2-select, eq2-hidden, eq2-relation: WAYS="eq2 eq2-relation"), EPOCHS (3), STAGE_EPOCHS (1), STAGE_ROWS (0: all), TRANSFER_ROWS (0), LR (5e-4), THREADS (2),
# TEACHER (OUT_DIR/../xm-pretrained/train), XLMT (`npx xlmt`), SMOKE=N: the first N training and N/4 dev rows, one
# seed, one epoch, into OUT_DIR-smoke (a check that the path runs, not a result).
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-distill-student}
SEEDS=${SEEDS:-1 2 3}
WAYS=${WAYS:-eq2 soft none}
EPOCHS=${EPOCHS:-3}
STAGE_EPOCHS=${STAGE_EPOCHS:-1}
TRANSFER_ROWS=${TRANSFER_ROWS:-0}
STAGE_ROWS=${STAGE_ROWS:-0}
LR=${LR:-5e-4}
THREADS=${THREADS:-2}
TEACHER=${TEACHER:-$(dirname "$OUT")/xm-pretrained/train}
read -r -a CLI <<< "${XLMT:-npx xlmt}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRAIN=$XM/train.jsonl
DEV=$XM/dev.jsonl
# shellcheck source=stage.sh
source "$HERE/examples/stage.sh"
if [ ! -e "$TEACHER/best/xlmt.json" ]; then
  echo "no teacher at $TEACHER: run examples/xm-bench-pretrained.sh first, or set TEACHER" >&2
  exit 2
fi
if [ -n "${SMOKE:-}" ]; then
  OUT=$OUT-smoke
  SEEDS=1
  EPOCHS=1
fi
mkdir -p "$OUT"
if [ -n "${SMOKE:-}" ]; then
  head -n "$SMOKE" "$XM/train.jsonl" > "$OUT/train.jsonl"
  head -n $((SMOKE / 4)) "$XM/dev.jsonl" > "$OUT/dev.jsonl"
  TRAIN=$OUT/train.jsonl
  DEV=$OUT/dev.jsonl
fi
STUDENT=$OUT/student
CACHE=$OUT/teacher-cache
COMMON=(--train "$TRAIN" --dev "$DEV" --tasks "$XM/tasks.json" --epochs "$EPOCHS" --batch-size 32
  --max-length 128 --lr "$LR" --warmup-ratio 0.1 --schedule linear --pooling mean --sampling temperature --temperature 2
  --patience 0 --checkpoint-every 500 --threads "$THREADS")

transfer_file() { # the first TRANSFER_ROWS unlabeled texts, written once
  local file=$OUT/transfer-$TRANSFER_ROWS.jsonl
  if [ "$TRANSFER_ROWS" -le 0 ]; then echo "eq2-transfer and the stages' transfer set need TRANSFER_ROWS > 0" >&2; return 2; fi
  [ -e "$file" ] || { head -n "$TRANSFER_ROWS" "$XM/unlabeled.jsonl" > "$file.part" && mv "$file.part" "$file"; }
  echo "$file"
}

label() { # label NAME: a way's runs are OUT/LABEL-SEED; eq2-transfer's name its transfer rows
  if [ "$1" = eq2-transfer ]; then echo "$1-$TRANSFER_ROWS"; else echo "$1"; fi
}

way() { # way NAME SEED: one training run of that way (into OUT/LABEL-SEED)
  local name=$1 seed=$2 transfer
  case $name in
    none) "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT" --seed "$seed" --out "$OUT/$(label "$name")-$seed" ;;
    soft) "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT" --seed "$seed" --out "$OUT/$(label "$name")-$seed" --teacher-model "$TEACHER" \
      --teacher-cache "$CACHE" --gold-labels off --kd-alpha 1 --kd-temperature 4 ;;
    eq2) "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT" --seed "$seed" --out "$OUT/$(label "$name")-$seed" --teacher-model "$TEACHER" \
      --teacher-cache "$CACHE" --kd-alpha 1 --kd-temperature 4 ;;
    eq2-select) "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT-select" --seed "$seed" --out "$OUT/$(label "$name")-$seed" \
      --teacher-model "$TEACHER" --teacher-cache "$CACHE" --kd-alpha 1 --kd-temperature 4 ;;
    eq2-hidden) "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT" --seed "$seed" --out "$OUT/$(label "$name")-$seed" --teacher-model "$TEACHER" \
      --kd-alpha 1 --kd-temperature 4 --hidden-weight 1 ;;
    eq2-relation) "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT" --seed "$seed" --out "$OUT/$(label "$name")-$seed" --teacher-model "$TEACHER" \
      --kd-alpha 1 --kd-temperature 4 --relation-weight 1 ;;
    eq2-transfer) transfer=$(transfer_file) || return 2
      "${CLI[@]}" train "${COMMON[@]}" --init "$STUDENT" --seed "$seed" --out "$OUT/$(label "$name")-$seed" \
      --teacher-model "$TEACHER" --teacher-cache "$CACHE" --kd-alpha 1 --kd-temperature 4 --transfer "$transfer" ;;
    *) echo "unknown way $name in WAYS (none, soft, eq2, eq2-select, eq2-hidden, eq2-relation, eq2-transfer)" >&2; return 2 ;;
  esac
}

report() { # report NAME FILE: every seed of a way on dev, against the teacher
  local name=$1 file=$2 models=()
  for seed in $SEEDS; do models+=(--model "$OUT/$(label "$name")-$seed"); done
  "${CLI[@]}" eval "${models[@]}" --reference "$TEACHER" --data "$DEV" --threads "$THREADS" > "$file.part"
  mv "$file.part" "$file"
  sed -n '/^## across/,$p' "$file" | head -n 8
}

distill() { # distill OUT_DIR
  local stages=$1 train=$TRAIN transfer=()
  if [ "$STAGE_ROWS" -gt 0 ]; then
    train=$OUT/train-sample-$STAGE_ROWS.jsonl
    [ -e "$train" ] || sample_rows "$STAGE_ROWS" "$TRAIN" "$train"
  fi
  if [ "$TRANSFER_ROWS" -gt 0 ]; then
    transfer=(--transfer "$(transfer_file)")
  fi
  "${CLI[@]}" distill --teacher-model "$TEACHER" --student "$STUDENT" --train "$train" --dev "$DEV" --tasks "$XM/tasks.json" \
    "${transfer[@]}" --epochs "$STAGE_EPOCHS" --lr "$LR" --max-length 128 --seed 1 --checkpoint-every 500 --threads "$THREADS" \
    --out "$stages" --quiet
  cat "$stages/report.md"
}

stage "student: 6 layers, hidden 192, from $TEACHER" "$STUDENT/config.json" \
  "${CLI[@]}" init-student --teacher "$TEACHER" --layers 6 --hidden 192 --out "$STUDENT"
if [[ " $WAYS " == *" eq2-select "* ]]; then
  stage "student-select: 6 layers, hidden 192, every weight selected from $TEACHER" "$STUDENT-select/config.json" \
    "${CLI[@]}" init-student --teacher "$TEACHER" --layers 6 --hidden 192 --weights select --out "$STUDENT-select"
fi
for seed in $SEEDS; do
  for name in $WAYS; do
    stage "$(label "$name"), seed $seed ($EPOCHS epochs)" "$OUT/$(label "$name")-$seed/best/xlmt.json" way "$name" "$seed"
  done
done
for name in $WAYS; do
  stage "$(label "$name"): dev over seeds $SEEDS against the teacher" "$OUT/$(label "$name")-seeds-${SEEDS// /,}-dev.md" report "$name" "$OUT/$(label "$name")-seeds-${SEEDS// /,}-dev.md"
done
STAGES=$OUT/stages
[ "$STAGE_ROWS" -gt 0 ] && STAGES=$OUT/stages-$STAGE_ROWS
stage "multi-stage: xlmt distill, $STAGE_EPOCHS epoch(s) a stage" "$STAGES/report.md" distill "$STAGES"
