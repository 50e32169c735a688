// The EventBridge rules' patterns, as osls resolves them, run against the captured events in
// events/: each event must reach exactly the function meant for it, and nothing else.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { offlineEnv, repoRoot } from '../../scripts/package.ts';

type Pattern = { [key: string]: Pattern | Matcher[] };
type Matcher = string | number | boolean | null | { prefix: string };

/**
 * EventBridge content filtering for the subset spotguard's rules use: a list of exact values or
 * `{ prefix }` per field (any one matches), nested objects for nested fields. Anything else in a
 * pattern is refused so that a rule cannot silently use an unimplemented operator here.
 */
function matches(pattern: Pattern, event: unknown): boolean {
  return Object.entries(pattern).every(([field, condition]) => {
    const value = (event as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(condition))
      return typeof value === 'object' && value !== null && matches(condition, value);
    const values = Array.isArray(value) ? value : [value];
    return condition.some((m) => {
      if (m !== null && typeof m === 'object') {
        if (Object.keys(m).join() !== 'prefix')
          throw new Error(`unsupported pattern operator ${JSON.stringify(m)}`);
        return values.some((v) => typeof v === 'string' && v.startsWith(m.prefix));
      }
      return values.some((v) => v === m);
    });
  });
}

const GROUP_PREFIX = 'spot-workers-'; // the captured events' group names

let rules: Record<string, Pattern>;

beforeAll(() => {
  const run = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/osls/bin/serverless.js'),
      'print',
      '--format',
      'json',
      `--param=lifecycleGroupPrefix=${GROUP_PREFIX}`,
    ],
    { cwd: repoRoot, env: offlineEnv(), encoding: 'utf8', timeout: 120_000 },
  );
  if (run.status !== 0) throw new Error(`osls print failed:\n${run.stdout}${run.stderr}`);
  const config = JSON.parse(run.stdout);
  rules = {};
  for (const [fn, def] of Object.entries(config.functions as Record<string, { events?: unknown[] }>)) {
    for (const e of def.events ?? []) {
      const eb = (e as { eventBridge?: { pattern: Pattern } }).eventBridge;
      // schedule-only rules (the rebalancer's timer) match no event
      if (eb?.pattern) rules[`${fn} (direct)`] = eb.pattern;
    }
  }
  for (const [id, r] of Object.entries(
    config.resources.Resources as Record<string, { Type: string; Properties: { EventPattern: Pattern } }>,
  )) {
    if (r.Type === 'AWS::Events::Rule') rules[id] = r.Properties.EventPattern;
  }
}, 120_000);

/** Which rule each captured EventBridge event must reach ([] = none: spotguard does not subscribe). */
const EXPECTED: Record<string, string[]> = {
  'spot-interruption.json': ['spotInterruption (direct)'],
  'spot-interruption-stop.json': ['spotInterruption (direct)'],
  'spot-interruption-hibernate.json': ['spotInterruption (direct)'],
  'rebalance-recommendation.json': ['rebalance (direct)'],
  'lifecycle-terminate.json': ['LifecycleRule'],
  'lifecycle-launch.json': ['LifecycleRule'],
  'state-change-running.json': ['StateChangeRule'],
  'state-change-stopping.json': ['StateChangeRule'],
  'health-scheduled-change.json': ['ScheduledChangeRule'],
  'health-issue-ignored.json': [],
  'asg-terminate-unsuccessful.json': ['AsgUnsuccessfulRule'],
  'asg-launch-unsuccessful.json': ['AsgUnsuccessfulRule'],
  'asg-launch-successful.json': ['LaunchSuccessfulRule'],
  'alarm-state-change.json': [],
  'unknown-kind.json': [],
};

const eventsDir = path.join(repoRoot, 'events');
const eventBridgeFixtures = readdirSync(eventsDir).filter((f) => {
  if (!f.endsWith('.json')) return false;
  const e = JSON.parse(readFileSync(path.join(eventsDir, f), 'utf8'));
  return typeof e === 'object' && e !== null && 'detail-type' in e && 'source' in e;
});

describe('EventBridge patterns against the captured events', () => {
  it('every captured EventBridge event has an expectation here', () => {
    expect(eventBridgeFixtures.filter((f) => !(f in EXPECTED))).toEqual([]);
  });

  it.each(Object.entries(EXPECTED))('%s → %j', (file, expected) => {
    const event = JSON.parse(readFileSync(path.join(eventsDir, file), 'utf8'));
    const hit = Object.entries(rules)
      .filter(([, p]) => matches(p, event))
      .map(([name]) => name);
    expect(hit.sort()).toEqual([...expected].sort());
  });

  it('a lifecycle action of a group outside the prefix reaches no rule', () => {
    const event = JSON.parse(readFileSync(path.join(eventsDir, 'lifecycle-terminate.json'), 'utf8'));
    event.detail.AutoScalingGroupName = 'batch-ondemand-1';
    expect(Object.values(rules).filter((p) => matches(p, event))).toEqual([]);
  });

  it('a state change to a state spotguard ignores (pending, stopped) reaches no rule', () => {
    const event = JSON.parse(readFileSync(path.join(eventsDir, 'state-change-running.json'), 'utf8'));
    for (const state of ['pending', 'stopped']) {
      event.detail.state = state;
      expect(
        Object.values(rules).filter((p) => matches(p, event)),
        state,
      ).toEqual([]);
    }
  });
});
