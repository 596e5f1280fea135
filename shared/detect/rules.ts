// The detection rules, one named function per numbered rule of docs/strategy.md ("Rules"), in the order
// detectStrategy walks them. A rule reads the facts (facts.ts) and returns what it adds:
// - `notes`: sentences for `reasons` (information; they keep the order of the rules),
// - `blockers`: why dc_util will not decommission; they are written after all notes, and rule 23 then decides
//   `manual`,
// - `decision`: the result; the walk ends there and the decision's own sentences come last.
// Every sentence is tagged with the rule's function name (StrategyDetection.reasonRules), which `plan` prints.
import type { StrategyDetection } from '../schemas.js';
import {
  DC_UTIL_DEFAULT_MIN_AVAILABILITY,
  DC_UTIL_DEFAULT_NODE_PREFIX,
  DC_UTIL_DEFAULT_PROTO,
  DC_UTIL_DEFAULT_TIMEOUT,
  DC_UTIL_GRACE_BUFFER_SECONDS,
  DC_UTIL_MIN_TIMEOUT_SECONDS,
  DELETE_GRACE_MARGIN_SECONDS,
  KUBERNETES_DEFAULT_GRACE_SECONDS,
  LABEL_DC_UTIL_DISABLED,
  LABEL_DC_UTIL_MIN_AVAILABILITY,
  MANUAL_DELETE_GRACE_SECONDS,
} from './constants.js';
import { describeCrateContainerChoice } from './container.js';
import { crateAcceptsTimeValue, parseGoDuration } from './duration.js';
import { asMinAvailability, type DcUtilFacts, type DetectFacts, type MinAvailabilityValue } from './facts.js';
import type { DcUtilFlags } from './flags.js';
import { dcUtilNodeName, nodeNameFromArgs } from './nodename.js';
import { basename } from './prestop.js';
import { kubernetesManagedDeleteGraceSeconds } from './timeout.js';

/** The result a deciding rule gives; fields left out take the `manual` defaults (detectStrategy). */
export interface RuleDecision {
  outcome: Partial<StrategyDetection>;
  reasons: string[];
}

interface RuleVerdict {
  notes?: string[];
  blockers?: string[];
  decision?: RuleDecision;
}

/** One numbered rule of docs/strategy.md. `blockers`: those rules 8-22 found so far (rule 23 reads them). */
type DetectionRuleFn = (facts: DetectFacts, blockers: readonly string[]) => RuleVerdict | null;

export interface DetectionRule {
  /** The rule's number in docs/strategy.md. */
  number: number;
  /** The function's name: what `reasonRules` and docs/strategy.md call the rule. */
  name: string;
  evaluate: DetectionRuleFn;
}

/** A flag as written with its value: `-proto http`, `--proto=http`. */
function spelledFlag(flags: DcUtilFlags, name: string, value: string): string {
  const spelling = flags.spelling.get(name) ?? `-${name}`;
  return spelling.includes('=') ? spelling : `${spelling} ${value}`;
}

function describeCall(d: DcUtilFacts, containerName: string): string {
  const call = d.call;
  const args = call.args.map((a) => a.text).join(' ');
  const how = call.viaShell ? 'through a shell' : 'directly';
  return `preStop hook of container ${containerName} runs ${basename(call.program)}${args ? ` ${args}` : ''} (${how})`;
}

