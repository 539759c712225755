#!/usr/bin/env bash
# int8 forms of the xm-bench teacher side by side (issue 17's figures). Usage: examples/xm-bench-quantize.sh [XM_BENCH_DIR] [OUT_DIR]
#
#  1. the teacher: examples/xm-bench-pretrained.sh (skipped when its run has finished);
#  2. xlmt export: fp32; dynamic int8 with one weight scale per tensor (--per-tensor) and per output channel (the
#     default); static int8 per channel calibrated on CALIBRATION_ROWS unlabeled texts (percentile, xlmt's default);
#  3. with QAT_EPOCHS > 0: xlmt train --qat QAT_MODE (ema, or lsq) from the teacher for QAT_EPOCHS epochs on the teacher's recipe, and
#     its int8 export (static, over the learned ranges); with QAT_ROWS > 0 on a seeded random sample of that many
#     training rows (OUT_DIR/quantize/qat-QAT_ROWS, qat-lsq-QAT_ROWS for lsq), so that QAT takes a share of an epoch;
#     with QAT_WORD_EMBEDDINGS=1 the looked-up word rows are rounded in training too, as the int8 table stores them
#     (qat-words-…);
#  4. xlmt eval of every export on dev with the teacher as --reference: macro-F1 per task and language and the
#     relative change per cell (OUT_DIR/quantize/<export>-dev.md; the first lines printed);
#  5. with PEER=1: tools/reference/ort_quantization_peer.py in a venv (PEER_VENV) runs ONNX Runtime's own
#     quantize_dynamic and quantize_static on the fp32 export and scores and times them beside xlmt's exports, in
#     one run (OUT_DIR/quantize/peer.md).
# Every stage is skipped when its output exists; training resumes from its last checkpoint.
#
# Environment: as examples/xm-bench-pretrained.sh (EPOCHS, THREADS, XLMT, PYTHON), CALIBRATION_ROWS (512),
# QAT_EPOCHS (0), QAT_MODE (ema), QAT_WORD_EMBEDDINGS (0), QAT_ROWS (0: all), QAT_LR (1e-5), PEER (0), PEER_VENV (/tmp/xlmt-peer-venv), PEER_METHODS (MinMax,Percentile).
set -euo pipefail
XM=${1:-../shared/data/xm-bench}
OUT=${2:-runs/xm-pretrained}
THREADS=${THREADS:-2}
CALIBRATION_ROWS=${CALIBRATION_ROWS:-512}
QAT_EPOCHS=${QAT_EPOCHS:-0}
QAT_MODE=${QAT_MODE:-ema}
QAT_WORD_EMBEDDINGS=${QAT_WORD_EMBEDDINGS:-0}
QAT_ROWS=${QAT_ROWS:-0}
QAT_LR=${QAT_LR:-1e-5}
PEER=${PEER:-0}
PEER_VENV=${PEER_VENV:-/tmp/xlmt-peer-venv}
PEER_METHODS=${PEER_METHODS:-MinMax,Percentile}
PYTHON=${PYTHON:-python3}
read -r -a CLI <<< "${XLMT:-npx xlmt}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=stage.sh
source "$HERE/examples/stage.sh"

"$HERE/examples/xm-bench-pretrained.sh" "$XM" "$OUT"
TEACHER=$OUT/train
Q=$OUT/quantize
mkdir -p "$Q"
head -n "$CALIBRATION_ROWS" "$XM/unlabeled.jsonl" > "$Q/calibration.jsonl"

stage "export fp32" "$Q/export-fp32/onnx/model.onnx" \
  "${CLI[@]}" export --model "$TEACHER" --out "$Q/export-fp32" --threads "$THREADS"
stage "export dynamic int8, per tensor" "$Q/export-int8-per-tensor/onnx/model.onnx" \
  "${CLI[@]}" export --model "$TEACHER" --out "$Q/export-int8-per-tensor" --int8 --per-tensor --threads "$THREADS"
stage "export dynamic int8, per channel" "$Q/export-int8-per-channel/onnx/model.onnx" \
  "${CLI[@]}" export --model "$TEACHER" --out "$Q/export-int8-per-channel" --int8 --threads "$THREADS"
