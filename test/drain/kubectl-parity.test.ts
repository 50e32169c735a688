// kubectl drain parity: pods it may not evict make the drain fail, not "complete".
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { drainNode } from '../../shared/drain/executor.ts';
import {
  addBarePod,
  addDeployment,
  addNode,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-6-10.ec2.internal';
let sim: SimCluster;
afterEach(async () => {
  await sim?.stop();
});

describe('kubectl parity', () => {
  it('a bare pod left behind (no force) makes the drain incomplete; the managed pods are evicted', async () => {
    sim = await startCluster();
    addNode(sim.store, NODE);
    addDeployment(sim.store, 'web', { replicas: 2 });
    addBarePod(sim.store, 'hand-made', NODE);
    await waitFor('3 pods running', () => runningPodsOn(sim.store, NODE).length === 3);
    addNode(sim.store, 'ip-10-0-6-20.ec2.internal');
    const report = await drainNode(sim.k8s, NODE, { reason: 'manual', holder: 't', timeoutMs: 10_000 });
    expect(report.pods.filter((p) => p.outcome === 'evicted')).toHaveLength(2);
    expect(report.pods.find((p) => p.name === 'hand-made')).toMatchObject({ outcome: 'skipped' });
    expect(report.complete).toBe(false);
    expect(runningPodsOn(sim.store, NODE).map((p) => p.metadata.name)).toEqual(['hand-made']);
  });

  it('TAINT_EFFECT=NoExecute is refused unless ALLOW_NOEXECUTE_TAINT=true', () => {
    expect(() => loadConfig({ TAINT_EFFECT: 'NoExecute' })).toThrow(ConfigError);
    expect(() => loadConfig({ TAINT_EFFECT: 'NoExecute' })).toThrow(/ALLOW_NOEXECUTE_TAINT/);
    expect(loadConfig({ TAINT_EFFECT: 'NoExecute', ALLOW_NOEXECUTE_TAINT: 'true' }).taintEffect).toBe(
      'NoExecute',
    );
  });
});
