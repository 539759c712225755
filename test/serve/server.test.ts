// The process around the app: flags and XLMT_API_KEY into a configuration, binding, and signals (SIGHUP
// reloads, SIGTERM drains and stops), with a stub model and a stand-in for the process's signals.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { serveConfig, type ServeFlags } from '../../src/cli/serve.ts';
import { SERVE_DEFAULTS, type ServeConfig } from '../../src/serve/config.ts';
import { startServer } from '../../src/serve/server.ts';
import { STUB_BATCHING, STUB_LIMITS, StubLoader } from './stub.ts';

const flags: ServeFlags = {
  host: SERVE_DEFAULTS.host, port: SERVE_DEFAULTS.port, maxBatchSize: 32, maxWaitMs: 5, maxQueue: 1024, maxTexts: 64,
  maxChars: 2000, onLongText: 'truncate', bodyLimit: 1 << 20, requestTimeout: 10, logLevel: 'info', shutdownTimeout: 30,
};

describe('serveConfig', () => {
  it('reads the API key from --api-key, else XLMT_API_KEY', () => {
    expect(serveConfig('m', flags, {}).apiKey).toBeUndefined();
    expect(serveConfig('m', flags, { XLMT_API_KEY: '' }).apiKey).toBeUndefined();
    expect(serveConfig('m', flags, { XLMT_API_KEY: 'env' }).apiKey).toBe('env');
    expect(serveConfig('m', { ...flags, apiKey: 'flag' }, { XLMT_API_KEY: 'env' }).apiKey).toBe('flag');
  });

  it('binds loopback by default and groups the limits', () => {
    expect(serveConfig('m', flags, {})).toEqual({
      dir: 'm', host: '127.0.0.1', port: 8080, logLevel: 'info', shutdownTimeoutMs: 30_000,
      limits: { maxTexts: 64, maxChars: 2000, onLongText: 'truncate', bodyLimit: 1 << 20, requestTimeoutMs: 10_000 },
      batching: { maxBatchSize: 32, maxWaitMs: 5, maxQueue: 1024 },
    });
  });

  it('refuses a queue smaller than one request', () => {
    expect(() => serveConfig('m', { ...flags, maxQueue: 10 }, {})).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--max-texts' }, message: expect.stringContaining('--max-texts 64 is above --max-queue 10: a full request could never be queued') }));
  });
});

const config: ServeConfig = {
  dir: '/models/stub', host: '127.0.0.1', port: 0, limits: STUB_LIMITS, batching: STUB_BATCHING, logLevel: 'silent', shutdownTimeoutMs: 30_000,
};

describe('startServer', () => {
  it('serves over HTTP, reloads on SIGHUP and drains on SIGTERM', async () => {
    const loader = new StubLoader();
    const signals = new EventEmitter();
    const server = await startServer(config, { loadModel: loader.load, signals });
    const post = () => fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['good'] }) });
    expect(await (await post()).json()).toMatchObject({ model: 'stub@v1' });

    signals.emit('SIGHUP');
    await expect.poll(() => server.service.slot.model?.info.version).toBe('v2');
    await expect.poll(() => loader.classifier(0).released).toBe(true);
    expect(await (await post()).json()).toMatchObject({ model: 'stub@v2' });

    const open = loader.classifier(1).hold();
    const inFlight = post();
    await loader.classifier(1).started(2); // its first batch was the request after the reload
    signals.emit('SIGTERM');
    await expect.poll(() => server.service.app.server.listening).toBe(false);
    open();
    expect((await inFlight).status).toBe(200);
    expect(await server.stopped).toBe(true);
    expect(loader.classifier(1).released).toBe(true);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGHUP')).toBe(0);
  });

  it('stops without waiting on a second SIGTERM', async () => {
    const loader = new StubLoader();
    const signals = new EventEmitter();
    const server = await startServer(config, { loadModel: loader.load, signals });
    const open = loader.classifier(0).hold();
    const inFlight = fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['good'] }) });
    await loader.classifier(0).started(1);
    signals.emit('SIGTERM');
    signals.emit('SIGINT');
    expect(await server.stopped).toBe(false);
    open();
    await inFlight;
    await server.stop('test cleanup');
  });

  it('stops cleanly on SIGTERM while the model loads, without waiting for it', async () => {
    const loader = new StubLoader();
    const signals = new EventEmitter();
    const open = loader.hold();
    const starting = startServer(config, { loadModel: loader.load, signals });
    await expect.poll(() => loader.calls).toBe(1);
    signals.emit('SIGTERM');
    const server = await starting;
    expect(await server.stopped).toBe(true);
    expect(server.service.app.server.listening).toBe(false);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    // The load finishes after the stop: its model is released, not served.
    open();
    await expect.poll(() => loader.classifier(0)?.released).toBe(true);
    expect(server.service.slot.model).toBeNull();
  });

  it('reloads once the model is loaded when SIGHUP comes during start-up', async () => {
    const loader = new StubLoader();
    const signals = new EventEmitter();
    const open = loader.hold();
    const starting = startServer(config, { loadModel: loader.load, signals });
    await expect.poll(() => loader.calls).toBe(1);
    signals.emit('SIGHUP');
    open();
    const server = await starting;
    await expect.poll(() => server.service.slot.model?.info.version).toBe('v2');
    await server.stop('test done');
  });

  it('stops and throws when the model does not load', async () => {
    const loader = new StubLoader();
    loader.failWith = new Error('no onnx/model.onnx');
    const signals = new EventEmitter();
    await expect(startServer(config, { loadModel: loader.load, signals })).rejects.toThrow('no onnx/model.onnx');
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});
