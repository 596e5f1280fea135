// Strategy detection: does dc_util in the preStop hook decommission this StatefulSet's pods, or must we? (pure)
//
// Everything here reads a StatefulSet as data and predicts what dc_util (crate-operator's utils/dc_util) would do
// at pod termination, following its own rules (fact sheet section 5). When in doubt the answer is `manual`: we
// then decommission ourselves, and a dc_util that runs anyway finds nothing left to do. The opposite mistake
// (trusting a hook that does not decommission) deletes a node without draining it.
import { withoutOwnNoneLabel } from './min-availability-label.js';
import type { V1Container, V1Pod, V1PodSpec, V1StatefulSet } from '@kubernetes/client-node';
import type { Logger } from './ports.js';
import type { StatefulSetInfo, StrategyDetection } from './schemas.js';

// ---------------------------------------------------------------------------------------------------------------
// dc_util's constants (utils/dc_util/dc_util.go)

export const DC_UTIL_DEFAULT_TIMEOUT = '7200s';
export const DC_UTIL_DEFAULT_MIN_AVAILABILITY = 'FULL';
export const DC_UTIL_DEFAULT_NODE_PREFIX = 'data-hot';
/** dc_util's -proto default: it always posts to <proto>://127.0.0.1:4200/_sql. */
export const DC_UTIL_DEFAULT_PROTO = 'https';
/** The Kubernetes default grace period; dc_util treats it (and unset) as "use the -timeout flag". */
export const KUBERNETES_DEFAULT_GRACE_SECONDS = 30;
export const DC_UTIL_GRACE_BUFFER_SECONDS = 120;
export const DC_UTIL_MIN_TIMEOUT_SECONDS = 360;
/** Margin added to dc_util's effective timeout for the pod deletion grace period. */
export const DELETE_GRACE_MARGIN_SECONDS = 60;
/** Grace period used to delete a pod whose CrateDB process has already exited (manual strategy). */
export const MANUAL_DELETE_GRACE_SECONDS = 30;

export const LABEL_DC_UTIL_DISABLED = 'dc-util-disabled';
export const LABEL_DC_UTIL_MIN_AVAILABILITY = 'dc-util-min-availability';

// ---------------------------------------------------------------------------------------------------------------
// Go durations

const GO_UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const GO_MAX_DURATION_NANOS = (1n << 63n) - 1n;

/**
 * Parse a Go duration ("720s", "15m", "1h30m", "1.5h") into whole seconds; null when invalid.
 * Follows time.ParseDuration: optional sign, one or more `<decimal><unit>` terms, units ns/us/µs/ms/s/m/h,
 * a bare "0" is the only number without a unit. Sub-second remainders round up (300ms -> 1) so a timeout
 * is never shortened. A negative duration gives negative seconds.
 */
export function parseGoDuration(text: string): number | null {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return null;
  let totalNanos = 0n;
  while (rest !== '') {
    const term = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const intDigits = term?.[1] ?? '';
    const fracDigits = term?.[2] ?? '';
    const hasDot = term?.[0].includes('.') ?? false;
    if (intDigits === '' && fracDigits === '') return null; // Go: neither digits before nor after the dot
    rest = rest.slice(term?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]+/.exec(rest);
    if (!unitMatch) return null; // missing unit
    const unit = GO_UNIT_NANOS[unitMatch[0]];
    if (unit === undefined) return null; // unknown unit (case-sensitive in Go: "720S" is invalid)
    rest = rest.slice(unitMatch[0].length);
    let nanos = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (hasDot && fracDigits !== '') {
      nanos += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    totalNanos += nanos;
    if (totalNanos > GO_MAX_DURATION_NANOS) return null; // Go: "invalid duration" on overflow
  }
  const seconds = Number((totalNanos + 999_999_999n) / 1_000_000_000n);
  return negative ? (seconds === 0 ? 0 : -seconds) : seconds;
}

/**
 * Does CrateDB accept this string as a time setting value? dc_util passes its -timeout flag verbatim to
 * `SET GLOBAL "cluster.graceful_stop.timeout"` when the grace period is unset or 30; CrateDB's TimeValue takes
 * one integer with one unit, so Go-only forms such as "1h30m" or "1.5h" make that statement (and dc_util) fail.
 */
export function crateAcceptsTimeValue(text: string): boolean {
  return /^\+?[0-9]+(ms|s|m|h)$/.test(text) || /^0+$/.test(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Containers

/** Image reference without registry, tag and digest: `docker.io/crate/crate:5.8@sha256:..` -> `crate`. */
function imageBaseName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastPart = withoutDigest.split('/').pop() ?? '';
  return lastPart.split(':')[0] ?? '';
}

export function isCrateImage(image: string | undefined): boolean {
  if (!image) return false;
  const base = imageBaseName(image.trim()).toLowerCase();
  return base === 'crate' || base === 'cratedb';
}

function exposesHttpPort(container: V1Container): boolean {
  return (container.ports ?? []).some((port) => port.containerPort === 4200);
}

/** How the CrateDB container was found, for reasons. */
export function describeCrateContainerChoice(container: V1Container): string {
  if (container.name === 'crate') return `container named crate`;
  if (isCrateImage(container.image)) return `container ${container.name} runs the CrateDB image ${container.image}`;
  return `container ${container.name} exposes port 4200`;
}

/** The CrateDB container of a pod template: `crate` by name, else a crate image, else one exposing 4200. */
export function findCrateContainer(containers: V1Container[]): V1Container | null {
  return (
    containers.find((c) => c.name === 'crate') ??
    containers.find((c) => isCrateImage(c.image)) ??
    containers.find(exposesHttpPort) ??
    null
  );
}

// ---------------------------------------------------------------------------------------------------------------
// A small POSIX shell reader: enough to find commands, their words and the operators between them.
// Expansions ($(..), ${..}, $VAR, `..`) are kept verbatim in a word's text; quotes are removed.

interface ShellWord {
  kind: 'word';
  text: string;
  /** Any part was quoted or escaped (so `true` in quotes is still the word true, but `2` before `>` is not an fd). */
  quoted: boolean;
}
type ShellOperator = '&&' | '||' | ';' | ';;' | '|' | '|&' | '&' | '(' | ')' | '\n';
interface ShellOp {
  kind: 'op';
  op: ShellOperator;
}
type ShellToken = ShellWord | ShellOp;

/** Index just past the `)` or `}` closing the expansion that starts at src[start] === '$'. */
function endOfExpansion(src: string, start: number): number {
  const open = src[start + 1];
  const close = open === '(' ? ')' : '}';
  let depth = 0;
  let j = start + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", j + 1);
      j = end < 0 ? src.length : end + 1;
      continue;
    }
    if (c === '"') {
      j++;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      j++;
      continue;
    }
    if (c === open) depth++;
    else if (c === close) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return src.length;
}

export function tokenizeShell(src: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let buf = '';
  let inWord = false;
  let quoted = false;
  let dropNextWord = false; // the target of a redirection
  const flush = (): void => {
    if (inWord) {
      if (dropNextWord) dropNextWord = false;
      else tokens.push({ kind: 'word', text: buf, quoted });
    }
    buf = '';
    inWord = false;
    quoted = false;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    const next = src[i + 1] ?? '';
    if (c === '\\') {
      if (next !== '\n') {
        buf += next;
        inWord = true;
        quoted = true;
      }
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      const stop = end < 0 ? src.length : end;
      buf += src.slice(i + 1, stop);
      inWord = true;
      quoted = true;
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      inWord = true;
      quoted = true;
      i++;
      while (i < src.length && src[i] !== '"') {
        const d = src[i] ?? '';
        const e = src[i + 1] ?? '';
        if (d === '\\' && '"\\$`\n'.includes(e) && e !== '') {
          if (e !== '\n') buf += e;
          i += 2;
        } else if (d === '$' && (e === '(' || e === '{')) {
          const end = endOfExpansion(src, i);
          buf += src.slice(i, end);
          i = end;
        } else {
          buf += d;
          i++;
        }
      }
      i++;
      continue;
    }
    if (c === '$' && (next === '(' || next === '{')) {
      const end = endOfExpansion(src, i);
      buf += src.slice(i, end);
      inWord = true;
      i = end;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      const stop = end < 0 ? src.length : end + 1;
      buf += src.slice(i, stop);
      inWord = true;
      i = stop;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      flush();
      i++;
      continue;
    }
    if (c === '\n') {
      flush();
      tokens.push({ kind: 'op', op: '\n' });
      i++;
      continue;
    }
    if (c === '>' || c === '<' || (c === '&' && next === '>')) {
      if (inWord && !quoted && /^[0-9]+$/.test(buf)) {
        buf = ''; // a file descriptor number: `2>&1`
        inWord = false;
      } else {
        flush();
      }
      i++;
      while (i < src.length && '<>&|'.includes(src[i] ?? '')) i++;
      dropNextWord = true;
      continue;
    }
    if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') {
      flush();
      const two = c + next;
      if (two === '&&' || two === '||' || two === ';;' || two === '|&') {
        tokens.push({ kind: 'op', op: two });
        i += 2;
      } else {
        tokens.push({ kind: 'op', op: c as ShellOperator });
        i++;
      }
      continue;
    }
    buf += c;
    inWord = true;
    i++;
  }
  flush();
  return tokens;
}

