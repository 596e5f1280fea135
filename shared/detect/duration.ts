// Durations as dc_util and CrateDB read them: dc_util parses -timeout with Go's time.ParseDuration (the tool's one
// parser, shared/duration.ts: whole seconds, sub-seconds rounded up), then may pass the text verbatim to CrateDB,
// which reads fewer forms.
export { parseGoDurationSeconds as parseGoDuration } from '../duration.js';

/**
 * Does CrateDB accept this string as a time setting value? dc_util passes its -timeout flag verbatim to
 * `SET GLOBAL "cluster.graceful_stop.timeout"` when the grace period is unset or 30; CrateDB's TimeValue takes
 * one integer with one unit, so Go-only forms such as "1h30m" or "1.5h" make that statement (and dc_util) fail.
 */
export function crateAcceptsTimeValue(text: string): boolean {
  return /^\+?[0-9]+(ms|s|m|h)$/.test(text) || /^0+$/.test(text);
}
