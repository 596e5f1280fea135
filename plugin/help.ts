// Help text the kubectl way, from the recorded command tree (plugin/spec.ts): the usage line first, a short
// description, examples as `# what` + the command on its own line (never wrapped mid-command), the command's flags
// grouped, the global flags as one compact list (in full on the root help). 80 columns.
import type { CommandSpec, FlagSpec } from './spec.js';

export const HELP_WIDTH = 80;
const SCRIPT = 'kubectl crate-decommission';

/** The exit codes, one line (help footer; README and docs/cli.md have the table). */
export const EXIT_CODES_LINE =
  'Exit codes: 0 ok, 1 failed, 2 bad input, 3 refused (unhealthy), 4 timed out, 5 locked, 6 cannot reach the cluster, 130 Ctrl-C (detached).';

/** Group headings of the flags (the `group` of the declarations), in the order shown. */
const GROUP_ORDER = ['Flags', 'Engine', 'SQL', 'Kubernetes', 'Output'];

function wrap(text: string, width: number, indent = 0, firstIndent = indent): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = ' '.repeat(firstIndent);
  let empty = true;
  for (const w of words) {
    if (!empty && line.length + 1 + w.length > width) {
      lines.push(line);
      line = ' '.repeat(indent) + w;
    } else {
      line += (empty ? '' : ' ') + w;
    }
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** `-n, --namespace NS` */
export function flagLabel(f: FlagSpec): string {
  const short = f.alias.filter((a) => a.length === 1).map((a) => `-${a}`);
  // A boolean that is on by default is turned off with --no-<name> (e.g. --[no-]stall-break).
  const long =
    f.name.length === 1
      ? `-${f.name}`
      : f.type === 'boolean' && f.default === true
        ? `--[no-]${f.name}`
        : `--${f.name}`;
  const value = f.type === 'boolean' ? '' : ` ${placeholder(f)}`;
  return [...short, long].join(', ') + value;
}

function placeholder(f: FlagSpec): string {
  const known: Record<string, string> = {
    kubeconfig: 'PATH',
    context: 'NAME',
    cluster: 'NAME',
    user: 'NAME',
    namespace: 'NS',
    as: 'USER',
    'as-group': 'GROUP',
    output: 'FORMAT',
    color: 'WHEN',
    image: 'IMAGE',
    filename: 'FILE',
    schedule: 'CRON',
    'time-zone': 'TZ',
    'service-account': 'NAME',
    'grace-period': 'SECONDS',
    'min-availability': 'LEVEL',
    relocation: 'MODE',
    allocation: 'MODE',
    'sql-transport': 'MODE',
    'sql-user': 'NAME',
    'sql-password-secret': 'NAME[:KEY]',
    'sql-scheme': 'SCHEME',
    'sql-ca-secret': 'NAME[:KEY]',
    v: 'LEVEL',
    pushgateway: 'URL',
    'metrics-file': 'PATH',
    'temporal-address': 'HOST:PORT',
    'temporal-namespace': 'NS',
    'task-queue': 'QUEUE',
    'worker-context': 'NAME',
    'log-level': 'LEVEL',
    'max-concurrent-activities': 'N',
  };
  if (known[f.name]) return known[f.name]!;
  if (/timeout$/.test(f.name) || (typeof f.default === 'string' && /^\d+(ms|s|m|h)$/.test(f.default)))
    return 'DURATION';
  return 'VALUE';
}

function flagDescription(f: FlagSpec): string {
  const showDefault = f.default !== undefined && f.default !== false && f.default !== true && f.default !== '';
  return `${f.describe}${showDefault ? ` (default ${String(f.default)})` : ''}`;
}

/** Two columns: label, description wrapped with a hanging indent; a long label puts the text on the next line. */
function flagLines(flags: FlagSpec[], width: number): string[] {
  const col = Math.min(30, Math.max(...flags.map((f) => flagLabel(f).length)) + 4);
  const out: string[] = [];
  for (const f of flags) {
    const label = `  ${flagLabel(f)}`;
    const desc = flagDescription(f);
    if (label.length + 2 <= col) {
      const lines = wrap(desc, width, col, col);
      lines[0] = label.padEnd(col) + (lines[0] ?? '').slice(col);
      out.push(...lines);
    } else {
      out.push(label, ...wrap(desc, width, col));
    }
  }
  return out;
}

function groupName(f: FlagSpec): string {
  return (f.group ?? 'Flags:').replace(/:$/, '');
}

function grouped(flags: FlagSpec[]): Array<[string, FlagSpec[]]> {
  const groups = new Map<string, FlagSpec[]>();
  for (const f of flags.filter((x) => !x.hidden)) {
    const g = groupName(f);
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  const rank = (g: string) => (GROUP_ORDER.indexOf(g) === -1 ? GROUP_ORDER.length : GROUP_ORDER.indexOf(g));
  return [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0]));
}

