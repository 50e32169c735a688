// Label and field selectors with kube-apiserver's grammar and error messages.
import type { KObject } from '../store.ts';
import { badRequest } from './errors.ts';

export type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const SET_RE = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/;
const CMP_RE = /^([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$/;
const KEY_RE = /^(!?)\s*([^\s!=<>(),]+)$/;

/** Parses `app=web,tier in (a,b),!canary`. Throws 400 BadRequest like the real server. */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  return splitTopLevel(text).map(parseRequirement);
}

function parseRequirement(part: string): LabelRequirement {
  const set = SET_RE.exec(part);
  if (set) {
    const values = set[3]!
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
    return { key: set[1]!, op: set[2] as 'in' | 'notin', values };
  }
  const cmp = CMP_RE.exec(part);
  if (cmp) {
    const op = cmp[2]!;
    const value = cmp[3]!;
    if (op === '>' || op === '<') return { key: cmp[1]!, op: op === '>' ? 'gt' : 'lt', values: [value] };
    return { key: cmp[1]!, op: op === '!=' ? '!=' : '=', values: [value] };
  }
  const key = KEY_RE.exec(part);
  if (key) return { key: key[2]!, op: key[1] ? '!exists' : 'exists', values: [] };
  throw badRequest(`unable to parse requirement: found '${part}', expected: valid label selector`);
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const req of selector) {
    const value = labels?.[req.key];
    const has = value !== undefined;
    switch (req.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case '=':
        if (value !== req.values[0]) return false;
        break;
      case '!=':
        if (value === req.values[0]) return false;
        break;
      case 'in':
        if (!has || !req.values.includes(value)) return false;
        break;
      case 'notin':
        if (has && req.values.includes(value)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has) return false;
        const n = Number(value);
        const bound = Number(req.values[0]);
        if (Number.isNaN(n) || (req.op === 'gt' ? !(n > bound) : !(n < bound))) return false;
        break;
      }
    }
  }
  return true;
}

/** metav1.LabelSelector (matchLabels + matchExpressions), as PDBs and workloads carry it. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** LabelSelectorAsSelector: undefined selects nothing, `{}` selects everything. */
export function selectorFromObject(obj: LabelSelectorObject | undefined | null): LabelSelector | 'nothing' {
  if (!obj) return 'nothing';
  const out: LabelSelector = [];
  for (const [key, value] of Object.entries(obj.matchLabels ?? {}))
    out.push({ key, op: '=', values: [value] });
  const ops = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const;
  for (const expr of obj.matchExpressions ?? []) {
    out.push({ key: expr.key, op: ops[expr.operator], values: expr.values ?? [] });
  }
  return out;
}

export function selects(selector: LabelSelector | 'nothing', obj: KObject): boolean {
  return selector !== 'nothing' && matchesLabels(selector, obj.metadata.labels);
}

// ---- field selectors ----

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = FieldRequirement[];

export function parseFieldSelector(text: string | null | undefined, allowedFields: string[]): FieldSelector {
  if (!text) return [];
  return text
    .split(',')
    .filter((p) => p.trim().length > 0)
    .map((part) => {
      const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
      const field = m[1]!;
      if (field !== 'metadata.name' && field !== 'metadata.namespace' && !allowedFields.includes(field)) {
        throw badRequest(`field label not supported: ${field}`);
      }
      return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
    });
}

/** Values of unset boolean fields as the registries' field sets report them. */
const FIELD_DEFAULTS: Record<string, string> = { 'spec.unschedulable': 'false', 'spec.hostNetwork': 'false' };

/** The string value a field selector compares, as the registry's *ToSelectableFields would give it. */
export function fieldValue(obj: KObject, field: string): string {
  if (field === 'source') return obj.source?.component ?? '';
  // biome-ignore lint/suspicious/noExplicitAny: walking open-ended wire JSON
  let value: any = obj;
  for (const part of field.split('.')) value = value?.[part];
  if (value === undefined || value === null) return FIELD_DEFAULTS[field] ?? '';
  return String(value);
}

export function matchesFields(selector: FieldSelector, obj: KObject): boolean {
  for (const req of selector) {
    const value = fieldValue(obj, req.field);
    if (req.op === '=' ? value !== req.value : value === req.value) return false;
  }
  return true;
}

/** The value of an `=` requirement on `field`, when there is one (used to hit store indexes). */
export function equalityValue(selector: FieldSelector, field: string): string | undefined {
  return selector.find((r) => r.field === field && r.op === '=')?.value;
}
