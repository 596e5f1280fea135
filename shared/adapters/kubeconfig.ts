// Builds a client-node KubeConfig the way kubectl would from its global flags, the environment and in-cluster files.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { Cluster, Context, User } from '@kubernetes/client-node/dist/config_types.js';

type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];
type RequestContextType = Parameters<KubeConfig['applySecurityAuthentication']>[0];
import { BadInputError } from '../errors.js';
import { parseDurationMs } from '../duration.js';

/** kubectl's global flags that decide where and as whom to talk. */
export interface KubeConfigFlags {
  /** --kubeconfig: one file, which must exist (overrides $KUBECONFIG). */
  kubeconfig?: string;
  /** --context */
  context?: string;
  /** --cluster: use this kubeconfig cluster instead of the context's. */
  cluster?: string;
  /** --user: use this kubeconfig user instead of the context's. */
  user?: string;
  /** -n / --namespace */
  namespace?: string;
  /** --as: impersonate this user (Impersonate-User header). */
  as?: string;
  /** --as-group: impersonate this group (Impersonate-Group header); requires --as. */
  asGroups?: string[];
  /** --request-timeout: "0" (none), "30s", "1m", "2h" or plain seconds. Applies to single API calls, not watches/exec. */
  requestTimeout?: string | number;
  /** --insecure-skip-tls-verify */
  insecureSkipTlsVerify?: boolean;
  /** Use the pod's service account (the runner Job). */
  inCluster?: boolean;
}

export interface LoadKubeConfigEnv {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to os.homedir(). */
  homeDir?: string;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  /** Namespace to work in: flag, else the context's, else the service account's, else "default". */
  namespace: string;
  /** Where the configuration came from (file paths or "in-cluster"), for messages; never a secret. */
  source: string;
}

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const NO_CONFIG = 'no Kubernetes configuration found (set KUBECONFIG or --kubeconfig)';

/** Service-account directory: $CDK_SA_DIR, else $KUBERNETES_SA_DIR, else the standard mount. */
export function serviceAccountDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CDK_SA_DIR || env.KUBERNETES_SA_DIR || DEFAULT_SERVICE_ACCOUNT_DIR;
}

export function loadKubeConfig(flags: KubeConfigFlags = {}, where: LoadKubeConfigEnv = {}): LoadedKubeConfig {
  const env = where.env ?? process.env;
  const extras = requestExtras(flags);
  const kc = new FlagAwareKubeConfig(extras);

  let source: string;
  let serviceAccountNamespace: string | null = null;
  if (flags.inCluster) {
    serviceAccountNamespace = loadInCluster(kc, env, true);
    source = 'in-cluster';
  } else {
    const files = kubeconfigFiles(flags, env, where.homeDir ?? os.homedir());
    if (files.length > 0) {
      mergeFiles(kc, files);
      source = files.join(path.delimiter);
    } else if (env.KUBERNETES_SERVICE_HOST && fileExists(path.join(serviceAccountDir(env), 'token'))) {
      // kubectl inside a pod without a kubeconfig uses the service account too.
      serviceAccountNamespace = loadInCluster(kc, env, false);
      source = 'in-cluster';
    } else {
      throw new BadInputError(NO_CONFIG);
    }
  }

  applyContextFlags(kc, flags);
  if (flags.insecureSkipTlsVerify) skipTlsVerify(kc);
  allowPlainHttp(kc);
  assertNotLocalhostFallback(kc);

  const context = kc.getContextObject(kc.getCurrentContext());
  const namespace = flags.namespace || context?.namespace || serviceAccountNamespace || 'default';
  return { kc, namespace, source };
}

