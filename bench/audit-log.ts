// The test cluster's kube-apiserver audit log (test/cluster/up, docs/test-cluster.md "Audit log"): one JSON line per
// request and stage at level Metadata. Here: read the events of a time window and count the requests of the tool's
// own identities by verb and resource, as the apiserver saw them (exec included), beside every other client's.
//
// Identities (docs/benchmarks.md, "Rollouts on the test cluster"):
// - runner: the runner Job's ServiceAccount, `system:serviceaccount:<namespace>:<serviceAccount>`;
// - plugin: the kubeconfig's user (`kubernetes-admin` on the test cluster) with the user agent of the plugin's HTTP
//   clients: the port's own `crate-decommission` (shared/adapters/kube.ts USER_AGENT), client-node's
//   `kubernetes-client-javascript/<version>`, undici's `undici`, or none (its websockets).
//   The same user is also the test cluster's process kubelet (`cdk-kubelet/<node>`), the bench's and the e2e
//   harness's kubectl (`kubectl/...`) and the up script's curl: those count as other clients.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  user?: { username?: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestURI?: string;
  requestReceivedTimestamp?: string;
  responseStatus?: { code?: number };
}

export type Who = 'runner' | 'plugin' | 'other';

export interface Identities {
  /** `system:serviceaccount:<ns>:<sa>` of the runner Job. */
  runnerUser: string;
  /** The kubeconfig user the plugin runs as. */
  pluginUser: string;
}

export function who(e: AuditEvent, ids: Identities): Who {
  const u = e.user?.username ?? '';
  if (u === ids.runnerUser) return 'runner';
  if (u === ids.pluginUser && /^(crate-decommission$|kubernetes-client-javascript\/|undici$|$)/.test(e.userAgent ?? ''))
    return 'plugin';
  return 'other';
}

/** "verb resource[/subresource]" (non-resource requests: "verb <path>"). */
export function keyOf(e: AuditEvent): string {
  const r = e.objectRef;
  if (!r?.resource) return `${e.verb} ${(e.requestURI ?? '').split('?')[0]}`;
  return `${e.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
}

/**
 * One event per request (its auditID) received in [fromMs, toMs]: a long-running request (watch, exec, logs) has a
 * ResponseStarted and a ResponseComplete line, the others a ResponseComplete (or Panic) only.
 */
export function requestsOf(lines: Iterable<string>, fromMs: number, toMs: number): AuditEvent[] {
  const byId = new Map<string, AuditEvent>();
  for (const line of lines) {
    if (!line) continue;
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // a line cut by a rotation or still being written
    }
    const t = Date.parse(e.requestReceivedTimestamp ?? '');
    if (!(t >= fromMs && t <= toMs)) continue;
    if (!byId.has(e.auditID)) byId.set(e.auditID, e);
  }
  return [...byId.values()];
}

export interface Counts {
  total: number;
  byKey: Record<string, number>;
}

export type CountsByWho = Record<Who, Counts>;

export function countByWho(events: AuditEvent[], ids: Identities): CountsByWho {
  const c: CountsByWho = {
    runner: { total: 0, byKey: {} },
    plugin: { total: 0, byKey: {} },
    other: { total: 0, byKey: {} },
  };
  for (const e of events) {
    const x = c[who(e, ids)];
    x.total++;
    const k = keyOf(e);
    x.byKey[k] = (x.byKey[k] ?? 0) + 1;
  }
  return c;
}

/**
 * The lines of the audit log files in `dir` (audit.log and its rotated backups) written since `sinceMs`; throws
 * when there is no audit log at all (a cluster started with CDK_AUDIT=0).
 */
export async function readAuditLines(dir: string, sinceMs: number): Promise<string[]> {
  const all = readdirSync(dir).filter((f) => /^audit.*\.log$/.test(f));
  if (all.length === 0) throw new Error(`no audit log in ${dir} (cluster started with CDK_AUDIT=0?)`);
  const files = all.map((f) => join(dir, f)).filter((f) => statSync(f).mtimeMs >= sinceMs);
  const lines: string[] = [];
  for (const f of files) {
    const rl = createInterface({ input: createReadStream(f), crlfDelay: Infinity });
    for await (const l of rl) lines.push(l);
  }
  return lines;
}
