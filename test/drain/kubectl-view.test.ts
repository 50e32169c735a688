// What an operator sees: after a spotguard drain, `kubectl get node` and `kubectl describe node`
// (an independent, real client) show the cordon, spotguard's taint and annotations, and its events.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/index.ts';
import { kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { deployment } from '../e2e/harness.ts';

const run = promisify(execFile);
let sim: Simulator;
let kubeconfig: string;

beforeAll(async () => {
  sim = await startSimulator({
    nodes: 3,
    podStartMs: 50,
    podTerminationMs: 100,
    scenario: {
      workloads: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'spotguard' } },
        deployment('web', 6),
      ],
    },
  });
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'spotguard-kubectl-')), 'kubeconfig');
  writeFileSync(kubeconfig, sim.kubeconfig);
  await sim.waitFor(
    () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length === 6,
    10_000,
  );
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

it('kubectl get/describe node show spotguard’s cordon, taint, annotations and events', async () => {
  const node = sim.store
    .list('nodes')
    .find((n) => sim.store.list('pods', { nodeName: n.metadata.name }).length > 0)!.metadata.name;
  const report = await drainNode(kubeClientsFromConfig(sim.kubeConfig()), node, {
    reason: 'spot-interruption',
    holder: 'kubectl-view-test',
    deadline: new Date(Date.now() + 60_000),
  });
  expect(report.complete).toBe(true);

  const get = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'node', node]);
  expect(get.stdout).toMatch(new RegExp(`${node.replace(/\./g, '\\.')}\\s+Ready,SchedulingDisabled`));

  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'describe', 'node', node]);
  expect(stdout).toMatch(/Taints:\s+spotguard\.io\/spot-interruption[=:].*NoSchedule/);
  expect(stdout).toMatch(/Unschedulable:\s+true/);
  expect(stdout).toMatch(/spotguard\.io\/cordoned-by: spotguard/);
  expect(stdout).toMatch(/spotguard\.io\/cordon-reason: spot-interruption/);
  const events = stdout.slice(stdout.indexOf('Events:'));
  expect(events).toMatch(/Cordon/);
  expect(events).toMatch(/DrainComplete/);
  expect(events).toMatch(/spotguard/);
}, 30_000);
