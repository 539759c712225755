// What only a real socket can send: bytes that are not HTTP, headers too large, a body that stops short of its
// Content-Length or is abandoned, and what the request log keeps of a URL. Every answer is in the one shape.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from '../../src/serve/body.ts';
import { redactedUrl } from '../../src/serve/log.ts';
import { capturedLog, STUB_LIMITS, stubServicesClosedAfterEach, type StubService } from './stub.ts';

const service = stubServicesClosedAfterEach();

async function listening(s: StubService): Promise<number> {
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  return (s.app.server.address() as { port: number }).port;
}

/** Sends `bytes` and collects everything the server answers until it closes the connection. */
async function exchange(port: number, bytes: string): Promise<{ text: string; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).once('close', () => resolve(text)).once('error', reject);
  });
  socket.write(bytes);
  return { text: await answer, socket };
}

function parsed(text: string): { status: number; headers: string; body: unknown } {
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), headers: text.slice(0, split).toLowerCase(), body: JSON.parse(text.slice(split + 4)) };
}

describe('raw HTTP errors', () => {
  it('MALFORMED_HTTP: an unknown method, answered in the one shape and the connection closed', async () => {
    const s = await service();
    const port = await listening(s);
    const answer = parsed((await exchange(port, 'FOO /v1/classify HTTP/1.1\r\nhost: localhost\r\n\r\n')).text);
    expect(answer.status).toBe(400);
    expect(answer.headers).toContain('content-type: application/json');
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toEqual({
      error: {
        code: 'MALFORMED_HTTP',
        message: 'the request method is not an HTTP method; the routes take GET and POST (GET /openapi.json lists them)',
        details: { reason: 'HPE_INVALID_METHOD' },
      },
    });
  });

  it('NOT_FOUND for an HTTP method no route takes', async () => {
    const s = await service();
    const port = await listening(s);
    const { text } = await exchange(port, 'PROPFIND /v1/classify HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    expect(parsed(text)).toMatchObject({
      status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route PROPFIND /v1/classify; GET /openapi.json lists the routes' } },
    });
  });

  it('HEADERS_TOO_LARGE: headers over Node\'s 16 KiB', async () => {
    const s = await service();
    const port = await listening(s);
    const answer = parsed((await exchange(port, `GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)).text);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 431,
      body: { error: { code: 'HEADERS_TOO_LARGE', message: 'the request headers are larger than the server accepts (16 KiB); send fewer or shorter headers' } },
    });
  });

  it('REQUEST_TIMEOUT: a body shorter than its Content-Length is answered in time and logged as a client error', async () => {
    const log = capturedLog();
    const s = await service({ limits: { ...STUB_LIMITS, requestTimeoutMs: 300 }, logger: log.logger });
    const port = await listening(s);
    const started = performance.now();
    const { text } = await exchange(port, 'POST /v1/classify HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{"texts": ');
    const seconds = (performance.now() - started) / 1000;
    const answer = parsed(text);
    expect(answer.status).toBe(408);
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toEqual({
      error: {
        code: 'REQUEST_TIMEOUT',
        message: 'the body did not arrive within 0.3 s (10 bytes received); send the whole body the Content-Length announces',
        details: { received: 10, timeoutMs: 300 },
      },
    });
    expect(seconds).toBeLessThan(5);
    const lines = log.lines();
    expect(lines.filter((l) => l.level === 50)).toEqual([]);
    expect(lines.find((l) => l.code === 'REQUEST_TIMEOUT')).toMatchObject({ level: 30 });
    expect(s.stub.batches).toEqual([]);
  });

  it('REQUEST_TIMEOUT: headers that never finish', async () => {
    const s = await service({ limits: { ...STUB_LIMITS, requestTimeoutMs: 300 } });
    const port = await listening(s);
    const answer = parsed((await exchange(port, 'GET /healthz HTTP/1.1\r\nhost: loc')).text);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 408, body: { error: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time; send the headers and body without pausing' } },
    });
  });

  it('REQUEST_ABORTED: a client that leaves mid-body is logged as such, not as an internal error', async () => {
    const log = capturedLog();
    const s = await service({ logger: log.logger });
    const port = await listening(s);
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('POST /v1/classify HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{"texts": ');
    await expect.poll(() => s.app.server.listening && log.lines().some((l) => l.msg === 'incoming request')).toBe(true);
    socket.destroy();
    await expect.poll(() => log.lines().find((l) => l.code === 'REQUEST_ABORTED')).toMatchObject({
      level: 30, msg: 'the client closed the connection after 10 bytes of the body', details: { received: 10 },
    });
    expect(log.lines().filter((l) => l.level === 50)).toEqual([]);
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('xlmt_errors_total{code="REQUEST_ABORTED"} 1');
  });
});

describe('the request log', () => {
  it('never shows a query string\'s values, such as an API key put in the URL', async () => {
    const log = capturedLog();
    const s = await service({ apiKey: 's3cret', logger: log.logger });
    const response = await s.app.inject({ method: 'GET', url: '/v1/model?api_key=s3cret&token=s3cret&s3cret' });
    expect(response.statusCode).toBe(401);
    const text = JSON.stringify(log.lines());
    expect(text).not.toContain('s3cret');
    expect(log.lines().find((l) => l.msg === 'incoming request')).toMatchObject({
      req: { method: 'GET', url: '/v1/model?api_key=[redacted]&token=[redacted]&[redacted]' },
    });
  });

  it('redacts every value and keeps the path and parameter names', () => {
    expect(redactedUrl('/v1/classify')).toBe('/v1/classify');
    expect(redactedUrl('/a?x=1&y=&z')).toBe('/a?x=[redacted]&y=[redacted]&[redacted]');
  });
});

describe('firstInvalidUtf8', () => {
  it.each([
    ['a stray continuation byte', [0x61, 0x80], 1],
    ['an overlong encoding', [0x61, 0x62, 0xc0, 0xaf], 2],
    ['an encoded surrogate', [0xed, 0xa0, 0x80], 0],
    ['a sequence cut short', [0x61, 0xe2, 0x82], 1],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
  ])('finds %s', (_name, bytes, offset) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(offset);
  });

  it('passes every valid character', () => {
    const valid = Buffer.from('a é € 😀 \u{10ffff}');
    expect(firstInvalidUtf8(valid)).toBe(valid.length);
  });
});
