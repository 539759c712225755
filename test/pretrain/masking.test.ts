// BERT masking: the 15% / 80-10-10 statistics, specials and padding untouched, labels, determinism, at-least-one.
import { describe, expect, it } from 'vitest';
import { maskingVocab, maskTokens, PretrainError, type MaskingVocab } from '../../src/pretrain/index.ts';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { Random } from '../../src/util/random.ts';
import { bertJson, xlmrJson } from '../tokenize/fixtures.ts';

// XLM-R's layout: <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last.
const CLS = 0;
const PAD = 1;
const SEP = 2;
const UNK = 3;
const MASK = 999;
const VOCAB: MaskingVocab = { maskId: MASK, specialIds: [CLS, PAD, SEP, UNK, MASK], vocabSize: 1000 };
const SPECIALS = new Set(VOCAB.specialIds);

/** Right-padded rows <s> … </s> of random lengths; about 1 token in 50 of the text is <unk>. */
function encodedBatch(batch: number, seq: number, seed = 7) {
  const random = new Random(seed);
  const inputIds = new BigInt64Array(batch * seq).fill(BigInt(PAD));
  const attentionMask = new Float32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const length = 3 + random.int(seq - 2); // 3..seq
    for (let t = 0; t < length; t++) {
      const id = t === 0 ? CLS : t === length - 1 ? SEP : random.next() < 0.02 ? UNK : 4 + random.int(995);
      inputIds[b * seq + t] = BigInt(id);
      attentionMask[b * seq + t] = 1;
    }
  }
  return { batch, seq, inputIds, attentionMask };
}

function maskableCount(e: ReturnType<typeof encodedBatch>): number {
  let n = 0;
  e.inputIds.forEach((id, i) => { if (e.attentionMask[i] === 1 && !SPECIALS.has(Number(id))) n++; });
  return n;
}

