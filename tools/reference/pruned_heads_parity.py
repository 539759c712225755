"""Head-pruned checkpoints between xlmt and Hugging Face transformers, both ways.

transformers keeps a head-pruned model's shapes in config.json's `pruned_heads` ({layer: [head indices before
pruning]}) and prunes a freshly built model by it before loading the narrower weights. transformers 5.0 removed
head pruning (huggingface/transformers#41417), so this script needs the last 4.x release:
tools/reference/requirements-pruned.txt.

1. fixtures: tiny random-weight BertForSequenceClassification and XLMRobertaForSequenceClassification models
   (3 layers, hidden 32, 4 heads, FFN 64) pruned by transformers' own `prune_heads(PRUNED)`, saved with
   save_pretrained into test/fixtures/transformers/<name>-pruned/ with a tokenizer.json, and expected.json holding
   the reloaded model's input ids, attention mask, logits, every layer's hidden states and pooled output.
   test/checkpoint/transformers-pruned.test.ts checks `xlmt import` against them without Python.
2. check: xlmt cuts heads and FFN neurons (even FFN sizes, the one per-layer shape transformers can express) out
   of imported checkpoints, unpruned and already pruned: given cuts (prune-fixture.ts), and `xlmt prune heads-ffn
   --even`; it trains one of them; transformers 4.x loads each with AutoModelForSequenceClassification, and its
   outputs are compared with xlmt's own on xlmt's ids.

    python tools/reference/pruned_heads_parity.py            # both steps
    python tools/reference/pruned_heads_parity.py fixtures   # rewrite the -pruned fixtures only
    python tools/reference/pruned_heads_parity.py check      # the xlmt -> transformers direction only

Exits 1 when a difference exceeds the tolerance (1e-5).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification, XLMRobertaConfig, XLMRobertaForSequenceClassification

from transformers_parity import (
    FIXTURES, LABELS, ROOT, SIZES, TEXTS, TOLERANCE, Report, check_classifier, check_moved, hf_tokenizer, randomize, short,
    training_rows, unigram_tokenizer, versions, wordpiece_tokenizer, write_jsonl, xlmt, xlmt_forward,
)

LAYERS = 3
# Two heads out of layer 0, one out of layer 1, layer 2 whole: uneven head counts, and an untouched layer.
PRUNED = {0: [1, 3], 1: [0]}
HEAD_SIZE = SIZES["hidden_size"] // SIZES["num_attention_heads"]

FIXTURE_SPECS = {
    "bert-pruned": dict(kind="bert", seed=4),
    "xlm-roberta-pruned": dict(kind="xlm-roberta", seed=5),
}


def require_transformers_4() -> None:
    if not transformers.__version__.startswith("4."):
        sys.exit(f"transformers {transformers.__version__}: head pruning needs 4.x (5.0 removed it); "
                 "pip install -r tools/reference/requirements-pruned.txt in a separate venv")


def new_classifier(kind: str, seed: int):
    """The existing fixtures' shapes and random weights, with LAYERS layers; returns (model, tokenizer, pad token)."""
    torch.manual_seed(seed)
    sizes = {**SIZES, "num_hidden_layers": LAYERS}
    labels = dict(id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)}, problem_type="single_label_classification")
    if kind == "bert":
        tok, pad = wordpiece_tokenizer(), "[PAD]"
        config = BertConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=64, type_vocab_size=2, pad_token_id=0,
                            layer_norm_eps=1e-12, hidden_act="gelu", **sizes, **labels)
        model = BertForSequenceClassification(config)
    else:
        tok, pad = unigram_tokenizer(), "<pad>"
        config = XLMRobertaConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=66, type_vocab_size=1, pad_token_id=1,
                                  bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act="gelu", **sizes, **labels)
        model = XLMRobertaForSequenceClassification(config)
    randomize(model, seed)
    return model.eval(), tok, pad


