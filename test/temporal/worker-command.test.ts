// The `worker` command's plugin side (plugin/commands/worker.ts) without a server: an unreachable Temporal server is
// one clear line naming it and exit 6 (as for an unreachable API server), like `rollout --temporal`. Its own file:
// the worker installs the SDK's Runtime once per process, before any other Temporal use.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../plugin/cli.js';
import { testContext } from '../unit/plugin/helpers.js';

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

describe('worker command', () => {
  it('an unreachable Temporal server: exit 6, one error line naming the server, nothing polled', async () => {
    const port = await closedPort();
    const ctx = testContext();
    const code = await runCli(['worker', '--temporal-address', `127.0.0.1:${port}`, '--task-queue', 'q'], ctx);
    expect(code, ctx.err.text + ctx.out.text).toBe(6);
    expect(ctx.err.lines).toEqual([
      `error: cannot reach the Temporal server 127.0.0.1:${port} (namespace default): connection refused. Check --temporal-address (or TEMPORAL_ADDRESS) and that the server is up (temporal operator cluster health --address 127.0.0.1:${port}); the worker did not start`,
    ]);
    expect(ctx.out.text).not.toMatch(/polling task queue/);
  });
});
