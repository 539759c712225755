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

/** The key sent, '' for an Authorization header of another scheme, undefined for none at all. */
function presentedKey(request: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization?.trim() ?? '')?.[1];
  const header = request.headers['x-api-key'];
  const apiKey = Array.isArray(header) ? header[0] : header;
  return bearer ?? apiKey ?? (request.headers.authorization !== undefined ? '' : undefined);
}

export const authPlugin = fp<AuthPluginOptions>(async (app, { apiKey }) => {
  if (apiKey === undefined) return;
  const expected = digest(apiKey);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public === true) return;
    const key = presentedKey(request);
    if (key === undefined) {
      throw new ServeError('UNAUTHORIZED', 'this endpoint needs the API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"', { reason: 'missing' });
    }
    if (!timingSafeEqual(digest(key), expected)) throw new ServeError('UNAUTHORIZED', 'the API key is not valid', { reason: 'invalid' });
  });
}, { name: 'xlmt-auth' });
