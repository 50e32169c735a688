// One HTTP server on 127.0.0.1 for every simulated AWS service. The SDK v3 clients reach it
// through `endpoint` / AWS_ENDPOINT_URL; the service is told apart by the SigV4 credential scope
// (…/<region>/<service>/aws4_request) in the Authorization header or a presigned X-Amz-Credential.
// Every request passes the fault injector first and is counted per service and action.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AUTOSCALING_XMLNS, handleAutoScaling } from './autoscaling-api.ts';
import type { SimAws } from './cloud.ts';
import { EC2_XMLNS, handleEc2 } from './ec2-api.ts';
import { ELBV2_XMLNS, handleElbv2 } from './elbv2-api.ts';
import type { SimElbv2 } from './elbv2-model.ts';
import { SimLambdaFunctions } from './lambda-api.ts';
import { handleSqs, type SimSqs, SQS_QUERY_ERROR_CODES } from './sqs.ts';
import {
  callerIdentityXml,
  type EksClusterInfo,
  eksActionOf,
  handleEks,
  identityFor,
  STS_XMLNS,
  validatePresignedCallerIdentity,
} from './sts-eks-api.ts';
import { AccountThrottle, bucketOf, type ThrottleRates } from './throttle.ts';
import {
  AwsError,
  ec2Error,
  ec2Response,
  errorHeaders,
  jsonResponse,
  newRequestId,
  parseQuery,
  queryError,
  queryResponse,
  type WireResponse,
} from './wire.ts';

const TIMEOUT_FAULT_MS = 30_000;

export type AwsService = 'autoscaling' | 'ec2' | 'eks' | 'sts' | 'sqs' | 'lambda' | 'elasticloadbalancing';

/** What sim/faults.ts's FaultInjector.decide returns (structurally). */
export interface FaultDecision {
  latencyMs: number;
  status?: number;
  retryAfterSeconds?: number;
  timeout?: boolean;
}

export interface FaultSource {
  decide(request: { service: string; verb: string; resource?: string }): FaultDecision;
}

/** Request counts per `service:Action`. */
export class AwsRequestLog {
  private readonly counts = new Map<string, number>();

