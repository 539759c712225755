// POST /v1/classify and GET /v1/model on a stub classifier: the response shape, task selection, truncation,
// and dynamic batching (concurrent requests share forward passes, each gets its own results in order).
// Batches are observed through the stub's record of its calls and held with its gate: no timing.
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { STUB_BATCHING, STUB_LIMITS, stubServicesClosedAfterEach, type StubService } from './stub.ts';

const service = stubServicesClosedAfterEach();

const classify = (s: StubService, body: { texts: string[]; tasks?: string[] }): Promise<LightMyRequestResponse> =>
  s.app.inject({ method: 'POST', url: '/v1/classify', payload: body });

/** The sentiment label of each result. */
const sentiments = (r: LightMyRequestResponse): string[] =>
  (r.json() as { results: { tasks: { sentiment: { label: string } } }[] }).results.map((x) => x.tasks.sentiment.label);

describe('POST /v1/classify', () => {
  it('answers every task for every text, in order', async () => {
    const s = await service();
    const response = await classify(s, { texts: ['a good goal', 'vote no'] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      model: 'stub@v1',
      results: [
        {
          tasks: {
            sentiment: { label: 'positive', scores: { negative: 0.25, positive: 0.75 } },
            topics: { labels: ['sports'], scores: { sports: 0.875, politics: 0.125 } },
          },
          truncated: false,
        },
        {
          tasks: {
            sentiment: { label: 'negative', scores: { negative: 0.75, positive: 0.25 } },
            // politics 0.625 reaches its threshold 0.6; sports 0.125 does not reach 0.5
            topics: { labels: ['politics'], scores: { sports: 0.125, politics: 0.625 } },
          },
          truncated: false,
        },
      ],
    });
  });

  it('answers only the requested tasks, in the requested order', async () => {
    const s = await service();
    const response = await classify(s, { texts: ['good'], tasks: ['topics', 'sentiment'] });
    const [result] = (response.json() as { results: { tasks: Record<string, unknown> }[] }).results;
    expect(Object.keys(result?.tasks ?? {})).toEqual(['topics', 'sentiment']);
    const only = await classify(s, { texts: ['good'], tasks: ['topics'] });
    expect(only.json()).toEqual({ model: 'stub@v1', results: [{ tasks: { topics: { labels: [], scores: { sports: 0.125, politics: 0.125 } } }, truncated: false }] });
  });

  it('cuts texts over --max-chars and flags them, like texts over the model\'s tokens', async () => {
    const s = await service();
    const long = `good ${'x'.repeat(STUB_LIMITS.maxChars)}`;
    const manyWords = 'one two three four five six seven'; // over the stub's 6 words
    const response = await classify(s, { texts: [long, manyWords, 'good'] });
    expect((response.json() as { results: { truncated: boolean }[] }).results.map((r) => r.truncated)).toEqual([true, true, false]);
    expect(s.stub.batches[0]?.texts).toEqual([long.slice(0, STUB_LIMITS.maxChars), manyWords, 'good']);
  });
});

describe('GET /v1/model', () => {
  it('names the model and lists its tasks, labels and thresholds', async () => {
    const s = await service();
    const response = await s.app.inject({ method: 'GET', url: '/v1/model' });
    expect(response.json()).toEqual({
      model: { name: 'stub', version: 'v1', dir: '/models/stub' },
      maxLength: 8,
      tasks: [
        { name: 'sentiment', type: 'multiclass', labels: ['negative', 'positive'] },
        { name: 'topics', type: 'multilabel', labels: ['sports', 'politics'], thresholds: [0.5, 0.6] },
      ],
    });
  });
});

describe('dynamic batching', () => {
  it('runs concurrent requests in one forward pass and gives each its own results in order', async () => {
    // The batch closes on size (6 texts) long before the wait could end.
    const s = await service({ batching: { maxBatchSize: 6, maxWaitMs: 600_000, maxQueue: 16 } });
    const bodies = [['good', 'bad'], ['bad', 'bad'], ['good', 'good']].map((texts) => ({ texts }));
    const responses = await Promise.all(bodies.map((b) => classify(s, b)));
    expect(s.stub.batches).toHaveLength(1);
    expect(s.stub.batches[0]?.texts).toHaveLength(6);
    expect(responses.map(sentiments)).toEqual([['positive', 'negative'], ['negative', 'negative'], ['positive', 'positive']]);
  });

  it('queues requests that arrive during a forward pass into the next batch', async () => {
    const s = await service();
    const open = s.stub.hold();
    const first = classify(s, { texts: ['good'] });
    await s.stub.started(1);
    const waiting = ['bad', 'good', 'bad'].map((text) => classify(s, { texts: [text, text] }));
    await expect.poll(() => s.batcher.depth).toBe(6);
    open();
    const responses = await Promise.all([first, ...waiting]);
    // --max-batch-size 4: two requests of 2 texts, then the third.
    expect(s.stub.batches.map((b) => b.texts.length)).toEqual([1, 4, 2]);
    expect(responses.map(sentiments)).toEqual([['positive'], ['negative', 'negative'], ['positive', 'positive'], ['negative', 'negative']]);
  });

  it('never splits a request: one larger than the batch size runs alone', async () => {
    const s = await service();
    const open = s.stub.hold();
    const first = classify(s, { texts: ['good'] });
    await s.stub.started(1);
    const sizes = [3, 3, 6, 1];
    const waiting = sizes.map((n) => classify(s, { texts: Array.from({ length: n }, () => 'good') }));
    await expect.poll(() => s.batcher.depth).toBe(13);
    open();
    for (const r of await Promise.all([first, ...waiting])) expect(r.statusCode).toBe(200);
    expect(s.stub.batches.map((b) => b.texts.length)).toEqual([1, 3, 3, 6, 1]);
  });

  it('runs the union of the requested tasks and gives each request only its own', async () => {
    const s = await service();
    const open = s.stub.hold();
    const first = classify(s, { texts: ['good'] });
    await s.stub.started(1);
    const topics = classify(s, { texts: ['goal'], tasks: ['topics'] });
    const sentiment = classify(s, { texts: ['good'], tasks: ['sentiment'] });
    await expect.poll(() => s.batcher.depth).toBe(2);
    open();
    await first;
    expect(s.stub.batches[1]).toEqual({ texts: ['goal', 'good'], tasks: ['sentiment', 'topics'] });
    expect((await topics).json()).toEqual({ model: 'stub@v1', results: [{ tasks: { topics: { labels: ['sports'], scores: { sports: 0.875, politics: 0.125 } } }, truncated: false }] });
    expect((await sentiment).json()).toEqual({ model: 'stub@v1', results: [{ tasks: { sentiment: { label: 'positive', scores: { negative: 0.25, positive: 0.75 } } }, truncated: false }] });
  });

  it('answers concurrent requests in their own order whatever the batching', async () => {
    const s = await service({ batching: { ...STUB_BATCHING, maxBatchSize: 5 } });
    const bodies = Array.from({ length: 12 }, (_, i) => ({ texts: Array.from({ length: 1 + (i % 3) }, (_, j) => ((i + j) % 2 === 0 ? 'good' : 'bad')) }));
    const responses = await Promise.all(bodies.map((b) => classify(s, b)));
    responses.forEach((r, i) => expect(sentiments(r)).toEqual(bodies[i]?.texts.map((t) => (t === 'good' ? 'positive' : 'negative'))));
    for (const b of s.stub.batches) expect(b.texts.length).toBeLessThanOrEqual(5);
    expect(s.stub.batches.flatMap((b) => b.texts)).toHaveLength(bodies.flatMap((b) => b.texts).length);
  });
});
