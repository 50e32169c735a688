import { describe, expect, it } from 'vitest';
import { ownershipOf } from '../../shared/ownership.ts';

const managedTag = { key: 'spotguard.io/managed', value: 'true' };
const base = { clusterName: 'prod', managedTag };

describe('ownershipOf: the instance OR its group says whose it is', () => {
  it.each([
    [
      'managed tag on the group only (PropagateAtLaunch false)',
      { instanceTags: {}, groupTags: { 'spotguard.io/managed': 'true' } },
      'ours',
    ],
    [
      'eks:cluster-name on the instance',
      { instanceTags: { 'eks:cluster-name': 'prod' }, groupTags: {} },
      'ours',
    ],
    [
      'kubernetes.io/cluster/prod on the group',
      { instanceTags: {}, groupTags: { 'kubernetes.io/cluster/prod': 'owned' } },
      'ours',
    ],
    [
      'another cluster on the instance, managed tag on the group',
      { instanceTags: { 'eks:cluster-name': 'staging' }, groupTags: { 'spotguard.io/managed': 'true' } },
      'foreign',
    ],
    [
      'another cluster on the group',
      { instanceTags: {}, groupTags: { 'kubernetes.io/cluster/staging': 'owned' } },
      'foreign',
    ],
    ['nothing on either', { instanceTags: {}, groupTags: {} }, 'foreign'],
    ['standalone instance without tags', { instanceTags: {}, noGroup: true }, 'foreign'],
    ['EC2 down, group managed', { groupTags: { 'spotguard.io/managed': 'true' } }, 'ours'],
    ['EC2 down, group silent', { groupTags: {} }, 'unknown'],
    ['EC2 and the group unreadable', {}, 'unknown'],
    ['EC2 down, group for another cluster', { groupTags: { 'eks:cluster-name': 'staging' } }, 'foreign'],
  ] as const)('%s → %s', (_, input, verdict) => {
    expect(ownershipOf({ ...base, ...input }).verdict).toBe(verdict);
  });

  it('names the other cluster and the tag that decided', () => {
    const o = ownershipOf({
      ...base,
      instanceTags: { 'kubernetes.io/cluster/staging': 'owned' },
      groupTags: {},
    });
    expect(o).toMatchObject({ verdict: 'foreign', otherCluster: 'staging' });
    expect(o.why).toMatch(/instance is tagged for cluster "staging"/);
  });

  it('without CLUSTER_NAME only the managed tag claims an instance', () => {
    expect(
      ownershipOf({ managedTag, instanceTags: { 'eks:cluster-name': 'x' }, groupTags: {} }).verdict,
    ).toBe('foreign');
    expect(
      ownershipOf({
        managedTag,
        instanceTags: { 'eks:cluster-name': 'x', 'spotguard.io/managed': 'true' },
        groupTags: {},
      }).verdict,
    ).toBe('ours');
  });
});
