// The webhook notifier against a real local HTTP server: Slack-compatible JSON from the template,
// retries on 5xx, gives up on 4xx, and a webhook that never answers does not hold up the caller.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier, renderNotification } from '../../shared/notify/webhook.ts';

let server: Server | undefined;
const bodies: string[] = [];
async function webhook(answer: (n: number, res: ServerResponse) => void): Promise<string> {
  let n = 0;
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push(body);
      answer(n++, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}
afterEach(async () => {
  bodies.length = 0;
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});

const note = {
  kind: 'drain' as const,
  title: 'manual drain of ip-1',
  text: 'reason: "INC-1"\nline 2',
  cluster: 'prod',
};

describe('webhook notifier', () => {
  it('renders the template as JSON with every value escaped (Slack: {"text": …})', () => {
    const body = JSON.parse(
      renderNotification(note, '{"text":"{{emoji}} {{title}} ({{cluster}}): {{text}}","kind":"{{kind}}"}'),
    );
    expect(body).toEqual({
      text: ':large_orange_circle: manual drain of ip-1 (prod): reason: "INC-1"\nline 2',
      kind: 'drain',
    });
    expect(() => renderNotification(note, '{"text": {{text}}')).toThrow();
  });

  it('retries a 5xx, then delivers once', async () => {
    const url = await webhook((n, res) => res.writeHead(n === 0 ? 503 : 200).end());
    const failures: string[] = [];
    const notifier = new Notifier(
      { url, template: '{"text":"{{title}}"}', timeoutMs: 1000, retries: 2 },
      (w) => failures.push(w),
    );
    notifier.notify(note);
    await notifier.flush(5000);
    expect(bodies).toHaveLength(2);
    expect(JSON.parse(bodies[1]!)).toEqual({ text: 'manual drain of ip-1' });
    expect({ delivered: notifier.delivered, failed: notifier.failed, failures }).toEqual({
      delivered: 1,
      failed: 0,
      failures: [],
    });
  });

  it('a 4xx is not retried and is reported', async () => {
    const url = await webhook((_, res) => res.writeHead(404).end());
    const failures: string[] = [];
    const notifier = new Notifier(
      { url, template: '{"text":"{{title}}"}', timeoutMs: 1000, retries: 3 },
      (w) => failures.push(w),
    );
    notifier.notify(note);
    await notifier.flush(5000);
    expect(bodies).toHaveLength(1);
    expect(failures).toEqual(['webhook notification not delivered (HTTP 404)']);
  });

  it('a webhook that never answers: notify returns before the request is answered; flush gives up; timeouts end it', async () => {
    const held: ServerResponse[] = [];
    const url = await webhook((_, res) => held.push(res));
    const failures: string[] = [];
    const notifier = new Notifier(
      { url, template: '{"text":"{{title}}"}', timeoutMs: 300, retries: 1 },
      (w) => failures.push(w),
    );
    notifier.notify(note); // synchronous: nothing awaited here
    expect(notifier.delivered + notifier.failed).toBe(0);
    await notifier.flush(50); // bounded: returns with the delivery still pending
    expect(notifier.delivered + notifier.failed).toBe(0);
    await notifier.flush(5000);
    expect(failures[0]).toMatch(/not delivered/);
    expect(bodies).toHaveLength(2); // first try and one retry, each cut off by the timeout
  });
});