/** The fields of a `manual` result once dc_util runs (rules 23 and 24). */
function dcUtilManualOutcome(f: DetectFacts, d: DcUtilFacts, skips: boolean): Partial<StrategyDetection> {
  return {
    containerName: f.container?.name ?? null,
    hasPrestopHook: true,
    hasDcUtil: true,
    dcUtilWillNotDecommission: skips,
    dcUtilTimeoutSeconds: d.effectiveTimeoutSeconds,
    dcUtilFlagTimeoutSeconds: d.flagTimeoutSeconds,
    minAvailability: d.minAvailability,
    dcUtilProto: d.dcUtilProto,
    servedScheme: f.served,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules 1-6: is there a CrateDB container, a preStop hook, a dc_util that runs?

/** Rule 1: no CrateDB container: nothing to decommission (`unknown`). */
function noCrateContainer(f: DetectFacts): RuleVerdict | null {
  if (f.container) return null;
  const names = f.containers.map((c) => c.name).join(', ');
  const where = f.pod ? `pod ${f.samplePod}` : 'pod template';
  return {
    decision: {
      outcome: { strategy: 'unknown' },
      reasons: [
        `no CrateDB container in the ${where} (${names ? `containers: ${names}` : 'no containers'}): none is named crate, runs a crate image or exposes port 4200`,
      ],
    },
  };
}

/** Rule 2: which container is CrateDB (said only when it is not the one named crate). */
function crateContainerChoice(f: DetectFacts): RuleVerdict | null {
  if (!f.container || f.container.name === 'crate') return null;
  return { notes: [`CrateDB container: ${describeCrateContainerChoice(f.container)}`] };
}

/** Rule 3: no preStop hook: nothing decommissions on SIGTERM. */
function noPreStopHook(f: DetectFacts): RuleVerdict | null {
  if (!f.container || f.preStop) return null;
  return {
    decision: {
      outcome: { containerName: f.container.name },
      reasons: [`container ${f.container.name} has no preStop hook: we decommission the node ourselves`],
    },
  };
}

/** Rule 4: a hook that is not an exec, or an exec that runs other programs only. */
function preStopHookWithoutDcUtil(f: DetectFacts): RuleVerdict | null {
  const { container, preStop, scan } = f;
  if (!container || !preStop) return null;
  const outcome = { containerName: container.name, hasPrestopHook: true };
  if (!preStop.exec || f.command.length === 0) {
    const kind = preStop.httpGet ? 'httpGet' : preStop.sleep ? 'sleep' : preStop.tcpSocket ? 'tcpSocket' : 'empty exec';
    return {
      decision: {
        outcome,
        reasons: [
          `preStop hook of container ${container.name} is ${kind}, not dc_util: it does not decommission, so we do`,
        ],
      },
    };
  }
  if (!scan || scan.calls.length > 0 || scan.mentionedOnly) return null;
  const programs = [...new Set(scan.otherPrograms)].join(', ');
  return {
    decision: {
      outcome,
      reasons: [
        `preStop hook of container ${container.name} runs ${programs || 'a command'}, not dc_util: it does not decommission, so we do`,
      ],
    },
  };
}

/** Rule 5: dc_util is only mentioned (downloaded, chmod'ed, checksummed), never run. */
function dcUtilOnlyMentioned(f: DetectFacts): RuleVerdict | null {
  if (!f.container || !f.scan?.mentionedOnly) return null;
  const others = [...new Set(f.scan.otherPrograms)].join(', ') || 'other commands';
  return {
    decision: {
      outcome: { containerName: f.container.name, hasPrestopHook: true },
      reasons: [
        `preStop hook of container ${f.container.name} mentions dc_util but never runs it (only ${others}): it does not decommission, so we do`,
      ],
    },
  };
}

/** Rule 6: dc_util runs only with -reset-routing (its postStart mode). */
function dcUtilOnlyResetsRouting(f: DetectFacts): RuleVerdict | null {
  const first = f.scan?.calls[0];
  if (!f.container || f.dcUtil || !first) return null;
  return {
    decision: {
      outcome: {
        containerName: f.container.name,
        hasPrestopHook: true,
        hasDcUtil: true,
        dcUtilWillNotDecommission: true,
      },
      reasons: [
        `preStop hook of container ${f.container.name} runs ${basename(first.program)} only with --reset-routing (its postStart mode): that does not decommission, so we do`,
      ],
    },
  };
}

/** Rule 7: a command whose program is dc_util (how it is reached is in the sentence). */
function dcUtilCommand(f: DetectFacts): RuleVerdict | null {
  if (!f.container || !f.dcUtil) return null;
  return { notes: [describeCall(f.dcUtil, f.container.name)] };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules 8-22: dc_util runs; does it decommission this node?

/** Rule 8: Go's flag package rejects the command line, or is asked for -help: dc_util exits first. */
function commandLineRejected(f: DetectFacts): RuleVerdict | null {
  const flags = f.dcUtil?.flags;
  if (!flags) return null;
  const blockers: string[] = [];
  if (flags.error !== null)
    blockers.push(`dc_util rejects its command line (${flags.error}) and exits before decommissioning`);
  if (flags.help) blockers.push('dc_util is asked for -help: it prints its usage and exits without decommissioning');
  return { blockers };
}

/** Rule 9: exec'd without a shell, a program name with shell syntax (`${ARCH}`) is never expanded. */
function programNotExpanded(f: DetectFacts): RuleVerdict | null {
  const call = f.dcUtil?.call;
  if (!call?.unexpandedProgram) return null;
  return { blockers: [`the hook execs ${call.program} without a shell, so nothing expands it and the exec fails`] };
}

/** Rule 10: -dry-run: dc_util only logs. */
function dryRun(f: DetectFacts): RuleVerdict | null {
  const flags = f.dcUtil?.flags;
  if (flags?.values.get('dry-run') !== 'true') return null;
  return { blockers: [`${flags.spelling.get('dry-run') ?? '--dry-run'}: dc_util only logs, it does not decommission`] };
}

function spelledProto(d: DcUtilFacts): string {
  return d.flags.values.has('proto')
    ? spelledFlag(d.flags, 'proto', d.protoText ?? '(not computable)')
    : `no -proto flag: dc_util's default ${DC_UTIL_DEFAULT_PROTO}`;
}

/** Rule 11: dc_util's -proto must be the scheme CrateDB serves on 4200 (it always posts to 127.0.0.1:4200/_sql). */
function dcUtilProto(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d) return null;
  const { protoText, dcUtilProto } = d;
  if (protoText === null) {
    return {
      blockers: [
        `the ${d.flags.spelling.get('proto') ?? '-proto'} value cannot be computed from the manifest: dc_util may post to a scheme CrateDB does not serve`,
      ],
    };
  }
  const spelled = spelledProto(d);
  if (dcUtilProto === null) {
    return {
      blockers: [
        `${spelled}: dc_util would post to ${protoText}://127.0.0.1:4200/_sql, which is neither http nor https, and fail before decommissioning`,
      ],
    };
  }
  if (f.served === null) return null; // rule 12
  if (f.served !== dcUtilProto) {
    return {
      blockers: [
        `dc_util posts to ${dcUtilProto}://127.0.0.1:4200 (${spelled}), but CrateDB serves ${f.served} (${f.servedReason}): dc_util cannot connect, and the node would get a plain SIGTERM without a drain`,
      ],
    };
  }
  return {
    notes: [
      `dc_util posts to ${dcUtilProto}://127.0.0.1:4200 (${spelled}), the scheme CrateDB serves (${f.servedReason})`,
    ],
  };
}

/** Rule 12: the manifest cannot tell which scheme CrateDB serves (TLS may be set in crate.yml). */
function servedSchemeUnknown(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d?.dcUtilProto || d.protoText === null || f.served !== null) return null;
  return {
    blockers: [
      `dc_util posts to ${d.dcUtilProto}://127.0.0.1:4200 (${spelledProto(d)}), but the manifest cannot tell which scheme CrateDB serves (${f.servedReason}); decided at discovery from the scheme the engine really reaches, until then we decommission ourselves`,
    ],
  };
}

/** Rule 13: `sh -c '<script>' a b`: the words after the script are $0, $1.. of the shell, not dc_util's flags. */
function shellScriptArgumentsIgnored(f: DetectFacts): RuleVerdict | null {
  const ignored = f.dcUtil?.call.ignoredShellArgs ?? [];
  if (ignored.length === 0) return null;
  return {
    notes: [`the words after the sh -c script (${ignored.join(' ')}) become $0, $1.. of the shell, not dc_util flags`],
  };
}

/** Rule 14: `|| true`, an `&&` chain before dc_util, or `&`: information only, the strategy does not change. */
function dcUtilMayFailSilently(f: DetectFacts): RuleVerdict | null {
  const call = f.dcUtil?.call;
  if (!call) return null;
  const program = basename(call.program);
  const notes: string[] = [];
  if (call.orTrue) {
    notes.push(
      `${program} ends in "|| true"${call.afterAnd ? ' after a chain of && commands (download, checksum)' : ''}: if any step fails the pod only gets a plain SIGTERM`,
    );
  } else if (call.afterAnd) {
    notes.push(`${program} runs only if the && commands before it (download, checksum) succeed`);
  }
  if (call.background) notes.push(`${program} is started in the background (&): the hook does not wait for it`);
  return { notes };
}

/** Rule 15: -timeout is not a Go duration: dc_util's flag parsing fails before it decommissions. */
function timeoutNotGoDuration(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d) return null;
  if (d.timeoutText === null) {
    return {
      notes: [
        `the ${d.flags.spelling.get('timeout') ?? '-timeout'} value cannot be computed from the manifest; assuming dc_util's default ${DC_UTIL_DEFAULT_TIMEOUT}`,
      ],
    };
  }
  if (!d.timeoutValid) {
    return {
      blockers: [
        `-timeout ${JSON.stringify(d.timeoutText)} is not a valid Go duration: dc_util fails before decommissioning`,
      ],
    };
  }
  return d.flags.values.has('timeout')
    ? null
    : { notes: [`no -timeout flag: dc_util's default ${DC_UTIL_DEFAULT_TIMEOUT}`] };
}

