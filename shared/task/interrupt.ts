// Ctrl-C and SIGTERM for the plugin and the runner: the first signal aborts the command's signal (Job mode
// detaches, --local and the runner stop safely), and the process exits within the policy's grace period even
// when an API call hangs; a second signal exits at once. Plain class over injected exit and timers (tests).

/** Job mode: the first Ctrl-C/SIGTERM detaches; the process is gone within 2 s whatever is in flight. */
export const DETACH_GRACE_MS = 1_500;
/** --local: how long a safe stop (allocation reset, graceful_stop restored, Lease released) may take. */
export const LOCAL_STOP_SECONDS = 30;
/** The runner: below the 60 s grace period `jobs cancel` gives its pod. */
export const RUNNER_STOP_SECONDS = 50;

export type SignalName = 'SIGINT' | 'SIGTERM';

/** 128 + signal number, as shells report it: 130 for Ctrl-C, 143 for SIGTERM. */
function exitCodeForSignal(name: SignalName): number {
  return name === 'SIGINT' ? 130 : 143;
}

export interface InterruptPolicy {
  /** How long the command may take to finish after the first signal before the process exits anyway, ms. */
  graceMs: number;
  /** Printed (stderr) when the process exits before the command finished: what is left and what to do. */
  forcedMessage?: (signal: SignalName) => string;
}

export interface InterruptIO {
  exit(code: number): void;
  write(text: string): void;
  setTimeout(fn: () => void, ms: number): { unref?(): unknown };
}

const defaultIO = (): InterruptIO => ({
  exit: (code) => process.exit(code),
  write: (text) => void process.stderr.write(text),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
});

export class Interrupts {
  readonly controller = new AbortController();
  private policy: InterruptPolicy;
  private count = 0;
  private first: SignalName | null = null;

  constructor(
    initial: InterruptPolicy = { graceMs: DETACH_GRACE_MS },
    private readonly io: InterruptIO = defaultIO(),
  ) {
    this.policy = initial;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal received, if any. */
  get received(): SignalName | null {
    return this.first;
  }

  /** Replace the policy (e.g. --local while the engine runs); returns a function restoring the previous one. */
  use(policy: InterruptPolicy): () => void {
    const before = this.policy;
    this.policy = policy;
    return () => {
      this.policy = before;
    };
  }

  /** Extend the current policy's forced-exit message (e.g. once the Job's name is known). */
  setForcedMessage(message: (signal: SignalName) => string): void {
    this.policy = { ...this.policy, forcedMessage: message };
  }

  /** A signal arrived. */
  receive(name: SignalName): void {
    this.count += 1;
    const code = exitCodeForSignal(name);
    if (this.count > 1) {
      this.forced(name, code, 'again');
      return;
    }
    this.first = name;
    this.controller.abort(new Error(name === 'SIGINT' ? 'interrupted (Ctrl-C)' : 'terminated (SIGTERM)'));
    const graceMs = this.policy.graceMs;
    const t = this.io.setTimeout(
      () => this.forced(this.first ?? name, exitCodeForSignal(this.first ?? name), 'grace'),
      graceMs,
    );
    t.unref?.();
  }

  private forced(name: SignalName, code: number, why: 'grace' | 'again'): void {
    // Without a message of the command's own (nothing created yet, e.g. the first API call hangs), still say why.
    const what = name === 'SIGINT' ? 'interrupted (Ctrl-C)' : 'terminated (SIGTERM)';
    const message =
      this.policy.forcedMessage?.(name) ??
      (why === 'again'
        ? `error: ${what} again: exiting at once`
        : `error: ${what}: the command did not stop within ${this.policy.graceMs / 1000}s (an API call may hang); exiting`);
    if (message) this.io.write(`${message.trimEnd()}\n`);
    this.io.exit(code);
  }
}
