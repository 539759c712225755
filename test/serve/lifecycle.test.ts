// Reloads and shutdown without dropping work: requests queued or in flight while the model is swapped or the
// server closes are all answered; the old model is released only after its last batch. The stub's gates
// decide every interleaving, so nothing here depends on timing.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { keepAliveLoad } from './load.ts';
import { STUB_BATCHING, stubServicesClosedAfterEach, STUB_TASKS, type StubService } from './stub.ts';

const service = stubServicesClosedAfterEach();

const classify = (s: StubService, body: { texts: string[]; tasks?: string[] }): Promise<LightMyRequestResponse> =>
  s.app.inject({ method: 'POST', url: '/v1/classify', payload: body });

const modelOf = (r: LightMyRequestResponse): string => (r.json() as { model: string }).model;

describe('model reload', () => {
  it('swaps models without dropping in-flight or queued requests, releasing the old one after its batch', async () => {
    const s = await service();
    const v1 = s.stub;
    const open = v1.hold();
    const inFlight = classify(s, { texts: ['good'] });
    await v1.started(1);
    const queuedBefore = [classify(s, { texts: ['bad'] }), classify(s, { texts: ['good', 'bad'] })];
    await expect.poll(() => s.batcher.depth).toBe(3);
    const reload = s.app.inject({ method: 'POST', url: '/admin/reload' });
    await expect.poll(() => s.slot.model?.info.version).toBe('v2');
    const queuedAfter = [classify(s, { texts: ['good'] }), classify(s, { texts: ['bad'] })];
    await expect.poll(() => s.batcher.depth).toBe(5);
    // v1 is still running the first batch: it must not be released under it.
    expect(v1.released).toBe(false);
    open();
    const reloaded = await reload;
    expect(reloaded.json()).toEqual({
      previous: { name: 'stub', version: 'v1', dir: '/models/stub' },
      current: { name: 'stub', version: 'v2', dir: '/models/stub' },
    });
    expect(v1.released).toBe(true);
    const answers = await Promise.all([inFlight, ...queuedBefore, ...queuedAfter]);
    for (const r of answers) expect(r.statusCode).toBe(200);
    expect(answers.map(modelOf)).toEqual(['stub@v1', 'stub@v2', 'stub@v2', 'stub@v2', 'stub@v2']);
    expect(v1.batches).toHaveLength(1);
    expect(s.loader.classifier(1).batches.flatMap((b) => b.texts)).toEqual(['bad', 'good', 'bad', 'good', 'bad']);
    expect(s.loader.classifier(1).released).toBe(false);
  });

  it('reloads from another directory, which later reloads default to', async () => {
    const s = await service();
    const first = await s.app.inject({ method: 'POST', url: '/admin/reload', payload: { dir: '/models/other' } });
    expect(first.json()).toMatchObject({ current: { dir: '/models/other' } });
    const second = await s.reload();
    expect(second.current.dir).toBe('/models/other');
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('xlmt_model_reloads_total{outcome="ok"} 2');
    expect(metrics).toContain('xlmt_model_info{name="stub",version="v3"} 1');
    expect(metrics).not.toContain('version="v1"');
  });

  it('answers UNKNOWN_TASK for a queued request whose task the new model lacks, and serves the others', async () => {
    const s = await service();
    const open = s.stub.hold();
    const inFlight = classify(s, { texts: ['good'] });
    await s.stub.started(1);
    const topics = classify(s, { texts: ['goal'], tasks: ['topics'] });
    const sentiment = classify(s, { texts: ['good'], tasks: ['sentiment'] });
    await expect.poll(() => s.batcher.depth).toBe(2);
    s.loader.tasks = STUB_TASKS.filter((t) => t.name === 'sentiment');
    const reload = s.reload();
    await expect.poll(() => s.slot.model?.info.version).toBe('v2');
    open();
    await reload;
    expect((await inFlight).statusCode).toBe(200);
    const refused = await topics;
    expect({ status: refused.statusCode, body: refused.json() }).toEqual({
      status: 400,
      body: { error: { code: 'UNKNOWN_TASK', message: 'unknown task "topics"; this model has: sentiment', details: { task: 'topics', known: ['sentiment'] } } },
    });
    expect((await sentiment).json()).toMatchObject({ model: 'stub@v2', results: [{ tasks: { sentiment: { label: 'positive' } } }] });
  });
});

