// Target text as kubectl users write it: `statefulset/<name>`, `sts/<name>`, `cratedb/<name>`, `pod/<name>` or a bare
// name. Bad input -> UsageError (exit 2).
import type { z } from 'zod';
import { Dns1123Subdomain, type TargetKind } from '../schemas.js';
import { UsageError } from './exit.js';
import type { Target } from './task.js';

/** Resource kinds as kubectl users write them before `/` (also used by completion). */
export const KIND_ALIASES: Record<string, z.infer<typeof TargetKind>> = {
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  'statefulset.apps': 'statefulset',
  'statefulsets.apps': 'statefulset',
  cratedb: 'cratedb',
  cratedbs: 'cratedb',
  'cratedb.cloud.crate.io': 'cratedb',
  'cratedbs.cloud.crate.io': 'cratedb',
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
};

/**
 * Parse a target: `statefulset/<name>`, `sts/<name>`, `cratedb/<name>`, `pod/<name>`, or a bare name
 * (of kind `bareKind`: a StatefulSet for cluster commands, a pod for pod commands).
 */
export function parseTarget(text: string, bareKind: Target['kind'], allowed?: Target['kind'][]): Target {
  const slash = text.indexOf('/');
  let kind: Target['kind'];
  let name: string;
  if (slash === -1) {
    kind = bareKind;
    name = text;
  } else {
    const k = KIND_ALIASES[text.slice(0, slash).toLowerCase()];
    if (!k) {
      throw new UsageError(
        `unknown target kind "${text.slice(0, slash)}" in "${text}"`,
        'Use statefulset/<name>, sts/<name>, cratedb/<name> or pod/<name>',
      );
    }
    kind = k;
    name = text.slice(slash + 1);
  }
  if (allowed && !allowed.includes(kind)) {
    throw new UsageError(
      `this command takes a ${allowed.join(' or ')}, not a ${kind} ("${text}")`,
      `Pass ${allowed[0]}/<name> or a bare ${allowed[0]} name`,
    );
  }
  if (!Dns1123Subdomain.safeParse(name).success) {
    const what = kind === 'pod' ? 'pod' : kind === 'cratedb' ? 'CrateDB' : 'StatefulSet';
    throw new UsageError(
      `invalid ${what} name "${name}": must be a lowercase DNS-1123 name (a-z, 0-9, '-', '.')`,
      `Pass the ${what} name as kubectl get shows it`,
    );
  }
  return { kind, name };
}
