// Go flag parsing of dc_util's command line (dc_util uses Go's `flag` package).

type FlagKind = 'string' | 'int' | 'bool';
const DC_UTIL_FLAGS: Record<string, FlagKind> = {
  'crate-node-prefix': 'string',
  timeout: 'string',
  pid: 'int',
  proto: 'string',
  hostname: 'string',
  'min-availability': 'string',
  'dry-run': 'bool',
  'reset-routing': 'bool',
  'log-file': 'string',
  'lock-file': 'string',
};

/** One argument of a dc_util call: the text as written (quotes removed) and its value when computable. */
export interface DcUtilArg {
  text: string;
  value: string | null;
}

export interface DcUtilFlags {
  /** Flags that were set, with their value (null: not computable, e.g. `$TIMEOUT` from elsewhere). */
  values: Map<string, string | null>;
  /** The flag each value came from, as written (`--timeout`, `-timeout=720s`). */
  spelling: Map<string, string>;
  /** Go's flag package rejected the command line: dc_util exits 2 before doing anything. */
  error: string | null;
  /** -h / -help: dc_util prints its usage and exits. */
  help: boolean;
}

function parseGoBool(text: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return null;
}

/** Parse dc_util's arguments the way Go's flag package does (stops at the first non-flag or `--`). */
export function parseDcUtilFlags(args: DcUtilArg[]): DcUtilFlags {
  const result: DcUtilFlags = { values: new Map(), spelling: new Map(), error: null, help: false };
  let i = 0;
  while (i < args.length) {
    const arg = args[i] as DcUtilArg;
    const s = arg.text;
    if (s.length < 2 || !s.startsWith('-')) break;
    let dashes = 1;
    if (s[1] === '-') {
      dashes = 2;
      if (s.length === 2) break; // "--" ends the flags
    }
    let name = s.slice(dashes);
    if (name === '' || name.startsWith('-') || name.startsWith('=')) {
      result.error = `bad flag syntax: ${s}`;
      return result;
    }
    i++;
    let value: string | null = null;
    let hasValue = false;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      // the value after '=' is computable only if the whole word was
      value = arg.value === null ? null : arg.value.slice(arg.value.indexOf('=') + 1);
      name = name.slice(0, eq);
      hasValue = true;
    }
    const kind = DC_UTIL_FLAGS[name];
    if (kind === undefined) {
      if (name === 'help' || name === 'h') {
        result.help = true;
        return result;
      }
      result.error = `flag provided but not defined: -${name}`;
      return result;
    }
    if (kind === 'bool') {
      if (hasValue) {
        const parsed = value === null ? true : parseGoBool(value);
        if (parsed === null) {
          result.error = `invalid boolean value ${JSON.stringify(value)} for -${name}`;
          return result;
        }
        value = String(parsed);
      } else {
        value = 'true';
      }
    } else {
      if (!hasValue) {
        if (i >= args.length) {
          result.error = `flag needs an argument: -${name}`;
          return result;
        }
        value = (args[i] as DcUtilArg).value;
        i++;
      }
      if (kind === 'int' && value !== null && !/^[+-]?[0-9]+$/.test(value)) {
        result.error = `invalid value ${JSON.stringify(value)} for flag -${name}`;
        return result;
      }
    }
    result.values.set(name, value);
    result.spelling.set(name, s);
  }
  return result;
}
