// Kubernetes objects as YAML through client-node's serializer. Its own module: client-node is heavy to load, and
// plugin/objects.ts (used by `--help`, completion and bad input) must not pull it in. Import it lazily (shared/adapters/index.ts).
import { dumpYaml } from '@kubernetes/client-node/dist/yaml.js';

/** Kubernetes objects as multi-document YAML in the API's wire format (`_from` -> `from`, no undefined). */
export function toYaml(objects: ReadonlyArray<{ apiVersion?: string; kind?: string }>): string {
  return objects.map((o) => dumpYaml(o, { lineWidth: -1, noRefs: true })).join('---\n');
}
