// Simulated AWS Load Balancer Controller, TargetGroupBinding part (elbv2.k8s.aws/v1beta1): keeps each
// bound target group's targets equal to the Service's ready endpoints, as the real controller does.
//   ip mode: the IPs of pods the Service selects that are Ready and not terminating, on the
//     Service port's targetPort. A terminating pod leaves the endpoints, so it is deregistered only
//     then — after eviction (aws-load-balancer-controller #3097).
//   instance mode: every Ready node without node.kubernetes.io/exclude-from-external-load-balancers,
//     by instance id (from spec.providerID), on the Service port's nodePort.
// Like the real one it reconciles on endpoint changes (pods of the Service, nodes, the binding):
// a target someone else deregistered while its endpoint is still ready is registered again at the
// next endpoint change. Pods with the readiness gate target-health.elbv2.k8s.aws/<binding> get that
// condition set from the target's health. Reconciles run `reactionMs` after the change.
import type { SimElbv2 } from '../../aws/elbv2-model.ts';
import type { KObject, Store } from '../store.ts';
import { isNodeReady, isPodReady, matchesSelector, nowIso, Timers, writeStatus } from './util.ts';

export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const GATE_PREFIX = 'target-health.elbv2.k8s.aws/';

export interface LbControllerOptions {
  /** endpoint change → reconcile (default 500 ms) */
  reactionMs?: number;
  /** how often readiness-gate conditions are refreshed from target health (default 500 ms) */
  gateResyncMs?: number;
}

export class LoadBalancerController {
  private readonly store: Store;
  private readonly elb: SimElbv2;
  private readonly timers = new Timers();
  private readonly stops: Array<() => void> = [];
  private readonly reactionMs: number;
  private scheduled = false;
  private stopped = false;

  constructor(store: Store, elb: SimElbv2, opts: LbControllerOptions = {}) {
    this.store = store;
    this.elb = elb;
    this.reactionMs = opts.reactionMs ?? 500;
    for (const resource of ['targetgroupbindings', 'services', 'pods', 'nodes']) {
      const stop = store.watch(resource, (event) => {
        if (resource !== 'pods' || this.selectedByBinding(event.object)) this.schedule();
      });
      if (stop) this.stops.push(stop);
    }
    this.timers.every(opts.gateResyncMs ?? 500, () => this.syncGates());
    this.schedule();
  }

  stop() {
    this.stopped = true;
    this.timers.stop();
    for (const stop of this.stops) stop();
  }

  private schedule() {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.timers.after(this.reactionMs, () => {
      this.scheduled = false;
      for (const binding of this.store.list('targetgroupbindings')) this.reconcile(binding);
    });
  }

  private selectedByBinding(pod: KObject): boolean {
    return this.store.list('targetgroupbindings', { namespace: pod.metadata.namespace }).some((b) => {
      const selector = this.serviceOf(b)?.spec?.selector;
      return selector && matchesSelector(pod.metadata.labels ?? {}, { matchLabels: selector });
    });
  }

  private serviceOf(binding: KObject): KObject | undefined {
    return this.store.get('services', binding.metadata.namespace, binding.spec?.serviceRef?.name ?? '');
  }

  private reconcile(binding: KObject) {
    const group = this.elb.group(binding.spec?.targetGroupARN ?? '');
    const service = this.serviceOf(binding);
    if (!group || !service) return;
    const port = servicePort(service, binding.spec.serviceRef.port);
    if (!port) return;
    const type = binding.spec.targetType ?? group.targetType;
    const desired =
      type === 'ip'
        ? this.readyPods(binding, service).map((p) => ({
            id: p.status.podIP as string,
            port: targetPort(port),
          }))
        : this.readyNodes().map((id) => ({ id, port: port.nodePort ?? 30080 }));
    const current = this.elb.health(group.arn).filter((h) => h.state !== 'draining');
    const key = (t: { id: string; port: number }) => `${t.id}:${t.port}`;
    const have = new Set(current.map((h) => key(h.target)));
    const want = new Set(desired.map(key));
    const add = desired.filter((t) => !have.has(key(t)));
    const remove = current.map((h) => h.target).filter((t) => !want.has(key(t)));
    if (add.length > 0) this.elb.register(group.arn, add);
    if (remove.length > 0) this.elb.deregister(group.arn, remove);
  }

  private readyPods(binding: KObject, service: KObject): KObject[] {
    const selector = service.spec?.selector;
    if (!selector) return [];
    return this.store
      .list('pods', { namespace: binding.metadata.namespace })
      .filter(
        (p) =>
          matchesSelector(p.metadata.labels ?? {}, { matchLabels: selector }) &&
          !p.metadata.deletionTimestamp &&
          p.status?.podIP &&
          (isPodReady(p) || hasGate(p, binding)),
      );
  }

  private readyNodes(): string[] {
    return this.store
      .list('nodes')
      .filter((n) => isNodeReady(n) && !Object.hasOwn(n.metadata.labels ?? {}, EXCLUDE_LABEL))
      .map(
        (n) =>
          String(n.spec?.providerID ?? '')
            .split('/')
            .pop() ?? '',
      )
      .filter((id) => id.startsWith('i-'));
  }

  /** target-health.elbv2.k8s.aws/<binding> = True once the pod's target is healthy. */
  private syncGates() {
    for (const binding of this.store.list('targetgroupbindings')) {
      const group = this.elb.group(binding.spec?.targetGroupARN ?? '');
      if (!group) continue;
      const health = new Map(this.elb.health(group.arn).map((h) => [h.target.id, h.state]));
      for (const pod of this.store.list('pods', { namespace: binding.metadata.namespace })) {
        if (!hasGate(pod, binding) || !pod.status?.podIP) continue;
        const wanted = health.get(pod.status.podIP) === 'healthy' ? 'True' : 'False';
        const type = `${GATE_PREFIX}${binding.metadata.name}`;
        const conditions: { type: string; status: string }[] = pod.status.conditions ?? [];
        if (conditions.find((c) => c.type === type)?.status === wanted) continue;
        writeStatus(this.store, 'pods', pod, {
          ...pod.status,
          conditions: [
            ...conditions.filter((c) => c.type !== type),
            { type, status: wanted, lastTransitionTime: nowIso() },
          ],
        });
      }
    }
  }
}

function hasGate(pod: KObject, binding: KObject): boolean {
  return (pod.spec?.readinessGates ?? []).some(
    (g: { conditionType: string }) => g.conditionType === `${GATE_PREFIX}${binding.metadata.name}`,
  );
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

function servicePort(service: KObject, ref: number | string | undefined): ServicePort | undefined {
  const ports: ServicePort[] = service.spec?.ports ?? [];
  return ports.find((p) => p.port === ref || p.name === ref || String(p.port) === String(ref)) ?? ports[0];
}

function targetPort(port: ServicePort): number {
  return typeof port.targetPort === 'number' ? port.targetPort : port.port;
}
