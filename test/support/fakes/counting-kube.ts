import type { KubernetesPort } from '../../../shared/ports.js';

/** A proxy counting every KubernetesPort call the engine makes, by method (the fakes' own calls are not counted). */
export function countingKube(kube: KubernetesPort): { kube: KubernetesPort; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const proxy = new Proxy(kube, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...a: unknown[]) => {
        counts.set(prop, (counts.get(prop) ?? 0) + 1);
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
  return { kube: proxy, counts };
}
