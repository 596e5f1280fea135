// The command tree as data, read from the SAME yargs declarations the parser uses: every declare function runs
// once against a recorder instead of yargs. Help (plugin/help.ts), docs/cli.md (scripts/gen-cli-docs.ts), "did you
// mean", "which argument is missing" and completion all read this tree, so none of them can drift from the parser.

/** One flag as declared with `.option(name, {...})`. */
export interface FlagSpec {
  name: string;
  alias: string[];
  describe: string;
  type: 'string' | 'boolean' | 'number' | 'array';
  default?: unknown;
  group?: string;
  hidden: boolean;
}

interface PositionalSpec {
  name: string;
  describe: string;
  required: boolean;
}

export interface CommandSpec {
  /** The word that selects it ('' for the root). */
  name: string;
  /** The full path of words, e.g. ['jobs', 'list']. */
  path: string[];
  /** As declared: 'rollout <target>', 'plan [target]'. */
  command: string;
  describe: string;
  positionals: PositionalSpec[];
  flags: FlagSpec[];
  examples: Array<[string, string]>;
  children: CommandSpec[];
  hidden: boolean;
}

type Builder = ((y: unknown) => unknown) | Record<string, unknown> | undefined;

/** A stand-in for yargs that records what the declarations say and returns itself for anything else. */
function recorder(node: CommandSpec): unknown {
  const self: unknown = new Proxy(
    {},
    {
      get(_t, prop) {
        switch (prop) {
          case 'option':
          case 'options':
            return (name: string | Record<string, Record<string, unknown>>, opts: Record<string, unknown> = {}) => {
              if (typeof name === 'object') for (const [k, v] of Object.entries(name)) addFlag(node, k, v);
              else addFlag(node, name, opts);
              return self;
            };
          case 'positional':
            return (name: string, opts: Record<string, unknown> = {}) => {
              const p = node.positionals.find((x) => x.name === name);
              if (p) p.describe = String(opts.describe ?? p.describe);
              return self;
            };
          case 'example':
            return (cmd: string, text: string) => {
              node.examples.push([cmd.replace(/^\$0\b/, 'kubectl crate-decommission'), text]);
              return self;
            };
          case 'command':
            return (cmd: string, describe: string | false, builder?: Builder) => {
              const name = cmd.split(/\s+/)[0] ?? cmd;
              const child: CommandSpec = {
                name,
                path: [...node.path, name],
                command: cmd,
                describe: describe === false ? '' : describe,
                positionals: positionalsOf(cmd),
                flags: [],
                examples: [],
                children: [],
                hidden: describe === false || name.startsWith('__'),
              };
              node.children.push(child);
              if (typeof builder === 'function') builder(recorder(child));
              return self;
            };
          case 'then':
            return undefined; // not a promise
          default:
            return () => self;
        }
      },
    },
  );
  return self;
}

function addFlag(node: CommandSpec, name: string, o: Record<string, unknown>): void {
  const alias = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias.map(String) : [String(o.alias)];
  const type = o.array === true ? 'array' : ((o.type as FlagSpec['type'] | undefined) ?? 'string');
  const flag: FlagSpec = { name, alias, describe: String(o.describe ?? ''), type, hidden: o.hidden === true };
  if (o.default !== undefined) flag.default = o.default;
  if (typeof o.group === 'string') flag.group = o.group;
  node.flags.push(flag);
}

function positionalsOf(cmd: string): PositionalSpec[] {
  return [...cmd.matchAll(/([<[])([^>\]]+)[>\]]/g)].map((m) => ({
    name: m[2] ?? '',
    describe: '',
    required: m[1] === '<',
  }));
}

/** Run `declare` (root flags and commands) against a recorder: the tree the parser is built from. */
export function recordCommandTree(declare: (y: unknown) => unknown): CommandSpec {
  const root: CommandSpec = {
    name: '',
    path: [],
    command: '',
    describe: '',
    positionals: [],
    flags: [],
    examples: [],
    children: [],
    hidden: false,
  };
  declare(recorder(root));
  return root;
}

/** The deepest command the words select (flags and their values skipped), and the words that did not match. */
export function findCommand(root: CommandSpec, words: string[]): { node: CommandSpec; rest: string[] } {
  let node = root;
  const rest: string[] = [];
  const valueFlags = new Set<string>();
  const collect = (n: CommandSpec) => {
    for (const f of n.flags) {
      if (f.type === 'boolean') continue;
      valueFlags.add(`--${f.name}`);
      for (const a of f.alias) valueFlags.add(a.length === 1 ? `-${a}` : `--${a}`);
    }
  };
  collect(root);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (w === '--') break;
    if (w.startsWith('-') && w !== '-') {
      if (!w.includes('=') && valueFlags.has(w)) i += 1;
      continue;
    }
    const child = rest.length === 0 ? node.children.find((c) => c.name === w) : undefined;
    if (child) {
      node = child;
      collect(child);
    } else {
      rest.push(w);
    }
  }
  return { node, rest };
}
