// The rule table (shared/detect/rules.ts) and the numbered rules of docs/strategy.md stay one to one: same numbers,
// same order, each row naming the rule's function, and every reason tagged with the rule that wrote it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectStrategy } from '../../../shared/detect/index.js';
import { DETECTION_RULES } from '../../../shared/detect/rules.js';
import { fixtureNames, loadStatefulSet } from './fixtures.js';

const DOC = join(import.meta.dirname, '../../../docs/strategy.md');

/** The rows of the "## Rules" table: `| <n> | \`<function>\` | ...`. */
function documentedRules(): Array<{ number: number; name: string }> {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf('\n## Rules\n');
  expect(start).toBeGreaterThan(0);
  const rest = text.slice(start + 1);
  const end = rest.slice(1).search(/\n##/); // the next heading (### Timeouts)
  const section = end < 0 ? rest : rest.slice(0, end + 1);
  const rows: Array<{ number: number; name: string }> = [];
  for (const line of section.split('\n')) {
    const m = /^\| *([0-9]+) *\| *`([A-Za-z0-9_]+)` *\|/.exec(line);
    if (m) rows.push({ number: Number(m[1]), name: m[2] ?? '' });
    else if (/^\| *[0-9]+ *\|/.test(line))
      throw new Error(`docs/strategy.md rule row without a function name: ${line.slice(0, 80)}`);
  }
  return rows;
}

describe('the detection rule table and docs/strategy.md', () => {
  it('list the same rules, with the same numbers, in the same order', () => {
    const documented = documentedRules();
    expect(documented.length).toBeGreaterThan(20);
    expect(DETECTION_RULES.map((r) => ({ number: r.number, name: r.name }))).toEqual(documented);
  });

  it('numbers the rules 1..n and every rule is a named function', () => {
    DETECTION_RULES.forEach((rule, index) => {
      expect(rule.number).toBe(index + 1);
      expect(rule.name).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(rule.evaluate.name).toBe(rule.name);
    });
    expect(new Set(DETECTION_RULES.map((r) => r.name)).size).toBe(DETECTION_RULES.length);
  });

  it.each(fixtureNames())('%s: every reason names a rule of the table', (file) => {
    const d = detectStrategy(loadStatefulSet(file));
    const names = new Set(DETECTION_RULES.map((r) => r.name));
    expect(d.reasonRules).toHaveLength(d.reasons.length);
    for (const rule of d.reasonRules ?? []) expect(names.has(rule)).toBe(true);
  });
});

describe('plan prints the rule of each reason', () => {
  it('after the sentence, by its function name', async () => {
    const { formatDetection } = await import('../../../plugin/printers.js');
    const plain = { bold: (s: string) => s, dim: (s: string) => s } as unknown as Parameters<typeof formatDetection>[1];
    const d = detectStrategy(loadStatefulSet('plain-manual.yaml'));
    expect(formatDetection({ ...d, name: 'crate' }, plain)).toContain(
      '  - container crate has no preStop hook: we decommission the node ourselves (rule noPreStopHook)',
    );
  });
});
