// Strategy detection: does dc_util in the preStop hook decommission this StatefulSet's pods, or must we? (pure)
// STUB: signatures fixed, implementation owned by the detection work (see issue 2, point 3).
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node';
import type { StrategyDetection } from './schemas.js';

/** Parse a Go duration ("720s", "15m", "1h30m", "1.5h") into whole seconds; null when invalid. */
export function parseGoDuration(text: string): number | null {
  void text;
  throw new Error('not implemented');
}

/** The CrateDB container of a pod template: `crate` by name, else a crate image, else one exposing 4200. */
export function findCrateContainer(containers: V1Container[]): V1Container | null {
  void containers;
  throw new Error('not implemented');
}

/** The CrateDB node name from the container's `-Cnode.name=` argument, with $(hostname)-style ordinal resolved. */
export function nodeNameFromArgs(container: V1Container, podName: string): string | null {
  void container;
  void podName;
  throw new Error('not implemented');
}

/** Detect the decommission strategy of a StatefulSet (fact sheet section 5). */
export function detectStrategy(sts: V1StatefulSet): StrategyDetection {
  void sts;
  throw new Error('not implemented');
}
