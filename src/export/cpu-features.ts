// Which int8 weight range the serving CPU needs, from its feature flags (Linux: /proc/cpuinfo's `flags` line).
//
// ONNX Runtime's u8·s8 kernels on x86 without VNNI (AVX2, and AVX-512 before VNNI) multiply uint8 activations by
// int8 weights with vpmaddubsw, which adds each pair of products into a saturating int16: 2·255·127 = 64770 does
// not fit in 32767, so large activations against large weights are clipped and the int8 model silently computes
// something else (onnxruntime #6004: wrong BERT outputs on AVX2-only CPUs; pytorch #34692: reduce_range recovers
// BERT MRPC). 7-bit weights (codes −63…63) keep every pair within 2·255·63 = 32130. VNNI (vpdpbusd, AVX512-VNNI or
// AVX-VNNI) sums the products in int32 and never saturates, so full 8-bit weights are safe there and twice as fine.
// Anything else (ARM, an x86 without AVX2, flags that cannot be read) gets 7 bits: the range is safe on every
// kernel and costs only precision.
import { readFileSync } from 'node:fs';
import type { WeightBits } from './int8.ts';

export interface CpuFeatures {
  readonly avx2: boolean;
  /** AVX-512 foundation and byte/word instructions, which the int8 kernels use. */
  readonly avx512: boolean;
  /** avx512_vnni or avx_vnni: int8 dot products summed in int32. */
  readonly vnni: boolean;
}

export interface WeightRangeChoice {
  readonly bits: WeightBits;
  /** Why, in words: the flag that forced it, or the CPU features that chose it. */
  readonly reason: string;
  /** The features read; null when the bits were given explicitly or no flags could be read. */
  readonly features: CpuFeatures | null;
}

/** The features in a /proc/cpuinfo `flags` line (or several lines; any text whose words are the flags). */
export function cpuFeatures(flags: string): CpuFeatures {
  const set = new Set(flags.split(/\s+/));
  return {
    avx2: set.has('avx2'),
    avx512: set.has('avx512f') && set.has('avx512bw'),
    vnni: set.has('avx512_vnni') || set.has('avx_vnni'),
  };
}

/**
 * The weight bits for a CPU, a pure function of its flags string (null: flags unknown) and an explicit choice
 * (`--weight-bits`), which always wins.
 */
export function chooseWeightBits(flags: string | null, explicit?: WeightBits): WeightRangeChoice {
  if (explicit !== undefined) return { bits: explicit, reason: `--weight-bits ${explicit}`, features: null };
  if (flags === null) return { bits: 7, reason: 'the CPU features could not be read: 7-bit weights, safe on every int8 kernel', features: null };
  const features = cpuFeatures(flags);
  if (features.vnni) return { bits: 8, reason: 'the CPU has VNNI, which sums int8 products in 32 bits: full 8-bit weights', features };
  const kind = features.avx512 ? 'AVX-512 without VNNI' : features.avx2 ? 'AVX2 without VNNI' : 'no AVX2';
  return { bits: 7, reason: `${kind}: u8·s8 kernels can saturate their 16-bit pair sums, so 7-bit weights, as ONNX Runtime's reduce_range`, features };
}

/** The `flags` line of /proc/cpuinfo on Linux; null elsewhere or when it cannot be read. */
export function readCpuFlags(cpuinfo = '/proc/cpuinfo'): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync(cpuinfo, 'utf8').split('\n').find((l) => /^flags\s*:/.test(l));
    return line ? line.replace(/^flags\s*:/, '').trim() : null;
  } catch {
    return null;
  }
}