/** Rule 16: which timeout dc_util uses: the flag when the grace period is unset or 30, else grace - 120 (>= 360). */
function effectiveTimeout(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d) return null;
  const { graceSeconds } = f;
  if (graceSeconds === null || graceSeconds === KUBERNETES_DEFAULT_GRACE_SECONDS) {
    return {
      notes: [
        `terminationGracePeriodSeconds ${graceSeconds === null ? 'unset' : '30'}, so dc_util uses its -timeout flag: ${d.flagTimeoutSeconds}s`,
      ],
    };
  }
  const ruleSeconds = graceSeconds - DC_UTIL_GRACE_BUFFER_SECONDS;
  const flag = d.timeoutText ?? 'unknown';
  return {
    notes: [
      ruleSeconds >= DC_UTIL_MIN_TIMEOUT_SECONDS
        ? `terminationGracePeriodSeconds ${graceSeconds} != 30, so dc_util uses ${graceSeconds}-120 = ${d.effectiveTimeoutSeconds}s (its own rule), not the ${flag} flag`
        : `terminationGracePeriodSeconds ${graceSeconds} != 30, so dc_util uses ${graceSeconds}-120 = ${ruleSeconds}s raised to its minimum ${DC_UTIL_MIN_TIMEOUT_SECONDS}s (its own rule), not the ${flag} flag`,
    ],
  };
}

