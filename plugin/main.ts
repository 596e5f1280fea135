// Entry point of `kubectl crate-decommission` (executable kubectl-crate_decommission): wires the real world into runCli.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { runCli } from './cli.js';
import { loadEngine } from './engine.js';
import type { CliContext } from './io.js';

const interrupt = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  // First Ctrl-C: detach from a Job / stop a --local run safely. Second: leave at once.
  if (interrupts > 1) process.exit(130);
  interrupt.abort(new Error('interrupted'));
});
process.on('SIGTERM', () => interrupt.abort(new Error('terminated')));

const ctx: CliContext = {
  stdout: { write: (t) => void process.stdout.write(t), isTTY: process.stdout.isTTY === true },
  stderr: { write: (t) => void process.stderr.write(t), isTTY: process.stderr.isTTY === true },
  env: process.env,
  // Loaded at the point of use: the kubeconfig and API client (@kubernetes/client-node) are heavy, and `--help`,
  // completion, bad input and `plan -f` never connect.
  connect: async (opts) => (await import('./connect.js')).connectToCluster(opts),
  loadEngine,
  kubeconfigNames: async (opts) => (await import('../shared/adapters/kubeconfig.js')).kubeconfigNames(opts),
  // `-f -` reads stdin, as kubectl does.
  readFile: (path) => readFile(path === '-' ? '/dev/stdin' : path, 'utf8'),
  signal: interrupt.signal,
  randomSuffix: () => randomSuffix(5),
  now: () => new Date(),
  async confirm(question) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) return true;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `, { signal: interrupt.signal });
      return /^y(es)?$/i.test(answer.trim());
    } catch {
      return false;
    } finally {
      rl.close();
    }
  },
};

/** Lowercase alphanumerics, like the suffixes Kubernetes generates. */
function randomSuffix(n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

const code = await runCli(process.argv.slice(2), ctx);
process.exitCode = code;
// Open watches or sockets must not keep a finished command alive.
setImmediate(() => process.exit(code)).unref();
