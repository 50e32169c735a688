// Manual payloads (on-call engineers through the CLI, the manual Lambda, or a message on the
// queue). Unlike AWS events these are typed by people, so unknown fields are rejected: a typo such
// as "dryrun" must not turn a dry run into a real drain.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type EventContext, optional } from './context.ts';
import { check, EventParseError, joinPath } from './errors.ts';
import { boundedName, boundedSeconds, boundedText, instanceId, nodeName } from './fields.ts';
import type { ManualEvent } from './types.ts';

export const ManualPayloadSchema = z.strictObject({
  spotguard: z.literal('manual'),
  action: z.enum(['drain', 'uncordon', 'status']),
  node: nodeName.optional(),
  instanceId: instanceId.optional(),
  /** Free text as on-call types it ("INC-4711: disk pressure"); the taint key stays spotguard's own. */
  reason: boundedText(1024).optional(),
  /** Free text, kept next to the verified principal; never trusted as the principal. */
  requestedBy: boundedText(256).optional(),
  /** uncordon: only if spotguard cordoned for exactly this reason (no filter when absent). */
  onlyIfReason: boundedText(1024).optional(),
  /** drain: evictions bypass PodDisruptionBudgets (delete instead of evict). Loud in every report. */
  bypassPdb: z.boolean().default(false),
  /** Drain despite a safety refusal (last node of a zone with zonal volumes, too much cordoned, other cluster). */
  overrideSafety: z.boolean().default(false),
  /** Presigned STS GetCallerIdentity URL (k8s-aws-v1. token form): proves who asked. */
  identityToken: boundedText(4096).optional(),
  /** Makes two otherwise identical requests distinct (and a retry of one request the same). */
  requestId: boundedName.optional(),
  dryRun: z.boolean().default(false),
  force: z.boolean().default(false),
  deleteEmptyDirData: z.boolean().default(true),
  gracePeriodSeconds: boundedSeconds(0).optional(),
  timeoutSeconds: boundedSeconds(1).optional(),
});
export type ManualPayload = z.input<typeof ManualPayloadSchema>;

export function parseManual(value: unknown, ctx: EventContext): ManualEvent {
  const p = check(ManualPayloadSchema, value, ctx.path);
  // `status` with no node: every node spotguard is working on
  const none = p.node === undefined && p.instanceId === undefined;
  if ((p.node === undefined) === (p.instanceId === undefined) && !(none && p.action === 'status')) {
    const got = p.node === undefined ? 'neither' : 'both';
    throw EventParseError.at(
      joinPath(ctx.path, 'node|instanceId'),
      `expected exactly one of node or instanceId, got ${got}`,
    );
  }
  if (p.action === 'drain' && !p.reason?.trim()) {
    throw EventParseError.at(
      joinPath(ctx.path, 'reason'),
      'expected a non-empty reason for drain (it is recorded on the node and in every Kubernetes Event)',
    );
  }
  return {
    kind: 'manual',
    action: p.action,
    instanceIds: p.instanceId ? [p.instanceId] : [],
    ...optional({
      nodeName: p.node,
      instanceId: p.instanceId,
      reason: p.reason,
      requestedBy: p.requestedBy,
      requestId: p.requestId,
      onlyIfReason: p.onlyIfReason,
      identityToken: p.identityToken,
      gracePeriodSeconds: p.gracePeriodSeconds,
      timeoutSeconds: p.timeoutSeconds,
      recordId: ctx.recordId,
    }),
    dryRun: p.dryRun,
    force: p.force,
    bypassPdb: p.bypassPdb,
    overrideSafety: p.overrideSafety,
    deleteEmptyDirData: p.deleteEmptyDirData,
    time: new Date().toISOString(),
    // Only an explicit requestId makes two requests "the same": without one every request is new
    // (a second status or uncordon must be answered afresh, not from the idempotency cache).
    dedupKey: `manual:${hashPayload(p.requestId ? { ...p, identityToken: undefined } : { ...p, nonce: randomUUID() })}`,
    envelopes: [...ctx.envelopes, 'direct'],
  };
}

/** sha256 of the normalised payload (keys sorted, defaults applied), so key order does not matter. */
function hashPayload(payload: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.fromEntries(Object.entries(payload).sort(([a], [b]) => a.localeCompare(b))),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
