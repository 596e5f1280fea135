// "No unhandled 'error' event anywhere": every source file that creates a stream or an event emitter (or pipes
// one) also gives it an 'error' handler. The plugin crashed with `Unhandled 'error' event ... BodyTimeoutError`
// because client-node's Log piped a stream nobody listened to; this keeps such a stream from coming back.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DIRS = ['plugin', 'plugin/commands', 'shared', 'shared/adapters', 'runner'];

/** Constructs that make an EventEmitter whose 'error' event would crash the process when unhandled. */
const EMITTERS: Array<[string, RegExp]> = [
  ['new PassThrough', /new PassThrough\(/],
  ['new Readable', /new Readable\(/],
  ['new Writable', /new Writable\(/],
  ['new Duplex/Transform', /new (Duplex|Transform)\(/],
  ['Readable.from', /Readable\.from(Web)?\(/],
  ['stream pipe', /\.pipe\((?!z\.)/],
  ['readline', /createInterface\(/],
  ['EventEmitter', /new EventEmitter\(|extends EventEmitter/],
  ['child process', /\b(spawn|fork|execFile)\(/],
  ['client-node Log (pipes an unguarded stream)', /new Log\(/],
];

function sources(): Array<{ file: string; text: string }> {
  return DIRS.flatMap((d) =>
    readdirSync(join(ROOT, d))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ file: `${d}/${f}`, text: readFileSync(join(ROOT, d, f), 'utf8') })),
  );
}

describe('emitters', () => {
  it('finds the sources', () => {
    expect(sources().length).toBeGreaterThan(40);
  });

  it("every file creating a stream or emitter also handles its 'error' event", () => {
    const offenders: string[] = [];
    for (const { file, text } of sources()) {
      const code = text.replace(/^\s*(\/\/|\*).*$/gm, ''); // comments do not count
      for (const [what, re] of EMITTERS) {
        if (!re.test(code)) continue;
        if (what.startsWith('client-node Log')) offenders.push(`${file}: ${what}`);
        else if (!/\.(on|once)\(\s*'error'/.test(code)) offenders.push(`${file}: ${what} without an 'error' handler`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
