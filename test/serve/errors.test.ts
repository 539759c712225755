// Every error the service answers, through inject: status, headers that matter, and the whole body. The last
// test checks that every code with an HTTP status in the registry is exercised here or in the auth, lifecycle
// and http (raw sockets) suites.
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { CODES, XlmtError, type HttpErrorCode } from '../../src/errors/index.ts';
import { ERROR_CODES } from '../../src/serve/errors.ts';
import { STUB_LIMITS, stubServicesClosedAfterEach, type StubService } from './stub.ts';

const service = stubServicesClosedAfterEach();

const classify = (s: StubService, payload: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  s.app.inject({ method: 'POST', url: '/v1/classify', payload: payload as string, headers });

/**
 * Codes seen by this suite; auth.test.ts and lifecycle.test.ts cover UNAUTHORIZED and SHUTTING_DOWN, http.test.ts
 * the ones only a real socket can produce.
 */
const seen = new Set<string>(['UNAUTHORIZED', 'SHUTTING_DOWN', 'MALFORMED_HTTP', 'HEADERS_TOO_LARGE', 'REQUEST_TIMEOUT', 'REQUEST_ABORTED']);
function expectError(response: LightMyRequestResponse, status: number, body: unknown): void {
  expect({ status: response.statusCode, body: response.json() }).toEqual({ status, body });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const code = (body as { error: { code: HttpErrorCode } }).error.code;
  expect(CODES[code].http).toBe(status);
  seen.add(code);
}

describe('request errors', () => {
  it('INVALID_JSON: broken or empty JSON', async () => {
    const s = await service();
    expectError(await classify(s, '{"texts": [', { 'content-type': 'application/json' }), 400, {
      error: { code: 'INVALID_JSON', message: 'the body is not valid JSON: Unexpected end of JSON input' },
    });
    expectError(await classify(s, '', { 'content-type': 'application/json' }), 400, {
      error: { code: 'INVALID_JSON', message: 'the body is empty but its content-type is application/json; send a JSON object' },
    });
  });

  it.each([
    ['a missing field', { tasks: ['sentiment'] }, { message: '$.texts is required', details: { field: '$.texts', rule: 'required' } }],
    ['a wrong item type', { texts: ['fine', 5] }, { message: '$.texts[1] must be a string', details: { field: '$.texts[1]', rule: 'type', expected: 'string' } }],
    ['a string for a list', { texts: 'fine' }, { message: '$.texts must be an array', details: { field: '$.texts', rule: 'type', expected: 'array' } }],
    ['a body that is not an object', ['fine'], { message: 'the body must be an object', details: { field: '$', rule: 'type', expected: 'object' } }],
    ['an unknown field', { texts: ['fine'], task: ['sentiment'] }, { message: '$.task is not a field of this request', details: { field: '$.task', rule: 'additionalProperties' } }],
    ['a wrong task type', { texts: ['fine'], tasks: [1] }, { message: '$.tasks[0] must be a string', details: { field: '$.tasks[0]', rule: 'type', expected: 'string' } }],
    ['an empty task list', { texts: ['fine'], tasks: [] }, { message: '$.tasks needs at least 1 item(s)', details: { field: '$.tasks', rule: 'minItems', limit: 1 } }],
    ['a repeated task', { texts: ['fine'], tasks: ['topics', 'topics'] }, {
      message: '$.tasks[0] and $.tasks[1] are the same; list each item once', details: { field: '$.tasks', rule: 'uniqueItems', duplicates: [0, 1] },
    }],
  ])('INVALID_REQUEST: %s names the field', async (_name, payload, error) => {
    const s = await service();
    expectError(await classify(s, payload), 400, { error: { code: 'INVALID_REQUEST', ...error } });
    expect(s.stub.batches).toEqual([]);
  });

  it('INVALID_UTF8 names the first bad byte instead of replacing it', async () => {
    const s = await service();
    const body = Buffer.concat([Buffer.from('{"texts": ["caf'), Buffer.from([0xe9]), Buffer.from('", "ok"]}')]);
    expectError(await classify(s, body, { 'content-type': 'application/json' }), 400, {
      error: {
        code: 'INVALID_UTF8',
        message: 'the body is not valid UTF-8: byte 15 (0xe9) starts no valid character; encode the texts as UTF-8',
        details: { offset: 15 },
      },
    });
    expect(s.stub.batches).toEqual([]);
  });

  it('UNSUPPORTED_MEDIA_TYPE for a JSON body declared in another charset', async () => {
    const s = await service();
    expectError(await classify(s, '{"texts": ["caf\u00e9"]}', { 'content-type': 'application/json; charset=iso-8859-1' }), 415, {
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'JSON bodies are UTF-8; the content-type says charset=iso-8859-1', details: { charset: 'iso-8859-1' } },
    });
    expect((await classify(s, '{"texts": ["fine"]}', { 'content-type': 'application/json; charset=UTF-8' })).statusCode).toBe(200);
  });

  it.each([
    ['at the top', '{"texts": ["fine"], "__proto__": {"admin": true}}', '$.__proto__'],
    ['nested', '{"texts": ["fine"], "tasks": [{"__proto__": {}}]}', '$.tasks[0].__proto__'],
    ['escaped', '{"texts": ["fine"], "\\u005f_proto__": {}}', '$.__proto__'],
  ])('INVALID_REQUEST: a __proto__ key %s is refused as a forbidden key', async (_name, payload, field) => {
    const s = await service();
    expectError(await classify(s, payload, { 'content-type': 'application/json' }), 400, {
      error: { code: 'INVALID_REQUEST', message: `${field} is a forbidden key (it would set an object's prototype); remove it`, details: { field, rule: 'forbiddenKey' } },
    });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(s.stub.batches).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['only whitespace of other kinds', '\t\n\u00a0\u3000'],
  ])('BLANK_TEXT: a text that is %s, naming it', async (_name, blank) => {
    const s = await service();
    expectError(await classify(s, { texts: ['fine', blank] }), 400, {
      error: { code: 'BLANK_TEXT', message: '$.texts[1] is empty or only whitespace; send some text to classify', details: { field: '$.texts[1]', index: 1 } },
    });
    expect(s.stub.batches).toEqual([]);
  });

  it('BAD_URL: a malformed percent-encoding, in the one shape', async () => {
    const s = await service();
    expectError(await s.app.inject({ method: 'GET', url: '/v1/%zz' }), 400, {
      error: { code: 'BAD_URL', message: "'/v1/%zz' is not a valid url component; percent-encode it (%25 for a literal %)" },
    });
  });

  it('EMPTY_TEXTS', async () => {
    const s = await service();
    expectError(await classify(s, { texts: [] }), 400, {
      error: { code: 'EMPTY_TEXTS', message: '$.texts is empty; send at least one text', details: { field: '$.texts' } },
    });
  });

  it('TOO_MANY_TEXTS: more than --max-texts', async () => {
    const s = await service();
    const texts = Array.from({ length: STUB_LIMITS.maxTexts + 1 }, (_, i) => `text ${i}`);
    expectError(await classify(s, { texts }), 400, {
      error: { code: 'TOO_MANY_TEXTS', message: '$.texts has 9 texts; at most 8 per request', details: { field: '$.texts', limit: 8, received: 9 } },
    });
  });

  it('TEXT_TOO_LONG: with --on-long-text reject, counting characters, not UTF-16 units', async () => {
    const s = await service({ limits: { ...STUB_LIMITS, onLongText: 'reject' } });
    const fits = '😀'.repeat(40); // 40 characters, 80 UTF-16 units
    expect((await classify(s, { texts: [fits] })).statusCode).toBe(200);
    expectError(await classify(s, { texts: ['short', `${fits}!`] }), 400, {
      error: { code: 'TEXT_TOO_LONG', message: '$.texts[1] has 41 characters; at most 40', details: { field: '$.texts[1]', index: 1, limit: 40, chars: 41 } },
    });
  });

  it('UNKNOWN_TASK names the task and the known ones', async () => {
    const s = await service();
    expectError(await classify(s, { texts: ['fine'], tasks: ['sentiment', 'nope'] }), 400, {
      error: {
        code: 'UNKNOWN_TASK',
        message: 'unknown task "nope"; this model has: sentiment, topics',
        details: { task: 'nope', known: ['sentiment', 'topics'] },
      },
    });
    expect(s.stub.batches).toEqual([]);
  });

  it('BODY_TOO_LARGE: over --body-limit bytes', async () => {
    const s = await service();
    expectError(await classify(s, { texts: ['x'.repeat(STUB_LIMITS.bodyLimit)] }), 413, {
      error: { code: 'BODY_TOO_LARGE', message: 'the body is larger than the server accepts; send fewer or shorter texts per request' },
    });
  });

  it('UNSUPPORTED_MEDIA_TYPE: a body that is not JSON', async () => {
    const s = await service();
    expectError(await classify(s, 'good', { 'content-type': 'text/plain' }), 415, {
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the body as JSON with "content-type: application/json"' },
    });
  });

  it('NOT_FOUND: an unknown route or method', async () => {
    const s = await service();
    expectError(await s.app.inject({ method: 'GET', url: '/v1/classify' }), 404, {
      error: { code: 'NOT_FOUND', message: 'no route GET /v1/classify; GET /openapi.json lists the routes' },
    });
  });
});

