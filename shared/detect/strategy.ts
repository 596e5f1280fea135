// detectStrategy: a walk over the rule table (rules.ts), which is docs/strategy.md's numbered rules one to one.
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { StrategyDetection } from '../schemas.js';
import { MANUAL_DELETE_GRACE_SECONDS } from './constants.js';
import { detectFacts, type DetectFacts, type DetectOptions } from './facts.js';
import { DETECTION_RULES, type RuleDecision } from './rules.js';

/** A sentence of `reasons` and the rule (its function name) that wrote it. */
interface Reason {
  text: string;
  rule: string;
}

/** The `manual` defaults a deciding rule's outcome is laid over. */
function resultOf(f: DetectFacts, decision: RuleDecision, reasons: Reason[]): StrategyDetection {
  return {
    strategy: 'manual',
    hasPrestopHook: false,
    hasDcUtil: false,
    dcUtilTimeoutSeconds: 0,
    dcUtilFlagTimeoutSeconds: 0,
    terminationGracePeriodSeconds: f.graceSeconds,
    deleteGracePeriodSeconds: MANUAL_DELETE_GRACE_SECONDS,
    minAvailability: 'PRIMARIES',
    dcUtilWillNotDecommission: false,
    containerName: null,
    dcUtilProto: null,
    servedScheme: null,
    ...(f.pod ? { podTerminationGracePeriodSeconds: f.podGraceSeconds } : {}),
    ...decision.outcome,
    reasons: reasons.map((r) => r.text),
    reasonRules: reasons.map((r) => r.rule),
  };
}

/**
 * Detect the decommission strategy of a StatefulSet, or of one of its pods (dc_util's own source): walk the rules in
 * order; notes are kept in rule order, the blockers of rules 8-22 follow them, and the first rule that decides ends
 * the walk with its own sentences last.
 */
export function detectStrategy(sts: V1StatefulSet, options: DetectOptions = {}): StrategyDetection {
  const facts = detectFacts(sts, options);
  const notes: Reason[] = [];
  const blockers: Reason[] = [];
  for (const rule of DETECTION_RULES) {
    const verdict = rule.evaluate(
      facts,
      blockers.map((b) => b.text),
    );
    if (!verdict) continue;
    for (const text of verdict.notes ?? []) notes.push({ text, rule: rule.name });
    for (const text of verdict.blockers ?? []) blockers.push({ text, rule: rule.name });
    if (verdict.decision) {
      const own = verdict.decision.reasons.map((text) => ({ text, rule: rule.name }));
      return resultOf(facts, verdict.decision, [...notes, ...blockers, ...own]);
    }
  }
  // Unreachable: rule 1 decides without a container, rules 3-6 without a dc_util call, rule 25 otherwise.
  throw new Error('strategy detection: no rule decided');
}
