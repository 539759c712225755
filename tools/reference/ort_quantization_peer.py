"""ONNX Runtime's own quantization of an xlmt export, side by side with xlmt's int8 exports.

Takes xlmt's fp32 export of a model (`xlmt export --model RUN --out DIR`), quantizes its onnx/model.onnx with ONNX
Runtime's Python tools, and scores every model given on one dev file and one speed shape, in one run on this machine:

  ort-dynamic        quantize_dynamic: int8 weights (QInt8, per channel unless --per-tensor), activations quantized
                     per batch at run time, as ONNX Runtime recommends for transformers;
  ort-static-<m>     quantize_static, QDQ format (the one ORT fuses), activations uint8 asymmetric and weights int8
                     symmetric per channel (Optimum's defaults), calibrated on --calibration texts by <m> (MinMax,
                     Entropy, Percentile); MatMul nodes only: on xlmt's fused graph ORT's QDQ quantizer fails at the
                     Softmax and has no QDQ form of the contrib Attention (whose QKV projection stays fp32 here);
  NAME               any other export directory given as --compare NAME=DIR (xlmt's dynamic, static or QAT int8).

For each: size of model.onnx, milliseconds per batch at the serving shape (--batch × --seq, random ids, the median of
--iterations runs after one warm-up, --threads intra-op threads, graph optimizations on), and macro-F1 per task on
--data, computed here the same way for every model (xlmt's convention: macro-F1 over the labels gold or predicted at
least once; multilabel decisions at the thresholds the export's xlmt.json stores, else 0.5), with the change against
the fp32 export in points. Prints a Markdown table; --json writes the figures too.

Run from the repository root (the venv's pins: tools/reference/requirements-quantization.txt, onnxruntime 1.30.0 as
onnxruntime-node, so both sides run the same kernels):

  python -m venv /work/venv-quant && /work/venv-quant/bin/pip install -r tools/reference/requirements-quantization.txt
  /work/venv-quant/bin/python tools/reference/ort_quantization_peer.py --export runs/x/export-fp32 \
      --calibration ../shared/data/xm-bench/unlabeled.jsonl --data ../shared/data/xm-bench/dev.jsonl \
      --compare xlmt-dynamic=runs/x/export-int8 --compare xlmt-static=runs/x/export-static

Nothing it writes goes into the repository: the quantized models go to --work (a temporary directory by default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process
from tokenizers import Tokenizer


def fail(message: str) -> None:
    print(f"ort_quantization_peer: {message}", file=sys.stderr)
    sys.exit(2)


class Export:
    """An xlmt export directory: its graph, tokenizer, tasks and stored thresholds."""

    def __init__(self, directory: str):
        self.dir = Path(directory)
        self.onnx = self.dir / "onnx" / "model.onnx"
        for needed in (self.onnx, self.dir / "xlmt.json", self.dir / "tokenizer.json", self.dir / "tasks.json"):
            if not needed.exists():
                fail(f"{directory}: no {needed.relative_to(self.dir)} (give an xlmt export directory)")
        self.meta = json.loads((self.dir / "xlmt.json").read_text())
        tasks = json.loads((self.dir / "tasks.json").read_text())
        self.tasks = [(name, spec["type"], spec["labels"]) for name, spec in tasks.items()]
        self.tokenizer = Tokenizer.from_file(str(self.dir / "tokenizer.json"))
        self.max_length = int(self.meta["maxLength"])
        self.pad_id = int(self.meta["padId"])
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()

    def threshold(self, task: str, label: int) -> float:
        stored = self.meta.get("thresholds", {}).get(task)
        return float(stored[label]) if stored else 0.5


def read_texts(path: str, limit: int | None) -> list[str]:
    texts: list[str] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if path.endswith((".jsonl", ".ndjson")):
                try:
                    text = json.loads(line)["text"]
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    fail(f"{path}:{number}: not a JSON object with a text ({e})")
            else:
                text = line
            texts.append(text)
            if limit is not None and len(texts) >= limit:
                break
    if not texts:
        fail(f"{path}: no text")
    return texts


def batches(export: Export, texts: list[str], size: int, width: int | None = None):
    """Right-padded int64 batches, as xlmt's runtime feeds them: to the longest text, or to `width`."""
    for start in range(0, len(texts), size):
        encodings = export.tokenizer.encode_batch(texts[start:start + size])
        padded = width or max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), padded), export.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), padded), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        yield {"input_ids": ids, "attention_mask": mask}


class Calibration(CalibrationDataReader):
    """Whole batches padded to the export's max length: ORT's histogram calibrators stack every batch's tensors."""

    def __init__(self, export: Export, texts: list[str], size: int):
        whole = texts[:len(texts) - len(texts) % size] or texts
        self.feeds = iter(list(batches(export, whole, size, export.max_length)))

    def get_next(self):
        return next(self.feeds, None)


def session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    """xlmt's convention (src/eval/f1.ts): F1 = 2TP/(2TP+FP+FN) over the labels gold or predicted at least once."""
    scores = []
    for label in range(gold.shape[1]):
        tp = int(np.sum(gold[:, label] & predicted[:, label]))
        fp = int(np.sum(~gold[:, label] & predicted[:, label]))
        fn = int(np.sum(gold[:, label] & ~predicted[:, label]))
        if tp + fp + fn > 0:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else float("nan")


