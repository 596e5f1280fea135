// Expanding words whose value we can know: kubelet's `$(VAR)`, shell variables, parameter expansion, and
// command substitutions that are pipelines starting from the pod's hostname (`$(hostname | awk -F- '{print $NF}')`).
import type { V1Container } from '@kubernetes/client-node';
import { endOfExpansion, tokenizeShell } from './shell.js';

/** Variables with known values (null: set, but to something we cannot compute). */
export type Variables = Map<string, string | null>;

/** The container's declared env vars: literal values, the pod name from the downward API, else null (not computable). */
function declaredEnv(container: V1Container, podName: string | null): Variables {
  const declared: Variables = new Map();
  for (const env of container.env ?? []) {
    if (env.value !== undefined) declared.set(env.name, env.value);
    else if (env.valueFrom?.fieldRef?.fieldPath === 'metadata.name') declared.set(env.name, podName);
    else declared.set(env.name, null);
  }
  return declared;
}

/** Known variables of a container: literal env values and the pod name from the downward API. */
export function containerVariables(container: V1Container, podName: string | null): Variables {
  const vars: Variables = new Map();
  if (podName !== null) vars.set('HOSTNAME', podName);
  for (const [name, value] of declaredEnv(container, podName)) vars.set(name, value);
  return vars;
}

/** kubelet's own `$(VAR)` expansion in command/args: only declared env vars are replaced; `$$` escapes. */
export function kubeletExpand(text: string, container: V1Container, podName: string | null): string {
  const declared = declaredEnv(container, podName);
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$'; // `$$(VAR)` is kubelet's escape for a literal `$(VAR)`
    const value = name === undefined ? undefined : declared.get(name);
    return value === undefined || value === null ? whole : value;
  });
}

/** Expand `$NAME` and `${NAME}` from known variables; null when anything cannot be computed. */
export function expandSimple(text: string, vars: Variables): string | null {
  if (!text.includes('$') && !text.includes('`')) return text;
  if (text.includes('$(') || text.includes('`')) return null;
  let failed = false;
  const out = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_w, a?: string, b?: string) => {
      const value = vars.get(a ?? b ?? '');
      if (value === undefined || value === null) {
        failed = true;
        return '';
      }
      return value;
    },
  );
  return failed || out.includes('${') ? null : out;
}

