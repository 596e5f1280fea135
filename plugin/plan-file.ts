// `plan -f FILE`: offline strategy detection for every StatefulSet in YAML/JSON (multi-document) manifests.
// Input is read as kubectl reads it (files, directories, -R, stdin) and checked as the API server would check it:
// what is not a CrateDB StatefulSet, an unrendered Helm template, a string `replicas` or a broken document is bad
// input (exit 2) with one line saying what and where. The engine flags and -n apply as a what-if.
import YAML from 'yaml';
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node';
import type { StrategyDetection } from '../shared/index.js';
import { findCrateContainer } from '../shared/detect/index.js';
import type { TaskOptions } from '../shared/task/index.js';
import { UsageError } from '../shared/task/index.js';

/** Which decommission a pod of this StatefulSet gets, with the values that govern it. */
interface PlannedDecommission {
  /** dc_util in the preStop hook (kubernetes_managed), or this tool's engine (manual). */
  by: 'dc_util' | 'engine';
  timeoutSeconds: number;
  minAvailability: string;
}

interface PlannedStatefulSet extends StrategyDetection {
  name: string;
  /** The namespace assumed: the manifest's, else -n, else `default`. */
  namespace: string;
  namespaceFrom: 'manifest' | '-n' | 'default';
  replicas: number;
  source: string;
  decommission: PlannedDecommission;
  /** What a user must know before a rollout (a single replica, flags that do not apply). */
  warnings: string[];
}

/** A document that is not planned: a StatefulSet that is not CrateDB, a crate-operator CrateDB resource. */
interface SkippedObject {
  kind: string;
  name: string;
  source: string;
  reason: string;
}

/**
 * What `plan -f` found: every CrateDB StatefulSet planned (and `skipped` when something was left out). One shape
 * whatever the number of StatefulSets; `-o json|yaml` prints it as a kubectl `List` (plugin/commands/plan.ts).
 */
export type PlanFileOutput = { source: string; statefulSets: PlannedStatefulSet[]; skipped?: SkippedObject[] };

/** One input of `plan -f`: its name (file path, `-` for stdin) and text. */
export interface ManifestText {
  source: string;
  text: string;
}

/** The what-if values of `plan -f`: the engine flags and -n as given. */
export interface PlanFileOptions {
  namespace?: string | undefined;
  engine: Pick<TaskOptions, 'decommissionTimeout' | 'minAvailability' | 'allocation'>;
  /** Engine flags given with a non-default value (to say that they do not apply to dc_util). */
  givenFlags: string[];
}

const TEMPLATE =
  /\{\{-?\s*(?:[.$]|(?:if|else|end|range|with|include|template|define|toYaml|tpl|printf|quote|default|required|nindent|indent|lookup)\b)/;

/** The first line holding Go template markers in a text, or null. */
function templateLine(text: string, offset = 0): { line: number; text: string } | null {
  const lines = text.split('\n');
  const before = offset === 0 ? 0 : text.slice(0, offset).split('\n').length - 1;
  for (let i = before; i < lines.length; i++) {
    if (TEMPLATE.test(lines[i] ?? '')) return { line: i + 1, text: (lines[i] ?? '').trim().slice(0, 60) };
  }
  return null;
}

function templateError(source: string, at: { line: number; text: string }): UsageError {
  return new UsageError(
    `${source} is an unrendered Helm template (line ${at.line}: ${at.text})`,
    `Render it first: helm template <release> <chart> | kubectl crate-decommission plan -f -`,
  );
}

/** Every object in the text: YAML or JSON documents, `kind: List` items flattened. Parse errors are UsageError. */
function objectsFromManifest(text: string, source: string): Array<Record<string, unknown>> {
  // logLevel error: no Node warning (e.g. "Keys with collection values will be stringified") for odd input.
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true, logLevel: 'error' });
  const out: Array<Record<string, unknown>> = [];
  const docList = Array.isArray(docs) ? docs : [docs];
  for (const doc of docList) {
    const start = doc.range?.[0] ?? 0;
    const end = doc.range?.[2] ?? text.length;
    const template = templateLine(text.slice(0, end), start);
    const first = doc.errors[0];
    if (first) {
      // A template often is not even valid YAML ({{- if ...}} lines): say it is a template, not where YAML broke.
      if (template) throw templateError(source, template);
      const pos = first.linePos?.[0];
      const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
      throw new UsageError(
        `cannot parse ${source}${where}: ${first.message.split('\n')[0] ?? 'invalid YAML/JSON'}`,
        'Pass a valid YAML or JSON manifest to -f',
      );
    }
    const value = doc.toJS() as unknown;
    const objects: Array<Record<string, unknown>> = [];
    collect(value, objects);
    // Rendered manifests may carry `{{ ... }}` in strings (alert templates); a StatefulSet or CrateDB with them is a template.
    if (template && objects.some((o) => o.kind === 'StatefulSet' || o.kind === 'CrateDB' || typeof o.kind !== 'string'))
      throw templateError(source, template);
    out.push(...objects);
  }
  return out;
}

