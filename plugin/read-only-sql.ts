// SQL for the read-only commands (plan, health) run from this machine: over HTTP when the engine chose HTTP
// (credentials known: crate-operator's `system` user or --sql-user) and the pod's IP answers from here; when it
// does not (the usual case outside the cluster), the same read goes through exec into the pod, as --local does.
// Only for reads: a query is sent again over exec only when HTTP never reached the pod, so it never ran twice.
import { SqlConnectionError } from '../shared/task/index.js';
import type { Logger, SqlTransport, SqlTransportFactory } from '../shared/index.js';

/** How long the first HTTP query to a pod may take before its pod IP counts as unreachable from here. */
export const HTTP_PROBE_TIMEOUT_MS = 3000;

export function readOnlySqlFactory(inner: SqlTransportFactory, log: Pick<Logger, 'info'>): SqlTransportFactory {
  return {
    exec: (namespace, pod, endpoint) => inner.exec(namespace, pod, endpoint),
    close: () => inner.close?.(),
    http(namespace, pod, endpoint): SqlTransport {
      const http = inner.http(namespace, pod, endpoint);
      let exec: SqlTransport | null = null;
      let reached = false;
      return {
        get description() {
          return exec ? exec.description : http.description;
        },
        async query(stmt, args, opts) {
          if (exec) return exec.query(stmt, args, opts);
          if (reached) return http.query(stmt, args, opts);
          try {
            const answer = await http.query(stmt, args, {
              ...opts,
              timeoutMs: Math.min(opts?.timeoutMs ?? HTTP_PROBE_TIMEOUT_MS, HTTP_PROBE_TIMEOUT_MS),
            });
            reached = true;
            return answer;
          } catch (err) {
            if (!(err instanceof SqlConnectionError) || opts?.signal?.aborted) throw err;
            exec = inner.exec(namespace, pod, endpoint);
            log.info(
              `pod ${namespace}/${pod.name} is not reachable over HTTP from here (${err.message}): its reads go through exec`,
              {
                pod: pod.name,
                sqlTransport: 'exec',
              },
            );
            return exec.query(stmt, args, opts);
          }
        },
      };
    },
  };
}
