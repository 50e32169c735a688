// RBAC: infra/rbac-verbs.json is the one list; infra/rbac.yaml must grant exactly it, and the
// Kubernetes calls in the code must need exactly it (derived from client-node's own request paths).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../scripts/package.ts';
import { derivePermissions, type Permission, permissionKey, sourceFiles } from './support/k8s-calls.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}

const verbsFile = JSON.parse(readFileSync(path.join(repoRoot, 'infra/rbac-verbs.json'), 'utf8')) as {
  clusterRules: Rule[];
  namespacedRules: Rule[];
};
const manifests = parseAllDocuments(readFileSync(path.join(repoRoot, 'infra/rbac.yaml'), 'utf8')).map(
  (d) => d.toJS() as K8sObject,
);

function expand(rules: Rule[]): string[] {
  const keys = rules.flatMap((r) =>
    r.apiGroups.flatMap((group) =>
      r.resources.flatMap((resource) => r.verbs.map((verb) => permissionKey({ group, resource, verb }))),
    ),
  );
  return [...new Set(keys)].sort();
}

function find(kind: string, name: string, namespace?: string): K8sObject {
  const obj = manifests.find(
    (m) => m.kind === kind && m.metadata.name === name && m.metadata.namespace === namespace,
  );
  if (!obj) throw new Error(`infra/rbac.yaml has no ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
  return obj;
}

const codeDirs = ['shared', 'functions'].map((d) => path.join(repoRoot, d));
const codeFiles = () =>
  codeDirs.flatMap((d) => {
    try {
      return sourceFiles(d);
    } catch {
      return []; // functions/ may not exist yet
    }
  });

describe('infra/rbac.yaml', () => {
  const clusterKeys = expand(verbsFile.clusterRules);
  const namespacedKeys = expand(verbsFile.namespacedRules);

  it.each(['spotguard', 'spotguard-oncall'])(
    'ClusterRole %s grants exactly rbac-verbs.json clusterRules',
    (name) => {
      expect(expand(find('ClusterRole', name).rules ?? [])).toEqual(clusterKeys);
    },
  );

  it.each(['spotguard', 'spotguard-oncall'])('Role spotguard/%s grants exactly namespacedRules', (name) => {
    expect(expand(find('Role', name, 'spotguard').rules ?? [])).toEqual(namespacedKeys);
  });

  it.each([
    ['ClusterRoleBinding', 'spotguard', undefined, 'ClusterRole', 'spotguard-drainers'],
    ['RoleBinding', 'spotguard', 'spotguard', 'Role', 'spotguard-drainers'],
    ['ClusterRoleBinding', 'spotguard-oncall', undefined, 'ClusterRole', 'spotguard-oncall'],
    ['RoleBinding', 'spotguard-oncall', 'spotguard', 'Role', 'spotguard-oncall'],
  ] as const)('%s %s binds %s to group %s', (kind, name, namespace, roleKind, group) => {
    const binding = find(kind, name, namespace);
    expect(binding.roleRef).toMatchObject({ kind: roleKind, name });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }]);
  });

  it('declares the spotguard namespace and no wildcard anywhere', () => {
    find('Namespace', 'spotguard');
    const all = manifests
      .flatMap((m) => m.rules ?? [])
      .flatMap((r) => [...r.apiGroups, ...r.resources, ...r.verbs]);
    expect(all.filter((v) => v.includes('*'))).toEqual([]);
  });

  it('the EKS access entry uses the group the binding names', () => {
    const entry = readFileSync(path.join(repoRoot, 'infra/eks-access.yml'), 'utf8');
    expect(entry).toMatch(/KubernetesGroups: \[spotguard-drainers\]/);
    expect(entry).toMatch(/KubernetesGroups: \[spotguard-oncall\]/);
  });
});

describe('Kubernetes calls in the code', () => {
  it('need exactly the permissions in infra/rbac-verbs.json (no more, no less)', () => {
    const derived = derivePermissions(codeFiles(), repoRoot);
    const origins = new Map<string, string[]>();
    for (const d of derived)
      origins.set(permissionKey(d), [...(origins.get(permissionKey(d)) ?? []), d.origin]);
    const granted = new Set(expand([...verbsFile.clusterRules, ...verbsFile.namespacedRules]));
    const missing = [...origins.keys()]
      .filter((k) => !granted.has(k))
      .map((k) => `${k} (used at ${origins.get(k)})`);
    const unused = [...granted].filter((k) => !origins.has(k));
    expect({ missing, unused }, 'rbac-verbs.json vs the client calls in shared/** and functions/**').toEqual({
      missing: [],
      unused: [],
    });
  });

  it('the derivation recognises typed calls, raw-path watches and the generic object API', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spotguard-rbac-'));
    const file = path.join(dir, 'sample.ts');
    writeFileSync(
      file,
      [
        'interface Clients { core: CoreV1Api; events?: EventsV1Api }',
        'const k8s = { core: make(CoreV1Api), events: config.makeApiClient(EventsV1Api) };',
        '// k8s.core.deleteNamespacedPod({}) in a comment is not a call',
        'await k8s.core.readNode({ name });',
        'await k8s.core.createNamespacedEvent({ namespace, body });',
        'await k8s.events.createNamespacedEvent({ namespace, body });',
        'await (await this.core()).replaceNamespacedConfigMap({ name, namespace, body });',
        'await api.getAPIGroup();',
        "startWatch(k8s, { path: '/api/v1/pods', onEvent });",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of a template literal
        'startWatch(k8s, { path: `/apis/${version}/poddisruptionbudgets`, onEvent });',
        "await objects.list('policy/v1beta1', 'PodDisruptionBudget');",
        "await custom.listClusterCustomObject({ group: 'storage.k8s.io', version: 'v1', plural: 'csinodes' });",
      ].join('\n'),
    );
    const keys = derivePermissions([file], dir).map((p: Permission) => permissionKey(p));
    expect([...new Set(keys)].sort()).toEqual([
      'core/configmaps:update',
      'core/events:create',
      'core/nodes:get',
      'core/pods:watch',
      'events.k8s.io/events:create',
      'policy/poddisruptionbudgets:list',
      'policy/poddisruptionbudgets:watch',
      'storage.k8s.io/csinodes:list',
    ]);
  });

  it('refuses a call it cannot attribute to one API group', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spotguard-rbac-'));
    const file = path.join(dir, 'ambiguous.ts');
    writeFileSync(file, 'await client.createNamespacedEvent({ namespace, body });\n');
    expect(() => derivePermissions([file], dir)).toThrow(
      /ambiguous\.ts:1: \.createNamespacedEvent\(\) could be/,
    );
  });
});