interface SimpleCommand {
  words: ShellWord[];
  /** Operator before this command (null at the start). */
  before: ShellOperator | null;
  /** Operator after this command (null at the end). */
  after: ShellOperator | null;
}

/** Split a script into simple commands; a newline right after `&&`, `||` or `|` continues the list. */
function splitCommands(tokens: ShellToken[]): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: ShellWord[] = [];
  let before: ShellOperator | null = null;
  for (const token of tokens) {
    if (token.kind === 'word') {
      words.push(token);
      continue;
    }
    if (words.length === 0) {
      if (token.op !== '\n' && token.op !== '(' && token.op !== ')') before = token.op;
      continue;
    }
    commands.push({ words, before, after: token.op === '\n' ? ';' : token.op });
    before = token.op === '\n' ? ';' : token.op;
    words = [];
  }
  if (words.length > 0) commands.push({ words, before, after: null });
  return commands;
}

// ---------------------------------------------------------------------------------------------------------------
// Expanding words whose value we can know

/** Variables with known values (null: set, but to something we cannot compute). */
type Variables = Map<string, string | null>;

/** Known variables of a container: literal env values and the pod name from the downward API. */
function containerVariables(container: V1Container, podName: string | null): Variables {
  const vars: Variables = new Map();
  if (podName !== null) vars.set('HOSTNAME', podName);
  for (const env of container.env ?? []) {
    if (env.value !== undefined) vars.set(env.name, env.value);
    else if (env.valueFrom?.fieldRef?.fieldPath === 'metadata.name' && podName !== null) vars.set(env.name, podName);
    else vars.set(env.name, null);
  }
  return vars;
}

/** kubelet's own `$(VAR)` expansion in command/args: only declared env vars are replaced; `$$` escapes. */
function kubeletExpand(text: string, container: V1Container, podName: string | null): string {
  const declared = new Map<string, string | null>();
  for (const env of container.env ?? []) {
    if (env.value !== undefined) declared.set(env.name, env.value);
    else if (env.valueFrom?.fieldRef?.fieldPath === 'metadata.name') declared.set(env.name, podName);
    else declared.set(env.name, null);
  }
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$'; // `$$(VAR)` is kubelet's escape for a literal `$(VAR)`
    const value = name === undefined ? undefined : declared.get(name);
    return value === undefined || value === null ? whole : value;
  });
}

/** Expand `$NAME` and `${NAME}` from known variables; null when anything cannot be computed. */
function expandSimple(text: string, vars: Variables): string | null {
  if (!text.includes('$') && !text.includes('`')) return text;
  if (text.includes('$(') || text.includes('`')) return null;
  let failed = false;
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_w, a?: string, b?: string) => {
    const value = vars.get(a ?? b ?? '');
    if (value === undefined || value === null) {
      failed = true;
      return '';
    }
    return value;
  });
  return failed || out.includes('${') ? null : out;
}

function basename(path: string): string {
  return path.split('/').pop() ?? path;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'mksh']);
/** Prefix commands that run their arguments as the command. */
const PASS_THROUGH = new Set(['exec', 'nohup', 'command', 'builtin', 'setsid', 'time', 'if', 'elif', 'then', 'else', 'while', 'until', 'do', '!', '{']);

// ---------------------------------------------------------------------------------------------------------------
// Go flag parsing of dc_util's command line

type FlagKind = 'string' | 'int' | 'bool';
const DC_UTIL_FLAGS: Record<string, FlagKind> = {
  'crate-node-prefix': 'string',
  timeout: 'string',
  pid: 'int',
  proto: 'string',
  hostname: 'string',
  'min-availability': 'string',
  'dry-run': 'bool',
  'reset-routing': 'bool',
  'log-file': 'string',
  'lock-file': 'string',
};

/** One argument of a dc_util call: the text as written (quotes removed) and its value when computable. */
export interface DcUtilArg {
  text: string;
  value: string | null;
}

export interface DcUtilFlags {
  /** Flags that were set, with their value (null: not computable, e.g. `$TIMEOUT` from elsewhere). */
  values: Map<string, string | null>;
  /** The flag each value came from, as written (`--timeout`, `-timeout=720s`). */
  spelling: Map<string, string>;
  /** Go's flag package rejected the command line: dc_util exits 2 before doing anything. */
  error: string | null;
  /** -h / -help: dc_util prints its usage and exits. */
  help: boolean;
}

