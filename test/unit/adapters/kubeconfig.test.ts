import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadInputError } from '../../../shared/errors.js';
import {
  assertNotLocalhostFallback,
  loadKubeConfig,
  parseRequestTimeout,
} from '../../../shared/adapters/kubeconfig.js';

let dir: string;
let home: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-kubeconfig-'));
  home = path.join(dir, 'home');
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'placeholder CA');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, yaml: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, yaml);
  return file;
}

const FIRST = `
apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster: { server: https://prod.example:6443, certificate-authority: ca.pem }
- name: shared
  cluster: { server: https://first-shared.example:6443 }
users:
- name: admin
  user: { token: first-token }
contexts:
- name: prod
  context: { cluster: prod-cluster, user: admin, namespace: crate }
- name: shared-ctx
  context: { cluster: shared, user: admin }
`;

const SECOND = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: shared
  cluster: { server: https://second-shared.example:6443 }
- name: dev-cluster
  cluster: { server: https://dev.example:6443 }
users:
- name: admin
  user: { token: second-token }
- name: dev-user
  user: { token: dev-token }
contexts:
- name: prod
  context: { cluster: dev-cluster, user: dev-user, namespace: other }
- name: dev
  context: { cluster: dev-cluster, user: dev-user }
`;

async function headersOf(kc: KubeConfig): Promise<Record<string, string>> {
  const ctx = new RequestContext('https://example/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getHeaders();
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...extra };
}

describe('loadKubeConfig', () => {
  it('uses --kubeconfig, its current context and the context namespace', () => {
    const file = writeConfig('a.yaml', FIRST);
    const { kc, namespace, source } = loadKubeConfig({ kubeconfig: file }, { env: env(), homeDir: home });
    expect(kc.getCurrentContext()).toBe('prod');
    expect(kc.getCurrentCluster()?.server).toBe('https://prod.example:6443');
    expect(kc.getCurrentCluster()?.caFile).toBe(path.join(dir, 'ca.pem'));
    expect(namespace).toBe('crate');
    expect(source).toBe(file);
  });

  it('applies --context, -n, --cluster and --user', () => {
    const file = writeConfig('a.yaml', FIRST);
    const byContext = loadKubeConfig({ kubeconfig: file, context: 'shared-ctx' }, { env: env(), homeDir: home });
    expect(byContext.kc.getCurrentCluster()?.server).toBe('https://first-shared.example:6443');
    expect(byContext.namespace).toBe('default');

    const byNamespace = loadKubeConfig({ kubeconfig: file, namespace: 'ops' }, { env: env(), homeDir: home });
    expect(byNamespace.namespace).toBe('ops');

    const byCluster = loadKubeConfig({ kubeconfig: file, cluster: 'shared' }, { env: env(), homeDir: home });
    expect(byCluster.kc.getCurrentCluster()?.name).toBe('shared');
    expect(byCluster.namespace).toBe('crate');
  });

  it('rejects unknown contexts, clusters and users with BadInputError', () => {
    const file = writeConfig('a.yaml', FIRST);
    expect(() => loadKubeConfig({ kubeconfig: file, context: 'nope' }, { env: env(), homeDir: home })).toThrow(
      /context "nope" not found/,
    );
    expect(() => loadKubeConfig({ kubeconfig: file, cluster: 'nope' }, { env: env(), homeDir: home })).toThrow(
      BadInputError,
    );
    expect(() => loadKubeConfig({ kubeconfig: file, user: 'nope' }, { env: env(), homeDir: home })).toThrow(
      /user "nope" not found/,
    );
    expect(() => loadKubeConfig({ kubeconfig: path.join(dir, 'missing.yaml') }, { env: env(), homeDir: home })).toThrow(
      /does not exist/,
    );
  });

  it('merges several KUBECONFIG files like kubectl: the first definition of a name wins, no duplicate error', async () => {
    const a = writeConfig('a.yaml', FIRST);
    const b = writeConfig('b.yaml', SECOND);
    const missing = path.join(dir, 'not-there.yaml');
    const { kc, namespace } = loadKubeConfig(
      {},
      { env: env({ KUBECONFIG: [a, missing, b].join(path.delimiter) }), homeDir: home },
    );
    expect(kc.getCurrentContext()).toBe('prod'); // first file's current-context
    expect(
      kc
        .getContexts()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['dev', 'prod', 'shared-ctx']);
    expect(kc.getCluster('shared')?.server).toBe('https://first-shared.example:6443');
    expect(kc.getCurrentCluster()?.server).toBe('https://prod.example:6443');
    expect(namespace).toBe('crate');
    expect((await headersOf(kc)).Authorization).toBe('Bearer first-token');

    const dev = loadKubeConfig(
      { context: 'dev' },
      { env: env({ KUBECONFIG: [a, b].join(path.delimiter) }), homeDir: home },
    );
    expect(dev.kc.getCurrentCluster()?.server).toBe('https://dev.example:6443');
    expect((await headersOf(dev.kc)).Authorization).toBe('Bearer dev-token');
  });

  it('client-node itself throws on those duplicates (why the merge is manual)', () => {
    const a = writeConfig('a.yaml', FIRST);
    const b = writeConfig('b.yaml', SECOND);
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [a, b].join(path.delimiter);
    try {
      expect(() => new KubeConfig().loadFromDefault()).toThrow(/Duplicate/);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('falls back to ~/.kube/config', () => {
    fs.mkdirSync(path.join(home, '.kube'));
    fs.writeFileSync(path.join(home, '.kube', 'config'), SECOND);
    const { kc } = loadKubeConfig({}, { env: env(), homeDir: home });
    expect(kc.getCurrentContext()).toBe('dev');
  });

  it('says clearly when nothing is configured instead of talking to localhost:8080', () => {
    expect(() => loadKubeConfig({}, { env: env(), homeDir: home })).toThrow(
      new BadInputError('no Kubernetes configuration found (set KUBECONFIG or --kubeconfig)'),
    );
    expect(() =>
      loadKubeConfig({}, { env: env({ KUBECONFIG: path.join(dir, 'missing.yaml') }), homeDir: home }),
    ).toThrow(/no Kubernetes configuration found/);
  });

  it("detects client-node's silent localhost:8080 fallback", () => {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'cluster', server: 'http://localhost:8080', skipTLSVerify: false },
      { name: 'user' },
    );
    expect(() => assertNotLocalhostFallback(kc)).toThrow(BadInputError);
    expect(() => assertNotLocalhostFallback(new KubeConfig())).toThrow(/no Kubernetes configuration found/);
  });

  it('sends --as and --as-group as impersonation headers on API calls and websockets', async () => {
    const file = writeConfig('a.yaml', FIRST);
    const { kc } = loadKubeConfig({ kubeconfig: file, as: 'jane', asGroups: ['ops'] }, { env: env(), homeDir: home });
    const headers = await headersOf(kc);
    expect(headers['Impersonate-User']).toBe('jane');
    expect(headers['Impersonate-Group']).toBe('ops');
    expect(headers.Authorization).toBe('Bearer first-token');

    const wsOptions: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(wsOptions as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
    expect(wsOptions.headers?.['Impersonate-User']).toBe('jane');
    expect(wsOptions.headers?.['Impersonate-Group']).toBe('ops');
  });

  it('rejects --as-group without --as, and several groups', () => {
    const file = writeConfig('a.yaml', FIRST);
    expect(() => loadKubeConfig({ kubeconfig: file, asGroups: ['ops'] }, { env: env(), homeDir: home })).toThrow(
      /--as-group needs --as/,
    );
    expect(() =>
      loadKubeConfig({ kubeconfig: file, as: 'jane', asGroups: ['a', 'b'] }, { env: env(), homeDir: home }),
    ).toThrow(/only one --as-group/);
  });

  it('puts a deadline on single API calls with --request-timeout', async () => {
    const file = writeConfig('a.yaml', FIRST);
    const { kc } = loadKubeConfig({ kubeconfig: file, requestTimeout: '5s' }, { env: env(), homeDir: home });
    const ctx = new RequestContext('https://example/api', HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    expect(ctx.getSignal()).toBeInstanceOf(AbortSignal);

    const none = loadKubeConfig({ kubeconfig: file, requestTimeout: '0' }, { env: env(), homeDir: home });
    const ctx2 = new RequestContext('https://example/api', HttpMethod.GET);
    await none.kc.applySecurityAuthentication(ctx2);
    expect(ctx2.getSignal()).toBeUndefined();
  });

  it('reuses one undici dispatcher per cluster and user (client-node makes a new one per request)', async () => {
    const file = writeConfig('a.yaml', FIRST);
    const { kc } = loadKubeConfig({ kubeconfig: file }, { env: env(), homeDir: home });
    const first = new RequestContext('https://prod.example:6443/api', HttpMethod.GET);
    const second = new RequestContext('https://prod.example:6443/api', HttpMethod.GET);
    await kc.applySecurityAuthentication(first);
    await kc.applySecurityAuthentication(second);
    expect(first.getDispatcher()).toBeDefined();
    expect(second.getDispatcher()).toBe(first.getDispatcher());
  });

  it('parses kubectl request timeouts', () => {
    expect(parseRequestTimeout(undefined)).toBeNull();
    expect(parseRequestTimeout('0')).toBeNull();
    expect(parseRequestTimeout('30')).toBe(30_000);
    expect(parseRequestTimeout(2)).toBe(2_000);
    expect(parseRequestTimeout('1m30s')).toBe(90_000);
    expect(parseRequestTimeout('250ms')).toBe(250);
    expect(() => parseRequestTimeout('soon')).toThrow(BadInputError);
  });

  it('--insecure-skip-tls-verify turns verification off and drops the CA', () => {
    const file = writeConfig('a.yaml', FIRST);
    const { kc } = loadKubeConfig({ kubeconfig: file, insecureSkipTlsVerify: true }, { env: env(), homeDir: home });
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
    expect(kc.getCurrentCluster()?.caFile).toBeUndefined();
  });

  it('loads the in-cluster service account from $CDK_SA_DIR with its namespace', async () => {
    const sa = path.join(dir, 'sa');
    fs.mkdirSync(sa);
    fs.writeFileSync(path.join(sa, 'token'), 'sa-token-value\n');
    fs.writeFileSync(path.join(sa, 'ca.crt'), 'not really a CA');
    fs.writeFileSync(path.join(sa, 'namespace'), 'crate-system\n');
    const e = env({ CDK_SA_DIR: sa, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
    const { kc, namespace, source } = loadKubeConfig({ inCluster: true }, { env: e, homeDir: home });
    expect(source).toBe('in-cluster');
    expect(namespace).toBe('crate-system');
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://10.96.0.1:443', caFile: path.join(sa, 'ca.crt') });
    expect(JSON.stringify(kc.getCurrentUser())).not.toContain('sa-token-value');
    expect((await headersOf(kc)).Authorization).toBe('Bearer sa-token-value');
    const wsOptions: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(wsOptions as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
    expect(wsOptions.headers?.Authorization).toBe('Bearer sa-token-value');

    // -n wins over the service account's namespace; $KUBERNETES_SA_DIR works too; IPv6 hosts get brackets.
    const e2 = env({ KUBERNETES_SA_DIR: sa, KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' });
    const other = loadKubeConfig({ inCluster: true, namespace: 'x' }, { env: e2, homeDir: home });
    expect(other.namespace).toBe('x');
    expect(other.kc.getCurrentCluster()?.server).toBe('https://[fd00::1]:6443');
  });

  it('uses the service account when no kubeconfig exists but the pod environment does', () => {
    const sa = path.join(dir, 'sa');
    fs.mkdirSync(sa);
    fs.writeFileSync(path.join(sa, 'token'), 't');
    const e = env({ CDK_SA_DIR: sa, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
    const { source, namespace } = loadKubeConfig({}, { env: e, homeDir: home });
    expect(source).toBe('in-cluster');
    expect(namespace).toBe('default');
  });

  it('refuses --in-cluster outside a pod', () => {
    expect(() => loadKubeConfig({ inCluster: true }, { env: env(), homeDir: home })).toThrow(/KUBERNETES_SERVICE_HOST/);
  });
});
