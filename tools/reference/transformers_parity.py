"""Parity between xlmt and Hugging Face transformers, both ways.

1. fixtures: tiny random-weight BertForSequenceClassification and XLMRobertaForSequenceClassification models
   (and a multilabel XLM-R), saved with save_pretrained into test/fixtures/transformers/<name>/ with a
   tokenizer.json, and expected.json holding transformers' input ids, attention mask, logits, last hidden
   states and pooled output for a padded multilingual batch. test/checkpoint/transformers-parity.test.ts
   checks `xlmt import` against them without Python.
2. check: checkpoints saved by xlmt (an imported model, models trained by `xlmt train`) are loaded with
   AutoModelForSequenceClassification / AutoModel, and their outputs compared with xlmt's own
   (tools/reference/xlmt-forward.ts, and `xlmt predict` on an export).

    python tools/reference/transformers_parity.py            # both steps
    python tools/reference/transformers_parity.py fixtures   # rewrite the fixtures only
    python tools/reference/transformers_parity.py check      # the xlmt -> transformers direction only

Exits 1 when a difference exceeds the tolerance (1e-5).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tokenizers
import torch
import transformers
from safetensors.numpy import load_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (
    AutoModel,
    AutoModelForSequenceClassification,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedTokenizerFast,
    XLMRobertaConfig,
    XLMRobertaForSequenceClassification,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "transformers"
TOLERANCE = 1e-5

# Padded batch: the rows differ in length, and some words are not in the vocabulary ([UNK] / <unk>).
TEXTS = [
    "the service was great today",
    "Der Dienst war heute schlecht und langsam.",
    "今日はとても良い",
    "الخدمة ممتازة جدا",
    "bad",
    "El servicio fue excelente, gracias!",
]
LABELS = ["negative", "neutral", "positive"]
TOPICS = ["price", "staff", "speed", "other"]

WORDS = [
    "the", "service", "was", "great", "today", "bad", "good", "Der", "Dienst", "war", "heute", "schlecht",
    "und", "langsam", "gut", "El", "servicio", "fue", "gracias", "الخدمة", "ممتازة", "جدا",
]
# Characters spelled out for words not in WORDS (the tokenizers fall back to them).
CHARS = sorted(set("abcdefghilmnorstuxzDE今日良はとてもいاجدلمةتزخ.,!"))

SIZES = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)


def wordpiece_tokenizer() -> Tokenizer:
    """BERT's tokenizer.json shape: WordPiece, BertNormalizer (cased), BertPreTokenizer, [CLS] … [SEP]."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + CHARS + [f"##{c}" for c in CHARS]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tok


