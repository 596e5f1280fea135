// Loads the StatefulSet manifests in test/fixtures/statefulsets (also used by the plugin's offline `plan -f`).
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export const STATEFULSET_FIXTURES = fileURLToPath(new URL('../../fixtures/statefulsets/', import.meta.url));

export function fixtureNames(): string[] {
  return readdirSync(STATEFULSET_FIXTURES)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

/** Every document of a (multi-document) YAML file. */
export function loadDocuments(file: string): Array<Record<string, unknown>> {
  const text = readFileSync(`${STATEFULSET_FIXTURES}${file}`, 'utf8');
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Record<string, unknown>;
  });
}

/** The single StatefulSet in a fixture file. */
export function loadStatefulSet(file: string): V1StatefulSet {
  const statefulSets = loadDocuments(file).filter((doc) => doc['kind'] === 'StatefulSet');
  if (statefulSets.length !== 1) throw new Error(`${file}: expected one StatefulSet, found ${statefulSets.length}`);
  return statefulSets[0] as V1StatefulSet;
}
