// Formatting helpers shared by the benchmarks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} us`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  if (ms < 10_000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function fmtBytes(b: number): string {
  const sign = b < 0 ? '-' : '';
  const a = Math.abs(b);
  if (a < 1024) return `${sign}${a} B`;
  if (a < 1024 * 1024) return `${sign}${(a / 1024).toFixed(0)} KiB`;
  return `${sign}${(a / 1024 / 1024).toFixed(1)} MiB`;
}

/** A Markdown-compatible table (also readable on a terminal). */
export function table(head: string[], rows: (string | number)[][], indent = '    '): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `${indent}| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(cells[0]!),
    `${indent}|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** Raw figures for docs/benchmarks.md, in bench/results/<name>.json (ignored by git). */
export function writeResult(name: string, data: unknown): void {
  const dir = join(process.cwd(), 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}
