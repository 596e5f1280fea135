// CrateDB node names: the container's `-Cnode.name=` (resolved for a pod) and the one dc_util derives from the hostname.
import type { V1Container } from '@kubernetes/client-node';
import { DC_UTIL_DEFAULT_NODE_PREFIX } from './constants.js';
import { containerVariables, kubeletExpand, resolveTemplate } from './expand.js';
import { tokenizeShell } from './shell.js';

function rawNodeNameArgument(container: V1Container, podName: string | null = null): string | null {
  for (const part of [...(container.command ?? []), ...(container.args ?? [])]) {
    if (!part.includes('-Cnode.name=')) continue;
    const expanded = kubeletExpand(part, container, podName);
    const word = tokenizeShell(expanded).find((t) => t.kind === 'word' && t.text.startsWith('-Cnode.name='));
    if (word && word.kind === 'word') return word.text.slice('-Cnode.name='.length);
  }
  return null;
}

/**
 * Is the node master-eligible? From the container's `-Cnode.master=true|false` argument (crate-operator sets it to
 * false on data nodes when the cluster has a master node group); CrateDB's default is true.
 */
export function masterEligibleFromArgs(container: V1Container | null): boolean {
  if (!container) return true;
  let eligible = true;
  for (const part of [...(container.command ?? []), ...(container.args ?? [])]) {
    if (!part.includes('node.master=')) continue;
    for (const t of tokenizeShell(part)) {
      const m = t.kind === 'word' ? /^-Cnode\.master=(\S+)$/.exec(t.text) : null;
      if (m) eligible = !/^false$/i.test(m[1]!.replace(/^["']|["']$/g, ''));
    }
  }
  return eligible;
}

/** The CrateDB node name from the container's `-Cnode.name=` argument, with $(hostname)-style ordinal resolved. */
export function nodeNameFromArgs(container: V1Container, podName: string): string | null {
  const raw = rawNodeNameArgument(container, podName);
  if (raw === null) return null;
  const value = resolveTemplate(raw, containerVariables(container, podName));
  return value === null || value === '' ? null : value;
}

/** The node name dc_util computes from a pod's hostname (its extractNodeName); null when dc_util would fail. */
export function dcUtilNodeName(hostname: string, crateNodePrefix: string = DC_UTIL_DEFAULT_NODE_PREFIX): string | null {
  const parts = hostname.split('-');
  const podNumber = parts[parts.length - 1] ?? '';
  if (crateNodePrefix !== DC_UTIL_DEFAULT_NODE_PREFIX && crateNodePrefix !== '') {
    return `${crateNodePrefix}-${podNumber}`;
  }
  const prefixParts = crateNodePrefix.split('-');
  if (parts.length >= 4 && parts[0] === 'crate' && parts.length >= prefixParts.length + 2) {
    if (prefixParts.every((part, k) => parts[1 + k] === part)) return `${crateNodePrefix}-${podNumber}`;
  }
  return null;
}
