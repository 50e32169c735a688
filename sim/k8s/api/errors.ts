// metav1.Status error bodies, shaped exactly like kube-apiserver's (k8s.io/apimachinery/pkg/api/errors).
// Handlers throw ApiError; the server turns it into the HTTP answer.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'ApiError';
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
}

/** A resource as errors name it: plural resource + API group ('' for core). */
export interface GroupResource {
  group: string;
  resource: string;
}

/** `pods` for core, `poddisruptionbudgets.policy` for a named group (GroupResource.String()). */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** A Failure Status, fields in kube-apiserver's order (kind, apiVersion, metadata, status, message, reason, details, code). */
export function failure(
  code: number,
  reason: string | undefined,
  message: string,
  details?: StatusDetails,
): Status {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message } as Status;
  if (reason) status.reason = reason;
  if (details) status.details = details;
  status.code = code;
  return status;
}

export function success(code: number, details?: StatusDetails): Status {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' } as Status;
  if (details) status.details = details;
  status.code = code;
  return status;
}

function detailsOf(gr: GroupResource, name: string): StatusDetails {
  const details: StatusDetails = { name };
  if (gr.group) details.group = gr.group;
  details.kind = gr.resource;
  return details;
}

export const notFound = (gr: GroupResource, name: string) =>
  new ApiError(failure(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, detailsOf(gr, name)));

export const alreadyExists = (gr: GroupResource, name: string) =>
  new ApiError(
    failure(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, detailsOf(gr, name)),
  );

export const conflict = (gr: GroupResource, name: string, why: string) =>
  new ApiError(
    failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
      detailsOf(gr, name),
    ),
  );

export const STALE_OBJECT =
  'the object has been modified; please apply your changes to the latest version and try again';

export const badRequest = (message: string) => new ApiError(failure(400, 'BadRequest', message));

export const methodNotAllowed = () =>
  new ApiError(
    failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  );

/** The 404 for a URL that names no resource at all (not an object that is missing). */
export const pageNotFound = () =>
  new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource'));

export const unauthorized = () => new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));

export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: { field: string; message: string; reason?: string }[],
): ApiError {
  const what = group ? `${kind}.${group}` : kind;
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const details: StatusDetails = { name, ...(group ? { group } : {}), kind };
  details.causes = causes.map((c) => ({
    reason: c.reason ?? 'FieldValueInvalid',
    message: c.message,
    field: c.field,
  }));
  return new ApiError(failure(422, 'Invalid', `${what} "${name}" is invalid: ${joined}`, details));
}

/**
 * NewGenericServerResponse with no resource and no name, as kube-apiserver builds it for errors that
 * carry only an HTTP code: go-restful's router refusals (415, 406, 405) and a json-patch that cannot be
 * applied (422). The fixed message of the code replaces the server message where the real one does,
 * and the Status always has an empty `details`.
 */
export function genericServerResponse(code: 406 | 415 | 422, serverMessage: string): ApiError {
  const [reason, message] =
    code === 422
      ? ['Invalid', 'the server rejected our request due to an error in our request']
      : code === 415
        ? ['UnsupportedMediaType', serverMessage]
        : [
            'NotAcceptable',
            serverMessage && serverMessage !== 'unknown'
              ? serverMessage
              : 'the server was unable to respond with a content type that the client supports',
          ];
  return new ApiError(failure(code, reason, message, {}));
}

/** API Priority and Fairness style throttling answer. */
export const tooManyRequests = (message: string, retryAfterSeconds?: number) =>
  new ApiError(
    failure(429, 'TooManyRequests', message, retryAfterSeconds ? { retryAfterSeconds } : undefined),
  );

export const internalError = (message: string) =>
  new ApiError(
    failure(500, 'InternalError', `Internal error occurred: ${message}`, {
      causes: [{ message }],
    }),
  );

export const serviceUnavailable = (message: string) =>
  new ApiError(failure(503, 'ServiceUnavailable', message));