describe('maskTokens', () => {
  const encoded = encodedBatch(128, 128);
  const original = encoded.inputIds.slice();

  it('chooses ≈15% of maskable tokens and splits them ≈80% mask / 10% random / 10% unchanged', () => {
    let maskable = 0;
    let chosen = 0;
    const outcome = { mask: 0, random: 0, kept: 0 };
    for (let step = 0; step < 4; step++) {
      const m = maskTokens(encoded, VOCAB, { seed: 1, step });
      maskable += m.maskable;
      chosen += m.positions.length;
      m.positions.forEach((p, k) => {
        const now = m.inputIds[Number(p)];
        if (now === BigInt(MASK)) outcome.mask++;
        else if (now === m.labels[k]) outcome.kept++; // a random draw of the original id counts here (1 in 995)
        else outcome.random++;
      });
    }
    expect(maskable).toBe(4 * maskableCount(encoded));
    expect(maskable).toBeGreaterThan(25_000);
    expect(chosen / maskable).toBeGreaterThan(0.143); // σ ≈ 0.002
    expect(chosen / maskable).toBeLessThan(0.157);
    expect(outcome.mask / chosen).toBeGreaterThan(0.78); // σ ≈ 0.006 (mask), 0.0045 (random, unchanged)
    expect(outcome.mask / chosen).toBeLessThan(0.82);
    expect(outcome.random / chosen).toBeGreaterThan(0.085);
    expect(outcome.random / chosen).toBeLessThan(0.115);
    expect(outcome.kept / chosen).toBeGreaterThan(0.085);
    expect(outcome.kept / chosen).toBeLessThan(0.115);
  });

  it('follows configured probabilities', () => {
    const m = maskTokens(encoded, VOCAB, { seed: 1, step: 0 }, { maskProbability: 0.4, maskReplace: 0.5, randomReplace: 0.5 });
    expect(m.positions.length / m.maskable).toBeCloseTo(0.4, 1);
    const masked = m.positions.reduce((n, p) => n + (m.inputIds[Number(p)] === BigInt(MASK) ? 1 : 0), 0);
    expect(masked / m.positions.length).toBeCloseTo(0.5, 1);
    const unchanged = m.positions.reduce((n, p, k) => n + (m.inputIds[Number(p)] === m.labels[k] ? 1 : 0), 0);
    expect(unchanged / m.positions.length).toBeLessThan(0.01); // none kept on purpose; only chance draws of the same id
  });

  it('never chooses special tokens or padding, and never draws one as a replacement', () => {
    const all = maskTokens(encoded, VOCAB, { seed: 3, step: 0 }, { maskProbability: 1, maskReplace: 0, randomReplace: 1 });
    expect(all.positions.length).toBe(maskableCount(encoded));
    expect(all.maskable).toBe(maskableCount(encoded));
    const expected = Array.from(encoded.inputIds, Number).flatMap((id, i) => (encoded.attentionMask[i] === 1 && !SPECIALS.has(id) ? [i] : []));
    expect(Array.from(all.positions, Number)).toEqual(expected);
    const replacements = Array.from(all.positions, (p) => Number(all.inputIds[Number(p)]));
    expect(replacements.filter((id) => SPECIALS.has(id) || id < 0 || id >= VOCAB.vocabSize)).toEqual([]);
    // Specials and padding come through untouched.
    const chosen = new Set(expected);
    const changedElsewhere = Array.from(encoded.inputIds).flatMap((id, i) => (!chosen.has(i) && all.inputIds[i] !== id ? [i] : []));
    expect(changedElsewhere).toEqual([]);
  });

  it('returns ascending flat positions, the original ids as labels, and leaves the input untouched', () => {
    const m = maskTokens(encoded, VOCAB, { seed: 5, step: 2 });
    const positions = Array.from(m.positions, Number);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(positions.length);
    expect(Array.from(m.labels)).toEqual(positions.map((p) => original[p]));
    expect(m.labels).toBeInstanceOf(BigInt64Array);
    expect(m.positions).toBeInstanceOf(BigInt64Array);
    expect(encoded.inputIds).toEqual(original);
    expect(m.inputIds).not.toBe(encoded.inputIds);
    const chosen = new Set(positions);
    expect(Array.from(m.inputIds).flatMap((id, i) => (!chosen.has(i) && id !== original[i] ? [i] : []))).toEqual([]);
  });

  it('is a function of (seed, step): the same pair repeats, another step or seed differs', () => {
    const a = maskTokens(encoded, VOCAB, { seed: 11, step: 40 });
    const b = maskTokens(encoded, VOCAB, { seed: 11, step: 40 });
    expect(b.positions).toEqual(a.positions);
    expect(b.inputIds).toEqual(a.inputIds);
    expect(b.labels).toEqual(a.labels);
    expect(maskTokens(encoded, VOCAB, { seed: 11, step: 41 }).positions).not.toEqual(a.positions);
    expect(maskTokens(encoded, VOCAB, { seed: 12, step: 40 }).positions).not.toEqual(a.positions);
  });

  it('masks at least one token when the batch has a maskable one, and none when it has none', () => {
    const tiny = { batch: 2, seq: 4, inputIds: BigInt64Array.from([CLS, 10, SEP, PAD, CLS, 11, 12, SEP].map(BigInt)), attentionMask: Float32Array.from([1, 1, 1, 0, 1, 1, 1, 1]) };
    const picked = new Set<number>();
    for (let step = 0; step < 50; step++) {
      const m = maskTokens(tiny, VOCAB, { seed: 0, step }, { maskProbability: 0.01 });
      expect(m.positions.length).toBeGreaterThanOrEqual(1);
      for (const p of m.positions) picked.add(Number(p));
    }
    expect([...picked].sort()).toEqual([1, 5, 6]); // the forced choice is spread over every maskable token

    const onlySpecials = { batch: 1, seq: 4, inputIds: BigInt64Array.from([CLS, SEP, PAD, PAD].map(BigInt)), attentionMask: Float32Array.from([1, 1, 0, 0]) };
    const none = maskTokens(onlySpecials, VOCAB, { seed: 0, step: 0 });
    expect([none.positions.length, none.labels.length, none.maskable]).toEqual([0, 0, 0]);
    expect(none.inputIds).toEqual(onlySpecials.inputIds);
  });

  it('rejects probabilities out of range with the option named', () => {
    const error = (f: () => unknown): PretrainError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(PretrainError);
        return e as PretrainError;
      }
      throw new Error('expected a PretrainError');
    };
    const draw = { seed: 0, step: 0 };
    expect(error(() => maskTokens(encoded, VOCAB, draw, { maskProbability: 1.5 })).message).toBe(
      'maskTokens: maskProbability: not a probability (expected a number in [0, 1]; received 1.5)',
    );
    expect(error(() => maskTokens(encoded, VOCAB, draw, { maskProbability: 0 })).where).toEqual({ api: 'maskTokens', field: 'maskProbability' });
    expect(error(() => maskTokens(encoded, VOCAB, draw, { maskReplace: 0.9, randomReplace: 0.2 })).message).toBe(
      'maskTokens: maskReplace + randomReplace: the shares of chosen tokens replaced exceed 1 (expected ≤ 1 (the rest stay unchanged); received 0.9 + 0.2)',
    );
    const allSpecial = { maskId: 1, specialIds: [0, 1], vocabSize: 2 };
    expect(error(() => maskTokens(encoded, allSpecial, draw)).where).toEqual({ api: 'maskTokens', field: 'randomReplace' });
  });
});

describe('maskingVocab', () => {
  it("takes the mask id and every special id from the tokenizer's special tokens", () => {
    const xlmr = TextTokenizer.fromJSON(xlmrJson(), 'xlmr.json');
    expect(maskingVocab(xlmr)).toEqual({ maskId: 15, specialIds: [0, 1, 2, 3, 15], vocabSize: 16 });
    const bert = TextTokenizer.fromJSON(bertJson(), 'bert.json');
    expect(maskingVocab(bert)).toEqual({ maskId: 103, specialIds: [0, 100, 101, 102, 103], vocabSize: 111 });
  });

  it('fails, naming the tokenizer, when it has no mask token', () => {
    const json = JSON.parse(bertJson()) as { model: { vocab: Record<string, number> }; added_tokens: { content: string }[] };
    delete json.model.vocab['[MASK]'];
    json.model.vocab['[unused103]'] = 103;
    json.added_tokens = json.added_tokens.filter((t) => t.content !== '[MASK]');
    const noMask = TextTokenizer.fromJSON(JSON.stringify(json), 'no-mask.json');
    expect(() => maskingVocab(noMask)).toThrow(/^no-mask\.json: no mask token, which masked-LM pretraining needs/);
  });
});
