// SPOTGUARD_CLUSTER_ENDPOINT (+ _CA): the container's Kubernetes clients are built without
// DescribeCluster, and still authenticate with the EKS IAM token the simulated API server checks.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resetAwsClients } from '../../shared/aws/clients.ts';
import { getKubeClients, resetKubeClients } from '../../shared/k8s/client.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { simulatorEnvironment } from '../../sim/lambda-bridge.ts';

let sim: Simulator;
const saved = { ...process.env };

beforeAll(async () => {
  sim = await startSimulator({ nodes: 2 });
  const { SPOTGUARD_KUBECONFIG: _, ...env } = simulatorEnvironment(sim);
  delete process.env.KUBECONFIG;
  Object.assign(process.env, env);
});

afterAll(async () => {
  process.env = saved;
  resetKubeClients();
  resetAwsClients();
  await sim?.stop();
});

it('without the parameters: one DescribeCluster; with them: none, and the API answers', async () => {
  resetKubeClients();
  await (await getKubeClients()).core.listNode();
  expect(sim.awsRequests.count('eks', 'DescribeCluster')).toBe(1);

  resetKubeClients();
  sim.awsRequests.reset();
  const env = { ...process.env, SPOTGUARD_CLUSTER_ENDPOINT: sim.k8sUrl, SPOTGUARD_CLUSTER_CA: '' };
  const nodes = await (await getKubeClients(env)).core.listNode();
  expect(nodes.items).toHaveLength(2);
  expect(sim.awsRequests.count('eks')).toBe(0);
  expect(sim.kubeRequests.byKey()['list nodes']).toBeGreaterThanOrEqual(2);
});

it('refuses an https endpoint without its CA', async () => {
  resetKubeClients();
  const env = { ...process.env, SPOTGUARD_CLUSTER_ENDPOINT: 'https://ABC.gr7.us-east-1.eks.amazonaws.com' };
  await expect(getKubeClients(env)).rejects.toThrow(/SPOTGUARD_CLUSTER_CA/);
});