/**
 * Rule 17: dc_util uses its -timeout flag and passes it verbatim to SET GLOBAL "cluster.graceful_stop.timeout"; a
 * Go-only form (1h30m, 1.5h, 500us) makes CrateDB reject the statement, and dc_util fails.
 */
function timeoutNotCrateTimeValue(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  const text = d?.timeoutText ?? null;
  if (!d?.usesFlag || text === null || parseGoDuration(text) === null || crateAcceptsTimeValue(text)) return null;
  return {
    blockers: [
      `dc_util passes -timeout ${text} verbatim to SET GLOBAL "cluster.graceful_stop.timeout", which CrateDB rejects (one integer and one unit only): dc_util fails before decommissioning`,
    ],
  };
}

/**
 * dc_util whose effective min_availability is NONE moves no shard away before the node stops: that is not a
 * decommission, so the engine does it itself (`manual`). Returns the blocker sentence, or null when dc_util drains.
 * Kept as its own function (rule 18): a later exception (the tool setting the label itself for a restart without
 * relocation, measured on CrateDB 6.4.3) belongs here.
 */
export function minAvailabilityNoneBlocker(effective: MinAvailabilityValue, source: string): string | null {
  if (effective !== 'NONE') return null;
  return `dc_util's effective min_availability is NONE (${source}): its decommission moves no shard off the node, so the node would leave undrained`;
}

/** The notes on where dc_util's min_availability comes from: a valid label wins over -min-availability. */
function minAvailabilityNotes(f: DetectFacts, d: DcUtilFacts): string[] {
  const label = f.labels[LABEL_DC_UTIL_MIN_AVAILABILITY];
  if (d.minLabel !== null)
    return [`label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=${d.minLabel} overrides dc_util's -min-availability`];
  const notes: string[] = [];
  if (label !== undefined) {
    notes.push(
      `label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=${label} is not NONE, PRIMARIES or FULL (dc_util compares it exactly): ignored`,
    );
  }
  if (d.minText === null) {
    notes.push(`the -min-availability value cannot be computed from the manifest; assuming dc_util's default FULL`);
  } else if (asMinAvailability(d.minText) === null) {
    notes.push(
      `-min-availability ${d.minText} is not NONE, PRIMARIES or FULL: CrateDB silently treats it as NONE (no shard moves away)`,
    );
  } else if (!d.flags.values.has('min-availability')) {
    notes.push(`no -min-availability flag: dc_util's default ${DC_UTIL_DEFAULT_MIN_AVAILABILITY}`);
  }
  return notes;
}

