// docs/cli.md's reference is generated from the same definitions as the help (issue 13): this test fails when
// the file differs from what `npm run docs:cli` writes, so a flag added, renamed or re-described without
// regenerating the docs breaks the unit suite.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandTree } from '../../../plugin/cli.js';
import { flagLabel } from '../../../plugin/help.js';
import type { CommandSpec } from '../../../plugin/spec.js';
import { BEGIN_MARKER, END_MARKER, cliReference, spliceReference } from '../../../scripts/gen-cli-docs.js';

const DOC = join(import.meta.dirname, '..', '..', '..', 'docs', 'cli.md');

function visibleCommands(node: CommandSpec): CommandSpec[] {
  return node.children.filter((c) => !c.hidden).flatMap((c) => [c, ...visibleCommands(c)]);
}

describe('docs/cli.md reference', () => {
  it('is what the command definitions generate (run `npm run docs:cli` after changing a flag)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const expected = spliceReference(doc, cliReference());
    // Compared line by line so a failure names the first line that drifted.
    const a = doc.split('\n');
    const b = expected.split('\n');
    const first = a.findIndex((l, i) => l !== b[i]);
    expect(
      first === -1 && a.length === b.length,
      `docs/cli.md line ${first + 1} differs from the definitions:\n  docs:      ${a[first]}\n  generated: ${b[first]}\nRun: npm run docs:cli`,
    ).toBe(true);
  });

  it('names every command and every visible flag of each, with its description', () => {
    const root = commandTree();
    const ref = cliReference(root);
    for (const c of visibleCommands(root)) {
      const start = ref.indexOf(`\n#### ${c.path.join(' ')}\n`);
      expect(start, `command ${c.path.join(' ')}`).toBeGreaterThan(-1);
      const section = ref.slice(
        start + 1,
        ref.indexOf('\n#### ', start + 1) === -1 ? undefined : ref.indexOf('\n#### ', start + 1),
      );
      for (const f of c.flags.filter((x) => !x.hidden)) {
        expect(section, `${c.path.join(' ')} ${f.name}`).toContain(`\`${flagLabel(f).replace(/\|/g, '\\|')}\``);
        expect(section, `${c.path.join(' ')} ${f.name}`).toContain(
          f.describe.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim(),
        );
      }
    }
    for (const f of root.flags.filter((x) => !x.hidden))
      expect(ref).toContain(`\`${flagLabel(f).replace(/\|/g, '\\|')}\``);
  });

  it('the flags added last session are in it (--heartbeat, --stall-idle, --no-stall-break, --pushgateway, --metrics-file, --temporal*)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const ref = doc.slice(doc.indexOf(BEGIN_MARKER), doc.indexOf(END_MARKER));
    for (const label of [
      '`--heartbeat DURATION`',
      '`--stall-idle DURATION`',
      '`--no-stall-break`',
      '`--pushgateway URL`',
      '`--metrics-file PATH`',
      '`--temporal`',
      '`--temporal-address HOST:PORT`',
      '`--decommission-timeout DURATION`',
    ]) {
      expect(ref).toContain(label);
    }
  });

  it('the hand-written prose outside the markers is kept; a drifted reference is replaced', () => {
    const doc = `# Title\n\nprose before\n\n${BEGIN_MARKER}\nstale reference\n${END_MARKER}\n\nprose after\n`;
    const out = spliceReference(doc, 'NEW\n');
    expect(out).toBe(`# Title\n\nprose before\n\n${BEGIN_MARKER}\n\nNEW\n\n${END_MARKER}\n\nprose after\n`);
    expect(spliceReference(out, 'NEW\n')).toBe(out);
  });

  it('a docs/cli.md without the markers is an error that says where they go', () => {
    expect(() => spliceReference('# no markers\n', 'x')).toThrow(/no generated part/);
  });

  it('every --flag the hand-written prose names exists (a flag renamed or removed leaves no stale mention)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const prose = doc.slice(0, doc.indexOf(BEGIN_MARKER)) + doc.slice(doc.indexOf(END_MARKER));
    const root = commandTree();
    const known = new Set<string>();
    const hidden = new Set<string>();
    for (const n of [root, ...visibleCommands(root), ...root.children.filter((c) => c.hidden)]) {
      for (const f of n.flags) {
        const names = [f.name, ...f.alias, ...(f.type === 'boolean' ? [`no-${f.name}`] : [])];
        for (const name of names) (f.hidden ? hidden : known).add(name);
      }
    }
    // The runner's own flags (docs/cli.md "The runner"), not the plugin's.
    for (const runnerFlag of ['operation-id', 'log-level', 'help', 'version']) known.add(runnerFlag);
    const stale: string[] = [];
    for (const line of prose.split('\n')) {
      for (const m of line.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])(?![\w*-])/g)) {
        const name = m[1]!;
        // A hidden flag (a deprecated alias) may be named only where the line says it is one.
        if (known.has(name) || (hidden.has(name) && /deprecated|was /.test(line))) continue;
        stale.push(`--${name}: ${line.trim().slice(0, 100)}`);
      }
    }
    expect(stale).toEqual([]);
  });
});