function parseGoBool(text: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return null;
}

/** Parse dc_util's arguments the way Go's flag package does (stops at the first non-flag or `--`). */
export function parseDcUtilFlags(args: DcUtilArg[]): DcUtilFlags {
  const result: DcUtilFlags = { values: new Map(), spelling: new Map(), error: null, help: false };
  let i = 0;
  while (i < args.length) {
    const arg = args[i] as DcUtilArg;
    const s = arg.text;
    if (s.length < 2 || !s.startsWith('-')) break;
    let dashes = 1;
    if (s[1] === '-') {
      dashes = 2;
      if (s.length === 2) break; // "--" ends the flags
    }
    let name = s.slice(dashes);
    if (name === '' || name.startsWith('-') || name.startsWith('=')) {
      result.error = `bad flag syntax: ${s}`;
      return result;
    }
    i++;
    let value: string | null = null;
    let hasValue = false;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      // the value after '=' is computable only if the whole word was
      value = arg.value === null ? null : arg.value.slice(arg.value.indexOf('=') + 1);
      name = name.slice(0, eq);
      hasValue = true;
    }
    const kind = DC_UTIL_FLAGS[name];
    if (kind === undefined) {
      if (name === 'help' || name === 'h') {
        result.help = true;
        return result;
      }
      result.error = `flag provided but not defined: -${name}`;
      return result;
    }
    if (kind === 'bool') {
      if (hasValue) {
        const parsed = value === null ? true : parseGoBool(value);
        if (parsed === null) {
          result.error = `invalid boolean value ${JSON.stringify(value)} for -${name}`;
          return result;
        }
        value = String(parsed);
      } else {
        value = 'true';
      }
    } else {
      if (!hasValue) {
        if (i >= args.length) {
          result.error = `flag needs an argument: -${name}`;
          return result;
        }
        value = (args[i] as DcUtilArg).value;
        i++;
      }
      if (kind === 'int' && value !== null && !/^[+-]?[0-9]+$/.test(value)) {
        result.error = `invalid value ${JSON.stringify(value)} for flag -${name}`;
        return result;
      }
    }
    result.values.set(name, value);
    result.spelling.set(name, s);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Finding dc_util calls in a preStop exec command

/** A dc_util program name: dc_util, dc_util-linux-amd64, dc_util-linux-${ARCH}, /usr/local/bin/dc-util. */
export function isDcUtilProgram(word: string): boolean {
  const base = basename(word);
  if (!/^dc[_-]?util(?![a-z0-9])/i.test(base)) return false;
  return !/\.(sha256|sha512|md5|sig|asc|log|lock|txt|json|ya?ml|tar|gz|tgz|zip)$/i.test(base);
}

export interface DcUtilCall {
  /** The program as written, e.g. `./dc_util-linux-${ARCH}`. */
  program: string;
  args: DcUtilArg[];
  /** Reached through `sh -c` / `bash -lc` (else: exec'd directly by kubelet). */
  viaShell: boolean;
  /** Followed by `|| true` (or `|| :`): a failure silently becomes a plain SIGTERM. */
  orTrue: boolean;
  /** Runs only after other commands succeed (`&&` chain, e.g. a download). */
  afterAnd: boolean;
  /** Started in the background (`&`): the hook returns at once. */
  background: boolean;
  /** Exec'd without a shell but its name holds shell syntax (`${ARCH}`): nothing expands it, the exec fails. */
  unexpandedProgram: boolean;
  /** `sh -c '<script>' a b`: words after the script become $0, $1.. of the shell, NOT dc_util arguments. */
  ignoredShellArgs: string[];
}

export interface PreStopScan {
  calls: DcUtilCall[];
  /** dc_util appears in the hook text (URL, chmod, sha256sum..) but is never run as a command. */
  mentionedOnly: boolean;
  /** Other programs the hook runs (for reasons). */
  otherPrograms: string[];
}

function isTrueCommand(words: ShellWord[]): boolean {
  const [first, second] = words;
  if (!first) return false;
  if (words.length === 1 && (first.text === 'true' || first.text === ':' || first.text === '/bin/true')) return true;
  return first.text === 'exit' && (second === undefined || second.text === '0') && words.length <= 2;
}

interface ScanState {
  calls: DcUtilCall[];
  otherPrograms: string[];
}

function scanArgv(
  words: ShellWord[],
  vars: Variables,
  viaShell: boolean,
  position: { orTrue: boolean; afterAnd: boolean; background: boolean },
  state: ScanState,
  depth: number,
): void {
  let rest = [...words];
  // leading assignments (shell only): `ARCH=$(uname -m) ./dc_util-linux-$ARCH`
  if (viaShell) {
    while (rest[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0].text)) rest = rest.slice(1);
  }
  // wrappers that run their arguments
  for (;;) {
    const first = rest[0];
    if (!first) return;
    const name = basename(first.text);
    if (PASS_THROUGH.has(name)) {
      rest = rest.slice(1);
    } else if (name === 'env') {
      rest = rest.slice(1);
      while (rest[0] && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0].text) || rest[0].text.startsWith('-'))) {
        const flag = rest[0].text;
        rest = rest.slice(flag === '-u' || flag === '-C' || flag === '-S' ? 2 : 1);
      }
    } else if (name === 'timeout') {
      rest = rest.slice(1);
      while (rest[0] && rest[0].text.startsWith('-')) {
        const flag = rest[0].text;
        rest = rest.slice(flag === '-s' || flag === '-k' ? 2 : 1);
      }
      rest = rest.slice(1); // the duration
    } else {
      break;
    }
  }
  const programWord = rest[0];
  if (!programWord) return;
  const program = viaShell ? (expandSimple(programWord.text, vars) ?? programWord.text) : programWord.text;
  const programName = basename(program);

  if (SHELLS.has(programName) || (programName === 'busybox' && SHELLS.has(rest[1]?.text ?? ''))) {
    const shellArgs = rest.slice(programName === 'busybox' ? 2 : 1);
    let withC = false;
    let k = 0;
    for (; k < shellArgs.length; k++) {
      const option = (shellArgs[k] as ShellWord).text;
      if (option === '--') {
        k++;
        break;
      }
      if (!option.startsWith('-') && !option.startsWith('+')) break;
      if (/^[-+][A-Za-z]*c[A-Za-z]*$/.test(option)) withC = true;
      if (option === '-o' || option === '+o' || option === '-O' || option === '+O') k++; // option argument
    }
    const script = shellArgs[k];
    if (withC && script && depth < 4) {
      const before = state.calls.length;
      scanScript(script.text, new Map(vars), state, depth + 1);
      const ignored = shellArgs.slice(k + 1).map((w) => w.text);
      for (const call of state.calls.slice(before)) {
        call.ignoredShellArgs = ignored;
        call.orTrue ||= position.orTrue;
        call.afterAnd ||= position.afterAnd;
        call.background ||= position.background;
      }
      return;
    }
    state.otherPrograms.push(script ? `${programName} ${script.text}` : programName);
    return;
  }

  if (isDcUtilProgram(program)) {
    state.calls.push({
      program: programWord.text,
      args: rest.slice(1).map((w) => ({ text: w.text, value: viaShell ? expandSimple(w.text, vars) : w.text })),
      viaShell,
      orTrue: position.orTrue,
      afterAnd: position.afterAnd,
      background: position.background,
      unexpandedProgram: !viaShell && /\$/.test(programWord.text),
      ignoredShellArgs: [],
    });
    return;
  }
  state.otherPrograms.push(programName);
}

