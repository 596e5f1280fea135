// The real adapters keep the port contracts: the KubernetesPort against a stateful mock API server, the HTTP and
// exec SQL transports against scripted CrateDB answers. No network.
import { KubeConfig } from '@kubernetes/client-node';
import { MockAgent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { kubePortContract } from '../../contract/kube-port.contract.js';
import { sqlTransportContract } from '../../contract/sql-transport.contract.js';
import { createKubernetesPort } from '../../../shared/adapters/kube.js';
import { createExecSqlTransport } from '../../../shared/adapters/sql-exec.js';
import { createHttpSqlTransport } from '../../../shared/adapters/sql-http.js';
import type { ExecResult, KubernetesPort } from '../../../shared/ports.js';
import { MockApiServer } from './mock-apiserver.js';

const API = 'https://kube.contract:6443';

let previous: Dispatcher | undefined;
let apiAgent: MockAgent | undefined;

kubePortContract(
  () => {
    previous = getGlobalDispatcher();
    apiAgent = new MockAgent();
    apiAgent.disableNetConnect();
    setGlobalDispatcher(apiAgent);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: API, skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    return createKubernetesPort(kc, {
      reportingInstance: 'contract',
      watch: { initialBackoffMs: 5, maxBackoffMs: 50, minHealthyWatchMs: 0 },
    });
  },
  () => {
    const server = new MockApiServer(apiAgent!, API);
    let counter = 0;
    return {
      namespace: 'contract',
      uniqueName: (prefix) => `${prefix}-${++counter}`,
      createPod: async (hint) => {
        const pod = server.addPod('contract', `${hint}-${++counter}`);
        return { name: pod.metadata.name, uid: pod.metadata.uid! };
      },
      createStatefulSet: async (hint) => server.addStatefulSet('contract', `${hint}-${++counter}`).metadata.name,
      cleanup: async () => {
        if (previous) setGlobalDispatcher(previous);
        await apiAgent?.close();
      },
    };
  },
  'client-node KubernetesPort keeps the contract (mock API server)',
);

/** A tiny CrateDB: SELECT 1 works, anything else is a parse error. */
function crateAnswer(stmt: string): { status: number; body: unknown } {
  if (stmt.trim().toUpperCase() === 'SELECT 1')
    return { status: 200, body: { cols: ['1'], rows: [[1]], rowcount: 1, duration: 0.3 } };
  return {
    status: 400,
    body: { error: { message: `SQLParseException[line 1:1: mismatched input '${stmt}']`, code: 4000 } },
  };
}

const PASSWORD = 'contract-password-never-shown';
let sqlAgent: MockAgent;

sqlTransportContract(
  () =>
    createHttpSqlTransport({
      url: 'http://10.1.0.5:4200',
      username: 'system',
      password: async () => PASSWORD,
      dispatcher: sqlAgent,
    }),
  () => {
    sqlAgent = new MockAgent();
    sqlAgent.disableNetConnect();
    sqlAgent
      .get('http://10.1.0.5:4200')
      .intercept({ path: '/_sql', method: 'POST' })
      .reply((opts) => {
        const { stmt } = JSON.parse(String(opts.body)) as { stmt: string };
        const answer = crateAnswer(stmt);
        return {
          statusCode: answer.status,
          data: answer.body as object,
          responseOptions: { headers: { 'content-type': 'application/json' } },
        };
      })
      .persist();
    sqlAgent
      .get('http://10.1.0.6:4200')
      .intercept({ path: '/_sql', method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 10.1.0.6:4200'), { code: 'ECONNREFUSED' }))
      .persist();
    return {
      okQuery: { stmt: 'SELECT 1' },
      badQuery: { stmt: 'SELEC 1', httpStatus: 400, code: 4000 },
      secrets: [PASSWORD],
      makeUnreachable: () =>
        createHttpSqlTransport({
          url: 'http://10.1.0.6:4200',
          username: 'system',
          password: PASSWORD,
          dispatcher: sqlAgent,
        }),
      cleanup: () => sqlAgent.close(),
    };
  },
  'HTTP SqlTransport keeps the contract (scripted CrateDB)',
);

/** Only exec is used by the exec transport: run "curl" against the tiny CrateDB, or refuse when the node is down. */
function curlKube(nodeUp: boolean): KubernetesPort {
  const exec = async (
    _ns: string,
    _pod: string,
    _container: string,
    command: string[],
    opts?: { stdin?: string },
  ): Promise<ExecResult> => {
    if (command[0] !== 'curl') return { exitCode: 127, stdout: '', stderr: `${command[0]}: not found` };
    if (!nodeUp)
      return {
        exitCode: 7,
        stdout: '\n000',
        stderr: 'curl: (7) Failed to connect to localhost port 4200: Connection refused',
      };
    const { stmt } = JSON.parse(opts?.stdin ?? '{}') as { stmt: string };
    const answer = crateAnswer(stmt);
    return { exitCode: 0, stdout: `${JSON.stringify(answer.body)}\n${answer.status}`, stderr: '' };
  };
  return { exec } as unknown as KubernetesPort;
}

sqlTransportContract(
  () => createExecSqlTransport({ kube: curlKube(true), namespace: 'crate', pod: 'crate-0', container: 'crate' }),
  () => ({
    okQuery: { stmt: 'SELECT 1' },
    badQuery: { stmt: 'SELEC 1', httpStatus: 400, code: 4000 },
    makeUnreachable: () =>
      createExecSqlTransport({ kube: curlKube(false), namespace: 'crate', pod: 'crate-0', container: 'crate' }),
  }),
  'exec SqlTransport keeps the contract (scripted curl)',
);
