// The real SqlTransportFactory: HTTP(S) to a pod's IP with credentials and CA read lazily from Secrets, or exec into the pod.
import net from 'node:net';
import type { Dispatcher } from 'undici';
import { BadInputError, SqlConnectionError } from '../errors.js';
import type { KubernetesPort, SqlTransport, SqlTransportFactory } from '../ports.js';
import type { PodInfo, SqlEndpoint } from '../schemas.js';
import { type ClosableSqlTransport, createExecSessionSqlTransport } from './sql-exec-session.js';
import { createHttpSqlTransport } from './sql-http.js';

export interface SqlTransportFactoryOptions {
  /** Default per-query timeout, ms. */
  timeoutMs?: number;
  /** Injected dispatcher for HTTP transports (tests). */
  dispatcher?: Dispatcher;
  /** An exec session idle this long is closed, ms (default 60 000). */
  execSessionIdleMs?: number;
  /** The run's signal: its abort closes every exec session (as close() does). */
  signal?: AbortSignal;
}

export function createSqlTransportFactory(
  kube: KubernetesPort,
  options: SqlTransportFactoryOptions = {},
): SqlTransportFactory {
  /** Secret values by namespace/name/key: read once per run, retried after a failure. */
  const secrets = new Map<string, Promise<string>>();
  /** One transport (so one keep-alive Agent) per endpoint. */
  const httpTransports = new Map<string, SqlTransport>();
  /** One exec session transport per pod (uid) and endpoint: the factory owns them and close() ends them. */
  const execTransports = new Map<string, ClosableSqlTransport>();

  const readRequired = (namespace: string, name: string, key: string, purpose: string): Promise<string> => {
    const cacheKey = `${namespace}/${name}/${key}`;
    let value = secrets.get(cacheKey);
    if (!value) {
      value = kube.readSecret(namespace, name, key).then((found) => {
        if (found === null) {
          throw new BadInputError(
            `Secret ${namespace}/${name} or its key "${key}" does not exist (needed for ${purpose})`,
          );
        }
        return found;
      });
      value.catch(() => secrets.delete(cacheKey));
      secrets.set(cacheKey, value);
    }
    return value;
  };

  const closeAll = (): void => {
    for (const t of execTransports.values()) t.close();
    execTransports.clear();
  };
  options.signal?.addEventListener('abort', closeAll, { once: true });

  return {
    http(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport {
      if (!pod.podIP)
        return unreachable(
          `${endpoint.scheme}://${pod.name}:${endpoint.port}`,
          `pod ${namespace}/${pod.name} has no IP yet`,
        );
      const host = net.isIPv6(pod.podIP) ? `[${pod.podIP}]` : pod.podIP;
      const url = `${endpoint.scheme}://${host}:${endpoint.port}`;
      const key = JSON.stringify([namespace, url, endpoint]);
      const known = httpTransports.get(key);
      if (known) return known;

      const credentials = endpoint.credentials;
      const ca = endpoint.caSecret;
      const transport = createHttpSqlTransport({
        url,
        username: credentials?.username ?? null,
        password: credentials
          ? () =>
              readRequired(
                namespace,
                credentials.secretName,
                credentials.passwordKey,
                `the password of SQL user ${credentials.username}`,
              )
          : undefined,
        ca:
          ca && !endpoint.insecureSkipTlsVerify
            ? () => readRequired(namespace, ca.name, ca.key, 'the CrateDB CA certificate')
            : undefined,
        insecureSkipTlsVerify: endpoint.insecureSkipTlsVerify,
        timeoutMs: options.timeoutMs,
        dispatcher: options.dispatcher,
      });
      httpTransports.set(key, transport);
      return transport;
    },

    exec(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport {
      const key = JSON.stringify([namespace, pod.name, pod.uid, pod.containerName, endpoint.scheme, endpoint.port]);
      const known = execTransports.get(key);
      if (known) return known;
      // A pod of this name with another uid was replaced (a name has one live pod): its sessions are closed and
      // forgotten, so a long-lived factory (the Temporal worker) holds at most one entry per pod name and endpoint.
      for (const [k, t] of execTransports) {
        const [kNamespace, kPod, kUid] = JSON.parse(k) as [string, string, string];
        if (kNamespace === namespace && kPod === pod.name && kUid !== pod.uid) {
          t.close();
          execTransports.delete(k);
        }
      }
      const transport = createExecSessionSqlTransport({
        kube,
        namespace,
        pod: pod.name,
        container: pod.containerName,
        scheme: endpoint.scheme,
        port: endpoint.port,
        timeoutMs: options.timeoutMs,
        idleMs: options.execSessionIdleMs,
      });
      execTransports.set(key, transport);
      return transport;
    },

    close(): void {
      options.signal?.removeEventListener('abort', closeAll);
      closeAll();
    },
  };
}

/** A transport for a pod that cannot be reached yet: every query fails as a connection error. */
function unreachable(description: string, reason: string): SqlTransport {
  return {
    description,
    query: () => Promise.reject(new SqlConnectionError(`cannot reach CrateDB: ${reason}`, false)),
  };
}
