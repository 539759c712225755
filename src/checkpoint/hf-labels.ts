// Class labels in config.json: id2label ({"0": "negative", …}) is authoritative, label2id its inverse.
import { CheckpointError } from './errors.ts';

/**
 * Label names by id, or null when the file declares no labels. Ids must be exactly 0..n-1. A label2id that does
 * not invert id2label is common in the wild (transformers never reads it back), so it only warns.
 */
export function labelsFromJson(
  id2label: Readonly<Record<string, string>> | undefined,
  label2id: Readonly<Record<string, number>> | undefined,
  numLabels: number | undefined,
  source: string,
  warnings: string[],
): string[] | null {
  if (id2label === undefined) {
    if (numLabels === undefined) return null;
    // transformers names generated labels LABEL_0, LABEL_1, … when only num_labels is given.
    return Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
  }
  const entries = Object.entries(id2label);
  const labels: string[] = new Array<string>(entries.length);
  for (const [key, label] of entries) {
    const id = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
    if (!(id < entries.length)) {
      throw new CheckpointError({
        code: 'BAD_CONFIG',
        file: source,
        field: `id2label.${key}`,
        problem: 'label ids must be the integers 0..n-1',
        expected: `an id in 0..${entries.length - 1}`,
        received: JSON.stringify(key),
      });
    }
    labels[id] = label;
  }
  if (numLabels !== undefined && numLabels !== labels.length) {
    warnings.push(`field "num_labels" is ${numLabels} but id2label has ${labels.length} labels; using id2label`);
  }
  if (label2id !== undefined) {
    const consistent = Object.keys(label2id).length === labels.length && labels.every((label, id) => label2id[label] === id);
    if (!consistent) warnings.push('field "label2id" is not the inverse of id2label; using id2label');
  }
  if (new Set(labels).size !== labels.length) warnings.push('field "id2label" repeats a label name');
  return labels;
}

export function labelsToJson(labels: readonly string[]): { id2label: Record<string, string>; label2id: Record<string, number> } {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  labels.forEach((label, id) => {
    id2label[String(id)] = label;
    label2id[label] = id;
  });
  return { id2label, label2id };
}