/**
 * Rule 18: dc_util's effective min_availability is NONE (or cannot be computed): its decommission drains nothing.
 * Exception: the tool's own marked NONE label (facts.labels holds the value before; the note says so).
 */
function minAvailabilityNone(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d) return null;
  const source =
    d.minLabel !== null
      ? `label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=${d.minLabel}`
      : d.minText === null
        ? 'not computable'
        : `${spelledFlag(d.flags, 'min-availability', d.minText)}${asMinAvailability(d.minText) === null ? ', which CrateDB reads as none' : ''}`;
  const blockers: string[] = [];
  const none = minAvailabilityNoneBlocker(d.minAvailability, source);
  if (none) blockers.push(none);
  if (d.minText === null && d.minLabel === null) {
    blockers.push(`the -min-availability value cannot be computed from the manifest: it may be NONE (no shard moves)`);
  }
  return { notes: [...(f.ownNoneNote ? [f.ownNoneNote] : []), ...minAvailabilityNotes(f, d)], blockers };
}

/** The node name dc_util derives from the hostname (not from -Cnode.name); undefined when it cannot be computed. */
function dcUtilNodeNameOf(f: DetectFacts, d: DcUtilFacts): { hostname: string; name: string | null } | undefined {
  const hostname = d.flags.values.has('hostname') ? (d.flags.values.get('hostname') ?? null) : f.samplePod;
  const prefix = d.flags.values.get('crate-node-prefix');
  if (hostname === null || f.samplePod === null || prefix === null) return undefined;
  return { hostname, name: dcUtilNodeName(hostname, prefix ?? DC_UTIL_DEFAULT_NODE_PREFIX) };
}

/** Rule 19: dc_util cannot derive a node name from the pod name (its extractNodeName fails). */
function nodeNameNotDerivable(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  const derived = d ? dcUtilNodeNameOf(f, d) : undefined;
  if (!derived || derived.name !== null) return null;
  return {
    blockers: [
      `dc_util cannot derive a node name from pod ${derived.hostname} with its default prefix ${DC_UTIL_DEFAULT_NODE_PREFIX} (it expects crate-data-hot-...-<n>; set --crate-node-prefix): it fails before decommissioning`,
    ],
  };
}

/** Rule 20: the node dc_util would decommission is not this pod's -Cnode.name. */
function nodeNameMismatch(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  const derived = d ? dcUtilNodeNameOf(f, d) : undefined;
  if (!f.container || f.samplePod === null || !derived?.name) return null;
  const actual = nodeNameFromArgs(f.container, f.samplePod);
  if (actual === null || actual.toLowerCase() === derived.name.toLowerCase()) return null;
  return {
    blockers: [
      `dc_util would decommission node ${derived.name} for pod ${f.samplePod}, but the pod's -Cnode.name is ${actual}: it would not drain this node`,
    ],
  };
}

/** Rule 21: spec.replicas <= 1 (unset means 1): dc_util skips single-node and scaled-to-zero StatefulSets. */
function singleReplica(f: DetectFacts): RuleVerdict | null {
  if (!f.dcUtil || f.replicas > 1) return null;
  return {
    blockers: [
      `spec.replicas ${f.sts.spec?.replicas === undefined ? 'unset (1)' : f.replicas} <= 1: dc_util skips the decommission`,
    ],
  };
}

