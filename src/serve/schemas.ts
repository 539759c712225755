// JSON schemas of every request and response: Fastify validates and serializes with them, and the OpenAPI
// document is generated from them, so the documentation cannot drift from what the server does.
import type { Limits } from './config.ts';
import { CODES, type CodeEntry } from '../errors/index.ts';
import { ERROR_CODES } from './errors.ts';

export interface ClassifyBody {
  readonly texts: string[];
  readonly tasks?: string[];
}

export interface ReloadBody {
  readonly dir?: string;
}

const scores = {
  type: 'object',
  description: 'Probability per label (softmax for multiclass, sigmoid per label for multilabel)',
  additionalProperties: { type: 'number' },
} as const;

/** Shared schemas, added once with app.addSchema and referenced by $id ("Name#"). */
export const SHARED_SCHEMAS = [
  {
    $id: 'MulticlassPrediction',
    type: 'object',
    description: 'A multiclass task: the most probable label',
    required: ['label', 'scores'],
    additionalProperties: false,
    properties: { label: { type: 'string' }, scores },
  },
  {
    $id: 'MultilabelPrediction',
    type: 'object',
    description: 'A multilabel task: every label whose probability reaches its threshold (tuned on dev), possibly none',
    required: ['labels', 'scores'],
    additionalProperties: false,
    properties: { labels: { type: 'array', items: { type: 'string' } }, scores },
  },
  {
    $id: 'TextResult',
    type: 'object',
    required: ['tasks', 'truncated'],
    additionalProperties: false,
    properties: {
      tasks: {
        type: 'object',
        description: 'One entry per requested task, by task name',
        additionalProperties: { anyOf: [{ $ref: 'MulticlassPrediction#' }, { $ref: 'MultilabelPrediction#' }] },
      },
      truncated: { type: 'boolean', description: 'True when the model did not read the whole text (cut to --max-chars characters or to the model\'s maximum tokens)' },
    },
  },
  {
    $id: 'ModelInfo',
    type: 'object',
    required: ['name', 'version', 'dir'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', description: 'The export directory\'s name' },
      version: { type: 'string', description: 'First 12 hex digits of the SHA-256 of onnx/model.onnx' },
      dir: { type: 'string' },
    },
  },
  {
    $id: 'Error',
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', enum: ERROR_CODES, description: ERROR_CODES.map((c) => errorCodeLine(c, CODES[c])).join('; ') },
          message: { type: 'string', description: 'What went wrong and what to do, for people' },
          details: { type: 'object', additionalProperties: true, description: 'Machine-readable specifics, e.g. field, limit, known tasks' },
        },
      },
    },
  },
] as const;

function errorCodeLine(code: string, entry: CodeEntry): string {
  return `${code} (${String(entry.http)}): ${entry.summary}`;
}

const error = { $ref: 'Error#' } as const;

/** Error responses for the given statuses, all in the one error shape. */
export function errorResponses(...statuses: number[]): Record<number, typeof error> {
  return Object.fromEntries(statuses.map((s) => [s, error]));
}

export function classifyRequest(limits: Limits): Record<string, unknown> {
  return {
    type: 'object',
    required: ['texts'],
    additionalProperties: false,
    properties: {
      texts: {
        type: 'array',
        minItems: 1,
        maxItems: limits.maxTexts,
        items: {
          type: 'string',
          // Not empty nor only whitespace (BLANK_TEXT): the rule data files follow.
          pattern: '\\S',
          ...(limits.onLongText === 'reject' ? { maxLength: limits.maxChars } : {}),
          description: limits.onLongText === 'reject'
            ? `At most ${limits.maxChars} characters`
            : `Texts over ${limits.maxChars} characters are cut to that length and flagged truncated`,
        },
      },
      tasks: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string' },
        description: 'Task names to answer (default: all of the model\'s tasks); GET /v1/model lists them',
      },
    },
  };
}

export const classifyResponse = {
  type: 'object',
  required: ['model', 'results'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', description: 'name@version of the model that answered' },
    results: { type: 'array', items: { $ref: 'TextResult#' }, description: 'One per text, in request order' },
  },
} as const;

export const modelResponse = {
  type: 'object',
  required: ['model', 'maxLength', 'tasks'],
  additionalProperties: false,
  properties: {
    model: { $ref: 'ModelInfo#' },
    maxLength: { type: 'integer', description: 'Tokens per text the model reads, special tokens included' },
    tasks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'type', 'labels'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          type: { type: 'string', enum: ['multiclass', 'multilabel'] },
          labels: { type: 'array', items: { type: 'string' } },
          thresholds: { type: 'array', items: { type: 'number' }, description: 'Multilabel decision threshold per label' },
        },
      },
    },
  },
} as const;

export const reloadRequest = {
  type: 'object',
  additionalProperties: false,
  properties: { dir: { type: 'string', minLength: 1, description: 'Export directory to load (default: the one served now)' } },
} as const;

export const reloadResponse = {
  type: 'object',
  required: ['previous', 'current'],
  additionalProperties: false,
  properties: { previous: { $ref: 'ModelInfo#' }, current: { $ref: 'ModelInfo#' } },
} as const;

export const statusResponse = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string' }, model: { type: 'string' } },
} as const;