def score(export: Export, model: Path, data: list[dict], threads: int, size: int) -> dict[str, float]:
    run = session(model, threads)
    results = {}
    for task, kind, labels in export.tasks:
        rows = [r for r in data if task in r.get("labels", {})]
        if not rows:
            continue
        probs = np.concatenate([run.run([f"probs:{task}"], feeds)[0] for feeds in batches(export, [r["text"] for r in rows], size)])
        gold = np.zeros((len(rows), len(labels)), dtype=bool)
        for i, r in enumerate(rows):
            value = r["labels"][task]
            for label in (value if isinstance(value, list) else [value]):
                gold[i, labels.index(label)] = True
        if kind == "multiclass":
            predicted = np.zeros_like(gold)
            predicted[np.arange(len(rows)), probs.argmax(axis=1)] = True
        else:
            cut = np.array([export.threshold(task, j) for j in range(len(labels))], dtype=np.float32)
            predicted = probs >= cut
        results[task] = macro_f1(gold, predicted)
    return results


def speed(model: Path, threads: int, batch: int, seq: int, iterations: int, vocab: int) -> float:
    run = session(model, threads)
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(5, vocab, size=(batch, seq), dtype=np.int64), "attention_mask": np.ones((batch, seq), dtype=np.int64)}
    outputs = [o.name for o in run.get_outputs()]
    run.run(outputs, feeds)  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        run.run(outputs, feeds)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", required=True, help="xlmt's fp32 export directory (the model ONNX Runtime quantizes)")
    parser.add_argument("--calibration", required=True, help="texts for static calibration (JSONL with text, or one per line)")
    parser.add_argument("--calibration-rows", type=int, default=512, help="texts used for calibration (default 512)")
    parser.add_argument("--data", required=True, help="labeled JSONL scored for every model (xlmt's format)")
    parser.add_argument("--rows", type=int, default=None, help="score only the first N rows of --data")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=DIR", help="another export directory to score beside them")
    parser.add_argument("--methods", default="MinMax,Entropy,Percentile", help="static calibration methods (default all three)")
    parser.add_argument("--per-tensor", action="store_true", help="dynamic: one weight scale per tensor instead of per channel")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--work", default=None, help="where the quantized models go (default: a temporary directory, removed)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    fp32 = Export(args.export)
    others = []
    for item in args.compare:
        name, _, directory = item.partition("=")
        if not name or not directory:
            fail(f"--compare {item}: expected NAME=DIR")
        others.append((name, Export(directory)))
    data = []
    with open(args.data, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                data.append(json.loads(line))
            if args.rows is not None and len(data) >= args.rows:
                break
    calibration = read_texts(args.calibration, args.calibration_rows)
    vocab = fp32.tokenizer.get_vocab_size()

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ort-quant-"))
    work.mkdir(parents=True, exist_ok=True)
    models: list[tuple[str, Export, Path, float]] = [("fp32 (xlmt export)", fp32, fp32.onnx, 0.0)]
    started = time.perf_counter()
    dynamic = work / "ort-dynamic.onnx"
    # xlmt's fused graph holds contrib ops (Attention, EmbedLayerNormalization) whose outputs ONNX's shape inference
    # cannot type; ORT's quantizer then needs to be told they are float.
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    quantize_dynamic(str(fp32.onnx), str(dynamic), weight_type=QuantType.QInt8, per_channel=not args.per_tensor, extra_options=extra)
    models.append(("ort-dynamic", fp32, dynamic, time.perf_counter() - started))
    # ORT's recommended pre-processing for static quantization: symbolic shape inference, which knows the contrib
    # ops, so the calibrator can type (and so collect) every tensor it is to calibrate.
    inferred = work / "fp32-inferred.onnx"
    quant_pre_process(str(fp32.onnx), str(inferred), skip_optimization=True)
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        target = work / f"ort-static-{method.lower()}.onnx"
        started = time.perf_counter()
        quantize_static(str(inferred), str(target), Calibration(fp32, calibration, args.batch), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=getattr(CalibrationMethod, method), extra_options=extra,
                        # The dense layers: ORT's QDQ quantizer fails on the fused graph's Softmax and has no QDQ form
                        # of the contrib Attention, whose projections are its own packed weight.
                        op_types_to_quantize=["MatMul"])
        models.append((f"ort-static-{method.lower()}", fp32, target, time.perf_counter() - started))
    for name, export in others:
        models.append((name, export, export.onnx, 0.0))

    rows = []
    for name, export, path, seconds in models:
        f1 = score(export, path, data, args.threads, args.batch)
        ms = speed(path, args.threads, args.batch, args.seq, args.iterations, vocab)
        rows.append({"model": name, "path": str(path), "mb": os.path.getsize(path) / 1e6, "ms": ms, "quantize_s": seconds, "f1": f1})
        print(f"scored {name}: {ms:.0f} ms/batch", file=sys.stderr)

    base = rows[0]
    tasks = list(base["f1"])
    print(f"| model | MB | ms / batch ({args.batch}×{args.seq}) | speedup | " + " | ".join(f"{t} (Δ)" for t in tasks) + " | mean (Δ) |")
    print("|---|---:|---:|---:|" + "---:|" * (len(tasks) + 1))
    for r in rows:
        cells = [f"{100 * r['f1'][t]:.1f} ({100 * (r['f1'][t] - base['f1'][t]):+.1f})" for t in tasks]
        mean = float(np.mean([r["f1"][t] for t in tasks]))
        base_mean = float(np.mean([base["f1"][t] for t in tasks]))
        print(f"| {r['model']} | {r['mb']:.1f} | {r['ms']:.0f} | {base['ms'] / r['ms']:.2f}× | " + " | ".join(cells) + f" | {100 * mean:.1f} ({100 * (mean - base_mean):+.1f}) |")
    print(f"\nonnxruntime {ort.__version__}, {args.threads} threads; dev rows: {len(data)}; calibration texts: {len(calibration)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "onnxruntime": ort.__version__, "threads": args.threads}, indent=2))
    if not args.work:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
