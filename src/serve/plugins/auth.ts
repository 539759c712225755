// Optional API-key authentication: with a key configured, every route needs `Authorization: Bearer <key>`
// or `x-api-key: <key>`, except the ones marked `config: { public: true }` (health probes and the OpenAPI
// document, which carry no data and must work for orchestrators without secrets).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ServeError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without the API key. */
    public?: boolean;
  }
}

export interface AuthPluginOptions {
  readonly apiKey?: string;
}

// Digests have the same length whatever the key, so the comparison takes the same time for every guess.
const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * The keys a request presents: `Authorization: Bearer <key>` and `x-api-key: <key>`; an Authorization header of
 * another scheme presents '' (a wrong key), so a proxy's Basic credentials never pass for the API key.
 */
function presentedKeys(request: FastifyRequest): string[] {
  const keys: string[] = [];
  const { authorization } = request.headers;
  if (authorization !== undefined) keys.push(/^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1] ?? '');
  const header = request.headers['x-api-key'];
  if (header !== undefined) keys.push(Array.isArray(header) ? header.join(', ') : header);
  return keys;
}

// One rule, whichever way the key comes: a request may send it in either header or in both, and when it sends
// both they must carry the same key. Neither header "wins", so a stale key in one cannot be masked by the other.
export const authPlugin = fp<AuthPluginOptions>(async (app, { apiKey }) => {
  if (apiKey === undefined) return;
  const expected = digest(apiKey);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public === true) return;
    const keys = presentedKeys(request);
    const [key, other] = keys;
    if (key === undefined) {
      throw new ServeError('UNAUTHORIZED', 'this endpoint needs the API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"', { reason: 'missing' });
    }
    if (other !== undefined && other !== key) {
      throw new ServeError('UNAUTHORIZED', 'Authorization and x-api-key carry different keys; send the key once, or the same key in both', { reason: 'conflict' });
    }
    if (!timingSafeEqual(digest(key), expected)) throw new ServeError('UNAUTHORIZED', 'the API key is not valid', { reason: 'invalid' });
  });
}, { name: 'xlmt-auth' });
