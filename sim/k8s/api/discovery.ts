// Discovery documents (legacy, non-aggregated): /version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>.
// kubectl and client-go fall back to these when the server does not offer aggregated discovery.
import { createHash } from 'node:crypto';
import {
  ALL_VERBS,
  apiVersionOf,
  type ResourceType,
  resourcesOf,
  type ServedOptions,
  servedGroups,
} from './resources.ts';

export function versionInfo(served: ServedOptions) {
  const [minor, patch, date] = served.servePolicyV1 ? ['30', '14', '2025-10-21'] : ['20', '15', '2023-07-12'];
  return {
    major: '1',
    minor: `${minor}+`,
    gitVersion: `v1.${minor}.${patch}-eks-3cfe0ce`,
    gitCommit: '3cfe0ce2f3b7c1c5a4e4f8c3e3d6b0a1f2e9d4c7',
    gitTreeState: 'clean',
    buildDate: `${date}T05:21:36Z`,
    goVersion: served.servePolicyV1 ? 'go1.23.12' : 'go1.15.15',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(group: { name: string; versions: string[] }) {
  const versions = group.versions.map((v) => ({ groupVersion: `${group.name}/${v}`, version: v }));
  return { name: group.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(served: ServedOptions) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups(served).map(groupDoc) };
}

export function apiGroup(name: string, served: ServedOptions) {
  const group = servedGroups(served).find((g) => g.name === name);
  return group ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group) } : undefined;
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('base64').slice(0, 11);

function resourceEntries(type: ResourceType, groupVersion: string, served: ServedOptions) {
  const main: Record<string, unknown> = {
    name: type.resource,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: ALL_VERBS,
  };
  if (type.shortNames) main.shortNames = type.shortNames;
  if (type.categories) main.categories = type.categories;
  main.storageVersionHash = hashOf(`${groupVersion}/${type.kind}`);
  const subs = type.subresources.map((sub) => {
    const entry: Record<string, unknown> = {
      name: `${type.resource}/${sub.name}`,
      singularName: '',
      namespaced: type.namespaced,
    };
    if (sub.group !== undefined) {
      entry.group = sub.group;
      // a 1.20 server has evictions only in policy/v1beta1
      entry.version = sub.group === 'policy' && !served.servePolicyV1 ? 'v1beta1' : sub.version;
    }
    entry.kind = sub.kind;
    entry.verbs = sub.verbs;
    return entry;
  });
  return [main, ...subs];
}

export function apiResourceList(group: string, version: string, served: ServedOptions) {
  const types = resourcesOf(group, version, served);
  if (types.length === 0) return undefined;
  const groupVersion = apiVersionOf(group, version);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: types.flatMap((t) => resourceEntries(t, groupVersion, served)),
  };
}
