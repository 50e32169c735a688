// The slice of kube-apiserver validation a client can trip over while cordoning, tainting, labelling
// and evicting: object names, label keys/values, node taints, and the pod spec fields an update may
// not change. Messages follow k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation.
import { isDeepStrictEqual } from 'node:util';
import type { KObject } from '../store.ts';
import { invalid } from './errors.ts';
import type { ResourceType } from './resources.ts';

interface FieldError {
  field: string;
  message: string;
  reason: string;
}

const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

const invalidValue = (field: string, value: string, detail: string): FieldError => ({
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  reason: 'FieldValueInvalid',
});

/** IsDNS1123Subdomain */
function subdomainErrors(value: string, prefix = ''): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(`${prefix}must be no more than 253 characters`);
  if (!SUBDOMAIN_RE.test(value)) errs.push(prefix + SUBDOMAIN_MSG);
  return errs;
}

/** IsQualifiedName (label and annotation keys, taint keys) */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    name = rest;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...subdomainErrors(prefix, 'prefix part '));
  } else {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME_RE.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`);
  return errs;
}

/** IsValidLabelValue */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE_RE.test(value)) errs.push(LABEL_VALUE_MSG);
  return errs;
}

function nameErrors(type: ResourceType, name: string): FieldError[] {
  const dnsLabel = type.resource === 'namespaces' || type.resource === 'services';
  const errs = dnsLabel
    ? [
        ...(name.length > 63 ? ['must be no more than 63 characters'] : []),
        ...(DNS_LABEL_RE.test(name) ? [] : [DNS_LABEL_MSG]),
      ]
    : subdomainErrors(name);
  return errs.map((msg) => invalidValue('metadata.name', name, msg));
}

function labelErrors(labels: Record<string, string> | undefined): FieldError[] {
  const out: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const msg of qualifiedNameErrors(key)) out.push(invalidValue('metadata.labels', key, msg));
    if (typeof value !== 'string') continue;
    for (const msg of labelValueErrors(value)) out.push(invalidValue('metadata.labels', value, msg));
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: taints are wire JSON
function goTaint(t: any): string {
  const timeAdded = t.timeAdded ? `time.Date(${t.timeAdded})` : '<nil>';
  return `core.Taint{Key:${JSON.stringify(t.key ?? '')}, Value:${JSON.stringify(t.value ?? '')}, Effect:${JSON.stringify(t.effect ?? '')}, TimeAdded:${timeAdded}}`;
}

/** validateNodeTaints */
function taintErrors(node: KObject): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  // biome-ignore lint/suspicious/noExplicitAny: taints are wire JSON
  (node.spec?.taints ?? []).forEach((taint: any, i: number) => {
    const path = `spec.taints[${i}]`;
    for (const msg of qualifiedNameErrors(taint.key ?? ''))
      out.push(invalidValue(`${path}.key`, taint.key ?? '', msg));
    const valueErrs = labelValueErrors(taint.value ?? '');
    if (valueErrs.length) out.push(invalidValue(`${path}.value`, taint.value ?? '', valueErrs.join(';')));
    if (!taint.effect) {
      out.push({ field: `${path}.effect`, message: 'Required value', reason: 'FieldValueRequired' });
    } else if (!TAINT_EFFECTS.includes(taint.effect)) {
      out.push({
        field: `${path}.effect`,
        message: `Unsupported value: ${JSON.stringify(taint.effect)}: supported values: ${TAINT_EFFECTS.map((e) => JSON.stringify(e)).join(', ')}`,
        reason: 'FieldValueNotSupported',
      });
    }
    const id = `${taint.effect}\u0000${taint.key}`;
    if (seen.has(id)) {
      out.push({
        field: path,
        message: `Duplicate value: ${goTaint(taint)}: taints must be unique by key and effect pair`,
        reason: 'FieldValueDuplicate',
      });
      return;
    }
    seen.add(id);
  });
  return out;
}

const POD_UPDATE_FORBIDDEN =
  'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and the grace period may change. */
function podUpdateErrors(before: KObject, after: KObject): FieldError[] {
  const old = structuredClone(before.spec ?? {});
  const next = after.spec ?? {};
  const copyImages = (field: string) => {
    const containers: { image?: string }[] = old[field] ?? [];
    containers.forEach((c, i) => {
      const image = next[field]?.[i]?.image;
      if (image !== undefined) c.image = image;
    });
  };
  copyImages('containers');
  copyImages('initContainers');
  for (const field of ['activeDeadlineSeconds', 'terminationGracePeriodSeconds', 'schedulingGates']) {
    if (next[field] === undefined) delete old[field];
    else old[field] = next[field];
  }
  const oldTolerations: unknown[] = old.tolerations ?? [];
  const newTolerations: unknown[] = next.tolerations ?? [];
  if (oldTolerations.every((t) => newTolerations.some((n) => isDeepStrictEqual(n, t)))) {
    if (next.tolerations === undefined) delete old.tolerations;
    else old.tolerations = next.tolerations;
  }
  if (isDeepStrictEqual(old, next)) return [];
  return [{ field: 'spec', message: POD_UPDATE_FORBIDDEN, reason: 'FieldValueForbidden' }];
}

function fail(type: ResourceType, obj: KObject, errors: FieldError[]): void {
  if (errors.length === 0) return;
  throw invalid(type.kind, type.group, obj.metadata.name ?? '', errors);
}

export function validateCreate(type: ResourceType, obj: KObject): void {
  const errors = [...nameErrors(type, obj.metadata.name), ...labelErrors(obj.metadata.labels)];
  if (type.resource === 'nodes') errors.push(...taintErrors(obj));
  fail(type, obj, errors);
}

export function validateUpdate(type: ResourceType, before: KObject, after: KObject): void {
  const errors = labelErrors(after.metadata.labels);
  if (type.resource === 'nodes') errors.push(...taintErrors(after));
  if (type.resource === 'pods') errors.push(...podUpdateErrors(before, after));
  fail(type, after, errors);
}
