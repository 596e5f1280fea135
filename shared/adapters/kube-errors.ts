// Maps what @kubernetes/client-node throws (ApiException, fetch/websocket failures) to KubeApiError.
import { STATUS_CODES } from 'node:http';
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { KubeApiError, messageOf } from '../errors.js';

/** Kubernetes' own reason for a status code, used when the answer carries no Status body. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function reasonForStatus(code: number): string {
  return REASONS[code] ?? (STATUS_CODES[code] ?? 'Unknown').replace(/\s+/g, '');
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
}

function parseStatus(body: unknown): StatusBody | null {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return body.trim() ? { message: body.trim() } : null;
    }
  }
  if (typeof value === 'object' && value !== null) return value as StatusBody;
  return null;
}

function isApiException(err: unknown): err is ApiException<unknown> {
  return (
    err instanceof ApiException ||
    (err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && 'body' in err && 'headers' in err)
  );
}

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if (e instanceof Error && e.name === 'TimeoutError') return true;
    const code = (e as { code?: unknown }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function rootMessage(err: unknown): string {
  let e: unknown = err;
  let message = messageOf(err);
  for (let depth = 0; depth < 4 && e instanceof Error && e.cause; depth++) {
    e = e.cause;
    message = `${message}: ${messageOf(e)}`;
  }
  return message;
}

/**
 * A KubeApiError for any failure of a Kubernetes call. `what` names the call, e.g. "delete pod crate/data-hot-0".
 * API errors keep their status code and reason (from the Status body when there is one). Failures
 * below HTTP get statusCode 0 and reason "Timeout" or "ConnectionFailed".
 */
export function toKubeApiError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (isApiException(err)) {
    const status = parseStatus(err.body);
    const code = err.code;
    const reason = status?.reason || reasonForStatus(code);
    const detail = status?.message || reasonForStatus(code);
    return new KubeApiError(code, reason, `${what}: ${detail} (HTTP ${code} ${reason})`, { cause: err });
  }
  // Watch start failures carry the HTTP status as statusCode.
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number') {
    const reason = reasonForStatus(statusCode);
    return new KubeApiError(statusCode, reason, `${what}: HTTP ${statusCode} ${reason}`, { cause: err });
  }
  // The exec websocket handshake fails with "Unexpected server response: 403".
  const handshake = /Unexpected server response: (\d{3})/.exec(messageOf(err));
  if (handshake) {
    const code = Number(handshake[1]);
    const reason = reasonForStatus(code);
    return new KubeApiError(code, reason, `${what}: HTTP ${code} ${reason}`, { cause: err });
  }
  if (isTimeout(err)) {
    return new KubeApiError(0, 'Timeout', `${what}: the Kubernetes API did not answer in time`, { cause: err });
  }
  return new KubeApiError(0, 'ConnectionFailed', `${what}: ${rootMessage(err)}`, { cause: err });
}
