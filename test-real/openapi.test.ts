// Differential: the OpenAPI the simulator serves (sim/k8s/api/openapi.ts) against a real 1.20
// kube-apiserver, through what people type — `kubectl explain` (v2 rendering: 1.20 has no
// /openapi/v3) and `kubectl apply -f` with client-side validation refusing an unknown field.
// "Expected" is the real control plane, "Received" the simulator.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Cluster, connectRealCluster, startSimCluster } from './clusters.ts';

const OPTS = { nodes: 1, firstIndex: 60, podStartMs: 500, podTerminationMs: 500 };
let sim: Cluster;
let real: Cluster;

beforeAll(async () => {
  [sim, real] = await Promise.all([startSimCluster(OPTS), connectRealCluster(OPTS)]);
});

afterAll(async () => {
  await Promise.all([sim?.stop(), real?.stop()]);
});

function kubectl(c: Cluster, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'spotguard-openapi-diff-'));
  return new Promise((resolve) =>
    execFile(
      'kubectl',
      ['--kubeconfig', c.kubeconfigPath, '--cache-dir', join(home, 'cache'), ...args],
      { timeout: 30_000, env: { ...process.env, HOME: home } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
}

const onBoth = (...args: string[]) => Promise.all([kubectl(sim, ...args), kubectl(real, ...args)]);

it.each([
  'deployment.spec',
  'pod.spec.topologySpreadConstraints',
  'statefulset.spec.volumeClaimTemplates',
  'node.spec.taints',
])('kubectl explain %s (openapi v2) prints the same', async (field) => {
  const [s, r] = await onBoth('explain', field, '--output', 'plaintext-openapiv2');
  expect(r.code).toBe(0);
  expect(s.stdout, 'simulator (received) vs real kube-apiserver 1.20 (expected)').toBe(r.stdout);
});

it('kubectl apply -f refuses an unknown field with the same validation error', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'spotguard-openapi-diff-')), 'bad.yaml');
  writeFileSync(
    file,
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: typo, namespace: default }
spec:
  replicaz: 2
  selector: { matchLabels: { app: typo } }
  template:
    metadata: { labels: { app: typo } }
    spec: { containers: [{ name: c, image: public.ecr.aws/nginx/nginx:1.27 }] }
`,
  );
  const [s, r] = await onBoth('apply', '-f', file);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('unknown field "replicaz"');
  expect(s.stderr.replaceAll(file, 'FILE')).toBe(r.stderr.replaceAll(file, 'FILE'));
});
