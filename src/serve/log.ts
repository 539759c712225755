// What the request log may show. A client can put a secret in the query string (an API key where a header
// belongs); the routes take no query parameters, so every value in one is logged as [redacted].
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** `url` with each query parameter's value (or a bare parameter) replaced by [redacted]. */
export function redactedUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = url.slice(at + 1).split('&').map((param) => {
    const eq = param.indexOf('=');
    return eq < 0 ? '[redacted]' : `${param.slice(0, eq)}=[redacted]`;
  });
  return `${url.slice(0, at)}?${params.join('&')}`;
}

/** The request fields Fastify logs by default, with the URL redacted. */
function requestForLog(request: FastifyRequest): Record<string, unknown> {
  return { method: request.method, url: redactedUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

/** Fastify's logger option with the redacting request serializer added; `false` stays off. */
export function loggerOptions(logger: FastifyServerOptions['logger']): NonNullable<FastifyServerOptions['logger']> {
  if (logger === false || logger === undefined) return false;
  const base = logger === true ? {} : logger;
  return { ...base, serializers: { ...base.serializers, req: requestForLog } };
}
