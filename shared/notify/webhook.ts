// Webhook notifications (Slack-compatible JSON: `{"text": …}`) for drains, deadline misses, spot
// fallbacks and returns. notify() never waits: deliveries run in the background with a timeout per
// attempt and a few retries, so a slow or dead webhook cannot delay a drain (NTH's webhook did:
// aws-node-termination-handler #534, #724, #260). flush() — called once the work is done — gives
// pending deliveries a bounded time before the Lambda freezes; what does not make it is logged.

export type NotifyKind = 'drain' | 'deadline-missed' | 'fallback' | 'return' | 'refused';

export interface Notification {
  kind: NotifyKind;
  title: string;
  text: string;
  cluster?: string;
}

export interface NotifyConfig {
  url?: string;
  /** {{kind}} {{title}} {{text}} {{cluster}} {{emoji}} are replaced (JSON-escaped). */
  template: string;
  timeoutMs: number;
  retries: number;
}

const EMOJI: Record<NotifyKind, string> = {
  drain: ':large_orange_circle:',
  'deadline-missed': ':red_circle:',
  fallback: ':warning:',
  return: ':large_green_circle:',
  refused: ':no_entry:',
};

export const DEFAULT_TEMPLATE = '{"text":"{{emoji}} *{{title}}* ({{cluster}})\\n{{text}}"}';

export function loadNotifyConfig(env: Record<string, string | undefined> = process.env): NotifyConfig {
  const num = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
  return {
    ...(env.NOTIFY_WEBHOOK_URL ? { url: env.NOTIFY_WEBHOOK_URL } : {}),
    template: env.NOTIFY_TEMPLATE || DEFAULT_TEMPLATE,
    timeoutMs: num(env.NOTIFY_TIMEOUT_MS, 2000),
    retries: num(env.NOTIFY_RETRIES, 2),
  };
}

/** The request body: the template with every placeholder JSON-escaped, so the result stays JSON. */
export function renderNotification(n: Notification, template: string): string {
  const values: Record<string, string> = {
    kind: n.kind,
    title: n.title,
    text: n.text,
    cluster: n.cluster ?? '',
    emoji: EMOJI[n.kind],
  };
  const body = template.replace(/\{\{(\w+)\}\}/g, (_, k: string) =>
    JSON.stringify(values[k] ?? '').slice(1, -1),
  );
  JSON.parse(body); // a template that does not render to JSON is a configuration error, said here
  return body;
}

export class Notifier {
  private readonly pending = new Set<Promise<void>>();
  private readonly cfg: NotifyConfig;
  private readonly onFailure: (why: string) => void;
  /** Deliveries that succeeded / gave up (for reports and tests). */
  delivered = 0;
  failed = 0;

  constructor(cfg: NotifyConfig, onFailure: (why: string) => void = () => {}) {
    this.cfg = cfg;
    this.onFailure = onFailure;
  }

  /** Starts a delivery and returns at once. */
  notify(n: Notification): void {
    if (!this.cfg.url) return;
    let body: string;
    try {
      body = renderNotification(n, this.cfg.template);
    } catch (err) {
      this.failed++;
      this.onFailure(`NOTIFY_TEMPLATE does not render to JSON: ${String(err)}`);
      return;
    }
    const p = this.deliver(this.cfg.url, body).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits at most `maxMs` for pending deliveries (call after the work, never before it). */
  async flush(maxMs: number): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((r) => {
        timer = setTimeout(r, Math.max(0, maxMs));
      }),
    ]);
    clearTimeout(timer);
  }

  private async deliver(url: string, body: string): Promise<void> {
    let last = '';
    for (let attempt = 0; attempt <= this.cfg.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.cfg.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.delivered++;
          return;
        }
        last = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break; // the webhook said no: retrying will not help
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
    }
    this.failed++;
    this.onFailure(`webhook notification not delivered (${last})`);
  }
}

let shared: { key: string; notifier: Notifier } | undefined;
/** One per container (per configuration), from the environment; logs what it could not deliver. */
export function containerNotifier(log: (why: string) => void = console.warn): Notifier {
  const cfg = loadNotifyConfig();
  const key = JSON.stringify(cfg);
  if (shared?.key !== key) shared = { key, notifier: new Notifier(cfg, log) };
  return shared.notifier;
}
