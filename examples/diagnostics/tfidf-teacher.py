"""A TF-IDF + logistic regression teacher (`xlmt baseline` is the same model in TypeScript, bucket for bucket,
and what examples/xm-bench-distill.sh uses): fits one model per task on the training rows, prints its dev
macro-F1, and writes its predictions in `xlmt predict`'s JSONL layout (text and lang kept) for
  - every training row, for the tasks that row is not labeled for, and
  - the unlabeled lines in the training languages (at most --unlabeled of them, in file order),
for `xlmt train --teacher FILE` (soft targets for a student).

Features: character 2-5-grams of the lowercased text (across word boundaries) and word uni- and bigrams,
hashed into 2^20 buckets each; sublinear tf, smoothed idf, L2-normalized rows. L2-regularized logistic
regression (softmax for multiclass, one sigmoid per label for multilabel) fitted by L-BFGS. Needs numpy and
scipy (and logistic.py beside it). Usage:
  python3 examples/diagnostics/tfidf-teacher.py --data DATA_DIR --out teacher.jsonl [--unlabeled 60000]
"""
import argparse
import json
import os
import re
import zlib

import numpy as np
import scipy.sparse as sp

from logistic import fit, macro_f1, probabilities

BUCKETS = 1 << 20
p = argparse.ArgumentParser()
p.add_argument('--data', required=True)
p.add_argument('--out', required=True)
p.add_argument('--unlabeled', type=int, default=60000)
p.add_argument('--C', type=float, default=10.0)
p.add_argument('--iterations', type=int, default=300)
args = p.parse_args()

rows = {s: [json.loads(l) for l in open(f'{args.data}/{s}.jsonl') if l.strip()] for s in ('train', 'dev')}
tasks = json.load(open(f'{args.data}/tasks.json'))
languages = {r['lang'] for r in rows['train']}
unlabeled = []
for line in open(f'{args.data}/unlabeled.jsonl'):
    if len(unlabeled) >= args.unlabeled:
        break
    r = json.loads(line)
    if r['lang'] in languages and r['text'].strip():
        unlabeled.append(r)
rows['unlabeled'] = unlabeled


def bucket(text):
    return zlib.crc32(text.encode()) % BUCKETS


def features(text):
    text = text.lower()
    padded = f' {text} '
    out = [bucket(padded[i:i + n]) for n in range(2, 6) for i in range(len(padded) - n + 1)]
    words = re.findall(r'\w+|[^\w\s]', text)
    out += [BUCKETS + bucket(w) for w in words]
    out += [BUCKETS + bucket(f'{a} {b}') for a, b in zip(words, words[1:])]
    return out


def matrix(texts):
    r, c, v = [], [], []
    for k, text in enumerate(texts):
        counts = {}
        for f in features(text):
            counts[f] = counts.get(f, 0) + 1
        for f, n in counts.items():
            r.append(k), c.append(f), v.append(1 + np.log(n))
    return sp.csr_matrix((v, (r, c)), shape=(len(texts), 2 * BUCKETS))








counts = {s: matrix([r['text'] for r in rows[s]]) for s in ('train', 'dev', 'unlabeled')}
predictions = {s: [{} for _ in rows[s]] for s in ('train', 'unlabeled')}
scores = []
for name, task in tasks.items():
    labels, multiclass = task['labels'], task['type'] == 'multiclass'
    gold = [i for i, r in enumerate(rows['train']) if name in r['labels']]
    df = np.asarray((counts['train'][gold] > 0).sum(0)).ravel()
    used = np.flatnonzero(df)
    idf = np.log((1 + len(gold)) / (1 + df[used])) + 1

    def tfidf(x):
        x = x[:, used].multiply(idf).tocsr()
        norm = np.sqrt(np.asarray(x.multiply(x).sum(1)).ravel()) + 1e-12
        return sp.diags(1 / norm) @ x

    def targets(split, members):
        y = np.zeros((len(members), len(labels)))
        for a, i in enumerate(members):
            value = rows[split][i]['labels'][name]
            for label in [value] if isinstance(value, str) else value:
                y[a, labels.index(label)] = 1
        return y

    weights, bias = fit(tfidf(counts['train'][gold]), targets('train', gold), multiclass, args.C, args.iterations)
    dev = [i for i, r in enumerate(rows['dev']) if name in r['labels']]
    prob, y_dev = probabilities(tfidf(counts['dev'][dev]), weights, bias, multiclass), targets('dev', dev)
    score = macro_f1(y_dev, prob, multiclass)
    scores.append(score)
    print(f'{name}: dev macro-F1 {100 * score:.1f}', flush=True)
    for split in ('train', 'unlabeled'):
        members = [i for i, r in enumerate(rows[split]) if name not in r.get('labels', {})]
        prob = probabilities(tfidf(counts[split][members]), weights, bias, multiclass)
        for a, i in enumerate(members):
            scores_of = {label: round(float(prob[a, j]), 6) for j, label in enumerate(labels)}
            predictions[split][i][name] = {'scores': scores_of}
print(f'mean dev macro-F1 {100 * np.mean(scores):.1f}')

written = 0
with open(f'{args.out}.part', 'w') as out:  # renamed when complete: a killed run leaves no partial teacher file
    for split in ('train', 'unlabeled'):
        for i, r in enumerate(rows[split]):
            if predictions[split][i]:
                out.write(json.dumps({'id': f'{split}-{i}', 'text': r['text'], 'lang': r['lang'], 'tasks': predictions[split][i]}, ensure_ascii=False) + '\n')
                written += 1
os.replace(f'{args.out}.part', args.out)
print(f'{written} rows written to {args.out}')
