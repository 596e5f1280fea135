// Entry point of `kubectl crate-decommission` (executable kubectl-crate_decommission): wires the real world into runCli.
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { runCli } from './cli.js';
import { confirmOnTerminal, openControllingTerminal } from './confirm.js';
import { loadEngine, Interrupts, EXIT_INTERRUPTED, EXIT_TERMINATED } from '../shared/task/index.js';
import type { CliContext } from './io.js';
import { commandTree } from './cli.js';
import { startupSnapshot } from 'node:v8';

/** Everything that depends on this process (signals, streams, argv, env) happens here, at run time. */
function main(): void {
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
    listDir: async (path) =>
      (await readdir(path, { withFileTypes: true })).map((e) => ({ name: e.name, directory: e.isDirectory() })),
    signal: interrupts.signal,
    interruptPolicy: (policy) => interrupts.use(policy),
    onForcedExit: (message) => interrupts.setForcedMessage(message),
    randomSuffix: () => randomSuffix(5),
    now: () => new Date(),
    confirm: (question) =>
      confirmOnTerminal(question, {
        stdin: process.stdin,
        stderr: process.stderr,
        openTerminal: openControllingTerminal,
        signal: interrupts.signal,
      }),
    canConfirm: () => process.stdin.isTTY === true,
  };

  // No top-level await: the single executable runs this file as CommonJS, from a V8 startup snapshot
  // (scripts/build-binary.mjs), which cannot have one.
  runCli(process.argv.slice(2), ctx).then(
    (result) => {
      // Detached or stopped by SIGTERM rather than Ctrl-C: 143 (128 + 15), as for any process ended by SIGTERM.
      const code = interrupts.received === 'SIGTERM' && result === EXIT_INTERRUPTED ? EXIT_TERMINATED : result;
      process.exitCode = code;
      // Open watches or sockets must not keep a finished command alive.
      setImmediate(() => process.exit(code)).unref();
    },
    (err: unknown) => {
      // runCli turns every error into an exit code; this is the last line of defence, never an unhandled rejection.
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * At snapshot build time only: run `--help` and an offline `plan -f` once against a context that reaches nothing
 * (no cluster, no file, no terminal), so the code they need is compiled before the heap is saved.
 */
async function warmUp(): Promise<void> {
  const sink = { write: () => {}, isTTY: false };
  const fail = () => Promise.reject(new Error('not at build time'));
  const ctx: CliContext = {
    stdout: sink,
    stderr: sink,
    env: {},
    connect: fail,
    loadEngine: fail,
    readFile: async () => WARM_UP_MANIFEST,
    listDir: fail,
    signal: new AbortController().signal,
    randomSuffix: () => 'aaaaa',
    now: () => new Date(0),
    confirm: async () => false,
    canConfirm: () => false,
  };
  for (const args of [
    ['--help'],
    ['plan', '-f', 'warm-up.yaml', '-o', 'json'],
    ['plan', '-f', 'warm-up.yaml'],
    ['rollout', '--help'],
    ['__complete', 'roll'],
  ]) {
    await runCli(args, ctx).catch(() => 0);
  }
}

const WARM_UP_MANIFEST = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: crate, namespace: crate}
spec:
  replicas: 3
  serviceName: crate
  selector: {matchLabels: {app: crate}}
  template:
    metadata: {labels: {app: crate}}
    spec:
      terminationGracePeriodSeconds: 1200
      containers:
        - name: crate
          image: crate:6.1.0
          ports: [{containerPort: 4200}]
          lifecycle: {preStop: {exec: {command: ["/dc_util", "-min-availability", "PRIMARIES", "-timeout", "1080s", "-proto", "http"]}}}
`;

/** Lowercase alphanumerics, like the suffixes Kubernetes generates. */
function randomSuffix(n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

// The single executable is built with a V8 startup snapshot (scripts/build-binary.mjs, `useSnapshot`): this file
// runs once at build time, with every statically imported module evaluated and the command tree (help, completion,
// "did you mean") recorded into the heap; the binary starts from that heap and runs main(). Nothing that depends on
// the process running it is touched before main(). Elsewhere (npm's dist/, tests) main() runs at once.
if (startupSnapshot?.isBuildingSnapshot()) {
  commandTree();
  void warmUp().finally(() => startupSnapshot.setDeserializeMainFunction(main));
} else {
  main();
}
