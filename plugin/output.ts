// kubectl's output habits: `-o jsonpath=TEMPLATE` (kubectl's template subset), ages as kubectl prints them
// (5m, 3h12m), and YAML without anchors/aliases.
import YAML from 'yaml';

/** kubectl's duration.HumanDuration: 45s, 2m5s, 12m, 3h12m, 20h, 3d4h, 40d, 2y100d, 9y. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of an ISO timestamp at `now`, as kubectl shows it; '-' without a timestamp. */
export function age(iso: string | null | undefined, now: Date): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '-' : humanDuration(now.getTime() - t);
}

/** YAML for any value: no anchors/aliases (a value used twice is written out twice), no line folding. */
export function toPlainYaml(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

// ---------------------------------------------------------------------------------------------------------------
// JSONPath, kubectl's template flavour: text with {expressions}; expressions are field paths (.a.b, ['a.b']),
// [n], [-n], [*], [a:b], .., {range EXPR}...{end}, and {"literal"} (with \n, \t). Several results are joined by
// a space, as kubectl does. Filters (?(...)) are not supported: an error says so.

type Seg =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'all' }
  | { kind: 'recurse' };

class JsonPathError extends Error {}

function parsePath(expr: string): Seg[] {
  const segs: Seg[] = [];
  let i = 0;
  const e = expr.trim();
  if (e === '' || e === '@' || e === '$') return segs;
  let s = e.startsWith('$') || e.startsWith('@') ? e.slice(1) : e;
  if (!s.startsWith('.') && !s.startsWith('[')) s = `.${s}`;
  while (i < s.length) {
    if (s.startsWith('..', i)) {
      segs.push({ kind: 'recurse' });
      i += 2;
      const m = /^[A-Za-z0-9_\-$]+|^\*/.exec(s.slice(i));
      if (m) {
        segs.push(m[0] === '*' ? { kind: 'all' } : { kind: 'field', name: m[0] });
        i += m[0].length;
      }
    } else if (s[i] === '.') {
      i += 1;
      const m = /^[A-Za-z0-9_\-$/]+|^\*/.exec(s.slice(i));
      if (!m) throw new JsonPathError(`invalid JSONPath "${expr}" at "${s.slice(i - 1)}"`);
      segs.push(m[0] === '*' ? { kind: 'all' } : { kind: 'field', name: m[0] });
      i += m[0].length;
    } else if (s[i] === '[') {
      const close = s.indexOf(']', i);
      if (close === -1) throw new JsonPathError(`invalid JSONPath "${expr}": missing ]`);
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') segs.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) segs.push({ kind: 'index', index: Number(inner) });
      else if (/^(-?\d*):(-?\d*)$/.test(inner)) {
        const [a, b] = inner.split(':');
        const slice: Seg = { kind: 'slice' };
        if (a) slice.start = Number(a);
        if (b) slice.end = Number(b);
        segs.push(slice);
      } else if (/^'.*'$|^".*"$/.test(inner)) segs.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?'))
        throw new JsonPathError(`JSONPath filters ("${inner}") are not supported; use -o json with jq`);
      else throw new JsonPathError(`invalid JSONPath "${expr}" at "[${inner}]"`);
    } else {
      throw new JsonPathError(`invalid JSONPath "${expr}" at "${s.slice(i)}"`);
    }
  }
  return segs;
}

function evalPath(root: unknown, segs: Seg[]): unknown[] {
  let current: unknown[] = [root];
  for (const seg of segs) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (seg.kind) {
        case 'field':
          if (v && typeof v === 'object' && !Array.isArray(v) && seg.name in v)
            next.push((v as Record<string, unknown>)[seg.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const x = seg.index < 0 ? v.length + seg.index : seg.index;
            if (x >= 0 && x < v.length) next.push(v[x]);
          }
          break;
        case 'slice':
          if (Array.isArray(v)) next.push(...v.slice(seg.start, seg.end));
          break;
        case 'all':
          if (Array.isArray(v)) next.push(...v);
          else if (v && typeof v === 'object') next.push(...Object.values(v));
          break;
        case 'recurse': {
          const walk = (x: unknown) => {
            next.push(x);
            if (x && typeof x === 'object') for (const c of Object.values(x)) walk(c);
          };
          walk(v);
          break;
        }
      }
    }
    current = next;
  }
  return current;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

type Node =
  { kind: 'text'; text: string } | { kind: 'expr'; expr: string } | { kind: 'range'; expr: string; body: Node[] };

function parseTemplate(template: string): Node[] {
  const tokens: Array<{ text?: string; expr?: string }> = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open === -1) {
      tokens.push({ text: template.slice(i) });
      break;
    }
    if (open > i) tokens.push({ text: template.slice(i, open) });
    let close = open + 1;
    let quote: string | null = null;
    for (; close < template.length; close++) {
      const ch = template[close];
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '}') break;
    }
    if (close >= template.length) throw new JsonPathError(`unclosed { in JSONPath template "${template}"`);
    tokens.push({ expr: template.slice(open + 1, close).trim() });
    i = close + 1;
  }
  const stack: Node[][] = [[]];
  const ranges: Array<Extract<Node, { kind: 'range' }>> = [];
  for (const t of tokens) {
    const top = stack[stack.length - 1]!;
    if (t.text !== undefined) top.push({ kind: 'text', text: t.text });
    else if (/^range\s/.test(t.expr ?? '')) {
      const node: Extract<Node, { kind: 'range' }> = { kind: 'range', expr: (t.expr ?? '').slice(6).trim(), body: [] };
      top.push(node);
      ranges.push(node);
      stack.push(node.body);
    } else if (t.expr === 'end') {
      if (ranges.length === 0) throw new JsonPathError('{end} without {range}');
      ranges.pop();
      stack.pop();
    } else if (/^".*"$|^'.*'$/.test(t.expr ?? '')) {
      top.push({ kind: 'text', text: unescape((t.expr ?? '').slice(1, -1)) });
    } else top.push({ kind: 'expr', expr: t.expr ?? '' });
  }
  if (ranges.length > 0) throw new JsonPathError('{range} without {end}');
  return stack[0]!;
}

function unescape(s: string): string {
  return s.replace(/\\([nt\\"'])/g, (_m, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
}

function render(nodes: Node[], data: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') out += evalPath(data, parsePath(n.expr)).map(show).join(' ');
    else for (const item of evalPath(data, parsePath(n.expr))) out += render(n.body, item);
  }
  return out;
}

/** Check a template (bad input before any work). */
export function validateJsonPath(template: string): void {
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.kind === 'expr') parsePath(n.expr);
      if (n.kind === 'range') {
        parsePath(n.expr);
        walk(n.body);
      }
    }
  };
  walk(parseTemplate(template));
}

/** kubectl's `-o jsonpath=TEMPLATE` on a JSON value. A template without braces is one expression, as in kubectl. */
export function jsonPath(template: string, data: unknown): string {
  const t = template.includes('{') ? template : `{${template}}`;
  return render(parseTemplate(t), JSON.parse(JSON.stringify(data)) as unknown);
}