stage "export static int8, per channel, calibrated" "$Q/export-int8-static/onnx/model.onnx" \
  "${CLI[@]}" export --model "$TEACHER" --out "$Q/export-int8-static" --int8 --static \
  --calibration "$Q/calibration.jsonl" --threads "$THREADS"
EXPORTS=(export-fp32 export-int8-per-tensor export-int8-per-channel export-int8-static)
if [ "$QAT_EPOCHS" -gt 0 ]; then
  QAT=qat
  [ "$QAT_MODE" = ema ] || QAT=qat-$QAT_MODE
  QAT_FLAGS=(--qat "$QAT_MODE")
  if [ "$QAT_WORD_EMBEDDINGS" = 1 ]; then # only a configuration file takes the object form
    QAT=$QAT-words
    mkdir -p "$Q"
    printf '{ "qat": { "activations": "%s", "wordEmbeddings": true } }\n' "$QAT_MODE" > "$Q/$QAT.config.json"
    QAT_FLAGS=(--config "$Q/$QAT.config.json")
  fi
  QAT_TRAIN=$XM/train.jsonl
  if [ "$QAT_ROWS" -gt 0 ]; then
    QAT=$QAT-$QAT_ROWS
    QAT_TRAIN=$Q/train-sample-$QAT_ROWS.jsonl
    [ -e "$QAT_TRAIN" ] || sample_rows "$QAT_ROWS" "$XM/train.jsonl" "$QAT_TRAIN"
  fi
  echo "== QAT ($QAT_MODE): $QAT_EPOCHS epoch(s) from the teacher on $QAT_TRAIN (resumes)"
  time "${CLI[@]}" train --train "$QAT_TRAIN" --dev "$XM/dev.jsonl" --tasks "$XM/tasks.json" --init "$TEACHER" \
    --out "$Q/$QAT" "${QAT_FLAGS[@]}" --epochs "$QAT_EPOCHS" --batch-size 32 --max-length 128 --lr "$QAT_LR" --warmup-ratio 0.1 \
    --schedule linear --pooling mean --sampling temperature --temperature 2 --patience 0 --checkpoint-every 500 --threads "$THREADS"
  stage "export the QAT model int8" "$Q/export-$QAT/onnx/model.onnx" \
    "${CLI[@]}" export --model "$Q/$QAT" --out "$Q/export-$QAT" --int8 --threads "$THREADS"
  EXPORTS+=("export-$QAT")
fi

score() { # score EXPORT_DIR FILE
  "${CLI[@]}" eval --model "$1" --reference "$TEACHER" --data "$XM/dev.jsonl" --threads "$THREADS" > "$2.part"
  mv "$2.part" "$2"
  head -n 12 "$2"
}
for e in "${EXPORTS[@]}"; do
  stage "$e: dev against the teacher" "$Q/$e-dev.md" score "$Q/$e" "$Q/$e-dev.md"
done

if [ "$PEER" = 1 ]; then
  peer() {
    [ -x "$PEER_VENV/bin/python" ] || "$PYTHON" -m venv "$PEER_VENV"
    "$PEER_VENV/bin/pip" install --quiet -r "$HERE/tools/reference/requirements-quantization.txt"
    local compare=()
    for e in "${EXPORTS[@]:1}"; do compare+=(--compare "xlmt-${e#export-}=$Q/$e"); done
    "$PEER_VENV/bin/python" "$HERE/tools/reference/ort_quantization_peer.py" --export "$Q/export-fp32" \
      --calibration "$Q/calibration.jsonl" --data "$XM/dev.jsonl" --methods "$PEER_METHODS" --threads "$THREADS" \
      "${compare[@]}" --json "$Q/peer.json.part" > "$Q/peer.md.part"
    mv "$Q/peer.json.part" "$Q/peer.json"
    mv "$Q/peer.md.part" "$Q/peer.md"
    cat "$Q/peer.md"
  }
  stage "ONNX Runtime's own quantization beside xlmt's" "$Q/peer.md" peer
fi
