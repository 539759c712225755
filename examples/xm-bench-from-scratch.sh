#!/usr/bin/env bash
# Pretrains a small encoder on xm-bench's unlabeled text, then trains the three-task classifier on xm-bench
# and evaluates it on dev. Usage: examples/xm-bench-from-scratch.sh [XM_BENCH_DIR] [OUT_DIR]
# Sizes and step counts fit a time budget on a 2-core CPU (see the comments); raise them when you have more time.
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-bench}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-4000}   # ~45 min at batch 64 on 2 cores
EPOCHS=${EPOCHS:-1}                       # ~30 min each (82k rows)
SIZE=(--layers 4 --hidden 256 --heads 4 --ffn 1024)
mkdir -p "$OUT"

[ -f "$OUT/tokenizer.json" ] || npx xlmt tokenizer train --corpus "$XM/unlabeled.jsonl" "$XM/train.jsonl" \
  --type unigram --vocab-size 8000 --out "$OUT/tokenizer.json"

npx xlmt pretrain --corpus "$XM/unlabeled.jsonl" --tokenizer "$OUT/tokenizer.json" --out "$OUT/pretrain" \
  "${SIZE[@]}" --steps "$PRETRAIN_STEPS" --batch-size 64 --max-length 64 --lr 1e-3 --checkpoint-every 500

npx xlmt train --train "$XM/train.jsonl" --dev "$XM/dev.jsonl" --tasks "$XM/tasks.json" \
  --init "$OUT/pretrain/model" --out "$OUT/train" --epochs "$EPOCHS" --batch-size 32 --max-length 64 \
  --lr 3e-4 --warmup-ratio 0.06 --checkpoint-every 500

npx xlmt eval --model "$OUT/train" --data "$XM/dev.jsonl" | tee "$OUT/dev-report.md"
