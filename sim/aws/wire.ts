// Wire helpers shared by the simulated AWS services: reading awsQuery/ec2Query form bodies and
// writing the XML the SDK's XmlShapeDeserializer expects.
import { randomUUID } from 'node:crypto';

export const ACCOUNT_ID = '123456789012';

/** A parsed form body (`Action=…&Foo.member.1=…`): flat key → value. */
export type QueryParams = Map<string, string>;

export function parseQuery(body: string): QueryParams {
  return new Map(new URLSearchParams(body));
}

/** Values of a list parameter, in index order: `Name.member.N` (awsQuery) or `Name.N` (ec2Query). */
export function queryList(params: QueryParams, name: string): string[] {
  const found: Array<[number, string]> = [];
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.(?:member\\.)?(\\d+)$`);
  for (const [key, value] of params) {
    const match = pattern.exec(key);
    if (match) found.push([Number(match[1]), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
}

/** Entries of a list of structures (`Filters.member.1.Name`, `Filter.1.Value.1`), each with its prefix removed. */
export function queryStructList(params: QueryParams, name: string): QueryParams[] {
  const byIndex = new Map<number, QueryParams>();
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.(?:member\\.)?(\\d+)\\.(.+)$`);
  for (const [key, value] of params) {
    const match = pattern.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    let entry = byIndex.get(index);
    if (!entry) {
      entry = new Map();
      byIndex.set(index, entry);
    }
    entry.set(match[2]!, value);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
}

export function queryInt(params: QueryParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new AwsError('ValidationError', `${name}: "${raw}" is not an integer`);
  return value;
}

export function queryBool(params: QueryParams, name: string): boolean | undefined {
  const raw = params.get(name);
  return raw === undefined ? undefined : raw === 'true';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- XML writing: tiny builders; children are already-serialised XML strings ----

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** A text leaf; omitted entirely when the value is undefined. */
export function leaf(tag: string, value: string | number | boolean | Date | undefined): string {
  if (value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `<${tag}>${escapeXml(text)}</${tag}>`;
}

/** An element wrapping already-serialised children. */
export function node(tag: string, ...children: string[]): string {
  return `<${tag}>${children.join('')}</${tag}>`;
}

/** awsQuery list: `<Tag><member>…</member></Tag>`. */
export function memberList<T>(tag: string, items: T[], render: (item: T) => string): string {
  return node(tag, ...items.map((item) => node('member', render(item))));
}

/** ec2Query list: `<tagSet><item>…</item></tagSet>`. */
export function itemSet<T>(tag: string, items: T[], render: (item: T) => string): string {
  return node(tag, ...items.map((item) => node('item', render(item))));
}

export function newRequestId(): string {
  return randomUUID();
}

/** An error the service answers with; `code` is the AWS error code the SDK maps to an exception. */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: string, message: string, status = 400, retryAfterSeconds?: number) {
    super(message);
    this.name = 'AwsError';
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** awsQuery success: `<ActionResponse xmlns><ActionResult>…</ActionResult><ResponseMetadata/>`. */
export function queryResponse(
  action: string,
  xmlns: string,
  result: string | undefined,
  requestId: string,
): WireResponse {
  const resultXml = result === undefined ? '' : node(`${action}Result`, result);
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">` +
    resultXml +
    node('ResponseMetadata', leaf('RequestId', requestId)) +
    `</${action}Response>`;
  return { status: 200, headers: xmlHeaders(requestId), body };
}

/** awsQuery error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function queryError(error: AwsError, xmlns: string, requestId: string): WireResponse {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${xmlns}">` +
    node('Error', leaf('Type', type), leaf('Code', error.code), leaf('Message', error.message)) +
    leaf('RequestId', requestId) +
    '</ErrorResponse>';
  return { status: error.status, headers: errorHeaders(error, xmlHeaders(requestId)), body };
}

/** ec2Query success: `<ActionResponse xmlns><requestId/>…</ActionResponse>` (no Result wrapper). */
export function ec2Response(action: string, xmlns: string, content: string, requestId: string): WireResponse {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">` +
    leaf('requestId', requestId) +
    content +
    `</${action}Response>`;
  return { status: 200, headers: xmlHeaders(requestId), body };
}

/** ec2Query error: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`. */
export function ec2Error(error: AwsError, requestId: string): WireResponse {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response>' +
    node('Errors', node('Error', leaf('Code', error.code), leaf('Message', error.message))) +
    leaf('RequestID', requestId) +
    '</Response>';
  return { status: error.status, headers: errorHeaders(error, xmlHeaders(requestId)), body };
}

function xmlHeaders(requestId: string): Record<string, string> {
  return { 'content-type': 'text/xml', 'x-amzn-requestid': requestId };
}

export function errorHeaders(error: AwsError, headers: Record<string, string>): Record<string, string> {
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return headers;
}

export function jsonResponse(value: unknown, requestId: string, status = 200): WireResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
    body: JSON.stringify(value),
  };
}