def unigram_tokenizer() -> Tokenizer:
    """XLM-R's tokenizer.json shape: Unigram, NFKC, Metaspace (▁), <s> … </s>, <pad> = 1, <mask> last."""
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [(f"▁{w}", -5.0 - 0.01 * i) for i, w in enumerate(WORDS)]
    pieces += [("▁", -8.0)] + [(c, -10.0 - 0.01 * i) for i, c in enumerate(CHARS)]
    pieces += [("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Weights far from transformers' init (std 0.02, zero biases, unit LayerNorms), so outputs are far from
    uniform and a 1e-5 tolerance is a real bound; every bias and LayerNorm parameter is exercised."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "LayerNorm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith("bias"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(0.2 * noise)


def short(x: np.ndarray) -> list:
    """float32 values as their shortest round-tripping decimals: half the size of repr(float64)."""
    return json.loads(json.dumps(np.vectorize(lambda v: float(np.format_float_scientific(np.float32(v), unique=True)))(x).tolist()))


def hf_tokenizer(dir: Path, tok: Tokenizer, pad: str) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_file=str(dir / "tokenizer.json"), pad_token=pad, padding_side="right")


def record(model: torch.nn.Module, fast: PreTrainedTokenizerFast, texts: list) -> dict:
    enc = fast(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
    base = getattr(model, model.base_model_prefix)
    pooled = None
    if getattr(base, "pooler", None) is not None:
        with torch.no_grad():
            pooled = short(base.pooler(out.hidden_states[-1]).numpy())
    return {
        "texts": texts,
        "input_ids": enc["input_ids"].tolist(),
        "attention_mask": enc["attention_mask"].tolist(),
        "logits": short(out.logits.numpy()),
        "last_hidden_state": short(out.hidden_states[-1].numpy()),
        "pooler_output": pooled,
    }


FIXTURE_SPECS = {
    "bert": dict(kind="bert", seed=1, labels=LABELS, problem_type="single_label_classification"),
    "xlm-roberta": dict(kind="xlm-roberta", seed=2, labels=LABELS, problem_type="single_label_classification"),
    "xlm-roberta-multilabel": dict(kind="xlm-roberta", seed=3, labels=TOPICS, problem_type="multi_label_classification"),
}


def build_fixture(name: str, spec: dict) -> None:
    torch.manual_seed(spec["seed"])
    labels = spec["labels"]
    label_args = dict(id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)}, problem_type=spec["problem_type"])
    if spec["kind"] == "bert":
        tok, pad = wordpiece_tokenizer(), "[PAD]"
        config = BertConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=64, type_vocab_size=2, pad_token_id=0,
                            layer_norm_eps=1e-12, hidden_act="gelu", **SIZES, **label_args)
        model = BertForSequenceClassification(config)
    else:
        tok, pad = unigram_tokenizer(), "<pad>"
        # 64 positions + padding_idx (1) + 1, as XLM-R's 514 = 512 + 2.
        config = XLMRobertaConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=66, type_vocab_size=1, pad_token_id=1,
                                  bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act="gelu", **SIZES, **label_args)
        model = XLMRobertaForSequenceClassification(config)
    randomize(model, spec["seed"])
    model.eval()
    out = FIXTURES / name
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save(str(out / "tokenizer.json"))
    fast = hf_tokenizer(out, tok, pad)
    expected = {
        "generator": "tools/reference/transformers_parity.py",
        "versions": versions(),
        "model_type": config.model_type,
        "problem_type": spec["problem_type"],
        "labels": labels,
        # A padded batch, and the shortest text alone (no padding): the same row must come out the same.
        "batches": [record(model, fast, TEXTS), record(model, fast, ["bad"])],
    }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out.relative_to(ROOT)} ({size // 1024} KB, vocab {tok.get_vocab_size()})")


def versions() -> dict:
    return {"torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}


# ---------------------------------------------------------------- xlmt -> transformers


def xlmt(*args: str, capture: bool = False) -> str:
    cmd = ["node", "--import", "tsx", "src/cli/main.ts", *args]
    print("$ xlmt " + " ".join(args), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, check=True, text=True, capture_output=capture)
    return done.stdout if capture else ""


def xlmt_forward(model_dir: Path, texts: list, work: Path) -> dict:
    texts_file = work / "texts.json"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False))
    done = subprocess.run(["node", "--import", "tsx", "tools/reference/xlmt-forward.ts", "--model", str(model_dir), "--texts", str(texts_file)],
                          cwd=ROOT, check=True, text=True, capture_output=True)
    return json.loads(done.stdout)


def write_jsonl(path: Path, rows: list) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def training_rows(tasks: dict, count: int) -> list:
    """Texts from the fixtures' vocabulary, labeled at random (fixed seed): enough to move every weight."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(count):
        words = rng.choice(WORDS, size=int(rng.integers(2, 7))).tolist()
        labels = {}
        for task, (kind, names) in tasks.items():
            if kind == "multiclass":
                labels[task] = names[int(rng.integers(len(names)))]
            else:
                labels[task] = [n for n in names if rng.random() < 0.4]
        rows.append({"id": f"r{i}", "text": " ".join(words), "lang": ["en", "de", "es", "ar"][i % 4], "labels": labels})
    return rows


class Report:
    def __init__(self) -> None:
        self.lines = []
        self.failed = False

    def compare(self, what: str, ours, theirs, mask=None) -> None:
        a, b = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
        if a.shape != b.shape:
            self.fail(f"{what}: shapes differ, xlmt {a.shape} vs transformers {b.shape}")
            return
        diff = np.abs(a - b)
        if mask is not None:
            diff = diff * np.asarray(mask, dtype=np.float64)[..., None]
        worst = float(diff.max()) if diff.size else 0.0
        ok = worst <= TOLERANCE
        self.failed |= not ok
        self.lines.append(f"{'PASS' if ok else 'FAIL'} {what}: max |diff| {worst:.3g}")
        print(self.lines[-1], flush=True)

    def equal(self, what: str, ours, theirs) -> None:
        ok = ours == theirs
        self.failed |= not ok
        self.lines.append(f"{'PASS' if ok else 'FAIL'} {what}: {'identical' if ok else f'xlmt {ours} vs transformers {theirs}'}")
        print(self.lines[-1], flush=True)

    def fail(self, line: str) -> None:
        self.failed = True
        self.lines.append(f"FAIL {line}")
        print(self.lines[-1], flush=True)


def check_classifier(report: Report, label: str, model_dir: Path, work: Path) -> None:
    """transformers' AutoModelForSequenceClassification on an xlmt model directory vs xlmt's own forward pass."""
    config = json.loads((model_dir / "config.json").read_text())
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    report.equal(f"{label}: transformers class", type(model).__name__, config["architectures"][0])
    ours = xlmt_forward(model_dir, TEXTS, work)
    pad = "[PAD]" if config["model_type"] == "bert" else "<pad>"
    enc = PreTrainedTokenizerFast(tokenizer_file=str(model_dir / "tokenizer.json"), pad_token=pad)(TEXTS, padding=True)
    report.equal(f"{label}: input ids (xlmt tokenizer vs transformers tokenizer)", ours["input_ids"], enc["input_ids"])
    ids = torch.tensor(ours["input_ids"])
    mask = torch.tensor(ours["attention_mask"])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    report.compare(f"{label}: logits", ours["logits"], out.logits.numpy())
    report.compare(f"{label}: last hidden states (all positions)", ours["last_hidden_state"], out.hidden_states[-1].numpy())
    base = getattr(model, model.base_model_prefix)
    if ours["pooler_output"] is not None:
        with torch.no_grad():
            report.compare(f"{label}: pooled output", ours["pooler_output"], base.pooler(out.hidden_states[-1]).numpy())
    # What a user of xlmt gets: the fused ONNX export, scored by `xlmt predict` (probabilities rounded to 1e-6).
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    export = work / f"{slug}-export"
    xlmt("export", "--model", str(model_dir), "--out", str(export), "--threads", "1", "--json", capture=True)
    write_jsonl(work / "predict-in.jsonl", [{"id": f"t{i}", "text": t} for i, t in enumerate(TEXTS)])
    preds = work / f"{slug}-predictions.jsonl"
    preds.unlink(missing_ok=True)
    xlmt("predict", "--model", str(export), "--in", str(work / "predict-in.jsonl"), "--out", str(preds), "--threads", "1", "--quiet")
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    task = next(iter(rows[0]["tasks"]))
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    scores = [[r["tasks"][task]["scores"][l] for l in labels] for r in rows]
    multilabel = config.get("problem_type") == "multi_label_classification"
    theirs = torch.sigmoid(out.logits) if multilabel else torch.softmax(out.logits, -1)
    report.compare(f"{label}: xlmt predict on the fused export vs transformers' probabilities", scores, theirs.numpy())


def check_moved(report: Report, label: str, start: Path, trained: Path) -> None:
    """Training must have changed the weights, or the comparison would only re-check the fixture."""
    before = load_file(str(start / "model.safetensors"))
    after = load_file(str(trained / "model.safetensors"))
    shared = sorted(set(before) & set(after))
    moved = max(float(np.abs(before[k] - after[k]).max()) for k in shared)
    ok = len(shared) > 0 and moved > 1e-4
    report.failed |= not ok
    report.lines.append(f"{'PASS' if ok else 'FAIL'} {label}: training moved the weights (max |change| {moved:.3g} over {len(shared)} shared tensors)")
    print(report.lines[-1], flush=True)


def check_encoder(report: Report, label: str, model_dir: Path, work: Path) -> None:
    """A multi-task model has no transformers class: AutoModel loads its encoder, which must compute xlmt's."""
    config = json.loads((model_dir / "config.json").read_text())
    model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    report.equal(f"{label}: transformers class", type(model).__name__, config["architectures"][0])
    ours = xlmt_forward(model_dir, TEXTS, work)
    enc = PreTrainedTokenizerFast(tokenizer_file=str(model_dir / "tokenizer.json"), pad_token="<pad>")(TEXTS, padding=True)
    report.equal(f"{label}: input ids (xlmt tokenizer vs transformers tokenizer)", ours["input_ids"], enc["input_ids"])
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ours["input_ids"]), attention_mask=torch.tensor(ours["attention_mask"]))
    report.compare(f"{label}: last hidden states (all positions)", ours["last_hidden_state"], out.last_hidden_state.numpy())


