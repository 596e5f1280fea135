// `completion`: shell completion the kubectl way. kubectl (>= 1.26) completes plugin arguments by running an
// executable `kubectl_complete-crate_decommission` on the PATH; `completion` prints that executable, and the
// hidden `__complete` answers it in kubectl's (cobra's) protocol: one candidate a line, then `:<directive>`.
import type { Argv } from 'yargs';
import type { CommandEnv } from './common.js';

export const COMPLETION_SCRIPT = `#!/usr/bin/env sh
# kubectl calls this to complete "kubectl crate-decommission ..." (kubectl >= 1.26).
exec kubectl-crate_decommission __complete "$@"
`;

/** cobra's ShellCompDirectiveNoFileComp. */
const NO_FILE_COMP = 4;

export function declareCompletion(y: Argv, env: CommandEnv): Argv {
  return y
    .command(
      'completion',
      'Print the kubectl completion helper: save it as an executable kubectl_complete-crate_decommission on your PATH',
      (b) =>
        b.example(
          '$0 completion > ~/.local/bin/kubectl_complete-crate_decommission && chmod +x ~/.local/bin/kubectl_complete-crate_decommission',
          'Then `kubectl crate-decommission <TAB>` completes (with kubectl completion enabled)',
        ),
      () =>
        env.select(async () => {
          env.ctx.stdout.write(COMPLETION_SCRIPT);
          return 0;
        }),
    );
}

/** Candidates for the words typed so far (the last one is being completed, possibly ''). */
export async function completeWords(parser: Argv, words: string[]): Promise<string[]> {
  const current = words.length > 0 ? words : [''];
  return new Promise((resolve) => {
    parser.getCompletion(current, (err, completions) => {
      if (err || !completions) return resolve([]);
      resolve(completions.map((c) => c.split(/(?<!\\):/)[0]?.replace(/\\:/g, ':') ?? c).filter((c) => c.length > 0));
    });
  });
}

export function cobraAnswer(candidates: string[]): string {
  return `${candidates.join('\n')}${candidates.length ? '\n' : ''}:${NO_FILE_COMP}\n`;
}
