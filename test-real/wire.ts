// Raw HTTP requests with a KubeConfig's credentials, for comparisons at the wire level: the exact
// status code and Status body, content types client-node would not send (a bogus patch type), and
// eviction bodies in policy/v1beta1 (client-node only models policy/v1).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface WireResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: wire bodies are open-ended JSON
  body: any;
}

export async function wire(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<WireResponse> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const options: https.RequestOptions = {
    method,
    host: server.hostname,
    port: server.port,
    path,
    headers: { accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (data !== undefined) {
    options.headers = {
      ...options.headers,
      'content-type': contentType,
      'content-length': Buffer.byteLength(data),
    };
  }
  const transport = server.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text, the comparison will show it
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}
