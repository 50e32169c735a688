// A tiny loopback Kubernetes API serving nodes only (get by name, paginated list), enough to
// count what the resolver and the client factory ask for. Optional `authenticate` plays the API
// server's token check.
import type { ServerResponse } from 'node:http';
import {
  type LoopbackServer,
  type RecordedRequest,
  startLoopbackServer,
  type TlsMaterial,
} from './http-server.ts';

export interface WireNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { providerID?: string; unschedulable?: boolean };
}

export interface TestKubeApi extends LoopbackServer {
  nodes: WireNode[];
  /** Requests for one node by name. */
  gets(): RecordedRequest[];
  /** Requests for the node list (each page counts). */
  lists(): RecordedRequest[];
}

export function testNode(name: string, providerID: string): WireNode {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: { providerID } };
}

const status = (res: ServerResponse, code: number, reason: string, message: string) =>
  res
    .writeHead(code, { 'content-type': 'application/json' })
    .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));

const json = (res: ServerResponse, body: unknown) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const asNode = (n: WireNode) => ({ apiVersion: 'v1', kind: 'Node', ...n });

export async function startTestKubeApi(
  nodes: WireNode[],
  authenticate?: (authorization: string | undefined) => Promise<boolean>,
  tls?: TlsMaterial,
): Promise<TestKubeApi> {
  const server = await startLoopbackServer(async (req, res) => {
    if (authenticate && !(await authenticate(req.headers.authorization))) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const byName = /^\/api\/v1\/nodes\/([^/]+)$/.exec(req.url.pathname);
    if (req.method === 'GET' && byName) {
      const name = decodeURIComponent(byName[1]!);
      const node = nodes.find((n) => n.metadata.name === name);
      return node ? json(res, asNode(node)) : status(res, 404, 'NotFound', `nodes "${name}" not found`);
    }
    if (
      req.method === 'GET' &&
      req.url.pathname === '/api/v1/nodes' &&
      req.url.searchParams.get('watch') === 'true'
    ) {
      // One ADDED event per node, then the server ends the watch (as on a timeout).
      res.writeHead(200, { 'content-type': 'application/json' });
      for (const node of nodes) res.write(`${JSON.stringify({ type: 'ADDED', object: asNode(node) })}\n`);
      return res.end();
    }
    if (req.method === 'GET' && req.url.pathname === '/api/v1/nodes') {
      const limit = Number(req.url.searchParams.get('limit') ?? '0') || nodes.length;
      const start = Number(req.url.searchParams.get('continue') || '0');
      const page = nodes.slice(start, start + limit);
      const next = start + limit < nodes.length ? String(start + limit) : undefined;
      return json(res, {
        apiVersion: 'v1',
        kind: 'NodeList',
        metadata: { resourceVersion: '1', ...(next ? { continue: next } : {}) },
        items: page.map(asNode),
      });
    }
    return status(res, 404, 'NotFound', `no route for ${req.method} ${req.url.pathname}`);
  }, tls);
  return {
    ...server,
    nodes,
    gets: () => server.requests.filter((r) => /^\/api\/v1\/nodes\/[^/]+$/.test(r.url.pathname)),
    lists: () => server.requests.filter((r) => r.url.pathname === '/api/v1/nodes'),
  };
}
