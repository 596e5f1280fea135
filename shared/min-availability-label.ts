// dc_util's `dc-util-min-availability` StatefulSet label and this tool's mark beside it (issue 9 item 1). The tool
// sets the label to NONE for a restart without relocation (kubernetes_managed), with the mark holding the value
// before; detection treats such a marked NONE as the tool's own, intended value and detects with the value before,
// while a NONE without the mark (a user's) stays a misconfiguration (docs/strategy.md rule on min_availability NONE).

/** dc_util reads this StatefulSet label in preStop; NONE, PRIMARIES or FULL (exact) overrides its flag. */
export const LABEL_DC_UTIL_MIN_AVAILABILITY = 'dc-util-min-availability';
/** Set by this tool together with `dc-util-min-availability=NONE` (one merge patch): the value before, `unset` for none. */
export const LABEL_MIN_AVAILABILITY_BEFORE = 'crate-decommission.crate.io/dc-util-min-availability-before';
export const MARK_UNSET = 'unset';

/**
 * The labels as dc_util would read them without this tool's own NONE: when `dc-util-min-availability` is NONE and
 * carries the tool's mark, the label's value before (removed when it had none), and a note saying so; else the
 * labels unchanged and no note.
 */
export function withoutOwnNoneLabel(labels: Record<string, string>): {
  labels: Record<string, string>;
  note: string | null;
} {
  const mark = labels[LABEL_MIN_AVAILABILITY_BEFORE];
  if (mark === undefined || labels[LABEL_DC_UTIL_MIN_AVAILABILITY] !== 'NONE') return { labels, note: null };
  const out = { ...labels };
  if (mark === MARK_UNSET) delete out[LABEL_DC_UTIL_MIN_AVAILABILITY];
  else out[LABEL_DC_UTIL_MIN_AVAILABILITY] = mark;
  return {
    labels: out,
    note: `label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=NONE was set by crate-decommission for a restart without relocation (label ${LABEL_MIN_AVAILABILITY_BEFORE}=${mark}): intended, not a misconfiguration; detected with the value before (${mark === MARK_UNSET ? 'no label' : mark})`,
  };
}
