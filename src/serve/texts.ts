// Characters are counted as Unicode code points, as JSON Schema's maxLength counts them, so --max-chars means
// the same whether it truncates or rejects.

/** `text` cut to `maxChars` code points, or null when it already fits. */
export function cutToChars(text: string, maxChars: number): string | null {
  // A string never has more code points than UTF-16 units: the common short text costs one comparison.
  if (text.length <= maxChars) return null;
  let chars = 0;
  for (let i = 0; i < text.length; chars++) {
    if (chars === maxChars) return text.slice(0, i);
    i += (text.codePointAt(i) as number) > 0xffff ? 2 : 1;
  }
  return null;
}
