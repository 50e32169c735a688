// Scenario files: a cluster, its node groups, the workloads on it and timed AWS events.
// Validated with zod; a bad file fails with the path of the bad field ("nodeGroups.1.capacityType: …").
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const duration = z.union([
  z.number().nonnegative(),
  z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'expected a duration like 500ms, 5s, 1m30s or 2h'),
]);

const hookSchema = z
  .object({
    name: z.string().min(1),
    /** terminate | launch, or the full autoscaling:EC2_INSTANCE_… transition */
    transition: z.enum([
      'terminate',
      'launch',
      'autoscaling:EC2_INSTANCE_TERMINATING',
      'autoscaling:EC2_INSTANCE_LAUNCHING',
    ]),
    heartbeatTimeout: z.number().positive().max(7200).default(300),
    defaultResult: z.enum(['CONTINUE', 'ABANDON']).default('CONTINUE'),
    notificationMetadata: z.string().optional(),
  })
  .strict();

const taintSchema = z
  .object({
    key: z.string(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  })
  .strict();

const nodeGroupSchema = z
  .object({
    name: z.string().min(1),
    zone: z.string().optional(),
    zones: z.array(z.string()).min(1).optional(),
    capacityType: z.enum(['SPOT', 'ON_DEMAND']),
    instanceType: z.string().default('m5.large'),
    desired: z.number().int().nonnegative(),
    min: z.number().int().nonnegative().optional(),
    max: z.number().int().positive().optional(),
    capacityRebalance: z.boolean().optional(),
    /** Another EKS cluster in the same account: its instances and events, but no nodes in our API. */
    cluster: z.string().min(1).optional(),
    lifecycleHooks: z.array(hookSchema).default([]),
    labels: z.record(z.string(), z.string()).optional(),
    taints: z.array(taintSchema).optional(),
  })
  .strict();

/** Which instance an event is about: exactly one of these. `pod` = the node running that pod (ns/name). */
const targetSchema = z
  .object({
    instance: z.string().optional(),
    node: z.string().optional(),
    group: z.string().optional(),
    pod: z.string().optional(),
  })
  .strict()
  .refine((t) => [t.instance, t.node, t.group, t.pod].filter((v) => v !== undefined).length === 1, {
    message: 'name exactly one of instance, node, group, pod',
  });

const EVENT_KINDS = [
  'interrupt',
  'rebalance',
  'stop',
  'start',
  'terminate',
  'scaleIn',
  'maintenance',
  'storm',
  'alarm',
  'rebalancer',
  'setDesired',
] as const;

const eventSchema = z
  .object({
    at: duration,
    interrupt: targetSchema
      .and(z.object({ action: z.enum(['terminate', 'stop', 'hibernate']).optional() }))
      .optional(),
    rebalance: targetSchema.optional(),
    stop: targetSchema.optional(),
    start: targetSchema.optional(),
    terminate: targetSchema.optional(),
    scaleIn: z
      .object({ group: z.string(), count: z.number().int().positive().default(1) })
      .strict()
      .optional(),
    maintenance: targetSchema
      .and(
        z.object({ in: duration.default('10m'), type: z.enum(['retirement', 'stop']).default('retirement') }),
      )
      .optional(),
    /** Spot interruptions of `count` instances of a group, spread over `over` (jittered by the seed). */
    storm: z
      .object({ group: z.string(), count: z.number().int().positive(), over: duration.default('10s') })
      .strict()
      .optional(),
    /** A CloudWatch alarm changes state (EventBridge `CloudWatch Alarm State Change`). */
    alarm: z
      .object({
        name: z.string().min(1),
        state: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
        reason: z.string().optional(),
        /** the alarm's metric dimensions, e.g. { AutoScalingGroupName: spot-us-east-1a } */
        dimensions: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    /** A tick of the AZ rebalancer's schedule (EventBridge `Scheduled Event` of its rule). */
    rebalancer: z
      .object({ rule: z.string().default('spotguard-rebalancer') })
      .strict()
      .optional(),
    /** The group's desired capacity is set (capacity returning after a storm). */
    setDesired: z.object({ group: z.string(), desired: z.number().int().nonnegative() }).strict().optional(),
  })
  .strict()
  .refine((e) => EVENT_KINDS.filter((k) => k in e && e[k as keyof typeof e] !== undefined).length === 1, {
    message: `each event needs exactly one of ${EVENT_KINDS.join(', ')}`,
  });

const manifestSchema = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
  })
  .passthrough();

export const scenarioSchema = z
  .object({
    cluster: z
      .object({
        name: z.string().default('spotguard-sim'),
        region: z.string().default('us-east-1'),
        zones: z.array(z.string()).min(1).optional(),
      })
      .strict()
      .default({ name: 'spotguard-sim', region: 'us-east-1' }),
    /** Without nodeGroups: the default layout (one spot group per zone + on-demand) of this many nodes. */
    nodes: z.number().int().nonnegative().optional(),
    spotShare: z.number().min(0).max(1).optional(),
    nodeGroups: z.array(nodeGroupSchema).optional(),
    workloads: z.array(manifestSchema).default([]),
    events: z.array(eventSchema).default([]),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioNodeGroup = z.infer<typeof nodeGroupSchema>;
export type ScenarioEvent = z.infer<typeof eventSchema>;
export type ScenarioTarget = z.infer<typeof targetSchema>;

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Validates a parsed scenario; errors list each bad field by its path. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ScenarioError(`${source} is invalid:\n${problems.join('\n')}`);
  }
  const scenario = result.data;
  for (const [i, group] of (scenario.nodeGroups ?? []).entries()) {
    if (!group.zone && !group.zones)
      throw new ScenarioError(`${source} is invalid:\n  nodeGroups.${i}: set zone or zones`);
  }
  return scenario;
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(error as Error).message}`);
  }
  return parseScenario(parseYaml(text), path);
}

/** "1m30s" → 90000; numbers are seconds. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const match of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(match[1]) * units[match[2]!]!;
  return total;
}

export function hookTransition(t: z.infer<typeof hookSchema>['transition']) {
  if (t === 'terminate' || t === 'autoscaling:EC2_INSTANCE_TERMINATING')
    return 'autoscaling:EC2_INSTANCE_TERMINATING' as const;
  return 'autoscaling:EC2_INSTANCE_LAUNCHING' as const;
}

/**
 * The events as they will fire: storms become one interruption per instance at seeded, jittered
 * times within their window; every time is divided by `speed` (time compression). Sorted by time.
 */
export function expandEvents(
  events: ScenarioEvent[],
  opts: { seed?: number; speed?: number } = {},
): Array<{ atMs: number; event: ScenarioEvent }> {
  const random = mulberry32(opts.seed ?? 1);
  const speed = opts.speed ?? 1;
  const out: Array<{ atMs: number; event: ScenarioEvent }> = [];
  for (const event of events) {
    const at = durationMs(event.at);
    if (!event.storm) {
      out.push({ atMs: at / speed, event });
      continue;
    }
    const over = durationMs(event.storm.over);
    for (let i = 0; i < event.storm.count; i++) {
      const offset = over * ((i + random()) / event.storm.count);
      out.push({
        atMs: (at + offset) / speed,
        event: { at: event.at, interrupt: { group: event.storm.group, action: 'terminate' } },
      });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** Small seeded PRNG (mulberry32): the same seed gives the same storm. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
