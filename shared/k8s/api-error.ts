// The error shape of the Kubernetes API as client-node 2.x surfaces it: ApiException with .code and
// .body = the raw JSON text of a metav1.Status, and .headers (Retry-After lives there).
import { ApiException } from '@kubernetes/client-node';

export interface ApiErrorInfo {
  /** HTTP status; 0 when the request never got an answer (connection refused, reset, timeout). */
  code: number;
  /** metav1.Status reason, e.g. NotFound, Conflict, AlreadyExists, TooManyRequests. */
  reason?: string;
  message: string;
  /** status.details.causes[].reason, e.g. 'DisruptionBudget' on an eviction refused by a PDB. */
  causes: string[];
  /** status.details.causes[].message (e.g. which budget refused an eviction). */
  causeMessages: string[];
  /** From the Retry-After header or status.details.retryAfterSeconds. */
  retryAfterSeconds?: number;
}

export function apiErrorOf(err: unknown): ApiErrorInfo {
  if (!(err instanceof ApiException)) {
    return {
      code: 0,
      message: err instanceof Error ? err.message : String(err),
      causes: [],
      causeMessages: [],
    };
  }
  const status = parseStatus(err.body);
  const header = Object.entries(err.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const fromHeader = header !== undefined ? Number.parseInt(header, 10) : Number.NaN;
  const fromBody = status?.details?.retryAfterSeconds;
  return {
    code: err.code,
    reason: status?.reason,
    message: status?.message ?? `HTTP ${err.code}`,
    causes: (status?.details?.causes ?? []).map((c) => c.reason ?? '').filter(Boolean),
    causeMessages: (status?.details?.causes ?? []).map((c) => c.message ?? '').filter(Boolean),
    retryAfterSeconds: Number.isFinite(fromHeader)
      ? fromHeader
      : typeof fromBody === 'number'
        ? fromBody
        : undefined,
  };
}

export const isNotFound = (err: unknown) => apiErrorOf(err).code === 404;
export const isConflict = (err: unknown) => apiErrorOf(err).code === 409;

interface StatusBody {
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[]; retryAfterSeconds?: number };
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (typeof body === 'object' && body !== null) return body as StatusBody;
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    return JSON.parse(body) as StatusBody;
  } catch {
    return { message: body };
  }
}
