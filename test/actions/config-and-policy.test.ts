import { describe, expect, it } from 'vitest';
import type { GroupInfo } from '../../shared/aws/autoscaling.ts';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { rebalancePolicyFor } from '../../shared/plans/rebalance-recommendation.ts';

describe('loadConfig', () => {
  it('gives documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      region: 'us-east-1',
      managedTag: { key: 'spotguard.io/managed', value: 'true' },
      namespace: 'spotguard',
      rebalancePolicy: 'cordon',
      replacementMode: 'detach',
      drainTimeoutMs: 600_000,
      safetyMarginMs: 10_000,
      deleteEmptyDirData: true,
      podEvents: 'problems',
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ REBALANCE_POLICY: 'sometimes' })).toThrow(ConfigError);
    expect(() => loadConfig({ REBALANCE_POLICY: 'sometimes' })).toThrow(/REBALANCE_POLICY/);
    expect(() => loadConfig({ EVICTION_CONCURRENCY: '-3' })).toThrow(/EVICTION_CONCURRENCY/);
    expect(() => loadConfig({ DELETE_EMPTYDIR_DATA: 'maybe' })).toThrow(/DELETE_EMPTYDIR_DATA/);
  });
});

describe('rebalancePolicyFor', () => {
  const g = (tags: Record<string, string>, capacityRebalance = false): GroupInfo => ({
    name: 'spot-a',
    minSize: 0,
    maxSize: 3,
    desiredCapacity: 1,
    availabilityZones: ['us-east-1a'],
    capacityRebalance,
    tags,
    instances: [],
  });
  it('uses the group tag over the default, and ignores an unknown tag value', () => {
    expect(rebalancePolicyFor(g({ 'spotguard.io/rebalance-policy': 'drain' }), 'cordon').policy).toBe(
      'drain',
    );
    expect(rebalancePolicyFor(g({ 'spotguard.io/rebalance-policy': 'yolo' }), 'cordon').policy).toBe(
      'cordon',
    );
    expect(rebalancePolicyFor(undefined, 'drain').policy).toBe('drain');
  });
  it('does not fight Capacity Rebalancing: replace-then-drain becomes cordon with a note', () => {
    const out = rebalancePolicyFor(
      g({ 'spotguard.io/rebalance-policy': 'replace-then-drain' }, true),
      'cordon',
    );
    expect(out.policy).toBe('cordon');
    expect(out.note).toMatch(/Capacity Rebalancing/);
  });
});
