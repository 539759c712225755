// The int8 weight range for a CPU's flags: 8 bits only where VNNI sums int8 products in 32 bits; an explicit choice
// wins; and what 7 bits do to the codes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseWeightBits, cpuFeatures, readCpuFlags } from '../../src/export/cpu-features.ts';
import { dequantizeWeight, quantizeWeight } from '../../src/export/int8.ts';
import { Random } from '../../src/util/random.ts';

const AVX2 = 'fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2';
const AVX512 = `${AVX2} avx512f avx512dq avx512cd avx512bw avx512vl`;
const AVX512_VNNI = `${AVX512} avx512_vnni avx512_bf16`;
const AVX_VNNI = `${AVX2} avx_vnni`; // Alder Lake and later: VNNI without AVX-512

describe('chooseWeightBits', () => {
  it.each([
    ['AVX2 only', AVX2, 7, /^AVX2 without VNNI/],
    ['AVX-512 without VNNI', AVX512, 7, /^AVX-512 without VNNI/],
    ['AVX-512 with VNNI', AVX512_VNNI, 8, /VNNI/],
    ['AVX-VNNI', AVX_VNNI, 8, /VNNI/],
    ['no AVX2 (an old x86, or ARM flags)', 'fp asimd evtstrm aes pmull sha1 sha2 crc32 asimddp', 7, /^no AVX2/],
  ] as const)('%s → %i bits', (_, flags, bits, reason) => {
    const choice = chooseWeightBits(flags);
    expect(choice.bits).toBe(bits);
    expect(choice.reason).toMatch(reason);
    expect(choice.features).toEqual(cpuFeatures(flags));
  });

  it('flags that cannot be read give the safe 7 bits', () => {
    expect(chooseWeightBits(null)).toMatchObject({ bits: 7, features: null });
  });

  it('an explicit --weight-bits wins over the CPU', () => {
    expect(chooseWeightBits(AVX2, 8)).toEqual({ bits: 8, reason: '--weight-bits 8', features: null });
    expect(chooseWeightBits(AVX512_VNNI, 7)).toEqual({ bits: 7, reason: '--weight-bits 7', features: null });
  });

  it('reads whole words: avx512f alone is not AVX-512 for the int8 kernels, and avx512_vnni is not avx2', () => {
    expect(cpuFeatures('avx512f')).toEqual({ avx2: false, avx512: false, vnni: false });
    expect(cpuFeatures('avx512_vnni')).toEqual({ avx2: false, avx512: false, vnni: true });
  });

  it('reads the flags line of a cpuinfo file, and null where there is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlmt-cpu-'));
    writeFileSync(join(dir, 'cpuinfo'), `processor\t: 0\nmodel name\t: Test\nflags\t\t: ${AVX2}\n\nprocessor\t: 1\nflags\t\t: ${AVX2}\n`);
    writeFileSync(join(dir, 'none'), 'processor\t: 0\n');
    const expected = process.platform === 'linux' ? AVX2 : null;
    expect(readCpuFlags(join(dir, 'cpuinfo'))).toBe(expected);
    expect(readCpuFlags(join(dir, 'none'))).toBeNull();
    expect(readCpuFlags(join(dir, 'missing'))).toBeNull();
  });
});

describe('7-bit weights', () => {
  it('use codes −63…63, a step of max|w|/63, and each weight within half of it', () => {
    const random = new Random(4);
    const w = new Float32Array(6 * 5).map(() => random.normal());
    for (const perChannel of [false, true]) {
      const q = quantizeWeight(w, 6, 5, perChannel, 7);
      expect(Math.max(...q.codes.map(Math.abs))).toBe(63);
      const back = dequantizeWeight(q, 5);
      for (let i = 0; i < w.length; i++) expect(Math.abs((back[i] as number) - (w[i] as number))).toBeLessThanOrEqual((q.scales[perChannel ? i % 5 : 0] as number) / 2 + 1e-7);
    }
    expect(quantizeWeight(w, 6, 5, false, 7).scales[0]).toBeCloseTo(Math.max(...w.map(Math.abs)) / 63, 6);
  });
});
