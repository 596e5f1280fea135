// A small stateful stand-in for the Kubernetes API server on an undici MockAgent: pods (get, list, watch,
// delete with UID preconditions), Leases with resourceVersion checks, StatefulSets (get; label patches: merge with
// a resourceVersion check, JSON Patch with `test`), Events, and 404s for everything else.
// Enough for the real KubernetesPort to run the port contract without a cluster. Watches answer with the
// events since the given resourceVersion and close (the adapter resumes), or 410 when that version is gone.
import type { MockAgent } from 'undici';

type Reply = { statusCode: number; data?: object | string; responseOptions?: { headers?: Record<string, string> } };

type Obj = {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };

function status(code: number, reason: string, message: string): Reply {
  return {
    statusCode: code,
    data: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message },
    responseOptions: JSON_HEADERS,
  };
}

export class MockApiServer {
  readonly pods = new Map<string, Obj>();
  readonly leases = new Map<string, Obj>();
  readonly statefulSets = new Map<string, Obj>();
  readonly events: unknown[] = [];
  /** Pod watch events kept for resuming; older versions answer 410 Gone. */
  private readonly podEvents: WatchEvent[] = [];
  private rv = 1000;
  private uid = 0;
  /** Oldest resourceVersion a watch may resume from. */
  compactedBefore = 0;

  constructor(agent: MockAgent, origin: string) {
    agent
      .get(origin)
      .intercept({ path: () => true, method: () => true })
      .reply<object>((opts): Reply => {
        const url = new URL(opts.path, origin);
        const body = opts.body ? (JSON.parse(String(opts.body)) as Record<string, unknown>) : undefined;
        return this.handle(opts.method, url, body);
      })
      .persist();
  }

  private nextRv(): string {
    this.rv += 1;
    return String(this.rv);
  }

