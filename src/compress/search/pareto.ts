// The Pareto front of a search: the models no other beats on both speedup and degradation, as a table and as an
// SVG picture (speedup on a log axis, relative macro-F1 degradation, the budget as a dashed line). Plain SVG text,
// no plotting library: a few dozen points and two axes.

export interface Point {
  readonly id: string;
  /** Over the teacher, measured. */
  readonly speedup: number;
  /** Relative mean macro-F1 degradation against the teacher, percent. */
  readonly degradation: number;
  readonly within: boolean;
}

/** Whether a is at least as good as b on both axes and better on one. */
const dominates = (a: Point, b: Point): boolean =>
  a.speedup >= b.speedup && a.degradation <= b.degradation && (a.speedup > b.speedup || a.degradation < b.degradation);

/** The points no other dominates, slowest first. */
export function paretoFront(points: readonly Point[]): Point[] {
  return points.filter((p) => !points.some((q) => dominates(q, p))).sort((a, b) => a.speedup - b.speedup || a.degradation - b.degradation);
}

/** Markdown: every point, numbered as in the picture, the front marked. */
export function paretoTable(points: readonly Point[]): string {
  const front = new Set(paretoFront(points).map((p) => p.id));
  const rows = points.map((p, i) => `| ${i + 1} | ${p.id} | ${p.speedup.toFixed(2)}× | ${p.degradation.toFixed(2)} | ${p.within ? 'yes' : 'no'} | ${front.has(p.id) ? '●' : ''} |`);
  return ['| # | model | speedup | Δ% vs teacher | within budget | front |', '|---:|---|---:|---:|---|:---:|', ...rows, ''].join('\n');
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round tick steps: 1, 2 or 5 times a power of ten, about five of them over the span. */
function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** The picture: points numbered as in paretoTable, the front joined by a line, the budget dashed. */
export function paretoSvg(points: readonly Point[], budget: number, title: string): string {
  const width = 720;
  const height = 440;
  const margin = { left: 64, right: 24, top: 40, bottom: 52 };
  const speeds = points.map((p) => p.speedup);
  const xMin = Math.log2(Math.min(1, ...speeds) / 1.15);
  const xMax = Math.log2(Math.max(2, ...speeds) * 1.15);
  const degradations = points.map((p) => p.degradation);
  const yStep = niceStep(Math.max(budget, ...degradations) - Math.min(0, ...degradations) || 1);
  const yMin = Math.floor(Math.min(0, ...degradations) / yStep) * yStep;
  const yMax = Math.ceil((Math.max(budget, ...degradations) + yStep / 4) / yStep) * yStep;
  const x = (speedup: number): number => margin.left + ((Math.log2(speedup) - xMin) / (xMax - xMin)) * (width - margin.left - margin.right);
  const y = (d: number): number => margin.top + ((d - yMin) / (yMax - yMin)) * (height - margin.top - margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  // Axes: degradation grows downward, so better models sit up and to the right.
  for (let t = 2 ** Math.ceil(xMin); t <= 2 ** xMax; t *= 2) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${margin.top}" x2="${x(t).toFixed(1)}" y2="${height - margin.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - margin.bottom + 16}" text-anchor="middle">${t}×</text>`);
  }
  for (let d = yMin; d <= yMax + yStep / 1e6; d += yStep) {
    parts.push(`<line x1="${margin.left}" y1="${y(d).toFixed(1)}" x2="${width - margin.right}" y2="${y(d).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${(y(d) + 4).toFixed(1)}" text-anchor="end">${Number(d.toFixed(6))}%</text>`);
  }
  parts.push(`<text x="${width / 2}" y="${height - 12}" text-anchor="middle">speedup over the teacher (this CPU, log scale)</text>`);
  parts.push(`<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">relative macro-F1 degradation (dev)</text>`);
  parts.push(`<line x1="${margin.left}" y1="${y(budget).toFixed(1)}" x2="${width - margin.right}" y2="${y(budget).toFixed(1)}" stroke="#888" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${width - margin.right - 4}" y="${(y(budget) - 5).toFixed(1)}" text-anchor="end" fill="#555">budget ${budget}%</text>`);
  const front = paretoFront(points);
  if (front.length > 1) parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${front.map((p) => `${x(p.speedup).toFixed(1)},${y(p.degradation).toFixed(1)}`).join(' ')}"/>`);
  points.forEach((p, i) => {
    const cx = x(p.speedup).toFixed(1);
    const cy = y(p.degradation).toFixed(1);
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="${p.within ? '#2ca02c' : '#d62728'}"><title>${escapeXml(`${i + 1}. ${p.id}: ${p.speedup.toFixed(2)}×, ${p.degradation.toFixed(2)}%`)}</title></circle>`);
    parts.push(`<text x="${cx}" y="${(Number(cy) - 8).toFixed(1)}" text-anchor="middle">${i + 1}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