/** Rule 22: label dc-util-disabled=true in any case: dc_util exits 0 without decommissioning. */
function dcUtilDisabledLabel(f: DetectFacts): RuleVerdict | null {
  const disabled = f.labels[LABEL_DC_UTIL_DISABLED];
  if (!f.dcUtil || disabled === undefined || disabled.toLowerCase() !== 'true') return null;
  return { blockers: [`label ${LABEL_DC_UTIL_DISABLED}=${disabled}: dc_util will skip the decommission`] };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules 23-25: the decision once dc_util runs

/** Rule 23: any of rules 8-22 applies: dc_util will not decommission, we do (`manual`, dcUtilWillNotDecommission). */
function dcUtilWillNotDecommission(f: DetectFacts, blockers: readonly string[]): RuleVerdict | null {
  if (!f.dcUtil || blockers.length === 0) return null;
  return {
    decision: {
      outcome: dcUtilManualOutcome(f, f.dcUtil, true),
      reasons: [
        `dc_util will not decommission: we decommission the node ourselves and delete the pod with a ${MANUAL_DELETE_GRACE_SECONDS}s grace period once the CrateDB process has exited`,
      ],
    },
  };
}

/**
 * Rule 24: dc_util uses its -timeout flag but the value cannot be computed (e.g. read from a file): no delete grace
 * period is known to cover its decommission, and one that ends first would SIGKILL the node in the middle of it.
 */
function timeoutNotComputable(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d || !d.usesFlag || d.timeoutText !== null) return null;
  return {
    decision: {
      outcome: dcUtilManualOutcome(f, d, false),
      reasons: [
        `dc_util's -timeout applies but cannot be computed: no grace period is known to cover its decommission, so we decommission the node ourselves and delete the pod with a ${MANUAL_DELETE_GRACE_SECONDS}s grace period once the CrateDB process has exited`,
      ],
    },
  };
}

/** Rule 25: none of rules 8-24 applies: dc_util decommissions (`kubernetes_managed`); the delete grace covers it. */
function dcUtilDecommissions(f: DetectFacts): RuleVerdict | null {
  const d = f.dcUtil;
  if (!d || !f.container) return null;
  const effectiveSeconds = d.effectiveTimeoutSeconds;
  const { podGraceSeconds } = f;
  const deleteGraceSeconds = kubernetesManagedDeleteGraceSeconds(effectiveSeconds, podGraceSeconds);
  const raised =
    deleteGraceSeconds > effectiveSeconds + DELETE_GRACE_MARGIN_SECONDS
      ? `, raised to the pod's terminationGracePeriodSeconds ${podGraceSeconds}`
      : '';
  const reasons = [
    `${f.pod ? `pod ${f.samplePod} is` : 'pods are'} deleted with a ${deleteGraceSeconds}s grace period (dc_util's ${effectiveSeconds}s + ${DELETE_GRACE_MARGIN_SECONDS}s${raised})`,
  ];
  const ownGraceSeconds = podGraceSeconds ?? KUBERNETES_DEFAULT_GRACE_SECONDS;
  if (ownGraceSeconds < effectiveSeconds) {
    reasons.push(
      `warning: the pod's own terminationGracePeriodSeconds ${podGraceSeconds === null ? 'unset (30)' : ownGraceSeconds} is shorter than dc_util's ${effectiveSeconds}s: a drain or eviction (not this tool) kills the node mid-decommission`,
    );
  }
  return {
    decision: {
      outcome: {
        strategy: 'kubernetes_managed',
        hasPrestopHook: true,
        hasDcUtil: true,
        dcUtilTimeoutSeconds: effectiveSeconds,
        dcUtilFlagTimeoutSeconds: d.flagTimeoutSeconds,
        deleteGracePeriodSeconds: deleteGraceSeconds,
        minAvailability: d.minAvailability,
        dcUtilWillNotDecommission: false,
        containerName: f.container.name,
        dcUtilProto: d.dcUtilProto,
        servedScheme: f.served,
      },
      reasons,
    },
  };
}

/** The rule table: docs/strategy.md's numbered rules, one to one, in the order detectStrategy walks them. */
export const DETECTION_RULES: readonly DetectionRule[] = [
  noCrateContainer,
  crateContainerChoice,
  noPreStopHook,
  preStopHookWithoutDcUtil,
  dcUtilOnlyMentioned,
  dcUtilOnlyResetsRouting,
  dcUtilCommand,
  commandLineRejected,
  programNotExpanded,
  dryRun,
  dcUtilProto,
  servedSchemeUnknown,
  shellScriptArgumentsIgnored,
  dcUtilMayFailSilently,
  timeoutNotGoDuration,
  effectiveTimeout,
  timeoutNotCrateTimeValue,
  minAvailabilityNone,
  nodeNameNotDerivable,
  nodeNameMismatch,
  singleReplica,
  dcUtilDisabledLabel,
  dcUtilWillNotDecommission,
  timeoutNotComputable,
  dcUtilDecommissions,
].map((evaluate: DetectionRuleFn, index) => ({ number: index + 1, name: evaluate.name, evaluate }));
