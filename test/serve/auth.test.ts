// API-key authentication: with a key, everything but the probes and the OpenAPI document needs it, sent as
// a bearer token or in x-api-key; without one, everything is open.
import { afterEach, describe, expect, it } from 'vitest';
import { stubService, type StubService } from './stub.ts';

const services: StubService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.app.close();
});

async function service(apiKey?: string): Promise<StubService> {
  const s = await stubService(apiKey !== undefined ? { apiKey } : {});
  services.push(s);
  return s;
}

const body = { texts: ['good'] };

describe('API key', () => {
  it('refuses a request without the key, naming both ways to send it', async () => {
    const s = await service('s3cret');
    const response = await s.app.inject({ method: 'POST', url: '/v1/classify', payload: body });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.json()).toEqual({
      error: {
        code: 'UNAUTHORIZED',
        message: 'this endpoint needs the API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"',
        details: { reason: 'missing' },
      },
    });
    expect(s.stub.batches).toEqual([]);
  });

  it.each([
    ['a wrong bearer token', { authorization: 'Bearer s3cre7' }],
    ['a wrong x-api-key', { 'x-api-key': 'S3CRET' }],
    ['a key of another length', { 'x-api-key': 's3cret-and-more' }],
    ['another scheme', { authorization: 'Basic czNjcmV0' }],
  ])('refuses %s', async (_name, headers) => {
    const s = await service('s3cret');
    const response = await s.app.inject({ method: 'POST', url: '/v1/classify', payload: body, headers });
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 401,
      body: { error: { code: 'UNAUTHORIZED', message: 'the API key is not valid', details: { reason: 'invalid' } } },
    });
  });

  it.each([
    ['a bearer token', { authorization: 'Bearer s3cret' }],
    ['a lower-case scheme', { authorization: 'bearer s3cret' }],
    ['x-api-key', { 'x-api-key': 's3cret' }],
  ])('accepts %s', async (_name, headers) => {
    const s = await service('s3cret');
    expect((await s.app.inject({ method: 'POST', url: '/v1/classify', payload: body, headers })).statusCode).toBe(200);
  });

  it.each([
    ['a valid bearer token and a wrong x-api-key', { authorization: 'Bearer s3cret', 'x-api-key': 'old' }],
    ['a wrong bearer token and a valid x-api-key', { authorization: 'Bearer old', 'x-api-key': 's3cret' }],
    ['another scheme and a valid x-api-key', { authorization: 'Basic czNjcmV0', 'x-api-key': 's3cret' }],
  ])('refuses %s: two headers must carry the same key, neither wins', async (_name, headers) => {
    const s = await service('s3cret');
    const response = await s.app.inject({ method: 'POST', url: '/v1/classify', payload: body, headers });
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 401,
      body: {
        error: {
          code: 'UNAUTHORIZED',
          message: 'Authorization and x-api-key carry different keys; send the key once, or the same key in both',
          details: { reason: 'conflict' },
        },
      },
    });
  });

  it('accepts the same key in both headers, and refuses the same wrong key in both', async () => {
    const s = await service('s3cret');
    const both = (key: string) => s.app.inject({ method: 'POST', url: '/v1/classify', payload: body, headers: { authorization: `Bearer ${key}`, 'x-api-key': key } });
    expect((await both('s3cret')).statusCode).toBe(200);
    expect((await both('nope')).json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'the API key is not valid', details: { reason: 'invalid' } } });
  });

  it('does not take a key from the query string', async () => {
    const s = await service('s3cret');
    const response = await s.app.inject({ method: 'POST', url: '/v1/classify?api_key=s3cret', payload: body });
    expect(response.json()).toMatchObject({ error: { code: 'UNAUTHORIZED', details: { reason: 'missing' } } });
  });

  it('guards the metrics, the model description and reloads; leaves the probes and the OpenAPI document open', async () => {
    const s = await service('s3cret');
    const status = async (method: 'GET' | 'POST', url: string): Promise<number> => (await s.app.inject({ method, url })).statusCode;
    expect(await status('GET', '/metrics')).toBe(401);
    expect(await status('GET', '/v1/model')).toBe(401);
    expect(await status('POST', '/admin/reload')).toBe(401);
    expect(await status('GET', '/nowhere')).toBe(401);
    expect(await status('GET', '/healthz')).toBe(200);
    expect(await status('GET', '/readyz')).toBe(200);
    expect(await status('GET', '/openapi.json')).toBe(200);
    expect(s.loader.calls).toBe(1);
  });

  it('leaves everything open without a key', async () => {
    const s = await service();
    for (const url of ['/metrics', '/v1/model']) expect((await s.app.inject({ method: 'GET', url })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: '/v1/classify', payload: body })).statusCode).toBe(200);
  });

  it('is declared in the OpenAPI document, with the probes exempt', async () => {
    const s = await service('s3cret');
    const doc = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      security: unknown; components: { securitySchemes: unknown }; paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(doc.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } });
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    expect(doc.paths['/v1/classify']?.post?.security).toBeUndefined();
  });
});
