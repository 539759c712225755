"""Logistic regression per task over bag-of-feature TF-IDF vectors, to see what a linear model gets from a
tokenizer's tokens (`tok`), from the tokens plus the character 3-5-grams inside each token (`tokchar`, what
`xlmt train --char-ngrams 3-5` gives the encoder), or from character 2-5-grams of the whole text (`char`).

Features: sublinear tf (1 + log count), smoothed idf, L2-normalized rows; character n-grams hashed into 2^20
buckets. L2-regularized logistic regression (softmax for multiclass, one sigmoid per label for multilabel)
fitted by L-BFGS (300 iterations). Multilabel thresholds are tuned per label on dev, as xlmt does. Needs numpy
and scipy. Usage:
  node examples/diagnostics/dump-token-ids.mjs TOKENIZER DATA_DIR IDS_DIR
  python3 examples/diagnostics/linear-probe.py --data DATA_DIR --ids IDS_DIR --tokenizer TOKENIZER --features tokchar
"""
import argparse
import json
import zlib

import numpy as np
import scipy.sparse as sp

from logistic import fit, macro_f1, probabilities

BUCKETS = 1 << 20
p = argparse.ArgumentParser()
p.add_argument('--data', required=True)
p.add_argument('--ids', help='directory with ids-train.txt and ids-dev.txt (features tok, tokchar)')
p.add_argument('--tokenizer', help='tokenizer.json (features tokchar)')
p.add_argument('--features', choices=['tok', 'tokchar', 'char'], required=True)
p.add_argument('--C', type=float, default=10.0)
args = p.parse_args()

rows = {s: [json.loads(l) for l in open(f'{args.data}/{s}.jsonl') if l.strip()] for s in ('train', 'dev')}
tasks = json.load(open(f'{args.data}/tasks.json'))
ids = {s: [l.split() for l in open(f'{args.ids}/ids-{s}.txt')] for s in ('train', 'dev')} if args.ids else None
vocab = None
if args.features == 'tokchar':
    model = json.load(open(args.tokenizer))['model']
    vocab = {i: t for t, i in model['vocab'].items()}


def bucket(text):
    return zlib.crc32(text.encode()) % BUCKETS


def text_ngrams(text):
    text = f' {text.lower()} '
    return [bucket(text[i:i + n]) for n in range(2, 6) for i in range(len(text) - n + 1)]


token_cache = {}


def token_ngrams(token_id):
    if token_id not in token_cache:
        token = vocab.get(token_id, '')
        text = token[2:] if token.startswith('##') else f'<{token}'
        text = text.lower()
        token_cache[token_id] = [bucket(text[i:i + n]) for n in range(3, 6) for i in range(len(text) - n + 1)]
    return token_cache[token_id]


def features(split, i):
    if args.features == 'char':
        return text_ngrams(rows[split][i]['text'])
    tokens = [int(t) for t in ids[split][i][1:-1]]  # without [CLS] and [SEP]
    out = [BUCKETS + t for t in tokens]  # token ids above the n-gram buckets
    if args.features == 'tokchar':
        for t in tokens:
            out += token_ngrams(t)
    return out


def matrix(split, members):
    r, c, v = [], [], []
    for k, i in enumerate(members):
        counts = {}
        for f in features(split, i):
            counts[f] = counts.get(f, 0) + 1
        for f, n in counts.items():
            r.append(k), c.append(f), v.append(1 + np.log(n))
    return sp.csr_matrix((v, (r, c)), shape=(len(members), 2 * BUCKETS))


def tfidf(train, dev):
    df = np.asarray((train > 0).sum(0)).ravel()
    idf = np.log((1 + train.shape[0]) / (1 + df)) + 1
    out = []
    for x in (train, dev):
        x = x.multiply(idf).tocsr()
        norm = np.sqrt(np.asarray(x.multiply(x).sum(1)).ravel()) + 1e-12
        out.append(sp.diags(1 / norm) @ x)
    used = np.unique(out[0].indices)
    return out[0][:, used], out[1][:, used]






scores = []
for name, task in tasks.items():
    labels, multiclass = task['labels'], task['type'] == 'multiclass'
    members = {s: [i for i, r in enumerate(rows[s]) if name in r['labels']] for s in rows}
    x_train, x_dev = tfidf(matrix('train', members['train']), matrix('dev', members['dev']))

    def targets(split):
        y = np.zeros((len(members[split]), len(labels)))
        for a, i in enumerate(members[split]):
            value = rows[split][i]['labels'][name]
            for label in [value] if isinstance(value, str) else value:
                y[a, labels.index(label)] = 1
        return y

    y_train, y_dev = targets('train'), targets('dev')
    weights, bias = fit(x_train, y_train, multiclass, args.C)
    prob = probabilities(x_dev, weights, bias, multiclass)
    score = macro_f1(y_dev, prob, multiclass)
    scores.append(score)
    print(f'{name}: dev macro-F1 {100 * score:.1f} ({x_train.shape[1]} features)', flush=True)
print(f'{args.features}, C = {args.C}: mean {100 * np.mean(scores):.1f}')
