// `plan -f FILE`: offline strategy detection for every StatefulSet in a YAML/JSON (multi-document) manifest.
import YAML from 'yaml';
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { StrategyDetection } from '../shared/schemas.js';
import { UsageError } from './exit.js';

export interface PlannedStatefulSet extends StrategyDetection {
  name: string;
  namespace: string | null;
  replicas: number;
}

/**
 * The JSON printed by `plan -f`. Always `statefulSets: [...]`; with exactly one StatefulSet its fields are
 * ALSO at the top level (so `jq .strategy` works on a single manifest).
 */
export type PlanFileOutput = { source: string; statefulSets: PlannedStatefulSet[] } & Partial<PlannedStatefulSet>;

/** Every object in the text: YAML or JSON documents, `kind: List` items flattened. Parse errors are UsageError. */
export function objectsFromManifest(text: string, source: string): Array<Record<string, unknown>> {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: false });
  const out: Array<Record<string, unknown>> = [];
  const docList = Array.isArray(docs) ? docs : [docs];
  for (const doc of docList) {
    const first = doc.errors[0];
    if (first) {
      const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line})` : '';
      throw new UsageError(`cannot parse ${source}${where}: ${first.message.split('\n')[0] ?? 'invalid YAML/JSON'}`, 'Pass a valid YAML or JSON manifest to -f');
    }
    const value = doc.toJS() as unknown;
    collect(value, out);
  }
  return out;
}

function collect(value: unknown, out: Array<Record<string, unknown>>): void {
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const v of obj.items) collect(v, out);
    return;
  }
  out.push(obj);
}

/** Detect the strategy of every StatefulSet in the manifest text. No StatefulSet -> UsageError. */
export function planFromManifest(
  text: string,
  source: string,
  detect: (sts: V1StatefulSet) => StrategyDetection,
): PlanFileOutput {
  const sets = objectsFromManifest(text, source).filter((o) => o.kind === 'StatefulSet');
  if (sets.length === 0) {
    throw new UsageError(`no StatefulSet found in ${source}`, 'Pass a manifest holding a StatefulSet (kind: StatefulSet)');
  }
  const planned = sets.map((raw) => {
    const sts = raw as V1StatefulSet;
    let detection: StrategyDetection;
    try {
      detection = detect(sts);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new UsageError(`cannot analyse StatefulSet ${sts.metadata?.name ?? '(unnamed)'} in ${source}: ${msg}`, 'Check that the manifest is a complete StatefulSet');
    }
    const entry: PlannedStatefulSet = {
      name: sts.metadata?.name ?? '(unnamed)',
      namespace: sts.metadata?.namespace ?? null,
      replicas: typeof sts.spec?.replicas === 'number' ? sts.spec.replicas : 1,
      ...detection,
    };
    return entry;
  });
  const only = planned.length === 1 ? planned[0] : undefined;
  return only ? { ...only, source, statefulSets: planned } : { source, statefulSets: planned };
}