/** Does a shell glob (only `*`, `?` and literals) match the whole of `text`? */
function globMatches(glob: string, text: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`, 's').test(text);
}

/** `${NAME}`, `${NAME##*-}`, `${NAME#*-}`, `${NAME%-*}`, `${NAME%%-*}`, `${NAME:-default}`. */
function resolveParameter(inner: string, vars: Variables): string | null {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(##|#|%%|%|:-|-)(.*))?$/s.exec(inner);
  if (!m) return null;
  const [, name = '', operator, operand = ''] = m;
  const value = vars.get(name);
  if (operator === ':-' || operator === '-') {
    if (value === undefined || (operator === ':-' && value === '')) return resolveTemplate(operand, vars);
    return value;
  }
  if (value === undefined || value === null) return null;
  if (!operator) return value;
  if (/[[\]$`]/.test(operand)) return null;
  const n = value.length;
  switch (operator) {
    case '#':
      for (let k = 0; k <= n; k++) if (globMatches(operand, value.slice(0, k))) return value.slice(k);
      return value;
    case '##':
      for (let k = n; k >= 0; k--) if (globMatches(operand, value.slice(0, k))) return value.slice(k);
      return value;
    case '%':
      for (let k = n; k >= 0; k--) if (globMatches(operand, value.slice(k))) return value.slice(0, k);
      return value;
    case '%%':
      for (let k = 0; k <= n; k++) if (globMatches(operand, value.slice(k))) return value.slice(0, k);
      return value;
  }
  return null;
}

/** Translate a simple grep/sed regular expression to JavaScript; null when it uses features we do not model. */
function simpleRegex(pattern: string, extended: boolean): RegExp | null {
  let source = pattern.replace(/\[\[:digit:\]\]/g, '[0-9]').replace(/\[:digit:\]/g, '0-9');
  if (!extended) {
    if (/\\[(){}|+?]/.test(source)) return null; // BRE groups and intervals
    source = source.replace(/[+?(){}|]/g, '\\$&'); // literals in a BRE
  }
  if (/\\[0-9]/.test(source)) return null;
  try {
    return new RegExp(source);
  } catch {
    return null;
  }
}

/** `-X value` or `-Xvalue` at args[k]: its value and the index of the last word it took; null when another word. */
function shortOption(args: string[], k: number, letter: string): { value: string | null; last: number } | null {
  const arg = args[k] as string;
  if (arg === `-${letter}`) return { value: args[k + 1] ?? null, last: k + 1 };
  if (arg.startsWith(`-${letter}`)) return { value: arg.slice(2), last: k };
  return null;
}

/** Apply one pipeline stage (awk field, cut, rev, sed s///, grep -o, tr -d) to a string; null when unknown. */
function applyFilter(words: string[], input: string): string | null {
  const [program, ...args] = words;
  switch (program) {
    case 'awk': {
      let separator: string | null = null;
      let script: string | null = null;
      for (let k = 0; k < args.length; k++) {
        const option = shortOption(args, k, 'F');
        if (option) [separator, k] = [option.value, option.last];
        else script = args[k] as string;
      }
      const field = /^\{\s*print\s+\$(NF|[0-9]+)\s*;?\s*\}$/.exec(script ?? '')?.[1];
      if (separator === null || separator.length !== 1 || field === undefined) return null;
      const parts = input.split(separator);
      return field === 'NF' ? (parts[parts.length - 1] ?? '') : (parts[Number(field) - 1] ?? '');
    }
    case 'rev':
      return args.length === 0 ? [...input].reverse().join('') : null;
    case 'cut': {
      let delimiter: string | null = null;
      let fields: string | null = null;
      for (let k = 0; k < args.length; k++) {
        const d = shortOption(args, k, 'd');
        const f = d ? null : shortOption(args, k, 'f');
        if (d) [delimiter, k] = [d.value, d.last];
        else if (f) [fields, k] = [f.value, f.last];
        else return null;
      }
      if (delimiter === null || delimiter.length !== 1 || fields === null || !/^[0-9]+$/.test(fields)) return null;
      const parts = input.split(delimiter);
      return parts.length === 1 ? input : (parts[Number(fields) - 1] ?? '');
    }
    case 'sed': {
      const expressions = args.filter((a) => a !== '-e' && a !== '-E' && a !== '-r');
      const extended = args.includes('-E') || args.includes('-r');
      if (expressions.length !== 1) return null;
      const m = /^s(.)(.*?)\1(.*?)\1(g?)$/.exec(expressions[0] as string);
      if (!m) return null;
      const regex = simpleRegex(m[2] ?? '', extended);
      if (!regex || /[&\\]/.test(m[3] ?? '')) return null;
      return input.replace(m[4] === 'g' ? new RegExp(regex.source, 'g') : regex, m[3] ?? '');
    }
    case 'grep': {
      const options = args.filter((a) => a.startsWith('-'));
      const patterns = args.filter((a) => !a.startsWith('-'));
      if (!options.some((o) => /^-[A-Za-z]*o/.test(o)) || patterns.length !== 1) return null;
      const regex = simpleRegex(
        patterns[0] as string,
        options.some((o) => /^-[A-Za-z]*E/.test(o)),
      );
      return regex?.exec(input)?.[0] ?? null;
    }
    case 'tr': {
      if (args[0] === '-d' && args[1] !== undefined && !/[\\[-]/.test(args[1])) {
        return [...input].filter((ch) => !(args[1] as string).includes(ch)).join('');
      }
      return null;
    }
    default:
      return null;
  }
}

/** `$(hostname | awk -F- '{print $NF}')` and friends: a pipeline starting from the pod's hostname. */
function resolveCommandSubstitution(script: string, vars: Variables): string | null {
  const tokens = tokenizeShell(script);
  const stages: string[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'op') {
      if (token.op !== '|') return null;
      stages.push([]);
    } else {
      (stages[stages.length - 1] as string[]).push(token.text);
    }
  }
  const [source, ...filters] = stages;
  if (!source || source.length === 0) return null;
  let value: string | null = null;
  const [program, ...args] = source;
  if (
    program === 'hostname' &&
    (args.length === 0 || (args.length === 1 && ['-s', '--short'].includes(args[0] as string)))
  ) {
    value = vars.get('HOSTNAME') ?? null;
  } else if (program === 'cat' && args.length === 1 && args[0] === '/etc/hostname') {
    value = vars.get('HOSTNAME') ?? null;
  } else if (program === 'echo' && args.length >= 1) {
    const parts = args.filter((a) => a !== '-n').map((a) => resolveTemplate(a, vars));
    value = parts.some((p) => p === null) ? null : parts.join(' ');
  } else if (program === 'printf' && args.length === 2 && args[0] === '%s') {
    value = resolveTemplate(args[1] as string, vars);
  }
  for (const filter of filters) {
    if (value === null) return null;
    value = applyFilter(filter, value);
  }
  return value;
}

/** Resolve a word's text (quotes already removed) with `$(..)`, `${..}`, `$NAME` and backticks; null if unknown. */
export function resolveTemplate(text: string, vars: Variables): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    const next = text[i + 1] ?? '';
    if (c === '$' && (next === '(' || next === '{')) {
      const end = endOfExpansion(text, i);
      const inner = text.slice(i + 2, end - 1);
      const value = next === '(' ? resolveCommandSubstitution(inner, vars) : resolveParameter(inner, vars);
      if (value === null) return null;
      out += value;
      i = end;
    } else if (c === '$' && /[A-Za-z_]/.test(next)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0] ?? '';
      const value = vars.get(name);
      if (value === undefined || value === null) return null;
      out += value;
      i += 1 + name.length;
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) return null;
      const value = resolveCommandSubstitution(text.slice(i + 1, end), vars);
      if (value === null) return null;
      out += value;
      i = end + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The raw `-Cnode.name=` value as written (quotes removed, expansions verbatim), or null when absent. */
