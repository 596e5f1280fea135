// Entry point of `kubectl crate-decommission` (executable kubectl-crate_decommission): wires the real world into runCli.
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { runCli } from './cli.js';
import { confirmOnTerminal, openControllingTerminal } from './confirm.js';
import { loadEngine, Interrupts, EXIT_INTERRUPTED, EXIT_TERMINATED } from '../shared/task/index.js';
import type { CliContext } from './io.js';

// Ctrl-C / SIGTERM: the first aborts ctx.signal (Job mode detaches at once, --local stops safely) and the process
// exits within the command's grace period even if an API call hangs; a second one exits at once.
const interrupts = new Interrupts();
process.on('SIGINT', () => interrupts.receive('SIGINT'));
process.on('SIGTERM', () => interrupts.receive('SIGTERM'));

const ctx: CliContext = {
  stdout: { write: (t) => void process.stdout.write(t), isTTY: process.stdout.isTTY === true },
  stderr: { write: (t) => void process.stderr.write(t), isTTY: process.stderr.isTTY === true },
  env: process.env,
  // Loaded at the point of use: the kubeconfig and API client (@kubernetes/client-node) are heavy, and `--help`,
  // completion, bad input and `plan -f` never connect.
  connect: async (opts) => (await import('./connect.js')).connectToCluster(opts),
  loadEngine,
  kubeconfigNames: async (opts) => (await import('../shared/adapters/index.js')).kubeconfigNames(opts),
  // `-f -` reads stdin, as kubectl does.
  readFile: (path) => readFile(path === '-' ? '/dev/stdin' : path, 'utf8'),
  listDir: async (path) => (await readdir(path, { withFileTypes: true })).map((e) => ({ name: e.name, directory: e.isDirectory() })),
  signal: interrupts.signal,
  interruptPolicy: (policy) => interrupts.use(policy),
  onForcedExit: (message) => interrupts.setForcedMessage(message),
  randomSuffix: () => randomSuffix(5),
  now: () => new Date(),
  confirm: (question) =>
    confirmOnTerminal(question, { stdin: process.stdin, stderr: process.stderr, openTerminal: openControllingTerminal, signal: interrupts.signal }),
};

/** Lowercase alphanumerics, like the suffixes Kubernetes generates. */
function randomSuffix(n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

let code = await runCli(process.argv.slice(2), ctx);
// Detached or stopped by SIGTERM rather than Ctrl-C: 143 (128 + 15), as for any process ended by SIGTERM.
if (interrupts.received === 'SIGTERM' && code === EXIT_INTERRUPTED) code = EXIT_TERMINATED;
process.exitCode = code;
// Open watches or sockets must not keep a finished command alive.
setImmediate(() => process.exit(code)).unref();
