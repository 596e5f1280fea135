// The yes/no confirmation before a command changes a cluster (rollout, restart, decommission, jobs cancel,
// rbac uninstall). Asked whenever stdin is a terminal, wherever stdout and stderr go: `2>err.log` or
// `2>&1 | tee log` on an interactive terminal must not start without asking. The question goes to stderr when
// that is the terminal, else to the controlling terminal (/dev/tty), so the user sees it. Without a terminal on
// stdin nobody can answer: the command goes on, as kubectl's own commands (delete, drain) do in scripts.
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { WriteStream } from 'node:tty';

export interface PromptIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** The controlling terminal for writing, or null when there is none. */
  openTerminal(): (NodeJS.WritableStream & { destroy?(): void }) | null;
  signal: AbortSignal;
}

/**
 * The user answered no: nothing changed, which is not a failure. Exit 0 with a line on stderr, so a script that
 * pipes `no` is not told that something failed.
 */
export function declined(stderr: { write(text: string): unknown }): number {
  stderr.write('aborted: nothing changed\n');
  return 0;
}

export async function confirmOnTerminal(question: string, io: PromptIo): Promise<boolean> {
  if (!io.stdin.isTTY) return true;
  const terminal = io.stderr.isTTY ? null : io.openTerminal();
  const output = terminal ?? io.stderr;
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  // A closed or broken stdin is "no answer", never an unhandled 'error' event.
  rl.on('error', () => rl.close());
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: io.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
    terminal?.destroy?.();
  }
}

/** /dev/tty as a terminal stream (null without a controlling terminal). */
export function openControllingTerminal(): WriteStream | null {
  try {
    return new WriteStream(openSync('/dev/tty', 'w'));
  } catch {
    return null;
  }
}