function collect(value: unknown, out: Array<Record<string, unknown>>): void {
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const v of obj.items) collect(v, out);
    return;
  }
  out.push(obj);
}

function nameOf(obj: Record<string, unknown>, kind: string, source: string): string {
  const name = (obj.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || name === '') {
    throw new UsageError(
      `a ${kind} in ${source} has no metadata.name`,
      `Give the ${kind} a name, as the API server requires`,
    );
  }
  return name;
}

/** spec.replicas as the API server reads it: absent = 1; an integer >= 0; anything else is refused. */
function replicasOf(sts: V1StatefulSet, name: string, source: string): number {
  const v = (sts.spec as { replicas?: unknown } | undefined)?.replicas;
  if (v === undefined || v === null) return 1;
  if (typeof v === 'string') {
    throw new UsageError(
      `StatefulSet ${name} in ${source}: spec.replicas is the string "${v}", not a number; the API server would refuse it`,
      /^\d+$/.test(v.trim()) ? `Write replicas: ${v.trim()} without quotes` : 'Write spec.replicas as a whole number',
    );
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new UsageError(
      `StatefulSet ${name} in ${source}: spec.replicas ${JSON.stringify(v)} is not a whole number >= 0`,
      'Write spec.replicas as a whole number',
    );
  }
  return v;
}

/** crate-operator's StatefulSet names for a CrateDB resource (crate-operator's naming). */
function crateOperatorStatefulSets(cr: Record<string, unknown>, name: string): string[] {
  const nodes = (
    cr.spec as
      { nodes?: { master?: { replicas?: unknown }; data?: Array<{ name?: unknown; replicas?: unknown }> } } | undefined
  )?.nodes;
  const out: string[] = [];
  if (nodes?.master) out.push(`crate-master-${name} (${String(nodes.master.replicas ?? '?')})`);
  for (const d of nodes?.data ?? [])
    out.push(`crate-data-${String(d.name ?? '?')}-${name} (${String(d.replicas ?? '?')})`);
  return out;
}

function notCrateReason(sts: V1StatefulSet): string | null {
  const containers: V1Container[] = sts.spec?.template?.spec?.containers ?? [];
  if (findCrateContainer(containers)) return null;
  const names = containers.map((c) => c.name).join(', ');
  return `not CrateDB: ${names ? `containers: ${names}` : 'no containers'}, none is named crate, runs a crate image or exposes port 4200`;
}

/** Detect the strategy of every StatefulSet in the manifests. Nothing plannable -> UsageError. */
export function planFromManifests(
  inputs: ManifestText[],
  detect: (sts: V1StatefulSet) => StrategyDetection,
  options: PlanFileOptions,
): PlanFileOutput {
  const planned: PlannedStatefulSet[] = [];
  const skipped: SkippedObject[] = [];
  const problems: string[] = [];
  for (const { source, text } of inputs) {
    for (const obj of objectsFromManifest(text, source)) {
      if (obj.kind === 'CrateDB') {
        const name = nameOf(obj, 'CrateDB', source);
        const ns = (obj.metadata as { namespace?: unknown } | undefined)?.namespace;
        const nsText = typeof ns === 'string' ? ns : (options.namespace ?? '<namespace>');
        const sets = crateOperatorStatefulSets(obj, name);
        const reason =
          `CrateDB ${nsText}/${name} stands for the StatefulSets ${sets.join(', ') || '(none: no spec.nodes)'}, whose pod templates crate-operator builds itself: ` +
          `they cannot be planned from the CrateDB resource. Plan the live cluster: kubectl crate-decommission plan cratedb/${name} -n ${nsText}, ` +
          `or what crate-operator created: kubectl get sts -n ${nsText} -l app.kubernetes.io/name=${name} -o yaml | kubectl crate-decommission plan -f -`;
        skipped.push({ kind: 'CrateDB', name, source, reason });
        problems.push(reason);
        continue;
      }
      if (obj.kind !== 'StatefulSet') continue;
      const sts = obj as V1StatefulSet;
      const name = nameOf(obj, 'StatefulSet', source);
      const notCrate = notCrateReason(sts);
      if (notCrate) {
        skipped.push({ kind: 'StatefulSet', name, source, reason: notCrate });
        problems.push(`StatefulSet ${name} in ${source} is ${notCrate}`);
        continue;
      }
      const replicas = replicasOf(sts, name, source);
      const manifestNs =
        typeof sts.metadata?.namespace === 'string' && sts.metadata.namespace !== ''
          ? sts.metadata.namespace
          : undefined;
      if (manifestNs !== undefined && options.namespace !== undefined && manifestNs !== options.namespace) {
        throw new UsageError(
          `the namespace "${manifestNs}" of StatefulSet ${name} in ${source} does not match the namespace "${options.namespace}" given with -n`,
          `Pass -n ${manifestNs}, or drop -n`,
        );
      }
      let detection: StrategyDetection;
      try {
        detection = detect(sts);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new UsageError(
          `cannot analyse StatefulSet ${name} in ${source}: ${msg}`,
          'Check that the manifest is a complete StatefulSet',
        );
      }
      const managed = detection.strategy === 'kubernetes_managed';
      const warnings: string[] = [];
      if (replicas === 0) warnings.push('0 replicas: there is no pod to restart');
      if (replicas === 1) {
        warnings.push(
          '1 replica: restarting its only node makes every table unavailable until it is back (no other node holds a copy); dc_util skips the decommission',
        );
      }
      const notApplying = options.givenFlags;
      if (managed && notApplying.length > 0) {
        warnings.push(
          `${notApplying.join(' and ')} do${notApplying.length === 1 ? 'es' : ''} not apply here: dc_util decommissions these pods with its own timeout and min availability (shown above)`,
        );
      }
      planned.push({
        name,
        ...detection,
        namespace: manifestNs ?? options.namespace ?? 'default',
        namespaceFrom: manifestNs !== undefined ? 'manifest' : options.namespace !== undefined ? '-n' : 'default',
        replicas,
        source,
        decommission: managed
          ? {
              by: 'dc_util',
              timeoutSeconds: detection.dcUtilTimeoutSeconds,
              minAvailability: detection.minAvailability,
            }
          : {
              by: 'engine',
              timeoutSeconds: options.engine.decommissionTimeout,
              minAvailability: options.engine.minAvailability,
            },
        warnings,
      });
    }
  }
  const source = inputs.map((i) => i.source).join(', ');
  if (planned.length === 0) {
    if (problems[0] !== undefined)
      throw new UsageError(
        problems[0],
        problems.length > 1
          ? `${problems.length - 1} more object(s) left out for the same kind of reason; pass a manifest holding a CrateDB StatefulSet`
          : 'Pass a manifest holding a CrateDB StatefulSet',
      );
    throw new UsageError(
      `no StatefulSet found in ${source || 'the input'}`,
      'Pass a manifest holding a StatefulSet (kind: StatefulSet)',
    );
  }
  return { source, statefulSets: planned, ...(skipped.length > 0 ? { skipped } : {}) };
}

