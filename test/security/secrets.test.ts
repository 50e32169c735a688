// Secrets never leave spotguard: in a failing run (Kubernetes API refusing or failing every call
// while spotguard authenticates to it with an EKS bearer token), every output — log lines on
// stdout/stderr, reports, invocation errors, DLQ messages and Kubernetes Events — is grepped for
// the bearer token, the presigned STS URL inside it and the AWS credentials.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type E2E, nodeOf, startE2E } from '../e2e/harness.ts';

let e: E2E;
const captured: string[] = [];
const restore: Array<() => void> = [];

function tap(stream: NodeJS.WriteStream) {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  restore.push(() => {
    stream.write = write as typeof stream.write;
  });
}

beforeAll(async () => {
  // No kubeconfig: the functions take the EKS path (DescribeCluster + a presigned-URL bearer token).
  e = await startE2E({ nodes: 2 }, { env: { SPOTGUARD_KUBECONFIG: '', KUBECONFIG: '' }, directRetries: 0 });
  await e.sim.waitFor(() => e.sim.store.count('nodes') === 2, 10_000, 'nodes');
  tap(process.stdout);
  tap(process.stderr);
}, 60_000);
afterAll(async () => {
  for (const r of restore) r();
  await e?.stop();
});

const itn = (instanceId: string, id: string) => ({
  version: '0',
  id,
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  region: e.sim.region,
  resources: [],
  detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
});

it('no output of a failing run carries the token, the presigned URL or the credentials', async () => {
  const [a, b] = e.sim.aws.instances();
  // 1: every Kubernetes call rejected as unauthorized; 2: every call failing with 500.
  const undo = e.sim.faults.add({ service: 'k8s', status: 401 });
  await e.bridge
    .invoke('spot-interruption', itn(a!.instanceId, 'a1111111-2222-4333-8444-555555555555'))
    .catch(() => undefined);
  undo();
  const undo500 = e.sim.faults.add({ service: 'k8s', verb: 'patch', status: 500 });
  await e.bridge
    .invoke('spot-interruption', itn(b!.instanceId, 'b1111111-2222-4333-8444-555555555555'))
    .catch(() => undefined);
  undo500();
  // a manual drain on the lifecycle queue (misrouted) and a malformed one end as errors too
  e.sim.sqs.sendMessage(
    'spotguard-lifecycle',
    JSON.stringify({ spotguard: 'manual', action: 'drain', node: nodeOf(e.sim, a!.instanceId), reason: 'x' }),
  );
  await e.bridge.idle(20_000).catch(() => undefined);

  // the EKS path was taken: DescribeCluster answered, so the API calls carried a bearer token
  expect(e.sim.awsRequests.count('eks', 'DescribeCluster')).toBeGreaterThan(0);
  const failed = e.bridge.invocations.filter((i) => i.error !== undefined);
  expect(failed.length, 'the run must fail for the check to mean anything').toBeGreaterThan(0);
  const creds = e.sim.awsClientConfig().credentials;
  const outputs = [
    ...captured,
    ...e.bridge.invocations.map((i) => `${i.error ?? ''} ${JSON.stringify(i.result ?? null)}`),
    JSON.stringify(e.sim.store.list('events')),
    ...['spotguard-spot-interruption-dlq', 'spotguard-lifecycle-dlq', 'spotguard-lifecycle'].flatMap((q) =>
      e.sim.sqs.queue(q) ? e.sim.sqs.receive(q, 10, 0).map((m) => JSON.stringify(m)) : [],
    ),
  ].join('\n');
  expect(outputs.length).toBeGreaterThan(1000); // logs were captured
  for (const secret of [
    'k8s-aws-v1.', // the bearer token's prefix (the rest is the base64url presigned URL)
    'X-Amz-Signature',
    'X-Amz-Credential',
    'Action=GetCallerIdentity',
    creds.secretAccessKey,
    creds.sessionToken,
    'Bearer ',
  ]) {
    if (secret) expect(outputs.includes(secret), `output contains ${secret.slice(0, 12)}…`).toBe(false);
  }
}, 90_000);
