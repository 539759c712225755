"""Dev macro-F1 of an ensemble of teachers, from their prediction files, before distilling from it: each task's
probabilities averaged over the files (with --weights, a weighted mean), then scored per task as
examples/diagnostics/logistic.py scores (arg-max for a multiclass task; each multilabel label at its best of 45
thresholds from 0.02 to 0.9, tuned on the rows scored, as xlmt tunes them on dev, so optimistic alike for every
model). Each file alone is scored too. Needs numpy. Usage:
  npx xlmt predict --model EXPORT --in DEV --out teacher-dev.jsonl --keep lang,text
  npx xlmt baseline predict --model BASELINE --in DEV --out baseline-dev.jsonl --keep lang,text
  python3 examples/diagnostics/ensemble-dev.py --dev DEV --tasks tasks.json teacher-dev.jsonl baseline-dev.jsonl
"""
import argparse
import json

import numpy as np

from logistic import macro_f1

p = argparse.ArgumentParser()
p.add_argument('--dev', required=True, help='the labeled file the predictions score (JSONL with id and labels)')
p.add_argument('--tasks', required=True, help='tasks.json')
p.add_argument('--weights', help='comma-separated, one per file (default: equal)')
p.add_argument('files', nargs='+', help='xlmt predict JSONL of the dev file, one per teacher')
args = p.parse_args()

schema = json.load(open(args.tasks))
dev = [json.loads(line) for line in open(args.dev) if line.strip()]
preds = [{r['id']: r['tasks'] for r in map(json.loads, open(f)) if r.get('tasks')} for f in args.files]
weights = [float(w) for w in args.weights.split(',')] if args.weights else [1.0] * len(args.files)
if len(weights) != len(args.files):
    raise SystemExit(f'--weights: {len(weights)} numbers for {len(args.files)} files')

for task, spec in schema.items():
    labels = spec['labels']
    rows = [r for r in dev if task in r.get('labels', {})]
    if not rows or any(task not in pr.get(r['id'], {}) for pr in preds for r in rows):
        print(f'{task}: skipped (no labeled rows, or a file does not score every labeled row)')
        continue
    gold_of = (lambda v: [v]) if spec['type'] == 'multiclass' else (lambda v: v)
    gold = np.array([[1.0 if lab in gold_of(r['labels'][task]) else 0.0 for lab in labels] for r in rows])
    probs = [np.array([[pr[r['id']][task]['scores'][lab] for lab in labels] for r in rows]) for pr in preds]
    alone = ', '.join(f'{100 * macro_f1(gold, q, spec["type"] == "multiclass"):.2f}' for q in probs)
    mean = sum(w * q for w, q in zip(weights, probs)) / sum(weights)
    print(f'{task} ({len(rows)} rows): each file {alone}; the mean {100 * macro_f1(gold, mean, spec["type"] == "multiclass"):.2f}')
