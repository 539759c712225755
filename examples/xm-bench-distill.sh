#!/usr/bin/env bash
# Trains the three-task classifier on xm-bench from nothing with two stages of distillation, and evaluates it on
# dev. Usage: examples/xm-bench-distill.sh [XM_BENCH_DIR] [OUT_DIR]
#
#  1. the transfer set: the training rows and the first UNLABELED unlabeled lines in the training languages;
#  2. a teacher, `xlmt baseline` (character and word n-gram TF-IDF + logistic regression), scores it;
#  3. student 1, the encoder of examples/xm-bench-from-scratch.sh, trains on the gold labels and the teacher's
#     scores (xlmt train --teacher; scores for a task a text has a gold label for are left out);
#  4. student 1 scores the transfer set (xlmt export, xlmt predict);
#  5. student 2, from random weights again, trains on the gold labels and the mean of both teachers' scores
#     (--teacher twice: an ensemble).
# docs/results.md has the measured runs.
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-distill}
EPOCHS=${EPOCHS:-3}                      # epochs per student; each has ~7,000 batches with the teacher rows
THREADS=${THREADS:-2}
UNLABELED=${UNLABELED:-60000}            # unlabeled lines in the transfer set (those in the training languages)
SIZE=(--layers 2 --hidden 256 --heads 4 --ffn 1024)
mkdir -p "$OUT"

[ -f "$OUT/tokenizer.json" ] || npx xlmt tokenizer train --corpus "$XM/unlabeled.jsonl" "$XM/train.jsonl" \
  --type wordpiece --vocab-size 100000 --lowercase --out "$OUT/tokenizer.json"

[ -f "$OUT/transfer.jsonl" ] || node -e '
  const fs = require("node:fs");
  const [train, unlabeled, limit, out] = process.argv.slice(1);
  const rows = (file) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim());
  const gold = rows(train);
  const languages = new Set(gold.map((l) => JSON.parse(l).lang));
  const usable = (r) => languages.has(r.lang) && typeof r.text === "string" && r.text.trim() !== "";
  const extra = rows(unlabeled).filter((l) => usable(JSON.parse(l))).slice(0, Number(limit));
  fs.writeFileSync(`${out}.part`, [...gold, ...extra].join("\n") + "\n");
  fs.renameSync(`${out}.part`, out);' "$XM/train.jsonl" "$XM/unlabeled.jsonl" "$UNLABELED" "$OUT/transfer.jsonl"

[ -f "$OUT/baseline/baseline.json" ] || npx xlmt baseline train --train "$XM/train.jsonl" --dev "$XM/dev.jsonl" \
  --tasks "$XM/tasks.json" --out "$OUT/baseline"
[ -f "$OUT/tfidf.jsonl" ] || npx xlmt baseline predict --model "$OUT/baseline" --in "$OUT/transfer.jsonl" \
  --out "$OUT/tfidf.jsonl" --keep text,lang --quiet

student() { # student OUT_DIR TEACHER_FILE…
  local dir=$1
  shift
  local teachers=()
  for file in "$@"; do teachers+=(--teacher "$file"); done
  npx xlmt train --train "$XM/train.jsonl" --dev "$XM/dev.jsonl" --tasks "$XM/tasks.json" --tokenizer "$OUT/tokenizer.json" \
    "${SIZE[@]}" --char-ngrams 3-5 "${teachers[@]}" --out "$dir" --epochs "$EPOCHS" --batch-size 32 --max-length 128 \
    --lr 1e-3 --pooling mean --sampling temperature --temperature 5 --patience 0 --checkpoint-every 500 --threads "$THREADS"
}

student "$OUT/student1" "$OUT/tfidf.jsonl"
# Predictions go to a .part file (xlmt predict resumes it after a kill) that becomes the teacher file when done.
[ -f "$OUT/student1.jsonl" ] || {
  [ -d "$OUT/student1-export" ] || npx xlmt export --model "$OUT/student1" --out "$OUT/student1-export" --threads "$THREADS"
  npx xlmt predict --model "$OUT/student1-export" --in "$OUT/transfer.jsonl" --out "$OUT/student1.part.jsonl" --keep text,lang --threads "$THREADS" --quiet
  mv "$OUT/student1.part.jsonl" "$OUT/student1.jsonl"
}
student "$OUT/student2" "$OUT/tfidf.jsonl" "$OUT/student1.jsonl"

npx xlmt eval --model "$OUT/student2" --data "$XM/dev.jsonl" | tee "$OUT/dev-report.md"
