// Lambda Invoke (restJson1: POST /2015-03-31/functions/{name}/invocations) for the functions a test
// or the demo registers, so `spotguard … --via-lambda` runs the real handler through the real SDK.
// As AWS answers: a handler error is HTTP 200 with X-Amz-Function-Error: Unhandled and the error
// as the payload; an unknown function is 404 ResourceNotFoundException; only RequestResponse.
import { ACCOUNT_ID, AwsError, jsonResponse, type WireResponse } from './wire.ts';

export type SimLambdaHandler = (payload: unknown) => Promise<unknown>;

export class SimLambdaFunctions {
  private readonly functions = new Map<string, SimLambdaHandler>();
  private readonly region: string;
  constructor(region: string) {
    this.region = region;
  }

  register(name: string, handler: SimLambdaHandler): void {
    this.functions.set(name, handler);
  }

  async invoke(
    path: string,
    headers: Record<string, unknown>,
    body: string,
    requestId: string,
  ): Promise<WireResponse> {
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    if (!m) throw new AwsError('UnknownOperationException', `Unknown operation ${path}`, 404);
    const ref = decodeURIComponent(m[1]!);
    const name = ref.startsWith('arn:') ? (ref.split(':')[6] ?? ref) : ref;
    const handler = this.functions.get(name);
    if (!handler) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${this.region}:${ACCOUNT_ID}:function:${name}`,
        404,
      );
    }
    const type = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type !== 'RequestResponse')
      throw new AwsError(
        'InvalidParameterValueException',
        `the simulator invokes RequestResponse only, not ${type}`,
        400,
      );
    let payload: unknown;
    try {
      payload = body ? JSON.parse(body) : {};
    } catch {
      throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json', 400);
    }
    try {
      const result = await handler(payload);
      return {
        ...jsonResponse(result ?? null, requestId),
        headers: {
          'content-type': 'application/json',
          'x-amzn-requestid': requestId,
          'x-amz-executed-version': '$LATEST',
        },
      };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const res = jsonResponse({ errorType: e.name, errorMessage: e.message, trace: [] }, requestId);
      return { ...res, headers: { ...res.headers, 'x-amz-function-error': 'Unhandled' } };
    }
  }
}
