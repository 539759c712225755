#!/usr/bin/env bash
# The paper's two comparisons on xm-bench (multi-task vs single-task, cross-lingual vs monolingual), with the
# from-scratch recipe of xm-bench-from-scratch.sh scaled down to fit about an hour on a 2-core CPU: three
# languages, two epochs, three seeds. Usage: examples/xm-bench-experiment.sh [XM_BENCH_DIR] [OUT_DIR]
# Re-running continues where it stopped; adding a seed trains only that seed's runs.
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-bench-experiment}
SEEDS=${SEEDS:-1,2,3}
LANGUAGES=${LANGUAGES:-de,en,fr}
EPOCHS=${EPOCHS:-2}
THREADS=${THREADS:-1}
mkdir -p "$OUT"

[ -f "$OUT/tokenizer.json" ] || npx xlmt tokenizer train --corpus "$XM/unlabeled.jsonl" "$XM/train.jsonl" \
  --type wordpiece --vocab-size 30000 --out "$OUT/tokenizer.json"

cat > "$OUT/base.json" <<EOF
{
  "train": "$XM/train.jsonl", "dev": "$XM/dev.jsonl", "tasks": "$XM/tasks.json",
  "tokenizer": "$OUT/tokenizer.json",
  "encoder": { "layers": 2, "hidden": 256, "heads": 4, "ffn": 1024 },
  "epochs": $EPOCHS, "batchSize": 32, "maxLength": 128, "lr": 0.001, "pooling": "mean",
  "sampling": "temperature", "temperature": 2, "patience": 0, "checkpointEvery": 500, "threads": $THREADS
}
EOF

npx xlmt experiment --config "$OUT/base.json" --out "$OUT/exp" --seeds "$SEEDS" --languages "$LANGUAGES"