/** The context, cluster and user names of the kubeconfig files kubectl would read (for shell completion). */
export function kubeconfigNames(
  flags: Pick<KubeConfigFlags, 'kubeconfig'> = {},
  where: LoadKubeConfigEnv = {},
): { contexts: string[]; clusters: string[]; users: string[] } {
  const files = kubeconfigFiles(flags, where.env ?? process.env, where.homeDir ?? os.homedir());
  const kc = new KubeConfig();
  if (files.length > 0) mergeFiles(kc, files);
  return {
    contexts: kc.getContexts().map((c) => c.name),
    clusters: kc.getClusters().map((c) => c.name),
    users: kc.getUsers().map((u) => u.name),
  };
}

/**
 * Throw when `kc` is client-node's silent fallback (`loadFromDefault()` with nothing configured
 * yields cluster "cluster" at http://localhost:8080) or has no usable cluster at all.
 */
export function assertNotLocalhostFallback(kc: KubeConfig): void {
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) throw new BadInputError(NO_CONFIG);
  const isFallback =
    cluster.name === 'cluster' &&
    /^http:\/\/localhost:8080\/?$/.test(cluster.server) &&
    kc.getCurrentContext() === 'loaded-context';
  if (isFallback) throw new BadInputError(NO_CONFIG);
}

// ---------------------------------------------------------------------------------------------
// Files

function kubeconfigFiles(flags: KubeConfigFlags, env: NodeJS.ProcessEnv, homeDir: string): string[] {
  if (flags.kubeconfig) {
    const file = path.resolve(flags.kubeconfig);
    if (!fileExists(file)) throw new BadInputError(`kubeconfig file ${file} (from --kubeconfig) does not exist`);
    return [file];
  }
  if (env.KUBECONFIG) {
    // Like kubectl: missing files in the list are skipped; an empty result is "no configuration".
    const listed = env.KUBECONFIG.split(path.delimiter).filter((f) => f.length > 0);
    return [...new Set(listed.map((f) => path.resolve(f)))].filter(fileExists);
  }
  const home = path.join(homeDir, '.kube', 'config');
  return fileExists(home) ? [home] : [];
}

/** Merge like kubectl: the first file that defines a name (or current-context) wins; no error on duplicates. */
function mergeFiles(kc: KubeConfig, files: string[]): void {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  for (const file of files) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file); // also makes cert/key/CA paths absolute against the file's folder
    } catch (err) {
      throw new BadInputError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
    }
    addNew(clusters, one.getClusters());
    addNew(users, one.getUsers());
    addNew(contexts, one.getContexts());
    if (!currentContext && one.getCurrentContext()) currentContext = one.getCurrentContext();
  }
  kc.loadFromOptions({ clusters, users, contexts, currentContext });
}

function addNew<T extends { name: string }>(into: T[], items: T[]): void {
  for (const item of items) if (!into.some((known) => known.name === item.name)) into.push(item);
}

function fileExists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// In-cluster

