// An independent SigV4 query-presign verifier built on node:crypto only, so the tests do not
// check @smithy/signature-v4 against itself.
import { createHash, createHmac } from 'node:crypto';

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export interface PresignCheck {
  ok: boolean;
  expected: string;
  actual: string | null;
  canonicalRequest: string;
}

/**
 * Recomputes X-Amz-Signature of a presigned GET URL. `headers` are the values of the signed
 * headers as the receiver saw them (lower-case names).
 */
export function verifyPresignedUrl(
  url: URL,
  headers: Record<string, string>,
  secretAccessKey: string,
): PresignCheck {
  const params = [...url.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const signedHeaders = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join('');
  const canonicalRequest = [
    'GET',
    url.pathname || '/',
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    EMPTY_SHA256,
  ].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const [, date, region, service] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const kDate = hmac(`AWS4${secretAccessKey}`, date ?? '');
  const kSigning = hmac(hmac(hmac(kDate, region ?? ''), service ?? ''), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  const actual = url.searchParams.get('X-Amz-Signature');
  return { ok: actual === expected, expected, actual, canonicalRequest };
}