  record(service: string, action: string) {
    const key = `${service}:${action}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Count for one action, or for every action of a service when `action` is omitted. */
  count(service: string, action?: string): number {
    if (action !== undefined) return this.counts.get(`${service}:${action}`) ?? 0;
    let total = 0;
    for (const [key, n] of this.counts) if (key.startsWith(`${service}:`)) total += n;
    return total;
  }

  total(): number {
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  /** `{ 'autoscaling:DescribeAutoScalingGroups': 3, … }` */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }

  reset() {
    this.counts.clear();
  }
}

export interface AwsEndpointOptions {
  cloud: SimAws;
  sqs: SimSqs;
  cluster: EksClusterInfo;
  /** ELBv2 target groups (elbv2-api.ts); without it the service is not served */
  elbv2?: SimElbv2;
  faults?: FaultSource;
  port?: number;
  /** per-account rate limits (default: DEFAULT_THROTTLE_RATES); false = none */
  throttle?: ThrottleRates | false;
}

export interface AwsEndpoint {
  url: string;
  port: number;
  requests: AwsRequestLog;
  /** undefined when throttling is off */
  throttle: AccountThrottle | undefined;
  /** Functions `Invoke` reaches (register them: the simulator runs no Lambda of its own). */
  lambda: SimLambdaFunctions;
  stop(): Promise<void>;
}

interface ParsedRequest {
  service: AwsService;
  action: string;
  method: string;
  path: string;
  body: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export async function startAwsEndpoint(opts: AwsEndpointOptions): Promise<AwsEndpoint> {
  const requests = new AwsRequestLog();
  const throttle = opts.throttle === false ? undefined : new AccountThrottle(opts.throttle);
  const lambda = new SimLambdaFunctions(opts.cluster.region);
  const server = createServer((req, res) => {
    handle({ ...opts, lambda }, requests, throttle, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, jsonResponse({ message: String(error) }, newRequestId(), 500));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  opts.sqs.setBaseUrl(url);
  return {
    url,
    port,
    requests,
    throttle,
    lambda,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  opts: AwsEndpointOptions & { lambda: SimLambdaFunctions },
  requests: AwsRequestLog,
  throttle: AccountThrottle | undefined,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const body = await readBody(req);
  const requestId = newRequestId();
  let parsed: ParsedRequest;
  try {
    parsed = parseRequest(req, body);
  } catch (error) {
    send(res, jsonResponse({ message: (error as Error).message }, requestId, 403));
    return;
  }
  requests.record(parsed.service, parsed.action);
  const fault = opts.faults?.decide({ service: parsed.service, verb: parsed.action });
  if (fault && fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault?.timeout) {
    // never answer; drop the connection after 30 s (or when the server stops)
    setTimeout(() => res.destroy(), TIMEOUT_FAULT_MS).unref();
    return;
  }
  let response: WireResponse;
  try {
    if (fault?.status !== undefined) throw faultError(parsed.service, fault.status, fault.retryAfterSeconds);
    if (throttle && !throttle.take(bucketOf(parsed.service, parsed.action, actionParams(parsed))))
      throw faultError(parsed.service, 429);
    response = await dispatch(opts, parsed, requestId);
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    response = errorResponse(parsed.service, error, requestId);
  }
  send(res, response);
}

function parseRequest(req: IncomingMessage, body: string): ParsedRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const scope = credentialScope(req.headers.authorization, url.searchParams.get('X-Amz-Credential'));
  const service =
    scope ?? (String(req.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.') ? 'sqs' : undefined);
  if (!service)
    throw new Error('Missing Authentication Token: no SigV4 Authorization header or X-Amz-Credential');
  if (!['autoscaling', 'ec2', 'eks', 'sts', 'sqs', 'lambda', 'elasticloadbalancing'].includes(service)) {
    throw new Error(`The simulator does not serve AWS service '${service}'`);
  }
  const method = req.method ?? 'GET';
  const form = parseQuery(method === 'GET' ? url.search.slice(1) : body);
  let action: string;
  if (service === 'sqs') action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
  else if (service === 'eks') action = eksActionOf(method, url.pathname);
  else if (service === 'lambda') action = 'Invoke';
  else action = form.get('Action') ?? 'Unknown';
  return {
    service: service as AwsService,
    action,
    method,
    path: url.pathname,
    body,
    query: url.searchParams,
    headers: req.headers,
  };
}

/** The Query-protocol parameters (EC2, Auto Scaling, STS), for the throttling class. */
function actionParams(req: ParsedRequest): URLSearchParams {
  if (req.service === 'eks' || req.service === 'sqs') return new URLSearchParams();
  return new URLSearchParams(req.method === 'GET' ? req.query : req.body);
}

function credentialScope(
  authorization: string | undefined,
  presignedCredential: string | null,
): string | undefined {
  const credential = presignedCredential ?? /Credential=([^,\s]+)/.exec(authorization ?? '')?.[1];
  // AKID/yyyymmdd/region/service/aws4_request
  return credential?.split('/')[3];
}

async function dispatch(
  opts: AwsEndpointOptions & { lambda: SimLambdaFunctions },
  req: ParsedRequest,
  requestId: string,
): Promise<WireResponse> {
  switch (req.service) {
    case 'autoscaling': {
      const result = handleAutoScaling(opts.cloud, req.action, parseQuery(req.body));
      return queryResponse(req.action, AUTOSCALING_XMLNS, result, requestId);
    }
    case 'ec2':
      return ec2Response(
        req.action,
        EC2_XMLNS,
        handleEc2(opts.cloud, req.action, parseQuery(req.body)),
        requestId,
      );
    case 'eks':
      return handleEks(opts.cluster, req.method, req.path, requestId);
    case 'sts':
      return stsResponse(req, requestId);
    case 'lambda':
      return opts.lambda.invoke(req.path, req.headers, req.body, requestId);
    case 'elasticloadbalancing': {
      if (!opts.elbv2) throw new AwsError('InvalidAction', 'ELBv2 is not simulated on this endpoint');
      const result = handleElbv2(opts.elbv2, req.action, parseQuery(req.body));
      return queryResponse(req.action, ELBV2_XMLNS, result, requestId);
    }
    case 'sqs': {
      const input = req.body ? JSON.parse(req.body) : {};
      return jsonResponse(await handleSqs(opts.sqs, req.action, input), requestId);
    }
  }
}

function stsResponse(req: ParsedRequest, requestId: string): WireResponse {
  const form = req.method === 'GET' ? parseQuery(req.query.toString()) : parseQuery(req.body);
  const action = form.get('Action');
  if (action !== 'GetCallerIdentity') {
    throw new AwsError(
      'InvalidAction',
      `The simulator's STS endpoint only implements GetCallerIdentity, not ${action}`,
    );
  }
  const presigned = req.query.has('X-Amz-Signature') || req.query.has('X-Amz-Credential');
  const identity = presigned
    ? validatePresignedCallerIdentity(parseQuery(req.query.toString()))
    : identityFor(
        /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '',
        req.headers['x-amz-security-token'] !== undefined,
      );
  return queryResponse('GetCallerIdentity', STS_XMLNS, callerIdentityXml(identity), requestId);
}