function scanScript(script: string, vars: Variables, state: ScanState, depth: number): void {
  const commands = splitCommands(tokenizeShell(script));
  commands.forEach((command, index) => {
    let words = command.words;
    if (words[0]?.text === 'export' || words[0]?.text === 'readonly' || words[0]?.text === 'local') {
      words = words.slice(1);
    }
    const assignments = words.filter((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text));
    if (assignments.length === words.length) {
      for (const assignment of assignments) {
        const eq = assignment.text.indexOf('=');
        vars.set(assignment.text.slice(0, eq), expandSimple(assignment.text.slice(eq + 1), vars));
      }
      return;
    }
    const next = commands[index + 1];
    scanArgv(
      words,
      vars,
      true,
      {
        orTrue: command.after === '||' && next !== undefined && isTrueCommand(next.words),
        afterAnd: command.before === '&&',
        background: command.after === '&',
      },
      state,
      depth,
    );
  });
}

/** Find every dc_util call in a preStop exec command (argv as in the manifest). */
export function scanPreStopCommand(command: string[], container: V1Container, podName: string | null): PreStopScan {
  const state: ScanState = { calls: [], otherPrograms: [] };
  const argv = command.map((part) => ({ kind: 'word' as const, text: kubeletExpand(part, container, podName), quoted: true }));
  scanArgv(argv, containerVariables(container, podName), false, { orTrue: false, afterAnd: false, background: false }, state, 0);
  const mentioned = command.some((part) => /dc[_-]?util/i.test(part));
  return { calls: state.calls, mentionedOnly: mentioned && state.calls.length === 0, otherPrograms: state.otherPrograms };
}

// ---------------------------------------------------------------------------------------------------------------
// CrateDB node names