function loadInCluster(kc: KubeConfig, env: NodeJS.ProcessEnv, explicit: boolean): string | null {
  const dir = serviceAccountDir(env);
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const tokenFile = path.join(dir, 'token');
  const caFile = path.join(dir, 'ca.crt');
  if (!host) {
    throw new BadInputError(
      explicit
        ? 'in-cluster configuration requested but KUBERNETES_SERVICE_HOST is not set (not running in a pod?)'
        : NO_CONFIG,
    );
  }
  if (!fileExists(tokenFile)) {
    throw new BadInputError(`in-cluster configuration: no service account token at ${tokenFile}`);
  }
  const server = `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const cluster: Cluster = {
    name: 'in-cluster',
    server,
    skipTLSVerify: false,
    ...(fileExists(caFile) ? { caFile } : {}),
  };
  // The token is read per request (cached briefly) so kubelet's rotation is picked up; it is never logged.
  const user: User = { name: 'in-cluster', authProvider: { name: SA_TOKEN_PROVIDER, config: { path: tokenFile } } };
  kc.addAuthenticator(new ServiceAccountTokenAuth());
  kc.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
    currentContext: 'in-cluster',
  });
  const nsFile = path.join(dir, 'namespace');
  return fileExists(nsFile) ? fs.readFileSync(nsFile, 'utf8').trim() || null : null;
}

const SA_TOKEN_PROVIDER = 'crate-decommission-sa-token';
const TOKEN_CACHE_MS = 10_000;

/**
 * Bearer token from a service-account token file. Unlike client-node's FileAuth it trims the file
 * (a trailing newline would make an invalid header) and re-reads it every few seconds.
 */
class ServiceAccountTokenAuth implements Authenticator {
  private cached: { path: string; token: string; readAt: number } | null = null;

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === SA_TOKEN_PROVIDER;
  }

  async applyAuthentication(user: User, opts: { headers?: Record<string, unknown> }): Promise<void> {
    const path = (user.authProvider as { config: { path: string } }).config.path;
    const now = Date.now();
    if (!this.cached || this.cached.path !== path || now - this.cached.readAt > TOKEN_CACHE_MS) {
      const token = (await fs.promises.readFile(path, 'utf8')).trim();
      this.cached = { path, token, readAt: now };
    }
    opts.headers ??= {};
    opts.headers.Authorization = `Bearer ${this.cached.token}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Flags

function applyContextFlags(kc: KubeConfig, flags: KubeConfigFlags): void {
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      throw new BadInputError(`context "${flags.context}" not found in the kubeconfig`);
    }
    kc.setCurrentContext(flags.context);
  }
  let context = kc.getContextObject(kc.getCurrentContext());
  if (!context && (flags.cluster || flags.user)) {
    // kubectl accepts --cluster/--user without any current context.
    const synthetic: Context = { name: 'crate-decommission', cluster: flags.cluster ?? '', user: flags.user ?? '' };
    kc.loadFromOptions({
      clusters: kc.getClusters(),
      users: kc.getUsers(),
      contexts: [...kc.getContexts().filter((c) => c.name !== synthetic.name), synthetic],
      currentContext: synthetic.name,
    });
    context = synthetic;
  }
  if (!context) {
    throw new BadInputError(
      kc.getCurrentContext()
        ? `current context "${kc.getCurrentContext()}" not found in the kubeconfig (use --context)`
        : 'no current context set in the kubeconfig (use --context)',
    );
  }
  if (flags.cluster && !kc.getCluster(flags.cluster)) {
    throw new BadInputError(`cluster "${flags.cluster}" not found in the kubeconfig`);
  }
  if (flags.user && !kc.getUser(flags.user)) {
    throw new BadInputError(`user "${flags.user}" not found in the kubeconfig`);
  }
  if (flags.cluster || flags.user) {
    const overridden: Context = {
      ...context,
      cluster: flags.cluster ?? context.cluster,
      user: flags.user ?? context.user,
    };
    replaceContext(kc, overridden);
  }
  if (!kc.getCurrentCluster()) {
    throw new BadInputError(`cluster "${context.cluster}" of context "${context.name}" not found in the kubeconfig`);
  }
}

function replaceContext(kc: KubeConfig, context: Context): void {
  kc.loadFromOptions({
    clusters: kc.getClusters(),
    users: kc.getUsers(),
    contexts: kc.getContexts().map((c) => (c.name === context.name ? context : c)),
    currentContext: context.name,
  });
}

