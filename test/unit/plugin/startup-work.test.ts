// Work a command does before it runs that nobody reads: the plugin's start-up budget (issue 9 item 3).
import { describe, expect, it } from 'vitest';
import { buildParser } from '../../../plugin/cli.js';
import type { CliContext } from '../../../plugin/io.js';

interface YargsUsage {
  hasCachedHelpMessage(): boolean;
}

function parserFor(selected: Array<() => Promise<number>>) {
  const ctx = { env: {}, stdout: { write: () => {} }, stderr: { write: () => {} } } as unknown as CliContext;
  return buildParser({ ctx, select: (w) => void selected.push(w), warn: () => {} });
}

describe('yargs renders no help of its own while the plugin runs a command', () => {
  it('parsing `plan -f FILE -o json` selects the command without caching a yargs help text', async () => {
    const selected: Array<() => Promise<number>> = [];
    const parser = parserFor(selected);
    await parser.parse(['plan', '-f', 'sts.yaml', '-o', 'json'], {}, () => {});
    expect(selected).toHaveLength(1);
    // yargs would otherwise render its full help (cliui, string-width, Intl.Segmenter) after every command handler:
    // about half of an offline `plan -f`'s CPU time in the single executable; the plugin renders help itself.
    const usage = (parser as unknown as { getInternalMethods(): { getUsageInstance(): YargsUsage } })
      .getInternalMethods()
      .getUsageInstance();
    expect(usage.hasCachedHelpMessage()).toBe(false);
  });
});
