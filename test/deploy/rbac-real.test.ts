// infra/rbac.yaml on a real Kubernetes API server (the 1.20 control plane of scripts/k8s-real, RBAC
// authorization): applied with kubectl, then SubjectAccessReviews ask the real authorizer what the
// spotguard-drainers and spotguard-oncall groups may do — everything in infra/rbac-verbs.json, the
// namespaced rules only in the spotguard namespace, and nothing else we can think of.
// Skipped when the control plane has not been built on this machine (npm run test:real-k8s builds it).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/package.ts';
import { type RunningControlPlane, startControlPlane } from '../../test-real/control-plane.ts';

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

  it('another group gets none of it', async () => {
    const granted = checks(verbsFile.clusterRules, 'default');
    expect(await answers('some-other-team', granted)).toEqual(everything(granted, false));
  });
});