def check(report: Report) -> None:
    work = Path(tempfile.mkdtemp(prefix="xlmt-parity-"))
    sentiment = {"sentiment": ("multiclass", LABELS)}
    topics = {"topics": ("multilabel", TOPICS)}
    tasks_json = lambda tasks: json.dumps({t: {"type": k, "labels": n} for t, (k, n) in tasks.items()})
    write_jsonl(work / "sentiment.jsonl", training_rows(sentiment, 48))
    write_jsonl(work / "topics.jsonl", training_rows(topics, 48))
    write_jsonl(work / "both.jsonl", training_rows({**sentiment, **topics}, 48))
    (work / "sentiment.json").write_text(tasks_json(sentiment))
    (work / "topics.json").write_text(tasks_json(topics))
    (work / "both.json").write_text(tasks_json({**sentiment, **topics}))
    train = ["--epochs", "2", "--batch-size", "8", "--lr", "1e-3", "--max-length", "32", "--threads", "1", "--quiet", "--patience", "0"]

    # 1. `xlmt import` writes the classifier back out; transformers loads that directory.
    for name in ["bert", "xlm-roberta"]:
        imported = work / f"{name}-imported"
        xlmt("import", "--from", str(FIXTURES / name), "--task", "sentiment", "--out", str(imported))
        check_classifier(report, f"{name} imported by xlmt", imported, work)

    # 2. Models trained by `xlmt train` with transformers' head (weights moved by AdamW, saved in best/).
    for name, style, data, tasks in [("bert", "bert", "sentiment", sentiment), ("xlm-roberta", "roberta", "sentiment", sentiment),
                                     ("xlm-roberta-multilabel", "roberta", "topics", topics)]:
        run = work / f"{name}-run"
        xlmt("train", "--init", str(FIXTURES / name), "--train", str(work / f"{data}.jsonl"), "--dev", str(work / f"{data}.jsonl"),
             "--tasks", str(work / f"{data}.json"), "--head-style", style, "--out", str(run), *train)
        check_moved(report, f"{name} trained by xlmt", FIXTURES / name, run / "best")
        check_classifier(report, f"{name} trained by xlmt ({style} head)", run / "best", work)

    # 3. A two-task model: linear heads, saved as the encoder class plus heads.* that transformers ignores.
    run = work / "multitask-run"
    xlmt("train", "--init", str(FIXTURES / "xlm-roberta"), "--train", str(work / "both.jsonl"), "--dev", str(work / "both.jsonl"),
         "--tasks", str(work / "both.json"), "--out", str(run), *train)
    check_moved(report, "xlm-roberta two-task model", FIXTURES / "xlm-roberta", run / "best")
    check_encoder(report, "xlm-roberta two-task model trained by xlmt (linear heads)", run / "best", work)
    shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=["all", "fixtures", "check"], default="all")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.step in ("all", "fixtures"):
        for name, spec in FIXTURE_SPECS.items():
            build_fixture(name, spec)
    if args.step in ("all", "check"):
        report = Report()
        check(report)
        v = versions()
        print(f"\n{'FAILED' if report.failed else 'PASSED'}: torch {v['torch']}, transformers {v['transformers']}, tokenizers {v['tokenizers']}, tolerance {TOLERANCE}")
        return 1 if report.failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
