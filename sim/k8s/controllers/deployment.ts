// Deployment controller: one ReplicaSet per pod template (<deploy>-<pod-template-hash>), rolled
// with RollingUpdate (maxSurge / maxUnavailable) or Recreate, old ReplicaSets pruned past
// revisionHistoryLimit, and the status fields kubectl rollout status reads.
import type { KObject, Store } from '../store.ts';
import type { EventRecorder } from './events.ts';
import type { OwnerIndex } from './owner-index.ts';
import {
  controllerOf,
  intOrPercent,
  nowIso,
  ownerReferenceTo,
  splitKey,
  stableStringify,
  templateHash,
  WorkQueue,
  watchOwnerAndDependents,
} from './util.ts';

const SOURCE = { component: 'deployment-controller' };
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

export class DeploymentController {
  private readonly store: Store;
  private readonly owners: OwnerIndex;
  private readonly recorder: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, owners: OwnerIndex, recorder: EventRecorder) {
    this.store = store;
    this.owners = owners;
    this.recorder = recorder;
    this.queue = new WorkQueue('deployment-controller', (key) => this.reconcile(key));
    this.unwatch.push(
      ...watchOwnerAndDependents(
        store,
        this.queue,
        { resource: 'deployments', kind: 'Deployment' },
        'replicasets',
      ),
    );
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(key: string): void {
    const [namespace, name] = splitKey(key);
    const deployment = this.store.get('deployments', namespace, name);
    if (!deployment || deployment.metadata.deletionTimestamp) return;
    const owned = this.owners
      .dependents('replicasets', deployment.metadata.uid!)
      .filter((rs) => controllerOf(rs)?.uid === deployment.metadata.uid);
    const wanted = stableStringify(deployment.spec?.template);
    let newRs = owned.find((rs) => stableStringify(withoutHashLabel(rs.spec?.template)) === wanted);
    const oldRss = owned.filter((rs) => rs !== newRs);
    newRs ??= this.createReplicaSet(deployment, oldRss);
    if (!newRs) return; // hash collision recorded; the status update brings us back
    if (!deployment.spec?.paused) this.rollout(deployment, newRs, oldRss);
    this.pruneHistory(deployment, oldRss);
    this.updateStatus(deployment, newRs);
  }

  /** Creates the ReplicaSet for the current template; on a name collision bumps status.collisionCount instead. */
  private createReplicaSet(deployment: KObject, oldRss: KObject[]): KObject | undefined {
    const hash = templateHash(deployment.spec?.template, deployment.status?.collisionCount ?? 0);
    const template = structuredClone(deployment.spec?.template ?? {});
    template.metadata = {
      ...template.metadata,
      labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
    };
    const selector = structuredClone(deployment.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const revision = 1 + Math.max(0, ...oldRss.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0)));
    const name = `${deployment.metadata.name}-${hash}`;
    if (this.store.get('replicasets', deployment.metadata.namespace, name)) {
      this.store.mutate('deployments', deployment.metadata.namespace, deployment.metadata.name, (draft) => {
        draft.status = { ...draft.status, collisionCount: (draft.status?.collisionCount ?? 0) + 1 };
      });
      return undefined;
    }
    return this.store.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: deployment.metadata.namespace,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(deployment.spec?.replicas ?? 1),
          'deployment.kubernetes.io/max-replicas': String(deployment.spec?.replicas ?? 1),
          [REVISION]: String(revision),
        },
        ownerReferences: [ownerReferenceTo(deployment)],
      },
      spec: { replicas: 0, minReadySeconds: deployment.spec?.minReadySeconds ?? 0, selector, template },
      status: { replicas: 0 },
    });
  }

  private rollout(deployment: KObject, newRs: KObject, oldRss: KObject[]): void {
    const replicas: number = deployment.spec?.replicas ?? 1;
    const strategy = deployment.spec?.strategy ?? {};
    const oldWithReplicas = oldRss.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    if (strategy.type === 'Recreate') {
      for (const rs of oldWithReplicas) this.scale(deployment, rs, 0);
      const oldPodsLeft = oldRss.some((rs) => this.owners.dependents('pods', rs.metadata.uid!).length > 0);
      if (!oldPodsLeft) this.scale(deployment, newRs, replicas);
      return;
    }
    if (oldWithReplicas.length === 0) {
      this.scale(deployment, newRs, replicas);
      return;
    }
    let maxSurge = intOrPercent(strategy.rollingUpdate?.maxSurge, replicas, true, '25%');
    const maxUnavailable = intOrPercent(strategy.rollingUpdate?.maxUnavailable, replicas, false, '25%');
    if (maxSurge === 0 && maxUnavailable === 0) maxSurge = 1;
    const oldTotal = oldWithReplicas.reduce((sum, rs) => sum + rs.spec.replicas, 0);
    const newReplicas: number = newRs.spec?.replicas ?? 0;
    const scaleUpTo = Math.min(replicas, Math.max(newReplicas, replicas + maxSurge - oldTotal));
    if (scaleUpTo > newReplicas) this.scale(deployment, newRs, scaleUpTo);
    // scale old ones down only as far as availability allows
    const available = [newRs, ...oldWithReplicas].reduce(
      (sum, rs) => sum + (rs.status?.availableReplicas ?? 0),
      0,
    );
    let canRemove = Math.max(0, available - (replicas - Math.max(maxUnavailable, 0)));
    // pods of old ReplicaSets that are not available do not count towards availability: drop those first
    for (const rs of [...oldWithReplicas].sort(byRevision)) {
      const unavailable = Math.max(0, rs.spec.replicas - (rs.status?.availableReplicas ?? 0));
      const take = Math.min(rs.spec.replicas, unavailable + canRemove);
      if (take <= 0) continue;
      canRemove -= Math.max(0, take - unavailable);
      this.scale(deployment, rs, rs.spec.replicas - take);
    }
  }

  private scale(deployment: KObject, rs: KObject, replicas: number): void {
    const from = rs.spec?.replicas ?? 0;
    if (from === replicas) return;
    this.store.mutate('replicasets', rs.metadata.namespace, rs.metadata.name, (draft) => {
      draft.spec.replicas = replicas;
      draft.metadata.annotations = {
        ...draft.metadata.annotations,
        'deployment.kubernetes.io/desired-replicas': String(deployment.spec?.replicas ?? 1),
      };
    });
    const direction = replicas > from ? 'up' : 'down';
    this.recorder.record(
      deployment,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${direction} replica set ${rs.metadata.name} to ${replicas} from ${from}`,
      SOURCE,
    );
  }

  private pruneHistory(deployment: KObject, oldRss: KObject[]): void {
    const limit: number = deployment.spec?.revisionHistoryLimit ?? 10;
    const idle = oldRss
      .filter((rs) => (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort(byRevision);
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      if (this.store.get('replicasets', rs.metadata.namespace, rs.metadata.name)) {
        this.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
      }
    }
  }

  private updateStatus(deployment: KObject, newRs: KObject): void {
    const all = this.owners
      .dependents('replicasets', deployment.metadata.uid!)
      .filter((rs) => controllerOf(rs)?.uid === deployment.metadata.uid);
    const sum = (field: string) => all.reduce((total, rs) => total + (rs.status?.[field] ?? 0), 0);
    const replicas: number = deployment.spec?.replicas ?? 1;
    const freshNewRs = all.find((rs) => rs.metadata.uid === newRs.metadata.uid) ?? newRs;
    const available = sum('availableReplicas');
    const maxUnavailable = intOrPercent(
      deployment.spec?.strategy?.rollingUpdate?.maxUnavailable,
      replicas,
      false,
      deployment.spec?.strategy?.type === 'Recreate' ? '0' : '25%',
    );
    const updated = freshNewRs.status?.replicas ?? 0;
    const total = sum('replicas');
    const complete = updated === replicas && total === replicas && available === replicas;
    const status: Record<string, unknown> = {
      observedGeneration: deployment.metadata.generation ?? 1,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
    };
    const before = deployment.status ?? {};
    const availableCondition = available >= replicas - maxUnavailable;
    const conditions = [
      condition(
        before,
        'Available',
        availableCondition ? 'True' : 'False',
        availableCondition ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        availableCondition
          ? 'Deployment has minimum availability.'
          : 'Deployment does not have minimum availability.',
      ),
      condition(
        before,
        'Progressing',
        'True',
        complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
        complete
          ? `ReplicaSet "${freshNewRs.metadata.name}" has successfully progressed.`
          : `ReplicaSet "${freshNewRs.metadata.name}" is progressing.`,
      ),
    ];
    const revision = freshNewRs.metadata.annotations?.[REVISION];
    const unchanged =
      Object.entries(status).every(([k, v]) => before[k] === v) &&
      stableStringify(before.conditions) === stableStringify(conditions) &&
      deployment.metadata.annotations?.[REVISION] === revision;
    if (unchanged) return;
    this.store.mutate('deployments', deployment.metadata.namespace, deployment.metadata.name, (draft) => {
      if (revision) draft.metadata.annotations = { ...draft.metadata.annotations, [REVISION]: revision };
      draft.status = { ...draft.status, ...status, conditions };
    });
  }
}

function withoutHashLabel(template: KObject['spec']) {
  if (!template?.metadata?.labels?.[HASH_LABEL]) return template;
  const copy = structuredClone(template);
  delete copy.metadata.labels[HASH_LABEL];
  return copy;
}

const byRevision = (a: KObject, b: KObject) =>
  Number(a.metadata.annotations?.[REVISION] ?? 0) - Number(b.metadata.annotations?.[REVISION] ?? 0);

/** A condition that keeps its timestamps while its status and reason stay the same. */
function condition(
  before: {
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      lastUpdateTime?: string;
      lastTransitionTime?: string;
    }[];
  },
  type: string,
  status: string,
  reason: string,
  message: string,
) {
  const previous = before.conditions?.find((c: { type: string }) => c.type === type);
  const same = previous?.status === status && previous?.reason === reason;
  const now = nowIso();
  return {
    type,
    status,
    lastUpdateTime: same ? previous.lastUpdateTime : now,
    lastTransitionTime: previous?.status === status ? previous.lastTransitionTime : now,
    reason,
    message,
  };
}
