// The batcher and text limits on their own: what closes a batch, what it refuses, and code-point cutting.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/serve/batcher.ts';
import { ServeError } from '../../src/serve/errors.ts';
import { ModelSlot } from '../../src/serve/model-slot.ts';
import { cutToChars } from '../../src/serve/texts.ts';
import { StubLoader } from './stub.ts';

async function started(options = { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 8 }) {
  const loader = new StubLoader();
  const slot = new ModelSlot(loader.load, '/models/stub');
  await slot.start();
  const batches: number[] = [];
  const batcher = new Batcher(slot, options, { batch: ({ texts }) => batches.push(texts) });
  return { loader, slot, batcher, batches, stub: loader.classifier(0) };
}

describe('Batcher', () => {
  it('closes a batch as soon as it is full, whatever the wait', async () => {
    const { batcher, batches } = await started({ maxBatchSize: 3, maxWaitMs: 600_000, maxQueue: 8 });
    const answers = await Promise.all([batcher.submit(['good']), batcher.submit(['bad', 'good'])]);
    expect(batches).toEqual([3]);
    expect(answers.map((a) => a.predictions.length)).toEqual([1, 2]);
    expect(answers[0]?.model.version).toBe('v1');
  });

  it('refuses work before the model is loaded, past the queue limit and after close', async () => {
    const loader = new StubLoader();
    const slot = new ModelSlot(loader.load, '/models/stub');
    const early = new Batcher(slot, { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 8 });
    await expect(early.submit(['good'])).rejects.toMatchObject({ code: 'NOT_READY' });

    const { batcher, stub } = await started();
    const open = stub.hold();
    const first = batcher.submit(['good']);
    await stub.started(1);
    const queued = batcher.submit(Array.from({ length: 8 }, () => 'good'));
    await expect(batcher.submit(['one more'])).rejects.toMatchObject({ code: 'QUEUE_FULL', details: { queued: 8, maxQueue: 8 } });
    const closed = batcher.close();
    await expect(batcher.submit(['late'])).rejects.toBeInstanceOf(ServeError);
    await expect(batcher.submit(['late'])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    open();
    await closed;
    expect((await first).predictions).toHaveLength(1);
    expect((await queued).predictions).toHaveLength(8);
  });

  it('fails every request of a batch whose forward pass fails, and goes on with the next', async () => {
    const { batcher, stub } = await started();
    stub.failWith = new Error('kernel failure');
    await expect(batcher.submit(['good'])).rejects.toMatchObject({ code: 'INTERNAL' });
    stub.failWith = null;
    expect((await batcher.submit(['good'])).predictions).toHaveLength(1);
  });
});

describe('cutToChars', () => {
  it('counts Unicode code points, never splitting a surrogate pair', () => {
    expect(cutToChars('short', 10)).toBeNull();
    expect(cutToChars('abcdef', 4)).toBe('abcd');
    expect(cutToChars('😀😀😀', 3)).toBeNull();
    expect(cutToChars('😀😀😀', 2)).toBe('😀😀');
    expect(cutToChars('a😀b😀c', 3)).toBe('a😀b');
  });
});