describe('graceful shutdown', () => {
  it('answers every queued request before releasing the model', async () => {
    const s = await service();
    const open = s.stub.hold();
    const requests = [classify(s, { texts: ['good'] })];
    await s.stub.started(1);
    requests.push(classify(s, { texts: ['bad', 'good'] }), classify(s, { texts: ['bad'] }));
    await expect.poll(() => s.batcher.depth).toBe(3);
    const closed = s.app.close();
    await expect.poll(() => s.batcher.accepting).toBe(false);
    expect(s.stub.released).toBe(false);
    open();
    const answers = await Promise.all(requests);
    await closed;
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(s.stub.batches.map((b) => b.texts)).toEqual([['good'], ['bad', 'good', 'bad']]);
    expect(s.stub.released).toBe(true);
  });

  it('on a live server: finishes in-flight requests, closing their connections, and refuses new ones with SHUTTING_DOWN', async () => {
    const s = await service();
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (s.app.server.address() as { port: number }).port;
    const open = s.stub.hold();
    const body = JSON.stringify({ texts: ['good'] });
    const request = `POST /v1/classify HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const inFlight = await rawConnection(port);
    inFlight.socket.write(request);
    await s.stub.started(1);
    // A second client is halfway through sending its request when the shutdown begins.
    const late = await rawConnection(port);
    const cut = request.indexOf('content-type');
    late.socket.write(request.slice(0, cut));
    // A round trip on a third connection: the server has read those bytes too, so that connection is busy
    // (not idle) and survives the close.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const closed = s.app.close();
    await expect.poll(() => s.app.server.listening).toBe(false);
    late.socket.write(request.slice(cut));
    const refused = await late.response;
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused.toLowerCase()).toContain('connection: close');
    expect(jsonOf(refused)).toEqual({ error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down; send the request to another instance' } });
    expect(s.stub.released).toBe(false);
    open();
    const answered = await inFlight.response;
    expect(answered).toMatch(/^HTTP\/1\.1 200 /);
    expect(answered.toLowerCase()).toContain('connection: close');
    expect(jsonOf(answered)).toMatchObject({ model: 'stub@v1', results: [{ tasks: { sentiment: { label: 'positive' } } }] });
    await closed;
    expect(s.stub.released).toBe(true);
  });
});

describe('graceful shutdown of keep-alive connections', () => {
  it('answers a request sent on a connection that was idle when the shutdown began, instead of resetting it', async () => {
    const s = await service();
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (s.app.server.address() as { port: number }).port;
    const body = JSON.stringify({ texts: ['good'] });
    const request = `POST /v1/classify HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const idle = await rawConnection(port);
    idle.socket.write(request);
    await expect.poll(() => s.stub.batches.length).toBe(1);
    // The first answer has arrived: the connection is idle, kept alive, when the shutdown begins.
    const closed = s.app.close();
    await expect.poll(() => s.app.server.listening).toBe(false);
    idle.socket.write(request);
    const answers = await idle.response;
    const second = answers.slice(answers.indexOf('HTTP/1.1', 1));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain('connection: close');
    expect(jsonOf(second)).toEqual({ error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down; send the request to another instance' } });
    await closed;
  });

  it('resets no request of 48 busy keep-alive clients: each is answered, 200 or SHUTTING_DOWN, then told to close', async () => {
    const s = await service({ batching: { ...STUB_BATCHING, maxBatchSize: 16, maxQueue: 256 } });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (s.app.server.address() as { port: number }).port;
    const load = keepAliveLoad(port, 48, ['good', 'bad']);
    // Every client busy first: a connection still in the kernel's accept queue when the server stops listening is
    // reset by the operating system, which no server can prevent (docs/serving.md).
    await expect.poll(() => load.report.busyClients, { timeout: 20_000 }).toBe(48);
    await expect.poll(() => load.report.answers.length, { timeout: 10_000 }).toBeGreaterThan(500);
    const closed = s.app.close();
    const report = await load.done;
    await closed;
    expect(report.lost).toEqual([]);
    expect(report.answers).toHaveLength(report.sent);
    const shutdown = report.answers.filter((a) => a.status !== 200);
    for (const a of shutdown) {
      expect(a).toEqual({ status: 503, connection: 'close', body: { error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down; send the request to another instance' } } });
    }
    // Every client ends on a refused connection: it was told to close, and the server no longer listens.
    expect(report.refused).toBe(48);
  });
});

/** A keep-alive TCP connection and everything the server sends on it until it closes the connection. */
async function rawConnection(port: number): Promise<{ socket: Socket; response: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const response = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).once('end', () => resolve(text)).once('error', reject);
  });
  return { socket, response };
}

function jsonOf(response: string): unknown {
  const bodyText = response.slice(response.indexOf('\r\n\r\n') + 4);
  return JSON.parse(bodyText);
}