/** One input text (the old single-file entry point). */
export function planFromManifest(
  text: string,
  source: string,
  detect: (sts: V1StatefulSet) => StrategyDetection,
  options?: PlanFileOptions,
): PlanFileOutput {
  return planFromManifests(
    [{ source, text }],
    detect,
    options ?? {
      engine: { decommissionTimeout: 720, minAvailability: 'PRIMARIES', allocation: 'primaries' },
      givenFlags: [],
    },
  );
}

/** A URL given to -f: refused (plan -f is offline). */
function isUrl(arg: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg);
}

/** kubectl's manifest extensions in a directory. */
const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Expand -f arguments into texts as kubectl does: `-` is stdin (once), a directory gives its .yaml/.yml/.json files
 * in name order (subdirectories with -R), a URL is refused. Read errors are UsageError naming the path.
 */
export async function readManifests(
  args: string[],
  recursive: boolean,
  io: {
    readFile(path: string): Promise<string>;
    listDir(path: string): Promise<Array<{ name: string; directory: boolean }>>;
  },
  problem: (err: unknown) => string,
): Promise<ManifestText[]> {
  const out: ManifestText[] = [];
  if (args.filter((a) => a === '-').length > 1)
    throw new UsageError('-f - was given more than once', 'stdin can be read once');
  const readPath = async (path: string, top: boolean): Promise<void> => {
    try {
      out.push({ source: path === '-' ? 'stdin' : path, text: await io.readFile(path) });
      return;
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'EISDIR') {
        throw new UsageError(
          `cannot read ${top ? 'file' : 'manifest'} "${path}": ${problem(err)}`,
          'Pass a readable YAML or JSON file (or a directory of them) to -f',
        );
      }
    }
    let entries: Array<{ name: string; directory: boolean }>;
    try {
      entries = await io.listDir(path);
    } catch (err) {
      throw new UsageError(`cannot read directory "${path}": ${problem(err)}`, 'Pass a readable directory to -f');
    }
    const base = path.replace(/\/+$/, '');
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = `${base}/${e.name}`;
      if (e.directory) {
        if (recursive) await readPath(child, false);
      } else if (MANIFEST_EXTENSIONS.some((x) => e.name.endsWith(x))) {
        await readPath(child, false);
      }
    }
  };
  for (const arg of args) {
    if (isUrl(arg)) {
      throw new UsageError(
        `plan -f reads local files only (it works offline) and does not fetch "${arg}"`,
        `Download it first: curl -fsSL ${arg} | kubectl crate-decommission plan -f -`,
      );
    }
    const before = out.length;
    await readPath(arg, true);
    if (out.length === before)
      throw new UsageError(
        `no StatefulSet found in ${arg}: it holds no .yaml, .yml or .json file${recursive ? '' : ' (subdirectories need -R)'}`,
        'Pass a manifest holding a StatefulSet (kind: StatefulSet)',
      );
  }
  return out;
}
