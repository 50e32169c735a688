// The simulator as a cluster a person uses: `spotguard sim` in a child process, then plain kubectl
// (client-side validation on, the default) applying a multi-document manifest and explaining fields,
// both from the OpenAPI documents the simulator serves (sim/k8s/api/openapi.ts).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'spotguard-kubectl-'));
const kubeconfig = join(dir, 'kubeconfig');
let child: ChildProcess | undefined;

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: cart, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: cart } }
  template:
    metadata: { labels: { app: cart } }
    spec:
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: { matchLabels: { app: cart } } }
      containers: [{ name: cart, image: public.ecr.aws/nginx/nginx:1.27, resources: { requests: { cpu: 10m } } }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: cart, namespace: shop }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: cart } } }
`;

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      { timeout: 25_000, env: { ...process.env, HOME: dir } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  child = spawn(process.execPath, [BIN, 'sim', '--nodes', '3', '--kubeconfig-out', kubeconfig], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('KUBECONFIG=')) resolve();
    });
    child!.once('exit', (code) => reject(new Error(`spotguard sim exited with ${code}: ${out}`)));
  });
});

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
});

it('kubectl apply -f applies a multi-document manifest with client-side validation', async () => {
  const file = join(dir, 'shop.yaml');
  writeFileSync(file, MANIFEST);
  const applied = await kubectl('apply', '-f', file);
  expect(applied.stderr).toBe('');
  expect(applied.stdout).toContain('namespace/shop created');
  expect(applied.stdout).toContain('deployment.apps/cart created');
  expect(applied.stdout).toContain('poddisruptionbudget.policy/cart created');
  const got = await kubectl('get', 'deployment', 'cart', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}');
  expect(got.stdout).toBe('2');
});

it('validation reads the served schema: an unknown field is refused before anything is sent', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, MANIFEST.replace('replicas: 2', 'replicas: 2\n  replicaz: 3'));
  const applied = await kubectl('apply', '-f', file);
  expect(applied.code).not.toBe(0);
  expect(applied.stderr).toContain('unknown field "replicaz"');
  expect(applied.stderr).toContain('io.k8s.api.apps.v1.DeploymentSpec');
});

it('kubectl explain deployment.spec (OpenAPI v3) and the v2 rendering', async () => {
  const v3 = await kubectl('explain', 'deployment.spec');
  expect(v3.stderr).toBe('');
  expect(v3.stdout).toMatch(/KIND:\s+Deployment/);
  expect(v3.stdout).toContain('DeploymentSpec is the specification of the desired behavior');
  expect(v3.stdout).toMatch(/replicas\s+<integer>/);
  expect(v3.stdout).toMatch(/template\s+<PodTemplateSpec> -required-/);
  const v2 = await kubectl('explain', 'pdb.spec.maxUnavailable', '--output', 'plaintext-openapiv2');
  expect(v2.stderr).toBe('');
  expect(v2.stdout).toMatch(/FIELD:\s+maxUnavailable <string>/);
});

it('a bare spotguard sim has what a deployed spotguard has: its namespace and infra/rbac.yaml', async () => {
  const got = await kubectl(
    'get',
    'namespace/spotguard',
    'clusterrole/spotguard',
    'clusterrolebinding/spotguard',
    'role/spotguard',
    'rolebinding/spotguard',
    '-n',
    'spotguard',
    '-o',
    'name',
  );
  expect(got.stderr).toBe('');
  expect(got.stdout.trim().split('\n')).toEqual([
    'namespace/spotguard',
    'clusterrole.rbac.authorization.k8s.io/spotguard',
    'clusterrolebinding.rbac.authorization.k8s.io/spotguard',
    'role.rbac.authorization.k8s.io/spotguard',
    'rolebinding.rbac.authorization.k8s.io/spotguard',
  ]);
  const verbs = await kubectl('get', 'clusterrole', 'spotguard', '-o', 'jsonpath={.rules[2].resources}');
  expect(verbs.stdout).toContain('pods/eviction');
});
