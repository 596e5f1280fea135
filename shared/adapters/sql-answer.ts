// Turns one answer of CrateDB's `POST /_sql` (status + body text) into a SqlResponse or a typed CrateSqlError.
import { CrateSqlError } from '../errors.js';
import type { SqlResponse } from '../ports.js';

/** Longest piece of a non-JSON body quoted in an error message. */
const MAX_QUOTED_BODY = 300;

export interface SqlAnswer {
  status: number;
  body: string;
}

/**
 * Interpret CrateDB's answer.
 * - 2xx with `{cols, rows, rowcount}` -> SqlResponse
 * - JSON `{"error":{"message","code"}}` -> CrateSqlError(status, code, message)
 * - 401 with a plain-text body (failed login) -> CrateSqlError(401, null, "authentication failed for user <u>: <text>")
 * - anything else -> CrateSqlError(status, null, "HTTP <status>: <body excerpt>")
 */
export function interpretSqlAnswer(answer: SqlAnswer, user: string): SqlResponse {
  const { status, body } = answer;
  const json = parseJson(body);

  if (status >= 200 && status < 300) {
    if (isObject(json) && Array.isArray(json.rows)) {
      const response: SqlResponse = {
        cols: Array.isArray(json.cols) ? json.cols.map(String) : [],
        rows: json.rows as unknown[][],
        rowcount: typeof json.rowcount === 'number' ? json.rowcount : json.rows.length,
      };
      if (typeof json.duration === 'number') response.duration = json.duration;
      return response;
    }
    throw new CrateSqlError(status, null, `CrateDB answered HTTP ${status} without a SQL result: ${excerpt(body)}`);
  }

  if (isObject(json) && isObject(json.error)) {
    const code = typeof json.error.code === 'number' ? json.error.code : null;
    const message = typeof json.error.message === 'string' ? json.error.message : excerpt(body);
    throw new CrateSqlError(status, code, message);
  }

  if (status === 401) {
    throw new CrateSqlError(401, null, `authentication failed for user ${user}: ${excerpt(body) || 'HTTP 401'}`);
  }
  throw new CrateSqlError(status, null, `HTTP ${status}: ${excerpt(body) || '(empty body)'}`);
}

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_QUOTED_BODY ? `${oneLine.slice(0, MAX_QUOTED_BODY)}...` : oneLine;
}
