// Field schemas shared by every event form: strict where a wrong value would make spotguard act
// on the wrong thing (instance ids, times, enums), lenient about extra fields AWS may add.
import { z } from 'zod';

export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;

export const instanceId = z
  .string()
  .regex(INSTANCE_ID_PATTERN, { error: 'expected an EC2 instance id matching i-[0-9a-f]{8,17}' });

export const nonEmpty = z.string().min(1, { error: 'expected a non-empty string' });

// C0 and C1 controls, DEL, line/paragraph separators and bidi overrides: anything that can move a
// terminal's cursor, retitle it, forge a log line or reorder what a reader sees.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Longest free text (reason, requestedBy, alarm reason …) spotguard accepts from an event. */
export const MAX_TEXT_LENGTH = 1024;
/** Longest name or key (group, hook, dedupKey, requestId …): AWS caps its names at 255. */
export const MAX_NAME_LENGTH = 255;

/** Text that ends up in a label, an annotation, a log line or a terminal: bounded, no controls. */
export function boundedText(max = MAX_TEXT_LENGTH) {
  return z
    .string()
    .max(max, { error: `expected at most ${max} characters` })
    .refine((s) => !CONTROL_CHARACTERS.test(s), { error: 'expected no control characters' });
}

/** A non-empty name (group, hook, alarm …): at most 255 characters, no control characters. */
export const boundedName = boundedText(MAX_NAME_LENGTH).pipe(nonEmpty);

// DNS-1123 subdomain, as Kubernetes requires of node names: at most 253 characters, labels of
// 1-63 lowercase letters, digits and "-" that start and end alphanumeric. Checked label by label
// (linear time whatever the length: no regex backtracking on a megabyte of input).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label));
}

export const nodeName = z.string().refine(isDns1123Subdomain, {
  error: 'expected a node name (DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and ".")',
});

/**
 * Longest timeout or grace period (seconds) accepted: 7 days. Timeout + grace, in milliseconds,
 * stays below the 2^31-1 ms a Node.js timer can hold (above it the timer fires after 1 ms).
 */
export const MAX_DURATION_SECONDS = 7 * 24 * 3600;

export function boundedSeconds(min: number) {
  return z
    .number()
    .int()
    .min(min)
    .max(MAX_DURATION_SECONDS, { error: `expected at most ${MAX_DURATION_SECONDS} seconds (7 days)` });
}

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
