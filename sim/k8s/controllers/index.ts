// Starts the simulated control plane and kubelets on a Store: workload controllers, scheduler,
// kubelet/attach-detach/pod GC, and the garbage collector. Everything reacts to store watch events;
// timers only where the real thing takes time (pod start, termination, volume detach).
import type { Store } from '../store.ts';
import { DaemonSetController } from './daemonset.ts';
import { DeploymentController } from './deployment.ts';
import { EventRecorder } from './events.ts';
import { GarbageCollector } from './gc.ts';
import { Kubelet } from './kubelet.ts';
import { NodeLifecycleController } from './node-lifecycle.ts';
import { OwnerIndex } from './owner-index.ts';
import { PersistentVolumeController } from './persistentvolume.ts';
import { ReplicaSetController } from './replicaset.ts';
import { Scheduler } from './scheduler.ts';
import { StatefulSetController } from './statefulset.ts';
import { TaintEvictionController } from './taint-eviction.ts';
import { Timers } from './util.ts';

export interface ControllerOptions {
  /** pending → Running+Ready after bind, default 1000 */
  podStartMs?: number;
  /** max time to remove a terminating pod: min(grace, this), default 1000 */
  podTerminationMs?: number;
  /** VolumeAttachment removed this long after the pod is gone, default 2000 */
  volumeDetachMs?: number;
  /** how often unschedulable pods are retried even without a cluster change, default 1000 */
  schedulerIntervalMs?: number;
  /** how many Events the controllers keep before deleting their oldest, default 2000 */
  maxEvents?: number;
}

export interface Controllers {
  stop(): void;
  /** Runs a scheduling cycle at once, retrying every pending pod. */
  scheduleNow(): void;
}

/** Resources whose objects carry ownerReferences the controllers and the garbage collector follow. */
const DEPENDENT_RESOURCES = ['pods', 'replicasets', 'persistentvolumeclaims', 'controllerrevisions'];

export function startControllers(store: Store, opts: ControllerOptions = {}): Controllers {
  const timers = new Timers();
  const recorder = new EventRecorder(store, opts.maxEvents ?? 2000);
  // first watcher on these resources, so its index is current when any controller runs
  const owners = new OwnerIndex(store, DEPENDENT_RESOURCES);
  const scheduler = new Scheduler(store, owners, recorder, timers, opts.schedulerIntervalMs ?? 1000);
  const parts = [
    owners,
    scheduler,
    new Kubelet(store, recorder, timers, {
      podStartMs: opts.podStartMs ?? 1000,
      podTerminationMs: opts.podTerminationMs ?? 1000,
      volumeDetachMs: opts.volumeDetachMs ?? 2000,
    }),
    new DeploymentController(store, owners, recorder),
    new ReplicaSetController(store, owners, recorder, timers),
    new StatefulSetController(store, owners, recorder),
    new DaemonSetController(store, owners, recorder),
    new GarbageCollector(store, owners),
    new NodeLifecycleController(store),
    new PersistentVolumeController(store),
    new TaintEvictionController(store, recorder, timers),
  ];
  return {
    stop() {
      timers.stop();
      for (const part of parts) part.stop();
    },
    scheduleNow() {
      scheduler.scheduleNow();
    },
  };
}
