// The one text rendering of an error: `where: problem (expected …; received …). Hint`, safe to print to a
// terminal whatever the data held.
import type { Where } from './types.ts';

interface Renderable {
  readonly message: string;
  readonly where?: Where | undefined;
  readonly expected?: string | undefined;
  readonly received?: string | undefined;
  readonly hint?: string | undefined;
}

/** `file:line: node X: tensor "t": task T: field` — the parts that are known, in that order. */
export function whereText(where: Where): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.line === undefined ? where.file : `${where.file}:${where.line}`);
  if (where.api !== undefined) parts.push(where.api);
  if (where.node !== undefined) parts.push(`node ${JSON.stringify(where.node)}`);
  if (where.tensor !== undefined) parts.push(`tensor ${JSON.stringify(where.tensor)}`);
  if (where.task !== undefined) parts.push(`task ${JSON.stringify(where.task)}`);
  if (where.field !== undefined) parts.push(where.field);
  return parts.join(': ');
}

export function renderText(error: Renderable): string {
  const at = error.where === undefined ? '' : whereText(error.where);
  let text = at === '' ? error.message : `${at}: ${error.message}`;
  const shown = [error.expected === undefined ? null : `expected ${error.expected}`, error.received === undefined ? null : `received ${error.received}`]
    .filter((p) => p !== null);
  if (shown.length > 0) text += ` (${shown.join('; ')})`;
  if (error.hint !== undefined) text += `. ${capitalize(error.hint)}`;
  return printable(text);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Text with control characters (C0 but tab and newline, DEL, C1) shown as \u escapes, so that a bad row's bytes
 * cannot move the cursor, ring the bell or restyle the user's terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const CONTROL = new RegExp('[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]', 'g');

/** A value cut to `max` characters for `received`: long or deeply nested values never blow up a message. */
export function preview(value: unknown, max = 60): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    // Too deep for JSON.stringify (a crafted file), or circular: say what it is instead.
    text = Array.isArray(value) ? `an array of ${value.length}` : typeof value;
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