  addPod(namespace: string, name: string): Obj {
    this.uid += 1;
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        uid: `pod-uid-${this.uid}`,
        resourceVersion: this.nextRv(),
        creationTimestamp: new Date().toISOString(),
      },
      spec: { containers: [{ name: 'crate', image: 'crate:6' }] },
      status: { phase: 'Running' },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    this.podEvents.push({ rv: this.rv, type: 'ADDED', object: structuredClone(pod) });
    return structuredClone(pod);
  }

  addStatefulSet(namespace: string, name: string): Obj {
    this.uid += 1;
    const sts: Obj = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace, uid: `sts-uid-${this.uid}`, resourceVersion: this.nextRv() },
      spec: { replicas: 0 },
    };
    this.statefulSets.set(`${namespace}/${name}`, sts);
    return structuredClone(sts);
  }

  private handle(method: string, url: URL, body: Record<string, unknown> | undefined): Reply {
    const p = url.pathname;
    let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(p);
    if (m && method === 'GET') return this.listOrWatchPods(m[1]!, url.searchParams);
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(p);
    if (m && method === 'GET') return this.get(this.pods, m[1]!, m[2]!, 'pods');
    if (m && method === 'DELETE') return this.deletePod(m[1]!, m[2]!, body);

    m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/statefulsets\/([^/]+)$/.exec(p);
    if (m && method === 'GET') return this.get(this.statefulSets, m[1]!, m[2]!, 'statefulsets.apps');
    if (m && method === 'PATCH') return this.patchStatefulSet(m[1]!, m[2]!, body);

    m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases$/.exec(p);
    if (m && method === 'POST') return this.createLease(m[1]!, body as Obj);
    m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases\/([^/]+)$/.exec(p);
    if (m && method === 'GET') return this.get(this.leases, m[1]!, m[2]!, 'leases.coordination.k8s.io');
    if (m && method === 'PUT') return this.replaceLease(m[1]!, m[2]!, body as Obj);
    if (m && method === 'DELETE') {
      const key = `${m[1]}/${m[2]}`;
      if (!this.leases.delete(key)) return status(404, 'NotFound', `leases.coordination.k8s.io "${m[2]}" not found`);
      return { statusCode: 200, data: { kind: 'Status', status: 'Success' }, responseOptions: JSON_HEADERS };
    }

    if (/^\/apis\/events\.k8s\.io\/v1\/namespaces\/[^/]+\/events$/.test(p) && method === 'POST') {
      this.events.push(body);
      return {
        statusCode: 201,
        data: { ...body, metadata: { ...(body?.metadata as object), name: `e${this.nextRv()}` } },
        responseOptions: JSON_HEADERS,
      };
    }
    // Secrets, CrateDBs and anything else: not there.
    return status(404, 'NotFound', `${p} not found`);
  }

  private get(store: Map<string, Obj>, namespace: string, name: string, kind: string) {
    const found = store.get(`${namespace}/${name}`);
    if (!found) return status(404, 'NotFound', `${kind} "${name}" not found`);
    return { statusCode: 200, data: found, responseOptions: JSON_HEADERS };
  }

  private listOrWatchPods(namespace: string, query: URLSearchParams) {
    const fieldName = /^metadata\.name=(.+)$/.exec(query.get('fieldSelector') ?? '')?.[1];
    const matches = (o: Obj) => o.metadata.namespace === namespace && (!fieldName || o.metadata.name === fieldName);
    if (query.get('watch') === 'true') {
      const from = Number(query.get('resourceVersion') ?? '0');
      if (from < this.compactedBefore) {
        const gone = {
          type: 'ERROR',
          object: { kind: 'Status', code: 410, reason: 'Expired', message: `too old resource version: ${from}` },
        };
        return { statusCode: 200, data: `${JSON.stringify(gone)}\n`, responseOptions: JSON_HEADERS };
      }
      const lines = this.podEvents
        .filter((e) => e.rv > from && matches(e.object))
        .map((e) => JSON.stringify({ type: e.type, object: e.object }))
        .join('\n');
      return { statusCode: 200, data: lines ? `${lines}\n` : '', responseOptions: JSON_HEADERS };
    }
    const items = [...this.pods.values()].filter(matches);
    return {
      statusCode: 200,
      data: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items },
      responseOptions: JSON_HEADERS,
    };
  }

  private deletePod(namespace: string, name: string, body: Record<string, unknown> | undefined) {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return status(404, 'NotFound', `pods "${name}" not found`);
    const wanted = (body?.preconditions as { uid?: string } | undefined)?.uid;
    if (wanted && wanted !== pod.metadata.uid) {
      return status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on Pod "${name}": Precondition failed: UID in precondition: ${wanted}, UID in object meta: ${pod.metadata.uid}`,
      );
    }
    const grace = typeof body?.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : 30;
    if (grace > 0) {
      pod.metadata.deletionTimestamp = new Date().toISOString();
      pod.metadata.deletionGracePeriodSeconds = grace;
      pod.metadata.resourceVersion = this.nextRv();
      this.podEvents.push({ rv: this.rv, type: 'MODIFIED', object: structuredClone(pod) });
    } else {
      this.pods.delete(key);
      pod.metadata.resourceVersion = this.nextRv();
      this.podEvents.push({ rv: this.rv, type: 'DELETED', object: structuredClone(pod) });
    }
    return { statusCode: 200, data: pod, responseOptions: JSON_HEADERS };
  }

  private createLease(namespace: string, lease: Obj) {
    const name = lease.metadata.name;
    const key = `${namespace}/${name}`;
    if (this.leases.has(key))
      return status(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`);
    this.uid += 1;
    const stored: Obj = {
      ...lease,
      metadata: { ...lease.metadata, namespace, uid: `lease-uid-${this.uid}`, resourceVersion: this.nextRv() },
    };
    this.leases.set(key, stored);
    return { statusCode: 201, data: stored, responseOptions: JSON_HEADERS };
  }

  private replaceLease(namespace: string, name: string, lease: Obj) {
    const key = `${namespace}/${name}`;
    const current = this.leases.get(key);
    if (!current) return status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    if (lease.metadata.resourceVersion !== current.metadata.resourceVersion) {
      return status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const stored: Obj = {
      ...lease,
      metadata: { ...lease.metadata, namespace, uid: current.metadata.uid, resourceVersion: this.nextRv() },
    };
    this.leases.set(key, stored);
    return { statusCode: 200, data: stored, responseOptions: JSON_HEADERS };
  }

  /** A merge patch of metadata (resourceVersion checked when given) or a JSON Patch of labels (test, add, remove). */
  private patchStatefulSet(namespace: string, name: string, body: unknown) {
    const current = this.statefulSets.get(`${namespace}/${name}`);
    if (!current) return status(404, 'NotFound', `statefulsets.apps "${name}" not found`);
    const labels = { ...((current.metadata.labels as Record<string, string> | undefined) ?? {}) };
    if (Array.isArray(body)) {
      for (const op of body as Array<{ op: string; path: string; value?: string }>) {
        const k = op.path
          .replace(/^\/metadata\/labels\//, '')
          .replace(/~1/g, '/')
          .replace(/~0/g, '~');
        // kube-apiserver v1.37 answers a failed `test` with its generic 422 message only (observed on the test cluster).
        if (op.op === 'test' && labels[k] !== op.value)
          return status(422, 'Invalid', 'the server rejected our request due to an error in our request');
        if (op.op === 'add') labels[k] = op.value!;
        if (op.op === 'remove') {
          if (!(k in labels)) return status(422, 'Invalid', `unable to remove nonexistent key: ${k}: missing value`);
          delete labels[k];
        }
      }
    } else {
      const meta = (body as { metadata?: { resourceVersion?: string; labels?: Record<string, string | null> } })
        .metadata;
      if (meta?.resourceVersion && meta.resourceVersion !== current.metadata.resourceVersion)
        return status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on statefulsets.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      for (const [k, v] of Object.entries(meta?.labels ?? {})) {
        if (v === null) delete labels[k];
        else labels[k] = v;
      }
    }
    current.metadata = { ...current.metadata, labels, resourceVersion: this.nextRv() };
    return { statusCode: 200, data: current, responseOptions: JSON_HEADERS };
  }
}
