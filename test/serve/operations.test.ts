// Probes, metrics and the OpenAPI document.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/serve/errors.ts';
import { stubServicesClosedAfterEach } from './stub.ts';

const service = stubServicesClosedAfterEach();

describe('probes', () => {
  it('/healthz answers at once; /readyz only after the model is loaded and warmed up', async () => {
    const s = await service({}, false);
    const open = s.loader.hold();
    const started = s.start();
    expect((await s.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const before = await s.app.inject({ method: 'GET', url: '/readyz' });
    expect({ status: before.statusCode, body: before.json() }).toEqual({
      status: 503, body: { error: { code: 'NOT_READY', message: 'the model is still loading and warming up' } },
    });
    open();
    await started;
    const after = await s.app.inject({ method: 'GET', url: '/readyz' });
    expect({ status: after.statusCode, body: after.json() }).toEqual({ status: 200, body: { status: 'ready', model: 'stub@v1' } });
  });
});

describe('GET /metrics', () => {
  it('exposes latency, batch sizes, queue depth, texts processed, errors by code and the model', async () => {
    const s = await service({ processMetrics: true });
    await s.app.inject({ method: 'POST', url: '/v1/classify', payload: { texts: ['good', 'bad', 'goal'] } });
    await s.app.inject({ method: 'POST', url: '/v1/classify', payload: { texts: ['good'], tasks: ['nope'] } });
    const response = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    for (const name of ['xlmt_http_request_duration_seconds', 'xlmt_batch_size_texts', 'xlmt_batch_duration_seconds', 'xlmt_queue_depth_texts', 'process_resident_memory_bytes']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('xlmt_http_request_duration_seconds_count{method="POST",route="/v1/classify",status_code="200"} 1');
    expect(text).toContain('xlmt_http_request_duration_seconds_count{method="POST",route="/v1/classify",status_code="400"} 1');
    expect(text).toContain('xlmt_batch_size_texts_count 1');
    expect(text).toContain('xlmt_batch_size_texts_sum 3');
    expect(text).toContain('xlmt_texts_processed_total 3');
    expect(text).toContain('xlmt_queue_depth_texts 0');
    expect(text).toContain('xlmt_errors_total{code="UNKNOWN_TASK"} 1');
    expect(text).toContain('xlmt_model_info{name="stub",version="v1"} 1');
  });

  it('labels unknown paths as one route', async () => {
    const s = await service();
    await s.app.inject({ method: 'GET', url: '/a' });
    await s.app.inject({ method: 'GET', url: '/b' });
    const text = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('xlmt_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"} 2');
    expect(text).toContain('xlmt_errors_total{code="NOT_FOUND"} 2');
  });
});

describe('GET /openapi.json', () => {
  it('documents every route from its schemas, limits and error codes included', async () => {
    const s = await service();
    const doc = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> }; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> };
    };
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual(['/admin/reload', '/healthz', '/metrics', '/readyz', '/v1/classify', '/v1/model']);
    const classify = doc.paths['/v1/classify']?.post;
    expect(Object.keys(classify?.responses ?? {})).toEqual(['200', '400', '401', '413', '415', '500', '503']);
    expect(classify?.requestBody?.content['application/json']?.schema.properties.texts).toMatchObject({ type: 'array', minItems: 1, maxItems: 8 });
    expect(doc.components.schemas.Error?.properties.error.properties.code.enum).toEqual(ERROR_CODES);
  });
});