export function usageLine(node: CommandSpec): string {
  if (node.path.length === 0) return `${SCRIPT} <command> [flags]`;
  const parent = node.path.slice(0, -1).join(' ');
  const visible = node.children.filter((c) => !c.hidden);
  const tail = visible.length > 0 ? ' <command>' : '';
  return `${SCRIPT} ${parent ? `${parent} ` : ''}${node.command}${tail} [flags]`;
}

/** A command line too long for the width: broken between words with shell continuations (` \`), never mid-word. */
function shellLines(cmd: string, width: number): string[] {
  if (cmd.length + 2 <= width) return [`  ${cmd}`];
  const lines = wrap(cmd, width - 2, 4, 2);
  return lines.map((l, i) => (i < lines.length - 1 ? `${l} \\` : l));
}

function exampleLines(examples: Array<[string, string]>, width: number): string[] {
  const out: string[] = [];
  for (const [cmd, text] of examples) {
    out.push(...wrap(`# ${text}`, width, 4, 2));
    out.push(...shellLines(cmd, width));
  }
  return out;
}

/** The help of `node` (the root or a command), ending with a newline. */
export function renderHelp(root: CommandSpec, node: CommandSpec, width = HELP_WIDTH): string {
  const lines: string[] = [usageLine(node), ''];
  const description = node === root ? root.describe : node.describe;
  if (description) lines.push(...wrap(description, width), '');
  const commands = node.children.filter((c) => !c.hidden);
  if (commands.length > 0) {
    lines.push('Commands:');
    const col = Math.max(...commands.map((c) => c.name.length)) + 4;
    for (const c of commands) {
      const ls = wrap(c.describe, width, col, col);
      ls[0] = `  ${c.name}`.padEnd(col) + (ls[0] ?? '').slice(col);
      lines.push(...ls);
    }
    lines.push('');
  }
  const positionals = node.positionals.filter((p) => p.describe);
  if (positionals.length > 0) {
    lines.push('Arguments:');
    const col = Math.max(...positionals.map((p) => p.name.length)) + 6;
    for (const p of positionals) {
      const ls = wrap(p.describe, width, col, col);
      ls[0] = `  ${p.required ? `<${p.name}>` : `[${p.name}]`}`.padEnd(col) + (ls[0] ?? '').slice(col);
      lines.push(...ls);
    }
    lines.push('');
  }
  if (node.examples.length > 0) lines.push('Examples:', ...exampleLines(node.examples, width), '');
  const own = node === root ? root.flags : node.flags;
  for (const [group, flags] of grouped(own)) lines.push(`${group} flags:`, ...flagLines(flags, width), '');
  if (node !== root) {
    const globals = root.flags
      .filter((f) => !f.hidden)
      .map((f) =>
        [
          ...f.alias.filter((a) => a.length === 1).map((a) => `-${a}`),
          f.name.length === 1 ? `-${f.name}` : `--${f.name}`,
        ].join('/'),
      );
    lines.push(...wrap(`Global flags (${SCRIPT} --help explains them): ${globals.join(' ')}`, width, 2, 0), '');
    if (commands.length > 0)
      lines.push(
        ...wrap(`Run "${SCRIPT} ${node.path.join(' ')} <command> --help" for more about a command.`, width),
        '',
      );
  } else {
    lines.push(...wrap(`Run "${SCRIPT} <command> --help" for more about a command.`, width), '');
  }
  lines.push(...wrap(EXIT_CODES_LINE, width));
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`;
}
