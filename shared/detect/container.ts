// Which container of a pod is CrateDB: `crate` by name, else a crate image, else one exposing port 4200.
import type { V1Container } from '@kubernetes/client-node';

/** Image reference without registry, tag and digest: `docker.io/crate/crate:5.8@sha256:..` -> `crate`. */
function imageBaseName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastPart = withoutDigest.split('/').pop() ?? '';
  return lastPart.split(':')[0] ?? '';
}

export function isCrateImage(image: string | undefined): boolean {
  if (!image) return false;
  const base = imageBaseName(image.trim()).toLowerCase();
  return base === 'crate' || base === 'cratedb';
}

function exposesHttpPort(container: V1Container): boolean {
  return (container.ports ?? []).some((port) => port.containerPort === 4200);
}

/** How the CrateDB container was found, for reasons. */
export function describeCrateContainerChoice(container: V1Container): string {
  if (container.name === 'crate') return `container named crate`;
  if (isCrateImage(container.image)) return `container ${container.name} runs the CrateDB image ${container.image}`;
  return `container ${container.name} exposes port 4200`;
}

/** The CrateDB container of a pod template: `crate` by name, else a crate image, else one exposing 4200. */
export function findCrateContainer(containers: V1Container[]): V1Container | null {
  return (
    containers.find((c) => c.name === 'crate') ??
    containers.find((c) => isCrateImage(c.image)) ??
    containers.find(exposesHttpPort) ??
    null
  );
}
