// TEMPORARY entry for `npm run build:binary` until plugin/main.ts lands: it loads the same
// dependencies as the plugin (yargs, client-node, listr2, yaml, zod, undici) so the single-executable
// pipeline is exercised on real code. scripts/build-binary.mjs prefers plugin/main.ts when present.
import * as k8s from '@kubernetes/client-node';
import { Listr } from 'listr2';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { parseAllDocuments } from 'yaml';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { z } from 'zod';
import { ExitCode } from '../shared/errors.js';

void Listr;
void Agent;
void new k8s.KubeConfig();

const argv = hideBin(process.argv);
await yargs(argv)
  .scriptName('kubectl crate-decommission')
  .usage('kubectl crate-decommission <command> [options]')
  .command(
    'plan',
    'print the plan',
    (y) => y.option('f', { type: 'string', demandOption: true }).option('o', { choices: ['json', 'text'], default: 'text' }),
    (a) => {
      const docs = parseAllDocuments(readFileSync(a.f, 'utf8')).map((d) => d.toJS());
      const sts = z.array(z.object({ kind: z.string(), metadata: z.object({ name: z.string() }) }).passthrough()).parse(docs);
      const s = sts.find((d) => d.kind === 'StatefulSet');
      console.log(JSON.stringify({ statefulSet: s?.metadata.name ?? null, strategy: 'probe' }));
    },
  )
  .demandCommand(1)
  .strict()
  .fail((msg, err) => {
    console.error(`error: ${msg ?? err?.message}`);
    process.exit(ExitCode.badInput);
  })
  .version(false)
  .help()
  .parseAsync();
