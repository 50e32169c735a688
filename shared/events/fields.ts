// Field schemas shared by every event form: strict where a wrong value would make spotguard act
// on the wrong thing (instance ids, times, enums), lenient about extra fields AWS may add.
import { z } from 'zod';

export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;

export const instanceId = z
  .string()
  .regex(INSTANCE_ID_PATTERN, { error: 'expected an EC2 instance id matching i-[0-9a-f]{8,17}' });

export const nonEmpty = z.string().min(1, { error: 'expected a non-empty string' });

/** ISO 8601 date-time (Z or offset), normalised to `Date#toISOString()` form. */
export const isoTime = z.iso
  .datetime({ offset: true, error: 'expected an ISO 8601 date-time like 2026-11-21T10:00:00Z' })
  .transform(toIso);

// AWS Health writes startTime/endTime as HTTP dates ("Sat, 05 Jun 2021 14:00:00 GMT").
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** ISO 8601 or RFC 7231 HTTP date (as AWS Health sends), normalised to ISO 8601. */
export const healthTime = z
  .string()
  .refine((s) => isIsoDateTime(s) || (HTTP_DATE.test(s) && !Number.isNaN(Date.parse(s))), {
    error: 'expected an ISO 8601 date-time or an HTTP date like "Sat, 05 Jun 2021 14:00:00 GMT"',
  })
  .transform(toIso);

/** Lifecycle action tokens are GUIDs (8-4-4-4-12 hex). */
export const lifecycleToken = z.guid({ error: 'expected a lifecycle action token (GUID)' });

export const lifecycleTransition = z.enum([
  'autoscaling:EC2_INSTANCE_TERMINATING',
  'autoscaling:EC2_INSTANCE_LAUNCHING',
]);

function isIsoDateTime(s: string): boolean {
  return z.iso.datetime({ offset: true }).safeParse(s).success;
}

export function toIso(s: string): string {
  return new Date(s).toISOString();
}

export function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/** Instance id from an EC2 instance ARN or a bare id; undefined when it is neither. */
export function instanceIdFromResource(resource: string): string | undefined {
  const id = resource.startsWith('arn:') ? resource.slice(resource.lastIndexOf('/') + 1) : resource;
  return INSTANCE_ID_PATTERN.test(id) ? id : undefined;
}
