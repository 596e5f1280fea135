// Finding dc_util calls in a preStop exec command: through `sh -c`, wrappers (`exec`, `env`, `timeout`, ...), chains.
import type { V1Container } from '@kubernetes/client-node';
import { containerVariables, expandSimple, kubeletExpand, type Variables } from './expand.js';
import type { DcUtilArg } from './flags.js';
import { splitCommands, tokenizeShell, type ShellWord } from './shell.js';

export function basename(path: string): string {
  return path.split('/').pop() ?? path;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'mksh']);
/** Prefix commands that run their arguments as the command. */
const PASS_THROUGH = new Set([
  'exec',
  'nohup',
  'command',
  'builtin',
  'setsid',
  'time',
  'if',
  'elif',
  'then',
  'else',
  'while',
  'until',
  'do',
  '!',
  '{',
]);

/** A dc_util program name: dc_util, dc_util-linux-amd64, dc_util-linux-${ARCH}, /usr/local/bin/dc-util. */
function isDcUtilProgram(word: string): boolean {
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
  const argv = command.map((part) => ({
    kind: 'word' as const,
    text: kubeletExpand(part, container, podName),
    quoted: true,
  }));
  scanArgv(
    argv,
    containerVariables(container, podName),
    false,
    { orTrue: false, afterAnd: false, background: false },
    state,
    0,
  );
  const mentioned = command.some((part) => /dc[_-]?util/i.test(part));
  return {
    calls: state.calls,
    mentionedOnly: mentioned && state.calls.length === 0,
    otherPrograms: state.otherPrograms,
  };
}