function skipTlsVerify(kc: KubeConfig): void {
  const current = kc.getCurrentCluster();
  if (!current) return;
  // Like kubectl: the flag drops the CA and turns verification off.
  const { caData: _caData, caFile: _caFile, ...rest } = current;
  const cluster: Cluster = { ...rest, skipTLSVerify: true };
  kc.loadFromOptions({
    clusters: kc.getClusters().map((c) => (c.name === current.name ? cluster : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
}

/**
 * A plain `http://` server (as `kubectl proxy` serves it) works in kubectl. client-node refuses it unless
 * skipTLSVerify is set, which changes nothing for a connection without TLS: set it for those clusters only.
 */
function allowPlainHttp(kc: KubeConfig): void {
  if (!kc.getClusters().some((c) => /^http:\/\//i.test(c.server) && !c.skipTLSVerify)) return;
  kc.loadFromOptions({
    clusters: kc.getClusters().map((c) => (/^http:\/\//i.test(c.server) ? { ...c, skipTLSVerify: true } : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
}

interface RequestExtras {
  headers: Record<string, string>;
  requestTimeoutMs: number | null;
}

function requestExtras(flags: KubeConfigFlags): RequestExtras {
  const headers: Record<string, string> = {};
  const groups = (flags.asGroups ?? []).filter((g) => g.length > 0);
  if (groups.length > 0 && !flags.as) {
    throw new BadInputError('--as-group needs --as: groups can only be impersonated together with a user');
  }
  if (groups.length > 1) {
    // fetch joins repeated headers into one value, which the API server would read as a single group.
    throw new BadInputError('only one --as-group is supported');
  }
  if (flags.as) headers['Impersonate-User'] = flags.as;
  if (groups[0]) headers['Impersonate-Group'] = groups[0];
  return { headers, requestTimeoutMs: parseRequestTimeout(flags.requestTimeout) };
}

/**
 * kubectl's --request-timeout in ms, null for none (0 or unset): a bare number is seconds, otherwise a Go duration
 * such as 30s, 1m, 1h5m (parseDurationMs, the one duration parser).
 */
export function parseRequestTimeout(value: string | number | undefined): number | null {
  if (value === undefined || value === '') return null;
  const ms = typeof value === 'number' ? value * 1000 : parseDurationMs(value);
  if (ms === null || !Number.isFinite(ms) || ms < 0) {
    throw new BadInputError(
      `invalid --request-timeout "${value}" (use a number of seconds or a duration such as 30s, 1m, 1h)`,
    );
  }
  return ms === 0 ? null : Math.round(ms);
}

/**
 * An AbortSignal that fires after `ms` with a plain Error (name TimeoutError) as its reason. Not
 * AbortSignal.timeout(): fetch rejects with the signal's reason, and client-node rewrites the message of what it
 * catches (`e.message = ...`), which throws on the DOMException AbortSignal.timeout() uses (its message is a
 * getter): `--request-timeout 3s` crashed with "Cannot set property message ... which has only a getter".
 */
export function requestTimeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const reason = new Error(`the request did not finish within --request-timeout (${ms} ms)`);
    reason.name = 'TimeoutError';
    controller.abort(reason);
  }, ms);
  timer.unref?.();
  return controller.signal;
}

/**
 * A KubeConfig that adds kubectl's impersonation headers to every request (API calls, watches,
 * exec websockets) and a deadline to single API calls.
 */
class FlagAwareKubeConfig extends KubeConfig {
  constructor(private readonly extras: RequestExtras) {
    super();
  }

  /** client-node builds a new undici Agent (so a new TLS connection) per request: keep one per cluster and user. */
  private readonly dispatchers = new Map<string, NonNullable<ReturnType<RequestContextType['getDispatcher']>>>();

  override async applySecurityAuthentication(context: RequestContextType): Promise<void> {
    await super.applySecurityAuthentication(context);
    const created = context.getDispatcher();
    if (created) {
      const key = JSON.stringify([this.getCurrentCluster()?.name ?? '', this.getCurrentUser()?.name ?? '']);
      const known = this.dispatchers.get(key);
      if (known) context.setDispatcher(known);
      else this.dispatchers.set(key, created);
    }
    for (const [key, value] of Object.entries(this.extras.headers)) context.setHeaderParam(key, value);
    // Watches build their own AbortController and ignore this signal, as they should.
    if (this.extras.requestTimeoutMs !== null && context.getSignal() === undefined) {
      context.setSignal(requestTimeoutSignal(this.extras.requestTimeoutMs));
    }
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    if (Object.keys(this.extras.headers).length > 0) {
      const target = opts as { headers?: Record<string, string> };
      target.headers = { ...(target.headers ?? {}), ...this.extras.headers };
    }
  }
}
