// Discovery: from a StatefulSet, a crate-operator CrateDB resource or a pod to a CrateDBCluster -
// StatefulSets, pods, CrateDB container, node names, master, SQL endpoint and credentials.
import type { V1Container, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { ClusterSql, chooseSqlTransport, livePodInfo, worstHealth } from './cluster-sql.js';
import { podReady } from './wait.js';
import {
  detectPodStrategy,
  detectStrategy,
  findCrateContainer,
  masterEligibleFromArgs,
  nodeNameFromArgs,
  servedSchemeFromManifest,
  type HttpScheme,
} from './detect/index.js';
import { BadInputError, SqlConnectionError, messageOf } from './errors.js';
import type { EngineDeps } from './ports.js';
import {
  AnalyzeInput,
  CrateDBCluster,
  SqlEndpoint,
  type AnalyzeInput as AnalyzeInputT,
  type SqlEndpointOverride,
  type PodInfo,
  type StatefulSetInfo,
} from './schemas.js';
import { byCodeUnits } from './order.js';

const LABEL_NAME = 'app.kubernetes.io/name';
const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
const CRATE_OPERATOR = 'crate-operator';

function selectorOf(sts: V1StatefulSet): string {
  const labels = sts.spec?.selector?.matchLabels ?? {};
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function ordinalOf(podName: string, stsName: string): number {
  const suffix = podName.startsWith(`${stsName}-`)
    ? podName.slice(stsName.length + 1)
    : podName.slice(podName.lastIndexOf('-') + 1);
  const n = Number(suffix);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function isOperatorManaged(sts: V1StatefulSet): boolean {
  return sts.metadata?.labels?.[LABEL_MANAGED_BY] === CRATE_OPERATOR && !!sts.metadata?.labels?.[LABEL_NAME];
}

/** A PodInfo of a live pod of `sts`, before node names are known. */
function podInfoOf(pod: V1Pod, sts: V1StatefulSet, container: V1Container | null): PodInfo {
  const stsName = sts.metadata!.name!;
  const name = pod.metadata!.name!;
  const containerName = container?.name ?? findCrateContainer(pod.spec?.containers ?? [])?.name ?? 'crate';
  const base: PodInfo = {
    name,
    uid: pod.metadata?.uid ?? '',
    statefulSetName: stsName,
    ordinal: ordinalOf(name, stsName),
    nodeName: container ? nodeNameFromArgs(container, name) : null,
    nodeId: null,
    podIP: null,
    ready: podReady(pod),
    phase: null,
    restartCount: 0,
    containerName,
    isMaster: false,
    masterEligible: masterEligibleFromArgs(container ?? findCrateContainer(pod.spec?.containers ?? [])),
    deleting: false,
  };
  return livePodInfo(pod, base);
}

/**
 * A PodInfo of a pod of `sts` that discovery did not list (not there yet, or not found by the selector): not ready, no
 * node known; `known` fills in what the caller knows (uid, node name, master eligibility).
 */
export function unlistedPodInfo(
  sts: StatefulSetInfo,
  name: string,
  ordinal: number,
  known: Partial<Pick<PodInfo, 'uid' | 'nodeName' | 'masterEligible'>> = {},
): PodInfo {
  return {
    name,
    uid: '',
    statefulSetName: sts.name,
    ordinal,
    nodeName: null,
    nodeId: null,
    podIP: null,
    ready: false,
    phase: null,
    restartCount: 0,
    containerName: sts.detection.containerName ?? 'crate',
    isMaster: false,
    deleting: false,
    ...known,
  };
}

/** The SQL endpoint a cluster's pods serve: scheme from the container (http when it cannot tell), crate-operator credentials. */
function endpointOf(
  container: V1Container | null,
  crateDBName: string | null,
  override: SqlEndpointOverride | undefined,
): SqlEndpoint {
  const tls = servedSchemeFromManifest(container).scheme === 'https';
  const port = container?.ports?.find((p) => p.name === 'http' || p.name === 'crate-http')?.containerPort ?? 4200;
  const base = SqlEndpoint.parse({
    scheme: tls ? 'https' : 'http',
    port,
    credentials: crateDBName
      ? { username: 'system', secretName: `user-system-${crateDBName}`, passwordKey: 'password' }
      : null,
    // crate-operator's `system` user is not a superuser: DECOMMISSION must go through exec.
    superuser: crateDBName ? false : null,
  });
  const given = Object.fromEntries(
    Object.entries(override ?? {}).filter(([, v]) => v !== undefined),
  ) as SqlEndpointOverride;
  // Other credentials than the discovered ones: whether that user is a superuser is unknown until asked.
  const superuser =
    given.superuser !== undefined ? given.superuser : given.credentials !== undefined ? null : base.superuser;
  return SqlEndpoint.parse({ ...base, ...given, superuser });
}

/** Discover a CrateDB cluster. Throws BadInputError when the target does not exist. */
export async function analyzeCluster(deps: EngineDeps, rawInput: AnalyzeInputT): Promise<CrateDBCluster> {
  const input = AnalyzeInput.parse(rawInput);
  const { namespace } = input;
  const { log } = deps;
  const named = await targetStatefulSets(deps, input);
  const { all, crateDBName } = await clusterStatefulSets(deps, namespace, named.target, named.crateDBName);
  const targetNames = new Set(named.target.map((s) => s.metadata!.name!));
  const { statefulSets, pods, rawPods, endpointContainer } = await members(deps, namespace, all, targetNames);

  const clusterName = crateDBName ?? named.target[0]!.metadata!.name!;
  const firstInfo = statefulSets.find((s) => targetNames.has(s.name)) ?? statefulSets[0]!;
  const cluster: CrateDBCluster = CrateDBCluster.parse({
    name: clusterName,
    namespace,
    crateDBName,
    statefulSetName: firstInfo.name,
    statefulSets,
    pods,
    expectedNodes: statefulSets.reduce((n, s) => n + s.replicas, 0),
    health: 'UNKNOWN',
    masterNode: null,
    hasPrestopHook: firstInfo.detection.hasPrestopHook,
    hasDcUtil: firstInfo.detection.hasDcUtil,
    dcUtilTimeout: firstInfo.detection.dcUtilTimeoutSeconds,
    sql: endpointOf(endpointContainer, crateDBName, input.sql),
  });

  const transport = chooseSqlTransport(cluster.sql);
  log.info(`SQL transport: ${transport.kind} (${transport.reason})`, {
    sqlTransport: transport.kind,
    sqlTransportMode: cluster.sql.transport,
  });
  const reached = await readFromCrateDB(deps, cluster, servedSchemeFromManifest(endpointContainer).scheme, input);
  detectWithServedScheme(deps, cluster, all, rawPods, reached, targetNames);
  log.info(
    `Cluster ${namespace}/${clusterName}: ${cluster.pods.length} pods in ${statefulSets.length} StatefulSet(s), expected nodes ${cluster.expectedNodes}, master ${cluster.masterNode ?? 'unknown'}, health ${cluster.health}`,
  );
  return cluster;
}

type ParsedAnalyzeInput = ReturnType<typeof AnalyzeInput.parse>;

/** The StatefulSet(s) the target names (a pod's owner, a StatefulSet, a CrateDB resource's); BadInputError when absent. */
async function targetStatefulSets(
  deps: EngineDeps,
  input: ParsedAnalyzeInput,
): Promise<{ target: V1StatefulSet[]; crateDBName: string | null }> {
  const { namespace, kind, name } = input;
  const { kube } = deps;
  if (kind === 'pod') {
    const pod = await kube.getPod(namespace, name);
    if (!pod) throw new BadInputError(`Pod not found: ${name}`);
    const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet');
    if (!owner)
      throw new BadInputError(
        `Pod ${namespace}/${name} is not managed by a StatefulSet; only StatefulSet pods can be decommissioned safely`,
      );
    const sts = await kube.getStatefulSet(namespace, owner.name);
    if (!sts) throw new BadInputError(`StatefulSet not found: ${namespace}/${owner.name}`);
    return { target: [sts], crateDBName: null };
  }
  if (kind === 'statefulset') {
    const sts = await kube.getStatefulSet(namespace, name);
    if (!sts) throw new BadInputError(`StatefulSet not found: ${namespace}/${name}`);
    return { target: [sts], crateDBName: null };
  }
  const resource = await kube.getCrateDB(namespace, name);
  if (!resource)
    throw new BadInputError(
      `CrateDB not found: ${namespace}/${name} (is crate-operator installed, and the name right?)`,
    );
  const target = await kube.listStatefulSets(namespace, `${LABEL_NAME}=${name},${LABEL_MANAGED_BY}=${CRATE_OPERATOR}`);
  if (target.length === 0)
    throw new BadInputError(
      `CrateDB ${namespace}/${name} has no StatefulSets (labels ${LABEL_NAME}=${name}, ${LABEL_MANAGED_BY}=${CRATE_OPERATOR})`,
    );
  return { target, crateDBName: name };
}

/**
 * Every StatefulSet of the target's cluster, by name. A crate-operator StatefulSet belongs to a cluster of several
 * (master + data groups): the node count a healthy cluster has is the sum over all of them.
 */
async function clusterStatefulSets(
  deps: EngineDeps,
  namespace: string,
  target: V1StatefulSet[],
  crateDBName: string | null,
): Promise<{ all: V1StatefulSet[]; crateDBName: string | null }> {
  let all = target;
  const first = target[0]!;
  if (!crateDBName && isOperatorManaged(first)) {
    crateDBName = first.metadata!.labels![LABEL_NAME]!;
    all = await deps.kube.listStatefulSets(
      namespace,
      `${LABEL_NAME}=${crateDBName},${LABEL_MANAGED_BY}=${CRATE_OPERATOR}`,
    );
    if (!all.some((s) => s.metadata?.name === first.metadata?.name)) all = [...all, first];
  }
  all.sort((a, b) => byCodeUnits(a.metadata!.name!, b.metadata!.name!));
  return { all, crateDBName };
}

/** The StatefulSets' infos (template detection) and the pods of the target ones, with the live pods behind them. */
async function members(
  deps: EngineDeps,
  namespace: string,
  all: V1StatefulSet[],
  targetNames: Set<string>,
): Promise<{
  statefulSets: StatefulSetInfo[];
  pods: PodInfo[];
  /** The live pods behind `pods`, for the per-pod detection once the served scheme is known. */
  rawPods: Map<string, { pod: V1Pod; sts: V1StatefulSet }>;
  endpointContainer: V1Container | null;
}> {
  const statefulSets: StatefulSetInfo[] = [];
  const pods: PodInfo[] = [];
  const rawPods = new Map<string, { pod: V1Pod; sts: V1StatefulSet }>();
  let endpointContainer: V1Container | null = null;
  for (const sts of all) {
    const detection = detectStrategy(sts);
    const container = findCrateContainer(sts.spec?.template?.spec?.containers ?? []);
    endpointContainer ??= container;
    const stsName = sts.metadata!.name!;
    statefulSets.push({
      name: stsName,
      uid: sts.metadata?.uid ?? '',
      replicas: sts.spec?.replicas ?? 1,
      selector: selectorOf(sts),
      labels: { ...(sts.metadata?.labels ?? {}) },
      detection,
    });
    if (!targetNames.has(stsName)) continue;
    const found = await deps.kube.listPods(namespace, selectorOf(sts));
    for (const pod of found) {
      const owned = pod.metadata?.ownerReferences?.some(
        (o) => o.kind === 'StatefulSet' && (o.uid === sts.metadata?.uid || o.name === stsName),
      );
      if (!owned) continue;
      const podContainer = findCrateContainer(pod.spec?.containers ?? []) ?? container;
      pods.push(podInfoOf(pod, sts, podContainer));
      rawPods.set(pod.metadata!.name!, { pod, sts });
    }
  }
  pods.sort((a, b) => byCodeUnits(a.statefulSetName, b.statefulSetName) || a.ordinal - b.ordinal);
  return { statefulSets, pods, rawPods, endpointContainer };
}

/**
 * Node names, master and health from CrateDB itself (best effort: the cluster may be down). Returns the scheme
 * CrateDB was reached over (null: not reached). The scheme CrateDB really serves decides whether dc_util's -proto can
 * reach it (issue 8 item 1): when the manifest cannot tell (TLS set in crate.yml) and the caller did not name a
 * scheme, the other scheme is tried once.
 */
async function readFromCrateDB(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  manifestScheme: HttpScheme | null,
  input: ParsedAnalyzeInput,
): Promise<HttpScheme | null> {
  const { log } = deps;
  let reader = new ClusterSql(deps, cluster);
  let reached: HttpScheme | null = null;
  try {
    let nodes;
    try {
      nodes = await reader.nodes(deps.signal);
    } catch (err) {
      if (
        !(err instanceof SqlConnectionError) ||
        manifestScheme !== null ||
        input.sql?.scheme !== undefined ||
        deps.signal?.aborted
      )
        throw err;
      const other: HttpScheme = cluster.sql.scheme === 'https' ? 'http' : 'https';
      log.info(
        `CrateDB did not answer over ${cluster.sql.scheme} (${messageOf(err)}); the manifest cannot tell its scheme, trying ${other}`,
      );
      const retry = { ...cluster, sql: { ...cluster.sql, scheme: other } };
      const otherReader = new ClusterSql(deps, retry);
      nodes = await otherReader.nodes(deps.signal).catch((e2: unknown) => {
        throw new Error(`${messageOf(err)}; over ${other}: ${messageOf(e2)}`);
      });
      cluster.sql = retry.sql;
      reader = otherReader;
    }
    reached = cluster.sql.scheme;
    const masterId = await reader.masterNodeId(deps.signal).catch(() => null);
    for (const pod of cluster.pods) {
      const node = nodes.find((n) => n.hostname === pod.name);
      if (node) {
        pod.nodeName = node.name;
        pod.nodeId = node.id;
        pod.isMaster = node.id === masterId;
      }
    }
    cluster.masterNode = nodes.find((n) => n.id === masterId)?.name ?? null;
    cluster.health = worstHealth(await reader.healthRows(deps.signal));
  } catch (err) {
    log.warn(
      `Could not read sys.nodes of cluster ${cluster.namespace}/${cluster.name}: ${messageOf(err)}; node names come from -Cnode.name`,
    );
  }
  for (const pod of cluster.pods) {
    if (!pod.nodeName) log.warn(`No CrateDB node name known for pod ${pod.name}`);
  }
  return reached;
}

/** Detection per StatefulSet and per pod, now that the scheme CrateDB serves is known (reached) or not (the manifest alone decides). */
function detectWithServedScheme(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  all: V1StatefulSet[],
  rawPods: Map<string, { pod: V1Pod; sts: V1StatefulSet }>,
  reached: HttpScheme | null,
  targetNames: Set<string>,
): void {
  const { log } = deps;
  const { namespace } = cluster;
  if (reached !== null)
    log.info(`CrateDB serves ${reached} on port ${cluster.sql.port} (reached at discovery)`, { servedScheme: reached });
  for (const info of cluster.statefulSets) {
    const sts = all.find((s) => s.metadata?.name === info.name)!;
    if (reached !== null) info.detection = detectStrategy(sts, { servedScheme: reached });
    log.info(`Analyzing decommission strategy for StatefulSet ${namespace}/${info.name}: ${info.detection.strategy}`, {
      statefulSet: info.name,
      strategy: info.detection.strategy,
      reasons: info.detection.reasons,
    });
  }
  for (const info of cluster.pods) {
    const raw = rawPods.get(info.name);
    if (!raw) continue;
    const { templateDisagrees, ...detection } = detectPodStrategy(raw.sts, raw.pod, { servedScheme: reached });
    info.detection = detection;
    if (templateDisagrees) {
      log.warn(`Pod ${namespace}/${info.name}: ${detection.reasons[detection.reasons.length - 1]}`, {
        pod: info.name,
        strategy: detection.strategy,
        reasons: detection.reasons,
      });
    }
  }
  const firstDetection = cluster.statefulSets.find((s) => targetNames.has(s.name))?.detection;
  if (firstDetection) {
    cluster.hasPrestopHook = firstDetection.hasPrestopHook;
    cluster.hasDcUtil = firstDetection.hasDcUtil;
    cluster.dcUtilTimeout = firstDetection.dcUtilTimeoutSeconds;
  }
}
