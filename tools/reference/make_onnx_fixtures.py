"""Builds the ONNX encoder fixtures of test/fixtures/onnx/ (xlmt import --from model.onnx).

Tiny random BertModel and XLMRobertaModel (2 layers, hidden 32, 4 heads, vocab 100), exported the ways encoders
reach users: torch.onnx.export (unfused), ONNX Runtime's transformer optimizer (fused com.microsoft ops),
quantize_dynamic (int8 MatMulInteger) and MatMulNBitsQuantizer (4-bit MatMulNBits). Records each model's
last_hidden_state and pooler_output on fixed id sequences into expected.json, and the original weights as
<name>.reference.safetensors. The tests never run this: they read the committed files.

    python -m venv venv && venv/bin/pip install -r tools/reference/requirements.txt
    venv/bin/python tools/reference/make_onnx_fixtures.py   # writes test/fixtures/onnx/
"""
import json
import os
import sys

import onnx
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, decoders
from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'onnx')
VOCAB = 100
WORDS = ['the', 'service', 'was', 'great', 'today', 'awful', 'der', 'dienst', 'war', 'heute', 'schlecht', 'und', 'toll']


def bert_tokenizer() -> Tokenizer:
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    letters = sorted(set(''.join(WORDS)))
    tokens = specials + WORDS + letters + ['##' + c for c in letters]
    tokens += [f'[unused{i}]' for i in range(VOCAB - len(tokens))]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(tokens)}, unk_token='[UNK]'))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single='[CLS] $A [SEP]', pair='[CLS] $A [SEP] $B:1 [SEP]:1', special_tokens=[('[CLS]', 2), ('[SEP]', 3)])
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(specials)
    return tok


def xlmr_tokenizer() -> Tokenizer:
    specials = ['<s>', '<pad>', '</s>', '<unk>']
    letters = sorted(set(''.join(WORDS)))
    pieces = ['\u2581' + w for w in WORDS] + letters + ['\u2581' + c for c in letters]
    vocab = [(s, 0.0) for s in specials] + [(p, -1.0 - 0.01 * i) for i, p in enumerate(pieces)]
    vocab += [(f'<extra{i}>', -20.0) for i in range(VOCAB - 1 - len(vocab))]
    vocab.append(('<mask>', 0.0))
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Replace(' {2,}', ' ')])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement='\u2581', prepend_scheme='always')
    tok.post_processor = processors.TemplateProcessing(single='<s> $A </s>', pair='<s> $A </s> </s> $B </s>', special_tokens=[('<s>', 0), ('</s>', 2)])
    tok.decoder = decoders.Metaspace(replacement='\u2581', prepend_scheme='always')
    tok.add_special_tokens(specials + ['<mask>'])
    return tok


def tiny(kind: str) -> torch.nn.Module:
    torch.manual_seed(1 if kind == 'bert' else 2)
    common = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  hidden_act='gelu', attn_implementation='eager')
    if kind == 'bert':
        model = BertModel(BertConfig(max_position_embeddings=64, type_vocab_size=2, pad_token_id=0, **common))
    else:
        model = XLMRobertaModel(XLMRobertaConfig(max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, layer_norm_eps=1e-5, **common))
    # Random LayerNorm and bias values, so that a swapped gamma/beta or a lost bias shows in the outputs.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('bias') or 'LayerNorm' in name:
                p.add_(0.1 * torch.randn_like(p))
            elif p.dim() == 2:
                p.mul_(5.0)  # initializer_range 0.02 makes every layer nearly the identity; 0.1 does not
    return model.eval()


def batch(kind: str):
    pad = 0 if kind == 'bert' else 1
    first, last = (2, 3) if kind == 'bert' else (0, 2)
    rows = [[first, 7, 12, 9, 30, 41, last], [first, 55, 8, last], [first, 60, 99 if kind == 'bert' else 98, 20, 5, last]]
    seq = max(len(r) for r in rows)
    ids = [r + [pad] * (seq - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (seq - len(r)) for r in rows]
    return torch.tensor(ids), torch.tensor(mask)


class Outputs(torch.nn.Module):
    """The model with positional inputs and tuple outputs, as the TorchScript exporter traces it."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.last_hidden_state, out.pooler_output


def export(model, path: str, kind: str) -> None:
    ids, mask = batch(kind)
    torch.onnx.export(Outputs(model), (ids, mask), path, input_names=['input_ids', 'attention_mask'],
                      output_names=['last_hidden_state', 'pooler_output'], opset_version=17, dynamo=False,
                      dynamic_axes={'input_ids': {0: 'batch', 1: 'seq'}, 'attention_mask': {0: 'batch', 1: 'seq'},
                                    'last_hidden_state': {0: 'batch', 1: 'seq'}, 'pooler_output': {0: 'batch'}})
    onnx.checker.check_model(onnx.load(path))


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    bert_tokenizer().save(os.path.join(OUT, 'bert-tokenizer.json'))
    xlmr_tokenizer().save(os.path.join(OUT, 'xlmr-tokenizer.json'))
    expected = {'torch': torch.__version__, 'models': {}}
    for kind, name in [('bert', 'bert-tiny'), ('xlmr', 'xlmr-tiny')]:
        model = tiny(kind)
        save_file({k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith('_ids')},
                  os.path.join(OUT, f'{name}.reference.safetensors'), metadata={'format': 'pt'})
        ids, mask = batch(kind)
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask)
        expected['models'][name] = {
            'input_ids': ids.tolist(), 'attention_mask': mask.tolist(),
            'last_hidden_state': out.last_hidden_state.flatten().tolist(), 'pooler_output': out.pooler_output.flatten().tolist(),
        }
        export(model, os.path.join(OUT, f'{name}.onnx'), kind)
    base = os.path.join(OUT, 'bert-tiny.onnx')
    made = []
    try:
        from onnxruntime.transformers.optimizer import optimize_model
        fused = optimize_model(base, model_type='bert', num_heads=4, hidden_size=32, opt_level=1)
        fused.save_model_to_file(os.path.join(OUT, 'bert-tiny-fused.onnx'))
        made.append('bert-tiny-fused.onnx')
    except Exception as e:  # noqa: BLE001 - the fixture is optional; say why it is missing
        print(f'no fused fixture: {e}', file=sys.stderr)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(base, os.path.join(OUT, 'bert-tiny-int8.onnx'), weight_type=QuantType.QInt8, per_channel=True)
    made.append('bert-tiny-int8.onnx')
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
        q = MatMulNBitsQuantizer(onnx.load(base), block_size=16, is_symmetric=False)
        q.process()
        q.model.save_model_to_file(os.path.join(OUT, 'bert-tiny-int4.onnx'))
        made.append('bert-tiny-int4.onnx')
    except Exception as e:  # noqa: BLE001
        print(f'no 4-bit fixture: {e}', file=sys.stderr)
    expected['derived'] = {m: 'bert-tiny' for m in made}
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f)
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == '__main__':
    main()
