// HTTP plumbing shared by the server and its handlers: JSON / Status / text answers and request
// bodies, with the headers kube-apiserver sends.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, failure, type Status } from './errors.ts';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function writeJson(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, {
    'Audit-Id': randomUUID(),
    'Cache-Control': 'no-cache, private',
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function writeStatus(res: ServerResponse, status: Status): void {
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter && retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
  writeJson(res, status.code, status);
}

export function writeText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError(failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`json: ${(error as Error).message}`);
  }
}

export function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw badRequest(`error converting YAML to JSON: ${(error as Error).message}`);
  }
}

/** The media type of the request body, without parameters. */
export function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}