def layer_shapes(model: torch.nn.Module) -> list:
    """[heads kept, FFN size] of each layer, read off the weights transformers holds."""
    base = getattr(model, model.base_model_prefix)
    return [[l.attention.self.query.weight.shape[0] // HEAD_SIZE, l.intermediate.dense.weight.shape[0]] for l in base.encoder.layer]


def record(model: torch.nn.Module, fast, texts: list) -> dict:
    enc = fast(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
        base = getattr(model, model.base_model_prefix)
        pooled = short(base.pooler(out.hidden_states[-1]).numpy()) if getattr(base, "pooler", None) is not None else None
    return {
        "texts": texts,
        "input_ids": enc["input_ids"].tolist(),
        "attention_mask": enc["attention_mask"].tolist(),
        "logits": short(out.logits.numpy()),
        # transformers' hidden_states: the embeddings' output, then each layer's (the last is last_hidden_state).
        "hidden_states": [short(h.numpy()) for h in out.hidden_states],
        "pooler_output": pooled,
    }


def heads_map(pruned_heads: dict) -> dict:
    """pruned_heads one way: int layer keys (JSON has strings) and sorted head lists (transformers keeps sets' order)."""
    return {int(k): sorted(v) for k, v in pruned_heads.items()}


def loaded(model_dir: Path) -> torch.nn.Module:
    """AutoModelForSequenceClassification on a directory; refuses any weight it had to make up or leave out."""
    model, info = AutoModelForSequenceClassification.from_pretrained(model_dir, output_loading_info=True)
    stray = {k: v for k, v in info.items() if v}
    if stray:
        raise RuntimeError(f"{model_dir}: transformers did not load the checkpoint as saved: {stray}")
    return model.eval()


def build_fixture(name: str, spec: dict) -> None:
    model, tok, pad = new_classifier(spec["kind"], spec["seed"])
    model.prune_heads(PRUNED)
    out = FIXTURES / name
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save(str(out / "tokenizer.json"))
    fast = hf_tokenizer(out, tok, pad)
    # What transformers itself makes of the saved checkpoint: rebuilt from config.json's pruned_heads, then loaded.
    reloaded = loaded(out)
    expect_heads = {str(k): v for k, v in PRUNED.items()}
    if heads_map(reloaded.config.pruned_heads) != heads_map(expect_heads):
        raise RuntimeError(f"{name}: reloaded pruned_heads {reloaded.config.pruned_heads}, expected {PRUNED}")
    if layer_shapes(reloaded) != layer_shapes(model):
        raise RuntimeError(f"{name}: reloaded shapes {layer_shapes(reloaded)} differ from the pruned model's {layer_shapes(model)}")
    batches = [record(reloaded, fast, TEXTS), record(reloaded, fast, ["bad"])]
    in_memory = record(model, fast, TEXTS)
    if in_memory["logits"] != batches[0]["logits"]:
        raise RuntimeError(f"{name}: the reloaded checkpoint computes other logits than the model pruned in memory")
    expected = {
        "generator": "tools/reference/pruned_heads_parity.py",
        "versions": versions(),
        "model_type": reloaded.config.model_type,
        "problem_type": "single_label_classification",
        "labels": LABELS,
        "pruned_heads": expect_heads,
        # [heads kept, FFN size] per layer, as transformers holds the weights.
        "layer_shapes": layer_shapes(reloaded),
        # A padded batch, and the shortest text alone (no padding).
        "batches": batches,
    }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out.relative_to(ROOT)} ({size // 1024} KB, layers [heads, FFN] {layer_shapes(reloaded)})")


# ---------------------------------------------------------------- xlmt -> transformers


def even_cuts(remove_heads: dict, keep: int, layers: int, seed: int) -> dict:
    """xlmt's cut for every layer: the given heads out, and the same number of FFN neurons kept in each layer
    (picked at random, not a prefix, so the kept rows and columns must line up)."""
    rng = np.random.default_rng(seed)
    cuts = {}
    for layer in range(layers):
        cut = {"keepNeurons": sorted(int(i) for i in rng.choice(SIZES["intermediate_size"], size=keep, replace=False))}
        if layer in remove_heads:
            cut["removeHeads"] = remove_heads[layer]
        cuts[str(layer)] = cut
    return cuts


def prune_with_xlmt(model_dir: Path, cuts: dict, out: Path, work: Path) -> dict:
    cuts_file = work / "cuts.json"
    cuts_file.write_text(json.dumps(cuts))
    print(f"$ prune-fixture.ts --model {model_dir.name} --out {out.name} (heads out: "
          f"{ {k: c['removeHeads'] for k, c in cuts.items() if 'removeHeads' in c} }, FFN kept: {len(cuts['0']['keepNeurons'])})", flush=True)
    done = subprocess.run(["node", "--import", "tsx", "tools/reference/prune-fixture.ts", "--model", str(model_dir), "--cuts", str(cuts_file), "--out", str(out)],
                          cwd=ROOT, check=True, text=True, capture_output=True)
    return json.loads(done.stdout)


def check_pruned(report: Report, label: str, model_dir: Path, expected_heads: dict, ffn: int, work: Path) -> None:
    """config.json as transformers reads it, the shapes it builds, and every layer's outputs against xlmt's."""
    config = json.loads((model_dir / "config.json").read_text())
    report.equal(f"{label}: config.json pruned_heads", config.get("pruned_heads"), {str(k): v for k, v in expected_heads.items()})
    report.equal(f"{label}: config.json intermediate_size (even FFN sizes, no xlmt_intermediate_sizes)",
                 [config.get("intermediate_size"), "xlmt_intermediate_sizes" in config], [ffn, False])
    try:
        model = loaded(model_dir)
    except (RuntimeError, ValueError, OSError) as err:
        report.fail(f"{label}: transformers could not load it: {err}")
        return
    heads = config["num_attention_heads"]
    want = [[heads - len(expected_heads.get(i, [])), ffn] for i in range(config["num_hidden_layers"])]
    report.equal(f"{label}: per-layer [heads, FFN] in transformers", layer_shapes(model), want)
    # Logits, last hidden states, pooled output, and `xlmt predict` on the fused export (shared with the
    # unpruned check), then every layer's hidden states.
    check_classifier(report, label, model_dir, work)
    ours = xlmt_forward(model_dir, TEXTS, work)
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ours["input_ids"]), attention_mask=torch.tensor(ours["attention_mask"]), output_hidden_states=True)
    report.equal(f"{label}: number of hidden states", len(ours["hidden_states"]), len(out.hidden_states))
    for i, (mine, theirs) in enumerate(zip(ours["hidden_states"], out.hidden_states)):
        what = "embeddings" if i == 0 else f"layer {i - 1}"
        report.compare(f"{label}: hidden states after {what} (all positions)", mine, theirs.numpy())


def merged(*maps: dict) -> dict:
    out = {}
    for m in maps:
        for layer, heads in m.items():
            out[int(layer)] = sorted(set(out.get(int(layer), [])) | set(heads))
    return out


def check(report: Report) -> None:
    work = Path(tempfile.mkdtemp(prefix="xlmt-pruned-parity-"))
    # (source fixture, layers, heads xlmt removes, FFN neurons kept per layer, seed of the neuron choice)
    cases = [
        ("bert", 2, {0: [0, 2], 1: [3]}, 48, 11),
        ("xlm-roberta", 2, {0: [1], 1: [0, 1, 2]}, 40, 12),
        # Already pruned by transformers: heads are named by their index before any pruning, so xlmt's additions
        # must merge into the recorded lists (layer 0 keeps head 0 alone).
        ("bert-pruned", LAYERS, {0: [2], 2: [1, 2]}, 32, 13),
        ("xlm-roberta-pruned", LAYERS, {0: [0], 1: [3]}, 56, 14),
    ]
    recorded = {name: {int(k): v for k, v in json.loads((FIXTURES / name / "config.json").read_text()).get("pruned_heads", {}).items()} for name, *_ in cases}
    cut_dirs = {}
    for name, layers, remove, ffn, seed in cases:
        imported = work / f"{name}-imported"
        xlmt("import", "--from", str(FIXTURES / name), "--task", "sentiment", "--out", str(imported))
        cut = work / f"{name}-cut"
        prune_with_xlmt(imported, even_cuts(remove, ffn, layers, seed), cut, work)
        expected_heads = merged(recorded[name], remove)
        check_pruned(report, f"{name} cut by xlmt", cut, expected_heads, ffn, work)
        cut_dirs[name] = (cut, expected_heads, ffn)

    write_jsonl(work / "sentiment.jsonl", training_rows({"sentiment": ("multiclass", LABELS)}, 48))
    (work / "sentiment.json").write_text(json.dumps({"sentiment": {"type": "multiclass", "labels": LABELS}}))

    # `xlmt prune heads-ffn --even`: the heads and neurons chosen by importance on labeled data, then cut.
    for name, layers, heads, ffn in [("bert", 2, 2, 48), ("xlm-roberta-pruned", LAYERS, 2, 40)]:
        out = work / f"{name}-heads-ffn"
        xlmt("prune", "heads-ffn", "--model", str(work / f"{name}-imported"), "--data", str(work / "sentiment.jsonl"),
             "--tasks", str(work / "sentiment.json"), "--heads", str(heads), "--ffn", str(ffn), "--even", "--iterations", "2",
             "--threads", "1", "--out", str(out))
        label = f"{name} pruned by xlmt prune heads-ffn --even"
        written = heads_map(json.loads((out / "config.json").read_text()).get("pruned_heads", {}))
        print(f"{label}: pruned_heads {written}", flush=True)
        report.equal(f"{label}: heads kept per layer", [SIZES["num_attention_heads"] - len(written.get(i, [])) for i in range(layers)], [heads] * layers)
        report.equal(f"{label}: heads transformers pruned stay pruned", all(set(h) <= set(written.get(i, [])) for i, h in recorded[name].items()), True)
        check_pruned(report, label, out, written, ffn, work)

    # A cut model trained by `xlmt train --init`: training keeps the per-layer shapes and saves them for transformers.
    cut, expected_heads, ffn = cut_dirs["xlm-roberta-pruned"]
    run = work / "pruned-run"
    xlmt("train", "--init", str(cut), "--train", str(work / "sentiment.jsonl"), "--dev", str(work / "sentiment.jsonl"),
         "--tasks", str(work / "sentiment.json"), "--head-style", "roberta", "--out", str(run),
         "--epochs", "2", "--batch-size", "8", "--lr", "1e-3", "--max-length", "32", "--threads", "1", "--quiet", "--patience", "0")
    check_moved(report, "xlm-roberta-pruned cut, trained by xlmt", cut, run / "best")
    check_pruned(report, "xlm-roberta-pruned cut, trained by xlmt (roberta head)", run / "best", expected_heads, ffn, work)
    shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=["all", "fixtures", "check"], default="all")
    args = parser.parse_args()
    require_transformers_4()
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