function errorResponse(service: AwsService, error: AwsError, requestId: string): WireResponse {
  switch (service) {
    case 'autoscaling':
      return queryError(error, AUTOSCALING_XMLNS, requestId);
    case 'sts':
      return queryError(error, STS_XMLNS, requestId);
    case 'elasticloadbalancing':
      return queryError(error, ELBV2_XMLNS, requestId);
    case 'ec2':
      return ec2Error(error, requestId);
    case 'lambda':
    case 'eks': {
      const response = jsonResponse({ message: error.message }, requestId, error.status);
      response.headers['x-amzn-errortype'] = error.code;
      return { ...response, headers: errorHeaders(error, response.headers) };
    }
    case 'sqs': {
      const response = jsonResponse(
        { __type: `com.amazonaws.sqs#${error.code}`, message: error.message },
        requestId,
        error.status,
      );
      const queryCode = SQS_QUERY_ERROR_CODES[error.code] ?? error.code;
      response.headers['x-amzn-query-error'] = `${queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}`;
      return { ...response, headers: errorHeaders(error, response.headers) };
    }
  }
}

/**
 * The error a fault rule asks for. 429 means throttling, answered as each service does:
 * Auto Scaling `Throttling` and EC2 `RequestLimitExceeded`, both HTTP 400 (the SDK classifies
 * throttling by code), the others 503. Other statuses become InternalFailure /
 * ServiceUnavailable with that status.
 */
function faultError(service: AwsService, status: number, retryAfterSeconds?: number): AwsError {
  if (status === 429) {
    const [code, httpStatus] = THROTTLING[service];
    return new AwsError(
      code,
      service === 'ec2' ? 'Request limit exceeded.' : 'Rate exceeded',
      httpStatus,
      retryAfterSeconds,
    );
  }
  const code = failureCode(service, status);
  return new AwsError(code, `Injected fault: HTTP ${status}`, status, retryAfterSeconds);
}

function failureCode(service: AwsService, status: number): string {
  if (status === 503) return service === 'ec2' ? 'Unavailable' : 'ServiceUnavailable';
  return status >= 500 ? 'InternalFailure' : 'InvalidRequest';
}

const THROTTLING: Record<AwsService, [code: string, status: number]> = {
  lambda: ['TooManyRequestsException', 429],
  autoscaling: ['Throttling', 400],
  ec2: ['RequestLimitExceeded', 400],
  sts: ['Throttling', 503],
  eks: ['ThrottlingException', 503],
  sqs: ['ThrottlingException', 503],
  elasticloadbalancing: ['Throttling', 400],
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: WireResponse) {
  res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
