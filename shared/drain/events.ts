// Kubernetes Events a drain reports. Sent in the background (never delaying an eviction), counted in
// the drain's requests, awaited before the report is returned. Per-pod Evicting/Evicted only with
// podEvents 'all': one extra request per pod would cost most of the request budget of a big drain.
import type { KubeClients } from '../k8s/client.ts';
import { createEvent, type EventInput } from '../k8s/events.ts';
import { SPOTGUARD_COMPONENT } from './options.ts';
import type { RequestMeter } from './requests.ts';
import type { DrainOptions } from './types.ts';

export class EventSink {
  private readonly sent: Promise<unknown>[] = [];
  private readonly k8s: KubeClients;
  private readonly meter: RequestMeter;
  private readonly instance: string;
  private readonly logger?: DrainOptions['logger'];
  readonly allPodEvents: boolean;

  constructor(
    k8s: KubeClients,
    meter: RequestMeter,
    opts: { holder: string; podEvents: 'all' | 'problems' },
    logger?: DrainOptions['logger'],
  ) {
    this.k8s = k8s;
    this.meter = meter;
    this.instance = opts.holder;
    this.allPodEvents = opts.podEvents === 'all';
    this.logger = logger;
  }

  node(
    name: string,
    reason: string,
    message: string,
    type: 'Normal' | 'Warning' = 'Normal',
    action = 'Drain',
  ) {
    this.send({ target: { kind: 'Node', name }, reason, message, type, action });
  }

  pod(
    pod: { namespace: string; name: string; uid: string },
    reason: string,
    message: string,
    type: 'Normal' | 'Warning',
  ) {
    const problem = type === 'Warning';
    if (!problem && !this.allPodEvents) return;
    this.send({ target: { kind: 'Pod', ...pod }, reason, message, type, action: 'Evict' });
  }

  async flush() {
    await Promise.allSettled(this.sent);
  }

  private send(input: Omit<EventInput, 'component' | 'instance'>) {
    const full: EventInput = { ...input, component: SPOTGUARD_COMPONENT, instance: this.instance };
    this.sent.push(
      this.meter
        .call(() => createEvent(this.k8s, full), { unbounded: true, retries: 1 })
        .catch((err: unknown) => {
          this.logger?.warn('could not record Kubernetes event', {
            reason: input.reason,
            error: String(err),
          });
        }),
    );
  }
}
