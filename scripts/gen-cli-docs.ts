// The reference part of docs/cli.md, generated from the SAME command tree the parser and the help use
// (plugin/cli.ts commandTree(), recorded from the yargs declarations by plugin/spec.ts): every command, its usage,
// arguments, examples and every flag with its default. `npm run docs:cli` writes it between the markers;
// test/unit/plugin/cli-docs.test.ts fails when docs/cli.md differs from what the definitions generate.
import { commandTree } from '../plugin/cli.js';
import { EXIT_CODES_LINE, flagLabel, usageLine } from '../plugin/help.js';
import type { CommandSpec, FlagSpec } from '../plugin/spec.js';

export const BEGIN_MARKER =
  '<!-- BEGIN GENERATED REFERENCE: `npm run docs:cli` writes this part from plugin/spec.ts; edit the flag definitions, not this text -->';
export const END_MARKER = '<!-- END GENERATED REFERENCE -->';

const GROUP_ORDER = ['Flags', 'Engine', 'SQL', 'Kubernetes', 'Output'];

/** A table cell: no line breaks, `|` escaped. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function defaultOf(f: FlagSpec): string {
  if (f.default === undefined || f.default === false || f.default === '') return '';
  if (f.default === true) return 'on';
  return `\`${Array.isArray(f.default) ? f.default.join(',') : String(f.default)}\``;
}

function label(f: FlagSpec): string {
  return `\`${flagLabel(f).replace(/\|/g, '\\|')}\``;
}

function groupName(f: FlagSpec): string {
  return (f.group ?? 'Flags:').replace(/:$/, '');
}

function flagTables(flags: FlagSpec[]): string[] {
  const groups = new Map<string, FlagSpec[]>();
  for (const f of flags.filter((x) => !x.hidden)) groups.set(groupName(f), [...(groups.get(groupName(f)) ?? []), f]);
  const rank = (g: string) => (GROUP_ORDER.indexOf(g) === -1 ? GROUP_ORDER.length : GROUP_ORDER.indexOf(g));
  const out: string[] = [];
  for (const [group, list] of [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0]))) {
    out.push(`${group} flags:`, '', '| flag | default | meaning |', '|---|---|---|');
    for (const f of list) out.push(`| ${label(f)} | ${defaultOf(f)} | ${cell(f.describe)} |`);
    out.push('');
  }
  return out;
}

function commandSection(root: CommandSpec, node: CommandSpec): string[] {
  const out: string[] = [`#### ${node.path.join(' ')}`, '', cell(node.describe), '', '```', usageLine(node), '```', ''];
  const positionals = node.positionals.filter((p) => p.describe);
  if (positionals.length > 0) {
    out.push('| argument | meaning |', '|---|---|');
    for (const p of positionals)
      out.push(`| \`${p.required ? `<${p.name}>` : `[${p.name}]`}\` | ${cell(p.describe)} |`);
    out.push('');
  }
  if (node.examples.length > 0) {
    out.push('```sh');
    for (const [cmd, text] of node.examples) out.push(`# ${text}`, cmd);
    out.push('```', '');
  }
  if (node.flags.some((f) => !f.hidden)) out.push(...flagTables(node.flags));
  const children = node.children.filter((c) => !c.hidden);
  if (children.length > 0)
    out.push(`Commands: ${children.map((c) => `[\`${c.name}\`](#${anchor(c)})`).join(', ')}.`, '');
  for (const c of children) out.push(...commandSection(root, c));
  return out;
}

/** GitHub's anchor of a `#### a b` heading. */
function anchor(node: CommandSpec): string {
  return node.path.join('-');
}

/** The generated reference (without the markers), ending with a newline. */
export function cliReference(root: CommandSpec = commandTree()): string {
  const out: string[] = [
    '## Reference',
    '',
    'Every command and flag, generated from the definitions the parser and `--help` use (`npm run docs:cli`).',
    '',
    '### Global flags',
    '',
    'They apply to every command and go anywhere after the plugin name.',
    '',
    ...flagTables(root.flags),
    '### Commands',
    '',
  ];
  for (const c of root.children.filter((x) => !x.hidden)) out.push(...commandSection(root, c));
  out.push(EXIT_CODES_LINE, '');
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** `doc` with the text between the markers replaced by `reference`; the hand-written prose around it kept. */
export function spliceReference(doc: string, reference: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(
      `docs/cli.md has no generated part: put the lines\n${BEGIN_MARKER}\n${END_MARKER}\nwhere the reference goes`,
    );
  }
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n\n${reference}\n${doc.slice(end)}`;
}
