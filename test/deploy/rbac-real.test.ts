// infra/rbac.yaml on a real Kubernetes API server (the 1.20 control plane of scripts/k8s-real, RBAC
// authorization): applied with kubectl, then SubjectAccessReviews ask the real authorizer what the
// spotguard-drainers and spotguard-oncall groups may do — everything in infra/rbac-verbs.json, the
// namespaced rules only in the spotguard namespace, and nothing else we can think of.
// Skipped when the control plane has not been built on this machine (npm run test:real-k8s builds it).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/package.ts';
import { uncordonNode } from '../../shared/drain/cordon.ts';
import { drainNode } from '../../shared/drain/executor.ts';
import { kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { type Cluster, connectRealCluster } from '../../test-real/clusters.ts';
import { type RunningControlPlane, startControlPlane } from '../../test-real/control-plane.ts';
import {
  createDeployment,
  createNamespace,
  createPdb,
  listPods,
  readyPods,
  settledPdbStatus,
  withNodes,
} from '../../test-real/scenarios.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const verbsFile = JSON.parse(readFileSync(path.join(repoRoot, 'infra/rbac-verbs.json'), 'utf8')) as {
  clusterRules: Rule[];
  namespacedRules: Rule[];
};

const binDir = path.join(process.env.K8S_HOME ?? path.join(homedir(), '.cache', 'k8s-real'), 'bin');
const hasEtcd = () => {
  try {
    execFileSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const controlPlaneBuilt =
  existsSync(path.join(binDir, 'kube-apiserver')) && existsSync(path.join(binDir, '.version')) && hasEtcd();

/** Cluster-scoped among the resources spotguard touches (the rest are namespaced). */
const CLUSTER_SCOPED = new Set(['nodes', 'persistentvolumes', 'volumeattachments', 'namespaces']);

interface Check {
  group: string;
  resource: string;
  verb: string;
  namespace: string;
}

function checks(rules: Rule[], namespace: string): Check[] {
  return rules.flatMap((r) =>
    r.apiGroups.flatMap((group) =>
      r.resources.flatMap((resource) =>
        r.verbs.map((verb) => ({
          group,
          resource,
          verb,
          namespace: CLUSTER_SCOPED.has(resource.split('/')[0]!) ? '' : namespace,
        })),
      ),
    ),
  );
}

/** Things a drainer must not be able to do (spot checks around the granted set). */
const FORBIDDEN: Check[] = [
  { group: '', resource: 'nodes', verb: 'delete', namespace: '' },
  { group: '', resource: 'nodes', verb: 'update', namespace: '' },
  { group: '', resource: 'secrets', verb: 'get', namespace: 'default' },
  { group: '', resource: 'pods', verb: 'create', namespace: 'default' },
  { group: '', resource: 'pods', verb: 'patch', namespace: 'default' },
  { group: '', resource: 'pods/exec', verb: 'create', namespace: 'default' },
  { group: 'apps', resource: 'deployments', verb: 'patch', namespace: 'default' },
  { group: 'policy', resource: 'poddisruptionbudgets', verb: 'delete', namespace: 'default' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate', namespace: '' },
];

describe.skipIf(!controlPlaneBuilt)('infra/rbac.yaml on a real API server', () => {
  let cp: RunningControlPlane;
  let authz: AuthorizationV1Api;
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    cp = await startControlPlane({ quiet: true });
    execFileSync(
      'kubectl',
      ['--kubeconfig', cp.kubeconfig, 'apply', '-f', path.join(repoRoot, 'infra/rbac.yaml')],
      {
        stdio: 'pipe',
      },
    );
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    authz = kc.makeApiClient(AuthorizationV1Api);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await cp?.stop();
  }, 60_000);

  /** The real authorizer's answer for a user in `group`. */
  async function allowed(group: string, c: Check): Promise<boolean> {
    const [resource, subresource] = c.resource.split('/');
    const review = await authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'arn:aws:sts::123456789012:assumed-role/spotguard-prod-us-east-1-lambdaRole/spotguard',
          groups: [group, 'system:authenticated'],
          resourceAttributes: {
            group: c.group,
            resource,
            ...(subresource ? { subresource } : {}),
            verb: c.verb,
            namespace: c.namespace,
          },
        },
      },
    });
    return review.status?.allowed === true;
  }

  const describeCheck = (c: Check) =>
    `${c.verb} ${c.group || 'core'}/${c.resource}${c.namespace ? ` in ${c.namespace}` : ''}`;

  async function answers(group: string, list: Check[]): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    for (const c of list) out[describeCheck(c)] = await allowed(group, c);
    return out;
  }

  const everything = (list: Check[], value: boolean) =>
    Object.fromEntries(list.map((c) => [describeCheck(c), value]));

  it.each(['spotguard-drainers', 'spotguard-oncall'])(
    '%s may do everything in rbac-verbs.json',
    async (group) => {
      const granted = [
        ...checks(verbsFile.clusterRules, 'default'),
        ...checks(verbsFile.namespacedRules, 'spotguard'),
      ];
      expect(await answers(group, granted)).toEqual(everything(granted, true));
    },
  );

  it('the namespaced rules (leases, idempotency records) hold only in the spotguard namespace', async () => {
    const elsewhere = checks(verbsFile.namespacedRules, 'kube-system');
    expect(await answers('spotguard-drainers', elsewhere)).toEqual(everything(elsewhere, false));
  });

  it('nothing beyond the list: spot checks around it are denied', async () => {
    expect(await answers('spotguard-drainers', FORBIDDEN)).toEqual(everything(FORBIDDEN, false));
  });

  it("the drain engine, as an identity holding only spotguard's roles, drains a node under a PDB", async () => {
    // client-node impersonates users, not groups: bind the same roles to one test user
    const rbac = authzKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const user = 'spotguard-e2e-drainer';
    const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }];
    const roleRef = (kind: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name: 'spotguard' });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: user }, roleRef: roleRef('ClusterRole'), subjects },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'spotguard',
      body: { metadata: { name: user }, roleRef: roleRef('Role'), subjects },
    });

    process.env.REAL_K8S_KUBECONFIG = cp.kubeconfig;
    cluster = await connectRealCluster({ nodes: 3, firstIndex: 60, podStartMs: 500, podTerminationMs: 500 });
    const c = cluster;
    const ns = 'rbac-e2e';
    const target = c.nodeNames[0]!;
    await createNamespace(c, ns);
    await withNodes(
      c,
      (_name, i) => (i === 0 ? undefined : { unschedulable: true }),
      async () => {
        await createDeployment(c, ns, 'web', 3);
        await readyPods(c, ns, 'web', 3);
      },
    );
    await createPdb(c, ns, 'web-pdb', 'web', { maxUnavailable: 1 });
    await settledPdbStatus(c, ns, 'web-pdb', 3);

    const asDrainer = impersonating(user);
    // not accidentally the admin: a secret is out of reach
    const denied = await asDrainer
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: ns })
      .then(
        () => 200,
        (err: unknown) => (err instanceof ApiException ? err.code : -1),
      );
    expect(denied).toBe(403);

    const k8s = kubeClientsFromConfig(asDrainer);
    const report = await drainNode(k8s, target, {
      reason: 'spot-interruption',
      holder: 'rbac-e2e',
      deadline: new Date(Date.now() + 120_000),
      waitForVolumeDetach: false,
    });
    const web = report.pods.filter((p) => p.namespace === ns).map((p) => p.outcome);
    expect({ complete: report.complete, web }).toEqual({
      complete: true,
      web: ['evicted', 'evicted', 'evicted'],
    });
    const left = (await listPods(c, ns)).filter(
      (p) => p.spec?.nodeName === target && !p.metadata?.deletionTimestamp,
    );
    expect(left).toEqual([]);
    const uncordon = await uncordonNode(k8s, target, { onlyIfCordonedBy: 'spotguard' });
    expect(uncordon.changed).toBe(true);
  }, 180_000);

  /** The admin kubeconfig of the control plane. */
  function authzKubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    return kc;
  }

  /** The admin kubeconfig, impersonating `user` (Impersonate-User header on every request). */
  function impersonating(user: string): KubeConfig {
    const admin = authzKubeConfig();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: admin.getClusters(),
      users: admin.getUsers().map((u) => ({ ...u, impersonateUser: user })),
      contexts: admin.getContexts(),
      currentContext: admin.getCurrentContext(),
    });
    return kc;
  }

  it('another group gets none of it', async () => {
    const granted = checks(verbsFile.clusterRules, 'default');
    expect(await answers('some-other-team', granted)).toEqual(everything(granted, false));
  });
});