describe('service errors', () => {
  it('NOT_READY before the model is warm, with Retry-After', async () => {
    const s = await service({}, false);
    const response = await classify(s, { texts: ['good'] });
    expectError(response, 503, { error: { code: 'NOT_READY', message: 'the model is still loading; retry when /readyz answers 200' } });
    expect(response.headers['retry-after']).toBe('1');
  });

  it('QUEUE_FULL when --max-queue texts wait; the queued requests are still answered', async () => {
    const s = await service();
    const open = s.stub.hold();
    const eight = { texts: Array.from({ length: 8 }, (_, i) => `text ${i}`) };
    const running = classify(s, eight);
    await s.stub.started(1);
    const queued = [classify(s, eight), classify(s, eight)]; // 16 texts wait: the queue is full
    await expect.poll(() => s.batcher.depth).toBe(16);
    const refused = await classify(s, { texts: ['one more'] });
    expectError(refused, 503, {
      error: { code: 'QUEUE_FULL', message: '16 texts are already waiting (at most 16); retry shortly', details: { queued: 16, maxQueue: 16 } },
    });
    expect(refused.headers['retry-after']).toBe('1');
    open();
    for (const r of await Promise.all([running, ...queued])) expect(r.statusCode).toBe(200);
  });

  it('NON_FINITE when the model answers NaN scores: never null in place of a score', async () => {
    const s = await service();
    s.stub.nonFinite = true;
    expectError(await classify(s, { texts: ['good'] }), 500, {
      error: { code: 'NON_FINITE', message: 'the model produced NaN or infinite scores for these texts; the server log says where' },
    });
    s.stub.nonFinite = false;
    s.stub.failWith = new XlmtError({ code: 'NON_FINITE', where: { tensor: 'probs:sentiment' }, message: 'the output holds NaN' });
    expectError(await classify(s, { texts: ['good'] }), 500, {
      error: { code: 'NON_FINITE', message: 'the model produced NaN or infinite scores for these texts; the server log says where' },
    });
    s.stub.failWith = null;
    expect((await classify(s, { texts: ['good'] })).statusCode).toBe(200);
  });

  it('UNKNOWN_TASK raised by the classifier as an XlmtError keeps its answer', async () => {
    const s = await service();
    s.stub.failWith = new XlmtError({ code: 'UNKNOWN_TASK', message: 'no task "x"', details: { task: 'x', known: ['sentiment', 'topics'] } });
    expectError(await classify(s, { texts: ['good'] }), 400, {
      error: { code: 'UNKNOWN_TASK', message: 'unknown task "x"; this model has: sentiment, topics', details: { task: 'x', known: ['sentiment', 'topics'] } },
    });
  });

  it('INTERNAL for an XlmtError of another code: a fault of the server, its message kept in the log', async () => {
    const s = await service();
    s.stub.failWith = new XlmtError({ code: 'BAD_TENSOR', message: 'shape [2] where [3] belongs' });
    expectError(await classify(s, { texts: ['good'] }), 500, { error: { code: 'INTERNAL', message: 'internal error; the server log has the cause' } });
  });

  it('INTERNAL when the classifier fails, without its message', async () => {
    const s = await service();
    s.stub.failWith = new Error('ONNX Runtime exploded at /secret/path');
    expectError(await classify(s, { texts: ['good'] }), 500, {
      error: { code: 'INTERNAL', message: 'internal error; the server log has the cause' },
    });
  });

  it('RELOAD_FAILED (a client error) for a directory that does not load; the old model keeps serving', async () => {
    const s = await service();
    s.loader.failWith = new XlmtError({ code: 'FILE_NOT_FOUND', where: { file: '/models/broken' }, message: 'no such directory' });
    expectError(await s.app.inject({ method: 'POST', url: '/admin/reload', payload: { dir: '/models/broken' } }), 422, {
      error: {
        code: 'RELOAD_FAILED',
        message: 'cannot load /models/broken: no such directory; still serving stub@v1',
        details: { dir: '/models/broken', serving: 'stub@v1', cause: { code: 'FILE_NOT_FOUND', message: '/models/broken: no such directory' } },
      },
    });
    const after = await classify(s, { texts: ['good'] });
    expect(after.json()).toMatchObject({ model: 'stub@v1' });
  });

  it('INTERNAL when a reload fails for a reason of the server\'s own', async () => {
    const s = await service();
    s.loader.failWith = new Error('out of memory');
    expectError(await s.app.inject({ method: 'POST', url: '/admin/reload' }), 500, {
      error: { code: 'INTERNAL', message: 'reloading /models/stub failed unexpectedly; still serving stub@v1; the server log has the cause' },
    });
  });

  it('RELOAD_IN_PROGRESS for a second reload while one runs', async () => {
    const s = await service();
    const open = s.loader.hold();
    const first = s.app.inject({ method: 'POST', url: '/admin/reload' });
    // The first reload is waiting in the loader (the gate), so the second one is refused.
    await expect.poll(() => s.loader.calls).toBe(2);
    const second = await s.app.inject({ method: 'POST', url: '/admin/reload', payload: {} });
    open();
    expect((await first).statusCode).toBe(200);
    expectError(second, 409, { error: { code: 'RELOAD_IN_PROGRESS', message: 'a reload is already running; wait for it to finish' } });
  });

  it('every error code is exercised', () => {
    expect([...seen].sort()).toEqual([...ERROR_CODES].sort());
  });
});
