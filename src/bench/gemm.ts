// Peak fp32 GEMM throughput of ONNX Runtime's MatMul on this machine: the yardstick for training efficiency.
import { GraphBuilder } from '../builder/builder.ts';
import { Session } from '../runtime/session.ts';

export interface GemmPeak {
  readonly gflops: number;
  /** [M, K, N] of the fastest shape. */
  readonly shape: readonly [number, number, number];
}

async function gemmGflops(m: number, k: number, n: number, threads: number, seconds: number): Promise<number> {
  const g = new GraphBuilder(`gemm_${m}x${k}x${n}`);
  g.output('c', g.op.MatMul(g.input('a', 'float32', [m, k]), g.input('b', 'float32', [k, n])));
  const session = await Session.create(g.build(), { threads });
  const feeds = {
    a: { dtype: 'float32' as const, shape: [m, k], data: new Float32Array(m * k).fill(0.5) },
    b: { dtype: 'float32' as const, shape: [k, n], data: new Float32Array(k * n).fill(0.25) },
  };
  await session.run(feeds);
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || runs < 3) {
    await session.run(feeds);
    runs++;
  }
  const ms = (performance.now() - start) / runs;
  await session.release();
  return (2 * m * k * n) / (ms * 1e6);
}

/** The best of a few large square and transformer-shaped GEMMs. */
export async function gemmPeak(threads: number, secondsPerShape = 1.5): Promise<GemmPeak> {
  const shapes: [number, number, number][] = [[1024, 1024, 1024], [2048, 2048, 2048], [4096, 384, 1536]];
  let best: GemmPeak = { gflops: 0, shape: [0, 0, 0] };
  for (const [m, k, n] of shapes) {
    const gflops = await gemmGflops(m, k, n, threads, secondsPerShape);
    if (gflops > best.gflops) best = { gflops, shape: [m, k, n] };
  }
  return best;
}