/** Does a shell glob (only `*`, `?` and literals) match the whole of `text`? */
function globMatches(glob: string, text: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
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

/** Apply one pipeline stage (awk field, cut, rev, sed s///, grep -o, tr -d) to a string; null when unknown. */
function applyFilter(words: string[], input: string): string | null {
  const [program, ...args] = words;
  switch (program) {
    case 'awk': {
      let separator: string | null = null;
      let script: string | null = null;
      for (let k = 0; k < args.length; k++) {
        const arg = args[k] as string;
        if (arg === '-F') separator = args[++k] ?? null;
        else if (arg.startsWith('-F')) separator = arg.slice(2);
        else script = arg;
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
        const arg = args[k] as string;
        if (arg === '-d') delimiter = args[++k] ?? null;
        else if (arg.startsWith('-d')) delimiter = arg.slice(2);
        else if (arg === '-f') fields = args[++k] ?? null;
        else if (arg.startsWith('-f')) fields = arg.slice(2);
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
      const regex = simpleRegex(patterns[0] as string, options.some((o) => /^-[A-Za-z]*E/.test(o)));
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
  if (program === 'hostname' && (args.length === 0 || (args.length === 1 && ['-s', '--short'].includes(args[0] as string)))) {
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
function resolveTemplate(text: string, vars: Variables): string | null {
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
export function rawNodeNameArgument(container: V1Container, podName: string | null = null): string | null {
  for (const part of [...(container.command ?? []), ...(container.args ?? [])]) {
    if (!part.includes('-Cnode.name=')) continue;
    const expanded = kubeletExpand(part, container, podName);
    const word = tokenizeShell(expanded).find((t) => t.kind === 'word' && t.text.startsWith('-Cnode.name='));
    if (word && word.kind === 'word') return word.text.slice('-Cnode.name='.length);
  }
  return null;
}

/**
 * Is the node master-eligible? From the container's `-Cnode.master=true|false` argument (crate-operator sets it to
 * false on data nodes when the cluster has a master node group); CrateDB's default is true.
 */
export function masterEligibleFromArgs(container: V1Container | null): boolean {
  if (!container) return true;
  let eligible = true;
  for (const part of [...(container.command ?? []), ...(container.args ?? [])]) {
    if (!part.includes('node.master=')) continue;
    for (const t of tokenizeShell(part)) {
      const m = t.kind === 'word' ? /^-Cnode\.master=(\S+)$/.exec(t.text) : null;
      if (m) eligible = !/^false$/i.test(m[1]!.replace(/^["']|["']$/g, ''));
    }
  }
  return eligible;
}

/** The CrateDB node name from the container's `-Cnode.name=` argument, with $(hostname)-style ordinal resolved. */
export function nodeNameFromArgs(container: V1Container, podName: string): string | null {
  const raw = rawNodeNameArgument(container, podName);
  if (raw === null) return null;
  const value = resolveTemplate(raw, containerVariables(container, podName));
  return value === null || value === '' ? null : value;
}

/** The node name dc_util computes from a pod's hostname (its extractNodeName); null when dc_util would fail. */
export function dcUtilNodeName(hostname: string, crateNodePrefix: string = DC_UTIL_DEFAULT_NODE_PREFIX): string | null {
  const parts = hostname.split('-');
  const podNumber = parts[parts.length - 1] ?? '';
  if (crateNodePrefix !== DC_UTIL_DEFAULT_NODE_PREFIX && crateNodePrefix !== '') {
    return `${crateNodePrefix}-${podNumber}`;
  }
  const prefixParts = crateNodePrefix.split('-');
  if (parts.length >= 4 && parts[0] === 'crate' && parts.length >= prefixParts.length + 2) {
    if (prefixParts.every((part, k) => parts[1 + k] === part)) return `${crateNodePrefix}-${podNumber}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Timeouts

/** dc_util's effective decommission timeout: the flag when the grace period is unset or 30, else grace - 120 (>= 360). */
export function effectiveDcUtilTimeout(flagTimeoutSeconds: number, terminationGracePeriodSeconds: number | null): number {
  if (terminationGracePeriodSeconds === null || terminationGracePeriodSeconds === KUBERNETES_DEFAULT_GRACE_SECONDS) {
    return flagTimeoutSeconds;
  }
  return Math.max(terminationGracePeriodSeconds - DC_UTIL_GRACE_BUFFER_SECONDS, DC_UTIL_MIN_TIMEOUT_SECONDS);
}

/** Grace period for deleting a pod whose preStop runs dc_util: effective + 60, never below the pod's own. */
export function kubernetesManagedDeleteGrace(effectiveTimeoutSeconds: number, terminationGracePeriodSeconds: number | null): number {
  return Math.max(
    effectiveTimeoutSeconds + DELETE_GRACE_MARGIN_SECONDS,
    terminationGracePeriodSeconds ?? KUBERNETES_DEFAULT_GRACE_SECONDS,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The HTTP scheme CrateDB serves on port 4200 (dc_util must use the same one: -proto)

export type HttpScheme = 'http' | 'https';

/** What the manifest says about the scheme CrateDB serves; scheme null = it cannot tell. */
export interface ManifestScheme {
  scheme: HttpScheme | null;
  reason: string;
}

/** CrateDB's config directory in its image; crate.yml there can set ssl.http.enabled. */
const CRATE_CONFIG_DIR = '/crate/config';

/**
 * The scheme CrateDB serves, from the container alone (fact sheet section 3: with `ssl.http.enabled` the same port
 * speaks HTTPS only). `-Cssl.http.enabled=true|false` on the command line wins over crate.yml; without it CrateDB's
 * default is plain HTTP, unless a crate.yml of the user's own may set it (a volume mounted over the config directory
 * or a crate.yml file, or the setting named in an env value): then the manifest cannot tell.
 */
export function servedSchemeFromManifest(container: V1Container | null): ManifestScheme {
  if (!container) return { scheme: null, reason: 'no CrateDB container' };
  let explicit: string | null = null;
  for (const part of [...(container.command ?? []), ...(container.args ?? [])]) {
    if (!part.includes('ssl.http.enabled')) continue;
    for (const t of tokenizeShell(part)) {
      const m = t.kind === 'word' ? /^-Cssl\.http\.enabled=(.*)$/.exec(t.text) : null;
      if (m) explicit = m[1] ?? '';
    }
  }
  if (explicit !== null) {
    if (/^true$/i.test(explicit)) return { scheme: 'https', reason: '-Cssl.http.enabled=true' };
    if (/^false$/i.test(explicit)) return { scheme: 'http', reason: '-Cssl.http.enabled=false' };
    return { scheme: null, reason: `-Cssl.http.enabled=${explicit} is not a boolean` };
  }
  const envMention = (container.env ?? []).find((e) => /ssl\.http\.enabled/.test(`${e.name}=${e.value ?? ''}`) || /SSL_HTTP_ENABLED/i.test(e.name));
  if (envMention) return { scheme: null, reason: `env ${envMention.name} mentions ssl.http.enabled` };
  const configMount = (container.volumeMounts ?? []).find(
    (m) => m.mountPath === CRATE_CONFIG_DIR || m.mountPath.startsWith(`${CRATE_CONFIG_DIR}/`) || /(^|\/)crate\.ya?ml$/.test(m.mountPath),
  );
  if (configMount) {
    return {
      scheme: null,
      reason: `ssl.http.enabled is not on the command line and ${configMount.mountPath} is mounted: TLS may be set in crate.yml`,
    };
  }
  return { scheme: 'http', reason: "ssl.http.enabled is not set: CrateDB's default" };
}

// ---------------------------------------------------------------------------------------------------------------
// Detection

const MIN_AVAILABILITY_VALUES = ['NONE', 'PRIMARIES', 'FULL'] as const;
export type MinAvailabilityValue = (typeof MIN_AVAILABILITY_VALUES)[number];

function asMinAvailability(text: string): MinAvailabilityValue | null {
  const upper = text.toUpperCase();
  return (MIN_AVAILABILITY_VALUES as readonly string[]).includes(upper) ? (upper as MinAvailabilityValue) : null;
}

/** A flag as written with its value: `-proto http`, `--proto=http`. */
function spelledFlag(flags: DcUtilFlags, name: string, value: string): string {
  const spelling = flags.spelling.get(name) ?? `-${name}`;
  return spelling.includes('=') ? spelling : `${spelling} ${value}`;
}

function describeCall(call: DcUtilCall, containerName: string): string {
  const args = call.args.map((a) => a.text).join(' ');
  const how = call.viaShell ? 'through a shell' : 'directly';
  return `preStop hook of container ${containerName} runs ${basename(call.program)}${args ? ` ${args}` : ''} (${how})`;
}

/**
 * Rule: dc_util whose effective min_availability is NONE moves no shard away before the node stops: that is not a
 * decommission, so the engine does it itself (`manual`). Returns the blocker sentence, or null when dc_util drains.
 * Kept as its own function: a later exception (the tool setting the label itself for a restart without relocation,
 * fact sheet section 7.1) belongs here.
 */
export function minAvailabilityNoneBlocker(effective: MinAvailabilityValue, source: string): string | null {
  if (effective !== 'NONE') return null;
  return `dc_util's effective min_availability is NONE (${source}): its decommission moves no shard off the node, so the node would leave undrained`;
}

export interface DetectOptions {
  /**
   * Detect for this pod, from its own spec: the CrateDB container's lifecycle and args, and its grace period (a
   * pod keeps its spec under updateStrategy OnDelete). The StatefulSet still gives what dc_util reads from it:
   * labels, replicas and the template's terminationGracePeriodSeconds.
   */
  pod?: V1Pod | null;
  /** The scheme the engine really reached CrateDB's port 4200 with (discovery); wins over the manifest. */
  servedScheme?: HttpScheme | null;
}

/** Detect the decommission strategy of a StatefulSet, or of one of its pods (fact sheet section 5). */
export function detectStrategy(sts: V1StatefulSet, options: DetectOptions = {}): StrategyDetection {
  const reasons: string[] = [];
  const pod = options.pod ?? null;
  const templateSpec = sts.spec?.template?.spec;
  const podSpec: V1PodSpec | undefined = pod?.spec ?? templateSpec;
  // dc_util reads the grace period from the StatefulSet's template (its one GET), not from the pod.
  const grace = templateSpec?.terminationGracePeriodSeconds ?? null;
  // The delete must not cut the pod's own grace period short.
  const podGrace = pod ? (pod.spec?.terminationGracePeriodSeconds ?? grace) : grace;
  // The tool's own dc-util-min-availability=NONE (a restart without relocation, marked) is intended: detect with
  // the value before (issue 9 item 1); a user's NONE stays rule 20's misconfiguration.
  const ownNone = withoutOwnNoneLabel(sts.metadata?.labels ?? {});
  const labels = ownNone.labels;
  const stsName = sts.metadata?.name ?? null;
  const samplePod = pod?.metadata?.name ?? (stsName === null ? null : `${stsName}-0`);
  const replicas = sts.spec?.replicas ?? 1;
  const podFields = pod ? { podTerminationGracePeriodSeconds: podGrace } : {};

  const manual = (extra: Partial<StrategyDetection>): StrategyDetection => ({
    strategy: 'manual',
    hasPrestopHook: false,
    hasDcUtil: false,
    dcUtilTimeoutSeconds: 0,
    dcUtilFlagTimeoutSeconds: 0,
    terminationGracePeriodSeconds: grace,
    deleteGracePeriodSeconds: MANUAL_DELETE_GRACE_SECONDS,
    minAvailability: 'PRIMARIES',
    dcUtilSkips: false,
    containerName: null,
    dcUtilProto: null,
    servedScheme: null,
    reasons,
    ...podFields,
    ...extra,
  });

  const container = findCrateContainer(podSpec?.containers ?? []);
  if (!container) {
    const names = (podSpec?.containers ?? []).map((c) => c.name).join(', ');
    reasons.push(
      `no CrateDB container in the ${pod ? `pod ${samplePod}` : 'pod template'} (${names ? `containers: ${names}` : 'no containers'}): none is named crate, runs a crate image or exposes port 4200`,
    );
    return { ...manual({}), strategy: 'unknown' };
  }
  const containerName = container.name;
  if (containerName !== 'crate') reasons.push(`CrateDB container: ${describeCrateContainerChoice(container)}`);
  const manifestScheme = servedSchemeFromManifest(container);
  const served: HttpScheme | null = options.servedScheme ?? manifestScheme.scheme;
  const servedReason =
    options.servedScheme != null
      ? `the engine reached it over ${options.servedScheme} at discovery${manifestScheme.scheme !== options.servedScheme ? `; the manifest: ${manifestScheme.scheme ?? 'cannot tell'}, ${manifestScheme.reason}` : ''}`
      : manifestScheme.reason;

  const preStop = container.lifecycle?.preStop;
  if (!preStop) {
    reasons.push(`container ${containerName} has no preStop hook: we decommission the node ourselves`);
    return manual({ containerName });
  }
  const command = preStop.exec?.command ?? [];
  if (!preStop.exec || command.length === 0) {
    const kind = preStop.httpGet ? 'httpGet' : preStop.sleep ? 'sleep' : preStop.tcpSocket ? 'tcpSocket' : 'empty exec';
    reasons.push(`preStop hook of container ${containerName} is ${kind}, not dc_util: it does not decommission, so we do`);
    return manual({ containerName, hasPrestopHook: true });
  }

  const scan = scanPreStopCommand(command, container, samplePod);
  const call = scan.calls.find((c) => {
    const flags = parseDcUtilFlags(c.args);
    return flags.values.get('reset-routing') !== 'true';
  });
  if (!call) {
    if (scan.calls.length > 0) {
      reasons.push(
        `preStop hook of container ${containerName} runs ${basename(scan.calls[0]?.program ?? 'dc_util')} only with --reset-routing (its postStart mode): that does not decommission, so we do`,
      );
      return manual({ containerName, hasPrestopHook: true, hasDcUtil: true, dcUtilSkips: true });
    }
    if (scan.mentionedOnly) {
      reasons.push(
        `preStop hook of container ${containerName} mentions dc_util but never runs it (only ${[...new Set(scan.otherPrograms)].join(', ') || 'other commands'}): it does not decommission, so we do`,
      );
    } else {
      const programs = [...new Set(scan.otherPrograms)].join(', ');
      reasons.push(
        `preStop hook of container ${containerName} runs ${programs || 'a command'}, not dc_util: it does not decommission, so we do`,
      );
    }
    return manual({ containerName, hasPrestopHook: true });
  }

  // dc_util is there: read it the way dc_util reads itself.
  reasons.push(describeCall(call, containerName));
  const flags = parseDcUtilFlags(call.args);
  const blockers: string[] = [];
  if (flags.error !== null) blockers.push(`dc_util rejects its command line (${flags.error}) and exits before decommissioning`);
  if (flags.help) blockers.push('dc_util is asked for -help: it prints its usage and exits without decommissioning');
  if (call.unexpandedProgram) {
    blockers.push(`the hook execs ${call.program} without a shell, so nothing expands it and the exec fails`);
  }
  if (flags.values.get('dry-run') === 'true') {
    blockers.push(`${flags.spelling.get('dry-run') ?? '--dry-run'}: dc_util only logs, it does not decommission`);
  }
  // -proto: dc_util always posts to <proto>://127.0.0.1:4200/_sql; it must be the scheme CrateDB serves.
  let dcUtilProto: HttpScheme | null = null;
  {
    const protoText = flags.values.has('proto') ? (flags.values.get('proto') ?? null) : DC_UTIL_DEFAULT_PROTO;
    const spelled = flags.values.has('proto') ? spelledFlag(flags, 'proto', protoText ?? '(not computable)') : `no -proto flag: dc_util's default ${DC_UTIL_DEFAULT_PROTO}`;
    const lower = protoText?.toLowerCase() ?? null;
    if (lower === 'http' || lower === 'https') dcUtilProto = lower;
    if (protoText === null) {
      blockers.push(`the ${flags.spelling.get('proto') ?? '-proto'} value cannot be computed from the manifest: dc_util may post to a scheme CrateDB does not serve`);
    } else if (dcUtilProto === null) {
      blockers.push(`${spelled}: dc_util would post to ${protoText}://127.0.0.1:4200/_sql, which is neither http nor https, and fail before decommissioning`);
    } else if (served === null) {
      blockers.push(
        `dc_util posts to ${dcUtilProto}://127.0.0.1:4200 (${spelled}), but the manifest cannot tell which scheme CrateDB serves (${servedReason}); decided at discovery from the scheme the engine really reaches, until then we decommission ourselves`,
      );
    } else if (served !== dcUtilProto) {
      blockers.push(
        `dc_util posts to ${dcUtilProto}://127.0.0.1:4200 (${spelled}), but CrateDB serves ${served} (${servedReason}): dc_util cannot connect, and the node would get a plain SIGTERM without a drain`,
      );
    } else {
      reasons.push(`dc_util posts to ${dcUtilProto}://127.0.0.1:4200 (${spelled}), the scheme CrateDB serves (${servedReason})`);
    }
  }
  if (call.ignoredShellArgs.length > 0) {
    reasons.push(
      `the words after the sh -c script (${call.ignoredShellArgs.join(' ')}) become $0, $1.. of the shell, not dc_util flags`,
    );
  }
  if (call.orTrue) {
    reasons.push(
      `${basename(call.program)} ends in "|| true"${call.afterAnd ? ' after a chain of && commands (download, checksum)' : ''}: if any step fails the pod only gets a plain SIGTERM`,
    );
  } else if (call.afterAnd) {
    reasons.push(`${basename(call.program)} runs only if the && commands before it (download, checksum) succeed`);
  }
  if (call.background) reasons.push(`${basename(call.program)} is started in the background (&): the hook does not wait for it`);

  // -timeout
  const flagTimeoutText = flags.values.has('timeout') ? (flags.values.get('timeout') ?? null) : DC_UTIL_DEFAULT_TIMEOUT;
  let flagTimeoutSeconds: number;
  if (flagTimeoutText === null) {
    flagTimeoutSeconds = parseGoDuration(DC_UTIL_DEFAULT_TIMEOUT) ?? 7200;
    reasons.push(
      `the ${flags.spelling.get('timeout') ?? '-timeout'} value cannot be computed from the manifest; assuming dc_util's default ${DC_UTIL_DEFAULT_TIMEOUT}`,
    );
  } else {
    const parsed = parseGoDuration(flagTimeoutText);
    if (parsed === null || parsed < 0) {
      blockers.push(`-timeout ${JSON.stringify(flagTimeoutText)} is not a valid Go duration: dc_util fails before decommissioning`);
      flagTimeoutSeconds = 0;
    } else {
      flagTimeoutSeconds = parsed;
      if (!flags.values.has('timeout')) reasons.push(`no -timeout flag: dc_util's default ${DC_UTIL_DEFAULT_TIMEOUT}`);
    }
  }
  const usesFlag = grace === null || grace === KUBERNETES_DEFAULT_GRACE_SECONDS;
  const effective = effectiveDcUtilTimeout(flagTimeoutSeconds, grace);
  if (usesFlag) {
    reasons.push(
      `terminationGracePeriodSeconds ${grace === null ? 'unset' : '30'}, so dc_util uses its -timeout flag: ${flagTimeoutSeconds}s`,
    );
    if (flagTimeoutText !== null && parseGoDuration(flagTimeoutText) !== null && !crateAcceptsTimeValue(flagTimeoutText)) {
      blockers.push(
        `dc_util passes -timeout ${flagTimeoutText} verbatim to SET GLOBAL "cluster.graceful_stop.timeout", which CrateDB rejects (one integer and one unit only): dc_util fails before decommissioning`,
      );
    }
  } else {
    const rule = grace - DC_UTIL_GRACE_BUFFER_SECONDS;
    reasons.push(
      rule >= DC_UTIL_MIN_TIMEOUT_SECONDS
        ? `terminationGracePeriodSeconds ${grace} != 30, so dc_util uses ${grace}-120 = ${effective}s (its own rule), not the ${flagTimeoutText ?? 'unknown'} flag`
        : `terminationGracePeriodSeconds ${grace} != 30, so dc_util uses ${grace}-120 = ${rule}s raised to its minimum ${DC_UTIL_MIN_TIMEOUT_SECONDS}s (its own rule), not the ${flagTimeoutText ?? 'unknown'} flag`,
    );
  }

  // -min-availability, overridden by a valid label (dc_util compares the label case-sensitively)
  const flagMinText = flags.values.has('min-availability')
    ? (flags.values.get('min-availability') ?? null)
    : DC_UTIL_DEFAULT_MIN_AVAILABILITY;
  const labelMin = labels[LABEL_DC_UTIL_MIN_AVAILABILITY];
  if (ownNone.note) reasons.push(ownNone.note);
  let minAvailability: MinAvailabilityValue;
  if (labelMin !== undefined && (MIN_AVAILABILITY_VALUES as readonly string[]).includes(labelMin)) {
    minAvailability = labelMin as MinAvailabilityValue;
    reasons.push(`label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=${labelMin} overrides dc_util's -min-availability`);
  } else {
    if (labelMin !== undefined) {
      reasons.push(
        `label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=${labelMin} is not NONE, PRIMARIES or FULL (dc_util compares it exactly): ignored`,
      );
    }
    if (flagMinText === null) {
      minAvailability = DC_UTIL_DEFAULT_MIN_AVAILABILITY;
      reasons.push(`the -min-availability value cannot be computed from the manifest; assuming dc_util's default FULL`);
    } else {
      const parsed = asMinAvailability(flagMinText);
      if (parsed === null) {
        minAvailability = 'NONE';
        reasons.push(
          `-min-availability ${flagMinText} is not NONE, PRIMARIES or FULL: CrateDB silently treats it as NONE (no shard moves away)`,
        );
      } else {
        minAvailability = parsed;
        if (!flags.values.has('min-availability')) reasons.push(`no -min-availability flag: dc_util's default FULL`);
      }
    }
  }

  {
    const source =
      labelMin !== undefined && labelMin === minAvailability
        ? `label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=${labelMin}`
        : flagMinText === null
          ? 'not computable'
          : `${spelledFlag(flags, 'min-availability', flagMinText)}${asMinAvailability(flagMinText) === null ? ', which CrateDB reads as none' : ''}`;
    const none = minAvailabilityNoneBlocker(minAvailability, source);
    if (none) blockers.push(none);
    if (flagMinText === null && !(labelMin !== undefined && labelMin === minAvailability)) {
      blockers.push(`the -min-availability value cannot be computed from the manifest: it may be NONE (no shard moves)`);
    }
  }

  // Does dc_util find its node? It derives the name from the hostname, not from -Cnode.name.
  const hostnameFlag = flags.values.has('hostname') ? (flags.values.get('hostname') ?? null) : samplePod;
  const prefix = flags.values.get('crate-node-prefix') ?? DC_UTIL_DEFAULT_NODE_PREFIX;
  if (hostnameFlag !== null && samplePod !== null && flags.values.get('crate-node-prefix') !== null) {
    const dcUtilName = dcUtilNodeName(hostnameFlag, prefix);
    if (dcUtilName === null) {
      blockers.push(
        `dc_util cannot derive a node name from pod ${hostnameFlag} with its default prefix ${DC_UTIL_DEFAULT_NODE_PREFIX} (it expects crate-data-hot-...-<n>; set --crate-node-prefix): it fails before decommissioning`,
      );
    } else {
      const actual = nodeNameFromArgs(container, samplePod);
      if (actual !== null && actual.toLowerCase() !== dcUtilName.toLowerCase()) {
        blockers.push(
          `dc_util would decommission node ${dcUtilName} for pod ${samplePod}, but the pod's -Cnode.name is ${actual}: it would not drain this node`,
        );
      }
    }
  }

  // Skips dc_util applies itself.
  const disabled = labels[LABEL_DC_UTIL_DISABLED];
  const skips: string[] = [];
  if (replicas <= 1) {
    skips.push(
      `spec.replicas ${sts.spec?.replicas === undefined ? 'unset (1)' : replicas} <= 1: dc_util skips the decommission`,
    );
  }
  if (disabled !== undefined && disabled.toLowerCase() === 'true') {
    skips.push(`label ${LABEL_DC_UTIL_DISABLED}=${disabled}: dc_util will skip the decommission`);
  }

  const notDecommissioning = [...blockers, ...skips];
  if (notDecommissioning.length > 0) {
    reasons.push(...notDecommissioning);
    reasons.push(
      `dc_util will not decommission: we decommission the node ourselves and delete the pod with a ${MANUAL_DELETE_GRACE_SECONDS}s grace period once the CrateDB process has exited`,
    );
    return manual({
      containerName,
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilSkips: true,
      dcUtilTimeoutSeconds: effective,
      dcUtilFlagTimeoutSeconds: flagTimeoutSeconds,
      minAvailability,
      dcUtilProto,
      servedScheme: served,
    });
  }

  if (usesFlag && flagTimeoutText === null) {
    // dc_util's decommission may run longer than any grace period we could pick (e.g. a -timeout read from a
    // file): a delete whose grace period ends first would SIGKILL the node in the middle of it.
    reasons.push(
      `dc_util's -timeout applies but cannot be computed: no grace period is known to cover its decommission, so we decommission the node ourselves and delete the pod with a ${MANUAL_DELETE_GRACE_SECONDS}s grace period once the CrateDB process has exited`,
    );
    return manual({
      containerName,
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilSkips: false,
      dcUtilTimeoutSeconds: effective,
      dcUtilFlagTimeoutSeconds: flagTimeoutSeconds,
      minAvailability,
      dcUtilProto,
      servedScheme: served,
    });
  }

  const deleteGrace = kubernetesManagedDeleteGrace(effective, podGrace);
  reasons.push(
    `${pod ? `pod ${samplePod} is` : 'pods are'} deleted with a ${deleteGrace}s grace period (dc_util's ${effective}s + ${DELETE_GRACE_MARGIN_SECONDS}s${deleteGrace > effective + DELETE_GRACE_MARGIN_SECONDS ? `, raised to the pod's terminationGracePeriodSeconds ${podGrace}` : ''})`,
  );
  const ownGrace = podGrace ?? KUBERNETES_DEFAULT_GRACE_SECONDS;
  if (ownGrace < effective) {
    reasons.push(
      `warning: the pod's own terminationGracePeriodSeconds ${podGrace === null ? 'unset (30)' : ownGrace} is shorter than dc_util's ${effective}s: a drain or eviction (not this tool) kills the node mid-decommission`,
    );
  }
  return {
    strategy: 'kubernetes_managed',
    hasPrestopHook: true,
    hasDcUtil: true,
    dcUtilTimeoutSeconds: effective,
    dcUtilFlagTimeoutSeconds: flagTimeoutSeconds,
    terminationGracePeriodSeconds: grace,
    deleteGracePeriodSeconds: deleteGrace,
    minAvailability,
    dcUtilSkips: false,
    containerName,
    dcUtilProto,
    servedScheme: served,
    reasons,
    ...podFields,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Per pod: the pod's own spec decides (updateStrategy OnDelete keeps running pods on their old spec)

/** A StatefulSet as far as dc_util reads it (name, labels, replicas, the template's grace), from discovery's StatefulSetInfo. */
export function statefulSetOfInfo(info: StatefulSetInfo): V1StatefulSet {
  const grace = info.detection.terminationGracePeriodSeconds;
  return {
    metadata: { name: info.name, labels: { ...info.labels } },
    spec: {
      replicas: info.replicas,
      selector: {},
      serviceName: '',
      template: { spec: { containers: [], ...(grace === null ? {} : { terminationGracePeriodSeconds: grace }) } },
    },
  };
}

function outcomeOf(d: StrategyDetection): string {
  if (d.strategy !== 'kubernetes_managed') return d.strategy;
  return `kubernetes_managed (dc_util timeout ${d.dcUtilTimeoutSeconds}s, delete grace ${d.deleteGracePeriodSeconds}s, min_availability ${d.minAvailability})`;
}

function crateSpecOf(spec: V1PodSpec | undefined): string {
  const c = findCrateContainer(spec?.containers ?? []);
  return JSON.stringify([c?.name, c?.lifecycle?.preStop ?? null, c?.command ?? null, c?.args ?? null, spec?.terminationGracePeriodSeconds ?? null]);
}

/**
 * Detect one pod's strategy from its own spec; the StatefulSet gives labels, replicas and the template's grace period
 * (what dc_util reads). When the pod and the template disagree, the last reason says so: the engine acts on the pod.
 * `sts` is the StatefulSet itself (discovery: the template's spec is compared too) or discovery's StatefulSetInfo
 * (the engine, on the live pod: the outcomes are compared).
 */
export function detectPodStrategy(
  sts: V1StatefulSet | StatefulSetInfo,
  pod: V1Pod,
  options: { servedScheme?: HttpScheme | null } = {},
): StrategyDetection & { templateDisagrees: boolean } {
  const info = 'detection' in sts ? sts : null;
  const full: V1StatefulSet = info ? statefulSetOfInfo(info) : (sts as V1StatefulSet);
  const servedScheme = options.servedScheme ?? info?.detection.servedScheme ?? null;
  const template = info ? info.detection : detectStrategy(full, { servedScheme });
  const own = detectStrategy(full, { pod, servedScheme });
  const podName = pod.metadata?.name ?? '?';
  const outcomeDiffers =
    own.strategy !== template.strategy ||
    (own.strategy === 'kubernetes_managed' &&
      (own.dcUtilTimeoutSeconds !== template.dcUtilTimeoutSeconds ||
        own.deleteGracePeriodSeconds !== template.deleteGracePeriodSeconds ||
        own.minAvailability !== template.minAvailability));
  const specDiffers = !info && crateSpecOf(pod.spec) !== crateSpecOf(full.spec?.template?.spec);
  if (outcomeDiffers) {
    own.reasons.push(
      `pod ${podName} and the StatefulSet template disagree (the pod keeps the spec it was created with): the template says ${outcomeOf(template)}, the pod's own spec says ${outcomeOf(own)}; acting on the pod`,
    );
  } else if (specDiffers) {
    own.reasons.push(`pod ${podName}'s CrateDB container (preStop, args or grace period) differs from the StatefulSet template, with the same outcome: ${outcomeOf(own)}`);
  }
  return { ...own, templateDisagrees: outcomeDiffers };
}

/**
 * The StatefulSetInfo the engine acts with for one live pod: its detection replaced by the pod's own (the template
 * only gives labels, replicas and its grace period). A disagreement with the template is logged as a warning.
 */
export function podStrategyOf(sts: StatefulSetInfo, pod: V1Pod, log?: Logger): StatefulSetInfo {
  if (!pod.spec) return sts;
  const { templateDisagrees, ...detection } = detectPodStrategy(sts, pod);
  if (templateDisagrees) {
    log?.warn(`Pod ${pod.metadata?.name ?? '?'}: ${detection.reasons[detection.reasons.length - 1]}`, { strategy: detection.strategy, reasons: detection.reasons });
  }
  return { ...sts, detection };
}
